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

struct Entry {
    child: usize,
    target: MatchTarget,
    origin: TargetOrigin,
    order: (Option<String>, ObjectKey, usize),
}

fn path_key(t: &MatchTarget) -> (String, Vec<String>) {
    t.path.as_ref().map_or_else(
        || (String::new(), Vec::new()),
        |p| (p.match_criteria.as_str().to_owned(), p.match_str.clone()),
    )
}

/// Rewrites the children of `virtual_services` named in `orders` so that children sharing a
/// parent, a host and a path never match the same request.
pub fn make_disjoint(
    virtual_services: &mut [VirtualService],
    orders: &BTreeMap<String, ChildOrder>,
) -> Vec<Overlap> {
    let mut overlaps = Vec::new();
    // (parent, host) → entries.
    let mut groups: BTreeMap<(String, String), Vec<Entry>> = BTreeMap::new();
    for (i, vs) in virtual_services.iter().enumerate() {
        let Some(order) = orders.get(&vs.name) else {
            continue;
        };
        let parent = vs
            .vh_parent_vs_ref
            .as_ref()
            .and_then(|r| r.name())
            .unwrap_or_default()
            .to_owned();
        for m in &vs.vh_matches {
            for (r, origin) in m.rules.iter().zip(&order.targets) {
                groups
                    .entry((parent.clone(), m.host.clone()))
                    .or_default()
                    .push(Entry {
                        child: i,
                        target: r.matches.clone(),
                        origin: *origin,
                        order: (order.created.clone(), order.route.clone(), order.rule),
                    });
            }
        }
    }
    // Rebuilt rules per (child, host).
    let mut rebuilt: BTreeMap<(usize, String), Vec<MatchTarget>> = BTreeMap::new();
    for ((_, host), mut entries) in groups {
        entries.sort_by(|a, b| {
            let key = |e: &Entry| {
                (
                    path_key(&e.target),
                    std::cmp::Reverse((
                        e.origin.exact,
                        e.origin.method,
                        e.origin.headers,
                        e.origin.query,
                    )),
                    e.order.0.is_none(),
                    e.order.clone(),
                    e.origin.match_index,
                )
            };
            key(a).cmp(&key(b))
        });
        let mut i = 0;
        while i < entries.len() {
            let path = path_key(&entries[i].target);
            let mut j = i;
            while j < entries.len() && path_key(&entries[j].target) == path {
                j += 1;
            }
            let same_path = &entries[i..j];
            for (k, b) in same_path.iter().enumerate() {
                let mut targets = vec![b.target.clone()];
                for a in same_path[..k].iter().filter(|a| a.child != b.child) {
                    let mut next = Vec::new();
                    for t in &targets {
                        match subtract(t, &a.target) {
                            Ok(parts) => next.extend(parts),
                            Err(why) => {
                                overlaps.push(Overlap {
                                    route: b.order.1.clone(),
                                    message: why,
                                });
                                next.push(t.clone());
                            }
                        }
                    }
                    if next.len() > MAX_TARGETS {
                        overlaps.push(Overlap {
                            route: b.order.1.clone(),
                            message: format!(
                                "separating a rule from higher-precedence rules on {host} would need more than {MAX_TARGETS} matches; it may take their requests"
                            ),
                        });
                        break;
                    }
                    targets = next;
                }
                rebuilt
                    .entry((b.child, host.clone()))
                    .or_default()
                    .extend(targets);
            }
            i = j;
        }
    }
    for (i, vs) in virtual_services.iter_mut().enumerate() {
        if !orders.contains_key(&vs.name) {
            continue;
        }
        for m in &mut vs.vh_matches {
            let targets = rebuilt.remove(&(i, m.host.clone())).unwrap_or_default();
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
