//! Tests of the hostname rules: parsing, §1.3 and §2.3 of `reference/gateway-api.md`, and the
//! hostname-only parts of the conformance tests of §6.3/§6.4.

use super::*;

fn h(s: &str) -> Hostname {
    s.parse().unwrap()
}

fn hs(list: &[&str]) -> Vec<Hostname> {
    list.iter().map(|s| h(s)).collect()
}

fn only(list: &[&str]) -> Option<EffectiveHostnames> {
    let mut v = hs(list);
    v.sort();
    Some(EffectiveHostnames::Only(v))
}

fn reason(s: &str) -> HostnameErrorReason {
    s.parse::<Hostname>().unwrap_err().reason
}

// ---------------------------------------------------------------------------------------------
// Parsing (§1.1, §2.3: CRD validation of `Hostname`)

#[test]
fn valid_hostnames_parse() {
    for s in [
        "example.com",
        "foo.example.com",
        "*.example.com",
        "*.com",
        "localhost",
        "a",
        "0",
        "123.example.com",
        "my-host.ex-ample.com",
        "xn--bcher-kva.example",
        "1.2.3.4.5",
        "*.1.2.3.4",
    ] {
        let parsed = h(s);
        assert_eq!(parsed.as_str(), s);
        assert_eq!(parsed.to_string(), s);
        assert_eq!(parsed.is_wildcard(), s.starts_with("*."), "{s}");
    }
    assert_eq!(h("*.example.com").domain(), "example.com");
    assert_eq!(h("foo.example.com").domain(), "foo.example.com");
}

#[test]
fn length_limit_is_253_characters() {
    let label = "a".repeat(63);
    let ok = format!("{label}.{label}.{label}.{}", "b".repeat(61)); // 63*3 + 61 + 3 dots = 253
    assert_eq!(ok.len(), 253);
    assert!(ok.parse::<Hostname>().is_ok());
    let too_long = format!("c{ok}");
    assert_eq!(reason(&too_long), HostnameErrorReason::TooLong { len: 254 });
    let wildcard_too_long = format!("*.{}", &ok[..252]);
    assert_eq!(
        reason(&wildcard_too_long),
        HostnameErrorReason::TooLong { len: 254 }
    );
}

#[test]
fn invalid_hostnames_rejected_with_reason() {
    use HostnameErrorReason as R;
    let cases: &[(&str, R)] = &[
        ("", R::Empty),
        ("*", R::MisplacedWildcard),
        ("*example.com", R::MisplacedWildcard),
        ("foo.*.com", R::MisplacedWildcard),
        ("*.*.example.com", R::MisplacedWildcard),
        ("foo*.example.com", R::MisplacedWildcard),
        ("*.", R::EmptyLabel),
        (".example.com", R::EmptyLabel),
        ("example.com.", R::EmptyLabel),
        ("foo..example.com", R::EmptyLabel),
        ("Example.com", R::Uppercase { ch: 'E' }),
        ("*.EXAMPLE.com", R::Uppercase { ch: 'E' }),
        ("foo_bar.example.com", R::InvalidCharacter { ch: '_' }),
        ("example.com:80", R::InvalidCharacter { ch: ':' }),
        ("::1", R::InvalidCharacter { ch: ':' }),
        ("[::1]", R::InvalidCharacter { ch: '[' }),
        ("bücher.example", R::InvalidCharacter { ch: 'ü' }),
        ("foo bar.com", R::InvalidCharacter { ch: ' ' }),
        (
            "-foo.example.com",
            R::HyphenAtLabelEdge {
                label: "-foo".into(),
            },
        ),
        (
            "foo-.example.com",
            R::HyphenAtLabelEdge {
                label: "foo-".into(),
            },
        ),
        ("*.-.com", R::HyphenAtLabelEdge { label: "-".into() }),
        ("1.2.3.4", R::IpAddress),
        ("10.0.0.1", R::IpAddress),
        ("255.255.255.255", R::IpAddress),
    ];
    for (input, expected) in cases {
        assert_eq!(&reason(input), expected, "input {input:?}");
    }
}

#[test]
fn invalid_hostname_error_message_names_input_and_rule() {
    let err = "Foo.example.com".parse::<Hostname>().unwrap_err();
    assert_eq!(err.input, "Foo.example.com");
    assert_eq!(
        err.to_string(),
        "invalid hostname \"Foo.example.com\": it contains uppercase 'F'; hostnames must be lowercase"
    );
    let err = Hostname::try_from("1.2.3.4".to_owned()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid hostname \"1.2.3.4\": it is an IP address; only DNS names are allowed"
    );
    let err = Hostname::try_from("a.*.b").unwrap_err();
    assert!(
        err.to_string()
            .contains("`*` is only allowed as the whole first label"),
        "{err}"
    );
}

#[test]
fn serde_round_trip_and_validation() {
    let v: Vec<Hostname> = serde_json::from_str(r#"["*.example.com","foo.example.com"]"#).unwrap();
    assert_eq!(v, hs(&["*.example.com", "foo.example.com"]));
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"["*.example.com","foo.example.com"]"#
    );
    let err = serde_json::from_str::<Hostname>(r#""Bad_Host""#).unwrap_err();
    assert!(
        err.to_string().contains("invalid hostname \"Bad_Host\""),
        "{err}"
    );
}

#[test]
fn ord_is_string_order() {
    let mut v = hs(&["b.com", "*.b.com", "a.com"]);
    v.sort();
    assert_eq!(v, hs(&["*.b.com", "a.com", "b.com"]));
}

// ---------------------------------------------------------------------------------------------
// Request host matching (§1.1, §2.3)

#[test]
fn spec_wildcard_is_suffix_match_over_one_or_more_labels() {
    let w = h("*.example.com");
    assert!(w.matches("test.example.com"));
    assert!(w.matches("foo.test.example.com"));
    assert!(w.matches("foo.bar.example.com"));
    assert!(w.matches("bar.example.com"));
    assert!(
        !w.matches("example.com"),
        "wildcard does not match the apex"
    );
    assert!(!w.matches("test.example.net"));
    assert!(
        !w.matches("fooexample.com"),
        "suffix match is on label boundaries"
    );
    assert!(!w.matches(".example.com"));
    assert!(!w.matches("a..example.com"));
    assert!(!w.matches(""));
    assert!(w.matches("under_score.example.com"));
    assert!(!w.matches("*.example.com"));
}

#[test]
fn exact_matches_only_itself() {
    let e = h("very.specific.com");
    assert!(e.matches("very.specific.com"));
    assert!(!e.matches("foo.very.specific.com"));
    assert!(!e.matches("specific.com"));
    assert!(!e.matches("very.specific.co"));
}

#[test]
fn request_host_is_case_insensitive() {
    assert!(h("foo.example.com").matches("Foo.Example.COM"));
    assert!(h("*.example.com").matches("BAR.EXAMPLE.com"));
}

#[test]
fn spec_host_port_is_ignored() {
    assert!(h("very.specific.com").matches("very.specific.com:1234"));
    assert!(h("*.wildcard.io").matches("foo.wildcard.io:80"));
    assert!(h("very.specific.com").matches("very.specific.com:"));
    assert!(!h("very.specific.com").matches("very.specific.com:http"));
    assert_eq!(
        host_without_port("very.specific.com:1234"),
        "very.specific.com"
    );
    assert_eq!(host_without_port("very.specific.com"), "very.specific.com");
    assert_eq!(host_without_port("[::1]:8080"), "[::1]");
    assert_eq!(host_without_port("[::1]"), "[::1]");
    assert_eq!(host_without_port("10.0.0.1:80"), "10.0.0.1");
    assert_eq!(host_without_port(""), "");
}

#[test]
fn trailing_dot_host_does_not_match() {
    assert!(!h("example.com").matches("example.com."));
    assert!(!h("*.example.com").matches("foo.example.com."));
}

#[test]
fn non_dns_hosts_match_nothing_but_an_unset_hostname() {
    for host in [
        "10.0.0.1",
        "10.0.0.1:80",
        "[::1]:80",
        "",
        "é.example.com",
        "a b.example.com",
    ] {
        assert!(!h("example.com").matches(host), "{host}");
        assert!(!h("*.com").matches(host), "{host}");
        assert!(!h("*.0.1").matches(host), "{host}");
        assert_eq!(
            most_specific([None, Some(&h("*.com"))], host),
            Some(0),
            "{host}"
        );
        assert!(EffectiveHostnames::Any.matches(host));
    }
}

// ---------------------------------------------------------------------------------------------
// Intersection (§2.3)

#[test]
fn spec_listener_unset_yields_route_hostnames() {
    assert_eq!(
        intersect(None, &hs(&["foo.com", "*.bar.com"])),
        only(&["foo.com", "*.bar.com"])
    );
    assert_eq!(intersect(None, &[]), Some(EffectiveHostnames::Any));
}

#[test]
fn spec_route_without_hostnames_yields_listener_hostname() {
    assert_eq!(
        intersect(Some(&h("test.example.com")), &[]),
        only(&["test.example.com"])
    );
    assert_eq!(
        intersect(Some(&h("*.example.com")), &[]),
        only(&["*.example.com"])
    );
}

#[test]
fn spec_listener_precise_matches_route_precise_or_covering_wildcard() {
    // "A Listener with `test.example.com` as the hostname matches HTTPRoutes that have either not
    // specified any hostnames, or have specified at least one of `test.example.com` or
    // `*.example.com`."
    let l = h("test.example.com");
    assert_eq!(
        intersect(Some(&l), &hs(&["test.example.com"])),
        only(&["test.example.com"])
    );
    assert_eq!(
        intersect(Some(&l), &hs(&["*.example.com"])),
        only(&["test.example.com"])
    );
    assert_eq!(
        intersect(Some(&l), &hs(&["*.com"])),
        only(&["test.example.com"])
    );
    assert_eq!(intersect(Some(&l), &hs(&["foo.example.com"])), None);
    assert_eq!(intersect(Some(&l), &hs(&["example.com"])), None);
    assert_eq!(intersect(Some(&l), &hs(&["*.test.example.com"])), None);
    assert_eq!(intersect(Some(&l), &hs(&["*.example.net"])), None);
}

#[test]
fn spec_listener_wildcard_matches_subdomains_and_related_wildcards() {
    // "`*.example.com`, `test.example.com`, and `foo.test.example.com` would all match. On the
    // other hand, `example.com` and `test.example.net` would not match."
    let l = h("*.example.com");
    assert_eq!(
        intersect(Some(&l), &hs(&["*.example.com"])),
        only(&["*.example.com"])
    );
    assert_eq!(
        intersect(Some(&l), &hs(&["test.example.com"])),
        only(&["test.example.com"])
    );
    assert_eq!(
        intersect(Some(&l), &hs(&["foo.test.example.com"])),
        only(&["foo.test.example.com"])
    );
    assert_eq!(intersect(Some(&l), &hs(&["example.com"])), None);
    assert_eq!(intersect(Some(&l), &hs(&["test.example.net"])), None);
    // Wildcards: one is a suffix of the other; the effective one is the more specific.
    assert_eq!(
        intersect(Some(&l), &hs(&["*.foo.example.com"])),
        only(&["*.foo.example.com"])
    );
    assert_eq!(
        intersect(Some(&l), &hs(&["*.com"])),
        only(&["*.example.com"])
    );
    assert_eq!(intersect(Some(&l), &hs(&["*.example.net"])), None);
}

#[test]
fn wildcard_suffixes_are_label_aligned() {
    assert_eq!(
        intersect(Some(&h("*.example.com")), &hs(&["*.ample.com"])),
        None
    );
    assert_eq!(
        intersect(Some(&h("*.ample.com")), &hs(&["*.example.com"])),
        None
    );
    assert_eq!(
        intersect(Some(&h("*.ample.com")), &hs(&["example.com"])),
        None
    );
    assert_eq!(
        intersect(Some(&h("*.ample.com")), &hs(&["x.ample.com"])),
        only(&["x.ample.com"])
    );
}

#[test]
fn spec_route_hostnames_not_matching_the_listener_are_ignored() {
    // "if a Listener specified `*.example.com`, and the HTTPRoute specified `test.example.com` and
    // `test.example.net`, `test.example.net` must not be considered for a match."
    let eff = intersect(
        Some(&h("*.example.com")),
        &hs(&["test.example.com", "test.example.net"]),
    );
    assert_eq!(eff, only(&["test.example.com"]));
    let eff = eff.unwrap();
    assert!(eff.matches("test.example.com"));
    assert!(!eff.matches("test.example.net"));
}

#[test]
fn spec_no_intersection_means_not_accepted() {
    // §2.2 step 3: None on every candidate listener ⇒ Accepted=False NoMatchingListenerHostname.
    assert_eq!(
        intersect(
            Some(&h("foo.com")),
            &hs(&["bar.com", "*.foo.com", "*.bar.com"])
        ),
        None
    );
}

#[test]
fn effective_hostnames_are_sorted_and_deduplicated() {
    let eff = intersect(
        Some(&h("very.specific.com")),
        &hs(&["very.specific.com", "*.specific.com", "*.com", "other.com"]),
    );
    assert_eq!(eff, only(&["very.specific.com"]));
    let eff = intersect(None, &hs(&["b.com", "a.com", "b.com"]));
    assert_eq!(eff, Some(EffectiveHostnames::Only(hs(&["a.com", "b.com"]))));
    assert_eq!(eff.unwrap().hostnames(), hs(&["a.com", "b.com"]).as_slice());
    assert!(EffectiveHostnames::Any.hostnames().is_empty());
    assert!(EffectiveHostnames::Any.is_any());
}

#[test]
fn covers() {
    assert!(h("*.example.com").covers(&h("*.example.com")));
    assert!(h("*.example.com").covers(&h("*.foo.example.com")));
    assert!(h("*.example.com").covers(&h("foo.example.com")));
    assert!(!h("*.example.com").covers(&h("example.com")));
    assert!(!h("*.foo.example.com").covers(&h("*.example.com")));
    assert!(!h("foo.example.com").covers(&h("*.example.com")));
    assert!(h("foo.example.com").covers(&h("foo.example.com")));
    // Label-wise, even where a domain looks like an IP address.
    assert!(h("*.2.3.4").covers(&h("*.1.2.3.4")));
    assert_eq!(
        h("*.2.3.4").intersection(&h("*.1.2.3.4")),
        Some(h("*.1.2.3.4"))
    );
}

#[test]
fn spec_cross_route_precedence_most_characters_in_matching_exact_then_any_hostname() {
    // §2.3: precedence to the route with the largest number of characters in a matching
    // non-wildcard hostname, then in a matching hostname; a route without hostnames is last.
    let host = "foo.bar.example.com";
    let routes: [Option<Hostname>; 5] = [
        None,
        Some(h("*.com")),
        Some(h("*.example.com")),
        Some(h("*.bar.example.com")),
        Some(h("foo.bar.example.com")),
    ];
    for r in routes.iter().flatten() {
        assert!(r.matches(host));
    }
    let keys: Vec<_> = routes
        .iter()
        .map(|r| r.as_ref().map(Hostname::specificity))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
}

// ---------------------------------------------------------------------------------------------
// Listener selection by hostname, listener isolation (§1.3)

#[test]
fn spec_exact_before_wildcard_before_empty() {
    // "`foo.example.com` takes precedence over `*.example.com`, and `*.example.com` takes
    // precedence over `""`."
    let listeners = [None, Some(h("*.example.com")), Some(h("foo.example.com"))];
    let pick = |host| most_specific(listeners.iter().map(Option::as_ref), host);
    assert_eq!(pick("foo.example.com"), Some(2));
    assert_eq!(pick("bar.example.com"), Some(1));
    assert_eq!(pick("bar.com"), Some(0));
    assert!(h("foo.example.com").specificity() > h("*.example.com").specificity());
    assert!(Some(h("*.example.com").specificity()) > None);
}

#[test]
fn spec_more_dots_right_of_wildcard_wins() {
    // "`*.foo.example.com` takes precedence over `*.example.com`."
    let listeners = [Some(h("*.example.com")), Some(h("*.foo.example.com"))];
    let pick = |host| most_specific(listeners.iter().map(Option::as_ref), host);
    assert_eq!(pick("a.foo.example.com"), Some(1));
    assert_eq!(pick("a.b.foo.example.com"), Some(1));
    assert_eq!(pick("a.example.com"), Some(0));
    assert_eq!(pick("foo.example.com"), Some(0));
    assert!(h("*.foo.example.com").specificity() > h("*.example.com").specificity());
    // More labels wins even against a longer but shallower wildcard.
    assert!(h("*.a.b.com").specificity() > h("*.abcdefghijkl.com").specificity());
}

#[test]
fn spec_wildcard_matches_any_number_of_labels_to_the_left() {
    // "`*.example.com` will match both `foo.bar.example.com` _and_ `bar.example.com`."
    let listeners = [Some(h("*.example.com"))];
    assert_eq!(
        most_specific(listeners.iter().map(Option::as_ref), "foo.bar.example.com"),
        Some(0)
    );
    assert_eq!(
        most_specific(listeners.iter().map(Option::as_ref), "bar.example.com"),
        Some(0)
    );
    assert_eq!(
        most_specific(listeners.iter().map(Option::as_ref), "example.com"),
        None
    );
}

#[test]
fn spec_listener_isolation_request_goes_to_most_specific_listener_only() {
    // "a request to `foo.example.com` should only be routed with routes attached to the
    // `foo.example.com` listener, not `*.example.com`."
    let listeners = [Some(h("*.example.com")), Some(h("foo.example.com"))];
    assert_eq!(
        most_specific(listeners.iter().map(Option::as_ref), "foo.example.com"),
        Some(1)
    );
}

#[test]
fn most_specific_without_match_and_ties() {
    let empty: [Option<&Hostname>; 0] = [];
    assert_eq!(most_specific(empty, "a.com"), None);
    let listeners = [Some(h("a.com")), Some(h("*.b.com"))];
    assert_eq!(
        most_specific(listeners.iter().map(Option::as_ref), "c.com"),
        None
    );
    // Indistinct listeners: the first one, deterministically.
    let listeners = [None, Some(h("*.a.com")), Some(h("*.a.com")), None];
    assert_eq!(
        most_specific(listeners.iter().map(Option::as_ref), "x.a.com"),
        Some(1)
    );
    assert_eq!(
        most_specific(listeners.iter().map(Option::as_ref), "x.b.com"),
        Some(0)
    );
}

#[test]
fn spec_overlapping_tls_config_hostnames() {
    // §1.3 / OverlappingTLSConfig docs: "A: foo.example.com B: foo.example.org C: *.example.com
    // ... Listeners A and C would have overlapping hostnames ... but not B."
    let (a, b, c) = (
        h("foo.example.com"),
        h("foo.example.org"),
        h("*.example.com"),
    );
    assert!(a.overlaps(&c) && c.overlaps(&a));
    assert!(!b.overlaps(&a) && !b.overlaps(&c));
    // The apex does not overlap its wildcard; deeper names do.
    assert!(!h("example.com").overlaps(&c));
    assert!(h("bar.bar.example.com").overlaps(&c));
    assert!(h("*.bar.example.com").overlaps(&c));
}

#[test]
fn spec_https_misdirected_request_421_and_404() {
    // §1.3 (GEP-3567), listeners on one HTTPS port.
    let listeners = [
        Some(h("foo.example.com")),
        Some(h("*.example.com")),
        Some(h("bar.org")),
    ];
    let check = |sni, host| check_https_authority(listeners.iter().map(Option::as_ref), sni, host);
    // The SNI-selected listener is the best match for Host.
    assert_eq!(check(0, "foo.example.com"), AuthorityCheck::Serve);
    assert_eq!(check(1, "bar.example.com"), AuthorityCheck::Serve);
    assert_eq!(check(1, "bar.example.com:443"), AuthorityCheck::Serve);
    // "If another Listener has an exact match or more specific wildcard entry" ⇒ 421.
    assert_eq!(check(1, "foo.example.com"), AuthorityCheck::Misdirected);
    // Selected listener does not match Host but another does ⇒ 421.
    assert_eq!(check(0, "bar.example.com"), AuthorityCheck::Misdirected);
    assert_eq!(check(2, "foo.example.com"), AuthorityCheck::Misdirected);
    // No listener matches Host ⇒ 404.
    assert_eq!(check(0, "unknown.org"), AuthorityCheck::NotFound);

    let with_catch_all = [None, Some(h("second-example.org"))];
    let check =
        |sni, host| check_https_authority(with_catch_all.iter().map(Option::as_ref), sni, host);
    assert_eq!(check(0, "example.org"), AuthorityCheck::Serve);
    assert_eq!(check(1, "second-example.org"), AuthorityCheck::Serve);
    assert_eq!(check(0, "second-example.org"), AuthorityCheck::Misdirected);
    assert_eq!(check(1, "example.org"), AuthorityCheck::Misdirected);
}

// ---------------------------------------------------------------------------------------------
// Conformance (§6.3, §6.4): the hostname-only part of each test, on a tiny model of a Gateway.

struct Listener {
    name: &'static str,
    hostname: Option<Hostname>,
}

struct Route {
    name: &'static str,
    hostnames: Vec<Hostname>,
    /// parentRef sectionNames; empty = one parentRef to the whole Gateway.
    sections: &'static [&'static str],
    prefix: &'static str,
}

fn gateway(listeners: &[(&'static str, Option<&str>)]) -> Vec<Listener> {
    listeners
        .iter()
        .map(|(name, hostname)| Listener {
            name,
            hostname: hostname.map(h),
        })
        .collect()
}

fn route(
    name: &'static str,
    hostnames: &[&str],
    sections: &'static [&'static str],
    prefix: &'static str,
) -> Route {
    Route {
        name,
        hostnames: hs(hostnames),
        sections,
        prefix,
    }
}

/// Per parentRef: the (listener index, effective hostnames) the route attaches to. An empty entry
/// is a parentRef with `Accepted=False NoMatchingListenerHostname`.
fn attachments(gw: &[Listener], route: &Route) -> Vec<Vec<(usize, EffectiveHostnames)>> {
    let attach = |section: Option<&str>| -> Vec<(usize, EffectiveHostnames)> {
        gw.iter()
            .enumerate()
            .filter(|(_, l)| section.is_none_or(|s| s == l.name))
            .filter_map(|(i, l)| intersect(l.hostname.as_ref(), &route.hostnames).map(|e| (i, e)))
            .collect()
    };
    if route.sections.is_empty() {
        vec![attach(None)]
    } else {
        route.sections.iter().map(|s| attach(Some(s))).collect()
    }
}

/// The routes a request host reaches: those attached, with a matching effective hostname, to the
/// single most specific listener matching the host (listener isolation).
fn candidates<'r>(gw: &[Listener], routes: &'r [Route], host: &str) -> Vec<&'r str> {
    let Some(listener) = most_specific(gw.iter().map(|l| l.hostname.as_ref()), host) else {
        return vec![];
    };
    routes
        .iter()
        .filter(|r| {
            attachments(gw, r)
                .iter()
                .flatten()
                .any(|(i, e)| *i == listener && e.matches(host))
        })
        .map(|r| r.name)
        .collect()
}

/// The route serving `host` + `path` (path: plain prefix, distinct in these tests), None = 404.
fn serve<'r>(gw: &[Listener], routes: &'r [Route], host: &str, path: &str) -> Option<&'r str> {
    let names: Vec<&str> = candidates(gw, routes, host)
        .into_iter()
        .filter(|name| {
            routes
                .iter()
                .any(|r| r.name == *name && path.starts_with(r.prefix))
        })
        .collect();
    assert!(names.len() <= 1, "ambiguous test model: {names:?}");
    names.first().copied()
}

#[test]
fn conformance_http_route_hostname_intersection() {
    let gw = gateway(&[
        ("listener-1", Some("very.specific.com")),
        ("listener-2", Some("*.wildcard.io")),
        ("listener-3", Some("*.anotherwildcard.io")),
    ]);
    let routes = [
        route(
            "specific-host-matches-listener-specific-host",
            &[
                "non.matching.com",
                "*.nonmatchingwildcard.io",
                "very.specific.com",
            ],
            &[],
            "/s1",
        ),
        route(
            "specific-host-matches-listener-wildcard-host",
            &[
                "non.matching.com",
                "wildcard.io",
                "foo.wildcard.io",
                "bar.wildcard.io",
                "foo.bar.wildcard.io",
            ],
            &[],
            "/s2",
        ),
        route(
            "wildcard-host-matches-listener-specific-host",
            &["non.matching.com", "*.specific.com"],
            &[],
            "/s3",
        ),
        route(
            "wildcard-host-matches-listener-wildcard-host",
            &["*.anotherwildcard.io"],
            &[],
            "/s4",
        ),
        route(
            "no-intersecting-hosts",
            &["specific.but.wrong.com", "wildcard.io"],
            &[],
            "/s5",
        ),
    ];
    // Status: the first four are Accepted (one parent each), the last is not.
    let att: Vec<_> = routes.iter().map(|r| attachments(&gw, r)).collect();
    assert_eq!(
        att[0],
        vec![vec![(0, only(&["very.specific.com"]).unwrap())]]
    );
    assert_eq!(
        att[1],
        vec![vec![(
            1,
            only(&["foo.wildcard.io", "bar.wildcard.io", "foo.bar.wildcard.io"]).unwrap()
        )]]
    );
    assert_eq!(
        att[2],
        vec![vec![(0, only(&["very.specific.com"]).unwrap())]]
    );
    assert_eq!(
        att[3],
        vec![vec![(2, only(&["*.anotherwildcard.io"]).unwrap())]]
    );
    assert_eq!(att[4], vec![vec![]], "NoMatchingListenerHostname");

    let (s1, s2, s3, s4) = (
        routes[0].name,
        routes[1].name,
        routes[2].name,
        routes[3].name,
    );
    let expectations: &[(&str, &str, Option<&str>)] = &[
        ("very.specific.com", "/s1", Some(s1)),
        ("very.specific.com:1234", "/s1", Some(s1)),
        ("non.matching.com", "/s1", None),
        ("foo.nonmatchingwildcard.io", "/s1", None),
        ("foo.wildcard.io", "/s1", None),
        ("very.specific.com", "/non-matching-prefix", None),
        ("foo.wildcard.io", "/s2", Some(s2)),
        ("bar.wildcard.io", "/s2", Some(s2)),
        ("foo.bar.wildcard.io", "/s2", Some(s2)),
        ("non.matching.com", "/s2", None),
        ("wildcard.io", "/s2", None),
        ("very.specific.com", "/s2", None),
        ("foo.wildcard.io", "/non-matching-prefix", None),
        ("very.specific.com", "/s3", Some(s3)),
        ("non.matching.com", "/s3", None),
        ("foo.specific.com", "/s3", None),
        ("foo.wildcard.io", "/s3", None),
        ("foo.anotherwildcard.io", "/s4", Some(s4)),
        ("bar.anotherwildcard.io", "/s4", Some(s4)),
        ("foo.bar.anotherwildcard.io", "/s4", Some(s4)),
        ("anotherwildcard.io", "/s4", None),
        ("foo.wildcard.io", "/s4", None),
        ("very.specific.com", "/s4", None),
        ("foo.anotherwildcard.io", "/non-matching-prefix", None),
        ("specific.but.wrong.com", "/s5", None),
        ("wildcard.io", "/s5", None),
    ];
    for (host, path, expected) in expectations {
        assert_eq!(serve(&gw, &routes, host, path), *expected, "{host}{path}");
    }

    // Second Gateway: one listener without hostname.
    let gw = gateway(&[("listener-1", None)]);
    let routes = [route(
        "httproute-hostname-intersection-all",
        &["first.com", "sub.first.com", "second.com", "sub.second.com"],
        &[],
        "/",
    )];
    assert_eq!(
        attachments(&gw, &routes[0]),
        vec![vec![(
            0,
            only(&["first.com", "sub.first.com", "second.com", "sub.second.com"]).unwrap()
        )]]
    );
    for host in ["first.com", "sub.first.com", "second.com", "sub.second.com"] {
        assert_eq!(
            serve(&gw, &routes, host, "/"),
            Some(routes[0].name),
            "{host}"
        );
    }
    for host in ["third.com", "sub.third.com"] {
        assert_eq!(serve(&gw, &routes, host, "/"), None, "{host}");
    }
}

#[test]
fn conformance_http_route_listener_hostname_matching() {
    let gw = gateway(&[
        ("listener-1", Some("bar.com")),
        ("listener-2", Some("foo.bar.com")),
        ("listener-3", Some("*.bar.com")),
        ("listener-4", Some("*.foo.com")),
    ]);
    let routes = [
        route("backend-v1", &[], &["listener-1"], "/"),
        route("backend-v2", &[], &["listener-2"], "/"),
        route("backend-v3", &[], &["listener-3", "listener-4"], "/"),
    ];
    // backend-v3 has two parent entries, both Accepted.
    assert_eq!(
        attachments(&gw, &routes[2]),
        vec![
            vec![(2, only(&["*.bar.com"]).unwrap())],
            vec![(3, only(&["*.foo.com"]).unwrap())]
        ]
    );
    let expectations: &[(&str, Option<&str>)] = &[
        ("bar.com", Some("backend-v1")),
        ("foo.bar.com", Some("backend-v2")),
        ("baz.bar.com", Some("backend-v3")),
        ("boo.bar.com", Some("backend-v3")),
        ("multiple.prefixes.bar.com", Some("backend-v3")),
        ("multiple.prefixes.foo.com", Some("backend-v3")),
        ("foo.com", None),
        ("no.matching.host", None),
    ];
    for (host, expected) in expectations {
        assert_eq!(serve(&gw, &routes, host, "/"), *expected, "{host}");
    }
}

#[test]
fn conformance_gateway_http_listener_isolation() {
    let listeners = [
        ("empty-hostname", None),
        ("wildcard-example-com", Some("*.example.com")),
        ("wildcard-foo-example-com", Some("*.foo.example.com")),
        ("abc-foo-example-com", Some("abc.foo.example.com")),
    ];
    let gw = gateway(&listeners);
    let intersection_hosts = [
        "bar.com",
        "*.example.com",
        "*.foo.example.com",
        "abc.foo.example.com",
    ];
    let plain = [
        route(
            "empty-hostname",
            &[],
            &["empty-hostname"],
            "/empty-hostname",
        ),
        route(
            "wildcard-example-com",
            &[],
            &["wildcard-example-com"],
            "/wildcard-example-com",
        ),
        route(
            "wildcard-foo-example-com",
            &[],
            &["wildcard-foo-example-com"],
            "/wildcard-foo-example-com",
        ),
        route(
            "abc-foo-example-com",
            &[],
            &["abc-foo-example-com"],
            "/abc-foo-example-com",
        ),
    ];
    let with_intersection = [
        route(
            "empty-hostname",
            &intersection_hosts,
            &["empty-hostname"],
            "/empty-hostname",
        ),
        route(
            "wildcard-example-com",
            &intersection_hosts,
            &["wildcard-example-com"],
            "/wildcard-example-com",
        ),
        route(
            "wildcard-foo-example-com",
            &intersection_hosts,
            &["wildcard-foo-example-com"],
            "/wildcard-foo-example-com",
        ),
        route(
            "abc-foo-example-com",
            &intersection_hosts,
            &["abc-foo-example-com"],
            "/abc-foo-example-com",
        ),
    ];
    // The manifest's comments: `*.example.com` "becomes *.foo.example.com" on the
    // `*.foo.example.com` listener and "abc.foo.example.com" on the exact one; `bar.com` is dropped.
    let effective: Vec<_> = with_intersection
        .iter()
        .map(|r| attachments(&gw, r).remove(0).remove(0).1)
        .collect();
    assert_eq!(
        effective,
        vec![
            only(&intersection_hosts).unwrap(),
            only(&["*.example.com", "*.foo.example.com", "abc.foo.example.com"]).unwrap(),
            only(&["*.foo.example.com", "abc.foo.example.com"]).unwrap(),
            only(&["abc.foo.example.com"]).unwrap(),
        ]
    );

    let owner = [
        ("bar.com", "empty-hostname"),
        ("bar.example.com", "wildcard-example-com"),
        ("bar.foo.example.com", "wildcard-foo-example-com"),
        ("abc.foo.example.com", "abc-foo-example-com"),
    ];
    for routes in [&plain, &with_intersection] {
        for (host, owning) in owner {
            for (listener, _) in listeners {
                let path = format!("/{listener}");
                let expected = (listener == owning).then_some(owning);
                assert_eq!(serve(&gw, routes, host, &path), expected, "{host}{path}");
            }
        }
    }
}

#[test]
fn conformance_gateway_with_attached_routes() {
    // Listener and routes without hostnames: the hostname check always lets them attach.
    let gw = gateway(&[("http", None)]);
    let r = route("http-route-1", &[], &[], "/");
    assert_eq!(
        attachments(&gw, &r),
        vec![vec![(0, EffectiveHostnames::Any)]]
    );
}

#[test]
fn conformance_gateway_modify_listeners() {
    // A route without hostnames on the whole Gateway attaches to every listener, whatever their
    // hostnames: attachedRoutes 1 on both `https` and the added `http`.
    let added = gateway(&[
        ("https", Some("secure.test.com")),
        ("http", Some("data.test.com")),
    ]);
    let r = route("http-route-1", &[], &[], "/");
    assert_eq!(
        attachments(&added, &r),
        vec![vec![
            (0, only(&["secure.test.com"]).unwrap()),
            (1, only(&["data.test.com"]).unwrap())
        ]]
    );
    let removed = gateway(&[("http", None)]);
    assert_eq!(
        attachments(&removed, &r),
        vec![vec![(0, EffectiveHostnames::Any)]]
    );
}

#[test]
fn conformance_gateway_observed_generation_bump() {
    // Listener `http` bar.com, then `alternate` foo.com added: both valid, distinct hostnames.
    let listeners = [Some(h("bar.com")), Some(h("foo.com"))];
    assert!(
        !listeners[0]
            .as_ref()
            .unwrap()
            .overlaps(listeners[1].as_ref().unwrap())
    );
    assert_eq!(
        most_specific(listeners.iter().map(Option::as_ref), "foo.com"),
        Some(1)
    );
}

#[test]
fn conformance_http_route_matching_across_routes() {
    let gw = gateway(&[("http", None)]);
    let routes = [
        route("matching-part1", &["example.com", "example.net"], &[], "/"),
        route("matching-part2", &["example.com"], &[], "/v2"),
    ];
    assert_eq!(
        candidates(&gw, &routes, "example.com"),
        ["matching-part1", "matching-part2"]
    );
    // `example.net/v2` → v1: part2 is not on example.net.
    assert_eq!(candidates(&gw, &routes, "example.net"), ["matching-part1"]);
    assert!(candidates(&gw, &routes, "example.org").is_empty());
}

#[test]
fn conformance_http_route_https_listener() {
    let gw = gateway(&[
        ("https", None),
        ("https-with-hostname", Some("second-example.org")),
    ]);
    let routes = [
        route("httproute-https-test", &["example.org"], &[], "/"),
        route(
            "httproute-https-test-no-hostname",
            &[],
            &["https-with-hostname"],
            "/",
        ),
    ];
    // One parent each, Accepted: the first attaches only to `https`.
    assert_eq!(
        attachments(&gw, &routes[0]),
        vec![vec![(0, only(&["example.org"]).unwrap())]]
    );
    assert_eq!(
        attachments(&gw, &routes[1]),
        vec![vec![(1, only(&["second-example.org"]).unwrap())]]
    );
    assert_eq!(
        serve(&gw, &routes, "example.org", "/"),
        Some("httproute-https-test")
    );
    assert_eq!(serve(&gw, &routes, "unknown-example.org", "/"), None);
    assert_eq!(
        serve(&gw, &routes, "second-example.org", "/"),
        Some("httproute-https-test-no-hostname")
    );
    // SNI = Host in this test, so the SNI-selected listener always serves.
    let hostnames = || gw.iter().map(|l| l.hostname.as_ref());
    for host in ["example.org", "unknown-example.org", "second-example.org"] {
        let sni = most_specific(hostnames(), host).unwrap();
        assert_eq!(
            check_https_authority(hostnames(), sni, host),
            AuthorityCheck::Serve
        );
    }
}

#[test]
fn conformance_http_route_disallowed_kind() {
    // TLS listener without hostname, HTTPRoute without hostnames: hostnames intersect, so the
    // expected NotAllowedByListeners must come from the kind check, never from hostnames.
    assert_eq!(intersect(None, &[]), Some(EffectiveHostnames::Any));
}

// ---------------------------------------------------------------------------------------------
// Property-style checks over an exhaustive small universe.

/// All exact names of 1..=`depth` labels over {a, b, c}.
fn names(depth: usize) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    let mut level: Vec<String> = vec![String::new()];
    for _ in 0..depth {
        level = level
            .iter()
            .flat_map(|suffix| {
                ["a", "b", "c"].map(|l| {
                    if suffix.is_empty() {
                        l.to_owned()
                    } else {
                        format!("{l}.{suffix}")
                    }
                })
            })
            .collect();
        all.extend(level.iter().cloned());
    }
    all
}

/// Exact hostnames of 1..=3 labels and wildcards over domains of 1..=3 labels.
fn universe() -> Vec<Hostname> {
    let exact = names(3);
    let wildcards = exact.iter().map(|d| format!("*.{d}"));
    exact
        .iter()
        .cloned()
        .chain(wildcards)
        .map(|s| h(&s))
        .collect()
}

/// Request hosts of 1..=4 labels: deep enough to tell every pair of the universe apart.
fn hosts() -> Vec<String> {
    names(4)
}

#[test]
fn property_intersection_is_symmetric() {
    let u = universe();
    for x in &u {
        for y in &u {
            assert_eq!(x.intersection(y), y.intersection(x), "{x} ∩ {y}");
            // As listener vs route hostname: swapping the roles gives the same result.
            assert_eq!(
                intersect(Some(x), std::slice::from_ref(y)),
                intersect(Some(y), std::slice::from_ref(x)),
                "{x} / {y}"
            );
            assert_eq!(x.overlaps(y), y.overlaps(x));
        }
    }
}

#[test]
fn property_intersection_matches_exactly_the_hosts_both_match() {
    let u = universe();
    let hosts = hosts();
    for x in &u {
        for y in &u {
            let both: Vec<&String> = hosts
                .iter()
                .filter(|host| x.matches(host) && y.matches(host))
                .collect();
            match x.intersection(y) {
                None => assert!(both.is_empty(), "{x} ∩ {y} = ∅ but both match {both:?}"),
                Some(i) => {
                    assert!(i == *x || i == *y, "{x} ∩ {y} = {i} is neither");
                    for host in &hosts {
                        assert_eq!(
                            i.matches(host),
                            x.matches(host) && y.matches(host),
                            "{x} ∩ {y} = {i} on {host}"
                        );
                    }
                }
            }
            let covers = hosts.iter().all(|host| !y.matches(host) || x.matches(host));
            assert_eq!(x.covers(y), covers, "{x} covers {y}");
        }
    }
}

#[test]
fn property_intersect_restricts_route_to_listener() {
    // For a listener hostname and a route hostname list, the effective hostnames match exactly
    // the hosts the listener matches and some route hostname matches (unset = everything).
    let u = universe();
    let hosts = hosts();
    let route_lists: Vec<Vec<Hostname>> = u
        .iter()
        .step_by(7)
        .flat_map(|a| u.iter().step_by(5).map(move |b| vec![a.clone(), b.clone()]))
        .chain([vec![]])
        .collect();
    let listeners: Vec<Option<&Hostname>> = u.iter().map(Some).chain([None]).collect();
    for l in &listeners {
        for route in &route_lists {
            let expected: Vec<&String> = hosts
                .iter()
                .filter(|host| l.is_none_or(|l| l.matches(host)))
                .filter(|host| route.is_empty() || route.iter().any(|r| r.matches(host)))
                .collect();
            match intersect(*l, route) {
                None => assert!(expected.is_empty(), "{l:?} {route:?}"),
                Some(eff) => {
                    let got: Vec<&String> = hosts.iter().filter(|host| eff.matches(host)).collect();
                    assert_eq!(got, expected, "{l:?} {route:?}");
                }
            }
        }
    }
}

#[test]
fn property_specificity_agrees_with_spec_precedence_for_one_host() {
    // For hostnames matching the same host: §1.3 (exact > wildcard by dots right of `*`) and
    // §2.3 (characters in a matching exact hostname, then characters in a matching hostname)
    // give the same order as `specificity`, and only identical hostnames tie.
    let u = universe();
    let spec_key = |x: &Hostname| {
        let chars = x.as_str().len();
        (if x.is_wildcard() { 0 } else { chars }, chars)
    };
    for host in hosts() {
        let matching: Vec<&Hostname> = u.iter().filter(|x| x.matches(&host)).collect();
        for x in &matching {
            for y in &matching {
                let ours = x.specificity().cmp(&y.specificity());
                assert_eq!(ours, spec_key(x).cmp(&spec_key(y)), "{x} vs {y} for {host}");
                let dots = |z: &Hostname| (!z.is_wildcard(), z.domain().matches('.').count());
                assert_eq!(ours, dots(x).cmp(&dots(y)), "{x} vs {y} for {host}");
                assert_eq!(ours.is_eq(), x == y);
            }
        }
        // most_specific picks a matching listener with no strictly more specific one.
        let listeners: Vec<Option<&Hostname>> = u.iter().map(Some).chain([None]).collect();
        let best = most_specific(listeners.iter().copied(), &host).unwrap();
        let best_key = listeners[best].map(Hostname::specificity);
        for l in listeners.iter().flatten() {
            if l.matches(&host) {
                assert!(
                    Some(l.specificity()) <= best_key,
                    "{l} beats pick for {host}"
                );
            }
        }
    }
}
