//! What routing sees of one request: borrowed from the real request, so the pure parts of the
//! data plane (matching, policies, URI tokens) can be fed from a test as easily as from hyper.

use std::net::IpAddr;

use http::{HeaderMap, Method, Version};

/// One request as the data plane routes it.
#[derive(Debug, Clone)]
pub struct RequestView<'a> {
    /// The method.
    pub method: &'a Method,
    /// The HTTP version the client spoke.
    pub version: Version,
    /// The path as sent (percent-encoded), never empty.
    pub path: &'a str,
    /// The query string without `?`, as sent.
    pub query: Option<&'a str>,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The authority of an absolute-form request target, if any.
    pub authority: Option<&'a str>,
    /// The virtual service port the request came in on (the service port, not the mapped
    /// loopback port).
    pub vs_port: u16,
    /// The VIP the request was addressed to.
    pub vip: IpAddr,
    /// Whether the client connection is TLS.
    pub https: bool,
    /// The client's address.
    pub client_ip: IpAddr,
}

impl<'a> RequestView<'a> {
    /// The host the client asked for: the Host header (or the absolute-form authority) without
    /// the port, lowercase, without a trailing dot.
    pub fn host(&self) -> Option<String> {
        let raw = self
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .or(self.authority)?;
        let host = strip_port(raw.trim());
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        (!host.is_empty()).then_some(host)
    }

    /// Every value of a header (names compare without case), as text.
    pub fn header_values(&self, name: &str) -> Vec<&'a str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

/// `host:port` → `host`; `[v6]:port` → `v6`; a bare IPv6 address stays as it is.
pub fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => authority,
    }
}

/// Percent-decodes `s` (`%2F` → `/`); invalid escapes and non-UTF-8 results are kept as given.
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(b'%'), Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 3;
            }
            (Some(&b), _, _) => {
                out.push(b);
                i += 1;
            }
            _ => break,
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_their_port_and_case() {
        assert_eq!(strip_port("Foo.example.com:8443"), "Foo.example.com");
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("example.com"), "example.com");
        let headers = {
            let mut h = HeaderMap::new();
            h.insert(http::header::HOST, "App.Example.COM.:80".parse().unwrap());
            h
        };
        let view = RequestView {
            method: &Method::GET,
            version: Version::HTTP_11,
            path: "/",
            query: None,
            headers: &headers,
            authority: None,
            vs_port: 80,
            vip: IpAddr::from([10, 0, 0, 1]),
            https: false,
            client_ip: IpAddr::from([127, 0, 0, 1]),
        };
        assert_eq!(view.host().as_deref(), Some("app.example.com"));
    }

    #[test]
    fn percent_decoding_keeps_what_it_cannot_decode() {
        assert_eq!(percent_decode("/a%20b"), "/a b");
        assert_eq!(percent_decode("/a%2fb"), "/a/b");
        assert_eq!(percent_decode("/a%zzb%"), "/a%zzb%");
        assert_eq!(percent_decode("/%ff"), "/%ff");
    }
}
