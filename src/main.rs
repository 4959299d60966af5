//! `rollouts-controller`: the Rollout controller process.

use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use rollouts::controller::{self, Settings};

/// Progressive delivery controller, wire-compatible with Argo Rollouts v1.9.1.
#[derive(Parser, Debug)]
#[command(name = "rollouts-controller", version, about)]
struct Args {
    /// Path to a kubeconfig; in-cluster configuration (or $KUBECONFIG) when absent.
    #[arg(long)]
    kubeconfig: Option<std::path::PathBuf>,
    /// Watch only the controller's own namespace (POD_NAMESPACE, else the kubeconfig's).
    #[arg(long)]
    namespaced: bool,
    /// Handle only objects labelled argo-rollouts.argoproj.io/controller-instance-id=<id>.
    #[arg(long = "instance-id")]
    instance_id: Option<String>,
    /// Seconds between periodic resyncs of every rollout.
    #[arg(long = "rollout-resync", default_value_t = 900)]
    rollout_resync: u64,
    /// Rollouts reconciled in parallel.
    #[arg(long = "rollout-threads", default_value_t = 10)]
    rollout_threads: u16,
    /// Log level: debug, info, warn or error.
    #[arg(long, default_value = "info")]
    loglevel: String,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    logformat: String,
}

fn init_logging(level: &str, format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| {
            tracing_subscriber::EnvFilter::try_new(format!(
                "{level},kube=warn,hyper=warn,tower=warn"
            ))
        })
        .context("invalid --loglevel")?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        "json" => builder.json().flatten_event(true).init(),
        "text" => builder.init(),
        other => anyhow::bail!("invalid --logformat {other:?}: expected text or json"),
    }
    Ok(())
}

async fn client(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<(kube::Client, String)> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?
        }
        None => kube::Config::infer()
            .await
            .context("no kubeconfig and not in a cluster")?,
    };
    let namespace = config.default_namespace.clone();
    Ok((kube::Client::try_from(config)?, namespace))
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("rollouts-controller: {e:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    init_logging(&args.loglevel, &args.logformat)?;
    let (client, default_ns) = client(args.kubeconfig.as_deref()).await?;
    let namespace = args
        .namespaced
        .then(|| std::env::var("POD_NAMESPACE").unwrap_or(default_ns));
    let settings = Settings {
        namespace,
        instance_id: args.instance_id,
        threads: args.rollout_threads.max(1),
        resync: Duration::from_secs(args.rollout_resync.max(1)),
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        ?settings,
        "starting rollouts-controller"
    );
    controller::run(client, settings, shutdown_signal()).await
}
