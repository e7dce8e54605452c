//! The Gateway API features this implementation supports, by their conformance names
//! (`pkg/features` of Gateway API v1.5.1): what `GatewayClass.status.supportedFeatures` lists,
//! and what the conformance report (`cargo xtask conformance`) claims. A feature is listed
//! only when every conformance test that needs it has a passing test here; the report's
//! freshness test checks that.

/// Supported features, sorted (the status field is a sorted list-map of at most 64).
pub const SUPPORTED: &[&str] = &[
    "BackendTLSPolicy",
    "GRPCRoute",
    "GRPCRouteNamedRouteRule",
    "Gateway",
    "GatewayAddressEmpty",
    "GatewayBackendClientCertificate",
    "GatewayFrontendClientCertificateValidation",
    "GatewayFrontendClientCertificateValidationInsecureFallback",
    "GatewayHTTPListenerIsolation",
    "GatewayPort8080",
    "GatewayStaticAddresses",
    "HTTPRoute",
    "HTTPRoute303RedirectStatusCode",
    "HTTPRoute307RedirectStatusCode",
    "HTTPRouteBackendProtocolH2C",
    "HTTPRouteBackendProtocolWebSocket",
    "HTTPRouteBackendTimeout",
    "HTTPRouteCORS",
    "HTTPRouteHostRewrite",
    "HTTPRouteMethodMatching",
    "HTTPRouteNamedRouteRule",
    "HTTPRouteParentRefPort",
    "HTTPRoutePathRedirect",
    "HTTPRoutePathRewrite",
    "HTTPRoutePortRedirect",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteRequestTimeout",
    "HTTPRouteResponseHeaderModification",
    "HTTPRouteSchemeRedirect",
    "ListenerSet",
    "ReferenceGrant",
    "TLSRoute",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_within_the_status_limit() {
        assert!(SUPPORTED.windows(2).all(|w| w[0] < w[1]));
        assert!(SUPPORTED.len() <= 64);
    }
}
