//! A pod in an ambient-mode namespace, as an outside client sees its application port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::listener;
use super::{AmbientStats, Counters};
use crate::SimError;

/// How long the emulator waits for a client's first bytes, only to classify the connection
/// in [`AmbientStats`]; a TLS client sends its ClientHello at once.
const CLASSIFY_TIMEOUT: Duration = Duration::from_millis(500);

/// How to run an [`AmbientBackend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbientBackendOptions {
    /// The pod's name. Default `ambient-backend`.
    pub name: String,
    /// Where to listen (the pod's app port). Default `127.0.0.1:0`.
    pub listen: SocketAddr,
}

impl Default for AmbientBackendOptions {
    fn default() -> Self {
        Self {
            name: "ambient-backend".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// The app port of a pod in an ambient namespace under STRICT PeerAuthentication: every
/// direct connection from outside the mesh (TLS or not) is closed without a handshake and
/// counted.
///
/// Why: in ambient mode ztunnel captures the pod's inbound traffic. Port 15008 goes to
/// ztunnel's HBONE listener (HTTP/2 `CONNECT` over mesh mTLS); every other port goes to
/// ztunnel's "inbound passthrough" (15006), which carries no peer identity. A STRICT
/// PeerAuthentication becomes a ztunnel DENY on `notPrincipals: presence`, so the passthrough
/// path refuses every connection from outside the mesh. An external load balancer's direct mTLS
/// to the app port never gets a TLS handshake: ztunnel does not terminate TLS there, it only
/// accepts HBONE on 15008.
///
/// The emulator accepts the TCP connection (ztunnel's redirection does), then drops it without
/// a byte of TLS. The unread ClientHello is still queued when the socket closes, so the kernel
/// sends a reset, which is what the client sees. HBONE itself is not emulated.
///
/// ```
/// use istio_sim::{AmbientBackend, AmbientBackendOptions};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let pod = AmbientBackend::start(AmbientBackendOptions::default()).await?;
/// let mut tcp = tokio::net::TcpStream::connect(pod.addr()).await?;
/// tcp.write_all(b"\x16\x03\x01\x00\x05hello").await?;
/// let mut buf = [0u8; 16];
/// // Reset or EOF, never a ServerHello.
/// assert!(matches!(tcp.read(&mut buf).await, Ok(0) | Err(_)));
/// assert_eq!(pod.stats().tls_hellos_refused, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AmbientBackend {
    name: String,
    addr: SocketAddr,
    counters: Arc<Counters>,
    accept: JoinHandle<()>,
}

impl AmbientBackend {
    /// Starts listening on the current tokio runtime.
    pub async fn start(opts: AmbientBackendOptions) -> Result<Self, SimError> {
        let listener = listener::bind(&opts.name, opts.listen).await?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            name: opts.name.clone(),
            addr: opts.listen,
            source,
        })?;
        let counters = Arc::new(Counters::default());
        let conn_counters = counters.clone();
        let accept = listener::spawn_accept_loop(listener, move |tcp, _peer| {
            refuse(conn_counters.clone(), tcp)
        });
        Ok(Self {
            name: opts.name,
            addr,
            counters,
            accept,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The pod's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Counters since start.
    pub fn stats(&self) -> AmbientStats {
        self.counters.ambient_snapshot()
    }

    /// Stops the backend and waits until its port is closed.
    pub async fn shutdown(mut self) {
        self.accept.abort();
        // An aborted task reports cancellation; nothing else can come back from it.
        let _ = (&mut self.accept).await;
    }
}

impl Drop for AmbientBackend {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn refuse(counters: Arc<Counters>, tcp: TcpStream) {
    let mut first = [0u8; 2];
    // Peek, not read: the bytes stay queued, so dropping the socket resets the connection.
    let is_tls = matches!(
        tokio::time::timeout(CLASSIFY_TIMEOUT, tcp.peek(&mut first)).await,
        Ok(Ok(n)) if n >= 1 && first[0] == 0x16 && (n == 1 || first[1] == 0x03)
    );
    if is_tls {
        counters.tls_hellos_refused.fetch_add(1, Ordering::Relaxed);
    }
    counters.connections_refused.fetch_add(1, Ordering::Relaxed);
    drop(tcp);
}
