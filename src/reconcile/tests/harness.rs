//! Builders for planner inputs, and a tiny simulated cluster that applies a plan the way the
//! executor and the apiserver would (merge patches, ReplicaSet writes), so that multi-reconcile
//! scenarios can be played step by step and every intermediate plan asserted.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::{
    api::{
        apps::v1::{ReplicaSet, ReplicaSetStatus},
        core::v1::{Container, Pod, PodSpec, PodTemplateSpec, Service, ServiceSpec},
    },
    apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time},
};
use serde_json::Value;

use crate::{
    crd::{
        CanaryStep, CanaryStrategy, Rollout, RolloutPause, RolloutSpec, RolloutStatus,
        RolloutStrategy, rollout::keys,
    },
    plan::{Action, EventIntent, EventKind, Item, Observed, Plan, PlannerConfig},
    reconcile::{hashing, replicasets},
    status::k8s_time,
};

/// The planner clock of every test starts here.
pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + chrono::Duration::seconds(secs)
}

pub fn time(secs: i64) -> Time {
    k8s_time(at(secs))
}

pub fn weight(w: i32) -> CanaryStep {
    CanaryStep {
        set_weight: Some(w),
        ..Default::default()
    }
}

pub fn pause() -> CanaryStep {
    CanaryStep {
        pause: Some(RolloutPause { duration: None }),
        ..Default::default()
    }
}

pub fn pause_secs(secs: i32) -> CanaryStep {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    CanaryStep {
        pause: Some(RolloutPause {
            duration: Some(IntOrString::Int(secs)),
        }),
        ..Default::default()
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A canary Rollout `foo` with `replicas`, `steps` (None = no steps) and image `app:v1`,
/// generation 1, no status.
pub fn rollout(replicas: i32, steps: Option<Vec<CanaryStep>>) -> Rollout {
    let mut ro = Rollout::new(
        "foo",
        RolloutSpec {
            replicas: Some(replicas),
            selector: Some(LabelSelector {
                match_labels: Some(labels(&[("app", "foo")])),
                ..Default::default()
            }),
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(&[("app", "foo")])),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: Some("app:v1".into()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            }),
            strategy: RolloutStrategy {
                canary: Some(CanaryStrategy {
                    steps,
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    ro.metadata.namespace = Some("default".into());
    ro.metadata.uid = Some("rollout-uid".into());
    ro.metadata.generation = Some(1);
    ro
}

/// The pod-template hash the planner computes for this rollout's template.
pub fn hash(ro: &Rollout) -> String {
    hashing::pod_template_hash(ro)
}

/// Changes the container image (a new pod template) and bumps the generation, as the apiserver
/// does on a spec change.
pub fn set_image(ro: &mut Rollout, image: &str) {
    let template = ro.spec.template.as_mut().unwrap();
    template.spec.as_mut().unwrap().containers[0].image = Some(image.into());
    bump(ro);
}

pub fn bump(ro: &mut Rollout) {
    ro.metadata.generation = Some(ro.metadata.generation.unwrap_or(0) + 1);
}

/// The ReplicaSet the controller would have created for `ro`'s current template at `revision`,
/// created at `created` seconds, with `spec` replicas of which `available` are available (and
/// existing/ready).
pub fn replica_set(
    ro: &Rollout,
    revision: i64,
    created: i64,
    spec: i32,
    available: i32,
) -> ReplicaSet {
    let mut rs = replicasets::desired_replica_set(ro, &hash(ro), revision);
    let name = rs.metadata.name.clone().unwrap();
    rs.metadata.uid = Some(format!("uid-{name}"));
    rs.metadata.creation_timestamp = Some(time(created));
    rs.metadata.resource_version = Some("1".into());
    rs.spec.as_mut().unwrap().replicas = Some(spec);
    rs.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(
            keys::DESIRED_REPLICAS.into(),
            ro.desired_replicas().to_string(),
        );
    rs.status = Some(ReplicaSetStatus {
        replicas: spec.max(available),
        ready_replicas: Some(available),
        available_replicas: Some(available),
        ..Default::default()
    });
    rs
}

pub fn service(name: &str, selector_hash: Option<&str>, managed_by: Option<&str>) -> Service {
    let mut selector = labels(&[("app", "foo")]);
    if let Some(h) = selector_hash {
        selector.insert(keys::POD_TEMPLATE_HASH.into(), h.into());
    }
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            annotations: managed_by.map(|m| labels(&[(keys::MANAGED_BY_ROLLOUTS, m)])),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(selector),
            ..Default::default()
        }),
        status: None,
    }
}

/// RFC 7386 merge patch.
pub fn apply_merge_patch(target: &mut Value, patch: &Value) {
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

/// A simulated cluster holding one rollout.
pub struct World {
    pub rollout: Rollout,
    pub rss: Vec<ReplicaSet>,
    pub services: BTreeMap<String, Service>,
    pub pods: Vec<Pod>,
    /// AnalysisRuns of the rollout (created by plans; their status is the test's to set).
    pub analysis_runs: Vec<crate::crd::AnalysisRun>,
    pub analysis_templates: BTreeMap<String, crate::crd::AnalysisTemplate>,
    pub cluster_analysis_templates: BTreeMap<String, crate::crd::ClusterAnalysisTemplate>,
    pub now: DateTime<Utc>,
    /// Every event recorded so far, in order.
    pub events: Vec<EventIntent>,
    /// Whether [`World::settle`] also plays the ReplicaSet controller for pods (off by default:
    /// most scenarios only look at counts).
    pub simulate_pods: bool,
}

impl World {
    pub fn new(rollout: Rollout) -> Self {
        Self {
            rollout,
            rss: Vec::new(),
            services: BTreeMap::new(),
            pods: Vec::new(),
            analysis_runs: Vec::new(),
            analysis_templates: BTreeMap::new(),
            cluster_analysis_templates: BTreeMap::new(),
            now: at(0),
            events: Vec::new(),
            simulate_pods: false,
        }
    }

    pub fn observed(&self) -> Observed {
        let mut rss = self.rss.clone();
        rss.sort_by(|a, b| {
            (
                a.metadata.creation_timestamp.as_ref().map(|t| t.0),
                &a.metadata.name,
            )
                .cmp(&(
                    b.metadata.creation_timestamp.as_ref().map(|t| t.0),
                    &b.metadata.name,
                ))
        });
        Observed {
            rollout: self.rollout.clone(),
            replica_sets: rss,
            services: self.services.clone(),
            analysis_runs: self.analysis_runs.clone(),
            foreign_analysis_run_names: Default::default(),
            analysis_templates: self.analysis_templates.clone(),
            cluster_analysis_templates: self.cluster_analysis_templates.clone(),
            experiments: Vec::new(),
            pods: self.pods.clone(),
            now: self.now,
            config: PlannerConfig::default(),
        }
    }

    pub fn plan(&self) -> Plan {
        super::super::plan(&self.observed())
    }

    /// Plans and applies one reconcile; returns the plan.
    pub fn reconcile(&mut self) -> Plan {
        let plan = self.plan();
        self.apply(&plan);
        plan
    }

    /// Applies a plan as the executor and the apiserver would.
    pub fn apply(&mut self, plan: &Plan) {
        for item in &plan.items {
            match item {
                Item::Event(e) => self.events.push(e.clone()),
                Item::Act(action) => self.apply_action(action),
            }
        }
    }

    fn apply_action(&mut self, action: &Action) {
        match action {
            Action::CreateReplicaSet(rs) => {
                let mut rs = (**rs).clone();
                let name = rs.metadata.name.clone().unwrap();
                assert!(
                    self.rss
                        .iter()
                        .all(|r| r.metadata.name.as_deref() != Some(&name)),
                    "create of existing {name}"
                );
                rs.metadata.uid = Some(format!("uid-{name}"));
                rs.metadata.creation_timestamp = Some(k8s_time(self.now));
                rs.metadata.resource_version = Some("1".into());
                rs.status = Some(ReplicaSetStatus::default());
                self.rss.push(rs);
            }
            Action::UpdateReplicaSet(rs) => {
                let name = rs.metadata.name.clone().unwrap();
                let existing = self
                    .rss
                    .iter_mut()
                    .find(|r| r.metadata.name.as_deref() == Some(&name))
                    .expect("update of a missing ReplicaSet");
                assert_eq!(
                    existing.metadata.resource_version, rs.metadata.resource_version,
                    "stale update of {name}"
                );
                let status = existing.status.clone();
                *existing = (**rs).clone();
                existing.status = status;
                let next: u64 = existing
                    .metadata
                    .resource_version
                    .as_deref()
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap()
                    + 1;
                existing.metadata.resource_version = Some(next.to_string());
            }
            Action::PatchReplicaSet { name, patch } => {
                let rs = self
                    .rss
                    .iter_mut()
                    .find(|r| r.metadata.name.as_deref() == Some(name))
                    .expect("patch of a missing ReplicaSet");
                assert_eq!(
                    patch["metadata"]["uid"].as_str(),
                    rs.metadata.uid.as_deref()
                );
                // The strategic merge of ownerReferences (merge key uid): add, or `$patch: delete`.
                for reference in patch["metadata"]["ownerReferences"].as_array().unwrap() {
                    let uid = reference["uid"].as_str().unwrap();
                    let refs = rs.metadata.owner_references.get_or_insert_with(Vec::new);
                    refs.retain(|o| o.uid != uid);
                    if reference.get("$patch").is_none() {
                        refs.push(serde_json::from_value(reference.clone()).unwrap());
                    }
                }
            }
            Action::DeleteReplicaSet { name } => self
                .rss
                .retain(|r| r.metadata.name.as_deref() != Some(name)),
            Action::PatchRollout(patch) | Action::PatchRolloutStatus(patch) => {
                let mut value = serde_json::to_value(&self.rollout).unwrap();
                apply_merge_patch(&mut value, patch);
                self.rollout = serde_json::from_value(value).unwrap();
            }
            Action::PatchService { name, patch } => {
                let svc = self
                    .services
                    .get_mut(name)
                    .expect("patch of a missing Service");
                let mut value = serde_json::to_value(&*svc).unwrap();
                apply_merge_patch(&mut value, patch);
                *svc = serde_json::from_value(value).unwrap();
            }
            Action::EvictPod { name } => self
                .pods
                .retain(|p| p.metadata.name.as_deref() != Some(name)),
            Action::PatchPod { name, patch } => {
                // A pod gone since the snapshot is skipped, as the executor does.
                if let Some(pod) = self
                    .pods
                    .iter_mut()
                    .find(|p| p.metadata.name.as_deref() == Some(name))
                {
                    let mut value = serde_json::to_value(&*pod).unwrap();
                    apply_merge_patch(&mut value, patch);
                    *pod = serde_json::from_value(value).unwrap();
                }
            }
            Action::CreateAnalysisRun(run) => {
                let mut run = (**run).clone();
                let name = run.metadata.name.clone().unwrap();
                assert!(
                    self.analysis_runs
                        .iter()
                        .all(|r| r.metadata.name.as_deref() != Some(&name)),
                    "create of existing AnalysisRun {name}"
                );
                run.metadata.uid = Some(format!("uid-{name}"));
                run.metadata.creation_timestamp = Some(k8s_time(self.now));
                self.analysis_runs.push(run);
            }
            Action::PatchAnalysisRun { name, patch } => {
                if let Some(run) = self
                    .analysis_runs
                    .iter_mut()
                    .find(|r| r.metadata.name.as_deref() == Some(name))
                {
                    let mut value = serde_json::to_value(&*run).unwrap();
                    apply_merge_patch(&mut value, patch);
                    *run = serde_json::from_value(value).unwrap();
                }
            }
            Action::DeleteAnalysisRun { name } => self
                .analysis_runs
                .retain(|r| r.metadata.name.as_deref() != Some(name)),
            other => panic!("unexpected action {other:?}"),
        }
    }

    /// Plays the ReplicaSet controller for pods: each ReplicaSet gets pods `<rs>-<n>` up to its
    /// `spec.replicas`, created from its pod template (labels and annotations) with a controller
    /// reference to it; pods beyond it go, highest number first; pods of deleted ReplicaSets go.
    pub fn sync_pods(&mut self) {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
        let owned_by = |pod: &Pod, uid: &str| {
            pod.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.controller == Some(true) && o.uid == uid)
        };
        let uids: Vec<String> = self
            .rss
            .iter()
            .filter_map(|rs| rs.metadata.uid.clone())
            .collect();
        self.pods
            .retain(|p| uids.iter().any(|uid| owned_by(p, uid)));
        for rs in &self.rss {
            let uid = rs.metadata.uid.clone().unwrap();
            let name = rs.metadata.name.clone().unwrap();
            let want = usize::try_from(rs.spec.as_ref().unwrap().replicas.unwrap_or(0)).unwrap();
            let mut mine: Vec<usize> = self
                .pods
                .iter()
                .filter(|p| owned_by(p, &uid))
                .map(|p| {
                    let pod_name = p.metadata.name.as_deref().unwrap();
                    pod_name[name.len() + 1..].parse().unwrap()
                })
                .collect();
            mine.sort_unstable();
            while mine.len() > want {
                let n = mine.pop().unwrap();
                let doomed = format!("{name}-{n}");
                self.pods
                    .retain(|p| p.metadata.name.as_deref() != Some(doomed.as_str()));
            }
            let template = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .and_then(|t| t.metadata.clone())
                .unwrap_or_default();
            let first = mine.last().map_or(0, |n| n + 1);
            for next in first..first + want.saturating_sub(mine.len()) {
                self.pods.push(Pod {
                    metadata: ObjectMeta {
                        name: Some(format!("{name}-{next}")),
                        namespace: Some("default".into()),
                        labels: template.labels.clone(),
                        annotations: template.annotations.clone(),
                        creation_timestamp: Some(k8s_time(self.now)),
                        owner_references: Some(vec![OwnerReference {
                            api_version: "apps/v1".into(),
                            kind: "ReplicaSet".into(),
                            name: name.clone(),
                            uid: uid.clone(),
                            controller: Some(true),
                            block_owner_deletion: Some(true),
                        }]),
                        ..Default::default()
                    },
                    ..Default::default()
                });
            }
        }
    }

    /// `(name, label value)` of the pods of ReplicaSet `rs` for label `key` (`None`: absent),
    /// in name order.
    pub fn pod_labels(&self, rs: &str, key: &str) -> Vec<(String, Option<String>)> {
        let uid = self.rs_named(rs).metadata.uid.clone().unwrap();
        let mut out: Vec<(String, Option<String>)> = self
            .pods
            .iter()
            .filter(|p| {
                p.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| o.uid == uid)
            })
            .map(|p| {
                (
                    p.metadata.name.clone().unwrap(),
                    p.metadata.labels.as_ref().and_then(|l| l.get(key)).cloned(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// Lets the ReplicaSet controller and the kubelet catch up: every pod exists and is available.
    pub fn settle(&mut self) {
        if self.simulate_pods {
            self.sync_pods();
        }
        for rs in &mut self.rss {
            let spec = rs.spec.as_ref().unwrap().replicas.unwrap();
            rs.status = Some(ReplicaSetStatus {
                replicas: spec,
                ready_replicas: Some(spec),
                available_replicas: Some(spec),
                observed_generation: rs.metadata.generation,
                ..Default::default()
            });
        }
    }

    /// Reconciles (settling in between) until a reconcile changes nothing; returns the plans.
    pub fn run_to_rest(&mut self, max: usize) -> Vec<Plan> {
        let mut plans = Vec::new();
        for _ in 0..max {
            self.settle();
            let plan = self.reconcile();
            let idle = plan.actions().next().is_none();
            plans.push(plan);
            if idle {
                return plans;
            }
        }
        panic!(
            "no rest after {max} reconciles: last plan {:?}",
            plans.last()
        );
    }

    pub fn advance(&mut self, secs: i64) {
        self.now += chrono::Duration::seconds(secs);
    }

    pub fn status(&self) -> &RolloutStatus {
        self.rollout.status.as_ref().expect("status written")
    }

    /// The ReplicaSet for the rollout's current template.
    pub fn current_rs(&self) -> &ReplicaSet {
        let h = hash(&self.rollout);
        self.rss
            .iter()
            .find(|rs| replicasets::pod_hash(rs) == h)
            .expect("current ReplicaSet")
    }

    pub fn rs_named(&self, name: &str) -> &ReplicaSet {
        self.rss
            .iter()
            .find(|rs| rs.metadata.name.as_deref() == Some(name))
            .expect("ReplicaSet")
    }

    /// `(spec.replicas)` of the ReplicaSet named `name`.
    pub fn spec_of(&self, name: &str) -> i32 {
        replicasets::spec_replicas(self.rs_named(name))
    }

    /// Condition `(type, status, reason, message)` in array order.
    pub fn conditions(&self) -> Vec<(String, String, String, String)> {
        self.status()
            .conditions
            .iter()
            .flatten()
            .map(|c| {
                (
                    c.type_.clone(),
                    c.status.clone(),
                    c.reason.clone(),
                    c.message.clone(),
                )
            })
            .collect()
    }

    pub fn phase(&self) -> (String, String) {
        let s = self.status();
        (
            s.phase
                .as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            s.message.clone().unwrap_or_default(),
        )
    }
}

/// The events of a plan as `(reason, message)`.
pub fn events(plan: &Plan) -> Vec<(String, String)> {
    plan.events()
        .map(|e| (e.reason.clone(), e.message.clone()))
        .collect()
}

/// Reasons of the Warning events of a plan.
pub fn warnings(plan: &Plan) -> Vec<String> {
    plan.events()
        .filter(|e| e.kind == EventKind::Warning)
        .map(|e| e.reason.clone())
        .collect()
}

/// A one-line summary of every item, in order, for asserting the shape of a plan.
pub fn shape(plan: &Plan) -> Vec<String> {
    plan.items
        .iter()
        .map(|item| match item {
            Item::Event(e) => format!("event {}", e.reason),
            Item::Act(Action::CreateReplicaSet(rs)) => {
                format!("create {}", rs.metadata.name.as_deref().unwrap_or(""))
            }
            Item::Act(Action::UpdateReplicaSet(rs)) => format!(
                "update {} replicas={}",
                rs.metadata.name.as_deref().unwrap_or(""),
                rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(-1)
            ),
            Item::Act(Action::DeleteReplicaSet { name }) => format!("delete {name}"),
            Item::Act(Action::PatchReplicaSet { name, patch }) => {
                let adopt = patch["metadata"]["ownerReferences"][0]
                    .get("$patch")
                    .is_none();
                format!("{} {name}", if adopt { "adopt" } else { "release" })
            }
            Item::Act(Action::PatchRollout(_)) => "patch rollout".into(),
            Item::Act(Action::PatchRolloutStatus(_)) => "patch status".into(),
            Item::Act(Action::PatchService { name, .. }) => format!("patch service {name}"),
            Item::Act(Action::EvictPod { name }) => format!("evict {name}"),
            Item::Act(Action::PatchPod { name, .. }) => format!("patch pod {name}"),
            Item::Act(Action::CreateAnalysisRun(run)) => {
                format!("create run {}", run.metadata.name.as_deref().unwrap_or(""))
            }
            Item::Act(Action::PatchAnalysisRun { name, .. }) => format!("cancel run {name}"),
            Item::Act(Action::DeleteAnalysisRun { name }) => format!("delete run {name}"),
            Item::Act(other) => format!("{other:?}"),
        })
        .collect()
}

/// The status patches of a plan (the `status` object of each).
pub fn status_patches(plan: &Plan) -> Vec<Value> {
    plan.actions()
        .filter_map(|a| match a {
            Action::PatchRolloutStatus(p) => Some(p["status"].clone()),
            _ => None,
        })
        .collect()
}

/// `(name, spec.replicas)` of every ReplicaSet update of a plan.
pub fn scaled(plan: &Plan) -> Vec<(String, i32)> {
    plan.actions()
        .filter_map(|a| match a {
            Action::UpdateReplicaSet(rs) => Some((
                rs.metadata.name.clone().unwrap(),
                rs.spec.as_ref().unwrap().replicas.unwrap(),
            )),
            _ => None,
        })
        .collect()
}

pub fn rs_name(ro: &Rollout) -> String {
    format!("foo-{}", hash(ro))
}

/// A Rollout that went through its initial deploy: `replicas` pods of `app:v1` all available,
/// status as the planner leaves it. Returns the world at time 0 after settling.
pub fn healthy_world(replicas: i32, steps: Option<Vec<CanaryStep>>) -> World {
    let mut world = World::new(rollout(replicas, steps));
    world.run_to_rest(10);
    world
}
