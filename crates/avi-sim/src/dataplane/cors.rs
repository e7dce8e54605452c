//! The CORS DataScripts a controller of ours puts on a child virtual service (Gateway API's
//! `HTTPCORSFilter`), given their meaning.
//!
//! The emulator does not run Lua. A set whose scripts start with `local cors = { ... }` (the
//! table both events read: `any_origin`, `exact`, `wildcard`, `credentials`, `any_method`,
//! `methods`, `any_header`, `headers`, `expose`, `max_age`) is read as that table, and the two
//! scripts do what their Lua says:
//!
//! - `VS_DATASCRIPT_EVT_HTTP_REQ`: an `OPTIONS` request with `Origin` and
//!   `Access-Control-Request-Method` is answered `avi.http.response(200, h)`, with the CORS
//!   headers when the origin is allowed and none otherwise, `Vary: Origin` either way;
//! - `VS_DATASCRIPT_EVT_HTTP_RESP` (on a server's response only, not on the Service Engine's
//!   own error answers): a response to an allowed origin gets `Access-Control-Allow-Origin`
//!   (echoed), `…-Allow-Credentials` and `…-Expose-Headers` (replacing the server's); every
//!   response gets `Vary: Origin` (added).
//!
//! An origin is allowed when the table says any, when it equals an `exact` entry, or when it is
//! a `wildcard` entry's prefix and suffix around one or more DNS labels (`[A-Za-z0-9.-]+`),
//! compared in lowercase as the script does. A table the reader cannot parse is no CORS script:
//! the set is ignored, as any script the emulator does not know.

use super::lua_table::Lua;
use super::request::RequestView;

/// The table of one CORS script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsTable {
    any_origin: bool,
    exact: Vec<String>,
    wildcard: Vec<(String, String)>,
    credentials: bool,
    any_method: bool,
    methods: String,
    any_header: bool,
    headers: String,
    expose: String,
    max_age: String,
}

/// What the CORS scripts of a virtual service do to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOutcome {
    /// The request event answered (a preflight): status and headers.
    Answer(u16, Vec<(String, String)>),
    /// The response event sets these headers (`Vary` is added, the others replace).
    Response(Vec<(String, String)>),
}

impl CorsTable {
    /// The table of `script`, if it is a CORS script.
    pub fn parse(script: &str) -> Option<Self> {
        let Lua::Table(fields) = Lua::local(script, "cors")? else {
            return None;
        };
        let mut t = CorsTable::default();
        for (k, v) in fields {
            let k = k?;
            match (k.as_str(), v) {
                ("any_origin", Lua::Bool(b)) => t.any_origin = b,
                ("credentials", Lua::Bool(b)) => t.credentials = b,
                ("any_method", Lua::Bool(b)) => t.any_method = b,
                ("any_header", Lua::Bool(b)) => t.any_header = b,
                ("methods", Lua::Str(s)) => t.methods = s,
                ("headers", Lua::Str(s)) => t.headers = s,
                ("expose", Lua::Str(s)) => t.expose = s,
                ("max_age", Lua::Str(s)) => t.max_age = s,
                ("exact", Lua::Table(items)) => {
                    for (_, v) in items {
                        let Lua::Str(s) = v else { return None };
                        t.exact.push(s);
                    }
                }
                ("wildcard", Lua::Table(items)) => {
                    for (_, v) in items {
                        let Lua::Table(pair) = v else { return None };
                        match pair.as_slice() {
                            [(None, Lua::Str(p)), (None, Lua::Str(s))] => {
                                t.wildcard.push((p.clone(), s.clone()));
                            }
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            }
        }
        Some(t)
    }

    /// Whether the script's `allowed(origin)` holds.
    pub fn allowed(&self, origin: &str) -> bool {
        if origin.is_empty() {
            return false;
        }
        if self.any_origin {
            return true;
        }
        let origin = origin.to_ascii_lowercase();
        if self.exact.contains(&origin) {
            return true;
        }
        self.wildcard.iter().any(|(p, s)| {
            origin.len() > p.len() + s.len()
                && origin.starts_with(p.as_str())
                && origin.ends_with(s.as_str())
                && origin
                    .get(p.len()..origin.len() - s.len())
                    .is_some_and(|mid| {
                        mid.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                    })
        })
    }

    /// What the two scripts do with `req`.
    pub fn run(&self, req: &RequestView<'_>) -> CorsOutcome {
        let header = |name: &str| req.header_values(name).first().map(|v| (*v).to_owned());
        let origin = header("origin");
        let requested = header("access-control-request-method");
        if req.method == http::Method::OPTIONS
            && let (Some(origin), Some(method)) = (&origin, &requested)
        {
            let mut h = vec![("Vary".to_owned(), "Origin".to_owned())];
            if self.allowed(origin) {
                h.push(("Access-Control-Allow-Origin".to_owned(), origin.clone()));
                if self.credentials {
                    h.push(("Access-Control-Allow-Credentials".into(), "true".into()));
                }
                if self.any_method {
                    h.push(("Access-Control-Allow-Methods".into(), method.clone()));
                } else if !self.methods.is_empty() {
                    h.push(("Access-Control-Allow-Methods".into(), self.methods.clone()));
                }
                if self.any_header {
                    if let Some(asked) = header("access-control-request-headers") {
                        h.push(("Access-Control-Allow-Headers".into(), asked));
                    }
                } else if !self.headers.is_empty() {
                    h.push(("Access-Control-Allow-Headers".into(), self.headers.clone()));
                }
                if !self.expose.is_empty() {
                    h.push(("Access-Control-Expose-Headers".into(), self.expose.clone()));
                }
                h.push(("Access-Control-Max-Age".into(), self.max_age.clone()));
            }
            return CorsOutcome::Answer(200, h);
        }
        let mut h = Vec::new();
        if let Some(origin) = origin.filter(|o| self.allowed(o)) {
            h.push(("Access-Control-Allow-Origin".to_owned(), origin));
            if self.credentials {
                h.push(("Access-Control-Allow-Credentials".into(), "true".into()));
            }
            if !self.expose.is_empty() {
                h.push(("Access-Control-Expose-Headers".into(), self.expose.clone()));
            }
        }
        h.push(("Vary".to_owned(), "Origin".to_owned()));
        CorsOutcome::Response(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, Method, Version};
    use std::net::IpAddr;

    const SCRIPT: &str = r#"-- ako-gw CORS (Gateway API HTTPCORSFilter)
local cors = {
  any_origin = false,
  exact = {"https://www.foo.com"},
  wildcard = {{"https://", ".bar.com"}},
  credentials = true,
  any_method = false,
  methods = "GET, OPTIONS",
  any_header = false,
  headers = "x-header-1, x-header-2",
  expose = "x-header-3\044 x-\092\034",
  max_age = "3600",
}
local function allowed(origin)
"#;

    fn req<'a>(method: &'a Method, headers: &'a HeaderMap) -> RequestView<'a> {
        RequestView {
            method,
            version: Version::HTTP_11,
            path: "/cors-1",
            query: None,
            headers,
            authority: None,
            vs_port: 80,
            vip: IpAddr::from([10, 0, 0, 1]),
            https: false,
            client_ip: IpAddr::from([127, 0, 0, 1]),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_table_is_read_with_its_escapes() {
        let t = CorsTable::parse(SCRIPT).unwrap();
        assert_eq!(t.exact, vec!["https://www.foo.com"]);
        assert_eq!(t.wildcard, vec![("https://".into(), ".bar.com".into())]);
        assert_eq!(t.expose, "x-header-3, x-\\\"");
        assert!(t.credentials && !t.any_origin);
    }

    #[test]
    fn origins_match_exactly_or_around_labels() {
        let t = CorsTable::parse(SCRIPT).unwrap();
        for ok in [
            "https://www.foo.com",
            "https://WWW.foo.com",
            "https://www.bar.com",
            "https://xpto.www.bar.com",
        ] {
            assert!(t.allowed(ok), "{ok}");
        }
        for no in [
            "https://foobar.com",
            "https://.bar.com",
            "https://bar.com",
            "http://www.bar.com",
            "https://a/b.bar.com",
            "https://a:1.bar.com",
            "",
        ] {
            assert!(!t.allowed(no), "{no}");
        }
    }

    #[test]
    fn a_preflight_is_answered_and_a_response_decorated() {
        let t = CorsTable::parse(SCRIPT).unwrap();
        let h = headers(&[
            ("origin", "https://www.bar.com"),
            ("access-control-request-method", "GET"),
        ]);
        let CorsOutcome::Answer(200, got) = t.run(&req(&Method::OPTIONS, &h)) else {
            panic!()
        };
        assert!(got.contains(&(
            "Access-Control-Allow-Origin".into(),
            "https://www.bar.com".into()
        )));
        assert!(got.contains(&("Access-Control-Max-Age".into(), "3600".into())));
        let h = headers(&[
            ("origin", "https://foobar.com"),
            ("access-control-request-method", "GET"),
        ]);
        assert_eq!(
            t.run(&req(&Method::OPTIONS, &h)),
            CorsOutcome::Answer(200, vec![("Vary".into(), "Origin".into())])
        );
        let h = headers(&[("origin", "https://www.foo.com")]);
        let CorsOutcome::Response(got) = t.run(&req(&Method::GET, &h)) else {
            panic!()
        };
        assert!(got.contains(&("Access-Control-Allow-Credentials".into(), "true".into())));
        // An OPTIONS without Access-Control-Request-Method is no preflight.
        assert!(matches!(
            t.run(&req(&Method::OPTIONS, &h)),
            CorsOutcome::Response(_)
        ));
    }

    #[test]
    fn anything_else_is_not_a_cors_script() {
        for s in [
            "local cors = {",
            "local cors = {any_origin = maybe}",
            "local cors = {unknown = true}",
            "local cors = {exact = {{{{{{\"a\"}}}}}}}",
            "local cors = {methods = \"a\nb\"}",
            "avi.poolgroup.select(pg)",
        ] {
            assert_eq!(CorsTable::parse(s), None, "{s}");
        }
    }
}
