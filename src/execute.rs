//! Applies a [`Plan`] in order and stops at the first failure. No rollout semantics here: every
//! decision was made by the planner; this module only speaks to the API server.

use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Pod, Service},
};
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, EvictParams, Patch, PatchParams, PostParams},
};
use tracing::{debug, info};

use crate::{
    controller::Context,
    crd::{AnalysisRun, Experiment, Rollout},
    plan::{Action, EventKind, Item, Plan},
};

/// The field manager of every write, so `kubectl get --show-managed-fields` names us.
pub const FIELD_MANAGER: &str = "rollouts-controller";

/// A failed action, naming what was attempted.
#[derive(Debug, thiserror::Error)]
#[error("{action} failed: {source}")]
pub struct ExecuteError {
    pub action: String,
    #[source]
    pub source: kube::Error,
}

fn describe(action: &Action) -> String {
    match action {
        Action::CreateReplicaSet(rs) => format!("create ReplicaSet {}", rs.name_any()),
        Action::UpdateReplicaSet(rs) => format!("update ReplicaSet {}", rs.name_any()),
        Action::DeleteReplicaSet { name } => format!("delete ReplicaSet {name}"),
        Action::PatchReplicaSet { name, .. } => format!("patch ReplicaSet {name}"),
        Action::PatchRollout(_) => "patch rollout".into(),
        Action::PatchRolloutStatus(_) => "patch rollout status".into(),
        Action::PatchService { name, .. } => format!("patch Service {name}"),
        Action::EvictPod { name } => format!("evict Pod {name}"),
        Action::PatchPod { name, .. } => format!("patch Pod {name}"),
        Action::CreateAnalysisRun(ar) => format!("create AnalysisRun {}", ar.name_any()),
        Action::PatchAnalysisRun { name, .. } => format!("patch AnalysisRun {name}"),
        Action::DeleteAnalysisRun { name } => format!("delete AnalysisRun {name}"),
        Action::CreateExperiment(ex) => format!("create Experiment {}", ex.name_any()),
        Action::PatchExperiment { name, .. } => format!("patch Experiment {name}"),
        Action::DeleteExperiment { name } => format!("delete Experiment {name}"),
    }
}

fn kind_and_verb(action: &Action) -> (&'static str, &'static str) {
    match action {
        Action::CreateReplicaSet(_) => ("ReplicaSet", "Create"),
        Action::UpdateReplicaSet(_) => ("ReplicaSet", "Update"),
        Action::DeleteReplicaSet { .. } => ("ReplicaSet", "Delete"),
        Action::PatchReplicaSet { .. } => ("ReplicaSet", "Patch"),
        Action::PatchRollout(_) => ("Rollout", "Patch"),
        Action::PatchRolloutStatus(_) => ("Rollout", "Patch"),
        Action::PatchService { .. } => ("Service", "Patch"),
        Action::EvictPod { .. } => ("Pod", "Create"),
        Action::PatchPod { .. } => ("Pod", "Patch"),
        Action::CreateAnalysisRun(_) => ("AnalysisRun", "Create"),
        Action::PatchAnalysisRun { .. } => ("AnalysisRun", "Patch"),
        Action::DeleteAnalysisRun { .. } => ("AnalysisRun", "Delete"),
        Action::CreateExperiment(_) => ("Experiment", "Create"),
        Action::PatchExperiment { .. } => ("Experiment", "Patch"),
        Action::DeleteExperiment { .. } => ("Experiment", "Delete"),
    }
}

/// Applies the plan's items in order. Events are published when reached, i.e. only after every
/// earlier write succeeded; a failed event publication is logged, never fatal.
pub async fn apply(ctx: &Context, rollout: &Rollout, plan: &Plan) -> Result<(), ExecuteError> {
    let ns = rollout.namespace().unwrap_or_default();
    let reference = rollout.object_ref(&());
    for item in &plan.items {
        match item {
            Item::Act(action) => {
                debug!(action = %describe(action), "applying");
                let result = apply_one(ctx, &ns, rollout, action).await;
                let (kind, verb) = kind_and_verb(action);
                let code = match &result {
                    Ok(()) => 200,
                    Err(kube::Error::Api(e)) => e.code,
                    Err(_) => 0,
                };
                ctx.metrics.request(kind, verb, code);
                result.map_err(|source| ExecuteError {
                    action: describe(action),
                    source,
                })?;
            }
            Item::Event(ev) => {
                info!(reason = %ev.reason, message = %ev.message, "event");
                let type_ = match ev.kind {
                    EventKind::Normal => "Normal",
                    EventKind::Warning => "Warning",
                };
                ctx.metrics
                    .event(&ns, &rollout.name_any(), type_, &ev.reason);
                if let Err(e) = ctx
                    .recorder
                    .publish(&reference, type_, &ev.reason, &ev.message)
                    .await
                {
                    tracing::warn!(error = %e, reason = %ev.reason, "cannot record event");
                }
            }
        }
    }
    Ok(())
}

async fn apply_one(
    ctx: &Context,
    ns: &str,
    rollout: &Rollout,
    action: &Action,
) -> Result<(), kube::Error> {
    let client = ctx.client.clone();
    let pp = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    let post = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    let rollouts: Api<Rollout> = Api::namespaced(client.clone(), ns);
    let name = rollout.name_any();
    match action {
        Action::CreateReplicaSet(rs) => {
            let api: Api<ReplicaSet> = Api::namespaced(client, ns);
            let created = api.create(&post, rs).await?;
            ctx.write_back()
                .replica_set(ns, &created.name_any(), Some(created));
        }
        Action::UpdateReplicaSet(rs) => {
            let api: Api<ReplicaSet> = Api::namespaced(client, ns);
            let updated = api.replace(&rs.name_any(), &post, rs).await?;
            ctx.write_back()
                .replica_set(ns, &updated.name_any(), Some(updated));
        }
        Action::PatchReplicaSet { name, patch } => {
            let api: Api<ReplicaSet> = Api::namespaced(client, ns);
            match api.patch(name, &pp, &Patch::Strategic(patch)).await {
                Ok(patched) => ctx.write_back().replica_set(ns, name, Some(patched)),
                // Gone: nothing to adopt or release, as in Kubernetes' ControllerRefManager.
                // Anything else (someone else adopted it first, a uid precondition) fails the
                // reconcile, which is retried on fresh data.
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Action::DeleteReplicaSet { name } => {
            let api: Api<ReplicaSet> = Api::namespaced(client, ns);
            api.delete(name, &DeleteParams::background()).await?;
            ctx.write_back().replica_set(ns, name, None);
        }
        Action::PatchRollout(patch) => {
            let updated = rollouts.patch(&name, &pp, &Patch::Merge(patch)).await?;
            ctx.write_back().rollout(updated);
        }
        Action::PatchRolloutStatus(patch) => {
            let updated = rollouts
                .patch_status(&name, &pp, &Patch::Merge(patch))
                .await?;
            ctx.write_back().rollout(updated);
        }
        Action::PatchService { name, patch } => {
            let api: Api<Service> = Api::namespaced(client, ns);
            api.patch(name, &pp, &Patch::Strategic(patch)).await?;
        }
        Action::EvictPod { name } => {
            let api: Api<Pod> = Api::namespaced(client, ns);
            match api.evict(name, &EvictParams::default()).await {
                // A PodDisruptionBudget said no: try again on a later pass, as Argo does.
                Err(kube::Error::Api(e)) if e.code == 429 => {}
                // Already gone (our cache was behind): what the eviction wanted has happened.
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                other => {
                    other?;
                }
            }
        }
        Action::PatchPod { name, patch } => {
            let api: Api<Pod> = Api::namespaced(client, ns);
            match api.patch(name, &pp, &Patch::Merge(patch)).await {
                // Gone since the snapshot (scaled down, evicted): nothing to label, as in Argo.
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                other => {
                    other?;
                }
            }
        }
        Action::CreateAnalysisRun(ar) => {
            // AlreadyExists is an error: the next plan sees the run (ours or not) and picks
            // it up or the next free name.
            let created = Api::<AnalysisRun>::namespaced(client, ns)
                .create(&post, ar)
                .await?;
            ctx.write_back()
                .analysis_run(ns, &created.name_any(), Some(created));
        }
        Action::PatchAnalysisRun { name, patch } => {
            match Api::<AnalysisRun>::namespaced(client, ns)
                .patch(name, &pp, &Patch::Merge(patch))
                .await
            {
                // Gone already (deleted, TTL): nothing to cancel, as in Argo.
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Ok(patched) => ctx.write_back().analysis_run(ns, name, Some(patched)),
                Err(e) => return Err(e),
            }
        }
        Action::DeleteAnalysisRun { name } => {
            match Api::<AnalysisRun>::namespaced(client, ns)
                .delete(name, &DeleteParams::background())
                .await
            {
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e),
                Ok(_) => ctx.write_back().analysis_run(ns, name, None),
            }
        }
        Action::CreateExperiment(ex) => {
            Api::<Experiment>::namespaced(client, ns)
                .create(&post, ex)
                .await?;
        }
        Action::PatchExperiment { name, patch } => {
            Api::<Experiment>::namespaced(client, ns)
                .patch(name, &pp, &Patch::Merge(patch))
                .await?;
        }
        Action::DeleteExperiment { name } => {
            Api::<Experiment>::namespaced(client, ns)
                .delete(name, &DeleteParams::background())
                .await?;
        }
    }
    Ok(())
}
