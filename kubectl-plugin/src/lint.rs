//! `lint -f FILE`: offline validation of the Rollouts in a manifest (Argo's `cmd/lint`).

use rollouts::{
    crd::{GROUP, Rollout},
    validation::{FieldError, validate_rollout},
};

use crate::manifest::{decode_strict, group_kind, parse_documents};

/// The outcome of linting one file.
#[derive(Debug, PartialEq)]
pub enum LintResult {
    /// Every Rollout is valid (or there is none).
    Valid,
    /// Validation errors of all Rollouts, in file order; Argo prints each error's body on
    /// stdout and fails with the first one.
    Invalid(Vec<FieldError>),
}

/// Lints `text`; `Err` is a file that cannot be decoded (bad YAML, unknown or mistyped field).
pub fn lint(text: &str) -> Result<LintResult, String> {
    let mut errors = Vec::new();
    for doc in parse_documents(text)? {
        if !doc.is_object() {
            return Err(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_type(&doc)
            ));
        }
        let (group, kind) = group_kind(&doc);
        if group == GROUP && kind == "Rollout" {
            let rollout: Rollout = decode_strict(&doc)?;
            errors.extend(validate_rollout(&rollout));
        }
    }
    Ok(if errors.is_empty() {
        LintResult::Valid
    } else {
        LintResult::Invalid(errors)
    })
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Array(_) => "array",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::Bool(_) => "bool",
        _ => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: valid-rollout
spec:
  replicas: 3
  strategy:
    canary:
      steps:
        - setWeight: 10
        - pause: {duration: 10s}
  selector:
    matchLabels:
      app: valid-rollout
  template:
    metadata:
      labels:
        app: valid-rollout
    spec:
      containers:
        - name: app
          image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  selector:
    app: valid-rollout
"#;

    #[test]
    fn a_valid_file_has_no_errors() {
        assert_eq!(lint(VALID).unwrap(), LintResult::Valid);
        assert_eq!(lint("").unwrap(), LintResult::Valid);
    }

    #[test]
    fn invalid_rollouts_report_every_error_first_one_first() {
        let text = VALID
            .replace("- setWeight: 10", "- setWeight: 200")
            .replace("replicas: 3\n", "replicas: 3\n  revisionHistoryLimit: 1\n");
        let LintResult::Invalid(errors) = lint(&text).unwrap() else {
            panic!("expected errors")
        };
        assert_eq!(
            errors[0].to_string(),
            "spec.strategy.steps[0].setWeight: Invalid value: 200: SetWeight needs to be between 0 and 100"
        );
    }

    #[test]
    fn the_first_error_of_a_missing_selector() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  strategy: {canary: {}}\n";
        let LintResult::Invalid(errors) = lint(text).unwrap() else {
            panic!("expected errors")
        };
        assert_eq!(
            errors[0].to_string(),
            "spec.selector: Required value: Rollout has missing field '.spec.selector'"
        );
    }

    #[test]
    fn undecodable_files_are_errors() {
        let text = VALID.replace("canary:", "unknown-strategy:");
        assert_eq!(
            lint(&text).unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: json: unknown field \"unknown-strategy\""
        );
        assert!(
            lint("kind: [")
                .unwrap_err()
                .starts_with("error parsing YAML")
        );
    }
}
