//! The standard kubectl connection flags, turned into a kube client configuration.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};

use crate::duration::parse_request_timeout;

/// kubectl's connection flags (`genericclioptions.ConfigFlags`), global to every command.
#[derive(Args, Clone, Debug, Default)]
pub struct KubeFlags {
    /// Path to the kubeconfig file to use for CLI requests
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// If present, the namespace scope for this CLI request
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// The name of the kubeconfig context to use
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use
    #[arg(long, global = true)]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use
    #[arg(long, global = true)]
    pub user: Option<String>,
    /// The address and port of the Kubernetes API server
    #[arg(short = 's', long, global = true)]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// Username for basic authentication to the API server
    #[arg(long, global = true)]
    pub username: Option<String>,
    /// Password for basic authentication to the API server
    #[arg(long, global = true)]
    pub password: Option<String>,
    /// Username to impersonate for the operation
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation, this flag can be repeated to specify multiple groups
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// UID to impersonate for the operation
    #[arg(long = "as-uid", global = true, value_name = "UID")]
    pub as_uid: Option<String>,
    /// Path to a cert file for the certificate authority
    #[arg(long = "certificate-authority", global = true, value_name = "PATH")]
    pub certificate_authority: Option<PathBuf>,
    /// Path to a client certificate file for TLS
    #[arg(long = "client-certificate", global = true, value_name = "PATH")]
    pub client_certificate: Option<PathBuf>,
    /// Path to a client key file for TLS
    #[arg(long = "client-key", global = true, value_name = "PATH")]
    pub client_key: Option<PathBuf>,
    /// If true, the server's certificate will not be checked for validity
    #[arg(long = "insecure-skip-tls-verify", global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Server name to use for server certificate validation
    #[arg(long = "tls-server-name", global = true)]
    pub tls_server_name: Option<String>,
    /// The length of time to wait before giving up on a single server request (e.g. 1s, 2m, 3h; 0 = no timeout)
    #[arg(long = "request-timeout", global = true, default_value = "0")]
    pub request_timeout: String,
    /// If true, opt-out of response compression for all requests to the server
    #[arg(long = "disable-compression", global = true)]
    pub disable_compression: bool,
    /// Default cache directory (accepted for compatibility; unused)
    #[arg(long = "cache-dir", global = true, hide = true)]
    pub cache_dir: Option<String>,
}

/// A ready client configuration and the namespace commands act in.
pub struct Resolved {
    pub config: kube::Config,
    pub namespace: String,
}

/// Loads the kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`, else the
/// in-cluster service account) and applies the flags on top, as kubectl does.
pub async fn resolve(flags: &KubeFlags) -> Result<Resolved> {
    let options = KubeConfigOptions {
        context: flags.context.clone(),
        cluster: flags.cluster.clone(),
        user: flags.user.clone(),
    };
    let kubeconfig = match &flags.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| {
            anyhow!(
                "cannot read kubeconfig {}: {}",
                path.display(),
                innermost(&e)
            )
        })?),
        None => match Kubeconfig::from_env()
            .map_err(|e| anyhow!("cannot read $KUBECONFIG: {}", innermost(&e)))?
        {
            Some(k) => Some(k),
            None => Kubeconfig::read().ok(),
        },
    };
    let mut config = match kubeconfig {
        Some(k) => kube::Config::from_custom_kubeconfig(k, &options)
            .await
            .map_err(|e| anyhow!("invalid configuration: {e}"))?,
        None => match &flags.server {
            Some(server) => kube::Config::new(
                server
                    .parse()
                    .with_context(|| format!("invalid --server {server:?}"))?,
            ),
            None => kube::Config::incluster().map_err(|_| {
                anyhow!(
                    "no configuration has been provided: set KUBECONFIG, pass --kubeconfig or --server, or create ~/.kube/config"
                )
            })?,
        },
    };
    apply_flags(&mut config, flags)?;
    let namespace = flags
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| config.default_namespace.clone());
    Ok(Resolved { config, namespace })
}

fn apply_flags(config: &mut kube::Config, flags: &KubeFlags) -> Result<()> {
    if let Some(server) = &flags.server {
        let server = if server.contains("://") {
            server.clone()
        } else {
            format!("https://{server}")
        };
        config.cluster_url = server
            .parse()
            .with_context(|| format!("invalid --server {server:?}"))?;
    }
    // Secrets are only constructible through serde without depending on `secrecy`.
    let secrets: AuthInfo = serde_json::from_value(serde_json::json!({
        "token": flags.token,
        "password": flags.password,
    }))
    .context("invalid credentials")?;
    if flags.token.is_some() {
        config.auth_info.token = secrets.token;
        config.auth_info.token_file = None;
        config.auth_info.exec = None;
        config.auth_info.auth_provider = None;
    }
    if let Some(user) = &flags.username {
        config.auth_info.username = Some(user.clone());
    }
    if flags.password.is_some() {
        config.auth_info.password = secrets.password;
    }
    if let Some(user) = &flags.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !flags.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(flags.as_group.clone());
    }
    if let Some(uid) = &flags.as_uid {
        config.auth_info.impersonate_uid = Some(uid.clone());
    }
    if let Some(path) = &flags.client_certificate {
        config.auth_info.client_certificate = Some(path.display().to_string());
        config.auth_info.client_certificate_data = None;
    }
    if let Some(path) = &flags.client_key {
        config.auth_info.client_key = Some(path.display().to_string());
        config.auth_info.client_key_data = None;
    }
    if let Some(path) = &flags.certificate_authority {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read certificate authority {}", path.display()))?;
        config.root_cert = Some(
            pem_certificates(&pem)
                .with_context(|| format!("no certificate found in {}", path.display()))?,
        );
    }
    if flags.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(name) = &flags.tls_server_name {
        config.tls_server_name = Some(name.clone());
    }
    if flags.disable_compression {
        config.disable_compression = true;
    }
    if let Some(timeout) = parse_request_timeout(&flags.request_timeout).map_err(|e| anyhow!(e))? {
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
    }
    Ok(())
}

/// The innermost cause of an error (kube repeats its sources in its messages).
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// The DER bodies of the `CERTIFICATE` blocks of a PEM file.
fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>> {
    let text = std::str::from_utf8(pem).context("not a PEM file")?;
    let mut certs = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line == "-----BEGIN CERTIFICATE-----" {
            body = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            if let Some(b) = body.take() {
                certs.push(base64_decode(&b).context("invalid base64 in certificate")?);
            }
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    if certs.is_empty() {
        anyhow::bail!("no CERTIFICATE block");
    }
    Ok(certs)
}

fn base64_decode(s: &str) -> Result<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or_else(|| anyhow!("invalid character {:?}", c as char))? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_pem() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        let pem = b"-----BEGIN CERTIFICATE-----\naGVs\nbG8=\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_certificates(pem).unwrap(), vec![b"hello".to_vec()]);
        assert!(pem_certificates(b"nothing").is_err());
    }

    #[tokio::test]
    async fn flags_override_the_kubeconfig() {
        let dir = std::env::temp_dir().join(format!("kar-kubeconfig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(
            &path,
            r#"
apiVersion: v1
kind: Config
current-context: one
contexts:
- name: one
  context: {cluster: c1, user: u1, namespace: team-a}
- name: two
  context: {cluster: c2, user: u1}
clusters:
- name: c1
  cluster: {server: "https://one.example:6443"}
- name: c2
  cluster: {server: "https://two.example:6443"}
users:
- name: u1
  user: {token: abc}
"#,
        )
        .unwrap();
        let flags = KubeFlags {
            kubeconfig: Some(path.clone()),
            request_timeout: "0".into(),
            ..Default::default()
        };
        let r = resolve(&flags).await.unwrap();
        assert_eq!(r.namespace, "team-a");
        assert_eq!(
            r.config.cluster_url.to_string(),
            "https://one.example:6443/"
        );

        let flags = KubeFlags {
            kubeconfig: Some(path.clone()),
            context: Some("two".into()),
            namespace: Some("ns".into()),
            server: Some("127.0.0.1:1".into()),
            insecure_skip_tls_verify: true,
            as_user: Some("jane".into()),
            request_timeout: "5s".into(),
            ..Default::default()
        };
        let r = resolve(&flags).await.unwrap();
        assert_eq!(r.namespace, "ns");
        assert_eq!(r.config.cluster_url.to_string(), "https://127.0.0.1:1/");
        assert!(r.config.accept_invalid_certs);
        assert_eq!(r.config.auth_info.impersonate.as_deref(), Some("jane"));
        assert_eq!(
            r.config.read_timeout,
            Some(std::time::Duration::from_secs(5))
        );

        let flags = KubeFlags {
            kubeconfig: Some(dir.join("missing")),
            ..Default::default()
        };
        assert!(resolve(&flags).await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
