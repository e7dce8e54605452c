//! What every translator starts from: a snapshot of the shared inputs, a backend's pool members
//! and the mesh's TLS decision, and a pool built with them.
//!
//! `cargo run -p translate-core --example translate_core`

use avi_client::models::Pool;
use serde_json::json;
use translate_core::endpoints::{SliceIndex, members_with};
use translate_core::mesh_tls::{self, MeshTls};
use translate_core::pool::{apply_mesh_tls, markers, servers};
use translate_core::{AviModel, IstioRefs, Settings, Snapshot};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut snapshot = Snapshot::default();
    for object in [
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
               "metadata": {"name": "web-1", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
               "ports": [{"name": "http", "port": 8080}],
               "endpoints": [{"addresses": ["10.244.0.5"], "conditions": {"ready": true}}]}),
    ] {
        snapshot.insert_json(object, &[])?;
    }
    let settings = Settings {
        istio_enabled: true,
        istio_refs: Some(IstioRefs::for_cluster("cluster", "avi-system")),
        ..Settings::default()
    };
    let index = SliceIndex::new(&snapshot.shared);
    let members = members_with(
        &snapshot.shared,
        &index,
        "shop",
        "web",
        80,
        settings.service_type,
    )?;
    let decision = mesh_tls::decide(&snapshot.shared, &index, &settings, "shop", "web");
    let mut model = AviModel::default();
    let mut pool = Pool {
        servers: servers(&members),
        markers: markers(&settings, &[("Namespace", "shop")]),
        ..Pool::new("cluster--shop-web")
    };
    apply_mesh_tls(&mut pool, &decision.tls, &mut model);
    println!(
        "members: {:?}",
        members
            .iter()
            .map(|m| format!("{}:{}", m.ip, m.port))
            .collect::<Vec<_>>()
    );
    println!(
        "mesh decision: {}",
        match &decision.tls {
            MeshTls::Istio(refs) => format!(
                "Istio mTLS with {} and {}",
                refs.pki_profile, refs.ssl_key_and_certificate
            ),
            MeshTls::IstioPending => "waiting for the Istio objects".into(),
            MeshTls::Plain => "plain HTTP".into(),
        }
    );
    println!("pool: {}", serde_json::to_string_pretty(&pool)?);
    Ok(())
}
