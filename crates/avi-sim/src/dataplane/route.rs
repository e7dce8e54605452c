//! Which virtual service serves a request, and what its policies decide: pure, read from the
//! store for every request, so a configuration change applies to the next request.
//!
//! - A normal virtual service serves its own requests.
//! - An enhanced virtual hosting parent (`VS_TYPE_VH_PARENT` + `VS_TYPE_VH_ENHANCED`) hands a
//!   request to one of its children (`VS_TYPE_VH_CHILD` with `vh_parent_vs_ref` naming it) by
//!   `vh_matches`: first the most specific host (exact, then the longest wildcard suffix, then
//!   `*`) among all children, then among that host's rules the one whose match holds with the
//!   longest path (an exact path beats a prefix of the same length); ties go to the older child.
//!   No child matching, the parent serves the request itself.
//! - An SNI parent (`VS_TYPE_VH_SNI`) hands the connection to the child whose `vh_domain_name`
//!   matches the TLS server name.
//!
//! The serving virtual service's HTTP policies run (see [`super::policy`]; the parent's
//! policies do not run for a request a child serves — that is what the translator's
//! "default backend last" 404 policy on the parent relies on); if they decide nothing, its
//! DataScripts run ([`datascript_pool`]), then its `pool_group_ref` or `pool_ref` gets the
//! request, and without either the answer is 404.
//!
//! DataScripts are Lua; the emulator does not run Lua. It knows the meaning of the one script
//! controllers put on a shared virtual service — AKO's SNI host-and-path selector, which calls
//! `avi.poolgroup.select(<pool group>, <priority label>)` with `lower(host .. path)` — and
//! gives it that meaning: the member of the set's pool group whose priority label is the longest
//! prefix of the request's lowercase host and path. After the request policies (unless they
//! answered), the serving virtual service's request scripts that [`super::scripts`] knows run
//! in order: a CORS script may answer a preflight or name headers for the response, a redirect
//! script answers. Any other script is ignored.

use serde_json::{Map, Value};

use super::matching::{array, path_specificity, target_matches, text};
use super::policy::{self, RequestPlan, Terminal};
use super::request::RequestView;
use crate::store::refs::{self, RefSpec};
use crate::store::{Object, Store};

/// The uuid of a stored reference (`/api/<type>/<uuid>`).
pub fn uuid_of(reference: &str) -> Option<String> {
    match refs::parse(reference)? {
        RefSpec::Uuid { uuid, .. } => Some(uuid),
        RefSpec::Name { .. } => None,
    }
}

/// Whether a virtual service takes traffic (`enabled` and `traffic_enabled`, both default on).
pub fn live(vs: &Map<String, Value>) -> bool {
    vs.get("enabled").and_then(Value::as_bool) != Some(false)
        && vs.get("traffic_enabled").and_then(Value::as_bool) != Some(false)
}

fn is_type(vs: &Map<String, Value>, ty: &str) -> bool {
    vs.get("type").and_then(Value::as_str) == Some(ty)
}

/// A service of a live virtual service on `port`: whether it terminates TLS. `None` when the
/// virtual service is gone, disabled, or no longer serves the port.
pub fn service_tls(store: &Store, vs_uuid: &str, port: u16) -> Option<bool> {
    let vs = store.object("virtualservice", vs_uuid)?;
    if !live(&vs.body) {
        return None;
    }
    service_for_port(&vs.body, port)
        .map(|s| s.get("enable_ssl").and_then(Value::as_bool) == Some(true))
}

/// The entry of a virtual service's `services` that serves `port` (its `port`, or the range up
/// to `port_range_end`).
pub fn service_for_port(vs: &Map<String, Value>, port: u16) -> Option<&Value> {
    array(vs.get("services").unwrap_or(&Value::Null))
        .iter()
        .find(|s| {
            let first = s.get("port").and_then(Value::as_u64).unwrap_or(0);
            let last = s
                .get("port_range_end")
                .and_then(Value::as_u64)
                .filter(|e| *e > first)
                .unwrap_or(first);
            (first..=last).contains(&u64::from(port))
        })
}

/// Whether port `port` of `vs_uuid` speaks HTTP/2 to clients (`services[].enable_http2`): h2
/// by ALPN on a TLS port, h2c with prior knowledge on a plain one (HTTP/1.1 is still served).
pub fn service_http2(store: &Store, vs_uuid: &str, port: u16) -> bool {
    store
        .object("virtualservice", vs_uuid)
        .and_then(|vs| service_for_port(&vs.body, port))
        .and_then(|s| s.get("enable_http2"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// The live children of a virtual hosting parent, oldest first.
pub fn children<'s>(store: &'s Store, parent: &Object) -> Vec<&'s Object> {
    let mine = format!("/api/virtualservice/{}", parent.uuid);
    let mut out: Vec<&Object> = store
        .referrers_of("virtualservice", &parent.uuid)
        .into_iter()
        .filter(|(ty, _)| ty == "virtualservice")
        .filter_map(|(ty, uuid)| store.object(&ty, &uuid))
        .filter(|c| {
            is_type(&c.body, "VS_TYPE_VH_CHILD")
                && c.body.get("vh_parent_vs_ref").and_then(Value::as_str) == Some(mine.as_str())
                && live(&c.body)
        })
        .collect();
    out.sort_by_key(|c| c.seq);
    out
}

fn enhanced(parent: &Map<String, Value>) -> bool {
    is_type(parent, "VS_TYPE_VH_PARENT")
        && parent.get("vh_type").and_then(Value::as_str) == Some("VS_TYPE_VH_ENHANCED")
}

/// How well a `vh_matches` host (or SNI domain) pattern fits `host`: exact beats a wildcard
/// (longer suffixes first) beats `*`.
pub fn host_rank(pattern: &str, host: &str) -> Option<(u8, usize)> {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if pattern == "*" {
        return Some((0, 0));
    }
    if let Some(suffix) = pattern.strip_prefix("*.") {
        let fits = host.len() > suffix.len() + 1
            && host.ends_with(suffix)
            && host.as_bytes().get(host.len() - suffix.len() - 1) == Some(&b'.');
        return fits.then_some((1, suffix.len()));
    }
    (pattern == host).then_some((2, pattern.len()))
}

/// The enhanced virtual hosting child that serves `req`, if any.
pub fn select_child<'s>(
    store: &'s Store,
    parent: &Object,
    req: &RequestView<'_>,
) -> Option<&'s Object> {
    let host = req.host().unwrap_or_default();
    let kids = children(store, parent);
    let best_host = kids
        .iter()
        .flat_map(|c| array(c.body.get("vh_matches").unwrap_or(&Value::Null)))
        .filter_map(|m| host_rank(text(m, "host").unwrap_or_default(), &host))
        .max()?;
    let mut chosen: Option<(&Object, (usize, u8))> = None;
    for child in kids {
        for m in array(child.body.get("vh_matches").unwrap_or(&Value::Null)) {
            if host_rank(text(m, "host").unwrap_or_default(), &host) != Some(best_host) {
                continue;
            }
            let rules = array(m.get("rules").unwrap_or(&Value::Null));
            let best_rule = if rules.is_empty() {
                Some((0, 0))
            } else {
                rules
                    .iter()
                    .map(|r| r.get("matches").unwrap_or(&Value::Null))
                    .filter(|t| target_matches(t, req))
                    .map(path_specificity)
                    .max()
            };
            if let Some(score) = best_rule
                && chosen.is_none_or(|(_, s)| score > s)
            {
                chosen = Some((child, score));
            }
        }
    }
    chosen.map(|(c, _)| c)
}

/// The SNI child whose `vh_domain_name` fits the TLS server name best.
pub fn select_sni_child<'s>(store: &'s Store, parent: &Object, sni: &str) -> Option<&'s Object> {
    let sni = sni.trim_end_matches('.').to_ascii_lowercase();
    children(store, parent)
        .into_iter()
        .filter_map(|c| {
            let rank = array(c.body.get("vh_domain_name").unwrap_or(&Value::Null))
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|d| host_rank(d, &sni))
                .max()?;
            Some((rank, std::cmp::Reverse(c.seq), c))
        })
        .max_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))
        .map(|(_, _, c)| c)
}

/// The policy sets of a virtual service, in `http_policies` order.
pub fn policy_sets<'s>(store: &'s Store, vs: &Object) -> Vec<&'s Map<String, Value>> {
    let mut refs: Vec<(i64, String)> = array(vs.body.get("http_policies").unwrap_or(&Value::Null))
        .iter()
        .filter_map(|p| {
            let uuid = uuid_of(text(p, "http_policy_set_ref")?)?;
            Some((p.get("index").and_then(Value::as_i64).unwrap_or(0), uuid))
        })
        .collect();
    refs.sort_by_key(|(i, _)| *i);
    refs.iter()
        .filter_map(|(_, u)| store.object("httppolicyset", u))
        .map(|o| &o.body)
        .collect()
}

/// The DataScript sets of a virtual service, in `vs_datascripts` index order (the order Avi
/// runs them in).
pub fn datascript_sets<'s>(store: &'s Store, vs: &Object) -> Vec<&'s Object> {
    let mut sets: Vec<(i64, String)> = array(vs.body.get("vs_datascripts").unwrap_or(&Value::Null))
        .iter()
        .filter_map(|d| {
            let uuid = uuid_of(text(d, "vs_datascript_set_ref")?)?;
            Some((d.get("index").and_then(Value::as_i64).unwrap_or(0), uuid))
        })
        .collect();
    sets.sort_by_key(|(i, _)| *i);
    sets.iter()
        .filter_map(|(_, uuid)| store.object("vsdatascriptset", uuid))
        .collect()
}

/// The call AKO's host-and-path selector makes (see the module docs).
const POOLGROUP_SELECT: &str = "avi.poolgroup.select";

/// The pool a virtual service's DataScripts pick for `req`, in `vs_datascripts` index order:
/// for a script that selects by host and path, the member of its set's pool group whose
/// priority label is the longest prefix of `lower(host .. path)`.
pub fn datascript_pool(store: &Store, vs: &Object, req: &RequestView<'_>) -> Option<String> {
    let key = format!("{}{}", req.host().unwrap_or_default(), req.path).to_lowercase();
    for set in datascript_sets(store, vs) {
        let selects = array(set.body.get("datascript").unwrap_or(&Value::Null))
            .iter()
            .any(|d| text(d, "script").is_some_and(|s| s.contains(POOLGROUP_SELECT)));
        if !selects {
            continue;
        }
        for pg_ref in array(set.body.get("pool_group_refs").unwrap_or(&Value::Null)) {
            let Some(pg) = pg_ref
                .as_str()
                .and_then(uuid_of)
                .and_then(|u| store.object("poolgroup", &u))
            else {
                continue;
            };
            let best = array(pg.body.get("members").unwrap_or(&Value::Null))
                .iter()
                .filter_map(|m| {
                    let label = text(m, "priority_label")?.to_lowercase();
                    let pool = uuid_of(text(m, "pool_ref")?)?;
                    key.starts_with(&label).then_some((label.len(), pool))
                })
                .max_by_key(|(len, _)| *len);
            if let Some((_, pool)) = best {
                return Some(pool);
            }
        }
    }
    None
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The virtual service is gone or disabled: drop the connection.
    Close,
    /// Answer locally (a policy's local response).
    Respond {
        /// Status.
        status: u16,
        /// `Content-Type` and body of the policy's file.
        file: Option<(String, String)>,
    },
    /// Redirect.
    Redirect {
        /// `Location`.
        location: String,
        /// Status.
        status: u16,
    },
    /// Answer from a DataScript (`avi.http.response`): status and headers.
    Script {
        /// Status.
        status: u16,
        /// Headers.
        headers: Vec<(String, String)>,
    },
    /// Proxy to a pool (uuid).
    Pool(String),
    /// Proxy to a member of a pool group (uuid).
    PoolGroup(String),
    /// Nothing routes the request: 404.
    NotFound,
}

/// The outcome of routing one request.
#[derive(Debug, Clone)]
pub struct Routing {
    /// What to do.
    pub decision: Decision,
    /// The virtual service that served it (a child, or the listener's own).
    pub vs_name: String,
    /// Its request policies' header actions and rewrite.
    pub plan: RequestPlan,
    /// Its policy sets, for the response phase.
    pub policy_sets: Vec<Map<String, Value>>,
    /// Headers its response DataScripts set (`Vary` is added, the others replace).
    pub response_headers: Vec<(String, String)>,
}

/// Routes `req`, which arrived on a listener of virtual service `vs_uuid` (with TLS server
/// name `sni`, if any).
pub fn route(store: &Store, vs_uuid: &str, sni: Option<&str>, req: &RequestView<'_>) -> Routing {
    let Some(parent) = store
        .object("virtualservice", vs_uuid)
        .filter(|v| live(&v.body))
    else {
        return Routing {
            decision: Decision::Close,
            vs_name: String::new(),
            plan: RequestPlan::default(),
            policy_sets: Vec::new(),
            response_headers: Vec::new(),
        };
    };
    let serving = if enhanced(&parent.body) {
        select_child(store, parent, req).unwrap_or(parent)
    } else if is_type(&parent.body, "VS_TYPE_VH_PARENT") {
        sni.and_then(|s| select_sni_child(store, parent, s))
            .unwrap_or(parent)
    } else {
        parent
    };
    let sets = policy_sets(store, serving);
    let plan = policy::request_rules(&sets, req);
    let mut decision = match &plan.terminal {
        Some(Terminal::Local { status, file }) => Decision::Respond {
            status: *status,
            file: file.clone(),
        },
        Some(Terminal::Redirect { location, status }) => Decision::Redirect {
            location: location.clone(),
            status: *status,
        },
        Some(Terminal::Pool(p)) => Decision::Pool(p.clone()),
        Some(Terminal::PoolGroup(p)) => Decision::PoolGroup(p.clone()),
        None => {
            let field = |k: &str| {
                serving
                    .body
                    .get(k)
                    .and_then(Value::as_str)
                    .and_then(uuid_of)
            };
            match (
                datascript_pool(store, serving, req),
                field("pool_group_ref"),
                field("pool_ref"),
            ) {
                (Some(p), _, _) => Decision::Pool(p),
                (None, Some(pg), _) => Decision::PoolGroup(pg),
                (None, None, Some(p)) => Decision::Pool(p),
                (None, None, None) => Decision::NotFound,
            }
        }
    };
    // DataScripts run after the request policies, unless those answered already.
    let mut response_headers = Vec::new();
    if !matches!(
        decision,
        Decision::Respond { .. } | Decision::Redirect { .. }
    ) {
        for script in super::scripts::request_scripts(store, serving) {
            match script {
                super::scripts::Script::Cors(cors) => match cors.run(req) {
                    super::cors::CorsOutcome::Answer(status, headers) => {
                        decision = Decision::Script { status, headers };
                        break;
                    }
                    super::cors::CorsOutcome::Response(h) => response_headers.extend(h),
                },
                super::scripts::Script::Redirect(r) => {
                    let (status, location) = r.run(req);
                    decision = Decision::Redirect { location, status };
                    break;
                }
            }
        }
    }
    Routing {
        decision,
        vs_name: serving.name.clone(),
        plan,
        policy_sets: sets.into_iter().cloned().collect(),
        response_headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ADMIN, TenantScope, WriteOptions};
    use http::{HeaderMap, Method, Version};
    use serde_json::json;
    use std::net::IpAddr;

    fn store() -> Store {
        Store::new().unwrap()
    }

    fn create(s: &mut Store, ty: &str, body: Value) -> String {
        s.create(
            ty,
            body,
            &TenantScope::One(ADMIN.into()),
            None,
            &WriteOptions::default(),
        )
        .unwrap()
        .uuid
        .clone()
    }

    fn request<'a>(
        headers: &'a HeaderMap,
        method: &'a Method,
        path: &'a str,
        query: Option<&'a str>,
    ) -> RequestView<'a> {
        RequestView {
            method,
            version: Version::HTTP_11,
            path,
            query,
            headers,
            authority: None,
            vs_port: 80,
            vip: IpAddr::from([10, 250, 250, 1]),
            https: false,
            client_ip: IpAddr::from([127, 0, 0, 1]),
        }
    }

    fn host(h: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert("host", h.parse().unwrap());
        m
    }

    fn child(s: &mut Store, name: &str, vh_matches: Value) -> String {
        create(s, "poolgroup", json!({"name": name}));
        create(
            s,
            "virtualservice",
            json!({"name": name, "type": "VS_TYPE_VH_CHILD", "vh_type": "VS_TYPE_VH_ENHANCED",
                   "vh_parent_vs_ref": "/api/virtualservice/?name=parent",
                   "pool_group_ref": format!("/api/poolgroup/?name={name}"),
                   "vh_matches": vh_matches}),
        )
    }

    fn rule(criteria: &str, path: &str) -> Value {
        json!({"name": "r", "matches": {"path": {"match_criteria": criteria, "match_case": "SENSITIVE", "match_str": [path]},
                                        "vs_port": {"match_criteria": "IS_IN", "ports": [80]}}})
    }

    /// The parent and children as the translator writes them (istio-guide plus more routes).
    fn evh() -> (Store, String) {
        let mut s = store();
        create(
            &mut s,
            "httppolicyset",
            json!({"name": "default-backend", "http_request_policy": {"rules": [{
            "name": "default-backend-rule", "index": 0, "enable": true,
            "match": {"path": {"match_criteria": "BEGINS_WITH", "match_case": "SENSITIVE", "match_str": ["/"]}},
            "switching_action": {"action": "HTTP_SWITCHING_SELECT_LOCAL", "status_code": "HTTP_LOCAL_RESPONSE_STATUS_CODE_404"}}]}}),
        );
        create(
            &mut s,
            "vsvip",
            json!({"name": "vip", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
        );
        let parent = create(
            &mut s,
            "virtualservice",
            json!({"name": "parent", "type": "VS_TYPE_VH_PARENT", "vh_type": "VS_TYPE_VH_ENHANCED",
                   "services": [{"port": 80}], "vsvip_ref": "/api/vsvip/?name=vip",
                   "http_policies": [{"index": 0, "http_policy_set_ref": "/api/httppolicyset/?name=default-backend"}]}),
        );
        child(
            &mut s,
            "root",
            json!([{"host": "app.example.com", "rules": [rule("BEGINS_WITH", "/")]}]),
        );
        child(
            &mut s,
            "v2",
            json!([{"host": "app.example.com", "rules": [rule("EQUALS", "/v2"), rule("BEGINS_WITH", "/v2/")]}]),
        );
        child(
            &mut s,
            "wild",
            json!([{"host": "*.example.com", "rules": [rule("BEGINS_WITH", "/")]}]),
        );
        (s, parent)
    }

    fn served(s: &Store, parent: &str, h: &str, path: &str) -> (String, Decision) {
        let headers = host(h);
        let r = route(
            s,
            parent,
            None,
            &request(&headers, &Method::GET, path, None),
        );
        (r.vs_name, r.decision)
    }

    #[test]
    fn children_by_host_then_longest_path() {
        let (s, parent) = evh();
        assert_eq!(served(&s, &parent, "app.example.com", "/v2/x").0, "v2");
        assert_eq!(served(&s, &parent, "app.example.com", "/v2").0, "v2");
        assert_eq!(
            served(&s, &parent, "app.example.com", "/v2example").0,
            "root"
        );
        assert_eq!(served(&s, &parent, "APP.example.com:80", "/").0, "root");
        assert_eq!(served(&s, &parent, "other.example.com", "/v2").0, "wild");
        // No child: the parent's default-backend policy answers 404.
        let (vs, d) = served(&s, &parent, "nothing.test", "/");
        assert_eq!(vs, "parent");
        assert_eq!(
            d,
            Decision::Respond {
                status: 404,
                file: None
            }
        );
    }

    #[test]
    fn a_more_specific_host_without_a_matching_rule_does_not_fall_back() {
        let (mut s, parent) = evh();
        child(
            &mut s,
            "exact-only",
            json!([{"host": "api.example.com", "rules": [rule("EQUALS", "/only")]}]),
        );
        assert_eq!(
            served(&s, &parent, "api.example.com", "/only").0,
            "exact-only"
        );
        assert_eq!(served(&s, &parent, "api.example.com", "/else").0, "parent");
    }

    #[test]
    fn a_disabled_or_deleted_virtual_service_closes() {
        let (mut s, parent) = evh();
        let scope = TenantScope::One(ADMIN.into());
        s.patch(
            "virtualservice",
            &parent,
            &crate::store::PatchOp::parse(json!({"replace": {"enabled": false}})).unwrap(),
            &scope,
            &WriteOptions::default(),
        )
        .unwrap();
        assert_eq!(
            served(&s, &parent, "app.example.com", "/").1,
            Decision::Close
        );
        assert_eq!(
            served(&s, "virtualservice-gone", "app.example.com", "/").1,
            Decision::Close
        );
        assert_eq!(service_tls(&s, &parent, 80), None);
    }

    #[test]
    fn services_and_their_tls() {
        let (s, parent) = evh();
        assert_eq!(service_tls(&s, &parent, 80), Some(false));
        assert_eq!(service_tls(&s, &parent, 443), None);
    }

    #[test]
    fn host_ranks() {
        assert_eq!(host_rank("a.example.com", "a.example.com"), Some((2, 13)));
        assert_eq!(host_rank("*.example.com", "a.example.com"), Some((1, 11)));
        assert_eq!(host_rank("*.example.com", "a.b.example.com"), Some((1, 11)));
        assert_eq!(host_rank("*.example.com", "example.com"), None);
        assert_eq!(host_rank("*.example.com", "aexample.com"), None);
        assert_eq!(host_rank("*", "anything"), Some((0, 0)));
        assert_eq!(host_rank("b.example.com", "a.example.com"), None);
    }

    #[test]
    fn ako_s_datascript_picks_the_longest_host_and_path_label() {
        let mut s = store();
        let a = create(&mut s, "pool", json!({"name": "a"}));
        let b = create(&mut s, "pool", json!({"name": "b"}));
        create(
            &mut s,
            "poolgroup",
            json!({"name": "shared", "members": [
                {"pool_ref": "/api/pool/?name=a", "priority_label": "foo.com/"},
                {"pool_ref": "/api/pool/?name=b", "priority_label": "foo.com/api"}]}),
        );
        create(
            &mut s,
            "vsdatascriptset",
            json!({"name": "shared", "pool_group_refs": ["/api/poolgroup/?name=shared"],
                   "datascript": [{"evt": "VS_DATASCRIPT_EVT_HTTP_REQ",
                     "script": "avi.poolgroup.select(\"shared\", string.lower(host .. path))"}]}),
        );
        let vs = create(
            &mut s,
            "virtualservice",
            json!({"name": "shared", "type": "VS_TYPE_VH_PARENT",
                   "services": [{"port": 80}],
                   "vs_datascripts": [{"index": 0, "vs_datascript_set_ref": "/api/vsdatascriptset/?name=shared"}]}),
        );
        let method = Method::GET;
        let h = host("FOO.com");
        let decide = |path: &str| route(&s, &vs, None, &request(&h, &method, path, None)).decision;
        assert_eq!(decide("/api/v1"), Decision::Pool(b.clone()));
        assert_eq!(decide("/index.html"), Decision::Pool(a.clone()));
        let other = host("bar.com");
        assert_eq!(
            route(&s, &vs, None, &request(&other, &method, "/", None)).decision,
            Decision::NotFound
        );
    }
}
