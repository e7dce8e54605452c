//! The CORS filter (`HTTPCORSFilter`, GEP-1767) as DataScripts on the rule's child virtual
//! service.
//!
//! Avi has no CORS object on the data plane (`SystemConfiguration.enable_cors` is the
//! controller's own API), and an HTTP policy's local response cannot echo the request's
//! `Origin`. DataScripts can: the child gets a `VSDataScriptSet` with two scripts that share
//! one table of what the filter allows ([`Cors`]):
//!
//! - on `VS_DATASCRIPT_EVT_HTTP_REQ`, a preflight (`OPTIONS` with `Origin` and
//!   `Access-Control-Request-Method`) is answered at the Service Engine with
//!   `avi.http.response(200, headers)`: the backend never sees it. 200, because Avi's
//!   `avi.http.response` does not send 204. An origin the filter does not allow gets the 200
//!   without any CORS header, which a browser reads as a refusal.
//! - on `VS_DATASCRIPT_EVT_HTTP_RESP`, a response to an allowed origin gets
//!   `Access-Control-Allow-Origin` (the origin, echoed), `…-Allow-Credentials: true` when the
//!   filter allows credentials, and `…-Expose-Headers` (each replacing the backend's).
//!
//! Every answer, preflight or not, allowed or not, says `Vary: Origin`: a shared cache must not
//! give one origin's answer to another.
//!
//! The origin is always echoed rather than answered with `*`: the spec allows both for a
//! wildcard filter, and a credentialed request may only get the origin. For the same reason a
//! wildcard `allowMethods` or `allowHeaders` echoes what the preflight asked for.
//!
//! Every value is validated before it reaches the script, and every string is written as a Lua
//! literal with anything but printable ASCII escaped: a hostile value can neither end the
//! literal nor add a header.

use avi_client::models::VsDataScript;
use gateway_api::httproutes::HttpRouteRulesFiltersCors;
use translate_core::text::printable;

use crate::lua::lua_string;

/// The event of the preflight script.
pub const REQUEST_EVENT: &str = "VS_DATASCRIPT_EVT_HTTP_REQ";
/// The event of the response script.
pub const RESPONSE_EVENT: &str = "VS_DATASCRIPT_EVT_HTTP_RESP";

/// The most `allowOrigins`, `allowHeaders` and `exposeHeaders` entries (the CRD's limit).
pub const MAX_ENTRIES: usize = 64;
/// The most `allowMethods` entries (the CRD's limit).
pub const MAX_METHODS: usize = 9;
/// The longest origin taken (a scheme, a DNS name and a port fit well within it).
pub const MAX_ORIGIN_LEN: usize = 512;
/// The longest header or method name taken.
pub const MAX_NAME_LEN: usize = 256;
/// `maxAge` when the filter leaves it out (the CRD's default).
pub const DEFAULT_MAX_AGE: i32 = 5;

/// Why a CORS filter cannot be programmed. The message is the route's `UnsupportedValue`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// Too many entries in a list.
    #[error("CORS {field} has {count} entries; at most {max} are allowed")]
    TooMany {
        /// The field.
        field: &'static str,
        /// How many it has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An origin that is not `*` or `scheme://host[:port]`.
    #[error("CORS allowOrigins entry \"{0}\" is not \"*\" or scheme://host[:port]")]
    Origin(String),
    /// `*` next to other origins, methods or headers.
    #[error("CORS {0} lists \"*\" with other entries; \"*\" must stand alone")]
    WildcardWithOthers(&'static str),
    /// A method or header name that is not an HTTP token.
    #[error("CORS {field} entry \"{value}\" is not an HTTP token")]
    Token {
        /// The field.
        field: &'static str,
        /// The value, escaped and bounded.
        value: String,
    },
    /// `exposeHeaders: ["*"]` with `allowCredentials: true`.
    #[error(
        "CORS exposeHeaders \"*\" with allowCredentials cannot be honoured: a credentialed response exposes only headers it names"
    )]
    ExposeAllWithCredentials,
    /// `maxAge` below 1.
    #[error("CORS maxAge {0} is below 1")]
    MaxAge(i64),
}

/// What a list field allows: everything (`*`) or the names given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allow {
    /// `*`: whatever the preflight asks for is echoed.
    Any,
    /// These names, joined with `, ` in the answer.
    Only(Vec<String>),
}

/// One rule's CORS filter, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `allowOrigins: ["*"]`.
    pub any_origin: bool,
    /// Origins allowed as written (lowercase).
    pub exact: Vec<String>,
    /// Wildcard origins as (prefix, suffix): `https://*.bar.com` is (`https://`, `.bar.com`);
    /// the part between must be one or more DNS labels.
    pub wildcard: Vec<(String, String)>,
    /// `allowCredentials`.
    pub credentials: bool,
    /// `allowMethods`.
    pub methods: Allow,
    /// `allowHeaders`.
    pub headers: Allow,
    /// `exposeHeaders`, joined.
    pub expose: Vec<String>,
    /// `maxAge` in seconds.
    pub max_age: i32,
}

impl Cors {
    /// Validates `f`.
    pub fn from_filter(f: &HttpRouteRulesFiltersCors) -> Result<Self, Invalid> {
        let origins = f.allow_origins.as_deref().unwrap_or_default();
        bounded("allowOrigins", origins, MAX_ENTRIES)?;
        let any_origin = origins.iter().any(|o| o == "*");
        if any_origin && origins.len() > 1 {
            return Err(Invalid::WildcardWithOthers("allowOrigins"));
        }
        let mut exact = Vec::new();
        let mut wildcard = Vec::new();
        if !any_origin {
            for o in origins {
                match origin(o)? {
                    Origin::Exact(e) => exact.push(e),
                    Origin::Wildcard(p, s) => wildcard.push((p, s)),
                }
            }
        }
        let methods = allow(
            "allowMethods",
            f.allow_methods.as_deref().unwrap_or_default(),
            MAX_METHODS,
        )?;
        let headers = allow(
            "allowHeaders",
            f.allow_headers.as_deref().unwrap_or_default(),
            MAX_ENTRIES,
        )?;
        let expose = f.expose_headers.as_deref().unwrap_or_default();
        let credentials = f.allow_credentials == Some(true);
        if allow("exposeHeaders", expose, MAX_ENTRIES)? == Allow::Any && credentials {
            // A browser reads `*` literally on a credentialed response, and the Service Engine
            // cannot list the response's headers in its place.
            return Err(Invalid::ExposeAllWithCredentials);
        }
        let max_age = f.max_age.unwrap_or(DEFAULT_MAX_AGE);
        if max_age < 1 {
            return Err(Invalid::MaxAge(i64::from(max_age)));
        }
        Ok(Cors {
            any_origin,
            exact,
            wildcard,
            credentials,
            methods,
            headers,
            expose: expose.to_vec(),
            max_age,
        })
    }

    /// The preflight script and the response script.
    pub fn datascripts(&self) -> Vec<VsDataScript> {
        let table = self.lua_table();
        vec![
            VsDataScript {
                evt: REQUEST_EVENT.to_owned(),
                script: format!("{HEADER}{table}{ALLOWED}{PREFLIGHT}"),
            },
            VsDataScript {
                evt: RESPONSE_EVENT.to_owned(),
                script: format!("{HEADER}{table}{ALLOWED}{RESPONSE}"),
            },
        ]
    }

    /// The filter as the Lua table both scripts read (the emulator reads it too).
    fn lua_table(&self) -> String {
        let list = |v: &[String]| -> String {
            v.iter()
                .map(|s| lua_string(s))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let joined = |a: &Allow| match a {
            Allow::Any => (true, String::new()),
            Allow::Only(v) => (false, v.join(", ")),
        };
        let (any_method, methods) = joined(&self.methods);
        let (any_header, headers) = joined(&self.headers);
        let wildcard = self
            .wildcard
            .iter()
            .map(|(p, s)| format!("{{{}, {}}}", lua_string(p), lua_string(s)))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "local cors = {{\n  any_origin = {},\n  exact = {{{}}},\n  wildcard = {{{}}},\n  credentials = {},\n  any_method = {},\n  methods = {},\n  any_header = {},\n  headers = {},\n  expose = {},\n  max_age = {},\n}}\n",
            self.any_origin,
            list(&self.exact),
            wildcard,
            self.credentials,
            any_method,
            lua_string(&methods),
            any_header,
            lua_string(&headers),
            lua_string(&self.expose.join(", ")),
            lua_string(&self.max_age.to_string()),
        )
    }
}

const HEADER: &str = "-- ako-gw CORS (Gateway API HTTPCORSFilter)\n";

/// Whether an origin is allowed: exact, or a wildcard's prefix and suffix around DNS labels.
const ALLOWED: &str = r#"local function allowed(origin)
  if origin == nil or origin == "" then return false end
  if cors.any_origin then return true end
  origin = string.lower(origin)
  for _, o in ipairs(cors.exact) do
    if origin == o then return true end
  end
  for _, w in ipairs(cors.wildcard) do
    local p, s = w[1], w[2]
    if #origin > #p + #s and string.sub(origin, 1, #p) == p
        and string.sub(origin, #origin - #s + 1) == s
        and not string.find(string.sub(origin, #p + 1, #origin - #s), "[^%w%.%-]") then
      return true
    end
  end
  return false
end
"#;

const PREFLIGHT: &str = r#"local origin = avi.http.get_header("Origin")
local method = avi.http.get_header("Access-Control-Request-Method")
if avi.http.method() == "OPTIONS" and origin ~= nil and method ~= nil then
  local h = {}
  h["Vary"] = "Origin"
  if allowed(origin) then
    h["Access-Control-Allow-Origin"] = origin
    if cors.credentials then h["Access-Control-Allow-Credentials"] = "true" end
    if cors.any_method then
      h["Access-Control-Allow-Methods"] = method
    elseif cors.methods ~= "" then
      h["Access-Control-Allow-Methods"] = cors.methods
    end
    local asked = avi.http.get_header("Access-Control-Request-Headers")
    if cors.any_header then
      if asked ~= nil then h["Access-Control-Allow-Headers"] = asked end
    elseif cors.headers ~= "" then
      h["Access-Control-Allow-Headers"] = cors.headers
    end
    if cors.expose ~= "" then h["Access-Control-Expose-Headers"] = cors.expose end
    h["Access-Control-Max-Age"] = cors.max_age
  end
  avi.http.response(200, h)
end
"#;

const RESPONSE: &str = r#"local function set(name, value)
  avi.http.remove_header(name)
  avi.http.add_header(name, value)
end
local origin = avi.http.get_header("Origin", avi.HTTP_REQUEST)
if allowed(origin) then
  set("Access-Control-Allow-Origin", origin)
  if cors.credentials then set("Access-Control-Allow-Credentials", "true") end
  if cors.expose ~= "" then set("Access-Control-Expose-Headers", cors.expose) end
end
avi.http.add_header("Vary", "Origin")
"#;

enum Origin {
    Exact(String),
    Wildcard(String, String),
}

/// `scheme://host[:port]`, the host a DNS name, optionally `*.` then a name; lowercase.
fn origin(o: &str) -> Result<Origin, Invalid> {
    let bad = || Invalid::Origin(printable(o));
    if o.len() > MAX_ORIGIN_LEN {
        return Err(bad());
    }
    let lower = o.to_ascii_lowercase();
    let (scheme, rest) = lower.split_once("://").ok_or_else(bad)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(bad());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => {
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) || p.parse::<u16>().is_err() {
                return Err(bad());
            }
            (h, Some(p))
        }
        None => (rest, None),
    };
    let label_chars = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    let port = port.map_or_else(String::new, |p| format!(":{p}"));
    if let Some(suffix) = host.strip_prefix("*.") {
        if !label_chars(suffix) {
            return Err(bad());
        }
        return Ok(Origin::Wildcard(
            format!("{scheme}://"),
            format!(".{suffix}{port}"),
        ));
    }
    if !label_chars(host) {
        return Err(bad());
    }
    Ok(Origin::Exact(format!("{scheme}://{host}{port}")))
}

fn bounded(field: &'static str, v: &[String], max: usize) -> Result<(), Invalid> {
    if v.len() > max {
        return Err(Invalid::TooMany {
            field,
            count: v.len(),
            max,
        });
    }
    Ok(())
}

fn token(field: &'static str, v: &str) -> Result<(), Invalid> {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if v.is_empty() || v.len() > MAX_NAME_LEN || !v.chars().all(tchar) {
        return Err(Invalid::Token {
            field,
            value: printable(v),
        });
    }
    Ok(())
}

fn allow(field: &'static str, v: &[String], max: usize) -> Result<Allow, Invalid> {
    bounded(field, v, max)?;
    if v.iter().any(|s| s == "*") {
        if v.len() > 1 {
            return Err(Invalid::WildcardWithOthers(field));
        }
        return Ok(Allow::Any);
    }
    for s in v {
        token(field, s)?;
    }
    Ok(Allow::Only(v.to_vec()))
}

#[cfg(test)]
mod tests;
