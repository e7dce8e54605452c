//! CRDs shipped as data, so a test or the demo can have the Gateway API and AKO's CRDs served
//! at start: the Gateway API v1.5.1 standard channel (GatewayClass, Gateway, HTTPRoute,
//! GRPCRoute, TLSRoute, ReferenceGrant, BackendTLSPolicy, ListenerSet) and AKO's
//! RouteBackendExtension. Generated from `shared/reference` by `crds/gen.py`.

use serde_json::Value;

/// The Gateway API v1.5.1 standard-channel CRDs.
pub fn gateway_api() -> Vec<Value> {
    parse(include_str!("../crds/gateway-api-v1.5.1.json"))
}

/// AKO's CRDs (RouteBackendExtension).
pub fn ako() -> Vec<Value> {
    parse(include_str!("../crds/ako-crds.json"))
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
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
    }
}
