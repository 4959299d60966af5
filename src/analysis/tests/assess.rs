//! The AnalysisRun loop: scheduling, counting, metric and run phases, messages, summaries,
//! termination, retention, requeue and TTL. Many cases are ports of Argo's
//! `analysis/analysis_test.go` with its expected values.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::analysis::args::Redactor;
use crate::analysis::assess::*;
use crate::analysis::reconcile::{Reconciled, Step, begin, finish, reconcile_with};
use crate::crd::{AnalysisPhase, AnalysisRun, Measurement, Metric, MetricResult, RunSummary};

use AnalysisPhase::{Error, Failed, Inconclusive, Pending, Running, Successful};

fn t0() -> DateTime<Utc> {
    "2024-05-01T10:00:00Z".parse().unwrap()
}

/// `t0` plus `secs` seconds.
fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

fn run(yaml: &str) -> AnalysisRun {
    let mut full = String::from(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisRun\nmetadata: {name: r, namespace: default, uid: uid-1}\n",
    );
    full.push_str(yaml);
    serde_norway::from_str(&full).expect("a valid AnalysisRun")
}

/// A measurement that finished at `secs` after t0.
fn measured(phase: AnalysisPhase, secs: i64) -> Measurement {
    Measurement {
        phase,
        started_at: Some(k8s_time(at(secs))),
        finished_at: Some(k8s_time(at(secs))),
        value: Some("1".into()),
        ..Default::default()
    }
}

fn in_flight(secs: i64) -> Measurement {
    Measurement {
        phase: Running,
        started_at: Some(k8s_time(at(secs))),
        ..Default::default()
    }
}

/// Reconciles at `now`, each measurement coming out with the phase `phase_of(metric)`; a
/// terminate task ends Successful, as the Job provider's does.
fn step(
    run: &AnalysisRun,
    now: DateTime<Utc>,
    phase_of: impl Fn(&str) -> AnalysisPhase,
) -> Reconciled {
    reconcile_with(
        run,
        now,
        |_| Err("no secrets here".into()),
        |task, metric| {
            let phase = match task.action {
                TaskAction::Terminate(_) => Successful,
                _ => phase_of(&metric.name),
            };
            let mut measurement = match &task.action {
                TaskAction::Start => Measurement {
                    started_at: Some(k8s_time(now)),
                    ..Default::default()
                },
                TaskAction::Resume(m) | TaskAction::Terminate(m) => m.clone(),
            };
            measurement.phase = phase;
            if measurement.phase.is_completed() {
                measurement.finished_at = Some(k8s_time(now));
            }
            MeasurementOutcome {
                task: task.clone(),
                measurement,
                metadata: None,
            }
        },
    )
}

fn status_of(r: &Reconciled) -> &crate::crd::AnalysisRunStatus {
    r.run.status.as_ref().unwrap()
}

fn result_of<'r>(r: &'r Reconciled, name: &str) -> &'r MetricResult {
    status_of(r)
        .metric_results
        .as_ref()
        .unwrap()
        .iter()
        .find(|m| m.name == name)
        .unwrap()
}

const ONE_METRIC: &str = r#"
spec:
  metrics:
  - name: success-rate
    interval: 60s
    provider: {web: {url: "http://x"}}
"#;

// ---------------------------------------------------------------------------------------------
// Whole reconciles
// ---------------------------------------------------------------------------------------------

#[test]
fn first_reconcile_measures_and_runs() {
    let r = step(&run(ONE_METRIC), t0(), |_| Successful);
    let status = status_of(&r);
    assert_eq!(status.phase, Running);
    assert_eq!(status.message, None);
    assert_eq!(status.started_at, Some(k8s_time(t0())));
    assert_eq!(status.completed_at, None);
    let result = result_of(&r, "success-rate");
    assert_eq!(result.phase, Running);
    assert_eq!(result.count, Some(1));
    assert_eq!(result.successful, Some(1));
    assert_eq!(result.consecutive_success, Some(1));
    assert_eq!(result.measurements.as_ref().unwrap().len(), 1);
    assert_eq!(
        status.run_summary,
        Some(RunSummary {
            count: Some(1),
            ..Default::default()
        })
    );
    assert_eq!(status.dry_run_summary, Some(RunSummary::default()));
    assert_eq!(r.requeue_after, Some(Duration::from_secs(60)));
    assert!(r.events.is_empty());
}

#[test]
fn count_reached_completes_the_run() {
    let mut ar = run(ONE_METRIC);
    ar.spec.metrics[0].count = Some(IntOrString::Int(1));
    let r = step(&ar, t0(), |_| Successful);
    let status = status_of(&r);
    assert_eq!(status.phase, Successful);
    assert_eq!(status.message, None);
    assert_eq!(status.completed_at, Some(k8s_time(t0())));
    assert_eq!(result_of(&r, "success-rate").phase, Successful);
    assert_eq!(r.requeue_after, None);
    let reasons: Vec<_> = r.events.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["MetricSuccessful", "AnalysisRunSuccessful"]);
    assert_eq!(
        r.events[1].message,
        "Analysis Completed. Result: Successful"
    );
    assert_eq!(
        r.events[0].message,
        "Metric 'success-rate' Completed. Result: Successful"
    );
    assert!(!r.events[1].warning);

    // Neither count nor interval: a single measurement.
    ar.spec.metrics[0].count = Some(IntOrString::Int(0));
    ar.spec.metrics[0].interval = None;
    let r = step(&ar, t0(), |_| Successful);
    assert_eq!(status_of(&r).phase, Successful);

    // A completed run is left alone.
    let again = step(&r.run, at(600), |_| panic!("no measurement"));
    assert_eq!(again.run, r.run);
}

#[test]
fn measurements_over_time_until_count() {
    let mut ar = run(ONE_METRIC);
    ar.spec.metrics[0].count = Some(IntOrString::Int(3));
    let r1 = step(&ar, t0(), |_| Successful);
    assert_eq!(status_of(&r1).phase, Running);
    // Not due until strictly after finishedAt + interval.
    let r = step(&r1.run, at(60), |_| panic!("not due yet"));
    assert_eq!(result_of(&r, "success-rate").count, Some(1));
    let r2 = step(&r1.run, at(61), |_| Failed);
    let res = result_of(&r2, "success-rate");
    assert_eq!(
        (res.count, res.failed, res.consecutive_success),
        (Some(2), Some(1), None)
    );
    // failureLimit 0: one failure fails the metric, and with it the run.
    assert_eq!(res.phase, Failed);
    let status = status_of(&r2);
    assert_eq!(status.phase, Failed);
    assert_eq!(
        status.message.as_deref(),
        Some("Metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)")
    );
    assert!(r2.events.iter().all(|e| e.warning));
}

#[test]
fn invalid_spec_errors_the_run() {
    let ar = run("spec:\n  metrics:\n  - name: success-rate\n    provider: {}\n");
    let r = step(&ar, t0(), |_| panic!("no measurement"));
    let status = status_of(&r);
    assert_eq!(status.phase, Error);
    assert_eq!(
        status.message.as_deref(),
        Some("Analysis spec invalid: metrics[0]: no provider specified")
    );
    // Argo sets no completedAt on this path.
    assert_eq!(status.completed_at, None);
    assert_eq!(r.events[0].reason, "AnalysisRunError");
    assert!(r.events[0].warning);

    let unresolved = run(r#"
spec:
  metrics:
  - name: m
    successCondition: result > {{args.threshold}}
    provider: {web: {url: "http://x"}}
"#);
    let r = step(&unresolved, t0(), |_| panic!("no measurement"));
    assert_eq!(
        status_of(&r).message.as_deref(),
        Some("Unable to resolve metric arguments: failed to resolve {{args.threshold}}")
    );

    let unmatched = run(r#"
spec:
  dryRun: [{metricName: nope}]
  metrics:
  - name: m
    provider: {web: {url: "http://x"}}
"#);
    assert_eq!(
        status_of(&step(&unmatched, t0(), |_| Successful))
            .message
            .as_deref(),
        Some("Analysis spec invalid: dryRun[0]: Rule didn't match any metric name(s)")
    );
    let unmatched = run(r#"
spec:
  measurementRetention: [{metricName: m, limit: 3}, {metricName: "*", limit: 5}]
  metrics:
  - name: m
    provider: {web: {url: "http://x"}}
"#);
    assert_eq!(
        status_of(&step(&unmatched, t0(), |_| Successful))
            .message
            .as_deref(),
        Some(
            "Analysis spec invalid: measurementRetention[1]: Rule didn't match any metric name(s)"
        )
    );
}

#[test]
fn secrets_are_resolved_for_measuring_and_redacted() {
    let ar = run(r#"
spec:
  args:
  - name: token
    valueFrom: {secretKeyRef: {name: creds, key: token}}
  metrics:
  - name: m
    provider:
      web:
        url: "http://x"
        headers: [{key: Authorization, value: "Bearer {{args.token}}"}]
"#);
    let r = reconcile_with(
        &ar,
        t0(),
        |name| {
            assert_eq!(name, "creds");
            Ok(BTreeMap::from([(
                "token".to_string(),
                "hunter2".to_string(),
            )]))
        },
        |task, metric| {
            let header = &metric
                .provider
                .web
                .as_ref()
                .unwrap()
                .headers
                .as_ref()
                .unwrap()[0];
            assert_eq!(header.value, "Bearer hunter2");
            MeasurementOutcome::provider_error(
                task.clone(),
                format!("request with {} failed", header.value),
                t0(),
            )
        },
    );
    let m = &result_of(&r, "m").measurements.as_ref().unwrap()[0];
    assert_eq!(
        m.message.as_deref(),
        Some("request with Bearer ***** failed")
    );
    assert_eq!(m.phase, Error);
    assert_eq!(m.finished_at, Some(k8s_time(t0())));

    let r = reconcile_with(
        &ar,
        t0(),
        |_| Err("secrets \"creds\" not found".into()),
        |_, _| panic!("no measurement"),
    );
    assert_eq!(status_of(&r).phase, Error);
    assert_eq!(
        status_of(&r).message.as_deref(),
        Some("Unable to resolve metric arguments: secrets \"creds\" not found")
    );
    let r = reconcile_with(
        &ar,
        t0(),
        |_| Ok(BTreeMap::new()),
        |_, _| panic!("no measurement"),
    );
    assert_eq!(
        status_of(&r).message.as_deref(),
        Some("Unable to resolve metric arguments: key 'token' does not exist in secret 'creds'")
    );
}

/// Argo's `newTerminatingRun`: `run-forever` has an in-flight measurement, `failed-metric`
/// completed with `phase`.
fn terminating_run(phase: AnalysisPhase, dry_run: bool) -> AnalysisRun {
    let mut ar = run(&format!(
        r#"
spec:
  {}
  metrics:
  - name: run-forever
    provider: {{web: {{url: "http://x"}}}}
  - name: failed-metric
    provider: {{web: {{url: "http://x"}}}}
status:
  phase: Running
"#,
        if dry_run {
            "dryRun: [{metricName: run-forever}, {metricName: failed-metric}]"
        } else {
            ""
        }
    ));
    let mut failed = MetricResult {
        name: "failed-metric".into(),
        phase: phase.clone(),
        count: Some(1),
        dry_run: dry_run.then_some(true),
        measurements: Some(vec![measured(phase.clone(), -60)]),
        ..Default::default()
    };
    match phase {
        Failed => failed.failed = Some(1),
        Inconclusive => failed.inconclusive = Some(1),
        Error => {
            failed.error = Some(1);
            failed.measurements = Some(vec![measured(Error, -120)]);
        }
        _ => {}
    }
    let status = ar.status.as_mut().unwrap();
    status.metric_results = Some(vec![
        MetricResult {
            name: "run-forever".into(),
            phase: Running,
            dry_run: dry_run.then_some(true),
            measurements: Some(vec![in_flight(-60)]),
            ..Default::default()
        },
        failed,
    ]);
    ar
}

#[test]
fn a_failed_sibling_terminates_in_flight_measurements() {
    for phase in [Failed, Inconclusive, Error] {
        let r = step(&terminating_run(phase.clone(), false), t0(), |_| {
            panic!("terminating: nothing new")
        });
        let status = status_of(&r);
        assert_eq!(status.phase, phase);
        assert_eq!(result_of(&r, "failed-metric").phase, phase);
        let forever = result_of(&r, "run-forever");
        assert_eq!(forever.phase, Successful);
        let m = &forever.measurements.as_ref().unwrap()[0];
        assert_eq!(m.phase, Successful);
        assert!(m.finished_at.is_some());
        assert_eq!(m.message.as_deref(), Some(METRIC_TERMINATED_MESSAGE));
        assert_eq!(forever.message.as_deref(), Some(METRIC_TERMINATED_MESSAGE));
        assert_eq!(status.completed_at, Some(k8s_time(t0())));
    }
}

#[test]
fn failure_is_two_reconciles_when_siblings_still_run() {
    let ar = run(r#"
spec:
  metrics:
  - name: a
    interval: 30s
    provider: {web: {url: "http://x"}}
  - name: b
    interval: 30s
    provider: {web: {url: "http://x"}}
"#);
    let r1 = step(
        &ar,
        t0(),
        |name| if name == "a" { Failed } else { Successful },
    );
    // The failure is seen, but the run only stops on the next pass.
    assert_eq!(result_of(&r1, "a").phase, Failed);
    assert_eq!(result_of(&r1, "b").phase, Running);
    assert_eq!(status_of(&r1).phase, Running);
    assert_eq!(r1.events.len(), 1);
    assert_eq!(r1.events[0].reason, "MetricFailed");
    // Next pass: terminating, nothing new measured; `b` runs indefinitely, so Successful.
    let r2 = step(&r1.run, at(1), |_| panic!("terminating"));
    assert_eq!(result_of(&r2, "b").phase, Successful);
    assert_eq!(status_of(&r2).phase, Failed);
    assert_eq!(
        status_of(&r2).message.as_deref(),
        Some("Metric \"a\" assessed Failed due to failed (1) > failureLimit (0)")
    );
    assert_eq!(
        status_of(&r2).run_summary,
        Some(RunSummary {
            count: Some(2),
            successful: Some(1),
            failed: Some(1),
            ..Default::default()
        })
    );
}

#[test]
fn resume_completes_an_in_flight_measurement() {
    let mut ar = run(ONE_METRIC);
    ar.spec.metrics[0].interval = None;
    ar.status = Some(crate::crd::AnalysisRunStatus {
        phase: Running,
        metric_results: Some(vec![MetricResult {
            name: "success-rate".into(),
            phase: Running,
            measurements: Some(vec![in_flight(-60)]),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let r = step(&ar, t0(), |_| Successful);
    assert_eq!(status_of(&r).phase, Successful);
    let res = result_of(&r, "success-rate");
    assert_eq!(res.measurements.as_ref().unwrap().len(), 1);
    assert!(res.measurements.as_ref().unwrap()[0].finished_at.is_some());
    assert_eq!(res.count, Some(1));
}

#[test]
fn errors_do_not_count_and_retry_after_ten_seconds() {
    let mut ar = run(ONE_METRIC);
    ar.spec.metrics[0].count = Some(IntOrString::Int(2));
    let mut r = step(&ar, t0(), |_| Error);
    assert_eq!(r.requeue_after, Some(Duration::from_secs(10)));
    for i in 1..=4 {
        let now = at(i * 11);
        r = step(&r.run, now, |_| Error);
    }
    let res = result_of(&r, "success-rate");
    assert_eq!(
        (res.count, res.error, res.consecutive_error),
        (None, Some(5), Some(5))
    );
    assert_eq!(res.phase, Error);
    let status = status_of(&r);
    assert_eq!(status.phase, Error);
    assert_eq!(
        status.message.as_deref(),
        Some(
            "Metric \"success-rate\" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4)"
        )
    );
    assert_eq!(
        status.run_summary,
        Some(RunSummary {
            count: Some(1),
            error: Some(1),
            ..Default::default()
        })
    );

    // A success resets the error streak.
    let mut ar2 = run(ONE_METRIC);
    ar2.status = Some(crate::crd::AnalysisRunStatus {
        phase: Running,
        metric_results: Some(vec![MetricResult {
            name: "success-rate".into(),
            phase: Running,
            count: Some(4),
            error: Some(4),
            consecutive_error: Some(4),
            measurements: Some(vec![measured(Error, -20)]),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let r = step(&ar2, t0(), |_| Successful);
    let res = result_of(&r, "success-rate");
    assert_eq!(
        (res.count, res.error, res.consecutive_error),
        (Some(5), Some(4), None)
    );
}

#[test]
fn error_message_from_the_last_measurement_is_quoted() {
    let mut ar = run(ONE_METRIC);
    ar.spec.metrics[0].consecutive_error_limit = Some(IntOrString::Int(0));
    let r = reconcile_with(
        &ar,
        t0(),
        |_| Ok(BTreeMap::new()),
        |task, _| {
            MeasurementOutcome::provider_error(task.clone(), "connection refused".into(), t0())
        },
    );
    assert_eq!(
        status_of(&r).message.as_deref(),
        Some(
            "Metric \"success-rate\" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): \"Error Message: connection refused\""
        )
    );
    assert_eq!(
        result_of(&r, "success-rate").message.as_deref(),
        Some("connection refused")
    );
}

#[test]
fn terminate_ends_the_run_successfully() {
    for dry_run in [false, true] {
        let ar = run(&format!(
            r#"
spec:
  terminate: true
  {}
  args: [{{name: service, value: svc}}]
  metrics:
  - name: success-rate
    initialDelay: 20s
    interval: 20s
    successCondition: result[0] > 0.90
    provider: {{web: {{url: "http://{{{{args.service}}}}"}}}}
status:
  phase: Running
  startedAt: "2024-05-01T10:00:00Z"
"#,
            if dry_run {
                "dryRun: [{metricName: success-rate}]"
            } else {
                ""
            }
        ));
        let r = step(&ar, t0(), |_| panic!("terminating"));
        let status = status_of(&r);
        assert_eq!(status.phase, Successful);
        assert_eq!(status.message.as_deref(), Some(RUN_TERMINATED_MESSAGE));
    }
}

#[test]
fn dry_run_metrics_never_decide_the_phase() {
    // Argo: TestAssessRunStatusErrorMessageAnalysisPhaseFail(InDryRunMode).
    let mut ar = terminating_run(Failed, true);
    ar.status.as_mut().unwrap().metric_results.as_mut().unwrap()[0].phase = Successful;
    let spec = prepare(&ar).unwrap();
    assess_run(&mut ar, &spec, t0());
    let status = ar.status.as_ref().unwrap();
    assert_eq!(status.phase, Successful);
    assert_eq!(status.message, None);
    assert_eq!(
        status.dry_run_summary,
        Some(RunSummary {
            count: Some(2),
            successful: Some(1),
            failed: Some(1),
            ..Default::default()
        })
    );
    assert_eq!(
        status.metric_results.as_ref().unwrap()[1]
            .message
            .as_deref(),
        Some("Metric assessed Failed due to failed (1) > failureLimit (0)")
    );

    let mut ar = terminating_run(Failed, false);
    ar.status.as_mut().unwrap().metric_results.as_mut().unwrap()[0].phase = Successful;
    ar.status.as_mut().unwrap().metric_results.as_mut().unwrap()[1].message =
        Some("Provider Error".into());
    let spec = prepare(&ar).unwrap();
    assess_run(&mut ar, &spec, t0());
    let status = ar.status.as_ref().unwrap();
    assert_eq!(status.phase, Failed);
    assert_eq!(
        status.message.as_deref(),
        Some(
            "Metric \"failed-metric\" assessed Failed due to failed (1) > failureLimit (0): \"Error Message: Provider Error\""
        )
    );
    assert_eq!(status.dry_run_summary, Some(RunSummary::default()));
}

#[test]
fn the_first_of_equally_bad_metrics_names_the_run() {
    // Argo: TestAssessRunStatusMultipleFailures.
    let mut ar = terminating_run(Failed, false);
    let results = ar.status.as_mut().unwrap().metric_results.as_mut().unwrap();
    results[0].phase = Failed;
    results[0].failed = Some(1);
    let spec = prepare(&ar).unwrap();
    assess_run(&mut ar, &spec, t0());
    assert_eq!(
        ar.status.as_ref().unwrap().message.as_deref(),
        Some("Metric \"run-forever\" assessed Failed due to failed (1) > failureLimit (0)")
    );
}

#[test]
fn mixed_dry_run_and_real_metrics() {
    // Argo: TestAssessRunStatusWithMixedMetrics.
    let mut ar = run(r#"
spec:
  dryRun: [{metricName: success-metric}]
  metrics:
  - name: run-forever
    provider: {web: {url: "http://x"}}
  - name: success-metric
    provider: {web: {url: "http://x"}}
status:
  phase: Running
"#);
    ar.status.as_mut().unwrap().metric_results = Some(vec![
        MetricResult {
            name: "run-forever".into(),
            phase: Running,
            inconclusive: Some(1),
            measurements: Some(vec![in_flight(-60)]),
            ..Default::default()
        },
        MetricResult {
            name: "success-metric".into(),
            phase: Successful,
            count: Some(1),
            failed: Some(1),
            dry_run: Some(true),
            measurements: Some(vec![measured(Failed, -60)]),
            ..Default::default()
        },
    ]);
    let r = step(&ar, t0(), |_| Successful);
    assert_eq!(status_of(&r).phase, Inconclusive);
    assert_eq!(
        status_of(&r).message.as_deref(),
        Some(
            "Metric \"run-forever\" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)"
        )
    );
}

#[test]
fn only_dry_run_metrics_succeed() {
    let ar = run(r#"
spec:
  dryRun: [{metricName: ".*"}]
  metrics:
  - name: m
    provider: {web: {url: "http://x"}}
"#);
    let r = step(&ar, t0(), |_| Failed);
    assert_eq!(status_of(&r).phase, Successful);
    assert_eq!(result_of(&r, "m").phase, Failed);
    assert_eq!(result_of(&r, "m").dry_run, Some(true));
    assert_eq!(
        result_of(&r, "m").message.as_deref(),
        Some("Metric assessed Failed due to failed (1) > failureLimit (0)")
    );
    assert_eq!(
        status_of(&r).dry_run_summary,
        Some(RunSummary {
            count: Some(1),
            failed: Some(1),
            ..Default::default()
        })
    );
}

#[test]
fn the_message_changes_only_with_the_phase() {
    let mut ar = run(ONE_METRIC);
    ar.status = Some(crate::crd::AnalysisRunStatus {
        phase: Running,
        message: Some("kept".into()),
        ..Default::default()
    });
    let r = step(&ar, t0(), |_| Successful);
    assert_eq!(status_of(&r).message.as_deref(), Some("kept"));
}

// ---------------------------------------------------------------------------------------------
// assess_metric (ports of Argo's table tests)
// ---------------------------------------------------------------------------------------------

fn metric(yaml: &str) -> Metric {
    let mut value: serde_json::Value = serde_norway::from_str(yaml).unwrap();
    let object = value.as_object_mut().unwrap();
    object.entry("name").or_insert("success-rate".into());
    serde_json::from_value(value).unwrap()
}

fn counted(failed: i32, successful: i32, count: i32, consecutive_success: i32) -> MetricResult {
    MetricResult {
        name: "success-rate".into(),
        phase: Running,
        failed: Some(failed),
        successful: Some(successful),
        count: Some(count),
        consecutive_success: Some(consecutive_success),
        measurements: Some(vec![measured(Failed, -60)]),
        ..Default::default()
    }
}

#[test]
fn metric_status_basics() {
    let m = metric("{name: m, provider: {}}");
    let mut r = MetricResult::default();
    assert_eq!(assess_metric(&m, &r, false), Pending);
    assert_eq!(assess_metric(&m, &r, true), Successful);
    r.measurements = Some(vec![in_flight(0)]);
    assert_eq!(assess_metric(&m, &r, false), Running);
    assert_eq!(assess_metric(&m, &r, true), Running);
    r.phase = Inconclusive;
    assert_eq!(assess_metric(&m, &r, false), Inconclusive);

    // Each limit breach, with its reason (Argo's TestAssessMetricFailureInconclusiveOrError).
    let breach = |r: MetricResult| {
        let phase = assess_metric(&m, &r, true);
        let (p, reason) = limit_breach(&m, &r).unwrap();
        assert_eq!(phase, p);
        (p, reason)
    };
    assert_eq!(
        breach(MetricResult {
            failed: Some(1),
            measurements: Some(vec![measured(Failed, 0)]),
            ..Default::default()
        }),
        (Failed, "failed (1) > failureLimit (0)".into())
    );
    assert_eq!(
        breach(MetricResult {
            inconclusive: Some(1),
            measurements: Some(vec![measured(Inconclusive, 0)]),
            ..Default::default()
        }),
        (
            Inconclusive,
            "inconclusive (1) > inconclusiveLimit (0)".into()
        )
    );
    assert_eq!(
        breach(MetricResult {
            consecutive_error: Some(5),
            measurements: Some(vec![measured(Error, 0)]),
            ..Default::default()
        }),
        (
            Error,
            "consecutiveErrors (5) > consecutiveErrorLimit (4)".into()
        )
    );
    // Later checks win: Error over Inconclusive over Failed.
    assert_eq!(
        limit_breach(
            &m,
            &MetricResult {
                failed: Some(1),
                inconclusive: Some(1),
                consecutive_error: Some(5),
                ..Default::default()
            }
        )
        .unwrap()
        .0,
        Error
    );
}

#[test]
fn metric_status_limits() {
    let m = metric(
        "{failureLimit: 2, inconclusiveLimit: 1, consecutiveErrorLimit: 0, interval: 60s, provider: {}}",
    );
    let mut r = counted(2, 0, 2, 0);
    assert_eq!(assess_metric(&m, &r, false), Running);
    r.failed = Some(3);
    assert_eq!(assess_metric(&m, &r, false), Failed);
    let mut r = counted(0, 0, 1, 0);
    r.inconclusive = Some(2);
    assert_eq!(assess_metric(&m, &r, false), Inconclusive);
    let mut r = counted(0, 0, 0, 0);
    r.consecutive_error = Some(1);
    assert_eq!(assess_metric(&m, &r, false), Error);
    // failureLimit -1 disables the failure check.
    let m = metric("{failureLimit: -1, consecutiveSuccessLimit: 1, interval: 60s, provider: {}}");
    assert_eq!(assess_metric(&m, &counted(99, 0, 99, 0), false), Running);
    // A limit given as a string (resolved from an argument).
    let m = metric("{failureLimit: '3', interval: 60s, provider: {}}");
    assert_eq!(assess_metric(&m, &counted(3, 0, 3, 0), false), Running);
    assert_eq!(assess_metric(&m, &counted(4, 0, 4, 0), false), Failed);
    // Count reached without breach: Successful.
    let m = metric("{count: 3, failureLimit: 1, interval: 60s, provider: {}}");
    assert_eq!(assess_metric(&m, &counted(1, 2, 3, 0), false), Successful);
    assert_eq!(assess_metric(&m, &counted(1, 1, 2, 0), false), Running);
    assert_eq!(assess_metric(&m, &counted(1, 1, 2, 0), true), Successful);
}

#[test]
fn metric_status_consecutive_success_limit() {
    // Argo: TestAssessMetricStatusConsecutiveSuccessLimit.
    let with = |csl: i32, count: Option<i32>| {
        let mut m = metric("{failureLimit: -1, interval: 60s, provider: {}}");
        m.consecutive_success_limit = Some(IntOrString::Int(csl));
        m.count = count.map(IntOrString::Int);
        m
    };
    let r = counted(3, 4, 7, 3);
    let both = |m: &Metric| (assess_metric(m, &r, false), assess_metric(m, &r, true));
    assert_eq!(both(&with(3, None)), (Successful, Successful));
    assert_eq!(both(&with(5, None)), (Running, Successful));
    assert_eq!(both(&with(5, Some(7))), (Failed, Failed));
    assert_eq!(both(&with(3, Some(7))), (Successful, Successful));
    assert_eq!(both(&with(3, Some(9))), (Successful, Successful));
    assert_eq!(both(&with(5, Some(9))), (Running, Successful));
}

#[test]
fn metric_status_failure_and_consecutive_success_limits() {
    // Argo: TestAssessMetricStatusFailureLimitAndConsecutiveSuccessLimit.
    let indefinite =
        metric("{failureLimit: 4, consecutiveSuccessLimit: 4, interval: 60s, provider: {}}");
    let mut limited = indefinite.clone();
    limited.count = Some(IntOrString::Int(10));
    let cases = [
        // (metric, failed, successful, count, consecutiveSuccess, not terminating, terminating)
        (&indefinite, 3, 4, 7, 3, Running, Successful),
        (&indefinite, 5, 9, 9, 0, Failed, Failed),
        (&indefinite, 3, 5, 8, 4, Successful, Successful),
        (&indefinite, 5, 5, 10, 4, Failed, Failed),
        (&limited, 4, 6, 10, 3, Inconclusive, Inconclusive),
        (&limited, 5, 5, 10, 3, Failed, Failed),
        (&limited, 4, 6, 10, 4, Successful, Successful),
        (&limited, 5, 5, 10, 4, Failed, Failed),
        (&limited, 3, 5, 8, 3, Running, Successful),
        (&limited, 5, 3, 8, 3, Failed, Failed),
        (&limited, 3, 5, 8, 4, Successful, Successful),
        (&limited, 5, 4, 9, 4, Failed, Failed),
    ];
    for (m, failed, successful, count, cs, running, terminating) in cases {
        let r = counted(failed, successful, count, cs);
        assert_eq!(
            assess_metric(m, &r, false),
            running,
            "{failed} {successful} {count} {cs}"
        );
        assert_eq!(
            assess_metric(m, &r, true),
            terminating,
            "{failed} {successful} {count} {cs}"
        );
    }
}

#[test]
fn phase_order() {
    assert!(is_worse(&Successful, &Failed));
    assert!(is_worse(&Inconclusive, &Error));
    assert!(is_worse(&Error, &Failed));
    assert!(!is_worse(&Failed, &Error));
    assert!(is_worse(&Successful, &Running));
    assert_eq!(worst(Inconclusive, Pending), Inconclusive);
    assert_eq!(
        worst(AnalysisPhase::Other("x".into()), Successful),
        AnalysisPhase::Other("x".into())
    );
}

// ---------------------------------------------------------------------------------------------
// Scheduling
// ---------------------------------------------------------------------------------------------

fn with_results(yaml_spec: &str, results: Vec<MetricResult>, started: Option<i64>) -> AnalysisRun {
    let mut ar = run(yaml_spec);
    ar.status = Some(crate::crd::AnalysisRunStatus {
        phase: Running,
        started_at: started.map(|s| k8s_time(at(s))),
        metric_results: Some(results),
        ..Default::default()
    });
    ar
}

fn result(name: &str, measurements: Vec<Measurement>) -> MetricResult {
    let count = measurements
        .iter()
        .filter(|m| m.phase.is_completed() && m.phase != Error)
        .count();
    MetricResult {
        name: name.into(),
        phase: Running,
        count: Some(count as i32),
        measurements: Some(measurements),
        ..Default::default()
    }
}

fn tasks(ar: &AnalysisRun, now: DateTime<Utc>) -> Vec<MeasurementTask> {
    due_measurements(ar, &prepare(ar).unwrap(), now)
}

#[test]
fn scheduling_by_interval_and_error_retry() {
    let ar = with_results(
        ONE_METRIC,
        vec![result("success-rate", vec![measured(Successful, -30)])],
        Some(-30),
    );
    assert!(tasks(&ar, t0()).is_empty());
    assert!(tasks(&ar, at(30)).is_empty());
    assert_eq!(
        tasks(&ar, at(31)),
        [MeasurementTask {
            metric: 0,
            action: TaskAction::Start
        }]
    );
    let spec = prepare(&ar).unwrap();
    assert_eq!(next_reconcile(&ar, &spec, t0()), Some(at(30)));
    assert_eq!(
        requeue_after(&ar, &spec, t0()),
        Some(Duration::from_secs(30))
    );
    assert_eq!(requeue_after(&ar, &spec, at(45)), Some(Duration::ZERO));

    let errored = with_results(
        ONE_METRIC,
        vec![result("success-rate", vec![measured(Error, -10)])],
        Some(-30),
    );
    assert!(tasks(&errored, t0()).is_empty());
    assert_eq!(tasks(&errored, at(1)).len(), 1);
    assert_eq!(
        next_reconcile(&errored, &prepare(&errored).unwrap(), t0()),
        Some(t0())
    );

    // Count reached: nothing more (and no requeue for it).
    let mut done = ar.clone();
    done.spec.metrics[0].count = Some(IntOrString::Int(1));
    assert!(tasks(&done, at(100)).is_empty());
    assert_eq!(next_reconcile(&done, &prepare(&done).unwrap(), t0()), None);

    // A completed metric is skipped.
    let mut completed = ar.clone();
    completed
        .status
        .as_mut()
        .unwrap()
        .metric_results
        .as_mut()
        .unwrap()[0]
        .phase = Successful;
    assert!(tasks(&completed, at(100)).is_empty());
}

#[test]
fn scheduling_honours_initial_delay() {
    let spec = r#"
spec:
  metrics:
  - name: success-rate
    initialDelay: 30s
    interval: 60s
    provider: {web: {url: "http://x"}}
"#;
    // Without startedAt (the first reconcile) a delayed metric waits, even for "0s".
    let fresh = run(spec);
    assert!(tasks(&fresh, t0()).is_empty());
    let started = with_results(spec, vec![], Some(0));
    assert!(tasks(&started, at(29)).is_empty());
    assert_eq!(tasks(&started, at(30)).len(), 1);
    let p = prepare(&started).unwrap();
    assert_eq!(next_reconcile(&started, &p, at(5)), Some(at(30)));
    // The first reconcile sets startedAt and requeues for the end of the delay.
    let r = step(&fresh, t0(), |_| panic!("delayed"));
    assert_eq!(status_of(&r).phase, Running);
    // No results yet: no `metricResults` field, as Go's omitempty writes it.
    assert_eq!(status_of(&r).metric_results, None);
    assert_eq!(r.requeue_after, Some(Duration::from_secs(30)));
}

#[test]
fn scheduling_in_flight_measurements() {
    let mut m = in_flight(-5);
    m.resume_at = Some(k8s_time(at(10)));
    let ar = with_results(
        ONE_METRIC,
        vec![result("success-rate", vec![m.clone()])],
        Some(-5),
    );
    assert!(tasks(&ar, t0()).is_empty());
    assert_eq!(
        next_reconcile(&ar, &prepare(&ar).unwrap(), t0()),
        Some(at(10))
    );
    assert_eq!(
        tasks(&ar, at(10)),
        [MeasurementTask {
            metric: 0,
            action: TaskAction::Resume(m.clone())
        }]
    );
    let mut terminating = ar.clone();
    terminating.spec.terminate = Some(true);
    assert_eq!(
        tasks(&terminating, at(10)),
        [MeasurementTask {
            metric: 0,
            action: TaskAction::Terminate(m)
        }]
    );
    // Without resumeAt (a Job): resumed on every reconcile, no timed requeue.
    let job = with_results(
        ONE_METRIC,
        vec![result("success-rate", vec![in_flight(-5)])],
        Some(-5),
    );
    assert_eq!(tasks(&job, t0()).len(), 1);
    assert_eq!(next_reconcile(&job, &prepare(&job).unwrap(), t0()), None);
    // Terminating and nothing in flight: nothing to do.
    let mut idle = with_results(
        ONE_METRIC,
        vec![result("success-rate", vec![measured(Successful, -100)])],
        Some(-100),
    );
    idle.spec.terminate = Some(true);
    assert!(tasks(&idle, t0()).is_empty());
}

#[test]
fn next_reconcile_takes_the_earliest_metric() {
    let spec = r#"
spec:
  metrics:
  - name: a
    interval: 60s
    provider: {web: {url: "http://x"}}
  - name: b
    interval: 30s
    provider: {web: {url: "http://x"}}
  - name: c
    provider: {web: {url: "http://x"}}
"#;
    let ar = with_results(
        spec,
        vec![
            result("a", vec![measured(Successful, -10)]),
            result("b", vec![measured(Successful, -10)]),
            // No interval and count reached: not factored in.
            result("c", vec![measured(Successful, -10)]),
        ],
        Some(-10),
    );
    assert_eq!(
        next_reconcile(&ar, &prepare(&ar).unwrap(), t0()),
        Some(at(20))
    );
}

// ---------------------------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------------------------

#[test]
fn measurement_history_is_trimmed() {
    let mut ar = run(r#"
spec:
  measurementRetention: [{metricName: "^b$", limit: 3}]
  metrics:
  - name: a
    interval: 1s
    provider: {web: {url: "http://x"}}
  - name: b
    interval: 1s
    provider: {web: {url: "http://x"}}
"#);
    let mut r = step(&ar, t0(), |_| Successful);
    for i in 1..15 {
        r = step(&r.run, at(i * 2), |_| Successful);
    }
    let a = result_of(&r, "a");
    assert_eq!(
        a.measurements.as_ref().unwrap().len(),
        DEFAULT_MEASUREMENT_HISTORY_LIMIT
    );
    assert_eq!(a.count, Some(15));
    // The newest are kept.
    assert_eq!(
        a.measurements.as_ref().unwrap().last().unwrap().finished_at,
        Some(k8s_time(at(28)))
    );
    assert_eq!(result_of(&r, "b").measurements.as_ref().unwrap().len(), 3);

    // The pure steps: what to trim, then trimming.
    ar = r.run.clone();
    let spec = prepare(&ar).unwrap();
    let status = ar.status.as_mut().unwrap();
    status.metric_results.as_mut().unwrap()[0]
        .measurements
        .as_mut()
        .unwrap()
        .push(measured(Successful, 100));
    let requests = measurements_to_trim(status, &spec);
    assert_eq!(
        requests,
        [TrimRequest {
            metric: 0,
            limit: 10
        }]
    );
    trim_measurements(status, &spec, &requests[0]);
    assert_eq!(
        status.metric_results.as_ref().unwrap()[0]
            .measurements
            .as_ref()
            .unwrap()
            .len(),
        10
    );
}

// ---------------------------------------------------------------------------------------------
// TTL
// ---------------------------------------------------------------------------------------------

#[test]
fn ttl() {
    let completed = |phase: &str| {
        run(&format!(
            r#"
spec:
  metrics: []
  ttlStrategy: {{secondsAfterCompletion: 100, secondsAfterFailure: 50, secondsAfterSuccess: 10}}
status:
  phase: {phase}
  completedAt: "2024-05-01T10:00:00Z"
"#
        ))
    };
    let ok = completed("Successful");
    assert!(!ttl_expired(&ok, at(10)));
    assert!(ttl_expired(&ok, at(11)));
    assert_eq!(ttl_deadline(&ok), Some(at(11)));
    let failed = completed("Failed");
    assert!(!ttl_expired(&failed, at(50)));
    assert!(ttl_expired(&failed, at(51)));
    let errored = completed("Error");
    assert!(!ttl_expired(&errored, at(100)));
    assert!(ttl_expired(&errored, at(101)));
    let running = completed("Running");
    assert!(!ttl_expired(&running, at(1000)));
    // The reconcile of a completed run: delete once expired, else requeue for the deadline.
    match begin(&ok, at(5)) {
        Step::Done(d) => {
            assert!(!d.delete);
            assert_eq!(d.requeue_after, Some(Duration::from_secs(6)));
        }
        other => panic!("{other:?}"),
    }
    match begin(&ok, at(20)) {
        Step::Done(d) => assert!(d.delete),
        other => panic!("{other:?}"),
    }
    let mut no_strategy = ok.clone();
    no_strategy.spec.ttl_strategy = None;
    assert!(!ttl_expired(&no_strategy, at(100_000)));
}

// ---------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------

#[test]
fn provider_metadata_is_stored_on_new_results() {
    let ar = run(ONE_METRIC);
    let Step::Measure(plan) = begin(&ar, t0()) else {
        panic!("measure")
    };
    let outcome = MeasurementOutcome {
        task: plan.tasks[0].clone(),
        measurement: measured(Successful, 0),
        metadata: Some(BTreeMap::from([(
            "ResolvedPrometheusQuery".to_string(),
            "up".to_string(),
        )])),
    };
    let r = finish(&ar, &plan, vec![outcome], &Redactor::default(), t0());
    assert_eq!(
        result_of(&r, "success-rate").metadata.as_ref().unwrap()["ResolvedPrometheusQuery"],
        "up"
    );
    // Empty metadata is omitted, as Go's omitempty does.
    let outcome = MeasurementOutcome {
        task: plan.tasks[0].clone(),
        measurement: measured(Successful, 0),
        metadata: Some(BTreeMap::new()),
    };
    let r = finish(&ar, &plan, vec![outcome], &Redactor::default(), t0());
    assert_eq!(result_of(&r, "success-rate").metadata, None);
}

#[test]
fn status_round_trips_as_go_writes_it() {
    let r = step(&run(ONE_METRIC), t0(), |_| Successful);
    let json = serde_json::to_value(status_of(&r)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "phase": "Running",
            "startedAt": "2024-05-01T10:00:00Z",
            "runSummary": {"count": 1},
            "dryRunSummary": {},
            "metricResults": [{
                "name": "success-rate",
                "phase": "Running",
                "count": 1,
                "successful": 1,
                "consecutiveSuccess": 1,
                "measurements": [{
                    "phase": "Successful",
                    "startedAt": "2024-05-01T10:00:00Z",
                    "finishedAt": "2024-05-01T10:00:00Z"
                }]
            }]
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Cost
// ---------------------------------------------------------------------------------------------

/// A run of 10 metrics with 10 measurements each, mid-flight.
pub(crate) fn big_run() -> (AnalysisRun, RunSpec) {
    let mut metrics = String::from("spec:\n  metrics:\n");
    for i in 0..10 {
        metrics.push_str(&format!(
            "  - name: m{i}\n    interval: 60s\n    count: 20\n    failureLimit: 3\n    provider: {{web: {{url: \"http://x\"}}}}\n"
        ));
    }
    let results = (0..10)
        .map(|i| {
            let mut r = result(
                &format!("m{i}"),
                (0..10)
                    .map(|k| measured(Successful, k * 61 - 700))
                    .collect(),
            );
            r.successful = r.count;
            r
        })
        .collect();
    let ar = with_results(&metrics, results, Some(-700));
    let spec = prepare(&ar).unwrap();
    (ar, spec)
}

#[test]
fn assessing_a_big_run_is_cheap() {
    let (ar, spec) = big_run();
    let iterations = 200;
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        let mut run = ar.clone();
        let events = assess_run(&mut run, &spec, t0());
        let due = due_measurements(&run, &spec, t0());
        let next = next_reconcile(&run, &spec, t0());
        std::hint::black_box((events, due, next));
    }
    let per_run = start.elapsed() / iterations;
    eprintln!("assess + schedule + requeue of 10 metrics x 10 measurements: {per_run:?}");
    // Generous for unoptimised test builds; the release figure is far lower.
    assert!(
        per_run < Duration::from_millis(2),
        "{per_run:?} per assessment"
    );
}
