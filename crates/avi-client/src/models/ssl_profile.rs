//! `SSLProfile` (`/api/sslprofile`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Marker, Tenant};
use crate::reference::AviRef;

wire_enum! {
    /// `SSLVersion.type`.
    pub enum SslVersionType {
        /// `SSL_VERSION_TLS1_2`.
        default Tls1_2 = "SSL_VERSION_TLS1_2",
        /// `SSL_VERSION_TLS1_3`.
        Tls1_3 = "SSL_VERSION_TLS1_3",
        /// `SSL_VERSION_TLS1_1`.
        Tls1_1 = "SSL_VERSION_TLS1_1",
        /// `SSL_VERSION_TLS1`.
        Tls1 = "SSL_VERSION_TLS1",
        /// `SSL_VERSION_SSLV3`.
        Sslv3 = "SSL_VERSION_SSLV3",
    }
}

wire_enum! {
    /// `SSLProfile.type`.
    pub enum SslProfileType {
        /// `SSL_PROFILE_TYPE_APPLICATION`: for virtual services and pools.
        default Application = "SSL_PROFILE_TYPE_APPLICATION",
        /// `SSL_PROFILE_TYPE_SYSTEM`: for the controller's own endpoints.
        System = "SSL_PROFILE_TYPE_SYSTEM",
    }
}

/// An SSL profile: the TLS versions and ciphers a virtual service accepts, or a pool uses to
/// re-encrypt to its servers. System profiles (`System-Standard`, `System-Standard-PFS`) live in
/// the admin tenant and are shared with all tenants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SslProfile {
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
    ///
    /// The 30.2.1 schema has no `created_by` for this type: the controller ignores it, so mark
    /// ownership with `markers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Markers (labels for RBAC and ownership), e.g. `clustername`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Application or system profile.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<SslProfileType>,
    /// Accepted TLS versions (at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_versions: Vec<SslVersion>,
    /// OpenSSL cipher string for TLS 1.2 and below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_ciphers: Option<String>,
    /// Cipher suites as enum names, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cipher_enums: Vec<String>,
    /// TLS 1.3 cipher suites, colon separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphersuites: Option<String>,
    /// Enable session reuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ssl_session_reuse: Option<bool>,
    /// Seconds before a session expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_session_timeout: Option<u32>,
    /// Send close-notify on shutdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_close_notify: Option<bool>,
    /// Prefer the client's cipher order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_client_cipher_ordering: Option<bool>,
    /// Named curves (TLS supported groups), `auto` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec_named_curve: Option<String>,
    /// Signature algorithms, `auto` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    /// Whether it is replicated across a GSLB federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_federated: Option<bool>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(SslProfile, SslProfile);

/// One accepted TLS version (`SSLVersion`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SslVersion {
    /// The version.
    #[serde(rename = "type")]
    pub type_: SslVersionType,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl From<SslVersionType> for SslVersion {
    fn from(type_: SslVersionType) -> Self {
        SslVersion {
            type_,
            extra: Map::new(),
        }
    }
}
