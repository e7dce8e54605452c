//! Leader election on a coordination.k8s.io/v1 Lease, so that two replicas can run and only
//! one writes.
//!
//! The algorithm is client-go's: every `retry_period` each candidate reads the Lease. It takes
//! it when nobody holds it, or when the holder has not renewed it for the holder's
//! `leaseDurationSeconds` *as measured on our own clock* from when we first saw its current
//! version (so clock skew between nodes does not matter); the leader renews it. Every write is
//! a replace carrying the `resourceVersion` just read, so when two candidates race the API
//! server accepts one and answers the other 409 Conflict: two candidates never both win.
//!
//! A leader that has not renewed successfully for `renew_deadline` steps down (publishes
//! `false`) before anyone else may take over, because `renew_deadline < lease_duration`.
//! Identities must be unique per replica: use the pod name.
//!
//! Gate every write on the receiver:
//!
//! ```no_run
//! # async fn run(client: kube::Client) -> Result<(), ako_runtime::RuntimeError> {
//! use ako_runtime::leader::{LeaderElector, LeaseTiming};
//!
//! let leadership = LeaderElector::new(client, "avi-system", "ako-leader", "ako-0", LeaseTiming::default())?
//!     .spawn();
//! let mut leading = leadership.subscribe();
//! loop {
//!     if *leading.borrow_and_update() {
//!         // write to Avi and Kubernetes
//!     }
//!     if leading.changed().await.is_err() {
//!         break;
//!     }
//! }
//! leadership.release().await; // on shutdown: hand over at once
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::RuntimeError;
use crate::metrics::Metrics;

/// How long a Lease lasts and how often it is tried. The defaults are client-go's: 15 s,
/// 10 s, 2 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseTiming {
    /// How long others wait after the last renewal they saw before taking over. Written to the
    /// Lease in whole seconds (rounded up).
    pub lease_duration: Duration,
    /// How long the leader keeps failing to renew before it steps down. Less than
    /// `lease_duration`.
    pub renew_deadline: Duration,
    /// The pause between attempts. Less than `renew_deadline`.
    pub retry_period: Duration,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        LeaseTiming {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

impl LeaseTiming {
    /// Checks `0 < retry_period < renew_deadline < lease_duration` and a lease of at least 1 s.
    pub fn validate(&self) -> Result<(), RuntimeError> {
        let bad = |why: &str| Err(RuntimeError::LeaderElection(format!("{why}: {self:?}")));
        if self.lease_duration < Duration::from_secs(1) {
            return bad("the lease duration must be at least 1s");
        }
        if self.renew_deadline >= self.lease_duration {
            return bad("the renew deadline must be shorter than the lease duration");
        }
        if self.retry_period.is_zero() || self.retry_period >= self.renew_deadline {
            return bad("the retry period must be above zero and shorter than the renew deadline");
        }
        Ok(())
    }

    fn lease_seconds(&self) -> i32 {
        let secs =
            self.lease_duration.as_secs() + u64::from(self.lease_duration.subsec_nanos() > 0);
        i32::try_from(secs).unwrap_or(i32::MAX)
    }
}

/// When we first saw the Lease's current version.
struct Observed {
    version: Option<String>,
    at: Instant,
}

/// One candidate for one Lease. [`LeaderElector::spawn`] runs it.
pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
    timing: LeaseTiming,
    metrics: Option<Metrics>,
    observed: Option<Observed>,
    /// The Lease as we last wrote it, for the release on shutdown.
    last_written: Option<Lease>,
}

impl std::fmt::Debug for LeaderElector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElector")
            .field("lease", &self.name)
            .field("identity", &self.identity)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl LeaderElector {
    /// A candidate `identity` (the pod name) for Lease `lease_name` in `namespace`.
    pub fn new(
        client: kube::Client,
        namespace: &str,
        lease_name: &str,
        identity: &str,
        timing: LeaseTiming,
    ) -> Result<LeaderElector, RuntimeError> {
        timing.validate()?;
        if identity.trim().is_empty() {
            return Err(RuntimeError::LeaderElection(
                "the identity is empty: set POD_NAME".to_owned(),
            ));
        }
        if lease_name.trim().is_empty() {
            return Err(RuntimeError::LeaderElection(
                "the Lease name is empty".to_owned(),
            ));
        }
        Ok(LeaderElector {
            api: Api::namespaced(client, namespace),
            name: lease_name.to_owned(),
            identity: identity.to_owned(),
            timing,
            metrics: None,
            observed: None,
            last_written: None,
        })
    }

    /// Also reports leadership as the `ako_leader` gauge.
    pub fn with_metrics(mut self, metrics: Metrics) -> LeaderElector {
        self.metrics = Some(metrics);
        self
    }

    /// Starts campaigning in a background task. Must be called inside a Tokio runtime.
    pub fn spawn(self) -> Leadership {
        let (tx, rx) = watch::channel(false);
        let tx = Arc::new(tx);
        let (stop, stopped) = oneshot::channel();
        if let Some(m) = &self.metrics {
            m.leader(false);
        }
        let task = tokio::spawn(self.run(tx.clone(), stopped));
        Leadership {
            rx,
            tx,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn run(mut self, tx: Arc<watch::Sender<bool>>, mut stop: oneshot::Receiver<()>) {
        let timing = self.timing;
        let mut leading = false;
        // Start of the last round that renewed: the Lease was written after this instant.
        let mut last_renewed = Instant::now();
        loop {
            let started = Instant::now();
            let deadline = if leading {
                last_renewed + timing.renew_deadline
            } else {
                started + timing.renew_deadline
            };
            let outcome = tokio::select! {
                biased;
                _ = &mut stop => break,
                outcome = tokio::time::timeout_at(deadline, self.round()) => outcome,
            };
            match outcome {
                Ok(Ok(true)) => {
                    last_renewed = started;
                    if !leading {
                        leading = true;
                        self.publish(&tx, true);
                        tracing::info!(lease = %self.name, identity = %self.identity, "became the leader");
                    }
                }
                Ok(Ok(false)) => {
                    if leading {
                        leading = false;
                        self.publish(&tx, false);
                        tracing::warn!(lease = %self.name, identity = %self.identity, "another replica holds the lease; stepped down");
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(lease = %self.name, %error, "lease read or write failed");
                }
                Err(_) => {
                    tracing::warn!(lease = %self.name, "lease read or write timed out");
                }
            }
            if leading && Instant::now() >= last_renewed + timing.renew_deadline {
                leading = false;
                self.publish(&tx, false);
                tracing::warn!(lease = %self.name, identity = %self.identity, deadline = ?timing.renew_deadline, "could not renew the lease in time; stepped down");
            }
            let mut wake = Instant::now() + timing.retry_period;
            if leading {
                wake = wake.min(last_renewed + timing.renew_deadline);
            }
            tokio::select! {
                biased;
                _ = &mut stop => break,
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
        // Stop writing first, then let the next candidate in without waiting for expiry.
        self.publish(&tx, false);
        if leading {
            let release = tokio::time::timeout(timing.renew_deadline, self.release());
            match release.await {
                Ok(Ok(())) => {
                    tracing::info!(lease = %self.name, identity = %self.identity, "released the lease")
                }
                Ok(Err(error)) => {
                    tracing::warn!(lease = %self.name, %error, "could not release the lease; it will expire")
                }
                Err(_) => {
                    tracing::warn!(lease = %self.name, "releasing the lease timed out; it will expire")
                }
            }
        }
    }

    fn publish(&self, tx: &watch::Sender<bool>, leading: bool) {
        tx.send_replace(leading);
        if let Some(m) = &self.metrics {
            m.leader(leading);
        }
    }

    /// Notes when the Lease's version changed, for the expiry clock.
    fn observe(&mut self, lease: &Lease) {
        let version = lease.metadata.resource_version.clone();
        if self.observed.as_ref().map(|o| &o.version) != Some(&version) {
            self.observed = Some(Observed {
                version,
                at: Instant::now(),
            });
        }
    }

    fn remember(&mut self, lease: Lease) {
        self.observe(&lease);
        self.last_written = Some(lease);
    }

    /// One attempt to take or renew the Lease: `Ok(true)` when we hold it now.
    async fn round(&mut self) -> Result<bool, kube::Error> {
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(self.timing.lease_seconds()),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(created) => {
                    self.remember(created);
                    Ok(true)
                }
                Err(e) if is_conflict(&e) => Ok(false),
                Err(e) => Err(e),
            };
        };
        self.observe(&lease);
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty());
        let mine = holder == Some(self.identity.as_str());
        if !mine && holder.is_some() {
            let their_duration = spec
                .lease_duration_seconds
                .and_then(|s| u64::try_from(s).ok())
                .filter(|s| *s > 0)
                .map_or(self.timing.lease_duration, Duration::from_secs);
            let unchanged_for = self
                .observed
                .as_ref()
                .map_or(Duration::ZERO, |o| o.at.elapsed());
            if unchanged_for < their_duration {
                return Ok(false);
            }
        }
        if !mine {
            spec.holder_identity = Some(self.identity.clone());
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
        }
        spec.renew_time = Some(now);
        spec.lease_duration_seconds = Some(self.timing.lease_seconds());
        // The resourceVersion read above makes this a compare-and-swap.
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(updated) => {
                self.remember(updated);
                Ok(true)
            }
            Err(e) if is_conflict(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Clears the holder of the Lease we last wrote, if nobody changed it since.
    async fn release(&mut self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.last_written.take() else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            // Someone else wrote it since: it is not ours to clear.
            Err(e) if is_conflict(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409)
}

/// Whether this replica leads, as it changes. Dropping it stops campaigning at once (the Lease
/// then expires); [`Leadership::release`] hands over without waiting. Either way the receivers
/// end on `false`.
#[derive(Debug)]
pub struct Leadership {
    rx: watch::Receiver<bool>,
    tx: Arc<watch::Sender<bool>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Leadership {
    /// Always the leader, for `--leader-election=false` (one replica only).
    pub fn always() -> Leadership {
        let (tx, rx) = watch::channel(true);
        Leadership {
            rx,
            tx: Arc::new(tx),
            stop: None,
            task: None,
        }
    }

    /// Whether this replica leads now.
    pub fn is_leader(&self) -> bool {
        *self.rx.borrow()
    }

    /// A receiver that sees every change; `true` while leading.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }

    /// Waits until this replica leads.
    pub async fn became_leader(&self) {
        let mut rx = self.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|leading| *leading).await;
    }

    /// Runs the work `start` gives while this replica leads: it is started when leadership is
    /// won, aborted as soon as it is lost, and started afresh when it is won again. Returns only
    /// if the leadership channel closes. `on_lost` runs after each abort.
    pub async fn run_while_leading<F, Fut>(&self, mut start: F, mut on_lost: impl FnMut())
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut leading = self.subscribe();
        loop {
            if !*leading.borrow_and_update() {
                tracing::info!("not the leader: waiting to write");
                if leading.changed().await.is_err() {
                    return;
                }
                continue;
            }
            tracing::info!("leading: writing");
            let work = tokio::spawn(start());
            while *leading.borrow_and_update() {
                if leading.changed().await.is_err() {
                    break;
                }
            }
            tracing::warn!("lost the leadership: no more writes");
            work.abort();
            on_lost();
        }
    }

    /// Stops campaigning; if leading, publishes `false` and then clears the Lease's holder so
    /// another replica takes over at once.
    pub async fn release(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.tx.send_replace(false);
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.tx.send_replace(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_sim::{FaultRule, KubeSim, SimConfig};

    #[tokio::test]
    async fn work_runs_only_while_leading_and_restarts_when_leadership_returns() {
        let (tx, rx) = watch::channel(false);
        let leadership = Leadership {
            rx,
            tx: Arc::new(tx),
            stop: None,
            task: None,
        };
        let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let running = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let lost = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        struct Running(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Running {
            fn drop(&mut self) {
                self.0.store(false, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let tx = leadership.tx.clone();
        let (s, r, l) = (started.clone(), running.clone(), lost.clone());
        let driver = async {
            tokio::task::yield_now().await;
            assert_eq!(
                s.load(std::sync::atomic::Ordering::SeqCst),
                0,
                "not leading: nothing runs"
            );
            tx.send_replace(true);
            for _ in 0..50 {
                if r.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert!(r.load(std::sync::atomic::Ordering::SeqCst));
            tx.send_replace(false);
            for _ in 0..50 {
                if !r.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert!(
                !r.load(std::sync::atomic::Ordering::SeqCst),
                "stopped when lost"
            );
            assert_eq!(l.load(std::sync::atomic::Ordering::SeqCst), 1);
            tx.send_replace(true);
            for _ in 0..50 {
                if s.load(std::sync::atomic::Ordering::SeqCst) == 2 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert_eq!(
                s.load(std::sync::atomic::Ordering::SeqCst),
                2,
                "started again"
            );
        };
        let work = leadership.run_while_leading(
            || {
                started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                running.store(true, std::sync::atomic::Ordering::SeqCst);
                let guard = Running(running.clone());
                async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }
            },
            || {
                lost.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            },
        );
        tokio::select! {
            () = work => panic!("the leadership channel never closes here"),
            () = driver => {}
        }
    }

    const NS: &str = "default";

    async fn client(sim: &KubeSim) -> kube::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        kube::Client::try_from(kube::Config::new(sim.url().parse().unwrap())).unwrap()
    }

    fn fast() -> LeaseTiming {
        LeaseTiming {
            lease_duration: Duration::from_secs(1),
            renew_deadline: Duration::from_millis(600),
            retry_period: Duration::from_millis(200),
        }
    }

    async fn until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + limit;
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn holder(api: &Api<Lease>, name: &str) -> (Option<String>, i32) {
        let spec = api.get(name).await.unwrap().spec.unwrap();
        (spec.holder_identity, spec.lease_transitions.unwrap_or(0))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exactly_one_leads_and_the_other_takes_over_after_expiry() {
        let sim = KubeSim::start(SimConfig::default()).await.unwrap();
        let c = client(&sim).await;
        let metrics = Metrics::new();
        let a = LeaderElector::new(c.clone(), NS, "ako-leader", "ako-0", fast())
            .unwrap()
            .with_metrics(metrics.clone())
            .spawn();
        let b = LeaderElector::new(c.clone(), NS, "ako-leader", "ako-1", fast())
            .unwrap()
            .spawn();

        until("a leader", Duration::from_secs(10), || {
            a.is_leader() || b.is_leader()
        })
        .await;
        // Watch both for well over a lease duration: never two leaders at once.
        let watch_until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < watch_until {
            assert!(!(a.is_leader() && b.is_leader()), "two leaders at once");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(a.is_leader() != b.is_leader(), "exactly one leads");

        let leases: Api<Lease> = Api::namespaced(c, NS);
        let (leader, follower, leader_id, follower_id) = if a.is_leader() {
            (a, b, "ako-0", "ako-1")
        } else {
            (b, a, "ako-1", "ako-0")
        };
        let (held_by, transitions) = holder(&leases, "ako-leader").await;
        assert_eq!(held_by.as_deref(), Some(leader_id));
        if leader_id == "ako-0" {
            assert!(metrics.encode().contains("ako_leader 1\n"));
        }

        // The leader dies without releasing: the follower waits out the lease, then leads.
        let mut follower_rx = follower.subscribe();
        let died = Instant::now();
        drop(leader);
        tokio::time::timeout(Duration::from_secs(10), follower_rx.wait_for(|l| *l))
            .await
            .expect("the follower took over")
            .unwrap();
        assert!(
            died.elapsed() >= Duration::from_millis(900),
            "took over before the lease expired: {:?}",
            died.elapsed()
        );
        let (held_by, after) = holder(&leases, "ako-leader").await;
        assert_eq!(held_by.as_deref(), Some(follower_id));
        assert_eq!(after, transitions + 1, "a takeover is a transition");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn release_hands_over_without_waiting_for_expiry() {
        let sim = KubeSim::start(SimConfig::default()).await.unwrap();
        let c = client(&sim).await;
        let slow = LeaseTiming {
            lease_duration: Duration::from_secs(30),
            renew_deadline: Duration::from_secs(20),
            retry_period: Duration::from_millis(200),
        };
        let a = LeaderElector::new(c.clone(), NS, "handover", "pod-a", slow)
            .unwrap()
            .spawn();
        tokio::time::timeout(Duration::from_secs(10), a.became_leader())
            .await
            .unwrap();
        let b = LeaderElector::new(c.clone(), NS, "handover", "pod-b", slow)
            .unwrap()
            .spawn();
        let mut a_rx = a.subscribe();
        let released = Instant::now();
        a.release().await;
        assert!(
            !*a_rx.borrow_and_update(),
            "the old leader's receivers end on false"
        );
        tokio::time::timeout(Duration::from_secs(10), b.became_leader())
            .await
            .expect("took over after the release");
        assert!(
            released.elapsed() < Duration::from_secs(10),
            "waited for expiry instead of the release"
        );
        let leases: Api<Lease> = Api::namespaced(c, NS);
        assert_eq!(
            holder(&leases, "handover").await.0.as_deref(),
            Some("pod-b")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_leader_that_cannot_renew_steps_down_before_the_lease_expires() {
        let sim = KubeSim::start(SimConfig::default()).await.unwrap();
        let c = client(&sim).await;
        let timing = LeaseTiming {
            lease_duration: Duration::from_secs(4),
            renew_deadline: Duration::from_secs(2),
            retry_period: Duration::from_millis(200),
        };
        let a = LeaderElector::new(c, NS, "flaky", "pod-a", timing)
            .unwrap()
            .spawn();
        tokio::time::timeout(Duration::from_secs(10), a.became_leader())
            .await
            .unwrap();
        sim.add_fault(FaultRule {
            resource: Some("leases".into()),
            method: None,
            error_rate: 1.0,
            status: 500,
            latency_ms: 0,
            times: None,
        });
        let broken = Instant::now();
        let mut rx = a.subscribe();
        tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|l| !*l))
            .await
            .expect("stepped down")
            .unwrap();
        // The last renewal started before the fault; stepping down must beat its expiry.
        assert!(
            broken.elapsed() < timing.lease_duration,
            "still leading {:?} after the API broke",
            broken.elapsed()
        );
        // Once the API heals it leads again (the Lease still names it).
        sim.clear_faults();
        tokio::time::timeout(Duration::from_secs(10), a.became_leader())
            .await
            .expect("leads again once the API answers");
    }

    #[tokio::test]
    async fn a_lease_held_by_someone_alive_is_left_alone() {
        let sim = KubeSim::start(SimConfig::default()).await.unwrap();
        let c = client(&sim).await;
        let a = LeaderElector::new(c.clone(), NS, "busy", "pod-a", fast())
            .unwrap()
            .spawn();
        tokio::time::timeout(Duration::from_secs(10), a.became_leader())
            .await
            .unwrap();
        let mut b = LeaderElector::new(c, NS, "busy", "pod-b", fast()).unwrap();
        for _ in 0..3 {
            assert!(
                !b.round().await.unwrap(),
                "took a lease that is being renewed"
            );
        }
    }

    #[test]
    fn timings_that_cannot_work_are_refused() {
        assert!(LeaseTiming::default().validate().is_ok());
        assert!(fast().validate().is_ok());
        for bad in [
            LeaseTiming {
                lease_duration: Duration::from_millis(500),
                ..fast()
            },
            LeaseTiming {
                renew_deadline: Duration::from_secs(1),
                ..fast()
            },
            LeaseTiming {
                retry_period: Duration::from_millis(600),
                ..fast()
            },
            LeaseTiming {
                retry_period: Duration::ZERO,
                ..fast()
            },
        ] {
            let err = bad.validate().unwrap_err();
            assert!(err.to_string().starts_with("leader election:"), "{err}");
        }
        assert_eq!(
            LeaseTiming {
                lease_duration: Duration::from_millis(1500),
                ..LeaseTiming::default()
            }
            .lease_seconds(),
            2
        );
    }

    #[tokio::test]
    async fn always_leads_until_dropped() {
        let l = Leadership::always();
        assert!(l.is_leader());
        l.became_leader().await;
        let rx = l.subscribe();
        drop(l);
        assert!(!*rx.borrow());
    }
}
