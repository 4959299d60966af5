//! The scale benchmark (`make bench-scale`, driven by `e2e/bench/run.sh`): the real release
//! `rollouts-controller` against the local control plane of `e2e/cluster/up.sh` (real
//! kube-apiserver, kube-controller-manager's ReplicaSet controller and scheduler, kwok nodes that
//! make pods Ready), with N canary Rollouts updated at once.
//!
//! For each N in `BENCH_SIZES` (default `100 1000`), in a fresh namespace with a fresh controller:
//!
//! 1. create N Rollouts (2 replicas, canary steps setWeight 33/66/100, no pauses) and wait until
//!    all are Healthy; let the controller settle (no reconcile for `BENCH_SETTLE_QUIET_SECS`);
//! 2. change the image of all of them at once and measure, per rollout, the time from its patch
//!    to Healthy with the new revision fully promoted (`status.stableRS ==
//!    status.currentPodHash`, a new pod hash, phase Healthy, `observedGeneration` caught up),
//!    seen by a watch on the Rollouts (never by polling objects one by one); let it settle;
//! 3. stay idle for `BENCH_STEADY_SECS` (default 300) and count reconciles and writes.
//!
//! Measured on the controller process: peak RSS (`VmHWM`), steady RSS (`VmRSS` after the steady
//! window), CPU seconds (`utime+stime`) per phase; from its `/metrics`: API writes
//! (`controller_clientset_k8s_request_total`, which counts the executor's writes only), events
//! published (`rollout_events_total`; each is one Event create or count patch), reconciles
//! (`rollout_reconcile_count`). The kube-apiserver's own `apiserver_request_total` gives an
//! independent count of writes per resource, subresource and verb.
//!
//! Output: a table on stdout and a JSON file (`BENCH_OUT`, default
//! `<repo>/.cache/bench/scale.json`). Progress goes to stderr every few seconds.
//!
//! Environment: `BENCH_SIZES`, `BENCH_STEADY_SECS`, `BENCH_TIMEOUT_SECS` (per phase; default
//! 300 + N/2), `BENCH_SETTLE_QUIET_SECS` (10), `BENCH_CONCURRENCY` (client requests in flight
//! when creating and updating, 32), `BENCH_OUT`, `BENCH_CONTROLLER_ARGS` (extra controller flags),
//! plus the e2e harness's `E2E_RUN_DIR`, `E2E_TARGET_DIR` (the controller binary's directory).

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use e2e::{ControllerProcess, install_crds, kubectl, repo_root, run_dir, workspace_binary};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Namespace};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
    runtime::{WatchStreamExt, watcher},
};
use rollouts::crd::Rollout;
use serde_json::{Value, json};

/// The minimum API writes one update of the benchmark's rollout needs, derived in
/// `e2e/bench/RESULTS.md` ("Minimum writes"): ReplicaSets 1 create + 4 scales (new 0→1→2, old
/// 2→1→0; maxSurge 1 and maxUnavailable 0 at 2 replicas allow one pod at a time), Rollout 1
/// metadata patch (revision annotation) + 5 status patches (new revision at step 0, steps 1, 2
/// and 3 completed, promotion to stable). Events are not counted here.
const MIN_WRITES_PER_UPDATE: f64 = 11.0;
const STEPS: &str = "[{\"setWeight\": 33}, {\"setWeight\": 66}, {\"setWeight\": 100}]";
const REPLICAS: i32 = 2;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a valid number")),
        _ => Ok(default),
    }
}

struct Config {
    sizes: Vec<usize>,
    steady: Duration,
    timeout: Option<Duration>,
    quiet: Duration,
    concurrency: usize,
    out: PathBuf,
    controller_args: Vec<String>,
}

impl Config {
    fn from_env() -> Result<Self> {
        let sizes = std::env::var("BENCH_SIZES").unwrap_or_else(|_| "100 1000".into());
        let sizes = sizes
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("BENCH_SIZES: {s:?} is not a positive number"))
            })
            .collect::<Result<Vec<_>>>()?;
        ensure!(!sizes.is_empty(), "BENCH_SIZES is empty");
        let timeout: u64 = env_or("BENCH_TIMEOUT_SECS", 0)?;
        Ok(Self {
            sizes,
            steady: Duration::from_secs(env_or("BENCH_STEADY_SECS", 300)?),
            timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
            quiet: Duration::from_secs(env_or("BENCH_SETTLE_QUIET_SECS", 10)?),
            concurrency: env_or("BENCH_CONCURRENCY", 32usize)?.max(1),
            out: std::env::var_os("BENCH_OUT")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo_root().join(".cache/bench/scale.json")),
            controller_args: std::env::var("BENCH_CONTROLLER_ARGS")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        })
    }

    fn timeout_for(&self, n: usize) -> Duration {
        self.timeout
            .unwrap_or(Duration::from_secs(300 + n as u64 / 2))
    }
}

// ---------------------------------------------------------------------------------------------
// /proc readings
// ---------------------------------------------------------------------------------------------

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `(comm, utime + stime in ticks)` of a process.
fn proc_ticks(pid: u32) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    // After the comm: state is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// `VmRSS` and `VmHWM` in KiB.
fn proc_memory(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("controller process {pid} is gone"))?;
    let field = |name: &str| -> Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU ticks of every process on the machine, to name what else was busy during a phase.
fn all_ticks() -> HashMap<u32, (String, u64)> {
    let mut out = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            if let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok())
                && let Some(t) = proc_ticks(pid)
            {
                out.insert(pid, t);
            }
        }
    }
    out
}

/// The busiest processes between two [`all_ticks`] readings: `(name, cpu seconds)`, by name.
fn busiest(
    before: &HashMap<u32, (String, u64)>,
    after: &HashMap<u32, (String, u64)>,
    hz: f64,
) -> Vec<(String, f64)> {
    let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
    for (pid, (comm, ticks)) in after {
        let start = before.get(pid).map_or(0, |(_, t)| *t);
        *by_name.entry(comm.clone()).or_default() += ticks.saturating_sub(start);
    }
    let mut list: Vec<(String, f64)> = by_name
        .into_iter()
        .map(|(n, t)| (n, t as f64 / hz))
        .filter(|(_, s)| *s >= 0.5)
        .collect();
    list.sort_by(|a, b| b.1.total_cmp(&a.1));
    list.truncate(10);
    list
}

fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The 1-minute load average sampled every few seconds during a phase.
#[derive(Default, Clone)]
struct LoadSamples(Arc<Mutex<Vec<f64>>>);

impl LoadSamples {
    fn summary(&self) -> Value {
        let v = self.0.lock().unwrap();
        if v.is_empty() {
            return json!(null);
        }
        let max = v.iter().copied().fold(f64::MIN, f64::max);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        json!({"mean": round2(mean), "max": round2(max), "samples": v.len()})
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// One Prometheus sample: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (series, value) = match line.rsplit_once(' ') {
            Some(x) => x,
            None => continue,
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'))),
            None => (series, BTreeMap::new()),
        };
        out.push((name.to_string(), labels, value));
    }
    out
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(if n == 'n' { '\n' } else { n });
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_string(), value);
        rest = &after[end..];
    }
    labels
}

/// What the benchmark reads from the controller's `/metrics`.
#[derive(Clone, Debug, Default)]
struct ControllerMetrics {
    /// `controller_clientset_k8s_request_total` by `kind verb code`.
    writes: BTreeMap<String, f64>,
    reconciles: f64,
    /// `rollout_reconcile_sum` over all rollouts (seconds).
    reconcile_seconds: f64,
    reconcile_errors: f64,
    /// `rollout_events_total` by reason.
    events: BTreeMap<String, f64>,
}

impl ControllerMetrics {
    fn writes_total(&self) -> f64 {
        self.writes.values().sum()
    }

    fn events_total(&self) -> f64 {
        self.events.values().sum()
    }
}

fn http_get(port: u16, path: &str) -> Result<String> {
    use std::io::{Read, Write};
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("cannot connect to the controller's /metrics on port {port}"))?;
    sock.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        sock,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut body = String::new();
    sock.read_to_string(&mut body)?;
    let (head, body) = body
        .split_once("\r\n\r\n")
        .context("malformed HTTP response from /metrics")?;
    ensure!(
        head.starts_with("HTTP/1.1 200"),
        "GET {path}: {}",
        head.lines().next().unwrap_or("")
    );
    Ok(body.to_string())
}

fn scrape(port: u16) -> Result<ControllerMetrics> {
    let mut m = ControllerMetrics::default();
    for (name, labels, value) in parse_prometheus(&http_get(port, "/metrics")?) {
        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
        match name.as_str() {
            "controller_clientset_k8s_request_total" => {
                *m.writes
                    .entry(format!(
                        "{} {} {}",
                        label("kind"),
                        label("verb"),
                        label("status_code")
                    ))
                    .or_default() += value;
            }
            "rollout_reconcile_count" => m.reconciles += value,
            "rollout_reconcile_sum" => m.reconcile_seconds += value,
            "rollout_reconcile_error" => m.reconcile_errors += value,
            "rollout_events_total" => *m.events.entry(label("reason")).or_default() += value,
            _ => {}
        }
    }
    Ok(m)
}

/// Writes the kube-apiserver served, by `resource[/subresource] VERB`, for the resources the
/// controller writes (from `apiserver_request_total`, read with `kubectl get --raw /metrics`).
fn apiserver_writes() -> Result<BTreeMap<String, f64>> {
    let out = kubectl(&["get", "--raw", "/metrics"], None)?;
    ensure!(
        out.code == 0,
        "cannot read the kube-apiserver's /metrics: {}",
        out.stderr.trim()
    );
    let mut writes = BTreeMap::new();
    for (name, labels, value) in parse_prometheus(&out.stdout) {
        if name != "apiserver_request_total" {
            continue;
        }
        let get = |k: &str| labels.get(k).map(String::as_str).unwrap_or("");
        let verb = get("verb");
        if !matches!(verb, "POST" | "PUT" | "PATCH" | "DELETE") {
            continue;
        }
        let resource = get("resource");
        if !matches!(resource, "rollouts" | "replicasets" | "events" | "pods") {
            continue;
        }
        let sub = get("subresource");
        let key = if sub.is_empty() {
            format!("{resource} {verb}")
        } else {
            format!("{resource}/{sub} {verb}")
        };
        *writes.entry(key).or_default() += value;
    }
    Ok(writes)
}

fn delta(after: &BTreeMap<String, f64>, before: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v != 0.0)
        .collect()
}

fn per(map: &BTreeMap<String, f64>, n: usize) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), json!(round2(v / n as f64))))
            .collect(),
    )
}

fn round2(v: f64) -> f64 {
    // `+ 0.0` turns a -0.0 into 0.0.
    (v * 100.0).round() / 100.0 + 0.0
}

// ---------------------------------------------------------------------------------------------
// Rollouts and the watch
// ---------------------------------------------------------------------------------------------

fn manifest(name: &str) -> Result<Rollout> {
    let steps: Value = serde_json::from_str(STEPS)?;
    Ok(serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "labels": {"bench": "scale"}},
        "spec": {
            "replicas": REPLICAS,
            "revisionHistoryLimit": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/bench:1"}]}
            },
            "strategy": {"canary": {"steps": steps}}
        }
    }))?)
}

/// The parts of a Rollout the benchmark judges.
#[derive(Clone, Debug, Default)]
struct Seen {
    generation: i64,
    observed_generation: i64,
    healthy: bool,
    promoted: bool,
    pod_hash: String,
}

impl Seen {
    fn of(ro: &Rollout) -> Self {
        let s = ro.status.clone().unwrap_or_default();
        let current = s.current_pod_hash.unwrap_or_default();
        Self {
            generation: ro.metadata.generation.unwrap_or(0),
            observed_generation: s
                .observed_generation
                .and_then(|g| g.parse().ok())
                .unwrap_or(0),
            healthy: s.phase.map(|p| p.to_string()).as_deref() == Some("Healthy"),
            promoted: !current.is_empty() && s.stable_rs.as_deref() == Some(current.as_str()),
            pod_hash: current,
        }
    }

    fn done(&self) -> bool {
        self.healthy && self.promoted && self.observed_generation >= self.generation
    }
}

/// What an update must reach: at least this generation, a pod hash other than `old_hash`.
struct Target {
    sent: Instant,
    generation: i64,
    old_hash: String,
    done: Option<Duration>,
}

#[derive(Default)]
struct WatchState {
    seen: HashMap<String, Seen>,
    targets: HashMap<String, Target>,
}

impl WatchState {
    fn check(&mut self, name: &str) {
        let (Some(seen), Some(target)) = (self.seen.get(name), self.targets.get_mut(name)) else {
            return;
        };
        if target.done.is_none()
            && seen.done()
            && seen.observed_generation >= target.generation
            && seen.pod_hash != target.old_hash
        {
            target.done = Some(target.sent.elapsed());
        }
    }

    fn healthy(&self) -> usize {
        self.seen.values().filter(|s| s.done()).count()
    }

    fn updated(&self) -> usize {
        self.targets.values().filter(|t| t.done.is_some()).count()
    }
}

/// Watches the namespace's Rollouts into a shared [`WatchState`].
fn spawn_watch(api: Api<Rollout>, state: Arc<Mutex<WatchState>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let stream = watcher(api, watcher::Config::default())
            .default_backoff()
            .applied_objects();
        futures::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            match item {
                Ok(ro) => {
                    let name = ro.name_any();
                    let mut st = state.lock().unwrap();
                    st.seen.insert(name.clone(), Seen::of(&ro));
                    st.check(&name);
                }
                Err(e) => eprintln!("bench: watch error (retrying): {e}"),
            }
        }
    })
}

/// A line on stderr every 5 s until dropped; samples the load average at the start, with every
/// line and at the end.
struct Progress(tokio::task::JoinHandle<()>, LoadSamples);

impl Progress {
    fn start(label: String, line: impl Fn() -> String + Send + 'static, load: LoadSamples) -> Self {
        let started = Instant::now();
        load.0.lock().unwrap().push(loadavg());
        let samples = load.clone();
        Self(
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    let l = loadavg();
                    load.0.lock().unwrap().push(l);
                    eprintln!(
                        "bench: {label} {:>4}s  {}  load {l:.2}",
                        started.elapsed().as_secs(),
                        line()
                    );
                }
            }),
            samples,
        )
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.abort();
        self.1.0.lock().unwrap().push(loadavg());
    }
}

/// Waits until `done()` or `timeout`, failing with `what` and `detail()`.
async fn wait_until(
    what: &str,
    timeout: Duration,
    mut done: impl FnMut() -> bool,
    detail: impl Fn() -> String,
) -> Result<()> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > timeout {
            bail!(
                "timed out after {timeout:?} waiting for {what}: {}",
                detail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until the controller did no reconcile for `quiet` (at most `cap`); returns how long
/// that took (including the quiet period).
async fn settle(port: u16, quiet: Duration, cap: Duration) -> Result<Duration> {
    let start = Instant::now();
    let mut last = scrape(port)?.reconciles;
    let mut since = Instant::now();
    while since.elapsed() < quiet {
        if start.elapsed() > cap {
            eprintln!(
                "bench: still reconciling after {cap:?}; measuring from here (see reconciles_while_settling)"
            );
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = scrape(port)?.reconciles;
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
    Ok(start.elapsed())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// A reading of the controller process and its metrics at one instant.
struct Reading {
    at: Instant,
    cpu: f64,
    rss_kib: u64,
    hwm_kib: u64,
    metrics: ControllerMetrics,
    apiserver: BTreeMap<String, f64>,
}

fn read(pid: u32, port: u16, hz: f64) -> Result<Reading> {
    let (_, ticks) =
        proc_ticks(pid).with_context(|| format!("controller process {pid} is gone"))?;
    let (rss, hwm) = proc_memory(pid)?;
    Ok(Reading {
        at: Instant::now(),
        cpu: ticks as f64 / hz,
        rss_kib: rss,
        hwm_kib: hwm,
        metrics: scrape(port)?,
        apiserver: apiserver_writes()?,
    })
}

fn mib(kib: u64) -> f64 {
    round2(kib as f64 / 1024.0)
}

/// Sum of `count` over the namespace's Events recorded by the controller (creates + count
/// patches, i.e. every Event write it made), by reason.
async fn controller_events(client: &Client, ns: &str) -> Result<BTreeMap<String, f64>> {
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    let mut out = BTreeMap::new();
    for ev in api.list(&ListParams::default()).await?.items {
        let from_us = ev.reporting_component.as_deref() == Some("rollouts-controller")
            || ev.source.as_ref().and_then(|s| s.component.as_deref())
                == Some("rollouts-controller");
        if from_us {
            *out.entry(ev.reason.unwrap_or_default()).or_default() +=
                f64::from(ev.count.unwrap_or(1));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// One size
// ---------------------------------------------------------------------------------------------

async fn run_size(client: &Client, cfg: &Config, n: usize, hz: f64) -> Result<Value> {
    let ns = format!("bench-scale-{n}-{:x}", std::process::id());
    let ns_api: Api<Namespace> = Api::all(client.clone());
    ns_api
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"metadata": {"name": ns, "labels": {"bench": "scale"}}}),
            )?,
        )
        .await
        .with_context(|| format!("cannot create namespace {ns}"))?;
    let result = measure(client, cfg, n, hz, &ns).await;
    eprintln!("bench: N={n}: deleting namespace {ns}");
    delete_namespace(client, &ns, cfg.timeout_for(n)).await?;
    result
}

async fn delete_namespace(client: &Client, ns: &str, timeout: Duration) -> Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let _ = api.delete(ns, &DeleteParams::background()).await;
    let start = Instant::now();
    let mut last_print = Instant::now();
    loop {
        match api.get_opt(ns).await? {
            None => return Ok(()),
            Some(_) if start.elapsed() > timeout => {
                bail!("namespace {ns} still terminating after {timeout:?}")
            }
            Some(_) => {
                if last_print.elapsed() > Duration::from_secs(10) {
                    eprintln!(
                        "bench: waiting for namespace {ns} to go ({}s)",
                        start.elapsed().as_secs()
                    );
                    last_print = Instant::now();
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn measure(client: &Client, cfg: &Config, n: usize, hz: f64, ns: &str) -> Result<Value> {
    let timeout = cfg.timeout_for(n);
    let (metrics_port, healthz_port) = (free_port()?, free_port()?);
    let kubeconfig = std::env::var("KUBECONFIG")
        .unwrap_or_else(|_| run_dir().join("kubeconfig").display().to_string());
    let mut args: Vec<String> = vec![
        "--kubeconfig".into(),
        kubeconfig,
        "--leader-elect=false".into(),
        "--metricsPort".into(),
        metrics_port.to_string(),
        "--healthzPort".into(),
        healthz_port.to_string(),
    ];
    args.extend(cfg.controller_args.iter().cloned());
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let controller = ControllerProcess::start_exact(&format!("bench-{n}"), &arg_refs, &[])?;
    let pid = controller.pid();
    eprintln!(
        "bench: N={n}: controller pid {pid} ({}), metrics on :{metrics_port}, log {}",
        workspace_binary("rollouts-controller").display(),
        controller.log.display()
    );
    wait_until(
        "the controller's /metrics",
        Duration::from_secs(30),
        || scrape(metrics_port).is_ok(),
        || {
            controller
                .log_text()
                .lines()
                .last()
                .unwrap_or("")
                .to_string()
        },
    )
    .await?;
    let start_reading = read(pid, metrics_port, hz)?;

    let api: Api<Rollout> = Api::namespaced(client.clone(), ns);
    let state = Arc::new(Mutex::new(WatchState::default()));
    let watch = spawn_watch(api.clone(), state.clone());
    let names: Vec<String> = (0..n).map(|i| format!("ro-{i:05}")).collect();

    // --- create ---------------------------------------------------------------------------
    let create_load = LoadSamples::default();
    let created = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let progress = {
        let (state, created) = (state.clone(), created.clone());
        Progress::start(
            format!("N={n} create"),
            move || {
                format!(
                    "created {:>5}/{n}  healthy {:>5}/{n}",
                    created.load(std::sync::atomic::Ordering::Relaxed),
                    state.lock().unwrap().healthy()
                )
            },
            create_load.clone(),
        )
    };
    let create_start = Instant::now();
    futures::stream::iter(names.iter())
        .map(|name| {
            let (api, created) = (api.clone(), created.clone());
            async move {
                api.create(&PostParams::default(), &manifest(name)?)
                    .await
                    .with_context(|| format!("cannot create rollout {name}"))?;
                created.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(cfg.concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    let detail = |state: &Arc<Mutex<WatchState>>| {
        let st = state.lock().unwrap();
        let pending: Vec<String> = names
            .iter()
            .filter(|n| !st.seen.get(*n).is_some_and(Seen::done))
            .take(3)
            .map(|n| format!("{n} {:?}", st.seen.get(n)))
            .collect();
        format!("{} of {n} not done, e.g. {pending:?}", n - st.healthy())
    };
    wait_until(
        "all rollouts Healthy after creation",
        timeout,
        || state.lock().unwrap().healthy() == n,
        || detail(&state),
    )
    .await?;
    let create_secs = create_start.elapsed().as_secs_f64();
    drop(progress);
    eprintln!("bench: N={n}: all {n} Healthy after {create_secs:.1}s; settling");
    let settle_create = settle(metrics_port, cfg.quiet, timeout).await?;
    let before = read(pid, metrics_port, hz)?;
    let events_before = controller_events(client, ns).await?;

    // --- update ---------------------------------------------------------------------------
    let update_load = LoadSamples::default();
    let procs_before = all_ticks();
    let progress = {
        let state = state.clone();
        Progress::start(
            format!("N={n} update"),
            move || {
                let st = state.lock().unwrap();
                format!(
                    "patched {:>5}/{n}  updated {:>5}/{n}",
                    st.targets.len(),
                    st.updated()
                )
            },
            update_load.clone(),
        )
    };
    let old_hashes: HashMap<String, String> = {
        let st = state.lock().unwrap();
        names
            .iter()
            .map(|n| (n.clone(), st.seen[n].pod_hash.clone()))
            .collect()
    };
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "registry.example/bench:2"}
    ]}}}});
    let update_start = Instant::now();
    futures::stream::iter(names.iter())
        .map(|name| {
            let (api, state, patch) = (api.clone(), state.clone(), &patch);
            let old_hash = old_hashes[name].clone();
            async move {
                let sent = Instant::now();
                let ro = api
                    .patch(name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                    .with_context(|| format!("cannot update rollout {name}"))?;
                let mut st = state.lock().unwrap();
                st.targets.insert(
                    name.clone(),
                    Target {
                        sent,
                        generation: ro.metadata.generation.unwrap_or(0),
                        old_hash,
                        done: None,
                    },
                );
                st.check(name);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(cfg.concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    let patched_secs = update_start.elapsed().as_secs_f64();
    wait_until(
        "all rollouts Healthy on the new revision",
        timeout,
        || state.lock().unwrap().updated() == n,
        || {
            let st = state.lock().unwrap();
            let pending: Vec<String> = names
                .iter()
                .filter(|n| st.targets.get(*n).is_none_or(|t| t.done.is_none()))
                .take(3)
                .map(|n| format!("{n} {:?}", st.seen.get(n)))
                .collect();
            format!("{} of {n} not done, e.g. {pending:?}", n - st.updated())
        },
    )
    .await?;
    let update_secs = update_start.elapsed().as_secs_f64();
    let at_healthy = read(pid, metrics_port, hz)?;
    drop(progress);
    eprintln!("bench: N={n}: all {n} updated after {update_secs:.1}s; settling");
    let settle_update = settle(metrics_port, cfg.quiet, timeout).await?;
    let after = read(pid, metrics_port, hz)?;
    let procs_after = all_ticks();
    let events_after = controller_events(client, ns).await?;

    let mut latencies: Vec<f64> = state
        .lock()
        .unwrap()
        .targets
        .values()
        .filter_map(|t| t.done.map(|d| d.as_secs_f64()))
        .collect();
    latencies.sort_by(f64::total_cmp);

    // --- steady ---------------------------------------------------------------------------
    let steady_load = LoadSamples::default();
    let rss_samples = Arc::new(Mutex::new(Vec::<u64>::new()));
    let progress = {
        let rss_samples = rss_samples.clone();
        let secs = cfg.steady.as_secs();
        Progress::start(
            format!("N={n} steady"),
            move || {
                let rss = proc_memory(pid).map(|m| m.0).unwrap_or(0);
                rss_samples.lock().unwrap().push(rss);
                let reconciles = scrape(metrics_port)
                    .map(|m| m.reconciles.to_string())
                    .unwrap_or_else(|e| format!("? ({e})"));
                format!(
                    "of {secs}s  reconciles so far {reconciles}  RSS {:.1} MiB",
                    rss as f64 / 1024.0
                )
            },
            steady_load.clone(),
        )
    };
    tokio::time::sleep(cfg.steady).await;
    drop(progress);
    let steady = read(pid, metrics_port, hz)?;
    let events_steady = controller_events(client, ns).await?;
    watch.abort();
    let log = controller.log.clone();
    drop(controller);

    // --- results --------------------------------------------------------------------------
    let update_writes = delta(&after.metrics.writes, &before.metrics.writes);
    let update_writes_total: f64 = update_writes.values().sum();
    let writes_per_update = update_writes_total / n as f64;
    let update_events = delta(&after.metrics.events, &before.metrics.events);
    let api_update = {
        let mut d = delta(&after.apiserver, &before.apiserver);
        // The benchmark's own spec patches are not the controller's.
        if let Some(v) = d.get_mut("rollouts PATCH") {
            *v -= n as f64;
        }
        d.retain(|_, v| *v != 0.0);
        d
    };
    let rss_steady = rss_samples.lock().unwrap().clone();
    let result = json!({
        "n": n,
        "namespace": ns,
        "rollout": {"replicas": REPLICAS, "steps": serde_json::from_str::<Value>(STEPS)?},
        "create": {
            "seconds_to_all_healthy": round2(create_secs),
            "settle_seconds": round2(settle_create.as_secs_f64()),
            "controller_cpu_seconds": round2(before.cpu - start_reading.cpu),
            "writes_per_rollout": round2((before.metrics.writes_total() - start_reading.metrics.writes_total()) / n as f64),
            "reconciles_per_rollout": round2((before.metrics.reconciles - start_reading.metrics.reconciles) / n as f64),
            "load_average_1m": create_load.summary(),
        },
        "update": {
            "seconds_to_send_all_patches": round2(patched_secs),
            "seconds_to_all_healthy": round2(update_secs),
            "latency_seconds": {
                "p50": round2(percentile(&latencies, 50.0)),
                "p95": round2(percentile(&latencies, 95.0)),
                "p99": round2(percentile(&latencies, 99.0)),
                "max": round2(latencies.last().copied().unwrap_or(f64::NAN)),
                "count": latencies.len(),
            },
            "settle_seconds": round2(settle_update.as_secs_f64()),
            "reconciles_while_settling_per_rollout": round2((after.metrics.reconciles - at_healthy.metrics.reconciles) / n as f64),
            "controller_cpu_seconds": round2(after.cpu - before.cpu),
            "controller_cpu_seconds_to_all_healthy": round2(at_healthy.cpu - before.cpu),
            "reconciles_per_rollout": round2((after.metrics.reconciles - before.metrics.reconciles) / n as f64),
            "mean_reconcile_ms": round2(1e3 * (after.metrics.reconcile_seconds - before.metrics.reconcile_seconds)
                / (after.metrics.reconciles - before.metrics.reconciles).max(1.0)),
            "reconcile_errors": after.metrics.reconcile_errors - before.metrics.reconcile_errors,
            "writes_per_update": round2(writes_per_update),
            "writes_per_update_by_kind_verb_code": per(&update_writes, n),
            "min_writes_per_update": MIN_WRITES_PER_UPDATE,
            "writes_ratio_to_min": round2(writes_per_update / MIN_WRITES_PER_UPDATE),
            "events_published_per_update": round2(update_events.values().sum::<f64>() / n as f64),
            "events_published_per_update_by_reason": per(&update_events, n),
            "event_writes_seen_in_events_api_per_update": round2(delta(&events_after, &events_before).values().sum::<f64>() / n as f64),
            "apiserver_writes_per_update_by_resource_verb": per(&api_update, n),
            "load_average_1m": update_load.summary(),
            "busiest_processes_cpu_seconds": busiest(&procs_before, &procs_after, hz)
                .into_iter().map(|(name, s)| json!([name, round2(s)])).collect::<Vec<_>>(),
        },
        "steady": {
            "seconds": cfg.steady.as_secs(),
            "reconciles_per_rollout": round2((steady.metrics.reconciles - after.metrics.reconciles) / n as f64),
            "reconciles_total": steady.metrics.reconciles - after.metrics.reconciles,
            "writes_total": steady.metrics.writes_total() - after.metrics.writes_total(),
            "events_total": steady.metrics.events_total() - after.metrics.events_total(),
            "event_writes_seen_in_events_api": round2(delta(&events_steady, &events_after).values().sum::<f64>()),
            "controller_cpu_seconds": round2(steady.cpu - after.cpu),
            "load_average_1m": steady_load.summary(),
        },
        "memory_mib": {
            "rss_after_start": mib(start_reading.rss_kib),
            "rss_all_created": mib(before.rss_kib),
            "peak_rss_vmhwm": mib(steady.hwm_kib),
            "peak_rss_vmhwm_after_create": mib(before.hwm_kib),
            "rss_steady": mib(steady.rss_kib),
            "rss_steady_min": mib(rss_steady.iter().copied().min().unwrap_or(steady.rss_kib)),
            "rss_steady_max": mib(rss_steady.iter().copied().max().unwrap_or(steady.rss_kib)),
        },
        "wall_seconds": round2(steady.at.duration_since(start_reading.at).as_secs_f64()),
        "controller_log_mib": round2(
            std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) as f64 / 1024.0 / 1024.0
        ),
    });
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn machine() -> Value {
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(repo_root())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu_model,
        "memory_gib": round2(mem_kib as f64 / 1024.0 / 1024.0),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "git_commit": git(&["rev-parse", "HEAD"]),
        "git_dirty": !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty(),
        "date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "load_average_1m_at_start": loadavg(),
        "cluster_args": {
            "kube_controller_manager": std::env::var("E2E_KCM_EXTRA_ARGS").unwrap_or_default(),
            "kube_scheduler": std::env::var("E2E_SCHEDULER_EXTRA_ARGS").unwrap_or_default(),
        },
    })
}

/// A row of the table: its label and how to read it from one size's result.
type Row = (&'static str, fn(&Value) -> String);

fn table(results: &[Value]) -> String {
    let mut out = String::new();
    let rows: [Row; 19] = [
        ("update latency p50 (s)", |r| {
            fmt(&r["update"]["latency_seconds"]["p50"])
        }),
        ("update latency p95 (s)", |r| {
            fmt(&r["update"]["latency_seconds"]["p95"])
        }),
        ("update latency p99 (s)", |r| {
            fmt(&r["update"]["latency_seconds"]["p99"])
        }),
        ("update latency max (s)", |r| {
            fmt(&r["update"]["latency_seconds"]["max"])
        }),
        ("all updated after (s)", |r| {
            fmt(&r["update"]["seconds_to_all_healthy"])
        }),
        ("peak RSS VmHWM (MiB)", |r| {
            fmt(&r["memory_mib"]["peak_rss_vmhwm"])
        }),
        ("steady RSS VmRSS (MiB)", |r| {
            fmt(&r["memory_mib"]["rss_steady"])
        }),
        ("CPU s, update phase", |r| {
            fmt(&r["update"]["controller_cpu_seconds"])
        }),
        ("CPU s, steady phase", |r| {
            fmt(&r["steady"]["controller_cpu_seconds"])
        }),
        ("API writes / update", |r| {
            fmt(&r["update"]["writes_per_update"])
        }),
        ("  ratio to minimum (11)", |r| {
            fmt(&r["update"]["writes_ratio_to_min"])
        }),
        ("events / update (not in writes)", |r| {
            fmt(&r["update"]["events_published_per_update"])
        }),
        ("reconciles / update", |r| {
            fmt(&r["update"]["reconciles_per_rollout"])
        }),
        ("mean reconcile, update (ms)", |r| {
            fmt(&r["update"]["mean_reconcile_ms"])
        }),
        ("steady window (s)", |r| fmt(&r["steady"]["seconds"])),
        ("steady reconciles / rollout", |r| {
            fmt(&r["steady"]["reconciles_per_rollout"])
        }),
        ("steady writes (total)", |r| {
            fmt(&r["steady"]["writes_total"])
        }),
        ("load avg 1m, update (mean/max)", |r| {
            let l = &r["update"]["load_average_1m"];
            format!("{}/{}", fmt(&l["mean"]), fmt(&l["max"]))
        }),
        ("load avg 1m, steady (mean/max)", |r| {
            let l = &r["steady"]["load_average_1m"];
            format!("{}/{}", fmt(&l["mean"]), fmt(&l["max"]))
        }),
    ];
    out.push_str(&format!("| {:<32} |", "N"));
    for r in results {
        out.push_str(&format!(" {:>10} |", fmt(&r["n"])));
    }
    out.push('\n');
    out.push_str(&format!("|{}|", "-".repeat(34)));
    for _ in results {
        out.push_str(&format!("{}:|", "-".repeat(11)));
    }
    out.push('\n');
    for (label, f) in rows {
        out.push_str(&format!("| {label:<32} |"));
        for r in results {
            out.push_str(&format!(" {:>10} |", f(r)));
        }
        out.push('\n');
    }
    out
}

fn fmt(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("bench: ERROR: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let cfg = Config::from_env()?;
    let client = e2e::client().await?;
    let binary = workspace_binary("rollouts-controller");
    ensure!(
        binary.is_file(),
        "no controller binary at {} (build it with `cargo build --release --bin rollouts-controller` and set E2E_TARGET_DIR)",
        binary.display()
    );
    install_crds()?;
    let hz = clock_ticks();
    let machine = machine();
    eprintln!(
        "bench: sizes {:?}, steady window {}s, controller {}",
        cfg.sizes,
        cfg.steady.as_secs(),
        binary.display()
    );
    let mut results = Vec::new();
    let mut limit = None;
    let report = |results: &[Value], limit: &Option<String>| {
        json!({
            "benchmark": "scale",
            "machine": machine,
            "controller_binary": binary.display().to_string(),
            "controller_args": cfg.controller_args,
            "steady_seconds": cfg.steady.as_secs(),
            "results": results,
            "stopped_at": limit,
        })
    };
    if let Some(dir) = cfg.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let write = |report: &Value| {
        std::fs::write(&cfg.out, serde_json::to_string_pretty(report)? + "\n")
            .with_context(|| format!("cannot write {}", cfg.out.display()))
    };
    for &n in &cfg.sizes {
        match run_size(&client, &cfg, n, hz).await {
            Ok(r) => results.push(r),
            Err(e) => {
                // Report what was measured so far, and say where it stopped.
                eprintln!("bench: N={n} failed: {e:#}");
                limit = Some(format!("N={n}: {e:#}"));
            }
        }
        // Written after every size, so a long run that is stopped keeps what it measured.
        write(&report(&results, &limit))?;
        if limit.is_some() {
            break;
        }
    }
    let report = report(&results, &limit);
    println!(
        "Scale benchmark: {} CPUs, {} GiB, commit {}",
        report["machine"]["nproc"],
        report["machine"]["memory_gib"],
        fmt(&report["machine"]["git_commit"])
    );
    println!("{}", table(&results));
    println!("JSON: {}", cfg.out.display());
    if let Some(limit) = limit {
        bail!("stopped early: {limit}");
    }
    Ok(())
}
