//! The Rollout reconcile planner (work in progress).

mod hashing;
mod pause;

use crate::plan::{Observed, Plan};

/// Plans one reconcile of `observed.rollout`.
pub fn plan(_observed: &Observed) -> Plan {
    Plan::default()
}
