//! The ReplicaSet side of a reconcile: which ReplicaSet is new, stable or other
//! (`newRolloutContext`), creating the new one (`createDesiredReplicaSet`), keeping its revision
//! annotations in sync (`syncReplicaSetRevision`), scaling with the `ScalingReplicaSet` event
//! (`scaleReplicaSetAndRecordEvent`), scaling events (`isScalingEvent`) and the revision history
//! limit (`reconcileRevisionHistoryLimit`).
//!
//! Every write of a ReplicaSet is a full-object update guarded by the resourceVersion we read (as
//! Argo's PUT). When one reconcile changes the same ReplicaSet twice (say its revision annotation,
//! then its size), the two writes are folded into one update at the position of the later one,
//! so the second never fails on the resourceVersion the first one bumped.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::{
    api::apps::v1::{ReplicaSet, ReplicaSetSpec},
    apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference},
};
use serde_json::json;

use super::{Ctx, hashing};
use crate::{
    crd::{Rollout, rollout::keys},
    plan::{Action, EventIntent, Item},
    status::{
        conditions::{
            self as cond, CONDITION_TRUE, FOUND_NEW_RS_REASON, NEW_REPLICA_SET_REASON, ROLLOUT_UPDATED_REASON,
            SCALING_REPLICA_SET_REASON,
        },
        k8s_time,
    },
};

/// Argo's default `revisionHistoryLimit`.
pub(crate) const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;

/// Rollout annotations that are never copied onto its ReplicaSets.
const ANNOTATIONS_NOT_COPIED: [&str; 5] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    keys::REVISION,
    keys::REVISION_HISTORY,
    keys::DESIRED_REPLICAS,
    "notified.notifications.argoproj.io",
];

// ---------------------------------------------------------------------------------------------
// Reading a ReplicaSet
// ---------------------------------------------------------------------------------------------

pub(crate) fn name(rs: &ReplicaSet) -> &str {
    rs.metadata.name.as_deref().unwrap_or("")
}

/// `spec.replicas` (the apiserver always defaults it; 1 if somehow absent).
pub(crate) fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub(crate) fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

pub(crate) fn available(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

pub(crate) fn ready(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)
}

pub(crate) fn annotation<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The `rollouts-pod-template-hash` label, `""` without one.
pub(crate) fn pod_hash(rs: &ReplicaSet) -> &str {
    rs.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(keys::POD_TEMPLATE_HASH))
        .map_or("", String::as_str)
}

/// Argo's `Revision`: the revision annotation, 0 when absent, `None` when not an integer.
pub(crate) fn parse_revision(value: Option<&str>) -> Option<i64> {
    match value {
        None => Some(0),
        Some(v) => v.parse().ok(),
    }
}

/// The revision of a ReplicaSet as Argo prints it in events (0 when unreadable).
pub(crate) fn revision(rs: &ReplicaSet) -> i64 {
    parse_revision(annotation(rs, keys::REVISION)).unwrap_or(0)
}

/// Has pods, or ought to have (`spec.replicas > 0`).
pub(crate) fn is_active(rs: &ReplicaSet) -> bool {
    spec_replicas(rs) > 0
}

/// A non-empty `scale-down-deadline` annotation.
pub(crate) fn has_scale_down_deadline(rs: &ReplicaSet) -> bool {
    annotation(rs, keys::SCALE_DOWN_DEADLINE).is_some_and(|v| !v.is_empty())
}

/// `rollout.argoproj.io/desired-replicas` as a 32-bit integer.
pub(crate) fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation(rs, keys::DESIRED_REPLICAS)?.parse().ok()
}

/// Argo's `ReplicasAnnotationsNeedUpdate`: the desired-replicas annotation is stale, or a
/// scale-down deadline is left on a ReplicaSet that goes to 0.
pub(crate) fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32) -> bool {
    if rs.metadata.annotations.is_none() {
        return true;
    }
    if annotation(rs, keys::DESIRED_REPLICAS) != Some(desired.to_string().as_str()) {
        return true;
    }
    desired == 0 && has_scale_down_deadline(rs)
}

/// Argo's `IsReplicaSetAvailable`: scaled up and every wanted pod available.
pub(crate) fn is_fully_available(rs: &ReplicaSet) -> bool {
    let spec = rs.spec.as_ref().and_then(|s| s.replicas);
    let available = available(rs);
    spec.is_some_and(|spec| spec != 0 && available != 0 && spec <= available)
}

pub(crate) fn created(rs: &ReplicaSet) -> Option<DateTime<Utc>> {
    rs.metadata.creation_timestamp.as_ref().map(crate::status::to_utc)
}

/// `metav1.Time.Before`: an absent timestamp is the zero time.
fn created_before(a: &ReplicaSet, b: &ReplicaSet) -> bool {
    created(a).unwrap_or(DateTime::<Utc>::MIN_UTC) < created(b).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn annotations_mut(meta: &mut ObjectMeta) -> &mut BTreeMap<String, String> {
    meta.annotations.get_or_insert_with(BTreeMap::new)
}

fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
        .map(|o| o.uid.as_str())
}

/// Whether the rollout controls this ReplicaSet. Without UIDs on both sides (tests, or an
/// observer that already filtered) the ReplicaSet is taken as ours.
pub(crate) fn controlled_by(rs: &ReplicaSet, rollout: &Rollout) -> bool {
    match (controller_uid(&rs.metadata), rollout.metadata.uid.as_deref()) {
        (Some(owner), Some(uid)) => owner == uid,
        _ => true,
    }
}

/// Argo's `SetNewReplicaSetAnnotations`: copies the rollout's annotations (bar the skipped
/// ones), raises the revision to `new_revision` when it is behind, appends the replaced
/// revision to the revision history, and for a ReplicaSet about to be created records the
/// desired replicas. Returns whether any annotation changed.
///
/// The history quirk is kept: the existing revision is appended whenever *any* annotation
/// changes on an existing ReplicaSet, even if the revision itself stays.
pub(crate) fn set_new_replica_set_annotations(rollout: &Rollout, rs: &mut ReplicaSet, new_revision: i64, exists: bool) -> bool {
    let mut changed = false;
    let annotations = annotations_mut(&mut rs.metadata);
    for (k, v) in rollout.metadata.annotations.iter().flatten() {
        if ANNOTATIONS_NOT_COPIED.contains(&k.as_str()) || annotations.get(k) == Some(v) {
            continue;
        }
        annotations.insert(k.clone(), v.clone());
        changed = true;
    }
    let old_revision = annotations.get(keys::REVISION).cloned();
    let old_revision_number = match old_revision.as_deref() {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    if old_revision_number < new_revision {
        annotations.insert(keys::REVISION.to_string(), new_revision.to_string());
        changed = true;
    }
    if let Some(old) = old_revision
        && changed
    {
        let history = annotations.get(keys::REVISION_HISTORY).cloned().unwrap_or_default();
        let value = if history.is_empty() { old } else { format!("{history},{old}") };
        annotations.insert(keys::REVISION_HISTORY.to_string(), value);
    }
    if !exists {
        let desired = rollout.desired_replicas().to_string();
        if annotations.get(keys::DESIRED_REPLICAS) != Some(&desired) {
            annotations.insert(keys::DESIRED_REPLICAS.to_string(), desired);
            changed = true;
        }
    }
    changed
}

/// Finds the ReplicaSet for the rollout's current pod template among `rss` (oldest first):
/// first by the pod-template-hash label, then by comparing templates without the hash label
/// (Argo's last-resort semantic equality, which keeps a controller swap from creating a
/// ReplicaSet when only the hash computation differs).
pub(crate) fn find_new_replica_set(rollout: &Rollout, rss: &[ReplicaSet], candidates: &[usize]) -> Option<usize> {
    let status = rollout.status.as_ref();
    let hash = hashing::pod_template_hash(rollout.spec.template.as_ref(), status.and_then(|s| s.collision_count));
    if let Some(&i) = candidates.iter().find(|&&i| pod_hash(&rss[i]) == hash) {
        return Some(i);
    }
    let desired = template_without_hash(rollout.spec.template.as_ref());
    candidates
        .iter()
        .copied()
        .find(|&i| template_without_hash(rss[i].spec.as_ref().and_then(|s| s.template.as_ref())) == desired)
}

fn template_without_hash(template: Option<&k8s_openapi::api::core::v1::PodTemplateSpec>) -> serde_json::Value {
    let mut template = template.cloned().unwrap_or_default();
    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(keys::POD_TEMPLATE_HASH);
    }
    if let Some(meta) = template.metadata.as_mut() {
        if meta.labels.as_ref().is_some_and(BTreeMap::is_empty) {
            meta.labels = None;
        }
        meta.creation_timestamp = None;
    }
    if template.metadata.as_ref().is_some_and(|m| *m == ObjectMeta::default()) {
        template.metadata = None;
    }
    serde_json::to_value(template).unwrap_or_default()
}

/// The ReplicaSet Argo creates for the current template: 0 replicas, the hash in its name,
/// labels and selector, the rollout as controller, and the revision annotations.
pub(crate) fn desired_replica_set(rollout: &Rollout, hash: &str, revision: i64) -> ReplicaSet {
    let rollout_name = rollout.metadata.name.clone().unwrap_or_default();
    let mut template = rollout.spec.template.clone().unwrap_or_default();
    let meta = template.metadata.get_or_insert_with(ObjectMeta::default);
    let mut labels = meta.labels.clone().unwrap_or_default();
    if !hash.is_empty() {
        labels.insert(keys::POD_TEMPLATE_HASH.to_string(), hash.to_string());
    }
    meta.labels = Some(labels.clone());
    let mut selector = rollout.spec.selector.clone().unwrap_or_else(LabelSelector::default);
    if !hash.is_empty() {
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(keys::POD_TEMPLATE_HASH.to_string(), hash.to_string());
    }
    let owner = OwnerReference {
        api_version: format!("{}/{}", crate::crd::GROUP, crate::crd::VERSION),
        kind: "Rollout".to_string(),
        name: rollout_name.clone(),
        uid: rollout.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    };
    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{rollout_name}-{hash}")),
            namespace: rollout.metadata.namespace.clone(),
            owner_references: Some(vec![owner]),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: rollout.spec.min_ready_seconds.filter(|s| *s != 0),
            selector,
            template: Some(template),
        }),
        status: None,
    };
    set_new_replica_set_annotations(rollout, &mut rs, revision, false);
    rs
}

/// Result of planning the creation of the new ReplicaSet.
pub(crate) enum Creation {
    /// The ReplicaSet will be created (or an equal one of ours exists); carry on with it.
    NewReplicaSet,
    /// The name is taken by a different ReplicaSet: `collisionCount` was bumped, stop here.
    Collision,
}

impl Ctx<'_> {
    /// Argo's `MaxRevision(olderRSs) + 1`.
    fn next_revision(&self) -> i64 {
        let max = self
            .older_rss
            .iter()
            .filter_map(|&i| parse_revision(annotation(&self.rss[i], keys::REVISION)))
            .max()
            .unwrap_or(0);
        max.max(0) + 1
    }

    /// Recomputes older/stable/other after `new_rs` changed (Argo's `FindOldReplicaSets`,
    /// `GetStableRS`, `GetOtherRSs`).
    pub(crate) fn classify(&mut self) {
        let stable_hash = self.status().stable_rs.clone().unwrap_or_default();
        self.older_rss = (0..self.rss.len()).filter(|&i| Some(i) != self.new_rs).collect();
        self.stable_rs = if stable_hash.is_empty() {
            None
        } else if let Some(n) = self.new_rs.filter(|&n| pod_hash(&self.rss[n]) == stable_hash) {
            Some(n)
        } else {
            self.older_rss.iter().copied().find(|&i| pod_hash(&self.rss[i]) == stable_hash)
        };
        self.other_rss = (0..self.rss.len())
            .filter(|&i| Some(i) != self.new_rs && Some(i) != self.stable_rs)
            .collect();
    }

    /// The latest object of ReplicaSet `i`: what this plan last wrote for it, else the snapshot.
    pub(crate) fn latest_rs(&self, i: usize) -> ReplicaSet {
        let name = name(&self.rss[i]);
        self.rs_written.get(name).cloned().unwrap_or_else(|| self.rss[i].clone())
    }

    /// Plans a full update of a ReplicaSet, folding it into an earlier update of the same
    /// ReplicaSet in this plan (or into its planned creation) so that the resourceVersion guard
    /// of the second write cannot fail on the first.
    pub(crate) fn update_replica_set(&mut self, rs: ReplicaSet) {
        let rs_name = name(&rs).to_string();
        if self.planned_creation.as_deref() == Some(rs_name.as_str()) {
            for item in &mut self.plan.items {
                if let Item::Act(Action::CreateReplicaSet(created)) = item
                    && created.metadata.name.as_deref() == Some(rs_name.as_str())
                {
                    let mut object = rs.clone();
                    object.metadata.creation_timestamp = None;
                    **created = object;
                }
            }
            self.rs_written.insert(rs_name, rs);
            return;
        }
        if let Some(position) = self
            .plan
            .items
            .iter()
            .position(|item| matches!(item, Item::Act(Action::UpdateReplicaSet(u)) if u.metadata.name.as_deref() == Some(rs_name.as_str())))
        {
            self.plan.items.remove(position);
        }
        self.plan.act(Action::UpdateReplicaSet(Box::new(rs.clone())));
        self.rs_written.insert(rs_name, rs);
    }

    /// Argo's `scaleReplicaSetAndRecordEvent`: sets `spec.replicas` and the desired-replicas
    /// annotation (dropping a scale-down deadline when going to 0, unless an abort holds the
    /// canary), and records `ScalingReplicaSet` when the size changes. Returns whether the size
    /// changed; an annotation-only update does not count as scaling.
    pub(crate) fn scale_replica_set(&mut self, i: usize, new_scale: i32) -> bool {
        let rs = self.latest_rs(i);
        let desired = self.rollout.desired_replicas();
        let old_scale = spec_replicas(&rs);
        let size_changes = old_scale != new_scale;
        if !size_changes && !replicas_annotations_need_update(&rs, desired) {
            return false;
        }
        let mut copy = rs;
        copy.spec.get_or_insert_with(Default::default).replicas = Some(new_scale);
        annotations_mut(&mut copy.metadata).insert(keys::DESIRED_REPLICAS.to_string(), desired.to_string());
        if new_scale == 0 && !self.should_delay_scale_down_on_abort() {
            annotations_mut(&mut copy.metadata).remove(keys::SCALE_DOWN_DEADLINE);
        }
        let rs_name = name(&copy).to_string();
        let rs_revision = revision(&copy);
        self.update_replica_set(copy);
        if size_changes {
            let direction = if old_scale < new_scale { "up" } else { "down" };
            self.plan.event(EventIntent::normal(
                SCALING_REPLICA_SET_REASON,
                cond::scaling_replica_set_message(direction, &rs_name, rs_revision, old_scale, new_scale),
            ));
        }
        size_changes
    }

    /// Removes the `scale-down-deadline` annotation of ReplicaSet `i`, if any.
    pub(crate) fn remove_scale_down_deadline(&mut self, i: usize) {
        let rs = self.latest_rs(i);
        if !has_scale_down_deadline(&rs) {
            return;
        }
        let mut copy = rs;
        annotations_mut(&mut copy.metadata).remove(keys::SCALE_DOWN_DEADLINE);
        self.update_replica_set(copy);
    }

    /// Argo's `shouldDelayScaleDownOnAbort`: only an aborted traffic-routed canary (or a
    /// blue-green preview) with a stable ReplicaSet and an abort delay keeps its canary up.
    pub(crate) fn should_delay_scale_down_on_abort(&self) -> bool {
        if !self.pause.is_aborted(self.status()) || self.stable_rs.is_none() {
            return false;
        }
        let strategy = &self.rollout.spec.strategy;
        let (delay, dynamic) = if let Some(bg) = &strategy.blue_green {
            (bg.abort_scale_down_delay_seconds, false)
        } else if let Some(canary) = &strategy.canary {
            if canary.traffic_routing.is_none() {
                return false;
            }
            (canary.abort_scale_down_delay_seconds, canary.dynamic_stable_scale == Some(true))
        } else {
            return false;
        };
        match delay {
            Some(0) => false,
            Some(_) => true,
            None => !dynamic,
        }
    }

    /// Argo's `syncReplicaSetRevision`, run (like in Argo) at several points of a reconcile.
    ///
    /// Keeps the new ReplicaSet's annotations (copied rollout annotations, revision = max of the
    /// older ones + 1), `minReadySeconds` and injected anti-affinity current. If the ReplicaSet
    /// had to change, that update is all for now; otherwise the rollout's revision annotation
    /// follows the ReplicaSet's (event `RolloutUpdated`), and a rollout without any Progressing
    /// condition gets `FoundNewReplicaSet` (its own status write).
    pub(crate) fn sync_replica_set_revision(&mut self) {
        let Some(n) = self.new_rs else {
            return;
        };
        let new_revision = self.next_revision();
        let mut copy = self.latest_rs(n);
        let annotations_updated = set_new_replica_set_annotations(&self.rollout, &mut copy, new_revision, true);
        let wanted_min_ready = self.rollout.spec.min_ready_seconds.unwrap_or(0);
        let spec = copy.spec.get_or_insert_with(Default::default);
        let min_ready_changed = spec.min_ready_seconds.unwrap_or(0) != wanted_min_ready;
        if annotations_updated || min_ready_changed {
            spec.min_ready_seconds = (wanted_min_ready != 0).then_some(wanted_min_ready);
            self.rss[n] = copy.clone();
            self.update_replica_set(copy);
            return;
        }
        let rs_revision = annotation(&copy, keys::REVISION).unwrap_or("").to_string();
        self.set_rollout_revision(&rs_revision);

        if cond::get_condition(self.status(), crate::crd::condition::PROGRESSING).is_none() {
            let before = self.status().clone();
            let message = cond::found_new_rs_message(name(&copy));
            let found = cond::new_condition(
                crate::crd::condition::PROGRESSING,
                CONDITION_TRUE,
                FOUND_NEW_RS_REASON,
                message,
                self.now,
            );
            cond::set_condition(self.status_mut(), found);
            let after = self.status().clone();
            if let Some(patch) = super::status::status_patch(&before, &after) {
                self.plan.act(Action::PatchRolloutStatus(patch));
            }
        }
    }

    /// Argo's `setRolloutRevision`: the rollout's revision annotation follows the new
    /// ReplicaSet (a merge patch of the annotation instead of Argo's full PUT).
    fn set_rollout_revision(&mut self, revision: &str) {
        let annotations = annotations_mut(&mut self.rollout.metadata);
        if annotations.get(keys::REVISION).map(String::as_str) == Some(revision) {
            return;
        }
        annotations.insert(keys::REVISION.to_string(), revision.to_string());
        self.plan
            .act(Action::PatchRollout(json!({"metadata": {"annotations": {keys::REVISION: revision}}})));
        self.plan
            .event(EventIntent::normal(ROLLOUT_UPDATED_REASON, cond::rollout_updated_message(revision)));
    }

    /// Argo's `createDesiredReplicaSet`: plans the creation of the ReplicaSet for the current
    /// template with 0 replicas, the rollout revision annotation, the events and the
    /// Progressing `NewReplicaSetCreated` condition, then carries on with it as the new
    /// ReplicaSet (as if the create had happened).
    ///
    /// A ReplicaSet of another owner, or of ours with a different template, already holding the
    /// name is a hash collision: `collisionCount` is bumped and the rollout looked at again.
    pub(crate) fn create_desired_replica_set(&mut self) -> Creation {
        let new_revision = self.next_revision();
        let status = self.status().clone();
        let hash = hashing::pod_template_hash(self.rollout.spec.template.as_ref(), status.collision_count);
        let rs = desired_replica_set(&self.rollout, &hash, new_revision);
        let rs_name = name(&rs).to_string();

        let taken_by = self.obs.replica_sets.iter().find(|o| name(o) == rs_name);
        if let Some(existing) = taken_by {
            let equal = controlled_by(existing, &self.rollout)
                && template_without_hash(existing.spec.as_ref().and_then(|s| s.template.as_ref()))
                    == template_without_hash(self.rollout.spec.template.as_ref());
            if !equal {
                let before = status.clone();
                self.status_mut().collision_count = Some(status.collision_count.unwrap_or(0) + 1);
                let after = self.status().clone();
                if let Some(patch) = super::status::status_patch(&before, &after) {
                    self.plan.act(Action::PatchRolloutStatus(patch));
                }
                self.plan.requeue(std::time::Duration::ZERO);
                return Creation::Collision;
            }
        }

        self.plan.act(Action::CreateReplicaSet(Box::new(rs.clone())));
        self.planned_creation = Some(rs_name.clone());
        self.set_rollout_revision(&new_revision.to_string());
        self.plan.event(EventIntent::normal(
            NEW_REPLICA_SET_REASON,
            cond::new_rs_detailed_message(&rs_name, revision(&rs)),
        ));

        let before = self.status().clone();
        let created = cond::new_condition(
            crate::crd::condition::PROGRESSING,
            CONDITION_TRUE,
            NEW_REPLICA_SET_REASON,
            cond::new_rs_created_message(&rs_name),
            self.now,
        );
        cond::set_condition(self.status_mut(), created);
        let after = self.status().clone();
        if let Some(patch) = super::status::status_patch(&before, &after) {
            self.plan.act(Action::PatchRolloutStatus(patch));
        }

        // Carry on as Argo does with the object the create returned: created now, no pods yet.
        let mut working = rs;
        working.metadata.creation_timestamp = Some(k8s_time(self.now));
        self.rss.push(working);
        self.new_rs = Some(self.rss.len() - 1);
        self.classify();
        Creation::NewReplicaSet
    }

    /// Argo's `isScalingEvent`: the revision is synced first, then a scaling event is a
    /// desired-replicas annotation on the active new or stable ReplicaSet that differs from
    /// `spec.replicas` (someone, typically an HPA, changed the size mid-flight).
    pub(crate) fn is_scaling_event(&mut self) -> bool {
        self.sync_replica_set_revision();
        let desired = self.rollout.desired_replicas();
        [self.new_rs, self.stable_rs]
            .into_iter()
            .flatten()
            .map(|i| &self.rss[i])
            .filter(|rs| is_active(rs))
            .any(|rs| desired_replicas_annotation(rs).is_some_and(|d| d != desired))
    }

    /// Argo's `reconcileRevisionHistoryLimit`: deletes the oldest other ReplicaSets beyond
    /// `revisionHistoryLimit` (default 10), but only those fully scaled down and observed (spec
    /// and status replicas 0, `observedGeneration` caught up), along with the AnalysisRuns and
    /// Experiments of their pod hash that are not current.
    pub(crate) fn reconcile_revision_history_limit(&mut self) {
        let limit = self.rollout.spec.revision_history_limit.unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT);
        let mut cleanable: Vec<usize> = self
            .other_rss
            .iter()
            .copied()
            .filter(|&i| self.rss[i].metadata.deletion_timestamp.is_none())
            .collect();
        let excess = cleanable.len() as i64 - i64::from(limit);
        if excess <= 0 {
            return;
        }
        cleanable.sort_by(|&a, &b| {
            let (a, b) = (&self.rss[a], &self.rss[b]);
            created(a).cmp(&created(b)).then_with(|| name(a).cmp(name(b)))
        });
        let current_runs = self.current_analysis_run_names();
        let current_experiment = self
            .status()
            .canary
            .as_ref()
            .and_then(|c| c.current_experiment.clone())
            .unwrap_or_default();
        for &i in cleanable.iter().take(excess as usize) {
            let rs = &self.rss[i];
            let generation = rs.metadata.generation.unwrap_or(0);
            let observed = rs.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
            if status_replicas(rs) != 0 || spec_replicas(rs) != 0 || generation > observed {
                continue;
            }
            let rs_name = name(rs).to_string();
            let hash = pod_hash(rs).to_string();
            self.plan.act(Action::DeleteReplicaSet { name: rs_name });
            if hash.is_empty() {
                continue;
            }
            let hash_of = |meta: &ObjectMeta| {
                meta.labels.as_ref().and_then(|l| l.get(keys::POD_TEMPLATE_HASH)).map(String::as_str) == Some(hash.as_str())
            };
            let runs: Vec<String> = self
                .obs
                .analysis_runs
                .iter()
                .filter(|ar| hash_of(&ar.metadata))
                .filter_map(|ar| ar.metadata.name.clone())
                .filter(|n| !current_runs.contains(n))
                .collect();
            for run in runs {
                self.plan.act(Action::DeleteAnalysisRun { name: run });
            }
            let experiments: Vec<String> = self
                .obs
                .experiments
                .iter()
                .filter(|ex| hash_of(&ex.metadata))
                .filter_map(|ex| ex.metadata.name.clone())
                .filter(|n| *n != current_experiment)
                .collect();
            for experiment in experiments {
                self.plan.act(Action::DeleteExperiment { name: experiment });
            }
        }
    }

    /// Names of the AnalysisRuns the persisted status calls current.
    fn current_analysis_run_names(&self) -> Vec<String> {
        let status = self.status();
        let canary = status.canary.as_ref();
        let blue_green = status.blue_green.as_ref();
        [
            canary.and_then(|c| c.current_step_analysis_run_status.as_ref()),
            canary.and_then(|c| c.current_background_analysis_run_status.as_ref()),
            blue_green.and_then(|b| b.pre_promotion_analysis_run_status.as_ref()),
            blue_green.and_then(|b| b.post_promotion_analysis_run_status.as_ref()),
        ]
        .into_iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect()
    }

    /// Argo's `isRollbackWithinWindow`: the new ReplicaSet is older than the stable one and
    /// fewer than `rollbackWindow.revisions` ReplicaSets (experiments' excluded) were created
    /// between them.
    pub(crate) fn is_rollback_within_window(&self) -> bool {
        let (Some(n), Some(s)) = (self.new_rs, self.stable_rs) else {
            return false;
        };
        let (new_rs, stable_rs) = (&self.rss[n], &self.rss[s]);
        if !created_before(new_rs, stable_rs) {
            return false;
        }
        let Some(window) = self.rollout.spec.rollback_window.as_ref().and_then(|w| w.revisions).filter(|r| *r > 0) else {
            return false;
        };
        let between = self
            .rss
            .iter()
            .filter(|rs| annotation(rs, "experiment.argoproj.io/name").is_none_or(str::is_empty))
            .filter(|rs| created_before(rs, stable_rs) && created_before(new_rs, rs))
            .count();
        (between as i64) < i64::from(window)
    }

    /// Sum of `status.replicas` over every ReplicaSet.
    pub(crate) fn sum_status_replicas(&self) -> i32 {
        self.rss.iter().map(status_replicas).sum()
    }
}
