//! Leader election end to end: two real controller processes with leader election on (the
//! default, as deployed with 2 replicas) compete for the Lease `argo-rollouts-controller-lock` in
//! their namespace (POD_NAMESPACE), with distinct HOSTNAMEs for their identities and the default
//! timings (15 s lease, 10 s renew deadline, 2 s retry period).
//!
//! - Exactly one holds the Lease and only that one reconciles; when it is SIGKILLed in the middle
//!   of a canary with timed pauses, the standby takes over once the Lease expires (never earlier,
//!   at most a retry period later) and finishes the rollout: Healthy, one ReplicaSet per revision.
//! - A leader whose Lease is taken away stops at once (the process exits) instead of writing on.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use e2e::{ControllerProcess, TestNamespace, install_crds, rollout::canary, run_dir};
use k8s_openapi::{
    api::coordination::v1::Lease,
    apimachinery::pkg::apis::meta::v1::MicroTime,
    jiff::{SignedDuration, Timestamp},
};
use kube::{Api, api::PostParams};

const LEASE: &str = "argo-rollouts-controller-lock";
/// The flags' defaults (src/main.rs), not overridden here.
const LEASE_DURATION: Duration = Duration::from_secs(15);
const RETRY_PERIOD: Duration = Duration::from_secs(2);
/// Polling and process start-up slack on top of the theoretical bounds.
const MARGIN: Duration = Duration::from_secs(1);

fn admin_kubeconfig() -> String {
    std::env::var("KUBECONFIG")
        .unwrap_or_else(|_| run_dir().join("kubeconfig").display().to_string())
}

/// A controller for `ns` with leader election at its defaults; its identity starts with `host_`.
fn start(ns: &TestNamespace, host: &str) -> Result<ControllerProcess> {
    ControllerProcess::start_exact(
        &format!("{}-{host}", ns.name),
        &[
            "--kubeconfig",
            &admin_kubeconfig(),
            "--namespaced",
            "--metricsPort",
            "0",
            "--healthzPort",
            "0",
        ],
        &[("POD_NAMESPACE", ns.name.as_str()), ("HOSTNAME", host)],
    )
}

fn leases(ns: &TestNamespace) -> Api<Lease> {
    Api::namespaced(ns.client.clone(), &ns.name)
}

struct LeaseState {
    holder: String,
    acquired: Option<Timestamp>,
    renewed: Option<Timestamp>,
    transitions: i32,
    duration_s: i32,
}

async fn lease(ns: &TestNamespace) -> Result<Option<LeaseState>> {
    Ok(leases(ns).get_opt(LEASE).await?.map(|l| {
        let s = l.spec.unwrap_or_default();
        LeaseState {
            holder: s.holder_identity.unwrap_or_default(),
            acquired: s.acquire_time.map(|t| t.0),
            renewed: s.renew_time.map(|t| t.0),
            transitions: s.lease_transitions.unwrap_or(0),
            duration_s: s.lease_duration_seconds.unwrap_or(0),
        }
    }))
}

/// Waits until the Lease is held by an identity starting with one of `hosts`, polling every
/// 100 ms; returns the holder's host.
async fn wait_for_holder(
    ns: &TestNamespace,
    hosts: &[&str],
    timeout: Duration,
) -> Result<(String, LeaseState)> {
    let owned: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    ns.wait_for(&format!("Lease held by one of {hosts:?}"), timeout, || {
        let owned = owned.clone();
        async move {
            let Some(l) = lease(ns).await? else {
                return Ok(None);
            };
            Ok(owned
                .iter()
                .find(|h| l.holder.starts_with(&format!("{h}_")))
                .cloned()
                .map(|h| (h, l)))
        }
    })
    .await
}

fn reconciles(c: &ControllerProcess) -> usize {
    c.log_text().matches("Reconciliation completed").count()
}

const TIMED_STEPS: &str = "        - setWeight: 25
        - pause: {duration: 5s}
        - setWeight: 50
        - pause: {duration: 5s}
        - setWeight: 75
        - pause: {duration: 5s}
";

#[tokio::test]
async fn standby_takes_over_a_killed_leader_mid_rollout() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("leader-takeover").await?;
    // Both at once: they race for the Lease's creation; exactly one may win.
    let mut a = start(&ns, "leader-a")?;
    let mut b = start(&ns, "leader-b")?;
    let (first, l0) =
        wait_for_holder(&ns, &["leader-a", "leader-b"], Duration::from_secs(30)).await?;
    assert_eq!(l0.duration_s, LEASE_DURATION.as_secs() as i32);
    // A few retry periods later: still the same holder, and only it says it leads.
    tokio::time::sleep(RETRY_PERIOD * 2 + MARGIN).await;
    let l1 = lease(&ns).await?.context("Lease gone")?;
    assert_eq!(
        l1.holder, l0.holder,
        "the Lease changed hands without a failure"
    );
    ensure!(
        l1.renewed > l0.renewed,
        "the holder does not renew the Lease"
    );
    let (leader, standby, standby_host) = if first == "leader-a" {
        (&mut a, &mut b, "leader-b")
    } else {
        (&mut b, &mut a, "leader-a")
    };
    ensure!(
        leader.log_text().contains("became leader"),
        "{}",
        leader.log_text()
    );
    ensure!(
        !standby.log_text().contains("became leader"),
        "two leaders:\n{}",
        standby.log_text()
    );
    ensure!(
        standby
            .log_text()
            .contains("waiting for the lease held by another instance"),
        "{}",
        standby.log_text()
    );

    // A canary with timed pauses; only the leader reconciles it.
    ns.apply(&canary("app", 4, TIMED_STEPS, ""))?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    ensure!(reconciles(leader) > 0, "the leader did not reconcile");
    assert_eq!(
        reconciles(standby),
        0,
        "the standby reconciled:\n{}",
        standby.log_text()
    );

    // SIGKILL mid-rollout (at the first timed pause); the standby takes over after the Lease
    // expires: not before (safety), and at most a retry period after (liveness).
    leader.kill();
    let killed = Instant::now();
    let before = lease(&ns).await?.context("Lease gone")?;
    let last_renewal = before.renewed.context("no renewTime")?;
    let (_, after) = wait_for_holder(&ns, &[standby_host], LEASE_DURATION * 2).await?;
    let takeover = killed.elapsed();
    let expiry = last_renewal + SignedDuration::try_from(LEASE_DURATION)?;
    let acquired = after.acquired.context("no acquireTime")?;
    let expiry_after_kill =
        expiry.duration_since(Timestamp::now()).as_secs_f64() + takeover.as_secs_f64();
    eprintln!(
        "leader killed: Lease expired {expiry_after_kill:.2}s after the kill; {standby_host} took over \
         {:.2}s after the kill (acquireTime {:.2}s after expiry)",
        takeover.as_secs_f64(),
        acquired.duration_since(expiry).as_secs_f64()
    );
    ensure!(
        acquired >= expiry,
        "the standby took a live Lease: acquired {acquired}, the old one expired {expiry}"
    );
    ensure!(
        takeover <= LEASE_DURATION + RETRY_PERIOD + MARGIN,
        "takeover took {takeover:?}, more than the lease duration {LEASE_DURATION:?} + retry period \
         {RETRY_PERIOD:?} + {MARGIN:?}"
    );
    assert_eq!(
        after.transitions,
        before.transitions + 1,
        "leaseTransitions"
    );
    ensure!(
        standby.log_text().contains("became leader"),
        "{}",
        standby.log_text()
    );

    // The new leader finishes the rollout correctly.
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let s = ro.status.clone().unwrap_or_default();
    assert_eq!(s.current_step_index, Some(6));
    assert_eq!(s.stable_rs, s.current_pod_hash);
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 4, 4)])
        .await?;
    ensure!(reconciles(standby) > 0, "the new leader did not reconcile");
    // Repeated identical events are one Event with a count (per process), so count the counts.
    let resumed = e2e::kubectl(
        &[
            "get",
            "events",
            "-n",
            &ns.name,
            "--field-selector",
            "involvedObject.name=app,reason=RolloutResumed",
            "-o",
            "jsonpath={range .items[*]}{.count}{\"\\n\"}{end}",
        ],
        None,
    )?;
    let resumed: i32 = resumed
        .stdout
        .lines()
        .filter_map(|c| c.parse::<i32>().ok())
        .sum();
    ensure!(
        resumed >= 3,
        "every timed pause ends with RolloutResumed, got {resumed}: {:?}",
        ns.event_reasons("app")?
    );
    Ok(())
}

#[tokio::test]
async fn a_leader_that_loses_its_lease_stops_at_once() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("leader-lost").await?;
    let a = start(&ns, "leader-a")?;
    wait_for_holder(&ns, &["leader-a"], Duration::from_secs(30)).await?;
    let b = start(&ns, "leader-b")?;
    ns.wait_for("leader-b waiting", Duration::from_secs(30), || async {
        Ok(b.log_text().contains("waiting for the lease").then_some(()))
    })
    .await?;

    // Someone else takes the Lease (as a partitioned leader would find after the fact).
    let api = leases(&ns);
    let mut l = api.get(LEASE).await?;
    let spec = l.spec.as_mut().context("no spec")?;
    spec.holder_identity = Some("intruder".into());
    spec.renew_time = Some(MicroTime(Timestamp::now()));
    api.replace(LEASE, &PostParams::default(), &l).await?;
    let taken = Instant::now();

    // leader-a notices at its next renewal and exits: no writer outlives its leadership.
    ns.wait_for("leader-a exits", RETRY_PERIOD * 2 + MARGIN, || async {
        Ok(a.log_text().contains("leadership lost").then_some(()))
    })
    .await?;
    let noticed = taken.elapsed();
    ensure!(
        noticed <= RETRY_PERIOD + Duration::from_secs(1) + MARGIN,
        "leader-a kept leading {noticed:?} after losing the Lease"
    );
    // leader-b respects the intruder's live Lease, then takes it when it expires.
    let (_, after) = wait_for_holder(&ns, &["leader-b"], LEASE_DURATION * 2).await?;
    let waited = taken.elapsed();
    eprintln!(
        "lease taken away: leader-a stopped after {:.2}s, leader-b took over after {:.2}s",
        noticed.as_secs_f64(),
        waited.as_secs_f64()
    );
    ensure!(
        waited >= LEASE_DURATION - MARGIN,
        "leader-b took a live Lease after {waited:?}"
    );
    ensure!(
        waited <= LEASE_DURATION + RETRY_PERIOD + MARGIN,
        "{waited:?}"
    );
    ensure!(after.holder.starts_with("leader-b_"));
    Ok(())
}
