//! `create -f FILE…` and `create analysisrun`.

use anyhow::{Result, anyhow, bail};
use kube::{
    Api,
    api::{ApiResource, DynamicObject, PostParams},
};
use rollouts::crd::{
    AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Experiment, GROUP, Rollout,
};
use serde_json::{Map, Value, json};

use super::{Ctx, get, print, read_file, use_color};
use crate::{
    cli::{CreateAnalysisRunArgs, CreateArgs, CreateCommand},
    manifest::{decode_strict, group_kind, parse_documents},
    render::Style,
};

/// The resources `create -f` accepts, by kind: singular name, API resource, namespaced.
fn resource_of(kind: &str) -> Option<(&'static str, ApiResource, bool)> {
    Some(match kind {
        "Rollout" => ("rollout", ApiResource::erase::<Rollout>(&()), true),
        "Experiment" => ("experiment", ApiResource::erase::<Experiment>(&()), true),
        "AnalysisTemplate" => (
            "analysistemplate",
            ApiResource::erase::<AnalysisTemplate>(&()),
            true,
        ),
        "ClusterAnalysisTemplate" => (
            "clusteranalysistemplate",
            ApiResource::erase::<ClusterAnalysisTemplate>(&()),
            false,
        ),
        "AnalysisRun" => ("analysisrun", ApiResource::erase::<AnalysisRun>(&()), true),
        _ => return None,
    })
}

/// Checks `doc` against the typed definition of its kind (unknown fields are errors).
fn validate_kind(kind: &str, doc: &Value) -> Result<(), String> {
    match kind {
        "Rollout" => decode_strict::<Rollout>(doc).map(drop),
        "Experiment" => decode_strict::<Experiment>(doc).map(drop),
        "AnalysisTemplate" => decode_strict::<AnalysisTemplate>(doc).map(drop),
        "ClusterAnalysisTemplate" => decode_strict::<ClusterAnalysisTemplate>(doc).map(drop),
        "AnalysisRun" => decode_strict::<AnalysisRun>(doc).map(drop),
        _ => Ok(()),
    }
}

pub async fn run(ctx: &Ctx, args: CreateArgs) -> Result<i32> {
    if let Some(CreateCommand::Analysisrun(ar)) = &args.command {
        return analysis_run(ctx, ar).await;
    }
    if args.files.is_empty() {
        bail!("must specify one or more files with -f (usage: create -f FILE)");
    }
    if args.files.len() > 1 && args.watch {
        bail!("Cannot watch multiple resources");
    }
    let mut created: Vec<(String, String)> = Vec::new();
    for path in &args.files {
        let text = read_file(path)?;
        let docs = parse_documents(&text).map_err(|e| anyhow!(e))?;
        if docs.is_empty() {
            bail!("no objects found in {path}");
        }
        for doc in docs {
            created.push(create_one(ctx, doc).await?);
        }
    }
    if args.watch {
        let style = if use_color(args.no_color) {
            Style::COLOR
        } else {
            Style::PLAIN
        };
        let (kind, name) = &created[0];
        return match kind.as_str() {
            "Rollout" => {
                let ro = ctx.rollouts().get(name).await?;
                get::watch_rollout(ctx, name, ro, None, None, style).await
            }
            "Experiment" => get::watch_experiment(ctx, name, None, None, style).await,
            _ => Err(anyhow!(
                "Can only watch resources of type Rollout or Experiment"
            )),
        };
    }
    Ok(0)
}

/// Creates one document; returns its kind and the name it got.
async fn create_one(ctx: &Ctx, doc: Value) -> Result<(String, String)> {
    let (group, kind) = group_kind(&doc);
    let Some((singular, resource, namespaced)) = resource_of(&kind).filter(|_| group == GROUP)
    else {
        bail!("creates of {group}/{kind} unsupported");
    };
    validate_kind(&kind, &doc).map_err(|e| anyhow!(e))?;
    let obj: DynamicObject = serde_json::from_value(doc)?;
    let api: Api<DynamicObject> = if namespaced {
        let ns = obj
            .metadata
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| ctx.namespace.clone());
        Api::namespaced_with(ctx.client.clone(), &ns, &resource)
    } else {
        Api::all_with(ctx.client.clone(), &resource)
    };
    let result = api.create(&PostParams::default(), &obj).await?;
    let name = result.metadata.name.unwrap_or_default();
    print(&format!("{singular}.{GROUP}/{name} created\n"));
    Ok((kind, name))
}

/// `-a NAME=VALUE` flags as AnalysisRun arguments.
pub fn parse_arguments(flags: &[String]) -> Result<Vec<Value>, String> {
    flags
        .iter()
        .map(|flag| match flag.split_once('=') {
            Some((name, value)) => Ok(json!({"name": name, "value": value})),
            None => Err("arguments must be in the form NAME=VALUE".to_string()),
        })
        .collect()
}

/// An AnalysisRun from an (Cluster)AnalysisTemplate object (Argo's
/// `NewAnalysisRunFromUnstructured`): the template's own arguments, with values from `args` for
/// those named there (all of `args` when the template declares none), each of which must end up
/// with a value; kind `AnalysisRun`; the given name or generateName and namespace; no server
/// fields.
pub fn analysis_run_from_template(
    template: &Value,
    args: &[Value],
    name: &str,
    generate_name: &str,
    namespace: &str,
) -> Result<Value, String> {
    let mut obj = template.clone();
    let new_args: Vec<Value> = match obj.pointer("/spec/args").and_then(Value::as_array) {
        None => args.to_vec(),
        Some(template_args) => {
            let mut merged = template_args.clone();
            for arg in args {
                let Some(target) = merged
                    .iter_mut()
                    .find(|a| a.get("name") == arg.get("name"))
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                if let Some(v) = arg.get("value") {
                    target.insert("value".into(), v.clone());
                } else if let Some(v) = arg.get("valueFrom") {
                    target.insert("valueFrom".into(), v.clone());
                }
            }
            for a in &merged {
                if a.get("value").is_none_or(Value::is_null)
                    && a.get("valueFrom").is_none_or(Value::is_null)
                {
                    return Err(format!(
                        "args.{} was not resolved",
                        a.get("name").and_then(Value::as_str).unwrap_or("")
                    ));
                }
            }
            merged
        }
    };
    let root = obj
        .as_object_mut()
        .ok_or_else(|| "the template is not an object".to_string())?;
    root.insert("kind".into(), json!("AnalysisRun"));
    root.remove("status");
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let meta = meta
        .as_object_mut()
        .ok_or_else(|| "metadata is not an object".to_string())?;
    meta.insert("name".into(), json!(name));
    meta.insert("generateName".into(), json!(generate_name));
    meta.insert("namespace".into(), json!(namespace));
    for server_field in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "managedFields",
        "generation",
        "selfLink",
    ] {
        meta.remove(server_field);
    }
    if !new_args.is_empty()
        && let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.insert("args".into(), Value::Array(new_args));
    }
    Ok(obj)
}

async fn analysis_run(ctx: &Ctx, args: &CreateAnalysisRunArgs) -> Result<i32> {
    let froms = usize::from(args.from.is_some()) + usize::from(args.from_file.is_some());
    if froms != 1 {
        bail!("one of --from or --from-file must be specified");
    }
    let run_args = parse_arguments(&args.arguments).map_err(|e| anyhow!(e))?;
    let template: Value = match (&args.from, &args.from_file) {
        (Some(from), _) => {
            let resource = if args.global {
                ApiResource::erase::<ClusterAnalysisTemplate>(&())
            } else {
                ApiResource::erase::<AnalysisTemplate>(&())
            };
            let api: Api<DynamicObject> = if args.global {
                Api::all_with(ctx.client.clone(), &resource)
            } else {
                Api::namespaced_with(ctx.client.clone(), &ctx.namespace, &resource)
            };
            serde_json::to_value(api.get(from).await?)?
        }
        (None, Some(path)) => {
            let text = read_file(path)?;
            let doc = parse_documents(&text)
                .map_err(|e| anyhow!(e))?
                .into_iter()
                .next()
                .ok_or_else(|| anyhow!("no objects found in {path}"))?;
            let kind = group_kind(&doc).1;
            validate_kind(&kind, &doc).map_err(|e| anyhow!(e))?;
            doc
        }
        (None, None) => unreachable!("checked above"),
    };
    let template_name = template
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (name, generate_name) = match (&args.name, &args.generate_name) {
        (Some(name), _) => (name.clone(), String::new()),
        (None, Some(g)) => (String::new(), g.clone()),
        (None, None) => (String::new(), format!("{template_name}-")),
    };
    if name.is_empty() && generate_name == "-" {
        bail!("name is invalid");
    }
    let mut run =
        analysis_run_from_template(&template, &run_args, &name, &generate_name, &ctx.namespace)
            .map_err(|e| anyhow!(e))?;
    if let Some(id) = &args.instance_id {
        run["metadata"]["labels"] = json!({ rollouts::crd::keys::CONTROLLER_INSTANCE_ID: id });
    }
    let obj: DynamicObject = serde_json::from_value(run)?;
    let api: Api<DynamicObject> = Api::namespaced_with(
        ctx.client.clone(),
        &ctx.namespace,
        &ApiResource::erase::<AnalysisRun>(&()),
    );
    let created = api.create(&PostParams::default(), &obj).await?;
    print(&format!(
        "analysisrun.argoproj.io/{} created\n",
        created.metadata.name.unwrap_or_default()
    ));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse() {
        assert_eq!(
            parse_arguments(&["a=b=c".into()]).unwrap(),
            vec![json!({"name": "a", "value": "b=c"})]
        );
        assert!(parse_arguments(&["nope".into()]).is_err());
    }

    #[test]
    fn analysis_run_from_a_template() {
        let template = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": {"name": "success-rate", "namespace": "old", "resourceVersion": "7", "uid": "u"},
            "spec": {
                "args": [{"name": "service"}, {"name": "threshold", "value": "0.9"}],
                "metrics": [{"name": "m", "provider": {"web": {"url": "http://x"}}}]
            }
        });
        let args = parse_arguments(&["service=web".into(), "unused=1".into()]).unwrap();
        let run =
            analysis_run_from_template(&template, &args, "", "success-rate-", "team").unwrap();
        assert_eq!(run["kind"], "AnalysisRun");
        assert_eq!(run["metadata"]["generateName"], "success-rate-");
        assert_eq!(run["metadata"]["namespace"], "team");
        assert!(run["metadata"].get("resourceVersion").is_none());
        assert!(run["metadata"].get("uid").is_none());
        assert_eq!(
            run["spec"]["args"],
            json!([{"name": "service", "value": "web"}, {"name": "threshold", "value": "0.9"}])
        );
        assert_eq!(
            analysis_run_from_template(&template, &[], "n", "", "team").unwrap_err(),
            "args.service was not resolved"
        );
        // A template without arguments takes every argument given.
        let bare = json!({"kind": "ClusterAnalysisTemplate", "metadata": {"name": "t"}, "spec": {"metrics": []}});
        let run = analysis_run_from_template(&bare, &args, "n", "", "team").unwrap();
        assert_eq!(run["spec"]["args"].as_array().unwrap().len(), 2);
    }
}
