//! The view model: Kubernetes objects in, display model out (Argo's `info/` package).
//!
//! Everything here is pure: it reads objects that were fetched elsewhere and never the clock
//! (ages are computed by the renderers from `createdAt` and a `now` they are given). The same
//! structs are what `-o json|yaml` prints, so their serialized form is the documented, stable
//! schema of the plugin (see `kubectl-plugin/README.md`): keys are camelCase, always present,
//! `null` when unknown.

pub mod analysis;
pub mod experiment;
pub mod pod;
pub mod replicaset;
pub mod rollout;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Serialize;

pub use analysis::analysis_run_infos;
pub use experiment::{experiment_info, experiment_list_row};
pub use pod::pod_info;
pub use replicaset::replica_set_infos;
pub use rollout::{rollout_info, rollout_list_row};

/// Version of the `-o json|yaml` schema; bumped only on incompatible changes.
pub const SCHEMA_VERSION: &str = "v1";

/// Status icons (Argo's `info.Icon*`).
pub mod icons {
    pub const WAITING: &str = "◷";
    pub const PROGRESSING: &str = "◌";
    pub const WARNING: &str = "⚠";
    pub const UNKNOWN: &str = "?";
    pub const OK: &str = "✔";
    pub const BAD: &str = "✖";
    pub const PAUSED: &str = "॥";
    pub const NEUTRAL: &str = "•";
}

/// Tags on images and ReplicaSets.
pub mod tags {
    pub const CANARY: &str = "canary";
    pub const STABLE: &str = "stable";
    pub const ACTIVE: &str = "active";
    pub const PREVIEW: &str = "preview";
    pub const PING: &str = "ping";
    pub const PONG: &str = "pong";
}

/// The annotation naming the template of an experiment ReplicaSet.
pub const EXPERIMENT_TEMPLATE_NAME_ANNOTATION: &str = "experiment.argoproj.io/template-name";

/// One rollout with everything it owns, grouped by revision (`get rollout`).
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RolloutInfo {
    pub schema_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub created_at: Option<DateTime<Utc>>,
    pub generation: i64,
    /// `status.observedGeneration` as written (a string on the wire).
    pub observed_generation: Option<String>,
    /// `Healthy`, `Progressing`, `Paused` or `Degraded`, as users see it (client-side override
    /// included).
    pub status: String,
    pub message: String,
    /// `Canary`, `BlueGreen`, or `""` without a strategy.
    pub strategy: String,
    /// Current canary step (`null` for blue-green, or a canary without steps or index).
    pub step: Option<StepInfo>,
    /// Desired canary weight (`null` for blue-green).
    pub set_weight: Option<i32>,
    /// Weight the canary actually gets (`null` for blue-green).
    pub actual_weight: Option<i32>,
    pub paused: bool,
    pub aborted: bool,
    pub replicas: ReplicaCounts,
    pub images: Vec<ImageInfo>,
    pub containers: Vec<ContainerInfo>,
    pub init_containers: Vec<ContainerInfo>,
    pub restarted_at: Option<String>,
    pub revisions: Vec<RevisionInfo>,
}

/// `status.currentStepIndex` out of the number of steps.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StepInfo {
    pub index: i32,
    pub total: usize,
}

impl std::fmt::Display for StepInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

#[derive(Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaCounts {
    pub desired: i32,
    pub current: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

/// An image running in the rollout's ReplicaSets, with the roles of those ReplicaSets.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImageInfo {
    pub image: String,
    pub tags: Vec<String>,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInfo {
    pub name: String,
    pub image: String,
}

/// Everything of one revision (`# revision:N` in the tree).
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RevisionInfo {
    pub revision: i64,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub experiments: Vec<ExperimentInfo>,
    pub analysis_runs: Vec<AnalysisRunInfo>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetInfo {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub created_at: Option<DateTime<Utc>>,
    pub revision: i64,
    /// `Healthy`, `Progressing`, `ReplicaFailure` or `ScaledDown`.
    pub status: String,
    pub pod_template_hash: Option<String>,
    /// `spec.replicas`.
    pub desired: Option<i32>,
    /// `status.replicas`.
    pub replicas: i32,
    pub ready: i32,
    pub available: i32,
    pub stable: bool,
    pub canary: bool,
    pub active: bool,
    pub preview: bool,
    pub ping: bool,
    pub pong: bool,
    /// Experiment template name (experiment ReplicaSets only).
    pub template: Option<String>,
    /// The `scale-down-deadline` annotation (RFC 3339), when set.
    pub scale_down_deadline: Option<String>,
    pub images: Vec<String>,
    pub init_container_images: Vec<String>,
    pub pods: Vec<PodInfo>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodInfo {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub created_at: Option<DateTime<Utc>>,
    /// kubectl's STATUS column (`Running`, `ImagePullBackOff`, `Init:0/1`, …).
    pub status: String,
    pub ready_containers: usize,
    pub total_containers: usize,
    pub restarts: i32,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunInfo {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub created_at: Option<DateTime<Utc>>,
    pub revision: i64,
    /// The run's phase (`Pending`, `Running`, `Successful`, `Failed`, `Error`, `Inconclusive`,
    /// or `""` before the controller saw it).
    pub status: String,
    pub message: Option<String>,
    /// Measurement totals over all metrics.
    pub successful: i32,
    pub failed: i32,
    pub inconclusive: i32,
    pub error: i32,
    pub metrics: Vec<MetricInfo>,
    pub jobs: Vec<JobInfo>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricInfo {
    pub name: String,
    pub phase: String,
    pub message: Option<String>,
    pub successful: i32,
    pub failed: i32,
    pub inconclusive: i32,
    pub error: i32,
    /// The value of the most recent measurement.
    pub last_value: Option<String>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    pub name: String,
    pub namespace: String,
    pub metric_name: String,
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentInfo {
    pub schema_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub created_at: Option<DateTime<Utc>>,
    pub revision: i64,
    pub status: String,
    pub message: Option<String>,
    pub images: Vec<ImageInfo>,
    pub replica_sets: Vec<ReplicaSetInfo>,
    pub analysis_runs: Vec<AnalysisRunInfo>,
}

/// One line of `list rollouts`.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RolloutListRow {
    pub namespace: String,
    pub name: String,
    /// `Canary`, `BlueGreen` or `unknown`.
    pub strategy: String,
    pub status: String,
    pub message: String,
    pub step: Option<StepInfo>,
    pub set_weight: Option<i32>,
    pub ready: i32,
    pub current: i32,
    pub desired: i32,
    pub up_to_date: i32,
    pub available: i32,
}

/// One line of `list experiments`.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentListRow {
    pub namespace: String,
    pub name: String,
    pub status: String,
    pub created_at: Option<DateTime<Utc>>,
    /// `spec.duration` as written.
    pub duration: Option<String>,
    /// When the experiment's duration ends (`availableAt + duration`), while it runs.
    pub ends_at: Option<DateTime<Utc>>,
}

/// A list in `-o json|yaml` output.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ListOutput<T> {
    pub schema_version: &'static str,
    pub kind: &'static str,
    pub items: Vec<T>,
}

/// The icon of a rollout phase (Argo's `rolloutIcon`).
pub fn rollout_icon(status: &str) -> &'static str {
    match status {
        "Progressing" => icons::PROGRESSING,
        "Error" | "InvalidSpec" => icons::WARNING,
        "Paused" => icons::PAUSED,
        "Healthy" => icons::OK,
        "Degraded" => icons::BAD,
        "Unknown" => icons::UNKNOWN,
        "ScaledDown" => icons::NEUTRAL,
        _ => " ",
    }
}

/// The icon of an analysis, experiment or measurement phase (Argo's `analysisIcon`).
pub fn analysis_icon(phase: &str) -> &'static str {
    match phase {
        "Successful" => icons::OK,
        "Inconclusive" => icons::UNKNOWN,
        "Failed" => icons::BAD,
        "Error" => icons::WARNING,
        "Running" => icons::PROGRESSING,
        "Pending" => icons::WAITING,
        _ => " ",
    }
}

/// The icon of a ReplicaSet status (Argo's `replicaSetIcon`).
pub fn replica_set_icon(status: &str) -> &'static str {
    match status {
        "Progressing" => icons::PROGRESSING,
        "Healthy" => icons::OK,
        "ReplicaFailure" => icons::BAD,
        "ScaledDown" => icons::NEUTRAL,
        _ => " ",
    }
}

pub(crate) fn meta_name(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

pub(crate) fn meta_namespace(meta: &ObjectMeta) -> String {
    meta.namespace.clone().unwrap_or_default()
}

pub(crate) fn meta_uid(meta: &ObjectMeta) -> String {
    meta.uid.clone().unwrap_or_default()
}

pub(crate) fn created_at(meta: &ObjectMeta) -> Option<DateTime<Utc>> {
    meta.creation_timestamp
        .as_ref()
        .map(rollouts::status::to_utc)
}

/// Whether any owner reference points at `uid` (Argo's `ownerRef`, controller or not).
pub(crate) fn owned_by(owners: Option<&Vec<OwnerReference>>, uid: &str) -> bool {
    !uid.is_empty() && owners.is_some_and(|o| o.iter().any(|r| r.uid == uid))
}

/// The `rollout.argoproj.io/revision` annotation as a number, 0 when absent or malformed.
pub(crate) fn parse_revision(meta: &ObjectMeta) -> i64 {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(rollouts::crd::keys::REVISION))
        .and_then(|r| r.parse::<i32>().ok())
        .map_or(0, i64::from)
}

/// Adds `image` (with its tags) to `images`: an image seen before gets the sorted union of the
/// tags; the list stays sorted by image (Argo's `mergeImageAndTags`).
pub(crate) fn merge_image(images: &mut Vec<ImageInfo>, image: ImageInfo) {
    match images.iter_mut().find(|i| i.image == image.image) {
        None => images.push(image),
        Some(existing) => {
            let mut tags: Vec<String> = existing.tags.drain(..).chain(image.tags).collect();
            tags.sort();
            tags.dedup();
            existing.tags = tags;
        }
    }
    images.sort_by(|a, b| a.image.cmp(&b.image));
}
