//! The I/O shell of the data plane: accept loops, client connections (plain or TLS), and
//! proxying to pool servers with hyper. Every decision is taken by the pure modules from the
//! store as it is when the connection or request arrives.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::balance::{self, Server};
use super::policy::{self, Vars};
use super::request::{RequestView, strip_port};
use super::route::{self, Decision, Routing};
use super::tls::{self, UpstreamTls};
use super::{DataPlane, InFlight, UpstreamError};
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

/// A listening socket shared by a listener's handle and its accept loop, so that the handle
/// can close it synchronously: an aborted task drops what it owns only when the runtime next
/// gets to it, and a virtual service re-created on the same VIP:port in the same reconcile must
/// find the port free.
#[derive(Clone)]
pub struct SharedListener(Arc<Mutex<Option<TcpListener>>>);

impl SharedListener {
    /// Shares `listener`.
    pub fn new(listener: TcpListener) -> Self {
        SharedListener(Arc::new(Mutex::new(Some(listener))))
    }

    /// Closes the socket now; the accept loop then ends.
    pub fn close(&self) {
        let closed = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(closed);
    }

    /// The next connection; `None` once the socket is closed.
    async fn accept(&self) -> Option<std::io::Result<(TcpStream, SocketAddr)>> {
        std::future::poll_fn(|cx| {
            // The lock is held for one poll only, never across an await.
            let guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            match guard.as_ref() {
                None => Poll::Ready(None),
                Some(listener) => listener.poll_accept(cx).map(Some),
            }
        })
        .await
    }
}

/// Accepts connections until the socket is closed, the task is aborted or the emulator is
/// gone. The task owns its connections: when it ends or is aborted, they are all closed.
pub async fn accept_loop(listener: SharedListener, sim: Weak<Sim>, key: Key) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                None => return,
                Some(Ok((stream, peer))) => {
                    if sim.strong_count() == 0 {
                        return;
                    }
                    connections.spawn(connection(sim.clone(), key.clone(), stream, peer));
                }
                Some(Err(error)) => {
                    // EMFILE and friends: back off instead of spinning; the listener stays.
                    tracing::warn!(%error, "data plane accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            // Reap finished connections so the set does not grow with every client.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
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

/// One client connection. It holds the emulator weakly (upgraded per request), so an open
/// keep-alive connection never keeps a stopped emulator's store alive.
async fn connection(sim: Weak<Sim>, key: Key, stream: TcpStream, client: SocketAddr) {
    let (vs_uuid, vip, port) = key;
    // TLS or not, and HTTP/2 or not, are decided per connection, from the service as
    // configured now.
    // A layer-4 virtual service proxies TCP (TLS passed through), not HTTP.
    let l4 = sim
        .upgrade()
        .is_some_and(|strong| super::passthrough::is_l4(&read(&strong), &vs_uuid));
    if l4 {
        super::passthrough::serve(sim, vs_uuid, port, stream).await;
        return;
    }
    let http2;
    let server_config = {
        let Some(strong) = sim.upgrade() else {
            return;
        };
        let Some(dp) = strong.data_plane.as_ref() else {
            return;
        };
        let store = read(&strong);
        http2 = route::service_http2(&store, &vs_uuid, port);
        match route::service_tls(&store, &vs_uuid, port) {
            None => return,
            Some(false) => None,
            Some(true) => match tls::server_config(&strong, &store, &vs_uuid, port, &dp.certs) {
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
        // A plain port with `enable_http2` takes h2c with prior knowledge, and HTTP/1.1.
        None => serve(TokioIo::new(stream), sim, conn, http2).await,
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
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
            serve(TokioIo::new(tls), sim, conn, h2).await;
        }
    }
}

async fn serve<I>(io: I, sim: Weak<Sim>, conn: Conn, http2: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let conn = Arc::new(conn);
    let service = hyper::service::service_fn(move |req| handle(sim.clone(), conn.clone(), req));
    if http2 {
        let mut builder =
            hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
        builder.http1().timer(TokioTimer::new());
        builder.http2().timer(TokioTimer::new());
        let result = builder.serve_connection_with_upgrades(io, service).await;
        if let Err(error) = result {
            tracing::debug!(%error, "data plane connection ended");
        }
        return;
    }
    let result = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(io, service)
        .with_upgrades()
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
    pool_name: String,
    server: Server,
    /// Counts the request in the server's load until dropped.
    in_flight: InFlight,
    tls: Option<UpstreamTls>,
    /// The Host header to send, when it differs from the client's.
    host: Option<String>,
    xff: Xff,
    /// The pool's `server_timeout`, when set (0 is Avi's default, which the emulator's
    /// configured upstream timeout stands for).
    server_timeout: Option<Duration>,
    /// The pool's `enable_http2`: HTTP/2 to the server (with prior knowledge in plain text).
    http2: bool,
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
    let Some((server, in_flight)) = dp.pick_server(pool, algorithm, &servers) else {
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
    let tls = match tls::upstream(
        store,
        pool,
        tls_host.as_deref(),
        server.addr.ip(),
        &dp.upstream_tls,
    ) {
        Ok(t) => t,
        Err(e) => {
            return Step::Fail {
                pool: (pool.uuid.clone(), pool.name.clone()),
                error: UpstreamError::Setup(e),
            };
        }
    };
    let server_timeout = pool
        .body
        .get("server_timeout")
        .and_then(Value::as_u64)
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis);
    let http2 = pool.body.get("enable_http2").and_then(Value::as_bool) == Some(true);
    Step::Proxy(Box::new(Upstream {
        pool_name: pool.name.clone(),
        server,
        in_flight,
        tls,
        host,
        xff,
        server_timeout,
        http2,
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
        Decision::Script { status, headers } => {
            let mut r = full(*status, Bytes::new());
            for (k, v) in headers {
                if let (Ok(k), Ok(v)) = (
                    header::HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    r.headers_mut().append(k, v);
                }
            }
            Step::Respond(r)
        }
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
    sim: Weak<Sim>,
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Closed> {
    // The emulator is gone: the connection closes instead of serving a stale configuration.
    let Some(sim) = sim.upgrade() else {
        return Err(Closed);
    };
    let Some(dp) = sim.data_plane.as_ref() else {
        return Err(Closed);
    };
    let mut req = req;
    // A WebSocket handshake keeps its Upgrade headers and, once the server switches
    // protocols, becomes a tunnel (the application profile's `websockets_enabled`, on by
    // default).
    let client_upgrade = (is_websocket_upgrade(req.headers())
        && websockets_enabled(&read(&sim), &conn.vs_uuid))
    .then(|| hyper::upgrade::on(&mut req));
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
    // Response DataScripts run on what a server answered, not on the Service Engine's own
    // error answers (those are RESP_FAILED on Avi).
    let mut from_server = false;
    let mut response = match step {
        Step::Close => return Err(Closed),
        Step::Respond(r) => r,
        Step::Fail { pool, error } => {
            dp.record_setup_error(&pool.0, &pool.1, &error);
            text_response(error.status(), format!("avi-sim: {error}\n"))
        }
        Step::Proxy(mut up) => {
            let mut outgoing = outgoing_request(&view, &conn, &routing, &up, body);
            if client_upgrade.is_some() {
                let h = outgoing.headers_mut();
                h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
                h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            }
            up.in_flight.record_sent();
            // If the client goes away now, this future is dropped with `up`: the request
            // ends in the balancer and counts as cancelled.
            let timeout = up.server_timeout.unwrap_or(dp.upstream_timeout);
            let result = forward(&up, outgoing, timeout).await;
            match result {
                Ok(resp)
                    if resp.status() == StatusCode::SWITCHING_PROTOCOLS
                        && client_upgrade.is_some() =>
                {
                    up.in_flight.record_response();
                    let mut head = Response::builder().status(StatusCode::SWITCHING_PROTOCOLS);
                    for (k, v) in resp.headers() {
                        head = head.header(k, v);
                    }
                    if let Some(client) = client_upgrade {
                        tokio::spawn(tunnel(client, resp));
                    }
                    head.body(
                        Full::new(Bytes::new())
                            .map_err(|never: Infallible| match never {})
                            .boxed(),
                    )
                    .unwrap_or_else(|_| text_response(502, "avi-sim: bad upgrade\n".into()))
                }
                Ok(resp) => {
                    up.in_flight.record_response();
                    from_server = true;
                    let (mut parts, body) = resp.into_parts();
                    strip_hop_by_hop(&mut parts.headers);
                    Response::from_parts(parts, body.boxed())
                }
                Err(error) => {
                    tracing::debug!(%error, vs = %routing.vs_name, pool = %up.pool_name, "upstream failed");
                    up.in_flight.record_error(&error);
                    text_response(error.status(), format!("avi-sim: {error}\n"))
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
    for (k, v) in routing.response_headers.iter().filter(|_| from_server) {
        if let (Ok(name), Ok(v)) = (
            header::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            if name == header::VARY {
                response.headers_mut().append(name, v);
            } else {
                response.headers_mut().insert(name, v);
            }
        }
    }
    Ok(response)
}

/// `Connection: upgrade` with `Upgrade: websocket` (RFC 6455 §4.1).
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "websocket")
}

/// The listener's application profile lets WebSockets through (`websockets_enabled`, which
/// the controller defaults to true).
fn websockets_enabled(store: &Store, vs_uuid: &str) -> bool {
    store
        .object("virtualservice", vs_uuid)
        .and_then(|vs| vs.body.get("application_profile_ref"))
        .and_then(Value::as_str)
        .and_then(route::uuid_of)
        .and_then(|u| store.object("applicationprofile", &u))
        .and_then(|p| p.body.get("http_profile"))
        .and_then(|h| h.get("websockets_enabled"))
        .and_then(Value::as_bool)
        != Some(false)
}

/// Copies bytes both ways between the client and the server once both connections have
/// switched protocols; ends when either side closes. The server's response (and with it the
/// upstream connection's driver) lives until then.
async fn tunnel(client: hyper::upgrade::OnUpgrade, mut server: Response<UpstreamBody>) {
    let server_side = hyper::upgrade::on(&mut server);
    let (client, server_io) = match tokio::join!(client, server_side) {
        (Ok(c), Ok(s)) => (c, s),
        (c, s) => {
            tracing::debug!(
                client = c.is_ok(),
                server = s.is_ok(),
                "WebSocket upgrade failed"
            );
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut server_io = TokioIo::new(server_io);
    if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut server_io).await {
        tracing::debug!(%error, "WebSocket tunnel ended");
    }
    drop(server);
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
    // An HTTP/2 client names the host in `:authority`; an HTTP/1.1 server needs Host.
    if !headers.contains_key(header::HOST)
        && let Some(a) = view.authority.and_then(|a| HeaderValue::from_str(a).ok())
    {
        headers.insert(header::HOST, a);
    }
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

/// Sends the request to the chosen server, over TLS when the pool says so; waits at most
/// `timeout` for the connection and again for the response head once the request is sent (a
/// pool's `server_timeout` covers both, as Avi's does).
async fn forward(
    up: &Upstream,
    req: Request<Incoming>,
    timeout: Duration,
) -> Result<Response<UpstreamBody>, UpstreamError> {
    let addr = up.server.addr;
    let connect_within = CONNECT_TIMEOUT.min(timeout);
    let tcp = match tokio::time::timeout(connect_within, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(source)) => {
            return Err(UpstreamError::Connect {
                server: addr,
                reason: source.to_string(),
            });
        }
        Err(_) if connect_within < CONNECT_TIMEOUT => {
            return Err(UpstreamError::Timeout {
                server: addr,
                after: timeout,
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
        None => {
            exchange(
                TokioIo::new(tcp),
                req,
                addr,
                timeout,
                up.http2 && up.tls.is_none(),
            )
            .await
        }
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
            exchange(TokioIo::new(stream), req, addr, timeout, false).await
        }
    }
}

/// The task driving one upstream connection; aborted (the connection closed) when dropped.
struct Driver(JoinHandle<()>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A server's response body, streamed to the client. It owns the upstream connection's
/// driver: the connection lives exactly as long as the body is read, and closes when the
/// body is done or dropped (the client went away).
pub struct UpstreamBody {
    inner: Incoming,
    _driver: Driver,
}

impl hyper::body::Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// One upstream connection's request side.
enum Sender {
    Http1(hyper::client::conn::http1::SendRequest<Incoming>),
    Http2(hyper::client::conn::http2::SendRequest<Incoming>),
}

impl Sender {
    async fn send_request(
        &mut self,
        mut req: Request<Incoming>,
    ) -> Result<Response<Incoming>, hyper::Error> {
        match self {
            Sender::Http1(s) => s.send_request(req).await,
            Sender::Http2(s) => {
                // HTTP/2 carries the authority in the request line: the Host header becomes
                // `:authority`.
                let authority = req
                    .headers_mut()
                    .remove(header::HOST)
                    .and_then(|h| h.to_str().ok().map(str::to_owned));
                let path = req
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                if let Some(uri) =
                    authority.and_then(|a| format!("http://{a}{path}").parse::<Uri>().ok())
                {
                    *req.uri_mut() = uri;
                }
                *req.version_mut() = Version::HTTP_2;
                s.send_request(req).await
            }
        }
    }
}

async fn exchange<I>(
    io: I,
    req: Request<Incoming>,
    addr: SocketAddr,
    timeout: Duration,
    http2: bool,
) -> Result<Response<UpstreamBody>, UpstreamError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (mut sender, driver) = if http2 {
        // h2c with prior knowledge, as a pool with `enable_http2` speaks to a plain server.
        let (sender, connection) =
            hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
                .await
                .map_err(|e| classify(addr, &e))?;
        let driver = Driver(tokio::spawn(async move {
            let _ = tx.send(connection.await);
        }));
        (Sender::Http2(sender), driver)
    } else {
        let (sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| classify(addr, &e))?;
        // Every return below drops the driver, which closes the connection: a server that
        // never answers does not keep a task and a socket forever.
        let driver = Driver(tokio::spawn(async move {
            let _ = tx.send(connection.with_upgrades().await);
        }));
        (Sender::Http1(sender), driver)
    };
    let sent = match tokio::time::timeout(timeout, sender.send_request(req)).await {
        Ok(sent) => sent,
        Err(_) => {
            return Err(UpstreamError::Timeout {
                server: addr,
                after: timeout,
            });
        }
    };
    match sent {
        Ok(resp) => Ok(resp.map(|inner| UpstreamBody {
            inner,
            _driver: driver,
        })),
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
