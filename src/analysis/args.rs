//! Analysis arguments: `{{args.<name>}}` substitution into metrics, secret-backed arguments and
//! their redaction, and the Rollout-side construction of arguments (`valueFrom.fieldRef`,
//! `podTemplateHashValue`). All pure: secrets are looked up by the caller.

use std::collections::{BTreeMap, BTreeSet};

use crate::crd::{AnalysisRunArgument, Argument, Metric, Rollout, ValueFromPodTemplateHash};

/// The value Argo substitutes for a secret-backed argument when it only needs the metric's
/// shape (validation, scheduling, assessment), never its secret.
pub const SECRET_PLACEHOLDER: &str = "temp-for-secret";

/// What a secret value is replaced with in measurement messages.
pub const REDACTED: &str = "*****";

/// Substitutes `{{args.<name>}}` tags in every string of the metric (Argo's
/// `ResolveMetricArgs`).
///
/// As in Argo, the metric is serialized to JSON, each tag is replaced with the argument's value
/// escaped for a JSON string (Go's `strconv.Quote` without the quotes), and the result is read
/// back; so a tag may stand in any string field, including `count: "{{args.n}}"`. Errors, in
/// Argo's words: an argument without a value (`argument "x" was not supplied`, checked for every
/// argument, used or not), a tag naming no argument (`failed to resolve {{args.y}}`), an
/// unterminated tag.
pub fn resolve_metric_args(metric: &Metric, args: &[Argument]) -> Result<Metric, String> {
    let json = serde_json::to_string(metric).map_err(|e| e.to_string())?;
    let resolved = resolve_quoted_args(&json, args)?;
    serde_json::from_str(&resolved).map_err(|e| e.to_string())
}

/// `{{args.x}}` substitution in a JSON text, values escaped for a JSON string.
fn resolve_quoted_args(template: &str, args: &[Argument]) -> Result<String, String> {
    let tags = split_tags(template)?;
    let mut values = BTreeMap::new();
    for arg in args {
        let Some(value) = &arg.value else {
            return Err(format!("argument \"{}\" was not supplied", arg.name));
        };
        let quoted = crate::validation::go_quote(value);
        values.insert(
            format!("args.{}", arg.name),
            quoted[1..quoted.len() - 1].to_string(),
        );
    }
    let mut out = String::with_capacity(template.len());
    let mut unresolved = None;
    for piece in tags {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Tag(tag) => match values.get(tag.trim()) {
                Some(value) => out.push_str(value),
                // Go keeps going and reports the last unresolved tag.
                None => unresolved = Some(format!("failed to resolve {{{{{tag}}}}}")),
            },
        }
    }
    match unresolved {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

enum Piece<'a> {
    Text(&'a str),
    Tag(&'a str),
}

/// valyala/fasttemplate's split of a template into text and `{{tag}}` pieces.
fn split_tags(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        pieces.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!(
                "Cannot find end tag={} in the template={} starting from {}",
                crate::validation::go_quote("}}"),
                crate::validation::go_quote(template),
                crate::validation::go_quote(after)
            ));
        };
        pieces.push(Piece::Tag(&after[..end]));
        rest = &after[end + 2..];
    }
    pieces.push(Piece::Text(rest));
    Ok(pieces)
}

/// The arguments with every secret-backed value replaced by [`SECRET_PLACEHOLDER`] (Argo's
/// `getResolvedMetricsWithoutSecrets`): what validation, scheduling and assessment use.
pub fn args_without_secrets(args: &[Argument]) -> Vec<Argument> {
    args.iter()
        .map(|arg| match &arg.value_from {
            Some(from) if from.secret_key_ref.is_some() => Argument {
                name: arg.name.clone(),
                value: Some(SECRET_PLACEHOLDER.to_string()),
                value_from: None,
            },
            _ => arg.clone(),
        })
        .collect()
}

/// The names of the Secrets the arguments read (to fetch them before [`resolve_secret_args`]).
pub fn secret_names(args: &[Argument]) -> BTreeSet<String> {
    args.iter()
        .filter_map(|a| a.value_from.as_ref()?.secret_key_ref.as_ref())
        .map(|r| r.name.clone())
        .collect()
}

/// Arguments with their secret values filled in, and the secrets to redact from messages.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedArgs {
    pub args: Vec<Argument>,
    pub redactor: Redactor,
}

/// Replaces secret values in text with [`REDACTED`] (Argo redacts measurement messages and
/// logs). Empty secrets are never redacted (they would match everywhere).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        secrets.sort();
        secrets.dedup();
        Redactor { secrets }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

/// Fills in secret-backed arguments (Argo's `resolveArgs`). `secret` returns the decoded data of
/// the named Secret in the run's namespace, or the error text of fetching it (e.g.
/// `secrets "x" not found`), which becomes the run's error. A missing key is
/// `key '<k>' does not exist in secret '<s>'`.
pub fn resolve_secret_args<F>(args: &[Argument], mut secret: F) -> Result<ResolvedArgs, String>
where
    F: FnMut(&str) -> Result<BTreeMap<String, String>, String>,
{
    let mut resolved = Vec::with_capacity(args.len());
    let mut secrets = Vec::new();
    for arg in args {
        let Some(key_ref) = arg
            .value_from
            .as_ref()
            .and_then(|f| f.secret_key_ref.as_ref())
        else {
            resolved.push(arg.clone());
            continue;
        };
        let data = secret(&key_ref.name)?;
        let Some(value) = data.get(&key_ref.key) else {
            return Err(format!(
                "key '{}' does not exist in secret '{}'",
                key_ref.key, key_ref.name
            ));
        };
        secrets.push(value.clone());
        let mut arg = arg.clone();
        arg.value = Some(value.clone());
        resolved.push(arg);
    }
    Ok(ResolvedArgs {
        args: resolved,
        redactor: Redactor::new(secrets),
    })
}

/// The arguments a Rollout passes to an AnalysisRun (Argo's
/// `BuildArgumentsForRolloutAnalysisRun`): literal values, the stable or latest pod-template
/// hash, or a field of the Rollout.
///
/// `fieldRef` paths under `metadata` use the Kubernetes downward-API rules; an error there is
/// returned at once. Other paths walk the Rollout's JSON (`spec.template.spec.containers[0].image`)
/// and must end at a primitive; as in Argo their error is not fatal by itself: the value is
/// empty and the error of the *last* such field reference (cleared by a later success) is
/// returned after all arguments are built.
pub fn build_rollout_args(
    args: &[AnalysisRunArgument],
    stable_hash: Option<&str>,
    latest_hash: Option<&str>,
    rollout: &Rollout,
) -> Result<Vec<Argument>, String> {
    match build_args(args, stable_hash, latest_hash, rollout) {
        (Some(out), None) => Ok(out),
        (_, Some(e)) => Err(e),
        (None, None) => Ok(Vec::new()),
    }
}

/// [`build_rollout_args`] as Argo's validation uses it (`buildAnalysisArgs`): the error is
/// ignored, so the arguments come back with an empty value where a non-metadata field could
/// not be read, and none at all after a `metadata` field error.
pub fn build_rollout_args_lenient(
    args: &[AnalysisRunArgument],
    stable_hash: Option<&str>,
    latest_hash: Option<&str>,
    rollout: &Rollout,
) -> Vec<Argument> {
    build_args(args, stable_hash, latest_hash, rollout)
        .0
        .unwrap_or_default()
}

/// The arguments (none after a `metadata` field error) and the error to report.
fn build_args(
    args: &[AnalysisRunArgument],
    stable_hash: Option<&str>,
    latest_hash: Option<&str>,
    rollout: &Rollout,
) -> (Option<Vec<Argument>>, Option<String>) {
    let mut out = Vec::with_capacity(args.len());
    let mut last_err: Option<String> = None;
    let rollout_json = std::cell::OnceCell::new();
    for arg in args {
        let mut value = arg.value.clone().unwrap_or_default();
        if let Some(from) = &arg.value_from {
            if let Some(which) = &from.pod_template_hash_value {
                value = match which {
                    ValueFromPodTemplateHash::Latest => latest_hash.unwrap_or_default().to_string(),
                    ValueFromPodTemplateHash::Stable => stable_hash.unwrap_or_default().to_string(),
                    ValueFromPodTemplateHash::Other(_) => value,
                };
            } else if let Some(field) = &from.field_ref {
                if field.field_path.starts_with("metadata") {
                    value = match crate::validation::extract_field_path_as_string(
                        &rollout.metadata,
                        &field.field_path,
                    ) {
                        Ok(v) => v,
                        Err(e) => return (None, Some(e)),
                    };
                    last_err = None;
                } else {
                    let json = rollout_json
                        .get_or_init(|| serde_json::to_value(rollout).unwrap_or_default());
                    match extract_value(json, &field.field_path) {
                        Ok(v) => {
                            value = v;
                            last_err = None;
                        }
                        Err(e) => {
                            value = String::new();
                            last_err = Some(e);
                        }
                    }
                }
            }
        }
        out.push(Argument {
            name: arg.name.clone(),
            value: Some(value),
            value_from: None,
        });
    }
    (Some(out), last_err)
}

/// Argo's `extractValueFromRollout`: walks `a.b[0].c` (split on runs of `.`, `[`, `]`) through
/// the object's JSON and formats the primitive found there as Go's `%v` does.
fn extract_value(json: &serde_json::Value, path: &str) -> Result<String, String> {
    let mut current = json;
    let null = serde_json::Value::Null;
    for section in path.split(['.', '[', ']']).filter(|s| !s.is_empty()) {
        current = match current {
            serde_json::Value::Array(items) => {
                let i: usize = section
                    .parse()
                    .map_err(|_| format!("invalid index '{section}'"))?;
                items
                    .get(i)
                    .ok_or_else(|| format!("index {i} out of range"))?
            }
            serde_json::Value::Object(map) => map.get(section).unwrap_or(&null),
            _ => return Err(format!("invalid path {path} in rollout")),
        };
    }
    match current {
        serde_json::Value::Null => Err(format!("invalid path {path} in rollout")),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => Err(format!(
            "path {path} in rollout must terminate in a primitive value"
        )),
        other => Ok(super::expr::Value::from_json(other).go_format()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{ArgumentValueFrom, FieldRef, SecretKeyRef, ValueFrom};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn arg(name: &str, value: &str) -> Argument {
        Argument {
            name: name.into(),
            value: Some(value.into()),
            value_from: None,
        }
    }

    fn metric(yaml: &str) -> Metric {
        serde_norway::from_str(yaml).unwrap()
    }

    #[test]
    fn substitutes_args_everywhere() {
        let m = metric(
            r#"
name: rate
count: "{{args.count}}"
interval: "{{ args.interval }}"
successCondition: result[0] >= {{args.threshold}}
provider:
  prometheus:
    query: sum(rate(x{service="{{args.svc}}"}[5m]))
"#,
        );
        let args = [
            arg("count", "3"),
            arg("interval", "1m"),
            arg("threshold", "0.95"),
            arg("svc", "a\"b\nc"),
        ];
        let resolved = resolve_metric_args(&m, &args).unwrap();
        assert_eq!(resolved.count, Some(IntOrString::String("3".into())));
        assert_eq!(resolved.interval.as_deref(), Some("1m"));
        assert_eq!(
            resolved.success_condition.as_deref(),
            Some("result[0] >= 0.95")
        );
        // The value is escaped for JSON, so quotes and newlines survive as data.
        assert_eq!(
            resolved.provider.prometheus.unwrap().query.unwrap(),
            "sum(rate(x{service=\"a\"b\nc\"}[5m]))"
        );
    }

    #[test]
    fn unresolved_and_unsupplied_args_are_errors() {
        let m = metric(
            "name: m\nsuccessCondition: '{{args.a}} {{args.b}} {{ args.c }}'\nprovider: {web: {url: x}}",
        );
        assert_eq!(
            resolve_metric_args(&m, &[arg("a", "1")]).unwrap_err(),
            "failed to resolve {{ args.c }}"
        );
        let unsupplied = Argument {
            name: "x".into(),
            value: None,
            value_from: None,
        };
        assert_eq!(
            resolve_metric_args(&m, &[unsupplied]).unwrap_err(),
            "argument \"x\" was not supplied"
        );
        // In the metric's JSON a dangling `{{` usually meets the `}}` closing the provider
        // object, as in Go, which makes it an unresolved tag.
        let open = metric("name: m\nsuccessCondition: '{{args.a'\nprovider: {web: {url: x}}");
        assert!(
            resolve_metric_args(&open, &[arg("a", "1")])
                .unwrap_err()
                .starts_with("failed to resolve {{args.a\",")
        );
        assert_eq!(
            resolve_quoted_args("x {{args.a", &[]).unwrap_err(),
            "Cannot find end tag=\"}}\" in the template=\"x {{args.a\" starting from \"args.a\""
        );
        // No tags: the metric comes back unchanged.
        let plain = metric("name: m\nprovider: {web: {url: x}}");
        assert_eq!(resolve_metric_args(&plain, &[]).unwrap(), plain);
    }

    fn secret_arg(name: &str, secret: &str, key: &str) -> Argument {
        Argument {
            name: name.into(),
            value: None,
            value_from: Some(ValueFrom {
                secret_key_ref: Some(SecretKeyRef {
                    name: secret.into(),
                    key: key.into(),
                }),
                field_ref: None,
            }),
        }
    }

    #[test]
    fn secrets_are_resolved_and_redacted() {
        let args = [arg("a", "1"), secret_arg("token", "creds", "apiToken")];
        assert_eq!(
            args_without_secrets(&args)[1].value.as_deref(),
            Some(SECRET_PLACEHOLDER)
        );
        assert_eq!(secret_names(&args), BTreeSet::from(["creds".to_string()]));
        let resolved = resolve_secret_args(&args, |name| {
            assert_eq!(name, "creds");
            Ok(BTreeMap::from([(
                "apiToken".to_string(),
                "s3cr3t".to_string(),
            )]))
        })
        .unwrap();
        assert_eq!(resolved.args[1].value.as_deref(), Some("s3cr3t"));
        assert_eq!(
            resolved
                .redactor
                .redact("GET https://x?token=s3cr3t failed: s3cr3t"),
            "GET https://x?token=***** failed: *****"
        );
        let missing_key = resolve_secret_args(&args, |_| Ok(BTreeMap::new())).unwrap_err();
        assert_eq!(
            missing_key,
            "key 'apiToken' does not exist in secret 'creds'"
        );
        let missing = resolve_secret_args(&args, |_| Err("secrets \"creds\" not found".into()));
        assert_eq!(missing.unwrap_err(), "secrets \"creds\" not found");
        assert_eq!(Redactor::new([String::new()]).redact("abc"), "abc");
    }

    fn rollout() -> Rollout {
        serde_norway::from_str(
            r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: guestbook
  namespace: prod
  labels: {region: eu}
spec:
  replicas: 3
  selector: {matchLabels: {app: guestbook}}
  template:
    metadata: {labels: {app: guestbook}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
  strategy: {canary: {}}
"#,
        )
        .unwrap()
    }

    fn run_arg(name: &str, from: ArgumentValueFrom) -> AnalysisRunArgument {
        AnalysisRunArgument {
            name: name.into(),
            value: None,
            value_from: Some(from),
        }
    }

    fn field(path: &str) -> ArgumentValueFrom {
        ArgumentValueFrom {
            pod_template_hash_value: None,
            field_ref: Some(FieldRef {
                field_path: path.into(),
            }),
        }
    }

    #[test]
    fn rollout_args() {
        let args = vec![
            AnalysisRunArgument {
                name: "plain".into(),
                value: Some("v".into()),
                value_from: None,
            },
            run_arg(
                "stable",
                ArgumentValueFrom {
                    pod_template_hash_value: Some(ValueFromPodTemplateHash::Stable),
                    field_ref: None,
                },
            ),
            run_arg(
                "latest",
                ArgumentValueFrom {
                    pod_template_hash_value: Some(ValueFromPodTemplateHash::Latest),
                    field_ref: None,
                },
            ),
            run_arg("region", field("metadata.labels['region']")),
            run_arg("ns", field("metadata.namespace")),
            run_arg("image", field("spec.template.spec.containers[0].image")),
            run_arg("replicas", field("spec.replicas")),
        ];
        let built = build_rollout_args(&args, Some("abc"), Some("def"), &rollout()).unwrap();
        let values: Vec<_> = built.iter().map(|a| a.value.clone().unwrap()).collect();
        assert_eq!(values, ["v", "abc", "def", "eu", "prod", "nginx:1.25", "3"]);
    }

    #[test]
    fn rollout_field_errors() {
        let r = rollout();
        let err = |path: &str| {
            build_rollout_args(&[run_arg("x", field(path))], None, None, &r).unwrap_err()
        };
        assert_eq!(err("spec.nope"), "invalid path spec.nope in rollout");
        assert_eq!(
            err("spec.template"),
            "path spec.template in rollout must terminate in a primitive value"
        );
        assert_eq!(
            err("spec.template.spec.containers[3].image"),
            "index 3 out of range"
        );
        assert_eq!(err("spec.template.spec.containers[x]"), "invalid index 'x'");
        assert_eq!(
            err("metadata.bogus"),
            "unsupported fieldPath: metadata.bogus"
        );
        // A later successful field reference clears an earlier non-metadata error.
        let ok = build_rollout_args(
            &[
                run_arg("a", field("spec.nope")),
                run_arg("b", field("spec.replicas")),
            ],
            None,
            None,
            &r,
        )
        .unwrap();
        assert_eq!(ok[0].value.as_deref(), Some(""));
    }
}
