//! The local Prometheus of the e2e cluster: a test sets a gauge (`e2e_ar_value{test="<ns>"}`, a
//! file the cluster's metrics server serves and Prometheus scrapes) and waits until Prometheus
//! answers with it.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::TestNamespace;

pub fn prom_url() -> Result<String> {
    std::env::var("PROM_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .context("PROM_URL is not set: source <run>/env of a cluster started with Prometheus")
}

/// Sets `e2e_ar_value{test="<ns>"}` for Prometheus to scrape.
pub fn set_metric(ns: &TestNamespace, value: f64) -> Result<()> {
    write_series(&ns.name, &format!("{} {value}", query(ns)))
}

/// Writes the sample lines of file `<dir>/<file>.prom` (atomic rename, as the metrics server's
/// README says).
pub fn write_series(file: &str, samples: &str) -> Result<()> {
    let dir = std::env::var("E2E_METRICS_DIR").context("E2E_METRICS_DIR is not set")?;
    let tmp = format!("{dir}/.{file}.tmp");
    std::fs::write(&tmp, format!("{samples}\n"))?;
    std::fs::rename(&tmp, format!("{dir}/{file}.prom"))?;
    Ok(())
}

pub fn query(ns: &TestNamespace) -> String {
    format!("e2e_ar_value{{test=\"{}\"}}", ns.name)
}

/// A plain HTTP/1.0 GET of `url` (`http://host:port/path`): (status, body).
pub async fn http_get(url: &str) -> Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .context("http:// URL expected")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    stream
        .write_all(format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sets the metric and waits until Prometheus answers the query with `value`.
pub async fn prometheus_value(ns: &TestNamespace, value: f64) -> Result<()> {
    set_metric(ns, value)?;
    wait_for_value(ns, &query(ns), value).await
}

/// Waits until Prometheus answers `promql` with `value`.
pub async fn wait_for_value(ns: &TestNamespace, promql: &str, value: f64) -> Result<()> {
    let url = format!("{}/api/v1/query?query={}", prom_url()?, url_encode(promql));
    let want = format!("\"{value}\"]");
    ns.wait_for(
        &format!("Prometheus to serve {promql} = {value}"),
        Duration::from_secs(30),
        || async {
            let (status, body) = http_get(&url).await?;
            Ok((status == 200 && body.contains(&want)).then_some(()))
        },
    )
    .await
}
