//! Hot pure code: planning one reconcile and hashing a pod template (`make bench`).
//! Targets (issue): a plan under 20 µs, a hash under 20 µs for a typical template.

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use k8s_openapi::api::{
    apps::v1::{ReplicaSet, ReplicaSetStatus},
    core::v1::Service,
};
use rollouts::{
    crd::Rollout,
    plan::{Action, Observed, PlannerConfig},
    replicaset::hash,
};
use serde_json::{Value, json};

fn template(image: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": "checkout", "team": "payments"}, "annotations": {"prometheus.io/scrape": "true"}},
        "spec": {
            "containers": [{
                "name": "checkout", "image": image,
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "MODE", "value": "prod"}, {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
                "livenessProbe": {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 10}
            }],
            "volumes": [{"name": "config", "configMap": {"name": "checkout"}}],
            "terminationGracePeriodSeconds": 30
        }
    })
}

fn replica_set(
    rollout: &Rollout,
    hash: &str,
    revision: i64,
    replicas: i32,
    image: &str,
) -> ReplicaSet {
    let mut tpl = template(image);
    tpl["metadata"]["labels"]["rollouts-pod-template-hash"] = json!(hash);
    serde_json::from_value(json!({
        "metadata": {
            "name": format!("checkout-{hash}"), "namespace": "shop", "uid": format!("uid-{hash}"),
            "creationTimestamp": format!("2026-01-01T00:0{revision}:00Z"), "resourceVersion": "10",
            "labels": {"app": "checkout", "rollouts-pod-template-hash": hash},
            "annotations": {"rollout.argoproj.io/revision": revision.to_string(), "rollout.argoproj.io/desired-replicas": "10"},
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "checkout",
                                  "uid": rollout.metadata.uid, "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "checkout", "rollouts-pod-template-hash": hash}}, "template": tpl},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "observedGeneration": 1}
    }))
    .unwrap()
}

/// A canary of 10 replicas paused at its second step (setWeight 20 done), as the controller
/// sees it on a routine resync.
fn mid_update() -> Observed {
    let mut rollout: Rollout = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "checkout", "namespace": "shop", "uid": "ro-uid", "generation": 2, "resourceVersion": "20",
                     "annotations": {"rollout.argoproj.io/revision": "2"}},
        "spec": {
            "replicas": 10, "selector": {"matchLabels": {"app": "checkout"}}, "template": template("checkout:2"),
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "1m"}}]}}
        }
    }))
    .unwrap();
    let tpl = serde_json::to_value(rollout.spec.template.as_ref().unwrap()).unwrap();
    let new_hash = hash::pod_template_hash(&tpl, None).unwrap();
    let steps = serde_json::to_value(rollout.steps()).unwrap();
    let step_hash = hash::step_hash(Some(&steps)).unwrap();
    let stable = replica_set(&rollout, "5f78d78c4d", 1, 8, "checkout:1");
    let canary = replica_set(&rollout, &new_hash, 2, 2, "checkout:2");
    rollout.status = Some(
        serde_json::from_value(json!({
            "currentPodHash": new_hash, "stableRS": "5f78d78c4d", "currentStepHash": step_hash, "currentStepIndex": 1,
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:10:00Z"}], "controllerPause": true,
            "replicas": 10, "updatedReplicas": 2, "readyReplicas": 10, "availableReplicas": 10, "HPAReplicas": 10,
            "selector": "app=checkout", "observedGeneration": "2", "phase": "Paused", "message": "CanaryPauseStep",
            "canary": {}, "blueGreen": {},
            "conditions": [
                {"type": "Available", "status": "True", "reason": "AvailableReason", "message": "Rollout has minimum availability", "lastUpdateTime": "2026-01-01T00:10:00Z", "lastTransitionTime": "2026-01-01T00:10:00Z"},
                {"type": "Completed", "status": "False", "reason": "RolloutCompleted", "message": "RolloutCompleted", "lastUpdateTime": "2026-01-01T00:10:00Z", "lastTransitionTime": "2026-01-01T00:10:00Z"},
                {"type": "Healthy", "status": "False", "reason": "RolloutHealthy", "message": "Rollout is not healthy", "lastUpdateTime": "2026-01-01T00:10:00Z", "lastTransitionTime": "2026-01-01T00:10:00Z"},
                {"type": "Progressing", "status": "Unknown", "reason": "RolloutPaused", "message": "Rollout is paused", "lastUpdateTime": "2026-01-01T00:10:00Z", "lastTransitionTime": "2026-01-01T00:10:00Z"},
                {"type": "Paused", "status": "True", "reason": "RolloutPaused", "message": "Rollout is paused", "lastUpdateTime": "2026-01-01T00:10:00Z", "lastTransitionTime": "2026-01-01T00:10:00Z"}
            ]
        }))
        .unwrap(),
    );
    Observed {
        rollout,
        replica_sets: vec![stable, canary],
        services: Default::default(),
        analysis_runs: vec![],
        foreign_analysis_run_names: Default::default(),
        analysis_templates: Default::default(),
        cluster_analysis_templates: Default::default(),
        experiments: vec![],
        pods: vec![],
        now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 11, 0).unwrap(),
        config: PlannerConfig::default(),
    }
}

/// The same canary just after the user resumed it from its pause (`pauseConditions` cleared):
/// once the controller has recorded the resume and moved to `setWeight: 60`, the stable
/// ReplicaSet has to be scaled down for the canary. This is the snapshot of that scaling
/// reconcile (the status writes before it applied).
fn mid_scaling() -> Observed {
    let mut observed = mid_update();
    let status = observed.rollout.status.as_mut().unwrap();
    // `kubectl argo rollouts promote` at a pause step: the pause conditions go, the controller
    // pause flag stays (that is how the controller tells a resume from a new pause).
    status.pause_conditions = None;
    for _ in 0..10 {
        let plan = rollouts::reconcile::plan(&observed);
        if plan
            .actions()
            .any(|a| matches!(a, Action::UpdateReplicaSet(_)))
        {
            return observed;
        }
        for action in plan.actions() {
            match action {
                Action::PatchRolloutStatus(p) => {
                    let mut v = serde_json::to_value(&observed.rollout).unwrap();
                    apply_merge_patch(&mut v, p);
                    observed.rollout = serde_json::from_value(v).unwrap();
                }
                other => panic!("unexpected action {other:?}"),
            }
        }
    }
    panic!(
        "no scaling after 10 reconciles: {:?}",
        rollouts::reconcile::plan(&observed)
    );
}

/// RFC 7386 merge patch (to play plans forward while building a fixture).
fn apply_merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let t = target.as_object_mut().unwrap();
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    apply_merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// Plays reconciles forward (writes applied, every pod instantly available) until a plan writes
/// nothing: the snapshot the controller sees on a routine resync of a rollout at rest.
fn converge(mut observed: Observed) -> Observed {
    for _ in 0..30 {
        let plan = rollouts::reconcile::plan(&observed);
        if plan.actions().next().is_none() {
            return observed;
        }
        for action in plan.actions() {
            match action {
                Action::PatchRollout(p) | Action::PatchRolloutStatus(p) => {
                    let mut v = serde_json::to_value(&observed.rollout).unwrap();
                    apply_merge_patch(&mut v, p);
                    observed.rollout = serde_json::from_value(v).unwrap();
                }
                Action::CreateReplicaSet(rs) | Action::UpdateReplicaSet(rs) => {
                    let mut rs = (**rs).clone();
                    let name = rs.metadata.name.clone();
                    rs.metadata.uid = Some(format!("uid-{}", name.as_deref().unwrap()));
                    rs.metadata.resource_version = Some("10".into());
                    rs.metadata.creation_timestamp = Some(rollouts::status::k8s_time(observed.now));
                    let replicas = rs.spec.as_ref().unwrap().replicas.unwrap_or(1);
                    rs.status = Some(ReplicaSetStatus {
                        replicas,
                        ready_replicas: Some(replicas),
                        available_replicas: Some(replicas),
                        observed_generation: Some(1),
                        ..Default::default()
                    });
                    observed.replica_sets.retain(|r| r.metadata.name != name);
                    observed.replica_sets.push(rs);
                }
                Action::PatchService { name, patch } => {
                    let svc = observed.services.get_mut(name).unwrap();
                    let mut v = serde_json::to_value(&*svc).unwrap();
                    apply_merge_patch(&mut v, patch);
                    *svc = serde_json::from_value(v).unwrap();
                }
                other => panic!("unexpected action {other:?}"),
            }
        }
    }
    panic!("no rest after 30 reconciles");
}

/// A blue-green rollout of 10 replicas at rest (active and preview Services on the one
/// ReplicaSet), as the controller sees it on a routine resync.
fn blue_green_at_rest() -> Observed {
    let rollout: Rollout = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "checkout", "namespace": "shop", "uid": "ro-uid", "generation": 1, "resourceVersion": "20"},
        "spec": {
            "replicas": 10, "selector": {"matchLabels": {"app": "checkout"}}, "template": template("checkout:1"),
            "strategy": {"blueGreen": {"activeService": "checkout-active", "previewService": "checkout-preview", "autoPromotionEnabled": false}}
        }
    }))
    .unwrap();
    let service = |name: &str| -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"selector": {"app": "checkout"}, "ports": [{"port": 80, "targetPort": 8080}]}
        }))
        .unwrap()
    };
    let services = ["checkout-active", "checkout-preview"]
        .map(|n| (n.to_string(), service(n)))
        .into();
    converge(Observed {
        rollout,
        replica_sets: vec![],
        services,
        analysis_runs: vec![],
        foreign_analysis_run_names: Default::default(),
        analysis_templates: Default::default(),
        cluster_analysis_templates: Default::default(),
        experiments: vec![],
        pods: vec![],
        now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 11, 0).unwrap(),
        config: PlannerConfig::default(),
    })
}

fn benches(c: &mut Criterion) {
    let observed = mid_update();
    let plan = rollouts::reconcile::plan(&observed);
    assert!(
        plan.actions().next().is_none(),
        "a paused rollout at rest plans no write: {plan:?}"
    );
    c.bench_function(
        "plan one reconcile (canary, paused at step 2 of 4, 10 replicas)",
        |b| b.iter(|| rollouts::reconcile::plan(black_box(&observed))),
    );
    let observed = mid_scaling();
    let plan = rollouts::reconcile::plan(&observed);
    assert!(
        plan.actions()
            .any(|a| matches!(a, Action::UpdateReplicaSet(rs) if rs.spec.as_ref().unwrap().replicas == Some(6))),
        "the stable ReplicaSet is scaled down to make room for the canary: {plan:?}"
    );
    c.bench_function(
        "plan one reconcile (canary, scaling for step 3 of 4, 10 replicas)",
        |b| b.iter(|| rollouts::reconcile::plan(black_box(&observed))),
    );
    let observed = blue_green_at_rest();
    assert_eq!(observed.replica_sets.len(), 1);
    c.bench_function(
        "plan one reconcile (blue-green at rest, 10 replicas)",
        |b| b.iter(|| rollouts::reconcile::plan(black_box(&observed))),
    );
    let tpl = template("checkout:2");
    c.bench_function("pod-template hash (typical template)", |b| {
        b.iter(|| hash::pod_template_hash(black_box(&tpl), None).unwrap())
    });
}

criterion_group!(planner, benches);
criterion_main!(planner);
