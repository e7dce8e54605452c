//! The redirect DataScript a controller of ours writes for a Gateway API `RequestRedirect`
//! whose status Avi's redirect action cannot send (303): `avi.http.response(status,
//! {Location = ...})`, with the location built from its `local redirect = { ... }` table:
//!
//! - `ports`: per listener port (`avi.vs.port()`), the scheme and port of the location; a port
//!   not listed takes the first entry;
//! - `host`: the location's host, or `""` for the request's (`avi.http.hostname()`, the VIP
//!   without one; an IPv6 address bracketed);
//! - the port is left out when it is the scheme's default;
//! - `path`: `keep` the request's as sent (`avi.http.get_path(false)`: still percent-encoded),
//!   `full` (`replacement`), or `prefix` (`replacement` then what follows `prefix` in that path;
//!   `/` when that is empty);
//! - the request's query is kept.

use super::lua_table::Lua;
use super::request::RequestView;

/// The table of one redirect script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectTable {
    status: u16,
    ports: Vec<(String, String, String)>,
    host: String,
    path: String,
    replacement: String,
    prefix: String,
}

impl RedirectTable {
    /// The table of `script`, if it is a redirect script.
    pub fn parse(script: &str) -> Option<Self> {
        let Lua::Table(fields) = Lua::local(script, "redirect")? else {
            return None;
        };
        let mut t = RedirectTable::default();
        for (k, v) in fields {
            match (k?.as_str(), v) {
                ("status", Lua::Str(s)) => t.status = s.parse().ok()?,
                ("host", Lua::Str(s)) => t.host = s,
                ("path", Lua::Str(s)) if ["keep", "full", "prefix"].contains(&s.as_str()) => {
                    t.path = s;
                }
                ("replacement", Lua::Str(s)) => t.replacement = s,
                ("prefix", Lua::Str(s)) => t.prefix = s,
                ("ports", Lua::Table(items)) => {
                    for (_, v) in items {
                        let Lua::Table(entry) = v else { return None };
                        match entry.as_slice() {
                            [
                                (None, Lua::Str(l)),
                                (None, Lua::Str(scheme)),
                                (None, Lua::Str(port)),
                            ] => t.ports.push((l.clone(), scheme.clone(), port.clone())),
                            _ => return None,
                        }
                    }
                }
                _ => return None,
            }
        }
        (!t.ports.is_empty() && t.status != 0).then_some(t)
    }

    /// The status and `Location` the script answers `req` with.
    pub fn run(&self, req: &RequestView<'_>) -> (u16, String) {
        let vs_port = req.vs_port.to_string();
        let (_, scheme, port) = self
            .ports
            .iter()
            .find(|(l, _, _)| *l == vs_port)
            .unwrap_or(&self.ports[0]);
        let mut host = if self.host.is_empty() {
            req.host().unwrap_or_else(|| req.vip.to_string())
        } else {
            self.host.clone()
        };
        if host.contains(':') {
            host = format!("[{host}]");
        }
        if (scheme == "http" && port != "80") || (scheme == "https" && port != "443") {
            host = format!("{host}:{port}");
        }
        let path = match self.path.as_str() {
            "full" => self.replacement.clone(),
            "prefix" => {
                let rest = req.path.get(self.prefix.len()..).unwrap_or_default();
                let p = format!("{}{rest}", self.replacement);
                if p.is_empty() { "/".to_owned() } else { p }
            }
            _ => req.path.to_owned(),
        };
        let mut location = format!("{scheme}://{host}{path}");
        if let Some(q) = req.query.filter(|q| !q.is_empty()) {
            location.push('?');
            location.push_str(q);
        }
        (self.status, location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, Method, Version};
    use std::net::IpAddr;

    fn req<'a>(headers: &'a HeaderMap, path: &'a str, vs_port: u16) -> RequestView<'a> {
        RequestView {
            method: &Method::POST,
            version: Version::HTTP_11,
            path,
            query: Some("a=1"),
            headers,
            authority: None,
            vs_port,
            vip: IpAddr::from([10, 0, 0, 1]),
            https: false,
            client_ip: IpAddr::from([127, 0, 0, 1]),
        }
    }

    #[test]
    fn the_location_follows_the_table() {
        let mut h = HeaderMap::new();
        h.insert("host", "example.com:8080".parse().unwrap());
        let t = RedirectTable::parse(
            r#"local redirect = {
  status = "303",
  ports = {{"80", "http", "80"}, {"8080", "https", "8443"}},
  host = "",
  path = "prefix",
  replacement = "/new",
  prefix = "/old",
}"#,
        )
        .unwrap();
        assert_eq!(
            t.run(&req(&h, "/old/x", 80)),
            (303, "http://example.com/new/x?a=1".to_owned())
        );
        assert_eq!(
            t.run(&req(&h, "/old", 8080)),
            (303, "https://example.com:8443/new?a=1".to_owned())
        );
        // No Host: the VIP, bracketed when IPv6.
        let none = HeaderMap::new();
        let mut v6 = req(&none, "/old", 80);
        v6.vip = IpAddr::from([0xfd00, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(t.run(&v6), (303, "http://[fd00::1]/new?a=1".to_owned()));
        assert_eq!(
            RedirectTable::parse("local redirect = {status = \"x\"}"),
            None
        );
        assert_eq!(
            RedirectTable::parse("local redirect = {status = \"303\"}"),
            None
        );
    }
}
