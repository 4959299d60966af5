//! `explain ROLLOUT`: why a rollout is not progressing, in plain words, and which command moves
//! it on. Pure: reads the rollout and its view model, and `now` for remaining pause times.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use rollouts::{
    crd::{PauseReason, Rollout, RolloutCondition, condition},
    status::{
        conditions::{ROLLOUT_ABORTED_REASON, TIMED_OUT_REASON},
        phase::{current_canary_step, is_generation_observed, is_unpausing},
        to_utc,
    },
};
use serde::Serialize;

use crate::{
    duration::{human_duration, parse_go_duration},
    info::{AnalysisRunInfo, ReplicaSetInfo, RolloutInfo, SCHEMA_VERSION},
};

/// The diagnosis of one rollout.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub schema_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub status: String,
    pub message: String,
    /// False when the rollout is healthy or moving on by itself; true when it needs someone.
    pub blocked: bool,
    pub reasons: Vec<Reason>,
    pub next_steps: Vec<NextStep>,
}

/// One reason, with a stable machine-readable code.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// `Healthy`, `SpecNotObserved`, `Unpausing`, `InvalidSpec`, `Aborted`,
    /// `ProgressDeadlineExceeded`, `ManuallyPaused`, `PausedAtStep`, `BlueGreenPause`,
    /// `InconclusiveAnalysis`, `InconclusiveExperiment`, `Restarting`, `WaitingForPods`,
    /// `PodsNotReady`, `AnalysisRunning`, `ExperimentRunning`, `StableUnhealthy`,
    /// `WaitingForCutover`, `Paused`, `Progressing`.
    pub code: String,
    pub text: String,
}

/// A command that moves the rollout on, and what it does.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NextStep {
    pub command: String,
    pub effect: String,
}

struct Builder<'a> {
    ro: &'a Rollout,
    info: &'a RolloutInfo,
    now: DateTime<Utc>,
    blocked: bool,
    reasons: Vec<Reason>,
    next: Vec<NextStep>,
}

impl Builder<'_> {
    fn reason(&mut self, code: &str, text: String) {
        self.reasons.push(Reason {
            code: code.into(),
            text,
        });
    }

    fn step(&mut self, args: &str, effect: &str) {
        let command = format!("kubectl argo rollouts {args} -n {}", self.info.namespace);
        if self.next.iter().all(|n| n.command != command) {
            self.next.push(NextStep {
                command,
                effect: effect.into(),
            });
        }
    }

    fn name(&self) -> &str {
        &self.info.name
    }
}

/// Explains `ro` (whose view model is `info`).
pub fn explain(ro: &Rollout, info: &RolloutInfo, now: DateTime<Utc>) -> Explanation {
    let mut b = Builder {
        ro,
        info,
        now,
        blocked: false,
        reasons: Vec::new(),
        next: Vec::new(),
    };
    diagnose(&mut b);
    Explanation {
        schema_version: SCHEMA_VERSION,
        kind: "Explanation",
        name: info.name.clone(),
        namespace: info.namespace.clone(),
        status: info.status.clone(),
        message: info.message.clone(),
        blocked: b.blocked,
        reasons: b.reasons,
        next_steps: b.next,
    }
}

fn diagnose(b: &mut Builder<'_>) {
    let ro = b.ro;
    let status = ro.status.clone().unwrap_or_default();
    let name = b.name().to_string();

    if status.observed_generation.is_none() {
        b.reason(
            "SpecNotObserved",
            "The controller has not reported any status for this rollout yet. If this lasts, check that the rollouts controller is running and handles this namespace.".into(),
        );
        return;
    }
    if !is_generation_observed(ro) {
        b.reason(
            "SpecNotObserved",
            format!(
                "The controller has not processed the latest change to the spec yet (generation {}, observed {}). If this lasts, check that the rollouts controller is running.",
                ro.metadata.generation.unwrap_or(0),
                status.observed_generation.as_deref().unwrap_or("none")
            ),
        );
        return;
    }
    if is_unpausing(ro) {
        b.reason(
            "Unpausing",
            "The rollout was resumed; the controller has not picked that up yet.".into(),
        );
        return;
    }

    let conditions = status.conditions.clone().unwrap_or_default();
    if let Some(invalid) = conditions
        .iter()
        .find(|c| c.type_ == condition::INVALID_SPEC)
    {
        b.blocked = true;
        b.reason(
            "InvalidSpec",
            format!("The spec is invalid: {}", invalid.message),
        );
        b.step(
            &format!("lint -f <file with rollout {name}>"),
            "check the corrected manifest offline, then apply it",
        );
        return;
    }

    if status.abort == Some(true) {
        b.blocked = true;
        aborted(b, &conditions);
        return;
    }

    let progressing = get_status_condition(&conditions, condition::PROGRESSING);
    if let Some(cond) = progressing.filter(|c| c.reason == TIMED_OUT_REASON) {
        b.blocked = true;
        b.reason(
            "ProgressDeadlineExceeded",
            format!(
                "The update did not make progress within progressDeadlineSeconds: {}",
                cond.message
            ),
        );
        pod_problems(b, current_rs(b.info));
        b.step(
            &format!("set image {name} <container>=<image>"),
            "roll forward with a fixed image",
        );
        b.step(&format!("abort {name}"), "go back to the stable version");
        return;
    }

    if b.info.status == "Healthy" {
        let stable = b
            .info
            .revisions
            .iter()
            .flat_map(|r| &r.replica_sets)
            .find(|rs| rs.stable || rs.active);
        let text = match stable {
            Some(rs) => format!(
                "The rollout is healthy: {} of {} replicas available, running revision {} ({}).",
                b.info.replicas.available, b.info.replicas.desired, rs.revision, rs.name
            ),
            None => format!(
                "The rollout is healthy: {} of {} replicas available.",
                b.info.replicas.available, b.info.replicas.desired
            ),
        };
        b.reason("Healthy", text);
        return;
    }

    let mut paused = false;
    if ro.spec.paused == Some(true) {
        paused = true;
        b.blocked = true;
        b.reason(
            "ManuallyPaused",
            "The rollout was paused by hand (spec.paused is true).".into(),
        );
        b.step(&format!("promote {name}"), "resume the rollout");
    }
    for pause in status.pause_conditions.iter().flatten() {
        paused = true;
        let since = to_utc(&pause.start_time);
        match &pause.reason {
            PauseReason::CanaryPauseStep => paused_at_step(b, since),
            PauseReason::BlueGreenPause => blue_green_pause(b, since),
            PauseReason::InconclusiveAnalysis => {
                b.blocked = true;
                let run = inconclusive_run(b);
                b.reason("InconclusiveAnalysis", run);
                b.step(&format!("promote {name}"), "accept the result and continue");
                b.step(&format!("abort {name}"), "go back to the stable version");
            }
            PauseReason::InconclusiveExperiment => {
                b.blocked = true;
                let exp = status
                    .canary
                    .as_ref()
                    .and_then(|c| c.current_experiment.clone())
                    .unwrap_or_else(|| "the current experiment".into());
                b.reason(
                    "InconclusiveExperiment",
                    format!(
                        "Experiment {exp} ended Inconclusive; the rollout waits for a decision."
                    ),
                );
                b.step(&format!("promote {name}"), "accept the result and continue");
                b.step(&format!("abort {name}"), "go back to the stable version");
            }
            other => {
                b.blocked = true;
                b.reason("Paused", format!("The rollout is paused ({other})."));
                b.step(&format!("promote {name}"), "resume the rollout");
            }
        }
    }
    if paused {
        return;
    }

    progressing_reasons(b);
}

fn get_status_condition<'a>(
    conditions: &'a [RolloutCondition],
    type_: &str,
) -> Option<&'a RolloutCondition> {
    conditions.iter().find(|c| c.type_ == type_)
}

fn aborted(b: &mut Builder<'_>, conditions: &[RolloutCondition]) {
    let name = b.name().to_string();
    let detail = conditions
        .iter()
        .find(|c| c.reason == ROLLOUT_ABORTED_REASON)
        .map(|c| c.message.clone())
        .unwrap_or_else(|| b.info.message.clone());
    let mut text = format!("The update was aborted and the stable version restored ({detail}).");
    let failed: Vec<&AnalysisRunInfo> = b
        .info
        .revisions
        .first()
        .map(|r| {
            r.analysis_runs
                .iter()
                .filter(|a| a.status == "Failed" || a.status == "Error")
                .collect()
        })
        .unwrap_or_default();
    for run in failed {
        let _ = write!(
            text,
            " Analysis run {} ended {}{}.",
            run.name,
            run.status,
            run.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
    }
    b.reason("Aborted", text);
    b.step(
        &format!("retry rollout {name}"),
        "try the same update again",
    );
    b.step(
        &format!("undo {name}"),
        "set the template back to the previous revision",
    );
}

fn paused_at_step(b: &mut Builder<'_>, since: DateTime<Utc>) {
    let name = b.name().to_string();
    let step = b
        .info
        .step
        .map(|s| format!("step {}/{}", s.index, s.total))
        .unwrap_or_else(|| "a pause step".into());
    let duration = current_canary_step(b.ro)
        .and_then(|s| s.pause.as_ref())
        .and_then(|p| p.duration.as_ref())
        .and_then(pause_seconds);
    match duration {
        Some(seconds) => {
            let left = since + chrono::Duration::seconds(seconds) - b.now;
            let when = if left > chrono::Duration::zero() {
                format!("resumes by itself in {}", human_duration(left))
            } else {
                "resumes by itself at the next reconcile".into()
            };
            b.reason(
                "PausedAtStep",
                format!(
                    "Paused at canary {step} for {}; it {when}.",
                    human_duration(chrono::Duration::seconds(seconds))
                ),
            );
            b.step(&format!("promote {name}"), "skip the rest of the pause now");
        }
        None => {
            b.blocked = true;
            b.reason(
                "PausedAtStep",
                format!(
                    "Paused at canary {step}, a pause without duration: it waits for a manual promotion (paused for {}).",
                    human_duration(b.now - since)
                ),
            );
            b.step(&format!("promote {name}"), "continue to the next step");
        }
    }
    b.step(
        &format!("promote {name} --full"),
        "skip all remaining steps, pauses and analysis",
    );
    b.step(&format!("abort {name}"), "go back to the stable version");
}

fn pause_seconds(d: &IntOrString) -> Option<i64> {
    match d {
        IntOrString::Int(s) => Some(i64::from(*s)),
        IntOrString::String(s) => s
            .parse::<i64>()
            .ok()
            .or_else(|| parse_go_duration(s).ok().map(|d| d.num_seconds())),
    }
}

fn blue_green_pause(b: &mut Builder<'_>, since: DateTime<Utc>) {
    let name = b.name().to_string();
    let preview = b
        .info
        .revisions
        .iter()
        .flat_map(|r| &r.replica_sets)
        .find(|rs| rs.preview)
        .map(|rs| format!(" (preview ReplicaSet {})", rs.name))
        .unwrap_or_default();
    let auto =
        b.ro.spec
            .strategy
            .blue_green
            .as_ref()
            .and_then(|bg| bg.auto_promotion_seconds)
            .filter(|s| *s > 0);
    match auto {
        Some(seconds) => {
            let left = since + chrono::Duration::seconds(i64::from(seconds)) - b.now;
            b.reason(
                "BlueGreenPause",
                format!(
                    "The new version{preview} waits before becoming active; it is promoted automatically in {}.",
                    human_duration(left.max(chrono::Duration::zero()))
                ),
            );
        }
        None => {
            b.blocked = true;
            b.reason(
                "BlueGreenPause",
                format!("The new version{preview} is ready and waits for a manual promotion to become active."),
            );
        }
    }
    b.step(
        &format!("promote {name}"),
        "switch the active service to the new version",
    );
    b.step(&format!("abort {name}"), "discard the new version");
}

fn inconclusive_run(b: &Builder<'_>) -> String {
    let status = b.ro.status.clone().unwrap_or_default();
    let named = status
        .canary
        .as_ref()
        .and_then(|c| {
            [
                c.current_step_analysis_run_status.as_ref(),
                c.current_background_analysis_run_status.as_ref(),
            ]
            .into_iter()
            .flatten()
            .find(|s| s.status.as_str() == "Inconclusive")
            .cloned()
        })
        .or_else(|| {
            status.blue_green.as_ref().and_then(|bg| {
                [
                    bg.pre_promotion_analysis_run_status.as_ref(),
                    bg.post_promotion_analysis_run_status.as_ref(),
                ]
                .into_iter()
                .flatten()
                .find(|s| s.status.as_str() == "Inconclusive")
                .cloned()
            })
        });
    match named {
        Some(run) => format!(
            "Analysis run {} ended Inconclusive{}; the rollout waits for a decision.",
            run.name,
            run.message
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
        None => "An analysis run ended Inconclusive; the rollout waits for a decision.".into(),
    }
}

/// The ReplicaSet of the desired template (canary, or preview/active of the current hash).
fn current_rs(info: &RolloutInfo) -> Option<&ReplicaSetInfo> {
    let all = || info.revisions.iter().flat_map(|r| &r.replica_sets);
    all()
        .find(|rs| rs.canary)
        .or_else(|| all().find(|rs| rs.preview))
        .or_else(|| info.revisions.first().and_then(|r| r.replica_sets.first()))
}

fn pod_problems(b: &mut Builder<'_>, rs: Option<&ReplicaSetInfo>) {
    let Some(rs) = rs else {
        return;
    };
    let bad: Vec<String> = rs
        .pods
        .iter()
        .filter(|p| p.status != "Running" || p.ready_containers < p.total_containers)
        .map(|p| {
            format!(
                "pod {} is {} ({}/{} containers ready{})",
                p.name,
                if p.status.is_empty() {
                    "unknown"
                } else {
                    &p.status
                },
                p.ready_containers,
                p.total_containers,
                if p.restarts > 0 {
                    format!(", {} restarts", p.restarts)
                } else {
                    String::new()
                }
            )
        })
        .collect();
    if bad.is_empty() {
        return;
    }
    let shown = bad.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
    let more = if bad.len() > 5 {
        format!("; and {} more", bad.len() - 5)
    } else {
        String::new()
    };
    b.reason(
        "PodsNotReady",
        format!("ReplicaSet {}: {shown}{more}.", rs.name),
    );
}

fn progressing_reasons(b: &mut Builder<'_>) {
    let ro = b.ro;
    let name = b.name().to_string();
    let status = ro.status.clone().unwrap_or_default();
    let message = b.info.message.clone();
    let r = b.info.replicas;

    if message == "rollout is restarting" {
        b.reason(
            "Restarting",
            "Pods are being restarted one batch at a time (spec.restartAt).".into(),
        );
        return;
    }

    // Analysis or experiment the current step waits on.
    let step_run = status
        .canary
        .as_ref()
        .and_then(|c| c.current_step_analysis_run_status.clone())
        .filter(|s| !s.status.is_completed());
    if let Some(run) = step_run {
        b.reason(
            "AnalysisRunning",
            format!(
                "Waiting for analysis run {} ({}) of the current step.",
                run.name,
                if run.status.as_str().is_empty() {
                    "Pending"
                } else {
                    run.status.as_str()
                }
            ),
        );
        b.step(&format!("promote {name}"), "skip the analysis step");
    }
    if let Some(exp) = status
        .canary
        .as_ref()
        .and_then(|c| c.current_experiment.clone())
        .filter(|_| current_canary_step(ro).is_some_and(|s| s.experiment.is_some()))
    {
        b.reason(
            "ExperimentRunning",
            format!("Waiting for experiment {exp} of the current step."),
        );
        b.step(&format!("promote {name}"), "skip the experiment step");
    }
    if let Some(bg) = status.blue_green.as_ref() {
        for run in [
            bg.pre_promotion_analysis_run_status.as_ref(),
            bg.post_promotion_analysis_run_status.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.status.is_completed())
        {
            b.reason(
                "AnalysisRunning",
                format!("Waiting for analysis run {} ({}).", run.name, run.status),
            );
        }
    }

    if r.updated < r.desired || r.available < r.updated {
        b.reason(
            "WaitingForPods",
            format!(
                "{} of {} replicas are updated and {} available ({message}).",
                r.updated, r.desired, r.available
            ),
        );
        pod_problems(b, current_rs(b.info));
    }

    // The stable side should stay fully available during an update.
    let stable = b
        .info
        .revisions
        .iter()
        .flat_map(|rev| &rev.replica_sets)
        .find(|rs| rs.stable && !rs.canary && !rs.preview)
        .cloned();
    if let Some(rs) = stable.filter(|rs| rs.desired.is_some_and(|d| rs.available < d)) {
        b.reason(
            "StableUnhealthy",
            format!(
                "The stable ReplicaSet {} has {} of {} pods available.",
                rs.name,
                rs.available,
                rs.desired.unwrap_or(0)
            ),
        );
        pod_problems(b, Some(&rs));
    }

    if message == "active service cutover pending" {
        b.reason(
            "WaitingForCutover",
            "Waiting for the active service to switch to the new version.".into(),
        );
    }

    if b.reasons.is_empty() {
        b.reason(
            "Progressing",
            if message.is_empty() {
                "The rollout is progressing.".into()
            } else {
                format!("The rollout is progressing: {message}.")
            },
        );
    }
}

/// The text form of an explanation.
pub fn render(e: &Explanation) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "Rollout \"{}\" in namespace \"{}\" is {}",
        e.name, e.namespace, e.status
    );
    if !e.message.is_empty() {
        let _ = write!(out, ": {}", e.message);
    }
    out.push('\n');
    if !e.reasons.is_empty() {
        out.push_str("\nWhy:\n");
        for r in &e.reasons {
            let _ = writeln!(out, "  - {}", r.text);
        }
    }
    if !e.next_steps.is_empty() {
        out.push_str("\nNext:\n");
        for n in &e.next_steps {
            let _ = writeln!(out, "  {}\n      {}", n.command, n.effect);
        }
    } else if !e.blocked && e.status != "Healthy" {
        out.push_str("\nNothing to do: it moves on by itself.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{info::rollout_info, testing::*};

    fn explained(
        ro: &Rollout,
        rs: &[k8s_openapi::api::apps::v1::ReplicaSet],
        pods: &[k8s_openapi::api::core::v1::Pod],
        runs: &[rollouts::crd::AnalysisRun],
    ) -> Explanation {
        let info = rollout_info(ro, rs, pods, &[], runs, None);
        explain(ro, &info, now())
    }

    fn codes(e: &Explanation) -> Vec<&str> {
        e.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    fn commands(e: &Explanation) -> Vec<&str> {
        e.next_steps.iter().map(|n| n.command.as_str()).collect()
    }

    fn canary(patch: serde_json::Value) -> Rollout {
        rollout(
            "guestbook",
            "shop",
            merged(
                json!({"spec": {"replicas": 5, "strategy": {"canary": {"steps": [
                    {"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "10m"}}
                ]}}}}),
                patch,
            ),
        )
    }

    fn pause_condition(reason: &str, start: &str) -> serde_json::Value {
        json!([{"reason": reason, "startTime": start}])
    }

    #[test]
    fn paused_at_an_indefinite_step_waits_for_promotion() {
        let ro = canary(json!({"status": {
            "phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 1, "controllerPause": true,
            "pauseConditions": pause_condition("CanaryPauseStep", "2026-01-07T23:00:00Z")
        }}));
        let e = explained(&ro, &[], &[], &[]);
        assert!(e.blocked);
        assert_eq!(codes(&e), ["PausedAtStep"]);
        assert_eq!(
            e.reasons[0].text,
            "Paused at canary step 1/4, a pause without duration: it waits for a manual promotion (paused for 60m)."
        );
        assert_eq!(
            commands(&e),
            [
                "kubectl argo rollouts promote guestbook -n shop",
                "kubectl argo rollouts promote guestbook --full -n shop",
                "kubectl argo rollouts abort guestbook -n shop"
            ]
        );
        let text = render(&e);
        assert!(text.starts_with("Rollout \"guestbook\" in namespace \"shop\" is Paused: CanaryPauseStep\n\nWhy:\n  - Paused at canary step 1/4"), "{text}");
        assert!(text.contains("\nNext:\n  kubectl argo rollouts promote guestbook -n shop\n      continue to the next step\n"), "{text}");
    }

    #[test]
    fn timed_pause_resumes_by_itself() {
        let ro = canary(json!({"status": {
            "phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 3, "controllerPause": true,
            "pauseConditions": pause_condition("CanaryPauseStep", "2026-01-07T23:55:00Z")
        }}));
        let e = explained(&ro, &[], &[], &[]);
        assert!(!e.blocked);
        assert_eq!(
            e.reasons[0].text,
            "Paused at canary step 3/4 for 10m; it resumes by itself in 5m."
        );
        assert_eq!(e.next_steps[0].effect, "skip the rest of the pause now");
    }

    #[test]
    fn manual_pause() {
        let ro = canary(
            json!({"spec": {"paused": true}, "status": {"phase": "Paused", "message": "manually paused", "currentStepIndex": 0}}),
        );
        let e = explained(&ro, &[], &[], &[]);
        assert_eq!(codes(&e), ["ManuallyPaused"]);
        assert_eq!(
            commands(&e),
            ["kubectl argo rollouts promote guestbook -n shop"]
        );
    }

    #[test]
    fn blue_green_waiting_for_promotion() {
        let ro = rollout(
            "bg",
            "default",
            json!({
                "spec": {"strategy": {"blueGreen": {"activeService": "a", "previewService": "p", "autoPromotionEnabled": false}}},
                "status": {"phase": "Paused", "message": "BlueGreenPause", "controllerPause": true,
                    "pauseConditions": pause_condition("BlueGreenPause", "2026-01-07T23:00:00Z"),
                    "currentPodHash": "new", "stableRS": "old",
                    "blueGreen": {"activeSelector": "old", "previewSelector": "new"}}
            }),
        );
        let rs = vec![replica_set(
            "bg-new", "default", "Rollout", "uid-bg", 2, "new", 1, 1, "app:2",
        )];
        let e = explained(&ro, &rs, &[], &[]);
        assert!(e.blocked);
        assert_eq!(
            e.reasons[0].text,
            "The new version (preview ReplicaSet bg-new) is ready and waits for a manual promotion to become active."
        );
        assert_eq!(
            e.next_steps[0].command,
            "kubectl argo rollouts promote bg -n default"
        );
    }

    #[test]
    fn inconclusive_analysis_needs_a_decision() {
        let ro = canary(json!({"status": {
            "phase": "Paused", "message": "InconclusiveAnalysisRun", "currentStepIndex": 2, "controllerPause": true,
            "pauseConditions": pause_condition("InconclusiveAnalysisRun", "2026-01-07T23:00:00Z"),
            "canary": {"currentStepAnalysisRunStatus": {"name": "guestbook-abc-2-2", "status": "Inconclusive", "message": "metric \"rate\" assessed Inconclusive"}}
        }}));
        let e = explained(&ro, &[], &[], &[]);
        assert!(e.blocked);
        assert_eq!(codes(&e), ["InconclusiveAnalysis"]);
        assert_eq!(
            e.reasons[0].text,
            "Analysis run guestbook-abc-2-2 ended Inconclusive (metric \"rate\" assessed Inconclusive); the rollout waits for a decision."
        );
        assert_eq!(
            commands(&e),
            [
                "kubectl argo rollouts promote guestbook -n shop",
                "kubectl argo rollouts abort guestbook -n shop"
            ]
        );
    }

    #[test]
    fn aborted_by_failed_analysis() {
        let message = "metric \"web\" assessed Failed due to failed (1) > failureLimit (0)";
        let ro = canary(json!({"status": {
            "abort": true, "phase": "Degraded", "message": format!("RolloutAborted: {message}"),
            "conditions": [{"type": "Progressing", "status": "False", "reason": "RolloutAborted",
                "message": message, "lastUpdateTime": WEEK_AGO, "lastTransitionTime": WEEK_AGO}]
        }}));
        let runs = vec![analysis_run(
            "guestbook-abc-2",
            "shop",
            "uid-guestbook",
            2,
            json!({"status": {"phase": "Failed", "message": message}}),
        )];
        let rs = vec![replica_set(
            "guestbook-abc",
            "shop",
            "Rollout",
            "uid-guestbook",
            2,
            "abc",
            0,
            0,
            "app:2",
        )];
        let e = explained(&ro, &rs, &[], &runs);
        assert_eq!(codes(&e), ["Aborted"]);
        assert_eq!(
            e.reasons[0].text,
            format!(
                "The update was aborted and the stable version restored ({message}). Analysis run guestbook-abc-2 ended Failed: {message}."
            )
        );
        assert_eq!(
            commands(&e),
            [
                "kubectl argo rollouts retry rollout guestbook -n shop",
                "kubectl argo rollouts undo guestbook -n shop"
            ]
        );
    }

    #[test]
    fn progress_deadline_names_the_failing_pods() {
        let message = "ReplicaSet \"guestbook-abc\" has timed out progressing.";
        let ro = canary(json!({"status": {
            "phase": "Degraded", "message": format!("ProgressDeadlineExceeded: {message}"),
            "currentStepIndex": 0, "stableRS": "old", "currentPodHash": "abc",
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                "message": message, "lastUpdateTime": WEEK_AGO, "lastTransitionTime": WEEK_AGO}]
        }}));
        let rs = vec![
            replica_set(
                "guestbook-abc",
                "shop",
                "Rollout",
                "uid-guestbook",
                2,
                "abc",
                1,
                0,
                "app:nope",
            ),
            replica_set(
                "guestbook-old",
                "shop",
                "Rollout",
                "uid-guestbook",
                1,
                "old",
                5,
                5,
                "app:1",
            ),
        ];
        let pods = vec![waiting_pod(
            "guestbook-abc-x",
            "shop",
            "guestbook-abc",
            "ImagePullBackOff",
        )];
        let e = explained(&ro, &rs, &pods, &[]);
        assert!(e.blocked);
        assert_eq!(codes(&e), ["ProgressDeadlineExceeded", "PodsNotReady"]);
        assert_eq!(
            e.reasons[1].text,
            "ReplicaSet guestbook-abc: pod guestbook-abc-x is ImagePullBackOff (0/1 containers ready)."
        );
        assert_eq!(
            commands(&e),
            [
                "kubectl argo rollouts set image guestbook <container>=<image> -n shop",
                "kubectl argo rollouts abort guestbook -n shop"
            ]
        );
    }

    #[test]
    fn invalid_spec() {
        let ro = canary(json!({"status": {
            "phase": "Degraded", "message": "InvalidSpec: The Rollout \"guestbook\" is invalid: x",
            "conditions": [{"type": "InvalidSpec", "status": "True", "reason": "InvalidSpec",
                "message": "The Rollout \"guestbook\" is invalid: x", "lastUpdateTime": WEEK_AGO, "lastTransitionTime": WEEK_AGO}]
        }}));
        let e = explained(&ro, &[], &[], &[]);
        assert_eq!(codes(&e), ["InvalidSpec"]);
        assert_eq!(
            e.reasons[0].text,
            "The spec is invalid: The Rollout \"guestbook\" is invalid: x"
        );
    }

    #[test]
    fn healthy_and_controller_lag() {
        let ro = canary(
            json!({"status": {"phase": "Healthy", "stableRS": "abc", "currentPodHash": "abc",
            "replicas": 5, "updatedReplicas": 5, "availableReplicas": 5, "currentStepIndex": 4}}),
        );
        let rs = vec![replica_set(
            "guestbook-abc",
            "shop",
            "Rollout",
            "uid-guestbook",
            3,
            "abc",
            5,
            5,
            "app:3",
        )];
        let e = explained(&ro, &rs, &[], &[]);
        assert!(!e.blocked);
        assert_eq!(
            e.reasons[0].text,
            "The rollout is healthy: 5 of 5 replicas available, running revision 3 (guestbook-abc)."
        );
        assert!(e.next_steps.is_empty());

        let mut lagging = ro.clone();
        lagging.metadata.generation = Some(2);
        let e = explained(&lagging, &rs, &[], &[]);
        assert_eq!(codes(&e), ["SpecNotObserved"]);

        let never_seen = rollout("new", "shop", json!({"status": null}));
        assert_eq!(
            codes(&explained(&never_seen, &[], &[], &[])),
            ["SpecNotObserved"]
        );

        let unpausing = canary(
            json!({"status": {"phase": "Paused", "controllerPause": true, "pauseConditions": []}}),
        );
        assert_eq!(codes(&explained(&unpausing, &[], &[], &[])), ["Unpausing"]);
    }

    #[test]
    fn progressing_waits_for_pods_analysis_and_stable() {
        let ro = canary(json!({"status": {
            "phase": "Progressing", "message": "updated replicas are still becoming available",
            "currentStepIndex": 0, "stableRS": "old", "currentPodHash": "abc",
            "replicas": 6, "updatedReplicas": 1, "availableReplicas": 4,
            "canary": {"currentStepAnalysisRunStatus": {"name": "run-1", "status": "Running"}}
        }}));
        let rs = vec![
            replica_set(
                "guestbook-abc",
                "shop",
                "Rollout",
                "uid-guestbook",
                2,
                "abc",
                1,
                0,
                "app:2",
            ),
            replica_set(
                "guestbook-old",
                "shop",
                "Rollout",
                "uid-guestbook",
                1,
                "old",
                5,
                4,
                "app:1",
            ),
        ];
        let pods = vec![
            waiting_pod(
                "guestbook-abc-1",
                "shop",
                "guestbook-abc",
                "ContainerCreating",
            ),
            waiting_pod(
                "guestbook-old-1",
                "shop",
                "guestbook-old",
                "CrashLoopBackOff",
            ),
        ];
        let e = explained(&ro, &rs, &pods, &[]);
        assert!(!e.blocked);
        assert_eq!(
            codes(&e),
            [
                "AnalysisRunning",
                "WaitingForPods",
                "PodsNotReady",
                "StableUnhealthy",
                "PodsNotReady"
            ]
        );
        assert_eq!(
            e.reasons[0].text,
            "Waiting for analysis run run-1 (Running) of the current step."
        );
        assert_eq!(
            e.reasons[1].text,
            "1 of 5 replicas are updated and 4 available (updated replicas are still becoming available)."
        );
        assert_eq!(
            e.reasons[3].text,
            "The stable ReplicaSet guestbook-old has 4 of 5 pods available."
        );
        assert!(render(&e).contains(
            "kubectl argo rollouts promote guestbook -n shop\n      skip the analysis step"
        ));
    }
}
