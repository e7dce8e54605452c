//! `ako certs` end to end: the real binary against directories istio-sim writes.

use std::path::Path;
use std::process::{Command, Output};

use istio_sim::{CaOptions, IstioCa, KeyAlg, OutputCertsWriter, WorkloadCert, WorkloadRequest};

fn ako(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ako"))
        .args(args)
        .output()
        .unwrap()
}

fn issue() -> WorkloadCert {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..CaOptions::default()
    })
    .unwrap();
    let req = WorkloadRequest {
        namespace: "avi-system".into(),
        service_account: "ako-sa".into(),
        key_alg: KeyAlg::EcdsaP256,
        ..WorkloadRequest::default()
    };
    ca.issue(&req).unwrap()
}

fn written(cert: &WorkloadCert) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    OutputCertsWriter::new(dir.path()).write(cert).unwrap();
    dir
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn inspect_valid_set_as_text() {
    let cert = issue();
    let dir = written(&cert);
    let out = ako(&["certs", "inspect", "--dir", arg(dir.path())]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("SPIFFE ID:    spiffe://cluster.local/ns/avi-system/sa/ako-sa"));
    assert!(stdout.contains("Principal:    cluster.local/ns/avi-system/sa/ako-sa"));
    assert!(stdout.contains("Issuer:       O=cluster.local"));
    assert!(stdout.contains("Key:          ECDSA P-256 256 bits (SEC1)"));
    assert!(stdout.contains("[1] O=cluster.local [CA, self-signed]"));
    assert!(stdout.trim_end().ends_with("Verdict:      VALID"));
    assert!(!stdout.contains("PRIVATE KEY"));
}

#[test]
fn inspect_valid_set_as_json() {
    let cert = issue();
    let dir = written(&cert);
    let out = ako(&[
        "certs",
        "inspect",
        "--dir",
        arg(dir.path()),
        "--output",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["error"], serde_json::Value::Null);
    assert_eq!(
        v["spiffe_id"],
        "spiffe://cluster.local/ns/avi-system/sa/ako-sa"
    );
    assert_eq!(v["principal"], "cluster.local/ns/avi-system/sa/ako-sa");
    assert_eq!(v["key"]["algorithm"], "ecdsa-p256");
    assert_eq!(v["key"]["encoding"], "sec1");
    assert_eq!(v["chain"].as_array().unwrap().len(), 2);
    assert_eq!(v["roots"].as_array().unwrap().len(), 1);
    let remaining = v["remaining_seconds"].as_u64().unwrap();
    assert!(
        remaining > 23 * 3600 && remaining <= 24 * 3600,
        "{remaining}"
    );
    assert!(v["not_after"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn inspect_torn_set_exits_1_with_one_clear_line() {
    let cert = issue();
    let dir = written(&cert);
    // istio-agent renamed a new key.pem but not yet cert-chain.pem.
    OutputCertsWriter::new(dir.path())
        .write_files(Some(&issue().key_pem), None, None)
        .unwrap();
    let out = ako(&["certs", "inspect", "--dir", arg(dir.path())]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("key.pem does not match the leaf certificate in cert-chain.pem"));
    assert!(!stderr.contains("PRIVATE KEY"));

    let out = ako(&["certs", "inspect", "--dir", arg(dir.path()), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["error_kind"], "key_mismatch");
    assert_eq!(v["error_file"], "cert-chain.pem");
    assert_eq!(v["spiffe_id"], serde_json::Value::Null);
}

#[test]
fn inspect_missing_directory_says_the_directory_is_missing() {
    let out = ako(&[
        "certs",
        "inspect",
        "--dir",
        "/nonexistent/istio-output-certs",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("/nonexistent/istio-output-certs does not exist"),
        "{stderr}"
    );
    // A directory without the files still names the missing file.
    let dir = tempfile::tempdir().unwrap();
    let out = ako(&["certs", "inspect", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("key.pem is missing in"), "{stderr}");
}

#[test]
fn principal_prints_the_authorization_policy_principal() {
    let cert = issue();
    let dir = written(&cert);
    let out = ako(&["certs", "principal", "--dir", arg(dir.path())]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "cluster.local/ns/avi-system/sa/ako-sa\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        ako(&["certs", "inspect", "--output", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(ako(&["certs", "frobnicate"]).status.code(), Some(2));
}

#[test]
fn authz_policy_names_the_principal_of_akos_certificate() {
    let cert = issue();
    let dir = written(&cert);
    let out = ako(&[
        "istio",
        "authz-policy",
        "--namespace",
        "shop",
        "--dir",
        arg(dir.path()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_saphyr::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(doc["kind"], "AuthorizationPolicy");
    assert_eq!(doc["metadata"]["namespace"], "shop");
    assert_eq!(
        doc["spec"]["rules"][0]["from"][0]["source"]["principals"][0],
        "cluster.local/ns/avi-system/sa/ako-sa"
    );
    // And `ako certs principal` prints that principal alone.
    let p = ako(&["certs", "principal", "--dir", arg(dir.path())]);
    assert_eq!(
        String::from_utf8(p.stdout).unwrap().trim(),
        "cluster.local/ns/avi-system/sa/ako-sa"
    );
}

#[test]
fn without_a_command_the_binary_runs_the_controller() {
    // As a container would start it with no configuration: `run`'s own error, naming what is
    // missing, not a usage error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ako"))
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("CLUSTER_NAME is not set"), "{stderr}");
}
