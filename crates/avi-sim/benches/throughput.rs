//! Throughput of the emulator on loopback: 8 concurrent logged-in clients, GET by name and PUT
//! of a pool, with 100 and with 10,000 pools stored (GET by name is an index lookup, so the two
//! should match).
//!
//! `cargo bench -p avi-sim --bench throughput` (prints figures; `AVI_BENCH_SECS` sets the
//! measuring time per case, default 5).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use avi_sim::store::{ADMIN, TenantScope, WriteOptions};
use avi_sim::{AviSim, RunningSim};
use serde_json::{Value, json};

const CLIENTS: usize = 8;

struct Client {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

async fn login(sim: &RunningSim) -> Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let base = sim.base_url();
    let resp = http
        .post(format!("{base}/login"))
        .json(&json!({"username": "admin", "password": "avi123"}))
        .send()
        .await
        .unwrap();
    let csrf = resp
        .cookies()
        .find(|c| c.name() == "csrftoken")
        .unwrap()
        .value()
        .to_owned();
    Client { http, base, csrf }
}

fn seed(sim: &RunningSim, pools: usize) {
    sim.with_store_mut(|s| {
        let admin = TenantScope::One(ADMIN.to_owned());
        for i in s.count("pool")..pools {
            let body = json!({"name": format!("pool-{i}"),
                "servers": [{"ip": {"addr": format!("10.{}.{}.{}", i / 65536, i / 256 % 256, i % 256), "type": "V4"}, "port": 8080}]});
            s.create("pool", body, &admin, None, &WriteOptions::default()).unwrap();
        }
    });
}

/// Runs `CLIENTS` loops of `op` for `secs`; returns (requests/s, p50, p99).
async fn drive<F, Fut>(clients: &[Arc<Client>], secs: u64, op: F) -> (f64, Duration, Duration)
where
    F: Fn(Arc<Client>, usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for (id, c) in clients.iter().enumerate() {
        let (c, op, done) = (c.clone(), op.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                op(c.clone(), id, n).await;
                lat.push(t.elapsed());
                n += 1;
            }
            done.fetch_add(n, Ordering::Relaxed);
            lat
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    (
        done.load(Ordering::Relaxed) as f64 / elapsed,
        pct(0.5),
        pct(0.99),
    )
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let secs: u64 = std::env::var("AVI_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = AviSim::builder().start().await.unwrap();
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            clients.push(Arc::new(login(&sim).await));
        }
        println!("avi-sim throughput, {CLIENTS} concurrent clients on loopback, {secs} s per case");
        let sizes: Vec<usize> = std::env::var("AVI_BENCH_POOLS").ok().map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect()).unwrap_or_else(|| vec![100, 10_000]);
        for pools in sizes {
            let started = Instant::now();
            seed(&sim, pools);
            println!("  seeded {pools} pools in {:.1} s", started.elapsed().as_secs_f64());
            let (rps, p50, p99) = drive(&clients, secs, move |c, id, n| async move {
                let i = (n as usize * 7919 + id * 104_729) % pools;
                let r = c.http.get(format!("{}/api/pool?name=pool-{i}", c.base)).send().await.unwrap();
                assert_eq!(r.status(), 200);
                let v: Value = r.json().await.unwrap();
                assert_eq!(v["count"], 1);
            })
            .await;
            println!("  GET by name, {pools:>6} pools: {rps:>8.0} req/s  p50 {p50:?}  p99 {p99:?}");
            let (rps, p50, p99) = drive(&clients, secs, move |c, id, n| async move {
                // Each client rewrites its own pool: no 412s between clients.
                let body = json!({"name": format!("pool-{id}"), "default_server_port": 8000 + (n % 1000),
                    "servers": [{"ip": {"addr": "10.0.0.1", "type": "V4"}, "port": 8080}]});
                let uuid = format!("{}", id);
                let _ = uuid;
                let r = c
                    .http
                    .get(format!("{}/api/pool?name=pool-{id}&fields=uuid", c.base))
                    .send()
                    .await
                    .unwrap();
                let v: Value = r.json().await.unwrap();
                let uuid = v["results"][0]["uuid"].as_str().unwrap().to_owned();
                let r = c
                    .http
                    .put(format!("{}/api/pool/{uuid}", c.base))
                    .header("X-CSRFToken", &c.csrf)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            })
            .await;
            println!(
                "  GET uuid + PUT pool, {pools:>6} pools: {rps:>8.0} pairs/s ({:.0} req/s)  p50 {p50:?}  p99 {p99:?}",
                rps * 2.0
            );
        }
    });
}
