//! A canary update step by step: setWeight scaling from the replica math, pause steps (indefinite
//! and timed), resume by the user and by the clock, spec.paused.

use std::time::Duration;

use serde_json::json;

use super::harness::*;
use crate::crd::{CanaryStep, PauseCondition, PauseReason};

fn steps() -> Option<Vec<CanaryStep>> {
    Some(vec![weight(20), pause(), weight(50), pause_secs(30)])
}

/// A healthy V1 with 5 replicas, then `app:v2` applied and reconciled once (new ReplicaSet,
/// status reset). Returns (world, v1 name, v2 name, v2 hash).
fn updating() -> (World, String, String, String) {
    let mut world = healthy_world(5, steps());
    let v1 = rs_name(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    let plan = world.reconcile();
    let v2 = rs_name(&world.rollout);
    let h2 = hash(&world.rollout);
    assert_eq!(
        events(&plan),
        [
            (
                "RolloutUpdated".into(),
                "Rollout updated to revision 2".into()
            ),
            (
                "NewReplicaSetCreated".into(),
                format!("Created ReplicaSet {v2} (revision 2)")
            ),
            (
                "RolloutNotCompleted".into(),
                format!("Rollout not completed, started update to revision 2 ({h2})")
            ),
        ]
    );
    assert_eq!(world.status().current_step_index, Some(0));
    (world, v1, v2, h2)
}

fn step_event(plan: &crate::plan::Plan) -> Vec<String> {
    events(plan)
        .into_iter()
        .filter(|(r, _)| r == "RolloutStepCompleted")
        .map(|(_, m)| m)
        .collect()
}

#[test]
fn canary_update_walks_the_steps_with_argo_numbers() {
    let (mut world, v1, v2, h2) = updating();

    // setWeight 20 on 5 replicas (maxSurge 25% → 2, maxUnavailable 25% → 1): the math picks
    // 1 canary / 4 stable. The stable is scaled first, one reconcile at a time.
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 4)]);
    assert_eq!(
        events(&plan),
        [(
            "ScalingReplicaSet".into(),
            format!("Scaled down ReplicaSet {v1} (revision 1) from 5 to 4")
        )]
    );
    world.settle();
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 1)]);
    assert_eq!(
        events(&plan),
        [(
            "ScalingReplicaSet".into(),
            format!("Scaled up ReplicaSet {v2} (revision 2) from 0 to 1")
        )]
    );
    assert_eq!(
        world.status().current_step_index,
        Some(0),
        "not before the canary is available"
    );
    world.settle();
    let plan = world.reconcile();
    assert!(scaled(&plan).is_empty());
    assert_eq!(
        step_event(&plan),
        ["Rollout step 1/4 completed (setWeight: 20)"]
    );
    assert_eq!(world.status().current_step_index, Some(1));

    // pause: the controller pauses; RolloutPaused comes from the status diff.
    world.advance(5);
    let plan = world.reconcile();
    assert_eq!(
        events(&plan),
        [(
            "RolloutPaused".into(),
            "Rollout is paused (CanaryPauseStep)".into()
        )]
    );
    assert_eq!(
        world.status().pause_conditions,
        Some(vec![PauseCondition {
            reason: PauseReason::CanaryPauseStep,
            start_time: time(5)
        }])
    );
    assert_eq!(world.status().controller_pause, Some(true));
    assert_eq!(world.phase(), ("Paused".into(), "CanaryPauseStep".into()));
    assert_eq!(
        plan.requeue_after, None,
        "an indefinite pause waits for the user"
    );

    // checkPausedConditions writes Progressing/Paused on its own; then the rollout rests.
    let plan = world.reconcile();
    assert_eq!(shape(&plan), ["patch status"]);
    let patch = &status_patches(&plan)[0];
    let conditions = patch["conditions"].as_array().unwrap();
    let progressing = conditions
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(
        (
            progressing["status"].as_str(),
            progressing["reason"].as_str()
        ),
        (Some("Unknown"), Some("RolloutPaused"))
    );
    let paused = conditions.iter().find(|c| c["type"] == "Paused").unwrap();
    assert_eq!(
        (paused["status"].as_str(), paused["message"].as_str()),
        (Some("True"), Some("Rollout is paused"))
    );
    let plan = world.reconcile();
    assert!(plan.items.is_empty(), "{:?}", shape(&plan));

    // The user resumes (plugin: pauseConditions cleared, controllerPause left true).
    world.rollout.status.as_mut().unwrap().pause_conditions = None;
    let plan = world.reconcile();
    assert_eq!(step_event(&plan), ["Rollout step 2/4 completed (pause)"]);
    assert!(
        !events(&plan).iter().any(|(r, _)| r == "RolloutResumed"),
        "a user resume emits no RolloutResumed"
    );
    assert_eq!(world.status().current_step_index, Some(2));
    assert_eq!(world.status().controller_pause, None);
    // Argo quirk kept: checkPausedConditions patched Paused=False first, but the final persist
    // diffs against the status as read and its conditions array (Progressing refreshed by the
    // step advance) puts the stale Paused=True back; the next reconcile corrects it.
    assert_eq!(
        status_patches(&plan)[0]["conditions"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["status"],
        "False"
    );
    let paused = world
        .conditions()
        .into_iter()
        .find(|c| c.0 == "Paused")
        .unwrap();
    assert_eq!(paused.1, "True");
    let mut next = world.plan();
    // (the next reconcile also scales; only its first item, the condition patch, matters here)
    next.items.truncate(1);
    world.apply(&next);
    let paused = world
        .conditions()
        .into_iter()
        .find(|c| c.0 == "Paused")
        .unwrap();
    assert_eq!(
        (paused.1.as_str(), paused.3.as_str()),
        ("False", "Rollout is paused"),
        "False keeps the message"
    );

    // setWeight 50 on 5: 3 canary / 3 stable (5 + 1 surge), stable first again.
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 3)]);
    world.settle();
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 3)]);
    world.settle();
    let plan = world.reconcile();
    assert_eq!(
        step_event(&plan),
        ["Rollout step 3/4 completed (setWeight: 50)"]
    );

    // Timed pause: requeued exactly at its end, advanced by the clock with RolloutResumed.
    world.now = at(100);
    let plan = world.reconcile();
    assert_eq!(
        events(&plan),
        [(
            "RolloutPaused".into(),
            "Rollout is paused (CanaryPauseStep)".into()
        )]
    );
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(30)));
    world.now = at(110);
    let plan = world.reconcile();
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(20)));
    world.now = at(130);
    let plan = world.reconcile();
    assert!(
        step_event(&plan).is_empty(),
        "the end is exclusive, as Go's After"
    );
    world.now = at(131);
    let plan = world.reconcile();
    assert_eq!(
        step_event(&plan),
        ["Rollout step 4/4 completed (pause: 30)"]
    );
    assert!(events(&plan).contains(&("RolloutResumed".into(), "Rollout is resumed".into())));
    assert_eq!(world.status().current_step_index, Some(4));
    assert_eq!(world.status().pause_conditions, None);

    // Past the last step: 100% in maxSurge/maxUnavailable strides, then promotion.
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 1)]);
    world.settle();
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 5)]);
    world.settle();
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 0)]);
    assert!(events(&plan).contains(&(
        "RolloutCompleted".into(),
        format!("Rollout completed update to revision 2 ({h2}): Completed all 4 canary steps")
    )));
    assert_eq!(world.status().stable_rs.as_deref(), Some(h2.as_str()));
    let plans = world.run_to_rest(5);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert_eq!(plans.last().unwrap().requeue_after, None);
}

#[test]
fn setweight_numbers_follow_the_replica_math() {
    // The first scaling reconcile of a few shapes, straight from the replica math (canary,
    // stable targets, first change only).
    let cases: [(i32, i32, &str, i32); 5] = [
        // (replicas, weight, which RS changes first, its new size)
        (5, 20, "stable", 4),
        (10, 10, "stable", 9),
        (4, 50, "stable", 3),
        (1, 50, "canary", 1),
        (10, 0, "none", 10),
    ];
    for (replicas, w, which, size) in cases {
        let mut world = healthy_world(replicas, Some(vec![weight(w), pause()]));
        let v1 = rs_name(&world.rollout);
        set_image(&mut world.rollout, "app:v2");
        world.reconcile();
        let v2 = rs_name(&world.rollout);
        let plan = world.reconcile();
        let expected = match which {
            "stable" => vec![(v1, size)],
            "canary" => vec![(v2, size)],
            _ => vec![],
        };
        assert_eq!(scaled(&plan), expected, "replicas {replicas}, weight {w}");
    }
}

#[test]
fn spec_paused_halts_scaling_and_step_advance() {
    let (mut world, v1, _, _) = updating();
    world.rollout.spec.paused = Some(true);
    crate::reconcile::tests::harness::bump(&mut world.rollout);
    let plan = world.reconcile();
    assert!(scaled(&plan).is_empty(), "no scaling while spec.paused");
    let patches = status_patches(&plan);
    // checkPausedConditions' own patch, then the persisted status (phase computed in each).
    assert_eq!(patches[0]["phase"], "Paused");
    assert_eq!(patches[0]["message"], "manually paused");
    let reasons: Vec<_> = patches[0]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reason"].clone())
        .collect();
    assert!(reasons.contains(&json!("RolloutPaused")));
    assert_eq!(world.status().current_step_index, Some(0));

    // Unpaused: scaling resumes.
    world.rollout.spec.paused = Some(false);
    bump(&mut world.rollout);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1, 4)]);
}

#[test]
fn a_pause_step_completes_at_once_while_the_controller_already_holds_a_pause() {
    // controllerPause true without a CanaryPauseStep condition reads as "resumed" (Argo quirk):
    // no condition is added and the step completes.
    let mut world = healthy_world(2, Some(vec![pause(), weight(50)]));
    set_image(&mut world.rollout, "app:v2");
    world.reconcile();
    world.rollout.status.as_mut().unwrap().controller_pause = Some(true);
    let plan = world.reconcile();
    assert_eq!(step_event(&plan), ["Rollout step 1/2 completed (pause)"]);
    assert_eq!(world.status().pause_conditions, None);
}

#[test]
fn timed_pause_requeue_is_bounded_by_the_resync_period() {
    let mut world = healthy_world(2, Some(vec![pause_secs(3600), weight(50)]));
    set_image(&mut world.rollout, "app:v2");
    world.reconcile();
    let plan = world.reconcile();
    assert!(events(&plan).iter().any(|(r, _)| r == "RolloutPaused"));
    // One hour is beyond the 15 min resync: the resync will see it, no timer.
    assert_eq!(plan.requeue_after, None);
    world.now = at(3600 - 60);
    let plan = world.reconcile();
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(60)));
}
