//! The features Avi expresses only with DataScripts, the upstream manifests as the suite applies
//! them: HTTPRouteCORS and HTTPRouteCORSAllowCredentialsBehavior (each CORS rule's child runs
//! the filter's scripts, reading a table of what the filter says, and requests still reach
//! their backends through the model), and HTTPRoute303Redirect. What only the scripts produce
//! (preflight answers, CORS response headers, the 303) is checked through avi-sim's Service
//! Engine in `tests/tests/data_plane_conformance.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use gateway_translate::Translation;
use gateway_translate::cors::{REQUEST_EVENT, RESPONSE_EVENT};
use support::harness::{INFRA, assert_accepted, assert_gateway_ready, expect, get, run};

macro_rules! upstream {
    ($name:literal) => {
        include_str!(concat!("conformance/upstream/", $name, ".yaml"))
            .replace("{GATEWAY_CLASS_NAME}", "avi-lb")
    };
}

/// The DataScript set of the child serving `path` on Gateway `same-namespace`: both events,
/// the set referenced by the child, and the Lua table's lines.
fn table_of(t: &Translation, path: &str) -> String {
    let child = t
        .model
        .virtual_services
        .iter()
        .find(|v| {
            v.vh_matches.iter().any(|m| {
                m.rules.iter().any(|r| {
                    r.matches
                        .path
                        .as_ref()
                        .is_some_and(|p| p.match_str.iter().any(|s| s == path))
                })
            })
        })
        .unwrap_or_else(|| panic!("no child serves {path}"));
    assert_eq!(child.vs_datascripts.len(), 1, "{}", child.name);
    let set_name = child.vs_datascripts[0]
        .vs_datascript_set_ref
        .name()
        .unwrap();
    assert_eq!(set_name, child.name);
    let set = t
        .model
        .vs_datascript_sets
        .iter()
        .find(|s| s.name == set_name)
        .unwrap();
    let events: Vec<&str> = set.datascript.iter().map(|d| d.evt.as_str()).collect();
    assert_eq!(events, [REQUEST_EVENT, RESPONSE_EVENT]);
    let script = &set.datascript[0].script;
    let start = script.find("local cors = {").unwrap();
    let end = start + script[start..].find("\n}\n").unwrap();
    assert!(set.datascript[1].script.contains(&script[start..end]));
    script[start..end].to_owned()
}

#[test]
fn http_route_cors() {
    let t = run(&upstream!("httproute-cors"));
    assert_gateway_ready(&t, "same-namespace");
    for name in [
        "cors-multiple-origins-methods-headers",
        "cors-wildcard-methods",
        "cors-wildcard-origin",
        "cors-wildcard-methods-headers",
    ] {
        assert_accepted(&t, INFRA, name, 1);
    }
    let cors_1 = table_of(&t, "/cors-1");
    for line in [
        "any_origin = false",
        "exact = {\"https://www.foo.com\"}",
        "wildcard = {{\"https://\", \".bar.com\"}}",
        "credentials = true",
        "methods = \"GET, OPTIONS\"",
        "headers = \"x-header-1, x-header-2\"",
        "expose = \"x-header-3, x-header-4\"",
        "max_age = \"3600\"",
    ] {
        assert!(cors_1.contains(line), "{line} not in {cors_1}");
    }
    let cors_2 = table_of(&t, "/cors-2");
    assert!(cors_2.contains("any_method = true"), "{cors_2}");
    assert!(cors_2.contains("credentials = false"), "{cors_2}");
    let wildcard = table_of(&t, "/cors-wildcard-origin");
    assert!(wildcard.contains("any_origin = true"), "{wildcard}");
    assert!(wildcard.contains("methods = \"PUT\""), "{wildcard}");
    let both = table_of(&t, "/cors-wildcard-methods-headers");
    assert!(both.contains("any_header = true") && both.contains("any_method = true"));
    assert!(both.contains("credentials = true"), "{both}");
    let unauth = table_of(&t, "/cors-wildcard-methods-headers-unauth");
    assert!(unauth.contains("credentials = false"), "{unauth}");
    expect(
        &t,
        "same-namespace",
        &[
            (get("/cors-1"), Some("infra-backend-v1")),
            (get("/cors-2"), Some("infra-backend-v1")),
            (get("/cors-wildcard-origin"), Some("infra-backend-v1")),
            (
                get("/cors-wildcard-methods-headers"),
                Some("infra-backend-v1"),
            ),
            (
                get("/cors-wildcard-methods-headers-unauth"),
                Some("infra-backend-v1"),
            ),
        ],
    );
}

#[test]
fn http_route_cors_allow_credentials_behavior() {
    let t = run(&upstream!("httproute-cors-allow-credentials-behavior"));
    assert_accepted(&t, INFRA, "cors-allow-credentials", 1);
    let f = table_of(&t, "/cors-behavior-creds-false");
    assert!(f.contains("credentials = false") && f.contains("exact = {\"https://app.example\"}"));
    let tr = table_of(&t, "/cors-behavior-creds-true");
    assert!(tr.contains("credentials = true"), "{tr}");
    expect(
        &t,
        "same-namespace",
        &[
            (get("/cors-behavior-creds-false"), Some("infra-backend-v1")),
            (get("/cors-behavior-creds-true"), Some("infra-backend-v1")),
        ],
    );
}

/// A hostile CORS filter drops its rule with the reason, and the route's other rules serve.
#[test]
fn a_cors_filter_that_cannot_be_programmed_drops_its_rule() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hostile-cors, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /bad}}]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://a.com\"\navi.http.close_conn() --"]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /good}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
"#);
    let s = support::harness::route_parent(&t, INFRA, "hostile-cors", "same-namespace");
    let partial = support::harness::condition(&s.conditions, "PartiallyInvalid");
    assert_eq!(partial.reason, "UnsupportedValue");
    assert!(
        partial.message.contains("allowOrigins entry") && !partial.message.contains('\n'),
        "{}",
        partial.message
    );
    assert!(t.model.vs_datascript_sets.is_empty());
    expect(
        &t,
        "same-namespace",
        &[
            (get("/good"), Some("infra-backend-v1")),
            (get("/bad"), None),
        ],
    );
}

#[test]
fn http_route_303_redirect() {
    let t = run(&upstream!("httproute-303-redirect"));
    assert_accepted(&t, INFRA, "303-redirect", 1);
    let child = t
        .model
        .virtual_services
        .iter()
        .find(|v| v.vs_datascripts.len() == 1)
        .unwrap();
    // No redirect action (Avi's cannot say 303) and no backend: the script answers.
    assert!(child.http_policies.is_empty(), "{child:?}");
    let set = &t.model.vs_datascript_sets[0];
    assert_eq!(set.name, child.name);
    assert_eq!(set.datascript.len(), 1);
    assert_eq!(set.datascript[0].evt, REQUEST_EVENT);
    let script = &set.datascript[0].script;
    for line in [
        "status = \"303\"",
        "ports = {{\"80\", \"http\", \"80\"}}",
        "host = \"\"",
        "path = \"keep\"",
        "avi.http.response(tonumber(redirect.status), {Location = location})",
    ] {
        assert!(script.contains(line), "{line} not in {script}");
    }
}

/// A 303 redirect's hostname and paths reach the script only as escaped literals, and a
/// control character refuses the rule.
#[test]
fn a_303_redirect_with_a_hostile_path_drops_its_rule() {
    let t = run(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hostile-303, namespace: gateway-conformance-infra}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /a}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {statusCode: 303, path: {type: ReplaceFullPath, replaceFullPath: "/x\r\nSet-Cookie: a"}}
  - matches: [{path: {type: PathPrefix, value: /b}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {statusCode: 303, hostname: "quote\"d.example", path: {type: ReplacePrefixMatch, replacePrefixMatch: /c}}
"#);
    let s = support::harness::route_parent(&t, INFRA, "hostile-303", "same-namespace");
    let partial = support::harness::condition(&s.conditions, "PartiallyInvalid");
    assert!(
        partial.message.contains("control character"),
        "{}",
        partial.message
    );
    assert_eq!(t.model.vs_datascript_sets.len(), 1);
    let script = &t.model.vs_datascript_sets[0].datascript[0].script;
    assert!(
        script.contains("host = \"quote\\034d.example\""),
        "{script}"
    );
    assert!(script.contains("prefix = \"/b\""), "{script}");
    assert!(script.contains("replacement = \"/c\""), "{script}");
}
