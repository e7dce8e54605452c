//! The frontend client-certificate validation conformance tests (GEP-91, v1.5; gateway-api.md
//! §6): statuses with their exact reasons, the Avi objects each HTTPS port gets, and every
//! request resolved through the model. The handshakes themselves (a valid certificate, another
//! CA's, none) go through avi-sim's Service Engine in `tests/tests/data_plane_conformance.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::OnceLock;

use avi_client::models::{ApplicationProfile, PkiProfile, SslClientCertificateMode};
use gateway_translate::{Translation, names};
use support::harness::{
    INFRA, assert_condition, expect, gateway_status, get_host, listener_status, parent, run,
    snapshot, store_statuses, translate_snapshot,
};
use support::resolve::Request;

/// The suite's generated CAs: the default one and the per-port one.
struct Cas {
    default_pem: String,
    per_port_pem: String,
}

fn cas() -> &'static Cas {
    static CAS: OnceLock<Cas> = OnceLock::new();
    CAS.get_or_init(|| {
        let ca = |name: &str| {
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            params.self_signed(&key).unwrap().pem()
        };
        Cas {
            default_pem: ca("tls-validity-checks-ca"),
            per_port_pem: ca("tls-validity-checks-per-port-ca"),
        }
    })
}

/// A ConfigMap `ns/name` with `ca.crt`.
fn ca_config_map(ns: &str, name: &str, pem: &str) -> String {
    let indented: String = pem.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\ndata:\n  ca.crt: |\n{indented}"
    )
}

/// The suite's two CA ConfigMaps.
fn ca_config_maps() -> String {
    ca_config_map(
        INFRA,
        "tls-validity-checks-ca-certificate",
        &cas().default_pem,
    ) + &ca_config_map(
        INFRA,
        "tls-validity-checks-per-port-ca-certificate",
        &cas().per_port_pem,
    )
}

const CERT: &str = r#"{certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: gateway-conformance-infra}]}"#;

/// `gateway-with-clientcertificate-validation[-insecure-fallback].yaml`: listeners `https`:443
/// and `https-with-hostname`:8443, the default CA on 443 and the per-port CA on 8443, routes
/// [example.org] → v1 and sectionName `https-with-hostname` → v2.
fn validation_manifest(gw: &str, mode: &str) -> String {
    format!(
        r#"{cms}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra, generation: 1}}
spec:
  gatewayClassName: avi-lb
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{{kind: ConfigMap, group: "", name: tls-validity-checks-ca-certificate}}]{mode}
      perPort:
      - port: 8443
        tls:
          validation:
            caCertificateRefs: [{{kind: ConfigMap, group: "", name: tls-validity-checks-per-port-ca-certificate}}]{mode}
  listeners:
  - {{name: https, port: 443, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {CERT}}}
  - {{name: https-with-hostname, port: 8443, hostname: second-example.org, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {CERT}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: client-certificate-validation-https-test, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}}}]
  hostnames: [example.org]
  rules: [{{backendRefs: [{{name: infra-backend-v1, port: 8080}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: client-certificate-validation-https-test-no-hostname, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}, sectionName: https-with-hostname}}]
  rules: [{{backendRefs: [{{name: infra-backend-v2, port: 8080}}]}}]
"#,
        cms = ca_config_maps(),
        mode = if mode.is_empty() {
            String::new()
        } else {
            format!("\n          mode: {mode}")
        },
    )
    // The per-port entry is indented two more columns.
    .replace(
        "per-port-ca-certificate}]\n          mode:",
        "per-port-ca-certificate}]\n            mode:",
    )
}

/// The application profile and PKI profile port `port` of Gateway `gw` refers to.
fn port_profiles(t: &Translation, gw: &str, port: u16) -> (ApplicationProfile, PkiProfile) {
    let vs = t
        .model
        .virtual_services
        .iter()
        .find(|v| v.name == parent(gw))
        .unwrap();
    let service = vs.services.iter().find(|s| s.port == port).unwrap();
    assert_eq!(service.enable_ssl, Some(true));
    let name = names::frontend_validation("cluster", INFRA, gw, port);
    assert_eq!(
        service.override_application_profile_ref.as_deref(),
        Some(format!("/api/applicationprofile/?name={name}").as_str())
    );
    let app = t
        .model
        .application_profiles
        .iter()
        .find(|a| a.name == name)
        .unwrap()
        .clone();
    let http = app.http_profile.as_ref().unwrap();
    assert_eq!(
        http.pki_profile_ref.as_ref().and_then(|r| r.name()),
        Some(name.as_str())
    );
    let pki = t
        .model
        .pki_profiles
        .iter()
        .find(|p| p.name == name)
        .unwrap()
        .clone();
    assert_eq!(pki.crl_check, Some(false));
    (app, pki)
}

fn ca_pems(pki: &PkiProfile) -> Vec<String> {
    pki.ca_certs
        .iter()
        .map(|c| c.certificate.clone().unwrap_or_default())
        .collect()
}

fn assert_listener(t: &Translation, gw: &str, listener: &str, expected: &[(&str, &str, &str)]) {
    let l = listener_status(t, gw, listener);
    for (type_, status, reason) in expected {
        assert_condition(&l.conditions, type_, status, Some(reason));
    }
}

const ALL_GOOD: &[(&str, &str, &str)] = &[
    ("Accepted", "True", "Accepted"),
    ("ResolvedRefs", "True", "ResolvedRefs"),
    ("Programmed", "True", "Programmed"),
];

#[test]
fn gateway_frontend_client_certificate_validation() {
    let gw = "client-validation-default";
    let t = run(&validation_manifest(gw, ""));
    let status = gateway_status(&t, gw);
    let conditions = status.conditions.clone().unwrap();
    assert_condition(&conditions, "Accepted", "True", Some("Accepted"));
    assert_condition(&conditions, "Programmed", "True", Some("Programmed"));
    assert!(
        !conditions
            .iter()
            .any(|c| c.type_ == "InsecureFrontendValidationMode"),
        "{conditions:?}"
    );
    assert_listener(&t, gw, "https", ALL_GOOD);
    assert_listener(&t, gw, "https-with-hostname", ALL_GOOD);
    // Each port requires a certificate from its own CA.
    for (port, ca) in [(443, &cas().default_pem), (8443, &cas().per_port_pem)] {
        let (app, pki) = port_profiles(&t, gw, port);
        assert_eq!(
            app.http_profile.unwrap().ssl_client_certificate_mode,
            Some(SslClientCertificateMode::Require)
        );
        assert_eq!(app.type_.as_deref(), Some("APPLICATION_PROFILE_TYPE_HTTP"));
        assert_eq!(ca_pems(&pki).len(), 1);
        assert_eq!(
            ca_pems(&pki)[0].split_whitespace().collect::<String>(),
            ca.split_whitespace().collect::<String>()
        );
        assert!(pki.allow_pki_errors.is_empty());
    }
    // The routes as the suite sends to them (SNI = Host).
    expect(
        &t,
        gw,
        &[
            (
                Request::get(443, "example.org", "/"),
                Some("infra-backend-v1"),
            ),
            (
                Request::get(8443, "second-example.org", "/"),
                Some("infra-backend-v2"),
            ),
        ],
    );
}

#[test]
fn gateway_frontend_client_certificate_validation_insecure_fallback() {
    let gw = "client-validation-insecure-fallback";
    let mut snap = snapshot(&validation_manifest(gw, "AllowInsecureFallback"));
    let t = translate_snapshot(&snap);
    let conditions = gateway_status(&t, gw).conditions.unwrap();
    assert_condition(
        &conditions,
        "InsecureFrontendValidationMode",
        "True",
        Some("ConfigurationChanged"),
    );
    assert_condition(&conditions, "Accepted", "True", Some("Accepted"));
    assert_listener(&t, gw, "https", ALL_GOOD);
    assert_listener(&t, gw, "https-with-hostname", ALL_GOOD);
    for port in [443, 8443] {
        let (app, pki) = port_profiles(&t, gw, port);
        // The certificate is still asked for; any answer passes.
        assert_eq!(
            app.http_profile.unwrap().ssl_client_certificate_mode,
            Some(SslClientCertificateMode::Request)
        );
        assert_eq!(pki.allow_pki_errors, ["ALLOW_ALL_ERRORS"]);
    }
    expect(
        &t,
        gw,
        &[
            (
                Request::get(443, "example.org", "/"),
                Some("infra-backend-v1"),
            ),
            (
                Request::get(8443, "second-example.org", "/"),
                Some("infra-backend-v2"),
            ),
        ],
    );

    // Back to AllowValidOnly: the condition goes away, and the ports require certificates.
    store_statuses(&t, &mut snap);
    let strict = validation_manifest(gw, "");
    for doc in serde_saphyr::from_multiple::<serde_json::Value>(&strict).unwrap() {
        if doc["kind"] == "Gateway" {
            snap.insert_json(doc).unwrap();
        }
    }
    let t = translate_snapshot(&snap);
    let conditions = gateway_status(&t, gw).conditions.unwrap();
    assert!(
        !conditions
            .iter()
            .any(|c| c.type_ == "InsecureFrontendValidationMode"),
        "{conditions:?}"
    );
    let (app, pki) = port_profiles(&t, gw, 443);
    assert_eq!(
        app.http_profile.unwrap().ssl_client_certificate_mode,
        Some(SslClientCertificateMode::Require)
    );
    assert!(pki.allow_pki_errors.is_empty());
}

#[test]
fn gateway_invalid_frontend_client_certificate_validation() {
    let gw = "gateway-with-invalid-client-cert-validation";
    let listener = |name: &str, port: u16, host: &str| {
        format!(
            "  - {{name: {name}, port: {port}, hostname: {host}, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {CERT}}}\n"
        )
    };
    let manifest = format!(
        r#"{cms}{web_cm}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra, generation: 1}}
spec:
  gatewayClassName: avi-lb
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{{kind: ConfigMap, group: "", name: tls-validity-checks-ca-certificate}}]
      perPort:
      - {{port: 7443, tls: {{validation: {{caCertificateRefs: [{{kind: ConfigMap, group: "", name: non-exisitng-cm}}]}}}}}}
      - {{port: 8443, tls: {{validation: {{caCertificateRefs: [{{kind: Service, group: "", name: infra-backend-v2}}]}}}}}}
      - {{port: 6443, tls: {{validation: {{caCertificateRefs: [{{kind: ConfigMap, group: "", name: web-backend-cm, namespace: gateway-conformance-web-backend}}]}}}}}}
  listeners:
  - {{name: https, port: 443, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {CERT}}}
{l1}{l2}{l3}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: misconfigured-client-certificate-validation-https-test, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}}}]
  hostnames: [example.org]
  rules: [{{backendRefs: [{{name: infra-backend-v1, port: 8080}}]}}]
"#,
        cms = ca_config_maps(),
        web_cm = ca_config_map(
            "gateway-conformance-web-backend",
            "web-backend-cm",
            &cas().per_port_pem
        ),
        l1 = listener("https-unresolved", 7443, "first-example.org"),
        l2 = listener("https-invalid-kind", 8443, "second-example.org"),
        l3 = listener("https-grant-missing", 6443, "fourth-example.org"),
    );
    let t = run(&manifest);
    assert_listener(&t, gw, "https", ALL_GOOD);
    for (name, reason) in [
        ("https-unresolved", "InvalidCACertificateRef"),
        ("https-invalid-kind", "InvalidCACertificateKind"),
        ("https-grant-missing", "RefNotPermitted"),
    ] {
        let l = listener_status(&t, gw, name);
        assert_condition(&l.conditions, "ResolvedRefs", "False", Some(reason));
        assert_condition(
            &l.conditions,
            "Accepted",
            "False",
            Some("NoValidCACertificate"),
        );
        let programmed = l
            .conditions
            .iter()
            .find(|c| c.type_ == "Programmed")
            .unwrap();
        assert_eq!(programmed.status, "False", "{name}");
    }
    // Only 443 is served; the broken ports are not programmed at all.
    let vs = t
        .model
        .virtual_services
        .iter()
        .find(|v| v.name == parent(gw))
        .unwrap();
    let ports: Vec<u16> = vs.services.iter().map(|s| s.port).collect();
    assert_eq!(ports, [443]);
    assert_eq!(t.model.application_profiles.len(), 1);
    expect(
        &t,
        gw,
        &[(
            Request::get(443, "example.org", "/"),
            Some("infra-backend-v1"),
        )],
    );
    // A ReferenceGrant for the ConfigMap fixes the third listener only.
    let granted = format!(
        r#"{manifest}---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: cm-grant, namespace: gateway-conformance-web-backend}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: Gateway, namespace: gateway-conformance-infra}}]
  to: [{{group: "", kind: ConfigMap}}]
"#
    );
    let t = run(&granted);
    assert_listener(&t, gw, "https-grant-missing", ALL_GOOD);
    let (_, pki) = port_profiles(&t, gw, 6443);
    assert_eq!(ca_pems(&pki).len(), 1);
}

#[test]
fn gateway_frontend_invalid_default_client_certificate_validation() {
    let gw = "invalid-default-client-validation-config";
    let manifest = format!(
        r#"{cms}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra, generation: 1}}
spec:
  gatewayClassName: avi-lb
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{{kind: ConfigMap, group: "", name: does-not-exist}}]
      perPort:
      - {{port: 80, tls: {{validation: {{caCertificateRefs: [{{kind: ConfigMap, group: "", name: tls-validity-checks-per-port-ca-certificate}}]}}}}}}
  listeners:
  - {{name: https, port: 443, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {CERT}}}
  - {{name: http, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: Same}}}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {gw}, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}}}]
  hostnames: [example.org]
  rules: [{{backendRefs: [{{name: infra-backend-v1, port: 8080}}]}}]
"#,
        cms = ca_config_maps(),
    );
    let t = run(&manifest);
    // HTTP is never validated, even with a perPort entry for its port.
    assert_listener(&t, gw, "http", ALL_GOOD);
    let l = listener_status(&t, gw, "https");
    assert_condition(
        &l.conditions,
        "ResolvedRefs",
        "False",
        Some("InvalidCACertificateRef"),
    );
    assert_condition(
        &l.conditions,
        "Accepted",
        "False",
        Some("NoValidCACertificate"),
    );
    assert_condition(&l.conditions, "Programmed", "False", Some("Invalid"));
    let vs = t
        .model
        .virtual_services
        .iter()
        .find(|v| v.name == parent(gw))
        .unwrap();
    let services: Vec<(u16, Option<bool>, Option<&str>)> = vs
        .services
        .iter()
        .map(|s| {
            (
                s.port,
                s.enable_ssl,
                s.override_application_profile_ref.as_deref(),
            )
        })
        .collect();
    assert_eq!(services, [(80, None, None)]);
    assert!(t.model.application_profiles.is_empty());
    expect(
        &t,
        gw,
        &[(get_host("example.org", "/"), Some("infra-backend-v1"))],
    );
    // A TLS request has no port to go to: refused at the transport level.
    assert_eq!(
        support::harness::send(&t, gw, &Request::get(443, "example.org", "/")),
        support::resolve::Outcome::Refused
    );
}

/// Hostile references: names with control characters and a wrong group are quoted printable
/// and capped, nothing panics, and no key material is read from a ConfigMap.
#[test]
fn hostile_ca_references_are_refused_printably() {
    let gw = "hostile-frontend";
    let long = "x".repeat(300);
    let manifest = format!(
        r#"{cms}---
apiVersion: v1
kind: ConfigMap
metadata: {{name: key-not-ca, namespace: gateway-conformance-infra}}
data:
  ca.crt: "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB1c\n-----END PRIVATE KEY-----\n"
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra, generation: 1}}
spec:
  gatewayClassName: avi-lb
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{{kind: ConfigMap, group: "", name: "evil\u001b[2J{long}"}}]
      perPort:
      - {{port: 8443, tls: {{validation: {{caCertificateRefs: [{{kind: ConfigMap, group: "", name: key-not-ca}}]}}}}}}
      - {{port: 9443, tls: {{validation: {{caCertificateRefs: [{{kind: ConfigMap, group: "evil.io", name: x}}]}}}}}}
  listeners:
  - {{name: a, port: 443, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {CERT}}}
  - {{name: b, port: 8443, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {CERT}}}
  - {{name: c, port: 9443, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {CERT}}}
"#,
        cms = ca_config_maps(),
    );
    let t = run(&manifest);
    let reason_message = |name: &str| {
        let l = listener_status(&t, gw, name);
        let c = l
            .conditions
            .iter()
            .find(|c| c.type_ == "ResolvedRefs")
            .unwrap()
            .clone();
        (c.reason, c.message)
    };
    let (reason, message) = reason_message("a");
    assert_eq!(reason, "InvalidCACertificateRef");
    assert!(message.contains("evil\\u{1b}[2J"), "{message}");
    assert!(!message.contains('\u{1b}'));
    assert!(message.len() < 400, "{}", message.len());
    let (reason, message) = reason_message("b");
    assert_eq!(reason, "InvalidCACertificateRef");
    assert_eq!(
        message,
        "ConfigMap gateway-conformance-infra/key-not-ca ca.crt holds no PEM certificate"
    );
    assert!(!message.contains("PRIVATE"));
    let (reason, _) = reason_message("c");
    assert_eq!(reason, "InvalidCACertificateKind");
    assert!(t.model.application_profiles.is_empty());
    assert!(
        t.model
            .virtual_services
            .iter()
            .all(|v| v.name != parent(gw))
    );
}
