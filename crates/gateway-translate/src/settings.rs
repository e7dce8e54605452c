//! What the translation needs to know about the deployment.

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

/// The deployment's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `CLUSTER_NAME`.
    pub cluster_name: String,
    /// `POD_NAMESPACE`: where AKO runs.
    pub ako_namespace: String,
    /// `TENANT`.
    pub tenant: String,
    /// The GatewayClass controllerName we serve.
    pub controller_name: String,
    /// `SERVICE_TYPE`.
    pub service_type: ServiceType,
    /// `ISTIO_ENABLED`.
    pub istio_enabled: bool,
    /// Which backends get Istio mTLS.
    pub istio_backends: IstioBackends,
    /// The Istio Avi objects, once they exist.
    pub istio_refs: Option<IstioRefs>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cluster_name: "cluster".into(),
            ako_namespace: "avi-system".into(),
            tenant: "admin".into(),
            controller_name: "ako.vmware.com/avi-lb".into(),
            service_type: ServiceType::ClusterIP,
            istio_enabled: false,
            istio_backends: IstioBackends::Mesh,
            istio_refs: None,
        }
    }
}

impl Settings {
    /// `created_by` of every object the gateway container makes: `ako-gw-<cluster>-<ns>`.
    pub fn created_by(&self) -> String {
        format!("ako-gw-{}-{}", self.cluster_name, self.ako_namespace)
    }

    /// The name prefix of every object: `ako-gw-<cluster>--`.
    pub fn name_prefix(&self) -> String {
        format!("ako-gw-{}--", self.cluster_name)
    }
}
