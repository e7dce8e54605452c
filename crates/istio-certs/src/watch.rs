//! The directory watcher: turns istio-agent's file renames into validated bundles in a
//! [`CertStore`], never publishing a torn set.
//!
//! Facts it is built on (see `shared/reference/istio.md` §1): istio-agent replaces each file by
//! rename, key → cert-chain → root, only files whose content changed, never the three at once;
//! `notify` reports a rename as `Modify(Name(..))`; a watch on a file dies at the first rename;
//! the directory may not exist yet; projected volumes swap a `..data` symlink without naming
//! any of the files. So the watcher watches the directory (or its nearest existing ancestor),
//! treats any relevant event as "re-read everything", reads at once (validation is what keeps
//! a torn set out, not waiting: a set read between two renames fails the key or chain check
//! and the next rename's event reads again), validates the whole set, retries with backoff
//! while the set is torn, and re-reads periodically in case events were lost.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::bundle::IstioBundle;
use crate::error::BundleError;
use crate::files::{CertFile, is_temp_name};
use crate::store::CertStore;

/// Where "now" comes from when validating; tests move it.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(Arc::new(SystemTime::now))
    }

    /// A clock given by a function.
    pub fn from_fn(f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Clock(Arc::new(f))
    }

    /// The current time according to this clock.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// How the watcher paces itself.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Quiet time after the last event before reading (default zero: every event reads the
    /// set at once, so a rotation is published as soon as its last rename lands).
    pub debounce: Duration,
    /// Longest a stream of events may postpone a read (default 4 × debounce, at least 1 s).
    pub max_debounce: Duration,
    /// Re-read this often even without events (default 60 s).
    pub resync: Duration,
    /// First retry delay after a torn or incomplete set (default 100 ms, doubling).
    pub retry_initial: Duration,
    /// Longest retry delay (default 10 s).
    pub retry_max: Duration,
    /// Clock used for validity checks.
    pub clock: Clock,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::ZERO,
            max_debounce: Duration::from_secs(1),
            resync: Duration::from_secs(60),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(10),
            clock: Clock::system(),
        }
    }
}

/// The last problem the watcher met, for readiness checks and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchProblem {
    /// Stable label (`key_mismatch`, `missing`, ...), see [`BundleError::kind`].
    pub kind: &'static str,
    /// The operator-facing message.
    pub message: String,
    /// Whether the watcher expects it to clear by itself.
    pub transient: bool,
}

impl From<&BundleError> for WatchProblem {
    fn from(e: &BundleError) -> Self {
        WatchProblem {
            kind: e.kind(),
            message: e.to_string(),
            transient: e.is_transient(),
        }
    }
}

/// What the watcher has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchStatus {
    /// Reads of the set attempted.
    pub loads: u64,
    /// Reads that gave a valid set.
    pub valid_loads: u64,
    /// Valid sets that differed from the store's and were published.
    pub published: u64,
    /// Reads refused by validation.
    pub rejected: u64,
    /// The problem of the latest read, `None` once a read succeeds.
    pub last_problem: Option<WatchProblem>,
}

/// A running watcher. Dropping it stops the watch.
#[derive(Debug)]
pub struct Watcher {
    status: watch::Receiver<WatchStatus>,
    task: JoinHandle<()>,
}

impl Watcher {
    /// A snapshot of what the watcher has done.
    pub fn status(&self) -> WatchStatus {
        self.status.borrow().clone()
    }

    /// A receiver of status changes.
    pub fn status_receiver(&self) -> watch::Receiver<WatchStatus> {
        self.status.clone()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `dir` on the current tokio runtime, publishing each new valid set to
/// `store`.
///
/// ```no_run
/// # async fn demo() {
/// use istio_certs::{CertStore, WatchOptions, watch};
///
/// let store = CertStore::new();
/// let _watcher = watch("/etc/istio-output-certs", WatchOptions::default(), store.clone());
/// let bundle = store.ready().await;
/// println!("serving as {}", bundle.facts().spiffe_id);
/// # }
/// ```
pub fn watch(dir: impl Into<PathBuf>, options: WatchOptions, store: CertStore) -> Watcher {
    let (status_tx, status) = watch::channel(WatchStatus::default());
    let task = tokio::spawn(run(dir.into(), options, store, status_tx));
    Watcher { status, task }
}

/// The inotify watch and what it is on.
struct Armed {
    _watcher: RecommendedWatcher,
    on: PathBuf,
    identity: Option<(u64, u64)>,
}

/// `at + d`, saturating far in the future instead of panicking (`resync: Duration::MAX` means
/// "never").
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .unwrap_or_else(|| at + Duration::from_secs(100 * 365 * 24 * 3600))
}

async fn run(
    dir: PathBuf,
    opts: WatchOptions,
    store: CertStore,
    status: watch::Sender<WatchStatus>,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel::<()>();
    let mut armed: Option<Armed> = None;
    let mut load_at: Option<Instant> = Some(Instant::now());
    let mut burst_start: Option<Instant> = None;
    let mut retry = opts.retry_initial;
    let mut next_resync = later(Instant::now(), opts.resync);
    let mut last_logged: Option<WatchProblem> = None;

    loop {
        if rearm(&dir, &mut armed, &events_tx) {
            // The directory (re)appeared: whatever is in it now was written unseen.
            load_at = Some(Instant::now());
        }
        let wake = load_at.map_or(next_resync, |t| t.min(next_resync));
        tokio::select! {
            event = events.recv() => {
                if event.is_none() {
                    return;
                }
                let now = Instant::now();
                let start = *burst_start.get_or_insert(now);
                let quiet = later(now, opts.debounce);
                let cap = later(start, opts.max_debounce.max(opts.debounce));
                load_at = Some(quiet.min(cap));
                continue;
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
        let now = Instant::now();
        if now >= next_resync {
            next_resync = later(now, opts.resync);
            load_at = Some(load_at.map_or(now, |t| t.min(now)));
        }
        if load_at.is_none_or(|t| t > now) {
            continue;
        }
        load_at = None;
        burst_start = None;

        let result = {
            let dir = dir.clone();
            let at = opts.clock.now();
            tokio::task::spawn_blocking(move || IstioBundle::load(&dir, at)).await
        };
        let result = match result {
            Ok(r) => r,
            Err(join) => {
                tracing::error!(error = %join, "certificate load task failed");
                load_at = Some(later(Instant::now(), retry));
                continue;
            }
        };
        match result {
            Ok(bundle) => {
                retry = opts.retry_initial;
                let facts = bundle.facts().clone();
                let fingerprint = bundle.fingerprint();
                let published = store.publish(bundle);
                if published {
                    tracing::info!(
                        spiffe_id = %facts.spiffe_id,
                        serial = %facts.serial,
                        not_after = %crate::chain::rfc3339(facts.not_after),
                        fingerprint = %fingerprint.hex(),
                        "published Istio certificate set"
                    );
                }
                if last_logged.take().is_some() {
                    tracing::info!("Istio certificate set is valid again");
                }
                status.send_modify(|s| {
                    s.loads += 1;
                    s.valid_loads += 1;
                    s.published += u64::from(published);
                    s.last_problem = None;
                });
            }
            Err(error) => {
                let problem = WatchProblem::from(&error);
                if last_logged.as_ref() != Some(&problem) {
                    if problem.transient {
                        tracing::debug!(%error, "Istio certificate set not usable yet; retrying");
                    } else {
                        tracing::warn!(%error, "Istio certificate set refused");
                    }
                    last_logged = Some(problem.clone());
                }
                if problem.transient {
                    load_at = Some(later(Instant::now(), retry));
                    retry = (retry * 2).min(opts.retry_max);
                }
                status.send_modify(|s| {
                    s.loads += 1;
                    s.rejected += 1;
                    s.last_problem = Some(problem);
                });
            }
        }
    }
}

/// Keeps the inotify watch on `dir`, or on its nearest existing ancestor while `dir` does not
/// exist, re-arming when the directory appears, disappears or is replaced. Returns true when
/// the watch moved onto `dir`.
fn rearm(dir: &Path, armed: &mut Option<Armed>, events: &mpsc::UnboundedSender<()>) -> bool {
    let identity = dir_identity(dir);
    let target = if identity.is_some() {
        dir.to_path_buf()
    } else {
        match dir.ancestors().skip(1).find(|p| p.is_dir()) {
            Some(p) => p.to_path_buf(),
            None => return false,
        }
    };
    let target_identity = if identity.is_some() {
        identity
    } else {
        dir_identity(&target)
    };
    if armed
        .as_ref()
        .is_some_and(|a| a.on == target && a.identity == target_identity)
    {
        return false;
    }
    let on_dir = identity.is_some();
    let tx = events.clone();
    let watched_dir = dir.to_path_buf();
    let handler = move |event: notify::Result<notify::Event>| {
        let relevant = match &event {
            Ok(event) => !on_dir || is_relevant(event, &watched_dir),
            // An error (queue overflow, watch lost) means we may have missed something.
            Err(_) => true,
        };
        if relevant {
            let _ = tx.send(());
        }
    };
    let watcher = notify::recommended_watcher(handler)
        .and_then(|mut w| w.watch(&target, RecursiveMode::NonRecursive).map(|()| w));
    match watcher {
        Ok(w) => {
            tracing::debug!(path = %target.display(), "watching");
            *armed = Some(Armed {
                _watcher: w,
                on: target,
                identity: target_identity,
            });
            on_dir
        }
        Err(error) => {
            // Periodic re-reads still run; the next loop turn tries again.
            tracing::warn!(%error, path = %target.display(), "cannot watch directory");
            *armed = None;
            false
        }
    }
}

/// Device and inode of a directory, following symlinks: a changed pair means the directory was
/// replaced and the old inotify watch sees nothing any more.
fn dir_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| (m.dev(), m.ino()))
}

/// Whether an event in the directory may have changed what a read of the set returns.
fn is_relevant(event: &notify::Event, dir: &Path) -> bool {
    if event.need_rescan() || event.paths.is_empty() {
        return true;
    }
    event.paths.iter().any(|path| {
        if path == dir {
            return true;
        }
        match path.file_name().and_then(|n| n.to_str()) {
            Some(name) if is_temp_name(name) => false,
            // `..data` and `..<timestamp>` are a projected volume's atomic swap.
            Some(name) => CertFile::from_file_name(name).is_some() || name.starts_with(".."),
            None => true,
        }
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod torn;
