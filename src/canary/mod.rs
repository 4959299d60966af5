//! Canary planner.
pub mod intstr;
pub mod plan;
pub mod replicas;
