//! First reconcile, initial deploy, steady state, and the top of sync (deletion, replicas
//! defaulting, revision bookkeeping).

use std::time::Duration;

use serde_json::json;

use super::harness::*;
use crate::{
    crd::rollout::keys,
    plan::{Action, EventKind},
};

fn steps() -> Option<Vec<crate::crd::CanaryStep>> {
    Some(vec![weight(20), pause(), weight(50), pause_secs(30)])
}

#[test]
fn first_reconcile_creates_the_replica_set_and_persists_only_the_reset_status() {
    let world = World::new(rollout(5, steps()));
    let plan = world.plan();
    let h = hash(&world.rollout);
    let name = format!("foo-{h}");

    assert_eq!(
        shape(&plan),
        [
            format!("create {name}"),
            "patch rollout".into(),
            "event RolloutUpdated".into(),
            "event NewReplicaSetCreated".into(),
            "patch status".into(),
            "event RolloutNotCompleted".into(),
            "patch status".into(),
        ]
    );
    assert_eq!(
        events(&plan),
        [
            (
                "RolloutUpdated".into(),
                "Rollout updated to revision 1".into()
            ),
            (
                "NewReplicaSetCreated".into(),
                format!("Created ReplicaSet {name} (revision 1)")
            ),
            (
                "RolloutNotCompleted".into(),
                format!("Rollout not completed, started update to revision 1 ({h})")
            ),
        ]
    );
    assert!(plan.events().all(|e| e.kind == EventKind::Normal));

    // The ReplicaSet: 0 replicas, hash in name/labels/selector, revision and desired replicas.
    let Some(Action::CreateReplicaSet(rs)) = plan.actions().next() else {
        panic!("create first")
    };
    let rs_json = serde_json::to_value(&**rs).unwrap();
    assert_eq!(rs_json["spec"]["replicas"], 0);
    assert_eq!(
        rs_json["metadata"]["labels"],
        json!({"app": "foo", keys::POD_TEMPLATE_HASH: h})
    );
    assert_eq!(
        rs_json["spec"]["selector"]["matchLabels"],
        json!({"app": "foo", keys::POD_TEMPLATE_HASH: h})
    );
    assert_eq!(
        rs_json["spec"]["template"]["metadata"]["labels"][keys::POD_TEMPLATE_HASH],
        h
    );
    assert_eq!(
        rs_json["metadata"]["annotations"],
        json!({keys::REVISION: "1", keys::DESIRED_REPLICAS: "5"})
    );
    assert_eq!(
        rs_json["metadata"]["ownerReferences"][0]["uid"],
        "rollout-uid"
    );
    assert_eq!(
        rs_json["metadata"]["ownerReferences"][0]["controller"],
        true
    );

    let Some(Action::PatchRollout(annotation)) = plan.actions().nth(1) else {
        panic!("revision patch")
    };
    assert_eq!(
        annotation,
        &json!({"metadata": {"annotations": {keys::REVISION: "1"}}})
    );

    let patches = status_patches(&plan);
    assert_eq!(
        patches[0],
        json!({"conditions": [{
            "type": "Progressing", "status": "True", "reason": "NewReplicaSetCreated",
            "message": format!("Created new replica set \"{name}\""),
            "lastUpdateTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"
        }]})
    );
    let t = "2026-01-01T00:00:00Z";
    assert_eq!(
        patches[1],
        json!({
            "conditions": [
                {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                 "message": format!("ReplicaSet \"{name}\" is progressing."), "lastUpdateTime": t, "lastTransitionTime": t},
                {"type": "Available", "status": "False", "reason": "AvailableReason",
                 "message": "Rollout does not have minimum availability", "lastUpdateTime": t, "lastTransitionTime": t},
                {"type": "Completed", "status": "False", "reason": "RolloutCompleted",
                 "message": "RolloutCompleted", "lastUpdateTime": t, "lastTransitionTime": t},
            ],
            "currentPodHash": h,
            "currentStepHash": crate::reconcile::hashing::step_hash(&world.rollout),
            "currentStepIndex": 0,
            "observedGeneration": "1",
            "phase": "Progressing",
            "message": "more replicas need to be updated",
            "selector": "app=foo",
        })
    );
    // The progress deadline of the new Progressing condition: 600 s (+1 s skew margin).
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(601)));
}

#[test]
fn initial_deploy_scales_straight_to_replicas_and_completes_before_pods_are_ready() {
    let mut world = World::new(rollout(5, steps()));
    world.reconcile();
    let h = hash(&world.rollout);
    let name = format!("foo-{h}");

    // Second reconcile: the steps do not apply to an initial deploy.
    let plan = world.reconcile();
    assert_eq!(
        shape(&plan),
        [
            format!("update {name} replicas=5"),
            "event ScalingReplicaSet".into(),
            "event RolloutCompleted".into(),
            "patch status".into(),
        ]
    );
    assert_eq!(
        events(&plan),
        [
            (
                "ScalingReplicaSet".into(),
                format!("Scaled up ReplicaSet {name} (revision 1) from 0 to 5")
            ),
            (
                "RolloutCompleted".into(),
                format!("Rollout completed update to revision 1 ({h}): Initial deploy")
            ),
        ]
    );
    let status = world.status();
    assert_eq!(status.stable_rs.as_deref(), Some(h.as_str()));
    assert_eq!(
        status.current_step_index,
        Some(4),
        "every step counts as done"
    );
    assert_eq!(world.spec_of(&name), 5);
    assert_eq!(
        world
            .conditions()
            .iter()
            .map(|c| (c.0.as_str(), c.1.as_str()))
            .collect::<Vec<_>>(),
        [
            ("Available", "False"),
            ("Progressing", "True"),
            ("Completed", "True")
        ]
    );
    assert_eq!(
        world.phase(),
        (
            "Progressing".into(),
            "more replicas need to be updated".into()
        )
    );

    // Pods come up: Healthy, with Argo's exact condition order and messages.
    world.settle();
    let plan = world.reconcile();
    assert_eq!(shape(&plan), ["patch status"]);
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
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
    let status = world.status();
    assert_eq!(
        (
            status.replicas,
            status.updated_replicas,
            status.ready_replicas,
            status.available_replicas,
            status.hpa_replicas
        ),
        (Some(5), Some(5), Some(5), Some(5), Some(5))
    );
    assert_eq!(plan.requeue_after, None, "nothing pending once healthy");
}

#[test]
fn healthy_rollout_plans_nothing_and_is_not_requeued() {
    let mut world = healthy_world(5, steps());
    for _ in 0..3 {
        world.advance(3600);
        let plan = world.reconcile();
        assert!(plan.items.is_empty(), "no hot loop: {:?}", shape(&plan));
        assert_eq!(plan.requeue_after, None);
    }
    assert_eq!(
        world
            .events
            .iter()
            .map(|e| e.reason.as_str())
            .collect::<Vec<_>>(),
        [
            "RolloutUpdated",
            "NewReplicaSetCreated",
            "RolloutNotCompleted",
            "ScalingReplicaSet",
            "RolloutCompleted"
        ],
        "Argo's golden event order of a first deploy"
    );
}

#[test]
fn a_rollout_without_steps_completes_with_zero_steps() {
    let mut world = World::new(rollout(3, None));
    let plans = world.run_to_rest(10);
    assert!(world.status().current_step_index.is_none());
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert!(
        plans
            .iter()
            .flat_map(events)
            .any(|(r, m)| r == "RolloutCompleted" && m.ends_with(": Initial deploy"))
    );
    // A canary without steps hashes its (absent) steps as `null`.
    assert_eq!(
        world.status().current_step_hash.as_deref(),
        Some("5ffbfbbd64")
    );
}

#[test]
fn a_rollout_being_deleted_is_left_alone() {
    let mut ro = rollout(5, steps());
    ro.metadata.deletion_timestamp = Some(time(0));
    let plan = World::new(ro).plan();
    assert!(plan.items.is_empty());
    assert_eq!(plan.requeue_after, None);
}

#[test]
fn unset_replicas_are_defaulted_after_the_replica_set_is_created() {
    let mut ro = rollout(5, steps());
    ro.spec.replicas = None;
    let mut world = World::new(ro);
    let plan = world.reconcile();
    assert_eq!(
        shape(&plan)[..],
        [
            format!("create {}", rs_name(&world.rollout)),
            "patch rollout".into(),
            "event RolloutUpdated".into(),
            "event NewReplicaSetCreated".into(),
            "patch status".into(),
            "patch rollout".into(),
        ]
    );
    let Some(Action::PatchRollout(patch)) = plan.actions().last() else {
        panic!()
    };
    assert_eq!(patch, &json!({"spec": {"replicas": 1}}));
    assert_eq!(world.rollout.spec.replicas, Some(1));
    // The created ReplicaSet recorded the default of 1 as its desired replicas.
    assert_eq!(
        world.current_rs().metadata.annotations.as_ref().unwrap()[keys::DESIRED_REPLICAS],
        "1"
    );
}

#[test]
fn an_existing_replica_set_without_progressing_condition_is_found_not_created() {
    // E.g. a controller swap: the ReplicaSet exists, the status has no conditions yet.
    let ro = rollout(3, steps());
    let rs = replica_set(&ro, 1, 0, 3, 3);
    let mut world = World::new(ro);
    world.rss.push(rs.clone());
    let plan = world.plan();
    assert!(!shape(&plan).iter().any(|s| s.starts_with("create")));
    let patches = status_patches(&plan);
    assert_eq!(patches[0]["conditions"][0]["reason"], "FoundNewReplicaSet");
    assert_eq!(
        patches[0]["conditions"][0]["message"],
        format!("Found new replica set \"{}\"", rs.metadata.name.unwrap())
    );
}

#[test]
fn the_rollout_revision_follows_a_replica_set_whose_revision_was_bumped() {
    // Rollback to an older ReplicaSet: it gets max(older)+1, the history keeps the old revision,
    // and the Rollout's own revision follows on the next pass.
    let v1 = rollout(3, None);
    let mut v2 = v1.clone();
    set_image(&mut v2, "app:v2");
    let rs1 = replica_set(&v1, 1, 0, 0, 0);
    let rs2 = replica_set(&v2, 2, 10, 3, 3);
    let mut ro = v1.clone();
    ro.metadata.generation = Some(3);
    ro.metadata.annotations = Some([(keys::REVISION.to_string(), "2".to_string())].into());
    ro.status = Some(crate::crd::RolloutStatus {
        stable_rs: Some(hash(&v2)),
        current_pod_hash: Some(hash(&v2)),
        current_step_hash: Some(crate::reconcile::hashing::step_hash(&v1)),
        conditions: Some(vec![]),
        observed_generation: Some("2".into()),
        ..Default::default()
    });
    let mut world = World::new(ro);
    world.rss = vec![rs1.clone(), rs2];
    world.now = at(100);
    let plan = world.reconcile();
    let updated = world.rs_named(rs1.metadata.name.as_deref().unwrap());
    let annotations = updated.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations[keys::REVISION], "3");
    assert_eq!(annotations[keys::REVISION_HISTORY], "1");
    // This pass only rewrites the annotations (template changed: status-only reconcile).
    assert_eq!(scaled(&plan), [(rs1.metadata.name.clone().unwrap(), 0)]);
    assert!(
        events(&plan)
            .iter()
            .any(|(r, m)| r == "RolloutUpdated" && m == "Rollout updated to revision 3")
    );
    assert_eq!(
        world.rollout.metadata.annotations.as_ref().unwrap()[keys::REVISION],
        "3"
    );
    // The next pass scales it up; the event carries the new revision.
    let plan = world.reconcile();
    assert_eq!(
        events(&plan)[0],
        (
            "ScalingReplicaSet".into(),
            format!(
                "Scaled up ReplicaSet {} (revision 3) from 0 to 1",
                rs1.metadata.name.unwrap()
            )
        )
    );
}

#[test]
fn two_changes_to_one_replica_set_in_a_plan_are_one_write() {
    // A new Rollout annotation is copied onto the new ReplicaSet (revision sync) in the same
    // reconcile that scales it: one update carrying both, so the second write cannot fail on the
    // resourceVersion the first one bumped (the simulated apiserver rejects stale updates).
    let mut world = healthy_world(4, Some(vec![weight(50), pause()]));
    set_image(&mut world.rollout, "app:v2");
    world.reconcile();
    world.reconcile();
    world.settle();
    world
        .rollout
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert("team".into(), "payments".into());
    let plan = world.reconcile();
    let updates: Vec<_> = plan
        .actions()
        .filter_map(|a| match a {
            Action::UpdateReplicaSet(rs) => Some(rs),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 1, "{:?}", shape(&plan));
    let rs = updates[0];
    assert_eq!(
        rs.metadata.name.as_deref(),
        Some(rs_name(&world.rollout).as_str())
    );
    assert_eq!(
        rs.metadata.annotations.as_ref().unwrap()["team"],
        "payments"
    );
    assert_eq!(rs.spec.as_ref().unwrap().replicas, Some(2));
}

#[test]
fn a_foreign_replica_set_with_our_name_bumps_the_collision_count() {
    let ro = rollout(3, steps());
    let mut foreign = replica_set(&ro, 1, 0, 1, 1);
    foreign.metadata.owner_references.as_mut().unwrap()[0].uid = "someone-else".into();
    let taken = foreign.metadata.name.clone().unwrap();
    let mut world = World::new(ro);
    world.rss.push(foreign);

    let plan = world.reconcile();
    assert_eq!(shape(&plan), ["patch status"]);
    assert_eq!(status_patches(&plan), [json!({"collisionCount": 1})]);
    assert_eq!(plan.requeue_after, Some(Duration::ZERO));

    // The next pass hashes with the count and creates a differently named ReplicaSet.
    let plan = world.reconcile();
    let created = shape(&plan)[0].clone();
    assert!(
        created.starts_with("create foo-") && !created.ends_with(&taken),
        "{created}"
    );
    assert_eq!(world.status().collision_count, Some(1));
}

#[test]
fn a_scaling_event_only_rescales() {
    let mut world = healthy_world(5, steps());
    let name = rs_name(&world.rollout);
    world.rollout.spec.replicas = Some(7);
    bump(&mut world.rollout);
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(name.clone(), 7)]);
    assert_eq!(
        events(&plan),
        [(
            "ScalingReplicaSet".into(),
            format!("Scaled up ReplicaSet {name} (revision 1) from 5 to 7")
        )]
    );
    assert_eq!(
        world.rs_named(&name).metadata.annotations.as_ref().unwrap()[keys::DESIRED_REPLICAS],
        "7"
    );
    assert_eq!(
        world.phase(),
        (
            "Progressing".into(),
            "more replicas need to be updated".into()
        )
    );
    world.settle();
    world.reconcile();
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
}

#[test]
fn old_replica_sets_beyond_the_history_limit_are_deleted_once_scaled_down() {
    let mut ro = rollout(2, None);
    ro.spec.revision_history_limit = Some(1);
    let mut world = World::new(ro);
    world.run_to_rest(10);
    let mut names = vec![rs_name(&world.rollout)];
    for (i, image) in ["app:v2", "app:v3", "app:v4"].into_iter().enumerate() {
        set_image(&mut world.rollout, image);
        world.advance(60 * (i as i64 + 1));
        world.run_to_rest(20);
        names.push(rs_name(&world.rollout));
    }
    // v4 is new and stable; of v1..v3 only the newest old one is kept.
    let left: Vec<_> = world
        .rss
        .iter()
        .map(|rs| rs.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(left, [names[2].clone(), names[3].clone()]);
}

#[test]
fn the_new_replica_set_keeps_off_the_stable_nodes_with_anti_affinity() {
    use crate::crd::{AntiAffinity, PreferredDuringSchedulingIgnoredDuringExecution};
    let mut ro = rollout(3, steps());
    ro.spec.strategy.canary.as_mut().unwrap().anti_affinity = Some(AntiAffinity {
        preferred_during_scheduling_ignored_during_execution: Some(
            PreferredDuringSchedulingIgnoredDuringExecution { weight: 50 },
        ),
        ..Default::default()
    });
    let mut world = World::new(ro);
    world.run_to_rest(10);
    let h1 = hash(&world.rollout);
    let initial = world
        .current_rs()
        .spec
        .as_ref()
        .unwrap()
        .template
        .as_ref()
        .unwrap();
    assert!(
        initial.spec.as_ref().unwrap().affinity.is_none(),
        "no stable yet: nothing to avoid"
    );

    set_image(&mut world.rollout, "app:v2");
    let plan = world.plan();
    let Some(Action::CreateReplicaSet(rs)) = plan.actions().next() else {
        panic!("create")
    };
    let affinity = serde_json::to_value(
        &rs.spec
            .as_ref()
            .unwrap()
            .template
            .as_ref()
            .unwrap()
            .spec
            .as_ref()
            .unwrap()
            .affinity,
    )
    .unwrap();
    assert_eq!(
        affinity,
        json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 50,
            "podAffinityTerm": {
                "labelSelector": {"matchExpressions": [{"key": keys::POD_TEMPLATE_HASH, "operator": "In", "values": [h1]}]},
                "namespaces": ["default"],
                "topologyKey": "kubernetes.io/hostname"
            }
        }]}})
    );
}

/// A Rollout re-created over the ReplicaSets of its predecessor (deleted with
/// `--cascade=orphan`, or a Deployment replaced the same way): the orphan that matches the
/// selector is adopted and used, not duplicated; one owned by something else is left alone.
#[test]
fn orphaned_replica_sets_matching_the_selector_are_adopted() {
    let ro = rollout(3, steps());
    let mut orphan = replica_set(&ro, 1, 0, 3, 3);
    orphan.metadata.owner_references = None;
    let mut foreign = replica_set(&ro, 1, 0, 2, 2);
    foreign.metadata.name = Some("someone-else".into());
    foreign.metadata.uid = Some("uid-someone-else".into());
    foreign.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            uid: "deployment-uid".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        },
    ]);
    let mut world = World::new(ro);
    world.rss = vec![orphan, foreign];
    let name = rs_name(&world.rollout);
    let plan = world.reconcile();
    let shape = shape(&plan);
    assert_eq!(shape[0], format!("adopt {name}"), "{shape:?}");
    assert!(
        !shape.iter().any(|s| s.starts_with("create ")),
        "the adopted ReplicaSet is the new one: {shape:?}"
    );
    let owners = world
        .rs_named(&name)
        .metadata
        .owner_references
        .clone()
        .unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].uid, "rollout-uid");
    assert_eq!(owners[0].controller, Some(true));
    world.run_to_rest(10);
    assert_eq!(world.phase().0, "Healthy");
    assert_eq!(world.spec_of(&name), 3);
    assert_eq!(world.spec_of("someone-else"), 2, "never touched");
    assert_eq!(
        world
            .rs_named("someone-else")
            .metadata
            .owner_references
            .as_ref()
            .unwrap()[0]
            .uid,
        "deployment-uid"
    );
}

/// A ReplicaSet of ours whose labels were edited so that the selector no longer matches is
/// released (our controller reference removed) and no longer managed.
#[test]
fn owned_replica_sets_that_stop_matching_are_released() {
    let mut world = healthy_world(2, steps());
    let name = rs_name(&world.rollout);
    world.rss[0]
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("app".into(), "other".into());
    let plan = world.reconcile();
    assert_eq!(shape(&plan)[0], format!("release {name}"));
    assert!(
        world
            .rs_named(&name)
            .metadata
            .owner_references
            .as_ref()
            .unwrap()
            .is_empty(),
        "controller reference removed"
    );
}
