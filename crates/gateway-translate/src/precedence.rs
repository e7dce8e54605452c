//! Gateway API precedence made independent of how Avi picks among enhanced-VH children.
//!
//! Avi selects a child by host and then by the longest path match; what it does when two
//! children match a request with the same path is not documented. The Gateway API orders such
//! matches (§3.2): an Exact path type, then a method, then more headers, then more query
//! parameters, then the oldest route, then `namespace/name`, then the rule's position. So this
//! pass makes children that share a host and a path *disjoint*: every lower-precedence target
//! gets the negation of each overlapping higher one (`B ∧ ¬A`, one target per condition of A
//! that B does not already imply). Afterwards at most one child can match a request for a
//! given path, and any selection order on the controller gives the spec's answer.
//!
//! What Avi cannot negate (two different method conditions) stays overlapping and is
//! reported as a warning, as is a rule that would need more than [`MAX_TARGETS`].

use std::collections::BTreeMap;

use avi_client::models::{
    HdrMatch, HdrMatchCriteria, MatchCase, MatchTarget, MethodMatch, MethodMatchCriteria,
    PortMatch, QueryMatch, QueryMatchCriteria, VhMatchRule, VirtualService,
};

use crate::snapshot::ObjectKey;

/// The most targets one child may get for one host before the pass gives up on it.
pub const MAX_TARGETS: usize = 64;

/// Where a child's rule stands in the Gateway API order, and what each of its targets came
/// from (a PathPrefix becomes two targets, so the Avi shape alone does not tell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildOrder {
    /// The route's creationTimestamp (RFC 3339 sorts as time).
    pub created: Option<String>,
    /// The route.
    pub route: ObjectKey,
    /// The rule's position in the route.
    pub rule: usize,
    /// Per target, in the order of the child's rules.
    pub targets: Vec<TargetOrigin>,
}

/// What a target came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetOrigin {
    /// Position of the match in the rule.
    pub match_index: usize,
    /// The match's path type is Exact.
    pub exact: bool,
    /// It has a method condition.
    pub method: bool,
    /// Number of header conditions.
    pub headers: usize,
    /// Number of query parameter conditions.
    pub query: usize,
}

/// A route whose rules still overlap after the pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// The route.
    pub route: ObjectKey,
    /// Why.
    pub message: String,
}

/// One target of one child under one host: `(child, vh_match, rule)` positions.
type Slot = (usize, usize, usize);

/// Rewrites the children of `virtual_services` named in `orders` so that children sharing a
/// parent, a host and a path never match the same request.
pub fn make_disjoint(
    virtual_services: &mut [VirtualService],
    orders: &BTreeMap<String, ChildOrder>,
) -> Vec<Overlap> {
    let mut overlaps = Vec::new();
    // The new targets of every slot that needs them; most slots share their path with no
    // other child and are left as they are (no clone, no rename).
    let mut replaced: BTreeMap<Slot, Vec<MatchTarget>> = BTreeMap::new();
    {
        let vss: &[VirtualService] = virtual_services;
        // (parent, host, path criteria, path strings) → slots.
        type Key<'a> = (&'a str, &'a str, &'a str, &'a [String]);
        let mut groups: BTreeMap<Key<'_>, Vec<Slot>> = BTreeMap::new();
        for (i, vs) in vss.iter().enumerate() {
            if !orders.contains_key(&vs.name) {
                continue;
            }
            let parent = vs
                .vh_parent_vs_ref
                .as_ref()
                .and_then(|r| r.name())
                .unwrap_or_default();
            for (mi, m) in vs.vh_matches.iter().enumerate() {
                for (ri, r) in m.rules.iter().enumerate() {
                    let (criteria, strings) = r.matches.path.as_ref().map_or(("", &[][..]), |p| {
                        (p.match_criteria.as_str(), p.match_str.as_slice())
                    });
                    groups
                        .entry((parent, m.host.as_str(), criteria, strings))
                        .or_default()
                        .push((i, mi, ri));
                }
            }
        }
        for ((_, host, _, _), mut slots) in groups {
            if slots.iter().all(|s| s.0 == slots[0].0) {
                continue;
            }
            let origin = |s: &Slot| -> TargetOrigin {
                orders[&vss[s.0].name]
                    .targets
                    .get(s.2)
                    .copied()
                    .unwrap_or(TargetOrigin {
                        match_index: 0,
                        exact: false,
                        method: false,
                        headers: 0,
                        query: 0,
                    })
            };
            slots.sort_by_cached_key(|s| {
                let o = origin(s);
                let order = &orders[&vss[s.0].name];
                (
                    std::cmp::Reverse((o.exact, o.method, o.headers, o.query)),
                    order.created.is_none(),
                    order.created.clone(),
                    order.route.clone(),
                    order.rule,
                    o.match_index,
                )
            });
            let target = |s: &Slot| &vss[s.0].vh_matches[s.1].rules[s.2].matches;
            for (k, b) in slots.iter().enumerate() {
                let mut targets = vec![target(b).clone()];
                let route = &orders[&vss[b.0].name].route;
                for a in slots[..k].iter().filter(|a| a.0 != b.0) {
                    let mut next = Vec::new();
                    for t in &targets {
                        match subtract(t, target(a)) {
                            Ok(parts) => next.extend(parts),
                            Err(why) => {
                                overlaps.push(Overlap {
                                    route: route.clone(),
                                    message: why,
                                });
                                next.push(t.clone());
                            }
                        }
                    }
                    if next.len() > MAX_TARGETS {
                        overlaps.push(Overlap {
                            route: route.clone(),
                            message: format!(
                                "separating a rule from higher-precedence rules on {host} would need more than {MAX_TARGETS} matches; it may take their requests"
                            ),
                        });
                        break;
                    }
                    targets = next;
                }
                replaced.insert(*b, targets);
            }
        }
    }
    let touched: std::collections::BTreeSet<(usize, usize)> =
        replaced.keys().map(|(i, mi, _)| (*i, *mi)).collect();
    for (i, mi) in touched {
        let m = &mut virtual_services[i].vh_matches[mi];
        let old = std::mem::take(&mut m.rules);
        let mut targets = Vec::new();
        for (ri, r) in old.into_iter().enumerate() {
            match replaced.remove(&(i, mi, ri)) {
                Some(new) => targets.extend(new),
                None => targets.push(r.matches),
            }
        }
        m.rules = targets
            .into_iter()
            .enumerate()
            .map(|(n, t)| VhMatchRule {
                name: format!("rule-{n}"),
                matches: t,
                extra: Default::default(),
            })
            .collect();
    }
    for vs in virtual_services.iter_mut() {
        // A host whose every target is shadowed by higher-precedence rules matches nothing;
        // Avi needs at least one rule per host, so the host goes.
        vs.vh_matches.retain(|m| !m.rules.is_empty());
    }
    overlaps.sort_by(|a, b| (&a.route, &a.message).cmp(&(&b.route, &b.message)));
    overlaps.dedup();
    overlaps
}

fn ports(t: &MatchTarget) -> Option<Vec<u16>> {
    t.vs_port.as_ref().map(|p| p.ports.clone())
}

fn with_ports(t: &MatchTarget, ports: Vec<u16>) -> MatchTarget {
    MatchTarget {
        vs_port: Some(PortMatch::is_in(ports)),
        ..t.clone()
    }
}

fn header_eq(h: &HdrMatch, name: &str) -> bool {
    h.hdr.eq_ignore_ascii_case(name)
}

/// `t ∧ ¬a` as targets (ORed), for targets with the same path. `Err` when Avi cannot express
/// the negation.
fn subtract(t: &MatchTarget, a: &MatchTarget) -> Result<Vec<MatchTarget>, String> {
    // Disjoint already? Then nothing to take away.
    for ah in a
        .hdrs
        .iter()
        .filter(|h| h.match_criteria == HdrMatchCriteria::Equals)
    {
        for th in t.hdrs.iter().filter(|h| header_eq(h, &ah.hdr)) {
            let contradicts = match th.match_criteria {
                HdrMatchCriteria::Equals => th.value != ah.value,
                HdrMatchCriteria::DoesNotEqual => th.value == ah.value,
                _ => false,
            };
            if contradicts {
                return Ok(vec![t.clone()]);
            }
        }
    }
    if let (Some(tm), Some(am)) = (&t.method, &a.method) {
        let disjoint = match (&tm.match_criteria, &am.match_criteria) {
            (MethodMatchCriteria::IsIn, MethodMatchCriteria::IsIn) => {
                !tm.methods.iter().any(|m| am.methods.contains(m))
            }
            (MethodMatchCriteria::IsNotIn, MethodMatchCriteria::IsIn) => {
                am.methods.iter().all(|m| tm.methods.contains(m))
            }
            _ => false,
        };
        if disjoint {
            return Ok(vec![t.clone()]);
        }
    }
    let (common, only_t) = match (ports(t), ports(a)) {
        (Some(tp), Some(ap)) => {
            let common: Vec<u16> = tp.iter().copied().filter(|p| ap.contains(p)).collect();
            if common.is_empty() {
                return Ok(vec![t.clone()]);
            }
            let only: Vec<u16> = tp.iter().copied().filter(|p| !ap.contains(p)).collect();
            (Some(common), only)
        }
        (_, None) => (ports(t), Vec::new()),
        (None, Some(ap)) => (Some(ap), Vec::new()),
    };
    let mut out = Vec::new();
    if !only_t.is_empty() {
        out.push(with_ports(t, only_t));
    }
    let base = match common {
        Some(p) => with_ports(t, p),
        None => t.clone(),
    };
    // One target per condition of `a` that `t` does not imply.
    for ah in a
        .hdrs
        .iter()
        .filter(|h| h.match_criteria == HdrMatchCriteria::Equals)
    {
        let implied = t.hdrs.iter().any(|th| {
            header_eq(th, &ah.hdr)
                && th.match_criteria == HdrMatchCriteria::Equals
                && th.value == ah.value
        });
        if !implied {
            let mut n = base.clone();
            n.hdrs.push(HdrMatch {
                hdr: ah.hdr.clone(),
                match_criteria: HdrMatchCriteria::DoesNotEqual,
                match_case: Some(MatchCase::Sensitive),
                value: ah.value.clone(),
                extra: Default::default(),
            });
            out.push(n);
        }
    }
    if let Some(am) = &a.method {
        match &t.method {
            Some(tm) if tm == am => {}
            Some(tm) if tm.match_criteria == MethodMatchCriteria::IsNotIn => {
                let mut n = base.clone();
                let mut methods = tm.methods.clone();
                methods.extend(
                    am.methods
                        .iter()
                        .filter(|m| !tm.methods.contains(m))
                        .cloned(),
                );
                n.method = Some(MethodMatch {
                    methods,
                    ..tm.clone()
                });
                out.push(n);
            }
            Some(_) => {
                return Err(
                    "two rules with different method conditions overlap on the same path; Avi may send their requests to either"
                        .into(),
                );
            }
            None => {
                let mut n = base.clone();
                n.method = Some(MethodMatch {
                    match_criteria: MethodMatchCriteria::IsNotIn,
                    methods: am.methods.clone(),
                    extra: Default::default(),
                });
                out.push(n);
            }
        }
    }
    if let Some(aq) = &a.query {
        match &t.query {
            Some(tq) if tq == aq => {}
            tq => {
                // Both are `^` and lookaheads (see `matches`): ANDing a negative lookahead of
                // a's conditions excludes exactly a's requests.
                let mine = tq
                    .as_ref()
                    .and_then(|q| q.match_str.first())
                    .map_or("^", String::as_str);
                let theirs = aq.match_str.first().map_or("", String::as_str);
                let mut n = base.clone();
                n.query = Some(QueryMatch {
                    match_criteria: QueryMatchCriteria::RegexMatch,
                    match_case: Some(MatchCase::Sensitive),
                    match_str: vec![format!(
                        "{mine}(?!{})",
                        theirs.strip_prefix('^').unwrap_or(theirs)
                    )],
                    extra: Default::default(),
                });
                out.push(n);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
