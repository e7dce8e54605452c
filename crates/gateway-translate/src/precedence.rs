//! Gateway API precedence made independent of how Avi picks among enhanced-VH children.
//!
//! Avi selects a child by host and then by the longest path match; what it does when two
//! children match a request with the same path is not documented. The Gateway API orders such
//! matches (§3.2): an Exact path type, then a method, then more headers, then more query
//! parameters, then the oldest route, then `namespace/name`, then the rule's position. So this
//! pass leaves no two children that share a host and a path able to match the same request,
//! in one of two ways per (parent, host, path) group:
//!
//! - **Negation** (the usual case, and AKO's layout of one child per rule): every
//!   lower-precedence target gets the negation of each overlapping higher one (`B ∧ ¬A`, one
//!   target per condition of A that B does not already imply). Cheap when few rules overlap,
//!   as with a canary header next to a catch-all.
//! - **Grouping**, when negation would cost more than [`NEGATION_BUDGET`] conditions per
//!   target, more than [`MAX_TARGETS`] targets, more than 64 comparisons per target, or a
//!   negation Avi cannot write (two different method conditions): the group's targets move to one grouped child whose HTTP policy set
//!   lists each member's conditions in precedence order, each rule switching to the member's
//!   pool group (and carrying its request filters). Avi runs a policy set's rules in order and
//!   a switching action ends the evaluation, so precedence is written once per member and the
//!   output grows linearly with the number of routes.
//!
//! A member with a ResponseHeaderModifier cannot be grouped: Avi's response rules cannot tell
//! which request rule chose the pool, so the group is negated as far as the budget allows,
//! and what stays overlapping is reported as a warning.

use std::collections::{BTreeMap, BTreeSet};

use avi_client::AviRef;
use avi_client::models::{
    HdrMatch, HdrMatchCriteria, HttpPolicies, HttpPolicySet, HttpRequestPolicy, HttpRequestRule,
    HttpSwitchingAction, HttpSwitchingActionType, LocalResponseStatusCode, MatchCase, MatchTarget,
    MethodMatch, MethodMatchCriteria, PortMatch, QueryMatch, QueryMatchCriteria, VhMatch,
    VhMatchRule, VirtualService,
};

use crate::model::AviModel;
use crate::snapshot::ObjectKey;

/// The most targets one child may get for one host before the pass gives up on it.
pub const MAX_TARGETS: usize = 64;

/// How many conditions per original target negation may spend, in one group and for one rule
/// (plus a small constant), before the group is grouped instead: keeps the output, and the
/// work, linear in the routes.
pub const NEGATION_BUDGET: usize = 4;

/// Where a child's rule stands in the Gateway API order, and what each of its targets came
/// from (a PathPrefix becomes two targets, so the Avi shape alone does not tell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildOrder {
    /// The route's kind (`HTTPRoute`, `GRPCRoute`).
    pub kind: &'static str,
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
    /// The route's kind.
    pub kind: &'static str,
    /// The route.
    pub route: ObjectKey,
    /// Why.
    pub message: String,
}

/// Names a grouped child from its parent VS, its host and its path (criteria and strings).
pub type GroupName<'a> = &'a dyn Fn(&str, &str, &str) -> String;

/// One target of one child under one host: `(child, vh_match, rule)` positions.
type Slot = (usize, usize, usize);

/// The target at `s`.
fn target<'v>(vss: &'v [VirtualService], s: &Slot) -> &'v MatchTarget {
    &vss[s.0].vh_matches[s.1].rules[s.2].matches
}

/// The size of a target in conditions, what the negation budget counts.
fn size(t: &MatchTarget) -> usize {
    1 + t.hdrs.len() + usize::from(t.method.is_some()) + usize::from(t.query.is_some())
}

/// What negating one group came to.
struct Negated {
    /// Per slot (in precedence order), its targets.
    targets: Vec<Vec<MatchTarget>>,
    /// Per slot that stays overlapping, why.
    problems: Vec<(usize, String)>,
}

/// Negates `slots` (sorted by precedence). With `strict`, stops at the first problem (the
/// caller groups instead); otherwise carries on, each problem reported, and once the budget is
/// spent leaves the remaining slots as they are.
fn negate(slots: &[Slot], vss: &[VirtualService], host: &str, strict: bool) -> Negated {
    let budget = NEGATION_BUDGET * slots.iter().map(|s| size(target(vss, s))).sum::<usize>() + 32;
    let over_budget = format!(
        "separating the rules that overlap on {host} would need more than {NEGATION_BUDGET} conditions per rule; a rule may take the requests of a higher-precedence one"
    );
    // Comparisons, in strict mode only: disjoint rules cost no output but each pair is looked
    // at; past this many the group is grouped, which needs none.
    let work_budget = 64 * slots.len() + 1024;
    let mut work = 0;
    let mut spent = 0;
    let mut out = Negated {
        targets: Vec::with_capacity(slots.len()),
        problems: Vec::new(),
    };
    for (k, b) in slots.iter().enumerate() {
        if spent > budget {
            out.problems.push((k, over_budget.clone()));
            if strict {
                return out;
            }
            out.targets.push(vec![target(vss, b).clone()]);
            continue;
        }
        let mut targets = vec![target(vss, b).clone()];
        // One rule alone may not spend the group's budget either: that would still be
        // quadratic work before the group's total is reached.
        let own_budget = NEGATION_BUDGET * size(&targets[0]) + 32;
        let mut problem = None;
        for a in slots[..k].iter().filter(|a| a.0 != b.0) {
            work += targets.len();
            if strict && work > work_budget {
                problem.get_or_insert_with(|| over_budget.clone());
                break;
            }
            let mut next = Vec::with_capacity(targets.len());
            for t in targets.drain(..) {
                match subtract(&t, target(vss, a)) {
                    Ok(None) => next.push(t),
                    Ok(Some(parts)) => next.extend(parts),
                    Err(why) => {
                        problem.get_or_insert(why);
                        next.push(t);
                    }
                }
            }
            if next.len() > MAX_TARGETS {
                problem.get_or_insert(format!(
                    "separating a rule from higher-precedence rules on {host} would need more than {MAX_TARGETS} matches; it may take their requests"
                ));
                break;
            }
            targets = next;
            let cost = targets.iter().map(size).sum::<usize>();
            if cost > own_budget || spent + cost > budget {
                problem.get_or_insert(over_budget.clone());
                break;
            }
            if strict && problem.is_some() {
                break;
            }
        }
        spent += targets.iter().map(size).sum::<usize>();
        if let Some(why) = problem {
            out.problems.push((k, why));
            if strict {
                return out;
            }
        }
        out.targets.push(targets);
    }
    out
}

/// A member's request rule restricted to the member's target: only rules whose own match is
/// at most a port condition (what the filters write) can be; `None` if it can never match.
fn restrict(t: &MatchTarget, rule: Option<&MatchTarget>) -> Option<MatchTarget> {
    let Some(m) = rule else {
        return Some(t.clone());
    };
    let mut out = t.clone();
    if let Some(mp) = &m.vs_port {
        let ports: Vec<u16> = match &t.vs_port {
            Some(tp) => tp
                .ports
                .iter()
                .copied()
                .filter(|p| mp.ports.contains(p))
                .collect(),
            None => mp.ports.clone(),
        };
        if ports.is_empty() {
            return None;
        }
        out.vs_port = Some(PortMatch::is_in(ports));
    }
    Some(out)
}

/// A request rule's match holds nothing but a port condition.
fn port_only(m: Option<&MatchTarget>) -> bool {
    m.is_none_or(|m| {
        MatchTarget {
            vs_port: None,
            ..m.clone()
        } == MatchTarget::default()
    })
}

/// The grouped child of one (parent, host, path) group and its policy set.
fn grouped_child(
    name: String,
    host: &str,
    slots: &[Slot],
    vss: &[VirtualService],
    sets: &BTreeMap<&str, &HttpPolicySet>,
) -> (VirtualService, HttpPolicySet) {
    let first = &vss[slots[0].0];
    let mut markers: Vec<avi_client::models::Marker> = first
        .markers
        .iter()
        .filter(|m| {
            !matches!(
                m.key.as_str(),
                "HTTPRouteName" | "HTTPRouteNamespace" | "Host"
            )
        })
        .cloned()
        .collect();
    let set_markers = markers.clone();
    markers.push(avi_client::models::Marker::new("Host", [host.to_owned()]));
    let mut rules: Vec<HttpRequestRule> = Vec::new();
    let mut vh_rules = Vec::with_capacity(slots.len());
    for s in slots {
        let member = &vss[s.0];
        let t = target(vss, s);
        vh_rules.push(VhMatchRule {
            name: format!("rule-{}", vh_rules.len()),
            matches: t.clone(),
            extra: Default::default(),
        });
        let mut own: Vec<&HttpRequestRule> = member
            .http_policies
            .iter()
            .filter_map(|p| p.http_policy_set_ref.name())
            .filter_map(|n| sets.get(n))
            .flat_map(|set| set.http_request_policy.iter().flat_map(|p| p.rules.iter()))
            .collect();
        own.sort_by_key(|r| r.index);
        for (j, r) in own.into_iter().enumerate() {
            let Some(m) = restrict(t, r.match_.as_ref()) else {
                continue;
            };
            let mut rule = r.clone();
            rule.name = format!("{}-{}-{j}", member.name, s.2);
            rule.index = u32::try_from(rules.len()).unwrap_or(u32::MAX);
            rule.match_ = Some(m);
            rules.push(rule);
        }
        let mut rule = HttpRequestRule::new(
            format!("{}-{}", member.name, s.2),
            u32::try_from(rules.len()).unwrap_or(u32::MAX),
        );
        rule.match_ = Some(t.clone());
        rule.switching_action = Some(HttpSwitchingAction {
            action: HttpSwitchingActionType::SelectPoolGroup,
            pool_group_ref: member.pool_group_ref.clone(),
            ..HttpSwitchingAction::default()
        });
        rules.push(rule);
    }
    // The child is chosen only when one of its targets matches, so this is never reached; it
    // keeps a request that somehow gets here from any pool.
    let mut last = HttpRequestRule::new(
        format!("{name}-none"),
        u32::try_from(rules.len()).unwrap_or(u32::MAX),
    );
    last.switching_action = Some(HttpSwitchingAction {
        action: HttpSwitchingActionType::SelectLocal,
        status_code: Some(LocalResponseStatusCode::Code404),
        ..HttpSwitchingAction::default()
    });
    rules.push(last);
    let vs = VirtualService {
        name: name.clone(),
        created_by: first.created_by.clone(),
        markers,
        type_: first.type_.clone(),
        vh_type: first.vh_type.clone(),
        vh_parent_vs_ref: first.vh_parent_vs_ref.clone(),
        vh_matches: vec![VhMatch {
            host: host.to_owned(),
            rules: vh_rules,
            extra: Default::default(),
        }],
        http_policies: vec![HttpPolicies::new(0, AviRef::by_name(name.clone()))],
        application_profile_ref: first.application_profile_ref.clone(),
        ..VirtualService::default()
    };
    let set = HttpPolicySet {
        name,
        created_by: first.created_by.clone(),
        markers: set_markers,
        http_request_policy: Some(HttpRequestPolicy {
            rules,
            ..HttpRequestPolicy::default()
        }),
        ..HttpPolicySet::default()
    };
    (vs, set)
}

/// Rewrites the children of `model` named in `orders` so that children sharing a parent, a
/// host and a path never match the same request (see the module documentation).
pub fn make_disjoint(
    model: &mut AviModel,
    orders: &BTreeMap<String, ChildOrder>,
    group_name: GroupName<'_>,
) -> Vec<Overlap> {
    let mut overlaps = Vec::new();
    // The new targets of every slot that needs them (none: the slot moved to a grouped child);
    // most slots share their path with no other child and are left as they are.
    let mut replaced: BTreeMap<Slot, Vec<MatchTarget>> = BTreeMap::new();
    let mut grouped: Vec<(VirtualService, HttpPolicySet)> = Vec::new();
    {
        let vss: &[VirtualService] = &model.virtual_services;
        let sets: BTreeMap<&str, &HttpPolicySet> = model
            .http_policy_sets
            .iter()
            .map(|p| (p.name.as_str(), p))
            .collect();
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
        // Whether a child's rule can move into a grouped child: no response rules (they would
        // apply whichever rule chose the pool) and request rules conditioned on ports at most.
        let groupable = |vs: &VirtualService| {
            vs.http_policies
                .iter()
                .filter_map(|p| p.http_policy_set_ref.name())
                .filter_map(|n| sets.get(n))
                .all(|set| {
                    set.http_response_policy
                        .as_ref()
                        .is_none_or(|p| p.rules.is_empty())
                        && set
                            .http_request_policy
                            .iter()
                            .flat_map(|p| p.rules.iter())
                            .all(|r| port_only(r.match_.as_ref()))
                })
                && vs.pool_group_ref.is_some()
                // DataScripts (a CORS filter) run on the child that serves the request: a
                // grouped child would run them for every member.
                && vs.vs_datascripts.is_empty()
        };
        for ((parent, host, criteria, strings), mut slots) in groups {
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
            let can_group = slots.iter().all(|s| groupable(&vss[s.0]));
            let negated = negate(&slots, vss, host, can_group);
            if can_group && !negated.problems.is_empty() {
                let path_key = format!("{criteria} {}", strings.join(" "));
                let name = group_name(parent, host, &path_key);
                grouped.push(grouped_child(name, host, &slots, vss, &sets));
                for s in &slots {
                    replaced.insert(*s, Vec::new());
                }
                continue;
            }
            for (k, why) in negated.problems {
                overlaps.push(Overlap {
                    kind: orders[&vss[slots[k].0].name].kind,
                    route: orders[&vss[slots[k].0].name].route.clone(),
                    message: why,
                });
            }
            for (s, targets) in slots.iter().zip(negated.targets) {
                replaced.insert(*s, targets);
            }
        }
    }
    let touched: BTreeSet<(usize, usize)> = replaced.keys().map(|(i, mi, _)| (*i, *mi)).collect();
    for (i, mi) in touched {
        let m = &mut model.virtual_services[i].vh_matches[mi];
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
    // A host whose every target is shadowed by higher-precedence rules, or moved to a grouped
    // child, matches nothing here; Avi needs at least one rule per host, so the host goes. A
    // child left with no host can never be chosen: it goes too, with its policy set (a grouped
    // child carries the policy rules it needs; its pool group stays).
    let mut gone = BTreeSet::new();
    model.virtual_services.retain_mut(|vs| {
        vs.vh_matches.retain(|m| !m.rules.is_empty());
        let keep = !vs.vh_matches.is_empty() || !orders.contains_key(&vs.name);
        if !keep {
            gone.extend(
                vs.http_policies
                    .iter()
                    .filter_map(|p| p.http_policy_set_ref.name())
                    .map(str::to_owned),
            );
        }
        keep
    });
    if !gone.is_empty() {
        let used: BTreeSet<&str> = model
            .virtual_services
            .iter()
            .flat_map(|vs| vs.http_policies.iter())
            .filter_map(|p| p.http_policy_set_ref.name())
            .collect();
        let gone: BTreeSet<String> = gone
            .into_iter()
            .filter(|n| !used.contains(n.as_str()))
            .collect();
        model.http_policy_sets.retain(|p| !gone.contains(&p.name));
    }
    for (vs, set) in grouped {
        model.virtual_services.push(vs);
        model.http_policy_sets.push(set);
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

/// `t ∧ ¬a` as targets (ORed), for targets with the same path: `None` when they are disjoint
/// already (`t` unchanged), `Err` when Avi cannot express the negation.
fn subtract(t: &MatchTarget, a: &MatchTarget) -> Result<Option<Vec<MatchTarget>>, String> {
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
                return Ok(None);
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
            return Ok(None);
        }
    }
    let (common, only_t) = match (ports(t), ports(a)) {
        (Some(tp), Some(ap)) => {
            let common: Vec<u16> = tp.iter().copied().filter(|p| ap.contains(p)).collect();
            if common.is_empty() {
                return Ok(None);
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
    Ok(Some(out))
}

#[cfg(test)]
mod tests;
