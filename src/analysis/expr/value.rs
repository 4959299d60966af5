//! Runtime values and static types of the condition language, modelled on the Go values and
//! `reflect.Type`s that antonmedv/expr sees.
//!
//! The Go type of a value is part of the observable behaviour: it decides what the type checker
//! accepts (`[]float64` can be indexed but not compared with `<`), how mixed arithmetic behaves
//! (`int + float64` is `float64`), and it is printed in error messages (`expected bool, but got
//! float64`, `invalid operation: < (mismatched types string and float64)`). So values keep the
//! distinctions Go makes — `int` vs `int64` vs `float64`, `[]float64` vs `[]interface {}` —
//! even where Rust would not need them.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// A value the condition language works on: a provider result or an intermediate value.
///
/// Build provider results with [`Value::from_json`] (web metrics, Go's `json.Unmarshal` into
/// `interface{}`), [`Value::Float`] (a Prometheus scalar) or [`Value::floats`] (a Prometheus
/// vector or matrix, Go's `[]float64`).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Go's untyped `nil` (also a JSON `null`).
    Nil,
    Bool(bool),
    /// Go `int`: integer literals and integer arithmetic.
    Int(i64),
    /// Go `int64`: what `asInt` returns.
    Int64(i64),
    /// Go `uint8`: a byte taken from a string by indexing.
    Uint8(u8),
    /// Go `float64`: JSON numbers, Prometheus samples, float literals.
    Float(f64),
    String(Arc<str>),
    /// A Go slice; `elem` is its static element type (`[]float64`, `[]interface {}`, `[]int`).
    Array(Arc<Vec<Value>>, Elem),
    /// Go `map[string]interface {}`: JSON objects and map literals.
    Map(Arc<BTreeMap<String, Value>>),
    /// Go `time.Time` (always UTC here).
    Time(DateTime<Utc>),
    /// Go `time.Duration`, in nanoseconds.
    Duration(i64),
    /// One of the functions of the environment, referenced without calling it.
    Func(EnvFn),
}

/// Element type of a slice value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    /// `[]interface {}`: JSON arrays and every array the language builds.
    Any,
    /// `[]float64`: Prometheus results.
    Float,
    /// `[]int`: the range operator `a..b`.
    Int,
    /// `[]string`: `split`.
    String,
}

impl Elem {
    pub(super) fn ty(self) -> Ty {
        match self {
            Elem::Any => Ty::Any,
            Elem::Float => Ty::Float,
            Elem::Int => Ty::Int,
            Elem::String => Ty::String,
        }
    }
}

/// The functions Argo puts into the environment next to `result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvFn {
    AsInt,
    AsFloat,
    IsNaN,
    IsInf,
    IsNil,
    Default,
}

impl EnvFn {
    pub(super) fn lookup(name: &str) -> Option<EnvFn> {
        Some(match name {
            "asInt" => EnvFn::AsInt,
            "asFloat" => EnvFn::AsFloat,
            "isNaN" => EnvFn::IsNaN,
            "isInf" => EnvFn::IsInf,
            "isNil" => EnvFn::IsNil,
            "default" => EnvFn::Default,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            EnvFn::AsInt => "asInt",
            EnvFn::AsFloat => "asFloat",
            EnvFn::IsNaN => "isNaN",
            EnvFn::IsInf => "isInf",
            EnvFn::IsNil => "isNil",
            EnvFn::Default => "default",
        }
    }

    /// The Go signature, as the type checker sees it.
    pub(super) fn sig(self) -> Sig {
        let (params, out) = match self {
            EnvFn::AsInt => (vec![Ty::Any], Ty::Int64),
            EnvFn::AsFloat => (vec![Ty::Any], Ty::Float),
            EnvFn::IsNaN | EnvFn::IsInf => (vec![Ty::Float], Ty::Bool),
            EnvFn::IsNil => (vec![Ty::Any], Ty::Bool),
            EnvFn::Default => (vec![Ty::Any, Ty::Any], Ty::Any),
        };
        Sig {
            params,
            variadic: false,
            outs: vec![out],
        }
    }
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A Go `[]float64`, as the Prometheus provider produces for vectors and matrices.
    pub fn floats(values: impl IntoIterator<Item = f64>) -> Value {
        Value::Array(
            Arc::new(values.into_iter().map(Value::Float).collect()),
            Elem::Float,
        )
    }

    /// A Go `[]interface {}`.
    pub fn array(values: Vec<Value>) -> Value {
        Value::Array(Arc::new(values), Elem::Any)
    }

    /// The value Go's `json.Unmarshal` into an `interface{}` gives: numbers become `float64`,
    /// arrays `[]interface {}`, objects `map[string]interface {}`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::array(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Map(Arc::new(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            )),
        }
    }

    /// Go's `isNil` as Argo defines it: nil itself (a nil slice or map is represented as
    /// [`Value::Nil`] too, since Argo dereferences results before evaluating).
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The static type the checker assigns to this value when it is bound to a name.
    pub(super) fn ty(&self) -> Ty {
        match self {
            Value::Nil => Ty::Nil,
            Value::Bool(_) => Ty::Bool,
            Value::Int(_) => Ty::Int,
            Value::Int64(_) => Ty::Int64,
            Value::Uint8(_) => Ty::Uint8,
            Value::Float(_) => Ty::Float,
            Value::String(_) => Ty::String,
            Value::Array(_, elem) => Ty::Slice(Box::new(elem.ty())),
            Value::Map(_) => Ty::map_any(),
            Value::Time(_) => Ty::Time,
            Value::Duration(_) => Ty::Duration,
            Value::Func(f) => Ty::Func(Box::new(f.sig())),
        }
    }

    /// Go's `%T` of the value.
    pub(super) fn type_name(&self) -> String {
        self.ty().to_string()
    }

    /// Go's `%v` of the value (`1e+06`, `[1 2]`, `map[a:1]`, `<nil>`).
    pub fn go_format(&self) -> String {
        let mut out = String::new();
        self.write_go(&mut out);
        out
    }

    fn write_go(&self, out: &mut String) {
        match self {
            Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Int(i) | Value::Int64(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Uint8(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Float(f) => out.push_str(&format_g(*f)),
            Value::String(s) => out.push_str(s),
            Value::Array(items, _) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.write_go(out);
                }
                out.push(']');
            }
            Value::Map(map) => {
                out.push_str("map[");
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go(out);
                }
                out.push(']');
            }
            Value::Time(t) => {
                let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S"));
                let nanos = t.timestamp_subsec_nanos();
                if nanos != 0 {
                    let digits = format!("{nanos:09}");
                    let _ = write!(out, ".{}", digits.trim_end_matches('0'));
                }
                out.push_str(" +0000 UTC");
            }
            Value::Duration(nanos) => out.push_str(&format_duration(*nanos)),
            Value::Func(_) => out.push_str("0x0"),
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, i.e. `%v` of a `float64`: the shortest digits
/// that round-trip, in exponent form when the decimal exponent is below -4 or at least 6.
pub(super) fn format_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // `{:e}` gives the shortest round-tripping digits as `d.ddddde±x`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("a decimal exponent");
    // Go's shortest 'g' decides with a precision of 6: `1e+06`, but `999999`.
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `150ms`, `0s`.
pub(super) fn format_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if u < 1_000_000_000 {
        // Sub-second: the largest unit that keeps the integer part non-zero.
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&trim_fraction(u, div));
        out.push_str(unit);
        return out;
    }
    let hours = u / 3_600_000_000_000;
    let minutes = (u / 60_000_000_000) % 60;
    let rest = u % 60_000_000_000;
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    out.push_str(&trim_fraction(rest, 1_000_000_000));
    out.push('s');
    out
}

/// `value / div` with its decimal fraction, trailing zeros dropped.
fn trim_fraction(value: u64, div: u64) -> String {
    let int = value / div;
    let frac = value % div;
    if frac == 0 {
        return int.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// A static (compile-time) type: the subset of Go's `reflect.Type` the language can meet.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Ty {
    /// The type of `nil` (`reflect.TypeOf(nil)`), printed `<nil>`.
    Nil,
    /// `interface {}`: statically unknown.
    Any,
    Bool,
    Int,
    Int64,
    Uint8,
    Float,
    String,
    Time,
    Duration,
    /// Go's `error`, only ever a second function result.
    Error,
    Slice(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    Func(Box<Sig>),
}

/// A Go function signature.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Sig {
    pub params: Vec<Ty>,
    /// The last parameter is `...T`, stored as `[]T`.
    pub variadic: bool,
    pub outs: Vec<Ty>,
}

impl Sig {
    pub(super) fn new(params: Vec<Ty>, out: Ty) -> Sig {
        Sig {
            params,
            variadic: false,
            outs: vec![out],
        }
    }
}

impl Ty {
    pub(super) fn map_any() -> Ty {
        Ty::Map(Box::new(Ty::String), Box::new(Ty::Any))
    }

    pub(super) fn slice_any() -> Ty {
        Ty::Slice(Box::new(Ty::Any))
    }

    /// `func(...interface {}) (interface {}, error)`: how the checker types a builtin used as
    /// a value.
    pub(super) fn function() -> Ty {
        Ty::Func(Box::new(Sig {
            params: vec![Ty::slice_any()],
            variadic: true,
            outs: vec![Ty::Any, Ty::Error],
        }))
    }

    pub(super) fn is_any(&self) -> bool {
        matches!(self, Ty::Any)
    }

    /// Go's checker decides by `reflect.Kind`, and `time.Duration` has kind `int64`: it counts
    /// as an integer there (`duration("1h") > duration("5m")` type-checks).
    pub(super) fn is_integer(&self) -> bool {
        matches!(self, Ty::Int | Ty::Int64 | Ty::Uint8 | Ty::Duration)
    }

    pub(super) fn is_float(&self) -> bool {
        matches!(self, Ty::Float)
    }

    pub(super) fn is_number(&self) -> bool {
        self.is_integer() || self.is_float()
    }

    pub(super) fn is_bool(&self) -> bool {
        matches!(self, Ty::Bool)
    }

    pub(super) fn is_string(&self) -> bool {
        matches!(self, Ty::String)
    }

    pub(super) fn is_array(&self) -> bool {
        matches!(self, Ty::Slice(_))
    }

    pub(super) fn is_map(&self) -> bool {
        matches!(self, Ty::Map(..))
    }

    pub(super) fn is_time(&self) -> bool {
        matches!(self, Ty::Time)
    }

    pub(super) fn is_duration(&self) -> bool {
        matches!(self, Ty::Duration)
    }

    /// Element type of a slice, value type of a map.
    pub(super) fn elem(&self) -> Ty {
        match self {
            Ty::Slice(e) | Ty::Map(_, e) => (**e).clone(),
            _ => Ty::Any,
        }
    }

    /// Go's `reflect.Kind` equality, which is what several checks compare (`Duration` has kind
    /// `Int64`, so it compares equal to `int64` there).
    pub(super) fn same_kind(&self, other: &Ty) -> bool {
        use std::mem::discriminant;
        let norm = |t: &Ty| match t {
            Ty::Duration => Ty::Int64,
            Ty::Error => Ty::Any,
            other => other.clone(),
        };
        discriminant(&norm(self)) == discriminant(&norm(other))
    }

    /// Go's `AssignableTo`: identical types, or anything into `interface {}`.
    pub(super) fn assignable_to(&self, target: &Ty) -> bool {
        target.is_any() || self == target
    }
}

/// Go's `isComparable` from the checker: same kind, two numbers, or an unknown side.
pub(super) fn is_comparable(l: &Ty, r: &Ty) -> bool {
    matches!(l, Ty::Nil)
        || matches!(r, Ty::Nil)
        || l.same_kind(r)
        || (l.is_number() && r.is_number())
        || l.is_any()
        || r.is_any()
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Nil => f.write_str("<nil>"),
            Ty::Any => f.write_str("interface {}"),
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Int64 => f.write_str("int64"),
            Ty::Uint8 => f.write_str("uint8"),
            Ty::Float => f.write_str("float64"),
            Ty::String => f.write_str("string"),
            Ty::Time => f.write_str("time.Time"),
            Ty::Duration => f.write_str("time.Duration"),
            Ty::Error => f.write_str("error"),
            Ty::Slice(e) => write!(f, "[]{e}"),
            Ty::Map(k, v) => write!(f, "map[{k}]{v}"),
            Ty::Func(sig) => {
                f.write_str("func(")?;
                for (i, p) in sig.params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if sig.variadic && i + 1 == sig.params.len() {
                        write!(f, "...{}", p.elem())?;
                    } else {
                        write!(f, "{p}")?;
                    }
                }
                f.write_str(")")?;
                match sig.outs.as_slice() {
                    [] => Ok(()),
                    [one] => write!(f, " {one}"),
                    many => {
                        f.write_str(" (")?;
                        for (i, o) in many.iter().enumerate() {
                            if i > 0 {
                                f.write_str(", ")?;
                            }
                            write!(f, "{o}")?;
                        }
                        f.write_str(")")
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_type_names() {
        assert_eq!(Value::floats([1.0]).type_name(), "[]float64");
        assert_eq!(Value::array(vec![]).type_name(), "[]interface {}");
        assert_eq!(
            Value::from_json(&serde_json::json!({"a": 1})).type_name(),
            "map[string]interface {}"
        );
        assert_eq!(Value::Nil.type_name(), "<nil>");
        assert_eq!(
            Value::Func(EnvFn::Default).type_name(),
            "func(interface {}, interface {}) interface {}"
        );
        assert_eq!(
            Ty::function().to_string(),
            "func(...interface {}) (interface {}, error)"
        );
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(format_g(1.5), "1.5");
        assert_eq!(format_g(100000.0), "100000");
        assert_eq!(format_g(1e21), "1e+21");
        assert_eq!(format_g(1e6), "1e+06");
        assert_eq!(format_g(1234567.0), "1.234567e+06");
        assert_eq!(format_g(123456.7), "123456.7");
        assert_eq!(format_g(0.0001), "0.0001");
        assert_eq!(format_g(0.00001), "1e-05");
        assert_eq!(format_g(f64::INFINITY), "+Inf");
        assert_eq!(
            Value::from_json(&serde_json::json!([1, "a", null])).go_format(),
            "[1 a <nil>]"
        );
    }

    #[test]
    fn go_duration_formatting() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(format_duration(90_500_000_000), "1m30.5s");
        assert_eq!(format_duration(1_500_000), "1.5ms");
        assert_eq!(format_duration(-2_000_000_000), "-2s");
    }
}
