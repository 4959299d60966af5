//! Hot pure code of the AnalysisRun loop: assessing a run (`make bench-planner`).
//! Target (issue #7): assessing a run of 10 metrics × 10 measurements in under 50 µs.

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rollouts::{
    analysis::assess::{assess_run, k8s_time, prepare},
    crd::{AnalysisPhase, AnalysisRun},
};
use serde_json::{Value, json};

const METRICS: usize = 10;
const MEASUREMENTS: usize = 10;

fn t0() -> DateTime<Utc> {
    "2026-01-01T10:00:00Z".parse().unwrap()
}

fn time(secs: i64) -> Value {
    serde_json::to_value(k8s_time(t0() + TimeDelta::seconds(secs))).unwrap()
}

/// A Prometheus-backed run of `METRICS` metrics measured every 30 s, each with `MEASUREMENTS`
/// successful measurements recorded (the default history limit), as the controller holds it
/// after ten rounds. With `count` of `MEASUREMENTS` every metric is complete; with more, the run
/// is still going.
fn run(count: usize) -> AnalysisRun {
    let metrics: Vec<Value> = (0..METRICS)
        .map(|i| {
            json!({
                "name": format!("metric-{i}"),
                "interval": "30s",
                "count": count,
                "failureLimit": 2,
                "successCondition": "result[0] < 0.05",
                "provider": {"prometheus": {
                    "address": "http://prometheus.monitoring:9090",
                    "query": format!("sum(rate(http_errors{{service=\"checkout\",slo=\"{i}\"}}[5m]))")
                }}
            })
        })
        .collect();
    let results: Vec<Value> = (0..METRICS)
        .map(|i| {
            let measurements: Vec<Value> = (0..MEASUREMENTS)
                .map(|m| {
                    let at = 30 * m as i64 + i as i64;
                    json!({"phase": "Successful", "value": "[0.01]",
                           "startedAt": time(at), "finishedAt": time(at)})
                })
                .collect();
            json!({"name": format!("metric-{i}"), "phase": "Running",
                   "measurements": measurements, "count": MEASUREMENTS, "successful": MEASUREMENTS,
                   "consecutiveSuccess": MEASUREMENTS})
        })
        .collect();
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
        "metadata": {"name": "checkout-6f9c7d-2", "namespace": "shop", "uid": "run-uid"},
        "spec": {"metrics": metrics},
        "status": {"phase": "Running", "startedAt": time(0), "metricResults": results}
    }))
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let now = t0() + TimeDelta::seconds(300);
    for (count, phase, label) in [
        (
            MEASUREMENTS * 2,
            AnalysisPhase::Running,
            "assess_run (10 metrics x 10 measurements, still running)",
        ),
        (
            MEASUREMENTS,
            AnalysisPhase::Successful,
            "assess_run (10 metrics x 10 measurements, completing)",
        ),
    ] {
        let run = run(count);
        let spec = prepare(&run).expect("a valid run");
        let mut check = run.clone();
        assess_run(&mut check, &spec, now);
        assert_eq!(check.status.as_ref().unwrap().phase, phase, "{label}");
        // The clone of the run is set-up, not measured.
        c.bench_function(label, |b| {
            b.iter_batched_ref(
                || run.clone(),
                |run| assess_run(black_box(run), black_box(&spec), now),
                BatchSize::SmallInput,
            )
        });
    }
}

criterion_group!(analysis, benches);
criterion_main!(analysis);
