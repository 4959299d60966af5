//! Analysis (metric-gated releases).

pub mod expr;
