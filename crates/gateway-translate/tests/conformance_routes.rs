//! The HTTPRoute core conformance tests (gateway-api.md §6.4), each against the suite's base
//! manifests: the statuses it asserts, and every request it sends resolved through the produced
//! Avi model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::harness::{
    APP, INFRA, WEB, assert_accepted, assert_condition, assert_generation, expect, expect_status,
    forwarded, get, get_host, header, listener_status, route_parent, route_status, run, send,
    snapshot, store_statuses, translate_snapshot,
};
use support::resolve::{Outcome, Request};

const V1: Option<&str> = Some("infra-backend-v1");
const V2: Option<&str> = Some("infra-backend-v2");
const V3: Option<&str> = Some("infra-backend-v3");

#[test]
fn http_route_simple_same_namespace() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gateway-conformance-infra-test, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "gateway-conformance-infra-test", 1);
    expect(&t, "same-namespace", &[(get("/"), V1)]);
}

#[test]
fn http_route_cross_namespace() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cross-namespace, namespace: gateway-conformance-web-backend}
spec:
  parentRefs: [{name: backend-namespaces, namespace: gateway-conformance-infra}]
  rules:
  - backendRefs: [{name: web-backend, port: 8080}]
"#);
    assert_accepted(&t, WEB, "cross-namespace", 1);
    let p = route_parent(&t, WEB, "cross-namespace", "backend-namespaces");
    assert_eq!(p.parent_ref.namespace.as_deref(), Some(INFRA));
    expect(
        &t,
        "backend-namespaces",
        &[(
            get("/"),
            Some("gateway-conformance-web-backend/web-backend"),
        )],
    );
}

#[test]
fn http_route_hostname_intersection() {
    let route = |name: &str, gw: &str, hostnames: &str, prefix: Option<&str>, backend: &str| {
        let matches = prefix.map_or(String::new(), |p| {
            format!("\n  - matches: [{{path: {{type: PathPrefix, value: {p}}}}}]")
        });
        let dash = if prefix.is_some() { "   " } else { "  -" };
        format!(
            r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}, namespace: gateway-conformance-infra}}]
  hostnames: {hostnames}
  rules:{matches}
{dash} backendRefs: [{{name: {backend}, port: 8080}}]
"#
        )
    };
    let gw = "httproute-hostname-intersection";
    let gw_all = "httproute-hostname-intersection-all";
    let manifests = [
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {{name: listener-1, port: 80, protocol: HTTP, hostname: very.specific.com, allowedRoutes: {{namespaces: {{from: Same}}}}}}
  - {{name: listener-2, port: 80, protocol: HTTP, hostname: "*.wildcard.io", allowedRoutes: {{namespaces: {{from: Same}}}}}}
  - {{name: listener-3, port: 80, protocol: HTTP, hostname: "*.anotherwildcard.io", allowedRoutes: {{namespaces: {{from: Same}}}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw_all}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {{name: listener-1, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: Same}}}}}}
"#
        ),
        route(
            "specific-host-matches-listener-specific-host",
            gw,
            r#"[non.matching.com, "*.nonmatchingwildcard.io", very.specific.com]"#,
            Some("/s1"),
            "infra-backend-v1",
        ),
        route(
            "specific-host-matches-listener-wildcard-host",
            gw,
            "[non.matching.com, wildcard.io, foo.wildcard.io, bar.wildcard.io, foo.bar.wildcard.io]",
            Some("/s2"),
            "infra-backend-v2",
        ),
        route(
            "wildcard-host-matches-listener-specific-host",
            gw,
            r#"[non.matching.com, "*.specific.com"]"#,
            Some("/s3"),
            "infra-backend-v3",
        ),
        route(
            "wildcard-host-matches-listener-wildcard-host",
            gw,
            r#"["*.anotherwildcard.io"]"#,
            Some("/s4"),
            "infra-backend-v1",
        ),
        route(
            "no-intersecting-hosts",
            gw,
            "[specific.but.wrong.com, wildcard.io]",
            Some("/s5"),
            "infra-backend-v2",
        ),
        route(
            gw_all,
            gw_all,
            "[first.com, sub.first.com, second.com, sub.second.com]",
            None,
            "infra-backend-v2",
        ),
    ];
    let t = run(&manifests.concat());
    for r in [
        "specific-host-matches-listener-specific-host",
        "specific-host-matches-listener-wildcard-host",
        "wildcard-host-matches-listener-specific-host",
        "wildcard-host-matches-listener-wildcard-host",
        gw_all,
    ] {
        assert_accepted(&t, INFRA, r, 1);
    }
    let s = route_status(&t, INFRA, "no-intersecting-hosts");
    assert_eq!(s.parents.len(), 1, "{s:?}");
    assert_eq!(s.parents[0].parent_ref.namespace.as_deref(), Some(INFRA));
    assert_condition(
        &s.parents[0].conditions,
        "Accepted",
        "False",
        Some("NoMatchingListenerHostname"),
    );

    let h = get_host;
    expect(
        &t,
        gw,
        &[
            (h("very.specific.com", "/s1"), V1),
            // The port is ignored for matching; the Host reaches the backend as sent.
            (h("very.specific.com:1234", "/s1"), V1),
            (h("non.matching.com", "/s1"), None),
            (h("foo.nonmatchingwildcard.io", "/s1"), None),
            (h("foo.wildcard.io", "/s1"), None),
            (h("very.specific.com", "/non-matching-prefix"), None),
            (h("foo.wildcard.io", "/s2"), V2),
            (h("bar.wildcard.io", "/s2"), V2),
            (h("foo.bar.wildcard.io", "/s2"), V2),
            (h("non.matching.com", "/s2"), None),
            (h("wildcard.io", "/s2"), None),
            (h("very.specific.com", "/s2"), None),
            (h("foo.wildcard.io", "/non-matching-prefix"), None),
            (h("very.specific.com", "/s3"), V3),
            (h("non.matching.com", "/s3"), None),
            // `*.specific.com` is narrowed to the listener's exact host.
            (h("foo.specific.com", "/s3"), None),
            (h("foo.wildcard.io", "/s3"), None),
            (h("very.specific.com", "/non-matching-prefix"), None),
            (h("foo.anotherwildcard.io", "/s4"), V1),
            (h("bar.anotherwildcard.io", "/s4"), V1),
            (h("foo.bar.anotherwildcard.io", "/s4"), V1),
            (h("anotherwildcard.io", "/s4"), None),
            (h("foo.wildcard.io", "/s4"), None),
            (h("very.specific.com", "/s4"), None),
            (h("foo.anotherwildcard.io", "/non-matching-prefix"), None),
            (h("specific.but.wrong.com", "/s5"), None),
            (h("wildcard.io", "/s5"), None),
        ],
    );
    expect(
        &t,
        gw_all,
        &[
            (h("first.com", "/"), V2),
            (h("sub.first.com", "/"), V2),
            (h("second.com", "/"), V2),
            (h("sub.second.com", "/"), V2),
            (h("third.com", "/"), None),
            (h("sub.third.com", "/"), None),
        ],
    );
}

#[test]
fn http_route_listener_hostname_matching() {
    let gw = "httproute-listener-hostname-matching";
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: httproute-listener-hostname-matching, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: listener-1, port: 80, protocol: HTTP, hostname: bar.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: listener-2, port: 80, protocol: HTTP, hostname: foo.bar.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: listener-3, port: 80, protocol: HTTP, hostname: "*.bar.com", allowedRoutes: {namespaces: {from: Same}}}
  - {name: listener-4, port: 80, protocol: HTTP, hostname: "*.foo.com", allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-v1, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: httproute-listener-hostname-matching, namespace: gateway-conformance-infra, sectionName: listener-1}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-v2, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: httproute-listener-hostname-matching, namespace: gateway-conformance-infra, sectionName: listener-2}]
  rules:
  - backendRefs: [{name: infra-backend-v2, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-v3, namespace: gateway-conformance-infra}
spec:
  parentRefs:
  - {name: httproute-listener-hostname-matching, namespace: gateway-conformance-infra, sectionName: listener-3}
  - {name: httproute-listener-hostname-matching, namespace: gateway-conformance-infra, sectionName: listener-4}
  rules:
  - backendRefs: [{name: infra-backend-v3, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "backend-v1", 1);
    assert_accepted(&t, INFRA, "backend-v2", 1);
    assert_accepted(&t, INFRA, "backend-v3", 2);
    let h = get_host;
    expect(
        &t,
        gw,
        &[
            (h("bar.com", "/"), V1),
            (h("foo.bar.com", "/"), V2),
            (h("baz.bar.com", "/"), V3),
            (h("boo.bar.com", "/"), V3),
            (h("multiple.prefixes.bar.com", "/"), V3),
            (h("multiple.prefixes.foo.com", "/"), V3),
            (h("foo.com", "/"), None),
            (h("no.matching.host", "/"), None),
        ],
    );
}

#[test]
fn http_route_matching() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    - headers: [{name: version, value: one}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /v2}
    - headers: [{name: version, value: two}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "matching", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (get("/"), V1),
            (get("/example"), V1),
            (get("/").header("Version", "one"), V1),
            (get("/v2"), V2),
            (get("/v2/example"), V2),
            (get("/").header("Version", "two"), V2),
            (get("/v2/"), V2),
            (get("/v2example"), V1),
            (get("/foo/v2/example"), V1),
        ],
    );
}

#[test]
fn http_route_matching_across_routes() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching-part1, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: [example.com, example.net]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    - headers: [{name: version, value: one}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching-part2, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: [example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /v2}
    - headers: [{name: version, value: two}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "matching-part1", 1);
    assert_accepted(&t, INFRA, "matching-part2", 1);
    let h = get_host;
    expect(
        &t,
        "same-namespace",
        &[
            (h("example.com", "/"), V1),
            (h("example.com", "/example"), V1),
            (h("example.net", "/example"), V1),
            (h("example.com", "/example").header("Version", "one"), V1),
            (h("example.com", "/v2"), V2),
            (h("example.net", "/v2"), V1),
            (h("example.com", "/v2/example"), V2),
            (h("example.com", "/").header("Version", "two"), V2),
        ],
    );
}

#[test]
fn http_route_exact_path_matching() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: exact-matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: Exact, value: /one}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: Exact, value: /two}}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "exact-matching", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (get("/one"), V1),
            (get("/two"), V2),
            (get("/"), None),
            (get("/one/example"), None),
            (get("/two/"), None),
            (get("/Two"), None),
        ],
    );
}

#[test]
fn http_route_path_match_order() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: path-matching-order, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: Exact, value: /match}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: Exact, value: /match/exact}}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{path: {type: Exact, value: /match/exact/one}}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /match/}}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /match/prefix/}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /match/prefix/one}}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "path-matching-order", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (get("/match/exact/one"), V3),
            (get("/match/exact"), V2),
            (get("/match"), V1),
            (get("/match/prefix/one/any"), V2),
            (get("/match/prefix/any"), V1),
            (get("/match/any"), V3),
        ],
    );
}

#[test]
fn http_route_header_matching() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: header-matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{headers: [{name: version, value: one}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "header-matching", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (get("/").header("Version", "one"), V1),
            (get("/").header("Version", "two"), V2),
            (
                get("/").header("Version", "two").header("Color", "orange"),
                V1,
            ),
            (
                get("/").header("Version", "two").header("Color", "blue"),
                V2,
            ),
            (get("/").header("Color", "orange"), None),
            (get("/").header("Some-Other-Header", "one"), None),
            (get("/").header("Color", "blue"), V1),
            (get("/").header("Color", "green"), V1),
            (get("/").header("Color", "red"), V2),
            (get("/").header("Color", "yellow"), V2),
            (get("/").header("Color", "purple"), None),
        ],
    );
}

#[test]
fn http_route_https_listener() {
    let gw = "same-namespace-with-https-listener";
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httproute-https-test, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace-with-https-listener}]
  hostnames: [example.org]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httproute-https-test-no-hostname, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace-with-https-listener, sectionName: https-with-hostname}]
  rules:
  - backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "httproute-https-test", 1);
    assert_accepted(&t, INFRA, "httproute-https-test-no-hostname", 1);
    expect(
        &t,
        gw,
        &[
            (Request::get(443, "example.org", "/"), V1),
            (Request::get(443, "unknown-example.org", "/"), None),
            (Request::get(443, "second-example.org", "/"), V2),
        ],
    );
    // The parent terminates TLS on 443 and serves nothing in clear.
    assert_eq!(
        send(&t, gw, &Request::get(80, "example.org", "/")),
        Outcome::Refused
    );
}

#[test]
fn http_route_weight() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: weighted-backends, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs:
    - {name: infra-backend-v1, port: 8080, weight: 70}
    - {name: infra-backend-v2, port: 8080, weight: 30}
    - {name: infra-backend-v3, port: 8080, weight: 0}
"#);
    assert_accepted(&t, INFRA, "weighted-backends", 1);
    let Outcome::Forward { shares, .. } = send(&t, "same-namespace", &get("/")) else {
        panic!("not forwarded");
    };
    // Avi pool group ratios: 70/30, and the weight-0 backend gets no traffic.
    let got: Vec<(String, u32)> = shares
        .iter()
        .map(|s| (s.backend.clone(), s.ratio))
        .collect();
    assert_eq!(
        got,
        [
            (format!("{INFRA}/infra-backend-v1"), 70),
            (format!("{INFRA}/infra-backend-v2"), 30),
        ]
    );
    assert!(shares.iter().all(|s| s.servers > 0));
}

#[test]
fn http_route_service_types() {
    let service = |name: &str, headless: bool, selector: bool| {
        let cluster_ip = if headless { "\n  clusterIP: None" } else { "" };
        let selector = if selector {
            "\n  selector: {app: infra-backend-v1}"
        } else {
            ""
        };
        format!(
            r#"
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: gateway-conformance-infra}}
spec:{cluster_ip}{selector}
  ports: [{{name: first-port, protocol: TCP, port: 8080, targetPort: 3000}}]
"#
        )
    };
    // The slices the test (or, for `headless`, the EndpointSlice controller) fills with the
    // infra-backend-v1 pod's addresses.
    let slice = |name: &str, service: &str, family: &str, ip: &str| {
        format!(
            r#"
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}
  namespace: gateway-conformance-infra
  labels: {{kubernetes.io/service-name: {service}}}
addressType: {family}
ports: [{{name: first-port, port: 3000, protocol: TCP}}]
endpoints:
- addresses: ["{ip}"]
  conditions: {{ready: true}}
"#
        )
    };
    let manifests = [
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: service-types, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: Exact, value: /manual-endpointslices}}]
    backendRefs: [{name: manual-endpointslices, port: 8080}]
  - matches: [{path: {type: Exact, value: /headless}}]
    backendRefs: [{name: headless, port: 8080}]
  - matches: [{path: {type: Exact, value: /headless-manual-endpointslices}}]
    backendRefs: [{name: headless-manual-endpointslices, port: 8080}]
"#
        .to_owned(),
        service("manual-endpointslices", false, false),
        slice(
            "manual-endpointslices-ip4",
            "manual-endpointslices",
            "IPv4",
            "10.1.0.1",
        ),
        slice(
            "manual-endpointslices-ip6",
            "manual-endpointslices",
            "IPv6",
            "fd00:10:1::1",
        ),
        service("headless", true, true),
        slice("headless-abcde", "headless", "IPv4", "10.1.0.1"),
        service("headless-manual-endpointslices", true, false),
        slice(
            "headless-manual-endpointslices-ip4",
            "headless-manual-endpointslices",
            "IPv4",
            "10.1.0.1",
        ),
        slice(
            "headless-manual-endpointslices-ip6",
            "headless-manual-endpointslices",
            "IPv6",
            "fd00:10:1::1",
        ),
    ];
    let t = run(&manifests.concat());
    assert_accepted(&t, INFRA, "service-types", 1);
    for (path, backend, ips) in [
        (
            "/manual-endpointslices",
            "manual-endpointslices",
            &["10.1.0.1", "fd00:10:1::1"][..],
        ),
        ("/headless", "headless", &["10.1.0.1"][..]),
        (
            "/headless-manual-endpointslices",
            "headless-manual-endpointslices",
            &["10.1.0.1", "fd00:10:1::1"][..],
        ),
    ] {
        let req = get(path);
        expect(&t, "same-namespace", &[(req.clone(), Some(backend))]);
        // The pool's servers are the infra-backend-v1 pod, at the target port.
        let out = send(&t, "same-namespace", &req);
        let pool = support::harness::pool_of(&t, &out);
        let mut servers: Vec<(String, Option<u16>)> = pool
            .servers
            .iter()
            .map(|s| (s.ip.addr.clone(), s.port))
            .collect();
        servers.sort();
        let want: Vec<(String, Option<u16>)> = ips
            .iter()
            .map(|ip| ((*ip).to_owned(), Some(3000)))
            .collect();
        assert_eq!(servers, want, "{path}");
    }
}

#[test]
fn http_route_request_header_modifier() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: request-header-modifier, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /set}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Header-Set, value: set-overwrites-values}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /add}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        add: [{name: X-Header-Add, value: add-appends-values}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /remove}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        remove: [X-Header-Remove]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /multiple}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set:
        - {name: X-Header-Set-1, value: header-set-1}
        - {name: X-Header-Set-2, value: header-set-2}
        add:
        - {name: X-Header-Add-1, value: header-add-1}
        - {name: X-Header-Add-2, value: header-add-2}
        - {name: X-Header-Add-3, value: header-add-3}
        remove: [X-Header-Remove-1, X-Header-Remove-2]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /case-insensitivity}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Header-Set, value: header-set}]
        add: [{name: X-Header-Add, value: header-add}]
        remove: [X-Header-Remove]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "request-header-modifier", 1);
    assert_request_headers(&t, "same-namespace", &request_header_cases());
}

/// `(request, headers the backend must see, headers it must not see)`.
type HeaderCase = (
    Request,
    Vec<(&'static str, &'static str)>,
    Vec<&'static str>,
);

/// The requests of HTTPRouteRequestHeaderModifier (and of its backendRef and rewrite variants).
fn request_header_cases() -> Vec<HeaderCase> {
    vec![
        (
            get("/set").header("Some-Other-Header", "val"),
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Set", "set-overwrites-values"),
            ],
            vec![],
        ),
        (
            get("/set")
                .header("Some-Other-Header", "val")
                .header("X-Header-Set", "some-other-value"),
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Set", "set-overwrites-values"),
            ],
            vec![],
        ),
        (
            get("/add").header("Some-Other-Header", "val"),
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Add", "add-appends-values"),
            ],
            vec![],
        ),
        (
            get("/add")
                .header("Some-Other-Header", "val")
                .header("X-Header-Add", "some-other-value"),
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Add", "some-other-value,add-appends-values"),
            ],
            vec![],
        ),
        (
            get("/remove").header("X-Header-Remove", "val"),
            vec![],
            vec!["X-Header-Remove"],
        ),
        (
            get("/multiple")
                .header("X-Header-Set-2", "set-val-2")
                .header("X-Header-Add-2", "add-val-2")
                .header("X-Header-Remove-2", "remove-val-2")
                .header("Another-Header", "another-header-val"),
            vec![
                ("X-Header-Set-1", "header-set-1"),
                ("X-Header-Set-2", "header-set-2"),
                ("X-Header-Add-1", "header-add-1"),
                ("X-Header-Add-2", "add-val-2,header-add-2"),
                ("X-Header-Add-3", "header-add-3"),
                ("Another-Header", "another-header-val"),
            ],
            vec!["X-Header-Remove-1", "X-Header-Remove-2"],
        ),
        (
            get("/case-insensitivity")
                .header("x-header-set", "original-val-set")
                .header("x-header-add", "original-val-add")
                .header("x-header-remove", "original-val-remove")
                .header("Another-Header", "another-header-val"),
            vec![
                ("X-Header-Set", "header-set"),
                ("X-Header-Add", "original-val-add,header-add"),
                ("Another-Header", "another-header-val"),
            ],
            vec!["x-header-remove"],
        ),
    ]
}

fn assert_request_headers(t: &gateway_translate::Translation, gw: &str, cases: &[HeaderCase]) {
    for (req, present, absent) in cases {
        let seen = forwarded(t, gw, req);
        assert_eq!(seen.backend, format!("{INFRA}/infra-backend-v1"), "{req:?}");
        for (name, value) in present {
            assert_eq!(
                header(&seen.headers, name).as_deref(),
                Some(*value),
                "{req:?}: {name} in {:?}",
                seen.headers
            );
        }
        for name in absent {
            assert_eq!(header(&seen.headers, name), None, "{req:?}: {name}");
        }
    }
}

#[test]
fn http_route_redirect_host_and_status() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: redirect-host-and-status, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /hostname-redirect}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {hostname: example.org}
  - matches: [{path: {type: PathPrefix, value: /host-and-status}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {hostname: example.org, statusCode: 301}
"#);
    assert_accepted(&t, INFRA, "redirect-host-and-status", 1);
    for (path, status) in [("/hostname-redirect", 302), ("/host-and-status", 301)] {
        assert_eq!(
            send(&t, "same-namespace", &get(path)),
            Outcome::Redirect {
                status,
                location: format!("http://example.org{path}"),
            }
        );
    }
}

/// HTTPRoute307Redirect (provisional, `HTTPRoute307RedirectStatusCode`): the Location keeps
/// the request's path and the http scheme.
#[test]
fn http_route_307_redirect() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: 307-redirect, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /temporary}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {statusCode: 307}
"#);
    assert_accepted(&t, INFRA, "307-redirect", 1);
    assert_eq!(
        send(&t, "same-namespace", &get("/temporary")),
        Outcome::Redirect {
            status: 307,
            location: "http://example.com/temporary".to_owned(),
        }
    );
}

/// HTTPRouteNamedRule (provisional, `HTTPRouteNamedRouteRule`): `/named` → v1, `/unnamed` → v2.
#[test]
fn http_route_named_rule() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: http-named-rules, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - name: named-rule
    matches: [{path: {type: PathPrefix, value: /named}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /unnamed}}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "http-named-rules", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (get("/named"), V1),
            (get("/unnamed"), V2),
            (get("/other"), None),
        ],
    );
}

/// The only parent entry of a route, with Accepted and ResolvedRefs as given.
fn assert_parent(
    t: &gateway_translate::Translation,
    ns: &str,
    route: &str,
    gw: &str,
    accepted: (&str, &str),
    resolved: (&str, &str),
) {
    let s = route_status(t, ns, route);
    assert_eq!(s.parents.len(), 1, "{s:?}");
    let p = route_parent(t, ns, route, gw);
    assert_eq!(p.parent_ref.namespace.as_deref(), Some(INFRA));
    assert_condition(&p.conditions, "Accepted", accepted.0, Some(accepted.1));
    assert_condition(&p.conditions, "ResolvedRefs", resolved.0, Some(resolved.1));
}

#[test]
fn http_route_invalid_backend_ref_unknown_kind() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: invalid-backend-ref-unknown-kind, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{group: unknownkind.example.com, kind: NonExistent, name: infra-backend-v1, port: 8080}]
"#);
    assert_parent(
        &t,
        INFRA,
        "invalid-backend-ref-unknown-kind",
        "same-namespace",
        ("True", "Accepted"),
        ("False", "InvalidKind"),
    );
    expect_status(&t, "same-namespace", &[(get("/v2"), 500)]);
}

#[test]
fn http_route_invalid_nonexistent_backend_ref() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: invalid-nonexistent-backend-ref, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: nonexistent, port: 8080}]
"#);
    assert_parent(
        &t,
        INFRA,
        "invalid-nonexistent-backend-ref",
        "same-namespace",
        ("True", "Accepted"),
        ("False", "BackendNotFound"),
    );
    expect_status(&t, "same-namespace", &[(get("/"), 500)]);
}

/// Project decision (§4.1): a rule with one invalid and one valid backend drops the invalid
/// one (Avi pool groups only send to up pools) instead of answering 500 for its share; the
/// route says why with ResolvedRefs=False.
#[test]
fn http_route_partially_invalid_backends_deviation() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: partially-invalid-backends, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs:
    - {name: infra-backend-v1, port: 8080}
    - {name: nonexistent, port: 8080}
"#);
    assert_parent(
        &t,
        INFRA,
        "partially-invalid-backends",
        "same-namespace",
        ("True", "Accepted"),
        ("False", "BackendNotFound"),
    );
    expect(&t, "same-namespace", &[(get("/"), V1)]);
}

#[test]
fn http_route_invalid_cross_namespace_parent_ref() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: invalid-cross-namespace-parent-ref, namespace: gateway-conformance-web-backend}
spec:
  parentRefs: [{name: same-namespace, namespace: gateway-conformance-infra}]
  rules:
  - backendRefs: [{name: web-backend, port: 8080}]
"#);
    assert_parent(
        &t,
        WEB,
        "invalid-cross-namespace-parent-ref",
        "same-namespace",
        ("False", "NotAllowedByListeners"),
        ("True", "ResolvedRefs"),
    );
    assert_eq!(
        listener_status(&t, "same-namespace", "http").attached_routes,
        0
    );
    expect(&t, "same-namespace", &[(get("/"), None)]);
}

#[test]
fn http_route_invalid_parent_ref_not_matching_section_name() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httproute-not-matching-section-name, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace, port: 80, sectionName: http1}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    assert_parent(
        &t,
        INFRA,
        "httproute-not-matching-section-name",
        "same-namespace",
        ("False", "NoMatchingParent"),
        ("True", "ResolvedRefs"),
    );
    assert_eq!(
        listener_status(&t, "same-namespace", "http").attached_routes,
        0
    );
    expect(&t, "same-namespace", &[(get("/"), None)]);
}

#[test]
fn http_route_observed_generation_bump() {
    let route = |generation: i64, backend: &str| {
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: observed-generation-bump, namespace: gateway-conformance-infra, generation: {generation}}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - backendRefs: [{{name: {backend}, port: 8080}}]
"#
        )
    };
    let t1 = run(&route(1, "infra-backend-v1"));
    assert_accepted(&t1, INFRA, "observed-generation-bump", 1);
    let p1 = route_parent(&t1, INFRA, "observed-generation-bump", "same-namespace");
    assert_generation(&p1.conditions, 1);
    expect(&t1, "same-namespace", &[(get("/"), V1)]);

    let mut s = snapshot(&route(2, "infra-backend-v2"));
    store_statuses(&t1, &mut s);
    let t2 = translate_snapshot(&s);
    assert_accepted(&t2, INFRA, "observed-generation-bump", 1);
    let p2 = route_parent(&t2, INFRA, "observed-generation-bump", "same-namespace");
    assert_generation(&p2.conditions, 2);
    expect(&t2, "same-namespace", &[(get("/"), V2)]);
}

const ROUTE_TO_WEB_BACKEND: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reference-grant, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: web-backend, namespace: gateway-conformance-web-backend, port: 8080}]
"#;

fn grant(name: &str, namespace: &str, from: &str, to: &str) -> String {
    format!(
        r#"
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  from: [{from}]
  to: [{to}]
"#
    )
}

const FROM_ROUTE: &str =
    "{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gateway-conformance-infra}";

#[test]
fn http_route_reference_grant() {
    let with_grant = [
        ROUTE_TO_WEB_BACKEND.to_owned(),
        grant(
            "reference-grant",
            WEB,
            FROM_ROUTE,
            r#"{group: "", kind: Service, name: web-backend}"#,
        ),
    ]
    .concat();
    let t = run(&with_grant);
    assert_accepted(&t, INFRA, "reference-grant", 1);
    expect(
        &t,
        "same-namespace",
        &[(
            get("/"),
            Some("gateway-conformance-web-backend/web-backend"),
        )],
    );

    // Deleting the grant revokes the access.
    let t = run(ROUTE_TO_WEB_BACKEND);
    assert_parent(
        &t,
        INFRA,
        "reference-grant",
        "same-namespace",
        ("True", "Accepted"),
        ("False", "RefNotPermitted"),
    );
    expect_status(&t, "same-namespace", &[(get("/"), 500)]);
}

#[test]
fn http_route_invalid_reference_grant() {
    let service = r#"{group: "", kind: Service, name: web-backend}"#;
    let manifests = [
        ROUTE_TO_WEB_BACKEND.to_owned(),
        grant("reference-grant-wrong-namespace", APP, FROM_ROUTE, service),
        grant(
            "reference-grant-wrong-from-group",
            WEB,
            "{group: not-the-group-youre-looking-for, kind: HTTPRoute, namespace: gateway-conformance-infra}",
            service,
        ),
        grant(
            "reference-grant-wrong-from-kind",
            WEB,
            "{group: gateway.networking.k8s.io, kind: Gateway, namespace: gateway-conformance-infra}",
            service,
        ),
        grant(
            "reference-grant-wrong-from-namespace",
            WEB,
            "{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: not-the-namespace-youre-looking-for}",
            service,
        ),
        grant(
            "reference-grant-wrong-to-group",
            WEB,
            FROM_ROUTE,
            "{group: not-the-group-youre-looking-for, kind: Service, name: web-backend}",
        ),
        grant(
            "reference-grant-wrong-to-kind",
            WEB,
            FROM_ROUTE,
            r#"{group: "", kind: Secret, name: web-backend}"#,
        ),
        grant(
            "reference-grant-wrong-to-name",
            WEB,
            FROM_ROUTE,
            r#"{group: "", kind: Service, name: not-the-service-youre-looking-for}"#,
        ),
    ];
    let t = run(&manifests.concat());
    assert_parent(
        &t,
        INFRA,
        "reference-grant",
        "same-namespace",
        ("True", "Accepted"),
        ("False", "RefNotPermitted"),
    );
    expect_status(&t, "same-namespace", &[(get("/"), 500)]);
}

#[test]
fn http_route_invalid_cross_namespace_backend_ref() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: invalid-cross-namespace-backend-ref, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: web-backend, namespace: gateway-conformance-web-backend, port: 8080}]
"#);
    assert_parent(
        &t,
        INFRA,
        "invalid-cross-namespace-backend-ref",
        "same-namespace",
        ("True", "Accepted"),
        ("False", "RefNotPermitted"),
    );
    expect_status(&t, "same-namespace", &[(get("/"), 500)]);
}

#[test]
fn http_route_partially_invalid_via_invalid_reference_grant() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: reference-grant, namespace: gateway-conformance-app-backend}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gateway-conformance-infra}]
  to: [{group: "", kind: Service, name: app-backend-v1}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: invalid-reference-grant, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: app-backend-v2, namespace: gateway-conformance-app-backend, port: 8080}]
  - backendRefs: [{name: app-backend-v1, namespace: gateway-conformance-app-backend, port: 8080}]
"#);
    assert_parent(
        &t,
        INFRA,
        "invalid-reference-grant",
        "same-namespace",
        ("True", "Accepted"),
        ("False", "RefNotPermitted"),
    );
    expect_status(&t, "same-namespace", &[(get("/v2"), 500)]);
    expect(
        &t,
        "same-namespace",
        &[(
            get("/"),
            Some("gateway-conformance-app-backend/app-backend-v1"),
        )],
    );
}
