//! `list rollouts [--watch]` and `list experiments`.

use std::{collections::HashMap, time::Duration};

use anyhow::Result;
use chrono::Utc;
use futures::StreamExt;
use kube::{
    Api,
    api::ListParams,
    runtime::{WatchStreamExt, watcher},
};
use rollouts::crd::{Experiment, Rollout};

use super::{Ctx, print, print_document, print_update, watch::interrupted};
use crate::{
    cli::Output,
    info::{ListOutput, RolloutListRow, SCHEMA_VERSION, experiment_list_row, rollout_list_row},
    render::list::{ListColumns, align_batch, render_experiments, render_rollouts, rollout_line},
};

/// How often lines printed during `--watch` are flushed (and aligned as one batch).
const FLUSH_INTERVAL: Duration = Duration::from_millis(500);

pub struct RolloutListArgs {
    pub name: Option<String>,
    pub all_namespaces: bool,
    pub watch: bool,
    pub timestamps: bool,
    pub output: Option<Output>,
}

fn list_params(name: Option<&str>) -> ListParams {
    match name {
        Some(name) => ListParams::default().fields(&format!("metadata.name={name}")),
        None => ListParams::default(),
    }
}

pub async fn rollouts(ctx: &Ctx, args: RolloutListArgs) -> Result<i32> {
    let api: Api<Rollout> = if args.all_namespaces {
        Api::all(ctx.client.clone())
    } else {
        ctx.rollouts()
    };
    let list = api.list(&list_params(args.name.as_deref())).await?;
    let rows: Vec<RolloutListRow> = list.items.iter().map(rollout_list_row).collect();
    let columns = ListColumns {
        namespace: args.all_namespaces,
        timestamps: args.timestamps,
    };
    match args.output {
        Some(output) if !args.watch => print_document(
            &ListOutput {
                schema_version: SCHEMA_VERSION,
                kind: "RolloutList",
                items: rows.clone(),
            },
            output,
        )?,
        Some(output) => {
            for row in &rows {
                print_update(row, output)?;
            }
        }
        None => match render_rollouts(&rows, columns, Utc::now()) {
            Some(table) => print(&table),
            None if !args.watch => eprintln!("No resources found."),
            None => print(&align_batch(&crate::render::list::rollout_header(columns))),
        },
    }
    if !args.watch {
        return Ok(0);
    }

    let mut previous: HashMap<(String, String), RolloutListRow> = rows
        .into_iter()
        .map(|r| ((r.namespace.clone(), r.name.clone()), r))
        .collect();
    let mut config = watcher::Config::default();
    if let Some(name) = &args.name {
        config = config.fields(&format!("metadata.name={name}"));
    }
    let mut events = watcher(api, config).default_backoff().boxed();
    let mut flush = tokio::time::interval(FLUSH_INTERVAL);
    let stop = interrupted();
    tokio::pin!(stop);
    let mut batch = String::new();
    loop {
        tokio::select! {
            event = events.next() => {
                let ro = match event {
                    Some(Ok(watcher::Event::Apply(ro) | watcher::Event::InitApply(ro))) => ro,
                    Some(_) => continue,
                    None => break,
                };
                let row = rollout_list_row(&ro);
                let key = (row.namespace.clone(), row.name.clone());
                if previous.get(&key) == Some(&row) {
                    continue;
                }
                match args.output {
                    Some(output) => print_update(&row, output)?,
                    None => batch.push_str(&rollout_line(&row, columns, Utc::now())),
                }
                previous.insert(key, row);
            }
            _ = flush.tick() => {
                if !batch.is_empty() {
                    print(&align_batch(&batch));
                    batch.clear();
                }
            }
            _ = &mut stop => break,
        }
    }
    if !batch.is_empty() {
        print(&align_batch(&batch));
    }
    Ok(0)
}

pub async fn experiments(ctx: &Ctx, all_namespaces: bool, output: Option<Output>) -> Result<i32> {
    let api: Api<Experiment> = if all_namespaces {
        Api::all(ctx.client.clone())
    } else {
        ctx.experiments()
    };
    let list = api.list(&ListParams::default()).await?;
    let rows: Vec<_> = list.items.iter().map(experiment_list_row).collect();
    match output {
        Some(output) => print_document(
            &ListOutput {
                schema_version: SCHEMA_VERSION,
                kind: "ExperimentList",
                items: rows,
            },
            output,
        )?,
        None => match render_experiments(&rows, all_namespaces, Utc::now()) {
            Some(table) => print(&table),
            None => eprintln!("No resources found."),
        },
    }
    Ok(0)
}
