//! The Istio rung of the backend-TLS decision, the one every translator shares: Istio mTLS
//! for a backend in the mesh in sidecar mode (or every backend with
//! [`IstioBackends::All`], AKO's behaviour), waiting while the Istio objects are not confirmed
//! on the controller, and plaintext otherwise. A translator with higher rungs (the Gateway
//! API's RouteBackendExtension and BackendTLSPolicy) asks them first and falls back to this.

use crate::endpoints::SliceIndex;
use crate::inputs::SharedInputs;
use crate::mesh::{MeshMode, mesh_mode_with};
use crate::settings::{IstioBackends, IstioRefs, Settings};

/// The TLS a pool speaks as the mesh decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshTls {
    /// Plaintext.
    Plain,
    /// Istio mTLS: the `ako` container's PKI profile and workload certificate.
    Istio(IstioRefs),
    /// Istio mTLS is wanted but the Istio objects are not confirmed on the controller: a new
    /// pool gets no TLS, an existing pool keeps the TLS the controller holds
    /// ([`crate::AviModel::pools_keeping_tls`]).
    IstioPending,
}

/// A decision and what the object's status should say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshDecision {
    /// The TLS.
    pub tls: MeshTls,
    /// A warning for the status and a Warning Event (ambient backend, refs pending, ...).
    pub warning: Option<String>,
    /// A fact for the status and a Normal Event (a backend outside the mesh gets plain HTTP).
    pub note: Option<String>,
}

impl MeshDecision {
    fn plain() -> Self {
        MeshDecision {
            tls: MeshTls::Plain,
            warning: None,
            note: None,
        }
    }
}

/// Decides the TLS towards Service `namespace/name` by the mesh rule, with the EndpointSlices
/// looked up in `index`.
pub fn decide(
    inputs: &SharedInputs,
    index: &SliceIndex<'_>,
    settings: &Settings,
    namespace: &str,
    name: &str,
) -> MeshDecision {
    if !settings.istio_enabled {
        return MeshDecision::plain();
    }
    let mode = mesh_mode_with(inputs, index, namespace, name);
    let wants_istio = match (mode, settings.istio_backends) {
        (MeshMode::Ambient, _) => {
            return MeshDecision {
                tls: MeshTls::Plain,
                warning: Some(format!(
                    "backend {namespace}/{name} is in Istio ambient mode: the Service Engine cannot reach it with mTLS \
                     (ztunnel expects HBONE); enable sidecar injection for it or exclude it from ambient"
                )),
                note: None,
            };
        }
        (MeshMode::Sidecar | MeshMode::Mixed, _) | (MeshMode::Outside, IstioBackends::All) => true,
        (MeshMode::Outside, IstioBackends::Mesh) => false,
    };
    if !wants_istio {
        return MeshDecision {
            tls: MeshTls::Plain,
            warning: None,
            note: Some(format!(
                "backend {namespace}/{name} is outside the mesh (no Istio sidecar): plain HTTP, no Istio mTLS"
            )),
        };
    }
    let outside = (mode == MeshMode::Outside).then(|| {
        format!(
            "backend {namespace}/{name} is outside the mesh but gets Istio mTLS (ISTIO_BACKENDS=all, AKO's behaviour): \
             it must accept the Service Engine's mTLS itself"
        )
    });
    let mixed = (mode == MeshMode::Mixed).then(|| {
        format!("backend {namespace}/{name} has pods with and without an Istio sidecar; those without cannot take mTLS")
    });
    match &settings.istio_refs {
        Some(refs) => MeshDecision {
            tls: MeshTls::Istio(refs.clone()),
            warning: mixed.or(outside),
            note: None,
        },
        None => {
            // Said of the backend as it is: an outside backend with ISTIO_BACKENDS=all waits for
            // the same certificates, but is not "in the mesh".
            let whose = match mode {
                MeshMode::Outside => "is outside the mesh but gets Istio mTLS (ISTIO_BACKENDS=all)",
                MeshMode::Mixed => "has pods with and without an Istio sidecar",
                _ => "is in the mesh",
            };
            MeshDecision {
                tls: MeshTls::IstioPending,
                warning: Some(format!(
                    "backend {namespace}/{name} {whose}; waiting for the Istio certificates to be published on the Avi controller"
                )),
                note: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn inputs(ns_labels: serde_json::Value) -> SharedInputs {
        let mut s = SharedInputs::default();
        s.namespaces.insert(
            "apps".into(),
            serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "apps", "labels": ns_labels}}))
            .unwrap(),
        );
        s
    }

    fn istio(refs: bool, backends: IstioBackends) -> Settings {
        Settings {
            istio_enabled: true,
            istio_backends: backends,
            istio_refs: refs.then(|| IstioRefs::for_cluster("cluster", "avi-system")),
            ..Settings::default()
        }
    }

    fn decide_for(s: &SharedInputs, settings: &Settings) -> MeshDecision {
        decide(s, &SliceIndex::new(s), settings, "apps", "web")
    }

    #[test]
    fn mesh_backends_get_istio_others_plain_ambient_never() {
        let mesh = inputs(json!({"istio-injection": "enabled"}));
        assert_eq!(
            decide_for(&mesh, &istio(true, IstioBackends::Mesh)).tls,
            MeshTls::Istio(IstioRefs::for_cluster("cluster", "avi-system"))
        );
        assert_eq!(decide_for(&mesh, &Settings::default()).tls, MeshTls::Plain);
        let outside = inputs(json!({}));
        let d = decide_for(&outside, &istio(true, IstioBackends::Mesh));
        assert_eq!(d.tls, MeshTls::Plain);
        assert!(d.note.unwrap().contains("outside the mesh"));
        let d = decide_for(&outside, &istio(true, IstioBackends::All));
        assert!(matches!(d.tls, MeshTls::Istio(_)));
        assert!(d.warning.unwrap().contains("ISTIO_BACKENDS=all"));
        let ambient = inputs(json!({"istio.io/dataplane-mode": "ambient"}));
        let d = decide_for(&ambient, &istio(true, IstioBackends::All));
        assert_eq!(d.tls, MeshTls::Plain);
        assert!(d.warning.unwrap().contains("ambient"));
    }

    #[test]
    fn mesh_backends_wait_for_the_istio_objects() {
        let s = inputs(json!({"istio-injection": "enabled"}));
        let d = decide_for(&s, &istio(false, IstioBackends::Mesh));
        assert_eq!(d.tls, MeshTls::IstioPending);
        assert!(
            d.warning
                .unwrap()
                .contains("waiting for the Istio certificates")
        );
    }

    #[test]
    fn an_outside_backend_waiting_for_the_certificates_is_not_said_to_be_in_the_mesh() {
        let outside = inputs(json!({}));
        let waiting = decide_for(&outside, &istio(false, IstioBackends::All))
            .warning
            .unwrap();
        assert!(waiting.contains("outside the mesh"), "{waiting}");
        assert!(!waiting.contains("in the mesh"), "{waiting}");
        let published = decide_for(&outside, &istio(true, IstioBackends::All))
            .warning
            .unwrap();
        assert!(published.contains("outside the mesh"), "{published}");
    }
}
