//! Test fixtures: small objects built from JSON, all created a week before [`now`].

use chrono::{DateTime, Utc};
use k8s_openapi::api::{apps::v1::ReplicaSet, core::v1::Pod};
use rollouts::crd::{AnalysisRun, Experiment, Rollout};
use serde_json::{Value, json};

pub const WEEK_AGO: &str = "2026-01-01T00:00:00Z";

/// The fixed "now" of every snapshot: a week after the objects were created.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-08T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Recursively merges `patch` into `base` (objects merged, anything else replaced).
pub fn merged(mut base: Value, patch: Value) -> Value {
    fn merge(a: &mut Value, b: Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
            (a, b) => *a = b,
        }
    }
    merge(&mut base, patch);
    base
}

fn owner(kind: &str, name: &str, uid: &str) -> Value {
    json!([{"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "name": name, "uid": uid, "controller": true}])
}

/// A Rollout named `name` (uid `uid-<name>`) with `patch` merged in.
pub fn rollout(name: &str, namespace: &str, patch: Value) -> Rollout {
    let base = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {
            "name": name, "namespace": namespace, "uid": format!("uid-{name}"),
            "generation": 1, "creationTimestamp": WEEK_AGO
        },
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "argoproj/rollouts-demo:blue"}]}
            },
            "strategy": {}
        },
        "status": {"observedGeneration": "1"}
    });
    serde_json::from_value(merged(base, patch)).unwrap()
}

/// A ReplicaSet `<owner>-<hash>` owned by `owner_uid`, with `desired` spec replicas,
/// `available` pods up, one container running `image`.
#[allow(clippy::too_many_arguments)]
pub fn replica_set(
    name: &str,
    namespace: &str,
    owner_kind: &str,
    owner_uid: &str,
    revision: i64,
    hash: &str,
    desired: i32,
    available: i32,
    image: &str,
) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {
            "name": name, "namespace": namespace, "uid": format!("uid-{name}"),
            "generation": 1, "creationTimestamp": WEEK_AGO,
            "labels": {"rollouts-pod-template-hash": hash},
            "annotations": {"rollout.argoproj.io/revision": revision.to_string()},
            "ownerReferences": owner(owner_kind, "owner", owner_uid)
        },
        "spec": {
            "replicas": desired,
            "selector": {"matchLabels": {"rollouts-pod-template-hash": hash}},
            "template": {
                "metadata": {"labels": {"rollouts-pod-template-hash": hash}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        },
        "status": {
            "replicas": desired, "readyReplicas": available, "availableReplicas": available,
            "observedGeneration": 1
        }
    }))
    .unwrap()
}

/// Adds annotations to an object.
pub fn annotate<T: serde::Serialize + serde::de::DeserializeOwned>(
    obj: T,
    annotations: Value,
) -> T {
    let value = serde_json::to_value(obj).unwrap();
    serde_json::from_value(merged(
        value,
        json!({"metadata": {"annotations": annotations}}),
    ))
    .unwrap()
}

/// A pod of the ReplicaSet named `rs` (uid `uid-<rs>`), running and ready.
pub fn running_pod(name: &str, namespace: &str, rs: &str) -> Pod {
    pod(
        name,
        namespace,
        rs,
        json!({"phase": "Running", "containerStatuses": [{
            "name": "app", "ready": true, "restartCount": 0, "image": "x", "imageID": "",
            "state": {"running": {"startedAt": WEEK_AGO}}
        }]}),
    )
}

/// A pod of the ReplicaSet named `rs` waiting with `reason` (e.g. `ImagePullBackOff`).
pub fn waiting_pod(name: &str, namespace: &str, rs: &str, reason: &str) -> Pod {
    pod(
        name,
        namespace,
        rs,
        json!({"phase": "Pending", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
            "state": {"waiting": {"reason": reason}}
        }]}),
    )
}

fn pod(name: &str, namespace: &str, rs: &str, status: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {
            "name": name, "namespace": namespace, "uid": format!("uid-{name}"),
            "creationTimestamp": WEEK_AGO,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                "uid": format!("uid-{rs}"), "controller": true}]
        },
        "spec": {"containers": [{"name": "app", "image": "x"}]},
        "status": status
    }))
    .unwrap()
}

/// An AnalysisRun owned by `owner_uid` with `patch` merged in.
pub fn analysis_run(
    name: &str,
    namespace: &str,
    owner_uid: &str,
    revision: i64,
    patch: Value,
) -> AnalysisRun {
    let base = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
        "metadata": {
            "name": name, "namespace": namespace, "uid": format!("uid-{name}"),
            "creationTimestamp": WEEK_AGO,
            "annotations": {"rollout.argoproj.io/revision": revision.to_string()},
            "ownerReferences": owner("Rollout", "owner", owner_uid)
        },
        "spec": {"metrics": []}
    });
    serde_json::from_value(merged(base, patch)).unwrap()
}

/// An Experiment owned by `owner_uid` with `patch` merged in.
pub fn experiment(
    name: &str,
    namespace: &str,
    owner_uid: &str,
    revision: i64,
    patch: Value,
) -> Experiment {
    let base = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment",
        "metadata": {
            "name": name, "namespace": namespace, "uid": format!("uid-{name}"),
            "creationTimestamp": WEEK_AGO,
            "annotations": {"rollout.argoproj.io/revision": revision.to_string()},
            "ownerReferences": owner("Rollout", "owner", owner_uid)
        },
        "spec": {"templates": []}
    });
    serde_json::from_value(merged(base, patch)).unwrap()
}

/// Trailing blanks of every line removed (the tree pads empty cells).
pub fn trim_lines(s: &str) -> String {
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n"
}
