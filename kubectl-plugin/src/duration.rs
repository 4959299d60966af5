//! Durations as users type them (Go `time.ParseDuration`) and as the plugin prints them
//! (Kubernetes' `duration.HumanDuration`, the AGE column of kubectl).

use chrono::{DateTime, Duration, Utc};

/// Go's `time.ParseDuration` (`"30s"`, `"1h30m"`, `"0"`), with Go's error text.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    rollouts::validation::parse_go_duration(s).map(Duration::nanoseconds)
}

/// kubectl's `--request-timeout`: `"0"` (none), a bare number of seconds, or a Go duration.
pub fn parse_request_timeout(s: &str) -> Result<Option<std::time::Duration>, String> {
    let s = s.trim();
    if s.is_empty() || s == "0" {
        return Ok(None);
    }
    let parsed = match s.parse::<i64>() {
        Ok(seconds) => Duration::seconds(seconds),
        Err(_) => parse_go_duration(s).map_err(|e| {
            format!("invalid timeout value {s:?}: timeout must be a single integer in seconds, or an integer followed by a unit (e.g. 1s | 2m | 3h): {e}")
        })?,
    };
    if parsed < Duration::zero() {
        return Err(format!(
            "invalid timeout value {s:?}: timeout must be positive"
        ));
    }
    Ok(parsed.to_std().ok().filter(|d| !d.is_zero()))
}

/// Go's `time.Duration` saturates at ±292 years; `now - zero time` in Go is that maximum.
const MAX_GO_DURATION_SECONDS: i64 = i64::MAX / 1_000_000_000;

/// Kubernetes' `HumanDuration`: ~2-3 significant figures (`"45s"`, `"3m20s"`, `"5h"`, `"7d"`).
pub fn human_duration(d: Duration) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".into();
    } else if seconds < 0 {
        return "0s".into();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// The AGE of an object created at `created` (Argo's `info.Age`). An object without a
/// timestamp is as old as Go's zero time, which saturates to `"292y"`.
pub fn age(created: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match created {
        Some(created) => human_duration(now - created),
        None => human_duration(Duration::seconds(MAX_GO_DURATION_SECONDS)),
    }
}

/// Go's `time.Duration.String()` for whole seconds (`"1h0m0s"`, `"2m30s"`, `"0s"`).
pub fn go_duration_string(d: Duration) -> String {
    let total = d.num_seconds();
    if total == 0 {
        return "0s".into();
    }
    let sign = if total < 0 { "-" } else { "" };
    let total = total.unsigned_abs();
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_duration_matches_kubernetes() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 59 * 60 + 59, "3h59m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (7 * 24 * 3600, "7d"),
            (7 * 24 * 3600 + 3 * 3600, "7d3h"),
            (30 * 24 * 3600, "30d"),
            (2 * 365 * 24 * 3600, "2y"),
            (2 * 365 * 24 * 3600 + 24 * 3600, "2y1d"),
            (9 * 365 * 24 * 3600, "9y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(
                human_duration(Duration::seconds(seconds)),
                want,
                "{seconds}"
            );
        }
    }

    #[test]
    fn age_of_missing_timestamp_is_go_zero_time() {
        assert_eq!(age(None, Utc::now()), "292y");
    }

    #[test]
    fn request_timeout_forms() {
        assert_eq!(parse_request_timeout("0").unwrap(), None);
        assert_eq!(
            parse_request_timeout("5").unwrap(),
            Some(std::time::Duration::from_secs(5))
        );
        assert_eq!(
            parse_request_timeout("2m").unwrap(),
            Some(std::time::Duration::from_secs(120))
        );
        assert!(parse_request_timeout("abc").is_err());
        assert!(parse_request_timeout("-1s").is_err());
    }

    #[test]
    fn go_duration_strings() {
        assert_eq!(go_duration_string(Duration::seconds(0)), "0s");
        assert_eq!(go_duration_string(Duration::seconds(90)), "1m30s");
        assert_eq!(go_duration_string(Duration::seconds(3600)), "1h0m0s");
        assert_eq!(parse_go_duration("1h30m").unwrap(), Duration::minutes(90));
        assert_eq!(
            parse_go_duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
    }
}
