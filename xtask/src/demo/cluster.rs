//! The Kubernetes side: the example manifests, adapted to the local pods, applied as
//! `kubectl apply --server-side` would.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use kube::Api;
use kube::api::{DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::Scope;
use serde_json::{Value, json};

use super::mesh::NODE_IP;

/// The example the demo applies, relative to the repository root.
pub const GUIDE: &str = "examples/manifests/istio-guide.yaml";

/// The namespace of the example's backend.
pub const APP_NAMESPACE: &str = "httpbin";

/// The host name of the example's HTTPRoute.
pub const APP_HOST: &str = "httpbin.example.com";

/// The name of the node in NodePort mode.
pub const NODE_NAME: &str = "demo-node";

/// What the AKO namespace needs before the containers start: the namespace and `avi-secret`.
pub fn ako_namespace(username: &str, password: &str) -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "avi-system"}}),
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "avi-secret", "namespace": "avi-system"},
               "stringData": {"username": username, "password": password}}),
    ]
}

/// How the example was changed to run here.
#[derive(Debug, Clone, Default)]
pub struct Adapted {
    /// The manifests to apply.
    pub docs: Vec<Value>,
    /// One line per change, for the progress output.
    pub changes: Vec<String>,
}

/// The example's manifests with its EndpointSlice pointing at the local `pods` (and a Pod object
/// for each), and in NodePort mode its Service a NodePort Service on `node_port` with a Node
/// at [`NODE_IP`] (the Node's address is status and is set separately, see [`node_status`]).
pub fn adapt_guide(
    yaml: &str,
    pods: &[(String, SocketAddr)],
    node_port: Option<u16>,
) -> anyhow::Result<Adapted> {
    let mut docs: Vec<Value> =
        serde_saphyr::from_multiple(yaml).with_context(|| format!("{GUIDE} is not YAML"))?;
    docs.retain(|d| !d.is_null());
    let mut changes = Vec::new();
    let port = pods.first().map(|(_, a)| a.port()).context("no pods")?;

    let pod_template = docs
        .iter()
        .find(|d| d["kind"] == "Pod")
        .cloned()
        .with_context(|| format!("{GUIDE} has no Pod"))?;
    let slice = docs
        .iter_mut()
        .find(|d| d["kind"] == "EndpointSlice")
        .with_context(|| format!("{GUIDE} has no EndpointSlice"))?;
    let slice_name = slice["metadata"]["name"].as_str().unwrap_or("?").to_owned();
    slice["ports"][0]["port"] = json!(port);
    slice["endpoints"] = Value::Array(
        pods.iter()
            .map(|(name, addr)| {
                let mut ep = json!({
                    "addresses": [addr.ip().to_string()],
                    "conditions": {"ready": true},
                    "targetRef": {"kind": "Pod", "name": name, "namespace": APP_NAMESPACE},
                });
                if node_port.is_some() {
                    ep["nodeName"] = json!(NODE_NAME);
                }
                ep
            })
            .collect(),
    );
    changes.push(format!(
        "EndpointSlice {slice_name}: endpoints {} (the local STRICT pods; loopback addresses stand in for pod IPs), port {port}",
        pods.iter()
            .map(|(_, a)| a.ip().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // One Pod object per endpoint, each with the example Pod's sidecar annotation.
    docs.retain(|d| d["kind"] != "Pod");
    for (name, _) in pods {
        let mut pod = pod_template.clone();
        pod["metadata"]["name"] = json!(name);
        docs.push(pod);
    }
    changes.push(format!(
        "Pods {}: the example's Pod (with its istio-proxy sidecar annotation), one per endpoint",
        pods.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));

    if let Some(node_port) = node_port {
        let service = docs
            .iter_mut()
            .find(|d| d["kind"] == "Service")
            .with_context(|| format!("{GUIDE} has no Service"))?;
        let name = service["metadata"]["name"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        service["spec"]["type"] = json!("NodePort");
        let Some(ports) = service["spec"]["ports"].as_array_mut() else {
            bail!("Service {name} has no ports");
        };
        let Some(first) = ports.first_mut() else {
            bail!("Service {name} has no ports");
        };
        first["nodePort"] = json!(node_port);
        changes.push(format!(
            "Service {name}: type NodePort, nodePort {node_port} (NodePort mode)"
        ));
        docs.push(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE_NAME}}));
        changes.push(format!(
            "Node {NODE_NAME}: InternalIP {NODE_IP}, with a kube-proxy stand-in forwarding {NODE_IP}:{node_port} to the pods"
        ));
    }
    Ok(Adapted { docs, changes })
}

/// The node's addresses, as the kubelet reports them.
pub fn node_status() -> Value {
    json!({"status": {"addresses": [
        {"type": "InternalIP", "address": NODE_IP.to_string()},
        {"type": "Hostname", "address": NODE_NAME},
    ]}})
}

/// Applies every document (server-side apply, field manager `xtask-demo`), in order.
pub async fn apply(client: &kube::Client, docs: &[Value]) -> anyhow::Result<()> {
    for doc in docs {
        let api_version = doc["apiVersion"]
            .as_str()
            .context("a document without apiVersion")?;
        let kind = doc["kind"].as_str().context("a document without kind")?;
        let name = doc["metadata"]["name"]
            .as_str()
            .context("a document without a name")?;
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = kube::discovery::pinned_kind(client, &gvk)
            .await
            .with_context(|| format!("the cluster does not know {api_version} {kind}"))?;
        let api: Api<DynamicObject> = if caps.scope == Scope::Namespaced {
            let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
            Api::namespaced_with(client.clone(), ns, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        api.patch(
            name,
            &PatchParams::apply("xtask-demo").force(),
            &Patch::Apply(doc),
        )
        .await
        .with_context(|| format!("cannot apply {kind} {name}"))?;
    }
    Ok(())
}

/// A one-line description of each document (`Kind namespace/name`).
pub fn describe(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            let name = d["metadata"]["name"].as_str().unwrap_or("?");
            match d["metadata"]["namespace"].as_str() {
                Some(ns) => format!("{} {ns}/{name}", d["kind"].as_str().unwrap_or("?")),
                None => format!("{} {name}", d["kind"].as_str().unwrap_or("?")),
            }
        })
        .collect()
}
