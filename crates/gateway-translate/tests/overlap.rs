//! Routes that overlap on one host and path (issue 16): negation while it is cheap, one grouped
//! child with an ordered policy set when it is not, and in both cases every request goes where
//! the Gateway API's precedence sends it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;

use gateway_translate::Translation;
use support::harness::{INFRA, expect, forwarded, header, run, send};
use support::resolve::Outcome;

const BACKENDS: [&str; 3] = ["infra-backend-v1", "infra-backend-v2", "infra-backend-v3"];

/// `n` routes on Gateway `same-namespace`, path `/`, route `i` matching header `x-h<i>: v`
/// (or `x-h: v<i>` with `one_name`), created `i` seconds apart (route 0 is the oldest), each
/// to `BACKENDS[i % 3]`; `extra(i)` adds filters to rule `i`.
fn routes(n: usize, one_name: bool, extra: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    for i in 0..n {
        let (name, value) = if one_name {
            ("x-h".to_owned(), format!("v{i}"))
        } else {
            (format!("x-h{i}"), "v".to_owned())
        };
        write!(
            out,
            r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r{i}
  namespace: gateway-conformance-infra
  creationTimestamp: "2026-01-01T00:{:02}:{:02}Z"
spec:
  parentRefs: [{{name: same-namespace}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /}}, headers: [{{name: {name}, value: "{value}"}}]}}]
    backendRefs: [{{name: {}, port: 8080}}]
{}
"#,
            i / 60,
            i % 60,
            BACKENDS[i % 3],
            extra(i)
        )
        .unwrap();
    }
    out
}

fn bytes(t: &Translation) -> usize {
    t.model
        .desired()
        .unwrap()
        .iter()
        .map(|d| serde_json::to_vec(&d.body).unwrap().len())
        .sum()
}

fn grouped_children(t: &Translation) -> usize {
    t.model
        .virtual_services
        .iter()
        .filter(|vs| {
            vs.markers.iter().any(|m| m.key == "Host")
                && !vs.markers.iter().any(|m| m.key == "HTTPRouteName")
        })
        .count()
}

#[test]
fn many_header_names_are_grouped_and_the_oldest_route_wins() {
    let t = run(&routes(60, false, |_| String::new()));
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    assert_eq!(grouped_children(&t), 1);
    // Every route's rule is a target of the grouped child, none of its own child.
    let members: Vec<_> = t
        .model
        .virtual_services
        .iter()
        .filter(|vs| vs.markers.iter().any(|m| m.key == "HTTPRouteName"))
        .collect();
    assert!(members.is_empty(), "{:?}", members[0].name);
    // Precedence, written once per member: the oldest matching route takes the request.
    let mut cases = vec![(support::harness::get("/"), None)];
    for i in [0, 1, 7, 30, 59] {
        cases.push((
            support::harness::get("/x").header(&format!("x-h{i}"), "v"),
            Some(BACKENDS[i % 3]),
        ));
        cases.push((
            support::harness::get("/x")
                .header(&format!("x-h{i}"), "v")
                .header("x-h59", "v")
                .header(&format!("x-h{}", i + 1), "v"),
            Some(BACKENDS[i % 3]),
        ));
        cases.push((
            support::harness::get("/x").header(&format!("x-h{i}"), "other"),
            None,
        ));
    }
    expect(&t, "same-namespace", &cases);
}

#[test]
fn grouped_output_grows_linearly() {
    let small = bytes(&run(&routes(100, false, |_| String::new())));
    let large = bytes(&run(&routes(400, false, |_| String::new())));
    // Four times the routes, at most a little over four times the output (negation was N²).
    assert!(
        large < small * 9 / 2,
        "100 routes: {small} bytes, 400 routes: {large} bytes"
    );
}

#[test]
fn a_canary_header_next_to_a_catch_all_keeps_one_child_per_rule() {
    // AKO's layout while negation is cheap.
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: canary, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{headers: [{name: x-canary, value: "1"}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: main, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    assert_eq!(grouped_children(&t), 0);
    expect(
        &t,
        "same-namespace",
        &[
            (
                support::harness::get("/").header("x-canary", "1"),
                Some(BACKENDS[1]),
            ),
            (
                support::harness::get("/").header("x-canary", "2"),
                Some(BACKENDS[0]),
            ),
            (support::harness::get("/"), Some(BACKENDS[0])),
        ],
    );
}

#[test]
fn one_header_with_many_values_stays_negation_free() {
    let t = run(&routes(60, true, |_| String::new()));
    assert_eq!(grouped_children(&t), 0, "disjoint values need no grouping");
    expect(
        &t,
        "same-namespace",
        &[
            (
                support::harness::get("/").header("x-h", "v7"),
                Some(BACKENDS[1]),
            ),
            (
                support::harness::get("/").header("x-h", "v8"),
                Some(BACKENDS[2]),
            ),
            (support::harness::get("/").header("x-h", "v60"), None),
        ],
    );
}

#[test]
fn grouped_members_keep_their_request_filters_and_redirects() {
    let t = run(&routes(40, false, |i| {
        match i {
        3 => "    filters:\n    - type: RequestHeaderModifier\n      requestHeaderModifier: {add: [{name: x-added, value: three}]}\n".into(),
        5 => "    filters:\n    - type: RequestRedirect\n      requestRedirect: {hostname: elsewhere.example, statusCode: 301}\n".into(),
        _ => String::new(),
    }
    }));
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    assert_eq!(grouped_children(&t), 1);
    let seen = forwarded(
        &t,
        "same-namespace",
        &support::harness::get("/a").header("x-h3", "v"),
    );
    assert_eq!(seen.backend, format!("{INFRA}/{}", BACKENDS[0]));
    assert_eq!(header(&seen.headers, "x-added").as_deref(), Some("three"));
    // A higher-precedence member's filters do not reach a lower one's requests, and the
    // other way round.
    let seen = forwarded(
        &t,
        "same-namespace",
        &support::harness::get("/a").header("x-h4", "v"),
    );
    assert_eq!(header(&seen.headers, "x-added"), None);
    let seen = forwarded(
        &t,
        "same-namespace",
        &support::harness::get("/a")
            .header("x-h2", "v")
            .header("x-h3", "v"),
    );
    assert_eq!(seen.backend, format!("{INFRA}/{}", BACKENDS[2]));
    assert_eq!(header(&seen.headers, "x-added"), None);
    match send(
        &t,
        "same-namespace",
        &support::harness::get("/a?q=1").header("x-h5", "v"),
    ) {
        Outcome::Redirect { status, location } => {
            assert_eq!(status, 301);
            assert_eq!(location, "http://elsewhere.example/a?q=1");
        }
        other => panic!("{other:?}"),
    }
    // Route 4 is older than route 5: its backend, not the redirect.
    let seen = forwarded(
        &t,
        "same-namespace",
        &support::harness::get("/a")
            .header("x-h4", "v")
            .header("x-h5", "v"),
    );
    assert_eq!(seen.backend, format!("{INFRA}/{}", BACKENDS[1]));
}

#[test]
fn a_response_filter_keeps_negation_within_a_budget_and_warns_beyond_it() {
    let n = 200;
    let t = run(&routes(n, false, |i| {
        if i == 0 {
            "    filters:\n    - type: ResponseHeaderModifier\n      responseHeaderModifier: {set: [{name: x-from, value: zero}]}\n".into()
        } else {
            String::new()
        }
    }));
    assert_eq!(grouped_children(&t), 0);
    let warned: Vec<_> = t
        .warnings
        .iter()
        .filter(|w| w.reason == "OverlappingRules")
        .collect();
    assert!(!warned.is_empty());
    assert!(warned.len() < n);
    assert!(
        warned[0]
            .message
            .contains("more than 4 conditions per rule")
    );
    // Output stays bounded: the budget is linear in the routes.
    let total_hdrs: usize = t
        .model
        .virtual_services
        .iter()
        .flat_map(|vs| vs.vh_matches.iter())
        .flat_map(|m| m.rules.iter())
        .map(|r| r.matches.hdrs.len())
        .sum();
    assert!(
        total_hdrs <= 4 * 2 * n + 32 + n,
        "{total_hdrs} header conditions"
    );
    // The oldest route, with the response filter, is untouched and still takes its requests.
    let seen = forwarded(
        &t,
        "same-namespace",
        &support::harness::get("/").header("x-h0", "v"),
    );
    assert_eq!(seen.backend, format!("{INFRA}/{}", BACKENDS[0]));
    assert_eq!(seen.response_actions.len(), 1);
}
