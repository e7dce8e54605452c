//! Translates the Ingress example manifest (`examples/manifests/ingress-istio.yaml`) in SNI and
//! EVH mode and prints the Avi objects' names and the Ingress's status.
//!
//! `cargo run -p ingress-translate --example ingress_translate`

use ingress_translate::{IngressSettings, IngressTranslator, ShardSize};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;
use translate_core::{Component, IstioRefs, Settings, Snapshot, Translator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/manifests/ingress-istio.yaml"
    );
    let docs: Vec<Value> = serde_saphyr::from_multiple(&std::fs::read_to_string(path)?)?;
    let settings = Settings {
        component: Component::Ako,
        istio_enabled: true,
        istio_refs: Some(IstioRefs::for_cluster("cluster", "avi-system")),
        ..Settings::default()
    };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    for evh in [false, true] {
        let translator = IngressTranslator::new(IngressSettings {
            evh,
            shard_size: ShardSize::Large,
            ..IngressSettings::default()
        });
        let mut snapshot = Snapshot::default();
        for d in docs.iter().filter(|d| !d.is_null()) {
            snapshot.insert_json(d.clone(), &translator.kinds())?;
        }
        let out = translator.translate(&snapshot, &settings, &now);
        println!("== {} mode", if evh { "EVH" } else { "SNI" });
        for vs in &out.model.virtual_services {
            println!("virtual service {}", vs.name);
        }
        for p in &out.model.pools {
            let istio = p.pki_profile_ref.is_some();
            println!(
                "pool {} ({} servers, Istio mTLS: {istio})",
                p.name,
                p.servers.len()
            );
        }
        for s in &out.statuses {
            let hosts: Vec<&str> = s
                .addresses
                .iter()
                .flat_map(|a| a.hosts.iter().map(String::as_str))
                .collect();
            println!(
                "{}: waits for the VIP of {:?} for {hosts:?}",
                s.key,
                s.addresses.iter().map(|a| &a.vsvip).collect::<Vec<_>>()
            );
        }
        for n in &out.notices {
            println!(
                "{:?} {} on {}: {}",
                n.severity, n.reason, n.object, n.message
            );
        }
    }
    Ok(())
}
