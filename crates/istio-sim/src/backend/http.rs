//! The application behind the sidecar: Envoy's RBAC filter, then an echo server.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, SERVER};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde::{Deserialize, Serialize};

use super::Counters;

/// Largest request body the echo server reads.
const MAX_BODY: usize = 1 << 20;

/// Envoy's body for a request its RBAC filter denies.
pub const RBAC_DENIED_BODY: &str = "RBAC: access denied";

/// The sidecar rewrites the `server` header of every response.
const ENVOY: HeaderValue = HeaderValue::from_static("istio-envoy");

/// Header Envoy's inbound listener sets for the application (`APPEND_FORWARD`).
pub const XFCC: &str = "x-forwarded-client-cert";

/// What a [`StrictBackend`](super::StrictBackend) answers to every allowed request (HTTP 200,
/// `content-type: application/json`).
///
/// ```
/// let body = r#"{"name":"pod-a","spiffe_id":"spiffe://cluster.local/ns/shop/sa/web",
///   "principal":"cluster.local/ns/avi-system/sa/ako-sa","method":"GET","path":"/?q=1",
///   "host":"shop","protocol":"HTTP/1.1","headers":{"host":"shop"},"body":""}"#;
/// let echo: istio_sim::Echo = serde_json::from_str(body)?;
/// assert_eq!(echo.principal.as_deref(), Some("cluster.local/ns/avi-system/sa/ako-sa"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Echo {
    /// The backend's name ([`StrictBackendOptions::name`](super::StrictBackendOptions::name)),
    /// so a test can tell which pod answered.
    pub name: String,
    /// The backend's own SPIFFE ID, as its current certificate carries it.
    pub spiffe_id: String,
    /// The client's Istio principal: the SPIFFE ID of its certificate without `spiffe://`.
    pub principal: Option<String>,
    /// The request method.
    pub method: String,
    /// The request path with its query.
    pub path: String,
    /// The `Host` header (HTTP/1.1) or `:authority` (HTTP/2).
    pub host: Option<String>,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub protocol: String,
    /// Request headers as the application sees them, names lowercase, repeated values joined
    /// with `", "`; includes the `x-forwarded-client-cert` the sidecar adds.
    pub headers: BTreeMap<String, String>,
    /// The request body, lossily decoded as UTF-8.
    pub body: String,
}

/// What the connection knows about the TLS peer, fixed at the handshake.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// The client's SPIFFE ID (`spiffe://...`), if its leaf has one.
    pub(crate) spiffe_id: Option<String>,
    /// SHA-256 of the client leaf, lowercase hex (XFCC `Hash=`).
    pub(crate) cert_hash: String,
}

/// Per-connection view of the backend's settings at handshake time.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) name: Arc<str>,
    pub(crate) server_spiffe_id: String,
    pub(crate) trust_domain: Option<String>,
    pub(crate) peer: Peer,
    pub(crate) counters: Arc<Counters>,
}

/// Does the AuthorizationPolicy principal `rule` match `principal`?
///
/// Istio semantics: `*` matches any authenticated principal, `prefix*` and `*suffix` match by
/// prefix/suffix, anything else exactly; a rule whose trust domain is `cluster.local` also
/// matches the local trust domain (`ReplaceTrustDomainAliases`).
pub(crate) fn principal_matches(rule: &str, principal: &str, local_td: Option<&str>) -> bool {
    let matches_one = |rule: &str| {
        if rule == "*" {
            true
        } else if let Some(suffix) = rule.strip_prefix('*') {
            principal.ends_with(suffix)
        } else if let Some(prefix) = rule.strip_suffix('*') {
            principal.starts_with(prefix)
        } else {
            rule == principal
        }
    };
    if matches_one(rule) {
        return true;
    }
    match (rule.strip_prefix("cluster.local/"), local_td) {
        (Some(rest), Some(td)) if td != "cluster.local" => matches_one(&format!("{td}/{rest}")),
        _ => false,
    }
}

/// Serves one request: RBAC against `allowed` first (403 `RBAC: access denied`), then the echo.
pub(crate) async fn handle(
    ctx: Arc<Context>,
    allowed: Option<Arc<[String]>>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = ctx
        .peer
        .spiffe_id
        .as_deref()
        .and_then(|id| id.strip_prefix("spiffe://"))
        .map(str::to_owned);

    if let Some(allowed) = &allowed {
        let ok = principal.as_deref().is_some_and(|p| {
            allowed
                .iter()
                .any(|rule| principal_matches(rule, p, ctx.trust_domain.as_deref()))
        });
        if !ok {
            ctx.counters.requests_denied.fetch_add(1, Ordering::Relaxed);
            return Ok(text(StatusCode::FORBIDDEN, RBAC_DENIED_BODY));
        }
    }

    let (mut parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large or unreadable",
            ));
        }
    };

    // Envoy's inbound `forward_client_cert_details: APPEND_FORWARD` with Subject, URI (and
    // DNS) set: the application sees who called, e.g.
    // `By=spiffe://.../sa/web;Hash=<sha256>;Subject="";URI=spiffe://.../sa/ako-sa`.
    let mut xfcc = format!(
        "By={};Hash={};Subject=\"\"",
        ctx.server_spiffe_id, ctx.peer.cert_hash
    );
    if let Some(uri) = &ctx.peer.spiffe_id {
        xfcc.push_str(";URI=");
        xfcc.push_str(uri);
    }
    if let Some(previous) = parts.headers.get(XFCC).and_then(|v| v.to_str().ok()) {
        xfcc = format!("{previous},{xfcc}");
    }
    if let Ok(value) = HeaderValue::from_str(&xfcc) {
        parts.headers.insert(XFCC, value);
    }

    let mut headers = BTreeMap::<String, String>::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }

    let echo = Echo {
        name: ctx.name.to_string(),
        spiffe_id: ctx.server_spiffe_id.clone(),
        principal,
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        host: parts
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned())),
        protocol: format!("{:?}", parts.version),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let json = match serde_json::to_vec_pretty(&echo) {
        Ok(json) => json,
        Err(_) => {
            return Ok(text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "echo encoding failed",
            ));
        }
    };
    ctx.counters.requests_served.fetch_add(1, Ordering::Relaxed);
    let mut resp = Response::new(Full::new(Bytes::from(json)));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(SERVER, ENVOY);
    Ok(resp)
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp.headers_mut().insert(SERVER, ENVOY);
    resp
}
