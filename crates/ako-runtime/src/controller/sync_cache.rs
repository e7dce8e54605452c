//! What we last wrote, so that a change touches only what it changed.
//!
//! A full sync lists everything we own on the controller and plans against it; with 5,000
//! routes that is 15,000 objects to fetch and compare for every endpoint change. Between full
//! syncs the cache remembers a hash of each object's desired body as last synced: an object
//! whose body did not change is left alone without a request, a changed one is fetched by name
//! and planned alone, and one no longer desired is fetched and deleted. A full sync (at start,
//! every resync period, and after a failure the cache cannot account for) catches drift on the
//! controller.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use avi_client::{AviClient, AviError, Desired, Kind, StepOutcome, SyncPlan};
use futures_util::{StreamExt, stream};
use serde_json::Value;

/// Concurrent lookups of changed objects.
const LOOKUPS: usize = 8;

/// What one sync did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Steps done (creates, updates, deletes).
    pub writes: u64,
    /// `(kind, name, why)` of the steps that failed or were skipped.
    pub failed: Vec<(Kind, String, String)>,
    /// Whether this was a full sync.
    pub full: bool,
}

/// Hashes of the bodies last synced, by kind and name.
#[derive(Debug, Default)]
pub struct SyncCache {
    synced: HashMap<(Kind, String), u64>,
    valid: bool,
    /// Objects of our owner that another part of this container manages (the Istio pipeline's
    /// PKIProfile and certificate): never leftovers of the translation.
    kept: Vec<(Kind, String)>,
}

fn hash(body: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    body.to_string().hash(&mut h);
    h.finish()
}

impl SyncCache {
    /// A cache whose full syncs leave `kept` alone although our owner created them.
    pub fn keeping(kept: Vec<(Kind, String)>) -> Self {
        SyncCache {
            kept,
            ..SyncCache::default()
        }
    }

    /// Forgets everything: the next sync is full.
    pub fn invalidate(&mut self) {
        self.valid = false;
    }

    /// Brings the controller to `desired`: a full sync when asked or when the cache is not
    /// valid, else only what changed since the last sync.
    ///
    /// `desired` is consumed one object at a time (see `SyncPlan::compute_iter`); an item that
    /// failed to encode aborts the sync before anything is written, since a plan over part of
    /// the objects would delete the rest. `owned_kinds` must name every kind `desired` holds.
    pub async fn sync(
        &mut self,
        avi: &AviClient,
        desired: impl Iterator<Item = Result<Desired, AviError>> + Send,
        created_by: &str,
        owned_kinds: &[Kind],
        full: bool,
    ) -> Result<Outcome, AviError> {
        if full || !self.valid {
            self.valid = false;
            let mut current = avi.owned_state(created_by, owned_kinds).await?;
            if !self.kept.is_empty() {
                current.retain(|(kind, body)| {
                    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
                    !self.kept.iter().any(|(k, n)| k == kind && n == name)
                });
            }
            let mut failure: Option<AviError> = None;
            let mut keyed: Vec<((Kind, String), u64)> = Vec::new();
            let plan = SyncPlan::compute_iter(
                desired.map_while(|d| match d {
                    Ok(d) if !owned_kinds.contains(&d.kind) => {
                        failure = Some(AviError::Config(format!(
                            "{} {} is not of a kind this controller owns",
                            d.kind,
                            d.name()
                        )));
                        None
                    }
                    Ok(d) => {
                        keyed.push(((d.kind, d.name().to_owned()), hash(&d.body)));
                        Some(d)
                    }
                    Err(e) => {
                        failure = Some(e);
                        None
                    }
                }),
                &current,
            );
            drop(current);
            if let Some(e) = failure {
                return Err(e);
            }
            let outcome = self.apply(avi, &plan, true).await;
            self.synced = keyed.into_iter().collect();
            for (kind, name, _) in &outcome.failed {
                self.synced.remove(&(*kind, name.clone()));
            }
            self.valid = true;
            return Ok(outcome);
        }
        let mut wanted: HashMap<(Kind, String), u64> = HashMap::new();
        let mut changed: Vec<Desired> = Vec::new();
        for d in desired {
            let d = d?;
            let key = (d.kind, d.name().to_owned());
            let h = hash(&d.body);
            if self.synced.get(&key) != Some(&h) {
                changed.push(d);
            }
            wanted.insert(key, h);
        }
        let removed: Vec<(Kind, String)> = self
            .synced
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .cloned()
            .collect();
        self.write_changed(avi, changed, removed, &wanted, created_by)
            .await
    }

    /// Writes a few objects whose desired bodies changed (an endpoint change's pools) without
    /// a translation or a sync of the rest: `None` when the cache is not valid (a full sync
    /// must come first). Nothing is deleted.
    pub async fn sync_changed(
        &mut self,
        avi: &AviClient,
        changed: Vec<Desired>,
        created_by: &str,
    ) -> Option<Result<Outcome, AviError>> {
        if !self.valid {
            return None;
        }
        let wanted: HashMap<(Kind, String), u64> = changed
            .iter()
            .map(|d| ((d.kind, d.name().to_owned()), hash(&d.body)))
            .collect();
        let changed: Vec<Desired> = changed
            .into_iter()
            .filter(|d| {
                let key = (d.kind, d.name().to_owned());
                self.synced.get(&key) != wanted.get(&key)
            })
            .collect();
        Some(
            self.write_changed(avi, changed, Vec::new(), &wanted, created_by)
                .await,
        )
    }

    /// Fetches `changed` and `removed` by name, plans and writes them, and records the
    /// hashes in `wanted` of what was written.
    async fn write_changed(
        &mut self,
        avi: &AviClient,
        changed: Vec<Desired>,
        removed: Vec<(Kind, String)>,
        wanted: &HashMap<(Kind, String), u64>,
        created_by: &str,
    ) -> Result<Outcome, AviError> {
        if changed.is_empty() && removed.is_empty() {
            return Ok(Outcome::default());
        }
        let changed_keys: Vec<(Kind, String)> = changed
            .iter()
            .map(|d| (d.kind, d.name().to_owned()))
            .collect();
        let lookups: Vec<(Kind, String)> = changed_keys
            .iter()
            .cloned()
            .chain(removed.iter().cloned())
            .collect();
        let found: Vec<Result<Option<(Kind, Value)>, AviError>> = stream::iter(lookups)
            .map(|(kind, name)| async move {
                avi.find_raw(kind, &name)
                    .await
                    .map(|v| v.map(|v| (kind, v)))
            })
            .buffer_unordered(LOOKUPS)
            .collect()
            .await;
        let mut current = Vec::new();
        for f in found {
            let Some((kind, body)) = f? else { continue };
            // A name we used may have been taken by someone else since (ours deleted by hand,
            // theirs created): never update or delete what is not ours. Left out, a wanted
            // object is POSTed, and the controller's 409 names the owner.
            let owner = avi_client::owner_of(kind, &body);
            if owner.as_deref() != Some(created_by) {
                tracing::warn!(
                    kind = kind.path(),
                    name = body
                        .get("name")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default(),
                    owner = owner.as_deref().unwrap_or("<none>"),
                    "an object with one of our names belongs to another owner: left alone"
                );
                continue;
            }
            current.push((kind, body));
        }
        let plan = SyncPlan::compute_iter(changed, &current);
        let outcome = self.apply(avi, &plan, false).await;
        for key in removed {
            self.synced.remove(&key);
        }
        for key in changed_keys {
            let h = wanted.get(&key).copied().unwrap_or_default();
            self.synced.insert(key, h);
        }
        for (kind, name, _) in &outcome.failed {
            self.synced.remove(&(*kind, name.clone()));
        }
        Ok(outcome)
    }

    async fn apply(&self, avi: &AviClient, plan: &SyncPlan, full: bool) -> Outcome {
        let report = avi.apply(plan).await;
        let mut outcome = Outcome {
            full,
            ..Outcome::default()
        };
        for (kind, name, action, result) in &report.steps {
            match result {
                StepOutcome::Done => {
                    outcome.writes += 1;
                    tracing::info!(kind = kind.path(), %name, action, "Avi object synced");
                }
                StepOutcome::Failed(why) => {
                    tracing::warn!(kind = kind.path(), %name, action, error = %why, "Avi step failed");
                    outcome.failed.push((*kind, name.clone(), why.clone()));
                }
                StepOutcome::Skipped => outcome.failed.push((
                    *kind,
                    name.clone(),
                    "skipped: a step it depends on failed".into(),
                )),
            }
        }
        outcome
    }
}
