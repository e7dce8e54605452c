//! Everything the demo runs, started in order and stopped together: kube-sim, avi-sim with its
//! Service Engine data plane, istio-sim's CA, the AKO pod's istio-agent and two STRICT pods,
//! (NodePort mode) a kube-proxy stand-in, and the two containers as processes.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use avi_sim::{AviSim, RunningSim};
use istio_sim::{CaOptions, IstioCa, StrictBackend};
use k8s_openapi::api::core::v1::{Node, Secret, Service};
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube_sim::KubeSim;
use serde_json::Value;

use super::avi::{AviRest, ref_name};
use super::cluster::{self, APP_HOST, APP_NAMESPACE};
use super::mesh::{AbortOnDrop, CertAgent, NODE_IP, NodePortProxy, start_pods};
use super::procs::{Binaries, Child, tail};
use super::traffic::SeClient;
use super::{Progress, ServiceType};

/// The AKO namespace.
pub const AKO_NAMESPACE: &str = "avi-system";
/// Avi credentials of the emulated controller (and in `avi-secret`).
pub const AVI_USER: (&str, &str) = ("admin", "avi123");
/// The example's Gateway.
pub const GATEWAY: (&str, &str) = (APP_NAMESPACE, "avi-gateway");
/// The Gateway listener's port.
pub const GATEWAY_PORT: u16 = 80;
/// The two pods' names (the first is the example's own Pod).
pub const POD_NAMES: [&str; 2] = ["httpbin-7f9b-abcde", "httpbin-7f9b-fghij"];

/// How to run the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// ClusterIP (pool members are pod IPs) or NodePort (node IP + nodePort).
    pub service_type: ServiceType,
    /// `CLUSTER_NAME`.
    pub cluster_name: String,
    /// `ako-gateway-api`'s `FULL_SYNC_INTERVAL` (at least 10 s).
    pub full_sync_interval: Duration,
    /// Lifetime of the AKO pod's workload certificates (renewed at half of it).
    pub cert_ttl: Duration,
    /// The binaries to run; `None` builds them first.
    pub binaries: Option<Binaries>,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions {
            service_type: ServiceType::ClusterIP,
            cluster_name: "demo".to_owned(),
            full_sync_interval: Duration::from_secs(10),
            cert_ttl: Duration::from_secs(300),
            binaries: None,
        }
    }
}

/// The running demo. Dropping it kills the containers first, then stops everything else and
/// removes the work directory.
pub struct Stack {
    // Field order is drop order: the containers go first.
    children: Mutex<Vec<Child>>,
    _renewer: AbortOnDrop,
    proxy: Option<NodePortProxy>,
    pods: Vec<StrictBackend>,
    avi_sim: RunningSim,
    _kube_sim: KubeSim,
    kube: kube::Client,
    avi: AviRest,
    agent: Arc<CertAgent>,
    opts: StackOptions,
    kube_url: String,
    kubeconfig: PathBuf,
    cert_dir: PathBuf,
    metrics: [SocketAddr; 2],
    work: tempfile::TempDir,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("kube", &self.kube_url)
            .field("avi", &self.avi_sim.base_url())
            .field("work", &self.work.path())
            .finish_non_exhaustive()
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Stack {
    /// Starts everything and applies the example; returns once both containers run (not yet
    /// once they have done their work: see [`Stack::eventually`]).
    pub async fn start(opts: StackOptions, progress: &mut Progress) -> anyhow::Result<Stack> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let binaries = match opts.binaries.clone() {
            Some(b) => b,
            None => {
                progress.line("building ako and ako-gateway-api (cargo build)");
                Binaries::build().await?
            }
        };
        let work = tempfile::Builder::new()
            .prefix("ako-demo-")
            .tempdir()
            .context("cannot create a work directory")?;

        // Kubernetes.
        let kube_sim = KubeSim::start(kube_sim::SimConfig::default()).await?;
        let mut crds = kube_sim::crds::gateway_api();
        crds.extend(kube_sim::crds::ako());
        kube_sim
            .install(crds)
            .map_err(|e| anyhow::anyhow!("cannot install the CRDs: {e:?}"))?;
        let kube_url = kube_sim.url();
        let kubeconfig = work.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kube_sim.kubeconfig())?;
        let kube = kube::Client::try_from(kube::Config::new(kube_url.parse()?))?;
        progress.line(format!(
            "kube-sim: Kubernetes API at {kube_url} with the Gateway API and AKO CRDs (kubeconfig {})",
            kubeconfig.display()
        ));

        // Avi.
        let avi_sim = AviSim::builder()
            // Basic authentication on, so that `curl -u` works with --keep-running.
            .config(avi_sim::SimConfig {
                basic_auth: true,
                ..avi_sim::SimConfig::default()
            })
            .credentials(AVI_USER.0, AVI_USER.1)
            .data_plane(true)
            .start()
            .await?;
        let avi = AviRest::new(&avi_sim.base_url(), AVI_USER.0, AVI_USER.1)?;
        progress.line(format!(
            "avi-sim: Avi controller at {} ({} / {}) and its Service Engine data plane on loopback",
            avi_sim.base_url(),
            AVI_USER.0,
            AVI_USER.1
        ));

        // Istio: the CA, the AKO pod's certificate directory, the two pods.
        let ca =
            Arc::new(tokio::task::spawn_blocking(|| IstioCa::new(CaOptions::default())).await??);
        let cert_dir = work.path().join("istio-output-certs");
        let agent = {
            let (ca, dir, ttl) = (ca.clone(), cert_dir.clone(), opts.cert_ttl);
            tokio::task::spawn_blocking(move || CertAgent::start(ca, &dir, ttl)).await??
        };
        let renewer = agent.spawn_renewer();
        let first = agent.current();
        progress.line(format!(
            "istio-sim: CA O=cluster.local; istio-agent wrote {} (serial {}, TTL {} s, renewed at half-life) into {}",
            first.spiffe_id,
            super::avi::colon_hex(&first.serial_hex),
            opts.cert_ttl.as_secs(),
            cert_dir.display()
        ));
        let pods = start_pods(&ca, POD_NAMES).await?;
        for p in &pods {
            progress.line(format!(
                "istio-sim: pod {APP_NAMESPACE}/{} ({}) on {}: STRICT mTLS, AuthorizationPolicy allows {}",
                p.name(),
                p.spiffe_id(),
                p.addr(),
                super::mesh::AKO_PRINCIPAL
            ));
        }

        // The manifests: AKO's namespace and avi-secret, then the example adapted to the pods.
        let node = match opts.service_type {
            ServiceType::ClusterIP => None,
            ServiceType::NodePort => Some(NodePortProxy::bind(NODE_IP).await?),
        };
        let pod_addrs: Vec<(String, SocketAddr)> = pods
            .iter()
            .map(|p| (p.name().to_owned(), p.addr()))
            .collect();
        let yaml = std::fs::read_to_string(crate::manifests::repo_root().join(cluster::GUIDE))
            .with_context(|| format!("cannot read {}", cluster::GUIDE))?;
        let adapted = cluster::adapt_guide(&yaml, &pod_addrs, node.as_ref().map(|(_, p)| *p))?;
        cluster::apply(&kube, &cluster::ako_namespace(AVI_USER.0, AVI_USER.1)).await?;
        progress.line("applied Namespace avi-system and Secret avi-system/avi-secret (the controller's credentials)");
        cluster::apply(&kube, &adapted.docs).await?;
        progress.line(format!(
            "applied {}: {}",
            cluster::GUIDE,
            cluster::describe(&adapted.docs).join(", ")
        ));
        for c in &adapted.changes {
            progress.detail(format!("adapted to this machine: {c}"));
        }
        let proxy = match node {
            None => None,
            Some((listener, port)) => {
                let nodes: Api<Node> = Api::all(kube.clone());
                nodes
                    .patch_status(
                        cluster::NODE_NAME,
                        &PatchParams::default(),
                        &Patch::Merge(cluster::node_status()),
                    )
                    .await
                    .context("cannot set the Node's addresses")?;
                // kube-sim allocates nothing: the nodePort is the one we asked for; read it back
                // as kube-proxy would.
                let services: Api<Service> = Api::namespaced(kube.clone(), APP_NAMESPACE);
                let svc = services.get("httpbin").await?;
                let read = svc
                    .spec
                    .and_then(|s| s.ports)
                    .and_then(|p| p.first().and_then(|p| p.node_port));
                if read != Some(i32::from(port)) {
                    bail!("Service httpbin has nodePort {read:?}, expected {port}");
                }
                let proxy =
                    NodePortProxy::start(listener, pods.iter().map(StrictBackend::addr).collect())?;
                progress.line(format!(
                    "kube-proxy stand-in on {} → {}",
                    proxy.addr(),
                    pods.iter()
                        .map(|p| p.addr().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                Some(proxy)
            }
        };

        // The two containers of the AKO pod, sharing the certificate directory.
        let metrics = [
            SocketAddr::from(([127, 0, 0, 1], free_port()?)),
            SocketAddr::from(([127, 0, 0, 1], free_port()?)),
        ];
        let common = |addr: SocketAddr| {
            vec![
                ("CLUSTER_NAME", opts.cluster_name.clone()),
                ("POD_NAMESPACE", AKO_NAMESPACE.to_owned()),
                ("POD_NAME", "ako-0".to_owned()),
                ("CTRL_IPADDRESS", avi_sim.base_url()),
                ("ISTIO_ENABLED", "true".to_owned()),
                ("SERVICE_TYPE", opts.service_type.to_string()),
                ("KUBECONFIG", kubeconfig.display().to_string()),
                ("METRICS_ADDR", addr.to_string()),
            ]
        };
        let mut ako_env = common(metrics[0]);
        ako_env.push(("ISTIO_OUTPUT_CERTS", cert_dir.display().to_string()));
        let mut gw_env = common(metrics[1]);
        gw_env.push((
            "FULL_SYNC_INTERVAL",
            opts.full_sync_interval.as_secs().to_string(),
        ));
        let ako = Child::spawn("ako", &binaries.ako, &ako_env, &work.path().join("ako.log"))?;
        let gw = Child::spawn(
            "ako-gateway-api",
            &binaries.gateway_api,
            &gw_env,
            &work.path().join("ako-gateway-api.log"),
        )?;
        progress.line(format!(
            "started ako (pid {}, ISTIO_OUTPUT_CERTS={}) and ako-gateway-api (pid {}, SERVICE_TYPE={}, FULL_SYNC_INTERVAL={}) as the two containers of pod avi-system/ako-0",
            ako.id(),
            cert_dir.display(),
            gw.id(),
            opts.service_type,
            opts.full_sync_interval.as_secs()
        ));
        Ok(Stack {
            children: Mutex::new(vec![ako, gw]),
            _renewer: renewer,
            proxy,
            pods,
            avi_sim,
            _kube_sim: kube_sim,
            kube,
            avi,
            agent,
            opts,
            kube_url,
            kubeconfig,
            cert_dir,
            metrics,
            work,
        })
    }

    /// The options it runs with.
    pub fn options(&self) -> &StackOptions {
        &self.opts
    }

    /// A client of the emulated Kubernetes API.
    pub fn kube(&self) -> &kube::Client {
        &self.kube
    }

    /// The Kubernetes API's URL.
    pub fn kube_url(&self) -> &str {
        &self.kube_url
    }

    /// The kubeconfig file for kubectl.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// A session on the emulated controller's REST API.
    pub fn avi(&self) -> &AviRest {
        &self.avi
    }

    /// The emulated controller.
    pub fn avi_sim(&self) -> &RunningSim {
        &self.avi_sim
    }

    /// The Service Engine data plane.
    pub fn data_plane(&self) -> &avi_sim::DataPlane {
        self.avi_sim
            .data_plane()
            .unwrap_or_else(|| unreachable!("started with the data plane"))
    }

    /// The AKO pod's istio-agent.
    pub fn agent(&self) -> &Arc<CertAgent> {
        &self.agent
    }

    /// The AKO pod's certificate directory.
    pub fn cert_dir(&self) -> &Path {
        &self.cert_dir
    }

    /// The two backend pods.
    pub fn pods(&self) -> &[StrictBackend] {
        &self.pods
    }

    /// The kube-proxy stand-in (NodePort mode).
    pub fn node_proxy(&self) -> Option<&NodePortProxy> {
        self.proxy.as_ref()
    }

    /// The work directory (kubeconfig, certificates, logs).
    pub fn work_dir(&self) -> &Path {
        self.work.path()
    }

    /// The containers' log files.
    pub fn logs(&self) -> Vec<(String, PathBuf)> {
        self.children
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|c| (c.name().to_owned(), c.log().to_path_buf()))
            .collect()
    }

    /// The last `lines` lines of each container's log, with a header per container.
    pub fn log_tails(&self, lines: usize) -> String {
        self.logs()
            .iter()
            .map(|(name, path)| format!("--- {name} ({})\n{}", path.display(), tail(path, lines)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The `/readyz` and `/metrics` addresses of `ako` and `ako-gateway-api`.
    pub fn metrics_addrs(&self) -> [SocketAddr; 2] {
        self.metrics
    }

    /// An error if a container has exited.
    pub fn check_children(&self) -> anyhow::Result<()> {
        for c in self
            .children
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter_mut()
        {
            c.check_running()?;
        }
        Ok(())
    }

    /// Polls `f` every 100 ms until it gives `Ok`, for at most `timeout`; fails early if a
    /// container exits. `Err(why)` is "not yet", and the last `why` is in the timeout error.
    pub async fn eventually<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: F,
    ) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let started = Instant::now();
        loop {
            self.check_children()
                .with_context(|| format!("while waiting for {what}"))?;
            let last = match f().await {
                Ok(v) => return Ok(v),
                Err(why) => why,
            };
            if started.elapsed() >= timeout {
                bail!(
                    "{what}: not after {} s (last seen: {last})",
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `CLUSTER_NAME`.
    pub fn cluster(&self) -> &str {
        &self.opts.cluster_name
    }

    /// Avi names of the Istio objects and the gateway container's `created_by`.
    pub fn names(&self) -> Names {
        let c = &self.opts.cluster_name;
        Names {
            pki_profile: format!("istio-pki-{c}-{AKO_NAMESPACE}"),
            ssl_key_cert: format!("istio-workload-{c}-{AKO_NAMESPACE}"),
            gateway_owner: format!("ako-gw-{c}-{AKO_NAMESPACE}"),
        }
    }

    /// The keys of `istio-secret`, sorted (empty when it does not exist).
    pub async fn istio_secret(&self) -> anyhow::Result<Option<Secret>> {
        let secrets: Api<Secret> = Api::namespaced(self.kube.clone(), AKO_NAMESPACE);
        Ok(secrets.get_opt("istio-secret").await?)
    }

    /// The gateway container's pools.
    pub async fn pools(&self) -> anyhow::Result<Vec<Value>> {
        self.avi
            .list(
                "pool",
                &format!("created_by={}", self.names().gateway_owner),
            )
            .await
    }

    /// The one pool of the example's backend; `Err(why)` when it is not (yet) alone.
    pub async fn mesh_pool(&self) -> Result<Value, String> {
        let pools = self.pools().await.map_err(|e| format!("{e:#}"))?;
        match pools.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err("no pool yet".to_owned()),
            many => Err(format!("{} pools", many.len())),
        }
    }

    /// The first address of the Gateway's status.
    pub async fn gateway_address(&self) -> Result<String, String> {
        let gateways: Api<gateway_api::gateways::Gateway> =
            Api::namespaced(self.kube.clone(), GATEWAY.0);
        let gw = gateways.get(GATEWAY.1).await.map_err(|e| e.to_string())?;
        gw.status
            .and_then(|s| s.addresses)
            .and_then(|a| a.into_iter().next())
            .map(|a| a.value)
            .ok_or_else(|| "no address in the Gateway's status yet".to_owned())
    }

    /// A client of the example's route through the Service Engine: waits until the Gateway has
    /// its VIP and the data plane listens for it.
    pub async fn se_client(&self, timeout: Duration) -> anyhow::Result<(String, SeClient)> {
        let vip = self
            .eventually("the Gateway's VIP", timeout, move || self.gateway_address())
            .await?;
        let ip: IpAddr = vip.parse().with_context(|| format!("VIP {vip}"))?;
        let dp = self.data_plane();
        let local = self
            .eventually(
                "the Service Engine listening on the VIP",
                timeout,
                || async move {
                    dp.local_addr(ip, GATEWAY_PORT)
                        .ok_or_else(|| format!("nothing listens for {ip}:{GATEWAY_PORT}"))
                },
            )
            .await?;
        Ok((vip, SeClient::new(APP_HOST, local)?))
    }

    /// Removes the Istio references of `pool` behind the controller's back, with a PUT of the
    /// Avi REST API (the guide's validation test): the pool keeps `System-Standard`, so the
    /// Service Engine still speaks TLS, but presents no client certificate and trusts nothing.
    pub async fn remove_istio_refs(&self, pool: &Value) -> anyhow::Result<Value> {
        let mut body = pool.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("pki_profile_ref");
            o.remove("ssl_key_and_certificate_ref");
        }
        self.avi.put("pool", &body).await
    }

    /// The SSLKeyAndCertificate `ako` published.
    pub async fn avi_certificate(&self) -> anyhow::Result<Option<Value>> {
        self.avi
            .by_name("sslkeyandcertificate", &self.names().ssl_key_cert)
            .await
    }

    /// The serial (decimal, as the controller shows it) of the published certificate.
    pub async fn avi_serial(&self) -> Result<String, String> {
        let cert = self
            .avi_certificate()
            .await
            .map_err(|e| format!("{e:#}"))?
            .ok_or_else(|| "no SSLKeyAndCertificate yet".to_owned())?;
        cert["certificate"]["serial_number"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "the SSLKeyAndCertificate has no serial_number".to_owned())
    }

    /// Whether `pool` names both Istio objects and `System-Standard`.
    pub fn has_istio_refs(&self, pool: &Value) -> bool {
        let n = self.names();
        ref_name(&pool["pki_profile_ref"]) == Some(n.pki_profile.as_str())
            && ref_name(&pool["ssl_key_and_certificate_ref"]) == Some(n.ssl_key_cert.as_str())
            && ref_name(&pool["ssl_profile_ref"]) == Some("System-Standard")
    }

    /// The sum of the samples of metric `name` (every label set) on `ako` (`container` 0) or
    /// `ako-gateway-api` (1); 0 when absent.
    pub async fn metric(&self, container: usize, name: &str) -> anyhow::Result<f64> {
        let addr = self.metrics[container.min(1)];
        let text = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()?
            .get(format!("http://{addr}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with([' ', '{']))
            })
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum())
    }

    /// Both containers answer `/readyz` with 200.
    pub async fn ready(&self) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        for (name, addr) in ["ako", "ako-gateway-api"].iter().zip(self.metrics) {
            let ok = http
                .get(format!("http://{addr}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if !ok {
                return Err(format!("{name} is not ready"));
            }
        }
        Ok(())
    }
}

/// The Avi names the demo looks for.
#[derive(Debug, Clone)]
pub struct Names {
    /// `istio-pki-<cluster>-avi-system`.
    pub pki_profile: String,
    /// `istio-workload-<cluster>-avi-system`.
    pub ssl_key_cert: String,
    /// `ako-gw-<cluster>-avi-system`, the gateway container's `created_by`.
    pub gateway_owner: String,
}
