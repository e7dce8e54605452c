//! The Gateway conformance tests (gateway-api.md §6.3), each against the suite's base manifests:
//! the statuses it asserts, and the requests it sends resolved through the produced Avi model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::harness::{
    HTTP_ROUTE_KIND, INFRA, WEB, assert_accepted, assert_condition, assert_gateway_ready,
    assert_generation, expect, gateway_class_status, gateway_status, get_host, listener_status,
    route_parent, run, snapshot, store_statuses, supported_kinds, translate_snapshot,
};

/// The listener's conditions as `GatewayAndHTTPRoutesMustBeAccepted` wants them, its supported
/// kinds including HTTPRoute, and `attached` routes.
fn assert_listener_ok(t: &gateway_translate::Translation, gw: &str, listener: &str, attached: i32) {
    let l = listener_status(t, gw, listener);
    assert_condition(&l.conditions, "Accepted", "True", None);
    assert_condition(&l.conditions, "ResolvedRefs", "True", None);
    assert!(
        supported_kinds(&l).contains(&HTTP_ROUTE_KIND.to_owned()),
        "{l:?}"
    );
    assert_eq!(l.attached_routes, attached, "{gw}/{listener}");
}

/// An HTTPS listener whose certificate does not resolve: ResolvedRefs=False with `reason`,
/// HTTPRoute still a supported kind, and `attached` routes.
fn assert_listener_unresolved(
    t: &gateway_translate::Translation,
    gw: &str,
    listener: &str,
    reason: &str,
    attached: i32,
) {
    let l = listener_status(t, gw, listener);
    assert_condition(&l.conditions, "ResolvedRefs", "False", Some(reason));
    assert!(
        supported_kinds(&l).contains(&HTTP_ROUTE_KIND.to_owned()),
        "{l:?}"
    );
    assert_eq!(l.attached_routes, attached, "{gw}/{listener}");
}

#[test]
fn gateway_class_observed_generation_bump() {
    let class = |generation: i64, description: &str| {
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: gatewayclass-observed-generation-bump, generation: {generation}}}
spec: {{controllerName: ako.vmware.com/avi-lb, description: {description}}}
"#
        )
    };
    let t1 = run(&class(1, "old"));
    let s1 = gateway_class_status(&t1, "gatewayclass-observed-generation-bump");
    let c1 = s1.conditions.clone().unwrap_or_default();
    assert_condition(&c1, "Accepted", "True", Some("Accepted"));
    assert_generation(&c1, 1);

    // The patch of spec.description bumps the generation; the stored status is the old one.
    let mut s = snapshot(&class(2, "new"));
    store_statuses(&t1, &mut s);
    let t2 = translate_snapshot(&s);
    let c2 = gateway_class_status(&t2, "gatewayclass-observed-generation-bump")
        .conditions
        .unwrap_or_default();
    assert_condition(&c2, "Accepted", "True", Some("Accepted"));
    assert_generation(&c2, 2);
}

#[test]
fn gateway_observed_generation_bump() {
    let one = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-observed-generation-bump, namespace: gateway-conformance-infra, generation: 1}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: bar.com, allowedRoutes: {namespaces: {from: All}}}
"#;
    let two = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-observed-generation-bump, namespace: gateway-conformance-infra, generation: 2}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: bar.com, allowedRoutes: {namespaces: {from: All}}}
  - {name: alternate, port: 80, protocol: HTTP, hostname: foo.com, allowedRoutes: {namespaces: {from: All}}}
"#;
    let t1 = run(one);
    assert_gateway_ready(&t1, "gateway-observed-generation-bump");
    let s1 = gateway_status(&t1, "gateway-observed-generation-bump");
    assert_generation(&s1.conditions.clone().unwrap_or_default(), 1);

    let mut s = snapshot(two);
    store_statuses(&t1, &mut s);
    let t2 = translate_snapshot(&s);
    assert_gateway_ready(&t2, "gateway-observed-generation-bump");
    let s2 = gateway_status(&t2, "gateway-observed-generation-bump");
    assert_generation(&s2.conditions.clone().unwrap_or_default(), 2);
    for l in s2.listeners.iter().flatten() {
        assert_generation(&l.conditions, 2);
    }
    assert_eq!(s2.listeners.iter().flatten().count(), 2);
}

#[test]
fn gateway_modify_listeners_add() {
    let route = r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: http-route-1, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{kind: Gateway, name: gateway-add-listener, namespace: gateway-conformance-infra}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"#;
    let https = r#"
  - name: https
    port: 443
    protocol: HTTPS
    hostname: secure.test.com
    allowedRoutes: {namespaces: {from: All}}
    tls: {certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: gateway-conformance-infra}]}
"#;
    let gateway = |generation: i64, extra: &str| {
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gateway-add-listener, namespace: gateway-conformance-infra, generation: {generation}}}
spec:
  gatewayClassName: avi-lb
  listeners:{https}{extra}{route}"#
        )
    };
    let t1 = run(&gateway(1, ""));
    assert_listener_ok(&t1, "gateway-add-listener", "https", 1);

    let http = r#"  - {name: http, port: 80, protocol: HTTP, hostname: data.test.com, allowedRoutes: {namespaces: {from: All}}}
"#;
    let mut s = snapshot(&gateway(2, http));
    store_statuses(&t1, &mut s);
    let t2 = translate_snapshot(&s);
    let status = gateway_status(&t2, "gateway-add-listener");
    let names: Vec<&str> = status
        .listeners
        .iter()
        .flatten()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(names, ["https", "http"]);
    assert_listener_ok(&t2, "gateway-add-listener", "https", 1);
    assert_listener_ok(&t2, "gateway-add-listener", "http", 1);
    assert_generation(&status.conditions.clone().unwrap_or_default(), 2);
    assert_accepted(&t2, INFRA, "http-route-1", 1);
    // The route (no hostnames) serves both listeners' hostnames.
    expect(
        &t2,
        "gateway-add-listener",
        &[(get_host("data.test.com", "/"), Some("infra-backend-v1"))],
    );
}

#[test]
fn gateway_modify_listeners_remove() {
    let gateway = |generation: i64, https: bool| {
        let https = if https {
            r#"
  - name: https
    port: 443
    protocol: HTTPS
    hostname: secure.test.com
    allowedRoutes: {namespaces: {from: All}}
    tls: {certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: gateway-conformance-infra}]}"#
        } else {
            ""
        };
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gateway-remove-listener, namespace: gateway-conformance-infra, generation: {generation}}}
spec:
  gatewayClassName: avi-lb
  listeners:{https}
  - {{name: http, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: All}}}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: http-route-2, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{kind: Gateway, name: gateway-remove-listener, namespace: gateway-conformance-infra}}]
  rules:
  - backendRefs: [{{name: infra-backend-v1, port: 8080}}]
"#
        )
    };
    let t1 = run(&gateway(1, true));
    assert_listener_ok(&t1, "gateway-remove-listener", "https", 1);
    assert_listener_ok(&t1, "gateway-remove-listener", "http", 1);

    let mut s = snapshot(&gateway(2, false));
    store_statuses(&t1, &mut s);
    let t2 = translate_snapshot(&s);
    let status = gateway_status(&t2, "gateway-remove-listener");
    let names: Vec<&str> = status
        .listeners
        .iter()
        .flatten()
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(names, ["http"]);
    assert_listener_ok(&t2, "gateway-remove-listener", "http", 1);
    assert_generation(&status.conditions.clone().unwrap_or_default(), 2);
    // Port 443 is no longer served.
    let vs = t2
        .model
        .virtual_services
        .iter()
        .find(|v| v.name == support::harness::parent("gateway-remove-listener"))
        .unwrap();
    let ports: Vec<u16> = vs.services.iter().map(|s| s.port).collect();
    assert_eq!(ports, [80]);
}

#[test]
fn gateway_invalid_route_kind() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-only-invalid-route-kind, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      kinds: [{kind: InvalidRoute}]
      namespaces: {from: All}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-supported-and-invalid-route-kind, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      kinds: [{kind: InvalidRoute}, {kind: HTTPRoute}]
      namespaces: {from: All}
"#);
    let only = listener_status(&t, "gateway-only-invalid-route-kind", "http");
    assert_condition(
        &only.conditions,
        "ResolvedRefs",
        "False",
        Some("InvalidRouteKinds"),
    );
    assert!(supported_kinds(&only).is_empty(), "{only:?}");
    assert_eq!(only.attached_routes, 0);

    let both = listener_status(&t, "gateway-supported-and-invalid-route-kind", "http");
    assert_condition(
        &both.conditions,
        "ResolvedRefs",
        "False",
        Some("InvalidRouteKinds"),
    );
    assert_eq!(supported_kinds(&both), [HTTP_ROUTE_KIND]);
    assert_eq!(both.attached_routes, 0);
}

#[test]
fn gateway_invalid_tls_configuration() {
    let gateway = |name: &str, cert_ref: &str| {
        format!(
            r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: gateway-conformance-infra, generation: 1}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    allowedRoutes: {{namespaces: {{from: All}}}}
    tls: {{certificateRefs: [{cert_ref}]}}
"#
        )
    };
    let manifests = [
        gateway(
            "gateway-certificate-nonexistent-secret",
            r#"{group: "", kind: Secret, name: nonexistent-certificate}"#,
        ),
        gateway(
            "gateway-certificate-unsupported-group",
            "{group: wrong.group.company.io, kind: Secret, name: tls-validity-checks-certificate}",
        ),
        gateway(
            "gateway-certificate-unsupported-kind",
            r#"{group: "", kind: WrongKind, name: tls-validity-checks-certificate}"#,
        ),
        gateway(
            "gateway-certificate-malformed-secret",
            r#"{group: "", kind: Secret, name: malformed-certificate}"#,
        ),
        // tls.crt and tls.key are base64 of "Hello world".
        r#"
---
apiVersion: v1
kind: Secret
metadata: {name: malformed-certificate, namespace: gateway-conformance-infra}
type: kubernetes.io/tls
data: {tls.crt: SGVsbG8gd29ybGQK, tls.key: SGVsbG8gd29ybGQK}
"#
        .to_owned(),
    ];
    let t = run(&manifests.concat());
    for gw in [
        "gateway-certificate-nonexistent-secret",
        "gateway-certificate-unsupported-group",
        "gateway-certificate-unsupported-kind",
        "gateway-certificate-malformed-secret",
    ] {
        assert_listener_unresolved(&t, gw, "https", "InvalidCertificateRef", 0);
        let s = gateway_status(&t, gw);
        assert_generation(&s.conditions.unwrap_or_default(), 1);
    }
}

/// The Gateway of the Secret ReferenceGrant tests: an HTTPS listener whose certificate is
/// Secret `certificate` in the web-backend namespace.
const SECRET_IN_WEB_BACKEND: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: GATEWAY, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    allowedRoutes: {namespaces: {from: All}}
    tls:
      certificateRefs: [{group: "", kind: Secret, name: certificate, namespace: gateway-conformance-web-backend}]
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

const FROM_GATEWAY: &str =
    "{group: gateway.networking.k8s.io, kind: Gateway, namespace: gateway-conformance-infra}";

#[test]
fn gateway_secret_missing_reference_grant() {
    let gw = "gateway-secret-missing-reference-grant";
    let t = run(&SECRET_IN_WEB_BACKEND.replace("GATEWAY", gw));
    assert_listener_unresolved(&t, gw, "https", "RefNotPermitted", 0);
}

#[test]
fn gateway_secret_invalid_reference_grant() {
    let gw = "gateway-secret-invalid-reference-grant";
    let web = "gateway-conformance-web-backend";
    let secret = r#"{group: "", kind: Secret, name: certificate}"#;
    let manifests = [
        SECRET_IN_WEB_BACKEND.replace("GATEWAY", gw),
        grant(
            "reference-grant-wrong-namespace",
            "gateway-conformance-app-backend",
            FROM_GATEWAY,
            secret,
        ),
        grant(
            "reference-grant-wrong-from-group",
            web,
            "{group: not-the-group-youre-looking-for, kind: Gateway, namespace: gateway-conformance-infra}",
            secret,
        ),
        grant(
            "reference-grant-wrong-from-kind",
            web,
            "{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gateway-conformance-infra}",
            secret,
        ),
        grant(
            "reference-grant-wrong-from-namespace",
            web,
            "{group: gateway.networking.k8s.io, kind: Gateway, namespace: not-the-namespace-youre-looking-for}",
            secret,
        ),
        grant(
            "reference-grant-wrong-to-group",
            web,
            FROM_GATEWAY,
            "{group: not-the-group-youre-looking-for, kind: Secret, name: certificate}",
        ),
        grant(
            "reference-grant-wrong-to-kind",
            web,
            FROM_GATEWAY,
            r#"{group: "", kind: Service, name: certificate}"#,
        ),
        grant(
            "reference-grant-wrong-to-name",
            web,
            FROM_GATEWAY,
            r#"{group: "", kind: Secret, name: not-the-certificate-youre-looking-for}"#,
        ),
    ];
    let t = run(&manifests.concat());
    assert_listener_unresolved(&t, gw, "https", "RefNotPermitted", 0);
}

fn assert_granted(t: &gateway_translate::Translation, gw: &str) {
    let l = listener_status(t, gw, "https");
    assert_condition(&l.conditions, "Programmed", "True", Some("Programmed"));
    assert_condition(&l.conditions, "ResolvedRefs", "True", None);
    assert!(
        supported_kinds(&l).contains(&HTTP_ROUTE_KIND.to_owned()),
        "{l:?}"
    );
    assert_eq!(l.attached_routes, 0);
    // The certificate is on the controller and the listener's port is served with TLS.
    let cert = gateway_translate::names::tls_key_cert("cluster", INFRA, gw, WEB, "certificate");
    assert!(
        t.model
            .ssl_key_and_certificates
            .iter()
            .any(|c| c.name == cert)
    );
    let vs = t
        .model
        .virtual_services
        .iter()
        .find(|v| v.name == support::harness::parent(gw))
        .unwrap();
    let ports: Vec<u16> = vs.services.iter().map(|s| s.port).collect();
    assert_eq!(ports, [443]);
}

#[test]
fn gateway_secret_reference_grant_specific() {
    let gw = "gateway-secret-reference-grant-specific";
    let t = run(&[
        SECRET_IN_WEB_BACKEND.replace("GATEWAY", gw),
        grant(
            "reference-grant",
            "gateway-conformance-web-backend",
            FROM_GATEWAY,
            r#"{group: "", kind: Secret, name: certificate}"#,
        ),
    ]
    .concat());
    assert_granted(&t, gw);
}

#[test]
fn gateway_secret_reference_grant_all_in_namespace() {
    let gw = "gateway-secret-reference-grant-all-in-namespace";
    let t = run(&[
        SECRET_IN_WEB_BACKEND.replace("GATEWAY", gw),
        grant(
            "reference-grant",
            "gateway-conformance-web-backend",
            FROM_GATEWAY,
            r#"{group: "", kind: Secret}"#,
        ),
    ]
    .concat());
    assert_granted(&t, gw);
}

#[test]
fn gateway_with_attached_routes() {
    let selector_gateway = |name: &str| {
        format!(
            r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      kinds: [{{kind: HTTPRoute}}]
      namespaces:
        from: Selector
        selector: {{matchLabels: {{kubernetes.io/metadata.name: gateway-conformance-infra}}}}
"#
        )
    };
    let route = |name: &str, gw: &str, section: &str, backend: &str| {
        format!(
            r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{kind: Gateway, name: {gw}, namespace: gateway-conformance-infra{section}}}]
  rules:
  - backendRefs: [{{name: {backend}, port: 8080}}]
"#
        )
    };
    let unresolved = "unresolved-gateway-with-one-attached-unresolved-route";
    let manifests = [
        selector_gateway("gateway-with-one-attached-route"),
        route(
            "http-route-1",
            "gateway-with-one-attached-route",
            "",
            "infra-backend-v1",
        ),
        selector_gateway("gateway-with-two-attached-routes"),
        route(
            "http-route-2",
            "gateway-with-two-attached-routes",
            "",
            "infra-backend-v1",
        ),
        route(
            "http-route-3",
            "gateway-with-two-attached-routes",
            "",
            "infra-backend-v1",
        ),
        format!(
            r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {unresolved}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - name: tls
    port: 443
    protocol: HTTPS
    allowedRoutes:
      kinds: [{{kind: HTTPRoute}}]
      namespaces:
        from: Selector
        selector: {{matchLabels: {{kubernetes.io/metadata.name: gateway-conformance-infra}}}}
    tls:
      mode: Terminate
      certificateRefs: [{{group: "", kind: Secret, name: does-not-exist}}]
"#
        ),
        route(
            "http-route-4",
            unresolved,
            ", sectionName: tls",
            "does-not-exist",
        ),
    ];
    let t = run(&manifests.concat());
    assert_listener_ok(&t, "gateway-with-one-attached-route", "http", 1);
    assert_listener_ok(&t, "gateway-with-two-attached-routes", "http", 2);

    let l = listener_status(&t, unresolved, "tls");
    assert_condition(&l.conditions, "Programmed", "False", None);
    assert_condition(&l.conditions, "ResolvedRefs", "False", None);
    assert!(
        supported_kinds(&l).contains(&HTTP_ROUTE_KIND.to_owned()),
        "{l:?}"
    );
    assert_eq!(l.attached_routes, 1);
    let p = route_parent(&t, INFRA, "http-route-4", unresolved);
    assert_condition(&p.conditions, "ResolvedRefs", "False", None);
    // Nothing is served for a Gateway without a valid listener, and no child VS is left
    // pointing at a parent that does not exist.
    let parent = support::harness::parent(unresolved);
    assert!(t.model.virtual_services.iter().all(|v| {
        v.name != parent && v.vh_parent_vs_ref.as_ref().and_then(|r| r.name()) != Some(&parent)
    }));
}

#[test]
fn gateway_with_attached_routes_with_port_8080() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-with-two-listeners-with-port-8080, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: http-unattached, port: 8080, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}], namespaces: {from: All}}}
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}], namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: http-route-5, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{kind: Gateway, name: gateway-with-two-listeners-with-port-8080, namespace: gateway-conformance-infra, sectionName: http}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    let gw = "gateway-with-two-listeners-with-port-8080";
    assert_listener_ok(&t, gw, "http-unattached", 0);
    assert_listener_ok(&t, gw, "http", 1);
    // The route is served on port 80 only.
    expect(
        &t,
        gw,
        &[
            (get_host("example.com", "/"), Some("infra-backend-v1")),
            (
                support::resolve::Request::get(8080, "example.com", "/"),
                None,
            ),
        ],
    );
}

/// The routes of both listener isolation Gateways: one per listener (by sectionName), each
/// with a path prefix named after its listener; `hostnames` added to each when given.
fn isolation_manifests(gw: &str, hostnames: &str) -> String {
    let listeners = [
        ("empty-hostname", None),
        ("wildcard-example-com", Some("*.example.com")),
        ("wildcard-foo-example-com", Some("*.foo.example.com")),
        ("abc-foo-example-com", Some("abc.foo.example.com")),
    ];
    let mut out = format!(
        r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {gw}, namespace: gateway-conformance-infra}}
spec:
  gatewayClassName: avi-lb
  listeners:
"#
    );
    for (name, host) in listeners {
        let host = host.map_or(String::new(), |h| format!(", hostname: \"{h}\""));
        out.push_str(&format!(
            "  - {{name: {name}, port: 80, protocol: HTTP{host}, allowedRoutes: {{namespaces: {{from: All}}}}}}\n"
        ));
    }
    for (name, _) in listeners {
        out.push_str(&format!(
            r#"
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {gw}-{name}, namespace: gateway-conformance-infra}}
spec:
  parentRefs: [{{name: {gw}, namespace: gateway-conformance-infra, sectionName: {name}}}]{hostnames}
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /{name}}}}}]
    backendRefs: [{{name: infra-backend-v1, port: 8080}}]
"#
        ));
    }
    out
}

#[test]
fn gateway_http_listener_isolation() {
    let plain = "http-listener-isolation";
    let intersecting = "http-listener-isolation-with-hostname-intersection";
    let hostnames = r#"
  hostnames: [bar.com, "*.example.com", "*.foo.example.com", abc.foo.example.com]"#;
    let t = run(&[
        isolation_manifests(plain, ""),
        isolation_manifests(intersecting, hostnames),
    ]
    .concat());
    let hosts_and_owners = [
        ("bar.com", "empty-hostname"),
        ("bar.example.com", "wildcard-example-com"),
        ("bar.foo.example.com", "wildcard-foo-example-com"),
        ("abc.foo.example.com", "abc-foo-example-com"),
    ];
    for gw in [plain, intersecting] {
        for (_, listener) in hosts_and_owners {
            assert_accepted(&t, INFRA, &format!("{gw}-{listener}"), 1);
        }
        let mut cases = Vec::new();
        for (host, owner) in hosts_and_owners {
            for (_, path) in hosts_and_owners {
                // Only the most specific listener's route answers; no fall-back to a less
                // specific listener's routes.
                let want = (path == owner).then_some("infra-backend-v1");
                cases.push((get_host(host, &format!("/{path}")), want));
            }
        }
        expect(&t, gw, &cases);
    }
}

/// `spec.addresses` of type `test/fake-invalid-type` is not one we support: the Gateway is not
/// accepted. Whether an IP is usable is for the controller to say once Avi refuses the VIP
/// (the suite's second step, `AddressNotUsable`); a translation cannot tell, so that step is
/// not reproduced here.
#[test]
fn gateway_static_addresses() {
    let gateway = |addresses: &str| {
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gateway-static-addresses
  namespace: gateway-conformance-infra
  annotations: {{gateway-api/skip-this-for-readiness: "true"}}
spec:
  gatewayClassName: avi-lb
  addresses:{addresses}
  listeners:
  - {{name: http, port: 8080, protocol: HTTP}}
"#
        )
    };
    let invalid = r#"
  - {type: test/fake-invalid-type, value: "fake address teehee!"}"#;
    let unusable = r#"
  - {value: 10.255.255.254}"#;
    let usable = r#"
  - {value: 10.10.10.10}"#;
    let gw = "gateway-static-addresses";

    let t = run(&gateway(&[invalid, unusable, usable].concat()));
    let conditions = gateway_status(&t, gw).conditions.unwrap_or_default();
    assert_condition(&conditions, "Accepted", "False", Some("UnsupportedAddress"));

    let t = run(&gateway(usable));
    let s = gateway_status(&t, gw);
    let conditions = s.conditions.clone().unwrap_or_default();
    assert_condition(&conditions, "Accepted", "True", Some("Accepted"));
    assert_condition(&conditions, "Programmed", "True", Some("Programmed"));
    assert_listener_ok(&t, gw, "http", 0);
    let addresses: Vec<(Option<String>, String)> = s
        .addresses
        .iter()
        .flatten()
        .map(|a| (a.r#type.clone(), a.value.clone()))
        .collect();
    assert_eq!(
        addresses,
        [(Some("IPAddress".to_owned()), "10.10.10.10".to_owned())]
    );
}

/// GatewayOptionalAddressValue (provisional, `GatewayAddressEmpty`): an IPAddress without a
/// value asks for one to be assigned. The Gateway is programmed on a VIP the controller
/// allocates (`auto_allocate_ip`), whose address the controller then publishes.
#[test]
fn gateway_optional_address_value() {
    let gw = "gateway-without-address-value";
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-without-address-value, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  addresses:
  - type: IPAddress
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
"#);
    assert_gateway_ready(&t, gw);
    let parent = support::harness::parent(gw);
    let vip = t
        .model
        .vsvips
        .iter()
        .find(|v| v.name == parent)
        .expect("the Gateway's VS VIP");
    assert_eq!(vip.vip.len(), 1, "{vip:?}");
    assert_eq!(vip.vip[0].auto_allocate_ip, Some(true), "{vip:?}");
    assert!(vip.vip[0].ip_address.is_none(), "{vip:?}");
}

/// Deviation: `spec.infrastructure` labels and annotations are for the Kubernetes objects an
/// in-cluster data plane creates; Avi's Service Engines are none, so nothing carries them. The
/// Gateway is still accepted and programmed, which is the rest of what the test asserts.
#[test]
fn gateway_infrastructure_deviation() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-with-infrastructure-metadata, namespace: gateway-conformance-infra}
spec:
  gatewayClassName: avi-lb
  infrastructure:
    labels: {key2: value2}
    annotations: {key1: value1}
  listeners:
  - {name: http, port: 80, protocol: HTTP}
"#);
    assert_gateway_ready(&t, "gateway-with-infrastructure-metadata");
}
