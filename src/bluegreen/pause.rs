//! The blue-green pause (Argo's `reconcileBlueGreenPause`, `needsBlueGreenControllerPause`,
//! `CompletedBlueGreenPause` and `completedPrePromotionAnalysis`).
//!
//! With `autoPromotionEnabled: false` the controller adds a `BlueGreenPause` condition once the
//! new ReplicaSet is ready, and a human resumes by clearing `status.pauseConditions` (the
//! controller sees `controllerPause` still true with no condition). With `autoPromotionSeconds`
//! the controller removes the condition itself once that many seconds have passed since it was
//! added. Otherwise there is no pause at all.

use chrono::Duration;

use super::{
    replicas::ready_for_pause,
    services::{Services, is_fast_tracked},
};
use crate::{
    crd::{PauseReason, RolloutStatus},
    reconcile::{Ctx, pause_condition, pod_hash},
    replicaset::rs,
    status::to_utc,
};

fn auto_promotion_seconds(c: &Ctx) -> i32 {
    c.rollout
        .spec
        .strategy
        .blue_green
        .as_ref()
        .and_then(|bg| bg.auto_promotion_seconds)
        .unwrap_or(0)
}

pub(super) fn scale_up_preview_check_point(status: &RolloutStatus) -> bool {
    status
        .blue_green
        .as_ref()
        .and_then(|bg| bg.scale_up_preview_check_point)
        == Some(true)
}

/// Argo's `needsBlueGreenControllerPause`: the controller manages a pause only with
/// `autoPromotionEnabled: false` or a positive `autoPromotionSeconds`.
fn needs_controller_pause(c: &Ctx) -> bool {
    !rs::auto_promotion_enabled(&c.rollout) || auto_promotion_seconds(c) > 0
}

/// Argo's `completedPrePromotionAnalysis`: true without `prePromotionAnalysis`, else once the
/// current pre-promotion run is Successful.
pub(super) fn completed_pre_promotion_analysis(c: &Ctx) -> bool {
    let none = c
        .rollout
        .spec
        .strategy
        .blue_green
        .as_ref()
        .is_none_or(|bg| bg.pre_promotion_analysis.is_none());
    none || crate::reconcile::analysis::succeeded(c.current_ars.pre.as_deref())
}

/// Argo's `CompletedBlueGreenPause`: not in the reconcile that adds a pause; done once the
/// preview checkpoint is passed; with auto-promotion, done at once without
/// `autoPromotionSeconds`, else strictly after that many seconds from the pause start (never
/// without a pause condition); without auto-promotion, done once a human cleared the condition
/// (`controllerPause` true, no `BlueGreenPause`).
pub(super) fn completed_blue_green_pause(c: &Ctx) -> bool {
    let status = c.status();
    let condition = pause_condition(status, &PauseReason::BlueGreenPause);
    if c.pause.has_add_pause() {
        return false;
    }
    if scale_up_preview_check_point(status) {
        return true;
    }
    if rs::auto_promotion_enabled(&c.rollout) {
        let seconds = auto_promotion_seconds(c);
        if seconds == 0 {
            return true;
        }
        return condition.is_some_and(|cond| {
            c.now > to_utc(&cond.start_time) + Duration::seconds(i64::from(seconds))
        });
    }
    status.controller_pause == Some(true) && condition.is_none()
}

/// Argo's `checkEnqueueRolloutDuringWait`: look again when a pause of `seconds` that started at
/// `start` ends, if that is in the future and before the next resync.
fn requeue_at_pause_end(c: &mut Ctx, start: chrono::DateTime<chrono::Utc>, seconds: i32) {
    let end = start + Duration::seconds(i64::from(seconds));
    if end > c.now
        && let Ok(remaining) = (end - c.now).to_std()
        && remaining < c.obs.config.resync
    {
        c.plan.requeue(remaining);
    }
}

/// Argo's `reconcileBlueGreenPause`: pause or resume once the new ReplicaSet is ready, unless
/// aborted, halted, fast-tracked, already active, past the preview checkpoint, or configured
/// without a controller pause (in those cases a leftover `BlueGreenPause` is removed).
pub(super) fn reconcile_pause(c: &mut Ctx, services: &Services) {
    if c.status().abort == Some(true) {
        return;
    }
    if !ready_for_pause(c) || c.halt_progress() {
        return;
    }
    let new_hash = c.new_rs().map(|rs| pod_hash(rs).to_string());
    if is_fast_tracked(c, &services.active)
        || services.active.hash == new_hash
        || scale_up_preview_check_point(c.status())
        || !needs_controller_pause(c)
    {
        c.pause.remove_pause_condition(PauseReason::BlueGreenPause);
        return;
    }
    if !completed_pre_promotion_analysis(c) {
        return;
    }
    let seconds = auto_promotion_seconds(c);
    match pause_condition(c.status(), &PauseReason::BlueGreenPause) {
        Some(condition) => {
            let start = to_utc(&condition.start_time);
            if completed_blue_green_pause(c) {
                c.pause.remove_pause_condition(PauseReason::BlueGreenPause);
            } else if seconds > 0 {
                requeue_at_pause_end(c, start, seconds);
            }
        }
        None => {
            // No condition but controllerPause: a human resumed (e.g. `kubectl argo rollouts
            // promote`); the active switch takes it from here.
            if c.status().controller_pause != Some(true) {
                c.pause.add_pause_condition(PauseReason::BlueGreenPause);
                // The pause starts now. Argo schedules its end on the reconcile its own status
                // write triggers; scheduling it here does not depend on that write being seen.
                if seconds > 0 {
                    requeue_at_pause_end(c, c.now, seconds);
                }
            }
        }
    }
}
