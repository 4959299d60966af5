//! ReplicaSet management.
pub mod rs;
