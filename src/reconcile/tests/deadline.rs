//! Progress deadline (with and without progressDeadlineAbort) and pod restarts.

use std::time::Duration;

use k8s_openapi::{
    api::core::v1::{Pod, PodCondition, PodStatus},
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};

use super::harness::*;
use crate::{crd::CanaryStep, status::to_utc};

fn steps() -> Option<Vec<CanaryStep>> {
    Some(vec![weight(20), pause()])
}

/// An update whose canary pod never becomes available: V1 at 4, V2 at 1 (0 available).
/// Returns (world, v1 name, v2 name, the progress deadline in seconds since the test epoch).
fn stuck_update(abort: bool) -> (World, String, String, i64) {
    let mut world = healthy_world(5, steps());
    world.rollout.spec.progress_deadline_abort = Some(abort);
    let v1 = rs_name(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    world.reconcile();
    let v2 = rs_name(&world.rollout);
    world.advance(10);
    world.reconcile(); // stable 5 → 4
    world.settle();
    world.advance(10);
    world.reconcile(); // canary 0 → 1, never available
    world.advance(10);
    world.reconcile();
    let progressing = world
        .status()
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(progressing.reason, "ReplicaSetUpdated");
    let deadline = (to_utc(&progressing.last_update_time) - at(0)).num_seconds() + 600;
    (world, v1, v2, deadline)
}

#[test]
fn progress_deadline_is_scheduled_and_then_exceeded() {
    let (mut world, _, v2, deadline) = stuck_update(false);
    world.now = at(deadline - 100);
    let plan = world.reconcile();
    assert!(plan.items.is_empty());
    assert_eq!(
        plan.requeue_after,
        Some(Duration::from_secs(101)),
        "one second after the deadline"
    );

    world.now = at(deadline);
    let plan = world.reconcile();
    assert!(plan.items.is_empty(), "the deadline itself is not past");

    world.now = at(deadline + 1);
    let plan = world.reconcile();
    let message = format!("ReplicaSet \"{v2}\" has timed out progressing.");
    assert_eq!(
        world.phase(),
        (
            "Degraded".into(),
            format!("ProgressDeadlineExceeded: {message}")
        )
    );
    let progressing = world
        .conditions()
        .into_iter()
        .find(|c| c.0 == "Progressing")
        .unwrap();
    assert_eq!(
        progressing,
        (
            "Progressing".into(),
            "False".into(),
            "ProgressDeadlineExceeded".into(),
            message
        )
    );
    assert!(
        events(&plan).is_empty(),
        "without progressDeadlineAbort there is no abort"
    );
    assert_eq!(world.status().abort, None);
    assert_eq!(
        plan.requeue_after, None,
        "timed out: nothing left to schedule"
    );
    // Stays timed out, quietly.
    world.advance(60);
    assert!(world.reconcile().items.is_empty());
}

#[test]
fn progress_deadline_abort_is_two_steps() {
    let (mut world, v1, v2, deadline) = stuck_update(true);
    world.now = at(deadline + 1);
    let timeout = format!("ReplicaSet \"{v2}\" has timed out progressing.");

    // 1: ProgressDeadlineExceeded and the abort flag, RolloutAborted event with the timeout text.
    let plan = world.reconcile();
    assert_eq!(events(&plan), [("RolloutAborted".into(), timeout.clone())]);
    assert_eq!(warnings(&plan), ["RolloutAborted"]);
    assert_eq!(world.status().abort, Some(true));
    assert_eq!(world.status().aborted_at, Some(time(deadline + 1)));
    assert_eq!(
        world.phase(),
        (
            "Degraded".into(),
            format!("ProgressDeadlineExceeded: {timeout}")
        )
    );

    // 2: the bare RolloutAborted condition, a second event, and the abort scaling.
    world.advance(5);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1, 5)]);
    assert_eq!(
        events(&plan)[1..],
        [(
            "RolloutAborted".into(),
            "Rollout aborted update to revision 2".into()
        )]
    );
    assert_eq!(
        world.phase(),
        (
            "Degraded".into(),
            "RolloutAborted: Rollout aborted update to revision 2".into()
        )
    );
    world.settle();
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2, 0)]);
}

#[test]
fn no_deadline_at_a_pause_step() {
    let mut world = healthy_world(2, Some(vec![pause(), weight(50)]));
    set_image(&mut world.rollout, "app:v2");
    world.reconcile();
    world.reconcile(); // pause added
    world.reconcile(); // paused conditions
    world.now = at(10_000);
    let plan = world.reconcile();
    assert!(plan.items.is_empty());
    assert_eq!(plan.requeue_after, None);
}

fn pod(name: &str, rs_uid: &str, created: i64, ready: bool) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            creation_timestamp: Some(time(created)),
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                name: "rs".into(),
                uid: rs_uid.into(),
                controller: Some(true),
                block_owner_deletion: None,
            }]),
            ..Default::default()
        },
        spec: None,
        status: Some(PodStatus {
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                last_transition_time: Some(time(created)),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

#[test]
fn restart_evicts_within_max_unavailable_and_records_restarted_at() {
    let mut world = healthy_world(4, steps());
    let uid = world.current_rs().metadata.uid.clone().unwrap();
    world.pods = (0..4)
        .map(|i| pod(&format!("p{i}"), &uid, 0, true))
        .collect();
    world.rollout.spec.restart_at = Some(time(100));
    bump(&mut world.rollout);

    // Before restartAt: only a timer.
    world.now = at(40);
    let plan = world.reconcile();
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(60)));
    assert!(!shape(&plan).iter().any(|s| s.starts_with("evict")));

    // maxUnavailable 25% of 4 = 1: one eviction per pass, then stop (availability is stale).
    world.now = at(200);
    for i in 0..4 {
        let plan = world.reconcile();
        assert_eq!(shape(&plan), [format!("evict p{i}")], "pass {i}");
        // Looked at again in 30 s while pods remain; the last eviction leaves none (the
        // ReplicaSet's status change brings the rollout back).
        let expected = (i < 3).then_some(Duration::from_secs(30));
        assert_eq!(plan.requeue_after, expected, "pass {i}");
        // The ReplicaSet replaces the pod; it is ready after a while.
        world
            .pods
            .push(pod(&format!("n{i}"), &uid, 201 + i as i64, true));
        world.advance(10);
    }
    let plan = world.reconcile();
    assert!(
        status_patches(&plan)
            .iter()
            .any(|p| p["restartedAt"] == "2026-01-01T00:01:40Z")
    );
    assert_eq!(world.status().restarted_at, Some(time(100)));
    assert!(world.reconcile().items.is_empty());
}

#[test]
fn restart_waits_while_a_replacement_pod_is_not_ready() {
    let mut world = healthy_world(4, steps());
    let uid = world.current_rs().metadata.uid.clone().unwrap();
    world.pods = (0..3)
        .map(|i| pod(&format!("p{i}"), &uid, 0, true))
        .collect();
    world.pods.push(pod("new", &uid, 150, false));
    world.rollout.spec.restart_at = Some(time(100));
    bump(&mut world.rollout);
    world.now = at(200);
    let plan = world.reconcile();
    // 3 available, 4 wanted, 1 unavailable allowed: nothing may go; the status says why.
    assert!(!shape(&plan).iter().any(|s| s.starts_with("evict")));
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(30)));
    assert_eq!(
        world.phase(),
        ("Progressing".into(), "rollout is restarting".into())
    );
}
