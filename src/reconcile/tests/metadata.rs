//! Ephemeral metadata (`canaryMetadata`/`stableMetadata`, `previewMetadata`/`activeMetadata`):
//! the pod templates of the ReplicaSets and the existing pods, through an update, a promotion,
//! and changes of the metadata itself. Pods are simulated ([`World::simulate_pods`]).

use std::collections::BTreeMap;

use serde_json::json;

use super::harness::*;
use crate::{
    crd::{BlueGreenStrategy, PodTemplateMetadata, RolloutStrategy, rollout::keys},
    plan::{Action, Plan},
};

fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn role(value: &str) -> Option<PodTemplateMetadata> {
    Some(PodTemplateMetadata {
        labels: labels(&[("role", value)]),
        annotations: None,
    })
}

/// A canary of 4 (setWeight 25, pause) with `role: canary` / `role: stable`, pods simulated,
/// at rest after its initial deploy. Returns the world and the v1 ReplicaSet's name.
fn healthy_canary() -> (World, String) {
    let mut ro = rollout(4, Some(vec![weight(25), pause()]));
    let canary = ro.spec.strategy.canary.as_mut().unwrap();
    canary.canary_metadata = role("canary");
    canary.stable_metadata = role("stable");
    let mut world = World::new(ro);
    world.simulate_pods = true;
    world.run_to_rest(10);
    world.sync_pods();
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    let v1 = rs_name(&world.rollout);
    (world, v1)
}

/// The `role` label of the pod template of ReplicaSet `rs`.
fn template_role(world: &World, rs: &str) -> Option<String> {
    world
        .rs_named(rs)
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref())
        .and_then(|l| l.get("role"))
        .cloned()
}

fn ephemeral_annotation(world: &World, rs: &str) -> Option<String> {
    world
        .rs_named(rs)
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::EPHEMERAL_METADATA))
        .cloned()
}

/// The roles of the pods of `rs`, in name order.
fn pod_roles(world: &World, rs: &str) -> Vec<Option<String>> {
    world
        .pod_labels(rs, "role")
        .into_iter()
        .map(|(_, role)| role)
        .collect()
}

fn roles(value: &str, n: usize) -> Vec<Option<String>> {
    vec![Some(value.to_string()); n]
}

/// `(pod, patch)` of every pod patch of a plan.
fn pod_patches(plan: &Plan) -> Vec<(String, serde_json::Value)> {
    plan.actions()
        .filter_map(|a| match a {
            Action::PatchPod { name, patch } => Some((name.clone(), patch.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn initial_deploy_gives_the_first_replica_set_and_its_pods_the_stable_metadata() {
    let (world, v1) = healthy_canary();
    // No stable yet when it was created: it is going to be the stable one.
    assert_eq!(template_role(&world, &v1).as_deref(), Some("stable"));
    assert_eq!(
        ephemeral_annotation(&world, &v1).as_deref(),
        Some(r#"{"labels":{"role":"stable"}}"#)
    );
    assert_eq!(pod_roles(&world, &v1), roles("stable", 4));
    // At rest nothing is written: neither the ReplicaSet nor a pod.
    assert!(world.plan().actions().next().is_none());
}

#[test]
fn an_update_labels_the_canary_canary_and_the_stable_stable_and_promotion_swaps_them() {
    let (mut world, v1) = healthy_canary();
    set_image(&mut world.rollout, "app:v2");
    let v2 = rs_name(&world.rollout);
    world.run_to_rest(10);
    world.sync_pods();
    assert_eq!(world.phase(), ("Paused".into(), "CanaryPauseStep".into()));

    // The new ReplicaSet is created with the canary metadata; its pod is a canary.
    assert_eq!(template_role(&world, &v2).as_deref(), Some("canary"));
    assert_eq!(
        ephemeral_annotation(&world, &v2).as_deref(),
        Some(r#"{"labels":{"role":"canary"}}"#)
    );
    assert_eq!(pod_roles(&world, &v2), roles("canary", 1));
    // The stable keeps its stable metadata and pods.
    assert_eq!(template_role(&world, &v1).as_deref(), Some("stable"));
    assert_eq!(pod_roles(&world, &v1), roles("stable", 3));

    // Promote: the promotion itself only writes the status (stableRS = v2).
    world.rollout.status.as_mut().unwrap().pause_conditions = None;
    world.settle();
    let mut promoted = false;
    for _ in 0..10 {
        let plan = world.reconcile();
        if world.status().stable_rs.as_deref() == Some(hash(&world.rollout).as_str()) {
            promoted = true;
            break;
        }
        assert!(pod_patches(&plan).is_empty(), "{:?}", shape(&plan));
        world.settle();
    }
    assert!(promoted);

    // The next reconcile swaps the metadata: v2 becomes stable (template first, then its
    // pods), v1 (now neither new nor stable, already drained) loses what was injected.
    world.settle();
    assert!(world.pod_labels(&v1, "role").is_empty());
    let plan = world.reconcile();
    let mut expected = vec![format!("update {v2} replicas=4")];
    expected.extend((0..4).map(|i| format!("patch pod {v2}-{i}")));
    expected.push(format!("update {v1} replicas=0"));
    assert_eq!(shape(&plan), expected);
    for (_, patch) in pod_patches(&plan) {
        assert_eq!(patch, json!({"metadata": {"labels": {"role": "stable"}}}));
    }

    world.run_to_rest(10);
    world.sync_pods();
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert_eq!(template_role(&world, &v2).as_deref(), Some("stable"));
    assert_eq!(
        ephemeral_annotation(&world, &v2).as_deref(),
        Some(r#"{"labels":{"role":"stable"}}"#)
    );
    assert_eq!(pod_roles(&world, &v2), roles("stable", 4));
    // The old ReplicaSet lost its injected metadata (and keeps its own labels).
    assert_eq!(template_role(&world, &v1), None);
    assert_eq!(ephemeral_annotation(&world, &v1), None);
    let v1_template = world.rs_named(&v1).spec.as_ref().unwrap().template.clone();
    let v1_labels = v1_template.unwrap().metadata.unwrap().labels.unwrap();
    assert_eq!(v1_labels.get("app").map(String::as_str), Some("foo"));
    assert!(world.plan().actions().next().is_none());
}

#[test]
fn metadata_added_later_reaches_the_existing_pods_and_leaves_foreign_keys_alone() {
    let mut world = World::new(rollout(3, Some(vec![weight(50), pause()])));
    world.simulate_pods = true;
    world.run_to_rest(10);
    world.sync_pods();
    let v1 = rs_name(&world.rollout);
    assert_eq!(pod_roles(&world, &v1), vec![None; 3]);
    // Someone else labels one pod, and sets `role` on another by hand.
    world.pods[0]
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("team".into(), "a".into());
    world.pods[1]
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("role".into(), "manual".into());

    // stableMetadata appears in the spec (no template or step change).
    let canary = world.rollout.spec.strategy.canary.as_mut().unwrap();
    canary.stable_metadata = Some(PodTemplateMetadata {
        labels: labels(&[("role", "stable")]),
        annotations: labels(&[("note", "x")]),
    });
    bump(&mut world.rollout);
    let plan = world.reconcile();
    let pods: Vec<String> = world
        .pod_labels(&v1, "role")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut expected = vec![format!("update {v1} replicas=3")];
    expected.extend(pods.iter().map(|p| format!("patch pod {p}")));
    expected.push("patch status".into());
    assert_eq!(shape(&plan), expected);
    assert_eq!(
        pod_patches(&plan)[0].1,
        json!({"metadata": {"labels": {"role": "stable"}, "annotations": {"note": "x"}}})
    );
    assert_eq!(
        ephemeral_annotation(&world, &v1).as_deref(),
        Some(r#"{"labels":{"role":"stable"},"annotations":{"note":"x"}}"#)
    );
    assert_eq!(pod_roles(&world, &v1), roles("stable", 3));
    assert_eq!(
        world.pods[0].metadata.labels.as_ref().unwrap()["team"],
        "a",
        "a key the controller never injected stays"
    );
    // (The generation bump settles in the status on the next pass; no pod is written again.)
    for plan in world.run_to_rest(5) {
        assert!(pod_patches(&plan).is_empty());
    }

    // The metadata goes again: exactly the injected keys are removed.
    world
        .rollout
        .spec
        .strategy
        .canary
        .as_mut()
        .unwrap()
        .stable_metadata = None;
    bump(&mut world.rollout);
    let plan = world.reconcile();
    assert_eq!(
        pod_patches(&plan)[0].1,
        json!({"metadata": {"labels": {"role": null}, "annotations": {"note": null}}})
    );
    assert_eq!(pod_roles(&world, &v1), vec![None; 3]);
    assert_eq!(ephemeral_annotation(&world, &v1), None);
    assert_eq!(world.pods[0].metadata.labels.as_ref().unwrap()["team"], "a");
    for plan in world.run_to_rest(5) {
        assert!(pod_patches(&plan).is_empty());
    }
}

#[test]
fn a_pod_that_missed_its_patch_is_patched_on_the_next_reconcile() {
    let (mut world, v1) = healthy_canary();
    // A pod created before the template had the label (or a patch that failed).
    let pod = &mut world.pods[2];
    pod.metadata.labels.as_mut().unwrap().remove("role");
    let name = pod.metadata.name.clone().unwrap();
    let plan = world.reconcile();
    assert_eq!(shape(&plan), [format!("patch pod {name}")]);
    assert_eq!(pod_roles(&world, &v1), roles("stable", 4));
}

#[test]
fn blue_green_preview_and_active_metadata_follow_the_promotion() {
    let mut ro = rollout(3, None);
    ro.spec.strategy = RolloutStrategy {
        blue_green: Some(BlueGreenStrategy {
            active_service: "active".into(),
            preview_service: Some("preview".into()),
            auto_promotion_enabled: Some(false),
            preview_metadata: role("preview"),
            active_metadata: role("active"),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut world = World::new(ro);
    world.simulate_pods = true;
    for name in ["active", "preview"] {
        world
            .services
            .insert(name.into(), service(name, None, None));
    }
    world.run_to_rest(10);
    world.sync_pods();
    let v1 = rs_name(&world.rollout);
    assert_eq!(pod_roles(&world, &v1), roles("active", 3));

    set_image(&mut world.rollout, "app:v2");
    let v2 = rs_name(&world.rollout);
    world.run_to_rest(10);
    world.sync_pods();
    assert_eq!(world.phase(), ("Paused".into(), "BlueGreenPause".into()));
    assert_eq!(template_role(&world, &v2).as_deref(), Some("preview"));
    assert_eq!(pod_roles(&world, &v2), roles("preview", 3));
    assert_eq!(pod_roles(&world, &v1), roles("active", 3));

    // Promote: active switches, stableRS = v2; then the metadata swaps.
    world.rollout.status.as_mut().unwrap().pause_conditions = None;
    world.run_to_rest(10);
    world.sync_pods();
    assert_eq!(world.phase(), ("Healthy".into(), String::new()));
    assert_eq!(template_role(&world, &v2).as_deref(), Some("active"));
    assert_eq!(pod_roles(&world, &v2), roles("active", 3));
    // The old stack (scaled down after its delay) lost the injected metadata.
    assert_eq!(template_role(&world, &v1), None);
    assert_eq!(pod_roles(&world, &v1), vec![None; 3]);
    world.advance(60);
    world.run_to_rest(10);
    world.sync_pods();
    assert!(world.pod_labels(&v1, "role").is_empty());
}

#[test]
fn an_intermediate_canary_replaced_mid_update_loses_its_canary_metadata() {
    let (mut world, v1) = healthy_canary();
    set_image(&mut world.rollout, "app:v2");
    let v2 = rs_name(&world.rollout);
    world.run_to_rest(10);
    world.sync_pods();
    assert_eq!(pod_roles(&world, &v2), roles("canary", 1));

    // v3 while v2 is the canary: v2 becomes an "other" ReplicaSet.
    set_image(&mut world.rollout, "app:v3");
    let v3 = rs_name(&world.rollout);
    let plan = world.reconcile();
    assert!(
        pod_patches(&plan).is_empty(),
        "the template change only resets the status"
    );
    let plan = world.reconcile();
    let got = shape(&plan);
    let patch_at = got
        .iter()
        .position(|s| *s == format!("patch pod {v2}-0"))
        .unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(
        pod_patches(&plan),
        [(
            format!("{v2}-0"),
            json!({"metadata": {"labels": {"role": null}}})
        )]
    );
    // Its template loses the label first (Argo's order: the ReplicaSet, then its pods); the
    // canary v3 is scaled up after.
    assert_eq!(
        got[patch_at - 1],
        format!("update {v2} replicas=1"),
        "{got:?}"
    );
    assert!(
        got[patch_at..].contains(&format!("update {v3} replicas=1")),
        "{got:?}"
    );
    assert_eq!(template_role(&world, &v2), None);
    assert_eq!(ephemeral_annotation(&world, &v2), None);
    assert_eq!(pod_roles(&world, &v2), vec![None]);
    // The stable keeps its metadata, the new canary has the canary metadata.
    assert_eq!(template_role(&world, &v1).as_deref(), Some("stable"));
    assert_eq!(template_role(&world, &v3).as_deref(), Some("canary"));
    world.run_to_rest(10);
    world.sync_pods();
    assert_eq!(world.phase(), ("Paused".into(), "CanaryPauseStep".into()));
    assert_eq!(pod_roles(&world, &v3), roles("canary", 1));
    assert_eq!(pod_roles(&world, &v1), roles("stable", 3));
    assert!(world.pod_labels(&v2, "role").is_empty());
}
