//! Sync plans against the emulated controller: convergence, idempotence, ownership, and a soak
//! under injected faults.

use std::collections::BTreeSet;
use std::time::Duration;

use avi_client::models::{
    IpAddr, Pool, PoolGroup, PoolGroupMember, Server, Service, Vip, VirtualService, VsVip,
};
use avi_client::{
    AviClient, AviConfig, AviRef, Credentials, Desired, Kind, RetryPolicy, StepOutcome,
};
use avi_sim::{AviSim, FaultRule, RunningSim};

const OWNER: &str = "ako-sync";

fn provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn client(sim: &RunningSim) -> AviClient {
    let mut c = AviConfig::new(
        sim.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    );
    c.retry = RetryPolicy {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(40),
        max_elapsed: Duration::from_secs(30),
    };
    AviClient::new(c).unwrap()
}

fn member(pool: &str) -> PoolGroupMember {
    PoolGroupMember {
        pool_ref: AviRef::by_name(pool),
        ratio: None,
        priority_label: None,
        deployment_state: None,
        extra: Default::default(),
    }
}

/// `vs` virtual services, each with a VIP and a pool group of two pools (+ `extra` lone pools).
fn desired(vs: usize, lone_pools: usize, port: u16) -> Vec<Desired> {
    let mut out = Vec::new();
    let own = Some(OWNER.to_owned());
    for i in 0..vs {
        for j in 0..2 {
            let p = Pool {
                name: format!("pool-{i}-{j}"),
                created_by: own.clone(),
                default_server_port: Some(port),
                servers: vec![
                    Server::new(IpAddr::v4(format!("10.1.{}.{}", i % 250, j + 1))).with_port(8080),
                ],
                ..Pool::default()
            };
            out.push(Desired::of(&p).unwrap());
        }
        let pg = PoolGroup {
            name: format!("pg-{i}"),
            created_by: own.clone(),
            members: vec![
                member(&format!("pool-{i}-0")),
                member(&format!("pool-{i}-1")),
            ],
            ..PoolGroup::default()
        };
        out.push(Desired::of(&pg).unwrap());
        let vip = VsVip {
            name: format!("vip-{i}"),
            created_by: own.clone(),
            vip: vec![Vip::with_address(
                "0",
                IpAddr::v4(format!("10.200.{}.{}", i / 250, i % 250 + 1)),
            )],
            ..VsVip::default()
        };
        out.push(Desired::of(&vip).unwrap());
        let v = VirtualService {
            name: format!("vs-{i}"),
            created_by: own.clone(),
            services: vec![Service::port(80)],
            vsvip_ref: Some(AviRef::by_name(format!("vip-{i}"))),
            pool_group_ref: Some(AviRef::by_name(format!("pg-{i}"))),
            ..VirtualService::default()
        };
        out.push(Desired::of(&v).unwrap());
    }
    for k in 0..lone_pools {
        let p = Pool {
            name: format!("lone-{k}"),
            created_by: own.clone(),
            default_server_port: Some(port),
            ..Pool::default()
        };
        out.push(Desired::of(&p).unwrap());
    }
    out
}

const KINDS: &[Kind] = &[
    Kind::Pool,
    Kind::PoolGroup,
    Kind::VsVip,
    Kind::VirtualService,
];

fn writes(sim: &RunningSim) -> u64 {
    ["POST", "PUT", "PATCH", "DELETE"]
        .iter()
        .flat_map(|m| KINDS.iter().map(move |k| (*m, k.path())))
        .map(|(m, k)| sim.count(m, k, None))
        .sum()
}

/// Ours: `created_by`, or for a VsVip (which has no such field) the `created_by` marker.
fn owned(o: &avi_sim::Object) -> bool {
    o.body.get("created_by").and_then(|c| c.as_str()) == Some(OWNER)
        || o.body
            .get("markers")
            .and_then(|m| m.as_array())
            .is_some_and(|ms| {
                ms.iter()
                    .any(|m| m["key"] == "created_by" && m["values"][0] == OWNER)
            })
}

/// Names of our objects of a kind on the controller, asserting there are no duplicates.
fn names(sim: &RunningSim, kind: Kind) -> BTreeSet<String> {
    sim.with_store(|s| {
        let all: Vec<String> = s
            .all_objects()
            .into_iter()
            .filter(|o| o.ty == kind.path() && owned(o))
            .map(|o| o.name.clone())
            .collect();
        let set: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(set.len(), all.len(), "duplicate {kind} objects");
        set
    })
}

fn expected(desired: &[Desired], kind: Kind) -> BTreeSet<String> {
    desired
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.name().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_converges_then_writes_nothing_and_never_touches_foreign_objects() {
    provider();
    let sim = AviSim::builder().start().await.unwrap();
    let c = client(&sim);
    // Foreign objects: one with a name we also want, one unrelated.
    let foreign = Pool {
        name: "pool-0-0".into(),
        created_by: Some("someone-else".into()),
        ..Pool::default()
    };
    c.create(&foreign).await.unwrap();
    let unrelated = Pool {
        name: "theirs".into(),
        created_by: Some("someone-else".into()),
        ..Pool::default()
    };
    c.create(&unrelated).await.unwrap();
    let theirs_before = sim.with_store(|s| {
        s.all_objects()
            .into_iter()
            .filter(|o| o.name == "theirs" || o.name == "pool-0-0")
            .map(|o| o.last_modified)
            .collect::<Vec<_>>()
    });

    let want = desired(10, 5, 80);
    let plan = c.plan(&want, OWNER, KINDS).await.unwrap();
    assert_eq!(plan.steps.len(), want.len());
    let report = c.apply(&plan).await;
    // The one name held by someone else fails with an ownership error; what depends on it is skipped.
    let failed: Vec<_> = report
        .steps
        .iter()
        .filter(|s| s.3 != StepOutcome::Done)
        .collect();
    assert!(
        failed.iter().any(|s| s.1 == "pool-0-0"
            && matches!(&s.3, StepOutcome::Failed(m) if m.contains("someone-else"))),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|s| s.1 == "pg-0" && s.3 == StepOutcome::Skipped)
    );
    assert!(
        failed
            .iter()
            .any(|s| s.1 == "vs-0" && s.3 == StepOutcome::Skipped)
    );
    assert_eq!(failed.len(), 3, "{failed:?}");
    let theirs_after = sim.with_store(|s| {
        s.all_objects()
            .into_iter()
            .filter(|o| o.name == "theirs" || o.name == "pool-0-0")
            .map(|o| o.last_modified)
            .collect::<Vec<_>>()
    });
    assert_eq!(theirs_before, theirs_after, "foreign objects were modified");

    // Without the conflicting name: converges, and a second sync writes nothing.
    let want: Vec<Desired> = desired(10, 5, 80)
        .into_iter()
        .filter(|d| !d.name().ends_with("-0") || d.kind == Kind::Pool && d.name() != "pool-0-0")
        .filter(|d| {
            !matches!(
                d.name(),
                "pg-0" | "vs-0" | "vip-0" | "pool-0-1" | "pool-0-0"
            )
        })
        .collect();
    let report = c.sync(&want, OWNER, KINDS).await.unwrap();
    assert_eq!(
        report.failures(),
        0,
        "{:?}",
        report
            .steps
            .iter()
            .filter(|s| s.3 != StepOutcome::Done)
            .collect::<Vec<_>>()
    );
    let before = writes(&sim);
    let plan = c.plan(&want, OWNER, KINDS).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    let report = c.apply(&plan).await;
    assert_eq!(report.unchanged, want.len());
    assert_eq!(writes(&sim), before, "second sync must not write");
    for kind in KINDS {
        assert_eq!(names(&sim, *kind), expected(&want, *kind), "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shrinking_the_desired_set_deletes_top_down_without_refusals() {
    provider();
    let sim = AviSim::builder().start().await.unwrap();
    let c = client(&sim);
    let full = desired(6, 0, 80);
    assert_eq!(c.sync(&full, OWNER, KINDS).await.unwrap().failures(), 0);
    // Keep vs 0..3; also change a port on the kept pools.
    let kept: Vec<Desired> = desired(3, 0, 8080);
    let plan = c.plan(&kept, OWNER, KINDS).await.unwrap();
    let deletes = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, avi_client::Action::Delete { .. }))
        .count();
    assert_eq!(deletes, 3 * 5);
    let updates = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, avi_client::Action::Update { .. }))
        .count();
    assert_eq!(updates, 3 * 2);
    let report = c.apply(&plan).await;
    assert_eq!(report.failures(), 0, "{report:?}");
    assert_eq!(
        sim.count("DELETE", "pool", Some(403))
            + sim.count("DELETE", "poolgroup", Some(403))
            + sim.count("DELETE", "vsvip", Some(403)),
        0
    );
    for kind in KINDS {
        assert_eq!(names(&sim, *kind), expected(&kept, *kind), "{kind}");
    }
}

/// The soak: 1,000 objects synced while 20 % of requests get a 5xx, some connections are reset
/// and every session is expired every 100 ms. Sync rounds repeat (as a controller's reconcile
/// loop would) until one finishes clean; the controller then holds exactly the desired set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_converges_under_faults() {
    provider();
    let sim = AviSim::builder().start().await.unwrap();
    let c = client(&sim);
    // 160 VS × (2 pools + pg + vip + vs) = 800, + 200 lone pools = 1,000.
    let want = desired(160, 200, 80);
    assert_eq!(want.len(), 1000);
    // Leftovers from an earlier life that must go.
    let stale = desired(3, 0, 80).into_iter().map(|mut d| {
        d.body["name"] = format!("old-{}", d.name()).into();
        d
    });
    let stale: Vec<Desired> = stale.collect();
    let fixed: Vec<Desired> = stale
        .iter()
        .map(|d| {
            let mut d = d.clone();
            // Point the stale objects' refs at the stale names.
            let s = serde_json::to_string(&d.body)
                .unwrap()
                .replace("name=pool-", "name=old-pool-")
                .replace("name=pg-", "name=old-pg-")
                .replace("name=vip-", "name=old-vip-");
            d.body = serde_json::from_str(&s).unwrap();
            d
        })
        .collect();
    assert_eq!(c.sync(&fixed, OWNER, KINDS).await.unwrap().failures(), 0);

    sim.add_fault(FaultRule {
        error_rate: 0.2,
        status: 503,
        ..FaultRule::default()
    });
    sim.add_fault(FaultRule {
        reset_rate: 0.03,
        ..FaultRule::default()
    });
    let expirer = {
        let base = sim.base_url();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = http
                    .post(format!("{base}/_sim/sessions/expire"))
                    .send()
                    .await;
            }
        })
    };
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds <= 10, "no convergence after 10 rounds");
        match c.sync(&want, OWNER, KINDS).await {
            Ok(report) if report.failures() == 0 => break,
            Ok(report) => eprintln!(
                "round {rounds}: {} of {} steps failed",
                report.failures(),
                report.steps.len()
            ),
            Err(e) => eprintln!("round {rounds}: planning failed: {e}"),
        }
    }
    expirer.abort();
    sim.clear_faults();
    let injected = sim
        .counters()
        .iter()
        .filter(|c| c.status == 503 || c.status == 0)
        .map(|c| c.count)
        .sum::<u64>();
    eprintln!(
        "soak converged in {rounds} round(s); {injected} faults injected; client stats {:?}",
        c.stats()
    );
    assert!(injected > 100, "the soak must have hit faults: {injected}");
    for kind in KINDS {
        assert_eq!(names(&sim, *kind), expected(&want, *kind), "{kind}");
    }
    // And it is stable: one more plan is empty.
    assert!(c.plan(&want, OWNER, KINDS).await.unwrap().is_empty());
}
