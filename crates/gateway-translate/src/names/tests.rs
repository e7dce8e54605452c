//! Tests of the AKO naming scheme.
//!
//! Where the vectors come from:
//! - *upstream*: literally in AKO's tests or docs (quoted in `shared/reference/ako-upstream.md`);
//! - *Go*: produced by running AKO's own `Match`/`PathMatch`/`HeaderMatch` types, its
//!   `ParseRouteConfig` defaulting, `json.Marshal`, `fnv.New32a` and Go's `sort.Sort` (go1.19's
//!   `sort/zsortinterface.go` with the go1.22+ `breakPatterns` xorshift, as in AKO's go1.24
//!   toolchain) on generated rules (`go_sort_vectors.jsonl`, `ako_match_vectors.jsonl`);
//! - *computed*: by hand from the scheme, hashes checked with Python's `hashlib`.

use gateway_api::httproutes::{
    HttpRouteRules, HttpRouteRulesMatches, HttpRouteRulesMatchesHeaders,
    HttpRouteRulesMatchesHeadersType, HttpRouteRulesMatchesMethod, HttpRouteRulesMatchesPath,
    HttpRouteRulesMatchesPathType, HttpRouteRulesMatchesQueryParams,
};

use super::*;

fn path(kind: Option<HttpRouteRulesMatchesPathType>, value: Option<&str>) -> HttpRouteRulesMatches {
    HttpRouteRulesMatches {
        path: Some(HttpRouteRulesMatchesPath {
            r#type: kind,
            value: value.map(str::to_owned),
        }),
        ..Default::default()
    }
}

fn prefix_match(value: &str) -> HttpRouteRulesMatches {
    path(Some(HttpRouteRulesMatchesPathType::PathPrefix), Some(value))
}

fn header(
    kind: Option<HttpRouteRulesMatchesHeadersType>,
    name: &str,
    value: &str,
) -> HttpRouteRulesMatchesHeaders {
    HttpRouteRulesMatchesHeaders {
        r#type: kind,
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

fn rule(matches: Vec<HttpRouteRulesMatches>) -> HttpRouteRules {
    HttpRouteRules {
        matches: Some(matches),
        ..Default::default()
    }
}

fn named(name: &str, matches: Vec<HttpRouteRulesMatches>) -> HttpRouteRules {
    HttpRouteRules {
        name: Some(name.to_owned()),
        ..rule(matches)
    }
}

/// What AKO renders for one match with the given path and type and no headers.
fn one(path: &str, kind: &str) -> String {
    format!(r#"{{"PathMatch":{{"Path":"{path}","Type":"{kind}"}},"HeaderMatch":[]}}"#)
}

#[test]
fn fnv32a_known_vectors() {
    assert_eq!(fnv32a(""), 2_166_136_261);
    assert_eq!(fnv32a("a"), 0xe40c_292c);
    assert_eq!(fnv32a("foobar"), 0xbf9c_f968);
}

#[test]
fn sha1_hex_known_vectors() {
    assert_eq!(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

/// Upstream: `TestHTTPRouteWithRouteBackendExtensionBackendTLS` expects the PKIProfile
/// `ako-crd-operator-cluster--0b6ba42e8d5697de9305a54bb9495ab58b13233a`, which ako-crd-operator
/// names `lib.EncodeWithPrefix("default-pki-profile-tls-01", …, "ako-crd-operator-cluster--")`:
/// the same encoding as ours, under another prefix.
#[test]
fn sha1_hex_matches_the_upstream_encoded_name() {
    assert_eq!(
        format!(
            "ako-crd-operator-cluster--{}",
            sha1_hex("default-pki-profile-tls-01")
        ),
        "ako-crd-operator-cluster--0b6ba42e8d5697de9305a54bb9495ab58b13233a"
    );
}

/// Upstream: the example rendering in ako-upstream.md §3.4.
#[test]
fn one_path_prefix_match_renders_as_ako_does() {
    assert_eq!(
        matches_json(&rule(vec![prefix_match("/bar")])),
        r#"[{"PathMatch":{"Path":"/bar","Type":"PathPrefix"},"HeaderMatch":[]}]"#
    );
}

#[test]
fn path_type_and_value_are_defaulted() {
    let rendered = matches_json(&rule(vec![path(None, None)]));
    assert_eq!(rendered, format!("[{}]", one("/", "PathPrefix")));

    let rendered = matches_json(&rule(vec![path(None, Some("/x"))]));
    assert_eq!(rendered, format!("[{}]", one("/x", "PathPrefix")));

    let exact = Some(HttpRouteRulesMatchesPathType::Exact);
    assert_eq!(
        matches_json(&rule(vec![path(exact, None)])),
        format!("[{}]", one("/", "Exact"))
    );

    // An empty value is a value: AKO only defaults a nil pointer.
    let regex = Some(HttpRouteRulesMatchesPathType::RegularExpression);
    assert_eq!(
        matches_json(&rule(vec![path(regex, Some(""))])),
        format!("[{}]", one("", "RegularExpression"))
    );
}

#[test]
fn absent_path_renders_null_and_absent_headers_an_empty_list() {
    let no_path = HttpRouteRulesMatches::default();
    assert_eq!(
        matches_json(&rule(vec![no_path])),
        r#"[{"PathMatch":null,"HeaderMatch":[]}]"#
    );
}

#[test]
fn a_rule_without_matches_renders_an_empty_list() {
    assert_eq!(matches_json(&HttpRouteRules::default()), "[]");
    assert_eq!(matches_json(&rule(vec![])), "[]");
    assert_eq!(
        rule_hash(&HttpRouteRules::default()),
        fnv32a("[]").to_string()
    );
}

#[test]
fn headers_render_type_name_value_in_order_given() {
    let m = HttpRouteRulesMatches {
        headers: Some(vec![
            header(Some(HttpRouteRulesMatchesHeadersType::Exact), "x-b", "1"),
            header(
                Some(HttpRouteRulesMatchesHeadersType::RegularExpression),
                "x-a",
                "v.*",
            ),
            header(None, "x-c", "2"),
        ]),
        ..prefix_match("/h")
    };
    assert_eq!(
        matches_json(&rule(vec![m])),
        concat!(
            r#"[{"PathMatch":{"Path":"/h","Type":"PathPrefix"},"HeaderMatch":["#,
            r#"{"Type":"Exact","Name":"x-b","Value":"1"},"#,
            r#"{"Type":"RegularExpression","Name":"x-a","Value":"v.*"},"#,
            r#"{"Type":"","Name":"x-c","Value":"2"}]}]"#
        )
    );
}

#[test]
fn query_params_and_method_do_not_appear() {
    let m = HttpRouteRulesMatches {
        method: Some(HttpRouteRulesMatchesMethod::Get),
        query_params: Some(vec![HttpRouteRulesMatchesQueryParams {
            name: "q".to_owned(),
            value: "1".to_owned(),
            ..Default::default()
        }]),
        ..prefix_match("/bar")
    };
    assert_eq!(
        matches_json(&rule(vec![m])),
        matches_json(&rule(vec![prefix_match("/bar")]))
    );
}

#[test]
fn matches_are_sorted_by_path_bytes() {
    let r = rule(vec![
        prefix_match("/foo"),
        prefix_match("/Bar"),
        prefix_match("/bar"),
        path(Some(HttpRouteRulesMatchesPathType::Exact), Some("/")),
    ]);
    assert_eq!(
        matches_json(&r),
        format!(
            "[{},{},{},{}]",
            one("/", "Exact"),
            one("/Bar", "PathPrefix"),
            one("/bar", "PathPrefix"),
            one("/foo", "PathPrefix")
        )
    );
}

/// With 12 matches or fewer Go's `sort.Sort` is an insertion sort: equal paths keep their order,
/// and a match without a path compares false both ways, so nothing moves across it.
#[test]
fn equal_paths_keep_their_order_and_pathless_matches_block_moves() {
    let with_header = |p: &str, v: &str| HttpRouteRulesMatches {
        headers: Some(vec![header(
            Some(HttpRouteRulesMatchesHeadersType::Exact),
            "h",
            v,
        )]),
        ..prefix_match(p)
    };
    let r = rule(vec![
        with_header("/b", "1"),
        with_header("/a", "2"),
        with_header("/b", "3"),
        HttpRouteRulesMatches::default(),
        with_header("/a", "4"),
    ]);
    let entry = |p: &str, v: &str| {
        let path = format!(r#"{{"PathMatch":{{"Path":"{p}","Type":"PathPrefix"}}"#);
        let headers = format!(r#""HeaderMatch":[{{"Type":"Exact","Name":"h","Value":"{v}"}}]"#);
        format!("{path},{headers}}}")
    };
    assert_eq!(
        matches_json(&r),
        format!(
            r#"[{},{},{},{{"PathMatch":null,"HeaderMatch":[]}},{}]"#,
            entry("/a", "2"),
            entry("/b", "1"),
            entry("/b", "3"),
            entry("/a", "4")
        )
    );
}

/// Go's `encoding/json` with HTML escaping; `\b` and `\f` as since go1.22 (AKO builds with
/// go1.24; go1.19 wrote `\u0008` and `\u000c`).
#[test]
fn strings_are_escaped_as_go_does() {
    let r = rule(vec![HttpRouteRulesMatches {
        headers: Some(vec![header(
            None,
            "n",
            "<a href=\"x\">&\\\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é\u{2028}\u{2029}",
        )]),
        ..Default::default()
    }]);
    assert_eq!(
        matches_json(&r),
        concat!(
            r#"[{"PathMatch":null,"HeaderMatch":[{"Type":"","Name":"n","Value":""#,
            r#"\u003ca href=\"x\"\u003e\u0026\\\b\f\n\r\t\u0001\u001f"#,
            "\u{7f}é",
            r#"\u2028\u2029"}]}]"#
        )
    );
}

#[test]
fn rule_hash_is_fnv_of_the_matches_json_when_unnamed() {
    // Computed: fnv32a(`[{"PathMatch":{"Path":"/foo","Type":"PathPrefix"},"HeaderMatch":[]}]`).
    let r = rule(vec![prefix_match("/foo")]);
    assert_eq!(rule_hash(&r), "2501521062");
    assert_eq!(rule_hash(&rule(vec![prefix_match("/bar")])), "291035045");
    assert_eq!(rule_label(&r), "2501521062");
}

#[test]
fn rule_name_takes_precedence_over_matches() {
    let a = named("rule-a", vec![prefix_match("/foo")]);
    let b = named(
        "rule-a",
        vec![prefix_match("/other"), prefix_match("/more")],
    );
    assert_eq!(rule_hash(&a), "2431484769");
    assert_eq!(rule_hash(&a), rule_hash(&b));
    assert_eq!(rule_label(&a), "rule-a");
    // AKO tests `rule.Name != ""`: an empty name is no name.
    let empty = named("", vec![prefix_match("/foo")]);
    assert_eq!(
        rule_hash(&empty),
        rule_hash(&rule(vec![prefix_match("/foo")]))
    );
    assert_eq!(rule_label(&empty), "2501521062");
}

#[test]
fn prefix_and_parent_vs_and_vsvip() {
    assert_eq!(prefix("cluster"), "ako-gw-cluster--");
    // Upstream: `TestGatewayWithValidListenersAndGatewayClass` expects the message
    // `{"VSUUID":"virtualservice-ako-gw-cluster--default-gateway-01-EVH-random-uuid"}`, the mock
    // controller's uuid for the parent VS `ako-gw-cluster--default-gateway-01-EVH`.
    let parent = parent_vs("cluster", "default", "gateway-01");
    assert_eq!(parent, "ako-gw-cluster--default-gateway-01-EVH");
    assert_eq!(vsvip(&parent), "ako-gw-cluster--default-gateway-01-EVH");
}

#[test]
fn child_vs_pool_group_and_policy_set_share_one_name() {
    // Computed: sha1("default-gateway-hr-01-default-http-route-hr-01-2501521062").
    let child = child_vs(
        "cluster",
        "default",
        "gateway-hr-01",
        "default",
        "http-route-hr-01",
        "2501521062",
    );
    assert_eq!(
        child,
        "ako-gw-cluster--ee63c645786b5f3cdd07d99013128374c734562a"
    );
    assert_eq!(
        pool_group(
            "cluster",
            "default",
            "gateway-hr-01",
            "default",
            "http-route-hr-01",
            "2501521062"
        ),
        child
    );
    assert_eq!(http_policy_set(&child), child);
    let route = RouteRef {
        gw_ns: "default",
        gw: "gateway-hr-01",
        route_ns: "default",
        route: "http-route-hr-01",
        rule_hash: "2501521062",
    };
    assert_eq!(route.child_vs("cluster"), child);

    // Computed: a named rule, sha1("default-gateway-hr-01-default-http-route-hr-01-2431484769").
    let hash = rule_hash(&named("rule-a", vec![prefix_match("/foo")]));
    assert_eq!(
        child_vs(
            "cluster",
            "default",
            "gateway-hr-01",
            "default",
            "http-route-hr-01",
            &hash
        ),
        "ako-gw-cluster--2883153b012d41eb78fce596a1113c8c8bd7c9d9"
    );
}

#[test]
fn pool_names() {
    let route = RouteRef {
        gw_ns: "default",
        gw: "gateway-hr-01",
        route_ns: "default",
        route: "http-route-hr-01",
        rule_hash: "2501521062",
    };
    // Computed: sha1 of
    // "default-gateway-hr-01-default-http-route-hr-01-2501521062-default-avisvc-8080".
    assert_eq!(
        pool("cluster", &route, "default", "avisvc", 8080),
        "ako-gw-cluster--e6412e2479fccacfcf88fcec1c2afdecaa48e730"
    );
    // A backendRef without a port is port 0 to AKO.
    assert_eq!(
        pool("cluster", &route, "default", "avisvc", 0),
        "ako-gw-cluster--ad1304e577f53d95948e7e6446b21145f7579217"
    );
}

#[test]
fn persistence_profile_puts_the_type_before_the_hash() {
    let route = RouteRef {
        gw_ns: "default",
        gw: "gateway-hr-01",
        route_ns: "default",
        route: "http-route-hr-01",
        rule_hash: "2431484769",
    };
    // Computed: sha1 of
    // "default-gateway-hr-01-default-http-route-hr-01-PERSISTENCE_TYPE_HTTP_COOKIE-2431484769".
    assert_eq!(
        persistence_profile("cluster", &route, "PERSISTENCE_TYPE_HTTP_COOKIE"),
        "ako-gw-cluster--d59efa95c7863c93b61343d26b644e61fe53d678"
    );
}

#[test]
fn tls_key_cert_and_default_backend() {
    // Computed: sha1("default-gateway-01-default-my-secret").
    assert_eq!(
        tls_key_cert("cluster", "default", "gateway-01", "default", "my-secret"),
        "ako-gw-cluster--0dcff965d82e56f29664c2f533958676da1e4b15"
    );
    assert_eq!(
        default_backend_policy("cluster"),
        "ako-gw-cluster--default-backend"
    );
}

/// One line of `go_sort_vectors.jsonl`: paths as numbers (-1 for no path), and the input
/// positions in the order Go's `sort.Sort` left them. `hits` names the branches of Go's pdqsort
/// the case went through (insertion sort, partialInsertionSort, partitionEqual, breakPatterns,
/// reverseRange, heapSort).
#[derive(serde::Deserialize)]
struct SortVector {
    hits: Vec<String>,
    input: Vec<i64>,
    order: Vec<usize>,
}

#[test]
fn go_sort_replays_go_on_go_vectors() {
    let mut seen = std::collections::BTreeSet::new();
    for (line_no, line) in include_str!("go_sort_vectors.jsonl").lines().enumerate() {
        let vector: SortVector = serde_json::from_str(line).unwrap();
        seen.extend(vector.hits);
        let mut items: Vec<(i64, usize)> = vector
            .input
            .iter()
            .copied()
            .zip(0..vector.input.len())
            .collect();
        go_sort(&mut items, |a, b| a.0 >= 0 && b.0 >= 0 && a.0 < b.0);
        let order: Vec<usize> = items.iter().map(|item| item.1).collect();
        assert_eq!(order, vector.order, "line {}", line_no + 1);
    }
    for branch in [
        "insertion",
        "psorted",
        "pshift",
        "peq",
        "break",
        "rev",
        "heap",
    ] {
        assert!(seen.contains(branch), "no vector goes through {branch}");
    }
}

/// One line of `ako_match_vectors.jsonl`: a generated rule (Gateway API JSON), AKO's
/// `utils.Stringify(rule.Matches)` of it and the decimal `utils.Hash` of its matchName.
#[derive(serde::Deserialize)]
struct MatchVector {
    rule: HttpRouteRules,
    json: String,
    hash: String,
}

#[test]
fn matches_json_and_rule_hash_equal_akos_on_go_vectors() {
    for (line_no, line) in include_str!("ako_match_vectors.jsonl").lines().enumerate() {
        let vector: MatchVector = serde_json::from_str(line).unwrap();
        assert_eq!(
            matches_json(&vector.rule),
            vector.json,
            "line {}",
            line_no + 1
        );
        assert_eq!(rule_hash(&vector.rule), vector.hash, "line {}", line_no + 1);
    }
}
