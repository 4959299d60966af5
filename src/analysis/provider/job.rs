//! The job provider: a Kubernetes Job per measurement; it completing is Successful, failing is
//! Failed (Argo's `metricproviders/job`).
//!
//! The Job is named `<run uid>.<metric>.<n>` (n = measurements taken so far + 1; the metric
//! name is shortened so the whole fits in 63 characters), labelled
//! `analysisrun.argoproj.io/uid`, annotated with the run's name and namespace and the metric's
//! name, and owned by the AnalysisRun unless it lives in another namespace
//! (`ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE`) or cluster. A running measurement has no `resumeAt`:
//! it is re-checked whenever the run is reconciled, which the controller should trigger when a
//! labelled Job completes or fails.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, ListParams, PostParams, PropagationPolicy};

use super::{MeasureContext, MetricProvider, kube_error, mark_error};
use crate::analysis::assess::k8s_time;
use crate::crd::{AnalysisPhase, AnalysisRun, Measurement, Metric};

/// Environment variable naming the namespace Jobs are created in (default: the run's).
pub const JOB_NAMESPACE_ENV: &str = "ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE";
/// Environment variable naming a kubeconfig for the Job client (`in-cluster` or a path).
pub const JOB_KUBECONFIG_ENV: &str = "ARGO_ROLLOUTS_ANALYSIS_JOB_KUBECONFIG";
/// Measurement metadata key with the Job's name.
pub const JOB_NAME_KEY: &str = "job-name";
/// Measurement metadata key with the Job's namespace.
pub const JOB_NAMESPACE_KEY: &str = "job-namespace";
/// Job annotation with the owning run's name.
pub const RUN_NAME_ANNOTATION: &str = "analysisrun.argoproj.io/name";
/// Job annotation with the owning run's namespace.
pub const RUN_NAMESPACE_ANNOTATION: &str = "analysisrun.argoproj.io/namespace";
/// Job annotation with the metric's name.
pub const METRIC_NAME_ANNOTATION: &str = "analysisrun.argoproj.io/metric-name";
/// Job label with the owning run's UID (also what the controller watches Jobs by).
pub const RUN_UID_LABEL: &str = "analysisrun.argoproj.io/uid";

/// Kubernetes' limit for names used as label values.
const DNS_LIMIT: usize = 63;

/// `<uid>.<metric>.<n>`, the metric shortened to fit 63 characters (Argo's `newJobName`).
pub fn job_name(run: &AnalysisRun, metric_name: &str) -> String {
    let id = run
        .status
        .as_ref()
        .and_then(|s| s.metric_results.as_ref())
        .and_then(|r| r.iter().find(|r| r.name == metric_name))
        .map_or(1, |r| r.count.unwrap_or(0) + r.error.unwrap_or(0) + 1);
    let uid = run.metadata.uid.as_deref().unwrap_or_default();
    let name = format!("{uid}.{metric_name}.{id}");
    if name.len() <= DNS_LIMIT {
        return name;
    }
    let keep = metric_name.len().saturating_sub(name.len() - DNS_LIMIT);
    // Go slices bytes; stay on a character boundary.
    let mut cut = keep;
    while !metric_name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{uid}.{}.{id}", &metric_name[..cut])
}

/// The Job for a measurement (Argo's `newMetricJob`). `job_namespace` overrides the run's
/// namespace; `other_cluster` says the Job client talks to another cluster. In both cases the
/// Job has no owner reference (it could not point across namespaces or clusters).
pub fn build_job(
    run: &AnalysisRun,
    metric: &Metric,
    job_namespace: Option<&str>,
    other_cluster: bool,
) -> Result<Job, String> {
    let job_metric = metric
        .provider
        .job
        .as_ref()
        .ok_or("metric has no job provider")?;
    let run_namespace = run.metadata.namespace.clone().unwrap_or_default();
    let namespace = job_namespace
        .filter(|n| !n.is_empty())
        .map_or_else(|| run_namespace.clone(), String::from);
    let template = job_metric.metadata.clone().unwrap_or_default();
    let mut labels = template.labels.unwrap_or_default();
    labels.insert(
        RUN_UID_LABEL.into(),
        run.metadata.uid.clone().unwrap_or_default(),
    );
    let mut annotations = template.annotations.unwrap_or_default();
    annotations.insert(
        RUN_NAME_ANNOTATION.into(),
        run.metadata.name.clone().unwrap_or_default(),
    );
    annotations.insert(RUN_NAMESPACE_ANNOTATION.into(), run_namespace.clone());
    annotations.insert(METRIC_NAME_ANNOTATION.into(), metric.name.clone());
    let owner_references = (namespace == run_namespace && !other_cluster).then(|| {
        vec![OwnerReference {
            api_version: format!("{}/{}", crate::crd::GROUP, crate::crd::VERSION),
            kind: "AnalysisRun".into(),
            name: run.metadata.name.clone().unwrap_or_default(),
            uid: run.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]
    });
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(job_name(run, &metric.name)),
            namespace: Some(namespace),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references,
            ..Default::default()
        },
        spec: Some(job_metric.spec.clone()),
        status: None,
    })
}

/// The Job a measurement refers to, from its metadata (Argo's `getJobNamespacedName`).
pub fn job_reference(
    measurement: &Measurement,
    default_namespace: &str,
) -> Result<(String, String), String> {
    let missing = || "job metadata reference missing".to_string();
    let metadata = measurement.metadata.as_ref().ok_or_else(missing)?;
    let name = metadata
        .get(JOB_NAME_KEY)
        .filter(|n| !n.is_empty())
        .ok_or_else(missing)?;
    let namespace = metadata
        .get(JOB_NAMESPACE_KEY)
        .filter(|n| !n.is_empty())
        .map_or(default_namespace, String::as_str);
    Ok((namespace.to_string(), name.clone()))
}

/// A measurement updated from its Job: a `Complete` condition makes it Successful, `Failed`
/// makes it Failed (the last such condition wins; as in Argo the condition's status is not
/// looked at), otherwise it stays as it is.
pub fn judge_job(job: &Job, mut measurement: Measurement, now: DateTime<Utc>) -> Measurement {
    for condition in job
        .status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
    {
        match condition.type_.as_str() {
            "Complete" => {
                measurement.finished_at = Some(k8s_time(now));
                measurement.phase = AnalysisPhase::Successful;
            }
            "Failed" => {
                measurement.finished_at = Some(k8s_time(now));
                measurement.phase = AnalysisPhase::Failed;
            }
            _ => {}
        }
    }
    measurement
}

/// The job provider with its Kubernetes client.
#[derive(Clone)]
pub struct JobProvider {
    client: kube::Client,
    job_namespace: Option<String>,
    other_cluster: bool,
}

impl JobProvider {
    /// `job_namespace`: where Jobs go (default: the run's namespace); `other_cluster`: the
    /// client is not the controller's cluster (Argo's custom Job kubeconfig).
    pub fn new(client: kube::Client, job_namespace: Option<String>, other_cluster: bool) -> Self {
        JobProvider {
            client,
            job_namespace,
            other_cluster,
        }
    }

    async fn create(
        &self,
        ctx: &MeasureContext<'_>,
        metric: &Metric,
    ) -> Result<Measurement, String> {
        let job = build_job(
            ctx.run,
            metric,
            self.job_namespace.as_deref(),
            self.other_cluster,
        )?;
        let namespace = job.metadata.namespace.clone().unwrap_or_default();
        let name = job.metadata.name.clone().unwrap_or_default();
        let api: Api<Job> = Api::namespaced(self.client.clone(), &namespace);
        let created = match api.create(&PostParams::default(), &job).await {
            Ok(created) => created,
            Err(kube::Error::Api(status)) if status.is_already_exists() => {
                let create_error = status.message.clone();
                let existing = api.get(&name).await.map_err(|_| create_error.clone())?;
                let run_uid = ctx.run.metadata.uid.clone().unwrap_or_default();
                let owner_uid = if self.other_cluster
                    || Some(&namespace) != ctx.run.metadata.namespace.as_ref()
                {
                    // Argo reads the label of the Job it meant to create, which always matches.
                    job.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(RUN_UID_LABEL).cloned())
                        .unwrap_or_default()
                } else {
                    existing
                        .metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .find(|r| r.controller == Some(true))
                        .map(|r| r.uid.clone())
                        .unwrap_or_default()
                };
                if owner_uid != run_uid {
                    return Err(create_error);
                }
                existing
            }
            Err(e) => return Err(kube_error(&e)),
        };
        Ok(Measurement {
            phase: AnalysisPhase::Running,
            started_at: Some(ctx.time()),
            metadata: Some(BTreeMap::from([
                (
                    JOB_NAME_KEY.to_string(),
                    created.metadata.name.unwrap_or_default(),
                ),
                (
                    JOB_NAMESPACE_KEY.to_string(),
                    created.metadata.namespace.unwrap_or_default(),
                ),
            ])),
            ..Default::default()
        })
    }

    async fn delete(&self, namespace: &str, name: &str) -> Result<(), String> {
        let api: Api<Job> = Api::namespaced(self.client.clone(), namespace);
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..Default::default()
        };
        match api.delete(name, &params).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
            Err(e) => Err(kube_error(&e)),
        }
    }
}

impl MetricProvider for JobProvider {
    fn kind(&self) -> &'static str {
        "Job"
    }

    fn run<'a>(
        &'a self,
        ctx: &'a MeasureContext<'a>,
        metric: &'a Metric,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(async move {
            match self.create(ctx, metric).await {
                Ok(m) => m,
                Err(e) => mark_error(
                    Measurement {
                        phase: AnalysisPhase::Running,
                        started_at: Some(ctx.time()),
                        ..Default::default()
                    },
                    e,
                    ctx,
                ),
            }
        })
    }

    fn resume<'a>(
        &'a self,
        ctx: &'a MeasureContext<'a>,
        _metric: &'a Metric,
        measurement: Measurement,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(async move {
            let namespace = ctx.run.metadata.namespace.clone().unwrap_or_default();
            let (namespace, name) = match job_reference(&measurement, &namespace) {
                Ok(r) => r,
                Err(e) => return mark_error(measurement, e, ctx),
            };
            let api: Api<Job> = Api::namespaced(self.client.clone(), &namespace);
            match api.get(&name).await {
                Ok(job) => judge_job(&job, measurement, ctx.now),
                Err(e) => mark_error(measurement, kube_error(&e), ctx),
            }
        })
    }

    fn terminate<'a>(
        &'a self,
        ctx: &'a MeasureContext<'a>,
        _metric: &'a Metric,
        mut measurement: Measurement,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(async move {
            let namespace = ctx.run.metadata.namespace.clone().unwrap_or_default();
            let (namespace, name) = match job_reference(&measurement, &namespace) {
                Ok(r) => r,
                Err(e) => return mark_error(measurement, e, ctx),
            };
            if let Err(e) = self.delete(&namespace, &name).await {
                return mark_error(measurement, e, ctx);
            }
            measurement.finished_at = Some(ctx.time());
            measurement.phase = AnalysisPhase::Successful;
            measurement
        })
    }

    fn garbage_collect<'a>(
        &'a self,
        ctx: &'a MeasureContext<'a>,
        _metric: &'a Metric,
        limit: usize,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let uid = ctx.run.metadata.uid.clone().unwrap_or_default();
            let api: Api<Job> = Api::all(self.client.clone());
            let params = ListParams::default().labels(&format!("{RUN_UID_LABEL}={uid}"));
            let mut jobs = api.list(&params).await.map_err(|e| kube_error(&e))?.items;
            jobs.sort_by(|a, b| {
                a.metadata
                    .creation_timestamp
                    .cmp(&b.metadata.creation_timestamp)
            });
            let excess = jobs.len().saturating_sub(limit);
            for job in &jobs[..excess] {
                self.delete(
                    job.metadata.namespace.as_deref().unwrap_or_default(),
                    job.metadata.name.as_deref().unwrap_or_default(),
                )
                .await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};

    fn run() -> AnalysisRun {
        serde_norway::from_str(
            r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata: {name: ro-abc-2-1, namespace: prod, uid: 0c5f1e2a-5b0d-4d1e-9c7e-3f2a1b0c9d8e}
spec:
  metrics:
  - name: smoke
    provider:
      job:
        metadata: {labels: {team: sre}, annotations: {note: x}}
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: busybox}]
status:
  phase: Running
  metricResults:
  - {name: smoke, phase: Running, count: 2, error: 1}
"#,
        )
        .unwrap()
    }

    #[test]
    fn names() {
        let r = run();
        assert_eq!(
            job_name(&r, "smoke"),
            "0c5f1e2a-5b0d-4d1e-9c7e-3f2a1b0c9d8e.smoke.4"
        );
        assert_eq!(
            job_name(&r, "new"),
            "0c5f1e2a-5b0d-4d1e-9c7e-3f2a1b0c9d8e.new.1"
        );
        let long = "a-very-long-metric-name-that-does-not-fit";
        let name = job_name(&r, long);
        assert_eq!(name.len(), 63);
        // As in Go, the cut is by length only (a trailing dash may remain).
        assert_eq!(
            name,
            "0c5f1e2a-5b0d-4d1e-9c7e-3f2a1b0c9d8e.a-very-long-metric-name-.1"
        );
    }

    #[test]
    fn jobs() {
        let r = run();
        let job = build_job(&r, &r.spec.metrics[0], None, false).unwrap();
        let meta = &job.metadata;
        assert_eq!(meta.namespace.as_deref(), Some("prod"));
        let labels = meta.labels.as_ref().unwrap();
        assert_eq!(labels["team"], "sre");
        assert_eq!(
            labels[RUN_UID_LABEL],
            "0c5f1e2a-5b0d-4d1e-9c7e-3f2a1b0c9d8e"
        );
        let annotations = meta.annotations.as_ref().unwrap();
        assert_eq!(annotations["note"], "x");
        assert_eq!(annotations[RUN_NAME_ANNOTATION], "ro-abc-2-1");
        assert_eq!(annotations[RUN_NAMESPACE_ANNOTATION], "prod");
        assert_eq!(annotations[METRIC_NAME_ANNOTATION], "smoke");
        let owner = &meta.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                owner.kind.as_str(),
                owner.api_version.as_str(),
                owner.controller
            ),
            ("AnalysisRun", "argoproj.io/v1alpha1", Some(true))
        );
        assert_eq!(job.spec.as_ref().unwrap().backoff_limit, Some(0));
        // Another namespace or cluster: no owner reference.
        let elsewhere = build_job(&r, &r.spec.metrics[0], Some("jobs"), false).unwrap();
        assert_eq!(elsewhere.metadata.namespace.as_deref(), Some("jobs"));
        assert!(elsewhere.metadata.owner_references.is_none());
        assert!(
            build_job(&r, &r.spec.metrics[0], None, true)
                .unwrap()
                .metadata
                .owner_references
                .is_none()
        );
    }

    #[test]
    fn outcomes() {
        let now: DateTime<Utc> = "2024-05-01T10:00:00Z".parse().unwrap();
        let running = Measurement {
            phase: AnalysisPhase::Running,
            metadata: Some(BTreeMap::from([(
                JOB_NAME_KEY.to_string(),
                "j".to_string(),
            )])),
            ..Default::default()
        };
        assert_eq!(
            job_reference(&running, "prod").unwrap(),
            ("prod".into(), "j".into())
        );
        assert_eq!(
            job_reference(&Measurement::default(), "prod").unwrap_err(),
            "job metadata reference missing"
        );
        let with = |kind: &str| Job {
            status: Some(JobStatus {
                conditions: Some(vec![JobCondition {
                    type_: kind.into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let done = judge_job(&with("Complete"), running.clone(), now);
        assert_eq!(done.phase, AnalysisPhase::Successful);
        assert_eq!(done.finished_at, Some(k8s_time(now)));
        assert_eq!(
            judge_job(&with("Failed"), running.clone(), now).phase,
            AnalysisPhase::Failed
        );
        let still = judge_job(&with("Suspended"), running.clone(), now);
        assert_eq!(still, running);
    }
}
