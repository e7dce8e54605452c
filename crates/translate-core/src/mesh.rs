//! Is a backend in the Istio mesh, and how? Sidecar pods take mTLS from the Service Engine;
//! ambient pods cannot be reached by plain mTLS (ztunnel speaks HBONE on 15008); pods outside
//! the mesh speak plaintext. `shared/reference/istio.md` §3.4.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;

use crate::endpoints::SliceIndex;
use crate::inputs::SharedInputs;

/// How a backend's pods are meshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshMode {
    /// Every known pod has an Istio sidecar (or, with no pods known, the namespace injects one).
    Sidecar,
    /// Some pod is in ambient mode.
    Ambient,
    /// Some pods have a sidecar and some none (a rollout in progress).
    Mixed,
    /// Not in the mesh.
    Outside,
}

const SIDECAR_STATUS: &str = "sidecar.istio.io/status";
const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";

fn label<'a>(labels: Option<&'a BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    labels.and_then(|l| l.get(key)).map(String::as_str)
}

/// The mesh mode of one pod in a namespace with `ns_labels`.
fn pod_mode(pod: &Pod, ns_labels: Option<&BTreeMap<String, String>>) -> MeshMode {
    let meta = &pod.metadata;
    // Sidecar injection wins over ambient (istio.md: "pod selection logic").
    if meta
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(SIDECAR_STATUS))
    {
        return MeshMode::Sidecar;
    }
    let pod_mode = label(meta.labels.as_ref(), DATAPLANE_MODE);
    if pod_mode == Some("none") {
        return MeshMode::Outside;
    }
    if pod_mode == Some("ambient") || label(ns_labels, DATAPLANE_MODE) == Some("ambient") {
        return MeshMode::Ambient;
    }
    MeshMode::Outside
}

/// The mesh mode of Service `namespace/name`, from its pods (found through its EndpointSlices'
/// `targetRef`s), or from its namespace's labels when no pod is known yet.
pub fn mesh_mode(snapshot: &SharedInputs, namespace: &str, name: &str) -> MeshMode {
    mesh_mode_with(
        snapshot,
        &SliceIndex::of_namespace(snapshot, namespace),
        namespace,
        name,
    )
}

/// [`mesh_mode`] with the slices looked up in `index`.
pub fn mesh_mode_with(
    snapshot: &SharedInputs,
    index: &SliceIndex<'_>,
    namespace: &str,
    name: &str,
) -> MeshMode {
    let ns_labels = snapshot
        .namespaces
        .get(namespace)
        .and_then(|n| n.metadata.labels.as_ref());
    let pods: Vec<&Pod> = index
        .slices(namespace, name)
        .iter()
        .flat_map(|s| s.endpoints.iter())
        .filter_map(|ep| ep.target_ref.as_ref())
        .filter(|r| r.kind.as_deref() == Some("Pod"))
        .filter_map(|r| {
            snapshot
                .pods
                .get(&(namespace.to_owned(), r.name.clone().unwrap_or_default()))
                .map(|p| &**p)
        })
        .collect();
    if pods.is_empty() {
        if label(ns_labels, DATAPLANE_MODE) == Some("ambient") {
            return MeshMode::Ambient;
        }
        let injects = label(ns_labels, "istio-injection") == Some("enabled")
            || label(ns_labels, "istio.io/rev").is_some();
        return if injects {
            MeshMode::Sidecar
        } else {
            MeshMode::Outside
        };
    }
    let modes: Vec<MeshMode> = pods.iter().map(|p| pod_mode(p, ns_labels)).collect();
    if modes.contains(&MeshMode::Ambient) {
        MeshMode::Ambient
    } else if modes.iter().all(|m| *m == MeshMode::Sidecar) {
        MeshMode::Sidecar
    } else if modes.contains(&MeshMode::Sidecar) {
        MeshMode::Mixed
    } else {
        MeshMode::Outside
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn snap(ns_labels: Value, pods: &[Value]) -> SharedInputs {
        let mut s = SharedInputs::default();
        s.namespaces.insert(
            "apps".into(),
            serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "apps", "labels": ns_labels}}))
            .unwrap(),
        );
        let mut endpoints = Vec::new();
        for (i, p) in pods.iter().enumerate() {
            let name = format!("web-{i}");
            let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "apps"}});
            pod["metadata"]["labels"] = p["labels"].clone();
            pod["metadata"]["annotations"] = p["annotations"].clone();
            s.pods.insert(
                ("apps".into(), name.clone()),
                serde_json::from_value(pod).unwrap(),
            );
            endpoints.push(json!({"addresses": [format!("10.0.0.{i}")], "targetRef": {"kind": "Pod", "name": name, "namespace": "apps"}}));
        }
        s.endpoint_slices.insert(("apps".into(), "web-x".into()), serde_json::from_value(json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": "web-x", "namespace": "apps", "labels": {"kubernetes.io/service-name": "web"}},
            "endpoints": endpoints})).unwrap());
        s
    }

    const SIDECAR: fn() -> Value = || json!({"annotations": {"sidecar.istio.io/status": "{}"}});

    #[test]
    fn pods_decide_when_known() {
        assert_eq!(
            mesh_mode(&snap(json!({}), &[SIDECAR(), SIDECAR()]), "apps", "web"),
            MeshMode::Sidecar
        );
        assert_eq!(
            mesh_mode(&snap(json!({}), &[SIDECAR(), json!({})]), "apps", "web"),
            MeshMode::Mixed
        );
        assert_eq!(
            mesh_mode(&snap(json!({}), &[json!({})]), "apps", "web"),
            MeshMode::Outside
        );
        // Ambient namespace, but the sidecar wins for an injected pod.
        assert_eq!(
            mesh_mode(
                &snap(json!({"istio.io/dataplane-mode": "ambient"}), &[SIDECAR()]),
                "apps",
                "web"
            ),
            MeshMode::Sidecar
        );
        assert_eq!(
            mesh_mode(
                &snap(json!({"istio.io/dataplane-mode": "ambient"}), &[json!({})]),
                "apps",
                "web"
            ),
            MeshMode::Ambient
        );
        // A pod opting out of ambient.
        let none = json!({"labels": {"istio.io/dataplane-mode": "none"}});
        assert_eq!(
            mesh_mode(
                &snap(json!({"istio.io/dataplane-mode": "ambient"}), &[none]),
                "apps",
                "web"
            ),
            MeshMode::Outside
        );
    }

    #[test]
    fn namespace_labels_decide_without_pods() {
        assert_eq!(
            mesh_mode(
                &snap(json!({"istio-injection": "enabled"}), &[]),
                "apps",
                "web"
            ),
            MeshMode::Sidecar
        );
        assert_eq!(
            mesh_mode(&snap(json!({"istio.io/rev": "1-24"}), &[]), "apps", "web"),
            MeshMode::Sidecar
        );
        assert_eq!(
            mesh_mode(
                &snap(json!({"istio.io/dataplane-mode": "ambient"}), &[]),
                "apps",
                "web"
            ),
            MeshMode::Ambient
        );
        assert_eq!(
            mesh_mode(&snap(json!({}), &[]), "apps", "web"),
            MeshMode::Outside
        );
    }
}
