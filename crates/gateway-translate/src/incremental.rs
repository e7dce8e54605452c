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

use crate::backend_tls::{Backend, decide_with};
use crate::endpoints::{SliceIndex, members_with};
use crate::settings::Settings;
use crate::snapshot::{ObjectKey, Snapshot};
use crate::translate::{Translation, apply_tls, pool_servers, translate};

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
            let Ok(members) = members_with(
                snapshot,
                &slices,
                namespace,
                service,
                backend.port,
                self.settings.service_type,
            ) else {
                return self.full(snapshot, now);
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
            if backend.mesh_dependent {
                // No extension or policy applied to this pool (it came from the mesh rung), and
                // those do not change with endpoints: only the mesh rung is asked again.
                let backend = Backend {
                    namespace,
                    name: service,
                    port: None,
                };
                let Ok(decision) = decide_with(
                    snapshot,
                    &slices,
                    &self.settings,
                    &Default::default(),
                    backend,
                    None,
                ) else {
                    return self.full(snapshot, now);
                };
                let mut again = pool.clone();
                again.pki_profile_ref = None;
                again.ssl_key_and_certificate_ref = None;
                again.ssl_profile_ref = None;
                apply_tls(&mut again, decision.tls);
                let same_tls = again.pki_profile_ref == pool.pki_profile_ref
                    && again.ssl_key_and_certificate_ref == pool.ssl_key_and_certificate_ref
                    && again.ssl_profile_ref == pool.ssl_profile_ref;
                if !same_tls {
                    return self.full(snapshot, now);
                }
            }
            let servers = pool_servers(&members);
            if pool.servers != servers {
                pool.servers = servers;
                changed.push(name.clone());
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
    let mut out: BTreeMap<ObjectKey, Vec<String>> = BTreeMap::new();
    for (pool, b) in &t.pool_backends {
        out.entry((b.namespace.clone(), b.service.clone()))
            .or_default()
            .push(pool.clone());
    }
    out
}

#[cfg(test)]
mod tests;
