//! The client against the emulated controller: every error path, ensure, plans.

use std::time::{Duration, Instant};

use avi_client::models::{IpAddr, Pool, PoolGroup, PoolGroupMember, Server};
use avi_client::{
    AviClient, AviConfig, AviError, AviRef, Credentials, Ensured, RetryPolicy, TlsVerification,
};
use avi_sim::{AviSim, FaultRule, RunningSim, SimConfig};

const OWNER: &str = "ako-test";

fn provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn config(sim: &RunningSim) -> AviConfig {
    let mut c = AviConfig::new(
        sim.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    );
    c.retry = RetryPolicy {
        max_attempts: 8,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        max_elapsed: Duration::from_secs(30),
    };
    c
}

async fn setup() -> (RunningSim, AviClient) {
    provider();
    let sim = AviSim::builder().start().await.unwrap();
    let client = AviClient::new(config(&sim)).unwrap();
    (sim, client)
}

fn pool(name: &str, port: u16) -> Pool {
    Pool {
        name: name.into(),
        created_by: Some(OWNER.into()),
        default_server_port: Some(port),
        servers: vec![Server::new(IpAddr::v4("10.0.0.1")).with_port(8080)],
        ..Pool::default()
    }
}

#[tokio::test]
async fn typed_crud_and_pagination() {
    let (sim, client) = setup().await;
    let created = client.create(&pool("p1", 80)).await.unwrap();
    assert!(created.uuid.as_deref().unwrap().starts_with("pool-"));
    let got: Pool = client.get_by_name("p1").await.unwrap().unwrap();
    assert_eq!(got.default_server_port, Some(80));
    assert_eq!(got.servers[0].port, Some(8080));
    // Fields we do not model survive a read-modify-write.
    assert!(got.extra.contains_key("lb_algorithm_core_nonaffinity") || got.lb_algorithm.is_some());
    let mut changed = got.clone();
    changed.default_server_port = Some(8443);
    let updated = client.update(&changed).await.unwrap();
    assert_eq!(updated.default_server_port, Some(8443));
    assert!(
        client
            .delete_by_name::<Pool>("p1", Some(OWNER))
            .await
            .unwrap()
    );
    assert!(client.get_by_name::<Pool>("p1").await.unwrap().is_none());
    // Already gone: success, not an error.
    client
        .delete_raw(avi_client::Kind::Pool, created.uuid.as_deref().unwrap())
        .await
        .unwrap();

    for i in 0..250 {
        client
            .create(&pool(&format!("page-{i:03}"), 80))
            .await
            .unwrap();
    }
    let all: Vec<Pool> = client.list_owned(OWNER).await.unwrap();
    assert_eq!(all.len(), 250);
    // Two pages of 200.
    let lists = sim
        .request_log()
        .iter()
        .filter(|e| e.method == "GET" && e.path.contains("created_by="))
        .count();
    assert_eq!(lists, 2);
}

#[tokio::test]
async fn session_expiry_is_healed_by_one_relogin() {
    let (sim, client) = setup().await;
    client.create(&pool("a", 80)).await.unwrap();
    assert_eq!(client.stats().logins, 1);
    sim.expire_sessions();
    client.create(&pool("b", 80)).await.unwrap();
    assert_eq!(client.stats().logins, 2);
    // Same with 419 controllers.
    let sim419 = AviSim::builder()
        .config(SimConfig {
            expired_status: 419,
            ..SimConfig::default()
        })
        .start()
        .await
        .unwrap();
    let c = AviClient::new(config(&sim419)).unwrap();
    c.create(&pool("a", 80)).await.unwrap();
    sim419.expire_sessions();
    assert!(c.get_by_name::<Pool>("a").await.unwrap().is_some());
    assert_eq!(c.stats().logins, 2);
}

#[tokio::test]
async fn bad_credentials_are_a_login_error() {
    let (sim, _) = setup().await;
    let mut cfg = config(&sim);
    cfg.credentials = Credentials::Password {
        username: "admin".into(),
        password: "wrong".into(),
    };
    let err = AviClient::new(cfg)
        .unwrap()
        .get_by_name::<Pool>("x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, AviError::Login { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("wrong"), "{err}");
    assert!(
        !format!(
            "{:?}",
            Credentials::Password {
                username: "u".into(),
                password: "wrong".into()
            }
        )
        .contains("wrong")
    );
}

#[tokio::test]
async fn idempotent_calls_retry_5xx_and_resets() {
    let (sim, client) = setup().await;
    client.create(&pool("a", 80)).await.unwrap();
    sim.add_fault(FaultRule {
        method: Some("GET".into()),
        object_type: Some("pool".into()),
        error_rate: 1.0,
        status: 503,
        times: Some(3),
        ..FaultRule::default()
    });
    assert!(client.get_by_name::<Pool>("a").await.unwrap().is_some());
    assert_eq!(sim.count("GET", "pool", Some(503)), 3);
    sim.clear_faults();
    sim.add_fault(FaultRule {
        method: Some("GET".into()),
        object_type: Some("pool".into()),
        reset_rate: 1.0,
        times: Some(2),
        ..FaultRule::default()
    });
    assert!(client.get_by_name::<Pool>("a").await.unwrap().is_some());
    // Retries are bounded: a controller that keeps failing is an error naming the object.
    sim.clear_faults();
    sim.add_fault(FaultRule {
        method: Some("GET".into()),
        object_type: Some("pool".into()),
        error_rate: 1.0,
        status: 500,
        ..FaultRule::default()
    });
    let err = client.get_by_name::<Pool>("a").await.unwrap_err();
    assert!(
        matches!(&err, AviError::Api { status: 500, kind: avi_client::Kind::Pool, name, .. } if name == "a"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failed_post_is_retried_only_after_looking() {
    let (sim, client) = setup().await;
    sim.add_fault(FaultRule {
        method: Some("POST".into()),
        object_type: Some("pool".into()),
        error_rate: 1.0,
        status: 502,
        times: Some(2),
        ..FaultRule::default()
    });
    client.create(&pool("a", 80)).await.unwrap();
    assert_eq!(sim.count("POST", "pool", Some(502)), 2);
    assert_eq!(sim.count("POST", "pool", Some(201)), 1);
    // It looked before each repeat.
    assert!(sim.count("GET", "pool", Some(200)) >= 2);
    assert_eq!(sim.with_store(|s| s.count("pool")), 1);
}

#[tokio::test]
async fn conflict_on_create_updates_ours_and_refuses_foreign() {
    let (sim, client) = setup().await;
    client.create(&pool("ours", 80)).await.unwrap();
    // Creating again (e.g. after a lost answer) converges instead of failing.
    let again = client.create(&pool("ours", 9090)).await.unwrap();
    assert_eq!(again.default_server_port, Some(9090));
    let foreign = Pool {
        created_by: Some("someone-else".into()),
        ..pool("theirs", 80)
    };
    client.create(&foreign).await.unwrap();
    let err = client.create(&pool("theirs", 1234)).await.unwrap_err();
    assert!(
        matches!(&err, AviError::Ownership { owner: Some(o), .. } if o == "someone-else"),
        "{err:?}"
    );
    let err = client.ensure(&pool("theirs", 1234)).await.unwrap_err();
    assert!(matches!(err, AviError::Ownership { .. }));
    let stored: Pool = client.get_by_name("theirs").await.unwrap().unwrap();
    assert_eq!(
        stored.default_server_port,
        Some(80),
        "foreign object untouched"
    );
    assert!(sim.count("PUT", "pool", None) == 1);
}

#[tokio::test]
async fn precondition_failed_rereads_and_retries() {
    let (sim, client) = setup().await;
    client.create(&pool("a", 80)).await.unwrap();
    let stale = client
        .find_raw(avi_client::Kind::Pool, "a")
        .await
        .unwrap()
        .unwrap();
    // Someone else writes in between.
    let mut other = pool("a", 81);
    other.description = Some("operator".into());
    client.update(&other).await.unwrap();
    let desired = serde_json::to_value(pool("a", 82)).unwrap();
    let written = client
        .update_raw(avi_client::Kind::Pool, &stale, &desired)
        .await
        .unwrap();
    assert_eq!(written["default_server_port"], 82);
    assert_eq!(
        written["description"], "operator",
        "the re-read kept the other writer's field"
    );
    assert_eq!(sim.count("PUT", "pool", Some(412)), 1);
}

#[tokio::test]
async fn ensure_creates_then_leaves_alone_then_updates_only_differences() {
    let (sim, client) = setup().await;
    assert!(matches!(
        client.ensure(&pool("a", 80)).await.unwrap(),
        Ensured::Created { .. }
    ));
    let writes = || sim.count("POST", "pool", None) + sim.count("PUT", "pool", None);
    let before = writes();
    assert!(matches!(
        client.ensure(&pool("a", 80)).await.unwrap(),
        Ensured::Unchanged { .. }
    ));
    assert_eq!(writes(), before, "unchanged means no write");
    match client.ensure(&pool("a", 8080)).await.unwrap() {
        Ensured::Updated { fields, .. } => assert_eq!(fields, ["default_server_port"]),
        other => panic!("{other:?}"),
    }
    // Refs by name compare equal to the controller's uuid URLs.
    let pg = PoolGroup {
        name: "pg".into(),
        created_by: Some(OWNER.into()),
        members: vec![PoolGroupMember {
            pool_ref: AviRef::by_name("a"),
            ratio: None,
            priority_label: None,
            deployment_state: None,
            extra: Default::default(),
        }],
        ..PoolGroup::default()
    };
    assert!(matches!(
        client.ensure(&pg).await.unwrap(),
        Ensured::Created { .. }
    ));
    assert!(matches!(
        client.ensure(&pg).await.unwrap(),
        Ensured::Unchanged { .. }
    ));
}

#[tokio::test]
async fn tls_is_verified_against_the_given_ca() {
    provider();
    let sim = AviSim::builder().tls(true).start().await.unwrap();
    let mut cfg = config(&sim);
    cfg.tls = TlsVerification::Ca(sim.ca_pem().unwrap().to_owned());
    AviClient::new(cfg.clone()).unwrap().login().await.unwrap();
    let other = AviSim::builder().tls(true).start().await.unwrap();
    cfg.tls = TlsVerification::Ca(other.ca_pem().unwrap().to_owned());
    cfg.retry.max_attempts = 1;
    let err = AviClient::new(cfg.clone())
        .unwrap()
        .login()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AviError::Login { status: 0, message } if message.contains("certificate")),
        "{err:?}"
    );
    cfg.tls = TlsVerification::Insecure;
    AviClient::new(cfg).unwrap().login().await.unwrap();
    let mut bad = config(&sim);
    bad.tls = TlsVerification::Ca("not a certificate".into());
    assert!(matches!(AviClient::new(bad), Err(AviError::Config(_))));
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let (sim, _) = setup().await;
    let mut cfg = config(&sim);
    cfg.concurrency = 2;
    let client = AviClient::new(cfg).unwrap();
    client.login().await.unwrap();
    sim.add_fault(FaultRule {
        object_type: Some("pool".into()),
        latency_ms: 100,
        ..FaultRule::default()
    });
    let started = Instant::now();
    let calls: Vec<_> = (0..10)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.get_by_name::<Pool>(&format!("p{i}")).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    // 10 calls of 100 ms, 2 at a time: at least 500 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(480),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_relogin_that_fails_once_is_retried_not_surfaced_as_401() {
    let (sim, client) = setup().await;
    client.create(&pool("a", 80)).await.unwrap();
    sim.expire_sessions();
    sim.add_fault(FaultRule {
        method: Some("POST".into()),
        object_type: Some("login".into()),
        error_rate: 1.0,
        status: 503,
        times: Some(1),
        ..FaultRule::default()
    });
    assert!(client.get_by_name::<Pool>("a").await.unwrap().is_some());
    assert_eq!(sim.count("POST", "login", Some(503)), 1);
}

#[tokio::test]
async fn objects_without_a_name_are_refused_before_any_request() {
    let (sim, client) = setup().await;
    let err = client.ensure(&Pool::default()).await.unwrap_err();
    assert!(matches!(err, AviError::Decode { .. }), "{err:?}");
    assert_eq!(sim.count("GET", "pool", None), 0);
}

#[tokio::test]
async fn a_post_whose_answer_was_lost_is_found_not_duplicated() {
    let (sim, client) = setup().await;
    for (reset_rate, error_rate) in [(1.0, 0.0), (0.0, 1.0)] {
        sim.clear_faults();
        sim.add_fault(FaultRule {
            method: Some("POST".into()),
            object_type: Some("pool".into()),
            reset_rate,
            error_rate,
            status: 502,
            after_commit: true,
            times: Some(1),
            ..FaultRule::default()
        });
        let name = format!("lost-{reset_rate}");
        let created = client.create(&pool(&name, 80)).await.unwrap();
        assert_eq!(created.name, name);
        assert_eq!(
            sim.with_store(|s| s.all_objects().iter().filter(|o| o.name == name).count()),
            1
        );
    }
    // Two POSTs reached the controller and each committed once: no second POST was needed.
    assert_eq!(sim.count("POST", "pool", None), 2);
    assert_eq!(sim.with_store(|s| s.count("pool")), 2);
}
