//! Canary replica math: how many pods each ReplicaSet of a canary Rollout should run.
//!
//! Everything here is a pure function of a [`CanaryReplicaInput`] snapshot and reproduces Argo
//! Rollouts v1.9.1 number for number, including its rounding quirks, because a drop-in
//! replacement that picks a different count would scale live workloads the moment it takes over.
//!
//! The pieces, in the order a reconcile uses them:
//!
//! 1. [`desired_canary`]: the weight (or explicit `setCanaryScale` replica count) the current step
//!    asks for.
//! 2. [`basic_canary_counts`] (no traffic routing: traffic follows pod counts, so the split is
//!    approximated with whole pods inside maxSurge/maxUnavailable) or
//!    [`traffic_routed_canary_counts`] (the router splits traffic, so pods are sized from the
//!    weight and the stable normally stays full).
//! 3. [`other_replica_set_targets`]: draining ReplicaSets that are neither canary nor stable.
//! 4. [`plan_canary_replicas`] bundles 2 and 3; [`ReplicaPlan::first_change`] tells which single
//!    ReplicaSet Argo would scale in this reconcile (stable, then canary, then the others).
//! 5. [`scaling_step_completed`]: whether a `setWeight`/`setCanaryScale` step is done.
//!
//! Arithmetic is done in `i64` and results saturate to `i32`, so no input can overflow; Argo
//! computes in `int32` and would wrap on absurd inputs (e.g. `replicas × weight > 2³¹`).

use std::cmp::{max, min};
use std::cmp::Ordering;

use super::intstr::Fenceposts;

/// The traffic weight that means "all traffic" unless `trafficRouting.maxTrafficWeight` says
/// otherwise.
pub const DEFAULT_MAX_WEIGHT: i32 = 100;

/// Counts of one ReplicaSet as observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RsCounts {
    /// `spec.replicas` (callers default a missing value to 1, as Kubernetes does).
    pub spec_replicas: i32,
    /// `status.replicas`: pods that exist. Only the step-completion check reads it.
    pub status_replicas: i32,
    /// `status.availableReplicas`.
    pub available_replicas: i32,
}

impl RsCounts {
    /// A ReplicaSet whose pods all exist (`status.replicas == spec.replicas`), `available` of them
    /// available.
    pub const fn new(spec_replicas: i32, available_replicas: i32) -> Self {
        Self {
            spec_replicas,
            status_replicas: spec_replicas,
            available_replicas,
        }
    }
}

/// The stable ReplicaSet as seen from the canary planner.
///
/// "Same as canary" is its own case because Argo then skips the stable entirely (the pod
/// template was rolled back to stable, or the update is complete) yet still reads the shared
/// ReplicaSet's counts in a few places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StableRs {
    /// `status.stableRS` is empty or names no existing ReplicaSet.
    #[default]
    Missing,
    /// The stable ReplicaSet is the canary (new) ReplicaSet.
    SameAsCanary,
    /// A distinct stable ReplicaSet.
    Distinct(RsCounts),
}

/// A ReplicaSet of the Rollout that is neither the canary nor the stable one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OtherRs {
    /// `metadata.name`: tie-breaker for the creation-time order.
    pub name: String,
    /// The `rollout.argoproj.io/revision` annotation, `None` if absent or not an integer.
    pub revision: Option<i64>,
    /// `metadata.creationTimestamp` as Unix seconds.
    pub created_unix: i64,
    /// Observed counts.
    pub counts: RsCounts,
}

/// Canary and stable traffic weights (`status.canary.weights.{canary,stable}.weight`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrafficWeights {
    /// Weight sent to the canary.
    pub canary: i32,
    /// Weight sent to the stable.
    pub stable: i32,
}

/// What the current step asks of the canary: an explicit replica count (`setCanaryScale.replicas`)
/// or a weight. Argo reports weight 0 alongside explicit replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DesiredCanary {
    /// `setCanaryScale.replicas` in effect, if any (traffic-routed only).
    pub replicas: Option<i32>,
    /// Desired canary weight, in `0..=max_weight`.
    pub weight: i32,
}

/// Desired `spec.replicas` of the canary and the stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CanaryStableCounts {
    /// Canary (new) ReplicaSet.
    pub canary: i32,
    /// Stable ReplicaSet.
    pub stable: i32,
}

/// Everything the canary replica planner reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryReplicaInput {
    /// Rollout `spec.replicas` (defaulted to 1 when absent).
    pub replicas: i32,
    /// maxSurge/maxUnavailable resolved for `replicas` (see [`Fenceposts::resolve_canary`]).
    pub fenceposts: Fenceposts,
    /// The canary (new) ReplicaSet, if it exists yet.
    pub canary: Option<RsCounts>,
    /// The stable ReplicaSet.
    pub stable: StableRs,
    /// All other ReplicaSets of the Rollout, in any order; plans keep this order.
    pub others: Vec<OtherRs>,
    /// From [`desired_canary`].
    pub desired: DesiredCanary,
    /// `trafficRouting.maxTrafficWeight`, default [`DEFAULT_MAX_WEIGHT`].
    pub max_weight: i32,
    /// Whether `canary.trafficRouting` is set.
    pub traffic_routing: bool,
    /// `canary.dynamicStableScale`.
    pub dynamic_stable_scale: bool,
    /// `canary.minPodsPerReplicaSet`.
    pub min_pods_per_replica_set: Option<i32>,
    /// `status.abort`.
    pub abort: bool,
    /// Weights as persisted in `status.canary.weights` before this reconcile. Argo sizes the
    /// stable from these, deliberately one reconcile behind the router, so the stable is never
    /// briefly scaled to 100% at the end of an update.
    pub previous_weights: Option<TrafficWeights>,
    /// Weights the traffic-routing step of this reconcile just computed. Argo sizes the canary
    /// and judges step completion with these.
    pub current_weights: Option<TrafficWeights>,
}

impl Default for CanaryReplicaInput {
    fn default() -> Self {
        Self {
            replicas: 1,
            fenceposts: Fenceposts::default(),
            canary: None,
            stable: StableRs::Missing,
            others: Vec::new(),
            desired: DesiredCanary::default(),
            max_weight: DEFAULT_MAX_WEIGHT,
            traffic_routing: false,
            dynamic_stable_scale: false,
            min_pods_per_replica_set: None,
            abort: false,
            previous_weights: None,
            current_weights: None,
        }
    }
}

impl CanaryReplicaInput {
    /// The ReplicaSet object Argo holds as "stable", which is the canary itself when they match.
    fn stable_object(&self) -> Option<RsCounts> {
        match self.stable {
            StableRs::Missing => None,
            StableRs::SameAsCanary => self.canary,
            StableRs::Distinct(rs) => Some(rs),
        }
    }

    /// Argo's `CheckStableRSExists`: only a distinct stable is scaled as "the stable".
    fn has_distinct_stable(&self) -> bool {
        matches!(self.stable, StableRs::Distinct(_))
    }

    fn min_available(&self) -> i64 {
        i64::from(self.replicas) - i64::from(self.fenceposts.max_unavailable)
    }
}

/// Spec and available counts widened for overflow-free arithmetic.
#[derive(Clone, Copy)]
struct Rs {
    spec: i64,
    available: i64,
}

impl From<RsCounts> for Rs {
    fn from(c: RsCounts) -> Self {
        Self {
            spec: i64::from(c.spec_replicas),
            available: i64::from(c.available_replicas),
        }
    }
}

fn to_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Pods needed to carry `weight` out of `max_weight` of `replicas`' traffic, rounded up so a
/// non-zero weight always gets at least one pod.
pub fn traffic_weight_to_replicas(replicas: i32, weight: i32, max_weight: i32) -> i32 {
    // Same float expression as Argo; `as` saturates (and maps a 0/0 NaN to 0) instead of panicking.
    (f64::from(weight) * f64::from(replicas) / f64::from(max_weight)).ceil() as i32
}

/// How many of a ReplicaSet's pods can be counted on when budgeting a scale-down.
///
/// Normally its available pods; with `ignore_availability`, its spec, so that a ReplicaSet whose
/// own pods are crash-looping can still be drained (otherwise the rollout deadlocks). A
/// ReplicaSet already scaling down (spec < available) counts at its spec, since the surplus
/// pods are about to go away.
pub fn replicas_for_scale_down(rs: Option<RsCounts>, ignore_availability: bool) -> i32 {
    to_i32(scale_down_basis(rs.map(Rs::from), ignore_availability))
}

fn scale_down_basis(rs: Option<Rs>, ignore_availability: bool) -> i64 {
    match rs {
        None => 0,
        Some(rs) if rs.spec < rs.available || ignore_availability => rs.spec,
        Some(rs) => rs.available,
    }
}

/// Splits `replicas` into canary and stable pod counts approximating `weight / max_weight`
/// without a router.
///
/// Candidates are the ceiling and floor of the exact canary count over a total of `replicas`,
/// and (only if `max_surge > 0`) over `replicas + 1`; the one closest to the weight wins, the
/// earlier candidate on equal error, and an exact .5 rounds up. A weight strictly between 0 and
/// max never yields 0 canary or 0 stable pods when there are at least 2 pods to share (surge
/// included), so a small step still exercises the canary and a large one keeps a stable pod.
pub fn approximate_weighted_counts(
    replicas: i32,
    weight: i32,
    max_weight: i32,
    max_surge: i32,
) -> CanaryStableCounts {
    let (canary, stable) = approximate(
        i64::from(replicas),
        i64::from(weight),
        i64::from(max_weight),
        i64::from(max_surge),
    );
    CanaryStableCounts {
        canary: to_i32(canary),
        stable: to_i32(stable),
    }
}

fn approximate(replicas: i64, weight: i64, max_weight: i64, max_surge: i64) -> (i64, i64) {
    if replicas == 0 {
        return (0, 0);
    }
    let exact = (replicas * weight) as f64 / max_weight as f64;
    let ceil = exact.ceil() as i64;
    let floor = exact.floor() as i64;
    // Zero pods is only acceptable at the extremes, or when one pod and no surge leave no choice.
    let zero_allowed = weight == max_weight || weight == 0 || (replicas == 1 && max_surge == 0);

    // (canary, total) candidates, in Argo's order: the order decides ties.
    let mut options: Vec<(i64, i64)> = Vec::with_capacity(4);
    if ceil < replicas || zero_allowed {
        options.push((ceil, replicas));
    }
    if !halfway(weight, max_weight, replicas) && (floor != 0 || zero_allowed) {
        options.push((floor, replicas));
    }
    if max_surge > 0 {
        options.push((ceil, replicas + 1));
        if !halfway(weight, max_weight, replicas + 1) && (floor != 0 || zero_allowed) {
            options.push((floor, replicas + 1));
        }
    }

    let delta = |(canary, total): (i64, i64)| {
        ((canary * max_weight) as f64 / total as f64 - weight as f64).abs()
    };
    let Some(&first) = options.first() else {
        return (0, replicas);
    };
    let mut best = first;
    let mut best_delta = delta(first);
    for &option in &options[1..] {
        let d = delta(option);
        if d < best_delta {
            best = option;
            best_delta = d;
        }
    }
    (best.0, best.1 - best.0)
}

/// Whether ceil and floor are equally far from the weight (fraction exactly .5), in which case
/// only the ceiling is offered, i.e. ties round up. Argo computes this with a different float
/// expression than the ceil/floor themselves; it is kept identical.
fn halfway(weight: i64, max_weight: i64, total: i64) -> bool {
    (total as f64 * (weight as f64 / max_weight as f64)).fract() == 0.5
}

/// Desired canary and stable `spec.replicas` for a canary **without** traffic routing (Argo's
/// `CalculateReplicaCountsForBasicCanary`).
///
/// * Target split from [`approximate_weighted_counts`]; without a distinct stable the canary
///   simply targets all `replicas`.
/// * Scale-up is limited to `replicas + maxSurge − Σ spec.replicas` over all ReplicaSets, and the
///   stable is scaled up first.
/// * While any other ReplicaSet still has pods, nothing is scaled down here: those serve traffic
///   and are drained first (see [`other_replica_set_targets`]).
/// * Scale-down keeps availability at `replicas − maxUnavailable`. When the canary grows, the
///   budget is canary *available* + stable *spec* and is spent on the stable (its own unready
///   pods must not block draining it); when the canary shrinks (weight decreasing, abort), it is
///   canary *spec* + stable *available*, spent on the canary. The result is then trimmed back
///   under the maxSurge ceiling, taking from the other side only what availability allows.
pub fn basic_canary_counts(input: &CanaryReplicaInput) -> CanaryStableCounts {
    let replicas = i64::from(input.replicas);
    let max_surge = i64::from(input.fenceposts.max_surge);
    let canary_rs = input.canary.map(Rs::from);
    let stable_rs = input.stable_object().map(Rs::from);
    let scale_stable = input.has_distinct_stable();

    let (mut desired_canary, mut desired_stable) = approximate(
        replicas,
        i64::from(input.desired.weight),
        i64::from(input.max_weight),
        max_surge,
    );
    if !scale_stable {
        // Nothing to split with: behave like a rolling update towards the new ReplicaSet.
        desired_canary = replicas;
        desired_stable = 0;
    }

    let mut canary = canary_rs.map_or(0, |rs| rs.spec);
    let mut stable = if scale_stable {
        stable_rs.map_or(0, |rs| rs.spec)
    } else {
        0
    };

    let max_allowed = replicas + max_surge;
    let others_spec: i64 = input
        .others
        .iter()
        .map(|o| i64::from(o.counts.spec_replicas))
        .sum();
    let total = others_spec + canary + stable;
    let mut scale_up = max_allowed - total;

    if scale_stable && stable < desired_stable && scale_up > 0 {
        let current = stable;
        stable = min(current + scale_up, desired_stable);
        scale_up -= stable - current;
    }
    if let Some(rs) = canary_rs
        && rs.spec < desired_canary
        && scale_up > 0
    {
        canary = min(rs.spec + scale_up, desired_canary);
    }

    if others_spec > 0 {
        return counts(canary, stable);
    }

    let min_available = input.min_available();
    let increasing = canary_rs.is_none_or(|rs| desired_canary >= rs.spec);
    let basis =
        scale_down_basis(canary_rs, !increasing) + scale_down_basis(stable_rs, increasing);
    if basis <= min_available {
        return counts(canary, stable);
    }
    let scale_down = basis - min_available;

    if !increasing {
        canary = drain_towards(canary_rs, desired_canary, scale_down, canary);
        (canary, stable) =
            within_limits(canary_rs, stable_rs, canary, stable, max_allowed, min_available);
    } else if scale_stable {
        stable = drain_towards(stable_rs, desired_stable, scale_down, stable);
        (stable, canary) =
            within_limits(stable_rs, canary_rs, stable, canary, max_allowed, min_available);
    }
    counts(canary, stable)
}

fn counts(canary: i64, stable: i64) -> CanaryStableCounts {
    CanaryStableCounts {
        canary: to_i32(canary),
        stable: to_i32(stable),
    }
}

/// Scales the ReplicaSet being drained down by at most `scale_down`, never below `desired`.
fn drain_towards(rs: Option<Rs>, desired: i64, scale_down: i64, current: i64) -> i64 {
    match rs {
        Some(rs) if rs.spec > desired => max(desired, rs.spec - scale_down),
        _ => current,
    }
}

/// Argo's `adjustReplicaWithinLimits`: after draining one side, bring the pair back under the
/// maxSurge ceiling by shrinking the other (`adjust`) side, but give back to it whatever
/// availability that would cost below `min_available`, and take that back from the drained
/// side instead. Returns `(drain, adjust)`.
fn within_limits(
    drain_rs: Option<Rs>,
    adjust_rs: Option<Rs>,
    mut drain: i64,
    mut adjust: i64,
    max_allowed: i64,
    min_available: i64,
) -> (i64, i64) {
    let Some(adjust_rs) = adjust_rs else {
        return (drain, adjust);
    };
    let over_limit = max(0, adjust + drain - max_allowed);
    let mut available = drain_rs.map_or(0, |rs| min(rs.available, drain));
    adjust -= over_limit;
    available += min(adjust_rs.available, adjust);
    let availability_lost = max(0, adjust_rs.available - adjust);
    let availability_missing = max(0, min_available - available);
    adjust += min(availability_lost, availability_missing);
    drain -= max(0, adjust + drain - max_allowed);
    (drain, adjust)
}

/// Desired canary and stable `spec.replicas` for a canary **with** traffic routing (Argo's
/// `CalculateReplicaCountsForTrafficRoutedCanary`), given the traffic `weights` in force.
///
/// The router, not pod counts, splits traffic, so the canary gets
/// `ceil(replicas × weight / max)` pods (or the explicit `setCanaryScale.replicas`), raised to
/// `minPodsPerReplicaSet`, and the stable stays at `replicas` so it can take all traffic back at
/// any time. With `dynamicStableScale` the stable instead shrinks with its weight, but never
/// below what the traffic actually sent to it (`weights.stable`) needs; while aborting, the
/// canary likewise keeps the pods its current traffic needs. maxSurge and maxUnavailable do not
/// apply.
///
/// Argo calls this with the *previous* weights to size the stable and the *current* ones to
/// size the canary; [`plan_canary_replicas`] does the same.
pub fn traffic_routed_canary_counts(
    input: &CanaryReplicaInput,
    weights: Option<TrafficWeights>,
) -> CanaryStableCounts {
    let replicas = input.replicas;
    let weight = input.desired.weight;
    let max_weight = input.max_weight;
    let with_min_pods = |count: i32| match input.min_pods_per_replica_set {
        Some(min_pods) if count != 0 => max(count, min_pods),
        _ => count,
    };

    let mut canary = match input.desired.replicas {
        Some(explicit) => explicit,
        None => with_min_pods(traffic_weight_to_replicas(replicas, weight, max_weight)),
    };
    if !input.dynamic_stable_scale {
        return CanaryStableCounts {
            canary,
            stable: replicas,
        };
    }

    let stable_weight = max_weight.saturating_sub(weight);
    let mut stable = traffic_weight_to_replicas(replicas, stable_weight, max_weight);
    if let Some(weights) = weights {
        stable = max(
            stable,
            traffic_weight_to_replicas(replicas, weights.stable, max_weight),
        );
        if input.abort {
            canary = max(
                traffic_weight_to_replicas(replicas, weights.canary, max_weight),
                canary,
            );
        }
    }
    CanaryStableCounts {
        canary: with_min_pods(canary),
        stable: with_min_pods(stable),
    }
}

/// [`basic_canary_counts`] or [`traffic_routed_canary_counts`] (with `weights`), whichever the
/// Rollout uses.
pub fn canary_stable_counts(
    input: &CanaryReplicaInput,
    weights: Option<TrafficWeights>,
) -> CanaryStableCounts {
    if input.traffic_routing {
        traffic_routed_canary_counts(input, weights)
    } else {
        basic_canary_counts(input)
    }
}

/// Desired `spec.replicas` of each other ReplicaSet (aligned with `input.others`) for a canary
/// **without** traffic routing, where every pod serves traffic, so older versions must go
/// entirely (Argo's `scaleDownOldReplicaSetsForCanary`).
///
/// 1. Unhealthy pods first, oldest ReplicaSet first: a ReplicaSet with fewer available pods
///    than its spec is scaled to its available count, which removes only unready pods. Argo
///    gives up on this phase (keeping what it already scaled) at a ReplicaSet with *more*
///    available pods than spec; so does this function.
/// 2. Then, newest revision first, scale down by at most
///    `Σ available (all ReplicaSets) − (replicas − maxUnavailable)` pods in total.
///
/// ReplicaSets with 0 `spec.replicas` are left alone. With traffic routing the decisions depend
/// on scale-down deadlines and on what Services still reference; this function does not make
/// them and returns the current counts.
pub fn other_replica_set_targets(input: &CanaryReplicaInput) -> Vec<i32> {
    let mut targets: Vec<i64> = input
        .others
        .iter()
        .map(|o| i64::from(o.counts.spec_replicas))
        .collect();
    if input.traffic_routing || targets.iter().all(|&spec| spec <= 0) {
        return targets.into_iter().map(to_i32).collect();
    }

    let mut by_creation: Vec<usize> = (0..input.others.len()).collect();
    by_creation.sort_by(|&a, &b| {
        let (a, b) = (&input.others[a], &input.others[b]);
        a.created_unix
            .cmp(&b.created_unix)
            .then_with(|| a.name.cmp(&b.name))
    });
    for i in by_creation {
        let available = i64::from(input.others[i].counts.available_replicas);
        let spec = targets[i];
        if spec <= 0 || spec == available {
            continue;
        }
        if available > spec {
            return targets.into_iter().map(to_i32).collect();
        }
        targets[i] = available;
    }

    let available_total: i64 = input
        .canary
        .iter()
        .copied()
        .chain(match input.stable {
            StableRs::Distinct(rs) => Some(rs),
            _ => None,
        })
        .chain(input.others.iter().map(|o| o.counts))
        .map(|rs| i64::from(rs.available_replicas))
        .sum();
    let mut budget = available_total - input.min_available();
    if budget <= 0 {
        return targets.into_iter().map(to_i32).collect();
    }

    let mut newest_first: Vec<usize> = (0..input.others.len()).collect();
    newest_first.sort_by(|&a, &b| by_revision(&input.others[b], &input.others[a]));
    for i in newest_first {
        if budget <= 0 {
            break;
        }
        let spec = targets[i];
        if spec <= 0 {
            continue;
        }
        let desired = if spec > budget { spec - budget } else { 0 };
        targets[i] = desired;
        budget -= spec - desired;
    }
    targets.into_iter().map(to_i32).collect()
}

/// Revision order, creation time breaking ties. A missing revision sorts as the oldest (Argo's
/// comparator is inconsistent there; controller-created ReplicaSets always carry one).
fn by_revision(a: &OtherRs, b: &OtherRs) -> Ordering {
    a.revision
        .cmp(&b.revision)
        .then_with(|| a.created_unix.cmp(&b.created_unix))
        .then_with(|| a.name.cmp(&b.name))
}

/// Desired `spec.replicas` for every ReplicaSet of a canary Rollout in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicaPlan {
    /// The distinct stable ReplicaSet; `None` when there is none to scale.
    pub stable: Option<i32>,
    /// The canary ReplicaSet; `None` when it does not exist yet.
    pub canary: Option<i32>,
    /// The other ReplicaSets, aligned with [`CanaryReplicaInput::others`].
    pub others: Vec<i32>,
}

/// The single scaling a reconcile performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaleChange {
    /// Scale the stable ReplicaSet to this many replicas.
    Stable(i32),
    /// Scale the canary ReplicaSet to this many replicas.
    Canary(i32),
    /// Scale the other ReplicaSets: `(index into others, replicas)` for each that changes.
    Others(Vec<(usize, i32)>),
}

impl ReplicaPlan {
    /// The change Argo makes in this reconcile: it scales the stable, else the canary, else the
    /// other ReplicaSets, and stops after the first that changes so the next reconcile sees
    /// fresh availability. `None` when every ReplicaSet is already at its target. (Argo also
    /// rewrites a ReplicaSet whose replica annotations are stale; that is not visible here.)
    pub fn first_change(&self, input: &CanaryReplicaInput) -> Option<ScaleChange> {
        if let (Some(target), StableRs::Distinct(rs)) = (self.stable, input.stable)
            && target != rs.spec_replicas
        {
            return Some(ScaleChange::Stable(target));
        }
        if let (Some(target), Some(rs)) = (self.canary, input.canary)
            && target != rs.spec_replicas
        {
            return Some(ScaleChange::Canary(target));
        }
        let changed: Vec<(usize, i32)> = self
            .others
            .iter()
            .zip(&input.others)
            .enumerate()
            .filter(|(_, (target, rs))| **target != rs.counts.spec_replicas)
            .map(|(i, (target, _))| (i, *target))
            .collect();
        (!changed.is_empty()).then_some(ScaleChange::Others(changed))
    }
}

/// Desired replicas of every ReplicaSet: canary and stable from [`canary_stable_counts`] (with
/// traffic routing, the stable from `previous_weights` and the canary from `current_weights`,
/// as Argo does) and the others from [`other_replica_set_targets`].
///
/// Not covered here (the caller's job): `spec.paused`/inconclusive-analysis halts, the
/// abort scale-down delay of a traffic-routed canary, and scale-down delays and references of
/// old ReplicaSets under traffic routing.
pub fn plan_canary_replicas(input: &CanaryReplicaInput) -> ReplicaPlan {
    let (canary, stable) = if input.traffic_routing {
        (
            traffic_routed_canary_counts(input, input.current_weights).canary,
            traffic_routed_canary_counts(input, input.previous_weights).stable,
        )
    } else {
        let counts = basic_canary_counts(input);
        (counts.canary, counts.stable)
    };
    ReplicaPlan {
        stable: input.has_distinct_stable().then_some(stable),
        canary: input.canary.map(|_| canary),
        others: other_replica_set_targets(input),
    }
}

// ---------------------------------------------------------------------------------------------
// Desired weight of the current step
// ---------------------------------------------------------------------------------------------

/// `setCanaryScale` of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetCanaryScale {
    /// Canary pods as a weight of `replicas`.
    pub weight: Option<i32>,
    /// Explicit canary pod count (wins over `weight`).
    pub replicas: Option<i32>,
    /// Go back to sizing the canary from the traffic weight.
    pub match_traffic_weight: bool,
}

/// The parts of a canary step the replica math reads. A struct rather than an enum because
/// Argo accepts mixed steps such as `setWeight` + `setCanaryScale` in one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CanaryStep {
    /// `setWeight`.
    pub set_weight: Option<i32>,
    /// `setCanaryScale`.
    pub set_canary_scale: Option<SetCanaryScale>,
    /// The step also has `pause` (judged first when deciding completion).
    pub pause: bool,
}

impl CanaryStep {
    /// A `setWeight: weight` step.
    pub const fn set_weight(weight: i32) -> Self {
        Self {
            set_weight: Some(weight),
            set_canary_scale: None,
            pause: false,
        }
    }

    /// A `setCanaryScale` step.
    pub const fn set_canary_scale(scale: SetCanaryScale) -> Self {
        Self {
            set_weight: None,
            set_canary_scale: Some(scale),
            pause: false,
        }
    }

    /// A `pause` step.
    pub const fn pause() -> Self {
        Self {
            set_weight: None,
            set_canary_scale: None,
            pause: true,
        }
    }

    /// Any other step kind (analysis, experiment, header/mirror route, plugin).
    pub const fn other() -> Self {
        Self {
            set_weight: None,
            set_canary_scale: None,
            pause: false,
        }
    }
}

/// Everything [`desired_canary`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightInput<'a> {
    /// `canary.steps`.
    pub steps: &'a [CanaryStep],
    /// `status.currentStepIndex` (absent means 0).
    pub current_step_index: Option<i32>,
    /// `status.stableRS`.
    pub stable_rs: &'a str,
    /// `status.currentPodHash`.
    pub current_pod_hash: &'a str,
    /// `status.promoteFull`.
    pub promote_full: bool,
    /// `status.abort`.
    pub abort: bool,
    /// Whether `canary.trafficRouting` is set.
    pub traffic_routing: bool,
    /// `canary.abortScaleDownDelaySeconds` as written (absent = 30 s with traffic routing).
    pub abort_scale_down_delay_seconds: Option<i32>,
    /// `canary.dynamicStableScale`.
    pub dynamic_stable_scale: bool,
    /// `trafficRouting.maxTrafficWeight`, default [`DEFAULT_MAX_WEIGHT`].
    pub max_weight: i32,
    /// Rollout `spec.replicas` (defaulted).
    pub replicas: i32,
    /// Available pods of the canary ReplicaSet, `None` if it does not exist.
    pub canary_available: Option<i32>,
    /// Available pods of the stable ReplicaSet, `None` if it does not exist.
    pub stable_available: Option<i32>,
}

impl Default for WeightInput<'_> {
    fn default() -> Self {
        Self {
            steps: &[],
            current_step_index: None,
            stable_rs: "",
            current_pod_hash: "",
            promote_full: false,
            abort: false,
            traffic_routing: false,
            abort_scale_down_delay_seconds: None,
            dynamic_stable_scale: false,
            max_weight: DEFAULT_MAX_WEIGHT,
            replicas: 1,
            canary_available: None,
            stable_available: None,
        }
    }
}

/// Index of the current step, `None` when there are no steps or all have been executed.
///
/// A negative `status.currentStepIndex` (only writable by hand) is read as 0; Argo would index
/// out of bounds.
pub fn current_step_index(steps: &[CanaryStep], current_step_index: Option<i32>) -> Option<usize> {
    let index = usize::try_from(current_step_index.unwrap_or(0)).unwrap_or(0);
    (index < steps.len()).then_some(index)
}

/// What the canary should be sized to now (Argo's `GetCanaryReplicasOrWeight`).
///
/// * Max weight when promoting fully, when there is no stable yet (initial deploy), or when the
///   current pod hash is the stable one (nothing to canary).
/// * Else an effective `setCanaryScale` (see below) gives explicit replicas or a weight.
/// * Else, while aborting with `dynamicStableScale`, the weight of the latest `setWeight` step
///   whose pod count is below the canary pods still up (or still needed while the stable catches
///   up), so the canary shrinks step by step in reverse instead of at once (0 when none).
/// * Else the last `setWeight` at or before the current step: 0 if none, 0 when aborted, max
///   when past the last step or without steps.
///
/// A `setCanaryScale` is effective only with traffic routing, is found by searching backwards
/// from the current step, is cancelled by `matchTrafficWeight: true`, and is ignored while
/// aborted unless `abortScaleDownDelaySeconds: 0` asks to leave the canary up.
pub fn desired_canary(input: &WeightInput<'_>) -> DesiredCanary {
    let full = DesiredCanary {
        replicas: None,
        weight: input.max_weight,
    };
    if input.promote_full
        || input.stable_rs.is_empty()
        || input.current_pod_hash == input.stable_rs
    {
        return full;
    }
    if let Some(scale) = effective_set_canary_scale(input) {
        if let Some(replicas) = scale.replicas {
            return DesiredCanary {
                replicas: Some(replicas),
                weight: 0,
            };
        }
        if let Some(weight) = scale.weight {
            return DesiredCanary {
                replicas: None,
                weight,
            };
        }
    }
    DesiredCanary {
        replicas: None,
        weight: desired_canary_weight(input),
    }
}

fn effective_set_canary_scale(input: &WeightInput<'_>) -> Option<SetCanaryScale> {
    if !input.traffic_routing {
        return None;
    }
    if input.abort && input.abort_scale_down_delay_seconds != Some(0) {
        return None;
    }
    let current = current_step_index(input.steps, input.current_step_index)?;
    let scale = input.steps[..=current]
        .iter()
        .rev()
        .find_map(|step| step.set_canary_scale)?;
    (!scale.match_traffic_weight).then_some(scale)
}

fn desired_canary_weight(input: &WeightInput<'_>) -> i32 {
    if input.abort
        && input.dynamic_stable_scale
        && let (Some(canary_available), Some(stable_available)) =
            (input.canary_available, input.stable_available)
    {
        // Walk back down the steps as the stable becomes available, instead of dropping the
        // canary to 0 and surging the stable all at once.
        let still_needed = input.replicas.saturating_sub(stable_available);
        let canary_pods = max(still_needed, canary_available);
        return input
            .steps
            .iter()
            .rev()
            .filter_map(|step| step.set_weight)
            .find(|&weight| {
                traffic_weight_to_replicas(input.replicas, weight, input.max_weight) < canary_pods
            })
            .unwrap_or(0);
    }
    current_set_weight(
        input.steps,
        input.current_step_index,
        input.abort,
        input.max_weight,
    )
}

/// The `setWeight` in force (Argo's `GetCurrentSetWeight`): 0 when aborted; `max_weight` with no
/// steps or past the last step; else the last `setWeight` at or before the current step, or 0.
pub fn current_set_weight(
    steps: &[CanaryStep],
    current_step_index: Option<i32>,
    abort: bool,
    max_weight: i32,
) -> i32 {
    if abort {
        return 0;
    }
    match self::current_step_index(steps, current_step_index) {
        None => max_weight,
        Some(current) => steps[..=current]
            .iter()
            .rev()
            .find_map(|step| step.set_weight)
            .unwrap_or(0),
    }
}

// ---------------------------------------------------------------------------------------------
// Step completion
// ---------------------------------------------------------------------------------------------

/// How `canary.replicaProgressThreshold` is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressThresholdKind {
    /// `type: Percent`: percentage of the desired canary pods.
    Percent,
    /// `type: Pods`: absolute number of available canary pods.
    Pods,
}

/// `canary.replicaProgressThreshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaProgressThreshold {
    /// `type`.
    pub kind: ProgressThresholdKind,
    /// `value`; negative means "no threshold" (all desired pods must be available).
    pub value: i32,
}

/// Whether enough canary pods are available to move on (Argo's `ReplicaProgressThresholdMet`).
///
/// Without a threshold (or a negative one) the canary must be exactly at `desired` spec and
/// available pods. A percentage is met by `available / desired` (always when `desired` is 0); a
/// pod count by `available` alone. A missing ReplicaSet never meets it.
pub fn replica_progress_threshold_met(
    threshold: Option<ReplicaProgressThreshold>,
    rs: Option<RsCounts>,
    desired: i32,
) -> bool {
    let Some(rs) = rs else {
        return false;
    };
    match threshold {
        Some(t) if t.value >= 0 => match t.kind {
            ProgressThresholdKind::Percent => {
                if desired == 0 {
                    return true;
                }
                let percent = f64::from(rs.available_replicas) / f64::from(desired) * 100.0;
                // Tolerate float noise so that e.g. 7/10 meets 70%.
                percent >= f64::from(t.value) || (percent - f64::from(t.value)).abs() <= 1e-10
            }
            ProgressThresholdKind::Pods => rs.available_replicas >= t.value,
        },
        _ => rs.spec_replicas == desired && rs.available_replicas == desired,
    }
}

/// Whether the canary and stable are at the counts the current step wants (Argo's
/// `AtDesiredReplicaCountsForCanary`, with `input.current_weights` as the weights).
///
/// The canary must meet the progress threshold. The stable must have exactly its desired spec
/// and that many pods created (not necessarily available), except with traffic routing plus
/// `dynamicStableScale`. Without traffic routing, every other ReplicaSet must have 0 available
/// pods, since they would still receive traffic.
pub fn at_desired_replica_counts(
    input: &CanaryReplicaInput,
    threshold: Option<ReplicaProgressThreshold>,
) -> bool {
    let desired = canary_stable_counts(input, input.current_weights);
    if !replica_progress_threshold_met(threshold, input.canary, desired.canary) {
        return false;
    }
    if !(input.traffic_routing && input.dynamic_stable_scale) {
        let stable_created = input.stable_object().is_some_and(|rs| {
            rs.spec_replicas == desired.stable && rs.status_replicas == desired.stable
        });
        if !stable_created {
            return false;
        }
    }
    if !input.traffic_routing {
        let others_available: i64 = input
            .others
            .iter()
            .map(|o| i64::from(o.counts.available_replicas))
            .sum();
        if others_available != 0 {
            return false;
        }
    }
    true
}

/// Whether the current step is complete, if it is a `setCanaryScale` or `setWeight` step;
/// `None` for other kinds (including a step that also pauses, since Argo judges the pause
/// first). A `setWeight` step additionally waits until the router has verified the weight
/// (`status.canary.weights.verified` not `false`). The caller must not advance while
/// `spec.paused`.
pub fn scaling_step_completed(
    step: &CanaryStep,
    input: &CanaryReplicaInput,
    threshold: Option<ReplicaProgressThreshold>,
    weights_verified: Option<bool>,
) -> Option<bool> {
    if step.pause {
        return None;
    }
    if step.set_canary_scale.is_some() {
        return Some(at_desired_replica_counts(input, threshold));
    }
    if step.set_weight.is_some() {
        return Some(at_desired_replica_counts(input, threshold) && weights_verified != Some(false));
    }
    None
}
