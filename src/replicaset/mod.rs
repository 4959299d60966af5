//! ReplicaSet management.
