//! The mesh side: istiod's CA, the AKO pod's istio-agent writing `OUTPUT_CERTS`, two STRICT
//! backend pods on loopback addresses, and (NodePort mode) a kube-proxy stand-in on a node
//! address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use istio_sim::{
    IstioCa, OutputCertsWriter, SimError, StrictBackend, StrictBackendOptions, WorkloadCert,
    WorkloadRequest,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The principal of the AKO pod's certificate: what the backends' AuthorizationPolicy allows
/// and what they must report for every request the Service Engine makes.
pub const AKO_PRINCIPAL: &str = "cluster.local/ns/avi-system/sa/ako-sa";

/// The AKO pod's istio-agent: issues the pod's workload certificate from the CA and writes it to
/// the `OUTPUT_CERTS` directory the way istio-agent does (key, chain, root; each file renamed
/// into place, the three not atomically), renewing it at half its lifetime.
#[derive(Debug)]
pub struct CertAgent {
    ca: Arc<IstioCa>,
    writer: OutputCertsWriter,
    request: WorkloadRequest,
    state: Mutex<(WorkloadCert, Instant)>,
}

impl CertAgent {
    /// Issues the first certificate (lifetime `ttl`) and writes it into `dir`.
    pub fn start(ca: Arc<IstioCa>, dir: &Path, ttl: Duration) -> anyhow::Result<Arc<CertAgent>> {
        let request = WorkloadRequest {
            ttl,
            ..WorkloadRequest::default()
        };
        let writer = OutputCertsWriter::new(dir);
        let cert = ca
            .issue(&request)
            .context("the CA refused the AKO pod's CSR")?;
        writer
            .write(&cert)
            .with_context(|| format!("cannot write {}", dir.display()))?;
        Ok(Arc::new(CertAgent {
            ca,
            writer,
            request,
            state: Mutex::new((cert, Instant::now())),
        }))
    }

    /// The certificate last written.
    pub fn current(&self) -> WorkloadCert {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// Issues a new certificate (new key, new serial) and writes it, sleeping `pause` between
    /// the renames of the three files: the reader sees the torn (new key, old chain) set for
    /// that long.
    pub async fn rotate(self: &Arc<Self>, pause: Duration) -> anyhow::Result<WorkloadCert> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.rotate_blocking(pause))
            .await
            .context("the rotation task failed")?
    }

    fn rotate_blocking(&self, pause: Duration) -> anyhow::Result<WorkloadCert> {
        // One writer at a time, as istio-agent's secret cache serialises them.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let cert = self.ca.issue(&self.request)?;
        self.writer.clone().with_pause(pause).write(&cert)?;
        *state = (cert.clone(), Instant::now());
        Ok(cert)
    }

    /// Renews the certificate once it is half its lifetime old, checking every few seconds, as
    /// istio-agent does; an explicit [`rotate`](Self::rotate) restarts the clock. The renewer
    /// stops when the returned guard is dropped.
    pub fn spawn_renewer(self: &Arc<Self>) -> AbortOnDrop {
        let me = self.clone();
        let half = self.request.ttl / 2;
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let age = me
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .1
                    .elapsed();
                if age >= half {
                    let _ = me.rotate(Duration::ZERO).await;
                }
            }
        }))
    }
}

/// Aborts a task when dropped.
#[derive(Debug)]
pub struct AbortOnDrop(pub JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Where the two pods listen: two loopback addresses, one port.
pub const POD_IPS: [Ipv4Addr; 2] = [Ipv4Addr::new(127, 0, 0, 11), Ipv4Addr::new(127, 0, 0, 12)];

/// Starts the two httpbin pods: STRICT mTLS sidecars (namespace `httpbin`, service account
/// `httpbin`) whose AuthorizationPolicy allows only [`AKO_PRINCIPAL`], on [`POD_IPS`] and one
/// common port, as pods of one Deployment listen on one container port.
pub async fn start_pods(ca: &IstioCa, names: [&str; 2]) -> anyhow::Result<Vec<StrictBackend>> {
    let opts = |name: &str, ip: Ipv4Addr, port: u16| StrictBackendOptions {
        name: name.to_owned(),
        listen: SocketAddr::new(IpAddr::V4(ip), port),
        namespace: "httpbin".to_owned(),
        service_account: "httpbin".to_owned(),
        allowed_principals: Some(vec![AKO_PRINCIPAL.to_owned()]),
        ..StrictBackendOptions::default()
    };
    let mut last = None;
    for _ in 0..50 {
        let first = StrictBackend::start(ca, opts(names[0], POD_IPS[0], 0))
            .await
            .with_context(|| format!("cannot listen on {}", POD_IPS[0]))?;
        match StrictBackend::start(ca, opts(names[1], POD_IPS[1], first.addr().port())).await {
            Ok(second) => return Ok(vec![first, second]),
            // The port is taken on the second address: try another.
            Err(e @ SimError::Bind { .. }) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    bail!(
        "cannot find a port free on both {} and {}: {}",
        POD_IPS[0],
        POD_IPS[1],
        last.map(|e| e.to_string()).unwrap_or_default()
    )
}

/// The node's InternalIP in NodePort mode.
pub const NODE_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 21);

/// kube-proxy for one NodePort Service on one node: a TCP forwarder on `node IP:nodePort`,
/// round robin over the pods. TLS passes through untouched, so the Service Engine still speaks
/// mTLS to the pod's sidecar.
#[derive(Debug)]
pub struct NodePortProxy {
    addr: SocketAddr,
    connections: Arc<AtomicU64>,
    _task: AbortOnDrop,
}

impl NodePortProxy {
    /// Binds a free port in the NodePort range (30000–32767) on `ip`.
    pub async fn bind(ip: Ipv4Addr) -> anyhow::Result<(TcpListener, u16)> {
        use std::hash::{BuildHasher, Hasher};
        let start = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
            % 2768;
        for i in 0..2768u64 {
            let port = 30000 + u16::try_from((start + i) % 2768).unwrap_or(0);
            if let Ok(l) = TcpListener::bind((ip, port)).await {
                return Ok((l, port));
            }
        }
        bail!("no free port in 30000-32767 on {ip}")
    }

    /// Forwards every connection accepted on `listener` to the next of `pods`.
    pub fn start(listener: TcpListener, pods: Vec<SocketAddr>) -> anyhow::Result<NodePortProxy> {
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicU64::new(0));
        let counter = connections.clone();
        let next = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                let pod = pods[next.fetch_add(1, Ordering::Relaxed) % pods.len()];
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(pod).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(NodePortProxy {
            addr,
            connections,
            _task: AbortOnDrop(task),
        })
    }

    /// `node IP:nodePort`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections forwarded so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}
