//! Analysis resources: `AnalysisTemplate`, `ClusterAnalysisTemplate` and `AnalysisRun`, with the
//! metric and provider types they share. Field by field the shape of Argo Rollouts v1.9.1
//! (Go `analysis_types.go`).
//!
//! `DurationString` (also declared in `analysis_types.go` in Argo) lives in [`super`].

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use k8s_openapi::{
    api::batch::v1::JobSpec,
    apimachinery::pkg::{
        apis::meta::v1::{ObjectMeta, Time},
        util::intstr::IntOrString,
    },
};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    DurationString,
    rollout::{AnalysisTemplateRef, FieldRef},
};
use crate::string_enum;

/// A list of AnalysisTemplates, as returned by a list call.
pub type AnalysisTemplateList = kube::core::ObjectList<AnalysisTemplate>;
/// A list of ClusterAnalysisTemplates, as returned by a list call.
pub type ClusterAnalysisTemplateList = kube::core::ObjectList<ClusterAnalysisTemplate>;
/// A list of AnalysisRuns, as returned by a list call.
pub type AnalysisRunList = kube::core::ObjectList<AnalysisRun>;

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

/// The metrics, arguments and settings an AnalysisRun is created from.
///
/// Shared by the namespaced `AnalysisTemplate` (derived here) and the cluster-scoped
/// `ClusterAnalysisTemplate` (see [`ClusterAnalysisTemplateSpec`]).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "AnalysisTemplate",
    plural = "analysistemplates",
    shortname = "at",
    namespaced,
    derive = "PartialEq",
    derive = "Default",
    doc = "A namespaced template of metrics to analyse a rollout with.",
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp",
        description = "Time since resource was created"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplateSpec {
    /// The metrics to measure. May be empty when `templates` supplies them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Metric>>,
    /// Arguments the metrics refer to as `{{args.<name>}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Argument>>,
    /// Metrics (or `*`) measured without affecting the run's phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<Vec<DryRun>>,
    /// Per-metric limits on how many measurements are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement_retention: Option<Vec<MeasurementRetention>>,
    /// Other templates whose metrics and args are merged into this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates: Option<Vec<AnalysisTemplateRef>>,
}

/// Spec of a `ClusterAnalysisTemplate`: exactly an [`AnalysisTemplateSpec`] on the wire.
///
/// A separate type only because the CRD derive needs one spec type per kind; it dereferences
/// to the shared spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "ClusterAnalysisTemplate",
    plural = "clusteranalysistemplates",
    shortname = "cat",
    derive = "PartialEq",
    derive = "Default",
    doc = "A cluster-scoped template of metrics to analyse a rollout with.",
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp",
        description = "Time since resource was created"
    )
)]
#[serde(transparent)]
pub struct ClusterAnalysisTemplateSpec(pub AnalysisTemplateSpec);

impl ClusterAnalysisTemplateSpec {
    /// The shared template spec.
    pub fn into_inner(self) -> AnalysisTemplateSpec {
        self.0
    }
}

impl Deref for ClusterAnalysisTemplateSpec {
    type Target = AnalysisTemplateSpec;
    fn deref(&self) -> &AnalysisTemplateSpec {
        &self.0
    }
}

impl DerefMut for ClusterAnalysisTemplateSpec {
    fn deref_mut(&mut self) -> &mut AnalysisTemplateSpec {
        &mut self.0
    }
}

impl From<AnalysisTemplateSpec> for ClusterAnalysisTemplateSpec {
    fn from(spec: AnalysisTemplateSpec) -> Self {
        Self(spec)
    }
}

impl From<ClusterAnalysisTemplateSpec> for AnalysisTemplateSpec {
    fn from(spec: ClusterAnalysisTemplateSpec) -> Self {
        spec.0
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// One metric: what to query, how often, and how to judge each result.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    pub name: String,
    /// Time between measurements; without it a single measurement is taken (unless `count` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationString>,
    /// Wait before the first measurement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<DurationString>,
    /// Number of measurements; may be an `{{args.x}}` string. See [`Metric::effective_count`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<IntOrString>,
    /// Expression over `result` that makes a measurement Successful.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// Expression over `result` that makes a measurement Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    /// Failed measurements tolerated before the metric fails (default 0, `-1` disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_limit: Option<IntOrString>,
    /// Inconclusive measurements tolerated before the metric is Inconclusive (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconclusive_limit: Option<IntOrString>,
    /// Consecutive errors tolerated before the metric errors (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_error_limit: Option<IntOrString>,
    /// Where the measurement comes from; exactly one provider is expected.
    pub provider: MetricProvider,
    /// Consecutive successes that complete the metric as Successful (default 0 = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_success_limit: Option<IntOrString>,
}

impl Metric {
    /// The number of measurements to take: `count` when it is set and non-zero; otherwise 1
    /// when there is no interval, and `None` (unbounded, until terminated) when there is one.
    ///
    /// As in Argo, a string count is read as an integer, an unparsable one counting as 0.
    pub fn effective_count(&self) -> Option<IntOrString> {
        let count_is_zero = match &self.count {
            None => true,
            Some(IntOrString::Int(n)) => *n == 0,
            Some(IntOrString::String(s)) => s.parse::<i64>().unwrap_or(0) == 0,
        };
        if !count_is_zero {
            return self.count.clone();
        }
        if self.interval.as_deref().unwrap_or("").is_empty() {
            Some(IntOrString::Int(1))
        } else {
            None
        }
    }
}

/// Names a metric (or `*` for all) measured in dry-run mode.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
    pub metric_name: String,
}

/// How many measurements of a metric (or `*`) to keep.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeasurementRetention {
    pub metric_name: String,
    pub limit: i32,
}

/// When a completed AnalysisRun is deleted, in seconds after completion.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TTLStrategy {
    /// After any completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_after_completion: Option<i32>,
    /// After completing Failed (or Error/Inconclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_after_failure: Option<i32>,
    /// After completing Successful.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_after_success: Option<i32>,
}

/// The system a metric is measured with; only one field is meant to be set.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kayenta: Option<KayentaMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<WebMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datadog: Option<DatadogMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wavefront: Option<WavefrontMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_relic: Option<NewRelicMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch: Option<CloudWatchMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graphite: Option<GraphiteMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub influxdb: Option<InfluxdbMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skywalking: Option<SkyWalkingMetric>,
    /// Metric plugin name → its configuration, passed to the plugin as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::preserve_unknown")]
    pub plugin: Option<BTreeMap<String, serde_json::Value>>,
}

string_enum! {
    /// Phase of an AnalysisRun, a metric result or a single measurement (also an Experiment's phase).
    ///
    /// The empty string (Go's zero value: not yet initialised) is `Other("")`, which is also the
    /// [`Default`].
    pub enum AnalysisPhase {
        Pending = "Pending",
        Running = "Running",
        Successful = "Successful",
        Failed = "Failed",
        Error = "Error",
        Inconclusive = "Inconclusive",
    }
}

impl Default for AnalysisPhase {
    fn default() -> Self {
        Self::Other(String::new())
    }
}

impl AnalysisPhase {
    /// True for the terminal phases: Successful, Failed, Error and Inconclusive.
    pub fn is_completed(&self) -> bool {
        matches!(
            self,
            Self::Successful | Self::Failed | Self::Error | Self::Inconclusive
        )
    }

    /// True when no phase has been set yet (the empty string).
    pub fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Providers
// ---------------------------------------------------------------------------------------------

/// Time range of a Prometheus range query; `start`/`end` are expressions such as `now() - duration("1h")`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusRangeQueryArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Resolution step, a duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<DurationString>,
}

/// A Prometheus query.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusMetric {
    /// Server URL; falls back to env `ARGO_ROLLOUTS_PROMETHEUS_ADDRESS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Authentication>,
    /// Query timeout in seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Skip TLS verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<WebMetricHeader>>,
    /// Run a range query instead of an instant query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_query: Option<PrometheusRangeQueryArgs>,
}

/// Credentials for a metric server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Authentication {
    /// AWS SigV4 signing (Amazon Managed Prometheus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<Sigv4Config>,
    /// OAuth2 client-credentials flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Config>,
}

/// OAuth2 client credentials.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// AWS SigV4 signing settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sigv4Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// A Wavefront query.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WavefrontMetric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// A New Relic NRQL query.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewRelicMetric {
    /// Name of the Secret with the account settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub query: String,
    /// Query timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
}

/// A Kubernetes Job whose completion is the measurement.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobMetric {
    /// Labels and annotations for the Job (the schema keeps only those two, as Argo's does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "job_metadata_schema")]
    pub metadata: Option<ObjectMeta>,
    #[schemars(schema_with = "super::schema::job_spec")]
    pub spec: JobSpec,
}

/// Schema of a job metric's metadata as Argo's CRDs have it: only `labels` and `annotations`.
fn job_metadata_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let string_map =
        serde_json::json!({"type": "object", "additionalProperties": {"type": "string"}});
    schemars::json_schema!({
        "type": "object",
        "properties": {
            "annotations": string_map,
            "labels": string_map,
        }
    })
}

/// A Graphite query.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GraphiteMetric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// An InfluxDB Flux query.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InfluxdbMetric {
    /// Name of the Secret with the account settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// AWS CloudWatch `GetMetricData` queries.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchMetric {
    /// Time window queried, ending now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationString>,
    pub metric_data_queries: Vec<CloudWatchMetricDataQuery>,
}

/// One CloudWatch metric data query.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchMetricDataQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<CloudWatchMetricStat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
}

/// A CloudWatch metric with its statistic.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchMetricStat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<CloudWatchMetricStatMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A CloudWatch metric identity.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchMetricStatMetric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Vec<CloudWatchMetricStatMetricDimension>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A CloudWatch dimension name/value pair.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchMetricStatMetricDimension {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// An Apache SkyWalking GraphQL query.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkyWalkingMetric {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<DurationString>,
}

/// A Kayenta canary judgement.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KayentaMetric {
    pub address: String,
    pub application: String,
    pub canary_config_name: String,
    pub metrics_account_name: String,
    pub configuration_account_name: String,
    pub storage_account_name: String,
    pub threshold: KayentaThreshold,
    pub scopes: Vec<KayentaScope>,
    /// Judge over the whole window instead of a sliding one (v1.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback: Option<bool>,
}

/// Kayenta score thresholds.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KayentaThreshold {
    pub pass: i64,
    pub marginal: i64,
}

/// A named pair of control and experiment scopes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KayentaScope {
    pub name: String,
    pub control_scope: ScopeDetail,
    pub experiment_scope: ScopeDetail,
}

/// One Kayenta scope.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeDetail {
    pub scope: String,
    pub region: String,
    pub step: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// An HTTP request whose (JSON) response is the measurement.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebMetric {
    /// HTTP method (empty means GET).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<WebMetricMethod>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<WebMetricHeader>>,
    /// Request body as text (POST/PUT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Request timeout in seconds (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// JSONPath selecting the result from the response (default `{$}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// Skip TLS verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// Request body as JSON (POST/PUT), sent as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::preserve_unknown")]
    pub json_body: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Authentication>,
}

string_enum! {
    /// HTTP method of a web metric.
    pub enum WebMetricMethod {
        Get = "GET",
        Post = "POST",
        Put = "PUT",
    }
}

/// An HTTP header.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebMetricHeader {
    pub key: String,
    pub value: String,
}

/// A Datadog query (API v1: `query`; v2: `queries` + `formula`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatadogMetric {
    /// Datadog time window queried (default 5m); not the polling interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "5m"))]
    pub interval: Option<DurationString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// v2 queries by name, combined by `formula`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queries: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// `v1` (default) or `v2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "v1", "enum" = ["v1", "v2"]))]
    pub api_version: Option<String>,
    /// v2 aggregator for metric queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend(
        "enum" = ["avg", "min", "max", "sum", "last", "percentile", "mean", "l2norm", "area"]
    ))]
    pub aggregator: Option<String>,
    /// Secret holding the API and app keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretRef>,
}

/// Names the Secret a Datadog metric reads its keys from.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// True: the Secret is in the metric's namespace; false: in the controller's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaced: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// AnalysisRun
// ---------------------------------------------------------------------------------------------

/// An instantiated analysis: metrics with resolved arguments, measured by the controller.
///
/// Note: Argo's AnalysisRun CRD has no status subresource; the status is written with the object.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "argoproj.io",
    version = "v1alpha1",
    kind = "AnalysisRun",
    plural = "analysisruns",
    shortname = "ar",
    namespaced,
    status = "AnalysisRunStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "One run of an analysis: metrics measured until they complete or the run is terminated.",
    printcolumn(
        name = "Status",
        type_ = "string",
        json_path = ".status.phase",
        description = "AnalysisRun status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp",
        description = "Time since resource was created"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunSpec {
    pub metrics: Vec<Metric>,
    /// Arguments with their resolved values (or secret/field references).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Argument>>,
    /// Stop the run early; in-flight measurements are terminated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<Vec<DryRun>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement_retention: Option<Vec<MeasurementRetention>>,
    /// When to delete the run after it completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_strategy: Option<TTLStrategy>,
}

/// A named argument of a template or run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Argument {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueFrom>,
}

/// Where an argument's value comes from.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValueFrom {
    /// A key of a Secret in the run's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<SecretKeyRef>,
    /// A field of the owning object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<FieldRef>,
}

/// A key of a Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// Observed state of an AnalysisRun.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunStatus {
    pub phase: AnalysisPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_results: Option<Vec<MetricResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// Totals over the non-dry-run metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_summary: Option<RunSummary>,
    /// Totals over the dry-run metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run_summary: Option<RunSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Time>,
}

/// Number of metrics per final phase.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconclusive: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<i32>,
}

/// Progress of one metric: its recent measurements and counters.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricResult {
    pub name: String,
    pub phase: AnalysisPhase,
    /// The most recent measurements, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurements: Option<Vec<Measurement>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Measurements without Error (successful + failed + inconclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconclusive: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<i32>,
    /// Errors in a row; reset by any other outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_error: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Provider state kept across measurements (e.g. the resolved Prometheus query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Successes in a row; reset by any other outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_success: Option<i32>,
}

/// One measurement of a metric.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub phase: AnalysisPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Time>,
    /// The measured value, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Provider data for this measurement (e.g. job name, Kayenta run id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// When an in-flight measurement should be checked again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<Time>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::core::{CustomResourceExt, Resource};

    fn round_trip<T>(yaml: &str) -> T
    where
        T: serde::de::DeserializeOwned + Serialize,
    {
        let input: serde_json::Value = serde_norway::from_str(yaml).expect("valid yaml");
        let typed: T = serde_json::from_value(input.clone()).expect("deserializes");
        let output = serde_json::to_value(&typed).expect("serializes");
        assert_eq!(output, input, "round trip changed the object");
        typed
    }

    const TEMPLATE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: everything
  namespace: default
spec:
  args:
  - name: service-name
  - name: prometheus-port
    value: "9090"
  - name: api-token
    valueFrom:
      secretKeyRef:
        name: token-secret
        key: apiToken
  - name: region
    valueFrom:
      fieldRef:
        fieldPath: metadata.labels['region']
  dryRun:
  - metricName: wavefront
  measurementRetention:
  - metricName: "*"
    limit: 20
  templates:
  - templateName: base
  - templateName: shared
    clusterScope: true
  metrics:
  - name: success-rate
    interval: 5m
    initialDelay: 30s
    count: 3
    successCondition: result[0] >= 0.95
    failureCondition: result[0] < 0.5
    failureLimit: 1
    inconclusiveLimit: "{{args.limit}}"
    consecutiveErrorLimit: 2
    consecutiveSuccessLimit: 2
    provider:
      prometheus:
        address: http://prometheus.example.com:9090
        query: sum(rate(http_requests_total{service="{{args.service-name}}"}[5m]))
        timeout: 20
        insecure: true
        headers:
        - key: X-Scope-OrgID
          value: tenant-a
        authentication:
          sigv4:
            region: us-east-1
            profile: default
            roleArn: arn:aws:iam::123456789012:role/prom
          oauth2:
            tokenUrl: https://auth.example.com/token
            clientId: my-client
            clientSecret: "{{args.api-token}}"
            scopes: [read, write]
        rangeQuery:
          start: now() - duration("1h")
          end: now()
          step: 1m
  - name: web
    provider:
      web:
        method: POST
        url: https://metrics.example.com/api/{{args.service-name}}
        headers:
        - key: Authorization
          value: Bearer {{args.api-token}}
        timeoutSeconds: 20
        jsonPath: "{$.data.ok}"
        insecure: false
        jsonBody:
          key1: value
          nested: {a: [1, 2, 3], b: null}
  - name: web-text
    provider:
      web:
        method: PATCH
        url: https://metrics.example.com/
        body: '{"k": "v"}'
  - name: job
    failureLimit: -1
    provider:
      job:
        metadata:
          labels:
            team: sre
          annotations:
            note: x
        spec:
          backoffLimit: 1
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: check
                image: busybox:1.36
                command: [sh, -c, "exit 0"]
                resources:
                  limits:
                    cpu: 100m
                    memory: 64Mi
  - name: datadog
    provider:
      datadog:
        interval: 5m
        apiVersion: v2
        queries:
          a: sum:requests.error{service:x}
          b: sum:requests{service:x}
        formula: a / b
        aggregator: last
        secretRef:
          name: dd-secret
          namespaced: true
  - name: newrelic
    provider:
      newRelic:
        profile: my-secret
        query: SELECT count(*) FROM Transaction
        timeout: 10
  - name: wavefront
    provider:
      wavefront:
        address: example.wavefront.com
        query: ts(cpu.usage)
  - name: kayenta
    provider:
      kayenta:
        address: https://kayenta.example.com
        application: guestbook
        canaryConfigName: my-canary-config
        metricsAccountName: wavefront-acct
        configurationAccountName: intuit-kayenta
        storageAccountName: intuit-kayenta
        threshold:
          pass: 90
          marginal: 75
        scopes:
        - name: default
          controlScope:
            scope: app=guestbook
            region: us-west-2
            step: 60
            start: "2024-01-01T00:00:00Z"
            end: "2024-01-01T01:00:00Z"
          experimentScope:
            scope: app=guestbook-canary
            region: us-west-2
            step: 60
        lookback: true
  - name: cloudwatch
    provider:
      cloudWatch:
        interval: 30m
        metricDataQueries:
        - id: rate
          expression: errors / requests
          label: rate
          returnData: true
        - id: errors
          returnData: false
          period: 300
          metricStat:
            period: "300"
            stat: Sum
            unit: Count
            metric:
              metricName: 5XXError
              namespace: AWS/ApplicationELB
              dimensions:
              - name: LoadBalancer
                value: app/my-lb
  - name: graphite
    provider:
      graphite:
        address: http://graphite.example.com:9090
        query: target=summarize(x)
  - name: influxdb
    provider:
      influxdb:
        profile: influx-secret
        query: from(bucket:"app")
  - name: skywalking
    provider:
      skywalking:
        address: http://skywalking:12800
        query: "query queryData($duration: Duration!) { x }"
        interval: 5m
  - name: plugin
    provider:
      plugin:
        argoproj-labs/sample-prometheus:
          address: http://prometheus:9090
          query: up
          nested: [1, "two", {three: 3}]
"#;

    #[test]
    fn analysis_template_round_trip() {
        let at: AnalysisTemplate = round_trip(TEMPLATE);
        let metrics = at.spec.metrics.as_ref().unwrap();
        assert_eq!(metrics.len(), 13);
        assert_eq!(metrics[0].count, Some(IntOrString::Int(3)));
        assert_eq!(
            metrics[0].inconclusive_limit,
            Some(IntOrString::String("{{args.limit}}".into()))
        );
        assert_eq!(
            metrics[1].provider.web.as_ref().unwrap().method,
            Some(WebMetricMethod::Post)
        );
        assert_eq!(
            metrics[2].provider.web.as_ref().unwrap().method,
            Some(WebMetricMethod::Other("PATCH".into()))
        );
        let job = metrics[3].provider.job.as_ref().unwrap();
        assert_eq!(job.spec.backoff_limit, Some(1));
        let plugin = metrics[12].provider.plugin.as_ref().unwrap();
        assert!(plugin.contains_key("argoproj-labs/sample-prometheus"));
        let templates = at.spec.templates.as_ref().unwrap();
        assert_eq!(templates[1].cluster_scope, Some(true));
    }

    #[test]
    fn cluster_analysis_template_round_trip() {
        let yaml = TEMPLATE
            .replace("kind: AnalysisTemplate", "kind: ClusterAnalysisTemplate")
            .replace("  namespace: default\n", "");
        let cat: ClusterAnalysisTemplate = round_trip(&yaml);
        // The newtype spec reads like the shared one.
        assert_eq!(cat.spec.metrics.as_ref().unwrap().len(), 13);
        let at: AnalysisTemplate = serde_norway::from_str(TEMPLATE).unwrap();
        assert_eq!(cat.spec.into_inner(), at.spec);
    }

    const RUN: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: guestbook-6c54544bf9-2-1
  namespace: default
  labels:
    rollouts-pod-template-hash: 6c54544bf9
  ownerReferences:
  - apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    name: guestbook
    uid: 1b6f2a5e-3d2c-4b8e-9a6f-0f1e2d3c4b5a
    controller: true
    blockOwnerDeletion: true
spec:
  args:
  - name: service-name
    value: guestbook-svc.default.svc.cluster.local
  terminate: true
  dryRun:
  - metricName: dry
  measurementRetention:
  - metricName: success-rate
    limit: 5
  ttlStrategy:
    secondsAfterCompletion: 3600
    secondsAfterFailure: 7200
    secondsAfterSuccess: 60
  metrics:
  - name: success-rate
    interval: 1m
    count: 2
    successCondition: result[0] >= 0.95
    provider:
      prometheus:
        address: http://prometheus:9090
        query: up
  - name: dry
    provider:
      web:
        url: http://example.com/
status:
  phase: Failed
  message: 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)'
  startedAt: "2024-05-01T10:00:00Z"
  completedAt: "2024-05-01T10:02:00Z"
  runSummary:
    count: 1
    failed: 1
  dryRunSummary:
    count: 1
    successful: 1
  metricResults:
  - name: success-rate
    phase: Failed
    count: 2
    successful: 1
    failed: 1
    inconclusive: 0
    error: 1
    consecutiveError: 0
    consecutiveSuccess: 0
    message: last error
    metadata:
      ResolvedPrometheusQuery: up
    measurements:
    - phase: Successful
      startedAt: "2024-05-01T10:00:00Z"
      finishedAt: "2024-05-01T10:00:01Z"
      value: "[0.99]"
    - phase: Error
      message: connection refused
      startedAt: "2024-05-01T10:01:01Z"
      finishedAt: "2024-05-01T10:01:02Z"
    - phase: Failed
      startedAt: "2024-05-01T10:01:11Z"
      finishedAt: "2024-05-01T10:01:12Z"
      value: "[0.5]"
      metadata:
        job-name: x
  - name: dry
    phase: Running
    dryRun: true
    measurements:
    - phase: Running
      startedAt: "2024-05-01T10:00:00Z"
      resumeAt: "2024-05-01T10:00:10Z"
"#;

    #[test]
    fn analysis_run_round_trip() {
        let ar: AnalysisRun = round_trip(RUN);
        let status = ar.status.as_ref().unwrap();
        assert_eq!(status.phase, AnalysisPhase::Failed);
        assert!(status.phase.is_completed());
        let results = status.metric_results.as_ref().unwrap();
        assert_eq!(results[1].phase, AnalysisPhase::Running);
        assert!(!results[1].phase.is_completed());
        assert_eq!(ar.spec.terminate, Some(true));
        assert_eq!(
            ar.spec.ttl_strategy.as_ref().unwrap().seconds_after_success,
            Some(60)
        );
    }

    #[test]
    fn unknown_and_empty_phases_survive() {
        let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: odd
spec:
  metrics: []
status:
  phase: ""
  metricResults:
  - name: m
    phase: SomethingNew
    measurements:
    - phase: Paused
"#;
        let ar: AnalysisRun = round_trip(yaml);
        let status = ar.status.unwrap();
        assert!(status.phase.is_empty());
        assert_eq!(status.phase, AnalysisPhase::default());
        assert!(!status.phase.is_completed());
        let result = &status.metric_results.unwrap()[0];
        assert_eq!(result.phase, AnalysisPhase::Other("SomethingNew".into()));
    }

    #[test]
    fn phase_strings() {
        for (phase, s, done) in [
            (AnalysisPhase::Pending, "Pending", false),
            (AnalysisPhase::Running, "Running", false),
            (AnalysisPhase::Successful, "Successful", true),
            (AnalysisPhase::Failed, "Failed", true),
            (AnalysisPhase::Error, "Error", true),
            (AnalysisPhase::Inconclusive, "Inconclusive", true),
        ] {
            assert_eq!(serde_json::to_value(&phase).unwrap(), serde_json::json!(s));
            assert_eq!(AnalysisPhase::from(s), phase);
            assert_eq!(phase.is_completed(), done);
        }
    }

    #[test]
    fn effective_count() {
        let metric = |count: Option<IntOrString>, interval: Option<&str>| Metric {
            name: "m".into(),
            count,
            interval: interval.map(String::from),
            ..Default::default()
        };
        assert_eq!(
            metric(None, None).effective_count(),
            Some(IntOrString::Int(1))
        );
        assert_eq!(
            metric(None, Some("")).effective_count(),
            Some(IntOrString::Int(1))
        );
        assert_eq!(metric(None, Some("1m")).effective_count(), None);
        assert_eq!(
            metric(Some(IntOrString::Int(0)), Some("1m")).effective_count(),
            None
        );
        assert_eq!(
            metric(Some(IntOrString::Int(5)), Some("1m")).effective_count(),
            Some(IntOrString::Int(5))
        );
        assert_eq!(
            metric(Some(IntOrString::String("3".into())), None).effective_count(),
            Some(IntOrString::String("3".into()))
        );
        // An unresolved argument reads as 0.
        assert_eq!(
            metric(Some(IntOrString::String("{{args.n}}".into())), None).effective_count(),
            Some(IntOrString::Int(1))
        );
    }

    #[test]
    fn crd_identity() {
        let at = AnalysisTemplate::crd();
        assert_eq!(at.spec.scope, "Namespaced");
        assert_eq!(at.spec.names.short_names, Some(vec!["at".to_string()]));
        let cat = ClusterAnalysisTemplate::crd();
        assert_eq!(cat.spec.scope, "Cluster");
        assert_eq!(cat.spec.names.plural, "clusteranalysistemplates");
        assert_eq!(cat.spec.names.short_names, Some(vec!["cat".to_string()]));
        let ar = AnalysisRun::crd();
        assert_eq!(ar.spec.scope, "Namespaced");
        assert_eq!(ar.spec.names.short_names, Some(vec!["ar".to_string()]));
        let columns = ar.spec.versions[0]
            .additional_printer_columns
            .clone()
            .unwrap();
        assert_eq!(columns[0].name, "Status");
        assert_eq!(columns[0].json_path, ".status.phase");
        assert_eq!(columns[1].name, "Age");
        assert_eq!(AnalysisRun::api_version(&()), "argoproj.io/v1alpha1");

        // The cluster template's spec schema is the shared spec's (up to the spec's description).
        let spec_schema = |crd: &CustomResourceDefinition| {
            let root = crd.spec.versions[0]
                .schema
                .clone()
                .unwrap()
                .open_api_v3_schema
                .unwrap();
            serde_json::to_value(&root.properties.unwrap()["spec"]).unwrap()
        };
        let (at_spec, cat_spec) = (spec_schema(&at), spec_schema(&cat));
        assert_eq!(at_spec["properties"], cat_spec["properties"]);
        assert_eq!(at_spec["type"], "object");
        assert_eq!(cat_spec["type"], "object");
        let provider = &at_spec["properties"]["metrics"]["items"]["properties"]["provider"];
        let plugin = &provider["properties"]["plugin"];
        assert_eq!(plugin["x-kubernetes-preserve-unknown-fields"], true);
    }
}
