//! The kubectl plugin (`kubectl-argo-rollouts`) driving the real controller, end to end: each test
//! runs its own controller scoped to its own namespace, acts with the real plugin binary and
//! checks both what the plugin prints (exactly, where Argo's wording is fixed) and what the
//! controller does with it. Canary without traffic routing; numbers follow Argo v1.9.1.

use std::{
    collections::BTreeSet,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use e2e::{
    ControllerProcess, TestNamespace, install_crds,
    rollout::{WAIT, canary},
};
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, ResourceExt, api::ListParams};
use rollouts::crd::{Rollout, RolloutStatus};
use serde_json::Value;

const STEPS_WITH_PAUSES: &str = "        - setWeight: 20
        - pause: {}
        - setWeight: 60
        - pause: {}
";

const ABORTED: &str = "RolloutAborted: Rollout aborted update to revision 2";

use e2e::plugin::{plugin, plugin_command, plugin_ok as ok};

async fn setup(test: &str) -> Result<(TestNamespace, ControllerProcess)> {
    install_crds()?;
    let ns = TestNamespace::new(test).await?;
    let controller = ControllerProcess::for_namespace(&ns)?;
    Ok((ns, controller))
}

fn status_of(ro: &Rollout) -> RolloutStatus {
    ro.status.clone().unwrap_or_default()
}

fn image_of(ro: &Rollout) -> Option<String> {
    ro.spec
        .template
        .as_ref()
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
}

/// A rollout `app` with `replicas` that went Healthy on image 1 and was updated to image 2; it
/// waits at the first pause step (20%), all pods of both ReplicaSets up. Returns the stable hash
/// (revision 1) and the canary hash (revision 2).
///
/// 20% by Argo's math: 5 replicas → 4 stable + 1 canary; 4 → 4 + 1 (the surge pod: 1 of 5 is
/// closer to 20% than 1 of 4); 2 → 2 + 1.
async fn paused_at_first_step(ns: &TestNamespace, replicas: i32) -> Result<(String, String)> {
    ns.apply(&canary("app", replicas, STEPS_WITH_PAUSES, ""))?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let stable = status_of(&ro).stable_rs.context("no stableRS")?;
    ns.set_image("app", "registry.example/app:2")?;
    let ro = ns.wait_for_step("app", 1, "Paused").await?;
    let canary_hash = status_of(&ro)
        .current_pod_hash
        .context("no currentPodHash")?;
    let stable_pods = match replicas {
        5 => 4,
        4 => 4,
        2 => 2,
        other => anyhow::bail!("no 20% split known for {other} replicas"),
    };
    ns.wait_for_revisions("app", &[(1, stable_pods, stable_pods), (2, 1, 1)])
        .await?;
    wait_for_pod_count(ns, stable_pods as usize + 1).await?;
    Ok((stable, canary_hash))
}

fn pods(ns: &TestNamespace) -> Api<Pod> {
    Api::namespaced(ns.client.clone(), &ns.name)
}

/// Waits until exactly `n` pods exist (terminating ones included), so a tree shows no leftovers.
async fn wait_for_pod_count(ns: &TestNamespace, n: usize) -> Result<Vec<Pod>> {
    ns.wait_for(&format!("{n} pods"), WAIT, || async {
        let list = pods(ns).list(&ListParams::default()).await?.items;
        Ok((list.len() == n).then_some(list))
    })
    .await
}

/// Names of the pods of ReplicaSet hash `hash`.
async fn pod_names(ns: &TestNamespace, hash: &str) -> Result<BTreeSet<String>> {
    let lp = ListParams::default().labels(&format!("rollouts-pod-template-hash={hash}"));
    Ok(pods(ns)
        .list(&lp)
        .await?
        .items
        .iter()
        .map(|p| p.name_any())
        .collect())
}

/// A table or tree line as its columns, without AGE values (`5s`, `2m3s`, `107s`, …).
fn columns(line: &str) -> Vec<String> {
    let is_age = |t: &str| {
        t.chars().next().is_some_and(|c| c.is_ascii_digit())
            && t.chars().last().is_some_and(|c| "smhd".contains(c))
            && t.chars().all(|c| c.is_ascii_digit() || "smhdy".contains(c))
    };
    line.split_whitespace()
        .filter(|t| !is_age(t))
        .map(str::to_string)
        .collect()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

#[tokio::test]
async fn promote_moves_a_paused_canary_to_the_next_step() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-promote").await?;
    paused_at_first_step(&ns, 5).await?;

    assert_eq!(ok(&ns, &["promote", "app"])?, "rollout 'app' promoted\n");
    let ro = ns.wait_for_step("app", 3, "Paused").await?;
    assert_eq!(status_of(&ro).message.as_deref(), Some("CanaryPauseStep"));
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 3, 3)])
        .await?;

    // The last pause: promote finishes the update.
    assert_eq!(ok(&ns, &["promote", "app"])?, "rollout 'app' promoted\n");
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let s = status_of(&ro);
    assert_eq!(s.stable_rs, s.current_pod_hash);
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 5, 5)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn promote_full_skips_the_remaining_steps() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-promote-full").await?;
    let (_, canary_hash) = paused_at_first_step(&ns, 4).await?;

    assert_eq!(
        ok(&ns, &["promote", "app", "--full"])?,
        "rollout 'app' fully promoted\n"
    );
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let s = status_of(&ro);
    assert_eq!(s.stable_rs.as_deref(), Some(canary_hash.as_str()));
    assert_eq!(s.current_pod_hash.as_deref(), Some(canary_hash.as_str()));
    assert_eq!(s.current_step_index, Some(4));
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 4, 4)])
        .await?;
    assert!(
        !ns.event_reasons("app")?
            .iter()
            .any(|r| r == "RolloutAborted"),
        "{:?}",
        ns.event_reasons("app")?
    );
    Ok(())
}

#[tokio::test]
async fn abort_degrades_and_retry_resumes() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-abort").await?;
    paused_at_first_step(&ns, 4).await?;

    assert_eq!(ok(&ns, &["abort", "app"])?, "rollout 'app' aborted\n");
    let ro = ns.wait_for_phase("app", "Degraded").await?;
    assert_eq!(status_of(&ro).message.as_deref(), Some(ABORTED));
    ns.wait_for_revisions("app", &[(1, 4, 4), (2, 0, 0)])
        .await?;

    let explain = ok(&ns, &["explain", "app"])?;
    assert!(
        explain.starts_with(&format!(
            "Rollout \"app\" in namespace \"{}\" is Degraded: {ABORTED}\n\nWhy:\n  - The update was aborted and the stable version restored",
            ns.name
        )),
        "{explain}"
    );
    assert!(
        explain.contains(&format!(
            "\nNext:\n  kubectl argo rollouts retry rollout app -n {}\n      try the same update again\n",
            ns.name
        )),
        "{explain}"
    );

    assert_eq!(
        ok(&ns, &["retry", "rollout", "app"])?,
        "rollout 'app' retried\n"
    );
    let ro = ns.wait_for_step("app", 1, "Paused").await?;
    assert_eq!(status_of(&ro).message.as_deref(), Some("CanaryPauseStep"));
    assert_eq!(status_of(&ro).abort, Some(false));
    ns.wait_for_revisions("app", &[(1, 4, 4), (2, 1, 1)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn undo_of_a_paused_update_rolls_back_to_the_stable_revision() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-undo").await?;
    let (stable, _) = paused_at_first_step(&ns, 4).await?;

    assert_eq!(ok(&ns, &["undo", "app"])?, "rollout 'app' undo\n");
    let ro = ns
        .wait_for(
            "rollout back on revision 1's template, Healthy",
            WAIT,
            || async {
                let ro = ns.wait_for_phase("app", "Healthy").await?;
                let s = status_of(&ro);
                Ok((s.current_pod_hash.as_deref() == Some(stable.as_str())).then_some(ro))
            },
        )
        .await?;
    assert_eq!(image_of(&ro).as_deref(), Some("registry.example/app:1"));
    let s = status_of(&ro);
    assert_eq!(s.stable_rs.as_deref(), Some(stable.as_str()));
    assert_eq!(s.current_step_index, Some(4));
    // The old ReplicaSet is reused as revision 3, the canary scaled away.
    ns.wait_for_revisions("app", &[(2, 0, 0), (3, 4, 4)])
        .await?;
    assert_eq!(pod_names(&ns, &stable).await?.len(), 4);

    assert_eq!(
        ok(&ns, &["undo", "app", "--to-revision", "3"])?,
        "skipped rollback (current template already matches revision 3)\n"
    );
    Ok(())
}

#[tokio::test]
async fn undo_after_a_completed_update_rolls_back_to_the_previous_revision() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-undo-done").await?;
    ns.apply(&canary("app", 2, "        - setWeight: 50\n", ""))?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let v1 = status_of(&ro).stable_rs.context("no stableRS")?;
    ok(&ns, &["set", "image", "app", "app=registry.example/app:2"])?;
    let v2 = ns
        .wait_for("Healthy on revision 2", WAIT, || async {
            let ro = ns.wait_for_phase("app", "Healthy").await?;
            let s = status_of(&ro);
            Ok(s.stable_rs.filter(|h| *h != v1))
        })
        .await?;
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 2, 2)])
        .await?;

    assert_eq!(ok(&ns, &["undo", "app"])?, "rollout 'app' undo\n");
    let ro = ns
        .wait_for("Healthy on revision 1's hash again", WAIT, || async {
            let ro = ns.wait_for_phase("app", "Healthy").await?;
            let s = status_of(&ro);
            Ok((s.stable_rs.as_deref() == Some(v1.as_str())).then_some(ro))
        })
        .await?;
    assert_eq!(image_of(&ro).as_deref(), Some("registry.example/app:1"));
    assert_eq!(
        status_of(&ro).current_pod_hash.as_deref(),
        Some(v1.as_str())
    );
    ns.wait_for_revisions("app", &[(2, 0, 0), (3, 2, 2)])
        .await?;
    wait_for_pod_count(&ns, 2).await?;
    assert!(pod_names(&ns, &v2).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn set_image_starts_an_update() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-set-image").await?;
    ns.apply(&canary("app", 5, STEPS_WITH_PAUSES, ""))?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let v1 = status_of(&ro).stable_rs.context("no stableRS")?;

    assert_eq!(
        ok(&ns, &["set", "image", "app", "app=registry.example/app:2"])?,
        "rollout \"app\" image updated\n"
    );
    let ro = ns.wait_for_step("app", 1, "Paused").await?;
    assert_eq!(image_of(&ro).as_deref(), Some("registry.example/app:2"));
    let s = status_of(&ro);
    assert_eq!(s.stable_rs.as_deref(), Some(v1.as_str()));
    assert_ne!(s.current_pod_hash.as_deref(), Some(v1.as_str()));
    ns.wait_for_revisions("app", &[(1, 4, 4), (2, 1, 1)])
        .await?;

    // `*` sets every container: a third revision replaces the second as the canary.
    assert_eq!(
        ok(&ns, &["set", "image", "app", "*=registry.example/app:3"])?,
        "rollout \"app\" image updated\n"
    );
    ns.wait_for_revisions("app", &[(1, 4, 4), (2, 0, 0), (3, 1, 1)])
        .await?;
    let ro = ns.wait_for_step("app", 1, "Paused").await?;
    assert_eq!(image_of(&ro).as_deref(), Some("registry.example/app:3"));
    Ok(())
}

/// Lines of a `status` watch: `Phase` or `Phase - message`, each differing from the one before.
fn assert_watch_lines(stdout: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    for line in &lines {
        let phase = line.split(" - ").next().unwrap();
        assert!(
            ["Healthy", "Progressing", "Paused", "Degraded"].contains(&phase),
            "unexpected line {line:?} in\n{stdout}"
        );
    }
    for pair in lines.windows(2) {
        assert_ne!(pair[0], pair[1], "repeated line in\n{stdout}");
    }
}

#[tokio::test]
async fn status_watch_exits_zero_when_healthy() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-status").await?;
    ns.apply(&canary(
        "app",
        2,
        "        - setWeight: 50\n        - pause: {duration: 3s}\n",
        "",
    ))?;
    ns.wait_for_phase("app", "Healthy").await?;
    assert_eq!(ok(&ns, &["status", "app", "--watch=false"])?, "Healthy\n");

    ns.set_image("app", "registry.example/app:2")?;
    let start = Instant::now();
    let out = plugin(&ns, &["status", "app", "--timeout", "90s"])?;
    assert_eq!(
        out.code,
        0,
        "stdout: {}\nstderr: {}\n{}",
        out.stdout,
        out.stderr,
        ns.dump()
    );
    assert_eq!(out.stderr, "");
    assert_watch_lines(&out.stdout);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.last(), Some(&"Healthy"), "{}", out.stdout);
    assert!(
        lines.contains(&"Paused - CanaryPauseStep"),
        "the timed pause is seen:\n{}",
        out.stdout
    );
    assert!(
        lines[0].starts_with("Progressing - ") || lines[0].starts_with("Paused - "),
        "the watch starts before the update is done:\n{}",
        out.stdout
    );
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let ro = ns.rollout("app").await?;
    let s = status_of(&ro);
    assert_eq!(s.stable_rs, s.current_pod_hash);
    Ok(())
}

#[tokio::test]
async fn status_exits_non_zero_when_degraded() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-status-degraded").await?;
    paused_at_first_step(&ns, 4).await?;
    let degraded_error =
        format!("Error: The rollout is in a degraded state with message: {ABORTED}\n");

    // A watch started while paused follows the abort until Degraded.
    let child = plugin_command(&ns, &["status", "app", "--timeout", "90s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(ok(&ns, &["abort", "app"])?, "rollout 'app' aborted\n");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), degraded_error);
    assert_watch_lines(&stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"Paused - CanaryPauseStep"), "{stdout}");
    assert_eq!(
        lines.last().copied(),
        Some(format!("Degraded - {ABORTED}").as_str()),
        "{stdout}"
    );

    // Once Degraded: the watch ends at once, and --watch=false prints the bare phase.
    ns.wait_for_phase("app", "Degraded").await?;
    let out = plugin(&ns, &["status", "app"])?;
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            format!("Degraded - {ABORTED}\n").as_str(),
            degraded_error.as_str()
        )
    );
    let out = plugin(&ns, &["status", "app", "--watch=false"])?;
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (1, "Degraded\n", degraded_error.as_str())
    );
    Ok(())
}

#[tokio::test]
async fn status_timeout_exits_non_zero() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-status-timeout").await?;
    paused_at_first_step(&ns, 2).await?;
    let start = Instant::now();
    let out = plugin(&ns, &["status", "app", "--timeout", "2s"])?;
    let took = start.elapsed();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            "Paused - CanaryPauseStep\n",
            "Error: Rollout status watch exceeded timeout\n"
        )
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(15),
        "{took:?}"
    );
    // Without a watch a paused rollout is not an error.
    let out = plugin(&ns, &["status", "app", "--watch=false"])?;
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "Paused - CanaryPauseStep\n", "")
    );
    Ok(())
}

#[tokio::test]
async fn get_rollout_shows_both_revisions() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-get").await?;
    let (stable, canary_hash) = paused_at_first_step(&ns, 5).await?;
    let out = ok(&ns, &["get", "rollout", "app", "--no-color"])?;

    let header = format!(
        "Name:            app
Namespace:       {}
Status:          ॥ Paused
Message:         CanaryPauseStep
Strategy:        Canary
  Step:          1/4
  SetWeight:     20
  ActualWeight:  20
Images:          registry.example/app:1 (stable)
                 registry.example/app:2 (canary)
Replicas:
  Desired:       5
  Current:       5
  Updated:       1
  Ready:         5
  Available:     5

",
        ns.name
    );
    assert!(out.starts_with(&header), "{out}");
    assert!(out.ends_with('\n'), "{out:?}");

    let tree: Vec<Vec<String>> = out[header.len()..].lines().map(columns).collect();
    let row = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(tree.len(), 11, "{out}");
    assert_eq!(
        tree[0],
        row(&["NAME", "KIND", "STATUS", "AGE", "INFO"]),
        "{out}"
    );
    assert_eq!(
        tree[1],
        row(&["⟳", "app", "Rollout", "॥", "Paused"]),
        "{out}"
    );
    assert_eq!(tree[2], row(&["├──#", "revision:2"]), "{out}");
    let canary_rs = format!("app-{canary_hash}");
    assert_eq!(
        tree[3],
        row(&[
            "│",
            "└──⧉",
            &canary_rs,
            "ReplicaSet",
            "✔",
            "Healthy",
            "canary"
        ]),
        "{out}"
    );
    assert_eq!(tree[5], row(&["└──#", "revision:1"]), "{out}");
    let stable_rs = format!("app-{stable}");
    assert_eq!(
        tree[6],
        row(&["└──⧉", &stable_rs, "ReplicaSet", "✔", "Healthy", "stable"]),
        "{out}"
    );

    // Pods under their ReplicaSet, each `□ name Pod ✔ Running ready:1/1`.
    let pod_row = |cols: &Vec<String>, branch: &[&str]| -> String {
        let n = branch.len();
        assert_eq!(cols[..n], row(branch)[..], "{out}");
        assert_eq!(
            cols[n + 1..],
            row(&["Pod", "✔", "Running", "ready:1/1"])[..],
            "{out}"
        );
        cols[n].clone()
    };
    let canary_pods: BTreeSet<String> = [pod_row(&tree[4], &["│", "└──□"])].into();
    assert_eq!(canary_pods, pod_names(&ns, &canary_hash).await?);
    let mut stable_pods = BTreeSet::new();
    for cols in &tree[7..10] {
        stable_pods.insert(pod_row(cols, &["├──□"]));
    }
    stable_pods.insert(pod_row(&tree[10], &["└──□"]));
    assert_eq!(stable_pods, pod_names(&ns, &stable).await?);

    // The same with the short alias and without --no-color (NO_COLOR is set).
    let alias = ok(&ns, &["get", "ro", "app"])?;
    assert!(alias.starts_with(&header), "{alias}");
    Ok(())
}

#[tokio::test]
async fn get_rollout_json_has_the_documented_fields() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-get-json").await?;
    let (stable, canary_hash) = paused_at_first_step(&ns, 5).await?;
    let ro = ns.rollout("app").await?;
    let json: Value = serde_json::from_str(&ok(&ns, &["get", "rollout", "app", "-o", "json"])?)
        .context("get rollout -o json is not JSON")?;

    assert_eq!(
        keys(&json),
        sorted(&[
            "schemaVersion",
            "kind",
            "name",
            "namespace",
            "uid",
            "createdAt",
            "generation",
            "observedGeneration",
            "status",
            "message",
            "strategy",
            "step",
            "setWeight",
            "actualWeight",
            "paused",
            "aborted",
            "replicas",
            "images",
            "containers",
            "initContainers",
            "restartedAt",
            "revisions",
        ])
    );
    assert_eq!(json["schemaVersion"], "v1");
    assert_eq!(json["kind"], "RolloutInfo");
    assert_eq!(json["name"], "app");
    assert_eq!(json["namespace"], ns.name.as_str());
    assert_eq!(json["uid"], ro.metadata.uid.clone().unwrap().as_str());
    let created = json["createdAt"].as_str().context("createdAt")?;
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'),
        "{created}"
    );
    assert_eq!(json["generation"], ro.metadata.generation.unwrap());
    assert_eq!(
        json["observedGeneration"],
        ro.metadata.generation.unwrap().to_string().as_str()
    );
    assert_eq!(json["status"], "Paused");
    assert_eq!(json["message"], "CanaryPauseStep");
    assert_eq!(json["strategy"], "Canary");
    assert_eq!(json["step"], serde_json::json!({"index": 1, "total": 4}));
    assert_eq!(json["setWeight"], 20);
    assert_eq!(json["actualWeight"], 20);
    assert_eq!(json["paused"], false);
    assert_eq!(json["aborted"], false);
    assert_eq!(
        json["replicas"],
        serde_json::json!({"desired": 5, "current": 5, "updated": 1, "ready": 5, "available": 5})
    );
    assert_eq!(
        json["images"],
        serde_json::json!([
            {"image": "registry.example/app:1", "tags": ["stable"]},
            {"image": "registry.example/app:2", "tags": ["canary"]},
        ])
    );
    assert_eq!(
        json["containers"],
        serde_json::json!([{"name": "app", "image": "registry.example/app:2"}])
    );
    assert_eq!(json["initContainers"], serde_json::json!([]));
    assert_eq!(json["restartedAt"], Value::Null);

    let revisions = json["revisions"].as_array().context("revisions")?;
    assert_eq!(revisions.len(), 2, "{json:#}");
    for (rev, want_rev, hash, pods, canary, stable_flag, image) in [
        (
            &revisions[0],
            2,
            &canary_hash,
            1,
            true,
            false,
            "registry.example/app:2",
        ),
        (
            &revisions[1],
            1,
            &stable,
            4,
            false,
            true,
            "registry.example/app:1",
        ),
    ] {
        assert_eq!(
            keys(rev),
            sorted(&["revision", "replicaSets", "experiments", "analysisRuns"])
        );
        assert_eq!(rev["revision"], want_rev);
        assert_eq!(rev["experiments"], serde_json::json!([]));
        assert_eq!(rev["analysisRuns"], serde_json::json!([]));
        let sets = rev["replicaSets"].as_array().context("replicaSets")?;
        assert_eq!(sets.len(), 1);
        let rs = &sets[0];
        assert_eq!(
            keys(rs),
            sorted(&[
                "name",
                "namespace",
                "uid",
                "createdAt",
                "revision",
                "status",
                "podTemplateHash",
                "desired",
                "replicas",
                "ready",
                "available",
                "stable",
                "canary",
                "active",
                "preview",
                "ping",
                "pong",
                "template",
                "scaleDownDeadline",
                "images",
                "initContainerImages",
                "pods",
            ])
        );
        assert_eq!(rs["name"], format!("app-{hash}").as_str());
        assert_eq!(rs["namespace"], ns.name.as_str());
        assert_eq!(rs["revision"], want_rev);
        assert_eq!(rs["status"], "Healthy");
        assert_eq!(rs["podTemplateHash"], hash.as_str());
        for key in ["desired", "replicas", "ready", "available"] {
            assert_eq!(rs[key], pods, "{key} of {rs:#}");
        }
        assert_eq!(rs["canary"], canary);
        assert_eq!(rs["stable"], stable_flag);
        for key in ["active", "preview", "ping", "pong"] {
            assert_eq!(rs[key], false, "{key}");
        }
        assert_eq!(rs["template"], Value::Null);
        assert_eq!(rs["scaleDownDeadline"], Value::Null);
        assert_eq!(rs["images"], serde_json::json!([image]));
        assert_eq!(rs["initContainerImages"], serde_json::json!([]));
        let pod_list = rs["pods"].as_array().context("pods")?;
        let names: BTreeSet<String> = pod_list
            .iter()
            .map(|p| p["name"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(names, pod_names(&ns, hash).await?);
        for pod in pod_list {
            assert_eq!(
                keys(pod),
                sorted(&[
                    "name",
                    "namespace",
                    "uid",
                    "createdAt",
                    "status",
                    "readyContainers",
                    "totalContainers",
                    "restarts",
                ])
            );
            assert_eq!(pod["status"], "Running");
            assert_eq!(pod["readyContainers"], 1);
            assert_eq!(pod["totalContainers"], 1);
            assert_eq!(pod["restarts"], 0);
        }
        let created: Vec<&str> = pod_list
            .iter()
            .map(|p| p["createdAt"].as_str().unwrap_or_default())
            .collect();
        assert!(created.is_sorted(), "pods oldest first: {created:?}");
    }

    // YAML is the same document.
    let yaml = ok(&ns, &["get", "rollout", "app", "-o", "yaml"])?;
    let from_yaml: Value = serde_norway::from_str(&yaml)?;
    assert_eq!(
        from_yaml["revisions"][0]["replicaSets"][0]["name"],
        format!("app-{canary_hash}").as_str()
    );
    assert_eq!(from_yaml["step"], json["step"]);
    Ok(())
}

#[tokio::test]
async fn list_rollouts_shows_the_row() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-list").await?;
    paused_at_first_step(&ns, 5).await?;
    assert_eq!(
        ok(&ns, &["list", "rollouts"])?,
        "NAME        STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE\n\
         app         Canary     Paused        1/4   20          5/5    5        1           5        \n"
    );
    let json: Value = serde_json::from_str(&ok(&ns, &["list", "rollouts", "-o", "json"])?)?;
    assert_eq!(json["kind"], "RolloutList");
    assert_eq!(
        json["items"],
        serde_json::json!([{
            "namespace": ns.name, "name": "app", "strategy": "Canary", "status": "Paused",
            "message": "CanaryPauseStep", "step": {"index": 1, "total": 4}, "setWeight": 20,
            "ready": 5, "current": 5, "desired": 5, "upToDate": 1, "available": 5,
        }])
    );

    ok(&ns, &["promote", "app", "--full"])?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 5, 5)])
        .await?;
    ns.wait_for("the list row Healthy", WAIT, || async {
        let out = ok(&ns, &["list", "rollouts", "--name", "app"])?;
        Ok(out.lines().nth(1).map(columns).filter(|c| {
            *c == [
                "app", "Canary", "Healthy", "4/4", "100", "5/5", "5", "5", "5",
            ]
        }))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn pause_is_shown_as_manually_paused() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-pause").await?;
    ns.apply(&canary("app", 3, STEPS_WITH_PAUSES, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;

    assert_eq!(ok(&ns, &["pause", "app"])?, "rollout 'app' paused\n");
    let ro = ns.wait_for_phase("app", "Paused").await?;
    assert_eq!(ro.spec.paused, Some(true));
    assert_eq!(status_of(&ro).message.as_deref(), Some("manually paused"));
    assert_eq!(
        ok(&ns, &["status", "app", "--watch=false"])?,
        "Paused - manually paused\n"
    );
    let explain = ok(&ns, &["explain", "app"])?;
    assert!(
        explain.starts_with(&format!(
            "Rollout \"app\" in namespace \"{}\" is Paused: manually paused\n\nWhy:\n  - The rollout was paused by hand (spec.paused is true).\n",
            ns.name
        )),
        "{explain}"
    );
    assert!(
        explain.contains(&format!(
            "  kubectl argo rollouts promote app -n {}\n      resume the rollout\n",
            ns.name
        )),
        "{explain}"
    );

    assert_eq!(ok(&ns, &["promote", "app"])?, "rollout 'app' promoted\n");
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    assert_eq!(ro.spec.paused, Some(false));
    ns.wait_for_revisions("app", &[(1, 3, 3)]).await?;
    Ok(())
}

#[tokio::test]
async fn restart_replaces_every_pod() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-restart").await?;
    ns.apply(&canary("app", 3, STEPS_WITH_PAUSES, ""))?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let hash = status_of(&ro).stable_rs.context("no stableRS")?;
    let old = wait_for_pod_count(&ns, 3).await?;
    let old: BTreeSet<String> = old.iter().map(|p| p.name_any()).collect();
    // restartAt has a resolution of seconds: pods from the same second are not "before" it.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    assert_eq!(
        ok(&ns, &["restart", "app"])?,
        "rollout 'app' restarts in 0s\n"
    );
    let ro = ns
        .wait_for("status.restartedAt == spec.restartAt", WAIT, || async {
            let ro = ns.rollout("app").await?;
            let at = serde_json::to_value(&ro.spec.restart_at)?;
            let done = serde_json::to_value(&status_of(&ro).restarted_at)?;
            Ok((!at.is_null() && at == done).then_some(ro))
        })
        .await?;
    assert!(ro.spec.restart_at.is_some());
    ns.wait_for_phase("app", "Healthy").await?;
    let new = ns
        .wait_for("3 new pods, none of the old ones", WAIT, || async {
            let now = pod_names(&ns, &hash).await?;
            let all = pods(&ns).list(&ListParams::default()).await?.items.len();
            Ok((all == 3 && now.len() == 3 && now.is_disjoint(&old)).then_some(now))
        })
        .await?;
    assert_eq!(new.len(), 3);
    // Same revision: a restart is no update.
    ns.wait_for_revisions("app", &[(1, 3, 3)]).await?;
    let json: Value = serde_json::from_str(&ok(&ns, &["get", "rollout", "app", "-o", "json"])?)?;
    assert_eq!(
        json["restartedAt"],
        serde_json::to_value(&ro.spec.restart_at)?
    );
    Ok(())
}

#[tokio::test]
async fn explain_names_the_pause_and_the_promote_command() -> Result<()> {
    let (ns, _c) = setup("plugin-ctl-explain").await?;
    paused_at_first_step(&ns, 5).await?;
    let text = ok(&ns, &["explain", "app"])?;
    let n = &ns.name;
    assert!(
        text.starts_with(&format!(
            "Rollout \"app\" in namespace \"{n}\" is Paused: CanaryPauseStep\n\nWhy:\n  - Paused at canary step 1/4, a pause without duration: it waits for a manual promotion (paused for "
        )),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "\nNext:\n  kubectl argo rollouts promote app -n {n}\n      continue to the next step\n  kubectl argo rollouts promote app --full -n {n}\n      skip all remaining steps, pauses and analysis\n  kubectl argo rollouts abort app -n {n}\n      go back to the stable version\n"
        )),
        "{text}"
    );

    let json: Value = serde_json::from_str(&ok(&ns, &["explain", "app", "-o", "json"])?)?;
    assert_eq!(json["kind"], "Explanation");
    assert_eq!(json["status"], "Paused");
    assert_eq!(json["message"], "CanaryPauseStep");
    assert_eq!(json["blocked"], true);
    assert_eq!(json["reasons"][0]["code"], "PausedAtStep");
    assert_eq!(
        json["nextSteps"][0]["command"],
        format!("kubectl argo rollouts promote app -n {n}").as_str()
    );

    // The promote it names does move the rollout on.
    let cmd = json["nextSteps"][0]["command"]
        .as_str()
        .unwrap()
        .to_string();
    let args: Vec<&str> = cmd.split_whitespace().collect();
    assert_eq!(&args[..3], ["kubectl", "argo", "rollouts"]);
    let out = plugin(&ns, &args[3..args.len() - 2])?;
    assert_eq!(out.stdout, "rollout 'app' promoted\n", "{}", out.stderr);
    ns.wait_for_step("app", 3, "Paused").await?;
    Ok(())
}
