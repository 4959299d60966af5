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

use chrono::{DateTime, Utc};
use k8s_openapi::{api::apps::v1::ReplicaSet, apimachinery::pkg::apis::meta::v1::ObjectMeta};
use serde_json::json;

use std::borrow::Cow;

use super::Ctx;
use crate::{
    crd::rollout::keys,
    plan::{Action, EventIntent, Item},
    replicaset::rs,
    status::{
        conditions::{
            self as cond, CONDITION_TRUE, FOUND_NEW_RS_REASON, NEW_REPLICA_SET_REASON,
            ROLLOUT_UPDATED_REASON, SCALING_REPLICA_SET_REASON,
        },
        k8s_time,
    },
};

// ---------------------------------------------------------------------------------------------
// Reading a ReplicaSet (thin adapters over `crate::replicaset::rs`)
// ---------------------------------------------------------------------------------------------

pub(crate) use rs::{
    has_scale_down_deadline, is_active, is_replica_set_available as is_fully_available, revision,
    spec_replicas, status_replicas,
};

pub(crate) fn name(rs: &ReplicaSet) -> &str {
    rs::rs_name(rs)
}

pub(crate) fn available(rs: &ReplicaSet) -> i32 {
    rs::available_replicas(rs)
}

pub(crate) fn ready(rs: &ReplicaSet) -> i32 {
    rs::ready_replicas(rs)
}

/// The `rollouts-pod-template-hash` label, `""` without one.
pub(crate) fn pod_hash(rs: &ReplicaSet) -> &str {
    rs::pod_hash(rs).unwrap_or("")
}

pub(crate) fn annotation<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

/// Argo's `Revision` of an annotation value: 0 when absent, `None` when not an integer.
pub(crate) fn parse_revision(value: Option<&str>) -> Option<i64> {
    match value {
        None => Some(0),
        Some(v) => v.parse().ok(),
    }
}

pub(crate) fn created(rs: &ReplicaSet) -> Option<DateTime<Utc>> {
    rs.metadata
        .creation_timestamp
        .as_ref()
        .map(crate::status::to_utc)
}

/// `metav1.Time.Before`: an absent timestamp is the zero time.
fn created_before(a: &ReplicaSet, b: &ReplicaSet) -> bool {
    created(a).unwrap_or(DateTime::<Utc>::MIN_UTC) < created(b).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The ReplicaSet Argo creates for the current template ([`rs::new_replica_set`]), for tests.
#[cfg(test)]
pub(crate) fn desired_replica_set(
    rollout: &crate::crd::Rollout,
    hash: &str,
    revision: i64,
) -> ReplicaSet {
    rs::new_replica_set(rollout, hash, revision, false)
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
        rs::next_revision(self.older_rss.iter().map(|&i| self.rs(i)))
    }

    /// Recomputes older/stable/other after `new_rs` changed (Argo's `FindOldReplicaSets`,
    /// `GetStableRS`, `GetOtherRSs`).
    pub(crate) fn classify(&mut self) {
        let stable_hash = super::text(&self.status().stable_rs);
        let older_rss: Vec<usize> = (0..self.rss.len())
            .filter(|&i| Some(i) != self.new_rs)
            .collect();
        let stable_rs = if stable_hash.is_empty() {
            None
        } else if let Some(n) = self.new_rs.filter(|&n| pod_hash(self.rs(n)) == stable_hash) {
            Some(n)
        } else {
            older_rss
                .iter()
                .copied()
                .find(|&i| pod_hash(self.rs(i)) == stable_hash)
        };
        self.older_rss = older_rss;
        self.stable_rs = stable_rs;
        self.other_rss = (0..self.rss.len())
            .filter(|&i| Some(i) != self.new_rs && Some(i) != self.stable_rs)
            .collect();
    }

    /// The latest object of ReplicaSet `i`: what this plan last wrote for it, else the snapshot.
    pub(crate) fn latest_rs(&self, i: usize) -> &ReplicaSet {
        let rs = self.rs(i);
        if self.rs_written.is_empty() {
            return rs;
        }
        self.rs_written.get(name(rs)).unwrap_or(rs)
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
        self.plan
            .act(Action::UpdateReplicaSet(Box::new(rs.clone())));
        self.rs_written.insert(rs_name, rs);
    }

    /// Argo's `scaleReplicaSetAndRecordEvent`: sets `spec.replicas` and the desired-replicas
    /// annotation (dropping a scale-down deadline when going to 0, unless an abort holds the
    /// canary), and records `ScalingReplicaSet` when the size changes. Returns whether the size
    /// changed; an annotation-only update does not count as scaling.
    pub(crate) fn scale_replica_set(&mut self, i: usize, new_scale: i32) -> bool {
        let current = self.latest_rs(i);
        let keep_deadline = self.should_delay_scale_down_on_abort();
        let Some(updated) = rs::scale_replica_set(
            current,
            new_scale,
            self.rollout.desired_replicas(),
            keep_deadline,
        ) else {
            return false;
        };
        let old_scale = spec_replicas(current);
        let size_changes = old_scale != new_scale;
        let rs_name = name(&updated).to_string();
        let rs_revision = revision(&updated);
        self.update_replica_set(updated);
        if size_changes {
            let direction = if old_scale < new_scale { "up" } else { "down" };
            self.plan.event(EventIntent::normal(
                SCALING_REPLICA_SET_REASON,
                cond::scaling_replica_set_message(
                    direction,
                    &rs_name,
                    rs_revision,
                    old_scale,
                    new_scale,
                ),
            ));
        }
        size_changes
    }

    /// Removes the `scale-down-deadline` annotation of ReplicaSet `i`, if any.
    pub(crate) fn remove_scale_down_deadline(&mut self, i: usize) {
        let current = self.latest_rs(i);
        if annotation(current, keys::SCALE_DOWN_DEADLINE).is_none() {
            return;
        }
        let mut copy = current.clone();
        if rs::remove_scale_down_deadline(&mut copy) {
            self.update_replica_set(copy);
        }
    }

    /// Argo's `removeScaleDownDeadlines`: the new and the stable ReplicaSet are wanted, so a
    /// `scale-down-deadline` left on them (a move back to a ReplicaSet still inside its delay) is
    /// removed, except on the new one while an abort delays its scale-down.
    pub(crate) fn remove_scale_down_deadlines(&mut self) {
        let mut to_remove = Vec::new();
        if let Some(n) = self.new_rs
            && !self.should_delay_scale_down_on_abort()
        {
            to_remove.push(n);
        }
        if let Some(s) = self.stable_rs
            && (to_remove.is_empty() || Some(s) != self.new_rs)
        {
            to_remove.push(s);
        }
        for i in to_remove {
            self.remove_scale_down_deadline(i);
        }
    }

    /// Applies a change of the `scale-down-deadline` annotation to ReplicaSet `i` (Argo's
    /// JSON patches of `addScaleDownDelay`/`removeScaleDownDelay`, folded into this plan's
    /// update of the ReplicaSet). Nothing is written when the annotation already says so.
    pub(crate) fn change_scale_down_deadline(&mut self, i: usize, change: &rs::DeadlineChange) {
        let current = self.latest_rs(i);
        let present = annotation(current, keys::SCALE_DOWN_DEADLINE);
        let unchanged = match change {
            rs::DeadlineChange::Set(value) => present == Some(value.as_str()),
            rs::DeadlineChange::Remove => present.is_none(),
        };
        if unchanged {
            return;
        }
        let mut copy = current.clone();
        match change {
            rs::DeadlineChange::Set(value) => rs::set_scale_down_deadline(&mut copy, value),
            rs::DeadlineChange::Remove => {
                rs::remove_scale_down_deadline(&mut copy);
            }
        }
        self.update_replica_set(copy);
    }

    /// Argo's `GetReplicaSetByTemplateHash`: the ReplicaSet whose hash label is `hash` (the last
    /// one, should several carry it); none for an empty hash.
    pub(crate) fn replica_set_by_hash(&self, hash: &str) -> Option<usize> {
        if hash.is_empty() {
            return None;
        }
        self.rss.iter().rposition(|rs| pod_hash(rs) == hash)
    }

    /// Argo's `shouldDelayScaleDownOnAbort`: only an aborted traffic-routed canary (or a
    /// blue-green preview) with a stable ReplicaSet and an abort delay keeps its canary up.
    pub(crate) fn should_delay_scale_down_on_abort(&self) -> bool {
        rs::should_delay_scale_down_on_abort(
            &self.rollout,
            self.pause.is_aborted(self.status()),
            self.stable_rs.is_some(),
        )
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
        let current = self.latest_rs(n);
        let older = self.older_rss.iter().map(|&i| self.rs(i));
        if let Some(updated) =
            rs::sync_replica_set_revision(&self.rollout, current, older, self.computed_pod_hash())
        {
            self.rss[n] = Cow::Owned(updated.clone());
            self.update_replica_set(updated);
            return;
        }
        let rs_name = name(current).to_string();
        let rs_revision = annotation(current, keys::REVISION)
            .unwrap_or("")
            .to_string();
        self.set_rollout_revision(&rs_revision);

        if cond::get_condition(self.status(), crate::crd::condition::PROGRESSING).is_none() {
            let before = self.status().clone();
            let message = cond::found_new_rs_message(&rs_name);
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
        let current = self
            .rollout
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(keys::REVISION));
        if current.map(String::as_str) == Some(revision)
            || !rs::set_rollout_revision(self.rollout.to_mut(), revision)
        {
            return;
        }
        self.plan.act(Action::PatchRollout(
            json!({"metadata": {"annotations": {keys::REVISION: revision}}}),
        ));
        self.plan.event(EventIntent::normal(
            ROLLOUT_UPDATED_REASON,
            cond::rollout_updated_message(revision),
        ));
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
        let hash = self.computed_pod_hash().to_string();
        let rs = rs::new_replica_set(&self.rollout, &hash, new_revision, self.stable_rs.is_some());
        let rs_name = name(&rs).to_string();

        // The create would fail with AlreadyExists. Argo then reuses an equal ReplicaSet of
        // ours (which the lookup above would already have found) and otherwise bumps
        // `collisionCount`, so the next reconcile hashes differently.
        let taken_by = self.obs.replica_sets.iter().find(|o| name(o) == rs_name);
        if let Some(existing) = taken_by
            && rs::is_hash_collision(&self.rollout, existing)
        {
            let before = status.clone();
            self.status_mut().collision_count =
                Some(status.collision_count.unwrap_or(0).saturating_add(1));
            let after = self.status().clone();
            if let Some(patch) = super::status::status_patch(&before, &after) {
                self.plan.act(Action::PatchRolloutStatus(patch));
            }
            self.plan.requeue(std::time::Duration::ZERO);
            return Creation::Collision;
        }

        self.plan
            .act(Action::CreateReplicaSet(Box::new(rs.clone())));
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
        self.rss.push(Cow::Owned(working));
        self.new_rs = Some(self.rss.len() - 1);
        self.classify();
        Creation::NewReplicaSet
    }

    /// Argo's `isScalingEvent`: the revision is synced first, then a scaling event is a
    /// desired-replicas annotation on the active new or stable ReplicaSet that differs from
    /// `spec.replicas` (someone, typically an HPA, changed the size mid-flight).
    pub(crate) fn is_scaling_event(&mut self) -> bool {
        self.sync_replica_set_revision();
        rs::is_scaling_event(&self.rollout, self.new_rs(), self.stable())
    }

    /// Argo's `reconcileRevisionHistoryLimit`: deletes the oldest other ReplicaSets beyond
    /// `revisionHistoryLimit` (default 10), but only those fully scaled down and observed (spec
    /// and status replicas 0, `observedGeneration` caught up), along with the AnalysisRuns and
    /// Experiments of their pod hash that are not current.
    pub(crate) fn reconcile_revision_history_limit(&mut self) {
        let doomed =
            rs::replica_sets_to_delete(&self.rollout, self.other_rss.iter().map(|&i| self.rs(i)));
        let current_runs = self.current_analysis_run_names();
        let current_experiment = self
            .status()
            .canary
            .as_ref()
            .and_then(|c| c.current_experiment.clone())
            .unwrap_or_default();
        for rs_name in doomed {
            let Some(rs) = self.rss.iter().find(|rs| name(rs) == rs_name) else {
                continue;
            };
            let hash = pod_hash(rs).to_string();
            self.plan.act(Action::DeleteReplicaSet { name: rs_name });
            if hash.is_empty() {
                continue;
            }
            let hash_of = |meta: &ObjectMeta| {
                meta.labels
                    .as_ref()
                    .and_then(|l| l.get(keys::POD_TEMPLATE_HASH))
                    .map(String::as_str)
                    == Some(hash.as_str())
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
                self.delete_analysis_run(run);
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
        let (new_rs, stable_rs) = (self.rs(n), self.rs(s));
        if !created_before(new_rs, stable_rs) {
            return false;
        }
        let Some(window) = self
            .rollout
            .spec
            .rollback_window
            .as_ref()
            .and_then(|w| w.revisions)
            .filter(|r| *r > 0)
        else {
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
        self.all_rss().map(status_replicas).sum()
    }
}
