//! The validation gate (InvalidSpec and recovery, unsupported features, referenced Services) and
//! the stable/canary Service selectors.

use std::time::Duration;

use serde_json::json;

use super::harness::*;
use crate::{
    crd::{BlueGreenStrategy, CanaryStep, RolloutAnalysis, RolloutStrategy, rollout::keys},
    plan::Action,
    reconcile::INVALID_SPEC_REQUEUE,
};

#[test]
fn invalid_spec_degrades_and_recovers() {
    let mut world = World::new(rollout(3, Some(vec![weight(200)])));
    let plan = world.reconcile();
    let message = "The Rollout \"foo\" is invalid: spec.strategy.steps[0].setWeight: Invalid value: 200: SetWeight needs to be between 0 and 100";
    assert_eq!(shape(&plan), ["patch status"], "nothing but the condition");
    assert_eq!(plan.requeue_after, Some(INVALID_SPEC_REQUEUE));
    assert_eq!(plan.requeue_after, Some(Duration::from_secs(20)));
    assert_eq!(
        world.conditions(),
        [(
            "InvalidSpec".into(),
            "True".into(),
            "InvalidSpec".into(),
            message.into()
        )]
    );
    assert_eq!(
        world.phase(),
        ("Degraded".into(), format!("InvalidSpec: {message}"))
    );
    assert_eq!(world.status().observed_generation.as_deref(), Some("1"));
    assert!(world.rss.is_empty());

    // Unchanged: nothing to write, still looked at every 20 s.
    let plan = world.reconcile();
    assert!(plan.items.is_empty());
    assert_eq!(plan.requeue_after, Some(INVALID_SPEC_REQUEUE));

    // Another error replaces the message (and moves the condition to the end).
    world.rollout.spec.strategy.canary.as_mut().unwrap().steps = Some(vec![weight(-1)]);
    bump(&mut world.rollout);
    world.reconcile();
    assert!(world.conditions()[0].3.contains("Invalid value: -1"));

    // Fixed: the ReplicaSet is created and the persisted status no longer has InvalidSpec.
    world.rollout.spec.strategy.canary.as_mut().unwrap().steps = Some(vec![weight(20)]);
    bump(&mut world.rollout);
    let plan = world.reconcile();
    assert!(shape(&plan)[0].starts_with("create "));
    assert!(world.conditions().iter().all(|c| c.0 != "InvalidSpec"));
    assert_eq!(world.phase().0, "Progressing");
}

#[test]
fn unsupported_step_kinds_are_refused_with_a_clear_condition() {
    let mut ro = rollout(3, None);
    let plugin = CanaryStep {
        plugin: Some(crate::crd::PluginStep {
            name: "x".into(),
            config: None,
        }),
        ..Default::default()
    };
    ro.spec.strategy.canary.as_mut().unwrap().steps = Some(vec![weight(20), plugin]);
    let mut world = World::new(ro);
    let plan = world.reconcile();
    assert_eq!(shape(&plan), ["patch status"]);
    let message = "The Rollout \"foo\" is invalid: spec.strategy.canary.steps[1].plugin: Forbidden: not supported by this controller yet";
    assert_eq!(world.conditions()[0].3, message);
    assert_eq!(
        world.phase(),
        ("Degraded".into(), format!("InvalidSpec: {message}"))
    );
    assert!(world.rss.is_empty(), "nothing is deployed half-way");
}

#[test]
fn unsupported_features_name_the_field() {
    use crate::crd::{PingPongSpec, RolloutTrafficRouting};
    let mut cases: Vec<(&str, crate::crd::Rollout)> = Vec::new();
    let mut tr = rollout(3, None);
    tr.spec.strategy.canary.as_mut().unwrap().traffic_routing = Some(RolloutTrafficRouting {
        max_traffic_weight: Some(100),
        plugins: Some([("x".to_string(), json!({}))].into()),
        ..Default::default()
    });
    cases.push(("spec.strategy.canary.trafficRouting", tr));
    let mut pp = rollout(3, None);
    pp.spec.strategy.canary.as_mut().unwrap().ping_pong = Some(PingPongSpec {
        ping_service: "a".into(),
        pong_service: "b".into(),
    });
    cases.push(("spec.strategy.canary", pp));
    let mut wr = rollout(3, None);
    wr.spec.template = None;
    wr.spec.workload_ref = Some(crate::crd::ObjectRef {
        api_version: Some("apps/v1".into()),
        kind: Some("Deployment".into()),
        name: Some("foo".into()),
        scale_down: None,
    });
    cases.push(("spec.workloadRef", wr));
    for (path, ro) in cases {
        let world = World::new(ro);
        let plan = world.plan();
        let patch = &status_patches(&plan)[0];
        let message = patch["conditions"][0]["message"].as_str().unwrap();
        assert!(message.contains(path), "{path}: {message}");
    }
    // The gate itself, for the record.
    let mut pp = rollout(3, None);
    pp.spec.strategy.canary.as_mut().unwrap().ping_pong = Some(PingPongSpec {
        ping_service: "a".into(),
        pong_service: "b".into(),
    });
    assert_eq!(
        crate::reconcile::unsupported_feature(&pp)
            .unwrap()
            .to_string(),
        "spec.strategy.canary.pingPong: Forbidden: not supported by this controller yet"
    );
    // Ephemeral metadata is supported (see the metadata tests): not refused.
    let mut meta = rollout(3, None);
    let canary = meta.spec.strategy.canary.as_mut().unwrap();
    canary.canary_metadata = Some(Default::default());
    canary.stable_metadata = Some(Default::default());
    assert_eq!(crate::reconcile::unsupported_feature(&meta), None);
}

#[test]
fn analysis_templates_must_exist() {
    use crate::crd::{AnalysisTemplateRef, RolloutAnalysisBackground};
    let refs = |name: &str, cluster: bool| RolloutAnalysis {
        templates: Some(vec![AnalysisTemplateRef {
            template_name: Some(name.into()),
            cluster_scope: cluster.then_some(true),
        }]),
        ..Default::default()
    };
    type Set = Box<dyn Fn(&mut crate::crd::Rollout)>;
    let blue_green = |ro: &mut crate::crd::Rollout, strategy: BlueGreenStrategy| {
        ro.spec.strategy = RolloutStrategy {
            blue_green: Some(BlueGreenStrategy {
                active_service: "active".into(),
                ..strategy
            }),
            ..Default::default()
        };
    };
    let cases: Vec<(&str, Set)> = vec![
        (
            "spec.strategy.blueGreen.prePromotionAnalysis.templates: Invalid value: \"pre\": AnalysisTemplate 'pre' not found",
            Box::new(move |ro| {
                blue_green(
                    ro,
                    BlueGreenStrategy {
                        pre_promotion_analysis: Some(refs("pre", false)),
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "spec.strategy.blueGreen.postPromotionAnalysis.templates: Invalid value: \"post\": ClusterAnalysisTemplate 'post' not found",
            Box::new(move |ro| {
                blue_green(
                    ro,
                    BlueGreenStrategy {
                        post_promotion_analysis: Some(refs("post", true)),
                        ..Default::default()
                    },
                )
            }),
        ),
        (
            "spec.strategy.canary.steps[1].analysis.templates: Invalid value: \"step\": AnalysisTemplate 'step' not found",
            Box::new(move |ro| {
                ro.spec.strategy.canary.as_mut().unwrap().steps = Some(vec![
                    weight(20),
                    CanaryStep {
                        analysis: Some(refs("step", false)),
                        ..Default::default()
                    },
                ])
            }),
        ),
        (
            "spec.strategy.canary.analysis.templates: Invalid value: \"bg\": AnalysisTemplate 'bg' not found",
            Box::new(move |ro| {
                ro.spec.strategy.canary.as_mut().unwrap().analysis =
                    Some(RolloutAnalysisBackground {
                        analysis: refs("bg", false),
                        starting_step: None,
                    })
            }),
        ),
    ];
    for (detail, set) in cases {
        let mut ro = rollout(3, None);
        set(&mut ro);
        let mut world = World::new(ro);
        world
            .services
            .insert("active".into(), service("active", None, None));
        let plan = world.reconcile();
        let message = format!("The Rollout \"foo\" is invalid: {detail}");
        assert_eq!(shape(&plan), ["patch status"], "{detail}");
        assert_eq!(plan.requeue_after, Some(INVALID_SPEC_REQUEUE));
        assert_eq!(world.conditions()[0].3, message);
        assert_eq!(
            world.phase(),
            ("Degraded".into(), format!("InvalidSpec: {message}"))
        );
        assert!(world.rss.is_empty(), "nothing is deployed half-way");
    }
}

fn with_services(mut ro: crate::crd::Rollout) -> World {
    let canary = ro.spec.strategy.canary.as_mut().unwrap();
    canary.stable_service = Some("stable".into());
    canary.canary_service = Some("canary".into());
    let mut world = World::new(ro);
    world
        .services
        .insert("stable".into(), service("stable", None, None));
    world
        .services
        .insert("canary".into(), service("canary", None, None));
    world
}

#[test]
fn referenced_services_must_exist_and_not_belong_to_another_rollout() {
    let mut world = with_services(rollout(3, None));
    world.services.remove("canary");
    world.reconcile();
    assert_eq!(
        world.conditions()[0].3,
        "The Rollout \"foo\" is invalid: spec.strategy.canary.canaryService: Invalid value: \"canary\": service \"canary\" not found"
    );

    let mut world = with_services(rollout(3, None));
    world
        .services
        .insert("stable".into(), service("stable", None, Some("bar")));
    world.reconcile();
    assert_eq!(
        world.conditions()[0].3,
        "The Rollout \"foo\" is invalid: spec.strategy.canary.stableService: Invalid value: \"stable\": Service \"stable\" is managed by another Rollout"
    );

    let mut world = with_services(rollout(3, None));
    let mut svc = service("canary", None, None);
    svc.spec
        .as_mut()
        .unwrap()
        .selector
        .as_mut()
        .unwrap()
        .insert("tier".into(), "web".into());
    world.services.insert("canary".into(), svc);
    world.reconcile();
    assert_eq!(
        world.conditions()[0].3,
        "The Rollout \"foo\" is invalid: spec.strategy.canary.canaryService: Invalid value: \"canary\": Service \"canary\" has unmatch label \"tier\" in rollout"
    );
}

fn selector_of(world: &World, svc: &str) -> Option<String> {
    world.services[svc]
        .spec
        .as_ref()?
        .selector
        .as_ref()?
        .get(keys::POD_TEMPLATE_HASH)
        .cloned()
}

#[test]
fn services_follow_available_replica_sets() {
    let mut world = with_services(rollout(3, Some(vec![weight(34), pause()])));
    // Not before the ReplicaSet has available pods (adoption even waits for all of them).
    world.reconcile();
    world.reconcile();
    assert_eq!(selector_of(&world, "stable"), None);
    world.settle();
    let plan = world.reconcile();
    let h1 = hash(&world.rollout);
    let switches: Vec<_> = plan
        .actions()
        .filter_map(|a| match a {
            Action::PatchService { name, patch } => Some((name.clone(), patch.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        switches,
        [
            (
                "stable".to_string(),
                json!({"metadata": {"annotations": {keys::MANAGED_BY_ROLLOUTS: "foo"}}, "spec": {"selector": {keys::POD_TEMPLATE_HASH: h1}}})
            ),
            (
                "canary".to_string(),
                json!({"metadata": {"annotations": {keys::MANAGED_BY_ROLLOUTS: "foo"}}, "spec": {"selector": {keys::POD_TEMPLATE_HASH: h1}}})
            ),
        ]
    );
    assert!(events(&plan).contains(&(
        "SwitchService".into(),
        format!("Switched selector for service 'stable' from '' to '{h1}'")
    )));

    // An update: the canary Service moves to V2 once it has an available pod; stable stays.
    set_image(&mut world.rollout, "app:v2");
    world.reconcile();
    let h2 = hash(&world.rollout);
    // 34% of 3: 1 canary / 2 stable; maxUnavailable rounds to 0, so the canary comes first.
    let plan = world.reconcile();
    assert_eq!(scaled(&plan), [(rs_name(&world.rollout), 1)]);
    let plan = world.reconcile();
    assert!(
        !shape(&plan).iter().any(|s| s.starts_with("patch service")),
        "0 available: no switch"
    );
    assert_eq!(selector_of(&world, "canary").as_deref(), Some(h1.as_str()));
    world.settle();
    let plan = world.reconcile();
    let switch = plan.actions().find_map(|a| match a {
        Action::PatchService { name, patch } => Some((name.clone(), patch.clone())),
        _ => None,
    });
    assert_eq!(
        switch,
        Some((
            "canary".into(),
            json!({"spec": {"selector": {keys::POD_TEMPLATE_HASH: h2}}})
        ))
    );
    assert_eq!(selector_of(&world, "stable").as_deref(), Some(h1.as_str()));

    // Abort (no traffic routing): the canary Service points back to the stable at once.
    world.rollout.status.as_mut().unwrap().abort = Some(true);
    let plan = world.reconcile();
    assert!(events(&plan).contains(&(
        "SwitchService".into(),
        format!("Switched selector for service 'canary' from '{h2}' to '{h1}'")
    )));
    assert_eq!(selector_of(&world, "canary").as_deref(), Some(h1.as_str()));
}
