//! Building a pool: its members as Avi servers, its TLS towards the backend, its markers.

use avi_client::AviRef;
use avi_client::models::{HealthMonitor, IpAddr, Marker, Pool, Server};

use crate::endpoints::Member;
use crate::mesh_tls::MeshTls;
use crate::model::AviModel;
use crate::settings::Settings;

/// The SSL profile Istio-mTLS pools use (AKO's choice).
pub const ISTIO_SSL_PROFILE: &str = "System-Standard";

/// The health monitor AKO attaches to every pool it makes (a TCP connect: it needs nothing of
/// the backend, and a sidecar in STRICT mTLS accepts it).
pub const DEFAULT_HEALTH_MONITOR: &str = "System-TCP";

/// An empty pool `name` with what AKO sends on every pool: the `System-TCP` health monitor and
/// `sni_enabled: false` (the controller's default is true; only a TLS decision that names the
/// server, a BackendTLSPolicy, turns it on).
pub fn ako_pool(name: String) -> Pool {
    Pool {
        name,
        health_monitor_refs: vec![AviRef::<HealthMonitor>::by_name(DEFAULT_HEALTH_MONITOR)],
        sni_enabled: Some(false),
        ..Pool::default()
    }
}

/// Avi servers of the members (an address that is not an IP, or a port Avi cannot hold, is
/// skipped).
pub fn servers(members: &[Member]) -> Vec<Server> {
    members
        .iter()
        .filter_map(|m| {
            let ip = m.ip.parse::<std::net::IpAddr>().ok()?;
            Some(Server::new(IpAddr::from(ip)).with_port(u16::try_from(m.port).ok()?))
        })
        .collect()
}

/// `clustername=<cluster>` followed by `extra`, as AKO marks every object.
pub fn markers(settings: &Settings, extra: &[(&str, &str)]) -> Vec<Marker> {
    let mut m = vec![Marker::new("clustername", [settings.cluster_name.clone()])];
    m.extend(
        extra
            .iter()
            .map(|(k, v)| Marker::new(*k, [(*v).to_owned()])),
    );
    m
}

/// Gives `pool` the TLS the mesh decided: the three Istio references for Istio mTLS, nothing
/// otherwise. A pool waiting for the Istio objects is recorded in `model` so that the sync keeps
/// the TLS the controller holds for it (never turning a STRICT backend's pool to plain text
/// because we do not know yet).
pub fn apply_mesh_tls(pool: &mut Pool, tls: &MeshTls, model: &mut AviModel) {
    match tls {
        MeshTls::Plain => {}
        MeshTls::IstioPending => {
            model.pools_keeping_tls.insert(pool.name.clone());
        }
        MeshTls::Istio(refs) => {
            pool.pki_profile_ref = Some(AviRef::by_name(refs.pki_profile.clone()));
            pool.ssl_key_and_certificate_ref =
                Some(AviRef::by_name(refs.ssl_key_and_certificate.clone()));
            pool.ssl_profile_ref = Some(AviRef::by_name(ISTIO_SSL_PROFILE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::IstioRefs;

    #[test]
    fn pools_carry_what_ako_sends() {
        let pool = ako_pool("p".into());
        let body = serde_json::to_value(&pool).unwrap();
        assert_eq!(
            body["health_monitor_refs"],
            serde_json::json!(["/api/healthmonitor/?name=System-TCP"])
        );
        assert_eq!(body["sni_enabled"], false);
    }

    #[test]
    fn istio_pools_name_the_published_objects_and_pending_ones_keep_their_tls() {
        let mut model = AviModel::default();
        let mut pool = Pool {
            name: "p".into(),
            ..Pool::default()
        };
        apply_mesh_tls(
            &mut pool,
            &MeshTls::Istio(IstioRefs::for_cluster("cl1", "avi-system")),
            &mut model,
        );
        assert_eq!(
            pool.pki_profile_ref.as_ref().map(|r| r.to_string()),
            Some(
                AviRef::<avi_client::models::PkiProfile>::by_name("istio-pki-cl1-avi-system")
                    .to_string()
            )
        );
        assert!(model.pools_keeping_tls.is_empty());
        let mut other = Pool {
            name: "q".into(),
            ..Pool::default()
        };
        apply_mesh_tls(&mut other, &MeshTls::IstioPending, &mut model);
        assert!(other.pki_profile_ref.is_none());
        assert!(model.pools_keeping_tls.contains("q"));
    }

    #[test]
    fn servers_skip_what_avi_cannot_hold() {
        let members = [
            Member {
                ip: "10.0.0.1".into(),
                port: 8080,
            },
            Member {
                ip: "not-an-ip".into(),
                port: 80,
            },
            Member {
                ip: "10.0.0.2".into(),
                port: 70000,
            },
        ];
        assert_eq!(servers(&members).len(), 1);
    }
}
