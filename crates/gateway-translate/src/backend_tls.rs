//! Which TLS a pool speaks to its backend — one rule for every pool, highest first:
//!
//! 1. a RouteBackendExtension's `backendTLS`;
//! 2. a BackendTLSPolicy on the Service port (an invalid one makes the backend invalid: never
//!    plaintext);
//! 3. Istio mTLS for a backend in the mesh in sidecar mode (or every backend with
//!    `istio_backends = all`, AKO's behaviour);
//! 4. plaintext.
//!
//! Rungs 3 and 4 are the translation core's ([`translate_core::mesh_tls`]), shared with every
//! other translator.

use serde::{Deserialize, Serialize};

use translate_core::mesh_tls::MeshTls;

use crate::endpoints::SliceIndex;
use crate::settings::{IstioRefs, Settings};
use crate::snapshot::Snapshot;

/// AKO's RouteBackendExtension (`ako.vmware.com/v1alpha1`): the part this crate reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteBackendExtension {
    /// Object metadata.
    pub metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    /// Spec.
    #[serde(default)]
    pub spec: RouteBackendExtensionSpec,
}

/// `spec` of a RouteBackendExtension.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteBackendExtensionSpec {
    /// TLS towards the backend.
    #[serde(
        default,
        rename = "backendTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub backend_tls: Option<ExtensionBackendTls>,
}

/// `spec.backendTLS`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionBackendTls {
    /// The PKI profile that validates the backend's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pki_profile: Option<ExtensionRef>,
    /// Check the backend certificate's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_check_enabled: Option<bool>,
    /// Names the backend certificate must carry (with host check).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domain_name: Vec<String>,
}

/// A `{kind, name}` reference (`kind: CRD` names an ako-crd-operator PKIProfile CR).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRef {
    /// `CRD` or `AVIREF`.
    pub kind: String,
    /// Name.
    pub name: String,
}

/// The TLS a pool speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendTls {
    /// Plaintext.
    Plain,
    /// From a RouteBackendExtension: re-encryption with `System-Standard`.
    Extension {
        /// PKI profile name on the controller.
        pki_profile: Option<String>,
        /// Host check.
        host_check: bool,
        /// Names to check.
        domain_names: Vec<String>,
    },
    /// Istio mTLS: the `ako` container's PKI profile and workload certificate.
    Istio(IstioRefs),
    /// Istio mTLS is wanted but the Istio objects are not on the controller yet.
    IstioPending,
    /// From a BackendTLSPolicy: its PKI profile (to create), SNI and name checks.
    Policy(Box<crate::backend_tls_policy::TlsToBackend>),
}

impl BackendTls {
    /// Whether this came from the mesh rung, which reads the backend's pods: it may change
    /// when only the endpoints change.
    pub fn depends_on_endpoints(&self) -> bool {
        matches!(
            self,
            BackendTls::Plain | BackendTls::Istio(_) | BackendTls::IstioPending
        )
    }
}

/// A decision and what the route's status should say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The TLS.
    pub tls: BackendTls,
    /// A warning for the route status and a Warning Event (ambient backend, refs pending, ...).
    pub warning: Option<String>,
    /// A fact for the route status and a Normal Event (a backend outside the mesh gets plain
    /// HTTP).
    pub note: Option<String>,
}

/// The PKI profile name of an ako-crd-operator PKIProfile CR (`ako-crd-operator-<cluster>--<sha1(ns-name)>`).
pub fn crd_pki_profile_name(cluster: &str, namespace: &str, name: &str) -> String {
    format!(
        "ako-crd-operator-{cluster}--{}",
        crate::names::sha1_hex(&format!("{namespace}-{name}"))
    )
}

/// Decides the TLS towards Service `namespace/name`, given the RouteBackendExtension its
/// backendRef names (if any).
pub fn decide(
    snapshot: &Snapshot,
    settings: &Settings,
    namespace: &str,
    name: &str,
    extension: Option<&RouteBackendExtension>,
) -> Decision {
    let index = SliceIndex::of_namespace(snapshot, namespace);
    let backend = Backend {
        namespace,
        name,
        port: None,
    };
    match decide_with(
        snapshot,
        &index,
        settings,
        &Default::default(),
        backend,
        extension,
    ) {
        Ok(d) => d,
        // Without policies there is nothing to be invalid.
        Err(_) => Decision {
            tls: BackendTls::Plain,
            warning: None,
            note: None,
        },
    }
}

/// A Service port a pool reaches.
#[derive(Debug, Clone, Copy)]
pub struct Backend<'a> {
    /// Namespace.
    pub namespace: &'a str,
    /// Service name.
    pub name: &'a str,
    /// Service port (BackendTLSPolicies target ports); `None` skips the policy rung.
    pub port: Option<i32>,
}

/// [`decide`] with the EndpointSlices looked up in `index` and the BackendTLSPolicies: `Err`
/// when a policy applies but cannot be honoured (the backend is then invalid; `.0` the policy,
/// `.1` why).
pub fn decide_with(
    snapshot: &Snapshot,
    index: &SliceIndex<'_>,
    settings: &Settings,
    policies: &crate::backend_tls_policy::BackendTlsPolicies,
    backend: Backend<'_>,
    extension: Option<&RouteBackendExtension>,
) -> Result<Decision, (crate::snapshot::ObjectKey, String)> {
    use crate::backend_tls_policy::PolicyOutcome;
    let Backend {
        namespace,
        name,
        port,
    } = backend;
    if let Some(tls) = extension.and_then(|e| e.spec.backend_tls.as_ref()) {
        let ext_ns = extension
            .and_then(|e| e.metadata.namespace.clone())
            .unwrap_or_else(|| namespace.to_owned());
        let pki_profile = tls.pki_profile.as_ref().map(|p| match p.kind.as_str() {
            "CRD" => crd_pki_profile_name(&settings.cluster_name, &ext_ns, &p.name),
            _ => p.name.clone(),
        });
        return Ok(Decision {
            tls: BackendTls::Extension {
                pki_profile,
                host_check: tls.host_check_enabled.unwrap_or(false),
                domain_names: tls.domain_name.clone(),
            },
            warning: None,
            note: None,
        });
    }
    match port.and_then(|p| policies.for_backend(namespace, name, p)) {
        Some(PolicyOutcome::Valid(tls)) => {
            return Ok(Decision {
                tls: BackendTls::Policy(tls.clone()),
                warning: None,
                note: None,
            });
        }
        Some(PolicyOutcome::Invalid {
            policy, message, ..
        }) => return Err((policy.clone(), message.clone())),
        None => {}
    }
    // The rung every translator shares: the mesh decides.
    let d = translate_core::mesh_tls::decide(snapshot, index, settings, namespace, name);
    Ok(Decision {
        tls: match d.tls {
            MeshTls::Plain => BackendTls::Plain,
            MeshTls::Istio(refs) => BackendTls::Istio(refs),
            MeshTls::IstioPending => BackendTls::IstioPending,
        },
        warning: d.warning,
        note: d.note,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::settings::IstioBackends;

    fn mesh_snapshot(ns_labels: serde_json::Value) -> Snapshot {
        let mut s = Snapshot::default();
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

    #[test]
    fn precedence_extension_then_istio_then_plain() {
        let s = mesh_snapshot(json!({"istio-injection": "enabled"}));
        let ext: RouteBackendExtension = serde_json::from_value(json!({"metadata": {"name": "rbe", "namespace": "apps"},
            "spec": {"backendTLS": {"pkiProfile": {"kind": "CRD", "name": "pki-profile-tls-01"}, "hostCheckEnabled": true,
                     "domainName": ["backend.example.com"]}}})).unwrap();
        let d = decide(
            &s,
            &istio(true, IstioBackends::Mesh),
            "apps",
            "web",
            Some(&ext),
        );
        let BackendTls::Extension {
            pki_profile,
            host_check,
            domain_names,
        } = d.tls
        else {
            panic!("{d:?}")
        };
        assert_eq!(
            pki_profile.as_deref(),
            Some(crd_pki_profile_name("cluster", "apps", "pki-profile-tls-01").as_str())
        );
        assert!(host_check);
        assert_eq!(domain_names, ["backend.example.com"]);

        let d = decide(&s, &istio(true, IstioBackends::Mesh), "apps", "web", None);
        assert_eq!(
            d.tls,
            BackendTls::Istio(IstioRefs::for_cluster("cluster", "avi-system"))
        );
        assert_eq!(
            decide(&s, &Settings::default(), "apps", "web", None).tls,
            BackendTls::Plain
        );
    }

    #[test]
    fn ako_vector_for_crd_pki_profiles() {
        // ako-upstream.md §6.3: sha1("default-pki-profile-tls-01").
        assert_eq!(
            crd_pki_profile_name("cluster", "default", "pki-profile-tls-01"),
            "ako-crd-operator-cluster--0b6ba42e8d5697de9305a54bb9495ab58b13233a"
        );
    }
}
