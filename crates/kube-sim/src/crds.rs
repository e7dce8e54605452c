//! CRDs shipped as data, so a test or the demo can have the Gateway API and AKO's CRDs served
//! at start: the Gateway API v1.5.1 standard channel (GatewayClass, Gateway, HTTPRoute,
//! GRPCRoute, TLSRoute, ReferenceGrant, BackendTLSPolicy, ListenerSet) and AKO's
//! CRDs (RouteBackendExtension from `shared/reference` by `crds/gen.py`; the others with AKO
//! 1.14's names, scopes, versions and subresources and an open schema).

use serde_json::{Value, json};

/// The Gateway API v1.5.1 standard-channel CRDs.
pub fn gateway_api() -> Vec<Value> {
    parse(include_str!("../crds/gateway-api-v1.5.1.json"))
}

/// AKO's CRDs: RouteBackendExtension (with its schema), and AviInfraSetting, HostRule,
/// HTTPRule, L4Rule, L7Rule, SSORule and the CRD operator's HealthMonitor, ApplicationProfile
/// and PKIProfile (open schemas: kube-sim does not validate CRD schemas).
pub fn ako() -> Vec<Value> {
    let mut crds = parse(include_str!("../crds/ako-crds.json"));
    crds.extend(AKO_CRDS.iter().map(|c| c.crd()));
    crds
}

/// A CRD as AKO 1.14's chart and CRD operator define it: names, scope, versions.
struct AkoCrd {
    kind: &'static str,
    plural: &'static str,
    short: &'static [&'static str],
    namespaced: bool,
    /// `(version, storage)`; every version is served, and the storage one has `status`.
    versions: &'static [(&'static str, bool)],
}

const AKO_CRDS: &[AkoCrd] = &[
    AkoCrd {
        kind: "AviInfraSetting",
        plural: "aviinfrasettings",
        short: &[],
        namespaced: false,
        versions: &[("v1alpha1", false), ("v1beta1", true)],
    },
    AkoCrd {
        kind: "HostRule",
        plural: "hostrules",
        short: &["hostrule", "hr"],
        namespaced: true,
        versions: &[("v1alpha1", false), ("v1beta1", true)],
    },
    AkoCrd {
        kind: "HTTPRule",
        plural: "httprules",
        short: &["httprule"],
        namespaced: true,
        versions: &[("v1alpha1", false), ("v1beta1", true)],
    },
    AkoCrd {
        kind: "L4Rule",
        plural: "l4rules",
        short: &["l4rule"],
        namespaced: true,
        versions: &[("v1alpha2", true)],
    },
    AkoCrd {
        kind: "L7Rule",
        plural: "l7rules",
        short: &["l7rule"],
        namespaced: true,
        versions: &[("v1alpha2", true)],
    },
    AkoCrd {
        kind: "SSORule",
        plural: "ssorules",
        short: &["ssorule"],
        namespaced: true,
        versions: &[("v1alpha2", true)],
    },
    AkoCrd {
        kind: "HealthMonitor",
        plural: "healthmonitors",
        short: &["hm"],
        namespaced: true,
        versions: &[("v1alpha1", true)],
    },
    AkoCrd {
        kind: "ApplicationProfile",
        plural: "applicationprofiles",
        short: &[],
        namespaced: true,
        versions: &[("v1alpha1", true)],
    },
    AkoCrd {
        kind: "PKIProfile",
        plural: "pkiprofiles",
        short: &["pkip"],
        namespaced: true,
        versions: &[("v1alpha1", true)],
    },
];

impl AkoCrd {
    fn crd(&self) -> Value {
        let versions: Vec<Value> = self
            .versions
            .iter()
            .map(|(name, storage)| {
                let mut v = json!({"name": name, "served": true, "storage": storage,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}});
                if *storage {
                    v["subresources"] = json!({"status": {}});
                }
                v
            })
            .collect();
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{}.ako.vmware.com", self.plural)},
            "spec": {
                "group": "ako.vmware.com",
                "scope": if self.namespaced { "Namespaced" } else { "Cluster" },
                "names": {"kind": self.kind, "listKind": format!("{}List", self.kind),
                          "plural": self.plural, "singular": self.kind.to_lowercase(),
                          "shortNames": self.short},
                "versions": versions,
            }
        })
    }
}

fn parse(text: &str) -> Vec<Value> {
    // Embedded data checked by a test; a corrupt file yields no CRDs rather than a panic.
    serde_json::from_str(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_crds_parse() {
        let names: Vec<String> = super::gateway_api()
            .iter()
            .chain(super::ako().iter())
            .map(|c| c["metadata"]["name"].as_str().unwrap().to_owned())
            .collect();
        for expected in [
            "gatewayclasses.gateway.networking.k8s.io",
            "gateways.gateway.networking.k8s.io",
            "httproutes.gateway.networking.k8s.io",
            "referencegrants.gateway.networking.k8s.io",
            "backendtlspolicies.gateway.networking.k8s.io",
            "routebackendextensions.ako.vmware.com",
            "aviinfrasettings.ako.vmware.com",
            "hostrules.ako.vmware.com",
            "httprules.ako.vmware.com",
            "l4rules.ako.vmware.com",
            "l7rules.ako.vmware.com",
            "ssorules.ako.vmware.com",
            "healthmonitors.ako.vmware.com",
            "applicationprofiles.ako.vmware.com",
            "pkiprofiles.ako.vmware.com",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
    }
}
