//! AnalysisRuns of a rollout or experiment (Argo's `info/analysisrun_info.go`).

use rollouts::crd::AnalysisRun;

use super::{
    AnalysisRunInfo, JobInfo, MetricInfo, created_at, meta_name, meta_namespace, meta_uid,
    owned_by, parse_revision,
};

/// Measurement metadata keys of the job provider.
const JOB_NAME_KEY: &str = "job-name";
const JOB_NAMESPACE_KEY: &str = "job-namespace";

/// The runs owned by `owner_uid`: newest revision first, then oldest first, then by name
/// descending (Argo's order).
pub fn analysis_run_infos(owner_uid: &str, all_runs: &[AnalysisRun]) -> Vec<AnalysisRunInfo> {
    let mut infos: Vec<AnalysisRunInfo> = all_runs
        .iter()
        .filter(|run| owned_by(run.metadata.owner_references.as_ref(), owner_uid))
        .map(analysis_run_info)
        .collect();
    infos.sort_by(|a, b| {
        b.revision
            .cmp(&a.revision)
            .then_with(|| a.created_at.cmp(&b.created_at))
            .then_with(|| b.name.cmp(&a.name))
    });
    infos
}

/// One run: phase, measurement totals, per-metric summary and the jobs of job metrics.
pub fn analysis_run_info(run: &AnalysisRun) -> AnalysisRunInfo {
    let namespace = meta_namespace(&run.metadata);
    let mut info = AnalysisRunInfo {
        name: meta_name(&run.metadata),
        namespace: namespace.clone(),
        uid: meta_uid(&run.metadata),
        created_at: created_at(&run.metadata),
        revision: parse_revision(&run.metadata),
        status: String::new(),
        message: None,
        successful: 0,
        failed: 0,
        inconclusive: 0,
        error: 0,
        metrics: Vec::new(),
        jobs: Vec::new(),
    };
    let Some(status) = run.status.as_ref() else {
        return info;
    };
    info.status = status.phase.as_str().to_string();
    info.message = status.message.clone().filter(|m| !m.is_empty());
    for result in status.metric_results.iter().flatten() {
        let (s, f, i, e) = (
            result.successful.unwrap_or(0),
            result.failed.unwrap_or(0),
            result.inconclusive.unwrap_or(0),
            result.error.unwrap_or(0),
        );
        info.successful += s;
        info.failed += f;
        info.inconclusive += i;
        info.error += e;
        let measurements = result.measurements.as_deref().unwrap_or(&[]);
        info.metrics.push(MetricInfo {
            name: result.name.clone(),
            phase: result.phase.as_str().to_string(),
            message: result.message.clone().filter(|m| !m.is_empty()),
            successful: s,
            failed: f,
            inconclusive: i,
            error: e,
            last_value: measurements.last().and_then(|m| m.value.clone()),
        });
        for m in measurements {
            let Some(job) = m.metadata.as_ref().and_then(|md| md.get(JOB_NAME_KEY)) else {
                continue;
            };
            info.jobs.push(JobInfo {
                name: job.clone(),
                namespace: m
                    .metadata
                    .as_ref()
                    .and_then(|md| md.get(JOB_NAMESPACE_KEY))
                    .cloned()
                    .unwrap_or_else(|| namespace.clone()),
                metric_name: result.name.clone(),
                status: m.phase.as_str().to_string(),
                started_at: m.started_at.as_ref().map(rollouts::status::to_utc),
            });
        }
    }
    info
}
