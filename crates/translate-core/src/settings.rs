//! What a translation needs to know about the deployment.

/// How the Service Engines reach backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ServiceType {
    /// Pool members are pod IPs and target ports.
    #[default]
    ClusterIP,
    /// Pool members are node IPs and the Service's nodePort.
    NodePort,
}

/// Which backends get Istio mTLS when Istio is on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IstioBackends {
    /// Only backends in the mesh in sidecar mode (the default, and the correct choice).
    #[default]
    Mesh,
    /// Every backend, as AKO does.
    All,
}

/// The Avi objects the `ako` container publishes for the Istio workload certificate, present
/// only once they exist on the controller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IstioRefs {
    /// PKIProfile `istio-pki-<cluster>-<namespace>`.
    pub pki_profile: String,
    /// SSLKeyAndCertificate `istio-workload-<cluster>-<namespace>`.
    pub ssl_key_and_certificate: String,
}

impl IstioRefs {
    /// The names AKO uses for a cluster and the AKO namespace.
    pub fn for_cluster(cluster: &str, namespace: &str) -> Self {
        IstioRefs {
            pki_profile: format!("istio-pki-{cluster}-{namespace}"),
            ssl_key_and_certificate: format!("istio-workload-{cluster}-{namespace}"),
        }
    }
}

/// Which container the translation runs in: it decides `created_by` of every object, as AKO
/// sets it, so that each container owns (and may delete) only its own objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Component {
    /// The `ako` container (Ingress): `created_by: ako-<cluster>`.
    Ako,
    /// The `ako-gateway-api` container: `created_by: ako-gw-<cluster>-<namespace>`.
    #[default]
    GatewayApi,
}

/// The deployment's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The container whose objects these are.
    pub component: Component,
    /// `CLUSTER_NAME`.
    pub cluster_name: String,
    /// `POD_NAMESPACE`: where AKO runs.
    pub ako_namespace: String,
    /// `TENANT`.
    pub tenant: String,
    /// The controller name we serve: a GatewayClass's `controllerName`, an IngressClass's
    /// `spec.controller` (`ako.vmware.com/avi-lb` for both).
    pub controller_name: String,
    /// `SERVICE_TYPE`.
    pub service_type: ServiceType,
    /// `ISTIO_ENABLED`.
    pub istio_enabled: bool,
    /// Which backends get Istio mTLS.
    pub istio_backends: IstioBackends,
    /// The Istio Avi objects, once they exist.
    pub istio_refs: Option<IstioRefs>,
    /// The controller API version objects are written for (`X-Avi-Version`, AKO's
    /// `controllerVersion`): fields newer than it are not used.
    pub controller_version: String,
    /// `VIP_NETWORK_LIST`: the network VIPs are allocated from (the first entry).
    pub vip_networks: Vec<crate::vip::VipNetwork>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            component: Component::GatewayApi,
            cluster_name: "cluster".into(),
            ako_namespace: "avi-system".into(),
            tenant: "admin".into(),
            controller_name: "ako.vmware.com/avi-lb".into(),
            service_type: ServiceType::ClusterIP,
            istio_enabled: false,
            istio_backends: IstioBackends::Mesh,
            istio_refs: None,
            controller_version: "22.1.3".into(),
            vip_networks: Vec::new(),
        }
    }
}

impl Settings {
    /// `created_by` of every object this container makes: `ako-<cluster>` for `ako`,
    /// `ako-gw-<cluster>-<ns>` for the gateway container (AKO's values).
    pub fn created_by(&self) -> String {
        match self.component {
            Component::Ako => format!("ako-{}", self.cluster_name),
            Component::GatewayApi => format!("ako-gw-{}-{}", self.cluster_name, self.ako_namespace),
        }
    }

    /// Whether an HTTP policy may answer any status code (`other_status_code`, Avi 30.2.1+).
    pub fn answers_any_status(&self) -> bool {
        version_at_least(&self.controller_version, [30, 2, 1])
    }

    /// Whether a PKI profile may let every error through (`allow_pki_errors:
    /// [ALLOW_ALL_ERRORS]`, Avi 30.1.1+).
    pub fn allows_pki_errors(&self) -> bool {
        version_at_least(&self.controller_version, [30, 1, 1])
    }

    /// The name prefix of the gateway container's objects: `ako-gw-<cluster>--`.
    pub fn name_prefix(&self) -> String {
        format!("ako-gw-{}--", self.cluster_name)
    }
}

/// `version` (`22.1.3`, `30.2.1-9000`) is at least `min`; an unparsable version is not.
fn version_at_least(version: &str, min: [u32; 3]) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.').map(str::parse::<u32>);
    let mut have = [0u32; 3];
    for slot in &mut have {
        match parts.next() {
            Some(Ok(n)) => *slot = n,
            Some(Err(_)) => return false,
            None => break,
        }
    }
    have >= min
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_versions_compare_numerically() {
        assert!(version_at_least("30.2.1", [30, 2, 1]));
        assert!(version_at_least("31.1.1-9000", [30, 2, 1]));
        assert!(version_at_least("30.10", [30, 2, 1]));
        assert!(!version_at_least("22.1.3", [30, 2, 1]));
        assert!(!version_at_least("30.2", [30, 2, 1]));
        assert!(!version_at_least("latest", [30, 2, 1]));
    }
}
