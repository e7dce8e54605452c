use serde_json::json;

use super::*;

fn filters(v: serde_json::Value) -> Vec<HttpRouteRulesFilters> {
    serde_json::from_value(v).unwrap()
}

fn matches(v: serde_json::Value) -> Vec<HttpRouteRulesMatches> {
    serde_json::from_value(v).unwrap()
}

const HTTP80: ListenerPort = ListenerPort {
    port: 80,
    https: false,
};

fn actions(a: &[HttpHdrAction]) -> Vec<(String, String, Option<String>, u32)> {
    a.iter()
        .map(|a| {
            let h = a.hdr.as_ref().unwrap();
            (
                a.action.as_str().to_owned(),
                h.name.clone().unwrap(),
                h.value.as_ref().and_then(|v| v.val.clone()),
                a.hdr_index.unwrap(),
            )
        })
        .collect()
}

#[test]
fn request_header_modifier_is_add_set_remove_sorted_and_indexed() {
    // AKO's TestHTTPRouteFilterWithUrlRewrite: ADD new-header, REPLACE my-header, REMOVE old-header.
    let p = rule_policy(
        "child",
        &filters(json!([{"type": "RequestHeaderModifier", "requestHeaderModifier": {
            "set": [{"name": "my-header", "value": "val"}],
            "add": [{"name": "z-header", "value": "z"}, {"name": "new-header", "value": "any-value"}],
            "remove": ["old-header"]}}])),
        &[],
        &[HTTP80],
    )
    .unwrap();
    assert_eq!(p.request.len(), 1);
    assert_eq!(p.request[0].name, "child");
    assert!(p.response.is_empty() && !p.redirects);
    let s = |x: &str| x.to_owned();
    assert_eq!(
        actions(&p.request[0].hdr_action),
        [
            (s("HTTP_ADD_HDR"), s("new-header"), Some(s("any-value")), 0),
            (s("HTTP_ADD_HDR"), s("z-header"), Some(s("z")), 1),
            (s("HTTP_REPLACE_HDR"), s("my-header"), Some(s("val")), 2),
            (s("HTTP_REMOVE_HDR"), s("old-header"), None, 3),
        ]
    );
}

#[test]
fn response_header_modifier_is_a_response_rule() {
    let p = rule_policy(
        "child",
        &filters(
            json!([{"type": "ResponseHeaderModifier", "responseHeaderModifier": {
            "set": [{"name": "X-Header-Set", "value": "v"}]}}]),
        ),
        &[],
        &[HTTP80],
    )
    .unwrap();
    assert!(p.request.is_empty());
    assert_eq!(p.response.len(), 1);
    assert_eq!(
        p.response[0].hdr_action[0].action,
        HttpHdrActionType::Replace
    );
}

#[test]
fn redirect_hostname_and_status_as_ako_writes_them() {
    let p = rule_policy(
        "child",
        &filters(
            json!([{"type": "RequestRedirect", "requestRedirect": {"hostname": "redirect.com"}}]),
        ),
        &[],
        &[HTTP80],
    )
    .unwrap();
    assert!(p.redirects);
    assert_eq!(p.request.len(), 1);
    let r = p.request[0].redirect_action.as_ref().unwrap();
    assert_eq!(
        r.host.as_ref().unwrap().tokens[0].str_value.as_deref(),
        Some("redirect.com")
    );
    assert_eq!(r.status_code, Some(RedirectStatusCode::Code302));
    assert_eq!(r.protocol, RedirectProtocol::Http);
    assert_eq!(r.port, Some(80));
    assert!(r.path.is_none(), "no path: the request path is kept");
    assert!(p.request[0].match_.is_none());
}

#[test]
fn redirect_defaults_follow_each_listener() {
    // gateway-api.md §6.5 HTTPRouteRedirectPortAndScheme.
    let https443 = ListenerPort {
        port: 443,
        https: true,
    };
    let http8080 = ListenerPort {
        port: 8080,
        https: false,
    };
    let case = |redirect: serde_json::Value, on: ListenerPort| {
        let p = rule_policy(
            "c",
            &filters(json!([{"type": "RequestRedirect", "requestRedirect": redirect}])),
            &[],
            &[on],
        )
        .unwrap();
        let r = p.request[0].redirect_action.clone().unwrap();
        (r.protocol, r.port.unwrap())
    };
    use RedirectProtocol::{Http, Https};
    assert_eq!(case(json!({}), HTTP80), (Http, 80));
    assert_eq!(case(json!({"port": 8080}), HTTP80), (Http, 8080));
    assert_eq!(case(json!({"scheme": "https"}), HTTP80), (Https, 443));
    assert_eq!(
        case(json!({"scheme": "https", "port": 8443}), HTTP80),
        (Https, 8443)
    );
    assert_eq!(case(json!({}), http8080), (Http, 8080));
    assert_eq!(case(json!({"scheme": "https"}), http8080), (Https, 443));
    assert_eq!(case(json!({}), https443), (Https, 443));
    assert_eq!(case(json!({"scheme": "http"}), https443), (Http, 80));
    assert_eq!(
        case(json!({"scheme": "http", "port": 8080}), https443),
        (Http, 8080)
    );

    // One child on two listeners whose defaults differ: one rule per listener port.
    let p = rule_policy(
        "c",
        &filters(
            json!([{"type": "RequestRedirect", "requestRedirect": {"hostname": "example.org"}}]),
        ),
        &[],
        &[HTTP80, https443],
    )
    .unwrap();
    assert_eq!(p.request.len(), 2);
    assert_eq!(
        p.request[1]
            .match_
            .as_ref()
            .unwrap()
            .vs_port
            .as_ref()
            .unwrap()
            .ports,
        [443]
    );
}

#[test]
fn redirect_status_codes_avi_cannot_send_are_refused() {
    // 301/302/307: the redirect action; 303: a DataScript; 308: neither.
    for (code, action, script) in [
        (301, true, false),
        (302, true, false),
        (307, true, false),
        (303, false, true),
    ] {
        let r = rule_policy(
            "c",
            &filters(json!([{"type": "RequestRedirect", "requestRedirect": {"statusCode": code}}])),
            &[],
            &[HTTP80],
        )
        .unwrap();
        assert!(r.redirects, "{code}");
        assert_eq!(
            r.request.iter().any(|q| q.redirect_action.is_some()),
            action,
            "{code}"
        );
        assert_eq!(!r.datascripts.is_empty(), script, "{code}");
    }
    let e = rule_policy(
        "c",
        &filters(json!([{"type": "RequestRedirect", "requestRedirect": {"statusCode": 308}}])),
        &[],
        &[HTTP80],
    )
    .unwrap_err();
    assert_eq!(e, Unsupported::RedirectStatus(308));
}

#[test]
fn a_303_redirect_script_resolves_each_listener_port() {
    let p = rule_policy(
        "c",
        &filters(json!([{"type": "RequestRedirect", "requestRedirect": {"statusCode": 303}}])),
        &[],
        &[
            HTTP80,
            ListenerPort {
                port: 443,
                https: true,
            },
        ],
    )
    .unwrap();
    let script = &p.datascripts[0].script;
    assert!(
        script.contains(r#"ports = {{"80", "http", "80"}, {"443", "https", "443"}}"#),
        "{script}"
    );
    assert!(script.contains("avi.vs.port()"), "{script}");
}

#[test]
fn redirect_and_rewrite_paths() {
    let prefix = matches(json!([{"path": {"type": "PathPrefix", "value": "/original-prefix"}}]));
    let p = rule_policy(
        "c",
        &filters(
            json!([{"type": "RequestRedirect", "requestRedirect": {"path": {
            "type": "ReplacePrefixMatch", "replacePrefixMatch": "/replacement-prefix"}}}]),
        ),
        &prefix,
        &[HTTP80],
    )
    .unwrap();
    let path = p.request[0]
        .redirect_action
        .as_ref()
        .unwrap()
        .path
        .clone()
        .unwrap();
    assert_eq!(path.tokens.len(), 2);
    assert_eq!(
        path.tokens[0].str_value.as_deref(),
        Some("replacement-prefix")
    );
    assert_eq!(path.tokens[1].type_, UriTokenType::Path);
    assert_eq!(path.tokens[1].start_index, Some(1));

    // AKO's TestHTTPRouteFilterWithUrlRewrite: host "rewrite.com", path token "bar" from "/bar".
    let p = rule_policy(
        "c",
        &filters(
            json!([{"type": "URLRewrite", "urlRewrite": {"hostname": "rewrite.com",
            "path": {"type": "ReplaceFullPath", "replaceFullPath": "/bar"}}}]),
        ),
        &[],
        &[HTTP80],
    )
    .unwrap();
    let rw = p.request[0].rewrite_url_action.as_ref().unwrap();
    assert_eq!(
        rw.host_hdr.as_ref().unwrap().tokens[0].str_value.as_deref(),
        Some("rewrite.com")
    );
    assert_eq!(
        rw.path.as_ref().unwrap().tokens[0].str_value.as_deref(),
        Some("bar")
    );
    assert_eq!(rw.query.as_ref().unwrap().keep_query, Some(true));

    // ReplacePrefixMatch to "/" strips the prefix: only the remaining segments.
    let strip = matches(json!([{"path": {"type": "PathPrefix", "value": "/strip-prefix"}}]));
    let p = rule_policy(
        "c",
        &filters(json!([{"type": "URLRewrite", "urlRewrite": {"path": {
            "type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}])),
        &strip,
        &[HTTP80],
    )
    .unwrap();
    let tokens = &p.request[0]
        .rewrite_url_action
        .as_ref()
        .unwrap()
        .path
        .as_ref()
        .unwrap()
        .tokens;
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].type_, UriTokenType::Path);

    // Without a single PathPrefix match there is no prefix to replace.
    let err = rule_policy(
        "c",
        &filters(json!([{"type": "URLRewrite", "urlRewrite": {"path": {
            "type": "ReplacePrefixMatch", "replacePrefixMatch": "/x"}}}])),
        &matches(json!([{"path": {"type": "Exact", "value": "/a"}}])),
        &[HTTP80],
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Unsupported::PrefixWithoutPrefixMatch("URLRewrite")
    ));
}

#[test]
fn filters_avi_cannot_express_are_named() {
    for (f, name) in [
        (
            json!({"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "v2", "port": 8080}}}),
            "RequestMirror",
        ),
        (
            json!({"type": "ExtensionRef", "extensionRef": {"group": "x.io", "kind": "K", "name": "n"}}),
            "ExtensionRef",
        ),
        (
            json!({"type": "RequestHeaderModifier"}),
            "RequestHeaderModifier",
        ),
    ] {
        let err = rule_policy("c", &filters(json!([f])), &[], &[HTTP80]).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn backend_filters_other_than_ako_extensions_are_refused() {
    let f: Vec<HttpRouteRulesBackendRefsFilters> = serde_json::from_value(json!([
        {"type": "ExtensionRef", "extensionRef": {"group": "ako.vmware.com", "kind": "RouteBackendExtension", "name": "rbe"}}
    ]))
    .unwrap();
    assert!(check_backend_filters(&f).is_ok());
    let f: Vec<HttpRouteRulesBackendRefsFilters> = serde_json::from_value(json!([
        {"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "Backend", "value": "v1"}]}}
    ]))
    .unwrap();
    assert_eq!(
        check_backend_filters(&f).unwrap_err(),
        Unsupported::BackendFilter("RequestHeaderModifier")
    );
}
