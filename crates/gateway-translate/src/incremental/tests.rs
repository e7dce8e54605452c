use serde_json::{Value, json};

use super::*;
use crate::settings::IstioRefs;

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap())
}

fn add(s: &mut Snapshot, v: Value) {
    s.insert_json(v).unwrap();
}

fn slice(ns: &str, svc: &str, ips: &[&str], pods: bool) -> Value {
    let endpoints: Vec<Value> = ips
        .iter()
        .enumerate()
        .map(|(i, ip)| {
            let mut e = json!({"addresses": [ip], "conditions": {"ready": true}});
            if pods {
                e["targetRef"] =
                    json!({"kind": "Pod", "name": format!("{svc}-{i}"), "namespace": ns});
            }
            e
        })
        .collect();
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": format!("{svc}-x"), "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
        "ports": [{"name": "http", "port": 8080}], "endpoints": endpoints})
}

fn scenario() -> Snapshot {
    let mut s = Snapshot::default();
    add(
        &mut s,
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "avi-lb"}, "spec": {"controllerName": "ako.vmware.com/avi-lb"}}),
    );
    add(
        &mut s,
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "gw", "namespace": "apps"},
        "spec": {"gatewayClassName": "avi-lb", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}),
    );
    for svc in ["web", "api"] {
        add(
            &mut s,
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": svc, "namespace": "apps"},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
        );
        add(&mut s, slice("apps", svc, &["10.0.0.1", "10.0.0.2"], false));
    }
    add(
        &mut s,
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": "apps"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/web"}}], "backendRefs": [{"name": "web", "port": 80}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": [{"name": "api", "port": 80}]}]}}),
    );
    s
}

#[test]
fn an_endpoint_change_moves_only_that_services_pools() {
    let mut s = scenario();
    let mut inc = Incremental::new(&s, Settings::default(), &now());
    add(
        &mut s,
        slice("apps", "web", &["10.0.0.1", "10.0.0.9"], false),
    );
    let update = inc.endpoints_changed(&s, "apps", "web", &now());
    let Update::Pools(changed) = update else {
        panic!("{update:?}")
    };
    assert_eq!(changed.len(), 1);
    let full = translate(&s, &Settings::default(), &now());
    assert_eq!(inc.translation().model, full.model);

    // The same slices again: nothing changes.
    assert_eq!(
        inc.endpoints_changed(&s, "apps", "web", &now()),
        Update::Pools(Vec::new())
    );
    // A Service no route uses.
    assert_eq!(
        inc.endpoints_changed(&s, "apps", "nobody", &now()),
        Update::Pools(Vec::new())
    );
}

#[test]
fn a_deleted_service_or_a_mesh_change_falls_back_to_a_full_translation() {
    let mut s = scenario();
    let mut inc = Incremental::new(&s, Settings::default(), &now());
    s.services.remove(&("apps".to_owned(), "api".to_owned()));
    assert_eq!(
        inc.endpoints_changed(&s, "apps", "api", &now()),
        Update::Full
    );
    assert_eq!(
        inc.translation().model,
        translate(&s, &Settings::default(), &now()).model
    );

    // Istio on: the web pods gain sidecars, so the web pool needs mTLS.
    let istio = Settings {
        istio_enabled: true,
        istio_refs: Some(IstioRefs::for_cluster("cluster", "avi-system")),
        ..Settings::default()
    };
    let mut s = scenario();
    add(&mut s, slice("apps", "web", &["10.0.0.1"], true));
    add(
        &mut s,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "apps"}}),
    );
    let mut inc = Incremental::new(&s, istio.clone(), &now());
    add(
        &mut s,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "apps",
            "annotations": {"sidecar.istio.io/status": "{}"}}}),
    );
    assert_eq!(
        inc.endpoints_changed(&s, "apps", "web", &now()),
        Update::Full
    );
    let full = translate(&s, &istio, &now());
    assert_eq!(inc.translation().model, full.model);
    assert!(
        full.model
            .pools
            .iter()
            .any(|p| p.ssl_key_and_certificate_ref.is_some())
    );
}
