//! ReplicaSet management.
pub mod gotypes;
pub mod hash;
pub mod rs;
