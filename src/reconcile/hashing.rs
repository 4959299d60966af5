//! The two hashes the reconcile needs: the pod-template hash (ReplicaSet identity) and the step
//! hash (`status.currentStepHash`, which resets the steps when it changes).
//!
//! Both come from [`crate::replicaset`], the Go-byte-identical implementation: the pod-template
//! hash through [`rs::current_pod_hash`], the very function the new-ReplicaSet lookup uses, so
//! the name we create and the name we look for can never disagree. A value that cannot be
//! hashed (Argo would panic) yields an empty hash, so planning never panics.

use crate::{crd::Rollout, replicaset::hash};

/// `ComputePodTemplateHash(&rollout.spec.template, status.collisionCount)` (the planner hashes
/// once per reconcile in `Ctx::new`; this is for tests).
#[cfg(test)]
pub(crate) fn pod_template_hash(rollout: &Rollout) -> String {
    crate::replicaset::rs::current_pod_hash(rollout).unwrap_or_default()
}

/// `ComputeStepHash(rollout)`: empty for blue-green (and for a rollout without a canary), else
/// the hash of `canary.steps` (absent and empty steps both hash as `null`).
pub(crate) fn step_hash(rollout: &Rollout) -> String {
    let strategy = &rollout.spec.strategy;
    let Some(canary) = strategy
        .canary
        .as_ref()
        .filter(|_| strategy.blue_green.is_none())
    else {
        return String::new();
    };
    let steps = canary
        .steps
        .as_ref()
        .filter(|s| !s.is_empty())
        .and_then(|s| serde_json::to_value(s).ok());
    hash::step_hash(steps.as_ref()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::crd::{
        CanaryStep, CanaryStrategy, Rollout, RolloutPause, RolloutSpec, RolloutStrategy,
    };

    fn with_steps(steps: Option<Vec<CanaryStep>>) -> Rollout {
        Rollout::new(
            "ro",
            RolloutSpec {
                strategy: RolloutStrategy {
                    canary: Some(CanaryStrategy {
                        steps,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
    }

    /// Argo's pinned step-hash vectors (contract Addendum A).
    #[test]
    fn step_hashes_match_argo() {
        let pause = || CanaryStep {
            pause: Some(RolloutPause::default()),
            ..Default::default()
        };
        assert_eq!(super::step_hash(&with_steps(None)), "5ffbfbbd64");
        assert_eq!(super::step_hash(&with_steps(Some(vec![]))), "5ffbfbbd64");
        assert_eq!(
            super::step_hash(&with_steps(Some(vec![pause()]))),
            "6b9b86fbd5"
        );
        assert_eq!(
            super::step_hash(&with_steps(Some(vec![pause(), pause()]))),
            "79c9b9f6bf"
        );
        let mut bg = with_steps(None);
        bg.spec.strategy.blue_green = Some(Default::default());
        assert_eq!(super::step_hash(&bg), "");
    }
}
