//! Both containers as processes, as one pod runs them: `ako run` and `ako-gateway-api run`
//! against kube-sim and avi-sim, sharing a certificate directory istio-sim writes. The Istio
//! guide's scenario must end with a pool that reaches the mesh backends with mTLS.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use avi_client::models::Pool;
use avi_client::{AviClient, AviConfig, Credentials};
use avi_sim::AviSim;
use gateway_api::httproutes::HttpRoute;
use istio_sim::{CaOptions, IstioCa, OutputCertsWriter, WorkloadRequest};
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube_sim::{KubeSim, SimConfig};
use serde_json::Value;

/// A binary of the workspace, (re)built so that the test never runs a stale one; a no-op after
/// `cargo test --workspace` (see `Binaries::build_blocking`).
fn binary(name: &str) -> PathBuf {
    let bins = xtask::demo::Binaries::build_blocking().unwrap_or_else(|e| panic!("{e:#}"));
    match name {
        "ako" => bins.ako,
        "ako-gateway-api" => bins.gateway_api,
        other => panic!("{other} is not a binary of the workspace"),
    }
}

/// A free loopback port for a child's metrics server.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(bin: &str, env: &[(&str, String)], log: &Path) -> Proc {
    let out = std::fs::File::create(log).unwrap();
    let mut cmd = Command::new(binary(bin));
    cmd.arg("run")
        .env_clear()
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Proc(cmd.spawn().unwrap())
}

async fn apply(client: &kube::Client, yaml: &str) {
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

async fn eventually<F, Fut>(what: &str, logs: &[&Path], mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let ok = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if f().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .is_ok();
    if !ok {
        for l in logs {
            eprintln!(
                "--- {}\n{}",
                l.display(),
                std::fs::read_to_string(l).unwrap_or_default()
            );
        }
        panic!("never: {what}");
    }
}

async fn ready(port: u16) -> bool {
    reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .is_ok_and(|r| r.status() == 200)
}

const SCENARIO: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: avi-system}
---
apiVersion: v1
kind: Secret
metadata: {name: avi-secret, namespace: avi-system}
stringData: {username: admin, password: avi123}
---
apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels: {istio-injection: enabled}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: avi-lb}
spec: {controllerName: ako.vmware.com/avi-lb}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: istio-gateway, namespace: apps}
spec:
  gatewayClassName: avi-lb
  listeners:
  - {name: http, protocol: HTTP, port: 80}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app-route, namespace: apps}
spec:
  parentRefs: [{name: istio-gateway}]
  hostnames: [app.example.com]
  rules:
  - backendRefs: [{name: app-service, port: 80}]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_containers_give_the_mesh_backend_mtls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let avi = AviSim::builder().start().await.unwrap();
    let kube = KubeSim::start(SimConfig::default()).await.unwrap();
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    kube.install(crds).unwrap();
    let client = kube::Client::try_from(kube::Config::new(kube.url().parse().unwrap())).unwrap();
    apply(&client, SCENARIO).await;

    let work = tempfile::tempdir().unwrap();
    let kubeconfig = work.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).unwrap();
    let certs = work.path().join("istio-output-certs");
    std::fs::create_dir(&certs).unwrap();
    let ca = IstioCa::new(CaOptions::default()).unwrap();
    OutputCertsWriter::new(&certs)
        .write(&ca.issue(&WorkloadRequest::default()).unwrap())
        .unwrap();

    let (ako_port, gw_port) = (free_port(), free_port());
    let common = |port: u16, pod: &str| {
        vec![
            ("CLUSTER_NAME", "cluster".to_owned()),
            ("POD_NAMESPACE", "avi-system".to_owned()),
            ("POD_NAME", pod.to_owned()),
            ("CTRL_IPADDRESS", avi.base_url()),
            ("ISTIO_ENABLED", "true".to_owned()),
            ("KUBECONFIG", kubeconfig.display().to_string()),
            ("METRICS_ADDR", format!("127.0.0.1:{port}")),
        ]
    };
    let mut ako_env = common(ako_port, "ako-0");
    ako_env.push(("ISTIO_OUTPUT_CERTS", certs.display().to_string()));
    let ako_log = work.path().join("ako.log");
    let gw_log = work.path().join("ako-gateway-api.log");
    let _ako = spawn("ako", &ako_env, &ako_log);
    let _gw = spawn("ako-gateway-api", &common(gw_port, "ako-0"), &gw_log);
    let logs = [ako_log.as_path(), gw_log.as_path()];

    let avi_client = AviClient::new(AviConfig::new(
        avi.base_url(),
        Credentials::Password {
            username: "admin".into(),
            password: "avi123".into(),
        },
    ))
    .unwrap();
    // The pool of the mesh backend carries the Istio objects the ako container published.
    eventually("the pool has the Istio mTLS references", &logs, || {
        let c = avi_client.clone();
        async move {
            let pools = c
                .list_owned::<Pool>("ako-gw-cluster-avi-system")
                .await
                .unwrap_or_default();
            pools.len() == 1
                && pools[0].pki_profile_ref.as_ref().and_then(|r| r.name())
                    == Some("istio-pki-cluster-avi-system")
                && pools[0]
                    .ssl_key_and_certificate_ref
                    .as_ref()
                    .and_then(|r| r.name())
                    == Some("istio-workload-cluster-avi-system")
                && pools[0].servers.len() == 1
        }
    })
    .await;
    let routes: Api<HttpRoute> = Api::namespaced(client.clone(), "apps");
    eventually("the route is accepted", &logs, || {
        let routes = routes.clone();
        async move {
            let r = routes.get("app-route").await.unwrap();
            let s = serde_json::to_value(&r.status).unwrap();
            s["parents"][0]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Accepted" && c["status"] == "True")
            })
        }
    })
    .await;
    eventually("both containers are ready", &logs, || async {
        ready(ako_port).await && ready(gw_port).await
    })
    .await;
    let metrics = reqwest::get(format!("http://127.0.0.1:{ako_port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("ako_istio_cert_expiry_timestamp_seconds"),
        "{metrics}"
    );
    // Both ends of the published certificate's validity, for lifetime-based alerts.
    let gauge = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (not_before, not_after) = (
        gauge("ako_istio_cert_not_before_timestamp_seconds"),
        gauge("ako_istio_cert_expiry_timestamp_seconds"),
    );
    assert!(not_before > 0.0 && not_after > not_before, "{metrics}");
    // The logs never carry key material.
    for l in logs {
        let text = std::fs::read_to_string(l).unwrap();
        assert!(!text.contains("PRIVATE KEY"), "{}", l.display());
    }
}
