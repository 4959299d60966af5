//! The commands that change objects: promote, abort, pause, retry, restart, undo, set image,
//! terminate.

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    core::v1::PodTemplate,
};
use kube::{
    Api, Resource,
    api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams},
};
use rollouts::crd::Rollout;
use serde_json::Value;

use super::{Ctx, print};
use crate::{
    duration::parse_go_duration,
    error::is_not_found,
    patches::{self, PromoteFlags, promote_patches, promote_precheck},
    undo::{equal_ignore_hash, rollout_revision, template_without_hash},
};

fn merge(body: &Value) -> Patch<&Value> {
    Patch::Merge(body)
}

/// A status patch on `/status`, falling back to the main resource without that subresource.
async fn patch_status_or_object(api: &Api<Rollout>, name: &str, body: &Value) -> Result<Rollout> {
    let pp = PatchParams::default();
    match api.patch_status(name, &pp, &merge(body)).await {
        Err(e) if is_not_found(&e) => Ok(api.patch(name, &pp, &merge(body)).await?),
        other => Ok(other?),
    }
}

pub async fn promote(ctx: &Ctx, name: &str, flags: PromoteFlags) -> Result<i32> {
    let api = ctx.rollouts();
    let ro = api.get(name).await?;
    promote_precheck(&ro, flags).map_err(|e| anyhow!(e))?;
    let p = promote_patches(&ro, flags);
    let pp = PatchParams::default();
    let mut spec = p.spec;
    if let Some(status) = &p.status {
        match api.patch_status(name, &pp, &merge(status)).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => spec = p.unified,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(spec) = &spec {
        api.patch(name, &pp, &merge(spec)).await?;
    }
    let verb = if flags.full {
        "fully promoted"
    } else {
        "promoted"
    };
    print(&format!(
        "rollout '{}' {verb}\n",
        ro.metadata.name.as_deref().unwrap_or(name)
    ));
    Ok(0)
}

pub async fn abort(ctx: &Ctx, names: &[String]) -> Result<i32> {
    let api = ctx.rollouts();
    for name in names {
        patch_status_or_object(&api, name, &patches::abort()).await?;
        print(&format!("rollout '{name}' aborted\n"));
    }
    Ok(0)
}

pub async fn pause(ctx: &Ctx, names: &[String]) -> Result<i32> {
    let api = ctx.rollouts();
    for name in names {
        api.patch(name, &PatchParams::default(), &merge(&patches::pause()))
            .await?;
        print(&format!("rollout '{name}' paused\n"));
    }
    Ok(0)
}

pub async fn retry_rollout(ctx: &Ctx, names: &[String]) -> Result<i32> {
    let api = ctx.rollouts();
    for name in names {
        patch_status_or_object(&api, name, &patches::retry_rollout()).await?;
        print(&format!("rollout '{name}' retried\n"));
    }
    Ok(0)
}

pub async fn retry_experiment(ctx: &Ctx, names: &[String]) -> Result<i32> {
    let api = ctx.experiments();
    for name in names {
        api.patch(
            name,
            &PatchParams::default(),
            &merge(&patches::retry_experiment()),
        )
        .await?;
        print(&format!("experiment '{name}' retried\n"));
    }
    Ok(0)
}

pub async fn terminate_analysis_runs(ctx: &Ctx, names: &[String]) -> Result<i32> {
    let api = ctx.analysis_runs();
    for name in names {
        api.patch(name, &PatchParams::default(), &merge(&patches::terminate()))
            .await?;
        print(&format!("analysisRun '{name}' terminated\n"));
    }
    Ok(0)
}

pub async fn terminate_experiments(ctx: &Ctx, names: &[String]) -> Result<i32> {
    let api = ctx.experiments();
    for name in names {
        api.patch(name, &PatchParams::default(), &merge(&patches::terminate()))
            .await?;
        // Argo's wording, kept as is.
        print(&format!("experiment '{name}' retried\n"));
    }
    Ok(0)
}

pub async fn restart(ctx: &Ctx, name: &str, in_: Option<&str>) -> Result<i32> {
    let delay = match in_ {
        Some(text) => parse_go_duration(text)
            .map_err(|e| anyhow!("invalid argument {text:?} for \"-i, --in\" flag: {e}"))?,
        None => chrono::Duration::zero(),
    };
    let at = Utc::now() + delay;
    ctx.rollouts()
        .patch(name, &PatchParams::default(), &merge(&patches::restart(at)))
        .await?;
    print(&format!(
        "rollout '{name}' restarts in {}\n",
        in_.unwrap_or("0s")
    ));
    Ok(0)
}

/// Sends a JSON patch (`application/json-patch+json`) to the object `name` of kind `K`.
async fn json_patch<K>(ctx: &Ctx, name: &str, body: &Value) -> Result<()>
where
    K: Resource<DynamicType = ()>,
{
    let url = K::url_path(&(), Some(&ctx.namespace));
    let mut request =
        kube::core::Request::new(url).patch(name, &PatchParams::default(), &Patch::Merge(body))?;
    request
        .headers_mut()
        .insert("content-type", "application/json-patch+json".parse()?);
    ctx.client.request::<Value>(request).await?;
    Ok(())
}

pub async fn undo(ctx: &Ctx, name: &str, to_revision: i64) -> Result<i32> {
    let dynamic: Api<DynamicObject> = Api::namespaced_with(
        ctx.client.clone(),
        &ctx.namespace,
        &ApiResource::erase::<Rollout>(&()),
    );
    let raw = dynamic.get(name).await?;
    let rollout: Rollout =
        serde_json::from_value(serde_json::to_value(&raw)?).context("Invalid rollout object")?;
    let uid = rollout.metadata.uid.clone().unwrap_or_default();
    let all_rs = ctx
        .api::<ReplicaSet>()
        .list(&ListParams::default())
        .await
        .with_context(|| format!("failed to retrieve replica sets from rollout {name}"))?
        .items;
    let rs = rollout_revision(name, &uid, &all_rs, to_revision).map_err(|e| anyhow!(e))?;
    let template = template_without_hash(rs);
    let current = raw
        .data
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null);
    if !current.is_null() && equal_ignore_hash(&current, &template) {
        print(&format!(
            "skipped rollback (current template already matches revision {to_revision})\n"
        ));
        return Ok(0);
    }
    let failed = |e: anyhow::Error| anyhow!("failed restoring revision {to_revision}: {e:#}");
    match rollout.spec.workload_ref.as_ref() {
        Some(w) => {
            let ref_name = w.name.clone().unwrap_or_default();
            match w.kind.as_deref().unwrap_or("") {
                "Deployment" => {
                    json_patch::<Deployment>(
                        ctx,
                        &ref_name,
                        &patches::undo(&template, "/spec/template"),
                    )
                    .await
                }
                "ReplicaSet" => {
                    json_patch::<ReplicaSet>(
                        ctx,
                        &ref_name,
                        &patches::undo(&template, "/spec/template"),
                    )
                    .await
                }
                "PodTemplate" => {
                    json_patch::<PodTemplate>(
                        ctx,
                        &ref_name,
                        &patches::undo(&template, "/template"),
                    )
                    .await
                }
                other => Err(anyhow!("workload of type {other} is not supported")),
            }
            .map_err(failed)?;
        }
        None => json_patch::<Rollout>(ctx, name, &patches::undo(&template, "/spec/template"))
            .await
            .map_err(failed)?,
    }
    print(&format!("rollout '{name}' undo\n"));
    Ok(0)
}

/// Conflicts are retried this many times in all.
const SET_IMAGE_ATTEMPTS: usize = 5;

pub async fn set_image(ctx: &Ctx, name: &str, container_image: &str) -> Result<i32> {
    let (container, image) = patches::parse_container_image(container_image).ok_or_else(|| {
        anyhow!("expected CONTAINER=IMAGE, got {container_image:?} (usage: set image ROLLOUT_NAME CONTAINER=IMAGE)")
    })?;
    let rollouts: Api<DynamicObject> = Api::namespaced_with(
        ctx.client.clone(),
        &ctx.namespace,
        &ApiResource::erase::<Rollout>(&()),
    );
    let mut attempt = 0;
    loop {
        attempt += 1;
        match set_image_once(ctx, &rollouts, name, container, image).await {
            Ok((kind, updated)) => {
                print(&format!(
                    "{} \"{updated}\" image updated\n",
                    kind.to_lowercase()
                ));
                return Ok(0);
            }
            Err(e)
                if attempt < SET_IMAGE_ATTEMPTS
                    && e.downcast_ref::<kube::Error>()
                        .is_some_and(|k| matches!(k, kube::Error::Api(s) if s.code == 409)) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn set_image_once(
    ctx: &Ctx,
    rollouts: &Api<DynamicObject>,
    name: &str,
    container: &str,
    image: &str,
) -> Result<(String, String)> {
    let ro = rollouts.get(name).await?;
    let (api, obj) = match ro.data.pointer("/spec/workloadRef") {
        Some(workload) => {
            let target = workload
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    anyhow!(
                        "spec.workloadRef.name is not a string: {}",
                        workload["name"]
                    )
                })?;
            let deployments: Api<DynamicObject> = Api::namespaced_with(
                ctx.client.clone(),
                &ctx.namespace,
                &ApiResource::erase::<Deployment>(&()),
            );
            let obj = deployments.get(target).await?;
            (deployments, obj)
        }
        None => (rollouts.clone(), ro),
    };
    let value = serde_json::to_value(&obj)?;
    let updated = patches::set_image(&value, container, image).map_err(|e| anyhow!(e))?;
    let updated: DynamicObject = serde_json::from_value(updated)?;
    let target = updated.metadata.name.clone().unwrap_or_default();
    let result = api
        .replace(&target, &PostParams::default(), &updated)
        .await?;
    let kind = result
        .types
        .as_ref()
        .map(|t| t.kind.clone())
        .or_else(|| obj.types.as_ref().map(|t| t.kind.clone()))
        .unwrap_or_else(|| "rollout".into());
    Ok((kind, result.metadata.name.unwrap_or(target)))
}
