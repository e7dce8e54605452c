//! `PKIProfile` (`/api/pkiprofile`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Marker, SslCertificate, Tenant};
use crate::reference::AviRef;

/// A PKI profile: the CA certificates a pool validates its servers' certificates against (or a
/// virtual service its clients'). AKO creates one from Istio's root certificate.
///
/// `crl_check` defaults to true on the controller, and a profile without CRLs then fails
/// validation: send `crl_check: Some(false)` unless CRLs are given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PkiProfile {
    /// The name (unique per tenant, and per cloud for cloud-scoped types).
    pub name: String,
    /// The uuid the controller assigned (`<type>-<uuid4>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The object's own URL (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Microseconds since the epoch of the last write (read-only).
    #[serde(
        rename = "_last_modified",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified: Option<String>,
    /// The tenant it belongs to (the request's tenant when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_ref: Option<AviRef<Tenant>>,
    /// Who created it; AKO writes `ako-<cluster>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Markers (labels for RBAC and ownership), e.g. `clustername`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// Trusted CA certificates (root and intermediate); on write only the PEM is needed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_certs: Vec<SslCertificate>,
    /// Check revocation through CRLs (controller default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_check: Option<bool>,
    /// Trust only the configured CAs, not intermediates the peer presents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_peer_chain: Option<bool>,
    /// Check only the leaf's revocation (controller default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_only_leaf_crl: Option<bool>,
    /// Errors to ignore during verification: `ALLOW_EXPIRED_CRL` or `ALLOW_ALL_ERRORS` (30.1.1+).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_pki_errors: Vec<String>,
    /// Whether it is replicated across a GSLB federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_federated: Option<bool>,
    /// Fields this client does not model (`crls`, ...), kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(PkiProfile, PkiProfile);
