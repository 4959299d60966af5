//! Turning failures into the single `Error: …` line users see.

use std::sync::OnceLock;

/// The API server URL in use, for connection errors.
static SERVER: OnceLock<String> = OnceLock::new();

/// Remembers the API server URL for [`describe`].
pub fn set_server(url: &str) {
    let _ = SERVER.set(url.trim_end_matches('/').to_string());
}

/// Newlines and runs of blanks folded into single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One line for `err`: the API server's own message for API errors (`rollouts.argoproj.io "x"
/// not found`), "Unable to connect to the server" for transport failures, else the error chain.
pub fn describe(err: &anyhow::Error) -> String {
    let chain: Vec<&(dyn std::error::Error + 'static)> = err.chain().collect();
    for (i, cause) in chain.iter().enumerate() {
        if let Some(kube_err) = cause.downcast_ref::<kube::Error>() {
            let mut parts: Vec<String> = chain[..i].iter().map(|c| c.to_string()).collect();
            parts.push(describe_kube(kube_err));
            return one_line(&parts.join(": "));
        }
    }
    one_line(&format!("{err:#}"))
}

fn describe_kube(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            if status.message.is_empty() {
                format!("the server responded {} {}", status.code, status.reason)
            } else {
                status.message.clone()
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_) => {
            let root = root_cause(err);
            match SERVER.get() {
                Some(server) => format!("Unable to connect to the server {server}: {root}"),
                None => format!("Unable to connect to the server: {root}"),
            }
        }
        kube::Error::Auth(e) => format!("authentication failed: {e}"),
        other => format!("{other}"),
    }
}

/// The innermost message of an error's source chain, with duplicates of its parents removed.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        messages.push(s.to_string());
        source = s.source();
    }
    messages
        .into_iter()
        .rev()
        .find(|m| !m.trim().is_empty())
        .unwrap_or_default()
}

/// Whether `err` is the API server's 404.
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

/// Prints a command-line parsing error or help, and returns the exit code: help and version on
/// stdout with 0; usage errors as one line on stderr with 1 (as cobra does).
pub fn clap_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            0
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Argo prints the usage and fails when a command needs a sub-command.
            eprint!("{}", e.render());
            1
        }
        _ => {
            let rendered = e.render().to_string();
            // The message is the first paragraph (clap puts argument lists on their own lines).
            let first: Vec<&str> = rendered
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty())
                .collect();
            let first = first.join(" ");
            let first = first.strip_prefix("error: ").unwrap_or(&first);
            eprintln!("Error: {} (see --help)", one_line(first));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_show_the_server_message() {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure",
            "message": "rollouts.argoproj.io \"nope\" not found",
            "reason": "NotFound",
            "code": 404
        }))
        .unwrap();
        let err = kube::Error::Api(Box::new(status));
        assert!(is_not_found(&err));
        let err = anyhow::Error::new(err);
        assert_eq!(describe(&err), "rollouts.argoproj.io \"nope\" not found");
        let err = err.context("cannot promote");
        assert_eq!(
            describe(&err),
            "cannot promote: rollouts.argoproj.io \"nope\" not found"
        );
    }

    #[test]
    fn other_errors_are_one_line() {
        let err = anyhow::anyhow!("first\nsecond").context("outer");
        assert_eq!(describe(&err), "outer: first second");
    }
}
