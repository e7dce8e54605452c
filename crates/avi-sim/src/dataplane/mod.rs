//! The Service Engine data plane: virtual services serve real traffic on loopback, exactly as
//! configured in the store.
//!
//! Every live virtual service (not a virtual hosting child) with `services` and a VIP address
//! gets one listener per (VIP, service port): on the VIP itself when it is a loopback address
//! (127.x, `::1`) and the port can be bound, otherwise on an ephemeral port of 127.0.0.1.
//! [`DataPlane::listeners`] (and `GET /_sim/data-plane`) say which local port serves which
//! VIP:port. Listeners follow every configuration write at once; connections and requests read
//! the store when they arrive, so a change applies to the next request.
//!
//! A request is routed as a Service Engine would: TLS terminated with the virtual service's
//! certificates (chosen by SNI), an enhanced virtual hosting child chosen by `vh_matches`, HTTP
//! policy sets applied (header changes, redirects, rewrites, local responses, content
//! switching), a pool group member chosen by ratio and a server by the pool's algorithm, then
//! proxied over HTTP/1.1 — re-encrypted, with a client certificate and server verification
//! when the pool says so. Upstream failures answer 502 (504 when the server does not connect
//! or start its response within the pool's `server_timeout`, or when that is 0 or absent within
//! [`SimConfig::upstream_timeout`](crate::SimConfig::upstream_timeout), which stands for Avi's
//! 60-minute default) and are counted per pool ([`DataPlane::pools`]).
//!
//! Dropping the emulator (or deleting, disabling or moving a virtual service) closes its
//! listeners and every connection they accepted, keep-alive ones included.
//!
//! ```no_run
//! # async fn demo() -> Result<(), avi_sim::SimError> {
//! let sim = avi_sim::AviSim::builder().data_plane(true).start().await?;
//! // ... create a vsvip, a pool and a virtual service through the REST API ...
//! if let Some(dp) = sim.data_plane() {
//!     for l in dp.listeners() {
//!         println!("{} {}:{} -> {:?}", l.virtual_service, l.vip, l.port, l.local);
//!     }
//! }
//! # Ok(()) }
//! ```

mod balance;
mod client_auth;
mod cors;
mod listeners;
mod lua_table;
mod matching;
mod passthrough;
mod policy;
mod proxy;
mod request;
mod route;
mod scripts;
mod status_redirect;
mod tls;
mod uri;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

pub use tls::TlsSetupError;

use crate::api::Sim;
use crate::config::SimConfig;
use crate::store::Store;
use balance::{Balancer, Server};
use proxy::{Key, SharedListener};

/// One data plane listener: which local socket serves a virtual service's VIP and port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// The virtual service's name.
    pub virtual_service: String,
    /// Its uuid.
    pub vs_uuid: String,
    /// The VIP address (as allocated or configured in the vsvip).
    pub vip: IpAddr,
    /// The service port.
    pub port: u16,
    /// Whether the service terminates TLS (`enable_ssl`).
    pub tls: bool,
    /// The local socket that serves it; `None` when nothing could be bound.
    pub local: Option<SocketAddr>,
    /// Why the listener is not on the VIP itself, or why there is none.
    pub note: Option<String>,
}

/// Traffic a pool received, and how it failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    /// The pool's name.
    pub pool: String,
    /// Its uuid.
    pub uuid: String,
    /// Requests sent (or attempted) to its servers.
    pub requests: u64,
    /// Responses received from its servers.
    pub responses: u64,
    /// Upstream failures (connect, TLS, HTTP, TLS setup, timeout), each answered 502 (504 for
    /// a timeout).
    pub errors: u64,
    /// Requests sent to a server whose client went away before the answer came back: neither
    /// a response nor an error. `requests == responses + errors + cancelled` once nothing is
    /// in flight.
    pub cancelled: u64,
    /// The last failure, as an operator would read it.
    pub last_error: Option<String>,
    /// Requests per server address.
    pub servers: BTreeMap<String, u64>,
}

/// Why a request could not be proxied to a pool server (answered 502).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The TCP connection failed.
    #[error("{server}: connect failed: {reason}")]
    Connect {
        /// The server.
        server: SocketAddr,
        /// The cause.
        reason: String,
    },
    /// The TLS handshake (or the peer's verdict on our certificate) failed.
    #[error("{server}: TLS handshake failed: {reason}")]
    Tls {
        /// The server.
        server: SocketAddr,
        /// The cause, e.g. `peer rejected our certificate (alert CertificateRequired)`.
        reason: String,
    },
    /// The HTTP exchange failed.
    #[error("{server}: HTTP exchange failed: {reason}")]
    Http {
        /// The server.
        server: SocketAddr,
        /// The cause.
        reason: String,
    },
    /// The pool's TLS settings cannot be used (missing key, no common TLS version...).
    #[error("TLS setup failed: {0}")]
    Setup(#[from] TlsSetupError),
    /// The server accepted the request but sent no response head in time (answered 504).
    #[error("{server}: no response within {}", humane(*after))]
    Timeout {
        /// The server.
        server: SocketAddr,
        /// How long the data plane waited ([`SimConfig::upstream_timeout`]).
        after: Duration,
    },
}

impl UpstreamError {
    /// The status the client is answered: 504 for a timeout, else 502.
    pub fn status(&self) -> u16 {
        match self {
            UpstreamError::Timeout { .. } => 504,
            _ => 502,
        }
    }
}

/// `30s`, `250ms`: durations as an operator writes them.
fn humane(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

struct Running {
    info: Listener,
    /// The socket, also held by the accept loop: closed here, synchronously, on stop.
    socket: Option<SharedListener>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    fn stop(&mut self) {
        // Aborting the task drops its socket only when the runtime next polls it; a virtual
        // service re-created on the same VIP:port in the same reconcile must find the port free.
        if let Some(s) = self.socket.take() {
            s.close();
        }
        // The task owns the connections (a JoinSet): aborting it closes them all.
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

type StatsMap = BTreeMap<String, PoolStats>;

/// The Service Engine data plane of one emulated controller; see the [module docs](self).
pub struct DataPlane {
    sim: Weak<Sim>,
    runtime: tokio::runtime::Handle,
    upstream_timeout: Duration,
    listeners: Mutex<BTreeMap<Key, Running>>,
    // Shared with the requests in flight (`InFlight`), which settle their counts on drop.
    stats: Arc<Mutex<StatsMap>>,
    balancer: Arc<Mutex<Balancer>>,
    certs: Arc<tls::CertCache>,
    upstream_tls: tls::ClientConfigCache,
    closed: AtomicBool,
}

impl std::fmt::Debug for DataPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataPlane")
            .field("listeners", &self.listeners().len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn stats_of<'m>(stats: &'m mut StatsMap, uuid: &str, name: &str) -> &'m mut PoolStats {
    let entry = stats.entry(uuid.to_owned()).or_insert_with(|| PoolStats {
        uuid: uuid.to_owned(),
        ..PoolStats::default()
    });
    name.clone_into(&mut entry.pool);
    entry
}

/// One request to one pool server, from the pick until it is dropped.
///
/// It counts in the balancer's load (least connections) all along and ends when dropped, so a
/// request whose client went away mid-way (its future dropped) still ends. A request that was
/// sent and then dropped before its outcome was recorded counts as
/// [`cancelled`](PoolStats::cancelled).
pub(crate) struct InFlight {
    balancer: Arc<Mutex<Balancer>>,
    stats: Arc<Mutex<StatsMap>>,
    pool_uuid: String,
    pool_name: String,
    server: SocketAddr,
    sent: bool,
    settled: bool,
}

impl InFlight {
    /// The request goes to the server now.
    fn record_sent(&mut self) {
        let mut stats = lock(&self.stats);
        let s = stats_of(&mut stats, &self.pool_uuid, &self.pool_name);
        s.requests += 1;
        *s.servers.entry(self.server.to_string()).or_default() += 1;
        self.sent = true;
    }

    /// The server answered.
    fn record_response(&mut self) {
        if let Some(s) = lock(&self.stats).get_mut(&self.pool_uuid) {
            s.responses += 1;
        }
        self.settled = true;
    }

    /// The exchange with the server failed.
    fn record_error(&mut self, error: &UpstreamError) {
        let mut stats = lock(&self.stats);
        let s = stats_of(&mut stats, &self.pool_uuid, &self.pool_name);
        s.errors += 1;
        s.last_error = Some(error.to_string());
        self.settled = true;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.balancer).end(&self.pool_uuid, self.server);
        if self.sent && !self.settled {
            let mut stats = lock(&self.stats);
            stats_of(&mut stats, &self.pool_uuid, &self.pool_name).cancelled += 1;
        }
    }
}

impl DataPlane {
    /// A data plane for the emulator behind `sim`, spawning on `runtime`, with load balancing
    /// dice seeded by `config.seed`, waiting `config.upstream_timeout` at most for a server's
    /// answer.
    pub(crate) fn new(sim: Weak<Sim>, runtime: tokio::runtime::Handle, config: &SimConfig) -> Self {
        DataPlane {
            sim,
            runtime,
            upstream_timeout: config.upstream_timeout,
            listeners: Mutex::new(BTreeMap::new()),
            stats: Arc::new(Mutex::new(BTreeMap::new())),
            balancer: Arc::new(Mutex::new(Balancer::new(config.seed))),
            certs: Arc::new(tls::CertCache::default()),
            upstream_tls: tls::ClientConfigCache::default(),
            closed: AtomicBool::new(false),
        }
    }

    /// Every listener, by virtual service name, VIP and port.
    pub fn listeners(&self) -> Vec<Listener> {
        let mut all: Vec<Listener> = lock(&self.listeners)
            .values()
            .map(|r| r.info.clone())
            .collect();
        all.sort_by(|a, b| {
            (&a.virtual_service, a.vip, a.port).cmp(&(&b.virtual_service, b.vip, b.port))
        });
        all
    }

    /// The local socket that serves `vip`:`port`, if any virtual service listens there.
    ///
    /// ```no_run
    /// # fn demo(sim: &avi_sim::RunningSim) -> Option<()> {
    /// let local = sim.data_plane()?.local_addr("10.250.250.1".parse().ok()?, 443)?;
    /// println!("curl -k --resolve app.example.com:443:{} https://app.example.com/", local.ip());
    /// # Some(()) }
    /// ```
    pub fn local_addr(&self, vip: IpAddr, port: u16) -> Option<SocketAddr> {
        lock(&self.listeners)
            .values()
            .find(|r| r.info.vip == vip && r.info.port == port)
            .and_then(|r| r.info.local)
    }

    /// Traffic and failures of every pool that received a request, by pool name.
    pub fn pools(&self) -> Vec<PoolStats> {
        let mut all: Vec<PoolStats> = lock(&self.stats).values().cloned().collect();
        all.sort_by(|a, b| a.pool.cmp(&b.pool));
        all
    }

    /// Traffic and failures of the pool named `name` (zero when it received nothing yet).
    pub fn pool(&self, name: &str) -> PoolStats {
        lock(&self.stats)
            .values()
            .find(|p| p.pool == name)
            .cloned()
            .unwrap_or_else(|| PoolStats {
                pool: name.to_owned(),
                ..PoolStats::default()
            })
    }

    /// Forgets every pool's counters.
    pub fn reset_stats(&self) {
        lock(&self.stats).clear();
    }

    /// What `GET /_sim/data-plane` answers.
    pub(crate) fn status(dp: Option<&DataPlane>) -> Value {
        match dp {
            None => json!({"enabled": false, "listeners": [], "pools": []}),
            Some(dp) => json!({"enabled": true, "listeners": dp.listeners(), "pools": dp.pools()}),
        }
    }

    fn balancer(&self) -> MutexGuard<'_, Balancer> {
        lock(&self.balancer)
    }

    /// Picks the server of `pool` that takes the next request, and counts the request in the
    /// pool's load at once (under the same lock, so two concurrent picks see each other) until
    /// the returned [`InFlight`] is dropped.
    fn pick_server(
        &self,
        pool: &crate::store::Object,
        algorithm: Option<&str>,
        servers: &[Server],
    ) -> Option<(Server, InFlight)> {
        let server = {
            let mut balancer = self.balancer();
            let i = balancer.pick_server(&pool.uuid, algorithm, servers)?;
            let server = servers.get(i)?.clone();
            balancer.begin(&pool.uuid, server.addr);
            server
        };
        let in_flight = InFlight {
            balancer: self.balancer.clone(),
            stats: self.stats.clone(),
            pool_uuid: pool.uuid.clone(),
            pool_name: pool.name.clone(),
            server: server.addr,
            sent: false,
            settled: false,
        };
        Some((server, in_flight))
    }

    /// A request to the pool failed before reaching a server (TLS setup).
    fn record_setup_error(&self, uuid: &str, name: &str, error: &UpstreamError) {
        let mut stats = lock(&self.stats);
        let s = stats_of(&mut stats, uuid, name);
        // Setup failures never reached a server; they still were requests to the pool.
        s.requests += 1;
        s.errors += 1;
        s.last_error = Some(error.to_string());
    }

    /// Opens and closes listeners so that they match `store`. Runs after every write.
    pub(crate) fn reconcile(&self, store: &Store) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let wanted = listeners::wanted(store);
        let mut running = lock(&self.listeners);
        running.retain(|key, r| {
            let keep = wanted.iter().any(|w| w.key() == *key);
            if !keep {
                r.stop();
            }
            keep
        });
        for w in wanted {
            match running.get_mut(&w.key()) {
                Some(r) => {
                    r.info.virtual_service.clone_from(&w.vs_name);
                    r.info.tls = w.tls;
                    if r.task.is_none() {
                        *r = self.open(&w);
                    }
                }
                None => {
                    let r = self.open(&w);
                    running.insert(w.key(), r);
                }
            }
        }
    }

    fn open(&self, w: &listeners::Wanted) -> Running {
        let mut info = Listener {
            virtual_service: w.vs_name.clone(),
            vs_uuid: w.vs_uuid.clone(),
            vip: w.vip,
            port: w.port,
            tls: w.tls,
            local: None,
            note: None,
        };
        match self.bind(w) {
            Ok((listener, local, note)) => {
                info.local = Some(local);
                info.note = note;
                let socket = SharedListener::new(listener);
                let task = self.runtime.spawn(proxy::accept_loop(
                    socket.clone(),
                    self.sim.clone(),
                    w.key(),
                ));
                tracing::info!(vs = %w.vs_name, vip = %w.vip, port = w.port, %local, "data plane listener open");
                Running {
                    info,
                    socket: Some(socket),
                    task: Some(task),
                }
            }
            Err(note) => {
                tracing::warn!(vs = %w.vs_name, %note, "data plane listener not opened");
                info.note = Some(note);
                Running {
                    info,
                    socket: None,
                    task: None,
                }
            }
        }
    }

    /// Binds the VIP itself when it is a loopback address, else (or when that fails) an
    /// ephemeral port on 127.0.0.1.
    fn bind(
        &self,
        w: &listeners::Wanted,
    ) -> Result<(tokio::net::TcpListener, SocketAddr, Option<String>), String> {
        let _entered = self.runtime.enter();
        let listen = |addr: SocketAddr| -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
            let socket = if addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            let listener = socket.listen(1024)?;
            let local = listener.local_addr()?;
            Ok((listener, local))
        };
        let mut note = None;
        if w.vip.is_loopback() {
            let on_vip = SocketAddr::new(w.vip, w.port);
            match listen(on_vip) {
                Ok((l, local)) => return Ok((l, local, None)),
                Err(e) => {
                    note = Some(format!(
                        "{on_vip} cannot be bound ({e}); served on a mapped loopback port"
                    ));
                }
            }
        }
        listen(SocketAddr::from(([127, 0, 0, 1], 0)))
            .map(|(l, local)| (l, local, note))
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))
    }

    /// Closes every listener and connection for good (the emulator stops).
    pub(crate) fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let mut listeners = lock(&self.listeners);
        for r in listeners.values_mut() {
            r.stop();
        }
        listeners.clear();
    }
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        // The emulator went away without a shutdown: nothing it started may outlive it.
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ADMIN, TenantScope, WriteOptions};
    use serde_json::json;

    fn pool(s: &mut Store) -> crate::store::Object {
        s.create(
            "pool",
            json!({"name": "p", "servers": [
                {"ip": {"addr": "10.0.0.1", "type": "V4"}, "port": 80},
                {"ip": {"addr": "10.0.0.2", "type": "V4"}, "port": 80}]}),
            &TenantScope::One(ADMIN.into()),
            None,
            &WriteOptions::default(),
        )
        .unwrap()
        .clone()
    }

    #[tokio::test]
    async fn a_request_dropped_mid_way_ends_and_counts_as_cancelled() {
        let dp = DataPlane::new(
            Weak::new(),
            tokio::runtime::Handle::current(),
            &SimConfig::default(),
        );
        let mut s = Store::new().unwrap();
        let pool = pool(&mut s);
        let servers = balance::servers(&pool.body, 80);
        let load = |addr: SocketAddr| dp.balancer().in_flight(&pool.uuid, addr);

        let (busy, mut dropped) = dp.pick_server(&pool, None, &servers).unwrap();
        assert_eq!(load(busy.addr), 1, "picked and counted under one lock");
        dropped.record_sent();
        // Least connections sees the request in flight at once.
        let (other, mut answered) = dp.pick_server(&pool, None, &servers).unwrap();
        assert_ne!(other.addr, busy.addr);
        answered.record_sent();
        answered.record_response();
        drop(answered);
        // Picked, then TLS setup failed: never sent, so not cancelled either.
        let (_, unsent) = dp.pick_server(&pool, None, &servers).unwrap();
        drop(unsent);
        // The client went away: the handler's future, and the request with it, is dropped.
        drop(dropped);

        assert_eq!((load(busy.addr), load(other.addr)), (0, 0));
        let stats = dp.pool("p");
        assert_eq!(
            (
                stats.requests,
                stats.responses,
                stats.errors,
                stats.cancelled
            ),
            (2, 1, 0, 1)
        );
    }

    #[test]
    fn timeouts_are_told_apart_from_other_failures() {
        let server = SocketAddr::from(([127, 0, 0, 1], 8080));
        let timeout = UpstreamError::Timeout {
            server,
            after: Duration::from_millis(250),
        };
        assert_eq!(timeout.status(), 504);
        assert_eq!(
            timeout.to_string(),
            "127.0.0.1:8080: no response within 250ms"
        );
        let slow = UpstreamError::Timeout {
            server,
            after: Duration::from_secs(30),
        };
        assert_eq!(slow.to_string(), "127.0.0.1:8080: no response within 30s");
        let refused = UpstreamError::Connect {
            server,
            reason: "connection refused".into(),
        };
        assert_eq!(refused.status(), 502);
    }
}
