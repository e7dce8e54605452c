//! `ApplicationPersistenceProfile` (`/api/applicationpersistenceprofile`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AesHmacKey, Marker, SecretKey, Tenant};
use crate::reference::AviRef;

wire_enum! {
    /// `ApplicationPersistenceProfile.persistence_type`.
    pub enum PersistenceType {
        /// `PERSISTENCE_TYPE_CLIENT_IP_ADDRESS`.
        default ClientIpAddress = "PERSISTENCE_TYPE_CLIENT_IP_ADDRESS",
        /// `PERSISTENCE_TYPE_HTTP_COOKIE`.
        HttpCookie = "PERSISTENCE_TYPE_HTTP_COOKIE",
        /// `PERSISTENCE_TYPE_TLS`.
        Tls = "PERSISTENCE_TYPE_TLS",
        /// `PERSISTENCE_TYPE_CLIENT_IPV6_ADDRESS`.
        ClientIpv6Address = "PERSISTENCE_TYPE_CLIENT_IPV6_ADDRESS",
        /// `PERSISTENCE_TYPE_CUSTOM_HTTP_HEADER`.
        CustomHttpHeader = "PERSISTENCE_TYPE_CUSTOM_HTTP_HEADER",
        /// `PERSISTENCE_TYPE_APP_COOKIE`.
        AppCookie = "PERSISTENCE_TYPE_APP_COOKIE",
        /// `PERSISTENCE_TYPE_GSLB_SITE`.
        GslbSite = "PERSISTENCE_TYPE_GSLB_SITE",
    }
}

/// A persistence profile: keeps a client on the same server (a pool refers to it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplicationPersistenceProfile {
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
    /// How clients are persisted (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence_type: Option<PersistenceType>,
    /// Settings for [`PersistenceType::HttpCookie`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_cookie_persistence_profile: Option<HttpCookiePersistenceProfile>,
    /// What to do when the persisted server is down, e.g. `HM_DOWN_PICK_NEW_SERVER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_hm_down_recovery: Option<String>,
    /// Whether it is replicated across a GSLB federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_federated: Option<bool>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(ApplicationPersistenceProfile, ApplicationPersistenceProfile);

/// HTTP cookie persistence settings (`HTTPCookiePersistenceProfile`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpCookiePersistenceProfile {
    /// The cookie's name (the controller generates one when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_name: Option<String>,
    /// Minutes of persistence (0 = session cookie / no expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Send the cookie on every response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_send_cookie: Option<bool>,
    /// Whether the cookie is persistent (has an expiry) rather than a session cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_persistent_cookie: Option<bool>,
    /// The key encrypting the cookie (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<SecretKey>,
    /// Keys for the cookie (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key: Vec<AesHmacKey>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
