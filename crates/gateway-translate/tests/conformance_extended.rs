//! The HTTPRoute extended conformance tests (gateway-api.md §6.5), each against the suite's base
//! manifests: the statuses it asserts, and every request it sends resolved through the produced
//! Avi model. Features Avi cannot express are still tested, for what we do instead
//! (`..._is_refused`, `..._deviation`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::harness::{
    INFRA, Seen, assert_accepted, assert_condition, condition, expect, forwarded, get, get_host,
    header, listener_status, pool_of, route_parent, route_status, run, send,
};
use support::resolve::{Outcome, Request, apply_hdr_actions};

const V1: Option<&str> = Some("infra-backend-v1");
const V2: Option<&str> = Some("infra-backend-v2");
const V3: Option<&str> = Some("infra-backend-v3");

#[test]
fn http_route_invalid_parent_ref_not_matching_listener_port() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httproute-listener-not-matching-route-port, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace, port: 81}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    let p = route_parent(
        &t,
        INFRA,
        "httproute-listener-not-matching-route-port",
        "same-namespace",
    );
    assert_condition(&p.conditions, "Accepted", "False", Some("NoMatchingParent"));
    assert_condition(&p.conditions, "ResolvedRefs", "True", Some("ResolvedRefs"));
    assert_eq!(
        listener_status(&t, "same-namespace", "http").attached_routes,
        0
    );
    expect(&t, "same-namespace", &[(get("/"), None)]);
}

#[test]
fn http_route_invalid_parent_ref_section_name_not_matching_port() {
    let gw = "gw-with-one-section-name-not-matching-port-route";
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw-with-one-section-name-not-matching-port-route, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}], namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httproute-listener-section-name-not-matching-port, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: gw-with-one-section-name-not-matching-port-route, namespace: gateway-conformance-infra, sectionName: http, port: 81}]
  rules:
  - backendRefs: [{name: infra-backend-v1, kind: Service, port: 8080}]
"#);
    let p = route_parent(
        &t,
        INFRA,
        "httproute-listener-section-name-not-matching-port",
        gw,
    );
    assert_condition(&p.conditions, "Accepted", "False", Some("NoMatchingParent"));
    assert_eq!(listener_status(&t, gw, "http").attached_routes, 0);
    expect(&t, gw, &[(get("/"), None)]);
}

#[test]
fn http_route_listener_port_matching() {
    let gw = "httproute-listener-port-matching";
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: httproute-listener-port-matching, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: listener-1, port: 80, protocol: HTTP, hostname: foo.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: listener-2, port: 8080, protocol: HTTP, hostname: foo.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: listener-3, port: 8080, protocol: HTTP, hostname: bar.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: listener-4, port: 8090, protocol: HTTP, hostname: foo.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: listener-5, port: 8090, protocol: HTTP, hostname: bar.com, allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-v1, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: httproute-listener-port-matching, namespace: gateway-conformance-infra, port: 80}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-v2, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: httproute-listener-port-matching, namespace: gateway-conformance-infra, port: 8080}]
  rules:
  - backendRefs: [{name: infra-backend-v2, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-v3, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: httproute-listener-port-matching, namespace: gateway-conformance-infra, port: 8090, sectionName: listener-4}]
  rules:
  - backendRefs: [{name: infra-backend-v3, port: 8080}]
"#);
    for r in ["backend-v1", "backend-v2", "backend-v3"] {
        assert_accepted(&t, INFRA, r, 1);
    }
    // The client sends each request to the port it names in Host.
    expect(
        &t,
        gw,
        &[
            (Request::get(80, "foo.com", "/"), V1),
            (Request::get(8080, "foo.com:8080", "/"), V2),
            (Request::get(8080, "bar.com:8080", "/"), V2),
            (Request::get(8090, "foo.com:8090", "/"), V3),
            (Request::get(8090, "bar.com:8090", "/"), None),
        ],
    );
}

#[test]
fn http_route_query_param_matching() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: query-param-matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{queryParams: [{name: animal, value: whale}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{queryParams: [{name: animal, value: dolphin}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches:
    - queryParams: [{name: animal, value: dolphin}, {name: color, value: blue}]
    - queryParams: [{name: ANIMAL, value: Whale}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /path1}
      queryParams: [{name: animal, value: whale}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches:
    - headers: [{name: version, value: one}]
      queryParams: [{name: animal, value: whale}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /path2}
      headers: [{name: version, value: two}]
      queryParams: [{name: animal, value: whale}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /path3}
      queryParams: [{name: animal, value: shark}]
    - path: {type: PathPrefix, value: /path4}
      headers: [{name: version, value: three}]
      queryParams: [{name: animal, value: kraken}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path5}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{queryParams: [{name: animal, value: hydra}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{headers: [{name: version, value: four}]}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "query-param-matching", 1);
    // `expect` also checks that the backend sees the path with its query string unchanged.
    expect(
        &t,
        "same-namespace",
        &[
            (get("/?animal=whale"), V1),
            (get("/?animal=dolphin"), V2),
            (get("/?animal=dolphin&color=blue"), V3),
            (get("/?ANIMAL=Whale"), V3),
            (get("/?animal=whale&otherparam=irrelevant"), V1),
            (get("/?animal=dolphin&color=yellow"), V2),
            (get("/?color=blue"), None),
            (get("/?animal=dog"), None),
            (get("/?animal=whaledolphin"), None),
            (get("/"), None),
            (get("/path1?animal=whale"), V1),
            (get("/?animal=whale").header("version", "one"), V2),
            (get("/path2?animal=whale").header("version", "two"), V3),
            (get("/path3?animal=shark"), V1),
            (get("/path4?animal=kraken").header("version", "three"), V1),
            (get("/?animal=shark"), None),
            (get("/path4?animal=kraken"), None),
            (get("/path5?animal=hydra"), V1),
            (get("/?animal=hydra").header("version", "four"), V3),
        ],
    );
}

#[test]
fn http_route_method_matching() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: method-matching, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{method: POST}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{method: GET}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path1}, method: GET}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: version, value: one}], method: PUT}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path2}, headers: [{name: version, value: two}], method: POST}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches:
    - {path: {type: PathPrefix, value: /path3}, method: PATCH}
    - {path: {type: PathPrefix, value: /path4}, headers: [{name: version, value: three}], method: DELETE}
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /path5}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{method: PATCH}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{headers: [{name: version, value: four}]}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "method-matching", 1);
    expect(
        &t,
        "same-namespace",
        &[
            (get("/").method("POST"), V1),
            (get("/").method("GET"), V2),
            (get("/").method("HEAD"), None),
            (get("/path1").method("GET"), V1),
            (get("/").method("PUT").header("version", "one"), V2),
            (get("/path2").method("POST").header("version", "two"), V3),
            (get("/path3").method("PATCH"), V1),
            (
                get("/path4").method("DELETE").header("version", "three"),
                V1,
            ),
            (get("/").method("PUT"), None),
            (get("/path4").method("DELETE"), None),
            (get("/path5").method("PATCH"), V1),
            (get("/").method("PATCH").header("version", "four"), V2),
        ],
    );
}

/// The response headers a client sees when the backend answers with `backend_headers` (the
/// suite has the echo server set them with `X-Echo-Set-Header`).
fn response_headers(seen: &Seen, backend_headers: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = backend_headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    apply_hdr_actions(&mut headers, &seen.response_actions);
    headers
}

/// `(path, backend's response headers, headers the client must see, headers it must not)`.
type ResponseCase = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<(&'static str, &'static str)>,
    Vec<&'static str>,
);

#[test]
fn http_route_response_header_modifier() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: response-header-modifier, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /set}}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: X-Header-Set, value: set-overwrites-values}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /add}}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        add: [{name: X-Header-Add, value: add-appends-values}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /remove}}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        remove: [X-Header-Remove]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /multiple}}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
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
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: X-Header-Set, value: header-set}]
        add:
        - {name: X-Header-Add, value: header-add}
        - {name: x-lowercase-add, value: lowercase-add}
        - {name: x-Mixedcase-ADD-1, value: mixedcase-add-1}
        - {name: X-mixeDcase-add-2, value: mixedcase-add-2}
        - {name: X-UPPERCASE-ADD, value: uppercase-add}
        remove: [X-Header-Remove]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /response-and-request-header-modifiers}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Header-Set, value: set-overwrites-values}]
        add: [{name: X-Header-Add, value: add-appends-values}]
        remove: [X-Header-Remove]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set:
        - {name: X-Header-Set-1, value: header-set-1}
        - {name: X-Header-Set-2, value: header-set-2}
        add:
        - {name: X-Header-Add-1, value: header-add-1}
        - {name: X-Header-Add-2, value: header-add-2}
        remove: [X-Header-Remove-1, X-Header-Remove-2]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    assert_accepted(&t, INFRA, "response-header-modifier", 1);
    let cases: Vec<ResponseCase> = vec![
        (
            "/set",
            vec![("Some-Other-Header", "val")],
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Set", "set-overwrites-values"),
            ],
            vec![],
        ),
        (
            "/set",
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Set", "some-other-value"),
            ],
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Set", "set-overwrites-values"),
            ],
            vec![],
        ),
        (
            "/add",
            vec![("Some-Other-Header", "val")],
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Add", "add-appends-values"),
            ],
            vec![],
        ),
        (
            "/add",
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Add", "some-other-value"),
            ],
            vec![
                ("Some-Other-Header", "val"),
                ("X-Header-Add", "some-other-value,add-appends-values"),
            ],
            vec![],
        ),
        (
            "/remove",
            vec![("X-Header-Remove", "val")],
            vec![],
            vec!["X-Header-Remove"],
        ),
        (
            "/multiple",
            vec![
                ("X-Header-Set-2", "set-val-2"),
                ("X-Header-Add-2", "add-val-2"),
                ("X-Header-Remove-2", "remove-val-2"),
                ("Another-Header", "another-header-val"),
            ],
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
            "/case-insensitivity",
            vec![
                ("x-header-set", "original-val-set"),
                ("x-header-add", "original-val-add"),
                ("x-header-remove", "original-val-remove"),
                ("Another-Header", "another-header-val"),
            ],
            vec![
                ("X-Header-Set", "header-set"),
                ("X-Header-Add", "original-val-add,header-add"),
                ("X-Lowercase-Add", "lowercase-add"),
                ("X-Mixedcase-Add-1", "mixedcase-add-1"),
                ("X-Mixedcase-Add-2", "mixedcase-add-2"),
                ("X-Uppercase-Add", "uppercase-add"),
                ("Another-Header", "another-header-val"),
            ],
            vec!["x-header-remove"],
        ),
        (
            "/response-and-request-header-modifiers",
            vec![
                ("X-Header-Set-2", "set-val-2"),
                ("X-Header-Add-2", "add-val-2"),
                ("X-Header-Remove-2", "remove-val-2"),
                ("Another-Header", "another-header-val"),
                ("X-Header-Echo", "echo"),
            ],
            vec![
                ("X-Header-Set-1", "header-set-1"),
                ("X-Header-Set-2", "header-set-2"),
                ("X-Header-Add-1", "header-add-1"),
                ("X-Header-Add-2", "add-val-2,header-add-2"),
                ("Another-Header", "another-header-val"),
                ("X-Header-Echo", "echo"),
            ],
            vec!["X-Header-Remove-1", "X-Header-Remove-2"],
        ),
    ];
    for (path, backend, present, absent) in cases {
        let seen = forwarded(&t, "same-namespace", &get(path));
        assert_eq!(seen.backend, format!("{INFRA}/infra-backend-v1"));
        let got = response_headers(&seen, &backend);
        for (name, value) in present {
            assert_eq!(
                header(&got, name).as_deref(),
                Some(value),
                "{path}: {name} in {got:?}"
            );
        }
        for name in absent {
            assert_eq!(header(&got, name), None, "{path}: {name} in {got:?}");
        }
    }
    // The request side of the rule with both modifiers.
    let seen = forwarded(
        &t,
        "same-namespace",
        &get("/response-and-request-header-modifiers")
            .header("X-Header-Set", "some-other-value")
            .header("X-Header-Add", "some-other-value")
            .header("X-Header-Remove", "val"),
    );
    assert_eq!(
        header(&seen.headers, "X-Header-Set").as_deref(),
        Some("set-overwrites-values")
    );
    assert_eq!(
        header(&seen.headers, "X-Header-Add").as_deref(),
        Some("some-other-value,add-appends-values")
    );
    assert_eq!(header(&seen.headers, "X-Header-Remove"), None);
}

/// The only parent of `route` on `same-namespace` is not accepted because every rule was
/// refused (`UnsupportedValue`), with a message naming `feature`; its paths answer 404.
fn assert_refused(t: &gateway_translate::Translation, route: &str, feature: &str, paths: &[&str]) {
    let s = route_status(t, INFRA, route);
    assert_eq!(s.parents.len(), 1, "{s:?}");
    let c = support::harness::condition(&s.parents[0].conditions, "Accepted");
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("False", "UnsupportedValue"),
        "{c:?}"
    );
    assert!(c.message.contains(feature), "{c:?}");
    for path in paths {
        assert_eq!(
            send(t, "same-namespace", &get(path)),
            Outcome::Local(404),
            "{path}"
        );
    }
}

/// Deviation: a backendRef-level filter changes one backend's requests only; an Avi pool cannot
/// modify requests, so the rule is refused (`UnsupportedValue`, naming the filter).
#[test]
fn http_route_backend_request_header_modifier_is_refused() {
    let rule = |path: &str, modifier: &str| {
        format!(
            r#"
  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]
    backendRefs:
    - name: infra-backend-v1
      port: 8080
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {modifier}"#
        )
    };
    let manifest = [
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: request-header-modifier-backend, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:"#
            .to_owned(),
        rule(
            "/set",
            "{set: [{name: X-Header-Set, value: set-overwrites-values}]}",
        ),
        rule(
            "/add",
            "{add: [{name: X-Header-Add, value: add-appends-values}]}",
        ),
        rule("/remove", "{remove: [X-Header-Remove]}"),
        rule(
            "/multiple",
            "{set: [{name: X-Header-Set-1, value: header-set-1}, {name: X-Header-Set-2, value: header-set-2}], \
             add: [{name: X-Header-Add-1, value: header-add-1}, {name: X-Header-Add-2, value: header-add-2}, \
             {name: X-Header-Add-3, value: header-add-3}], remove: [X-Header-Remove-1, X-Header-Remove-2]}",
        ),
        rule(
            "/case-insensitivity",
            "{set: [{name: X-Header-Set, value: header-set}], add: [{name: X-Header-Add, value: header-add}], \
             remove: [X-Header-Remove]}",
        ),
        "\n".to_owned(),
    ];
    let t = run(&manifest.concat());
    assert_refused(
        &t,
        "request-header-modifier-backend",
        "RequestHeaderModifier",
        &[
            "/set",
            "/add",
            "/remove",
            "/multiple",
            "/case-insensitivity",
        ],
    );
}

/// Deviation: per-backend header filters on a weighted split need a pool that modifies
/// requests, which Avi has not; the rule is refused (`UnsupportedValue`, naming the filter).
#[test]
fn http_route_request_header_modifier_backend_weights_is_refused() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: request-header-modifier-backend-weights, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs:
    - name: infra-backend-v1
      port: 8080
      weight: 10
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: Backend, value: infra-backend-v1}]}
    - name: infra-backend-v2
      port: 8080
      weight: 10
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {set: [{name: Backend, value: infra-backend-v2}]}
"#);
    assert_refused(
        &t,
        "request-header-modifier-backend-weights",
        "RequestHeaderModifier",
        &["/"],
    );
}

/// The redirect `path` on `gw` answers with this status and Location.
fn assert_redirects(t: &gateway_translate::Translation, gw: &str, cases: &[(Request, u16, &str)]) {
    for (req, status, location) in cases {
        assert_eq!(
            send(t, gw, req),
            Outcome::Redirect {
                status: *status,
                location: (*location).to_owned(),
            },
            "{req:?}"
        );
    }
}

#[test]
fn http_route_redirect_path() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: redirect-path, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /original-prefix}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}
  - matches: [{path: {type: PathPrefix, value: /full}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        path: {type: ReplaceFullPath, replaceFullPath: /full-path-replacement}
  - matches: [{path: {type: PathPrefix, value: /path-and-host}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        hostname: example.org
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}
  - matches: [{path: {type: PathPrefix, value: /path-and-status}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}
        statusCode: 301
  - matches: [{path: {type: PathPrefix, value: /full-path-and-host}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        hostname: example.org
        path: {type: ReplaceFullPath, replaceFullPath: /replacement-full}
  - matches: [{path: {type: PathPrefix, value: /full-path-and-status}}]
    filters:
    - type: RequestRedirect
      requestRedirect:
        path: {type: ReplaceFullPath, replaceFullPath: /replacement-full}
        statusCode: 301
"#);
    assert_accepted(&t, INFRA, "redirect-path", 1);
    assert_redirects(
        &t,
        "same-namespace",
        &[
            (
                get("/original-prefix/lemon"),
                302,
                "http://example.com/replacement-prefix/lemon",
            ),
            (
                get("/full/path/original"),
                302,
                "http://example.com/full-path-replacement",
            ),
            (
                get("/path-and-host"),
                302,
                "http://example.org/replacement-prefix",
            ),
            (
                get("/path-and-status"),
                301,
                "http://example.com/replacement-prefix",
            ),
            // Segment semantics: not captured by the `/full` prefix.
            (
                get("/full-path-and-host"),
                302,
                "http://example.org/replacement-full",
            ),
            (
                get("/full-path-and-status"),
                301,
                "http://example.com/replacement-full",
            ),
        ],
    );
}

#[test]
fn http_route_redirect_port() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: redirect-port, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /port}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {port: 8083}}
  - matches: [{path: {type: PathPrefix, value: /port-and-host}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {hostname: example.org, port: 8083}}
  - matches: [{path: {type: PathPrefix, value: /port-and-status}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {port: 8083, statusCode: 301}}
  - matches: [{path: {type: PathPrefix, value: /port-and-host-and-status}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {port: 8083, hostname: example.org, statusCode: 302}}
"#);
    assert_accepted(&t, INFRA, "redirect-port", 1);
    assert_redirects(
        &t,
        "same-namespace",
        &[
            (get("/port"), 302, "http://example.com:8083/port"),
            (
                get("/port-and-host"),
                302,
                "http://example.org:8083/port-and-host",
            ),
            (
                get("/port-and-status"),
                301,
                "http://example.com:8083/port-and-status",
            ),
            (
                get("/port-and-host-and-status"),
                302,
                "http://example.org:8083/port-and-host-and-status",
            ),
        ],
    );
}

#[test]
fn http_route_redirect_scheme() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: redirect-scheme, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /scheme}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {scheme: https}}
  - matches: [{path: {type: PathPrefix, value: /scheme-and-host}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {hostname: example.org, scheme: https}}
  - matches: [{path: {type: PathPrefix, value: /scheme-and-status}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}
  - matches: [{path: {type: PathPrefix, value: /scheme-and-host-and-status}}]
    filters:
    - {type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 302, hostname: example.org}}
"#);
    assert_accepted(&t, INFRA, "redirect-scheme", 1);
    // The scheme's well-known port (443) is left out of Location.
    assert_redirects(
        &t,
        "same-namespace",
        &[
            (get("/scheme"), 302, "https://example.com/scheme"),
            (
                get("/scheme-and-host"),
                302,
                "https://example.org/scheme-and-host",
            ),
            (
                get("/scheme-and-status"),
                301,
                "https://example.com/scheme-and-status",
            ),
            (
                get("/scheme-and-host-and-status"),
                302,
                "https://example.org/scheme-and-host-and-status",
            ),
        ],
    );
}

#[test]
fn http_route_redirect_port_and_scheme() {
    let rule = |path: &str, redirect: &str| {
        format!(
            r#"
  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]
    filters:
    - {{type: RequestRedirect, requestRedirect: {{hostname: example.org{redirect}}}}}"#
        )
    };
    let route = |name: &str, gw: &str, hostnames: &str, rules: &[String]| {
        format!(
            r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}, namespace: gateway-conformance-infra}}]{hostnames}
  rules:{}
"#,
            rules.concat()
        )
    };
    let gw80 = "same-namespace";
    let gw8080 = "same-namespace-with-http-listener-on-8080";
    let gw443 = "same-namespace-with-https-listener";
    let manifests = [
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw8080}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {{name: http, port: 8080, protocol: HTTP, allowedRoutes: {{namespaces: {{from: Same}}}}}}
"#
        ),
        route(
            "http-route-for-listener-on-port-80",
            gw80,
            "",
            &[
                rule("/scheme-nil-and-port-nil", ""),
                rule("/scheme-nil-and-port-80", ", port: 80"),
                rule("/scheme-nil-and-port-8080", ", port: 8080"),
                rule("/scheme-https-and-port-nil", ", scheme: https"),
                rule("/scheme-https-and-port-443", ", scheme: https, port: 443"),
                rule("/scheme-https-and-port-8443", ", scheme: https, port: 8443"),
            ],
        ),
        route(
            "http-route-for-listener-on-port-8080",
            gw8080,
            "",
            &[
                rule("/scheme-nil-and-port-nil", ""),
                rule("/scheme-nil-and-port-80", ", port: 80"),
                rule("/scheme-https-and-port-nil", ", scheme: https"),
            ],
        ),
        route(
            "http-route-for-listener-on-port-443",
            gw443,
            "\n  hostnames: [example.org]",
            &[
                rule("/scheme-nil-and-port-nil", ""),
                rule("/scheme-nil-and-port-443", ", port: 443"),
                rule("/scheme-nil-and-port-8443", ", port: 8443"),
                rule("/scheme-http-and-port-nil", ", scheme: http"),
                rule("/scheme-http-and-port-80", ", scheme: http, port: 80"),
                rule("/scheme-http-and-port-8080", ", scheme: http, port: 8080"),
            ],
        ),
    ];
    let t = run(&manifests.concat());
    for r in [
        "http-route-for-listener-on-port-80",
        "http-route-for-listener-on-port-8080",
        "http-route-for-listener-on-port-443",
    ] {
        assert_accepted(&t, INFRA, r, 1);
    }
    let on = |port: u16, path: &str| Request::get(port, "example.org", path);
    assert_redirects(
        &t,
        gw80,
        &[
            (
                on(80, "/scheme-nil-and-port-nil"),
                302,
                "http://example.org/scheme-nil-and-port-nil",
            ),
            (
                on(80, "/scheme-nil-and-port-80"),
                302,
                "http://example.org/scheme-nil-and-port-80",
            ),
            (
                on(80, "/scheme-nil-and-port-8080"),
                302,
                "http://example.org:8080/scheme-nil-and-port-8080",
            ),
            (
                on(80, "/scheme-https-and-port-nil"),
                302,
                "https://example.org/scheme-https-and-port-nil",
            ),
            (
                on(80, "/scheme-https-and-port-443"),
                302,
                "https://example.org/scheme-https-and-port-443",
            ),
            (
                on(80, "/scheme-https-and-port-8443"),
                302,
                "https://example.org:8443/scheme-https-and-port-8443",
            ),
        ],
    );
    assert_redirects(
        &t,
        gw8080,
        &[
            // No scheme, no port: the listener's port.
            (
                on(8080, "/scheme-nil-and-port-nil"),
                302,
                "http://example.org:8080/scheme-nil-and-port-nil",
            ),
            (
                on(8080, "/scheme-nil-and-port-80"),
                302,
                "http://example.org/scheme-nil-and-port-80",
            ),
            // A scheme without a port: the scheme's well-known port, not the listener's.
            (
                on(8080, "/scheme-https-and-port-nil"),
                302,
                "https://example.org/scheme-https-and-port-nil",
            ),
        ],
    );
    assert_redirects(
        &t,
        gw443,
        &[
            (
                on(443, "/scheme-nil-and-port-nil"),
                302,
                "https://example.org/scheme-nil-and-port-nil",
            ),
            (
                on(443, "/scheme-nil-and-port-443"),
                302,
                "https://example.org/scheme-nil-and-port-443",
            ),
            (
                on(443, "/scheme-nil-and-port-8443"),
                302,
                "https://example.org:8443/scheme-nil-and-port-8443",
            ),
            (
                on(443, "/scheme-http-and-port-nil"),
                302,
                "http://example.org/scheme-http-and-port-nil",
            ),
            (
                on(443, "/scheme-http-and-port-80"),
                302,
                "http://example.org/scheme-http-and-port-80",
            ),
            (
                on(443, "/scheme-http-and-port-8080"),
                302,
                "http://example.org:8080/scheme-http-and-port-8080",
            ),
        ],
    );
}

/// The header modifier of the rewrite tests' `...-and-modify-headers` rules.
const MODIFY_HEADERS: &str = r#"
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Header-Set, value: set-overwrites-values}]
        add: [{name: X-Header-Add, value: header-val-1}, {name: X-Header-Add-Append, value: header-val-2}]
        remove: [X-Header-Remove]"#;

/// A request carrying the headers the modifier changes.
fn with_headers(req: Request) -> Request {
    req.header("X-Header-Add-Append", "append-val-1")
        .header("X-Header-Set", "some-set-value")
        .header("X-Header-Remove", "remove-val")
}

/// The backend saw the modifier's changes.
fn assert_modified_headers(seen: &Seen) {
    let h = |name| header(&seen.headers, name);
    assert_eq!(h("X-Header-Add").as_deref(), Some("header-val-1"));
    assert_eq!(
        h("X-Header-Add-Append").as_deref(),
        Some("append-val-1,header-val-2")
    );
    assert_eq!(h("X-Header-Set").as_deref(), Some("set-overwrites-values"));
    assert_eq!(h("X-Header-Remove"), None);
}

#[test]
fn http_route_rewrite_host() {
    let t = run(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: rewrite-host, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  hostnames: [rewrite.example]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /one}}}}]
    filters:
    - {{type: URLRewrite, urlRewrite: {{hostname: one.example.org}}}}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
  - filters:
    - {{type: URLRewrite, urlRewrite: {{hostname: example.org}}}}
    backendRefs: [{{name: infra-backend-v2, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /rewrite-host-and-modify-headers}}}}]
    filters:
    - {{type: URLRewrite, urlRewrite: {{hostname: test.example.org}}}}{MODIFY_HEADERS}
    backendRefs: [{{name: infra-backend-v2, port: 8080}}]
"#
    ));
    assert_accepted(&t, INFRA, "rewrite-host", 1);
    let gw = "same-namespace";
    let one = forwarded(&t, gw, &get_host("rewrite.example", "/one"));
    assert_eq!(
        (one.backend.as_str(), one.host.as_str(), one.path.as_str()),
        (
            "gateway-conformance-infra/infra-backend-v1",
            "one.example.org",
            "/one"
        )
    );
    let two = forwarded(&t, gw, &get_host("rewrite.example", "/two"));
    assert_eq!(
        (two.backend.as_str(), two.host.as_str(), two.path.as_str()),
        (
            "gateway-conformance-infra/infra-backend-v2",
            "example.org",
            "/two"
        )
    );
    let three = forwarded(
        &t,
        gw,
        &with_headers(get_host(
            "rewrite.example",
            "/rewrite-host-and-modify-headers",
        )),
    );
    assert_eq!(
        (three.backend.as_str(), three.host.as_str()),
        (
            "gateway-conformance-infra/infra-backend-v2",
            "test.example.org"
        )
    );
    assert_modified_headers(&three);
}

#[test]
fn http_route_rewrite_path() {
    let rewrite = |prefix: &str, path: &str, more: &str| {
        format!(
            r#"
  - matches: [{{path: {{type: PathPrefix, value: {prefix}}}}}]
    filters:
    - type: URLRewrite
      urlRewrite: {{path: {path}}}{more}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]"#
        )
    };
    let manifest = [
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: rewrite-path, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:"#
            .to_owned(),
        rewrite(
            "/prefix/one",
            "{type: ReplacePrefixMatch, replacePrefixMatch: /one}",
            "",
        ),
        rewrite(
            "/strip-prefix",
            "{type: ReplacePrefixMatch, replacePrefixMatch: /}",
            "",
        ),
        rewrite(
            "/full/one",
            "{type: ReplaceFullPath, replaceFullPath: /one}",
            "",
        ),
        rewrite(
            "/full/rewrite-path-and-modify-headers",
            "{type: ReplaceFullPath, replaceFullPath: /test}",
            MODIFY_HEADERS,
        ),
        rewrite(
            "/prefix/rewrite-path-and-modify-headers",
            "{type: ReplacePrefixMatch, replacePrefixMatch: /prefix}",
            MODIFY_HEADERS,
        ),
        "\n".to_owned(),
    ];
    let t = run(&manifest.concat());
    assert_accepted(&t, INFRA, "rewrite-path", 1);
    let gw = "same-namespace";
    for (path, want) in [
        ("/prefix/one/two", "/one/two"),
        ("/strip-prefix/three", "/three"),
        ("/strip-prefix", "/"),
        ("/full/one/two", "/one"),
    ] {
        let seen = forwarded(&t, gw, &get(path));
        assert_eq!(seen.backend, "gateway-conformance-infra/infra-backend-v1");
        assert_eq!(seen.path, want, "{path}");
        // The Host is not touched by a path rewrite.
        assert_eq!(seen.host, "example.com");
    }
    for (path, want) in [
        ("/full/rewrite-path-and-modify-headers/test", "/test"),
        ("/prefix/rewrite-path-and-modify-headers/one", "/prefix/one"),
    ] {
        let seen = forwarded(&t, gw, &with_headers(get(path)));
        assert_eq!(seen.path, want, "{path}");
        assert_modified_headers(&seen);
    }
}

/// Deviation: Avi cannot copy requests to a second pool (no mirror action in HTTP policies),
/// so every rule with a RequestMirror filter is refused (`UnsupportedValue`, naming it).
#[test]
fn http_route_request_mirror_is_refused() {
    let t = run(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: request-mirror, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /mirror}}}}]
    filters:
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v2, namespace: gateway-conformance-infra, port: 8080}}}}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /mirror-and-modify-headers}}}}]
    filters:{MODIFY_HEADERS}
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v2, namespace: gateway-conformance-infra, port: 8080}}}}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
"#
    ));
    assert_refused(
        &t,
        "request-mirror",
        "RequestMirror",
        &["/mirror", "/mirror-and-modify-headers"],
    );
}

/// Deviation: as HTTPRouteRequestMirror, with two mirror filters per rule.
#[test]
fn http_route_request_multiple_mirrors_is_refused() {
    let t = run(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: request-multiple-mirrors, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /multi-mirror}}}}]
    filters:
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v2, namespace: gateway-conformance-infra, port: 8080}}}}
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v3, namespace: gateway-conformance-infra, port: 8080}}}}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /multi-mirror-and-modify-headers}}}}]
    filters:{MODIFY_HEADERS}
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v2, namespace: gateway-conformance-infra, port: 8080}}}}
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v3, namespace: gateway-conformance-infra, port: 8080}}}}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
"#
    ));
    assert_refused(
        &t,
        "request-multiple-mirrors",
        "RequestMirror",
        &["/multi-mirror", "/multi-mirror-and-modify-headers"],
    );
}

/// Deviation: as HTTPRouteRequestMirror, with a percentage or fraction of requests mirrored.
#[test]
fn http_route_request_percentage_mirror_is_refused() {
    let t = run(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: request-percentage-mirror, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /percent-mirror}}}}]
    filters:
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v2, port: 8080}}, percent: 20}}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /percent-mirror-fraction}}}}]
    filters:
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v2, port: 8080}}, fraction: {{numerator: 25, denominator: 50}}}}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
  - matches: [{{path: {{type: PathPrefix, value: /percent-mirror-and-modify-headers}}}}]
    filters:{MODIFY_HEADERS}
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: infra-backend-v2, port: 8080}}, percent: 35}}
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
"#
    ));
    assert_refused(
        &t,
        "request-percentage-mirror",
        "RequestMirror",
        &[
            "/percent-mirror",
            "/percent-mirror-fraction",
            "/percent-mirror-and-modify-headers",
        ],
    );
}

/// What a client gets for `req` when the conformance echo server answers after `delay_ms`
/// (its `?delay=`): the backend's 200, or Avi's 504 when the pool's `server_timeout` (Avi's
/// default, 60 minutes, when it is unset or 0) runs out first. avi-sim's data plane sends the
/// same requests to a real slow backend (`tests/tests/data_plane_conformance.rs`).
fn status_after_delay(t: &gateway_translate::Translation, req: &Request, delay_ms: u32) -> u16 {
    let out = send(t, "same-namespace", req);
    assert_eq!(
        out.backend().as_deref(),
        Some("gateway-conformance-infra/infra-backend-v1"),
        "{req:?}"
    );
    let limit = pool_of(t, &out)
        .server_timeout
        .filter(|ms| *ms > 0)
        .unwrap_or(3_600_000);
    if delay_ms > limit { 504 } else { 200 }
}

/// The server timeout of the pool `req` is sent to.
fn server_timeout_of(t: &gateway_translate::Translation, req: &Request) -> Option<u32> {
    pool_of(t, &send(t, "same-namespace", req)).server_timeout
}

/// `timeouts.request` is the rule's pools' `server_timeout`; `0s` is the longest Avi has.
#[test]
fn http_route_timeout_request() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: request-timeout, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /request-timeout}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {request: 500ms}
  - matches: [{path: {type: PathPrefix, value: /disable-request-timeout}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {request: "0s"}
"#);
    assert_accepted(&t, INFRA, "request-timeout", 1);
    assert_eq!(status_after_delay(&t, &get("/request-timeout"), 0), 200);
    assert_eq!(
        status_after_delay(&t, &get("/request-timeout?delay=1s"), 1_000),
        504
    );
    assert_eq!(
        status_after_delay(&t, &get("/disable-request-timeout?delay=1s"), 1_000),
        200
    );
    assert_eq!(server_timeout_of(&t, &get("/request-timeout")), Some(500));
    assert_eq!(
        server_timeout_of(&t, &get("/disable-request-timeout")),
        Some(gateway_translate::timeouts::MAX_SERVER_TIMEOUT_MS)
    );
}

/// `timeouts.backendRequest` likewise (with no retries, one attempt is the whole exchange).
#[test]
fn http_route_timeout_backend_request() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-request-timeout, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /backend-timeout}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {backendRequest: 500ms}
  - matches: [{path: {type: PathPrefix, value: /disable-backend-timeout}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {request: "0s", backendRequest: "0s"}
"#);
    assert_accepted(&t, INFRA, "backend-request-timeout", 1);
    assert_eq!(status_after_delay(&t, &get("/backend-timeout"), 0), 200);
    assert_eq!(
        status_after_delay(&t, &get("/backend-timeout?delay=1s"), 1_000),
        504
    );
    assert_eq!(
        status_after_delay(&t, &get("/disable-backend-timeout?delay=1s"), 1_000),
        200
    );
    assert_eq!(server_timeout_of(&t, &get("/backend-timeout")), Some(500));
}

/// A timeout Avi cannot hold, or one that is not a duration, drops its rule with a reason that
/// names the limit; the route's other rules are served, and rules without timeouts keep Avi's
/// default.
#[test]
fn timeouts_avi_cannot_hold_drop_their_rule() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: long-timeouts, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /seven-hours}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {request: 7h}
  - matches: [{path: {type: PathPrefix, value: /fraction}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
    timeouts: {backendRequest: 1.5s}
  - matches: [{path: {type: PathPrefix, value: /plain}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    let conditions = route_parent(&t, INFRA, "long-timeouts", "same-namespace").conditions;
    assert_condition(&conditions, "Accepted", "True", Some("Accepted"));
    let partial = condition(&conditions, "PartiallyInvalid");
    assert_eq!(partial.reason, "UnsupportedValue");
    assert_eq!(
        partial.message,
        "Dropped Rule: timeouts.request 7h is longer than Avi's longest pool server timeout, 6h (21600000 ms)"
    );
    expect(
        &t,
        "same-namespace",
        &[
            (get("/plain"), V1),
            (get("/seven-hours"), None),
            (get("/fraction"), None),
        ],
    );
    assert_eq!(server_timeout_of(&t, &get("/plain")), None);
}

/// The pool a forwarded request reaches: infra-backend-v1's pod at `target_port`, plain text,
/// HTTP/2 (`enable_http2`) or not; the child keeps `System-HTTP`, whose WebSocket proxying the
/// controller turns on by default.
fn assert_plain_to(
    t: &gateway_translate::Translation,
    req: &Request,
    target_port: u16,
    http2: bool,
) {
    let out = send(t, "same-namespace", req);
    assert_eq!(
        out.backend().as_deref(),
        Some("gateway-conformance-infra/infra-backend-v1")
    );
    let pool = pool_of(t, &out);
    let servers: Vec<(String, Option<u16>)> = pool
        .servers
        .iter()
        .map(|s| (s.ip.addr.clone(), s.port))
        .collect();
    assert_eq!(servers, [("10.1.0.1".to_owned(), Some(target_port))]);
    assert!(pool.ssl_profile_ref.is_none(), "{pool:?}");
    assert_eq!(pool.enable_http2, http2.then_some(true), "{pool:?}");
    let Outcome::Forward { child, .. } = &out else {
        unreachable!()
    };
    let vs = t
        .model
        .virtual_services
        .iter()
        .find(|v| &v.name == child)
        .unwrap();
    assert_eq!(
        vs.application_profile_ref.as_deref(),
        Some("/api/applicationprofile/?name=System-HTTP")
    );
}

/// `appProtocol: kubernetes.io/h2c`: the pool speaks HTTP/2 with prior knowledge
/// (`enable_http2` on a plain pool). Traffic: `tests/tests/data_plane_conformance.rs`.
#[test]
fn http_route_backend_protocol_h2c() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-protocol-h2c, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8081}]
"#);
    assert_accepted(&t, INFRA, "backend-protocol-h2c", 1);
    assert_plain_to(&t, &get("/"), 3001, true);
    // The other ports of the same Service stay HTTP/1.1.
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-protocol-h1, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    assert_plain_to(&t, &get("/"), 3000, false);
}

/// `appProtocol: kubernetes.io/ws`: served like any HTTP/1.1 backend; the upgrade passes
/// through the child's `System-HTTP` profile (WebSockets on). Traffic:
/// `tests/tests/data_plane_conformance.rs`.
#[test]
fn http_route_backend_protocol_websocket() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: backend-protocol-ws, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /ws}}]
    backendRefs: [{name: infra-backend-v1, port: 8082}]
"#);
    assert_accepted(&t, INFRA, "backend-protocol-ws", 1);
    assert_plain_to(
        &t,
        &get("/ws")
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket"),
        3002,
        false,
    );
}
