//! Table and scenario tests of the reconcile planner: "observed in, plan out".

mod abort;
mod deadline;
mod harness;
mod lifecycle;
mod properties;
mod steps;
mod validation;
