//! `ako run`: the container. With ISTIO_ENABLED the certificate pipeline runs while this replica
//! leads; without it, the Istio objects are removed (unless pools still use them).

use std::path::PathBuf;
use std::time::Duration;

use ako_runtime::istio::{IstioNames, Pipeline, PipelineOptions, PipelineStatus, Publisher};
use ako_runtime::{Component, Process, RuntimeConfig, shutdown_signal};
use anyhow::Context;
use istio_certs::{CertStore, WatchOptions, WatchStatus, watch};
use tokio::sync::watch as channel;

/// How often to say that the certificate directory is still missing or empty.
const WAITING_LOG_EVERY: Duration = Duration::from_secs(30);

/// `ako run` arguments.
#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    runtime: RuntimeConfig,
    /// The OUTPUT_CERTS directory istio-agent writes the workload certificate to.
    #[arg(long, env = "ISTIO_OUTPUT_CERTS", default_value = crate::DEFAULT_CERT_DIR)]
    certs_dir: PathBuf,
    #[command(flatten)]
    ingress: crate::ingress::IngressArgs,
    /// With Istio on, which Ingress backends get mTLS: `mesh` (sidecar-mode backends) or `all`
    /// (AKO's behaviour).
    #[arg(long, env = "ISTIO_BACKENDS", value_enum, default_value_t = ako_runtime::cli::Backends::Mesh)]
    istio_backends: ako_runtime::cli::Backends,
    /// Serve Ingresses (`false` for a cluster whose Ingresses another controller serves; the
    /// Istio pipeline runs either way).
    #[arg(long, env = "INGRESS_ENABLED", default_value_t = true,
        num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    ingress_enabled: bool,
    /// Full resync period of the Ingress controller, in seconds.
    #[arg(long, env = "FULL_SYNC_INTERVAL", default_value_t = 600)]
    full_sync_interval: u64,
}

/// Runs the container until SIGTERM.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let process = Process::start(args.runtime, Component::Ako)
        .await
        .context("cannot start")?;
    let names = IstioNames {
        cluster: process.config.cluster_name()?.to_owned(),
        namespace: process.config.namespace()?.to_owned(),
    };
    let publisher = Publisher::new(process.avi.clone(), process.kube.clone(), names);
    // The Ingress controller keeps its caches warm on every replica and writes only while this
    // one holds the Lease it shares with the Istio pipeline.
    let _ingress = if args.ingress_enabled {
        let settings = crate::ingress::settings(&process, args.istio_backends)?;
        let ingress = args.ingress.ingress_settings()?;
        let options = ako_runtime::controller::ControllerOptions {
            resync: Duration::from_secs(args.full_sync_interval.max(10)),
            ..Default::default()
        };
        let (status, task) = ako_runtime::ingress::controller(
            process.kube.clone(),
            process.avi.clone(),
            settings,
            ingress,
            options,
        )
        .standby(process.leadership.subscribe())
        .with_events(process.events.clone())
        .with_metrics(process.metrics.clone())
        .spawn();
        tokio::spawn(report_ingress(status));
        Some(ako_runtime::AbortOnDrop(task))
    } else {
        tracing::info!("the Ingress controller is off (INGRESS_ENABLED=false)");
        None
    };
    if process.config.istio_enabled {
        tokio::select! {
            () = istio_on(&process, publisher, args.certs_dir) => {}
            () = shutdown_signal() => {}
        }
    } else {
        tokio::select! {
            () = istio_off(&process, publisher) => {}
            () = shutdown_signal() => {}
        }
    }
    tracing::info!("stopping");
    process.leadership.release().await;
    let _ = process.server.shutdown().await;
    Ok(())
}

async fn istio_on(process: &Process, publisher: Publisher, dir: PathBuf) {
    let store = CertStore::new();
    let watcher = watch(&dir, WatchOptions::default(), store.clone());
    tokio::spawn(report_watch(
        watcher.status_receiver(),
        store.clone(),
        dir.clone(),
        process.metrics.clone(),
        process.events.clone(),
        process.pod(),
    ));
    let (metrics, readiness, events, pod) = (
        process.metrics.clone(),
        process.readiness.clone(),
        process.events.clone(),
        process.pod(),
    );
    process
        .leadership
        .run_while_leading(
            || {
                let (status, task) =
                    Pipeline::new(publisher.clone(), store.clone(), PipelineOptions::default())
                        .spawn();
                let report = report_pipeline(
                    status,
                    store.clone(),
                    metrics.clone(),
                    readiness.clone(),
                    events.clone(),
                    pod.clone(),
                );
                async move {
                    // Aborting this future drops the guard, which stops the pipeline.
                    let _pipeline = ako_runtime::AbortOnDrop(task);
                    report.await;
                }
            },
            || process.readiness.set(false),
        )
        .await;
    drop(watcher);
}

/// Validation outcomes become metrics, Warning Events and (every 30 s) a log line while
/// nothing valid has been seen.
async fn report_watch(
    mut status: channel::Receiver<WatchStatus>,
    store: CertStore,
    dir: PathBuf,
    metrics: ako_runtime::Metrics,
    events: ako_runtime::Events,
    pod: Option<k8s_openapi::api::core::v1::ObjectReference>,
) {
    let mut rejected = 0;
    let mut ticker = tokio::time::interval(WAITING_LOG_EVERY);
    loop {
        tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    return;
                }
                let s = status.borrow_and_update().clone();
                if s.rejected > rejected {
                    rejected = s.rejected;
                    if let Some(p) = &s.last_problem {
                        metrics.validation_failure(p.kind);
                        if !p.transient && let Some(pod) = &pod {
                            let note = format!("Istio certificate set in {} refused: {}", dir.display(), p.message);
                            let _ = events.warn(pod, "IstioCertificateInvalid", "Validate", &note).await;
                        }
                    }
                }
            }
            _ = ticker.tick() => {
                if store.current().is_none() {
                    let why = status.borrow().last_problem.as_ref().map(|p| p.message.clone());
                    tracing::info!(dir = %dir.display(), problem = why.as_deref().unwrap_or("no files yet"), "waiting for the Istio certificate set");
                }
            }
        }
    }
}

async fn report_pipeline(
    mut status: channel::Receiver<PipelineStatus>,
    store: CertStore,
    metrics: ako_runtime::Metrics,
    readiness: ako_runtime::Readiness,
    events: ako_runtime::Events,
    pod: Option<k8s_openapi::api::core::v1::ObjectReference>,
) {
    let mut seen = PipelineStatus::default();
    while status.changed().await.is_ok() {
        let s = status.borrow_and_update().clone();
        if s.publications > seen.publications {
            readiness.set_ready();
            if let Some(b) = store.current() {
                metrics.cert_expiry(b.facts().not_after.unix_timestamp());
                metrics.cert_not_before(b.facts().not_before.unix_timestamp());
            }
            if s.published != seen.published && seen.published.is_some() {
                metrics.rotation();
            }
        }
        if s.last_error != seen.last_error
            && let (Some((reason, message)), Some(pod)) = (&s.last_error, &pod)
        {
            let _ = events.warn(pod, reason, "Publish", message).await;
        }
        seen = s;
    }
}

/// The Ingress controller's failures and waits, in the log (each reconcile is counted in the
/// metrics by the controller itself).
async fn report_ingress(mut status: channel::Receiver<ako_runtime::controller::ControllerStatus>) {
    let mut seen = ako_runtime::controller::ControllerStatus::default();
    while status.changed().await.is_ok() {
        let s = status.borrow_and_update().clone();
        if s.reconciles > seen.reconciles {
            if let Some(e) = &s.last_error {
                tracing::warn!(error = %e, "Ingress reconcile failed; retrying");
            }
            if let Some(w) = &s.waiting {
                tracing::info!(waiting = %w, "Ingresses not settled yet; looking again soon");
            }
        }
        seen = s;
    }
}

async fn istio_off(process: &Process, publisher: Publisher) {
    process.leadership.became_leader().await;
    let mut retry = Duration::from_secs(1);
    loop {
        match publisher.remove().await {
            Ok(removed) => {
                for d in &removed.deleted {
                    tracing::info!(object = %d, "Istio disabled: removed");
                }
                for (object, pools) in &removed.kept {
                    let note = format!(
                        "Istio is disabled but {object} is kept: pools still use it ({})",
                        pools.join(", ")
                    );
                    tracing::warn!("{note}");
                    if let Some(pod) = process.pod() {
                        let _ = process
                            .events
                            .warn(&pod, "IstioObjectInUse", "Remove", &note)
                            .await;
                    }
                }
                process.readiness.set_ready();
                if removed.kept.is_empty() {
                    std::future::pending::<()>().await;
                }
                // Look again later: the pools may go.
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot remove the Istio objects; retrying");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(60));
            }
        }
    }
}
