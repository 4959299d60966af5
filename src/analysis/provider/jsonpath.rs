//! Kubernetes JSONPath (`k8s.io/client-go/util/jsonpath`), as the web metric provider uses it
//! to pick its result out of a JSON response: `{$.data.ok}`, `{.items[0].value}`,
//! `{$.results[?(@.name == 'x')].value}`, `{..count}`, `{.a['b.c']}`, `{.list[*]}`,
//! `{.list[1:3]}`, unions `{.a[0,2]}`. `range`/`end` templates are not supported.
//!
//! Semantics follow client-go: a template is a sequence of text and `{action}` parts, each
//! producing a list of values; a field missing everywhere is an error (`x is not found`), as is
//! indexing out of bounds; filter comparisons need operands of the same kind (a JSON number is a
//! `float64`, so `@.n == 1` fails with `incompatible types for comparison` while `@.n == 1.0`
//! works).

use std::borrow::Cow;

use serde_json::Value as Json;

use crate::analysis::expr::Value;

#[derive(Clone, Debug, PartialEq)]
enum Node {
    List(Vec<Node>),
    Text(String),
    Field(String),
    Array([Param; 3]),
    Filter {
        left: Vec<Node>,
        right: Vec<Node>,
        op: String,
    },
    Int(i64),
    Float(f64),
    Bool(bool),
    Wildcard,
    Recursive,
    Union(Vec<Vec<Node>>),
    Identifier(String),
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Param {
    value: i64,
    known: bool,
    derived: bool,
}

/// A parsed JSONPath template.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonPath {
    nodes: Vec<Node>,
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    width: usize,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Option<char> {
        let c = self.input[self.pos..].chars().next();
        self.width = c.map_or(0, char::len_utf8);
        self.pos += self.width;
        c
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn peek(&mut self) -> Option<char> {
        let c = self.next();
        self.backup();
        c
    }

    fn consume(&mut self) -> &'a str {
        let text = &self.input[self.start..self.pos];
        self.start = self.pos;
        text
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    /// Text and actions at the top level.
    fn parse_text(&mut self, root: &mut Vec<Node>) -> Result<(), String> {
        loop {
            if self.rest().starts_with('{') {
                if self.pos > self.start {
                    root.push(Node::Text(self.consume().to_string()));
                }
                self.pos += 1;
                self.consume();
                let mut list = Vec::new();
                self.parse_action(&mut list)?;
                root.push(Node::List(list));
                continue;
            }
            if self.next().is_none() {
                break;
            }
        }
        if self.pos > self.start {
            root.push(Node::Text(self.consume().to_string()));
        }
        Ok(())
    }

    /// The inside of `{…}`, up to and including the closing brace.
    fn parse_action(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        loop {
            if self.rest().starts_with('}') {
                self.pos += 1;
                self.consume();
                return Ok(());
            }
            if self.rest().starts_with("[?(") {
                self.parse_filter(cur)?;
                continue;
            }
            if self.rest().starts_with("..") {
                if matches!(cur.last(), Some(Node::Recursive)) {
                    return Err("invalid multiple recursive descent".into());
                }
                self.pos += 2;
                self.consume();
                cur.push(Node::Recursive);
                if self.peek().is_some_and(is_alphanumeric) {
                    self.parse_field(cur);
                }
                continue;
            }
            match self.next() {
                None | Some('\r' | '\n') => return Err("unclosed action".into()),
                Some(' ' | '@' | '$') => {
                    self.consume();
                }
                Some('[') => self.parse_array(cur)?,
                Some(q @ ('"' | '\'')) => self.parse_quote(cur, q)?,
                Some('.') => self.parse_field(cur),
                Some(c) if c == '+' || c == '-' || c.is_ascii_digit() => {
                    self.backup();
                    self.parse_number(cur)?;
                }
                Some(c) if is_alphanumeric(c) => {
                    self.backup();
                    while let Some(c) = self.next() {
                        if is_terminator(c) {
                            self.backup();
                            break;
                        }
                    }
                    let value = self.consume();
                    cur.push(match value {
                        "true" => Node::Bool(true),
                        "false" => Node::Bool(false),
                        other => Node::Identifier(other.to_string()),
                    });
                }
                Some(c) => {
                    return Err(format!(
                        "unrecognized character in action: U+{:04X} '{c}'",
                        c as u32
                    ));
                }
            }
        }
    }

    fn parse_field(&mut self, cur: &mut Vec<Node>) {
        self.consume();
        loop {
            match self.next() {
                Some('\\') => {
                    self.next();
                }
                Some(c) if !is_terminator(c) => {}
                Some(_) => {
                    self.backup();
                    break;
                }
                None => break,
            }
        }
        let value = self.consume();
        cur.push(if value == "*" {
            Node::Wildcard
        } else {
            Node::Field(value.replace('\\', ""))
        });
    }

    fn parse_number(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        if matches!(self.peek(), Some('+' | '-')) {
            self.next();
        }
        while let Some(c) = self.next() {
            if c != '.' && !c.is_ascii_digit() {
                self.backup();
                break;
            }
        }
        let value = self.consume();
        if let Ok(i) = value.parse::<i64>() {
            cur.push(Node::Int(i));
        } else if let Ok(f) = value.parse::<f64>() {
            cur.push(Node::Float(f));
        } else {
            return Err(format!("cannot parse number {value}"));
        }
        Ok(())
    }

    fn parse_array(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated array".into()),
                Some(']') => break,
                _ => {}
            }
        }
        let text = self.consume();
        let mut text = &text[1..text.len() - 1];
        if text == "*" {
            text = ":";
        }
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() > 1 {
            let mut union = Vec::new();
            for part in parts {
                union.push(parse_action(&format!("[{}]", part.trim_matches(' ')))?);
            }
            cur.push(Node::Union(union));
            return Ok(());
        }
        if text.len() >= 2
            && text.starts_with('\'')
            && text.ends_with('\'')
            && !text[1..text.len() - 1].contains('\'')
        {
            cur.extend(parse_action(&format!(".{}", &text[1..text.len() - 1]))?);
            return Ok(());
        }
        cur.push(Node::Array(parse_slice(text)?));
        Ok(())
    }

    fn parse_filter(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        self.pos += 3;
        self.consume();
        let (mut begin, mut end) = (false, false);
        let mut pair = '\0';
        loop {
            let c = self.next();
            match c {
                None | Some('\n') => return Err("unterminated filter".into()),
                Some(q @ ('"' | '\'')) => {
                    if !begin {
                        begin = true;
                        pair = q;
                        continue;
                    }
                    let escaped = self.input[..self.pos - 1].ends_with('\\');
                    if !escaped && q == pair {
                        end = true;
                    }
                }
                Some(')') if begin == end => break,
                _ => {}
            }
        }
        if self.next() != Some(']') {
            return Err("unclosed array expect ]".into());
        }
        let text = self.consume();
        let text = &text[..text.len() - 2];
        match split_comparison(text) {
            None => cur.push(Node::Filter {
                left: parse_action(text)?,
                right: Vec::new(),
                op: "exists".into(),
            }),
            Some((left, op, right)) => cur.push(Node::Filter {
                left: parse_action(left)?,
                right: parse_action(right)?,
                op: op.to_string(),
            }),
        }
        Ok(())
    }

    fn parse_quote(&mut self, cur: &mut Vec<Node>, quote: char) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some(c) if c == quote && !self.input[..self.pos - 1].ends_with('\\') => break,
                _ => {}
            }
        }
        let value = self.consume();
        let inner = &value[1..value.len() - 1];
        cur.push(Node::Text(unquote(inner, quote)));
        Ok(())
    }
}

/// client-go's filter regex `^([^!<>=]+)([!<>=]+)(.+?)$`.
fn split_comparison(text: &str) -> Option<(&str, &str, &str)> {
    let op_start = text.find(['!', '<', '>', '='])?;
    if op_start == 0 {
        return None;
    }
    let op_len = text[op_start..].find(|c: char| !matches!(c, '!' | '<' | '>' | '='))?;
    let right = &text[op_start + op_len..];
    (!right.is_empty()).then(|| (&text[..op_start], &text[op_start..op_start + op_len], right))
}

/// client-go's `sliceOperatorRex` and the parameter defaults of `parseArray`.
fn parse_slice(text: &str) -> Result<[Param; 3], String> {
    let invalid = || format!("invalid array index {text}");
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 {
        return Err(invalid());
    }
    let valid = |s: &str| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        digits.bytes().all(|b| b.is_ascii_digit())
    };
    if !parts.iter().all(|p| valid(p)) || parts[0] == "-" {
        return Err(invalid());
    }
    let mut params = [Param::default(); 3];
    for i in 0..3 {
        match parts.get(i) {
            Some(p) if !p.is_empty() => {
                params[i].known = true;
                params[i].value = p
                    .parse()
                    .map_err(|_| format!("array index {p} is not a number"))?;
            }
            // `[a:]`: an explicit empty part is unknown.
            Some(_) if i > 0 => {}
            _ if i == 1 => {
                params[1] = Param {
                    value: params[0].value + 1,
                    known: true,
                    derived: true,
                };
            }
            _ => {}
        }
    }
    Ok(params)
}

fn unquote(s: &str, quote: char) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(c) if c == quote || c == '\\' => out.push(c),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn is_terminator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'
    )
}

/// An action's text (`.a`, `[0]`) parsed as a node list.
fn parse_action(text: &str) -> Result<Vec<Node>, String> {
    let wrapped = format!("{{{text}}}");
    let mut root = Vec::new();
    Parser {
        input: &wrapped,
        pos: 0,
        start: 0,
        width: 0,
    }
    .parse_text(&mut root)?;
    match root.into_iter().next() {
        Some(Node::List(list)) => Ok(list),
        _ => Ok(Vec::new()),
    }
}

impl JsonPath {
    /// Parses a template such as `{$.data.ok}`.
    pub fn parse(template: &str) -> Result<JsonPath, String> {
        let mut nodes = Vec::new();
        Parser {
            input: template,
            pos: 0,
            start: 0,
            width: 0,
        }
        .parse_text(&mut nodes)?;
        Ok(JsonPath { nodes })
    }

    /// client-go's `FindResults`: one list of values per part of the template.
    pub fn find_results(&self, data: &Json) -> Result<Vec<Vec<Json>>, String> {
        let mut out = Vec::new();
        for node in &self.nodes {
            let results = walk(vec![Cow::Borrowed(data)], node)?;
            out.push(results.into_iter().map(Cow::into_owned).collect());
        }
        Ok(out)
    }

    /// The first value found (what Argo's web provider uses), `None` when nothing matched.
    pub fn first(&self, data: &Json) -> Result<Option<Json>, String> {
        Ok(self
            .find_results(data)?
            .into_iter()
            .find_map(|list| list.into_iter().next()))
    }
}

type Items<'a> = Vec<Cow<'a, Json>>;

/// Go's `reflect.Type` name of a JSON value (after `json.Unmarshal` into `interface{}`).
fn go_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "<nil>",
        Json::Bool(_) => "bool",
        Json::Number(_) => "float64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

fn walk<'a>(input: Items<'a>, node: &Node) -> Result<Items<'a>, String> {
    Ok(match node {
        Node::List(nodes) => {
            let mut cur = input;
            for n in nodes {
                cur = walk(cur, n)?;
            }
            cur
        }
        Node::Text(t) => vec![Cow::Owned(Json::String(t.clone()))],
        Node::Int(i) => input.iter().map(|_| Cow::Owned(Json::from(*i))).collect(),
        Node::Float(f) => input
            .iter()
            .map(|_| Cow::Owned(serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number)))
            .collect(),
        Node::Bool(b) => input.iter().map(|_| Cow::Owned(Json::Bool(*b))).collect(),
        Node::Field(name) => {
            let mut results = Vec::new();
            for value in input {
                if let Some(found) = child(value, name) {
                    results.push(found);
                }
            }
            if results.is_empty() {
                return Err(format!("{name} is not found"));
            }
            results
        }
        Node::Array(params) => {
            let mut results = Vec::new();
            for value in input {
                if value.is_null() {
                    continue;
                }
                let len = match &*value {
                    Json::Array(items) => items.len() as i64,
                    other => return Err(format!("{} is not array or slice", go_type(other))),
                };
                let mut p = *params;
                if !p[0].known {
                    p[0].value = 0;
                }
                if p[0].value < 0 {
                    p[0].value += len;
                }
                if !p[1].known {
                    p[1].value = len;
                }
                if p[1].value < 0 || (p[1].value == 0 && p[1].derived) {
                    p[1].value += len;
                }
                if p[1].value == p[0].value {
                    return Ok(results);
                }
                if p[0].value >= len || p[0].value < 0 {
                    return Err(format!(
                        "array index out of bounds: index {}, length {len}",
                        p[0].value
                    ));
                }
                if p[1].value > len || p[1].value < 0 {
                    return Err(format!(
                        "array index out of bounds: index {}, length {len}",
                        p[1].value - 1
                    ));
                }
                if p[0].value > p[1].value {
                    return Err(format!(
                        "starting index {} is greater than ending index {}",
                        p[0].value, p[1].value
                    ));
                }
                let step = if p[2].known {
                    if p[2].value <= 0 {
                        return Err("step must be > 0".into());
                    }
                    p[2].value as usize
                } else {
                    1
                };
                let range = (p[0].value as usize)..(p[1].value as usize);
                match value {
                    Cow::Borrowed(Json::Array(items)) => {
                        results.extend(items[range].iter().step_by(step).map(Cow::Borrowed))
                    }
                    Cow::Owned(Json::Array(items)) => results.extend(
                        items[range]
                            .iter()
                            .step_by(step)
                            .map(|v| Cow::Owned(v.clone())),
                    ),
                    _ => unreachable!("checked above"),
                }
            }
            results
        }
        Node::Union(lists) => {
            let mut results = Vec::new();
            for list in lists {
                results.extend(walk(input.clone(), &Node::List(list.clone()))?);
            }
            results
        }
        Node::Wildcard => {
            let mut results = Vec::new();
            for value in input {
                results.extend(children(value));
            }
            results
        }
        Node::Recursive => {
            let mut results = Vec::new();
            recursive(input, &mut results);
            results
        }
        Node::Filter { left, right, op } => {
            let mut results = Vec::new();
            for value in input {
                let items: Vec<Cow<'a, Json>> = match value {
                    Cow::Borrowed(Json::Array(items)) => items.iter().map(Cow::Borrowed).collect(),
                    Cow::Owned(Json::Array(items)) => items.into_iter().map(Cow::Owned).collect(),
                    other => {
                        return Err(format!(
                            "{} is not array or slice and cannot be filtered",
                            Value::from_json(&other).go_format()
                        ));
                    }
                };
                for item in items {
                    let lefts = walk(vec![item.clone()], &Node::List(left.clone()));
                    if op == "exists" {
                        if lefts.is_ok_and(|l| !l.is_empty()) {
                            results.push(item);
                        }
                        continue;
                    }
                    let lefts = lefts?;
                    let left_value = match lefts.len() {
                        0 => continue,
                        1 => &lefts[0],
                        _ => return Err("can only compare one element at a time".into()),
                    };
                    let rights = walk(vec![item.clone()], &Node::List(right.clone()))?;
                    let right_value = match rights.len() {
                        0 => continue,
                        1 => &rights[0],
                        _ => return Err("can only compare one element at a time".into()),
                    };
                    if compare(op, left_value, right_value)? {
                        results.push(item);
                    }
                }
            }
            results
        }
        Node::Identifier(name) => return Err(format!("unrecognized identifier {name}")),
    })
}

fn child<'a>(value: Cow<'a, Json>, name: &str) -> Option<Cow<'a, Json>> {
    match value {
        Cow::Borrowed(Json::Object(map)) => map.get(name).map(Cow::Borrowed),
        Cow::Owned(Json::Object(mut map)) => map.remove(name).map(Cow::Owned),
        _ => None,
    }
}

fn children(value: Cow<'_, Json>) -> Items<'_> {
    match value {
        Cow::Borrowed(Json::Object(map)) => map.values().map(Cow::Borrowed).collect(),
        Cow::Borrowed(Json::Array(items)) => items.iter().map(Cow::Borrowed).collect(),
        Cow::Owned(Json::Object(map)) => map.into_iter().map(|(_, v)| Cow::Owned(v)).collect(),
        Cow::Owned(Json::Array(items)) => items.into_iter().map(Cow::Owned).collect(),
        // A string's characters are uint8s in Go; as JSON numbers here.
        Cow::Borrowed(Json::String(s)) => s.bytes().map(|b| Cow::Owned(Json::from(b))).collect(),
        Cow::Owned(Json::String(s)) => s.bytes().map(|b| Cow::Owned(Json::from(b))).collect(),
        _ => Vec::new(),
    }
}

/// client-go's `evalRecursive`: every container value, then its descendants.
fn recursive<'a>(input: Items<'a>, out: &mut Items<'a>) {
    for value in input {
        if matches!(&*value, Json::Object(m) if !m.is_empty())
            || matches!(&*value, Json::Array(a) if !a.is_empty())
        {
            out.push(value.clone());
            recursive(children(value), out);
        }
    }
}

/// The comparisons of Go's `text/template` (`eq`, `lt`, …) that client-go uses in filters.
fn compare(op: &str, left: &Json, right: &Json) -> Result<bool, String> {
    #[derive(PartialEq)]
    enum Kind {
        Bool,
        Float,
        Int,
        String,
    }
    let kind = |v: &Json| match v {
        Json::Bool(_) => Ok(Kind::Bool),
        Json::Number(n) if n.is_f64() => Ok(Kind::Float),
        Json::Number(_) => Ok(Kind::Int),
        Json::String(_) => Ok(Kind::String),
        _ => Err("invalid type for comparison".to_string()),
    };
    let (kl, kr) = (kind(left)?, kind(right)?);
    if kl != kr {
        return Err("incompatible types for comparison".into());
    }
    let equal = left == right || (kl == Kind::Float && left.as_f64() == right.as_f64());
    let less = || -> Result<bool, String> {
        Ok(match (left, right) {
            (Json::String(a), Json::String(b)) => a < b,
            (Json::Number(a), Json::Number(b)) => a.as_f64() < b.as_f64(),
            _ => return Err("invalid type for comparison".into()),
        })
    };
    match op {
        "==" => Ok(equal),
        "!=" => Ok(!equal),
        "<" => less(),
        "<=" => Ok(less()? || equal),
        ">" => Ok(!(less()? || equal)),
        ">=" => Ok(!less()?),
        other => Err(format!("unrecognized filter operator {other}")),
    }
}

/// JSON as Go's `json.Unmarshal` into `interface{}` holds it: every number a `float64`. Paths
/// are evaluated on this form so that comparisons with integer literals fail as in Go.
pub fn to_go_numbers(v: &Json) -> Json {
    match v {
        Json::Number(n) => serde_json::Number::from_f64(n.as_f64().unwrap_or(f64::NAN))
            .map_or(Json::Null, Json::Number),
        Json::Array(items) => Json::Array(items.iter().map(to_go_numbers).collect()),
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), to_go_numbers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn first(path: &str, data: &Json) -> Result<Option<Json>, String> {
        JsonPath::parse(path)?.first(&to_go_numbers(data))
    }

    #[test]
    fn selects_values() {
        let data = json!({
            "data": {"ok": true, "rate": 0.97, "a-b": "dashed"},
            "items": [{"name": "x", "v": 1}, {"name": "y", "v": 2}, {"name": "z", "v": 3}],
            "empty": []
        });
        assert_eq!(first("{$}", &data).unwrap(), Some(to_go_numbers(&data)));
        assert_eq!(first("{$.data.ok}", &data).unwrap(), Some(json!(true)));
        assert_eq!(first("{.data.rate}", &data).unwrap(), Some(json!(0.97)));
        assert_eq!(
            first("{$.data['a-b']}", &data).unwrap(),
            Some(json!("dashed"))
        );
        // As in client-go, a quoted key is re-read as a dotted path.
        assert_eq!(
            first("{$.data['ok.x']}", &data).unwrap_err(),
            "x is not found"
        );
        assert_eq!(first("{$.items[1].name}", &data).unwrap(), Some(json!("y")));
        assert_eq!(
            first("{$.items[-1].name}", &data).unwrap(),
            Some(json!("z"))
        );
        assert_eq!(first("{$.items[*].name}", &data).unwrap(), Some(json!("x")));
        assert_eq!(
            first("{$.items[1:].name}", &data).unwrap(),
            Some(json!("y"))
        );
        assert_eq!(
            first("{$.items[0,2].name}", &data).unwrap(),
            Some(json!("x"))
        );
        assert_eq!(
            first("{$.items[?(@.name == 'z')].v}", &data).unwrap(),
            Some(json!(3.0))
        );
        assert_eq!(
            first("{$.items[?(@.v > 1.5)].name}", &data).unwrap(),
            Some(json!("y"))
        );
        assert_eq!(
            first("{$.items[?(@.name)].name}", &data).unwrap(),
            Some(json!("x"))
        );
        assert_eq!(first("{..name}", &data).unwrap(), Some(json!("x")));
        assert_eq!(first("{.empty[*]}", &data).unwrap(), None);
        let all = JsonPath::parse("{.items[*].v}")
            .unwrap()
            .find_results(&to_go_numbers(&data))
            .unwrap();
        assert_eq!(all, [vec![json!(1.0), json!(2.0), json!(3.0)]]);
        // Text outside braces is a result of its own.
        assert_eq!(first("v={.data.ok}", &data).unwrap(), Some(json!("v=")));
    }

    #[test]
    fn errors() {
        let data = json!({"data": {"ok": true}, "items": [1, 2], "n": 5});
        assert_eq!(first("{$.nope}", &data).unwrap_err(), "nope is not found");
        assert_eq!(
            first("{$.data.nope.x}", &data).unwrap_err(),
            "nope is not found"
        );
        assert_eq!(
            first("{$.items[5]}", &data).unwrap_err(),
            "array index out of bounds: index 5, length 2"
        );
        assert_eq!(
            first("{$.n[0]}", &data).unwrap_err(),
            "float64 is not array or slice"
        );
        assert_eq!(
            first("{$.data[?(@.ok)]}", &data).unwrap_err(),
            "map[ok:true] is not array or slice and cannot be filtered"
        );
        assert_eq!(
            first("{$.items[?(@ == 1)]}", &data).unwrap_err(),
            "incompatible types for comparison"
        );
        assert_eq!(JsonPath::parse("{$.a").unwrap_err(), "unclosed action");
        assert_eq!(
            JsonPath::parse("{.a[x]}").unwrap_err(),
            "invalid array index x"
        );
        assert_eq!(
            JsonPath::parse("{#}").unwrap_err(),
            "unrecognized character in action: U+0023 '#'"
        );
    }
}
