//! Avi `MatchTarget`s (as stored: JSON) against a request: path, headers, host header,
//! query, method, virtual service port, protocol, HTTP version, cookie and client address;
//! and the response side of `ResponseMatchTarget` (status, response headers).
//!
//! Every condition present must hold (AND); within one condition, any of its values may match
//! (OR). A negative criterion (`DOES_NOT_…`) is the negation of its positive twin, so a header
//! that is absent "does not equal" anything — which is what the translator's precedence pass
//! relies on when it writes `B ∧ ¬A`. Strings compare case-insensitively unless `match_case`
//! is `SENSITIVE` (the controller's default is `INSENSITIVE`); paths and queries are matched
//! decoded unless `match_decoded_string` is false. Regular expressions are PCRE on the
//! controller; `fancy-regex` understands the lookarounds the translator writes.
//!
//! A condition the emulator cannot evaluate (string groups, geo, IP reputation, bot
//! detection, TLS fingerprints) never matches, so a rule that needs one is never taken by
//! accident.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use http::{HeaderMap, Version};
use serde_json::Value;

use super::request::{RequestView, percent_decode};

/// Whether a request `MatchTarget` holds for `req`. An absent or empty target matches.
pub fn target_matches(target: &Value, req: &RequestView<'_>) -> bool {
    let Some(map) = target.as_object() else {
        return target.is_null();
    };
    map.iter().all(|(key, cond)| match key.as_str() {
        "path" => path_matches(cond, req),
        "hdrs" => array(cond)
            .iter()
            .all(|h| header_matches(h, &req.headers_of())),
        "host_hdr" => host_matches(cond, req),
        "query" => query_matches(cond, req),
        "method" => method_matches(cond, req),
        "vs_port" => port_matches(cond, req.vs_port),
        "protocol" => protocol_matches(cond, req.https),
        "version" => version_matches(cond, req.version),
        "cookie" => cookie_matches(cond, req),
        "client_ip" | "source_ip" => ip_matches(cond, req.client_ip),
        _ => false,
    })
}

/// Whether a `ResponseMatchTarget` holds for a response with `status` and `headers` to `req`.
pub fn response_target_matches(
    target: &Value,
    req: &RequestView<'_>,
    status: u16,
    headers: &HeaderMap,
) -> bool {
    let Some(map) = target.as_object() else {
        return target.is_null();
    };
    let request_side: serde_json::Map<String, Value> = map
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "status" | "rsp_hdrs"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    target_matches(&Value::Object(request_side), req)
        && map.get("status").is_none_or(|s| status_matches(s, status))
        && map.get("rsp_hdrs").is_none_or(|hs| {
            array(hs)
                .iter()
                .all(|h| header_matches(h, &HeaderValues(headers)))
        })
}

/// How specific a target's path condition is, for choosing among enhanced virtual hosting
/// children: the longest match string wins, an exact match beats a prefix of the same length.
pub fn path_specificity(target: &Value) -> (usize, u8) {
    let Some(path) = target.get("path") else {
        return (0, 0);
    };
    let longest = array(path.get("match_str").unwrap_or(&Value::Null))
        .iter()
        .filter_map(Value::as_str)
        .map(str::len)
        .max()
        .unwrap_or(0);
    let rank = match text(path, "match_criteria") {
        Some("EQUALS") => 3,
        Some("BEGINS_WITH") => 2,
        Some("REGEX_MATCH") => 1,
        _ => 0,
    };
    (longest, rank)
}

// ------------------------------------------------------------------ string criteria

/// The comparison a criterion names, without its prefix (`HDR_`, `QUERY_MATCH_`) and negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    BeginsWith,
    Contains,
    EndsWith,
    Equals,
    Regex,
    Exists,
}

/// `(op, negated)` of a criterion such as `HDR_DOES_NOT_BEGIN_WITH` (prefix already removed).
fn parse_op(criteria: &str) -> Option<(Op, bool)> {
    Some(match criteria {
        "BEGINS_WITH" => (Op::BeginsWith, false),
        "DOES_NOT_BEGIN_WITH" => (Op::BeginsWith, true),
        "CONTAINS" => (Op::Contains, false),
        "DOES_NOT_CONTAIN" => (Op::Contains, true),
        "ENDS_WITH" => (Op::EndsWith, false),
        "DOES_NOT_END_WITH" => (Op::EndsWith, true),
        "EQUALS" => (Op::Equals, false),
        "DOES_NOT_EQUAL" => (Op::Equals, true),
        "REGEX_MATCH" => (Op::Regex, false),
        "REGEX_DOES_NOT_MATCH" => (Op::Regex, true),
        "EXISTS" => (Op::Exists, false),
        "DOES_NOT_EXIST" => (Op::Exists, true),
        _ => return None,
    })
}

/// Whether any of `subjects` passes `op` against any of `values`.
fn positive(op: Op, subjects: &[String], values: &[&str], sensitive: bool) -> bool {
    if op == Op::Exists {
        return !subjects.is_empty();
    }
    subjects.iter().any(|subject| {
        values.iter().any(|value| {
            if op == Op::Regex {
                return regex_matches(value, subject, sensitive);
            }
            let (s, v) = if sensitive {
                (subject.clone(), (*value).to_owned())
            } else {
                (subject.to_lowercase(), value.to_lowercase())
            };
            match op {
                Op::BeginsWith => s.starts_with(&v),
                Op::Contains => s.contains(&v),
                Op::EndsWith => s.ends_with(&v),
                Op::Equals => s == v,
                Op::Regex | Op::Exists => false,
            }
        })
    })
}

/// Evaluates a criterion (with its prefix) over the subjects; an unknown criterion never
/// matches.
fn criteria_holds(
    criteria: Option<&str>,
    prefix: &str,
    subjects: &[String],
    values: &[&str],
    sensitive: bool,
) -> bool {
    let Some((op, negated)) = criteria
        .and_then(|c| c.strip_prefix(prefix))
        .and_then(parse_op)
    else {
        return false;
    };
    positive(op, subjects, values, sensitive) != negated
}

/// A PCRE-style match; an invalid expression never matches.
pub fn regex_matches(pattern: &str, subject: &str, sensitive: bool) -> bool {
    match compiled(pattern, sensitive) {
        Some(re) => re.is_match(subject).unwrap_or(false),
        None => false,
    }
}

/// Compiled expressions by (pattern, case sensitive); `None` for one that does not compile.
type RegexMemo = HashMap<(String, bool), Option<Arc<fancy_regex::Regex>>>;

/// Expressions kept at most; past that the memo starts over.
const REGEXES_KEPT: usize = 1024;

/// `pattern` compiled, from a process-wide memo: rules are evaluated for every request under
/// the store's read lock, and compiling each time cost more than matching. The memo maps a
/// pattern to what it always compiles to, so sharing it cannot change a decision.
fn compiled(pattern: &str, sensitive: bool) -> Option<Arc<fancy_regex::Regex>> {
    static MEMO: OnceLock<Mutex<RegexMemo>> = OnceLock::new();
    let memo = MEMO.get_or_init(Mutex::default);
    let key = (pattern.to_owned(), sensitive);
    if let Some(hit) = memo
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return hit.clone();
    }
    let built = match fancy_regex::RegexBuilder::new(pattern)
        .case_insensitive(!sensitive)
        .build()
    {
        Ok(re) => Some(Arc::new(re)),
        Err(error) => {
            tracing::debug!(%error, pattern, "regular expression not understood; no match");
            None
        }
    };
    let mut memo = memo.lock().unwrap_or_else(PoisonError::into_inner);
    if memo.len() >= REGEXES_KEPT {
        memo.clear();
    }
    memo.insert(key, built.clone());
    built
}

fn sensitive(cond: &Value) -> bool {
    text(cond, "match_case") == Some("SENSITIVE")
}

fn decoded(cond: &Value) -> bool {
    cond.get("match_decoded_string").and_then(Value::as_bool) != Some(false)
}

fn values<'v>(cond: &'v Value, key: &str) -> Vec<&'v str> {
    match cond.get(key) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    }
}

/// String groups are not emulated: a condition that names one cannot be evaluated.
fn uses_string_groups(cond: &Value) -> bool {
    cond.get("string_group_refs")
        .and_then(Value::as_array)
        .is_some_and(|g| !g.is_empty())
}

// ------------------------------------------------------------------ conditions

fn path_matches(cond: &Value, req: &RequestView<'_>) -> bool {
    if uses_string_groups(cond) {
        return false;
    }
    let path = if decoded(cond) {
        percent_decode(req.path)
    } else {
        req.path.to_owned()
    };
    criteria_holds(
        text(cond, "match_criteria").or(Some("CONTAINS")),
        "",
        &[path],
        &values(cond, "match_str"),
        sensitive(cond),
    )
}

/// Header values by name, from a request or a response.
trait Headers {
    fn values(&self, name: &str) -> Vec<String>;
}

struct HeaderValues<'h>(&'h HeaderMap);

impl Headers for HeaderValues<'_> {
    fn values(&self, name: &str) -> Vec<String> {
        self.0
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }
}

impl<'a> RequestView<'a> {
    fn headers_of(&self) -> HeaderValues<'a> {
        HeaderValues(self.headers)
    }
}

fn header_matches(cond: &Value, headers: &dyn Headers) -> bool {
    let Some(name) = text(cond, "hdr") else {
        return false;
    };
    criteria_holds(
        text(cond, "match_criteria"),
        "HDR_",
        &headers.values(name),
        &values(cond, "value"),
        sensitive(cond),
    )
}

fn host_matches(cond: &Value, req: &RequestView<'_>) -> bool {
    let host: Vec<String> = req.host().into_iter().collect();
    criteria_holds(
        text(cond, "match_criteria"),
        "HDR_",
        &host,
        &values(cond, "value"),
        sensitive(cond),
    )
}

fn query_matches(cond: &Value, req: &RequestView<'_>) -> bool {
    if uses_string_groups(cond) {
        return false;
    }
    let criteria = text(cond, "match_criteria");
    let raw = req.query.unwrap_or_default();
    let query = if decoded(cond) {
        percent_decode(raw)
    } else {
        raw.to_owned()
    };
    // Existence is about the query; every other criterion reads the query string, empty when
    // there is none (so a negative lookahead alone matches a request without a query).
    let subjects = match criteria {
        Some("QUERY_MATCH_EXISTS" | "QUERY_MATCH_DOES_NOT_EXIST") if query.is_empty() => Vec::new(),
        _ => vec![query],
    };
    criteria_holds(
        criteria,
        "QUERY_MATCH_",
        &subjects,
        &values(cond, "match_str"),
        sensitive(cond),
    )
}

/// `IS_IN` / `IS_NOT_IN` over a set.
fn in_set(cond: &Value, present: bool) -> bool {
    match text(cond, "match_criteria") {
        Some("IS_IN") => present,
        Some("IS_NOT_IN") => !present,
        _ => false,
    }
}

fn method_matches(cond: &Value, req: &RequestView<'_>) -> bool {
    let wanted = format!("HTTP_METHOD_{}", req.method.as_str().to_ascii_uppercase());
    in_set(cond, values(cond, "methods").contains(&wanted.as_str()))
}

fn port_matches(cond: &Value, port: u16) -> bool {
    let present = array(cond.get("ports").unwrap_or(&Value::Null))
        .iter()
        .any(|p| p.as_u64() == Some(u64::from(port)));
    in_set(cond, present)
}

fn protocol_matches(cond: &Value, https: bool) -> bool {
    let mine = if https { "HTTPS" } else { "HTTP" };
    in_set(cond, values(cond, "protocols").contains(&mine))
}

fn version_matches(cond: &Value, version: Version) -> bool {
    let mine = match version {
        Version::HTTP_09 => "ZERO_NINE",
        Version::HTTP_10 => "ONE_ZERO",
        Version::HTTP_11 => "ONE_ONE",
        Version::HTTP_2 => "TWO_ZERO",
        _ => "",
    };
    in_set(cond, values(cond, "versions").contains(&mine))
}

fn cookie_matches(cond: &Value, req: &RequestView<'_>) -> bool {
    let Some(name) = text(cond, "name") else {
        return false;
    };
    let found: Vec<String> = req
        .header_values("cookie")
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .collect();
    criteria_holds(
        text(cond, "match_criteria"),
        "HDR_",
        &found,
        &values(cond, "value"),
        sensitive(cond),
    )
}

fn status_matches(cond: &Value, status: u16) -> bool {
    let code = u64::from(status);
    let listed = array(cond.get("status_codes").unwrap_or(&Value::Null))
        .iter()
        .any(|c| c.as_u64() == Some(code));
    let ranged = array(cond.get("ranges").unwrap_or(&Value::Null))
        .iter()
        .any(|r| {
            let begin = r.get("begin").and_then(Value::as_u64).unwrap_or(u64::MAX);
            let end = r.get("end").and_then(Value::as_u64).unwrap_or(0);
            (begin..=end).contains(&code)
        });
    in_set(cond, listed || ranged)
}

/// `IpAddrMatch`: addresses, prefixes and ranges (address groups are not emulated).
fn ip_matches(cond: &Value, ip: IpAddr) -> bool {
    let addr_of = |v: Option<&Value>| -> Option<IpAddr> { v?.get("addr")?.as_str()?.parse().ok() };
    let listed = array(cond.get("addrs").unwrap_or(&Value::Null))
        .iter()
        .any(|a| addr_of(Some(a)) == Some(ip));
    let prefixed = array(cond.get("prefixes").unwrap_or(&Value::Null))
        .iter()
        .any(|p| {
            let Some(net) = addr_of(p.get("ip_addr")) else {
                return false;
            };
            let mask = p.get("mask").and_then(Value::as_u64).unwrap_or(0);
            in_prefix(ip, net, u32::try_from(mask).unwrap_or(u32::MAX))
        });
    let ranged = array(cond.get("ranges").unwrap_or(&Value::Null))
        .iter()
        .any(|r| match (addr_of(r.get("begin")), addr_of(r.get("end"))) {
            (Some(b), Some(e)) => b <= ip && ip <= e,
            _ => false,
        });
    in_set(cond, listed || prefixed || ranged)
}

fn in_prefix(ip: IpAddr, net: IpAddr, mask: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if mask <= 32 => {
            let m = u32::MAX.checked_shl(32 - mask).unwrap_or(0);
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if mask <= 128 => {
            let m = u128::MAX.checked_shl(128 - mask).unwrap_or(0);
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

// ------------------------------------------------------------------ JSON helpers

/// A string field.
pub fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// An array (empty for anything else).
pub fn array(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;
    use serde_json::json;

    struct Req {
        method: Method,
        path: &'static str,
        query: Option<&'static str>,
        headers: HeaderMap,
        port: u16,
        https: bool,
    }

    impl Req {
        fn get(path: &'static str) -> Req {
            let mut headers = HeaderMap::new();
            headers.insert("host", "app.example.com".parse().unwrap());
            Req {
                method: Method::GET,
                path,
                query: None,
                headers,
                port: 80,
                https: false,
            }
        }
        fn query(mut self, q: &'static str) -> Req {
            self.query = Some(q);
            self
        }
        fn header(mut self, k: &'static str, v: &'static str) -> Req {
            self.headers.append(k, v.parse().unwrap());
            self
        }
        fn view(&self) -> RequestView<'_> {
            RequestView {
                method: &self.method,
                version: Version::HTTP_11,
                path: self.path,
                query: self.query,
                headers: &self.headers,
                authority: None,
                vs_port: self.port,
                vip: IpAddr::from([10, 250, 250, 1]),
                https: self.https,
                client_ip: IpAddr::from([192, 168, 1, 20]),
            }
        }
        fn matches(&self, target: Value) -> bool {
            target_matches(&target, &self.view())
        }
    }

    fn path(criteria: &str, s: &[&str]) -> Value {
        json!({"path": {"match_criteria": criteria, "match_case": "SENSITIVE", "match_str": s}})
    }

    #[test]
    fn path_criteria() {
        let r = Req::get("/v2/users");
        assert!(r.matches(path("BEGINS_WITH", &["/v1", "/v2/"])));
        assert!(!r.matches(path("BEGINS_WITH", &["/v1"])));
        assert!(r.matches(path("DOES_NOT_BEGIN_WITH", &["/v1"])));
        assert!(r.matches(path("EQUALS", &["/v2/users"])));
        assert!(!r.matches(path("EQUALS", &["/v2"])));
        assert!(r.matches(path("CONTAINS", &["users"])));
        assert!(r.matches(path("ENDS_WITH", &["/users"])));
        assert!(r.matches(path("REGEX_MATCH", &["^/v[0-9]+/"])));
        assert!(!r.matches(path("REGEX_DOES_NOT_MATCH", &["^/v[0-9]+/"])));
        assert!(!r.matches(path("EQUALS", &["/V2/USERS"])));
        assert!(
            r.matches(json!({"path": {"match_criteria": "EQUALS", "match_str": ["/V2/USERS"]}}))
        );
        // Decoded by default.
        assert!(Req::get("/a%20b").matches(path("EQUALS", &["/a b"])));
        assert!(
            !Req::get("/a%20b").matches(json!({"path": {"match_criteria": "EQUALS",
            "match_case": "SENSITIVE", "match_decoded_string": false, "match_str": ["/a b"]}}))
        );
    }

    #[test]
    fn headers_and_absence() {
        let eq = |v: &str| {
            json!({"hdrs": [{"hdr": "X-Version", "match_criteria": "HDR_EQUALS",
                             "match_case": "SENSITIVE", "value": [v]}]})
        };
        let ne = |v: &str| {
            json!({"hdrs": [{"hdr": "x-version", "match_criteria": "HDR_DOES_NOT_EQUAL",
                             "match_case": "SENSITIVE", "value": [v]}]})
        };
        let with = Req::get("/").header("x-version", "two");
        let without = Req::get("/");
        assert!(with.matches(eq("two")));
        assert!(!with.matches(eq("Two")));
        assert!(!without.matches(eq("two")));
        assert!(!with.matches(ne("two")));
        assert!(without.matches(ne("two")));
        let exists = json!({"hdrs": [{"hdr": "x-version", "match_criteria": "HDR_EXISTS"}]});
        assert!(with.matches(exists.clone()));
        assert!(!without.matches(exists));
        // All headers must match.
        let both = json!({"hdrs": [
            {"hdr": "x-version", "match_criteria": "HDR_EQUALS", "value": ["two"]},
            {"hdr": "x-env", "match_criteria": "HDR_EQUALS", "value": ["canary"]}]});
        assert!(!with.matches(both.clone()));
        assert!(with.header("x-env", "canary").matches(both));
    }

    #[test]
    fn translator_query_lookaheads() {
        let animal = r"^(?=(?:.*&)?animal=whale(?:&|$))";
        let q = |re: &str| {
            json!({"query": {"match_criteria": "QUERY_MATCH_REGEX_MATCH",
                             "match_case": "SENSITIVE", "match_str": [re]}})
        };
        assert!(Req::get("/").query("animal=whale").matches(q(animal)));
        assert!(
            Req::get("/")
                .query("a=1&animal=whale&b=2")
                .matches(q(animal))
        );
        assert!(
            !Req::get("/")
                .query("animal=whaledolphin")
                .matches(q(animal))
        );
        assert!(!Req::get("/").matches(q(animal)));
        // The precedence pass ANDs a negative lookahead.
        let not_animal = r"^(?!(?=(?:.*&)?animal=whale(?:&|$)))";
        assert!(Req::get("/").matches(q(not_animal)));
        assert!(Req::get("/").query("animal=dolphin").matches(q(not_animal)));
        assert!(
            !Req::get("/")
                .query("x=1&animal=whale")
                .matches(q(not_animal))
        );
        let exists = json!({"query": {"match_criteria": "QUERY_MATCH_EXISTS"}});
        assert!(!Req::get("/").matches(exists.clone()));
        assert!(Req::get("/").query("a").matches(exists));
    }

    #[test]
    fn method_port_protocol_host() {
        let get = Req::get("/");
        let methods =
            |c: &str| json!({"method": {"match_criteria": c, "methods": ["HTTP_METHOD_GET"]}});
        assert!(get.matches(methods("IS_IN")));
        assert!(!get.matches(methods("IS_NOT_IN")));
        let mut post = Req::get("/");
        post.method = Method::POST;
        assert!(post.matches(methods("IS_NOT_IN")));
        assert!(get.matches(json!({"vs_port": {"match_criteria": "IS_IN", "ports": [80, 443]}})));
        assert!(!get.matches(json!({"vs_port": {"match_criteria": "IS_IN", "ports": [443]}})));
        assert!(get.matches(json!({"protocol": {"match_criteria": "IS_IN", "protocols": "HTTP"}})));
        let mut tls = Req::get("/");
        tls.https = true;
        tls.port = 443;
        assert!(
            !tls.matches(json!({"protocol": {"match_criteria": "IS_IN", "protocols": "HTTP"}}))
        );
        assert!(
            get.matches(json!({"host_hdr": {"match_criteria": "HDR_EQUALS",
                                                "value": ["APP.example.com"]}}))
        );
        assert!(get.matches(json!({"client_ip": {"match_criteria": "IS_IN",
            "prefixes": [{"ip_addr": {"addr": "192.168.0.0", "type": "V4"}, "mask": 16}]}})));
        assert!(!get.matches(json!({"client_ip": {"match_criteria": "IS_IN",
            "addrs": [{"addr": "192.168.1.21", "type": "V4"}]}})));
        // Conditions the emulator cannot evaluate never match.
        assert!(!get.matches(json!({"geo_matches": [{"attribute": "ATTRIBUTE_COUNTRY_CODE"}]})));
        assert!(get.matches(json!({})));
    }

    #[test]
    fn response_targets_see_status_and_response_headers() {
        let r = Req::get("/x");
        let mut h = HeaderMap::new();
        h.insert("content-type", "text/html".parse().unwrap());
        let t = json!({"status": {"match_criteria": "IS_IN", "ranges": [{"begin": 400, "end": 499}]},
                       "rsp_hdrs": [{"hdr": "content-type", "match_criteria": "HDR_BEGINS_WITH",
                                     "value": ["text/"]}],
                       "path": {"match_criteria": "BEGINS_WITH", "match_str": ["/x"]}});
        assert!(response_target_matches(&t, &r.view(), 404, &h));
        assert!(!response_target_matches(&t, &r.view(), 200, &h));
        assert!(!response_target_matches(
            &t,
            &r.view(),
            404,
            &HeaderMap::new()
        ));
    }

    #[test]
    fn longer_and_exact_paths_are_more_specific() {
        let eq = path("EQUALS", &["/v2"]);
        let prefix = path("BEGINS_WITH", &["/v2/"]);
        let root = path("BEGINS_WITH", &["/"]);
        assert!(path_specificity(&prefix) > path_specificity(&eq));
        assert!(path_specificity(&eq) > path_specificity(&root));
        assert!(
            path_specificity(&path("EQUALS", &["/ab"]))
                > path_specificity(&path("BEGINS_WITH", &["/ab"]))
        );
        assert_eq!(path_specificity(&json!({})), (0, 0));
    }

    #[test]
    fn regular_expressions_are_compiled_once_per_pattern_and_case() {
        let a = compiled(r"^/memo-v[0-9]+/", true).unwrap();
        let b = compiled(r"^/memo-v[0-9]+/", true).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "compiled again");
        let insensitive = compiled(r"^/memo-v[0-9]+/", false).unwrap();
        assert!(!Arc::ptr_eq(&a, &insensitive));
        assert!(regex_matches(r"^/MEMO-V1/", "/memo-v1/x", false));
        assert!(!regex_matches(r"^/MEMO-V1/", "/memo-v1/x", true));
        // An expression that does not compile is remembered as such, and never matches.
        assert!(compiled("memo-(", true).is_none());
        assert!(!regex_matches("memo-(", "memo-(", true));
    }
}
