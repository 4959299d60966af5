//! The CRDs and the fixture corpus.
//!
//! - `crds/` is exactly what `crdgen` renders from the types (regenerate with `make generate`).
//! - Our schemas have every field of Argo Rollouts v1.9.1's published CRDs, with the same JSON type
//!   and the same required-ness (tests/data/argo-v1.9.1-schema-paths.txt, a list of facts).
//! - Every manifest under tests/fixtures/valid deserializes into our types and serializes back
//!   without losing or changing a field, passes the schema the way `kubectl apply --validate=strict`
//!   checks it, and together the corpus uses every field of the schemas.
//! - Every manifest under tests/fixtures/invalid is rejected with the message in its `# expect:` line.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use rollouts::crd::{
    AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Experiment, Rollout, rendered_crds,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// The checkout under test. Read at run time (cargo sets it for `cargo test`): a test binary
/// reused from a shared `CARGO_TARGET_DIR` may have been compiled in another checkout.
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Paths whose children are Kubernetes types from k8s-openapi; walkers stop there.
const K8S_SUBTREES: &[&str] = &[
    "spec.template.spec",
    "spec.templates[].template.spec",
    "spec.metrics[].provider.job.spec",
    "spec.metrics[].provider.job.metadata",
    "spec.strategy.canary.steps[].experiment.templates[].selector",
    "spec.selector",
    "spec.templates[].selector",
];

/// `plural -> openAPIV3Schema` of our rendered CRDs (rendered once per test binary).
fn our_schemas() -> &'static BTreeMap<String, Value> {
    static SCHEMAS: std::sync::OnceLock<BTreeMap<String, Value>> = std::sync::OnceLock::new();
    SCHEMAS.get_or_init(|| {
        rendered_crds()
            .into_iter()
            .map(|(_, yaml)| {
                let crd: Value = serde_norway::from_str(&yaml).expect("rendered CRD is YAML");
                let plural = crd["spec"]["names"]["plural"].as_str().unwrap().to_string();
                let schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
                (plural, schema)
            })
            .collect()
    })
}

fn kind_of(schema: &Value) -> &str {
    if schema["x-kubernetes-int-or-string"] == Value::Bool(true) {
        "int-or-string"
    } else if schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true)
        && schema.get("properties").is_none()
    {
        "preserve-unknown"
    } else {
        schema["type"].as_str().unwrap_or("any")
    }
}

/// Every property path of a schema as `(path, kind, required|optional)`, like the Python lister.
fn schema_paths(schema: &Value, path: &str, out: &mut BTreeSet<(String, String, String)>) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, child) in props {
        let p = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let req = if required.contains(name.as_str()) {
            "required"
        } else {
            "optional"
        };
        out.insert((p.clone(), kind_of(child).to_string(), req.to_string()));
        if K8S_SUBTREES.contains(&p.as_str()) {
            continue;
        }
        if child["type"] == "array" && child.get("items").is_some() {
            schema_paths(&child["items"], &format!("{p}[]"), out);
        } else {
            schema_paths(child, &p, out);
        }
    }
}

fn argo_paths() -> BTreeMap<String, BTreeSet<(String, String, String)>> {
    let text = fs::read_to_string(root().join("tests/data/argo-v1.9.1-schema-paths.txt"))
        .expect("argo path list");
    let mut out: BTreeMap<String, BTreeSet<_>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        out.entry(f[0].to_string()).or_default().insert((
            f[1].to_string(),
            f[2].to_string(),
            f[3].to_string(),
        ));
    }
    out
}

#[test]
fn crds_are_up_to_date() {
    let mut stale = vec![];
    for (name, yaml) in rendered_crds() {
        let path = root().join("crds").join(name);
        if fs::read_to_string(&path).ok().as_deref() != Some(yaml.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "crds/ is stale ({stale:?}): run `make generate` and commit crds/"
    );
}

#[test]
fn schemas_have_every_field_of_argo_v1_9_1() {
    let ours = our_schemas();
    let mut problems = vec![];
    for (plural, argo) in argo_paths() {
        let schema = ours
            .get(&plural)
            .unwrap_or_else(|| panic!("no CRD for {plural}"));
        let mut mine = BTreeSet::new();
        schema_paths(schema, "", &mut mine);
        mine.retain(|(p, _, _)| !matches!(p.as_str(), "apiVersion" | "kind" | "metadata"));
        let by_path =
            |set: &BTreeSet<(String, String, String)>| -> BTreeMap<String, (String, String)> {
                set.iter()
                    .map(|(p, k, r)| (p.clone(), (k.clone(), r.clone())))
                    .collect()
            };
        let (argo, mine) = (by_path(&argo), by_path(&mine));
        for (path, want) in &argo {
            match mine.get(path) {
                None => problems.push(format!("{plural}: missing {path}")),
                Some(got) if got != want => {
                    problems.push(format!("{plural}: {path} is {got:?}, Argo has {want:?}"))
                }
                _ => {}
            }
        }
        for path in mine.keys().filter(|p| !argo.contains_key(p.as_str())) {
            problems.push(format!("{plural}: {path} is not in Argo's schema"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} schema differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn fixture_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("tests/fixtures").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {dir}");
    files
}

fn documents(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| {
            let yaml = serde_norway::Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
            serde_json::to_value(yaml).unwrap()
        })
        .collect()
}

use serde::Deserialize;

/// Deserializes into the typed resource and serializes back.
fn typed_round_trip(doc: &Value) -> Result<Value, String> {
    fn via<T: DeserializeOwned + Serialize>(doc: &Value) -> Result<Value, String> {
        let typed: T = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
        Ok(serde_json::to_value(&typed).unwrap())
    }
    match doc["kind"].as_str() {
        Some("Rollout") => via::<Rollout>(doc),
        Some("AnalysisTemplate") => via::<AnalysisTemplate>(doc),
        Some("ClusterAnalysisTemplate") => via::<ClusterAnalysisTemplate>(doc),
        Some("AnalysisRun") => via::<AnalysisRun>(doc),
        Some("Experiment") => via::<Experiment>(doc),
        other => Err(format!("unknown kind {other:?}")),
    }
}

/// Paths where two JSON documents differ.
fn differences(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => differences(v, w, &p, out),
                    None => out.push(format!("{p} dropped")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{k} added"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                differences(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ if want == got => {}
        _ => out.push(format!("{path}: {want} became {got}")),
    }
}

#[test]
fn valid_fixtures_round_trip_without_losing_a_field() {
    let mut problems = vec![];
    for file in fixture_files("valid") {
        for doc in documents(&file) {
            match typed_round_trip(&doc) {
                Err(e) => problems.push(format!("{}: does not deserialize: {e}", file.display())),
                Ok(back) => {
                    let mut diffs = vec![];
                    differences(&doc, &back, "", &mut diffs);
                    problems.extend(
                        diffs
                            .into_iter()
                            .map(|d| format!("{}: {d}", file.display())),
                    );
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Validates like the apiserver with strict field validation: types, required fields, and no field
/// the schema does not know (outside `x-kubernetes-preserve-unknown-fields`).
fn validate(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let shown = if path.is_empty() { "<root>" } else { path };
    if schema["x-kubernetes-int-or-string"] == Value::Bool(true) {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            errors.push(format!(
                "{shown}: Invalid value: {value}: {shown} in body must be of type int-or-string"
            ));
        }
        return;
    }
    let preserve = schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true);
    let type_ok = match (schema["type"].as_str(), value) {
        (None, _) => true,
        (_, Value::Null) => schema["nullable"] == Value::Bool(true),
        (Some("object"), Value::Object(_)) | (Some("array"), Value::Array(_)) => true,
        (Some("string"), Value::String(_)) | (Some("boolean"), Value::Bool(_)) => true,
        (Some("integer"), v) => v.is_i64() || v.is_u64(),
        (Some("number"), v) => v.is_number(),
        _ => false,
    };
    if !type_ok {
        let t = schema["type"].as_str().unwrap_or("?");
        let got = match value {
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "boolean",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Null => "null",
        };
        errors.push(format!(
            "{shown}: Invalid value: \"{got}\": {shown} in body must be of type {t}: \"{got}\""
        ));
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(required) = schema["required"].as_array() {
                for r in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        errors.push(format!("{}: Required value", join(path, r)));
                    }
                }
            }
            let props = schema["properties"].as_object();
            for (k, v) in map {
                let p = join(path, k);
                if let Some(child) = props.and_then(|p| p.get(k)) {
                    validate(child, v, &p, errors);
                } else if let Some(extra) =
                    schema.get("additionalProperties").filter(|a| a.is_object())
                {
                    validate(extra, v, &p, errors);
                } else {
                    let type_meta = path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind");
                    if !preserve && !type_meta {
                        errors.push(format!("unknown field \"{p}\""));
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    validate(item_schema, v, &format!("{path}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn plural_of(doc: &Value) -> String {
    format!(
        "{}s",
        doc["kind"].as_str().unwrap_or_default().to_lowercase()
    )
}

/// Schema errors of a document, ignoring `metadata` (the apiserver checks it, not the CRD schema).
fn schema_errors(doc: &Value) -> Vec<String> {
    let Some(schema) = our_schemas().get(&plural_of(doc)) else {
        return vec![format!("no CRD for kind {:?}", doc["kind"])];
    };
    let mut doc = doc.clone();
    doc.as_object_mut().map(|m| m.remove("metadata"));
    let mut errors = vec![];
    validate(schema, &doc, "", &mut errors);
    errors
}

#[test]
fn valid_fixtures_pass_the_generated_schema() {
    let mut problems = vec![];
    for file in fixture_files("valid") {
        for doc in documents(&file) {
            problems.extend(
                schema_errors(&doc)
                    .into_iter()
                    .map(|e| format!("{}: {e}", file.display())),
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Maps a path to the type it exercises, so one use of a shared type covers all its places.
fn canonical(plural: &str, path: &str) -> (String, String) {
    const ANALYSIS: &[&str] = &[
        "spec.strategy.blueGreen.prePromotionAnalysis",
        "spec.strategy.blueGreen.postPromotionAnalysis",
        "spec.strategy.canary.steps[].analysis",
    ];
    if plural == "clusteranalysistemplates" {
        return ("analysistemplates".into(), path.into());
    }
    if plural == "analysisruns" && path.starts_with("spec.metrics") {
        return ("analysistemplates".into(), path.into());
    }
    if plural == "rollouts" {
        for prefix in ANALYSIS {
            if let Some(rest) = path.strip_prefix(prefix) {
                return (
                    plural.into(),
                    format!("spec.strategy.canary.analysis{rest}"),
                );
            }
        }
    }
    (plural.into(), path.into())
}

fn used_paths(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    if !path.is_empty() {
        out.insert(path.to_string());
    }
    if K8S_SUBTREES.contains(&path) {
        return;
    }
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| used_paths(v, &join(path, k), out)),
        Value::Array(items) => items
            .iter()
            .for_each(|v| used_paths(v, &format!("{path}[]"), out)),
        _ => {}
    }
}

#[test]
fn fixtures_use_every_field() {
    let ours = our_schemas();
    let mut used = BTreeSet::new();
    for file in fixture_files("valid") {
        for doc in documents(&file) {
            let plural = plural_of(&doc);
            let schema = &ours[&plural];
            let mut paths = BTreeSet::new();
            used_paths(&doc, "", &mut paths);
            // Keys under schemaless objects (maps, preserve-unknown) are data, not fields.
            let mut known = BTreeSet::new();
            schema_paths(schema, "", &mut known);
            let known: BTreeSet<String> = known.into_iter().map(|(p, _, _)| p).collect();
            used.extend(
                paths
                    .into_iter()
                    .filter(|p| known.contains(p))
                    .map(|p| canonical(&plural, &p)),
            );
        }
    }
    let mut missing = vec![];
    for (plural, schema) in ours {
        let mut all = BTreeSet::new();
        schema_paths(schema, "", &mut all);
        for (path, _, _) in all {
            if matches!(path.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            if !used.contains(&canonical(plural, &path)) {
                missing.push(format!("{plural}: {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields no fixture uses:\n{}",
        missing.join("\n")
    );
}

#[test]
fn invalid_fixtures_are_rejected_with_a_clear_message() {
    let mut problems = vec![];
    for file in fixture_files("invalid") {
        let text = fs::read_to_string(&file).unwrap();
        let expect = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no `# expect:` line", file.display()))
            .to_string();
        let doc = &documents(&file)[0];
        let mut messages = schema_errors(doc);
        match typed_round_trip(doc) {
            Err(e) => messages.push(e),
            Ok(_) => {
                if doc["kind"] == "Rollout" {
                    let rollout: Rollout = serde_json::from_value(doc.clone()).unwrap();
                    messages.extend(rollouts::validation::first_invalid_spec_message(&rollout));
                }
            }
        }
        if !messages.iter().any(|m| m.contains(&expect)) {
            problems.push(format!(
                "{}: expected {expect:?}, got {messages:?}",
                file.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn names_scopes_and_subresources_match_argo() {
    let mut seen = BTreeMap::new();
    for (_, yaml) in rendered_crds() {
        let crd: Value = serde_norway::from_str(&yaml).unwrap();
        let spec = &crd["spec"];
        let version = &spec["versions"][0];
        let subresources: Vec<String> = version["subresources"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let columns: Vec<&str> = version["additionalPrinterColumns"]
            .as_array()
            .map(|c| c.iter().filter_map(|c| c["name"].as_str()).collect())
            .unwrap_or_default();
        seen.insert(
            spec["names"]["plural"].as_str().unwrap().to_string(),
            (
                spec["group"].as_str().unwrap().to_string(),
                spec["scope"].as_str().unwrap().to_string(),
                spec["names"]["shortNames"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                subresources,
                columns.join(","),
                (version["name"] == "v1alpha1"
                    && version["served"] == true
                    && version["storage"] == true),
            ),
        );
    }
    let want = |scope: &str, short: &str, sub: &[&str], cols: &str| {
        (
            "argoproj.io".to_string(),
            scope.to_string(),
            short.to_string(),
            sub.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            cols.to_string(),
            true,
        )
    };
    assert_eq!(
        seen["rollouts"],
        want(
            "Namespaced",
            "ro",
            &["scale", "status"],
            "Desired,Current,Up-to-date,Available,Age"
        )
    );
    assert_eq!(
        seen["analysistemplates"],
        want("Namespaced", "at", &[], "Age")
    );
    assert_eq!(
        seen["clusteranalysistemplates"],
        want("Cluster", "cat", &[], "Age")
    );
    assert_eq!(
        seen["analysisruns"],
        want("Namespaced", "ar", &[], "Status,Age")
    );
    assert_eq!(
        seen["experiments"],
        want("Namespaced", "exp", &[], "Status,Age")
    );
    let rollouts: Value = serde_norway::from_str(&rendered_crds()[0].1).unwrap();
    assert_eq!(
        rollouts["spec"]["versions"][0]["subresources"]["scale"],
        serde_json::json!({"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.HPAReplicas", "labelSelectorPath": ".status.selector"})
    );
}

#[test]
fn valid_rollout_fixtures_pass_the_controller_validation() {
    let mut problems = vec![];
    for file in fixture_files("valid") {
        for doc in documents(&file)
            .into_iter()
            .filter(|d| d["kind"] == "Rollout")
        {
            let rollout: Rollout = serde_json::from_value(doc).unwrap();
            if let Some(message) = rollouts::validation::first_invalid_spec_message(&rollout) {
                problems.push(format!("{}: {message}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
