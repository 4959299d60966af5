//! The pure planner of one Rollout reconcile: [`plan`] maps an [`Observed`] snapshot to the
//! [`Plan`] Argo Rollouts v1.9.1 would carry out for it (`rollout/controller.go` `syncHandler` and
//! `newRolloutContext`, `context.go` `reconcile`, `sync.go`, `replicaset.go`, `service.go`,
//! `restart.go`, `pause.go`; the strategies themselves are in [`crate::canary::plan`] and
//! [`crate::bluegreen`]).
//!
//! One reconcile, in Argo's order:
//!
//! 1. A rollout being deleted is left alone.
//! 2. The ReplicaSets are classified as new (matches the current template), stable
//!    (`status.stableRS`) and others.
//! 3. The spec is validated (plus the features this controller cannot run yet, and the
//!    referenced Services); the first error becomes the `InvalidSpec` condition and nothing else
//!    happens (look again in 20 s).
//! 4. Without a new ReplicaSet one is created with 0 replicas (revision annotation, events,
//!    Progressing `NewReplicaSetCreated`) and planning **continues** with it, as Argo does.
//! 5. `spec.replicas` unset: write 1 and stop (the HPA needs a value).
//! 6. `checkPausedConditions` writes the Progressing/Paused conditions at once if they changed.
//! 7. A scaling event (the desired-replicas annotation differs from `spec.replicas`) only
//!    rescales; otherwise the strategy runs (blue-green or canary).
//!
//! Writes are only planned, never performed: the executor applies [`Plan::items`] in order and
//! stops at the first failure, and every status change is a merge patch against the status as
//! observed, so a plan that is cut short leaves nothing inconsistent behind.

pub(crate) mod analysis;
pub mod claim;
mod ephemeral;
mod hashing;
mod pause;
mod replicasets;
mod restart;
mod service;
mod status;
mod validate;

#[cfg(test)]
pub(crate) mod tests;

use std::{
    borrow::Cow,
    cell::OnceCell,
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::ReplicaSet;
use serde_json::json;

pub use validate::{NOT_SUPPORTED_YET, unsupported_feature};

pub(crate) use self::pause::{
    PauseContext, completed_canary_pause_step, pause_condition, pause_end,
};
pub(crate) use self::replicasets::{
    annotation, available, has_scale_down_deadline, is_active, name, parse_revision, pod_hash,
    ready, spec_replicas, status_replicas,
};
pub(crate) use self::status::{canary_mut, text};
use crate::{
    crd::{AnalysisRun, CanaryStatus, Rollout, RolloutStatus, rollout::keys},
    plan::{Action, Observed, Plan},
    status::phase::is_fully_promoted,
};

/// How often a rollout with an invalid spec is looked at again: the error may be timing related
/// (a Service applied after the Rollout), so Argo retries every 20 s.
pub const INVALID_SPEC_REQUEUE: Duration = Duration::from_secs(20);

/// Plans one reconcile of `observed.rollout`. Pure: same snapshot, same plan.
pub fn plan(observed: &Observed) -> Plan {
    if observed.rollout.metadata.deletion_timestamp.is_some() {
        return Plan::default();
    }
    let mut ctx = Ctx::new(observed);
    ctx.reconcile();
    ctx.plan
}

/// The state of one reconcile (Argo's `rolloutContext`).
pub(crate) struct Ctx<'a> {
    pub(crate) obs: &'a Observed,
    pub(crate) now: DateTime<Utc>,
    /// The rollout as Argo holds it during the reconcile (`c.rollout`): the observed object,
    /// plus the revision annotation and the status written by the ReplicaSet bookkeeping of
    /// this reconcile. Its status is always `Some`; it is the base of every status diff.
    /// Borrowed from the snapshot until this reconcile changes it (most reconciles never do).
    pub(crate) rollout: Cow<'a, Rollout>,
    /// Every ReplicaSet of the rollout (`c.allRSs`), oldest first, then the one planned for
    /// creation. Read-only snapshots (borrowed from the snapshot), except that the new
    /// ReplicaSet follows its revision sync.
    pub(crate) rss: Vec<Cow<'a, ReplicaSet>>,
    pub(crate) new_rs: Option<usize>,
    pub(crate) stable_rs: Option<usize>,
    /// Every ReplicaSet but the new one (`c.olderRSs`, includes the stable one).
    pub(crate) older_rss: Vec<usize>,
    /// Neither new nor stable (`c.otherRSs`).
    pub(crate) other_rss: Vec<usize>,
    /// The status fields carried into the new status (`c.newStatus`): `restartedAt`, the ALB
    /// status and the recorded traffic weights.
    pub(crate) new_status: RolloutStatus,
    pub(crate) pause: PauseContext,
    pub(crate) plan: Plan,
    /// The latest object this plan writes for each ReplicaSet, by name.
    rs_written: BTreeMap<String, ReplicaSet>,
    /// Name of the ReplicaSet this plan creates, if any.
    planned_creation: Option<String>,
    /// `ComputePodTemplateHash` of the template with `collisionCount`, computed once per
    /// reconcile (`None` when Go could not decode the template). Neither input changes during a
    /// reconcile that carries on: a collision bumps `collisionCount` and stops.
    template_hash: Option<String>,
    /// `ComputeStepHash`, computed on first use.
    step_hash: OnceCell<String>,
    /// The AnalysisRuns the status names as current (`c.currentArs`), replaced by the runs of
    /// this reconcile once [`Ctx::reconcile_analysis_runs`] ran.
    pub(crate) current_ars: analysis::CurrentRuns<'a>,
    /// The rollout's other AnalysisRuns (`c.otherArs`).
    pub(crate) other_ars: Vec<&'a AnalysisRun>,
    /// AnalysisRuns this plan cancels or deletes (each once).
    touched_ars: BTreeSet<String>,
    deleted_ars: BTreeSet<String>,
}

impl<'a> Ctx<'a> {
    /// Argo's `newRolloutContext` up to (not including) validation.
    fn new(obs: &'a Observed) -> Self {
        let mut rollout = Cow::Borrowed(&obs.rollout);
        if rollout.status.is_none() {
            rollout.to_mut().status = Some(RolloutStatus::default());
        }
        let status = rollout.status.as_ref().expect("set above");
        let new_status = RolloutStatus {
            restarted_at: status.restarted_at.clone(),
            alb: status.alb.clone(),
            albs: status.albs.clone(),
            canary: Some(CanaryStatus {
                weights: status.canary.as_ref().and_then(|c| c.weights.clone()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let claimed = claim::claim_replica_sets(&rollout, &obs.replica_sets);
        let rss = claimed.replica_sets;
        let template_hash = crate::replicaset::rs::current_pod_hash(&rollout).ok();
        let new_rs = crate::replicaset::rs::find_new_replica_set_with_hash(
            &rollout,
            &rss,
            template_hash.as_deref(),
        );
        let (current_ars, other_ars) = analysis::CurrentRuns::split(
            &obs.analysis_runs,
            rollout.status.as_ref().expect("set above"),
        );
        let mut ctx = Self {
            obs,
            now: obs.now,
            rollout,
            rss,
            new_rs,
            stable_rs: None,
            older_rss: Vec::new(),
            other_rss: Vec::new(),
            new_status,
            pause: PauseContext::default(),
            plan: Plan {
                items: claimed
                    .actions
                    .into_iter()
                    .map(crate::plan::Item::Act)
                    .collect(),
                ..Plan::default()
            },
            rs_written: BTreeMap::new(),
            planned_creation: None,
            template_hash,
            step_hash: OnceCell::new(),
            current_ars,
            other_ars,
            touched_ars: BTreeSet::new(),
            deleted_ars: BTreeSet::new(),
        };
        ctx.classify();
        ctx
    }

    /// The status as Argo holds it (`c.rollout.Status`).
    pub(crate) fn status(&self) -> &RolloutStatus {
        self.rollout.status.as_ref().expect("set in Ctx::new")
    }

    pub(crate) fn status_mut(&mut self) -> &mut RolloutStatus {
        self.rollout
            .to_mut()
            .status
            .get_or_insert_with(RolloutStatus::default)
    }

    pub(crate) fn new_rs(&self) -> Option<&ReplicaSet> {
        self.new_rs.map(|i| &*self.rss[i])
    }

    pub(crate) fn stable(&self) -> Option<&ReplicaSet> {
        self.stable_rs.map(|i| &*self.rss[i])
    }

    /// The ReplicaSet at index `i` of [`Self::rss`].
    pub(crate) fn rs(&self, i: usize) -> &ReplicaSet {
        &self.rss[i]
    }

    /// Every ReplicaSet of [`Self::rss`], in order.
    pub(crate) fn all_rss(&self) -> impl Iterator<Item = &ReplicaSet> + Clone {
        self.rss.iter().map(|rs| &**rs)
    }

    /// `ComputePodTemplateHash` of the current template (`""` if it cannot be hashed), as
    /// computed once for this reconcile.
    pub(crate) fn computed_pod_hash(&self) -> &str {
        self.template_hash.as_deref().unwrap_or("")
    }

    /// The hash of the desired ReplicaSet: the new ReplicaSet's label, or computed when there is
    /// none (a template and a replica change at once, during a scaling event).
    pub(crate) fn current_pod_hash(&self) -> &str {
        match self.new_rs() {
            Some(rs) => pod_hash(rs),
            None => self.computed_pod_hash(),
        }
    }

    /// The step hash of the current spec (`ComputeStepHash`).
    pub(crate) fn step_hash(&self) -> &str {
        self.step_hash
            .get_or_init(|| hashing::step_hash(&self.rollout))
    }

    /// The rollout's revision annotation as Argo prints it in messages (0 when unreadable).
    pub(crate) fn revision(&self) -> i64 {
        let annotation = self
            .rollout
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(keys::REVISION));
        parse_revision(annotation.map(String::as_str)).unwrap_or(0)
    }

    /// Argo's `syncHandler` after the deletion check, then `reconcile`.
    fn reconcile(&mut self) {
        if let Some(error) = validate::first_error(&self.rollout, self.obs) {
            self.invalid_spec(&error);
            self.plan.requeue(INVALID_SPEC_REQUEUE);
            return;
        }
        if self.new_rs.is_none()
            && let replicasets::Creation::Collision = self.create_desired_replica_set()
        {
            return;
        }
        if is_fully_promoted(&self.rollout) && self.pause.is_aborted(self.status()) {
            // An abort left on a fully promoted rollout means nothing; drop it.
            self.pause.remove_abort();
        }
        if self.rollout.spec.replicas.is_none() {
            self.plan
                .act(Action::PatchRollout(json!({"spec": {"replicas": 1}})));
            return;
        }

        self.check_paused_conditions();
        if self.is_scaling_event() {
            self.sync_replicas_only();
            return;
        }
        if self.rollout.spec.strategy.blue_green.is_some() {
            self.rollout_blue_green();
            return;
        }
        crate::canary::plan::rollout_canary(self);
    }

    /// Argo's `syncReplicasOnly`: on a scaling event, rescale the ReplicaSets per strategy and
    /// update the counts, without any step, pause or Service logic.
    fn sync_replicas_only(&mut self) {
        self.sync_replica_set_revision();
        if self.rollout.spec.strategy.blue_green.is_some() {
            crate::bluegreen::sync_replicas_only(self);
            return;
        }
        crate::canary::plan::sync_replicas_only(self);
    }

    /// Argo's `rolloutBlueGreen` ([`crate::bluegreen`]).
    fn rollout_blue_green(&mut self) {
        crate::bluegreen::rollout_blue_green(self);
    }
}
