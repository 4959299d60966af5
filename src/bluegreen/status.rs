//! The blue-green status (Argo's `syncRolloutStatusBlueGreen`, the blue-green branch of
//! `shouldFullPromote`, `promoteStable`, `calculateScaleUpPreviewCheckPoint` and
//! `resetRolloutStatus`).
//!
//! `blueGreen.activeSelector`/`previewSelector` are read back from the Services (as this
//! reconcile left them), and `HPAReplicas`, `selector`, `availableReplicas` and `readyReplicas`
//! describe the active ReplicaSet (the one the HPA should scale on), or every ReplicaSet while no
//! Service selects one.

use super::{
    pause::{completed_blue_green_pause, completed_pre_promotion_analysis},
    services::Services,
};
use crate::{
    canary::plan::format_label_selector,
    crd::{BlueGreenStatus, RolloutStatus},
    plan::EventIntent,
    reconcile::{Ctx, available, canary_mut, has_scale_down_deadline, name, ready, text},
    replicaset::rs,
    status::conditions::{self as cond},
};

fn blue_green_mut(status: &mut RolloutStatus) -> &mut BlueGreenStatus {
    status
        .blue_green
        .get_or_insert_with(BlueGreenStatus::default)
}

/// Argo's `syncRolloutStatusBlueGreen`.
pub(super) fn sync_rollout_status(c: &mut Ctx, services: &Services) {
    let mut new_status = c.calculate_base_status();
    new_status.stable_rs = c.status().stable_rs.clone();
    if super::pod_spec_changed(c) {
        reset_rollout_status(c, &mut new_status);
    }
    if c.status().promote_full == Some(true) || c.is_rollback_within_window() {
        c.pause.clear_pause_conditions();
        c.pause.remove_abort();
    }
    {
        let bg = blue_green_mut(&mut new_status);
        bg.preview_selector = Some(
            services
                .preview
                .as_ref()
                .map_or("", |p| p.selector())
                .to_string(),
        );
        bg.active_selector = Some(services.active.selector().to_string());
    }
    match should_full_promote(c, &new_status) {
        Some(reason) => promote_stable(c, &mut new_status, &reason),
        None => {
            let check_point = calculate_scale_up_preview_check_point(c);
            blue_green_mut(&mut new_status).scale_up_preview_check_point = Some(check_point);
        }
    }

    let active = blue_green_mut(&mut new_status)
        .active_selector
        .clone()
        .unwrap_or_default();
    match c.replica_set_by_hash(&active) {
        Some(i) => {
            let rs = c.rs(i);
            new_status.hpa_replicas = Some(rs::status_replicas(rs));
            new_status.selector =
                Some(format_label_selector(rs.spec.as_ref().map(|s| &s.selector)));
            new_status.available_replicas = Some(available(rs));
            new_status.ready_replicas = Some(ready(rs));
        }
        None => {
            // No active ReplicaSet: count everything the rollout's selector selects
            // (`readyReplicas` is already that sum).
            new_status.hpa_replicas = Some(c.sum_status_replicas());
            new_status.selector = Some(format_label_selector(c.rollout.spec.selector.as_ref()));
            new_status.available_replicas = Some(c.all_rss().map(available).sum());
        }
    }

    let new_status = c.calculate_rollout_conditions(new_status);
    c.persist_rollout_status(new_status);
}

/// Argo's `resetRolloutStatus`: a new update starts from scratch. (`restartedAt` is not part of
/// this write: Argo sets it on its context after the status was copied.)
fn reset_rollout_status(c: &mut Ctx, new_status: &mut RolloutStatus) {
    c.pause.clear_pause_conditions();
    c.pause.remove_abort();
    new_status.promote_full = Some(false);
    {
        let bg = blue_green_mut(new_status);
        bg.pre_promotion_analysis_run_status = None;
        bg.post_promotion_analysis_run_status = None;
        bg.scale_up_preview_check_point = None;
    }
    let canary = canary_mut(new_status);
    canary.current_step_analysis_run_status = None;
    canary.current_background_analysis_run_status = None;
    canary.step_plugin_statuses = None;
    new_status.current_step_index = None;
}

/// Argo's `shouldFullPromote`, blue-green part: why the new ReplicaSet becomes stable now, if it
/// does. The active selector is the one this reconcile left on the Service.
fn should_full_promote(c: &Ctx, new_status: &RolloutStatus) -> Option<String> {
    if c.stable_rs.is_none() {
        return Some("Initial deploy".to_string());
    }
    let active = new_status
        .blue_green
        .as_ref()
        .map_or("", |bg| text(&bg.active_selector));
    if active.is_empty() {
        // The active Service only moves once there is a stable ReplicaSet: promote first.
        return Some("Initial deploy".to_string());
    }
    if active != text(&new_status.current_pod_hash) {
        return None;
    }
    // (ALB target-group verification is not implemented: targets count as verified.)
    if c.status().promote_full == Some(true) {
        return Some("Full promotion requested".to_string());
    }
    if c.is_rollback_within_window() {
        return Some("Rollback within window".to_string());
    }
    if c.pause.is_aborted(c.status()) {
        return None;
    }
    let post_promotion = c
        .rollout
        .spec
        .strategy
        .blue_green
        .as_ref()
        .is_some_and(|bg| bg.post_promotion_analysis.is_some());
    if post_promotion {
        // A rollback to a ReplicaSet inside its scale-down delay skips the analysis; otherwise
        // the post-promotion run must have succeeded.
        let new_rs = c.new_rs()?;
        if has_scale_down_deadline(new_rs) {
            return Some(format!(
                "Rollback to '{}' within scaleDownDelay",
                name(new_rs)
            ));
        }
        if !crate::reconcile::analysis::succeeded(c.current_ars.post.as_deref()) {
            return None;
        }
    }
    Some("Completed blue-green update".to_string())
}

/// Argo's `promoteStable` for blue-green: pauses and abort cleared, no full promotion pending,
/// the preview checkpoint reset, and (only when the stable hash actually changes) `stableRS`
/// moves to the current hash with a `RolloutCompleted` event.
fn promote_stable(c: &mut Ctx, new_status: &mut RolloutStatus, reason: &str) {
    c.pause.clear_pause_conditions();
    c.pause.remove_abort();
    new_status.promote_full = Some(false);
    blue_green_mut(new_status).scale_up_preview_check_point = Some(false);
    let current = text(&new_status.current_pod_hash).to_string();
    if text(&new_status.stable_rs) != current {
        new_status.stable_rs = Some(current.clone());
        let message = cond::rollout_completed_message(c.revision(), &current, reason);
        c.plan
            .event(EventIntent::normal(cond::ROLLOUT_COMPLETED_REASON, message));
    }
}

/// Argo's `calculateScaleUpPreviewCheckPoint`: with `previewReplicaCount`, a one-way trip wire
/// (until the next promotion or template change) set once the pause is over and the preview
/// ReplicaSet has exactly `previewReplicaCount` available pods; the new ReplicaSet then grows
/// to `spec.replicas` before the active switch.
fn calculate_scale_up_preview_check_point(c: &Ctx) -> bool {
    let Some(preview_count) = c
        .rollout
        .spec
        .strategy
        .blue_green
        .as_ref()
        .and_then(|bg| bg.preview_replica_count)
    else {
        return false;
    };
    if super::pause::scale_up_preview_check_point(c.status()) {
        return true;
    }
    if !completed_pre_promotion_analysis(c) || !completed_blue_green_pause(c) {
        return false;
    }
    preview_count == c.new_rs().map_or(0, available)
}
