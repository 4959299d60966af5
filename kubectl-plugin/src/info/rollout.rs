//! Rollouts (Argo's `info/rollout_info.go` and the rows of `list rollouts`).

use std::collections::BTreeSet;

use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Container, Pod, PodTemplateSpec},
};
use rollouts::{
    crd::{AnalysisRun, Experiment, Rollout},
    status::phase::{client_phase, current_canary_step, max_traffic_weight},
};

use super::{
    ContainerInfo, ImageInfo, ReplicaCounts, ReplicaSetInfo, RevisionInfo, RolloutInfo,
    RolloutListRow, SCHEMA_VERSION, StepInfo, analysis::analysis_run_infos, created_at,
    experiment::experiment_infos, merge_image, meta_name, meta_namespace, meta_uid,
    replicaset::replica_set_infos, tags,
};

/// Everything `get rollout` shows about `ro`, from the objects of its namespace. `workload` is
/// the pod template of the `workloadRef` target, when the rollout uses one.
pub fn rollout_info(
    ro: &Rollout,
    all_rs: &[ReplicaSet],
    all_pods: &[Pod],
    all_experiments: &[Experiment],
    all_runs: &[AnalysisRun],
    workload: Option<&PodTemplateSpec>,
) -> RolloutInfo {
    let uid = meta_uid(&ro.metadata);
    let status = ro.status.clone().unwrap_or_default();
    let replica_sets = replica_set_infos(&uid, Some(ro), all_rs, all_pods);
    let experiments = experiment_infos(&uid, all_experiments, all_rs, all_runs, all_pods);
    let analysis_runs = analysis_run_infos(&uid, all_runs);

    let (strategy, step, set_weight, actual_weight) = if ro.spec.strategy.canary.is_some() {
        let set_weight = set_weight(ro);
        let max = max_traffic_weight(ro);
        let available = status.available_replicas.unwrap_or(0);
        let actual = if current_canary_step(ro).is_none() {
            max
        } else if available > 0 {
            let routed = ro
                .spec
                .strategy
                .canary
                .as_ref()
                .is_some_and(|c| c.traffic_routing.is_some());
            if !routed {
                replica_sets
                    .iter()
                    .filter(|rs| rs.canary)
                    .map(|rs| rs.available * max / available)
                    .next_back()
                    .unwrap_or(0)
            } else {
                status
                    .canary
                    .as_ref()
                    .and_then(|c| c.weights.as_ref())
                    .map_or(set_weight, |w| w.canary.weight)
            }
        } else {
            0
        };
        ("Canary", step(ro), Some(set_weight), Some(actual))
    } else if ro.spec.strategy.blue_green.is_some() {
        ("BlueGreen", None, None, None)
    } else {
        ("", None, None, None)
    };

    let (phase, message) = client_phase(ro);
    let template_spec = workload
        .or(ro.spec.template.as_ref())
        .and_then(|t| t.spec.as_ref());
    let containers = |list: Option<&Vec<Container>>| -> Vec<ContainerInfo> {
        list.map(|l| {
            l.iter()
                .map(|c| ContainerInfo {
                    name: c.name.clone(),
                    image: c.image.clone().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
    };

    let mut images = images(&replica_sets);
    for exp in &experiments {
        for image in &exp.images {
            merge_image(&mut images, image.clone());
        }
    }

    RolloutInfo {
        schema_version: SCHEMA_VERSION,
        kind: "RolloutInfo",
        name: meta_name(&ro.metadata),
        namespace: meta_namespace(&ro.metadata),
        uid,
        created_at: created_at(&ro.metadata),
        generation: ro.metadata.generation.unwrap_or(0),
        observed_generation: status.observed_generation.clone(),
        status: phase.as_str().to_string(),
        message,
        strategy: strategy.to_string(),
        step,
        set_weight,
        actual_weight,
        paused: ro.spec.paused == Some(true),
        aborted: status.abort == Some(true),
        replicas: ReplicaCounts {
            desired: ro.desired_replicas(),
            current: status.replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            ready: status.ready_replicas.unwrap_or(0),
            available: status.available_replicas.unwrap_or(0),
        },
        images,
        containers: containers(template_spec.map(|s| &s.containers)),
        init_containers: containers(template_spec.and_then(|s| s.init_containers.as_ref())),
        restarted_at: status.restarted_at.as_ref().map(|t| {
            rollouts::status::to_utc(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        }),
        revisions: revisions(replica_sets, experiments, analysis_runs),
    }
}

/// `i/n` when the canary has steps and a current step index.
fn step(ro: &Rollout) -> Option<StepInfo> {
    let steps = ro.steps();
    let index = ro.status.as_ref()?.current_step_index?;
    (!steps.is_empty()).then_some(StepInfo {
        index,
        total: steps.len(),
    })
}

/// The desired canary weight (Argo's `GetCurrentSetWeight`): 0 when aborted; the maximum
/// weight without steps or past the last step; else the last `setWeight` at or before the
/// current step, or 0.
fn set_weight(ro: &Rollout) -> i32 {
    if ro.status.as_ref().and_then(|s| s.abort) == Some(true) {
        return 0;
    }
    let steps = ro.steps();
    let index = ro
        .status
        .as_ref()
        .and_then(|s| s.current_step_index)
        .unwrap_or(0);
    let index = usize::try_from(index).unwrap_or(0);
    if index >= steps.len() {
        return max_traffic_weight(ro);
    }
    steps[..=index]
        .iter()
        .rev()
        .find_map(|s| s.set_weight)
        .unwrap_or(0)
}

/// Images of the ReplicaSets that have pods, tagged with their roles (Argo's `Images`).
fn images(replica_sets: &[ReplicaSetInfo]) -> Vec<ImageInfo> {
    let mut images = Vec::new();
    for rs in replica_sets.iter().filter(|rs| rs.replicas > 0) {
        let roles = [
            (rs.canary, tags::CANARY),
            (rs.stable, tags::STABLE),
            (rs.active, tags::ACTIVE),
            (rs.preview, tags::PREVIEW),
            (rs.ping, tags::PING),
            (rs.pong, tags::PONG),
        ];
        let tags: Vec<String> = roles
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, t)| t.to_string())
            .collect();
        for image in &rs.images {
            merge_image(
                &mut images,
                ImageInfo {
                    image: image.clone(),
                    tags: tags.clone(),
                },
            );
        }
    }
    images
}

fn revisions(
    replica_sets: Vec<ReplicaSetInfo>,
    experiments: Vec<super::ExperimentInfo>,
    analysis_runs: Vec<super::AnalysisRunInfo>,
) -> Vec<RevisionInfo> {
    let numbers: BTreeSet<i64> = replica_sets
        .iter()
        .map(|r| r.revision)
        .chain(experiments.iter().map(|e| e.revision))
        .chain(analysis_runs.iter().map(|a| a.revision))
        .collect();
    numbers
        .into_iter()
        .rev()
        .map(|revision| RevisionInfo {
            revision,
            replica_sets: replica_sets
                .iter()
                .filter(|r| r.revision == revision)
                .cloned()
                .collect(),
            experiments: experiments
                .iter()
                .filter(|e| e.revision == revision)
                .cloned()
                .collect(),
            analysis_runs: analysis_runs
                .iter()
                .filter(|a| a.revision == revision)
                .cloned()
                .collect(),
        })
        .collect()
}

/// One line of `list rollouts` (Argo's `newRolloutInfo` in `cmd/list`).
pub fn rollout_list_row(ro: &Rollout) -> RolloutListRow {
    let status = ro.status.clone().unwrap_or_default();
    let (strategy, step, set_weight) = if ro.spec.strategy.canary.is_some() {
        ("Canary", step(ro), Some(set_weight(ro)))
    } else if ro.spec.strategy.blue_green.is_some() {
        ("BlueGreen", None, None)
    } else {
        ("unknown", None, None)
    };
    let (phase, message) = client_phase(ro);
    RolloutListRow {
        namespace: meta_namespace(&ro.metadata),
        name: meta_name(&ro.metadata),
        strategy: strategy.to_string(),
        status: phase.as_str().to_string(),
        message,
        step,
        set_weight,
        ready: status.ready_replicas.unwrap_or(0),
        current: status.replicas.unwrap_or(0),
        desired: ro.desired_replicas(),
        up_to_date: status.updated_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
    }
}
