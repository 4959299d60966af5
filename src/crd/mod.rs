//! Custom resource types of `argoproj.io/v1alpha1`, wire-compatible with Argo Rollouts v1.9.1.
//!
//! One Rust module per Go source file of Argo's API package, so a type is found where Argo keeps it:
//! [`rollout`] (types.go), [`analysis`] (analysis_types.go), [`experiment`] (experiment_types.go).
//!
//! Conventions, shared by every type here:
//! - Fields are declared in Argo's Go struct order and carry Argo's exact JSON names.
//! - A Go field without `omitempty` (and not `+optional`) is a plain Rust field, required in the schema.
//!   Every other field is an `Option`, skipped when `None`, so an object round-trips without gaining keys.
//! - Kubernetes types come from `k8s-openapi`; IntOrString fields use its `IntOrString`; Go durations
//!   (`"30s"`, `"1h"`) are strings ([`DurationString`]).
//! - Schemaless JSON (`x-kubernetes-preserve-unknown-fields`) is `serde_json::Value` with the
//!   [`preserve_unknown`] schema.

pub mod analysis;
pub mod experiment;
pub mod rollout;
pub mod schema;

pub use analysis::*;
pub use experiment::*;
pub use rollout::*;

/// API group of every resource here.
pub const GROUP: &str = "argoproj.io";
/// The only served and stored version.
pub const VERSION: &str = "v1alpha1";

/// A Go `time.ParseDuration` string such as `"30s"`, `"5m"` or `"1h30m"`.
pub type DurationString = String;

/// Schema of a value that the apiserver stores as given (`x-kubernetes-preserve-unknown-fields`).
pub fn preserve_unknown(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Schema of a value of any JSON type, stored as given (a raw `json.RawMessage` in Argo).
pub fn any_json(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Declares a string enum as Argo's Go `type X string` constants: the known values as variants,
/// anything else kept verbatim in `Other`, so an unexpected value never makes an object
/// undeserializable and survives a round trip. The schema is a plain `type: string`, as in Argo's CRD.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know, kept as written.
            Other(String),
        }

        impl $name {
            /// The exact string on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)+
                    Self::Other(s) => s.as_str(),
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($value => Self::$variant,)+
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string" })
            }
        }
    };
}

/// Every CRD of this project as `(file name under crds/, rendered YAML)`, in a fixed order.
/// This is the only source of `crds/`: `crdgen` writes it and a test checks it is current.
pub fn rendered_crds() -> Vec<(&'static str, String)> {
    use kube::CustomResourceExt;
    vec![
        ("rollouts.yaml", render(Rollout::crd())),
        ("analysistemplates.yaml", render(AnalysisTemplate::crd())),
        (
            "clusteranalysistemplates.yaml",
            render(ClusterAnalysisTemplate::crd()),
        ),
        (
            "analysisruns.yaml",
            render(without_status_subresource(AnalysisRun::crd())),
        ),
        (
            "experiments.yaml",
            render(without_status_subresource(Experiment::crd())),
        ),
    ]
}

/// AnalysisRuns and Experiments have no status subresource in Argo: their controllers write the
/// status with the object. kube-derive ties a status field to the subresource, so drop it here.
fn without_status_subresource(
    mut crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
    for version in &mut crd.spec.versions {
        version.subresources = None;
    }
    crd
}

fn render(
    crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> String {
    let mut value = serde_json::to_value(&crd).expect("a CRD serializes");
    schema::strip_descriptions(&mut value);
    let yaml = serde_norway::to_string(&value).expect("a CRD renders as YAML");
    format!(
        "# Generated by `make generate` (src/bin/crdgen.rs) from src/crd/. Do not edit.\n{yaml}"
    )
}
