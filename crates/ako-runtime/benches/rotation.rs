//! Rotation latency of the Istio pipeline: from the last rename to the new SSLKeyAndCertificate
//! stored in avi-sim, over 100 leaf rotations with the watcher's defaults, and the Avi writes
//! each rotation made. The renames come in both orders (key then chain, as istio-agent does,
//! and chain then key, as a hand edit can) with a random 0-300 ms gap between them. Prints
//! p50, p99 and max.
//!
//! `cargo bench -p ako-runtime --bench rotation`

use std::time::{Duration, Instant, SystemTime};

use ako_runtime::istio::{IstioNames, Pipeline, PipelineOptions, Publisher};
use avi_client::{AviClient, AviConfig, Credentials};
use avi_sim::AviSim;
use istio_certs::{CertStore, IstioBundle, WatchOptions, watch};
use istio_sim::{CaOptions, IstioCa, OutputCertsWriter, WorkloadRequest};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::PostParams;
use kube_sim::{KubeSim, SimConfig};

const ROTATIONS: usize = 100;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let avi = AviSim::builder().start().await.expect("avi-sim");
    let kube = KubeSim::start(SimConfig::default())
        .await
        .expect("kube-sim");
    let kube_client = kube::Client::try_from(kube::Config::new(kube.url().parse().expect("url")))
        .expect("client");
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "avi-system"}}))
            .expect("namespace");
    Api::<Namespace>::all(kube_client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    let avi_client = AviClient::new(AviConfig::new(
        avi.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    ))
    .expect("avi client");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = IstioCa::new(CaOptions::default()).expect("ca");
    let writer = OutputCertsWriter::new(dir.path());
    let first = ca.issue(&WorkloadRequest::default()).expect("issue");
    writer.write(&first).expect("write");

    let store = CertStore::new();
    let _watcher = watch(dir.path(), WatchOptions::default(), store.clone());
    let names = IstioNames {
        cluster: "cluster".into(),
        namespace: "avi-system".into(),
    };
    let (mut status, _task) = Pipeline::new(
        Publisher::new(avi_client, kube_client, names),
        store,
        PipelineOptions::default(),
    )
    .spawn();
    let fingerprint = |c: &istio_sim::WorkloadCert| {
        IstioBundle::from_pem(
            c.cert_chain_pem.as_bytes(),
            c.key_pem.as_bytes(),
            c.root_cert_pem.as_bytes(),
            SystemTime::now(),
        )
        .expect("valid set")
        .fingerprint()
    };
    let fp = fingerprint(&first);
    status
        .wait_for(|s| s.published.as_ref() == Some(&fp))
        .await
        .expect("first set");

    let mut latencies = Vec::with_capacity(ROTATIONS);
    let mut writes = Vec::with_capacity(ROTATIONS);
    use rand::Rng as _;
    let mut rng = rand::rng();
    for i in 0..ROTATIONS {
        let next = ca.issue(&WorkloadRequest::default()).expect("issue");
        let fp = fingerprint(&next);
        let before = avi_writes(&avi);
        let gap = Duration::from_millis(rng.random_range(0..=300));
        if i % 2 == 0 {
            writer
                .write_files(Some(&next.key_pem), None, None)
                .expect("key");
            tokio::time::sleep(gap).await;
            writer
                .write_files(None, Some(&next.cert_chain_pem), None)
                .expect("chain");
        } else {
            writer
                .write_files(None, Some(&next.cert_chain_pem), None)
                .expect("chain");
            tokio::time::sleep(gap).await;
            writer
                .write_files(Some(&next.key_pem), None, None)
                .expect("key");
        }
        let renamed = Instant::now();
        tokio::time::timeout(
            Duration::from_secs(10),
            status.wait_for(|s| s.published.as_ref() == Some(&fp)),
        )
        .await
        .expect("published in time")
        .expect("pipeline alive");
        latencies.push(renamed.elapsed());
        writes.push(avi_writes(&avi) - before);
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    let total_writes: u64 = writes.iter().sum();
    println!(
        "rotation latency over {ROTATIONS} rotations (both rename orders, 0-300 ms gaps): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
    );
    println!(
        "Avi writes per rotation: {:.2} (min {}, max {}); 400s from avi-sim: {}",
        total_writes as f64 / ROTATIONS as f64,
        writes.iter().min().copied().unwrap_or(0),
        writes.iter().max().copied().unwrap_or(0),
        avi.request_log().iter().filter(|e| e.status == 400).count()
    );
}

fn avi_writes(avi: &avi_sim::RunningSim) -> u64 {
    let mut n = 0;
    for method in ["PUT", "POST"] {
        for kind in ["pkiprofile", "sslkeyandcertificate"] {
            n += avi.count(method, kind, None);
        }
    }
    n
}
