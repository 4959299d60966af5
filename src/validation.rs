//! Spec validation: the rules behind the `InvalidSpec` condition of a Rollout, and the spec checks
//! an AnalysisRun runs on its metrics before measuring.
//!
//! Everything here is pure. The texts are part of the wire contract (they land in
//! `status.conditions[].message` and in AnalysisRun messages, where users and Argo CD read them), so
//! the rules run in Argo Rollouts v1.9.1's order and every error renders exactly as the Go
//! `k8s.io/apimachinery` `field.Error` does: `<path>: Invalid value: <value>: <detail>`. Only the
//! first error of [`validate_rollout`] is ever reported ([`invalid_spec_message`]), so the order of
//! the checks matters as much as their texts.
//!
//! The pod template is checked the way Argo delegates to Kubernetes
//! (`ValidatePodTemplateSpecForReplicaSet` after defaulting), restricted to the rules a user
//! realistically trips over; see [`validate_rollout_with`] for the list of what is and is not
//! checked.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::api::core::v1::{Container, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::crd::{
    AnalysisRunArgument, AntiAffinity, CanaryStep, CanaryStrategy, HeaderRoutingMatch,
    MangedRoutes, Metric, Rollout, RolloutPause, RolloutTrafficRouting, SetHeaderRoute,
    SetMirrorRoute, StringMatch,
};

// ---------------------------------------------------------------------------------------------
// Messages (Argo's constants, verbatim)
// ---------------------------------------------------------------------------------------------

/// `Rollout has missing field '%s'`.
fn missing_field(field: &str) -> String {
    format!("Rollout has missing field '{field}'")
}

/// `SetWeight needs to be between 0 and %d`.
fn invalid_set_weight(max: i32) -> String {
    format!("SetWeight needs to be between 0 and {max}")
}

pub const INVALID_EXPERIMENT_WEIGHT_WITHOUT_TRAFFIC_ROUTING: &str =
    "Experiment template weight cannot be set unless TrafficRouting is enabled";
pub const INVALID_EXPERIMENT_WEIGHT_ROUTER: &str = "Experiment template weight is only available for TrafficRouting with SMI, ALB, Istio and Plugins at this time";
pub const INVALID_SET_CANARY_SCALE_TRAFFIC_POLICY: &str =
    "SetCanaryScale requires TrafficRouting to be set";
pub const INVALID_SET_HEADER_ROUTE_TRAFFIC_POLICY: &str =
    "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix";
pub const INVALID_SET_MIRROR_ROUTE_TRAFFIC_POLICY: &str =
    "SetMirrorRoute requires TrafficRouting, supports Istio only";
pub const INVALID_STRING_MATCH_MULTIPLE_VALUE: &str =
    "StringMatch match value must have exactly one of the following: exact, regex, prefix";
pub const INVALID_STRING_MATCH_MISSED_VALUE: &str =
    "StringMatch value missed, match value must have one of the following: exact, regex, prefix";
pub const INVALID_SET_HEADER_ROUTE_ALB_VALUE: &str =
    "SetHeaderRoute match value invalid. ALB supports 'exact' value only";
pub const INVALID_DURATION: &str = "Duration needs to be greater than 0";
pub const INVALID_MAX_SURGE_MAX_UNAVAILABLE: &str =
    "MaxSurge and MaxUnavailable both can not be zero";
pub const INVALID_STEP: &str = "Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause";
pub const INVALID_STRATEGY: &str = "Multiple Strategies can not be listed";
pub const DUPLICATED_SERVICES_BLUE_GREEN: &str = "This rollout uses the same service for the active and preview services, but two different services are required.";
pub const DUPLICATED_SERVICES_CANARY: &str = "This rollout uses the same service for the stable and canary services, but two different services are required.";
pub const INVALID_ANTI_AFFINITY_STRATEGY: &str =
    "AntiAffinity must have exactly one strategy listed";
pub const INVALID_ANTI_AFFINITY_WEIGHT: &str = "AntiAffinity weight must be between 1-100";
pub const SCALE_DOWN_LIMIT_LARGER_THAN_REVISION_LIMIT: &str =
    "This rollout's revision history limit can not be smaller than the rollout's scale down limit";
pub const INVALID_TRAFFIC_ROUTING: &str =
    "Canary service and Stable service must to be set to use Traffic Routing";
pub const INVALID_ANALYSIS_ARGS: &str =
    "Analyses arguments must refer to valid object metadata supported by downwardAPI";
pub const INVALID_CANARY_SCALE_DOWN_DELAY: &str =
    "Canary scaleDownDelaySeconds can only be used with traffic routing";
pub const INVALID_CANARY_DYNAMIC_STABLE_SCALE: &str =
    "Canary dynamicStableScale can only be used with traffic routing";
pub const INVALID_CANARY_DYNAMIC_STABLE_SCALE_WITH_SCALE_DOWN_DELAY: &str =
    "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds";
pub const INVALID_CANARY_MAX_WEIGHT_ONLY_NGINX_AND_PLUGINS: &str =
    "Canary maxTrafficWeight in traffic routing only supported in Nginx and Plugins";
pub const INVALID_PING_PONG_PROVIDED: &str =
    "Ping service and Pong service must to be set to use Ping-Pong feature";
pub const DUPLICATED_PING_PONG_SERVICES: &str = "This rollout uses the same service for the ping and pong services, but two different services are required.";
pub const MISSED_ALB_ROOT_SERVICE: &str =
    "Root service field is required for the configuration with ALB and ping-pong feature enabled";
pub const PING_PONG_WITH_ROUTER_ONLY: &str =
    "Ping-pong feature works with the ALB and Istio traffic routers only";
pub const STEP_ROUTE_NOT_IN_MANAGED_ROUTES: &str =
    "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes";

// ---------------------------------------------------------------------------------------------
// FieldError: k8s field.Error, rendered byte for byte
// ---------------------------------------------------------------------------------------------

/// The kind of a [`FieldError`] (Go `field.ErrorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl ErrorType {
    /// The human text that starts the error body (`Invalid value`, `Required value`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }

    /// The machine-readable cause type (`FieldValueInvalid`, …), as in a Kubernetes `Status`.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }
}

/// The offending value of a [`FieldError`], kept in the form Go prints it: Go prints ints and
/// bools bare, `string`s with `%q`, and every other type (named string types, pointers, structs,
/// maps, `IntOrString`) through `encoding/json`.
#[derive(Clone, Debug, PartialEq)]
pub enum BadValue {
    /// A Go `nil`, printed `null`.
    Nil,
    Int(i64),
    Bool(bool),
    /// A plain Go `string`, printed quoted with `%q`.
    Str(String),
    /// Any other value, already encoded the way Go's `encoding/json` encodes it.
    Json(String),
    /// No value shown (`field.OmitValueType`).
    Omitted,
}

impl From<i32> for BadValue {
    fn from(v: i32) -> Self {
        Self::Int(v.into())
    }
}

impl From<i64> for BadValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<bool> for BadValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<&str> for BadValue {
    fn from(v: &str) -> Self {
        Self::Str(v.to_string())
    }
}

impl From<String> for BadValue {
    fn from(v: String) -> Self {
        Self::Str(v)
    }
}

impl From<Json> for BadValue {
    fn from(v: Json) -> Self {
        Self::Json(v.encode())
    }
}

/// One validation error, a mirror of Kubernetes' `field.Error`. `Display` gives Go's `Error()`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub error_type: ErrorType,
    /// Path of the field, e.g. `spec.strategy.steps[0].setWeight`.
    pub field: String,
    pub bad_value: BadValue,
    pub detail: String,
}

impl FieldError {
    pub fn new(
        error_type: ErrorType,
        field: impl Into<String>,
        bad_value: impl Into<BadValue>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            error_type,
            field: field.into(),
            bad_value: bad_value.into(),
            detail: detail.into(),
        }
    }

    pub fn invalid(
        field: impl Into<String>,
        value: impl Into<BadValue>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorType::Invalid, field, value, detail)
    }

    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, "", detail)
    }

    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, "", detail)
    }

    pub fn internal(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, field, BadValue::Nil, detail)
    }

    pub fn duplicate(field: impl Into<String>, value: impl Into<BadValue>) -> Self {
        Self::new(ErrorType::Duplicate, field, value, "")
    }

    /// `Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl Into<BadValue>,
        valid: &[&str],
    ) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorType::NotSupported, field, value, detail)
    }

    /// `Too long: may not be more than <n> bytes` (the value is never shown).
    pub fn too_long(field: impl Into<String>, max_length: i64) -> Self {
        let detail = if max_length >= 0 {
            let unit = if max_length == 1 { "byte" } else { "bytes" };
            format!("may not be more than {max_length} {unit}")
        } else {
            "value is too long".to_string()
        };
        Self::new(ErrorType::TooLong, field, "<value omitted>", detail)
    }

    /// The message without the field path (Go `ErrorBody()`).
    pub fn body(&self) -> String {
        let mut s = match self.error_type {
            ErrorType::Required
            | ErrorType::Forbidden
            | ErrorType::TooLong
            | ErrorType::Internal => self.error_type.as_str().to_string(),
            _ => match &self.bad_value {
                BadValue::Omitted => self.error_type.as_str().to_string(),
                BadValue::Nil => format!("{}: null", self.error_type.as_str()),
                BadValue::Int(v) => format!("{}: {v}", self.error_type.as_str()),
                BadValue::Bool(v) => format!("{}: {v}", self.error_type.as_str()),
                BadValue::Str(v) => format!("{}: {}", self.error_type.as_str(), go_quote(v)),
                BadValue::Json(v) => format!("{}: {v}", self.error_type.as_str()),
            },
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// The `InvalidSpec` condition message for a validation error:
/// `The Rollout "<name>" is invalid: <error>`.
pub fn invalid_spec_message(rollout_name: &str, error: &FieldError) -> String {
    format!("The Rollout \"{rollout_name}\" is invalid: {error}")
}

/// Validates `rollout` and renders the `InvalidSpec` message of its first error, if any. Argo
/// reports only the first error, so a fix reveals the next one on the following reconcile.
pub fn first_invalid_spec_message(rollout: &Rollout) -> Option<String> {
    let errors = validate_rollout(rollout);
    let name = rollout.metadata.name.as_deref().unwrap_or("");
    errors.first().map(|e| invalid_spec_message(name, e))
}

/// The error reported when a `workloadRef` cannot be resolved (Argo's `InvalidWorkloadRef`):
/// `spec.workloadRef: Invalid value: {"apiVersion":…}: <reason>`.
pub fn invalid_workload_ref(rollout: &Rollout, reason: &str) -> FieldError {
    let value = match &rollout.spec.workload_ref {
        None => Json::Null,
        Some(r) => Obj::new()
            .omit_empty_str("apiVersion", r.api_version.as_deref())
            .omit_empty_str("kind", r.kind.as_deref())
            .omit_empty_str("name", r.name.as_deref())
            .omit_empty_str("scaleDown", r.scale_down.as_deref())
            .build(),
    };
    FieldError::invalid("spec.workloadRef", value, reason)
}

// ---------------------------------------------------------------------------------------------
// Go formatting: %q and encoding/json
// ---------------------------------------------------------------------------------------------

/// Go's `strconv.Quote` (`%q`): printable runes as they are, everything else escaped.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` without the Unicode tables: letters, marks,
/// numbers, punctuation, symbols and the ASCII space are printable; controls, other spaces,
/// format characters, private-use code points and non-characters are not. Unassigned code
/// points count as printable (Go escapes them), which only matters for exotic input.
fn go_is_print(c: char) -> bool {
    let u = c as u32;
    if c.is_ascii() {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let format_or_private = matches!(u,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFDD0..=0xFDEF | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    !format_or_private && (u & 0xFFFE) != 0xFFFE
}

/// A JSON value that keeps object keys in the order given, so Go struct field order (and Go's
/// sorted map keys) can be reproduced exactly.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Encodes like Go's `json.Marshal`: compact, with `<`, `>`, `&`, U+2028 and U+2029 escaped.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Str(s) => write_json_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// A Go `map[string]string` (keys sorted, as Go sorts them).
    fn string_map(map: &BTreeMap<String, String>) -> Json {
        Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), Json::Str(v.clone())))
                .collect(),
        )
    }

    fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}

fn write_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(HEX[b >> 4] as char);
                out.push(HEX[b & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Builds a Go struct's JSON, field by field, with `omitempty` where the Go tag has it.
struct Obj(Vec<(String, Json)>);

impl Obj {
    fn new() -> Self {
        Self(Vec::new())
    }

    fn field(mut self, key: &str, value: Json) -> Self {
        self.0.push((key.to_string(), value));
        self
    }

    /// A `string` field tagged `omitempty`: absent and empty are the same in Go.
    fn omit_empty_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) if !v.is_empty() => self.field(key, Json::str(v)),
            _ => self,
        }
    }

    /// A pointer field tagged `omitempty`.
    fn omit_none(self, key: &str, value: Option<Json>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    /// A slice or map field tagged `omitempty`: nil and empty are both left out.
    fn omit_empty(self, key: &str, value: Json) -> Self {
        match &value {
            Json::Array(a) if a.is_empty() => self,
            Json::Object(o) if o.is_empty() => self,
            Json::Null => self,
            _ => self.field(key, value),
        }
    }

    fn build(self) -> Json {
        Json::Object(self.0)
    }
}

fn json_int_or_string(v: &IntOrString) -> Json {
    match v {
        IntOrString::Int(n) => Json::Int((*n).into()),
        IntOrString::String(s) => Json::str(s),
    }
}

fn json_labels(labels: Option<&BTreeMap<String, String>>) -> Json {
    labels.map_or(Json::Null, Json::string_map)
}

fn json_label_selector(sel: &LabelSelector) -> Json {
    let exprs = sel
        .match_expressions
        .iter()
        .flatten()
        .map(|e| {
            Obj::new()
                .field("key", Json::str(&e.key))
                .field("operator", Json::str(&e.operator))
                .omit_empty(
                    "values",
                    Json::Array(e.values.iter().flatten().map(|v| Json::str(v)).collect()),
                )
                .build()
        })
        .collect();
    Obj::new()
        .omit_empty("matchLabels", json_labels(sel.match_labels.as_ref()))
        .omit_empty("matchExpressions", Json::Array(exprs))
        .build()
}

fn json_string_match(m: &StringMatch) -> Json {
    Obj::new()
        .omit_empty_str("exact", m.exact.as_deref())
        .omit_empty_str("prefix", m.prefix.as_deref())
        .omit_empty_str("regex", m.regex.as_deref())
        .build()
}

fn json_set_header_route(route: &SetHeaderRoute) -> Json {
    let matches = route
        .match_
        .iter()
        .flatten()
        .map(|m: &HeaderRoutingMatch| {
            Obj::new()
                .field("headerName", Json::str(&m.header_name))
                .field("headerValue", json_string_match(&m.header_value))
                .build()
        })
        .collect();
    Obj::new()
        .omit_empty_str("name", route.name.as_deref())
        .omit_empty("match", Json::Array(matches))
        .build()
}

fn json_set_mirror_route(route: &SetMirrorRoute) -> Json {
    let matches = route
        .match_
        .iter()
        .flatten()
        .map(|m| {
            let headers = m.headers.as_ref().map_or(Json::Null, |h| {
                Json::Object(
                    h.iter()
                        .map(|(k, v)| (k.clone(), json_string_match(v)))
                        .collect(),
                )
            });
            Obj::new()
                .omit_none("method", m.method.as_ref().map(json_string_match))
                .omit_none("path", m.path.as_ref().map(json_string_match))
                .omit_empty("headers", headers)
                .build()
        })
        .collect();
    Obj::new()
        .field("name", Json::str(&route.name))
        .omit_empty("match", Json::Array(matches))
        .omit_none("percentage", route.percentage.map(|p| Json::Int(p.into())))
        .build()
}

fn json_analysis_args(args: &[&AnalysisRunArgument]) -> Json {
    Json::Array(
        args.iter()
            .map(|a| {
                let value_from = a.value_from.as_ref().map(|vf| {
                    Obj::new()
                        .omit_none(
                            "podTemplateHashValue",
                            vf.pod_template_hash_value
                                .as_ref()
                                .map(|h| Json::str(h.as_str())),
                        )
                        .omit_none(
                            "fieldRef",
                            vf.field_ref.as_ref().map(|f| {
                                Obj::new()
                                    .field("fieldPath", Json::str(&f.field_path))
                                    .build()
                            }),
                        )
                        .build()
                });
                Obj::new()
                    .field("name", Json::str(&a.name))
                    .omit_empty_str("value", a.value.as_deref())
                    .omit_none("valueFrom", value_from)
                    .build()
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Go number and duration parsing
// ---------------------------------------------------------------------------------------------

/// Go's `strconv.Atoi` as Go code uses it (`i, _ := strconv.Atoi(s)`): a syntax error gives 0,
/// an out-of-range number the nearest 64-bit bound.
fn go_atoi(s: &str) -> i64 {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let mut v: i128 = 0;
    for b in digits.bytes() {
        v = (v * 10 + i128::from(b - b'0')).min(i128::from(u64::MAX));
    }
    let v = if neg { -v } else { v };
    v.clamp(i64::MIN.into(), i64::MAX.into()) as i64
}

/// `IntOrString.IntValue()`: a string is read with [`go_atoi`].
fn int_value(v: &IntOrString) -> i64 {
    match v {
        IntOrString::Int(n) => (*n).into(),
        IntOrString::String(s) => go_atoi(s),
    }
}

/// Go's `strconv.ParseInt(s, 10, 32)`, `None` on any error.
fn go_parse_int32(s: &str) -> Option<i32> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = v * 10 + i64::from(b - b'0');
        if v > 1 << 32 {
            return None;
        }
    }
    let v = if s.starts_with('-') { -v } else { v };
    i32::try_from(v).ok()
}

/// The quoting of Go's `time` package errors: non-ASCII and control bytes as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if !c.is_ascii() || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Go's `time.ParseDuration`: nanoseconds, or Go's exact error text (`time: invalid duration
/// "x"`, `time: missing unit in duration "5"`, `time: unknown unit "d" in duration "1d"`).
pub fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", time_quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix(['-', '+']) {
        neg = s.starts_with('-');
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const OVERFLOW: u64 = 1 << 63;
    let mut d: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Integer part.
        let mut v: u64 = 0;
        let mut i = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            if v > OVERFLOW / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(b[i] - b'0');
            if v > OVERFLOW {
                return Err(invalid());
            }
            i += 1;
        }
        let pre = i > 0;
        s = &s[i..];
        // Fraction: stops gaining precision instead of overflowing.
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let b = rest.as_bytes();
            let mut i = 0;
            let mut overflow = false;
            while i < b.len() && b[i].is_ascii_digit() {
                if !overflow {
                    if f > (OVERFLOW - 1) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(b[i] - b'0');
                        if y > OVERFLOW {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            post = i > 0;
            s = &rest[i..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        // Unit: everything up to the next number.
        let unit_len = s
            .bytes()
            .position(|c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                time_quote(orig)
            ));
        }
        let u = &s[..unit_len];
        s = &s[unit_len..];
        let unit: u64 = match u {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    time_quote(u),
                    time_quote(orig)
                ));
            }
        };
        if v > OVERFLOW / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > OVERFLOW {
                return Err(invalid());
            }
        }
        d += v;
        if d > OVERFLOW {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    i64::try_from(d).map_err(|_| invalid())
}

/// A pause step's duration in seconds, as Argo's `RolloutPause.DurationSeconds()`: an int is
/// seconds; a string is an int if it parses as one, else a Go duration; an unparsable string
/// is -1 (so validation reports it as negative); no duration is 0.
pub fn pause_duration_seconds(pause: &RolloutPause) -> i32 {
    match &pause.duration {
        None => 0,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => match go_parse_int32(s) {
            Some(n) => n,
            None => match parse_go_duration(s) {
                Ok(nanos) => {
                    // Go: int32(d.Seconds()). An out-of-range float becomes i32::MIN, as the
                    // conversion instruction of amd64 (where Argo's images run) produces.
                    let secs =
                        (nanos / 1_000_000_000) as f64 + (nanos % 1_000_000_000) as f64 / 1e9;
                    let t = secs.trunc();
                    if t < f64::from(i32::MIN) || t > f64::from(i32::MAX) {
                        i32::MIN
                    } else {
                        t as i32
                    }
                }
                Err(_) => -1,
            },
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes name/label format checks (k8s.io/apimachinery/pkg/util/validation)
// ---------------------------------------------------------------------------------------------

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/// Go's `RegexError`, including its odd `'a',  or 'b', ` punctuation.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{e}', "));
    }
    out.push_str(&format!("regex used for validation is '{fmt}')"));
    out
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn matches_qualified_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && alnum(&b[0])
        && alnum(&b[b.len() - 1])
        && b.iter().all(|c| alnum(c) || *c == b'-')
}

fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            return vec![format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    QUALIFIED_NAME_ERR,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !matches_qualified_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !value.is_empty() && !matches_qualified_name(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push(max_len_error(253));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `ValidateLabels`: every key a qualified name, every value a label value. Go walks its map in
/// random order; we walk sorted, which only matters when several labels are invalid at once.
fn validate_labels(labels: Option<&BTreeMap<String, String>>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels.into_iter().flatten() {
        for msg in is_qualified_name(k) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        for msg in is_valid_label_value(v) {
            errs.push(FieldError::invalid(path, v.as_str(), msg));
        }
    }
    errs
}

/// `ValidateAnnotations`: keys are qualified names (case-insensitive), total size ≤ 256 KiB.
fn validate_annotations(
    annotations: Option<&BTreeMap<String, String>>,
    path: &str,
) -> Vec<FieldError> {
    const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
    let mut errs = Vec::new();
    let mut total = 0usize;
    for (k, v) in annotations.into_iter().flatten() {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, k.as_str(), msg));
        }
        total += k.len() + v.len();
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(
            path,
            TOTAL_ANNOTATION_SIZE_LIMIT as i64,
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

/// `ValidateLabelSelector` (default options): matchLabels, then each expression's operator,
/// key and values.
fn validate_label_selector(sel: &LabelSelector, path: &str) -> Vec<FieldError> {
    let mut errs = validate_labels(sel.match_labels.as_ref(), &format!("{path}.matchLabels"));
    for (i, expr) in sel.match_expressions.iter().flatten().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let values = expr.values.as_deref().unwrap_or(&[]);
        match expr.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                format!("{p}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                format!("{p}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            // A named string type in Go, so JSON-encoded rather than %q-quoted.
            other => errs.push(FieldError::invalid(
                format!("{p}.operator"),
                Json::str(other),
                "not a valid selector operator",
            )),
        }
        for msg in is_qualified_name(&expr.key) {
            errs.push(FieldError::invalid(
                format!("{p}.key"),
                expr.key.as_str(),
                msg,
            ));
        }
        for (j, v) in values.iter().enumerate() {
            for msg in is_valid_label_value(v) {
                errs.push(FieldError::invalid(
                    format!("{p}.values[{j}]"),
                    v.as_str(),
                    msg,
                ));
            }
        }
    }
    errs
}

/// A parsed label selector (`metav1.LabelSelectorAsSelector`).
enum Selector {
    /// A nil selector: matches nothing.
    Nothing,
    /// An empty selector: matches everything.
    Everything,
    /// All requirements must hold.
    Requirements(Vec<Requirement>),
}

struct Requirement {
    key: String,
    op: SelectorOp,
    values: Vec<String>,
}

#[derive(Clone, Copy)]
enum SelectorOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    /// `None` when the selector cannot be converted (bad key, value, operator or value count),
    /// which is exactly when [`validate_label_selector`] reports an error for it.
    fn parse(sel: Option<&LabelSelector>) -> Option<Selector> {
        let Some(sel) = sel else {
            return Some(Selector::Nothing);
        };
        let labels = sel.match_labels.as_ref();
        let exprs = sel.match_expressions.as_deref().unwrap_or(&[]);
        if labels.map_or(0, BTreeMap::len) + exprs.len() == 0 {
            return Some(Selector::Everything);
        }
        if !validate_label_selector(sel, "").is_empty() {
            return None;
        }
        let mut reqs: Vec<Requirement> = labels
            .into_iter()
            .flatten()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                op: SelectorOp::In,
                values: vec![v.clone()],
            })
            .collect();
        for e in exprs {
            let op = match e.operator.as_str() {
                "In" => SelectorOp::In,
                "NotIn" => SelectorOp::NotIn,
                "Exists" => SelectorOp::Exists,
                _ => SelectorOp::DoesNotExist,
            };
            reqs.push(Requirement {
                key: e.key.clone(),
                op,
                values: e.values.clone().unwrap_or_default(),
            });
        }
        Some(Selector::Requirements(reqs))
    }

    fn is_empty(&self) -> bool {
        match self {
            Selector::Nothing => false,
            Selector::Everything => true,
            Selector::Requirements(r) => r.is_empty(),
        }
    }

    fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k));
        match self {
            Selector::Nothing => false,
            Selector::Everything => true,
            Selector::Requirements(reqs) => reqs.iter().all(|r| match r.op {
                SelectorOp::In => get(&r.key).is_some_and(|v| r.values.contains(v)),
                SelectorOp::NotIn => get(&r.key).is_none_or(|v| !r.values.contains(v)),
                SelectorOp::Exists => get(&r.key).is_some(),
                SelectorOp::DoesNotExist => get(&r.key).is_none(),
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pod template (the subset of Kubernetes' ReplicaSet template validation)
// ---------------------------------------------------------------------------------------------

/// A pod template value that the apiserver's defaulting fills in when empty; only a non-empty
/// value can be wrong.
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// Checks common to regular and init containers (`validateContainerCommon`).
fn validate_container_common(c: &Container, path: &str, errs: &mut Vec<FieldError>) {
    let name_path = format!("{path}.name");
    if c.name.is_empty() {
        errs.push(FieldError::required(name_path, ""));
    } else {
        for msg in is_dns1123_label(&c.name) {
            errs.push(FieldError::invalid(&name_path, c.name.as_str(), msg));
        }
    }
    if c.image.as_deref().unwrap_or("").is_empty() {
        errs.push(FieldError::required(format!("{path}.image"), ""));
    }
    if let Some(policy) = set(&c.termination_message_policy)
        && !matches!(policy, "File" | "FallbackToLogsOnError")
    {
        errs.push(FieldError::not_supported(
            format!("{path}.terminationMessagePolicy"),
            Json::str(policy),
            &["File", "FallbackToLogsOnError"],
        ));
    }
    if let Some(policy) = set(&c.image_pull_policy)
        && !matches!(policy, "Always" | "IfNotPresent" | "Never")
    {
        errs.push(FieldError::not_supported(
            format!("{path}.imagePullPolicy"),
            Json::str(policy),
            &["Always", "IfNotPresent", "Never"],
        ));
    }
}

/// Kubernetes' `ValidatePodTemplateSpecForReplicaSet` for the rules listed on
/// [`validate_rollout_with`], in Kubernetes' order.
fn validate_pod_template(
    template: Option<&PodTemplateSpec>,
    selector: &Selector,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let meta = template.and_then(|t| t.metadata.as_ref());
    let labels = meta.and_then(|m| m.labels.as_ref());
    let default_spec = Default::default();
    let spec = template
        .and_then(|t| t.spec.as_ref())
        .unwrap_or(&default_spec);

    if !selector.is_empty() && !selector.matches(labels) {
        errs.push(FieldError::invalid(
            format!("{path}.metadata.labels"),
            json_labels(labels),
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(validate_labels(labels, &format!("{path}.labels")));
    errs.extend(validate_annotations(
        meta.and_then(|m| m.annotations.as_ref()),
        &format!("{path}.annotations"),
    ));

    let spec_path = format!("{path}.spec");
    // Regular containers: at least one, named, with an image, names unique.
    let containers_path = format!("{spec_path}.containers");
    let mut names: BTreeSet<&str> = BTreeSet::new();
    if spec.containers.is_empty() {
        errs.push(FieldError::required(&containers_path, ""));
    }
    for (i, c) in spec.containers.iter().enumerate() {
        let p = format!("{containers_path}[{i}]");
        validate_container_common(c, &p, &mut errs);
        if !names.insert(&c.name) {
            errs.push(FieldError::duplicate(format!("{p}.name"), c.name.as_str()));
        }
        if c.restart_policy.is_some() {
            errs.push(FieldError::forbidden(
                format!("{p}.restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    // Init containers: same checks, names unique across both lists.
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let p = format!("{spec_path}.initContainers[{i}]");
        validate_container_common(c, &p, &mut errs);
        if names.contains(c.name.as_str()) {
            errs.push(FieldError::duplicate(format!("{p}.name"), c.name.as_str()));
        } else if !c.name.is_empty() {
            names.insert(&c.name);
        }
        if c.restart_policy.as_deref() != Some("Always") {
            const MSG: &str = "may not be set for init containers without restartPolicy=Always";
            for (present, field) in [
                (c.lifecycle.is_some(), "lifecycle"),
                (c.liveness_probe.is_some(), "livenessProbe"),
                (c.readiness_probe.is_some(), "readinessProbe"),
                (c.startup_probe.is_some(), "startupProbe"),
            ] {
                if present {
                    errs.push(FieldError::forbidden(format!("{p}.{field}"), MSG));
                }
            }
        }
    }
    let restart_policy = set(&spec.restart_policy).unwrap_or("Always");
    if !matches!(restart_policy, "Always" | "OnFailure" | "Never") {
        errs.push(FieldError::not_supported(
            format!("{spec_path}.restartPolicy"),
            Json::str(restart_policy),
            &["Always", "OnFailure", "Never"],
        ));
    }
    if let Some(dns) = set(&spec.dns_policy)
        && !matches!(
            dns,
            "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None"
        )
    {
        errs.push(FieldError::not_supported(
            format!("{spec_path}.dnsPolicy"),
            Json::str(dns),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        ));
    }
    errs.extend(validate_labels(
        spec.node_selector.as_ref(),
        &format!("{spec_path}.nodeSelector"),
    ));
    for (value, field) in [
        (&spec.service_account_name, "serviceAccountName"),
        (&spec.node_name, "nodeName"),
    ] {
        if let Some(v) = set(value) {
            for msg in is_dns1123_subdomain(v) {
                errs.push(FieldError::invalid(format!("{spec_path}.{field}"), v, msg));
            }
        }
    }
    if let Some(ads) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        errs.push(FieldError::invalid(
            format!("{spec_path}.activeDeadlineSeconds"),
            ads,
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    for (value, field) in [(&spec.hostname, "hostname"), (&spec.subdomain, "subdomain")] {
        if let Some(v) = set(value) {
            for msg in is_dns1123_label(v) {
                errs.push(FieldError::invalid(format!("{spec_path}.{field}"), v, msg));
            }
        }
    }
    if let Some(v) = set(&spec.priority_class_name) {
        for msg in is_dns1123_subdomain(v) {
            errs.push(FieldError::invalid(
                format!("{spec_path}.priorityClassName"),
                v,
                msg,
            ));
        }
    }
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        errs.push(FieldError::forbidden(
            format!("{spec_path}.ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    // ReplicaSet-specific rules.
    if restart_policy != "Always" {
        errs.push(FieldError::not_supported(
            format!("{spec_path}.restartPolicy"),
            Json::str(restart_policy),
            &["Always"],
        ));
    }
    if spec.active_deadline_seconds.is_some() {
        errs.push(FieldError::forbidden(
            format!("{spec_path}.activeDeadlineSeconds"),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Downward-API field paths
// ---------------------------------------------------------------------------------------------

/// Kubernetes' `fieldpath.ExtractFieldPathAsString` on an object's metadata (the downward API
/// subset Argo allows in analysis arguments): `metadata.name`, `.namespace`, `.uid`, `.labels`,
/// `.annotations`, and `metadata.labels['k']` / `metadata.annotations['k']`. Errors carry
/// Kubernetes' text.
pub fn extract_field_path_as_string(meta: &ObjectMeta, field_path: &str) -> Result<String, String> {
    if let Some((path, subscript)) = split_subscripted_path(field_path) {
        let (map, key_errors) = match path {
            "metadata.annotations" => (
                meta.annotations.as_ref(),
                is_qualified_name(&subscript.to_lowercase()),
            ),
            "metadata.labels" => (meta.labels.as_ref(), is_qualified_name(subscript)),
            _ => {
                return Err(format!(
                    "fieldPath {} does not support subscript",
                    go_quote(field_path)
                ));
            }
        };
        if !key_errors.is_empty() {
            return Err(format!(
                "invalid key subscript in {field_path}: {}",
                key_errors.join(";")
            ));
        }
        return Ok(map
            .and_then(|m| m.get(subscript))
            .cloned()
            .unwrap_or_default());
    }
    let format_map = |m: Option<&BTreeMap<String, String>>| {
        m.into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", go_quote(v)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match field_path {
        "metadata.annotations" => Ok(format_map(meta.annotations.as_ref())),
        "metadata.labels" => Ok(format_map(meta.labels.as_ref())),
        "metadata.name" => Ok(meta.name.clone().unwrap_or_default()),
        "metadata.namespace" => Ok(meta.namespace.clone().unwrap_or_default()),
        "metadata.uid" => Ok(meta.uid.clone().unwrap_or_default()),
        _ => Err(format!("unsupported fieldPath: {field_path}")),
    }
}

/// `metadata.labels['a']` → `("metadata.labels", "a")`.
fn split_subscripted_path(field_path: &str) -> Option<(&str, &str)> {
    let s = field_path.strip_suffix("']")?;
    let (path, subscript) = s.split_once("['")?;
    (!path.is_empty()).then_some((path, subscript))
}

// ---------------------------------------------------------------------------------------------
// Rollout validation
// ---------------------------------------------------------------------------------------------

/// How [`validate_rollout_with`] treats a `workloadRef` rollout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidationOptions {
    /// The template (and possibly the selector) was copied in from the `workloadRef` target
    /// (Argo's `TemplateResolvedFromRef`). Then the user's template is no longer required to be
    /// empty, and the resolved template is validated like an inline one.
    pub template_resolved_from_ref: bool,
}

/// Validates a Rollout as submitted (Argo's `ValidateRollout`); see [`validate_rollout_with`].
pub fn validate_rollout(rollout: &Rollout) -> Vec<FieldError> {
    validate_rollout_with(rollout, ValidationOptions::default())
}

/// Argo's `ValidateRollout`: every spec rule, in Argo's order, so `errors[0]` is the error Argo
/// reports in the `InvalidSpec` condition. Referenced resources (services, templates, ingresses,
/// virtual services) are a separate, later step and are not checked here.
///
/// The pod template is checked with this subset of Kubernetes' ReplicaSet template validation,
/// after Kubernetes' defaulting (so an absent `restartPolicy` is `Always`, an absent
/// `imagePullPolicy` fine, and so on): template labels match the selector; template label and
/// annotation keys/values well-formed; at least one container; container and init container
/// names present, DNS-1123 labels and unique; images present; `terminationMessagePolicy`,
/// `imagePullPolicy`, `restartPolicy`, `dnsPolicy` values known; no `restartPolicy` on regular
/// containers; no lifecycle/probes on plain init containers; `nodeSelector` labels;
/// `serviceAccountName`, `nodeName`, `hostname`, `subdomain`, `priorityClassName` formats;
/// `activeDeadlineSeconds` forbidden; no ephemeral containers; `restartPolicy` must be `Always`.
///
/// Not checked (the ReplicaSet or pod creation rejects them later instead of the Rollout going
/// `InvalidSpec`): volumes, ports, env/envFrom, volume mounts/devices, resources and resize
/// policies, security contexts, probes' and lifecycle handlers' contents, affinity,
/// tolerations, topology spread, DNS config, readiness/scheduling gates, host aliases, OS-specific
/// rules, runtime class, overhead, resource claims, and the pod-specific annotations (mirror pod,
/// seccomp, AppArmor, tolerations).
pub fn validate_rollout_with(rollout: &Rollout, opts: ValidationOptions) -> Vec<FieldError> {
    let spec = &rollout.spec;
    let mut errs = Vec::new();

    let replicas = rollout.desired_replicas();
    nonnegative(&mut errs, replicas.into(), "spec.replicas");

    if spec.workload_ref.is_none() {
        match &spec.selector {
            None => errs.push(FieldError::required(
                "spec.selector",
                missing_field(".spec.selector"),
            )),
            Some(sel) => {
                errs.extend(validate_label_selector(sel, "spec.selector"));
                let n = sel.match_labels.as_ref().map_or(0, BTreeMap::len)
                    + sel.match_expressions.as_ref().map_or(0, Vec::len);
                if n == 0 {
                    errs.push(FieldError::invalid(
                        "spec.selector",
                        json_label_selector(sel),
                        "empty selector is invalid for deployment",
                    ));
                }
            }
        }
    }

    // A workloadRef rollout takes its template from the referenced workload, so any template
    // metadata of its own would be silently dropped.
    if !opts.template_resolved_from_ref && spec.workload_ref.is_some() && !empty_template(rollout) {
        errs.push(FieldError::internal(
            "spec.template",
            "template must be empty for workload reference rollout",
        ));
    }

    match Selector::parse(spec.selector.as_ref()) {
        None => errs.push(FieldError::invalid(
            "spec.selector",
            json_label_selector(spec.selector.as_ref().expect("only a set selector fails")),
            "invalid label selector",
        )),
        Some(selector) => {
            if opts.template_resolved_from_ref || spec.workload_ref.is_none() {
                errs.extend(validate_pod_template(
                    spec.template.as_ref(),
                    &selector,
                    "spec.template",
                ));
            }
        }
    }

    let min_ready_seconds = spec.min_ready_seconds.unwrap_or(0);
    nonnegative(&mut errs, min_ready_seconds.into(), "spec.minReadySeconds");
    let revision_history_limit = spec.revision_history_limit.unwrap_or(10);
    nonnegative(
        &mut errs,
        revision_history_limit.into(),
        "spec.revisionHistoryLimit",
    );
    let progress_deadline_seconds = spec.progress_deadline_seconds.unwrap_or(600);
    nonnegative(
        &mut errs,
        progress_deadline_seconds.into(),
        "spec.progressDeadlineSeconds",
    );
    if progress_deadline_seconds <= min_ready_seconds {
        errs.push(FieldError::invalid(
            "spec.progressDeadlineSeconds",
            progress_deadline_seconds,
            "must be greater than minReadySeconds",
        ));
    }

    // Argo passes `spec.strategy` as the base path of the strategy validators, hence the odd
    // `spec.strategy.strategy` and the missing `.canary` / `.blueGreen` in the paths below.
    let base = "spec.strategy";
    let strategy = &spec.strategy;
    match (&strategy.blue_green, &strategy.canary) {
        (None, None) => errs.push(FieldError::required(
            format!("{base}.strategy"),
            missing_field(".spec.strategy.canary or .spec.strategy.blueGreen"),
        )),
        (Some(_), Some(_)) => errs.push(FieldError::invalid(
            format!("{base}.strategy"),
            "blueGreen: true canary: true",
            INVALID_STRATEGY,
        )),
        (Some(bg), None) => {
            if bg.active_service.as_str() == bg.preview_service.as_deref().unwrap_or("") {
                errs.push(FieldError::invalid(
                    format!("{base}.activeService"),
                    bg.active_service.as_str(),
                    DUPLICATED_SERVICES_BLUE_GREEN,
                ));
            }
            if let Some(limit) = bg.scale_down_delay_revision_limit
                && revision_history_limit < limit
            {
                errs.push(FieldError::invalid(
                    format!("{base}.scaleDownDelayRevisionLimit"),
                    limit,
                    SCALE_DOWN_LIMIT_LARGER_THAN_REVISION_LIMIT,
                ));
            }
            validate_anti_affinity(
                bg.anti_affinity.as_ref(),
                &format!("{base}.antiAffinity"),
                &mut errs,
            );
        }
        (None, Some(canary)) => validate_canary(rollout, canary, base, &mut errs),
    }
    errs
}

/// `ValidateNonnegativeField`.
fn nonnegative(errs: &mut Vec<FieldError>, value: i64, path: &str) {
    if value < 0 {
        errs.push(FieldError::invalid(
            path,
            value,
            "must be greater than or equal to 0",
        ));
    }
}

/// Argo's `EmptyTemplate`: only the template's labels and annotations count.
fn empty_template(rollout: &Rollout) -> bool {
    let meta = rollout
        .spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref());
    let empty = |m: Option<&BTreeMap<String, String>>| m.is_none_or(BTreeMap::is_empty);
    empty(meta.and_then(|m| m.labels.as_ref())) && empty(meta.and_then(|m| m.annotations.as_ref()))
}

fn validate_anti_affinity(
    anti_affinity: Option<&AntiAffinity>,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    let Some(aa) = anti_affinity else { return };
    let preferred = aa
        .preferred_during_scheduling_ignored_during_execution
        .as_ref();
    let required = aa
        .required_during_scheduling_ignored_during_execution
        .as_ref();
    if preferred.is_some() == required.is_some() {
        errs.push(FieldError::invalid(
            path,
            format!(
                "antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: {} antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: {}",
                preferred.is_some(),
                required.is_some()
            ),
            INVALID_ANTI_AFFINITY_STRATEGY,
        ));
    }
    if let Some(p) = preferred
        && !(1..=100).contains(&p.weight)
    {
        errs.push(FieldError::invalid(
            format!("{path}.weight"),
            p.weight,
            INVALID_ANTI_AFFINITY_WEIGHT,
        ));
    }
}

fn has_plugins(tr: &RolloutTrafficRouting) -> bool {
    tr.plugins.as_ref().is_some_and(|p| !p.is_empty())
}

/// Routers whose weights are set through the stable and canary Services, which therefore must
/// both be named (Argo's `requireCanaryStableServices`).
fn requires_canary_stable_services(canary: &CanaryStrategy) -> bool {
    let Some(tr) = &canary.traffic_routing else {
        return false;
    };
    (tr.alb.is_some() && canary.ping_pong.is_none())
        || (tr
            .istio
            .as_ref()
            .is_some_and(|i| i.destination_rule.is_none())
            && canary.ping_pong.is_none())
        || tr.smi.is_some()
        || tr.apisix.is_some()
        || tr.ambassador.is_some()
        || tr.nginx.is_some()
        || tr.app_mesh.is_some()
        || tr.traefik.is_some()
}

/// Argo resolves maxSurge/maxUnavailable here without the replica count: a `"N%"` string is N,
/// any other string is read as an integer (0 if it is not one), an int is itself.
fn int_or_percent_value(v: &IntOrString) -> i64 {
    match v {
        IntOrString::String(s) => match s.strip_suffix('%') {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => go_atoi(n),
            _ => go_atoi(s),
        },
        IntOrString::Int(n) => (*n).into(),
    }
}

fn validate_canary(
    rollout: &Rollout,
    canary: &CanaryStrategy,
    base: &str,
    errs: &mut Vec<FieldError>,
) {
    let default_25 = IntOrString::String("25%".to_string());
    let max_surge = canary.max_surge.as_ref().unwrap_or(&default_25);
    let max_unavailable = canary.max_unavailable.as_ref().unwrap_or(&default_25);
    if int_or_percent_value(max_surge) == 0 && int_or_percent_value(max_unavailable) == 0 {
        errs.push(FieldError::invalid(
            format!("{base}.maxSurge"),
            json_int_or_string(max_surge),
            INVALID_MAX_SURGE_MAX_UNAVAILABLE,
        ));
    }

    let canary_service = canary.canary_service.as_deref().unwrap_or("");
    let stable_service = canary.stable_service.as_deref().unwrap_or("");
    if !canary_service.is_empty() && canary_service == stable_service {
        errs.push(FieldError::invalid(
            format!("{base}.stableService"),
            stable_service,
            DUPLICATED_SERVICES_CANARY,
        ));
    }

    let tr = canary.traffic_routing.as_ref();
    if let Some(pp) = &canary.ping_pong {
        if let Some(tr) = tr
            && tr.alb.is_none()
            && tr.istio.is_none()
        {
            // Argo reports the (nil) ALB config as the value.
            errs.push(FieldError::invalid(
                format!("{base}.trafficRouting.alb"),
                BadValue::Nil,
                PING_PONG_WITH_ROUTER_ONLY,
            ));
        }
        if pp.ping_service.is_empty() {
            errs.push(FieldError::invalid(
                format!("{base}.pingPong.pingService"),
                "",
                INVALID_PING_PONG_PROVIDED,
            ));
        }
        if pp.pong_service.is_empty() {
            errs.push(FieldError::invalid(
                format!("{base}.pingPong.pongService"),
                "",
                INVALID_PING_PONG_PROVIDED,
            ));
        }
        if pp.ping_service == pp.pong_service {
            errs.push(FieldError::invalid(
                format!("{base}.pingPong.pingService"),
                pp.ping_service.as_str(),
                DUPLICATED_PING_PONG_SERVICES,
            ));
        }
        if let Some(alb) = tr.and_then(|t| t.alb.as_ref())
            && alb.root_service.as_deref().unwrap_or("").is_empty()
        {
            errs.push(FieldError::invalid(
                format!("{base}.trafficRouting.alb.rootService"),
                "",
                MISSED_ALB_ROOT_SERVICE,
            ));
        }
    }
    if requires_canary_stable_services(canary) {
        if stable_service.is_empty() {
            errs.push(FieldError::invalid(
                format!("{base}.stableService"),
                "",
                INVALID_TRAFFIC_ROUTING,
            ));
        }
        if canary_service.is_empty() {
            errs.push(FieldError::invalid(
                format!("{base}.canaryService"),
                "",
                INVALID_TRAFFIC_ROUTING,
            ));
        }
    }

    let dynamic_stable_scale = canary.dynamic_stable_scale.unwrap_or(false);
    match tr {
        None => {
            if let Some(delay) = canary.scale_down_delay_seconds {
                errs.push(FieldError::invalid(
                    format!("{base}.scaleDownDelaySeconds"),
                    delay,
                    INVALID_CANARY_SCALE_DOWN_DELAY,
                ));
            }
            if dynamic_stable_scale {
                errs.push(FieldError::invalid(
                    format!("{base}.dynamicStableScale"),
                    true,
                    INVALID_CANARY_DYNAMIC_STABLE_SCALE,
                ));
            }
        }
        Some(tr) => {
            if canary.scale_down_delay_seconds.is_some() && dynamic_stable_scale {
                errs.push(FieldError::invalid(
                    format!("{base}.dynamicStableScale"),
                    true,
                    INVALID_CANARY_DYNAMIC_STABLE_SCALE_WITH_SCALE_DOWN_DELAY,
                ));
            }
            if let Some(max) = tr.max_traffic_weight
                && tr.nginx.is_none()
                && !has_plugins(tr)
            {
                errs.push(FieldError::invalid(
                    format!("{base}.trafficRouting.maxTrafficWeight"),
                    max,
                    INVALID_CANARY_MAX_WEIGHT_ONLY_NGINX_AND_PLUGINS,
                ));
            }
        }
    }

    let max_weight = tr.and_then(|t| t.max_traffic_weight).unwrap_or(100);
    for (i, step) in canary.steps.iter().flatten().enumerate() {
        validate_step(
            rollout,
            canary,
            step,
            &format!("{base}.steps[{i}]"),
            base,
            max_weight,
            errs,
        );
    }
    validate_anti_affinity(
        canary.anti_affinity.as_ref(),
        &format!("{base}.antiAffinity"),
        errs,
    );
}

fn validate_step(
    rollout: &Rollout,
    canary: &CanaryStrategy,
    step: &CanaryStep,
    path: &str,
    base: &str,
    max_weight: i32,
    errs: &mut Vec<FieldError>,
) {
    let tr = canary.traffic_routing.as_ref();

    // Only these four kinds are checked for exclusivity (Argo's hasMultipleStepsType).
    let kinds = [
        step.set_weight.is_some(),
        step.pause.is_some(),
        step.experiment.is_some(),
        step.analysis.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        errs.push(FieldError::invalid(
            path,
            format!(
                "step.Experiment: {} step.Pause: {} step.SetWeight: {} step.Analysis: {}",
                step.experiment.is_some(),
                step.pause.is_some(),
                step.set_weight.is_some(),
                step.analysis.is_some()
            ),
            INVALID_STEP,
        ));
    }
    let none = [
        step.experiment.is_none(),
        step.pause.is_none(),
        step.set_weight.is_none(),
        step.analysis.is_none(),
        step.set_canary_scale.is_none(),
        step.set_header_route.is_none(),
        step.set_mirror_route.is_none(),
        step.plugin.is_none(),
    ];
    if none.iter().all(|n| *n) {
        // Argo prints "== nil" here, so a step with no kind reads all `true`.
        errs.push(FieldError::invalid(
            path,
            "step.Experiment: true step.Pause: true step.SetWeight: true step.Analysis: true step.SetCanaryScale: true step.SetHeaderRoute: true step.SetMirrorRoute: true step.Plugin: true",
            INVALID_STEP,
        ));
    }

    if let Some(w) = step.set_weight
        && !(0..=max_weight).contains(&w)
    {
        errs.push(FieldError::invalid(
            format!("{path}.setWeight"),
            w,
            invalid_set_weight(max_weight),
        ));
    }
    if let Some(pause) = &step.pause {
        let secs = pause_duration_seconds(pause);
        if secs < 0 {
            errs.push(FieldError::invalid(
                format!("{path}.pause.duration"),
                secs,
                INVALID_DURATION,
            ));
        }
    }
    if step.set_canary_scale.is_some() && tr.is_none() {
        errs.push(FieldError::required(
            format!("{base}.trafficRouting"),
            INVALID_SET_CANARY_SCALE_TRAFFIC_POLICY,
        ));
    }

    if let Some(route) = &step.set_header_route {
        let route_path = format!("{path}.setHeaderRoute");
        match tr {
            Some(tr)
                if tr.istio.is_some()
                    || tr.alb.is_some()
                    || tr.apisix.is_some()
                    || has_plugins(tr) =>
            {
                for (j, m) in route.match_.iter().flatten().enumerate() {
                    let match_path = format!("{route_path}.match[{j}]");
                    if tr.alb.is_some() {
                        alb_header_value(&m.header_value, &match_path, errs);
                    } else {
                        single_match_value(&m.header_value, &match_path, errs);
                    }
                }
            }
            _ => errs.push(FieldError::invalid(
                route_path,
                json_set_header_route(route),
                INVALID_SET_HEADER_ROUTE_TRAFFIC_POLICY,
            )),
        }
    }

    if let Some(route) = &step.set_mirror_route {
        let route_path = format!("{path}.setMirrorRoute");
        if tr.is_none_or(|t| t.istio.is_none()) {
            errs.push(FieldError::invalid(
                &route_path,
                json_set_mirror_route(route),
                INVALID_SET_MIRROR_ROUTE_TRAFFIC_POLICY,
            ));
        }
        for (j, m) in route.match_.iter().flatten().enumerate() {
            let match_path = format!("{route_path}.match[{j}]");
            // Argo checks the method twice (and never the headers); kept for identical output.
            for sm in [&m.method, &m.path, &m.method].into_iter().flatten() {
                single_match_value(sm, &match_path, errs);
            }
        }
    }

    if let Some(tr) = tr {
        match &tr.managed_routes {
            None => {
                if step.set_header_route.is_some() || step.set_mirror_route.is_some() {
                    errs.push(FieldError::required(
                        format!("{base}.trafficRouting.managedRoutes"),
                        missing_field("spec.strategy.canary.trafficRouting.managedRoutes"),
                    ));
                }
            }
            Some(managed) => {
                if let Some(route) = &step.set_header_route {
                    route_in_managed_routes(
                        &format!("{path}.setHeaderRoute"),
                        route.name.as_deref().unwrap_or(""),
                        managed,
                        errs,
                    );
                }
                if let Some(route) = &step.set_mirror_route {
                    route_in_managed_routes(
                        &format!("{path}.setMirrorRoute"),
                        &route.name,
                        managed,
                        errs,
                    );
                }
            }
        }
    }

    let mut args: Vec<&AnalysisRunArgument> = Vec::new();
    if let Some(exp) = &step.experiment {
        for (j, t) in exp.templates.iter().enumerate() {
            let Some(weight) = t.weight else { continue };
            let weight_path = format!("{path}.experiment.templates[{j}].weight");
            match tr {
                None => errs.push(FieldError::invalid(
                    weight_path,
                    weight,
                    INVALID_EXPERIMENT_WEIGHT_WITHOUT_TRAFFIC_ROUTING,
                )),
                Some(tr)
                    if tr.alb.is_none()
                        && tr.smi.is_none()
                        && tr.istio.is_none()
                        && !has_plugins(tr) =>
                {
                    errs.push(FieldError::invalid(
                        weight_path,
                        weight,
                        INVALID_EXPERIMENT_WEIGHT_ROUTER,
                    ))
                }
                Some(_) => {}
            }
        }
        for analysis in exp.analyses.iter().flatten() {
            args.extend(analysis.args.iter().flatten());
        }
    }
    if let Some(analysis) = &step.analysis {
        args.extend(analysis.args.iter().flatten());
    }
    // Downward-API references are resolved against the Rollout when the run is created; catch
    // the ones that can never resolve. Argo reports the whole argument list, once per bad arg.
    for arg in &args {
        let Some(field_ref) = arg.value_from.as_ref().and_then(|v| v.field_ref.as_ref()) else {
            continue;
        };
        if field_ref.field_path.starts_with("metadata")
            && extract_field_path_as_string(&rollout.metadata, &field_ref.field_path).is_err()
        {
            errs.push(FieldError::invalid(
                format!("{path}.analyses"),
                json_analysis_args(&args),
                INVALID_ANALYSIS_ARGS,
            ));
        }
    }
}

fn route_in_managed_routes(
    path: &str,
    name: &str,
    managed: &[MangedRoutes],
    errs: &mut Vec<FieldError>,
) {
    if !managed.iter().any(|r| r.name == name) {
        errs.push(FieldError::invalid(
            path,
            name,
            STEP_ROUTE_NOT_IN_MANAGED_ROUTES,
        ));
    }
}

/// ALB header routes support exact matches only (`hasALBInvalidValues`).
fn alb_header_value(m: &StringMatch, path: &str, errs: &mut Vec<FieldError>) {
    let filled = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    if !filled(&m.exact) || filled(&m.regex) || filled(&m.prefix) {
        errs.push(FieldError::invalid(
            path,
            json_string_match(m),
            INVALID_SET_HEADER_ROUTE_ALB_VALUE,
        ));
    }
}

/// Exactly one of exact, regex, prefix (`hasMultipleMatchValues`).
fn single_match_value(m: &StringMatch, path: &str, errs: &mut Vec<FieldError>) {
    let filled = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let n = [&m.exact, &m.regex, &m.prefix]
        .into_iter()
        .filter(|v| filled(v))
        .count();
    let detail = match n {
        0 => INVALID_STRING_MATCH_MISSED_VALUE,
        1 => return,
        _ => INVALID_STRING_MATCH_MULTIPLE_VALUE,
    };
    errs.push(FieldError::invalid(path, json_string_match(m), detail));
}

// ---------------------------------------------------------------------------------------------
// Analysis metrics
// ---------------------------------------------------------------------------------------------

/// Argo's `ValidateMetrics`, run on an AnalysisRun's (argument-resolved) metrics before any
/// measurement: at least one metric, unique names, each metric valid. The error is the text Argo
/// puts after `Analysis spec invalid: `, e.g. `metrics[1]: duplicate name 'x'` or
/// `metrics[0]: no provider specified`.
pub fn validate_analysis_metrics(metrics: &[Metric]) -> Result<(), String> {
    if metrics.is_empty() {
        return Err("no metrics specified".to_string());
    }
    let mut names = BTreeSet::new();
    for (i, metric) in metrics.iter().enumerate() {
        if !names.insert(metric.name.as_str()) {
            return Err(format!("metrics[{i}]: duplicate name '{}'", metric.name));
        }
        validate_metric(metric).map_err(|e| format!("metrics[{i}]: {e}"))?;
    }
    Ok(())
}

/// Argo's `ValidateMetric`: limits consistent with `count`, durations parse, exactly one
/// provider. IntOrString limits are read like Go's `IntValue()` (a non-numeric string is 0).
pub fn validate_metric(metric: &Metric) -> Result<(), String> {
    let value = |v: &Option<IntOrString>| v.as_ref().map_or(0, int_value);
    let count = value(&metric.count);
    let failure_limit = value(&metric.failure_limit);
    let consecutive_success_limit = value(&metric.consecutive_success_limit);
    let inconclusive_limit = value(&metric.inconclusive_limit);

    if consecutive_success_limit < 0 {
        return Err("consecutiveSuccessLimit must be >= 0".to_string());
    }
    if failure_limit < -1 {
        return Err("failureLimit must be >= 0, or -1 to be disabled".to_string());
    }
    // With both disabled the metric could never conclude.
    if consecutive_success_limit == 0 && failure_limit == -1 {
        return Err("failureLimit and consecutiveSuccessLimit cannot both be disabled".to_string());
    }
    if inconclusive_limit < 0 {
        return Err("inconclusiveLimit must be >= 0".to_string());
    }
    if metric
        .consecutive_error_limit
        .as_ref()
        .is_some_and(|v| int_value(v) < 0)
    {
        return Err("consecutiveErrorLimit must be >= 0".to_string());
    }
    if count > 0 {
        if failure_limit >= 0 {
            if count < failure_limit.wrapping_add(consecutive_success_limit) {
                return Err(format!(
                    "count ({count}) must be >= failureLimit + consecutiveSuccessLimit ({failure_limit} + {consecutive_success_limit}) if both >= 0"
                ));
            }
        } else if count < consecutive_success_limit {
            return Err("count must be >= consecutiveSuccessLimit".to_string());
        }
        if count < inconclusive_limit {
            return Err("count must be >= inconclusiveLimit".to_string());
        }
    }
    let interval = metric.interval.as_deref().unwrap_or("");
    if count > 1 && interval.is_empty() {
        return Err("interval must be specified when count > 1".to_string());
    }
    if !interval.is_empty()
        && let Err(e) = parse_go_duration(interval)
    {
        return Err(format!("invalid interval string: {e}"));
    }
    let initial_delay = metric.initial_delay.as_deref().unwrap_or("");
    if !initial_delay.is_empty()
        && let Err(e) = parse_go_duration(initial_delay)
    {
        return Err(format!("invalid startDelay string: {e}"));
    }

    let p = &metric.provider;
    let providers = [
        p.prometheus.is_some(),
        p.job.is_some(),
        p.web.is_some(),
        p.wavefront.is_some(),
        p.kayenta.is_some(),
        p.datadog.is_some(),
        p.new_relic.is_some(),
        p.cloud_watch.is_some(),
        p.graphite.is_some(),
        p.influxdb.is_some(),
        p.skywalking.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count()
        + p.plugin.as_ref().map_or(0, BTreeMap::len);
    match providers {
        0 => Err("no provider specified".to_string()),
        1 => Ok(()),
        _ => Err("multiple providers specified".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// A valid canary Rollout that each case patches.
    const BASE: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: foo, namespace: default, labels: {team: a}}
spec:
  replicas: 3
  selector: {matchLabels: {app: foo}}
  template:
    metadata: {labels: {app: foo}}
    spec: {containers: [{name: app, image: nginx}]}
  strategy: {canary: {}}
"#;

    /// JSON merge patch (RFC 7386): objects merge, `null` deletes, anything else replaces.
    fn merge(target: &mut Value, patch: Value) {
        match (target, patch) {
            (Value::Object(t), Value::Object(p)) => {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(&k);
                    } else {
                        merge(t.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
            (t, p) => *t = p,
        }
    }

    /// The base Rollout with `spec_patch` merged into its `spec`, as JSON.
    fn rollout_json(spec_patch: &str) -> Value {
        let mut base: Value = serde_norway::from_str(BASE).unwrap();
        let patch: Value = serde_norway::from_str(spec_patch).unwrap();
        if !patch.is_null() {
            merge(&mut base["spec"], patch);
        }
        base
    }

    fn rollout(spec_patch: &str) -> Rollout {
        serde_json::from_value(rollout_json(spec_patch)).unwrap()
    }

    fn first_error(spec_patch: &str) -> String {
        validate_rollout(&rollout(spec_patch))
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// (case, patch of `spec`, first error or "" when valid). The expected texts were produced
    /// by Argo Rollouts v1.9.1's own `ValidateRollout` on the same manifests (see
    /// `dump_cases_for_go_oracle`), or taken from its validation_test.go.
    const CASES: &[(&str, &str, &str)] = &[
        ("valid canary", "{}", ""),
        (
            "valid blue-green",
            "strategy: {canary: null, blueGreen: {activeService: active, previewService: preview}}",
            "",
        ),
        (
            "missing selector",
            "selector: null",
            "spec.selector: Required value: Rollout has missing field '.spec.selector'",
        ),
        (
            "empty selector",
            "selector: {matchLabels: null}",
            "spec.selector: Invalid value: {}: empty selector is invalid for deployment",
        ),
        (
            "bad selector label value",
            "selector: {matchLabels: {app: 'foo bar'}}\ntemplate: {metadata: {labels: {app: 'foo bar'}}}",
            "spec.selector.matchLabels: Invalid value: \"foo bar\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
        (
            "bad selector operator",
            "selector: {matchLabels: null, matchExpressions: [{key: app, operator: Foo}]}",
            "spec.selector.matchExpressions[0].operator: Invalid value: \"Foo\": not a valid selector operator",
        ),
        (
            "negative replicas",
            "replicas: -1",
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            "template labels do not match selector",
            "template: {metadata: {labels: {app: bar}}}",
            "spec.template.metadata.labels: Invalid value: {\"app\":\"bar\"}: `selector` does not match template `labels`",
        ),
        (
            "template labels JSON is HTML-escaped like Go",
            "template: {metadata: {labels: {app: 'a<b&c'}}}",
            "spec.template.metadata.labels: Invalid value: {\"app\":\"a\\u003cb\\u0026c\"}: `selector` does not match template `labels`",
        ),
        (
            "selector matchExpressions match template",
            "selector: {matchLabels: null, matchExpressions: [{key: app, operator: In, values: [foo, bar]}]}",
            "",
        ),
        (
            "no containers",
            "template: {spec: {containers: []}}",
            "spec.template.spec.containers: Required value",
        ),
        (
            "container without image",
            "template: {spec: {containers: [{name: app}]}}",
            "spec.template.spec.containers[0].image: Required value",
        ),
        (
            "container without name",
            "template: {spec: {containers: [{name: '', image: nginx}]}}",
            "spec.template.spec.containers[0].name: Required value",
        ),
        (
            "container name not a DNS label",
            "template: {spec: {containers: [{name: App_1, image: nginx}]}}",
            "spec.template.spec.containers[0].name: Invalid value: \"App_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ),
        (
            "duplicate container names",
            "template: {spec: {containers: [{name: app, image: a}, {name: app, image: b}]}}",
            "spec.template.spec.containers[1].name: Duplicate value: \"app\"",
        ),
        (
            "init container named like a container",
            "template: {spec: {initContainers: [{name: app, image: busybox}]}}",
            "spec.template.spec.initContainers[0].name: Duplicate value: \"app\"",
        ),
        (
            "restartPolicy Never",
            "template: {spec: {restartPolicy: Never}}",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
        ),
        (
            "unknown imagePullPolicy",
            "template: {spec: {containers: [{name: app, image: nginx, imagePullPolicy: Sometimes}]}}",
            "spec.template.spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
        ),
        (
            "activeDeadlineSeconds",
            "template: {spec: {activeDeadlineSeconds: 30}}",
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
        ),
        (
            "workloadRef with template labels",
            "workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}",
            "spec.template: Internal error: template must be empty for workload reference rollout",
        ),
        (
            "workloadRef without selector or template",
            "workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}\nselector: null\ntemplate: null",
            "",
        ),
        (
            "negative minReadySeconds",
            "minReadySeconds: -1",
            "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            "negative revisionHistoryLimit",
            "revisionHistoryLimit: -1",
            "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            "progressDeadlineSeconds not above minReadySeconds",
            "minReadySeconds: 601",
            "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
        ),
        (
            "missing strategy",
            "strategy: null",
            "spec.strategy.strategy: Required value: Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'",
        ),
        (
            "both strategies",
            "strategy: {blueGreen: {activeService: active}}",
            "spec.strategy.strategy: Invalid value: \"blueGreen: true canary: true\": Multiple Strategies can not be listed",
        ),
        (
            "blue-green same services",
            "strategy: {canary: null, blueGreen: {activeService: svc, previewService: svc}}",
            "spec.strategy.activeService: Invalid value: \"svc\": This rollout uses the same service for the active and preview services, but two different services are required.",
        ),
        (
            "blue-green scaleDownDelayRevisionLimit above revisionHistoryLimit",
            "strategy: {canary: null, blueGreen: {activeService: a, previewService: p, scaleDownDelayRevisionLimit: 11}}",
            "spec.strategy.scaleDownDelayRevisionLimit: Invalid value: 11: This rollout's revision history limit can not be smaller than the rollout's scale down limit",
        ),
        (
            "blue-green antiAffinity without a strategy",
            "strategy: {canary: null, blueGreen: {activeService: a, antiAffinity: {}}}",
            "spec.strategy.antiAffinity: Invalid value: \"antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: false antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: false\": AntiAffinity must have exactly one strategy listed",
        ),
        (
            "canary antiAffinity weight",
            "strategy: {canary: {antiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: {weight: 101}}}}",
            "spec.strategy.antiAffinity.weight: Invalid value: 101: AntiAffinity weight must be between 1-100",
        ),
        (
            "maxSurge and maxUnavailable zero",
            "strategy: {canary: {maxSurge: 0, maxUnavailable: '0%'}}",
            "spec.strategy.maxSurge: Invalid value: 0: MaxSurge and MaxUnavailable both can not be zero",
        ),
        (
            "maxSurge string zero",
            "strategy: {canary: {maxSurge: '0', maxUnavailable: 0}}",
            "spec.strategy.maxSurge: Invalid value: \"0\": MaxSurge and MaxUnavailable both can not be zero",
        ),
        (
            "canary same services",
            "strategy: {canary: {canaryService: svc, stableService: svc}}",
            "spec.strategy.stableService: Invalid value: \"svc\": This rollout uses the same service for the stable and canary services, but two different services are required.",
        ),
        (
            "ping-pong with nginx",
            "strategy: {canary: {pingPong: {pingService: ping, pongService: pong}, canaryService: c, stableService: s, trafficRouting: {nginx: {stableIngress: ing}}}}",
            "spec.strategy.trafficRouting.alb: Invalid value: null: Ping-pong feature works with the ALB and Istio traffic routers only",
        ),
        (
            "ping-pong same services",
            "strategy: {canary: {pingPong: {pingService: ping, pongService: ping}, trafficRouting: {alb: {ingress: ing, servicePort: 80, rootService: root}}}}",
            "spec.strategy.pingPong.pingService: Invalid value: \"ping\": This rollout uses the same service for the ping and pong services, but two different services are required.",
        ),
        (
            "ping-pong ALB without rootService",
            "strategy: {canary: {pingPong: {pingService: ping, pongService: pong}, trafficRouting: {alb: {ingress: ing, servicePort: 80}}}}",
            "spec.strategy.trafficRouting.alb.rootService: Invalid value: \"\": Root service field is required for the configuration with ALB and ping-pong feature enabled",
        ),
        (
            "SMI without services",
            "strategy: {canary: {trafficRouting: {smi: {}}}}",
            "spec.strategy.stableService: Invalid value: \"\": Canary service and Stable service must to be set to use Traffic Routing",
        ),
        (
            "Istio subset routing needs no services",
            "strategy: {canary: {trafficRouting: {istio: {virtualService: {name: vs}, destinationRule: {name: dr, canarySubsetName: c, stableSubsetName: s}}}}}",
            "",
        ),
        (
            "scaleDownDelaySeconds without traffic routing",
            "strategy: {canary: {stableService: stable, canaryService: canary, scaleDownDelaySeconds: 60}}",
            "spec.strategy.scaleDownDelaySeconds: Invalid value: 60: Canary scaleDownDelaySeconds can only be used with traffic routing",
        ),
        (
            "dynamicStableScale without traffic routing",
            "strategy: {canary: {stableService: stable, canaryService: canary, dynamicStableScale: true}}",
            "spec.strategy.dynamicStableScale: Invalid value: true: Canary dynamicStableScale can only be used with traffic routing",
        ),
        (
            "dynamicStableScale with scaleDownDelaySeconds",
            "strategy: {canary: {stableService: stable, canaryService: canary, dynamicStableScale: true, scaleDownDelaySeconds: 60, trafficRouting: {smi: {}}}}",
            "spec.strategy.dynamicStableScale: Invalid value: true: Canary dynamicStableScale cannot be used with scaleDownDelaySeconds",
        ),
        (
            "maxTrafficWeight with ALB",
            "strategy: {canary: {stableService: s, canaryService: c, trafficRouting: {maxTrafficWeight: 1000, alb: {ingress: ing, servicePort: 80}}}}",
            "spec.strategy.trafficRouting.maxTrafficWeight: Invalid value: 1000: Canary maxTrafficWeight in traffic routing only supported in Nginx and Plugins",
        ),
        (
            "setWeight out of range",
            "strategy: {canary: {steps: [{setWeight: 200}]}}",
            "spec.strategy.steps[0].setWeight: Invalid value: 200: SetWeight needs to be between 0 and 100",
        ),
        (
            "setWeight above maxTrafficWeight",
            "strategy: {canary: {stableService: s, canaryService: c, trafficRouting: {maxTrafficWeight: 1000, nginx: {stableIngress: ing}}, steps: [{setWeight: 1000}, {setWeight: 1001}]}}",
            "spec.strategy.steps[1].setWeight: Invalid value: 1001: SetWeight needs to be between 0 and 1000",
        ),
        (
            "step without a kind",
            "strategy: {canary: {steps: [{setWeight: 10}, {}]}}",
            "spec.strategy.steps[1]: Invalid value: \"step.Experiment: true step.Pause: true step.SetWeight: true step.Analysis: true step.SetCanaryScale: true step.SetHeaderRoute: true step.SetMirrorRoute: true step.Plugin: true\": Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause",
        ),
        (
            "step with two kinds",
            "strategy: {canary: {steps: [{setWeight: 10, pause: {}}]}}",
            "spec.strategy.steps[0]: Invalid value: \"step.Experiment: false step.Pause: true step.SetWeight: true step.Analysis: false\": Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause",
        ),
        (
            "setWeight with setCanaryScale is accepted",
            "strategy: {canary: {stableService: s, canaryService: c, trafficRouting: {smi: {}}, steps: [{setWeight: 10, setCanaryScale: {replicas: 1}}]}}",
            "",
        ),
        (
            "negative pause",
            "strategy: {canary: {steps: [{pause: {duration: -1}}]}}",
            "spec.strategy.steps[0].pause.duration: Invalid value: -1: Duration needs to be greater than 0",
        ),
        (
            "negative pause string",
            "strategy: {canary: {steps: [{pause: {duration: '-5'}}]}}",
            "spec.strategy.steps[0].pause.duration: Invalid value: -5: Duration needs to be greater than 0",
        ),
        (
            "unparsable pause",
            "strategy: {canary: {steps: [{pause: {duration: 1d}}]}}",
            "spec.strategy.steps[0].pause.duration: Invalid value: -1: Duration needs to be greater than 0",
        ),
        (
            "pause beyond int32 seconds",
            "strategy: {canary: {steps: [{pause: {duration: 1000000h}}]}}",
            "spec.strategy.steps[0].pause.duration: Invalid value: -2147483648: Duration needs to be greater than 0",
        ),
        (
            "Go duration pause",
            "strategy: {canary: {steps: [{pause: {duration: 1h30m}}, {pause: {duration: '30'}}, {pause: {}}]}}",
            "",
        ),
        (
            "setCanaryScale without traffic routing",
            "strategy: {canary: {steps: [{setCanaryScale: {weight: 10}}]}}",
            "spec.strategy.trafficRouting: Required value: SetCanaryScale requires TrafficRouting to be set",
        ),
        (
            "setHeaderRoute without traffic routing",
            "strategy: {canary: {steps: [{setHeaderRoute: {name: r, match: [{headerName: agent, headerValue: {exact: chrome}}]}}]}}",
            "spec.strategy.steps[0].setHeaderRoute: Invalid value: {\"name\":\"r\",\"match\":[{\"headerName\":\"agent\",\"headerValue\":{\"exact\":\"chrome\"}}]}: SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix",
        ),
        (
            "setHeaderRoute with several match values",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}, managedRoutes: [{name: r}]}, steps: [{setHeaderRoute: {name: r, match: [{headerName: agent, headerValue: {exact: chrome, regex: 'chrome(.*)'}}]}}]}}",
            "spec.strategy.steps[0].setHeaderRoute.match[0]: Invalid value: {\"exact\":\"chrome\",\"regex\":\"chrome(.*)\"}: StringMatch match value must have exactly one of the following: exact, regex, prefix",
        ),
        (
            "setHeaderRoute with no match value",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}, managedRoutes: [{name: r}]}, steps: [{setHeaderRoute: {name: r, match: [{headerName: agent, headerValue: {}}]}}]}}",
            "spec.strategy.steps[0].setHeaderRoute.match[0]: Invalid value: {}: StringMatch value missed, match value must have one of the following: exact, regex, prefix",
        ),
        (
            "setHeaderRoute ALB prefix",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {alb: {ingress: ing, servicePort: 80}, managedRoutes: [{name: r}]}, steps: [{setHeaderRoute: {name: r, match: [{headerName: agent, headerValue: {prefix: chrome}}]}}]}}",
            "spec.strategy.steps[0].setHeaderRoute.match[0]: Invalid value: {\"prefix\":\"chrome\"}: SetHeaderRoute match value invalid. ALB supports 'exact' value only",
        ),
        (
            "setHeaderRoute without managedRoutes",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}}, steps: [{setHeaderRoute: {name: r, match: [{headerName: agent, headerValue: {exact: chrome}}]}}]}}",
            "spec.strategy.trafficRouting.managedRoutes: Required value: Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes'",
        ),
        (
            "setHeaderRoute not in managedRoutes",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}, managedRoutes: [{name: other}]}, steps: [{setHeaderRoute: {name: r, match: [{headerName: agent, headerValue: {exact: chrome}}]}}]}}",
            "spec.strategy.steps[0].setHeaderRoute: Invalid value: \"r\": Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes",
        ),
        (
            "setHeaderRoute with a plugin router",
            "strategy: {canary: {trafficRouting: {plugins: {some/plugin: {key: value}}, managedRoutes: [{name: r}]}, steps: [{setHeaderRoute: {name: r, match: [{headerName: agent, headerValue: {exact: chrome}}]}}]}}",
            "",
        ),
        (
            "setMirrorRoute with nginx",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {nginx: {stableIngress: ing}, managedRoutes: [{name: m}]}, steps: [{setMirrorRoute: {name: m, percentage: 50, match: [{method: {exact: GET}, headers: {b: {prefix: x}, a: {exact: y}}}]}}]}}",
            "spec.strategy.steps[0].setMirrorRoute: Invalid value: {\"name\":\"m\",\"match\":[{\"method\":{\"exact\":\"GET\"},\"headers\":{\"a\":{\"exact\":\"y\"},\"b\":{\"prefix\":\"x\"}}}],\"percentage\":50}: SetMirrorRoute requires TrafficRouting, supports Istio only",
        ),
        (
            "setMirrorRoute with several match values",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}, managedRoutes: [{name: m}]}, steps: [{setMirrorRoute: {name: m, match: [{path: {exact: /a, prefix: /}}]}}]}}",
            "spec.strategy.steps[0].setMirrorRoute.match[0]: Invalid value: {\"exact\":\"/a\",\"prefix\":\"/\"}: StringMatch match value must have exactly one of the following: exact, regex, prefix",
        ),
        (
            "experiment weight without traffic routing",
            "strategy: {canary: {steps: [{experiment: {templates: [{name: t, specRef: canary, weight: 20}]}}]}}",
            "spec.strategy.steps[0].experiment.templates[0].weight: Invalid value: 20: Experiment template weight cannot be set unless TrafficRouting is enabled",
        ),
        (
            "experiment weight with nginx",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {nginx: {stableIngress: ing}}, steps: [{experiment: {templates: [{name: t, specRef: canary, weight: 20}]}}]}}",
            "spec.strategy.steps[0].experiment.templates[0].weight: Invalid value: 20: Experiment template weight is only available for TrafficRouting with SMI, ALB, Istio and Plugins at this time",
        ),
        (
            "analysis arg with a bad fieldRef",
            "strategy: {canary: {steps: [{analysis: {templates: [{templateName: t}], args: [{name: app, valueFrom: {fieldRef: {fieldPath: \"metadata.label['app']\"}}}, {name: v, value: x}]}}]}}",
            "spec.strategy.steps[0].analyses: Invalid value: [{\"name\":\"app\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.label['app']\"}}},{\"name\":\"v\",\"value\":\"x\"}]: Analyses arguments must refer to valid object metadata supported by downwardAPI",
        ),
        (
            "analysis args with good fieldRefs",
            "strategy: {canary: {steps: [{analysis: {templates: [{templateName: t}], args: [{name: a, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['team']\"}}}, {name: b, valueFrom: {fieldRef: {fieldPath: metadata.name}}}, {name: c, valueFrom: {fieldRef: {fieldPath: spec.replicas}}}]}}]}}",
            "",
        ),
        (
            "experiment analysis arg with a bad fieldRef",
            "strategy: {canary: {steps: [{experiment: {templates: [{name: t, specRef: canary}], analyses: [{name: a, templateName: t, args: [{name: x, valueFrom: {fieldRef: {fieldPath: metadata.generation}}}]}]}}]}}",
            "spec.strategy.steps[0].analyses: Invalid value: [{\"name\":\"x\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.generation\"}}}]: Analyses arguments must refer to valid object metadata supported by downwardAPI",
        ),
        (
            "In without values",
            "selector: {matchLabels: null, matchExpressions: [{key: app, operator: In}]}",
            "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        ),
        (
            "Exists with values",
            "selector: {matchLabels: null, matchExpressions: [{key: app, operator: Exists, values: [x]}]}",
            "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        ),
        (
            "selector key with two slashes",
            "selector: {matchLabels: {a/b/c: x}}",
            "spec.selector.matchLabels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ),
        (
            "selector key with a bad prefix",
            "selector: {matchLabels: {Foo.com/x: y}}",
            "spec.selector.matchLabels: Invalid value: \"Foo.com/x\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
        (
            "template annotation key",
            "template: {metadata: {annotations: {'-bad': x}}}",
            "spec.template.annotations: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
        (
            "template label key",
            "template: {metadata: {labels: {app: foo, '-bad': x}}}",
            "spec.template.labels: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
        (
            "long template label value",
            "template: {metadata: {labels: {app: foo, x: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}}",
            "spec.template.labels: Invalid value: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more than 63 characters",
        ),
        (
            "long container name",
            "template: {spec: {containers: [{name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, image: nginx}]}}",
            "spec.template.spec.containers[0].name: Invalid value: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more than 63 characters",
        ),
        (
            "container name with dots",
            "template: {spec: {containers: [{name: a.b, image: nginx}]}}",
            "spec.template.spec.containers[0].name: Invalid value: \"a.b\": must not contain dots",
        ),
        (
            "unknown dnsPolicy",
            "template: {spec: {dnsPolicy: Custom}}",
            "spec.template.spec.dnsPolicy: Unsupported value: \"Custom\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
        ),
        (
            "unknown terminationMessagePolicy",
            "template: {spec: {containers: [{name: app, image: nginx, terminationMessagePolicy: Log}]}}",
            "spec.template.spec.containers[0].terminationMessagePolicy: Unsupported value: \"Log\": supported values: \"File\", \"FallbackToLogsOnError\"",
        ),
        (
            "unknown restartPolicy",
            "template: {spec: {restartPolicy: Sometimes}}",
            "spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
        ),
        (
            "bad serviceAccountName",
            "template: {spec: {serviceAccountName: Bad_SA}}",
            "spec.template.spec.serviceAccountName: Invalid value: \"Bad_SA\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ),
        (
            "bad hostname",
            "template: {spec: {hostname: a.b}}",
            "spec.template.spec.hostname: Invalid value: \"a.b\": must not contain dots",
        ),
        (
            "zero activeDeadlineSeconds",
            "template: {spec: {activeDeadlineSeconds: 0}}",
            "spec.template.spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
        ),
        (
            "init container probe",
            "template: {spec: {initContainers: [{name: init, image: busybox, livenessProbe: {exec: {command: [x]}}}]}}",
            "spec.template.spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
        ),
        (
            "sidecar init container probe",
            "template: {spec: {initContainers: [{name: init, image: busybox, restartPolicy: Always, livenessProbe: {exec: {command: [x]}}}]}}",
            "",
        ),
        (
            "regular container restartPolicy",
            "template: {spec: {containers: [{name: app, image: nginx, restartPolicy: Always}]}}",
            "spec.template.spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
        ),
        (
            "bad nodeSelector",
            "template: {spec: {nodeSelector: {k: 'a b'}}}",
            "spec.template.spec.nodeSelector: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
        (
            "no template",
            "template: null",
            "spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`",
        ),
        (
            "pause plus sign",
            "strategy: {canary: {steps: [{pause: {duration: '+5'}}]}}",
            "",
        ),
        (
            "pause fraction",
            "strategy: {canary: {steps: [{pause: {duration: '1.5'}}]}}",
            "spec.strategy.steps[0].pause.duration: Invalid value: -1: Duration needs to be greater than 0",
        ),
        (
            "pause empty string",
            "strategy: {canary: {steps: [{pause: {duration: ''}}]}}",
            "spec.strategy.steps[0].pause.duration: Invalid value: -1: Duration needs to be greater than 0",
        ),
        (
            "pause negative go duration",
            "strategy: {canary: {steps: [{pause: {duration: '-1m'}}]}}",
            "spec.strategy.steps[0].pause.duration: Invalid value: -60: Duration needs to be greater than 0",
        ),
        (
            "maxSurge non-numeric string",
            "strategy: {canary: {maxSurge: abc, maxUnavailable: 0}}",
            "spec.strategy.maxSurge: Invalid value: \"abc\": MaxSurge and MaxUnavailable both can not be zero",
        ),
        (
            "maxSurge numeric string",
            "strategy: {canary: {maxSurge: '5', maxUnavailable: 0}}",
            "",
        ),
        (
            "ping-pong with istio missing pong",
            "strategy: {canary: {pingPong: {pingService: ping, pongService: ''}, trafficRouting: {istio: {virtualService: {name: vs}}}}}",
            "spec.strategy.pingPong.pongService: Invalid value: \"\": Ping service and Pong service must to be set to use Ping-Pong feature",
        ),
        (
            "mirror route method without value",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}, managedRoutes: [{name: m}]}, steps: [{setMirrorRoute: {name: m, match: [{method: {}}]}}]}}",
            "spec.strategy.steps[0].setMirrorRoute.match[0]: Invalid value: {}: StringMatch value missed, match value must have one of the following: exact, regex, prefix",
        ),
        (
            "ALB header empty exact",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {alb: {ingress: ing, servicePort: 80}, managedRoutes: [{name: r}]}, steps: [{setHeaderRoute: {name: r, match: [{headerName: h, headerValue: {exact: ''}}]}}]}}",
            "spec.strategy.steps[0].setHeaderRoute.match[0]: Invalid value: {}: SetHeaderRoute match value invalid. ALB supports 'exact' value only",
        ),
        (
            "quoted unicode service",
            "strategy: {canary: null, blueGreen: {activeService: \"s\\u00e9\\tv\", previewService: \"s\\u00e9\\tv\"}}",
            "spec.strategy.activeService: Invalid value: \"sé\\tv\": This rollout uses the same service for the active and preview services, but two different services are required.",
        ),
        (
            "annotation fieldRef uppercase key",
            "strategy: {canary: {steps: [{analysis: {templates: [{templateName: t}], args: [{name: a, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['Foo']\"}}}]}}]}}",
            "",
        ),
        (
            "fieldRef metadataX",
            "strategy: {canary: {steps: [{analysis: {templates: [{templateName: t}], args: [{name: a, valueFrom: {podTemplateHashValue: Stable}}, {name: b, valueFrom: {fieldRef: {fieldPath: metadataX}}}]}}]}}",
            "spec.strategy.steps[0].analyses: Invalid value: [{\"name\":\"a\",\"valueFrom\":{\"podTemplateHashValue\":\"Stable\"}},{\"name\":\"b\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadataX\"}}}]: Analyses arguments must refer to valid object metadata supported by downwardAPI",
        ),
        (
            "blue-green empty services",
            "strategy: {canary: null, blueGreen: {activeService: ''}}",
            "spec.strategy.activeService: Invalid value: \"\": This rollout uses the same service for the active and preview services, but two different services are required.",
        ),
        (
            "blue-green both anti-affinities",
            "strategy: {canary: null, blueGreen: {activeService: a, antiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {}, preferredDuringSchedulingIgnoredDuringExecution: {weight: 0}}}}",
            "spec.strategy.antiAffinity: Invalid value: \"antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: true antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: true\": AntiAffinity must have exactly one strategy listed",
        ),
        (
            "empty managedRoutes",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}, managedRoutes: []}, steps: [{setHeaderRoute: {name: r}}]}}",
            "spec.strategy.steps[0].setHeaderRoute: Invalid value: \"r\": Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes",
        ),
        (
            "negative setWeight",
            "strategy: {canary: {steps: [{setWeight: -1}]}}",
            "spec.strategy.steps[0].setWeight: Invalid value: -1: SetWeight needs to be between 0 and 100",
        ),
        (
            "negative progressDeadlineSeconds",
            "progressDeadlineSeconds: -5",
            "spec.progressDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0",
        ),
        (
            "istio host split without services",
            "strategy: {canary: {trafficRouting: {istio: {virtualService: {name: vs}}}}}",
            "spec.strategy.stableService: Invalid value: \"\": Canary service and Stable service must to be set to use Traffic Routing",
        ),
        (
            "plugin step",
            "strategy: {canary: {steps: [{plugin: {name: my/plugin, config: {a: 1}}}]}}",
            "",
        ),
        (
            "header route removal step",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}, managedRoutes: [{name: r}]}, steps: [{setHeaderRoute: {name: r}}]}}",
            "",
        ),
        (
            "experiment weight with istio",
            "strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs}}}, steps: [{experiment: {templates: [{name: t, specRef: stable, weight: 5}]}}]}}",
            "",
        ),
        ("replicas omitted", "replicas: null", ""),
        (
            "ephemeral containers",
            "template: {spec: {ephemeralContainers: [{name: dbg, image: busybox}]}}",
            "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template",
        ),
    ];

    #[test]
    fn first_error_matches_argo() {
        assert!(CASES.len() >= 30);
        let mut failures = Vec::new();
        for (name, patch, expected) in CASES {
            let got = first_error(patch);
            if got != *expected {
                failures.push(format!(
                    "{name}:\n  expected: {expected}\n  got:      {got}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Prints every case as JSON for the Go oracle:
    /// `cargo test --lib validation::tests::dump_cases_for_go_oracle -- --ignored --nocapture`,
    /// then feed each `CASE` line's manifest to a program calling Argo's `ValidateRollout`.
    #[test]
    #[ignore]
    fn dump_cases_for_go_oracle() {
        for (name, patch, _) in CASES {
            let all: Vec<String> = validate_rollout(&rollout(patch))
                .iter()
                .map(ToString::to_string)
                .collect();
            println!(
                "CASE\t{name}\t{}\t{}",
                rollout_json(patch),
                all.join(" || ")
            );
        }
    }

    #[test]
    fn invalid_spec_messages_of_the_contract() {
        let ro = rollout("selector: null");
        assert_eq!(
            first_invalid_spec_message(&ro).unwrap(),
            "The Rollout \"foo\" is invalid: spec.selector: Required value: Rollout has missing field '.spec.selector'"
        );
        let ro = rollout("strategy: {canary: {steps: [{setWeight: 200}]}}");
        assert_eq!(
            first_invalid_spec_message(&ro).unwrap(),
            "The Rollout \"foo\" is invalid: spec.strategy.steps[0].setWeight: Invalid value: 200: SetWeight needs to be between 0 and 100"
        );
        assert_eq!(first_invalid_spec_message(&rollout("{}")), None);
    }

    #[test]
    fn resolved_workload_ref_template_is_validated() {
        let ro = rollout(
            "workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}\ntemplate: {spec: {containers: [{name: app}]}}",
        );
        let resolved = ValidationOptions {
            template_resolved_from_ref: true,
        };
        assert_eq!(
            validate_rollout_with(&ro, resolved)[0].to_string(),
            "spec.template.spec.containers[0].image: Required value"
        );
        assert_eq!(
            invalid_workload_ref(&ro, "deployments.apps \"web\" not found").to_string(),
            "spec.workloadRef: Invalid value: {\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\"}: deployments.apps \"web\" not found"
        );
    }

    #[test]
    fn template_annotations_size_limit() {
        let with_annotation = |len: usize| {
            let mut ro = rollout("{}");
            let meta = ro
                .spec
                .template
                .as_mut()
                .unwrap()
                .metadata
                .as_mut()
                .unwrap();
            meta.annotations = Some(BTreeMap::from([("big".to_string(), "x".repeat(len))]));
            validate_rollout(&ro)
        };
        // 3 bytes of key plus the value, against 256 KiB.
        assert!(with_annotation(262_141).is_empty());
        assert_eq!(
            with_annotation(262_142)[0].to_string(),
            "spec.template.annotations: Too long: may not be more than 262144 bytes"
        );
    }

    #[test]
    fn field_error_rendering() {
        assert_eq!(
            FieldError::internal("spec.template", "boom").to_string(),
            "spec.template: Internal error: boom"
        );
        assert_eq!(
            FieldError::required("spec.x", "").to_string(),
            "spec.x: Required value"
        );
        assert_eq!(
            FieldError::forbidden("spec.x", "no").to_string(),
            "spec.x: Forbidden: no"
        );
        assert_eq!(
            FieldError::too_long("spec.annotations", 262144).to_string(),
            "spec.annotations: Too long: may not be more than 262144 bytes"
        );
        assert_eq!(
            FieldError::new(ErrorType::NotFound, "spec.x", "y", "").to_string(),
            "spec.x: Not found: \"y\""
        );
        assert_eq!(
            FieldError::invalid("p", BadValue::Nil, "d").to_string(),
            "p: Invalid value: null: d"
        );
        assert_eq!(
            FieldError::invalid("p", BadValue::Omitted, "d").to_string(),
            "p: Invalid value: d"
        );
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("tab\there\n"), r#""tab\there\n""#);
        assert_eq!(go_quote("\u{1}\u{7f}"), r#""\x01\x7f""#);
        assert_eq!(go_quote("héllo ☃ 🎉"), "\"héllo ☃ 🎉\"");
        assert_eq!(
            go_quote("\u{a0}\u{200b}\u{feff}"),
            r#""\u00a0\u200b\ufeff""#
        );
        assert_eq!(go_quote("\u{f0000}"), r#""\U000f0000""#);
        // Checked against Go's strconv.Quote.
        assert_eq!(
            go_quote(
                "\u{a0}\u{ad}\u{200b}\u{2028}\u{e000}\u{fffd}\u{1f600}\u{301}\u{3000}\u{1680}\u{fffe}\u{10ffff}\u{85}\u{61c}\u{600}\u{e0001}\u{2066}"
            ),
            "\"\\u00a0\\u00ad\\u200b\\u2028\\ue000\u{fffd}\u{1f600}\u{301}\\u3000\\u1680\\ufffe\\U0010ffff\\u0085\\u061c\\u0600\\U000e0001\\u2066\""
        );
        assert_eq!(
            Json::str("<a&b>\u{2028}\n\u{8}\u{1}'").encode(),
            r#""\u003ca\u0026b\u003e\u2028\n\b\u0001'""#
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("-2m"), Ok(-120_000_000_000));
        assert_eq!(parse_go_duration("+0"), Ok(0));
        assert_eq!(parse_go_duration("300µs"), Ok(300_000));
        assert_eq!(
            parse_go_duration("5"),
            Err("time: missing unit in duration \"5\"".into())
        );
        assert_eq!(
            parse_go_duration("1d"),
            Err("time: unknown unit \"d\" in duration \"1d\"".into())
        );
        assert_eq!(
            parse_go_duration("abc"),
            Err("time: invalid duration \"abc\"".into())
        );
        assert_eq!(
            parse_go_duration("3000000h"),
            Err("time: invalid duration \"3000000h\"".into())
        );
        assert_eq!(
            parse_go_duration("1é"),
            Err("time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"".into())
        );
        assert_eq!(parse_go_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_go_duration("0.0000000001s"), Ok(0));
        assert_eq!(parse_go_duration("1.999999999999s"), Ok(1_999_999_999));
        assert_eq!(parse_go_duration("9223372036854775807ns"), Ok(i64::MAX));
        assert_eq!(parse_go_duration("-9223372036854775808ns"), Ok(i64::MIN));
        assert_eq!(
            parse_go_duration("9223372036854775808ns"),
            Err("time: invalid duration \"9223372036854775808ns\"".into())
        );
        assert_eq!(
            parse_go_duration(""),
            Err("time: invalid duration \"\"".into())
        );
        let pause = |d: IntOrString| pause_duration_seconds(&RolloutPause { duration: Some(d) });
        assert_eq!(
            pause(IntOrString::String("9223372036854775807ns".into())),
            i32::MIN
        );
        assert_eq!(pause(IntOrString::String("1.5s".into())), 1);
        assert_eq!(pause(IntOrString::String("".into())), -1);
        assert_eq!(pause(IntOrString::String("90".into())), 90);
        assert_eq!(pause(IntOrString::String("1m30.9s".into())), 90);
        assert_eq!(pause(IntOrString::String("3000000000".into())), -1);
        assert_eq!(pause(IntOrString::String("-3000000000s".into())), i32::MIN);
        assert_eq!(pause(IntOrString::Int(7)), 7);
        assert_eq!(pause_duration_seconds(&RolloutPause { duration: None }), 0);
    }

    #[test]
    fn downward_api_paths() {
        let ro = rollout("{}");
        let meta = &ro.metadata;
        assert_eq!(
            extract_field_path_as_string(meta, "metadata.name").unwrap(),
            "foo"
        );
        assert_eq!(
            extract_field_path_as_string(meta, "metadata.labels").unwrap(),
            "team=\"a\""
        );
        assert_eq!(
            extract_field_path_as_string(meta, "metadata.labels['team']").unwrap(),
            "a"
        );
        assert_eq!(
            extract_field_path_as_string(meta, "metadata.annotations['missing']").unwrap(),
            ""
        );
        assert_eq!(
            extract_field_path_as_string(meta, "metadata.label['app']").unwrap_err(),
            "fieldPath \"metadata.label['app']\" does not support subscript"
        );
        assert_eq!(
            extract_field_path_as_string(meta, "metadata.generation").unwrap_err(),
            "unsupported fieldPath: metadata.generation"
        );
        assert!(
            extract_field_path_as_string(meta, "metadata.labels['a/b/c']")
                .unwrap_err()
                .starts_with("invalid key subscript in metadata.labels['a/b/c']: a qualified name must consist")
        );
    }

    fn metrics(yaml: &str) -> Vec<Metric> {
        serde_norway::from_str(yaml).unwrap()
    }

    /// (metrics YAML, Argo's ValidateMetrics error or "" when valid).
    const METRIC_CASES: &[(&str, &str)] = &[
        ("[]", "no metrics specified"),
        ("[{name: m, provider: {prometheus: {query: q}}}]", ""),
        (
            "[{name: m, provider: {prometheus: {query: q}}}, {name: m, provider: {prometheus: {query: q}}}]",
            "metrics[1]: duplicate name 'm'",
        ),
        (
            "[{name: m, provider: {}}]",
            "metrics[0]: no provider specified",
        ),
        (
            "[{name: m, provider: {prometheus: {query: q}, web: {url: u}}}]",
            "metrics[0]: multiple providers specified",
        ),
        (
            "[{name: m, count: 3, provider: {prometheus: {query: q}}}]",
            "metrics[0]: interval must be specified when count > 1",
        ),
        (
            "[{name: m, count: 2, failureLimit: 3, interval: 1m, provider: {prometheus: {query: q}}}]",
            "metrics[0]: count (2) must be >= failureLimit + consecutiveSuccessLimit (3 + 0) if both >= 0",
        ),
        (
            "[{name: m, failureLimit: -1, provider: {prometheus: {query: q}}}]",
            "metrics[0]: failureLimit and consecutiveSuccessLimit cannot both be disabled",
        ),
        (
            "[{name: m, failureLimit: -2, provider: {prometheus: {query: q}}}]",
            "metrics[0]: failureLimit must be >= 0, or -1 to be disabled",
        ),
        (
            "[{name: m, consecutiveSuccessLimit: -1, provider: {prometheus: {query: q}}}]",
            "metrics[0]: consecutiveSuccessLimit must be >= 0",
        ),
        (
            "[{name: m, inconclusiveLimit: -1, provider: {prometheus: {query: q}}}]",
            "metrics[0]: inconclusiveLimit must be >= 0",
        ),
        (
            "[{name: m, consecutiveErrorLimit: -1, provider: {prometheus: {query: q}}}]",
            "metrics[0]: consecutiveErrorLimit must be >= 0",
        ),
        (
            "[{name: m, count: 2, inconclusiveLimit: 3, interval: 1m, provider: {prometheus: {query: q}}}]",
            "metrics[0]: count must be >= inconclusiveLimit",
        ),
        (
            "[{name: m, count: 2, failureLimit: -1, consecutiveSuccessLimit: 3, interval: 1m, provider: {prometheus: {query: q}}}]",
            "metrics[0]: count must be >= consecutiveSuccessLimit",
        ),
        (
            "[{name: m, interval: 5, provider: {prometheus: {query: q}}}]",
            "metrics[0]: invalid interval string: time: missing unit in duration \"5\"",
        ),
        (
            "[{name: m, initialDelay: 1d, provider: {prometheus: {query: q}}}]",
            "metrics[0]: invalid startDelay string: time: unknown unit \"d\" in duration \"1d\"",
        ),
        (
            "[{name: m, count: '{{args.n}}', provider: {prometheus: {query: q}}}]",
            "",
        ),
        (
            "[{name: m, provider: {plugin: {a/b: {}, c/d: {}}}}]",
            "metrics[0]: multiple providers specified",
        ),
    ];

    #[test]
    fn analysis_metric_validation_matches_argo() {
        for (yaml, expected) in METRIC_CASES {
            let got = validate_analysis_metrics(&metrics(yaml))
                .err()
                .unwrap_or_default();
            assert_eq!(got, *expected, "metrics {yaml}");
        }
    }
}
