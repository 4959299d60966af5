//! The AnalysisRun loop as pure functions over the run and `now` (Argo's `analysis/analysis.go`).
//!
//! One reconcile of a running AnalysisRun is:
//! 1. [`prepare`]: resolve arguments (secrets as placeholders), validate, match the dry-run and
//!    retention rules. An error ends the run in phase Error ([`fail_run`]).
//! 2. [`due_measurements`]: which metrics to measure now: a first measurement once
//!    `initialDelay` has passed, the next one `interval` after the last finished (10 s after an
//!    Error), an in-flight one to resume (once its `resumeAt` has come) or — when the run is
//!    terminating — to terminate.
//! 3. The caller takes the measurements (providers, I/O) and hands them to
//!    [`record_measurements`], which appends them and keeps the counters.
//! 4. [`assess_run`]: the metric phases and the run phase, message, summaries, events.
//! 5. [`measurements_to_trim`] / [`trim_measurements`]: keep the last 10 measurements per metric
//!    (or `measurementRetention.limit`).
//! 6. [`next_reconcile`]: when to look again.
//!
//! Everything is deterministic in its inputs; times written into the status are truncated to
//! whole seconds, which is how Kubernetes stores them anyway.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use k8s_openapi::apimachinery::pkg::{apis::meta::v1::Time, util::intstr::IntOrString};
use k8s_openapi::jiff::Timestamp;

use super::args::{Redactor, args_without_secrets, resolve_metric_args};
use crate::crd::{
    AnalysisPhase, AnalysisRun, AnalysisRunStatus, DryRun, Measurement, MeasurementRetention,
    Metric, MetricResult, RunSummary,
};

/// Measurements kept per metric unless `measurementRetention` says otherwise.
pub const DEFAULT_MEASUREMENT_HISTORY_LIMIT: usize = 10;
/// Wait before measuring again after a measurement ended in Error.
pub const DEFAULT_ERROR_RETRY_INTERVAL: TimeDelta = TimeDelta::seconds(10);
/// Consecutive errors tolerated when a metric sets no `consecutiveErrorLimit`.
pub const DEFAULT_CONSECUTIVE_ERROR_LIMIT: i64 = 4;

/// Message of a run stopped by `spec.terminate` without a worse verdict.
pub const RUN_TERMINATED_MESSAGE: &str = "Run Terminated";
/// Message of an in-flight measurement that was terminated successfully.
pub const METRIC_TERMINATED_MESSAGE: &str = "Metric Terminated";

// ---------------------------------------------------------------------------------------------
// Time and number helpers
// ---------------------------------------------------------------------------------------------

/// A status timestamp for `at`, truncated to whole seconds as the API server stores it.
pub fn k8s_time(at: DateTime<Utc>) -> Time {
    Time(Timestamp::from_second(at.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// The instant of a status timestamp.
pub fn utc(time: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(time.0.as_second(), time.0.subsec_nanosecond().max(0) as u32)
        .unwrap_or_default()
}

/// Go's `IntOrString.IntValue()`: a string is read with `strconv.Atoi`, 0 when it is not a
/// number.
pub fn int_value(v: &IntOrString) -> i64 {
    match v {
        IntOrString::Int(i) => i64::from(*i),
        IntOrString::String(s) => {
            let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return 0;
            }
            s.parse::<i64>().unwrap_or(if s.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            })
        }
    }
}

/// A Go duration string as a [`TimeDelta`]; `None` when empty or invalid.
fn duration(s: Option<&str>) -> Option<TimeDelta> {
    let s = s.filter(|s| !s.is_empty())?;
    crate::validation::parse_go_duration(s)
        .ok()
        .map(TimeDelta::nanoseconds)
}

fn n(v: Option<i32>) -> i32 {
    v.unwrap_or(0)
}

/// An `int32` field with Go's `omitempty`: zero is absent.
fn opt(v: i32) -> Option<i32> {
    (v != 0).then_some(v)
}

fn opt_string(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

// ---------------------------------------------------------------------------------------------
// 1. Preparing the spec
// ---------------------------------------------------------------------------------------------

/// The run's metrics as the loop uses them, with per-metric facts derived once.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// The metrics with `{{args.x}}` resolved; secret arguments carry
    /// [`super::args::SECRET_PLACEHOLDER`] (the real values are only put in for measuring).
    pub metrics: Vec<Metric>,
    /// Per metric: measured in dry-run mode (never affects the run's phase).
    pub dry_run: Vec<bool>,
    /// Per metric: the `measurementRetention` limit of the last rule matching it.
    pub retention: Vec<Option<i32>>,
    interval: Vec<Option<TimeDelta>>,
    initial_delay: Vec<Option<TimeDelta>>,
    /// Per metric: `Metric::effective_count` as a number (`None` = unbounded).
    count: Vec<Option<i64>>,
}

impl RunSpec {
    /// Index of the metric named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m.name == name)
    }

    /// Whether the metric named `name` runs in dry-run mode.
    pub fn is_dry_run(&self, name: &str) -> bool {
        self.index_of(name).is_some_and(|i| self.dry_run[i])
    }
}

/// Resolves and validates a run's metrics. The error is the run's message, in Argo's words:
/// `Unable to resolve metric arguments: …` or `Analysis spec invalid: …`.
pub fn prepare(run: &AnalysisRun) -> Result<RunSpec, String> {
    let args = args_without_secrets(run.spec.args.as_deref().unwrap_or_default());
    let metrics = run
        .spec
        .metrics
        .iter()
        .map(|m| resolve_metric_args(m, &args))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("Unable to resolve metric arguments: {e}"))?;
    let invalid = |e: String| format!("Analysis spec invalid: {e}");
    crate::validation::validate_analysis_metrics(&metrics).map_err(invalid)?;
    let dry_run = dry_run_metrics(run.spec.dry_run.as_deref().unwrap_or_default(), &metrics)
        .map_err(invalid)?;
    let retention = retention_metrics(
        run.spec
            .measurement_retention
            .as_deref()
            .unwrap_or_default(),
        &metrics,
    )
    .map_err(invalid)?;
    let interval = metrics
        .iter()
        .map(|m| duration(m.interval.as_deref()))
        .collect();
    let initial_delay = metrics
        .iter()
        .map(|m| duration(m.initial_delay.as_deref()))
        .collect();
    let count = metrics
        .iter()
        .map(|m| m.effective_count().as_ref().map(int_value))
        .collect();
    Ok(RunSpec {
        metrics,
        dry_run,
        retention,
        interval,
        initial_delay,
        count,
    })
}

/// An unanchored Go regular expression match; an invalid pattern matches nothing, as in Argo.
fn matches(pattern: &str, name: &str) -> bool {
    regex::Regex::new(pattern).is_ok_and(|re| re.is_match(name))
}

/// Which metrics the dry-run rules select (Argo's `GetDryRunMetrics`); a rule matching no
/// metric is an error.
pub fn dry_run_metrics(rules: &[DryRun], metrics: &[Metric]) -> Result<Vec<bool>, String> {
    match dry_run_flags(rules, metrics) {
        (flags, None) => Ok(flags),
        (_, Some(error)) => Err(error),
    }
}

/// What Argo's `GetDryRunMetrics` returns in both of its results: the metrics selected by the
/// rules up to (not including) the first rule that matches no metric, and that rule's error.
/// The `/metrics` endpoint labels metrics with the first (Argo ignores the error there).
pub fn dry_run_flags(rules: &[DryRun], metrics: &[Metric]) -> (Vec<bool>, Option<String>) {
    let mut flags = vec![false; metrics.len()];
    for (i, rule) in rules.iter().enumerate() {
        let mut matched = 0;
        for (flag, metric) in flags.iter_mut().zip(metrics) {
            if matches(&rule.metric_name, &metric.name) {
                *flag = true;
                matched += 1;
            }
        }
        if matched == 0 {
            return (
                flags,
                Some(format!("dryRun[{i}]: Rule didn't match any metric name(s)")),
            );
        }
    }
    (flags, None)
}

/// The retention limit per metric: the last matching rule wins (Argo's
/// `GetMeasurementRetentionMetrics`); a rule matching no metric is an error.
pub fn retention_metrics(
    rules: &[MeasurementRetention],
    metrics: &[Metric],
) -> Result<Vec<Option<i32>>, String> {
    let mut limits = vec![None; metrics.len()];
    for (i, rule) in rules.iter().enumerate() {
        let mut matched = 0;
        for (limit, metric) in limits.iter_mut().zip(metrics) {
            if matches(&rule.metric_name, &metric.name) {
                *limit = Some(rule.limit);
                matched += 1;
            }
        }
        if matched == 0 {
            return Err(format!(
                "measurementRetention[{i}]: Rule didn't match any metric name(s)"
            ));
        }
    }
    Ok(limits)
}

/// An event to record on the AnalysisRun.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunEvent {
    /// `Metric<Phase>` or `AnalysisRun<Phase>`.
    pub reason: String,
    pub message: String,
    /// Kubernetes event type Warning (Failed, Error) rather than Normal.
    pub warning: bool,
}

impl RunEvent {
    fn completed_run(phase: &AnalysisPhase) -> RunEvent {
        RunEvent {
            reason: format!("AnalysisRun{phase}"),
            message: format!("Analysis Completed. Result: {phase}"),
            warning: matches!(phase, AnalysisPhase::Error | AnalysisPhase::Failed),
        }
    }

    fn completed_metric(name: &str, phase: &AnalysisPhase) -> RunEvent {
        RunEvent {
            reason: format!("Metric{phase}"),
            message: format!("Metric '{name}' Completed. Result: {phase}"),
            warning: matches!(phase, AnalysisPhase::Error | AnalysisPhase::Failed),
        }
    }
}

/// Ends a run whose spec cannot be used: phase Error with `message` (the error of
/// [`prepare`] or of resolving secret arguments). As in Argo, `completedAt` is not set here.
pub fn fail_run(status: &mut AnalysisRunStatus, message: String) -> Vec<RunEvent> {
    status.phase = AnalysisPhase::Error;
    status.message = Some(message);
    vec![RunEvent::completed_run(&AnalysisPhase::Error)]
}

// ---------------------------------------------------------------------------------------------
// 2. Scheduling measurements
// ---------------------------------------------------------------------------------------------

fn result_index(status: &AnalysisRunStatus, name: &str) -> Option<usize> {
    status
        .metric_results
        .as_ref()?
        .iter()
        .position(|r| r.name == name)
}

fn result<'s>(status: &'s AnalysisRunStatus, name: &str) -> Option<&'s MetricResult> {
    status
        .metric_results
        .as_ref()?
        .iter()
        .find(|r| r.name == name)
}

fn last_measurement(result: &MetricResult) -> Option<&Measurement> {
    result.measurements.as_ref()?.last()
}

/// Whether the run stops taking new measurements: `spec.terminate`, or a non-dry-run metric
/// already Failed, Error or Inconclusive (Argo's `IsTerminating`).
pub fn is_terminating(run: &AnalysisRun) -> bool {
    run.spec.terminate == Some(true) || run.status.as_ref().is_some_and(status_terminating)
}

fn status_terminating(status: &AnalysisRunStatus) -> bool {
    status.metric_results.iter().flatten().any(|r| {
        r.dry_run != Some(true)
            && matches!(
                r.phase,
                AnalysisPhase::Failed | AnalysisPhase::Error | AnalysisPhase::Inconclusive
            )
    })
}

/// What to do for a metric in this reconcile.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskAction {
    /// Take a new measurement.
    Start,
    /// Check an in-flight measurement again (the provider's `resume`).
    Resume(Measurement),
    /// Stop an in-flight measurement because the run is terminating.
    Terminate(Measurement),
}

/// A measurement to take, resume or terminate.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasurementTask {
    /// Index into [`RunSpec::metrics`] (and `spec.metrics`).
    pub metric: usize,
    pub action: TaskAction,
}

/// The measurements due at `now` (Argo's `generateMetricTasks`).
pub fn due_measurements(
    run: &AnalysisRun,
    spec: &RunSpec,
    now: DateTime<Utc>,
) -> Vec<MeasurementTask> {
    let empty = AnalysisRunStatus::default();
    let status = run.status.as_ref().unwrap_or(&empty);
    let terminating = is_terminating(run);
    let mut tasks = Vec::new();
    for (i, metric) in spec.metrics.iter().enumerate() {
        let result = result(status, &metric.name);
        if result.is_some_and(|r| r.phase.is_completed()) {
            continue;
        }
        let last = result.and_then(last_measurement);
        if let Some(last) = last
            && last.finished_at.is_none()
        {
            if last.resume_at.as_ref().is_some_and(|at| utc(at) > now) {
                continue;
            }
            let action = if terminating {
                TaskAction::Terminate(last.clone())
            } else {
                TaskAction::Resume(last.clone())
            };
            tasks.push(MeasurementTask { metric: i, action });
            continue;
        }
        if terminating {
            continue;
        }
        let Some(last) = last else {
            if metric
                .initial_delay
                .as_deref()
                .is_some_and(|d| !d.is_empty())
            {
                let (Some(started), Some(delay)) = (&status.started_at, spec.initial_delay[i])
                else {
                    continue;
                };
                if utc(started) + delay > now {
                    continue;
                }
            }
            tasks.push(MeasurementTask {
                metric: i,
                action: TaskAction::Start,
            });
            continue;
        };
        let count = result.map_or(0, |r| n(r.count));
        if spec.count[i].is_some_and(|c| i64::from(count) >= c) {
            continue;
        }
        let interval = if last.phase == AnalysisPhase::Error {
            DEFAULT_ERROR_RETRY_INTERVAL
        } else if metric.interval.as_deref().is_some_and(|s| !s.is_empty()) {
            match spec.interval[i] {
                Some(d) => d,
                None => continue,
            }
        } else {
            DEFAULT_ERROR_RETRY_INTERVAL
        };
        let finished = last.finished_at.as_ref().map(utc).unwrap_or_default();
        if now > finished + interval {
            tasks.push(MeasurementTask {
                metric: i,
                action: TaskAction::Start,
            });
        }
    }
    tasks
}

// ---------------------------------------------------------------------------------------------
// 3. Recording measurements
// ---------------------------------------------------------------------------------------------

/// What a provider returned for a task.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasurementOutcome {
    pub task: MeasurementTask,
    pub measurement: Measurement,
    /// The provider's metadata for the metric result (e.g. the resolved Prometheus query),
    /// stored when the metric's result is created.
    pub metadata: Option<BTreeMap<String, String>>,
}

impl MeasurementOutcome {
    /// The outcome when no provider could be built for the metric: the in-flight measurement
    /// (or a new one started now) in phase Error with the provider's error as message.
    pub fn provider_error(task: MeasurementTask, message: String, now: DateTime<Utc>) -> Self {
        let mut measurement = match &task.action {
            TaskAction::Start => Measurement {
                started_at: Some(k8s_time(now)),
                ..Default::default()
            },
            TaskAction::Resume(m) | TaskAction::Terminate(m) => m.clone(),
        };
        measurement.phase = AnalysisPhase::Error;
        measurement.message = Some(message);
        MeasurementOutcome {
            task,
            measurement,
            metadata: None,
        }
    }
}

/// Stores measurements and updates the metric counters (the bookkeeping of Argo's
/// `runMeasurements`): a completed measurement gets `finishedAt` (now, if the provider did not
/// set it) and counts Successful/Failed/Inconclusive towards `count`, or Error towards `error`
/// and `consecutiveError` (errors do not count towards `count`). A terminated measurement that
/// ended Successful says `Metric Terminated`. Secret values are redacted from messages. A new
/// measurement is appended; a resumed or terminated one replaces the last.
pub fn record_measurements(
    status: &mut AnalysisRunStatus,
    spec: &RunSpec,
    outcomes: impl IntoIterator<Item = MeasurementOutcome>,
    redactor: &Redactor,
    now: DateTime<Utc>,
) {
    for outcome in outcomes {
        let metric = &spec.metrics[outcome.task.metric];
        let mut m = outcome.measurement;
        if matches!(outcome.task.action, TaskAction::Terminate(_))
            && m.phase == AnalysisPhase::Successful
        {
            m.message = Some(METRIC_TERMINATED_MESSAGE.to_string());
        }
        let results = status.metric_results.get_or_insert_with(Vec::new);
        let index = match results.iter().position(|r| r.name == metric.name) {
            Some(i) => i,
            None => {
                results.push(MetricResult {
                    name: metric.name.clone(),
                    phase: AnalysisPhase::Running,
                    dry_run: spec.dry_run[outcome.task.metric].then_some(true),
                    metadata: outcome.metadata.filter(|m| !m.is_empty()),
                    ..Default::default()
                });
                results.len() - 1
            }
        };
        let result = &mut results[index];
        if m.phase.is_completed() {
            if m.finished_at.is_none() {
                m.finished_at = Some(k8s_time(now));
            }
            let bump = |v: &mut Option<i32>| *v = opt(n(*v) + 1);
            match m.phase {
                AnalysisPhase::Successful => {
                    bump(&mut result.successful);
                    bump(&mut result.count);
                    result.consecutive_error = None;
                    bump(&mut result.consecutive_success);
                }
                AnalysisPhase::Failed => {
                    bump(&mut result.failed);
                    bump(&mut result.count);
                    result.consecutive_error = None;
                    result.consecutive_success = None;
                }
                AnalysisPhase::Inconclusive => {
                    bump(&mut result.inconclusive);
                    bump(&mut result.count);
                    result.consecutive_error = None;
                    result.consecutive_success = None;
                }
                _ => {
                    bump(&mut result.error);
                    bump(&mut result.consecutive_error);
                    result.consecutive_success = None;
                }
            }
        }
        if let Some(message) = &m.message
            && !redactor.is_empty()
        {
            m.message = Some(redactor.redact(message));
        }
        let measurements = result.measurements.get_or_insert_with(Vec::new);
        match (&outcome.task.action, measurements.last_mut()) {
            (TaskAction::Start, _) | (_, None) => measurements.push(m),
            (_, Some(last)) => *last = m,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Assessment
// ---------------------------------------------------------------------------------------------

/// Best to worst; a phase not in the list ranks as the best.
const PHASE_ORDER: [AnalysisPhase; 6] = [
    AnalysisPhase::Successful,
    AnalysisPhase::Running,
    AnalysisPhase::Pending,
    AnalysisPhase::Inconclusive,
    AnalysisPhase::Error,
    AnalysisPhase::Failed,
];

fn rank(phase: &AnalysisPhase) -> usize {
    PHASE_ORDER.iter().position(|p| p == phase).unwrap_or(0)
}

/// Whether `new` is a worse phase than `current` (Argo's `IsWorse`).
pub fn is_worse(current: &AnalysisPhase, new: &AnalysisPhase) -> bool {
    rank(new) > rank(current)
}

/// The worse of two phases (Argo's `Worst`).
pub fn worst(left: AnalysisPhase, right: AnalysisPhase) -> AnalysisPhase {
    if is_worse(&left, &right) { right } else { left }
}

fn limit(v: &Option<IntOrString>, default: i64) -> i64 {
    v.as_ref().map_or(default, int_value)
}

/// Failed, Inconclusive or Error by the metric's limits, with the reason (Argo's
/// `assessMetricFailureInconclusiveOrError`; a later check wins, so Error > Inconclusive >
/// Failed).
pub fn limit_breach(metric: &Metric, result: &MetricResult) -> Option<(AnalysisPhase, String)> {
    let mut breach = None;
    let failure_limit = limit(&metric.failure_limit, 0);
    let failed = i64::from(n(result.failed));
    if failure_limit >= 0 && failed > failure_limit {
        breach = Some((
            AnalysisPhase::Failed,
            format!("failed ({failed}) > failureLimit ({failure_limit})"),
        ));
    }
    let inconclusive_limit = limit(&metric.inconclusive_limit, 0);
    let inconclusive = i64::from(n(result.inconclusive));
    if inconclusive > inconclusive_limit {
        breach = Some((
            AnalysisPhase::Inconclusive,
            format!("inconclusive ({inconclusive}) > inconclusiveLimit ({inconclusive_limit})"),
        ));
    }
    let error_limit = limit(
        &metric.consecutive_error_limit,
        DEFAULT_CONSECUTIVE_ERROR_LIMIT,
    );
    let errors = i64::from(n(result.consecutive_error));
    if errors > error_limit {
        breach = Some((
            AnalysisPhase::Error,
            format!("consecutiveErrors ({errors}) > consecutiveErrorLimit ({error_limit})"),
        ));
    }
    breach
}

/// The phase of one metric from its measurements and limits (Argo's `assessMetricStatus`).
pub fn assess_metric(metric: &Metric, result: &MetricResult, terminating: bool) -> AnalysisPhase {
    if result.phase.is_completed() {
        return result.phase.clone();
    }
    let Some(last) = last_measurement(result) else {
        return if terminating {
            AnalysisPhase::Successful
        } else {
            AnalysisPhase::Pending
        };
    };
    if !last.phase.is_completed() {
        return AnalysisPhase::Running;
    }
    if let Some((phase, _)) = limit_breach(metric, result) {
        return phase;
    }
    let success_limit = limit(&metric.consecutive_success_limit, 0);
    if success_limit > 0 && i64::from(n(result.consecutive_success)) >= success_limit {
        return AnalysisPhase::Successful;
    }
    if let Some(count) = metric.effective_count()
        && i64::from(n(result.count)) >= int_value(&count)
    {
        let failure_applicable = limit(&metric.failure_limit, 0) >= 0;
        let success_applicable = success_limit > 0;
        return match (failure_applicable, success_applicable) {
            // Neither limit was reached by the last measurement.
            (true, true) => AnalysisPhase::Inconclusive,
            (false, true) => AnalysisPhase::Failed,
            _ => AnalysisPhase::Successful,
        };
    }
    // A metric without a count runs until the run stops.
    if terminating {
        AnalysisPhase::Successful
    } else {
        AnalysisPhase::Running
    }
}

#[derive(Default)]
struct Summary {
    count: i32,
    successful: i32,
    failed: i32,
    inconclusive: i32,
    error: i32,
}

impl Summary {
    /// Counts a completed metric by its limit breach; no breach counts as Successful (even a
    /// metric that completed Inconclusive or Failed by `consecutiveSuccessLimit`, as in Argo).
    fn add(&mut self, breach: Option<&AnalysisPhase>) {
        match breach {
            Some(AnalysisPhase::Error) => self.error += 1,
            Some(AnalysisPhase::Failed) => self.failed += 1,
            Some(AnalysisPhase::Inconclusive) => self.inconclusive += 1,
            _ => self.successful += 1,
        }
    }

    fn into_run_summary(self) -> RunSummary {
        RunSummary {
            count: opt(self.count),
            successful: opt(self.successful),
            failed: opt(self.failed),
            inconclusive: opt(self.inconclusive),
            error: opt(self.error),
        }
    }
}

/// Assesses the metrics and the run at `now` and updates the status (Argo's
/// `assessRunStatus` plus its caller): sets `startedAt` on the first pass, each metric result's
/// phase (and message, from its last measurement, when the phase changes), `runSummary` and
/// `dryRunSummary`, and — when the run phase changes — `phase`, `message` and, on completion,
/// `completedAt`. Returns the events to record (`Metric<Phase>` per completed metric, then
/// `AnalysisRun<Phase>`).
///
/// The run phase is the worst completed non-dry-run metric once all metrics completed (or as
/// soon as the run is terminating); Running before. Its message names the worst metric:
/// `Metric "<name>" assessed <Phase> due to <reason>[: "Error Message: <message>"]`; a
/// terminated run without such a metric says `Run Terminated`.
pub fn assess_run(run: &mut AnalysisRun, spec: &RunSpec, now: DateTime<Utc>) -> Vec<RunEvent> {
    let terminate = run.spec.terminate == Some(true);
    let status = run.status.get_or_insert_with(Default::default);
    let mut events = Vec::new();
    let (phase, message) = assess_status(status, spec, terminate, now, &mut events);
    if phase != status.phase {
        if phase.is_completed() {
            events.push(RunEvent::completed_run(&phase));
            if status.completed_at.is_none() {
                status.completed_at = Some(k8s_time(now));
            }
        }
        status.phase = phase;
        status.message = opt_string(message);
    }
    events
}

fn assess_status(
    status: &mut AnalysisRunStatus,
    spec: &RunSpec,
    terminate: bool,
    now: DateTime<Utc>,
    events: &mut Vec<RunEvent>,
) -> (AnalysisPhase, String) {
    let terminating = terminate || status_terminating(status);
    if status.started_at.is_none() {
        status.started_at = Some(k8s_time(now));
    }
    let mut worst: Option<AnalysisPhase> = None;
    let mut worst_message = if terminate {
        RUN_TERMINATED_MESSAGE.to_string()
    } else {
        String::new()
    };
    let mut everything_completed = true;
    let (mut summary, mut dry_summary) = (Summary::default(), Summary::default());
    for (i, metric) in spec.metrics.iter().enumerate() {
        let dry_run = spec.dry_run[i];
        if dry_run {
            dry_summary.count += 1;
        } else {
            summary.count += 1;
        }
        let Some(index) = result_index(status, &metric.name) else {
            // Not measured yet (e.g. still in its initial delay).
            everything_completed = false;
            continue;
        };
        let result = &mut status.metric_results.as_mut().expect("indexed above")[index];
        let metric_phase = assess_metric(metric, result, terminating);
        if result.phase != metric_phase {
            if metric_phase.is_completed() {
                events.push(RunEvent::completed_metric(&metric.name, &metric_phase));
            }
            if let Some(last) = last_measurement(result) {
                result.message = last.message.clone().filter(|m| !m.is_empty());
            }
            result.phase = metric_phase.clone();
        }
        if !metric_phase.is_completed() {
            everything_completed = false;
            continue;
        }
        let breach = limit_breach(metric, result);
        if dry_run {
            if worst.is_none() {
                worst = Some(AnalysisPhase::Successful);
            }
            if let Some((_, reason)) = &breach {
                result.message = Some(format!("Metric assessed {metric_phase} due to {reason}"));
            }
            dry_summary.add(breach.as_ref().map(|(p, _)| p));
        } else {
            if worst.as_ref().is_none_or(|w| is_worse(w, &metric_phase)) {
                worst = Some(metric_phase.clone());
                // A worse metric without a breach reason keeps the previous message.
                if let Some((_, reason)) = &breach {
                    worst_message = format!(
                        "Metric \"{}\" assessed {metric_phase} due to {reason}",
                        metric.name
                    );
                    if let Some(message) = result.message.as_deref().filter(|m| !m.is_empty()) {
                        worst_message.push_str(&format!(": \"Error Message: {message}\""));
                    }
                }
            }
            summary.add(breach.as_ref().map(|(p, _)| p));
        }
    }
    status.run_summary = Some(summary.into_run_summary());
    status.dry_run_summary = Some(dry_summary.into_run_summary());
    let worst_message = worst_message.trim().to_string();
    if terminating {
        return (worst.unwrap_or(AnalysisPhase::Successful), worst_message);
    }
    match worst {
        Some(worst) if everything_completed => (worst, worst_message),
        _ => (AnalysisPhase::Running, String::new()),
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Measurement retention
// ---------------------------------------------------------------------------------------------

/// A metric whose measurement history is over its limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrimRequest {
    /// Index into [`RunSpec::metrics`]: whose provider garbage-collects first (Jobs).
    pub metric: usize,
    /// Measurements to keep.
    pub limit: usize,
}

/// The metrics with more measurements than they may keep: `measurementRetention.limit` when
/// positive, else [`DEFAULT_MEASUREMENT_HISTORY_LIMIT`] (Argo's `garbageCollectMeasurements`).
/// The caller lets the metric's provider garbage-collect (the Job provider deletes old Jobs),
/// and on success calls [`trim_measurements`]; as in Argo, a failed provider garbage collection
/// stops the trimming.
pub fn measurements_to_trim(status: &AnalysisRunStatus, spec: &RunSpec) -> Vec<TrimRequest> {
    let mut requests = Vec::new();
    for result in status.metric_results.iter().flatten() {
        let Some(metric) = spec.index_of(&result.name) else {
            continue;
        };
        let limit = match spec.retention[metric] {
            Some(l) if l > 0 => l as usize,
            _ => DEFAULT_MEASUREMENT_HISTORY_LIMIT,
        };
        if result.measurements.as_ref().map_or(0, Vec::len) > limit {
            requests.push(TrimRequest { metric, limit });
        }
    }
    requests
}

/// Drops the oldest measurements of a metric beyond `request.limit`.
pub fn trim_measurements(status: &mut AnalysisRunStatus, spec: &RunSpec, request: &TrimRequest) {
    let name = &spec.metrics[request.metric].name;
    if let Some(result) = status
        .metric_results
        .iter_mut()
        .flatten()
        .find(|r| &r.name == name)
        && let Some(measurements) = &mut result.measurements
        && measurements.len() > request.limit
    {
        measurements.drain(..measurements.len() - request.limit);
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Requeue
// ---------------------------------------------------------------------------------------------

/// When the run next needs a reconcile (Argo's `calculateNextReconcileTime`): the earliest of
/// each incomplete metric's end of initial delay, in-flight `resumeAt`, and last `finishedAt`
/// plus its interval (10 s after an Error). `None`: nothing is scheduled (a completed run, or
/// in-flight measurements without `resumeAt`, such as Jobs, which are re-checked when the Job
/// changes or on the next resync).
pub fn next_reconcile(
    run: &AnalysisRun,
    spec: &RunSpec,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let empty = AnalysisRunStatus::default();
    let status = run.status.as_ref().unwrap_or(&empty);
    let mut next: Option<DateTime<Utc>> = None;
    let mut consider = |t: DateTime<Utc>| {
        if next.is_none_or(|n| n > t) {
            next = Some(t);
        }
    };
    for (i, metric) in spec.metrics.iter().enumerate() {
        let result = result(status, &metric.name);
        if result.is_some_and(|r| r.phase.is_completed()) {
            continue;
        }
        let Some(last) = result.and_then(last_measurement) else {
            if metric
                .initial_delay
                .as_deref()
                .is_some_and(|d| !d.is_empty())
                && let Some(delay) = spec.initial_delay[i]
            {
                let start = status.started_at.as_ref().map_or(now, utc);
                consider(start + delay);
            }
            continue;
        };
        if last.finished_at.is_none() {
            if let Some(at) = &last.resume_at {
                consider(utc(at));
            }
            continue;
        }
        let count = result.map_or(0, |r| n(r.count));
        if spec.count[i].is_some_and(|c| i64::from(count) >= c) {
            continue;
        }
        let interval = if last.phase == AnalysisPhase::Error {
            DEFAULT_ERROR_RETRY_INTERVAL
        } else if metric.interval.as_deref().is_some_and(|s| !s.is_empty()) {
            match spec.interval[i] {
                Some(d) => d,
                None => continue,
            }
        } else {
            continue;
        };
        consider(last.finished_at.as_ref().map(utc).unwrap_or_default() + interval);
    }
    next
}

/// The delay until [`next_reconcile`], never negative.
pub fn requeue_after(
    run: &AnalysisRun,
    spec: &RunSpec,
    now: DateTime<Utc>,
) -> Option<std::time::Duration> {
    next_reconcile(run, spec, now).map(|t| (t - now).to_std().unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// TTL
// ---------------------------------------------------------------------------------------------

/// The TTL in seconds that applies to a completed run: `secondsAfterSuccess` for a Successful
/// run, `secondsAfterFailure` for a Failed one, else `secondsAfterCompletion`.
fn ttl_seconds(run: &AnalysisRun) -> Option<i32> {
    let status = run.status.as_ref()?;
    if !status.phase.is_completed() {
        return None;
    }
    let ttl = run.spec.ttl_strategy.as_ref()?;
    match status.phase {
        AnalysisPhase::Successful if ttl.seconds_after_success.is_some() => {
            ttl.seconds_after_success
        }
        AnalysisPhase::Failed if ttl.seconds_after_failure.is_some() => ttl.seconds_after_failure,
        _ => ttl.seconds_after_completion,
    }
}

/// Whether a completed run has outlived its `ttlStrategy` and should be deleted (Argo's
/// `isAnalysisRunTtlExceeded`: whole seconds since `completedAt` greater than the TTL).
pub fn ttl_expired(run: &AnalysisRun, now: DateTime<Utc>) -> bool {
    let (Some(ttl), Some(completed)) = (
        ttl_seconds(run),
        run.status.as_ref().and_then(|s| s.completed_at.as_ref()),
    ) else {
        return false;
    };
    (now - utc(completed)).num_seconds() > i64::from(ttl)
}

/// The first instant at which [`ttl_expired`] holds, to requeue a completed run for deletion.
pub fn ttl_deadline(run: &AnalysisRun) -> Option<DateTime<Utc>> {
    let ttl = ttl_seconds(run)?;
    let completed = run.status.as_ref()?.completed_at.as_ref()?;
    Some(utc(completed) + TimeDelta::seconds(i64::from(ttl) + 1))
}
