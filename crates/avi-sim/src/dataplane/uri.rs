//! `URIParam`s (tokenized URI parts) and the URLs of redirect and rewrite actions.
//!
//! A tokenized parameter is a list of tokens, each a constant (`URI_TOKEN_TYPE_STRING`) or a
//! slice of the incoming request's path segments (`URI_TOKEN_TYPE_PATH`) or host labels
//! (`URI_TOKEN_TYPE_HOST`), from `start_index` to `end_index` inclusive (65535: to the end).
//! Tokens are joined with `/` in a path and with `.` in a host; a path parameter carries no
//! leading `/` (the data plane adds it), and empty tokens are left out.
//!
//! Regex and string-group tokens are not emulated; they render as nothing.

use serde_json::Value;

use super::matching::{array, text};

/// `end_index` meaning "to the last token".
const TO_THE_END: u64 = 65535;

/// Where a parameter is used: the separator its tokens are joined with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A path: tokens joined with `/`.
    Path,
    /// A host: tokens joined with `.`.
    Host,
}

/// Renders a `URIParam` against the incoming request's `path` (as sent) and `host`.
pub fn render(param: &Value, part: Part, path: &str, host: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let labels: Vec<&str> = host.split('.').filter(|s| !s.is_empty()).collect();
    let sep = match part {
        Part::Path => "/",
        Part::Host => ".",
    };
    let tokens: Vec<String> = array(param.get("tokens").unwrap_or(&Value::Null))
        .iter()
        .map(|t| match text(t, "type") {
            Some("URI_TOKEN_TYPE_STRING") | None => {
                text(t, "str_value").unwrap_or_default().to_owned()
            }
            Some("URI_TOKEN_TYPE_PATH") => slice(&segments, t).join("/"),
            Some("URI_TOKEN_TYPE_HOST") => slice(&labels, t).join("."),
            Some(other) => {
                tracing::debug!(token = other, "URI token type not emulated; rendered empty");
                String::new()
            }
        })
        .map(|t| match part {
            Part::Path => t.trim_matches('/').to_owned(),
            Part::Host => t,
        })
        .filter(|t| !t.is_empty())
        .collect();
    tokens.join(sep)
}

fn slice<'s>(items: &[&'s str], token: &Value) -> Vec<&'s str> {
    let index = |k: &str, default: u64| token.get(k).and_then(Value::as_u64).unwrap_or(default);
    let start = usize::try_from(index("start_index", 0)).unwrap_or(usize::MAX);
    let end = index("end_index", TO_THE_END);
    let end = if end >= TO_THE_END {
        items.len()
    } else {
        usize::try_from(end)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .min(items.len())
    };
    items.get(start..end).map(<[_]>::to_vec).unwrap_or_default()
}

/// A new path from a path parameter: `/` + the rendered tokens. A trailing slash of the
/// request survives when the last token reaches the request's last segment.
pub fn rewrite_path(param: &Value, path: &str, host: &str) -> String {
    let rendered = render(param, Part::Path, path, host);
    let reaches_end = array(param.get("tokens").unwrap_or(&Value::Null))
        .last()
        .is_some_and(|t| {
            text(t, "type") == Some("URI_TOKEN_TYPE_PATH")
                && t.get("end_index")
                    .and_then(Value::as_u64)
                    .is_none_or(|e| e >= TO_THE_END)
        });
    let mut out = format!("/{rendered}");
    if reaches_end && path.len() > 1 && path.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The query a `keep_query` / `add_string` pair leaves.
pub fn query(keep: bool, add: Option<&str>, incoming: Option<&str>) -> Option<String> {
    let kept = incoming.filter(|q| keep && !q.is_empty());
    match (kept, add.filter(|a| !a.is_empty())) {
        (Some(q), Some(a)) => Some(format!("{q}&{a}")),
        (Some(q), None) => Some(q.to_owned()),
        (None, Some(a)) => Some(a.to_owned()),
        (None, None) => None,
    }
}

/// The `Location` and status code of an `HTTPRedirectAction` for a request to
/// `host` `path?query`. No host keeps the request's; no path keeps the request's; no port is
/// the scheme's default; `keep_query` defaults to true.
pub fn redirect(
    action: &Value,
    host: &str,
    path: &str,
    incoming_query: Option<&str>,
) -> (String, u16) {
    let https = text(action, "protocol") == Some("HTTPS");
    let scheme = if https { "https" } else { "http" };
    let new_host = action
        .get("host")
        .map(|h| render(h, Part::Host, path, host))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| host.to_owned());
    let port = action.get("port").and_then(Value::as_u64);
    let default_port = if https { 443 } else { 80 };
    let authority = match port {
        Some(p) if p != default_port => format!("{new_host}:{p}"),
        _ => new_host,
    };
    let new_path = match action.get("path") {
        Some(p) => rewrite_path(p, path, host),
        None => path.to_owned(),
    };
    let keep = action.get("keep_query").and_then(Value::as_bool) != Some(false);
    let q = query(keep, text(action, "add_string"), incoming_query);
    let location = match q {
        Some(q) => format!("{scheme}://{authority}{new_path}?{q}"),
        None => format!("{scheme}://{authority}{new_path}"),
    };
    (location, redirect_status(text(action, "status_code")))
}

/// `HTTP_REDIRECT_STATUS_CODE_301` → 301; the controller's default is 302.
pub fn redirect_status(code: Option<&str>) -> u16 {
    code.and_then(|c| c.strip_prefix("HTTP_REDIRECT_STATUS_CODE_"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(302)
}

/// What a rewrite action changes: the path, the query, the Host header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrite {
    /// The new path, if the action has one.
    pub path: Option<String>,
    /// The new query (None: no query).
    pub query: Option<String>,
    /// The new Host header, if the action has one.
    pub host: Option<String>,
}

/// An `HTTPRewriteURLAction` applied to a request for `host` `path?query`.
pub fn rewrite(action: &Value, host: &str, path: &str, incoming_query: Option<&str>) -> Rewrite {
    let q = action.get("query");
    let keep = q.and_then(|q| q.get("keep_query")).and_then(Value::as_bool) != Some(false);
    let add = q.and_then(|q| text(q, "add_string"));
    Rewrite {
        path: action.get("path").map(|p| rewrite_path(p, path, host)),
        query: query(keep, add, incoming_query),
        host: action
            .get("host_hdr")
            .map(|h| render(h, Part::Host, path, host))
            .filter(|h| !h.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn literal(s: &str) -> Value {
        json!({"type": "URI_PARAM_TYPE_TOKENIZED", "tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": s}]})
    }

    /// What the translator writes for ReplacePrefixMatch: the replacement, then the segments
    /// after the prefix.
    fn prefix(replacement: Option<&str>, segments: u64) -> Value {
        let mut tokens = Vec::new();
        if let Some(r) = replacement {
            tokens.push(json!({"type": "URI_TOKEN_TYPE_STRING", "str_value": r}));
        }
        tokens.push(
            json!({"type": "URI_TOKEN_TYPE_PATH", "start_index": segments, "end_index": 65535}),
        );
        json!({"type": "URI_PARAM_TYPE_TOKENIZED", "tokens": tokens})
    }

    #[test]
    fn full_path_replacement() {
        assert_eq!(
            rewrite_path(&literal("new/path"), "/old/x", "h"),
            "/new/path"
        );
        assert_eq!(rewrite_path(&literal(""), "/old/x", "h"), "/");
    }

    #[test]
    fn prefix_replacement_keeps_the_rest() {
        let p = prefix(Some("v2"), 1);
        assert_eq!(rewrite_path(&p, "/api/users/1", "h"), "/v2/users/1");
        assert_eq!(rewrite_path(&p, "/api", "h"), "/v2");
        assert_eq!(rewrite_path(&p, "/api/users/", "h"), "/v2/users/");
        let root = prefix(None, 2);
        assert_eq!(rewrite_path(&root, "/a/b/c", "h"), "/c");
        assert_eq!(rewrite_path(&root, "/a/b", "h"), "/");
    }

    #[test]
    fn path_and_host_slices() {
        let t = json!({"tokens": [{"type": "URI_TOKEN_TYPE_PATH", "start_index": 1, "end_index": 1},
                                  {"type": "URI_TOKEN_TYPE_STRING", "str_value": "x"}]});
        assert_eq!(render(&t, Part::Path, "/a/b/c", "h"), "b/x");
        let h = json!({"tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": "www"},
                                  {"type": "URI_TOKEN_TYPE_HOST", "start_index": 1, "end_index": 65535}]});
        assert_eq!(
            render(&h, Part::Host, "/", "api.example.com"),
            "www.example.com"
        );
        let past = json!({"tokens": [{"type": "URI_TOKEN_TYPE_PATH", "start_index": 9}]});
        assert_eq!(render(&past, Part::Path, "/a", "h"), "");
    }

    #[test]
    fn redirects() {
        let a = json!({"protocol": "HTTPS", "port": 443, "keep_query": true,
                       "status_code": "HTTP_REDIRECT_STATUS_CODE_301"});
        assert_eq!(
            redirect(&a, "app.example.com", "/x", Some("a=1")),
            ("https://app.example.com/x?a=1".into(), 301)
        );
        let b = json!({"protocol": "HTTP", "port": 8080, "host": literal("other.example.com"),
                       "path": literal("moved"), "keep_query": false});
        assert_eq!(
            redirect(&b, "app.example.com", "/x", Some("a=1")),
            ("http://other.example.com:8080/moved".into(), 302)
        );
        let c = json!({"protocol": "HTTP", "path": prefix(Some("new"), 1), "add_string": "z=9"});
        assert_eq!(
            redirect(&c, "h", "/old/page", Some("a=1")).0,
            "http://h/new/page?a=1&z=9"
        );
    }

    #[test]
    fn rewrites() {
        let a = json!({"host_hdr": literal("backend.internal"), "path": prefix(Some("v2"), 1),
                       "query": {"keep_query": true}});
        assert_eq!(
            rewrite(&a, "app.example.com", "/api/x", Some("q=1")),
            Rewrite {
                path: Some("/v2/x".into()),
                query: Some("q=1".into()),
                host: Some("backend.internal".into())
            }
        );
        let drop = json!({"query": {"keep_query": false, "add_string": "k=v"}});
        assert_eq!(
            rewrite(&drop, "h", "/p", Some("q=1")),
            Rewrite {
                path: None,
                query: Some("k=v".into()),
                host: None
            }
        );
    }
}
