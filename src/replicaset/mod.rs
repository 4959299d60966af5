//! ReplicaSet management.
pub mod rs;
pub mod gotypes;
pub mod hash;
