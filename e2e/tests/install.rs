//! The install manifests in deploy/, end to end.
//!
//! Without a cluster: deploy/install.yaml and deploy/namespace-install.yaml are what
//! deploy/generate.sh makes of crds/ and the sources today, the namespaced variant says the same
//! as the cluster-wide one, and the RBAC has no wildcard and a comment on every rule.
//!
//! With the local control plane: the documented `kubectl apply` of each variant, a token minted for
//! the `argo-rollouts` service account, and the real controller binary running as that account
//! (leader election on, POD_NAMESPACE set) through canary updates, service switching, history
//! clean-up and a restart. The account may do exactly what the controller uses and nothing more:
//! its effective rules (what `kubectl auth can-i --list` shows) are compared with a table that
//! names the code behind every verb, and a list of things it must not do is checked one by one.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, Result, bail, ensure};
use e2e::{ControllerProcess, TestNamespace, kubectl, repo_root, rollout::WAIT, run, run_dir};
use serde::Deserialize;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------------------
// What the controller does with the API. One row per (API group, resource, verb), with the code
// that issues it; the service account's effective rules must be exactly these rows (plus the
// self-review rules every authenticated user has). A rule added to deploy/ without a row here, or
// a row without a rule, fails the test.

/// Granted in every namespace by the ClusterRole (and by the namespaced Role in its namespace).
#[rustfmt::skip]
const USED: &[(&str, &str, &str, &str)] = &[
    // (group, resource, verb, why)
    ("argoproj.io", "rollouts", "list", "controller.rs: Controller::new watcher, start-up list"),
    ("argoproj.io", "rollouts", "watch", "controller.rs: Controller::new watcher"),
    ("argoproj.io", "rollouts", "patch", "execute.rs: PatchRollout"),
    ("argoproj.io", "rollouts/status", "patch", "execute.rs: PatchRolloutStatus"),
    ("argoproj.io", "rollouts/finalizers", "update", "rs.rs: ownerReference blockOwnerDeletion (OwnerReferencesPermissionEnforcement)"),
    ("argoproj.io", "analysisruns", "list", "controller.rs: AnalysisRun reflector; analysis/controller.rs queue"),
    ("argoproj.io", "analysisruns", "watch", "controller.rs: AnalysisRun reflector; analysis/controller.rs queue"),
    ("argoproj.io", "analysisruns", "create", "execute.rs: CreateAnalysisRun"),
    ("argoproj.io", "analysisruns", "patch", "execute.rs: PatchAnalysisRun; analysis/controller.rs status merge patch"),
    ("argoproj.io", "analysisruns", "delete", "execute.rs: DeleteAnalysisRun; analysis/controller.rs TTL"),
    ("argoproj.io", "analysistemplates", "list", "controller.rs: AnalysisTemplate reflector (templates_for)"),
    ("argoproj.io", "analysistemplates", "watch", "controller.rs: AnalysisTemplate reflector (templates_for)"),
    ("argoproj.io", "clusteranalysistemplates", "list", "controller.rs: ClusterAnalysisTemplate reflector (cluster-wide install only)"),
    ("argoproj.io", "clusteranalysistemplates", "watch", "controller.rs: ClusterAnalysisTemplate reflector (cluster-wide install only)"),
    ("argoproj.io", "analysisruns/finalizers", "update", "job.rs: Job ownerReference blockOwnerDeletion (OwnerReferencesPermissionEnforcement)"),
    ("batch", "jobs", "list", "analysis/controller.rs: Job watch; job.rs garbage_collect"),
    ("batch", "jobs", "watch", "analysis/controller.rs: Job watch"),
    ("batch", "jobs", "create", "job.rs: JobProvider::run"),
    ("batch", "jobs", "get", "job.rs: JobProvider::resume"),
    ("batch", "jobs", "delete", "job.rs: terminate, garbage_collect"),
    ("", "secrets", "get", "analysis/provider/mod.rs: SecretSource (secretKeyRef args)"),
    ("argoproj.io", "experiments", "list", "controller.rs: Experiment reflector"),
    ("argoproj.io", "experiments", "watch", "controller.rs: Experiment reflector"),
    ("argoproj.io", "experiments", "create", "execute.rs: CreateExperiment"),
    ("argoproj.io", "experiments", "patch", "execute.rs: PatchExperiment"),
    ("argoproj.io", "experiments", "delete", "execute.rs: DeleteExperiment"),
    ("apps", "replicasets", "list", "controller.rs: ReplicaSet reflector"),
    ("apps", "replicasets", "watch", "controller.rs: ReplicaSet reflector"),
    ("apps", "replicasets", "create", "execute.rs: CreateReplicaSet"),
    ("apps", "replicasets", "update", "execute.rs: UpdateReplicaSet (replace)"),
    ("apps", "replicasets", "patch", "execute.rs: PatchReplicaSet (adopt/release, claim.rs)"),
    ("apps", "replicasets", "delete", "execute.rs: DeleteReplicaSet"),
    ("", "services", "list", "controller.rs: Service reflector"),
    ("", "services", "watch", "controller.rs: Service reflector"),
    ("", "services", "patch", "execute.rs: PatchService"),
    ("", "pods", "list", "controller.rs: Pod reflector (restarts)"),
    ("", "pods", "watch", "controller.rs: Pod reflector (restarts)"),
    ("", "pods", "patch", "execute.rs: PatchPod (ephemeral metadata)"),
    ("", "pods/eviction", "create", "execute.rs: EvictPod"),
    ("", "events", "create", "events.rs: EventRecorder::publish"),
    ("", "events", "patch", "events.rs: EventRecorder::publish (repeat count)"),
];

/// Only in the controller's own namespace (Role): leader election, leader.rs `try_hold`.
#[rustfmt::skip]
const LEASE_RULES: &[(&str, &str, &str, &str)] = &[
    ("coordination.k8s.io", "leases", "create", ""),
    ("coordination.k8s.io", "leases", "get", "argo-rollouts-controller-lock"),
    ("coordination.k8s.io", "leases", "update", "argo-rollouts-controller-lock"),
];

/// Things the controller never does, so its account must not be able to (verb, resource,
/// subresource, namespace or None for all namespaces).
#[rustfmt::skip]
const FORBIDDEN: &[(&str, &str, &str, Option<&str>)] = &[
    ("delete", "pods", "", None),
    ("create", "pods", "", None),
    ("update", "pods", "", None),
    ("get", "pods", "", None),
    ("get", "pods", "log", None),
    ("create", "pods", "exec", None),
    ("list", "secrets", "", None),
    ("watch", "secrets", "", None),
    ("list", "secrets", "", Some("argo-rollouts")),
    ("get", "configmaps", "", None),
    ("get", "deployments.apps", "", None),
    ("update", "deployments.apps", "", None),
    ("patch", "deployments.apps", "", None),
    ("patch", "deployments.apps", "scale", None),
    ("delete", "deployments.apps", "", None),
    ("deletecollection", "replicasets.apps", "", None),
    ("get", "replicasets.apps", "", None),
    ("create", "services", "", None),
    ("delete", "services", "", None),
    ("update", "services", "", None),
    ("get", "services", "", None),
    ("create", "rollouts.argoproj.io", "", None),
    ("delete", "rollouts.argoproj.io", "", None),
    ("update", "rollouts.argoproj.io", "", None),
    ("get", "rollouts.argoproj.io", "", None),
    ("update", "rollouts.argoproj.io", "status", None),
    ("patch", "rollouts.argoproj.io", "scale", None),
    ("update", "analysisruns.argoproj.io", "", None),
    ("get", "analysistemplates.argoproj.io", "", None),
    ("create", "analysistemplates.argoproj.io", "", None),
    ("get", "clusteranalysistemplates.argoproj.io", "", None),
    ("delete", "events", "", None),
    ("update", "events", "", None),
    ("patch", "ingresses.networking.k8s.io", "", None),
    ("patch", "nodes", "", None),
    ("delete", "namespaces", "", None),
    ("create", "serviceaccounts", "token", None),
    ("update", "leases.coordination.k8s.io", "", Some("kube-node-lease")),
    ("update", "leases.coordination.k8s.io", "", Some("kube-system")),
    ("list", "leases.coordination.k8s.io", "", Some("argo-rollouts")),
    ("delete", "leases.coordination.k8s.io", "", Some("argo-rollouts")),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io", "", None),
    ("escalate", "clusterroles.rbac.authorization.k8s.io", "", None),
    ("bind", "clusterroles.rbac.authorization.k8s.io", "", None),
    ("create", "customresourcedefinitions.apiextensions.k8s.io", "", None),
    ("impersonate", "serviceaccounts", "", None),
];

// ------------------------------------------------------------------------------------------------
// Files

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The documents of a multi-document YAML text (comment-only documents skipped).
fn documents(text: &str) -> Result<Vec<Value>> {
    let mut docs = vec![];
    for de in serde_norway::Deserializer::from_str(text) {
        let doc = Value::deserialize(de)?;
        if !doc.is_null() {
            docs.push(doc);
        }
    }
    Ok(docs)
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> Result<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .with_context(|| format!("no {kind} {name}"))
}

fn rules_of(doc: &Value) -> Vec<Value> {
    doc["rules"].as_array().cloned().unwrap_or_default()
}

fn is_lease_rule(rule: &Value) -> bool {
    rule["resources"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == "leases"))
}

fn deployment_args(docs: &[Value]) -> Result<Vec<String>> {
    let dep = find(docs, "Deployment", "argo-rollouts")?;
    Ok(dep["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .context("Deployment has no args")?
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect())
}

#[test]
fn generated_manifests_are_up_to_date() -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("deploy-generate-{}", std::process::id()));
    let out = run(
        Command::new("bash")
            .arg(deploy_dir().join("generate.sh"))
            .arg(&tmp),
        None,
    )?;
    ensure!(out.code == 0, "deploy/generate.sh failed: {}", out.stderr);
    for name in ["install.yaml", "namespace-install.yaml"] {
        let fresh = read(&tmp.join(name))?;
        let committed = read(&deploy_dir().join(name))?;
        ensure!(
            fresh == committed,
            "deploy/{name} is out of date with crds/ or deploy/*/: run `bash deploy/generate.sh`"
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

#[test]
fn manifests_are_least_privilege_and_consistent() -> Result<()> {
    let install = documents(&read(&deploy_dir().join("install.yaml"))?)?;
    let namespaced = documents(&read(&deploy_dir().join("namespace-install.yaml"))?)?;

    // No wildcard anywhere in any RBAC rule; no namespace baked into namespaced objects.
    for doc in install.iter().chain(&namespaced) {
        let kind = doc["kind"].as_str().unwrap_or_default();
        for rule in rules_of(doc) {
            for field in [
                "apiGroups",
                "resources",
                "verbs",
                "resourceNames",
                "nonResourceURLs",
            ] {
                for v in rule[field].as_array().into_iter().flatten() {
                    ensure!(
                        !v.as_str().unwrap_or_default().contains('*'),
                        "wildcard in {kind} {}: {rule}",
                        doc["metadata"]["name"]
                    );
                }
            }
        }
        if !matches!(
            kind,
            "CustomResourceDefinition" | "ClusterRole" | "ClusterRoleBinding"
        ) {
            ensure!(
                doc["metadata"]["namespace"].is_null(),
                "{kind} {} has a fixed namespace: the install goes where `-n` says",
                doc["metadata"]["name"]
            );
        }
    }
    for crd in [
        "rollouts",
        "analysisruns",
        "analysistemplates",
        "clusteranalysistemplates",
        "experiments",
    ] {
        find(
            &install,
            "CustomResourceDefinition",
            &format!("{crd}.argoproj.io"),
        )?;
    }
    ensure!(
        !namespaced
            .iter()
            .any(|d| d["kind"] == "CustomResourceDefinition" || d["kind"] == "ClusterRole"),
        "namespace-install.yaml must need no cluster-wide rights"
    );

    // The controller's permissions: the ClusterRole's rules are exactly the namespaced Role's minus
    // the Lease (and plus the cluster-scoped ClusterAnalysisTemplates, which a Role cannot
    // grant), and the Lease rules are the leader-election Role's.
    let cluster_rules = rules_of(find(&install, "ClusterRole", "argo-rollouts")?);
    let is_cluster_scoped =
        |rule: &Value| rule["resources"] == serde_json::json!(["clusteranalysistemplates"]);
    let role_rules = rules_of(find(&namespaced, "Role", "argo-rollouts")?);
    let (role_lease, role_rest): (Vec<Value>, Vec<Value>) =
        role_rules.into_iter().partition(is_lease_rule);
    let cluster_namespaced: Vec<Value> = cluster_rules
        .iter()
        .filter(|r| !is_cluster_scoped(r))
        .cloned()
        .collect();
    ensure!(
        cluster_namespaced == role_rest,
        "deploy/namespace-install/role.yaml and deploy/base/clusterrole.yaml disagree"
    );
    ensure!(
        !cluster_rules.iter().any(is_lease_rule),
        "Lease in the ClusterRole"
    );
    let election = rules_of(find(&install, "Role", "argo-rollouts-leader-election")?);
    ensure!(role_lease == election, "the two Lease rule sets disagree");
    let binding = find(&install, "ClusterRoleBinding", "argo-rollouts")?;
    assert_eq!(binding["subjects"][0]["name"], "argo-rollouts");
    assert_eq!(binding["subjects"][0]["namespace"], "argo-rollouts");

    // The rules are the table above, verb for verb.
    let mut granted = BTreeSet::new();
    for rule in cluster_rules.iter().chain(&election) {
        for g in rule["apiGroups"].as_array().into_iter().flatten() {
            for r in rule["resources"].as_array().into_iter().flatten() {
                for v in rule["verbs"].as_array().into_iter().flatten() {
                    let names: Vec<&str> = rule["resourceNames"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    let name = names.join(",");
                    granted.insert((
                        g.as_str().unwrap().to_string(),
                        r.as_str().unwrap().to_string(),
                        v.as_str().unwrap().to_string(),
                        name,
                    ));
                }
            }
        }
    }
    let expected: BTreeSet<_> = USED
        .iter()
        .map(|(g, r, v, _)| (g.to_string(), r.to_string(), v.to_string(), String::new()))
        .chain(
            LEASE_RULES
                .iter()
                .map(|(g, r, v, n)| (g.to_string(), r.to_string(), v.to_string(), n.to_string())),
        )
        .collect();
    ensure!(
        granted == expected,
        "RBAC in deploy/ differs from what the controller uses:\n  granted, unused: {:?}\n  used, not granted: {:?}",
        granted.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&granted).collect::<Vec<_>>()
    );

    // Every rule is justified by a comment right above it.
    for file in [
        "base/clusterrole.yaml",
        "base/leader-election-role.yaml",
        "namespace-install/role.yaml",
        "base/aggregate-roles.yaml",
    ] {
        let text = read(&deploy_dir().join(file))?;
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("- apiGroups:") {
                ensure!(
                    i > 0 && lines[i - 1].starts_with('#'),
                    "deploy/{file}:{}: rule without a comment justifying it right above",
                    i + 1
                );
            }
        }
    }

    // The Deployment: 2 replicas, leader election, POD_NAMESPACE from the downward API, probes
    // on /healthz:8080, metrics on 8090; the namespaced one differs by --namespaced only.
    let dep = find(&install, "Deployment", "argo-rollouts")?;
    assert_eq!(dep["spec"]["replicas"], 2);
    let pod = &dep["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "argo-rollouts");
    let c = &pod["containers"][0];
    assert_eq!(c["image"], "rollouts-controller:latest");
    let args = deployment_args(&install)?;
    assert!(
        args.contains(&"--leader-elect=true".to_string()),
        "{args:?}"
    );
    assert!(!args.iter().any(|a| a.contains("namespaced")), "{args:?}");
    let env = c["env"].as_array().context("no env")?;
    assert!(
        env.iter().any(|e| e["name"] == "POD_NAMESPACE"
            && e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"),
        "{env:?}"
    );
    let ports = c["ports"].as_array().context("no ports")?;
    assert!(ports.contains(&json!({"name": "metrics", "containerPort": 8090})));
    assert!(ports.contains(&json!({"name": "healthz", "containerPort": 8080})));
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(c[probe]["httpGet"]["path"], "/healthz", "{probe}");
        assert_eq!(c[probe]["httpGet"]["port"], "healthz", "{probe}");
    }
    let svc = find(&install, "Service", "argo-rollouts-metrics")?;
    assert_eq!(svc["spec"]["ports"][0]["port"], 8090);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "metrics");
    assert_eq!(
        svc["spec"]["selector"],
        dep["spec"]["selector"]["matchLabels"]
    );

    let mut ns_dep = find(&namespaced, "Deployment", "argo-rollouts")?.clone();
    let ns_args = ns_dep["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array_mut()
        .context("no args")?;
    let before = ns_args.len();
    ns_args.retain(|a| a != "--namespaced");
    assert_eq!(before, ns_args.len() + 1, "--namespaced missing");
    ensure!(
        &ns_dep == dep,
        "deploy/namespace-install/deployment.yaml differs from deploy/base/deployment.yaml beyond --namespaced"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Cluster helpers

fn kubectl_ok(args: &[&str], stdin: Option<&str>) -> Result<String> {
    let out = kubectl(args, stdin)?;
    ensure!(
        out.code == 0,
        "kubectl {} failed ({}): {}{}",
        args.join(" "),
        out.code,
        out.stdout,
        out.stderr
    );
    Ok(out.stdout)
}

fn admin_kubeconfig() -> PathBuf {
    std::env::var_os("KUBECONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| run_dir().join("kubeconfig"))
}

/// A kubeconfig for `system:serviceaccount:<ns>:argo-rollouts` with a freshly minted token; the
/// server and CA are the admin kubeconfig's.
fn service_account_kubeconfig(ns: &str) -> Result<PathBuf> {
    let token = kubectl_ok(
        &[
            "create",
            "token",
            "argo-rollouts",
            "-n",
            ns,
            "--duration=1h",
        ],
        None,
    )?;
    let token = token.trim();
    ensure!(!token.is_empty(), "empty token");
    let admin = kube::config::Kubeconfig::read_from(admin_kubeconfig())?;
    let context = admin
        .current_context
        .clone()
        .context("admin kubeconfig has no current-context")?;
    let cluster_name = admin
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone())
        .context("current context not found")?;
    let cluster = admin
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.clone())
        .context("cluster not found")?;
    let mut cluster_yaml = json!({"server": cluster.server.context("no server")?});
    if let Some(ca) = cluster.certificate_authority {
        cluster_yaml["certificate-authority"] = json!(ca);
    }
    if let Some(data) = cluster.certificate_authority_data {
        cluster_yaml["certificate-authority-data"] = json!(data);
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": cluster_yaml}],
        "users": [{"name": "argo-rollouts", "user": {"token": token}}],
        "contexts": [{"name": "argo-rollouts", "context": {"cluster": "e2e", "user": "argo-rollouts", "namespace": ns}}],
        "current-context": "argo-rollouts",
    });
    let path = run_dir().join(format!("kubeconfig-sa-{ns}"));
    std::fs::write(&path, serde_norway::to_string(&config)?)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(path)
}

/// The effective resource rules of `user` in `ns`, as (group, resource, verb, resourceNames);
/// the same data as `kubectl auth can-i --list`, minus the self-review rules every user has.
fn effective_rules(user: &str, ns: &str) -> Result<BTreeSet<(String, String, String, String)>> {
    let review = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": ns},
    });
    let out = kubectl_ok(
        &[
            "create",
            "--validate=false",
            "-o",
            "json",
            &format!("--as={user}"),
            "-f",
            "-",
        ],
        Some(&review.to_string()),
    )?;
    let review: Value = serde_json::from_str(&out)?;
    ensure!(
        review["status"]["incomplete"] != true,
        "rules review incomplete: {review}"
    );
    let mut rules = BTreeSet::new();
    for rule in review["status"]["resourceRules"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let names: Vec<&str> = rule["resourceNames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for g in rule["apiGroups"].as_array().into_iter().flatten() {
            for r in rule["resources"].as_array().into_iter().flatten() {
                if r.as_str().unwrap_or_default().starts_with("selfsubject") {
                    continue; // system:basic-user, granted to every authenticated user
                }
                for v in rule["verbs"].as_array().into_iter().flatten() {
                    rules.insert((
                        g.as_str().unwrap_or_default().to_string(),
                        r.as_str().unwrap_or_default().to_string(),
                        v.as_str().unwrap_or_default().to_string(),
                        names.join(","),
                    ));
                }
            }
        }
    }
    Ok(rules)
}

fn expected_rules(with_lease: bool) -> BTreeSet<(String, String, String, String)> {
    let lease: &[_] = if with_lease { LEASE_RULES } else { &[] };
    USED.iter()
        .map(|(g, r, v, _)| (g.to_string(), r.to_string(), v.to_string(), String::new()))
        .chain(
            lease
                .iter()
                .map(|(g, r, v, n)| (g.to_string(), r.to_string(), v.to_string(), n.to_string())),
        )
        .collect()
}

fn assert_rules(
    user: &str,
    ns: &str,
    want: &BTreeSet<(String, String, String, String)>,
) -> Result<()> {
    let got = effective_rules(user, ns)?;
    ensure!(
        &got == want,
        "{user} in namespace {ns}:\n  can, but the controller does not use it: {:?}\n  cannot, but the controller uses it: {:?}\n$ kubectl auth can-i --list --as={user} -n {ns}\n{}",
        got.difference(want).collect::<Vec<_>>(),
        want.difference(&got).collect::<Vec<_>>(),
        kubectl(
            &["auth", "can-i", "--list", &format!("--as={user}"), "-n", ns],
            None
        )
        .map(|o| o.stdout)
        .unwrap_or_default()
    );
    Ok(())
}

/// `kubectl auth can-i` as `user`: Ok(true) for "yes".
fn can_i(user: &str, verb: &str, resource: &str, sub: &str, ns: Option<&str>) -> Result<bool> {
    let mut args = vec!["auth", "can-i", verb, resource];
    let as_user = format!("--as={user}");
    args.push(&as_user);
    let subresource = format!("--subresource={sub}");
    if !sub.is_empty() {
        args.push(&subresource);
    }
    match ns {
        Some(ns) => args.extend(["-n", ns]),
        None => args.push("--all-namespaces"),
    }
    let out = kubectl(&args, None)?;
    match (out.code, out.stdout.trim()) {
        (0, "yes") => Ok(true),
        (1, s) if s.starts_with("no") => Ok(false),
        _ => bail!("kubectl {}: {} {}", args.join(" "), out.stdout, out.stderr),
    }
}

fn assert_forbidden(user: &str, default_ns: &str) -> Result<()> {
    let mut allowed = vec![];
    for (verb, resource, sub, ns) in FORBIDDEN {
        let ns = ns.map(|n| if n == "argo-rollouts" { default_ns } else { n });
        if can_i(user, verb, resource, sub, ns)? {
            allowed.push(format!(
                "{verb} {resource}{}{sub} in {}",
                if sub.is_empty() { "" } else { "/" },
                ns.unwrap_or("all namespaces")
            ));
        }
    }
    ensure!(
        allowed.is_empty(),
        "{user} may do more than needed: {allowed:?}"
    );
    Ok(())
}

fn wait_established() -> Result<()> {
    kubectl_ok(
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "-f",
            repo_root().join("crds").to_str().unwrap(),
        ],
        None,
    )?;
    Ok(())
}

async fn wait_for_log(c: &ControllerProcess, needle: &str, timeout: Duration) -> Result<()> {
    let start = std::time::Instant::now();
    while !c.log_text().contains(needle) {
        if start.elapsed() > timeout {
            bail!(
                "no {needle:?} in the controller log after {timeout:?}:\n{}",
                c.log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// The controller must never have been refused anything (a 403 is "forbidden" in kube's errors;
/// a refused Event is only logged, as "cannot record event"). Conflicts and stale-cache 404s are
/// retried by design and not RBAC's business.
fn assert_no_denials(c: &ControllerProcess) -> Result<()> {
    let log = c.log_text();
    for bad in ["forbidden", "Forbidden", "cannot record event"] {
        ensure!(!log.contains(bad), "{bad:?} in the controller log:\n{log}");
    }
    Ok(())
}

fn service_selector_hash(ns: &TestNamespace, svc: &str) -> Result<String> {
    let out = kubectl_ok(
        &[
            "get",
            "service",
            svc,
            "-n",
            &ns.name,
            "-o",
            "jsonpath={.spec.selector.rollouts-pod-template-hash}",
        ],
        None,
    )?;
    Ok(out.trim().to_string())
}

fn status(ro: &rollouts::crd::Rollout) -> rollouts::crd::RolloutStatus {
    ro.status.clone().unwrap_or_default()
}

/// Two Services and a canary Rollout (`app`) that uses them, optionally for one instance id.
fn app_manifest(instance_id: Option<&str>, replicas: i32) -> String {
    let labels = instance_id
        .map(|id| {
            format!("  labels:\n    argo-rollouts.argoproj.io/controller-instance-id: {id}\n")
        })
        .unwrap_or_default();
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: app-stable
spec:
  selector: {{app: app}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata:
  name: app-canary
spec:
  selector: {{app: app}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: app
{labels}spec:
  replicas: {replicas}
  revisionHistoryLimit: 1
  selector:
    matchLabels: {{app: app}}
  template:
    metadata:
      labels: {{app: app}}
    spec:
      containers:
      - name: app
        image: registry.example/app:1
  strategy:
    canary:
      stableService: app-stable
      canaryService: app-canary
      steps:
      - setWeight: 34
      - pause: {{}}
"#
    )
}

/// One canary update to `image`: paused at step 1 with the canary Service on the new pods, then
/// promoted to Healthy with the stable Service on them.
async fn canary_update(ns: &TestNamespace, image: &str) -> Result<String> {
    ns.set_image("app", image)?;
    let ro = ns.wait_for_step("app", 1, "Paused").await?;
    let s = status(&ro);
    let new_hash = s.current_pod_hash.clone().context("no currentPodHash")?;
    ensure!(s.stable_rs.as_deref() != Some(new_hash.as_str()));
    ns.wait_for("canary Service on the new pods", WAIT, || async {
        Ok((service_selector_hash(ns, "app-canary")? == new_hash).then_some(()))
    })
    .await?;
    ensure!(
        Some(service_selector_hash(ns, "app-stable")?) == s.stable_rs,
        "stable Service left the stable pods during the canary"
    );
    // What `kubectl argo rollouts promote` does on a pause step.
    ns.patch_rollout("app", true, r#"{"status":{"pauseConditions":null}}"#)?;
    let ro = ns.wait_for_phase("app", "Healthy").await?;
    let s = status(&ro);
    ensure!(s.stable_rs.as_deref() == Some(new_hash.as_str()), "{s:?}");
    ns.wait_for("stable Service on the new pods", WAIT, || async {
        Ok((service_selector_hash(ns, "app-stable")? == new_hash).then_some(()))
    })
    .await?;
    Ok(new_hash)
}

/// `kubectl argo rollouts restart`: every pod is replaced through evictions.
async fn restart(ns: &TestNamespace) -> Result<()> {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ns.patch_rollout(
        "app",
        false,
        &json!({"spec": {"restartAt": at}}).to_string(),
    )?;
    ns.wait_for("restart recorded in status.restartedAt", WAIT, || async {
        let ro = ns.rollout("app").await?;
        let done = ro
            .status
            .as_ref()
            .and_then(|s| s.restarted_at.as_ref())
            .map(|t| t.0.to_string());
        Ok(done.is_some_and(|d| d.starts_with(&at[..19])).then_some(()))
    })
    .await?;
    // Every pod was evicted and replaced.
    let created = kubectl_ok(
        &[
            "get",
            "pods",
            "-n",
            &ns.name,
            "-l",
            "app=app",
            "-o",
            "jsonpath={range .items[*]}{.metadata.creationTimestamp}{\"\\n\"}{end}",
        ],
        None,
    )?;
    let created: Vec<&str> = created.lines().collect();
    ensure!(!created.is_empty(), "no pods");
    ensure!(
        created.iter().all(|c| *c >= at.as_str()),
        "pods older than restartAt {at} survived the restart: {created:?}"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// The cluster-wide install

#[tokio::test]
async fn cluster_wide_install_runs_canaries_with_only_its_own_permissions() -> Result<()> {
    const NS: &str = "argo-rollouts";
    const USER: &str = "system:serviceaccount:argo-rollouts:argo-rollouts";
    // The documented commands (deploy/README.md).
    let create = kubectl(&["create", "namespace", NS], None)?;
    ensure!(
        create.code == 0 || create.stderr.contains("AlreadyExists"),
        "{}",
        create.stderr
    );
    let install = deploy_dir().join("install.yaml");
    kubectl_ok(
        &[
            "apply",
            "-n",
            NS,
            "--server-side",
            "-f",
            install.to_str().unwrap(),
        ],
        None,
    )?;
    wait_established()?;
    // The Deployment is valid and schedulable (kwok runs its pods as fakes; the real controller
    // runs below as a local process with the Deployment's identity and arguments).
    kubectl_ok(
        &[
            "rollout",
            "status",
            "deployment/argo-rollouts",
            "-n",
            NS,
            "--timeout=60s",
        ],
        None,
    )?;
    // A Lease left by an earlier run would only delay the start.
    let _ = kubectl(
        &[
            "delete",
            "lease",
            "argo-rollouts-controller-lock",
            "-n",
            NS,
            "--ignore-not-found",
        ],
        None,
    )?;

    // Not more than needed.
    let app = TestNamespace::new("install-app").await?;
    assert_rules(USER, &app.name, &expected_rules(false))?;
    assert_rules(USER, "kube-system", &expected_rules(false))?;
    assert_rules(USER, NS, &expected_rules(true))?;
    assert_forbidden(USER, NS)?;
    for (verb, resource, sub) in [
        ("list", "rollouts.argoproj.io", ""),
        ("watch", "replicasets.apps", ""),
        ("create", "replicasets.apps", ""),
        ("patch", "rollouts.argoproj.io", "status"),
        ("create", "pods", "eviction"),
        ("patch", "services", ""),
        ("create", "events", ""),
    ] {
        ensure!(
            can_i(USER, verb, resource, sub, None)?,
            "{USER} cannot {verb} {resource} {sub} cluster-wide"
        );
    }

    // The controller with that identity: the Deployment's arguments, leader election on, plus a
    // kubeconfig for the token, free ports and an instance id (other tests' rollouts are not ours).
    let kubeconfig = service_account_kubeconfig(NS)?;
    let mut args = deployment_args(&documents(&read(&install)?)?)?;
    let instance = "e2e-install";
    args.extend(
        [
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--metricsPort",
            "0",
            "--healthzPort",
            "0",
            "--instance-id",
            instance,
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let controller = ControllerProcess::start_exact(
        "install-cluster-wide",
        &args,
        &[
            ("POD_NAMESPACE", NS),
            ("HOSTNAME", "argo-rollouts-install-e2e"),
        ],
    )?;
    wait_for_log(&controller, "became leader", Duration::from_secs(30)).await?;
    let holder = kubectl_ok(
        &[
            "get",
            "lease",
            "argo-rollouts-controller-lock",
            "-n",
            NS,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
        None,
    )?;
    ensure!(holder.starts_with("argo-rollouts-install-e2e_"), "{holder}");

    app.apply(&app_manifest(Some(instance), 3))?;
    let ro = app.wait_for_phase("app", "Healthy").await?;
    let first = status(&ro).stable_rs.context("no stableRS")?;
    app.wait_for("stable Service on revision 1", WAIT, || async {
        Ok((service_selector_hash(&app, "app-stable")? == first).then_some(()))
    })
    .await?;
    // The history clean-up orders ReplicaSets by creation time with the name as tie-break, as
    // Argo does; revisions 1 and 2 must not be created within the same second for the expected
    // one (revision 1) to be the oldest.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    canary_update(&app, "registry.example/app:2").await?;
    app.wait_for_revisions("app", &[(1, 0, 0), (2, 3, 3)])
        .await?;
    // A third revision: revisionHistoryLimit 1 deletes revision 1's ReplicaSet.
    canary_update(&app, "registry.example/app:3").await?;
    app.wait_for_revisions("app", &[(2, 0, 0), (3, 3, 3)])
        .await?;
    restart(&app).await?;
    app.wait_for_revisions("app", &[(2, 0, 0), (3, 3, 3)])
        .await?;

    let reasons = app.event_reasons("app")?;
    for want in [
        "RolloutUpdated",
        "ScalingReplicaSet",
        "RolloutPaused",
        "RolloutCompleted",
    ] {
        ensure!(
            reasons.iter().any(|r| r == want),
            "no {want} event in {reasons:?}"
        );
    }
    assert_no_denials(&controller)?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// The namespaced install

#[tokio::test]
async fn namespaced_install_runs_a_canary_in_its_namespace_only() -> Result<()> {
    e2e::install_crds()?; // cluster-scoped: installed separately by an admin
    let ns = TestNamespace::new("install-ns").await?;
    let other = TestNamespace::new("install-other").await?;
    let user = format!("system:serviceaccount:{}:argo-rollouts", ns.name);
    let manifest = deploy_dir().join("namespace-install.yaml");
    kubectl_ok(
        &[
            "apply",
            "-n",
            &ns.name,
            "--server-side",
            "-f",
            manifest.to_str().unwrap(),
        ],
        None,
    )?;

    // Everything the controller uses, in its namespace only; nothing elsewhere.
    // A Role cannot grant the cluster-scoped ClusterAnalysisTemplates (not watched with
    // --namespaced).
    let mut want = expected_rules(true);
    want.retain(|(_, resource, _, _)| resource != "clusteranalysistemplates");
    assert_rules(&user, &ns.name, &want)?;
    assert_rules(&user, &other.name, &BTreeSet::new())?;
    assert_forbidden(&user, &ns.name)?;
    for (verb, resource) in [
        ("list", "rollouts.argoproj.io"),
        ("watch", "replicasets.apps"),
        ("list", "pods"),
        ("create", "events"),
    ] {
        ensure!(
            !can_i(&user, verb, resource, "", None)?,
            "namespaced install may {verb} {resource} in all namespaces"
        );
    }

    let kubeconfig = service_account_kubeconfig(&ns.name)?;
    let mut args = deployment_args(&documents(&read(&manifest)?)?)?;
    args.extend(
        [
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--metricsPort",
            "0",
            "--healthzPort",
            "0",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let controller = ControllerProcess::start_exact(
        "install-namespaced",
        &args,
        &[
            ("POD_NAMESPACE", ns.name.as_str()),
            ("HOSTNAME", "argo-rollouts-ns-e2e"),
        ],
    )?;
    wait_for_log(&controller, "became leader", Duration::from_secs(30)).await?;

    ns.apply(&app_manifest(None, 2))?;
    ns.wait_for_phase("app", "Healthy").await?;
    canary_update(&ns, "registry.example/app:2").await?;
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 2, 2)])
        .await?;
    assert_no_denials(&controller)?;
    Ok(())
}
