//! HTTP policy sets applied to a request and its response.
//!
//! The virtual service's `http_policies` run in `index` order, and within each set the enabled
//! rules of `http_request_policy` in `index` order. Every rule whose `match` holds for the
//! request (matches are judged on the request as the client sent it) contributes its actions:
//! header changes and URL rewrites accumulate; a redirect or a content switching action
//! (local response, pool, pool group) decides the request and ends the evaluation.
//! `http_response_policy` rules apply their header changes to the answer in the same way.

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::matching::{array, response_target_matches, target_matches, text};
use super::request::RequestView;
use super::uri::{self, Rewrite};

/// How a request policy decided a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Terminal {
    /// Answer locally.
    Local {
        /// Status code.
        status: u16,
        /// `Content-Type` and body of a local file, if the action has one.
        file: Option<(String, String)>,
    },
    /// Redirect.
    Redirect {
        /// The `Location`.
        location: String,
        /// 301, 302 or 307.
        status: u16,
    },
    /// Send to this pool (uuid).
    Pool(String),
    /// Send to this pool group (uuid).
    PoolGroup(String),
}

/// What the request policies make of a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestPlan {
    /// Header actions (`HTTPHdrAction`) to apply to the request, in order.
    pub hdr_actions: Vec<Value>,
    /// The URL rewrite, if a rule rewrote it.
    pub rewrite: Option<Rewrite>,
    /// The decision, if a rule made one.
    pub terminal: Option<Terminal>,
    /// Names of the rules that matched, in order.
    pub matched: Vec<String>,
}

/// The enabled rules of one policy kind across `sets`, in evaluation order.
fn rules<'s>(sets: &[&'s Map<String, Value>], kind: &str) -> Vec<&'s Value> {
    let mut out = Vec::new();
    for set in sets {
        let mut rules: Vec<&Value> = set
            .get(kind)
            .and_then(|p| p.get("rules"))
            .map(array)
            .unwrap_or_default()
            .iter()
            .filter(|r| r.get("enable").and_then(Value::as_bool) != Some(false))
            .collect();
        rules.sort_by_key(|r| r.get("index").and_then(Value::as_i64).unwrap_or(0));
        out.extend(rules);
    }
    out
}

/// The header actions of a rule, by `hdr_index` when given.
fn hdr_actions(rule: &Value) -> Vec<Value> {
    let mut actions: Vec<Value> = array(rule.get("hdr_action").unwrap_or(&Value::Null)).to_vec();
    actions.sort_by_key(|a| a.get("hdr_index").and_then(Value::as_i64).unwrap_or(0));
    actions
}

/// Runs the request rules of `sets` (already in `http_policies` order) for `req`.
pub fn request_rules(sets: &[&Map<String, Value>], req: &RequestView<'_>) -> RequestPlan {
    let mut plan = RequestPlan::default();
    let host = req.host().unwrap_or_default();
    for rule in rules(sets, "http_request_policy") {
        if !target_matches(rule.get("match").unwrap_or(&Value::Null), req) {
            continue;
        }
        plan.matched
            .push(text(rule, "name").unwrap_or_default().to_owned());
        plan.hdr_actions.extend(hdr_actions(rule));
        if let Some(action) = rule.get("rewrite_url_action") {
            // Tokens read the request as sent; a later rewrite replaces what it sets. Its
            // `keep_query` keeps the query as the earlier rewrites left it, though: what they
            // added is part of the request the later rule rewrites.
            let query = match &plan.rewrite {
                Some(prev) => prev.query.as_deref(),
                None => req.query,
            };
            let next = uri::rewrite(action, &host, req.path, query);
            plan.rewrite = Some(match plan.rewrite.take() {
                None => next,
                Some(prev) => Rewrite {
                    path: next.path.or(prev.path),
                    query: next.query,
                    host: next.host.or(prev.host),
                },
            });
        }
        if let Some(action) = rule.get("redirect_action") {
            let (location, status) = uri::redirect(action, &host, req.path, req.query);
            plan.terminal = Some(Terminal::Redirect { location, status });
            break;
        }
        if let Some(action) = rule.get("switching_action") {
            plan.terminal = switching(action);
            if plan.terminal.is_some() {
                break;
            }
        }
    }
    plan
}

fn switching(action: &Value) -> Option<Terminal> {
    let uuid_of = |key: &str| {
        text(action, key).and_then(|r| match crate::store::refs::parse(r) {
            Some(crate::store::refs::RefSpec::Uuid { uuid, .. }) => Some(uuid),
            _ => None,
        })
    };
    match text(action, "action") {
        Some("HTTP_SWITCHING_SELECT_LOCAL") => {
            let status = action
                .get("other_status_code")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .or_else(|| {
                    text(action, "status_code")
                        .and_then(|c| c.strip_prefix("HTTP_LOCAL_RESPONSE_STATUS_CODE_"))
                        .and_then(|n| n.parse().ok())
                })
                .unwrap_or(200);
            let file = action.get("file").map(|f| {
                (
                    text(f, "content_type").unwrap_or("text/plain").to_owned(),
                    text(f, "file_content").unwrap_or_default().to_owned(),
                )
            });
            Some(Terminal::Local { status, file })
        }
        Some("HTTP_SWITCHING_SELECT_POOLGROUP") => {
            uuid_of("pool_group_ref").map(Terminal::PoolGroup)
        }
        Some("HTTP_SWITCHING_SELECT_POOL") => uuid_of("pool_ref").map(Terminal::Pool),
        _ => None,
    }
}

/// The header actions the response rules of `sets` apply to a response with `status` and
/// `headers` to `req`.
pub fn response_actions(
    sets: &[&Map<String, Value>],
    req: &RequestView<'_>,
    status: u16,
    headers: &HeaderMap,
) -> Vec<Value> {
    rules(sets, "http_response_policy")
        .into_iter()
        .filter(|r| {
            response_target_matches(r.get("match").unwrap_or(&Value::Null), req, status, headers)
        })
        .flat_map(hdr_actions)
        .collect()
}

/// Values of the `HTTP_POLICY_VAR_*` variables a header action may insert.
#[derive(Debug, Clone)]
pub struct Vars {
    /// `HTTP_POLICY_VAR_CLIENT_IP`.
    pub client_ip: String,
    /// `HTTP_POLICY_VAR_VS_IP`.
    pub vs_ip: String,
    /// `HTTP_POLICY_VAR_VS_PORT`.
    pub vs_port: u16,
    /// The request headers, for `HTTP_POLICY_VAR_HTTP_HDR`.
    pub request_headers: HeaderMap,
}

/// Applies header actions in order: `HTTP_ADD_HDR` appends, `HTTP_REPLACE_HDR` replaces every
/// header of the name (or adds it), `HTTP_REMOVE_HDR` removes them all. Cookie actions and
/// variables the emulator does not know are skipped.
pub fn apply_hdr_actions(headers: &mut HeaderMap, actions: &[Value], vars: &Vars) {
    for a in actions {
        let Some(hdr) = a.get("hdr") else {
            continue;
        };
        let Some(name) = text(hdr, "name").and_then(|n| HeaderName::from_bytes(n.as_bytes()).ok())
        else {
            continue;
        };
        let value = hdr.get("value").and_then(|v| value_of(v, vars));
        match text(a, "action") {
            Some("HTTP_ADD_HDR") => {
                if let Some(v) = value {
                    headers.append(name, v);
                }
            }
            Some("HTTP_REPLACE_HDR") => {
                if let Some(v) = value {
                    headers.insert(name, v);
                }
            }
            Some("HTTP_REMOVE_HDR") => {
                headers.remove(name);
            }
            _ => {}
        }
    }
}

fn value_of(v: &Value, vars: &Vars) -> Option<HeaderValue> {
    let text_value = match text(v, "var") {
        None => text(v, "val").unwrap_or_default().to_owned(),
        Some("HTTP_POLICY_VAR_CLIENT_IP") => vars.client_ip.clone(),
        Some("HTTP_POLICY_VAR_VS_IP") => vars.vs_ip.clone(),
        Some("HTTP_POLICY_VAR_VS_PORT") => vars.vs_port.to_string(),
        Some("HTTP_POLICY_VAR_HTTP_HDR") => vars
            .request_headers
            .get(text(v, "val").unwrap_or_default())
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        Some(other) => {
            tracing::debug!(var = other, "header variable not emulated; header skipped");
            return None;
        }
    };
    HeaderValue::from_str(&text_value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Method, Version};
    use serde_json::json;
    use std::net::IpAddr;

    fn set(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn plan(sets: &[Value], path: &str, query: Option<&str>) -> RequestPlan {
        let mut headers = HeaderMap::new();
        headers.insert("host", "app.example.com".parse().unwrap());
        let req = RequestView {
            method: &Method::GET,
            version: Version::HTTP_11,
            path,
            query,
            headers: &headers,
            authority: None,
            vs_port: 80,
            vip: IpAddr::from([10, 250, 250, 1]),
            https: false,
            client_ip: IpAddr::from([127, 0, 0, 1]),
        };
        let maps: Vec<Map<String, Value>> = sets.iter().cloned().map(set).collect();
        let refs: Vec<&Map<String, Value>> = maps.iter().collect();
        request_rules(&refs, &req)
    }

    fn hdr(action: &str, name: &str, val: Option<&str>) -> Value {
        match val {
            Some(v) => json!({"action": action, "hdr": {"name": name, "value": {"val": v}}}),
            None => json!({"action": action, "hdr": {"name": name}}),
        }
    }

    #[test]
    fn the_default_backend_policy_answers_404() {
        let p = plan(
            &[json!({"http_request_policy": {"rules": [{
                "name": "default-backend-rule", "index": 0, "enable": true,
                "match": {"path": {"match_criteria": "BEGINS_WITH", "match_case": "SENSITIVE", "match_str": ["/"]}},
                "switching_action": {"action": "HTTP_SWITCHING_SELECT_LOCAL",
                                     "status_code": "HTTP_LOCAL_RESPONSE_STATUS_CODE_404"}}]}})],
            "/anything",
            None,
        );
        assert_eq!(
            p.terminal,
            Some(Terminal::Local {
                status: 404,
                file: None
            })
        );
    }

    #[test]
    fn header_rules_accumulate_and_a_later_local_response_still_decides() {
        let p = plan(
            &[json!({"http_request_policy": {"rules": [
                {"name": "no-backend", "index": 1, "enable": true,
                 "switching_action": {"action": "HTTP_SWITCHING_SELECT_LOCAL", "other_status_code": 500}},
                {"name": "hdrs", "index": 0, "enable": true,
                 "hdr_action": [hdr("HTTP_REMOVE_HDR", "x-b", None), hdr("HTTP_ADD_HDR", "x-a", Some("1"))]},
                {"name": "off", "index": 2, "enable": false,
                 "switching_action": {"action": "HTTP_SWITCHING_SELECT_LOCAL", "other_status_code": 418}}]}})],
            "/",
            None,
        );
        assert_eq!(p.matched, ["hdrs", "no-backend"]);
        assert_eq!(p.hdr_actions.len(), 2);
        assert_eq!(
            p.terminal,
            Some(Terminal::Local {
                status: 500,
                file: None
            })
        );
    }

    #[test]
    fn redirects_end_the_evaluation_and_rules_filter_by_match() {
        let p = plan(
            &[json!({"http_request_policy": {"rules": [
                {"name": "other-port", "index": 0, "enable": true,
                 "match": {"vs_port": {"match_criteria": "IS_IN", "ports": [443]}},
                 "redirect_action": {"protocol": "HTTP", "port": 80}},
                {"name": "r", "index": 1, "enable": true,
                 "redirect_action": {"protocol": "HTTPS", "port": 443, "status_code": "HTTP_REDIRECT_STATUS_CODE_301"}},
                {"name": "never", "index": 2, "enable": true,
                 "switching_action": {"action": "HTTP_SWITCHING_SELECT_LOCAL", "other_status_code": 500}}]}})],
            "/x",
            Some("a=b"),
        );
        assert_eq!(p.matched, ["r"]);
        assert_eq!(
            p.terminal,
            Some(Terminal::Redirect {
                location: "https://app.example.com/x?a=b".into(),
                status: 301
            })
        );
    }

    #[test]
    fn switching_to_a_pool_and_rewriting() {
        let p = plan(
            &[json!({"http_request_policy": {"rules": [
                {"name": "rw", "index": 0, "enable": true,
                 "rewrite_url_action": {"path": {"type": "URI_PARAM_TYPE_TOKENIZED",
                     "tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": "new"}]}}},
                {"name": "sw", "index": 1, "enable": true,
                 "switching_action": {"action": "HTTP_SWITCHING_SELECT_POOL",
                                      "pool_ref": "/api/pool/pool-1"}}]}})],
            "/old",
            None,
        );
        assert_eq!(p.terminal, Some(Terminal::Pool("pool-1".into())));
        assert_eq!(p.rewrite.and_then(|r| r.path).as_deref(), Some("/new"));
    }

    #[test]
    fn a_later_rewrite_keeps_the_query_an_earlier_one_added() {
        let add = |name: &str, index: u32, keep: bool, add: &str| {
            json!({"name": name, "index": index, "enable": true,
                   "rewrite_url_action": {"query": {"keep_query": keep, "add_string": add}}})
        };
        let p = plan(
            &[json!({"http_request_policy": {"rules": [
                add("first", 0, true, "a=1"), add("second", 1, true, "b=2")]}})],
            "/x",
            Some("q=0"),
        );
        assert_eq!(
            p.rewrite.and_then(|r| r.query).as_deref(),
            Some("q=0&a=1&b=2")
        );
        // A later rewrite that drops the query drops what the earlier one added too.
        let p = plan(
            &[json!({"http_request_policy": {"rules": [
                add("first", 0, true, "a=1"), add("second", 1, false, "")]}})],
            "/x",
            Some("q=0"),
        );
        assert_eq!(p.rewrite.and_then(|r| r.query), None);
        // A later rewrite without a query part keeps the earlier one's.
        let p = plan(
            &[json!({"http_request_policy": {"rules": [
                add("first", 0, false, "a=1"),
                {"name": "path", "index": 1, "enable": true,
                 "rewrite_url_action": {"path": {"type": "URI_PARAM_TYPE_TOKENIZED",
                     "tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": "new"}]}}}]}})],
            "/x",
            Some("q=0"),
        );
        let rw = p.rewrite.unwrap();
        assert_eq!(
            (rw.path.as_deref(), rw.query.as_deref()),
            (Some("/new"), Some("a=1"))
        );
    }

    #[test]
    fn header_actions_add_replace_remove() {
        let mut h = HeaderMap::new();
        h.append("x-keep", "1".parse().unwrap());
        h.append("x-set", "old".parse().unwrap());
        h.append("x-set", "older".parse().unwrap());
        h.append("x-gone", "1".parse().unwrap());
        let vars = Vars {
            client_ip: "192.0.2.1".into(),
            vs_ip: "10.250.250.1".into(),
            vs_port: 443,
            request_headers: HeaderMap::new(),
        };
        apply_hdr_actions(
            &mut h,
            &[
                hdr("HTTP_ADD_HDR", "x-keep", Some("2")),
                hdr("HTTP_REPLACE_HDR", "x-set", Some("new")),
                hdr("HTTP_REMOVE_HDR", "x-gone", None),
                json!({"action": "HTTP_ADD_HDR", "hdr": {"name": "x-client", "value": {"var": "HTTP_POLICY_VAR_CLIENT_IP"}}}),
            ],
            &vars,
        );
        let all =
            |n: &str| -> Vec<&str> { h.get_all(n).iter().map(|v| v.to_str().unwrap()).collect() };
        assert_eq!(all("x-keep"), ["1", "2"]);
        assert_eq!(all("x-set"), ["new"]);
        assert!(all("x-gone").is_empty());
        assert_eq!(all("x-client"), ["192.0.2.1"]);
    }
}
