//! The loop: every set the CertStore publishes is written (see [`Publisher`]), retried with
//! backoff until it succeeds, and a newer set always replaces a pending retry of an older one.
//! A set already written (same fingerprint) writes nothing, and `istio-secret` deleted or
//! edited by hand is put back.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use istio_certs::secret::SECRET_NAME;
use istio_certs::{CertStore, Fingerprint, IstioBundle};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::objects::objects;
use super::publish::Publisher;

/// Retry timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineOptions {
    /// First retry delay after a failure.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
        }
    }
}

/// What the pipeline has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineStatus {
    /// The fingerprint of the set on the controller, once one is.
    pub published: Option<Fingerprint>,
    /// Sets written successfully (including ones that needed no write).
    pub publications: u64,
    /// Avi writes made.
    pub avi_writes: u64,
    /// Secret writes made.
    pub secret_writes: u64,
    /// Failed attempts.
    pub failures: u64,
    /// The last failure, until a success clears it: `(reason, message)`.
    pub last_error: Option<(&'static str, String)>,
}

/// The pipeline, ready to run.
pub struct Pipeline {
    publisher: Publisher,
    store: CertStore,
    options: PipelineOptions,
}

impl Pipeline {
    /// A pipeline writing what `store` holds through `publisher`.
    pub fn new(publisher: Publisher, store: CertStore, options: PipelineOptions) -> Self {
        Pipeline {
            publisher,
            store,
            options,
        }
    }

    /// Runs until the handle is aborted; the receiver follows its status.
    pub fn spawn(self) -> (watch::Receiver<PipelineStatus>, JoinHandle<()>) {
        let (tx, rx) = watch::channel(PipelineStatus::default());
        (rx, tokio::spawn(self.run(tx)))
    }

    async fn run(self, status: watch::Sender<PipelineStatus>) {
        let mut sets = self.store.subscribe();
        let secrets: Api<Secret> =
            Api::namespaced(self.publisher.kube(), &self.publisher.names().namespace);
        let mut secret_events = watcher(secrets, watcher::Config::default())
            .default_backoff()
            .boxed();
        let mut secrets_open = true;
        // Whether the current (re)list of Secrets showed istio-secret: a list that ends without
        // it means it was deleted while no watch was open.
        let mut listed = false;
        let mut written: Option<Fingerprint> = None;
        let mut retry = self.options.retry_initial;
        loop {
            let current: Option<Arc<IstioBundle>> = sets.borrow_and_update().clone();
            let pending = current
                .as_ref()
                .filter(|b| written.as_ref() != Some(&b.fingerprint()));
            let mut wait = None;
            if let Some(bundle) = pending {
                match self.publisher.publish(bundle).await {
                    Ok(p) => {
                        let fp = bundle.fingerprint();
                        if p.avi_writes() > 0 || p.secret {
                            tracing::info!(
                                fingerprint = %fp.hex(),
                                serial = %bundle.facts().serial,
                                avi_writes = p.avi_writes(),
                                secret = p.secret,
                                "Istio certificate set published"
                            );
                        }
                        written = Some(fp);
                        retry = self.options.retry_initial;
                        status.send_modify(|s| {
                            s.published = Some(fp);
                            s.publications += 1;
                            s.avi_writes += u64::from(p.avi_writes());
                            s.secret_writes += u64::from(p.secret);
                            s.last_error = None;
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?retry, "publishing the Istio certificate set failed; retrying");
                        status.send_modify(|s| {
                            s.failures += 1;
                            s.last_error = Some((e.reason(), e.to_string()));
                        });
                        wait = Some(jittered(retry));
                        retry = (retry * 2).min(self.options.retry_max);
                    }
                }
            }
            let sleep = async {
                match wait {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = sets.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // A newer set: whatever retry was pending is for a stale one.
                    retry = self.options.retry_initial;
                }
                () = sleep => {}
                event = secret_events.next(), if secrets_open => {
                    secrets_open = event.is_some();
                    if secret_tampered(event, current.as_deref(), &self.publisher, &mut listed)
                        && let Some(bundle) = current.as_deref()
                        && written.is_some()
                    {
                        // A watch event can be older than our own write (a list taken just
                        // before it), so it only raises the question: the live Secret answers
                        // it, and only a Secret that really differs is written again.
                        match self.publisher.publish_secret(bundle).await {
                            Ok(true) => {
                                tracing::warn!(secret = SECRET_NAME, "Secret deleted or changed by someone else; written again");
                                status.send_modify(|s| s.secret_writes += 1);
                            }
                            Ok(false) => {
                                tracing::debug!(secret = SECRET_NAME, "a stale watch event; the Secret holds the current set");
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "checking istio-secret after a watch event failed; publishing again");
                                written = None;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether a watch event says `istio-secret` no longer holds the current set. `listed` tracks
/// whether the current (re)list has shown it.
fn secret_tampered(
    event: Option<Result<watcher::Event<Secret>, watcher::Error>>,
    current: Option<&IstioBundle>,
    publisher: &Publisher,
    listed: &mut bool,
) -> bool {
    let named = |s: &Secret| s.metadata.name.as_deref() == Some(SECRET_NAME);
    let differs =
        |s: &Secret| current.is_some_and(|b| s.data != objects(b, publisher.names()).secret.data);
    match event {
        Some(Ok(watcher::Event::Init)) => {
            *listed = false;
            false
        }
        Some(Ok(watcher::Event::InitApply(s))) if named(&s) => {
            *listed = true;
            differs(&s)
        }
        // Deleted while no watch was open (or before the first one).
        Some(Ok(watcher::Event::InitDone)) => !*listed && current.is_some(),
        Some(Ok(watcher::Event::Delete(s))) => named(&s) && current.is_some(),
        Some(Ok(watcher::Event::Apply(s))) => named(&s) && differs(&s),
        _ => false,
    }
}

/// `d` ± 20 %, so that many replicas do not retry in step.
fn jittered(d: Duration) -> Duration {
    let f = rand::rng().random_range(0.8..1.2);
    d.mul_f64(f)
}
