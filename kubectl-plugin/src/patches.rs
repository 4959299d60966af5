//! Every patch body the plugin sends, built by pure functions (Argo's `cmd/*` patch constants).
//!
//! Merge patches (`application/merge-patch+json`) unless noted. A `status` patch goes to the
//! `/status` subresource; when that answers 404 (a pre-v0.10 CRD without the subresource) the
//! command falls back to the `unified` body on the main resource.

use chrono::{DateTime, SecondsFormat, Utc};
use rollouts::crd::{AnalysisPhase, Rollout};
use serde_json::{Value, json};

/// `pause`: `spec.paused = true`.
pub fn pause() -> Value {
    json!({"spec": {"paused": true}})
}

/// `abort` (status subresource).
pub fn abort() -> Value {
    json!({"status": {"abort": true}})
}

/// `retry rollout` (status subresource).
pub fn retry_rollout() -> Value {
    json!({"status": {"abort": false}})
}

/// `retry experiment`: drop the whole status (Experiments have no status subresource).
pub fn retry_experiment() -> Value {
    json!({"status": null})
}

/// `terminate analysisrun|experiment`.
pub fn terminate() -> Value {
    json!({"spec": {"terminate": true}})
}

/// `restart`: `spec.restartAt` at `at`, RFC 3339 in UTC with whole seconds.
pub fn restart(at: DateTime<Utc>) -> Value {
    json!({"spec": {"restartAt": at.to_rfc3339_opts(SecondsFormat::Secs, true)}})
}

/// What `promote` was asked to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PromoteFlags {
    /// `--full`.
    pub full: bool,
    /// Deprecated `-c/--skip-current-step`.
    pub skip_current_step: bool,
    /// Deprecated `-a/--skip-all-steps`.
    pub skip_all_steps: bool,
}

/// The patches of one `promote`; `None` means "do not send".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PromotePatches {
    /// Sent to the main resource (after the status patch).
    pub spec: Option<Value>,
    /// Sent to `/status` first.
    pub status: Option<Value>,
    /// Replaces `spec` when `/status` does not exist.
    pub unified: Option<Value>,
}

/// Why `promote` refuses before patching anything.
pub fn promote_precheck(ro: &Rollout, flags: PromoteFlags) -> Result<(), String> {
    if flags.skip_current_step && flags.skip_all_steps {
        return Err(
            "Cannot use skip-current-step and skip-all-steps flags at the same time".into(),
        );
    }
    if flags.skip_current_step || flags.skip_all_steps {
        if ro.spec.strategy.blue_green.is_some() {
            return Err("Cannot skip steps of a bluegreen rollout. Run without a flags".into());
        }
        if ro.spec.strategy.canary.is_some() && ro.steps().is_empty() {
            return Err("Cannot skip steps of a rollout without steps".into());
        }
    }
    Ok(())
}

/// Argo's `getPatches` for `promote`.
///
/// - `-c`: `currentStepIndex` + 1 (capped at the number of steps).
/// - `-a`: `currentStepIndex` = number of steps.
/// - `--full`: unpause if paused; `promoteFull: true` unless already promoted.
/// - default: unpause if paused; then, for a canary whose step analysis is Inconclusive while
///   the controller holds a pause, clear the pause conditions and `controllerPause` and move to
///   the next step; else clear the pause conditions if there are any; else, for a canary with
///   steps, move to the next step (promoting past a running analysis or experiment).
pub fn promote_patches(ro: &Rollout, flags: PromoteFlags) -> PromotePatches {
    let status = ro.status.clone().unwrap_or_default();
    let paused = ro.spec.paused == Some(true);
    let steps = ro.steps().len() as i32;
    // Argo's GetCurrentCanaryStep index: only for a canary with steps, defaulting to 0.
    let next_index = (ro.spec.strategy.canary.is_some() && steps > 0).then(|| {
        let index = status.current_step_index.unwrap_or(0);
        if index < steps { index + 1 } else { index }
    });
    let mut p = PromotePatches::default();

    if flags.skip_current_step {
        if let Some(index) = next_index {
            p.status = Some(json!({"status": {"currentStepIndex": index}}));
            p.unified = p.status.clone();
        }
    } else if flags.skip_all_steps {
        p.status = Some(json!({"status": {"currentStepIndex": steps}}));
        p.unified = p.status.clone();
    } else if flags.full {
        if paused {
            p.spec = Some(json!({"spec": {"paused": false}}));
        }
        if status.current_pod_hash.as_deref().unwrap_or("")
            != status.stable_rs.as_deref().unwrap_or("")
        {
            p.status = Some(json!({"status": {"promoteFull": true}}));
        }
        p.unified = Some(json!({"spec": {"paused": false}, "status": {"promoteFull": true}}));
    } else {
        p.unified = Some(json!({"spec": {"paused": false}, "status": {"pauseConditions": null}}));
        if paused {
            p.spec = Some(json!({"spec": {"paused": false}}));
        }
        let has_pause_conditions = status
            .pause_conditions
            .as_ref()
            .is_some_and(|c| !c.is_empty());
        let inconclusive = ro.spec.strategy.canary.is_some()
            && status
                .canary
                .as_ref()
                .and_then(|c| c.current_step_analysis_run_status.as_ref())
                .is_some_and(|s| s.status == AnalysisPhase::Inconclusive);
        if inconclusive && has_pause_conditions && status.controller_pause == Some(true) {
            if let Some(index) = next_index {
                p.status = Some(json!({"status": {
                    "pauseConditions": null, "controllerPause": false, "currentStepIndex": index
                }}));
            }
        } else if has_pause_conditions {
            p.status = Some(json!({"status": {"pauseConditions": null}}));
        } else if ro.spec.strategy.canary.is_some()
            && let Some(index) = next_index
        {
            p.status =
                Some(json!({"status": {"pauseConditions": null, "currentStepIndex": index}}));
            p.unified = Some(json!({
                "spec": {"paused": false},
                "status": {"pauseConditions": null, "currentStepIndex": index}
            }));
        }
    }
    p
}

/// `undo`: a JSON patch (`application/json-patch+json`) replacing `/spec/template` (or
/// `/template` for a PodTemplate) with `template`.
pub fn undo(template: &Value, path: &str) -> Value {
    json!([{"op": "replace", "path": path, "value": template}])
}

/// `set image`: the object with `image` set on every container named `container` (`*` for all)
/// among `initContainers`, `containers` and `ephemeralContainers` of `spec.template.spec`.
/// The result is written back whole (PUT), as Argo does.
pub fn set_image(obj: &Value, container: &str, image: &str) -> Result<Value, String> {
    let mut obj = obj.clone();
    let mut found = false;
    if let Some(pod_spec) = obj
        .pointer_mut("/spec/template/spec")
        .and_then(Value::as_object_mut)
    {
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            let Some(list) = pod_spec.get_mut(field).and_then(Value::as_array_mut) else {
                continue;
            };
            for c in list.iter_mut().filter_map(Value::as_object_mut) {
                if container == "*" || c.get("name").and_then(Value::as_str) == Some(container) {
                    c.insert("image".into(), Value::String(image.to_string()));
                    found = true;
                }
            }
        }
    }
    if found {
        Ok(obj)
    } else {
        Err(format!("unable to find container named \"{container}\""))
    }
}

/// Splits `CONTAINER=IMAGE` (exactly one `=`).
pub fn parse_container_image(arg: &str) -> Option<(&str, &str)> {
    let mut parts = arg.split('=');
    let (container, image) = (parts.next()?, parts.next()?);
    parts.next().is_none().then_some((container, image))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(value: Value) -> Rollout {
        serde_json::from_value(value).unwrap()
    }

    fn canary(status: Value) -> Rollout {
        rollout(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "guestbook"},
            "spec": {"strategy": {"canary": {"steps": [
                {"setWeight": 10}, {"pause": {}}, {"setWeight": 50}
            ]}}},
            "status": status
        }))
    }

    const DEFAULT: PromoteFlags = PromoteFlags {
        full: false,
        skip_current_step: false,
        skip_all_steps: false,
    };

    #[test]
    fn simple_patches() {
        assert_eq!(pause(), json!({"spec": {"paused": true}}));
        assert_eq!(abort(), json!({"status": {"abort": true}}));
        assert_eq!(retry_rollout(), json!({"status": {"abort": false}}));
        assert_eq!(retry_experiment(), json!({"status": null}));
        assert_eq!(terminate(), json!({"spec": {"terminate": true}}));
        let at = DateTime::parse_from_rfc3339("2026-02-03T04:05:06.789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            restart(at),
            json!({"spec": {"restartAt": "2026-02-03T04:05:06Z"}})
        );
    }

    #[test]
    fn promote_clears_pause_conditions_when_paused_at_a_step() {
        let ro = canary(json!({
            "currentStepIndex": 1,
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
            "controllerPause": true
        }));
        let p = promote_patches(&ro, DEFAULT);
        assert_eq!(p.spec, None);
        assert_eq!(p.status, Some(json!({"status": {"pauseConditions": null}})));
        assert_eq!(
            p.unified,
            Some(json!({"spec": {"paused": false}, "status": {"pauseConditions": null}}))
        );
    }

    #[test]
    fn promote_without_pause_skips_the_current_step() {
        let ro = canary(json!({"currentStepIndex": 0}));
        let p = promote_patches(&ro, DEFAULT);
        assert_eq!(
            p.status,
            Some(json!({"status": {"pauseConditions": null, "currentStepIndex": 1}}))
        );
        assert_eq!(
            p.unified,
            Some(
                json!({"spec": {"paused": false}, "status": {"pauseConditions": null, "currentStepIndex": 1}})
            )
        );
        // Index capped at the number of steps.
        let ro = canary(json!({"currentStepIndex": 3}));
        assert_eq!(
            promote_patches(&ro, DEFAULT).status,
            Some(json!({"status": {"pauseConditions": null, "currentStepIndex": 3}}))
        );
    }

    #[test]
    fn promote_of_a_manually_paused_rollout_unpauses() {
        let mut ro = canary(json!({"currentStepIndex": 1}));
        ro.spec.paused = Some(true);
        let p = promote_patches(&ro, DEFAULT);
        assert_eq!(p.spec, Some(json!({"spec": {"paused": false}})));
        assert_eq!(
            p.status,
            Some(json!({"status": {"pauseConditions": null, "currentStepIndex": 2}}))
        );
    }

    #[test]
    fn promote_after_inconclusive_analysis_releases_controller_pause() {
        let ro = canary(json!({
            "currentStepIndex": 1,
            "controllerPause": true,
            "pauseConditions": [{"reason": "InconclusiveAnalysisRun", "startTime": "2026-01-01T00:00:00Z"}],
            "canary": {"currentStepAnalysisRunStatus": {"name": "run", "status": "Inconclusive"}}
        }));
        let p = promote_patches(&ro, DEFAULT);
        assert_eq!(
            p.status,
            Some(
                json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": 2}})
            )
        );
    }

    #[test]
    fn promote_of_blue_green_only_clears_pause_conditions() {
        let ro = rollout(json!({
            "metadata": {"name": "bg"},
            "spec": {"strategy": {"blueGreen": {"activeService": "active"}}},
            "status": {"pauseConditions": [{"reason": "BlueGreenPause", "startTime": "2026-01-01T00:00:00Z"}]}
        }));
        let p = promote_patches(&ro, DEFAULT);
        assert_eq!(p.status, Some(json!({"status": {"pauseConditions": null}})));
        // Without pause conditions there is nothing to do for blue-green.
        let ro = rollout(json!({
            "metadata": {"name": "bg"},
            "spec": {"strategy": {"blueGreen": {"activeService": "active"}}}
        }));
        let p = promote_patches(&ro, DEFAULT);
        assert_eq!((p.spec, p.status), (None, None));
    }

    #[test]
    fn promote_full() {
        let full = PromoteFlags {
            full: true,
            ..DEFAULT
        };
        let mut ro = canary(json!({"currentPodHash": "new", "stableRS": "old"}));
        ro.spec.paused = Some(true);
        let p = promote_patches(&ro, full);
        assert_eq!(p.spec, Some(json!({"spec": {"paused": false}})));
        assert_eq!(p.status, Some(json!({"status": {"promoteFull": true}})));
        assert_eq!(
            p.unified,
            Some(json!({"spec": {"paused": false}, "status": {"promoteFull": true}}))
        );
        // Already promoted: nothing to send on /status.
        let ro = canary(json!({"currentPodHash": "same", "stableRS": "same"}));
        assert_eq!(promote_patches(&ro, full).status, None);
    }

    #[test]
    fn deprecated_skip_flags() {
        let ro = canary(json!({"currentStepIndex": 1}));
        let c = PromoteFlags {
            skip_current_step: true,
            ..DEFAULT
        };
        let a = PromoteFlags {
            skip_all_steps: true,
            ..DEFAULT
        };
        assert_eq!(
            promote_patches(&ro, c).status,
            Some(json!({"status": {"currentStepIndex": 2}}))
        );
        assert_eq!(
            promote_patches(&ro, a).status,
            Some(json!({"status": {"currentStepIndex": 3}}))
        );
        assert!(
            promote_precheck(
                &ro,
                PromoteFlags {
                    skip_all_steps: true,
                    skip_current_step: true,
                    ..DEFAULT
                }
            )
            .is_err()
        );
        let bg = rollout(json!({
            "metadata": {"name": "bg"},
            "spec": {"strategy": {"blueGreen": {"activeService": "a"}}}
        }));
        assert_eq!(
            promote_precheck(&bg, c).unwrap_err(),
            "Cannot skip steps of a bluegreen rollout. Run without a flags"
        );
        let no_steps =
            rollout(json!({"metadata": {"name": "c"}, "spec": {"strategy": {"canary": {}}}}));
        assert_eq!(
            promote_precheck(&no_steps, a).unwrap_err(),
            "Cannot skip steps of a rollout without steps"
        );
        assert!(promote_precheck(&ro, DEFAULT).is_ok());
    }

    #[test]
    fn undo_is_a_json_patch_replacing_the_template() {
        let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": []}});
        assert_eq!(
            undo(&template, "/spec/template"),
            json!([{"op": "replace", "path": "/spec/template", "value": template}])
        );
    }

    #[test]
    fn set_image_updates_matching_containers() {
        let obj = json!({"spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [{"name": "app", "image": "app:1"}, {"name": "side", "image": "side:1"}]
        }}}});
        let out = set_image(&obj, "app", "app:2").unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["image"],
            "app:2"
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][1]["image"],
            "side:1"
        );
        let all = set_image(&obj, "*", "x:9").unwrap();
        assert_eq!(
            all["spec"]["template"]["spec"]["initContainers"][0]["image"],
            "x:9"
        );
        assert_eq!(
            all["spec"]["template"]["spec"]["containers"][1]["image"],
            "x:9"
        );
        assert_eq!(
            set_image(&obj, "nope", "x").unwrap_err(),
            "unable to find container named \"nope\""
        );
        assert_eq!(parse_container_image("app=img:1"), Some(("app", "img:1")));
        assert_eq!(parse_container_image("app"), None);
        assert_eq!(parse_container_image("a=b=c"), None);
    }
}
