//! `spec.paused`, scaling events (`syncReplicasOnly`), the progress deadline, and the
//! validation gate for blue-green.

use std::time::Duration;

use k8s_openapi::{
    api::core::v1::{Pod, PodCondition, PodStatus},
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};

use super::*;
use crate::reconcile::INVALID_SPEC_REQUEUE;

#[test]
fn spec_paused_holds_the_services_but_not_the_replica_sets() {
    let mut world = healthy_bg(3, |_| {});
    let h1 = hash(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    world.rollout.spec.paused = Some(true);
    let v2 = rs_name(&world.rollout);
    let h2 = hash(&world.rollout);

    let plans = world.run_to_rest(10);
    assert!(
        plans
            .iter()
            .flat_map(events)
            .all(|e| e.0 != "SwitchService"),
        "no Service moves while paused"
    );
    assert_eq!(world.spec_of(&v2), 3, "the new ReplicaSet is scaled anyway");
    assert_eq!(
        (selector(&world, "active"), selector(&world, "preview")),
        (h1.clone(), h1.clone())
    );
    assert_eq!(world.phase(), ("Paused".into(), "manually paused".into()));

    // Unpaused: the preview follows, and (auto-promotion) the active Service too.
    world.rollout.spec.paused = Some(false);
    world.run_to_rest(10);
    assert_eq!(
        (selector(&world, "active"), selector(&world, "preview")),
        (h2.clone(), h2)
    );
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
}

#[test]
fn a_scaling_event_rescales_both_stacks_even_while_paused() {
    let (mut world, v1, v2) = paused_update(|_| {});
    world.rollout.spec.paused = Some(true);
    world.rollout.spec.replicas = Some(5);
    bump(&mut world.rollout);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 5), (v2.clone(), 5)]);
    assert_eq!(
        events(&plan),
        [
            (
                "ScalingReplicaSet".into(),
                format!("Scaled up ReplicaSet {v1} (revision 1) from 3 to 5")
            ),
            (
                "ScalingReplicaSet".into(),
                format!("Scaled up ReplicaSet {v2} (revision 2) from 3 to 5")
            ),
        ]
    );
    // syncReplicasOnly keeps the persisted status and refreshes the counts of the active
    // ReplicaSet (still 3 until its pods come).
    let status = world.status();
    assert_eq!(status.hpa_replicas, Some(3));
    assert_eq!(status.observed_generation.as_deref(), Some("3"));
    assert_eq!(status.pause_conditions.as_ref().map(Vec::len), Some(1));

    world.rollout.spec.paused = Some(false);
    world.run_to_rest(10);
    assert_eq!(world.status().hpa_replicas, Some(5));
    assert_eq!(world.phase(), ("Paused".into(), "BlueGreenPause".into()));
}

#[test]
fn a_scaling_event_on_a_healthy_rollout() {
    let mut world = healthy_bg(3, |_| {});
    let v1 = rs_name(&world.rollout);
    world.rollout.spec.replicas = Some(2);
    bump(&mut world.rollout);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 2)]);
    world.run_to_rest(5);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert_eq!(world.status().hpa_replicas, Some(2));
    assert_eq!(world.status().available_replicas, Some(2));
}

#[test]
fn the_progress_deadline_applies_until_the_pause() {
    let mut world = healthy_bg(3, |s| s.auto_promotion_enabled = Some(false));
    set_image(&mut world.rollout, "app:v2");
    let v2 = rs_name(&world.rollout);
    world.reconcile();
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 3)]);
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(601)));

    // The pods never become available.
    world.now = at(601);
    let plan = world.reconcile();
    assert_eq!(
        world.phase(),
        (
            "Degraded".into(),
            format!("ProgressDeadlineExceeded: ReplicaSet \"{v2}\" has timed out progressing.")
        )
    );
    assert_eq!(plan.requeue_after, None);

    // A rollout waiting at its BlueGreenPause does not time out.
    let (mut world, _, _) = paused_update(|_| {});
    world.advance(3600);
    let plan = world.reconcile();
    assert!(plan.items.is_empty(), "{:?}", shape(&plan));
    assert_eq!(world.phase(), ("Paused".into(), "BlueGreenPause".into()));
}

#[test]
fn progress_deadline_abort_aborts_a_stuck_update() {
    let mut world = healthy_bg(2, |_| {});
    world.rollout.spec.progress_deadline_abort = Some(true);
    set_image(&mut world.rollout, "app:v2");
    let v2 = rs_name(&world.rollout);
    world.reconcile();
    world.reconcile();
    world.now = at(601);
    let plan = world.reconcile();
    let timed_out = format!("ReplicaSet \"{v2}\" has timed out progressing.");
    assert_eq!(
        events(&plan),
        [("RolloutAborted".into(), timed_out.clone())]
    );
    assert_eq!(world.status().abort, Some(true));
    let plan = world.reconcile();
    assert_eq!(
        events(&plan),
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
}

#[test]
fn missing_services_are_invalid() {
    let mut world = bg_world(1, |_| {});
    world.services.remove("preview");
    let plan = world.reconcile();
    assert_eq!(plan.requeue_after, Some(INVALID_SPEC_REQUEUE));
    assert_eq!(
        world.conditions()[0].3,
        "The Rollout \"foo\" is invalid: spec.strategy.blueGreen.previewService: Invalid value: \"preview\": service \"preview\" not found"
    );
    assert!(world.rss.is_empty());
}

fn ready_pod(name: &str, rs_uid: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            creation_timestamp: Some(time(0)),
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
                status: "True".into(),
                last_transition_time: Some(time(0)),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

#[test]
fn a_restart_evicts_and_the_reconcile_carries_on() {
    let mut world = healthy_bg(4, |_| {});
    let uid = world.current_rs().metadata.uid.clone().unwrap();
    world.pods = (0..4).map(|i| ready_pod(&format!("p{i}"), &uid)).collect();
    world.rollout.spec.restart_at = Some(time(100));
    bump(&mut world.rollout);
    world.now = at(200);
    // maxUnavailable (blue-green default 25% of 4) = 1 eviction; unlike a canary, the status
    // is still written in the same reconcile.
    let plan = world.reconcile();
    assert_eq!(shape(&plan), ["evict p0", "patch status"]);
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(30)));
    assert_eq!(
        world.phase(),
        ("Progressing".into(), "rollout is restarting".into())
    );
}
