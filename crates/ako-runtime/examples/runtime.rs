//! Starts the health and metrics server on an ephemeral port, records a few metrics, and prints
//! what `/healthz`, `/readyz` and `/metrics` answer.
//!
//! `cargo run -p ako-runtime --example runtime`

use std::time::Duration;

use ako_runtime::health::{self, Readiness};
use ako_runtime::logging::{self, LogFormat};
use ako_runtime::metrics::{Metrics, ReconcileResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init(LogFormat::Text)?;
    let metrics = Metrics::new();
    let readiness = Readiness::new();
    let listener = health::bind("127.0.0.1:0".parse()?).await?;
    let server = health::serve(listener, metrics.clone(), readiness.clone()).await?;
    let addr = server.local_addr();

    println!(
        "--- /readyz before the first sync\n{}",
        get(addr, "/readyz").await?
    );
    metrics.cert_expiry(1_900_000_000);
    metrics.rotation();
    metrics.avi_request(
        "PUT",
        "sslkeyandcertificate",
        Some(200),
        Duration::from_millis(35),
    );
    metrics.reconcile(ReconcileResult::Success, Duration::from_millis(120));
    readiness.set_ready();
    println!("--- /readyz after it\n{}", get(addr, "/readyz").await?);
    println!("--- /healthz\n{}", get(addr, "/healthz").await?);
    println!("--- /metrics\n{}", get(addr, "/metrics").await?);
    server.shutdown().await?;
    Ok(())
}
