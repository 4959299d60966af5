//! Ephemeral pod metadata: `canaryMetadata`/`stableMetadata` (canary) and
//! `previewMetadata`/`activeMetadata` (blue-green), Argo's `rollout/ephemeralmetadata.go`.
//!
//! Which metadata goes where ([`rs::ephemeral_targets`]): fully promoted (no stable yet, or the
//! new ReplicaSet is the stable one) → stable/active metadata on the new ReplicaSet; mid-update →
//! canary/preview metadata on the new ReplicaSet and stable/active metadata on the stable one;
//! every other ReplicaSet loses what was injected. For each ReplicaSet, in that order, the pod
//! template is brought up to date first (an update recording what was injected in
//! `rollout.argoproj.io/ephemeral-metadata`), so that pods created from now on carry the new
//! metadata, then every existing pod it controls gets a merge patch of its labels/annotations:
//! the desired keys set, and the keys injected before (read from the annotation as it was) and
//! no longer wanted removed. Keys the controller never injected are left alone.
//!
//! Like v1.9.1 this runs on every reconcile of the strategy, with or without metadata
//! configured and for ReplicaSets scaled to zero (skipping either is HEAD-only); it only writes
//! what differs, so a rollout at rest writes nothing.

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::Ctx;
use crate::{crd::PodTemplateMetadata, plan::Action, replicaset::rs};

impl Ctx<'_> {
    /// Argo's `reconcileEphemeralMetadata`.
    pub(crate) fn reconcile_ephemeral_metadata(&mut self) {
        let targets = rs::ephemeral_targets(&self.rollout, self.new_rs());
        if !targets.applies {
            return;
        }
        let mut syncs: Vec<(usize, Option<PodTemplateMetadata>)> =
            Vec::with_capacity(self.rss.len());
        if let Some(n) = self.new_rs {
            syncs.push((n, targets.new_rs.cloned()));
        }
        if !targets.fully_rolled_out
            && let Some(s) = self.stable_rs
        {
            syncs.push((s, targets.stable_rs.cloned()));
        }
        syncs.extend(self.other_rss.iter().map(|&i| (i, None)));
        for (i, desired) in syncs {
            self.sync_ephemeral_metadata(i, desired.as_ref());
        }
    }

    /// Argo's `syncEphemeralMetadata` for ReplicaSet `i`: its template first, then its pods.
    fn sync_ephemeral_metadata(&mut self, i: usize, desired: Option<&PodTemplateMetadata>) {
        let current = self.latest_rs(i);
        // What was injected before, from the ReplicaSet as it was (the pods carry that).
        let existing = rs::parse_existing_pod_metadata(current);
        if existing.is_none() && desired.is_none() {
            // Nothing injected, nothing wanted: neither the template nor any pod can change.
            return;
        }
        let template_meta = current
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.metadata.as_ref());
        if rs::ephemeral_metadata_patch(template_meta, existing.as_ref(), desired).is_some() {
            let (updated, modified) = rs::sync_replica_set_ephemeral_pod_metadata(current, desired);
            if modified {
                self.update_replica_set(updated);
            }
        }

        // Always the pods too, even when the template was already right: a previous pass may
        // have stopped between the two.
        let Some(uid) = self.rs(i).metadata.uid.clone() else {
            // Planned for creation in this reconcile: no pods yet.
            return;
        };
        let obs = self.obs;
        for pod in obs.pods.iter().filter(|p| controlled_by_uid(p, &uid)) {
            let Some(metadata_patch) =
                rs::ephemeral_metadata_patch(Some(&pod.metadata), existing.as_ref(), desired)
            else {
                continue;
            };
            self.plan.act(Action::PatchPod {
                name: pod.metadata.name.clone().unwrap_or_default(),
                patch: json!({ "metadata": metadata_patch }),
            });
        }
    }
}

/// `metav1.IsControlledBy`: the pod's controller owner reference names this UID.
fn controlled_by_uid(pod: &Pod, uid: &str) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.uid == uid)
}
