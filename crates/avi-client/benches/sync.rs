//! Cold sync of 10,000 pools + 5,000 pool groups into avi-sim on loopback with concurrency 8:
//! wall time, requests made, the ratio to the minimum (one write per object), then the second
//! run's writes (0 expected).
//!
//! `cargo bench -p avi-client --bench sync` (`SYNC_POOLS` changes the size; pool groups are half).

use std::time::{Duration, Instant};

use avi_client::models::{IpAddr, Pool, PoolGroup, PoolGroupMember, Server};
use avi_client::{AviClient, AviConfig, AviRef, Credentials, Desired, Kind};
use avi_sim::{AviSim, RunningSim, SimConfig};

const OWNER: &str = "ako-bench";

fn desired(pools: usize) -> Vec<Desired> {
    let own = Some(OWNER.to_owned());
    let mut out = Vec::with_capacity(pools + pools / 2);
    for i in 0..pools {
        let p = Pool {
            name: format!("bench-pool-{i}"),
            created_by: own.clone(),
            servers: vec![
                Server::new(IpAddr::v4(format!(
                    "10.{}.{}.{}",
                    i / 65536,
                    i / 256 % 256,
                    i % 256
                )))
                .with_port(8080),
            ],
            ..Pool::default()
        };
        out.push(Desired::of(&p).unwrap());
    }
    for g in 0..pools / 2 {
        let members = (0..2)
            .map(|j| PoolGroupMember::new(AviRef::by_name(format!("bench-pool-{}", 2 * g + j))))
            .collect();
        let pg = PoolGroup {
            name: format!("bench-pg-{g}"),
            created_by: own.clone(),
            members,
            ..PoolGroup::default()
        };
        out.push(Desired::of(&pg).unwrap());
    }
    out
}

fn requests(sim: &RunningSim) -> (u64, u64) {
    let counters = sim.counters();
    let total = counters.iter().map(|c| c.count).sum();
    let writes = counters
        .iter()
        .filter(|c| {
            matches!(c.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
                && c.object_type != "login"
        })
        .map(|c| c.count)
        .sum();
    (total, writes)
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pools: usize = std::env::var("SYNC_POOLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = AviSim::builder().config(SimConfig { log_capacity: 0, ..SimConfig::default() }).start().await.unwrap();
        let mut cfg = AviConfig::new(sim.base_url(), Credentials::Password { username: "admin".into(), password: "avi123".into() });
        cfg.concurrency = 8;
        cfg.request_timeout = Duration::from_secs(30);
        let client = AviClient::new(cfg).unwrap();
        let want = desired(pools);
        let kinds = [Kind::Pool, Kind::PoolGroup];
        println!("cold sync of {} pools + {} pool groups into avi-sim (loopback, concurrency 8)", pools, pools / 2);

        let started = Instant::now();
        let plan = client.plan(&want, OWNER, &kinds).await.unwrap();
        let planned = started.elapsed();
        let report = client.apply(&plan).await;
        let wall = started.elapsed();
        assert_eq!(report.failures(), 0);
        let (total, writes) = requests(&sim);
        println!("  first run:  {:.2} s wall ({:.2} s planning), {} requests, {} writes for {} objects: {:.3}x the minimum of one write per object, {:.0} objects/s",
            wall.as_secs_f64(), planned.as_secs_f64(), total, writes, want.len(), writes as f64 / want.len() as f64, want.len() as f64 / wall.as_secs_f64());

        sim.clear_log();
        let started = Instant::now();
        let report = client.sync(&want, OWNER, &kinds).await.unwrap();
        let wall = started.elapsed();
        let (total, writes) = requests(&sim);
        println!("  second run: {:.2} s wall, {} requests (listing), {} writes, {} unchanged",
            wall.as_secs_f64(), total, writes, report.unchanged);
        assert_eq!(writes, 0);
    });
}
