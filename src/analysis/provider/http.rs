//! A small HTTP(S) client for metric providers, on the hyper/rustls stack the Kubernetes client
//! already brings (no second TLS or HTTP implementation in the binary).
//!
//! Two connection pools: one verifying certificates against the system roots, one that
//! accepts any certificate for metrics with `insecure: true` (Argo's `InsecureSkipVerify`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

type Pool = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A response, read in full.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Bytes,
}

/// Why a request failed before a response was read.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpError {
    /// The timeout elapsed.
    Timeout,
    /// Connecting, TLS, or reading failed; the text describes the cause chain.
    Transport(String),
}

/// The shared client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    secure: Pool,
    insecure: Pool,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn connector(config: ClientConfig) -> HttpsConnector<HttpConnector> {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build()
}

impl HttpClient {
    /// A client trusting the system's root certificates (none, if the system has none: then
    /// only plain HTTP and `insecure` HTTPS work).
    pub fn new() -> HttpClient {
        let secure = match hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider())
        {
            Ok(builder) => builder.https_or_http().enable_http1().build(),
            Err(_) => {
                let config = ClientConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()
                    .expect("the ring provider supports the default protocol versions")
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                connector(config)
            }
        };
        let insecure = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default protocol versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
            .with_no_client_auth();
        HttpClient {
            secure: Client::builder(TokioExecutor::new()).build(secure),
            insecure: Client::builder(TokioExecutor::new()).build(connector(insecure)),
        }
    }

    /// Sends `request` and reads the whole response within `timeout`.
    pub async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
        insecure: bool,
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        let pool = if insecure {
            &self.insecure
        } else {
            &self.secure
        };
        let exchange = async {
            let response = pool.request(request).await.map_err(|e| transport(&e))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| transport(&e))?
                .to_bytes();
            Ok(HttpResponse { status, body })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(HttpError::Timeout),
        }
    }
}

/// An error and its causes, joined as Go joins wrapped errors.
fn transport(e: &(dyn std::error::Error + 'static)) -> HttpError {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    HttpError::Transport(text)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (for HTTP basic authentication).
pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Certificate "verification" for `insecure: true`: any certificate is accepted, but the
/// handshake signatures are still checked so the connection is at least well-formed TLS.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
    }
}
