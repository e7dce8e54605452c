//! avi-sim: an Avi Controller emulator that real clients accept.
//!
//! A stateful REST control plane — login with sessions and CSRF, tenants, the object API with
//! references kept consistent, certificate parsing, validation and defaults from the official
//! 30.2.1 schema — plus fault injection and a request journal for tests; and, when asked for,
//! a Service Engine data plane ([`dataplane`]) that serves the configured virtual services'
//! traffic on loopback. It shares no code with the product's Avi client: a shared bug would
//! agree with itself.
//!
//! ```no_run
//! # async fn demo() -> Result<(), avi_sim::SimError> {
//! let sim = avi_sim::AviSim::builder().start().await?;
//! println!("controller at {} (admin / {})", sim.base_url(), sim.config().password);
//! sim.add_fault(avi_sim::FaultRule { object_type: Some("pool".into()), error_rate: 0.5,
//!     status: 503, ..Default::default() });
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod certs;
pub mod config;
pub mod dataplane;
pub mod faults;
pub mod persist;
pub mod schema;
pub mod server;
pub mod session;
pub mod store;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use config::SimConfig;
pub use dataplane::{DataPlane, Listener, PoolStats, UpstreamError};
pub use faults::{Counter, FaultRule, LogEntry};
pub use store::{Object, Store};

use api::Sim;
use faults::{Faults, Journal};
use session::Sessions;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate could not be made.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The state file could not be loaded.
    #[error(transparent)]
    State(#[from] persist::PersistError),
    /// The seeded configuration could not be built (a bug in the emulator).
    #[error("cannot seed the configuration: {0}")]
    Seed(String),
}

/// Builds an emulated controller.
#[derive(Debug, Clone, Default)]
pub struct AviSimBuilder {
    config: SimConfig,
    listen: Option<SocketAddr>,
}

/// Entry point.
pub struct AviSim;

impl AviSim {
    /// A builder with the defaults: admin / avi123, plain HTTP on an ephemeral 127.0.0.1 port.
    pub fn builder() -> AviSimBuilder {
        AviSimBuilder::default()
    }
}

impl AviSimBuilder {
    /// Replaces the whole configuration.
    pub fn config(mut self, config: SimConfig) -> Self {
        self.config = config;
        self
    }
    /// Credentials of the admin user.
    pub fn credentials(mut self, username: &str, password: &str) -> Self {
        self.config.username = username.to_owned();
        self.config.password = password.to_owned();
        self
    }
    /// Serve HTTPS with a generated certificate.
    pub fn tls(mut self, on: bool) -> Self {
        self.config.tls = on;
        self
    }
    /// Session idle timeout (short in tests).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.config.idle_timeout = d;
        self
    }
    /// Listen address (default `127.0.0.1:0`).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }
    /// Run the Service Engine data plane (default off in the library): virtual services
    /// serve traffic on loopback, see [`dataplane`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), avi_sim::SimError> {
    /// let sim = avi_sim::AviSim::builder().data_plane(true).start().await?;
    /// assert!(sim.data_plane().is_some());
    /// # Ok(()) }
    /// ```
    pub fn data_plane(mut self, on: bool) -> Self {
        self.config.data_plane = on;
        self
    }
    /// How long the data plane waits for a pool server's answer (default 30 s), see
    /// [`SimConfig::upstream_timeout`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), avi_sim::SimError> {
    /// use std::time::Duration;
    /// let sim = avi_sim::AviSim::builder()
    ///     .data_plane(true)
    ///     .upstream_timeout(Duration::from_secs(2))
    ///     .start()
    ///     .await?;
    /// assert_eq!(sim.config().upstream_timeout, Duration::from_secs(2));
    /// # Ok(()) }
    /// ```
    pub fn upstream_timeout(mut self, d: Duration) -> Self {
        self.config.upstream_timeout = d;
        self
    }

    /// Starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<RunningSim, SimError> {
        let store = match &self.config.state_file {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let store = match store {
            Some(s) => s,
            None => Store::new().map_err(|e| SimError::Seed(e.message))?,
        };
        let (tls, ca_pem) = if self.config.tls {
            let (acceptor, pem) = server::tls_acceptor()?;
            (Some(acceptor), Some(pem))
        } else {
            (None, None)
        };
        let addr = self
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = server::bind(addr).await?;
        let local = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        let runtime = tokio::runtime::Handle::current();
        let sim = Arc::new_cyclic(|me| Sim {
            faults: Mutex::new(Faults::new(self.config.seed)),
            journal: Mutex::new(Journal::new(self.config.log_capacity)),
            sessions: Mutex::new(Sessions::default()),
            store: RwLock::new(store),
            scheme: if tls.is_some() { "https" } else { "http" },
            password: Mutex::new(self.config.password.clone()),
            singletons: Mutex::new(std::collections::HashMap::new()),
            data_plane: self
                .config
                .data_plane
                .then(|| DataPlane::new(me.clone(), runtime, &self.config)),
            config: self.config,
        });
        if let Some(dp) = &sim.data_plane {
            // A reloaded state file may already hold virtual services.
            let store = sim
                .store
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            dp.reconcile(&store);
        }
        let task = tokio::spawn(server::run(listener, sim.clone(), tls));
        Ok(RunningSim {
            sim,
            addr: local,
            ca_pem,
            task,
        })
    }
}

/// A running emulated controller. Dropping it stops it.
pub struct RunningSim {
    sim: Arc<Sim>,
    addr: SocketAddr,
    ca_pem: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSim")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(dp) = &self.sim.data_plane {
            dp.shutdown();
        }
    }
}

impl RunningSim {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT` or `https://...`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.sim.scheme, self.addr)
    }
    /// The settings in force.
    pub fn config(&self) -> &SimConfig {
        &self.sim.config
    }
    /// The self-signed certificate clients must trust, when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }
    /// Adds a fault rule.
    pub fn add_fault(&self, rule: FaultRule) {
        self.sim.faults().add(rule);
    }
    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.sim.faults().clear();
    }
    /// Ends every session now; returns how many there were.
    pub fn expire_sessions(&self) -> usize {
        self.sim
            .sessions
            .lock()
            .map(|mut s| s.expire_all())
            .unwrap_or(0)
    }
    /// Request counters per method, type and status.
    pub fn counters(&self) -> Vec<Counter> {
        self.sim.journal().counters()
    }
    /// Requests of a method and type (any status when None).
    pub fn count(&self, method: &str, object_type: &str, status: Option<u16>) -> u64 {
        self.sim.journal().count(method, object_type, status)
    }
    /// The request log, oldest first.
    pub fn request_log(&self) -> Vec<LogEntry> {
        self.sim.journal().log()
    }
    /// Forgets the log and counters.
    pub fn clear_log(&self) {
        self.sim.journal().clear();
    }
    /// Reads the configuration: `sim.with_store(|s| s.count("pool"))`.
    pub fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        let store = self
            .sim
            .store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&store)
    }
    /// Changes the configuration directly (seeding large test sets without HTTP). The data
    /// plane follows the change as it follows REST writes.
    pub fn with_store_mut<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut store = self
            .sim
            .store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let out = f(&mut store);
        if let Some(dp) = &self.sim.data_plane {
            dp.reconcile(&store);
        }
        out
    }
    /// The Service Engine data plane, when it runs ([`AviSimBuilder::data_plane`]).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), avi_sim::SimError> {
    /// let sim = avi_sim::AviSim::builder().data_plane(true).start().await?;
    /// let dp = sim.data_plane().expect("the data plane was asked for");
    /// for pool in dp.pools() {
    ///     println!("{}: {} requests, {} errors, last: {:?}", pool.pool, pool.requests,
    ///         pool.errors, pool.last_error);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn data_plane(&self) -> Option<&DataPlane> {
        self.sim.data_plane.as_ref()
    }
}
