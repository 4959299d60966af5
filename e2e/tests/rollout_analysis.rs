//! Metric-gated rollouts end to end: the real controller runs the AnalysisRuns a Rollout starts
//! (inline analysis steps, background analysis, blue-green pre-promotion analysis) against the
//! real Prometheus of the local cluster, whose scraped value each test controls, and the rollout
//! advances, pauses or aborts by itself as Argo Rollouts v1.9.1 does.

use anyhow::Result;
use e2e::{
    ControllerProcess, TestNamespace, install_crds,
    plugin::plugin_ok,
    prom::{prom_url, prometheus_value, query, wait_for_value, write_series},
    repo_root,
    rollout::{WAIT, canary},
};
use kube::{Api, ResourceExt};
use rollouts::crd::{AnalysisPhase, AnalysisRun, Rollout, RolloutStatus};

async fn setup(test: &str) -> Result<(TestNamespace, ControllerProcess)> {
    install_crds()?;
    let ns = TestNamespace::new(test).await?;
    let controller = ControllerProcess::for_namespace(&ns)?;
    Ok((ns, controller))
}

/// An AnalysisTemplate `error-rate` on the test's Prometheus series: success below 5 %, failure
/// from 50 % up, inconclusive in between; `count` measurements every 2 s.
fn error_rate_template(ns: &TestNamespace, count: u32) -> Result<String> {
    Ok(format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: error-rate
spec:
  args:
  - name: service
  metrics:
  - name: error-rate
    interval: 2s
    count: {count}
    successCondition: result[0] < 0.05
    failureCondition: result[0] >= 0.5
    provider:
      prometheus:
        address: {address}
        query: '{query}'
"#,
        address = prom_url()?,
        query = query(ns),
    ))
}

const ANALYSIS_STEPS: &str = "        - setWeight: 50
        - analysis:
            templates:
            - templateName: error-rate
            args:
            - name: service
              value: app
";

fn status(ro: &Rollout) -> RolloutStatus {
    ro.status.clone().unwrap_or_default()
}

fn runs(ns: &TestNamespace) -> Api<AnalysisRun> {
    Api::namespaced(ns.client.clone(), &ns.name)
}

/// The rollout's AnalysisRuns, oldest first: (name, rollout-type label, phase).
async fn run_list(ns: &TestNamespace) -> Result<Vec<(String, String, String)>> {
    let mut list = runs(ns).list(&Default::default()).await?.items;
    list.sort_by_key(|r| {
        (
            r.metadata.creation_timestamp.clone().map(|t| t.0),
            r.name_any(),
        )
    });
    Ok(list
        .iter()
        .map(|r| {
            (
                r.name_any(),
                r.labels().get("rollout-type").cloned().unwrap_or_default(),
                r.status
                    .as_ref()
                    .map(|s| s.phase.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect())
}

/// Waits for a run of `kind` in `phase`.
async fn wait_run(ns: &TestNamespace, kind: &str, phase: AnalysisPhase) -> Result<AnalysisRun> {
    ns.wait_for(
        &format!("a {kind} AnalysisRun in phase {phase}"),
        WAIT,
        || async {
            let list = runs(ns).list(&Default::default()).await?.items;
            Ok(list.into_iter().find(|r| {
                r.labels().get("rollout-type").map(String::as_str) == Some(kind)
                    && r.status.as_ref().map(|s| &s.phase) == Some(&phase)
            }))
        },
    )
    .await
}

/// Waits until the rollout's phase and message are these.
async fn wait_message(ns: &TestNamespace, phase: &str, message: &str) -> Result<Rollout> {
    ns.wait_for(&format!("rollout app {phase}: {message}"), WAIT, || async {
        let ro = ns.rollout("app").await?;
        let s = status(&ro);
        Ok((s.phase.as_ref().map(|p| p.as_str()) == Some(phase)
            && s.message.as_deref() == Some(message))
        .then_some(ro))
    })
    .await
}

#[tokio::test]
async fn canary_passes_its_inline_analysis_and_completes() -> Result<()> {
    let (ns, _c) = setup("ra-pass").await?;
    prometheus_value(&ns, 0.01).await?;
    ns.apply(&error_rate_template(&ns, 2)?)?;
    ns.apply(&canary("app", 2, ANALYSIS_STEPS, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;
    assert!(
        run_list(&ns).await?.is_empty(),
        "no analysis on the initial deploy"
    );

    ns.set_image("app", "registry.example/app:2")?;
    let run = wait_run(&ns, "Step", AnalysisPhase::Successful).await?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let s = status(&ro);
    assert_eq!(s.stable_rs, s.current_pod_hash);
    assert_eq!(s.current_step_index, Some(2));
    let hash = s.current_pod_hash.unwrap();
    assert_eq!(run.name_any(), format!("app-{hash}-2-1"));
    assert_eq!(run.labels()["step-index"], "1");
    assert_eq!(run.labels()["rollouts-pod-template-hash"], hash);
    assert_eq!(run.annotations()["rollout.argoproj.io/revision"], "2");
    let measured = run
        .status
        .as_ref()
        .unwrap()
        .metric_results
        .as_ref()
        .unwrap()[0]
        .count
        .unwrap_or(0);
    assert_eq!(measured, 2, "both measurements were taken");
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 2, 2)])
        .await?;
    let reasons = ns.event_reasons("app")?;
    assert!(
        reasons.iter().any(|r| r == "AnalysisRunSuccessful"),
        "{reasons:?}"
    );
    Ok(())
}

#[tokio::test]
async fn rising_error_rate_aborts_and_leaves_stable_at_full_scale() -> Result<()> {
    let (ns, _c) = setup("ra-abort").await?;
    prometheus_value(&ns, 0.01).await?;
    ns.apply(&error_rate_template(&ns, 30)?)?;
    ns.apply(&canary("app", 2, ANALYSIS_STEPS, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;

    ns.set_image("app", "registry.example/app:2")?;
    let run = wait_run(&ns, "Step", AnalysisPhase::Running).await?;
    // A good measurement first, then the error rate rises.
    ns.wait_for("a successful measurement", WAIT, || async {
        let r = runs(&ns).get(&run.name_any()).await?;
        let ok = r
            .status
            .and_then(|s| s.metric_results)
            .is_some_and(|m| m[0].successful.unwrap_or(0) >= 1);
        Ok(ok.then_some(()))
    })
    .await?;
    prometheus_value(&ns, 0.9).await?;
    wait_run(&ns, "Step", AnalysisPhase::Failed).await?;
    let detail = "Step-based analysis phase error/failed: Metric \"error-rate\" assessed Failed due to failed (1) > failureLimit (0)";
    let ro = wait_message(
        &ns,
        "Degraded",
        &format!("RolloutAborted: Rollout aborted update to revision 2: {detail}"),
    )
    .await?;
    assert_eq!(status(&ro).abort, Some(true));
    // Stable back at full scale, the canary scaled away.
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 0, 0)])
        .await?;
    let reasons = ns.event_reasons("app")?;
    assert!(
        reasons.iter().any(|r| r == "AnalysisRunFailed"),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r == "RolloutAborted"), "{reasons:?}");
    Ok(())
}

#[tokio::test]
async fn inconclusive_analysis_pauses_until_promoted() -> Result<()> {
    let (ns, _c) = setup("ra-inconclusive").await?;
    prometheus_value(&ns, 0.2).await?;
    ns.apply(&error_rate_template(&ns, 1)?)?;
    ns.apply(&canary("app", 2, ANALYSIS_STEPS, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;

    ns.set_image("app", "registry.example/app:2")?;
    let first = wait_run(&ns, "Step", AnalysisPhase::Inconclusive).await?;
    let ro = wait_message(&ns, "Paused", "InconclusiveAnalysisRun").await?;
    assert_eq!(status(&ro).current_step_index, Some(1));
    assert_eq!(status(&ro).controller_pause, Some(true));

    // `kubectl argo rollouts promote` on an inconclusive canary clears the pause and moves past
    // the analysis step (Argo's plugin patches currentStepIndex + 1 with the pause cleared), so
    // the update completes without another run.
    assert_eq!(
        plugin_ok(&ns, &["promote", "app"])?,
        "rollout 'app' promoted\n"
    );
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let s = status(&ro);
    assert_eq!(s.stable_rs, s.current_pod_hash);
    assert_eq!(s.current_step_index, Some(2));
    assert_eq!(
        run_list(&ns).await?,
        [(first.name_any(), "Step".into(), "Inconclusive".into())]
    );
    Ok(())
}

#[tokio::test]
async fn failing_background_analysis_aborts_the_update() -> Result<()> {
    let (ns, _c) = setup("ra-background").await?;
    prometheus_value(&ns, 0.9).await?;
    ns.apply(&error_rate_template(&ns, 5)?)?;
    let background = "      analysis:
        templates:
        - templateName: error-rate
        args:
        - name: service
          value: app
        startingStep: 1
";
    let steps = "        - setWeight: 50
        - pause: {}
";
    ns.apply(&canary("app", 2, steps, background))?;
    ns.wait_for_phase("app", "Healthy").await?;
    assert!(run_list(&ns).await?.is_empty());

    ns.set_image("app", "registry.example/app:2")?;
    let run = wait_run(&ns, "Background", AnalysisPhase::Failed).await?;
    let hash = run.labels()["rollouts-pod-template-hash"].clone();
    assert_eq!(
        run.name_any(),
        format!("app-{hash}-2"),
        "no infix for background runs"
    );
    let detail = "Background analysis phase error/failed: Metric \"error-rate\" assessed Failed due to failed (1) > failureLimit (0)";
    wait_message(
        &ns,
        "Degraded",
        &format!("RolloutAborted: Rollout aborted update to revision 2: {detail}"),
    )
    .await?;
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 0, 0)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn blue_green_pre_promotion_failure_keeps_traffic_on_stable() -> Result<()> {
    let (ns, _c) = setup("ra-bluegreen").await?;
    prometheus_value(&ns, 0.9).await?;
    ns.apply(&error_rate_template(&ns, 1)?)?;
    for svc in ["active", "preview"] {
        ns.apply(&format!(
            "apiVersion: v1
kind: Service
metadata:
  name: {svc}
spec:
  selector:
    app: app
  ports:
  - port: 80
"
        ))?;
    }
    ns.apply(
        "apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: app
spec:
  replicas: 2
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
        - name: app
          image: registry.example/app:1
  strategy:
    blueGreen:
      activeService: active
      previewService: preview
      prePromotionAnalysis:
        templates:
        - templateName: error-rate
        args:
        - name: service
          value: app
",
    )?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let v1 = status(&ro).stable_rs.unwrap();

    ns.set_image("app", "registry.example/app:2")?;
    let run = wait_run(&ns, "PrePromotion", AnalysisPhase::Failed).await?;
    assert!(run.name_any().ends_with("-2-pre"), "{}", run.name_any());
    let detail = "Blue/green pre-promotion analysis phase error/failed: Metric \"error-rate\" assessed Failed due to failed (1) > failureLimit (0)";
    let ro = wait_message(
        &ns,
        "Degraded",
        &format!("RolloutAborted: Rollout aborted update to revision 2: {detail}"),
    )
    .await?;
    assert_eq!(status(&ro).stable_rs.as_deref(), Some(v1.as_str()));
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(ns.client.clone(), &ns.name);
    let active = services.get("active").await?;
    let selector = active.spec.unwrap().selector.unwrap();
    assert_eq!(
        selector["rollouts-pod-template-hash"], v1,
        "the active Service still sends traffic to the stable ReplicaSet"
    );
    Ok(())
}

/// The README's metric-gated example, applied from `deploy/examples/` as a user would (only the
/// Prometheus address replaced): it passes while the error ratio is low, and the next update
/// aborts by itself once the ratio rises.
#[tokio::test]
async fn the_readme_metric_gated_example_passes_then_aborts() -> Result<()> {
    let (ns, _c) = setup("ra-example").await?;
    let series = format!(
        r#"demo_error_ratio{{namespace="{}",service="rollouts-demo-analysis"}}"#,
        ns.name
    );
    let series = series.as_str();
    let set_ratio =
        |value: f64| write_series(&format!("{}-demo", ns.name), &format!("{series} {value}"));
    set_ratio(0.01)?;
    wait_for_value(&ns, series, 0.01).await?;
    let examples = repo_root().join("deploy/examples");
    let template = std::fs::read_to_string(examples.join("analysis-template-error-rate.yaml"))?
        .replace("http://prometheus.monitoring:9090", &prom_url()?);
    ns.apply(&template)?;
    ns.apply(&std::fs::read_to_string(
        examples.join("rollout-canary-analysis.yaml"),
    )?)?;
    let name = "rollouts-demo-analysis";
    ns.wait_for_phase(name, "Healthy").await?;

    ns.set_image(name, "argoproj/rollouts-demo:yellow")?;
    wait_run(&ns, "Step", AnalysisPhase::Successful).await?;
    ns.wait_for_revisions(name, &[(1, 0, 0), (2, 5, 5)]).await?;
    ns.wait_for_phase(name, "Healthy").await?;

    set_ratio(0.3)?;
    wait_for_value(&ns, series, 0.3).await?;
    ns.set_image(name, "argoproj/rollouts-demo:red")?;
    wait_run(&ns, "Step", AnalysisPhase::Failed).await?;
    ns.wait_for_revisions(name, &[(1, 0, 0), (2, 5, 5), (3, 0, 0)])
        .await?;
    let ro = ns.rollout(name).await?;
    let message = status(&ro).message.unwrap_or_default();
    assert!(
        message.starts_with("RolloutAborted: Rollout aborted update to revision 3: Step-based analysis phase error/failed: Metric \"error-rate\" assessed Failed"),
        "{message}"
    );
    Ok(())
}
