//! `status ROLLOUT [--watch] [--timeout]`.

use anyhow::{Result, anyhow};
use kube::runtime::watcher;
use rollouts::{crd::Rollout, status::phase::client_phase};

use super::{Ctx, print, print_document, print_update, watch};
use crate::{
    cli::Output,
    duration::parse_go_duration,
    error::is_not_found,
    info::SCHEMA_VERSION,
    status::{StatusReport, WatchEnd, WatchPrinter, is_terminal, no_watch_line, outcome},
};

fn report(ro: &Rollout, done_check: bool) -> StatusReport {
    let (phase, message) = client_phase(ro);
    StatusReport {
        schema_version: SCHEMA_VERSION,
        kind: "RolloutStatus",
        name: ro.metadata.name.clone().unwrap_or_default(),
        namespace: ro.metadata.namespace.clone().unwrap_or_default(),
        done: done_check && is_terminal(phase.as_str()),
        status: phase.as_str().to_string(),
        message,
    }
}

pub async fn run(
    ctx: &Ctx,
    name: &str,
    watch_flag: bool,
    timeout: &str,
    output: Option<Output>,
) -> Result<i32> {
    let timeout = parse_go_duration(timeout)
        .map_err(|e| anyhow!("invalid argument {timeout:?} for \"-t, --timeout\" flag: {e}"))?;
    let timeout = timeout.to_std().ok().filter(|d| !d.is_zero());
    let api = ctx.rollouts();
    let ro = match api.get(name).await {
        Ok(ro) => ro,
        Err(e) if is_not_found(&e) => {
            return Err(anyhow!("rollout.argoproj.io \"{name}\" not found"));
        }
        Err(e) => return Err(e.into()),
    };

    let mut last = report(&ro, true);
    let end = if !watch_flag {
        match output {
            Some(output) => print_document(&last, output)?,
            None => print(&format!("{}\n", no_watch_line(&last.status, &last.message))),
        }
        WatchEnd::Terminal
    } else {
        let mut printer = WatchPrinter::default();
        let mut emit = |r: &StatusReport| -> Result<()> {
            if let Some(line) = printer.observe(&r.status, &r.message) {
                match output {
                    Some(output) => print_update(r, output)?,
                    None => print(&format!("{line}\n")),
                }
            }
            Ok(())
        };
        emit(&last)?;
        if last.done {
            WatchEnd::Terminal
        } else {
            let by_name = watcher::Config::default().fields(&format!("metadata.name={name}"));
            let (store, events) = watch::reflect(api, by_name, 0);
            watch::run(vec![events], 1, timeout, |_| {
                let Some(ro) = watch::snapshot(&store).into_iter().next() else {
                    return Err(anyhow!("rollout.argoproj.io \"{name}\" not found"));
                };
                last = report(&ro, true);
                emit(&last)?;
                Ok(if last.done {
                    watch::Flow::Stop
                } else {
                    watch::Flow::Continue
                })
            })
            .await?
        }
    };
    match outcome(watch_flag, end, &last.status, &last.message) {
        Ok(()) => Ok(0),
        Err((message, code)) => {
            eprintln!("Error: {message}");
            Ok(code)
        }
    }
}
