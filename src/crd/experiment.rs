//! The `Experiment` resource: one ReplicaSet per template, run for a while, optionally judged by
//! AnalysisRuns. Field by field the shape of Argo Rollouts v1.9.1 (Go `experiment_types.go`).

use k8s_openapi::{
    api::core::v1::PodTemplateSpec,
    apimachinery::pkg::apis::meta::v1::{LabelSelector, Time},
};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    DurationString,
    analysis::{AnalysisPhase, Argument, DryRun, MeasurementRetention},
    rollout::AnalysisRunMetadata,
};
use crate::string_enum;

/// Annotation on an experiment's ReplicaSets naming the Experiment.
pub const EXPERIMENT_NAME_ANNOTATION_KEY: &str = "experiment.argoproj.io/name";
/// Annotation on an experiment's ReplicaSets naming the template.
pub const EXPERIMENT_TEMPLATE_NAME_ANNOTATION_KEY: &str = "experiment.argoproj.io/template-name";

/// A list of Experiments, as returned by a list call.
pub type ExperimentList = kube::core::ObjectList<Experiment>;

/// Desired state of an Experiment.
///
/// Note: Argo's Experiment CRD has no status subresource; the status is written with the object.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "Experiment",
    plural = "experiments",
    shortname = "exp",
    namespaced,
    status = "ExperimentStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "Runs one ReplicaSet per template for a while, optionally judged by AnalysisRuns.",
    printcolumn(
        name = "Status",
        type_ = "string",
        json_path = ".status.phase",
        description = "Experiment status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp",
        description = "Time since resource was created"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentSpec {
    /// The ReplicaSets to run, one per template.
    pub templates: Vec<TemplateSpec>,
    /// How long to run once all templates are available; without it, until terminated or an
    /// analysis fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationString>,
    /// Seconds a template may take to become available before it fails (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Option<i32>,
    /// Stop the experiment early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminate: Option<bool>,
    /// AnalysisRuns started once the templates are available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyses: Option<Vec<ExperimentAnalysisTemplateRef>>,
    /// Delay before the finished ReplicaSets are scaled down (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_delay_seconds: Option<i32>,
    /// Metrics measured in dry-run mode by the analyses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<Vec<DryRun>>,
    /// Measurement retention passed to the analyses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement_retention: Option<Vec<MeasurementRetention>>,
    /// Labels and annotations for the AnalysisRuns created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_run_metadata: Option<AnalysisRunMetadata>,
}

/// One template of an experiment, run as its own ReplicaSet.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSpec {
    pub name: String,
    /// Desired pods (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    /// Must match the pod template's labels and differ from the other templates' selectors.
    pub selector: LabelSelector,
    /// The pods' template (schema relaxed as in Argo's CRD).
    #[schemars(schema_with = "super::schema::pod_template")]
    pub template: PodTemplateSpec,
    /// Create a Service for this template's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<TemplateService>,
}

/// The Service created for a template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateService {
    /// Service name; generated when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

string_enum! {
    /// State of one template's ReplicaSet.
    pub enum TemplateStatusCode {
        Progressing = "Progressing",
        Running = "Running",
        Successful = "Successful",
        Failed = "Failed",
        Error = "Error",
    }
}

impl TemplateStatusCode {
    /// True for the terminal codes: Successful, Failed and Error.
    pub fn is_completed(&self) -> bool {
        matches!(self, Self::Successful | Self::Failed | Self::Error)
    }
}

/// Observed state of one template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateStatus {
    pub name: String,
    pub replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    /// Bumped on a ReplicaSet name collision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collision_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TemplateStatusCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Last change of `status`; the progress deadline counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template_hash: Option<String>,
}

/// Observed state of an Experiment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentStatus {
    /// Overall phase, from the templates and the analyses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<AnalysisPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_statuses: Option<Vec<TemplateStatus>>,
    /// When all templates became available; `duration` counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_at: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<ExperimentCondition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_runs: Option<Vec<ExperimentAnalysisRunStatus>>,
}

string_enum! {
    /// Type of an Experiment condition.
    pub enum ExperimentConditionType {
        InvalidSpec = "InvalidSpec",
        Completed = "Completed",
        Progressing = "Progressing",
        Running = "Running",
        ReplicaFailure = "ReplicaFailure",
    }
}

/// A condition of an Experiment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentCondition {
    #[serde(rename = "type")]
    pub type_: ExperimentConditionType,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub last_update_time: Time,
    pub last_transition_time: Time,
    pub reason: String,
    pub message: String,
}

/// An analysis to run during the experiment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentAnalysisTemplateRef {
    /// Name of this analysis within the experiment.
    pub name: String,
    /// The AnalysisTemplate (or ClusterAnalysisTemplate) to instantiate.
    pub template_name: String,
    /// True to use a ClusterAnalysisTemplate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_scope: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Argument>>,
    /// The experiment does not complete before this analysis does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_for_completion: Option<bool>,
}

impl ExperimentAnalysisTemplateRef {
    /// True when the template is a ClusterAnalysisTemplate (unset means namespaced).
    pub fn is_cluster_scope(&self) -> bool {
        self.cluster_scope == Some(true)
    }

    /// True when the experiment waits for this analysis.
    pub fn is_required_for_completion(&self) -> bool {
        self.required_for_completion == Some(true)
    }
}

/// State of one analysis of the experiment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentAnalysisRunStatus {
    /// Name of the analysis within the experiment.
    pub name: String,
    /// Name of the AnalysisRun object.
    pub analysis_run: String,
    pub phase: AnalysisPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::CustomResourceExt;

    const EXPERIMENT: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Experiment
metadata:
  name: guestbook-6c54544bf9-2-0
  namespace: default
  labels:
    rollouts-pod-template-hash: 6c54544bf9
spec:
  duration: 1h
  progressDeadlineSeconds: 300
  terminate: false
  scaleDownDelaySeconds: 45
  dryRun:
  - metricName: error-rate
  measurementRetention:
  - metricName: "*"
    limit: 3
  analysisRunMetadata:
    labels:
      team: sre
    annotations:
      note: experiment
  templates:
  - name: baseline
    replicas: 1
    minReadySeconds: 10
    selector:
      matchLabels:
        app: guestbook
        rollouts-pod-template-hash: 5f78d78c4d
    template:
      metadata:
        labels:
          app: guestbook
          rollouts-pod-template-hash: 5f78d78c4d
      spec:
        containers:
        - name: guestbook
          image: argoproj/rollouts-demo:blue
          ports:
          - containerPort: 8080
            name: http
            protocol: TCP
          resources:
            requests:
              cpu: 5m
              memory: 32Mi
    service:
      name: baseline-svc
  - name: canary
    selector:
      matchExpressions:
      - key: app
        operator: In
        values: [guestbook]
    template:
      metadata:
        labels:
          app: guestbook
      spec:
        containers:
        - name: guestbook
          image: argoproj/rollouts-demo:yellow
    service: {}
  analyses:
  - name: smoke
    templateName: smoke-test
    requiredForCompletion: true
    args:
    - name: host
      value: canary-svc
    - name: token
      valueFrom:
        secretKeyRef:
          name: s
          key: k
  - name: shared
    templateName: cluster-check
    clusterScope: true
status:
  phase: Running
  message: waiting
  availableAt: "2024-05-01T10:00:30Z"
  templateStatuses:
  - name: baseline
    replicas: 1
    updatedReplicas: 1
    readyReplicas: 1
    availableReplicas: 1
    status: Running
    lastTransitionTime: "2024-05-01T10:00:20Z"
    serviceName: baseline-svc
    podTemplateHash: 5f78d78c4d
  - name: canary
    replicas: 0
    updatedReplicas: 0
    readyReplicas: 0
    availableReplicas: 0
    collisionCount: 1
    status: Progressing
    message: creating
  conditions:
  - type: Progressing
    status: "True"
    reason: NewReplicaSetAvailable
    message: Experiment "guestbook-6c54544bf9-2-0" is running.
    lastUpdateTime: "2024-05-01T10:00:30Z"
    lastTransitionTime: "2024-05-01T10:00:00Z"
  - type: SomethingElse
    status: Unknown
    reason: ""
    message: ""
    lastUpdateTime: "2024-05-01T10:00:30Z"
    lastTransitionTime: "2024-05-01T10:00:30Z"
  analysisRuns:
  - name: smoke
    analysisRun: guestbook-6c54544bf9-2-0-smoke
    phase: Running
  - name: shared
    analysisRun: guestbook-6c54544bf9-2-0-shared
    phase: Successful
    message: done
"#;

    #[test]
    fn experiment_round_trip() {
        let input: serde_json::Value = serde_norway::from_str(EXPERIMENT).unwrap();
        let exp: Experiment = serde_json::from_value(input.clone()).unwrap();
        assert_eq!(serde_json::to_value(&exp).unwrap(), input);

        assert_eq!(exp.spec.templates.len(), 2);
        assert_eq!(
            exp.spec.templates[1].service,
            Some(TemplateService::default())
        );
        let analyses = exp.spec.analyses.as_ref().unwrap();
        assert!(analyses[0].is_required_for_completion());
        assert!(!analyses[0].is_cluster_scope());
        assert!(analyses[1].is_cluster_scope());

        let status = exp.status.as_ref().unwrap();
        assert_eq!(status.phase, Some(AnalysisPhase::Running));
        let templates = status.template_statuses.as_ref().unwrap();
        assert_eq!(templates[0].status, Some(TemplateStatusCode::Running));
        assert!(!templates[1].status.as_ref().unwrap().is_completed());
        let conditions = status.conditions.as_ref().unwrap();
        assert_eq!(conditions[0].type_, ExperimentConditionType::Progressing);
        assert_eq!(
            conditions[1].type_,
            ExperimentConditionType::Other("SomethingElse".into())
        );
    }

    #[test]
    fn template_status_codes() {
        for (code, s, done) in [
            (TemplateStatusCode::Progressing, "Progressing", false),
            (TemplateStatusCode::Running, "Running", false),
            (TemplateStatusCode::Successful, "Successful", true),
            (TemplateStatusCode::Failed, "Failed", true),
            (TemplateStatusCode::Error, "Error", true),
        ] {
            assert_eq!(serde_json::to_value(&code).unwrap(), serde_json::json!(s));
            assert_eq!(TemplateStatusCode::from(s), code);
            assert_eq!(code.is_completed(), done);
        }
    }

    #[test]
    fn crd_identity() {
        let crd = Experiment::crd();
        assert_eq!(crd.spec.scope, "Namespaced");
        assert_eq!(crd.spec.names.plural, "experiments");
        assert_eq!(crd.spec.names.short_names, Some(vec!["exp".to_string()]));
        let columns = crd.spec.versions[0]
            .additional_printer_columns
            .clone()
            .unwrap();
        assert_eq!(columns.len(), 2);
        assert_eq!(columns[0].name, "Status");
        assert_eq!(columns[0].json_path, ".status.phase");
        assert_eq!(columns[1].type_, "date");
    }
}
