//! Embeds `istio-certs`: watches an `OUTPUT_CERTS` directory and reacts to every valid new
//! certificate set, while an emulated istio-agent rotates the workload certificate — once
//! cleanly and once torn (a new `key.pem` whose `cert-chain.pem` comes late).
//!
//! ```text
//! cargo run -p examples --example watch_certs
//! ```

use std::time::Duration;

use istio_certs::{CertStore, WatchOptions, watch};
use istio_sim::{CaOptions, IstioCa, KeyAlg, OutputCertsWriter, WorkloadRequest};
use time::format_description::well_known::Rfc3339;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rustls::crypto::ring::default_provider()
        .install_default()
        .map_err(|_| anyhow::anyhow!("a TLS crypto provider was already installed"))?;

    let dir = std::env::temp_dir().join(format!("watch-certs-{}", std::process::id()));
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..CaOptions::default()
    })?;
    let request = WorkloadRequest {
        key_alg: KeyAlg::EcdsaP256,
        ..WorkloadRequest::default()
    };
    let agent = OutputCertsWriter::new(&dir);
    agent.write(&ca.issue(&request)?)?;

    let store = CertStore::new();
    let watcher = watch(&dir, WatchOptions::default(), store.clone());
    let mut updates = store.subscribe();

    // Whoever needs the identity (an Avi sync, a TLS client) follows the store.
    let printer = tokio::spawn(async move {
        let mut seen = 0;
        while updates.changed().await.is_ok() {
            if let Some(bundle) = updates.borrow_and_update().clone() {
                let f = bundle.facts();
                let until = f.not_after.format(&Rfc3339).unwrap_or_default();
                println!("new set: {} serial {} until {until}", f.spiffe_id, f.serial);
                seen += 1;
                if seen == 3 {
                    break;
                }
            }
        }
    });

    store.ready().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("rotation 1: istio-agent renames key.pem then cert-chain.pem");
    agent.write(&ca.issue(&request)?)?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    println!("rotation 2: key.pem now, cert-chain.pem 1.5 s later (a torn window)");
    let next = ca.issue(&request)?;
    agent.write_files(Some(&next.key_pem), None, None)?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    if let Some(problem) = watcher.status().last_problem {
        println!(
            "  meanwhile the watcher holds the old set and reports: {}",
            problem.message
        );
    }
    agent.write_files(None, Some(&next.cert_chain_pem), None)?;

    tokio::time::timeout(Duration::from_secs(10), printer).await??;
    let status = watcher.status();
    println!(
        "loads {}, published {}, refused {} (never a torn set)",
        status.loads, status.published, status.rejected
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
