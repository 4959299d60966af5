//! The canary strategy of one reconcile (Argo's `rollout/canary.go` and the canary parts of
//! `sync.go` and `replicaset.go`), without traffic routing.
//!
//! Order of a canary reconcile:
//!
//! 1. Template or steps changed (including the very first reconcile, whose step hash is still
//!    empty): reset the status (step 0, pauses and abort cleared; a rollback to the stable
//!    template skips every step) and persist **only** that. Scaling starts on the next pass.
//! 2. Pod restarts (`spec.restartAt`); if any pod is evicted, stop: availability is stale.
//! 3. Ephemeral metadata (`canaryMetadata`/`stableMetadata` on the ReplicaSets and their pods),
//!    revision-history cleanup, then the stable/canary Service selectors.
//! 4. ReplicaSet scaling: stable first, then new, then the others, stopping after the first
//!    ReplicaSet whose size changes (the next reconcile sees fresh availability).
//! 5. When nothing was scaled: the pause step (adds `CanaryPauseStep`, schedules the end of a
//!    timed pause).
//! 6. Status: full promotion, abort, or step advance, then conditions, phase, and one merge patch.
//!
//! The replica math is in [`super::replicas`]; this file only gathers its inputs from the
//! snapshot. Analysis runs (inline steps and background) are reconciled after the Services
//! ([`crate::reconcile::analysis`]): an inconclusive run pauses the rollout at once, a failed one
//! aborts it. Experiments, traffic routing and step plugins are refused up front by the
//! reconcile's validation gate, so nothing here skips them silently.

use k8s_openapi::{api::apps::v1::ReplicaSet, apimachinery::pkg::apis::meta::v1::LabelSelector};

use super::{
    intstr::Fenceposts,
    replicas::{
        self, CanaryReplicaInput, OtherRs, ProgressThresholdKind, ReplicaProgressThreshold,
        RsCounts, StableRs, WeightInput,
    },
};
use crate::{
    crd::{CanaryStep, CanaryStrategy, PauseReason, ProgressType, RolloutStatus},
    plan::EventIntent,
    reconcile::{
        Ctx, available, canary_mut, completed_canary_pause_step, is_active, pause_condition,
        pause_end, pod_hash, spec_replicas, status_replicas, text,
    },
    status::{
        conditions::{self as cond, ROLLOUT_STEP_COMPLETED_REASON},
        k8s_time, to_utc,
    },
};

/// Event reason when a rollback skips the remaining steps.
pub const SKIP_STEPS_REASON: &str = "SkipSteps";
/// `SkipSteps` message for a rollback to the stable template.
pub const ROLLBACK_TO_STABLE_MESSAGE: &str = "Rollback to stable ReplicaSets";
/// `SkipSteps` message for a rollback within `rollbackWindow`.
pub const ROLLBACK_WITHIN_WINDOW_MESSAGE: &str =
    "Rollback to active ReplicaSets within RollbackWindow";

/// Kubernetes' `metav1.FormatLabelSelector` (`status.selector`, read by the HPA): requirements
/// sorted by key, `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; `<none>` when empty.
pub fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    let Some(selector) = selector else {
        return "<none>".to_string();
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        requirements.push((k.clone(), format!("{k}={v}")));
    }
    for expr in selector.match_expressions.iter().flatten() {
        let mut values = expr.values.clone().unwrap_or_default();
        values.sort();
        let key = &expr.key;
        let text = match expr.operator.as_str() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            _ => return "<error>".to_string(),
        };
        requirements.push((key.clone(), text));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    let joined = requirements
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",");
    if joined.is_empty() {
        "<none>".to_string()
    } else {
        joined
    }
}

fn counts(rs: &ReplicaSet) -> RsCounts {
    RsCounts {
        spec_replicas: spec_replicas(rs),
        status_replicas: status_replicas(rs),
        available_replicas: available(rs),
    }
}

fn replica_step(step: &CanaryStep) -> replicas::CanaryStep {
    replicas::CanaryStep {
        set_weight: step.set_weight,
        set_canary_scale: step
            .set_canary_scale
            .as_ref()
            .map(|s| replicas::SetCanaryScale {
                weight: s.weight,
                replicas: s.replicas,
                match_traffic_weight: s.match_traffic_weight == Some(true),
            }),
        pause: step.pause.is_some(),
    }
}

/// `canary.replicaProgressThreshold` for the replica math (an unknown type counts pods, as in
/// Argo, where anything but `Percent` takes the pods branch).
fn progress_threshold(c: &Ctx) -> Option<ReplicaProgressThreshold> {
    let threshold = c
        .rollout
        .spec
        .strategy
        .canary
        .as_ref()?
        .replica_progress_threshold
        .as_ref()?;
    let kind = match threshold.type_ {
        ProgressType::Percentage => ProgressThresholdKind::Percent,
        _ => ProgressThresholdKind::Pods,
    };
    Some(ReplicaProgressThreshold {
        kind,
        value: threshold.value,
    })
}

/// The inputs of the replica math, read as Argo reads them: the step index, hashes, abort and
/// promoteFull of the **persisted** status, the ReplicaSets as observed.
fn replica_input(c: &Ctx) -> CanaryReplicaInput {
    let default = CanaryStrategy::default();
    let canary = c.rollout.spec.strategy.canary.as_ref().unwrap_or(&default);
    let replicas = c.rollout.desired_replicas();
    let fenceposts = Fenceposts::resolve_canary(
        canary.max_surge.as_ref(),
        canary.max_unavailable.as_ref(),
        replicas,
    )
    .unwrap_or_default();
    let status = c.status();
    let steps: Vec<replicas::CanaryStep> = c.rollout.steps().iter().map(replica_step).collect();
    let new_counts = c.new_rs().map(counts);
    let stable = match (c.stable_rs, c.new_rs) {
        (None, _) => StableRs::Missing,
        (Some(s), Some(n)) if s == n => StableRs::SameAsCanary,
        (Some(s), _) => StableRs::Distinct(counts(c.rs(s))),
    };
    let max_weight = crate::status::phase::max_traffic_weight(&c.rollout);
    let weight_input = WeightInput {
        steps: &steps,
        current_step_index: status.current_step_index,
        stable_rs: text(&status.stable_rs),
        current_pod_hash: text(&status.current_pod_hash),
        promote_full: status.promote_full == Some(true),
        abort: status.abort == Some(true),
        traffic_routing: canary.traffic_routing.is_some(),
        abort_scale_down_delay_seconds: canary.abort_scale_down_delay_seconds,
        dynamic_stable_scale: canary.dynamic_stable_scale == Some(true),
        max_weight,
        replicas,
        canary_available: new_counts.map(|c| c.available_replicas),
        stable_available: c.stable().map(available),
    };
    let desired = replicas::desired_canary(&weight_input);
    let others = c
        .other_rss
        .iter()
        .map(|&i| {
            let rs = c.rs(i);
            OtherRs {
                name: rs.metadata.name.clone().unwrap_or_default(),
                revision: rs
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(crate::crd::rollout::keys::REVISION))
                    .and_then(|r| r.parse().ok()),
                created_unix: rs
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map_or(i64::MIN, |t| to_utc(t).timestamp()),
                counts: counts(rs),
            }
        })
        .collect();
    CanaryReplicaInput {
        replicas,
        fenceposts,
        canary: new_counts,
        stable,
        others,
        desired,
        max_weight,
        traffic_routing: canary.traffic_routing.is_some(),
        dynamic_stable_scale: canary.dynamic_stable_scale == Some(true),
        min_pods_per_replica_set: canary.min_pods_per_replica_set,
        abort: status.abort == Some(true),
        previous_weights: None,
        current_weights: None,
    }
}

/// The index Argo reads from the persisted status, clamped into `[0, len(steps)]`: Argo would
/// index out of range on a negative value and get stuck past the end; a hand-written index must
/// not do either here.
pub(crate) fn persisted_step_index(c: &Ctx) -> Option<i32> {
    let steps = c.rollout.steps().len();
    if steps == 0 {
        return None;
    }
    let index = c.status().current_step_index.unwrap_or(0);
    Some(index.clamp(0, i32::try_from(steps).unwrap_or(i32::MAX)))
}

pub(crate) fn current_step(c: &Ctx) -> Option<CanaryStep> {
    let index = usize::try_from(persisted_step_index(c)?).ok()?;
    c.rollout.steps().get(index).cloned()
}

/// Argo's `PodTemplateOrStepsChanged`: the step hash is missing or differs (so the first
/// reconcile of every canary takes this path), or the recorded pod hash differs from the new
/// ReplicaSet's.
fn pod_template_or_steps_changed(c: &Ctx) -> bool {
    let status = c.status();
    let recorded_steps = text(&status.current_step_hash);
    if recorded_steps.is_empty() || recorded_steps != c.step_hash() {
        return true;
    }
    let recorded_pods = text(&status.current_pod_hash);
    !recorded_pods.is_empty() && recorded_pods != c.current_pod_hash()
}

/// Argo's `haltProgress`: `spec.paused` or an inconclusive analysis pause freezes canary scaling.
fn halt_progress(c: &Ctx) -> bool {
    c.rollout.spec.paused == Some(true)
        || pause_condition(c.status(), &PauseReason::InconclusiveAnalysis).is_some()
}

/// Argo's `rolloutCanary`.
pub(crate) fn rollout_canary(c: &mut Ctx) {
    if pod_template_or_steps_changed(c) {
        c.sync_replica_set_revision();
        sync_rollout_status_canary(c);
        return;
    }
    c.sync_replica_set_revision();
    if c.reconcile_pod_restarts() > 0 {
        return;
    }
    c.reconcile_ephemeral_metadata();
    c.reconcile_revision_history_limit();
    c.reconcile_stable_and_canary_service();
    let analysis = c.reconcile_analysis_runs();
    if c.pause.has_add_pause() {
        // An inconclusive run paused the rollout: record that, nothing else.
        sync_rollout_status_canary(c);
        return;
    }
    if let Err(error) = analysis {
        c.plan.error = Some(error);
        return;
    }
    let scaled = reconcile_canary_replica_sets(c);
    if !scaled {
        reconcile_canary_pause(c);
    }
    sync_rollout_status_canary(c);
}

/// Argo's `syncReplicasOnly`, canary part: rescale and refresh the counts of the persisted
/// status; no step, pause or Service logic.
pub(crate) fn sync_replicas_only(c: &mut Ctx) {
    let mut new_status = c.status().clone();
    reconcile_canary_replica_sets(c);
    new_status.available_replicas = Some(c.all_rss().map(available).sum());
    new_status.hpa_replicas = Some(c.sum_status_replicas());
    c.persist_rollout_status(new_status);
}

/// Argo's `reconcileCanaryReplicaSets`: returns whether a ReplicaSet changed size (the
/// reconcile then skips the pause step; the next one continues).
fn reconcile_canary_replica_sets(c: &mut Ctx) -> bool {
    if halt_progress(c) {
        return false;
    }
    // Moving back to a ReplicaSet still waiting on its scale-down delay: it is wanted again.
    let mut deadlines_to_remove = Vec::new();
    if let Some(n) = c.new_rs
        && !c.should_delay_scale_down_on_abort()
    {
        deadlines_to_remove.push(n);
    }
    if let Some(s) = c.stable_rs
        && (deadlines_to_remove.is_empty() || Some(s) != c.new_rs)
    {
        deadlines_to_remove.push(s);
    }
    for rs in deadlines_to_remove {
        c.remove_scale_down_deadline(rs);
    }

    let input = replica_input(c);
    let targets = replicas::basic_canary_counts(&input);
    if let (Some(s), StableRs::Distinct(_)) = (c.stable_rs, input.stable)
        && c.scale_replica_set(s, targets.stable)
    {
        return true;
    }
    if let Some(n) = c.new_rs
        && c.scale_replica_set(n, targets.canary)
    {
        return true;
    }
    scale_down_other_replica_sets(c, &input)
}

/// Argo's `reconcileOtherReplicaSets` + `scaleDownOldReplicaSetsForCanary` without traffic
/// routing: every pod of an older ReplicaSet receives traffic, so they are drained completely,
/// unhealthy pods first (oldest ReplicaSet first), then newest revision first within the
/// availability budget. Targets come from [`replicas::other_replica_set_targets`]; this keeps
/// Argo's two passes only to record the same `ScalingReplicaSet` events.
fn scale_down_other_replica_sets(c: &mut Ctx, input: &CanaryReplicaInput) -> bool {
    let active_pods: i32 = c
        .other_rss
        .iter()
        .map(|&i| c.rs(i))
        .filter(|rs| is_active(rs))
        .map(spec_replicas)
        .sum();
    if active_pods == 0 {
        return false;
    }
    let finals = replicas::other_replica_set_targets(input);

    // Pass 1: unhealthy pods, oldest first. Argo gives up (reporting no scaling) at a
    // ReplicaSet with more available pods than it wants.
    let mut by_creation: Vec<usize> = (0..input.others.len()).collect();
    by_creation.sort_by(|&a, &b| {
        let (a, b) = (&input.others[a], &input.others[b]);
        a.created_unix
            .cmp(&b.created_unix)
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut after_cleanup: Vec<i32> = input
        .others
        .iter()
        .map(|o| o.counts.spec_replicas)
        .collect();
    let mut gave_up = false;
    for &k in &by_creation {
        let counts = input.others[k].counts;
        if counts.spec_replicas <= 0 || counts.spec_replicas == counts.available_replicas {
            continue;
        }
        if counts.available_replicas > counts.spec_replicas {
            gave_up = true;
            break;
        }
        after_cleanup[k] = counts.available_replicas;
    }
    let mut scaled_down = 0;
    for &k in &by_creation {
        if after_cleanup[k] != input.others[k].counts.spec_replicas {
            c.scale_replica_set(c.other_rss[k], after_cleanup[k]);
            scaled_down += input.others[k].counts.spec_replicas - after_cleanup[k];
        }
    }
    if gave_up {
        return false;
    }

    // Pass 2: the availability budget, newest revision first.
    let mut newest_first: Vec<usize> = (0..input.others.len()).collect();
    newest_first.sort_by(|&a, &b| {
        let (a, b) = (&input.others[a], &input.others[b]);
        b.revision
            .cmp(&a.revision)
            .then_with(|| b.created_unix.cmp(&a.created_unix))
            .then_with(|| b.name.cmp(&a.name))
    });
    for k in newest_first {
        if finals[k] != after_cleanup[k] {
            c.scale_replica_set(c.other_rss[k], finals[k]);
            scaled_down += after_cleanup[k] - finals[k];
        }
    }
    scaled_down > 0
}

/// Argo's `reconcileCanaryPause`: at a pause step, add the `CanaryPauseStep` condition (unless
/// the controller already holds a pause, which then reads as "resumed"), and look again when a
/// timed pause ends, if that is before the next resync.
fn reconcile_canary_pause(c: &mut Ctx) {
    if c.rollout.spec.paused == Some(true) || c.status().promote_full == Some(true) {
        return;
    }
    let Some(step) = current_step(c) else {
        return;
    };
    let Some(pause) = step.pause else {
        return;
    };
    let start = match pause_condition(c.status(), &PauseReason::CanaryPauseStep) {
        Some(condition) => condition.start_time.clone(),
        None => {
            if c.status().controller_pause == Some(true) {
                return;
            }
            // The condition starts now. Argo schedules the end on the reconcile its own status
            // write triggers; scheduling it here does not depend on that write being seen.
            c.pause.add_pause_condition(PauseReason::CanaryPauseStep);
            k8s_time(c.now)
        }
    };
    if pause.duration.is_none() {
        return;
    }
    let end = pause_end(&start, &pause);
    if end > c.now
        && let Ok(remaining) = (end - c.now).to_std()
        && remaining < c.obs.config.resync
    {
        c.plan.requeue(remaining);
    }
}

/// Argo's `completedCurrentCanaryStep` (never while `spec.paused`). Step kinds are judged in
/// Argo's order: pause, setCanaryScale, setWeight, then the kinds this planner refuses up front.
fn completed_current_canary_step(c: &Ctx) -> bool {
    if c.rollout.spec.paused == Some(true) {
        return false;
    }
    let Some(step) = current_step(c) else {
        return false;
    };
    if let Some(pause) = &step.pause {
        return completed_canary_pause_step(c.status(), pause, c.now);
    }
    if step.set_canary_scale.is_some() || step.set_weight.is_some() {
        let input = replica_input(c);
        let at_desired = replicas::at_desired_replica_counts(&input, progress_threshold(c));
        let unverified = step.set_canary_scale.is_none()
            && c.new_status
                .canary
                .as_ref()
                .and_then(|s| s.weights.as_ref())
                .and_then(|w| w.verified)
                == Some(false);
        return at_desired && !unverified;
    }
    if step.experiment.is_some() {
        // Refused by the validation gate; Argo waits for a Successful experiment.
        return false;
    }
    if step.analysis.is_some() {
        return crate::reconcile::analysis::succeeded(c.current_ars.step.as_deref());
    }
    step.set_header_route.is_some() || step.set_mirror_route.is_some()
}

/// Argo's `shouldFullPromote`, canary part: why the new ReplicaSet becomes stable now, if it does.
fn should_full_promote(c: &Ctx) -> Option<String> {
    let Some(_) = c.stable_rs else {
        return Some("Initial deploy".to_string());
    };
    if c.pause.is_aborted(c.status()) {
        return None;
    }
    let replicas = c.rollout.desired_replicas();
    let new_rs = c.new_rs()?;
    if available(new_rs) < replicas
        && !replicas::replica_progress_threshold_met(
            progress_threshold(c),
            Some(counts(new_rs)),
            replicas,
        )
    {
        return None;
    }
    if c.status().promote_full == Some(true) {
        return Some("Full promotion requested".to_string());
    }
    if c.is_rollback_within_window() {
        return Some("Rollback within window".to_string());
    }
    let step_count = c.rollout.steps().len();
    let at_end =
        persisted_step_index(c).is_some_and(|i| usize::try_from(i).ok() == Some(step_count));
    (step_count == 0 || at_end).then(|| format!("Completed all {step_count} canary steps"))
}

/// Argo's `promoteStable`: pauses and abort cleared, every step done, and (only when the stable
/// hash actually changes) `stableRS` moves to the current hash with a `RolloutCompleted` event.
fn promote_stable(c: &mut Ctx, new_status: &mut RolloutStatus, reason: &str) {
    c.pause.clear_pause_conditions();
    c.pause.remove_abort();
    new_status.promote_full = Some(false);
    if let Some(bg) = new_status.blue_green.as_mut() {
        bg.scale_up_preview_check_point = None;
    }
    let step_count = c.rollout.steps().len();
    new_status.current_step_index =
        (step_count > 0).then(|| i32::try_from(step_count).unwrap_or(i32::MAX));
    let current = text(&new_status.current_pod_hash).to_string();
    if text(&new_status.stable_rs) != current {
        new_status.stable_rs = Some(current.clone());
        let message = cond::rollout_completed_message(c.revision(), &current, reason);
        c.plan
            .event(EventIntent::normal(cond::ROLLOUT_COMPLETED_REASON, message));
    }
}

/// Argo's `syncRolloutStatusCanary`: the canary status, from a reset, a promotion, an abort or a
/// step advance, then the conditions and the single status write.
fn sync_rollout_status_canary(c: &mut Ctx) {
    let mut new_status = c.calculate_base_status();
    new_status.available_replicas = Some(c.all_rss().map(available).sum());
    new_status.hpa_replicas = Some(c.sum_status_replicas());
    new_status.selector = Some(format_label_selector(c.rollout.spec.selector.as_ref()));
    let persisted_canary = c.status().canary.clone().unwrap_or_default();
    {
        let canary = canary_mut(&mut new_status);
        canary.stable_ping_pong = persisted_canary.stable_ping_pong.clone();
        canary.step_plugin_statuses = persisted_canary.step_plugin_statuses.clone();
    }
    new_status.stable_rs = c.status().stable_rs.clone();
    new_status.current_step_hash = Some(c.step_hash().to_string());
    let step_count = c.rollout.steps().len();
    let step_count_i32 = i32::try_from(step_count).unwrap_or(i32::MAX);

    if pod_template_or_steps_changed(c) {
        // A new update starts. `restartedAt` is deliberately not reset here: Argo sets it on its
        // context after this status was copied, so the write never carries it.
        c.pause.clear_pause_conditions();
        c.pause.remove_abort();
        new_status.promote_full = Some(false);
        if let Some(bg) = new_status.blue_green.as_mut() {
            bg.pre_promotion_analysis_run_status = None;
            bg.post_promotion_analysis_run_status = None;
            bg.scale_up_preview_check_point = None;
        }
        let canary = canary_mut(&mut new_status);
        canary.current_step_analysis_run_status = None;
        canary.current_background_analysis_run_status = None;
        canary.step_plugin_statuses = None;
        new_status.current_step_index = (step_count > 0).then_some(0);
        if let Some(new_rs) = c.new_rs()
            && step_count > 0
        {
            if text(&c.status().stable_rs) == pod_hash(new_rs) {
                c.plan.event(EventIntent::normal(
                    SKIP_STEPS_REASON,
                    ROLLBACK_TO_STABLE_MESSAGE,
                ));
                new_status.current_step_index = Some(step_count_i32);
            } else if c.is_rollback_within_window() && is_active(new_rs) {
                c.plan.event(EventIntent::normal(
                    SKIP_STEPS_REASON,
                    ROLLBACK_WITHIN_WINDOW_MESSAGE,
                ));
                new_status.current_step_index = Some(step_count_i32);
            }
        }
        let new_status = c.calculate_rollout_conditions(new_status);
        c.persist_rollout_status(new_status);
        return;
    }

    let mut current_step_index = persisted_step_index(c);
    if c.status().promote_full == Some(true) || c.is_rollback_within_window() {
        c.pause.clear_pause_conditions();
        c.pause.remove_abort();
        if step_count > 0 {
            current_step_index = Some(step_count_i32);
        }
    }

    if let Some(reason) = should_full_promote(c) {
        promote_stable(c, &mut new_status, &reason);
        let new_status = c.calculate_rollout_conditions(new_status);
        c.persist_rollout_status(new_status);
        return;
    }

    if c.pause.is_aborted(c.status()) {
        if step_count > 0 {
            let promoted = text(&new_status.stable_rs) == text(&new_status.current_pod_hash);
            new_status.current_step_index = Some(if promoted { step_count_i32 } else { 0 });
        }
        let new_status = c.calculate_rollout_conditions(new_status);
        c.persist_rollout_status(new_status);
        return;
    }

    if completed_current_canary_step(c)
        && let Some(step) = current_step(c)
    {
        // Argo increments whatever index it holds, which after a promoteFull/rollback reset is
        // already len(steps); the index never leaves [0, len(steps)] here.
        let next = current_step_index
            .unwrap_or(0)
            .saturating_add(1)
            .min(step_count_i32);
        current_step_index = Some(next);
        canary_mut(&mut new_status).current_step_analysis_run_status = None;
        let message = cond::rollout_step_completed_message(
            next,
            step_count_i32,
            &crate::status::phase::canary_step_string(&step),
        );
        c.plan
            .event(EventIntent::normal(ROLLOUT_STEP_COMPLETED_REASON, message));
        c.pause.remove_pause_condition(PauseReason::CanaryPauseStep);
    }

    new_status.current_step_index = current_step_index;
    let new_status = c.calculate_rollout_conditions(new_status);
    c.persist_rollout_status(new_status);
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    #[test]
    fn label_selectors_format_like_kubernetes() {
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(
            format_label_selector(Some(&LabelSelector::default())),
            "<none>"
        );
        let selector = LabelSelector {
            match_labels: Some([("b".into(), "2".into()), ("a".into(), "1".into())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "env".into(),
                    operator: "In".into(),
                    values: Some(vec!["prod".into(), "dev".into()]),
                },
                LabelSelectorRequirement {
                    key: "x".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
                LabelSelectorRequirement {
                    key: "c".into(),
                    operator: "Exists".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(
            format_label_selector(Some(&selector)),
            "a=1,b=2,c,env in (dev,prod),!x"
        );
    }
}
