//! Blue-green rollouts end to end: the real controller switching real Services between real
//! ReplicaSets on the local control plane. Each test runs its own controller in its own namespace.

use anyhow::Result;
use e2e::{ControllerProcess, TestNamespace, install_crds, rollout::WAIT};
use k8s_openapi::api::core::v1::Service;
use kube::Api;

async fn setup(test: &str) -> Result<(TestNamespace, ControllerProcess)> {
    install_crds()?;
    let ns = TestNamespace::new(test).await?;
    let controller = ControllerProcess::for_namespace(&ns)?;
    Ok((ns, controller))
}

/// Active and preview Services plus a blue-green Rollout with these strategy fields.
fn bluegreen(replicas: i32, strategy_extra: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: app-active
spec:
  selector:
    app: app
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: app-preview
spec:
  selector:
    app: app
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: app
spec:
  replicas: {replicas}
  revisionHistoryLimit: 3
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
      activeService: app-active
      previewService: app-preview
{strategy_extra}"#
    )
}

/// The `rollouts-pod-template-hash` the Service selects, if any.
async fn selected_hash(ns: &TestNamespace, service: &str) -> Result<Option<String>> {
    let api: Api<Service> = Api::namespaced(ns.client.clone(), &ns.name);
    let svc = api.get(service).await?;
    Ok(svc
        .spec
        .and_then(|s| s.selector)
        .and_then(|s| s.get("rollouts-pod-template-hash").cloned()))
}

async fn current_hash(ns: &TestNamespace) -> Result<String> {
    Ok(ns
        .rollout("app")
        .await?
        .status
        .and_then(|s| s.current_pod_hash)
        .unwrap_or_default())
}

async fn wait_for_selector(ns: &TestNamespace, service: &str, hash: &str) -> Result<()> {
    ns.wait_for(
        &format!("service {service} selecting {hash}"),
        WAIT,
        || async { Ok((selected_hash(ns, service).await?.as_deref() == Some(hash)).then_some(())) },
    )
    .await
}

#[tokio::test]
async fn initial_deploy_switches_the_active_service() -> Result<()> {
    let (ns, _c) = setup("bg-initial").await?;
    ns.apply(&bluegreen(3, "      autoPromotionEnabled: false\n"))?;
    ns.wait_for_phase("app", "Healthy").await?;
    let hash = current_hash(&ns).await?;
    wait_for_selector(&ns, "app-active", &hash).await?;
    ns.wait_for_revisions("app", &[(1, 3, 3)]).await?;
    let svc: Api<Service> = Api::namespaced(ns.client.clone(), &ns.name);
    let active = svc.get("app-active").await?;
    assert_eq!(
        active
            .metadata
            .annotations
            .unwrap_or_default()
            .get("argo-rollouts.argoproj.io/managed-by-rollouts"),
        Some(&"app".to_string())
    );
    Ok(())
}

#[tokio::test]
async fn manual_promotion_switches_and_scales_the_old_stack_down_after_the_delay() -> Result<()> {
    let (ns, _c) = setup("bg-manual").await?;
    ns.apply(&bluegreen(
        2,
        "      autoPromotionEnabled: false\n      scaleDownDelaySeconds: 3\n",
    ))?;
    ns.wait_for_phase("app", "Healthy").await?;
    let v1 = current_hash(&ns).await?;
    ns.set_image("app", "registry.example/app:2")?;
    let ro = ns.wait_for_phase("app", "Paused").await?;
    assert_eq!(
        ro.status.as_ref().and_then(|s| s.message.as_deref()),
        Some("BlueGreenPause")
    );
    let v2 = current_hash(&ns).await?;
    assert_ne!(v1, v2);
    // The preview is on the new stack, the active still on the old one.
    wait_for_selector(&ns, "app-preview", &v2).await?;
    assert_eq!(
        selected_hash(&ns, "app-active").await?.as_deref(),
        Some(v1.as_str())
    );
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 2, 2)])
        .await?;

    ns.patch_rollout("app", true, r#"{"status":{"pauseConditions":null}}"#)?;
    wait_for_selector(&ns, "app-active", &v2).await?;
    ns.wait_for_phase("app", "Healthy").await?;
    // The old stack goes away once scaleDownDelaySeconds has passed.
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 2, 2)])
        .await?;
    let reasons = ns.event_reasons("app")?;
    assert!(reasons.iter().any(|r| r == "SwitchService"), "{reasons:?}");
    Ok(())
}

#[tokio::test]
async fn auto_promotion_seconds_promote_by_themselves() -> Result<()> {
    let (ns, _c) = setup("bg-auto").await?;
    ns.apply(&bluegreen(
        2,
        "      autoPromotionSeconds: 3\n      scaleDownDelaySeconds: 2\n",
    ))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_phase("app", "Paused").await?;
    let v2 = current_hash(&ns).await?;
    // Nobody promotes: after autoPromotionSeconds the active Service moves on its own.
    wait_for_selector(&ns, "app-active", &v2).await?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 2, 2)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn preview_replica_count_runs_a_smaller_preview_until_promotion() -> Result<()> {
    let (ns, _c) = setup("bg-preview-count").await?;
    ns.apply(&bluegreen(
        3,
        "      autoPromotionEnabled: false\n      previewReplicaCount: 1\n      scaleDownDelaySeconds: 2\n",
    ))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_phase("app", "Paused").await?;
    ns.wait_for_revisions("app", &[(1, 3, 3), (2, 1, 1)])
        .await?;
    ns.patch_rollout("app", true, r#"{"status":{"pauseConditions":null}}"#)?;
    // Promotion first brings the preview to full size, then switches, then drains the old stack.
    ns.wait_for_phase("app", "Healthy").await?;
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 3, 3)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn abort_keeps_traffic_on_stable_and_scales_the_preview_down() -> Result<()> {
    let (ns, _c) = setup("bg-abort").await?;
    ns.apply(&bluegreen(
        2,
        "      autoPromotionEnabled: false\n      abortScaleDownDelaySeconds: 3\n",
    ))?;
    ns.wait_for_phase("app", "Healthy").await?;
    let v1 = current_hash(&ns).await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_phase("app", "Paused").await?;
    ns.patch_rollout("app", true, r#"{"status":{"abort":true}}"#)?;
    let ro = ns.wait_for_phase("app", "Degraded").await?;
    assert_eq!(
        ro.status.as_ref().and_then(|s| s.message.as_deref()),
        Some("RolloutAborted: Rollout aborted update to revision 2")
    );
    assert_eq!(
        selected_hash(&ns, "app-active").await?.as_deref(),
        Some(v1.as_str())
    );
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 0, 0)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn spec_paused_still_scales_the_preview() -> Result<()> {
    let (ns, _c) = setup("bg-paused").await?;
    ns.apply(&bluegreen(2, "      autoPromotionEnabled: false\n"))?;
    ns.wait_for_phase("app", "Healthy").await?;
    let v1 = current_hash(&ns).await?;
    ns.patch_rollout("app", false, r#"{"spec":{"paused":true}}"#)?;
    ns.set_image("app", "registry.example/app:2")?;
    // Blue-green ReplicaSet scaling is not halted by spec.paused (contract §3.6).
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 2, 2)])
        .await?;
    let ro = ns.wait_for_phase("app", "Paused").await?;
    assert_eq!(
        ro.status.as_ref().and_then(|s| s.message.as_deref()),
        Some("manually paused")
    );
    // ... but the Service switch is: the active stays on the old stack.
    assert_eq!(
        selected_hash(&ns, "app-active").await?.as_deref(),
        Some(v1.as_str())
    );
    Ok(())
}
