//! Runs an emulated Avi Controller with its Service Engine data plane, configures a virtual
//! service through the REST API, sends traffic through it to a local backend, then breaks the
//! pool and reads why it failed.
//!
//! `cargo run -p avi-sim --example data_plane`

use std::convert::Infallible;

use avi_sim::AviSim;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = AviSim::builder().data_plane(true).start().await?;
    let base = sim.base_url();
    println!("controller at {base}");

    // A backend: answers with the path and the X-Forwarded-For it saw.
    let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let backend_addr = backend.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = backend.accept().await {
            let service = hyper::service::service_fn(|req: hyper::Request<_>| async move {
                let xff = req
                    .headers()
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_owned();
                let text = format!("backend saw {} (X-Forwarded-For {xff})\n", req.uri().path());
                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(text))))
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });

    // Configure it as an SDK would: login, CSRF token, references by name.
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let login = http
        .post(format!("{base}/login"))
        .json(&json!({"username": "admin", "password": "avi123"}))
        .send()
        .await?;
    let csrf = login
        .cookies()
        .find(|c| c.name() == "csrftoken")
        .map(|c| c.value().to_owned())
        .ok_or("no csrftoken cookie")?;
    let create = |ty: &'static str, body: Value| {
        let req = http
            .post(format!("{base}/api/{ty}"))
            .header("X-CSRFToken", &csrf)
            .json(&body);
        async move { req.send().await?.json::<Value>().await }
    };
    let pool = create(
        "pool",
        json!({"name": "web", "servers": [{"ip": {"addr": "127.0.0.1", "type": "V4"},
                                          "port": backend_addr.port()}]}),
    )
    .await?;
    create(
        "vsvip",
        json!({"name": "web", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
    )
    .await?;
    create(
        "virtualservice",
        json!({"name": "web", "services": [{"port": 80}], "vsvip_ref": "/api/vsvip/?name=web",
               "pool_ref": "/api/pool/?name=web"}),
    )
    .await?;

    // Where does VIP:80 listen? (Also: GET {base}/_sim/data-plane.)
    let dp = sim.data_plane().ok_or("data plane off")?;
    for l in dp.listeners() {
        println!(
            "virtual service {} VIP {}:{} served on {:?}",
            l.virtual_service, l.vip, l.port, l.local
        );
    }
    let vip = dp.listeners().first().map(|l| l.vip).ok_or("no listener")?;
    let local = dp.local_addr(vip, 80).ok_or("VIP:80 not served")?;
    let answer = reqwest::get(format!("http://{local}/hello")).await?;
    println!(
        "GET /hello -> {} {}",
        answer.status(),
        answer.text().await?.trim_end()
    );

    // Point the pool at a port nothing listens on: the Service Engine answers 502.
    let uuid = pool["uuid"].as_str().ok_or("no pool uuid")?;
    http.put(format!("{base}/api/pool/{uuid}"))
        .header("X-CSRFToken", &csrf)
        .json(&json!({"name": "web", "servers": [{"ip": {"addr": "127.0.0.1", "type": "V4"}, "port": 9}]}))
        .send()
        .await?;
    let answer = reqwest::get(format!("http://{local}/hello")).await?;
    println!("GET /hello -> {}", answer.status());
    let stats = dp.pool("web");
    println!(
        "pool web: {} requests, {} errors, last error: {}",
        stats.requests,
        stats.errors,
        stats.last_error.unwrap_or_default()
    );
    Ok(())
}
