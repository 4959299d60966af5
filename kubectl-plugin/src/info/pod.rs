//! Pods as the tree shows them: kubectl's STATUS column logic (Argo's `info/pod_info.go`).

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::{PodInfo, created_at, meta_name, meta_namespace, meta_uid};

/// The pod reason kubelet uses for pods on an unreachable node.
const NODE_UNREACHABLE_POD_REASON: &str = "NodeLost";

/// A pod's row: kubectl's status reason, `ready/total` containers and restarts.
pub fn pod_info(pod: &Pod) -> PodInfo {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let total_containers = spec.map_or(0, |s| s.containers.len());
    let init_containers = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[]);
    let sidecar = |name: &str| {
        init_containers
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };

    let mut reason = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    if let Some(r) = status
        .and_then(|s| s.reason.as_deref())
        .filter(|r| !r.is_empty())
    {
        reason = r.to_string();
    }

    let mut restarts: i64 = 0;
    let mut ready_containers = 0;
    let mut initializing = false;
    let init_statuses: &[ContainerStatus] = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[]);
    for (i, container) in init_statuses.iter().enumerate() {
        restarts += i64::from(container.restart_count);
        let state = container.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting_reason = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .unwrap_or("");
        if let Some(t) = terminated {
            if t.exit_code == 0 {
                continue;
            }
            reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None => match t.signal.filter(|s| *s != 0) {
                    Some(signal) => format!("Init:Signal:{signal}"),
                    None => format!("Init:ExitCode:{}", t.exit_code),
                },
            };
            initializing = true;
        } else if sidecar(&container.name) && container.started == Some(true) {
            if container.ready {
                continue;
            }
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
            initializing = true;
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
            initializing = true;
        }
        break;
    }

    if !initializing {
        restarts = 0;
        let mut has_running = false;
        let statuses = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or(&[]);
        for container in statuses.iter().rev() {
            restarts += i64::from(container.restart_count);
            let state = container.state.as_ref();
            let waiting = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(w) = waiting {
                reason = w.to_string();
            } else if let Some(r) = terminated
                .and_then(|t| t.reason.as_deref())
                .filter(|r| !r.is_empty())
            {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = match t.signal.filter(|s| *s != 0) {
                    Some(signal) => format!("Signal:{signal}"),
                    None => format!("ExitCode:{}", t.exit_code),
                };
            } else if container.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready_containers += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        reason = if status.and_then(|s| s.reason.as_deref()) == Some(NODE_UNREACHABLE_POD_REASON) {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }

    PodInfo {
        name: meta_name(&pod.metadata),
        namespace: meta_namespace(&pod.metadata),
        uid: meta_uid(&pod.metadata),
        created_at: created_at(&pod.metadata),
        status: reason,
        ready_containers,
        total_containers,
        restarts: i32::try_from(restarts).unwrap_or(i32::MAX),
    }
}

/// The icon of a pod status (Argo's `podIcon`).
pub fn pod_icon(status: &str) -> &'static str {
    use super::icons::*;
    if status.starts_with("Init:") {
        return PROGRESSING;
    }
    if status.starts_with("Signal:") || status.starts_with("ExitCode:") {
        return BAD;
    }
    if status.ends_with("Error") || status.starts_with("Err") {
        return WARNING;
    }
    match status {
        "Pending" | "Terminating" | "ContainerCreating" => PROGRESSING,
        "Running" | "Completed" => OK,
        "Failed" | "InvalidImageName" | "CrashLoopBackOff" => BAD,
        "ImagePullBackOff" | "RegistryUnavailable" => WARNING,
        "Unknown" => UNKNOWN,
        _ => " ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    fn status_of(value: serde_json::Value) -> (String, usize, usize, i32) {
        let info = pod_info(&pod(value));
        (
            info.status,
            info.ready_containers,
            info.total_containers,
            info.restarts,
        )
    }

    #[test]
    fn running_pod() {
        let got = status_of(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "a", "ready": true, "restartCount": 2, "image": "x", "imageID": "",
                "state": {"running": {}}
            }]}
        }));
        assert_eq!(got, ("Running".into(), 1, 1, 2));
    }

    #[test]
    fn image_pull_back_off() {
        let got = status_of(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "containerStatuses": [{
                "name": "a", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
                "state": {"waiting": {"reason": "ImagePullBackOff"}}
            }]}
        }));
        assert_eq!(got, ("ImagePullBackOff".into(), 0, 1, 0));
        assert_eq!(pod_icon("ImagePullBackOff"), "⚠");
    }

    #[test]
    fn init_containers_and_termination() {
        let got = status_of(json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "ready": true, "restartCount": 0, "image": "x", "imageID": "",
                 "state": {"terminated": {"exitCode": 0}}},
                {"name": "i2", "ready": false, "restartCount": 1, "image": "x", "imageID": "",
                 "state": {"running": {}}}
            ]}
        }));
        assert_eq!(got, ("Init:1/2".into(), 0, 1, 1));

        let got = status_of(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "a", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
                "state": {"terminated": {"exitCode": 137, "signal": 9}}
            }]}
        }));
        assert_eq!(got.0, "Signal:9");
        assert_eq!(pod_icon(&got.0), "✖");
    }

    #[test]
    fn deleting_pod_is_terminating() {
        let got = status_of(json!({
            "metadata": {"name": "p", "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running"}
        }));
        assert_eq!(got.0, "Terminating");
        assert_eq!(pod_icon("Terminating"), "◌");
        assert_eq!(pod_icon("Whatever"), " ");
    }
}
