//! The active and preview Services (Argo's `reconcilePreviewService`,
//! `reconcileActiveService`, `switchServiceSelector` and `isBlueGreenFastTracked`).
//!
//! Neither switch checks pod availability the way the canary Services do: the preview Service
//! follows the new ReplicaSet at once, and the active Service waits for the new ReplicaSet to be
//! saturated instead (contract §3.5).
//!
//! Argo switches a selector by patching the Service and then writing the new hash into the very
//! object its informer cache holds, so everything later in the same reconcile (the "is this
//! ReplicaSet still referenced" check, the status) already sees the switched selector. A
//! [`Services`] value plays that role here: it is read from the snapshot once and updated by
//! every switch this plan makes.

use super::{pause::completed_blue_green_pause, replicas::ready_for_pause};
use crate::{
    crd::rollout::keys,
    reconcile::{Ctx, has_scale_down_deadline, pod_hash, text},
    replicaset::rs,
};

/// One Service as this reconcile sees it.
#[derive(Clone, Debug)]
pub(super) struct ServiceView {
    pub(super) name: String,
    /// The `rollouts-pod-template-hash` selector, `None` when the selector has no such key.
    pub(super) hash: Option<String>,
    /// Carries the `managed-by-rollouts` annotation (any value: validation refused another
    /// rollout's).
    managed: bool,
}

impl ServiceView {
    fn observe(c: &Ctx, name: &str) -> Option<Self> {
        let svc = c.obs.services.get(name)?;
        Some(Self {
            name: name.to_string(),
            hash: rs::service_selector_hash(svc).map(str::to_string),
            managed: svc
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(keys::MANAGED_BY_ROLLOUTS)),
        })
    }

    /// Argo's `GetRolloutSelectorLabel`: the hash selected, `""` when none.
    pub(super) fn selector(&self) -> &str {
        self.hash.as_deref().unwrap_or("")
    }

    /// Argo's `switchServiceSelector`: nothing to do when the Service already selects `desired`
    /// and is managed; otherwise patch it (adopting it if needed), record `SwitchService`, and
    /// see the new selector from now on.
    fn switch(&mut self, c: &mut Ctx, desired: &str) {
        if self.hash.as_deref() == Some(desired) && self.managed {
            return;
        }
        c.switch_service_selector(&self.name, self.selector(), self.managed, desired);
        self.hash = Some(desired.to_string());
    }
}

/// The Services of a blue-green rollout.
#[derive(Clone, Debug)]
pub(super) struct Services {
    pub(super) active: ServiceView,
    pub(super) preview: Option<ServiceView>,
}

impl Services {
    /// Argo's `getPreviewAndActiveServices`; `None` when a named Service does not exist.
    pub(super) fn observe(c: &Ctx) -> Option<Self> {
        let bg = c.rollout.spec.strategy.blue_green.as_ref()?;
        let preview = match bg.preview_service.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => Some(ServiceView::observe(c, name)?),
            None => None,
        };
        Some(Self {
            active: ServiceView::observe(c, &bg.active_service)?,
            preview,
        })
    }

    /// The hashes the Services select now (for `isReplicaSetReferenced`).
    pub(super) fn live_hashes(&self) -> Vec<&str> {
        [Some(&self.active), self.preview.as_ref()]
            .into_iter()
            .flatten()
            .map(ServiceView::selector)
            .filter(|h| !h.is_empty())
            .collect()
    }

    /// Argo's `reconcilePreviewService`: the preview Service follows the new ReplicaSet at once,
    /// unless progress is halted.
    pub(super) fn reconcile_preview(&mut self, c: &mut Ctx) {
        let Some(preview) = self.preview.as_mut() else {
            return;
        };
        if c.halt_progress() {
            return;
        }
        let Some(new_rs) = c.new_rs() else {
            return;
        };
        let desired = pod_hash(new_rs).to_string();
        preview.switch(c, &desired);
    }

    /// Argo's `reconcileActiveService`: once the new ReplicaSet is saturated, the active Service
    /// moves to it when the update is fast-tracked or the pause is over (pre-promotion analysis
    /// being refused, there is none to wait for); on abort it goes (back) to the stable
    /// ReplicaSet; otherwise it keeps its selector (adopting the Service if needed).
    pub(super) fn reconcile_active(&mut self, c: &mut Ctx) {
        if c.halt_progress() {
            return;
        }
        let Some(new_rs) = c.new_rs() else {
            return;
        };
        if !ready_for_pause(c) || !rs::is_saturated(&c.rollout, new_rs) {
            return;
        }
        let new_hash = pod_hash(new_rs).to_string();
        let mut desired = self.active.selector().to_string();
        if is_fast_tracked(c, &self.active) {
            desired.clone_from(&new_hash);
        }
        if completed_blue_green_pause(c) && super::pause::completed_pre_promotion_analysis(c) {
            desired = new_hash;
        }
        if c.status().abort == Some(true) {
            desired = text(&c.status().stable_rs).to_string();
        }
        self.active.switch(c, &desired);
    }
}

/// Argo's `isBlueGreenFastTracked`: no pause, the active Service may move at once, when the new
/// ReplicaSet carries a `scale-down-deadline` (a rollback to a ReplicaSet still inside its delay;
/// its presence is enough, as in v1.9.1), a full promotion is requested, the active Service has
/// no hash selector yet (the initial deploy), or it already selects the new ReplicaSet.
pub(super) fn is_fast_tracked(c: &Ctx, active: &ServiceView) -> bool {
    let Some(new_rs) = c.new_rs() else {
        return false;
    };
    has_scale_down_deadline(new_rs)
        || c.status().promote_full == Some(true)
        || active.hash.as_deref().is_none_or(|h| h == pod_hash(new_rs))
}
