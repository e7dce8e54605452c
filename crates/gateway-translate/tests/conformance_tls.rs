//! The TLSRoute conformance tests (GATEWAY-TLS profile, Passthrough; gateway-api.md §6):
//! statuses with their exact reasons, and every connection resolved through the model — the
//! passthrough port's DataScript tables read as avi-sim reads them, server name to pool group
//! to backend. Connections through avi-sim's Service Engine: `tests/tests/data_plane_conformance.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use gateway_translate::{Translation, names};
use support::harness::{
    INFRA, assert_condition, gateway_status, listener_status, run, supported_kinds,
};

/// The suite's TLS and TCP backends (its base manifests have them; ours add them here).
const TLS_BACKENDS: &str = r#"
---
apiVersion: v1
kind: Service
metadata: {name: tls-backend, namespace: gateway-conformance-infra}
spec: {selector: {app: tls-backend}, ports: [{port: 443, targetPort: 8443}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: tls-backend-a, namespace: gateway-conformance-infra, labels: {kubernetes.io/service-name: tls-backend}}
addressType: IPv4
ports: [{port: 8443}]
endpoints: [{addresses: ["10.2.0.1"], conditions: {ready: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: tls-backend-2, namespace: gateway-conformance-infra}
spec: {selector: {app: tls-backend-2}, ports: [{port: 443, targetPort: 8443}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: tls-backend-2-a, namespace: gateway-conformance-infra, labels: {kubernetes.io/service-name: tls-backend-2}}
addressType: IPv4
ports: [{port: 8443}]
endpoints: [{addresses: ["10.2.0.2"], conditions: {ready: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: tcp-backend, namespace: gateway-conformance-infra}
spec: {selector: {app: tcp-backend}, ports: [{port: 8443, targetPort: 8443}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: tcp-backend-a, namespace: gateway-conformance-infra, labels: {kubernetes.io/service-name: tcp-backend}}
addressType: IPv4
ports: [{port: 8443}]
endpoints: [{addresses: ["10.2.0.3"], conditions: {ready: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: tls-backend, namespace: gateway-conformance-app-backend}
spec: {selector: {app: tls-backend}, ports: [{port: 443, targetPort: 8443}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: tls-backend-a, namespace: gateway-conformance-app-backend, labels: {kubernetes.io/service-name: tls-backend}}
addressType: IPv4
ports: [{port: 8443}]
endpoints: [{addresses: ["10.2.0.4"], conditions: {ready: true}}]
"#;

fn run_tls(extra: &str) -> Translation {
    run(&format!("{TLS_BACKENDS}---\n{extra}"))
}

/// A passthrough Gateway `name` with one listener per `(name, port, hostname)`.
fn gateway(name: &str, listeners: &[(&str, u16, Option<&str>)]) -> String {
    let ls: String = listeners
        .iter()
        .map(|(l, port, host)| {
            let host = host.map_or(String::new(), |h| format!(", hostname: \"{h}\""));
            format!(
                "  - {{name: {l}, port: {port}, protocol: TLS, tls: {{mode: Passthrough}}, allowedRoutes: {{namespaces: {{from: Same}}, kinds: [{{kind: TLSRoute}}]}}{host}}}\n"
            )
        })
        .collect();
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}, namespace: gateway-conformance-infra}}\nspec:\n  gatewayClassName: avi-lb\n  listeners:\n{ls}"
    )
}

/// A TLSRoute `name` on `gw` for `hostnames`, to `(Service, port)` backends.
fn route(name: &str, gw: &str, hostnames: &[&str], backends: &[(&str, u16)]) -> String {
    let hosts: Vec<String> = hostnames.iter().map(|h| format!("\"{h}\"")).collect();
    let refs: Vec<String> = backends
        .iter()
        .map(|(s, p)| format!("{{name: {s}, port: {p}}}"))
        .collect();
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\nmetadata: {{name: {name}, namespace: gateway-conformance-infra}}\nspec:\n  parentRefs: [{{name: {gw}}}]\n  hostnames: [{}]\n  rules: [{{backendRefs: [{}]}}]\n",
        hosts.join(", "),
        refs.join(", ")
    )
}

/// The route's parent status for Gateway `gw`.
fn route_parent(t: &Translation, name: &str, gw: &str) -> serde_json::Value {
    let status = t
        .statuses
        .iter()
        .find_map(|s| match s {
            gateway_translate::StatusUpdate::Route {
                kind: "TLSRoute",
                key,
                status,
                ..
            } if key.0 == INFRA && key.1 == name => Some(status.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no status for TLSRoute {name}"));
    status["parents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["parentRef"]["name"] == gw)
        .cloned()
        .unwrap_or_else(|| panic!("no parent {gw} in {status}"))
}

fn assert_route_condition(parent: &serde_json::Value, type_: &str, status: &str, reason: &str) {
    let c = parent["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap_or_else(|| panic!("no {type_} in {parent}"));
    assert_eq!(
        (c["status"].as_str(), c["reason"].as_str()),
        (Some(status), Some(reason)),
        "{c}"
    );
}

/// The backend Service a TLS connection with server name `sni` on port `port` of `gw` reaches,
/// or `None` when the Service Engine closes it: the passthrough port's script tables read as
/// avi-sim reads them (exact name, then the longest wildcard suffix, then any).
fn sni_backend(t: &Translation, gw: &str, port: u16, sni: &str) -> Option<String> {
    let vs_name = names::passthrough_vs("cluster", INFRA, gw, port);
    let set = t
        .model
        .vs_datascript_sets
        .iter()
        .find(|s| s.name == vs_name)?;
    let script = &set.datascript[0].script;
    let table = |name: &str| -> BTreeMap<String, String> {
        let start = script.find(&format!("local {name} = {{\n")).unwrap();
        let body = &script[start..];
        let end = body.find("\n}").unwrap();
        body[..end]
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (k, v) = l.trim().trim_end_matches(',').split_once(" = ")?;
                Some((
                    k.trim_matches(|c| c == '[' || c == ']' || c == '"')
                        .to_owned(),
                    v.trim_matches('"').to_owned(),
                ))
            })
            .collect()
    };
    let (exact, wildcard) = (table("exact"), table("wildcard"));
    let sni = sni.to_ascii_lowercase();
    let mut pg = exact.get(&sni).cloned();
    let mut rest = sni.as_str();
    while pg.is_none() {
        let Some((_, r)) = rest.split_once('.') else {
            break;
        };
        rest = r;
        pg = wildcard.get(rest).cloned();
    }
    let pg = pg?;
    let group = t.model.pool_groups.iter().find(|g| g.name == pg).unwrap();
    assert_eq!(group.members.len(), 1, "{group:?}");
    let pool_name = group.members[0].pool_ref.name().unwrap();
    let pool = t.model.pools.iter().find(|p| p.name == pool_name).unwrap();
    assert!(
        pool.ssl_profile_ref.is_none(),
        "passthrough pools never add TLS"
    );
    pool.markers
        .iter()
        .find(|m| m.key == "BackendName")
        .map(|m| m.values[0].clone())
}

#[test]
fn tls_route_simple_same_namespace() {
    let gw = "gateway-tlsroute";
    let t = run_tls(&format!(
        "{}{}",
        gateway(gw, &[("https", 443, Some("*.example.com"))]),
        route(
            "gateway-conformance-infra-test",
            gw,
            &["abc.example.com"],
            &[("tcp-backend", 8443)]
        )
    ));
    let p = route_parent(&t, "gateway-conformance-infra-test", gw);
    assert_route_condition(&p, "Accepted", "True", "Accepted");
    assert_route_condition(&p, "ResolvedRefs", "True", "ResolvedRefs");
    let l = listener_status(&t, gw, "https");
    assert_eq!(l.attached_routes, 1);
    assert_condition(&l.conditions, "Programmed", "True", Some("Programmed"));
    assert_eq!(
        sni_backend(&t, gw, 443, "abc.example.com").as_deref(),
        Some("tcp-backend")
    );
    assert_eq!(sni_backend(&t, gw, 443, "other.example.com"), None);
    // The layer-4 virtual service shares the Gateway's VIP; there is no HTTP parent.
    let vs = t
        .model
        .virtual_services
        .iter()
        .find(|v| v.name == names::passthrough_vs("cluster", INFRA, gw, 443))
        .unwrap();
    assert_eq!(
        vs.application_profile_ref.as_deref(),
        Some("/api/applicationprofile/?name=System-L4-Application")
    );
    assert_eq!(
        vs.vsvip_ref.as_ref().and_then(|r| r.name()),
        Some(names::parent_vs("cluster", INFRA, gw).as_str())
    );
    assert!(
        t.model
            .virtual_services
            .iter()
            .all(|v| v.name != names::parent_vs("cluster", INFRA, gw))
    );
    let set = &t.model.vs_datascript_sets[0];
    assert_eq!(set.datascript[0].evt, "VS_DATASCRIPT_EVT_L4_REQUEST");
    assert!(set.datascript[0].script.contains("avi_tls.get_sni(h)"));
    assert_eq!(
        set.protocol_parser_refs,
        ["/api/protocolparser/?name=Default-TLS"]
    );
}

#[test]
fn tls_route_hostname_intersection() {
    // (Gateway, listener hostname, routes: (name, hostnames, backend)), and the expectations.
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Vec<(&'a str, &'a str, &'a str)>,
        Vec<(&'a str, Option<&'a str>)>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "tlsroute-listener-abc-example-com",
            Some("abc.example.com"),
            vec![("route-wildcard-example-com", "*.example.com", "tls-backend")],
            vec![
                ("abc.example.com", Some("tls-backend")),
                ("non.matching.com", None),
            ],
        ),
        (
            "tlsroute-listener-wildcard-example-com",
            Some("*.example.com"),
            vec![
                ("route-abc-example-com", "abc.example.com", "tls-backend"),
                ("route-wildcard-com", "*.com", "tls-backend-2"),
            ],
            vec![
                ("abc.example.com", Some("tls-backend")),
                ("other.example.com", Some("tls-backend-2")),
                ("non.matching.com", None),
            ],
        ),
        (
            "tlsroute-listener-wildcard-com",
            Some("*.com"),
            vec![
                ("route-abc-example-com-2", "abc.example.com", "tls-backend"),
                (
                    "route-wildcard-example-com-2",
                    "*.example.com",
                    "tls-backend-2",
                ),
            ],
            vec![
                ("abc.example.com", Some("tls-backend")),
                ("other.example.com", Some("tls-backend-2")),
                ("non.matching.com", None),
            ],
        ),
        (
            "tlsroute-listener-empty-hostname",
            None,
            vec![
                ("route-abc-example-com-3", "abc.example.com", "tls-backend"),
                ("route-wildcard-com-3", "*.com", "tls-backend-2"),
            ],
            vec![
                ("abc.example.com", Some("tls-backend")),
                ("other.example.com", Some("tls-backend-2")),
                ("non.matching.org", None),
            ],
        ),
    ];
    let mut manifest = String::new();
    for (gw, host, routes, _) in &cases {
        manifest.push_str(&gateway(gw, &[("tls", 443, *host)]));
        for (name, h, backend) in routes {
            manifest.push_str(&route(name, gw, &[h], &[(backend, 443)]));
        }
    }
    let t = run_tls(&manifest);
    for (gw, _, routes, expect) in &cases {
        for (name, _, _) in routes {
            let p = route_parent(&t, name, gw);
            assert_route_condition(&p, "Accepted", "True", "Accepted");
            assert_route_condition(&p, "ResolvedRefs", "True", "ResolvedRefs");
        }
        for (sni, backend) in expect {
            assert_eq!(
                sni_backend(&t, gw, 443, sni).as_deref(),
                *backend,
                "{gw} {sni}"
            );
        }
    }
}

fn assert_backend_problem(extra: &str, gw: &str, name: &str, reason: &str) {
    let t = run_tls(extra);
    let p = route_parent(&t, name, gw);
    assert_route_condition(&p, "Accepted", "True", "Accepted");
    assert_route_condition(&p, "ResolvedRefs", "False", reason);
    // The only backend is invalid: the connection is closed.
    assert_eq!(sni_backend(&t, gw, 443, "example.com"), None);
    assert_eq!(sni_backend(&t, gw, 443, "abc.example.com"), None);
}

fn plain_gateway(name: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {name}, namespace: gateway-conformance-infra}}\nspec:\n  gatewayClassName: avi-lb\n  listeners: [{{name: tls, port: 443, protocol: TLS, tls: {{mode: Passthrough}}, allowedRoutes: {{namespaces: {{from: Same}}}}}}]\n"
    )
}

#[test]
fn tls_route_invalid_backend_ref_nonexistent() {
    let gw = "gateway-tlsroute-invalid-backend-ref-nonexistent";
    assert_backend_problem(
        &format!(
            "{}{}",
            plain_gateway(gw),
            route(
                "invalid-backend-ref-nonexistent",
                gw,
                &["example.com"],
                &[("nonexistent", 443)]
            )
        ),
        gw,
        "invalid-backend-ref-nonexistent",
        "BackendNotFound",
    );
}

#[test]
fn tls_route_invalid_backend_ref_unknown_kind() {
    let gw = "gateway-tlsroute-invalid-backend-ref-unknown-kind";
    let manifest = format!(
        r#"{}---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: invalid-backend-ref-unknown-kind, namespace: gateway-conformance-infra}}
spec:
  hostnames: [example.com]
  parentRefs: [{{name: {gw}, namespace: gateway-conformance-infra}}]
  rules: [{{backendRefs: [{{group: unknownkind.example.com, kind: NonExistent, name: tls-backend, port: 443}}]}}]
"#,
        plain_gateway(gw)
    );
    assert_backend_problem(
        &manifest,
        gw,
        "invalid-backend-ref-unknown-kind",
        "InvalidKind",
    );
}

#[test]
fn tls_route_invalid_reference_grant() {
    let gw = "gateway-tlsroute-referencegrant";
    let grant = |name: &str, ns: &str, from: &str, to: &str| {
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{from: [{from}], to: [{to}]}}\n"
        )
    };
    let good_from =
        "{group: gateway.networking.k8s.io, kind: TLSRoute, namespace: gateway-conformance-infra}";
    let good_to = r#"{group: "", kind: Service, name: tls-backend}"#;
    let app = "gateway-conformance-app-backend";
    let manifest = [
        grant("reference-grant-wrong-namespace", INFRA, good_from, good_to),
        grant("wrong-from-group", app, "{group: not-the-group, kind: TLSRoute, namespace: gateway-conformance-infra}", good_to),
        grant("wrong-from-kind", app, "{group: gateway.networking.k8s.io, kind: Gateway, namespace: gateway-conformance-infra}", good_to),
        grant("wrong-from-namespace", app, "{group: gateway.networking.k8s.io, kind: TLSRoute, namespace: not-the-namespace}", good_to),
        grant("wrong-to-group", app, good_from, "{group: not-the-group, kind: Service, name: tls-backend}"),
        grant("wrong-to-kind", app, good_from, r#"{group: "", kind: Secret, name: tls-backend}"#),
        grant("wrong-to-name", app, good_from, r#"{group: "", kind: Service, name: not-the-service}"#),
        gateway(gw, &[("https", 443, Some("*.example.com"))]),
        format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\nmetadata: {{name: gateway-conformance-infra-test, namespace: gateway-conformance-infra}}\nspec:\n  hostnames: [abc.example.com]\n  parentRefs: [{{name: {gw}}}]\n  rules: [{{backendRefs: [{{name: tls-backend, namespace: {app}, port: 443}}]}}]\n"
        ),
    ]
    .concat();
    let t = run_tls(&manifest);
    let p = route_parent(&t, "gateway-conformance-infra-test", gw);
    assert_route_condition(&p, "Accepted", "True", "Accepted");
    assert_route_condition(&p, "ResolvedRefs", "False", "RefNotPermitted");
    assert_eq!(sni_backend(&t, gw, 443, "abc.example.com"), None);
    // The grant that fits lets it through.
    let t = run_tls(&format!(
        "{manifest}{}",
        grant("right", app, good_from, good_to)
    ));
    let p = route_parent(&t, "gateway-conformance-infra-test", gw);
    assert_route_condition(&p, "ResolvedRefs", "True", "ResolvedRefs");
    assert_eq!(
        sni_backend(&t, gw, 443, "abc.example.com").as_deref(),
        Some("tls-backend")
    );
}

#[test]
fn tls_route_invalid_no_matching_listener_hostname() {
    let manifest = [
        gateway(
            "gateway-tlsroute-www",
            &[("tls", 443, Some("www.example.com"))],
        ),
        gateway(
            "gateway-tlsroute-wildcard",
            &[("tls", 443, Some("*.example.com"))],
        ),
        route(
            "no-match-www",
            "gateway-tlsroute-www",
            &["www.nomatch.com", "*.nomatch.com"],
            &[("tls-backend", 443)],
        ),
        route(
            "no-match-wildcard",
            "gateway-tlsroute-wildcard",
            &["www.different.com", "*.different.com"],
            &[("tls-backend", 443)],
        ),
    ]
    .concat();
    let t = run_tls(&manifest);
    for (name, gw) in [
        ("no-match-www", "gateway-tlsroute-www"),
        ("no-match-wildcard", "gateway-tlsroute-wildcard"),
    ] {
        let p = route_parent(&t, name, gw);
        assert_route_condition(&p, "Accepted", "False", "NoMatchingListenerHostname");
        assert_eq!(listener_status(&t, gw, "tls").attached_routes, 0);
    }
}

#[test]
fn tls_route_invalid_no_matching_listener() {
    let manifest = format!(
        r#"{}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gateway-tlsroute-http-only, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners: [{{name: http, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: Same}}}}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gateway-tlsroute-https-only, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {{name: https, port: 443, protocol: HTTPS, allowedRoutes: {{namespaces: {{from: Same}}}}, tls: {{mode: Terminate, certificateRefs: [{{name: tls-validity-checks-certificate, namespace: gateway-conformance-infra}}]}}}}
{}{}---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: tlsroute-no-matching-section-name, namespace: gateway-conformance-infra}}
spec:
  hostnames: [tls.example.com]
  parentRefs: [{{name: gateway-tlsroute-tls-passthrough-only, sectionName: nonexistent-listener}}]
  rules: [{{backendRefs: [{{name: tls-backend, port: 443}}]}}]
"#,
        plain_gateway("gateway-tlsroute-tls-passthrough-only"),
        route(
            "tlsroute-not-allowed-protocol-http",
            "gateway-tlsroute-http-only",
            &["tls.example.com"],
            &[("tls-backend", 443)]
        ),
        route(
            "tlsroute-not-allowed-protocol-https",
            "gateway-tlsroute-https-only",
            &["tls.example.com"],
            &[("tls-backend", 443)]
        ),
    );
    let t = run_tls(&manifest);
    for (name, gw, reason) in [
        (
            "tlsroute-not-allowed-protocol-http",
            "gateway-tlsroute-http-only",
            "NotAllowedByListeners",
        ),
        (
            "tlsroute-not-allowed-protocol-https",
            "gateway-tlsroute-https-only",
            "NotAllowedByListeners",
        ),
        (
            "tlsroute-no-matching-section-name",
            "gateway-tlsroute-tls-passthrough-only",
            "NoMatchingParent",
        ),
    ] {
        let p = route_parent(&t, name, gw);
        assert_route_condition(&p, "Accepted", "False", reason);
    }
    assert_eq!(
        listener_status(&t, "gateway-tlsroute-http-only", "http").attached_routes,
        0
    );
    assert_eq!(
        listener_status(&t, "gateway-tlsroute-https-only", "https").attached_routes,
        0
    );
    assert_eq!(
        listener_status(&t, "gateway-tlsroute-tls-passthrough-only", "tls").attached_routes,
        0
    );
}

#[test]
fn tls_route_listener_passthrough_supported_kinds() {
    let gw = "gateway-tlsroute-passthrough-supported-kind";
    let t = run_tls(&format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {gw}, namespace: gateway-conformance-infra}}\nspec:\n  gatewayClassName: avi-lb\n  listeners: [{{name: tls-passthrough, port: 443, protocol: TLS, tls: {{mode: Passthrough}}, allowedRoutes: {{namespaces: {{from: Same}}, kinds: [{{kind: TCPRoute}}, {{kind: TLSRoute}}]}}}}]\n"
    ));
    let l = listener_status(&t, gw, "tls-passthrough");
    assert_condition(
        &l.conditions,
        "ResolvedRefs",
        "False",
        Some("InvalidRouteKinds"),
    );
    assert_eq!(supported_kinds(&l), ["gateway.networking.k8s.io/TLSRoute"]);
    assert_eq!(l.attached_routes, 0);
}

#[test]
fn tls_route_listener_terminate_not_supported() {
    let gw = "gateway-tlsroute-terminate-unsupported";
    let t = run_tls(&format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: {gw}, namespace: gateway-conformance-infra}}\nspec:\n  gatewayClassName: avi-lb\n  listeners: [{{name: tls-terminate, port: 8443, hostname: terminate.example.com, protocol: TLS, tls: {{mode: Terminate, certificateRefs: [{{name: tls-terminate-checks-certificate}}]}}, allowedRoutes: {{namespaces: {{from: Same}}, kinds: [{{kind: TLSRoute}}]}}}}]\n"
    ));
    let l = listener_status(&t, gw, "tls-terminate");
    assert_condition(&l.conditions, "Accepted", "False", Some("UnsupportedValue"));
    let status = gateway_status(&t, gw);
    assert_condition(
        &status.conditions.unwrap(),
        "Accepted",
        "False",
        Some("ListenersNotValid"),
    );
}

#[test]
fn http_route_disallowed_kind() {
    let gw = "tlsroutes-only";
    let t = run_tls(&format!(
        "{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: disallowed-kind, namespace: gateway-conformance-infra}}\nspec:\n  parentRefs: [{{name: {gw}, namespace: gateway-conformance-infra}}]\n  rules: [{{backendRefs: [{{name: infra-backend-v1, port: 8080}}]}}]\n",
        gateway(gw, &[("tls", 443, None)])
    ));
    let p = support::harness::route_parent(&t, INFRA, "disallowed-kind", gw);
    assert_condition(
        &p.conditions,
        "Accepted",
        "False",
        Some("NotAllowedByListeners"),
    );
    assert_eq!(listener_status(&t, gw, "tls").attached_routes, 0);
}

/// Two routes claiming one name on one port: the older keeps it.
#[test]
fn the_older_route_keeps_a_contested_name() {
    let gw = "contested";
    let older = route("older", gw, &["abc.example.com"], &[("tls-backend", 443)]).replace(
        "namespace: gateway-conformance-infra}",
        "namespace: gateway-conformance-infra, creationTimestamp: \"2024-01-01T00:00:00Z\"}",
    );
    let newer = route(
        "a-newer",
        gw,
        &["abc.example.com"],
        &[("tls-backend-2", 443)],
    )
    .replace(
        "namespace: gateway-conformance-infra}",
        "namespace: gateway-conformance-infra, creationTimestamp: \"2025-01-01T00:00:00Z\"}",
    );
    let t = run_tls(&format!(
        "{}{older}{newer}",
        gateway(gw, &[("tls", 443, None)])
    ));
    assert_eq!(
        sni_backend(&t, gw, 443, "abc.example.com").as_deref(),
        Some("tls-backend")
    );
}

/// Listener isolation: a name a more specific listener on the port serves belongs to that
/// listener's routes, even when a route on the wider listener is older and lists it too.
#[test]
fn a_more_specific_listener_keeps_its_names() {
    let gw = "isolated";
    let wide = route(
        "wide",
        gw,
        &["abc.example.com", "other.example.com"],
        &[("tls-backend", 443)],
    )
    .replace(
        "parentRefs: [{name: isolated}]",
        "parentRefs: [{name: isolated, sectionName: wildcard}]",
    )
    .replace(
        "namespace: gateway-conformance-infra}",
        "namespace: gateway-conformance-infra, creationTimestamp: \"2024-01-01T00:00:00Z\"}",
    );
    let narrow = route(
        "narrow",
        gw,
        &["abc.example.com"],
        &[("tls-backend-2", 443)],
    )
    .replace(
        "parentRefs: [{name: isolated}]",
        "parentRefs: [{name: isolated, sectionName: abc}]",
    )
    .replace(
        "namespace: gateway-conformance-infra}",
        "namespace: gateway-conformance-infra, creationTimestamp: \"2025-01-01T00:00:00Z\"}",
    );
    let t = run_tls(&format!(
        "{}{wide}{narrow}",
        gateway(
            gw,
            &[
                ("wildcard", 443, Some("*.example.com")),
                ("abc", 443, Some("abc.example.com"))
            ]
        )
    ));
    assert_eq!(
        sni_backend(&t, gw, 443, "abc.example.com").as_deref(),
        Some("tls-backend-2")
    );
    assert_eq!(
        sni_backend(&t, gw, 443, "other.example.com").as_deref(),
        Some("tls-backend")
    );
}

/// A TLS listener that conflicts with an HTTPS one on its port (or a Terminate one) is not
/// served, whatever routes attach to it; a listener with a bad hostname is not either.
#[test]
fn a_listener_that_is_not_valid_serves_no_tls_route() {
    let gw = "conflicted";
    let manifest = format!(
        r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {{name: tls, port: 443, protocol: TLS, tls: {{mode: Passthrough}}, allowedRoutes: {{namespaces: {{from: Same}}}}}}
  - {{name: https, port: 443, protocol: HTTPS, hostname: web.example.com, tls: {{certificateRefs: [{{name: tls-validity-checks-certificate}}]}}}}
  - {{name: passthrough, port: 8443, protocol: TLS, tls: {{mode: Passthrough}}, allowedRoutes: {{namespaces: {{from: Same}}}}}}
  - {{name: terminate, port: 8443, protocol: TLS, hostname: t.example.com, tls: {{mode: Terminate, certificateRefs: [{{name: tls-validity-checks-certificate}}]}}}}
  - {{name: bad-host, port: 9443, protocol: TLS, hostname: "bad host!", tls: {{mode: Passthrough}}, allowedRoutes: {{namespaces: {{from: Same}}}}}}
{}"#,
        route("r", gw, &["abc.example.com"], &[("tls-backend", 443)])
    );
    let t = run_tls(&manifest);
    for (l, reason) in [
        ("tls", "ProtocolConflict"),
        ("passthrough", "ProtocolConflict"),
    ] {
        let ls = listener_status(&t, gw, l);
        assert_condition(&ls.conditions, "Conflicted", "True", Some(reason));
        assert_condition(&ls.conditions, "Programmed", "False", Some("Invalid"));
    }
    for port in [443, 8443, 9443] {
        assert_eq!(sni_backend(&t, gw, port, "abc.example.com"), None, "{port}");
        assert!(
            t.model
                .virtual_services
                .iter()
                .all(|v| v.name != names::passthrough_vs("cluster", INFRA, gw, port))
        );
    }
}

/// A Gateway whose passthrough virtual service's name would be longer than Avi allows (while
/// its parent's would fit) is not programmed, and says why.
#[test]
fn a_passthrough_name_longer_than_avi_allows_is_refused() {
    let gw = "g".repeat(207);
    assert!(names::parent_vs("cluster", INFRA, &gw).len() <= 255);
    assert!(names::passthrough_vs("cluster", INFRA, &gw, 5443).len() > 255);
    let t = run_tls(&format!(
        "{}{}",
        gateway(&gw, &[("db", 5443, None)]),
        route("db", &gw, &["db.example.com"], &[("tls-backend", 443)])
    ));
    let status = gateway_status(&t, &gw);
    let conditions = status.conditions.unwrap();
    assert_condition(&conditions, "Programmed", "False", Some("Invalid"));
    let programmed = conditions.iter().find(|c| c.type_ == "Programmed").unwrap();
    assert!(
        programmed.message.contains("Avi allows 255"),
        "{}",
        programmed.message
    );
    assert!(t.model.virtual_services.iter().all(|v| v.name.len() <= 255));
    assert!(t.model.vs_datascript_sets.is_empty());
}
