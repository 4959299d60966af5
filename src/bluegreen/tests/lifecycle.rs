//! Initial deploy, an update held at the `BlueGreenPause`, promotion, auto-promotion and
//! `previewReplicaCount`.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::crd::rollout::keys;

const T0: &str = "2026-01-01T00:00:00Z";

#[test]
fn initial_deploy_scales_at_once_promotes_and_switches_the_active_service_when_ready() {
    let mut world = bg_world(3, |_| {});
    let h = hash(&world.rollout);
    let name = rs_name(&world.rollout);

    // First reconcile: unlike a canary, blue-green scales in the reconcile that creates the
    // ReplicaSet (the scale is folded into the create), points the preview Service at it and
    // marks it stable ("Initial deploy") before any pod is ready. The active Service waits.
    let plan = world.reconcile();
    assert_eq!(
        shape(&plan),
        [
            format!("create {name}"),
            "patch rollout".into(),
            "event RolloutUpdated".into(),
            "event NewReplicaSetCreated".into(),
            "patch status".into(),
            "patch service preview".into(),
            "event SwitchService".into(),
            "event ScalingReplicaSet".into(),
            "event RolloutCompleted".into(),
            "patch status".into(),
        ]
    );
    assert_eq!(
        events(&plan)[2..],
        [
            (
                "SwitchService".into(),
                format!("Switched selector for service 'preview' from '' to '{h}'")
            ),
            (
                "ScalingReplicaSet".into(),
                format!("Scaled up ReplicaSet {name} (revision 1) from 0 to 3")
            ),
            (
                "RolloutCompleted".into(),
                format!("Rollout completed update to revision 1 ({h}): Initial deploy")
            ),
        ]
    );
    let preview_patch = plan
        .actions()
        .find_map(|a| match a {
            crate::plan::Action::PatchService { name, patch } if name == "preview" => {
                Some(patch.clone())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(
        preview_patch,
        json!({
            "metadata": {"annotations": {keys::MANAGED_BY_ROLLOUTS: "foo"}},
            "spec": {"selector": {keys::POD_TEMPLATE_HASH: h}}
        })
    );
    assert_eq!(
        status_patches(&plan)[1],
        json!({
            "blueGreen": {"previewSelector": h},
            "conditions": [
                {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                 "message": format!("ReplicaSet \"{name}\" is progressing."),
                 "lastUpdateTime": T0, "lastTransitionTime": T0},
                {"type": "Available", "status": "False", "reason": "AvailableReason",
                 "message": "Rollout does not have minimum availability",
                 "lastUpdateTime": T0, "lastTransitionTime": T0},
                {"type": "Completed", "status": "True", "reason": "RolloutCompleted",
                 "message": "RolloutCompleted", "lastUpdateTime": T0, "lastTransitionTime": T0},
            ],
            "currentPodHash": h,
            "stableRS": h,
            "observedGeneration": "1",
            "phase": "Progressing",
            "message": "more replicas need to be updated",
            "selector": "app=foo",
        })
    );
    assert_eq!(world.spec_of(&name), 3);
    assert_eq!(selector(&world, "active"), "");
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(601)));

    // Pods not ready yet: nothing to do (the active Service waits for a saturated ReplicaSet).
    let plan = world.reconcile();
    assert!(plan.actions().next().is_none(), "{:?}", shape(&plan));

    // Pods ready: the active Service has no hash selector (initial deploy), so the update is
    // fast-tracked: no pause, the Service is adopted and switched.
    world.settle();
    let plan = world.reconcile();
    assert_eq!(
        shape(&plan),
        [
            "patch service active",
            "event SwitchService",
            "patch status"
        ]
    );
    assert_eq!(
        events(&plan),
        [(
            "SwitchService".into(),
            format!("Switched selector for service 'active' from '' to '{h}'")
        )]
    );
    let patch = &status_patches(&plan)[0];
    assert_eq!(patch["blueGreen"], json!({"activeSelector": h}));
    assert_eq!(patch["HPAReplicas"], 3);
    assert_eq!(patch["availableReplicas"], 3);
    assert_eq!(patch["readyReplicas"], 3);
    assert_eq!(patch["updatedReplicas"], 3);
    assert_eq!(
        patch["selector"],
        format!("app=foo,{}={h}", keys::POD_TEMPLATE_HASH)
    );
    assert_eq!(patch["phase"], "Healthy");
    assert_eq!(patch["message"], serde_json::Value::Null);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert_eq!(selector(&world, "active"), h);
    assert_eq!(
        world.services["active"]
            .metadata
            .annotations
            .as_ref()
            .unwrap()[keys::MANAGED_BY_ROLLOUTS],
        "foo"
    );
    assert_eq!(
        world.conditions(),
        [
            (
                "Completed".into(),
                "True".into(),
                "RolloutCompleted".into(),
                "RolloutCompleted".into()
            ),
            (
                "Healthy".into(),
                "True".into(),
                "RolloutHealthy".into(),
                "Rollout is healthy".into()
            ),
            (
                "Progressing".into(),
                "True".into(),
                "NewReplicaSetAvailable".into(),
                format!("ReplicaSet \"{name}\" has successfully progressed.")
            ),
            (
                "Available".into(),
                "True".into(),
                "AvailableReason".into(),
                "Rollout has minimum availability".into()
            ),
        ]
    );
    assert_eq!(plan.requeue_after, None);

    // At rest: nothing planned, no requeue, also much later.
    world.advance(3600);
    let plan = world.reconcile();
    assert!(plan.items.is_empty(), "{:?}", shape(&plan));
    assert_eq!(plan.requeue_after, None);
    assert_eq!(
        world
            .events
            .iter()
            .map(|e| e.reason.as_str())
            .collect::<Vec<_>>(),
        [
            "RolloutUpdated",
            "NewReplicaSetCreated",
            "SwitchService",
            "ScalingReplicaSet",
            "RolloutCompleted",
            "SwitchService"
        ]
    );
}

#[test]
fn a_rollout_without_preview_service_only_switches_the_active_one() {
    let mut world = bg_world(2, |s| s.preview_service = None);
    world.services.remove("preview");
    let plans = world.run_to_rest(10);
    let switches: Vec<String> = plans
        .iter()
        .flat_map(events)
        .filter(|e| e.0 == "SwitchService")
        .map(|e| e.1)
        .collect();
    let h = hash(&world.rollout);
    assert_eq!(
        switches,
        [format!(
            "Switched selector for service 'active' from '' to '{h}'"
        )]
    );
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert_eq!(
        world.status().blue_green.as_ref().unwrap().preview_selector,
        None
    );
}

#[test]
fn an_update_without_auto_promotion_previews_then_pauses() {
    let mut world = healthy_bg(3, |s| s.auto_promotion_enabled = Some(false));
    let v1 = rs_name(&world.rollout);
    let h1 = hash(&world.rollout);
    world.advance(100);
    set_image(&mut world.rollout, "app:v2");
    let v2 = rs_name(&world.rollout);
    let h2 = hash(&world.rollout);

    // Template change: the new ReplicaSet is created, the preview Service moves to it at once
    // (no availability check), and the reset status is all that is written.
    let plan = world.reconcile();
    assert_eq!(
        shape(&plan),
        [
            format!("create {v2}"),
            "patch rollout".into(),
            "event RolloutUpdated".into(),
            "event NewReplicaSetCreated".into(),
            "patch status".into(),
            "patch service preview".into(),
            "event SwitchService".into(),
            "event RolloutNotCompleted".into(),
            "patch status".into(),
        ]
    );
    assert_eq!(
        events(&plan)[2],
        (
            "SwitchService".into(),
            format!("Switched selector for service 'preview' from '{h1}' to '{h2}'")
        )
    );
    assert_eq!(world.spec_of(&v2), 0);
    assert_eq!(selector(&world, "preview"), h2);
    assert_eq!(selector(&world, "active"), h1);
    let bg = world.status().blue_green.clone().unwrap();
    assert_eq!(
        (
            bg.active_selector.as_deref(),
            bg.preview_selector.as_deref()
        ),
        (Some(h1.as_str()), Some(h2.as_str()))
    );
    assert_eq!(
        world.phase(),
        (
            "Progressing".into(),
            "more replicas need to be updated".into()
        )
    );
    // HPA fields follow the active ReplicaSet.
    assert_eq!(world.status().hpa_replicas, Some(3));
    assert_eq!(
        world.status().selector.as_deref(),
        Some(format!("app=foo,{}={h1}", keys::POD_TEMPLATE_HASH).as_str())
    );

    // Next: the preview ReplicaSet is scaled to full size (no previewReplicaCount).
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 3)]);
    assert_eq!(selector(&world, "active"), h1);

    // Pods ready: the controller pauses (autoPromotionEnabled: false); active stays on v1.
    world.settle();
    world.advance(5);
    let plan = world.reconcile();
    assert_eq!(shape(&plan), ["patch status", "event RolloutPaused"]);
    assert_eq!(
        events(&plan),
        [(
            "RolloutPaused".into(),
            "Rollout is paused (BlueGreenPause)".into()
        )]
    );
    let patch = &status_patches(&plan)[0];
    assert_eq!(
        patch["pauseConditions"],
        json!([{"reason": "BlueGreenPause", "startTime": "2026-01-01T00:01:45Z"}])
    );
    assert_eq!(patch["controllerPause"], true);
    assert_eq!(patch["phase"], "Paused");
    assert_eq!(patch["message"], "BlueGreenPause");
    assert_eq!(world.phase(), ("Paused".into(), "BlueGreenPause".into()));
    assert_eq!(plan.requeue_after, None, "an indefinite pause");

    // The next reconcile records the pause in the Progressing/Paused conditions, then rests.
    let plan = world.reconcile();
    let patch = &status_patches(&plan)[0];
    let reasons: Vec<&str> = patch["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"RolloutPaused"), "{reasons:?}");
    let plans = world.run_to_rest(5);
    assert!(plans.last().unwrap().items.is_empty());
    assert_eq!((world.spec_of(&v1), world.spec_of(&v2)), (3, 3));
    assert_eq!(selector(&world, "active"), h1);
    assert_eq!(pause_reasons(&world), ["BlueGreenPause"]);
}

#[test]
fn promote_switches_the_active_service_and_scales_the_old_stack_down_after_the_delay() {
    let (mut world, v1, v2) = paused_update(|_| {});
    let h2 = hash(&world.rollout);
    let h1 = selector(&world, "active");

    // `kubectl argo rollouts promote`: pause conditions cleared, controllerPause left true.
    world.now = crate::reconcile::tests::harness::at(200);
    world.rollout.status.as_mut().unwrap().pause_conditions = None;
    let plan = world.reconcile();
    assert_eq!(
        shape(&plan),
        [
            "patch status",
            "patch service active",
            "event SwitchService",
            "event RolloutCompleted",
            "patch status"
        ]
    );
    assert_eq!(
        events(&plan),
        [
            (
                "SwitchService".into(),
                format!("Switched selector for service 'active' from '{h1}' to '{h2}'")
            ),
            (
                "RolloutCompleted".into(),
                format!(
                    "Rollout completed update to revision 2 ({h2}): Completed blue-green update"
                )
            ),
        ]
    );
    let mut patch = status_patches(&plan).pop().unwrap();
    patch.as_object_mut().unwrap().remove("conditions");
    assert_eq!(
        patch,
        json!({
            "blueGreen": {"activeSelector": h2},
            "stableRS": h2,
            "controllerPause": null,
            "selector": format!("app=foo,{}={h2}", keys::POD_TEMPLATE_HASH),
            "phase": "Healthy",
            "message": null,
        })
    );
    // A user resume emits no RolloutResumed; controllerPause goes back to false.
    let status = world.status();
    assert_eq!(status.stable_rs.as_deref(), Some(h2.as_str()));
    assert_eq!(status.controller_pause, None);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert_eq!(world.spec_of(&v1), 3, "the old stack is still up");

    // Next reconcile: the old ReplicaSet gets its scale-down deadline (30 s by default) and the
    // rollout is looked at again then.
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 3)], "the annotation only");
    assert_eq!(
        deadline(&world, &v1).as_deref(),
        Some("2026-01-01T00:03:50Z")
    );
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(30)));

    // Inside the delay: kept, looked at again at the deadline.
    world.advance(10);
    let plan = world.reconcile();
    assert!(scaled(&plan).is_empty());
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(20)));

    // At the deadline: scaled to 0, the deadline annotation dropped.
    world.advance(20);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v1.clone(), 0)]);
    assert_eq!(
        events(&plan),
        [(
            "ScalingReplicaSet".into(),
            format!("Scaled down ReplicaSet {v1} (revision 1) from 3 to 0")
        )]
    );
    assert_eq!(deadline(&world, &v1), None);
    let plans = world.run_to_rest(5);
    assert!(plans.last().unwrap().items.is_empty());
    assert_eq!((world.spec_of(&v1), world.spec_of(&v2)), (0, 3));
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert_eq!(world.status().replicas, Some(3));
}

#[test]
fn default_auto_promotion_switches_as_soon_as_the_new_replica_set_is_saturated() {
    let mut world = healthy_bg(2, |_| {});
    let v1 = rs_name(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    let h2 = hash(&world.rollout);
    world.reconcile();
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(rs_name(&world.rollout), 2)]);

    // Not available yet: no switch.
    let plan = world.reconcile();
    assert!(plan.actions().next().is_none());

    world.settle();
    let plan = world.reconcile();
    let reasons: Vec<String> = events(&plan).into_iter().map(|e| e.0).collect();
    assert_eq!(reasons, ["SwitchService", "RolloutCompleted"]);
    assert_eq!(selector(&world, "active"), h2);
    assert!(world.status().pause_conditions.is_none(), "never paused");
    assert_eq!(world.spec_of(&v1), 2);
}

#[test]
fn auto_promotion_seconds_pauses_then_resumes_by_itself() {
    let mut world = healthy_bg(3, |s| s.auto_promotion_seconds = Some(30));
    let h1 = hash(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    let h2 = hash(&world.rollout);
    world.reconcile();
    world.reconcile();
    world.settle();
    world.now = at(10);

    // Ready: paused, and the end of the pause is scheduled at once.
    let plan = world.reconcile();
    assert_eq!(
        events(&plan),
        [(
            "RolloutPaused".into(),
            "Rollout is paused (BlueGreenPause)".into()
        )]
    );
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(30)));
    assert_eq!(selector(&world, "active"), h1);

    // Midway: still paused, looked at again when the pause ends.
    world.now = at(25);
    let plan = world.reconcile();
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(15)));
    assert_eq!(selector(&world, "active"), h1);
    assert_eq!(pause_reasons(&world), ["BlueGreenPause"]);

    // Past autoPromotionSeconds: the controller removes its pause (RolloutResumed, since it did
    // it itself), switches the active Service and promotes.
    world.now = at(41);
    let plan = world.reconcile();
    let reasons: Vec<String> = events(&plan).into_iter().map(|e| e.0).collect();
    assert_eq!(
        reasons,
        ["SwitchService", "RolloutCompleted", "RolloutResumed"]
    );
    // Argo's own expectation for this reconcile (`AutoPromoteAfterDelayTimePasses`), conditions
    // aside.
    let mut patch = status_patches(&plan).pop().unwrap();
    patch.as_object_mut().unwrap().remove("conditions");
    assert_eq!(
        patch,
        json!({
            "blueGreen": {"activeSelector": h2},
            "stableRS": h2,
            "pauseConditions": null,
            "controllerPause": null,
            "selector": format!("app=foo,{}={h2}", keys::POD_TEMPLATE_HASH),
            "phase": "Healthy",
            "message": null,
        })
    );
    assert_eq!(selector(&world, "active"), h2);
    assert_eq!(world.status().stable_rs.as_deref(), Some(h2.as_str()));
    assert!(world.status().pause_conditions.is_none());
    world.run_to_rest(5);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
}

#[test]
fn preview_replica_count_keeps_the_preview_small_until_promoted() {
    let (mut world, v1, v2) = paused_update(|s| s.preview_replica_count = Some(1));
    let h1 = world.status().stable_rs.clone().unwrap();
    let h2 = hash(&world.rollout);
    assert_eq!((world.spec_of(&v1), world.spec_of(&v2)), (3, 1));
    assert_eq!(selector(&world, "preview"), h2);
    assert_eq!(selector(&world, "active"), h1);
    assert_eq!(world.status().available_replicas, Some(3), "of the active");

    // Promote: the checkpoint is passed (preview count available, pause over); the active
    // Service does not move yet because the new ReplicaSet is not saturated.
    world.rollout.status.as_mut().unwrap().pause_conditions = None;
    let plan = world.reconcile();
    assert!(scaled(&plan).is_empty());
    assert!(!shape(&plan).contains(&"patch service active".to_string()));
    let bg = world.status().blue_green.clone().unwrap();
    assert_eq!(bg.scale_up_preview_check_point, Some(true));
    assert_eq!(world.status().controller_pause, None);

    // Then the new ReplicaSet grows to full size...
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 3)]);
    assert_eq!(selector(&world, "active"), h1);

    // ...and once saturated the active Service switches; promotion resets the checkpoint.
    world.settle();
    let plan = world.reconcile();
    let reasons: Vec<String> = events(&plan).into_iter().map(|e| e.0).collect();
    assert_eq!(reasons, ["SwitchService", "RolloutCompleted"]);
    assert_eq!(selector(&world, "active"), h2);
    assert_eq!(
        world
            .status()
            .blue_green
            .as_ref()
            .unwrap()
            .scale_up_preview_check_point,
        None,
        "false is omitted on the wire"
    );
    world.run_to_rest(5);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
}

#[test]
fn promote_full_skips_the_pause_and_the_preview_count() {
    let (mut world, _, v2) = paused_update(|s| s.preview_replica_count = Some(1));
    let h2 = hash(&world.rollout);
    // `kubectl argo rollouts promote --full`.
    world.rollout.status.as_mut().unwrap().promote_full = Some(true);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(v2.clone(), 3)]);
    world.settle();
    let plan = world.reconcile();
    let messages: Vec<(String, String)> = events(&plan);
    assert!(
        messages.contains(&(
            "RolloutCompleted".into(),
            format!("Rollout completed update to revision 2 ({h2}): Full promotion requested")
        )),
        "{messages:?}"
    );
    assert_eq!(selector(&world, "active"), h2);
    let status = world.status();
    assert_eq!(status.promote_full, None, "reset once promoted");
    assert!(status.pause_conditions.is_none());
}
