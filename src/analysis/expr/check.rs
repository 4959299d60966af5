//! Static type checker, a port of expr v1.15.5's `checker` with the environment Argo builds.
//!
//! Go's expr type-checks a program against the types of the environment values before running
//! it, so many mistakes are compile errors with their own texts (`invalid operation: <
//! (mismatched types []float64 and float64)`). The checker also rewrites integer literals passed
//! to `float64` parameters into floats (`isNaN(1)`), as Go's does.

use super::parse::{Binary, Node};
use super::value::{EnvFn, Sig, Ty, is_comparable};

/// Extra facts about a checked node.
#[derive(Clone, Debug, Default)]
struct Info {
    /// The node names a builtin function.
    builtin: bool,
    /// For array literals whose elements all have one kind: that element type.
    elem: Option<Ty>,
}

struct PredicateScope {
    collection: Ty,
    vars: Vec<(&'static str, Ty)>,
}

pub(super) struct Checker {
    /// Type of `result` (Go: the type of the dereferenced provider value); `None` for the
    /// environment of `rangeQuery` time expressions, which has only `isNaN` and `isInf`.
    result: Option<Ty>,
    predicate_scopes: Vec<PredicateScope>,
    var_scopes: Vec<(String, Ty, Info)>,
}

type CResult<T> = Result<T, String>;

/// Builtins this implementation evaluates; the others exist in Go's expr but are rejected
/// here with a clear message rather than mis-evaluated.
const SUPPORTED_BUILTINS: &[&str] = &[
    "all",
    "none",
    "any",
    "one",
    "filter",
    "map",
    "count",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "len",
    "type",
    "abs",
    "ceil",
    "floor",
    "round",
    "int",
    "float",
    "string",
    "trim",
    "trimPrefix",
    "trimSuffix",
    "upper",
    "lower",
    "split",
    "replace",
    "repeat",
    "join",
    "indexOf",
    "lastIndexOf",
    "hasPrefix",
    "hasSuffix",
    "max",
    "min",
    "sum",
    "mean",
    "median",
    "now",
    "duration",
    "date",
    "first",
    "last",
    "keys",
    "values",
    "sort",
];

pub(super) fn is_supported_builtin(name: &str) -> bool {
    SUPPORTED_BUILTINS.contains(&name)
}

impl Checker {
    pub(super) fn new(result: Option<Ty>) -> Checker {
        Checker {
            result,
            predicate_scopes: Vec::new(),
            var_scopes: Vec::new(),
        }
    }

    pub(super) fn check(&mut self, node: &mut Node) -> CResult<Ty> {
        self.visit(node).map(|(t, _)| t)
    }

    fn visit(&mut self, node: &mut Node) -> CResult<(Ty, Info)> {
        let plain = |t: Ty| Ok((t, Info::default()));
        match node {
            Node::Nil => plain(Ty::Nil),
            Node::Bool(_) => plain(Ty::Bool),
            Node::Int(_) => plain(Ty::Int),
            Node::Float(_) => plain(Ty::Float),
            Node::Str(_) => plain(Ty::String),
            Node::Ident(name) => self.identifier(name),
            Node::Pointer(name) => self.pointer(name).map(|t| (t, Info::default())),
            Node::Unary(op, inner) => {
                let (t, _) = self.visit(inner)?;
                match *op {
                    "!" | "not" if t.is_bool() || t.is_any() => plain(Ty::Bool),
                    "+" | "-" if t.is_number() => plain(t),
                    "+" | "-" if t.is_any() => plain(Ty::Any),
                    _ => Err(format!("invalid operation: {op} (mismatched type {t})")),
                }
            }
            Node::Binary(b) => self.binary(b).map(|t| (t, Info::default())),
            Node::Chain(inner) => self.visit(inner),
            Node::Member { node, prop, .. } => {
                self.member(node, prop).map(|t| (t, Info::default()))
            }
            Node::Slice { node, from, to } => {
                let (t, _) = self.visit(node)?;
                if !(t.is_any() || t.is_string() || t.is_array()) {
                    return Err(format!("cannot slice {t}"));
                }
                for index in [from, to].into_iter().flatten() {
                    let (i, _) = self.visit(index)?;
                    if !i.is_integer() && !i.is_any() {
                        return Err(format!("non-integer slice index {i}"));
                    }
                }
                plain(t)
            }
            Node::Call { callee, args } => self.call(callee, args).map(|t| (t, Info::default())),
            Node::Builtin { name, args } => self.builtin(name, args).map(|t| (t, Info::default())),
            Node::Closure(inner) => {
                let (t, _) = self.visit(inner)?;
                if t == Ty::Nil {
                    return Err("closure cannot be nil".into());
                }
                plain(Ty::Func(Box::new(Sig::new(vec![Ty::Any], t))))
            }
            Node::Let { name, value, body } => {
                if (self.result.is_some() && name == "result") || EnvFn::lookup(name).is_some() {
                    return Err(format!("cannot redeclare {name}"));
                }
                if super::parse::BUILTINS.contains(&name.as_str()) {
                    return Err(format!("cannot redeclare builtin {name}"));
                }
                if self.var_scopes.iter().any(|(n, ..)| n == name) {
                    return Err(format!("cannot redeclare variable {name}"));
                }
                let (t, info) = self.visit(value)?;
                self.var_scopes.push((name.clone(), t, info));
                let out = self.visit(body);
                self.var_scopes.pop();
                out
            }
            Node::Conditional(parts) => {
                let [cond, a, b] = &mut **parts;
                let (c, _) = self.visit(cond)?;
                if !c.is_bool() && !c.is_any() {
                    return Err(format!("non-bool expression (type {c}) used as condition"));
                }
                let (t1, _) = self.visit(a)?;
                let (t2, _) = self.visit(b)?;
                plain(match (t1, t2) {
                    (Ty::Nil, Ty::Nil) => Ty::Nil,
                    (Ty::Nil, t) | (t, Ty::Nil) => t,
                    (t1, t2) if t1.assignable_to(&t2) => t1,
                    _ => Ty::Any,
                })
            }
            Node::Array(items) => {
                let mut prev: Option<Ty> = None;
                let mut same = true;
                for (i, item) in items.iter_mut().enumerate() {
                    let (t, _) = self.visit(item)?;
                    if i > 0 {
                        match &prev {
                            Some(p) if *p != Ty::Nil && t != Ty::Nil && p.same_kind(&t) => {}
                            _ => same = false,
                        }
                    }
                    prev = Some(t);
                }
                let elem = prev.filter(|p| same && *p != Ty::Nil);
                Ok((
                    Ty::slice_any(),
                    Info {
                        builtin: false,
                        elem,
                    },
                ))
            }
            Node::Map(pairs) => {
                for (k, v) in pairs {
                    self.visit(k)?;
                    self.visit(v)?;
                }
                plain(Ty::map_any())
            }
        }
    }

    fn identifier(&mut self, name: &str) -> CResult<(Ty, Info)> {
        if let Some((_, t, info)) = self.var_scopes.iter().rev().find(|(n, ..)| n == name) {
            return Ok((t.clone(), info.clone()));
        }
        if name == "$env" {
            return Ok((Ty::map_any(), Info::default()));
        }
        if super::parse::BUILTINS.contains(&name) {
            return Ok((
                Ty::function(),
                Info {
                    builtin: true,
                    elem: None,
                },
            ));
        }
        let env_fn = EnvFn::lookup(name)
            .filter(|f| self.result.is_some() || matches!(f, EnvFn::IsNaN | EnvFn::IsInf));
        if let (Some(result), "result") = (&self.result, name) {
            return Ok((result.clone(), Info::default()));
        }
        if let Some(f) = env_fn {
            return Ok((Ty::Func(Box::new(f.sig())), Info::default()));
        }
        Err(format!("unknown name {name}"))
    }

    fn pointer(&self, name: &str) -> CResult<Ty> {
        let Some(scope) = self.predicate_scopes.last() else {
            return Err("cannot use pointer accessor outside closure".into());
        };
        if name.is_empty() {
            return match &scope.collection {
                Ty::Any => Ok(Ty::Any),
                Ty::Slice(e) => Ok((**e).clone()),
                other => Err(format!("cannot use {{{other} map[]}} as array")),
            };
        }
        scope
            .vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| format!("unknown pointer #{name}"))
    }

    fn binary(&mut self, b: &mut Binary) -> CResult<Ty> {
        let (l, _) = self.visit(&mut b.left)?;
        let (r, right_info) = self.visit(&mut b.right)?;
        let op = b.op.as_str();
        // Go's `or(l, r, preds...)`: both unknown, or one unknown and the other matching.
        let or = |preds: &[fn(&Ty) -> bool]| {
            let any_of = |t: &Ty| preds.iter().any(|p| p(t));
            (l.is_any() && r.is_any()) || (l.is_any() && any_of(&r)) || (r.is_any() && any_of(&l))
        };
        let ok = match op {
            "==" | "!=" => is_comparable(&l, &r).then_some(Ty::Bool),
            "or" | "||" | "and" | "&&" => {
                ((l.is_bool() && r.is_bool()) || or(&[Ty::is_bool])).then_some(Ty::Bool)
            }
            "<" | ">" | ">=" | "<=" => ((l.is_number() && r.is_number())
                || (l.is_string() && r.is_string())
                || (l.is_time() && r.is_time())
                || or(&[Ty::is_number, Ty::is_string, Ty::is_time]))
            .then_some(Ty::Bool),
            "-" => {
                if l.is_number() && r.is_number() {
                    Some(combined(&l, &r))
                } else if l.is_time() && r.is_time() {
                    Some(Ty::Duration)
                } else if l.is_time() && r.is_duration() {
                    Some(Ty::Time)
                } else {
                    or(&[Ty::is_number, Ty::is_time]).then_some(Ty::Any)
                }
            }
            "*" => {
                if l.is_number() && r.is_number() {
                    Some(combined(&l, &r))
                } else {
                    or(&[Ty::is_number]).then_some(Ty::Any)
                }
            }
            "/" | "**" | "^" => {
                ((l.is_number() && r.is_number()) || or(&[Ty::is_number])).then_some(Ty::Float)
            }
            "%" => {
                if l.is_integer() && r.is_integer() {
                    Some(combined(&l, &r))
                } else {
                    or(&[Ty::is_integer]).then_some(Ty::Any)
                }
            }
            "+" => {
                if l.is_number() && r.is_number() {
                    Some(combined(&l, &r))
                } else if l.is_string() && r.is_string() {
                    Some(Ty::String)
                } else if (l.is_time() && r.is_duration()) || (l.is_duration() && r.is_time()) {
                    Some(Ty::Time)
                } else {
                    or(&[Ty::is_number, Ty::is_string, Ty::is_time, Ty::is_duration])
                        .then_some(Ty::Any)
                }
            }
            "in" => {
                if r.is_map() {
                    if l != Ty::Nil && !l.is_any() && !l.assignable_to(&Ty::String) {
                        return Err(format!("cannot use {l} as type string in map key"));
                    }
                    Some(Ty::Bool)
                } else if r.is_array() {
                    // Go's optimizer turns a literal list of strings into a set lookup.
                    if let Node::Array(items) = &b.right
                        && !items.is_empty()
                        && items.iter().all(|i| matches!(i, Node::Str(_)))
                    {
                        b.string_set = true;
                    }
                    if l != Ty::Nil {
                        if !is_comparable(&l, &r.elem()) {
                            return Err(format!("cannot use {l} as type {} in array", r.elem()));
                        }
                        if let Some(elem) = &right_info.elem
                            && !is_comparable(&l, elem)
                        {
                            return Err(format!("cannot use {l} as type {elem} in array"));
                        }
                    }
                    Some(Ty::Bool)
                } else if (l.is_any() && (r.is_string() || r.is_array() || r.is_map()))
                    || r.is_any()
                {
                    Some(Ty::Bool)
                } else {
                    None
                }
            }
            "matches" => {
                if let Node::Str(pattern) = &b.right
                    && let Err(e) = regex::Regex::new(pattern)
                {
                    return Err(regex_error(pattern, &e));
                }
                ((l.is_string() && r.is_string()) || or(&[Ty::is_string])).then_some(Ty::Bool)
            }
            "contains" | "startsWith" | "endsWith" => {
                ((l.is_string() && r.is_string()) || or(&[Ty::is_string])).then_some(Ty::Bool)
            }
            ".." => ((l.is_integer() && r.is_integer()) || or(&[Ty::is_integer]))
                .then(|| Ty::Slice(Box::new(Ty::Int))),
            "??" => Some(match (&l, &r) {
                (Ty::Nil, Ty::Nil) => Ty::Nil,
                (Ty::Nil, t) | (t, Ty::Nil) => t.clone(),
                (l, r) if r.assignable_to(l) => l.clone(),
                _ => Ty::Any,
            }),
            _ => return Err(format!("unknown operator ({op})")),
        };
        ok.ok_or_else(|| format!("invalid operation: {op} (mismatched types {l} and {r})"))
    }

    fn member(&mut self, node: &mut Node, prop: &mut Node) -> CResult<Ty> {
        let (base, _) = self.visit(node)?;
        let (p, _) = self.visit(prop)?;
        // `$env.name` is the environment entry itself, typed like the bare name.
        if matches!(node, Node::Ident(n) if n == "$env") {
            return match prop {
                Node::Str(name) => self.identifier(name).map(|(t, _)| t),
                _ => Ok(Ty::Any),
            };
        }
        if let Node::Str(name) = prop
            && base == Ty::Nil
        {
            return Err(format!("type <nil> has no field {name}"));
        }
        match &base {
            Ty::Any => Ok(Ty::Any),
            Ty::Map(key, elem) => {
                if p != Ty::Nil && !p.assignable_to(key) && !p.is_any() {
                    return Err(format!("cannot use {p} to get an element from {base}"));
                }
                Ok((**elem).clone())
            }
            Ty::Slice(elem) => {
                if !p.is_integer() && !p.is_any() {
                    return Err(format!(
                        "array elements can only be selected using an integer (got {p})"
                    ));
                }
                Ok((**elem).clone())
            }
            _ => Err(format!("type {base}[{p}] is undefined")),
        }
    }

    fn call(&mut self, callee: &mut Node, args: &mut [Node]) -> CResult<Ty> {
        let (f, info) = self.visit(callee)?;
        let name = match callee {
            Node::Ident(name) => name.clone(),
            Node::Member { prop, .. } => match &**prop {
                Node::Str(name) => name.clone(),
                _ => "function".into(),
            },
            _ => "function".into(),
        };
        if info.builtin {
            return Err(format!("builtin {name} is not supported in this position"));
        }
        match f {
            Ty::Nil => Err(format!("{name} is nil; cannot call nil as function")),
            Ty::Any => {
                for arg in args.iter_mut() {
                    self.visit(arg)?;
                }
                Ok(Ty::Any)
            }
            Ty::Func(sig) => self.check_arguments(&name, &sig, args),
            other => Err(format!("{other} is not callable")),
        }
    }

    /// Go's `checkArguments`: arity, then each argument against its parameter.
    fn check_arguments(&mut self, name: &str, sig: &Sig, args: &mut [Node]) -> CResult<Ty> {
        if sig.outs.is_empty() {
            return Err(format!("func {name} doesn't return value"));
        }
        let n = sig.params.len();
        if sig.variadic {
            if args.len() < n - 1 {
                return Err(format!("not enough arguments to call {name}"));
            }
        } else if args.len() > n {
            return Err(format!("too many arguments to call {name}"));
        } else if args.len() < n {
            return Err(format!("not enough arguments to call {name}"));
        }
        for (i, arg) in args.iter_mut().enumerate() {
            let (t, _) = self.visit(arg)?;
            let param = if sig.variadic && i + 1 >= n {
                sig.params[n - 1].elem()
            } else {
                sig.params[i].clone()
            };
            if param.is_float() && t.is_integer() {
                integer_literals_to_float(arg);
                continue;
            }
            if param.is_integer() && t.is_integer() {
                continue;
            }
            if t == Ty::Nil {
                continue;
            }
            if !t.assignable_to(&param) && !t.is_any() {
                return Err(format!(
                    "cannot use {t} as argument (type {param}) to call {name} "
                ));
            }
        }
        Ok(sig.outs[0].clone())
    }

    /// Go's `checkFunction` over a list of overloads: the first that fits, else the last error.
    fn overloads(&mut self, name: &str, sigs: &[Sig], args: &mut [Node]) -> CResult<Ty> {
        let mut last = None;
        for sig in sigs {
            match self.check_arguments(name, sig, args) {
                Ok(t) => return Ok(t),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| format!("no matching overload for {name}")))
    }

    fn arg_types(&mut self, args: &mut [Node]) -> CResult<Vec<Ty>> {
        args.iter_mut()
            .map(|a| self.visit(a).map(|(t, _)| t))
            .collect()
    }

    fn builtin(&mut self, name: &str, args: &mut [Node]) -> CResult<Ty> {
        match name {
            "all" | "none" | "any" | "one" | "filter" | "map" | "count" | "find" | "findLast"
            | "findIndex" | "findLastIndex" | "groupBy" | "reduce" => {
                return self.predicate(name, args);
            }
            _ => {}
        }
        if !is_supported_builtin(name) {
            return Err(format!("builtin {name} is not supported"));
        }
        let s = Sig::new;
        let t = |t: Ty| Ty::Slice(Box::new(t));
        let numeric_kind = |t: &Ty| t.is_number() || t.is_any();
        match name {
            "len" | "abs" | "ceil" | "floor" | "round" | "int" | "float" | "first" | "last"
            | "sum" | "mean" | "median" | "keys" | "values" => {
                let types = self.arg_types(args)?;
                if types.len() != 1 {
                    return Err(format!(
                        "invalid number of arguments (expected 1, got {})",
                        types.len()
                    ));
                }
                let a = &types[0];
                let a_s = go_s(a);
                match name {
                    "len" if a.is_array() || a.is_map() || a.is_string() || a.is_any() => {
                        Ok(Ty::Int)
                    }
                    "abs" if numeric_kind(a) => Ok(a.clone()),
                    "ceil" | "floor" | "round" if numeric_kind(a) => Ok(Ty::Float),
                    "int" if numeric_kind(a) || a.is_string() => Ok(Ty::Int),
                    "float" if numeric_kind(a) || a.is_string() => Ok(Ty::Float),
                    "first" | "last" if a.is_any() => Ok(Ty::Any),
                    "first" | "last" if a.is_array() => Ok(a.elem()),
                    "sum" if a.is_any() || a.is_array() => Ok(Ty::Any),
                    "mean" | "median" if a.is_any() || a.is_array() => Ok(Ty::Float),
                    "keys" | "values" if a.is_any() || a.is_map() => Ok(Ty::slice_any()),
                    "len" | "abs" | "int" | "float" => {
                        Err(format!("invalid argument for {name} (type {a_s})"))
                    }
                    "ceil" | "floor" => Err(format!("invalid argument for {name} (type {a_s})")),
                    // Go's message for round says floor.
                    "round" => Err(format!("invalid argument for floor (type {a_s})")),
                    "first" => Err(format!("cannot get first element from {a_s}")),
                    "last" => Err(format!("cannot get last element from {a_s}")),
                    "sum" => Err(format!("cannot sum {a_s}")),
                    "mean" => Err(format!("cannot avg {a_s}")),
                    "median" => Err(format!("cannot median {a_s}")),
                    _ => Err(format!("cannot get {name} from {a_s}")),
                }
            }
            "max" | "min" => {
                let types = self.arg_types(args)?;
                if types.is_empty() {
                    return Err(format!("not enough arguments to call {name}"));
                }
                for a in &types {
                    if a.is_any() {
                        return Ok(Ty::Any);
                    }
                    if !a.is_number() {
                        return Err(format!("invalid argument for {name} (type {})", go_s(a)));
                    }
                }
                Ok(types[0].clone())
            }
            "sort" => {
                let types = self.arg_types(args)?;
                if types.len() != 1 && types.len() != 2 {
                    return Err(format!(
                        "invalid number of arguments (expected 1 or 2, got {})",
                        types.len()
                    ));
                }
                if !types[0].is_any() && !types[0].is_array() {
                    return Err(format!("cannot sort {}", go_s(&types[0])));
                }
                if let Some(dir) = types.get(1)
                    && !dir.is_string()
                    && !dir.is_any()
                {
                    return Err(format!(
                        "invalid argument for sort (expected string, got {})",
                        go_s(dir)
                    ));
                }
                Ok(Ty::slice_any())
            }
            "type" | "string" => self.overloads(name, &[s(vec![Ty::Any], Ty::String)], args),
            "upper" | "lower" => self.overloads(name, &[s(vec![Ty::String], Ty::String)], args),
            "trim" => self.overloads(
                name,
                &[
                    s(vec![Ty::String], Ty::String),
                    s(vec![Ty::String, Ty::String], Ty::String),
                ],
                args,
            ),
            "trimPrefix" | "trimSuffix" => self.overloads(
                name,
                &[
                    s(vec![Ty::String, Ty::String], Ty::String),
                    s(vec![Ty::String], Ty::String),
                ],
                args,
            ),
            "split" => self.overloads(
                name,
                &[
                    s(vec![Ty::String, Ty::String], t(Ty::String)),
                    s(vec![Ty::String, Ty::String, Ty::Int], t(Ty::String)),
                ],
                args,
            ),
            "replace" => self.overloads(
                name,
                &[
                    s(
                        vec![Ty::String, Ty::String, Ty::String, Ty::Int],
                        Ty::String,
                    ),
                    s(vec![Ty::String, Ty::String, Ty::String], Ty::String),
                ],
                args,
            ),
            "repeat" => self.overloads(name, &[s(vec![Ty::String, Ty::Int], Ty::String)], args),
            "join" => self.overloads(
                name,
                &[
                    s(vec![t(Ty::String), Ty::String], Ty::String),
                    s(vec![Ty::slice_any(), Ty::String], Ty::String),
                    s(vec![Ty::slice_any()], Ty::String),
                    s(vec![t(Ty::String), Ty::String], Ty::String),
                    s(vec![t(Ty::String)], Ty::String),
                ],
                args,
            ),
            "indexOf" | "lastIndexOf" => {
                self.overloads(name, &[s(vec![Ty::String, Ty::String], Ty::Int)], args)
            }
            "hasPrefix" | "hasSuffix" => {
                self.overloads(name, &[s(vec![Ty::String, Ty::String], Ty::Bool)], args)
            }
            "now" => self.overloads(name, &[s(vec![], Ty::Time)], args),
            "duration" => self.overloads(
                name,
                &[Sig {
                    params: vec![Ty::String],
                    variadic: false,
                    outs: vec![Ty::Duration, Ty::Error],
                }],
                args,
            ),
            "date" => self.overloads(
                name,
                &[
                    s(vec![Ty::String], Ty::Time),
                    s(vec![Ty::String, Ty::String], Ty::Time),
                    s(vec![Ty::String, Ty::String, Ty::String], Ty::Time),
                ],
                args,
            ),
            _ => Err(format!("builtin {name} is not supported")),
        }
    }

    fn predicate(&mut self, name: &str, args: &mut [Node]) -> CResult<Ty> {
        let (first, rest) = args
            .split_first_mut()
            .expect("predicates have two arguments");
        let (collection, _) = self.visit(first)?;
        if !collection.is_array() && !collection.is_any() {
            return Err(format!(
                "builtin {name} takes only array (got {collection})"
            ));
        }
        let vars = match name {
            "map" => vec![("index", Ty::Int)],
            "reduce" => vec![("index", Ty::Int), ("acc", Ty::Any)],
            _ => vec![],
        };
        self.predicate_scopes.push(PredicateScope {
            collection: collection.clone(),
            vars,
        });
        let closure = self.visit(&mut rest[0]);
        self.predicate_scopes.pop();
        let (closure, _) = closure?;
        if name == "reduce" {
            if let Some(init) = rest.get_mut(1) {
                self.visit(init)?;
            }
            return match closure {
                Ty::Func(sig) => Ok(sig.outs[0].clone()),
                _ => Err("predicate should has two input and one output param".into()),
            };
        }
        let Ty::Func(sig) = &closure else {
            return Err("predicate should has one input and one output param".into());
        };
        let out = sig.outs[0].clone();
        let boolean = out.is_bool() || out.is_any();
        let elem = || {
            if collection.is_any() {
                Ty::Any
            } else {
                collection.elem()
            }
        };
        match name {
            "map" => Ok(Ty::Slice(Box::new(out))),
            "groupBy" => Err("builtin groupBy is not supported".into()),
            _ if !boolean => Err(format!("predicate should return boolean (got {out})")),
            "all" | "none" | "any" | "one" => Ok(Ty::Bool),
            "filter" => Ok(if collection.is_any() {
                Ty::slice_any()
            } else {
                Ty::Slice(Box::new(collection.elem()))
            }),
            "count" | "findIndex" | "findLastIndex" => Ok(Ty::Int),
            _ => Ok(elem()),
        }
    }
}

/// Go's `%s` of a `reflect.Type`: a nil type prints as `%!s(<nil>)`.
fn go_s(t: &Ty) -> String {
    match t {
        Ty::Nil => "%!s(<nil>)".into(),
        other => other.to_string(),
    }
}

/// Go's `combined`: the type of `l op r` for two numbers.
fn combined(l: &Ty, r: &Ty) -> Ty {
    if l.same_kind(r) {
        l.clone()
    } else if l.is_float() || r.is_float() {
        Ty::Float
    } else {
        Ty::Int
    }
}

/// Go's `traverseAndReplaceIntegerNodesWithFloatNodes`: integer literals (also inside unary
/// operators and `+ - *`) become float literals when passed to a `float64` parameter.
fn integer_literals_to_float(node: &mut Node) {
    match node {
        Node::Int(i) => *node = Node::Float(*i as f64),
        Node::Unary(_, inner) => integer_literals_to_float(inner),
        Node::Binary(b) if matches!(b.op.as_str(), "+" | "-" | "*") => {
            integer_literals_to_float(&mut b.left);
            integer_literals_to_float(&mut b.right);
        }
        _ => {}
    }
}

/// A regex syntax error in Go's words (`error parsing regexp: missing closing ]: `[``) for the
/// common mistakes; other errors keep the Rust engine's description.
pub(super) fn regex_error(pattern: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let kind = lines
        .last()
        .map(|l| l.trim().trim_start_matches("error: "))
        .unwrap_or_default();
    // The caret line under the (4-space indented) pattern marks the offending span.
    let span = lines.iter().find_map(|l| {
        let start = l.find('^')?;
        l[start..].chars().all(|c| c == '^').then(|| {
            let start = start.saturating_sub(4);
            let len = l.len() - 4 - start;
            let chars: Vec<char> = pattern.chars().collect();
            let end = (start + len).min(chars.len());
            let start = start.min(end);
            (
                chars[start..end].iter().collect::<String>(),
                chars[start..].iter().collect::<String>(),
            )
        })
    });
    let (span, from_span) = span.unwrap_or_else(|| (pattern.to_string(), pattern.to_string()));
    let (code, expr) = match kind {
        "unclosed character class" => ("missing closing ]", from_span),
        "unclosed group" => ("missing closing )", pattern.to_string()),
        "unopened group" => ("unexpected )", pattern.to_string()),
        "repetition operator missing expression" => {
            ("missing argument to repetition operator", span)
        }
        "unrecognized escape sequence" => ("invalid escape sequence", span),
        "invalid character class range, the start must be <= the end" => {
            ("invalid character class range", span)
        }
        other => return format!("error parsing regexp: {other}"),
    };
    format!("error parsing regexp: {code}: `{expr}`")
}

/// The part of Go's constant folder (`optimizer/fold.go`) that changes what a program does:
/// `x and true` is `x`, `false or x` is `x`, `x and false` is `false` and so on, which means a
/// non-bool `x` is returned instead of failing a bool assertion; `!` on a literal; and `a % 0`
/// on integer literals, which is a compile error. Children are folded before their parents.
pub(super) fn fold(node: &mut Node) -> CResult<()> {
    match node {
        Node::Unary(op, inner) => {
            fold(inner)?;
            if matches!(*op, "!" | "not")
                && let Node::Bool(b) = **inner
            {
                *node = Node::Bool(!b);
            }
        }
        Node::Binary(b) => {
            fold(&mut b.left)?;
            fold(&mut b.right)?;
            let lit = |n: &Node| match n {
                Node::Bool(v) => Some(*v),
                _ => None,
            };
            let (l, r) = (lit(&b.left), lit(&b.right));
            let take = |side: &mut Node| std::mem::replace(side, Node::Nil);
            match b.op.as_str() {
                "and" | "&&" => {
                    if l == Some(true) {
                        *node = take(&mut b.right);
                    } else if r == Some(true) {
                        *node = take(&mut b.left);
                    } else if l == Some(false) || r == Some(false) {
                        *node = Node::Bool(false);
                    }
                }
                "or" | "||" => {
                    if l == Some(false) {
                        *node = take(&mut b.right);
                    } else if r == Some(false) {
                        *node = take(&mut b.left);
                    } else if l == Some(true) || r == Some(true) {
                        *node = Node::Bool(true);
                    }
                }
                "%" if matches!((&b.left, &b.right), (Node::Int(_), Node::Int(0))) => {
                    return Err("integer divide by zero".into());
                }
                _ => {}
            }
        }
        Node::Chain(inner) | Node::Closure(inner) => fold(inner)?,
        Node::Member { node, prop, .. } => {
            fold(node)?;
            fold(prop)?;
        }
        Node::Slice { node, from, to } => {
            fold(node)?;
            for n in [from, to].into_iter().flatten() {
                fold(n)?;
            }
        }
        Node::Call { callee, args } => {
            fold(callee)?;
            args.iter_mut().try_for_each(fold)?;
        }
        Node::Builtin { args, .. } | Node::Array(args) => args.iter_mut().try_for_each(fold)?,
        Node::Let { value, body, .. } => {
            fold(value)?;
            fold(body)?;
        }
        Node::Conditional(parts) => parts.iter_mut().try_for_each(fold)?,
        Node::Map(pairs) => {
            for (k, v) in pairs {
                fold(k)?;
                fold(v)?;
            }
        }
        Node::Nil
        | Node::Bool(_)
        | Node::Int(_)
        | Node::Float(_)
        | Node::Str(_)
        | Node::Ident(_)
        | Node::Pointer(_) => {}
    }
    Ok(())
}
