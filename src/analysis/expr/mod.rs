//! The condition language of `successCondition` / `failureCondition`: the expression language
//! of `github.com/antonmedv/expr` v1.15.5 with the environment Argo Rollouts v1.9.1 provides.
//!
//! Why our own implementation: the `expr-lang` crate implements the newer expr-lang/expr
//! dialect dynamically, while Argo's error messages — which users see as measurement messages
//! and which flow into Rollout abort messages — come from v1.15.5's *static type checker* and
//! Go's run-time panics (`invalid operation: < (mismatched types []float64 and float64)`,
//! `reflect: slice index out of range`, `expected bool, but got float64`). Reproducing those
//! needs Go's types (`int` vs `int64` vs `float64`, `[]float64` vs `[]interface {}`), so this
//! module is a faithful small port: lexer → parser → checker → evaluator.
//!
//! The environment, as in Argo's `utils/evaluate`:
//! - `result`: the provider's value (a Prometheus `float64` or `[]float64`, a web metric's JSON);
//! - `asInt(x)`, `asFloat(x)`: numbers or numeric strings to `int64` / `float64`;
//! - `isNaN(f)`, `isInf(f)`: on `float64`;
//! - `isNil(x)`, `default(x, d)`: these look at `result` whatever `x` is (Argo's closures).
//!
//! Supported: all operators (`+ - * / % ** ^`, comparisons, `== !=`, `and or not && || !`,
//! `in`, `not in`, `matches`, `contains`, `startsWith`, `endsWith`, `..`, `??`, `?:`, `?.`),
//! member access and indexing (negative indexes), slices, array and map literals, `let`,
//! pipes, closures with `#`, `#index` and `.field`, the predicates `all any none one filter map
//! count find findIndex findLast findLastIndex`, and the builtins `len type abs ceil floor round
//! int float string trim trimPrefix trimSuffix upper lower split replace repeat join indexOf
//! lastIndexOf hasPrefix hasSuffix max min sum mean median first last keys values now duration
//! date`. The remaining v1.15.5 builtins (`reduce`, `groupBy`, `sort`, `toJSON`, …) are
//! rejected with `builtin <name> is not supported` instead of being mis-evaluated.

mod check;
mod eval;
mod lex;
mod parse;
mod value;

use chrono::{DateTime, Utc};

use crate::crd::AnalysisPhase;

pub use value::{Elem, EnvFn, Value};

/// Evaluates one condition against a provider result (Argo's `EvalCondition`).
///
/// The error is the bare expr message, as Argo reports it: a compile error, a run-time panic
/// text, or `expected bool, but got <type>` when the condition does not yield a bool.
pub fn eval_condition(result: &Value, condition: &str) -> Result<bool, String> {
    eval_condition_at(result, condition, Utc::now())
}

/// [`eval_condition`] with the instant `now()` returns in the condition.
pub fn eval_condition_at(
    result: &Value,
    condition: &str,
    now: DateTime<Utc>,
) -> Result<bool, String> {
    let mut node = parse::parse(condition)?;
    check::Checker::new(Some(result.ty())).check(&mut node)?;
    check::fold(&mut node)?;
    match eval::Vm::new(Some(result), now).run(&node)? {
        Value::Bool(b) => Ok(b),
        other => Err(format!("expected bool, but got {}", other.type_name())),
    }
}

/// Judges a measured value by the metric's conditions (Argo's `EvaluateResult`).
///
/// An empty condition counts as unset. Both conditions are evaluated when set (success first;
/// an error stops at once). Then: neither set → Successful; only success set → Failed unless
/// it holds; only failure set → Successful unless it holds; failure holds → Failed (even if
/// success holds too); neither holds → Inconclusive; else Successful.
pub fn evaluate_result(
    result: &Value,
    success_condition: &str,
    failure_condition: &str,
) -> Result<AnalysisPhase, String> {
    let now = Utc::now();
    let success = if success_condition.is_empty() {
        false
    } else {
        eval_condition_at(result, success_condition, now)?
    };
    let failure = if failure_condition.is_empty() {
        false
    } else {
        eval_condition_at(result, failure_condition, now)?
    };
    let (success, failure) = match (success_condition.is_empty(), failure_condition.is_empty()) {
        (true, true) => return Ok(AnalysisPhase::Successful),
        (false, true) => (success, !success),
        (true, false) => (!failure, failure),
        (false, false) => (success, failure),
    };
    Ok(if failure {
        AnalysisPhase::Failed
    } else if !success {
        AnalysisPhase::Inconclusive
    } else {
        AnalysisPhase::Successful
    })
}

/// Evaluates a time expression such as a Prometheus `rangeQuery.start` (`now() -
/// duration("1h")`) (Argo's `EvalTime`: an environment with only `isNaN` and `isInf`).
pub fn eval_time(expression: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let mut node = parse::parse(expression)?;
    check::Checker::new(None).check(&mut node)?;
    check::fold(&mut node)?;
    match eval::Vm::new(None, now).run(&node)? {
        Value::Time(t) => Ok(t),
        other => Err(format!("expected time.Time, but got {}", other.type_name())),
    }
}

#[cfg(test)]
mod corpus;
