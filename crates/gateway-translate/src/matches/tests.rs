use serde_json::json;

use super::*;

fn m(v: serde_json::Value) -> HttpRouteRulesMatches {
    serde_json::from_value(v).unwrap()
}

struct Pcre(fancy_regex::Regex);

impl Pcre {
    fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s).unwrap()
    }
}

fn query_regex(t: &[MatchTarget]) -> Pcre {
    Pcre(fancy_regex::Regex::new(&t[0].query.as_ref().unwrap().match_str[0]).unwrap())
}

#[test]
fn prefix_is_segment_wise_and_ignores_a_trailing_slash() {
    for value in ["/v2", "/v2/"] {
        let t = targets(
            &m(json!({"path": {"type": "PathPrefix", "value": value}})),
            &[80],
        )
        .unwrap();
        let paths: Vec<_> = t
            .iter()
            .map(|t| {
                let p = t.path.as_ref().unwrap();
                (p.match_criteria.clone(), p.match_str.clone())
            })
            .collect();
        assert_eq!(
            paths,
            [
                (PathMatchCriteria::Equals, vec!["/v2".to_owned()]),
                (PathMatchCriteria::BeginsWith, vec!["/v2/".to_owned()]),
            ]
        );
    }
    let root = targets(&m(json!({})), &[80]).unwrap();
    assert_eq!(root.len(), 1);
    assert_eq!(
        root[0].path.as_ref().unwrap().match_criteria,
        PathMatchCriteria::BeginsWith
    );
    assert_eq!(root[0].vs_port.as_ref().unwrap().ports, [80]);
}

#[test]
fn exact_and_regex_paths_are_one_target_each() {
    let t = targets(
        &m(json!({"path": {"type": "Exact", "value": "/one"}})),
        &[80, 443],
    )
    .unwrap();
    assert_eq!(t.len(), 1);
    let p = t[0].path.as_ref().unwrap();
    assert_eq!(p.match_criteria, PathMatchCriteria::Equals);
    assert_eq!(p.match_case, Some(MatchCase::Sensitive));
    let t = targets(
        &m(json!({"path": {"type": "RegularExpression", "value": "/a.*"}})),
        &[80],
    )
    .unwrap();
    assert_eq!(
        t[0].path.as_ref().unwrap().match_criteria,
        PathMatchCriteria::RegexMatch
    );
}

#[test]
fn headers_exact_first_of_a_repeated_name_and_regex_refused() {
    let t = targets(
        &m(json!({"headers": [
            {"name": "Version", "value": "two"},
            {"name": "version", "value": "three"},
            {"name": "Color", "value": "blue", "type": "Exact"}]})),
        &[80],
    )
    .unwrap();
    let hdrs: Vec<_> = t[0]
        .hdrs
        .iter()
        .map(|h| (h.hdr.as_str(), h.value[0].as_str()))
        .collect();
    assert_eq!(hdrs, [("Version", "two"), ("Color", "blue")]);
    assert_eq!(t[0].hdrs[0].match_criteria, HdrMatchCriteria::Equals);

    let err = targets(
        &m(json!({"headers": [{"name": "v", "value": "t.*", "type": "RegularExpression"}]})),
        &[80],
    )
    .unwrap_err();
    assert!(err.to_string().contains("RegularExpression"), "{err}");
}

#[test]
fn method_is_one_avi_method() {
    let t = targets(&m(json!({"method": "PATCH"})), &[80]).unwrap();
    assert_eq!(t[0].method.as_ref().unwrap().methods, [HttpMethod::Patch]);
    let wire = serde_json::to_value(&t[0]).unwrap();
    assert_eq!(
        wire["method"],
        json!({"match_criteria": "IS_IN", "methods": ["HTTP_METHOD_PATCH"]})
    );
}

#[test]
fn one_query_parameter_matches_whole_pairs_only() {
    let t = targets(
        &m(json!({"queryParams": [{"name": "animal", "value": "whale"}]})),
        &[80],
    )
    .unwrap();
    let re = query_regex(&t);
    for yes in [
        "animal=whale",
        "animal=whale&otherparam=irrelevant",
        "x=1&animal=whale",
    ] {
        assert!(re.is_match(yes), "{yes}");
    }
    for no in [
        "animal=whaledolphin",
        "ANIMAL=whale",
        "animal=Whale",
        "xanimal=whale",
        "color=blue",
        "",
    ] {
        assert!(!re.is_match(no), "{no}");
    }
    assert_eq!(
        t[0].query.as_ref().unwrap().match_case,
        Some(MatchCase::Sensitive)
    );
}

#[test]
fn several_query_parameters_are_anded_in_any_order() {
    let t = targets(
        &m(json!({"queryParams": [
            {"name": "animal", "value": "dolphin"},
            {"name": "color", "value": "blue"}]})),
        &[80],
    )
    .unwrap();
    let re = query_regex(&t);
    for yes in [
        "animal=dolphin&color=blue",
        "color=blue&animal=dolphin",
        "color=blue&x=y&animal=dolphin",
    ] {
        assert!(re.is_match(yes), "{yes}");
    }
    for no in [
        "animal=dolphin",
        "color=blue",
        "animal=dolphin&color=yellow",
    ] {
        assert!(!re.is_match(no), "{no}");
    }
    let sixteen: Vec<_> = (0..16)
        .map(|i| json!({"name": format!("p{i}"), "value": "v"}))
        .collect();
    let t = targets(&m(json!({"queryParams": sixteen})), &[80]).unwrap();
    let all: Vec<String> = (0..16).rev().map(|i| format!("p{i}=v")).collect();
    assert!(query_regex(&t).is_match(&all.join("&")));
    assert!(!query_regex(&t).is_match(&all[1..].join("&")));
}

#[test]
fn query_values_are_literal() {
    let t = targets(
        &m(json!({"queryParams": [{"name": "q", "value": "a.b*(c)"}]})),
        &[80],
    )
    .unwrap();
    let re = query_regex(&t);
    assert!(re.is_match("q=a.b*(c)"));
    assert!(!re.is_match("q=aXbbbc"));
}

#[test]
fn all_conditions_are_on_every_target() {
    let t = targets(
        &m(json!({"path": {"type": "PathPrefix", "value": "/path2"},
                  "headers": [{"name": "version", "value": "two"}],
                  "queryParams": [{"name": "animal", "value": "whale"}],
                  "method": "POST"})),
        &[8080],
    )
    .unwrap();
    assert_eq!(t.len(), 2);
    for target in &t {
        assert_eq!(target.hdrs.len(), 1);
        assert!(target.query.is_some() && target.method.is_some());
        assert_eq!(target.vs_port.as_ref().unwrap().ports, [8080]);
    }
}
