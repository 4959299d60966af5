//! The commands: fetch objects, call the pure parts, send patches, print.

pub mod actions;
pub mod create;
pub mod get;
pub mod list;
pub mod status;
pub mod watch;

use std::io::Write;

use anyhow::{Context, Result, anyhow};
use clap::CommandFactory;
use kube::{Api, Client};
use rollouts::crd::{AnalysisRun, Experiment, Rollout};
use serde::Serialize;

use crate::{
    cli::{
        Cli, Command, GetCommand, ListCommand, Output, RetryCommand, SetCommand, TerminateCommand,
    },
    kubeconfig::{KubeFlags, resolve},
    lint::{LintResult, lint},
    patches::PromoteFlags,
};

/// A client and the namespace the command acts in.
pub struct Ctx {
    pub client: Client,
    pub namespace: String,
}

impl Ctx {
    pub async fn new(flags: &KubeFlags) -> Result<Self> {
        let resolved = resolve(flags).await?;
        crate::error::set_server(&resolved.config.cluster_url.to_string());
        let client = rollouts::client::build(resolved.config)
            .map_err(|e| anyhow!("cannot create a Kubernetes client: {e}"))?;
        Ok(Self {
            client,
            namespace: resolved.namespace,
        })
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub fn rollouts(&self) -> Api<Rollout> {
        self.api()
    }

    pub fn experiments(&self) -> Api<Experiment> {
        self.api()
    }

    pub fn analysis_runs(&self) -> Api<AnalysisRun> {
        self.api()
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends the program quietly.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Prints `value` as a JSON or YAML document.
pub fn print_document<T: Serialize>(value: &T, output: Output) -> Result<()> {
    let text = match output {
        Output::Json => serde_json::to_string_pretty(value)? + "\n",
        Output::Yaml => serde_norway::to_string(value)?,
    };
    print(&text);
    Ok(())
}

/// Prints `value` as one update of a watch: a JSON line, or a YAML document after `---`.
pub fn print_update<T: Serialize>(value: &T, output: Output) -> Result<()> {
    let text = match output {
        Output::Json => serde_json::to_string(value)? + "\n",
        Output::Yaml => format!("---\n{}", serde_norway::to_string(value)?),
    };
    print(&text);
    Ok(())
}

/// Whether to colour: not with `--no-color`, `NO_COLOR` or `TERM=dumb`.
pub fn use_color(no_color: bool) -> bool {
    !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Runs the parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Version { short } => {
            print(&version_text(short));
            Ok(0)
        }
        Command::Completion { shell } => {
            print(&crate::completion::generate(
                &Cli::command(),
                "kubectl-argo-rollouts",
                shell,
            ));
            Ok(0)
        }
        Command::Lint { filename } => run_lint(&filename),
        command => {
            let ctx = Ctx::new(&cli.kube).await?;
            dispatch(&ctx, command).await
        }
    }
}

async fn dispatch(ctx: &Ctx, command: Command) -> Result<i32> {
    match command {
        Command::Promote {
            name,
            full,
            skip_current_step,
            skip_all_steps,
        } => {
            if skip_current_step {
                eprintln!(
                    "Flag --skip-current-step has been deprecated, use without the flag instead ex: promote ROLLOUT_NAME"
                );
            }
            if skip_all_steps {
                eprintln!("Flag --skip-all-steps has been deprecated, use --full instead");
            }
            let flags = PromoteFlags {
                full,
                skip_current_step,
                skip_all_steps,
            };
            actions::promote(ctx, &name, flags).await
        }
        Command::Abort { names } => actions::abort(ctx, &names).await,
        Command::Pause { names } => actions::pause(ctx, &names).await,
        Command::Retry(RetryCommand::Rollout { names }) => {
            actions::retry_rollout(ctx, &names).await
        }
        Command::Retry(RetryCommand::Experiment { names }) => {
            actions::retry_experiment(ctx, &names).await
        }
        Command::Restart { name, in_ } => actions::restart(ctx, &name, in_.as_deref()).await,
        Command::Undo { name, to_revision } => actions::undo(ctx, &name, to_revision).await,
        Command::Set(SetCommand::Image {
            name,
            container_image,
        }) => actions::set_image(ctx, &name, &container_image).await,
        Command::Terminate(TerminateCommand::Analysisrun { names }) => {
            actions::terminate_analysis_runs(ctx, &names).await
        }
        Command::Terminate(TerminateCommand::Experiment { names }) => {
            actions::terminate_experiments(ctx, &names).await
        }
        Command::Get(GetCommand::Rollout(args)) => get::rollout(ctx, &args).await,
        Command::Get(GetCommand::Experiment(args)) => get::experiment(ctx, &args).await,
        Command::List(ListCommand::Rollouts {
            name,
            all_namespaces,
            watch,
            timestamps,
            output,
        }) => {
            list::rollouts(
                ctx,
                list::RolloutListArgs {
                    name,
                    all_namespaces,
                    watch,
                    timestamps,
                    output,
                },
            )
            .await
        }
        Command::List(ListCommand::Experiments {
            all_namespaces,
            output,
        }) => list::experiments(ctx, all_namespaces, output).await,
        Command::Status {
            name,
            watch,
            timeout,
            output,
        } => status::run(ctx, &name, watch, &timeout, output).await,
        Command::Explain { name, output } => get::explain(ctx, &name, output).await,
        Command::Create(args) => create::run(ctx, args).await,
        Command::Version { .. } | Command::Completion { .. } | Command::Lint { .. } => {
            unreachable!("handled without a cluster")
        }
    }
}

fn run_lint(filename: &str) -> Result<i32> {
    let text = std::fs::read_to_string(filename)
        .with_context(|| format!("open {filename}"))
        .map_err(|e| anyhow!("{}", io_message(&e, filename)))?;
    match lint(&text).map_err(|e| anyhow!(e))? {
        LintResult::Valid => Ok(0),
        LintResult::Invalid(errors) => {
            for e in &errors {
                print(&format!("{}\n", e.body()));
            }
            Err(anyhow!("{}", errors[0]))
        }
    }
}

/// Go's wording for a file that cannot be opened: `open FILE: no such file or directory`.
pub fn io_message(err: &anyhow::Error, path: &str) -> String {
    let reason = err
        .chain()
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .map(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        })
        .unwrap_or_else(|| err.to_string());
    format!("open {path}: {reason}")
}

/// Reads a file for `-f`, with Go's error wording.
pub fn read_file(path: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(anyhow::Error::from)
        .map_err(|e| anyhow!("{}", io_message(&e, path)))
}

/// `version`: Argo's layout, with this build's facts.
pub fn version_text(short: bool) -> String {
    let commit = option_env!("ROLLOUTS_GIT_COMMIT").unwrap_or("unknown");
    let mut version = format!("v{}", env!("CARGO_PKG_VERSION"));
    if commit != "unknown" {
        version.push('+');
        version.push_str(&commit[..commit.len().min(7)]);
    }
    let mut out = format!("kubectl-argo-rollouts: {version}\n");
    if !short {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        out.push_str(&format!(
            "  BuildDate: {}\n  GitCommit: {commit}\n  GitTreeState: {}\n  RustVersion: {}\n  Compiler: rustc\n  Platform: {}/{arch}\n",
            option_env!("ROLLOUTS_BUILD_DATE").unwrap_or("unknown"),
            option_env!("ROLLOUTS_GIT_TREE_STATE").unwrap_or("unknown"),
            option_env!("ROLLOUTS_RUST_VERSION").unwrap_or("unknown"),
            std::env::consts::OS,
        ));
    }
    out
}
