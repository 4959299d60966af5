//! The plugin's performance requirement: "`get rollout` on a rollout with 10 revisions and 50
//! pods answers in under 100 ms against the local control plane".
//!
//! Against the cluster of `e2e/cluster/up.sh` (`KUBECONFIG`, or `E2E_RUN_DIR`): creates a
//! namespace with a 50-replica canary rollout, drives it through 10 revisions with the plugin's
//! `set image` (the real controller running `--namespaced`, waiting Healthy each time), then runs
//! the release plugin `get rollout NAME` and `get rollout NAME -o json` `BENCH_RUNS` times (30)
//! each and prints min/median/p95/max wall-clock times in ms, per process (start, kubeconfig,
//! requests, render, exit).
//!
//! ```text
//! cargo build --release -p kubectl-argo-rollouts
//! cargo build --bins --workspace --exclude e2e          # the controller (E2E_TARGET_DIR)
//! . .cache/cluster/env
//! cargo run --release -p e2e --bin bench_get_rollout
//! ```
//!
//! The plugin is `BENCH_PLUGIN`, else `${CARGO_TARGET_DIR:-<repo>/target}/release/kubectl-argo-rollouts`;
//! the controller is `E2E_TARGET_DIR/rollouts-controller` (default `<repo>/target/debug`).

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use e2e::{ControllerProcess, TestNamespace, install_crds, repo_root, rollout::canary, run_dir};
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, api::ListParams};
use serde_json::Value;

const NAME: &str = "bench";
const REPLICAS: i32 = 50;
const REVISIONS: i64 = 10;

fn kubeconfig() -> PathBuf {
    std::env::var_os("KUBECONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| run_dir().join("kubeconfig"))
}

fn plugin_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("BENCH_PLUGIN") {
        return p.into();
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("release/kubectl-argo-rollouts")
}

fn plugin(ns: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(plugin_binary());
    cmd.env("KUBECONFIG", kubeconfig())
        .args(args)
        .args(["-n", ns])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a command to completion; its wall-clock time and stdout. Fails on a non-zero exit.
fn timed(mut cmd: Command) -> Result<(Duration, String)> {
    let start = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    let took = start.elapsed();
    ensure!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((took, String::from_utf8(out.stdout)?))
}

struct Stats {
    min: f64,
    median: f64,
    p95: f64,
    max: f64,
}

fn stats(samples: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let median = if n.is_multiple_of(2) {
        (ms[n / 2 - 1] + ms[n / 2]) / 2.0
    } else {
        ms[n / 2]
    };
    // Nearest rank.
    let p95 = ms[((0.95 * n as f64).ceil() as usize).clamp(1, n) - 1];
    Stats {
        min: ms[0],
        median,
        p95,
        max: ms[n - 1],
    }
}

/// Runs `make()` `runs` times after 3 warm-up runs, checking each output with `check`.
fn bench(
    label: &str,
    runs: usize,
    make: impl Fn() -> Command,
    check: impl Fn(&str) -> Result<()>,
) -> Result<Stats> {
    for _ in 0..3 {
        let (_, out) = timed(make())?;
        check(&out).with_context(|| format!("{label}: unexpected output:\n{out}"))?;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (took, out) = timed(make())?;
        check(&out).with_context(|| format!("{label}: unexpected output:\n{out}"))?;
        samples.push(took);
    }
    let s = stats(&samples);
    println!(
        "{label:<50} n={runs:<3} min {:>6.1} ms   median {:>6.1} ms   p95 {:>6.1} ms   max {:>6.1} ms",
        s.min, s.median, s.p95, s.max
    );
    Ok(s)
}

async fn wait_healthy_on_revision(ns: &TestNamespace, revision: i64) -> Result<()> {
    ns.wait_for(
        &format!("{NAME} Healthy on revision {revision}, {REPLICAS} pods"),
        Duration::from_secs(180),
        || async {
            let ro = ns.rollout(NAME).await?;
            let s = ro.status.clone().unwrap_or_default();
            let observed =
                s.observed_generation.clone() == ro.metadata.generation.map(|g| g.to_string());
            let healthy = s.phase.as_ref().map(|p| p.to_string()).as_deref() == Some("Healthy");
            if !(observed && healthy && s.stable_rs == s.current_pod_hash) {
                return Ok(None);
            }
            let revs = ns.revisions(NAME).await?;
            let newest = revs.last().copied();
            let old_empty = revs[..revs.len() - 1].iter().all(|r| r.1 == 0 && r.2 == 0);
            let pods = Api::<Pod>::namespaced(ns.client.clone(), &ns.name)
                .list(&ListParams::default())
                .await?
                .items
                .len();
            Ok((newest == Some((revision, REPLICAS, REPLICAS))
                && old_empty
                && pods == REPLICAS as usize)
                .then_some(()))
        },
    )
    .await
}

#[tokio::main]
async fn main() -> Result<()> {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(30);
    let plugin_bin = plugin_binary();
    if !plugin_bin.exists() {
        bail!(
            "no plugin at {} (cargo build --release -p kubectl-argo-rollouts, or set BENCH_PLUGIN)",
            plugin_bin.display()
        );
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("plugin: {}", plugin_bin.display());
    println!("cores:  {cores}");

    install_crds()?;
    let ns = TestNamespace::new("bench-get-rollout").await?;
    let _controller = ControllerProcess::for_namespace(&ns)?;
    let setup = Instant::now();
    let manifest = canary(
        NAME,
        REPLICAS,
        "        - setWeight: 50\n",
        "      maxSurge: 50%\n      maxUnavailable: 0\n",
    )
    .replace("revisionHistoryLimit: 3", "revisionHistoryLimit: 10");
    ns.apply(&manifest)?;
    wait_healthy_on_revision(&ns, 1).await?;
    for revision in 2..=REVISIONS {
        let image = format!("app=registry.example/{NAME}:{revision}");
        timed(plugin(&ns.name, &["set", "image", NAME, &image]))?;
        wait_healthy_on_revision(&ns, revision).await?;
    }
    let revs = ns.revisions(NAME).await?;
    ensure!(
        revs.len() == REVISIONS as usize,
        "expected {REVISIONS} ReplicaSets: {revs:?}"
    );
    println!(
        "setup:  {} revisions, {REPLICAS} pods in namespace {} ({:.0} s)",
        revs.len(),
        ns.name,
        setup.elapsed().as_secs_f64()
    );

    let ns_name = ns.name.clone();
    let tree = bench(
        &format!("get rollout {NAME}"),
        runs,
        || plugin(&ns_name, &["get", "rollout", NAME]),
        |out| {
            ensure!(out.contains(&format!("# revision:{REVISIONS}")));
            ensure!(out.contains("# revision:1\n") || out.contains("# revision:1 "));
            ensure!(out.matches(" Pod ").count() == REPLICAS as usize);
            Ok(())
        },
    )?;
    let json = bench(
        &format!("get rollout {NAME} -o json"),
        runs,
        || plugin(&ns_name, &["get", "rollout", NAME, "-o", "json"]),
        |out| {
            let v: Value = serde_json::from_str(out)?;
            ensure!(v["revisions"].as_array().map(Vec::len) == Some(REVISIONS as usize));
            ensure!(v["replicas"]["available"] == REPLICAS);
            Ok(())
        },
    )?;
    // For scale: one GET of the rollout alone by kubectl (a Go binary, same API server).
    let kubectl_path = e2e::kubectl_path();
    bench(
        &format!("(kubectl get rollouts.argoproj.io {NAME} -o json)"),
        runs,
        || {
            let mut cmd = Command::new(&kubectl_path);
            cmd.env("KUBECONFIG", kubeconfig())
                .args([
                    "get",
                    "rollouts.argoproj.io",
                    NAME,
                    "-o",
                    "json",
                    "-n",
                    &ns_name,
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd
        },
        |_| Ok(()),
    )?;

    let verdict = |s: &Stats| if s.median < 100.0 { "meets" } else { "MISSES" };
    println!(
        "requirement (< 100 ms): get rollout median {:.1} ms {} it; -o json median {:.1} ms {} it",
        tree.median,
        verdict(&tree),
        json.median,
        verdict(&json)
    );
    Ok(())
}
