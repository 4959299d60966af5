//! Blue-green ReplicaSet sizes (Argo's `reconcileBlueGreenReplicaSets`, the blue-green branch
//! of `NewRSNewReplicas`, `ReadyForPause`, `reconcileNewReplicaSet` with its abort delay,
//! `scaleDownOldReplicaSetsForBlueGreen` and `scaleDownDelayHelper`).
//!
//! Every decision reads the ReplicaSets as observed (Argo keeps using the objects it listed
//! while it writes new versions of them); writes go through the context, which folds several
//! writes of one ReplicaSet into one update.

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::{pause::scale_up_preview_check_point, services::Services};
use crate::{
    crd::{PauseReason, rollout::keys},
    reconcile::{Ctx, annotation, available, is_active, name, pause_condition, pod_hash, text},
    replicaset::rs,
};

/// Argo's `NewRSNewReplicas` for blue-green: `spec.replicas`, except that with
/// `previewReplicaCount` the new ReplicaSet runs that many pods while it is only previewed: not
/// yet active, no full promotion requested, and not resumed past the preview checkpoint.
pub(super) fn new_rs_new_replicas(c: &Ctx) -> i32 {
    let desired = c.rollout.desired_replicas();
    let Some(preview_count) = c
        .rollout
        .spec
        .strategy
        .blue_green
        .as_ref()
        .and_then(|bg| bg.preview_replica_count)
    else {
        return desired;
    };
    let Some(new_rs) = c.new_rs() else {
        return desired;
    };
    let status = c.status();
    let active_hash = status
        .blue_green
        .as_ref()
        .map_or("", |bg| text(&bg.active_selector));
    let active_is_new = c
        .replica_set_by_hash(active_hash)
        .is_none_or(|i| name(c.rs(i)) == name(new_rs));
    if active_is_new || status.promote_full == Some(true) {
        return desired;
    }
    if pod_hash(new_rs) != text(&status.current_pod_hash) {
        // A new update the status has not recorded yet.
        return preview_count;
    }
    let not_paused = c.rollout.spec.paused != Some(true)
        && status.pause_conditions.as_ref().is_none_or(Vec::is_empty);
    if not_paused && scale_up_preview_check_point(status) {
        // Resumed after the pause, before the active switch.
        return desired;
    }
    preview_count
}

/// Argo's `ReadyForPause`: the new ReplicaSet has (in spec and available pods) exactly the
/// replicas it should have now.
pub(super) fn ready_for_pause(c: &Ctx) -> bool {
    let Some(new_rs) = c.new_rs() else {
        return false;
    };
    let count = new_rs_new_replicas(c);
    rs::spec_replicas(new_rs) == count && available(new_rs) == count
}

/// Argo's `reconcileBlueGreenReplicaSets`: deadlines off the new and stable ReplicaSets, the
/// stable one at `spec.replicas`, the new one at its size, the others down after their delay,
/// then the revision history. Everything happens in one reconcile.
pub(super) fn reconcile_replica_sets(c: &mut Ctx, services: &Services) {
    c.remove_scale_down_deadlines();
    if let Some(s) = c.stable_rs {
        c.scale_replica_set(s, c.rollout.desired_replicas());
    }
    reconcile_new_replica_set(c);
    reconcile_other_replica_sets(c, services);
    c.reconcile_revision_history_limit();
}

/// Argo's `reconcileNewReplicaSet` for blue-green. On abort (with a stable ReplicaSet and an
/// `abortScaleDownDelaySeconds` other than 0) the new (preview) ReplicaSet is held: it gets a
/// `scale-down-deadline` of now + the delay once the stable ReplicaSet has exactly
/// `spec.replicas` available pods, is kept while the deadline is ahead **and** closer than the
/// resync period (looked at again then), and goes to 0 once it has passed. A deadline further
/// away than the resync period does not hold it (trap 6): it is sized as usual until a later
/// reconcile finds the deadline passed.
fn reconcile_new_replica_set(c: &mut Ctx) {
    let Some(n) = c.new_rs else {
        return;
    };
    let mut count = new_rs_new_replicas(c);
    if c.should_delay_scale_down_on_abort() {
        let deadline = annotation(c.rs(n), keys::SCALE_DOWN_DEADLINE).map(str::to_string);
        match deadline {
            Some(value) => {
                // An unreadable deadline is ignored (Argo logs it) and the size applies.
                if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&value) {
                    let at = at.with_timezone(&chrono::Utc);
                    if at > c.now {
                        if let Ok(remaining) = (at - c.now).to_std()
                            && remaining < c.obs.config.resync
                        {
                            c.plan.requeue(remaining);
                            return;
                        }
                    } else {
                        count = 0;
                    }
                }
            }
            None => {
                let stable_ready = c
                    .stable()
                    .is_some_and(|s| Some(available(s)) == c.rollout.spec.replicas);
                if stable_ready && let Some(delay) = rs::abort_scale_down_delay(&c.rollout).seconds
                {
                    if let Some(change) = rs::add_scale_down_delay(c.rs(n), delay, c.now) {
                        c.change_scale_down_deadline(n, &change);
                    }
                    // Argo looks again when the annotation write comes back through its
                    // informer; scheduling the deadline here does not depend on that.
                    if delay > 0
                        && let Ok(after) = u64::try_from(delay).map(std::time::Duration::from_secs)
                        && after < c.obs.config.resync
                    {
                        c.plan.requeue(after);
                    }
                }
                // Held up until annotated.
                return;
            }
        }
    }
    c.scale_replica_set(n, count);
}

/// Argo's `reconcileOtherReplicaSets` for blue-green: the scaled-up ReplicaSets that are
/// neither new nor stable.
fn reconcile_other_replica_sets(c: &mut Ctx, services: &Services) {
    let others: Vec<usize> = c
        .other_rss
        .iter()
        .copied()
        .filter(|&i| is_active(c.rs(i)))
        .collect();
    if others.is_empty() {
        return;
    }
    scale_down_old_replica_sets(c, others, services);
}

/// Argo's `scaleDownOldReplicaSetsForBlueGreen`: newest revision first, skipping ReplicaSets
/// still referenced (status selectors and hashes, or the Services' live selectors), each old
/// ReplicaSet gets a `scale-down-deadline` of now + `scaleDownDelaySeconds` (the rollout is
/// looked at again then) and goes to 0 once it has passed; beyond `scaleDownDelayRevisionLimit`
/// waiting ReplicaSets the rest go to 0 at once. Nothing moves while an inconclusive analysis
/// holds the rollout paused. (`scaleDownDelaySeconds: 0` never annotates and never scales down,
/// as in v1.9.1: upstream issue #1992.)
fn scale_down_old_replica_sets(c: &mut Ctx, mut others: Vec<usize>, services: &Services) {
    if pause_condition(c.status(), &PauseReason::InconclusiveAnalysis).is_some() {
        return;
    }
    // Without an explicit scaleDownDelaySeconds, a post-promotion analysis that started (or is
    // about to) keeps the old stack up until it succeeds.
    let bg = c.rollout.spec.strategy.blue_green.as_ref();
    let current_post = c.current_ars.post.as_deref();
    if bg.is_some_and(|b| {
        b.post_promotion_analysis.is_some() && b.scale_down_delay_seconds.is_none()
    }) && !c.skip_post_promotion_analysis_run(current_post)
        && !crate::reconcile::analysis::succeeded(current_post)
    {
        return;
    }
    others = {
        let mut sorted: Vec<&ReplicaSet> = others.iter().map(|&i| c.rs(i)).collect();
        rs::sort_by_revision(&mut sorted);
        sorted
            .into_iter()
            .rev()
            .filter_map(|r| c.all_rss().position(|x| std::ptr::eq(x, r)))
            .collect()
    };
    let live = services.live_hashes();
    let replicas = c.rollout.desired_replicas();
    let mut annotated = 0;
    for i in others {
        let target = c.rss[i].clone();
        if rs::is_replica_set_referenced(&c.rollout, &target, &live) {
            continue;
        }
        let current = rs::spec_replicas(&target);
        if current == 0 {
            continue;
        }
        let decision = rs::scale_down_delay_helper(
            &c.rollout,
            &target,
            annotated,
            replicas,
            c.now,
            c.obs.config.resync,
        );
        annotated = decision.annotated;
        if let Some(change) = &decision.deadline {
            c.change_scale_down_deadline(i, change);
        }
        if let Some(after) = decision.requeue_after {
            c.plan.requeue(after);
        }
        if current == decision.desired_replicas {
            continue;
        }
        c.scale_replica_set(i, decision.desired_replicas);
    }
}
