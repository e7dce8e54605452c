//! Endpoint changes without a full translation, for any translator.
//!
//! Endpoints change far more often than routes or Ingresses (every rollout, every scale event),
//! and they only move pool servers. A translator records the Service port behind each pool it
//! builds from the mesh rule or plaintext ([`PoolBackend`] in [`crate::Output::pool_backends`]);
//! when the EndpointSlices or pods of one Service change, [`refresh_pool`] brings each of its
//! pools up to date alone, or says that more than servers would change (the Service is gone,
//! or its pods joined or left the mesh) so that the caller translates again in full. Either
//! way the result is what a full translation would give.

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
