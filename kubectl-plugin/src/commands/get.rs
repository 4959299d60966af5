//! `get rollout`, `get experiment` (with `--watch`) and `explain`.

use std::time::Duration;

use anyhow::{Result, anyhow};
use chrono::Utc;
use k8s_openapi::api::{
    apps::v1::{Deployment, ReplicaSet},
    core::v1::{Pod, PodTemplate, PodTemplateSpec},
};
use kube::{
    Api,
    api::{ListParams, ObjectList},
    runtime::watcher,
};
use rollouts::crd::{AnalysisRun, Experiment, Rollout};

use super::{Ctx, print, print_document, print_update, use_color, watch};
use crate::{
    cli::{GetExperimentArgs, GetRolloutArgs, Output},
    error::is_not_found,
    explain,
    info::{RolloutInfo, experiment_info, rollout_info},
    render::{CLEAR_SCREEN, Style, tree},
};

/// Argo's informer wording for a missing object (`rollout.argoproj.io "x" not found`).
fn not_found(kind: &str, name: &str) -> anyhow::Error {
    anyhow!("{kind}.argoproj.io \"{name}\" not found")
}

async fn get_or_not_found<K>(api: &Api<K>, kind: &str, name: &str) -> Result<K>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.get(name).await {
        Ok(obj) => Ok(obj),
        Err(e) if is_not_found(&e) => Err(not_found(kind, name)),
        Err(e) => Err(e.into()),
    }
}

/// The pod template of a `workloadRef` target, if it can be read.
async fn workload_template(ctx: &Ctx, ro: &Rollout) -> Option<PodTemplateSpec> {
    let w = ro.spec.workload_ref.as_ref()?;
    let name = w.name.as_deref()?;
    match w.kind.as_deref()? {
        "Deployment" => ctx
            .api::<Deployment>()
            .get(name)
            .await
            .ok()
            .and_then(|d| d.spec)
            .map(|s| s.template),
        "ReplicaSet" => ctx
            .api::<ReplicaSet>()
            .get(name)
            .await
            .ok()
            .and_then(|r| r.spec)
            .and_then(|s| s.template),
        "PodTemplate" => ctx
            .api::<PodTemplate>()
            .get(name)
            .await
            .ok()
            .and_then(|p| p.template),
        _ => None,
    }
}

fn items<K: Clone>(list: ObjectList<K>) -> Vec<K> {
    list.items
}

/// The rollout and its view model, fetched once.
pub async fn fetch_rollout(ctx: &Ctx, name: &str) -> Result<(Rollout, RolloutInfo)> {
    let ro = get_or_not_found(&ctx.rollouts(), "rollout", name).await?;
    let lp = ListParams::default();
    let (rs_api, pod_api, exp_api, run_api) = (
        ctx.api::<ReplicaSet>(),
        ctx.api::<Pod>(),
        ctx.experiments(),
        ctx.analysis_runs(),
    );
    let (rs, pods, exps, runs) = futures::try_join!(
        rs_api.list(&lp),
        pod_api.list(&lp),
        exp_api.list(&lp),
        run_api.list(&lp),
    )?;
    let workload = workload_template(ctx, &ro).await;
    let info = rollout_info(
        &ro,
        &items(rs),
        &items(pods),
        &items(exps),
        &items(runs),
        workload.as_ref(),
    );
    Ok((ro, info))
}

pub async fn rollout(ctx: &Ctx, args: &GetRolloutArgs) -> Result<i32> {
    let style = if use_color(args.no_color) {
        Style::COLOR
    } else {
        Style::PLAIN
    };
    // One read first, so that a missing rollout or an unreachable cluster fails at once.
    let (ro, info) = fetch_rollout(ctx, &args.name).await?;
    if !args.watch {
        match args.output {
            Some(output) => print_document(&info, output)?,
            None => print(&tree::render_rollout(&info, Utc::now(), style)),
        }
        return Ok(0);
    }
    let timeout =
        (args.timeout_seconds > 0).then(|| Duration::from_secs(args.timeout_seconds as u64));
    watch_rollout(ctx, &args.name, ro, timeout, args.output, style).await
}

/// `get rollout --watch`: redraws the tree in place (or prints one document per change with
/// `-o`).
pub async fn watch_rollout(
    ctx: &Ctx,
    name: &str,
    initial: Rollout,
    timeout: Option<Duration>,
    output: Option<Output>,
    style: Style,
) -> Result<i32> {
    let by_name = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let (rollouts, s0) = watch::reflect(ctx.rollouts(), by_name, 0);
    let (rs, s1) = watch::reflect(ctx.api::<ReplicaSet>(), watcher::Config::default(), 1);
    let (pods, s2) = watch::reflect(ctx.api::<Pod>(), watcher::Config::default(), 2);
    let (exps, s3) = watch::reflect(ctx.experiments(), watcher::Config::default(), 3);
    let (runs, s4) = watch::reflect(ctx.analysis_runs(), watcher::Config::default(), 4);
    let workload = workload_template(ctx, &initial).await;
    let mut last: Option<RolloutInfo> = None;
    watch::run(vec![s0, s1, s2, s3, s4], 5, timeout, |changed| {
        let current = watch::snapshot(&rollouts);
        let Some(ro) = current.first() else {
            if last.is_none() {
                return Err(not_found("rollout", name));
            }
            // Deleted while watching: keep the last picture.
            return Ok(watch::Flow::Continue);
        };
        let info = rollout_info(
            ro,
            &watch::snapshot(&rs),
            &watch::snapshot(&pods),
            &watch::snapshot(&exps),
            &watch::snapshot(&runs),
            workload.as_ref(),
        );
        match output {
            Some(output) => {
                if changed && last.as_ref() != Some(&info) {
                    print_update(&info, output)?;
                }
            }
            None => print(&format!(
                "{CLEAR_SCREEN}{}",
                tree::render_rollout(&info, Utc::now(), style)
            )),
        }
        last = Some(info);
        Ok(watch::Flow::Continue)
    })
    .await?;
    Ok(0)
}

pub async fn experiment(ctx: &Ctx, args: &GetExperimentArgs) -> Result<i32> {
    let style = if use_color(args.no_color) {
        Style::COLOR
    } else {
        Style::PLAIN
    };
    let exp = get_or_not_found(&ctx.experiments(), "experiment", &args.name).await?;
    if !args.watch {
        let lp = ListParams::default();
        let (rs_api, pod_api, run_api) = (
            ctx.api::<ReplicaSet>(),
            ctx.api::<Pod>(),
            ctx.analysis_runs(),
        );
        let (rs, pods, runs) =
            futures::try_join!(rs_api.list(&lp), pod_api.list(&lp), run_api.list(&lp))?;
        let info = experiment_info(&exp, &items(rs), &items(runs), &items(pods));
        match args.output {
            Some(output) => print_document(&info, output)?,
            None => print(&tree::render_experiment(&info, Utc::now(), style)),
        }
        return Ok(0);
    }
    watch_experiment(ctx, &args.name, None, args.output, style).await
}

/// `get experiment --watch`.
pub async fn watch_experiment(
    ctx: &Ctx,
    name: &str,
    timeout: Option<Duration>,
    output: Option<Output>,
    style: Style,
) -> Result<i32> {
    let by_name = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let (exps, s0) = watch::reflect(ctx.experiments(), by_name, 0);
    let (rs, s1) = watch::reflect(ctx.api::<ReplicaSet>(), watcher::Config::default(), 1);
    let (pods, s2) = watch::reflect(ctx.api::<Pod>(), watcher::Config::default(), 2);
    let (runs, s3) = watch::reflect(ctx.analysis_runs(), watcher::Config::default(), 3);
    let mut last = None;
    watch::run(vec![s0, s1, s2, s3], 4, timeout, |changed| {
        let current: Vec<Experiment> = watch::snapshot(&exps);
        let Some(exp) = current.first() else {
            if last.is_none() {
                return Err(not_found("experiment", name));
            }
            return Ok(watch::Flow::Continue);
        };
        let runs: Vec<AnalysisRun> = watch::snapshot(&runs);
        let info = experiment_info(exp, &watch::snapshot(&rs), &runs, &watch::snapshot(&pods));
        match output {
            Some(output) => {
                if changed && last.as_ref() != Some(&info) {
                    print_update(&info, output)?;
                }
            }
            None => print(&format!(
                "{CLEAR_SCREEN}{}",
                tree::render_experiment(&info, Utc::now(), style)
            )),
        }
        last = Some(info);
        Ok(watch::Flow::Continue)
    })
    .await?;
    Ok(0)
}

pub async fn explain(ctx: &Ctx, name: &str, output: Option<Output>) -> Result<i32> {
    let (ro, info) = fetch_rollout(ctx, name).await?;
    let explanation = explain::explain(&ro, &info, Utc::now());
    match output {
        Some(output) => print_document(&explanation, output)?,
        None => print(&explain::render(&explanation)),
    }
    Ok(0)
}
