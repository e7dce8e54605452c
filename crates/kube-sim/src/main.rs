//! `kube-sim`: run an emulated Kubernetes API server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

#[derive(Parser)]
#[command(name = "kube-sim", version, about = "A Kubernetes API server emulator")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Write a kubeconfig for kubectl and kube-rs here.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Save the cluster in this file after every write and reload it at start.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Serve the Gateway API v1.5.1 standard CRDs and AKO's RouteBackendExtension from the start.
    #[arg(long)]
    preload_crds: bool,
    /// Events kept for resuming watches.
    #[arg(long, default_value_t = 10_000)]
    history: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = kube_sim::SimConfig {
        history: args.history,
        ..kube_sim::SimConfig::default()
    };
    let sim = kube_sim::KubeSim::start_on(config, args.listen).await?;
    if args.preload_crds {
        let mut crds = kube_sim::crds::gateway_api();
        crds.extend(kube_sim::crds::ako());
        sim.install(crds)
            .context("cannot install the preloaded CRDs")?;
    }
    if let Some(path) = &args.kubeconfig {
        std::fs::write(path, sim.kubeconfig())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("kubeconfig written to {}", path.display());
    }
    println!("kube-sim listening on {}", sim.url());
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(())
}
