//! Canary planner.
pub mod intstr;
pub mod replicas;
