//! Cold start of `ako-gateway-api run` (release build, as a process) with 5,000 HTTPRoutes in
//! kube-sim: the time until every route has its child VS in avi-sim and an Accepted status and
//! every Gateway is Programmed with its address, the Avi writes against the minimum, the
//! process's peak RSS; then one endpoint change and the time until its pool holds the new server.
//!
//! Last, the same objects written by avi-client alone into a fresh avi-sim (the translation's
//! model synced as the controller syncs it, same concurrency): the floor the cold start is
//! compared with, measured in the same run.
//!
//! `cargo bench -p system-tests --bench cold_start` (`COLD_START_ROUTES=10000` for another
//! count; the routes are spread over 50 namespaces)

use std::path::PathBuf;

use std::time::{Duration, Instant};
use system_tests::{Proc, controller_command, peak_rss_kib, scenery};

use avi_sim::AviSim;
use gateway_api::gateways::Gateway;
use gateway_api::httproutes::HttpRoute;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use kube_sim::{KubeSim, SimConfig};
use serde_json::{Value, json};

const NAMESPACES: usize = 50;
const GATEWAYS: usize = 10;

/// Routes per namespace: `COLD_START_ROUTES` (default 5,000) over the namespaces.
fn routes_per_ns() -> usize {
    std::env::var("COLD_START_ROUTES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(5_000)
        .div_ceil(NAMESPACES)
}

fn binary() -> PathBuf {
    system_tests::release_binaries(&["ako-gateway-api"]).remove(0)
}

/// Gateways with `Programmed=True` and an address.
async fn programmed(gateways: &Api<Gateway>) -> usize {
    gateways
        .list(&ListParams::default())
        .await
        .map(|l| {
            l.items
                .iter()
                .filter_map(|g| g.status.as_ref())
                .filter(|s| {
                    s.addresses.as_ref().is_some_and(|a| !a.is_empty())
                        && s.conditions
                            .iter()
                            .flatten()
                            .any(|c| c.type_ == "Programmed" && c.status == "True")
                })
                .count()
        })
        .unwrap_or(0)
}

fn objects() -> Vec<Value> {
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "avi-system"}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "avi-secret", "namespace": "avi-system"},
               "stringData": {"username": "admin", "password": "avi123"}}),
    ];
    out.extend(scenery::gateways(GATEWAYS));
    for n in 0..NAMESPACES {
        out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("ns-{n}")}}));
        for r in 0..routes_per_ns() {
            out.extend(scenery::backend(n, r));
            out.push(scenery::http_route(
                n,
                r,
                (n * routes_per_ns() + r) % GATEWAYS,
            ));
        }
    }
    out
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bin = binary();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(bin));
}

async fn run(bin: PathBuf) {
    let avi = AviSim::builder().start().await.expect("avi-sim");
    let kube = KubeSim::start(SimConfig::default())
        .await
        .expect("kube-sim");
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    kube.install(crds).expect("crds");
    kube.install(objects()).expect("objects");
    let work = tempfile::tempdir().expect("tempdir");
    let kubeconfig = work.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");

    let routes_total = NAMESPACES * routes_per_ns();
    let started = Instant::now();
    // COLD_START_WRAP="heaptrack -o /tmp/gw" runs the controller under a profiler.
    let wrap = std::env::var("COLD_START_WRAP")
        .ok()
        .filter(|w| !w.trim().is_empty());
    let child = Proc(
        controller_command(&bin, wrap.as_deref(), &avi.base_url(), &kubeconfig, "ako-0")
            .env("LEADER_ELECTION", "false")
            .spawn()
            .expect("spawn"),
    );
    let pid = child.0.id();
    let client = kube::Client::try_from(kube::Config::new(kube.url().parse().expect("url")))
        .expect("client");
    let routes: Api<HttpRoute> = Api::all(client.clone());
    let gateways: Api<Gateway> = Api::namespaced(client.clone(), "gateways");
    let children_expected = routes_total + GATEWAYS;
    let mut peak = 0;
    loop {
        peak = peak.max(peak_rss_kib(pid));
        let vs = avi.with_store(|s| s.count("virtualservice"));
        if vs >= children_expected {
            let accepted = routes
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
                .unwrap_or(0);
            if accepted == routes_total && programmed(&gateways).await == GATEWAYS {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "cold start did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cold = started.elapsed();
    let writes: u64 = ["POST", "PUT", "DELETE"]
        .iter()
        .flat_map(|m| {
            [
                "virtualservice",
                "vsvip",
                "pool",
                "poolgroup",
                "httppolicyset",
            ]
            .iter()
            .map(move |t| (*m, *t))
        })
        .map(|(m, t)| avi.count(m, t, None))
        .sum();
    // Parents, VIPs, the default policy, and a child, a pool group and a pool per route.
    let minimum = (GATEWAYS * 2 + 1 + routes_total * 3) as u64;
    println!(
        "cold start, {routes_total} HTTPRoutes on {GATEWAYS} Gateways: {:.1} s until every route has its child VS and Accepted status and every Gateway is Programmed with its VIP",
        cold.as_secs_f64()
    );
    println!(
        "Avi writes: {writes} (minimum {minimum}, ratio {:.3})",
        writes as f64 / minimum as f64
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    peak = peak.max(peak_rss_kib(pid));
    println!(
        "peak RSS of ako-gateway-api: {:.1} MiB",
        peak as f64 / 1024.0
    );

    // One endpoint change. The pool of svc-42 is found first, so that waiting for it reads
    // one object: scanning 15,000 under the store's lock would hold up the very PUT measured.
    let marker = |o: &avi_sim::store::Object, key: &str| {
        o.body
            .get("markers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| m.get("key") == Some(&json!(key)))
            .and_then(|m| m.pointer("/values/0"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let pool_uuid = avi
        .with_store(|s| {
            s.all_objects().into_iter().find_map(|o| {
                (o.ty == "pool"
                    && marker(o, "BackendName").as_deref() == Some("svc-42")
                    && marker(o, "BackendNs").as_deref() == Some("ns-7"))
                .then(|| o.uuid.clone())
            })
        })
        .expect("the pool of ns-7/svc-42");
    let slices: Api<EndpointSlice> = Api::namespaced(client, "ns-7");
    let changed = Instant::now();
    slices
        .patch(
            "svc-42-abc",
            &PatchParams::default(),
            &Patch::Merge(json!({"endpoints": [
                {"addresses": ["10.250.0.99"], "conditions": {"ready": true}}]})),
        )
        .await
        .expect("patch");
    loop {
        // Read the emulator's store directly: listing 5,000 pools over HTTP would be most of
        // what is measured.
        let arrived = avi.with_store(|s| {
            s.object("pool", &pool_uuid).is_some_and(|o| {
                o.body
                    .get("servers")
                    .and_then(Value::as_array)
                    .is_some_and(|v| {
                        v.iter()
                            .any(|s| s.pointer("/ip/addr") == Some(&json!("10.250.0.99")))
                    })
            })
        });
        if arrived {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(60),
            "endpoint change never arrived"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    println!(
        "endpoint change → pool updated in avi-sim: {:.0} ms",
        changed.elapsed().as_secs_f64() * 1e3
    );
    drop(child);
    let sync = same_writes_by_avi_client().await;
    println!(
        "cold start / avi-client sync of the same objects: {:.2} (goal ≤ 1.2)",
        cold.as_secs_f64() / sync.as_secs_f64()
    );
}

/// The floor: the translation of the same objects synced by avi-client alone into a fresh
/// avi-sim, as the controller syncs (default client settings, the kinds it owns).
async fn same_writes_by_avi_client() -> Duration {
    use avi_client::{AviClient, AviConfig, Credentials};
    let fresh = AviSim::builder().start().await.expect("avi-sim");
    let mut snapshot = gateway_translate::Snapshot::default();
    for o in objects() {
        // Secrets and the like are not the translation's input.
        let _ = snapshot.insert_json(o);
    }
    let settings = gateway_translate::Settings {
        cluster_name: "cluster".into(),
        ..gateway_translate::Settings::default()
    };
    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    let desired = gateway_translate::translate(&snapshot, &settings, &now)
        .model
        .desired()
        .expect("desired");
    let client = AviClient::new(AviConfig::new(
        fresh.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    ))
    .expect("client");
    let started = Instant::now();
    let report = client
        .sync(
            &desired,
            &settings.created_by(),
            // An object of ours the model no longer has is deleted, as the controller does.
            ako_runtime::gateway::OWNED_KINDS,
        )
        .await
        .expect("sync");
    let took = started.elapsed();
    assert_eq!(report.failures(), 0);
    println!(
        "avi-client sync of the same {} objects into a fresh avi-sim: {:.1} s",
        desired.len(),
        took.as_secs_f64()
    );
    took
}
