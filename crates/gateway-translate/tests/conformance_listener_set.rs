//! The ListenerSet conformance tests (v1.5 standard, feature `ListenerSet`; gateway-api.md §6),
//! each on the suite's base manifests plus the upstream manifest as the suite applies it:
//! Gateway, ListenerSet and listener statuses with their exact reasons, and every request
//! resolved through the model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use gateway_translate::{StatusUpdate, Translation};
use serde_json::Value;
use support::harness::{INFRA, assert_condition, expect, gateway_status, get_host, run};

macro_rules! upstream {
    ($name:literal) => {
        include_str!(concat!("conformance/upstream/", $name, ".yaml"))
            .replace("{GATEWAY_CLASS_NAME}", "avi-lb")
    };
}

/// The status written for ListenerSet `ns/name`.
fn set_status(t: &Translation, ns: &str, name: &str) -> Value {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::Route {
                kind: "ListenerSet",
                key,
                status,
                ..
            } if key.0 == ns && key.1 == name => Some(status.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no status for ListenerSet {ns}/{name}"))
}

fn condition<'a>(conditions: &'a Value, type_: &str) -> (&'a str, &'a str) {
    let c = conditions
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap_or_else(|| panic!("no {type_} in {conditions}"));
    (c["status"].as_str().unwrap(), c["reason"].as_str().unwrap())
}

fn assert_set(
    t: &Translation,
    ns: &str,
    name: &str,
    accepted: (&str, &str),
    programmed: (&str, &str),
) {
    let s = set_status(t, ns, name);
    assert_eq!(
        condition(&s["conditions"], "Accepted"),
        accepted,
        "{name}: {s}"
    );
    assert_eq!(
        condition(&s["conditions"], "Programmed"),
        programmed,
        "{name}: {s}"
    );
}

fn set_listener(t: &Translation, ns: &str, set: &str, listener: &str) -> Value {
    let s = set_status(t, ns, set);
    s["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == listener)
        .cloned()
        .unwrap_or_else(|| panic!("no listener {listener} in {s}"))
}

/// A listener of a ListenerSet with ResolvedRefs, Accepted and Programmed all True.
fn assert_listener_accepted(t: &Translation, ns: &str, set: &str, listener: &str) {
    let l = set_listener(t, ns, set, listener);
    for ty in ["Accepted", "ResolvedRefs", "Programmed"] {
        assert_eq!(
            condition(&l["conditions"], ty).0,
            "True",
            "{listener} {ty}: {l}"
        );
    }
}

fn attached_sets(t: &Translation, gw: &str) -> Option<i32> {
    gateway_status(t, gw).attached_listener_sets
}

const ACCEPTED: (&str, &str) = ("True", "Accepted");
const PROGRAMMED: (&str, &str) = ("True", "Programmed");
const NOT_ALLOWED: (&str, &str) = ("False", "NotAllowed");
const NOT_VALID: (&str, &str) = ("False", "ListenersNotValid");

#[test]
fn listener_set_default_not_allowed() {
    let t = run(&upstream!("listenerset-default-not-allowed"));
    let gw = "gateway-default-does-not-allow-listenerset";
    assert_condition(
        &gateway_status(&t, gw).conditions.unwrap(),
        "Accepted",
        "True",
        Some("Accepted"),
    );
    assert_eq!(attached_sets(&t, gw), Some(0));
    assert_set(
        &t,
        INFRA,
        "listenerset-default-not-allowed",
        NOT_ALLOWED,
        NOT_ALLOWED,
    );
}

#[test]
fn listener_set_allowed_namespace_none() {
    let t = run(&upstream!("listenerset-allowed-namespace-none"));
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&upstream!("listenerset-allowed-namespace-none")).unwrap();
    let gw = docs.iter().find(|d| d["kind"] == "Gateway").unwrap()["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(attached_sets(&t, &gw), Some(0));
    for d in docs.iter().filter(|d| d["kind"] == "ListenerSet") {
        let m = &d["metadata"];
        assert_set(
            &t,
            m["namespace"].as_str().unwrap(),
            m["name"].as_str().unwrap(),
            NOT_ALLOWED,
            NOT_ALLOWED,
        );
    }
}

#[test]
fn listener_set_allowed_namespace_same() {
    let t = run(&upstream!("listenerset-allowed-namespace-same"));
    let gw = "gateway-allows-listenerset-in-same-namespace";
    assert_eq!(attached_sets(&t, gw), Some(1));
    assert_set(
        &t,
        INFRA,
        "listenerset-in-same-namespace",
        ACCEPTED,
        PROGRAMMED,
    );
    assert_listener_accepted(
        &t,
        INFRA,
        "listenerset-in-same-namespace",
        "listenerset-in-same-namespace-listener",
    );
    assert_set(
        &t,
        "gateway-api-listenerset-not-allowed-ns",
        "listenerset-in-different-namespace",
        NOT_ALLOWED,
        NOT_ALLOWED,
    );
}

#[test]
fn listener_set_allowed_namespace_selector() {
    let t = run(&upstream!("listenerset-allowed-namespace-selector"));
    let gw = "gateway-allows-listenerset-in-selected-namespace";
    assert_eq!(attached_sets(&t, gw), Some(1));
    let ns = "gateway-api-listenerset-selector-allowed-ns";
    assert_set(
        &t,
        ns,
        "listenerset-in-selected-namespace",
        ACCEPTED,
        PROGRAMMED,
    );
    assert_listener_accepted(
        &t,
        ns,
        "listenerset-in-selected-namespace",
        "listenerset-in-selected-namespace-listener",
    );
    assert_set(
        &t,
        "gateway-api-listenerset-selector-not-allowed-ns",
        "listenerset-not-in-selected-namespace",
        NOT_ALLOWED,
        NOT_ALLOWED,
    );
}

#[test]
fn listener_set_allowed_routes_supported_kinds() {
    let t = run(&upstream!("listenerset-allowed-routes-supported-kinds"));
    let l = set_listener(
        &t,
        INFRA,
        "listenerset-test-allowed-routes-supported-kinds",
        "listener-set-listener-allowed-routes-tls-only",
    );
    assert_eq!(
        condition(&l["conditions"], "ResolvedRefs"),
        ("False", "InvalidRouteKinds")
    );
    assert_eq!(l["supportedKinds"], serde_json::json!([]));
}

#[test]
fn listener_set_reference_grant() {
    let t = run(&upstream!("listenerset-reference-grant"));
    let gw = "gateway-with-listener-sets-test-reference-grant";
    assert_condition(
        &gateway_status(&t, gw).conditions.unwrap(),
        "Accepted",
        "True",
        Some("Accepted"),
    );
    assert_set(
        &t,
        INFRA,
        "listenerset-with-reference-grant",
        ACCEPTED,
        PROGRAMMED,
    );
    assert_listener_accepted(
        &t,
        INFRA,
        "listenerset-with-reference-grant",
        "listenerset-with-reference-grant-listener",
    );
    let ns = "gateway-api-listener-sets-test-reference-grant-ns";
    let l = set_listener(
        &t,
        ns,
        "listenerset-without-reference-grant",
        "listenerset-without-reference-grant-listener",
    );
    assert_eq!(
        condition(&l["conditions"], "ResolvedRefs"),
        ("False", "RefNotPermitted")
    );
    assert_set(
        &t,
        ns,
        "listenerset-without-reference-grant",
        NOT_VALID,
        NOT_VALID,
    );
    assert_eq!(attached_sets(&t, gw), Some(1));
}

/// The shared shape of the two conflict tests: `reason` on every conflicted listener.
fn assert_conflicts(t: &Translation, gw: &str, prefix: &str, reason: &str) {
    let set = |n: &str| format!("listenerset-with-{prefix}-conflict-with-{n}");
    let conflicted = |s: &str, l: &str| {
        let l = set_listener(t, INFRA, s, l);
        for ty in ["Accepted", "Programmed"] {
            assert_eq!(
                condition(&l["conditions"], ty),
                ("False", reason),
                "{s}/{ty}: {l}"
            );
        }
        assert_eq!(
            condition(&l["conditions"], "Conflicted"),
            ("True", reason),
            "{s}: {l}"
        );
    };
    let s1 = set("gateway-1");
    assert_listener_accepted(t, INFRA, &s1, "listener-set-1-listener");
    conflicted(&s1, &format!("{prefix}-conflict-with-gateway-listener"));
    assert_listener_accepted(
        t,
        INFRA,
        &s1,
        &format!("{prefix}-conflict-with-listener-set-listener"),
    );
    assert_set(t, INFRA, &s1, ACCEPTED, PROGRAMMED);
    conflicted(
        &set("gateway-2"),
        &format!("{prefix}-conflict-with-gateway-listener"),
    );
    assert_set(t, INFRA, &set("gateway-2"), NOT_VALID, NOT_VALID);
    let s3 = set("listener-set-1");
    assert_listener_accepted(t, INFRA, &s3, "listener-set-2-listener");
    conflicted(
        &s3,
        &format!("{prefix}-conflict-with-listener-set-listener"),
    );
    assert_set(t, INFRA, &s3, ACCEPTED, PROGRAMMED);
    conflicted(
        &set("listener-set-2"),
        &format!("{prefix}-conflict-with-listener-set-listener"),
    );
    assert_set(t, INFRA, &set("listener-set-2"), NOT_VALID, NOT_VALID);
    assert_eq!(attached_sets(t, gw), Some(2));
    let s = gateway_status(t, gw);
    for l in s.listeners.unwrap() {
        assert_condition(&l.conditions, "Accepted", "True", Some("Accepted"));
        assert_condition(&l.conditions, "Programmed", "True", Some("Programmed"));
    }
}

#[test]
fn listener_set_hostname_conflict() {
    let t = run(&upstream!("listenerset-hostname-conflict"));
    assert_conflicts(
        &t,
        "gateway-with-listenerset-hostname-conflict",
        "hostname",
        "HostnameConflict",
    );
}

#[test]
fn listener_set_protocol_conflict() {
    let t = run(&upstream!("listenerset-protocol-conflict"));
    assert_conflicts(
        &t,
        "gateway-with-listenerset-protocol-conflict",
        "protocol",
        "ProtocolConflict",
    );
}

/// The route's parent status for `parent` (a Gateway or ListenerSet name).
fn route_parent_conditions(t: &Translation, ns: &str, route: &str, parent: &str) -> Value {
    let s = support::harness::route_status(t, ns, route);
    let p = s
        .parents
        .iter()
        .find(|p| p.parent_ref.name == parent)
        .unwrap_or_else(|| panic!("{route} has no parent {parent}"));
    serde_json::to_value(&p.conditions).unwrap()
}

#[test]
fn listener_set_allowed_routes_namespaces() {
    let text = upstream!("listenerset-allowed-routes-namespaces");
    let t = run(&text);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    // Every route accepted on its ListenerSet parent where its namespace is allowed.
    let sets: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "ListenerSet").collect();
    assert!(!sets.is_empty());
    for s in &sets {
        let m = &s["metadata"];
        let (ns, name) = (
            m["namespace"].as_str().unwrap(),
            m["name"].as_str().unwrap(),
        );
        assert_set(&t, ns, name, ACCEPTED, PROGRAMMED);
        let status = set_status(&t, ns, name);
        let counts: Vec<i64> = status["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["attachedRoutes"].as_i64().unwrap())
            .collect();
        // All, Same, Selector: 3, 1 and 1 routes (the suite's expectation).
        assert_eq!(counts, [3, 1, 1], "{status}");
    }
}

#[test]
fn listener_set_http_routing() {
    let text = upstream!("listenerset-http-routing");
    let t = run(&text);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let gw = docs.iter().find(|d| d["kind"] == "Gateway").unwrap();
    let gw_name = gw["metadata"]["name"].as_str().unwrap();
    for d in docs.iter().filter(|d| d["kind"] == "HTTPRoute") {
        let name = d["metadata"]["name"].as_str().unwrap();
        for p in d["spec"]["parentRefs"].as_array().unwrap() {
            let c = route_parent_conditions(&t, INFRA, name, p["name"].as_str().unwrap());
            assert_eq!(
                condition(&c, "Accepted"),
                ("True", "Accepted"),
                "{name}: {c}"
            );
        }
    }
    // Each path answers on its parents' hosts only.
    let hosts = |kind: &str| -> Vec<String> {
        docs.iter()
            .filter(|d| d["kind"] == kind)
            .flat_map(|d| {
                d["spec"]["listeners"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|l| l["hostname"].as_str().map(str::to_owned))
            .collect()
    };
    let (gw_hosts, set_hosts) = (hosts("Gateway"), hosts("ListenerSet"));
    assert_eq!((gw_hosts.len(), set_hosts.len()), (2, 4));
    for h in &gw_hosts {
        expect(
            &t,
            gw_name,
            &[(get_host(h, "/gateway-route"), Some("infra-backend-v2"))],
        );
        expect(
            &t,
            gw_name,
            &[(get_host(h, "/route"), Some("infra-backend-v1"))],
        );
    }
    for h in &set_hosts {
        expect(
            &t,
            gw_name,
            &[
                (get_host(h, "/gateway-route"), None),
                (get_host(h, "/route"), Some("infra-backend-v1")),
            ],
        );
    }
    // `/gateway-section-route` only on the Gateway's first listener.
    expect(
        &t,
        gw_name,
        &[
            (
                get_host(&gw_hosts[0], "/gateway-section-route"),
                Some("infra-backend-v3"),
            ),
            (get_host(&gw_hosts[1], "/gateway-section-route"), None),
        ],
    );
}

/// A Gateway, and a ListenerSet `extra` in the same namespace with `listeners` (YAML flow
/// entries); the Gateway allows Same and has `own` listeners.
fn gateway_and_set(gw: &str, own: &str, listeners: &str) -> String {
    format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  allowedListeners: {{namespaces: {{from: Same}}}}
  listeners: [{own}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {{name: extra, namespace: gateway-conformance-infra}}
spec:
  parentRef: {{name: {gw}}}
  listeners: [{listeners}]
"#
    )
}

/// A route on a Gateway listener (a.com:80) and a ListenerSet listener (b.com:8080) answers
/// each host on its own listener's port only.
#[test]
fn a_host_is_served_on_its_own_listeners_port_only() {
    let gw = "two-ports";
    let t = run(&format!(
        "{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: both, namespace: gateway-conformance-infra}}\nspec:\n  parentRefs: [{{name: {gw}}}, {{kind: ListenerSet, name: extra}}]\n  hostnames: [a.example.com, b.example.com]\n  rules: [{{backendRefs: [{{name: infra-backend-v1, port: 8080}}]}}]\n",
        gateway_and_set(
            gw,
            "{name: a, port: 80, protocol: HTTP, hostname: a.example.com}",
            "{name: b, port: 8080, protocol: HTTP, hostname: b.example.com}"
        )
    ));
    use support::resolve::Request;
    expect(
        &t,
        gw,
        &[
            (
                Request::get(80, "a.example.com", "/"),
                Some("infra-backend-v1"),
            ),
            (
                Request::get(8080, "b.example.com", "/"),
                Some("infra-backend-v1"),
            ),
            (Request::get(8080, "a.example.com", "/"), None),
            (Request::get(80, "b.example.com", "/"), None),
        ],
    );
}

/// A ListenerSet of a Gateway that is not accepted is not either; one beyond the API's 64
/// listeners is refused whole; a ListenerSet never takes the place of the Gateway's own
/// conflicting listeners.
#[test]
fn a_listener_set_follows_its_gateway_and_its_limits() {
    let t = run(&gateway_and_set(
        "unaccepted",
        "{name: udp, port: 53, protocol: UDP}",
        "{name: web, port: 80, protocol: HTTP}",
    ));
    assert_set(
        &t,
        INFRA,
        "extra",
        ("False", "ParentNotAccepted"),
        ("False", "ParentNotProgrammed"),
    );
    assert!(
        t.model
            .virtual_services
            .iter()
            .all(|v| !v.name.contains("unaccepted"))
    );

    let many: Vec<String> = (0..65)
        .map(|i| format!("{{name: l{i}, port: {}, protocol: HTTP}}", 10_000 + i))
        .collect();
    let t = run(&gateway_and_set(
        "big",
        "{name: web, port: 80, protocol: HTTP}",
        &many.join(", "),
    ));
    assert_set(
        &t,
        INFRA,
        "extra",
        ("False", "Invalid"),
        ("False", "Invalid"),
    );
    let vs = t
        .model
        .virtual_services
        .iter()
        .find(|v| v.name.contains("-big-EVH"))
        .unwrap();
    assert_eq!(vs.services.len(), 1);

    let t = run(&gateway_and_set(
        "self-conflicted",
        "{name: a, port: 80, protocol: HTTP, hostname: x.example.com}, {name: b, port: 80, protocol: HTTP, hostname: x.example.com}, {name: other, port: 81, protocol: HTTP}",
        "{name: c, port: 80, protocol: HTTP, hostname: x.example.com}",
    ));
    let l = set_listener(&t, INFRA, "extra", "c");
    assert_eq!(
        condition(&l["conditions"], "Conflicted"),
        ("True", "HostnameConflict")
    );
}

/// A Gateway takes at most 64 ListenerSets; the later ones are refused whole. A hostile
/// hostname reaches a conflict message escaped.
#[test]
fn a_gateway_takes_a_bounded_number_of_listener_sets() {
    let mut manifest = gateway_and_set(
        "crowded",
        "{name: web, port: 80, protocol: HTTP}",
        "{name: s, port: 1000, protocol: HTTP}",
    );
    for i in 1..=64 {
        manifest.push_str(&format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\nmetadata: {{name: extra-{i:02}, namespace: gateway-conformance-infra}}\nspec:\n  parentRef: {{name: crowded}}\n  listeners: [{{name: s, port: {}, protocol: HTTP}}]\n",
            1000 + i
        ));
    }
    let t = run(&manifest);
    // `extra` sorts first, then extra-01 … extra-63 are taken; extra-64 is the 65th.
    assert_set(&t, INFRA, "extra-63", ACCEPTED, PROGRAMMED);
    assert_set(
        &t,
        INFRA,
        "extra-64",
        ("False", "Invalid"),
        ("False", "Invalid"),
    );
    assert_eq!(attached_sets(&t, "crowded"), Some(64));

    let t = run(&gateway_and_set(
        "hostile",
        "{name: a, port: 80, protocol: HTTP, hostname: \"x\\u001b[2J.example.com\"}, {name: ok, port: 81, protocol: HTTP}",
        "{name: b, port: 80, protocol: HTTP, hostname: \"x\\u001b[2J.example.com\"}",
    ));
    let l = set_listener(&t, INFRA, "extra", "b");
    let c = l["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Conflicted")
        .unwrap()
        .clone();
    let message = c["message"].as_str().unwrap();
    assert!(message.contains("x\\u{1b}[2J"), "{message}");
    assert!(!message.contains('\u{1b}'), "{message}");
}
