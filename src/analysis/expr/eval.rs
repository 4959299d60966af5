//! Tree-walking evaluator with the run-time semantics of expr v1.15.5's VM.
//!
//! Where Go's VM panics (a failed type assertion, an index out of range, a function that panics),
//! evaluation stops with an error carrying Go's panic text, which is what Argo reports as the
//! measurement message.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::check::regex_error;
use super::parse::{Binary, Node};
use super::value::{Elem, EnvFn, Value};

/// Why evaluation stopped.
enum Stop {
    Error(String),
    /// A `?.` link was nil: the enclosing chain evaluates to nil.
    NilChain,
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Error(message)
    }
}

type EResult<T> = Result<T, Stop>;

fn fail<T>(message: impl Into<String>) -> EResult<T> {
    Err(Stop::Error(message.into()))
}

/// What a predicate iterates: Go's `reflect.Value` of the collection.
#[derive(Clone)]
enum Items {
    Array(Arc<Vec<Value>>),
    /// A map can be iterated (its length is known) but its elements cannot be taken: Go's
    /// `reflect.Value.Index` panics on a map, but only if the closure uses `#`.
    Map(usize),
}

impl Items {
    fn len(&self) -> usize {
        match self {
            Items::Array(items) => items.len(),
            Items::Map(n) => *n,
        }
    }

    fn get(&self, i: usize) -> EResult<Value> {
        match self {
            Items::Array(items) => items
                .get(i)
                .cloned()
                .ok_or_else(|| Stop::Error("reflect: slice index out of range".into())),
            Items::Map(_) => fail("reflect: call of reflect.Value.Index on map Value"),
        }
    }
}

struct Scope {
    items: Items,
    index: usize,
    acc: Value,
}

pub(super) struct Vm<'a> {
    /// `None` for `rangeQuery` time expressions, whose environment has no `result`.
    result: Option<&'a Value>,
    now: DateTime<Utc>,
    vars: Vec<(&'a str, Value)>,
    scopes: Vec<Scope>,
}

impl<'a> Vm<'a> {
    pub(super) fn new(result: Option<&'a Value>, now: DateTime<Utc>) -> Vm<'a> {
        Vm {
            result,
            now,
            vars: Vec::new(),
            scopes: Vec::new(),
        }
    }

    pub(super) fn run(&mut self, node: &'a Node) -> Result<Value, String> {
        match self.eval(node) {
            Ok(v) => Ok(v),
            Err(Stop::NilChain) => Ok(Value::Nil),
            Err(Stop::Error(e)) => Err(e),
        }
    }

    fn eval(&mut self, node: &'a Node) -> EResult<Value> {
        Ok(match node {
            Node::Nil => Value::Nil,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::Int(*i),
            Node::Float(f) => Value::Float(*f),
            Node::Str(s) => Value::string(s.as_str()),
            Node::Ident(name) => self.identifier(name)?,
            Node::Pointer(name) => self.pointer(name)?,
            Node::Unary(op, inner) => {
                let v = self.eval(inner)?;
                match *op {
                    "!" | "not" => Value::Bool(!assert_bool(&v)?),
                    "-" => negate(&v)?,
                    _ => v,
                }
            }
            Node::Binary(b) => self.binary(b)?,
            Node::Chain(inner) => match self.eval(inner) {
                Err(Stop::NilChain) => Value::Nil,
                other => other?,
            },
            Node::Member {
                node,
                prop,
                optional,
            } => {
                let base = self.eval(node)?;
                if *optional && base.is_nil() {
                    return Err(Stop::NilChain);
                }
                let key = self.eval(prop)?;
                fetch(&base, &key)?
            }
            Node::Slice { node, from, to } => {
                let base = self.eval(node)?;
                let to = match to {
                    Some(to) => self.eval(to)?,
                    None => Value::Int(len(&base)?),
                };
                let from = match from {
                    Some(from) => self.eval(from)?,
                    None => Value::Int(0),
                };
                slice(&base, &from, &to)?
            }
            Node::Call { callee, args } => {
                let args = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<EResult<Vec<_>>>()?;
                let f = self.eval(callee)?;
                match f {
                    Value::Func(f) => self.call_env(f, &args)?,
                    Value::Nil => return fail("reflect: call of reflect.Value.Call on zero Value"),
                    other => {
                        return fail(format!(
                            "reflect: call of reflect.Value.Call on {} Value",
                            kind_name(&other)
                        ));
                    }
                }
            }
            Node::Builtin { name, args } => self.builtin(name, args)?,
            Node::Closure(inner) => self.eval(inner)?,
            Node::Let { name, value, body } => {
                let v = self.eval(value)?;
                self.vars.push((name.as_str(), v));
                let out = self.eval(body);
                self.vars.pop();
                out?
            }
            Node::Conditional(parts) => {
                let [cond, a, b] = &**parts;
                if assert_bool(&self.eval(cond)?)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Node::Array(items) => Value::array(
                items
                    .iter()
                    .map(|i| self.eval(i))
                    .collect::<EResult<Vec<_>>>()?,
            ),
            Node::Map(pairs) => {
                let mut map = BTreeMap::new();
                for (k, v) in pairs {
                    let key = self.eval(k)?;
                    let value = self.eval(v)?;
                    let Value::String(key) = key else {
                        return fail(format!(
                            "interface conversion: interface {{}} is {}, not string",
                            key.type_name()
                        ));
                    };
                    map.insert(key.to_string(), value);
                }
                Value::Map(Arc::new(map))
            }
        })
    }

    fn identifier(&self, name: &str) -> EResult<Value> {
        if let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| *n == name) {
            return Ok(v.clone());
        }
        if name == "$env" {
            let mut env = BTreeMap::new();
            if let Some(result) = self.result {
                env.insert("result".to_string(), result.clone());
            }
            for f in [
                EnvFn::AsInt,
                EnvFn::AsFloat,
                EnvFn::IsNaN,
                EnvFn::IsInf,
                EnvFn::IsNil,
                EnvFn::Default,
            ] {
                if self.result.is_some() || matches!(f, EnvFn::IsNaN | EnvFn::IsInf) {
                    env.insert(f.name().to_string(), Value::Func(f));
                }
            }
            return Ok(Value::Map(Arc::new(env)));
        }
        if let Some(result) = self.result {
            if name == "result" {
                return Ok(result.clone());
            }
            if let Some(f) = EnvFn::lookup(name) {
                return Ok(Value::Func(f));
            }
        } else if let Some(f @ (EnvFn::IsNaN | EnvFn::IsInf)) = EnvFn::lookup(name) {
            return Ok(Value::Func(f));
        }
        fail(format!("unknown name {name}"))
    }

    fn pointer(&self, name: &str) -> EResult<Value> {
        let Some(scope) = self.scopes.last() else {
            return fail("cannot use pointer accessor outside closure");
        };
        match name {
            "" => scope.items.get(scope.index),
            "index" => Ok(Value::Int(scope.index as i64)),
            "acc" => Ok(scope.acc.clone()),
            other => fail(format!("unknown pointer #{other}")),
        }
    }

    fn binary(&mut self, b: &'a Binary) -> EResult<Value> {
        let op = b.op.as_str();
        match op {
            "or" | "||" => {
                let l = self.eval(&b.left)?;
                if assert_bool(&l)? {
                    return Ok(l);
                }
                return self.eval(&b.right);
            }
            "and" | "&&" => {
                let l = self.eval(&b.left)?;
                if !assert_bool(&l)? {
                    return Ok(l);
                }
                return self.eval(&b.right);
            }
            "??" => {
                let l = self.eval(&b.left)?;
                if !l.is_nil() {
                    return Ok(l);
                }
                return self.eval(&b.right);
            }
            _ => {}
        }
        let l = self.eval(&b.left)?;
        let r = self.eval(&b.right)?;
        Ok(match op {
            "==" => Value::Bool(equal(&l, &r)),
            "!=" => Value::Bool(!equal(&l, &r)),
            "<" | ">" | "<=" | ">=" => Value::Bool(compare(op, &l, &r)?),
            "+" => add(&l, &r)?,
            "-" => subtract(&l, &r)?,
            "*" => multiply(&l, &r)?,
            "/" => {
                let (x, y) = to_f64_for(&l, &r, "/")?;
                Value::Float(x / y)
            }
            "%" => modulo(&l, &r)?,
            "**" | "^" => Value::Float(to_float(&l)?.powf(to_float(&r)?)),
            "in" => Value::Bool(if b.string_set {
                in_string_set(&l, &r)?
            } else {
                contains(&l, &r)?
            }),
            "matches" => {
                let (s, pattern) = (assert_string(&l)?, assert_string(&r)?);
                let re = regex::Regex::new(pattern).map_err(|e| regex_error(pattern, &e))?;
                Value::Bool(re.is_match(s))
            }
            "contains" => Value::Bool(assert_string(&l)?.contains(assert_string(&r)?)),
            "startsWith" => Value::Bool(assert_string(&l)?.starts_with(assert_string(&r)?)),
            "endsWith" => Value::Bool(assert_string(&l)?.ends_with(assert_string(&r)?)),
            ".." => {
                let (from, to) = (to_int(&l)?, to_int(&r)?);
                if to.saturating_sub(from) >= 1_000_000 {
                    return fail("memory budget exceeded");
                }
                Value::Array(Arc::new((from..=to).map(Value::Int).collect()), Elem::Int)
            }
            _ => return fail(format!("unknown operator ({op})")),
        })
    }

    fn call_env(&self, f: EnvFn, args: &[Value]) -> EResult<Value> {
        let arg = |i: usize| args.get(i).unwrap_or(&Value::Nil);
        Ok(match f {
            EnvFn::AsInt => Value::Int64(as_int(arg(0))?),
            EnvFn::AsFloat => Value::Float(as_float(arg(0))?),
            EnvFn::IsNaN => Value::Bool(assert_float(arg(0))?.is_nan()),
            EnvFn::IsInf => Value::Bool(assert_float(arg(0))?.is_infinite()),
            // Argo's isNil and default look at the provider result, whatever they are passed.
            EnvFn::IsNil => Value::Bool(self.result.is_none_or(Value::is_nil)),
            EnvFn::Default => match self.result {
                Some(result) if !result.is_nil() => result.clone(),
                _ => arg(1).clone(),
            },
        })
    }

    /// Runs a closure once per element of `collection`, calling `each` with the element index
    /// and the closure's value; `each` returns `false` to stop early.
    fn each(
        &mut self,
        collection: &Value,
        closure: &'a Node,
        mut each: impl FnMut(usize, Value) -> EResult<bool>,
        backwards: bool,
    ) -> EResult<()> {
        let items = begin(collection)?;
        let n = items.len();
        self.scopes.push(Scope {
            items,
            index: 0,
            acc: Value::Nil,
        });
        let mut run = || -> EResult<()> {
            for k in 0..n {
                let i = if backwards { n - 1 - k } else { k };
                self.scopes.last_mut().expect("scope pushed").index = i;
                let v = self.eval(closure)?;
                if !each(i, v)? {
                    break;
                }
            }
            Ok(())
        };
        let out = run();
        self.scopes.pop();
        out
    }

    fn builtin(&mut self, name: &str, args: &'a [Node]) -> EResult<Value> {
        if let [collection, closure, ..] = args
            && matches!(
                name,
                "all"
                    | "none"
                    | "any"
                    | "one"
                    | "filter"
                    | "map"
                    | "count"
                    | "find"
                    | "findIndex"
                    | "findLast"
                    | "findLastIndex"
            )
        {
            let collection = self.eval(collection)?;
            return self.predicate(name, &collection, closure);
        }
        if let ("reduce", [collection, closure, init @ ..]) = (name, args) {
            let collection = self.eval(collection)?;
            return self.reduce(&collection, closure, init.first());
        }
        let values = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<EResult<Vec<_>>>()?;
        builtin_call(name, &values, self.now)
    }

    fn predicate(&mut self, name: &str, collection: &Value, closure: &'a Node) -> EResult<Value> {
        match name {
            "all" | "none" | "any" => {
                let mut out = name != "any";
                self.each(
                    collection,
                    closure,
                    |_, v| {
                        let b = assert_bool(&v)?;
                        let stop = match name {
                            "all" => !b,
                            "none" => b,
                            _ => b,
                        };
                        if stop {
                            out = name == "any";
                        }
                        Ok(!stop)
                    },
                    false,
                )?;
                Ok(Value::Bool(out))
            }
            "one" | "count" => {
                let mut count = 0;
                self.each(
                    collection,
                    closure,
                    |_, v| {
                        if assert_bool(&v)? {
                            count += 1;
                        }
                        Ok(true)
                    },
                    false,
                )?;
                Ok(if name == "one" {
                    Value::Bool(count == 1)
                } else {
                    Value::Int(count)
                })
            }
            "filter" | "map" => {
                let items = begin(collection)?;
                let mut out = Vec::new();
                self.each(
                    collection,
                    closure,
                    |i, v| {
                        if name == "map" {
                            out.push(v);
                        } else if assert_bool(&v)? {
                            out.push(items.get(i)?);
                        }
                        Ok(true)
                    },
                    false,
                )?;
                Ok(Value::array(out))
            }
            _ => {
                // find, findIndex, findLast, findLastIndex
                let items = begin(collection)?;
                let mut found = None;
                self.each(
                    collection,
                    closure,
                    |i, v| {
                        if assert_bool(&v)? {
                            found = Some(i);
                            return Ok(false);
                        }
                        Ok(true)
                    },
                    name.starts_with("findLast"),
                )?;
                Ok(match (found, name.ends_with("Index")) {
                    (None, _) => Value::Nil,
                    (Some(i), true) => Value::Int(i as i64),
                    (Some(i), false) => items.get(i)?,
                })
            }
        }
    }

    /// `reduce(collection, closure[, initial])`: `#acc` starts at `initial`, or at the first
    /// element (then the loop starts at the second).
    fn reduce(
        &mut self,
        collection: &Value,
        closure: &'a Node,
        init: Option<&'a Node>,
    ) -> EResult<Value> {
        let items = begin(collection)?;
        let (acc, start) = match init {
            Some(init) => (self.eval(init)?, 0),
            None => (items.get(0)?, 1),
        };
        self.scopes.push(Scope {
            items: items.clone(),
            index: start,
            acc,
        });
        let mut run = || -> EResult<Value> {
            for i in start..items.len() {
                self.scopes.last_mut().expect("scope pushed").index = i;
                let acc = self.eval(closure)?;
                self.scopes.last_mut().expect("scope pushed").acc = acc;
            }
            Ok(self.scopes.last().expect("scope pushed").acc.clone())
        };
        let out = run();
        self.scopes.pop();
        out
    }
}

/// The elements a predicate iterates (Go's `OpBegin` on `reflect.ValueOf(collection)`).
fn begin(collection: &Value) -> EResult<Items> {
    match collection {
        Value::Array(items, _) => Ok(Items::Array(items.clone())),
        Value::String(s) => Ok(Items::Array(Arc::new(
            s.bytes().map(Value::Uint8).collect(),
        ))),
        Value::Nil => fail("reflect: call of reflect.Value.Len on zero Value"),
        Value::Map(m) => Ok(Items::Map(m.len())),
        other => fail(format!(
            "reflect: call of reflect.Value.Len on {} Value",
            kind_name(other)
        )),
    }
}

/// Go's `reflect.Kind` name of a value, as reflect's panics print it.
fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "zero",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Int64(_) | Value::Duration(_) => "int64",
        Value::Uint8(_) => "uint8",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::Array(..) => "slice",
        Value::Map(_) => "map",
        Value::Time(_) => "struct",
        Value::Func(_) => "func",
    }
}

/// A failed Go type assertion `v.(bool)`.
fn assert_bool(v: &Value) -> EResult<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => fail(conversion_error(other, "bool")),
    }
}

fn assert_string(v: &Value) -> EResult<&str> {
    match v {
        Value::String(s) => Ok(s),
        other => fail(conversion_error(other, "string")),
    }
}

fn assert_float(v: &Value) -> EResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        other => fail(conversion_error(other, "float64")),
    }
}

fn conversion_error(v: &Value, want: &str) -> String {
    let have = match v {
        Value::Nil => "nil".to_string(),
        other => other.type_name(),
    };
    format!("interface conversion: interface {{}} is {have}, not {want}")
}

/// A number as Go's generated operators see it.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

fn num(v: &Value) -> Option<Num> {
    match v {
        Value::Int(i) | Value::Int64(i) => Some(Num::Int(*i)),
        Value::Uint8(b) => Some(Num::Int(i64::from(*b))),
        Value::Float(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

/// Go's `runtime.Equal`: numbers by value across types, then deep equality.
pub(super) fn equal(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return match (x, y) {
            (Num::Int(x), Num::Int(y)) => x == y,
            (x, y) => as_f64(x) == as_f64(y),
        };
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::Duration(x), Value::Duration(y)) => x == y,
        _ => (a.is_nil() && b.is_nil()) || deep_equal(a, b),
    }
}

/// Go's `reflect.DeepEqual` on the values (types must match exactly).
fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Uint8(x), Value::Uint8(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x, ex), Value::Array(y, ey)) => {
            ex == ey && x.len() == y.len() && x.iter().zip(y.iter()).all(|(x, y)| deep_equal(x, y))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::Duration(x), Value::Duration(y)) => x == y,
        _ => false,
    }
}

/// Go's `runtime.Less` and friends.
fn compare(op: &str, a: &Value, b: &Value) -> EResult<bool> {
    use std::cmp::Ordering;
    let ord = if let (Some(x), Some(y)) = (num(a), num(b)) {
        match (x, y) {
            (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
            (x, y) => as_f64(x).partial_cmp(&as_f64(y)),
        }
    } else {
        match (a, b) {
            (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
            (Value::Time(x), Value::Time(y)) => Some(x.cmp(y)),
            (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
            _ => {
                return fail(format!(
                    "invalid operation: {} {op} {}",
                    a.type_name(),
                    b.type_name()
                ));
            }
        }
    };
    // A comparison with NaN is false for every operator, as in Go.
    Ok(match (op, ord) {
        (_, None) => false,
        ("<", Some(o)) => o == Ordering::Less,
        (">", Some(o)) => o == Ordering::Greater,
        ("<=", Some(o)) => o != Ordering::Greater,
        (_, Some(o)) => o != Ordering::Less,
    })
}

fn mismatch<T>(a: &Value, op: &str, b: &Value) -> EResult<T> {
    fail(format!(
        "invalid operation: {} {op} {}",
        a.type_name(),
        b.type_name()
    ))
}

fn arith(
    a: &Value,
    b: &Value,
    op: &str,
    int: fn(i64, i64) -> i64,
    float: fn(f64, f64) -> f64,
) -> EResult<Value> {
    match (num(a), num(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => Ok(Value::Int(int(x, y))),
        (Some(x), Some(y)) => Ok(Value::Float(float(as_f64(x), as_f64(y)))),
        _ => mismatch(a, op, b),
    }
}

fn add(a: &Value, b: &Value) -> EResult<Value> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(Value::string(format!("{x}{y}"))),
        (Value::Time(t), Value::Duration(d)) | (Value::Duration(d), Value::Time(t)) => {
            Ok(Value::Time(*t + chrono::Duration::nanoseconds(*d)))
        }
        (Value::Duration(x), Value::Duration(y)) => Ok(Value::Duration(x.wrapping_add(*y))),
        _ => arith(a, b, "+", i64::wrapping_add, |x, y| x + y),
    }
}

fn subtract(a: &Value, b: &Value) -> EResult<Value> {
    match (a, b) {
        (Value::Time(x), Value::Time(y)) => Ok(Value::Duration(
            (*x - *y).num_nanoseconds().unwrap_or(i64::MAX),
        )),
        (Value::Time(t), Value::Duration(d)) => {
            Ok(Value::Time(*t - chrono::Duration::nanoseconds(*d)))
        }
        (Value::Duration(x), Value::Duration(y)) => Ok(Value::Duration(x.wrapping_sub(*y))),
        _ => arith(a, b, "-", i64::wrapping_sub, |x, y| x - y),
    }
}

fn multiply(a: &Value, b: &Value) -> EResult<Value> {
    match (a, b) {
        (Value::Duration(d), other) | (other, Value::Duration(d)) => match num(other) {
            Some(Num::Int(i)) => Ok(Value::Duration(d.wrapping_mul(i))),
            Some(Num::Float(f)) => Ok(Value::Float(*d as f64 * f)),
            None => match other {
                Value::Duration(e) => Ok(Value::Duration(d.wrapping_mul(*e))),
                _ => mismatch(a, "*", b),
            },
        },
        _ => arith(a, b, "*", i64::wrapping_mul, |x, y| x * y),
    }
}

/// Both operands of `/` as floats (Go's `Divide` always yields float64).
fn to_f64_for(a: &Value, b: &Value, op: &str) -> EResult<(f64, f64)> {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => Ok((as_f64(x), as_f64(y))),
        _ => mismatch(a, op, b),
    }
}

fn modulo(a: &Value, b: &Value) -> EResult<Value> {
    match (num(a), num(b)) {
        (Some(Num::Int(_)), Some(Num::Int(0))) => fail("runtime error: integer divide by zero"),
        (Some(Num::Int(x)), Some(Num::Int(y))) => Ok(Value::Int(x.wrapping_rem(y))),
        _ => mismatch(a, "%", b),
    }
}

fn negate(v: &Value) -> EResult<Value> {
    match v {
        Value::Int(i) => Ok(Value::Int(i.wrapping_neg())),
        Value::Int64(i) => Ok(Value::Int64(i.wrapping_neg())),
        Value::Uint8(b) => Ok(Value::Uint8(b.wrapping_neg())),
        Value::Float(f) => Ok(Value::Float(-f)),
        other => fail(format!("invalid operation: - {}", other.type_name())),
    }
}

/// Go's `runtime.ToInt`.
fn to_int(v: &Value) -> EResult<i64> {
    match num(v) {
        Some(Num::Int(i)) => Ok(i),
        Some(Num::Float(f)) => Ok(go_float_to_int(f)),
        None => fail(format!("invalid operation: int({})", v.type_name())),
    }
}

/// Go's `runtime.ToFloat64`.
fn to_float(v: &Value) -> EResult<f64> {
    match num(v) {
        Some(n) => Ok(as_f64(n)),
        None => fail(format!("invalid operation: float({})", v.type_name())),
    }
}

/// Go's `int64(f)` on amd64: truncation, with NaN and out-of-range values giving the minimum.
fn go_float_to_int(f: f64) -> i64 {
    if f.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// Go's `runtime.Fetch`: element of a slice or string, value of a map.
fn fetch(from: &Value, key: &Value) -> EResult<Value> {
    match from {
        Value::Array(items, _) => {
            let i = index(to_int(key)?, items.len());
            match i {
                Some(i) => Ok(items[i].clone()),
                None => fail("reflect: slice index out of range"),
            }
        }
        Value::String(s) => {
            let i = index(to_int(key)?, s.len());
            match i {
                Some(i) => Ok(Value::Uint8(s.as_bytes()[i])),
                None => fail("reflect: string index out of range"),
            }
        }
        Value::Map(map) => match key {
            Value::String(k) => Ok(map.get(&**k).cloned().unwrap_or(Value::Nil)),
            Value::Nil => Ok(map.get("").cloned().unwrap_or(Value::Nil)),
            other => fail(format!(
                "reflect.Value.MapIndex: value of type {} is not assignable to type string",
                other.type_name()
            )),
        },
        _ => fail(format!(
            "cannot fetch {} from {}",
            key.go_format(),
            from.type_name()
        )),
    }
}

/// A Go index with negative values counting from the end; `None` when out of range.
fn index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn len(v: &Value) -> EResult<i64> {
    match v {
        Value::Array(items, _) => Ok(items.len() as i64),
        Value::Map(m) => Ok(m.len() as i64),
        Value::String(s) => Ok(s.len() as i64),
        other => fail(format!(
            "invalid argument for len (type {})",
            other.type_name()
        )),
    }
}

/// Go's `runtime.Slice`, with its clamping of out-of-range bounds.
fn slice(base: &Value, from: &Value, to: &Value) -> EResult<Value> {
    let length = match base {
        Value::Array(items, _) => items.len(),
        Value::String(s) => s.len(),
        _ => return fail(format!("cannot slice {}", from.go_format())),
    } as i64;
    let (mut a, mut b) = (to_int(from)?, to_int(to)?);
    if a < 0 {
        a += length;
    }
    a = a.max(0);
    if b < 0 {
        b += length;
    }
    b = b.clamp(0, length);
    a = a.min(b);
    let (a, b) = (a as usize, b as usize);
    Ok(match base {
        Value::Array(items, elem) => Value::Array(Arc::new(items[a..b].to_vec()), *elem),
        Value::String(s) => Value::string(String::from_utf8_lossy(&s.as_bytes()[a..b]).as_ref()),
        _ => unreachable!("checked above"),
    })
}

/// Go's `runtime.In`.
fn contains(needle: &Value, haystack: &Value) -> EResult<bool> {
    match haystack {
        Value::Nil => Ok(false),
        Value::Array(items, _) => Ok(items.iter().any(|item| equal(item, needle))),
        Value::Map(map) => match needle {
            Value::String(k) => Ok(map.contains_key(&**k)),
            Value::Nil => Ok(map.contains_key("")),
            other => fail(format!(
                "reflect.Value.MapIndex: value of type {} is not assignable to type string",
                other.type_name()
            )),
        },
        other => fail(format!(
            "operator \"in\" not defined on {}",
            other.type_name()
        )),
    }
}

/// `x in ["a", "b"]` after Go's optimizer made the list a `map[string]struct{}`.
fn in_string_set(needle: &Value, haystack: &Value) -> EResult<bool> {
    let Value::Array(items, _) = haystack else {
        return contains(needle, haystack);
    };
    let key = match needle {
        Value::String(s) => &**s,
        Value::Nil => "",
        other => {
            return fail(format!(
                "reflect.Value.MapIndex: value of type {} is not assignable to type string",
                other.type_name()
            ));
        }
    };
    Ok(items
        .iter()
        .any(|i| matches!(i, Value::String(s) if &**s == key)))
}

/// Argo's `asInt`.
fn as_int(v: &Value) -> EResult<i64> {
    match v {
        Value::Float(f) => Ok(go_float_to_int(*f)),
        Value::Int(i) | Value::Int64(i) => Ok(*i),
        Value::Uint8(b) => Ok(i64::from(*b)),
        Value::String(s) => parse_int(s).map_err(Stop::Error),
        other => fail(format!(
            "asInt() not supported on {} {}",
            other.type_name(),
            other.go_format()
        )),
    }
}

/// Argo's `asFloat`.
fn as_float(v: &Value) -> EResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) | Value::Int64(i) => Ok(*i as f64),
        Value::Uint8(b) => Ok(f64::from(*b)),
        Value::String(s) => parse_float(s).map_err(Stop::Error),
        other => fail(format!(
            "asFloat() not supported on {} {}",
            other.type_name(),
            other.go_format()
        )),
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)` with its error texts.
fn parse_int(s: &str) -> Result<i64, String> {
    let err = |reason: &str| {
        format!(
            "strconv.ParseInt: parsing {}: {reason}",
            crate::validation::go_quote(s)
        )
    };
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("invalid syntax"));
    }
    s.parse::<i64>().map_err(|_| err("value out of range"))
}

/// Go's `strconv.ParseFloat(s, 64)` with its error texts.
fn parse_float(s: &str) -> Result<f64, String> {
    let err = |reason: &str| {
        format!(
            "strconv.ParseFloat: parsing {}: {reason}",
            crate::validation::go_quote(s)
        )
    };
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    let plain = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !special && !plain {
        return Err(err("invalid syntax"));
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_infinite() && !special => Err(err("value out of range")),
        Ok(f) => Ok(f),
        Err(_) => Err(err("invalid syntax")),
    }
}

/// Builtins other than the predicates.
fn builtin_call(name: &str, args: &[Value], now: DateTime<Utc>) -> EResult<Value> {
    let a0 = args.first().unwrap_or(&Value::Nil);
    let str_arg = |i: usize| -> EResult<&str> { assert_string(args.get(i).unwrap_or(&Value::Nil)) };
    Ok(match name {
        "len" => Value::Int(len(a0)?),
        "type" => Value::string(match a0 {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Int64(_) => "int",
            Value::Uint8(_) => "uint",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Array(..) => "array",
            Value::Map(_) => "map",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
            Value::Func(_) => "func",
        }),
        "abs" => match a0 {
            Value::Int(i) => Value::Int(i.wrapping_abs()),
            Value::Int64(i) => Value::Int64(i.wrapping_abs()),
            Value::Float(f) => Value::Float(if *f < 0.0 { -f } else { *f }),
            Value::Uint8(_) => a0.clone(),
            other => {
                return fail(format!(
                    "invalid argument for abs (type {})",
                    other.type_name()
                ));
            }
        },
        "ceil" | "floor" | "round" => match num(a0) {
            Some(Num::Float(f)) => Value::Float(match name {
                "ceil" => f.ceil(),
                "floor" => f.floor(),
                _ => f.round(),
            }),
            Some(Num::Int(i)) => Value::Float(i as f64),
            None => {
                return fail(format!(
                    "invalid argument for {name} (type {})",
                    a0.type_name()
                ));
            }
        },
        "int" => match a0 {
            Value::String(s) => match s.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => return fail(format!("invalid operation: int({s})")),
            },
            other => Value::Int(to_int(other)?),
        },
        "float" => match a0 {
            Value::String(s) => match s.parse::<f64>() {
                Ok(f) => Value::Float(f),
                Err(_) => return fail(format!("invalid operation: float({s})")),
            },
            other => Value::Float(to_float(other)?),
        },
        "string" => Value::string(a0.go_format()),
        "upper" => Value::string(str_arg(0)?.to_uppercase()),
        "lower" => Value::string(str_arg(0)?.to_lowercase()),
        "trim" => match args.get(1) {
            None => Value::string(str_arg(0)?.trim()),
            Some(_) => {
                let cut = str_arg(1)?;
                Value::string(str_arg(0)?.trim_matches(|c| cut.contains(c)))
            }
        },
        "trimPrefix" | "trimSuffix" => {
            let s = str_arg(0)?;
            let affix = if args.len() == 2 { str_arg(1)? } else { " " };
            let out = if name == "trimPrefix" {
                s.strip_prefix(affix)
            } else {
                s.strip_suffix(affix)
            };
            Value::string(out.unwrap_or(s))
        }
        "split" => {
            let (s, sep) = (str_arg(0)?, str_arg(1)?);
            let parts: Vec<Value> = match args.get(2) {
                Some(n) if to_int(n)? >= 0 => s
                    .splitn(to_int(n)? as usize, sep)
                    .map(Value::string)
                    .collect(),
                _ if sep.is_empty() => s.chars().map(|c| Value::string(c.to_string())).collect(),
                _ => s.split(sep).map(Value::string).collect(),
            };
            Value::Array(Arc::new(parts), Elem::String)
        }
        "replace" => {
            let (s, old, new) = (str_arg(0)?, str_arg(1)?, str_arg(2)?);
            match args.get(3) {
                Some(n) if to_int(n)? >= 0 => {
                    Value::string(s.replacen(old, new, to_int(n)? as usize))
                }
                _ => Value::string(s.replace(old, new)),
            }
        }
        "repeat" => {
            let n = to_int(args.get(1).unwrap_or(&Value::Nil))?;
            if n > 1_000_000 {
                return fail("memory budget exceeded");
            }
            Value::string(str_arg(0)?.repeat(n.max(0) as usize))
        }
        "join" => {
            let glue = if args.len() == 2 { str_arg(1)? } else { "" };
            let Value::Array(items, _) = a0 else {
                return fail(format!(
                    "invalid argument for join (type {})",
                    a0.type_name()
                ));
            };
            let parts = items
                .iter()
                .map(|i| assert_string(i).map(str::to_string))
                .collect::<EResult<Vec<_>>>()?;
            Value::string(parts.join(glue))
        }
        "indexOf" => Value::Int(str_arg(0)?.find(str_arg(1)?).map_or(-1, |i| i as i64)),
        "lastIndexOf" => Value::Int(str_arg(0)?.rfind(str_arg(1)?).map_or(-1, |i| i as i64)),
        "hasPrefix" => Value::Bool(str_arg(0)?.starts_with(str_arg(1)?)),
        "hasSuffix" => Value::Bool(str_arg(0)?.ends_with(str_arg(1)?)),
        "max" | "min" => {
            // Go: `if best == nil || Less(best, arg)` (More for min).
            let mut best = Value::Nil;
            for v in args {
                let better =
                    best.is_nil() || compare(if name == "max" { "<" } else { ">" }, &best, v)?;
                if better {
                    best = v.clone();
                }
            }
            best
        }
        "sort" => sort(a0, args.get(1))?,
        "sum" | "mean" | "median" => {
            let Value::Array(items, _) = a0 else {
                return fail(format!("cannot {name} {}", kind_name(a0)));
            };
            let mut floats = Vec::with_capacity(items.len());
            let mut int_sum: i64 = 0;
            let mut all_int = true;
            for item in items.iter() {
                match num(item) {
                    Some(Num::Int(i)) => {
                        int_sum = int_sum.wrapping_add(i);
                        floats.push(i as f64);
                    }
                    Some(Num::Float(f)) => {
                        all_int = false;
                        floats.push(f);
                    }
                    None => return fail(format!("cannot {name} {}", kind_name(item))),
                }
            }
            match name {
                "sum" if all_int => Value::Int(int_sum),
                "sum" => Value::Float(floats.iter().sum()),
                _ if floats.is_empty() => Value::Float(0.0),
                "mean" => Value::Float(floats.iter().sum::<f64>() / floats.len() as f64),
                _ => {
                    floats.sort_by(f64::total_cmp);
                    let n = floats.len();
                    Value::Float(if n % 2 == 0 {
                        (floats[n / 2 - 1] + floats[n / 2]) / 2.0
                    } else {
                        floats[n / 2]
                    })
                }
            }
        }
        "first" | "last" => match a0 {
            Value::Array(items, _) => {
                let item = if name == "first" {
                    items.first()
                } else {
                    items.last()
                };
                item.cloned().unwrap_or(Value::Nil)
            }
            _ => Value::Nil,
        },
        "keys" | "values" => match a0 {
            Value::Map(m) => Value::array(if name == "keys" {
                m.keys().map(|k| Value::string(k.as_str())).collect()
            } else {
                m.values().cloned().collect()
            }),
            other => {
                return fail(format!("cannot get {name} from {}", other.type_name()));
            }
        },
        "now" => Value::Time(now),
        "duration" => Value::Duration(crate::validation::parse_go_duration(str_arg(0)?)?),
        "date" => Value::Time(parse_date(
            str_arg(0)?,
            args.get(1).map(assert_string).transpose()?,
            args.get(2).map(assert_string).transpose()?,
        )?),
        other => return fail(format!("builtin {other} is not supported")),
    })
}

/// expr's `date(s[, layout[, timezone]])`. Go layouts are translated to chrono formats for the
/// common elements; only the `UTC` zone is known.
fn parse_date(s: &str, layout: Option<&str>, zone: Option<&str>) -> Result<DateTime<Utc>, String> {
    if let Some(zone) = zone
        && zone != "UTC"
        && !zone.is_empty()
    {
        return Err(format!("unknown time zone {zone}"));
    }
    let Some(layout) = layout else {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t.with_timezone(&Utc));
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
            return Ok(Utc.from_utc_datetime(&t));
        }
        if let Ok(t) = NaiveTime::parse_from_str(s, "%H:%M:%S") {
            let day = NaiveDate::from_ymd_opt(0, 1, 1).expect("a valid date");
            return Ok(Utc.from_utc_datetime(&day.and_time(t)));
        }
        return Err(format!("invalid date {s}"));
    };
    let format = go_layout_to_chrono(layout);
    let err = || {
        format!(
            "parsing time {} as {}: cannot parse",
            crate::validation::go_quote(s),
            crate::validation::go_quote(layout)
        )
    };
    if format.contains("%z") || format.contains("%:z") {
        return DateTime::parse_from_str(s, &format)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| err());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, &format) {
        return Ok(Utc.from_utc_datetime(&t));
    }
    NaiveDate::parse_from_str(s, &format)
        .map(|d| Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)))
        .map_err(|_| err())
}

/// Translates the reference-time elements of a Go layout into chrono specifiers.
fn go_layout_to_chrono(layout: &str) -> String {
    const ELEMENTS: &[(&str, &str)] = &[
        ("2006", "%Y"),
        ("Z07:00", "%:z"),
        ("-07:00", "%:z"),
        ("-0700", "%z"),
        ("January", "%B"),
        ("Monday", "%A"),
        ("Jan", "%b"),
        ("Mon", "%a"),
        ("MST", "UTC"),
        (".000000000", "%.9f"),
        (".000000", "%.6f"),
        (".000", "%.3f"),
        ("01", "%m"),
        ("02", "%d"),
        ("15", "%H"),
        ("03", "%I"),
        ("04", "%M"),
        ("05", "%S"),
        ("PM", "%p"),
        ("06", "%y"),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (go, chrono) in ELEMENTS {
            if let Some(tail) = rest.strip_prefix(go) {
                out.push_str(chrono);
                rest = tail;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("non-empty");
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// expr's `sort(array[, "asc" | "desc"])` on numbers or strings of one type.
fn sort(array: &Value, dir: Option<&Value>) -> EResult<Value> {
    let Value::Array(items, _) = array else {
        return fail(format!("cannot sort {}", kind_name(array)));
    };
    let desc = match dir {
        None => false,
        Some(Value::String(s)) if &**s == "desc" => true,
        Some(Value::String(s)) if &**s == "asc" => false,
        Some(Value::String(s)) => {
            return fail(format!(
                "invalid argument for sort (expected \"asc\" or \"desc\", got {})",
                crate::validation::go_quote(s)
            ));
        }
        Some(other) => {
            return fail(format!(
                "invalid argument for sort (expected string, got {})",
                other.type_name()
            ));
        }
    };
    let mut sorted: Vec<Value> = items.to_vec();
    if let Some(first) = sorted.first() {
        let ty = first.type_name();
        if let Some(other) = sorted.iter().find(|v| v.type_name() != ty) {
            return fail(format!(
                "cannot sort array of different types ({} and {ty})",
                other.type_name()
            ));
        }
        if num(first).is_none() && !matches!(first, Value::String(_)) {
            return fail(format!("sort: unsupported type {}", kind_name(first)));
        }
    }
    sorted.sort_by(|a, b| {
        let ord = match (num(a), num(b), a, b) {
            (Some(x), Some(y), ..) => as_f64(x).total_cmp(&as_f64(y)),
            (_, _, Value::String(x), Value::String(y)) => x.cmp(y),
            _ => std::cmp::Ordering::Equal,
        };
        if desc { ord.reverse() } else { ord }
    });
    Ok(Value::array(sorted))
}
