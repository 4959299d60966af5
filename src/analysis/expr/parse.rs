//! Parser: tokens to syntax tree, a structural port of expr v1.15.5's precedence-climbing
//! parser so that the same inputs are accepted and the first error is the same.

use super::lex::{Kind, Token, lex};

/// A syntax tree node.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Node {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A name from the environment (`result`, `asInt`) or a `let` variable.
    Ident(String),
    /// `#` (name empty) or `#index` / `#acc` inside a closure.
    Pointer(String),
    Unary(&'static str, Box<Node>),
    Binary(Box<Binary>),
    /// Wraps an optional-chaining (`?.`) expression: a nil link ends the chain with nil.
    Chain(Box<Node>),
    /// `a.b` (property is a string node) or `a[i]`.
    Member {
        node: Box<Node>,
        prop: Box<Node>,
        optional: bool,
    },
    Slice {
        node: Box<Node>,
        from: Option<Box<Node>>,
        to: Option<Box<Node>>,
    },
    Call {
        callee: Box<Node>,
        args: Vec<Node>,
    },
    Builtin {
        name: String,
        args: Vec<Node>,
    },
    Closure(Box<Node>),
    Let {
        name: String,
        value: Box<Node>,
        body: Box<Node>,
    },
    Conditional(Box<[Node; 3]>),
    Array(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Binary {
    pub op: String,
    pub left: Node,
    pub right: Node,
    /// Set by the checker when Go's optimizer would turn `x in ["a", "b"]` into a lookup in
    /// a `map[string]struct{}` (which panics at run time for a non-string needle).
    pub string_set: bool,
}

/// `(precedence, right-associative)` of a binary operator.
fn binary_op(op: &str) -> Option<(u16, bool)> {
    Some(match op {
        "|" => (0, false),
        "or" | "||" => (10, false),
        "and" | "&&" => (15, false),
        "==" | "!=" | "<" | ">" | ">=" | "<=" | "in" | "matches" | "contains" | "startsWith"
        | "endsWith" => (20, false),
        ".." => (25, false),
        "+" | "-" => (30, false),
        "*" | "/" | "%" => (60, false),
        "**" | "^" => (100, true),
        "??" => (500, false),
        _ => return None,
    })
}

fn unary_op(op: &str) -> Option<(&'static str, u16)> {
    Some(match op {
        "not" => ("not", 50),
        "!" => ("!", 50),
        "-" => ("-", 90),
        "+" => ("+", 90),
        _ => return None,
    })
}

/// Builtins whose second argument is a closure.
fn predicate_arity(name: &str) -> Option<usize> {
    Some(match name {
        "all" | "none" | "any" | "one" | "filter" | "map" | "count" | "find" | "findIndex"
        | "findLast" | "findLastIndex" | "groupBy" => 2,
        "reduce" => 3,
        _ => return None,
    })
}

/// Every builtin name of expr v1.15.5: these parse as builtin calls, not environment calls.
pub(super) const BUILTINS: &[&str] = &[
    "all",
    "none",
    "any",
    "one",
    "filter",
    "map",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "count",
    "groupBy",
    "reduce",
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
    "splitAfter",
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
    "toJSON",
    "fromJSON",
    "toBase64",
    "fromBase64",
    "now",
    "duration",
    "date",
    "first",
    "last",
    "get",
    "take",
    "keys",
    "values",
    "toPairs",
    "fromPairs",
    "sort",
    "sortBy",
];

/// Go's `utils.IsValidIdentifier`: an operator word may follow a dot as a property name.
fn is_valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c == '$' || c.is_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c == '_' || c == '$' || c.is_alphabetic() || c.is_numeric())
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Closure nesting depth: `#` and `.x` are only valid inside a closure.
    depth: usize,
}

type PResult<T> = Result<T, String>;

impl Parser {
    fn current(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> PResult<()> {
        self.pos += 1;
        if self.pos >= self.tokens.len() {
            return Err("unexpected end of expression".into());
        }
        Ok(())
    }

    fn unexpected(&self) -> String {
        format!("unexpected token {}", self.current())
    }

    fn expect(&mut self, kind: Kind, value: &str) -> PResult<()> {
        if self.current().is(kind, value) {
            self.next()
        } else {
            Err(self.unexpected())
        }
    }

    fn expect_kind(&mut self, kind: Kind) -> PResult<()> {
        if self.current().kind == kind {
            self.next()
        } else {
            Err(self.unexpected())
        }
    }

    fn parse_expression(&mut self, precedence: u16) -> PResult<Node> {
        if precedence == 0 && self.current().is(Kind::Operator, "let") {
            return self.parse_variable_declaration();
        }
        let mut left = self.parse_primary()?;
        let mut prev_operator = String::new();
        let mut op_token = self.current().clone();
        while op_token.kind == Kind::Operator {
            let mut negate = false;
            if op_token.is(Kind::Operator, "not") {
                self.next()?;
                negate = true;
                op_token = self.current().clone();
            }
            let Some((op_precedence, right_assoc)) = binary_op(&op_token.value) else {
                break;
            };
            if op_precedence < precedence {
                break;
            }
            self.next()?;
            if op_token.value == "|" {
                left = self.parse_pipe(left)?;
            } else {
                if prev_operator == "??" && op_token.value != "??" {
                    return Err(format!(
                        "Operator ({}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.",
                        op_token.value
                    ));
                }
                let right = if right_assoc {
                    self.parse_expression(op_precedence)?
                } else {
                    self.parse_expression(op_precedence + 1)?
                };
                left = Node::Binary(Box::new(Binary {
                    op: op_token.value.clone(),
                    left,
                    right,
                    string_set: false,
                }));
                if negate {
                    left = Node::Unary("not", Box::new(left));
                }
            }
            prev_operator = op_token.value;
            op_token = self.current().clone();
        }
        if precedence == 0 {
            left = self.parse_conditional(left)?;
        }
        Ok(left)
    }

    fn parse_variable_declaration(&mut self) -> PResult<Node> {
        self.expect(Kind::Operator, "let")?;
        let name = self.current().value.clone();
        self.expect_kind(Kind::Identifier)?;
        self.expect(Kind::Operator, "=")?;
        let value = self.parse_expression(0)?;
        self.expect(Kind::Operator, ";")?;
        let body = self.parse_expression(0)?;
        Ok(Node::Let {
            name,
            value: Box::new(value),
            body: Box::new(body),
        })
    }

    fn parse_conditional(&mut self, mut node: Node) -> PResult<Node> {
        while self.current().is(Kind::Operator, "?") {
            self.next()?;
            let (a, b) = if !self.current().is(Kind::Operator, ":") {
                let a = self.parse_expression(0)?;
                self.expect(Kind::Operator, ":")?;
                (a, self.parse_expression(0)?)
            } else {
                // `a ?: b`
                self.next()?;
                (node.clone(), self.parse_expression(0)?)
            };
            node = Node::Conditional(Box::new([node, a, b]));
        }
        Ok(node)
    }

    fn parse_primary(&mut self) -> PResult<Node> {
        let token = self.current().clone();
        if token.kind == Kind::Operator
            && let Some((op, precedence)) = unary_op(&token.value)
        {
            self.next()?;
            let expr = self.parse_expression(precedence)?;
            return self.parse_postfix(Node::Unary(op, Box::new(expr)));
        }
        if token.is(Kind::Bracket, "(") {
            self.next()?;
            let expr = self.parse_expression(0)?;
            self.expect(Kind::Bracket, ")")?;
            return self.parse_postfix(expr);
        }
        if token.is(Kind::Operator, "#") || token.is(Kind::Operator, ".") {
            if self.depth == 0 {
                return Err("cannot use pointer accessor outside closure".into());
            }
            let mut name = String::new();
            // `.x` is `#.x`: the dot stays for the postfix parser.
            if token.is(Kind::Operator, "#") {
                self.next()?;
                if self.current().kind == Kind::Identifier {
                    name = self.current().value.clone();
                    self.next()?;
                }
            }
            return self.parse_postfix(Node::Pointer(name));
        }
        self.parse_secondary()
    }

    fn parse_secondary(&mut self) -> PResult<Node> {
        let token = self.current().clone();
        let node = match token.kind {
            Kind::Identifier => {
                self.next()?;
                match token.value.as_str() {
                    "true" => return Ok(Node::Bool(true)),
                    "false" => return Ok(Node::Bool(false)),
                    "nil" => return Ok(Node::Nil),
                    _ => self.parse_call(token.value)?,
                }
            }
            Kind::Number => {
                self.next()?;
                return parse_number(&token.value);
            }
            Kind::String => {
                self.next()?;
                return Ok(Node::Str(token.value));
            }
            _ if token.is(Kind::Bracket, "[") => self.parse_array()?,
            _ if token.is(Kind::Bracket, "{") => self.parse_map()?,
            _ => return Err(self.unexpected()),
        };
        self.parse_postfix(node)
    }

    fn parse_call(&mut self, name: String) -> PResult<Node> {
        if !self.current().is(Kind::Bracket, "(") {
            return Ok(Node::Ident(name));
        }
        if let Some(arity) = predicate_arity(&name) {
            self.expect(Kind::Bracket, "(")?;
            let mut args = vec![self.parse_expression(0)?];
            self.expect(Kind::Operator, ",")?;
            args.push(self.parse_closure()?);
            if arity == 3 && self.current().is(Kind::Operator, ",") {
                self.next()?;
                args.push(self.parse_expression(0)?);
            }
            self.expect(Kind::Bracket, ")")?;
            return Ok(Node::Builtin { name, args });
        }
        if BUILTINS.contains(&name.as_str()) {
            let args = self.parse_arguments()?;
            return Ok(Node::Builtin { name, args });
        }
        let args = self.parse_arguments()?;
        Ok(Node::Call {
            callee: Box::new(Node::Ident(name)),
            args,
        })
    }

    fn parse_closure(&mut self) -> PResult<Node> {
        let braced = self.current().is(Kind::Bracket, "{");
        if braced {
            self.next()?;
        }
        self.depth += 1;
        let node = self.parse_expression(0);
        self.depth -= 1;
        let node = node?;
        if braced {
            self.expect(Kind::Bracket, "}")?;
        }
        Ok(Node::Closure(Box::new(node)))
    }

    fn parse_array(&mut self) -> PResult<Node> {
        self.expect(Kind::Bracket, "[")?;
        let mut nodes = Vec::new();
        while !self.current().is(Kind::Bracket, "]") {
            if !nodes.is_empty() {
                self.expect(Kind::Operator, ",")?;
                if self.current().is(Kind::Bracket, "]") {
                    break;
                }
            }
            nodes.push(self.parse_expression(0)?);
        }
        self.expect(Kind::Bracket, "]")?;
        Ok(Node::Array(nodes))
    }

    fn parse_map(&mut self) -> PResult<Node> {
        self.expect(Kind::Bracket, "{")?;
        let mut pairs = Vec::new();
        while !self.current().is(Kind::Bracket, "}") {
            if !pairs.is_empty() {
                self.expect(Kind::Operator, ",")?;
                if self.current().is(Kind::Bracket, "}") {
                    break;
                }
                if self.current().is(Kind::Operator, ",") {
                    return Err(self.unexpected());
                }
            }
            let current = self.current().clone();
            let key = match current.kind {
                Kind::Number | Kind::String | Kind::Identifier => {
                    self.next()?;
                    Node::Str(current.value)
                }
                _ if current.is(Kind::Bracket, "(") => self.parse_expression(0)?,
                _ => {
                    return Err(format!(
                        "a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token {current})"
                    ));
                }
            };
            self.expect(Kind::Operator, ":")?;
            let value = self.parse_expression(0)?;
            pairs.push((key, value));
        }
        self.expect(Kind::Bracket, "}")?;
        Ok(Node::Map(pairs))
    }

    fn parse_postfix(&mut self, mut node: Node) -> PResult<Node> {
        loop {
            let token = self.current().clone();
            if token.kind != Kind::Operator && token.kind != Kind::Bracket {
                return Ok(node);
            }
            if token.value == "." || token.value == "?." {
                self.next()?;
                let property = self.current().clone();
                self.next()?;
                if property.kind != Kind::Identifier
                    && (property.kind != Kind::Operator || !is_valid_identifier(&property.value))
                {
                    return Err("expected name".into());
                }
                let optional = token.value == "?.";
                let (base, was_chain) = match node {
                    Node::Chain(inner) => (*inner, true),
                    other => (other, false),
                };
                let member = Node::Member {
                    node: Box::new(base),
                    prop: Box::new(Node::Str(property.value)),
                    optional,
                };
                node = if self.current().is(Kind::Bracket, "(") {
                    Node::Call {
                        callee: Box::new(member),
                        args: self.parse_arguments()?,
                    }
                } else {
                    member
                };
                if was_chain || optional {
                    node = Node::Chain(Box::new(node));
                }
            } else if token.value == "[" {
                self.next()?;
                if self.current().is(Kind::Operator, ":") {
                    self.next()?;
                    let to = if self.current().is(Kind::Bracket, "]") {
                        None
                    } else {
                        Some(Box::new(self.parse_expression(0)?))
                    };
                    node = Node::Slice {
                        node: Box::new(node),
                        from: None,
                        to,
                    };
                    self.expect(Kind::Bracket, "]")?;
                } else {
                    let from = self.parse_expression(0)?;
                    if self.current().is(Kind::Operator, ":") {
                        self.next()?;
                        let to = if self.current().is(Kind::Bracket, "]") {
                            None
                        } else {
                            Some(Box::new(self.parse_expression(0)?))
                        };
                        node = Node::Slice {
                            node: Box::new(node),
                            from: Some(Box::new(from)),
                            to,
                        };
                    } else {
                        node = Node::Member {
                            node: Box::new(node),
                            prop: Box::new(from),
                            optional: false,
                        };
                    }
                    self.expect(Kind::Bracket, "]")?;
                }
            } else {
                return Ok(node);
            }
        }
    }

    fn parse_pipe(&mut self, node: Node) -> PResult<Node> {
        let name = self.current().value.clone();
        self.expect_kind(Kind::Identifier)?;
        let mut args = vec![node];
        if let Some(arity) = predicate_arity(&name) {
            self.expect(Kind::Bracket, "(")?;
            args.push(self.parse_closure()?);
            if arity == 3 && self.current().is(Kind::Operator, ",") {
                self.next()?;
                args.push(self.parse_expression(0)?);
            }
            self.expect(Kind::Bracket, ")")?;
            return Ok(Node::Builtin { name, args });
        }
        args.extend(self.parse_arguments()?);
        if BUILTINS.contains(&name.as_str()) {
            Ok(Node::Builtin { name, args })
        } else {
            Ok(Node::Call {
                callee: Box::new(Node::Ident(name)),
                args,
            })
        }
    }

    fn parse_arguments(&mut self) -> PResult<Vec<Node>> {
        self.expect(Kind::Bracket, "(")?;
        let mut nodes = Vec::new();
        while !self.current().is(Kind::Bracket, ")") {
            if !nodes.is_empty() {
                self.expect(Kind::Operator, ",")?;
            }
            nodes.push(self.parse_expression(0)?);
        }
        self.expect(Kind::Bracket, ")")?;
        Ok(nodes)
    }
}

/// A number literal as Go's parser reads it: hex with `x`, float with `.`/`e`, else decimal.
fn parse_number(token: &str) -> PResult<Node> {
    let value = token.replace('_', "");
    if value.contains('x') {
        let digits = value.trim_start_matches('0').trim_start_matches(['x', 'X']);
        return i64::from_str_radix(digits, 16).map(Node::Int).map_err(|_| {
            format!(
                "invalid hex literal: strconv.ParseInt: parsing {}: invalid syntax",
                crate::validation::go_quote(&value)
            )
        });
    }
    if value.contains(['.', 'e', 'E']) {
        return value.parse::<f64>().map(Node::Float).map_err(|_| {
            format!(
                "invalid float literal: strconv.ParseFloat: parsing {}: invalid syntax",
                crate::validation::go_quote(&value)
            )
        });
    }
    value.parse::<i64>().map(Node::Int).map_err(|e| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow => "value out of range",
            _ => "invalid syntax",
        };
        format!(
            "invalid integer literal: strconv.ParseInt: parsing {}: {reason}",
            crate::validation::go_quote(&value)
        )
    })
}

/// Parses a condition into a syntax tree.
pub(super) fn parse(input: &str) -> Result<Node, String> {
    let tokens = lex(input)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let node = parser.parse_expression(0)?;
    if parser.current().kind != Kind::Eof {
        return Err(parser.unexpected());
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let Node::Binary(or) = parse("a || b && c").unwrap() else {
            panic!()
        };
        assert_eq!(or.op, "||");
        let Node::Binary(pow) = parse("2 ** 3 ** 2").unwrap() else {
            panic!()
        };
        assert!(matches!(&pow.right, Node::Binary(b) if b.op == "**"));
        assert!(matches!(parse("-1").unwrap(), Node::Unary("-", _)));
        assert!(matches!(parse("a ? b : c").unwrap(), Node::Conditional(_)));
        assert!(matches!(
            parse("a not in b").unwrap(),
            Node::Unary("not", _)
        ));
    }

    #[test]
    fn errors() {
        assert_eq!(parse("result >").unwrap_err(), "unexpected token EOF");
        assert_eq!(
            parse("result = 1").unwrap_err(),
            "unexpected token Operator(\"=\")"
        );
        assert_eq!(
            parse("result.").unwrap_err(),
            "unexpected end of expression"
        );
        assert_eq!(
            parse("# > 1").unwrap_err(),
            "cannot use pointer accessor outside closure"
        );
        assert_eq!(parse("(result > 1").unwrap_err(), "unexpected token EOF");
    }
}
