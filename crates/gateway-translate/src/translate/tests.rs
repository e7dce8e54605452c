//! The Istio guide's scenario end to end, plus the failure paths a user meets first.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::settings::{IstioBackends, IstioRefs};

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

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn now() -> Time {
    Time(Timestamp::from_second(1_700_000_000).unwrap())
}

/// GatewayClass avi-lb; Gateway infra/gw (HTTP 80, HTTPS 443) allowing all namespaces; Service
/// apps/web:80 → 8080 with two ready sidecar pods; HTTPRoute apps/web for web.example.com.
fn scenario(ns_labels: Value, route_rule: Value) -> Snapshot {
    let mut s = Snapshot::default();
    s.gateway_classes.insert("avi-lb".into(), obj(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "avi-lb", "generation": 1}, "spec": {"controllerName": "ako.vmware.com/avi-lb"}})));
    s.gateways.insert(("infra".into(), "gw".into()), obj(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "gw", "namespace": "infra", "generation": 1},
        "spec": {"gatewayClassName": "avi-lb", "listeners": [
            {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}},
            {"name": "https", "port": 443, "protocol": "HTTPS", "hostname": "*.example.com",
             "tls": {"certificateRefs": [{"name": "tls"}]}, "allowedRoutes": {"namespaces": {"from": "All"}}}]}})));
    let mut secret: k8s_openapi::api::core::v1::Secret = obj(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "namespace": "infra"}, "type": "kubernetes.io/tls"}),
    );
    secret.data = Some(BTreeMap::from([
        ("tls.crt".to_owned(), ByteString(CERT.as_bytes().to_vec())),
        ("tls.key".to_owned(), ByteString(KEY.as_bytes().to_vec())),
    ]));
    s.secrets
        .insert(("infra".into(), "tls".into()), secret.into());
    s.namespaces.insert("apps".into(), obj(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": ns_labels}})));
    s.services.insert(("apps".into(), "web".into()), obj(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "apps"}, "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})));
    let mut endpoints = Vec::new();
    for i in 0..2 {
        let pod = format!("web-{i}");
        s.pods.insert(("apps".into(), pod.clone()), obj(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod, "namespace": "apps", "annotations": {"sidecar.istio.io/status": "{}"}}})));
        endpoints.push(json!({"addresses": [format!("10.244.0.{}", i + 10)], "targetRef": {"kind": "Pod", "name": pod}}));
    }
    s.endpoint_slices.insert(("apps".into(), "web-abc".into()), obj(json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "addressType": "IPv4", "metadata": {"name": "web-abc", "namespace": "apps", "labels": {"kubernetes.io/service-name": "web"}},
        "ports": [{"name": "http", "port": 8080}], "endpoints": endpoints})));
    s.http_routes.insert(("apps".into(), "web".into()), obj(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": "apps", "generation": 4},
        "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}], "hostnames": ["web.example.com"], "rules": [route_rule]}})));
    s
}

fn istio() -> Settings {
    Settings {
        istio_enabled: true,
        istio_refs: Some(IstioRefs::for_cluster("cluster", "avi-system")),
        ..Settings::default()
    }
}

fn plain_rule() -> Value {
    json!({"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [{"name": "web", "port": 80}]})
}

fn route_conditions(t: &Translation) -> Vec<(String, String, String)> {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::HttpRoute { status, .. } => Some(status.parents[0].conditions.clone()),
            _ => None,
        })
        .unwrap()
        .into_iter()
        .map(|c| (c.type_, c.status, c.reason))
        .collect()
}

/// The first route parent's condition of `type_`.
fn route_condition(
    t: &Translation,
    type_: &str,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::HttpRoute { status, .. } => status.parents[0]
                .conditions
                .iter()
                .find(|c| c.type_ == type_)
                .cloned(),
            _ => None,
        })
        .unwrap()
}

#[test]
fn istio_guide_gateway_and_route() {
    let t = translate(
        &scenario(json!({"istio-injection": "enabled"}), plain_rule()),
        &istio(),
        &now(),
    );
    let m = &t.model;
    let parent = m
        .virtual_services
        .iter()
        .find(|v| v.name == "ako-gw-cluster--infra-gw-EVH")
        .unwrap();
    assert_eq!(parent.type_, Some(VsType::VhParent));
    let ports: Vec<(u16, Option<bool>)> = parent
        .services
        .iter()
        .map(|s| (s.port, s.enable_ssl))
        .collect();
    assert_eq!(ports.len(), 2);
    assert!(ports.contains(&(443, Some(true))));
    assert_eq!(parent.ssl_key_and_certificate_refs.len(), 1);
    assert_eq!(m.ssl_key_and_certificates.len(), 1);
    assert!(
        !format!("{:?}", m.ssl_key_and_certificates).contains("PRIVATE KEY"),
        "the key never shows in Debug"
    );
    assert_eq!(m.vsvips[0].dns_info.len(), 1, "web.example.com");

    let child = m
        .virtual_services
        .iter()
        .find(|v| v.type_ == Some(VsType::VhChild))
        .unwrap();
    assert!(
        child.name.starts_with("ako-gw-cluster--")
            && child.name.len() == "ako-gw-cluster--".len() + 40
    );
    assert_eq!(child.vh_matches[0].host, "web.example.com");
    assert_eq!(
        child.vh_matches[0].rules[0]
            .matches
            .vs_port
            .as_ref()
            .unwrap()
            .ports,
        [80, 443]
    );
    assert_eq!(m.pool_groups[0].name, child.name);
    assert_eq!(m.pool_groups[0].members.len(), 1);
    let pool = &m.pools[0];
    let servers: Vec<(String, Option<u16>)> = pool
        .servers
        .iter()
        .map(|s| (s.ip.addr.clone(), s.port))
        .collect();
    assert_eq!(
        servers,
        [
            ("10.244.0.10".to_owned(), Some(8080)),
            ("10.244.0.11".to_owned(), Some(8080))
        ]
    );
    assert_eq!(
        pool.pki_profile_ref.as_ref().unwrap().name(),
        Some("istio-pki-cluster-avi-system")
    );
    assert_eq!(
        pool.ssl_key_and_certificate_ref.as_ref().unwrap().name(),
        Some("istio-workload-cluster-avi-system")
    );
    assert_eq!(
        pool.ssl_profile_ref.as_ref().unwrap().name(),
        Some("System-Standard")
    );
    assert!(
        m.virtual_services
            .iter()
            .chain([parent])
            .all(|v| v.created_by.as_deref() == Some("ako-gw-cluster-avi-system"))
    );

    assert_eq!(
        route_conditions(&t),
        [
            ("Accepted".into(), "True".into(), "Accepted".into()),
            ("ResolvedRefs".into(), "True".into(), "ResolvedRefs".into())
        ]
    );
    let gw = t
        .statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::Gateway { status, .. } => Some(status.clone()),
            _ => None,
        })
        .unwrap();
    assert!(gw.listeners.unwrap().iter().all(|l| l.attached_routes == 1));
    assert!(t.warnings.is_empty());
}

#[test]
fn same_snapshot_same_output() {
    let s = scenario(json!({"istio-injection": "enabled"}), plain_rule());
    let a = translate(&s, &istio(), &now());
    let b = translate(&s.clone(), &istio(), &now());
    assert_eq!(a.model, b.model);
    assert_eq!(a.statuses, b.statuses);
}

#[test]
fn ambient_backends_get_no_istio_refs_and_a_warning() {
    let t = translate(
        &scenario(json!({"istio.io/dataplane-mode": "ambient"}), plain_rule()),
        &istio(),
        &Time(Timestamp::UNIX_EPOCH),
    );
    // The sidecar annotation on the pods wins over the namespace's ambient label.
    assert!(t.model.pools[0].pki_profile_ref.is_some());
    let mut s = scenario(json!({"istio.io/dataplane-mode": "ambient"}), plain_rule());
    for pod in s.pods.values_mut() {
        std::sync::Arc::make_mut(pod).metadata.annotations = None;
    }
    let t = translate(&s, &istio(), &now());
    assert!(t.model.pools[0].pki_profile_ref.is_none());
    assert!(t.warnings[0].message.contains("ambient"));
    assert_eq!(t.warnings[0].reason, BACKEND_TLS);
    // The route's status says it too, with the reference resolved.
    let resolved = route_condition(&t, "ResolvedRefs");
    assert_eq!(resolved.status, "True");
    assert!(
        resolved.message.contains("ambient mode"),
        "{}",
        resolved.message
    );
    // Outside the mesh with istio_backends = mesh: plain, and a note (not a warning).
    let mut s = scenario(json!({}), plain_rule());
    for pod in s.pods.values_mut() {
        std::sync::Arc::make_mut(pod).metadata.annotations = None;
    }
    let t = translate(
        &s,
        &Settings {
            istio_backends: IstioBackends::Mesh,
            ..istio()
        },
        &now(),
    );
    assert!(t.model.pools[0].pki_profile_ref.is_none());
    assert_eq!(t.warnings.len(), 1);
    assert_eq!(t.warnings[0].reason, BACKEND_NOT_IN_MESH);
    assert!(
        route_condition(&t, "ResolvedRefs")
            .message
            .contains("outside the mesh (no Istio sidecar): plain HTTP")
    );
    // Outside the mesh with istio_backends = all (AKO's behaviour): mTLS, and a warning.
    let t = translate(
        &s,
        &Settings {
            istio_backends: IstioBackends::All,
            ..istio()
        },
        &now(),
    );
    assert!(t.model.pools[0].pki_profile_ref.is_some());
    assert_eq!(t.warnings[0].reason, BACKEND_TLS);
    assert!(t.warnings[0].message.contains("ISTIO_BACKENDS=all"));
}

#[test]
fn missing_backend_is_backend_not_found() {
    let rule = json!({"backendRefs": [{"name": "nope", "port": 80}]});
    let t = translate(&scenario(json!({}), rule), &Settings::default(), &now());
    assert_eq!(
        route_conditions(&t)[1],
        (
            "ResolvedRefs".into(),
            "False".into(),
            "BackendNotFound".into()
        )
    );
    assert!(t.model.pool_groups[0].members.is_empty());
}

#[test]
fn unsupported_rules_are_reported_not_dropped_silently() {
    let rule = json!({"filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "web", "port": 80}}}],
                      "backendRefs": [{"name": "web", "port": 80}]});
    let t = translate(&scenario(json!({}), rule), &Settings::default(), &now());
    let c = route_conditions(&t);
    assert_eq!(
        c[0],
        ("Accepted".into(), "False".into(), "UnsupportedValue".into())
    );
    assert!(t.model.pool_groups.is_empty());
    let StatusUpdate::HttpRoute { status, .. } = t.statuses.last().unwrap() else {
        panic!()
    };
    assert!(
        status.parents[0].conditions[0]
            .message
            .contains("RequestMirror"),
        "{status:?}"
    );
}

#[test]
fn model_json_has_the_avi_type_names() {
    let t = translate(
        &scenario(json!({}), plain_rule()),
        &Settings::default(),
        &now(),
    );
    let v = t.model.to_json();
    for k in [
        "virtualservice",
        "vsvip",
        "pool",
        "poolgroup",
        "httppolicyset",
        "sslkeyandcertificate",
    ] {
        assert!(v[k].is_array(), "{k}");
    }
    assert_eq!(t.model.desired().unwrap().len(), 1 + 1 + 1 + 1 + 1 + 2);
}

#[test]
fn snapshot_debug_shows_no_secret_data() {
    let s = scenario(json!({}), plain_rule());
    let text = format!("{s:?}");
    assert!(text.contains("secrets: 1"), "{text}");
    assert!(
        !text.contains("tls.key") && !text.contains("ByteString"),
        "{text}"
    );
}

fn children(t: &Translation) -> Vec<&VirtualService> {
    t.model
        .virtual_services
        .iter()
        .filter(|v| v.type_ == Some(VsType::VhChild))
        .collect()
}

fn route_mut(s: &mut Snapshot) -> &mut HttpRoute {
    s.http_routes
        .get_mut(&("apps".to_owned(), "web".to_owned()))
        .map(std::sync::Arc::make_mut)
        .unwrap()
}

#[test]
fn rules_told_apart_only_by_method_get_a_child_each() {
    let mut s = scenario(json!({}), plain_rule());
    route_mut(&mut s).spec.rules = Some(obj(json!([
        {"matches": [{"method": "GET"}], "backendRefs": [{"name": "web", "port": 80}]},
        {"matches": [{"method": "POST"}], "backendRefs": [{"name": "web", "port": 80}]}])));
    let t = translate(&s, &Settings::default(), &now());
    // AKO's names are made of path and header matches only: the second rule's would be the
    // first's, and its child would replace the first one.
    let names: BTreeSet<&str> = children(&t).iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn two_parent_refs_to_one_gateway_make_one_child_serving_both_listeners() {
    let mut s = scenario(json!({}), plain_rule());
    route_mut(&mut s).spec.parent_refs = Some(obj(json!([
        {"name": "gw", "namespace": "infra", "sectionName": "http"},
        {"name": "gw", "namespace": "infra", "sectionName": "https"}])));
    let t = translate(&s, &Settings::default(), &now());
    let c = children(&t);
    assert_eq!(c.len(), 1);
    let ports = c[0].vh_matches[0].rules[0]
        .matches
        .vs_port
        .clone()
        .unwrap()
        .ports;
    assert_eq!(ports, [80, 443]);
    let StatusUpdate::HttpRoute { status, .. } = t.statuses.last().unwrap() else {
        panic!()
    };
    assert_eq!(status.parents.len(), 2);
}

#[test]
fn hostnames_a_more_specific_listener_owns_are_not_served_on_a_catch_all_listener() {
    let mut s = scenario(json!({}), plain_rule());
    let gw = s
        .gateways
        .get_mut(&("infra".to_owned(), "gw".to_owned()))
        .map(std::sync::Arc::make_mut)
        .unwrap();
    gw.spec
        .listeners
        .push(obj(json!({"name": "web", "port": 80, "protocol": "HTTP",
        "hostname": "web.example.com", "allowedRoutes": {"namespaces": {"from": "All"}}})));
    let route = route_mut(&mut s);
    route.spec.parent_refs = Some(obj(
        json!([{"name": "gw", "namespace": "infra", "sectionName": "http"}]),
    ));
    route.spec.hostnames = Some(vec!["web.example.com".into(), "other.org".into()]);
    let t = translate(&s, &Settings::default(), &now());
    // Listener isolation: web.example.com requests belong to listener `web`, where the route
    // is not attached.
    let hosts: Vec<&str> = children(&t)[0]
        .vh_matches
        .iter()
        .map(|m| m.host.as_str())
        .collect();
    assert_eq!(hosts, ["other.org"]);
}

#[test]
fn an_unsupported_address_type_is_not_accepted_and_nothing_is_programmed() {
    let mut s = scenario(json!({}), plain_rule());
    let gw = s
        .gateways
        .get_mut(&("infra".to_owned(), "gw".to_owned()))
        .map(std::sync::Arc::make_mut)
        .unwrap();
    gw.spec.addresses = Some(obj(
        json!([{"type": "Hostname", "value": "lb.example.com"}]),
    ));
    let t = translate(&s, &Settings::default(), &now());
    let gw_status = t
        .statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::Gateway { status, .. } => Some(status.clone()),
            _ => None,
        })
        .unwrap();
    let accepted = &gw_status.conditions.unwrap()[0];
    assert_eq!(
        (
            accepted.type_.as_str(),
            accepted.status.as_str(),
            accepted.reason.as_str()
        ),
        ("Accepted", "False", "UnsupportedAddress")
    );
    // No parent, and no child naming a parent that does not exist.
    assert!(
        t.model.virtual_services.is_empty(),
        "{:?}",
        t.model.virtual_services
    );
    assert!(gw_status.addresses.is_none());
}

#[test]
fn the_resolved_refs_message_shows_a_few_backend_notes_then_a_count() {
    let warnings: Vec<Warning> = (0..10)
        .map(|i| Warning {
            kind: "HTTPRoute",
            key: ("apps".into(), "r".into()),
            reason: if i % 2 == 0 {
                BACKEND_TLS
            } else {
                BACKEND_NOT_IN_MESH
            },
            message: format!("backend apps/svc-{i} says {i}"),
        })
        .chain(std::iter::once(Warning {
            kind: "HTTPRoute",
            key: ("apps".into(), "r".into()),
            reason: BACKEND_TLS,
            message: "backend apps/svc-0 says 0".into(),
        }))
        .collect();
    let m = resolved_message(&warnings);
    assert!(m.starts_with("All references resolved; backend apps/svc-0 says 0; "));
    assert!(m.contains("svc-3") && !m.contains("svc-4"), "{m}");
    // Ten distinct notes (the repeated one counted once): four shown, six counted.
    assert!(
        m.ends_with("; and 6 more backends (see the route's Events)"),
        "{m}"
    );
    assert_eq!(
        resolved_message(&[]),
        "All references resolved",
        "nothing to add"
    );
}

#[test]
fn objects_carry_akos_markers_health_monitor_sni_and_vip_network() {
    let settings = Settings {
        vip_networks: translate_core::vip::parse_vip_network_list(
            r#"[{"networkName":"vip-net","cidr":"10.10.0.0/24"}]"#,
        )
        .unwrap(),
        ..istio()
    };
    let t = translate(
        &scenario(json!({"istio-injection": "enabled"}), plain_rule()),
        &settings,
        &now(),
    );
    let m = &t.model;
    let marks = |ms: &[avi_client::models::Marker]| -> BTreeMap<String, Vec<String>> {
        ms.iter()
            .map(|mk| (mk.key.clone(), mk.values.clone()))
            .collect()
    };
    let route = BTreeMap::from([
        ("clustername".to_owned(), vec!["cluster".to_owned()]),
        ("GatewayName".to_owned(), vec!["gw".to_owned()]),
        ("GatewayNamespace".to_owned(), vec!["infra".to_owned()]),
        ("HTTPRouteName".to_owned(), vec!["web".to_owned()]),
        ("HTTPRouteNamespace".to_owned(), vec!["apps".to_owned()]),
    ]);
    let child = m
        .virtual_services
        .iter()
        .find(|v| v.type_ == Some(VsType::VhChild))
        .unwrap();
    let mut child_expected = route.clone();
    child_expected.insert("Host".into(), vec!["web.example.com".into()]);
    assert_eq!(marks(&child.markers), child_expected);
    assert_eq!(marks(&m.pool_groups[0].markers), route);
    let pool = &m.pools[0];
    let mut pool_expected = route.clone();
    pool_expected.insert("BackendName".into(), vec!["web".into()]);
    pool_expected.insert("BackendNs".into(), vec!["apps".into()]);
    assert_eq!(marks(&pool.markers), pool_expected);
    assert_eq!(
        serde_json::to_value(&pool.health_monitor_refs).unwrap(),
        json!(["/api/healthmonitor/?name=System-TCP"])
    );
    assert_eq!(pool.sni_enabled, Some(false));
    let vip = &m.vsvips[0].vip[0];
    assert_eq!(
        vip.ipam_network_subnet
            .as_ref()
            .and_then(|s| s.network_ref.as_deref()),
        Some("/api/network/?name=vip-net")
    );
}

#[test]
fn a_key_inside_tls_crt_is_refused_and_never_reaches_the_model() {
    let mut s = scenario(json!({}), plain_rule());
    let key = ("infra".to_owned(), "tls".to_owned());
    let mut secret = (**s.secrets.get(&key).unwrap()).clone();
    let mut data = secret.data.clone().unwrap();
    data.insert(
        "tls.crt".into(),
        ByteString(format!("{CERT}{KEY}").into_bytes()),
    );
    secret.data = Some(data);
    s.secrets.insert(key, secret.into());
    let t = translate(&s, &Settings::default(), &now());
    let model = format!("{:?}", t.model);
    let key_line = KEY.lines().nth(1).unwrap();
    // The key is only ever in `key` fields: the certificate is refused, so no object holds it.
    assert!(!model.contains(key_line), "{model}");
    assert!(t.model.ssl_key_and_certificates.is_empty(), "{model}");
    let status = format!("{:?}", t.statuses);
    assert!(
        status.contains("tls.crt contains a PRIVATE KEY block"),
        "{status}"
    );
    assert!(!status.contains(key_line));
}

/// The first route parent's (type, status, reason, message) of `type_`.
fn condition_of(t: &Translation, type_: &str) -> (String, String, String) {
    let c = route_condition(t, type_);
    (c.status, c.reason, c.message)
}

fn gateway_status_of(t: &Translation) -> &gateway_api::gateways::GatewayStatus {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::Gateway { status, .. } => Some(status),
            _ => None,
        })
        .unwrap()
}

fn gateway_condition(t: &Translation, type_: &str) -> (String, String, String) {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::Gateway { status, .. } => status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == type_)
                .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone())),
            _ => None,
        })
        .unwrap()
}

#[test]
fn hostile_matches_filters_and_weights_are_refused_with_the_reason() {
    for (rule, says) in [
        (
            json!({"matches": [{"headers": [{"name": "x-a\r\nx-evil", "value": "1"}]}], "backendRefs": [{"name": "web", "port": 80}]}),
            "not an HTTP token",
        ),
        (
            json!({"matches": [{"headers": [{"name": "x-a", "value": "1\r\nx-evil: 2"}]}], "backendRefs": [{"name": "web", "port": 80}]}),
            "control character",
        ),
        (
            json!({"matches": [{"path": {"type": "PathPrefix", "value": "api"}}], "backendRefs": [{"name": "web", "port": 80}]}),
            "does not start with '/'",
        ),
        (
            json!({"matches": [{"path": {"type": "RegularExpression", "value": "((("}}], "backendRefs": [{"name": "web", "port": 80}]}),
            "regular expression",
        ),
        (
            json!({"matches": [{"path": {"type": "RegularExpression", "value": "/(a+)+$"}}], "backendRefs": [{"name": "web", "port": 80}]}),
            "exponential time",
        ),
        (
            json!({"filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x", "value": "a\u{0}b"}]}}],
                   "backendRefs": [{"name": "web", "port": 80}]}),
            "control character",
        ),
    ] {
        let t = translate(
            &scenario(json!({}), rule.clone()),
            &Settings::default(),
            &now(),
        );
        let (status, reason, message) = condition_of(&t, "Accepted");
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "UnsupportedValue"),
            "{rule}"
        );
        assert!(message.contains(says), "{rule}: {message}");
        assert!(t.model.pool_groups.is_empty(), "{rule}");
    }
    // A regular expression with look-ahead (PCRE has it) and a bounded repetition are fine.
    let rule = json!({"matches": [{"path": {"type": "RegularExpression", "value": "/v[0-9]+/(?=x)(ab){2}"}}], "backendRefs": [{"name": "web", "port": 80}]});
    let t = translate(&scenario(json!({}), rule), &Settings::default(), &now());
    assert_eq!(condition_of(&t, "Accepted").0, "True");
    // A negative weight is not read as 0.
    let rule = json!({"backendRefs": [{"name": "web", "port": 80, "weight": -5}]});
    let t = translate(&scenario(json!({}), rule), &Settings::default(), &now());
    let (status, reason, message) = condition_of(&t, "ResolvedRefs");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "UnsupportedValue")
    );
    assert!(message.contains("weight -5"), "{message}");
}

#[test]
fn invalid_route_hostnames_refuse_the_route_instead_of_widening_it() {
    let mut s = scenario(json!({}), plain_rule());
    let key = ("apps".to_owned(), "web".to_owned());
    let mut route = (**s.http_routes.get(&key).unwrap()).clone();
    route.spec.hostnames = Some(vec!["bad_host!".into(), "-x.example.com".into()]);
    s.http_routes.insert(key, route.into());
    let t = translate(&s, &Settings::default(), &now());
    let (status, reason, message) = condition_of(&t, "Accepted");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "UnsupportedValue")
    );
    assert!(message.contains("bad_host!"), "{message}");
    assert!(
        !t.model
            .virtual_services
            .iter()
            .any(|v| v.type_ == Some(VsType::VhChild)),
        "no child may serve the listener's hosts"
    );
}

#[test]
fn listeners_addresses_and_names_that_cannot_be_programmed_say_so() {
    let gw_key = ("infra".to_owned(), "gw".to_owned());
    let with_gateway = |edit: &dyn Fn(&mut gateway_api::gateways::Gateway)| {
        let mut s = scenario(json!({}), plain_rule());
        let mut gw = (**s.gateways.get(&gw_key).unwrap()).clone();
        edit(&mut gw);
        s.gateways.insert(gw_key.clone(), gw.into());
        translate(&s, &Settings::default(), &now())
    };
    // Ports outside 1-65535 and a bad hostname make the listener invalid, not "programmed".
    for port in [0, 65536, -1] {
        let t = with_gateway(&|gw| gw.spec.listeners[0].port = port);
        let status = gateway_status_of(&t);
        let l = &status.listeners.as_ref().unwrap()[0];
        let accepted = l.conditions.iter().find(|c| c.type_ == "Accepted").unwrap();
        assert_eq!(
            (accepted.status.as_str(), accepted.reason.as_str()),
            ("False", "PortUnavailable"),
            "{port}"
        );
        // attachedRoutes counts attachment alone (the spec's rule); what matters is that the
        // listener is not said to be programmed.
        let programmed = l
            .conditions
            .iter()
            .find(|c| c.type_ == "Programmed")
            .unwrap();
        assert_eq!(programmed.status, "False", "{port}");
    }
    let t = with_gateway(&|gw| gw.spec.listeners[0].hostname = Some("not a host".into()));
    let status = gateway_status_of(&t);
    let accepted = status.listeners.as_ref().unwrap()[0]
        .conditions
        .iter()
        .find(|c| c.type_ == "Accepted")
        .unwrap()
        .clone();
    assert_eq!(
        (accepted.status.as_str(), accepted.reason.as_str()),
        ("False", "UnsupportedValue")
    );
    // Two addresses, or one that is no IP: nothing programmed, no VIP allocated instead.
    for addresses in [
        json!([{"value": "10.0.0.1"}, {"value": "10.0.0.2"}]),
        json!([{"value": "10.0.0.300"}]),
    ] {
        let t = with_gateway(&|gw| {
            gw.spec.addresses = Some(serde_json::from_value(addresses.clone()).unwrap())
        });
        let (status, reason, _) = gateway_condition(&t, "Programmed");
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "AddressNotUsable"),
            "{addresses}"
        );
        assert!(t.model.vsvips.is_empty(), "{addresses}");
    }
    // A name Avi cannot hold.
    let long = "g".repeat(253);
    let mut s = scenario(json!({}), plain_rule());
    let mut gw = (**s.gateways.get(&gw_key).unwrap()).clone();
    gw.metadata.name = Some(long.clone());
    s.gateways.remove(&gw_key);
    s.gateways.insert(("infra".into(), long), gw.into());
    let t = translate(&s, &Settings::default(), &now());
    let (status, reason, message) = gateway_condition(&t, "Programmed");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "Invalid"));
    assert!(message.contains("Avi allows 255"), "{message}");
    assert!(t.model.virtual_services.is_empty());
}

#[test]
fn a_mesh_backend_keeps_the_istio_certificate_over_the_gateway_client_certificate() {
    // The Gateway names a backend client certificate; the mesh backend still presents the
    // Istio workload certificate (a STRICT sidecar accepts the mesh identity only).
    let mut s = scenario(json!({"istio-injection": "enabled"}), plain_rule());
    let gw = s.gateways.get_mut(&("infra".into(), "gw".into())).unwrap();
    let mut g = (**gw).clone();
    g.spec.tls = Some(obj(
        json!({"backend": {"clientCertificateRef": {"name": "tls"}}}),
    ));
    *gw = g.into();
    let t = translate(&s, &istio(), &now());
    let refs = IstioRefs::for_cluster("cluster", "avi-system");
    assert_eq!(t.model.pools.len(), 1);
    assert_eq!(
        t.model.pools[0]
            .ssl_key_and_certificate_ref
            .as_ref()
            .and_then(|r| r.name()),
        Some(refs.ssl_key_and_certificate.as_str())
    );
    // The Gateway's certificate is still made and said to be resolved.
    let client = names::backend_client_cert("cluster", "infra", "gw", "infra", "tls");
    assert!(
        t.model
            .ssl_key_and_certificates
            .iter()
            .any(|c| c.name == client)
    );
    let status = t
        .statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::Gateway { status, .. } => Some(status.clone()),
            _ => None,
        })
        .unwrap();
    let resolved = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "ResolvedRefs")
        .unwrap();
    assert_eq!(
        (resolved.status.as_str(), resolved.reason.as_str()),
        ("True", "ResolvedRefs")
    );
}
