//! The vocabulary shared by the observer, the planners and the executor.
//!
//! A reconcile is: [`Observed`] (an immutable snapshot from the reflector stores, plus `now`) →
//! a pure planner → [`Plan`] (an ordered list of API actions and events, and when to look again)
//! → the executor, which applies the items in order and stops at the first failure. Everything
//! Argo Rollouts decides lives in the planners; the executor contains no rollout semantics.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use chrono::{DateTime, Utc};
use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Pod, Service},
};
use serde_json::Value;

use crate::crd::{AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Experiment, Rollout};

/// Everything a planner may look at. Built from caches; planners never call the API.
#[derive(Clone, Debug)]
pub struct Observed {
    /// The Rollout, normalised by a JSON round trip (as Argo remarshals it).
    pub rollout: Rollout,
    /// ReplicaSets controlled by this Rollout, and orphans of its namespace (no controller at all)
    /// that match its selector, for the planner to adopt; oldest first (creation time, then name).
    pub replica_sets: Vec<ReplicaSet>,
    /// Services in the Rollout's namespace that the spec references, by name.
    pub services: BTreeMap<String, Service>,
    /// AnalysisRuns controlled by this Rollout.
    pub analysis_runs: Vec<AnalysisRun>,
    /// Names of AnalysisRuns in the namespace that start with `<rollout>-` but belong to
    /// someone else: a new run must not take one of these names.
    pub foreign_analysis_run_names: BTreeSet<String>,
    /// AnalysisTemplates of the namespace that the spec references (nested references
    /// followed), by name. A missing one is simply absent.
    pub analysis_templates: BTreeMap<String, AnalysisTemplate>,
    /// ClusterAnalysisTemplates the spec references (nested references followed), by name.
    pub cluster_analysis_templates: BTreeMap<String, ClusterAnalysisTemplate>,
    /// Experiments controlled by this Rollout.
    pub experiments: Vec<Experiment>,
    /// Pods of the Rollout's ReplicaSets (for restarts and ephemeral metadata).
    pub pods: Vec<Pod>,
    /// The planner's clock.
    pub now: DateTime<Utc>,
    /// Controller settings that change decisions.
    pub config: PlannerConfig,
}

/// Controller flags that influence planning.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannerConfig {
    /// `--rollout-resync` (default 900 s): bounds abort scale-down holds (contract §3.4).
    pub resync: Duration,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(900),
        }
    }
}

/// What the executor must do, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub items: Vec<Item>,
    /// Look at this rollout again after this long even if nothing changes.
    pub requeue_after: Option<Duration>,
    /// The reconcile could not finish (e.g. an AnalysisRun that cannot be built): the items
    /// before it are applied, then the reconcile fails with this message and is retried with
    /// backoff, as Argo's reconcile returns an error.
    pub error: Option<String>,
}

impl Plan {
    /// The actions only, in order (for tests).
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.items.iter().filter_map(|i| match i {
            Item::Act(a) => Some(a),
            Item::Event(_) => None,
        })
    }

    /// The events only, in order (for tests).
    pub fn events(&self) -> impl Iterator<Item = &EventIntent> {
        self.items.iter().filter_map(|i| match i {
            Item::Event(e) => Some(e),
            Item::Act(_) => None,
        })
    }

    pub fn act(&mut self, action: Action) {
        self.items.push(Item::Act(action));
    }

    pub fn event(&mut self, event: EventIntent) {
        self.items.push(Item::Event(event));
    }

    /// Keeps the earliest requeue.
    pub fn requeue(&mut self, after: Duration) {
        self.requeue_after = Some(self.requeue_after.map_or(after, |d| d.min(after)));
    }
}

/// One step of a plan: an API call, or an event recorded once every earlier call succeeded.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Act(Action),
    Event(EventIntent),
}

/// An API write.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Create a ReplicaSet (AlreadyExists is an error: the next plan bumps `collisionCount`).
    CreateReplicaSet(Box<ReplicaSet>),
    /// Replace a ReplicaSet with this object (guarded by its `resourceVersion`, like Argo's PUT).
    UpdateReplicaSet(Box<ReplicaSet>),
    /// Delete a ReplicaSet (revision history limit).
    DeleteReplicaSet { name: String },
    /// Strategic merge patch of a ReplicaSet's metadata: adopting an orphan (adds the controller
    /// reference) or releasing one that stopped matching (removes it). The patch carries the
    /// ReplicaSet's `uid` as a precondition; a ReplicaSet that is gone or changed is skipped.
    PatchReplicaSet { name: String, patch: Value },
    /// Merge patch on the Rollout object itself (spec.replicas defaulting, annotations).
    PatchRollout(Value),
    /// Merge patch on the Rollout's status subresource.
    PatchRolloutStatus(Value),
    /// Strategic-merge patch of a Service: selector hash and managed-by annotation.
    PatchService { name: String, patch: Value },
    /// Evict a pod (restarts), honouring PodDisruptionBudgets.
    EvictPod { name: String },
    /// JSON merge patch of a pod's labels/annotations (ephemeral canary/stable metadata:
    /// `{"metadata": {"labels": {"role": "canary", "gone": null}}}`). A pod that no longer
    /// exists is skipped.
    PatchPod { name: String, patch: Value },
    /// Create an AnalysisRun.
    CreateAnalysisRun(Box<AnalysisRun>),
    /// Merge patch on an AnalysisRun (e.g. `{"spec":{"terminate":true}}`).
    PatchAnalysisRun { name: String, patch: Value },
    /// Delete an AnalysisRun (history limits).
    DeleteAnalysisRun { name: String },
    /// Create an Experiment.
    CreateExperiment(Box<Experiment>),
    /// Merge patch on an Experiment.
    PatchExperiment { name: String, patch: Value },
    /// Delete an Experiment (history limits).
    DeleteExperiment { name: String },
}

/// A Kubernetes Event on the Rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventIntent {
    pub kind: EventKind,
    pub reason: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Normal,
    Warning,
}

impl EventIntent {
    pub fn normal(reason: &str, message: impl Into<String>) -> Self {
        Self {
            kind: EventKind::Normal,
            reason: reason.into(),
            message: message.into(),
        }
    }

    pub fn warning(reason: &str, message: impl Into<String>) -> Self {
        Self {
            kind: EventKind::Warning,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// RFC 7386 JSON merge patch that turns `old` into `new`; `None` when they are equal.
/// Keys absent from `new` become `null` (removed); arrays are replaced whole.
pub fn merge_patch(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = serde_json::Map::new();
            for (k, v) in b {
                match a.get(k) {
                    Some(old_v) => {
                        if let Some(p) = merge_patch(old_v, v) {
                            patch.insert(k.clone(), p);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_sends_only_changes_and_nulls_removals() {
        let old = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2], "gone": true});
        let new = json!({"a": 1, "b": {"c": 5, "d": 3}, "e": [1, 2, 3], "added": "x"});
        assert_eq!(
            merge_patch(&old, &new),
            Some(json!({"b": {"c": 5}, "e": [1, 2, 3], "added": "x", "gone": null}))
        );
        assert_eq!(merge_patch(&old, &old), None);
    }

    #[test]
    fn requeue_keeps_the_earliest() {
        let mut plan = Plan::default();
        plan.requeue(Duration::from_secs(30));
        plan.requeue(Duration::from_secs(10));
        plan.requeue(Duration::from_secs(20));
        assert_eq!(plan.requeue_after, Some(Duration::from_secs(10)));
    }
}
