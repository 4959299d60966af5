//! Smoke tests of the local control plane itself: real scheduling, the real ReplicaSet controller,
//! kwok pods, our CRDs accepted by the real apiserver, and rejected input rejected the same way our
//! schema check says.

use std::{fs, time::Duration};

use anyhow::Result;
use e2e::{TestNamespace, install_crds, kubectl, repo_root};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;

#[tokio::test]
async fn deployment_of_three_replicas_becomes_available() -> Result<()> {
    let ns = TestNamespace::new("smoke-deployment").await?;
    ns.apply(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example/web:1
"#,
    )?;
    let api: Api<Deployment> = Api::namespaced(ns.client.clone(), &ns.name);
    let available = ns
        .wait_for(
            "3 available replicas of deployment web",
            Duration::from_secs(90),
            || async {
                let d = api.get("web").await?;
                let available = d.status.and_then(|s| s.available_replicas).unwrap_or(0);
                Ok((available == 3).then_some(available))
            },
        )
        .await?;
    assert_eq!(available, 3);
    Ok(())
}

#[tokio::test]
async fn every_crd_installs_server_side_and_accepts_the_fixture_corpus() -> Result<()> {
    install_crds()?;
    let out = kubectl(&["get", "crd", "-o", "name"], None)?;
    for crd in [
        "rollouts.argoproj.io",
        "analysistemplates.argoproj.io",
        "clusteranalysistemplates.argoproj.io",
        "analysisruns.argoproj.io",
        "experiments.argoproj.io",
    ] {
        assert!(
            out.stdout.contains(crd),
            "{crd} not installed: {}",
            out.stdout
        );
    }
    let ns = TestNamespace::new("smoke-fixtures").await?;
    let dir = repo_root().join("tests/fixtures/valid");
    let mut files: Vec<_> = fs::read_dir(&dir)?.map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file)?;
        // Strict field validation is kubectl's default: an unknown field would fail here.
        ns.apply(&text)
            .map_err(|e| anyhow::anyhow!("{} rejected by the apiserver: {e}", file.display()))?;
    }
    let out = kubectl(
        &["get", "rollouts.argoproj.io", "-n", &ns.name, "-o", "name"],
        None,
    )?;
    assert!(
        out.stdout.contains("rollout.argoproj.io/checkout"),
        "{}",
        out.stdout
    );
    // The scale subresource and the short name work.
    let out = kubectl(
        &["scale", "ro/checkout", "--replicas=7", "-n", &ns.name],
        None,
    )?;
    assert_eq!(out.code, 0, "scale failed: {}", out.stderr);
    let out = kubectl(
        &[
            "get",
            "ro",
            "checkout",
            "-n",
            &ns.name,
            "-o",
            "jsonpath={.spec.replicas}",
        ],
        None,
    )?;
    assert_eq!(out.stdout, "7");
    Ok(())
}

#[tokio::test]
async fn apiserver_rejects_schema_invalid_fixtures_with_the_expected_field() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("smoke-invalid").await?;
    let dir = repo_root().join("tests/fixtures/invalid");
    let mut checked = 0;
    let mut files: Vec<_> = fs::read_dir(&dir)?.map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file)?;
        let expect = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_default();
        // Messages of the controller's own validation (InvalidSpec) are not the apiserver's business.
        if expect.starts_with("The Rollout") {
            continue;
        }
        let err = ns
            .apply(&text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        // The apiserver names the same field (its wording differs slightly from kubectl's).
        let field = expect
            .trim_start_matches("unknown field \"")
            .split([':', '"'])
            .next()
            .unwrap();
        assert!(
            err.contains(field),
            "{}: expected the apiserver to reject field {field:?}, got: {err:?}",
            file.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 5,
        "only {checked} schema-invalid fixtures checked"
    );
    Ok(())
}
