//! The Kubernetes objects a translation reads, keyed so that arrival order never matters.

use std::collections::BTreeMap;

use gateway_api::gatewayclasses::GatewayClass;
use gateway_api::gateways::Gateway;
use gateway_api::httproutes::HttpRoute;
use gateway_api::referencegrants::ReferenceGrant;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub type ObjectKey = (String, String);

/// Everything the translation reads. Maps are ordered by key, so the same objects give the same
/// snapshot whatever order they were inserted in.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// GatewayClasses by name.
    pub gateway_classes: BTreeMap<String, GatewayClass>,
    /// Gateways.
    pub gateways: BTreeMap<ObjectKey, Gateway>,
    /// HTTPRoutes.
    pub http_routes: BTreeMap<ObjectKey, HttpRoute>,
    /// ReferenceGrants.
    pub reference_grants: BTreeMap<ObjectKey, ReferenceGrant>,
    /// AKO RouteBackendExtensions.
    pub route_backend_extensions: BTreeMap<ObjectKey, crate::backend_tls::RouteBackendExtension>,
    /// Services.
    pub services: BTreeMap<ObjectKey, Service>,
    /// EndpointSlices.
    pub endpoint_slices: BTreeMap<ObjectKey, EndpointSlice>,
    /// Nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// Namespaces by name.
    pub namespaces: BTreeMap<String, Namespace>,
    /// Pods (metadata is what matters).
    pub pods: BTreeMap<ObjectKey, Pod>,
    /// Secrets (listener certificates).
    pub secrets: BTreeMap<ObjectKey, Secret>,
    /// ConfigMaps (BackendTLSPolicy CA certificates).
    pub config_maps: BTreeMap<ObjectKey, ConfigMap>,
}

/// The key of any namespaced Kubernetes object.
pub fn key_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> ObjectKey {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}
