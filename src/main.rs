//! `rollouts-controller`: the Rollout controller process.

use std::time::Duration;

/// mimalloc instead of glibc's malloc: the controller's caches churn (watch events replace whole
/// objects) on several threads, and glibc's per-thread arenas keep the freed memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context as _;
use clap::Parser;
use rollouts::{
    controller::{self, Settings},
    leader,
};

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
    /// AnalysisRuns reconciled in parallel.
    #[arg(long = "analysis-threads", default_value_t = 30)]
    analysis_threads: u16,
    /// Log level: debug, info, warn or error.
    #[arg(long, default_value = "info")]
    loglevel: String,
    /// Port of /metrics (0: any free port).
    #[arg(long = "metricsPort", alias = "metricsport", default_value_t = 8090)]
    metrics_port: u16,
    /// Port of /healthz (0: any free port).
    #[arg(long = "healthzPort", default_value_t = 8080)]
    healthz_port: u16,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    logformat: String,
    /// Elect a leader on the Lease argo-rollouts-controller-lock, so replicas never write together.
    #[arg(long = "leader-elect", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    leader_elect: bool,
    /// How long a Lease is valid without renewal (Go duration).
    #[arg(long = "leader-election-lease-duration", default_value = "15s", value_parser = go_duration)]
    lease_duration: Duration,
    /// Leadership is given up when no renewal succeeded within this (Go duration).
    #[arg(long = "leader-election-renew-deadline", default_value = "10s", value_parser = go_duration)]
    renew_deadline: Duration,
    /// Time between renewal attempts (Go duration).
    #[arg(long = "leader-election-retry-period", default_value = "2s", value_parser = go_duration)]
    retry_period: Duration,
}

fn go_duration(s: &str) -> Result<Duration, String> {
    let nanos = rollouts::validation::parse_go_duration(s)?;
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| format!("negative duration {s:?}"))
}

fn init_logging(level: &str, format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| {
            tracing_subscriber::EnvFilter::try_new(format!(
                "{level},kube=warn,hyper=warn,tower=warn"
            ))
        })
        .context("invalid --loglevel")?;
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
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
    Ok((rollouts::client::build(config)?, namespace))
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
        analysis_threads: args.analysis_threads.max(1),
    };
    let shared = controller::Shared::default();
    let metrics = rollouts::metrics::serve_metrics(
        shared.metrics.clone(),
        shared.rollouts.clone(),
        shared.analysis_runs.clone(),
        args.metrics_port,
    );
    tokio::spawn(async move {
        if let Err(e) = metrics.await {
            tracing::error!(error = %e, "cannot serve /metrics");
        }
    });
    let healthz = rollouts::metrics::serve_healthz(args.healthz_port);
    tokio::spawn(async move {
        if let Err(e) = healthz.await {
            tracing::error!(error = %e, "cannot serve /healthz");
        }
    });
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        ?settings,
        "starting rollouts-controller"
    );
    if !args.leader_elect {
        return controller::run(client, settings, shared, shutdown_signal()).await;
    }
    if args.renew_deadline >= args.lease_duration {
        anyhow::bail!(
            "--leader-election-renew-deadline must be shorter than --leader-election-lease-duration"
        );
    }
    let lease = leader::LeaseSettings {
        // Argo keeps its Lease in the controller's namespace.
        namespace: std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "argo-rollouts".into()),
        identity: match std::env::var("HOSTNAME") {
            Ok(host) if !host.is_empty() => format!("{host}_{}", unique_suffix()),
            _ => unique_suffix(),
        },
        lease_duration: args.lease_duration,
        renew_deadline: args.renew_deadline,
        retry_period: args.retry_period,
    };
    tokio::select! {
        _ = leader::acquire(&client, &lease) => {}
        _ = shutdown_signal() => return Ok(()),
    }
    // Renewal runs on its own task. Losing the lease ends the process at once: no reconcile that
    // is still in flight may write after another instance could have taken over.
    let renewals = tokio::spawn(leader::hold(client.clone(), lease.clone()));
    tokio::spawn(async move {
        let _ = renewals.await;
        tracing::error!("leadership lost: exiting so no writer outlives the lease");
        std::process::exit(1);
    });
    controller::run(client.clone(), settings, shared, shutdown_signal()).await?;
    // Every writer has stopped: hand the Lease over now rather than after it expires.
    leader::release(&client, &lease).await;
    Ok(())
}

/// A process-unique identity suffix (pid and start time), enough to tell replicas apart.
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}-{:x}", std::process::id(), nanos)
}
