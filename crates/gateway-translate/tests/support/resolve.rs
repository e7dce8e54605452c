//! What an Avi Service Engine does with a request, read from the produced model: the
//! conformance tests resolve every request through this instead of trusting the model's shape.
//!
//! The selection rules are the ones docs/gateway-api.md ("How a request finds its child")
//! states and avi-sim's data plane implements:
//! 1. the parent VS of the Gateway must have a service on the port;
//! 2. the most specific `vh_matches[].host` that matches the Host header (port ignored) wins:
//!    exact, then the longest wildcard suffix, then `*`; there is no fall-through to a less
//!    specific host;
//! 3. among the children with a match rule under that host that matches the request (path,
//!    headers, query, method, port, all ANDed), the most specific path wins: EQUALS, then
//!    BEGINS_WITH, then REGEX, then the longer string. Nothing else is ranked: the translator
//!    makes children with the same host and path disjoint, and two children matching equally
//!    fail the test (Avi's choice would be undefined);
//! 4. no child: the parent's policies (the default backend answers 404);
//! 5. the child's HTTP request policy applies in index order (redirect, local response,
//!    header changes, URL rewrite), then a pool group member by ratio.

use std::collections::BTreeMap;

use avi_client::models::{
    HdrMatchCriteria, HttpHdrAction, HttpHdrActionType, HttpPolicySet, HttpSwitchingActionType,
    MatchCase, MatchTarget, MethodMatchCriteria, PathMatchCriteria, QueryMatchCriteria,
    RedirectProtocol, RedirectStatusCode, UriParam, UriTokenType, VirtualService, VsType,
};
use gateway_translate::AviModel;

/// A request as a client sends it.
#[derive(Debug, Clone)]
pub struct Request {
    pub port: u16,
    pub host: String,
    /// Path with the query string.
    pub path: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn get(port: u16, host: &str, path: &str) -> Self {
        Request {
            port,
            host: host.to_owned(),
            path: path.to_owned(),
            method: "GET".into(),
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn method(mut self, m: &str) -> Self {
        self.method = m.to_owned();
        self
    }

    fn split(&self) -> (&str, &str) {
        self.path.split_once('?').unwrap_or((&self.path, ""))
    }

    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A pool a request may go to.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub pool: String,
    /// `namespace/name` of the Service (pool markers).
    pub backend: String,
    pub ratio: u32,
    pub servers: usize,
}

/// What the Service Engine does.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No virtual service listens there.
    Refused,
    /// A local response.
    Local(u16),
    /// A redirect.
    Redirect { status: u16, location: String },
    /// Proxied: the shares of the pool group (ratio > 0), and the request as the backend sees it.
    Forward {
        child: String,
        shares: Vec<Share>,
        host: String,
        path: String,
        headers: Vec<(String, String)>,
        response_actions: Vec<HttpHdrAction>,
    },
}

impl Outcome {
    /// The one backend (`namespace/name`) that takes all the traffic.
    pub fn backend(&self) -> Option<String> {
        match self {
            Outcome::Forward { shares, .. } if shares.len() == 1 && shares[0].servers > 0 => {
                Some(shares[0].backend.clone())
            }
            _ => None,
        }
    }

    /// The status a client sees when no backend answers: local responses, redirects, and 503
    /// for a pool group with no live share.
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Refused => 0,
            Outcome::Local(s) => *s,
            Outcome::Redirect { status, .. } => *status,
            Outcome::Forward { shares, .. } => {
                if shares.iter().any(|s| s.servers > 0) {
                    200
                } else {
                    503
                }
            }
        }
    }
}

fn marker(vs_markers: &[avi_client::models::Marker], key: &str) -> Option<String> {
    vs_markers
        .iter()
        .find(|m| m.key == key)
        .and_then(|m| m.values.first().cloned())
}

fn host_rank(pattern: &str, host: &str) -> Option<(u8, usize)> {
    if pattern == "*" {
        return Some((0, 0));
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        // `*.example.com` needs at least one more label.
        return (host.len() > suffix.len() && host.ends_with(suffix)).then_some((1, pattern.len()));
    }
    (pattern.eq_ignore_ascii_case(host)).then_some((2, pattern.len()))
}

fn path_matches(t: &MatchTarget, path: &str) -> Option<(u8, usize)> {
    let Some(p) = &t.path else {
        return Some((0, 0));
    };
    let sensitive = p.match_case == Some(MatchCase::Sensitive);
    let eq = |a: &str, b: &str| {
        if sensitive {
            a == b
        } else {
            a.eq_ignore_ascii_case(b)
        }
    };
    for s in &p.match_str {
        let hit = match p.match_criteria {
            PathMatchCriteria::Equals => eq(path, s).then_some((3, s.len())),
            PathMatchCriteria::BeginsWith => {
                (path.len() >= s.len() && eq(&path[..s.len()], s)).then_some((2, s.len()))
            }
            PathMatchCriteria::RegexMatch => regex::Regex::new(s)
                .ok()
                .filter(|re| re.is_match(path))
                .map(|_| (1, s.len())),
            ref other => panic!("the translator never emits path criteria {other:?}"),
        };
        if hit.is_some() {
            return hit;
        }
    }
    None
}

/// The rank of a matching target, or None.
fn target_rank(t: &MatchTarget, req: &Request) -> Option<(u8, usize)> {
    let (path, query) = req.split();
    if let Some(ports) = &t.vs_port
        && !ports.ports.contains(&req.port)
    {
        return None;
    }
    let path_rank = path_matches(t, path)?;
    for h in &t.hdrs {
        let values = req.header_values(&h.hdr);
        let sensitive = h.match_case == Some(MatchCase::Sensitive);
        let equal = values.iter().any(|v| {
            h.value.iter().any(|want| {
                if sensitive {
                    v == want
                } else {
                    v.eq_ignore_ascii_case(want)
                }
            })
        });
        let ok = match h.match_criteria {
            HdrMatchCriteria::Equals => equal,
            // An absent header does not equal anything.
            HdrMatchCriteria::DoesNotEqual => !equal,
            ref other => panic!("the translator never emits header criteria {other:?}"),
        };
        if !ok {
            return None;
        }
    }
    if let Some(m) = &t.method {
        let wire = format!("HTTP_METHOD_{}", req.method);
        let listed = m.methods.iter().any(|x| x.as_str() == wire);
        let ok = match m.match_criteria {
            MethodMatchCriteria::IsIn => listed,
            MethodMatchCriteria::IsNotIn => !listed,
            ref other => panic!("unknown method criteria {other:?}"),
        };
        if !ok {
            return None;
        }
    }
    if let Some(q) = &t.query {
        assert_eq!(q.match_criteria, QueryMatchCriteria::RegexMatch);
        if !q.match_str.iter().any(|s| {
            fancy_regex::Regex::new(s)
                .unwrap_or_else(|e| panic!("query regex {s:?}: {e}"))
                .is_match(query)
                .unwrap()
        }) {
            return None;
        }
    }
    Some(path_rank)
}

fn uri_param(p: &UriParam, req_path: &str) -> String {
    let segments: Vec<&str> = req_path.trim_start_matches('/').split('/').collect();
    let mut parts = Vec::new();
    for t in &p.tokens {
        match t.type_ {
            UriTokenType::String => parts.push(t.str_value.clone().unwrap_or_default()),
            UriTokenType::Path => {
                let start = t.start_index.unwrap_or(0) as usize;
                let end =
                    (t.end_index.unwrap_or(65535) as usize).min(segments.len().saturating_sub(1));
                if start < segments.len() && start <= end {
                    parts.push(segments[start..=end].join("/"));
                }
            }
            ref other => panic!("the translator never emits token {other:?}"),
        }
    }
    format!("/{}", parts.join("/"))
}

pub fn apply_hdr_actions(headers: &mut Vec<(String, String)>, actions: &[HttpHdrAction]) {
    let mut sorted: Vec<&HttpHdrAction> = actions.iter().collect();
    sorted.sort_by_key(|a| a.hdr_index.unwrap_or(0));
    for a in sorted {
        let h = a.hdr.as_ref().unwrap();
        let name = h.name.clone().unwrap();
        let value = h
            .value
            .as_ref()
            .and_then(|v| v.val.clone())
            .unwrap_or_default();
        match a.action {
            HttpHdrActionType::Add => headers.push((name, value)),
            HttpHdrActionType::Replace => {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
                headers.push((name, value));
            }
            HttpHdrActionType::Remove => headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name)),
            ref other => panic!("unknown header action {other:?}"),
        }
    }
}

/// Resolves `req` sent to the Gateway whose parent VS is `parent`.
pub fn resolve(model: &AviModel, parent: &str, req: &Request) -> Outcome {
    let vs_by_name: BTreeMap<&str, &VirtualService> = model
        .virtual_services
        .iter()
        .map(|v| (v.name.as_str(), v))
        .collect();
    let policies: BTreeMap<&str, &HttpPolicySet> = model
        .http_policy_sets
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    let Some(parent_vs) = vs_by_name.get(parent) else {
        return Outcome::Refused;
    };
    if !parent_vs.services.iter().any(|s| s.port == req.port) {
        return Outcome::Refused;
    }
    let host = req
        .host
        .rsplit_once(':')
        .filter(|(_, p)| p.parse::<u16>().is_ok())
        .map_or(req.host.as_str(), |(h, _)| h)
        .to_ascii_lowercase();
    let children: Vec<&VirtualService> = model
        .virtual_services
        .iter()
        .filter(|v| v.type_ == Some(VsType::VhChild))
        .filter(|v| v.vh_parent_vs_ref.as_ref().and_then(|r| r.name()) == Some(parent))
        .collect();
    let best_host = children
        .iter()
        .flat_map(|c| c.vh_matches.iter())
        .filter_map(|m| host_rank(&m.host, &host).map(|r| (r, m.host.clone())))
        .max()
        .map(|(_, h)| h);
    let mut best: Option<((u8, usize), &VirtualService)> = None;
    let mut tied = false;
    if let Some(best_host) = &best_host {
        for c in &children {
            for m in c.vh_matches.iter().filter(|m| &m.host == best_host) {
                for r in &m.rules {
                    if let Some(rank) = target_rank(&r.matches, req) {
                        match &best {
                            Some((b, _)) if *b > rank => {}
                            Some((b, bc)) if *b == rank && bc.name == c.name => {}
                            Some((b, bc)) if *b == rank => {
                                // Equal specificity in two children: recorded, first by name kept.
                                if bc.pool_group_ref != c.pool_group_ref {
                                    tied = true;
                                }
                            }
                            _ => {
                                best = Some((rank, c));
                                tied = false;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(
        !tied,
        "request {req:?} matches two children equally: Avi's choice is undefined"
    );
    let Some((_, child)) = best else {
        // The parent's policies: the default backend.
        for hp in &parent_vs.http_policies {
            let ps = policies[hp.http_policy_set_ref.name().unwrap()];
            for rule in ps.http_request_policy.iter().flat_map(|p| p.rules.iter()) {
                if let Some(a) = &rule.switching_action
                    && a.action == HttpSwitchingActionType::SelectLocal
                {
                    return Outcome::Local(local_status(a));
                }
            }
        }
        return Outcome::Local(404);
    };

    let (path, query) = req.split();
    let mut out_host = req.host.clone();
    let mut out_path = path.to_owned();
    let mut headers = req.headers.clone();
    let mut response_actions = Vec::new();
    // A switching action to a pool group (a grouped child's rules) decides and ends the
    // evaluation, as a local response does.
    let mut switched: Option<String> = None;
    'sets: for hp in &child.http_policies {
        let ps = policies[hp.http_policy_set_ref.name().unwrap()];
        let mut rules: Vec<_> = ps
            .http_request_policy
            .iter()
            .flat_map(|p| p.rules.iter())
            .collect();
        rules.sort_by_key(|r| r.index);
        for rule in rules {
            if let Some(m) = &rule.match_
                && target_rank(m, req).is_none()
            {
                continue;
            }
            if let Some(r) = &rule.redirect_action {
                let https = r.protocol == RedirectProtocol::Https;
                let scheme = if https { "https" } else { "http" };
                let h = r
                    .host
                    .as_ref()
                    .map(|h| h.tokens[0].str_value.clone().unwrap())
                    .unwrap_or_else(|| host.clone());
                let port = match r.port {
                    Some(80) if !https => String::new(),
                    Some(443) if https => String::new(),
                    Some(p) => format!(":{p}"),
                    None => String::new(),
                };
                let p = r
                    .path
                    .as_ref()
                    .map_or(path.to_owned(), |p| uri_param(p, path));
                let q = if r.keep_query != Some(false) && !query.is_empty() {
                    format!("?{query}")
                } else {
                    String::new()
                };
                let status = match r.status_code.clone().unwrap_or_default() {
                    RedirectStatusCode::Code301 => 301,
                    RedirectStatusCode::Code307 => 307,
                    _ => 302,
                };
                return Outcome::Redirect {
                    status,
                    location: format!("{scheme}://{h}{port}{p}{q}"),
                };
            }
            if let Some(a) = &rule.switching_action
                && a.action == HttpSwitchingActionType::SelectLocal
            {
                return Outcome::Local(local_status(a));
            }
            apply_hdr_actions(&mut headers, &rule.hdr_action);
            if let Some(rw) = &rule.rewrite_url_action {
                if let Some(h) = &rw.host_hdr {
                    out_host = h.tokens[0].str_value.clone().unwrap();
                }
                if let Some(p) = &rw.path {
                    out_path = uri_param(p, path);
                }
            }
            if let Some(a) = &rule.switching_action
                && a.action == HttpSwitchingActionType::SelectPoolGroup
            {
                switched = Some(
                    a.pool_group_ref
                        .as_ref()
                        .and_then(|r| r.name())
                        .unwrap()
                        .to_owned(),
                );
                for rule in ps.http_response_policy.iter().flat_map(|p| p.rules.iter()) {
                    response_actions.extend(rule.hdr_action.iter().cloned());
                }
                break 'sets;
            }
        }
        for rule in ps.http_response_policy.iter().flat_map(|p| p.rules.iter()) {
            response_actions.extend(rule.hdr_action.iter().cloned());
        }
    }
    if !query.is_empty() {
        out_path = format!("{out_path}?{query}");
    }
    let pg_name = switched.as_deref().unwrap_or_else(|| {
        child
            .pool_group_ref
            .as_ref()
            .and_then(|r| r.name())
            .unwrap()
    });
    let pg = model
        .pool_groups
        .iter()
        .find(|p| p.name == pg_name)
        .unwrap_or_else(|| panic!("child {} names a missing pool group {pg_name}", child.name));
    let shares = pg
        .members
        .iter()
        .filter(|m| m.ratio.unwrap_or(1) > 0)
        .map(|m| {
            let name = m.pool_ref.name().unwrap();
            let pool = model
                .pools
                .iter()
                .find(|p| p.name == name)
                .unwrap_or_else(|| panic!("pool group {pg_name} names a missing pool {name}"));
            Share {
                pool: name.to_owned(),
                backend: format!(
                    "{}/{}",
                    marker(&pool.markers, "BackendNs").unwrap_or_default(),
                    marker(&pool.markers, "BackendName").unwrap_or_default()
                ),
                ratio: m.ratio.unwrap_or(1),
                servers: pool.servers.len(),
            }
        })
        .collect();
    Outcome::Forward {
        child: child.name.clone(),
        shares,
        host: out_host,
        path: out_path,
        headers,
        response_actions,
    }
}

fn local_status(a: &avi_client::models::HttpSwitchingAction) -> u16 {
    if let Some(code) = a.other_status_code {
        return u16::try_from(code).unwrap();
    }
    let wire = a
        .status_code
        .as_ref()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    wire.rsplit('_').next().unwrap().parse().unwrap()
}
