//! Endpoint changes without a full translation, for any translator.
//!
//! Endpoints change far more often than routes or Ingresses (every rollout, every scale event),
//! and they only move pool servers. A translator records the Service port behind each pool it
//! builds from the mesh rule or plaintext ([`PoolBackend`] in [`crate::Output::pool_backends`]);
//! when the EndpointSlices or pods of one Service change, [`refresh_pool`] brings each of its
//! pools up to date alone, or says that more than servers would change (the Service is gone,
//! or its pods joined or left the mesh) so that the caller translates again in full. Either
//! way the result is what a full translation would give.

use std::collections::{BTreeMap, BTreeSet};

use avi_client::Desired;
use avi_client::models::Pool;

use crate::endpoints::{SliceIndex, members_with};
use crate::inputs::SharedInputs;
use crate::mesh_tls;
use crate::model::AviModel;
use crate::pool::{apply_mesh_tls, servers};
use crate::settings::Settings;

/// The Service port behind a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolBackend {
    /// Namespace of the Service.
    pub namespace: String,
    /// Service name.
    pub service: String,
    /// Service port.
    pub port: i32,
    /// Whether the pool's TLS came from the mesh rule (which reads the backend's pods, so it may
    /// change with the endpoints); false when a higher rung (a BackendTLSPolicy, a
    /// RouteBackendExtension) decided it.
    pub mesh_dependent: bool,
}

/// What [`refresh_pool`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// The pool already had these servers.
    Unchanged,
    /// The pool's servers were replaced.
    Servers,
    /// More than the servers would change: translate again in full.
    NeedsFull,
}

/// Brings `pool`'s servers up to date with `backend`'s endpoints in `inputs` (`index` needs
/// only the Service's namespace: [`SliceIndex::of_namespace`]).
pub fn refresh_pool(
    pool: &mut Pool,
    backend: &PoolBackend,
    inputs: &SharedInputs,
    index: &SliceIndex<'_>,
    settings: &Settings,
) -> Refresh {
    let Ok(members) = members_with(
        inputs,
        index,
        &backend.namespace,
        &backend.service,
        backend.port,
        settings.service_type,
    ) else {
        return Refresh::NeedsFull;
    };
    if backend.mesh_dependent {
        let decision = mesh_tls::decide(
            inputs,
            index,
            settings,
            &backend.namespace,
            &backend.service,
        );
        let mut again = pool.clone();
        again.pki_profile_ref = None;
        again.ssl_key_and_certificate_ref = None;
        again.ssl_profile_ref = None;
        apply_mesh_tls(&mut again, &decision.tls, &mut AviModel::default());
        let same_tls = again.pki_profile_ref == pool.pki_profile_ref
            && again.ssl_key_and_certificate_ref == pool.ssl_key_and_certificate_ref
            && again.ssl_profile_ref == pool.ssl_profile_ref;
        if !same_tls {
            return Refresh::NeedsFull;
        }
    }
    let now = servers(&members);
    if pool.servers == now {
        Refresh::Unchanged
    } else {
        pool.servers = now;
        Refresh::Servers
    }
}

/// The pools of each Service (`(namespace, service)` → pool names), from a translation's
/// [`PoolBackend`]s.
pub fn pools_by_service(
    backends: &BTreeMap<String, PoolBackend>,
) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (pool, b) in backends {
        out.entry((b.namespace.clone(), b.service.clone()))
            .or_default()
            .push(pool.clone());
    }
    out
}

/// The pools of a translation whose servers follow endpoints, kept between translations so
/// that an EndpointSlice change is written without one (the controller's endpoint path). Each
/// pool is kept as compact JSON: a typed pool takes several times the memory, and thousands
/// are kept.
#[derive(Debug, Clone)]
pub struct EndpointPools {
    pools: BTreeMap<String, Box<str>>,
    backends: BTreeMap<String, PoolBackend>,
    of_service: BTreeMap<(String, String), Vec<String>>,
    keeping_tls: BTreeSet<String>,
    settings: Settings,
}

impl EndpointPools {
    /// The pools of `model` that `backends` names, as translated with `settings`.
    pub fn new(
        model: &AviModel,
        backends: BTreeMap<String, PoolBackend>,
        settings: Settings,
    ) -> Self {
        let pools = model
            .pools
            .iter()
            .filter(|p| backends.contains_key(&p.name))
            .filter_map(|p| {
                Some((
                    p.name.clone(),
                    serde_json::to_string(p).ok()?.into_boxed_str(),
                ))
            })
            .collect();
        EndpointPools {
            pools,
            of_service: pools_by_service(&backends),
            backends,
            keeping_tls: model.pools_keeping_tls.clone(),
            settings,
        }
    }

    /// The settings the pools were translated with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Brings the pools of `services` up to date with `inputs`: the sync input of those whose
    /// servers changed, encoded as a full translation encodes them; `None` when more than
    /// servers would change ([`Refresh::NeedsFull`]) and a full translation is needed. The
    /// kept pools follow what was returned, so the caller drops this on a failed write.
    pub fn refresh(
        &mut self,
        services: &BTreeSet<(String, String)>,
        inputs: &SharedInputs,
    ) -> Option<Vec<Desired>> {
        let mut desired = Vec::new();
        for service in services {
            let index = SliceIndex::of_namespace(inputs, &service.0);
            for name in self.of_service.get(service).into_iter().flatten() {
                let (Some(stored), Some(backend)) =
                    (self.pools.get_mut(name), self.backends.get(name))
                else {
                    continue;
                };
                let mut pool: Pool = serde_json::from_str(stored).ok()?;
                match refresh_pool(&mut pool, backend, inputs, &index, &self.settings) {
                    Refresh::Unchanged => {}
                    Refresh::NeedsFull => return None,
                    Refresh::Servers => {
                        *stored = serde_json::to_string(&pool).ok()?.into_boxed_str();
                        desired.push(
                            crate::model::desired_pool(&pool, self.keeping_tls.contains(name))
                                .ok()?,
                        );
                    }
                }
            }
        }
        Some(desired)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::settings::IstioRefs;

    fn inputs(ips: &[&str], ns_labels: serde_json::Value) -> SharedInputs {
        let mut s = SharedInputs::default();
        for o in [
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": ns_labels}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "apps"},
                   "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                   "metadata": {"name": "web-1", "namespace": "apps", "labels": {"kubernetes.io/service-name": "web"}},
                   "ports": [{"name": "http", "port": 8080}],
                   "endpoints": ips.iter().map(|ip| json!({"addresses": [ip]})).collect::<Vec<_>>()}),
        ] {
            s.insert_json(&o).unwrap();
        }
        s
    }

    fn backend() -> PoolBackend {
        PoolBackend {
            namespace: "apps".into(),
            service: "web".into(),
            port: 80,
            mesh_dependent: true,
        }
    }

    #[test]
    fn endpoint_pools_write_only_the_pools_whose_servers_moved() {
        let settings = Settings::default();
        let before = inputs(&["10.0.0.1"], json!({}));
        let mut pool = Pool::new("p");
        let index = SliceIndex::new(&before);
        refresh_pool(&mut pool, &backend(), &before, &index, &settings);
        let model = AviModel {
            pools: vec![pool, Pool::new("other")],
            ..AviModel::default()
        };
        let backends = BTreeMap::from([("p".to_owned(), backend())]);
        let mut kept = EndpointPools::new(&model, backends, settings);
        let web = BTreeSet::from([("apps".to_owned(), "web".to_owned())]);
        let unrelated = BTreeSet::from([("apps".to_owned(), "db".to_owned())]);
        assert_eq!(kept.refresh(&web, &before).map(|d| d.len()), Some(0));
        assert_eq!(kept.refresh(&unrelated, &before).map(|d| d.len()), Some(0));
        let moved = inputs(&["10.0.0.2"], json!({}));
        let desired = kept.refresh(&web, &moved).unwrap();
        assert_eq!(desired.len(), 1);
        assert_eq!(desired[0].name(), "p");
        assert_eq!(desired[0].body["servers"][0]["ip"]["addr"], "10.0.0.2");
        // The kept pool follows: the same endpoints again write nothing.
        assert_eq!(kept.refresh(&web, &moved).map(|d| d.len()), Some(0));
        // The Service is gone: a full translation.
        assert!(kept.refresh(&web, &SharedInputs::default()).is_none());
    }

    #[test]
    fn servers_follow_the_endpoints_and_a_mesh_change_asks_for_a_full_translation() {
        let settings = Settings {
            istio_enabled: true,
            istio_refs: Some(IstioRefs::for_cluster("cluster", "avi-system")),
            ..Settings::default()
        };
        let before = inputs(&["10.0.0.1"], json!({"istio-injection": "enabled"}));
        let mut pool = Pool::new("p");
        let index = SliceIndex::new(&before);
        let d = mesh_tls::decide(&before, &index, &settings, "apps", "web");
        apply_mesh_tls(&mut pool, &d.tls, &mut AviModel::default());
        assert_eq!(
            refresh_pool(&mut pool, &backend(), &before, &index, &settings),
            Refresh::Servers
        );
        assert_eq!(
            refresh_pool(&mut pool, &backend(), &before, &index, &settings),
            Refresh::Unchanged
        );
        let moved = inputs(
            &["10.0.0.2", "10.0.0.3"],
            json!({"istio-injection": "enabled"}),
        );
        let index = SliceIndex::of_namespace(&moved, "apps");
        assert_eq!(
            refresh_pool(&mut pool, &backend(), &moved, &index, &settings),
            Refresh::Servers
        );
        assert_eq!(pool.servers.len(), 2);
        // The namespace left the mesh: the pool's TLS would change.
        let left = inputs(&["10.0.0.2"], json!({}));
        let index = SliceIndex::of_namespace(&left, "apps");
        assert_eq!(
            refresh_pool(&mut pool, &backend(), &left, &index, &settings),
            Refresh::NeedsFull
        );
        // The Service is gone.
        let gone = SharedInputs::default();
        let index = SliceIndex::new(&gone);
        assert_eq!(
            refresh_pool(&mut pool, &backend(), &gone, &index, &settings),
            Refresh::NeedsFull
        );
    }
}
