//! Pointing the canary's `stableService` and `canaryService` at ReplicaSets (Argo's
//! `rollout/service.go`, canary part), and the selector switch itself, which blue-green shares
//! (its active and preview Services are in [`crate::bluegreen`]).
//!
//! A Service only ever moves to a ReplicaSet with at least one available pod, so it never
//! selects nothing; adopting a Service that has no `managed-by-rollouts` annotation yet even
//! waits for the ReplicaSet to be fully available, so a Service that already carries traffic is
//! not pointed at an under-provisioned ReplicaSet.

use serde_json::json;

use super::{
    Ctx,
    replicasets::{available, is_fully_available, pod_hash},
};
use crate::{
    crd::rollout::keys,
    plan::{Action, EventIntent},
};

/// Event reason of a selector switch.
pub(crate) const SWITCH_SERVICE_REASON: &str = "SwitchService";

impl Ctx<'_> {
    /// Argo's `reconcileStableAndCanaryService`: stable Service → stable ReplicaSet; canary
    /// Service → new ReplicaSet, or back to the stable one while a basic canary is aborted.
    pub(crate) fn reconcile_stable_and_canary_service(&mut self) {
        let Some(canary) = self.rollout.spec.strategy.canary.as_ref() else {
            return;
        };
        let stable_service = canary.stable_service.clone().unwrap_or_default();
        let canary_service = canary.canary_service.clone().unwrap_or_default();
        let traffic_routing = canary.traffic_routing.is_some();
        self.ensure_service_targets(&stable_service, self.stable_rs);
        if self.pause.is_aborted(self.status()) && !traffic_routing {
            self.ensure_service_targets(&canary_service, self.stable_rs);
            return;
        }
        self.ensure_service_targets(&canary_service, self.new_rs);
    }

    /// Argo's `ensureSVCTargets` with the availability check: switch `service` to ReplicaSet
    /// `rs` when its selector differs, the ReplicaSet has an available pod, and (for a Service
    /// not yet managed by a rollout) every pod of it is available.
    fn ensure_service_targets(&mut self, service: &str, rs: Option<usize>) {
        let (Some(rs), false) = (rs, service.is_empty()) else {
            return;
        };
        // A missing Service was already reported as InvalidSpec by the referenced-resource check.
        let Some(svc) = self.obs.services.get(service) else {
            return;
        };
        let rs = self.rs(rs);
        let current = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .and_then(|s| s.get(keys::POD_TEMPLATE_HASH))
            .cloned()
            .unwrap_or_default();
        let desired = pod_hash(rs).to_string();
        if current == desired {
            return;
        }
        let managed = svc
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(keys::MANAGED_BY_ROLLOUTS));
        if !managed && !is_fully_available(rs) {
            return;
        }
        if available(rs) <= 0 {
            return;
        }
        self.switch_service_selector(service, &current, managed, &desired);
    }

    /// Argo's `switchServiceSelector` once it decided to write: a strategic-merge patch of the
    /// Service's `rollouts-pod-template-hash` selector (plus the `managed-by-rollouts`
    /// annotation when the Service does not carry one yet) and the `SwitchService` event, which
    /// names the previous hash (`''` when the selector had none).
    pub(crate) fn switch_service_selector(
        &mut self,
        service: &str,
        current: &str,
        managed: bool,
        desired: &str,
    ) {
        let rollout_name = self.rollout.metadata.name.clone().unwrap_or_default();
        let patch = if managed {
            json!({"spec": {"selector": {keys::POD_TEMPLATE_HASH: desired}}})
        } else {
            json!({
                "metadata": {"annotations": {keys::MANAGED_BY_ROLLOUTS: rollout_name}},
                "spec": {"selector": {keys::POD_TEMPLATE_HASH: desired}}
            })
        };
        self.plan.act(Action::PatchService {
            name: service.to_string(),
            patch,
        });
        self.plan.event(EventIntent::normal(
            SWITCH_SERVICE_REASON,
            format!("Switched selector for service '{service}' from '{current}' to '{desired}'"),
        ));
    }
}
