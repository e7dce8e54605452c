//! The GRPCRoute conformance tests (GATEWAY-GRPC profile, v1.5.1), each against the suite's
//! base manifests: the route's status, and every call resolved through the produced Avi model
//! as the HTTP/2 POST to `/<service>/<method>` it is. "Unimplemented" is the 404 grpc-go reads
//! as that code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use gateway_translate::{StatusUpdate, Translation};
use support::harness::{INFRA, assert_condition, expect, run};
use support::resolve::Request;

const SERVICE: &str = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho";
const V1: Option<&str> = Some("grpc-infra-backend-v1");
const V2: Option<&str> = Some("grpc-infra-backend-v2");
const V3: Option<&str> = Some("grpc-infra-backend-v3");

/// A unary call of `method` on the echo service to `authority`, port 80.
fn call(authority: &str, method: &str) -> Request {
    Request::get(80, authority, &format!("/{SERVICE}/{method}"))
        .method("POST")
        .header("content-type", "application/grpc")
}

/// The status of GRPCRoute `name` in the infra namespace.
fn grpc_status(t: &Translation, name: &str) -> gateway_api::grpcroutes::GrpcRouteStatus {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::Route {
                kind: "GRPCRoute",
                key,
                status,
                ..
            } if key.0 == INFRA && key.1 == name => {
                Some(serde_json::from_value(status.clone()).unwrap())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no status for GRPCRoute {name}"))
}

/// Every parent of GRPCRoute `name` Accepted and ResolvedRefs; the number of parents.
fn assert_grpc_accepted(t: &Translation, name: &str, parents: usize) {
    let status = grpc_status(t, name);
    assert_eq!(status.parents.len(), parents, "{status:?}");
    for p in &status.parents {
        assert_condition(&p.conditions, "Accepted", "True", Some("Accepted"));
        assert_condition(&p.conditions, "ResolvedRefs", "True", Some("ResolvedRefs"));
        assert_eq!(p.controller_name, "ako.vmware.com/avi-lb");
    }
}

#[test]
fn grpc_exact_method_matching() {
    let t = run(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: exact-matching, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - matches: [{{method: {{service: {SERVICE}, method: Echo}}}}]
    backendRefs: [{{name: grpc-infra-backend-v1, port: 8080}}]
  - matches: [{{method: {{service: {SERVICE}, method: EchoTwo}}}}]
    backendRefs: [{{name: grpc-infra-backend-v2, port: 8080}}]
"#
    ));
    assert_grpc_accepted(&t, "exact-matching", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (call("example.com", "Echo"), V1),
            (call("example.com", "EchoTwo"), V2),
            (call("example.com", "EchoThree"), None),
        ],
    );
    // The pools speak HTTP/2 to the backends, the listener's port to the clients.
    for pool in t
        .model
        .pools
        .iter()
        .filter(|p| p.markers.iter().any(|m| m.key == "GRPCRouteName"))
    {
        assert_eq!(pool.enable_http2, Some(true), "{}", pool.name);
    }
    let parent = support::harness::parent("same-namespace");
    let vs = t
        .model
        .virtual_services
        .iter()
        .find(|v| v.name == parent)
        .unwrap();
    assert!(
        vs.services
            .iter()
            .any(|s| s.port == 80 && s.enable_http2 == Some(true)),
        "{:?}",
        vs.services
    );
}

#[test]
fn grpc_route_header_matching() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc-header-matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{headers: [{name: version, value: one}]}]
    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [{name: grpc-infra-backend-v2, port: 8080}]
  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]
    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]
    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]
    backendRefs: [{name: grpc-infra-backend-v2, port: 8080}]
"#);
    assert_grpc_accepted(&t, "grpc-header-matching", 1);
    let with = |headers: &[(&str, &str)]| {
        headers
            .iter()
            .fold(call("example.com", "Echo"), |r, (n, v)| r.header(n, v))
    };
    expect(
        &t,
        "same-namespace",
        &[
            (with(&[("version", "one")]), V1),
            (with(&[("version", "two")]), V2),
            (with(&[("version", "two"), ("color", "orange")]), V1),
            (with(&[("version", "two"), ("color", "blue")]), V2),
            (with(&[("color", "blue")]), V1),
            (with(&[("color", "green")]), V1),
            (with(&[("color", "red")]), V2),
            (with(&[("color", "yellow")]), V2),
            (with(&[("color", "orange")]), None),
            (with(&[("color", "purple")]), None),
            (with(&[("some-other-header", "one")]), None),
        ],
    );
}

#[test]
fn grpc_route_listener_hostname_matching() {
    let listener = |n: u8, host: &str| {
        format!(
            "  - {{name: listener-{n}, port: 80, protocol: HTTP, hostname: \"{host}\", allowedRoutes: {{namespaces: {{from: Same}}}}}}\n"
        )
    };
    let route = |name: &str, sections: &[u8], backend: &str| {
        let refs: Vec<String> = sections
            .iter()
            .map(|s| {
                format!(
                    "{{name: grpcroute-listener-hostname-matching, namespace: gateway-conformance-infra, sectionName: listener-{s}}}"
                )
            })
            .collect();
        format!(
            r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: {name}, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{}]
  rules:
  - backendRefs: [{{name: {backend}, port: 8080}}]
"#,
            refs.join(", ")
        )
    };
    let t = run(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: grpcroute-listener-hostname-matching, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
{}{}{}{}{}{}{}"#,
        listener(1, "bar.com"),
        listener(2, "foo.bar.com"),
        listener(3, "*.bar.com"),
        listener(4, "*.foo.com"),
        route("backend-v1", &[1], "grpc-infra-backend-v1"),
        route("backend-v2", &[2], "grpc-infra-backend-v2"),
        route("backend-v3", &[3, 4], "grpc-infra-backend-v3"),
    ));
    assert_grpc_accepted(&t, "backend-v1", 1);
    assert_grpc_accepted(&t, "backend-v2", 1);
    assert_grpc_accepted(&t, "backend-v3", 2);
    let gw = "grpcroute-listener-hostname-matching";
    expect(
        &t,
        gw,
        &[
            (call("bar.com", "Echo"), V1),
            (call("foo.bar.com", "Echo"), V2),
            (call("baz.bar.com", "Echo"), V3),
            (call("boo.bar.com", "Echo"), V3),
            (call("multiple.prefixes.bar.com", "Echo"), V3),
            (call("multiple.prefixes.foo.com", "Echo"), V3),
            (call("foo.com", "Echo"), None),
            (call("no.matching.host", "Echo"), None),
        ],
    );
}

#[test]
fn grpc_route_weight() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: weighted-backends, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs:
    - {name: grpc-infra-backend-v1, port: 8080, weight: 70}
    - {name: grpc-infra-backend-v2, port: 8080, weight: 30}
    - {name: grpc-infra-backend-v3, port: 8080, weight: 0}
"#);
    assert_grpc_accepted(&t, "weighted-backends", 1);
    let out = support::harness::send(&t, "same-namespace", &call("example.com", "Echo"));
    let support::resolve::Outcome::Forward { shares, .. } = out else {
        panic!("{out:?}");
    };
    let shares: Vec<(String, u32)> = shares.into_iter().map(|s| (s.backend, s.ratio)).collect();
    // 70/30 as Avi ratios (within Avi's 0-1000, kept as they are); weight 0 is never chosen.
    assert_eq!(
        shares,
        [
            (format!("{INFRA}/grpc-infra-backend-v1"), 70),
            (format!("{INFRA}/grpc-infra-backend-v2"), 30),
        ]
    );
}

#[test]
fn grpc_route_named_rule() {
    let t = run(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: grpc-named-rules, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - name: named-rule
    matches: [{{method: {{service: {SERVICE}, method: Echo}}}}]
    backendRefs: [{{name: grpc-infra-backend-v1, port: 8080}}]
  - matches: [{{method: {{service: {SERVICE}, method: EchoTwo}}}}]
    backendRefs: [{{name: grpc-infra-backend-v2, port: 8080}}]
"#
    ));
    assert_grpc_accepted(&t, "grpc-named-rules", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (call("example.com", "Echo"), V1),
            (call("example.com", "EchoTwo"), V2),
        ],
    );
}

/// A GRPCRoute and an HTTPRoute of the same name on one Gateway keep apart: their children,
/// pools and statuses are their own.
#[test]
fn a_grpc_route_and_an_http_route_of_the_same_name_do_not_collide() {
    let t = run(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: twin, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{{method: {{service: {SERVICE}, method: Echo}}}}]
    backendRefs: [{{name: grpc-infra-backend-v1, port: 8080}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: twin, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  hostnames: [web.example.com]
  rules:
  - matches: [{{path: {{type: Exact, value: /{SERVICE}/Echo}}}}]
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
"#
    ));
    assert_grpc_accepted(&t, "twin", 1);
    support::harness::assert_accepted(&t, INFRA, "twin", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (call("grpc.example.com", "Echo"), V1),
            (call("web.example.com", "Echo"), Some("infra-backend-v1")),
        ],
    );
}

#[test]
fn a_method_match_without_service_or_method_is_refused() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: empty-method, namespace: gateway-conformance-infra, generation: 2}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{method: {type: Exact}}]
    backendRefs: [{name: grpc-infra-backend-v1, port: 8080}]
"#);
    let status = grpc_status(&t, "empty-method");
    assert_eq!(status.parents.len(), 1);
    let c = &status.parents[0].conditions;
    assert_condition(c, "Accepted", "False", Some("UnsupportedValue"));
    assert!(
        c.iter()
            .any(|c| c.message.contains("needs a service or a method"))
    );
    assert!(c.iter().all(|c| c.observed_generation == Some(2)));
}

/// A GRPCRoute's backend in another namespace needs a ReferenceGrant from kind GRPCRoute; one
/// from kind HTTPRoute does not let it through.
#[test]
fn a_grpc_backend_in_another_namespace_needs_a_grant_from_grpc_routes() {
    let manifest = |from_kind: &str| {
        format!(
            r#"
apiVersion: v1
kind: Service
metadata: {{name: grpc-app, namespace: gateway-conformance-app-backend}}
spec: {{ports: [{{port: 8080, targetPort: 3000, appProtocol: kubernetes.io/h2c}}]}}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: grant, namespace: gateway-conformance-app-backend}}
spec:
  from: [{{group: gateway.networking.k8s.io, kind: {from_kind}, namespace: gateway-conformance-infra}}]
  to: [{{group: "", kind: Service}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: cross, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - backendRefs: [{{name: grpc-app, namespace: gateway-conformance-app-backend, port: 8080}}]
"#
        )
    };
    let t = run(&manifest("HTTPRoute"));
    let status = grpc_status(&t, "cross");
    assert_condition(
        &status.parents[0].conditions,
        "ResolvedRefs",
        "False",
        Some("RefNotPermitted"),
    );
    let t = run(&manifest("GRPCRoute"));
    let status = grpc_status(&t, "cross");
    assert_condition(
        &status.parents[0].conditions,
        "ResolvedRefs",
        "True",
        Some("ResolvedRefs"),
    );
}
