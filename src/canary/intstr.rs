//! Resolving `maxSurge` / `maxUnavailable` the way Argo Rollouts v1.9.1 does.
//!
//! Argo resolves these fields with Kubernetes' *legacy* `GetValueFromIntOrPercent`, not the strict
//! `GetScaledValueFromIntOrPercent` that Deployments use today. The legacy helper treats **every
//! string as a percentage**: `"5"` means 5%, not 5 pods, and it strips every `%` character before
//! parsing, so `"5%%"` is also 5%. Getting this wrong silently changes how many pods a rollout
//! surges or takes down, so the quirks are reproduced here on purpose.

use std::num::ParseIntError;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Default `canary.maxSurge` when the field is absent (a string, hence 25%).
pub const DEFAULT_MAX_SURGE: &str = "25";
/// Default `maxUnavailable` (canary and blue-green) when the field is absent (25%).
pub const DEFAULT_MAX_UNAVAILABLE: &str = "25";

/// A `maxSurge`/`maxUnavailable` string that the legacy helper cannot read.
///
/// Argo's API validation does not reject such strings (only "both zero"), and its controller
/// ignores the error and carries on with 0 for both fenceposts; [`Fenceposts::default`] is that
/// value, so `Fenceposts::resolve_canary(..).unwrap_or_default()` behaves like Argo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntOrStringError {
    /// The string, with every `%` removed, is not a base-10 integer that fits in 64 bits.
    #[error("invalid value for IntOrString: invalid value {value:?}: {source}")]
    InvalidValue {
        /// The string as written in the spec.
        value: String,
        /// Why the `%`-stripped string did not parse.
        #[source]
        source: ParseIntError,
    },
}

/// Which way a percentage of a total is rounded to whole pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// `ceil`: used for maxSurge, so a small percentage still allows one extra pod.
    Up,
    /// `floor`: used for maxUnavailable, so a percentage never takes down more than it says.
    Down,
}

/// Scales an int-or-percent against `total` with the legacy Kubernetes rules.
///
/// * `Int(n)` is `n` pods, whatever `total` is.
/// * Any string is a percentage: all `%` characters are removed and the rest must parse like Go's
///   `strconv.Atoi` (optional sign, decimal digits). The pod count is
///   `round(value × total / 100)` in `f64`, rounded per `rounding`.
///
/// Results outside `i32` saturate (Go would wrap; such values are never meaningful).
pub fn scaled_value(
    value: &IntOrString,
    total: i32,
    rounding: Rounding,
) -> Result<i32, IntOrStringError> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let percent: i64 =
                s.replace('%', "")
                    .parse()
                    .map_err(|source| IntOrStringError::InvalidValue {
                        value: s.clone(),
                        source,
                    })?;
            // Same operation order as Go: (value * total) / 100, then round.
            let scaled = percent as f64 * f64::from(total) / 100.0;
            let rounded = match rounding {
                Rounding::Up => scaled.ceil(),
                Rounding::Down => scaled.floor(),
            };
            // `as` saturates at the i32 bounds; a finite product never yields NaN.
            Ok(rounded as i32)
        }
    }
}

/// The resolved canary fenceposts, in pods.
///
/// `Default` (both 0) is what Argo ends up with when either field fails to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fenceposts {
    /// Pods allowed above `spec.replicas` across all ReplicaSets.
    pub max_surge: i32,
    /// Pods allowed below `spec.replicas` in availability.
    pub max_unavailable: i32,
}

impl Fenceposts {
    /// Resolves `canary.maxSurge` and `canary.maxUnavailable` for `replicas` desired pods
    /// (Argo's `MaxSurge` and `MaxUnavailable` for a canary Rollout).
    ///
    /// * Absent fields default to `"25"` (25%).
    /// * maxSurge rounds up, maxUnavailable rounds down.
    /// * If both resolve to 0, maxUnavailable becomes 1: rounding down can produce 0/0 even
    ///   though validation forbids writing it, and a rollout must be able to make progress.
    /// * maxUnavailable is capped at `replicas`, and is 0 when `replicas` is 0. maxSurge is not
    ///   capped.
    pub fn resolve_canary(
        max_surge: Option<&IntOrString>,
        max_unavailable: Option<&IntOrString>,
        replicas: i32,
    ) -> Result<Self, IntOrStringError> {
        let default_surge = IntOrString::String(DEFAULT_MAX_SURGE.to_owned());
        let default_unavailable = IntOrString::String(DEFAULT_MAX_UNAVAILABLE.to_owned());
        let surge = scaled_value(max_surge.unwrap_or(&default_surge), replicas, Rounding::Up)?;
        let mut unavailable = scaled_value(
            max_unavailable.unwrap_or(&default_unavailable),
            replicas,
            Rounding::Down,
        )?;
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        let unavailable = if replicas == 0 {
            0
        } else {
            unavailable.min(replicas)
        };
        Ok(Self {
            max_surge: surge,
            max_unavailable: unavailable,
        })
    }
}

/// Resolves `blueGreen.maxUnavailable` for `replicas` desired pods (Argo's `MaxUnavailable` for a
/// blue-green Rollout): rounded down, capped at `replicas`, 0 when `replicas` is 0, and without
/// the canary's "both zero → 1" fencepost rule since blue-green has no surge.
///
/// Argo ignores a parse error here too and uses 0.
pub fn resolve_blue_green_max_unavailable(
    max_unavailable: Option<&IntOrString>,
    replicas: i32,
) -> Result<i32, IntOrStringError> {
    if replicas == 0 {
        return Ok(0);
    }
    let default_unavailable = IntOrString::String(DEFAULT_MAX_UNAVAILABLE.to_owned());
    let unavailable = scaled_value(
        max_unavailable.unwrap_or(&default_unavailable),
        replicas,
        Rounding::Down,
    )?;
    Ok(unavailable.min(replicas))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.to_owned())
    }

    fn canary(
        surge: Option<IntOrString>,
        unavail: Option<IntOrString>,
        replicas: i32,
    ) -> Fenceposts {
        Fenceposts::resolve_canary(surge.as_ref(), unavail.as_ref(), replicas).unwrap()
    }

    #[test]
    fn any_string_is_a_percentage() {
        assert_eq!(scaled_value(&s("5"), 100, Rounding::Up), Ok(5));
        assert_eq!(scaled_value(&s("5%"), 100, Rounding::Up), Ok(5));
        assert_eq!(scaled_value(&s("5"), 10, Rounding::Up), Ok(1));
        assert_eq!(scaled_value(&s("5"), 10, Rounding::Down), Ok(0));
    }

    #[test]
    fn ints_are_pod_counts() {
        assert_eq!(
            scaled_value(&IntOrString::Int(5), 10, Rounding::Down),
            Ok(5)
        );
        assert_eq!(scaled_value(&IntOrString::Int(50), 3, Rounding::Up), Ok(50));
    }

    #[test]
    fn every_percent_sign_is_stripped() {
        assert_eq!(scaled_value(&s("5%%"), 100, Rounding::Up), Ok(5));
        assert_eq!(scaled_value(&s("%5"), 100, Rounding::Up), Ok(5));
        assert_eq!(scaled_value(&s("1%0"), 100, Rounding::Up), Ok(10));
    }

    #[test]
    fn atoi_syntax_sign_allowed_no_spaces_or_fractions() {
        assert_eq!(scaled_value(&s("+20%"), 10, Rounding::Up), Ok(2));
        assert_eq!(scaled_value(&s("-20%"), 10, Rounding::Up), Ok(-2));
        for bad in ["", "%", "abc", " 5", "5 ", "2.5%", "0x10", "1_0", "+", "-"] {
            let err = scaled_value(&s(bad), 10, Rounding::Up).unwrap_err();
            assert!(
                matches!(err, IntOrStringError::InvalidValue { ref value, .. } if value == bad)
            );
        }
    }

    #[test]
    fn error_message_names_the_value() {
        let err = scaled_value(&s("abc"), 10, Rounding::Up).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid value for IntOrString: invalid value \"abc\"")
        );
    }

    #[test]
    fn surge_rounds_up_unavailable_rounds_down() {
        // 25% of 10 = 2.5
        assert_eq!(
            canary(None, None, 10),
            Fenceposts {
                max_surge: 3,
                max_unavailable: 2
            }
        );
    }

    #[test]
    fn defaults_are_25_percent() {
        assert_eq!(
            canary(None, None, 4),
            Fenceposts {
                max_surge: 1,
                max_unavailable: 1
            }
        );
        assert_eq!(
            canary(None, None, 100),
            Fenceposts {
                max_surge: 25,
                max_unavailable: 25
            }
        );
    }

    #[test]
    fn both_zero_makes_max_unavailable_one() {
        assert_eq!(
            canary(Some(s("0%")), Some(s("0%")), 10),
            Fenceposts {
                max_surge: 0,
                max_unavailable: 1
            }
        );
        // 1% of 10 rounds down to 0 for unavailable; surge 0 explicitly.
        assert_eq!(
            canary(Some(IntOrString::Int(0)), Some(s("1%")), 10),
            Fenceposts {
                max_surge: 0,
                max_unavailable: 1
            }
        );
    }

    #[test]
    fn unavailable_capped_at_replicas_surge_not() {
        assert_eq!(
            canary(Some(IntOrString::Int(7)), Some(IntOrString::Int(7)), 3),
            Fenceposts {
                max_surge: 7,
                max_unavailable: 3
            }
        );
    }

    #[test]
    fn zero_replicas_means_zero_unavailable() {
        assert_eq!(
            canary(Some(IntOrString::Int(1)), Some(IntOrString::Int(1)), 0),
            Fenceposts {
                max_surge: 1,
                max_unavailable: 0
            }
        );
        // With the defaults both round to 0: the "→ 1" rule is overridden by replicas == 0.
        assert_eq!(canary(None, None, 0), Fenceposts::default());
    }

    #[test]
    fn unparseable_string_is_an_error_and_argo_falls_back_to_zero() {
        let res = Fenceposts::resolve_canary(Some(&s("lots")), None, 10);
        assert!(res.is_err());
        assert_eq!(res.unwrap_or_default(), Fenceposts::default());
        assert!(Fenceposts::resolve_canary(None, Some(&s("x%")), 10).is_err());
    }

    #[test]
    fn blue_green_max_unavailable() {
        assert_eq!(resolve_blue_green_max_unavailable(None, 10), Ok(2));
        assert_eq!(resolve_blue_green_max_unavailable(Some(&s("0")), 10), Ok(0));
        assert_eq!(
            resolve_blue_green_max_unavailable(Some(&IntOrString::Int(20)), 10),
            Ok(10)
        );
        assert_eq!(
            resolve_blue_green_max_unavailable(Some(&s("bad")), 0),
            Ok(0)
        );
        assert!(resolve_blue_green_max_unavailable(Some(&s("bad")), 1).is_err());
    }

    #[test]
    fn huge_values_saturate_instead_of_overflowing() {
        assert_eq!(
            scaled_value(&s("9223372036854775807"), i32::MAX, Rounding::Up),
            Ok(i32::MAX)
        );
        assert_eq!(
            scaled_value(&s("-9223372036854775808"), i32::MAX, Rounding::Down),
            Ok(i32::MIN)
        );
        assert!(scaled_value(&s("9223372036854775808"), 1, Rounding::Up).is_err());
    }

    proptest! {
        // Regressions are not persisted: add a found case as a table test instead.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn resolving_never_panics(surge in ".{0,12}", unavail in ".{0,12}", replicas in any::<i32>()) {
            let _ = Fenceposts::resolve_canary(Some(&s(&surge)), Some(&s(&unavail)), replicas);
            let _ = resolve_blue_green_max_unavailable(Some(&s(&unavail)), replicas);
        }

        #[test]
        fn canary_fenceposts_are_sane(
            surge in 0i32..=200, unavail in 0i32..=200, replicas in 0i32..=10_000,
            surge_pct in any::<bool>(), unavail_pct in any::<bool>(),
        ) {
            let to = |v: i32, pct: bool| if pct { s(&format!("{v}%")) } else { IntOrString::Int(v) };
            let f = canary(Some(to(surge, surge_pct)), Some(to(unavail, unavail_pct)), replicas);
            prop_assert!(f.max_surge >= 0);
            prop_assert!(f.max_unavailable >= 0 && f.max_unavailable <= replicas);
            if replicas > 0 {
                prop_assert!(f.max_surge > 0 || f.max_unavailable > 0);
            }
        }
    }
}
