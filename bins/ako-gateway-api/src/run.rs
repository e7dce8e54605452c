//! `ako-gateway-api run`: the container. The reconcile loop runs while this replica leads.

use ako_runtime::cli::Backends;
use ako_runtime::gateway::{Controller, ControllerOptions, ControllerStatus};
use ako_runtime::{Component, Process, RuntimeConfig, shutdown_signal};
use anyhow::Context;
use gateway_translate::Settings;
use tokio::sync::watch;

/// `ako-gateway-api run` arguments.
#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    runtime: RuntimeConfig,
    /// With Istio on, which backends get mTLS: `mesh` (sidecar-mode backends) or `all` (AKO's
    /// behaviour).
    #[arg(long, env = "ISTIO_BACKENDS", value_enum, default_value_t = Backends::Mesh)]
    istio_backends: Backends,
    /// Full resync period in seconds.
    #[arg(long, env = "FULL_SYNC_INTERVAL", default_value_t = 600)]
    full_sync_interval: u64,
}

/// Runs the container until SIGTERM.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let istio_backends = args.istio_backends.into();
    let process = Process::start(args.runtime, Component::GatewayApi)
        .await
        .context("cannot start")?;
    let settings = process.settings(
        gateway_translate::settings::Component::GatewayApi,
        istio_backends,
    )?;
    let options = ControllerOptions {
        resync: std::time::Duration::from_secs(args.full_sync_interval.max(10)),
        ..ControllerOptions::default()
    };
    tokio::select! {
        () = lead(&process, settings, options) => {}
        () = shutdown_signal() => {}
    }
    tracing::info!("stopping");
    process.leadership.release().await;
    let _ = process.server.shutdown().await;
    Ok(())
}

/// The controller keeps its watches and caches warm on every replica and writes only while
/// this one holds the Lease (warm standby); readiness goes with the leadership.
async fn lead(process: &Process, settings: Settings, options: ControllerOptions) {
    let (status, task) =
        Controller::new(process.kube.clone(), process.avi.clone(), settings, options)
            .standby(process.leadership.subscribe())
            .with_events(process.events.clone())
            .with_metrics(process.metrics.clone())
            .spawn();
    // Dropping the guard stops the controller.
    let _controller = ako_runtime::AbortOnDrop(task);
    let mut leading = process.leadership.subscribe();
    let readiness = process.readiness.clone();
    let lost = async move {
        while leading.changed().await.is_ok() {
            if !*leading.borrow_and_update() {
                readiness.set(false);
            }
        }
    };
    tokio::join!(report(status, process.readiness.clone()), lost);
}

/// Readiness follows the first full success; failures are logged (the controller counts
/// each reconcile in the metrics itself).
async fn report(mut status: watch::Receiver<ControllerStatus>, readiness: ako_runtime::Readiness) {
    let mut seen = ControllerStatus::default();
    while status.changed().await.is_ok() {
        let s = status.borrow_and_update().clone();
        if s.reconciles > seen.reconciles {
            if s.last_error.is_none() {
                readiness.set_ready();
            } else if let Some(e) = &s.last_error {
                tracing::warn!(error = %e, "reconcile failed; retrying");
            }
            if let Some(w) = &s.waiting {
                tracing::info!(waiting = %w, "not settled yet; looking again soon");
            }
        }
        seen = s;
    }
}
