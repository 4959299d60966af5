//! The AnalysisRun controller end to end: runs applied directly (as `kubectl argo rollouts create
//! analysisrun` would) are measured by the real `rollouts-controller` against the local
//! Prometheus, a web server inside the test, and kwok-completed Jobs; their status, messages and
//! events are what Argo Rollouts v1.9.1 writes (contract §4.4), and a completed run is left alone.

use std::time::Duration;

use anyhow::{Result, bail};
use e2e::{
    ControllerProcess, TestNamespace, install_crds, kubectl,
    prom::{prom_url, prometheus_value, query},
};
use kube::Api;
use rollouts::crd::{AnalysisPhase, AnalysisRun};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(90);

/// A namespace with its own controller (`--namespaced`).
async fn setup(test: &str) -> Result<(TestNamespace, ControllerProcess)> {
    install_crds()?;
    let ns = TestNamespace::new(test).await?;
    let controller = ControllerProcess::for_namespace(&ns)?;
    Ok((ns, controller))
}

fn runs(ns: &TestNamespace) -> Api<AnalysisRun> {
    Api::namespaced(ns.client.clone(), &ns.name)
}

/// Waits until the run is in `phase`.
async fn wait_phase(ns: &TestNamespace, name: &str, phase: AnalysisPhase) -> Result<AnalysisRun> {
    ns.wait_for(
        &format!("analysisrun {name} phase {phase}"),
        WAIT,
        || async {
            let run = runs(ns).get(name).await?;
            let current = run.status.as_ref().map(|s| s.phase.clone());
            Ok((current.as_ref() == Some(&phase)).then_some(run))
        },
    )
    .await
}

/// Waits until the run has taken at least `n` measurements of its first metric.
async fn wait_measurements(ns: &TestNamespace, name: &str, n: usize) -> Result<AnalysisRun> {
    ns.wait_for(
        &format!("analysisrun {name} with {n} measurements"),
        WAIT,
        || async {
            let run = runs(ns).get(name).await?;
            let taken = run
                .status
                .as_ref()
                .and_then(|s| s.metric_results.as_ref())
                .and_then(|r| r.first())
                .and_then(|r| r.measurements.as_ref())
                .map_or(0, |m| m.len());
            Ok((taken >= n).then_some(run))
        },
    )
    .await
}

fn message(run: &AnalysisRun) -> String {
    run.status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_default()
}

/// Reasons of the Events recorded on the run.
fn event_reasons(ns: &TestNamespace, name: &str) -> Result<Vec<String>> {
    let out = kubectl(
        &[
            "get",
            "events",
            "-n",
            &ns.name,
            "--field-selector",
            &format!("involvedObject.name={name},involvedObject.kind=AnalysisRun"),
            "-o",
            "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}",
        ],
        None,
    )?;
    if out.code != 0 {
        bail!("kubectl get events: {}", out.stderr);
    }
    Ok(out.stdout.lines().map(str::to_string).collect())
}

async fn wait_event(ns: &TestNamespace, name: &str, reason: &str) -> Result<()> {
    ns.wait_for(
        &format!("event {reason} on analysisrun {name}"),
        Duration::from_secs(30),
        || async {
            Ok(event_reasons(ns, name)?
                .iter()
                .any(|r| r == reason)
                .then_some(()))
        },
    )
    .await
}

fn prometheus_run(ns: &TestNamespace, name: &str, metric: &str) -> Result<String> {
    Ok(format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: {name}
spec:
  metrics:
  - name: {metric_name}
{metric}
    provider:
      prometheus:
        address: {address}
        query: '{query}'
"#,
        metric_name = name,
        address = prom_url()?,
        query = query(ns),
    ))
}

/// Lines of the controller log that record a reconcile of `name`.
fn reconciles_logged(controller: &ControllerProcess, name: &str) -> usize {
    let needle = format!("analysisrun={name} ");
    controller
        .log_text()
        .lines()
        .filter(|l| l.contains("AnalysisRun reconciled") && l.contains(&needle))
        .count()
}

#[tokio::test]
async fn prometheus_success_then_no_more_reconciles() -> Result<()> {
    let (ns, controller) = setup("ar-prom-success").await?;
    prometheus_value(&ns, 0.99).await?;
    ns.apply(&prometheus_run(
        &ns,
        "success",
        "    count: 2\n    interval: 1s\n    successCondition: result[0] >= 0.95\n    failureCondition: result[0] < 0.5",
    )?)?;
    let run = wait_phase(&ns, "success", AnalysisPhase::Successful).await?;
    let status = run.status.clone().unwrap();
    let result = &status.metric_results.as_ref().unwrap()[0];
    assert_eq!(result.count, Some(2));
    assert_eq!(result.successful, Some(2));
    assert_eq!(
        result.measurements.as_ref().unwrap()[0].value.as_deref(),
        Some("[0.99]")
    );
    assert!(status.started_at.is_some() && status.completed_at.is_some());
    wait_event(&ns, "success", "AnalysisRunSuccessful").await?;
    assert!(
        event_reasons(&ns, "success")?
            .iter()
            .any(|r| r == "MetricSuccessful")
    );

    // Completed: no periodic work. The object stays as it is, and the controller does not
    // reconcile it again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = runs(&ns).get("success").await?;
    let logged = reconciles_logged(&controller, "success");
    assert!(logged >= 2, "reconciles logged: {logged}");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = runs(&ns).get("success").await?;
    assert_eq!(
        before.metadata.resource_version,
        after.metadata.resource_version
    );
    assert_eq!(reconciles_logged(&controller, "success"), logged);
    Ok(())
}

#[tokio::test]
async fn prometheus_failure_condition_fails_the_run() -> Result<()> {
    let (ns, _controller) = setup("ar-prom-failed").await?;
    prometheus_value(&ns, 0.99).await?;
    ns.apply(&prometheus_run(
        &ns,
        "errors",
        "    interval: 1s\n    successCondition: result[0] >= 0.9\n    failureCondition: result[0] < 0.9",
    )?)?;
    wait_measurements(&ns, "errors", 1).await?;
    let running = runs(&ns).get("errors").await?;
    assert_eq!(running.status.unwrap().phase, AnalysisPhase::Running);
    prometheus_value(&ns, 0.5).await?;
    let run = wait_phase(&ns, "errors", AnalysisPhase::Failed).await?;
    assert_eq!(
        message(&run),
        r#"Metric "errors" assessed Failed due to failed (1) > failureLimit (0)"#
    );
    wait_event(&ns, "errors", "AnalysisRunFailed").await?;
    assert!(
        event_reasons(&ns, "errors")?
            .iter()
            .any(|r| r == "MetricFailed")
    );
    Ok(())
}

#[tokio::test]
async fn prometheus_neither_condition_is_inconclusive() -> Result<()> {
    let (ns, _controller) = setup("ar-prom-inconclusive").await?;
    prometheus_value(&ns, 0.5).await?;
    ns.apply(&prometheus_run(
        &ns,
        "unsure",
        "    count: 1\n    successCondition: result[0] > 0.9\n    failureCondition: result[0] < 0.1",
    )?)?;
    let run = wait_phase(&ns, "unsure", AnalysisPhase::Inconclusive).await?;
    assert_eq!(
        message(&run),
        r#"Metric "unsure" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)"#
    );
    wait_event(&ns, "unsure", "AnalysisRunInconclusive").await?;
    Ok(())
}

/// Serves `body` as JSON to every request on 127.0.0.1; returns the port.
async fn serve_json(body: &'static str) -> Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut read = 0;
                // Read the request head.
                while let Ok(n) = conn.read(&mut buf[read..]).await {
                    if n == 0 {
                        break;
                    }
                    read += n;
                    if buf[..read].windows(4).any(|w| w == b"\r\n\r\n") || read == buf.len() {
                        break;
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(response.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    Ok(port)
}

#[tokio::test]
async fn web_metric_with_json_path() -> Result<()> {
    let (ns, _controller) = setup("ar-web").await?;
    let port = serve_json(r#"{"data": {"ok": true, "latency": 7}}"#).await?;
    ns.apply(&format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: web
spec:
  metrics:
  - name: latency
    count: 1
    successCondition: result < 10
    failureCondition: result >= 10
    provider:
      web:
        url: http://127.0.0.1:{port}/status
        jsonPath: '{{$.data.latency}}'
"#
    ))?;
    let run = wait_phase(&ns, "web", AnalysisPhase::Successful).await?;
    let result = &run.status.unwrap().metric_results.unwrap()[0];
    assert_eq!(
        result.measurements.as_ref().unwrap()[0].value.as_deref(),
        Some("7")
    );
    Ok(())
}

fn job_run(name: &str, fail: bool) -> String {
    let labels = if fail {
        "\n            metadata:\n              labels:\n                e2e.argoproj.io/fail: \"true\""
    } else {
        ""
    };
    format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: {name}
spec:
  metrics:
  - name: check
    provider:
      job:
        spec:
          backoffLimit: 0
          template:{labels}
            spec:
              restartPolicy: Never
              containers:
              - name: check
                image: registry.example/check:1
"#
    )
}

#[tokio::test]
async fn job_metric_success_and_failure() -> Result<()> {
    let (ns, _controller) = setup("ar-job").await?;
    ns.apply(&job_run("job-ok", false))?;
    ns.apply(&job_run("job-bad", true))?;
    let ok = wait_phase(&ns, "job-ok", AnalysisPhase::Successful).await?;
    let bad = wait_phase(&ns, "job-bad", AnalysisPhase::Failed).await?;
    assert_eq!(
        message(&bad),
        r#"Metric "check" assessed Failed due to failed (1) > failureLimit (0)"#
    );
    // The Job is named `<run uid>.<metric>.1` and owned by its run.
    let uid = ok.metadata.uid.clone().unwrap();
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(ns.client.clone(), &ns.name);
    let job = jobs.get(&format!("{uid}.check.1")).await?;
    let owner = &job.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("AnalysisRun", uid.as_str())
    );
    Ok(())
}

#[tokio::test]
async fn terminate_ends_an_unbounded_run_successful() -> Result<()> {
    let (ns, _controller) = setup("ar-terminate").await?;
    prometheus_value(&ns, 1.0).await?;
    ns.apply(&prometheus_run(
        &ns,
        "forever",
        "    interval: 1s\n    successCondition: result[0] >= 0",
    )?)?;
    wait_measurements(&ns, "forever", 2).await?;
    let out = kubectl(
        &[
            "patch",
            "analysisrun",
            "forever",
            "-n",
            &ns.name,
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"terminate":true}}"#,
        ],
        None,
    )?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let run = wait_phase(&ns, "forever", AnalysisPhase::Successful).await?;
    assert_eq!(message(&run), "Run Terminated");
    Ok(())
}

#[tokio::test]
async fn unknown_provider_is_an_error() -> Result<()> {
    let (ns, _controller) = setup("ar-unknown").await?;
    ns.apply(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: nowhere
spec:
  metrics:
  - name: mystery
    count: 1
    consecutiveErrorLimit: 0
    provider: {}
"#,
    )?;
    let run = wait_phase(&ns, "nowhere", AnalysisPhase::Error).await?;
    assert_eq!(
        message(&run),
        "Analysis spec invalid: metrics[0]: no provider specified"
    );
    wait_event(&ns, "nowhere", "AnalysisRunError").await?;

    // A provider this controller does not implement: the measurement errors with a clear message.
    ns.apply(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: elsewhere
spec:
  metrics:
  - name: relic
    count: 1
    consecutiveErrorLimit: 0
    provider:
      newRelic:
        query: SELECT 1
"#,
    )?;
    let run = wait_phase(&ns, "elsewhere", AnalysisPhase::Error).await?;
    assert_eq!(
        message(&run),
        r#"Metric "relic" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): "Error Message: metric provider NewRelic is not supported by this controller""#
    );
    Ok(())
}

#[tokio::test]
async fn ttl_deletes_and_other_instances_are_ignored() -> Result<()> {
    let (ns, _controller) = setup("ar-ttl").await?;
    let port = serve_json(r#"{"ok": 1}"#).await?;
    let run = |name: &str, extra: &str| {
        format!(
            r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: {name}
{extra}
spec:
  ttlStrategy:
    secondsAfterCompletion: 3
  metrics:
  - name: ok
    count: 1
    successCondition: result == 1
    provider:
      web:
        url: http://127.0.0.1:{port}/
        jsonPath: '{{$.ok}}'
"#
        )
    };
    // Labelled for another controller instance: this (id-less) controller leaves it alone.
    ns.apply(&run(
        "foreign",
        "  labels:\n    argo-rollouts.argoproj.io/controller-instance-id: someone-else",
    ))?;
    ns.apply(&run("short-lived", ""))?;
    wait_phase(&ns, "short-lived", AnalysisPhase::Successful).await?;
    ns.wait_for(
        "analysisrun short-lived deleted by its TTL",
        Duration::from_secs(30),
        || async {
            Ok(runs(&ns)
                .get_opt("short-lived")
                .await?
                .is_none()
                .then_some(()))
        },
    )
    .await?;
    let foreign = runs(&ns).get("foreign").await?;
    assert_eq!(
        foreign.status, None,
        "another instance's run was reconciled"
    );
    Ok(())
}
