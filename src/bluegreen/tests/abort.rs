//! Abort: the active Service stays on (or goes back to) the stable ReplicaSet, the preview
//! ReplicaSet is scaled down after `abortScaleDownDelaySeconds`, Degraded; and retry.

use std::time::Duration;

use serde_json::json;

use super::*;

fn abort(world: &mut World) {
    world.rollout.status.as_mut().unwrap().abort = Some(true);
}

#[test]
fn abort_keeps_the_active_service_on_stable_and_scales_the_preview_down_after_the_delay() {
    let (mut world, v1, v2) = paused_update(|_| {});
    let h1 = selector(&world, "active");
    let h2 = hash(&world.rollout);
    world.now = at(100);
    abort(&mut world);

    // The stable ReplicaSet is fully available, so the preview gets its deadline (now + 30 s
    // by default) and is held until then; the rollout is Degraded at once.
    let plan = world.reconcile();
    assert_eq!(
        shape(&plan),
        [
            format!("update {v2} replicas=3"),
            "event RolloutAborted".into(),
            "patch status".into(),
        ]
    );
    assert_eq!(
        events(&plan),
        [(
            "RolloutAborted".into(),
            "Rollout aborted update to revision 2".into()
        )]
    );
    assert_eq!(warnings(&plan), ["RolloutAborted"]);
    assert_eq!(
        deadline(&world, &v2).as_deref(),
        Some("2026-01-01T00:02:10Z")
    );
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(30)));
    // The user's `abort: true` is already there; the pause is dropped.
    let mut patch = status_patches(&plan).pop().unwrap();
    let conditions = patch.as_object_mut().unwrap().remove("conditions").unwrap();
    assert_eq!(
        patch,
        json!({
            "abortedAt": "2026-01-01T00:01:40Z",
            "pauseConditions": null,
            "controllerPause": null,
            "phase": "Degraded",
            "message": "RolloutAborted: Rollout aborted update to revision 2",
        })
    );
    let progressing = conditions
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(
        progressing,
        json!({"type": "Progressing", "status": "False", "reason": "RolloutAborted",
               "message": "Rollout aborted update to revision 2",
               "lastUpdateTime": "2026-01-01T00:01:40Z",
               "lastTransitionTime": "2026-01-01T00:01:40Z"})
    );
    assert_eq!(
        world.phase(),
        (
            "Degraded".into(),
            "RolloutAborted: Rollout aborted update to revision 2".into()
        )
    );
    assert_eq!(selector(&world, "active"), h1);
    assert_eq!(
        selector(&world, "preview"),
        h2,
        "the preview is not re-pointed"
    );

    // Inside the delay: held, looked at again at the deadline.
    world.now = at(120);
    let plan = world.reconcile();
    assert!(scaled(&plan).is_empty());
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(10)));

    // At the deadline: the preview ReplicaSet goes to 0 (its deadline stays while aborted).
    world.now = at(130);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 0)]);
    assert_eq!(
        events(&plan),
        [(
            "ScalingReplicaSet".into(),
            format!("Scaled down ReplicaSet {v2} (revision 2) from 3 to 0")
        )]
    );
    assert!(deadline(&world, &v2).is_some());
    let plans = world.run_to_rest(5);
    assert!(plans.last().unwrap().items.is_empty());
    assert_eq!((world.spec_of(&v1), world.spec_of(&v2)), (3, 0));
    assert_eq!(
        world.status().aborted_at,
        Some(time(100)),
        "kept (no hot loop)"
    );
    assert_eq!(world.phase().0, "Degraded");
    assert_eq!(selector(&world, "active"), h1);
}

#[test]
fn abort_switches_the_active_service_back_to_the_stable_replica_set() {
    let (mut world, _, _) = paused_update(|_| {});
    let h1 = selector(&world, "active");
    let h2 = hash(&world.rollout);
    // Someone (or an earlier controller) already pointed the active Service at the new stack.
    world
        .services
        .get_mut("active")
        .unwrap()
        .spec
        .as_mut()
        .unwrap()
        .selector
        .as_mut()
        .unwrap()
        .insert(
            crate::crd::rollout::keys::POD_TEMPLATE_HASH.into(),
            h2.clone(),
        );
    abort(&mut world);
    let plan = world.reconcile();
    assert!(
        events(&plan).contains(&(
            "SwitchService".into(),
            format!("Switched selector for service 'active' from '{h2}' to '{h1}'")
        )),
        "{:?}",
        events(&plan)
    );
    assert_eq!(selector(&world, "active"), h1);
    assert_eq!(
        world
            .status()
            .blue_green
            .as_ref()
            .unwrap()
            .active_selector
            .as_deref(),
        Some(h1.as_str())
    );
    assert_eq!(world.phase().0, "Degraded");
}

#[test]
fn the_preview_is_only_annotated_once_the_stable_replica_set_is_fully_available() {
    let (mut world, v1, v2) = paused_update(|_| {});
    // A stable pod is gone.
    let stable = world
        .rss
        .iter_mut()
        .find(|rs| rs.metadata.name.as_deref() == Some(&v1))
        .unwrap();
    stable.status.as_mut().unwrap().available_replicas = Some(2);
    abort(&mut world);
    let plan = world.reconcile();
    assert!(scaled(&plan).is_empty());
    assert_eq!(deadline(&world, &v2), None);
    assert_eq!(world.spec_of(&v2), 3, "held");

    world.settle();
    world.reconcile();
    assert!(deadline(&world, &v2).is_some());
}

#[test]
fn abort_delay_beyond_the_resync_period_does_not_hold_the_preview() {
    // 3600 s > the 900 s resync: the deadline is written, but the preview is not held on it;
    // for blue-green "not held" means sized as usual, so it stays up, without a requeue (the
    // resync comes first), until a reconcile finds the deadline passed.
    let (mut world, _, v2) = paused_update(|s| s.abort_scale_down_delay_seconds = Some(3600));
    abort(&mut world);
    let plan = world.reconcile();
    assert_eq!(plan.requeue_after, None);
    assert_eq!(
        deadline(&world, &v2).as_deref(),
        Some("2026-01-01T01:00:00Z")
    );
    world.advance(60);
    let plan = world.reconcile();
    assert!(scaled(&plan).is_empty());
    assert_eq!(plan.requeue_after, None);
    assert_eq!(world.spec_of(&v2), 3);

    world.advance(3600);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2, 0)]);
}

#[test]
fn abort_scale_down_delay_zero_leaves_the_preview_up() {
    let (mut world, _, v2) = paused_update(|s| s.abort_scale_down_delay_seconds = Some(0));
    abort(&mut world);
    world.reconcile();
    world.advance(3600);
    let plans = world.run_to_rest(5);
    assert!(plans.iter().all(|p| scaled(p).is_empty()));
    assert_eq!(deadline(&world, &v2), None);
    assert_eq!(world.spec_of(&v2), 3);
    assert_eq!(world.phase().0, "Degraded");
}

#[test]
fn retry_after_abort_scales_the_preview_up_and_pauses_again() {
    let (mut world, _, v2) = paused_update(|_| {});
    abort(&mut world);
    world.reconcile();
    world.advance(30);
    world.run_to_rest(5);
    assert_eq!(world.spec_of(&v2), 0);

    // `kubectl argo rollouts retry`: abort false.
    world.advance(10);
    world.rollout.status.as_mut().unwrap().abort = Some(false);
    let plan = world.reconcile();
    let first = &status_patches(&plan)[0];
    let progressing = first["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(
        (progressing["status"].clone(), progressing["reason"].clone()),
        (json!("Unknown"), json!("RolloutRetry"))
    );
    assert_eq!(scaled(&plan), [(v2.clone(), 3)]);
    assert_eq!(deadline(&world, &v2), None, "the abort deadline is removed");
    world.run_to_rest(5);
    assert_eq!(world.phase(), ("Paused".into(), "BlueGreenPause".into()));
    assert_eq!(world.status().aborted_at, None);
}
