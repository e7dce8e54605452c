use avi_client::AviRef;
use avi_client::models::{PathMatch, PathMatchCriteria, VhMatch, VsType};

use super::*;

fn target(path: &str, hdrs: &[(&str, &str)]) -> MatchTarget {
    MatchTarget {
        path: Some(PathMatch::new(PathMatchCriteria::BeginsWith, [path])),
        hdrs: hdrs
            .iter()
            .map(|(n, v)| HdrMatch {
                hdr: (*n).into(),
                match_criteria: HdrMatchCriteria::Equals,
                match_case: Some(MatchCase::Sensitive),
                value: vec![(*v).into()],
                extra: Default::default(),
            })
            .collect(),
        vs_port: Some(PortMatch::is_in([80])),
        ..MatchTarget::default()
    }
}

fn child(name: &str, targets: Vec<MatchTarget>) -> VirtualService {
    VirtualService {
        name: name.into(),
        type_: Some(VsType::VhChild),
        vh_parent_vs_ref: Some(AviRef::by_name("parent")),
        vh_matches: vec![VhMatch {
            host: "*".into(),
            rules: targets
                .into_iter()
                .map(|t| VhMatchRule {
                    name: String::new(),
                    matches: t,
                    extra: Default::default(),
                })
                .collect(),
            extra: Default::default(),
        }],
        ..VirtualService::default()
    }
}

/// Runs the pass over children alone (no pool groups: never grouped).
fn run(vs: &mut Vec<VirtualService>, orders: &BTreeMap<String, ChildOrder>) -> Vec<Overlap> {
    let mut model = AviModel {
        virtual_services: std::mem::take(vs),
        ..AviModel::default()
    };
    let overlaps = make_disjoint(&mut model, orders, &|p, h, k| format!("{p}/{h}/{k}"));
    *vs = model.virtual_services;
    overlaps
}

fn order(rule: usize, origins: Vec<TargetOrigin>) -> ChildOrder {
    ChildOrder {
        kind: "HTTPRoute",
        created: Some("2026-01-01T00:00:00Z".into()),
        route: ("ns".into(), "r".into()),
        rule,
        targets: origins,
    }
}

fn origin(headers: usize) -> TargetOrigin {
    TargetOrigin {
        match_index: 0,
        exact: false,
        method: false,
        headers,
        query: 0,
    }
}

#[test]
fn equal_rank_rules_of_one_route_keep_list_order() {
    // gateway-api.md §6.4 HTTPRouteHeaderMatching: rule 2 {version: two} before rule 4
    // {color: blue}; a request with both goes to rule 2.
    let mut vs = vec![
        child("rule2", vec![target("/", &[("version", "two")])]),
        child("rule4", vec![target("/", &[("color", "blue")])]),
    ];
    let orders = BTreeMap::from([
        ("rule2".to_owned(), order(1, vec![origin(1)])),
        ("rule4".to_owned(), order(3, vec![origin(1)])),
    ]);
    let overlaps = run(&mut vs, &orders);
    assert!(overlaps.is_empty());
    assert_eq!(
        vs[0].vh_matches[0].rules.len(),
        1,
        "the first rule is untouched"
    );
    let r4 = &vs[1].vh_matches[0].rules;
    assert_eq!(r4.len(), 1);
    let hdrs: Vec<_> = r4[0]
        .matches
        .hdrs
        .iter()
        .map(|h| (h.hdr.as_str(), h.match_criteria.clone()))
        .collect();
    assert_eq!(
        hdrs,
        [
            ("color", HdrMatchCriteria::Equals),
            ("version", HdrMatchCriteria::DoesNotEqual)
        ]
    );
}

#[test]
fn more_headers_win_whatever_the_rule_order() {
    let mut vs = vec![
        child("one", vec![target("/", &[("version", "two")])]),
        child(
            "two",
            vec![target("/", &[("version", "two"), ("color", "orange")])],
        ),
    ];
    let orders = BTreeMap::from([
        ("one".to_owned(), order(0, vec![origin(1)])),
        ("two".to_owned(), order(1, vec![origin(2)])),
    ]);
    run(&mut vs, &orders);
    // The two-header rule is untouched; the one-header rule excludes color=orange.
    assert_eq!(vs[1].vh_matches[0].rules[0].matches.hdrs.len(), 2);
    let one = &vs[0].vh_matches[0].rules;
    assert_eq!(one.len(), 1);
    assert_eq!(
        one[0].matches.hdrs[1].match_criteria,
        HdrMatchCriteria::DoesNotEqual
    );
    assert_eq!(one[0].matches.hdrs[1].hdr, "color");
}

#[test]
fn contradicting_and_different_paths_are_left_alone() {
    let mut vs = vec![
        child("a", vec![target("/", &[("version", "one")])]),
        child("b", vec![target("/", &[("version", "two")])]),
        child("c", vec![target("/v2/", &[])]),
    ];
    let orders = BTreeMap::from([
        ("a".to_owned(), order(0, vec![origin(1)])),
        ("b".to_owned(), order(1, vec![origin(1)])),
        ("c".to_owned(), order(2, vec![origin(0)])),
    ]);
    run(&mut vs, &orders);
    for v in &vs {
        assert_eq!(v.vh_matches[0].rules.len(), 1);
        assert!(
            v.vh_matches[0].rules[0]
                .matches
                .hdrs
                .iter()
                .all(|h| h.match_criteria == HdrMatchCriteria::Equals)
        );
    }
}

#[test]
fn a_fully_shadowed_rule_loses_its_host_and_its_child() {
    let mut vs = vec![
        child("first", vec![target("/", &[])]),
        child("second", vec![target("/", &[])]),
    ];
    let orders = BTreeMap::from([
        ("first".to_owned(), order(0, vec![origin(0)])),
        ("second".to_owned(), order(1, vec![origin(0)])),
    ]);
    run(&mut vs, &orders);
    assert_eq!(vs.len(), 1, "a child that can match nothing goes");
    assert_eq!(vs[0].name, "first");
    assert_eq!(vs[0].vh_matches.len(), 1);
}

#[test]
fn ports_only_the_lower_rule_serves_stay_unrestricted() {
    let mut high = target("/", &[("version", "two")]);
    high.vs_port = Some(PortMatch::is_in([80]));
    let mut low = target("/", &[]);
    low.vs_port = Some(PortMatch::is_in([80, 8080]));
    let mut vs = vec![child("high", vec![high]), child("low", vec![low])];
    let orders = BTreeMap::from([
        ("high".to_owned(), order(0, vec![origin(1)])),
        ("low".to_owned(), order(1, vec![origin(0)])),
    ]);
    run(&mut vs, &orders);
    let low = &vs[1].vh_matches[0].rules;
    assert_eq!(low.len(), 2);
    assert_eq!(low[0].matches.vs_port.as_ref().unwrap().ports, [8080]);
    assert!(low[0].matches.hdrs.is_empty());
    assert_eq!(low[1].matches.vs_port.as_ref().unwrap().ports, [80]);
    assert_eq!(
        low[1].matches.hdrs[0].match_criteria,
        HdrMatchCriteria::DoesNotEqual
    );
}

fn query(regex: &str) -> Option<QueryMatch> {
    Some(QueryMatch {
        match_criteria: QueryMatchCriteria::RegexMatch,
        match_case: Some(MatchCase::Sensitive),
        match_str: vec![regex.into()],
        extra: Default::default(),
    })
}

fn pcre(t: &MatchTarget) -> fancy_regex::Regex {
    fancy_regex::Regex::new(&t.query.as_ref().unwrap().match_str[0]).unwrap()
}

#[test]
fn method_and_query_conditions_are_negated_too() {
    let mut with_method = target("/", &[]);
    with_method.method = Some(MethodMatch::is(avi_client::models::HttpMethod::Patch));
    let mut with_query = target("/", &[]);
    with_query.query = query("^(?=(?:.*&)?a=b(?:&|$))");
    let plain = target("/", &[]);
    let mut vs = vec![
        child("m", vec![with_method]),
        child("q", vec![with_query]),
        child("p", vec![plain]),
    ];
    let orders = BTreeMap::from([
        (
            "m".to_owned(),
            order(
                0,
                vec![TargetOrigin {
                    method: true,
                    ..origin(0)
                }],
            ),
        ),
        (
            "q".to_owned(),
            order(
                1,
                vec![TargetOrigin {
                    query: 1,
                    ..origin(0)
                }],
            ),
        ),
        ("p".to_owned(), order(2, vec![origin(0)])),
    ]);
    let overlaps = run(&mut vs, &orders);
    assert!(overlaps.is_empty());
    let q = &vs[1].vh_matches[0].rules;
    assert_eq!(q.len(), 1);
    assert_eq!(
        q[0].matches.method.as_ref().unwrap().match_criteria,
        MethodMatchCriteria::IsNotIn
    );
    // p: ¬PATCH, then ∧ ¬(a=b).
    let p = &vs[2].vh_matches[0].rules;
    assert_eq!(p.len(), 1);
    assert!(p[0].matches.method.is_some());
    let re = pcre(&p[0].matches);
    assert!(re.is_match("x=1").unwrap());
    assert!(!re.is_match("x=1&a=b").unwrap());
}

#[test]
fn a_query_rule_excludes_a_more_specific_query_rule() {
    // gateway-api.md §6.5 HTTPRouteQueryParamMatching: {animal=dolphin, color=blue} beats
    // {animal=dolphin} for `animal=dolphin&color=blue`.
    let mut two = target("/", &[]);
    two.query = query("^(?=(?:.*&)?animal=dolphin(?:&|$))(?=(?:.*&)?color=blue(?:&|$))");
    let mut one = target("/", &[]);
    one.query = query("^(?=(?:.*&)?animal=dolphin(?:&|$))");
    let mut vs = vec![child("one", vec![one]), child("two", vec![two])];
    let orders = BTreeMap::from([
        (
            "one".to_owned(),
            order(
                1,
                vec![TargetOrigin {
                    query: 1,
                    ..origin(0)
                }],
            ),
        ),
        (
            "two".to_owned(),
            order(
                2,
                vec![TargetOrigin {
                    query: 2,
                    ..origin(0)
                }],
            ),
        ),
    ]);
    assert!(run(&mut vs, &orders).is_empty());
    let re = pcre(&vs[0].vh_matches[0].rules[0].matches);
    assert!(re.is_match("animal=dolphin").unwrap());
    assert!(re.is_match("animal=dolphin&color=yellow").unwrap());
    assert!(!re.is_match("animal=dolphin&color=blue").unwrap());
    assert!(!re.is_match("color=blue&animal=dolphin").unwrap());
}

#[test]
fn costly_overlap_becomes_one_grouped_child_in_precedence_order() {
    // 40 rules, each with its own header on `/`: negation would give rule k k conditions.
    let n = 40;
    let mut vs: Vec<VirtualService> = (0..n)
        .map(|i| {
            let mut c = child(
                &format!("c{i:02}"),
                vec![target("/", &[(&format!("h{i}"), "v")])],
            );
            c.pool_group_ref = Some(AviRef::by_name(format!("c{i:02}")));
            c
        })
        .collect();
    // Listed youngest first: the order of the input is not the order of precedence.
    vs.reverse();
    let orders: BTreeMap<String, ChildOrder> = (0..n)
        .map(|i| (format!("c{i:02}"), order(i, vec![origin(1)])))
        .collect();
    let mut model = AviModel {
        virtual_services: vs,
        ..AviModel::default()
    };
    let overlaps = make_disjoint(&mut model, &orders, &|p, h, k| format!("g:{p}:{h}:{k}"));
    assert!(overlaps.is_empty(), "{overlaps:?}");
    assert_eq!(
        model.virtual_services.len(),
        1,
        "members with no target left go"
    );
    let g = &model.virtual_services[0];
    assert_eq!(g.name, "g:parent:*:BEGINS_WITH /");
    assert_eq!(g.vh_matches[0].rules.len(), n);
    assert_eq!(
        g.http_policies[0].http_policy_set_ref.name(),
        Some(g.name.as_str())
    );
    let set = &model.http_policy_sets[0];
    let rules = &set.http_request_policy.as_ref().unwrap().rules;
    assert_eq!(rules.len(), n + 1, "one rule per member and the fallback");
    for (i, r) in rules[..n].iter().enumerate() {
        assert_eq!(r.index, u32::try_from(i).unwrap());
        assert_eq!(r.name, format!("c{i:02}-0"));
        assert_eq!(r.match_.as_ref().unwrap().hdrs[0].hdr, format!("h{i}"));
        assert_eq!(r.match_.as_ref().unwrap().hdrs.len(), 1, "no negation");
        let a = r.switching_action.as_ref().unwrap();
        assert_eq!(a.action, HttpSwitchingActionType::SelectPoolGroup);
        assert_eq!(
            a.pool_group_ref.as_ref().unwrap().name(),
            Some(format!("c{i:02}").as_str())
        );
    }
    assert_eq!(
        rules[n].switching_action.as_ref().unwrap().action,
        HttpSwitchingActionType::SelectLocal
    );
}
