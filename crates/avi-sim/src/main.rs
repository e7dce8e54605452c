//! `avi-sim`: run an emulated Avi Controller.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

#[derive(Parser)]
#[command(name = "avi-sim", version, about = "An Avi Controller emulator")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9443")]
    listen: SocketAddr,
    /// Serve HTTPS with a generated certificate (default on).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    tls: bool,
    /// Persist the configuration in this file and reload it at start.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Admin user name.
    #[arg(long, default_value = "admin")]
    username: String,
    /// Admin password.
    #[arg(long, env = "AVI_SIM_PASSWORD", default_value = "avi123")]
    password: String,
    /// Accept HTTP Basic authentication.
    #[arg(long)]
    basic_auth: bool,
    /// Session idle timeout in seconds.
    #[arg(long, default_value_t = 900)]
    idle_timeout: u64,
    /// Answer expired sessions with 419 instead of 401.
    #[arg(long)]
    expired_419: bool,
    /// Controller version to report at login and in /api/initial-data.
    #[arg(long, default_value = "22.1.3")]
    controller_version: String,
    /// Write the generated TLS certificate here (for clients to trust).
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Serve virtual services' traffic on loopback (the Service Engine data plane).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    data_plane: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        anyhow::bail!("a TLS crypto provider was already installed");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = avi_sim::SimConfig {
        username: args.username,
        password: args.password,
        basic_auth: args.basic_auth,
        idle_timeout: Duration::from_secs(args.idle_timeout),
        expired_status: if args.expired_419 { 419 } else { 401 },
        version: args.controller_version,
        tls: args.tls,
        state_file: args.state,
        data_plane: args.data_plane,
        ..avi_sim::SimConfig::default()
    };
    let sim = avi_sim::AviSim::builder()
        .config(config)
        .listen(args.listen)
        .start()
        .await?;
    if let (Some(path), Some(pem)) = (&args.ca_out, sim.ca_pem()) {
        std::fs::write(path, pem).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("avi-sim listening on {}", sim.base_url());
    if sim.data_plane().is_some() {
        println!(
            "data plane on: GET {}/_sim/data-plane shows which local port serves each VIP:port",
            sim.base_url()
        );
    }
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(())
}
