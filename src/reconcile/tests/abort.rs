//! Abort, retry, full promotion, rollback to stable, rollback window, and a new template in the
//! middle of an update.

use super::harness::*;
use crate::crd::{CanaryStep, RollbackWindowSpec};

fn steps() -> Option<Vec<CanaryStep>> {
    Some(vec![weight(20), pause(), weight(50), pause_secs(30)])
}

/// V1 stable (4 pods), V2 canary (1 pod), at step 1 (the indefinite pause, not yet added).
/// Returns (world, v1 name, v2 name).
fn at_first_pause() -> (World, String, String) {
    let mut world = healthy_world(5, steps());
    let v1 = rs_name(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    world.reconcile();
    let v2 = rs_name(&world.rollout);
    for _ in 0..3 {
        world.reconcile();
        world.settle();
    }
    assert_eq!(world.status().current_step_index, Some(1));
    assert_eq!((world.spec_of(&v1), world.spec_of(&v2)), (4, 1));
    (world, v1, v2)
}

fn reasons(plans: &[crate::plan::Plan]) -> Vec<String> {
    plans.iter().flat_map(events).map(|(r, _)| r).collect()
}

#[test]
fn abort_scales_the_canary_to_zero_and_degrades() {
    let (mut world, v1, v2) = at_first_pause();
    world.now = at(50);
    world.rollout.status.as_mut().unwrap().abort = Some(true);

    // Weight 0: the stable comes back first, then the canary drains.
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 5)]);
    assert_eq!(
        events(&plan),
        [
            (
                "ScalingReplicaSet".into(),
                format!("Scaled up ReplicaSet {v1} (revision 1) from 4 to 5")
            ),
            (
                "RolloutAborted".into(),
                "Rollout aborted update to revision 2".into()
            ),
        ]
    );
    assert_eq!(warnings(&plan), ["RolloutAborted"]);
    assert_eq!(
        world.phase(),
        (
            "Degraded".into(),
            "RolloutAborted: Rollout aborted update to revision 2".into()
        )
    );
    let status = world.status();
    assert_eq!(status.abort, Some(true));
    assert_eq!(status.aborted_at, Some(time(50)));
    assert_eq!(
        status.current_step_index,
        Some(0),
        "an aborted update restarts at step 0"
    );
    let progressing = world
        .conditions()
        .into_iter()
        .find(|c| c.0 == "Progressing")
        .unwrap();
    assert_eq!(
        (progressing.1.as_str(), progressing.2.as_str()),
        ("False", "RolloutAborted")
    );

    world.settle();
    world.now = at(60);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 0)]);
    assert!(
        !reasons(std::slice::from_ref(&plan)).contains(&"RolloutAborted".to_string()),
        "the condition is unchanged"
    );
    assert_eq!(
        world.status().aborted_at,
        Some(time(50)),
        "abortedAt is kept (no hot loop)"
    );
    let plans = world.run_to_rest(5);
    assert!(plans.last().unwrap().items.is_empty());
    assert_eq!(world.phase().0, "Degraded");
}

#[test]
fn retry_after_abort_starts_again_from_step_zero() {
    let (mut world, v1, _) = at_first_pause();
    world.rollout.status.as_mut().unwrap().abort = Some(true);
    world.run_to_rest(6);

    // The plugin's retry: abort false.
    world.rollout.status.as_mut().unwrap().abort = Some(false);
    let plan = world.reconcile();
    let first = &status_patches(&plan)[0];
    let progressing = first["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(progressing["reason"], "RolloutRetry");
    assert_eq!(progressing["status"], "Unknown");
    assert_eq!(progressing["message"], "Retrying Rollout after abort");
    assert_eq!(scaled(&plan), [(v1, 4)], "setWeight 20 again");
    // `abort: false` as the plugin wrote it stays (Go omits false on both sides of the diff).
    assert_ne!(world.status().abort, Some(true));
    assert_eq!(world.status().aborted_at, None);
    assert!(!reasons(std::slice::from_ref(&plan)).contains(&"RolloutAborted".to_string()));
    world.settle();
    world.reconcile();
    world.settle();
    let plan = world.reconcile();
    assert!(events(&plan).contains(&(
        "RolloutStepCompleted".into(),
        "Rollout step 1/4 completed (setWeight: 20)".into()
    )));
}

#[test]
fn an_abort_left_on_a_fully_promoted_rollout_is_dropped() {
    let mut world = healthy_world(3, steps());
    world.rollout.status.as_mut().unwrap().abort = Some(true);
    let plan = world.reconcile();
    assert_eq!(status_patches(&plan), [serde_json::json!({"abort": null})]);
    assert_eq!(world.phase().0, "Healthy");
}

#[test]
fn promote_full_skips_the_remaining_steps() {
    let (mut world, v1, v2) = at_first_pause();
    world.rollout.status.as_mut().unwrap().promote_full = Some(true);
    let plan = world.reconcile();
    // 100% at once (within maxSurge/maxUnavailable): the stable gives one pod first.
    assert_eq!(scaled(&plan), [(v1.clone(), 3)]);
    assert_eq!(world.status().current_step_index, Some(4));
    assert_eq!(
        world.status().promote_full,
        Some(true),
        "kept until promoted"
    );
    let plans = world.run_to_rest(10);
    let h2 = hash(&world.rollout);
    let completed: Vec<_> = plans
        .iter()
        .flat_map(events)
        .filter(|(r, _)| r == "RolloutCompleted")
        .collect();
    assert_eq!(
        completed,
        [(
            "RolloutCompleted".into(),
            format!("Rollout completed update to revision 2 ({h2}): Full promotion requested")
        )]
    );
    assert!(!reasons(&plans).contains(&"RolloutStepCompleted".to_string()));
    assert_eq!(world.status().promote_full, None);
    assert_eq!(world.status().stable_rs.as_deref(), Some(h2.as_str()));
    assert_eq!((world.spec_of(&v1), world.spec_of(&v2)), (0, 5));
    assert_eq!(world.phase().0, "Healthy");
}

#[test]
fn rollback_to_stable_skips_steps_and_completes_without_rollout_completed() {
    let (mut world, v1, v2) = at_first_pause();
    set_image(&mut world.rollout, "app:v1");
    let plan = world.reconcile();
    assert_eq!(
        events(&plan),
        [
            (
                "RolloutUpdated".into(),
                "Rollout updated to revision 3".into()
            ),
            ("SkipSteps".into(), "Rollback to stable ReplicaSets".into()),
        ]
    );
    assert_eq!(world.status().current_step_index, Some(4));
    // The old ReplicaSet became revision 3, its history remembers 1.
    let annotations = world.rs_named(&v1).metadata.annotations.clone().unwrap();
    assert_eq!(annotations[crate::crd::rollout::keys::REVISION], "3");
    assert_eq!(
        annotations[crate::crd::rollout::keys::REVISION_HISTORY],
        "1"
    );

    let plans = world.run_to_rest(10);
    assert!(
        !reasons(&plans).contains(&"RolloutCompleted".to_string()),
        "stable already equals current"
    );
    assert!(!reasons(&plans).contains(&"RolloutStepCompleted".to_string()));
    assert_eq!((world.spec_of(&v1), world.spec_of(&v2)), (5, 0));
    assert_eq!(world.phase().0, "Healthy");
}

#[test]
fn a_new_template_mid_update_keeps_v1_stable_and_discards_v2() {
    let (mut world, v1, v2) = at_first_pause();
    let h1 = world.status().stable_rs.clone().unwrap();
    set_image(&mut world.rollout, "app:v3");
    let plan = world.reconcile();
    let v3 = rs_name(&world.rollout);
    // Completed was already False: no second RolloutNotCompleted.
    assert_eq!(
        events(&plan),
        [
            (
                "RolloutUpdated".into(),
                "Rollout updated to revision 3".into()
            ),
            (
                "NewReplicaSetCreated".into(),
                format!("Created ReplicaSet {v3} (revision 3)")
            ),
        ]
    );
    assert_eq!(world.status().current_step_index, Some(0));

    let plan = world.reconcile();
    assert_eq!(
        scaled(&plan),
        [(v3.clone(), 1)],
        "V2 still counts against maxSurge"
    );
    world.settle();
    let plan = world.reconcile();
    assert_eq!(
        scaled(&plan),
        [(v2.clone(), 0)],
        "the intermediate V2 is drained"
    );
    world.settle();
    let plan = world.reconcile();
    assert!(events(&plan).contains(&(
        "RolloutStepCompleted".into(),
        "Rollout step 1/4 completed (setWeight: 20)".into()
    )));
    assert_eq!(world.status().stable_rs.as_deref(), Some(h1.as_str()));
    assert_eq!(
        (world.spec_of(&v1), world.spec_of(&v2), world.spec_of(&v3)),
        (4, 0, 1)
    );
}

#[test]
fn rollback_within_the_window_is_promoted_without_steps() {
    let mut ro = rollout(5, steps());
    ro.spec.rollback_window = Some(RollbackWindowSpec { revisions: Some(2) });
    let mut world = World::new(ro);
    world.run_to_rest(10);
    set_image(&mut world.rollout, "app:v2");
    world.now = at(10);
    // Promote V2 fully (promoteFull), so V1 is an old, scaled-down revision.
    world.reconcile();
    world.rollout.status.as_mut().unwrap().promote_full = Some(true);
    world.run_to_rest(15);
    let h2 = hash(&world.rollout);
    assert_eq!(world.status().stable_rs.as_deref(), Some(h2.as_str()));

    set_image(&mut world.rollout, "app:v1");
    world.now = at(20);
    let plans = world.run_to_rest(15);
    let h1 = hash(&world.rollout);
    let completed: Vec<_> = plans
        .iter()
        .flat_map(events)
        .filter(|(r, _)| r == "RolloutCompleted")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(
        completed,
        [format!(
            "Rollout completed update to revision 3 ({h1}): Rollback within window"
        )]
    );
    assert!(!reasons(&plans).contains(&"RolloutStepCompleted".to_string()));
    assert_eq!(world.status().current_step_index, Some(4));
}
