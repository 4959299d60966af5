//! The AnalysisRun controller runtime: a work queue over AnalysisRuns (the same namespace scope
//! and `--instance-id` label selector as the Rollout controller) that drives
//! [`super::provider::reconcile`] and persists what it returns.
//!
//! - Status: AnalysisRuns have no status subresource, so the status is written with a JSON merge
//!   patch of the object (`{"status": <diff>}`), and only when it changed.
//! - Events: `Metric<Phase>` / `AnalysisRun<Phase>` on the run (Warning for Failed and Error).
//! - TTL: a completed run past its TTL is deleted; one with a TTL ahead is requeued at its
//!   deadline; a completed run with nothing pending is never requeued (no periodic work).
//! - Jobs: a Job labelled `analysisrun.argoproj.io/uid` triggers the run named by its
//!   annotations (owned Jobs and Jobs in `ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE` alike), since
//!   running Job measurements have no requeue time.
//!
//! A failing run is retried after 5 s on its own; it never stops the others.
//!
//! Metrics: every reconcile is observed in `analysis_run_reconcile` (a failed one also counts in
//! `analysis_run_reconcile_error`), and the run cache is published for the scrape-time
//! `analysis_run_*` gauges ([`Publish`]).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{DeleteParams, Patch, PatchParams},
    runtime::{Controller, WatchStreamExt, controller::Action, reflector::ObjectRef, watcher},
};
use serde_json::{Map, Value};
use tracing::{info, warn};

use super::provider::{
    ProviderFactory,
    job::{RUN_NAME_ANNOTATION, RUN_NAMESPACE_ANNOTATION, RUN_UID_LABEL},
};
use super::reconcile::Reconciled;
use crate::crd::AnalysisRun;

/// Settings of the AnalysisRun controller (shared with the Rollout controller's process).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Watch only this namespace (`--namespaced`).
    pub namespace: Option<String>,
    /// `--instance-id` segregation (see [`crate::controller::instance_selector`]).
    pub instance_id: Option<String>,
    /// Parallel reconciles (`--analysis-threads`, default 30).
    pub threads: u16,
}

/// Where the AnalysisRun controller reports to the process's `/metrics`: the reconcile
/// histogram and error counter, and the slot its AnalysisRun cache is published in.
#[derive(Clone, Default)]
pub struct Publish {
    pub metrics: Arc<crate::metrics::Metrics>,
    pub runs: crate::metrics::AnalysisRunStoreSlot,
}

/// Shared state of all AnalysisRun reconciles.
pub struct Context {
    pub client: Client,
    pub recorder: crate::events::EventRecorder,
    pub providers: ProviderFactory,
    /// Reconciles performed so far (every run).
    pub reconciles: AtomicU64,
    pub metrics: Arc<crate::metrics::Metrics>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot patch AnalysisRun status: {0}")]
    Patch(#[source] kube::Error),
    #[error("cannot delete AnalysisRun: {0}")]
    Delete(#[source] kube::Error),
}

/// A JSON merge patch (RFC 7386) turning `old` into `new`; `None` when they are equal.
pub fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    if old == new {
        return None;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = Map::new();
            for (k, ov) in o {
                match n.get(k) {
                    None => {
                        patch.insert(k.clone(), Value::Null);
                    }
                    Some(nv) => {
                        if let Some(d) = merge_diff(ov, nv) {
                            patch.insert(k.clone(), d);
                        }
                    }
                }
            }
            for (k, nv) in n {
                if !o.contains_key(k) {
                    patch.insert(k.clone(), nv.clone());
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        // Scalars, arrays and type changes are replaced whole (a null in a merge patch deletes,
        // so an explicit null in `new` also deletes, which is what an absent field means).
        _ => Some(new.clone()),
    }
}

/// The merge patch that writes `new`'s status over `old`'s; `None` when unchanged.
pub fn status_patch(old: &AnalysisRun, new: &AnalysisRun) -> Option<Value> {
    if old.status == new.status {
        return None;
    }
    let old_status = serde_json::to_value(&old.status).unwrap_or(Value::Null);
    let new_status = serde_json::to_value(&new.status).unwrap_or(Value::Null);
    let diff = match (&old_status, &new_status) {
        (Value::Object(_), Value::Object(_)) => merge_diff(&old_status, &new_status)?,
        _ => new_status,
    };
    Some(serde_json::json!({ "status": diff }))
}

/// When to look at the run again: at `requeue_after`, else only on a change (a completed run
/// with no TTL pending is not requeued at all).
pub fn next_action(out: &Reconciled) -> Action {
    if out.delete {
        return Action::await_change();
    }
    match out.requeue_after {
        Some(after) => Action::requeue(after.max(Duration::from_millis(100))),
        None => Action::await_change(),
    }
}

/// One reconcile, observed in the metrics like Argo's `syncHandler` (also for a run being
/// deleted, which is left alone).
async fn reconcile(run: Arc<AnalysisRun>, ctx: Arc<Context>) -> Result<Action, Error> {
    let start = std::time::Instant::now();
    let result = reconcile_run(&run, &ctx).await;
    let (ns, name) = (run.namespace().unwrap_or_default(), run.name_any());
    ctx.metrics
        .observe_analysis_reconcile(&ns, &name, start.elapsed());
    if result.is_err() {
        ctx.metrics.analysis_reconcile_error(&ns, &name);
    }
    result
}

async fn reconcile_run(run: &AnalysisRun, ctx: &Context) -> Result<Action, Error> {
    if run.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let count = ctx.reconciles.fetch_add(1, Ordering::Relaxed) + 1;
    let ns = run.namespace().unwrap_or_default();
    let name = run.name_any();
    let api: Api<AnalysisRun> = Api::namespaced(ctx.client.clone(), &ns);
    let out = super::provider::reconcile(run, Utc::now(), &ctx.providers, &ctx.client).await;
    let phase = out
        .run
        .status
        .as_ref()
        .map(|s| s.phase.to_string())
        .unwrap_or_default();
    info!(namespace = %ns, analysisrun = %name, phase = %phase, reconciles = count, "AnalysisRun reconciled");
    if out.delete {
        info!(namespace = %ns, analysisrun = %name, "deleting AnalysisRun past its TTL");
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            Err(e) => return Err(Error::Delete(e)),
        }
        return Ok(Action::await_change());
    }
    if let Some(patch) = status_patch(run, &out.run) {
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(Error::Patch)?;
    }
    let reference = run.object_ref(&());
    for event in &out.events {
        let type_ = if event.warning { "Warning" } else { "Normal" };
        if let Err(e) = ctx
            .recorder
            .publish(&reference, type_, &event.reason, &event.message)
            .await
        {
            warn!(namespace = %ns, analysisrun = %name, error = %e, reason = %event.reason, "cannot record event");
        }
    }
    Ok(next_action(&out))
}

fn error_policy(run: Arc<AnalysisRun>, err: &Error, _ctx: Arc<Context>) -> Action {
    warn!(namespace = %run.namespace().unwrap_or_default(), analysisrun = %run.name_any(), error = %err, "AnalysisRun reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

/// The run a measurement Job belongs to (from its annotations, which also cover Jobs in another
/// namespace that carry no owner reference).
fn job_owner(job: &Job) -> Option<ObjectRef<AnalysisRun>> {
    let annotations = job.metadata.annotations.as_ref()?;
    let name = annotations.get(RUN_NAME_ANNOTATION)?;
    let namespace = annotations
        .get(RUN_NAMESPACE_ANNOTATION)
        .cloned()
        .or_else(|| job.namespace())?;
    Some(ObjectRef::new(name).within(&namespace))
}

fn scoped<K>(client: &Client, namespace: &Option<String>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Runs the AnalysisRun controller until `shutdown` resolves.
pub async fn run(
    client: Client,
    settings: Settings,
    publish: Publish,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> anyhow::Result<Arc<Context>> {
    let providers = ProviderFactory::from_env(Some(client.clone()));
    let selector = crate::controller::instance_selector(&settings.instance_id);
    let runs: Api<AnalysisRun> = scoped(&client, &settings.namespace);
    let job_api: Api<Job> = match &providers.job_namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => scoped(&client, &settings.namespace),
    };
    let jobs = watcher(
        job_api,
        watcher::Config::default()
            .labels(RUN_UID_LABEL)
            .any_semantic(),
    )
    .default_backoff()
    .touched_objects();
    let ctx = Arc::new(Context {
        client: client.clone(),
        recorder: crate::events::EventRecorder::new(client.clone()),
        providers,
        reconciles: AtomicU64::new(0),
        metrics: publish.metrics,
    });
    info!(?settings, "starting AnalysisRun controller");
    let controller = Controller::new(
        runs,
        watcher::Config::default().labels(&selector).any_semantic(),
    )
    .with_config(kube::runtime::controller::Config::default().concurrency(settings.threads.max(1)));
    let _ = publish.runs.set(controller.store());
    controller
        .watches_stream(jobs, |job: Job| job_owner(&job))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "analysis controller event");
            }
        })
        .await;
    info!("AnalysisRun controller stopped");
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{AnalysisPhase, AnalysisRunStatus};
    use serde_json::json;

    fn reconciled(requeue_after: Option<Duration>, delete: bool) -> Reconciled {
        Reconciled {
            run: AnalysisRun::default(),
            events: vec![],
            trim: vec![],
            requeue_after,
            delete,
        }
    }

    #[test]
    fn merge_diff_sets_changes_and_nulls_removed_keys() {
        let old = json!({"phase": "Running", "message": "x", "runSummary": {"count": 1, "successful": 1}});
        let new = json!({"phase": "Successful", "runSummary": {"count": 2, "successful": 1}, "completedAt": "t"});
        assert_eq!(
            merge_diff(&old, &new),
            Some(
                json!({"phase": "Successful", "message": null, "runSummary": {"count": 2}, "completedAt": "t"})
            )
        );
        assert_eq!(merge_diff(&old, &old), None);
        // Arrays are replaced whole.
        assert_eq!(
            merge_diff(&json!({"a": [1, 2]}), &json!({"a": [1]})),
            Some(json!({"a": [1]}))
        );
    }

    #[test]
    fn status_patch_only_when_changed() {
        let mut old = AnalysisRun::default();
        assert_eq!(status_patch(&old, &old), None);
        let mut new = old.clone();
        new.status = Some(AnalysisRunStatus {
            phase: AnalysisPhase::Running,
            ..Default::default()
        });
        let patch = status_patch(&old, &new).unwrap();
        assert_eq!(patch["status"]["phase"], json!("Running"));
        old.status = new.status.clone();
        new.status.as_mut().unwrap().phase = AnalysisPhase::Successful;
        assert_eq!(
            status_patch(&old, &new),
            Some(json!({"status": {"phase": "Successful"}}))
        );
    }

    #[test]
    fn completed_runs_are_not_requeued() {
        assert_eq!(
            next_action(&reconciled(None, false)),
            Action::await_change()
        );
        assert_eq!(next_action(&reconciled(None, true)), Action::await_change());
        assert_eq!(
            next_action(&reconciled(Some(Duration::from_secs(7)), false)),
            Action::requeue(Duration::from_secs(7))
        );
    }

    #[test]
    fn jobs_map_to_their_run_by_annotation() {
        let job: Job = serde_json::from_value(json!({
            "metadata": {"name": "u.m.1", "namespace": "jobs", "annotations": {
                RUN_NAME_ANNOTATION: "run", RUN_NAMESPACE_ANNOTATION: "ns"}}
        }))
        .unwrap();
        assert_eq!(job_owner(&job), Some(ObjectRef::new("run").within("ns")));
        let bare: Job = serde_json::from_value(json!({"metadata": {"name": "j"}})).unwrap();
        assert_eq!(job_owner(&bare), None);
    }
}
