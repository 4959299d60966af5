//! One reconcile of an AnalysisRun, composed from the pure steps in [`super::assess`].
//!
//! [`begin`] decides what the run needs (nothing, a terminal Error, or measurements);
//! the caller resolves secret arguments and takes the measurements (see
//! [`super::provider::reconcile`] for the async driver with real providers); [`finish`] folds
//! the results in and assesses. [`reconcile_with`] runs the whole cycle with synchronous
//! closures, which is what tests and simulations use.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::args::{Redactor, ResolvedArgs, resolve_metric_args, resolve_secret_args};
use super::assess::{
    MeasurementOutcome, MeasurementTask, RunEvent, RunSpec, TrimRequest, assess_run,
    due_measurements, fail_run, measurements_to_trim, prepare, record_measurements, requeue_after,
    trim_measurements, ttl_deadline, ttl_expired,
};
use crate::crd::{AnalysisRun, Metric};

/// The outcome of one reconcile: the run to persist (its status), events to record, and when
/// to come back.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconciled {
    /// The run with its new status (persist the status if it differs from the input's).
    pub run: AnalysisRun,
    pub events: Vec<RunEvent>,
    /// Metrics over their retention limit. [`finish`] leaves them to the caller (whose provider
    /// may need to garbage-collect first, then [`trim_measurements`]); the drivers apply them.
    pub trim: Vec<TrimRequest>,
    /// Reconcile again after this long (`None`: only on a change or resync).
    pub requeue_after: Option<Duration>,
    /// The run is complete and past its TTL: delete it.
    pub delete: bool,
}

impl Reconciled {
    fn unchanged(run: &AnalysisRun) -> Reconciled {
        Reconciled {
            run: run.clone(),
            events: Vec::new(),
            trim: Vec::new(),
            requeue_after: None,
            delete: false,
        }
    }
}

/// Measurements to take for a running run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub spec: RunSpec,
    pub tasks: Vec<MeasurementTask>,
}

/// What a run needs now.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Nothing to measure: a completed run (possibly to delete by TTL), or a run that just
    /// failed on its spec.
    Done(Box<Reconciled>),
    /// Resolve secrets ([`super::args::resolve_secret_args`]), take the measurements of
    /// `plan.tasks`, then call [`finish`] — even when there are no tasks, since assessing
    /// the run is what completes it.
    Measure(Plan),
}

/// The first half of a reconcile (Argo's `reconcileAnalysisRun` up to the measurements).
pub fn begin(run: &AnalysisRun, now: DateTime<Utc>) -> Step {
    let completed = run.status.as_ref().is_some_and(|s| s.phase.is_completed());
    if completed {
        let mut done = Reconciled::unchanged(run);
        done.delete = ttl_expired(run, now);
        if !done.delete {
            done.requeue_after = ttl_deadline(run).map(|t| (t - now).to_std().unwrap_or_default());
        }
        return Step::Done(Box::new(done));
    }
    match prepare(run) {
        Ok(spec) => {
            let tasks = due_measurements(run, &spec, now);
            Step::Measure(Plan { spec, tasks })
        }
        Err(message) => Step::Done(Box::new(failed(run, message))),
    }
}

/// Ends the run in phase Error with `message` (a spec error, or
/// `Unable to resolve metric arguments: <secret error>`).
pub fn failed(run: &AnalysisRun, message: String) -> Reconciled {
    let mut out = Reconciled::unchanged(run);
    out.events = fail_run(out.run.status.get_or_insert_with(Default::default), message);
    out
}

/// The metric of a task with the real argument values (secrets included), ready for a
/// provider. The error is the run's message (`Unable to resolve metric arguments: …`).
pub fn metric_for_task(
    run: &AnalysisRun,
    task: &MeasurementTask,
    args: &ResolvedArgs,
) -> Result<Metric, String> {
    resolve_metric_args(&run.spec.metrics[task.metric], &args.args)
        .map_err(|e| format!("Unable to resolve metric arguments: {e}"))
}

/// The second half: records the measurements, assesses the run and computes the requeue.
pub fn finish(
    run: &AnalysisRun,
    plan: &Plan,
    outcomes: Vec<MeasurementOutcome>,
    redactor: &Redactor,
    now: DateTime<Utc>,
) -> Reconciled {
    let mut run = run.clone();
    let status = run.status.get_or_insert_with(Default::default);
    status.metric_results.get_or_insert_with(Vec::new);
    record_measurements(status, &plan.spec, outcomes, redactor, now);
    let events = assess_run(&mut run, &plan.spec, now);
    // Go's `omitempty`: no results yet (all metrics in their initial delay) is no field.
    if let Some(status) = &mut run.status
        && status.metric_results.as_ref().is_some_and(Vec::is_empty)
    {
        status.metric_results = None;
    }
    let trim = measurements_to_trim(run.status.as_ref().expect("set above"), &plan.spec);
    let requeue_after = requeue_after(&run, &plan.spec, now);
    Reconciled {
        run,
        events,
        trim,
        requeue_after,
        delete: false,
    }
}

/// A whole reconcile with synchronous I/O: `secret(name)` returns a Secret's data in the run's
/// namespace, `measure(task, metric)` takes (or resumes, or terminates) one measurement with
/// the secret-resolved metric. Measurements beyond their retention limit are trimmed (no
/// provider garbage collection).
pub fn reconcile_with<S, M>(
    run: &AnalysisRun,
    now: DateTime<Utc>,
    secret: S,
    mut measure: M,
) -> Reconciled
where
    S: FnMut(&str) -> Result<BTreeMap<String, String>, String>,
    M: FnMut(&MeasurementTask, &Metric) -> MeasurementOutcome,
{
    let plan = match begin(run, now) {
        Step::Done(done) => return *done,
        Step::Measure(plan) => plan,
    };
    let args = match resolve_secret_args(run.spec.args.as_deref().unwrap_or_default(), secret) {
        Ok(args) => args,
        Err(e) => return failed(run, format!("Unable to resolve metric arguments: {e}")),
    };
    let mut outcomes = Vec::with_capacity(plan.tasks.len());
    for task in &plan.tasks {
        match metric_for_task(run, task, &args) {
            Ok(metric) => outcomes.push(measure(task, &metric)),
            Err(message) => return failed(run, message),
        }
    }
    let mut out = finish(run, &plan, outcomes, &args.redactor, now);
    let status = out.run.status.as_mut().expect("finish sets the status");
    for request in &out.trim {
        trim_measurements(status, &plan.spec, request);
    }
    out
}
