//! Table and scenario tests of the reconcile planner: "observed in, plan out".

mod harness;
mod lifecycle;
