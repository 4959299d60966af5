//! Rollout conditions: the exact reasons and messages of Argo Rollouts v1.9.1 and the rules for
//! changing `status.conditions` (Go `utils/conditions/conditions.go`, plus the two refresh paths
//! the controller applies inline in `rollout/sync.go` and `rollout/controller.go`).
//!
//! The order of `status.conditions` is observable: [`set_condition`] moves every changed
//! condition to the end, and the phase (see [`super::phase`]) reports the first degraded entry
//! in array order. Every helper here therefore preserves Argo's order exactly.

use chrono::{DateTime, Utc};
use k8s_openapi::{
    api::apps::v1::{ReplicaSet, ReplicaSetCondition},
    apimachinery::pkg::apis::meta::v1::Time,
    jiff::Timestamp,
};

use super::{k8s_time, to_utc};
use crate::{
    crd::rollout::{Rollout, RolloutCondition, RolloutStatus, condition},
    validation::go_quote,
};

// ---------------------------------------------------------------------------------------------
// Condition status values
// ---------------------------------------------------------------------------------------------

/// `corev1.ConditionTrue`.
pub const CONDITION_TRUE: &str = "True";
/// `corev1.ConditionFalse`.
pub const CONDITION_FALSE: &str = "False";
/// `corev1.ConditionUnknown` (Progressing while paused, resumed or retried).
pub const CONDITION_UNKNOWN: &str = "Unknown";

/// Argo's default `progressDeadlineSeconds`.
pub const DEFAULT_PROGRESS_DEADLINE_SECONDS: i32 = 600;

// ---------------------------------------------------------------------------------------------
// Reasons (condition reasons and event reasons share one namespace in Argo)
// ---------------------------------------------------------------------------------------------

/// Reason of the `InvalidSpec` condition.
pub const INVALID_SPEC_REASON: &str = "InvalidSpec";
/// Reason of the `Available` condition, True or False.
pub const AVAILABLE_REASON: &str = "AvailableReason";
/// Progressing True: a ReplicaSet was scaled or became ready/available.
pub const REPLICA_SET_UPDATED_REASON: &str = "ReplicaSetUpdated";
/// Progressing False: creating the new ReplicaSet failed.
pub const FAILED_RS_CREATE_REASON: &str = "ReplicaSetCreateError";
/// Progressing True: the new ReplicaSet was created.
pub const NEW_REPLICA_SET_REASON: &str = "NewReplicaSetCreated";
/// Progressing True: an existing ReplicaSet was adopted as the new one.
pub const FOUND_NEW_RS_REASON: &str = "FoundNewReplicaSet";
/// Event: the spec changed to a new revision.
pub const ROLLOUT_UPDATED_REASON: &str = "RolloutUpdated";
/// Reason (and message) of the `Completed` condition; also an event reason.
pub const ROLLOUT_COMPLETED_REASON: &str = "RolloutCompleted";
/// Event emitted whenever `Completed` flips to False.
pub const ROLLOUT_NOT_COMPLETED_REASON: &str = "RolloutNotCompleted";
/// Reason of the `Healthy` condition.
pub const ROLLOUT_HEALTHY_REASON: &str = "RolloutHealthy";
/// Progressing False after an abort (Degraded).
pub const ROLLOUT_ABORTED_REASON: &str = "RolloutAborted";
/// Progressing Unknown once the abort flag is cleared.
pub const ROLLOUT_RETRY_REASON: &str = "RolloutRetry";
/// Progressing Unknown while paused, and the reason of the `Paused` condition.
pub const ROLLOUT_PAUSED_REASON: &str = "RolloutPaused";
/// Progressing True: a fully promoted ReplicaSet lost availability.
pub const REPLICA_SET_NOT_AVAILABLE_REASON: &str = "ReplicaSetNotAvailable";
/// Progressing Unknown after a pause ends.
pub const ROLLOUT_RESUMED_REASON: &str = "RolloutResumed";
/// Event: a canary step completed.
pub const ROLLOUT_STEP_COMPLETED_REASON: &str = "RolloutStepCompleted";
/// Event: the traffic router weights changed.
pub const TRAFFIC_WEIGHT_UPDATED_REASON: &str = "TrafficWeightUpdated";
/// Progressing True: the new ReplicaSet is fully available and promoted.
pub const NEW_RS_AVAILABLE_REASON: &str = "NewReplicaSetAvailable";
/// Event: an AnalysisRun of the rollout failed.
pub const ROLLOUT_ANALYSIS_RUN_FAILED_REASON: &str = "AnalysisRunFailed";
/// Event: an Experiment of the rollout failed.
pub const ROLLOUT_EXPERIMENT_FAILED_REASON: &str = "ExperimentFailed";
/// Event: the reconcile returned an error.
pub const ROLLOUT_RECONCILIATION_ERROR_REASON: &str = "ReconciliationError";
/// Progressing False: no progress within `progressDeadlineSeconds` (Degraded).
pub const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";
/// Event: the rollout was deleted.
pub const ROLLOUT_DELETED_REASON: &str = "RolloutDeleted";
/// Event: a ReplicaSet was scaled.
pub const SCALING_REPLICA_SET_REASON: &str = "ScalingReplicaSet";
/// Event: a referenced Service is unusable.
pub const SERVICE_REFERENCE_REASON: &str = "ServiceReferenceError";
/// Event: a step plugin moved to an unsuccessful phase.
pub const STEP_PLUGIN_TRANSITION_REASON: &str = "StepPluginTransition";
/// Event: an ALB target group was verified.
pub const TARGET_GROUP_VERIFIED_REASON: &str = "TargetGroupVerified";
/// Event: an ALB target group is not verified yet.
pub const TARGET_GROUP_UNVERIFIED_REASON: &str = "TargetGroupUnverified";
/// Event: verifying an ALB target group failed.
pub const TARGET_GROUP_VERIFY_ERROR_REASON: &str = "TargetGroupVerifyError";
/// Event: verifying the router weight failed.
pub const WEIGHT_VERIFY_ERROR_REASON: &str = "WeightVerifyError";
/// Event: the ALB could not be found.
pub const LOAD_BALANCER_NOT_FOUND_REASON: &str = "LoadBalancerNotFound";
/// Event: the controller first saw the rollout.
pub const ROLLOUT_ADDED_TO_INFORMER_REASON: &str = "RolloutAddedToInformer";

// ---------------------------------------------------------------------------------------------
// Fixed messages
// ---------------------------------------------------------------------------------------------

/// Validation message for an empty selector.
pub const ROLLOUT_SELECT_ALL_MESSAGE: &str =
    "This rollout is selecting all pods. A non-empty selector is required.";
/// `Available` False; also Progressing `ReplicaSetNotAvailable`.
pub const NOT_AVAILABLE_MESSAGE: &str = "Rollout does not have minimum availability";
/// `Available` True.
pub const AVAILABLE_MESSAGE: &str = "Rollout has minimum availability";
/// `Healthy` True.
pub const ROLLOUT_HEALTHY_MESSAGE: &str = "Rollout is healthy";
/// `Healthy` False.
pub const ROLLOUT_NOT_HEALTHY_MESSAGE: &str = "Rollout is not healthy";
/// Progressing `RolloutRetry`.
pub const ROLLOUT_RETRY_MESSAGE: &str = "Retrying Rollout after abort";
/// Progressing `RolloutPaused`, and the `Paused` condition whether True or False.
pub const ROLLOUT_PAUSED_MESSAGE: &str = "Rollout is paused";
/// Progressing `RolloutResumed`, and the `RolloutResumed` event.
pub const ROLLOUT_RESUMED_MESSAGE: &str = "Rollout is resumed";

// ---------------------------------------------------------------------------------------------
// Formatted messages (Go `%q` is Go string quoting, `%s`/`%d`/`%v` are plain)
// ---------------------------------------------------------------------------------------------

/// `Rollout has missing field '%s'`.
pub fn missing_field_message(field: &str) -> String {
    format!("Rollout has missing field '{field}'")
}

/// `InvalidSpec` message. Argo writes `\"%s\"`, not `%q`: the name is never escaped.
pub fn invalid_spec_message(rollout_name: &str, field_error: &str) -> String {
    format!("The Rollout \"{rollout_name}\" is invalid: {field_error}")
}

/// Progressing `ReplicaSetUpdated` without a new ReplicaSet: `Rollout %q is progressing.`
pub fn rollout_progressing_message(rollout_name: &str) -> String {
    format!("Rollout {} is progressing.", go_quote(rollout_name))
}

/// Progressing `ReplicaSetUpdated`: `ReplicaSet %q is progressing.`
pub fn replica_set_progressing_message(rs_name: &str) -> String {
    format!("ReplicaSet {} is progressing.", go_quote(rs_name))
}

/// The `ReplicaSetUpdated` message Argo picks: the new ReplicaSet's name when there is one.
pub fn progressing_message(rollout_name: &str, new_rs_name: Option<&str>) -> String {
    match new_rs_name {
        Some(rs) => replica_set_progressing_message(rs),
        None => rollout_progressing_message(rollout_name),
    }
}

/// Progressing `ReplicaSetCreateError`: `Failed to create new replica set %q: %v`.
pub fn failed_rs_create_message(rs_name: &str, error: &str) -> String {
    format!(
        "Failed to create new replica set {}: {error}",
        go_quote(rs_name)
    )
}

/// Progressing `NewReplicaSetCreated`: `Created new replica set %q`.
pub fn new_rs_created_message(rs_name: &str) -> String {
    format!("Created new replica set {}", go_quote(rs_name))
}

/// Event `NewReplicaSetCreated`: `Created ReplicaSet %s (revision %d)`.
pub fn new_rs_detailed_message(rs_name: &str, revision: i64) -> String {
    format!("Created ReplicaSet {rs_name} (revision {revision})")
}

/// Progressing `FoundNewReplicaSet`: `Found new replica set %q`.
pub fn found_new_rs_message(rs_name: &str) -> String {
    format!("Found new replica set {}", go_quote(rs_name))
}

/// Event `RolloutUpdated`: `Rollout updated to revision %s`.
pub fn rollout_updated_message(revision: &str) -> String {
    format!("Rollout updated to revision {revision}")
}

/// Event `RolloutCompleted`: `Rollout completed update to revision %d (%s): %s`.
pub fn rollout_completed_message(revision: i64, pod_hash: &str, reason: &str) -> String {
    format!("Rollout completed update to revision {revision} ({pod_hash}): {reason}")
}

/// Event `RolloutNotCompleted`: `Rollout not completed, started update to revision %d (%s)`.
pub fn rollout_not_completed_message(revision: i64, pod_hash: &str) -> String {
    format!("Rollout not completed, started update to revision {revision} ({pod_hash})")
}

/// Progressing `RolloutAborted`: `Rollout aborted update to revision %d`, with `: <detail>`
/// appended only when the abort was raised in this reconcile with a message (never for a user
/// abort, §3.7); pass `""` for none.
pub fn rollout_aborted_message(revision: i64, detail: &str) -> String {
    if detail.is_empty() {
        format!("Rollout aborted update to revision {revision}")
    } else {
        format!("Rollout aborted update to revision {revision}: {detail}")
    }
}

/// Event `RolloutPaused`: `Rollout is paused (<first pause reason>)`.
pub fn rollout_paused_event_message(pause_reason: &str) -> String {
    format!("{ROLLOUT_PAUSED_MESSAGE} ({pause_reason})")
}

/// Event `RolloutStepCompleted`: `Rollout step %d/%d completed (%s)` (1-based step).
pub fn rollout_step_completed_message(step: i32, total: i32, step_string: &str) -> String {
    format!("Rollout step {step}/{total} completed ({step_string})")
}

/// Event `TrafficWeightUpdated`: `Traffic weight updated %s`.
pub fn traffic_weight_updated_message(detail: &str) -> String {
    format!("Traffic weight updated {detail}")
}

/// `AnalysisRun '%s' owned by the Rollout '%q' failed.` (quotes inside quotes, as Argo has it).
pub fn analysis_run_failed_message(analysis_run: &str, rollout_name: &str) -> String {
    format!(
        "AnalysisRun '{analysis_run}' owned by the Rollout '{}' failed.",
        go_quote(rollout_name)
    )
}

/// `Experiment '%s' owned by the Rollout '%q' has timed out.`
pub fn experiment_failed_message(experiment: &str, rollout_name: &str) -> String {
    format!(
        "Experiment '{experiment}' owned by the Rollout '{}' has timed out.",
        go_quote(rollout_name)
    )
}

/// `Reconciliation failed with error: %v`.
pub fn reconciliation_error_message(error: &str) -> String {
    format!("Reconciliation failed with error: {error}")
}

/// Progressing `ProgressDeadlineExceeded` without a new ReplicaSet: `Rollout %q has timed out progressing.`
pub fn rollout_timed_out_message(rollout_name: &str) -> String {
    format!(
        "Rollout {} has timed out progressing.",
        go_quote(rollout_name)
    )
}

/// Progressing `ProgressDeadlineExceeded`: `ReplicaSet %q has timed out progressing.`
pub fn replica_set_timed_out_message(rs_name: &str) -> String {
    format!(
        "ReplicaSet {} has timed out progressing.",
        go_quote(rs_name)
    )
}

/// The timeout message Argo picks: the new ReplicaSet's name when there is one.
pub fn timed_out_message(rollout_name: &str, new_rs_name: Option<&str>) -> String {
    match new_rs_name {
        Some(rs) => replica_set_timed_out_message(rs),
        None => rollout_timed_out_message(rollout_name),
    }
}

/// Progressing `NewReplicaSetAvailable`: `ReplicaSet %q has successfully progressed.`
/// Argo passes `""` when there is no new ReplicaSet, giving `ReplicaSet "" has …`.
pub fn replica_set_completed_message(rs_name: &str) -> String {
    format!(
        "ReplicaSet {} has successfully progressed.",
        go_quote(rs_name)
    )
}

/// Event `RolloutDeleted`: `Rollout %s/%s is deleted.`
pub fn rollout_deleted_message(namespace: &str, name: &str) -> String {
    format!("Rollout {namespace}/{name} is deleted.")
}

/// Event `ScalingReplicaSet`: `Scaled %s ReplicaSet %s (revision %d) from %d to %d`
/// (`direction` is `up` or `down`).
pub fn scaling_replica_set_message(
    direction: &str,
    rs_name: &str,
    revision: i64,
    from: i32,
    to: i32,
) -> String {
    format!("Scaled {direction} ReplicaSet {rs_name} (revision {revision}) from {from} to {to}")
}

/// `Service %q is managed by another Rollout`.
pub fn service_managed_by_another_rollout_message(service: &str) -> String {
    format!(
        "Service {} is managed by another Rollout",
        go_quote(service)
    )
}

/// `Step plugin %s (step %d) transitioned to %s`.
pub fn step_plugin_transition_run_message(plugin: &str, step: i32, phase: &str) -> String {
    format!("Step plugin {plugin} (step {step}) transitioned to {phase}")
}

/// `Step plugin %s (step %d) aborted (%s)`.
pub fn step_plugin_transition_abort_message(plugin: &str, step: i32, detail: &str) -> String {
    format!("Step plugin {plugin} (step {step}) aborted ({detail})")
}

/// `Step plugin %s (step %d) terminated (%s)`.
pub fn step_plugin_transition_terminate_message(plugin: &str, step: i32, detail: &str) -> String {
    format!("Step plugin {plugin} (step {step}) terminated ({detail})")
}

/// `Service %s (TargetGroup %s) verified: %d endpoints registered`.
pub fn target_group_verified_registration_message(svc: &str, tg: &str, count: i32) -> String {
    format!("Service {svc} (TargetGroup {tg}) verified: {count} endpoints registered")
}

/// `Service %s (TargetGroup %s) verified: canary weight %d set`.
pub fn target_group_verified_weights_message(svc: &str, tg: &str, weight: i32) -> String {
    format!("Service {svc} (TargetGroup {tg}) verified: canary weight {weight} set")
}

/// `Service %s (TargetGroup %s) not verified: %d/%d endpoints registered`.
pub fn target_group_unverified_registration_message(
    svc: &str,
    tg: &str,
    registered: i32,
    total: i32,
) -> String {
    format!(
        "Service {svc} (TargetGroup {tg}) not verified: {registered}/{total} endpoints registered"
    )
}

/// `Service %s (TargetGroup %s) not verified: canary weight %d not yet set (current: %d)`.
pub fn target_group_unverified_weights_message(
    svc: &str,
    tg: &str,
    weight: i32,
    current: i32,
) -> String {
    format!(
        "Service {svc} (TargetGroup {tg}) not verified: canary weight {weight} not yet set (current: {current})"
    )
}

/// `Failed to verify Service %s (TargetGroup %s): %s`.
pub fn target_group_verify_error_message(svc: &str, tg: &str, error: &str) -> String {
    format!("Failed to verify Service {svc} (TargetGroup {tg}): {error}")
}

/// `Failed to verify weight: %s`.
pub fn weight_verify_error_message(error: &str) -> String {
    format!("Failed to verify weight: {error}")
}

/// `Failed to find load balancer: %s`.
pub fn load_balancer_not_found_message(error: &str) -> String {
    format!("Failed to find load balancer: {error}")
}

// ---------------------------------------------------------------------------------------------
// Building, reading and changing conditions
// ---------------------------------------------------------------------------------------------

/// A condition with both timestamps set to `now` (Argo's `NewRolloutCondition`).
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: impl Into<String>,
    now: DateTime<Utc>,
) -> RolloutCondition {
    let time = k8s_time(now);
    RolloutCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        last_update_time: time.clone(),
        last_transition_time: time,
        reason: reason.to_string(),
        message: message.into(),
    }
}

/// `Available` with reason `AvailableReason` and the matching fixed message.
pub fn available_condition(available: bool, now: DateTime<Utc>) -> RolloutCondition {
    let (status, message) = if available {
        (CONDITION_TRUE, AVAILABLE_MESSAGE)
    } else {
        (CONDITION_FALSE, NOT_AVAILABLE_MESSAGE)
    };
    new_condition(condition::AVAILABLE, status, AVAILABLE_REASON, message, now)
}

/// `Healthy` with reason `RolloutHealthy` and the matching fixed message.
pub fn healthy_condition(healthy: bool, now: DateTime<Utc>) -> RolloutCondition {
    let (status, message) = if healthy {
        (CONDITION_TRUE, ROLLOUT_HEALTHY_MESSAGE)
    } else {
        (CONDITION_FALSE, ROLLOUT_NOT_HEALTHY_MESSAGE)
    };
    new_condition(
        condition::HEALTHY,
        status,
        ROLLOUT_HEALTHY_REASON,
        message,
        now,
    )
}

/// `Completed`: reason and message are both `RolloutCompleted`, whatever the status.
pub fn completed_condition(completed: bool, now: DateTime<Utc>) -> RolloutCondition {
    let status = if completed {
        CONDITION_TRUE
    } else {
        CONDITION_FALSE
    };
    new_condition(
        condition::COMPLETED,
        status,
        ROLLOUT_COMPLETED_REASON,
        ROLLOUT_COMPLETED_REASON,
        now,
    )
}

/// `Paused`: reason `RolloutPaused` and message "Rollout is paused" also when False (an Argo quirk).
pub fn paused_condition(paused: bool, now: DateTime<Utc>) -> RolloutCondition {
    let status = if paused {
        CONDITION_TRUE
    } else {
        CONDITION_FALSE
    };
    new_condition(
        condition::PAUSED,
        status,
        ROLLOUT_PAUSED_REASON,
        ROLLOUT_PAUSED_MESSAGE,
        now,
    )
}

/// The first condition of `type_` (Argo's `GetRolloutCondition`).
pub fn get_condition<'a>(status: &'a RolloutStatus, type_: &str) -> Option<&'a RolloutCondition> {
    status
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// Whether the condition of `type_` exists with status `True`.
pub fn is_condition_true(status: &RolloutStatus, type_: &str) -> bool {
    get_condition(status, type_).is_some_and(|c| c.status == CONDITION_TRUE)
}

/// Whether the condition of `type_` exists with this reason.
pub fn has_condition_reason(status: &RolloutStatus, type_: &str, reason: &str) -> bool {
    get_condition(status, type_).is_some_and(|c| c.reason == reason)
}

/// Argo's `SetRolloutCondition`; returns whether `status` changed.
///
/// - Same status and reason as the existing condition: nothing changes, so neither the message
///   nor `lastUpdateTime` is refreshed (phase messages can therefore be stale by design).
/// - Same status, other reason: `lastTransitionTime` is carried over from the existing one.
/// - Any change removes every condition of that type and appends the new one at the **end**.
pub fn set_condition(status: &mut RolloutStatus, mut condition: RolloutCondition) -> bool {
    if let Some(current) = get_condition(status, &condition.type_) {
        if current.status == condition.status && current.reason == condition.reason {
            return false;
        }
        if current.status == condition.status {
            condition.last_transition_time = current.last_transition_time.clone();
        }
    }
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    conditions.retain(|c| c.type_ != condition.type_);
    conditions.push(condition);
    true
}

/// Argo's `RemoveRolloutCondition`: drops every condition of `type_`. An emptied list becomes
/// absent, as Go's nil slice is omitted from the JSON.
pub fn remove_condition(status: &mut RolloutStatus, type_: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|c| c.type_ != type_);
        if conditions.is_empty() {
            status.conditions = None;
        }
    }
}

/// The Progressing update Argo makes inline when it sees progress (`calculateRolloutConditions`):
/// unlike [`set_condition`] it always takes effect, so `lastUpdateTime` (the progress-deadline
/// clock) and the message are refreshed even when status and reason are unchanged.
///
/// `previous` is the Progressing condition of the status *as read* (`rollout.status`), not of the
/// status being built. When it exists it is removed, and its `lastTransitionTime` is kept if it
/// was `True`; `condition` is then appended at the end.
pub fn refresh_progressing_condition(
    status: &mut RolloutStatus,
    previous: Option<&RolloutCondition>,
    mut condition: RolloutCondition,
) {
    if let Some(previous) = previous {
        if previous.status == CONDITION_TRUE {
            condition.last_transition_time = previous.last_transition_time.clone();
        }
        remove_condition(status, condition::PROGRESSING);
    }
    set_condition(status, condition);
}

/// InvalidSpec as the controller writes it (`createInvalidRolloutCondition`): True with reason
/// `InvalidSpec` and `message` (see [`invalid_spec_message`]). Unlike [`set_condition`], a new
/// message replaces the old one: the condition is removed and re-appended at the end with fresh
/// timestamps. The same message changes nothing. Returns whether `status` changed.
pub fn set_invalid_spec_condition(
    status: &mut RolloutStatus,
    message: impl Into<String>,
    now: DateTime<Utc>,
) -> bool {
    let message = message.into();
    match get_condition(status, condition::INVALID_SPEC) {
        Some(previous) if previous.message == message => false,
        previous => {
            if previous.is_some() {
                remove_condition(status, condition::INVALID_SPEC);
            }
            set_condition(
                status,
                new_condition(
                    condition::INVALID_SPEC,
                    CONDITION_TRUE,
                    INVALID_SPEC_REASON,
                    message,
                    now,
                ),
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Predicates over a rollout and the status being built
// ---------------------------------------------------------------------------------------------

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

fn count(value: Option<i32>) -> i32 {
    value.unwrap_or(0)
}

fn active_selector(status: &RolloutStatus) -> &str {
    status
        .blue_green
        .as_ref()
        .map_or("", |bg| text(&bg.active_selector))
}

fn preview_selector(status: &RolloutStatus) -> &str {
    status
        .blue_green
        .as_ref()
        .map_or("", |bg| text(&bg.preview_selector))
}

/// Argo's `RolloutProgressing`: did anything move between `rollout.status` (as read) and
/// `new_status`? Counts, a drop in old replicas, more ready/available pods, and per strategy a
/// selector switch (blue-green) or a stable/step-index/step-hash change (canary).
pub fn rollout_progressing(rollout: &Rollout, new_status: &RolloutStatus) -> bool {
    let default_status = RolloutStatus::default();
    let old = rollout.status.as_ref().unwrap_or(&default_status);
    let strategy = &rollout.spec.strategy;

    let mut strategy_progress = false;
    if strategy.blue_green.is_some() {
        strategy_progress = active_selector(old) != active_selector(new_status)
            || preview_selector(old) != preview_selector(new_status);
    }
    if strategy.canary.is_some() {
        let stable_changed = text(&new_status.stable_rs) != text(&old.stable_rs);
        let index_changed = matches!(
            (new_status.current_step_index, old.current_step_index),
            (Some(new), Some(old)) if new != old
        );
        let step_hash_changed = text(&new_status.current_step_hash) != text(&old.current_step_hash);
        strategy_progress = stable_changed || index_changed || step_hash_changed;
    }

    let old_old_replicas = count(old.replicas) - count(old.updated_replicas);
    let new_old_replicas = count(new_status.replicas) - count(new_status.updated_replicas);

    count(new_status.updated_replicas) != count(old.updated_replicas)
        || new_old_replicas < old_old_replicas
        || count(new_status.ready_replicas) > count(old.ready_replicas)
        || count(new_status.available_replicas) > count(old.available_replicas)
        || strategy_progress
}

/// Argo's `RolloutHealthy`: every desired replica updated and available, the generation observed
/// (read from `rollout.status`, not `new_status`), and the strategy finished: blue-green
/// selectors on the current hash (preview only when a preview service is set); canary at the end
/// of its steps, current hash stable and no extra replicas.
pub fn rollout_healthy(rollout: &Rollout, new_status: &RolloutStatus) -> bool {
    rollout_healthy_at(rollout, rollout.status.as_ref(), new_status)
}

/// [`rollout_healthy`] with `observed` in place of the rollout's own status (where the observed
/// generation is read).
pub fn rollout_healthy_at(
    rollout: &Rollout,
    observed: Option<&RolloutStatus>,
    new_status: &RolloutStatus,
) -> bool {
    let replicas = rollout.desired_replicas();
    let current_pod_hash = text(&new_status.current_pod_hash);
    let strategy = &rollout.spec.strategy;

    let mut completed_strategy = true;
    if let Some(bg) = &strategy.blue_green {
        let active_done = active_selector(new_status) == current_pod_hash;
        let preview_done = bg.preview_service.as_deref().unwrap_or("").is_empty()
            || preview_selector(new_status) == current_pod_hash;
        completed_strategy = active_done && preview_done;
    }
    if strategy.canary.is_some() {
        let step_count = rollout.steps().len();
        let executed_all_steps = match new_status.current_step_index {
            Some(index) if step_count > 0 => i64::from(index) == step_count as i64,
            _ => true,
        };
        let stable = text(&new_status.stable_rs);
        let current_is_stable = !stable.is_empty() && stable == current_pod_hash;
        let old_scaled_down = count(new_status.replicas) == replicas;
        completed_strategy = executed_all_steps && current_is_stable && old_scaled_down;
    }

    let observed = observed
        .and_then(|s| s.observed_generation.as_deref())
        .unwrap_or("");
    let generation = rollout.metadata.generation.unwrap_or(0).to_string();

    count(new_status.updated_replicas) == replicas
        && count(new_status.available_replicas) == replicas
        && observed == generation
        && completed_strategy
}

/// Argo's `RolloutCompleted`: the desired ReplicaSet is the stable one.
pub fn rollout_completed(new_status: &RolloutStatus) -> bool {
    let stable = text(&new_status.stable_rs);
    !stable.is_empty() && stable == text(&new_status.current_pod_hash)
}

/// `spec.progressDeadlineSeconds` or Argo's default of 600.
pub fn progress_deadline_seconds(rollout: &Rollout) -> i32 {
    rollout
        .spec
        .progress_deadline_seconds
        .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECONDS)
}

/// Argo's `RolloutTimedOut`, from the Progressing condition of `new_status`: never without one or
/// while it says `RolloutAborted`/`RolloutPaused` (a retry must not time out on an old abort);
/// always once it says `ProgressDeadlineExceeded`; otherwise when `lastUpdateTime + deadline` is
/// strictly before `now`.
pub fn rollout_timed_out(
    rollout: &Rollout,
    new_status: &RolloutStatus,
    now: DateTime<Utc>,
) -> bool {
    let Some(progressing) = get_condition(new_status, condition::PROGRESSING) else {
        return false;
    };
    match progressing.reason.as_str() {
        ROLLOUT_ABORTED_REASON | ROLLOUT_PAUSED_REASON => false,
        TIMED_OUT_REASON => true,
        _ => {
            let deadline = to_utc(&progressing.last_update_time)
                + chrono::Duration::seconds(i64::from(progress_deadline_seconds(rollout)));
            deadline < now
        }
    }
}

/// When the progress deadline of the Progressing condition in `status` falls:
/// `lastUpdateTime + progressDeadlineSeconds` (the requeue time of Argo's `requeueStuckRollout`).
pub fn progress_deadline(rollout: &Rollout, status: &RolloutStatus) -> Option<DateTime<Utc>> {
    let progressing = get_condition(status, condition::PROGRESSING)?;
    Some(
        to_utc(&progressing.last_update_time)
            + chrono::Duration::seconds(i64::from(progress_deadline_seconds(rollout))),
    )
}

/// Go's zero `time.Time` (0001-01-01T00:00:00Z), the value of a timestamp nobody set.
fn go_zero_time() -> Time {
    Time(Timestamp::from_second(-62_135_596_800).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// Argo's `ReplicaSetToRolloutCondition`: the RS condition under the same type, status, reason
/// and message, with its `lastTransitionTime` used for both timestamps. A missing timestamp (Go's
/// zero time) becomes 0001-01-01T00:00:00Z; Go would write `null`, which our type cannot hold.
pub fn replica_set_to_rollout_condition(cond: &ReplicaSetCondition) -> RolloutCondition {
    let time = cond
        .last_transition_time
        .clone()
        .unwrap_or_else(go_zero_time);
    RolloutCondition {
        type_: cond.type_.clone(),
        status: cond.status.clone(),
        last_update_time: time.clone(),
        last_transition_time: time,
        reason: cond.reason.clone().unwrap_or_default(),
        message: cond.message.clone().unwrap_or_default(),
    }
}

fn replica_failures(rs: &ReplicaSet) -> impl Iterator<Item = &ReplicaSetCondition> {
    rs.status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .filter(|c| c.type_ == condition::REPLICA_FAILURE)
}

/// The `ReplicaFailure` condition to copy onto the rollout (Argo's `getReplicaFailures`, first
/// entry): the new ReplicaSet's, else the first found over `all_rs` in order. `None` means the
/// rollout's `ReplicaFailure` condition should be removed.
pub fn replica_failure_condition<'a>(
    new_rs: Option<&'a ReplicaSet>,
    all_rs: impl IntoIterator<Item = &'a ReplicaSet>,
) -> Option<RolloutCondition> {
    new_rs
        .into_iter()
        .chain(all_rs)
        .flat_map(replica_failures)
        .next()
        .map(replica_set_to_rollout_condition)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::ReplicaSetStatus;
    use kube::api::ObjectMeta;

    use super::*;
    use crate::crd::rollout::{
        BlueGreenStatus, BlueGreenStrategy, CanaryStep, CanaryStrategy, RolloutSpec,
        RolloutStrategy,
    };

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + seconds, 0).unwrap()
    }

    fn cond(type_: &str, status: &str, reason: &str, message: &str, t: i64) -> RolloutCondition {
        new_condition(type_, status, reason, message, at(t))
    }

    fn with(conditions: Vec<RolloutCondition>) -> RolloutStatus {
        RolloutStatus {
            conditions: Some(conditions),
            ..Default::default()
        }
    }

    fn types(status: &RolloutStatus) -> Vec<&str> {
        status
            .conditions
            .iter()
            .flatten()
            .map(|c| c.type_.as_str())
            .collect()
    }

    #[test]
    fn messages_match_argo_format_strings() {
        assert_eq!(
            new_rs_created_message("x"),
            r#"Created new replica set "x""#
        );
        assert_eq!(
            found_new_rs_message("ro-abc"),
            r#"Found new replica set "ro-abc""#
        );
        assert_eq!(
            progressing_message("ro", Some("ro-abc")),
            r#"ReplicaSet "ro-abc" is progressing."#
        );
        assert_eq!(
            progressing_message("ro", None),
            r#"Rollout "ro" is progressing."#
        );
        assert_eq!(
            timed_out_message("ro", Some("ro-abc")),
            r#"ReplicaSet "ro-abc" has timed out progressing."#
        );
        assert_eq!(
            timed_out_message("ro", None),
            r#"Rollout "ro" has timed out progressing."#
        );
        assert_eq!(
            replica_set_completed_message(""),
            r#"ReplicaSet "" has successfully progressed."#
        );
        assert_eq!(
            failed_rs_create_message("ro-abc", "quota exceeded"),
            r#"Failed to create new replica set "ro-abc": quota exceeded"#
        );
        assert_eq!(
            rollout_aborted_message(3, ""),
            "Rollout aborted update to revision 3"
        );
        assert_eq!(
            rollout_aborted_message(3, r#"ReplicaSet "x" has timed out progressing."#),
            r#"Rollout aborted update to revision 3: ReplicaSet "x" has timed out progressing."#
        );
        assert_eq!(
            rollout_not_completed_message(1, "5f78d78c4d"),
            "Rollout not completed, started update to revision 1 (5f78d78c4d)"
        );
        assert_eq!(
            invalid_spec_message("foo", "spec.selector: Required value: x"),
            r#"The Rollout "foo" is invalid: spec.selector: Required value: x"#
        );
        assert_eq!(
            analysis_run_failed_message("ar", "ro"),
            r#"AnalysisRun 'ar' owned by the Rollout '"ro"' failed."#
        );
        assert_eq!(
            rollout_paused_event_message("CanaryPauseStep"),
            "Rollout is paused (CanaryPauseStep)"
        );
        assert_eq!(
            scaling_replica_set_message("up", "ro-abc", 2, 0, 5),
            "Scaled up ReplicaSet ro-abc (revision 2) from 0 to 5"
        );
        // %q escapes like Go.
        assert_eq!(
            new_rs_created_message("a\"b"),
            r#"Created new replica set "a\"b""#
        );
    }

    #[test]
    fn fixed_conditions_have_exact_strings() {
        let paused = paused_condition(false, at(0));
        assert_eq!(
            (
                paused.type_.as_str(),
                paused.status.as_str(),
                paused.reason.as_str(),
                paused.message.as_str()
            ),
            ("Paused", "False", "RolloutPaused", "Rollout is paused")
        );
        let completed = completed_condition(true, at(0));
        assert_eq!(
            (
                completed.status.as_str(),
                completed.reason.as_str(),
                completed.message.as_str()
            ),
            ("True", "RolloutCompleted", "RolloutCompleted")
        );
        let available = available_condition(false, at(0));
        assert_eq!(
            (available.reason.as_str(), available.message.as_str()),
            (
                "AvailableReason",
                "Rollout does not have minimum availability"
            )
        );
        assert_eq!(healthy_condition(true, at(0)).message, "Rollout is healthy");
        assert_eq!(
            healthy_condition(false, at(0)).message,
            "Rollout is not healthy"
        );
    }

    #[test]
    fn get_condition_finds_by_type() {
        let status = with(vec![
            cond("InvalidSpec", "False", "ForSomeReason", "", 0),
            cond("Available", "True", "AwesomeController", "", 0),
        ]);
        assert!(get_condition(&status, "Available").is_some());
        assert!(get_condition(&status, FAILED_RS_CREATE_REASON).is_none());
        assert!(get_condition(&RolloutStatus::default(), "Available").is_none());
        assert!(is_condition_true(&status, "Available"));
        assert!(!is_condition_true(&status, "InvalidSpec"));
        assert!(has_condition_reason(
            &status,
            "InvalidSpec",
            "ForSomeReason"
        ));
    }

    /// Table from Argo's `TestSetCondition`, plus the ordering and timestamp rules.
    #[test]
    fn set_condition_table() {
        struct Case {
            name: &'static str,
            before: Vec<RolloutCondition>,
            set: RolloutCondition,
            changed: bool,
            after: Vec<RolloutCondition>,
        }
        let invalid = || cond("InvalidSpec", "False", "ForSomeReason", "", 0);
        let invalid2 = || cond("InvalidSpec", "True", "BecauseItIs", "", 0);
        let available = || cond("Available", "True", "AwesomeController", "", 0);
        let progressing =
            |status, reason, message, t| cond("Progressing", status, reason, message, t);

        let cases = vec![
            Case {
                name: "set for the first time",
                before: vec![],
                set: available(),
                changed: true,
                after: vec![available()],
            },
            Case {
                name: "simple set appends",
                before: vec![invalid()],
                set: available(),
                changed: true,
                after: vec![invalid(), available()],
            },
            Case {
                name: "no changes",
                before: vec![available()],
                set: available(),
                changed: false,
                after: vec![available()],
            },
            Case {
                name: "status change takes both new timestamps",
                before: vec![cond("Available", "True", "AwesomeController", "", 0)],
                set: cond("Available", "False", "AwesomeController", "", 60),
                changed: true,
                after: vec![cond("Available", "False", "AwesomeController", "", 60)],
            },
            Case {
                name: "same status and reason keeps old update time",
                before: vec![cond("Available", "True", "AwesomeController", "", 0)],
                set: cond("Available", "True", "AwesomeController", "", 60),
                changed: false,
                after: vec![cond("Available", "True", "AwesomeController", "", 0)],
            },
            Case {
                name: "overwrite",
                before: vec![invalid()],
                set: invalid2(),
                changed: true,
                after: vec![invalid2()],
            },
            Case {
                name: "same status and reason does not refresh the message",
                before: vec![progressing("True", "ReplicaSetUpdated", "old message", 0)],
                set: progressing("True", "ReplicaSetUpdated", "new message", 60),
                changed: false,
                after: vec![progressing("True", "ReplicaSetUpdated", "old message", 0)],
            },
            Case {
                name: "changed condition moves to the end",
                before: vec![
                    progressing("True", "NewReplicaSetCreated", "a", 0),
                    available(),
                ],
                set: progressing("False", "RolloutAborted", "b", 60),
                changed: true,
                after: vec![available(), progressing("False", "RolloutAborted", "b", 60)],
            },
            Case {
                name: "same status other reason keeps transition time",
                before: vec![
                    progressing("True", "NewReplicaSetCreated", "a", 0),
                    available(),
                ],
                set: progressing("True", "ReplicaSetUpdated", "b", 60),
                changed: true,
                after: vec![available(), {
                    let mut c = progressing("True", "ReplicaSetUpdated", "b", 60);
                    c.last_transition_time = k8s_time(at(0));
                    c
                }],
            },
            Case {
                name: "unchanged condition keeps its place",
                before: vec![available(), invalid()],
                set: available(),
                changed: false,
                after: vec![available(), invalid()],
            },
        ];

        for case in cases {
            let mut status = with(case.before);
            if status.conditions.as_ref().is_some_and(Vec::is_empty) {
                status.conditions = None;
            }
            assert_eq!(
                set_condition(&mut status, case.set),
                case.changed,
                "{}",
                case.name
            );
            assert_eq!(status.conditions.unwrap(), case.after, "{}", case.name);
        }
    }

    #[test]
    fn set_condition_drops_duplicates_of_the_type() {
        let mut status = with(vec![
            cond("Progressing", "True", "A", "", 0),
            cond("Available", "True", "AvailableReason", "", 0),
            cond("Progressing", "True", "B", "", 0),
        ]);
        assert!(set_condition(
            &mut status,
            cond("Progressing", "False", "C", "", 1)
        ));
        assert_eq!(types(&status), ["Available", "Progressing"]);
    }

    #[test]
    fn remove_condition_table() {
        let mut empty = RolloutStatus::default();
        remove_condition(&mut empty, "InvalidSpec");
        assert_eq!(empty, RolloutStatus::default());

        let mut only = with(vec![cond("InvalidSpec", "False", "ForSomeReason", "", 0)]);
        remove_condition(&mut only, "InvalidSpec");
        assert_eq!(only, RolloutStatus::default(), "an emptied list is omitted");

        let both = with(vec![
            cond("InvalidSpec", "False", "ForSomeReason", "", 0),
            cond("Available", "True", "AwesomeController", "", 0),
        ]);
        let mut unchanged = both.clone();
        remove_condition(&mut unchanged, FAILED_RS_CREATE_REASON);
        assert_eq!(unchanged, both);
    }

    #[test]
    fn progress_refresh_updates_time_and_message_and_moves_to_end() {
        let previous = cond("Progressing", "True", "ReplicaSetUpdated", "old", 0);
        let mut status = with(vec![
            previous.clone(),
            cond("Available", "False", "AvailableReason", "", 0),
        ]);
        let fresh = cond("Progressing", "True", "ReplicaSetUpdated", "new", 90);
        refresh_progressing_condition(&mut status, Some(&previous), fresh);
        assert_eq!(types(&status), ["Available", "Progressing"]);
        let p = get_condition(&status, "Progressing").unwrap();
        assert_eq!(p.message, "new");
        assert_eq!(p.last_update_time, k8s_time(at(90)));
        assert_eq!(
            p.last_transition_time,
            k8s_time(at(0)),
            "True → True keeps the transition"
        );

        // From a non-True Progressing condition the transition time is the new one.
        let paused = cond(
            "Progressing",
            "Unknown",
            "RolloutResumed",
            "Rollout is resumed",
            0,
        );
        let mut status = with(vec![paused.clone()]);
        refresh_progressing_condition(
            &mut status,
            Some(&paused),
            cond("Progressing", "True", "ReplicaSetUpdated", "m", 30),
        );
        let p = get_condition(&status, "Progressing").unwrap();
        assert_eq!(p.last_transition_time, k8s_time(at(30)));

        // Without a previous condition it is a plain append.
        let mut status = RolloutStatus::default();
        refresh_progressing_condition(&mut status, None, cond("Progressing", "True", "R", "m", 5));
        assert_eq!(types(&status), ["Progressing"]);
    }

    #[test]
    fn invalid_spec_is_replaced_when_its_message_changes() {
        let mut status = with(vec![cond(
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            "",
            0,
        )]);
        assert!(set_invalid_spec_condition(&mut status, "first", at(0)));
        assert!(set_condition(
            &mut status,
            cond("Available", "False", "AvailableReason", "", 1)
        ));
        assert_eq!(types(&status), ["Progressing", "InvalidSpec", "Available"]);

        assert!(!set_invalid_spec_condition(&mut status, "first", at(10)));
        assert_eq!(types(&status), ["Progressing", "InvalidSpec", "Available"]);

        assert!(set_invalid_spec_condition(&mut status, "second", at(20)));
        assert_eq!(types(&status), ["Progressing", "Available", "InvalidSpec"]);
        let invalid = get_condition(&status, "InvalidSpec").unwrap();
        assert_eq!(invalid.message, "second");
        assert_eq!(invalid.last_transition_time, k8s_time(at(20)));
        assert_eq!(
            (invalid.status.as_str(), invalid.reason.as_str()),
            ("True", "InvalidSpec")
        );
    }

    fn bg_rollout(status: RolloutStatus) -> Rollout {
        let mut ro = Rollout::new(
            "bg",
            RolloutSpec {
                strategy: RolloutStrategy {
                    blue_green: Some(BlueGreenStrategy::default()),
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        ro.status = Some(status);
        ro
    }

    fn canary_rollout(status: RolloutStatus, steps: Option<Vec<CanaryStep>>) -> Rollout {
        let mut ro = Rollout::new(
            "can",
            RolloutSpec {
                strategy: RolloutStrategy {
                    canary: Some(CanaryStrategy {
                        steps,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        ro.status = Some(status);
        ro
    }

    fn counts(current: i32, updated: i32, ready: i32, available: i32) -> RolloutStatus {
        RolloutStatus {
            replicas: Some(current),
            updated_replicas: Some(updated),
            ready_replicas: Some(ready),
            available_replicas: Some(available),
            ..Default::default()
        }
    }

    fn bg_status(c: (i32, i32, i32, i32), active: &str, preview: &str) -> RolloutStatus {
        RolloutStatus {
            blue_green: Some(BlueGreenStatus {
                active_selector: Some(active.into()),
                preview_selector: Some(preview.into()),
                ..Default::default()
            }),
            ..counts(c.0, c.1, c.2, c.3)
        }
    }

    fn canary_status(
        c: (i32, i32, i32, i32),
        stable: &str,
        index: i32,
        hash: &str,
    ) -> RolloutStatus {
        RolloutStatus {
            stable_rs: Some(stable.into()),
            current_step_index: Some(index),
            current_step_hash: Some(hash.into()),
            ..counts(c.0, c.1, c.2, c.3)
        }
    }

    /// Argo's `TestRolloutProgressing`: the rollout carries the old status.
    #[test]
    fn rollout_progressing_table() {
        let one = (1, 1, 1, 1);
        let cases: Vec<(&str, Rollout, RolloutStatus, bool)> = vec![
            (
                "bg active selector change",
                bg_rollout(bg_status(one, "active", "preview")),
                bg_status(one, "", "preview"),
                true,
            ),
            (
                "bg preview selector change",
                bg_rollout(bg_status(one, "active", "preview")),
                bg_status(one, "active", ""),
                true,
            ),
            (
                "bg no change",
                bg_rollout(bg_status(one, "active", "preview")),
                bg_status(one, "active", "preview"),
                false,
            ),
            (
                "canary stable change",
                canary_rollout(canary_status(one, "active", 1, "abcdef"), None),
                canary_status(one, "", 1, "abcdef"),
                true,
            ),
            (
                "canary step index change",
                canary_rollout(canary_status(one, "active", 1, "abcdef"), None),
                canary_status(one, "active", 2, "abcdef"),
                true,
            ),
            (
                "canary step hash change",
                canary_rollout(canary_status(one, "active", 1, "abcdef"), None),
                canary_status(one, "active", 1, "12345"),
                true,
            ),
            (
                "canary no change",
                canary_rollout(canary_status(one, "active", 1, "abcdef"), None),
                canary_status(one, "active", 1, "abcdef"),
                false,
            ),
            (
                "updated replicas change",
                canary_rollout(canary_status(one, "active", 1, "abcdef"), None),
                canary_status((1, 2, 1, 1), "active", 1, "abcdef"),
                true,
            ),
            (
                "ready replicas up",
                canary_rollout(canary_status(one, "active", 1, "abcdef"), None),
                canary_status((1, 1, 2, 1), "active", 1, "abcdef"),
                true,
            ),
            (
                "available replicas up",
                canary_rollout(canary_status(one, "active", 1, "abcdef"), None),
                canary_status((1, 1, 1, 2), "active", 1, "abcdef"),
                true,
            ),
            (
                "old replicas down",
                canary_rollout(canary_status((2, 1, 1, 1), "active", 1, "abcdef"), None),
                canary_status((1, 1, 1, 2), "active", 1, "abcdef"),
                true,
            ),
        ];
        // Argo's test passes the rollout as the *old* side and the table status as the new one.
        for (name, rollout, new_status, expected) in cases {
            assert_eq!(
                rollout_progressing(&rollout, &new_status),
                expected,
                "{name}"
            );
        }
    }

    /// Argo's `TestRolloutHealthy` (hash literals replaced by an explicit current hash).
    #[test]
    fn rollout_healthy_table() {
        let base = |desired: i32, c: (i32, i32, i32, i32), observed: bool| {
            let mut ro = Rollout::new("ro", RolloutSpec::default());
            ro.spec.replicas = Some(desired);
            ro.metadata = ObjectMeta {
                generation: Some(123),
                ..ro.metadata
            };
            ro.status = Some(RolloutStatus {
                current_pod_hash: Some("hash".into()),
                observed_generation: observed.then(|| "123".into()),
                ..counts(c.0, c.1, 0, c.3)
            });
            ro
        };
        let bg = |desired, c, active: &str, preview: &str| {
            let mut ro = base(desired, c, true);
            ro.spec.strategy.blue_green = Some(BlueGreenStrategy {
                active_service: "active".into(),
                preview_service: Some("preview".into()),
                ..Default::default()
            });
            let status = ro.status.as_mut().unwrap();
            status.blue_green = Some(BlueGreenStatus {
                active_selector: Some(active.into()),
                preview_selector: Some(preview.into()),
                ..Default::default()
            });
            ro
        };
        let canary = |stable: &str, steps: bool, index: Option<i32>| {
            let mut ro = base(1, (1, 1, 1, 1), true);
            ro.spec.strategy.canary = Some(CanaryStrategy {
                steps: Some(if steps {
                    vec![CanaryStep {
                        set_weight: Some(30),
                        ..Default::default()
                    }]
                } else {
                    vec![]
                }),
                ..Default::default()
            });
            let status = ro.status.as_mut().unwrap();
            status.stable_rs = Some(stable.into());
            status.current_step_index = index;
            ro
        };
        let cases: Vec<(&str, Rollout, bool)> = vec![
            ("bg complete", bg(5, (5, 5, 5, 5), "hash", "hash"), true),
            (
                "bg complete with extra old replicas",
                bg(5, (6, 5, 5, 5), "hash", "hash"),
                true,
            ),
            (
                "bg active not on current",
                bg(1, (1, 1, 1, 1), "not-active", ""),
                false,
            ),
            (
                "bg preview not on current",
                bg(1, (1, 1, 1, 1), "hash", ""),
                false,
            ),
            (
                "canary with steps, index at end",
                canary("hash", true, Some(1)),
                true,
            ),
            (
                "canary with steps, step left",
                canary("hash", true, Some(0)),
                false,
            ),
            ("canary without steps", canary("hash", false, None), true),
            (
                "canary stable differs",
                canary("not-active", false, None),
                false,
            ),
            (
                "argo: canary stable 'active'",
                canary("active", true, Some(1)),
                false,
            ),
            (
                "min but not all available",
                base(5, (5, 5, 5, 4), true),
                false,
            ),
            (
                "available but not all updated",
                base(5, (5, 4, 5, 5), true),
                false,
            ),
            (
                "no strategy: extra old pods still healthy",
                base(1, (2, 1, 1, 1), true),
                true,
            ),
            (
                "observed generation mismatch",
                base(1, (1, 1, 1, 1), false),
                false,
            ),
        ];
        for (name, rollout, expected) in cases {
            let status = rollout.status.clone().unwrap();
            assert_eq!(rollout_healthy(&rollout, &status), expected, "{name}");
        }
    }

    #[test]
    fn rollout_completed_needs_stable_equal_current() {
        let mut status = RolloutStatus {
            current_pod_hash: Some("abc".into()),
            stable_rs: Some("abc".into()),
            ..Default::default()
        };
        assert!(rollout_completed(&status));
        status.stable_rs = Some("not-current-pod-hash".into());
        assert!(!rollout_completed(&status));
        assert!(
            !rollout_completed(&RolloutStatus::default()),
            "empty stable never completes"
        );
    }

    /// Argo's `TestRolloutTimedOut` with an explicit clock.
    #[test]
    fn rollout_timed_out_table() {
        let now = at(100);
        let progressing = |reason: &str, updated: i64| {
            with(vec![cond("Progressing", "True", reason, "", updated)])
        };
        let cases: Vec<(&str, Option<i32>, RolloutStatus, bool)> = vec![
            ("no progressing condition", Some(0), with(vec![]), false),
            (
                "already timed out",
                Some(0),
                progressing(TIMED_OUT_REASON, 100),
                true,
            ),
            (
                "not timed out",
                Some(30),
                progressing(REPLICA_SET_UPDATED_REASON, 90),
                false,
            ),
            (
                "timed out",
                Some(5),
                progressing(REPLICA_SET_UPDATED_REASON, 90),
                true,
            ),
            (
                "paused never times out",
                Some(5),
                progressing(ROLLOUT_PAUSED_REASON, 90),
                false,
            ),
            (
                "aborted never times out",
                Some(5),
                progressing(ROLLOUT_ABORTED_REASON, 90),
                false,
            ),
            (
                "deadline exactly now is not past",
                Some(10),
                progressing(REPLICA_SET_UPDATED_REASON, 90),
                false,
            ),
            (
                "default deadline 600",
                None,
                progressing(REPLICA_SET_UPDATED_REASON, -501),
                true,
            ),
        ];
        for (name, deadline, status, expected) in cases {
            let mut ro = Rollout::new("ro", RolloutSpec::default());
            ro.spec.progress_deadline_seconds = deadline;
            assert_eq!(rollout_timed_out(&ro, &status, now), expected, "{name}");
        }
        let ro = Rollout::new("ro", RolloutSpec::default());
        assert_eq!(
            progress_deadline(&ro, &progressing(REPLICA_SET_UPDATED_REASON, 0)),
            Some(at(600))
        );
    }

    fn rs_with(conditions: Vec<ReplicaSetCondition>) -> ReplicaSet {
        ReplicaSet {
            status: Some(ReplicaSetStatus {
                conditions: Some(conditions),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn rs_failure(message: &str) -> ReplicaSetCondition {
        ReplicaSetCondition {
            type_: "ReplicaFailure".into(),
            status: "True".into(),
            last_transition_time: Some(k8s_time(at(7))),
            reason: Some("FailedCreate".into()),
            message: Some(message.into()),
        }
    }

    #[test]
    fn replica_failures_prefer_the_new_replica_set() {
        let old = rs_with(vec![rs_failure("old")]);
        let new = rs_with(vec![
            ReplicaSetCondition {
                type_: "Other".into(),
                status: "True".into(),
                ..Default::default()
            },
            rs_failure("new"),
        ]);
        let all = vec![old.clone(), new.clone()];
        let c = replica_failure_condition(Some(&new), &all).unwrap();
        assert_eq!(c.message, "new");
        assert_eq!(
            (c.type_.as_str(), c.status.as_str(), c.reason.as_str()),
            ("ReplicaFailure", "True", "FailedCreate")
        );
        assert_eq!(c.last_update_time, k8s_time(at(7)));
        assert_eq!(c.last_transition_time, k8s_time(at(7)));

        let clean = rs_with(vec![]);
        assert_eq!(
            replica_failure_condition(Some(&clean), &[clean.clone(), old.clone()])
                .unwrap()
                .message,
            "old"
        );
        assert!(replica_failure_condition(None, &[clean]).is_none());

        let bare = replica_set_to_rollout_condition(&ReplicaSetCondition {
            type_: "ReplicaFailure".into(),
            status: "True".into(),
            ..Default::default()
        });
        assert_eq!(
            serde_json::to_value(&bare.last_update_time).unwrap(),
            serde_json::json!("0001-01-01T00:00:00Z")
        );
    }
}
