//! Experiments (Argo's `info/experiment_info.go`, and the rows of `list experiments`).

use k8s_openapi::api::{apps::v1::ReplicaSet, core::v1::Pod};
use rollouts::crd::{AnalysisRun, Experiment};

use super::{
    ExperimentInfo, ExperimentListRow, ImageInfo, SCHEMA_VERSION, analysis::analysis_run_infos,
    created_at, merge_image, meta_name, meta_namespace, meta_uid, owned_by, parse_revision,
    replicaset::replica_set_infos,
};
use crate::duration::parse_go_duration;

/// An experiment with its ReplicaSets (and their pods) and AnalysisRuns.
pub fn experiment_info(
    exp: &Experiment,
    all_rs: &[ReplicaSet],
    all_runs: &[AnalysisRun],
    all_pods: &[Pod],
) -> ExperimentInfo {
    let uid = meta_uid(&exp.metadata);
    let status = exp.status.as_ref();
    let replica_sets = replica_set_infos(&uid, None, all_rs, all_pods);
    let mut images: Vec<ImageInfo> = Vec::new();
    for rs in replica_sets.iter().filter(|rs| rs.replicas > 0) {
        for image in &rs.images {
            let tags = rs
                .template
                .iter()
                .map(|t| format!("Σ:{t}"))
                .collect::<Vec<_>>();
            merge_image(
                &mut images,
                ImageInfo {
                    image: image.clone(),
                    tags,
                },
            );
        }
    }
    ExperimentInfo {
        schema_version: SCHEMA_VERSION,
        kind: "ExperimentInfo",
        name: meta_name(&exp.metadata),
        namespace: meta_namespace(&exp.metadata),
        created_at: created_at(&exp.metadata),
        revision: parse_revision(&exp.metadata),
        status: status
            .and_then(|s| s.phase.as_ref())
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        message: status
            .and_then(|s| s.message.clone())
            .filter(|m| !m.is_empty()),
        images,
        analysis_runs: analysis_run_infos(&uid, all_runs),
        replica_sets,
        uid,
    }
}

/// The experiments owned by the rollout `owner_uid`, newest revision first, then oldest first.
pub fn experiment_infos(
    owner_uid: &str,
    all_experiments: &[Experiment],
    all_rs: &[ReplicaSet],
    all_runs: &[AnalysisRun],
    all_pods: &[Pod],
) -> Vec<ExperimentInfo> {
    let mut infos: Vec<ExperimentInfo> = all_experiments
        .iter()
        .filter(|e| owned_by(e.metadata.owner_references.as_ref(), owner_uid))
        .map(|e| experiment_info(e, all_rs, all_runs, all_pods))
        .collect();
    infos.sort_by(|a, b| {
        b.revision
            .cmp(&a.revision)
            .then_with(|| a.created_at.cmp(&b.created_at))
            .then_with(|| a.name.cmp(&b.name))
    });
    infos
}

/// One line of `list experiments`.
pub fn experiment_list_row(exp: &Experiment) -> ExperimentListRow {
    let status = exp.status.as_ref();
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let duration = exp.spec.duration.clone().filter(|d| !d.is_empty());
    let ends_at = duration
        .as_deref()
        .and_then(|d| parse_go_duration(d).ok())
        .filter(|_| !phase.is_completed())
        .and_then(|d| {
            status
                .and_then(|s| s.available_at.as_ref())
                .map(|at| rollouts::status::to_utc(at) + d)
        });
    ExperimentListRow {
        namespace: meta_namespace(&exp.metadata),
        name: meta_name(&exp.metadata),
        status: phase.as_str().to_string(),
        created_at: created_at(&exp.metadata),
        duration,
        ends_at,
    }
}
