//! `deploy/`: the Helm chart, the plain manifests rendered from it, and whether what they
//! describe is a pod the binaries actually run in.
//!
//! - the files in `deploy/manifests/` are what `cargo xtask manifests` renders now;
//! - every document parses, is a valid object of its kind (no field the type does not know) and
//!   holds the facts the Istio integration depends on;
//! - every object server-side applies to kube-sim;
//! - `helm template` gives the same documents, when a `helm` binary is on PATH;
//! - both binaries, started with exactly the containers' environment, accept it and become
//!   ready against kube-sim and avi-sim, and serve the chart's GatewayClass.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use avi_sim::AviSim;
use istio_sim::{CaOptions, IstioCa, OutputCertsWriter, WorkloadRequest};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Container, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::Api;
use kube::api::{DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube_sim::{KubeSim, SimConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use xtask::chart::{Release, parse_documents, render};
use xtask::manifests::{self, VARIANTS};

const CERT_DIR: &str = "/etc/istio-output-certs";

fn root() -> PathBuf {
    manifests::repo_root()
}

/// The documents of a committed manifest file.
fn committed(file: &str) -> Vec<Value> {
    let path = manifests::manifests_dir(&root()).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask manifests`", path.display()));
    parse_documents(&text).unwrap()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the manifests"))
}

fn containers(docs: &[Value]) -> Vec<Container> {
    let sts: StatefulSet =
        serde_json::from_value(find(docs, "StatefulSet", "ako").clone()).unwrap();
    sts.spec.unwrap().template.spec.unwrap().containers
}

fn env_of(c: &Container) -> BTreeMap<String, Option<String>> {
    c.env
        .iter()
        .flatten()
        .map(|e| (e.name.clone(), e.value.clone()))
        .collect()
}

#[test]
fn the_manifests_are_the_chart_rendered_now() {
    let stale = manifests::stale(&root()).unwrap();
    assert!(
        stale.is_empty(),
        "{stale:?} differ from deploy/helm/ako rendered now: run `cargo xtask manifests`"
    );
}

/// A document must deserialize into its Kubernetes type and serialize back to itself: a
/// misspelt or misplaced field would be dropped on the way and show up here.
fn round_trips<K: DeserializeOwned + Serialize>(doc: &Value) {
    let typed: K = serde_json::from_value(doc.clone()).unwrap_or_else(|e| {
        panic!("{} {}: {e}", doc["kind"], doc["metadata"]["name"]);
    });
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        &back, doc,
        "{} {} has fields its type does not know",
        doc["kind"], doc["metadata"]["name"]
    );
}

#[test]
fn every_document_is_a_valid_object_of_its_kind() {
    for v in VARIANTS {
        for doc in committed(v.file) {
            match doc["kind"].as_str().unwrap() {
                "ServiceAccount" => round_trips::<ServiceAccount>(&doc),
                "Secret" => round_trips::<Secret>(&doc),
                "Service" => round_trips::<Service>(&doc),
                "StatefulSet" => round_trips::<StatefulSet>(&doc),
                "ClusterRole" => round_trips::<ClusterRole>(&doc),
                "ClusterRoleBinding" => round_trips::<ClusterRoleBinding>(&doc),
                "Role" => round_trips::<Role>(&doc),
                "RoleBinding" => round_trips::<RoleBinding>(&doc),
                "GatewayClass" => round_trips::<gateway_api::gatewayclasses::GatewayClass>(&doc),
                "IngressClass" => {
                    round_trips::<k8s_openapi::api::networking::v1::IngressClass>(&doc)
                }
                other => panic!("{}: unexpected kind {other}", v.file),
            }
        }
    }
}

#[test]
fn with_istio_the_pod_is_set_up_as_istio_agent_needs() {
    let docs = committed("ako.yaml");
    let sts = find(&docs, "StatefulSet", "ako");
    let template = &sts["spec"]["template"];
    let annotations = &template["metadata"]["annotations"];
    assert_eq!(annotations["sidecar.istio.io/inject"], "true");
    assert_eq!(
        template["metadata"]["labels"]["sidecar.istio.io/inject"],
        "true"
    );
    // No traffic interception: the sidecar is there for the certificate only.
    assert_eq!(
        annotations["traffic.sidecar.istio.io/includeInboundPorts"],
        ""
    );
    assert_eq!(
        annotations["traffic.sidecar.istio.io/includeOutboundIPRanges"],
        ""
    );
    let proxy_config: Value =
        serde_saphyr::from_str(annotations["proxy.istio.io/config"].as_str().unwrap()).unwrap();
    assert_eq!(proxy_config["proxyMetadata"]["OUTPUT_CERTS"], CERT_DIR);
    let user_mounts: Value = serde_json::from_str(
        annotations["sidecar.istio.io/userVolumeMount"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        user_mounts,
        json!([{"name": "istio-certs", "mountPath": CERT_DIR}])
    );

    // The certificate volume lives in memory, and istio-proxy is its only writer.
    let volumes = template["spec"]["volumes"].as_array().unwrap();
    assert_eq!(
        volumes,
        &vec![json!({"name": "istio-certs", "emptyDir": {"medium": "Memory"}})]
    );
    let cs = containers(&docs);
    let names: Vec<&str> = cs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["ako", "ako-gateway-api"]);
    for c in &cs {
        let mounts = c.volume_mounts.as_ref().unwrap();
        assert_eq!(mounts.len(), 1, "{}", c.name);
        assert_eq!(mounts[0].name, "istio-certs");
        assert_eq!(mounts[0].mount_path, CERT_DIR);
        assert_eq!(
            mounts[0].read_only,
            Some(true),
            "{} mounts it writable",
            c.name
        );
        let env = env_of(c);
        assert_eq!(env["ISTIO_ENABLED"].as_deref(), Some("true"), "{}", c.name);
        assert_eq!(
            env["SERVICE_TYPE"].as_deref(),
            Some("ClusterIP"),
            "{}",
            c.name
        );
    }
    assert_eq!(
        env_of(&cs[0])["ISTIO_OUTPUT_CERTS"].as_deref(),
        Some(CERT_DIR)
    );
    // The principal AuthorizationPolicies name is that of this account.
    assert_eq!(template["spec"]["serviceAccountName"], "ako-sa");
    find(&docs, "ServiceAccount", "ako-sa");
    assert_eq!(
        find(&docs, "GatewayClass", "avi-lb")["spec"]["controllerName"],
        "ako.vmware.com/avi-lb"
    );
}

#[test]
fn without_istio_there_is_no_sidecar_and_no_certificate_volume() {
    let docs = committed("ako-nodeport-no-istio.yaml");
    let template = &find(&docs, "StatefulSet", "ako")["spec"]["template"];
    assert!(
        template["metadata"].get("annotations").is_none(),
        "{template}"
    );
    assert!(template["spec"].get("volumes").is_none());
    for c in containers(&docs) {
        assert!(c.volume_mounts.is_none(), "{}", c.name);
        let env = env_of(&c);
        assert_eq!(env["ISTIO_ENABLED"].as_deref(), Some("false"));
        assert_eq!(env["SERVICE_TYPE"].as_deref(), Some("NodePort"));
    }
}

#[test]
fn containers_run_as_non_root_with_probes_on_their_metrics_port() {
    for v in VARIANTS {
        let docs = committed(v.file);
        let sts = find(&docs, "StatefulSet", "ako");
        let pod = &sts["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{}", v.file);
        assert_eq!(pod["securityContext"]["runAsUser"], 65532);
        for c in containers(&docs) {
            let sc = c.security_context.as_ref().unwrap();
            assert_eq!(sc.allow_privilege_escalation, Some(false), "{}", c.name);
            assert_eq!(sc.read_only_root_filesystem, Some(true), "{}", c.name);
            let port = &c.ports.as_ref().unwrap()[0];
            let port_name = port.name.clone().unwrap();
            let addr = env_of(&c)["METRICS_ADDR"].clone().unwrap();
            assert_eq!(
                addr,
                format!("0.0.0.0:{}", port.container_port),
                "{}: the probes' port is not where the container serves",
                c.name
            );
            for (probe, path) in [
                (c.liveness_probe.as_ref(), "/healthz"),
                (c.readiness_probe.as_ref(), "/readyz"),
            ] {
                let get = probe
                    .and_then(|p| p.http_get.as_ref())
                    .unwrap_or_else(|| panic!("{}: no {path} probe", c.name));
                assert_eq!(get.path.as_deref(), Some(path));
                assert_eq!(
                    get.port,
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                        port_name.clone()
                    )
                );
            }
        }
        // The Service scrapes the same ports.
        let svc = find(&docs, "Service", "ako");
        let ports: Vec<&str> = svc["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["targetPort"].as_str().unwrap())
            .collect();
        assert_eq!(ports, ["ako-metrics", "gw-metrics"]);
    }
}

#[test]
fn a_standby_replica_does_not_stall_rollouts() {
    // A standby never turns ready (only the leader syncs), so with two replicas there is no
    // readiness probe; the liveness probes stay.
    let rendered = render(
        &manifests::chart_dir(&root()),
        &manifests::release(),
        &[json!({"replicaCount": 2})],
    )
    .unwrap();
    let docs = parse_documents(&rendered).unwrap();
    assert_eq!(find(&docs, "StatefulSet", "ako")["spec"]["replicas"], 2);
    for c in containers(&docs) {
        assert!(c.readiness_probe.is_none(), "{}", c.name);
        assert!(c.liveness_probe.is_some(), "{}", c.name);
    }
}

#[test]
fn the_gateway_api_feature_gate_removes_the_container_and_its_cluster_access() {
    let rendered = render(
        &manifests::chart_dir(&root()),
        &manifests::release(),
        &[json!({"featureGates": {"GatewayAPI": false}})],
    )
    .unwrap();
    let docs = parse_documents(&rendered).unwrap();
    let kinds: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        !kinds.contains(&("ClusterRole", "ako-gateway-api")),
        "{kinds:?}"
    );
    assert!(
        !kinds.iter().any(|(k, _)| *k == "GatewayClass"),
        "{kinds:?}"
    );
    // The ako container still serves Ingresses.
    assert!(kinds.contains(&("ClusterRole", "ako-ingress")), "{kinds:?}");
    let names: Vec<String> = containers(&docs).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["ako"]);
}

#[test]
fn switching_ingresses_off_removes_the_ingress_class_and_its_cluster_access() {
    let rendered = render(
        &manifests::chart_dir(&root()),
        &manifests::release(),
        &[json!({"L7Settings": {"ingressEnabled": false}})],
    )
    .unwrap();
    let docs = parse_documents(&rendered).unwrap();
    let kinds: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        !kinds.contains(&("ClusterRole", "ako-ingress")),
        "{kinds:?}"
    );
    assert!(
        !kinds.iter().any(|(k, _)| *k == "IngressClass"),
        "{kinds:?}"
    );
    let ako = containers(&docs)
        .into_iter()
        .find(|c| c.name == "ako")
        .unwrap();
    assert_eq!(env_of(&ako)["INGRESS_ENABLED"].as_deref(), Some("false"));
    // By default: the class avi-lb, the cluster's default, and AKO's shard size.
    let default = parse_documents(
        &render(&manifests::chart_dir(&root()), &manifests::release(), &[]).unwrap(),
    )
    .unwrap();
    let class = find(&default, "IngressClass", "avi-lb");
    assert_eq!(class["spec"]["controller"], "ako.vmware.com/avi-lb");
    assert_eq!(
        class["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"],
        "true"
    );
    let ako = containers(&default)
        .into_iter()
        .find(|c| c.name == "ako")
        .unwrap();
    let env = env_of(&ako);
    assert_eq!(env["SHARD_VS_SIZE"].as_deref(), Some("LARGE"));
    assert_eq!(env["ENABLE_EVH"].as_deref(), Some("false"));
}

async fn start_kube() -> (KubeSim, kube::Client) {
    let kube = KubeSim::start(SimConfig::default()).await.unwrap();
    let mut crds = kube_sim::crds::gateway_api();
    crds.extend(kube_sim::crds::ako());
    crds.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "avi-system"}}));
    kube.install(crds).unwrap();
    let client = kube::Client::try_from(kube::Config::new(kube.url().parse().unwrap())).unwrap();
    (kube, client)
}

/// Server-side applies every document as `kubectl apply --server-side` would; returns what
/// the server stored.
async fn apply_all(client: &kube::Client, docs: &[Value]) -> Vec<Value> {
    let mut stored = Vec::new();
    for doc in docs {
        let api_version = doc["apiVersion"].as_str().unwrap();
        let kind = doc["kind"].as_str().unwrap();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = kube::discovery::pinned_kind(client, &gvk)
            .await
            .unwrap_or_else(|e| panic!("{api_version} {kind} is not served: {e}"));
        let name = doc["metadata"]["name"].as_str().unwrap();
        let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Namespaced {
            let ns = doc["metadata"]["namespace"]
                .as_str()
                .unwrap_or_else(|| panic!("{kind} {name} has no namespace"));
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            assert!(
                doc["metadata"].get("namespace").is_none(),
                "cluster-scoped {kind} {name} has a namespace"
            );
            Api::all_with(client.clone(), &ar)
        };
        let obj = api
            .patch(name, &PatchParams::apply("deploy-test"), &Patch::Apply(doc))
            .await
            .unwrap_or_else(|e| panic!("{kind} {name}: {e}"));
        stored.push(serde_json::to_value(obj).unwrap());
    }
    stored
}

#[tokio::test]
async fn every_object_server_side_applies() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    for v in VARIANTS {
        let (_kube, client) = start_kube().await;
        let docs = committed(v.file);
        let stored = apply_all(&client, &docs).await;
        for (doc, got) in docs.iter().zip(&stored) {
            let what = format!("{}: {} {}", v.file, doc["kind"], doc["metadata"]["name"]);
            for field in ["spec", "rules", "roleRef", "subjects", "data"] {
                assert_eq!(doc.get(field), got.get(field), "{what}: {field}");
            }
            assert_eq!(
                doc["metadata"]["labels"], got["metadata"]["labels"],
                "{what}"
            );
        }
        // Applying the same manifests again changes nothing, as with `kubectl apply` twice.
        let again = apply_all(&client, &docs).await;
        for (first, second) in stored.iter().zip(&again) {
            let what = format!(
                "{}: {} {}",
                v.file, first["kind"], first["metadata"]["name"]
            );
            assert_eq!(first.get("spec"), second.get("spec"), "{what}");
            assert_eq!(
                first["metadata"]["generation"], second["metadata"]["generation"],
                "{what}"
            );
        }
    }
}

/// Documents keyed by kind, namespace and name, comments and order aside.
fn normalised(docs: Vec<Value>) -> BTreeMap<String, Value> {
    docs.into_iter()
        .map(|d| {
            let key = format!(
                "{}/{}/{}",
                d["kind"].as_str().unwrap_or_default(),
                d["metadata"]["namespace"].as_str().unwrap_or_default(),
                d["metadata"]["name"].as_str().unwrap_or_default()
            );
            (key, d)
        })
        .collect()
}

#[test]
fn helm_template_gives_the_same_documents_when_helm_is_installed() {
    let helm_found = Command::new("helm")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !helm_found {
        eprintln!(
            "skipped: no `helm` on PATH, so `helm template` was not compared with deploy/manifests/ \
             (the renderer's output was checked by the other tests)"
        );
        return;
    }
    for v in VARIANTS {
        let out = Command::new("helm")
            .args(manifests::helm_command(v))
            .current_dir(root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helm {}: {}",
            manifests::helm_command(v).join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        let helm = normalised(parse_documents(&String::from_utf8(out.stdout).unwrap()).unwrap());
        let ours = normalised(committed(v.file));
        assert_eq!(
            helm.keys().collect::<Vec<_>>(),
            ours.keys().collect::<Vec<_>>(),
            "{}",
            v.file
        );
        for (k, doc) in &ours {
            assert_eq!(&helm[k], doc, "{}: {k}", v.file);
        }
    }
}

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

/// The variables `<bin> run` reads, from its `--help` (`[env: NAME=...]`).
fn variables_read_by(bin: &Path) -> Vec<String> {
    let out = Command::new(bin).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    help.split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split(['=', ']']).next())
        .map(str::to_owned)
        .collect()
}

/// The container's environment as the kubelet would give it, for a pod `pod` in `namespace`.
fn kubelet_env(c: &Container, namespace: &str, pod: &str) -> Vec<(String, String)> {
    c.env
        .iter()
        .flatten()
        .map(|e| {
            let value = match (&e.value, &e.value_from) {
                (Some(v), _) => v.clone(),
                (None, Some(from)) => {
                    match from.field_ref.as_ref().map(|f| f.field_path.as_str()) {
                        Some("metadata.namespace") => namespace.to_owned(),
                        Some("metadata.name") => pod.to_owned(),
                        other => panic!("{}: unexpected valueFrom {other:?}", e.name),
                    }
                }
                (None, None) => String::new(),
            };
            (e.name.clone(), value)
        })
        .collect()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binaries_run_with_the_manifest_s_environment() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let avi = AviSim::builder().start().await.unwrap();
    let (kube, client) = start_kube().await;
    // What a user sets: the controller, its credentials, the cluster name.
    let release = Release {
        name: "ako".into(),
        namespace: "avi-system".into(),
    };
    let values = json!({
        "AKOSettings": {"clusterName": "prod"},
        "ControllerSettings": {"controllerHost": avi.base_url()},
        "avicredentials": {"username": "admin", "password": "avi123"},
    });
    let rendered = render(&manifests::chart_dir(&root()), &release, &[values]).unwrap();
    let docs = parse_documents(&rendered).unwrap();
    apply_all(&client, &docs).await;

    let work = tempfile::tempdir().unwrap();
    let kubeconfig = work.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kube.kubeconfig()).unwrap();
    // What istio-proxy writes into the shared volume.
    let certs = work.path().join("istio-output-certs");
    std::fs::create_dir(&certs).unwrap();
    let ca = IstioCa::new(CaOptions::default()).unwrap();
    let workload = WorkloadRequest {
        namespace: "avi-system".into(),
        service_account: "ako-sa".into(),
        ..WorkloadRequest::default()
    };
    OutputCertsWriter::new(&certs)
        .write(&ca.issue(&workload).unwrap())
        .unwrap();

    let mut ports = Vec::new();
    let mut procs = Vec::new();
    let mut logs = Vec::new();
    for c in containers(&docs) {
        let bin_name = c.command.as_ref().unwrap()[0]
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let bin = binary(&bin_name);
        let known = variables_read_by(&bin);
        let mut env = kubelet_env(&c, "avi-system", "ako-0");
        for (name, _) in &env {
            // RUST_LOG is the log filter, read by the logger rather than by the flag parser.
            assert!(
                name == "RUST_LOG" || known.contains(name),
                "{}: {name} is not a variable `{bin_name} run` reads ({known:?})",
                c.name
            );
        }
        // Only the machine differs from the pod: a free loopback port, a temporary directory
        // where the volume is mounted, and a kubeconfig instead of the in-cluster account.
        let port = free_port();
        for (name, value) in &mut env {
            match name.as_str() {
                "METRICS_ADDR" => *value = format!("127.0.0.1:{port}"),
                "ISTIO_OUTPUT_CERTS" => {
                    assert_eq!(value, CERT_DIR);
                    *value = certs.display().to_string();
                }
                _ => {}
            }
        }
        env.push(("KUBECONFIG".into(), kubeconfig.display().to_string()));
        let log = work.path().join(format!("{}.log", c.name));
        let mut cmd = Command::new(&bin);
        cmd.args(c.args.clone().unwrap_or_default())
            .env_clear()
            .envs(env)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        procs.push(Proc(cmd.spawn().unwrap()));
        ports.push(port);
        logs.push(log);
    }
    let logs: Vec<&Path> = logs.iter().map(PathBuf::as_path).collect();

    eventually("both containers are ready", &logs, || async {
        ready(ports[0]).await && ready(ports[1]).await
    })
    .await;
    // The ako container published the certificate where the gateway container looks for it.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "avi-system");
    let secret = secrets.get("istio-secret").await.unwrap();
    let keys: Vec<&String> = secret.data.as_ref().unwrap().keys().collect();
    assert_eq!(keys, ["cert-chain", "key", "root-cert"]);
    // The chart's GatewayClass is the one the gateway container serves.
    let classes: Api<gateway_api::gatewayclasses::GatewayClass> = Api::all(client.clone());
    eventually("the GatewayClass avi-lb is accepted", &logs, || {
        let classes = classes.clone();
        async move {
            let c = classes.get("avi-lb").await.unwrap();
            c.status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Accepted" && c.status == "True")
        }
    })
    .await;
    drop(procs);
}
