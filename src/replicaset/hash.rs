//! The pod-template hash and the step hash, byte-identical to Argo Rollouts v1.9.1.
//!
//! Argo hashes (FNV-32a, then k8s `SafeEncodeString`) the Go `encoding/json` bytes of objects it
//! decoded into typed Go structs (contract §3.2, Addendum A): `spec.template` as a k8s.io/api
//! v0.34.1 `PodTemplateSpec`, `spec.strategy.canary.steps` as argo-rollouts v1.9.1
//! `[]CanaryStep`. We hold those objects as JSON as served by the API server, so the hash needs
//! the exact bytes Go would produce after decoding that JSON into the Go types and encoding it
//! again. [`go_json_pod_template`] and [`go_json_steps`] do that in one pass over the
//! `serde_json::Value`, driven by the generated table of the Go types in
//! [`super::gotypes`] (written by `e2e/hashgen`, which also writes the golden vectors the tests
//! check every byte against):
//!
//! - fields in Go struct order, embedded structs flattened; fields unknown to the Go types dropped
//!   (also case variants: the k8s decoder matches field names case-sensitively);
//! - `omitempty` on zero values, `omitzero` (only `ObjectMeta.creationTimestamp`); absent fields
//!   without `omitempty` rendered as Go zero values (`""`, `0`, `false`, `null`, `{}`);
//! - map keys sorted; strings escaped as Go does (`&`, `<`, `>`, U+2028, U+2029, controls);
//! - `resource.Quantity` re-emitted canonically unless Go keeps the input ([`quantity`]);
//! - `metav1.Time` as RFC 3339 UTC seconds (`null` when zero); `intstr.IntOrString` as int or
//!   string; `json.RawMessage` and `metav1.FieldsV1` as compact Go-normalised JSON;
//! - inputs the Go decode rejects (a number for a string, a fraction for an int, an int out of
//!   range, a bad quantity or time, ...) are a [`HashError`].
//!
//! What "the JSON as served" means: the API server stores a custom resource as Go-encoded
//! unstructured JSON (int64 or float64 numbers), so a JSON number is read the way Go would have
//! re-encoded it (`1.0` is the integer 1, `1e3` is 1000). Argo also deep-copies the Rollout through
//! a JSON round trip before hashing, which is why a zero-after-truncation timestamp disappears and
//! `steps: []` hashes like absent steps; both are reproduced here.

pub mod quantity;

use std::fmt;

use serde_json::{Map, Number, Value};

use super::gotypes;
use quantity::Quantity;

/// The kind of a Go type as `encoding/json` sees it (generated table: [`super::gotypes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoKind {
    /// Any Go string type.
    String,
    /// `bool`.
    Bool,
    /// Any Go integer type.
    Int {
        /// Width in bits.
        bits: u8,
        /// `intN` rather than `uintN`.
        signed: bool,
    },
    /// A struct, by index into [`gotypes::STRUCTS`].
    Struct(usize),
    /// `*T`.
    Ptr(&'static GoKind),
    /// `[]T`.
    Slice(&'static GoKind),
    /// `map[string]T`.
    Map(&'static GoKind),
    /// `interface{}`.
    Interface,
    /// `resource.Quantity`.
    Quantity,
    /// `metav1.Time`.
    Time,
    /// `intstr.IntOrString`.
    IntOrString,
    /// `json.RawMessage`.
    RawMessage,
    /// `metav1.FieldsV1`.
    FieldsV1,
}

/// One JSON field of a Go struct.
#[derive(Debug, Clone, Copy)]
pub struct GoField {
    /// JSON name (case-sensitive).
    pub name: &'static str,
    /// Go type.
    pub kind: GoKind,
    /// `omitempty` tag option.
    pub omit_empty: bool,
    /// `omitzero` tag option.
    pub omit_zero: bool,
}

/// A Go struct type: its JSON fields in Go order.
#[derive(Debug, Clone, Copy)]
pub struct GoStruct {
    /// Package path and name, for messages.
    pub go_name: &'static str,
    /// Fields in encoding order.
    pub fields: &'static [GoField],
}

/// One step of the path to the offending value in a [`HashError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// A struct field.
    Field(&'static str),
    /// A list element.
    Index(usize),
    /// A map entry.
    Key(String),
}

/// Why an object cannot be hashed: the Go decode Argo runs would reject it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashError {
    message: String,
    /// Innermost segment first while the error unwinds; see [`HashError::path`].
    path: Vec<PathSegment>,
}

impl HashError {
    fn new(message: impl Into<String>) -> Self {
        HashError {
            message: message.into(),
            path: Vec::new(),
        }
    }

    fn at(mut self, segment: PathSegment) -> Self {
        self.path.push(segment);
        self
    }

    /// The Go-style reason, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The path of the offending value from the hashed object's root, e.g.
    /// `.spec.containers[0].ports[1].containerPort`.
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in self.path.iter().rev() {
            match seg {
                PathSegment::Field(f) => {
                    s.push('.');
                    s.push_str(f);
                }
                PathSegment::Index(i) => s.push_str(&format!("[{i}]")),
                PathSegment::Key(k) => s.push_str(&format!("[{k:?}]")),
            }
        }
        s
    }
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} (at {path})", self.message)
        }
    }
}

impl std::error::Error for HashError {}

/// Deeper than this we give up (serde_json's own parser stops at 128 levels).
const MAX_DEPTH: usize = 512;

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn go_type_name(kind: &GoKind) -> String {
    match kind {
        GoKind::String => "string".into(),
        GoKind::Bool => "bool".into(),
        GoKind::Int { bits, signed: true } => format!("int{bits}"),
        GoKind::Int {
            bits,
            signed: false,
        } => format!("uint{bits}"),
        GoKind::Struct(i) => {
            let name = gotypes::STRUCTS[*i].go_name;
            let short = name.rsplit('/').next().unwrap_or(name);
            short.to_owned()
        }
        GoKind::Ptr(k) => format!("*{}", go_type_name(k)),
        GoKind::Slice(k) => format!("[]{}", go_type_name(k)),
        GoKind::Map(k) => format!("map[string]{}", go_type_name(k)),
        GoKind::Interface => "interface {}".into(),
        GoKind::Quantity => "resource.Quantity".into(),
        GoKind::Time => "v1.Time".into(),
        GoKind::IntOrString => "intstr.IntOrString".into(),
        GoKind::RawMessage => "json.RawMessage".into(),
        GoKind::FieldsV1 => "v1.FieldsV1".into(),
    }
}

fn mismatch(v: &Value, kind: &GoKind) -> HashError {
    HashError::new(format!(
        "json: cannot unmarshal {} into Go value of type {}",
        json_kind(v),
        go_type_name(kind)
    ))
}

// ------------------------------------------------------------------------------------------------
// Go encoding/json primitives
// ------------------------------------------------------------------------------------------------

const HEX: &[u8; 16] = b"0123456789abcdef";

/// encoding/json htmlSafeSet: printable ASCII (and DEL) except `"`, `\`, `<`, `>`, `&`.
const HTML_SAFE: [bool; 128] = {
    let mut t = [false; 128];
    let mut i = 0x20;
    while i < 128 {
        t[i] = !matches!(i as u8, b'"' | b'\\' | b'<' | b'>' | b'&');
        i += 1;
    }
    t
};

/// A JSON string as Go's encoding/json writes it with HTML escaping on.
fn write_go_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if HTML_SAFE[usize::from(b)] {
                i += 1;
                continue;
            }
            out.extend_from_slice(&bytes[start..i]);
            match b {
                b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                _ => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]),
            }
            i += 1;
            start = i;
        } else if b == 0xE2
            && i + 2 < bytes.len()
            && bytes[i + 1] == 0x80
            && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)
        {
            // U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR.
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(if bytes[i + 2] == 0xA8 {
                b"\\u2028"
            } else {
                b"\\u2029"
            });
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_int(out: &mut Vec<u8>, v: i128) {
    let mut buf = [0u8; 40];
    let mut i = buf.len();
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    out.extend_from_slice(&buf[i..]);
}

/// A float64 as Go's encoding/json writes it (ES6 style: `strconv.AppendFloat(f, 'f' or 'e', -1)`).
fn go_float64(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits and decimal exponent, from Rust's shortest `{:e}` rendering.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if f < 0.0 {
        out.push('-');
    }
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        // Go writes "e+21" / "e-07" and its JSON encoder trims "e-07" to "e-7"; positive
        // exponents here are >= 21, so no padding is left in either case.
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&exp.unsigned_abs().to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// The text Go holds for a JSON number after the API server's round trip: an int64 when the
/// number is one, else a float64 re-encoded by encoding/json.
fn number_go_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        go_float64(u as f64)
    } else {
        go_float64(n.as_f64().unwrap_or(0.0))
    }
}

fn number_is_zero(n: &Number) -> bool {
    n.as_i64() == Some(0) || n.as_f64() == Some(0.0)
}

/// strconv.ParseInt(text, 10, 64) followed by the width check of encoding/json.
fn go_int(n: &Number, bits: u8, signed: bool) -> Result<i128, HashError> {
    let (min, max) = if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    };
    if let Some(i) = n.as_i64()
        && (min..=max).contains(&i128::from(i))
    {
        return Ok(i128::from(i));
    }
    let text = number_go_text(n);
    let fail = || {
        HashError::new(format!(
            "json: cannot unmarshal number {text} into Go value of type {}",
            go_type_name(&GoKind::Int { bits, signed })
        ))
    };
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.as_str()),
    };
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail());
    }
    let mut v: i128 = digits.parse().map_err(|_| fail())?;
    if neg {
        v = -v;
    }
    if v < min || v > max {
        return Err(fail());
    }
    Ok(v)
}

// ------------------------------------------------------------------------------------------------
// metav1.Time
// ------------------------------------------------------------------------------------------------

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `time.Parse(time.RFC3339, s)` (its strict fast path and the general parser it falls back to:
/// a one-digit hour, a comma before the fraction, zone offsets up to 24:60 also pass). Returns
/// UTC seconds since 1970; the fraction is dropped since Argo's JSON round trip drops it.
fn parse_go_rfc3339(s: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    let bad = || format!("parsing time {s:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse");
    let num = |r: &[u8]| -> Option<i64> {
        if r.is_empty() || !r.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(r.iter().fold(0i64, |a, &d| a * 10 + i64::from(d - b'0')))
    };
    if b.len() < 18 {
        return Err(bad());
    }
    let year = num(&b[0..4]).ok_or_else(bad)?;
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return Err(bad());
    }
    let month = num(&b[5..7]).ok_or_else(bad)?;
    let day = num(&b[8..10]).ok_or_else(bad)?;
    let mut p = 11;
    let hour_len = if b.get(12).is_some_and(u8::is_ascii_digit) {
        2
    } else {
        1
    };
    let hour = num(&b[p..p + hour_len]).ok_or_else(bad)?;
    p += hour_len;
    if b.len() < p + 6 || b[p] != b':' || b[p + 3] != b':' {
        return Err(bad());
    }
    let min = num(&b[p + 1..p + 3]).ok_or_else(bad)?;
    let sec = num(&b[p + 4..p + 6]).ok_or_else(bad)?;
    p += 6;
    if !(1..=12).contains(&month) || hour > 23 || min > 59 || sec > 59 {
        return Err(format!("parsing time {s:?}: value out of range"));
    }
    if day < 1 || day > days_in_month(month, year) {
        return Err(format!("parsing time {s:?}: day out of range"));
    }
    if b.len() >= p + 2 && (b[p] == b'.' || b[p] == b',') && b[p + 1].is_ascii_digit() {
        p += 1;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
    }
    let zone = &b[p..];
    let offset = if zone == b"Z" {
        0
    } else if zone.len() == 6 && (zone[0] == b'+' || zone[0] == b'-') && zone[3] == b':' {
        let hh = num(&zone[1..3]).ok_or_else(bad)?;
        let mm = num(&zone[4..6]).ok_or_else(bad)?;
        if hh > 24 || mm > 60 {
            return Err(format!("parsing time {s:?}: time zone offset out of range"));
        }
        let o = (hh * 60 + mm) * 60;
        if zone[0] == b'-' { -o } else { o }
    } else {
        return Err(bad());
    };
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

/// Seconds since 1970 of Go's zero time, 0001-01-01T00:00:00Z.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// A metav1.Time after Argo's JSON round trip: None when zero, else UTC seconds.
fn time_value(v: Option<&Value>) -> Result<Option<i64>, HashError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let secs = parse_go_rfc3339(s).map_err(HashError::new)?;
            if secs == GO_ZERO_TIME {
                return Ok(None);
            }
            let (year, ..) = civil_from_days(secs.div_euclid(86_400));
            if !(0..=9999).contains(&year) {
                // Go writes e.g. "-0001-12-31T23:00:00Z", which its own decoder then rejects
                // (Argo's remarshal panics on it).
                return Err(HashError::new(format!(
                    "time {s:?} is outside years 0000-9999 in UTC"
                )));
            }
            Ok(Some(secs))
        }
        Some(other) => Err(HashError::new(format!(
            "json: cannot unmarshal {} into Go value of type string",
            json_kind(other)
        ))),
    }
}

fn write_time(out: &mut Vec<u8>, secs: Option<i64>) {
    let Some(secs) = secs else {
        out.extend_from_slice(b"null");
        return;
    };
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    let s = format!(
        "\"{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z\"",
        t / 3600,
        t / 60 % 60,
        t % 60
    );
    out.extend_from_slice(s.as_bytes());
}

// ------------------------------------------------------------------------------------------------
// The encoder
// ------------------------------------------------------------------------------------------------

/// The characters Go's strings.TrimSpace removes that can reach Quantity.UnmarshalJSON raw: it
/// sees the JSON text between the quotes, where Go escapes controls and U+2028/U+2029.
fn is_raw_go_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Map entries in Go's order (byte-wise sorted keys). serde_json's default map already iterates
/// that way; with its `preserve_order` feature it does not, and we sort.
fn sorted_entries(map: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    if map.keys().is_sorted() {
        Entries::Sorted(map.iter())
    } else {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Entries::Collected(entries.into_iter())
    }
}

enum Entries<A, B> {
    Sorted(A),
    Collected(B),
}

impl<'m, A, B> Iterator for Entries<A, B>
where
    A: Iterator<Item = (&'m String, &'m Value)>,
    B: Iterator<Item = (&'m String, &'m Value)>,
{
    type Item = (&'m String, &'m Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Sorted(a) => a.next(),
            Entries::Collected(b) => b.next(),
        }
    }
}

struct Encoder<'o> {
    out: &'o mut Vec<u8>,
    /// Argo ≤ 1.8 (apimachinery < v0.34): `omitzero` did not exist on creationTimestamp.
    legacy: bool,
}

impl Encoder<'_> {
    fn value(&mut self, kind: &GoKind, v: Option<&Value>, depth: usize) -> Result<(), HashError> {
        if depth > MAX_DEPTH {
            return Err(HashError::new("object nested too deeply"));
        }
        let out = &mut *self.out;
        match (kind, v) {
            (GoKind::RawMessage, None) => out.extend_from_slice(b"null"),
            (GoKind::RawMessage | GoKind::Interface | GoKind::FieldsV1, Some(v)) => {
                self.any(v, depth + 1)?
            }
            (GoKind::Interface | GoKind::FieldsV1, None) => out.extend_from_slice(b"null"),
            (GoKind::Struct(i), _) => self.structure(&gotypes::STRUCTS[*i], v, depth + 1)?,
            (GoKind::Time, _) => {
                let t = time_value(v)?;
                write_time(out, t);
            }
            (GoKind::Quantity, None | Some(Value::Null)) => out.extend_from_slice(b"\"0\""),
            (GoKind::Quantity, Some(v)) => {
                let number;
                let text = match v {
                    Value::String(s) => s.trim_matches(is_raw_go_space),
                    Value::Number(n) => {
                        number = number_go_text(n);
                        &number
                    }
                    // Go hands `true`, `[...]`, `{...}` to ParseQuantity, which rejects them.
                    _ => "{",
                };
                Quantity::parse(text)
                    .and_then(|q| q.write_json(out))
                    .map_err(|e| HashError::new(e.to_string()))?;
            }
            (GoKind::IntOrString, None | Some(Value::Null)) => out.push(b'0'),
            (GoKind::IntOrString, Some(Value::String(s))) => write_go_string(out, s),
            (GoKind::IntOrString, Some(Value::Number(n))) => write_int(out, go_int(n, 32, true)?),
            (GoKind::IntOrString, Some(other)) => {
                return Err(mismatch(
                    other,
                    &GoKind::Int {
                        bits: 32,
                        signed: true,
                    },
                ));
            }
            (GoKind::Ptr(_) | GoKind::Slice(_) | GoKind::Map(_), None | Some(Value::Null)) => {
                out.extend_from_slice(b"null");
            }
            (GoKind::Ptr(inner), Some(_)) => self.value(inner, v, depth + 1)?,
            (GoKind::Slice(inner), Some(Value::Array(items))) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value(inner, Some(item), depth + 1)
                        .map_err(|e| e.at(PathSegment::Index(i)))?;
                }
                self.out.push(b']');
            }
            (GoKind::Map(inner), Some(Value::Object(map))) => {
                out.push(b'{');
                for (i, (k, item)) in sorted_entries(map).enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    write_go_string(self.out, k);
                    self.out.push(b':');
                    self.value(inner, Some(item), depth + 1)
                        .map_err(|e| e.at(PathSegment::Key(k.clone())))?;
                }
                self.out.push(b'}');
            }
            (GoKind::String, None | Some(Value::Null)) => out.extend_from_slice(b"\"\""),
            (GoKind::String, Some(Value::String(s))) => write_go_string(out, s),
            (GoKind::Bool, None | Some(Value::Null) | Some(Value::Bool(false))) => {
                out.extend_from_slice(b"false")
            }
            (GoKind::Bool, Some(Value::Bool(true))) => out.extend_from_slice(b"true"),
            (GoKind::Int { .. }, None | Some(Value::Null)) => out.push(b'0'),
            (GoKind::Int { bits, signed }, Some(Value::Number(n))) => {
                write_int(out, go_int(n, *bits, *signed)?)
            }
            (_, Some(other)) => return Err(mismatch(other, kind)),
        }
        Ok(())
    }

    fn omitted(&self, f: &GoField, v: Option<&Value>) -> Result<bool, HashError> {
        if f.omit_zero && !self.legacy {
            debug_assert!(
                f.kind == GoKind::Time,
                "omitzero is only generated for metav1.Time"
            );
            if f.kind == GoKind::Time && time_value(v)?.is_none() {
                return Ok(true);
            }
        }
        if !f.omit_empty {
            return Ok(false);
        }
        let nilable = matches!(
            f.kind,
            GoKind::String
                | GoKind::Bool
                | GoKind::Int { .. }
                | GoKind::Ptr(_)
                | GoKind::Slice(_)
                | GoKind::Map(_)
                | GoKind::Interface
        );
        Ok(match (&f.kind, v) {
            // A nil json.RawMessage is empty; one decoded from `null` holds the 4 bytes "null".
            (GoKind::RawMessage, None) => true,
            // A *metav1.Time holding the zero time encodes as `null`, which Argo's JSON round
            // trip turns into a nil pointer.
            (GoKind::Ptr(GoKind::Time), Some(t)) => time_value(Some(t))?.is_none(),
            (_, None | Some(Value::Null)) => nilable,
            (GoKind::String, Some(Value::String(s))) => s.is_empty(),
            (GoKind::Bool, Some(Value::Bool(b))) => !b,
            (GoKind::Int { .. }, Some(Value::Number(n))) => number_is_zero(n),
            (GoKind::Slice(_), Some(Value::Array(a))) => a.is_empty(),
            (GoKind::Map(_), Some(Value::Object(m))) => m.is_empty(),
            _ => false,
        })
    }

    fn structure(
        &mut self,
        st: &GoStruct,
        v: Option<&Value>,
        depth: usize,
    ) -> Result<(), HashError> {
        let obj = match v {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(other) => {
                return Err(HashError::new(format!(
                    "json: cannot unmarshal {} into Go value of type {}",
                    json_kind(other),
                    st.go_name.rsplit('/').next().unwrap_or(st.go_name)
                )));
            }
        };
        self.out.push(b'{');
        let mut first = true;
        for f in st.fields {
            let fv = obj.and_then(|m| m.get(f.name));
            let field_err = |e: HashError| e.at(PathSegment::Field(f.name));
            if self.omitted(f, fv).map_err(field_err)? {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.out.push(b'"');
            self.out.extend_from_slice(f.name.as_bytes());
            self.out.extend_from_slice(b"\":");
            self.value(&f.kind, fv, depth).map_err(field_err)?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// An `interface{}` value as the API server re-encodes it (and json.RawMessage /
    /// metav1.FieldsV1 holding those bytes, compacted and HTML-escaped by the encoder).
    fn any(&mut self, v: &Value, depth: usize) -> Result<(), HashError> {
        if depth > MAX_DEPTH {
            return Err(HashError::new("object nested too deeply"));
        }
        match v {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(true) => self.out.extend_from_slice(b"true"),
            Value::Bool(false) => self.out.extend_from_slice(b"false"),
            Value::Number(n) => self.out.extend_from_slice(number_go_text(n).as_bytes()),
            Value::String(s) => write_go_string(self.out, s),
            Value::Array(items) => {
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.any(item, depth + 1)
                        .map_err(|e| e.at(PathSegment::Index(i)))?;
                }
                self.out.push(b']');
            }
            Value::Object(map) => {
                self.out.push(b'{');
                for (i, (k, item)) in sorted_entries(map).enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    write_go_string(self.out, k);
                    self.out.push(b':');
                    self.any(item, depth + 1)
                        .map_err(|e| e.at(PathSegment::Key(k.clone())))?;
                }
                self.out.push(b'}');
            }
        }
        Ok(())
    }
}

fn encode(
    kind: &GoKind,
    v: Option<&Value>,
    legacy: bool,
    capacity: usize,
) -> Result<Vec<u8>, HashError> {
    let mut out = Vec::with_capacity(capacity);
    Encoder {
        out: &mut out,
        legacy,
    }
    .value(kind, v, 0)?;
    Ok(out)
}

// ------------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------------

/// The bytes Argo Rollouts v1.9.1 hashes for a pod template: Go `encoding/json` of the template
/// after decoding it into k8s.io/api v0.34.1 `PodTemplateSpec`.
pub fn go_json_pod_template(template: &Value) -> Result<Vec<u8>, HashError> {
    encode(&gotypes::POD_TEMPLATE_SPEC, Some(template), false, 1024)
}

/// The bytes Argo Rollouts ≤ 1.8 hashed (apimachinery < v0.34): the same with
/// `"creationTimestamp":null` in every zero-timestamped ObjectMeta (contract Addendum A).
pub fn go_json_pod_template_legacy(template: &Value) -> Result<Vec<u8>, HashError> {
    encode(&gotypes::POD_TEMPLATE_SPEC, Some(template), true, 1024)
}

/// The bytes Argo Rollouts v1.9.1 hashes for `spec.strategy.canary.steps` (`None` when the key
/// is absent): `null` when absent, null or empty, else the Go encoding of `[]CanaryStep`.
pub fn go_json_steps(steps: Option<&Value>) -> Result<Vec<u8>, HashError> {
    match steps {
        // `steps` is omitempty and Argo remarshals the Rollout: `[]` comes back as nil.
        None | Some(Value::Null) => Ok(b"null".to_vec()),
        Some(Value::Array(a)) if a.is_empty() => Ok(b"null".to_vec()),
        Some(v) => encode(&gotypes::CANARY_STEPS, Some(v), false, 256)
            .map_err(|e| e.at(PathSegment::Field("steps"))),
    }
}

/// FNV-32a.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    fnv32a_extend(0x811c_9dc5, bytes)
}

fn fnv32a_extend(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// FNV-32a of the bytes, then of the collision count (uint32 little-endian + 4 zero bytes).
pub fn fnv32a_with_collision_count(bytes: &[u8], collision_count: Option<i32>) -> u32 {
    let h = fnv32a(bytes);
    match collision_count {
        None => h,
        Some(c) => {
            let mut extra = [0u8; 8];
            extra[..4].copy_from_slice(&(c as u32).to_le_bytes());
            fnv32a_extend(h, &extra)
        }
    }
}

/// k8s `rand.SafeEncodeString` of the decimal digits of a hash sum.
pub fn safe_encode(sum: u32) -> String {
    const ALPHANUMS: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";
    sum.to_string()
        .bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}

/// `ComputePodTemplateHash(&rollout.Spec.Template, rollout.Status.CollisionCount)` of v1.9.1:
/// the `rollouts-pod-template-hash` label value of a new ReplicaSet.
pub fn pod_template_hash(
    template: &Value,
    collision_count: Option<i32>,
) -> Result<String, HashError> {
    let bytes = go_json_pod_template(template)?;
    Ok(safe_encode(fnv32a_with_collision_count(
        &bytes,
        collision_count,
    )))
}

/// The hash Argo Rollouts ≤ 1.8 computed for the same template (accepted when looking for an
/// existing new ReplicaSet, never used for a new one; contract §3.2).
pub fn legacy_pod_template_hash(
    template: &Value,
    collision_count: Option<i32>,
) -> Result<String, HashError> {
    let bytes = go_json_pod_template_legacy(template)?;
    Ok(safe_encode(fnv32a_with_collision_count(
        &bytes,
        collision_count,
    )))
}

/// `ComputeStepHash` of v1.9.1 for a canary Rollout (`status.currentStepHash`); `steps` is
/// `spec.strategy.canary.steps`, `None` when absent. Blue-green Rollouts have the empty hash, not
/// this function's.
pub fn step_hash(steps: Option<&Value>) -> Result<String, HashError> {
    Ok(safe_encode(fnv32a(&go_json_steps(steps)?)))
}

#[cfg(test)]
mod tests;
