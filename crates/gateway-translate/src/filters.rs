//! HTTPRoute rule filters as the request and response rules of the child's HTTP policy set
//! (named after the child VS, as AKO names it).
//!
//! Beyond AKO, which keeps only a redirect's hostname and status and a rewrite's full path:
//! redirects carry scheme, port and path (ReplaceFullPath and ReplacePrefixMatch), with the
//! spec's defaults resolved per listener (no scheme ⇒ the listener's; no port ⇒ the scheme's
//! well-known port when a scheme is given, else the listener port), and rewrites replace a
//! path prefix. What Avi cannot express is refused with [`Unsupported`], never dropped.
//!
//! A path prefix is replaced with URI tokens: the replacement as a string token, then the
//! request's path segments after the prefix (`URI_TOKEN_TYPE_PATH` from the prefix's segment
//! count to the end). Tokens are joined with `/`.

use avi_client::models::{
    HttpHdrAction, HttpHdrActionType, HttpHdrData, HttpHdrValue, HttpRedirectAction,
    HttpRequestRule, HttpResponseRule, HttpRewriteUrlAction, MatchTarget, PortMatch,
    RedirectProtocol, RedirectStatusCode, UriParam, UriParamQuery, UriParamToken, UriParamType,
    UriTokenType, VsDataScript,
};
use gateway_api::httproutes::{
    HttpRouteRulesBackendRefsFilters, HttpRouteRulesBackendRefsFiltersType as BackendFilterType,
    HttpRouteRulesFilters, HttpRouteRulesFiltersRequestRedirect as Redirect,
    HttpRouteRulesFiltersRequestRedirectPathType as RedirectPathType,
    HttpRouteRulesFiltersRequestRedirectScheme as Scheme, HttpRouteRulesFiltersType as FilterType,
    HttpRouteRulesFiltersUrlRewrite as Rewrite,
    HttpRouteRulesFiltersUrlRewritePathType as RewritePathType, HttpRouteRulesMatches,
    HttpRouteRulesMatchesPathType as PathType,
};

/// `end_index` meaning "to the last segment".
const TO_THE_END: u32 = 65535;

/// A listener port a child serves, and whether it terminates TLS there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListenerPort {
    /// The port.
    pub port: u16,
    /// HTTPS (TLS terminated by the parent).
    pub https: bool,
}

/// Why a rule's filters cannot be expressed on Avi. The message is the route's
/// `UnsupportedValue`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// A filter type Avi has no equivalent of here.
    #[error("{0} filters are not supported on Avi")]
    Filter(&'static str),
    /// A redirect status code Avi cannot send.
    #[error(
        "RequestRedirect statusCode {0} is not supported: Avi's redirect action sends 301, 302 or 307, and a DataScript's avi.http.response 303 but not 308"
    )]
    RedirectStatus(i64),
    /// ReplacePrefixMatch without the single PathPrefix match it needs.
    #[error("{0} ReplacePrefixMatch needs exactly one PathPrefix match in the rule")]
    PrefixWithoutPrefixMatch(&'static str),
    /// A filter whose type and field disagree.
    #[error("{0} filter is missing its {1} field")]
    Missing(&'static str, &'static str),
    /// Filters on a backendRef other than AKO's extensions.
    #[error("backendRef filters of type {0} are not supported on Avi")]
    BackendFilter(&'static str),
    /// A header name or value, hostname or path that cannot go on the wire as given.
    #[error(transparent)]
    Value(#[from] crate::matches::Unsupported),
    /// A CORS filter that cannot be programmed as given.
    #[error(transparent)]
    Cors(#[from] crate::cors::Invalid),
}

/// The HTTP policy rules of one rule's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RulePolicy {
    /// Request rules: header changes and rewrites, or redirects (one per listener port when
    /// their defaults differ).
    pub request: Vec<HttpRequestRule>,
    /// Response rules: header changes.
    pub response: Vec<HttpResponseRule>,
    /// The rule redirects: its backends are never reached.
    pub redirects: bool,
    /// DataScripts the child runs: a CORS filter's ([`crate::cors`]), a redirect with a status
    /// only a DataScript can send ([`redirect_script`]).
    pub datascripts: Vec<VsDataScript>,
}

impl RulePolicy {
    /// No rule and no DataScript at all.
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty() && self.datascripts.is_empty()
    }
}

/// The policy rules for `filters` of a rule with `matches`, on the child named `name` serving
/// `ports`.
pub fn rule_policy(
    name: &str,
    filters: &[HttpRouteRulesFilters],
    matches: &[HttpRouteRulesMatches],
    ports: &[ListenerPort],
) -> Result<RulePolicy, Unsupported> {
    let mut out = RulePolicy::default();
    let mut request_hdrs = Vec::new();
    let mut response_hdrs = Vec::new();
    let mut rewrite = None;
    let mut redirect = None;
    for f in filters {
        match f.r#type {
            FilterType::RequestHeaderModifier => {
                let m = f
                    .request_header_modifier
                    .as_ref()
                    .ok_or(Unsupported::Missing(
                        "RequestHeaderModifier",
                        "requestHeaderModifier",
                    ))?;
                request_hdrs = header_actions(
                    m.add
                        .iter()
                        .flatten()
                        .map(|h| (h.name.as_str(), h.value.as_str())),
                    m.set
                        .iter()
                        .flatten()
                        .map(|h| (h.name.as_str(), h.value.as_str())),
                    m.remove.iter().flatten().map(String::as_str),
                )?;
            }
            FilterType::ResponseHeaderModifier => {
                let m = f
                    .response_header_modifier
                    .as_ref()
                    .ok_or(Unsupported::Missing(
                        "ResponseHeaderModifier",
                        "responseHeaderModifier",
                    ))?;
                response_hdrs = header_actions(
                    m.add
                        .iter()
                        .flatten()
                        .map(|h| (h.name.as_str(), h.value.as_str())),
                    m.set
                        .iter()
                        .flatten()
                        .map(|h| (h.name.as_str(), h.value.as_str())),
                    m.remove.iter().flatten().map(String::as_str),
                )?;
            }
            FilterType::RequestRedirect => {
                redirect = Some(
                    f.request_redirect
                        .as_ref()
                        .ok_or(Unsupported::Missing("RequestRedirect", "requestRedirect"))?,
                );
            }
            FilterType::UrlRewrite => {
                rewrite = Some(
                    f.url_rewrite
                        .as_ref()
                        .ok_or(Unsupported::Missing("URLRewrite", "urlRewrite"))?,
                );
            }
            FilterType::RequestMirror => return Err(Unsupported::Filter("RequestMirror")),
            FilterType::ExtensionRef => return Err(Unsupported::Filter("ExtensionRef")),
            FilterType::Cors => {
                let c = f
                    .cors
                    .as_ref()
                    .ok_or(Unsupported::Missing("CORS", "cors"))?;
                out.datascripts
                    .extend(crate::cors::Cors::from_filter(c)?.datascripts());
            }
        }
    }
    if let Some(r) = redirect {
        out.redirects = true;
        if r.status_code == Some(303) {
            out.datascripts.push(redirect_script(r, matches, ports)?);
        } else {
            out.request = redirect_rules(name, r, matches, ports)?;
        }
    } else if !request_hdrs.is_empty() || rewrite.is_some() {
        let mut rule = HttpRequestRule::new(name, 0);
        rule.hdr_action = request_hdrs;
        if let Some(r) = rewrite {
            rule.rewrite_url_action = Some(rewrite_action(r, matches)?);
        }
        out.request.push(rule);
    }
    if !response_hdrs.is_empty() {
        let mut rule = HttpResponseRule::new(name, 0);
        rule.hdr_action = response_hdrs;
        out.response.push(rule);
    }
    Ok(out)
}

/// Add, then set, then remove, each sorted by name, indexed in that order (AKO's order). Names
/// must be HTTP tokens and values free of control characters (a CR or LF would add a header of
/// the client's choosing).
fn header_actions<'a>(
    add: impl Iterator<Item = (&'a str, &'a str)>,
    set: impl Iterator<Item = (&'a str, &'a str)>,
    remove: impl Iterator<Item = &'a str>,
) -> Result<Vec<HttpHdrAction>, Unsupported> {
    let mut add: Vec<_> = add.collect();
    let mut set: Vec<_> = set.collect();
    let mut remove: Vec<_> = remove.collect();
    for (name, value) in add.iter().chain(&set) {
        crate::matches::check_header_name(name)?;
        crate::matches::check_text("header value", value)?;
    }
    for name in &remove {
        crate::matches::check_header_name(name)?;
    }
    add.sort();
    set.sort();
    remove.sort();
    let valued = |action: HttpHdrActionType, name: &str, value: Option<&str>| HttpHdrAction {
        action,
        hdr: Some(HttpHdrData {
            name: Some(name.to_owned()),
            value: value.map(|v| HttpHdrValue {
                val: Some(v.to_owned()),
                is_sensitive: Some(false),
                ..HttpHdrValue::default()
            }),
            ..HttpHdrData::default()
        }),
        ..HttpHdrAction::default()
    };
    let mut out: Vec<HttpHdrAction> = add
        .into_iter()
        .map(|(n, v)| valued(HttpHdrActionType::Add, n, Some(v)))
        .chain(
            set.into_iter()
                .map(|(n, v)| valued(HttpHdrActionType::Replace, n, Some(v))),
        )
        .chain(
            remove
                .into_iter()
                .map(|n| valued(HttpHdrActionType::Remove, n, None)),
        )
        .collect();
    for (i, a) in out.iter_mut().enumerate() {
        a.hdr_index = u32::try_from(i).ok();
    }
    Ok(out)
}

fn redirect_rules(
    name: &str,
    r: &Redirect,
    matches: &[HttpRouteRulesMatches],
    ports: &[ListenerPort],
) -> Result<Vec<HttpRequestRule>, Unsupported> {
    let status = match r.status_code {
        None | Some(302) => RedirectStatusCode::Code302,
        Some(301) => RedirectStatusCode::Code301,
        Some(307) => RedirectStatusCode::Code307,
        Some(other) => return Err(Unsupported::RedirectStatus(other)),
    };
    let path = match &r.path {
        None => None,
        Some(p) => match p.r#type {
            RedirectPathType::ReplaceFullPath => {
                Some(full_path(p.replace_full_path.as_deref().unwrap_or("/")))
            }
            RedirectPathType::ReplacePrefixMatch => Some(prefix_path(
                "RequestRedirect",
                p.replace_prefix_match.as_deref().unwrap_or("/"),
                matches,
            )?),
        },
    };
    // Each listener port may resolve the defaults differently; one rule per distinct outcome.
    let mut outcomes: Vec<((RedirectProtocol, u16), Vec<u16>)> = Vec::new();
    for lp in ports {
        let (https, port) = resolve(r, lp);
        let protocol = if https {
            RedirectProtocol::Https
        } else {
            RedirectProtocol::Http
        };
        match outcomes
            .iter_mut()
            .find(|(k, _)| *k == (protocol.clone(), port))
        {
            Some((_, ps)) => ps.push(lp.port),
            None => outcomes.push(((protocol, port), vec![lp.port])),
        }
    }
    let single = outcomes.len() == 1;
    Ok(outcomes
        .into_iter()
        .enumerate()
        .map(|(i, ((protocol, port), on))| {
            let rule_name = if single {
                name.to_owned()
            } else {
                format!("{name}-{i}")
            };
            let mut rule = HttpRequestRule::new(rule_name, u32::try_from(i).unwrap_or(0));
            if !single {
                rule.match_ = Some(MatchTarget {
                    vs_port: Some(PortMatch::is_in(on)),
                    ..MatchTarget::default()
                });
            }
            rule.redirect_action = Some(HttpRedirectAction {
                protocol,
                host: r.hostname.clone().map(UriParam::literal),
                port: Some(port),
                path: path.clone(),
                keep_query: Some(true),
                status_code: Some(status.clone()),
                ..HttpRedirectAction::default()
            });
            rule
        })
        .collect())
}

/// The scheme (HTTPS or not) and port of a redirect from listener port `lp`: no scheme is the
/// listener's; no port is the scheme's well-known port when a scheme is given, else the
/// listener's.
fn resolve(r: &Redirect, lp: &ListenerPort) -> (bool, u16) {
    let https = match r.scheme {
        Some(Scheme::Https) => true,
        Some(Scheme::Http) => false,
        None => lp.https,
    };
    let port = match (r.port, &r.scheme) {
        (Some(p), _) => u16::try_from(p).unwrap_or(lp.port),
        (None, Some(_)) => {
            if https {
                443
            } else {
                80
            }
        }
        (None, None) => lp.port,
    };
    (https, port)
}

/// A redirect whose status Avi's redirect action cannot send (303) as a DataScript:
/// `avi.http.response(303, {Location = ...})`, with the location built as the redirect action
/// would build it (per listener port from `avi.vs.port()`, the request's host unless the filter
/// names one — the VIP without a Host, bracketed when IPv6 —, the path as sent kept, replaced,
/// or its prefix replaced, the query kept). Every value goes into the script as an escaped Lua
/// literal.
pub fn redirect_script(
    r: &Redirect,
    matches: &[HttpRouteRulesMatches],
    ports: &[ListenerPort],
) -> Result<VsDataScript, Unsupported> {
    use crate::lua::lua_string;
    let status = r.status_code.unwrap_or(302);
    if let Some(h) = &r.hostname {
        crate::matches::check_text("redirect hostname", h)?;
    }
    let (path, replacement, prefix) = match &r.path {
        None => ("keep", String::new(), String::new()),
        Some(p) => match p.r#type {
            RedirectPathType::ReplaceFullPath => {
                let full = p.replace_full_path.as_deref().unwrap_or("/");
                crate::matches::check_text("redirect path", full)?;
                ("full", full.to_owned(), String::new())
            }
            RedirectPathType::ReplacePrefixMatch => {
                let with = p.replace_prefix_match.as_deref().unwrap_or("/");
                crate::matches::check_text("redirect path", with)?;
                let prefix = matched_prefix("RequestRedirect", matches)?;
                (
                    "prefix",
                    with.trim_end_matches('/').to_owned(),
                    prefix.trim_end_matches('/').to_owned(),
                )
            }
        },
    };
    let entries: Vec<String> = ports
        .iter()
        .map(|lp| {
            let (https, port) = resolve(r, lp);
            format!(
                "{{{}, {}, {}}}",
                lua_string(&lp.port.to_string()),
                lua_string(if https { "https" } else { "http" }),
                lua_string(&port.to_string())
            )
        })
        .collect();
    let table = format!(
        "local redirect = {{\n  status = {},\n  ports = {{{}}},\n  host = {},\n  path = {},\n  replacement = {},\n  prefix = {},\n}}\n",
        lua_string(&status.to_string()),
        entries.join(", "),
        lua_string(r.hostname.as_deref().unwrap_or_default()),
        lua_string(path),
        lua_string(&replacement),
        lua_string(&prefix),
    );
    Ok(VsDataScript {
        evt: crate::cors::REQUEST_EVENT.to_owned(),
        script: format!("{REDIRECT_HEADER}{table}{REDIRECT}"),
    })
}

const REDIRECT_HEADER: &str =
    "-- ako-gw redirect (Gateway API RequestRedirect with a status Avi's redirect action lacks)\n";

const REDIRECT: &str = r#"local target = redirect.ports[1]
local vs_port = tostring(avi.vs.port())
for _, p in ipairs(redirect.ports) do
  if p[1] == vs_port then target = p end
end
local scheme, port = target[2], target[3]
local host = redirect.host
if host == "" then host = avi.http.hostname() or avi.vs.ip() end
if string.find(host, ":", 1, true) then host = "[" .. host .. "]" end
if (scheme == "http" and port ~= "80") or (scheme == "https" and port ~= "443") then
  host = host .. ":" .. port
end
-- The path as sent (still percent-encoded): a decoded one could put CR, LF or '?' into the
-- Location.
local path = avi.http.get_path(false)
if redirect.path == "full" then
  path = redirect.replacement
elseif redirect.path == "prefix" then
  path = redirect.replacement .. string.sub(path, #redirect.prefix + 1)
  if path == "" then path = "/" end
end
local location = scheme .. "://" .. host .. path
local query = avi.http.get_query()
if query ~= nil and query ~= "" then location = location .. "?" .. query end
avi.http.response(tonumber(redirect.status), {Location = location})
"#;

fn rewrite_action(
    r: &Rewrite,
    matches: &[HttpRouteRulesMatches],
) -> Result<HttpRewriteUrlAction, Unsupported> {
    let path = match &r.path {
        None => None,
        Some(p) => match p.r#type {
            RewritePathType::ReplaceFullPath => {
                Some(full_path(p.replace_full_path.as_deref().unwrap_or("/")))
            }
            RewritePathType::ReplacePrefixMatch => Some(prefix_path(
                "URLRewrite",
                p.replace_prefix_match.as_deref().unwrap_or("/"),
                matches,
            )?),
        },
    };
    Ok(HttpRewriteUrlAction {
        host_hdr: r.hostname.clone().map(UriParam::literal),
        path,
        query: Some(UriParamQuery {
            keep_query: Some(true),
            ..UriParamQuery::default()
        }),
        ..HttpRewriteUrlAction::default()
    })
}

/// A whole new path. Avi's path parameters do not carry the leading `/` (AKO strips it too).
fn full_path(path: &str) -> UriParam {
    let p = path.trim_start_matches('/');
    if p.is_empty() {
        // `/` itself: an empty string token keeps the parameter valid (tokens need ≥ 1).
        return UriParam::literal("");
    }
    UriParam::literal(p)
}

/// The one PathPrefix match ReplacePrefixMatch replaces.
fn matched_prefix(
    filter: &'static str,
    matches: &[HttpRouteRulesMatches],
) -> Result<String, Unsupported> {
    match matches {
        [only] => only
            .path
            .as_ref()
            .filter(|p| p.r#type.clone().unwrap_or(PathType::PathPrefix) == PathType::PathPrefix)
            .map(|p| p.value.clone().unwrap_or_else(|| "/".into())),
        _ => None,
    }
    .ok_or(Unsupported::PrefixWithoutPrefixMatch(filter))
}

/// The replacement, then the request's segments after the matched prefix.
fn prefix_path(
    filter: &'static str,
    replacement: &str,
    matches: &[HttpRouteRulesMatches],
) -> Result<UriParam, Unsupported> {
    let prefix = matched_prefix(filter, matches)?;
    let segments = prefix.split('/').filter(|s| !s.is_empty()).count();
    let mut tokens = Vec::new();
    let replacement = replacement.trim_matches('/');
    if !replacement.is_empty() {
        tokens.push(UriParamToken {
            type_: UriTokenType::String,
            str_value: Some(replacement.to_owned()),
            ..UriParamToken::default()
        });
    }
    tokens.push(UriParamToken {
        type_: UriTokenType::Path,
        start_index: u32::try_from(segments).ok(),
        end_index: Some(TO_THE_END),
        ..UriParamToken::default()
    });
    Ok(UriParam {
        type_: UriParamType::Tokenized,
        tokens,
        extra: Default::default(),
    })
}

/// Checks backendRef-level filters: only AKO's ExtensionRefs (RouteBackendExtension,
/// HealthMonitor) are read; anything else would change one backend's traffic, and an Avi pool
/// cannot modify requests.
pub fn check_backend_filters(
    filters: &[HttpRouteRulesBackendRefsFilters],
) -> Result<(), Unsupported> {
    for f in filters {
        let name = match f.r#type {
            BackendFilterType::ExtensionRef => {
                let ako = f.extension_ref.as_ref().is_some_and(|e| {
                    e.group == "ako.vmware.com"
                        && matches!(e.kind.as_str(), "RouteBackendExtension" | "HealthMonitor")
                });
                if ako {
                    continue;
                }
                "ExtensionRef"
            }
            BackendFilterType::RequestHeaderModifier => "RequestHeaderModifier",
            BackendFilterType::ResponseHeaderModifier => "ResponseHeaderModifier",
            BackendFilterType::RequestMirror => "RequestMirror",
            BackendFilterType::RequestRedirect => "RequestRedirect",
            BackendFilterType::UrlRewrite => "URLRewrite",
            BackendFilterType::Cors => "CORS",
        };
        return Err(Unsupported::BackendFilter(name));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
