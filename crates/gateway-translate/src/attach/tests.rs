use serde_json::{Value, json};

use super::*;
use crate::listeners::evaluate;

fn snapshot(gateway_listeners: Value, namespaces: &[(&str, Value)]) -> Snapshot {
    let mut s = Snapshot::default();
    let class = serde_json::from_value(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "avi-lb"}, "spec": {"controllerName": "ako.vmware.com/avi-lb"}}),
    )
    .unwrap();
    s.gateway_classes.insert("avi-lb".into(), class);
    let other = serde_json::from_value(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "other"}, "spec": {"controllerName": "example.com/other"}}),
    )
    .unwrap();
    s.gateway_classes.insert("other".into(), other);
    for (name, class) in [("gw", "avi-lb"), ("foreign", "other")] {
        let gw = serde_json::from_value(
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": "infra", "generation": 1},
            "spec": {"gatewayClassName": class, "listeners": gateway_listeners}}),
        )
        .unwrap();
        s.gateways.insert(("infra".into(), name.into()), gw);
    }
    for (name, labels) in namespaces {
        let ns = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})).unwrap();
        s.namespaces.insert((*name).into(), ns);
    }
    s
}

fn route(ns: &str, parents: Value, hostnames: Value) -> HttpRoute {
    serde_json::from_value(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": ns, "generation": 1},
        "spec": {"parentRefs": parents, "hostnames": hostnames, "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}})).unwrap()
}

fn run(s: &Snapshot, r: &HttpRoute) -> Vec<ParentAttachment> {
    let listeners = s
        .gateways
        .iter()
        .map(|(k, g)| (k.clone(), evaluate(g, s)))
        .collect();
    attach(r, s, &Settings::default(), &listeners)
}

fn reason(a: &ParentAttachment) -> &'static str {
    match &a.result {
        Ok(_) => "Accepted",
        Err(p) => p.reason,
    }
}

#[test]
fn defaults_same_namespace_and_other_controllers_are_skipped() {
    let s = snapshot(
        json!([{"name": "http", "port": 80, "protocol": "HTTP"}]),
        &[],
    );
    let r = route(
        "infra",
        json!([{"name": "gw"}, {"name": "foreign"}]),
        json!([]),
    );
    let out = run(&s, &r);
    assert_eq!(
        out.len(),
        1,
        "the foreign Gateway's parentRef gets no status from us"
    );
    assert_eq!(reason(&out[0]), "Accepted");
    assert_eq!(out[0].parent.kind, "Gateway");
    assert_eq!(out[0].parent.namespace, "infra");
    // From another namespace with allowedRoutes defaulted to Same: not allowed.
    let r = route(
        "apps",
        json!([{"name": "gw", "namespace": "infra"}]),
        json!([]),
    );
    assert_eq!(reason(&run(&s, &r)[0]), "NotAllowedByListeners");
}

#[test]
fn section_name_and_port_select_listeners() {
    let s = snapshot(
        json!([{"name": "a", "port": 80, "protocol": "HTTP"}, {"name": "b", "port": 8080, "protocol": "HTTP"}]),
        &[],
    );
    let attached = |parents: Value| match &run(&s, &route("infra", parents, json!([])))[0].result {
        Ok(a) => a.iter().map(|x| x.listener).collect::<Vec<_>>(),
        Err(p) => panic!("{p:?}"),
    };
    assert_eq!(attached(json!([{"name": "gw"}])), [0, 1]);
    assert_eq!(attached(json!([{"name": "gw", "sectionName": "b"}])), [1]);
    assert_eq!(attached(json!([{"name": "gw", "port": 80}])), [0]);
    let r = route(
        "infra",
        json!([{"name": "gw", "sectionName": "a", "port": 8080}]),
        json!([]),
    );
    assert_eq!(reason(&run(&s, &r)[0]), "NoMatchingParent");
}

#[test]
fn all_and_selector_namespaces() {
    let s = snapshot(
        json!([
            {"name": "all", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}},
            {"name": "sel", "port": 8080, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "Selector",
                "selector": {"matchLabels": {"gateway-conformance": "backend"}}}}}
        ]),
        &[
            ("apps", json!({"gateway-conformance": "backend"})),
            ("other", json!({})),
        ],
    );
    let listeners_of = |ns: &str| match &run(
        &s,
        &route(ns, json!([{"name": "gw", "namespace": "infra"}]), json!([])),
    )[0]
    .result
    {
        Ok(a) => a.iter().map(|x| x.listener).collect::<Vec<_>>(),
        Err(p) => panic!("{p:?}"),
    };
    assert_eq!(listeners_of("apps"), [0, 1]);
    assert_eq!(listeners_of("other"), [0]);
}

#[test]
fn hostnames_must_intersect() {
    let s = snapshot(
        json!([{"name": "a", "port": 80, "protocol": "HTTP", "hostname": "*.example.com"}]),
        &[],
    );
    let r = route(
        "infra",
        json!([{"name": "gw"}]),
        json!(["foo.example.com", "bar.example.net"]),
    );
    match &run(&s, &r)[0].result {
        Ok(a) => assert_eq!(
            a[0].hostnames
                .hostnames()
                .iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>(),
            ["foo.example.com"]
        ),
        Err(p) => panic!("{p:?}"),
    }
    let r = route("infra", json!([{"name": "gw"}]), json!(["example.net"]));
    assert_eq!(reason(&run(&s, &r)[0]), "NoMatchingListenerHostname");
}

#[test]
fn kinds_gate_attachment_and_counts_follow_attachments() {
    let s = snapshot(
        json!([{"name": "http", "port": 80, "protocol": "HTTP"},
               {"name": "https", "port": 443, "protocol": "HTTPS", "tls": {"certificateRefs": [{"name": "missing"}]}},
               {"name": "grpc-only", "port": 81, "protocol": "HTTP", "allowedRoutes": {"kinds": [{"kind": "GRPCRoute"}]}}]),
        &[],
    );
    let r = route("infra", json!([{"name": "gw"}]), json!([]));
    let out = run(&s, &r);
    let Ok(a) = &out[0].result else { panic!() };
    // The HTTPS listener with a missing Secret still takes the route (GatewayInvalidTLSConfiguration
    // counts it); the GRPCRoute-only listener does not.
    assert_eq!(a.iter().map(|x| x.listener).collect::<Vec<_>>(), [0, 1]);
    let counts = attached_counts(&[(("infra".into(), "r".into()), out)]);
    let gw: ObjectKey = ("infra".into(), "gw".into());
    assert_eq!(counts.get(&(gw.clone(), 0)), Some(&1));
    assert_eq!(counts.get(&(gw.clone(), 1)), Some(&1));
    assert_eq!(counts.get(&(gw, 2)), None);
}

#[test]
fn a_status_entry_is_matched_to_its_parent_ref_by_every_field() {
    use gateway_api::httproutes::HttpRouteStatusParentsParentRef as Written;
    let gw = ParentRef {
        group: GATEWAY_GROUP.into(),
        kind: "Gateway".into(),
        namespace: "ns".into(),
        name: "shared".into(),
        section_name: Some("http".into()),
        port: None,
        via: None,
    };
    let written = |kind: Option<&str>, section: Option<&str>| Written {
        group: Some(GATEWAY_GROUP.into()),
        kind: kind.map(Into::into),
        name: "shared".into(),
        namespace: Some("ns".into()),
        port: None,
        section_name: section.map(Into::into),
    };
    assert!(gw.written_as(&written(Some("Gateway"), Some("http"))));
    assert!(gw.written_as(&written(None, Some("http"))));
    // A ListenerSet of the same name, or another listener of the Gateway, is another parent.
    assert!(!gw.written_as(&written(Some("ListenerSet"), Some("http"))));
    assert!(!gw.written_as(&written(Some("Gateway"), Some("https"))));
    assert!(!gw.written_as(&written(Some("Gateway"), None)));
}
