//! `undo`: which ReplicaSet to go back to, and whether that changes anything (Argo's
//! `cmd/undo`). Pure; the command fetches the objects and sends [`crate::patches::undo`].

use k8s_openapi::api::apps::v1::ReplicaSet;
use rollouts::crd::keys;
use serde_json::Value;

/// The ReplicaSet of `to_revision` among those controlled by the rollout `rollout_uid`, or for
/// `to_revision == 0` the one before the newest.
pub fn rollout_revision<'a>(
    rollout_name: &str,
    rollout_uid: &str,
    all_rs: &'a [ReplicaSet],
    to_revision: i64,
) -> Result<&'a ReplicaSet, String> {
    let mut latest: Option<(i64, &ReplicaSet)> = None;
    let mut previous: Option<(i64, &ReplicaSet)> = None;
    for rs in all_rs.iter().filter(|rs| controlled_by(rs, rollout_uid)) {
        let Ok(v) = revision(rs) else {
            continue;
        };
        if to_revision == 0 {
            if latest.is_none_or(|(l, _)| l < v) {
                previous = latest;
                latest = Some((v, rs));
            } else if previous.is_none_or(|(p, _)| p < v) {
                previous = Some((v, rs));
            }
        } else if to_revision == v {
            return Ok(rs);
        }
    }
    if to_revision > 0 {
        return Err(format!(
            "unable to find specified revision {to_revision} in history"
        ));
    }
    previous
        .map(|(_, rs)| rs)
        .ok_or_else(|| format!("no revision found for rollout \"{rollout_name}\""))
}

fn controlled_by(rs: &ReplicaSet, uid: &str) -> bool {
    rs.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.uid == uid)
}

/// The revision annotation: 0 when absent, an error when not a number.
fn revision(rs: &ReplicaSet) -> Result<i64, std::num::ParseIntError> {
    match rs
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::REVISION))
    {
        None => Ok(0),
        Some(v) => v.parse(),
    }
}

/// The ReplicaSet's pod template as JSON, without the `rollouts-pod-template-hash` label.
pub fn template_without_hash(rs: &ReplicaSet) -> Value {
    let template = rs.spec.as_ref().and_then(|s| s.template.clone());
    let mut value = serde_json::to_value(template).unwrap_or(Value::Null);
    remove_hash_label(&mut value);
    value
}

fn remove_hash_label(template: &mut Value) {
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(keys::POD_TEMPLATE_HASH);
    }
}

/// Whether the rollout's template already is the ReplicaSet's (Argo's `equalIgnoreHash`: the
/// hash label ignored on both sides, and only what the rollout sets compared).
pub fn equal_ignore_hash(rollout_template: &Value, rs_template: &Value) -> bool {
    let mut a = rollout_template.clone();
    let mut b = rs_template.clone();
    remove_hash_label(&mut a);
    remove_hash_label(&mut b);
    derivative(&a, &b)
}

/// apimachinery's `Semantic.DeepDerivative` on JSON: unset (null, empty) values on the left
/// match anything; strings, arrays and objects on the left must be found on the right.
pub fn derivative(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, _) => true,
        (Value::String(x), Value::String(y)) => x.is_empty() || x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.is_empty() || (x.len() <= y.len() && x.iter().zip(y).all(|(a, b)| derivative(a, b)))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.is_empty()
                || x.iter().all(|(k, a)| match y.get(k) {
                    Some(b) => derivative(a, b),
                    None => a.is_null(),
                })
        }
        (Value::Array(x), _) => x.is_empty(),
        (Value::Object(x), _) => x.is_empty(),
        (Value::String(x), _) => x.is_empty(),
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rs(name: &str, revision: Option<&str>, owner: &str, image: &str) -> ReplicaSet {
        let mut annotations = serde_json::Map::new();
        if let Some(r) = revision {
            annotations.insert(keys::REVISION.into(), json!(r));
        }
        serde_json::from_value(json!({
            "metadata": {
                "name": name,
                "annotations": annotations,
                "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                    "name": "ro", "uid": owner, "controller": true}]
            },
            "spec": {"selector": {}, "template": {
                "metadata": {"labels": {"app": "x", "rollouts-pod-template-hash": "abc"}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }}
        }))
        .unwrap()
    }

    #[test]
    fn picks_previous_or_requested_revision() {
        let all = vec![
            rs("ro-1", Some("1"), "uid", "v1"),
            rs("ro-3", Some("3"), "uid", "v3"),
            rs("ro-2", Some("2"), "uid", "v2"),
            rs("other", Some("9"), "other-uid", "v9"),
            rs("bad", Some("x"), "uid", "vx"),
        ];
        assert_eq!(
            rollout_revision("ro", "uid", &all, 0)
                .unwrap()
                .metadata
                .name
                .as_deref(),
            Some("ro-2")
        );
        assert_eq!(
            rollout_revision("ro", "uid", &all, 1)
                .unwrap()
                .metadata
                .name
                .as_deref(),
            Some("ro-1")
        );
        assert_eq!(
            rollout_revision("ro", "uid", &all, 9).unwrap_err(),
            "unable to find specified revision 9 in history"
        );
        assert_eq!(
            rollout_revision("ro", "uid", &all[..1], 0).unwrap_err(),
            "no revision found for rollout \"ro\""
        );
    }

    #[test]
    fn template_without_hash_and_equality() {
        let rs = rs("ro-1", Some("1"), "uid", "v1");
        let template = template_without_hash(&rs);
        assert_eq!(template["metadata"]["labels"], json!({"app": "x"}));
        let rollout_template = json!({
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "app", "image": "v1"}]}
        });
        assert!(equal_ignore_hash(&rollout_template, &template));
        let changed = json!({"metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "app", "image": "v2"}]}});
        assert!(!equal_ignore_hash(&changed, &template));
    }

    #[test]
    fn derivative_ignores_what_the_left_side_leaves_unset() {
        assert!(derivative(
            &json!({"a": "", "b": []}),
            &json!({"a": "x", "b": [1], "c": 2})
        ));
        assert!(derivative(&json!({"a": null}), &json!({})));
        assert!(!derivative(&json!({"a": 1}), &json!({})));
        assert!(!derivative(&json!({"a": 1}), &json!({"a": 2})));
        assert!(!derivative(&json!([1, 2]), &json!([1])));
        assert!(derivative(&json!([1]), &json!([1, 2])));
    }
}
