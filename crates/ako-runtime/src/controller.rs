//! The reconcile loop, built from a list of translators (in the spirit of kube-runtime's
//! `Controller::watches`): reflectors for the shared inputs and every kind the translators
//! declare, changes coalesced (a short debounce) into level-triggered reconciles, every
//! translator run on one snapshot, all their Avi objects synced in one plan against what we own
//! on the controller, then statuses of any kind written by server-side apply, only when they
//! differ. A periodic resync catches what a watch missed and writes nothing when nothing changed.
//!
//! With [`Controller::standby`], every replica keeps its reflectors warm and only the leader
//! writes (Avi objects, statuses, Events): a new leader starts from listed caches.

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
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use translate_core::{Addressed, AviModel, KindSpec, Notice, ObjectKey, Settings, Translator};

use self::inputs::Inputs;

/// Events published at once.
const EVENT_CONCURRENCY: usize = 8;

/// Every kind a translation creates: leftovers of these are deleted.
pub const OWNED_KINDS: &[Kind] = &[
    Kind::VirtualService,
    Kind::VsVip,
    Kind::HttpPolicySet,
    Kind::VsDataScriptSet,
    Kind::PoolGroup,
    Kind::Pool,
    Kind::SslKeyAndCertificate,
    Kind::ApplicationProfile,
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
    translators: Vec<Arc<dyn Translator>>,
    field_manager: String,
    /// While this says false, the replica keeps its caches warm and writes nothing.
    leading: Option<watch::Receiver<bool>>,
    events: Option<crate::Events>,
    /// Events already raised, so a resync does not repeat them.
    reported: std::sync::Mutex<notices::Reported>,
    /// What was last written to the controller.
    cache: tokio::sync::Mutex<sync_cache::SyncCache>,
    /// The Istio certificate set and the references last found complete.
    istio: istio::IstioGate,
    /// Where each reconcile's outcome and duration are counted.
    metrics: Option<crate::Metrics>,
    /// What the endpoint path refreshes: the pools of the last successful pass; `None` until
    /// a pass succeeds, and after a failure.
    last: std::sync::Mutex<Option<translate_core::incremental::EndpointPools>>,
}

impl Controller {
    /// A controller for `settings` (its `istio_refs` are decided at each reconcile), with no
    /// translator yet: add them with [`Controller::with_translator`].
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
            translators: Vec::new(),
            field_manager: status::FIELD_MANAGER.to_owned(),
            leading: None,
            events: None,
            reported: Default::default(),
            cache: Default::default(),
            istio: istio::IstioGate::new(),
            metrics: None,
            last: std::sync::Mutex::new(None),
        }
    }

    /// Adds a translator: the kinds it declares are watched, and its output joins the one sync
    /// plan of every translator.
    pub fn with_translator(mut self, translator: impl Translator + 'static) -> Self {
        self.translators.push(Arc::new(translator));
        self
    }

    /// The field manager statuses are written with (`ako-gateway-api` by default).
    pub fn with_field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = manager.into();
        self
    }

    /// Objects of our owner the sync must leave alone although no translator wants them: the
    /// Istio pipeline's PKIProfile and certificate when the controller runs in the `ako`
    /// container beside it.
    pub fn keeping(mut self, kept: Vec<(Kind, String)>) -> Self {
        self.cache = tokio::sync::Mutex::new(sync_cache::SyncCache::keeping(kept));
        self
    }

    /// Warm standby: reflectors run and list from the start, but Avi objects, statuses and
    /// Events are written only while `leading` says true (a Lease held); the first reconcile
    /// after taking over is a full sync.
    pub fn standby(mut self, leading: watch::Receiver<bool>) -> Self {
        self.leading = Some(leading);
        self
    }

    /// Every kind the translators read, as the runtime watches them.
    pub fn kinds(&self) -> Vec<KindSpec> {
        self.translators.iter().flat_map(|t| t.kinds()).collect()
    }

    /// Raises the translators' notices (ambient or mixed backends, Istio objects pending,
    /// routes accepted or rejected, ...) as Events on the objects concerned (see [`notices`]).
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

    async fn raise(&self, inputs: &Inputs, now: Vec<Notice>, complete: bool) {
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
                    api_version: Some(api_version_of(inputs, &n.object)),
                    kind: Some(n.object.kind().to_owned()),
                    namespace: (!n.object.namespace.is_empty()).then(|| n.object.namespace.clone()),
                    name: Some(n.object.name.clone()),
                    ..Default::default()
                };
                let sent = match n.severity {
                    // Raised once per fact (`Reported`): nothing to aggregate.
                    translate_core::Severity::Normal => {
                        events
                            .announce(&object, &n.reason, "Reconcile", &n.message)
                            .await
                    }
                    translate_core::Severity::Warning => {
                        events
                            .warn(&object, &n.reason, "Reconcile", &n.message)
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

    async fn run(mut self, status: watch::Sender<ControllerStatus>) {
        let changed = Arc::new(Notify::new());
        let kinds = self.kinds();
        let (inputs, _reflectors) = loop {
            match Inputs::start(&self.kube, &kinds, changed.clone()).await {
                Ok((inputs, reflectors, missing)) => {
                    for (kind, consequence) in &missing.kinds {
                        tracing::warn!(%kind, "CRD not installed: {consequence}; install it and restart to use it");
                    }
                    break (inputs, reflectors);
                }
                Err(e) => {
                    // Not ready, and it says why; the CRDs may be installed after us.
                    tracing::error!(error = %e, "cannot watch the translators' inputs; checking again in 10 s");
                    status.send_modify(|s| s.last_error = Some(e.to_string()));
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
            }
        };
        inputs.ready().await;
        let mut leading = self.leading.take();
        let mut retry = self.options.retry;
        let mut last_full = Instant::now();
        let mut full = true;
        // The endpoint path served the last change: wait for the next one without a pass.
        let mut skip_pass = false;
        loop {
            // Standby: caches stay warm; nothing is written until this replica leads, and
            // then a full sync comes first.
            if let Some(l) = leading.as_mut()
                && !*l.borrow_and_update()
            {
                self.cache.lock().await.invalidate();
                if let Ok(mut r) = self.reported.lock() {
                    *r = notices::Reported::default();
                }
                if l.wait_for(|lead| *lead).await.is_err() {
                    return;
                }
                full = true;
            }
            if full {
                last_full = Instant::now();
            }
            let ok = if std::mem::take(&mut skip_pass) {
                true
            } else {
                // Losing the Lease cancels the pass at once: a former leader must not write
                // while the next one may already be writing.
                let pass = self.reconcile(&inputs, &status, full);
                match leading.as_mut() {
                    Some(l) => tokio::select! {
                        ok = pass => ok,
                        lost = l.wait_for(|lead| !*lead) => {
                            // A closed channel says nothing about the Lease any more: stop
                            // writing.
                            if lost.is_err() {
                                return;
                            }
                            if let Ok(mut last) = self.last.lock() {
                                *last = None;
                            }
                            tracing::warn!("lost the leadership: no more writes");
                            continue;
                        }
                    },
                    None => pass.await,
                }
            };
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
            // Resolves with whether the leadership channel closed.
            let lost = async {
                match leading.as_mut() {
                    Some(l) => l.wait_for(|lead| !*lead).await.is_err(),
                    None => std::future::pending::<bool>().await,
                }
            };
            tokio::select! {
                () = changed.notified() => {
                    // Only endpoints changed: their pools are refreshed at once, without a
                    // translation; anything else, or a pool the refresh cannot account for,
                    // goes to a full pass.
                    let may_write = leading.as_ref().is_none_or(|l| *l.borrow());
                    if may_write && self.endpoints(&inputs, &status).await {
                        skip_pass = true;
                        continue;
                    }
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
                closed = lost => {
                    if closed {
                        return;
                    }
                }
            }
        }
    }

    /// The endpoint path: when only EndpointSlices changed since the last look, the pools of
    /// their Services are brought up to date from the last successful pass and written alone
    /// (issue 17: a pool follows its endpoints in milliseconds whatever the number of routes).
    /// False when a full pass is needed: something else changed, a pool's TLS or validity
    /// would change (`Refresh::NeedsFull`), no pass succeeded yet, or a write failed.
    async fn endpoints(&self, inputs: &Inputs, status: &watch::Sender<ControllerStatus>) -> bool {
        let changes = inputs.take_changes();
        if !changes.endpoints_only() {
            // The full pass reads everything; what was taken here is no loss.
            return false;
        }
        let started = Instant::now();
        let refreshed = {
            let Ok(mut guard) = self.last.lock() else {
                return false;
            };
            let Some(last) = guard.as_mut() else {
                return false;
            };
            let refreshed = last
                .refresh(&changes.services, &inputs.shared())
                .map(|d| (d, last.settings().created_by()));
            if refreshed.is_none() {
                *guard = None;
            }
            refreshed
        };
        let Some((desired, created_by)) = refreshed else {
            return false;
        };
        if desired.is_empty() {
            return true;
        }
        let outcome = {
            let mut cache = self.cache.lock().await;
            cache.sync_changed(&self.avi, desired, &created_by).await
        };
        match outcome {
            Some(Ok(o)) if o.failed.is_empty() => {
                tracing::info!(
                    pools = o.writes,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "endpoint change: pools updated without a translation"
                );
                status.send_modify(|s| s.avi_writes += o.writes);
                true
            }
            _ => {
                if let Ok(mut last) = self.last.lock() {
                    *last = None;
                }
                false
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
        // This pass reads everything: what changed before it is accounted for.
        let _ = inputs.take_changes();
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
        let mut model = AviModel::default();
        let mut statuses = Vec::new();
        let mut notices = Vec::new();
        let mut backends = std::collections::BTreeMap::new();
        for (i, t) in self.translators.iter().enumerate() {
            let out = t.translate(&snapshot, &settings, &now);
            model.extend(out.model);
            statuses.extend(out.statuses.into_iter().map(|s| (i, s)));
            notices.extend(out.notices);
            backends.extend(out.pool_backends);
        }
        model.normalize();
        let next_last =
            translate_core::incremental::EndpointPools::new(&model, backends, settings.clone());
        // Peak memory matters with thousands of routes: the copy of every input goes before
        // the model is encoded.
        drop(snapshot);
        let mut errors: Vec<String> = Vec::new();
        let mut writes = 0u64;
        let mut failed_objects: Vec<(Kind, String, String)> = Vec::new();
        // Statuses that show no address (routes, policies) do not depend on the sync: they are
        // written while it runs. Those that show one (Gateways, ListenerSets) wait for the VIPs.
        let (early, mut addressed_statuses): (Vec<_>, Vec<_>) = statuses
            .into_iter()
            .partition(|(_, s)| s.addresses.is_empty());
        let early: Vec<translate_core::ObjectStatus> = early.into_iter().map(|(_, s)| s).collect();
        let created_by = settings.created_by();
        let sync = async {
            let mut cache = self.cache.lock().await;
            // The model is encoded object by object as the plan takes it.
            let outcome = cache
                .sync(
                    &self.avi,
                    model.into_desired(),
                    &created_by,
                    OWNED_KINDS,
                    full,
                )
                .await;
            if outcome.is_err() {
                cache.invalidate();
            }
            outcome
        };
        let (outcome, early_writes) = tokio::join!(
            sync,
            status::write_all(&self.kube, inputs, &early, &self.field_manager)
        );
        match outcome {
            Err(e) => errors.push(format!("Avi sync: {e}")),
            Ok(outcome) => {
                writes = outcome.writes;
                failed_objects = outcome.failed;
                if !failed_objects.is_empty() {
                    errors.push(format!("{} Avi steps failed", failed_objects.len()));
                }
            }
        }
        let synced = errors.is_empty();
        if let Ok(mut last) = self.last.lock() {
            *last = synced.then_some(next_last);
        }
        // Addresses from the VIPs the controller allocated, for the statuses that show one.
        let mut unaddressed = 0usize;
        for (i, s) in &mut addressed_statuses {
            let mut addressed = Vec::with_capacity(s.addresses.len());
            for need in &s.addresses {
                let failure = (!synced).then(|| {
                    failed_objects
                        .iter()
                        .find(|(_, n, _)| n == &need.virtual_service)
                        .map_or_else(|| errors.join("; "), |(_, _, why)| why.clone())
                });
                addressed.push(match failure {
                    Some(why) => Addressed::Failed(why),
                    None => self.vip(&need.vsvip).await,
                });
            }
            let previous = inputs.status_of(&s.key.group_kind, &s.key.namespace, &s.key.name);
            if !self.translators[*i].address(s, &addressed, previous.as_ref(), &now) {
                unaddressed += 1;
            }
        }
        let late: Vec<translate_core::ObjectStatus> =
            addressed_statuses.into_iter().map(|(_, s)| s).collect();
        let late_writes = status::write_all(&self.kube, inputs, &late, &self.field_manager).await;
        let (written, status_errors) = match (early_writes, late_writes) {
            (Ok(a), Ok(b)) => (a + b, None),
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => (0, Some(e)),
            (Err(a), Err(b)) => (0, Some(format!("{a}; {b}"))),
        };
        let status_errors_none = status_errors.is_none();
        // The sync itself may have succeeded; an uncertain Istio check or an object still
        // waiting for its VIP only asks for a retry.
        let mut waits: Vec<String> = istio_error.into_iter().collect();
        if unaddressed > 0 {
            waits.push(format!("{unaddressed} objects wait for their VIP"));
        }
        if let Some(e) = status_errors {
            errors.push(format!("status: {e}"));
        }
        for n in &notices {
            if n.severity == translate_core::Severity::Warning {
                tracing::warn!(object = %n.object, reason = %n.reason, "{}", n.message);
            }
        }
        // "Accepted" and the like mean "served": only after a sync that succeeded.
        notices.retain(|n| synced || !n.when_synced);
        self.raise(inputs, notices, synced && status_errors_none)
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

    async fn vip(&self, name: &str) -> Addressed {
        match self.avi.get_by_name::<VsVip>(name).await {
            Ok(Some(v)) => v
                .vip
                .iter()
                .find_map(|vip| vip.ip_address.as_ref().map(|a| a.addr.clone()))
                .map_or(Addressed::NotYet, Addressed::Vip),
            Ok(None) => Addressed::NotYet,
            Err(e) => {
                tracing::warn!(vsvip = name, error = %e, "cannot read the VIP");
                Addressed::Unknown(e.to_string())
            }
        }
    }
}

/// `apiVersion` of an object an Event is about: its kind's, as a translator declared it, or the
/// shared inputs' own.
fn api_version_of(inputs: &Inputs, key: &ObjectKey) -> String {
    if let Some(spec) = inputs
        .kinds()
        .find(|k| k.group == key.group() && k.kind == key.kind())
    {
        return spec.api_version();
    }
    if key.group().is_empty() {
        "v1".to_owned()
    } else {
        format!("{}/v1", key.group())
    }
}
