//! Tokenizer, a port of expr v1.15.5's state-machine lexer.
//!
//! The token boundaries decide which parse errors users see (`unexpected token
//! Operator("=")` for a single `=`), so the quirks are kept: `&`, `!`, `=`, `*`, `<`, `>`
//! absorb one following `&`, `=` or `*`; `not` merges with a following `in`/`matches`/…;
//! `#name` is one pointer token plus an identifier.

use std::fmt;

/// Token kinds, named as Go prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Identifier,
    Number,
    String,
    Operator,
    Bracket,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub kind: Kind,
    pub value: String,
}

impl Token {
    pub fn is(&self, kind: Kind, value: &str) -> bool {
        self.kind == kind && self.value == value
    }
}

impl fmt::Display for Token {
    /// Go's `Token.String()`: `Kind("value")` with the value `%#v`-quoted, or the bare kind.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Identifier => "Identifier",
            Kind::Number => "Number",
            Kind::String => "String",
            Kind::Operator => "Operator",
            Kind::Bracket => "Bracket",
            Kind::Eof => "EOF",
        };
        if self.value.is_empty() {
            f.write_str(kind)
        } else {
            write!(f, "{kind}({})", crate::validation::go_quote(&self.value))
        }
    }
}

/// Go's `unicode.IsLetter || '_' || '$'` plus digits.
fn is_alphanumeric(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphabetic() || c.is_numeric()
}

struct Lexer<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    start: usize,
    end: usize,
    width: usize,
}

impl<'a> Lexer<'a> {
    fn next(&mut self) -> Option<char> {
        let c = self.input[self.end..].chars().next();
        match c {
            Some(c) => {
                self.width = c.len_utf8();
                self.end += self.width;
            }
            None => self.width = 0,
        }
        c
    }

    fn backup(&mut self) {
        self.end -= self.width;
    }

    fn peek(&mut self) -> Option<char> {
        let c = self.next();
        self.backup();
        c
    }

    fn word(&self) -> &'a str {
        &self.input[self.start..self.end]
    }

    fn emit(&mut self, kind: Kind) {
        let value = self.word().to_string();
        self.emit_value(kind, value);
    }

    fn emit_value(&mut self, kind: Kind, value: String) {
        self.tokens.push(Token { kind, value });
        self.start = self.end;
    }

    fn ignore(&mut self) {
        self.start = self.end;
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while let Some(c) = self.next() {
            if !valid.contains(c) {
                break;
            }
        }
        self.backup();
    }

    fn scan_number(&mut self) -> bool {
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        let (end, width) = (self.end, self.width);
        if self.accept(".") {
            // `1..2` is a range, not the float `1.`.
            if self.peek() == Some('.') {
                self.end = end;
                self.width = width;
                return true;
            }
            self.accept_run(digits);
        }
        if self.accept("eE") {
            self.accept("+-");
            self.accept_run(digits);
        }
        if self.peek().is_some_and(is_alphanumeric) {
            self.next();
            return false;
        }
        true
    }

    fn number(&mut self) -> Result<(), String> {
        if !self.scan_number() {
            return Err(format!(
                "bad number syntax: {}",
                crate::validation::go_quote(self.word())
            ));
        }
        self.emit(Kind::Number);
        Ok(())
    }

    fn scan_digits(
        &mut self,
        mut c: Option<char>,
        base: u32,
        mut n: usize,
    ) -> Result<Option<char>, String> {
        while n > 0 && c.and_then(|c| c.to_digit(16)).is_some_and(|d| d < base) {
            c = self.next();
            n -= 1;
        }
        if n > 0 {
            return Err("invalid char escape".into());
        }
        Ok(c)
    }

    fn scan_escape(&mut self, quote: char) -> Result<Option<char>, String> {
        let c = self.next();
        match c {
            Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') => Ok(self.next()),
            Some(q) if q == quote => Ok(self.next()),
            Some('0'..='7') => self.scan_digits(c, 8, 3),
            Some('x') => {
                let c = self.next();
                self.scan_digits(c, 16, 2)
            }
            Some('u') => {
                let c = self.next();
                self.scan_digits(c, 16, 4)
            }
            Some('U') => {
                let c = self.next();
                self.scan_digits(c, 16, 8)
            }
            _ => Err("invalid char escape".into()),
        }
    }

    fn scan_string(&mut self, quote: char) -> Result<(), String> {
        let mut c = self.next();
        while c != Some(quote) {
            match c {
                None | Some('\n') => return Err("literal not terminated".into()),
                Some('\\') => c = self.scan_escape(quote)?,
                Some(_) => c = self.next(),
            }
        }
        Ok(())
    }

    fn identifier(&mut self) {
        while let Some(c) = self.next() {
            if !is_alphanumeric(c) {
                break;
            }
        }
        self.backup();
        match self.word() {
            "not" => self.not(),
            "in" | "or" | "and" | "matches" | "contains" | "startsWith" | "endsWith" | "let" => {
                self.emit(Kind::Operator)
            }
            _ => self.emit(Kind::Identifier),
        }
    }

    /// `not` followed by `in`, `matches`, … lexes as two operator tokens.
    fn not(&mut self) {
        self.emit(Kind::Operator);
        while self.peek() == Some(' ') {
            self.next();
        }
        self.ignore();
        let pos = self.end;
        while let Some(c) = self.next() {
            if !is_alphanumeric(c) {
                break;
            }
        }
        self.backup();
        match self.word() {
            "in" | "matches" | "contains" | "startsWith" | "endsWith" => self.emit(Kind::Operator),
            _ => self.end = pos,
        }
    }

    fn pointer(&mut self) {
        self.emit(Kind::Operator);
        while let Some(c) = self.next() {
            if !is_alphanumeric(c) {
                break;
            }
        }
        self.backup();
        if !self.word().is_empty() {
            self.emit(Kind::Identifier);
        }
    }

    fn comment(&mut self, multi_line: bool) -> Result<(), String> {
        loop {
            match self.next() {
                None if multi_line => return Err("unclosed comment".into()),
                None => break,
                Some('\n') if !multi_line => break,
                Some('*') if multi_line && self.accept("/") => break,
                _ => {}
            }
        }
        self.ignore();
        Ok(())
    }

    fn run(mut self) -> Result<Vec<Token>, String> {
        loop {
            let Some(c) = self.next() else {
                self.tokens.push(Token {
                    kind: Kind::Eof,
                    value: String::new(),
                });
                return Ok(self.tokens);
            };
            match c {
                c if c.is_whitespace() => self.ignore(),
                '\'' | '"' => {
                    self.scan_string(c)?;
                    let value = unescape(self.word())?;
                    self.emit_value(Kind::String, value);
                }
                '0'..='9' => {
                    self.backup();
                    self.number()?;
                }
                '?' => {
                    self.accept(".?");
                    self.emit(Kind::Operator);
                }
                '/' => {
                    if self.accept("/") {
                        self.comment(false)?;
                    } else if self.accept("*") {
                        self.comment(true)?;
                    } else {
                        self.emit(Kind::Operator);
                    }
                }
                '#' => self.pointer(),
                '|' => {
                    self.accept("|");
                    self.emit(Kind::Operator);
                }
                '(' | '[' | '{' | ')' | ']' | '}' => self.emit(Kind::Bracket),
                ',' | ':' | ';' | '%' | '+' | '-' | '^' => self.emit(Kind::Operator),
                '&' | '!' | '=' | '*' | '<' | '>' => {
                    self.accept("&=*");
                    self.emit(Kind::Operator);
                }
                '.' => {
                    // `.5` is a number; the token keeps its leading dot.
                    if self.accept("0123456789") {
                        self.backup();
                        self.number()?;
                    } else {
                        self.accept(".");
                        self.emit(Kind::Operator);
                    }
                }
                c if is_alphanumeric(c) => {
                    self.backup();
                    self.identifier();
                }
                c => {
                    return Err(format!(
                        "unrecognized character: U+{:04X} {}",
                        c as u32,
                        go_quote_rune(c)
                    ));
                }
            }
        }
    }
}

/// Go's `%q` of a rune, as `%#U` prints it after the code point.
fn go_quote_rune(c: char) -> String {
    let quoted = crate::validation::go_quote(&c.to_string());
    format!("'{}'", &quoted[1..quoted.len() - 1])
}

/// Decodes a quoted literal (quotes included), with Go's escapes.
fn unescape(quoted: &str) -> Result<String, String> {
    let quoted = quoted.replace("\r\n", "\n").replace('\r', "\n");
    let inner = &quoted[1..quoted.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("unable to unescape string, found '\\' as last character".into());
        };
        let mut number = |count: usize, radix: u32| -> Result<u32, String> {
            let mut v = 0u32;
            for _ in 0..count {
                let d = chars
                    .next()
                    .and_then(|c| c.to_digit(radix))
                    .ok_or_else(|| "unable to unescape string".to_string())?;
                v = v * radix + d;
            }
            Ok(v)
        };
        let decoded = match e {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '\\' | '\'' | '"' => e,
            'x' => char::from_u32(number(2, 16)?).unwrap_or('\u{FFFD}'),
            'u' => char::from_u32(number(4, 16)?).unwrap_or('\u{FFFD}'),
            'U' => char::from_u32(number(8, 16)?).unwrap_or('\u{FFFD}'),
            '0'..='7' => {
                let first = e.to_digit(8).unwrap_or(0);
                let rest = number(2, 8)?;
                char::from_u32(first * 64 + rest).unwrap_or('\u{FFFD}')
            }
            _ => return Err("unable to unescape string".into()),
        };
        out.push(decoded);
    }
    Ok(out)
}

/// Splits a condition into tokens, ending with an EOF token.
pub(super) fn lex(input: &str) -> Result<Vec<Token>, String> {
    Lexer {
        input,
        tokens: Vec::new(),
        start: 0,
        end: 0,
        width: 0,
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<String> {
        lex(input).unwrap().iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds("result[0] >= 0.95"),
            [
                "Identifier(\"result\")",
                "Bracket(\"[\")",
                "Number(\"0\")",
                "Bracket(\"]\")",
                "Operator(\">=\")",
                "Number(\"0.95\")",
                "EOF"
            ]
        );
        assert_eq!(
            kinds("a not in b"),
            [
                "Identifier(\"a\")",
                "Operator(\"not\")",
                "Operator(\"in\")",
                "Identifier(\"b\")",
                "EOF"
            ]
        );
        assert_eq!(
            kinds("all(x, {# > .5})"),
            [
                "Identifier(\"all\")",
                "Bracket(\"(\")",
                "Identifier(\"x\")",
                "Operator(\",\")",
                "Bracket(\"{\")",
                "Operator(\"#\")",
                "Operator(\">\")",
                "Number(\".5\")",
                "Bracket(\"}\")",
                "Bracket(\")\")",
                "EOF"
            ]
        );
        assert_eq!(kinds("1..3")[1], "Operator(\"..\")");
        assert_eq!(kinds("'it\\n'")[0], "String(\"it\\n\")");
    }

    #[test]
    fn errors() {
        assert_eq!(lex("'abc").unwrap_err(), "literal not terminated");
        assert_eq!(
            lex("a @ b").unwrap_err(),
            "unrecognized character: U+0040 '@'"
        );
        assert_eq!(lex("1a").unwrap_err(), "bad number syntax: \"1a\"");
        assert_eq!(lex("'\\q'").unwrap_err(), "invalid char escape");
    }
}
