//! Canary rollouts without a traffic router, end to end: the real controller binary against the
//! local control plane (real ReplicaSet controller and scheduler, kwok pods). Each test runs its
//! own controller scoped to its own namespace. Numbers follow Argo Rollouts v1.9.1's replica math.

use std::time::Duration;

use anyhow::Result;
use e2e::{
    ControllerProcess, TestNamespace, install_crds,
    rollout::{WAIT, canary},
};

const STEPS_WITH_PAUSES: &str = "        - setWeight: 20
        - pause: {}
        - setWeight: 60
        - pause: {}
";

async fn setup(test: &str) -> Result<(TestNamespace, ControllerProcess)> {
    install_crds()?;
    let ns = TestNamespace::new(test).await?;
    let controller = ControllerProcess::for_namespace(&ns)?;
    Ok((ns, controller))
}

fn status_of(ro: &rollouts::crd::Rollout) -> rollouts::crd::RolloutStatus {
    ro.status.clone().unwrap_or_default()
}

#[tokio::test]
async fn initial_deploy_becomes_healthy_and_stable() -> Result<()> {
    let (ns, _c) = setup("canary-initial").await?;
    ns.apply(&canary("app", 3, STEPS_WITH_PAUSES, ""))?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let s = status_of(&ro);
    assert_eq!(
        s.stable_rs, s.current_pod_hash,
        "initial deploy is promoted straight to stable"
    );
    assert_eq!(s.current_step_index, Some(4));
    ns.wait_for_revisions("app", &[(1, 3, 3)]).await?;
    let reasons = ns.event_reasons("app")?;
    for want in [
        "RolloutAddedToInformer",
        "RolloutUpdated",
        "NewReplicaSetCreated",
        "RolloutNotCompleted",
        "ScalingReplicaSet",
        "RolloutCompleted",
    ] {
        assert!(
            reasons.iter().any(|r| r == want),
            "no {want} event in {reasons:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn canary_update_walks_every_step_with_promote() -> Result<()> {
    let (ns, _c) = setup("canary-steps").await?;
    ns.apply(&canary("app", 5, STEPS_WITH_PAUSES, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;

    ns.set_image("app", "registry.example/app:2")?;
    let ro = ns.wait_for_step("app", 1, "Paused").await?;
    assert_eq!(status_of(&ro).message.as_deref(), Some("CanaryPauseStep"));
    ns.wait_for_revisions("app", &[(1, 4, 4), (2, 1, 1)])
        .await?;

    // `kubectl argo rollouts promote` on a paused step clears the pause conditions.
    ns.patch_rollout("app", true, r#"{"status":{"pauseConditions":null}}"#)?;
    ns.wait_for_step("app", 3, "Paused").await?;
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 3, 3)])
        .await?;

    ns.patch_rollout("app", true, r#"{"status":{"pauseConditions":null}}"#)?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let s = status_of(&ro);
    assert_eq!(s.stable_rs, s.current_pod_hash);
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 5, 5)])
        .await?;
    let reasons = ns.event_reasons("app")?;
    assert!(
        reasons
            .iter()
            .filter(|r| *r == "RolloutStepCompleted")
            .count()
            >= 4,
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r == "RolloutPaused"), "{reasons:?}");
    Ok(())
}

#[tokio::test]
async fn timed_pause_continues_by_itself() -> Result<()> {
    let (ns, _c) = setup("canary-timed").await?;
    ns.apply(&canary(
        "app",
        2,
        "        - setWeight: 50\n        - pause: {duration: 3s}\n",
        "",
    ))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    assert_eq!(status_of(&ro).current_step_index, Some(2));
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 2, 2)])
        .await?;
    let reasons = ns.event_reasons("app")?;
    assert!(
        reasons.iter().any(|r| r == "RolloutResumed"),
        "a timed pause ends with RolloutResumed: {reasons:?}"
    );
    Ok(())
}

#[tokio::test]
async fn abort_returns_to_stable_and_retry_resumes() -> Result<()> {
    let (ns, _c) = setup("canary-abort").await?;
    ns.apply(&canary(
        "app",
        4,
        "        - setWeight: 25\n        - pause: {}\n",
        "",
    ))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    ns.wait_for_revisions("app", &[(1, 3, 3), (2, 1, 1)])
        .await?;

    ns.patch_rollout("app", true, r#"{"status":{"abort":true}}"#)?;
    let ro = ns.wait_for_phase("app", "Degraded").await?;
    assert_eq!(
        status_of(&ro).message.as_deref(),
        Some("RolloutAborted: Rollout aborted update to revision 2")
    );
    ns.wait_for_revisions("app", &[(1, 4, 4), (2, 0, 0)])
        .await?;

    ns.patch_rollout("app", true, r#"{"status":{"abort":false}}"#)?;
    ns.wait_for_step("app", 1, "Paused").await?;
    ns.wait_for_revisions("app", &[(1, 3, 3), (2, 1, 1)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn promote_full_skips_remaining_steps() -> Result<()> {
    let (ns, _c) = setup("canary-full").await?;
    ns.apply(&canary("app", 4, STEPS_WITH_PAUSES, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    ns.patch_rollout("app", true, r#"{"status":{"promoteFull":true}}"#)?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 4, 4)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn new_template_mid_update_keeps_stable_and_discards_the_intermediate() -> Result<()> {
    let (ns, _c) = setup("canary-v3").await?;
    ns.apply(&canary("app", 4, STEPS_WITH_PAUSES, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    ns.set_image("app", "registry.example/app:3")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    // V1 stays stable, V2 goes away, V3 is the canary at the first step's weight. 20% of 4 is
    // best approximated with the surge pod: 1 canary next to 4 stable (20%) beats 1 of 4 (25%).
    ns.wait_for_revisions("app", &[(1, 4, 4), (2, 0, 0), (3, 1, 1)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn rollback_to_stable_skips_the_steps() -> Result<()> {
    let (ns, _c) = setup("canary-rollback").await?;
    ns.apply(&canary("app", 4, STEPS_WITH_PAUSES, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    ns.set_image("app", "registry.example/app:1")?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    assert_eq!(status_of(&ro).current_step_index, Some(4));
    // The stable ReplicaSet is reused (its revision bumped), the canary scaled away.
    ns.wait_for_revisions("app", &[(2, 0, 0), (3, 4, 4)])
        .await?;
    let reasons = ns.event_reasons("app")?;
    assert!(reasons.iter().any(|r| r == "SkipSteps"), "{reasons:?}");
    Ok(())
}

#[tokio::test]
async fn scale_change_while_paused_keeps_the_weight() -> Result<()> {
    let (ns, _c) = setup("canary-scale").await?;
    ns.apply(&canary("app", 4, STEPS_WITH_PAUSES, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    ns.patch_rollout("app", false, r#"{"spec":{"replicas":10}}"#)?;
    ns.wait_for_revisions("app", &[(1, 8, 8), (2, 2, 2)])
        .await?;
    ns.wait_for_step("app", 1, "Paused").await?;
    Ok(())
}

fn never_ready_patch() -> &'static str {
    r#"{"spec":{"template":{"metadata":{"labels":{"e2e.argoproj.io/never-ready":"true"}}}}}"#
}

#[tokio::test]
async fn pods_that_never_become_ready_exceed_the_progress_deadline() -> Result<()> {
    let (ns, _c) = setup("canary-deadline").await?;
    let manifest = canary(
        "app",
        2,
        "        - setWeight: 50\n        - pause: {}\n",
        "",
    )
    .replace(
        "  revisionHistoryLimit: 3",
        "  revisionHistoryLimit: 3\n  progressDeadlineSeconds: 10",
    );
    ns.apply(&manifest)?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.patch_rollout("app", false, never_ready_patch())?;
    let ro = ns.wait_for_phase("app", "Degraded").await?;
    let message = status_of(&ro).message.unwrap_or_default();
    assert!(
        message.starts_with("ProgressDeadlineExceeded: ReplicaSet \"app-"),
        "{message}"
    );
    assert!(
        message.ends_with("\" has timed out progressing."),
        "{message}"
    );
    // Without progressDeadlineAbort the canary stays where it is; the stable keeps full capacity
    // because the unready canary leaves no room under maxUnavailable.
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 1, 0)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn progress_deadline_abort_returns_to_stable() -> Result<()> {
    let (ns, _c) = setup("canary-deadline-abort").await?;
    let manifest = canary(
        "app",
        2,
        "        - setWeight: 50\n        - pause: {}\n",
        "",
    )
    .replace(
        "  revisionHistoryLimit: 3",
        "  revisionHistoryLimit: 3\n  progressDeadlineSeconds: 10\n  progressDeadlineAbort: true",
    );
    ns.apply(&manifest)?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.patch_rollout("app", false, never_ready_patch())?;
    ns.wait_for("rollout aborted after the deadline", WAIT, || async {
        let s = status_of(&ns.rollout("app").await?);
        let msg = s.message.unwrap_or_default();
        Ok(
            (s.abort == Some(true)
                && msg == "RolloutAborted: Rollout aborted update to revision 2")
                .then_some(()),
        )
    })
    .await?;
    ns.wait_for_revisions("app", &[(1, 2, 2), (2, 0, 0)])
        .await?;
    Ok(())
}

#[tokio::test]
async fn max_surge_and_max_unavailable_hold_through_an_update() -> Result<()> {
    let (ns, _c) = setup("canary-surge").await?;
    // maxSurge 1, maxUnavailable 1 on 6 replicas: at most 7 pods specified, at least 5 available.
    let manifest = canary(
        "app",
        6,
        "        - setWeight: 50\n",
        "      maxSurge: 1\n      maxUnavailable: 1\n",
    );
    ns.apply(&manifest)?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    let mut samples = 0;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let revs = ns.revisions("app").await?;
        let spec: i32 = revs.iter().map(|r| r.1).sum();
        let available: i32 = revs.iter().map(|r| r.2).sum();
        assert!(spec <= 7, "maxSurge exceeded: {revs:?}");
        assert!(available >= 5, "maxUnavailable exceeded: {revs:?}");
        samples += 1;
        let ro = ns.rollout("app").await?;
        let s = status_of(&ro);
        if s.phase.as_ref().map(|p| p.to_string()).as_deref() == Some("Healthy")
            && s.stable_rs == s.current_pod_hash
            && revs == [(1, 0, 0), (2, 6, 6)]
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "update did not finish: {revs:?}\n{}",
            ns.dump()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(samples > 3, "too few samples to say anything ({samples})");
    Ok(())
}

#[tokio::test]
async fn invalid_spec_degrades_and_recovers_when_fixed() -> Result<()> {
    let (ns, _c) = setup("canary-invalid").await?;
    ns.apply(&canary("app", 1, "        - setWeight: 200\n", ""))?;
    let ro = ns.wait_for_phase("app", "Degraded").await?;
    assert_eq!(
        status_of(&ro).message.as_deref(),
        Some(
            "InvalidSpec: The Rollout \"app\" is invalid: spec.strategy.steps[0].setWeight: Invalid value: 200: SetWeight needs to be between 0 and 100"
        )
    );
    // Another rollout in the namespace is served meanwhile.
    ns.apply(&canary("other", 1, "        - setWeight: 20\n", ""))?;
    ns.wait_for_phase("other", "Healthy").await?;
    ns.patch_rollout(
        "app",
        false,
        r#"{"spec":{"strategy":{"canary":{"steps":[{"setWeight":20}]}}}}"#,
    )?;
    ns.wait_for_phase("app", "Healthy").await?;
    Ok(())
}

#[tokio::test]
async fn controller_killed_mid_update_resumes_without_extra_replica_sets() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("canary-sigkill").await?;
    let mut controller = ControllerProcess::for_namespace(&ns)?;
    ns.apply(&canary("app", 4, "        - setWeight: 25\n        - pause: {duration: 2s}\n        - setWeight: 75\n        - pause: {duration: 2s}\n", ""))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    for delay_ms in [150, 700, 1500] {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        controller.kill();
        controller = ControllerProcess::for_namespace(&ns)?;
    }
    ns.wait_for_phase("app", "Healthy").await?;
    // Exactly one ReplicaSet per revision.
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 4, 4)])
        .await?;
    drop(controller);
    Ok(())
}

/// A Rollout deleted with `--cascade=orphan` and applied again (as when a Deployment is replaced
/// by a Rollout without downtime): the new object adopts the ReplicaSet left behind instead of
/// creating another one, and keeps serving from it.
#[tokio::test]
async fn orphaned_replica_sets_are_adopted_by_a_recreated_rollout() -> Result<()> {
    let (ns, _c) = setup("canary-adopt").await?;
    let manifest = canary("app", 3, STEPS_WITH_PAUSES, "");
    ns.apply(&manifest)?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.wait_for_revisions("app", &[(1, 3, 3)]).await?;
    let before = ns.replica_sets().list(&Default::default()).await?.items;
    let old_uid = ns.rollout("app").await?.metadata.uid.unwrap();

    let out = e2e::kubectl(
        &[
            "delete",
            "rollouts.argoproj.io",
            "app",
            "-n",
            &ns.name,
            "--cascade=orphan",
            "--wait",
        ],
        None,
    )?;
    anyhow::ensure!(out.code == 0, "kubectl delete: {}", out.stderr);
    ns.apply(&manifest)?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let new_uid = ro.metadata.uid.clone().unwrap();
    assert_ne!(old_uid, new_uid);

    // The same ReplicaSet (same uid), now controlled by the new Rollout; no second one.
    let after = ns.replica_sets().list(&Default::default()).await?.items;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].metadata.uid, before[0].metadata.uid);
    let owner = after[0]
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .expect("a controller reference");
    assert_eq!(owner.uid, new_uid);
    ns.wait_for_revisions("app", &[(1, 3, 3)]).await?;

    // And it rolls forward from there as usual.
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    Ok(())
}
