//! ReplicaSets of a rollout or experiment (Argo's `info/replicaset_info.go`).

use k8s_openapi::api::{apps::v1::ReplicaSet, core::v1::Pod};
use rollouts::crd::{PingPongType, Rollout, keys};

use super::{
    EXPERIMENT_TEMPLATE_NAME_ANNOTATION, ReplicaSetInfo, created_at, meta_name, meta_namespace,
    meta_uid, owned_by, parse_revision, pod::pod_info,
};

/// The ReplicaSets owned by `owner_uid` with their pods, newest revision first (then by name).
/// With `rollout` given, each is tagged with its role (stable, canary, active, preview, ping,
/// pong).
pub fn replica_set_infos(
    owner_uid: &str,
    rollout: Option<&Rollout>,
    all_rs: &[ReplicaSet],
    all_pods: &[Pod],
) -> Vec<ReplicaSetInfo> {
    let mut infos: Vec<ReplicaSetInfo> = all_rs
        .iter()
        .filter(|rs| owned_by(rs.metadata.owner_references.as_ref(), owner_uid))
        .map(|rs| replica_set_info(rs, rollout))
        .collect();
    infos.sort_by(|a, b| {
        b.revision
            .cmp(&a.revision)
            .then_with(|| a.name.cmp(&b.name))
    });

    for pod in all_pods {
        let Some(owners) = pod.metadata.owner_references.as_ref() else {
            continue;
        };
        let Some(rs) = infos
            .iter_mut()
            .find(|rs| !rs.uid.is_empty() && owners.iter().any(|o| o.uid == rs.uid))
        else {
            continue;
        };
        rs.pods.push(pod_info(pod));
    }
    for rs in &mut infos {
        rs.pods.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.name.cmp(&b.name))
        });
    }
    infos
}

fn replica_set_info(rs: &ReplicaSet, rollout: Option<&Rollout>) -> ReplicaSetInfo {
    let annotations = rs.metadata.annotations.as_ref();
    let status = rs.status.as_ref();
    let hash = rs
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(keys::POD_TEMPLATE_HASH))
        .cloned();
    let template_spec = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.spec.as_ref());
    let mut info = ReplicaSetInfo {
        name: meta_name(&rs.metadata),
        namespace: meta_namespace(&rs.metadata),
        uid: meta_uid(&rs.metadata),
        created_at: created_at(&rs.metadata),
        revision: parse_revision(&rs.metadata),
        status: replica_set_health(rs).to_string(),
        pod_template_hash: hash.clone(),
        desired: rs.spec.as_ref().and_then(|s| s.replicas),
        replicas: status.map_or(0, |s| s.replicas),
        ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
        available: status.and_then(|s| s.available_replicas).unwrap_or(0),
        stable: false,
        canary: false,
        active: false,
        preview: false,
        ping: false,
        pong: false,
        template: annotations
            .and_then(|a| a.get(EXPERIMENT_TEMPLATE_NAME_ANNOTATION))
            .filter(|t| !t.is_empty())
            .cloned(),
        scale_down_deadline: annotations
            .and_then(|a| a.get(keys::SCALE_DOWN_DEADLINE))
            .filter(|d| !d.is_empty())
            .cloned(),
        images: template_spec
            .map(|s| s.containers.iter().map(image_of).collect())
            .unwrap_or_default(),
        init_container_images: template_spec
            .and_then(|s| s.init_containers.as_ref())
            .map(|c| c.iter().map(image_of).collect())
            .unwrap_or_default(),
        pods: Vec::new(),
    };
    if let Some(ro) = rollout {
        tag_roles(&mut info, ro, hash.as_deref().unwrap_or(""));
    }
    info
}

fn image_of(c: &k8s_openapi::api::core::v1::Container) -> String {
    c.image.clone().unwrap_or_default()
}

fn tag_roles(info: &mut ReplicaSetInfo, ro: &Rollout, hash: &str) {
    let status = ro.status.clone().unwrap_or_default();
    let stable = status.stable_rs.as_deref().unwrap_or("");
    let current = status.current_pod_hash.as_deref().unwrap_or("");
    if let Some(canary) = &ro.spec.strategy.canary {
        let ping_pong = canary.ping_pong.is_some();
        let stable_is_ping = status
            .canary
            .as_ref()
            .and_then(|c| c.stable_ping_pong.as_ref())
            == Some(&PingPongType::Ping);
        if stable == hash {
            info.stable = true;
            if ping_pong {
                info.ping = stable_is_ping;
                info.pong = !stable_is_ping;
            }
        } else if current == hash {
            info.canary = true;
            if ping_pong {
                info.ping = !stable_is_ping;
                info.pong = stable_is_ping;
            }
        }
    }
    if ro.spec.strategy.blue_green.is_some() {
        if stable == hash {
            info.stable = true;
        }
        let bg = status.blue_green.unwrap_or_default();
        if bg.active_selector.as_deref().unwrap_or("") == hash {
            info.active = true;
        } else if bg.preview_selector.as_deref().unwrap_or("") == hash {
            info.preview = true;
        }
    }
}

/// Argo's `getReplicaSetHealth`: `Progressing` until the ReplicaSet controller has seen the
/// spec and all desired pods are available, `ReplicaFailure` on that condition, `ScaledDown` at
/// zero desired replicas, else `Healthy`.
pub fn replica_set_health(rs: &ReplicaSet) -> &'static str {
    let generation = rs.metadata.generation.unwrap_or(0);
    let status = rs.status.as_ref();
    let observed = status.and_then(|s| s.observed_generation).unwrap_or(0);
    let desired = rs.spec.as_ref().and_then(|s| s.replicas);
    if generation <= observed {
        let failure = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "ReplicaFailure"));
        if failure.is_some_and(|c| c.status == "True") {
            return "ReplicaFailure";
        }
        let available = status.and_then(|s| s.available_replicas).unwrap_or(0);
        if desired.is_some_and(|d| available < d) {
            return "Progressing";
        }
    } else {
        return "Progressing";
    }
    if desired == Some(0) {
        return "ScaledDown";
    }
    "Healthy"
}
