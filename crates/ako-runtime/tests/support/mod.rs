//! What the controller tests share: an emulated Avi controller and Kubernetes API server,
//! manifests applied as `kubectl apply --server-side` would, waiting, and the `ako` container's
//! Istio publication.
#![allow(dead_code)]

use std::time::Duration;

use ako_runtime::controller::{ControllerOptions, ControllerStatus};
use avi_client::models::{PkiProfile, SslKeyAndCertificate};
use avi_client::{AviClient, AviConfig, Credentials, RetryPolicy};
use avi_sim::{AviSim, RunningSim};
use istio_sim::{CaOptions, IstioCa, WorkloadRequest};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube_sim::{KubeSim, SimConfig};
use serde_json::{Value, json};
use tokio::sync::watch;

pub struct World {
    pub avi: RunningSim,
    pub kube: KubeSim,
    pub avi_client: AviClient,
    pub kube_client: kube::Client,
}

pub async fn world() -> World {
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    world_with(crds).await
}

/// A world whose API server serves only the CRDs given.
pub async fn world_with(crds: Vec<Value>) -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let avi = AviSim::builder().start().await.unwrap();
    let mut config = AviConfig::new(
        avi.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    );
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(2),
    };
    let avi_client = AviClient::new(config).unwrap();
    let kube = KubeSim::start(SimConfig::default()).await.unwrap();
    kube.install(crds).unwrap();
    let kube_client =
        kube::Client::try_from(kube::Config::new(kube.url().parse().unwrap())).unwrap();
    World {
        avi,
        kube,
        avi_client,
        kube_client,
    }
}

/// Applies manifests (multi-document YAML) by server-side apply, as `kubectl apply
/// --server-side` would.
pub async fn apply(client: &kube::Client, yaml: &str) {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).unwrap();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let api_version = doc["apiVersion"].as_str().unwrap();
        let kind = doc["kind"].as_str().unwrap();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = kube::discovery::pinned_kind(client, &gvk).await.unwrap();
        let name = doc["metadata"]["name"].as_str().unwrap();
        let api: Api<kube::api::DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced
        {
            let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        api.patch(
            name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&doc),
        )
        .await
        .unwrap_or_else(|e| panic!("{kind} {name}: {e}"));
    }
}

/// Waits up to 20 s for the controller status to satisfy `f`.
pub async fn wait(
    rx: &mut watch::Receiver<ControllerStatus>,
    f: impl FnMut(&ControllerStatus) -> bool,
) {
    let ok = tokio::time::timeout(Duration::from_secs(30), rx.wait_for(f))
        .await
        .is_ok_and(|r| r.is_ok());
    assert!(ok, "controller status: {:?}", *rx.borrow());
}

/// Polls until `f` holds (the Kubernetes and Avi sides are eventually consistent).
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let ok = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if f().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await
    .is_ok();
    assert!(ok, "never: {what}");
}

/// What the `ako` container publishes: istio-secret and the two Avi objects.
pub async fn publish_istio(w: &World) {
    let ca = IstioCa::new(CaOptions::default()).unwrap();
    let cert = ca.issue(&WorkloadRequest::default()).unwrap();
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "istio-secret", "namespace": "avi-system"},
        "stringData": {}, "type": "Opaque",
    }))
    .unwrap();
    let mut secret = secret;
    secret.data = Some(
        [
            ("cert-chain", cert.cert_chain_pem.clone()),
            ("key", cert.key_pem.clone()),
            ("root-cert", cert.root_cert_pem.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), k8s_openapi::ByteString(v.into_bytes())))
        .collect(),
    );
    Api::<Secret>::namespaced(w.kube_client.clone(), "avi-system")
        .patch(
            "istio-secret",
            &PatchParams::apply("ako").force(),
            &Patch::Apply(&secret),
        )
        .await
        .unwrap();
    w.avi_client
        .ensure(&PkiProfile {
            name: "istio-pki-cluster-avi-system".into(),
            created_by: Some("ako-cluster".into()),
            ca_certs: vec![avi_client::models::SslCertificate::from_pem(
                cert.root_cert_pem.clone(),
            )],
            ..PkiProfile::default()
        })
        .await
        .unwrap();
    w.avi_client
        .ensure(&SslKeyAndCertificate {
            name: "istio-workload-cluster-avi-system".into(),
            created_by: Some("ako-cluster".into()),
            certificate: avi_client::models::SslCertificate::from_pem(cert.cert_chain_pem.clone()),
            key: Some(avi_client::models::SecretKey::new(cert.key_pem.clone())),
            type_: Some(avi_client::models::SslCertificateType::VirtualService),
            ..SslKeyAndCertificate::default()
        })
        .await
        .unwrap();
}

/// Timings that make a test quick: a short debounce, no resync during a test.
pub fn fast() -> ControllerOptions {
    ControllerOptions {
        debounce: Duration::from_millis(30),
        resync: Duration::from_secs(3600),
        retry: Duration::from_millis(50),
    }
}

/// The AKO namespace and a namespace with sidecar injection.
pub const NAMESPACES: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: avi-system}
---
apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels: {istio-injection: enabled}
"#;
