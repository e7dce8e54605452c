//! The inputs every translator reads: Services, EndpointSlices, Pods, Namespaces, Nodes and
//! Secrets. The runtime watches them once for all translators.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// `(namespace, name)` of an object within one kind; the namespace is empty for cluster-scoped
/// kinds. Maps of one kind are keyed by it; across kinds, [`crate::ObjectKey`] names an object.
pub type NamespacedName = (String, String);

/// The shared inputs, keyed so that arrival order never matters. Objects are shared (`Arc`):
/// a snapshot of the runtime's stores costs the maps, not a copy of every object. `Debug`
/// shows counts only: Secrets hold private keys.
#[derive(Clone, Default)]
pub struct SharedInputs {
    /// Services.
    pub services: BTreeMap<NamespacedName, Arc<Service>>,
    /// EndpointSlices.
    pub endpoint_slices: BTreeMap<NamespacedName, Arc<EndpointSlice>>,
    /// Nodes by name.
    pub nodes: BTreeMap<String, Arc<Node>>,
    /// Namespaces by name.
    pub namespaces: BTreeMap<String, Arc<Namespace>>,
    /// Pods (metadata is what matters: sidecar annotations, mesh labels).
    pub pods: BTreeMap<NamespacedName, Arc<Pod>>,
    /// Secrets (TLS certificates; the runtime keeps only the keys a translator reads).
    pub secrets: BTreeMap<NamespacedName, Arc<Secret>>,
}

impl std::fmt::Debug for SharedInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedInputs")
            .field("services", &self.services.len())
            .field("endpoint_slices", &self.endpoint_slices.len())
            .field("nodes", &self.nodes.len())
            .field("namespaces", &self.namespaces.len())
            .field("pods", &self.pods.len())
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

/// The key of any namespaced object within its kind.
pub fn key_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> NamespacedName {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Why a shared input could not be added.
#[derive(Debug, thiserror::Error)]
#[error("{kind} {name}: {detail}")]
pub struct InvalidObject {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// The parse error.
    pub detail: String,
}

impl SharedInputs {
    /// Adds an object given as JSON if it is of a shared kind (`Ok(true)`); `Ok(false)` for any
    /// other kind. The object must carry its namespace (see [`crate::translator::Snapshot`]).
    pub fn insert_json(&mut self, value: &serde_json::Value) -> Result<bool, InvalidObject> {
        let text = |k: &str| {
            value
                .pointer(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (api_version, kind) = (text("/apiVersion"), text("/kind"));
        let (ns, name) = (text("/metadata/namespace"), text("/metadata/name"));
        fn parse<T: serde::de::DeserializeOwned>(
            v: &serde_json::Value,
            kind: &str,
            name: &str,
        ) -> Result<Arc<T>, InvalidObject> {
            T::deserialize(v).map(Arc::new).map_err(|e| InvalidObject {
                kind: kind.to_owned(),
                name: name.to_owned(),
                detail: redact_values(&e.to_string()),
            })
        }
        let key = (ns, name.clone());
        match (api_version.as_str(), kind.as_str()) {
            ("v1", "Service") => {
                self.services.insert(key, parse(value, &kind, &name)?);
            }
            ("discovery.k8s.io/v1", "EndpointSlice") => {
                self.endpoint_slices
                    .insert(key, parse(value, &kind, &name)?);
            }
            ("v1", "Node") => {
                self.nodes.insert(name.clone(), parse(value, &kind, &name)?);
            }
            ("v1", "Namespace") => {
                self.namespaces
                    .insert(name.clone(), parse(value, &kind, &name)?);
            }
            ("v1", "Pod") => {
                self.pods.insert(key, parse(value, &kind, &name)?);
            }
            ("v1", "Secret") => {
                self.secrets.insert(key, parse(value, &kind, &name)?);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether `kind` of `api_version` is a shared input.
    pub fn is_shared(api_version: &str, kind: &str) -> bool {
        matches!(
            (api_version, kind),
            ("v1", "Service" | "Node" | "Namespace" | "Pod" | "Secret")
                | ("discovery.k8s.io/v1", "EndpointSlice")
        )
    }
}

/// A parse error without the values it quotes (`invalid type: string "…"`): the value may be a
/// Secret's key material, and errors end up on terminals and in logs. What is left names the
/// field and the type expected.
pub fn redact_values(detail: &str) -> String {
    let mut out = String::with_capacity(detail.len());
    let mut chars = detail.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        // Skip to the closing quote (serde escapes quotes inside with a backslash).
        let mut escaped = false;
        for q in chars.by_ref() {
            match (escaped, q) {
                (false, '\\') => escaped = true,
                (false, '"') => break,
                _ => escaped = false,
            }
        }
        out.push_str("\"…\"");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_never_quote_the_value() {
        let key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\\\"x\n";
        let secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "tls", "namespace": "apps"}, "data": key});
        let err = SharedInputs::default()
            .insert_json(&secret)
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("MIGHAgEA") && !err.contains("PRIVATE"),
            "{err}"
        );
        assert!(err.contains("invalid type"), "{err}");
        assert_eq!(redact_values(r#"a "b\"c" d"#), "a \"…\" d");
    }
}
