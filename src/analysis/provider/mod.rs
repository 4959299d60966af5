//! Metric providers (the I/O side of analysis) and the async reconcile driver that runs them.
//!
//! A provider takes a measurement for a metric whose arguments (secrets included) are already
//! resolved. Every failure is a measurement in phase Error with a message, never a panic or an
//! `Err` the caller has to map. Implemented: [`prometheus`], [`web`], [`job`]. Other providers
//! (Datadog, New Relic, Wavefront, Kayenta, CloudWatch, Graphite, InfluxDB, SkyWalking, plugins)
//! give a provider error, which the loop records as an Error measurement.

pub mod http;
pub mod job;
pub mod jsonpath;
pub mod oauth2;
pub mod prometheus;
pub mod web;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, join_all};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::args::{resolve_secret_args, secret_names};
use super::assess::{MeasurementOutcome, TaskAction, k8s_time, trim_measurements};
use super::reconcile::{Reconciled, Step, begin, failed, finish, metric_for_task};
use crate::crd::{AnalysisPhase, AnalysisRun, Measurement, Metric};

/// What a provider knows about the measurement it takes.
#[derive(Clone, Copy)]
pub struct MeasureContext<'a> {
    /// The run as it was before this reconcile's measurements.
    pub run: &'a AnalysisRun,
    /// The reconcile's clock: measurement timestamps and Prometheus' `now()`.
    pub now: DateTime<Utc>,
}

impl MeasureContext<'_> {
    /// `now` as a status timestamp.
    pub fn time(&self) -> Time {
        k8s_time(self.now)
    }
}

/// A source of measurements (Argo's `metric.Provider`). Futures are boxed so that providers
/// can be chosen at run time (`dyn MetricProvider`).
pub trait MetricProvider: Send + Sync {
    /// Argo's provider type name (`Prometheus`, `Web`, `Job`).
    fn kind(&self) -> &'static str;

    /// Data stored on the metric result when its first measurement is recorded.
    fn metadata(&self, _metric: &Metric) -> Option<BTreeMap<String, String>> {
        None
    }

    /// Starts (and, for synchronous providers, completes) a measurement.
    fn run<'a>(
        &'a self,
        ctx: &'a MeasureContext<'a>,
        metric: &'a Metric,
    ) -> BoxFuture<'a, Measurement>;

    /// Checks an in-flight measurement again. Synchronous providers never leave one in flight
    /// and return it unchanged.
    fn resume<'a>(
        &'a self,
        _ctx: &'a MeasureContext<'a>,
        _metric: &'a Metric,
        measurement: Measurement,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(async move { measurement })
    }

    /// Stops an in-flight measurement because the run is terminating.
    fn terminate<'a>(
        &'a self,
        _ctx: &'a MeasureContext<'a>,
        _metric: &'a Metric,
        measurement: Measurement,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(async move { measurement })
    }

    /// Cleans up what the provider keeps for measurements beyond the newest `limit`.
    fn garbage_collect<'a>(
        &'a self,
        _ctx: &'a MeasureContext<'a>,
        _metric: &'a Metric,
        _limit: usize,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// Argo's `MarkMeasurementError`: phase Error, the message, and `finishedAt` if unset.
pub fn mark_error(mut m: Measurement, message: String, ctx: &MeasureContext<'_>) -> Measurement {
    m.phase = AnalysisPhase::Error;
    m.message = Some(message);
    if m.finished_at.is_none() {
        m.finished_at = Some(ctx.time());
    }
    m
}

/// A Kubernetes client error as Go's client-go prints it (the API status message, such as
/// `secrets "x" not found`).
pub fn kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// Argo's provider type of a metric (`metricproviders.Type`), `Unknown Provider` if none.
pub fn provider_type(metric: &Metric) -> &'static str {
    let p = &metric.provider;
    if p.prometheus.is_some() {
        "Prometheus"
    } else if p.job.is_some() {
        "Job"
    } else if p.kayenta.is_some() {
        "Kayenta"
    } else if p.web.is_some() {
        "Web"
    } else if p.datadog.is_some() {
        "Datadog"
    } else if p.wavefront.is_some() {
        "Wavefront"
    } else if p.new_relic.is_some() {
        "NewRelic"
    } else if p.cloud_watch.is_some() {
        "CloudWatch"
    } else if p.graphite.is_some() {
        "Graphite"
    } else if p.influxdb.is_some() {
        "Influxdb"
    } else if p.skywalking.is_some() {
        "SkyWalking"
    } else if p.plugin.is_some() {
        "RPCPlugin"
    } else {
        "Unknown Provider"
    }
}

/// Chooses the provider for a metric.
pub trait ProviderSource: Send + Sync {
    /// The provider for `metric` (of a run in `namespace`), or the error its measurement
    /// reports.
    fn provider(&self, namespace: &str, metric: &Metric)
    -> Result<Arc<dyn MetricProvider>, String>;
}

/// The standard providers, configured once per controller.
#[derive(Clone)]
pub struct ProviderFactory {
    pub http: http::HttpClient,
    /// Client for Job metrics; without one, Job metrics error.
    pub job_client: Option<kube::Client>,
    /// `ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE`.
    pub job_namespace: Option<String>,
    /// The Job client talks to another cluster (`ARGO_ROLLOUTS_ANALYSIS_JOB_KUBECONFIG`).
    pub job_other_cluster: bool,
    /// `ARGO_ROLLOUTS_PROMETHEUS_ADDRESS`.
    pub prometheus_address: Option<String>,
}

impl ProviderFactory {
    /// Providers with settings from the environment, Jobs created with `job_client`.
    ///
    /// `ARGO_ROLLOUTS_ANALYSIS_JOB_KUBECONFIG` is not read here: a caller honouring it builds
    /// that client and sets [`ProviderFactory::job_other_cluster`].
    pub fn from_env(job_client: Option<kube::Client>) -> ProviderFactory {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        ProviderFactory {
            http: http::HttpClient::new(),
            job_client,
            job_namespace: env(job::JOB_NAMESPACE_ENV),
            job_other_cluster: false,
            prometheus_address: env(prometheus::ADDRESS_ENV),
        }
    }
}

impl ProviderSource for ProviderFactory {
    fn provider(
        &self,
        _namespace: &str,
        metric: &Metric,
    ) -> Result<Arc<dyn MetricProvider>, String> {
        match provider_type(metric) {
            "Prometheus" => Ok(Arc::new(prometheus::PrometheusProvider::new(
                metric,
                self.prometheus_address.as_deref(),
                self.http.clone(),
            )?)),
            "Web" => Ok(Arc::new(web::WebProvider::new(metric, self.http.clone())?)),
            "Job" => match &self.job_client {
                Some(client) => Ok(Arc::new(job::JobProvider::new(
                    client.clone(),
                    self.job_namespace.clone(),
                    self.job_other_cluster,
                ))),
                None => Err("job metrics need a Kubernetes client".into()),
            },
            "Unknown Provider" => Err(format!("no valid provider in metric '{}'", metric.name)),
            other => Err(format!(
                "metric provider {other} is not supported by this controller"
            )),
        }
    }
}

/// Reads Secrets for secret-backed arguments.
pub trait SecretSource: Send + Sync {
    /// The decoded data of Secret `name` in `namespace`, or the error text.
    fn secret<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<BTreeMap<String, String>, String>>;
}

impl SecretSource for kube::Client {
    fn secret<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<BTreeMap<String, String>, String>> {
        Box::pin(async move {
            let api: kube::Api<Secret> = kube::Api::namespaced(self.clone(), namespace);
            let secret = api.get(name).await.map_err(|e| kube_error(&e))?;
            Ok(secret
                .data
                .into_iter()
                .flatten()
                .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                .collect())
        })
    }
}

/// One reconcile of an AnalysisRun with real I/O: secrets read, measurements taken
/// concurrently, provider garbage collection before trimming. The caller persists
/// `run.status` (when changed), records the events, deletes the run when `delete` is set, and
/// requeues after `requeue_after`.
pub async fn reconcile(
    run: &AnalysisRun,
    now: DateTime<Utc>,
    providers: &dyn ProviderSource,
    secrets: &dyn SecretSource,
) -> Reconciled {
    let plan = match begin(run, now) {
        Step::Done(done) => return *done,
        Step::Measure(plan) => plan,
    };
    let namespace = run.metadata.namespace.clone().unwrap_or_default();
    let args = run.spec.args.as_deref().unwrap_or_default();
    let mut fetched = BTreeMap::new();
    for name in secret_names(args) {
        let data = secrets.secret(&namespace, &name).await;
        fetched.insert(name, data);
    }
    let resolved = match resolve_secret_args(args, |name| {
        fetched
            .get(name)
            .cloned()
            .unwrap_or_else(|| Err(format!("secrets \"{name}\" not found")))
    }) {
        Ok(r) => r,
        Err(e) => return failed(run, format!("Unable to resolve metric arguments: {e}")),
    };
    let mut metrics = Vec::with_capacity(plan.tasks.len());
    for task in &plan.tasks {
        match metric_for_task(run, task, &resolved) {
            Ok(metric) => metrics.push(metric),
            Err(message) => return failed(run, message),
        }
    }
    let ctx = MeasureContext { run, now };
    let namespace = namespace.as_str();
    let measurements = plan.tasks.iter().zip(&metrics).map(|(task, metric)| {
        let ctx = &ctx;
        async move {
            let provider = match providers.provider(namespace, metric) {
                Ok(p) => p,
                Err(e) => return MeasurementOutcome::provider_error(task.clone(), e, now),
            };
            let measurement = match &task.action {
                TaskAction::Start => provider.run(ctx, metric).await,
                TaskAction::Resume(m) => provider.resume(ctx, metric, m.clone()).await,
                TaskAction::Terminate(m) => provider.terminate(ctx, metric, m.clone()).await,
            };
            MeasurementOutcome {
                task: task.clone(),
                measurement,
                metadata: provider.metadata(metric),
            }
        }
    });
    let outcomes = join_all(measurements).await;
    let mut out = finish(run, &plan, outcomes, &resolved.redactor, now);
    // Argo lets the provider garbage-collect before trimming; a failure stops the trimming.
    let requests = std::mem::take(&mut out.trim);
    let gc_run = out.run.clone();
    let ctx = MeasureContext { run: &gc_run, now };
    for request in requests {
        let metric = &plan.spec.metrics[request.metric];
        let Ok(provider) = providers.provider(namespace, metric) else {
            continue;
        };
        if provider
            .garbage_collect(&ctx, metric, request.limit)
            .await
            .is_err()
        {
            break;
        }
        let status = out.run.status.as_mut().expect("finish sets the status");
        trim_measurements(status, &plan.spec, &request);
    }
    out
}
