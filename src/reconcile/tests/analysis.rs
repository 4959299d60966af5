//! AnalysisRuns started by the rollout: inline analysis steps, background analysis, blue-green
//! pre- and post-promotion analysis; how their phases pause, abort or advance the rollout; and
//! cancellation, retries and history limits. Run phases are set by the test, playing the
//! AnalysisRun controller.

use serde_json::json;

use super::harness::*;
use crate::{
    crd::{
        AnalysisRun, AnalysisTemplate, AnalysisTemplateRef, BlueGreenStrategy, CanaryStep,
        RolloutAnalysis, RolloutAnalysisBackground, RolloutStrategy, rollout::keys,
    },
    plan::{Action, Plan},
};

fn template(name: &str) -> AnalysisTemplate {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "args": [{"name": "hash"}],
            "metrics": [{
                "name": "success-rate",
                "successCondition": "result == 1",
                "provider": {"web": {"url": "http://metrics/{{args.hash}}"}}
            }]
        }
    }))
    .unwrap()
}

fn analysis(name: &str) -> RolloutAnalysis {
    serde_json::from_value(json!({
        "templates": [{"templateName": name}],
        "args": [{"name": "hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]
    }))
    .unwrap()
}

fn analysis_step(name: &str) -> CanaryStep {
    CanaryStep {
        analysis: Some(analysis(name)),
        ..Default::default()
    }
}

/// A healthy canary (v1) with the template installed; then `app:v2` applied and reconciled
/// until the controller has nothing more to do at its current step.
fn updated(steps: Vec<CanaryStep>, background: Option<(i32, &str)>) -> World {
    let mut ro = rollout(4, Some(steps));
    if let Some((start, name)) = background {
        ro.spec.strategy.canary.as_mut().unwrap().analysis = Some(RolloutAnalysisBackground {
            analysis: analysis(name),
            starting_step: Some(start),
        });
    }
    let mut world = World::new(ro);
    world
        .analysis_templates
        .insert("rate".into(), template("rate"));
    world.run_to_rest(10);
    assert_eq!(world.phase().0, "Healthy");
    assert!(
        world.analysis_runs.is_empty(),
        "no analysis on the initial deploy"
    );
    set_image(&mut world.rollout, "app:v2");
    bump(&mut world.rollout);
    world.run_to_rest(20);
    world
}

fn set_phase(world: &mut World, name: &str, phase: &str, message: &str) {
    let run = world
        .analysis_runs
        .iter_mut()
        .find(|r| r.metadata.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no run {name}"));
    let mut status = json!({"phase": phase});
    if !message.is_empty() {
        status["message"] = json!(message);
    }
    run.status = Some(serde_json::from_value(status).unwrap());
}

fn run_names(world: &World) -> Vec<String> {
    world
        .analysis_runs
        .iter()
        .map(|r| r.metadata.name.clone().unwrap())
        .collect()
}

fn run<'w>(world: &'w World, name: &str) -> &'w AnalysisRun {
    world
        .analysis_runs
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(name))
        .unwrap()
}

fn cancelled(plan: &Plan) -> Vec<String> {
    plan.actions()
        .filter_map(|a| match a {
            Action::PatchAnalysisRun { name, patch } => {
                assert_eq!(patch, &json!({"spec": {"terminate": true}}));
                Some(name.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn an_analysis_step_creates_its_run_and_advances_when_it_succeeds() {
    let mut world = updated(vec![weight(25), analysis_step("rate"), weight(50)], None);
    let hash = hash(&world.rollout);
    let name = format!("foo-{hash}-2-1");
    assert_eq!(run_names(&world), std::slice::from_ref(&name));
    assert_eq!(world.status().current_step_index, Some(1));

    // The run as Argo creates it: labels, annotations, owner, arguments resolved, metrics.
    let ar = run(&world, &name);
    let labels = ar.metadata.labels.clone().unwrap();
    assert_eq!(labels[keys::POD_TEMPLATE_HASH], hash);
    assert_eq!(labels[keys::ROLLOUT_TYPE], "Step");
    assert_eq!(labels[keys::STEP_INDEX], "1");
    assert_eq!(labels["app"], "foo", "the rollout's selector labels");
    assert_eq!(
        ar.metadata.annotations.clone().unwrap()[keys::REVISION],
        "2"
    );
    let owner = &ar.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("Rollout", Some(true))
    );
    let args = ar.spec.args.clone().unwrap();
    assert_eq!(args[0].name, "hash");
    assert_eq!(args[0].value.as_deref(), Some(hash.as_str()));
    assert_eq!(ar.spec.metrics[0].name, "success-rate");
    let recorded = world.status().canary.clone().unwrap();
    let recorded = recorded.current_step_analysis_run_status.unwrap();
    assert_eq!(recorded.name, name);
    assert!(recorded.status.is_empty(), "no phase yet");

    // Running: recorded, one event, no advance.
    set_phase(&mut world, &name, "Running", "");
    let plan = world.reconcile();
    assert_eq!(
        events(&plan),
        [(
            "AnalysisRunRunning".to_string(),
            format!("Step Analysis Run '{name}' Status New: 'Running' Previous: ''")
        )]
    );
    let plans = world.run_to_rest(5);
    assert!(
        plans.iter().all(|p| events(p).is_empty()),
        "one event per change"
    );
    assert_eq!(world.status().current_step_index, Some(1));
    assert_eq!(world.phase().0, "Progressing");

    // Successful: the step completes and the update carries on to the end.
    set_phase(&mut world, &name, "Successful", "");
    let plan = world.reconcile();
    let reasons: Vec<String> = events(&plan).into_iter().map(|e| e.0).collect();
    assert_eq!(reasons, ["AnalysisRunSuccessful", "RolloutStepCompleted"]);
    world.run_to_rest(20);
    assert_eq!(world.phase().0, "Healthy");
    assert_eq!(world.status().stable_rs.as_deref(), Some(hash.as_str()));
    assert_eq!(run_names(&world), [name], "kept for the history");
}

#[test]
fn a_failed_step_run_aborts_with_its_message() {
    let mut world = updated(vec![weight(25), analysis_step("rate"), weight(50)], None);
    let name = run_names(&world)[0].clone();
    let detail = "Metric \"success-rate\" assessed Failed due to failed (1) > failureLimit (0)";
    set_phase(&mut world, &name, "Failed", detail);
    let plan = world.reconcile();
    assert!(
        warnings(&plan).contains(&"AnalysisRunFailed".to_string()),
        "{:?}",
        events(&plan)
    );
    world.run_to_rest(20);
    let message = format!(
        "Rollout aborted update to revision 2: Step-based analysis phase error/failed: {detail}"
    );
    assert_eq!(
        world.phase(),
        ("Degraded".into(), format!("RolloutAborted: {message}"))
    );
    assert_eq!(world.status().abort, Some(true));
    let stable = world.status().stable_rs.clone().unwrap();
    assert_eq!(
        world.spec_of(&format!("foo-{stable}")),
        4,
        "stable back at full size"
    );
    assert_eq!(world.spec_of(&rs_name(&world.rollout)), 0);

    // Retry: a new run (the old name is taken) and the steps start again.
    let mut value = serde_json::to_value(&world.rollout).unwrap();
    apply_merge_patch(&mut value, &json!({"status": {"abort": false}}));
    world.rollout = serde_json::from_value(value).unwrap();
    world.run_to_rest(20);
    assert_eq!(run_names(&world), [name.clone(), format!("{name}.1")]);
    assert_eq!(world.status().current_step_index, Some(1));
}

#[test]
fn an_inconclusive_run_pauses_and_a_resume_starts_a_new_run() {
    let mut world = updated(vec![weight(25), analysis_step("rate"), weight(50)], None);
    let name = run_names(&world)[0].clone();
    set_phase(&mut world, &name, "Inconclusive", "");
    world.run_to_rest(5);
    let status = world.status().clone();
    let reasons: Vec<String> = status
        .pause_conditions
        .iter()
        .flatten()
        .map(|p| p.reason.as_str().to_string())
        .collect();
    assert_eq!(reasons, ["InconclusiveAnalysisRun"]);
    assert_eq!(status.controller_pause, Some(true));
    assert_eq!(world.phase().0, "Paused");
    assert_eq!(world.status().current_step_index, Some(1));

    // `kubectl argo rollouts promote`: the pause conditions are cleared; a new run starts.
    let mut value = serde_json::to_value(&world.rollout).unwrap();
    apply_merge_patch(&mut value, &json!({"status": {"pauseConditions": null}}));
    world.rollout = serde_json::from_value(value).unwrap();
    world.run_to_rest(5);
    assert_eq!(run_names(&world), [name.clone(), format!("{name}.1")]);
    set_phase(&mut world, &format!("{name}.1"), "Successful", "");
    world.run_to_rest(20);
    assert_eq!(world.phase().0, "Healthy");
}

#[test]
fn background_analysis_starts_at_its_step_and_aborts_when_it_fails() {
    let steps = vec![weight(25), pause(), weight(50), pause()];
    let mut world = updated(steps, Some((2, "rate")));
    assert!(world.analysis_runs.is_empty(), "not before startingStep");
    assert_eq!(world.phase().0, "Paused");

    // Promote past the first pause: the background run starts at step 2.
    let mut value = serde_json::to_value(&world.rollout).unwrap();
    apply_merge_patch(&mut value, &json!({"status": {"pauseConditions": null}}));
    world.rollout = serde_json::from_value(value).unwrap();
    world.run_to_rest(20);
    let hash = hash(&world.rollout);
    let name = format!("foo-{hash}-2");
    assert_eq!(run_names(&world), std::slice::from_ref(&name));
    assert_eq!(
        run(&world, &name).metadata.labels.clone().unwrap()[keys::ROLLOUT_TYPE],
        "Background"
    );

    set_phase(
        &mut world,
        &name,
        "Error",
        "Metric \"success-rate\" assessed Error",
    );
    world.run_to_rest(20);
    assert_eq!(world.status().abort, Some(true));
    assert!(
        world.phase().1.ends_with(
            "Background analysis phase error/failed: Metric \"success-rate\" assessed Error"
        ),
        "{:?}",
        world.phase()
    );
}

#[test]
fn promote_full_cancels_the_running_analysis() {
    let mut world = updated(vec![weight(25), analysis_step("rate"), weight(50)], None);
    let name = run_names(&world)[0].clone();
    set_phase(&mut world, &name, "Running", "");
    world.run_to_rest(5);
    let mut value = serde_json::to_value(&world.rollout).unwrap();
    apply_merge_patch(&mut value, &json!({"status": {"promoteFull": true}}));
    world.rollout = serde_json::from_value(value).unwrap();
    world.settle();
    let plan = world.reconcile();
    assert_eq!(cancelled(&plan), std::slice::from_ref(&name));
    assert_eq!(run(&world, &name).spec.terminate, Some(true));
    world.run_to_rest(20);
    assert_eq!(world.phase().0, "Healthy");
}

#[test]
fn old_runs_beyond_the_history_limits_are_deleted() {
    let mut world = updated(vec![weight(25), analysis_step("rate")], None);
    let name = run_names(&world)[0].clone();
    set_phase(&mut world, &name, "Successful", "");
    world.run_to_rest(20);
    assert_eq!(world.phase().0, "Healthy");
    // Three more updates, each with a successful run, with a history limit of 2.
    world.rollout.spec.analysis = Some(crate::crd::AnalysisRunStrategy {
        successful_run_history_limit: Some(2),
        unsuccessful_run_history_limit: None,
    });
    for i in 3..6 {
        world.advance(60);
        set_image(&mut world.rollout, &format!("app:v{i}"));
        bump(&mut world.rollout);
        world.run_to_rest(20);
        let current = world
            .status()
            .canary
            .clone()
            .unwrap()
            .current_step_analysis_run_status
            .unwrap()
            .name;
        set_phase(&mut world, &current, "Successful", "");
        world.run_to_rest(20);
        assert_eq!(world.phase().0, "Healthy", "v{i}");
    }
    // v2..v5 ran one run each; none is current once its step completed, and the limit keeps
    // the 2 newest successful ones (revisions 4 and 5).
    let revisions: Vec<String> = world
        .analysis_runs
        .iter()
        .map(|r| r.metadata.annotations.clone().unwrap()[keys::REVISION].clone())
        .collect();
    assert_eq!(revisions, ["4", "5"], "{:?}", run_names(&world));
}

#[test]
fn blue_green_pre_promotion_failure_keeps_traffic_on_stable() {
    let mut ro = rollout(2, None);
    ro.spec.strategy = RolloutStrategy {
        blue_green: Some(BlueGreenStrategy {
            active_service: "active".into(),
            preview_service: Some("preview".into()),
            auto_promotion_enabled: Some(false),
            pre_promotion_analysis: Some(analysis("rate")),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut world = World::new(ro);
    world
        .services
        .insert("active".into(), service("active", None, None));
    world
        .services
        .insert("preview".into(), service("preview", None, None));
    world
        .analysis_templates
        .insert("rate".into(), template("rate"));
    world.run_to_rest(10);
    assert_eq!(world.phase().0, "Healthy");
    let v1 = hash(&world.rollout);
    assert!(world.analysis_runs.is_empty());

    set_image(&mut world.rollout, "app:v2");
    bump(&mut world.rollout);
    world.run_to_rest(20);
    let v2 = hash(&world.rollout);
    let name = format!("foo-{v2}-2-pre");
    assert_eq!(run_names(&world), std::slice::from_ref(&name));
    assert_eq!(
        run(&world, &name).metadata.labels.clone().unwrap()[keys::ROLLOUT_TYPE],
        "PrePromotion"
    );
    // Not paused for promotion before the analysis succeeds.
    assert!(world.status().pause_conditions.is_none());

    set_phase(&mut world, &name, "Failed", "boom");
    world.run_to_rest(20);
    assert_eq!(world.status().abort, Some(true));
    assert!(
        world
            .phase()
            .1
            .ends_with("Blue/green pre-promotion analysis phase error/failed: boom")
    );
    let active = &world.services["active"]
        .spec
        .as_ref()
        .unwrap()
        .selector
        .as_ref()
        .unwrap()[keys::POD_TEMPLATE_HASH];
    assert_eq!(active, &v1, "traffic stays on the stable stack");
}

#[test]
fn blue_green_post_promotion_success_completes_the_promotion() {
    let mut ro = rollout(2, None);
    ro.spec.strategy = RolloutStrategy {
        blue_green: Some(BlueGreenStrategy {
            active_service: "active".into(),
            post_promotion_analysis: Some(RolloutAnalysis {
                templates: Some(vec![AnalysisTemplateRef {
                    template_name: Some("rate".into()),
                    cluster_scope: None,
                }]),
                args: Some(vec![
                    serde_json::from_value(json!({"name": "hash", "value": "x"})).unwrap(),
                ]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut world = World::new(ro);
    world
        .services
        .insert("active".into(), service("active", None, None));
    world
        .analysis_templates
        .insert("rate".into(), template("rate"));
    world.run_to_rest(10);
    let v1 = hash(&world.rollout);
    set_image(&mut world.rollout, "app:v2");
    bump(&mut world.rollout);
    world.run_to_rest(20);
    let v2 = hash(&world.rollout);
    let name = format!("foo-{v2}-2-post");
    assert_eq!(run_names(&world), std::slice::from_ref(&name));
    // Switched, not promoted yet; the old stack is kept while the analysis runs.
    assert_eq!(world.status().stable_rs.as_deref(), Some(v1.as_str()));
    assert_eq!(world.spec_of(&format!("foo-{v1}")), 2);
    set_phase(&mut world, &name, "Successful", "");
    world.run_to_rest(20);
    assert_eq!(world.status().stable_rs.as_deref(), Some(v2.as_str()));
    assert_eq!(world.phase().0, "Healthy");
}

#[test]
fn analysis_templates_that_cannot_run_are_invalid_specs() {
    let forever: AnalysisTemplate = serde_json::from_value(json!({
        "metadata": {"name": "forever", "namespace": "default"},
        "spec": {"metrics": [{"name": "m", "interval": "1m", "provider": {"web": {"url": "http://x"}}}]}
    }))
    .unwrap();
    let cases = [
        (
            analysis_step("forever"),
            "spec.strategy.canary.steps[0].analysis.templates: Invalid value: \"forever\": AnalysisTemplate forever has metric m which runs indefinitely. Invalid value for count: <nil>",
        ),
        (
            // The template needs `hash`; the step passes nothing.
            CanaryStep {
                analysis: Some(RolloutAnalysis {
                    templates: analysis("rate").templates,
                    ..Default::default()
                }),
                ..Default::default()
            },
            "spec.strategy.canary.steps[0].analysis.templates: Invalid value: \"templateNames: [rate]\": args.hash was not resolved",
        ),
    ];
    for (step, detail) in cases {
        let mut world = World::new(rollout(2, Some(vec![step])));
        world
            .analysis_templates
            .insert("rate".into(), template("rate"));
        world
            .analysis_templates
            .insert("forever".into(), forever.clone());
        let plan = world.reconcile();
        assert_eq!(shape(&plan), ["patch status"], "{detail}");
        assert_eq!(
            world.conditions()[0].3,
            format!("The Rollout \"foo\" is invalid: {detail}")
        );
    }
    // Background analysis may run forever.
    let mut ro = rollout(2, Some(vec![weight(50)]));
    ro.spec.strategy.canary.as_mut().unwrap().analysis = Some(RolloutAnalysisBackground {
        analysis: RolloutAnalysis {
            templates: analysis("forever").templates,
            ..Default::default()
        },
        starting_step: None,
    });
    let mut world = World::new(ro);
    world.analysis_templates.insert("forever".into(), forever);
    world.run_to_rest(10);
    assert_eq!(world.phase().0, "Healthy");
}

#[test]
fn skipping_the_analysis_step_cancels_its_run() {
    let mut world = updated(
        vec![weight(25), analysis_step("rate"), weight(50), pause()],
        None,
    );
    let name = run_names(&world)[0].clone();
    set_phase(&mut world, &name, "Running", "");
    world.run_to_rest(5);
    // `kubectl argo rollouts promote` on a step that is not a pause moves the index on.
    let mut value = serde_json::to_value(&world.rollout).unwrap();
    apply_merge_patch(&mut value, &json!({"status": {"currentStepIndex": 2}}));
    world.rollout = serde_json::from_value(value).unwrap();
    world.settle();
    let plan = world.reconcile();
    assert_eq!(cancelled(&plan), std::slice::from_ref(&name));
    assert_eq!(run(&world, &name).spec.terminate, Some(true));
    let recorded = world.status().canary.clone().unwrap();
    assert_eq!(recorded.current_step_analysis_run_status, None);
    world.run_to_rest(10);
    assert_eq!(world.status().current_step_index, Some(3));
    assert_eq!(world.phase().0, "Paused");
    assert_eq!(
        run_names(&world),
        [name],
        "no new run for a step that is not analysis"
    );
}
