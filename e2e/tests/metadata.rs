//! Ephemeral canary/stable metadata end to end: the real controller labels the pods of the
//! canary and the stable ReplicaSet (templates and the pods already running), and relabels them
//! when the canary is promoted.

use std::collections::BTreeMap;

use anyhow::Result;
use e2e::{
    ControllerProcess, TestNamespace, install_crds,
    rollout::{WAIT, canary},
};
use k8s_openapi::api::{apps::v1::ReplicaSet, core::v1::Pod};
use kube::{Api, ResourceExt, api::ListParams};

const METADATA: &str = "      canaryMetadata:
        labels:
          role: canary
      stableMetadata:
        labels:
          role: stable
";

/// `role` label of every live (not terminating) pod of the rollout, by the revision of the
/// ReplicaSet that owns it: `{revision: [role, ...]}` (`"-"` for a pod without the label).
async fn roles_by_revision(ns: &TestNamespace) -> Result<BTreeMap<String, Vec<String>>> {
    let rss = Api::<ReplicaSet>::namespaced(ns.client.clone(), &ns.name)
        .list(&ListParams::default())
        .await?;
    let revision_of: BTreeMap<String, String> = rss
        .items
        .iter()
        .map(|rs| {
            (
                rs.uid().unwrap_or_default(),
                rs.annotations()
                    .get("rollout.argoproj.io/revision")
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    let pods = Api::<Pod>::namespaced(ns.client.clone(), &ns.name)
        .list(&ListParams::default().labels("app=app"))
        .await?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pod in pods
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        let Some(revision) = pod
            .owner_references()
            .iter()
            .find(|o| o.controller == Some(true))
            .and_then(|o| revision_of.get(&o.uid))
        else {
            continue;
        };
        let role = pod.labels().get("role").cloned().unwrap_or("-".into());
        out.entry(revision.clone()).or_default().push(role);
    }
    for roles in out.values_mut() {
        roles.sort();
    }
    Ok(out)
}

fn want(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(rev, roles)| {
            (
                rev.to_string(),
                roles.iter().map(|r| r.to_string()).collect(),
            )
        })
        .collect()
}

async fn wait_for_roles(ns: &TestNamespace, expected: BTreeMap<String, Vec<String>>) -> Result<()> {
    ns.wait_for(&format!("pod roles {expected:?}"), WAIT, || {
        let expected = expected.clone();
        async move {
            let got = roles_by_revision(ns).await?;
            Ok((got == expected).then_some(()))
        }
    })
    .await
}

#[tokio::test]
async fn canary_and_stable_pods_are_labelled_and_relabelled_on_promotion() -> Result<()> {
    install_crds()?;
    let ns = TestNamespace::new("metadata-canary").await?;
    let _controller = ControllerProcess::for_namespace(&ns)?;
    ns.apply(&canary(
        "app",
        4,
        "        - setWeight: 25\n        - pause: {}\n",
        METADATA,
    ))?;
    ns.wait_for_phase("app", "Healthy").await?;
    // Initial deploy: the first ReplicaSet is the stable one.
    wait_for_roles(&ns, want(&[("1", &["stable"; 4])])).await?;

    ns.set_image("app", "registry.example/app:2")?;
    ns.wait_for_step("app", 1, "Paused").await?;
    ns.wait_for_revisions("app", &[(1, 3, 3), (2, 1, 1)])
        .await?;
    wait_for_roles(&ns, want(&[("1", &["stable"; 3]), ("2", &["canary"])])).await?;

    // `kubectl argo rollouts promote` on a paused step clears the pause conditions.
    ns.patch_rollout("app", true, r#"{"status":{"pauseConditions":null}}"#)?;
    ns.wait_for_phase("app", "Healthy").await?;
    ns.wait_for_revisions("app", &[(1, 0, 0), (2, 4, 4)])
        .await?;
    // The canary's pods (the one labelled canary included) are now stable pods.
    wait_for_roles(&ns, want(&[("2", &["stable"; 4])])).await?;

    // They were created from the canary template (the canary scales up before the promotion)
    // and relabelled in place by the controller's merge patches.
    let pods = Api::<Pod>::namespaced(ns.client.clone(), &ns.name)
        .list(&ListParams::default().labels("app=app,role=stable"))
        .await?;
    let patched = pods
        .items
        .iter()
        .filter(|p| {
            p.managed_fields()
                .iter()
                .any(|m| m.manager.as_deref() == Some("rollouts-controller"))
        })
        .count();
    assert_eq!(patched, 4, "every stable pod was patched by the controller");

    // The templates say the same, and record what was injected.
    let rss = ns.replica_sets().list(&ListParams::default()).await?;
    for rs in &rss.items {
        let revision = rs
            .annotations()
            .get("rollout.argoproj.io/revision")
            .cloned();
        let template_role = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.as_ref())
            .and_then(|l| l.get("role"))
            .cloned();
        let recorded = rs
            .annotations()
            .get("rollout.argoproj.io/ephemeral-metadata")
            .cloned();
        match revision.as_deref() {
            Some("2") => {
                assert_eq!(template_role.as_deref(), Some("stable"));
                assert_eq!(recorded.as_deref(), Some(r#"{"labels":{"role":"stable"}}"#));
            }
            _ => {
                assert_eq!(template_role, None, "old ReplicaSet keeps no role");
                assert_eq!(recorded, None);
            }
        }
    }
    Ok(())
}
