//! ReplicaSet identity and bookkeeping for a Rollout, as Argo Rollouts v1.9.1 does it.
//!
//! Everything here is a pure function over `k8s-openapi` ReplicaSets and our [`Rollout`]: no
//! I/O, and the clock is a `now` argument. It ports the parts of Argo's `utils/replicaset`,
//! `utils/annotations`, `utils/defaults` and `rollout/{sync,replicaset,ephemeralmetadata}.go`
//! that decide *which* ReplicaSet is which, *what* a new ReplicaSet looks like and *which
//! annotations* are written, because those are wire-visible: a controller that takes over from
//! Argo must recognise Argo's ReplicaSets, name and label new ones identically, and keep the
//! revision bookkeeping going without a hiccup.
//!
//! The pieces, in the order a reconcile uses them:
//!
//! 1. Identity: [`find_new_replica_set`] (hash label of the v1.9.1 hash, then the ≤ 1.8 hash,
//!    then semantic template equality), [`find_old_replica_sets`], [`get_stable_rs`],
//!    [`get_other_rss`], or all of them at once with [`classify`].
//! 2. Revisions: [`revision`], [`max_revision`], [`next_revision`], and for an existing new
//!    ReplicaSet [`sync_replica_set_revision`] (revision bump, Rollout annotations,
//!    `minReadySeconds`, injected anti-affinity).
//! 3. Creation: [`new_replica_set`] builds the object `createDesiredReplicaSet` would create;
//!    [`pod_template_equal_ignore_hash`] is also the hash-collision check after `AlreadyExists`.
//! 4. Scaling bookkeeping: desired-replicas annotation ([`set_replicas_annotation`],
//!    [`replicas_annotations_need_update`], [`scale_replica_set`]), scale-down deadlines
//!    ([`scale_down_delay_helper`] and friends), [`is_replica_set_referenced`].
//! 5. Clean-up: [`replica_sets_to_delete`] for `revisionHistoryLimit`.
//!
//! Counting helpers ([`replica_count`], [`available_replica_count`], …) and the defaults of
//! `defaults.go` ([`revision_history_limit`], [`scale_down_delay_seconds`], …) are used by both
//! planners.

use std::{borrow::Borrow, cmp::Ordering, collections::BTreeMap, fmt::Write as _, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use k8s_openapi::{
    api::{
        apps::v1::{ReplicaSet, ReplicaSetSpec},
        core::v1::{
            Affinity, Pod, PodAffinityTerm, PodAntiAffinity, PodTemplateSpec, Service,
            WeightedPodAffinityTerm,
        },
    },
    apimachinery::pkg::{
        apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta, OwnerReference},
        util::intstr::IntOrString,
    },
};
use serde_json::{Map, Value};

use super::hash::{HashError, go_json_pod_template, legacy_pod_template_hash, pod_template_hash};
use crate::{
    canary::intstr::{self, DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE, Fenceposts},
    crd::{
        AntiAffinity, GROUP, PodTemplateMetadata, Rollout, RolloutStatus, VERSION,
        keys::{
            DESIRED_REPLICAS, EPHEMERAL_METADATA, POD_TEMPLATE_HASH, REVISION, REVISION_HISTORY,
            SCALE_DOWN_DEADLINE,
        },
    },
};

// ------------------------------------------------------------------------------------------------
// Defaults (utils/defaults/defaults.go)
// ------------------------------------------------------------------------------------------------

/// `spec.replicas` when absent. The controller also writes it back to the spec (HPA needs it).
pub const DEFAULT_REPLICAS: i32 = 1;
/// Old ReplicaSets kept when `spec.revisionHistoryLimit` is absent.
pub const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;
/// Successful AnalysisRuns/Experiments kept when `spec.analysis.successfulRunHistoryLimit` is absent.
pub const DEFAULT_ANALYSIS_RUN_SUCCESSFUL_HISTORY_LIMIT: i32 = 5;
/// Unsuccessful AnalysisRuns/Experiments kept when `spec.analysis.unsuccessfulRunHistoryLimit` is absent.
pub const DEFAULT_ANALYSIS_RUN_UNSUCCESSFUL_HISTORY_LIMIT: i32 = 5;
/// `spec.progressDeadlineSeconds` when absent.
pub const DEFAULT_PROGRESS_DEADLINE_SECONDS: i32 = 600;
/// `scaleDownDelaySeconds` when absent (blue-green, and traffic-routed canary only).
pub const DEFAULT_SCALE_DOWN_DELAY_SECONDS: i32 = 30;
/// `abortScaleDownDelaySeconds` when absent (blue-green, and traffic-routed canary only).
pub const DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS: i32 = 30;
/// `blueGreen.autoPromotionEnabled` when absent.
pub const DEFAULT_AUTO_PROMOTION_ENABLED: bool = true;

/// Argo's controller-kind for owner references: `argoproj.io/v1alpha1`, `Rollout`.
pub const ROLLOUT_KIND: &str = "Rollout";

/// Rollout annotations never copied onto a ReplicaSet: the revision bookkeeping is the
/// ReplicaSet's own (the Rollout's copy may be stale), and kubectl's and the notification
/// engine's private state would be misleading there.
pub const ANNOTATIONS_NOT_COPIED: [&str; 5] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    "notified.notifications.argoproj.io",
];

/// `spec.replicas`, or 1 when absent (`GetReplicasOrDefault`).
pub fn replicas_or_default(replicas: Option<i32>) -> i32 {
    replicas.unwrap_or(DEFAULT_REPLICAS)
}

/// The Rollout's desired pod count (`spec.replicas`, default 1).
pub fn rollout_replicas(rollout: &Rollout) -> i32 {
    replicas_or_default(rollout.spec.replicas)
}

/// `spec.revisionHistoryLimit`, default 10.
pub fn revision_history_limit(rollout: &Rollout) -> i32 {
    rollout
        .spec
        .revision_history_limit
        .unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT)
}

/// `spec.progressDeadlineSeconds`, default 600.
pub fn progress_deadline_seconds(rollout: &Rollout) -> i32 {
    rollout
        .spec
        .progress_deadline_seconds
        .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECONDS)
}

/// `spec.analysis.successfulRunHistoryLimit`, default 5.
pub fn analysis_run_successful_history_limit(rollout: &Rollout) -> i32 {
    rollout
        .spec
        .analysis
        .as_ref()
        .and_then(|a| a.successful_run_history_limit)
        .unwrap_or(DEFAULT_ANALYSIS_RUN_SUCCESSFUL_HISTORY_LIMIT)
}

/// `spec.analysis.unsuccessfulRunHistoryLimit`, default 5.
pub fn analysis_run_unsuccessful_history_limit(rollout: &Rollout) -> i32 {
    rollout
        .spec
        .analysis
        .as_ref()
        .and_then(|a| a.unsuccessful_run_history_limit)
        .unwrap_or(DEFAULT_ANALYSIS_RUN_UNSUCCESSFUL_HISTORY_LIMIT)
}

/// Seconds an old ReplicaSet keeps running after it stopped receiving traffic
/// (`GetScaleDownDelaySecondsOrDefault`).
///
/// Blue-green: `scaleDownDelaySeconds`, default 30. Canary: the same, but **only with traffic
/// routing**; a basic canary shifts traffic by pod counts, so there is nothing to wait for and
/// the delay is 0 whatever the spec says.
pub fn scale_down_delay_seconds(rollout: &Rollout) -> i32 {
    let strategy = &rollout.spec.strategy;
    let mut seconds = 0;
    if let Some(bg) = &strategy.blue_green {
        seconds = bg
            .scale_down_delay_seconds
            .unwrap_or(DEFAULT_SCALE_DOWN_DELAY_SECONDS);
    }
    if let Some(canary) = &strategy.canary
        && canary.traffic_routing.is_some()
    {
        seconds = canary
            .scale_down_delay_seconds
            .unwrap_or(DEFAULT_SCALE_DOWN_DELAY_SECONDS);
    }
    seconds
}

/// How long an aborted canary or preview ReplicaSet is kept up
/// (`GetAbortScaleDownDelaySecondsOrDefault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortScaleDownDelay {
    /// Seconds to wait; `None` means "never scale it down" (`abortScaleDownDelaySeconds: 0`).
    /// `Some(0)` (basic canary, or no strategy) means "scale down at once".
    pub seconds: Option<i32>,
    /// Whether the spec set the field. With `dynamicStableScale`, an *unset* field disables the
    /// delay entirely, so callers need to know.
    pub explicit: bool,
}

/// `abortScaleDownDelaySeconds` resolved as Argo does: default 30 for blue-green and
/// traffic-routed canary, 0 (immediate) for a basic canary, and an explicit 0 turns into
/// "never" (`seconds: None`).
pub fn abort_scale_down_delay(rollout: &Rollout) -> AbortScaleDownDelay {
    let strategy = &rollout.spec.strategy;
    let configured = if let Some(bg) = &strategy.blue_green {
        Some(bg.abort_scale_down_delay_seconds)
    } else if let Some(canary) = &strategy.canary
        && canary.traffic_routing.is_some()
    {
        Some(canary.abort_scale_down_delay_seconds)
    } else {
        None
    };
    match configured {
        None => AbortScaleDownDelay {
            seconds: Some(0),
            explicit: false,
        },
        Some(None) => AbortScaleDownDelay {
            seconds: Some(DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS),
            explicit: false,
        },
        Some(Some(0)) => AbortScaleDownDelay {
            seconds: None,
            explicit: true,
        },
        Some(Some(seconds)) => AbortScaleDownDelay {
            seconds: Some(seconds),
            explicit: true,
        },
    }
}

/// `blueGreen.autoPromotionEnabled`, default true (also true for a canary).
pub fn auto_promotion_enabled(rollout: &Rollout) -> bool {
    rollout
        .spec
        .strategy
        .blue_green
        .as_ref()
        .and_then(|bg| bg.auto_promotion_enabled)
        .unwrap_or(DEFAULT_AUTO_PROMOTION_ENABLED)
}

/// `canary.maxSurge`, default `"25"` (a string, hence 25%: every string is a percentage).
pub fn max_surge_or_default(rollout: &Rollout) -> IntOrString {
    rollout
        .spec
        .strategy
        .canary
        .as_ref()
        .and_then(|c| c.max_surge.clone())
        .unwrap_or_else(|| IntOrString::String(DEFAULT_MAX_SURGE.to_owned()))
}

/// `blueGreen.maxUnavailable`, else `canary.maxUnavailable`, default `"25"` (25%).
pub fn max_unavailable_or_default(rollout: &Rollout) -> IntOrString {
    let strategy = &rollout.spec.strategy;
    strategy
        .blue_green
        .as_ref()
        .and_then(|bg| bg.max_unavailable.clone())
        .or_else(|| {
            strategy
                .canary
                .as_ref()
                .and_then(|c| c.max_unavailable.clone())
        })
        .unwrap_or_else(|| IntOrString::String(DEFAULT_MAX_UNAVAILABLE.to_owned()))
}

/// Pods allowed above `spec.replicas` (`MaxSurge`): 0 for blue-green; for a canary the resolved
/// fencepost (0 if the value does not parse, as Argo ignores the error).
pub fn max_surge(rollout: &Rollout) -> i32 {
    let Some(canary) = &rollout.spec.strategy.canary else {
        return 0;
    };
    Fenceposts::resolve_canary(
        canary.max_surge.as_ref(),
        canary.max_unavailable.as_ref(),
        rollout_replicas(rollout),
    )
    .unwrap_or_default()
    .max_surge
}

/// Pods allowed to be unavailable (`MaxUnavailable`), capped at `spec.replicas`; 0 when the
/// value does not parse (Argo ignores the error).
pub fn max_unavailable(rollout: &Rollout) -> i32 {
    let replicas = rollout_replicas(rollout);
    match &rollout.spec.strategy.canary {
        Some(canary) => {
            Fenceposts::resolve_canary(
                canary.max_surge.as_ref(),
                canary.max_unavailable.as_ref(),
                replicas,
            )
            .unwrap_or_default()
            .max_unavailable
        }
        None => intstr::resolve_blue_green_max_unavailable(
            Some(&max_unavailable_or_default(rollout)),
            replicas,
        )
        .unwrap_or(0),
    }
}

/// How many old ReplicaSets may sit out their scale-down delay at once
/// (`scaleDownDelayRevisionLimit`, unlimited when absent: `i32::MAX`).
pub fn scale_down_delay_revision_limit(rollout: &Rollout) -> i32 {
    let strategy = &rollout.spec.strategy;
    let bg = strategy
        .blue_green
        .as_ref()
        .and_then(|bg| bg.scale_down_delay_revision_limit);
    let canary = strategy
        .canary
        .as_ref()
        .and_then(|c| c.scale_down_delay_revision_limit);
    bg.or(canary).unwrap_or(i32::MAX)
}

// ------------------------------------------------------------------------------------------------
// Small accessors
// ------------------------------------------------------------------------------------------------

fn status(rollout: &Rollout) -> Option<&RolloutStatus> {
    rollout.status.as_ref()
}

/// `status.stableRS`, if set and non-empty.
pub fn stable_hash(rollout: &Rollout) -> Option<&str> {
    status(rollout)
        .and_then(|s| s.stable_rs.as_deref())
        .filter(|h| !h.is_empty())
}

/// The `rollouts-pod-template-hash` label of a ReplicaSet (`GetPodTemplateHash`).
pub fn pod_hash(rs: &ReplicaSet) -> Option<&str> {
    rs.metadata
        .labels
        .as_ref()?
        .get(POD_TEMPLATE_HASH)
        .map(String::as_str)
}

/// `metadata.name`, or `""`.
pub fn rs_name(rs: &ReplicaSet) -> &str {
    rs.metadata.name.as_deref().unwrap_or("")
}

/// `spec.replicas`, defaulting a missing value to 1 as the API server does (Argo dereferences
/// the pointer, which the API server has always filled in).
pub fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `status.replicas` (pods that exist), 0 without a status.
pub fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

/// `status.availableReplicas`, 0 when absent.
pub fn available_replicas(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

/// `status.readyReplicas`, 0 when absent.
pub fn ready_replicas(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0)
}

fn annotation<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

/// Whether two handles denote the same ReplicaSet: by UID when both have one, else by name.
/// (Argo compares UIDs; objects from the API server always carry one.)
fn same_rs(a: &ReplicaSet, b: &ReplicaSet) -> bool {
    match (&a.metadata.uid, &b.metadata.uid) {
        (Some(x), Some(y)) => x == y,
        _ => a.metadata.name == b.metadata.name,
    }
}

/// Creation-time order with the name as tie-breaker (`controller.ReplicaSetsByCreationTimestamp`).
/// A missing timestamp is Go's zero time, i.e. the oldest.
fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    a.metadata
        .creation_timestamp
        .cmp(&b.metadata.creation_timestamp)
        .then_with(|| rs_name(a).cmp(rs_name(b)))
}

// ------------------------------------------------------------------------------------------------
// Counting (utils/replicaset/replicaset.go)
// ------------------------------------------------------------------------------------------------

/// Sum of `spec.replicas` (`GetReplicaCountForReplicaSets`).
///
/// All counting helpers accept anything iterable over `&ReplicaSet`: a slice, a `Vec<&_>`, or an
/// `Option<&_>` for "the new RS, if any".
pub fn replica_count<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    rss.into_iter().map(spec_replicas).sum()
}

/// Sum of `status.availableReplicas` (`GetAvailableReplicaCountForReplicaSets`).
pub fn available_replica_count<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    rss.into_iter().map(available_replicas).sum()
}

/// Sum of `status.replicas` (`GetActualReplicaCountForReplicaSets`).
pub fn actual_replica_count<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    rss.into_iter().map(status_replicas).sum()
}

/// Sum of `status.readyReplicas` (`GetReadyReplicaCountForReplicaSets`).
pub fn ready_replica_count<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    rss.into_iter().map(ready_replicas).sum()
}

/// Scaled up and every desired pod available (`IsReplicaSetAvailable`): `spec.replicas` ≠ 0,
/// at least one pod available, and `spec.replicas ≤ availableReplicas`.
pub fn is_replica_set_available(rs: &ReplicaSet) -> bool {
    let replicas = rs.spec.as_ref().and_then(|s| s.replicas);
    let available = available_replicas(rs);
    matches!(replicas, Some(r) if r != 0 && available != 0 && r <= available)
}

/// At least one pod available (`IsReplicaSetPartiallyAvailable`).
pub fn is_replica_set_partially_available(rs: &ReplicaSet) -> bool {
    available_replicas(rs) > 0
}

/// Has, or ought to have, pods: `spec.replicas > 0` (`controller.FilterActiveReplicaSets`).
pub fn is_active(rs: &ReplicaSet) -> bool {
    spec_replicas(rs) > 0
}

/// The active ReplicaSets among `rss`, in order.
pub fn filter_active<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> Vec<&'a ReplicaSet> {
    rss.into_iter().filter(|rs| is_active(rs)).collect()
}

/// Whether the new ReplicaSet runs the whole rollout (`annotations.IsSaturated`): spec, the
/// desired-replicas annotation and the available count all equal `spec.replicas`.
/// Blue-green waits for this before pre-promotion analysis and the service switch.
pub fn is_saturated(rollout: &Rollout, rs: &ReplicaSet) -> bool {
    let replicas = rollout_replicas(rollout);
    desired_replicas_annotation(rs).is_some_and(|desired| {
        spec_replicas(rs) == replicas && desired == replicas && available_replicas(rs) == replicas
    })
}

/// Whether `spec.replicas` was changed under a running rollout (`isScalingEvent`): the
/// desired-replicas annotation of the new or stable ReplicaSet (only those that are active;
/// middle ReplicaSets are never re-annotated) differs from `spec.replicas`. Such a reconcile only
/// rescales (`syncReplicasOnly`).
pub fn is_scaling_event(
    rollout: &Rollout,
    new_rs: Option<&ReplicaSet>,
    stable_rs: Option<&ReplicaSet>,
) -> bool {
    let replicas = rollout_replicas(rollout);
    [new_rs, stable_rs]
        .into_iter()
        .flatten()
        .filter(|rs| is_active(rs))
        .filter_map(desired_replicas_annotation)
        .any(|desired| desired != replicas)
}

// ------------------------------------------------------------------------------------------------
// Pods (availability with minReadySeconds, as the restart logic counts them)
// ------------------------------------------------------------------------------------------------

/// The pod's `Ready` condition is `True` (`podutil.IsPodReady`).
pub fn is_pod_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// Ready for at least `min_ready_seconds` at `now` (`podutil.IsPodAvailable`). With
/// `min_ready_seconds == 0` readiness suffices; otherwise the Ready condition's
/// `lastTransitionTime` must be set and at least that long ago.
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: DateTime<Utc>) -> bool {
    if !is_pod_ready(pod) {
        return false;
    }
    if min_ready_seconds == 0 {
        return true;
    }
    let Some(since) = ready_condition(pod)
        .and_then(|c| c.last_transition_time.as_ref())
        .and_then(|t| to_chrono(&t.0))
    else {
        return false;
    };
    since + chrono::Duration::seconds(i64::from(min_ready_seconds)) <= now
}

/// Available pods that are not being deleted (`getAvailablePodCount`, used by restarts with
/// the Rollout's `minReadySeconds`).
pub fn available_pod_count<'a>(
    pods: impl IntoIterator<Item = &'a Pod>,
    min_ready_seconds: i32,
    now: DateTime<Utc>,
) -> i32 {
    pods.into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| is_pod_available(p, min_ready_seconds, now))
        .count() as i32
}

fn to_chrono(ts: &k8s_openapi::jiff::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.as_second(), ts.subsec_nanosecond().try_into().ok()?)
}

// ------------------------------------------------------------------------------------------------
// Revisions
// ------------------------------------------------------------------------------------------------

/// The `rollout.argoproj.io/revision` annotation as a number (`Revision`): 0 when absent, and
/// also 0 when it does not parse (Argo logs and skips such ReplicaSets when taking the maximum).
pub fn revision(rs: &ReplicaSet) -> i64 {
    try_revision(rs).unwrap_or(0)
}

/// The revision annotation, `Ok(0)` when absent, an error when it is not a base-10 `i64`.
pub fn try_revision(rs: &ReplicaSet) -> Result<i64, std::num::ParseIntError> {
    annotation(rs, REVISION).map_or(Ok(0), str::parse)
}

/// The highest revision among `rss`, 0 if none (`MaxRevision`).
pub fn max_revision<'a>(rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i64 {
    rss.into_iter()
        .filter_map(|rs| try_revision(rs).ok())
        .fold(0, i64::max)
}

/// The revision a new (or re-used) ReplicaSet gets: one more than the highest of the *old*
/// ReplicaSets (everything except the new one).
pub fn next_revision<'a>(old_rss: impl IntoIterator<Item = &'a ReplicaSet>) -> i64 {
    max_revision(old_rss) + 1
}

/// Orders ReplicaSets by revision, oldest first, creation time breaking ties
/// (`ReplicaSetsByRevisionNumber`). A revision that does not parse sorts before every parsable
/// one (what Go's insertion sort does with Argo's comparator for such entries), and such entries
/// are ordered by creation time among themselves.
pub fn sort_by_revision(rss: &mut [&ReplicaSet]) {
    rss.sort_by(|a, b| {
        let ra = annotation(a, REVISION).and_then(|v| v.parse::<i64>().ok());
        let rb = annotation(b, REVISION).and_then(|v| v.parse::<i64>().ok());
        ra.cmp(&rb).then_with(|| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
        })
    });
}

// ------------------------------------------------------------------------------------------------
// Identity: new, old, stable, other
// ------------------------------------------------------------------------------------------------

/// The pod template of the Rollout as JSON, the input of the hash functions. An absent template
/// is Go's zero `PodTemplateSpec`.
pub fn template_json(rollout: &Rollout) -> Value {
    match &rollout.spec.template {
        Some(t) => serde_json::to_value(t),
        None => serde_json::to_value(PodTemplateSpec::default()),
    }
    .unwrap_or(Value::Null)
}

/// The v1.9.1 pod-template hash of the Rollout's template with its `collisionCount`: the hash of
/// the ReplicaSet a new template gets (`ComputePodTemplateHash`).
pub fn current_pod_hash(rollout: &Rollout) -> Result<String, HashError> {
    pod_template_hash(&template_json(rollout), collision_count(rollout))
}

fn collision_count(rollout: &Rollout) -> Option<i32> {
    status(rollout).and_then(|s| s.collision_count)
}

/// Finds the ReplicaSet that runs the Rollout's current pod template (`FindNewReplicaSet`);
/// returns its index in `rss`.
///
/// ReplicaSets are considered oldest first (creation time, then name), and three rules are
/// tried in turn, each over the whole list:
///
/// 1. the hash label equals the v1.9.1 hash of the template (with `collisionCount`);
/// 2. the hash label equals the ≤ 1.8 hash (same bytes with `"creationTimestamp":null`), so
///    that a Rollout last handled by Argo ≤ 1.8 is picked up without a new ReplicaSet;
/// 3. the templates are semantically equal ([`pod_template_equal_ignore_hash`]) once the live
///    template is stripped of what the controller injected: the ephemeral metadata recorded in
///    `rollout.argoproj.io/ephemeral-metadata` and the anti-affinity term on the hash label.
///    This covers any other hash drift (other libraries, other controller versions).
///
/// A template change is detected by comparing `status.currentPodHash` with the *label* of the
/// RS found here, so finding an RS through rule 2 or 3 restarts nothing. A template that Go
/// could not decode (a hash error) matches nothing.
pub fn find_new_replica_set(rollout: &Rollout, rss: &[ReplicaSet]) -> Option<usize> {
    find_new_replica_set_with_hash(rollout, rss, current_pod_hash(rollout).ok().as_deref())
}

/// [`find_new_replica_set`] with the v1.9.1 hash of rule 1 already computed (`None`: the
/// template cannot be hashed), so that a reconcile hashes its template once. The rules are
/// tried cheapest first and each only when the previous one found nothing: the hash label
/// against `hash`, then the ≤ 1.8 hash, then semantic equality.
pub fn find_new_replica_set_with_hash<R: Borrow<ReplicaSet>>(
    rollout: &Rollout,
    rss: &[R],
    hash: Option<&str>,
) -> Option<usize> {
    let rs = |i: usize| -> &ReplicaSet { rss[i].borrow() };
    // The first match in creation order (`min_by` keeps the first of equal elements, as the
    // stable sort did).
    let oldest_with_label = |hash: &str| {
        (0..rss.len())
            .filter(|&i| pod_hash(rs(i)) == Some(hash))
            .min_by(|&a, &b| by_creation(rs(a), rs(b)))
    };
    if let Some(i) = hash.and_then(oldest_with_label) {
        return Some(i);
    }
    if rss.is_empty() {
        return None;
    }

    let template = template_json(rollout);
    let collisions = collision_count(rollout);
    if let Some(i) = legacy_pod_template_hash(&template, collisions)
        .ok()
        .and_then(|legacy| oldest_with_label(&legacy))
    {
        return Some(i);
    }

    let mut order: Vec<usize> = (0..rss.len()).collect();
    order.sort_by(|&a, &b| by_creation(rs(a), rs(b)));
    let desired = comparable(&rollout.spec.template.clone().unwrap_or_default(), true)?;
    order.into_iter().find(|&i| {
        let live = live_template_without_injections(rollout, rs(i));
        comparable(&live, false).is_some_and(|live| live == desired)
    })
}

/// The live template of `rs` without the ephemeral metadata and the anti-affinity term the
/// controller injected, i.e. what the Rollout's own template should look like.
fn live_template_without_injections(rollout: &Rollout, rs: &ReplicaSet) -> PodTemplateSpec {
    let (stripped, _) = sync_replica_set_ephemeral_pod_metadata(rs, None);
    let mut live = stripped.spec.and_then(|s| s.template).unwrap_or_default();
    if let Some(spec) = live.spec.as_mut() {
        spec.affinity = remove_injected_anti_affinity_rule(spec.affinity.as_ref(), rollout);
    }
    live
}

/// Every ReplicaSet except the new one (`FindOldReplicaSets`), in the given order.
pub fn find_old_replica_sets<'a>(
    rss: &'a [ReplicaSet],
    new_rs: Option<&ReplicaSet>,
) -> Vec<&'a ReplicaSet> {
    rss.iter()
        .filter(|rs| new_rs.is_none_or(|new| !same_rs(rs, new)))
        .collect()
}

/// The ReplicaSet whose hash label is `status.stableRS` (`GetStableRS`): the new one if it is
/// stable, else the first match in `rss`. `None` when `stableRS` is unset.
pub fn get_stable_rs<'a>(
    rollout: &Rollout,
    new_rs: Option<&'a ReplicaSet>,
    rss: impl IntoIterator<Item = &'a ReplicaSet>,
) -> Option<&'a ReplicaSet> {
    let stable = stable_hash(rollout)?;
    if let Some(new) = new_rs
        && pod_hash(new) == Some(stable)
    {
        return Some(new);
    }
    rss.into_iter().find(|rs| pod_hash(rs) == Some(stable))
}

/// Every ReplicaSet that is neither the new nor the stable one (`GetOtherRSs`), compared by
/// name. These are drained first and are the only candidates for history clean-up.
pub fn get_other_rss<'a>(
    rss: impl IntoIterator<Item = &'a ReplicaSet>,
    new_rs: Option<&ReplicaSet>,
    stable_rs: Option<&ReplicaSet>,
) -> Vec<&'a ReplicaSet> {
    let skip = |rs: &ReplicaSet, other: Option<&ReplicaSet>| {
        other.is_some_and(|o| o.metadata.name == rs.metadata.name)
    };
    rss.into_iter()
        .filter(|rs| !skip(rs, new_rs) && !skip(rs, stable_rs))
        .collect()
}

/// The ReplicaSet with hash label `hash` (`GetReplicaSetByTemplateHash`); `None` for an empty
/// hash. Blue-green uses it to find the active RS from `status.blueGreen.activeSelector`.
pub fn replica_set_by_hash<'a>(
    rss: impl IntoIterator<Item = &'a ReplicaSet>,
    hash: &str,
) -> Option<&'a ReplicaSet> {
    if hash.is_empty() {
        return None;
    }
    rss.into_iter()
        .filter(|rs| pod_hash(rs) == Some(hash))
        .last()
}

/// The roles of a Rollout's ReplicaSets, as indices into the list they were computed from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roles {
    /// The ReplicaSet running the current template ([`find_new_replica_set`]).
    pub new: Option<usize>,
    /// The ReplicaSet named by `status.stableRS` ([`get_stable_rs`]); may equal `new`.
    pub stable: Option<usize>,
    /// Everything but `new`, in list order ([`find_old_replica_sets`]).
    pub older: Vec<usize>,
    /// Everything but `new` and `stable`, in list order ([`get_other_rss`]).
    pub other: Vec<usize>,
}

/// Classifies `rss` the way a reconcile starts (`newRolloutContext`).
pub fn classify(rollout: &Rollout, rss: &[ReplicaSet]) -> Roles {
    let new = find_new_replica_set(rollout, rss);
    let older: Vec<usize> = (0..rss.len()).filter(|&i| Some(i) != new).collect();
    let stable = match (stable_hash(rollout), new) {
        (None, _) => None,
        (Some(h), Some(n)) if pod_hash(&rss[n]) == Some(h) => Some(n),
        (Some(h), _) => older
            .iter()
            .copied()
            .find(|&i| pod_hash(&rss[i]) == Some(h)),
    };
    let name = |i: Option<usize>| i.map(|i| rss[i].metadata.name.clone());
    let (new_name, stable_name) = (name(new), name(stable));
    let other = (0..rss.len())
        .filter(|&i| {
            let n = &rss[i].metadata.name;
            new_name.as_ref() != Some(n) && stable_name.as_ref() != Some(n)
        })
        .collect();
    Roles {
        new,
        stable,
        older,
        other,
    }
}

// ------------------------------------------------------------------------------------------------
// Semantic template equality (PodTemplateEqualIgnoreHash)
// ------------------------------------------------------------------------------------------------

/// Whether a live ReplicaSet template and a desired Rollout template describe the same pods
/// (`PodTemplateEqualIgnoreHash`), ignoring the hash label.
///
/// Argo compares Go structs with `apiequality.Semantic.DeepEqual` after filling the desired
/// side with the Kubernetes `PodTemplate` defaults (the live side was defaulted by the API
/// server). We do the same on JSON: both sides lose the hash label and the deprecated
/// `spec.serviceAccount` (the API server mirrors `serviceAccountName` into it on the live side
/// only); the desired side gets [`apply_pod_template_defaults`]; then both are brought to one
/// normal form ([`semantic_normal_form`]: Go's encoding after the decode, plus nil = empty and
/// quantities by value) and compared. A template Go could not decode equals nothing.
pub fn pod_template_equal_ignore_hash(live: &PodTemplateSpec, desired: &PodTemplateSpec) -> bool {
    match (comparable(live, false), comparable(desired, true)) {
        (Some(live), Some(desired)) => live == desired,
        _ => false,
    }
}

/// One side of [`pod_template_equal_ignore_hash`], ready for `==`; `None` if Go could not
/// decode it.
fn comparable(template: &PodTemplateSpec, desired: bool) -> Option<Value> {
    let mut v = serde_json::to_value(template).ok()?;
    if let Some(labels) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH);
    }
    if desired {
        apply_pod_template_defaults(&mut v);
    }
    if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("serviceAccount");
    }
    semantic_normal_form(&v).ok()
}

/// Fills a pod template (as JSON) with the defaults Kubernetes v1.34 applies to a `PodTemplate`
/// (`SetObjectDefaults_PodTemplate`), so that a template written by a user compares equal to
/// the same template stored by the API server. Exactly these fields, each only when unset
/// (absent, or the Go zero value for non-pointer fields):
///
/// - pod: `dnsPolicy: ClusterFirst`, `restartPolicy: Always`, `securityContext: {}`,
///   `terminationGracePeriodSeconds: 30`, `schedulerName: default-scheduler`;
/// - every container, init container and ephemeral container: `imagePullPolicy` (`Always` when
///   the image tag is `latest` or absent without a digest, else `IfNotPresent`),
///   `terminationMessagePath: /dev/termination-log`, `terminationMessagePolicy: File`,
///   `ports[].protocol: TCP`, `env[].valueFrom.fieldRef.apiVersion: v1`,
///   `env[].valueFrom.fileKeyRef.optional: false`; liveness/readiness/startup probes
///   `timeoutSeconds: 1`, `periodSeconds: 10`, `successThreshold: 1`, `failureThreshold: 3`,
///   `httpGet.path: /`, `httpGet.scheme: HTTP`, `grpc.service: ""`; lifecycle
///   `postStart`/`preStop` `httpGet.path`/`scheme` likewise;
/// - every volume: `emptyDir: {}` when no source is set; `hostPath.type: ""`;
///   `defaultMode: 420` (0644) for `secret`, `configMap`, `downwardAPI` and `projected`;
///   `fieldRef.apiVersion: v1` in `downwardAPI` items (also inside `projected`);
///   `projected.sources[].serviceAccountToken.expirationSeconds: 3600`;
///   `iscsi.iscsiInterface: default`; `rbd.pool: rbd`, `rbd.user: admin`,
///   `rbd.keyring: /etc/ceph/keyring`; `azureDisk.cachingMode: ReadWrite`, `fsType: ext4`,
///   `readOnly: false`, `kind: Shared`; `scaleIO.storageMode: ThinProvisioned`, `fsType: xfs`;
///   `ephemeral.volumeClaimTemplate.spec.volumeMode: Filesystem`.
///
/// Not applied: the rounding of resource quantities to milli-units (only changes sub-milli
/// values) and the image-volume pull policy (behind the `ImageVolume` feature gate, off in
/// Argo's v1.34 libraries).
pub fn apply_pod_template_defaults(template: &mut Value) {
    let Some(spec) = object_at(template, "spec") else {
        return;
    };
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "restartPolicy", "Always");
    default_ptr(spec, "securityContext", Value::Object(Map::new()));
    default_ptr(spec, "terminationGracePeriodSeconds", Value::from(30));
    default_str(spec, "schedulerName", "default-scheduler");

    for volume in array_items(spec, "volumes") {
        default_volume(volume);
    }
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        for container in array_items(spec, key) {
            default_container(container);
        }
    }
}

fn default_volume(volume: &mut Map<String, Value>) {
    if volume.iter().all(|(k, v)| k == "name" || v.is_null()) {
        volume.insert("emptyDir".into(), Value::Object(Map::new()));
    }
    if let Some(host_path) = object_at_map(volume, "hostPath") {
        default_ptr(host_path, "type", Value::from(""));
    }
    for key in ["secret", "configMap"] {
        if let Some(source) = object_at_map(volume, key) {
            default_ptr(source, "defaultMode", Value::from(0o644));
        }
    }
    if let Some(iscsi) = object_at_map(volume, "iscsi") {
        default_str(iscsi, "iscsiInterface", "default");
    }
    if let Some(rbd) = object_at_map(volume, "rbd") {
        default_str(rbd, "pool", "rbd");
        default_str(rbd, "user", "admin");
        default_str(rbd, "keyring", "/etc/ceph/keyring");
    }
    if let Some(downward) = object_at_map(volume, "downwardAPI") {
        default_ptr(downward, "defaultMode", Value::from(0o644));
        default_field_refs(downward);
    }
    if let Some(azure) = object_at_map(volume, "azureDisk") {
        default_ptr(azure, "cachingMode", Value::from("ReadWrite"));
        default_ptr(azure, "fsType", Value::from("ext4"));
        default_ptr(azure, "readOnly", Value::from(false));
        default_ptr(azure, "kind", Value::from("Shared"));
    }
    if let Some(projected) = object_at_map(volume, "projected") {
        default_ptr(projected, "defaultMode", Value::from(0o644));
        for source in array_items(projected, "sources") {
            if let Some(downward) = object_at_map(source, "downwardAPI") {
                default_field_refs(downward);
            }
            if let Some(token) = object_at_map(source, "serviceAccountToken") {
                default_ptr(token, "expirationSeconds", Value::from(3600));
            }
        }
    }
    if let Some(scale_io) = object_at_map(volume, "scaleIO") {
        default_str(scale_io, "storageMode", "ThinProvisioned");
        default_str(scale_io, "fsType", "xfs");
    }
    if let Some(claim) = object_at_map(volume, "ephemeral")
        .and_then(|e| object_at_map(e, "volumeClaimTemplate"))
        .and_then(|t| object_at_map(t, "spec"))
    {
        default_ptr(claim, "volumeMode", Value::from("Filesystem"));
    }
}

fn default_field_refs(downward: &mut Map<String, Value>) {
    for item in array_items(downward, "items") {
        if let Some(field_ref) = object_at_map(item, "fieldRef") {
            default_str(field_ref, "apiVersion", "v1");
        }
    }
}

fn default_container(container: &mut Map<String, Value>) {
    if is_unset_str(container.get("imagePullPolicy")) {
        let image = container.get("image").and_then(Value::as_str).unwrap_or("");
        let policy = if image_tag(image).as_deref() == Some("latest") {
            "Always"
        } else {
            "IfNotPresent"
        };
        container.insert("imagePullPolicy".into(), Value::from(policy));
    }
    default_str(container, "terminationMessagePath", "/dev/termination-log");
    default_str(container, "terminationMessagePolicy", "File");
    for port in array_items(container, "ports") {
        default_str(port, "protocol", "TCP");
    }
    for env in array_items(container, "env") {
        if let Some(from) = object_at_map(env, "valueFrom") {
            if let Some(field_ref) = object_at_map(from, "fieldRef") {
                default_str(field_ref, "apiVersion", "v1");
            }
            if let Some(file_ref) = object_at_map(from, "fileKeyRef") {
                default_ptr(file_ref, "optional", Value::from(false));
            }
        }
    }
    for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = object_at_map(container, key) {
            default_int(probe, "timeoutSeconds", 1);
            default_int(probe, "periodSeconds", 10);
            default_int(probe, "successThreshold", 1);
            default_int(probe, "failureThreshold", 3);
            if let Some(http) = object_at_map(probe, "httpGet") {
                default_http_get(http);
            }
            if let Some(grpc) = object_at_map(probe, "grpc") {
                default_ptr(grpc, "service", Value::from(""));
            }
        }
    }
    if let Some(lifecycle) = object_at_map(container, "lifecycle") {
        for key in ["postStart", "preStop"] {
            if let Some(http) =
                object_at_map(lifecycle, key).and_then(|h| object_at_map(h, "httpGet"))
            {
                default_http_get(http);
            }
        }
    }
}

fn default_http_get(http: &mut Map<String, Value>) {
    default_str(http, "path", "/");
    default_str(http, "scheme", "HTTP");
}

fn object_at<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    v.get_mut(key)?.as_object_mut()
}

fn object_at_map<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
) -> Option<&'a mut Map<String, Value>> {
    m.get_mut(key)?.as_object_mut()
}

fn array_items<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    m.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn is_unset_str(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null)) || v.and_then(Value::as_str) == Some("")
}

/// Defaults a Go non-pointer string: `""` counts as unset.
fn default_str(m: &mut Map<String, Value>, key: &str, value: &str) {
    if is_unset_str(m.get(key)) {
        m.insert(key.into(), Value::from(value));
    }
}

/// Defaults a Go non-pointer integer: `0` counts as unset.
fn default_int(m: &mut Map<String, Value>, key: &str, value: i64) {
    if matches!(m.get(key), None | Some(Value::Null))
        || m.get(key).and_then(Value::as_i64) == Some(0)
    {
        m.insert(key.into(), Value::from(value));
    }
}

/// Defaults a Go pointer field: only absence counts as unset.
fn default_ptr(m: &mut Map<String, Value>, key: &str, value: Value) {
    if matches!(m.get(key), None | Some(Value::Null)) {
        m.insert(key.into(), value);
    }
}

/// The tag Kubernetes' `parsers.ParseImageName` reports for an image reference: the explicit
/// tag, `latest` when there is neither tag nor digest, `""` with a digest only, and `None` when
/// the reference does not parse (Kubernetes then defaults the pull policy to `IfNotPresent`).
/// The grammar is that of `distribution/reference`: lowercase path components separated by
/// `/`, an optional registry host (with `.` or `:`, or `localhost`, or upper case), an
/// optional `:tag` (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`), an optional `@algo:hex` digest.
fn image_tag(image: &str) -> Option<String> {
    let (name_tag, digest) = match image.split_once('@') {
        Some((n, d)) => {
            let (algo, hex) = d.split_once(':')?;
            if algo.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            (n, Some(d))
        }
        None => (image, None),
    };
    let after_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[after_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..after_slash + i],
            Some(&name_tag[after_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && tag.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_alphanumeric() || b == b'_' || (i > 0 && (b == b'.' || b == b'-'))
            });
        if !ok {
            return None;
        }
    }
    if name.is_empty() || name.len() > 255 {
        return None;
    }
    let path = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            let host_ok = first
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
            if !host_ok {
                return None;
            }
            rest
        }
        _ => {
            // A bare 64-hex string is an image ID, not a name.
            if name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return None;
            }
            name
        }
    };
    if !path.split('/').all(valid_path_component) {
        return None;
    }
    Some(match (tag, digest) {
        (Some(t), _) => t.to_owned(),
        (None, Some(_)) => String::new(),
        (None, None) => "latest".to_owned(),
    })
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = c.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

/// Brings a pod template (as JSON) to the form in which Go's semantic equality becomes plain
/// JSON equality: what Argo compares after decoding both sides into k8s.io/api v0.34.1 types.
///
/// 1. The template is re-encoded exactly as Go would after that decode
///    ([`go_json_pod_template`]): fields unknown to v0.34.1 are dropped, zero values of
///    non-pointer `omitempty` fields and empty maps disappear (`hostNetwork: false` equals
///    absent), struct values are always present (`resources: {}` equals absent), while a
///    pointer to an empty struct stays distinct from a nil pointer (`securityContext: {}` is
///    not absent, nor is `automountServiceAccountToken: false`).
/// 2. `null` and `[]` are dropped: Go's semantic equality treats nil and empty slices alike,
///    and the few slices without `omitempty` (`containers`, …) encode them differently.
/// 3. Resource quantities (values of `limits`, `requests`, `overhead`, and `sizeLimit`,
///    `divisor`) become their exact value rounded up to milli-units, since Go compares
///    quantities by value after defaulting rounds them (`1Ki` equals `1024`; `100n` equals
///    `1m`).
///
/// An error means Go could not decode the template at all.
pub fn semantic_normal_form(template: &Value) -> Result<Value, HashError> {
    let bytes = go_json_pod_template(template)?;
    let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    prune(&mut v, "");
    Ok(v)
}

/// Keys of resource lists (maps of quantities) in a pod template.
const RESOURCE_LISTS: [&str; 3] = ["limits", "requests", "overhead"];

/// Keys whose value is a single quantity in a pod template.
const QUANTITIES: [&str; 2] = ["sizeLimit", "divisor"];

/// Drops `null` and `[]` below `v` (found under `key`) and canonicalises quantities; returns
/// whether the parent may drop `v` itself.
fn prune(v: &mut Value, key: &str) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => {
            for item in items.iter_mut() {
                prune(item, "");
            }
            items.is_empty()
        }
        Value::Object(map) if RESOURCE_LISTS.contains(&key) => {
            map.values_mut().for_each(canonicalize_quantity);
            false
        }
        Value::Object(map) => {
            map.retain(|k, child| !prune(child, k));
            false
        }
        Value::String(_) if QUANTITIES.contains(&key) => {
            canonicalize_quantity(v);
            false
        }
        _ => false,
    }
}

fn canonicalize_quantity(v: &mut Value) {
    if let Some(key) = v.as_str().and_then(quantity_value) {
        *v = Value::String(key);
    }
}

/// The exact value of a Kubernetes quantity string (`<sign><digits>[.<digits>]<suffix>`, suffix
/// one of `Ki Mi Gi Ti Pi Ei`, `n u m "" k M G T P E`, or `e<int>`/`E<int>`), rounded up to
/// milli-units as `SetDefaults_ResourceList` does, written as `<integer>e<exponent>` with no
/// trailing zeros in the integer (so equal values give equal strings). `None` if it does not
/// parse or does not fit 128 bits, in which case the caller compares the text as written.
fn quantity_value(s: &str) -> Option<String> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
        return None;
    }
    let (mut exp10, exp2): (i64, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ if suffix.starts_with(['e', 'E']) => {
            let exp = &suffix[1..];
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (exp.parse().ok()?, 0)
        }
        _ => return None,
    };
    let digits = format!("{int_part}{frac_part}");
    let mut mantissa: u128 = digits.trim_start_matches('0').parse().unwrap_or(0);
    if digits.trim_start_matches('0').len() > 38 {
        return None;
    }
    exp10 -= frac_part.len() as i64;
    mantissa = mantissa.checked_mul(1u128.checked_shl(exp2)?)?;
    if mantissa == 0 {
        return Some("0".into());
    }
    // Round up (away from zero) to milli-units.
    if exp10 < -3 {
        let drop = u32::try_from(-3 - exp10).ok()?;
        let divisor = 10u128.checked_pow(drop);
        mantissa = match divisor {
            Some(d) => mantissa.div_ceil(d),
            None => 1,
        };
        exp10 = -3;
    }
    while mantissa.is_multiple_of(10) {
        mantissa /= 10;
        exp10 += 1;
    }
    Some(format!(
        "{}{mantissa}e{exp10}",
        if negative { "-" } else { "" }
    ))
}

// ------------------------------------------------------------------------------------------------
// Ephemeral metadata (canary/stable, preview/active pod labels and annotations)
// ------------------------------------------------------------------------------------------------

/// The metadata the controller injected into an RS's pod template, as recorded in its
/// `rollout.argoproj.io/ephemeral-metadata` annotation (`ParseExistingPodMetadata`); `None` if
/// absent or unreadable.
pub fn parse_existing_pod_metadata(rs: &ReplicaSet) -> Option<PodTemplateMetadata> {
    let raw = annotation(rs, EPHEMERAL_METADATA)?;
    serde_json::from_str::<Option<PodTemplateMetadata>>(raw).ok()?
}

/// Injects `desired` labels/annotations into `metadata` and removes previously injected ones
/// (`existing`) that are no longer desired (`SyncEphemeralPodMetadata`). Keys the controller
/// never injected are left alone, so metadata owned by others (sidecar injectors, …) survives.
/// Returns the new metadata and whether anything changed.
pub fn sync_ephemeral_pod_metadata(
    metadata: &ObjectMeta,
    existing: Option<&PodTemplateMetadata>,
    desired: Option<&PodTemplateMetadata>,
) -> (ObjectMeta, bool) {
    let mut metadata = metadata.clone();
    let mut modified = false;
    let inject = |target: &mut Option<BTreeMap<String, String>>,
                  wanted: Option<&BTreeMap<String, String>>,
                  modified: &mut bool| {
        for (k, v) in wanted.into_iter().flatten() {
            let map = target.get_or_insert_with(BTreeMap::new);
            if map.get(k) != Some(v) {
                map.insert(k.clone(), v.clone());
                *modified = true;
            }
        }
    };
    let remove = |target: &mut Option<BTreeMap<String, String>>,
                  injected: Option<&BTreeMap<String, String>>,
                  wanted: Option<&BTreeMap<String, String>>,
                  modified: &mut bool| {
        for k in injected.into_iter().flatten().map(|(k, _)| k) {
            let still_wanted = wanted.is_some_and(|w| w.contains_key(k));
            if !still_wanted
                && let Some(map) = target.as_mut()
                && map.remove(k).is_some()
            {
                *modified = true;
            }
        }
    };
    if let Some(desired) = desired {
        inject(
            &mut metadata.annotations,
            desired.annotations.as_ref(),
            &mut modified,
        );
        inject(&mut metadata.labels, desired.labels.as_ref(), &mut modified);
    }
    if let Some(existing) = existing {
        remove(
            &mut metadata.annotations,
            existing.annotations.as_ref(),
            desired.and_then(|d| d.annotations.as_ref()),
            &mut modified,
        );
        remove(
            &mut metadata.labels,
            existing.labels.as_ref(),
            desired.and_then(|d| d.labels.as_ref()),
            &mut modified,
        );
    }
    (metadata, modified)
}

/// Applies [`sync_ephemeral_pod_metadata`] to the pod template of `rs` and records what was
/// injected in the `rollout.argoproj.io/ephemeral-metadata` annotation, or removes the
/// annotation when `desired` is `None` (`SyncReplicaSetEphemeralPodMetadata`). The annotation is
/// only touched when the template changed. Returns the (copied) RS and whether it changed.
pub fn sync_replica_set_ephemeral_pod_metadata(
    rs: &ReplicaSet,
    desired: Option<&PodTemplateMetadata>,
) -> (ReplicaSet, bool) {
    let existing = parse_existing_pod_metadata(rs);
    let template_meta = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.clone())
        .unwrap_or_default();
    let (new_meta, modified) =
        sync_ephemeral_pod_metadata(&template_meta, existing.as_ref(), desired);
    let mut rs = rs.clone();
    if !modified {
        return (rs, false);
    }
    rs.spec
        .get_or_insert_with(Default::default)
        .template
        .get_or_insert_with(Default::default)
        .metadata = Some(new_meta);
    match desired {
        Some(desired) => {
            rs.metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(EPHEMERAL_METADATA.into(), ephemeral_metadata_json(desired));
        }
        None => {
            if let Some(annotations) = rs.metadata.annotations.as_mut() {
                annotations.remove(EPHEMERAL_METADATA);
            }
        }
    }
    (rs, true)
}

/// What [`sync_ephemeral_pod_metadata`] would change in `metadata`, as the `metadata` part of a
/// JSON merge patch: `{"labels": {..}, "annotations": {..}}` with the desired values to set and
/// `null` for the previously injected keys to remove; `None` when nothing changes (exactly when
/// `sync_ephemeral_pod_metadata` reports "not modified"). Nothing is copied unless something
/// changes, so it is cheap to ask on every reconcile for every pod.
pub fn ephemeral_metadata_patch(
    metadata: Option<&ObjectMeta>,
    existing: Option<&PodTemplateMetadata>,
    desired: Option<&PodTemplateMetadata>,
) -> Option<Value> {
    type Labels = BTreeMap<String, String>;
    let diff = |current: Option<&Labels>,
                injected: Option<&Labels>,
                wanted: Option<&Labels>|
     -> Map<String, Value> {
        let mut patch = Map::new();
        for (k, v) in wanted.into_iter().flatten() {
            if current.and_then(|c| c.get(k)) != Some(v) {
                patch.insert(k.clone(), Value::String(v.clone()));
            }
        }
        for k in injected.into_iter().flatten().map(|(k, _)| k) {
            let still_wanted = wanted.is_some_and(|w| w.contains_key(k));
            if !still_wanted && current.is_some_and(|c| c.contains_key(k)) {
                patch.insert(k.clone(), Value::Null);
            }
        }
        patch
    };
    let labels = diff(
        metadata.and_then(|m| m.labels.as_ref()),
        existing.and_then(|e| e.labels.as_ref()),
        desired.and_then(|d| d.labels.as_ref()),
    );
    let annotations = diff(
        metadata.and_then(|m| m.annotations.as_ref()),
        existing.and_then(|e| e.annotations.as_ref()),
        desired.and_then(|d| d.annotations.as_ref()),
    );
    let mut patch = Map::new();
    if !labels.is_empty() {
        patch.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        patch.insert("annotations".into(), Value::Object(annotations));
    }
    (!patch.is_empty()).then_some(Value::Object(patch))
}

/// `PodTemplateMetadata` as Go's `json.Marshal` writes it into the ephemeral-metadata
/// annotation: `labels` before `annotations`, empty maps omitted, keys sorted, HTML-escaped
/// strings. Byte-identical so that Argo and we never disagree about the annotation.
pub fn ephemeral_metadata_json(md: &PodTemplateMetadata) -> String {
    let mut out = String::from("{");
    let mut first = true;
    for (name, map) in [("labels", &md.labels), ("annotations", &md.annotations)] {
        let Some(map) = map.as_ref().filter(|m| !m.is_empty()) else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        push_go_json_string(&mut out, name);
        out.push_str(":{");
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_go_json_string(&mut out, k);
            out.push(':');
            push_go_json_string(&mut out, v);
        }
        out.push('}');
    }
    out.push('}');
    out
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe escaping, `\b`/`\f` short forms
/// since Go 1.22, other control characters as lower-case `\u00xx`, U+2028/U+2029 escaped).
fn push_go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Which ephemeral metadata belongs where right now (`reconcileEphemeralMetadata`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EphemeralTargets<'a> {
    /// No update in flight (no stable yet, or the new RS is the stable): the new RS carries the
    /// *stable*/*active* metadata and there is no separate stable RS to sync.
    pub fully_rolled_out: bool,
    /// Metadata for the new RS: stable/active when fully rolled out, else canary/preview.
    pub new_rs: Option<&'a PodTemplateMetadata>,
    /// Metadata for the stable RS (stable/active); only meaningful when not fully rolled out.
    pub stable_rs: Option<&'a PodTemplateMetadata>,
    /// `false` when the Rollout has no strategy: nothing is synced at all. Every other
    /// ReplicaSet is synced to `None` (injected metadata removed).
    pub applies: bool,
}

/// Decides the ephemeral metadata of the new and stable ReplicaSets.
pub fn ephemeral_targets<'a>(
    rollout: &'a Rollout,
    new_rs: Option<&ReplicaSet>,
) -> EphemeralTargets<'a> {
    let strategy = &rollout.spec.strategy;
    let (canary_md, stable_md, applies) = if let Some(c) = &strategy.canary {
        (c.canary_metadata.as_ref(), c.stable_metadata.as_ref(), true)
    } else if let Some(bg) = &strategy.blue_green {
        (
            bg.preview_metadata.as_ref(),
            bg.active_metadata.as_ref(),
            true,
        )
    } else {
        (None, None, false)
    };
    let fully_rolled_out = match stable_hash(rollout) {
        None => true,
        Some(stable) => new_rs.and_then(pod_hash).unwrap_or("") == stable,
    };
    EphemeralTargets {
        fully_rolled_out,
        new_rs: if fully_rolled_out {
            stable_md
        } else {
            canary_md
        },
        stable_rs: stable_md,
        applies,
    }
}

// ------------------------------------------------------------------------------------------------
// Injected anti-affinity
// ------------------------------------------------------------------------------------------------

/// The Rollout's `antiAffinity` setting, if one of its two variants is set (`GetRolloutAffinity`;
/// a canary setting wins over a blue-green one, which validation makes moot).
pub fn rollout_anti_affinity(rollout: &Rollout) -> Option<&AntiAffinity> {
    let strategy = &rollout.spec.strategy;
    let chosen = strategy
        .canary
        .as_ref()
        .and_then(|c| c.anti_affinity.as_ref())
        .or_else(|| {
            strategy
                .blue_green
                .as_ref()
                .and_then(|bg| bg.anti_affinity.as_ref())
        })?;
    (chosen
        .preferred_during_scheduling_ignored_during_execution
        .is_some()
        || chosen
            .required_during_scheduling_ignored_during_execution
            .is_some())
    .then_some(chosen)
}

/// The term that keeps new pods off nodes running the stable ReplicaSet's pods
/// (`CreateInjectedAntiAffinityRule`): `rollouts-pod-template-hash In [<stableRS>]`, topology
/// `kubernetes.io/hostname`, in the Rollout's namespace.
pub fn injected_anti_affinity_rule(rollout: &Rollout) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: POD_TEMPLATE_HASH.into(),
                operator: "In".into(),
                values: Some(vec![
                    status(rollout)
                        .and_then(|s| s.stable_rs.clone())
                        .unwrap_or_default(),
                ]),
            }]),
            match_labels: None,
        }),
        namespaces: Some(vec![rollout.metadata.namespace.clone().unwrap_or_default()]),
        topology_key: "kubernetes.io/hostname".into(),
        ..Default::default()
    }
}

/// The affinity for a ReplicaSet of the current template (`GenerateReplicaSetAffinity`): the
/// template's own affinity, plus the injected term while an update is in flight (anti-affinity
/// configured, `stableRS` set and ≠ `current_pod_hash`). `current_pod_hash` is the *computed*
/// v1.9.1 hash of the template, as in Argo.
pub fn generate_replica_set_affinity(
    rollout: &Rollout,
    current_pod_hash: &str,
) -> Option<Affinity> {
    let mut affinity = rollout
        .spec
        .template
        .as_ref()
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.affinity.clone());
    let (Some(strategy), Some(stable)) = (rollout_anti_affinity(rollout), stable_hash(rollout))
    else {
        return affinity;
    };
    if stable == current_pod_hash {
        return affinity;
    }
    let term = injected_anti_affinity_rule(rollout);
    let anti = affinity
        .get_or_insert_with(Default::default)
        .pod_anti_affinity
        .get_or_insert_with(PodAntiAffinity::default);
    match &strategy.preferred_during_scheduling_ignored_during_execution {
        Some(preferred) => anti
            .preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                pod_affinity_term: term,
                weight: preferred.weight,
            }),
        None => anti
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(term),
    }
    affinity
}

/// The index and term of the injected anti-affinity term in `affinity`
/// (`HasInjectedAntiAffinityRule`): the first term of the configured kind (preferred or
/// required) with a match expression on the hash label.
pub fn find_injected_anti_affinity_rule<'a>(
    affinity: Option<&'a Affinity>,
    rollout: &Rollout,
) -> Option<(usize, &'a PodAffinityTerm)> {
    let strategy = rollout_anti_affinity(rollout)?;
    let anti = affinity?.pod_anti_affinity.as_ref()?;
    let on_hash = |term: &PodAffinityTerm| {
        term.label_selector
            .as_ref()
            .and_then(|s| s.match_expressions.as_ref())
            .is_some_and(|exprs| exprs.iter().any(|e| e.key == POD_TEMPLATE_HASH))
    };
    if strategy
        .preferred_during_scheduling_ignored_during_execution
        .is_some()
    {
        anti.preferred_during_scheduling_ignored_during_execution
            .as_ref()?
            .iter()
            .enumerate()
            .find(|(_, w)| on_hash(&w.pod_affinity_term))
            .map(|(i, w)| (i, &w.pod_affinity_term))
    } else {
        anti.required_during_scheduling_ignored_during_execution
            .as_ref()?
            .iter()
            .enumerate()
            .find(|(_, t)| on_hash(t))
    }
}

/// `affinity` without the injected term (`RemoveInjectedAntiAffinityRule`); emptied
/// containers are removed so the result equals the template's own affinity.
///
/// Unlike Argo, an emptied `preferredDuringScheduling…` list is removed as well: Argo leaves an
/// empty non-nil slice behind, which keeps `podAntiAffinity: {}` alive and makes the semantic
/// fallback of [`find_new_replica_set`] miss RSes with an injected *preferred* term. Matching
/// them is what that fallback is for.
pub fn remove_injected_anti_affinity_rule(
    affinity: Option<&Affinity>,
    rollout: &Rollout,
) -> Option<Affinity> {
    let mut result = affinity.cloned();
    let Some((index, _)) = find_injected_anti_affinity_rule(affinity, rollout) else {
        return result;
    };
    let preferred = rollout_anti_affinity(rollout).is_some_and(|s| {
        s.preferred_during_scheduling_ignored_during_execution
            .is_some()
    });
    let aff = result.as_mut()?;
    let anti = aff.pod_anti_affinity.as_mut()?;
    if preferred {
        if let Some(terms) = anti
            .preferred_during_scheduling_ignored_during_execution
            .as_mut()
        {
            terms.remove(index);
        }
    } else if let Some(terms) = anti
        .required_during_scheduling_ignored_during_execution
        .as_mut()
    {
        terms.remove(index);
    }
    fn drop_if_empty<T>(v: &mut Option<Vec<T>>) {
        if v.as_ref().is_some_and(Vec::is_empty) {
            *v = None;
        }
    }
    drop_if_empty(&mut anti.required_during_scheduling_ignored_during_execution);
    drop_if_empty(&mut anti.preferred_during_scheduling_ignored_during_execution);
    if anti
        .required_during_scheduling_ignored_during_execution
        .is_none()
        && anti
            .preferred_during_scheduling_ignored_during_execution
            .is_none()
    {
        aff.pod_anti_affinity = None;
    }
    if aff.pod_anti_affinity.is_none() && aff.pod_affinity.is_none() && aff.node_affinity.is_none()
    {
        result = None;
    }
    result
}

/// Whether the injected term of an existing ReplicaSet still points at an old stable hash
/// (`IfInjectedAntiAffinityRuleNeedsUpdate`): the stable moved on during an update.
pub fn injected_anti_affinity_rule_needs_update(
    affinity: Option<&Affinity>,
    rollout: &Rollout,
    current_pod_hash: &str,
) -> bool {
    let Some((_, term)) = find_injected_anti_affinity_rule(affinity, rollout) else {
        return false;
    };
    let stable = status(rollout)
        .and_then(|s| s.stable_rs.as_deref())
        .unwrap_or("");
    if stable == current_pod_hash {
        return false;
    }
    term.label_selector
        .as_ref()
        .and_then(|s| s.match_expressions.as_ref())
        .into_iter()
        .flatten()
        .filter(|e| e.key == POD_TEMPLATE_HASH)
        .any(|e| {
            e.values
                .as_ref()
                .and_then(|v| v.first())
                .map(String::as_str)
                != Some(stable)
        })
}

// ------------------------------------------------------------------------------------------------
// Annotations (utils/annotations/annotations.go)
// ------------------------------------------------------------------------------------------------

/// The `rollout.argoproj.io/desired-replicas` annotation (`GetDesiredReplicasAnnotation`);
/// `None` when absent or not an `i32`.
pub fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation(rs, DESIRED_REPLICAS)?.parse().ok()
}

/// Records `desired` (the Rollout's `spec.replicas`) in the desired-replicas annotation
/// (`SetReplicasAnnotations`); returns whether it changed.
pub fn set_replicas_annotation(rs: &mut ReplicaSet, desired: i32) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let value = desired.to_string();
    if annotations.get(DESIRED_REPLICAS) == Some(&value) {
        return false;
    }
    annotations.insert(DESIRED_REPLICAS.into(), value);
    true
}

/// Whether the annotations of `rs` must be rewritten for a Rollout of `desired` replicas
/// (`ReplicasAnnotationsNeedUpdate`): no annotations at all, a different desired-replicas
/// value, or a Rollout scaled to 0 while `rs` still carries a scale-down deadline.
pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32) -> bool {
    let Some(annotations) = rs.metadata.annotations.as_ref() else {
        return true;
    };
    if annotations.get(DESIRED_REPLICAS).map(String::as_str) != Some(desired.to_string().as_str()) {
        return true;
    }
    desired == 0
        && annotations
            .get(SCALE_DOWN_DEADLINE)
            .is_some_and(|v| !v.is_empty())
}

/// Copies the Rollout's annotations onto `rs`, except [`ANNOTATIONS_NOT_COPIED`]
/// (`copyRolloutAnnotationsToReplicaSet`). Annotations removed from the Rollout stay on the RS.
/// Returns whether anything changed.
pub fn copy_rollout_annotations(rollout: &Rollout, rs: &mut ReplicaSet) -> bool {
    let target = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (k, v) in rollout.metadata.annotations.iter().flatten() {
        if ANNOTATIONS_NOT_COPIED.contains(&k.as_str()) || target.get(k) == Some(v) {
            continue;
        }
        target.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// Brings the annotations of the new ReplicaSet up to date (`SetNewReplicaSetAnnotations`):
/// copies the Rollout's annotations, raises the revision to `new_revision` if it is lower, and
/// for an RS about to be created (`exists == false`) records the desired replicas.
/// Returns whether anything changed.
///
/// Argo's revision-history quirk is kept: whenever *any* annotation of an RS that already had a
/// revision changes (a revision bump on rollback, but also a newly copied Rollout annotation),
/// the RS's old revision is appended to `rollout.argoproj.io/revision-history`, so the history
/// can repeat the current revision. A revision annotation that is not an integer stops
/// everything after the copy (which does happen) and reports "unchanged", as in Argo.
pub fn set_new_replica_set_annotations(
    rollout: &Rollout,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_rollout_annotations(rollout, rs);
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let old_revision = annotations.get(REVISION).cloned();
    let old = match old_revision.as_deref() {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    if old < new_revision {
        annotations.insert(REVISION.into(), new_revision.to_string());
        changed = true;
    }
    if let Some(old_revision) = old_revision
        && changed
    {
        let history = match annotations.get(REVISION_HISTORY).map(String::as_str) {
            None | Some("") => old_revision,
            Some(h) if h.starts_with(',') => old_revision,
            Some(h) => format!("{h},{old_revision}"),
        };
        annotations.insert(REVISION_HISTORY.into(), history);
    }
    if !exists && set_replicas_annotation(rs, rollout_replicas(rollout)) {
        changed = true;
    }
    changed
}

/// Whether [`set_new_replica_set_annotations`] with `exists == true` would report a change,
/// decided without copying: a Rollout annotation to copy, or a revision below `new_revision`
/// (never when the revision annotation is not an integer, which reports "unchanged").
fn existing_replica_set_annotations_need_update(
    rollout: &Rollout,
    rs: &ReplicaSet,
    new_revision: i64,
) -> bool {
    let annotations = rs.metadata.annotations.as_ref();
    let old = match annotations
        .and_then(|a| a.get(REVISION))
        .map(String::as_str)
    {
        None | Some("") => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    if old < new_revision {
        return true;
    }
    rollout.metadata.annotations.iter().flatten().any(|(k, v)| {
        !ANNOTATIONS_NOT_COPIED.contains(&k.as_str())
            && annotations.and_then(|a| a.get(k)) != Some(v)
    })
}

/// Sets the Rollout's own `rollout.argoproj.io/revision` (`SetRolloutRevision`); returns whether
/// it changed (then the Rollout must be written and `RolloutUpdated` recorded).
pub fn set_rollout_revision(rollout: &mut Rollout, revision: &str) -> bool {
    let annotations = rollout
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    if annotations.get(REVISION).map(String::as_str) == Some(revision) {
        return false;
    }
    annotations.insert(REVISION.into(), revision.into());
    true
}

/// The pure part of `syncReplicaSetRevision` for an existing new ReplicaSet: its annotations
/// (revision = max of `old_rss` + 1, copied Rollout annotations), `minReadySeconds`, and a stale
/// injected anti-affinity term. Returns the updated copy to write, or `None` when it is up to
/// date (then the Rollout's revision annotation follows the RS's, see [`set_rollout_revision`]).
///
/// When anything changes the template's affinity is regenerated from the Rollout
/// ([`generate_replica_set_affinity`]), as Argo does, even if only an annotation changed.
pub fn sync_replica_set_revision<'a>(
    rollout: &Rollout,
    new_rs: &ReplicaSet,
    old_rss: impl IntoIterator<Item = &'a ReplicaSet>,
    current_pod_hash: &str,
) -> Option<ReplicaSet> {
    let new_revision = next_revision(old_rss);
    // Most reconciles find the ReplicaSet up to date: decide that on the borrowed object and
    // copy it only when something is to be written.
    let min_ready = rollout.spec.min_ready_seconds.unwrap_or(0);
    let spec = new_rs.spec.as_ref();
    let min_ready_changed = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0) != min_ready;
    let affinity = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.affinity.as_ref());
    if !min_ready_changed
        && !injected_anti_affinity_rule_needs_update(affinity, rollout, current_pod_hash)
        && !existing_replica_set_annotations_need_update(rollout, new_rs, new_revision)
    {
        return None;
    }
    let mut rs = new_rs.clone();
    let annotations_changed = set_new_replica_set_annotations(rollout, &mut rs, new_revision, true);
    let min_ready = rollout.spec.min_ready_seconds.unwrap_or(0);
    let spec = rs.spec.get_or_insert_with(Default::default);
    let min_ready_changed = spec.min_ready_seconds.unwrap_or(0) != min_ready;
    let affinity = spec
        .template
        .as_ref()
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.affinity.as_ref());
    let affinity_changed =
        injected_anti_affinity_rule_needs_update(affinity, rollout, current_pod_hash);
    if !(annotations_changed || min_ready_changed || affinity_changed) {
        return None;
    }
    spec.min_ready_seconds = (min_ready != 0).then_some(min_ready);
    let template = spec.template.get_or_insert_with(Default::default);
    template.spec.get_or_insert_with(Default::default).affinity =
        generate_replica_set_affinity(rollout, current_pod_hash);
    Some(rs)
}

// ------------------------------------------------------------------------------------------------
// Creation (createDesiredReplicaSet)
// ------------------------------------------------------------------------------------------------

/// `<rollout>-<hash>`.
pub fn new_replica_set_name(rollout: &Rollout, hash: &str) -> String {
    format!("{}-{hash}", rollout.metadata.name.as_deref().unwrap_or(""))
}

/// The controller owner reference a Rollout puts on its ReplicaSets (`metav1.NewControllerRef`).
pub fn controller_ref(rollout: &Rollout) -> OwnerReference {
    OwnerReference {
        api_version: format!("{GROUP}/{VERSION}"),
        kind: ROLLOUT_KIND.into(),
        name: rollout.metadata.name.clone().unwrap_or_default(),
        uid: rollout.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The ReplicaSet `createDesiredReplicaSet` creates for the Rollout's current template.
///
/// - `hash` is [`current_pod_hash`] (v1.9.1 form, with `collisionCount`); `revision` is
///   [`next_revision`] of the existing ReplicaSets.
/// - `stable_rs_exists`: whether the stable ReplicaSet was found. With a stable RS the new pods
///   are canaries/previews and get `canaryMetadata`/`previewMetadata`; without one this RS will
///   become the stable and gets `stableMetadata`/`activeMetadata`. What was injected is recorded
///   in `rollout.argoproj.io/ephemeral-metadata`.
///
/// Name `<rollout>-<hash>`, namespace of the Rollout, controller owner reference; labels =
/// template labels + hash label (without the ephemeral labels); selector = Rollout selector +
/// hash label; annotations = revision, desired-replicas (= `spec.replicas`), the Rollout's
/// annotations except [`ANNOTATIONS_NOT_COPIED`]; template = the Rollout's template with the hash
/// label, the ephemeral metadata and the injected anti-affinity (while stable ≠ `hash`);
/// `minReadySeconds` of the Rollout; 0 replicas. The template is copied as is: dropping fields
/// unknown to Kubernetes v1.34 is the hash module's business.
pub fn new_replica_set(
    rollout: &Rollout,
    hash: &str,
    revision: i64,
    stable_rs_exists: bool,
) -> ReplicaSet {
    let mut template = rollout.spec.template.clone().unwrap_or_default();
    template.spec.get_or_insert_with(Default::default).affinity =
        generate_replica_set_affinity(rollout, hash);
    let mut labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(POD_TEMPLATE_HASH.into(), hash.into());
    template
        .metadata
        .get_or_insert_with(Default::default)
        .labels = Some(labels.clone());

    let mut selector = rollout.spec.selector.clone().unwrap_or_default();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());

    let min_ready = rollout.spec.min_ready_seconds.unwrap_or(0);
    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(new_replica_set_name(rollout, hash)),
            namespace: rollout.metadata.namespace.clone(),
            owner_references: Some(vec![controller_ref(rollout)]),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: (min_ready != 0).then_some(min_ready),
            selector,
            template: Some(template),
        }),
        status: None,
    };
    set_new_replica_set_annotations(rollout, &mut rs, revision, false);

    let strategy = &rollout.spec.strategy;
    let ephemeral = match (&strategy.canary, &strategy.blue_green) {
        (Some(c), _) if stable_rs_exists => Some(c.canary_metadata.as_ref()),
        (Some(c), _) => Some(c.stable_metadata.as_ref()),
        (None, Some(bg)) if stable_rs_exists => Some(bg.preview_metadata.as_ref()),
        (None, Some(bg)) => Some(bg.active_metadata.as_ref()),
        (None, None) => None,
    };
    if let Some(md) = ephemeral {
        rs = sync_replica_set_ephemeral_pod_metadata(&rs, md).0;
    }
    rs
}

/// After a create of `<rollout>-<hash>` failed with `AlreadyExists`: whether the existing
/// ReplicaSet is a hash collision rather than our own new ReplicaSet seen late through a slow
/// cache. It is ours only if this Rollout is its controller (by UID) and its template equals
/// the Rollout's ([`pod_template_equal_ignore_hash`], compared as is: an RS we created with
/// injected metadata therefore counts as a collision, as in Argo). On a collision
/// `status.collisionCount` is incremented and the next reconcile hashes with it.
pub fn is_hash_collision(rollout: &Rollout, existing: &ReplicaSet) -> bool {
    let owned = existing
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .is_some_and(|r| Some(&r.uid) == rollout.metadata.uid.as_ref());
    let live = existing
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    let desired = rollout.spec.template.clone().unwrap_or_default();
    !(owned && pod_template_equal_ignore_hash(&live, &desired))
}

// ------------------------------------------------------------------------------------------------
// Scaling and scale-down deadlines (rollout/sync.go, rollout/replicaset.go)
// ------------------------------------------------------------------------------------------------

/// The ReplicaSet after scaling it to `new_scale` for a Rollout of `rollout_replicas`
/// (`scaleReplicaSet`), or `None` when neither the size nor the desired-replicas annotation
/// needs a write. A scale to 0 also drops the scale-down deadline unless
/// `keep_deadline_on_scale_to_zero` (Argo: while an abort delays the scale-down).
pub fn scale_replica_set(
    rs: &ReplicaSet,
    new_scale: i32,
    rollout_replicas: i32,
    keep_deadline_on_scale_to_zero: bool,
) -> Option<ReplicaSet> {
    let size_changes = spec_replicas(rs) != new_scale;
    if !size_changes && !replicas_annotations_need_update(rs, rollout_replicas) {
        return None;
    }
    let mut rs = rs.clone();
    rs.spec.get_or_insert_with(Default::default).replicas = Some(new_scale);
    set_replicas_annotation(&mut rs, rollout_replicas);
    if new_scale == 0 && !keep_deadline_on_scale_to_zero {
        remove_scale_down_deadline(&mut rs);
    }
    Some(rs)
}

/// Whether an aborted rollout keeps its canary/preview up for `abortScaleDownDelaySeconds`
/// before scaling it down (`shouldDelayScaleDownOnAbort`): only when aborted, a stable RS
/// exists, it is not a basic canary, the delay is not "never", and not
/// `dynamicStableScale` with an unset delay.
pub fn should_delay_scale_down_on_abort(
    rollout: &Rollout,
    aborted: bool,
    stable_rs_exists: bool,
) -> bool {
    if !aborted || !stable_rs_exists {
        return false;
    }
    let canary = rollout.spec.strategy.canary.as_ref();
    if canary.is_some_and(|c| c.traffic_routing.is_none()) {
        return false;
    }
    let delay = abort_scale_down_delay(rollout);
    if delay.seconds.is_none() {
        return false;
    }
    let dynamic = canary.is_some_and(|c| c.dynamic_stable_scale == Some(true));
    !dynamic || delay.explicit
}

/// The `scale-down-deadline` annotation of `rs` is set and non-empty (`HasScaleDownDeadline`).
pub fn has_scale_down_deadline(rs: &ReplicaSet) -> bool {
    annotation(rs, SCALE_DOWN_DEADLINE).is_some_and(|v| !v.is_empty())
}

/// A `scale-down-deadline` annotation that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to read scaleDownAt label on rs '{rs}'")]
pub struct ScaleDownDeadlineError {
    /// The ReplicaSet's name.
    pub rs: String,
    /// The annotation value.
    pub value: String,
}

/// The scale-down deadline of `rs`, `Ok(None)` when there is none.
pub fn scale_down_deadline(
    rs: &ReplicaSet,
) -> Result<Option<DateTime<Utc>>, ScaleDownDeadlineError> {
    let Some(value) = annotation(rs, SCALE_DOWN_DEADLINE).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(value)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| ScaleDownDeadlineError {
            rs: rs_name(rs).to_owned(),
            value: value.to_owned(),
        })
}

/// Time left before the deadline of `rs` (`GetTimeRemainingBeforeScaleDownDeadline`):
/// `Some` only when a deadline is set and still in the future.
pub fn time_remaining_before_scale_down_deadline(
    rs: &ReplicaSet,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, ScaleDownDeadlineError> {
    Ok(scale_down_deadline(rs)?
        .filter(|deadline| *deadline > now)
        .and_then(|deadline| (deadline - now).to_std().ok()))
}

/// The annotation value for a deadline `delay_seconds` after `now`: RFC 3339 in UTC with whole
/// seconds (`now.Add(delay).UTC().Format(time.RFC3339)`).
pub fn scale_down_deadline_value(now: DateTime<Utc>, delay_seconds: i32) -> String {
    (now + chrono::Duration::seconds(i64::from(delay_seconds)))
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Sets the `scale-down-deadline` annotation (bare key) to `value`.
pub fn set_scale_down_deadline(rs: &mut ReplicaSet, value: &str) {
    rs.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(SCALE_DOWN_DEADLINE.into(), value.into());
}

/// Removes the `scale-down-deadline` annotation; returns whether it was there.
pub fn remove_scale_down_deadline(rs: &mut ReplicaSet) -> bool {
    rs.metadata
        .annotations
        .as_mut()
        .is_some_and(|a| a.remove(SCALE_DOWN_DEADLINE).is_some())
}

/// What to do with the scale-down deadline annotation of an RS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineChange {
    /// Add (or overwrite) the annotation with this RFC 3339 value.
    Set(String),
    /// Remove the annotation.
    Remove,
}

/// The deadline change `addScaleDownDelay` makes: a delay of 0 means "no delay", so an existing
/// deadline is removed (e.g. after switching from a traffic-routed to a basic canary).
pub fn add_scale_down_delay(
    rs: &ReplicaSet,
    delay_seconds: i32,
    now: DateTime<Utc>,
) -> Option<DeadlineChange> {
    if delay_seconds == 0 {
        return has_scale_down_deadline(rs).then_some(DeadlineChange::Remove);
    }
    Some(DeadlineChange::Set(scale_down_deadline_value(
        now,
        delay_seconds,
    )))
}

/// The decision for one old ReplicaSet being scaled down after a delay (`scaleDownDelayHelper`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleDownDelayDecision {
    /// The running count of ReplicaSets inside their delay, to pass to the next call.
    pub annotated: i32,
    /// The replicas the RS should have now.
    pub desired_replicas: i32,
    /// A change to its deadline annotation.
    pub deadline: Option<DeadlineChange>,
    /// Look at the rollout again after this long.
    pub requeue_after: Option<Duration>,
}

/// Decides the fate of one old ReplicaSet that must eventually go to 0
/// (`scaleDownDelayHelper`). Call it for each candidate in order (blue-green: newest revision
/// first), threading `annotated` through.
///
/// - No deadline yet and scaled up: if fewer than `scaleDownDelayRevisionLimit` ReplicaSets are
///   already waiting, it starts waiting: it keeps its size, gets a deadline of now +
///   [`scale_down_delay_seconds`], and the rollout is requeued after the delay. (With a delay of
///   0 it is never annotated and keeps its size for ever: upstream issue #1992.) Otherwise it
///   goes to 0 now.
/// - Deadline set: beyond the revision limit → 0. Still in the future → back to the full
///   `rollout_replicas` (not its current size), requeued at the deadline if that is sooner than
///   `resync`. Passed, or unreadable → 0.
/// - No deadline and already at 0 → stays at 0.
pub fn scale_down_delay_helper(
    rollout: &Rollout,
    rs: &ReplicaSet,
    annotated: i32,
    rollout_replicas: i32,
    now: DateTime<Utc>,
    resync: Duration,
) -> ScaleDownDelayDecision {
    let limit = scale_down_delay_revision_limit(rollout);
    let mut decision = ScaleDownDelayDecision {
        annotated,
        desired_replicas: 0,
        deadline: None,
        requeue_after: None,
    };
    if !has_scale_down_deadline(rs) {
        if spec_replicas(rs) > 0 && annotated < limit {
            let delay = scale_down_delay_seconds(rollout);
            decision.annotated += 1;
            decision.desired_replicas = spec_replicas(rs);
            decision.deadline = add_scale_down_delay(rs, delay, now);
            decision.requeue_after = Some(Duration::from_secs(delay.max(0) as u64));
        }
        return decision;
    }
    decision.annotated += 1;
    if decision.annotated > limit {
        return decision;
    }
    if let Ok(Some(remaining)) = time_remaining_before_scale_down_deadline(rs, now) {
        if remaining < resync {
            decision.requeue_after = Some(remaining);
        }
        decision.desired_replicas = rollout_replicas;
    }
    decision
}

// ------------------------------------------------------------------------------------------------
// References (isReplicaSetReferenced)
// ------------------------------------------------------------------------------------------------

/// The hash a Service selects (`rollouts-pod-template-hash` in `spec.selector`).
pub fn service_selector_hash(svc: &Service) -> Option<&str> {
    svc.spec
        .as_ref()?
        .selector
        .as_ref()?
        .get(POD_TEMPLATE_HASH)
        .map(String::as_str)
}

/// The Services whose live selectors can still reference an RS: canary and stable Services for
/// a canary, active and preview Services for blue-green (unset ones omitted).
pub fn referencing_service_names(rollout: &Rollout) -> Vec<&str> {
    let strategy = &rollout.spec.strategy;
    let names = if let Some(c) = &strategy.canary {
        vec![c.canary_service.as_deref(), c.stable_service.as_deref()]
    } else if let Some(bg) = &strategy.blue_green {
        vec![
            Some(bg.active_service.as_str()),
            bg.preview_service.as_deref(),
        ]
    } else {
        vec![]
    };
    names
        .into_iter()
        .flatten()
        .filter(|n| !n.is_empty())
        .collect()
}

/// Whether `rs` may still receive traffic and so must not be scaled down or deleted
/// (`isReplicaSetReferenced`): its hash is `status.stableRS`, `currentPodHash`, a blue-green
/// active/preview selector or a recorded canary/stable weight hash, or is in `live_hashes`:
/// the hashes selected by the existing [`referencing_service_names`] Services
/// ([`service_selector_hash`]) and by Istio DestinationRule subsets. An RS without hash label
/// is never referenced. (Argo also answers "referenced" when a Service lookup fails with
/// anything but NotFound; we read from caches, which do not fail.)
pub fn is_replica_set_referenced(rollout: &Rollout, rs: &ReplicaSet, live_hashes: &[&str]) -> bool {
    let Some(hash) = pod_hash(rs).filter(|h| !h.is_empty()) else {
        return false;
    };
    let Some(st) = status(rollout) else {
        return live_hashes.contains(&hash);
    };
    let bg = st.blue_green.as_ref();
    let weights = st.canary.as_ref().and_then(|c| c.weights.as_ref());
    let static_refs = [
        st.stable_rs.as_deref(),
        st.current_pod_hash.as_deref(),
        bg.and_then(|b| b.active_selector.as_deref()),
        bg.and_then(|b| b.preview_selector.as_deref()),
        weights.and_then(|w| w.canary.pod_template_hash.as_deref()),
        weights.and_then(|w| w.stable.pod_template_hash.as_deref()),
    ];
    static_refs.contains(&Some(hash)) || live_hashes.contains(&hash)
}

// ------------------------------------------------------------------------------------------------
// Revision history (reconcileRevisionHistoryLimit)
// ------------------------------------------------------------------------------------------------

/// The ReplicaSets to delete to honour `revisionHistoryLimit` (`reconcileRevisionHistoryLimit`),
/// oldest first, by name.
///
/// `old_rss` are the *other* ReplicaSets (neither new nor stable); an RS whose hash is
/// `status.stableRS` is skipped anyway. Of the ones not already being deleted, the oldest
/// `len − limit` (creation time, then name) are candidates, and a candidate is deleted only if
/// fully scaled down and observed: `spec.replicas == 0`, `status.replicas == 0`, and
/// `status.observedGeneration ≥ metadata.generation`. A candidate that does not qualify is
/// skipped, not replaced by a younger one, as in Argo.
pub fn replica_sets_to_delete<'a>(
    rollout: &Rollout,
    old_rss: impl IntoIterator<Item = &'a ReplicaSet>,
) -> Vec<String> {
    let stable = stable_hash(rollout);
    let mut cleanable: Vec<&ReplicaSet> = old_rss
        .into_iter()
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .filter(|rs| stable.is_none() || pod_hash(rs) != stable)
        .collect();
    let excess = cleanable.len() as i64 - i64::from(revision_history_limit(rollout));
    if excess <= 0 {
        return Vec::new();
    }
    cleanable.sort_by(|a, b| by_creation(a, b));
    cleanable
        .into_iter()
        .take(excess as usize)
        .filter(|rs| {
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            status_replicas(rs) == 0
                && spec_replicas(rs) == 0
                && rs.metadata.generation.unwrap_or(0) <= observed
        })
        .map(|rs| rs_name(rs).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // ---- fixtures -------------------------------------------------------------------------------

    /// A canary Rollout `ro` in namespace `ns` with Argo's unit-test template, patched by `extra`
    /// (a JSON merge of top-level `spec`/`status`/`metadata` keys).
    fn rollout(extra: Value) -> Rollout {
        let mut base = json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": "ro", "namespace": "ns", "uid": "ro-uid"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "red"}},
                "template": red_template(),
                "strategy": {"canary": {}}
            }
        });
        merge_replacing_template(&mut base, extra);
        serde_json::from_value(base).expect("rollout fixture")
    }

    /// [`merge`], except that a `spec.template` in `patch` replaces the base template whole.
    fn merge_replacing_template(base: &mut Value, mut patch: Value) {
        let template = patch
            .get_mut("spec")
            .and_then(Value::as_object_mut)
            .and_then(|s| s.remove("template"));
        merge(base, patch);
        if let Some(t) = template {
            base["spec"]["template"] = t;
        }
    }

    fn merge(base: &mut Value, patch: Value) {
        match (base, patch) {
            (Value::Object(b), Value::Object(p)) => {
                for (k, v) in p {
                    if v.is_null() {
                        b.remove(&k);
                    } else {
                        merge(b.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
            (b, p) => *b = p,
        }
    }

    /// Argo's own unit-test template (contract Addendum A).
    fn red_template() -> Value {
        json!({
            "metadata": {"labels": {"name": "red"}},
            "spec": {
                "containers": [{
                    "name": "red", "image": "red", "imagePullPolicy": "Always",
                    "terminationMessagePath": "/dev/termination-log"
                }],
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {}
            }
        })
    }

    /// A ReplicaSet from JSON; `name`, `created` (seconds after an epoch) and `hash` label are
    /// filled in.
    fn rs(name: &str, hash: &str, created: i64, extra: Value) -> ReplicaSet {
        let mut base = json!({
            "metadata": {
                "name": name, "namespace": "ns", "uid": format!("{name}-uid"),
                "creationTimestamp": ts(created),
                "labels": {"app": "red", POD_TEMPLATE_HASH: hash}
            },
            "spec": {"replicas": 0, "selector": {}, "template": red_template()},
            "status": {"replicas": 0}
        });
        merge_replacing_template(&mut base, extra);
        serde_json::from_value(base).expect("rs fixture")
    }

    fn ts(seconds: i64) -> String {
        let t = DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap();
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn counts(spec: i32, status: i32, available: i32, ready: i32) -> ReplicaSet {
        rs(
            "x",
            "h",
            0,
            json!({"spec": {"replicas": spec}, "status": {"replicas": status, "availableReplicas": available, "readyReplicas": ready}}),
        )
    }

    fn with_annotations(mut r: ReplicaSet, pairs: &[(&str, &str)]) -> ReplicaSet {
        let a = r.metadata.annotations.get_or_insert_with(BTreeMap::new);
        for (k, v) in pairs {
            a.insert((*k).into(), (*v).into());
        }
        r
    }

    fn hash_of(ro: &Rollout) -> String {
        current_pod_hash(ro).unwrap()
    }

    /// The template as the API server stores it in a ReplicaSet: defaulted.
    fn server_side(template: Value) -> Value {
        let mut t = template;
        apply_pod_template_defaults(&mut t);
        t
    }

    // ---- defaults -------------------------------------------------------------------------------

    #[test]
    fn defaults_apply_only_when_unset() {
        let bare = rollout(json!({"spec": {"replicas": null}}));
        assert_eq!(rollout_replicas(&bare), 1);
        assert_eq!(revision_history_limit(&bare), 10);
        assert_eq!(progress_deadline_seconds(&bare), 600);
        assert_eq!(analysis_run_successful_history_limit(&bare), 5);
        assert_eq!(analysis_run_unsuccessful_history_limit(&bare), 5);
        assert!(auto_promotion_enabled(&bare));
        assert_eq!(scale_down_delay_revision_limit(&bare), i32::MAX);
        assert_eq!(
            max_surge_or_default(&bare),
            IntOrString::String("25".into())
        );
        assert_eq!(
            max_unavailable_or_default(&bare),
            IntOrString::String("25".into())
        );

        let set = rollout(json!({"spec": {
            "replicas": 0, "revisionHistoryLimit": 2, "progressDeadlineSeconds": 30,
            "analysis": {"successfulRunHistoryLimit": 1, "unsuccessfulRunHistoryLimit": 0},
            "strategy": {"canary": {"maxSurge": 1, "maxUnavailable": "10%", "scaleDownDelayRevisionLimit": 2}}
        }}));
        assert_eq!(rollout_replicas(&set), 0);
        assert_eq!(revision_history_limit(&set), 2);
        assert_eq!(progress_deadline_seconds(&set), 30);
        assert_eq!(analysis_run_successful_history_limit(&set), 1);
        assert_eq!(analysis_run_unsuccessful_history_limit(&set), 0);
        assert_eq!(scale_down_delay_revision_limit(&set), 2);
        assert_eq!(max_surge_or_default(&set), IntOrString::Int(1));
        assert_eq!(
            max_unavailable_or_default(&set),
            IntOrString::String("10%".into())
        );
    }

    #[test]
    fn scale_down_delay_only_for_blue_green_and_traffic_routed_canary() {
        let cases = [
            (json!({"canary": {}}), 0),
            (json!({"canary": {"scaleDownDelaySeconds": 99}}), 0),
            (json!({"canary": {"trafficRouting": {}}}), 30),
            (
                json!({"canary": {"trafficRouting": {}, "scaleDownDelaySeconds": 5}}),
                5,
            ),
            (json!({"blueGreen": {"activeService": "a"}}), 30),
            (
                json!({"blueGreen": {"activeService": "a", "scaleDownDelaySeconds": 0}}),
                0,
            ),
        ];
        for (strategy, want) in cases {
            let ro = rollout(json!({"spec": {"strategy": {"canary": null}}}));
            let mut ro_json = serde_json::to_value(&ro).unwrap();
            ro_json["spec"]["strategy"] = strategy.clone();
            let ro: Rollout = serde_json::from_value(ro_json).unwrap();
            assert_eq!(scale_down_delay_seconds(&ro), want, "{strategy}");
        }
    }

    #[test]
    fn abort_scale_down_delay_table() {
        let cases = [
            (json!({"canary": {}}), Some(0), false),
            (
                json!({"canary": {"abortScaleDownDelaySeconds": 7}}),
                Some(0),
                false,
            ),
            (json!({"canary": {"trafficRouting": {}}}), Some(30), false),
            (
                json!({"canary": {"trafficRouting": {}, "abortScaleDownDelaySeconds": 0}}),
                None,
                true,
            ),
            (
                json!({"canary": {"trafficRouting": {}, "abortScaleDownDelaySeconds": 7}}),
                Some(7),
                true,
            ),
            (
                json!({"blueGreen": {"activeService": "a"}}),
                Some(30),
                false,
            ),
            (
                json!({"blueGreen": {"activeService": "a", "abortScaleDownDelaySeconds": 0}}),
                None,
                true,
            ),
        ];
        for (strategy, seconds, explicit) in cases {
            let mut v = serde_json::to_value(rollout(json!({}))).unwrap();
            v["spec"]["strategy"] = strategy.clone();
            let ro: Rollout = serde_json::from_value(v).unwrap();
            assert_eq!(
                abort_scale_down_delay(&ro),
                AbortScaleDownDelay { seconds, explicit },
                "{strategy}"
            );
        }
    }

    #[test]
    fn should_delay_scale_down_on_abort_table() {
        let tr = |extra: Value| {
            let mut v = json!({"trafficRouting": {}});
            merge(&mut v, extra);
            rollout(json!({"spec": {"strategy": {"canary": v}}}))
        };
        assert!(!should_delay_scale_down_on_abort(
            &tr(json!({})),
            false,
            true
        ));
        assert!(!should_delay_scale_down_on_abort(
            &tr(json!({})),
            true,
            false
        ));
        assert!(should_delay_scale_down_on_abort(&tr(json!({})), true, true));
        assert!(!should_delay_scale_down_on_abort(
            &rollout(json!({})),
            true,
            true
        ));
        let never = tr(json!({"abortScaleDownDelaySeconds": 0}));
        assert!(!should_delay_scale_down_on_abort(&never, true, true));
        let dynamic = tr(json!({"dynamicStableScale": true}));
        assert!(!should_delay_scale_down_on_abort(&dynamic, true, true));
        let dynamic_explicit =
            tr(json!({"dynamicStableScale": true, "abortScaleDownDelaySeconds": 5}));
        assert!(should_delay_scale_down_on_abort(
            &dynamic_explicit,
            true,
            true
        ));
    }

    #[test]
    fn max_surge_and_unavailable_resolve_like_argo() {
        let canary = rollout(json!({"spec": {"replicas": 10}}));
        assert_eq!((max_surge(&canary), max_unavailable(&canary)), (3, 2));
        let bad = rollout(json!({"spec": {"strategy": {"canary": {"maxSurge": "lots"}}}}));
        assert_eq!((max_surge(&bad), max_unavailable(&bad)), (0, 0));
        let mut v = serde_json::to_value(rollout(json!({"spec": {"replicas": 10}}))).unwrap();
        v["spec"]["strategy"] = json!({"blueGreen": {"activeService": "a"}});
        let bg: Rollout = serde_json::from_value(v).unwrap();
        assert_eq!((max_surge(&bg), max_unavailable(&bg)), (0, 2));
    }

    // ---- counting -------------------------------------------------------------------------------

    #[test]
    fn counting_helpers_sum_their_field() {
        let list = [counts(3, 2, 1, 2), counts(2, 2, 2, 2), counts(0, 1, 0, 0)];
        assert_eq!(replica_count(&list), 5);
        assert_eq!(actual_replica_count(&list), 5);
        assert_eq!(available_replica_count(&list), 3);
        assert_eq!(ready_replica_count(&list), 4);
        assert_eq!(replica_count(None::<&ReplicaSet>), 0);
        assert_eq!(replica_count(Some(&list[0])), 3);
        assert_eq!(filter_active(&list).len(), 2);
        let missing_spec: ReplicaSet =
            serde_json::from_value(json!({"metadata": {"name": "m"}})).unwrap();
        assert_eq!(
            spec_replicas(&missing_spec),
            1,
            "the API server defaults replicas to 1"
        );
        assert_eq!(available_replicas(&missing_spec), 0);
    }

    #[test]
    fn availability_table() {
        // (spec, available) -> available?, partially?
        let cases = [
            ((0, 0), false, false),
            ((0, 2), false, true),
            ((3, 0), false, false),
            ((3, 2), false, true),
            ((3, 3), true, true),
            ((3, 4), true, true),
        ];
        for ((spec, available), full, partial) in cases {
            let r = counts(spec, spec, available, available);
            assert_eq!(is_replica_set_available(&r), full, "{spec}/{available}");
            assert_eq!(
                is_replica_set_partially_available(&r),
                partial,
                "{spec}/{available}"
            );
        }
    }

    #[test]
    fn saturation_needs_spec_annotation_and_availability() {
        let ro = rollout(json!({}));
        let base = counts(3, 3, 3, 3);
        assert!(!is_saturated(&ro, &base), "no desired-replicas annotation");
        let ok = with_annotations(base.clone(), &[(DESIRED_REPLICAS, "3")]);
        assert!(is_saturated(&ro, &ok));
        let stale = with_annotations(base.clone(), &[(DESIRED_REPLICAS, "2")]);
        assert!(!is_saturated(&ro, &stale));
        let unavailable = with_annotations(counts(3, 3, 2, 3), &[(DESIRED_REPLICAS, "3")]);
        assert!(!is_saturated(&ro, &unavailable));
    }

    #[test]
    fn scaling_event_looks_at_active_new_and_stable_only() {
        let ro = rollout(json!({}));
        let new = with_annotations(counts(3, 3, 3, 3), &[(DESIRED_REPLICAS, "3")]);
        let stable_other = with_annotations(counts(1, 1, 1, 1), &[(DESIRED_REPLICAS, "5")]);
        let idle_other = with_annotations(counts(0, 0, 0, 0), &[(DESIRED_REPLICAS, "5")]);
        assert!(!is_scaling_event(&ro, Some(&new), None));
        assert!(is_scaling_event(&ro, Some(&new), Some(&stable_other)));
        assert!(!is_scaling_event(&ro, Some(&new), Some(&idle_other)));
        assert!(
            !is_scaling_event(&ro, Some(&counts(3, 3, 3, 3)), None),
            "no annotation"
        );
    }

    // ---- pods -----------------------------------------------------------------------------------

    #[test]
    fn pod_availability_respects_min_ready_seconds() {
        let pod = |ready: &str, since: i64| -> Pod {
            serde_json::from_value(json!({"metadata": {"name": "p"}, "status": {"conditions": [
                {"type": "Ready", "status": ready, "lastTransitionTime": ts(since)}
            ]}}))
            .unwrap()
        };
        assert!(is_pod_available(&pod("True", 100), 0, at(100)));
        assert!(!is_pod_available(&pod("False", 0), 0, at(100)));
        assert!(!is_pod_available(&pod("True", 95), 10, at(100)));
        assert!(is_pod_available(&pod("True", 90), 10, at(100)));
        let no_time: Pod = serde_json::from_value(json!({"metadata": {"name": "p"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}))
        .unwrap();
        assert!(is_pod_available(&no_time, 0, at(0)));
        assert!(!is_pod_available(&no_time, 5, at(1000)));
        let mut deleting = pod("True", 0);
        deleting.metadata.deletion_timestamp = deleting
            .status
            .as_ref()
            .unwrap()
            .conditions
            .as_ref()
            .unwrap()[0]
            .last_transition_time
            .clone();
        assert_eq!(
            available_pod_count([&pod("True", 0), &deleting, &pod("False", 0)], 0, at(10)),
            1
        );
    }

    // ---- revisions ------------------------------------------------------------------------------

    #[test]
    fn revisions_parse_and_max() {
        let r = |v: Option<&str>| match v {
            Some(v) => with_annotations(counts(0, 0, 0, 0), &[(REVISION, v)]),
            None => counts(0, 0, 0, 0),
        };
        assert_eq!(revision(&r(Some("4"))), 4);
        assert_eq!(revision(&r(None)), 0);
        assert_eq!(revision(&r(Some("x"))), 0);
        assert!(try_revision(&r(Some("x"))).is_err());
        let list = [r(Some("2")), r(Some("7")), r(Some("junk")), r(None)];
        assert_eq!(max_revision(&list), 7);
        assert_eq!(next_revision(&list), 8);
        assert_eq!(next_revision(&[] as &[ReplicaSet]), 1);
    }

    #[test]
    fn sort_by_revision_puts_unparsable_first_and_breaks_ties_by_age() {
        let r = |name: &str, rev: &str, created: i64| {
            with_annotations(rs(name, name, created, json!({})), &[(REVISION, rev)])
        };
        let (a, b, c, d) = (
            r("a", "3", 0),
            r("b", "1", 5),
            r("c", "x", 9),
            r("d", "1", 1),
        );
        let mut list = vec![&a, &b, &c, &d];
        sort_by_revision(&mut list);
        let names: Vec<&str> = list.iter().map(|r| rs_name(r)).collect();
        assert_eq!(names, ["c", "d", "b", "a"]);
    }

    // ---- identity -------------------------------------------------------------------------------

    /// The worked example of the contract (Addendum A): Argo's own unit-test template.
    #[test]
    fn contract_golden_hashes_find_the_new_rs() {
        let ro = rollout(json!({}));
        assert_eq!(hash_of(&ro), "5f78d78c4d");
        assert_eq!(
            legacy_pod_template_hash(&template_json(&ro), None).unwrap(),
            "7bb4fbc896"
        );
        let other =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "x", "image": "x"}]}}}});
        let v19 = rs("ro-5f78d78c4d", "5f78d78c4d", 5, other.clone());
        let v18 = rs("ro-7bb4fbc896", "7bb4fbc896", 0, other);
        assert_eq!(find_new_replica_set(&ro, &[v18.clone(), v19]), Some(1));
        assert_eq!(find_new_replica_set(&ro, &[v18]), Some(0));
    }

    #[test]
    fn finds_new_rs_by_v1_9_hash_label_oldest_first() {
        let ro = rollout(json!({}));
        let h = hash_of(&ro);
        let rss = [
            rs("other", "zzz", 0, json!({})),
            rs("younger", &h, 20, json!({})),
            rs("older", &h, 10, json!({})),
        ];
        assert_eq!(find_new_replica_set(&ro, &rss), Some(2));
    }

    #[test]
    fn collision_count_changes_the_hash_looked_up() {
        let ro = rollout(json!({"status": {"collisionCount": 1}}));
        let without = pod_template_hash(&template_json(&ro), None).unwrap();
        let with = pod_template_hash(&template_json(&ro), Some(1)).unwrap();
        assert_ne!(with, without);
        assert_eq!(hash_of(&ro), with);
        // An RS labelled with the no-collision hash but a different template is not ours.
        let other_template = json!({"spec": {"template": {"spec": {"containers": [{"name": "blue", "image": "blue"}]}}}});
        let rss = [
            rs("a", &without, 0, other_template),
            rs("b", &with, 1, json!({})),
        ];
        assert_eq!(find_new_replica_set(&ro, &rss), Some(1));
    }

    #[test]
    fn finds_new_rs_by_legacy_hash_label() {
        let ro = rollout(json!({}));
        let legacy = legacy_pod_template_hash(&template_json(&ro), None).unwrap();
        // A different template, so that only the label can match.
        let other_template = json!({"spec": {"template": {"spec": {"containers": [{"name": "blue", "image": "blue"}]}}}});
        let rss = [
            rs("a", "zzz", 0, other_template.clone()),
            rs("b", &legacy, 1, other_template),
        ];
        assert_eq!(find_new_replica_set(&ro, &rss), Some(1));
    }

    #[test]
    fn v1_9_hash_wins_over_legacy_hash_and_semantic_match() {
        let ro = rollout(json!({}));
        let legacy = legacy_pod_template_hash(&template_json(&ro), None).unwrap();
        let rss = [
            rs(
                "sem",
                "zzz",
                0,
                json!({"spec": {"template": server_side(red_template())}}),
            ),
            rs("legacy", &legacy, 1, json!({})),
            rs("current", &hash_of(&ro), 2, json!({})),
        ];
        assert_eq!(find_new_replica_set(&ro, &rss), Some(2));
        assert_eq!(find_new_replica_set(&ro, &rss[..2]), Some(1));
        assert_eq!(find_new_replica_set(&ro, &rss[..1]), Some(0));
    }

    /// A user-written template (no defaults) against the API-server copy (defaulted), hash label
    /// from some other controller version, with injected ephemeral metadata and a required
    /// anti-affinity term against the stable.
    #[test]
    fn finds_new_rs_by_semantic_equality_ignoring_injections() {
        let user_template = json!({
            "metadata": {"labels": {"app": "red"}},
            "spec": {"containers": [{
                "name": "web", "image": "nginx:1.25",
                "ports": [{"containerPort": 80}],
                "readinessProbe": {"httpGet": {"port": 80}},
                "resources": {"requests": {"cpu": "100m"}}
            }]}
        });
        let ro = rollout(json!({
            "spec": {"template": user_template.clone(), "strategy": {"canary": {
                "canaryMetadata": {"labels": {"role": "canary"}, "annotations": {"a": "b"}},
                "antiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}
            }}},
            "status": {"stableRS": "stable1"}
        }));
        let mut live = server_side(user_template);
        live["metadata"]["labels"]["role"] = json!("canary");
        live["metadata"]["labels"][POD_TEMPLATE_HASH] = json!("oldhash");
        live["metadata"]["annotations"] = json!({"a": "b", "sidecar": "kept"});
        live["spec"]["serviceAccount"] = json!("default");
        live["spec"]["serviceAccountName"] = json!("default");
        live["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            serde_json::to_value(injected_anti_affinity_rule(&ro)).unwrap()
        ]}});
        // `serviceAccountName` is only on the live side: that is a real difference.
        let md = r#"{"labels":{"role":"canary"},"annotations":{"a":"b"}}"#;
        let candidate = |live: Value| {
            with_annotations(
                rs(
                    "ro-oldhash",
                    "oldhash",
                    0,
                    json!({"spec": {"template": live}}),
                ),
                &[(EPHEMERAL_METADATA, md)],
            )
        };
        assert_eq!(find_new_replica_set(&ro, &[candidate(live.clone())]), None);
        live["spec"]
            .as_object_mut()
            .unwrap()
            .remove("serviceAccountName");
        // The sidecar annotation was not injected by us: still a difference.
        assert_eq!(find_new_replica_set(&ro, &[candidate(live.clone())]), None);
        live["metadata"]["annotations"]
            .as_object_mut()
            .unwrap()
            .remove("sidecar");
        assert_eq!(
            find_new_replica_set(&ro, &[candidate(live.clone())]),
            Some(0)
        );
        // Without the ephemeral-metadata annotation the injected label is a difference.
        let bare = rs(
            "ro-oldhash",
            "oldhash",
            0,
            json!({"spec": {"template": live}}),
        );
        assert_eq!(find_new_replica_set(&ro, &[bare]), None);
    }

    #[test]
    fn semantic_match_ignores_injected_preferred_anti_affinity_and_keeps_user_affinity() {
        let user_affinity = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 5, "podAffinityTerm": {"topologyKey": "zone", "labelSelector": {"matchLabels": {"x": "y"}}}}
        ]}});
        let mut template = red_template();
        template["spec"]["affinity"] = user_affinity;
        let ro = rollout(json!({
            "spec": {"template": template.clone(), "strategy": {"canary": {
                "antiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 50}}
            }}},
            "status": {"stableRS": "stable1"}
        }));
        let generated = generate_replica_set_affinity(&ro, "new");
        let anti = generated
            .as_ref()
            .unwrap()
            .pod_anti_affinity
            .as_ref()
            .unwrap();
        let preferred = anti
            .preferred_during_scheduling_ignored_during_execution
            .as_ref()
            .unwrap();
        assert_eq!(preferred.len(), 2);
        assert_eq!(preferred[1].weight, 50);
        let mut live = server_side(template);
        live["spec"]["affinity"] = serde_json::to_value(&generated).unwrap();
        let found = find_new_replica_set(
            &ro,
            &[rs("x", "other", 0, json!({"spec": {"template": live}}))],
        );
        assert_eq!(found, Some(0));

        // Only the injected term: removing it leaves no affinity at all.
        let ro_plain = rollout(json!({
            "spec": {"strategy": {"canary": {
                "antiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 50}}
            }}},
            "status": {"stableRS": "stable1"}
        }));
        let generated = generate_replica_set_affinity(&ro_plain, "new");
        assert!(generated.is_some());
        assert_eq!(
            remove_injected_anti_affinity_rule(generated.as_ref(), &ro_plain),
            None
        );
    }

    #[test]
    fn semantic_match_sees_real_template_changes() {
        let ro = rollout(json!({}));
        let mut changed = server_side(red_template());
        changed["spec"]["containers"][0]["image"] = json!("red:v2");
        assert_eq!(
            find_new_replica_set(
                &ro,
                &[rs("x", "other", 0, json!({"spec": {"template": changed}}))]
            ),
            None
        );
        let mut pointer_zero = server_side(red_template());
        pointer_zero["spec"]["automountServiceAccountToken"] = json!(false);
        assert_eq!(
            find_new_replica_set(
                &ro,
                &[rs(
                    "x",
                    "other",
                    0,
                    json!({"spec": {"template": pointer_zero}})
                )]
            ),
            None
        );
        let same = server_side(red_template());
        assert_eq!(
            find_new_replica_set(
                &ro,
                &[rs("x", "other", 0, json!({"spec": {"template": same}}))]
            ),
            Some(0)
        );
    }

    #[test]
    fn hash_collision_is_same_name_with_a_foreign_or_different_template() {
        let ro = rollout(json!({}));
        let h = hash_of(&ro);
        let name = new_replica_set_name(&ro, &h);
        let owner = json!({"metadata": {"ownerReferences": [serde_json::to_value(controller_ref(&ro)).unwrap()]}});
        // Same name, different template, without our label: not found, and a collision.
        let mut foreign = rs(
            &name,
            "unrelated",
            0,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "blue", "image": "blue"}]}}}}),
        );
        foreign
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .remove(POD_TEMPLATE_HASH);
        assert_eq!(
            find_new_replica_set(&ro, std::slice::from_ref(&foreign)),
            None
        );
        assert!(is_hash_collision(&ro, &foreign));
        // Ours (owned, same template) seen late: not a collision.
        let mut ours = rs(&name, &h, 0, owner.clone());
        ours.spec.as_mut().unwrap().template =
            Some(serde_json::from_value(server_side(red_template())).unwrap());
        assert!(!is_hash_collision(&ro, &ours));
        // Same template but owned by someone else: a collision.
        let mut other_owner = ours.clone();
        other_owner.metadata.owner_references.as_mut().unwrap()[0].uid = "someone".into();
        assert!(is_hash_collision(&ro, &other_owner));
    }

    #[test]
    fn old_stable_and_other_sets() {
        let ro = rollout(json!({"status": {"stableRS": "s"}}));
        let h = hash_of(&ro);
        let rss = [
            rs("ro-a", "a", 0, json!({})),
            rs("ro-s", "s", 1, json!({})),
            rs("ro-new", &h, 2, json!({})),
        ];
        let new = find_new_replica_set(&ro, &rss).map(|i| &rss[i]);
        assert_eq!(new.map(rs_name), Some("ro-new"));
        let old = find_old_replica_sets(&rss, new);
        assert_eq!(
            old.iter().map(|r| rs_name(r)).collect::<Vec<_>>(),
            ["ro-a", "ro-s"]
        );
        let stable = get_stable_rs(&ro, new, old.iter().copied());
        assert_eq!(stable.map(rs_name), Some("ro-s"));
        let other = get_other_rss(&rss, new, stable);
        assert_eq!(
            other.iter().map(|r| rs_name(r)).collect::<Vec<_>>(),
            ["ro-a"]
        );
        assert_eq!(
            classify(&ro, &rss),
            Roles {
                new: Some(2),
                stable: Some(1),
                older: vec![0, 1],
                other: vec![0]
            }
        );
        // The new RS is the stable: it is returned as stable and excluded from "other" once.
        let promoted = rollout(json!({"status": {"stableRS": h.clone()}}));
        assert_eq!(
            classify(&promoted, &rss),
            Roles {
                new: Some(2),
                stable: Some(2),
                older: vec![0, 1],
                other: vec![0, 1]
            }
        );
        assert_eq!(get_stable_rs(&rollout(json!({})), new, &rss), None);
        assert_eq!(replica_set_by_hash(&rss, "s").map(rs_name), Some("ro-s"));
        assert_eq!(replica_set_by_hash(&rss, ""), None);
    }

    // ---- semantic equality ----------------------------------------------------------------------

    #[test]
    fn pod_template_defaults_table() {
        let mut t = json!({"spec": {
            "containers": [{"name": "a", "image": "nginx", "ports": [{"containerPort": 1}],
                "env": [{"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}],
                "livenessProbe": {"grpc": {"port": 1}, "periodSeconds": 0},
                "lifecycle": {"preStop": {"httpGet": {"port": 1}}}}],
            "initContainers": [{"name": "i", "image": "busybox:1.36"}],
            "volumes": [
                {"name": "e"},
                {"name": "s", "secret": {"secretName": "x"}},
                {"name": "h", "hostPath": {"path": "/x"}},
                {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}
            ]
        }});
        apply_pod_template_defaults(&mut t);
        let spec = &t["spec"];
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["securityContext"], json!({}));
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["schedulerName"], "default-scheduler");
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
        assert_eq!(
            c["livenessProbe"],
            json!({"grpc": {"port": 1, "service": ""}, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(
            c["lifecycle"]["preStop"]["httpGet"],
            json!({"port": 1, "path": "/", "scheme": "HTTP"})
        );
        assert_eq!(spec["initContainers"][0]["imagePullPolicy"], "IfNotPresent");
        let v = &spec["volumes"];
        assert_eq!(v[0], json!({"name": "e", "emptyDir": {}}));
        assert_eq!(v[1]["secret"]["defaultMode"], 420);
        assert_eq!(v[2]["hostPath"]["type"], "");
        assert_eq!(v[3]["projected"]["defaultMode"], 420);
        assert_eq!(
            v[3]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3600
        );

        // Set values are kept, and defaulting is idempotent.
        let mut kept = json!({"spec": {"dnsPolicy": "None", "containers": [{"name": "a", "image": "x:latest", "imagePullPolicy": "Never"}]}});
        apply_pod_template_defaults(&mut kept);
        assert_eq!(kept["spec"]["dnsPolicy"], "None");
        assert_eq!(kept["spec"]["containers"][0]["imagePullPolicy"], "Never");
        let again = {
            let mut k = kept.clone();
            apply_pod_template_defaults(&mut k);
            k
        };
        assert_eq!(again, kept);
    }

    #[test]
    fn image_tag_follows_the_reference_grammar() {
        let cases = [
            ("nginx", Some("latest")),
            ("nginx:latest", Some("latest")),
            ("nginx:1.25", Some("1.25")),
            ("library/nginx:1", Some("1")),
            ("localhost:5000/app", Some("latest")),
            ("localhost:5000/app:v1", Some("v1")),
            ("registry.example.com/team/app:v1.2_rc-1", Some("v1.2_rc-1")),
            (
                "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                Some(""),
            ),
            (
                "app:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                Some("latest"),
            ),
            ("Nginx", None),
            ("nginx:", None),
            ("nginx:-bad", None),
            ("", None),
            ("a//b", None),
        ];
        for (image, want) in cases {
            assert_eq!(image_tag(image).as_deref(), want, "{image}");
        }
    }

    #[test]
    fn normal_form_is_what_go_decodes() {
        let nf = |v: Value| semantic_normal_form(&v).unwrap();
        let plain = json!({"spec": {"containers": [{"name": "a"}]}});
        let same = [
            json!({"metadata": {"labels": {}}, "spec": {"containers": [{"name": "a", "resources": {}, "env": []}], "nodeSelector": {}}}),
            json!({"spec": {"containers": [{"name": "a", "stdin": false, "workingDir": ""}], "hostNetwork": false}}),
            json!({"spec": {"containers": [{"name": "a", "futureField": 1}], "futureField": {"x": 1}}}),
            json!({"metadata": {"creationTimestamp": null}, "spec": {"containers": [{"name": "a"}], "volumes": []}}),
        ];
        for v in same {
            assert_eq!(nf(v.clone()), nf(plain.clone()), "{v}");
        }
        let different = [
            json!({"spec": {"containers": [{"name": "a"}], "securityContext": {}}}),
            json!({"spec": {"containers": [{"name": "a"}], "resources": {}}}),
            json!({"spec": {"containers": [{"name": "a"}], "automountServiceAccountToken": false}}),
            json!({"spec": {"containers": [{"name": "a", "image": "b"}]}}),
        ];
        for v in different {
            assert_ne!(nf(v.clone()), nf(plain.clone()), "{v}");
        }
        assert!(semantic_normal_form(&json!({"spec": {"containers": [{"name": 1}]}})).is_err());
    }

    #[test]
    fn quantities_compare_by_value() {
        let q = |s: &str| quantity_value(s);
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q("1024Mi"), q("1Gi"));
        assert_eq!(q("1k"), q("1000"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("1E3"), q("1000"));
        assert_eq!(q("0.0001"), q("1m"), "rounded up to milli-units");
        assert_eq!(q("100n"), q("1m"));
        assert_eq!(q("0"), q("0Gi"));
        assert_eq!(q("+2"), q("2"));
        assert_ne!(q("1Ki"), q("1k"));
        assert_ne!(q("-1"), q("1"));
        assert_eq!(q("1.5Gi").as_deref(), Some("1610612736e0"));
        for bad in ["", "abc", "1.2.3", "1Qi", "1e", "1e+", ".", "1 Gi"] {
            assert_eq!(q(bad), None, "{bad}");
        }
        let nf = |v: Value| semantic_normal_form(&v).unwrap();
        let template = |cpu: &str, memory: &str, size: &str| {
            json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": cpu, "memory": memory}}}],
                "volumes": [{"name": "v", "emptyDir": {"sizeLimit": size}}]}})
        };
        assert_eq!(
            nf(template("0.5", "1024Mi", "1Gi")),
            nf(template("500m", "1Gi", "1024Mi"))
        );
        assert_eq!(
            nf(template("100n", "1Ki", "1k")),
            nf(template("1m", "1024", "1000"))
        );
        assert_ne!(
            nf(template("600m", "1Gi", "1Gi")),
            nf(template("500m", "1Gi", "1Gi"))
        );
    }

    // ---- ephemeral metadata ---------------------------------------------------------------------

    #[test]
    fn ephemeral_metadata_is_injected_recorded_and_removed() {
        let md: PodTemplateMetadata = serde_json::from_value(
            json!({"labels": {"role": "canary"}, "annotations": {"x": "1"}}),
        )
        .unwrap();
        let base = rs("a", "h", 0, json!({}));
        let (with, changed) = sync_replica_set_ephemeral_pod_metadata(&base, Some(&md));
        assert!(changed);
        let meta = with
            .spec
            .as_ref()
            .unwrap()
            .template
            .as_ref()
            .unwrap()
            .metadata
            .as_ref()
            .unwrap();
        assert_eq!(meta.labels.as_ref().unwrap()["role"], "canary");
        assert_eq!(meta.labels.as_ref().unwrap()["name"], "red");
        assert_eq!(meta.annotations.as_ref().unwrap()["x"], "1");
        assert_eq!(
            annotation(&with, EPHEMERAL_METADATA),
            Some(r#"{"labels":{"role":"canary"},"annotations":{"x":"1"}}"#)
        );
        assert_eq!(parse_existing_pod_metadata(&with), Some(md.clone()));

        // Idempotent.
        let (_, again) = sync_replica_set_ephemeral_pod_metadata(&with, Some(&md));
        assert!(!again);

        // Switching to stable metadata removes what is no longer wanted, keeps what is.
        let stable: PodTemplateMetadata =
            serde_json::from_value(json!({"labels": {"role": "stable"}})).unwrap();
        let (switched, changed) = sync_replica_set_ephemeral_pod_metadata(&with, Some(&stable));
        assert!(changed);
        let meta = switched
            .spec
            .as_ref()
            .unwrap()
            .template
            .as_ref()
            .unwrap()
            .metadata
            .as_ref()
            .unwrap();
        assert_eq!(meta.labels.as_ref().unwrap()["role"], "stable");
        assert!(!meta.annotations.as_ref().unwrap().contains_key("x"));
        assert_eq!(
            annotation(&switched, EPHEMERAL_METADATA),
            Some(r#"{"labels":{"role":"stable"}}"#)
        );

        // None removes everything injected and the annotation.
        let (cleared, changed) = sync_replica_set_ephemeral_pod_metadata(&switched, None);
        assert!(changed);
        assert_eq!(annotation(&cleared, EPHEMERAL_METADATA), None);
        let meta = cleared
            .spec
            .as_ref()
            .unwrap()
            .template
            .as_ref()
            .unwrap()
            .metadata
            .as_ref()
            .unwrap();
        assert!(!meta.labels.as_ref().unwrap().contains_key("role"));
    }

    /// The merge patch describes exactly what `SyncEphemeralPodMetadata` changes: applied to the
    /// metadata it gives the same labels and annotations, and it is absent exactly when nothing
    /// changes.
    #[test]
    fn ephemeral_metadata_patch_matches_the_sync() {
        let md = |v: Value| -> Option<PodTemplateMetadata> { serde_json::from_value(v).unwrap() };
        let meta = |v: Value| -> ObjectMeta { serde_json::from_value(v).unwrap() };
        let metas = [
            meta(json!({})),
            meta(json!({"labels": {"app": "a"}})),
            meta(json!({"labels": {"app": "a", "role": "canary"}, "annotations": {"x": "1"}})),
            meta(
                json!({"labels": {"app": "a", "role": "stable"}, "annotations": {"x": "2", "y": "3"}}),
            ),
        ];
        let mds = [
            None,
            md(json!({"labels": {"role": "canary"}, "annotations": {"x": "1"}})),
            md(json!({"labels": {"role": "stable"}})),
            md(json!({"annotations": {"y": "3"}})),
            md(json!({})),
        ];
        let apply = |m: &ObjectMeta, patch: &Value| -> ObjectMeta {
            let mut v = serde_json::to_value(m).unwrap();
            for part in ["labels", "annotations"] {
                for (k, val) in patch
                    .get(part)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let map = v
                        .as_object_mut()
                        .unwrap()
                        .entry(part)
                        .or_insert_with(|| json!({}));
                    if val.is_null() {
                        map.as_object_mut().unwrap().remove(k);
                    } else {
                        map[k.as_str()] = val.clone();
                    }
                }
            }
            serde_json::from_value(v).unwrap()
        };
        let norm = |m: Option<&BTreeMap<String, String>>| m.cloned().unwrap_or_default();
        for m in &metas {
            for existing in &mds {
                for desired in &mds {
                    let (synced, modified) =
                        sync_ephemeral_pod_metadata(m, existing.as_ref(), desired.as_ref());
                    let patch =
                        ephemeral_metadata_patch(Some(m), existing.as_ref(), desired.as_ref());
                    assert_eq!(patch.is_some(), modified, "{m:?} {existing:?} {desired:?}");
                    let patched = patch.as_ref().map_or_else(|| m.clone(), |p| apply(m, p));
                    assert_eq!(norm(patched.labels.as_ref()), norm(synced.labels.as_ref()));
                    assert_eq!(
                        norm(patched.annotations.as_ref()),
                        norm(synced.annotations.as_ref())
                    );
                }
            }
        }
        assert_eq!(
            ephemeral_metadata_patch(metas.get(2), mds[1].as_ref(), mds[2].as_ref()),
            Some(json!({"labels": {"role": "stable"}, "annotations": {"x": null}}))
        );
    }

    #[test]
    fn ephemeral_annotation_is_go_json() {
        let md: PodTemplateMetadata = serde_json::from_value(json!({
            "annotations": {"q": "a<b>&\"c\"\n\u{1}\u{2028}é"}, "labels": {}
        }))
        .unwrap();
        assert_eq!(
            ephemeral_metadata_json(&md),
            r#"{"annotations":{"q":"a\u003cb\u003e\u0026\"c\"\n\u0001\u2028é"}}"#
        );
        assert_eq!(
            ephemeral_metadata_json(&PodTemplateMetadata::default()),
            "{}"
        );
    }

    #[test]
    fn ephemeral_targets_follow_the_update_state() {
        let ro = |status: Value| {
            rollout(json!({"spec": {"strategy": {"canary": {
                "canaryMetadata": {"labels": {"r": "c"}}, "stableMetadata": {"labels": {"r": "s"}}
            }}}, "status": status}))
        };
        let label = |md: Option<&PodTemplateMetadata>| {
            md.and_then(|m| m.labels.as_ref()).map(|l| l["r"].clone())
        };
        let new = rs("n", "new", 0, json!({}));
        let initial = ro(json!({}));
        let t = ephemeral_targets(&initial, Some(&new));
        assert!(t.fully_rolled_out && t.applies);
        assert_eq!(label(t.new_rs).as_deref(), Some("s"));
        let updating = ro(json!({"stableRS": "old"}));
        let t = ephemeral_targets(&updating, Some(&new));
        assert!(!t.fully_rolled_out);
        assert_eq!(
            (label(t.new_rs).as_deref(), label(t.stable_rs).as_deref()),
            (Some("c"), Some("s"))
        );
        let done = ro(json!({"stableRS": "new"}));
        assert!(ephemeral_targets(&done, Some(&new)).fully_rolled_out);
        assert!(!ephemeral_targets(&updating, None).fully_rolled_out);
    }

    // ---- anti-affinity --------------------------------------------------------------------------

    #[test]
    fn anti_affinity_injected_only_while_stable_differs() {
        let ro = |status: Value| {
            rollout(json!({"spec": {"strategy": {"canary": {
                "antiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}
            }}}, "status": status}))
        };
        assert_eq!(
            generate_replica_set_affinity(&ro(json!({})), "h"),
            None,
            "no stable"
        );
        assert_eq!(
            generate_replica_set_affinity(&ro(json!({"stableRS": "h"})), "h"),
            None,
            "stable == current"
        );
        let updating = ro(json!({"stableRS": "s"}));
        let aff = generate_replica_set_affinity(&updating, "h").unwrap();
        assert_eq!(
            serde_json::to_value(&aff).unwrap(),
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchExpressions": [{"key": POD_TEMPLATE_HASH, "operator": "In", "values": ["s"]}]},
                "namespaces": ["ns"], "topologyKey": "kubernetes.io/hostname"
            }]}})
        );
        assert!(!injected_anti_affinity_rule_needs_update(
            Some(&aff),
            &updating,
            "h"
        ));
        let moved = ro(json!({"stableRS": "s2"}));
        assert!(injected_anti_affinity_rule_needs_update(
            Some(&aff),
            &moved,
            "h"
        ));
        assert!(!injected_anti_affinity_rule_needs_update(
            Some(&aff),
            &ro(json!({"stableRS": "h"})),
            "h"
        ));
        assert_eq!(
            remove_injected_anti_affinity_rule(Some(&aff), &updating),
            None
        );
        // No strategy: nothing injected, nothing removed.
        let plain = rollout(json!({"status": {"stableRS": "s"}}));
        assert_eq!(generate_replica_set_affinity(&plain, "h"), None);
        assert_eq!(
            remove_injected_anti_affinity_rule(Some(&aff), &plain),
            Some(aff)
        );
    }

    // ---- annotations ----------------------------------------------------------------------------

    #[test]
    fn desired_replicas_annotation_helpers() {
        let mut r = counts(1, 1, 1, 1);
        assert!(
            replicas_annotations_need_update(&r, 3),
            "no annotations at all"
        );
        assert!(set_replicas_annotation(&mut r, 3));
        assert!(!set_replicas_annotation(&mut r, 3));
        assert_eq!(desired_replicas_annotation(&r), Some(3));
        assert!(!replicas_annotations_need_update(&r, 3));
        assert!(replicas_annotations_need_update(&r, 4));
        let mut zero = with_annotations(counts(1, 1, 1, 1), &[(DESIRED_REPLICAS, "0")]);
        assert!(!replicas_annotations_need_update(&zero, 0));
        set_scale_down_deadline(&mut zero, "2026-01-01T00:00:00Z");
        assert!(
            replicas_annotations_need_update(&zero, 0),
            "scaled to 0 with a deadline left"
        );
        let junk = with_annotations(counts(1, 1, 1, 1), &[(DESIRED_REPLICAS, "x")]);
        assert_eq!(desired_replicas_annotation(&junk), None);
    }

    #[test]
    fn rollout_annotations_are_copied_except_bookkeeping() {
        let ro = rollout(json!({"metadata": {"annotations": {
            "team": "a", REVISION: "9", REVISION_HISTORY: "1", DESIRED_REPLICAS: "7",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            "notified.notifications.argoproj.io": "{}"
        }}}));
        let mut r = with_annotations(counts(0, 0, 0, 0), &[("keep", "me")]);
        assert!(copy_rollout_annotations(&ro, &mut r));
        assert!(!copy_rollout_annotations(&ro, &mut r));
        let a = r.metadata.annotations.as_ref().unwrap();
        assert_eq!(a.keys().collect::<Vec<_>>(), ["keep", "team"]);
    }

    #[test]
    fn revision_and_history_annotations() {
        let ro = rollout(json!({}));
        // Fresh RS: revision and desired replicas, no history.
        let mut fresh = counts(0, 0, 0, 0);
        assert!(set_new_replica_set_annotations(&ro, &mut fresh, 1, false));
        assert_eq!(annotation(&fresh, REVISION), Some("1"));
        assert_eq!(annotation(&fresh, DESIRED_REPLICAS), Some("3"));
        assert_eq!(annotation(&fresh, REVISION_HISTORY), None);

        // Up to date: nothing changes.
        let mut current = with_annotations(counts(0, 0, 0, 0), &[(REVISION, "4")]);
        assert!(!set_new_replica_set_annotations(&ro, &mut current, 4, true));
        assert!(
            !set_new_replica_set_annotations(&ro, &mut current, 2, true),
            "never lowered"
        );
        assert_eq!(annotation(&current, REVISION), Some("4"));

        // Rollback to an old RS: revision bumped, old one appended to the history.
        let mut old = with_annotations(
            counts(0, 0, 0, 0),
            &[(REVISION, "2"), (REVISION_HISTORY, "1")],
        );
        assert!(set_new_replica_set_annotations(&ro, &mut old, 5, true));
        assert_eq!(annotation(&old, REVISION), Some("5"));
        assert_eq!(annotation(&old, REVISION_HISTORY), Some("1,2"));
        assert_eq!(
            annotation(&old, DESIRED_REPLICAS),
            None,
            "existing RS: scaling sets it"
        );

        // The quirk: a newly copied Rollout annotation appends the *current* revision.
        let tracked =
            rollout(json!({"metadata": {"annotations": {"argocd.argoproj.io/tracking-id": "t"}}}));
        assert!(set_new_replica_set_annotations(&tracked, &mut old, 5, true));
        assert_eq!(annotation(&old, REVISION), Some("5"));
        assert_eq!(annotation(&old, REVISION_HISTORY), Some("1,2,5"));

        // A non-integer revision: Rollout annotations copied, nothing else, reported unchanged.
        let mut junk = with_annotations(counts(0, 0, 0, 0), &[(REVISION, "x")]);
        assert!(!set_new_replica_set_annotations(
            &tracked, &mut junk, 3, true
        ));
        assert_eq!(annotation(&junk, REVISION), Some("x"));
        assert_eq!(
            annotation(&junk, "argocd.argoproj.io/tracking-id"),
            Some("t")
        );
    }

    #[test]
    fn rollout_revision_annotation() {
        let mut ro = rollout(json!({}));
        assert!(set_rollout_revision(&mut ro, "3"));
        assert!(!set_rollout_revision(&mut ro, "3"));
        assert_eq!(ro.metadata.annotations.as_ref().unwrap()[REVISION], "3");
    }

    #[test]
    fn sync_replica_set_revision_updates_only_when_needed() {
        let ro = rollout(json!({"spec": {"minReadySeconds": 5}}));
        let h = hash_of(&ro);
        let older = [with_annotations(
            rs("o", "o", 0, json!({})),
            &[(REVISION, "3")],
        )];
        let up_to_date = with_annotations(
            rs("n", &h, 1, json!({"spec": {"minReadySeconds": 5}})),
            &[(REVISION, "4"), (DESIRED_REPLICAS, "3")],
        );
        assert_eq!(
            sync_replica_set_revision(&ro, &up_to_date, &older, &h),
            None
        );

        let behind = with_annotations(
            rs("n", &h, 1, json!({"spec": {"minReadySeconds": 5}})),
            &[(REVISION, "2")],
        );
        let updated = sync_replica_set_revision(&ro, &behind, &older, &h).unwrap();
        assert_eq!(annotation(&updated, REVISION), Some("4"));
        assert_eq!(annotation(&updated, REVISION_HISTORY), Some("2"));

        let min_ready = rollout(json!({"spec": {"minReadySeconds": 0}}));
        let updated = sync_replica_set_revision(&min_ready, &up_to_date, &older, &h).unwrap();
        assert_eq!(updated.spec.as_ref().unwrap().min_ready_seconds, None);
        assert_eq!(annotation(&updated, REVISION), Some("4"));
    }

    // ---- creation -------------------------------------------------------------------------------

    #[test]
    fn new_replica_set_is_built_like_create_desired_replica_set() {
        let ro = rollout(json!({
            "metadata": {"annotations": {"team": "a", REVISION: "4"}},
            "spec": {"minReadySeconds": 10, "strategy": {"canary": {
                "stableMetadata": {"labels": {"role": "stable"}},
                "canaryMetadata": {"labels": {"role": "canary"}}
            }}}
        }));
        let rs = new_replica_set(&ro, "abc123", 5, false);
        let mut template = red_template();
        template["metadata"]["labels"] =
            json!({"name": "red", "role": "stable", POD_TEMPLATE_HASH: "abc123"});
        assert_eq!(
            serde_json::to_value(&rs).unwrap(),
            json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": "ro-abc123", "namespace": "ns",
                    "labels": {"name": "red", POD_TEMPLATE_HASH: "abc123"},
                    "annotations": {
                        "team": "a", REVISION: "5", DESIRED_REPLICAS: "3",
                        EPHEMERAL_METADATA: r#"{"labels":{"role":"stable"}}"#
                    },
                    "ownerReferences": [{
                        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "ro",
                        "uid": "ro-uid", "controller": true, "blockOwnerDeletion": true
                    }]
                },
                "spec": {
                    "replicas": 0, "minReadySeconds": 10,
                    "selector": {"matchLabels": {"app": "red", POD_TEMPLATE_HASH: "abc123"}},
                    "template": template
                }
            })
        );
        // With a stable RS the new pods are canaries.
        let canary = new_replica_set(&ro, "abc123", 5, true);
        let labels = canary
            .spec
            .unwrap()
            .template
            .unwrap()
            .metadata
            .unwrap()
            .labels
            .unwrap();
        assert_eq!(labels["role"], "canary");
        assert_eq!(
            canary.metadata.annotations.unwrap()[EPHEMERAL_METADATA],
            r#"{"labels":{"role":"canary"}}"#
        );
    }

    #[test]
    fn new_replica_set_blue_green_metadata_and_anti_affinity() {
        let mut v = serde_json::to_value(rollout(json!({"status": {"stableRS": "s"}}))).unwrap();
        v["spec"]["strategy"] = json!({"blueGreen": {
            "activeService": "a",
            "previewMetadata": {"annotations": {"p": "1"}},
            "activeMetadata": {"annotations": {"a": "1"}},
            "antiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 10}}
        }});
        let ro: Rollout = serde_json::from_value(v).unwrap();
        let preview = new_replica_set(&ro, "h", 2, true);
        let template = preview.spec.as_ref().unwrap().template.as_ref().unwrap();
        assert_eq!(
            template
                .metadata
                .as_ref()
                .unwrap()
                .annotations
                .as_ref()
                .unwrap()["p"],
            "1"
        );
        let terms = template
            .spec
            .as_ref()
            .unwrap()
            .affinity
            .as_ref()
            .unwrap()
            .pod_anti_affinity
            .as_ref()
            .unwrap()
            .preferred_during_scheduling_ignored_during_execution
            .as_ref()
            .unwrap();
        assert_eq!(terms[0].weight, 10);
        let active = new_replica_set(&ro, "h", 2, false);
        let template = active.spec.as_ref().unwrap().template.as_ref().unwrap();
        assert_eq!(
            template
                .metadata
                .as_ref()
                .unwrap()
                .annotations
                .as_ref()
                .unwrap()["a"],
            "1"
        );
        // No ephemeral metadata configured: no annotation.
        let bare = new_replica_set(&rollout(json!({})), "h", 1, true);
        assert!(
            !bare
                .metadata
                .annotations
                .unwrap()
                .contains_key(EPHEMERAL_METADATA)
        );
        assert_eq!(bare.spec.unwrap().min_ready_seconds, None);
    }

    #[test]
    fn created_rs_is_found_again_by_its_hash() {
        let ro = rollout(
            json!({"status": {"stableRS": "s"}, "spec": {"strategy": {"canary": {
                "canaryMetadata": {"labels": {"role": "canary"}},
                "antiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}
            }}}}),
        );
        let h = hash_of(&ro);
        let created = new_replica_set(&ro, &h, 1, true);
        assert_eq!(
            find_new_replica_set(&ro, std::slice::from_ref(&created)),
            Some(0)
        );
        // ... and also by semantic equality once its label no longer matches.
        let mut relabelled = created.clone();
        relabelled
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert(POD_TEMPLATE_HASH.into(), "other".into());
        let mut t =
            serde_json::to_value(relabelled.spec.as_ref().unwrap().template.as_ref().unwrap())
                .unwrap();
        apply_pod_template_defaults(&mut t);
        relabelled.spec.as_mut().unwrap().template = Some(serde_json::from_value(t).unwrap());
        assert_eq!(find_new_replica_set(&ro, &[relabelled]), Some(0));
    }

    // ---- scaling and deadlines ------------------------------------------------------------------

    #[test]
    fn scale_replica_set_writes_size_and_annotation() {
        let r = with_annotations(counts(2, 2, 2, 2), &[(DESIRED_REPLICAS, "3")]);
        assert_eq!(scale_replica_set(&r, 2, 3, false), None);
        let up = scale_replica_set(&r, 3, 3, false).unwrap();
        assert_eq!(spec_replicas(&up), 3);
        let rescaled = scale_replica_set(&r, 2, 5, false).unwrap();
        assert_eq!(desired_replicas_annotation(&rescaled), Some(5));
        let mut with_deadline = r.clone();
        set_scale_down_deadline(&mut with_deadline, "2026-01-01T00:00:00Z");
        let down = scale_replica_set(&with_deadline, 0, 3, false).unwrap();
        assert!(!has_scale_down_deadline(&down));
        let held = scale_replica_set(&with_deadline, 0, 3, true).unwrap();
        assert!(has_scale_down_deadline(&held));
    }

    #[test]
    fn scale_down_deadline_annotation() {
        assert_eq!(scale_down_deadline_value(at(0), 30), "2023-11-14T22:13:50Z");
        let fractional = DateTime::from_timestamp(1_700_000_000, 999_000_000).unwrap();
        assert_eq!(
            scale_down_deadline_value(fractional, 0),
            "2023-11-14T22:13:20Z"
        );
        let mut r = counts(1, 1, 1, 1);
        assert!(!has_scale_down_deadline(&r));
        assert_eq!(scale_down_deadline(&r), Ok(None));
        set_scale_down_deadline(&mut r, &scale_down_deadline_value(at(0), 30));
        assert!(has_scale_down_deadline(&r));
        assert_eq!(scale_down_deadline(&r), Ok(Some(at(30))));
        assert_eq!(
            time_remaining_before_scale_down_deadline(&r, at(10)),
            Ok(Some(Duration::from_secs(20)))
        );
        assert_eq!(
            time_remaining_before_scale_down_deadline(&r, at(30)),
            Ok(None)
        );
        assert!(remove_scale_down_deadline(&mut r));
        assert!(!remove_scale_down_deadline(&mut r));
        set_scale_down_deadline(&mut r, "");
        assert!(!has_scale_down_deadline(&r), "empty value counts as absent");
        set_scale_down_deadline(&mut r, "soon");
        assert_eq!(
            scale_down_deadline(&r).unwrap_err().to_string(),
            "unable to read scaleDownAt label on rs 'x'"
        );
        assert_eq!(
            add_scale_down_delay(&r, 0, at(0)),
            Some(DeadlineChange::Remove)
        );
        assert_eq!(add_scale_down_delay(&counts(1, 1, 1, 1), 0, at(0)), None);
        assert_eq!(
            add_scale_down_delay(&r, 5, at(0)),
            Some(DeadlineChange::Set("2023-11-14T22:13:25Z".into()))
        );
    }

    #[test]
    fn scale_down_delay_helper_table() {
        let bg = |limit: Option<i32>, delay: Option<i32>| {
            let mut v = serde_json::to_value(rollout(json!({}))).unwrap();
            v["spec"]["strategy"] = json!({"blueGreen": {"activeService": "a"}});
            if let Some(l) = limit {
                v["spec"]["strategy"]["blueGreen"]["scaleDownDelayRevisionLimit"] = json!(l);
            }
            if let Some(d) = delay {
                v["spec"]["strategy"]["blueGreen"]["scaleDownDelaySeconds"] = json!(d);
            }
            serde_json::from_value::<Rollout>(v).unwrap()
        };
        let resync = Duration::from_secs(900);
        let old = counts(2, 2, 2, 2);
        let deadline = |secs: i64| {
            let mut r = old.clone();
            set_scale_down_deadline(&mut r, &scale_down_deadline_value(at(0), secs as i32));
            r
        };
        let d = |annotated, desired, deadline: Option<DeadlineChange>, requeue: Option<u64>| {
            ScaleDownDelayDecision {
                annotated,
                desired_replicas: desired,
                deadline,
                requeue_after: requeue.map(Duration::from_secs),
            }
        };
        let cases: Vec<(&str, Rollout, ReplicaSet, i32, ScaleDownDelayDecision)> = vec![
            (
                "first sight: annotate, keep size",
                bg(None, None),
                old.clone(),
                0,
                d(
                    1,
                    2,
                    Some(DeadlineChange::Set(scale_down_deadline_value(at(0), 30))),
                    Some(30),
                ),
            ),
            (
                "delay 0: never annotated, kept",
                bg(None, Some(0)),
                old.clone(),
                0,
                d(1, 2, None, Some(0)),
            ),
            (
                "over the revision limit: down now",
                bg(Some(1), None),
                old.clone(),
                1,
                d(1, 0, None, None),
            ),
            (
                "already at 0, no deadline",
                bg(None, None),
                counts(0, 0, 0, 0),
                0,
                d(0, 0, None, None),
            ),
            (
                "inside delay: back to full size",
                bg(None, None),
                deadline(30),
                0,
                d(1, 3, None, Some(30)),
            ),
            (
                "inside delay beyond resync: no requeue",
                bg(None, None),
                deadline(3600),
                0,
                d(1, 3, None, None),
            ),
            (
                "deadline passed",
                bg(None, None),
                deadline(-1),
                0,
                d(1, 0, None, None),
            ),
            (
                "deadline beyond revision limit",
                bg(Some(1), None),
                deadline(30),
                1,
                d(2, 0, None, None),
            ),
        ];
        for (name, ro, r, annotated, want) in cases {
            assert_eq!(
                scale_down_delay_helper(&ro, &r, annotated, 3, at(0), resync),
                want,
                "{name}"
            );
        }
        let mut unreadable = old.clone();
        set_scale_down_deadline(&mut unreadable, "soon");
        assert_eq!(
            scale_down_delay_helper(&bg(None, None), &unreadable, 0, 3, at(0), resync),
            d(1, 0, None, None)
        );
    }

    // ---- references -----------------------------------------------------------------------------

    #[test]
    fn referenced_by_status_or_live_selectors() {
        let ro = rollout(json!({"status": {
            "stableRS": "stable", "currentPodHash": "current",
            "blueGreen": {"activeSelector": "active", "previewSelector": "preview"},
            "canary": {"weights": {"canary": {"weight": 10, "podTemplateHash": "cw"}, "stable": {"weight": 90, "podTemplateHash": "sw"}}}
        }}));
        for hash in ["stable", "current", "active", "preview", "cw", "sw"] {
            assert!(
                is_replica_set_referenced(&ro, &rs("x", hash, 0, json!({})), &[]),
                "{hash}"
            );
        }
        let other = rs("x", "other", 0, json!({}));
        assert!(!is_replica_set_referenced(&ro, &other, &[]));
        assert!(is_replica_set_referenced(&ro, &other, &["other"]));
        let mut unlabelled = other.clone();
        unlabelled.metadata.labels = None;
        assert!(!is_replica_set_referenced(&ro, &unlabelled, &[""]));

        let svc: Service = serde_json::from_value(json!({"metadata": {"name": "s"}, "spec": {"selector": {POD_TEMPLATE_HASH: "other", "app": "red"}}})).unwrap();
        assert_eq!(service_selector_hash(&svc), Some("other"));
        let canary = rollout(
            json!({"spec": {"strategy": {"canary": {"canaryService": "c", "stableService": "s"}}}}),
        );
        assert_eq!(referencing_service_names(&canary), ["c", "s"]);
        assert!(referencing_service_names(&rollout(json!({}))).is_empty());
    }

    // ---- revision history -----------------------------------------------------------------------

    #[test]
    fn replica_sets_to_delete_table() {
        let idle = |name: &str, created: i64| {
            rs(
                name,
                name,
                created,
                json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 2}}),
            )
        };
        let limit = |n: i32| {
            rollout(json!({"spec": {"revisionHistoryLimit": n}, "status": {"stableRS": "stable"}}))
        };
        let names = |v: Vec<String>| v;

        // Under the limit: nothing.
        let rss = [idle("a", 0), idle("b", 1)];
        assert!(replica_sets_to_delete(&limit(2), &rss).is_empty());
        // Oldest first, by creation time then name.
        let rss = [idle("c", 2), idle("b", 1), idle("a", 1), idle("d", 3)];
        assert_eq!(
            names(replica_sets_to_delete(&limit(1), &rss)),
            ["a", "b", "c"]
        );
        assert_eq!(
            names(replica_sets_to_delete(&limit(0), &rss)),
            ["a", "b", "c", "d"]
        );
        // Scaled up, still with pods, or not yet observed: skipped, not replaced by a younger one.
        let busy = rs("busy", "busy", 0, json!({"spec": {"replicas": 1}}));
        let draining = rs(
            "draining",
            "draining",
            0,
            json!({"status": {"replicas": 1}}),
        );
        let unobserved = rs(
            "unobserved",
            "unobserved",
            0,
            json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 2}}),
        );
        for skipped in [busy, draining, unobserved] {
            let rss = [skipped, idle("young", 5)];
            assert!(replica_sets_to_delete(&limit(1), &rss).is_empty());
        }
        // Being deleted: not counted at all.
        let mut deleting = idle("deleting", 0);
        deleting.metadata.deletion_timestamp = deleting.metadata.creation_timestamp.clone();
        let rss = [deleting, idle("a", 1), idle("b", 2)];
        assert_eq!(names(replica_sets_to_delete(&limit(1), &rss)), ["a"]);
        // The stable is never a candidate even if passed in.
        let rss = [idle("stable", 0), idle("a", 1), idle("b", 2)];
        assert_eq!(names(replica_sets_to_delete(&limit(1), &rss)), ["a"]);
        // Default limit 10.
        let many: Vec<ReplicaSet> = (0..12).map(|i| idle(&format!("r{i:02}"), i)).collect();
        assert_eq!(
            names(replica_sets_to_delete(&rollout(json!({})), &many)),
            ["r00", "r01"]
        );
    }
}
