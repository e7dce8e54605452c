//! The emulator over real HTTP, as a client sees it.

use std::time::Duration;

use avi_sim::{AviSim, FaultRule, RunningSim, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A minimal session client: what every Avi SDK does (login, cookies, CSRF, Referer).
struct Client {
    http: reqwest::Client,
    base: String,
    csrf: String,
    tenant: Option<String>,
    version: Option<String>,
}

impl Client {
    async fn login(sim: &RunningSim) -> Client {
        provider();
        let mut builder = reqwest::Client::builder().cookie_store(true);
        if let Some(pem) = sim.ca_pem() {
            builder =
                builder.tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()]);
        }
        let http = builder.build().unwrap();
        let base = sim.base_url();
        let resp = http
            .post(format!("{base}/login"))
            .form(&[
                ("username", "admin"),
                ("password", sim.config().password.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let csrf = resp
            .cookies()
            .find(|c| c.name() == "csrftoken")
            .map(|c| c.value().to_owned())
            .unwrap();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["session_cookie_name"], "avi-sessionid");
        assert_eq!(body["version"]["Version"], "22.1.3");
        Client {
            http,
            base,
            csrf,
            tenant: None,
            version: None,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-CSRFToken", &self.csrf)
            .header("Referer", &self.base);
        if let Some(t) = &self.tenant {
            req = req.header("X-Avi-Tenant", t);
        }
        if let Some(v) = &self.version {
            req = req.header("X-Avi-Version", v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

async fn sim() -> RunningSim {
    AviSim::builder().start().await.unwrap()
}

#[tokio::test]
async fn login_with_form_or_json_and_refuse_bad_credentials() {
    let sim = sim().await;
    let _ = Client::login(&sim).await;
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/login", sim.base_url()))
        .json(&json!({"username": "admin", "password": "avi123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let names: Vec<String> = resp.cookies().map(|c| c.name().to_owned()).collect();
    for n in ["csrftoken", "avi-sessionid", "sessionid"] {
        assert!(names.iter().any(|c| c == n), "{names:?}");
    }
    let resp = http
        .post(format!("{}/login", sim.base_url()))
        .form(&[("username", "admin"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn unsafe_calls_need_the_csrf_token_and_a_session() {
    let sim = sim().await;
    let mut c = Client::login(&sim).await;
    c.csrf = "invalid".into();
    let (status, body) = c
        .call(Method::POST, "/api/pool", Some(json!({"name": "p"})))
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        Value::String("CSRF token missing or incorrect.".into())
    );
    // GETs do not need it.
    assert_eq!(c.call(Method::GET, "/api/pool", None).await.0, 200);
    // No session at all.
    let anon = reqwest::Client::new()
        .get(format!("{}/api/pool", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
}

#[tokio::test]
async fn expired_sessions_get_401_or_419() {
    for status in [401u16, 419] {
        let config = SimConfig {
            idle_timeout: Duration::from_millis(200),
            expired_status: status,
            ..SimConfig::default()
        };
        let sim = AviSim::builder().config(config).start().await.unwrap();
        let c = Client::login(&sim).await;
        assert_eq!(c.call(Method::GET, "/api/pool", None).await.0, 200);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            c.call(Method::GET, "/api/pool", None).await.0.as_u16(),
            status
        );
        // Expire-all, as fault injection.
        let c = Client::login(&sim).await;
        assert_eq!(sim.expire_sessions(), 1);
        assert_eq!(
            c.call(Method::GET, "/api/pool", None).await.0.as_u16(),
            status
        );
    }
}

#[tokio::test]
async fn create_read_update_delete_as_the_controller_answers() {
    let sim = sim().await;
    let mut c = Client::login(&sim).await;
    c.version = Some("22.1.3".into());
    let (status, pool) = c
        .call(
            Method::POST,
            "/api/pool",
            Some(json!({"name": "p1", "servers": [{"ip": {"addr": "10.0.0.1", "type": "V4"}, "port": 8080}],
                        "health_monitor_refs": ["/api/healthmonitor/?name=System-TCP"]})),
        )
        .await;
    assert_eq!(status, 201, "{pool}");
    let uuid = pool["uuid"].as_str().unwrap().to_owned();
    assert!(uuid.starts_with("pool-"));
    assert_eq!(
        pool["url"],
        format!("{}/api/pool/{uuid}#p1", sim.base_url())
    );
    assert_eq!(
        pool["tenant_ref"],
        format!("{}/api/tenant/admin#admin", sim.base_url())
    );
    assert!(
        pool["cloud_ref"]
            .as_str()
            .unwrap()
            .ends_with("#Default-Cloud")
    );
    assert!(
        pool["health_monitor_refs"][0]
            .as_str()
            .unwrap()
            .ends_with("#System-TCP")
    );
    assert_eq!(pool["default_server_port"], 80);
    assert!(
        pool["_last_modified"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );

    let (status, got) = c
        .call(Method::GET, &format!("/api/pool/{uuid}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        got["url"],
        format!("{}/api/pool/{uuid}", sim.base_url()),
        "GET has no #name"
    );
    let (_, named) = c
        .call(Method::GET, &format!("/api/pool/{uuid}?include_name"), None)
        .await;
    assert!(named["tenant_ref"].as_str().unwrap().ends_with("#admin"));

    let (status, by_name) = c.call(Method::GET, "/api/pool?name=p1", None).await;
    assert_eq!(status, 200);
    assert_eq!(by_name["count"], 1);
    assert_eq!(by_name["results"][0]["uuid"], uuid.as_str());

    let mut update = got.clone();
    update["default_server_port"] = json!(8443);
    let (status, put) = c
        .call(
            Method::PUT,
            &format!("/api/pool/{uuid}"),
            Some(update.clone()),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["default_server_port"], 8443);
    // The same body again carries a stale _last_modified now.
    let (status, body) = c
        .call(Method::PUT, &format!("/api/pool/{uuid}"), Some(update))
        .await;
    assert_eq!(status, 412);
    assert_eq!(body["error"], "Need to reload object data Pool");

    let (status, patched) = c
        .call(
            Method::PATCH,
            &format!("/api/pool/{uuid}"),
            Some(json!({"add": {"servers": [{"ip": {"addr": "10.0.0.2", "type": "V4"}}]}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(patched["servers"].as_array().unwrap().len(), 2);

    assert_eq!(
        c.call(Method::DELETE, &format!("/api/pool/{uuid}"), None)
            .await
            .0,
        204
    );
    let (status, body) = c
        .call(Method::GET, &format!("/api/pool/{uuid}"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "Pool object not found!");
}

#[tokio::test]
async fn errors_carry_the_real_codes() {
    let sim = sim().await;
    let c = Client::login(&sim).await;
    let (status, body) = c
        .call(
            Method::POST,
            "/api/pool",
            Some(json!({"name": "p", "lb_algorithm": "FOO"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = c
        .call(
            Method::POST,
            "/api/pool",
            Some(json!({"name": "p", "pki_profile_ref": "/api/pkiprofile/?name=missing"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("PKIProfile object not found"),
        "{body}"
    );
    assert_eq!(
        c.call(Method::POST, "/api/pool", Some(json!({"name": "p"})))
            .await
            .0,
        201
    );
    let (status, body) = c
        .call(Method::POST, "/api/pool", Some(json!({"name": "p"})))
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"],
        "Pool with this Name, Tenant ref and Cloud ref already exists."
    );
    let (status, _) = c
        .call(
            Method::POST,
            "/api/poolgroup",
            Some(json!({"name": "pg", "members": [{"pool_ref": "/api/pool?name=p"}]})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, list) = c.call(Method::GET, "/api/pool?name=p", None).await;
    let uuid = list["results"][0]["uuid"].as_str().unwrap().to_owned();
    let (status, body) = c
        .call(Method::DELETE, &format!("/api/pool/{uuid}"), None)
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"],
        "Cannot delete, object is referred by: ['PoolGroup pg']"
    );
    let (status, body) = c.call(Method::GET, "/api/frobnicator", None).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn tenants_isolate_and_star_reads_across() {
    let sim = sim().await;
    let mut c = Client::login(&sim).await;
    assert_eq!(
        c.call(Method::POST, "/api/tenant", Some(json!({"name": "red"})))
            .await
            .0,
        201
    );
    c.tenant = Some("red".into());
    let (status, pool) = c
        .call(Method::POST, "/api/pool", Some(json!({"name": "p"})))
        .await;
    assert_eq!(status, 201);
    assert!(pool["tenant_ref"].as_str().unwrap().ends_with("#red"));
    c.tenant = Some("admin".into());
    assert_eq!(c.call(Method::GET, "/api/pool", None).await.1["count"], 0);
    c.tenant = Some("*".into());
    assert_eq!(c.call(Method::GET, "/api/pool", None).await.1["count"], 1);
    c.tenant = Some("blue".into());
    let (status, body) = c.call(Method::GET, "/api/pool", None).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "Tenant 'blue' does not exist!");
}

#[tokio::test]
async fn pagination_follows_next_to_the_end() {
    let sim = sim().await;
    let c = Client::login(&sim).await;
    for i in 0..5 {
        assert_eq!(
            c.call(
                Method::POST,
                "/api/pool",
                Some(json!({"name": format!("p{i}")}))
            )
            .await
            .0,
            201
        );
    }
    let mut path = "/api/pool?page_size=2".to_owned();
    let mut seen = Vec::new();
    loop {
        let (_, page) = c.call(Method::GET, &path, None).await;
        assert_eq!(page["count"], 5);
        seen.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_owned()),
        );
        match page.get("next").and_then(Value::as_str) {
            Some(next) => path = next.trim_start_matches(&sim.base_url()).to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ["p0", "p1", "p2", "p3", "p4"]);
    let (_, fields) = c
        .call(Method::GET, "/api/pool?name=p0&fields=lb_algorithm", None)
        .await;
    let keys: Vec<&String> = fields["results"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
}

#[tokio::test]
async fn certificates_are_parsed_and_keys_never_returned() {
    let sim = sim().await;
    let c = Client::login(&sim).await;
    let ca = istio_sim::IstioCa::new(istio_sim::CaOptions {
        key_alg: istio_sim::KeyAlg::EcdsaP256,
        ..Default::default()
    })
    .unwrap();
    let req = istio_sim::WorkloadRequest {
        key_alg: istio_sim::KeyAlg::EcdsaP256,
        ..Default::default()
    };
    let cert = ca.issue(&req).unwrap();
    let other = ca.issue(&req).unwrap();

    let (status, pki) = c
        .call(
            Method::POST,
            "/api/pkiprofile",
            Some(json!({"name": "pki", "crl_check": false,
            "ca_certs": [{"certificate": cert.root_cert_pem}]})),
        )
        .await;
    assert_eq!(status, 201, "{pki}");
    assert_eq!(
        pki["ca_certs"][0]["subject"]["organization"],
        "cluster.local"
    );

    let body = json!({"name": "kc", "certificate": {"certificate": cert.cert_chain_pem}, "key": cert.key_pem});
    let (status, kc) = c
        .call(Method::POST, "/api/sslkeyandcertificate", Some(body))
        .await;
    assert_eq!(status, 201, "{kc}");
    assert!(kc.get("key").is_none(), "POST answer has no key");
    assert_eq!(kc["key_params"]["algorithm"], "SSL_KEY_ALGORITHM_EC");
    let uuid = kc["uuid"].as_str().unwrap();
    let (_, got) = c
        .call(
            Method::GET,
            &format!("/api/sslkeyandcertificate/{uuid}"),
            None,
        )
        .await;
    assert_eq!(got["key"], "<sensitive>");
    assert!(
        got["certificate"]["certificate"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(got.to_string().find("PRIVATE KEY").is_none());
    // A PUT echoing <sensitive> keeps the key.
    let (status, _) = c
        .call(
            Method::PUT,
            &format!("/api/sslkeyandcertificate/{uuid}"),
            Some(got),
        )
        .await;
    assert_eq!(status, 200);
    let kept = sim.with_store(|s| {
        s.object("sslkeyandcertificate", uuid)
            .unwrap()
            .secret
            .clone()
    });
    assert_eq!(kept.as_deref(), Some(cert.key_pem.as_str()));

    let body = json!({"name": "bad", "certificate": {"certificate": cert.cert_chain_pem}, "key": other.key_pem});
    let (status, err) = c
        .call(Method::POST, "/api/sslkeyandcertificate", Some(body))
        .await;
    assert_eq!(status, 400);
    assert!(!err.to_string().contains("PRIVATE KEY"));
    let (status, _) = c
        .call(
            Method::POST,
            "/api/pkiprofile",
            Some(json!({"name": "junk", "ca_certs": [{"certificate": "garbage"}]})),
        )
        .await;
    assert_eq!(status, 400);

    // A pool referencing both by name, then the in-use delete refusal.
    let (status, pool) = c
        .call(
            Method::POST,
            "/api/pool",
            Some(
                json!({"name": "mesh", "pki_profile_ref": "/api/pkiprofile?name=pki",
            "ssl_key_and_certificate_ref": "/api/sslkeyandcertificate?name=kc",
            "ssl_profile_ref": "/api/sslprofile?name=System-Standard"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{pool}");
    let (status, body) = c
        .call(
            Method::DELETE,
            &format!("/api/sslkeyandcertificate/{uuid}"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"],
        "Cannot delete, object is referred by: ['Pool mesh']"
    );
}

#[tokio::test]
async fn faults_are_injected_and_counted() {
    let sim = sim().await;
    let c = Client::login(&sim).await;
    sim.add_fault(FaultRule {
        method: Some("GET".into()),
        object_type: Some("pool".into()),
        error_rate: 1.0,
        status: 503,
        times: Some(2),
        ..FaultRule::default()
    });
    assert_eq!(c.call(Method::GET, "/api/pool", None).await.0, 503);
    assert_eq!(c.call(Method::GET, "/api/pool", None).await.0, 503);
    assert_eq!(c.call(Method::GET, "/api/pool", None).await.0, 200);
    assert_eq!(sim.count("GET", "pool", Some(503)), 2);
    assert_eq!(sim.count("GET", "pool", Some(200)), 1);

    sim.clear_faults();
    sim.add_fault(FaultRule {
        object_type: Some("vsvip".into()),
        reset_rate: 1.0,
        ..FaultRule::default()
    });
    let result = c
        .http
        .get(format!("{}/api/vsvip", sim.base_url()))
        .send()
        .await;
    assert!(result.is_err(), "connection should be reset: {result:?}");
    assert_eq!(sim.count("GET", "vsvip", Some(0)), 1);

    sim.clear_faults();
    sim.add_fault(FaultRule {
        object_type: Some("pool".into()),
        latency_ms: 300,
        ..FaultRule::default()
    });
    let start = std::time::Instant::now();
    assert_eq!(c.call(Method::GET, "/api/pool", None).await.0, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    // The same over the admin endpoint.
    let admin = reqwest::Client::new();
    let rule = json!({"method": "POST", "object_type": "pool", "error_rate": 1.0, "status": 403});
    let r = admin
        .post(format!("{}/_sim/faults", sim.base_url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, body) = c
        .call(Method::POST, "/api/pool", Some(json!({"name": "x"})))
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "Configuration is disallowed during upgrade");
    let counters: Value = admin
        .get(format!("{}/_sim/counters", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        counters
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["method"] == "POST" && c["status"] == 403)
    );
}

#[tokio::test]
async fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let config = SimConfig {
        state_file: Some(state.clone()),
        ..SimConfig::default()
    };
    {
        let sim = AviSim::builder()
            .config(config.clone())
            .start()
            .await
            .unwrap();
        let c = Client::login(&sim).await;
        assert_eq!(
            c.call(Method::POST, "/api/pool", Some(json!({"name": "kept"})))
                .await
                .0,
            201
        );
    }
    let sim = AviSim::builder().config(config).start().await.unwrap();
    let c = Client::login(&sim).await;
    let (_, list) = c.call(Method::GET, "/api/pool?name=kept", None).await;
    assert_eq!(list["count"], 1);
    // References survived too: the seeded cloud is still referenced.
    let (status, _) = c
        .call(Method::POST, "/api/pool", Some(json!({"name": "kept"})))
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn https_and_basic_auth() {
    provider();
    let config = SimConfig {
        tls: true,
        basic_auth: true,
        ..SimConfig::default()
    };
    let sim = AviSim::builder().config(config).start().await.unwrap();
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let c = Client::login(&sim).await;
    assert_eq!(c.call(Method::GET, "/api/pool", None).await.0, 200);
    // Basic auth needs no session and no CSRF token.
    let pem = sim.ca_pem().unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let resp = http
        .post(format!("{}/api/pool", sim.base_url()))
        .basic_auth("admin", Some("avi123"))
        .json(&json!({"name": "basic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn singletons_and_password_change() {
    let sim = sim().await;
    let c = Client::login(&sim).await;
    let (status, cp) = c.call(Method::GET, "/api/controllerproperties", None).await;
    assert_eq!(status, 200);
    assert_eq!(cp["uuid"], "global");
    let (status, mut sc) = c.call(Method::GET, "/api/systemconfiguration", None).await;
    assert_eq!(status, 200);
    assert_eq!(sc["uuid"], "default");
    sc["dns_configuration"] = json!({"search_domain": "example.com"});
    assert_eq!(
        c.call(Method::PUT, "/api/systemconfiguration", Some(sc))
            .await
            .0,
        200
    );
    let (_, sc) = c.call(Method::GET, "/api/systemconfiguration", None).await;
    assert_eq!(sc["dns_configuration"]["search_domain"], "example.com");
    assert_eq!(
        c.call(Method::DELETE, "/api/systemconfiguration", None)
            .await
            .0,
        405
    );

    let wrong = json!({"old_password": "nope", "password": "new-secret"});
    assert_eq!(
        c.call(Method::PUT, "/api/useraccount", Some(wrong)).await.0,
        400
    );
    let change = json!({"old_password": "avi123", "password": "new-secret"});
    assert_eq!(
        c.call(Method::PUT, "/api/useraccount", Some(change))
            .await
            .0,
        200
    );
    let login = |password: &'static str| {
        let url = format!("{}/login", sim.base_url());
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&[("username", "admin"), ("password", password)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(login("avi123").await, 401);
    assert_eq!(login("new-secret").await, 200);
}

#[tokio::test]
async fn auto_allocated_vips_get_distinct_addresses_kept_across_updates() {
    let sim = sim().await;
    let c = Client::login(&sim).await;
    let vip =
        |name: &str| json!({"name": name, "vip": [{"vip_id": "0", "auto_allocate_ip": true}]});
    let (s, a) = c.call(Method::POST, "/api/vsvip", Some(vip("a"))).await;
    assert_eq!(s, 201, "{a}");
    let (_, b) = c.call(Method::POST, "/api/vsvip", Some(vip("b"))).await;
    let addr = |v: &Value| {
        v["vip"][0]["ip_address"]["addr"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(addr(&a).starts_with("10.250.250."));
    assert_ne!(addr(&a), addr(&b));
    // A PUT that leaves the address out (the client wants "auto") keeps the allocation.
    let uuid = a["uuid"].as_str().unwrap();
    let mut again = vip("a");
    again["description"] = json!("touched");
    let (s, updated) = c
        .call(Method::PUT, &format!("/api/vsvip/{uuid}"), Some(again))
        .await;
    assert_eq!(s, 200, "{updated}");
    assert_eq!(addr(&updated), addr(&a));
    // A static address is left alone.
    let (_, st) = c
        .call(
            Method::POST,
            "/api/vsvip",
            Some(json!({"name": "static", "vip": [{"vip_id": "0",
                "ip_address": {"addr": "192.0.2.10", "type": "V4"}}]})),
        )
        .await;
    assert_eq!(addr(&st), "192.0.2.10");
}

#[tokio::test]
async fn connections_end_with_the_emulator() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = AviSim::builder().start().await.unwrap();
    let mut conn = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    conn.write_all(b"GET /api/initial-data HTTP/1.1\r\nHost: avi\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // A kept-alive connection of a dropped emulator is closed, not served by a task that
    // outlives it.
    drop(sim);
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the connection stayed open after the emulator was dropped"
    );
}

#[tokio::test]
async fn the_path_forms_real_clients_send_are_served() {
    // The Go SDK (AKO) joins `https://host/` and `/api/...`: `//api/...`; the controller's
    // front end merges the slashes. Python's avisdk and AKO also use `?name=`, `/?name=`,
    // `?include_name` and `<uuid>#name`.
    let sim = sim().await;
    let c = Client::login(&sim).await;
    let (status, created) = c
        .call(Method::POST, "//api/pool", Some(json!({"name": "go-sdk"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let uuid = created["uuid"].as_str().unwrap().to_owned();
    for path in [
        "//api/pool?name=go-sdk".to_owned(),
        "/api/pool/?name=go-sdk".to_owned(),
        "//api//pool/?name=go-sdk".to_owned(),
    ] {
        let (status, list) = c.call(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {list}");
        assert_eq!(list["count"], 1, "{path}: {list}");
    }
    let (status, one) = c
        .call(
            Method::GET,
            &format!("//api/pool/{uuid}?include_name"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["name"], "go-sdk");
    // A fragment is the client's: it never reaches the server.
    let (status, one) = c
        .call(Method::GET, &format!("/api/pool/{uuid}#go-sdk"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let (status, cloud) = c.call(Method::GET, "//api/cloud", None).await;
    assert_eq!(status, StatusCode::OK, "{cloud}");
    assert!(cloud["count"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn every_api_type_is_listable_and_the_cluster_is_its_config_object() {
    let sim = sim().await;
    let c = Client::login(&sim).await;
    // Types clients list at start (AKO: stringgroup, l4policyset, vsdatascriptset, the IPAM
    // profile and its domain list).
    for ty in [
        "stringgroup",
        "l4policyset",
        "vsdatascriptset",
        "ipamdnsproviderprofile",
        "ipamdnsproviderprofiledomainlist",
        "wafpolicy",
    ] {
        let (status, list) = c.call(Method::GET, &format!("/api/{ty}"), None).await;
        assert_eq!(status, StatusCode::OK, "{ty}: {list}");
        // Default-Cloud's IPAM profile is the one object among them.
        let expected = u64::from(ty == "ipamdnsproviderprofile");
        assert_eq!(list["count"], expected, "{ty}: {list}");
    }
    let (status, _) = c.call(Method::GET, "/api/notatype", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, cluster) = c.call(Method::GET, "/api/cluster", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        cluster["uuid"]
            .as_str()
            .is_some_and(|u| u.starts_with("cluster-")),
        "{cluster}"
    );
    assert!(
        cluster["nodes"].as_array().is_some_and(|n| !n.is_empty()),
        "{cluster}"
    );
    let (status, runtime) = c.call(Method::GET, "//api/cluster/runtime", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(runtime["cluster_state"]["state"], "CLUSTER_UP_NO_HA");
}
