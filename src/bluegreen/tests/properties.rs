//! Properties of one blue-green reconcile over arbitrary snapshots: it never panics, is a
//! function of the snapshot, the active Service only ever moves to a saturated new ReplicaSet
//! (or, on abort, back to the stable one), the preview Service only to the new ReplicaSet and
//! never while `spec.paused`, a stable ReplicaSet is only ever sized to `spec.replicas`, and
//! every update eventually rests Healthy on the new ReplicaSet.

use proptest::prelude::*;

use super::*;
use crate::{
    crd::{BlueGreenStatus, PauseCondition, PauseReason, RolloutStatus},
    plan::Action,
    reconcile::spec_replicas,
};

#[derive(Debug, Clone)]
struct Snapshot {
    replicas: i32,
    auto_promotion: Option<bool>,
    auto_promotion_seconds: Option<i32>,
    preview_count: Option<i32>,
    scale_down_delay: Option<i32>,
    abort_delay: Option<i32>,
    stable: (i32, i32),
    new: Option<(i32, i32)>,
    old: Option<(i32, i32, bool)>,
    /// 0: none, 1: v1, 2: v2, 3: an unknown hash.
    active: u8,
    active_managed: bool,
    abort: bool,
    promote_full: bool,
    paused: bool,
    controller_pause: bool,
    pause_condition: bool,
    check_point: bool,
    now: i64,
}

fn settled(max: i32) -> impl Strategy<Value = (i32, i32)> {
    (0..=max).prop_flat_map(|spec| (Just(spec), 0..=spec))
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        (
            0i32..=5,
            prop::option::of(any::<bool>()),
            prop::option::of(0i32..60),
            prop::option::of(0i32..=5),
            prop::option::of(0i32..60),
            prop::option::of(0i32..2000),
        ),
        (
            settled(6),
            prop::option::of(settled(6)),
            prop::option::of((settled(6), any::<bool>()).prop_map(|(s, d)| (s.0, s.1, d))),
            0u8..4,
            any::<bool>(),
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
            auto_promotion: a.1,
            auto_promotion_seconds: a.2,
            preview_count: a.3,
            scale_down_delay: a.4,
            abort_delay: a.5,
            stable: b.0,
            new: b.1,
            old: b.2,
            active: b.3,
            active_managed: b.4,
            abort: c.0,
            promote_full: c.1,
            paused: c.2,
            controller_pause: c.3,
            pause_condition: c.4,
            check_point: c.5,
            now: c.6,
        })
}

fn world_of(s: &Snapshot) -> World {
    let mut world = bg_world(s.replicas, |bg| {
        bg.auto_promotion_enabled = s.auto_promotion;
        bg.auto_promotion_seconds = s.auto_promotion_seconds;
        bg.preview_replica_count = s.preview_count;
        bg.scale_down_delay_seconds = s.scale_down_delay;
        bg.abort_scale_down_delay_seconds = s.abort_delay;
    });
    let v1 = world.rollout.clone();
    let mut v2 = v1.clone();
    set_image(&mut v2, "app:v2");
    let mut v0 = v1.clone();
    set_image(&mut v0, "app:v0");

    let mut rss = vec![replica_set(&v1, 2, 10, s.stable.0, s.stable.1)];
    if let Some((spec, available, with_deadline)) = s.old {
        let mut rs = replica_set(&v0, 1, 0, spec, available);
        if with_deadline {
            rs.metadata.annotations.as_mut().unwrap().insert(
                crate::crd::rollout::keys::SCALE_DOWN_DEADLINE.into(),
                "2026-01-01T00:10:00Z".into(),
            );
        }
        rss.push(rs);
    }
    if let Some((spec, available)) = s.new {
        rss.push(replica_set(&v2, 3, 20, spec, available));
    }
    let active = match s.active {
        0 => None,
        1 => Some(hash(&v1)),
        2 => Some(hash(&v2)),
        _ => Some("elsewhere".to_string()),
    };
    world.services.insert(
        "active".into(),
        service(
            "active",
            active.as_deref(),
            s.active_managed.then_some("foo"),
        ),
    );
    let mut ro = v2.clone();
    ro.spec.paused = Some(s.paused);
    ro.status = Some(RolloutStatus {
        stable_rs: Some(hash(&v1)),
        current_pod_hash: Some(hash(&v2)),
        abort: Some(s.abort),
        promote_full: Some(s.promote_full),
        controller_pause: Some(s.controller_pause),
        pause_conditions: s.pause_condition.then(|| {
            vec![PauseCondition {
                reason: PauseReason::BlueGreenPause,
                start_time: time(0),
            }]
        }),
        blue_green: Some(BlueGreenStatus {
            active_selector: active,
            scale_up_preview_check_point: Some(s.check_point),
            ..Default::default()
        }),
        observed_generation: Some("1".into()),
        ..Default::default()
    });
    world.rollout = ro;
    world.rss = rss;
    world.now = at(s.now);
    world
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn one_reconcile_keeps_the_invariants(s in snapshot()) {
        let world = world_of(&s);
        let v1 = world.rss[0].clone();
        let h1 = hash(&{
            let mut ro = world.rollout.clone();
            set_image(&mut ro, "app:v1");
            ro
        });
        let h2 = hash(&world.rollout);
        let observed_active = selector(&world, "active");
        // The new ReplicaSet as the planner will see it (created with 0 pods if missing).
        let new_saturated = match s.new {
            Some((spec, available)) => spec == s.replicas && available == s.replicas,
            None => s.replicas == 0,
        };

        let plan = world.plan();

        for action in plan.actions() {
            match action {
                Action::PatchService { name, patch } => {
                    let to = patch["spec"]["selector"]["rollouts-pod-template-hash"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    prop_assert!(!s.paused, "no Service moves while spec.paused");
                    if name == "preview" {
                        prop_assert_eq!(&to, &h2);
                    } else {
                        prop_assert_eq!(name.as_str(), "active");
                        prop_assert!(
                            (to == h2 && new_saturated)
                                || (to == h1 && s.abort)
                                || to == observed_active,
                            "active moved to {to} (saturated: {new_saturated}, abort: {})",
                            s.abort
                        );
                    }
                }
                Action::UpdateReplicaSet(rs) => {
                    prop_assert!(spec_replicas(rs) >= 0);
                    if rs.metadata.name == v1.metadata.name {
                        prop_assert_eq!(spec_replicas(rs), s.replicas, "stable at spec.replicas");
                    }
                }
                _ => {}
            }
        }
        // Planning is a function of the snapshot.
        prop_assert_eq!(world_of(&s).plan(), plan);
    }

    #[test]
    fn an_update_always_reaches_rest_on_the_new_replica_set(
        replicas in 1i32..=5,
        auto_promotion_seconds in prop::option::of(0i32..20),
        preview_count in prop::option::of(0i32..=5),
        scale_down_delay in prop::option::of(1i32..60),
    ) {
        let mut world = healthy_bg(replicas, |bg| {
            bg.auto_promotion_seconds = auto_promotion_seconds;
            bg.preview_replica_count = preview_count;
            bg.scale_down_delay_seconds = scale_down_delay;
        });
        let v1 = rs_name(&world.rollout);
        set_image(&mut world.rollout, "app:v2");
        let h2 = hash(&world.rollout);
        let mut rested = false;
        for _ in 0..40 {
            world.settle();
            let plan = world.reconcile();
            if plan.actions().next().is_none() && plan.requeue_after.is_none() {
                rested = true;
                break;
            }
            // Time passes as the planner asked (or a resync).
            let wait = plan.requeue_after.map_or(900, |d| d.as_secs() as i64 + 1);
            world.advance(wait.max(1));
        }
        prop_assert!(rested, "no rest");
        prop_assert_eq!(world.phase(), ("Healthy".to_string(), String::new()));
        prop_assert_eq!(selector(&world, "active"), h2.clone());
        prop_assert_eq!(world.status().stable_rs.clone(), Some(h2));
        prop_assert_eq!(world.spec_of(&v1), 0, "the old stack is gone after its delay");
    }
}
