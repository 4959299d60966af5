//! AnalysisRuns started by a Rollout (Argo's `rollout/analysis.go`, `utils/analysis/filter.go`
//! and `factory.go`): inline analysis steps and background analysis for a canary, pre- and
//! post-promotion analysis for blue-green.
//!
//! One reconcile of the runs ([`Ctx::reconcile_analysis_runs`]):
//!
//! 1. Aborted, `promoteFull`, a rollback to a ReplicaSet still inside its scale-down delay, the
//!    initial deploy, or a rollback within `rollbackWindow`: every run is cancelled
//!    (`spec.terminate: true`) and the current ones stay reported in the status.
//! 2. Otherwise each kind of run is reconciled: created when needed (none yet, a retry after an
//!    abort, or a new attempt after the user resumed an inconclusive pause), cancelled when its
//!    step or phase is over, and its phase turned into a pause (`InconclusiveAnalysisRun`) or an
//!    abort with Argo's message ("Step-based analysis phase error/failed: …").
//! 3. Runs no longer current are cancelled, and old ones beyond the history limits
//!    (`spec.analysis.successfulRunHistoryLimit`/`unsuccessfulRunHistoryLimit`, 5 each) or
//!    without a ReplicaSet are deleted.
//! 4. `AnalysisRun<Phase>` events for the current runs whose phase changed.
//!
//! Runs are named `<rollout>-<podHash>-<revision>[-<infix>]` with `.1`, `.2`… on a collision,
//! labelled with the pod hash, `rollout-type` (and `step-index`), the instance id, the rollout's
//! selector and `analysisRunMetadata`, and owned by the Rollout.

use std::{borrow::Cow, collections::BTreeMap};

use k8s_openapi::api::apps::v1::ReplicaSet;
use serde_json::json;

use super::{Ctx, has_scale_down_deadline, pause_condition, pod_hash, text};
use crate::{
    analysis::{
        args::build_rollout_args,
        templates::{NamedTemplate, RunMeta, collect_templates, new_analysis_run},
    },
    crd::{
        AnalysisPhase, AnalysisRun, AnalysisRunSpec, AnalysisTemplateRef, PauseReason,
        RolloutAnalysis, RolloutAnalysisRunStatus, RolloutStatus, rollout::keys,
    },
    plan::{Action, EventIntent},
    status::phase::is_fully_promoted,
};

/// `rollout-type` label values (and the prefix of the `AnalysisRun<Phase>` event messages).
pub const TYPE_STEP: &str = "Step";
pub const TYPE_BACKGROUND: &str = "Background";
pub const TYPE_PRE_PROMOTION: &str = "PrePromotion";
pub const TYPE_POST_PROMOTION: &str = "PostPromotion";

/// Runs kept per outcome when the rollout does not say (`spec.analysis`).
pub const DEFAULT_HISTORY_LIMIT: i32 = 5;

/// Abort messages, followed by `: <run message>` when the run has one.
pub const STEP_FAILED_MESSAGE: &str = "Step-based analysis phase error/failed";
pub const BACKGROUND_FAILED_MESSAGE: &str = "Background analysis phase error/failed";
pub const PRE_PROMOTION_FAILED_MESSAGE: &str =
    "Blue/green pre-promotion analysis phase error/failed";
pub const POST_PROMOTION_FAILED_MESSAGE: &str =
    "Blue/green post-promotion analysis phase error/failed";

/// The runs a reconcile calls current (Argo's `CurrentAnalysisRuns`): observed runs borrowed
/// from the snapshot, or runs this plan creates.
#[derive(Clone, Debug, Default)]
pub(crate) struct CurrentRuns<'a> {
    pub(crate) step: Option<Cow<'a, AnalysisRun>>,
    pub(crate) background: Option<Cow<'a, AnalysisRun>>,
    pub(crate) pre: Option<Cow<'a, AnalysisRun>>,
    pub(crate) post: Option<Cow<'a, AnalysisRun>>,
}

impl<'a> CurrentRuns<'a> {
    fn all(&self) -> impl Iterator<Item = &AnalysisRun> {
        [&self.step, &self.background, &self.pre, &self.post]
            .into_iter()
            .flatten()
            .map(|r| &**r)
    }

    /// Argo's `FilterCurrentRolloutAnalysisRuns`: the runs the persisted status names, and the
    /// others (first matching status field wins, in Argo's order).
    pub(crate) fn split(
        runs: &'a [AnalysisRun],
        status: &RolloutStatus,
    ) -> (CurrentRuns<'a>, Vec<&'a AnalysisRun>) {
        fn name_of(s: Option<&RolloutAnalysisRunStatus>) -> Option<&str> {
            s.map(|s| s.name.as_str())
        }
        let canary = status.canary.as_ref();
        let bg = status.blue_green.as_ref();
        let step = name_of(canary.and_then(|c| c.current_step_analysis_run_status.as_ref()));
        let background =
            name_of(canary.and_then(|c| c.current_background_analysis_run_status.as_ref()));
        let pre = name_of(bg.and_then(|b| b.pre_promotion_analysis_run_status.as_ref()));
        let post = name_of(bg.and_then(|b| b.post_promotion_analysis_run_status.as_ref()));
        let mut current = CurrentRuns::default();
        let mut others = Vec::new();
        for run in runs {
            let name = run.metadata.name.as_deref().unwrap_or("");
            let slot = if Some(name) == step {
                &mut current.step
            } else if Some(name) == background {
                &mut current.background
            } else if Some(name) == pre {
                &mut current.pre
            } else if Some(name) == post {
                &mut current.post
            } else {
                others.push(run);
                continue;
            };
            *slot = Some(Cow::Borrowed(run));
        }
        (current, others)
    }
}

fn phase(run: &AnalysisRun) -> AnalysisPhase {
    run.status
        .as_ref()
        .map(|s| s.phase.clone())
        .unwrap_or_default()
}

/// Whether the run (if any) ended Successful.
pub(crate) fn succeeded(run: Option<&AnalysisRun>) -> bool {
    run.is_some_and(|r| phase(r) == AnalysisPhase::Successful)
}

fn message(run: &AnalysisRun) -> Option<String> {
    run.status
        .as_ref()
        .and_then(|s| s.message.clone())
        .filter(|m| !m.is_empty())
}

fn run_name(run: &AnalysisRun) -> &str {
    run.metadata.name.as_deref().unwrap_or("")
}

fn label<'r>(run: &'r AnalysisRun, key: &str) -> Option<&'r str> {
    run.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(key))
        .map(String::as_str)
}

fn failed_message(prefix: &str, run: &AnalysisRun) -> String {
    match message(run) {
        Some(m) => format!("{prefix}: {m}"),
        None => prefix.to_string(),
    }
}

fn has_templates(analysis: Option<&RolloutAnalysis>) -> bool {
    analysis.is_some_and(|a| a.templates.as_ref().is_some_and(|t| !t.is_empty()))
}

/// Argo's `IsSemanticallyEqual`: only metrics, dry-run, retention and arguments count.
fn semantically_equal(left: &AnalysisRunSpec, right: &AnalysisRunSpec) -> bool {
    let key = |s: &AnalysisRunSpec| {
        json!({
            "metrics": s.metrics,
            "dryRun": s.dry_run,
            "measurementRetention": s.measurement_retention,
            "args": s.args,
        })
    };
    key(left) == key(right)
}

impl<'a> Ctx<'a> {
    /// Argo's `reconcileAnalysisRuns`. An error (a run that cannot be built) ends the reconcile
    /// after the status write the caller decides on, as in Argo.
    pub(crate) fn reconcile_analysis_runs(&mut self) -> Result<(), String> {
        let aborted = self.pause.is_aborted(self.status());
        let rollback_to_scale_down_delay = self.new_rs().is_some_and(has_scale_down_deadline);
        let initial_deploy = text(&self.status().stable_rs).is_empty();
        if aborted
            || self.status().promote_full == Some(true)
            || rollback_to_scale_down_delay
            || initial_deploy
            || self.is_rollback_within_window()
        {
            let current = self.current_ars.clone();
            let all: Vec<AnalysisRun> = current
                .all()
                .cloned()
                .chain(self.other_ars.iter().map(|r| (*r).clone()))
                .collect();
            self.set_current_analysis_runs(current);
            for run in &all {
                self.cancel_analysis_run(run);
            }
            return Ok(());
        }

        let mut new_current = CurrentRuns::default();
        if self.rollout.spec.strategy.canary.is_some() {
            new_current.step = self.reconcile_step_based_analysis_run()?;
            new_current.background = self.reconcile_background_analysis_run()?;
        }
        if self.rollout.spec.strategy.blue_green.is_some() {
            let pre = self.reconcile_promotion_analysis_run(false)?;
            self.set_pause_or_abort_for_blue_green(pre.as_deref(), false);
            new_current.pre = pre;
            let post = self.reconcile_promotion_analysis_run(true)?;
            self.set_pause_or_abort_for_blue_green(post.as_deref(), true);
            new_current.post = post;
        }
        self.set_current_analysis_runs(new_current.clone());

        // Runs that became current in this reconcile are not "other" any more.
        let current_names: Vec<String> =
            new_current.all().map(|r| run_name(r).to_string()).collect();
        let others: Vec<&'a AnalysisRun> = self
            .other_ars
            .iter()
            .copied()
            .filter(|r| !current_names.iter().any(|n| n == run_name(r)))
            .collect();
        for run in &others {
            self.cancel_analysis_run(run);
        }
        for name in self.analysis_runs_to_delete(&others) {
            self.delete_analysis_run(name);
        }
        self.emit_analysis_run_status_changes(&new_current);
        Ok(())
    }

    /// Argo's `SetCurrentAnalysisRuns`: records the current runs (name, phase, message) in the
    /// status this reconcile writes, for the strategy in use.
    fn set_current_analysis_runs(&mut self, runs: CurrentRuns<'a>) {
        let record = |run: &Option<Cow<'a, AnalysisRun>>| {
            run.as_deref().map(|r| RolloutAnalysisRunStatus {
                name: run_name(r).to_string(),
                status: phase(r),
                message: message(r),
            })
        };
        if self.rollout.spec.strategy.canary.is_some() {
            let canary = super::canary_mut(&mut self.new_status);
            if let Some(s) = record(&runs.background) {
                canary.current_background_analysis_run_status = Some(s);
            }
            if let Some(s) = record(&runs.step) {
                canary.current_step_analysis_run_status = Some(s);
            }
        } else if self.rollout.spec.strategy.blue_green.is_some() {
            let bg = self
                .new_status
                .blue_green
                .get_or_insert_with(Default::default);
            if let Some(s) = record(&runs.pre) {
                bg.pre_promotion_analysis_run_status = Some(s);
            }
            if let Some(s) = record(&runs.post) {
                bg.post_promotion_analysis_run_status = Some(s);
            }
        }
        self.current_ars = runs;
    }

    /// Argo's `needsNewAnalysisRun`, on the persisted status.
    fn needs_new_analysis_run(&self, current: Option<&AnalysisRun>) -> bool {
        let Some(current) = current else {
            return true;
        };
        let status = self.status();
        if status.controller_pause == Some(true)
            && pause_condition(status, &PauseReason::CanaryPauseStep).is_none()
            && pause_condition(status, &PauseReason::BlueGreenPause).is_none()
        {
            return phase(current) == AnalysisPhase::Inconclusive;
        }
        status.aborted_at.is_some()
    }

    fn inconclusive_pause_persisted(&self) -> bool {
        pause_condition(self.status(), &PauseReason::InconclusiveAnalysis).is_some()
    }

    /// Inconclusive → `InconclusiveAnalysisRun` pause; Failed or Error → abort with `prefix`.
    fn pause_or_abort(&mut self, run: &AnalysisRun, prefix: &str) {
        match phase(run) {
            AnalysisPhase::Inconclusive => {
                self.pause
                    .add_pause_condition(PauseReason::InconclusiveAnalysis);
            }
            AnalysisPhase::Error | AnalysisPhase::Failed => {
                self.pause.add_abort(failed_message(prefix, run));
            }
            _ => {}
        }
    }

    /// Argo's `reconcileStepBasedAnalysisRun`.
    fn reconcile_step_based_analysis_run(
        &mut self,
    ) -> Result<Option<Cow<'a, AnalysisRun>>, String> {
        let current = self.current_ars.step.clone();
        let status = self.status();
        if status
            .pause_conditions
            .as_ref()
            .is_some_and(|p| !p.is_empty())
            || status.abort == Some(true)
        {
            return Ok(current);
        }
        let index = crate::canary::plan::persisted_step_index(self);
        let step = crate::canary::plan::current_step(self);
        let analysis = step.as_ref().and_then(|s| s.analysis.clone());
        let from_previous_step = analysis.is_some()
            && current.as_deref().is_some_and(|r| {
                label(r, keys::STEP_INDEX) != index.map(|i| i.to_string()).as_deref()
            });
        let (Some(analysis), Some(index)) = (analysis, index) else {
            self.cancel_current(current.as_deref());
            return Ok(None);
        };
        if !has_templates(Some(&analysis)) || from_previous_step {
            self.cancel_current(current.as_deref());
            return Ok(None);
        }
        if self.needs_new_analysis_run(current.as_deref()) {
            let mut labels = self.run_labels(TYPE_STEP);
            labels.insert(keys::STEP_INDEX.to_string(), index.to_string());
            let run = self.create_analysis_run(&analysis, &index.to_string(), labels)?;
            return Ok(Some(run));
        }
        let run = current.expect("needs_new_analysis_run is true without a run");
        self.pause_or_abort(&run, STEP_FAILED_MESSAGE);
        Ok(Some(run))
    }

    /// Argo's `reconcileBackgroundAnalysisRun`.
    fn reconcile_background_analysis_run(
        &mut self,
    ) -> Result<Option<Cow<'a, AnalysisRun>>, String> {
        let current = self.current_ars.background.clone();
        let canary = self.rollout.spec.strategy.canary.as_ref();
        let background = canary.and_then(|c| c.analysis.as_ref());
        if !has_templates(background.map(|b| &b.analysis)) {
            self.cancel_current(current.as_deref());
            return Ok(None);
        }
        let background = background.expect("checked above").clone();
        let status = self.status();
        let before_starting_step = match (
            background.starting_step,
            crate::canary::plan::persisted_step_index(self),
        ) {
            (Some(start), Some(index)) => index < start,
            _ => false,
        };
        if is_fully_promoted(&self.rollout)
            || text(&status.stable_rs).is_empty()
            || text(&status.current_pod_hash).is_empty()
            || before_starting_step
        {
            return Ok(None);
        }
        if self.inconclusive_pause_persisted() {
            return Ok(current);
        }
        if self.needs_new_analysis_run(current.as_deref()) {
            let labels = self.run_labels(TYPE_BACKGROUND);
            let run = self.create_analysis_run(&background.analysis, "", labels)?;
            return Ok(Some(run));
        }
        let run = current.expect("needs_new_analysis_run is true without a run");
        self.pause_or_abort(&run, BACKGROUND_FAILED_MESSAGE);
        Ok(Some(run))
    }

    /// Argo's `reconcilePrePromotionAnalysisRun` (`post == false`) and
    /// `reconcilePostPromotionAnalysisRun` (`post == true`; targets are always verified here:
    /// there is no ALB target-group verification).
    fn reconcile_promotion_analysis_run(
        &mut self,
        post: bool,
    ) -> Result<Option<Cow<'a, AnalysisRun>>, String> {
        let (current, kind, infix) = if post {
            (self.current_ars.post.clone(), TYPE_POST_PROMOTION, "post")
        } else {
            (self.current_ars.pre.clone(), TYPE_PRE_PROMOTION, "pre")
        };
        let analysis = self
            .rollout
            .spec
            .strategy
            .blue_green
            .as_ref()
            .and_then(|bg| {
                if post {
                    bg.post_promotion_analysis.clone()
                } else {
                    bg.pre_promotion_analysis.clone()
                }
            });
        let Some(analysis) = analysis.filter(|a| has_templates(Some(a))) else {
            self.cancel_current(current.as_deref());
            return Ok(None);
        };
        let skip = if post {
            self.skip_post_promotion_analysis_run(current.as_deref())
        } else {
            self.skip_pre_promotion_analysis_run(current.as_deref())
        };
        if skip {
            self.cancel_current(current.as_deref());
            return Ok(current);
        }
        if self.inconclusive_pause_persisted() {
            return Ok(current);
        }
        if self.needs_new_analysis_run(current.as_deref()) {
            let labels = self.run_labels(kind);
            return self.create_analysis_run(&analysis, infix, labels).map(Some);
        }
        Ok(current)
    }

    /// Argo's `setPauseOrAbortForBlueGreen`.
    fn set_pause_or_abort_for_blue_green(&mut self, run: Option<&AnalysisRun>, post: bool) {
        if let Some(run) = run {
            let prefix = if post {
                POST_PROMOTION_FAILED_MESSAGE
            } else {
                PRE_PROMOTION_FAILED_MESSAGE
            };
            self.pause_or_abort(run, prefix);
        }
    }

    /// Argo's `skipPrePromotionAnalysisRun`: already promoted, just created, or (before the
    /// first run) the new ReplicaSet not saturated yet.
    pub(crate) fn skip_pre_promotion_analysis_run(&self, current: Option<&AnalysisRun>) -> bool {
        let hash = self.new_rs().map(pod_hash).unwrap_or("");
        let status = self.status();
        let active = status
            .blue_green
            .as_ref()
            .and_then(|b| b.active_selector.as_deref())
            .unwrap_or("");
        if text(&status.stable_rs) == hash || active.is_empty() || active == hash || hash.is_empty()
        {
            return true;
        }
        if current.is_some() {
            return false;
        }
        let Some(new_rs) = self.new_rs() else {
            return true;
        };
        let preview = self
            .rollout
            .spec
            .strategy
            .blue_green
            .as_ref()
            .and_then(|bg| bg.preview_replica_count);
        match preview {
            Some(count) => {
                super::spec_replicas(new_rs) != count || super::available(new_rs) != count
            }
            None => !self.is_saturated(new_rs),
        }
    }

    /// Argo's `skipPostPromotionAnalysisRun`: already promoted, the active Service not switched
    /// yet, or (before the first run) the new ReplicaSet not saturated.
    pub(crate) fn skip_post_promotion_analysis_run(&self, current: Option<&AnalysisRun>) -> bool {
        let hash = self.new_rs().map(pod_hash).unwrap_or("");
        let status = self.status();
        let active = status
            .blue_green
            .as_ref()
            .and_then(|b| b.active_selector.as_deref())
            .unwrap_or("");
        if text(&status.stable_rs) == hash || active != hash || hash.is_empty() {
            return true;
        }
        if current.is_some() {
            return false;
        }
        self.new_rs().is_none_or(|rs| !self.is_saturated(rs))
    }

    /// Argo's `annotations.IsSaturated`: the ReplicaSet runs `spec.replicas` available pods and
    /// its desired-replicas annotation says so.
    fn is_saturated(&self, rs: &ReplicaSet) -> bool {
        let replicas = self.rollout.desired_replicas();
        let desired =
            super::annotation(rs, keys::DESIRED_REPLICAS).and_then(|v| v.parse::<i32>().ok());
        desired == Some(replicas)
            && super::spec_replicas(rs) == replicas
            && super::available(rs) == replicas
    }

    /// The common labels of a run (`StepLabels`, `BackgroundLabels`, …): pod hash, type and
    /// instance id.
    fn run_labels(&self, kind: &str) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::new();
        labels.insert(
            keys::POD_TEMPLATE_HASH.to_string(),
            self.new_rs().map(pod_hash).unwrap_or("").to_string(),
        );
        labels.insert(keys::ROLLOUT_TYPE.to_string(), kind.to_string());
        if let Some(id) = self
            .rollout
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(keys::CONTROLLER_INSTANCE_ID))
        {
            labels.insert(keys::CONTROLLER_INSTANCE_ID.to_string(), id.clone());
        }
        labels
    }

    /// Argo's `createAnalysisRun` + `newAnalysisRunFromRollout` + `CreateWithCollisionCounter`:
    /// builds the run from the templates and plans its creation under the first free name. An
    /// existing run of ours with that name, still running and with the same spec, is taken as
    /// the run (the cache was behind our own creation).
    fn create_analysis_run(
        &mut self,
        analysis: &RolloutAnalysis,
        infix: &str,
        mut labels: BTreeMap<String, String>,
    ) -> Result<Cow<'a, AnalysisRun>, String> {
        let stable_hash = self.stable().map(pod_hash);
        let latest_hash = self.new_rs().map(pod_hash);
        let args = build_rollout_args(
            analysis.args.as_deref().unwrap_or(&[]),
            stable_hash,
            latest_hash,
            &self.rollout,
        )?;
        let pod_hash = latest_hash.unwrap_or("");
        if pod_hash.is_empty() {
            let name = self.new_rs().map(super::name).unwrap_or("");
            return Err(format!(
                "Latest ReplicaSet '{name}' has no pod hash in the labels"
            ));
        }
        let revision = self
            .rollout
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(keys::REVISION))
            .cloned()
            .unwrap_or_default();
        let rollout_name = self.rollout.metadata.name.clone().unwrap_or_default();
        let mut base = format!("{rollout_name}-{pod_hash}-{revision}");
        if !infix.is_empty() {
            base = format!("{base}-{infix}");
        }
        let set = collect_templates::<String, _>(
            analysis.templates.as_deref().unwrap_or(&[]),
            |name, cluster| self.lookup_template(name, cluster),
        )?;
        let metadata = analysis.analysis_run_metadata.as_ref();
        for (k, v) in metadata
            .and_then(|m| m.labels.as_ref())
            .into_iter()
            .flatten()
        {
            labels.insert(k.clone(), v.clone());
        }
        let selector_labels = self
            .rollout
            .spec
            .selector
            .as_ref()
            .and_then(|s| s.match_labels.as_ref());
        for (k, v) in selector_labels.into_iter().flatten() {
            labels.insert(k.clone(), v.clone());
        }
        let mut annotations = BTreeMap::from([(keys::REVISION.to_string(), revision)]);
        for (k, v) in metadata
            .and_then(|m| m.annotations.as_ref())
            .into_iter()
            .flatten()
        {
            annotations.insert(k.clone(), v.clone());
        }
        let mut run = new_analysis_run(
            &set,
            &args,
            analysis.dry_run.as_deref().unwrap_or(&[]),
            analysis.measurement_retention.as_deref().unwrap_or(&[]),
            RunMeta {
                name: base.clone(),
                generate_name: String::new(),
                namespace: self.rollout.metadata.namespace.clone().unwrap_or_default(),
                labels,
                annotations,
            },
        )?;
        run.metadata.owner_references =
            Some(vec![crate::replicaset::rs::controller_ref(&self.rollout)]);

        let mut name = base.clone();
        let mut collisions = 0;
        loop {
            let owned = self.obs.analysis_runs.iter().find(|r| run_name(r) == name);
            match owned {
                Some(existing)
                    if !phase(existing).is_completed()
                        && semantically_equal(&existing.spec, &run.spec) =>
                {
                    return Ok(Cow::Borrowed(existing));
                }
                Some(_) => {}
                None if !self.obs.foreign_analysis_run_names.contains(&name) => break,
                None => {}
            }
            collisions += 1;
            name = format!("{base}.{collisions}");
        }
        run.metadata.name = Some(name);
        self.plan
            .act(Action::CreateAnalysisRun(Box::new(run.clone())));
        Ok(Cow::Owned(run))
    }

    /// One template from the snapshot, with the error Argo's lister gives for a missing one.
    fn lookup_template(
        &self,
        name: &str,
        cluster: bool,
    ) -> Result<crate::crd::AnalysisTemplateSpec, String> {
        if cluster {
            self.obs
                .cluster_analysis_templates
                .get(name)
                .map(|t| t.spec.0.clone())
                .ok_or_else(|| format!("clusteranalysistemplate.argoproj.io \"{name}\" not found"))
        } else {
            self.obs
                .analysis_templates
                .get(name)
                .map(|t| t.spec.clone())
                .ok_or_else(|| format!("analysistemplate.argoproj.io \"{name}\" not found"))
        }
    }

    /// Cancels the run a reconcile of one kind held as current, if any.
    fn cancel_current(&mut self, run: Option<&AnalysisRun>) {
        if let Some(run) = run {
            self.cancel_analysis_run(run);
        }
    }

    /// Argo's `cancelAnalysisRuns` for one run: `spec.terminate: true` on a run that is neither
    /// terminated nor completed (each run once per plan).
    fn cancel_analysis_run(&mut self, run: &AnalysisRun) {
        let terminated = run.spec.terminate == Some(true);
        if terminated || phase(run).is_completed() {
            return;
        }
        let name = run_name(run).to_string();
        if name.is_empty() || !self.touched_ars.insert(name.clone()) {
            return;
        }
        self.plan.act(Action::PatchAnalysisRun {
            name,
            patch: json!({"spec": {"terminate": true}}),
        });
    }

    /// Deletes a run (each run once per plan).
    pub(crate) fn delete_analysis_run(&mut self, name: String) {
        if self.deleted_ars.insert(name.clone()) {
            self.plan.act(Action::DeleteAnalysisRun { name });
        }
    }

    /// Argo's `FilterAnalysisRunsToDelete`: newest first, runs without a pod hash or without a
    /// live ReplicaSet of that hash go; of the rest, successful runs beyond the successful
    /// limit and failed/error/inconclusive ones beyond the unsuccessful limit go.
    fn analysis_runs_to_delete(&self, others: &[&'a AnalysisRun]) -> Vec<String> {
        let limits = self.rollout.spec.analysis.as_ref();
        let limit_successful = limits
            .and_then(|l| l.successful_run_history_limit)
            .unwrap_or(DEFAULT_HISTORY_LIMIT);
        let limit_unsuccessful = limits
            .and_then(|l| l.unsuccessful_run_history_limit)
            .unwrap_or(DEFAULT_HISTORY_LIMIT);
        let mut rs_hashes: BTreeMap<&str, bool> = BTreeMap::new();
        for rs in self.all_rss() {
            if let Some(hash) = crate::replicaset::rs::pod_hash(rs) {
                rs_hashes.insert(hash, rs.metadata.deletion_timestamp.is_some());
            }
        }
        let mut runs: Vec<&AnalysisRun> = others
            .iter()
            .copied()
            .filter(|r| r.metadata.deletion_timestamp.is_none())
            .collect();
        // Newest first; Go's sort is not stable, the name breaks ties here.
        runs.sort_by(|a, b| {
            let t = |r: &AnalysisRun| r.metadata.creation_timestamp.as_ref().map(|t| t.0);
            t(b).cmp(&t(a)).then_with(|| run_name(b).cmp(run_name(a)))
        });
        let (mut kept_successful, mut kept_unsuccessful) = (0, 0);
        let mut doomed = Vec::new();
        for run in runs {
            let Some(hash) = label(run, keys::POD_TEMPLATE_HASH) else {
                doomed.push(run_name(run).to_string());
                continue;
            };
            match rs_hashes.get(hash) {
                None | Some(true) => {
                    doomed.push(run_name(run).to_string());
                    continue;
                }
                Some(false) => {}
            }
            match phase(run) {
                AnalysisPhase::Successful => {
                    if kept_successful < limit_successful {
                        kept_successful += 1;
                    } else {
                        doomed.push(run_name(run).to_string());
                    }
                }
                AnalysisPhase::Failed | AnalysisPhase::Error | AnalysisPhase::Inconclusive => {
                    if kept_unsuccessful < limit_unsuccessful {
                        kept_unsuccessful += 1;
                    } else {
                        doomed.push(run_name(run).to_string());
                    }
                }
                _ => {}
            }
        }
        doomed
    }

    /// Argo's `reconcileAnalysisRunStatusChanges`: `AnalysisRun<Phase>` for each current run
    /// whose phase differs from the one the persisted status recorded for it (Warning for
    /// Failed and Error).
    fn emit_analysis_run_status_changes(&mut self, runs: &CurrentRuns<'a>) {
        let status = self.status();
        let bg = status.blue_green.as_ref();
        let canary = status.canary.as_ref();
        let pairs = [
            (
                bg.and_then(|b| b.post_promotion_analysis_run_status.clone()),
                runs.post.as_deref(),
                TYPE_POST_PROMOTION,
            ),
            (
                bg.and_then(|b| b.pre_promotion_analysis_run_status.clone()),
                runs.pre.as_deref(),
                TYPE_PRE_PROMOTION,
            ),
            (
                canary.and_then(|c| c.current_step_analysis_run_status.clone()),
                runs.step.as_deref(),
                TYPE_STEP,
            ),
            (
                canary.and_then(|c| c.current_background_analysis_run_status.clone()),
                runs.background.as_deref(),
                TYPE_BACKGROUND,
            ),
        ];
        let mut events = Vec::new();
        for (previous, run, kind) in pairs {
            let Some(run) = run else {
                continue;
            };
            let now = phase(run);
            if now.is_empty() {
                continue;
            }
            let changed = match &previous {
                None => true,
                Some(p) => p.name == run_name(run) && p.status != now,
            };
            if !changed {
                continue;
            }
            let previous_text = previous
                .as_ref()
                .map_or("NoPreviousStatus".to_string(), |p| {
                    p.status.as_str().to_string()
                });
            let message = format!(
                "{kind} Analysis Run '{}' Status New: '{}' Previous: '{previous_text}'",
                run_name(run),
                now.as_str()
            );
            let reason = format!("AnalysisRun{}", now.as_str());
            let event = if matches!(now, AnalysisPhase::Failed | AnalysisPhase::Error) {
                EventIntent::warning(&reason, message)
            } else {
                EventIntent::normal(&reason, message)
            };
            events.push(event);
        }
        for event in events {
            self.plan.event(event);
        }
    }
}

/// The template references of every analysis a rollout runs, with the field path Argo reports
/// them under (`GetAnalysisTemplateWithTypeFieldPath`) and whether it is background analysis.
pub(crate) fn referenced_analyses(
    rollout: &crate::crd::Rollout,
) -> Vec<(String, &RolloutAnalysis, bool)> {
    let mut out = Vec::new();
    if let Some(bg) = &rollout.spec.strategy.blue_green {
        if let Some(a) = &bg.pre_promotion_analysis {
            out.push((
                "spec.strategy.blueGreen.prePromotionAnalysis.templates".to_string(),
                a,
                false,
            ));
        }
        if let Some(a) = &bg.post_promotion_analysis {
            out.push((
                "spec.strategy.blueGreen.postPromotionAnalysis.templates".to_string(),
                a,
                false,
            ));
        }
    } else if let Some(canary) = &rollout.spec.strategy.canary {
        for (i, step) in canary.steps.iter().flatten().enumerate() {
            if let Some(a) = &step.analysis {
                out.push((
                    format!("spec.strategy.canary.steps[{i}].analysis.templates"),
                    a,
                    false,
                ));
            }
        }
        if let Some(a) = &canary.analysis {
            out.push((
                "spec.strategy.canary.analysis.templates".to_string(),
                &a.analysis,
                true,
            ));
        }
    }
    out
}

/// Every template name the references reach, nested references followed (used by the observer
/// to pick the templates a snapshot needs).
pub fn template_refs(rollout: &crate::crd::Rollout) -> Vec<AnalysisTemplateRef> {
    referenced_analyses(rollout)
        .into_iter()
        .flat_map(|(_, a, _)| a.templates.clone().unwrap_or_default())
        .collect()
}

/// A template found by name, for error messages.
pub(crate) fn template_names(set: &crate::analysis::templates::TemplateSet) -> Vec<&str> {
    set.templates
        .iter()
        .chain(&set.cluster_templates)
        .map(|t: &NamedTemplate| t.name.as_str())
        .collect()
}
