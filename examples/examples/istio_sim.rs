//! Emulates istiod + istio-agent: creates a CA, issues a workload certificate and writes
//! `key.pem`, `cert-chain.pem` and `root-cert.pem` the way istio-agent does with `OUTPUT_CERTS`.
//!
//! ```text
//! cargo run -p examples --example istio_sim [OUTPUT_DIR]
//! ```
//!
//! Without an argument the files go to a fresh directory under the system temp directory.

use std::path::PathBuf;

use istio_sim::{CaOptions, IstioCa, OutputCertsWriter, WorkloadRequest};

fn main() -> anyhow::Result<()> {
    let dir = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("istio-sim-{}", std::process::id())),
    };

    // istiod's defaults: self-signed RSA-2048 root `O=cluster.local`, 24 h RSA-2048 leaves.
    let ca = IstioCa::new(CaOptions::default())?;
    let cert = ca.issue(&WorkloadRequest::default())?;

    let report = OutputCertsWriter::new(&dir).write(&cert)?;
    println!("SPIFFE ID: {}", cert.spiffe_id);
    println!("serial:    {}", cert.serial_hex);
    println!("directory: {}", dir.display());
    println!("written:   {}", report.written.join(", "));
    if !report.skipped.is_empty() {
        println!("unchanged: {}", report.skipped.join(", "));
    }
    Ok(())
}
