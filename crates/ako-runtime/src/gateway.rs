//! The reconcile loop: reflectors for every input, changes coalesced (a short debounce) into
//! level-triggered reconciles, the translation synced against what we own on the controller,
//! then statuses written by server-side apply, only when they differ. A periodic resync
//! catches what a watch missed and writes nothing when nothing changed.

pub mod inputs;
pub mod istio;
pub mod notices;
pub mod status;
pub mod sync_cache;

use std::sync::Arc;
use std::time::{Duration, Instant};

use avi_client::models::VsVip;
use avi_client::{AviClient, Kind};
use futures_util::{StreamExt, stream};
use gateway_translate::{Settings, StatusUpdate, names, translate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use self::inputs::Inputs;

/// Events published at once.
const EVENT_CONCURRENCY: usize = 8;

/// Every kind the gateway container creates: leftovers of these are deleted.
pub const OWNED_KINDS: &[Kind] = &[
    Kind::VirtualService,
    Kind::VsVip,
    Kind::HttpPolicySet,
    Kind::PoolGroup,
    Kind::Pool,
    Kind::SslKeyAndCertificate,
    Kind::PkiProfile,
];

/// Timing of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControllerOptions {
    /// Quiet time after a change before reconciling (changes in between coalesce).
    pub debounce: Duration,
    /// Full resync period.
    pub resync: Duration,
    /// Delay before retrying a failed reconcile (doubles up to `resync`).
    pub retry: Duration,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            debounce: Duration::from_millis(200),
            resync: Duration::from_secs(600),
            retry: Duration::from_secs(1),
        }
    }
}

/// What the loop has done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControllerStatus {
    /// Reconciles run.
    pub reconciles: u64,
    /// Reconciles where every Avi step succeeded.
    pub synced: u64,
    /// Avi steps (creates, updates, deletes) done.
    pub avi_writes: u64,
    /// Status patches written.
    pub status_writes: u64,
    /// The last failure, cleared by a full success.
    pub last_error: Option<String>,
    /// Whether the Istio references were given to the last translation.
    pub istio_refs: bool,
    /// What the last reconcile waits for, retried soon but not a failure (readiness and
    /// `ako_reconcile_total` ignore it): a Gateway's VIP, an Istio check the controller did not
    /// answer.
    pub waiting: Option<String>,
}

/// How one reconcile ended.
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Something failed (an Avi step, a status write).
    failed: bool,
    /// Nothing failed, but something is not settled yet: retry soon.
    waiting: bool,
}

/// The controller, ready to run.
pub struct Controller {
    kube: kube::Client,
    avi: AviClient,
    settings: Settings,
    options: ControllerOptions,
    events: Option<crate::Events>,
    /// Events already raised, so a resync does not repeat them.
    reported: std::sync::Mutex<notices::Reported>,
    /// What was last written to the controller.
    cache: tokio::sync::Mutex<sync_cache::SyncCache>,
    /// The Istio certificate set and the references last found complete.
    istio: istio::IstioGate,
    /// Where each reconcile's outcome and duration are counted.
    metrics: Option<crate::Metrics>,
}

impl Controller {
    /// A controller for `settings` (its `istio_refs` are decided at each reconcile).
    pub fn new(
        kube: kube::Client,
        avi: AviClient,
        settings: Settings,
        options: ControllerOptions,
    ) -> Self {
        Controller {
            kube,
            avi,
            settings,
            options,
            events: None,
            reported: Default::default(),
            cache: Default::default(),
            istio: istio::IstioGate::new(),
            metrics: None,
        }
    }

    /// Raises the translation's warnings (ambient or mixed backends, Istio objects pending,
    /// overlapping rules) and each route's acceptance or rejection as Events on the objects
    /// concerned (see [`notices`]).
    pub fn with_events(mut self, events: crate::Events) -> Self {
        self.events = Some(events);
        self
    }

    /// Counts every reconcile (`ako_reconcile_total`) and its duration
    /// (`ako_reconcile_duration_seconds`), each one, however quickly they follow each other.
    pub fn with_metrics(mut self, metrics: crate::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    async fn raise(&self, now: Vec<notices::Notice>, complete: bool) {
        let Some(events) = &self.events else {
            return;
        };
        let fresh = match self.reported.lock() {
            Ok(mut r) => r.fresh(now, complete),
            Err(_) => return,
        };
        // Thousands of routes are accepted at a cold start: a few Events at a time.
        stream::iter(fresh)
            .for_each_concurrent(EVENT_CONCURRENCY, |n| async move {
                let object = k8s_openapi::api::core::v1::ObjectReference {
                    api_version: Some("gateway.networking.k8s.io/v1".into()),
                    kind: Some(n.kind.into()),
                    namespace: Some(n.key.0.clone()),
                    name: Some(n.key.1.clone()),
                    ..Default::default()
                };
                let sent = match n.severity {
                    // Raised once per fact (`Reported`): nothing to aggregate.
                    notices::Severity::Normal => {
                        events
                            .announce(&object, n.reason, "Reconcile", &n.message)
                            .await
                    }
                    notices::Severity::Warning => {
                        events
                            .warn(&object, n.reason, "Reconcile", &n.message)
                            .await
                    }
                };
                if let Err(e) = sent {
                    tracing::debug!(error = %e, "cannot publish an Event");
                }
            })
            .await;
    }

    /// Runs until the handle is aborted.
    pub fn spawn(self) -> (watch::Receiver<ControllerStatus>, JoinHandle<()>) {
        let (tx, rx) = watch::channel(ControllerStatus::default());
        (rx, tokio::spawn(self.run(tx)))
    }

    async fn run(self, status: watch::Sender<ControllerStatus>) {
        let changed = Arc::new(Notify::new());
        let (inputs, _reflectors) = loop {
            match Inputs::start(&self.kube, changed.clone()).await {
                Ok((inputs, reflectors, missing)) => {
                    for (kind, consequence) in &missing.kinds {
                        tracing::warn!(%kind, "CRD not installed: {consequence}; install it and restart to use it");
                    }
                    break (inputs, reflectors);
                }
                Err(e) => {
                    // Not ready, and it says why; the CRDs may be installed after us.
                    tracing::error!(error = %e, "cannot watch the Gateway API; checking again in 10 s");
                    status.send_modify(|s| s.last_error = Some(e.to_string()));
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
            }
        };
        inputs.ready().await;
        let mut retry = self.options.retry;
        let mut last_full = Instant::now();
        let mut full = true;
        loop {
            if full {
                last_full = Instant::now();
            }
            let ok = self.reconcile(&inputs, &status, full).await;
            let until_full = self.options.resync.saturating_sub(last_full.elapsed());
            let wait = if ok {
                retry = self.options.retry;
                until_full
            } else {
                let w = retry;
                retry = (retry * 2).min(self.options.resync);
                w.min(until_full)
            };
            full = false;
            tokio::select! {
                () = changed.notified() => {
                    // Coalesce a burst: wait for quiet, bounded by ten debounces.
                    let deadline = Instant::now() + self.options.debounce * 10;
                    loop {
                        let quiet = tokio::time::timeout(self.options.debounce, changed.notified()).await;
                        if quiet.is_err() || Instant::now() >= deadline {
                            break;
                        }
                    }
                }
                () = tokio::time::sleep(wait) => {
                    full = last_full.elapsed() >= self.options.resync;
                }
            }
        }
    }

    /// One level-triggered pass (a full sync against everything we own when `full`); true
    /// when everything succeeded.
    async fn reconcile(
        &self,
        inputs: &Inputs,
        status: &watch::Sender<ControllerStatus>,
        full: bool,
    ) -> bool {
        let started = Instant::now();
        let pass = self.reconcile_once(inputs, status, full).await;
        if let Some(m) = &self.metrics {
            let result = if pass.failed {
                crate::metrics::ReconcileResult::Error
            } else {
                crate::metrics::ReconcileResult::Success
            };
            m.reconcile(result, started.elapsed());
        }
        !pass.failed && !pass.waiting
    }

    async fn reconcile_once(
        &self,
        inputs: &Inputs,
        status: &watch::Sender<ControllerStatus>,
        full: bool,
    ) -> Pass {
        let snapshot = inputs.snapshot();
        let mut settings = self.settings.clone();
        let mut istio_error = None;
        settings.istio_refs = if settings.istio_enabled {
            let decision = self.istio.decide(&self.avi, inputs, &settings).await;
            istio_error = decision.error;
            decision.refs
        } else {
            None
        };
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let t = translate(&snapshot, &settings, &now);
        // Peak memory matters with thousands of routes: the copy of every input goes before
        // the model is encoded.
        drop(snapshot);
        let gateway_translate::Translation {
            model,
            statuses,
            warnings,
            ..
        } = t;
        let mut errors: Vec<String> = Vec::new();
        let mut writes = 0u64;
        let mut failed_objects: Vec<(Kind, String, String)> = Vec::new();
        {
            let mut cache = self.cache.lock().await;
            // The model is encoded object by object as the plan takes it.
            match cache
                .sync(
                    &self.avi,
                    model.into_desired(),
                    &settings.created_by(),
                    OWNED_KINDS,
                    full,
                )
                .await
            {
                Err(e) => {
                    cache.invalidate();
                    errors.push(format!("Avi sync: {e}"));
                }
                Ok(outcome) => {
                    writes = outcome.writes;
                    failed_objects = outcome.failed;
                    if !failed_objects.is_empty() {
                        errors.push(format!("{} Avi steps failed", failed_objects.len()));
                    }
                }
            }
        }
        let synced = errors.is_empty();
        // Gateway addresses from the VIPs the controller allocated.
        let mut statuses = statuses;
        let mut unaddressed = 0usize;
        for s in &mut statuses {
            if let StatusUpdate::Gateway { key, status } = s {
                let parent = names::parent_vs(&settings.cluster_name, &key.0, &key.1);
                let failure = if synced {
                    None
                } else {
                    Some(
                        failed_objects
                            .iter()
                            .find(|(_, n, _)| n == &parent)
                            .map_or_else(|| errors.join("; "), |(_, _, why)| why.clone()),
                    )
                };
                let vip = match failure {
                    None => self.vip(&names::vsvip(&parent)).await,
                    Some(_) => status::Vip::NotYet,
                };
                let previous = inputs
                    .gateways()
                    .get(&ObjectRef::new(&key.1).within(&key.0));
                let previous = previous.as_ref().and_then(|g| g.status.as_ref());
                if !status::program_gateway(status, vip, previous, failure.as_deref(), &now) {
                    unaddressed += 1;
                }
            }
        }
        let status_writes = status::write_all(&self.kube, inputs, &statuses).await;
        let (written, status_errors) = match status_writes {
            Ok(n) => (n, None),
            Err(e) => (0, Some(e)),
        };
        let status_errors_none = status_errors.is_none();
        // The sync itself may have succeeded; an uncertain Istio check or a Gateway still
        // waiting for its VIP only asks for a retry.
        let mut waits: Vec<String> = istio_error.into_iter().collect();
        if unaddressed > 0 {
            waits.push(format!("{unaddressed} Gateways wait for their VIP"));
        }
        if let Some(e) = status_errors {
            errors.push(format!("status: {e}"));
        }
        for w in &warnings {
            tracing::warn!(kind = w.kind, namespace = %w.key.0, name = %w.key.1, reason = w.reason, "{}", w.message);
        }
        self.raise(
            notices::notices(&warnings, &statuses, synced),
            synced && status_errors_none,
        )
        .await;
        let pass = Pass {
            failed: !errors.is_empty(),
            waiting: !waits.is_empty(),
        };
        status.send_modify(|s| {
            s.reconciles += 1;
            s.synced += u64::from(synced);
            s.avi_writes += writes;
            s.status_writes += written;
            s.istio_refs = settings.istio_refs.is_some();
            s.last_error = pass.failed.then(|| errors.join("; "));
            s.waiting = pass.waiting.then(|| waits.join("; "));
        });
        pass
    }

    async fn vip(&self, name: &str) -> status::Vip {
        match self.avi.get_by_name::<VsVip>(name).await {
            Ok(Some(v)) => v
                .vip
                .iter()
                .find_map(|vip| vip.ip_address.as_ref().map(|a| a.addr.clone()))
                .map_or(status::Vip::NotYet, status::Vip::Allocated),
            Ok(None) => status::Vip::NotYet,
            Err(e) => {
                tracing::warn!(vsvip = name, error = %e, "cannot read the VIP");
                status::Vip::Unknown(e.to_string())
            }
        }
    }
}
