//! Snapshot tests of `get rollout` / `get experiment` / `list` output. The blue-green, canary,
//! aborted and experiment cases rebuild the situations of Argo's own `cmd/get` tests with small
//! fixtures and expect Argo's exact text.

use serde_json::json;

use super::{Style, list, tree};
use crate::{
    info::{experiment_info, experiment_list_row, rollout_info, rollout_list_row},
    testing::*,
};

fn assert_text(got: &str, want: &str) {
    let got = trim_lines(got);
    let want = want.strip_prefix('\n').unwrap_or(want);
    assert_eq!(got, want, "\n--- got ---\n{got}\n--- want ---\n{want}");
}

const BG: &str = "bluegreen-demo";
const BG_NS: &str = "jesse-test";

fn blue_green_objects() -> (
    rollouts::crd::Rollout,
    Vec<k8s_openapi::api::apps::v1::ReplicaSet>,
    Vec<k8s_openapi::api::core::v1::Pod>,
) {
    let ro = rollout(
        BG,
        BG_NS,
        json!({
            "spec": {"replicas": 3, "strategy": {"blueGreen": {
                "activeService": "bluegreen-demo", "previewService": "bluegreen-demo-preview",
                "autoPromotionEnabled": false
            }}},
            "status": {
                "phase": "Paused", "message": "BlueGreenPause", "controllerPause": true,
                "pauseConditions": [{"reason": "BlueGreenPause", "startTime": "2026-01-07T23:00:00Z"}],
                "replicas": 6, "updatedReplicas": 3, "readyReplicas": 6, "availableReplicas": 3,
                "stableRS": "6cbccd9f99", "currentPodHash": "74b948fccb",
                "blueGreen": {"activeSelector": "6cbccd9f99", "previewSelector": "74b948fccb"}
            }
        }),
    );
    let uid = "uid-bluegreen-demo";
    let rs = vec![
        replica_set(
            "bluegreen-demo-746d5fddf6",
            BG_NS,
            "Rollout",
            uid,
            8,
            "746d5fddf6",
            0,
            0,
            "argoproj/rollouts-demo:red",
        ),
        replica_set(
            "bluegreen-demo-74b948fccb",
            BG_NS,
            "Rollout",
            uid,
            11,
            "74b948fccb",
            3,
            3,
            "argoproj/rollouts-demo:green",
        ),
        replica_set(
            "bluegreen-demo-6cbccd9f99",
            BG_NS,
            "Rollout",
            uid,
            10,
            "6cbccd9f99",
            3,
            3,
            "argoproj/rollouts-demo:blue",
        ),
    ];
    let mut pods = Vec::new();
    for suffix in ["vvj2t", "5jz59", "mkhrl"] {
        pods.push(running_pod(
            &format!("bluegreen-demo-74b948fccb-{suffix}"),
            BG_NS,
            "bluegreen-demo-74b948fccb",
        ));
    }
    for suffix in ["t2d4f", "kxj8g", "gk78v"] {
        pods.push(running_pod(
            &format!("bluegreen-demo-6cbccd9f99-{suffix}"),
            BG_NS,
            "bluegreen-demo-6cbccd9f99",
        ));
    }
    (ro, rs, pods)
}

#[test]
fn blue_green_paused_for_promotion() {
    let (ro, rs, pods) = blue_green_objects();
    let info = rollout_info(&ro, &rs, &pods, &[], &[], None);
    assert_text(
        &tree::render_rollout(&info, now(), Style::PLAIN),
        r#"
Name:            bluegreen-demo
Namespace:       jesse-test
Status:          ॥ Paused
Message:         BlueGreenPause
Strategy:        BlueGreen
Images:          argoproj/rollouts-demo:blue (stable, active)
                 argoproj/rollouts-demo:green (preview)
Replicas:
  Desired:       3
  Current:       6
  Updated:       3
  Ready:         6
  Available:     3

NAME                                        KIND        STATUS        AGE  INFO
⟳ bluegreen-demo                            Rollout     ॥ Paused      7d
├──# revision:11
│  └──⧉ bluegreen-demo-74b948fccb           ReplicaSet  ✔ Healthy     7d   preview
│     ├──□ bluegreen-demo-74b948fccb-5jz59  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-74b948fccb-mkhrl  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-74b948fccb-vvj2t  Pod         ✔ Running     7d   ready:1/1
├──# revision:10
│  └──⧉ bluegreen-demo-6cbccd9f99           ReplicaSet  ✔ Healthy     7d   stable,active
│     ├──□ bluegreen-demo-6cbccd9f99-gk78v  Pod         ✔ Running     7d   ready:1/1
│     ├──□ bluegreen-demo-6cbccd9f99-kxj8g  Pod         ✔ Running     7d   ready:1/1
│     └──□ bluegreen-demo-6cbccd9f99-t2d4f  Pod         ✔ Running     7d   ready:1/1
└──# revision:8
   └──⧉ bluegreen-demo-746d5fddf6           ReplicaSet  • ScaledDown  7d
"#,
    );
}

#[test]
fn blue_green_scale_down_delay() {
    let (ro, mut rs, pods) = blue_green_objects();
    rs[1] = annotate(
        rs[1].clone(),
        json!({"scale-down-deadline": "2026-01-08T03:59:00Z"}),
    );
    rs[1].metadata.labels = None;
    let info = rollout_info(&ro, &rs, &pods, &[], &[], None);
    let out = tree::render_rollout(&info, now(), Style::PLAIN);
    assert!(
        trim_lines(&out).contains("│  └──⧉ bluegreen-demo-74b948fccb           ReplicaSet  ✔ Healthy     7d   delay:3h59m\n"),
        "{out}"
    );
    assert!(out.contains("Images:          argoproj/rollouts-demo:blue (stable, active)\n                 argoproj/rollouts-demo:green\n"));
    rs[1] = annotate(
        rs[1].clone(),
        json!({"scale-down-deadline": "2026-01-07T23:00:00Z"}),
    );
    let info = rollout_info(&ro, &rs, &pods, &[], &[], None);
    assert!(tree::render_rollout(&info, now(), Style::PLAIN).contains("delay:passed"));
}

#[test]
fn canary_degraded_after_progress_deadline() {
    let ns = "jesse-test";
    let uid = "uid-canary-demo";
    let message = r#"ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing."#;
    let ro = rollout(
        "canary-demo",
        ns,
        json!({
            "spec": {"replicas": 5, "strategy": {"canary": {"steps": [
                {"setWeight": 20}, {"pause": {}}, {"setWeight": 40}, {"pause": {"duration": 10}},
                {"setWeight": 60}, {"pause": {"duration": 10}}, {"setWeight": 80}, {"pause": {"duration": 10}}
            ]}}},
            "status": {
                "phase": "Degraded", "message": format!("ProgressDeadlineExceeded: {message}"),
                "currentStepIndex": 0,
                "replicas": 6, "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5,
                "stableRS": "877894d5b", "currentPodHash": "65fb5ffc84",
                "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                    "message": message, "lastUpdateTime": WEEK_AGO, "lastTransitionTime": WEEK_AGO}]
            }
        }),
    );
    let rs = vec![
        replica_set(
            "canary-demo-65fb5ffc84",
            ns,
            "Rollout",
            uid,
            31,
            "65fb5ffc84",
            1,
            0,
            "argoproj/rollouts-demo:does-not-exist",
        ),
        replica_set(
            "canary-demo-877894d5b",
            ns,
            "Rollout",
            uid,
            30,
            "877894d5b",
            5,
            5,
            "argoproj/rollouts-demo:green",
        ),
        replica_set(
            "canary-demo-859c99b45c",
            ns,
            "Rollout",
            uid,
            29,
            "859c99b45c",
            0,
            0,
            "argoproj/rollouts-demo:blue",
        ),
    ];
    let mut pods = vec![waiting_pod(
        "canary-demo-65fb5ffc84-9wf5r",
        ns,
        "canary-demo-65fb5ffc84",
        "ImagePullBackOff",
    )];
    for s in ["kh7x4", "jw5qm", "j8g2b", "7jmqw", "6jfpt"] {
        pods.push(running_pod(
            &format!("canary-demo-877894d5b-{s}"),
            ns,
            "canary-demo-877894d5b",
        ));
    }
    let info = rollout_info(&ro, &rs, &pods, &[], &[], None);
    assert_text(
        &tree::render_rollout(&info, now(), Style::PLAIN),
        r#"
Name:            canary-demo
Namespace:       jesse-test
Status:          ✖ Degraded
Message:         ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.
Strategy:        Canary
  Step:          0/8
  SetWeight:     20
  ActualWeight:  0
Images:          argoproj/rollouts-demo:does-not-exist (canary)
                 argoproj/rollouts-demo:green (stable)
Replicas:
  Desired:       5
  Current:       6
  Updated:       1
  Ready:         5
  Available:     5

NAME                                     KIND        STATUS              AGE  INFO
⟳ canary-demo                            Rollout     ✖ Degraded          7d
├──# revision:31
│  └──⧉ canary-demo-65fb5ffc84           ReplicaSet  ◌ Progressing       7d   canary
│     └──□ canary-demo-65fb5ffc84-9wf5r  Pod         ⚠ ImagePullBackOff  7d   ready:0/1
├──# revision:30
│  └──⧉ canary-demo-877894d5b            ReplicaSet  ✔ Healthy           7d   stable
│     ├──□ canary-demo-877894d5b-6jfpt   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-7jmqw   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-j8g2b   Pod         ✔ Running           7d   ready:1/1
│     ├──□ canary-demo-877894d5b-jw5qm   Pod         ✔ Running           7d   ready:1/1
│     └──□ canary-demo-877894d5b-kh7x4   Pod         ✔ Running           7d   ready:1/1
└──# revision:29
   └──⧉ canary-demo-859c99b45c           ReplicaSet  • ScaledDown        7d
"#,
    );

    // With ping-pong the roles get ping/pong tags too.
    let mut pp = ro.clone();
    pp.spec.strategy.canary.as_mut().unwrap().ping_pong = Some(rollouts::crd::PingPongSpec {
        ping_service: "ping".into(),
        pong_service: "pong".into(),
    });
    pp.status.as_mut().unwrap().canary =
        Some(serde_json::from_value(json!({"stablePingPong": "pong"})).unwrap());
    let info = rollout_info(&pp, &rs, &pods, &[], &[], None);
    let out = trim_lines(&tree::render_rollout(&info, now(), Style::PLAIN));
    assert!(out.contains("Images:          argoproj/rollouts-demo:does-not-exist (canary, ping)\n                 argoproj/rollouts-demo:green (stable, pong)\n"), "{out}");
    assert!(
        out.contains("ReplicaSet  ◌ Progressing       7d   canary,ping\n"),
        "{out}"
    );
    assert!(
        out.contains("ReplicaSet  ✔ Healthy           7d   stable,pong\n"),
        "{out}"
    );
}

#[test]
fn canary_paused_at_a_step() {
    let ns = "default";
    let uid = "uid-guestbook";
    let ro = rollout(
        "guestbook",
        ns,
        json!({
            "spec": {"replicas": 5, "strategy": {"canary": {"steps": [
                {"setWeight": 20}, {"pause": {}}, {"setWeight": 60}
            ]}}},
            "status": {
                "phase": "Paused", "message": "CanaryPauseStep", "controllerPause": true,
                "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-07T23:50:00Z"}],
                "currentStepIndex": 1,
                "replicas": 5, "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5,
                "stableRS": "aaaaaaaaaa", "currentPodHash": "bbbbbbbbbb"
            }
        }),
    );
    let rs = vec![
        replica_set(
            "guestbook-bbbbbbbbbb",
            ns,
            "Rollout",
            uid,
            2,
            "bbbbbbbbbb",
            1,
            1,
            "guestbook:v2",
        ),
        replica_set(
            "guestbook-aaaaaaaaaa",
            ns,
            "Rollout",
            uid,
            1,
            "aaaaaaaaaa",
            4,
            4,
            "guestbook:v1",
        ),
    ];
    let mut pods = vec![running_pod(
        "guestbook-bbbbbbbbbb-x1",
        ns,
        "guestbook-bbbbbbbbbb",
    )];
    for i in 1..=4 {
        pods.push(running_pod(
            &format!("guestbook-aaaaaaaaaa-s{i}"),
            ns,
            "guestbook-aaaaaaaaaa",
        ));
    }
    let info = rollout_info(&ro, &rs, &pods, &[], &[], None);
    assert_text(
        &tree::render_rollout(&info, now(), Style::PLAIN),
        r#"
Name:            guestbook
Namespace:       default
Status:          ॥ Paused
Message:         CanaryPauseStep
Strategy:        Canary
  Step:          1/3
  SetWeight:     20
  ActualWeight:  20
Images:          guestbook:v1 (stable)
                 guestbook:v2 (canary)
Replicas:
  Desired:       5
  Current:       5
  Updated:       1
  Ready:         5
  Available:     5

NAME                                KIND        STATUS     AGE  INFO
⟳ guestbook                         Rollout     ॥ Paused   7d
├──# revision:2
│  └──⧉ guestbook-bbbbbbbbbb        ReplicaSet  ✔ Healthy  7d   canary
│     └──□ guestbook-bbbbbbbbbb-x1  Pod         ✔ Running  7d   ready:1/1
└──# revision:1
   └──⧉ guestbook-aaaaaaaaaa        ReplicaSet  ✔ Healthy  7d   stable
      ├──□ guestbook-aaaaaaaaaa-s1  Pod         ✔ Running  7d   ready:1/1
      ├──□ guestbook-aaaaaaaaaa-s2  Pod         ✔ Running  7d   ready:1/1
      ├──□ guestbook-aaaaaaaaaa-s3  Pod         ✔ Running  7d   ready:1/1
      └──□ guestbook-aaaaaaaaaa-s4  Pod         ✔ Running  7d   ready:1/1
"#,
    );
}

#[test]
fn canary_aborted_by_failed_analysis() {
    let ns = "default";
    let name = "rollout-background-analysis";
    let uid = "uid-rollout-background-analysis";
    let message = r#"metric "web" assessed Failed due to failed (1) > failureLimit (0)"#;
    let ro = rollout(
        name,
        ns,
        json!({
            "spec": {"replicas": 1, "strategy": {"canary": {"steps": [{"setWeight": 10}, {"pause": {}}]}}},
            "status": {
                "abort": true, "phase": "Degraded", "message": format!("RolloutAborted: {message}"),
                "currentStepIndex": 0,
                "replicas": 1, "updatedReplicas": 0, "readyReplicas": 1, "availableReplicas": 1,
                "stableRS": "7d84d44bb8", "currentPodHash": "db976bc44",
                "conditions": [{"type": "Progressing", "status": "False", "reason": "RolloutAborted",
                    "message": message, "lastUpdateTime": WEEK_AGO, "lastTransitionTime": WEEK_AGO}]
            }
        }),
    );
    let rs = vec![
        replica_set(
            "rollout-background-analysis-db976bc44",
            ns,
            "Rollout",
            uid,
            2,
            "db976bc44",
            0,
            0,
            "argoproj/rollouts-demo:yellow",
        ),
        replica_set(
            "rollout-background-analysis-7d84d44bb8",
            ns,
            "Rollout",
            uid,
            1,
            "7d84d44bb8",
            1,
            1,
            "argoproj/rollouts-demo:blue",
        ),
    ];
    let pods = vec![running_pod(
        "rollout-background-analysis-7d84d44bb8-z5wps",
        ns,
        "rollout-background-analysis-7d84d44bb8",
    )];
    let runs = vec![analysis_run(
        "rollout-background-analysis-db976bc44-2",
        ns,
        uid,
        2,
        json!({"status": {"phase": "Failed", "message": message, "metricResults": [
            {"name": "web", "phase": "Failed", "count": 1, "failed": 1,
             "measurements": [{"phase": "Failed", "value": "false", "startedAt": WEEK_AGO}]}
        ]}}),
    )];
    let info = rollout_info(&ro, &rs, &pods, &[], &runs, None);
    assert_text(
        &tree::render_rollout(&info, now(), Style::PLAIN),
        r#"
Name:            rollout-background-analysis
Namespace:       default
Status:          ✖ Degraded
Message:         RolloutAborted: metric "web" assessed Failed due to failed (1) > failureLimit (0)
Strategy:        Canary
  Step:          0/2
  SetWeight:     0
  ActualWeight:  0
Images:          argoproj/rollouts-demo:blue (stable)
Replicas:
  Desired:       1
  Current:       1
  Updated:       0
  Ready:         1
  Available:     1

NAME                                                     KIND         STATUS        AGE  INFO
⟳ rollout-background-analysis                            Rollout      ✖ Degraded    7d
├──# revision:2
│  ├──⧉ rollout-background-analysis-db976bc44            ReplicaSet   • ScaledDown  7d   canary
│  └──α rollout-background-analysis-db976bc44-2          AnalysisRun  ✖ Failed      7d   ✖ 1
└──# revision:1
   └──⧉ rollout-background-analysis-7d84d44bb8           ReplicaSet   ✔ Healthy     7d   stable
      └──□ rollout-background-analysis-7d84d44bb8-z5wps  Pod          ✔ Running     7d   ready:1/1
"#,
    );
}

/// A canary at an experiment step, with a step analysis run measured by jobs.
fn experiment_objects() -> (
    rollouts::crd::Rollout,
    Vec<k8s_openapi::api::apps::v1::ReplicaSet>,
    Vec<k8s_openapi::api::core::v1::Pod>,
    Vec<rollouts::crd::Experiment>,
    Vec<rollouts::crd::AnalysisRun>,
) {
    let ns = "jesse-test";
    let name = "rollout-experiment-analysis";
    let uid = "uid-rollout-experiment-analysis";
    let exp_name = "rollout-experiment-analysis-6f646bf7b7-1-vcv27";
    let exp_uid = format!("uid-{exp_name}");
    let ro = rollout(
        name,
        ns,
        json!({
            "spec": {"replicas": 4, "strategy": {"canary": {"steps": [
                {"setWeight": 25}, {"experiment": {"templates": [
                    {"name": "baseline", "specRef": "stable"}, {"name": "canary", "specRef": "canary"}
                ]}}
            ]}}},
            "status": {
                "phase": "Progressing", "message": "more replicas need to be updated",
                "currentStepIndex": 1,
                "replicas": 4, "updatedReplicas": 1, "readyReplicas": 4, "availableReplicas": 4,
                "stableRS": "f6db98dff", "currentPodHash": "6f646bf7b7",
                "canary": {"currentExperiment": exp_name}
            }
        }),
    );
    let base =
        |n: &str, rev, hash, d, a, img| replica_set(n, ns, "Rollout", uid, rev, hash, d, a, img);
    let mut rs = vec![
        base(
            "rollout-experiment-analysis-6f646bf7b7",
            2,
            "6f646bf7b7",
            1,
            1,
            "argoproj/rollouts-demo:yellow",
        ),
        base(
            "rollout-experiment-analysis-f6db98dff",
            1,
            "f6db98dff",
            3,
            3,
            "argoproj/rollouts-demo:blue",
        ),
    ];
    for (template, hash, image) in [
        ("baseline", "7d768b8b5f", "blue"),
        ("canary", "7699dcf5d", "yellow"),
    ] {
        let rs_name = format!("{exp_name}-{template}-{hash}");
        rs.push(annotate(
            replica_set(
                &rs_name,
                ns,
                "Experiment",
                &exp_uid,
                0,
                hash,
                1,
                1,
                &format!("argoproj/rollouts-demo:{image}"),
            ),
            json!({"experiment.argoproj.io/template-name": template}),
        ));
    }
    let pods = vec![
        running_pod(
            "rollout-experiment-analysis-6f646bf7b7-wn5w8",
            ns,
            "rollout-experiment-analysis-6f646bf7b7",
        ),
        running_pod(
            "rollout-experiment-analysis-f6db98dff-8dmnz",
            ns,
            "rollout-experiment-analysis-f6db98dff",
        ),
        running_pod(
            "rollout-experiment-analysis-f6db98dff-bb6v6",
            ns,
            "rollout-experiment-analysis-f6db98dff",
        ),
        running_pod(
            "rollout-experiment-analysis-f6db98dff-bq55x",
            ns,
            "rollout-experiment-analysis-f6db98dff",
        ),
        running_pod(
            &format!("{exp_name}-baseline-7dczdst"),
            ns,
            &format!("{exp_name}-baseline-7d768b8b5f"),
        ),
        running_pod(
            &format!("{exp_name}-canary-7699vgr24"),
            ns,
            &format!("{exp_name}-canary-7699dcf5d"),
        ),
    ];
    let exps = vec![experiment(
        exp_name,
        ns,
        uid,
        2,
        json!({"status": {"phase": "Running"}}),
    )];
    let job = |n: &str, phase: &str| json!({"phase": phase, "startedAt": WEEK_AGO, "metadata": {"job-name": format!("rollout-experiment-analysis-random-fail-{n}")}});
    let runs = vec![analysis_run(
        "rollout-experiment-analysis-random-fail",
        ns,
        uid,
        2,
        json!({"status": {"phase": "Inconclusive", "metricResults": [
            {"name": "random-fail", "phase": "Inconclusive", "count": 9, "successful": 4, "failed": 4,
             "inconclusive": 1, "error": 1,
             "measurements": [job("rzl6lt", "Failed"), job("r8lqpd", "Successful"), job("rjjsgg", "Successful")]}
        ]}}),
    )];
    (ro, rs, pods, exps, runs)
}

#[test]
fn canary_with_experiment_and_analysis_jobs() {
    let (ro, rs, pods, exps, runs) = experiment_objects();
    let info = rollout_info(&ro, &rs, &pods, &exps, &runs, None);
    assert_text(
        &tree::render_rollout(&info, now(), Style::PLAIN),
        r#"
Name:            rollout-experiment-analysis
Namespace:       jesse-test
Status:          ◌ Progressing
Message:         more replicas need to be updated
Strategy:        Canary
  Step:          1/2
  SetWeight:     25
  ActualWeight:  25
Images:          argoproj/rollouts-demo:blue (stable, Σ:baseline)
                 argoproj/rollouts-demo:yellow (canary, Σ:canary)
Replicas:
  Desired:       4
  Current:       4
  Updated:       1
  Ready:         4
  Available:     4

NAME                                                                           KIND         STATUS          AGE  INFO
⟳ rollout-experiment-analysis                                                  Rollout      ◌ Progressing   7d
├──# revision:2
│  ├──⧉ rollout-experiment-analysis-6f646bf7b7                                 ReplicaSet   ✔ Healthy       7d   canary
│  │  └──□ rollout-experiment-analysis-6f646bf7b7-wn5w8                        Pod          ✔ Running       7d   ready:1/1
│  ├──Σ rollout-experiment-analysis-6f646bf7b7-1-vcv27                         Experiment   ◌ Running       7d
│  │  ├──⧉ rollout-experiment-analysis-6f646bf7b7-1-vcv27-baseline-7d768b8b5f  ReplicaSet   ✔ Healthy       7d
│  │  │  └──□ rollout-experiment-analysis-6f646bf7b7-1-vcv27-baseline-7dczdst  Pod          ✔ Running       7d   ready:1/1
│  │  └──⧉ rollout-experiment-analysis-6f646bf7b7-1-vcv27-canary-7699dcf5d     ReplicaSet   ✔ Healthy       7d
│  │     └──□ rollout-experiment-analysis-6f646bf7b7-1-vcv27-canary-7699vgr24  Pod          ✔ Running       7d   ready:1/1
│  └──α rollout-experiment-analysis-random-fail                                AnalysisRun  ? Inconclusive  7d   ✔ 4,✖ 4,? 1,⚠ 1
│     ├──⊞ rollout-experiment-analysis-random-fail-rzl6lt                      Job          ✖ Failed        7d
│     ├──⊞ rollout-experiment-analysis-random-fail-r8lqpd                      Job          ✔ Successful    7d
│     └──⊞ rollout-experiment-analysis-random-fail-rjjsgg                      Job          ✔ Successful    7d
└──# revision:1
   └──⧉ rollout-experiment-analysis-f6db98dff                                  ReplicaSet   ✔ Healthy       7d   stable
      ├──□ rollout-experiment-analysis-f6db98dff-8dmnz                         Pod          ✔ Running       7d   ready:1/1
      ├──□ rollout-experiment-analysis-f6db98dff-bb6v6                         Pod          ✔ Running       7d   ready:1/1
      └──□ rollout-experiment-analysis-f6db98dff-bq55x                         Pod          ✔ Running       7d   ready:1/1
"#,
    );
}

#[test]
fn experiment_tree() {
    let (_, rs, pods, exps, runs) = experiment_objects();
    let info = experiment_info(&exps[0], &rs, &runs, &pods);
    assert_text(
        &tree::render_experiment(&info, now(), Style::PLAIN),
        r#"
Name:            rollout-experiment-analysis-6f646bf7b7-1-vcv27
Namespace:       jesse-test
Status:          ◌ Running
Images:          argoproj/rollouts-demo:blue (Σ:baseline)
                 argoproj/rollouts-demo:yellow (Σ:canary)

NAME                                                                     KIND        STATUS     AGE  INFO
Σ rollout-experiment-analysis-6f646bf7b7-1-vcv27                         Experiment  ◌ Running  7d
├──⧉ rollout-experiment-analysis-6f646bf7b7-1-vcv27-baseline-7d768b8b5f  ReplicaSet  ✔ Healthy  7d
│  └──□ rollout-experiment-analysis-6f646bf7b7-1-vcv27-baseline-7dczdst  Pod         ✔ Running  7d   ready:1/1
└──⧉ rollout-experiment-analysis-6f646bf7b7-1-vcv27-canary-7699dcf5d     ReplicaSet  ✔ Healthy  7d
   └──□ rollout-experiment-analysis-6f646bf7b7-1-vcv27-canary-7699vgr24  Pod         ✔ Running  7d   ready:1/1
"#,
    );
}

#[test]
fn invalid_rollout_without_children() {
    let ro = rollout(
        "rollout-invalid",
        "default",
        json!({
            "spec": {"strategy": {"canary": {}}},
            "status": {"phase": "Degraded", "message": "InvalidSpec: The Rollout \"rollout-invalid\" is invalid: spec.selector: Required value: Rollout has missing field '.spec.selector'"}
        }),
    );
    let info = rollout_info(&ro, &[], &[], &[], &[], None);
    assert_text(
        &tree::render_rollout(&info, now(), Style::PLAIN),
        r#"
Name:            rollout-invalid
Namespace:       default
Status:          ✖ Degraded
Message:         InvalidSpec: The Rollout "rollout-invalid" is invalid: spec.selector: Required value: Rollout has missing field '.spec.selector'
Strategy:        Canary
  Step:
  SetWeight:     100
  ActualWeight:  100
Replicas:
  Desired:       1
  Current:       0
  Updated:       0
  Ready:         0
  Available:     0

NAME               KIND     STATUS      AGE  INFO
⟳ rollout-invalid  Rollout  ✖ Degraded  7d
"#,
    );
}

#[test]
fn colors_do_not_break_alignment() {
    let (ro, rs, pods) = blue_green_objects();
    let info = rollout_info(&ro, &rs, &pods, &[], &[], None);
    let colored = tree::render_rollout(&info, now(), Style::COLOR);
    assert!(colored.contains("\x1b[32m✔\x1b[0m Healthy"));
    assert!(colored.contains("\x1b[94mpreview\x1b[0m"));
    let stripped: String = {
        let mut out = String::new();
        let mut chars = colored.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(stripped, tree::render_rollout(&info, now(), Style::PLAIN));
}

#[test]
fn rollout_lists() {
    let canary = rollout(
        "can-guestbook",
        "test",
        json!({
            "spec": {"replicas": 5, "strategy": {"canary": {"steps": [
                {"setWeight": 10}, {"pause": {"duration": 60}}, {"setWeight": 20}
            ]}}},
            "status": {"currentStepIndex": 1, "replicas": 4, "readyReplicas": 1, "updatedReplicas": 3,
                "availableReplicas": 2, "phase": "Progressing"}
        }),
    );
    let mut bg = canary.clone();
    bg.metadata.name = Some("bg-guestbook".into());
    bg.spec.strategy =
        serde_json::from_value(json!({"blueGreen": {"activeService": "a"}})).unwrap();
    let rows = vec![rollout_list_row(&canary), rollout_list_row(&bg)];
    let plain = list::ListColumns::default();
    assert_eq!(
        list::render_rollouts(&rows, plain, now()).unwrap(),
        "NAME           STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE
can-guestbook  Canary     Progressing   1/3   10          1/4    5        3           2        
bg-guestbook   BlueGreen  Progressing   -     -           1/4    5        3           2        
"
    );
    let all = list::ListColumns {
        namespace: true,
        timestamps: true,
    };
    let table = list::render_rollouts(&rows[..1], all, now()).unwrap();
    assert!(table.starts_with(
        "TIMESTAMP             NAMESPACE  NAME           STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE\n2026-01-08T00:00:00Z  test       can-guestbook  Canary"
    ), "{table}");
    assert_eq!(list::render_rollouts(&[], plain, now()), None);
}

#[test]
fn experiment_lists() {
    let running = experiment(
        "my-experiment",
        "test",
        "nobody",
        0,
        json!({"spec": {"duration": "3h"}, "status": {"phase": "Running", "availableAt": "2026-01-07T23:00:00Z"}}),
    );
    let mut other = experiment(
        "my-experiment2",
        "my-other-namespace",
        "nobody",
        0,
        json!({"status": {"phase": "Running"}}),
    );
    other.spec.duration = None;
    let rows = vec![experiment_list_row(&other), experiment_list_row(&running)];
    assert_eq!(
        list::render_experiments(&rows, true, now()).unwrap(),
        "NAMESPACE           NAME            STATUS   DURATION  REMAINING  AGE
my-other-namespace  my-experiment2  Running  -         -          7d 
test                my-experiment   Running  3h        120m       7d 
"
    );
}

/// The documented `-o json` schema: every key present, camelCase, `null` when absent.
#[test]
fn json_schema_of_rollout_info() {
    fn keys(v: &serde_json::Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort();
        k
    }
    let (ro, rs, pods, exps, runs) = experiment_objects();
    let info = rollout_info(&ro, &rs, &pods, &exps, &runs, None);
    let v = serde_json::to_value(&info).unwrap();
    assert_eq!(
        keys(&v),
        [
            "aborted",
            "actualWeight",
            "containers",
            "createdAt",
            "generation",
            "images",
            "initContainers",
            "kind",
            "message",
            "name",
            "namespace",
            "observedGeneration",
            "paused",
            "replicas",
            "restartedAt",
            "revisions",
            "schemaVersion",
            "setWeight",
            "status",
            "step",
            "strategy",
            "uid"
        ]
    );
    assert_eq!(v["schemaVersion"], "v1");
    assert_eq!(v["kind"], "RolloutInfo");
    assert_eq!(v["step"], json!({"index": 1, "total": 2}));
    assert_eq!(v["createdAt"], "2026-01-01T00:00:00Z");
    assert_eq!(
        v["replicas"],
        json!({"desired": 4, "current": 4, "updated": 1, "ready": 4, "available": 4})
    );
    let rev = &v["revisions"][0];
    assert_eq!(
        keys(rev),
        ["analysisRuns", "experiments", "replicaSets", "revision"]
    );
    assert_eq!(
        keys(&rev["replicaSets"][0]),
        [
            "active",
            "available",
            "canary",
            "createdAt",
            "desired",
            "images",
            "initContainerImages",
            "name",
            "namespace",
            "ping",
            "podTemplateHash",
            "pods",
            "pong",
            "preview",
            "ready",
            "replicas",
            "revision",
            "scaleDownDeadline",
            "stable",
            "status",
            "template",
            "uid"
        ]
    );
    assert_eq!(
        keys(&rev["replicaSets"][0]["pods"][0]),
        [
            "createdAt",
            "name",
            "namespace",
            "readyContainers",
            "restarts",
            "status",
            "totalContainers",
            "uid"
        ]
    );
    assert_eq!(
        keys(&rev["analysisRuns"][0]),
        [
            "createdAt",
            "error",
            "failed",
            "inconclusive",
            "jobs",
            "message",
            "metrics",
            "name",
            "namespace",
            "revision",
            "status",
            "successful",
            "uid"
        ]
    );
    assert_eq!(
        rev["analysisRuns"][0]["jobs"][0],
        json!({"name": "rollout-experiment-analysis-random-fail-rzl6lt", "namespace": "jesse-test",
               "metricName": "random-fail", "status": "Failed", "startedAt": "2026-01-01T00:00:00Z"})
    );
    assert_eq!(
        keys(&rev["experiments"][0]),
        [
            "analysisRuns",
            "createdAt",
            "images",
            "kind",
            "message",
            "name",
            "namespace",
            "replicaSets",
            "revision",
            "schemaVersion",
            "status",
            "uid"
        ]
    );
    let row = serde_json::to_value(rollout_list_row(&ro)).unwrap();
    assert_eq!(
        keys(&row),
        [
            "available",
            "current",
            "desired",
            "message",
            "name",
            "namespace",
            "ready",
            "setWeight",
            "status",
            "step",
            "strategy",
            "upToDate"
        ]
    );
}
