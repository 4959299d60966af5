//! Analysis (to come).
