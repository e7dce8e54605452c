//! The reconcile loop against kube-sim and avi-sim: the Istio guide's scenario, endpoint churn,
//! route deletion, restarts, and Avi faults.

use std::time::Duration;

use ako_runtime::gateway::{Controller, ControllerStatus};
use avi_client::Kind;
use avi_client::models::{PkiProfile, Pool, PoolGroup, VirtualService};
use avi_sim::FaultRule;
use gateway_api::gateways::Gateway;
use gateway_api::httproutes::HttpRoute;
use gateway_translate::Settings;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};
use tokio::sync::watch;

mod support;
use support::{NAMESPACES, World, apply, eventually, fast, publish_istio, wait, world, world_with};

const CREATED_BY: &str = "ako-gw-cluster-avi-system";

/// The controller of `w` with `settings` and fast timings.
fn start(
    w: &World,
    settings: Settings,
) -> (
    watch::Receiver<ControllerStatus>,
    tokio::task::JoinHandle<()>,
) {
    Controller::new(
        w.kube_client.clone(),
        w.avi_client.clone(),
        settings,
        fast(),
    )
    .spawn()
}

fn istio_guide(cert_pem: &str, key_pem: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: avi-lb}}
spec: {{controllerName: ako.vmware.com/avi-lb}}
---
apiVersion: v1
kind: Secret
metadata: {{name: gateway-tls, namespace: apps}}
type: kubernetes.io/tls
data:
  tls.crt: {cert}
  tls.key: {key}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: istio-gateway, namespace: apps}}
spec:
  gatewayClassName: avi-lb
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    hostname: app.example.com
    tls: {{mode: Terminate, certificateRefs: [{{name: gateway-tls}}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: app-route, namespace: apps}}
spec:
  parentRefs: [{{name: istio-gateway}}]
  hostnames: [app.example.com]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /}}}}]
    backendRefs: [{{name: app-service, port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: app-service, namespace: apps}}
spec:
  selector: {{app: app}}
  ports: [{{name: http, port: 80, targetPort: 8080}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: app-service-abc
  namespace: apps
  labels: {{kubernetes.io/service-name: app-service}}
addressType: IPv4
ports: [{{name: http, port: 8080}}]
endpoints:
- addresses: ["10.244.1.10"]
  conditions: {{ready: true}}
  targetRef: {{kind: Pod, name: app-1, namespace: apps}}
- addresses: ["10.244.1.11"]
  conditions: {{ready: true}}
  targetRef: {{kind: Pod, name: app-2, namespace: apps}}
---
apiVersion: v1
kind: Pod
metadata:
  name: app-1
  namespace: apps
  labels: {{app: app}}
  annotations: {{sidecar.istio.io/status: '{{"containers":["istio-proxy"]}}'}}
spec: {{containers: [{{name: app, image: app}}]}}
---
apiVersion: v1
kind: Pod
metadata:
  name: app-2
  namespace: apps
  labels: {{app: app}}
  annotations: {{sidecar.istio.io/status: '{{"containers":["istio-proxy"]}}'}}
spec: {{containers: [{{name: app, image: app}}]}}
"#,
        cert = b64(cert_pem),
        key = b64(key_pem)
    )
}

/// A listener certificate for app.example.com.
fn listener_cert() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["app.example.com".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Replaces the example backend's endpoints with one at `ip`; waits until its pool has it.
async fn move_endpoint(w: &World, ip: &str, what: &str) {
    Api::<EndpointSlice>::namespaced(w.kube_client.clone(), "apps")
        .patch(
            "app-service-abc",
            &PatchParams::default(),
            &Patch::Merge(json!({"endpoints": [
                {"addresses": [ip], "conditions": {"ready": true}}]})),
        )
        .await
        .unwrap();
    eventually(what, || async {
        let p = pools(w).await;
        p.len() == 1 && p[0].servers.iter().any(|s| s.ip.addr == ip)
    })
    .await;
}

/// Gives node-a and node-b their InternalIPs (192.168.0.11, .12). Addresses are status: the
/// kubelet writes them through the status subresource.
async fn address_nodes(w: &World) {
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(w.kube_client.clone());
    for (name, ip) in [("node-a", "192.168.0.11"), ("node-b", "192.168.0.12")] {
        nodes
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(
                    json!({"status": {"addresses": [{"type": "InternalIP", "address": ip}]}}),
                ),
            )
            .await
            .unwrap();
    }
}

/// Waits for the guide's statuses: the route Accepted with its references resolved, the
/// Gateway Programmed with the VIP as its address.
async fn guide_statuses_settle(w: &World) {
    let routes: Api<HttpRoute> = Api::namespaced(w.kube_client.clone(), "apps");
    let gateways: Api<Gateway> = Api::namespaced(w.kube_client.clone(), "apps");
    eventually("route and gateway statuses", || {
        let (routes, gateways) = (routes.clone(), gateways.clone());
        async move {
            let r = routes.get("app-route").await.unwrap();
            let g = gateways.get("istio-gateway").await.unwrap();
            let rs = serde_json::to_value(&r.status).unwrap();
            let gs = serde_json::to_value(&g.status).unwrap();
            condition(&rs["parents"][0], "Accepted") == Some(("True".into(), "Accepted".into()))
                && condition(&rs["parents"][0], "ResolvedRefs").is_some_and(|c| c.0 == "True")
                && condition(&gs, "Programmed") == Some(("True".into(), "Programmed".into()))
                && gs["addresses"][0]["type"] == "IPAddress"
        }
    })
    .await;
}

/// The pool reaches its backend with the identity the `ako` container published.
fn assert_istio_identity(pool: &Pool) {
    assert_eq!(
        pool.pki_profile_ref.as_ref().and_then(|r| r.name()),
        Some("istio-pki-cluster-avi-system")
    );
    assert_eq!(
        pool.ssl_key_and_certificate_ref
            .as_ref()
            .and_then(|r| r.name()),
        Some("istio-workload-cluster-avi-system")
    );
}

/// A pool's members as (address, port).
fn servers_of(pool: &Pool) -> Vec<(String, Option<u16>)> {
    pool.servers
        .iter()
        .map(|s| (s.ip.addr.clone(), s.port))
        .collect()
}

/// The Istio guide's scenario with the `ako` container's objects published, and its
/// controller running with Istio on until it has synced with the references.
async fn guide_with_istio_published() -> (
    World,
    watch::Receiver<ControllerStatus>,
    tokio::task::JoinHandle<()>,
) {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    publish_istio(&w).await;
    let (mut status, task) = start(&w, istio_settings());
    wait(&mut status, |s| s.istio_refs && s.last_error.is_none()).await;
    (w, status, task)
}

fn istio_settings() -> Settings {
    Settings {
        istio_enabled: true,
        ..Settings::default()
    }
}

async fn pools(w: &World) -> Vec<Pool> {
    w.avi_client.list_owned::<Pool>(CREATED_BY).await.unwrap()
}

fn condition(status: &Value, type_: &str) -> Option<(String, String)> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_owned(),
                c["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_guide_scenario_end_to_end() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    let (mut status, task) = start(&w, istio_settings());
    wait(&mut status, |s| s.synced >= 1).await;
    // Istio is on but its objects are not published yet: the pool has no mTLS references.
    let p = pools(&w).await;
    assert_eq!(p.len(), 1);
    assert!(p[0].pki_profile_ref.is_none());
    let mut ips: Vec<String> = p[0].servers.iter().map(|s| s.ip.addr.clone()).collect();
    ips.sort();
    assert_eq!(ips, ["10.244.1.10", "10.244.1.11"]);

    // The ako container publishes: the next resync (triggered by the Secret) uses them.
    publish_istio(&w).await;
    wait(&mut status, |s| s.istio_refs && s.last_error.is_none()).await;
    let p = pools(&w).await;
    assert_istio_identity(&p[0]);
    let vses = w
        .avi_client
        .list_owned::<VirtualService>(CREATED_BY)
        .await
        .unwrap();
    assert_eq!(vses.len(), 2, "parent and child");
    let pgs = w
        .avi_client
        .list_owned::<PoolGroup>(CREATED_BY)
        .await
        .unwrap();
    assert_eq!(pgs.len(), 1);

    // Statuses: the route accepted, the Gateway programmed with the VIP as its address.
    guide_statuses_settle(&w).await;

    // A quiet resync writes nothing more.
    let writes = status.borrow().avi_writes;
    let status_writes = status.borrow().status_writes;
    drop(task);
    let (mut again, _task) = start(&w, istio_settings());
    wait(&mut again, |s| s.synced >= 1).await;
    assert_eq!(again.borrow().avi_writes, 0, "a restart writes nothing");
    assert_eq!(
        again.borrow().status_writes,
        0,
        "statuses are already right"
    );
    let _ = (writes, status_writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_istio_check_keeps_the_mesh_pools_refs() {
    let (w, mut status, _task) = guide_with_istio_published().await;
    let before = pools(&w).await;
    assert!(before[0].pki_profile_ref.is_some());
    let writes = status.borrow().avi_writes;
    let reconciles = status.borrow().reconciles;

    // The controller fails every look-up of the PKI profile (beyond the client's 3 attempts)
    // while a change asks for a reconcile.
    w.avi.add_fault(FaultRule {
        method: Some("GET".into()),
        object_type: Some("pkiprofile".into()),
        error_rate: 1.0,
        status: 503,
        times: Some(6),
        ..FaultRule::default()
    });
    Api::<HttpRoute>::namespaced(w.kube_client.clone(), "apps")
        .patch(
            "app-route",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}})),
        )
        .await
        .unwrap();
    wait(&mut status, |s| {
        s.reconciles > reconciles
            && s.waiting
                .as_deref()
                .is_some_and(|e| e.contains("cannot check the Istio object"))
    })
    .await;
    // Not a failure: the sync itself went through (readiness is not lost for it).
    assert!(status.borrow().last_error.is_none());
    // The uncertain answer kept the references: no pool was turned to plain text.
    assert!(status.borrow().istio_refs);
    assert_eq!(pools(&w).await, before);
    // The retry succeeds once the controller answers again; still nothing to write.
    wait(&mut status, |s| s.waiting.is_none()).await;
    assert_eq!(pools(&w).await, before);
    assert_eq!(status.borrow().avi_writes, writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_istio_secret_gives_new_pools_no_refs_and_keeps_those_of_existing_pools() {
    let (w, mut status, _task) = guide_with_istio_published().await;
    // A definite answer: nothing is published any more.
    Api::<Secret>::namespaced(w.kube_client.clone(), "avi-system")
        .delete("istio-secret", &DeleteParams::default())
        .await
        .unwrap();
    let before = pools(&w).await;
    let writes = status.borrow().avi_writes;
    wait(&mut status, |s| !s.istio_refs && s.last_error.is_none()).await;
    // The existing mesh pool keeps its mTLS (plain text is what its STRICT backend refuses).
    assert_eq!(pools(&w).await, before);
    // A route added meanwhile gets a pool without the references it cannot confirm.
    apply(
        &w.kube_client,
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-route, namespace: apps}
spec:
  parentRefs: [{name: istio-gateway}]
  hostnames: [app.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /other}}]
    backendRefs: [{name: app-service, port: 80}]
"#,
    )
    .await;
    eventually("the new route's pool", || async {
        pools(&w).await.len() == 2
    })
    .await;
    let now = pools(&w).await;
    let new_pool = now.iter().find(|p| !before.contains(p)).unwrap();
    assert!(new_pool.pki_profile_ref.is_none());
    assert!(new_pool.ssl_key_and_certificate_ref.is_none());
    // Published again: the new pool gets them; the old one was never touched.
    publish_istio(&w).await;
    eventually("every pool has the references", || async {
        pools(&w).await.iter().all(|p| p.pki_profile_ref.is_some())
    })
    .await;
    assert!(pools(&w).await.contains(&before[0]));
    assert!(status.borrow().avi_writes > writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_churn_moves_servers_and_route_deletion_removes_its_objects() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    let writes_before = status.borrow().avi_writes;
    let before_vs = w
        .avi_client
        .list_owned::<VirtualService>(CREATED_BY)
        .await
        .unwrap();

    // One endpoint replaced.
    let slices: Api<EndpointSlice> = Api::namespaced(w.kube_client.clone(), "apps");
    slices
        .patch(
            "app-service-abc",
            &PatchParams::default(),
            &Patch::Merge(json!({"endpoints": [
                {"addresses": ["10.244.1.10"], "conditions": {"ready": true}},
                {"addresses": ["10.244.1.99"], "conditions": {"ready": true}}]})),
        )
        .await
        .unwrap();
    eventually("the pool follows the endpoints", || async {
        let p = pools(&w).await;
        p.len() == 1 && p[0].servers.iter().any(|s| s.ip.addr == "10.244.1.99")
    })
    .await;
    // Only the pool changed: one write, and no virtual service moved.
    wait(&mut status, |s| s.avi_writes > writes_before).await;
    assert_eq!(status.borrow().avi_writes, writes_before + 1);
    assert_eq!(w.avi.count("PUT", "pool", Some(200)), 1);
    let after_vs = w
        .avi_client
        .list_owned::<VirtualService>(CREATED_BY)
        .await
        .unwrap();
    assert_eq!(
        before_vs
            .iter()
            .map(|v| &v.last_modified)
            .collect::<Vec<_>>(),
        after_vs
            .iter()
            .map(|v| &v.last_modified)
            .collect::<Vec<_>>()
    );

    // The route goes: its child, pool group and pool go; the parent stays.
    Api::<HttpRoute>::namespaced(w.kube_client.clone(), "apps")
        .delete("app-route", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the route's objects are deleted", || async {
        pools(&w).await.is_empty()
            && w.avi_client
                .list_owned::<VirtualService>(CREATED_BY)
                .await
                .unwrap()
                .len()
                == 1
    })
    .await;
    // Exactly the route's: its pool group and child went; the Gateway's parent VS, VS VIP,
    // listener certificate and default-backend policy (the 404 for unmatched requests) stay.
    let kinds = [
        (Kind::PoolGroup, 0),
        (Kind::HttpPolicySet, 1),
        (Kind::VsVip, 1),
        (Kind::SslKeyAndCertificate, 1),
    ];
    for (kind, left) in kinds {
        let objects = w.avi_client.list_owned_raw(kind, CREATED_BY).await.unwrap();
        assert_eq!(objects.len(), left, "{kind}: {objects:?}");
    }
    let parent = &w
        .avi_client
        .list_owned::<VirtualService>(CREATED_BY)
        .await
        .unwrap()[0];
    assert_eq!(
        parent.type_,
        Some(avi_client::models::VsType::VhParent),
        "{parent:?}"
    );
    assert!(before_vs.iter().any(|v| v.name == parent.name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avi_faults_during_sync_converge() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    w.avi.add_fault(FaultRule {
        method: Some("POST".into()),
        error_rate: 1.0,
        status: 503,
        times: Some(6),
        ..FaultRule::default()
    });
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    // The session expires in the middle of the first sync: the controller answers the pool's
    // creation with 419, as it does for an expired session.
    w.avi.add_fault(FaultRule {
        method: Some("POST".into()),
        object_type: Some("pool".into()),
        error_rate: 1.0,
        status: 419,
        times: Some(1),
        ..FaultRule::default()
    });
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.reconciles >= 1).await;
    // And every session expires once more, between reconciles.
    w.avi.expire_sessions();
    wait(&mut status, |s| s.last_error.is_none() && s.synced >= 1).await;
    assert_eq!(pools(&w).await.len(), 1);

    // Updates fail too for a while (5xx on PUT) while an endpoint moves: the pool follows.
    w.avi.add_fault(FaultRule {
        method: Some("PUT".into()),
        object_type: Some("pool".into()),
        error_rate: 1.0,
        status: 500,
        times: Some(4),
        ..FaultRule::default()
    });
    move_endpoint(
        &w,
        "10.244.1.77",
        "the pool follows the endpoint despite the failed updates",
    )
    .await;
    assert!(
        w.avi.count("PUT", "pool", Some(500)) >= 1,
        "the faults were hit"
    );
    wait(&mut status, |s| s.last_error.is_none()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambient_backend_gets_no_istio_refs_and_an_event() {
    let w = world().await;
    apply(
        &w.kube_client,
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: avi-system}
---
apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels: {istio.io/dataplane-mode: ambient}
"#,
    )
    .await;
    let (cert, key) = listener_cert();
    // The same scenario, without sidecar annotations mattering: the namespace is ambient.
    apply(
        &w.kube_client,
        &istio_guide(&cert, &key).replace("sidecar.istio.io/status", "x-unrelated"),
    )
    .await;
    publish_istio(&w).await;
    let events = ako_runtime::Events::new(
        w.kube_client.clone(),
        ako_runtime::Component::GatewayApi,
        Some("ako-0".into()),
    );
    let (mut status, _task) = Controller::new(
        w.kube_client.clone(),
        w.avi_client.clone(),
        istio_settings(),
        fast(),
    )
    .with_events(events)
    .spawn();
    wait(&mut status, |s| s.synced >= 1 && s.istio_refs).await;
    let p = pools(&w).await;
    assert_eq!(p.len(), 1);
    assert!(
        p[0].pki_profile_ref.is_none(),
        "ambient: no sidecar to take mTLS"
    );
    let api: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(w.kube_client.clone(), "apps");
    eventually("an Event on the route says why", || {
        let api = api.clone();
        async move {
            api.list(&Default::default())
                .await
                .unwrap()
                .items
                .iter()
                .any(|e| {
                    e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("app-route")
                        && e.note.as_deref().is_some_and(|n| n.contains("ambient"))
                })
        }
    })
    .await;
    // And the route's status, where `kubectl describe httproute` shows it.
    let routes: Api<HttpRoute> = Api::namespaced(w.kube_client.clone(), "apps");
    eventually("the route's ResolvedRefs says why", || {
        let routes = routes.clone();
        async move {
            let r = routes.get("app-route").await.unwrap();
            let rs = serde_json::to_value(&r.status).unwrap();
            rs["parents"][0]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| {
                    c["type"] == "ResolvedRefs"
                        && c["status"] == "True"
                        && c["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("is in Istio ambient mode"))
                })
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodeport_mode_with_local_traffic_policy_uses_the_nodes_hosting_endpoints() {
    let w = world().await;
    apply(
        &w.kube_client,
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: avi-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: avi-lb}
spec: {controllerName: ako.vmware.com/avi-lb}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: apps}
spec:
  gatewayClassName: avi-lb
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: apps}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: apps
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: ["10.244.1.10"]
  conditions: {ready: true}
  nodeName: node-a
---
apiVersion: v1
kind: Node
metadata: {name: node-a}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
"#,
    )
    .await;
    address_nodes(&w).await;
    let settings = Settings {
        service_type: gateway_translate::ServiceType::NodePort,
        ..Settings::default()
    };
    let (mut status, _task) = start(&w, settings);
    wait(&mut status, |s| s.synced >= 1).await;
    let p = pools(&w).await;
    assert_eq!(p.len(), 1);
    let servers = servers_of(&p[0]);
    // Only node-a hosts a ready endpoint; the port is the nodePort.
    assert_eq!(servers, [("192.168.0.11".to_owned(), Some(30080))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_expired_watches_still_converge() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1).await;
    // Every watch is cut and the next one is told its resourceVersion is gone (410).
    w.kube.drop_watches();
    w.kube.expire_next_watch();
    move_endpoint(
        &w,
        "10.244.1.77",
        "the change made after the watches broke arrives",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_gateway_scenario_from_the_examples() {
    let w = world().await;
    apply(
        &w.kube_client,
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: avi-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: networking}
---
apiVersion: v1
kind: Namespace
metadata: {name: sample}
"#,
    )
    .await;
    apply(
        &w.kube_client,
        include_str!("../../../examples/manifests/shared-gateway.yaml"),
    )
    .await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    let vses = w
        .avi_client
        .list_owned::<VirtualService>(CREATED_BY)
        .await
        .unwrap();
    let parent = vses
        .iter()
        .find(|v| v.name == "ako-gw-cluster--networking-shared-EVH")
        .expect("the shared parent");
    let mut ports: Vec<(u16, bool)> = parent
        .services
        .iter()
        .map(|s| (s.port, s.enable_ssl.unwrap_or(false)))
        .collect();
    ports.sort_unstable();
    assert_eq!(ports, [(80, false), (443, true)]);
    let child = vses
        .iter()
        .find(|v| v.vh_parent_vs_ref.is_some())
        .expect("the route's child");
    assert_eq!(child.vh_matches[0].host, "bookinfo.apps.example.com");
    let routes: Api<HttpRoute> = Api::namespaced(w.kube_client.clone(), "sample");
    eventually("the route from another namespace is accepted", || {
        let routes = routes.clone();
        async move {
            let r = routes.get("bookinfo").await.unwrap();
            let s = serde_json::to_value(&r.status).unwrap();
            condition(&s["parents"][0], "Accepted") == Some(("True".into(), "Accepted".into()))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_backend_extension_overrides_istio() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    let guide = istio_guide(&cert, &key).replace(
        "backendRefs: [{name: app-service, port: 80}]",
        "backendRefs: [{name: app-service, port: 80, filters: [{type: ExtensionRef, extensionRef: {group: ako.vmware.com, kind: RouteBackendExtension, name: app-tls}}]}]",
    );
    apply(&w.kube_client, &guide).await;
    apply(
        &w.kube_client,
        r#"
apiVersion: ako.vmware.com/v1alpha1
kind: RouteBackendExtension
metadata: {name: app-tls, namespace: apps}
spec:
  backendTLS:
    pkiProfile: {kind: AVIREF, name: corp-pki}
    hostCheckEnabled: true
    domainName: [app.internal.example.com]
"#,
    )
    .await;
    publish_istio(&w).await;
    // The PKI profile the extension names exists on the controller (someone else's).
    w.avi_client
        .ensure(&PkiProfile {
            name: "corp-pki".into(),
            created_by: Some("platform-team".into()),
            ..PkiProfile::default()
        })
        .await
        .unwrap();
    let (mut status, _task) = start(&w, istio_settings());
    wait(&mut status, |s| {
        s.synced >= 1 && s.istio_refs && s.last_error.is_none()
    })
    .await;
    let p = pools(&w).await;
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].pki_profile_ref.as_ref().and_then(|r| r.name()),
        Some("corp-pki"),
        "the extension wins over Istio"
    );
    assert!(p[0].ssl_key_and_certificate_ref.is_none());
    assert_eq!(p[0].host_check_enabled, Some(true));
    assert_eq!(p[0].domain_name, ["app.internal.example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_optional_crd_missing_does_not_stall_the_controller() {
    // The Gateway API only: AKO's RouteBackendExtension CRD is not installed.
    let w = world_with(kube_sim::crds::gateway_api()).await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    assert_eq!(pools(&w).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_gateway_api_crds_the_controller_says_so_and_starts_once_installed() {
    let w = world_with(Vec::new()).await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| {
        s.last_error
            .as_deref()
            .is_some_and(|e| e.contains("does not serve") && e.contains("HTTPRoute"))
    })
    .await;
    assert_eq!(status.borrow().reconciles, 0);
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    w.kube.install(crds).unwrap();
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    // The controller looks again every 10 s.
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    assert_eq!(pools(&w).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reconcile_is_counted_with_its_own_duration() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    let metrics = ako_runtime::Metrics::new();
    let (mut status, task) = Controller::new(
        w.kube_client.clone(),
        w.avi_client.clone(),
        Settings::default(),
        fast(),
    )
    .with_metrics(metrics.clone())
    .spawn();
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    // A burst of changes: each reconcile it causes is counted, none merged.
    for i in 0..3 {
        Api::<HttpRoute>::namespaced(w.kube_client.clone(), "apps")
            .patch(
                "app-route",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"touched": i.to_string()}}})),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // Three quiet seconds, then one more change: that reconcile took far less than the three
    // seconds since the one before it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before_last = status.borrow().reconciles;
    Api::<HttpRoute>::namespaced(w.kube_client.clone(), "apps")
        .patch(
            "app-route",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"touched": "last"}}})),
        )
        .await
        .unwrap();
    wait(&mut status, |s| s.reconciles > before_last).await;
    task.abort();
    let _ = task.await;
    let reconciles = status.borrow().reconciles;
    assert!(reconciles >= 3, "{reconciles}");
    let text = metrics.encode();
    let sum_of = |prefix: &str, filter: &dyn Fn(&str) -> bool| -> u64 {
        text.lines()
            .filter(|l| l.starts_with(prefix) && filter(l))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    let counted = sum_of("ako_reconcile_total{", &|_| true);
    assert_eq!(counted, reconciles, "{text}");
    let observed = sum_of("ako_reconcile_duration_seconds_count{", &|_| true);
    assert_eq!(observed, reconciles, "{text}");
    // Every duration is of the work, not of the wait before it: all within 2.5 s.
    let quick = sum_of("ako_reconcile_duration_seconds_bucket{", &|l| {
        l.contains("le=\"2.5\"")
    });
    assert_eq!(quick, reconciles, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_secret_keys_read_are_held_in_memory() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let mut secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "mixed", "namespace": "apps"}, "type": "Opaque",
    }))
    .unwrap();
    secret.data = Some(
        [
            ("tls.crt", "cert"),
            ("tls.key", "key"),
            ("token", "s3cr3t"),
            ("password", "hunter2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), k8s_openapi::ByteString(v.as_bytes().to_vec())))
        .collect(),
    );
    Api::<Secret>::namespaced(w.kube_client.clone(), "apps")
        .patch("mixed", &PatchParams::apply("test"), &Patch::Apply(&secret))
        .await
        .unwrap();
    let changed = std::sync::Arc::new(tokio::sync::Notify::new());
    let (inputs, _reflectors, _) = ako_runtime::gateway::inputs::Inputs::start(
        &w.kube_client,
        &translate_core::Translator::kinds(&gateway_translate::GatewayApiTranslator),
        changed,
    )
    .await
    .unwrap();
    inputs.ready().await;
    let held = inputs
        .secrets()
        .get(&kube::runtime::reflector::ObjectRef::new("mixed").within("apps"))
        .unwrap();
    let keys: Vec<&String> = held.data.as_ref().unwrap().keys().collect();
    assert_eq!(keys, ["tls.crt", "tls.key"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_of_ours_go_and_objects_of_other_owners_are_never_touched() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    // Before the controller starts: a pool of ours nothing wants any more (a route deleted
    // while it was down), and someone else's pool.
    let pool = |name: &str, owner: &str| json!({"name": name, "created_by": owner});
    w.avi_client
        .create_raw(Kind::Pool, &pool("cluster--apps-gone-route", CREATED_BY))
        .await
        .unwrap();
    let foreign = w
        .avi_client
        .create_raw(Kind::Pool, &pool("cluster--apps-theirs", "someone-else"))
        .await
        .unwrap();
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    assert!(
        w.avi_client
            .find_raw(Kind::Pool, "cluster--apps-gone-route")
            .await
            .unwrap()
            .is_none(),
        "our leftover is deleted by the first full sync"
    );
    let theirs = w
        .avi_client
        .find_raw(Kind::Pool, "cluster--apps-theirs")
        .await;
    assert_eq!(
        theirs.unwrap().as_ref(),
        Some(&foreign),
        "theirs is untouched"
    );

    // Between full syncs, another owner takes over the route's pool (ours was handed over):
    // deleting the route removes what is still ours and leaves that pool alone.
    let ours = pools(&w).await;
    assert_eq!(ours.len(), 1);
    let existing = w
        .avi_client
        .find_raw(Kind::Pool, &ours[0].name)
        .await
        .unwrap()
        .unwrap();
    let mut handed_over = existing.clone();
    handed_over["created_by"] = json!("someone-else");
    let handed_over = w
        .avi_client
        .update_raw(Kind::Pool, &existing, &handed_over)
        .await
        .unwrap();
    Api::<HttpRoute>::namespaced(w.kube_client.clone(), "apps")
        .delete("app-route", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the route's own objects are deleted", || async {
        w.avi_client
            .list_owned::<VirtualService>(CREATED_BY)
            .await
            .unwrap()
            .len()
            == 1
            && w.avi_client
                .list_owned::<PoolGroup>(CREATED_BY)
                .await
                .unwrap()
                .is_empty()
    })
    .await;
    let after = w
        .avi_client
        .find_raw(Kind::Pool, &ours[0].name)
        .await
        .unwrap();
    assert_eq!(
        after.as_ref(),
        Some(&handed_over),
        "the handed-over pool stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_guide_in_node_port_mode_with_local_traffic_policy() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    // The guide's scenario with the Service as NodePort, externalTrafficPolicy Local, and both
    // pods on node-a of two nodes.
    let guide = istio_guide(&cert, &key)
        .replace(
            "spec:\n  selector: {app: app}\n  ports: [{name: http, port: 80, targetPort: 8080}]",
            "spec:\n  type: NodePort\n  externalTrafficPolicy: Local\n  selector: {app: app}\n  \
             ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]",
        )
        .replace(
            "  conditions: {ready: true}\n  targetRef:",
            "  conditions: {ready: true}\n  nodeName: node-a\n  targetRef:",
        );
    assert!(guide.contains("externalTrafficPolicy: Local") && guide.contains("nodeName: node-a"));
    apply(&w.kube_client, &guide).await;
    apply(
        &w.kube_client,
        "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: node-b}\n",
    )
    .await;
    address_nodes(&w).await;
    publish_istio(&w).await;
    let settings = Settings {
        service_type: gateway_translate::ServiceType::NodePort,
        ..istio_settings()
    };
    let (mut status, _task) = start(&w, settings);
    wait(&mut status, |s| s.istio_refs && s.last_error.is_none()).await;
    let p = pools(&w).await;
    assert_eq!(p.len(), 1);
    let servers = servers_of(&p[0]);
    // Only node-a hosts the pods; the port is the nodePort. The node's sidecar-less kube-proxy
    // path still ends at a STRICT pod: the pool keeps the Istio identity.
    assert_eq!(servers, [("192.168.0.11".to_owned(), Some(30080))]);
    assert_istio_identity(&p[0]);
    guide_statuses_settle(&w).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_leaving_the_mesh_loses_the_tls_fields_of_its_pool() {
    let (w, mut status, _task) = guide_with_istio_published().await;
    assert!(pools(&w).await[0].pki_profile_ref.is_some());
    let writes_before = status.borrow().avi_writes;
    // Injection is turned off and the pods restart without sidecars: plain HTTP, and the
    // pool must not keep the Istio fields the last decision set.
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(w.kube_client.clone(), "apps");
    for name in ["app-1", "app-2"] {
        pods.patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"sidecar.istio.io/status": null}}})),
        )
        .await
        .unwrap();
    }
    eventually("the pool loses its Istio fields", || async {
        let p = pools(&w).await;
        p.len() == 1
            && p[0].pki_profile_ref.is_none()
            && p[0].ssl_key_and_certificate_ref.is_none()
            && p[0].ssl_profile_ref.is_none()
    })
    .await;
    // The reconcile that wrote it has reported; then, settled, the next one writes nothing (the
    // fields stay unset).
    wait(&mut status, |s| s.avi_writes > writes_before).await;
    let writes = status.borrow().avi_writes;
    Api::<HttpRoute>::namespaced(w.kube_client.clone(), "apps")
        .patch(
            "app-route",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}})),
        )
        .await
        .unwrap();
    let reconciles = status.borrow().reconciles;
    wait(&mut status, |s| s.reconciles > reconciles).await;
    assert_eq!(status.borrow().avi_writes, writes);
}

/// A GRPCRoute end to end: its child and HTTP/2 pool on the controller, the listener's port
/// with HTTP/2 on, and its status on the GRPCRoute (not on an HTTPRoute of the same name).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_route_is_programmed_and_its_status_written() {
    let w = world().await;
    apply(
        &w.kube_client,
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: grpc}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: avi-lb}
spec: {controllerName: ako.vmware.com/avi-lb}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: grpc}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: grpc}
spec:
  ports: [{name: grpc, port: 50051, targetPort: 50051, appProtocol: kubernetes.io/h2c}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-1
  namespace: grpc
  labels: {kubernetes.io/service-name: echo}
addressType: IPv4
ports: [{name: grpc, port: 50051}]
endpoints:
- addresses: ["10.2.0.7"]
  conditions: {ready: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo, namespace: grpc}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{method: {service: echo.Echo, method: Ping}}]
    backendRefs: [{name: echo, port: 50051}]
"#,
    )
    .await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    let vses = w
        .avi_client
        .list_owned::<VirtualService>(CREATED_BY)
        .await
        .unwrap();
    let parent = vses
        .iter()
        .find(|v| v.name == "ako-gw-cluster--grpc-gw-EVH")
        .expect("the Gateway's parent");
    assert_eq!(parent.services.len(), 1);
    assert_eq!(parent.services[0].enable_http2, Some(true));
    let child = vses
        .iter()
        .find(|v| v.vh_parent_vs_ref.is_some())
        .expect("the route's child");
    assert_eq!(child.vh_matches[0].host, "grpc.example.com");
    let path = child.vh_matches[0].rules[0].matches.path.as_ref().unwrap();
    assert_eq!(path.match_str, ["/echo.Echo/Ping"]);
    let pools = pools(&w).await;
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0].enable_http2, Some(true));
    assert_eq!(
        servers_of(&pools[0]),
        [("10.2.0.7".to_owned(), Some(50051))]
    );
    let routes: Api<gateway_api::grpcroutes::GrpcRoute> =
        Api::namespaced(w.kube_client.clone(), "grpc");
    eventually("the GRPCRoute is accepted", || {
        let routes = routes.clone();
        async move {
            let r = routes.get("echo").await.unwrap();
            let s = serde_json::to_value(&r.status).unwrap();
            condition(&s["parents"][0], "Accepted") == Some(("True".into(), "Accepted".into()))
                && condition(&s["parents"][0], "ResolvedRefs")
                    == Some(("True".into(), "ResolvedRefs".into()))
        }
    })
    .await;
}

/// A TLSRoute through kube-sim and avi-sim: the passthrough port's layer-4 virtual service with
/// its selector DataScript set and the route's plain TCP pool, and the route's status.
#[tokio::test]
async fn a_tls_route_is_programmed_and_its_status_written() {
    let w = world().await;
    apply(
        &w.kube_client,
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: tls}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: avi-lb}
spec: {controllerName: ako.vmware.com/avi-lb}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: tls}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: tls, port: 443, protocol: TLS, tls: {mode: Passthrough}}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: tls}
spec:
  ports: [{name: tls, port: 443, targetPort: 8443}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  namespace: tls
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{name: tls, port: 8443}]
endpoints:
- addresses: ["10.2.0.9"]
  conditions: {ready: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: db, namespace: tls}
spec:
  parentRefs: [{name: gw}]
  hostnames: [db.example.com]
  rules:
  - backendRefs: [{name: db, port: 443}]
"#,
    )
    .await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    let vses = w
        .avi_client
        .list_owned::<VirtualService>(CREATED_BY)
        .await
        .unwrap();
    let vs = vses
        .iter()
        .find(|v| v.name == "ako-gw-cluster--tls-gw-TLS-443")
        .expect("the passthrough port's virtual service");
    assert_eq!(vs.services.len(), 1);
    assert_eq!(vs.vs_datascripts.len(), 1);
    let pools = pools(&w).await;
    assert_eq!(pools.len(), 1);
    assert!(pools[0].ssl_profile_ref.is_none());
    assert_eq!(servers_of(&pools[0]), [("10.2.0.9".to_owned(), Some(8443))]);
    let routes: Api<gateway_api::tlsroutes::TlsRoute> =
        Api::namespaced(w.kube_client.clone(), "tls");
    eventually("the TLSRoute is accepted", || {
        let routes = routes.clone();
        async move {
            let r = routes.get("db").await.unwrap();
            let s = serde_json::to_value(&r.status).unwrap();
            condition(&s["parents"][0], "Accepted") == Some(("True".into(), "Accepted".into()))
                && condition(&s["parents"][0], "ResolvedRefs")
                    == Some(("True".into(), "ResolvedRefs".into()))
        }
    })
    .await;
}

/// A ListenerSet through kube-sim and avi-sim: its listener becomes a port of the Gateway's
/// parent virtual service, a route attached to it is programmed, and the ListenerSet and the
/// Gateway get their statuses.
#[tokio::test]
async fn a_listener_set_adds_its_listener_to_the_gateway() {
    let w = world().await;
    apply(
        &w.kube_client,
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: avi-lb}
spec: {controllerName: ako.vmware.com/avi-lb}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: team}
spec:
  gatewayClassName: avi-lb
  allowedListeners: {namespaces: {from: Same}}
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: extra, namespace: team}
spec:
  parentRef: {name: gw}
  listeners:
  - {name: alt, port: 8080, protocol: HTTP, hostname: alt.example.com}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: team
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: ["10.2.0.10"]
  conditions: {ready: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: team}
spec:
  parentRefs: [{kind: ListenerSet, name: extra}]
  rules:
  - backendRefs: [{name: web, port: 80}]
"#,
    )
    .await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    let vses = w
        .avi_client
        .list_owned::<VirtualService>(CREATED_BY)
        .await
        .unwrap();
    let parent = vses
        .iter()
        .find(|v| v.name == "ako-gw-cluster--team-gw-EVH")
        .expect("the Gateway's parent");
    let mut ports: Vec<u16> = parent.services.iter().map(|s| s.port).collect();
    ports.sort_unstable();
    assert_eq!(ports, [80, 8080]);
    let child = vses
        .iter()
        .find(|v| v.vh_parent_vs_ref.is_some())
        .expect("the route's child");
    assert_eq!(child.vh_matches[0].host, "alt.example.com");
    let sets: Api<gateway_api::listenersets::ListenerSet> =
        Api::namespaced(w.kube_client.clone(), "team");
    eventually("the ListenerSet is accepted", || {
        let sets = sets.clone();
        async move {
            let s = sets.get("extra").await.unwrap();
            let s = serde_json::to_value(&s.status).unwrap();
            condition(&s, "Accepted") == Some(("True".into(), "Accepted".into()))
                && s["listeners"][0]["attachedRoutes"] == 1
        }
    })
    .await;
}

/// An EndpointSlice change takes the endpoint path: the pool is written without a translation
/// (no reconcile is counted), in one PUT; a change to anything else still gets a full pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_change_updates_its_pool_without_a_translation() {
    let w = world().await;
    apply(&w.kube_client, NAMESPACES).await;
    let (cert, key) = listener_cert();
    apply(&w.kube_client, &istio_guide(&cert, &key)).await;
    let (mut status, _task) = start(&w, Settings::default());
    wait(&mut status, |s| s.synced >= 1 && s.last_error.is_none()).await;
    // Let the statuses the first passes wrote come back as watch events and settle.
    let mut settled = status.borrow().reconciles;
    loop {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let now = status.borrow().reconciles;
        if now == settled {
            break;
        }
        settled = now;
    }
    let writes = status.borrow().avi_writes;
    let puts = w.avi.count("PUT", "pool", Some(200));
    move_endpoint(&w, "10.244.7.7", "the pool follows the endpoint").await;
    wait(&mut status, |s| s.avi_writes > writes).await;
    assert_eq!(status.borrow().avi_writes, writes + 1);
    assert_eq!(w.avi.count("PUT", "pool", Some(200)), puts + 1);
    assert_eq!(
        status.borrow().reconciles,
        settled,
        "the endpoint path translates nothing"
    );
    // Something else changes: a full pass, which finds the pool as the endpoint path left it.
    Api::<HttpRoute>::namespaced(w.kube_client.clone(), "apps")
        .patch(
            "app-route",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"touched": "yes"}}})),
        )
        .await
        .unwrap();
    wait(&mut status, |s| s.reconciles > settled).await;
    assert_eq!(w.avi.count("PUT", "pool", Some(200)), puts + 1);
    assert_eq!(status.borrow().avi_writes, writes + 1);
}
