//! Writing the Rollout status the way Argo does: the JSON shape Go produces, the merge patch
//! between two statuses, and the common condition bookkeeping of every reconcile
//! (`calculateBaseStatus`, `calculateRolloutConditions`, `persistRolloutStatus`,
//! `requeueStuckRollout` and `patchCondition` in Argo's `rollout/sync.go`).

use std::time::Duration;

use serde_json::{Value, json};

use super::Ctx;
use crate::{
    crd::{CanaryStatus, Rollout, RolloutCondition, RolloutStatus, condition},
    plan::{Action, EventIntent, merge_patch},
    replicaset::rs,
    status::{
        conditions::{
            self as cond, CONDITION_FALSE, CONDITION_TRUE, NEW_RS_AVAILABLE_REASON,
            REPLICA_SET_NOT_AVAILABLE_REASON, REPLICA_SET_UPDATED_REASON, ROLLOUT_ABORTED_REASON,
            ROLLOUT_NOT_COMPLETED_REASON, ROLLOUT_PAUSED_REASON, ROLLOUT_RESUMED_REASON,
            TIMED_OUT_REASON, get_condition,
        },
        phase::{calculate_phase, is_indefinite_step},
    },
};

/// The status as Go's `encoding/json` renders Argo's `RolloutStatus`: zero values of
/// `omitempty` fields are absent, while the `canary` and `blueGreen` structs are always present
/// (Go never omits a struct). Both sides of every status diff go through this, so a value we
/// hold as `Some(0)` and Argo's absent key compare equal and no patch flaps between them.
pub(crate) fn go_status_json(status: &RolloutStatus) -> Value {
    let mut s = status.clone();
    fn int(v: &mut Option<i32>) {
        if *v == Some(0) {
            *v = None;
        }
    }
    fn text(v: &mut Option<String>) {
        if v.as_deref() == Some("") {
            *v = None;
        }
    }
    fn flag(v: &mut Option<bool>) {
        if *v == Some(false) {
            *v = None;
        }
    }
    fn list<T>(v: &mut Option<Vec<T>>) {
        if v.as_ref().is_some_and(Vec::is_empty) {
            *v = None;
        }
    }
    flag(&mut s.abort);
    list(&mut s.pause_conditions);
    flag(&mut s.controller_pause);
    text(&mut s.current_pod_hash);
    text(&mut s.current_step_hash);
    int(&mut s.replicas);
    int(&mut s.updated_replicas);
    int(&mut s.ready_replicas);
    int(&mut s.available_replicas);
    text(&mut s.observed_generation);
    list(&mut s.conditions);
    int(&mut s.hpa_replicas);
    text(&mut s.selector);
    text(&mut s.stable_rs);
    flag(&mut s.promote_full);
    if s.phase.as_ref().is_some_and(|p| p.as_str().is_empty()) {
        s.phase = None;
    }
    text(&mut s.message);
    text(&mut s.workload_observed_generation);
    list(&mut s.albs);
    let mut canary = s.canary.take().unwrap_or_default();
    text(&mut canary.current_experiment);
    if canary
        .stable_ping_pong
        .as_ref()
        .is_some_and(|p| p.as_str().is_empty())
    {
        canary.stable_ping_pong = None;
    }
    list(&mut canary.step_plugin_statuses);
    s.canary = Some(canary);
    let mut blue_green = s.blue_green.take().unwrap_or_default();
    text(&mut blue_green.active_selector);
    text(&mut blue_green.preview_selector);
    flag(&mut blue_green.scale_up_preview_check_point);
    s.blue_green = Some(blue_green);
    serde_json::to_value(&s).unwrap_or(Value::Null)
}

/// The body of a merge patch on `/status` that turns `old` into `new`, or `None` when Argo would
/// see no difference (then nothing is written).
pub(crate) fn status_patch(old: &RolloutStatus, new: &RolloutStatus) -> Option<Value> {
    merge_patch(&go_status_json(old), &go_status_json(new)).map(|p| json!({ "status": p }))
}

pub(crate) fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

/// `canary` of a status being built.
pub(crate) fn canary_mut(status: &mut RolloutStatus) -> &mut CanaryStatus {
    status.canary.get_or_insert_with(CanaryStatus::default)
}

/// Whether the controller or the user holds the rollout paused, as of the persisted status.
pub(crate) fn is_paused(rollout: &Rollout, status: &RolloutStatus) -> bool {
    rollout.spec.paused == Some(true)
        || status
            .pause_conditions
            .as_ref()
            .is_some_and(|p| !p.is_empty())
}

impl Ctx<'_> {
    /// Argo's `patchCondition`: applies `conditions` to `new_status` (a copy of `base`), stamps
    /// `observedGeneration` and the phase, and sends the difference to `base` as its own
    /// immediate status patch. The rollout held in memory keeps `base`: Argo carries on with the
    /// pre-patch object, so a later persist diffs against the same base.
    pub(crate) fn patch_condition(
        &mut self,
        base: &RolloutStatus,
        mut new_status: RolloutStatus,
        conditions: Vec<RolloutCondition>,
    ) {
        for c in conditions {
            cond::set_condition(&mut new_status, c);
        }
        self.stamp_generation_and_phase(&mut new_status);
        if let Some(patch) = status_patch(base, &new_status) {
            self.plan.act(Action::PatchRolloutStatus(patch));
        }
    }

    /// `observedGeneration` (a string, an Argo quirk) and `phase`/`message` of a status about to
    /// be written.
    pub(crate) fn stamp_generation_and_phase(&self, status: &mut RolloutStatus) {
        status.observed_generation =
            Some(self.rollout.metadata.generation.unwrap_or(0).to_string());
        let (phase, message) = calculate_phase(&self.rollout, status);
        status.phase = Some(phase);
        status.message = Some(message);
    }

    /// Argo's `calculateBaseStatus`: the fields every strategy shares, computed from the
    /// ReplicaSets, on top of `c.newStatus`. The `InvalidSpec` condition is dropped: reaching
    /// this point means the spec passed validation in this reconcile.
    pub(crate) fn calculate_base_status(&self) -> RolloutStatus {
        let prev = self.status();
        let mut conditions = prev.conditions.clone();
        if let Some(list) = conditions.as_mut() {
            list.retain(|c| c.type_ != condition::INVALID_SPEC);
        }
        let current_pod_hash = self.current_pod_hash();
        let mut new_status = self.new_status.clone();
        new_status.current_pod_hash = Some(current_pod_hash);
        new_status.replicas = Some(self.sum_status_replicas());
        new_status.updated_replicas =
            Some(self.new_rs().map_or(0, super::replicasets::status_replicas));
        new_status.ready_replicas = Some(self.rss.iter().map(super::replicasets::ready).sum());
        new_status.collision_count = prev.collision_count;
        new_status.conditions = conditions;
        // `newStatus.StableRS` is still empty here in Argo, so this keeps the flag as persisted
        // whenever there is a current hash.
        new_status.promote_full =
            Some(!text(&new_status.current_pod_hash).is_empty() && prev.promote_full == Some(true));
        new_status
    }

    /// Argo's `calculateRolloutConditions`: Healthy, RolloutAborted, Progressing (including the
    /// progress deadline and `progressDeadlineAbort`), Available, ReplicaFailure and Completed,
    /// in that order, with the events they raise.
    pub(crate) fn calculate_rollout_conditions(
        &mut self,
        mut new_status: RolloutStatus,
    ) -> RolloutStatus {
        let now = self.now;
        let prev = self.status().clone();
        let is_paused = is_paused(&self.rollout, &prev);
        let is_aborted = self.pause.is_aborted(&prev);

        let mut became_unhealthy = false;
        let healthy = cond::rollout_healthy(&self.rollout, &new_status);
        if !is_paused && healthy {
            cond::set_condition(&mut new_status, cond::healthy_condition(true, now));
        } else if get_condition(&prev, condition::HEALTHY).is_some() {
            became_unhealthy =
                cond::set_condition(&mut new_status, cond::healthy_condition(false, now));
        }

        if is_aborted {
            let message = cond::rollout_aborted_message(self.revision(), &self.pause.abort_message);
            let aborted = cond::new_condition(
                condition::PROGRESSING,
                CONDITION_FALSE,
                ROLLOUT_ABORTED_REASON,
                message.clone(),
                now,
            );
            if cond::set_condition(&mut new_status, aborted) {
                self.plan
                    .event(EventIntent::warning(ROLLOUT_ABORTED_REASON, message));
            }
        }

        // Argo's "isHealthyRollout" shortcut compares the condition type with itself and is
        // never true, so progress is estimated on every reconcile that is not aborted.
        let current = get_condition(&prev, condition::PROGRESSING).cloned();
        if !is_aborted {
            let new_rs_name = self.new_rs().and_then(|rs| rs.metadata.name.clone());
            if healthy {
                let message =
                    cond::replica_set_completed_message(new_rs_name.as_deref().unwrap_or(""));
                let done = cond::new_condition(
                    condition::PROGRESSING,
                    CONDITION_TRUE,
                    NEW_RS_AVAILABLE_REASON,
                    message,
                    now,
                );
                cond::set_condition(&mut new_status, done);
            } else if cond::rollout_progressing(&self.rollout, &new_status) || became_unhealthy {
                let promoted = text(&new_status.stable_rs) == text(&new_status.current_pod_hash);
                let (reason, message) = if promoted && became_unhealthy {
                    (
                        REPLICA_SET_NOT_AVAILABLE_REASON,
                        cond::NOT_AVAILABLE_MESSAGE.to_string(),
                    )
                } else {
                    let name = self.rollout.metadata.name.clone().unwrap_or_default();
                    (
                        REPLICA_SET_UPDATED_REASON,
                        cond::progressing_message(&name, new_rs_name.as_deref()),
                    )
                };
                let progressing = cond::new_condition(
                    condition::PROGRESSING,
                    CONDITION_TRUE,
                    reason,
                    message,
                    now,
                );
                cond::refresh_progressing_condition(&mut new_status, current.as_ref(), progressing);
            } else if !is_indefinite_step(&self.rollout)
                && !self.is_waiting_for_replica_set_scale_down()
                && cond::rollout_timed_out(&self.rollout, &new_status, now)
            {
                let name = self.rollout.metadata.name.clone().unwrap_or_default();
                let message = cond::timed_out_message(&name, new_rs_name.as_deref());
                let timed_out = cond::new_condition(
                    condition::PROGRESSING,
                    CONDITION_FALSE,
                    TIMED_OUT_REASON,
                    message.clone(),
                    now,
                );
                let changed = cond::set_condition(&mut new_status, timed_out);
                // The abort is raised on the first timeout and on any later reconcile that still
                // sees it while not aborted (progressDeadlineAbort set after the fact). Its
                // Progressing condition only appears on the next reconcile.
                let abort = self.rollout.spec.progress_deadline_abort == Some(true);
                if abort && (changed || !self.pause.is_aborted(&prev)) {
                    self.pause.add_abort(message.clone());
                    self.plan
                        .event(EventIntent::warning(ROLLOUT_ABORTED_REASON, message));
                }
            }
        }

        let is_available = if self.rollout.spec.strategy.blue_green.is_some() {
            // Blue-green: the ReplicaSet behind the active selector is saturated.
            let active = new_status
                .blue_green
                .as_ref()
                .map_or("", |bg| text(&bg.active_selector));
            self.replica_set_by_hash(active)
                .is_some_and(|i| rs::is_saturated(&self.rollout, &self.rss[i]))
        } else if self.rollout.spec.strategy.canary.is_some() {
            let available = self
                .rss
                .iter()
                .map(super::replicasets::available)
                .sum::<i32>();
            available >= self.rollout.desired_replicas()
        } else {
            false
        };
        cond::set_condition(
            &mut new_status,
            cond::available_condition(is_available, now),
        );

        match cond::replica_failure_condition(self.new_rs(), &self.rss) {
            Some(failure) => {
                cond::set_condition(&mut new_status, failure);
            }
            None => cond::remove_condition(&mut new_status, condition::REPLICA_FAILURE),
        }

        if cond::rollout_completed(&new_status) {
            cond::set_condition(&mut new_status, cond::completed_condition(true, now));
        } else if cond::set_condition(&mut new_status, cond::completed_condition(false, now)) {
            let message = cond::rollout_not_completed_message(
                self.revision(),
                text(&new_status.current_pod_hash),
            );
            self.plan
                .event(EventIntent::normal(ROLLOUT_NOT_COMPLETED_REASON, message));
        }
        new_status
    }

    /// Argo's `isWaitingForReplicaSetScaleDown`: another ReplicaSet still waits on its
    /// `scale-down-deadline`, which must not count against the progress deadline.
    fn is_waiting_for_replica_set_scale_down(&self) -> bool {
        self.other_rss
            .iter()
            .any(|&i| super::replicasets::has_scale_down_deadline(&self.rss[i]))
    }

    /// Argo's `persistRolloutStatus`: folds the pause/abort intents into `new_status`, stamps
    /// generation and phase, and writes the difference to the persisted status as one merge
    /// patch, followed by the pause/resume events of that difference. Nothing is written when
    /// nothing changed. Either way the progress deadline is scheduled.
    pub(crate) fn persist_rollout_status(&mut self, mut new_status: RolloutStatus) {
        let prev = self.status().clone();
        self.pause.apply(&prev, &mut new_status, self.now);
        // workloadRef is not resolved by this planner (refused as unsupported), so there is no
        // workload generation to observe.
        new_status.workload_observed_generation = None;
        self.stamp_generation_and_phase(&mut new_status);
        if let Some(patch) = status_patch(&prev, &new_status) {
            self.plan.act(Action::PatchRolloutStatus(patch));
            self.send_state_change_events(&prev, &new_status);
        }
        self.requeue_stuck_rollout(&new_status);
    }

    /// Argo's `sendStateChangeEvents`: pause transitions between the persisted and the new status.
    /// A user resume clears `pauseConditions` itself, so it produces no `RolloutResumed`; an
    /// abort also clears them and is not a resume.
    fn send_state_change_events(&mut self, prev: &RolloutStatus, new: &RolloutStatus) {
        let first = |s: &RolloutStatus| {
            s.pause_conditions
                .as_deref()
                .and_then(|p| p.first())
                .map(|c| c.reason.clone())
        };
        let (prev_paused, curr_paused) = (first(prev), first(new));
        match (prev_paused, curr_paused) {
            (None, Some(reason)) => self.plan.event(EventIntent::normal(
                ROLLOUT_PAUSED_REASON,
                cond::rollout_paused_event_message(reason.as_str()),
            )),
            (Some(_), None) if new.aborted_at.is_none() => self.plan.event(EventIntent::normal(
                ROLLOUT_RESUMED_REASON,
                cond::ROLLOUT_RESUMED_MESSAGE,
            )),
            _ => {}
        }
    }

    /// Argo's `requeueStuckRollout`: look again one second after the progress deadline of the
    /// status we leave behind, unless that deadline cannot apply (healthy, already timed out,
    /// paused, aborted, or at an open-ended step). Evaluated against the status just written, so
    /// that the deadline is scheduled even when this reconcile changed the status.
    fn requeue_stuck_rollout(&mut self, new_status: &RolloutStatus) {
        let mut rollout = self.rollout.clone();
        rollout.status = Some(new_status.clone());
        let Some(progressing) = get_condition(new_status, condition::PROGRESSING) else {
            return;
        };
        if cond::rollout_healthy(&rollout, new_status)
            || progressing.reason == TIMED_OUT_REASON
            || is_paused(&rollout, new_status)
            || new_status.abort == Some(true)
            || is_indefinite_step(&rollout)
        {
            return;
        }
        let Some(deadline) = cond::progress_deadline(&rollout, new_status) else {
            return;
        };
        let after = (deadline - self.now).to_std().unwrap_or(Duration::ZERO);
        self.plan.requeue(after + Duration::from_secs(1));
    }
}
