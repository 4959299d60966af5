//! Writing the Rollout status the way Argo does: the JSON shape Go produces, the merge patch
//! between two statuses, and the common condition bookkeeping of every reconcile
//! (`calculateBaseStatus`, `calculateRolloutConditions`, `persistRolloutStatus`,
//! `requeueStuckRollout` and `patchCondition` in Argo's `rollout/sync.go`).

use std::time::Duration;

use serde_json::{Value, json};

use super::Ctx;
use crate::{
    crd::{
        BlueGreenStatus, CanaryStatus, Rollout, RolloutCondition, RolloutPhase, RolloutStatus,
        condition, rollout::PingPongType,
    },
    plan::{Action, EventIntent, Plan, merge_patch},
    replicaset::rs,
    status::{
        conditions::{
            self as cond, CONDITION_FALSE, CONDITION_TRUE, NEW_RS_AVAILABLE_REASON,
            REPLICA_SET_NOT_AVAILABLE_REASON, REPLICA_SET_UPDATED_REASON, ROLLOUT_ABORTED_REASON,
            ROLLOUT_NOT_COMPLETED_REASON, ROLLOUT_PAUSED_REASON, ROLLOUT_RESUMED_REASON,
            TIMED_OUT_REASON, get_condition,
        },
        phase::{calculate_phase, is_indefinite_step, is_indefinite_step_at},
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
    // Most reconciles change nothing: decide that on the typed values, without rendering JSON.
    if go_equal(old, new) {
        return None;
    }
    merge_patch(&go_status_json(old), &go_status_json(new)).map(|p| json!({ "status": p }))
}

/// Whether two statuses are equal once brought to the shape [`go_status_json`] renders: a
/// sufficient condition for equal JSON (when it says `false` the JSON is compared). Every field
/// is named, so a field added to the status cannot be overlooked here.
fn go_equal(a: &RolloutStatus, b: &RolloutStatus) -> bool {
    fn int(v: &Option<i32>) -> Option<i32> {
        v.filter(|n| *n != 0)
    }
    fn text(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|s| !s.is_empty())
    }
    fn flag(v: &Option<bool>) -> Option<bool> {
        v.filter(|f| *f)
    }
    fn list<T>(v: &Option<Vec<T>>) -> Option<&[T]> {
        v.as_deref().filter(|l| !l.is_empty())
    }
    fn ping_pong(v: &Option<PingPongType>) -> Option<&PingPongType> {
        v.as_ref().filter(|p| !p.as_str().is_empty())
    }
    fn phase_of(v: &Option<RolloutPhase>) -> Option<&RolloutPhase> {
        v.as_ref().filter(|p| !p.as_str().is_empty())
    }
    let RolloutStatus {
        abort,
        pause_conditions,
        controller_pause,
        aborted_at,
        current_pod_hash,
        current_step_hash,
        replicas,
        updated_replicas,
        ready_replicas,
        available_replicas,
        current_step_index,
        collision_count,
        observed_generation,
        conditions,
        canary,
        blue_green,
        hpa_replicas,
        selector,
        stable_rs,
        restarted_at,
        promote_full,
        phase,
        message,
        workload_observed_generation,
        alb,
        albs,
    } = a;
    let canary_equal = || {
        let default = CanaryStatus::default();
        let (x, y) = (
            canary.as_ref().unwrap_or(&default),
            b.canary.as_ref().unwrap_or(&default),
        );
        let CanaryStatus {
            current_step_analysis_run_status,
            current_background_analysis_run_status,
            current_experiment,
            weights,
            stable_ping_pong,
            step_plugin_statuses,
        } = x;
        *current_step_analysis_run_status == y.current_step_analysis_run_status
            && *current_background_analysis_run_status == y.current_background_analysis_run_status
            && text(current_experiment) == text(&y.current_experiment)
            && *weights == y.weights
            && ping_pong(stable_ping_pong) == ping_pong(&y.stable_ping_pong)
            && list(step_plugin_statuses) == list(&y.step_plugin_statuses)
    };
    let blue_green_equal = || {
        let default = BlueGreenStatus::default();
        let (x, y) = (
            blue_green.as_ref().unwrap_or(&default),
            b.blue_green.as_ref().unwrap_or(&default),
        );
        let BlueGreenStatus {
            preview_selector,
            active_selector,
            scale_up_preview_check_point,
            pre_promotion_analysis_run_status,
            post_promotion_analysis_run_status,
        } = x;
        text(preview_selector) == text(&y.preview_selector)
            && text(active_selector) == text(&y.active_selector)
            && flag(scale_up_preview_check_point) == flag(&y.scale_up_preview_check_point)
            && *pre_promotion_analysis_run_status == y.pre_promotion_analysis_run_status
            && *post_promotion_analysis_run_status == y.post_promotion_analysis_run_status
    };
    flag(abort) == flag(&b.abort)
        && list(pause_conditions) == list(&b.pause_conditions)
        && flag(controller_pause) == flag(&b.controller_pause)
        && *aborted_at == b.aborted_at
        && text(current_pod_hash) == text(&b.current_pod_hash)
        && text(current_step_hash) == text(&b.current_step_hash)
        && int(replicas) == int(&b.replicas)
        && int(updated_replicas) == int(&b.updated_replicas)
        && int(ready_replicas) == int(&b.ready_replicas)
        && int(available_replicas) == int(&b.available_replicas)
        && *current_step_index == b.current_step_index
        && *collision_count == b.collision_count
        && text(observed_generation) == text(&b.observed_generation)
        && list(conditions) == list(&b.conditions)
        && int(hpa_replicas) == int(&b.hpa_replicas)
        && text(selector) == text(&b.selector)
        && text(stable_rs) == text(&b.stable_rs)
        && *restarted_at == b.restarted_at
        && flag(promote_full) == flag(&b.promote_full)
        && phase_of(phase) == phase_of(&b.phase)
        && text(message) == text(&b.message)
        && text(workload_observed_generation) == text(&b.workload_observed_generation)
        && *alb == b.alb
        && list(albs) == list(&b.albs)
        && canary_equal()
        && blue_green_equal()
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
        new_status.current_pod_hash = Some(current_pod_hash.to_string());
        new_status.replicas = Some(self.sum_status_replicas());
        new_status.updated_replicas =
            Some(self.new_rs().map_or(0, super::replicasets::status_replicas));
        new_status.ready_replicas = Some(self.all_rss().map(super::replicasets::ready).sum());
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
        let prev = self.rollout.status.as_ref().expect("set in Ctx::new");
        let is_paused = is_paused(&self.rollout, prev);
        let is_aborted = self.pause.is_aborted(prev);

        let mut became_unhealthy = false;
        let healthy = cond::rollout_healthy(&self.rollout, &new_status);
        if !is_paused && healthy {
            cond::set_condition(&mut new_status, cond::healthy_condition(true, now));
        } else if get_condition(prev, condition::HEALTHY).is_some() {
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
        let current = get_condition(prev, condition::PROGRESSING);
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
                cond::refresh_progressing_condition(&mut new_status, current, progressing);
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
                if abort && (changed || !self.pause.is_aborted(prev)) {
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
                .is_some_and(|i| rs::is_saturated(&self.rollout, self.rs(i)))
        } else if self.rollout.spec.strategy.canary.is_some() {
            let available = self
                .all_rss()
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

        match cond::replica_failure_condition(self.new_rs(), self.all_rss()) {
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
            .any(|&i| super::replicasets::has_scale_down_deadline(self.rs(i)))
    }

    /// Argo's `persistRolloutStatus`: folds the pause/abort intents into `new_status`, stamps
    /// generation and phase, and writes the difference to the persisted status as one merge
    /// patch, followed by the pause/resume events of that difference. Nothing is written when
    /// nothing changed. Either way the progress deadline is scheduled.
    pub(crate) fn persist_rollout_status(&mut self, mut new_status: RolloutStatus) {
        let prev = self.rollout.status.as_ref().expect("set in Ctx::new");
        self.pause.apply(prev, &mut new_status, self.now);
        // workloadRef is not resolved by this planner (refused as unsupported), so there is no
        // workload generation to observe.
        new_status.workload_observed_generation = None;
        self.stamp_generation_and_phase(&mut new_status);
        if let Some(patch) = status_patch(prev, &new_status) {
            self.plan.act(Action::PatchRolloutStatus(patch));
            send_state_change_events(&mut self.plan, prev, &new_status);
        }
        if let Some(after) = self.stuck_rollout_requeue(&new_status) {
            self.plan.requeue(after);
        }
    }

    /// Argo's `requeueStuckRollout`: look again one second after the progress deadline of the
    /// status we leave behind, unless that deadline cannot apply (healthy, already timed out,
    /// paused, aborted, or at an open-ended step). Evaluated against the status just written, so
    /// that the deadline is scheduled even when this reconcile changed the status.
    fn stuck_rollout_requeue(&self, new_status: &RolloutStatus) -> Option<Duration> {
        // Judged as if the rollout already carried `new_status`.
        let rollout = &*self.rollout;
        let progressing = get_condition(new_status, condition::PROGRESSING)?;
        if cond::rollout_healthy_at(rollout, Some(new_status), new_status)
            || progressing.reason == TIMED_OUT_REASON
            || is_paused(rollout, new_status)
            || new_status.abort == Some(true)
            || is_indefinite_step_at(rollout, Some(new_status))
        {
            return None;
        }
        let deadline = cond::progress_deadline(rollout, new_status)?;
        let after = (deadline - self.now).to_std().unwrap_or(Duration::ZERO);
        Some(after + Duration::from_secs(1))
    }
}

/// Argo's `sendStateChangeEvents`: pause transitions between the persisted and the new status.
/// A user resume clears `pauseConditions` itself, so it produces no `RolloutResumed`; an
/// abort also clears them and is not a resume.
fn send_state_change_events(plan: &mut Plan, prev: &RolloutStatus, new: &RolloutStatus) {
    let first = |s: &RolloutStatus| {
        s.pause_conditions
            .as_deref()
            .and_then(|p| p.first())
            .map(|c| c.reason.clone())
    };
    let (prev_paused, curr_paused) = (first(prev), first(new));
    match (prev_paused, curr_paused) {
        (None, Some(reason)) => plan.event(EventIntent::normal(
            ROLLOUT_PAUSED_REASON,
            cond::rollout_paused_event_message(reason.as_str()),
        )),
        (Some(_), None) if new.aborted_at.is_none() => plan.event(EventIntent::normal(
            ROLLOUT_RESUMED_REASON,
            cond::ROLLOUT_RESUMED_MESSAGE,
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn status(v: Value) -> RolloutStatus {
        serde_json::from_value(v).unwrap()
    }

    /// The typed shortcut of [`status_patch`] agrees with the JSON diff: Go's zero values equal
    /// absent fields, and any real difference still produces the patch.
    #[test]
    fn typed_equality_agrees_with_the_json_diff() {
        let cases = [
            (json!({}), json!({}), true),
            (
                json!({"replicas": 0, "abort": false, "currentPodHash": "", "pauseConditions": [],
                       "canary": {"stepPluginStatuses": []}, "blueGreen": {"activeSelector": ""}}),
                json!({}),
                true,
            ),
            (json!({"canary": {}}), json!({"blueGreen": {}}), true),
            (json!({"replicas": 1}), json!({}), false),
            (json!({"stableRS": "a"}), json!({"stableRS": "b"}), false),
            (json!({"currentStepIndex": 0}), json!({}), false),
            (
                json!({"blueGreen": {"activeSelector": "a"}}),
                json!({"blueGreen": {"activeSelector": "b"}}),
                false,
            ),
            (
                json!({"canary": {"currentExperiment": "x"}}),
                json!({"canary": {}}),
                false,
            ),
            (
                json!({"conditions": [{"type": "Available", "status": "True", "reason": "r", "message": "m",
                                       "lastUpdateTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
                json!({"conditions": [{"type": "Available", "status": "True", "reason": "r", "message": "m",
                                       "lastUpdateTime": "2026-01-01T00:00:01Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
                false,
            ),
        ];
        for (a, b, equal) in cases {
            let (a, b) = (status(a), status(b));
            assert_eq!(go_equal(&a, &b), equal, "{a:?} {b:?}");
            let json_equal = merge_patch(&go_status_json(&a), &go_status_json(&b)).is_none();
            assert_eq!(json_equal, equal, "{a:?} {b:?}");
            assert_eq!(status_patch(&a, &b).is_none(), equal);
        }
    }
}
