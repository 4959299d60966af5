//! The blue-green strategy of one reconcile (Argo's `rollout/bluegreen.go`, the blue-green
//! parts of `service.go`, `replicaset.go`, `sync.go` and `pause.go`, and
//! `utils/replicaset/bluegreen.go`).
//!
//! Two Services carry the traffic: the **active** Service (production) and, optionally, the
//! **preview** Service. An update runs like this:
//!
//! 1. The preview Service is pointed at the new ReplicaSet at once, with no availability check
//!    (unless `spec.paused` or an inconclusive-analysis pause holds progress back).
//! 2. Template changed (including the first reconcile after an update): reset the status (pauses,
//!    abort, promoteFull, preview checkpoint cleared) and persist only that.
//! 3. Pod restarts (`spec.restartAt`); unlike the canary, the reconcile carries on whatever was
//!    evicted.
//! 4. ReplicaSets, all in the same reconcile (blue-green scaling is not held by `spec.paused`):
//!    the stable one to `spec.replicas`, the new one to `spec.replicas` or `previewReplicaCount`
//!    (held up, then scaled to 0 after `abortScaleDownDelaySeconds` on abort), the others down
//!    after their `scale-down-deadline` (`scaleDownDelaySeconds`, `scaleDownDelayRevisionLimit`),
//!    then the revision history.
//! 5. Once the new ReplicaSet is ready, the `BlueGreenPause` (with `autoPromotionEnabled: false`
//!    or `autoPromotionSeconds`), unless the update is fast-tracked.
//! 6. Once it is saturated and the pause is over, the active Service is switched to it (back to
//!    the stable ReplicaSet on abort).
//! 7. Ephemeral metadata: `previewMetadata` on the new ReplicaSet and its pods while it is not
//!    yet the stable one, `activeMetadata` on the stable (or the promoted new) one.
//! 8. Status: the selectors read back from the Services, full promotion (`stableRS`), the preview
//!    checkpoint, the counts of the active ReplicaSet, conditions, phase, one merge patch.
//!
//! Pre- and post-promotion analysis ([`crate::reconcile::analysis`]) run after the active
//! Service step: the pre-promotion run gates the pause and the switch, the post-promotion run
//! gates the promotion and (without `scaleDownDelaySeconds`) the scale-down of the old stack;
//! a failed run aborts, an inconclusive one pauses.

mod pause;
mod replicas;
mod services;
mod status;

#[cfg(test)]
mod tests;

use self::services::Services;
use crate::reconcile::Ctx;

/// Argo's `rolloutBlueGreen`.
pub(crate) fn rollout_blue_green(c: &mut Ctx) {
    // Both Services passed the validation gate; should one vanish in between, Argo fails the
    // reconcile on the lookup, and so does this: nothing is written.
    let Some(mut services) = Services::observe(c) else {
        return;
    };
    c.sync_replica_set_revision();
    services.reconcile_preview(c);
    if pod_spec_changed(c) {
        status::sync_rollout_status(c, &services);
        return;
    }
    // Blue-green carries on whatever the restarter evicted.
    c.reconcile_pod_restarts();
    replicas::reconcile_replica_sets(c, &services);
    pause::reconcile_pause(c, &services);
    services.reconcile_active(c);
    if let Err(error) = c.reconcile_analysis_runs() {
        c.plan.error = Some(error);
        return;
    }
    c.reconcile_ephemeral_metadata();
    status::sync_rollout_status(c, &services);
}

/// Argo's `syncReplicasOnly`, blue-green part: rescale (the same ReplicaSet logic as a full
/// reconcile, never held by `spec.paused`) and refresh the counts of the persisted status from
/// the active ReplicaSet; no Service, pause or promotion logic.
pub(crate) fn sync_replicas_only(c: &mut Ctx) {
    let Some(services) = Services::observe(c) else {
        return;
    };
    let mut new_status = c.status().clone();
    replicas::reconcile_replica_sets(c, &services);
    let active = new_status
        .blue_green
        .as_ref()
        .and_then(|bg| bg.active_selector.clone())
        .unwrap_or_default();
    match c.replica_set_by_hash(&active) {
        Some(i) => {
            let rs = c.rs(i);
            new_status.hpa_replicas = Some(crate::reconcile::status_replicas(rs));
            new_status.available_replicas = Some(crate::reconcile::available(rs));
        }
        None => {
            new_status.hpa_replicas = Some(c.sum_status_replicas());
            new_status.available_replicas =
                Some(c.all_rss().map(crate::reconcile::available).sum());
        }
    }
    c.persist_rollout_status(new_status);
}

/// Argo's `CheckPodSpecChange`: a recorded `currentPodHash` that is not the new ReplicaSet's.
fn pod_spec_changed(c: &Ctx) -> bool {
    let recorded = crate::reconcile::text(&c.status().current_pod_hash);
    !recorded.is_empty() && recorded != c.current_pod_hash()
}
