//! Reading manifests: YAML or JSON, one or more documents, decoded strictly (an unknown field is
//! an error, as with Argo's `yaml.UnmarshalStrict`).

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// The non-empty documents of a YAML (or JSON) text, as JSON values.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(doc).map_err(|e| format!("error parsing YAML: {e}"))?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

/// Group and kind of a document (`apiVersion: group/version`; the core group is `""`).
pub fn group_kind(doc: &Value) -> (String, String) {
    let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    (group.to_string(), kind.to_string())
}

/// Decodes `doc` as `T`, failing on any field `T` does not know, with Go's wording
/// (`error unmarshaling JSON: while decoding JSON: json: unknown field "x"`).
pub fn decode_strict<T: DeserializeOwned + Serialize>(doc: &Value) -> Result<T, String> {
    let prefix = "error unmarshaling JSON: while decoding JSON: json:";
    let typed: T = serde_json::from_value(doc.clone()).map_err(|e| format!("{prefix} {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("{prefix} {e}"))?;
    if let Some(field) = unknown_field(doc, &back) {
        return Err(format!("{prefix} unknown field \"{field}\""));
    }
    Ok(typed)
}

/// The first key of `input` that did not survive a typed round trip (`output`). Unset values
/// (null, `[]`, `{}`) may legitimately disappear and are not reported.
fn unknown_field(input: &Value, output: &Value) -> Option<String> {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, v)| match b.get(k) {
            Some(w) => unknown_field(v, w),
            None if is_unset(v) => None,
            None => Some(k.clone()),
        }),
        (Value::Array(a), Value::Array(b)) => {
            a.iter().zip(b).find_map(|(v, w)| unknown_field(v, w))
        }
        _ => None,
    }
}

fn is_unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollouts::crd::Rollout;
    use serde_json::json;

    #[test]
    fn documents_are_split_and_empty_ones_skipped() {
        let docs = parse_documents("---\na: 1\n---\n---\nb: [1, 2]\n").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": [1, 2]})]);
        let docs = parse_documents("{\"kind\": \"Rollout\"}").unwrap();
        assert_eq!(docs, vec![json!({"kind": "Rollout"})]);
        assert!(parse_documents("a: [").is_err());
    }

    #[test]
    fn group_and_kind() {
        assert_eq!(
            group_kind(&json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"})),
            ("argoproj.io".into(), "Rollout".into())
        );
        assert_eq!(
            group_kind(&json!({"apiVersion": "v1", "kind": "Service"})),
            ("".into(), "Service".into())
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let doc = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "r", "creationTimestamp": null},
            "spec": {"strategy": {"unknown-strategy": {}, "canary": {"steps": []}}}
        });
        // An empty unknown object is indistinguishable from an unset field.
        assert!(decode_strict::<Rollout>(&doc).is_ok());
        let doc = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "r"},
            "spec": {"strategy": {"unknown-strategy": {"steps": [{"setWeight": 10}]}}}
        });
        assert_eq!(
            decode_strict::<Rollout>(&doc).unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: json: unknown field \"unknown-strategy\""
        );
        let doc = json!({"metadata": {"name": "r"}, "spec": {"replicas": "three", "strategy": {}}});
        assert!(
            decode_strict::<Rollout>(&doc)
                .unwrap_err()
                .starts_with("error unmarshaling JSON: while decoding JSON: json: invalid type")
        );
    }
}
