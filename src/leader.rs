//! Leader election on a `coordination.k8s.io/v1` Lease, as Argo Rollouts does it
//! (`argo-rollouts-controller-lock`, 15 s lease, 10 s renew deadline, 2 s retry period).
//!
//! Safety rule: at most one writer. The lease is renewed on its own task, so a busy reconcile
//! cannot starve it; when a renewal has not succeeded within the renew deadline (well before the
//! lease expires for others), leadership is considered lost and the returned future resolves, so
//! the caller stops every writer before another instance can take over.

use std::time::Duration;

use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::MicroTime,
    jiff::{SignedDuration, Timestamp},
};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use tracing::{info, warn};

/// The Lease name Argo Rollouts v1.9.1 uses.
pub const LEASE_NAME: &str = "argo-rollouts-controller-lock";

#[derive(Clone, Debug)]
pub struct LeaseSettings {
    pub namespace: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

/// What to do with a Lease we read, given who we are and the time.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// We hold it: renew.
    Renew,
    /// Free or expired: take it over.
    Acquire,
    /// Someone else holds a live lease.
    Wait { holder: String },
}

/// Pure decision on a Lease (tested without a cluster).
pub fn decide(lease: &Lease, identity: &str, now: Timestamp) -> Decision {
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.unwrap_or_default();
    if holder == identity {
        return Decision::Renew;
    }
    if holder.is_empty() {
        return Decision::Acquire;
    }
    let duration = SignedDuration::from_secs(spec.lease_duration_seconds.unwrap_or(15).into());
    match spec.renew_time.or(spec.acquire_time) {
        Some(renewed) if renewed.0 + duration > now => Decision::Wait { holder },
        _ => Decision::Acquire,
    }
}

fn lease_spec(
    settings: &LeaseSettings,
    previous: Option<&LeaseSpec>,
    acquiring: bool,
) -> LeaseSpec {
    let now = MicroTime(Timestamp::now());
    let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(settings.identity.clone()),
        lease_duration_seconds: Some(settings.lease_duration.as_secs() as i32),
        acquire_time: if acquiring {
            Some(now.clone())
        } else {
            previous.and_then(|p| p.acquire_time.clone())
        },
        renew_time: Some(now),
        lease_transitions: Some(if acquiring && previous.is_some() {
            transitions + 1
        } else {
            transitions
        }),
        ..Default::default()
    }
}

/// One attempt to acquire or renew. `Ok(true)` when we hold the lease afterwards.
async fn try_hold(api: &Api<Lease>, settings: &LeaseSettings) -> Result<bool, kube::Error> {
    let pp = PostParams::default();
    match api.get_opt(LEASE_NAME).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(LEASE_NAME.into()),
                    ..Default::default()
                },
                spec: Some(lease_spec(settings, None, true)),
            };
            match api.create(&pp, &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => {
            let decision = decide(&lease, &settings.identity, Timestamp::now());
            let acquiring = match decision {
                Decision::Renew => false,
                Decision::Acquire => true,
                Decision::Wait { .. } => return Ok(false),
            };
            lease.spec = Some(lease_spec(settings, lease.spec.as_ref(), acquiring));
            // resourceVersion is kept, so a concurrent taker makes this fail with a conflict.
            match api.replace(LEASE_NAME, &pp, &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
    }
}

/// Blocks until this instance holds the lease.
pub async fn acquire(client: &Client, settings: &LeaseSettings) {
    let api: Api<Lease> = Api::namespaced(client.clone(), &settings.namespace);
    let mut logged_holder = None;
    loop {
        match try_hold(&api, settings).await {
            Ok(true) => {
                info!(lease = LEASE_NAME, namespace = %settings.namespace, identity = %settings.identity, "became leader");
                return;
            }
            Ok(false) => {
                if let Ok(Some(lease)) = api.get_opt(LEASE_NAME).await {
                    let holder = lease.spec.and_then(|s| s.holder_identity);
                    if holder != logged_holder {
                        info!(?holder, "waiting for the lease held by another instance");
                        logged_holder = holder;
                    }
                }
            }
            Err(e) => {
                warn!(error = %e, namespace = %settings.namespace, "cannot acquire the lease (retrying)")
            }
        }
        tokio::time::sleep(settings.retry_period).await;
    }
}

/// Renews the lease every retry period; resolves when leadership is lost (no successful renewal
/// within the renew deadline, or another holder took the lease).
pub async fn hold(client: Client, settings: LeaseSettings) {
    let api: Api<Lease> = Api::namespaced(client, &settings.namespace);
    let mut last_renewal = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(settings.retry_period).await;
        let attempt = tokio::time::timeout(
            settings.retry_period.max(Duration::from_secs(1)),
            try_hold(&api, &settings),
        )
        .await;
        match attempt {
            Ok(Ok(true)) => last_renewal = tokio::time::Instant::now(),
            Ok(Ok(false)) => {
                warn!("the lease was taken by another instance");
                return;
            }
            Ok(Err(e)) => warn!(error = %e, "lease renewal failed"),
            Err(_) => warn!("lease renewal timed out"),
        }
        if last_renewal.elapsed() > settings.renew_deadline {
            warn!(deadline = ?settings.renew_deadline, "no lease renewal within the renew deadline");
            return;
        }
    }
}

/// Gives the Lease up after a graceful shutdown (client-go's ReleaseOnCancel), so a standby takes
/// over at its next retry instead of waiting out the lease duration. Best effort.
pub async fn release(client: &Client, settings: &LeaseSettings) {
    let api: Api<Lease> = Api::namespaced(client.clone(), &settings.namespace);
    let Ok(Some(mut lease)) = api.get_opt(LEASE_NAME).await else {
        return;
    };
    let mut spec = lease.spec.clone().unwrap_or_default();
    if spec.holder_identity.as_deref() != Some(settings.identity.as_str()) {
        return;
    }
    spec.holder_identity = None;
    spec.lease_duration_seconds = Some(1);
    spec.renew_time = Some(MicroTime(Timestamp::now()));
    lease.spec = Some(spec);
    match api
        .replace(LEASE_NAME, &PostParams::default(), &lease)
        .await
    {
        Ok(_) => info!(lease = LEASE_NAME, "released the lease"),
        Err(e) => warn!(error = %e, "cannot release the lease"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, renewed_secs_ago: i64) -> Lease {
        Lease {
            metadata: Default::default(),
            spec: Some(LeaseSpec {
                holder_identity: (!holder.is_empty()).then(|| holder.to_string()),
                lease_duration_seconds: Some(15),
                renew_time: Some(MicroTime(
                    Timestamp::now() - SignedDuration::from_secs(renewed_secs_ago),
                )),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_live_lease_of_another_instance_is_respected() {
        assert_eq!(
            decide(&lease("b", 3), "a", Timestamp::now()),
            Decision::Wait { holder: "b".into() }
        );
    }

    #[test]
    fn an_expired_or_free_lease_is_taken() {
        assert_eq!(
            decide(&lease("b", 16), "a", Timestamp::now()),
            Decision::Acquire
        );
        assert_eq!(
            decide(&lease("", 1), "a", Timestamp::now()),
            Decision::Acquire
        );
    }

    #[test]
    fn our_own_lease_is_renewed() {
        assert_eq!(
            decide(&lease("a", 3), "a", Timestamp::now()),
            Decision::Renew
        );
    }
}
