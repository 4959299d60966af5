//! A small Given/When/Then harness for end-to-end tests against the local control plane
//! (`e2e/cluster/up.sh`): each test gets its own namespace, applies manifests with the real kubectl,
//! waits on conditions with timeouts and clear failure messages (dumping the objects and recent
//! events), and can run the real controller binary as a child process.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::Namespace;
use kube::{Api, Client};

/// The repository root: the parent of the e2e crate, read at run time (cargo sets
/// `CARGO_MANIFEST_DIR` for `cargo test` and `cargo run`) because a binary reused from a shared
/// `CARGO_TARGET_DIR` may have been compiled in another checkout.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where `up.sh` put the cluster (`E2E_RUN_DIR`, default `<repo>/.cache/cluster`).
pub fn run_dir() -> PathBuf {
    std::env::var_os("E2E_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/cluster"))
}

fn kubeconfig() -> PathBuf {
    std::env::var_os("KUBECONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| run_dir().join("kubeconfig"))
}

/// The kubectl built with the control plane (`E2E_BIN_DIR`), else the one on PATH.
pub fn kubectl_path() -> PathBuf {
    std::env::var_os("E2E_BIN_DIR")
        .map(|d| PathBuf::from(d).join("kubectl"))
        .unwrap_or_else(|| "kubectl".into())
}

/// A binary of this workspace built by `e2e/run.sh` (`E2E_TARGET_DIR`, default target/debug).
pub fn workspace_binary(name: &str) -> PathBuf {
    std::env::var_os("E2E_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug"))
        .join(name)
}

/// A client for the local control plane.
pub async fn client() -> Result<Client> {
    let path = kubeconfig();
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).with_context(|| {
        format!(
            "no cluster: cannot read {} (start one with `make cluster-up`)",
            path.display()
        )
    })?;
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await?;
    Ok(rollouts::client::build(config)?)
}

/// The output of a finished command.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs kubectl against the local control plane with optional stdin.
pub fn kubectl(args: &[&str], stdin: Option<&str>) -> Result<Output> {
    run(
        Command::new(kubectl_path())
            .env("KUBECONFIG", kubeconfig())
            .args(args),
        stdin,
    )
}

/// Runs a command to completion, feeding `stdin`.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Result<Output> {
    use std::io::Write;
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    Ok(Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// One test's namespace; deleted (in the background) when dropped.
pub struct TestNamespace {
    pub name: String,
    pub client: Client,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestNamespace {
    /// Creates `e2e-<test>-<unique>`.
    pub async fn new(test: &str) -> Result<Self> {
        let client = client().await?;
        let unique = format!(
            "{:x}{:x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let name = format!("e2e-{}-{unique}", test.replace('_', "-"));
        let name: String = name.chars().take(63).collect();
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"e2e.argoproj.io/test": test.replace('_', "-").chars().take(63).collect::<String>()}}
        }))?;
        Api::<Namespace>::all(client.clone())
            .create(&Default::default(), &ns)
            .await?;
        Ok(Self { name, client })
    }

    /// `kubectl apply --server-side` of a (multi-document) manifest into this namespace.
    pub fn apply(&self, manifest: &str) -> Result<String> {
        let out = kubectl(
            &[
                "apply",
                "--server-side",
                "--field-manager=e2e",
                "-n",
                &self.name,
                "-f",
                "-",
            ],
            Some(manifest),
        )?;
        if out.code != 0 {
            bail!("kubectl apply failed: {}", out.stderr.trim());
        }
        Ok(out.stdout)
    }

    /// Everything kubectl knows about this namespace plus recent events, for failure messages.
    pub fn dump(&self) -> String {
        let mut text = String::new();
        for args in [
            vec![
                "get",
                "rollouts.argoproj.io,replicasets,pods,services,deployments,analysisruns,experiments",
                "-o",
                "wide",
            ],
            vec!["get", "rollouts.argoproj.io", "-o", "yaml"],
            vec!["get", "events", "--sort-by=.lastTimestamp"],
        ] {
            let mut full = args.clone();
            full.extend(["-n", self.name.as_str()]);
            match kubectl(&full, None) {
                Ok(o) => text.push_str(&format!(
                    "$ kubectl {}\n{}{}\n",
                    full.join(" "),
                    o.stdout,
                    o.stderr
                )),
                Err(e) => text.push_str(&format!("$ kubectl {}: {e}\n", full.join(" "))),
            }
        }
        text
    }

    /// Waits until `check` returns `Some`, polling every 250 ms; on timeout fails with `what`,
    /// the last observation and a dump of the namespace.
    pub async fn wait_for<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        let start = Instant::now();
        loop {
            let last = match check().await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => "condition not met".to_string(),
                Err(e) => format!("error: {e:#}"),
            };
            if start.elapsed() > timeout {
                bail!(
                    "timed out after {timeout:?} waiting for {what} (last: {last})\n{}",
                    self.dump()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        // Best effort and non-blocking: the namespace controller finishes the cleanup.
        let _ = Command::new(kubectl_path())
            .env("KUBECONFIG", kubeconfig())
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The real controller binary running as a child process; killed when dropped.
pub struct ControllerProcess {
    child: Child,
    pub log: PathBuf,
}

impl ControllerProcess {
    /// Starts a controller that serves only `namespace` (`--namespaced`), so tests run in
    /// parallel without two controllers touching the same rollout.
    pub fn for_namespace(ns: &TestNamespace) -> Result<Self> {
        Self::start_with_env(
            &ns.name,
            &["--namespaced"],
            &[("POD_NAMESPACE", ns.name.as_str())],
        )
    }

    /// Starts `rollouts-controller` with the local kubeconfig and extra arguments; its log goes
    /// to `<run>/logs/controller-<tag>.log`.
    pub fn start(tag: &str, args: &[&str]) -> Result<Self> {
        Self::start_with_env(tag, args, &[])
    }

    /// Starts `rollouts-controller` with exactly `args` and the extra `env`: unlike [`Self::start`]
    /// nothing is added (no kubeconfig, no ports, no `--leader-elect=false`: leader election stays
    /// on, as deployed). Log in `<run>/logs/controller-<tag>.log`.
    pub fn start_exact(tag: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let bin = workspace_binary("rollouts-controller");
        let log = run_dir().join("logs").join(format!("controller-{tag}.log"));
        let file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let child = Command::new(&bin)
            .args(args)
            .envs(env.iter().copied())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        Ok(Self { child, log })
    }

    fn start_with_env(tag: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let bin = workspace_binary("rollouts-controller");
        let log = run_dir().join("logs").join(format!("controller-{tag}.log"));
        let file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let child = Command::new(&bin)
            .arg("--kubeconfig")
            .arg(kubeconfig())
            // Tests run several controllers at once: any free ports, no shared Lease.
            .args([
                "--metricsPort",
                "0",
                "--healthzPort",
                "0",
                "--leader-elect=false",
            ])
            .args(args)
            .envs(env.iter().copied())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        Ok(Self { child, log })
    }

    /// The process id (for `/proc` readings).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The controller's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Installs the project's CRDs (idempotent server-side apply) and waits until they are served.
pub fn install_crds() -> Result<()> {
    let dir = repo_root().join("crds");
    let out = kubectl(
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=e2e",
            "-f",
            dir.to_str().unwrap(),
        ],
        None,
    )?;
    if out.code != 0 {
        bail!("installing crds/ failed: {}", out.stderr.trim());
    }
    let out = kubectl(
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "-f",
            dir.to_str().unwrap(),
        ],
        None,
    )?;
    if out.code != 0 {
        bail!("CRDs not established: {}{}", out.stdout, out.stderr);
    }
    Ok(())
}

/// Rollout-specific helpers on a test namespace.
pub mod prom;

/// The real `kubectl-argo-rollouts` binary, run against the test cluster.
pub mod plugin {
    use std::process::Command;

    use anyhow::{Result, ensure};

    use crate::{Output, TestNamespace, kubeconfig, run, workspace_binary};

    /// The plugin command with `args`, in `ns`.
    pub fn plugin_command(ns: &TestNamespace, args: &[&str]) -> Command {
        let mut cmd = Command::new(workspace_binary("kubectl-argo-rollouts"));
        cmd.env("KUBECONFIG", kubeconfig())
            .env("NO_COLOR", "1")
            .args(args)
            .args(["-n", ns.name.as_str()]);
        cmd
    }

    /// Runs the plugin in `ns`.
    pub fn plugin(ns: &TestNamespace, args: &[&str]) -> Result<Output> {
        run(&mut plugin_command(ns, args), None)
    }

    /// Runs the plugin in `ns`, requires exit 0 and an empty stderr, and returns stdout.
    pub fn plugin_ok(ns: &TestNamespace, args: &[&str]) -> Result<String> {
        let out = plugin(ns, args)?;
        ensure!(
            out.code == 0 && out.stderr.is_empty(),
            "kubectl-argo-rollouts {} -n {} exited {}:\nstdout: {}\nstderr: {}",
            args.join(" "),
            ns.name,
            out.code,
            out.stdout,
            out.stderr
        );
        Ok(out.stdout)
    }
}

pub mod rollout {
    use std::time::Duration;

    use anyhow::{Result, bail};
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use kube::{Api, ResourceExt, api::ListParams};
    use rollouts::crd::Rollout;

    use super::{TestNamespace, kubectl};

    /// The default wait of a step in these tests.
    pub const WAIT: Duration = Duration::from_secs(90);

    impl TestNamespace {
        pub fn rollouts(&self) -> Api<Rollout> {
            Api::namespaced(self.client.clone(), &self.name)
        }

        pub fn replica_sets(&self) -> Api<ReplicaSet> {
            Api::namespaced(self.client.clone(), &self.name)
        }

        pub async fn rollout(&self, name: &str) -> Result<Rollout> {
            Ok(self.rollouts().get(name).await?)
        }

        /// Waits until the rollout's status phase is `phase` (and, when given, the step index).
        pub async fn wait_for_phase(&self, name: &str, phase: &str) -> Result<Rollout> {
            self.wait_for(&format!("rollout {name} phase {phase}"), WAIT, || async {
                let ro = self.rollout(name).await?;
                let observed = ro
                    .status
                    .as_ref()
                    .and_then(|s| s.observed_generation.clone());
                let current = observed == ro.metadata.generation.map(|g| g.to_string());
                let p = ro
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_ref())
                    .map(|p| p.to_string());
                Ok((current && p.as_deref() == Some(phase)).then_some(ro))
            })
            .await
        }

        /// Waits until `status.currentStepIndex == index` and the phase is `phase`.
        pub async fn wait_for_step(&self, name: &str, index: i32, phase: &str) -> Result<Rollout> {
            self.wait_for(
                &format!("rollout {name} at step {index} and {phase}"),
                WAIT,
                || async {
                    let ro = self.rollout(name).await?;
                    let s = ro.status.clone().unwrap_or_default();
                    let ok = s.current_step_index == Some(index)
                        && s.phase.as_ref().map(|p| p.to_string()).as_deref() == Some(phase);
                    Ok(ok.then_some(ro))
                },
            )
            .await
        }

        /// Live ReplicaSets of a rollout as `(revision, spec replicas, available replicas)`, by revision.
        pub async fn revisions(&self, name: &str) -> Result<Vec<(i64, i32, i32)>> {
            let list = self.replica_sets().list(&ListParams::default()).await?;
            let mut out: Vec<(i64, i32, i32)> = list
                .items
                .iter()
                .filter(|rs| {
                    rs.owner_references()
                        .iter()
                        .any(|o| o.name == name && o.kind == "Rollout")
                })
                .map(|rs| {
                    let rev = rs
                        .annotations()
                        .get("rollout.argoproj.io/revision")
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(0);
                    let spec = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
                    let avail = rs
                        .status
                        .as_ref()
                        .and_then(|s| s.available_replicas)
                        .unwrap_or(0);
                    (rev, spec, avail)
                })
                .collect();
            out.sort();
            Ok(out)
        }

        /// Waits until the rollout's ReplicaSets are exactly `want` (revision, spec, available).
        pub async fn wait_for_revisions(&self, name: &str, want: &[(i64, i32, i32)]) -> Result<()> {
            self.wait_for(
                &format!("rollout {name} ReplicaSets {want:?}"),
                WAIT,
                || async {
                    let got = self.revisions(name).await?;
                    Ok((got == want).then_some(()))
                },
            )
            .await
        }

        /// `kubectl patch` of the rollout (spec or, with `status`, the status subresource).
        pub fn patch_rollout(&self, name: &str, status: bool, patch: &str) -> Result<()> {
            let mut args = vec![
                "patch",
                "rollouts.argoproj.io",
                name,
                "-n",
                &self.name,
                "--type=merge",
                "-p",
                patch,
            ];
            if status {
                args.push("--subresource=status");
            }
            let out = kubectl(&args, None)?;
            if out.code != 0 {
                bail!("kubectl patch failed: {}", out.stderr.trim());
            }
            Ok(())
        }

        /// Sets the image of the rollout's first container (a new revision).
        pub fn set_image(&self, name: &str, image: &str) -> Result<()> {
            let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}});
            self.patch_rollout(name, false, &patch.to_string())
        }

        /// Event reasons recorded on the rollout, oldest first.
        pub fn event_reasons(&self, name: &str) -> Result<Vec<String>> {
            let out = kubectl(
                &[
                    "get",
                    "events",
                    "-n",
                    &self.name,
                    "--field-selector",
                    &format!("involvedObject.name={name},involvedObject.kind=Rollout"),
                    "--sort-by=.metadata.creationTimestamp",
                    "-o",
                    "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}",
                ],
                None,
            )?;
            Ok(out.stdout.lines().map(str::to_string).collect())
        }
    }

    /// A canary Rollout named `name` with `replicas`, app container `app`, and these steps (YAML).
    pub fn canary(
        name: &str,
        replicas: i32,
        steps_yaml: &str,
        extra_strategy_yaml: &str,
    ) -> String {
        format!(
            r#"apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: {name}
spec:
  replicas: {replicas}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: app
          image: registry.example/{name}:1
  strategy:
    canary:
{extra_strategy_yaml}      steps:
{steps_yaml}"#
        )
    }
}
