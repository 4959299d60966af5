//! Table and scenario tests of the reconcile planner: "observed in, plan out".

mod abort;
mod analysis;
mod deadline;
pub(crate) mod harness;
mod lifecycle;
mod metadata;
mod properties;
mod steps;
mod validation;
