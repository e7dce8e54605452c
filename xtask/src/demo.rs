//! `cargo xtask demo`: the product's main job on one machine, with no cluster, controller or
//! mesh. kube-sim, avi-sim (controller and Service Engine data plane) and istio-sim (CA, the AKO
//! pod's istio-agent, two STRICT-mTLS pods) stand in for them; `ako` and `ako-gateway-api` run
//! as processes sharing one certificate directory, like the two containers of one pod. The demo
//! applies `examples/manifests/istio-guide.yaml` and then shows, step by step:
//!
//! 1. what the containers published: `istio-secret`, the PKIProfile, the SSLKeyAndCertificate,
//!    and the mesh pool naming them;
//! 2. a request through the Service Engine reaching a STRICT pod, which saw the AKO pod's
//!    principal; then the same backend behind a Kubernetes Ingress, served by the `ako`
//!    container with the same Istio objects;
//! 3. the Istio guide's validation test: the references removed from the pool with the Avi API
//!    make the request fail with a TLS error; the controller's own resync puts them back;
//! 4. a certificate rotation under traffic: a new serial on the controller, no failed request;
//! 5. a summary.
//!
//! [`run`] returns a [`DemoReport`] that the end-to-end tests (`tests/tests/demo.rs`) assert on;
//! [`Stack`] is the running set-up, for tests that drive it differently.

mod avi;
mod cluster;
mod mesh;
mod procs;
mod stack;
mod traffic;

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub use avi::{AviRest, colon_hex, hex_to_decimal, pool_servers, ref_name};
pub use cluster::{APP_HOST, APP_NAMESPACE, GUIDE};
pub use mesh::{AKO_PRINCIPAL, AbortOnDrop, CertAgent, NODE_IP, NodePortProxy, POD_IPS};
pub use procs::{Binaries, Child};
pub use stack::{AKO_NAMESPACE, AVI_USER, GATEWAY, Names, POD_NAMES, Stack, StackOptions};
pub use traffic::{Answer, LoadLoop, LoadReport, SeClient};

/// How pool members are reached (`SERVICE_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ServiceType {
    /// Pod IPs and target ports.
    #[default]
    #[value(name = "ClusterIP")]
    ClusterIP,
    /// The node's InternalIP and the Service's nodePort.
    #[value(name = "NodePort")]
    NodePort,
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
        })
    }
}

/// Progress lines, each stamped with the time since the demo started.
pub struct Progress {
    started: Instant,
    sink: Box<dyn FnMut(&str) + Send>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress").finish_non_exhaustive()
    }
}

impl Progress {
    /// Lines go to `sink`.
    pub fn new(sink: impl FnMut(&str) + Send + 'static) -> Progress {
        Progress {
            started: Instant::now(),
            sink: Box::new(sink),
        }
    }

    /// Lines go to standard output.
    pub fn stdout() -> Progress {
        Progress::new(|line| println!("{line}"))
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Starts the clock again.
    pub fn restart(&mut self) {
        self.started = Instant::now();
    }

    /// `[  1.2s] text`.
    pub fn line(&mut self, text: impl fmt::Display) {
        let t = self.started.elapsed().as_secs_f64();
        (self.sink)(&format!("[{t:6.1}s] {text}"));
    }

    /// An indented line under the previous one.
    pub fn detail(&mut self, text: impl fmt::Display) {
        (self.sink)(&format!("          {text}"));
    }

    /// Text as it is (a heading, a blank line, a block).
    pub fn raw(&mut self, text: impl fmt::Display) {
        for line in text.to_string().lines() {
            (self.sink)(line);
        }
    }
}

/// What `cargo xtask demo` does.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// `--service-type`.
    pub service_type: ServiceType,
    /// `--keep-running`: after the steps, leave everything up until Ctrl-C.
    pub keep_running: bool,
    /// `ako-gateway-api`'s `FULL_SYNC_INTERVAL`: how soon the resync of step 3 comes.
    pub full_sync_interval: Duration,
    /// How long the writer sleeps between the three files in step 4 (the torn window).
    pub torn_window: Duration,
    /// The binaries; `None` builds them.
    pub binaries: Option<Binaries>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            service_type: ServiceType::ClusterIP,
            keep_running: false,
            full_sync_interval: Duration::from_secs(10),
            torn_window: Duration::from_millis(700),
            binaries: None,
        }
    }
}

/// Step 1: what the two containers published.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// The data keys of `istio-secret`, sorted.
    pub secret_keys: Vec<String>,
    /// The PKIProfile's name.
    pub pki_profile: String,
    /// How many CA certificates it holds.
    pub pki_ca_certs: usize,
    /// The SSLKeyAndCertificate's name.
    pub ssl_key_cert: String,
    /// Its serial, decimal, as the controller shows it.
    pub serial: String,
    /// Its subject alternative names.
    pub subject_alt_names: Vec<String>,
    /// The mesh pool's name.
    pub pool: String,
    /// Its servers, `ip:port`.
    pub pool_servers: Vec<String>,
    /// The names its `pki_profile_ref`, `ssl_key_and_certificate_ref` and `ssl_profile_ref`
    /// point at.
    pub pool_refs: [Option<String>; 3],
}

/// Step 2: the first request through the Service Engine.
#[derive(Debug, Clone)]
pub struct Reached {
    /// The Gateway's VIP.
    pub vip: String,
    /// The local socket the data plane serves `VIP:80` on.
    pub local: SocketAddr,
    /// The answer.
    pub answer: Answer,
    /// The pods that answered a handful of requests.
    pub backends: BTreeSet<String>,
}

/// Step 2, the Ingress half: the same backend behind a Kubernetes Ingress.
#[derive(Debug, Clone)]
pub struct IngressReached {
    /// The VIP in the Ingress's status.
    pub vip: String,
    /// The Ingress pool, with its Istio references (PKI profile, certificate, SSL profile).
    pub pool: String,
    /// The pool's references by name.
    pub pool_refs: [Option<String>; 3],
    /// The answer.
    pub answer: Answer,
}

/// Step 3: the guide's validation test.
#[derive(Debug, Clone)]
pub struct Validation {
    /// The answer with the references removed (502).
    pub refused: Answer,
    /// The pool's last upstream error on the data plane.
    pub pool_error: Option<String>,
    /// Handshakes the pods refused during the test.
    pub handshakes_refused: u64,
    /// How long after the removal the pool had its references again.
    pub restored_after: Duration,
    /// The answer once they were back.
    pub restored: Answer,
}

/// Step 4: a rotation under traffic.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The controller's serial before (decimal).
    pub serial_before: String,
    /// The controller's serial after (decimal).
    pub serial_after: String,
    /// The serial istio-agent wrote (lowercase hex).
    pub issued_serial_hex: String,
    /// How long from the first file written to the new serial on the controller.
    pub published_after: Duration,
    /// SHA-256 of the new leaf.
    pub new_leaf_sha256: String,
    /// Whether a pod saw the Service Engine present the new certificate.
    pub pods_saw_new_cert: bool,
    /// Reads `ako` refused meanwhile (`ako_istio_validation_failures_total`): the torn set,
    /// once per read while it retried.
    pub sets_refused: f64,
    /// The requests sent meanwhile.
    pub load: LoadReport,
}

/// Everything the demo showed.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// The mode.
    pub service_type: ServiceType,
    /// Step 1.
    pub published: Published,
    /// Step 2.
    pub reached: Reached,
    /// Step 2, through an Ingress.
    pub ingress: IngressReached,
    /// Step 3.
    pub validation: Validation,
    /// Step 4.
    pub rotation: Rotation,
    /// NodePort mode: connections the kube-proxy stand-in forwarded.
    pub node_port_connections: Option<u64>,
    /// Each step's title and duration (step 0 is the start-up).
    pub steps: Vec<(String, Duration)>,
    /// How long building the binaries took (zero when they were given).
    pub build: Duration,
    /// From the start of the emulators to the summary (the build excluded).
    pub elapsed: Duration,
}

/// How long one wait may take before the step fails.
const WAIT: Duration = Duration::from_secs(60);

/// Runs the demo; `Err` names the step that failed (the containers' log tails are printed to
/// `progress` first). Everything it started is stopped when it returns.
pub async fn run(opts: DemoOptions, progress: &mut Progress) -> anyhow::Result<DemoReport> {
    run_until(opts, progress, std::future::pending()).await
}

/// [`run`], cut short when `stop` completes (`cargo xtask demo` passes Ctrl-C): an error during
/// the steps; with [`DemoOptions::keep_running`], the normal end of the wait after them.
pub async fn run_until(
    opts: DemoOptions,
    progress: &mut Progress,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<DemoReport> {
    tokio::pin!(stop);
    let steps = async {
        let (stack, report) = start_and_run(&opts, progress).await?;
        anyhow::Ok((stack, report))
    };
    let (stack, report) = tokio::select! {
        biased;
        () = &mut stop => bail!("interrupted"),
        done = steps => done?,
    };
    if opts.keep_running {
        keep_running(&stack, &report, progress, stop).await?;
    }
    Ok(report)
}

async fn start_and_run(
    opts: &DemoOptions,
    progress: &mut Progress,
) -> anyhow::Result<(Stack, DemoReport)> {
    progress.raw(format!(
        "cargo xtask demo: Avi + Istio STRICT mTLS on emulators ({} mode)",
        opts.service_type
    ));
    let mut steps = Vec::new();
    let t = Instant::now();
    let binaries = match opts.binaries.clone() {
        Some(b) => b,
        None => {
            progress.line("building ako and ako-gateway-api (cargo build)");
            let b = Binaries::build()
                .await
                .context("cannot build the two containers")?;
            progress.line(format!(
                "built {} and {}",
                b.ako.display(),
                b.gateway_api.display()
            ));
            b
        }
    };
    let build = t.elapsed();
    progress.restart();
    progress.raw("\n== 0. Start kube-sim, avi-sim, istio-sim and the two containers");
    let t = Instant::now();
    let stack = Stack::start(
        StackOptions {
            service_type: opts.service_type,
            full_sync_interval: opts.full_sync_interval,
            binaries: Some(binaries),
            ..StackOptions::default()
        },
        progress,
    )
    .await
    .context("step 0 (start-up) failed")?;
    steps.push(("start-up".to_owned(), t.elapsed()));

    match run_steps(&stack, opts, progress, &mut steps, build).await {
        Ok(report) => Ok((stack, report)),
        Err(e) => {
            progress.raw(format!(
                "\nFAILED: {e:#}\n\nThe containers' last log lines:\n{}",
                stack.log_tails(30)
            ));
            Err(e)
        }
    }
}

async fn run_steps(
    stack: &Stack,
    opts: &DemoOptions,
    progress: &mut Progress,
    steps: &mut Vec<(String, Duration)>,
    build: Duration,
) -> anyhow::Result<DemoReport> {
    let t = Instant::now();
    progress.raw("\n== 1. What the two containers published");
    let published = published(stack, progress)
        .await
        .context("step 1 (istio-secret, PKIProfile, SSLKeyAndCertificate, pool refs) failed")?;
    steps.push(("published".to_owned(), t.elapsed()));

    let t = Instant::now();
    progress.raw("\n== 2. A request through the emulated Service Engine");
    let reached = reach(stack, progress)
        .await
        .context("step 2 (request through the Service Engine) failed")?;
    steps.push(("request".to_owned(), t.elapsed()));

    let t = Instant::now();
    progress.raw("\n== 2b. The same backend through a Kubernetes Ingress (the ako container)");
    let ingress = through_ingress(stack, progress)
        .await
        .context("step 2b (request through an Ingress) failed")?;
    steps.push(("ingress".to_owned(), t.elapsed()));

    let t = Instant::now();
    progress.raw("\n== 3. The guide's validation test: the pool without the Istio references");
    let se = SeClient::new(APP_HOST, reached.local)?;
    let validation = validation_test(stack, &se, opts.full_sync_interval, progress)
        .await
        .context("step 3 (validation test: refs removed, then restored by the resync) failed")?;
    steps.push(("validation".to_owned(), t.elapsed()));

    let t = Instant::now();
    progress.raw("\n== 4. A certificate rotation under traffic");
    let rotation = rotate_under_traffic(stack, &se, opts.torn_window, progress)
        .await
        .context("step 4 (certificate rotation under traffic) failed")?;
    steps.push(("rotation".to_owned(), t.elapsed()));

    let report = DemoReport {
        service_type: opts.service_type,
        published,
        reached,
        ingress,
        validation,
        rotation,
        node_port_connections: stack.node_proxy().map(NodePortProxy::connections),
        steps: steps.clone(),
        build,
        elapsed: progress.elapsed(),
    };
    summary(&report, progress);
    Ok(report)
}

/// Step 1: waits until `ako` has published `istio-secret`, the PKIProfile and the
/// SSLKeyAndCertificate of the certificate istio-agent wrote, `ako-gateway-api` has given the
/// example's pool the Istio references, and both containers are ready.
pub async fn published(stack: &Stack, progress: &mut Progress) -> anyhow::Result<Published> {
    let names = stack.names();
    let keys = stack
        .eventually(
            "ako to write Secret avi-system/istio-secret",
            WAIT,
            || async {
                match stack.istio_secret().await {
                    Ok(Some(s)) => {
                        let keys: Vec<String> = s.data.unwrap_or_default().into_keys().collect();
                        if keys.len() == 3 {
                            Ok(keys)
                        } else {
                            Err(format!("keys {keys:?}"))
                        }
                    }
                    Ok(None) => Err("no istio-secret yet".to_owned()),
                    Err(e) => Err(format!("{e:#}")),
                }
            },
        )
        .await?;
    progress.line(format!(
        "Secret avi-system/istio-secret: keys {} (ako read them from {})",
        keys.join(", "),
        stack.cert_dir().display()
    ));

    let pki = stack
        .eventually("ako to create the PKIProfile", WAIT, || async {
            match stack.avi().by_name("pkiprofile", &names.pki_profile).await {
                Ok(Some(p)) => Ok(p),
                Ok(None) => Err(format!("no PKIProfile {}", names.pki_profile)),
                Err(e) => Err(format!("{e:#}")),
            }
        })
        .await?;
    let ca_certs = pki["ca_certs"].as_array().map_or(0, Vec::len);
    progress.line(format!(
        "Avi PKIProfile {}: {ca_certs} CA certificate(s) ({}), crl_check {}, created_by {}",
        names.pki_profile,
        pki["ca_certs"][0]["subject"]["organization"]
            .as_str()
            .map_or_else(|| "the mesh root".to_owned(), |o| format!("O={o}")),
        pki["crl_check"],
        pki["created_by"].as_str().unwrap_or("?")
    ));

    let issued = stack.agent().current();
    let want = hex_to_decimal(&issued.serial_hex).context("the issued serial is not hex")?;
    let serial = stack
        .eventually("ako to publish the SSLKeyAndCertificate", WAIT, || async {
            let s = stack.avi_serial().await?;
            if s == want {
                Ok(s)
            } else {
                Err(format!("serial {s}, expected {want}"))
            }
        })
        .await?;
    let cert = stack.avi_certificate().await?.unwrap_or_default();
    let sans: Vec<String> = cert["certificate"]["subject_alt_names"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    progress.line(format!(
        "Avi SSLKeyAndCertificate {}: serial {serial} (= {} written by istio-agent), {}, expires {}",
        names.ssl_key_cert,
        colon_hex(&issued.serial_hex),
        if sans.is_empty() {
            issued.spiffe_id.clone()
        } else {
            sans.join(", ")
        },
        cert["certificate"]["not_after"].as_str().unwrap_or("?")
    ));

    let want_servers = match stack.options().service_type {
        ServiceType::ClusterIP => 2,
        ServiceType::NodePort => 1,
    };
    let pool = stack
        .eventually(
            "ako-gateway-api to give the pool the Istio references",
            WAIT,
            || async {
                let pool = stack.mesh_pool().await?;
                let servers = pool_servers(&pool);
                if !stack.has_istio_refs(&pool) {
                    Err(format!(
                        "pool {} without the Istio references",
                        pool["name"]
                    ))
                } else if servers.len() != want_servers {
                    Err(format!("pool servers {servers:?}"))
                } else {
                    Ok(pool)
                }
            },
        )
        .await?;
    let refs = [
        "pki_profile_ref",
        "ssl_key_and_certificate_ref",
        "ssl_profile_ref",
    ]
    .map(|f| ref_name(&pool[f]).map(str::to_owned));
    let servers = pool_servers(&pool);
    progress.line(format!(
        "Avi pool {}: servers {} ({}), pki_profile_ref {}, ssl_key_and_certificate_ref {}, ssl_profile_ref {}",
        pool["name"].as_str().unwrap_or("?"),
        servers.join(", "),
        match stack.options().service_type {
            ServiceType::ClusterIP => "pod IPs",
            ServiceType::NodePort => "node IP and nodePort",
        },
        refs[0].as_deref().unwrap_or("-"),
        refs[1].as_deref().unwrap_or("-"),
        refs[2].as_deref().unwrap_or("-"),
    ));
    stack
        .eventually("both containers to be ready", WAIT, || stack.ready())
        .await?;
    let [a, g] = stack.metrics_addrs();
    progress.line(format!(
        "both containers ready (http://{a}/readyz, http://{g}/readyz)"
    ));
    Ok(Published {
        secret_keys: keys,
        pki_profile: names.pki_profile,
        pki_ca_certs: ca_certs,
        ssl_key_cert: names.ssl_key_cert,
        serial,
        subject_alt_names: sans,
        pool: pool["name"].as_str().unwrap_or_default().to_owned(),
        pool_servers: servers,
        pool_refs: refs,
    })
}

/// Step 2: waits for the Gateway's VIP and its listener, then sends requests through the
/// Service Engine; fails unless the pods answer 200 and saw [`AKO_PRINCIPAL`].
pub async fn reach(stack: &Stack, progress: &mut Progress) -> anyhow::Result<Reached> {
    let (vip, se) = stack.se_client(WAIT).await?;
    progress.line(format!(
        "Gateway {}/{} is programmed with VIP {vip}; the Service Engine serves {vip}:80 on {}",
        stack::GATEWAY.0,
        stack::GATEWAY.1,
        se.local()
    ));
    progress.detail(format!(
        "curl --resolve {APP_HOST}:{port}:127.0.0.1 http://{APP_HOST}:{port}/get",
        port = se.local().port()
    ));
    let answer = stack
        .eventually("a 200 through the Service Engine", WAIT, || async {
            match se.get("/get").await {
                Ok(a) if a.status == 200 => Ok(a),
                Ok(a) => Err(a.summary()),
                Err(e) => Err(format!("{e:#}")),
            }
        })
        .await?;
    progress.line(format!("GET http://{APP_HOST}/get → {}", answer.summary()));
    let echo = answer
        .echo
        .clone()
        .context("the answer is not the pod's echo")?;
    if echo.principal.as_deref() != Some(AKO_PRINCIPAL) {
        bail!(
            "the pod saw principal {:?}, expected {AKO_PRINCIPAL}",
            echo.principal
        );
    }
    progress.detail(format!(
        "the pod ({}) authenticated the Service Engine as {AKO_PRINCIPAL}: the AKO pod's identity, from the SSLKeyAndCertificate",
        echo.spiffe_id
    ));
    let mut backends = BTreeSet::from([echo.name.clone()]);
    for _ in 0..6 {
        let a = se.get("/get").await?;
        if !a.is_mesh_success() {
            bail!("a further request failed: {}", a.summary());
        }
        if let Some(e) = a.echo {
            backends.insert(e.name);
        }
    }
    progress.line(format!(
        "7 requests, all 200, answered by {}",
        backends.iter().cloned().collect::<Vec<_>>().join(" and ")
    ));
    Ok(Reached {
        vip,
        local: se.local(),
        answer,
        backends,
    })
}

/// The host of the demo's Ingress.
pub const INGRESS_HOST: &str = "httpbin-ingress.example.com";

/// Step 2b: applies an IngressClass `avi-lb` and an Ingress for [`INGRESS_HOST`] to the
/// example's Service; waits for the `ako` container to give it a VIP in its status; sends a
/// request through the Service Engine (SNI mode: the shared virtual service's DataScript picks
/// the pool) and checks the STRICT pod saw the AKO pod's principal.
pub async fn through_ingress(
    stack: &Stack,
    progress: &mut Progress,
) -> anyhow::Result<IngressReached> {
    let docs = vec![
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "avi-lb",
                "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
            "spec": {"controller": "ako.vmware.com/avi-lb"}}),
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "httpbin", "namespace": APP_NAMESPACE},
            "spec": {"ingressClassName": "avi-lb", "rules": [{"host": INGRESS_HOST, "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "httpbin", "port": {"number": 8000}}}}]}}]}}),
    ];
    cluster::apply(stack.kube(), &docs).await?;
    progress.line(format!(
        "applied IngressClass avi-lb and Ingress {APP_NAMESPACE}/httpbin ({INGRESS_HOST} → Service httpbin:8000)"
    ));
    let ingresses: kube::Api<k8s_openapi::api::networking::v1::Ingress> =
        kube::Api::namespaced(stack.kube().clone(), APP_NAMESPACE);
    let vip = stack
        .eventually("the Ingress's VIP in its status", WAIT, || {
            let ingresses = ingresses.clone();
            async move {
                let i = ingresses.get("httpbin").await.map_err(|e| e.to_string())?;
                i.status
                    .and_then(|s| s.load_balancer)
                    .and_then(|lb| lb.ingress)
                    .and_then(|l| l.into_iter().find_map(|e| e.ip))
                    .ok_or_else(|| "no address in status.loadBalancer yet".to_owned())
            }
        })
        .await?;
    let shard = ingress_translate::names::shard(INGRESS_HOST, 8).unwrap_or(0);
    let names = ingress_translate::names::Names::new(stack.cluster(), false);
    let pool_name = names.insecure_pool(INGRESS_HOST, "/", APP_NAMESPACE, "httpbin", false);
    let pool = stack
        .eventually(
            "the Ingress pool with the Istio references",
            WAIT,
            || async {
                match stack.avi().by_name("pool", &pool_name).await {
                    Ok(Some(p)) if p.get("pki_profile_ref").is_some() => Ok(p),
                    Ok(_) => Err("not yet".to_owned()),
                    Err(e) => Err(format!("{e:#}")),
                }
            },
        )
        .await?;
    let pool_refs = [
        "pki_profile_ref",
        "ssl_key_and_certificate_ref",
        "ssl_profile_ref",
    ]
    .map(|f| ref_name(&pool[f]).map(str::to_owned));
    progress.line(format!(
        "Ingress status: {vip}; shared virtual service {} (SNI, shard {shard}); pool {pool_name} → {}",
        names.shared_vs(shard),
        pool_refs.iter().flatten().cloned().collect::<Vec<_>>().join(", ")
    ));
    let ip: std::net::IpAddr = vip.parse().with_context(|| format!("VIP {vip}"))?;
    let dp = stack.data_plane();
    let local = stack
        .eventually(
            "the Service Engine listening on the Ingress VIP",
            WAIT,
            || async move {
                dp.local_addr(ip, 80)
                    .ok_or_else(|| format!("nothing listens for {ip}:80"))
            },
        )
        .await?;
    let se = SeClient::new(INGRESS_HOST, local)?;
    let answer = stack
        .eventually("a 200 through the Ingress", WAIT, || async {
            match se.get("/get").await {
                Ok(a) if a.status == 200 => Ok(a),
                Ok(a) => Err(a.summary()),
                Err(e) => Err(format!("{e:#}")),
            }
        })
        .await?;
    let principal = answer.echo.as_ref().and_then(|e| e.principal.clone());
    if principal.as_deref() != Some(AKO_PRINCIPAL) {
        bail!("the pod saw principal {principal:?} through the Ingress, expected {AKO_PRINCIPAL}");
    }
    progress.line(format!(
        "GET http://{INGRESS_HOST}/get → {}; the pod authenticated {AKO_PRINCIPAL}, as through the Gateway",
        answer.summary()
    ));
    Ok(IngressReached {
        vip,
        pool: pool_name,
        pool_refs,
        answer,
    })
}

fn refused_total(stack: &Stack) -> u64 {
    stack
        .pods()
        .iter()
        .map(|p| p.stats().handshakes_refused)
        .sum()
}

/// Step 3, the Istio guide's validation test: removes the pool's Istio references with the Avi
/// API, expects a 502 with a TLS error and refused handshakes, then waits (up to three
/// `full_sync_interval`s) for the controller's resync to restore them and expects a 200.
pub async fn validation_test(
    stack: &Stack,
    se: &SeClient,
    full_sync_interval: Duration,
    progress: &mut Progress,
) -> anyhow::Result<Validation> {
    let refused_before = refused_total(stack);
    let mut attempt = 0;
    let (removed_at, refused, pool_name) = loop {
        attempt += 1;
        let pool = stack.mesh_pool().await.map_err(anyhow::Error::msg)?;
        let name = pool["name"].as_str().unwrap_or_default().to_owned();
        stack.remove_istio_refs(&pool).await?;
        let removed_at = Instant::now();
        if attempt == 1 {
            progress.line(format!(
                "PUT /api/pool/{}: pki_profile_ref and ssl_key_and_certificate_ref removed (ssl_profile_ref kept)",
                pool["uuid"].as_str().unwrap_or("?")
            ));
        }
        let a = se.get("/get").await?;
        if a.status != 200 {
            break (removed_at, a, name);
        }
        // The controller's resync may have put them back in between; try again.
        let now = stack.mesh_pool().await.map_err(anyhow::Error::msg)?;
        if !stack.has_istio_refs(&now) || attempt >= 3 {
            bail!(
                "the request succeeded without the Istio references: {}",
                a.summary()
            );
        }
    };
    progress.line(format!(
        "GET http://{APP_HOST}/get → HTTP {}: {}",
        refused.status,
        refused.body.trim()
    ));
    if refused.status != 502 || !refused.body.contains("TLS") {
        bail!(
            "expected a 502 with a TLS error, got HTTP {}: {}",
            refused.status,
            refused.body.trim()
        );
    }
    let handshakes_refused = stack
        .eventually(
            "the pod to count the refused handshake",
            Duration::from_secs(5),
            || async {
                let n = refused_total(stack) - refused_before;
                if n > 0 {
                    Ok(n)
                } else {
                    Err("0 refused".to_owned())
                }
            },
        )
        .await?;
    let pool_error = stack.data_plane().pool(&pool_name).last_error;
    progress.detail(format!(
        "the STRICT pods refused {handshakes_refused} handshake(s) without a mesh client certificate; the pool's last error: {}",
        pool_error.as_deref().unwrap_or("-")
    ));

    progress.line(format!(
        "waiting for ako-gateway-api's full resync (FULL_SYNC_INTERVAL={} s) to put the references back",
        full_sync_interval.as_secs()
    ));
    let timeout = full_sync_interval * 3 + Duration::from_secs(20);
    stack
        .eventually(
            "the resync to restore the pool's Istio references",
            timeout,
            || async {
                let pool = stack.mesh_pool().await?;
                if stack.has_istio_refs(&pool) {
                    Ok(())
                } else {
                    Err("still without the references".to_owned())
                }
            },
        )
        .await?;
    let restored_after = removed_at.elapsed();
    progress.line(format!(
        "the pool names {} and {} again, {:.1} s after the edit",
        stack.names().pki_profile,
        stack.names().ssl_key_cert,
        restored_after.as_secs_f64()
    ));
    let restored = se.get("/get").await?;
    progress.line(format!(
        "GET http://{APP_HOST}/get → {}",
        restored.summary()
    ));
    if !restored.is_mesh_success() {
        bail!("after the resync: {}", restored.summary());
    }
    Ok(Validation {
        refused,
        pool_error,
        handshakes_refused,
        restored_after,
        restored,
    })
}

/// SHA-256 of `der`, lowercase hex.
pub fn sha256_hex(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Step 4: rotates the AKO pod's certificate (the three files `torn_window` apart) while two
/// clients send requests; fails unless the new serial reaches the controller, a pod sees the
/// Service Engine present the new leaf, and no request failed.
pub async fn rotate_under_traffic(
    stack: &Stack,
    se: &SeClient,
    torn_window: Duration,
    progress: &mut Progress,
) -> anyhow::Result<Rotation> {
    let serial_before = stack.avi_serial().await.map_err(anyhow::Error::msg)?;
    const REFUSED: &str = "ako_istio_validation_failures_total";
    let refused_before = stack.metric(0, REFUSED).await?;
    let load = LoadLoop::start(se, 2, 1_000_000, Duration::from_secs(120));
    progress.line(format!(
        "traffic: 2 clients sending GET {APP_HOST}/get through the Service Engine in a loop"
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let cert = stack.agent().rotate(torn_window).await?;
    progress.line(format!(
        "istio-agent wrote a new certificate, serial {}: key.pem, cert-chain.pem, root-cert.pem renamed in turn, {} ms apart (a torn set in between)",
        colon_hex(&cert.serial_hex),
        torn_window.as_millis()
    ));
    let want = hex_to_decimal(&cert.serial_hex).context("the issued serial is not hex")?;
    let serial_after = stack
        .eventually("the new serial on the controller", WAIT, || async {
            let s = stack.avi_serial().await?;
            if s == want {
                Ok(s)
            } else {
                Err(format!("serial {s}"))
            }
        })
        .await?;
    let published_after = started.elapsed();
    progress.line(format!(
        "Avi SSLKeyAndCertificate {}: serial {serial_before} → {serial_after}, {:.1} s after the first file",
        stack.names().ssl_key_cert,
        published_after.as_secs_f64()
    ));
    let sets_refused = stack.metric(0, REFUSED).await? - refused_before;
    if sets_refused > 0.0 {
        progress.detail(format!(
            "ako read the torn set and refused it ({REFUSED} +{sets_refused}, one per read while it retried), keeping the previous objects meanwhile"
        ));
    }
    let new_leaf = sha256_hex(&cert.leaf_der);
    let saw = stack
        .eventually("a pod to see the new client certificate", WAIT, || async {
            match se.get("/get").await {
                Ok(a) if a.client_cert_hash() == Some(new_leaf.as_str()) => Ok(()),
                Ok(a) => Err(format!(
                    "client certificate {}",
                    a.client_cert_hash().unwrap_or("none")
                )),
                Err(e) => Err(format!("{e:#}")),
            }
        })
        .await
        .is_ok();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let report = load.stop().await;
    progress.line(format!(
        "traffic: {} requests during the rotation, {} failed; the pods saw {} distinct client certificate(s), the last one the new leaf (SHA-256 {}…)",
        report.requests,
        report.failures,
        report.client_certs.len(),
        &new_leaf[..16]
    ));
    if report.failures > 0 {
        bail!(
            "{} of {} requests failed during the rotation; first: {}",
            report.failures,
            report.requests,
            report.first_failures.join(" | ")
        );
    }
    if !saw {
        bail!("no pod saw the Service Engine present the new certificate");
    }
    Ok(Rotation {
        serial_before,
        serial_after,
        issued_serial_hex: cert.serial_hex.clone(),
        published_after,
        new_leaf_sha256: new_leaf,
        pods_saw_new_cert: saw,
        sets_refused,
        load: report,
    })
}

fn summary(r: &DemoReport, progress: &mut Progress) {
    progress.raw("\n== 5. Summary");
    progress.raw(format!(
        "  1. ako published istio-secret ({}), PKIProfile {} and SSLKeyAndCertificate {}; ako-gateway-api gave pool {} both ({} mode, servers {}).",
        r.published.secret_keys.join(", "),
        r.published.pki_profile,
        r.published.ssl_key_cert,
        r.published.pool,
        r.service_type,
        r.published.pool_servers.join(", ")
    ));
    progress.raw(format!(
        "  2. Client → Service Engine (VIP {}) → STRICT pod: HTTP {}, principal {}.",
        r.reached.vip,
        r.reached.answer.status,
        r.reached
            .answer
            .echo
            .as_ref()
            .and_then(|e| e.principal.as_deref())
            .unwrap_or("-")
    ));
    progress.raw(format!(
        "  2b. Client → Service Engine (Ingress VIP {}) → STRICT pod: HTTP {}, pool {} with the same Istio objects.",
        r.ingress.vip, r.ingress.answer.status, r.ingress.pool
    ));
    progress.raw(format!(
        "  3. Without the references: HTTP {} ({}); the resync restored them in {:.1} s: HTTP {}.",
        r.validation.refused.status,
        r.validation.refused.body.trim(),
        r.validation.restored_after.as_secs_f64(),
        r.validation.restored.status
    ));
    progress.raw(format!(
        "  4. Rotation: serial {} → {} on the controller in {:.1} s; {} requests, {} failed.",
        r.rotation.serial_before,
        r.rotation.serial_after,
        r.rotation.published_after.as_secs_f64(),
        r.rotation.load.requests,
        r.rotation.load.failures
    ));
    progress.raw(format!(
        "  Done in {:.1} s after the build ({:.1} s building). Next: docs/demo.md (this demo, --keep-running), docs/istio-mtls.md (the guide), docs/avi-sim.md (the emulated Service Engine), docs/operations.md.",
        r.elapsed.as_secs_f64(),
        r.build.as_secs_f64()
    ));
}

async fn keep_running(
    stack: &Stack,
    r: &DemoReport,
    progress: &mut Progress,
    mut stop: std::pin::Pin<&mut impl Future<Output = ()>>,
) -> anyhow::Result<()> {
    let port = r.reached.local.port();
    let avi = stack.avi_sim().base_url();
    progress.raw(format!(
        "\nEverything keeps running until Ctrl-C (the certificate renews itself every {} s):\n\
         \n  export KUBECONFIG={kc}\n  kubectl get gateway,httproute -A\n  kubectl -n avi-system get secret istio-secret -o yaml\n\
         \n  Avi controller: {avi}  (user {u}, password {p})\n  curl -s -u {u}:{p} '{avi}/api/pool?include_name=true'\n  curl -s {avi}/_sim/data-plane\n\
         \n  VIP {vip}:80 is served on {local}:\n  curl --resolve {host}:{port}:127.0.0.1 http://{host}:{port}/get\n\
         \n  Logs: {logs}\n  Certificates: {certs}",
        stack.options().cert_ttl.as_secs() / 2,
        kc = stack.kubeconfig().display(),
        u = AVI_USER.0,
        p = AVI_USER.1,
        vip = r.reached.vip,
        local = r.reached.local,
        host = APP_HOST,
        logs = stack
            .logs()
            .iter()
            .map(|(_, p)| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        certs = stack.cert_dir().display(),
    ));
    loop {
        tokio::select! {
            biased;
            () = &mut stop => {
                progress.raw("\nstopping");
                return Ok(());
            }
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                stack.check_children()?;
            }
        }
    }
}
