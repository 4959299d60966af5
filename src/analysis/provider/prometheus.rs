//! The Prometheus provider: an instant or range query over the Prometheus HTTP API, judged by
//! the metric's conditions (Argo's `metricproviders/prometheus` with client_golang's API
//! client).
//!
//! Wire behaviour as client_golang v1.22: `POST <address>/api/v1/query` (or `query_range`) with
//! a form body, retried as `GET` on 405/501; custom headers on every request; the response's
//! `status`/`errorType`/`error`/`warnings` envelope. A scalar result is a `float64`, a vector or
//! matrix a `[]float64` of all sample values (matrix: every sample of every series); a string
//! result is not supported. The measured value is the scalar (`0.99`) or `[v1,v2]`, formatted
//! like Go's `strconv.FormatFloat(v, 'f', -1, 64)`.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;

use super::http::{HttpClient, HttpError};
use super::oauth2::OAuth2;
use super::{MeasureContext, MetricProvider, mark_error};
use crate::analysis::expr::{self, Value};
use crate::crd::{AnalysisPhase, Measurement, Metric};

/// Environment variable with the default Prometheus address.
pub const ADDRESS_ENV: &str = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS";
/// Metric result metadata key holding the query as run.
pub const RESOLVED_QUERY_KEY: &str = "ResolvedPrometheusQuery";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A Prometheus query, ready to run.
#[derive(Clone, Debug)]
pub struct PrometheusProvider {
    http: HttpClient,
    /// `scheme://authority/path` without a trailing slash.
    base: String,
    timeout: Duration,
    insecure: bool,
    headers: Vec<(String, String)>,
    oauth2: Option<OAuth2>,
}

/// Go's `IsUrl`: `url.Parse` succeeds with a scheme and a host.
pub fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    scheme_ok && !host.is_empty() && !s.contains(char::is_whitespace)
}

impl PrometheusProvider {
    /// Builds the provider for a metric (Argo's `NewPrometheusAPI` + `NewPrometheusProvider`);
    /// `env_address` is the value of [`ADDRESS_ENV`]. Errors in Argo's words: the address
    /// missing or not a URL, OAuth2 without credentials, a negative timeout; SigV4 signing
    /// (Amazon Managed Prometheus) is not supported here.
    pub fn new(
        metric: &Metric,
        env_address: Option<&str>,
        http: HttpClient,
    ) -> Result<Self, String> {
        let p = metric
            .provider
            .prometheus
            .as_ref()
            .ok_or("metric has no prometheus provider")?;
        let address = match p.address.as_deref().filter(|a| !a.is_empty()) {
            Some(a) if is_url(a) => a.to_string(),
            Some(_) => return Err("prometheus address is not is url format".into()),
            None => match env_address.filter(|a| !a.is_empty()) {
                Some(a) if is_url(a) => a.to_string(),
                Some(_) => return Err("prometheus address is not is url format".into()),
                None => return Err("prometheus address is not configured".into()),
            },
        };
        let auth = p.authentication.as_ref();
        let sigv4 = auth
            .and_then(|a| a.sigv4.as_ref())
            .filter(|s| s.region.is_some() || s.profile.is_some() || s.role_arn.is_some());
        if address.contains("aps-workspaces") && sigv4.is_some() {
            return Err(
                "prometheus sigv4 authentication is not supported by this controller".into(),
            );
        }
        let oauth2 = OAuth2::from_config(auth.and_then(|a| a.oauth2.as_ref()))?;
        let timeout = match p.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) if t < 0 => return Err("prometheus timeout should not be negative".into()),
            Some(t) => Duration::from_secs(t as u64),
        };
        let base = address.split(['?', '#']).next().unwrap_or_default();
        Ok(PrometheusProvider {
            http,
            base: base.trim_end_matches('/').to_string(),
            timeout,
            insecure: p.insecure.unwrap_or(false),
            headers: p
                .headers
                .iter()
                .flatten()
                .map(|h| (h.key.clone(), h.value.clone()))
                .collect(),
            oauth2,
        })
    }

    async fn query(
        &self,
        ctx: &MeasureContext<'_>,
        metric: &Metric,
    ) -> Result<QueryResult, String> {
        let p = metric.provider.prometheus.as_ref().expect("checked in new");
        let query = p.query.clone().unwrap_or_default();
        // url.Values.Encode sorts the keys.
        let mut params: Vec<(&str, String)> = vec![("query", query)];
        let endpoint = if let Some(range) = &p.range_query {
            let start = expr::eval_time(range.start.as_deref().unwrap_or_default(), ctx.now)
                .map_err(|e| format!("failed to parse rangeQuery.start as time: {e}"))?;
            let end = expr::eval_time(range.end.as_deref().unwrap_or_default(), ctx.now)
                .map_err(|e| format!("failed to parse rangeQuery.end as time: {e}"))?;
            let step =
                crate::validation::parse_go_duration(range.step.as_deref().unwrap_or_default())
                    .map_err(|e| format!("failed to parse rangeQuery.step as duration: {e}"))?;
            params.push(("start", format_time(start)));
            params.push(("end", format_time(end)));
            params.push(("step", format_float(step as f64 / 1e9)));
            "/api/v1/query_range"
        } else {
            params.push(("time", format_time(ctx.now)));
            "/api/v1/query"
        };
        params.sort_by_key(|(k, _)| *k);
        let encoded = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &params {
                form.append_pair(k, v);
            }
            form.finish()
        };
        let url = format!("{}{endpoint}", self.base);
        let authorization = match &self.oauth2 {
            Some(o) => Some(
                o.authorization(&self.http, self.insecure, self.timeout)
                    .await
                    .map_err(|e| format!("Post {}: {e}", crate::validation::go_quote(&url)))?,
            ),
            None => None,
        };
        let mut response = self
            .send(
                "POST",
                &url,
                Some(encoded.clone()),
                authorization.as_deref(),
            )
            .await?;
        if matches!(response.status, 405 | 501) {
            response = self
                .send(
                    "GET",
                    &format!("{url}?{encoded}"),
                    None,
                    authorization.as_deref(),
                )
                .await?;
        }
        parse_api_response(response.status, &response.body)
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        form: Option<String>,
        authorization: Option<&str>,
    ) -> Result<super::http::HttpResponse, String> {
        let op = if method == "POST" { "Post" } else { "Get" };
        let fail = |detail: String| format!("{op} {}: {detail}", crate::validation::go_quote(url));
        if self.timeout.is_zero() {
            return Err(fail("context deadline exceeded".into()));
        }
        let mut builder = http::Request::builder().method(method).uri(url);
        if form.is_some() {
            builder = builder.header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
        }
        if let Some(auth) = authorization {
            builder = builder.header(http::header::AUTHORIZATION, auth);
        }
        let mut request = builder
            .body(Full::new(Bytes::from(form.unwrap_or_default())))
            .map_err(|e| fail(e.to_string()))?;
        for (key, value) in &self.headers {
            let name = http::HeaderName::from_bytes(key.as_bytes()).map_err(|_| {
                fail(format!(
                    "net/http: invalid header field name {}",
                    crate::validation::go_quote(key)
                ))
            })?;
            let value = http::HeaderValue::from_str(value).map_err(|_| {
                fail(format!(
                    "net/http: invalid header field value for {}",
                    crate::validation::go_quote(key)
                ))
            })?;
            request.headers_mut().insert(name, value);
        }
        self.http
            .send(request, self.insecure, self.timeout)
            .await
            .map_err(|e| match e {
                HttpError::Timeout => fail("context deadline exceeded".into()),
                HttpError::Transport(t) => fail(t),
            })
    }
}

/// A decoded `data` of a query response, with the response's warnings.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    pub value: QueryValue,
    pub warnings: Vec<String>,
}

/// The result types of the Prometheus API.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryValue {
    Scalar(f64),
    /// Sample values of a vector, in order.
    Vector(Vec<f64>),
    /// Sample values of all series of a matrix, series after series.
    Matrix(Vec<f64>),
    String(String),
}

/// client_golang's `apiClientImpl.Do` and `queryResult` decoding, with its error texts
/// (`client_error: client error: 404`, `bad_data: parse error …`).
pub fn parse_api_response(status: u16, body: &[u8]) -> Result<QueryResult, String> {
    let api_error = status == 400 || status == 422;
    if status / 100 != 2 && !api_error {
        return Err(match status / 100 {
            4 => format!("client_error: client error: {status}"),
            5 => format!("server_error: server error: {status}"),
            _ => format!("bad_response: bad response code {status}"),
        });
    }
    let envelope: serde_json::Value = if status == 204 {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(body).map_err(|e| format!("bad_response: {e}"))?
    };
    let field = |k: &str| envelope.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let warnings = envelope
        .get("warnings")
        .and_then(|w| w.as_array())
        .map(|w| {
            w.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if api_error && field("status") == "success" {
        return Err("bad_response: inconsistent body for response code".into());
    }
    if field("status") == "error" {
        return Err(format!("{}: {}", field("errorType"), field("error")));
    }
    let data = envelope.get("data").ok_or("unexpected end of JSON input")?;
    let result = &data["result"];
    let value = match data["resultType"].as_str().unwrap_or_default() {
        "scalar" => QueryValue::Scalar(sample_pair(result)?),
        "string" => QueryValue::String(result[1].as_str().unwrap_or_default().to_string()),
        "vector" => QueryValue::Vector(
            result
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| match s.get("value") {
                    Some(v) => sample_pair(v),
                    // A native-histogram sample has no float value.
                    None => Ok(0.0),
                })
                .collect::<Result<_, _>>()?,
        ),
        "matrix" => {
            let mut values = Vec::new();
            for series in result.as_array().into_iter().flatten() {
                for pair in series
                    .get("values")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                {
                    values.push(sample_pair(pair)?);
                }
            }
            QueryValue::Matrix(values)
        }
        other => {
            return Err(format!(
                "unexpected value type {}",
                crate::validation::go_quote(other)
            ));
        }
    };
    Ok(QueryResult { value, warnings })
}

/// `[<time>, "<value>"]` → the value.
fn sample_pair(pair: &serde_json::Value) -> Result<f64, String> {
    match pair.get(1) {
        Some(serde_json::Value::String(s)) => parse_sample(s),
        _ => Err("sample value must be a quoted string".into()),
    }
}

/// Go's `strconv.ParseFloat` for sample values (`"NaN"`, `"+Inf"`, `"-Inf"` included).
fn parse_sample(s: &str) -> Result<f64, String> {
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        other => other.parse::<f64>().map_err(|_| {
            format!(
                "strconv.ParseFloat: parsing {}: invalid syntax",
                crate::validation::go_quote(other)
            )
        }),
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest digits, never an exponent.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{f}")
    }
}

/// client_golang's `formatTime`: seconds since the epoch as a decimal.
fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    format_float(t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9)
}

/// The measurement for a query result (Argo's `processResponse`): the value string and the
/// phase from the conditions.
pub fn judge(metric: &Metric, value: &QueryValue) -> Result<(String, AnalysisPhase), String> {
    let (shown, result) = match value {
        QueryValue::Scalar(f) => (format_float(*f), Value::Float(*f)),
        QueryValue::Vector(v) | QueryValue::Matrix(v) => (
            format!(
                "[{}]",
                v.iter()
                    .map(|f| format_float(*f))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Value::floats(v.iter().copied()),
        ),
        QueryValue::String(_) => return Err("Prometheus metric type not supported".into()),
    };
    let phase = expr::evaluate_result(
        &result,
        metric.success_condition.as_deref().unwrap_or_default(),
        metric.failure_condition.as_deref().unwrap_or_default(),
    )?;
    Ok((shown, phase))
}

impl MetricProvider for PrometheusProvider {
    fn kind(&self) -> &'static str {
        "Prometheus"
    }

    fn metadata(&self, metric: &Metric) -> Option<BTreeMap<String, String>> {
        let query = metric.provider.prometheus.as_ref()?.query.clone()?;
        (!query.is_empty()).then(|| BTreeMap::from([(RESOLVED_QUERY_KEY.to_string(), query)]))
    }

    fn run<'a>(
        &'a self,
        ctx: &'a MeasureContext<'a>,
        metric: &'a Metric,
    ) -> BoxFuture<'a, Measurement> {
        Box::pin(async move {
            let started = ctx.time();
            let mut measurement = Measurement {
                started_at: Some(started.clone()),
                ..Default::default()
            };
            let result = match self.query(ctx, metric).await {
                Ok(r) => r,
                Err(e) => return mark_error(measurement, e, ctx),
            };
            let (value, phase) = match judge(metric, &result.value) {
                Ok(v) => v,
                Err(e) => return mark_error(measurement, e, ctx),
            };
            measurement.value = Some(value);
            if !result.warnings.is_empty() {
                let joined = result
                    .warnings
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                measurement.metadata = Some(BTreeMap::from([("warnings".to_string(), joined)]));
            }
            measurement.phase = phase;
            measurement.finished_at = Some(ctx.time());
            measurement
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(is_url("http://prometheus:9090"));
        assert!(is_url("https://user:pw@prom.example.com/prometheus"));
        assert!(!is_url("prometheus:9090"));
        assert!(!is_url("http://"));
        assert!(!is_url("not a url"));
    }

    #[test]
    fn api_responses() {
        let ok = |body: &str| parse_api_response(200, body.as_bytes());
        assert_eq!(
            ok(r#"{"status":"success","data":{"resultType":"scalar","result":[1714557600,"0.99"]}}"#).unwrap().value,
            QueryValue::Scalar(0.99)
        );
        match ok(r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]},{"metric":{"a":"b"},"value":[1,"NaN"]}]}}"#)
            .unwrap()
            .value
        {
            QueryValue::Vector(v) => assert!(v.len() == 2 && v[0] == 1.0 && v[1].is_nan()),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            ok(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]},{"metric":{},"values":[[1,"3"]]}]},"warnings":["w1","w2"]}"#).unwrap(),
            QueryResult {
                value: QueryValue::Matrix(vec![1.0, 2.0, 3.0]),
                warnings: vec!["w1".into(), "w2".into()]
            }
        );
        assert_eq!(
            parse_api_response(
                400,
                br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#
            )
            .unwrap_err(),
            "bad_data: parse error at char 5"
        );
        assert_eq!(
            parse_api_response(404, b"nope").unwrap_err(),
            "client_error: client error: 404"
        );
        assert_eq!(
            parse_api_response(503, b"").unwrap_err(),
            "server_error: server error: 503"
        );
        assert_eq!(
            parse_api_response(422, br#"{"status":"success","data":{}}"#).unwrap_err(),
            "bad_response: inconsistent body for response code"
        );
        assert!(
            parse_api_response(200, b"<html>")
                .unwrap_err()
                .starts_with("bad_response: ")
        );
        assert_eq!(
            ok(r#"{"status":"success","data":{"resultType":"weird","result":[]}}"#).unwrap_err(),
            "unexpected value type \"weird\""
        );
    }

    #[test]
    fn judging() {
        let metric: Metric = serde_norway::from_str(
            "name: m\nsuccessCondition: result[0] >= 0.95\nprovider: {prometheus: {query: up}}",
        )
        .unwrap();
        assert_eq!(
            judge(&metric, &QueryValue::Vector(vec![0.99, 1.0])).unwrap(),
            ("[0.99,1]".to_string(), AnalysisPhase::Successful)
        );
        assert_eq!(
            judge(&metric, &QueryValue::Vector(vec![0.5])).unwrap(),
            ("[0.5]".to_string(), AnalysisPhase::Failed)
        );
        assert_eq!(
            judge(&metric, &QueryValue::Vector(vec![])).unwrap_err(),
            "reflect: slice index out of range"
        );
        assert_eq!(
            judge(&metric, &QueryValue::Scalar(0.99)).unwrap_err(),
            "type float64[int] is undefined"
        );
        assert_eq!(
            judge(&metric, &QueryValue::String("x".into())).unwrap_err(),
            "Prometheus metric type not supported"
        );
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
    }
}
