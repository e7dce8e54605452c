//! Endpoint changes without a full translation.
//!
//! Endpoints change far more often than routes (every rollout, every scale event), and they
//! only move pool servers. [`Incremental`] keeps the last [`Translation`] and, when the
//! EndpointSlices (or pods) of one Service change, recomputes the pools of that Service alone.
//! When a change reaches further — the Service disappeared, or its pods joined or left the
//! mesh so the pool's TLS changes — it falls back to a full translation, so the result is
//! always what [`translate`] would give for the same snapshot.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use translate_core::incremental::{Refresh, refresh_pool};

use crate::endpoints::SliceIndex;
use crate::settings::Settings;
use crate::snapshot::{ObjectKey, Snapshot};
use crate::translate::{Translation, translate};

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Only these pools' servers changed (names, sorted).
    Pools(Vec<String>),
    /// More than servers changed: the whole translation was redone.
    Full,
}

/// The last translation, kept current through endpoint changes.
#[derive(Debug, Clone)]
pub struct Incremental {
    settings: Settings,
    translation: Translation,
    /// Service → its pools.
    pools_of: BTreeMap<ObjectKey, Vec<String>>,
}

impl Incremental {
    /// A full translation of `snapshot`.
    pub fn new(snapshot: &Snapshot, settings: Settings, now: &Time) -> Self {
        let translation = translate(snapshot, &settings, now);
        let pools_of = index(&translation);
        Incremental {
            settings,
            translation,
            pools_of,
        }
    }

    /// The current translation.
    pub fn translation(&self) -> &Translation {
        &self.translation
    }

    /// Takes the current translation.
    pub fn into_translation(self) -> Translation {
        self.translation
    }

    /// `snapshot` (already updated) differs from the last one only in the EndpointSlices or
    /// pods of Service `namespace/service`: recomputes that Service's pools. Any other change
    /// needs [`Incremental::full`].
    pub fn endpoints_changed(
        &mut self,
        snapshot: &Snapshot,
        namespace: &str,
        service: &str,
        now: &Time,
    ) -> Update {
        let key = (namespace.to_owned(), service.to_owned());
        let Some(pools) = self.pools_of.get(&key) else {
            // No pool reaches this Service: nothing to do.
            return Update::Pools(Vec::new());
        };
        let slices = SliceIndex::of_namespace(snapshot, namespace);
        let mut changed = Vec::new();
        for name in pools {
            let Some(backend) = self.translation.pool_backends.get(name) else {
                continue;
            };
            let Ok(i) = self
                .translation
                .model
                .pools
                .binary_search_by(|p| p.name.as_str().cmp(name))
            else {
                continue;
            };
            let pool = &mut self.translation.model.pools[i];
            // The translation core's rule, which every translator shares: servers from the
            // endpoints; the mesh rung asked again when it decided the pool's TLS (an
            // extension or a policy does not change with endpoints).
            match refresh_pool(pool, backend, snapshot, &slices, &self.settings) {
                Refresh::Unchanged => {}
                Refresh::Servers => changed.push(name.clone()),
                Refresh::NeedsFull => return self.full(snapshot, now),
            }
        }
        changed.sort();
        Update::Pools(changed)
    }

    /// Translates `snapshot` again from scratch.
    pub fn full(&mut self, snapshot: &Snapshot, now: &Time) -> Update {
        self.translation = translate(snapshot, &self.settings, now);
        self.pools_of = index(&self.translation);
        Update::Full
    }
}

fn index(t: &Translation) -> BTreeMap<ObjectKey, Vec<String>> {
    translate_core::incremental::pools_by_service(&t.pool_backends)
}

#[cfg(test)]
mod tests;
