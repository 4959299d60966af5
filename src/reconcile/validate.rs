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

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Ctx, analysis};
use crate::{
    analysis::templates::{NamedTemplate, RunMeta, collect_templates, new_analysis_run},
    crd::{AnalysisTemplateRef, AnalysisTemplateSpec, DryRun, MeasurementRetention},
    crd::{Rollout, rollout::keys},
    plan::Observed,
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
/// Refused: workloadRef; for a canary, experiment, plugin, setCanaryScale, setHeaderRoute and
/// setMirrorRoute steps, traffic routing and ping-pong. (Analysis steps, background analysis and
/// blue-green pre/post-promotion analysis are run: [`super::analysis`].)
pub fn unsupported_feature(rollout: &Rollout) -> Option<FieldError> {
    if rollout.spec.workload_ref.is_some() {
        return Some(unsupported("spec.workloadRef"));
    }
    let canary = rollout.spec.strategy.canary.as_ref()?;
    let base = "spec.strategy.canary";
    for (i, step) in canary.steps.iter().flatten().enumerate() {
        let kinds = [
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
        ("pingPong", canary.ping_pong.is_some()),
    ];
    fields
        .into_iter()
        .find(|(_, used)| *used)
        .map(|(field, _)| unsupported(format!("{base}.{field}")))
}

/// The Services the strategy names, with their field paths (blue-green: active then preview;
/// canary: stable then canary).
fn service_candidates(rollout: &Rollout) -> Vec<(&'static str, Option<&str>)> {
    let strategy = &rollout.spec.strategy;
    if let Some(bg) = &strategy.blue_green {
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
        Vec::new()
    }
}

fn named_services(candidates: Vec<(&str, Option<&str>)>) -> Vec<(String, String)> {
    candidates
        .into_iter()
        .filter_map(|(path, name)| {
            name.filter(|n| !n.is_empty())
                .map(|n| (path.to_string(), n.to_string()))
        })
        .collect()
}

/// The first referenced Service that does not exist (Argo's `getReferencedServices`).
fn missing_service(
    named: &[(String, String)],
    services: &BTreeMap<String, Service>,
) -> Option<FieldError> {
    for (path, name) in named {
        if !services.contains_key(name) {
            return Some(FieldError::invalid(
                path.as_str(),
                name.as_str(),
                format!("service {} not found", go_quote(name)),
            ));
        }
    }
    None
}

/// The first referenced Service whose selector does not match the template or that another
/// rollout manages (Argo's `ValidateService`).
fn mismatched_service(
    rollout: &Rollout,
    named: &[(String, String)],
    services: &BTreeMap<String, Service>,
) -> Option<FieldError> {
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
                return Some(FieldError::invalid(path.as_str(), name.as_str(), message));
            }
        }
        let manager = svc
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(keys::MANAGED_BY_ROLLOUTS));
        if manager.is_some_and(|m| m != rollout_name) {
            return Some(FieldError::invalid(
                path.as_str(),
                name.as_str(),
                service_managed_by_another_rollout_message(name),
            ));
        }
    }
    None
}

/// Every check of the gate, in Argo's order: spec rules, unsupported features, then the
/// referenced resources: Services that do not exist, AnalysisTemplates that do not exist,
/// Services that do not match, AnalysisTemplates that cannot run.
pub fn first_error(rollout: &Rollout, obs: &Observed) -> Option<FieldError> {
    validate_rollout(rollout)
        .into_iter()
        .next()
        .or_else(|| unsupported_feature(rollout))
        .or_else(|| {
            let named = named_services(service_candidates(rollout));
            missing_service(&named, &obs.services)
                .or_else(|| missing_template(rollout, obs))
                .or_else(|| mismatched_service(rollout, &named, &obs.services))
                .or_else(|| invalid_analysis(rollout, obs))
        })
}

/// The first template reference that cannot be found, nested references followed depth-first
/// (Argo's `getReferencedAnalysisTemplatesFromRef`; nested ones are reported under
/// `spec.templates`).
fn missing_template(rollout: &Rollout, obs: &Observed) -> Option<FieldError> {
    fn walk(
        refs: &[AnalysisTemplateRef],
        path: &str,
        obs: &Observed,
        depth: usize,
    ) -> Option<FieldError> {
        if depth > crate::analysis::templates::MAX_TEMPLATE_DEPTH {
            return None;
        }
        for r in refs {
            let name = r.template_name.as_deref().unwrap_or("");
            let nested = if r.cluster_scope == Some(true) {
                match obs.cluster_analysis_templates.get(name) {
                    Some(t) => t.spec.0.templates.clone(),
                    None => {
                        return Some(FieldError::invalid(
                            path,
                            name,
                            format!("ClusterAnalysisTemplate '{name}' not found"),
                        ));
                    }
                }
            } else {
                match obs.analysis_templates.get(name) {
                    Some(t) => t.spec.templates.clone(),
                    None => {
                        return Some(FieldError::invalid(
                            path,
                            name,
                            format!("AnalysisTemplate '{name}' not found"),
                        ));
                    }
                }
            };
            if let Some(nested) = nested.filter(|n| !n.is_empty())
                && let Some(error) = walk(&nested, "spec.templates", obs, depth + 1)
            {
                return Some(error);
            }
        }
        None
    }
    analysis::referenced_analyses(rollout)
        .into_iter()
        .find_map(|(path, a, _)| walk(a.templates.as_deref().unwrap_or(&[]), &path, obs, 0))
}

/// Argo's `ValidateAnalysisTemplatesWithType` for every analysis of the rollout: the templates
/// compose into a run (with placeholder pod hashes), also with each analysis step's dry-run and
/// retention rules; the metrics of a non-background analysis resolve and end (a metric with an
/// interval and no count runs forever); a background analysis supplies the arguments its
/// templates leave open.
fn invalid_analysis(rollout: &Rollout, obs: &Observed) -> Option<FieldError> {
    for (path, analysis, background) in analysis::referenced_analyses(rollout) {
        let refs = analysis.templates.as_deref().unwrap_or(&[]);
        let lookup = |name: &str, cluster: bool| -> Result<AnalysisTemplateSpec, String> {
            let found = if cluster {
                obs.cluster_analysis_templates
                    .get(name)
                    .map(|t| t.spec.0.clone())
            } else {
                obs.analysis_templates.get(name).map(|t| t.spec.clone())
            };
            found.ok_or_else(|| format!("{name} not found"))
        };
        let set = match collect_templates::<String, _>(refs, lookup) {
            Ok(set) => set,
            Err(e) => return Some(FieldError::invalid(path.as_str(), "", e)),
        };
        let value = format!(
            "templateNames: [{}]",
            analysis::template_names(&set).join(" ")
        );
        let args = crate::analysis::args::build_rollout_args_lenient(
            analysis.args.as_deref().unwrap_or(&[]),
            Some("dummy-stable-hash"),
            Some("dummy-new-hash"),
            rollout,
        );
        let compose = |dry_run: &[DryRun], retention: &[MeasurementRetention]| {
            new_analysis_run(&set, &args, dry_run, retention, RunMeta::default()).err()
        };
        if let Some(e) = compose(&[], &[]) {
            return Some(FieldError::invalid(path.as_str(), value.as_str(), e));
        }
        for step in rollout.steps() {
            if let Some(step_analysis) = &step.analysis
                && let Some(e) = compose(
                    step_analysis.dry_run.as_deref().unwrap_or(&[]),
                    step_analysis
                        .measurement_retention
                        .as_deref()
                        .unwrap_or(&[]),
                )
            {
                return Some(FieldError::invalid(path.as_str(), value.as_str(), e));
            }
        }
        for template in set.templates.iter().chain(&set.cluster_templates) {
            if let Some(e) = invalid_template(rollout, template, background, &path) {
                return Some(e);
            }
        }
    }
    None
}

/// Argo's `ValidateAnalysisTemplateWithType` for one template.
fn invalid_template(
    rollout: &Rollout,
    template: &NamedTemplate,
    background: bool,
    path: &str,
) -> Option<FieldError> {
    let name = template.name.as_str();
    let mut args = template.spec.args.clone().unwrap_or_default();
    if !background {
        for arg in &mut args {
            if arg.value.is_none() && arg.value_from.is_none() {
                arg.value = Some("dummy-value".to_string());
            }
        }
        let mut resolved = Vec::new();
        let mut error = None;
        for arg in &mut args {
            if arg.value_from.is_some() {
                if arg.value.is_some() {
                    error = Some(format!(
                        "arg '{}' has both Value and ValueFrom fields",
                        arg.name
                    ));
                    break;
                }
                arg.value = Some("dummy-value".to_string());
            }
        }
        if error.is_none() {
            for metric in template.spec.metrics.iter().flatten() {
                match crate::analysis::args::resolve_metric_args(metric, &args) {
                    Ok(m) => resolved.push(m),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
        }
        if let Some(e) = error {
            return Some(FieldError::invalid(
                path,
                name,
                format!("AnalysisTemplate {name}: {e}"),
            ));
        }
        for metric in resolved {
            if metric.effective_count().is_none() {
                let shown = match metric.count.as_ref() {
                    None => "<nil>".to_string(),
                    Some(IntOrString::Int(n)) => n.to_string(),
                    Some(IntOrString::String(s)) => s.clone(),
                };
                return Some(FieldError::invalid(
                    path,
                    name,
                    format!(
                        "AnalysisTemplate {name} has metric {} which runs indefinitely. Invalid value for count: {shown}",
                        metric.name
                    ),
                ));
            }
        }
        return None;
    }
    let rollout_args = rollout
        .spec
        .strategy
        .canary
        .as_ref()
        .and_then(|c| c.analysis.as_ref())
        .and_then(|a| a.analysis.args.as_ref());
    for arg in &args {
        if arg.value.is_some() || arg.value_from.is_some() {
            continue;
        }
        let Some(rollout_args) = rollout_args else {
            return Some(FieldError::invalid(
                path,
                name,
                "missing analysis arguments in rollout spec",
            ));
        };
        if !rollout_args.iter().any(|a| a.name == arg.name) {
            return Some(FieldError::invalid(path, name, arg.name.as_str()));
        }
    }
    None
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
