//! Properties of one reconcile over arbitrary snapshots (contract §3.10): the planner never
//! panics, never writes a step index outside `[0, len(steps)]`, and keeps a basic canary within
//! `replicas + maxSurge` pods when the snapshot already was (with settled statuses: Argo itself
//! overshoots for one reconcile while a stable's status lags a scale-down, see the replica math).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use proptest::prelude::*;

use super::harness::*;
use crate::{
    canary::intstr::Fenceposts,
    crd::{CanaryStep, PauseCondition, PauseReason, RolloutStatus},
    plan::Action,
    reconcile::replicasets::spec_replicas,
};

fn step() -> impl Strategy<Value = CanaryStep> {
    prop_oneof![
        (0i32..=100).prop_map(weight),
        Just(pause()),
        (1i32..=120).prop_map(pause_secs),
    ]
}

fn fencepost() -> impl Strategy<Value = Option<IntOrString>> {
    prop_oneof![
        Just(None),
        (0i32..=4).prop_map(|n| Some(IntOrString::Int(n))),
        (0i32..=100).prop_map(|p| Some(IntOrString::String(format!("{p}%")))),
    ]
}

/// `(spec, available)` of a ReplicaSet whose status caught up (`status.replicas == spec`).
fn settled(max: i32) -> impl Strategy<Value = (i32, i32)> {
    (0..=max).prop_flat_map(|spec| (Just(spec), 0..=spec))
}

#[derive(Debug, Clone)]
struct Snapshot {
    replicas: i32,
    steps: Vec<CanaryStep>,
    surge: Option<IntOrString>,
    unavailable: Option<IntOrString>,
    index: Option<i32>,
    stable: (i32, i32),
    canary: Option<(i32, i32)>,
    other: Option<(i32, i32)>,
    /// 0: stable is V1 (mid-update), 1: no stable yet, 2: stable hash of a vanished RS.
    stable_kind: u8,
    abort: bool,
    promote_full: bool,
    paused: bool,
    controller_pause: bool,
    pause_condition: bool,
    recorded_step_hash: bool,
    now: i64,
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        (
            0i32..=8,
            prop::collection::vec(step(), 0..5),
            fencepost(),
            fencepost(),
            prop::option::of(-2i32..8),
        ),
        (
            settled(10),
            prop::option::of(settled(10)),
            prop::option::of(settled(6)),
            0u8..3,
        ),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            0i64..4000,
        ),
    )
        .prop_map(|(a, b, c)| Snapshot {
            replicas: a.0,
            steps: a.1,
            surge: a.2,
            unavailable: a.3,
            index: a.4,
            stable: b.0,
            canary: b.1,
            other: b.2,
            stable_kind: b.3,
            abort: c.0,
            promote_full: c.1,
            paused: c.2,
            controller_pause: c.3,
            pause_condition: c.4,
            recorded_step_hash: c.5,
            now: c.6,
        })
}

fn world_of(s: &Snapshot) -> World {
    let steps = (!s.steps.is_empty()).then(|| s.steps.clone());
    let mut v1 = rollout(s.replicas, steps);
    {
        let canary = v1.spec.strategy.canary.as_mut().unwrap();
        canary.max_surge = s.surge.clone();
        canary.max_unavailable = s.unavailable.clone();
    }
    let mut v2 = v1.clone();
    set_image(&mut v2, "app:v2");
    let mut v0 = v1.clone();
    set_image(&mut v0, "app:v0");

    let mut rss = vec![replica_set(&v1, 2, 10, s.stable.0, s.stable.1)];
    if let Some((spec, available)) = s.other {
        rss.push(replica_set(&v0, 1, 0, spec, available));
    }
    if let Some((spec, available)) = s.canary {
        rss.push(replica_set(&v2, 3, 20, spec, available));
    }
    let mut ro = v2.clone();
    ro.spec.paused = Some(s.paused);
    let stable_rs = match s.stable_kind {
        0 => Some(hash(&v1)),
        1 => None,
        _ => Some("gone".to_string()),
    };
    ro.status = Some(RolloutStatus {
        stable_rs,
        current_pod_hash: Some(hash(&v2)),
        current_step_hash: s
            .recorded_step_hash
            .then(|| crate::reconcile::hashing::step_hash(&ro)),
        current_step_index: s.index,
        abort: Some(s.abort),
        promote_full: Some(s.promote_full),
        controller_pause: Some(s.controller_pause),
        pause_conditions: s.pause_condition.then(|| {
            vec![PauseCondition {
                reason: PauseReason::CanaryPauseStep,
                start_time: time(0),
            }]
        }),
        observed_generation: Some("1".into()),
        ..Default::default()
    });
    let mut world = World::new(ro);
    world.rss = rss;
    world.now = at(s.now);
    world
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn one_reconcile_keeps_the_invariants(s in snapshot()) {
        let mut world = world_of(&s);
        let steps = s.steps.len() as i64;
        let replicas = s.replicas;
        let surge = {
            let canary = world.rollout.spec.strategy.canary.as_ref().unwrap();
            Fenceposts::resolve_canary(canary.max_surge.as_ref(), canary.max_unavailable.as_ref(), replicas)
                .unwrap_or_default()
                .max_surge
        };
        let total_before: i32 = world.rss.iter().map(spec_replicas).sum();

        let plan = world.plan();

        for patch in status_patches(&plan) {
            if let Some(index) = patch.get("currentStepIndex").and_then(|v| v.as_i64()) {
                prop_assert!((0..=steps).contains(&index), "index {index} outside [0, {steps}]");
            }
        }
        // Only ReplicaSets are scaled, and never below 0.
        for action in plan.actions() {
            if let Action::UpdateReplicaSet(rs) = action {
                prop_assert!(spec_replicas(rs) >= 0);
            }
        }
        world.apply(&plan);
        let total_after: i32 = world.rss.iter().map(spec_replicas).sum();
        if total_before <= replicas + surge {
            prop_assert!(
                total_after <= replicas + surge,
                "Σ spec {total_before} → {total_after} above {replicas} + {surge}"
            );
        }
        // Planning is a function of the snapshot.
        prop_assert_eq!(world_of(&s).plan(), plan);
    }

    #[test]
    fn an_update_always_reaches_rest_within_the_surge(
        replicas in 1i32..=8,
        steps in prop::collection::vec((0i32..=100).prop_map(weight), 0..4),
        surge in fencepost(),
        unavailable in fencepost(),
    ) {
        // Repeated reconciles with pods becoming ready: the update completes, every step index
        // stays in range, and Σ spec.replicas never exceeds replicas + maxSurge.
        let steps_opt = (!steps.is_empty()).then(|| steps.clone());
        let mut ro = rollout(replicas, steps_opt);
        {
            let canary = ro.spec.strategy.canary.as_mut().unwrap();
            canary.max_surge = surge;
            canary.max_unavailable = unavailable;
        }
        let invalid = !crate::validation::validate_rollout(&ro).is_empty();
        let mut world = World::new(ro);
        world.run_to_rest(30);
        prop_assume!(!invalid);
        let ceiling = {
            let canary = world.rollout.spec.strategy.canary.as_ref().unwrap();
            replicas + Fenceposts::resolve_canary(canary.max_surge.as_ref(), canary.max_unavailable.as_ref(), replicas)
                .unwrap_or_default()
                .max_surge
        };
        set_image(&mut world.rollout, "app:v2");
        for _ in 0..60 {
            world.settle();
            let plan = world.reconcile();
            let total: i32 = world.rss.iter().map(spec_replicas).sum();
            prop_assert!(total <= ceiling, "Σ spec {total} above {ceiling}");
            let index = world.status().current_step_index.unwrap_or(0);
            prop_assert!((0..=steps.len() as i32).contains(&index));
            if plan.actions().next().is_none() {
                break;
            }
        }
        prop_assert_eq!(world.phase().0, "Healthy");
        prop_assert_eq!(world.status().stable_rs.clone(), Some(hash(&world.rollout)));
    }
}
