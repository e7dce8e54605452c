use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::*;

fn gateway(listeners: serde_json::Value) -> Gateway {
    serde_json::from_value(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "gw", "namespace": "infra", "generation": 2},
        "spec": {"gatewayClassName": "avi-lb", "listeners": listeners}
    }))
    .unwrap()
}

const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBxjCCAWygAwIBAgIUKoY7HdS4ik0vYR4tkI0epI/ouNwwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSKi5hcHBzLmV4YW1wbGUuY29tMB4XDTI2MTEyMjAzNTYzM1oX
DTM2MTExOTAzNTYzM1owHTEbMBkGA1UEAwwSKi5hcHBzLmV4YW1wbGUuY29tMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKjJPj9Tq+kXKUCZOWAghxa1SFekyDvZy
o+3LPGqgU98AbblIugrsFLvQXM8ech50Pco6LMwO97SYZ1RUm5Fc+qOBiTCBhjAd
BgNVHQ4EFgQUzOcSy8FOMy8s3c2dzvT4Mt7j5wIwHwYDVR0jBBgwFoAUzOcSy8FO
My8s3c2dzvT4Mt7j5wIwDwYDVR0TAQH/BAUwAwEB/zAzBgNVHREELDAqghIqLmFw
cHMuZXhhbXBsZS5jb22CDSouZXhhbXBsZS5jb22CBSoub3JnMAoGCCqGSM49BAMC
A0gAMEUCIHOEiiltX+1oUGCGnJP93hVzQIF7wEu3cJYbku6DhVS6AiEAqhhuvdrG
L2+I2hqGzamObsyIS+dPqDRQ6DzKrRKKMH0=
-----END CERTIFICATE-----
";
const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg6ibHAU6sLQslOdBM
6SvMVbAHIwZE9/poC3XX4k3yVdahRANCAAQqMk+P1Or6RcpQJk5YCCHFrVIV6TIO
9nKj7cs8aqBT3wBtuUi6CuwUu9Bczx5yHnQ9yjoszA73tJhnVFSbkVz6
-----END PRIVATE KEY-----
";

fn snapshot_with_secret(ns: &str, name: &str, cert: &str) -> Snapshot {
    let mut s = Snapshot::default();
    let secret = Secret {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        type_: Some("kubernetes.io/tls".into()),
        data: Some(BTreeMap::from([
            ("tls.crt".to_owned(), ByteString(cert.as_bytes().to_vec())),
            ("tls.key".to_owned(), ByteString(KEY.as_bytes().to_vec())),
        ])),
        ..Default::default()
    };
    s.secrets.insert((ns.into(), name.into()), secret.into());
    s
}

fn https(name: &str, secret_ns: Option<&str>) -> serde_json::Value {
    json!({"name": name, "port": 443, "protocol": "HTTPS",
           "tls": {"certificateRefs": [{"name": "tls", "namespace": secret_ns}]}})
}

#[test]
fn http_and_https_listeners_are_valid() {
    let gw =
        gateway(json!([{"name": "http", "port": 80, "protocol": "HTTP"}, https("https", None)]));
    let ls = evaluate(&gw, &snapshot_with_secret("infra", "tls", CERT));
    assert!(ls.iter().all(Listener::is_valid), "{ls:?}");
    assert_eq!(ls[1].certificate.as_ref().unwrap().secret_name, "tls");
    assert!(!format!("{:?}", ls[1].certificate).contains("PRIVATE KEY"));
    assert_eq!(ls[0].supported_kinds, ["HTTPRoute", "GRPCRoute"]);
}

#[test]
fn unsupported_protocol_is_not_accepted() {
    let gw = gateway(json!([{"name": "tcp", "port": 9000, "protocol": "TCP"}]));
    let ls = evaluate(&gw, &Snapshot::default());
    assert_eq!(
        ls[0].not_accepted.as_ref().unwrap().reason,
        "UnsupportedProtocol"
    );
    assert!(ls[0].supported_kinds.is_empty());
}

#[test]
fn invalid_certificate_refs() {
    // Missing Secret.
    let gw = gateway(json!([https("https", None)]));
    assert_eq!(
        evaluate(&gw, &Snapshot::default())[0]
            .unresolved
            .as_ref()
            .unwrap()
            .reason,
        "InvalidCertificateRef"
    );
    // Malformed PEM.
    let ls = evaluate(&gw, &snapshot_with_secret("infra", "tls", "not pem"));
    assert_eq!(
        ls[0].unresolved.as_ref().unwrap().reason,
        "InvalidCertificateRef"
    );
    // PEM armour around something that is not a certificate: the controller would refuse it.
    let armoured = "-----BEGIN CERTIFICATE-----\nSGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    let ls = evaluate(&gw, &snapshot_with_secret("infra", "tls", armoured));
    let problem = ls[0].unresolved.as_ref().unwrap();
    assert_eq!(problem.reason, "InvalidCertificateRef");
    assert!(problem.message.contains("X.509"), "{}", problem.message);
    // Wrong kind uses InvalidCertificateRef too (GatewayInvalidTLSConfiguration).
    let gw = gateway(json!([{"name": "https", "port": 443, "protocol": "HTTPS",
        "tls": {"certificateRefs": [{"name": "tls", "kind": "ConfigMap"}]}}]));
    assert_eq!(
        evaluate(&gw, &snapshot_with_secret("infra", "tls", CERT))[0]
            .unresolved
            .as_ref()
            .unwrap()
            .reason,
        "InvalidCertificateRef"
    );
}

#[test]
fn cross_namespace_secret_needs_a_reference_grant() {
    let gw = gateway(json!([https("https", Some("certs"))]));
    let mut s = snapshot_with_secret("certs", "tls", CERT);
    assert_eq!(
        evaluate(&gw, &s)[0].unresolved.as_ref().unwrap().reason,
        "RefNotPermitted"
    );
    let grant = serde_json::from_value(json!({"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
        "metadata": {"name": "g", "namespace": "certs"},
        "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "infra"}],
                 "to": [{"group": "", "kind": "Secret"}]}})).unwrap();
    s.reference_grants
        .insert(("certs".into(), "g".into()), grant);
    assert!(evaluate(&gw, &s)[0].is_valid());
}

#[test]
fn invalid_route_kinds_keep_the_valid_ones() {
    let gw = gateway(json!([{"name": "http", "port": 80, "protocol": "HTTP",
        "allowedRoutes": {"kinds": [{"kind": "InvalidRoute"}, {"kind": "HTTPRoute"}]}}]));
    let l = &evaluate(&gw, &Snapshot::default())[0];
    assert_eq!(l.unresolved.as_ref().unwrap().reason, "InvalidRouteKinds");
    assert_eq!(l.supported_kinds, ["HTTPRoute"]);
    let gw = gateway(json!([{"name": "http", "port": 80, "protocol": "HTTP",
        "allowedRoutes": {"kinds": [{"kind": "InvalidRoute"}]}}]));
    assert!(
        evaluate(&gw, &Snapshot::default())[0]
            .supported_kinds
            .is_empty()
    );
}

#[test]
fn conflicts_mark_every_listener_involved() {
    let gw = gateway(json!([
        {"name": "a", "port": 8080, "protocol": "HTTP"},
        {"name": "b", "port": 8080, "protocol": "HTTPS", "tls": {"certificateRefs": [{"name": "tls"}]}},
        {"name": "c", "port": 80, "protocol": "HTTP", "hostname": "x.example.com"},
        {"name": "d", "port": 80, "protocol": "HTTP", "hostname": "x.example.com"},
        {"name": "e", "port": 80, "protocol": "HTTP", "hostname": "y.example.com"}
    ]));
    let ls = evaluate(&gw, &snapshot_with_secret("infra", "tls", CERT));
    let reasons: Vec<Option<&str>> = ls
        .iter()
        .map(|l| l.conflict.as_ref().map(|p| p.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            Some("ProtocolConflict"),
            Some("ProtocolConflict"),
            Some("HostnameConflict"),
            Some("HostnameConflict"),
            None
        ]
    );
}

#[test]
fn gateway_status_reports_partial_acceptance_with_generation() {
    let gw = gateway(
        json!([{"name": "http", "port": 80, "protocol": "HTTP"}, {"name": "udp", "port": 53, "protocol": "UDP"}]),
    );
    let ls = evaluate(&gw, &Snapshot::default());
    let now = Time(Timestamp::from_second(1_700_000_000).unwrap());
    let st = gateway_status(
        &gw,
        &ls,
        &[2, 0],
        &["10.0.0.5".to_owned()],
        None,
        None,
        true,
        &now,
    );
    let c = st.conditions.unwrap();
    assert_eq!(
        (
            c[0].type_.as_str(),
            c[0].status.as_str(),
            c[0].reason.as_str()
        ),
        ("Accepted", "True", "ListenersNotValid")
    );
    assert_eq!(
        (c[1].type_.as_str(), c[1].status.as_str()),
        ("Programmed", "True")
    );
    assert!(c.iter().all(|c| c.observed_generation == Some(2)));
    let l = st.listeners.unwrap();
    assert_eq!(l.len(), 2);
    assert_eq!(l[0].attached_routes, 2);
    let udp: Vec<(&str, &str)> = l[1]
        .conditions
        .iter()
        .map(|c| (c.type_.as_str(), c.status.as_str()))
        .collect();
    assert_eq!(
        udp,
        [
            ("Accepted", "False"),
            ("ResolvedRefs", "True"),
            ("Conflicted", "False"),
            ("Programmed", "False")
        ]
    );
    assert_eq!(st.addresses.unwrap()[0].value, "10.0.0.5");
}
