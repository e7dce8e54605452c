//! The I/O shell of the data plane: accept loops, client connections (plain or TLS), and
//! proxying to pool servers with hyper. Every decision is taken by the pure modules from the
//! store as it is when the connection or request arrives.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::balance::{self, Server};
use super::policy::{self, Vars};
use super::request::{RequestView, strip_port};
use super::route::{self, Decision, Routing};
use super::tls::{self, UpstreamTls};
use super::{DataPlane, UpstreamError};
use crate::api::Sim;
use crate::store::Store;

/// How long connecting to a pool server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a TLS handshake (either side) may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Response bodies: streamed from a server or made here.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// The virtual service was disabled or deleted: the connection is dropped.
#[derive(Debug, thiserror::Error)]
#[error("virtual service no longer serves this listener")]
pub struct Closed;

/// A listener's identity: virtual service uuid, VIP, service port.
pub type Key = (String, IpAddr, u16);

/// Accepts connections until the task is aborted or the emulator is gone.
pub async fn accept_loop(listener: TcpListener, sim: Weak<Sim>, key: Key) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let Some(sim) = sim.upgrade() else {
                    return;
                };
                tokio::spawn(connection(sim, key.clone(), stream, peer));
            }
            Err(error) => {
                tracing::warn!(%error, "data plane accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// One client connection.
#[derive(Debug, Clone)]
struct Conn {
    vs_uuid: String,
    vip: IpAddr,
    port: u16,
    https: bool,
    sni: Option<String>,
    client: SocketAddr,
}

fn read(sim: &Sim) -> std::sync::RwLockReadGuard<'_, Store> {
    sim.store
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn connection(sim: Arc<Sim>, key: Key, stream: TcpStream, client: SocketAddr) {
    let Some(dp) = sim.data_plane.as_ref() else {
        return;
    };
    let (vs_uuid, vip, port) = key;
    // TLS or not is decided per connection, from the service as configured now.
    let server_config = {
        let store = read(&sim);
        match route::service_tls(&store, &vs_uuid, port) {
            None => return,
            Some(false) => None,
            Some(true) => match tls::server_config(&sim, &store, &vs_uuid, &dp.certs) {
                Ok(c) => Some(c),
                Err(error) => {
                    tracing::warn!(%error, vs = %vs_uuid, "TLS service cannot be served");
                    return;
                }
            },
        }
    };
    let mut conn = Conn {
        vs_uuid,
        vip,
        port,
        https: server_config.is_some(),
        sni: None,
        client,
    };
    match server_config {
        None => serve(TokioIo::new(stream), sim.clone(), conn).await,
        Some(config) => {
            let accepted =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, TlsAcceptor::from(config).accept(stream))
                    .await;
            let tls = match accepted {
                Ok(Ok(tls)) => tls,
                Ok(Err(error)) => {
                    tracing::debug!(%error, %client, "client TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%client, "client TLS handshake timed out");
                    return;
                }
            };
            conn.sni = tls.get_ref().1.server_name().map(str::to_owned);
            serve(TokioIo::new(tls), sim.clone(), conn).await;
        }
    }
}

async fn serve<I>(io: I, sim: Arc<Sim>, conn: Conn)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let conn = Arc::new(conn);
    let service = hyper::service::service_fn(move |req| handle(sim.clone(), conn.clone(), req));
    let result = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(io, service)
        .await;
    if let Err(error) = result {
        tracing::debug!(%error, "data plane connection ended");
    }
}

/// What to do with a request once the store has been read.
enum Step {
    Close,
    Respond(Response<Body>),
    Proxy(Box<Upstream>),
    Fail {
        pool: (String, String),
        error: UpstreamError,
    },
}

/// Where and how one request goes upstream.
struct Upstream {
    pool_uuid: String,
    pool_name: String,
    server: Server,
    tls: Option<UpstreamTls>,
    /// The Host header to send, when it differs from the client's.
    host: Option<String>,
    xff: Xff,
}

/// X-Forwarded-For handling of the application profile.
#[derive(Debug, Clone)]
struct Xff {
    header: Option<HeaderName>,
    mode: String,
    proto: bool,
}

fn xff(store: &Store, vs_uuid: &str) -> Xff {
    let http = store
        .object("virtualservice", vs_uuid)
        .and_then(|vs| vs.body.get("application_profile_ref"))
        .and_then(Value::as_str)
        .and_then(route::uuid_of)
        .and_then(|u| store.object("applicationprofile", &u))
        .and_then(|p| p.body.get("http_profile").cloned())
        .unwrap_or(Value::Null);
    let enabled = http.get("xff_enabled").and_then(Value::as_bool) != Some(false);
    let name = http
        .get("xff_alternate_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or("X-Forwarded-For");
    Xff {
        header: enabled
            .then(|| HeaderName::from_bytes(name.as_bytes()).ok())
            .flatten(),
        mode: http
            .get("xff_update")
            .and_then(Value::as_str)
            .unwrap_or("REPLACE_XFF_HEADERS")
            .to_owned(),
        proto: http
            .get("x_forwarded_proto_enabled")
            .and_then(Value::as_bool)
            == Some(true),
    }
}

fn full(status: u16, body: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(body.into())
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    resp
}

fn text_response(status: u16, text: String) -> Response<Body> {
    let mut resp = full(status, text);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The Host the upstream request carries: a rewrite's, the pool's server name or server
/// hostname when the pool says so, else the client's (None: unchanged).
fn upstream_host(
    pool: &serde_json::Map<String, Value>,
    server: &Server,
    rewritten: Option<&str>,
) -> Option<String> {
    if let Some(h) = rewritten {
        return Some(h.to_owned());
    }
    let flag = |k: &str| pool.get(k).and_then(Value::as_bool) == Some(true);
    if flag("rewrite_host_header_to_sni")
        && let Some(name) = pool.get("server_name").and_then(Value::as_str)
    {
        return Some(name.to_owned());
    }
    if flag("rewrite_host_header_to_server_name") {
        return server.hostname.clone();
    }
    None
}

/// Picks a server of `pool_uuid` and prepares TLS towards it.
fn upstream(
    store: &Store,
    dp: &DataPlane,
    pool_uuid: &str,
    view: &RequestView<'_>,
    routing: &Routing,
    xff: Xff,
) -> Step {
    let Some(pool) = store.object("pool", pool_uuid) else {
        return Step::Respond(text_response(
            503,
            format!("avi-sim: pool {pool_uuid} does not exist\n"),
        ));
    };
    let servers = balance::servers(&pool.body, view.vs_port);
    if !balance::pool_eligible(&pool.body, view.vs_port) {
        return Step::Respond(text_response(
            503,
            format!("avi-sim: pool '{}' has no enabled server\n", pool.name),
        ));
    }
    let algorithm = pool.body.get("lb_algorithm").and_then(Value::as_str);
    let Some(server) = dp
        .balancer()
        .pick_server(pool_uuid, algorithm, &servers)
        .and_then(|i| servers.get(i).cloned())
    else {
        return Step::Respond(text_response(503, "avi-sim: no server\n".into()));
    };
    let rewritten = routing
        .plan
        .rewrite
        .as_ref()
        .and_then(|r| r.host.as_deref());
    let host = upstream_host(&pool.body, &server, rewritten);
    let tls_host = host
        .as_deref()
        .map(|h| strip_port(h).to_ascii_lowercase())
        .or_else(|| view.host());
    let tls = match tls::upstream(store, pool, tls_host.as_deref(), server.addr.ip()) {
        Ok(t) => t,
        Err(e) => {
            return Step::Fail {
                pool: (pool.uuid.clone(), pool.name.clone()),
                error: UpstreamError::Setup(e),
            };
        }
    };
    Step::Proxy(Box::new(Upstream {
        pool_uuid: pool.uuid.clone(),
        pool_name: pool.name.clone(),
        server,
        tls,
        host,
        xff,
    }))
}

fn decide(sim: &Sim, dp: &DataPlane, conn: &Conn, view: &RequestView<'_>) -> (Routing, Step) {
    let store = read(sim);
    let routing = route::route(&store, &conn.vs_uuid, conn.sni.as_deref(), view);
    let xff = xff(&store, &conn.vs_uuid);
    let step = match &routing.decision {
        Decision::Close => Step::Close,
        Decision::NotFound => Step::Respond(full(404, Bytes::new())),
        Decision::Respond { status, file } => Step::Respond(match file {
            None => full(*status, Bytes::new()),
            Some((content_type, body)) => {
                let mut r = full(*status, body.clone());
                if let Ok(v) = HeaderValue::from_str(content_type) {
                    r.headers_mut().insert(header::CONTENT_TYPE, v);
                }
                r
            }
        }),
        Decision::Redirect { location, status } => {
            let mut r = full(*status, Bytes::new());
            if let Ok(v) = HeaderValue::from_str(location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Step::Respond(r)
        }
        Decision::Pool(p) => upstream(&store, dp, p, view, &routing, xff),
        Decision::PoolGroup(pg) => {
            let members = store
                .object("poolgroup", pg)
                .map(|g| balance::members(&store, &g.body, view.vs_port))
                .unwrap_or_default();
            let roll = dp.balancer().roll();
            match balance::pick_member(&members, roll) {
                Some(m) => upstream(&store, dp, &m.pool.clone(), view, &routing, xff),
                None => Step::Respond(text_response(
                    503,
                    "avi-sim: no pool of the pool group can take traffic\n".into(),
                )),
            }
        }
    };
    (routing, step)
}

/// Headers that belong to one connection, never forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    for name in HOP_BY_HOP
        .iter()
        .copied()
        .chain(listed.iter().map(String::as_str))
    {
        headers.remove(name);
    }
}

async fn handle(
    sim: Arc<Sim>,
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Closed> {
    let Some(dp) = sim.data_plane.as_ref() else {
        return Err(Closed);
    };
    let (parts, body) = req.into_parts();
    let view = RequestView {
        method: &parts.method,
        version: parts.version,
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        authority: parts.uri.authority().map(|a| a.as_str()),
        vs_port: conn.port,
        vip: conn.vip,
        https: conn.https,
        client_ip: conn.client.ip(),
    };
    let (routing, step) = decide(&sim, dp, &conn, &view);
    let mut response = match step {
        Step::Close => return Err(Closed),
        Step::Respond(r) => r,
        Step::Fail { pool, error } => {
            dp.record_error(&pool.0, &pool.1, None, &error);
            text_response(502, format!("avi-sim: {error}\n"))
        }
        Step::Proxy(up) => {
            let outgoing = outgoing_request(&view, &conn, &routing, &up, body);
            dp.record_attempt(&up.pool_uuid, &up.pool_name, up.server.addr);
            dp.balancer().begin(&up.pool_uuid, up.server.addr);
            let result = forward(&up, outgoing).await;
            dp.balancer().end(&up.pool_uuid, up.server.addr);
            match result {
                Ok(resp) => {
                    dp.record_response(&up.pool_uuid);
                    let (mut parts, body) = resp.into_parts();
                    strip_hop_by_hop(&mut parts.headers);
                    Response::from_parts(parts, body.boxed())
                }
                Err(error) => {
                    tracing::debug!(%error, vs = %routing.vs_name, pool = %up.pool_name, "upstream failed");
                    dp.record_error(&up.pool_uuid, &up.pool_name, Some(up.server.addr), &error);
                    text_response(502, format!("avi-sim: {error}\n"))
                }
            }
        }
    };
    let sets: Vec<&serde_json::Map<String, Value>> = routing.policy_sets.iter().collect();
    let actions =
        policy::response_actions(&sets, &view, response.status().as_u16(), response.headers());
    if !actions.is_empty() {
        let vars = vars(&view, &conn);
        policy::apply_hdr_actions(response.headers_mut(), &actions, &vars);
    }
    Ok(response)
}

fn vars(view: &RequestView<'_>, conn: &Conn) -> Vars {
    Vars {
        client_ip: conn.client.ip().to_string(),
        vs_ip: view.vip.to_string(),
        vs_port: conn.port,
        request_headers: view.headers.clone(),
    }
}

fn outgoing_request(
    view: &RequestView<'_>,
    conn: &Conn,
    routing: &Routing,
    up: &Upstream,
    body: Incoming,
) -> Request<Incoming> {
    let rewrite = routing.plan.rewrite.as_ref();
    let path = rewrite
        .and_then(|r| r.path.clone())
        .unwrap_or_else(|| view.path.to_owned());
    let query = match rewrite {
        Some(r) => r.query.clone(),
        None => view.query.map(str::to_owned),
    };
    let target = match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut headers = view.headers.clone();
    strip_hop_by_hop(&mut headers);
    policy::apply_hdr_actions(&mut headers, &routing.plan.hdr_actions, &vars(view, conn));
    if let Some(h) = up
        .host
        .as_deref()
        .and_then(|h| HeaderValue::from_str(h).ok())
    {
        headers.insert(header::HOST, h);
    }
    if let Some(name) = &up.xff.header {
        let client = conn.client.ip().to_string();
        let existing: Vec<String> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        match up.xff.mode.as_str() {
            "APPEND_TO_THE_XFF_HEADER" if !existing.is_empty() => {
                let joined = format!("{}, {client}", existing.join(", "));
                if let Ok(v) = HeaderValue::from_str(&joined) {
                    headers.insert(name.clone(), v);
                }
            }
            "ADD_NEW_XFF_HEADER" => {
                if let Ok(v) = HeaderValue::from_str(&client) {
                    headers.append(name.clone(), v);
                }
            }
            _ => {
                if let Ok(v) = HeaderValue::from_str(&client) {
                    headers.insert(name.clone(), v);
                }
            }
        }
    }
    if up.xff.proto {
        let proto = if conn.https { "https" } else { "http" };
        headers.insert("x-forwarded-proto", HeaderValue::from_static(proto));
    }
    let mut req = Request::new(body);
    *req.method_mut() = view.method.clone();
    *req.uri_mut() = target
        .parse::<Uri>()
        .unwrap_or_else(|_| Uri::from_static("/"));
    *req.version_mut() = Version::HTTP_11;
    *req.headers_mut() = headers;
    req
}

/// Sends the request to the chosen server, over TLS when the pool says so.
async fn forward(
    up: &Upstream,
    req: Request<Incoming>,
) -> Result<Response<Incoming>, UpstreamError> {
    let addr = up.server.addr;
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(source)) => {
            return Err(UpstreamError::Connect {
                server: addr,
                reason: source.to_string(),
            });
        }
        Err(_) => {
            return Err(UpstreamError::Connect {
                server: addr,
                reason: format!("timed out after {}s", CONNECT_TIMEOUT.as_secs()),
            });
        }
    };
    match &up.tls {
        None => exchange(TokioIo::new(tcp), req, addr).await,
        Some(tls) => {
            let connector = TlsConnector::from(tls.config.clone());
            let handshake = tokio::time::timeout(
                HANDSHAKE_TIMEOUT,
                connector.connect(tls.server_name.clone(), tcp),
            )
            .await;
            let stream = match handshake {
                Ok(Ok(s)) => s,
                Ok(Err(error)) => return Err(classify(addr, &error)),
                Err(_) => {
                    return Err(UpstreamError::Tls {
                        server: addr,
                        reason: format!("timed out after {}s", HANDSHAKE_TIMEOUT.as_secs()),
                    });
                }
            };
            exchange(TokioIo::new(stream), req, addr).await
        }
    }
}

async fn exchange<I>(
    io: I,
    req: Request<Incoming>,
    addr: SocketAddr,
) -> Result<Response<Incoming>, UpstreamError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| classify(addr, &e))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = tx.send(connection.await);
    });
    match sender.send_request(req).await {
        Ok(resp) => Ok(resp),
        Err(error) => {
            // The connection's own error says more (a TLS alert arrives there).
            let conn_error = tokio::time::timeout(Duration::from_millis(200), rx)
                .await
                .ok()
                .and_then(Result::ok)
                .and_then(Result::err);
            Err(match conn_error {
                Some(e) => match classify(addr, &e) {
                    UpstreamError::Http { .. } => classify(addr, &error),
                    tls => tls,
                },
                None => classify(addr, &error),
            })
        }
    }
}

/// The rustls error inside an error chain (io errors wrap it without exposing it as a source).
fn rustls_error<'e>(error: &'e (dyn StdError + 'static)) -> Option<&'e rustls::Error> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        if let Some(t) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(t);
        }
        next = e.source();
    }
    None
}

fn chain_text(error: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut next = error.source();
    while let Some(e) = next {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn classify(addr: SocketAddr, error: &(dyn StdError + 'static)) -> UpstreamError {
    match rustls_error(error) {
        Some(tls) => UpstreamError::Tls {
            server: addr,
            reason: tls_reason(tls),
        },
        None => UpstreamError::Http {
            server: addr,
            reason: chain_text(error),
        },
    }
}

/// An operator's reading of a rustls error.
fn tls_reason(error: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match error {
        E::AlertReceived(
            alert @ (A::BadCertificate
            | A::CertificateRequired
            | A::UnknownCA
            | A::UnsupportedCertificate
            | A::CertificateUnknown
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::AccessDenied),
        ) => format!("peer rejected our certificate (alert {alert:?})"),
        E::AlertReceived(alert) => format!("peer sent alert {alert:?}"),
        E::InvalidCertificate(C::UnknownIssuer) => {
            "server certificate not trusted: not issued by a CA of the pool's PKI profile".into()
        }
        E::InvalidCertificate(C::NotValidForNameContext {
            expected,
            presented,
        }) => format!(
            "server certificate is for {} but the pool checks {}",
            presented.join(", "),
            expected.to_str()
        ),
        E::InvalidCertificate(C::NotValidForName) => {
            "server certificate does not match the name the pool checks".into()
        }
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "server certificate expired".into()
        }
        E::InvalidCertificate(C::Revoked) => "server certificate revoked".into(),
        E::InvalidCertificate(other) => format!("server certificate rejected: {other:?}"),
        E::General(message) => format!("server certificate rejected: {message}"),
        other => other.to_string(),
    }
}
