use serde_json::json;

use super::*;

fn route(matches: serde_json::Value) -> GrpcRoute {
    serde_json::from_value(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute",
        "metadata": {"name": "g", "namespace": "ns"},
        "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["grpc.example.com"],
                 "rules": [{"matches": matches, "backendRefs": [{"name": "svc", "port": 50051}]}]}
    }))
    .unwrap()
}

fn path(r: &HttpRoute) -> (String, String) {
    let m = &r.spec.rules.as_ref().unwrap()[0].matches.as_ref().unwrap()[0];
    let p = m.path.as_ref().unwrap();
    (
        serde_json::to_value(&p.r#type)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned(),
        p.value.clone().unwrap(),
    )
}

#[test]
fn method_matches_become_path_matches() {
    let cases = [
        (
            json!({"service": "pkg.Echo", "method": "Ping"}),
            ("Exact", "/pkg.Echo/Ping"),
        ),
        (json!({"service": "pkg.Echo"}), ("PathPrefix", "/pkg.Echo")),
        (
            json!({"method": "Ping"}),
            ("RegularExpression", "^/[^/]+/Ping$"),
        ),
        (
            json!({"type": "RegularExpression", "service": "pkg\\..*", "method": "P.*"}),
            ("RegularExpression", "^/(?:pkg\\..*)/(?:P.*)$"),
        ),
    ];
    for (method, (kind, value)) in cases {
        let r = as_http_route(&route(json!([{"method": method}]))).unwrap();
        assert_eq!(path(&r), (kind.to_owned(), value.to_owned()), "{method}");
        assert_eq!(r.spec.hostnames, Some(vec!["grpc.example.com".to_owned()]));
    }
}

#[test]
fn headers_and_backends_carry_over() {
    let r = as_http_route(&route(json!([{
        "method": {"service": "s", "method": "m"},
        "headers": [{"name": "version", "value": "two"}]}])))
    .unwrap();
    let rule = &r.spec.rules.as_ref().unwrap()[0];
    let h = &rule.matches.as_ref().unwrap()[0].headers.as_ref().unwrap()[0];
    assert_eq!((h.name.as_str(), h.value.as_str()), ("version", "two"));
    let b = &rule.backend_refs.as_ref().unwrap()[0];
    assert_eq!((b.name.as_str(), b.port), ("svc", Some(50051)));
}

#[test]
fn unusable_method_matches_are_refused_with_a_reason() {
    for (method, want) in [
        (json!({}), GrpcError::EmptyMethod),
        (
            json!({"service": "a/b", "method": "m"}),
            GrpcError::BadName("service", "a/b".into()),
        ),
        (
            json!({"service": "s", "method": "m\n"}),
            GrpcError::BadName("method", "m\\n".into()),
        ),
        (
            json!({"type": "RegularExpression", "service": "a)|(.*", "method": "m"}),
            GrpcError::BadRegex("service", "a)|(.*".into()),
        ),
        (
            json!({"type": "RegularExpression", "service": "s", "method": "(x"}),
            GrpcError::BadRegex("method", "(x".into()),
        ),
    ] {
        assert_eq!(
            as_http_route(&route(json!([{"method": method}]))).unwrap_err(),
            want
        );
    }
}
