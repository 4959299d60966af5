//! End-to-end tests of the kubectl plugin (`kubectl-argo-rollouts`) against the local control
//! plane, for what needs no controller: lint, create, get/list/status of objects created here,
//! the patches of pause/abort/retry/promote/restart/set image/terminate landing on the objects,
//! and the one-line errors of bad input.

use std::{path::PathBuf, process::Command};

use anyhow::Result;
use e2e::{Output, TestNamespace, install_crds, run, run_dir, workspace_binary};
use kube::Api;
use rollouts::crd::{AnalysisRun, Rollout};
use serde_json::Value;

fn kubeconfig() -> PathBuf {
    std::env::var_os("KUBECONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| run_dir().join("kubeconfig"))
}

/// Runs the plugin with the test cluster's kubeconfig.
fn plugin(args: &[&str], stdin: Option<&str>) -> Result<Output> {
    run(
        Command::new(workspace_binary("kubectl-argo-rollouts"))
            .env("KUBECONFIG", kubeconfig())
            .env("NO_COLOR", "1")
            .args(args),
        stdin,
    )
}

/// Runs the plugin in `ns` and requires success.
fn ok(ns: &TestNamespace, args: &[&str]) -> Result<String> {
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["-n", ns.name.as_str()]);
    let out = plugin(&full, None)?;
    anyhow::ensure!(
        out.code == 0,
        "kubectl-argo-rollouts {} failed ({}): {}{}",
        full.join(" "),
        out.code,
        out.stdout,
        out.stderr
    );
    Ok(out.stdout)
}

/// A single `Error: …` line on stderr and exit code 1.
fn assert_one_line_error(out: &Output, contains: &str) {
    assert_eq!(
        out.code, 1,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {}", out.stderr);
    assert!(lines[0].starts_with("Error: "), "stderr: {}", out.stderr);
    assert!(lines[0].contains(contains), "stderr: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

fn write_temp(name: &str, text: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("plugin-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

const ROLLOUT: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: guestbook
spec:
  replicas: 2
  selector:
    matchLabels: {app: guestbook}
  template:
    metadata:
      labels: {app: guestbook}
    spec:
      containers:
        - name: app
          image: registry.example/guestbook:1
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {}
        - setWeight: 60
"#;

#[test]
fn lint_accepts_valid_and_rejects_invalid_manifests() -> Result<()> {
    let valid = write_temp("valid.yaml", ROLLOUT)?;
    let out = plugin(&["lint", "-f", valid.to_str().unwrap()], None)?;
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );

    let invalid = write_temp(
        "invalid.yaml",
        &ROLLOUT.replace("- setWeight: 20", "- setWeight: 200"),
    )?;
    let out = plugin(&["lint", "-f", invalid.to_str().unwrap()], None)?;
    assert_one_line_error(
        &out,
        "spec.strategy.steps[0].setWeight: Invalid value: 200: SetWeight needs to be between 0 and 100",
    );
    assert!(out.stdout.contains("Invalid value: 200"), "{}", out.stdout);

    let unknown = write_temp(
        "unknown.yaml",
        &ROLLOUT.replace("canary:", "unknown-strategy:"),
    )?;
    let out = plugin(&["lint", "-f", unknown.to_str().unwrap()], None)?;
    assert_one_line_error(&out, "unknown field \"unknown-strategy\"");

    let out = plugin(&["lint", "-f", "/does/not/exist.yaml"], None)?;
    assert_one_line_error(&out, "open /does/not/exist.yaml: no such file or directory");
    Ok(())
}

#[tokio::test]
async fn create_get_list_and_status_of_a_new_rollout() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("plugin-create").await?;
    let file = write_temp("create.yaml", ROLLOUT)?;
    let out = ok(&ns, &["create", "-f", file.to_str().unwrap()])?;
    assert_eq!(out, "rollout.argoproj.io/guestbook created\n");

    let tree = ok(&ns, &["get", "rollout", "guestbook", "--no-color"])?;
    assert!(tree.starts_with("Name:            guestbook\n"), "{tree}");
    assert!(
        tree.contains(&format!("Namespace:       {}\n", ns.name)),
        "{tree}"
    );
    assert!(tree.contains("Strategy:        Canary\n"), "{tree}");
    assert!(tree.contains("NAME         KIND     STATUS"), "{tree}");
    assert!(tree.contains("⟳ guestbook  Rollout"), "{tree}");

    let json: Value =
        serde_json::from_str(&ok(&ns, &["get", "rollout", "guestbook", "-o", "json"])?)?;
    assert_eq!(json["kind"], "RolloutInfo");
    assert_eq!(json["name"], "guestbook");
    assert_eq!(json["strategy"], "Canary");
    assert_eq!(json["replicas"]["desired"], 2);

    let list = ok(&ns, &["list", "rollouts"])?;
    assert!(list.starts_with("NAME        STRATEGY   STATUS"), "{list}");
    assert!(list.contains("guestbook   Canary"), "{list}");
    let list: Value = serde_json::from_str(&ok(&ns, &["list", "rollouts", "-o", "json"])?)?;
    assert_eq!(list["items"][0]["name"], "guestbook");

    // No controller runs here: the phase is computed from the empty status.
    let status = plugin(
        &["status", "guestbook", "--watch=false", "-n", &ns.name],
        None,
    )?;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert_eq!(
        status.stdout,
        "Progressing - more replicas need to be updated\n"
    );
    let status = plugin(&["status", "guestbook", "-t", "1s", "-n", &ns.name], None)?;
    assert_eq!(
        status.stdout,
        "Progressing - more replicas need to be updated\n"
    );
    assert_one_line_error(&status, "Rollout status watch exceeded timeout");

    let explain = ok(&ns, &["explain", "guestbook"])?;
    assert!(
        explain.starts_with("Rollout \"guestbook\" in namespace"),
        "{explain}"
    );

    // Creating it again fails with the API server's message.
    let again = plugin(
        &["create", "-f", file.to_str().unwrap(), "-n", &ns.name],
        None,
    )?;
    assert_one_line_error(&again, "already exists");
    Ok(())
}

#[tokio::test]
async fn patches_land_on_the_rollout() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("plugin-patches").await?;
    ns.apply(ROLLOUT)?;
    let api: Api<Rollout> = Api::namespaced(ns.client.clone(), &ns.name);

    assert_eq!(
        ok(&ns, &["pause", "guestbook"])?,
        "rollout 'guestbook' paused\n"
    );
    assert_eq!(api.get("guestbook").await?.spec.paused, Some(true));

    assert_eq!(
        ok(&ns, &["abort", "guestbook"])?,
        "rollout 'guestbook' aborted\n"
    );
    let status = api.get("guestbook").await?.status.unwrap_or_default();
    assert_eq!(status.abort, Some(true));

    assert_eq!(
        ok(&ns, &["retry", "rollout", "guestbook"])?,
        "rollout 'guestbook' retried\n"
    );
    let status = api.get("guestbook").await?.status.unwrap_or_default();
    assert_eq!(status.abort, Some(false));

    // Manually paused, no pause condition: unpause and move to the next step.
    assert_eq!(
        ok(&ns, &["promote", "guestbook"])?,
        "rollout 'guestbook' promoted\n"
    );
    let ro = api.get("guestbook").await?;
    assert_eq!(ro.spec.paused, Some(false));
    assert_eq!(ro.status.unwrap_or_default().current_step_index, Some(1));

    let out = ok(&ns, &["restart", "guestbook", "--in", "1h"])?;
    assert_eq!(out, "rollout 'guestbook' restarts in 1h\n");
    assert!(api.get("guestbook").await?.spec.restart_at.is_some());

    let out = ok(
        &ns,
        &[
            "set",
            "image",
            "guestbook",
            "app=registry.example/guestbook:2",
        ],
    )?;
    assert_eq!(out, "rollout \"guestbook\" image updated\n");
    let ro = api.get("guestbook").await?;
    let image = ro.spec.template.unwrap().spec.unwrap().containers[0]
        .image
        .clone();
    assert_eq!(image.as_deref(), Some("registry.example/guestbook:2"));
    Ok(())
}

#[tokio::test]
async fn terminate_an_analysis_run() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("plugin-terminate").await?;
    ns.apply(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: run
spec:
  metrics:
    - name: m
      provider:
        web: {url: "http://127.0.0.1:1/"}
"#,
    )?;
    assert_eq!(
        ok(&ns, &["terminate", "analysisrun", "run"])?,
        "analysisRun 'run' terminated\n"
    );
    let api: Api<AnalysisRun> = Api::namespaced(ns.client.clone(), &ns.name);
    assert_eq!(api.get("run").await?.spec.terminate, Some(true));
    Ok(())
}

#[tokio::test]
async fn bad_input_is_one_line_on_stderr() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("plugin-errors").await?;
    for args in [
        vec!["get", "rollout", "missing"],
        vec!["status", "missing"],
        vec!["explain", "missing"],
    ] {
        let mut full = args.clone();
        full.extend(["-n", ns.name.as_str()]);
        assert_one_line_error(
            &plugin(&full, None)?,
            "rollout.argoproj.io \"missing\" not found",
        );
    }
    for args in [
        vec!["promote", "missing"],
        vec!["abort", "missing"],
        vec!["pause", "missing"],
    ] {
        let mut full = args.clone();
        full.extend(["-n", ns.name.as_str()]);
        assert_one_line_error(
            &plugin(&full, None)?,
            "rollouts.argoproj.io \"missing\" not found",
        );
    }
    // The rollout exists, but in another namespace.
    ns.apply(ROLLOUT)?;
    let elsewhere = format!("{}-elsewhere", ns.name);
    let other = plugin(&["get", "rollout", "guestbook", "-n", &elsewhere], None)?;
    assert_one_line_error(&other, "rollout.argoproj.io \"guestbook\" not found");

    // No API server listening.
    let out = plugin(
        &[
            "list",
            "rollouts",
            "--server",
            "https://127.0.0.1:1",
            "--insecure-skip-tls-verify",
        ],
        None,
    )?;
    assert_one_line_error(&out, "Unable to connect to the server https://127.0.0.1:1");

    // Usage errors.
    assert_one_line_error(&plugin(&["promote"], None)?, "ROLLOUT_NAME");
    assert_one_line_error(&plugin(&["bogus"], None)?, "bogus");
    Ok(())
}

#[test]
fn version_and_completion_need_no_cluster() -> Result<()> {
    let out = run(
        Command::new(workspace_binary("kubectl-argo-rollouts"))
            .env("KUBECONFIG", "/nonexistent")
            .args(["version", "--short"]),
        None,
    )?;
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.starts_with("kubectl-argo-rollouts: v"),
        "{}",
        out.stdout
    );
    let out = run(
        Command::new(workspace_binary("kubectl-argo_rollouts"))
            .env("KUBECONFIG", "/nonexistent")
            .args(["completion", "bash"]),
        None,
    )?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("complete -o default -F"));
    Ok(())
}
