//! `ako-gateway-api translate` on the seed scenarios in `examples/manifests`.

use std::process::Command;

use serde_json::Value;

fn translate(args: &[&str]) -> (i32, Value, String) {
    let manifests = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/manifests/");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ako-gateway-api"));
    cmd.arg("translate");
    for a in args {
        cmd.arg(a.replace("@", manifests));
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let doc = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        doc,
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn route_condition(doc: &Value, name: &str, ty: &str) -> (String, String) {
    let route = doc["status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "HTTPRoute" && s["name"] == name)
        .unwrap();
    let c = route["status"]["parents"][0]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == ty)
        .unwrap();
    (
        c["status"].as_str().unwrap().to_owned(),
        c["reason"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn istio_guide_pools_get_the_istio_identity() {
    let (code, doc, stderr) = translate(&[
        "-f",
        "@istio-guide.yaml",
        "--istio",
        "--cluster-name",
        "demo",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let pool = &doc["avi"]["pool"][0];
    assert!(
        pool["pki_profile_ref"]
            .as_str()
            .unwrap()
            .ends_with("istio-pki-demo-avi-system"),
        "{pool}"
    );
    assert!(
        pool["ssl_key_and_certificate_ref"]
            .as_str()
            .unwrap()
            .ends_with("istio-workload-demo-avi-system")
    );
    assert_eq!(pool["servers"][0]["ip"]["addr"], "10.244.1.15");
    assert_eq!(pool["servers"][0]["port"], 8080);
    assert_eq!(doc["avi"]["virtualservice"].as_array().unwrap().len(), 2);
    assert_eq!(
        route_condition(&doc, "httpbin", "Accepted"),
        ("True".into(), "Accepted".into())
    );
    // Without --istio: plaintext.
    let (_, doc, _) = translate(&["-f", "@istio-guide.yaml"]);
    assert!(doc["avi"]["pool"][0].get("pki_profile_ref").is_none());
}

#[test]
fn shared_gateway_takes_a_route_from_another_namespace() {
    let (code, doc, stderr) = translate(&["-f", "@", "--output", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        route_condition(&doc, "bookinfo", "Accepted"),
        ("True".into(), "Accepted".into())
    );
    assert_eq!(
        route_condition(&doc, "bookinfo", "ResolvedRefs"),
        ("True".into(), "ResolvedRefs".into())
    );
    let parent = doc["avi"]["virtualservice"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "ako-gw-cluster--networking-shared-EVH")
        .unwrap();
    let services: Vec<(i64, bool)> = parent["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["port"].as_i64().unwrap(),
                s["enable_ssl"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(services, [(80, false), (443, true)]);
    let vsvip = doc["avi"]["vsvip"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "ako-gw-cluster--networking-shared-EVH")
        .unwrap();
    assert_eq!(vsvip["dns_info"][0]["fqdn"], "bookinfo.apps.example.com");
    // The listener certificate is there, its key is not.
    assert_eq!(doc["avi"]["sslkeyandcertificate"][0]["key"], "<sensitive>");
    assert!(
        !doc.to_string().contains("PRIVATE KEY"),
        "key material in the dry run"
    );
}

#[test]
fn yaml_output_and_bad_input() {
    let manifests = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/manifests/istio-guide.yaml"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ako-gateway-api"))
        .args(["translate", "-f", manifests, "-o", "yaml"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("virtualservice:")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ako-gateway-api"))
        .args(["translate", "-f", "/nonexistent.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("cannot read /nonexistent.yaml")
    );
}

#[test]
fn without_a_command_the_binary_runs_the_controller() {
    // As a container would start it with no configuration: `run`'s own error, naming what is
    // missing, not a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_ako-gateway-api"))
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("CLUSTER_NAME is not set"), "{stderr}");
    // `run`'s flags work without the word `run`; a wrong one is `run`'s usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_ako-gateway-api"))
        .args(["--istio-backends", "all", "--cluster-name", "c"])
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("CLUSTER_NAME is not set"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_ako-gateway-api"))
        .args(["--istio-backends", "some"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
