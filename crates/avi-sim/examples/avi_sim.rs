//! Runs an emulated Avi Controller in-process, talks to it the way an SDK does (login, CSRF
//! token, refs by name), injects a fault and reads the request counters.
//!
//! `cargo run -p avi-sim --example avi_sim`

use avi_sim::{AviSim, FaultRule};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = AviSim::builder().start().await?;
    let base = sim.base_url();
    println!("controller at {base}");

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

    let pool: Value = http
        .post(format!("{base}/api/pool"))
        .header("X-CSRFToken", &csrf)
        .header("X-Avi-Version", "22.1.3")
        .json(&json!({"name": "demo-pool",
                      "health_monitor_refs": ["/api/healthmonitor/?name=System-TCP"],
                      "servers": [{"ip": {"addr": "10.0.0.7", "type": "V4"}, "port": 8080}]}))
        .send()
        .await?
        .json()
        .await?;
    println!("created {} ({})", pool["name"], pool["url"]);
    println!("  lb_algorithm default: {}", pool["lb_algorithm"]);
    println!("  health monitor ref:   {}", pool["health_monitor_refs"][0]);

    sim.add_fault(FaultRule {
        method: Some("GET".into()),
        object_type: Some("pool".into()),
        error_rate: 1.0,
        status: 503,
        times: Some(1),
        ..FaultRule::default()
    });
    for _ in 0..2 {
        let status = http
            .get(format!("{base}/api/pool?name=demo-pool"))
            .send()
            .await?
            .status();
        println!("GET pool by name -> {status}");
    }
    for c in sim.counters() {
        println!("  {} {} {} x{}", c.method, c.object_type, c.status, c.count);
    }
    Ok(())
}
