//! Schema adjustments that make the generated CRDs accept what Argo Rollouts' CRDs accept.
//!
//! Argo post-processes its controller-gen output; we reach the same effect from our types:
//! - pod templates keep only `labels` and `annotations` in their metadata, and container
//!   `resources.limits`/`requests` and `volumes` are stored as given
//!   (`x-kubernetes-preserve-unknown-fields`), so manifests written for any Kubernetes version apply;
//! - `spec.selector` is immutable (CEL `self == oldSelf`);
//! - descriptions are dropped ([`strip_descriptions`]), as Argo ships them, which keeps every CRD
//!   well under the apiserver's object size limit.

use k8s_openapi::{
    api::{batch::v1::JobSpec, core::v1::PodTemplateSpec},
    apimachinery::pkg::apis::meta::v1::LabelSelector,
};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Value, json};

/// Schema of a pod template as Argo's CRDs have it.
pub fn pod_template(generator: &mut SchemaGenerator) -> Schema {
    let mut value = PodTemplateSpec::json_schema(generator).to_value();
    relax_pod_template(&mut value);
    Schema::try_from(value).expect("pod template schema is an object")
}

/// Schema of a batch JobSpec whose pod template is relaxed like [`pod_template`].
pub fn job_spec(generator: &mut SchemaGenerator) -> Schema {
    let mut value = JobSpec::json_schema(generator).to_value();
    if let Some(template) = value.pointer_mut("/properties/template") {
        relax_pod_template(template);
    }
    Schema::try_from(value).expect("job spec schema is an object")
}

/// Schema of a label selector that may not change once set.
pub fn immutable_label_selector(generator: &mut SchemaGenerator) -> Schema {
    let mut value = LabelSelector::json_schema(generator).to_value();
    value["x-kubernetes-validations"] = json!([
        {"rule": "self == oldSelf", "message": ".spec.selector is immutable"}
    ]);
    Schema::try_from(value).expect("label selector schema is an object")
}

fn preserve() -> Value {
    json!({"x-kubernetes-preserve-unknown-fields": true})
}

fn relax_pod_template(template: &mut Value) {
    if let Some(metadata) = template.pointer_mut("/properties/metadata") {
        let keep = |key: &str, m: &Value| m.pointer(&format!("/properties/{key}")).cloned();
        let labels = keep("labels", metadata);
        let annotations = keep("annotations", metadata);
        *metadata = json!({
            "type": "object",
            "properties": {
                "labels": labels.unwrap_or_else(string_map),
                "annotations": annotations.unwrap_or_else(string_map),
            }
        });
    }
    let Some(spec) = template.pointer_mut("/properties/spec/properties") else {
        return;
    };
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(resources) =
            spec.pointer_mut(&format!("/{list}/items/properties/resources/properties"))
        {
            for key in ["limits", "requests"] {
                if let Some(v) = resources.get_mut(key) {
                    *v = preserve();
                }
            }
        }
    }
    if let Some(volumes) = spec.get_mut("volumes") {
        *volumes = preserve();
    }
}

fn string_map() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}})
}

/// Removes every `description` from a schema tree (but not a property that is named `description`).
pub fn strip_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("description").is_some_and(Value::is_string) {
                map.remove("description");
            }
            for (key, child) in map.iter_mut() {
                if key == "properties" {
                    // Property names are field names, never schema keywords: descend into each schema.
                    if let Value::Object(props) = child {
                        props.values_mut().for_each(strip_descriptions);
                    }
                } else {
                    strip_descriptions(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}
