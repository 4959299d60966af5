//! Component tests of the Prometheus and web providers and of the async reconcile driver,
//! against a tiny HTTP server started inside each test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::analysis::assess::k8s_time;
use crate::analysis::provider::{
    MeasureContext, ProviderFactory, ProviderSource, SecretSource, reconcile,
};
use crate::crd::{AnalysisPhase, AnalysisRun, Measurement, Metric};

/// A request as the server saw it.
#[derive(Clone, Debug, Default)]
struct Seen {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// What the server answers: status, content type, body, and a delay before answering.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// Serves HTTP/1.1 on 127.0.0.1 with `handler`; returns the base URL and the requests seen.
async fn serve(
    handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler: Handler = Arc::new(handler);
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, content_length) = loop {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap_or(0));
                        break (pos + 4, length);
                    }
                };
                while buf.len() < head_end + content_length {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end - 4]).to_string();
                let mut lines = head.lines();
                let mut request_line = lines.next().unwrap_or_default().split(' ');
                let mut request = Seen {
                    method: request_line.next().unwrap_or_default().to_string(),
                    target: request_line.next().unwrap_or_default().to_string(),
                    body: String::from_utf8_lossy(&buf[head_end..]).to_string(),
                    ..Default::default()
                };
                for line in lines {
                    if let Some((k, v)) = line.split_once(':') {
                        request
                            .headers
                            .insert(k.trim().to_lowercase(), v.trim().to_string());
                    }
                }
                let answer = handler(&request);
                log.lock().unwrap().push(request);
                tokio::time::sleep(answer.delay).await;
                let response = format!(
                    "HTTP/1.1 {} X\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{}",
                    answer.status,
                    answer.body.len(),
                    answer.body
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (base, seen)
}

fn now() -> DateTime<Utc> {
    "2024-05-01T10:00:00Z".parse().unwrap()
}

fn run() -> AnalysisRun {
    serde_norway::from_str(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisRun\nmetadata: {name: r, namespace: default, uid: u}\nspec: {metrics: []}\n",
    )
    .unwrap()
}

fn metric(yaml: &str) -> Metric {
    serde_norway::from_str(yaml).unwrap()
}

fn factory() -> ProviderFactory {
    ProviderFactory {
        http: crate::analysis::provider::http::HttpClient::new(),
        job_client: None,
        job_namespace: None,
        job_other_cluster: false,
        prometheus_address: None,
    }
}

async fn measure(m: &Metric) -> Measurement {
    let provider = factory().provider("default", m).expect("a provider");
    let run = run();
    let ctx = MeasureContext {
        run: &run,
        now: now(),
    };
    provider.run(&ctx, m).await
}

fn form(body: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

const VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1714557600,"0.99"]}]}}"#;

#[tokio::test]
async fn prometheus_instant_query() {
    let (base, seen) = serve(|_| reply(200, VECTOR)).await;
    let m = metric(&format!(
        r#"
name: success-rate
successCondition: result[0] >= 0.95
provider:
  prometheus:
    address: {base}/prom/
    query: sum(rate(http_requests_total{{code!~"5.."}}[5m]))
    headers: [{{key: X-Scope-OrgID, value: tenant-a}}]
"#
    ));
    let measurement = measure(&m).await;
    assert_eq!(measurement.phase, AnalysisPhase::Successful);
    assert_eq!(measurement.value.as_deref(), Some("[0.99]"));
    assert_eq!(measurement.started_at, Some(k8s_time(now())));
    assert_eq!(measurement.finished_at, Some(k8s_time(now())));
    let seen = seen.lock().unwrap();
    let request = &seen[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/prom/api/v1/query");
    assert_eq!(request.headers["x-scope-orgid"], "tenant-a");
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let params = form(&request.body);
    assert_eq!(
        params["query"],
        "sum(rate(http_requests_total{code!~\"5..\"}[5m]))"
    );
    assert_eq!(params["time"], "1714557600");
    // The resolved query is the metric result's metadata.
    let provider = factory().provider("default", &m).unwrap();
    assert_eq!(
        provider.metadata(&m).unwrap()["ResolvedPrometheusQuery"],
        "sum(rate(http_requests_total{code!~\"5..\"}[5m]))"
    );
}

#[tokio::test]
async fn prometheus_scalar_range_and_fallback() {
    let (base, seen) = serve(|req| match req.method.as_str() {
        // Only GET allowed, as some proxies do: the client falls back.
        "POST" => reply(405, ""),
        _ if req.target.starts_with("/api/v1/query_range") => reply(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]}]},"warnings":["partial data"]}"#,
        ),
        _ => reply(200, r#"{"status":"success","data":{"resultType":"scalar","result":[1,"0.4"]}}"#),
    })
    .await;
    let scalar = metric(&format!(
        "name: m\nfailureCondition: result < 0.5\nprovider: {{prometheus: {{address: '{base}', query: up}}}}"
    ));
    let m = measure(&scalar).await;
    assert_eq!(
        (m.phase.clone(), m.value.as_deref()),
        (AnalysisPhase::Failed, Some("0.4"))
    );

    let range = metric(&format!(
        r#"
name: m
successCondition: "all(result, # < 5)"
provider:
  prometheus:
    address: {base}
    query: up
    rangeQuery: {{start: 'now() - duration("1h")', end: now(), step: 1m}}
"#
    ));
    let m = measure(&range).await;
    assert_eq!(m.phase, AnalysisPhase::Successful, "{m:?}");
    assert_eq!(m.value.as_deref(), Some("[1,2]"));
    assert_eq!(m.metadata.unwrap()["warnings"], "\"partial data\"");
    let seen = seen.lock().unwrap();
    let get = seen.iter().rfind(|r| r.method == "GET").unwrap();
    let (path, query) = get.target.split_once('?').unwrap();
    assert_eq!(path, "/api/v1/query_range");
    let params = form(query);
    assert_eq!(params["start"], "1714554000");
    assert_eq!(params["end"], "1714557600");
    assert_eq!(params["step"], "60");
}

#[tokio::test]
async fn prometheus_errors() {
    let (base, _) = serve(|req| match req.body.contains("bad") {
        true => reply(
            400,
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#,
        ),
        false => reply(503, "down"),
    })
    .await;
    let m = |query: &str| {
        metric(&format!(
            "name: m\nprovider: {{prometheus: {{address: '{base}', query: {query}}}}}"
        ))
    };
    let bad = measure(&m("bad")).await;
    assert_eq!(bad.phase, AnalysisPhase::Error);
    assert_eq!(
        bad.message.as_deref(),
        Some("bad_data: parse error at char 4")
    );
    assert_eq!(bad.value, None);
    assert!(bad.finished_at.is_some());
    assert_eq!(
        measure(&m("up")).await.message.as_deref(),
        Some("server_error: server error: 503")
    );
    // A condition error is the measurement's message.
    let cond = metric(&format!(
        "name: m\nsuccessCondition: result > 1\nprovider: {{prometheus: {{address: '{base}', query: bad}}}}"
    ));
    assert_eq!(
        measure(&cond).await.message.as_deref(),
        Some("bad_data: parse error at char 4")
    );

    // Nothing listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let refused = measure(&metric(&format!(
        "name: m\nprovider: {{prometheus: {{address: 'http://{closed}', query: up}}}}"
    )))
    .await;
    assert_eq!(refused.phase, AnalysisPhase::Error);
    assert!(
        refused
            .message
            .as_deref()
            .unwrap()
            .starts_with(&format!("Post \"http://{closed}/api/v1/query\": ")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn prometheus_timeout_and_settings() {
    let (base, _) = serve(|_| Reply {
        delay: Duration::from_millis(1500),
        ..reply(200, VECTOR)
    })
    .await;
    let slow = measure(&metric(&format!(
        "name: m\nprovider: {{prometheus: {{address: '{base}', query: up, timeout: 1}}}}"
    )))
    .await;
    assert_eq!(
        slow.message.as_deref(),
        Some(format!("Post \"{base}/api/v1/query\": context deadline exceeded").as_str())
    );
    let provider_error =
        |yaml: &str, f: &ProviderFactory| f.provider("default", &metric(yaml)).err().unwrap();
    let f = factory();
    assert_eq!(
        provider_error("name: m\nprovider: {prometheus: {query: up}}", &f),
        "prometheus address is not configured"
    );
    assert_eq!(
        provider_error(
            "name: m\nprovider: {prometheus: {address: 'prom:9090', query: up}}",
            &f
        ),
        "prometheus address is not is url format"
    );
    assert_eq!(
        provider_error(
            "name: m\nprovider: {prometheus: {address: 'http://p', timeout: -1}}",
            &f
        ),
        "prometheus timeout should not be negative"
    );
    // The address may come from the environment setting.
    let mut with_env = factory();
    with_env.prometheus_address = Some(base.clone());
    assert!(
        with_env
            .provider(
                "default",
                &metric("name: m\nprovider: {prometheus: {query: up}}")
            )
            .is_ok()
    );
    assert_eq!(
        provider_error("name: m\nprovider: {datadog: {query: x}}", &f),
        "metric provider Datadog is not supported by this controller"
    );
    assert_eq!(
        provider_error("name: m\nprovider: {job: {spec: {template: {}}}}", &f),
        "job metrics need a Kubernetes client"
    );
}

#[tokio::test]
async fn web_requests() {
    let (base, seen) = serve(|req| match req.target.as_str() {
        "/ok" => reply(200, r#"{"data":{"ok":true,"rate":0.97,"note":"<b>"}}"#),
        "/text" => reply(200, "It worked!"),
        "/fail" => reply(500, "boom"),
        "/token" => reply(200, r#"{"access_token":"tok-123","token_type":"bearer"}"#),
        _ => reply(200, r#"{"echo":true}"#),
    })
    .await;
    let get = measure(&metric(&format!(
        r#"
name: m
successCondition: result.ok && result.rate >= 0.95
provider:
  web:
    url: {base}/ok
    jsonPath: "{{$.data}}"
    headers: [{{key: Authorization, value: Bearer abc}}]
"#
    )))
    .await;
    assert_eq!(get.phase, AnalysisPhase::Successful);
    assert_eq!(
        get.value.as_deref(),
        Some(r#"{"note":"\u003cb\u003e","ok":true,"rate":0.97}"#)
    );
    let text = measure(&metric(&format!(
        "name: m\nsuccessCondition: result == 'nope'\nprovider: {{web: {{url: '{base}/text'}}}}"
    )))
    .await;
    assert_eq!(
        (text.phase, text.value.as_deref()),
        (AnalysisPhase::Successful, Some("It worked!"))
    );
    let fail = measure(&metric(&format!(
        "name: m\nprovider: {{web: {{url: '{base}/fail'}}}}"
    )))
    .await;
    assert_eq!(fail.phase, AnalysisPhase::Error);
    assert_eq!(
        fail.message.as_deref(),
        Some("received non 2xx response code: 500")
    );

    let post = measure(&metric(&format!(
        "name: m\nprovider: {{web: {{method: POST, url: '{base}/post', jsonBody: {{key: [1, 2]}}}}}}"
    )))
    .await;
    assert_eq!(post.phase, AnalysisPhase::Successful);
    let put = measure(&metric(&format!(
        "name: m\nprovider: {{web: {{method: PUT, url: '{base}/put', body: 'raw text'}}}}"
    )))
    .await;
    assert_eq!(put.value.as_deref(), Some(r#"{"echo":true}"#));
    let bad = measure(&metric(&format!(
        "name: m\nprovider: {{web: {{url: '{base}/x', body: 'b'}}}}"
    )))
    .await;
    assert_eq!(
        bad.message.as_deref(),
        Some("Body/JSONBody can only be used with POST or PUT WebMetric Method types")
    );
    let both = measure(&metric(&format!(
        "name: m\nprovider: {{web: {{method: POST, url: '{base}/x', body: 'b', jsonBody: {{a: 1}}}}}}"
    )))
    .await;
    assert_eq!(
        both.message.as_deref(),
        Some("use either Body or JSONBody; both cannot exists for WebMetric payload")
    );

    let oauth = measure(&metric(&format!(
        r#"
name: m
provider:
  web:
    url: {base}/secured
    authentication: {{oauth2: {{tokenUrl: "{base}/token", clientId: id, clientSecret: secret, scopes: [read]}}}}
"#
    )))
    .await;
    assert_eq!(oauth.phase, AnalysisPhase::Successful);

    let seen = seen.lock().unwrap();
    let find = |target: &str| seen.iter().find(|r| r.target == target).unwrap().clone();
    let ok = find("/ok");
    assert_eq!(
        (ok.method.as_str(), ok.headers["authorization"].as_str()),
        ("GET", "Bearer abc")
    );
    let post = find("/post");
    assert_eq!(post.method, "POST");
    assert_eq!(post.headers["content-type"], "application/json");
    assert_eq!(post.body, r#"{"key":[1,2]}"#);
    let put = find("/put");
    assert_eq!(
        (put.method.as_str(), put.body.as_str()),
        ("PUT", "raw text")
    );
    let token = find("/token");
    assert_eq!(token.headers["authorization"], "Basic aWQ6c2VjcmV0");
    assert_eq!(form(&token.body)["grant_type"], "client_credentials");
    assert_eq!(form(&token.body)["scope"], "read");
    assert_eq!(find("/secured").headers["authorization"], "Bearer tok-123");
}

#[tokio::test]
async fn web_timeout() {
    let (base, _) = serve(|_| Reply {
        delay: Duration::from_millis(1500),
        ..reply(200, "{}")
    })
    .await;
    let slow = measure(&metric(&format!(
        "name: m\nprovider: {{web: {{url: '{base}/slow', timeoutSeconds: 1}}}}"
    )))
    .await;
    assert_eq!(
        slow.message.as_deref(),
        Some(
            format!(
                "Get \"{base}/slow\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            )
            .as_str()
        )
    );
}

struct Secrets;

impl SecretSource for Secrets {
    fn secret<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<BTreeMap<String, String>, String>> {
        Box::pin(async move {
            assert_eq!(namespace, "default");
            match name {
                "creds" => Ok(BTreeMap::from([(
                    "token".to_string(),
                    "s3cr3t".to_string(),
                )])),
                other => Err(format!("secrets \"{other}\" not found")),
            }
        })
    }
}

#[tokio::test]
async fn async_reconcile_end_to_end() {
    let (base, seen) = serve(
        |req| match req.headers.get("authorization").map(String::as_str) {
            Some("Bearer s3cr3t") => reply(200, r#"{"ok": true}"#),
            _ => reply(403, ""),
        },
    )
    .await;
    let mut ar: AnalysisRun = serde_norway::from_str(&format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata: {{name: r, namespace: default, uid: u}}
spec:
  args:
  - name: token
    valueFrom: {{secretKeyRef: {{name: creds, key: token}}}}
  metrics:
  - name: web
    count: 2
    interval: 30s
    successCondition: result.ok
    provider:
      web:
        url: {base}/check
        headers: [{{key: Authorization, value: "Bearer {{{{args.token}}}}"}}]
  - name: unsupported
    provider: {{datadog: {{query: "avg:x"}}}}
"#
    ))
    .unwrap();
    let factory = factory();
    let r = reconcile(&ar, now(), &factory, &Secrets).await;
    let status = r.run.status.as_ref().unwrap();
    let results = status.metric_results.as_ref().unwrap();
    let web = results.iter().find(|m| m.name == "web").unwrap();
    assert_eq!(web.successful, Some(1));
    assert_eq!(web.phase, AnalysisPhase::Running);
    let unsupported = results.iter().find(|m| m.name == "unsupported").unwrap();
    let m = &unsupported.measurements.as_ref().unwrap()[0];
    assert_eq!(m.phase, AnalysisPhase::Error);
    assert_eq!(
        m.message.as_deref(),
        Some("metric provider Datadog is not supported by this controller")
    );
    assert_eq!(status.phase, AnalysisPhase::Running);
    assert_eq!(r.requeue_after, Some(Duration::from_secs(10)));
    assert_eq!(
        seen.lock().unwrap()[0].headers["authorization"],
        "Bearer s3cr3t"
    );

    // A missing secret errors the run.
    ar.spec.args.as_mut().unwrap()[0]
        .value_from
        .as_mut()
        .unwrap()
        .secret_key_ref
        .as_mut()
        .unwrap()
        .name = "gone".into();
    let r = reconcile(&ar, now(), &factory, &Secrets).await;
    let status = r.run.status.as_ref().unwrap();
    assert_eq!(status.phase, AnalysisPhase::Error);
    assert_eq!(
        status.message.as_deref(),
        Some("Unable to resolve metric arguments: secrets \"gone\" not found")
    );
}

#[tokio::test]
async fn secrets_are_redacted_from_provider_errors() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let ar: AnalysisRun = serde_norway::from_str(&format!(
        r#"
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata: {{name: r, namespace: default, uid: u}}
spec:
  args:
  - name: token
    valueFrom: {{secretKeyRef: {{name: creds, key: token}}}}
  metrics:
  - name: web
    provider: {{web: {{url: "http://{closed}/check?token={{{{args.token}}}}"}}}}
"#
    ))
    .unwrap();
    let r = reconcile(&ar, now(), &factory(), &Secrets).await;
    let results = r
        .run
        .status
        .as_ref()
        .unwrap()
        .metric_results
        .as_ref()
        .unwrap();
    let message = results[0].measurements.as_ref().unwrap()[0]
        .message
        .clone()
        .unwrap();
    assert!(message.contains("token=*****"), "{message}");
    assert!(!message.contains("s3cr3t"), "{message}");
}
