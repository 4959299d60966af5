//! Rollout status semantics that the controller and the kubectl plugin share, as pure functions.
//!
//! - [`conditions`]: condition reasons and messages, and the rules for changing
//!   `status.conditions` (Argo's `utils/conditions`). The array order these rules produce is part
//!   of the wire contract, because the phase is read from it.
//! - [`phase`]: `status.phase` / `status.message` as the controller computes them, and the
//!   client-side override used by the plugin (Argo's `utils/rollout`).
//!
//! Nothing here reads the clock: callers pass `now`.

pub mod conditions;
pub mod phase;

use chrono::{DateTime, Utc};
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};

/// A k8s `Time` for `at`, truncated to whole seconds.
///
/// `metav1.Time` is serialized with second precision, so a condition written now reads back
/// truncated; truncating up front keeps freshly built and re-read statuses equal.
pub fn k8s_time(at: DateTime<Utc>) -> Time {
    Time(Timestamp::from_second(at.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// The instant of a k8s `Time` as a chrono timestamp (the planner's clock type).
pub fn to_utc(time: &Time) -> DateTime<Utc> {
    DateTime::from_timestamp(time.0.as_second(), time.0.subsec_nanosecond().max(0) as u32)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k8s_time_truncates_to_seconds_and_round_trips() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:20:30.999Z")
            .unwrap()
            .with_timezone(&Utc);
        let time = k8s_time(at);
        assert_eq!(
            serde_json::to_value(&time).unwrap(),
            serde_json::json!("2026-03-01T10:20:30Z")
        );
        assert_eq!(to_utc(&time).to_rfc3339(), "2026-03-01T10:20:30+00:00");
    }
}
