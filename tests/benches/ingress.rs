//! The `ako` container's Ingress controller at scale (release builds, as processes, against
//! kube-sim and avi-sim):
//!
//! 1. cold start of `ako run` with 5,000 Ingresses (SNI, LARGE): the time until every Ingress
//!    has its pool in avi-sim and an address in its status, the Avi writes against the
//!    minimum, the peak RSS;
//! 2. both containers at once, with 5,000 Ingresses and 5,000 HTTPRoutes: the time until both
//!    are done, and each process's peak RSS;
//! 3. failover with 5,000 Ingresses: two `ako` replicas on one Lease; the leader is killed
//!    (SIGKILL) and an Ingress added; the time from the standby taking the Lease to the new
//!    Ingress's pool in avi-sim (beyond the Lease's own timing, which is measured too).
//!
//! `cargo bench -p system-tests --bench ingress` (`-- cold|both|failover` for one scenario)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use avi_sim::{AviSim, RunningSim};
use gateway_api::httproutes::HttpRoute;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use kube_sim::{KubeSim, SimConfig};
use serde_json::{Value, json};
use system_tests::{Proc, controller_command, peak_rss_kib, release_binaries, scenery};

const NAMESPACES: usize = 50;
const PER_NS: usize = 100;
const GATEWAYS: usize = 10;

fn base() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "avi-system"}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "avi-secret", "namespace": "avi-system"},
               "stringData": {"username": "admin", "password": "avi123"}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
               "metadata": {"name": "avi-lb", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
               "spec": {"controller": "ako.vmware.com/avi-lb"}}),
    ]
}

/// Per namespace, `PER_NS` Services with two endpoints each and an Ingress per Service (one
/// host each); with `routes`, an HTTPRoute per Service too, on `GATEWAYS` Gateways.
fn objects(routes: bool) -> Vec<Value> {
    let mut out = base();
    if routes {
        out.extend(scenery::gateways(GATEWAYS));
    }
    for n in 0..NAMESPACES {
        let ns = format!("ns-{n}");
        out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        for r in 0..PER_NS {
            out.extend(scenery::backend(n, r));
            out.push(ingress(
                &ns,
                &format!("ing-{r}"),
                &format!("i{r}.ns{n}.example.com"),
                &format!("svc-{r}"),
            ));
            if routes {
                out.push(scenery::http_route(n, r, (n * PER_NS + r) % GATEWAYS));
            }
        }
    }
    out
}

fn ingress(ns: &str, name: &str, host: &str, svc: &str) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": svc, "port": {"number": 80}}}}]}}]}})
}

struct World {
    avi: RunningSim,
    kube: KubeSim,
    client: kube::Client,
    _work: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn world(routes: bool) -> World {
    let avi = AviSim::builder().start().await.expect("avi-sim");
    let kube = KubeSim::start(SimConfig::default())
        .await
        .expect("kube-sim");
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    kube.install(crds).expect("crds");
    kube.install(objects(routes)).expect("objects");
    let work = tempfile::tempdir().expect("tempdir");
    let kubeconfig = work.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
    let client = kube::Client::try_from(kube::Config::new(kube.url().parse().expect("url")))
        .expect("client");
    World {
        avi,
        kube,
        client,
        _work: work,
        kubeconfig,
    }
}

/// `bin run` as replica `pod`, with Istio off.
fn spawn(bin: &Path, w: &World, pod: &str, leader_election: bool) -> Proc {
    let mut c = controller_command(bin, None, &w.avi.base_url(), &w.kubeconfig, pod);
    c.env("ISTIO_ENABLED", "false").env(
        "LEADER_ELECTION",
        if leader_election { "true" } else { "false" },
    );
    Proc(c.spawn().expect("spawn"))
}

/// Ingresses whose status shows an address.
async fn addressed(client: &kube::Client) -> usize {
    Api::<Ingress>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map(|l| {
            l.items
                .iter()
                .filter(|i| {
                    i.status
                        .as_ref()
                        .and_then(|s| s.load_balancer.as_ref())
                        .and_then(|lb| lb.ingress.as_ref())
                        .is_some_and(|v| v.iter().any(|e| e.ip.is_some()))
                })
                .count()
        })
        .unwrap_or(0)
}

/// HTTPRoutes whose status says Accepted.
async fn accepted_routes(client: &kube::Client) -> usize {
    Api::<HttpRoute>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map(|l| {
            l.items
                .iter()
                .filter(|r| {
                    r.status.as_ref().is_some_and(|s| {
                        s.parents.iter().any(|p| {
                            p.conditions
                                .iter()
                                .any(|c| c.type_ == "Accepted" && c.status == "True")
                        })
                    })
                })
                .count()
        })
        .unwrap_or(0)
}

fn owned_pools(avi: &RunningSim, owner: &str) -> usize {
    avi.with_store(|s| {
        s.all_objects()
            .into_iter()
            .filter(|o| {
                o.ty == "pool" && o.body.get("created_by").and_then(Value::as_str) == Some(owner)
            })
            .count()
    })
}

fn writes(avi: &RunningSim) -> u64 {
    ["POST", "PUT", "DELETE"]
        .iter()
        .flat_map(|m| {
            [
                "virtualservice",
                "vsvip",
                "pool",
                "poolgroup",
                "httppolicyset",
                "vsdatascriptset",
                "sslkeyandcertificate",
            ]
            .iter()
            .map(move |t| (*m, *t))
        })
        .map(|(m, t)| avi.count(m, t, None))
        .sum()
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |s: &str| which.is_empty() || which.iter().any(|w| w == s);
    let bins = release_binaries(&["ako", "ako-gateway-api"]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if wants("cold") {
        rt.block_on(cold(&bins[0]));
    }
    if wants("both") {
        rt.block_on(both(&bins[0], &bins[1]));
    }
    if wants("failover") {
        rt.block_on(failover(&bins[0]));
    }
}

async fn cold(ako: &Path) {
    let w = world(false).await;
    let total = NAMESPACES * PER_NS;
    let started = Instant::now();
    let child = spawn(ako, &w, "ako-0", false);
    let pid = child.0.id();
    let mut peak = 0;
    loop {
        peak = peak.max(peak_rss_kib(pid));
        if owned_pools(&w.avi, "ako-cluster") >= total && addressed(&w.client).await == total {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "cold start did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cold = started.elapsed();
    // SNI, LARGE: a pool per Ingress; per shard a VS, its VSVIP, the shared PG and DataScript.
    let minimum = (total + 8 * 4) as u64;
    let written = writes(&w.avi);
    tokio::time::sleep(Duration::from_secs(2)).await;
    peak = peak.max(peak_rss_kib(pid));
    println!(
        "ako cold start, {total} Ingresses (SNI, LARGE): {:.1} s until every Ingress has its pool and an address in its status",
        cold.as_secs_f64()
    );
    println!(
        "Avi writes: {written} (minimum {minimum}, ratio {:.3}); peak RSS of ako: {:.1} MiB",
        written as f64 / minimum as f64,
        peak as f64 / 1024.0
    );
    drop(child);
}

async fn both(ako: &Path, gw: &Path) {
    let w = world(true).await;
    let total = NAMESPACES * PER_NS;
    let started = Instant::now();
    let a = spawn(ako, &w, "ako-0", false);
    let g = spawn(gw, &w, "ako-0", false);
    let (pa, pg) = (a.0.id(), g.0.id());
    let (mut peak_a, mut peak_g) = (0, 0);
    let mut ingress_done = None;
    let mut routes_done = None;
    loop {
        peak_a = peak_a.max(peak_rss_kib(pa));
        peak_g = peak_g.max(peak_rss_kib(pg));
        if ingress_done.is_none()
            && owned_pools(&w.avi, "ako-cluster") >= total
            && addressed(&w.client).await == total
        {
            ingress_done = Some(started.elapsed());
        }
        if routes_done.is_none()
            && owned_pools(&w.avi, "ako-gw-cluster-avi-system") >= total
            && accepted_routes(&w.client).await == total
        {
            routes_done = Some(started.elapsed());
        }
        if let (Some(i), Some(r)) = (ingress_done, routes_done) {
            println!(
                "both containers, {total} Ingresses + {total} HTTPRoutes: Ingresses done in {:.1} s, HTTPRoutes in {:.1} s",
                i.as_secs_f64(),
                r.as_secs_f64()
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "both did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "peak RSS: ako {:.1} MiB, ako-gateway-api {:.1} MiB",
        peak_rss_kib(pa).max(peak_a) as f64 / 1024.0,
        peak_rss_kib(pg).max(peak_g) as f64 / 1024.0
    );
    drop((a, g));
}

async fn holder(client: &kube::Client) -> Option<String> {
    Api::<Lease>::namespaced(client.clone(), "avi-system")
        .get_opt("ako-leader")
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

async fn failover(ako: &Path) {
    let w = world(false).await;
    let total = NAMESPACES * PER_NS;
    let first = spawn(ako, &w, "ako-0", true);
    // The second replica starts once the first leads, so that ako-0 is the leader.
    let started = Instant::now();
    while holder(&w.client).await.as_deref() != Some("ako-0") {
        assert!(started.elapsed() < Duration::from_secs(60), "no leader");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = spawn(ako, &w, "ako-1", true);
    while !(owned_pools(&w.avi, "ako-cluster") >= total && addressed(&w.client).await == total) {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "cold start did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let the standby list everything (it is warm from its own start).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let killed = Instant::now();
    drop(first);
    Api::<Ingress>::namespaced(w.client.clone(), "ns-0")
        .patch(
            "late",
            &PatchParams::apply("bench").force(),
            &Patch::Apply(ingress("ns-0", "late", "late.example.com", "svc-0")),
        )
        .await
        .expect("a new Ingress");
    let pool = "cluster--late.example.com_-ns-0-late";
    let mut taken = None;
    loop {
        if taken.is_none() && holder(&w.client).await.as_deref() == Some("ako-1") {
            taken = Some(killed.elapsed());
        }
        let written = w.avi.with_store(|s| {
            s.all_objects()
                .into_iter()
                .any(|o| o.ty == "pool" && o.name == pool)
        });
        if let (Some(t), true) = (taken, written) {
            let done = killed.elapsed();
            println!(
                "failover, {total} Ingresses: leader killed (SIGKILL) → Lease taken by the standby in {:.1} s (the Lease's own timing) → the new Ingress's pool in avi-sim {:.0} ms later",
                t.as_secs_f64(),
                (done - t).as_secs_f64() * 1e3
            );
            break;
        }
        assert!(killed.elapsed() < Duration::from_secs(120), "no failover");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(second);
    drop(w.kube);
}
