//! Prometheus metrics with Argo Rollouts' names and labels, and the `/metrics` and `/healthz`
//! endpoints.
//!
//! Cardinality is bounded: the only unbounded label values are namespace/name of live objects.
//! Per-rollout and per-AnalysisRun series of objects that no longer exist are dropped at the next
//! scrape (Argo keeps them forever, one of the slow leaks users report), and API request counters
//! carry no object labels.
//!
//! AnalysisRun metrics (Argo's `controller/metrics/analysis.go`): the gauges `analysis_run_info`,
//! `analysis_run_phase`, `analysis_run_metric_type` and `analysis_run_metric_phase` are computed
//! at scrape time from the AnalysisRun cache; `analysis_run_reconcile` (histogram) and
//! `analysis_run_reconcile_error` (counter) are recorded by the AnalysisRun controller.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{Arc, Mutex},
    time::Duration,
};

use kube::{ResourceExt, runtime::reflector::Store};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::crd::{AnalysisPhase, AnalysisRun, Rollout};

/// `rollout_reconcile` histogram buckets, as Argo's.
const BUCKETS: [f64; 5] = [0.01, 0.15, 0.25, 0.5, 1.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters and histograms updated by the controller; gauges are computed at scrape time.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    reconcile: BTreeMap<(String, String), Histogram>,
    reconcile_errors: BTreeMap<(String, String), u64>,
    events: BTreeMap<(String, String, String, String), u64>,
    requests: BTreeMap<(String, String, String), u64>,
    analysis_reconcile: BTreeMap<(String, String), Histogram>,
    analysis_reconcile_errors: BTreeMap<(String, String), u64>,
}

impl Histogram {
    fn observe(&mut self, took: Duration) {
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

impl Metrics {
    pub fn observe_reconcile(&self, ns: &str, name: &str, took: Duration) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .reconcile
            .entry((ns.into(), name.into()))
            .or_default()
            .observe(took);
    }

    /// One AnalysisRun reconcile (`analysis_run_reconcile`).
    pub fn observe_analysis_reconcile(&self, ns: &str, name: &str, took: Duration) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .analysis_reconcile
            .entry((ns.into(), name.into()))
            .or_default()
            .observe(took);
    }

    /// One failed AnalysisRun reconcile (`analysis_run_reconcile_error`).
    pub fn analysis_reconcile_error(&self, ns: &str, name: &str) {
        *self
            .inner
            .lock()
            .unwrap()
            .analysis_reconcile_errors
            .entry((ns.into(), name.into()))
            .or_default() += 1;
    }

    pub fn reconcile_error(&self, ns: &str, name: &str) {
        *self
            .inner
            .lock()
            .unwrap()
            .reconcile_errors
            .entry((ns.into(), name.into()))
            .or_default() += 1;
    }

    pub fn event(&self, ns: &str, name: &str, type_: &str, reason: &str) {
        *self
            .inner
            .lock()
            .unwrap()
            .events
            .entry((ns.into(), name.into(), type_.into(), reason.into()))
            .or_default() += 1;
    }

    /// One API write: kind, verb and HTTP status code (no object labels).
    pub fn request(&self, kind: &str, verb: &str, code: u16) {
        *self
            .inner
            .lock()
            .unwrap()
            .requests
            .entry((kind.into(), verb.into(), code.to_string()))
            .or_default() += 1;
    }

    /// Total reconciles observed, for tests and benchmarks.
    pub fn reconciles(&self) -> u64 {
        self.inner
            .lock()
            .unwrap()
            .reconcile
            .values()
            .map(|h| h.count)
            .sum()
    }

    /// The Prometheus text exposition of every metric, from the cached Rollouts and
    /// AnalysisRuns (series of objects not in them are dropped).
    pub fn render(&self, rollouts: &[Arc<Rollout>], analysis_runs: &[Arc<AnalysisRun>]) -> String {
        let mut out = String::new();
        let live: std::collections::BTreeSet<(String, String)> = rollouts
            .iter()
            .map(|r| (r.namespace().unwrap_or_default(), r.name_any()))
            .collect();
        let live_runs: std::collections::BTreeSet<(String, String)> = analysis_runs
            .iter()
            .map(|r| (r.namespace().unwrap_or_default(), r.name_any()))
            .collect();
        let mut inner = self.inner.lock().unwrap();
        inner.reconcile.retain(|k, _| live.contains(k));
        inner.reconcile_errors.retain(|k, _| live.contains(k));
        inner
            .events
            .retain(|(ns, n, _, _), _| live.contains(&(ns.clone(), n.clone())));
        inner
            .analysis_reconcile
            .retain(|k, _| live_runs.contains(k));
        inner
            .analysis_reconcile_errors
            .retain(|k, _| live_runs.contains(k));

        header(
            &mut out,
            "argo_rollouts_controller_info",
            "gauge",
            "Running Argo-rollouts version",
        );
        let _ = writeln!(
            out,
            "argo_rollouts_controller_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );

        for (name, help) in [
            ("rollout_info", "Information about rollout."),
            (
                "rollout_info_replicas_available",
                "The number of available replicas per rollout.",
            ),
            (
                "rollout_info_replicas_unavailable",
                "The number of unavailable replicas per rollout.",
            ),
            (
                "rollout_info_replicas_desired",
                "The number of desired replicas per rollout.",
            ),
            (
                "rollout_info_replicas_updated",
                "The number of updated replicas per rollout.",
            ),
        ] {
            header(&mut out, name, "gauge", help);
            for ro in rollouts {
                let (ns, n) = (ro.namespace().unwrap_or_default(), ro.name_any());
                let s = ro.status.clone().unwrap_or_default();
                let (strategy, router) = strategy_and_router(ro);
                let value = match name {
                    "rollout_info" => {
                        let _ = writeln!(
                            out,
                            "rollout_info{{namespace=\"{}\",name=\"{}\",strategy=\"{strategy}\",traffic_router=\"{router}\",phase=\"{}\"}} 1",
                            esc(&ns),
                            esc(&n),
                            metric_phase(ro)
                        );
                        continue;
                    }
                    "rollout_info_replicas_available" => s.available_replicas.unwrap_or(0),
                    "rollout_info_replicas_unavailable" => {
                        s.replicas.unwrap_or(0) - s.available_replicas.unwrap_or(0)
                    }
                    "rollout_info_replicas_desired" => ro.desired_replicas(),
                    _ => s.updated_replicas.unwrap_or(0),
                };
                let _ = writeln!(
                    out,
                    "{name}{{namespace=\"{}\",name=\"{}\"}} {value}",
                    esc(&ns),
                    esc(&n)
                );
            }
        }

        histograms(
            &mut out,
            "rollout_reconcile",
            "Rollout reconciliation performance.",
            &inner.reconcile,
        );
        counters(
            &mut out,
            "rollout_reconcile_error",
            "Error occurring during the rollout",
            &inner.reconcile_errors,
        );
        render_analysis_runs(&mut out, analysis_runs);
        histograms(
            &mut out,
            "analysis_run_reconcile",
            "Analysis Run reconciliation performance.",
            &inner.analysis_reconcile,
        );
        counters(
            &mut out,
            "analysis_run_reconcile_error",
            "Error occurring during the analysis run",
            &inner.analysis_reconcile_errors,
        );
        header(
            &mut out,
            "rollout_events_total",
            "counter",
            "Count of rollout events",
        );
        for ((ns, n, t, r), v) in &inner.events {
            let _ = writeln!(
                out,
                "rollout_events_total{{namespace=\"{}\",name=\"{}\",type=\"{t}\",reason=\"{}\"}} {v}",
                esc(ns),
                esc(n),
                esc(r)
            );
        }
        header(
            &mut out,
            "controller_clientset_k8s_request_total",
            "counter",
            "Number of kubernetes write requests executed by the controller.",
        );
        for ((kind, verb, code), v) in &inner.requests {
            let _ = writeln!(
                out,
                "controller_clientset_k8s_request_total{{kind=\"{kind}\",verb=\"{verb}\",status_code=\"{code}\"}} {v}"
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A histogram family with `namespace`/`name` labels.
fn histograms(
    out: &mut String,
    name: &str,
    help: &str,
    series: &BTreeMap<(String, String), Histogram>,
) {
    header(out, name, "histogram", help);
    for ((ns, n), h) in series {
        let labels = format!("namespace=\"{}\",name=\"{}\"", esc(ns), esc(n));
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels},le=\"{bound}\"}} {}",
                h.counts[i]
            );
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
    }
}

/// A counter family with `namespace`/`name` labels.
fn counters(out: &mut String, name: &str, help: &str, series: &BTreeMap<(String, String), u64>) {
    header(out, name, "counter", help);
    for ((ns, n), v) in series {
        let _ = writeln!(
            out,
            "{name}{{namespace=\"{}\",name=\"{}\"}} {v}",
            esc(ns),
            esc(n)
        );
    }
}

/// The phases Argo reports one 0/1 gauge for, in its order.
const ANALYSIS_PHASES: [AnalysisPhase; 6] = [
    AnalysisPhase::Pending,
    AnalysisPhase::Error,
    AnalysisPhase::Failed,
    AnalysisPhase::Successful,
    AnalysisPhase::Running,
    AnalysisPhase::Inconclusive,
];

/// 1 if `phase` (the run's or a metric's) is `gauge`; an unset phase counts as Pending.
fn phase_gauge(phase: &AnalysisPhase, gauge: &AnalysisPhase) -> u8 {
    let phase = if phase.is_empty() {
        &AnalysisPhase::Pending
    } else {
        phase
    };
    u8::from(phase == gauge)
}

/// The scrape-time AnalysisRun gauges (Argo's `collectAnalysisRuns`): `analysis_run_info`
/// (phase as recorded, `""` before the first reconcile), the deprecated one-hot
/// `analysis_run_phase`, and per metric of the spec `analysis_run_metric_type` and the one-hot
/// `analysis_run_metric_phase` (a metric without a result yet is Pending; `dry_run` as selected
/// by the run's dry-run rules).
fn render_analysis_runs(out: &mut String, runs: &[Arc<AnalysisRun>]) {
    let mut runs: Vec<&AnalysisRun> = runs.iter().map(|r| &**r).collect();
    runs.sort_by_key(|r| (r.metadata.namespace.clone(), r.metadata.name.clone()));
    let phase_of = |run: &AnalysisRun| {
        run.status
            .as_ref()
            .map(|s| s.phase.clone())
            .unwrap_or_default()
    };
    let labels = |run: &AnalysisRun| {
        format!(
            "namespace=\"{}\",name=\"{}\"",
            esc(run.metadata.namespace.as_deref().unwrap_or_default()),
            esc(run.metadata.name.as_deref().unwrap_or_default())
        )
    };
    header(
        out,
        "analysis_run_info",
        "gauge",
        "Information about analysis run.",
    );
    for run in &runs {
        let _ = writeln!(
            out,
            "analysis_run_info{{{},phase=\"{}\"}} 1",
            labels(run),
            esc(phase_of(run).as_str())
        );
    }
    header(
        out,
        "analysis_run_phase",
        "gauge",
        "Information on the state of the Analysis Run (DEPRECATED - use analysis_run_info)",
    );
    for run in &runs {
        let (labels, phase) = (labels(run), phase_of(run));
        for gauge in &ANALYSIS_PHASES {
            let _ = writeln!(
                out,
                "analysis_run_phase{{{labels},phase=\"{gauge}\"}} {}",
                phase_gauge(&phase, gauge)
            );
        }
    }
    header(
        out,
        "analysis_run_metric_type",
        "gauge",
        "Information on the type of a specific metric in the Analysis Runs",
    );
    for run in &runs {
        let labels = labels(run);
        for metric in &run.spec.metrics {
            let _ = writeln!(
                out,
                "analysis_run_metric_type{{{labels},metric=\"{}\",type=\"{}\"}} 1",
                esc(&metric.name),
                crate::analysis::provider::provider_type(metric)
            );
        }
    }
    header(
        out,
        "analysis_run_metric_phase",
        "gauge",
        "Information on the duration of a specific metric in the Analysis Run",
    );
    for run in &runs {
        let labels = labels(run);
        let (dry_run, _) = crate::analysis::assess::dry_run_flags(
            run.spec.dry_run.as_deref().unwrap_or_default(),
            &run.spec.metrics,
        );
        let results = run
            .status
            .as_ref()
            .and_then(|s| s.metric_results.as_deref())
            .unwrap_or_default();
        for (metric, dry_run) in run.spec.metrics.iter().zip(dry_run) {
            let phase = results
                .iter()
                .find(|r| r.name == metric.name)
                .map(|r| r.phase.clone())
                .unwrap_or_default();
            for gauge in &ANALYSIS_PHASES {
                let _ = writeln!(
                    out,
                    "analysis_run_metric_phase{{{labels},metric=\"{}\",type=\"{}\",dry_run=\"{dry_run}\",phase=\"{gauge}\"}} {}",
                    esc(&metric.name),
                    crate::analysis::provider::provider_type(metric),
                    phase_gauge(&phase, gauge)
                );
            }
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `strategy` and `traffic_router` labels, as Argo derives them.
pub fn strategy_and_router(ro: &Rollout) -> (&'static str, &'static str) {
    if ro.spec.strategy.blue_green.is_some() {
        return ("blueGreen", "");
    }
    let Some(canary) = &ro.spec.strategy.canary else {
        return ("none", "");
    };
    let Some(tr) = &canary.traffic_routing else {
        return ("canary", "");
    };
    // Later matches win, as in Argo's sequence of ifs.
    let mut router = "";
    for (present, name) in [
        (tr.alb.is_some(), "ALB"),
        (tr.ambassador.is_some(), "Ambassador"),
        (tr.istio.is_some(), "Istio"),
        (tr.nginx.is_some(), "Nginx"),
        (tr.smi.is_some(), "SMI"),
        (tr.app_mesh.is_some(), "AppMesh"),
    ] {
        if present {
            router = name;
        }
    }
    ("canary", router)
}

/// The `phase` label of `rollout_info`, derived from conditions as Argo does.
pub fn metric_phase(ro: &Rollout) -> &'static str {
    let conditions = ro
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[]);
    if conditions.iter().any(|c| c.type_ == "InvalidSpec") {
        return "InvalidSpec";
    }
    match conditions
        .iter()
        .find(|c| c.type_ == "Progressing")
        .map(|c| c.reason.as_str())
    {
        Some("NewReplicaSetAvailable") => "Completed",
        Some("RolloutPaused") => "Paused",
        Some("ReplicaSetCreateError") => "Error",
        Some("ProgressDeadlineExceeded") => "Timeout",
        Some("RolloutAborted") => "Abort",
        _ => "Progressing",
    }
}

/// The Rollout cache the controller fills once it runs (a follower waiting for the Lease has none
/// yet and serves the process metrics only).
pub type RolloutStoreSlot = Arc<std::sync::OnceLock<Store<Rollout>>>;

/// The AnalysisRun cache the AnalysisRun controller publishes once it runs.
pub type AnalysisRunStoreSlot = Arc<std::sync::OnceLock<Store<AnalysisRun>>>;

/// Serves `/metrics` on `port` (0 picks a free port; the address is logged), on every replica.
pub async fn serve_metrics(
    metrics: Arc<Metrics>,
    rollouts: RolloutStoreSlot,
    analysis_runs: AnalysisRunStoreSlot,
    port: u16,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(address = %listener.local_addr()?, "serving /metrics");
    accept(listener, move |path| match path {
        "/metrics" => {
            let state = rollouts.get().map(|s| s.state()).unwrap_or_default();
            let runs = analysis_runs.get().map(|s| s.state()).unwrap_or_default();
            Some(("text/plain; version=0.0.4", metrics.render(&state, &runs)))
        }
        _ => None,
    })
    .await;
    Ok(())
}

/// Serves `/healthz` on `port` from process start, also while waiting for the lease.
pub async fn serve_healthz(port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(address = %listener.local_addr()?, "serving /healthz");
    accept(listener, |path| match path {
        "/healthz" => Some(("text/plain", "ok".to_string())),
        _ => None,
    })
    .await;
    Ok(())
}

/// A minimal HTTP/1.1 responder for GET probes and scrapes: one request per connection.
async fn accept<F>(listener: TcpListener, route: F)
where
    F: Fn(&str) -> Option<(&'static str, String)> + Send + Sync + 'static,
{
    let route = Arc::new(route);
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            continue;
        };
        let route = route.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut len = 0;
            // Read until the end of the request head (or give up on an oversized head).
            while len < buf.len() {
                match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf[len..])).await
                {
                    Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
                    Ok(Ok(n)) => len += n,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            let mut parts = head.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let path = path.split('?').next().unwrap_or("");
            let (status, ctype, body) = match (method, route(path)) {
                ("GET", Some((ctype, body))) => ("200 OK", ctype, body),
                ("GET", None) => ("404 Not Found", "text/plain", "not found\n".to_string()),
                _ => (
                    "405 Method Not Allowed",
                    "text/plain",
                    "method not allowed\n".to_string(),
                ),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(response.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(ns: &str, name: &str, yaml_status: serde_json::Value) -> Arc<Rollout> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"replicas": 3, "strategy": {"canary": {"trafficRouting": {"nginx": {"stableIngress": "x"}}}}},
                "status": yaml_status,
            }))
            .unwrap(),
        )
    }

    #[test]
    fn rollout_info_has_argo_labels_and_phase_from_conditions() {
        let m = Metrics::default();
        let ro = rollout(
            "ns",
            "web",
            serde_json::json!({"replicas": 3, "availableReplicas": 2, "updatedReplicas": 1,
                "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "",
                                "lastUpdateTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
        );
        let text = m.render(&[ro], &[]);
        assert!(text.contains(
            "rollout_info{namespace=\"ns\",name=\"web\",strategy=\"canary\",traffic_router=\"Nginx\",phase=\"Completed\"} 1"
        ));
        assert!(text.contains("rollout_info_replicas_available{namespace=\"ns\",name=\"web\"} 2"));
        assert!(
            text.contains("rollout_info_replicas_unavailable{namespace=\"ns\",name=\"web\"} 1")
        );
        assert!(text.contains("rollout_info_replicas_desired{namespace=\"ns\",name=\"web\"} 3"));
        assert!(text.contains("rollout_info_replicas_updated{namespace=\"ns\",name=\"web\"} 1"));
    }

    #[test]
    fn series_of_deleted_rollouts_are_dropped() {
        let m = Metrics::default();
        m.observe_reconcile("ns", "gone", Duration::from_millis(5));
        m.observe_reconcile("ns", "web", Duration::from_millis(200));
        m.event("ns", "gone", "Normal", "RolloutCompleted");
        let text = m.render(&[rollout("ns", "web", serde_json::json!({}))], &[]);
        assert!(!text.contains("name=\"gone\""), "{text}");
        assert!(
            text.contains("rollout_reconcile_bucket{namespace=\"ns\",name=\"web\",le=\"0.25\"} 1")
        );
        assert!(
            text.contains("rollout_reconcile_bucket{namespace=\"ns\",name=\"web\",le=\"0.15\"} 0")
        );
        assert!(text.contains("rollout_reconcile_count{namespace=\"ns\",name=\"web\"} 1"));
    }

    fn analysis_run(name: &str, body: serde_json::Value) -> Arc<AnalysisRun> {
        let mut run = serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
            "metadata": {"name": name, "namespace": "ns"},
        });
        run.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        Arc::new(serde_json::from_value(run).unwrap())
    }

    /// The lines of `text` that belong to the family `name` (not its HELP/TYPE lines).
    fn family<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .collect()
    }

    #[test]
    fn analysis_run_gauges_have_argo_names_labels_and_help() {
        let m = Metrics::default();
        let run = analysis_run(
            "checks",
            serde_json::json!({
                "spec": {
                    "metrics": [
                        {"name": "errors", "provider": {"prometheus": {"query": "q"}}},
                        {"name": "latency", "provider": {"web": {"url": "http://x"}}},
                        {"name": "smoke", "provider": {"job": {"spec": {"template": {"spec": {"containers": []}}}}}}
                    ],
                    "dryRun": [{"metricName": "lat.*"}]
                },
                "status": {"phase": "Running", "metricResults": [
                    {"name": "errors", "phase": "Successful"},
                    {"name": "latency", "phase": "Failed"}
                ]}
            }),
        );
        let text = m.render(&[], &[run]);
        for (name, kind, help) in [
            (
                "analysis_run_info",
                "gauge",
                "Information about analysis run.",
            ),
            (
                "analysis_run_phase",
                "gauge",
                "Information on the state of the Analysis Run (DEPRECATED - use analysis_run_info)",
            ),
            (
                "analysis_run_metric_type",
                "gauge",
                "Information on the type of a specific metric in the Analysis Runs",
            ),
            (
                "analysis_run_metric_phase",
                "gauge",
                "Information on the duration of a specific metric in the Analysis Run",
            ),
            (
                "analysis_run_reconcile",
                "histogram",
                "Analysis Run reconciliation performance.",
            ),
            (
                "analysis_run_reconcile_error",
                "counter",
                "Error occurring during the analysis run",
            ),
        ] {
            assert!(
                text.contains(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n")),
                "{name}: {text}"
            );
        }
        assert_eq!(
            family(&text, "analysis_run_info"),
            ["analysis_run_info{namespace=\"ns\",name=\"checks\",phase=\"Running\"} 1"]
        );
        assert_eq!(
            family(&text, "analysis_run_phase"),
            [
                "analysis_run_phase{namespace=\"ns\",name=\"checks\",phase=\"Pending\"} 0",
                "analysis_run_phase{namespace=\"ns\",name=\"checks\",phase=\"Error\"} 0",
                "analysis_run_phase{namespace=\"ns\",name=\"checks\",phase=\"Failed\"} 0",
                "analysis_run_phase{namespace=\"ns\",name=\"checks\",phase=\"Successful\"} 0",
                "analysis_run_phase{namespace=\"ns\",name=\"checks\",phase=\"Running\"} 1",
                "analysis_run_phase{namespace=\"ns\",name=\"checks\",phase=\"Inconclusive\"} 0",
            ]
        );
        assert_eq!(
            family(&text, "analysis_run_metric_type"),
            [
                "analysis_run_metric_type{namespace=\"ns\",name=\"checks\",metric=\"errors\",type=\"Prometheus\"} 1",
                "analysis_run_metric_type{namespace=\"ns\",name=\"checks\",metric=\"latency\",type=\"Web\"} 1",
                "analysis_run_metric_type{namespace=\"ns\",name=\"checks\",metric=\"smoke\",type=\"Job\"} 1",
            ]
        );
        let phases = family(&text, "analysis_run_metric_phase");
        assert_eq!(phases.len(), 18, "6 phases per metric: {phases:#?}");
        let ones: Vec<&str> = phases
            .iter()
            .copied()
            .filter(|l| l.ends_with(" 1"))
            .collect();
        assert_eq!(
            ones,
            [
                "analysis_run_metric_phase{namespace=\"ns\",name=\"checks\",metric=\"errors\",type=\"Prometheus\",dry_run=\"false\",phase=\"Successful\"} 1",
                "analysis_run_metric_phase{namespace=\"ns\",name=\"checks\",metric=\"latency\",type=\"Web\",dry_run=\"true\",phase=\"Failed\"} 1",
                // No result yet: Pending.
                "analysis_run_metric_phase{namespace=\"ns\",name=\"checks\",metric=\"smoke\",type=\"Job\",dry_run=\"false\",phase=\"Pending\"} 1",
            ]
        );
    }

    #[test]
    fn analysis_run_before_its_first_reconcile_is_pending_with_an_empty_info_phase() {
        let run = analysis_run(
            "new",
            serde_json::json!({"spec": {"metrics": [{"name": "m", "provider": {}}]}}),
        );
        let text = Metrics::default().render(&[], &[run]);
        assert_eq!(
            family(&text, "analysis_run_info"),
            ["analysis_run_info{namespace=\"ns\",name=\"new\",phase=\"\"} 1"]
        );
        assert!(
            text.contains("analysis_run_phase{namespace=\"ns\",name=\"new\",phase=\"Pending\"} 1")
        );
        assert!(text.contains(
            "analysis_run_metric_type{namespace=\"ns\",name=\"new\",metric=\"m\",type=\"Unknown Provider\"} 1"
        ));
        assert!(text.contains(
            "analysis_run_metric_phase{namespace=\"ns\",name=\"new\",metric=\"m\",type=\"Unknown Provider\",dry_run=\"false\",phase=\"Pending\"} 1"
        ));
    }

    #[test]
    fn analysis_run_reconcile_series_follow_the_cache() {
        let m = Metrics::default();
        m.observe_analysis_reconcile("ns", "live", Duration::from_millis(120));
        m.analysis_reconcile_error("ns", "live");
        m.observe_analysis_reconcile("ns", "gone", Duration::from_millis(5));
        m.analysis_reconcile_error("ns", "gone");
        let live = analysis_run("live", serde_json::json!({"spec": {"metrics": []}}));
        let text = m.render(&[], &[live]);
        assert!(!text.contains("name=\"gone\""), "{text}");
        assert!(text.contains(
            "analysis_run_reconcile_bucket{namespace=\"ns\",name=\"live\",le=\"0.01\"} 0"
        ));
        assert!(text.contains(
            "analysis_run_reconcile_bucket{namespace=\"ns\",name=\"live\",le=\"0.15\"} 1"
        ));
        assert!(text.contains(
            "analysis_run_reconcile_bucket{namespace=\"ns\",name=\"live\",le=\"+Inf\"} 1"
        ));
        assert!(text.contains("analysis_run_reconcile_count{namespace=\"ns\",name=\"live\"} 1"));
        assert!(text.contains("analysis_run_reconcile_error{namespace=\"ns\",name=\"live\"} 1"));
        // Deleted runs do not come back: their series are gone for good.
        let text = m.render(&[], &[]);
        assert!(family(&text, "analysis_run_reconcile_count").is_empty());
        assert!(family(&text, "analysis_run_info").is_empty());
    }
}
