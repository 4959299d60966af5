//! The old stack after promotion: `scaleDownDelaySeconds` (and its 0 quirk),
//! `scaleDownDelayRevisionLimit`, references that keep a ReplicaSet up, and the fast-tracked
//! rollback to a ReplicaSet still inside its delay.

use std::time::Duration;

use super::*;

/// Healthy `app:v1`, then `app:v2` promoted at once (default auto-promotion), all at time 0.
fn promoted_v2(tweak: impl FnOnce(&mut crate::crd::BlueGreenStrategy)) -> (World, String, String) {
    let mut world = healthy_bg(3, tweak);
    let v1 = rs_name(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    let v2 = rs_name(&world.rollout);
    world.run_to_rest(10);
    assert_eq!(
        world.status().stable_rs.as_deref(),
        Some(hash(&world.rollout).as_str())
    );
    (world, v1, v2)
}

#[test]
fn scale_down_delay_zero_never_scales_the_old_stack_down() {
    // Upstream issue #1992, kept for compatibility: with scaleDownDelaySeconds 0 the old
    // ReplicaSet is counted as waiting but never annotated, so it keeps its size for ever, and
    // the rollout is requeued with no delay every time.
    let (mut world, v1, _) = promoted_v2(|s| s.scale_down_delay_seconds = Some(0));
    assert_eq!(deadline(&world, &v1), None);
    world.advance(3600);
    let plan = world.reconcile();
    assert!(plan.items.is_empty(), "{:?}", shape(&plan));
    assert_eq!(plan.requeue_after, Some(Duration::ZERO));
    assert_eq!(world.spec_of(&v1), 3);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
}

#[test]
fn a_custom_scale_down_delay_is_honoured() {
    let (mut world, v1, _) = promoted_v2(|s| s.scale_down_delay_seconds = Some(120));
    assert_eq!(
        deadline(&world, &v1).as_deref(),
        Some("2026-01-01T00:02:00Z")
    );
    world.advance(119);
    let plan = world.reconcile();
    assert!(scaled(&plan).is_empty());
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(1)));
    world.advance(1);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1, 0)]);
}

#[test]
fn an_old_replica_set_inside_its_delay_is_kept_at_full_size() {
    let (mut world, v1, _) = promoted_v2(|_| {});
    // Someone scaled the old stack down by hand.
    let rs = world
        .rss
        .iter_mut()
        .find(|rs| rs.metadata.name.as_deref() == Some(&v1))
        .unwrap();
    rs.spec.as_mut().unwrap().replicas = Some(1);
    world.advance(10);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 3)]);
    assert_eq!(
        events(&plan),
        [(
            "ScalingReplicaSet".into(),
            format!("Scaled up ReplicaSet {v1} (revision 1) from 1 to 3")
        )]
    );
}

#[test]
fn the_revision_limit_scales_the_oldest_waiting_stacks_down_at_once() {
    let (mut world, v1, v2) = promoted_v2(|s| s.scale_down_delay_revision_limit = Some(1));
    assert!(deadline(&world, &v1).is_some());

    // A third version at 5 s, promoted while v1 still waits (deadline at 30 s).
    world.advance(5);
    set_image(&mut world.rollout, "app:v3");
    let v3 = rs_name(&world.rollout);
    let plans = world.run_to_rest(10);
    // While v3 is previewed, v1 (the only one waiting) stays up.
    // Once v3 is promoted, v2 starts waiting and v1, beyond the limit of 1, goes at once.
    let scale_downs: Vec<(String, String)> = plans
        .iter()
        .flat_map(events)
        .filter(|e| e.0 == "ScalingReplicaSet" && e.1.contains("Scaled down"))
        .collect();
    assert_eq!(
        scale_downs,
        [(
            "ScalingReplicaSet".into(),
            format!("Scaled down ReplicaSet {v1} (revision 1) from 3 to 0")
        )]
    );
    assert_eq!(world.now, at(5), "long before v1's own deadline");
    assert_eq!(
        (world.spec_of(&v1), world.spec_of(&v2), world.spec_of(&v3)),
        (0, 3, 3)
    );
    assert_eq!(
        deadline(&world, &v2).as_deref(),
        Some("2026-01-01T00:00:35Z")
    );
}

#[test]
fn without_a_revision_limit_every_old_stack_waits_out_its_delay() {
    let (mut world, v1, v2) = promoted_v2(|_| {});
    world.advance(5);
    set_image(&mut world.rollout, "app:v3");
    world.run_to_rest(10);
    assert_eq!((world.spec_of(&v1), world.spec_of(&v2)), (3, 3));
    world.now = at(30);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 0)]);
    world.now = at(35);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2, 0)]);
}

#[test]
fn an_abandoned_preview_is_kept_while_the_status_references_it_then_waits_its_delay() {
    let (mut world, _, v2) = paused_update(|_| {});
    set_image(&mut world.rollout, "app:v3");
    let h3 = hash(&world.rollout);

    // The reconcile that sees v3 re-points the preview and writes only the reset status.
    let plan = world.reconcile();
    assert!(scaled(&plan).iter().all(|(n, _)| n != &v2));
    assert_eq!(selector(&world, "preview"), h3);

    // Then v2 is no longer referenced by any selector: it gets a deadline like any old stack.
    let plan = world.reconcile();
    assert!(scaled(&plan).contains(&(v2.clone(), 3)), "annotated");
    assert!(deadline(&world, &v2).is_some());
    assert_eq!(world.spec_of(&v2), 3);
}

#[test]
fn a_rollback_to_a_replica_set_inside_its_delay_is_fast_tracked() {
    let (mut world, v1, v2) = paused_update(|_| {});
    let h1 = selector(&world, "active");
    world.rollout.status.as_mut().unwrap().pause_conditions = None;
    world.run_to_rest(10);
    let h2 = hash(&world.rollout);
    assert_eq!(selector(&world, "active"), h2);
    assert!(deadline(&world, &v1).is_some(), "v1 waits out its delay");

    // Back to v1 within the delay: no BlueGreenPause even with autoPromotionEnabled false.
    world.advance(5);
    set_image(&mut world.rollout, "app:v1");
    assert_eq!(rs_name(&world.rollout), v1);
    let plans = world.run_to_rest(10);
    let events: Vec<(String, String)> = plans.iter().flat_map(events).collect();
    assert!(events.iter().all(|e| e.0 != "RolloutPaused"), "{events:?}");
    assert!(
        events.contains(&(
            "SwitchService".into(),
            format!("Switched selector for service 'active' from '{h2}' to '{h1}'")
        )),
        "{events:?}"
    );
    assert!(
        events.contains(&(
            "RolloutCompleted".into(),
            format!("Rollout completed update to revision 3 ({h1}): Completed blue-green update")
        )),
        "{events:?}"
    );
    assert_eq!(world.status().stable_rs.as_deref(), Some(h1.as_str()));
    assert_eq!(deadline(&world, &v1), None, "wanted again");
    assert!(deadline(&world, &v2).is_some(), "now v2 waits");
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
}
