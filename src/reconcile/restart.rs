//! `spec.restartAt`: evicting the pods created before it, a few at a time (Argo's
//! `rollout/restart.go`).
//!
//! Evictions (not deletions) honour PodDisruptionBudgets; at most `max(maxUnavailable, 1)` pods
//! go at once and only while the available pods stay above `max(replicas, Σ spec.replicas)`
//! minus that. Pods are visited in pod-list order. Once no pod predates `restartAt`,
//! `status.restartedAt` records it as done.

use std::{collections::BTreeSet, time::Duration};

use k8s_openapi::api::core::v1::Pod;

use super::{Ctx, replicasets::spec_replicas};
use crate::{plan::Action, replicaset::rs, status::to_utc};

/// How often a restart in progress is looked at again (Argo's `restartPodCheckTime`): pods can
/// come back faster than the ReplicaSet counts show, so no watch event may announce progress.
pub(crate) const RESTART_POD_CHECK: Duration = Duration::from_secs(30);

impl Ctx<'_> {
    /// Argo's `NeedsRestart`: `restartAt` is in the past and not yet recorded as done.
    pub(crate) fn needs_restart(&self) -> bool {
        let Some(restart_at) = &self.rollout.spec.restart_at else {
            return false;
        };
        if self.status().restarted_at.as_ref() == Some(restart_at) {
            return false;
        }
        self.now > to_utc(restart_at)
    }

    /// Argo's pod restarter. Returns how many evictions were planned; the canary reconcile stops
    /// after any, since the ReplicaSet availability it would scale on is stale until the next
    /// reconcile.
    pub(crate) fn reconcile_pod_restarts(&mut self) -> usize {
        // A future restartAt: look again when it comes, if that is before the next resync.
        if let Some(restart_at) = &self.rollout.spec.restart_at {
            let at = to_utc(restart_at);
            if self.now <= at
                && let Ok(remaining) = (at - self.now).to_std()
                && remaining < self.obs.config.resync
            {
                self.plan.requeue(remaining);
            }
        }
        if !self.needs_restart() {
            return 0;
        }
        let restart_at = to_utc(
            self.rollout
                .spec
                .restart_at
                .as_ref()
                .expect("checked by needs_restart"),
        );
        let uids: BTreeSet<&str> = self
            .rss
            .iter()
            .filter_map(|rs| rs.metadata.uid.as_deref())
            .collect();
        let pods: Vec<&Pod> = self
            .obs
            .pods
            .iter()
            .flat_map(|pod| {
                let owners = pod.metadata.owner_references.iter().flatten();
                owners
                    .filter(|o| uids.contains(o.uid.as_str()))
                    .map(move |_| pod)
            })
            .collect();

        let replicas = self.rollout.desired_replicas();
        let total: i32 = self.all_rss().map(spec_replicas).sum();
        let min_ready = self.rollout.spec.min_ready_seconds.unwrap_or(0);
        let available = rs::available_pod_count(pods.iter().copied(), min_ready, self.now);
        let concurrent = rs::max_unavailable(&self.rollout).max(1);
        let mut can_restart = available - (replicas.max(total) - concurrent);

        let mut needs = 0;
        let mut evicted = Vec::new();
        for pod in pods {
            let created = pod.metadata.creation_timestamp.as_ref().map(to_utc);
            if created.is_some_and(|c| c >= restart_at) {
                continue;
            }
            needs += 1;
            if can_restart <= 0 || pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            evicted.push(pod.metadata.name.clone().unwrap_or_default());
            can_restart -= 1;
        }
        let restarted = evicted.len();
        for name in evicted {
            self.plan.act(Action::EvictPod { name });
        }
        if needs != restarted {
            self.plan.requeue(RESTART_POD_CHECK);
        } else {
            self.new_status.restarted_at = self.rollout.spec.restart_at.clone();
        }
        restarted
    }
}
