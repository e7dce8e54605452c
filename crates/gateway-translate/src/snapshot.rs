//! The Kubernetes objects a translation reads, keyed so that arrival order never matters.

use std::collections::BTreeMap;
use std::sync::Arc;

use gateway_api::backendtlspolicies::BackendTlsPolicy;
use gateway_api::gatewayclasses::GatewayClass;
use gateway_api::gateways::Gateway;
use gateway_api::grpcroutes::GrpcRoute;
use gateway_api::httproutes::HttpRoute;
use gateway_api::referencegrants::ReferenceGrant;
use k8s_openapi::api::core::v1::ConfigMap;
pub use translate_core::SharedInputs;
pub use translate_core::inputs::key_of;

/// `(namespace, name)` within one kind; the namespace is empty for cluster-scoped objects.
pub type ObjectKey = translate_core::NamespacedName;

/// Everything the translation reads: the inputs every translator shares ([`SharedInputs`],
/// reached through this snapshot as if they were its own fields) and the Gateway API's own.
/// Maps are ordered by key, so the same objects give the same snapshot whatever order they
/// were inserted in. Objects are shared (`Arc`), so a snapshot of a controller's reflector
/// stores costs the maps, not a copy of every object. `Debug` shows counts only: Secrets hold
/// private keys.
#[derive(Clone, Default)]
pub struct Snapshot {
    /// Services, EndpointSlices, Nodes, Namespaces, Pods, Secrets.
    pub shared: Arc<SharedInputs>,
    /// GatewayClasses by name.
    pub gateway_classes: BTreeMap<String, Arc<GatewayClass>>,
    /// Gateways.
    pub gateways: BTreeMap<ObjectKey, Arc<Gateway>>,
    /// HTTPRoutes.
    pub http_routes: BTreeMap<ObjectKey, Arc<HttpRoute>>,
    /// GRPCRoutes.
    pub grpc_routes: BTreeMap<ObjectKey, Arc<GrpcRoute>>,
    /// TLSRoutes.
    pub tls_routes: BTreeMap<ObjectKey, Arc<gateway_api::tlsroutes::TlsRoute>>,
    /// ListenerSets.
    pub listener_sets: BTreeMap<ObjectKey, Arc<gateway_api::listenersets::ListenerSet>>,
    /// ReferenceGrants.
    pub reference_grants: BTreeMap<ObjectKey, Arc<ReferenceGrant>>,
    /// BackendTLSPolicies (`v1`, and `v1alpha3` read into the same type).
    pub backend_tls_policies: BTreeMap<ObjectKey, Arc<BackendTlsPolicy>>,
    /// AKO RouteBackendExtensions.
    pub route_backend_extensions:
        BTreeMap<ObjectKey, Arc<crate::backend_tls::RouteBackendExtension>>,
    /// ConfigMaps (BackendTLSPolicy CA certificates).
    pub config_maps: BTreeMap<ObjectKey, Arc<ConfigMap>>,
    /// Objects of kinds the built-in translation does not read, for custom [`crate::Translator`]s:
    /// keyed by `(apiVersion group, kind)` then `(namespace, name)`.
    pub extra: BTreeMap<(String, String), BTreeMap<ObjectKey, serde_json::Value>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("gateway_classes", &self.gateway_classes.len())
            .field("gateways", &self.gateways.len())
            .field("http_routes", &self.http_routes.len())
            .field("grpc_routes", &self.grpc_routes.len())
            .field("tls_routes", &self.tls_routes.len())
            .field("listener_sets", &self.listener_sets.len())
            .field("reference_grants", &self.reference_grants.len())
            .field("backend_tls_policies", &self.backend_tls_policies.len())
            .field(
                "route_backend_extensions",
                &self.route_backend_extensions.len(),
            )
            .field("shared", &self.shared)
            .field("config_maps", &self.config_maps.len())
            .field(
                "extra",
                &self.extra.values().map(BTreeMap::len).sum::<usize>(),
            )
            .finish()
    }
}

impl std::ops::Deref for Snapshot {
    type Target = SharedInputs;

    fn deref(&self) -> &SharedInputs {
        &self.shared
    }
}

impl std::ops::DerefMut for Snapshot {
    fn deref_mut(&mut self) -> &mut SharedInputs {
        Arc::make_mut(&mut self.shared)
    }
}

/// Why an object could not be added to a snapshot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InsertError {
    /// `apiVersion`/`kind` of an object the translation does not read.
    #[error("{api_version} {kind} is not an input of the translation")]
    Unsupported {
        /// apiVersion.
        api_version: String,
        /// kind.
        kind: String,
    },
    /// The object does not have the shape of its kind.
    #[error("{kind} {name}: {detail}")]
    Invalid {
        /// kind.
        kind: String,
        /// name.
        name: String,
        /// The parse error.
        detail: String,
    },
}

impl Snapshot {
    fn shared_mut(&mut self) -> &mut SharedInputs {
        Arc::make_mut(&mut self.shared)
    }

    /// Adds an object of a kind the built-in translation does not read, for a custom translator.
    pub fn insert_extra(&mut self, value: serde_json::Value) {
        let s = |k: &str| {
            value
                .pointer(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let group = s("/apiVersion")
            .rsplit_once('/')
            .map_or(String::new(), |(g, _)| g.to_owned());
        let key = (s("/metadata/namespace"), s("/metadata/name"));
        self.extra
            .entry((group, s("/kind")))
            .or_default()
            .insert(key, value);
    }

    /// Adds one object given as JSON (as read from a manifest or a watch), dispatching on its
    /// `apiVersion` and `kind`. Namespaced objects without a namespace go to `default`, as
    /// `kubectl apply` would put them.
    pub fn insert_json(&mut self, mut value: serde_json::Value) -> Result<(), InsertError> {
        let text = |v: &serde_json::Value, k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let api_version = text(&value, "apiVersion");
        let kind = text(&value, "kind");
        let name = value
            .pointer("/metadata/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let cluster_scoped = matches!(kind.as_str(), "GatewayClass" | "Node" | "Namespace");
        if !cluster_scoped
            && value.pointer("/metadata/namespace").is_none()
            && let Some(meta) = value
                .get_mut("metadata")
                .and_then(serde_json::Value::as_object_mut)
        {
            meta.insert(
                "namespace".into(),
                serde_json::Value::String("default".into()),
            );
        }
        let ns = value
            .pointer("/metadata/namespace")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let key = (ns, name.clone());
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        fn parse<T: serde::de::DeserializeOwned>(
            v: serde_json::Value,
            kind: &str,
            name: &str,
        ) -> Result<T, InsertError> {
            serde_json::from_value(v).map_err(|e| InsertError::Invalid {
                kind: kind.to_owned(),
                name: name.to_owned(),
                detail: e.to_string(),
            })
        }
        match (group, kind.as_str()) {
            ("gateway.networking.k8s.io", "GatewayClass") => {
                self.gateway_classes
                    .insert(name.clone(), parse(value, &kind, &name).map(Arc::new)?);
            }
            ("gateway.networking.k8s.io", "Gateway") => {
                self.gateways
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            ("gateway.networking.k8s.io", "HTTPRoute") => {
                self.http_routes
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            ("gateway.networking.k8s.io", "GRPCRoute") => {
                self.grpc_routes
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            ("gateway.networking.k8s.io", "ListenerSet") => {
                self.listener_sets
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            ("gateway.networking.k8s.io", "TLSRoute") => {
                self.tls_routes
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            ("gateway.networking.k8s.io", "ReferenceGrant") => {
                self.reference_grants
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            // v1alpha3 (v1.1–v1.3, still served by v1.4) has the same fields as v1, so both
            // read into the v1 type; conformance mixes the two (§6.6 ConflictResolution).
            ("gateway.networking.k8s.io", "BackendTLSPolicy")
                if matches!(
                    api_version.as_str(),
                    "gateway.networking.k8s.io/v1" | "gateway.networking.k8s.io/v1alpha3"
                ) =>
            {
                self.backend_tls_policies
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            ("ako.vmware.com", "RouteBackendExtension") => {
                self.route_backend_extensions
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            ("", "Service" | "Node" | "Namespace" | "Pod" | "Secret")
            | ("discovery.k8s.io", "EndpointSlice") => {
                match self.shared_mut().insert_json(&value) {
                    Ok(true) => {}
                    Ok(false) => return Err(InsertError::Unsupported { api_version, kind }),
                    Err(e) => {
                        return Err(InsertError::Invalid {
                            kind: e.kind,
                            name: e.name,
                            detail: e.detail,
                        });
                    }
                }
            }
            ("", "ConfigMap") => {
                self.config_maps
                    .insert(key, parse(value, &kind, &name).map(Arc::new)?);
            }
            _ => return Err(InsertError::Unsupported { api_version, kind }),
        }
        Ok(())
    }
}
