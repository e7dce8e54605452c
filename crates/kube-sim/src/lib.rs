//! kube-sim: a Kubernetes API server emulator that kube-rs and kubectl accept.
//!
//! It speaks the real REST protocol — discovery, CRUD with resourceVersions and generations,
//! merge / JSON / strategic merge patches and server-side apply, status subresources,
//! finalizers, label and field selectors, paging, watches with bookmarks and the 410 ERROR
//! event — for the built-in resources the product uses and any CRD created in it. It shares no
//! code with the product crates.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kube_sim::StartError> {
//! let sim = kube_sim::KubeSim::start(kube_sim::SimConfig::default()).await?;
//! std::fs::write("/tmp/kubeconfig", sim.kubeconfig()).ok();
//! // KUBECONFIG=/tmp/kubeconfig kubectl get ns
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod crds;
pub mod faults;
pub mod openapi;
pub mod patch;
pub mod protobuf;
pub mod resources;
pub mod selector;
pub mod server;
pub mod status;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

pub use api::SimConfig;
pub use faults::FaultRule;
pub use status::StatusError;

/// Why the server could not start (listen address, or an unreadable state file).
#[derive(Debug, thiserror::Error)]
#[error("cannot start on {addr}: {source}")]
pub struct StartError {
    /// The address.
    pub addr: SocketAddr,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// A running emulated API server. Dropping it stops it.
#[derive(Debug)]
pub struct KubeSim {
    shared: Arc<api::Shared>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for KubeSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl KubeSim {
    /// Starts on an ephemeral 127.0.0.1 port.
    pub async fn start(config: SimConfig) -> Result<KubeSim, StartError> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on a given address.
    pub async fn start_on(config: SimConfig, addr: SocketAddr) -> Result<KubeSim, StartError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError { addr, source })?;
        let store = match &config.state_file {
            Some(path) if path.exists() => {
                let bytes = std::fs::read(path).map_err(|source| StartError { addr, source })?;
                let state: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|e| StartError {
                        addr,
                        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                    })?;
                store::Store::import(config.history, &state).map_err(|e| StartError {
                    addr,
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                })?
            }
            _ => store::Store::new(config.history),
        };
        let shared = Arc::new(api::Shared::with_store(config, store));
        let task = tokio::spawn(server::run(listener, shared.clone()));
        Ok(KubeSim {
            shared,
            addr: local,
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig for kubectl and kube-rs.
    pub fn kubeconfig(&self) -> String {
        server::kubeconfig(self.addr)
    }

    /// Adds a fault rule.
    pub fn add_fault(&self, rule: FaultRule) {
        self.shared.faults().add(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Closes every open watch now.
    pub fn drop_watches(&self) {
        self.shared.drop_watches.send_modify(|g| *g += 1);
    }

    /// The next watch that resumes from a resourceVersion gets the 410 ERROR event.
    pub fn expire_next_watch(&self) {
        self.shared.faults().expire_next_watch = true;
    }

    /// Forgets the event history: every resumed watch gets 410 until new events accumulate.
    pub fn compact(&self) {
        self.shared.store().compact();
    }

    /// Watches answered with the 410 ERROR event so far.
    pub fn expired_watches(&self) -> u64 {
        self.shared
            .expired_watches
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Creates objects (CRDs, namespaces, ...) directly, as `kubectl create` would; objects
    /// that already exist are left as they are.
    pub fn install(&self, objects: Vec<serde_json::Value>) -> Result<(), StatusError> {
        let mut store = self.shared.store();
        for obj in objects {
            let api_version = obj
                .get("apiVersion")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
            let kind = obj
                .get("kind")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let res = store
                .resources()
                .iter()
                .find(|r| r.group == group && r.version == version && r.kind == kind)
                .cloned()
                .ok_or_else(|| {
                    StatusError::bad_request(format!("no resource serves {api_version} {kind}"))
                })?;
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("default")
                .to_owned();
            match store.create(&res, &ns, obj) {
                Ok(_) => {}
                Err(e) if e.reason == "AlreadyExists" => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads the cluster state.
    pub fn with_store<T>(&self, f: impl FnOnce(&store::Store) -> T) -> T {
        f(&self.shared.store())
    }

    /// Requests answered with `status` for a method and resource (any status when None).
    pub fn count(&self, method: &str, resource: &str, status: Option<u16>) -> u64 {
        let c = self
            .shared
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        c.iter()
            .filter(|((m, r, s), _)| m == method && r == resource && status.is_none_or(|x| x == *s))
            .map(|(_, n)| n)
            .sum()
    }
}
