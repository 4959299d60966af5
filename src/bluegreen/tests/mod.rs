//! Scenario tests of the blue-green planner, played on the reconcile tests' simulated cluster:
//! every reconcile's plan (actions, events, status patches, requeue) is asserted.

mod abort;
mod lifecycle;
mod properties;
mod scale_down;
mod spec;

use crate::{
    crd::{BlueGreenStrategy, RolloutStrategy, rollout::keys},
    reconcile::tests::harness::*,
};

/// A blue-green Rollout `foo` (image `app:v1`) with active Service `active` and preview Service
/// `preview` (both existing, no hash selector, not yet managed), strategy tweaked by `tweak`.
pub(super) fn bg_world(replicas: i32, tweak: impl FnOnce(&mut BlueGreenStrategy)) -> World {
    let mut ro = rollout(replicas, None);
    let mut strategy = BlueGreenStrategy {
        active_service: "active".into(),
        preview_service: Some("preview".into()),
        ..Default::default()
    };
    tweak(&mut strategy);
    ro.spec.strategy = RolloutStrategy {
        blue_green: Some(strategy),
        ..Default::default()
    };
    let mut world = World::new(ro);
    for name in ["active", "preview"] {
        world
            .services
            .insert(name.into(), service(name, None, None));
    }
    world
}

/// A blue-green rollout that went through its initial deploy and is Healthy at time 0.
pub(super) fn healthy_bg(replicas: i32, tweak: impl FnOnce(&mut BlueGreenStrategy)) -> World {
    let mut world = bg_world(replicas, tweak);
    world.run_to_rest(10);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    world
}

/// The hash a Service selects, `""` without one.
pub(super) fn selector(world: &World, service: &str) -> String {
    world.services[service]
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .and_then(|s| s.get(keys::POD_TEMPLATE_HASH))
        .cloned()
        .unwrap_or_default()
}

/// The `scale-down-deadline` annotation of a ReplicaSet.
pub(super) fn deadline(world: &World, rs: &str) -> Option<String> {
    world
        .rs_named(rs)
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::SCALE_DOWN_DEADLINE))
        .cloned()
}

/// The pause-condition reasons of the persisted status.
pub(super) fn pause_reasons(world: &World) -> Vec<String> {
    world
        .status()
        .pause_conditions
        .iter()
        .flatten()
        .map(|c| c.reason.as_str().to_string())
        .collect()
}

/// From a Healthy `app:v1` (3 replicas, `autoPromotionEnabled: false` plus `tweak`): update to
/// `app:v2` and run until the rollout rests at its `BlueGreenPause`. Returns (world, v1, v2).
pub(super) fn paused_update(tweak: impl FnOnce(&mut BlueGreenStrategy)) -> (World, String, String) {
    let mut world = healthy_bg(3, |s| {
        s.auto_promotion_enabled = Some(false);
        tweak(s);
    });
    let v1 = rs_name(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    let v2 = rs_name(&world.rollout);
    world.run_to_rest(10);
    assert_eq!(world.phase(), ("Paused".into(), "BlueGreenPause".into()));
    (world, v1, v2)
}
