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
//! when the pool says so. Upstream failures answer 502 and are counted per pool
//! ([`DataPlane::pools`]).
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
mod listeners;
mod matching;
mod policy;
mod proxy;
mod request;
mod route;
mod tls;
mod uri;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use serde::Serialize;
use serde_json::{Value, json};

pub use tls::TlsSetupError;

use crate::api::Sim;
use crate::store::Store;
use balance::Balancer;
use proxy::Key;

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
    /// Upstream failures (connect, TLS, HTTP, TLS setup), each answered 502.
    pub errors: u64,
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
}

struct Running {
    info: Listener,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The Service Engine data plane of one emulated controller; see the [module docs](self).
pub struct DataPlane {
    sim: Weak<Sim>,
    runtime: tokio::runtime::Handle,
    listeners: Mutex<BTreeMap<Key, Running>>,
    stats: Mutex<BTreeMap<String, PoolStats>>,
    balancer: Mutex<Balancer>,
    certs: Arc<tls::CertCache>,
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

impl DataPlane {
    /// A data plane for the emulator behind `sim`, spawning on `runtime`, with load balancing
    /// dice seeded by `seed`.
    pub(crate) fn new(sim: Weak<Sim>, runtime: tokio::runtime::Handle, seed: u64) -> Self {
        DataPlane {
            sim,
            runtime,
            listeners: Mutex::new(BTreeMap::new()),
            stats: Mutex::new(BTreeMap::new()),
            balancer: Mutex::new(Balancer::new(seed)),
            certs: Arc::new(tls::CertCache::default()),
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

    fn stats_of<'m>(
        stats: &'m mut BTreeMap<String, PoolStats>,
        uuid: &str,
        name: &str,
    ) -> &'m mut PoolStats {
        let entry = stats.entry(uuid.to_owned()).or_insert_with(|| PoolStats {
            uuid: uuid.to_owned(),
            ..PoolStats::default()
        });
        name.clone_into(&mut entry.pool);
        entry
    }

    fn record_attempt(&self, uuid: &str, name: &str, server: SocketAddr) {
        let mut stats = lock(&self.stats);
        let s = Self::stats_of(&mut stats, uuid, name);
        s.requests += 1;
        *s.servers.entry(server.to_string()).or_default() += 1;
    }

    fn record_response(&self, uuid: &str) {
        if let Some(s) = lock(&self.stats).get_mut(uuid) {
            s.responses += 1;
        }
    }

    fn record_error(
        &self,
        uuid: &str,
        name: &str,
        server: Option<SocketAddr>,
        error: &UpstreamError,
    ) {
        let mut stats = lock(&self.stats);
        let s = Self::stats_of(&mut stats, uuid, name);
        if server.is_none() {
            // Setup failures never reached a server; they still were requests to the pool.
            s.requests += 1;
        }
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
                let task =
                    self.runtime
                        .spawn(proxy::accept_loop(listener, self.sim.clone(), w.key()));
                tracing::info!(vs = %w.vs_name, vip = %w.vip, port = w.port, %local, "data plane listener open");
                Running {
                    info,
                    task: Some(task),
                }
            }
            Err(note) => {
                tracing::warn!(vs = %w.vs_name, %note, "data plane listener not opened");
                info.note = Some(note);
                Running { info, task: None }
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

    /// Closes every listener for good (the emulator stops).
    pub(crate) fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for r in lock(&self.listeners).values_mut() {
            r.stop();
        }
        lock(&self.listeners).clear();
    }
}
