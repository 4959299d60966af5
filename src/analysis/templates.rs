//! Composing AnalysisRuns from (Cluster)AnalysisTemplates: following nested template
//! references, flattening metrics, dry-run and retention rules and arguments, and merging the
//! caller's arguments (Argo's `FlattenTemplates`, `MergeArgs`, `NewAnalysisRunFromTemplates`).

use std::collections::{BTreeMap, BTreeSet};

use kube::api::ObjectMeta;

use crate::crd::{
    AnalysisRun, AnalysisRunSpec, AnalysisTemplateRef, AnalysisTemplateSpec, Argument, DryRun,
    MeasurementRetention, Metric,
};

/// Template references nested deeper than this are reported as an error instead of recursing
/// (Go has no guard and would overflow its stack on a reference cycle).
pub const MAX_TEMPLATE_DEPTH: usize = 32;

/// A template with its name: namespaced (`AnalysisTemplate`) or cluster-scoped.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTemplate {
    pub name: String,
    pub spec: AnalysisTemplateSpec,
}

/// The templates an analysis refers to, nested references followed, each name once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateSet {
    pub templates: Vec<NamedTemplate>,
    pub cluster_templates: Vec<NamedTemplate>,
}

/// Follows template references depth-first (Argo's `getAnalysisTemplatesFromRefs`):
/// each template is followed by the ones it nests, namespaced and cluster-scoped ones kept in
/// two lists, and a name seen before is dropped (first occurrence wins).
///
/// `lookup(name, cluster_scope)` fetches one template (from an informer cache, say); its error
/// is returned as is (e.g. a not-found error).
pub fn collect_templates<E, F>(
    refs: &[AnalysisTemplateRef],
    mut lookup: F,
) -> Result<TemplateSet, E>
where
    F: FnMut(&str, bool) -> Result<AnalysisTemplateSpec, E>,
    E: From<String>,
{
    let mut set = TemplateSet::default();
    collect(refs, &mut lookup, &mut set, 0)?;
    let mut seen = BTreeSet::new();
    set.templates.retain(|t| seen.insert(t.name.clone()));
    let mut seen = BTreeSet::new();
    set.cluster_templates
        .retain(|t| seen.insert(t.name.clone()));
    Ok(set)
}

fn collect<E, F>(
    refs: &[AnalysisTemplateRef],
    lookup: &mut F,
    set: &mut TemplateSet,
    depth: usize,
) -> Result<(), E>
where
    F: FnMut(&str, bool) -> Result<AnalysisTemplateSpec, E>,
    E: From<String>,
{
    if depth > MAX_TEMPLATE_DEPTH {
        return Err(E::from(format!(
            "analysis templates are nested more than {MAX_TEMPLATE_DEPTH} levels deep (a reference cycle?)"
        )));
    }
    for r in refs {
        let name = r.template_name.clone().unwrap_or_default();
        let cluster = r.cluster_scope.unwrap_or(false);
        let spec = lookup(&name, cluster)?;
        let nested = spec.templates.clone().unwrap_or_default();
        let template = NamedTemplate { name, spec };
        if cluster {
            set.cluster_templates.push(template);
        } else {
            set.templates.push(template);
        }
        if !nested.is_empty() {
            // Go appends the nested templates after their parent, per kind.
            let mut inner = TemplateSet::default();
            collect(&nested, lookup, &mut inner, depth + 1)?;
            set.cluster_templates.extend(inner.cluster_templates);
            set.templates.extend(inner.templates);
        }
    }
    Ok(())
}

/// The combined content of several templates (Argo's `FlattenTemplates`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flattened {
    pub metrics: Vec<Metric>,
    pub dry_run: Vec<DryRun>,
    pub measurement_retention: Vec<MeasurementRetention>,
    pub args: Vec<Argument>,
}

/// Concatenates the templates' metrics, dry-run and retention rules (namespaced templates
/// first) and merges their arguments. Errors: `two metrics have the same name '<m>'`,
/// duplicate dry-run or retention rules, and an argument given two different values
/// (``Argument `x` specified multiple times with different values: 'a', 'b'``).
pub fn flatten_templates(set: &TemplateSet) -> Result<Flattened, String> {
    let all = || set.templates.iter().chain(&set.cluster_templates);
    let metrics: Vec<Metric> = all()
        .flat_map(|t| t.spec.metrics.iter().flatten().cloned())
        .collect();
    let mut names = BTreeSet::new();
    for m in &metrics {
        if !names.insert(m.name.as_str()) {
            return Err(format!("two metrics have the same name '{}'", m.name));
        }
    }
    let dry_run: Vec<DryRun> = all()
        .flat_map(|t| t.spec.dry_run.iter().flatten().cloned())
        .collect();
    validate_dry_run(&dry_run)?;
    let measurement_retention: Vec<MeasurementRetention> = all()
        .flat_map(|t| t.spec.measurement_retention.iter().flatten().cloned())
        .collect();
    validate_retention(&measurement_retention)?;
    let mut args: Vec<Argument> = Vec::new();
    for arg in all().flat_map(|t| t.spec.args.iter().flatten()) {
        match args.iter_mut().find(|a| a.name == arg.name) {
            Some(prev) => {
                if let (Some(a), Some(b)) = (&prev.value, &arg.value)
                    && a != b
                {
                    return Err(format!(
                        "Argument `{}` specified multiple times with different values: '{a}', '{b}'",
                        arg.name
                    ));
                }
                // A value already set is not replaced by an argument without one.
                if prev.value.is_none() {
                    *prev = arg.clone();
                }
            }
            None => args.push(arg.clone()),
        }
    }
    Ok(Flattened {
        metrics,
        dry_run,
        measurement_retention,
        args,
    })
}

fn validate_dry_run(rules: &[DryRun]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for r in rules {
        if !seen.insert(r.metric_name.as_str()) {
            return Err(format!(
                "two Dry-Run metric rules have the same name '{}'",
                r.metric_name
            ));
        }
    }
    Ok(())
}

fn validate_retention(rules: &[MeasurementRetention]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for r in rules {
        if !seen.insert(r.metric_name.as_str()) {
            return Err(format!(
                "two Measurement Retention metric rules have the same name '{}'",
                r.metric_name
            ));
        }
    }
    Ok(())
}

/// Merges the caller's arguments into the template's (Argo's `MergeArgs`): a caller argument
/// sets the value (or else the `valueFrom`) of the template argument of that name; caller
/// arguments the templates do not declare are dropped. Every argument must end up with a
/// value or a `valueFrom`: `args.<name> was not resolved`.
pub fn merge_args(
    incoming: &[Argument],
    template_args: &[Argument],
) -> Result<Vec<Argument>, String> {
    let mut merged = template_args.to_vec();
    for arg in incoming {
        if let Some(target) = merged.iter_mut().find(|a| a.name == arg.name) {
            if arg.value.is_some() {
                target.value = arg.value.clone();
            } else if arg.value_from.is_some() {
                target.value_from = arg.value_from.clone();
            }
        }
    }
    if let Some(unresolved) = merged
        .iter()
        .find(|a| a.value.is_none() && a.value_from.is_none())
    {
        return Err(format!("args.{} was not resolved", unresolved.name));
    }
    Ok(merged)
}

/// Where a new AnalysisRun goes and how it is labelled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMeta {
    pub name: String,
    pub generate_name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Builds an AnalysisRun from templates (Argo's `NewAnalysisRunFromTemplates`): flattened
/// metrics, the caller's dry-run and retention rules before the templates', and the merged
/// arguments. Owner references are the caller's to add.
pub fn new_analysis_run(
    set: &TemplateSet,
    args: &[Argument],
    dry_run: &[DryRun],
    measurement_retention: &[MeasurementRetention],
    meta: RunMeta,
) -> Result<AnalysisRun, String> {
    let flat = flatten_templates(set)?;
    let args = merge_args(args, &flat.args)?;
    let dry_run: Vec<DryRun> = dry_run.iter().chain(&flat.dry_run).cloned().collect();
    validate_dry_run(&dry_run)?;
    let retention: Vec<MeasurementRetention> = measurement_retention
        .iter()
        .chain(&flat.measurement_retention)
        .cloned()
        .collect();
    validate_retention(&retention)?;
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    let non_empty_map = |m: BTreeMap<String, String>| (!m.is_empty()).then_some(m);
    Ok(AnalysisRun {
        metadata: ObjectMeta {
            name: non_empty(meta.name),
            generate_name: non_empty(meta.generate_name),
            namespace: non_empty(meta.namespace),
            labels: non_empty_map(meta.labels),
            annotations: non_empty_map(meta.annotations),
            ..Default::default()
        },
        spec: AnalysisRunSpec {
            metrics: flat.metrics,
            args: (!args.is_empty()).then_some(args),
            terminate: None,
            dry_run: (!dry_run.is_empty()).then_some(dry_run),
            measurement_retention: (!retention.is_empty()).then_some(retention),
            ttl_strategy: None,
        },
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> AnalysisTemplateSpec {
        serde_norway::from_str(yaml).unwrap()
    }

    fn named(name: &str, yaml: &str) -> NamedTemplate {
        NamedTemplate {
            name: name.into(),
            spec: spec(yaml),
        }
    }

    fn tref(name: &str, cluster: bool) -> AnalysisTemplateRef {
        AnalysisTemplateRef {
            template_name: Some(name.into()),
            cluster_scope: cluster.then_some(true),
        }
    }

    #[test]
    fn nested_templates_are_followed_once() {
        let store: BTreeMap<(&str, bool), AnalysisTemplateSpec> = BTreeMap::from([
            (
                ("top", false),
                spec(
                    "templates: [{templateName: shared, clusterScope: true}, {templateName: leaf}]",
                ),
            ),
            (("shared", true), spec("templates: [{templateName: leaf}]")),
            (("leaf", false), spec("metrics: []")),
        ]);
        let set =
            collect_templates::<String, _>(&[tref("top", false), tref("leaf", false)], |n, c| {
                store
                    .get(&(n, c))
                    .cloned()
                    .ok_or_else(|| format!("analysistemplate.argoproj.io \"{n}\" not found"))
            })
            .unwrap();
        let names = |v: &[NamedTemplate]| v.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&set.templates), ["top", "leaf"]);
        assert_eq!(names(&set.cluster_templates), ["shared"]);

        let missing = collect_templates::<String, _>(&[tref("nope", false)], |n, _| {
            Err(format!("analysistemplate.argoproj.io \"{n}\" not found"))
        });
        assert_eq!(
            missing.unwrap_err(),
            "analysistemplate.argoproj.io \"nope\" not found"
        );
        let cycle = collect_templates::<String, _>(&[tref("a", false)], |_, _| {
            Ok(spec("templates: [{templateName: a}]"))
        });
        assert!(cycle.unwrap_err().contains("nested more than"));
    }

    #[test]
    fn flattening() {
        let set = TemplateSet {
            templates: vec![
                named(
                    "a",
                    "args: [{name: svc}, {name: port, value: '80'}]\nmetrics: [{name: m1, provider: {web: {url: x}}}]\ndryRun: [{metricName: m1}]",
                ),
                named(
                    "b",
                    "args: [{name: svc, value: api}, {name: port, value: '80'}]\nmetrics: [{name: m2, provider: {web: {url: y}}}]",
                ),
            ],
            cluster_templates: vec![named(
                "c",
                "metrics: [{name: m3, provider: {web: {url: z}}}]\nmeasurementRetention: [{metricName: m3, limit: 5}]",
            )],
        };
        let flat = flatten_templates(&set).unwrap();
        let metric_names: Vec<_> = flat.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(metric_names, ["m1", "m2", "m3"]);
        assert_eq!(flat.args[0].value.as_deref(), Some("api"));
        assert_eq!(flat.dry_run.len(), 1);
        assert_eq!(flat.measurement_retention[0].limit, 5);

        let mut dup = set.clone();
        dup.cluster_templates[0].spec.metrics.as_mut().unwrap()[0].name = "m1".into();
        assert_eq!(
            flatten_templates(&dup).unwrap_err(),
            "two metrics have the same name 'm1'"
        );
        let mut conflict = set.clone();
        conflict.templates[1].spec.args.as_mut().unwrap()[1].value = Some("81".into());
        assert_eq!(
            flatten_templates(&conflict).unwrap_err(),
            "Argument `port` specified multiple times with different values: '80', '81'"
        );
        let mut dry = set;
        dry.templates[1].spec.dry_run = Some(vec![DryRun {
            metric_name: "m1".into(),
        }]);
        assert_eq!(
            flatten_templates(&dry).unwrap_err(),
            "two Dry-Run metric rules have the same name 'm1'"
        );
    }

    #[test]
    fn merging_args_and_building_the_run() {
        let set = TemplateSet {
            templates: vec![named(
                "a",
                "args: [{name: svc}, {name: port, value: '80'}]\nmetrics: [{name: m1, provider: {web: {url: x}}}]",
            )],
            cluster_templates: vec![],
        };
        let given = |name: &str, value: &str| Argument {
            name: name.into(),
            value: Some(value.into()),
            value_from: None,
        };
        assert_eq!(
            new_analysis_run(&set, &[], &[], &[], RunMeta::default()).unwrap_err(),
            "args.svc was not resolved"
        );
        let run = new_analysis_run(
            &set,
            &[given("svc", "api"), given("unknown", "x")],
            &[DryRun {
                metric_name: ".*".into(),
            }],
            &[],
            RunMeta {
                name: "ro-abc-2-1".into(),
                namespace: "default".into(),
                labels: BTreeMap::from([("rollout-type".into(), "Step".into())]),
                ..Default::default()
            },
        )
        .unwrap();
        let args = run.spec.args.as_ref().unwrap();
        assert_eq!(args.len(), 2);
        assert_eq!(args[0].value.as_deref(), Some("api"));
        assert_eq!(run.metadata.name.as_deref(), Some("ro-abc-2-1"));
        assert!(run.metadata.generate_name.is_none());
        assert_eq!(run.spec.dry_run.as_ref().unwrap().len(), 1);
        assert!(run.spec.measurement_retention.is_none());
    }
}
