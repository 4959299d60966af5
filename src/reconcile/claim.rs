//! Which ReplicaSets are the rollout's (Argo's `getReplicaSetsForRollouts`, i.e. Kubernetes'
//! `ReplicaSetControllerRefManager.ClaimReplicaSets`):
//!
//! - a ReplicaSet controlled by the rollout and matching its selector is the rollout's;
//! - one controlled by the rollout that no longer matches is released (the controller reference
//!   removed), so another owner may adopt it;
//! - an orphan (no controller at all) in the namespace that matches the selector and is not being
//!   deleted is adopted: a controller reference to the rollout is added, and it counts as the
//!   rollout's in this very reconcile, as in Argo (e.g. the ReplicaSets left behind by a Deployment
//!   deleted with `--cascade=orphan` before being replaced by a Rollout, or those of a rollout
//!   deleted with `--cascade=orphan` and re-created);
//! - one controlled by anything else is never touched.
//!
//! Both writes are strategic merge patches that carry the ReplicaSet's `uid`, so they apply only
//! to the object that was observed.

use std::{borrow::Cow, collections::BTreeMap};

use k8s_openapi::{api::apps::v1::ReplicaSet, apimachinery::pkg::apis::meta::v1::LabelSelector};
use serde_json::json;

use crate::{crd::Rollout, plan::Action, replicaset::rs::controller_ref};

/// Kubernetes' `LabelSelectorAsSelector(...).Matches(labels)`: every `matchLabels` pair and every
/// expression holds; an empty selector matches everything, a missing one nothing, and one with an
/// unknown operator (invalid, reported by validation) nothing.
pub fn selector_matches(
    selector: Option<&LabelSelector>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let Some(selector) = selector else {
        return false;
    };
    let empty = BTreeMap::new();
    let labels = labels.unwrap_or(&empty);
    let pairs_hold = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    pairs_hold
        && selector.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or(&[]);
            let value = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

/// The result of claiming: the rollout's ReplicaSets (adopted ones with their new controller
/// reference), and the patches that adopt or release.
pub(crate) struct Claimed<'a> {
    pub(crate) replica_sets: Vec<Cow<'a, ReplicaSet>>,
    pub(crate) actions: Vec<Action>,
}

/// Claims the candidates (the rollout's own ReplicaSets and the namespace's orphans), in order.
pub(crate) fn claim_replica_sets<'a>(
    rollout: &Rollout,
    candidates: &'a [ReplicaSet],
) -> Claimed<'a> {
    let uid = rollout.metadata.uid.as_deref().unwrap_or("");
    let selector = rollout.spec.selector.as_ref();
    let mut claimed = Claimed {
        replica_sets: Vec::with_capacity(candidates.len()),
        actions: Vec::new(),
    };
    for rs in candidates {
        let matches = selector_matches(selector, rs.metadata.labels.as_ref());
        let controller = rs
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true));
        let name = rs.metadata.name.clone().unwrap_or_default();
        let rs_uid = rs.metadata.uid.clone().unwrap_or_default();
        if uid.is_empty() {
            // A rollout without a uid (a hand-built snapshot): nothing can be adopted or
            // released; the observer's selection is taken as is.
            claimed.replica_sets.push(Cow::Borrowed(rs));
            continue;
        }
        match controller {
            Some(owner) if owner.uid != uid => {}
            Some(_) if matches => claimed.replica_sets.push(Cow::Borrowed(rs)),
            Some(_) => claimed.actions.push(Action::PatchReplicaSet {
                name,
                patch: json!({"metadata": {
                    "ownerReferences": [{"$patch": "delete", "uid": uid}],
                    "uid": rs_uid,
                }}),
            }),
            None if !matches || rs.metadata.deletion_timestamp.is_some() => {}
            None => {
                let reference = controller_ref(rollout);
                claimed.actions.push(Action::PatchReplicaSet {
                    name,
                    patch: json!({"metadata": {
                        "ownerReferences": [reference],
                        "uid": rs_uid,
                    }}),
                });
                let mut adopted = rs.clone();
                adopted
                    .metadata
                    .owner_references
                    .get_or_insert_with(Vec::new)
                    .push(reference);
                claimed.replica_sets.push(Cow::Owned(adopted));
            }
        }
    }
    claimed
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_match_like_kubernetes() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let sel = |pairs: &[(&str, &str)], exprs: Vec<(&str, &str, &[&str])>| LabelSelector {
            match_labels: (!pairs.is_empty()).then(|| labels(pairs)),
            match_expressions: (!exprs.is_empty()).then(|| {
                exprs
                    .into_iter()
                    .map(|(k, op, vs)| LabelSelectorRequirement {
                        key: k.into(),
                        operator: op.into(),
                        values: Some(vs.iter().map(|v| v.to_string()).collect()),
                    })
                    .collect()
            }),
        };
        let cases: Vec<(LabelSelector, bool)> = vec![
            (sel(&[], vec![]), true),
            (sel(&[("app", "web")], vec![]), true),
            (sel(&[("app", "api")], vec![]), false),
            (sel(&[("app", "web"), ("x", "y")], vec![]), false),
            (sel(&[], vec![("tier", "In", &["front", "back"])]), true),
            (sel(&[], vec![("tier", "In", &["back"])]), false),
            (sel(&[], vec![("tier", "NotIn", &["back"])]), true),
            (sel(&[], vec![("zone", "NotIn", &["a"])]), true),
            (sel(&[], vec![("tier", "Exists", &[])]), true),
            (sel(&[], vec![("zone", "Exists", &[])]), false),
            (sel(&[], vec![("zone", "DoesNotExist", &[])]), true),
            (sel(&[], vec![("tier", "Bogus", &[])]), false),
        ];
        for (selector, want) in cases {
            assert_eq!(
                selector_matches(Some(&selector), Some(&l)),
                want,
                "{selector:?}"
            );
        }
        assert!(
            !selector_matches(None, Some(&l)),
            "no selector matches nothing"
        );
    }
}
