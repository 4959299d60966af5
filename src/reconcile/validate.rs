//! The gate before any write: spec validation, the features this controller cannot run yet,
//! and the Services the spec references (Argo's `getRolloutValidationErrors` and
//! `createInvalidRolloutCondition`). The first error found becomes the `InvalidSpec` condition;
//! the rollout is then left alone (no ReplicaSet is created or scaled) until the spec is fixed.
//!
//! Features that are not implemented yet are refused here on purpose, with an `InvalidSpec`
//! message that names them: silently skipping an analysis step or ignoring traffic routing would
//! promote a canary nobody analysed, or shift traffic the router never saw.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;

use super::Ctx;
use crate::{
    crd::{Rollout, rollout::keys},
    status::conditions::{self as cond, service_managed_by_another_rollout_message},
    validation::{FieldError, go_quote, validate_rollout},
};

/// Detail of the `InvalidSpec` error for a feature this controller does not run yet.
pub const NOT_SUPPORTED_YET: &str = "not supported by this controller yet";

fn unsupported(path: impl Into<String>) -> FieldError {
    FieldError::forbidden(path, NOT_SUPPORTED_YET)
}

/// The first part of the spec that uses a feature this planner does not implement yet, if any.
///
/// Refused: workloadRef; for a canary, analysis, experiment, plugin, setCanaryScale,
/// setHeaderRoute and setMirrorRoute steps, traffic routing, background analysis and ping-pong;
/// for blue-green, pre- and post-promotion analysis. (Ephemeral canary/stable and preview/active
/// metadata are supported: [`super::ephemeral`].)
pub fn unsupported_feature(rollout: &Rollout) -> Option<FieldError> {
    if rollout.spec.workload_ref.is_some() {
        return Some(unsupported("spec.workloadRef"));
    }
    if let Some(bg) = &rollout.spec.strategy.blue_green {
        let fields = [
            ("prePromotionAnalysis", bg.pre_promotion_analysis.is_some()),
            (
                "postPromotionAnalysis",
                bg.post_promotion_analysis.is_some(),
            ),
        ];
        return fields
            .into_iter()
            .find(|(_, used)| *used)
            .map(|(field, _)| unsupported(format!("spec.strategy.blueGreen.{field}")));
    }
    let canary = rollout.spec.strategy.canary.as_ref()?;
    let base = "spec.strategy.canary";
    for (i, step) in canary.steps.iter().flatten().enumerate() {
        let kinds = [
            ("analysis", step.analysis.is_some()),
            ("experiment", step.experiment.is_some()),
            ("plugin", step.plugin.is_some()),
            ("setCanaryScale", step.set_canary_scale.is_some()),
            ("setHeaderRoute", step.set_header_route.is_some()),
            ("setMirrorRoute", step.set_mirror_route.is_some()),
        ];
        if let Some((kind, _)) = kinds.into_iter().find(|(_, used)| *used) {
            return Some(unsupported(format!("{base}.steps[{i}].{kind}")));
        }
    }
    let fields = [
        ("trafficRouting", canary.traffic_routing.is_some()),
        ("analysis", canary.analysis.is_some()),
        ("pingPong", canary.ping_pong.is_some()),
    ];
    fields
        .into_iter()
        .find(|(_, used)| *used)
        .map(|(field, _)| unsupported(format!("{base}.{field}")))
}

/// Argo's service reference checks (`getReferencedServices` + `ValidateService`): every named
/// Service exists (blue-green: active then preview; canary: stable then canary), its selector
/// matches the template labels (the hash label aside; keys in sorted order, where Go's map order
/// is random) and no other rollout manages it.
pub fn referenced_services(
    rollout: &Rollout,
    services: &BTreeMap<String, Service>,
) -> Option<FieldError> {
    let strategy = &rollout.spec.strategy;
    let candidates: Vec<(&str, Option<&str>)> = if let Some(bg) = &strategy.blue_green {
        vec![
            (
                "spec.strategy.blueGreen.activeService",
                Some(bg.active_service.as_str()),
            ),
            (
                "spec.strategy.blueGreen.previewService",
                bg.preview_service.as_deref(),
            ),
        ]
    } else if let Some(canary) = &strategy.canary {
        vec![
            (
                "spec.strategy.canary.stableService",
                canary.stable_service.as_deref(),
            ),
            (
                "spec.strategy.canary.canaryService",
                canary.canary_service.as_deref(),
            ),
        ]
    } else {
        return None;
    };
    let named: Vec<(&str, &str)> = candidates
        .into_iter()
        .filter_map(|(path, name)| name.filter(|n| !n.is_empty()).map(|n| (path, n)))
        .collect();
    for (path, name) in &named {
        if !services.contains_key(*name) {
            return Some(FieldError::invalid(
                *path,
                *name,
                format!("service {} not found", go_quote(name)),
            ));
        }
    }
    let rollout_name = rollout.metadata.name.as_deref().unwrap_or("");
    let template_labels = rollout
        .spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    for (path, name) in named {
        let svc = &services[name];
        let selector = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        for (key, value) in &selector {
            if key == keys::POD_TEMPLATE_HASH {
                continue;
            }
            if template_labels.get(key) != Some(value) {
                let message = format!(
                    "Service {} has unmatch label {} in rollout",
                    go_quote(name),
                    go_quote(key)
                );
                return Some(FieldError::invalid(path, name, message));
            }
        }
        let manager = svc
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(keys::MANAGED_BY_ROLLOUTS));
        if manager.is_some_and(|m| m != rollout_name) {
            return Some(FieldError::invalid(
                path,
                name,
                service_managed_by_another_rollout_message(name),
            ));
        }
    }
    None
}

/// Every check of the gate, in order: spec rules, unsupported features, referenced Services.
pub fn first_error(
    rollout: &Rollout,
    services: &std::collections::BTreeMap<String, Service>,
) -> Option<FieldError> {
    validate_rollout(rollout)
        .into_iter()
        .next()
        .or_else(|| unsupported_feature(rollout))
        .or_else(|| referenced_services(rollout, services))
}

impl Ctx<'_> {
    /// Argo's `createInvalidRolloutCondition`: the `InvalidSpec` condition with the error's
    /// message (replaced, and moved to the end, when the message changes), Degraded phase,
    /// written with its own status patch when the condition or the observed generation changed.
    pub(crate) fn invalid_spec(&mut self, error: &FieldError) {
        let name = self.rollout.metadata.name.clone().unwrap_or_default();
        let message = cond::invalid_spec_message(&name, &error.to_string());
        let base = self.status().clone();
        let mut new_status = base.clone();
        let changed = cond::set_invalid_spec_condition(&mut new_status, message, self.now);
        let generation = self.rollout.metadata.generation.unwrap_or(0).to_string();
        if changed || base.observed_generation.as_deref() != Some(generation.as_str()) {
            self.patch_condition(&base, new_status, Vec::new());
        }
    }
}
