use serde_json::{Value, json};

use super::*;

fn snap(service: Value, slices: &[Value], nodes: &[(&str, &str)]) -> SharedInputs {
    let mut s = SharedInputs::default();
    let svc: Service = serde_json::from_value(service).unwrap();
    s.services.insert(("apps".into(), "web".into()), svc.into());
    for (i, sl) in slices.iter().enumerate() {
        s.endpoint_slices.insert(
            ("apps".into(), format!("web-{i}")),
            serde_json::from_value(sl.clone()).unwrap(),
        );
    }
    for (name, ip) in nodes {
        let n = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}]}})).unwrap();
        s.nodes.insert((*name).into(), n);
    }
    s
}

fn service(ports: Value, policy: Option<&str>) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "apps"},
           "spec": {"ports": ports, "externalTrafficPolicy": policy}})
}

fn slice(ports: Value, endpoints: Value) -> Value {
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
           "metadata": {"name": "x", "namespace": "apps", "labels": {"kubernetes.io/service-name": "web"}},
           "ports": ports, "endpoints": endpoints})
}

fn ips(m: &[Member]) -> Vec<(String, i32)> {
    m.iter().map(|m| (m.ip.clone(), m.port)).collect()
}

#[test]
fn cluster_ip_uses_ready_endpoints_and_the_named_target_port() {
    let s = snap(
        service(
            json!([{"name": "http", "port": 80, "targetPort": "web"}, {"name": "admin", "port": 9000}]),
            None,
        ),
        &[slice(
            json!([{"name": "http", "port": 8080}, {"name": "admin", "port": 9090}]),
            json!([
                {"addresses": ["10.0.0.2"], "conditions": {"ready": true}},
                {"addresses": ["10.0.0.1"]},
                {"addresses": ["10.0.0.3"], "conditions": {"ready": false}},
                {"addresses": ["10.0.0.4"], "conditions": {"ready": true, "terminating": true}}
            ]),
        )],
        &[],
    );
    let m = members(&s, "apps", "web", 80, ServiceType::ClusterIP).unwrap();
    assert_eq!(
        ips(&m),
        [("10.0.0.1".to_owned(), 8080), ("10.0.0.2".to_owned(), 8080)]
    );
    let m = members(&s, "apps", "web", 9000, ServiceType::ClusterIP).unwrap();
    assert_eq!(
        ips(&m),
        [("10.0.0.1".to_owned(), 9090), ("10.0.0.2".to_owned(), 9090)]
    );
}

#[test]
fn selectorless_service_with_hand_made_slices_and_unnamed_port() {
    let s = snap(
        service(json!([{"port": 80}]), None),
        &[slice(
            json!([{"port": 8000}]),
            json!([{"addresses": ["192.168.1.5"]}]),
        )],
        &[],
    );
    assert_eq!(
        ips(&members(&s, "apps", "web", 80, ServiceType::ClusterIP).unwrap()),
        [("192.168.1.5".to_owned(), 8000)]
    );
}

#[test]
fn missing_service_or_port_is_backend_not_found() {
    let s = snap(service(json!([{"port": 80}]), None), &[], &[]);
    assert_eq!(
        members(&s, "apps", "nope", 80, ServiceType::ClusterIP)
            .unwrap_err()
            .reason,
        "BackendNotFound"
    );
    assert_eq!(
        members(&s, "apps", "web", 81, ServiceType::ClusterIP)
            .unwrap_err()
            .reason,
        "BackendNotFound"
    );
}

#[test]
fn node_port_uses_every_node_or_only_local_ones() {
    let eps = json!([{"addresses": ["10.0.0.1"], "nodeName": "n2"}, {"addresses": ["10.0.0.9"], "nodeName": "n3", "conditions": {"ready": false}}]);
    let nodes = [
        ("n1", "172.16.0.1"),
        ("n2", "172.16.0.2"),
        ("n3", "172.16.0.3"),
    ];
    let cluster = snap(
        service(json!([{"port": 80, "nodePort": 30080}]), Some("Cluster")),
        &[slice(json!([{"port": 8080}]), eps.clone())],
        &nodes,
    );
    assert_eq!(
        members(&cluster, "apps", "web", 80, ServiceType::NodePort)
            .unwrap()
            .len(),
        3
    );
    let local = snap(
        service(json!([{"port": 80, "nodePort": 30080}]), Some("Local")),
        &[slice(json!([{"port": 8080}]), eps)],
        &nodes,
    );
    assert_eq!(
        ips(&members(&local, "apps", "web", 80, ServiceType::NodePort).unwrap()),
        [("172.16.0.2".to_owned(), 30080)]
    );
    let no_node_port = snap(service(json!([{"port": 80}]), None), &[], &nodes);
    assert_eq!(
        members(&no_node_port, "apps", "web", 80, ServiceType::NodePort)
            .unwrap_err()
            .reason,
        "BackendNotFound"
    );
}
