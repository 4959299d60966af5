//! Progressive delivery for Kubernetes, wire-compatible with Argo Rollouts v1.9.1.
//!
//! All rollout semantics live in pure planners ([`canary`], [`bluegreen`], [`replicaset`],
//! [`analysis`]); the controller binary observes the cluster, plans, and executes.

pub mod analysis;
pub mod bluegreen;
pub mod canary;
pub mod client;
pub mod controller;
pub mod crd;
pub mod events;
pub mod execute;
pub mod leader;
pub mod metrics;
pub mod plan;
pub mod reconcile;
pub mod replicaset;
pub mod status;
pub mod validation;
