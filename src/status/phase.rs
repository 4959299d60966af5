//! `status.phase` and `status.message` (Go `utils/rollout/rolloututil.go`), and the small
//! rollout predicates that file offers to the controller and the kubectl plugin.
//!
//! Two entry points, as in Argo:
//! - [`calculate_phase`] is what the controller writes on every status patch.
//! - [`client_phase`] is what the plugin shows: it first overrides the written phase while the
//!   controller has not caught up with the spec, a user resume, or the referenced workload.

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::conditions::{CONDITION_TRUE, ROLLOUT_ABORTED_REASON, TIMED_OUT_REASON, get_condition};
use crate::crd::rollout::{CanaryStep, Rollout, RolloutPhase, RolloutStatus, condition, keys};

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

fn count(value: Option<i32>) -> i32 {
    value.unwrap_or(0)
}

fn phase(phase: RolloutPhase, message: &str) -> (RolloutPhase, String) {
    (phase, message.to_string())
}

/// The phase and message the controller computes from the spec and the status it is about to
/// write (Argo's `CalculateRolloutPhase`); only `rollout.spec` is read, `status` is the new one.
///
/// First match wins:
/// 1. One pass over `status.conditions` **in array order**: an `InvalidSpec` entry (any status) or
///    an entry with reason `RolloutAborted`/`ProgressDeadlineExceeded` gives `Degraded`
///    `"<type or reason>: <message>"`. Which one is reported thus depends on condition history.
/// 2. `spec.paused` → `Paused` "manually paused"; else the first pause condition → `Paused`
///    `"<reason>"`.
/// 3. A pending restart, missing updated replicas, unavailable updated replicas → `Progressing`.
/// 4. Strategy specific: blue-green waits for the active switch, then for stable (analysis or
///    verification); a canary without traffic routing waits for old pods to go, any canary for
///    stable == current.
/// 5. Otherwise `Healthy` with an empty message.
pub fn calculate_phase(rollout: &Rollout, status: &RolloutStatus) -> (RolloutPhase, String) {
    let spec = &rollout.spec;

    for cond in status.conditions.iter().flatten() {
        if cond.type_ == condition::INVALID_SPEC {
            return (
                RolloutPhase::Degraded,
                format!("{}: {}", condition::INVALID_SPEC, cond.message),
            );
        }
        if cond.reason == ROLLOUT_ABORTED_REASON || cond.reason == TIMED_OUT_REASON {
            return (
                RolloutPhase::Degraded,
                format!("{}: {}", cond.reason, cond.message),
            );
        }
    }

    if spec.paused == Some(true) {
        return phase(RolloutPhase::Paused, "manually paused");
    }
    if let Some(first) = status.pause_conditions.iter().flatten().next() {
        return phase(RolloutPhase::Paused, first.reason.as_str());
    }
    if let Some(restart_at) = &spec.restart_at
        && status.restarted_at.as_ref() != Some(restart_at)
    {
        return phase(RolloutPhase::Progressing, "rollout is restarting");
    }
    let updated = count(status.updated_replicas);
    if updated < rollout.desired_replicas() {
        return phase(
            RolloutPhase::Progressing,
            "more replicas need to be updated",
        );
    }
    if count(status.available_replicas) < updated {
        return phase(
            RolloutPhase::Progressing,
            "updated replicas are still becoming available",
        );
    }

    let current = text(&status.current_pod_hash);
    let stable = text(&status.stable_rs);
    let promoted = !stable.is_empty() && stable == current;
    if let Some(bg) = &spec.strategy.blue_green {
        let active = status
            .blue_green
            .as_ref()
            .map_or("", |s| text(&s.active_selector));
        if active.is_empty() || active != current {
            return phase(RolloutPhase::Progressing, "active service cutover pending");
        }
        if !promoted {
            // Active already points at the desired ReplicaSet but it is not stable yet: either
            // post-promotion analysis or post-promotion verification is still running.
            let post_analysis_done = status
                .blue_green
                .as_ref()
                .and_then(|s| s.post_promotion_analysis_run_status.as_ref())
                .is_some_and(|run| run.status.is_completed());
            if bg.post_promotion_analysis.is_some() && !post_analysis_done {
                return phase(
                    RolloutPhase::Progressing,
                    "waiting for analysis to complete",
                );
            }
            return phase(
                RolloutPhase::Progressing,
                "waiting for post-promotion verification to complete",
            );
        }
    } else if let Some(canary) = &spec.strategy.canary {
        // Only a basic canary waits for old pods: blue-green and traffic-routed canaries keep the
        // old stack up on purpose (scaleDownDelaySeconds).
        if canary.traffic_routing.is_none() && count(status.replicas) > updated {
            return phase(
                RolloutPhase::Progressing,
                "old replicas are pending termination",
            );
        }
        if !promoted {
            return phase(
                RolloutPhase::Progressing,
                "waiting for all steps to complete",
            );
        }
    }
    phase(RolloutPhase::Healthy, "")
}

/// The phase the plugin shows (Argo's `GetRolloutPhase`) for a Rollout read from the API.
///
/// Argo's `spec.TemplateResolvedFromRef` is a `json:"-"` field set only inside the controller,
/// so for any client it is false and the workload-generation override never applies; use
/// [`client_phase_resolved`] to evaluate it for a rollout whose template was resolved in memory.
pub fn client_phase(rollout: &Rollout) -> (RolloutPhase, String) {
    client_phase_resolved(rollout, false)
}

/// Argo's `GetRolloutPhase` with `TemplateResolvedFromRef` given explicitly.
///
/// Overrides, in order: generation not yet observed → `Progressing` "waiting for rollout spec
/// update to be observed"; user resume not yet seen ([`is_unpausing`]) → `Progressing` "waiting
/// for rollout to unpause"; resolved template whose workload generation is not yet observed →
/// `Progressing` "waiting for rollout spec update to be observed for the reference workload".
/// Then the written `status.phase`/`status.message`, or, for a pre-1.0 status without a phase,
/// [`calculate_phase`] on the current status.
pub fn client_phase_resolved(
    rollout: &Rollout,
    template_resolved_from_ref: bool,
) -> (RolloutPhase, String) {
    if !is_generation_observed(rollout) {
        return phase(
            RolloutPhase::Progressing,
            "waiting for rollout spec update to be observed",
        );
    }
    if is_unpausing(rollout) {
        return phase(RolloutPhase::Progressing, "waiting for rollout to unpause");
    }
    if template_resolved_from_ref && !is_workload_generation_observed(rollout) {
        return phase(
            RolloutPhase::Progressing,
            "waiting for rollout spec update to be observed for the reference workload",
        );
    }
    let default_status = RolloutStatus::default();
    let status = rollout.status.as_ref().unwrap_or(&default_status);
    match &status.phase {
        Some(written) if !written.as_str().is_empty() => {
            (written.clone(), text(&status.message).to_string())
        }
        _ => calculate_phase(rollout, status),
    }
}

/// Whether the controller has seen `metadata.generation` (Argo's `isGenerationObserved`).
///
/// `status.observedGeneration` is a string. Anything that is not a decimal integer (v0.9 wrote a
/// hash there) counts as observed, and so does a number greater than the generation (an
/// all-digit legacy hash).
pub fn is_generation_observed(rollout: &Rollout) -> bool {
    let observed = rollout
        .status
        .as_ref()
        .and_then(|s| s.observed_generation.as_deref())
        .unwrap_or("");
    match observed.parse::<i64>() {
        Ok(observed) => observed >= rollout.metadata.generation.unwrap_or(0),
        Err(_) => true,
    }
}

/// A user cleared the pause conditions but the controller has not reacted yet
/// (`controllerPause` still true with no pause condition left; Argo's `IsUnpausing`).
pub fn is_unpausing(rollout: &Rollout) -> bool {
    rollout.status.as_ref().is_some_and(|s| {
        s.controller_pause == Some(true) && s.pause_conditions.as_ref().is_none_or(Vec::is_empty)
    })
}

/// Whether the controller has seen the referenced workload's generation (Argo's
/// `isWorkloadGenerationObserved`): true without a parsable `rollout.argoproj.io/workload-generation`
/// annotation or without a parsable `status.workloadObservedGeneration` (both 32-bit integers);
/// otherwise the two must be equal.
pub fn is_workload_generation_observed(rollout: &Rollout) -> bool {
    let Some(workload_generation) = rollout
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::WORKLOAD_GENERATION))
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return true;
    };
    let observed = rollout
        .status
        .as_ref()
        .and_then(|s| s.workload_observed_generation.as_deref())
        .unwrap_or("");
    match observed.parse::<i32>() {
        Ok(observed) => observed == workload_generation,
        Err(_) => true,
    }
}

/// Stable hash == desired hash (Argo's `IsFullyPromoted`). Unlike
/// [`super::conditions::rollout_completed`] two empty hashes count as promoted.
pub fn is_fully_promoted(rollout: &Rollout) -> bool {
    rollout
        .status
        .as_ref()
        .is_none_or(|s| text(&s.stable_rs) == text(&s.current_pod_hash))
}

/// Paused by the user (`spec.paused`) or by the controller (any pause condition), as the
/// controller tests it before touching the Progressing/Paused conditions.
pub fn is_paused(rollout: &Rollout) -> bool {
    rollout.spec.paused == Some(true)
        || rollout
            .status
            .as_ref()
            .is_some_and(|s| s.pause_conditions.as_ref().is_some_and(|p| !p.is_empty()))
}

/// The canary step at `status.currentStepIndex` (Argo's `GetCurrentCanaryStep`): `None` without
/// steps or once every step has run. A negative index (only writable by hand) reads as 0.
pub fn current_canary_step(rollout: &Rollout) -> Option<&CanaryStep> {
    current_canary_step_at(rollout, rollout.status.as_ref())
}

/// [`current_canary_step`] with `status` in place of the rollout's own.
pub fn current_canary_step_at<'a>(
    rollout: &'a Rollout,
    status: Option<&RolloutStatus>,
) -> Option<&'a CanaryStep> {
    let index = status.and_then(|s| s.current_step_index).unwrap_or(0);
    rollout.steps().get(usize::try_from(index).unwrap_or(0))
}

/// At a step that may legitimately take unbounded time (pause, analysis, experiment), or the
/// `Paused` condition is True (blue-green pause): the progress deadline is not evaluated then
/// (Argo's `isIndefiniteStep`, `rollout/sync.go`).
pub fn is_indefinite_step(rollout: &Rollout) -> bool {
    is_indefinite_step_at(rollout, rollout.status.as_ref())
}

/// [`is_indefinite_step`] with `status` in place of the rollout's own.
pub fn is_indefinite_step_at(rollout: &Rollout, status: Option<&RolloutStatus>) -> bool {
    if current_canary_step_at(rollout, status)
        .is_some_and(|s| s.experiment.is_some() || s.analysis.is_some() || s.pause.is_some())
    {
        return true;
    }
    status
        .and_then(|s| get_condition(s, condition::PAUSED))
        .is_some_and(|c| c.status == CONDITION_TRUE)
}

/// `trafficRouting.maxTrafficWeight` or 100 (Argo's `weightutil.MaxTrafficWeight`).
pub fn max_traffic_weight(rollout: &Rollout) -> i32 {
    rollout
        .spec
        .strategy
        .canary
        .as_ref()
        .and_then(|c| c.traffic_routing.as_ref())
        .and_then(|t| t.max_traffic_weight)
        .unwrap_or(100)
}

/// Whether to verify router weights now (Argo's `ShouldVerifyWeight`): mid-update, at a
/// `setWeight` step, or past the last step with the full weight desired. Verification costs
/// cloud API calls, hence not on every reconcile.
pub fn should_verify_weight(rollout: &Rollout, desired_weight: i32) -> bool {
    let stable = rollout.status.as_ref().map_or("", |s| text(&s.stable_rs));
    if stable.is_empty() || is_fully_promoted(rollout) {
        return false;
    }
    match current_canary_step(rollout) {
        Some(step) => step.set_weight.is_some(),
        None => desired_weight == max_traffic_weight(rollout),
    }
}

/// The `rollouts-pod-template-hash` label of a ReplicaSet, `""` without one.
fn pod_template_hash(rs: &ReplicaSet) -> &str {
    rs.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(keys::POD_TEMPLATE_HASH))
        .map_or("", String::as_str)
}

/// Argo's `IsDynamicallyRollingBackToStable`: a fully promoted traffic-routed canary with
/// `dynamicStableScale` whose router still points the canary weight at another hash, while the
/// desired ReplicaSet is not yet fully available. Returns that previous canary hash.
pub fn dynamically_rolling_back_to_stable(
    rollout: &Rollout,
    desired_rs: &ReplicaSet,
) -> Option<String> {
    let canary = rollout.spec.strategy.canary.as_ref()?;
    if !is_fully_promoted(rollout)
        || canary.traffic_routing.is_none()
        || canary.dynamic_stable_scale != Some(true)
    {
        return None;
    }
    let weights = rollout.status.as_ref()?.canary.as_ref()?.weights.as_ref()?;
    let previous = text(&weights.canary.pod_template_hash);
    if previous == pod_template_hash(desired_rs) {
        return None;
    }
    let available = desired_rs
        .status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0);
    if available >= rollout.desired_replicas() {
        return None;
    }
    Some(previous.to_string())
}

/// Argo's `AbortOrDynamicRollbackToStable`: only the stable ReplicaSet's availability matters
/// before updating traffic (aborted, or dynamically rolling back to the ReplicaSet whose hash is
/// `stable_hash`).
pub fn abort_or_dynamic_rollback_to_stable(
    rollout: &Rollout,
    all_rs: &[ReplicaSet],
    stable_hash: &str,
) -> bool {
    if rollout
        .status
        .as_ref()
        .is_some_and(|s| s.abort == Some(true))
    {
        return true;
    }
    all_rs
        .iter()
        .find(|rs| pod_template_hash(rs) == stable_hash)
        .is_some_and(|stable| dynamically_rolling_back_to_stable(rollout, stable).is_some())
}

/// A step as events and the plugin print it (Argo's `CanaryStepString`), e.g. `setWeight: 20`,
/// `pause`, `pause: 10` vs `pause: 10s` (IntOrString as written), `setCanaryScale{weight: 20}`.
pub fn canary_step_string(step: &CanaryStep) -> String {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    if let Some(weight) = step.set_weight {
        return format!("setWeight: {weight}");
    }
    if let Some(pause) = &step.pause {
        return match &pause.duration {
            Some(IntOrString::Int(seconds)) => format!("pause: {seconds}"),
            Some(IntOrString::String(duration)) => format!("pause: {duration}"),
            None => "pause".to_string(),
        };
    }
    if step.experiment.is_some() {
        return "experiment".to_string();
    }
    if step.analysis.is_some() {
        return "analysis".to_string();
    }
    if let Some(scale) = &step.set_canary_scale {
        if let Some(weight) = scale.weight {
            return format!("setCanaryScale{{weight: {weight}}}");
        }
        if scale.match_traffic_weight == Some(true) {
            return "setCanaryScale{matchTrafficWeight: true}".to_string();
        }
        if let Some(replicas) = scale.replicas {
            return format!("setCanaryScale{{replicas: {replicas}}}");
        }
    }
    if let Some(plugin) = &step.plugin {
        return format!("plugin: {}", plugin.name);
    }
    if let Some(route) = &step.set_header_route {
        return format!("setHeaderRoute: {}", text(&route.name));
    }
    if let Some(route) = &step.set_mirror_route {
        return format!("setMirrorRoute: {}", route.name);
    }
    "invalid".to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};
    use k8s_openapi::{
        api::apps::v1::ReplicaSetStatus, apimachinery::pkg::util::intstr::IntOrString,
    };

    use super::*;
    use crate::{
        crd::{
            analysis::AnalysisPhase,
            rollout::{
                BlueGreenStrategy, CanaryStatus, CanaryStrategy, PauseCondition, PauseReason,
                PluginStep, RolloutAnalysis, RolloutAnalysisRunStatus, RolloutExperimentStep,
                RolloutPause, RolloutSpec, RolloutStrategy, RolloutTrafficRouting, SetCanaryScale,
                SetHeaderRoute, SetMirrorRoute, TrafficWeights, WeightDestination,
            },
        },
        status::{conditions::new_condition, k8s_time},
    };

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + seconds, 0).unwrap()
    }

    /// Argo's `newCanaryRollout`: 5 replicas, steps setWeight 10 / pause 60 / setWeight 20,
    /// mid-update counts.
    fn canary() -> Rollout {
        let mut ro = Rollout::new(
            "can-guestbook",
            RolloutSpec {
                replicas: Some(5),
                strategy: RolloutStrategy {
                    canary: Some(CanaryStrategy {
                        steps: Some(vec![
                            CanaryStep {
                                set_weight: Some(10),
                                ..Default::default()
                            },
                            CanaryStep {
                                pause: Some(RolloutPause {
                                    duration: Some(IntOrString::Int(60)),
                                }),
                                ..Default::default()
                            },
                            CanaryStep {
                                set_weight: Some(20),
                                ..Default::default()
                            },
                        ]),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        ro.status = Some(RolloutStatus {
            current_step_index: Some(1),
            replicas: Some(4),
            ready_replicas: Some(1),
            updated_replicas: Some(3),
            available_replicas: Some(2),
            ..Default::default()
        });
        ro
    }

    /// Argo's `newBlueGreenRollout`.
    fn blue_green() -> Rollout {
        let mut ro = canary();
        ro.metadata.name = Some("bg-guestbook".into());
        ro.spec.strategy = RolloutStrategy {
            blue_green: Some(BlueGreenStrategy::default()),
            ..Default::default()
        };
        ro
    }

    fn st(ro: &mut Rollout) -> &mut RolloutStatus {
        ro.status.get_or_insert_with(Default::default)
    }

    /// All 5 replicas updated, ready and available.
    fn settled(ro: &mut Rollout) {
        let s = st(ro);
        s.replicas = Some(5);
        s.updated_replicas = Some(5);
        s.ready_replicas = Some(5);
        s.available_replicas = Some(5);
    }

    fn hashes(ro: &mut Rollout, stable: &str, current: &str) {
        let s = st(ro);
        s.stable_rs = Some(stable.into());
        s.current_pod_hash = Some(current.into());
    }

    fn active(ro: &mut Rollout, selector: &str) {
        st(ro)
            .blue_green
            .get_or_insert_with(Default::default)
            .active_selector = Some(selector.into());
    }

    fn add_cond(ro: &mut Rollout, type_: &str, status: &str, reason: &str, message: &str) {
        st(ro)
            .conditions
            .get_or_insert_with(Vec::new)
            .push(new_condition(type_, status, reason, message, at(0)));
    }

    fn pause_cond(reason: PauseReason) -> PauseCondition {
        PauseCondition {
            reason,
            start_time: k8s_time(at(0)),
        }
    }

    fn post_analysis_status(ro: &mut Rollout, phase: AnalysisPhase) {
        st(ro)
            .blue_green
            .get_or_insert_with(Default::default)
            .post_promotion_analysis_run_status = Some(RolloutAnalysisRunStatus {
            name: "post".into(),
            status: phase,
            message: None,
        });
    }

    type Case = (&'static str, Rollout, RolloutPhase, &'static str);

    fn check(cases: Vec<Case>, f: impl Fn(&Rollout) -> (RolloutPhase, String)) {
        for (name, rollout, want_phase, want_message) in cases {
            let (got_phase, got_message) = f(&rollout);
            assert_eq!(
                (got_phase, got_message.as_str()),
                (want_phase, want_message),
                "{name}"
            );
        }
    }

    fn calculated(ro: &Rollout) -> (RolloutPhase, String) {
        calculate_phase(ro, ro.status.as_ref().unwrap())
    }

    #[test]
    fn calculate_phase_table() {
        use RolloutPhase::*;
        let mut cases: Vec<Case> = Vec::new();
        let mut case = |name, f: &dyn Fn(&mut Rollout), base: fn() -> Rollout, p, m| {
            let mut ro = base();
            f(&mut ro);
            cases.push((name, ro, p, m));
        };

        // Degraded scan, in array order.
        case(
            "argo: progress deadline exceeded",
            &|ro| add_cond(ro, "Progressing", "", TIMED_OUT_REASON, "timed out"),
            canary,
            Degraded,
            "ProgressDeadlineExceeded: timed out",
        );
        case(
            "invalid spec",
            &|ro| {
                add_cond(
                    ro,
                    "InvalidSpec",
                    "True",
                    "InvalidSpec",
                    "The Rollout \"x\" is invalid: y",
                )
            },
            canary,
            Degraded,
            "InvalidSpec: The Rollout \"x\" is invalid: y",
        );
        case(
            "invalid spec matches on type even when False",
            &|ro| add_cond(ro, "InvalidSpec", "False", "Other", "m"),
            canary,
            Degraded,
            "InvalidSpec: m",
        );
        case(
            "aborted",
            &|ro| {
                add_cond(ro, "Available", "True", "AvailableReason", "ok");
                add_cond(
                    ro,
                    "Progressing",
                    "False",
                    ROLLOUT_ABORTED_REASON,
                    "Rollout aborted update to revision 2",
                );
            },
            canary,
            Degraded,
            "RolloutAborted: Rollout aborted update to revision 2",
        );
        case(
            "earlier abort wins over later invalid spec",
            &|ro| {
                add_cond(
                    ro,
                    "Progressing",
                    "False",
                    ROLLOUT_ABORTED_REASON,
                    "aborted",
                );
                add_cond(ro, "InvalidSpec", "True", "InvalidSpec", "bad");
            },
            canary,
            Degraded,
            "RolloutAborted: aborted",
        );
        case(
            "earlier invalid spec wins over later abort",
            &|ro| {
                add_cond(ro, "InvalidSpec", "True", "InvalidSpec", "bad");
                add_cond(
                    ro,
                    "Progressing",
                    "False",
                    ROLLOUT_ABORTED_REASON,
                    "aborted",
                );
            },
            canary,
            Degraded,
            "InvalidSpec: bad",
        );
        case(
            "degraded reason on any condition type",
            &|ro| add_cond(ro, "Custom", "True", TIMED_OUT_REASON, "odd"),
            canary,
            Degraded,
            "ProgressDeadlineExceeded: odd",
        );
        case(
            "degraded beats manual pause",
            &|ro| {
                ro.spec.paused = Some(true);
                add_cond(ro, "Progressing", "False", TIMED_OUT_REASON, "t");
            },
            canary,
            Degraded,
            "ProgressDeadlineExceeded: t",
        );
        case(
            "non-degraded conditions are ignored",
            &|ro| {
                add_cond(
                    ro,
                    "Progressing",
                    "Unknown",
                    "RolloutPaused",
                    "Rollout is paused",
                );
                add_cond(
                    ro,
                    "Healthy",
                    "False",
                    "RolloutHealthy",
                    "Rollout is not healthy",
                );
            },
            canary,
            Progressing,
            "more replicas need to be updated",
        );
        // Pauses.
        case(
            "argo: manually paused",
            &|ro| ro.spec.paused = Some(true),
            canary,
            Paused,
            "manually paused",
        );
        case(
            "manual pause beats pause conditions",
            &|ro| {
                ro.spec.paused = Some(true);
                st(ro).pause_conditions = Some(vec![pause_cond(PauseReason::CanaryPauseStep)]);
            },
            canary,
            Paused,
            "manually paused",
        );
        case(
            "first pause condition reason",
            &|ro| {
                st(ro).pause_conditions = Some(vec![
                    pause_cond(PauseReason::InconclusiveAnalysis),
                    pause_cond(PauseReason::CanaryPauseStep),
                ]);
            },
            canary,
            Paused,
            "InconclusiveAnalysisRun",
        );
        case(
            "paused false is not paused",
            &|ro| ro.spec.paused = Some(false),
            canary,
            Progressing,
            "more replicas need to be updated",
        );
        // Restart.
        case(
            "argo: restart pending",
            &|ro| {
                ro.spec.restart_at = Some(k8s_time(at(-60)));
                settled(ro);
                hashes(ro, "abc1234", "abc1234");
            },
            canary,
            Progressing,
            "rollout is restarting",
        );
        case(
            "restart pending, older restart done",
            &|ro| {
                ro.spec.restart_at = Some(k8s_time(at(-60)));
                st(ro).restarted_at = Some(k8s_time(at(-600)));
                settled(ro);
                hashes(ro, "abc1234", "abc1234");
            },
            canary,
            Progressing,
            "rollout is restarting",
        );
        case(
            "argo: restart done",
            &|ro| {
                ro.spec.restart_at = Some(k8s_time(at(-60)));
                st(ro).restarted_at = Some(k8s_time(at(-60)));
                settled(ro);
                hashes(ro, "abc1234", "abc1234");
            },
            canary,
            Healthy,
            "",
        );
        // Replica counts.
        case(
            "argo: more replicas need to be updated",
            &|ro| {
                let s = st(ro);
                s.updated_replicas = Some(4);
                s.available_replicas = Some(4);
                s.replicas = Some(5);
            },
            canary,
            Progressing,
            "more replicas need to be updated",
        );
        case(
            "argo: new rollout with hashes but no counts (replicas default 1)",
            &|ro| {
                ro.spec.replicas = None;
                ro.status = Some(RolloutStatus {
                    observed_generation: Some("0".into()),
                    stable_rs: Some("abc1234".into()),
                    current_pod_hash: Some("abc1234".into()),
                    ..Default::default()
                });
            },
            canary,
            Progressing,
            "more replicas need to be updated",
        );
        case(
            "argo: updated replicas still becoming available",
            &|ro| {
                let s = st(ro);
                s.updated_replicas = Some(5);
                s.available_replicas = Some(4);
                s.replicas = Some(5);
            },
            canary,
            Progressing,
            "updated replicas are still becoming available",
        );
        // Blue-green.
        case(
            "argo: bg active service cutover pending",
            &|ro| {
                settled(ro);
                active(ro, "abc1234");
                hashes(ro, "abc1234", "def5678");
            },
            blue_green,
            Progressing,
            "active service cutover pending",
        );
        case(
            "bg without active selector",
            &|ro| {
                settled(ro);
                hashes(ro, "", "");
            },
            blue_green,
            Progressing,
            "active service cutover pending",
        );
        case(
            "argo: bg waiting for post-promotion analysis (no run yet)",
            &|ro| {
                ro.spec
                    .strategy
                    .blue_green
                    .as_mut()
                    .unwrap()
                    .post_promotion_analysis = Some(RolloutAnalysis::default());
                settled(ro);
                active(ro, "def5678");
                hashes(ro, "abc1234", "def5678");
            },
            blue_green,
            Progressing,
            "waiting for analysis to complete",
        );
        case(
            "bg waiting for running post-promotion analysis",
            &|ro| {
                ro.spec
                    .strategy
                    .blue_green
                    .as_mut()
                    .unwrap()
                    .post_promotion_analysis = Some(RolloutAnalysis::default());
                settled(ro);
                active(ro, "def5678");
                hashes(ro, "abc1234", "def5678");
                post_analysis_status(ro, AnalysisPhase::Running);
            },
            blue_green,
            Progressing,
            "waiting for analysis to complete",
        );
        case(
            "bg post-promotion analysis done, verification pending",
            &|ro| {
                ro.spec
                    .strategy
                    .blue_green
                    .as_mut()
                    .unwrap()
                    .post_promotion_analysis = Some(RolloutAnalysis::default());
                settled(ro);
                active(ro, "def5678");
                hashes(ro, "abc1234", "def5678");
                post_analysis_status(ro, AnalysisPhase::Inconclusive);
            },
            blue_green,
            Progressing,
            "waiting for post-promotion verification to complete",
        );
        case(
            "argo: bg waiting for post-promotion verification",
            &|ro| {
                settled(ro);
                active(ro, "def5678");
                hashes(ro, "abc1234", "def5678");
            },
            blue_green,
            Progressing,
            "waiting for post-promotion verification to complete",
        );
        case(
            "bg no stable yet",
            &|ro| {
                settled(ro);
                active(ro, "def5678");
                hashes(ro, "", "def5678");
            },
            blue_green,
            Progressing,
            "waiting for post-promotion verification to complete",
        );
        case(
            "argo: bg healthy",
            &|ro| {
                settled(ro);
                active(ro, "abc1234");
                hashes(ro, "abc1234", "abc1234");
            },
            blue_green,
            Healthy,
            "",
        );
        case(
            "bg keeps old replicas without complaint",
            &|ro| {
                settled(ro);
                st(ro).replicas = Some(10);
                active(ro, "abc1234");
                hashes(ro, "abc1234", "abc1234");
            },
            blue_green,
            Healthy,
            "",
        );
        // Canary.
        case(
            "argo: basic canary old replicas pending termination",
            &|ro| {
                let s = st(ro);
                s.updated_replicas = Some(5);
                s.available_replicas = Some(5);
                s.replicas = Some(7);
            },
            canary,
            Progressing,
            "old replicas are pending termination",
        );
        case(
            "traffic-routed canary ignores old replicas",
            &|ro| {
                ro.spec.strategy.canary.as_mut().unwrap().traffic_routing =
                    Some(RolloutTrafficRouting::default());
                settled(ro);
                st(ro).replicas = Some(7);
                hashes(ro, "abc1234", "abc1234");
            },
            canary,
            Healthy,
            "",
        );
        case(
            "traffic-routed canary mid-update",
            &|ro| {
                ro.spec.strategy.canary.as_mut().unwrap().traffic_routing =
                    Some(RolloutTrafficRouting::default());
                settled(ro);
                st(ro).replicas = Some(7);
                hashes(ro, "abc1234", "def5678");
            },
            canary,
            Progressing,
            "waiting for all steps to complete",
        );
        case(
            "canary waiting for all steps",
            &|ro| {
                settled(ro);
                hashes(ro, "abc1234", "def5678");
            },
            canary,
            Progressing,
            "waiting for all steps to complete",
        );
        case(
            "canary with empty stable",
            &|ro| {
                settled(ro);
                hashes(ro, "", "");
            },
            canary,
            Progressing,
            "waiting for all steps to complete",
        );
        case(
            "argo: canary healthy",
            &|ro| {
                settled(ro);
                hashes(ro, "abc1234", "abc1234");
            },
            canary,
            Healthy,
            "",
        );
        case(
            "no strategy",
            &|ro| {
                ro.spec.strategy = RolloutStrategy::default();
                settled(ro);
            },
            canary,
            Healthy,
            "",
        );
        check(cases, calculated);
    }

    #[test]
    fn calculate_phase_reads_the_given_status_not_the_rollouts() {
        let mut ro = canary();
        ro.spec.paused = Some(true);
        let mut status = ro.status.clone().unwrap();
        status.conditions = Some(vec![new_condition(
            "Progressing",
            "False",
            ROLLOUT_ABORTED_REASON,
            "a",
            at(0),
        )]);
        assert_eq!(
            calculate_phase(&ro, &status),
            (RolloutPhase::Degraded, "RolloutAborted: a".to_string())
        );
        assert_eq!(calculated(&ro).0, RolloutPhase::Paused);
    }

    fn healthy_canary() -> Rollout {
        let mut ro = canary();
        settled(&mut ro);
        hashes(&mut ro, "abc1234", "abc1234");
        ro
    }

    fn written(ro: &mut Rollout, phase: RolloutPhase, message: &str) {
        let s = st(ro);
        s.phase = Some(phase);
        s.message = Some(message.into());
    }

    #[test]
    fn client_phase_table() {
        use RolloutPhase::*;
        let mut cases: Vec<Case> = Vec::new();
        let mut case = |name, f: &dyn Fn(&mut Rollout), p, m| {
            let mut ro = healthy_canary();
            f(&mut ro);
            cases.push((name, ro, p, m));
        };

        case(
            "argo: observed generation behind",
            &|ro| {
                ro.metadata.generation = Some(2);
                st(ro).observed_generation = Some("1".into());
            },
            Progressing,
            "waiting for rollout spec update to be observed",
        );
        case(
            "argo: legacy hash observed generation counts as observed",
            &|ro| {
                ro.metadata.generation = Some(2);
                st(ro).observed_generation = Some("7d66d4485f".into());
                st(ro).updated_replicas = Some(0);
            },
            Progressing,
            "more replicas need to be updated",
        );
        case(
            "argo: all-numeric legacy hash greater than generation counts as observed",
            &|ro| {
                ro.metadata.generation = Some(2);
                st(ro).observed_generation = Some("1366344857".into());
                st(ro).updated_replicas = Some(0);
            },
            Progressing,
            "more replicas need to be updated",
        );
        case(
            "generation observed: the written phase is shown as is",
            &|ro| {
                ro.metadata.generation = Some(3);
                st(ro).observed_generation = Some("3".into());
                written(ro, Degraded, "stale but written");
            },
            Degraded,
            "stale but written",
        );
        case(
            "generation check comes before the unpause check",
            &|ro| {
                ro.metadata.generation = Some(3);
                st(ro).observed_generation = Some("2".into());
                st(ro).controller_pause = Some(true);
            },
            Progressing,
            "waiting for rollout spec update to be observed",
        );
        case(
            "argo: controller pause with pause conditions shows the written phase",
            &|ro| {
                written(ro, Paused, "canary pause");
                st(ro).pause_conditions = Some(vec![pause_cond(PauseReason::CanaryPauseStep)]);
                st(ro).controller_pause = Some(true);
            },
            Paused,
            "canary pause",
        );
        case(
            "argo: user cleared pause conditions",
            &|ro| {
                written(ro, Paused, "canary pause");
                st(ro).controller_pause = Some(true);
            },
            Progressing,
            "waiting for rollout to unpause",
        );
        case(
            "empty pause condition list also unpauses",
            &|ro| {
                written(ro, Paused, "canary pause");
                st(ro).controller_pause = Some(true);
                st(ro).pause_conditions = Some(vec![]);
            },
            Progressing,
            "waiting for rollout to unpause",
        );
        case(
            "workload generation is not checked for an API-read rollout",
            &|ro| {
                ro.metadata.annotations = Some(BTreeMap::from([(
                    keys::WORKLOAD_GENERATION.to_string(),
                    "2".to_string(),
                )]));
                st(ro).workload_observed_generation = Some("1".into());
            },
            Healthy,
            "",
        );
        case(
            "pre-1.0 status without phase is calculated",
            &|ro| st(ro).pause_conditions = Some(vec![pause_cond(PauseReason::BlueGreenPause)]),
            Paused,
            "BlueGreenPause",
        );
        case(
            "empty written phase is calculated",
            &|ro| written(ro, RolloutPhase::Other(String::new()), "ignored"),
            Healthy,
            "",
        );
        case(
            "argo: degraded via calculation",
            &|ro| add_cond(ro, "Progressing", "False", TIMED_OUT_REASON, "timed out"),
            Degraded,
            "ProgressDeadlineExceeded: timed out",
        );
        case(
            "written phase without message",
            &|ro| st(ro).phase = Some(Healthy),
            Healthy,
            "",
        );
        check(cases, client_phase);
    }

    #[test]
    fn client_phase_with_resolved_template_checks_the_workload() {
        // Argo: "Rollout observed workload generation is not updated".
        let mut ro = canary();
        ro.metadata.annotations = Some(BTreeMap::from([(
            keys::WORKLOAD_GENERATION.to_string(),
            "2".to_string(),
        )]));
        ro.status = Some(RolloutStatus {
            workload_observed_generation: Some("1".into()),
            ..Default::default()
        });
        assert_eq!(
            client_phase_resolved(&ro, true),
            (
                RolloutPhase::Progressing,
                "waiting for rollout spec update to be observed for the reference workload"
                    .to_string()
            )
        );
        // Argo: "Rollout observed workload generation is updated".
        let mut ro = healthy_canary();
        ro.metadata.annotations = Some(BTreeMap::from([(
            keys::WORKLOAD_GENERATION.to_string(),
            "2".to_string(),
        )]));
        st(&mut ro).workload_observed_generation = Some("2".into());
        assert_eq!(
            client_phase_resolved(&ro, true),
            (RolloutPhase::Healthy, String::new())
        );
    }

    #[test]
    fn workload_generation_observed_rules() {
        let mut ro = canary();
        assert!(is_workload_generation_observed(&ro), "no annotation");
        ro.metadata.annotations = Some(BTreeMap::from([(
            keys::WORKLOAD_GENERATION.to_string(),
            "2".to_string(),
        )]));
        for (observed, expected) in [
            ("222222222222222222", true),
            ("1", false),
            ("2", true),
            ("", true),
            ("x", true),
        ] {
            st(&mut ro).workload_observed_generation = Some(observed.into());
            assert_eq!(is_workload_generation_observed(&ro), expected, "{observed}");
        }
        ro.metadata.annotations = Some(BTreeMap::from([(
            keys::WORKLOAD_GENERATION.to_string(),
            "not-a-number".to_string(),
        )]));
        st(&mut ro).workload_observed_generation = Some("1".into());
        assert!(
            is_workload_generation_observed(&ro),
            "unparsable annotation"
        );
    }

    /// Argo's `Test_isGenerationObserved`.
    #[test]
    fn generation_observed_rules() {
        for (observed, generation, expected) in [
            (Some("invalid"), None, true),
            (Some("10"), Some(9), true),
            (Some("10"), Some(10), true),
            (Some("10"), Some(11), false),
            (None, Some(1), true),
            (Some("0"), None, true),
        ] {
            let mut ro = canary();
            ro.metadata.generation = generation;
            st(&mut ro).observed_generation = observed.map(String::from);
            assert_eq!(
                is_generation_observed(&ro),
                expected,
                "{observed:?} vs {generation:?}"
            );
        }
    }

    #[test]
    fn fully_promoted_and_paused() {
        let mut ro = canary();
        hashes(&mut ro, "abc123", "abc123");
        assert!(is_fully_promoted(&ro));
        hashes(&mut ro, "abc123", "def456");
        assert!(!is_fully_promoted(&ro));
        ro.status = None;
        assert!(is_fully_promoted(&ro), "empty == empty, as in Go");

        let mut ro = canary();
        assert!(!is_paused(&ro));
        st(&mut ro).pause_conditions = Some(vec![]);
        assert!(!is_paused(&ro));
        st(&mut ro).pause_conditions = Some(vec![pause_cond(PauseReason::CanaryPauseStep)]);
        assert!(is_paused(&ro));
        let mut ro = canary();
        ro.spec.paused = Some(true);
        assert!(is_paused(&ro));
    }

    #[test]
    fn indefinite_steps() {
        let mut ro = canary();
        st(&mut ro).current_step_index = Some(1);
        assert!(is_indefinite_step(&ro), "pause step");
        st(&mut ro).current_step_index = Some(0);
        assert!(!is_indefinite_step(&ro), "setWeight step");
        st(&mut ro).current_step_index = Some(3);
        assert!(!is_indefinite_step(&ro), "past the last step");
        add_cond(
            &mut ro,
            "Paused",
            "True",
            "RolloutPaused",
            "Rollout is paused",
        );
        assert!(is_indefinite_step(&ro), "Paused condition True");

        let mut bg = blue_green();
        add_cond(
            &mut bg,
            "Paused",
            "False",
            "RolloutPaused",
            "Rollout is paused",
        );
        assert!(!is_indefinite_step(&bg));
    }

    /// Argo's `TestShouldVerifyWeight`.
    #[test]
    fn verify_weight_rules() {
        let mut ro = canary();
        st(&mut ro).stable_rs = Some("34feab23f".into());
        st(&mut ro).current_step_index = Some(0);
        ro.spec.strategy.canary.as_mut().unwrap().steps = Some(vec![CanaryStep {
            set_weight: Some(20),
            ..Default::default()
        }]);
        assert!(should_verify_weight(&ro, 20));

        st(&mut ro).stable_rs = Some(String::new());
        assert!(!should_verify_weight(&ro, 20));

        st(&mut ro).stable_rs = Some("34feab23f".into());
        st(&mut ro).current_step_index = None;
        ro.spec.strategy.canary.as_mut().unwrap().steps = None;
        assert!(!should_verify_weight(&ro, 20));
        assert!(
            should_verify_weight(&ro, 100),
            "end of rollout at full weight"
        );

        ro.spec.strategy.canary.as_mut().unwrap().traffic_routing = Some(RolloutTrafficRouting {
            max_traffic_weight: Some(1000),
            ..Default::default()
        });
        assert!(!should_verify_weight(&ro, 100));
        assert!(should_verify_weight(&ro, 1000));
    }

    fn rs(hash: &str, available: i32) -> ReplicaSet {
        let mut rs = ReplicaSet::default();
        rs.metadata.labels = Some(BTreeMap::from([(
            keys::POD_TEMPLATE_HASH.to_string(),
            hash.to_string(),
        )]));
        rs.status = Some(ReplicaSetStatus {
            available_replicas: Some(available),
            ..Default::default()
        });
        rs
    }

    #[test]
    fn dynamic_rollback_to_stable() {
        let mut ro = canary();
        {
            let c = ro.spec.strategy.canary.as_mut().unwrap();
            c.traffic_routing = Some(RolloutTrafficRouting::default());
            c.dynamic_stable_scale = Some(true);
        }
        hashes(&mut ro, "stable", "stable");
        st(&mut ro).canary = Some(CanaryStatus {
            weights: Some(TrafficWeights {
                canary: WeightDestination {
                    weight: 40,
                    pod_template_hash: Some("canary".into()),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        });
        let stable = rs("stable", 3);
        assert_eq!(
            dynamically_rolling_back_to_stable(&ro, &stable),
            Some("canary".to_string())
        );
        assert!(abort_or_dynamic_rollback_to_stable(
            &ro,
            &[rs("canary", 2), stable.clone()],
            "stable"
        ));
        assert!(!abort_or_dynamic_rollback_to_stable(
            &ro,
            &[rs("canary", 2)],
            "stable"
        ));
        assert_eq!(
            dynamically_rolling_back_to_stable(&ro, &rs("stable", 5)),
            None,
            "available"
        );
        assert_eq!(
            dynamically_rolling_back_to_stable(&ro, &rs("canary", 1)),
            None,
            "same hash"
        );

        hashes(&mut ro, "stable", "other");
        assert_eq!(
            dynamically_rolling_back_to_stable(&ro, &stable),
            None,
            "not promoted"
        );
        st(&mut ro).abort = Some(true);
        assert!(
            abort_or_dynamic_rollback_to_stable(&ro, &[], "stable"),
            "aborted"
        );
    }

    /// Argo's `TestCanaryStepString`.
    #[test]
    fn canary_step_strings() {
        let step = |f: &dyn Fn(&mut CanaryStep)| {
            let mut s = CanaryStep::default();
            f(&mut s);
            s
        };
        let cases = [
            (step(&|s| s.set_weight = Some(20)), "setWeight: 20"),
            (step(&|s| s.pause = Some(RolloutPause::default())), "pause"),
            (
                step(&|s| {
                    s.pause = Some(RolloutPause {
                        duration: Some(IntOrString::Int(10)),
                    })
                }),
                "pause: 10",
            ),
            (
                step(&|s| {
                    s.pause = Some(RolloutPause {
                        duration: Some(IntOrString::String("10s".into())),
                    })
                }),
                "pause: 10s",
            ),
            (
                step(&|s| s.experiment = Some(RolloutExperimentStep::default())),
                "experiment",
            ),
            (
                step(&|s| s.analysis = Some(RolloutAnalysis::default())),
                "analysis",
            ),
            (
                step(&|s| {
                    s.set_canary_scale = Some(SetCanaryScale {
                        weight: Some(20),
                        ..Default::default()
                    })
                }),
                "setCanaryScale{weight: 20}",
            ),
            (
                step(&|s| {
                    s.set_canary_scale = Some(SetCanaryScale {
                        match_traffic_weight: Some(true),
                        ..Default::default()
                    })
                }),
                "setCanaryScale{matchTrafficWeight: true}",
            ),
            (
                step(&|s| {
                    s.set_canary_scale = Some(SetCanaryScale {
                        replicas: Some(5),
                        ..Default::default()
                    })
                }),
                "setCanaryScale{replicas: 5}",
            ),
            (
                step(&|s| {
                    s.plugin = Some(PluginStep {
                        name: "foo".into(),
                        config: None,
                    })
                }),
                "plugin: foo",
            ),
            (
                step(&|s| {
                    s.set_header_route = Some(SetHeaderRoute {
                        name: Some("foo".into()),
                        ..Default::default()
                    })
                }),
                "setHeaderRoute: foo",
            ),
            (
                step(&|s| {
                    s.set_mirror_route = Some(SetMirrorRoute {
                        name: "foo".into(),
                        ..Default::default()
                    })
                }),
                "setMirrorRoute: foo",
            ),
            (step(&|_| {}), "invalid"),
            (
                step(&|s| s.set_canary_scale = Some(SetCanaryScale::default())),
                "invalid",
            ),
        ];
        for (step, expected) in cases {
            assert_eq!(canary_step_string(&step), expected);
        }
    }
}
