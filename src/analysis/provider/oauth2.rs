//! OAuth2 client-credentials tokens for the Prometheus and web providers (Go's
//! `golang.org/x/oauth2/clientcredentials` with its default header authentication).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;

use super::http::{HttpClient, HttpError, base64_encode};
use crate::crd::OAuth2Config;

/// Client credentials, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct OAuth2 {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
}

impl OAuth2 {
    /// `None` without a token URL; an error when the client id or secret is missing (Argo's
    /// `missing mandatory parameter in metric for OAuth2 setup`).
    pub fn from_config(config: Option<&OAuth2Config>) -> Result<Option<OAuth2>, String> {
        let Some(config) = config else {
            return Ok(None);
        };
        let token_url = config.token_url.clone().unwrap_or_default();
        if token_url.is_empty() {
            return Ok(None);
        }
        let client_id = config.client_id.clone().unwrap_or_default();
        let client_secret = config.client_secret.clone().unwrap_or_default();
        if client_id.is_empty() || client_secret.is_empty() {
            return Err("missing mandatory parameter in metric for OAuth2 setup".into());
        }
        Ok(Some(OAuth2 {
            token_url,
            client_id,
            client_secret,
            scopes: config.scopes.clone().unwrap_or_default(),
        }))
    }

    /// Fetches an access token; the result is the `Authorization` header value.
    pub async fn authorization(
        &self,
        http: &HttpClient,
        insecure: bool,
        timeout: Duration,
    ) -> Result<String, String> {
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            if !self.scopes.is_empty() {
                form.append_pair("scope", &self.scopes.join(" "));
            }
            form.finish()
        };
        let escape = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = format!(
            "{}:{}",
            escape(&self.client_id),
            escape(&self.client_secret)
        );
        let request = http::Request::post(&self.token_url)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(
                http::header::AUTHORIZATION,
                format!("Basic {}", base64_encode(credentials.as_bytes())),
            )
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| format!("oauth2: cannot fetch token: {e}"))?;
        let response = http
            .send(request, insecure, timeout)
            .await
            .map_err(|e| match e {
                HttpError::Timeout => format!(
                    "Post {}: context deadline exceeded",
                    crate::validation::go_quote(&self.token_url)
                ),
                HttpError::Transport(t) => {
                    format!("Post {}: {t}", crate::validation::go_quote(&self.token_url))
                }
            })?;
        let body = String::from_utf8_lossy(&response.body);
        if !(200..300).contains(&response.status) {
            return Err(format!(
                "oauth2: cannot fetch token: {} {}\nResponse: {body}",
                response.status,
                http::StatusCode::from_u16(response.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or_default()
            ));
        }
        let token: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("oauth2: cannot parse json: {e}"))?;
        let access = token["access_token"].as_str().unwrap_or_default();
        if access.is_empty() {
            return Err("oauth2: server response missing access_token".into());
        }
        // oauth2's Token.Type(): "Bearer" unless the server names another scheme.
        let kind = match token["token_type"].as_str().unwrap_or_default() {
            "" => "Bearer".to_string(),
            t if t.eq_ignore_ascii_case("bearer") => "Bearer".to_string(),
            t if t.eq_ignore_ascii_case("mac") => "MAC".to_string(),
            t if t.eq_ignore_ascii_case("basic") => "Basic".to_string(),
            other => other.to_string(),
        };
        Ok(format!("{kind} {access}"))
    }
}
