//! An out-of-tree translator plugged into the runtime, without editing any other crate: an
//! `L4Listener` (`ako.example.com/v1`, a CRD of this example) asks for a TCP virtual service on
//! a port that forwards to a Service. The translator declares its kind, builds its pool with the
//! translation core (members from EndpointSlices, markers), asks for its VIP in the status, and
//! the runtime's controller does the rest: watches, one Avi sync, status by server-side apply,
//! Events.
//!
//! It runs against the emulated Kubernetes API server and Avi controller:
//! `cargo run -p examples --example custom_translator`

use std::time::Duration;

use ako_runtime::controller::{Controller, ControllerOptions};
use avi_client::models::{Pool, PoolGroup, PoolGroupMember, Service, Vip, VirtualService, VsVip};
use avi_client::{AviClient, AviConfig, AviRef, Credentials};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde::Deserialize;
use serde_json::{Value, json};
use translate_core::endpoints::{SliceIndex, members_with};
use translate_core::pool::{markers, servers};
use translate_core::{
    AddressNeed, Addressed, GroupKind, KindSpec, Notice, ObjectKey, ObjectStatus, Output, Settings,
    Snapshot, Translator,
};

const GROUP: &str = "ako.example.com";
const KIND: &str = "L4Listener";

/// The part of an `L4Listener` the translator reads.
#[derive(Debug, Deserialize)]
struct L4Listener {
    spec: L4Spec,
}

#[derive(Debug, Deserialize)]
struct L4Spec {
    /// The port the virtual service listens on.
    port: u16,
    /// The Service it forwards to.
    service: ServiceRef,
}

#[derive(Debug, Deserialize)]
struct ServiceRef {
    name: String,
    port: i32,
}

struct L4ListenerTranslator;

impl Translator for L4ListenerTranslator {
    fn name(&self) -> &'static str {
        "l4-listener"
    }

    fn kinds(&self) -> Vec<KindSpec> {
        vec![KindSpec::custom::<L4Listener>(GROUP, "v1", KIND, "l4listeners", true).with_status()]
    }

    fn translate(&self, snapshot: &Snapshot, settings: &Settings, _now: &Time) -> Output {
        let mut out = Output::default();
        let index = SliceIndex::new(&snapshot.shared);
        for ((ns, name), l) in snapshot.objects::<L4Listener>(&GroupKind::new(GROUP, KIND)) {
            let key = ObjectKey::new(GROUP, KIND, ns.clone(), name.clone());
            let vs = format!("{}--l4-{ns}-{name}", settings.cluster_name);
            let svc = &l.spec.service;
            let members = match members_with(
                &snapshot.shared,
                &index,
                ns,
                &svc.name,
                svc.port,
                settings.service_type,
            ) {
                Ok(m) => m,
                Err(problem) => {
                    out.notices.push(Notice::warning(
                        key.clone(),
                        problem.reason,
                        problem.message.clone(),
                    ));
                    out.statuses.push(ObjectStatus {
                        key,
                        status: json!({"state": problem.reason, "message": problem.message}),
                        addresses: Vec::new(),
                    });
                    continue;
                }
            };
            let created_by = Some(settings.created_by());
            let marks = markers(settings, &[("Namespace", ns), ("L4Listener", name)]);
            out.model.pools.push(Pool {
                name: vs.clone(),
                created_by: created_by.clone(),
                markers: marks.clone(),
                servers: servers(&members),
                ..Pool::default()
            });
            out.model.pool_groups.push(PoolGroup {
                name: vs.clone(),
                created_by: created_by.clone(),
                markers: marks.clone(),
                members: vec![PoolGroupMember::new(AviRef::by_name(vs.clone()))],
                ..PoolGroup::default()
            });
            out.model.vsvips.push(VsVip {
                name: vs.clone(),
                created_by: created_by.clone(),
                markers: marks.clone(),
                vip: vec![Vip::auto_allocated("0")],
                ..VsVip::default()
            });
            out.model.virtual_services.push(VirtualService {
                name: vs.clone(),
                created_by,
                markers: marks,
                services: vec![Service::port(l.spec.port)],
                vsvip_ref: Some(AviRef::by_name(vs.clone())),
                pool_group_ref: Some(AviRef::by_name(vs.clone())),
                application_profile_ref: Some(
                    "/api/applicationprofile/?name=System-L4-Application".into(),
                ),
                network_profile_ref: Some("/api/networkprofile/?name=System-TCP-Proxy".into()),
                ..VirtualService::default()
            });
            out.notices.push(
                Notice::normal(
                    key.clone(),
                    "Programmed",
                    format!("virtual service {vs} is synced"),
                )
                .once_synced(),
            );
            out.statuses.push(ObjectStatus {
                key,
                status: json!({"state": "Pending", "virtualService": vs}),
                addresses: vec![AddressNeed {
                    vsvip: vs.clone(),
                    virtual_service: vs,
                    hosts: Vec::new(),
                }],
            });
        }
        out
    }

    fn address(
        &self,
        status: &mut ObjectStatus,
        addressed: &[Addressed],
        _previous: Option<&Value>,
        _now: &Time,
    ) -> bool {
        // One address was asked for: the VIP of the listener's virtual service.
        let Some(addressed) = addressed.first() else {
            return true;
        };
        match addressed {
            Addressed::Vip(ip) => {
                status.status["state"] = json!("Programmed");
                status.status["vip"] = json!(ip);
                true
            }
            Addressed::Failed(why) => {
                status.status["message"] = json!(why);
                true
            }
            Addressed::NotYet | Addressed::Unknown(_) => false,
        }
    }
}

const MANIFESTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  ports: [{name: pg, port: 5432, targetPort: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  namespace: shop
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{name: pg, port: 5432}]
endpoints:
- addresses: ["10.244.0.7"]
  conditions: {ready: true}
---
apiVersion: ako.example.com/v1
kind: L4Listener
metadata: {name: postgres, namespace: shop}
spec:
  port: 5432
  service: {name: db, port: 5432}
"#;

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "l4listeners.ako.example.com"},
        "spec": {"group": GROUP, "scope": "Namespaced",
            "names": {"kind": KIND, "plural": "l4listeners", "singular": "l4listener"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    })
}

async fn apply(client: &kube::Client, yaml: &str) -> anyhow::Result<()> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml)?;
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let api_version = doc["apiVersion"].as_str().unwrap_or_default();
        let kind = doc["kind"].as_str().unwrap_or_default();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = kube::discovery::pinned_kind(client, &gvk).await?;
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced {
            let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        api.patch(
            name,
            &PatchParams::apply("example").force(),
            &Patch::Apply(&doc),
        )
        .await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let avi = avi_sim::AviSim::builder().start().await?;
    let kube_sim = kube_sim::KubeSim::start(kube_sim::SimConfig::default()).await?;
    kube_sim
        .install(vec![crd()])
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let kube = kube::Client::try_from(kube::Config::new(kube_sim.url().parse()?))?;
    apply(&kube, MANIFESTS).await?;
    let avi_client = AviClient::new(AviConfig::new(
        avi.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    ))?;

    let (mut status, _task) = Controller::new(
        kube.clone(),
        avi_client.clone(),
        Settings::default(),
        ControllerOptions::default(),
    )
    .with_translator(L4ListenerTranslator)
    .with_field_manager("l4-listener-example")
    .spawn();

    let listeners: Api<DynamicObject> = Api::namespaced_with(
        kube.clone(),
        "shop",
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(GROUP, "v1", KIND),
            "l4listeners",
        ),
    );
    let programmed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let l = listeners.get("postgres").await?;
            if l.data.pointer("/status/state").and_then(Value::as_str) == Some("Programmed") {
                return anyhow::Ok(l.data["status"].clone());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("not programmed in 30 s: {:?}", *status.borrow_and_update()))??;
    println!("L4Listener shop/postgres status: {programmed}");
    let vs = avi_client
        .get_by_name::<VirtualService>("cluster--l4-shop-postgres")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no virtual service"))?;
    let pool = avi_client
        .get_by_name::<Pool>("cluster--l4-shop-postgres")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no pool"))?;
    println!(
        "Avi virtual service {} on port {:?}, pool members {:?}",
        vs.name,
        vs.services.iter().map(|s| s.port).collect::<Vec<_>>(),
        pool.servers
            .iter()
            .map(|s| format!("{}:{}", s.ip.addr, s.port.unwrap_or_default()))
            .collect::<Vec<_>>()
    );
    Ok(())
}
