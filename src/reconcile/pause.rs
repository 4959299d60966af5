//! Pause and abort bookkeeping (Argo's `rollout/pause.go`).
//!
//! During a reconcile the planner never edits `status.pauseConditions` or `status.abort` directly:
//! it records *intents* here (add a pause reason, remove one, clear all, raise or drop the abort),
//! and [`PauseContext::apply`] turns them into the new status at persist time. This is how Argo
//! keeps the user-owned parts of the status (the plugin and Argo CD clear `pauseConditions` and
//! write `abort`) from being overwritten by a stale in-memory copy: only an explicit intent
//! changes them.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{Ctx, status::is_paused};
use crate::{
    crd::{PauseCondition, PauseReason, RolloutPause, RolloutStatus, condition},
    status::{
        conditions::{
            self as cond, CONDITION_UNKNOWN, ROLLOUT_ABORTED_REASON, ROLLOUT_PAUSED_REASON,
            ROLLOUT_RESUMED_REASON, ROLLOUT_RETRY_REASON, get_condition,
        },
        k8s_time, to_utc,
    },
    validation::pause_duration_seconds,
};

/// What this reconcile wants to change about pausing and aborting.
#[derive(Clone, Debug, Default)]
pub(crate) struct PauseContext {
    add_pause_reasons: Vec<PauseReason>,
    remove_pause_reasons: Vec<PauseReason>,
    clear_pause_conditions: bool,
    add_abort: bool,
    remove_abort: bool,
    /// Detail appended to the `RolloutAborted` condition message when the abort is raised by this
    /// reconcile (e.g. the progress-deadline text).
    pub(crate) abort_message: String,
}

impl PauseContext {
    /// Whether the rollout counts as aborted: the persisted flag, unless this reconcile removed it,
    /// or an abort raised by this reconcile.
    pub(crate) fn is_aborted(&self, status: &RolloutStatus) -> bool {
        if self.remove_abort {
            return false;
        }
        self.add_abort || status.abort == Some(true)
    }

    pub(crate) fn add_abort(&mut self, message: impl Into<String>) {
        self.add_abort = true;
        self.abort_message = message.into();
    }

    pub(crate) fn remove_abort(&mut self) {
        self.remove_abort = true;
    }

    pub(crate) fn add_pause_condition(&mut self, reason: PauseReason) {
        self.add_pause_reasons.push(reason);
    }

    pub(crate) fn remove_pause_condition(&mut self, reason: PauseReason) {
        self.remove_pause_reasons.push(reason);
    }

    pub(crate) fn clear_pause_conditions(&mut self) {
        self.clear_pause_conditions = true;
    }

    /// Whether this reconcile adds a pause condition (Argo's `HasAddPause`): a pause that starts
    /// now cannot have completed yet.
    pub(crate) fn has_add_pause(&self) -> bool {
        !self.add_pause_reasons.is_empty()
    }

    /// Argo's `CalculatePauseStatus`: writes `abort`, `abortedAt`, `pauseConditions` and
    /// `controllerPause` of `new_status` from the persisted status `prev` and the intents.
    ///
    /// - Aborted: `abort: true`, `abortedAt` kept from `prev` (a fresh timestamp every reconcile
    ///   would be a hot loop) or `now`; pause conditions are left as `new_status` has them (the
    ///   canary status is built from scratch, so an abort drops every pause).
    /// - Otherwise `abort`/`abortedAt` are cleared; "clear" leaves no pause condition; else the
    ///   persisted conditions minus the removed reasons plus the added ones (a reason is never
    ///   duplicated, and a reason both removed and re-added stays removed, as in Argo).
    ///   `controllerPause` becomes true when a reason is added, keeps its persisted value while
    ///   conditions remain, and is left unset (false) once none remain.
    pub(crate) fn apply(
        &self,
        prev: &RolloutStatus,
        new_status: &mut RolloutStatus,
        now: DateTime<Utc>,
    ) {
        if self.add_abort || (!self.remove_abort && prev.abort == Some(true)) {
            new_status.abort = Some(true);
            new_status.aborted_at = Some(prev.aborted_at.clone().unwrap_or_else(|| k8s_time(now)));
            return;
        }
        new_status.abort = None;
        new_status.aborted_at = None;
        if self.clear_pause_conditions {
            return;
        }

        let mut controller_pause = prev.controller_pause == Some(true);
        let persisted = prev.pause_conditions.as_deref().unwrap_or(&[]);
        let mut conditions: Vec<PauseCondition> = persisted
            .iter()
            .filter(|c| !self.remove_pause_reasons.contains(&c.reason))
            .cloned()
            .collect();
        for reason in &self.add_pause_reasons {
            let exists = persisted
                .iter()
                .chain(conditions.iter())
                .any(|c| &c.reason == reason);
            if !exists {
                conditions.push(PauseCondition {
                    reason: reason.clone(),
                    start_time: k8s_time(now),
                });
                controller_pause = true;
            }
        }
        if conditions.is_empty() {
            return;
        }
        new_status.controller_pause = Some(controller_pause);
        new_status.pause_conditions = Some(conditions);
    }
}

/// The persisted pause condition with this reason.
pub(crate) fn pause_condition<'a>(
    status: &'a RolloutStatus,
    reason: &PauseReason,
) -> Option<&'a PauseCondition> {
    status
        .pause_conditions
        .as_deref()?
        .iter()
        .find(|c| &c.reason == reason)
}

/// When a timed pause that started at `start` ends.
pub(crate) fn pause_end(start: &Time, pause: &RolloutPause) -> DateTime<Utc> {
    to_utc(start) + chrono::Duration::seconds(i64::from(pause_duration_seconds(pause)))
}

/// Argo's `CompletedCanaryPauseStep`: the controller paused (`controllerPause`) and the
/// `CanaryPauseStep` condition is gone (someone resumed it, or another pause reason holds
/// `controllerPause` so none was ever added), or the timed pause has run out (strictly after the
/// end, like Go's `After`).
pub(crate) fn completed_canary_pause_step(
    status: &RolloutStatus,
    pause: &RolloutPause,
    now: DateTime<Utc>,
) -> bool {
    let condition = pause_condition(status, &PauseReason::CanaryPauseStep);
    match condition {
        None => status.controller_pause == Some(true),
        Some(c) => pause.duration.is_some() && now > pause_end(&c.start_time, pause),
    }
}

impl Ctx<'_> {
    /// Argo's `haltProgress`: `spec.paused` or an `InconclusiveAnalysisRun` pause holds back the
    /// parts of a reconcile that move an update forward (canary scaling, the blue-green Service
    /// switches and pause handling), judged on the persisted status.
    pub(crate) fn halt_progress(&self) -> bool {
        self.rollout.spec.paused == Some(true)
            || pause_condition(self.status(), &PauseReason::InconclusiveAnalysis).is_some()
    }

    /// Argo's `checkPausedConditions`, run on every reconcile: keeps the Progressing condition
    /// (`RolloutPaused`/`RolloutResumed`/`RolloutRetry`, status Unknown) and the `Paused`
    /// condition in line with `spec.paused || pauseConditions` and the abort flag. Any change
    /// is written at once with its own status patch; the reconcile then carries on with the
    /// status as it was, so one reconcile can write the status twice.
    ///
    /// Progressing is not touched while an abort condition holds it or once the rollout is
    /// complete; `Paused` not while aborted.
    pub(crate) fn check_paused_conditions(&mut self) {
        let status = self.status();
        let progressing = get_condition(status, condition::PROGRESSING);
        let progressing_paused = progressing.is_some_and(|c| c.reason == ROLLOUT_PAUSED_REASON);
        let aborted_condition = progressing.is_some_and(|c| c.reason == ROLLOUT_ABORTED_REASON);
        let is_paused = is_paused(&self.rollout, status);

        let mut updates = Vec::new();
        if is_paused != progressing_paused && !aborted_condition && !cond::rollout_completed(status)
        {
            let (reason, message) = if is_paused {
                (ROLLOUT_PAUSED_REASON, cond::ROLLOUT_PAUSED_MESSAGE)
            } else {
                (ROLLOUT_RESUMED_REASON, cond::ROLLOUT_RESUMED_MESSAGE)
            };
            updates.push(cond::new_condition(
                condition::PROGRESSING,
                CONDITION_UNKNOWN,
                reason,
                message,
                self.now,
            ));
        }
        if status.abort != Some(true) && aborted_condition {
            updates.push(cond::new_condition(
                condition::PROGRESSING,
                CONDITION_UNKNOWN,
                ROLLOUT_RETRY_REASON,
                cond::ROLLOUT_RETRY_MESSAGE,
                self.now,
            ));
        }
        let paused_true = cond::is_condition_true(status, condition::PAUSED);
        if is_paused != paused_true && !aborted_condition {
            updates.push(cond::paused_condition(is_paused, self.now));
        }
        if updates.is_empty() {
            return;
        }
        let status = status.clone();
        self.patch_condition(&status, status.clone(), updates);
    }
}
