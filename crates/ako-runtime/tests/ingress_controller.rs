//! The `ako` container's Ingress controller against kube-sim and avi-sim: Istio references on
//! mesh pools beside the Istio pipeline's objects (which it never deletes), the Ingress status,
//! restarts, TLS Secret rotation, class changes, conflicts, ambient backends and warm standby.

use std::time::Duration;

use ako_runtime::controller::ControllerStatus;
use avi_client::Kind;
use avi_client::models::{Pool, SslKeyAndCertificate, VirtualService};
use ingress_translate::names::Names;
use ingress_translate::{IngressSettings, ShardSize};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};
use tokio::sync::watch;
use translate_core::Settings;

mod support;
use support::{NAMESPACES, World, apply, eventually, fast, publish_istio, wait, world};

const CREATED_BY: &str = "ako-cluster";

fn istio_settings() -> Settings {
    Settings {
        istio_enabled: true,
        ..Settings::default()
    }
}

fn controller(
    w: &World,
    settings: Settings,
    ingress: IngressSettings,
) -> ako_runtime::controller::Controller {
    ako_runtime::ingress::controller(
        w.kube_client.clone(),
        w.avi_client.clone(),
        settings,
        ingress,
        fast(),
    )
}

fn start(
    w: &World,
    settings: Settings,
    ingress: IngressSettings,
) -> (
    watch::Receiver<ControllerStatus>,
    tokio::task::JoinHandle<()>,
) {
    controller(w, settings, ingress).spawn()
}

fn sni() -> IngressSettings {
    IngressSettings::default()
}

fn evh() -> IngressSettings {
    IngressSettings {
        evh: true,
        shard_size: ShardSize::Large,
        ..IngressSettings::default()
    }
}

/// After [`NAMESPACES`]: the classes and the backend.
const BACKEND: &str = r#"
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: avi-lb
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: ako.vmware.com/avi-lb}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: other}
spec: {controller: example.com/other}
---
apiVersion: v1
kind: Service
metadata: {name: app-service, namespace: apps}
spec:
  selector: {app: app}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: app-service-abc
  namespace: apps
  labels: {kubernetes.io/service-name: app-service}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: ["10.244.1.10"]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: app-1, namespace: apps}
---
apiVersion: v1
kind: Pod
metadata:
  name: app-1
  namespace: apps
  labels: {app: app}
  annotations: {sidecar.istio.io/status: '{"containers":["istio-proxy"]}'}
spec: {containers: [{name: app, image: app}]}
"#;

/// An Ingress for `host` `/` to the backend, of `class` (none: the default class).
fn ingress(name: &str, host: &str, class: Option<&str>) -> String {
    let class = class.map_or(String::new(), |c| format!("  ingressClassName: {c}\n"));
    format!(
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: {name}, namespace: apps}}
spec:
{class}  rules:
  - host: {host}
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {{service: {{name: app-service, port: {{number: 80}}}}}}
"#
    )
}

/// An Ingress serving `host` over TLS with the Secret `secret`.
fn tls_ingress(name: &str, host: &str, secret: &str) -> String {
    format!(
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: {name}, namespace: apps}}
spec:
  tls: [{{hosts: [{host}], secretName: {secret}}}]
  rules:
  - host: {host}
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {{service: {{name: app-service, port: {{number: 80}}}}}}
"#
    )
}

/// A self-signed certificate for `host`, as a `kubernetes.io/tls` Secret `name` in `apps`.
async fn tls_secret(w: &World, name: &str, host: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![host.into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let mut secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": "apps"}, "type": "kubernetes.io/tls",
    }))
    .unwrap();
    secret.data = Some(
        [("tls.crt", cert.pem()), ("tls.key", key.serialize_pem())]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), k8s_openapi::ByteString(v.into_bytes())))
            .collect(),
    );
    Api::<Secret>::namespaced(w.kube_client.clone(), "apps")
        .patch(
            name,
            &PatchParams::apply("test").force(),
            &Patch::Apply(&secret),
        )
        .await
        .unwrap();
    cert.pem()
}

async fn pool(w: &World, name: &str) -> Option<Pool> {
    w.avi_client.get_by_name::<Pool>(name).await.unwrap()
}

async fn ingress_status(w: &World, name: &str) -> Value {
    let i = Api::<Ingress>::namespaced(w.kube_client.clone(), "apps")
        .get(name)
        .await
        .unwrap();
    serde_json::to_value(i.status).unwrap_or(Value::Null)
}

async fn owned(w: &World, kind: Kind) -> Vec<String> {
    let mut names: Vec<String> = w
        .avi_client
        .list_owned_raw(kind, CREATED_BY)
        .await
        .unwrap()
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mesh_ingress_gets_the_istio_refs_and_its_vip_and_the_istio_objects_stay() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    apply(&w.kube_client, BACKEND).await;
    publish_istio(&w).await;
    apply(&w.kube_client, &ingress("app", "app.example.com", None)).await;
    let (mut status, task) = start(&w, istio_settings(), sni());
    wait(&mut status, |s| {
        s.synced >= 1 && s.istio_refs && s.last_error.is_none() && s.waiting.is_none()
    })
    .await;

    // SNI, LARGE: app.example.com hashes to shard 3; the insecure pool sits on the shared VS.
    let names = Names::new("cluster", false);
    let pool_name = names.insecure_pool("app.example.com", "/", "apps", "app", false);
    let p = pool(&w, &pool_name).await.expect("the Ingress's pool");
    assert!(
        p.pki_profile_ref
            .as_ref()
            .is_some_and(|r| format!("{r:?}").contains("istio-pki-cluster-avi-system")),
        "{p:?}"
    );
    assert!(
        p.ssl_key_and_certificate_ref
            .as_ref()
            .is_some_and(|r| format!("{r:?}").contains("istio-workload-cluster-avi-system"))
    );
    assert_eq!(p.servers.len(), 1);
    let parent = names.shared_vs(3);
    assert!(owned(&w, Kind::VirtualService).await.contains(&parent));
    assert!(owned(&w, Kind::VsDataScriptSet).await.contains(&parent));
    // The Istio pipeline's objects have our created_by too; the full sync leaves them alone.
    assert!(
        owned(&w, Kind::PkiProfile)
            .await
            .contains(&"istio-pki-cluster-avi-system".to_owned())
    );
    assert!(
        owned(&w, Kind::SslKeyAndCertificate)
            .await
            .contains(&"istio-workload-cluster-avi-system".to_owned())
    );
    // The status lists the host with the VIP of its parent.
    eventually("the Ingress status has the VIP", || async {
        let s = ingress_status(&w, "app").await;
        s.pointer("/loadBalancer/ingress/0/hostname") == Some(&json!("app.example.com"))
            && s.pointer("/loadBalancer/ingress/0/ip").is_some()
    })
    .await;
    task.abort();

    // A restart writes nothing: the controller already holds what is wanted.
    let (mut status, task) = start(&w, istio_settings(), sni());
    wait(&mut status, |s| {
        s.synced >= 1 && s.last_error.is_none() && s.waiting.is_none()
    })
    .await;
    let s = status.borrow().clone();
    assert_eq!((s.avi_writes, s.status_writes), (0, 0), "{s:?}");

    // Deleting the Ingress deletes its objects, and still not the Istio pipeline's.
    Api::<Ingress>::namespaced(w.kube_client.clone(), "apps")
        .delete("app", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the pool is gone", || async {
        pool(&w, &pool_name).await.is_none()
    })
    .await;
    wait(&mut status, |s| s.last_error.is_none()).await;
    assert!(
        owned(&w, Kind::PkiProfile)
            .await
            .contains(&"istio-pki-cluster-avi-system".to_owned())
    );
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evh_tls_secret_rotation_and_a_class_change() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    apply(&w.kube_client, BACKEND).await;
    let first = tls_secret(&w, "secure-tls", "secure.example.com").await;
    apply(
        &w.kube_client,
        &tls_ingress("secure", "secure.example.com", "secure-tls"),
    )
    .await;
    let (mut status, task) = start(&w, Settings::default(), evh());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;

    let names = Names::new("cluster", true);
    let cert_name = names.certificate("secure.example.com");
    let child = names.child_vs("secure.example.com");
    let cert = |w: &World| {
        let name = cert_name.clone();
        let c = w.avi_client.clone();
        async move { c.get_by_name::<SslKeyAndCertificate>(&name).await.unwrap() }
    };
    let c = cert(&w).await.expect("the host's certificate");
    assert_eq!(
        c.certificate.certificate.as_deref().map(str::trim),
        Some(first.trim())
    );
    let vs = w
        .avi_client
        .get_by_name::<VirtualService>(&child)
        .await
        .unwrap()
        .expect("the EVH child");
    assert_eq!(vs.vh_matches[0].host, "secure.example.com");
    assert!(vs.created_by.as_deref() == Some(CREATED_BY));

    // The Secret rotates: the certificate follows, in place.
    let second = tls_secret(&w, "secure-tls", "secure.example.com").await;
    assert_ne!(first, second);
    eventually("the certificate is rotated", || async {
        cert(&w)
            .await
            .and_then(|c| c.certificate.certificate)
            .as_deref()
            .map(str::trim)
            == Some(second.trim())
    })
    .await;

    // The Ingress moves to another controller's class: everything of it goes.
    Api::<Ingress>::namespaced(w.kube_client.clone(), "apps")
        .patch(
            "secure",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"ingressClassName": "other"}})),
        )
        .await
        .unwrap();
    eventually("the child and certificate are gone", || async {
        cert(&w).await.is_none()
            && w.avi_client
                .get_by_name::<VirtualService>(&child)
                .await
                .unwrap()
                .is_none()
    })
    .await;
    wait(&mut status, |s| s.last_error.is_none()).await;
    assert!(owned(&w, Kind::Pool).await.is_empty());
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_ingresses_and_an_ambient_backend_are_told_in_events() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    apply(&w.kube_client, BACKEND).await;
    apply(
        &w.kube_client,
        &ingress("first", "dup.example.com", Some("avi-lb")),
    )
    .await;
    // Creation timestamps have a resolution of one second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    apply(
        &w.kube_client,
        &ingress("second", "dup.example.com", Some("avi-lb")),
    )
    .await;
    // The namespace moves to ambient mode and the pod loses its sidecar.
    Api::<k8s_openapi::api::core::v1::Namespace>::all(w.kube_client.clone())
        .patch(
            "apps",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"istio-injection": null, "istio.io/dataplane-mode": "ambient"}}})),
        )
        .await
        .unwrap();
    Api::<k8s_openapi::api::core::v1::Pod>::namespaced(w.kube_client.clone(), "apps")
        .patch(
            "app-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": null}})),
        )
        .await
        .unwrap();
    publish_istio(&w).await;
    let events = ako_runtime::Events::new(w.kube_client.clone(), ako_runtime::Component::Ako, None);
    let (mut status, task) = controller(&w, istio_settings(), sni())
        .with_events(events)
        .spawn();
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    let names = Names::new("cluster", false);
    // The oldest Ingress serves the host; the newer one does not.
    assert!(
        pool(
            &w,
            &names.insecure_pool("dup.example.com", "/", "apps", "first", false)
        )
        .await
        .is_some()
    );
    assert!(
        pool(
            &w,
            &names.insecure_pool("dup.example.com", "/", "apps", "second", false)
        )
        .await
        .is_none()
    );
    // An ambient backend: plain HTTP, no Istio references.
    let p = pool(
        &w,
        &names.insecure_pool("dup.example.com", "/", "apps", "first", false),
    )
    .await
    .unwrap();
    assert!(p.pki_profile_ref.is_none() && p.ssl_key_and_certificate_ref.is_none());
    let api: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(w.kube_client.clone(), "apps");
    eventually("Warning Events on the Ingresses", || async {
        let list = api.list(&Default::default()).await.unwrap();
        let about = |name: &str, reason: &str| {
            list.items.iter().any(|e| {
                e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                    && e.reason.as_deref() == Some(reason)
                    && e.type_.as_deref() == Some("Warning")
            })
        };
        about("second", "HostPathConflict")
            && list
                .items
                .iter()
                .any(|e| e.note.as_deref().is_some_and(|n| n.contains("ambient")))
    })
    .await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_replica_keeps_warm_and_writes_only_once_it_leads() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    apply(&w.kube_client, BACKEND).await;
    apply(&w.kube_client, &ingress("app", "app.example.com", None)).await;
    let (leading, lead_rx) = watch::channel(false);
    let (mut status, task) = controller(&w, Settings::default(), sni())
        .standby(lead_rx)
        .spawn();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        status.borrow().reconciles,
        0,
        "a standby replica writes nothing"
    );
    assert!(owned(&w, Kind::Pool).await.is_empty());
    leading.send(true).unwrap();
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    assert_eq!(owned(&w, Kind::Pool).await.len(), 1);
    // Losing the Lease stops the writes: a new Ingress is not programmed.
    leading.send(false).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    apply(&w.kube_client, &ingress("later", "later.example.com", None)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(owned(&w, Kind::Pool).await.len(), 1);
    leading.send(true).unwrap();
    eventually("the new leader programs the new Ingress", || async {
        owned(&w, Kind::Pool).await.len() == 2
    })
    .await;
    task.abort();
}
