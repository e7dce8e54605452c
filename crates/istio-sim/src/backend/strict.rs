//! A pod with an Envoy sidecar under a STRICT PeerAuthentication.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::server::Acceptor;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::LazyConfigAcceptor;

use super::http::{self, Context, Peer};
use super::listener;
use super::tls::{ServedIdentity, spiffe_uri_of};
use super::{Counters, StrictStats};
use crate::{IstioCa, KeyAlg, SimError, WorkloadCert, WorkloadRequest};

/// How long a client may take to finish its TLS handshake (Envoy's listener filters time out
/// similarly) before the connection is closed and counted as refused.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The shortest renewal period [`StrictBackend::spawn_renewer`] uses; shorter ones (zero
/// included) are raised to it.
pub const MIN_RENEWAL_PERIOD: Duration = Duration::from_millis(1);

/// How to run a [`StrictBackend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrictBackendOptions {
    /// The pod's name, echoed in every answer. Default `backend`.
    pub name: String,
    /// Where to listen. Default `127.0.0.1:0` (loopback, an ephemeral port).
    pub listen: SocketAddr,
    /// The pod's namespace, for the certificate [`StrictBackend::start`] issues.
    /// Default `default`.
    pub namespace: String,
    /// The pod's service account, for the certificate [`StrictBackend::start`] issues.
    /// Default `default`.
    pub service_account: String,
    /// The workload key algorithm for issued certificates. Default ECDSA P-256 (fast to
    /// generate; istiod's default RSA-2048 takes tens of milliseconds per key).
    pub key_alg: KeyAlg,
    /// An ALLOW AuthorizationPolicy on `source.principals`: `None` allows every authenticated
    /// client; `Some(list)` answers 403 `RBAC: access denied` to a client whose principal
    /// (`cluster.local/ns/<ns>/sa/<sa>`, `*`, `prefix*` or `*suffix`) is not listed.
    pub allowed_principals: Option<Vec<String>>,
}

impl Default for StrictBackendOptions {
    fn default() -> Self {
        Self {
            name: "backend".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            namespace: "default".to_owned(),
            service_account: "default".to_owned(),
            key_alg: KeyAlg::EcdsaP256,
            allowed_principals: None,
        }
    }
}

impl StrictBackendOptions {
    /// The certificate request [`StrictBackend::start`] sends to the CA: this pod's namespace,
    /// service account and key algorithm, istiod's defaults otherwise.
    pub fn workload_request(&self) -> WorkloadRequest {
        WorkloadRequest {
            namespace: self.namespace.clone(),
            service_account: self.service_account.clone(),
            key_alg: self.key_alg,
            ..Default::default()
        }
    }
}

/// State shared by the handle, the accept loop and the renewer.
#[derive(Debug)]
struct Shared {
    name: Arc<str>,
    identity: RwLock<Arc<ServedIdentity>>,
    allowed_principals: RwLock<Option<Arc<[String]>>>,
    counters: Arc<Counters>,
}

impl Shared {
    fn identity(&self) -> Arc<ServedIdentity> {
        self.identity
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn install(&self, cert: &WorkloadCert) -> Result<(), SimError> {
        let served = Arc::new(ServedIdentity::new(cert)?);
        *self
            .identity
            .write()
            .unwrap_or_else(PoisonError::into_inner) = served;
        self.counters.rotations.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// A mesh workload whose Envoy sidecar enforces STRICT mTLS, serving an echo application.
///
/// * The handshake requires a client certificate that chains to the mesh roots and carries a
///   SPIFFE ID in the backend's trust domain; anything else (no certificate, another CA,
///   plain HTTP) fails the handshake and closes the connection, as Envoy's STRICT inbound does.
/// * The backend presents its own workload certificate (leaf + intermediates; only a SPIFFE
///   URI SAN, so clients must not check host names), and advertises ALPN `h2, http/1.1`.
/// * Every request gets 200 with a JSON [`Echo`](super::Echo) — unless
///   [`StrictBackendOptions::allowed_principals`] excludes the client: then 403
///   `RBAC: access denied`.
/// * [`StrictBackend::rotate`] swaps certificate and roots for new connections, like an SDS
///   push; [`StrictBackend::spawn_renewer`] does it periodically.
///
/// Runs on the tokio runtime that started it. Dropping the handle (or
/// [`StrictBackend::shutdown`]) closes the port and every connection.
///
/// ```
/// use istio_sim::{CaOptions, IstioCa, KeyAlg, StrictBackend, StrictBackendOptions};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let ca = IstioCa::new(CaOptions { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
/// let pod = StrictBackend::start(&ca, StrictBackendOptions {
///     name: "web-0".into(),
///     namespace: "shop".into(),
///     service_account: "web".into(),
///     allowed_principals: Some(vec!["cluster.local/ns/avi-system/sa/ako-sa".into()]),
///     ..Default::default()
/// }).await?;
/// assert_eq!(pod.spiffe_id(), "spiffe://cluster.local/ns/shop/sa/web");
/// assert!(pod.addr().ip().is_loopback());
/// pod.shutdown().await;
/// # Ok::<(), istio_sim::SimError>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct StrictBackend {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The runtime that started the backend: the renewer runs there too, whichever thread
    /// asks for it.
    runtime: tokio::runtime::Handle,
    accept: JoinHandle<()>,
    renewer: Mutex<Option<JoinHandle<()>>>,
}

impl StrictBackend {
    /// Issues the pod's certificate from `ca` ([`StrictBackendOptions::workload_request`]) and
    /// starts serving it, trusting the CA's roots.
    pub async fn start(ca: &IstioCa, opts: StrictBackendOptions) -> Result<Self, SimError> {
        let cert = ca.issue(&opts.workload_request())?;
        Self::start_with_cert(&cert, opts).await
    }

    /// Starts serving `cert` (chain and key), trusting client certificates that chain to
    /// `cert.root_cert_pem`. [`StrictBackendOptions::namespace`], `service_account` and
    /// `key_alg` are not used: the identity is the certificate's. Client SPIFFE IDs must be in
    /// the trust domain of `cert.spiffe_id`; if that is not a `spiffe://` URI (a deliberately
    /// broken leaf), only the client's chain is checked.
    pub async fn start_with_cert(
        cert: &WorkloadCert,
        opts: StrictBackendOptions,
    ) -> Result<Self, SimError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SimError::NoRuntime {
            name: opts.name.clone(),
        })?;
        let identity = ServedIdentity::new(cert)?;
        let listener = listener::bind(&opts.name, opts.listen).await?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            name: opts.name.clone(),
            addr: opts.listen,
            source,
        })?;
        let shared = Arc::new(Shared {
            name: opts.name.into(),
            identity: RwLock::new(Arc::new(identity)),
            allowed_principals: RwLock::new(opts.allowed_principals.map(Into::into)),
            counters: Arc::default(),
        });
        let conn_shared = shared.clone();
        let accept = listener::spawn_accept_loop(listener, move |tcp, _peer| {
            serve_connection(conn_shared.clone(), tcp)
        });
        Ok(Self {
            addr,
            shared,
            runtime,
            accept,
            renewer: Mutex::new(None),
        })
    }

    /// The bound address (with the real port when listening on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The pod's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The SPIFFE ID of the certificate new connections are served.
    pub fn spiffe_id(&self) -> String {
        self.shared.identity().spiffe_id.clone()
    }

    /// The serial (lowercase hex) of the certificate new connections are served.
    pub fn serial_hex(&self) -> String {
        self.shared.identity().serial_hex.clone()
    }

    /// Counters since start.
    pub fn stats(&self) -> StrictStats {
        self.shared.counters.snapshot()
    }

    /// Serves `cert` and trusts `cert.root_cert_pem` from the next connection on; open
    /// connections keep what they negotiated. This is istio-agent pushing a renewed `default`
    /// and `ROOTCA` secret over SDS. On error nothing changes.
    pub fn rotate(&self, cert: &WorkloadCert) -> Result<(), SimError> {
        self.shared.install(cert)
    }

    /// Replaces the AuthorizationPolicy (see [`StrictBackendOptions::allowed_principals`]);
    /// applies to the next request, also on open connections.
    pub fn set_allowed_principals(&self, allowed: Option<Vec<String>>) {
        *self
            .shared
            .allowed_principals
            .write()
            .unwrap_or_else(PoisonError::into_inner) = allowed.map(Into::into);
    }

    /// Calls `issue` every `every` (first after one period, on a blocking thread) and
    /// [`rotate`](Self::rotate)s to what it returns, like istio-agent renewing before expiry.
    /// Failures are counted in [`StrictStats::renewal_failures`] and retried next period.
    /// Replaces a renewer started before; stops with the backend. Runs on the backend's runtime,
    /// so it may be called from any thread; a period under [`MIN_RENEWAL_PERIOD`] (zero
    /// included) is raised to it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use istio_sim::{CaOptions, IstioCa, KeyAlg, StrictBackend, StrictBackendOptions};
    ///
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let ca = Arc::new(IstioCa::new(CaOptions { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?);
    /// let opts = StrictBackendOptions::default();
    /// let req = opts.workload_request();
    /// let pod = StrictBackend::start(&ca, opts).await?;
    /// let first = pod.serial_hex();
    /// pod.spawn_renewer(Duration::from_millis(50), move || ca.issue(&req));
    /// while pod.stats().rotations < 2 {
    ///     tokio::time::sleep(Duration::from_millis(10)).await;
    /// }
    /// assert_ne!(pod.serial_hex(), first);
    /// # Ok::<(), istio_sim::SimError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn_renewer<F>(&self, every: Duration, issue: F)
    where
        F: Fn() -> Result<WorkloadCert, SimError> + Send + Sync + 'static,
    {
        let shared = self.shared.clone();
        let issue = Arc::new(issue);
        // tokio's interval panics on a zero period.
        let every = every.max(MIN_RENEWAL_PERIOD);
        let task = self.runtime.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // The first tick is immediate.
            loop {
                ticks.tick().await;
                let issue = issue.clone();
                // Key generation (RSA especially) is CPU-bound: keep it off the runtime.
                let renewed = tokio::task::spawn_blocking(move || issue()).await;
                let installed = match renewed {
                    Ok(Ok(cert)) => shared.install(&cert).is_ok(),
                    Ok(Err(_)) | Err(_) => false,
                };
                if !installed {
                    shared
                        .counters
                        .renewal_failures
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let previous = self
            .renewer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(task);
        if let Some(previous) = previous {
            previous.abort();
        }
    }

    /// Stops the renewer, if any.
    pub fn stop_renewer(&self) {
        if let Some(task) = self
            .renewer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }

    /// Stops the backend and waits until its port is closed and every connection is dropped.
    pub async fn shutdown(mut self) {
        self.stop_renewer();
        self.accept.abort();
        // An aborted task reports cancellation; nothing else can come back from it.
        let _ = (&mut self.accept).await;
    }
}

impl Drop for StrictBackend {
    fn drop(&mut self) {
        self.accept.abort();
        if let Some(task) = self
            .renewer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

/// One inbound connection: TLS handshake with the identity current at accept time, then
/// HTTP/1.1 or HTTP/2 until the client closes.
async fn serve_connection(shared: Arc<Shared>, tcp: TcpStream) {
    let counters = shared.counters.clone();
    let handshake = async {
        let start = LazyConfigAcceptor::new(Acceptor::default(), tcp).await?;
        let identity = shared.identity();
        let config = identity.config_for(start.client_hello().alpn());
        let tls = start.into_stream(config).await?;
        Ok::<_, std::io::Error>((tls, identity))
    };
    let (tls, identity) = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(done)) => done,
        // No TLS, no or untrusted client certificate, timeout: Envoy closes the connection.
        Ok(Err(_)) | Err(_) => {
            counters.handshakes_refused.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    counters.handshakes_accepted.fetch_add(1, Ordering::Relaxed);

    let leaf = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|c| c.as_ref().to_vec())
        .unwrap_or_default();
    let peer = Peer {
        spiffe_id: spiffe_uri_of(&leaf),
        cert_hash: hex(ring::digest::digest(&ring::digest::SHA256, &leaf).as_ref()),
    };
    let ctx = Arc::new(Context {
        name: shared.name.clone(),
        server_spiffe_id: identity.spiffe_id.clone(),
        trust_domain: identity.trust_domain.clone(),
        peer,
        counters,
    });
    let service = service_fn(move |req| {
        // Read per request, so set_allowed_principals reaches open connections too.
        let allowed = shared
            .allowed_principals
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        http::handle(ctx.clone(), allowed, req)
    });
    // Errors here are the client going away mid-request; there is nobody to tell.
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
