//! The web provider: an HTTP request whose JSON response, picked by a JSONPath, is the result
//! (Argo's `metricproviders/webmetric`).
//!
//! `GET` (default), `POST` or `PUT` with `headers` and a `body` or `jsonBody` (not both; none
//! with GET); `timeoutSeconds` (default 10); a non-2xx status is an Error; a body that is not
//! JSON becomes the value as is, phase Successful, conditions not evaluated (v1.9.1); otherwise
//! the first value the JSONPath (default `{$}`) finds is the condition's `result`, and its JSON
//! (as Go's `encoding/json` writes it) the measured value.

use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;

use super::http::{HttpClient, HttpError};
use super::jsonpath::{JsonPath, to_go_numbers};
use super::oauth2::OAuth2;
use super::{MeasureContext, MetricProvider, mark_error};
use crate::analysis::expr::{self, Value};
use crate::crd::{AnalysisPhase, Measurement, Metric, WebMetricMethod};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A web metric, ready to run.
#[derive(Clone, Debug)]
pub struct WebProvider {
    http: HttpClient,
    json_path: JsonPath,
    timeout: Duration,
    insecure: bool,
    oauth2: Option<OAuth2>,
}

impl WebProvider {
    /// Builds the provider (Argo's `NewWebMetricHttpClient` and `NewWebMetricJsonParser`):
    /// errors for OAuth2 without credentials and for a JSONPath that does not parse.
    pub fn new(metric: &Metric, http: HttpClient) -> Result<WebProvider, String> {
        let web = metric
            .provider
            .web
            .as_ref()
            .ok_or("metric has no web provider")?;
        let timeout = match web.timeout_seconds {
            Some(t) if t > 0 => Duration::from_secs(t as u64),
            _ => DEFAULT_TIMEOUT,
        };
        let oauth2 =
            OAuth2::from_config(web.authentication.as_ref().and_then(|a| a.oauth2.as_ref()))?;
        let path = web
            .json_path
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or("{$}");
        Ok(WebProvider {
            http,
            json_path: JsonPath::parse(path)?,
            timeout,
            insecure: web.insecure.unwrap_or(false),
            oauth2,
        })
    }

    async fn measure(&self, metric: &Metric) -> Result<(String, AnalysisPhase), String> {
        let web = metric.provider.web.as_ref().expect("checked in new");
        let method = match &web.method {
            None => "GET".to_string(),
            Some(m) if m.as_str().is_empty() => "GET".to_string(),
            Some(m) => m.as_str().to_string(),
        };
        let body = web.body.clone().filter(|b| !b.is_empty());
        if body.is_some() && web.json_body.is_some() {
            return Err(
                "use either Body or JSONBody; both cannot exists for WebMetric payload".into(),
            );
        }
        if (body.is_some() || web.json_body.is_some()) && method == WebMetricMethod::Get.as_str() {
            return Err(
                "Body/JSONBody can only be used with POST or PUT WebMetric Method types".into(),
            );
        }
        let payload = match (&body, &web.json_body) {
            (Some(b), _) => b.clone().into_bytes(),
            (None, Some(json)) => serde_json::to_vec(json).map_err(|e| e.to_string())?,
            (None, None) => Vec::new(),
        };
        let op = go_method_name(&method);
        let fail =
            |detail: String| format!("{op} {}: {detail}", crate::validation::go_quote(&web.url));
        let mut request = http::Request::builder()
            .method(method.as_str())
            .uri(web.url.as_str())
            .body(Full::new(Bytes::from(payload)))
            .map_err(|_| {
                format!(
                    "parse {}: invalid URL",
                    crate::validation::go_quote(&web.url)
                )
            })?;
        for header in web.headers.iter().flatten() {
            let name = http::HeaderName::from_bytes(header.key.as_bytes()).map_err(|_| {
                fail(format!(
                    "net/http: invalid header field name {}",
                    crate::validation::go_quote(&header.key)
                ))
            })?;
            let value = http::HeaderValue::from_str(&header.value).map_err(|_| {
                fail(format!(
                    "net/http: invalid header field value for {}",
                    crate::validation::go_quote(&header.key)
                ))
            })?;
            request.headers_mut().insert(name, value);
        }
        if web.json_body.is_some() {
            request.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        if let Some(oauth2) = &self.oauth2 {
            let auth = oauth2
                .authorization(&self.http, self.insecure, self.timeout)
                .await
                .map_err(&fail)?;
            let value = http::HeaderValue::from_str(&auth).map_err(|e| fail(e.to_string()))?;
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
        }
        let response = self
            .http
            .send(request, self.insecure, self.timeout)
            .await
            .map_err(|e| match e {
                HttpError::Timeout => fail(
                    "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                        .into(),
                ),
                HttpError::Transport(t) => fail(t),
            })?;
        if !(200..300).contains(&response.status) {
            return Err(format!(
                "received non 2xx response code: {}",
                response.status
            ));
        }
        self.judge(metric, &response.body)
    }

    /// Argo's `parseResponse`.
    fn judge(&self, metric: &Metric, body: &[u8]) -> Result<(String, AnalysisPhase), String> {
        let Ok(data) = serde_json::from_slice::<serde_json::Value>(body) else {
            // Not JSON: the text is the value, and the conditions are not evaluated.
            return Ok((
                String::from_utf8_lossy(body).into_owned(),
                AnalysisPhase::Successful,
            ));
        };
        let data = to_go_numbers(&data);
        let found = self
            .json_path
            .first(&data)
            .map_err(|e| format!("Could not find JSONPath in body: {e}"))?
            .ok_or("result of web metric produced no value")?;
        let shown = go_json(&found);
        let phase = expr::evaluate_result(
            &Value::from_json(&found),
            metric.success_condition.as_deref().unwrap_or_default(),
            metric.failure_condition.as_deref().unwrap_or_default(),
        )?;
        Ok((shown, phase))
    }
}

/// The operation name Go's `url.Error` prints (`urlErrorOp`): the method with all but its
/// first letter lower-cased (`POST` → `Post`).
fn go_method_name(method: &str) -> String {
    let mut chars = method.chars();
    match chars.next() {
        Some(first) => std::iter::once(first)
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => "Get".into(),
    }
}

/// JSON as Go's `encoding/json` writes it: `1` not `1.0`, `1e+21`, `<`, `>`, `&` escaped,
/// object keys sorted.
pub fn go_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_go_json(v, &mut out);
    out
}

fn write_go_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value as J;
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&go_json_float(f)),
            _ => out.push_str(&n.to_string()),
        },
        J::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                        out.push_str(&format!("\\u{:04x}", c as u32))
                    }
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        J::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        J::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(&J::String(k.clone()), out);
                out.push(':');
                write_go_json(&map[k], out);
            }
            out.push('}');
        }
    }
}

/// encoding/json's float64: plain decimal, exponent form below 1e-6 or from 1e21 (`1e-7`,
/// `1e+21`).
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let sci = format!("{f:e}");
        let (mantissa, exp) = sci.split_once('e').expect("an exponent");
        let exp: i32 = exp.parse().expect("a number");
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{}", exp.abs())
    } else {
        format!("{f}")
    }
}

impl MetricProvider for WebProvider {
    fn kind(&self) -> &'static str {
        "Web"
    }

    fn run<'a>(
        &'a self,
        ctx: &'a MeasureContext<'a>,
        metric: &'a Metric,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(async move {
            let measurement = Measurement {
                started_at: Some(ctx.time()),
                ..Default::default()
            };
            match self.measure(metric).await {
                Ok((value, phase)) => Measurement {
                    value: Some(value),
                    phase,
                    finished_at: Some(ctx.time()),
                    ..measurement
                },
                Err(e) => mark_error(measurement, e, ctx),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_encoding() {
        assert_eq!(go_json(&to_go_numbers(&json!(1))), "1");
        assert_eq!(go_json(&to_go_numbers(&json!(0.5))), "0.5");
        assert_eq!(go_json(&to_go_numbers(&json!(1e21))), "1e+21");
        assert_eq!(go_json(&to_go_numbers(&json!(1e-7))), "1e-7");
        assert_eq!(
            go_json(&to_go_numbers(&json!({"b": [1, "<x>"], "a": null}))),
            r#"{"a":null,"b":[1,"\u003cx\u003e"]}"#
        );
        assert_eq!(go_method_name("POST"), "Post");
        assert_eq!(go_method_name("GET"), "Get");
        assert_eq!(go_method_name("post"), "post");
    }

    fn provider(yaml: &str) -> (Metric, WebProvider) {
        let metric: Metric = serde_norway::from_str(yaml).unwrap();
        let p = WebProvider::new(&metric, HttpClient::new()).unwrap();
        (metric, p)
    }

    #[tokio::test]
    async fn judging_bodies() {
        let (m, p) = provider(
            "name: m\nsuccessCondition: result.ok && result.rate >= 0.9\nprovider: {web: {url: 'http://x', jsonPath: '{$.data}'}}",
        );
        assert_eq!(
            p.judge(&m, br#"{"data": {"ok": true, "rate": 0.95}}"#)
                .unwrap(),
            (
                r#"{"ok":true,"rate":0.95}"#.to_string(),
                AnalysisPhase::Successful
            )
        );
        assert_eq!(
            p.judge(&m, br#"{"data": {"ok": false, "rate": 0.95}}"#)
                .unwrap()
                .1,
            AnalysisPhase::Failed
        );
        // Not JSON: the text, Successful, no evaluation.
        assert_eq!(
            p.judge(&m, b"all good").unwrap(),
            ("all good".to_string(), AnalysisPhase::Successful)
        );
        assert_eq!(
            p.judge(&m, br#"{"other": 1}"#).unwrap_err(),
            "Could not find JSONPath in body: data is not found"
        );
        assert_eq!(
            p.judge(&m, br#"{"data": 1}"#).unwrap_err(),
            "type float64[string] is undefined"
        );
        let bad = serde_norway::from_str::<Metric>(
            "name: m\nprovider: {web: {url: 'http://x', jsonPath: '{$.a'}}",
        )
        .unwrap();
        assert_eq!(
            WebProvider::new(&bad, HttpClient::new()).unwrap_err(),
            "unclosed action"
        );
        let oauth = serde_norway::from_str::<Metric>(
            "name: m\nprovider: {web: {url: 'http://x', authentication: {oauth2: {tokenUrl: 'http://t'}}}}",
        )
        .unwrap();
        assert_eq!(
            WebProvider::new(&oauth, HttpClient::new()).unwrap_err(),
            "missing mandatory parameter in metric for OAuth2 setup"
        );
    }
}
