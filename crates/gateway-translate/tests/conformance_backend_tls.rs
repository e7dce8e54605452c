//! The BackendTLSPolicy conformance tests (gateway-api.md §6.6, v1.4), each against the suite's
//! base manifests plus its TLS backend: the policy and route statuses, and every request
//! resolved through the produced Avi model, including the TLS handshake the Service Engine
//! makes with the backend (see [`Backend::handshake`]).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::OnceLock;

use gateway_translate::Translation;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use support::harness::{
    INFRA, assert_accepted, assert_condition, assert_generation, policy_ancestor, pool_of,
    route_parent, run, send, snapshot, store_statuses, translate_snapshot, try_policy_status,
};
use support::resolve::{Outcome, Request};

/// The suite's generated CAs: `tls-checks-ca-certificate` signs the `tls-backend` serving
/// certificate, `mismatch-ca-certificate` is unrelated.
struct Cas {
    checks_pem: String,
    checks_der: Vec<u8>,
    mismatch_pem: String,
}

fn ca(name: &str) -> rcgen::Certificate {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    params.self_signed(&key).unwrap()
}

fn cas() -> &'static Cas {
    static CAS: OnceLock<Cas> = OnceLock::new();
    CAS.get_or_init(|| {
        let checks = ca("tls-checks-ca");
        let mismatch = ca("mismatch-ca");
        Cas {
            checks_pem: checks.pem(),
            checks_der: checks.der().to_vec(),
            mismatch_pem: mismatch.pem(),
        }
    })
}

/// The `tls-backend` pods: TLS on 8443 with a certificate the `tls-checks` CA signed, whose
/// DNS SANs are these (its URI SAN `spiffe://abc.example.com/test-identity` aside).
const BACKEND_IP: &str = "10.1.0.9";
const BACKEND_DNS_SANS: [&str; 2] = ["abc.example.com", "other.example.com"];

/// The ConfigMaps of the suite's CAs (`ca.crt`).
fn ca_config_maps() -> String {
    let indent = |pem: &str| {
        pem.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    format!(
        r#"
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: tls-checks-ca-certificate, namespace: gateway-conformance-infra}}
data:
  ca.crt: |
{}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: mismatch-ca-certificate, namespace: gateway-conformance-infra}}
data:
  ca.crt: |
{}"#,
        indent(&cas().checks_pem),
        indent(&cas().mismatch_pem)
    )
}

/// A Service selecting the `tls-backend` pods, its `ports` (name, port) all to target 8443, and
/// the EndpointSlice the cluster makes for it.
fn tls_service(name: &str, ports: &[(&str, u16)]) -> String {
    let service_ports: Vec<String> = ports
        .iter()
        .map(|(n, p)| format!("{{name: {n}, protocol: TCP, port: {p}, targetPort: 8443}}"))
        .collect();
    let slice_ports: Vec<String> = ports
        .iter()
        .map(|(n, _)| format!("{{name: {n}, port: 8443, protocol: TCP}}"))
        .collect();
    format!(
        r#"
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: gateway-conformance-infra}}
spec:
  selector: {{app: tls-backend}}
  ports: [{}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}-abcde
  namespace: gateway-conformance-infra
  labels: {{kubernetes.io/service-name: {name}}}
addressType: IPv4
ports: [{}]
endpoints:
- addresses: ["{BACKEND_IP}"]
  conditions: {{ready: true}}
"#,
        service_ports.join(", "),
        slice_ports.join(", ")
    )
}

/// A BackendTLSPolicy in the infra namespace. `target` is the targetRef's inside (name and
/// sectionName), `validation` the whole validation object.
fn policy(api: &str, name: &str, target: &str, validation: &str, extra_meta: &str) -> String {
    format!(
        r#"
---
apiVersion: gateway.networking.k8s.io/{api}
kind: BackendTLSPolicy
metadata: {{name: {name}, namespace: gateway-conformance-infra, generation: 1{extra_meta}}}
spec:
  targetRefs: [{{group: "", kind: Service, {target}}}]
  validation: {validation}
"#
    )
}

/// `validation` with the suite's good CA and this hostname.
fn checks_ca(hostname: &str) -> String {
    format!(
        r#"{{caCertificateRefs: [{{group: "", kind: ConfigMap, name: tls-checks-ca-certificate}}], hostname: {hostname}}}"#
    )
}

/// An HTTPRoute in infra on `gw` with `hostnames`, one rule per `(Exact path, Service, port)`.
fn route(name: &str, gw: &str, hostnames: &str, rules: &[(&str, &str, u16)]) -> String {
    let rules: String = rules
        .iter()
        .map(|(path, svc, port)| {
            format!(
                r#"
  - matches: [{{path: {{type: Exact, value: {path}}}}}]
    backendRefs: [{{group: "", kind: Service, name: {svc}, port: {port}}}]"#
            )
        })
        .collect();
    format!(
        r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}, namespace: gateway-conformance-infra}}]
  hostnames: {hostnames}
  rules:{rules}
"#
    )
}

/// What the client gets for `req` on Gateway `gw`: the status, and for a 200 the SNI the
/// backend saw.
fn fetch(t: &Translation, gw: &str, req: &Request) -> (u16, Option<String>) {
    let out = send(t, gw, req);
    let Outcome::Forward { shares, path, .. } = &out else {
        return (out.status(), None);
    };
    if shares.iter().all(|s| s.servers == 0) {
        return (out.status(), None);
    }
    assert_eq!(path, &req.path, "the backend sees the path unchanged");
    match handshake(t, &out) {
        Ok(sni) => (200, Some(sni)),
        // The Service Engine cannot reach the server: a 502 to the client.
        Err(_) => (502, None),
    }
}

/// The TLS connection a Service Engine opens to the `tls-backend` server of the request's pool:
/// the SNI it sends, or why the backend is not reached.
fn handshake(t: &Translation, out: &Outcome) -> Result<String, String> {
    let pool = pool_of(t, out);
    assert!(
        pool.servers.iter().all(|s| s.ip.addr == BACKEND_IP),
        "{pool:?}"
    );
    if pool.ssl_profile_ref.is_none() {
        return Err("plaintext to a TLS server".into());
    }
    let pki_name = pool
        .pki_profile_ref
        .as_ref()
        .and_then(|r| r.name())
        .ok_or("no PKI profile: the server certificate is not verified")?;
    let pki = t
        .model
        .pki_profiles
        .iter()
        .find(|p| p.name == pki_name)
        .unwrap_or_else(|| panic!("pool {} names a missing PKI profile {pki_name}", pool.name));
    let trusted = pki.ca_certs.iter().any(|c| {
        c.certificate.as_deref().is_some_and(|pem| {
            CertificateDer::from_pem_slice(pem.as_bytes())
                .is_ok_and(|der| der.as_ref() == cas().checks_der.as_slice())
        })
    });
    if !trusted {
        return Err("the server certificate's CA is not in the PKI profile".into());
    }
    if pool.host_check_enabled == Some(true)
        && !pool
            .domain_name
            .iter()
            .any(|d| BACKEND_DNS_SANS.contains(&d.as_str()))
    {
        return Err(format!(
            "host check: none of {:?} is a SAN",
            pool.domain_name
        ));
    }
    assert_eq!(pool.sni_enabled, Some(true), "{pool:?}");
    Ok(pool.server_name.clone().expect("SNI without a server name"))
}

#[test]
fn backend_tls_policy() {
    let manifests = [
        ca_config_maps(),
        tls_service("backendtlspolicy-test", &[("btls", 443)]),
        tls_service("backendtlspolicy-host-mismatch-test", &[("btls", 443)]),
        tls_service("backendtlspolicy-cert-mismatch-test", &[("btls", 443)]),
        policy(
            "v1",
            "normative-test",
            "name: backendtlspolicy-test, sectionName: btls",
            &checks_ca("abc.example.com"),
            "",
        ),
        policy(
            "v1",
            "host-mismatch",
            "name: backendtlspolicy-host-mismatch-test, sectionName: btls",
            &checks_ca("mismatch.example.com"),
            "",
        ),
        policy(
            "v1",
            "cert-mismatch",
            "name: backendtlspolicy-cert-mismatch-test, sectionName: btls",
            r#"{caCertificateRefs: [{group: "", kind: ConfigMap, name: mismatch-ca-certificate}], hostname: abc.example.com}"#,
            "",
        ),
        // (a) Re-encryption behind the HTTPS listener.
        route(
            "backendtlspolicy-reencrypt",
            "same-namespace-with-https-listener",
            "[https-listener.org]",
            &[("/backendtlspolicy", "backendtlspolicy-test", 443)],
        ),
        // (b) TLS from a plain HTTP listener.
        route(
            "backendtlspolicy",
            "same-namespace",
            "[abc.example.com]",
            &[
                ("/backendtlspolicy", "backendtlspolicy-test", 443),
                (
                    "/backendtlspolicy-host-mismatch",
                    "backendtlspolicy-host-mismatch-test",
                    443,
                ),
                (
                    "/backendtlspolicy-cert-mismatch",
                    "backendtlspolicy-cert-mismatch-test",
                    443,
                ),
            ],
        ),
    ];
    let t = run(&manifests.concat());
    assert_accepted(&t, INFRA, "backendtlspolicy-reencrypt", 1);
    assert_accepted(&t, INFRA, "backendtlspolicy", 1);
    for (name, gw) in [
        ("normative-test", "same-namespace-with-https-listener"),
        ("normative-test", "same-namespace"),
        ("host-mismatch", "same-namespace"),
        ("cert-mismatch", "same-namespace"),
    ] {
        let c = policy_ancestor(&t, name, gw);
        assert_condition(&c, "Accepted", "True", Some("Accepted"));
        assert_condition(&c, "ResolvedRefs", "True", Some("ResolvedRefs"));
        assert_generation(&c, 1);
    }
    // (a) The Host stays the client's; only the SNI is the policy's hostname.
    let req = Request::get(443, "https-listener.org", "/backendtlspolicy");
    assert_eq!(
        fetch(&t, "same-namespace-with-https-listener", &req),
        (200, Some("abc.example.com".to_owned()))
    );
    let Outcome::Forward { host, .. } = send(&t, "same-namespace-with-https-listener", &req) else {
        panic!("not forwarded");
    };
    assert_eq!(host, "https-listener.org");
    // (b)
    let on = |path: &str| Request::get(80, "abc.example.com", path);
    assert_eq!(
        fetch(&t, "same-namespace", &on("/backendtlspolicy")),
        (200, Some("abc.example.com".to_owned()))
    );
    // The suite sends these with Host abc.example.org, which no route serves (404 passes too);
    // sent to the route's host, they must still fail, at the handshake.
    for path in [
        "/backendtlspolicy-host-mismatch",
        "/backendtlspolicy-cert-mismatch",
    ] {
        let (status, _) = fetch(&t, "same-namespace", &on(path));
        assert!(
            status != 200 && status != 408 && status != 504,
            "{path}: {status}"
        );
        assert_eq!(
            fetch(
                &t,
                "same-namespace",
                &Request::get(80, "abc.example.org", path)
            ),
            (404, None)
        );
    }
}

fn san_validation(sans: &str) -> String {
    format!(
        r#"{{caCertificateRefs: [{{group: "", kind: ConfigMap, name: tls-checks-ca-certificate}}], hostname: abc.example.com, subjectAltNames: {sans}}}"#
    )
}

#[test]
fn backend_tls_policy_san_validation() {
    let manifests = [
        ca_config_maps(),
        tls_service("backendtlspolicy-san-dns-test", &[("btls", 443)]),
        tls_service("backendtlspolicy-san-dns-mismatch-test", &[("btls", 443)]),
        policy(
            "v1",
            "san-dns",
            "name: backendtlspolicy-san-dns-test, sectionName: btls",
            &san_validation("[{type: Hostname, hostname: abc.example.com}]"),
            "",
        ),
        policy(
            "v1",
            "san-dns-mismatch",
            "name: backendtlspolicy-san-dns-mismatch-test, sectionName: btls",
            &san_validation("[{type: Hostname, hostname: dce.example.com}]"),
            "",
        ),
        route(
            "backendtlspolicy-san-test",
            "same-namespace",
            "[abc.example.com]",
            &[
                (
                    "/backendtlspolicy-san-dns",
                    "backendtlspolicy-san-dns-test",
                    443,
                ),
                (
                    "/backendtlspolicy-san-dns-mismatch",
                    "backendtlspolicy-san-dns-mismatch-test",
                    443,
                ),
            ],
        ),
    ];
    let t = run(&manifests.concat());
    assert_accepted(&t, INFRA, "backendtlspolicy-san-test", 1);
    for name in ["san-dns", "san-dns-mismatch"] {
        let c = policy_ancestor(&t, name, "same-namespace");
        assert_condition(&c, "Accepted", "True", Some("Accepted"));
    }
    let on = |path: &str| Request::get(80, "abc.example.com", path);
    assert_eq!(
        fetch(&t, "same-namespace", &on("/backendtlspolicy-san-dns")),
        (200, Some("abc.example.com".to_owned()))
    );
    // The SAN, not the hostname (which is a SAN of the certificate), is what is verified.
    assert_eq!(
        fetch(
            &t,
            "same-namespace",
            &on("/backendtlspolicy-san-dns-mismatch")
        )
        .0,
        502
    );
}

/// Deviation: Avi's pool host check compares DNS names only, so a policy with a URI SAN is
/// refused (`Accepted=False Invalid`) rather than narrowed to its DNS names; its backends are
/// invalid and answer 500. The suite expects `san-uri` and `multiple-sans` to verify (200).
#[test]
fn backend_tls_policy_san_validation_uri_is_refused() {
    let manifests = [
        ca_config_maps(),
        tls_service("backendtlspolicy-san-uri-test", &[("btls", 443)]),
        tls_service("backendtlspolicy-san-uri-mismatch-test", &[("btls", 443)]),
        tls_service("backendtlspolicy-multiple-sans-test", &[("btls", 443)]),
        tls_service(
            "backendtlspolicy-multiple-mismatch-sans-test",
            &[("btls", 443)],
        ),
        policy(
            "v1",
            "san-uri",
            "name: backendtlspolicy-san-uri-test, sectionName: btls",
            &san_validation("[{type: URI, uri: \"spiffe://abc.example.com/test-identity\"}]"),
            "",
        ),
        policy(
            "v1",
            "san-uri-mismatch",
            "name: backendtlspolicy-san-uri-mismatch-test, sectionName: btls",
            &san_validation("[{type: URI, uri: \"spiffe://def.example.com/test-identity\"}]"),
            "",
        ),
        policy(
            "v1",
            "multiple-sans",
            "name: backendtlspolicy-multiple-sans-test, sectionName: btls",
            &san_validation(
                "[{type: URI, uri: \"spiffe://abc.example.com/test-identity\"}, {type: Hostname, hostname: abc.example.com}]",
            ),
            "",
        ),
        policy(
            "v1",
            "multiple-mismatch-sans",
            "name: backendtlspolicy-multiple-mismatch-sans-test, sectionName: btls",
            &san_validation(
                "[{type: URI, uri: \"spiffe://def.example.com/test-identity\"}, {type: Hostname, hostname: def.example.com}]",
            ),
            "",
        ),
        route(
            "backendtlspolicy-san-test",
            "same-namespace",
            "[abc.example.com]",
            &[
                (
                    "/backendtlspolicy-san-uri",
                    "backendtlspolicy-san-uri-test",
                    443,
                ),
                (
                    "/backendtlspolicy-san-uri-mismatch",
                    "backendtlspolicy-san-uri-mismatch-test",
                    443,
                ),
                (
                    "/backendtlspolicy-multiple-sans",
                    "backendtlspolicy-multiple-sans-test",
                    443,
                ),
                (
                    "/backendtlspolicy-multiple-mismatch-sans",
                    "backendtlspolicy-multiple-mismatch-sans-test",
                    443,
                ),
            ],
        ),
    ];
    let t = run(&manifests.concat());
    for name in [
        "san-uri",
        "san-uri-mismatch",
        "multiple-sans",
        "multiple-mismatch-sans",
    ] {
        let c = policy_ancestor(&t, name, "same-namespace");
        assert_condition(&c, "Accepted", "False", Some("Invalid"));
        assert!(
            support::harness::condition(&c, "Accepted")
                .message
                .contains("URI"),
            "{c:?}"
        );
    }
    let p = route_parent(&t, INFRA, "backendtlspolicy-san-test", "same-namespace");
    assert_condition(&p.conditions, "Accepted", "True", Some("Accepted"));
    assert_condition(&p.conditions, "ResolvedRefs", "False", None);
    for path in [
        "/backendtlspolicy-san-uri",
        "/backendtlspolicy-san-uri-mismatch",
        "/backendtlspolicy-multiple-sans",
        "/backendtlspolicy-multiple-mismatch-sans",
    ] {
        assert_eq!(
            fetch(
                &t,
                "same-namespace",
                &Request::get(80, "abc.example.com", path)
            ),
            (500, None),
            "{path}"
        );
    }
}

#[test]
fn backend_tls_policy_conflict_resolution() {
    // `-1` of each pair is created first: it is the older, and wins.
    let older = ", creationTimestamp: \"2026-01-01T00:00:00Z\"";
    let newer = ", creationTimestamp: \"2026-01-01T00:00:10Z\"";
    let manifests = [
        ca_config_maps(),
        tls_service(
            "backendtlspolicy-conflicted-without-section-name-test",
            &[("https", 443)],
        ),
        tls_service(
            "backendtlspolicy-conflicted-with-section-name-test",
            &[("https-1", 443), ("https-2", 8443)],
        ),
        tls_service(
            "backendtlspolicy-not-conflicted-test",
            &[("https-1", 443), ("https-2", 8443)],
        ),
        policy(
            "v1alpha3",
            "conflicted-without-section-name-1",
            "name: backendtlspolicy-conflicted-without-section-name-test",
            &checks_ca("other.example.com"),
            older,
        ),
        policy(
            "v1",
            "conflicted-without-section-name-2",
            "name: backendtlspolicy-conflicted-without-section-name-test",
            &checks_ca("abc.example.com"),
            newer,
        ),
        policy(
            "v1",
            "conflicted-with-section-name-1",
            "name: backendtlspolicy-conflicted-with-section-name-test, sectionName: https-1",
            &checks_ca("other.example.com"),
            older,
        ),
        policy(
            "v1",
            "conflicted-with-section-name-2",
            "name: backendtlspolicy-conflicted-with-section-name-test, sectionName: https-1",
            &checks_ca("abc.example.com"),
            newer,
        ),
        policy(
            "v1",
            "not-conflicted-with-section-name",
            "name: backendtlspolicy-not-conflicted-test, sectionName: https-1",
            &checks_ca("other.example.com"),
            older,
        ),
        policy(
            "v1",
            "not-conflicted-without-section-name",
            "name: backendtlspolicy-not-conflicted-test",
            &checks_ca("abc.example.com"),
            newer,
        ),
        route(
            "backendtlspolicy-conflict-resolution",
            "same-namespace",
            "[abc.example.com]",
            &[
                (
                    "/backendtlspolicy-conflicted-without-section-name",
                    "backendtlspolicy-conflicted-without-section-name-test",
                    443,
                ),
                (
                    "/backendtlspolicy-conflicted-with-section-name",
                    "backendtlspolicy-conflicted-with-section-name-test",
                    443,
                ),
                (
                    "/backendtlspolicy-not-conflicted-with-section-name",
                    "backendtlspolicy-not-conflicted-test",
                    443,
                ),
                (
                    "/backendtlspolicy-not-conflicted-without-section-name",
                    "backendtlspolicy-not-conflicted-test",
                    8443,
                ),
            ],
        ),
    ];
    let t = run(&manifests.concat());
    assert_accepted(&t, INFRA, "backendtlspolicy-conflict-resolution", 1);
    for (name, accepted, reason) in [
        ("conflicted-without-section-name-1", "True", "Accepted"),
        ("conflicted-without-section-name-2", "False", "Conflicted"),
        ("conflicted-with-section-name-1", "True", "Accepted"),
        ("conflicted-with-section-name-2", "False", "Conflicted"),
        ("not-conflicted-with-section-name", "True", "Accepted"),
        ("not-conflicted-without-section-name", "True", "Accepted"),
    ] {
        let c = policy_ancestor(&t, name, "same-namespace");
        assert_condition(&c, "Accepted", accepted, Some(reason));
    }
    let on = |path: &str| Request::get(80, "abc.example.com", path);
    for (path, sni) in [
        (
            "/backendtlspolicy-conflicted-without-section-name",
            "other.example.com",
        ),
        (
            "/backendtlspolicy-conflicted-with-section-name",
            "other.example.com",
        ),
        // Port 443 is `https-1`: the policy naming it applies.
        (
            "/backendtlspolicy-not-conflicted-with-section-name",
            "other.example.com",
        ),
        // Port 8443 is `https-2`: the whole-Service policy applies.
        (
            "/backendtlspolicy-not-conflicted-without-section-name",
            "abc.example.com",
        ),
    ] {
        assert_eq!(
            fetch(&t, "same-namespace", &on(path)),
            (200, Some(sni.to_owned())),
            "{path}"
        );
    }
}

#[test]
fn backend_tls_policy_invalid_ca_certificate_ref() {
    let manifests = [
        tls_service(
            "backendtlspolicy-nonexistent-ca-certificate-ref-test",
            &[("https", 443)],
        ),
        tls_service(
            "backendtlspolicy-malformed-ca-certificate-ref-test",
            &[("https", 443)],
        ),
        policy(
            "v1",
            "nonexistent-ca-certificate-ref",
            "name: backendtlspolicy-nonexistent-ca-certificate-ref-test",
            r#"{caCertificateRefs: [{group: "", kind: ConfigMap, name: nonexistent-ca-certificate}], hostname: abc.example.com}"#,
            "",
        ),
        policy(
            "v1",
            "malformed-ca-certificate-ref",
            "name: backendtlspolicy-malformed-ca-certificate-ref-test",
            r#"{caCertificateRefs: [{group: "", kind: ConfigMap, name: malformed-ca-certificate}], hostname: abc.example.com}"#,
            "",
        ),
        r#"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: malformed-ca-certificate, namespace: gateway-conformance-infra}
data: {}
"#
        .to_owned(),
        route(
            "backendtlspolicy-invalid-ca-certificate-ref",
            "same-namespace",
            "[abc.example.com]",
            &[
                (
                    "/backendtlspolicy-nonexistent-ca-certificate-ref",
                    "backendtlspolicy-nonexistent-ca-certificate-ref-test",
                    443,
                ),
                (
                    "/backendtlspolicy-malformed-ca-certificate-ref",
                    "backendtlspolicy-malformed-ca-certificate-ref-test",
                    443,
                ),
            ],
        ),
    ];
    let t = run(&manifests.concat());
    for name in [
        "nonexistent-ca-certificate-ref",
        "malformed-ca-certificate-ref",
    ] {
        let c = policy_ancestor(&t, name, "same-namespace");
        assert_condition(&c, "Accepted", "False", Some("NoValidCACertificate"));
        assert_condition(&c, "ResolvedRefs", "False", Some("InvalidCACertificateRef"));
    }
    // Never plaintext: the backends are invalid, and their rules answer 500.
    for path in [
        "/backendtlspolicy-nonexistent-ca-certificate-ref",
        "/backendtlspolicy-malformed-ca-certificate-ref",
    ] {
        let (status, _) = fetch(
            &t,
            "same-namespace",
            &Request::get(80, "abc.example.com", path),
        );
        assert!([500, 502, 503].contains(&status), "{path}: {status}");
    }
    let p = route_parent(
        &t,
        INFRA,
        "backendtlspolicy-invalid-ca-certificate-ref",
        "same-namespace",
    );
    assert_condition(&p.conditions, "ResolvedRefs", "False", None);
}

#[test]
fn backend_tls_policy_invalid_kind() {
    let manifests = [
        tls_service("backendtlspolicy-invalid-kind-test", &[("https", 443)]),
        policy(
            "v1",
            "invalid-kind",
            "name: backendtlspolicy-invalid-kind-test",
            "{caCertificateRefs: [{group: invalid.io, kind: InvalidKind, name: invalid-kind}], hostname: abc.example.com}",
            "",
        ),
        route(
            "backendtlspolicy-invalid-kind-test",
            "same-namespace",
            "[abc.example.com]",
            &[(
                "/backendtlspolicy-invalid-kind",
                "backendtlspolicy-invalid-kind-test",
                443,
            )],
        ),
    ];
    let t = run(&manifests.concat());
    let c = policy_ancestor(&t, "invalid-kind", "same-namespace");
    assert_condition(&c, "Accepted", "False", Some("NoValidCACertificate"));
    assert_condition(&c, "ResolvedRefs", "False", Some("InvalidKind"));
    let (status, _) = fetch(
        &t,
        "same-namespace",
        &Request::get(80, "abc.example.com", "/backendtlspolicy-invalid-kind"),
    );
    assert!([500, 502, 503].contains(&status), "{status}");
}

/// The route and Service of the observed-generation test (the Service has no endpoints), and
/// its policy at `generation` with `validation`.
fn observed_generation_bump(generation: i64, validation: &str) -> String {
    format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: backendtlspolicy-observed-generation-bump, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - backendRefs: [{{name: observed-generation-bump-test, port: 443}}]
---
apiVersion: v1
kind: Service
metadata: {{name: observed-generation-bump-test, namespace: gateway-conformance-infra}}
spec:
  selector: {{app: observed-generation-bump-test}}
  ports: [{{name: https, protocol: TCP, port: 443, targetPort: 8443}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {{name: observed-generation-bump, namespace: gateway-conformance-infra, generation: {generation}}}
spec:
  targetRefs: [{{group: "", kind: Service, name: observed-generation-bump-test, sectionName: https}}]
  validation: {validation}
{}"#,
        ca_config_maps()
    )
}

#[test]
fn backend_tls_policy_observed_generation_bump() {
    let t1 = run(&observed_generation_bump(1, &checks_ca("abc.example.com")));
    let c1 = policy_ancestor(&t1, "observed-generation-bump", "same-namespace");
    assert_condition(&c1, "Accepted", "True", None);
    assert_generation(&c1, 1);

    let mut s = snapshot(&observed_generation_bump(2, &checks_ca("foo.example.com")));
    store_statuses(&t1, &mut s);
    let t2 = translate_snapshot(&s);
    let c2 = policy_ancestor(&t2, "observed-generation-bump", "same-namespace");
    assert_condition(&c2, "Accepted", "True", None);
    assert_generation(&c2, 2);
    // The policy's new hostname is the SNI; the Service has no endpoints (503 meanwhile).
    let out = send(&t2, "same-namespace", &support::harness::get("/"));
    assert_eq!(out.status(), 503);
    assert_eq!(
        pool_of(&t2, &out).server_name.as_deref(),
        Some("foo.example.com")
    );
    assert_eq!(
        try_policy_status(&t2, "observed-generation-bump")
            .unwrap()
            .ancestors
            .len(),
        1
    );
}

/// Deviation: later suite versions write this test's policy with `wellKnownCACertificates:
/// System`, which is refused (Avi has no system CA bundle for pools): `Accepted=False Invalid`,
/// at each new generation.
#[test]
fn backend_tls_policy_observed_generation_bump_well_known_ca_is_refused() {
    let well_known =
        |hostname: &str| format!("{{wellKnownCACertificates: System, hostname: {hostname}}}");
    let t1 = run(&observed_generation_bump(1, &well_known("abc.example.com")));
    let mut s = snapshot(&observed_generation_bump(2, &well_known("foo.example.com")));
    store_statuses(&t1, &mut s);
    let t2 = translate_snapshot(&s);
    let c = policy_ancestor(&t2, "observed-generation-bump", "same-namespace");
    assert_condition(&c, "Accepted", "False", Some("Invalid"));
    assert!(
        support::harness::condition(&c, "Accepted")
            .message
            .contains("wellKnownCACertificates"),
        "{c:?}"
    );
    assert_generation(&c, 2);
    // No plaintext fallback: the backend is invalid, the rule answers 500.
    assert_eq!(
        send(&t2, "same-namespace", &support::harness::get("/")).status(),
        500
    );
}

// ------------------------------------------------ GatewayBackendClientCertificate (v1.5)

/// The suite's `tls-checks-client-certificate`: a client certificate (EKU clientAuth, no SANs)
/// the `tls-checks` CA signs, as a `kubernetes.io/tls` Secret; and its PEM.
fn client_certificate_secret() -> (String, String) {
    use base64::Engine as _;
    static ISSUED: OnceLock<(String, String)> = OnceLock::new();
    let (cert, key) = ISSUED.get_or_init(|| {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tls-checks-client");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    });
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    (
        format!(
            r#"
---
apiVersion: v1
kind: Secret
metadata: {{name: tls-checks-client-certificate, namespace: gateway-conformance-infra}}
type: kubernetes.io/tls
data: {{tls.crt: {}, tls.key: {}}}
"#,
            b64(cert),
            b64(key)
        ),
        cert.clone(),
    )
}

/// A Gateway with one HTTP/80 listener and this `clientCertificateRef` (flow YAML).
fn client_cert_gateway(name: &str, reference: &str) -> String {
    format!(
        r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: gateway-conformance-infra, generation: 1}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {{name: http, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: Same}}}}}}
  tls:
    backend:
      clientCertificateRef: {reference}
"#
    )
}

#[test]
fn gateway_backend_client_certificate_feature() {
    let (secret, client_pem) = client_certificate_secret();
    let gw = "gateway-tls-backend-client-certificate";
    let t = run(&[
        ca_config_maps(),
        secret,
        tls_service("tls-backend-with-client-cert-validation", &[("https", 443)]),
        client_cert_gateway(
            gw,
            r#"{group: "", kind: Secret, name: tls-checks-client-certificate}"#,
        ),
        route(
            gw,
            gw,
            "[abc.example.com]",
            &[("/", "tls-backend-with-client-cert-validation", 443)],
        ),
        policy(
            "v1",
            "gateway-tls-backend-client-certificate-test",
            "name: tls-backend-with-client-cert-validation",
            &checks_ca("abc.example.com"),
            "",
        ),
    ]
    .concat());
    let status = support::harness::gateway_status(&t, gw);
    let conditions = status.conditions.unwrap();
    assert_condition(&conditions, "ResolvedRefs", "True", Some("ResolvedRefs"));
    assert_condition(&conditions, "Accepted", "True", Some("Accepted"));
    assert_generation(&conditions, 1);
    assert_accepted(&t, INFRA, gw, 1);
    assert_condition(
        &route_parent(&t, INFRA, gw, gw).conditions,
        "ResolvedRefs",
        "True",
        Some("ResolvedRefs"),
    );
    assert_condition(
        &policy_ancestor(&t, "gateway-tls-backend-client-certificate-test", gw),
        "Accepted",
        "True",
        Some("Accepted"),
    );
    // Three requests in a row, each over TLS with SNI abc.example.com, each presenting the
    // Secret's certificate exactly.
    for _ in 0..3 {
        let req = Request::get(80, "abc.example.com", "/");
        assert_eq!(
            fetch(&t, gw, &req),
            (200, Some("abc.example.com".to_owned()))
        );
        let out = send(&t, gw, &req);
        let pool = pool_of(&t, &out);
        let name = pool
            .ssl_key_and_certificate_ref
            .as_ref()
            .and_then(|r| r.name())
            .expect("the pool presents a client certificate");
        let cert = t
            .model
            .ssl_key_and_certificates
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("pool {} names a missing certificate {name}", pool.name));
        assert_eq!(
            cert.certificate.certificate.as_deref(),
            Some(client_pem.as_str())
        );
        assert!(cert.key.is_some());
    }
}

#[test]
fn gateway_invalid_tls_backend_configuration() {
    let cases = [
        (
            "gateway-client-certificate-nonexistent-secret",
            r#"{group: "", kind: Secret, name: nonexistent-certificate}"#,
            "InvalidClientCertificateRef",
        ),
        (
            "gateway-client-certificate-unsupported-group",
            r#"{group: wrong.group.company.io, kind: Secret, name: tls-validity-checks-certificate}"#,
            "InvalidClientCertificateRef",
        ),
        (
            "gateway-client-certificate-unsupported-kind",
            r#"{group: "", kind: WrongKind, name: tls-validity-checks-certificate}"#,
            "InvalidClientCertificateRef",
        ),
        (
            "gateway-client-certificate-malformed-secret",
            r#"{group: "", kind: Secret, name: malformed-client-certificate}"#,
            "InvalidClientCertificateRef",
        ),
        (
            "gateway-client-certificate-missing-reference-grant",
            r#"{group: "", kind: Secret, name: certificate, namespace: gateway-conformance-web-backend}"#,
            "RefNotPermitted",
        ),
    ];
    let mut manifests: String = cases
        .iter()
        .map(|(name, reference, _)| client_cert_gateway(name, reference))
        .collect();
    manifests.push_str(
        r#"
---
apiVersion: v1
kind: Secret
metadata: {name: malformed-client-certificate, namespace: gateway-conformance-infra}
data: {}
type: Opaque
"#,
    );
    let t = run(&manifests);
    for (name, _, reason) in cases {
        let conditions = support::harness::gateway_status(&t, name)
            .conditions
            .unwrap();
        assert_condition(&conditions, "ResolvedRefs", "False", Some(reason));
        assert_condition(&conditions, "Accepted", "True", Some("Accepted"));
        assert_generation(&conditions, 1);
    }
    // No client certificate object for any of them (the base's listener certificates, which
    // carry no Gateway marker, aside).
    assert!(
        t.model
            .ssl_key_and_certificates
            .iter()
            .all(|c| !c.markers.iter().any(|m| m.key == "GatewayName")),
        "{:?}",
        t.model.ssl_key_and_certificates
    );
}

#[test]
fn the_client_certificate_never_turns_tls_on() {
    // The client certificate never turns TLS on: a route to a plain backend on the same
    // Gateway gets no certificate.
    let (secret, _) = client_certificate_secret();
    let gw = "gateway-tls-backend-client-certificate";
    let t = run(&[
        secret,
        client_cert_gateway(
            gw,
            r#"{group: "", kind: Secret, name: tls-checks-client-certificate}"#,
        ),
        route(
            gw,
            gw,
            "[abc.example.com]",
            &[("/", "infra-backend-v1", 8080)],
        ),
    ]
    .concat());
    let out = send(&t, gw, &Request::get(80, "abc.example.com", "/"));
    let pool = pool_of(&t, &out);
    assert!(pool.ssl_profile_ref.is_none(), "{pool:?}");
    assert!(pool.ssl_key_and_certificate_ref.is_none(), "{pool:?}");
}
