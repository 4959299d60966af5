use super::*;
use proptest::prelude::*;
use serde_json::json;

/// Golden vectors written by e2e/hashgen (Argo Rollouts v1.9.1's own functions on the Go types).
const VECTORS: &str = include_str!("../testdata/hash_vectors.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("testdata/hash_vectors.json parses")
}

/// Where two byte strings first differ, with some context, for a readable failure.
fn first_difference(got: &[u8], want: &[u8]) -> Option<String> {
    if got == want {
        return None;
    }
    let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
    let ctx = |b: &[u8]| {
        let from = at.saturating_sub(60);
        let to = (at + 60).min(b.len());
        format!(
            "…{}⟨{}⟩…",
            String::from_utf8_lossy(&b[from..at.min(b.len())]),
            String::from_utf8_lossy(&b[at.min(b.len())..to])
        )
    };
    Some(format!(
        "first difference at byte {at} (got {} bytes, want {} bytes)\n  got:  {}\n  want: {}",
        got.len(),
        want.len(),
        ctx(got),
        ctx(want)
    ))
}

fn collision(case: &Value) -> Option<i32> {
    case["collisionCount"]
        .as_i64()
        .map(|c| i32::try_from(c).expect("collisionCount fits int32"))
}

#[test]
fn golden_template_vectors() {
    let v = vectors();
    let cases = v["templates"].as_array().expect("templates");
    assert!(cases.len() >= 30, "expected at least 30 template vectors");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let cc = collision(case);
        if let Some(go_err) = case.get("error") {
            match go_json_pod_template(input) {
                Ok(b) => failures.push(format!(
                    "{name}: Go rejects this template ({go_err}) but we encoded {}",
                    String::from_utf8_lossy(&b)
                )),
                Err(e) => eprintln!("{name}: rejected as Go does: {e}  (Go: {go_err})"),
            }
            continue;
        }
        let want = case["goJson"].as_str().unwrap().as_bytes();
        match go_json_pod_template(input) {
            Err(e) => failures.push(format!("{name}: unexpected error {e}")),
            Ok(got) => {
                if let Some(d) = first_difference(&got, want) {
                    failures.push(format!("{name}: bytes differ from Go: {d}"));
                }
            }
        }
        let want_sum = case["fnv32a"].as_u64().unwrap() as u32;
        let want_hash = case["hash"].as_str().unwrap();
        assert_eq!(
            fnv32a_with_collision_count(want, cc),
            want_sum,
            "{name}: FNV over Go's own bytes"
        );
        assert_eq!(safe_encode(want_sum), want_hash, "{name}: safe encoding");
        match pod_template_hash(input, cc) {
            Ok(h) if h == want_hash => {}
            other => failures.push(format!(
                "{name}: pod_template_hash = {other:?}, want {want_hash}"
            )),
        }

        let want_legacy = case["legacyGoJson"].as_str().unwrap().as_bytes();
        match go_json_pod_template_legacy(input) {
            Err(e) => failures.push(format!("{name}: legacy: unexpected error {e}")),
            Ok(got) => {
                if let Some(d) = first_difference(&got, want_legacy) {
                    failures.push(format!("{name}: legacy bytes differ from Go: {d}"));
                }
            }
        }
        let want_legacy_hash = case["legacyHash"].as_str().unwrap();
        match legacy_pod_template_hash(input, cc) {
            Ok(h) if h == want_legacy_hash => {}
            other => failures.push(format!(
                "{name}: legacy_pod_template_hash = {other:?}, want {want_legacy_hash}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} template vector failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_step_vectors() {
    let v = vectors();
    let cases = v["steps"].as_array().expect("steps");
    assert!(cases.len() >= 10, "expected at least 10 step vectors");
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = case.get("input");
        if let Some(go_err) = case.get("error") {
            match go_json_steps(input) {
                Ok(b) => failures.push(format!(
                    "{name}: Go rejects these steps ({go_err}) but we encoded {}",
                    String::from_utf8_lossy(&b)
                )),
                Err(e) => eprintln!("{name}: rejected as Go does: {e}  (Go: {go_err})"),
            }
            continue;
        }
        let want = case["goJson"].as_str().unwrap().as_bytes();
        match go_json_steps(input) {
            Err(e) => failures.push(format!("{name}: unexpected error {e}")),
            Ok(got) => {
                if let Some(d) = first_difference(&got, want) {
                    failures.push(format!("{name}: bytes differ from Go: {d}"));
                }
            }
        }
        let want_hash = case["hash"].as_str().unwrap();
        assert_eq!(
            safe_encode(fnv32a(want)),
            want_hash,
            "{name}: FNV over Go's own bytes"
        );
        match step_hash(input) {
            Ok(h) if h == want_hash => {}
            other => failures.push(format!("{name}: step_hash = {other:?}, want {want_hash}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} step vector failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_quantity_vectors() {
    let v = vectors();
    let cases = v["quantities"].as_array().expect("quantities");
    let mut failures = Vec::new();
    for case in cases {
        let input = case["input"].as_str().unwrap();
        let got = quantity::canonical_quantity(input);
        match (
            case.get("output").and_then(Value::as_str),
            case.get("error").and_then(Value::as_str),
            &got,
        ) {
            (Some(want), _, Ok(g)) if g == want => {}
            (None, Some(want_err), Err(e)) if e.to_string() == want_err => {}
            _ => failures.push(format!("{input:?}: got {got:?}, Go says {case}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} quantity vector failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The pinned vectors of the contract (Addendum A), independent of the generated file.
#[test]
fn addendum_a_vectors() {
    let red = json!({
        "metadata": {"labels": {"name": "red"}},
        "spec": {
            "containers": [{"name": "red", "image": "red", "imagePullPolicy": "Always",
                            "terminationMessagePath": "/dev/termination-log"}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {}
        }
    });
    let bytes = go_json_pod_template(&red).unwrap();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        r#"{"metadata":{"labels":{"name":"red"}},"spec":{"containers":[{"name":"red","image":"red","resources":{},"terminationMessagePath":"/dev/termination-log","imagePullPolicy":"Always"}],"restartPolicy":"Always","dnsPolicy":"ClusterFirst","securityContext":{}}}"#
    );
    assert_eq!(fnv32a(&bytes), 1_934_834_708);
    assert_eq!(pod_template_hash(&red, None).unwrap(), "5f78d78c4d");

    let legacy = go_json_pod_template_legacy(&red).unwrap();
    assert_eq!(
        String::from_utf8(legacy.clone()).unwrap(),
        r#"{"metadata":{"creationTimestamp":null,"labels":{"name":"red"}},"spec":{"containers":[{"name":"red","image":"red","resources":{},"terminationMessagePath":"/dev/termination-log","imagePullPolicy":"Always"}],"restartPolicy":"Always","dnsPolicy":"ClusterFirst","securityContext":{}}}"#
    );
    assert_eq!(fnv32a(&legacy), 3_660_967_452);
    assert_eq!(legacy_pod_template_hash(&red, None).unwrap(), "7bb4fbc896");

    assert_eq!(step_hash(None).unwrap(), "5ffbfbbd64");
    assert_eq!(step_hash(Some(&json!(null))).unwrap(), "5ffbfbbd64");
    assert_eq!(step_hash(Some(&json!([]))).unwrap(), "5ffbfbbd64");
    assert_eq!(fnv32a(b"null"), 1_996_966_820);
    assert_eq!(
        step_hash(Some(&json!([{"pause": {}}]))).unwrap(),
        "6b9b86fbd5"
    );
    assert_eq!(fnv32a(br#"[{"pause":{}}]"#), 2_656_429_681);
    assert_eq!(
        step_hash(Some(&json!([{"pause": {}}, {"pause": {}}]))).unwrap(),
        "79c9b9f6bf"
    );
    assert_eq!(fnv32a(br#"[{"pause":{}},{"pause":{}}]"#), 3_575_659_269);
}

#[test]
fn collision_count_changes_the_hash() {
    let t = json!({"spec": {"containers": [{"name": "c", "image": "c"}]}});
    let a = pod_template_hash(&t, None).unwrap();
    let b = pod_template_hash(&t, Some(0)).unwrap();
    let c = pod_template_hash(&t, Some(1)).unwrap();
    assert_ne!(a, b);
    assert_ne!(b, c);
}

#[test]
fn safe_encode_alphabet() {
    assert_eq!(safe_encode(1_934_834_708), "5f78d78c4d");
    assert_eq!(safe_encode(0), "4");
    assert_eq!(safe_encode(u32::MAX), "86f8fbc6f9");
}

#[test]
fn go_string_escaping() {
    let mut out = Vec::new();
    write_go_string(
        &mut out,
        "a&b<c>d\"e\\f\u{2028}\u{2029}\u{1}\u{8}\u{c}\n\r\t\u{7f}é日/",
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\"a\\u0026b\\u003cc\\u003ed\\\"e\\\\f\\u2028\\u2029\\u0001\\b\\f\\n\\r\\t\u{7f}é日/\""
    );
}

#[test]
fn go_float_formatting() {
    for (f, want) in [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (0.1, "0.1"),
        (2.5, "2.5"),
        (1000.0, "1000"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (2.5e-7, "2.5e-7"),
        (1e-10, "1e-10"),
        (-1.25e-300, "-1.25e-300"),
        (123456.789, "123456.789"),
        (12345678901234567890.0, "12345678901234567000"),
    ] {
        assert_eq!(go_float64(f), want, "{f:e}");
    }
}

#[test]
fn rfc3339_like_go() {
    let ok = |s: &str| parse_go_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(ok("1970-01-01T00:00:00Z"), 0);
    assert_eq!(ok("2024-01-02T03:04:05Z"), 1_704_164_645);
    assert_eq!(ok("2024-01-02T05:04:05+02:00"), 1_704_164_645);
    assert_eq!(ok("2024-01-02T03:04:05.999999999999Z"), 1_704_164_645);
    assert_eq!(ok("2024-01-02T03:04:05,5Z"), 1_704_164_645);
    assert_eq!(ok("2024-01-02T3:04:05Z"), 1_704_164_645);
    assert_eq!(ok("0001-01-01T00:00:00Z"), GO_ZERO_TIME);
    assert_eq!(ok("2024-02-29T00:00:00Z"), 1_709_164_800);
    for bad in [
        "2023-02-29T00:00:00Z",
        "2024-01-02 03:04:05Z",
        "2024-01-02T03:04:05",
        "2024-01-02T24:00:00Z",
        "2024-01-02T03:04:60Z",
        "2024-13-01T00:00:00Z",
        "2024-01-02T03:04:05+0200",
        "2024-01-02T03:04:05z",
        "2024-01-02T03:04:05.Z",
        "24-01-02T03:04:05Z",
        "",
    ] {
        assert!(parse_go_rfc3339(bad).is_err(), "{bad} should not parse");
    }
    let mut out = Vec::new();
    write_time(&mut out, Some(1_704_164_645));
    assert_eq!(out, b"\"2024-01-02T03:04:05Z\"");
}

#[test]
fn rejections_carry_a_path() {
    let t = json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}, {"containerPort": "80"}]}]}});
    let err = go_json_pod_template(&t).unwrap_err();
    assert_eq!(err.path(), ".spec.containers[0].ports[1].containerPort");
    assert!(
        err.message()
            .contains("cannot unmarshal string into Go value of type int32"),
        "{err}"
    );

    let t = json!({"spec": {"containers": [{"resources": {"limits": {"cpu": "1K"}}}]}});
    let err = go_json_pod_template(&t).unwrap_err();
    assert_eq!(err.path(), ".spec.containers[0].resources.limits[\"cpu\"]");

    assert!(
        go_json_pod_template(&json!({"spec": {"terminationGracePeriodSeconds": 1.5}})).is_err()
    );
    assert!(go_json_pod_template(&json!("template")).is_err());
    assert!(step_hash(Some(&json!({"pause": {}}))).is_err());
    assert!(step_hash(Some(&json!([{"setWeight": 20.5}]))).is_err());
}

#[test]
fn numbers_are_read_as_the_api_server_reencodes_them() {
    // 8080.0 is stored as 8080 by the API server; 1e3 as 1000.
    let a = json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080.0}, {"containerPort": 1e3}]}]}});
    let b = json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}, {"containerPort": 1000}]}]}});
    assert_eq!(
        go_json_pod_template(&a).unwrap(),
        go_json_pod_template(&b).unwrap()
    );
    // An int64 field only takes integers in range.
    assert!(
        go_json_pod_template(&json!({"spec": {"activeDeadlineSeconds": 9223372036854775807u64}}))
            .is_ok()
    );
    assert!(
        go_json_pod_template(&json!({"spec": {"activeDeadlineSeconds": 9223372036854775808u64}}))
            .is_err()
    );
    assert!(go_json_pod_template(&json!({"spec": {"activeDeadlineSeconds": 1e21}})).is_err());
}

fn arb_json() -> impl Strategy<Value = Value> {
    // Keys the Go types know, so that random objects reach deep into the typed paths.
    const KEYS: &[&str] = &[
        "metadata",
        "spec",
        "labels",
        "annotations",
        "creationTimestamp",
        "deletionTimestamp",
        "name",
        "containers",
        "initContainers",
        "image",
        "resources",
        "limits",
        "requests",
        "cpu",
        "ports",
        "containerPort",
        "livenessProbe",
        "httpGet",
        "port",
        "tcpSocket",
        "env",
        "valueFrom",
        "resourceFieldRef",
        "divisor",
        "volumes",
        "emptyDir",
        "sizeLimit",
        "securityContext",
        "runAsUser",
        "tolerations",
        "managedFields",
        "fieldsV1",
        "time",
        "pause",
        "duration",
        "setWeight",
        "plugin",
        "config",
        "setCanaryScale",
        "replicas",
        "analysis",
        "args",
        "terminationGracePeriodSeconds",
        "hostNetwork",
        "nodeSelector",
        "ephemeral",
        "volumeClaimTemplate",
        "overhead",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        "[-+0-9.eEinumkKMGTP ]{0,12}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{1,2}:[0-9]{2}:[0-9]{2}([.,][0-9]{0,12})?(Z|[+-][0-9]{2}:[0-9]{2})?"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(str::to_owned),
                        any::<String>()
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encoder_never_panics(v in arb_json(), cc in any::<Option<i32>>()) {
        let _ = pod_template_hash(&v, cc);
        let _ = legacy_pod_template_hash(&v, cc);
        let _ = step_hash(Some(&v));
        let wrapped = json!({"metadata": v.clone(), "spec": {"containers": [v.clone()], "volumes": [v.clone()]}});
        let _ = pod_template_hash(&wrapped, cc);
        let steps = json!([v.clone(), {"pause": v.clone()}, {"plugin": {"name": "p", "config": v}}]);
        let _ = step_hash(Some(&steps));
    }

    #[test]
    fn quantity_never_panics(s in "[-+0-9.eEinumkKMGTP]{0,40}") {
        let _ = quantity::canonical_quantity(&s);
    }

    #[test]
    fn output_is_valid_json(v in arb_json()) {
        if let Ok(bytes) = go_json_pod_template(&v) {
            prop_assert!(serde_json::from_slice::<Value>(&bytes).is_ok(), "{}", String::from_utf8_lossy(&bytes));
        }
    }
}
