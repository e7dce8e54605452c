//! `ApplicationProfile` (`/api/applicationprofile`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Marker, PkiProfile, Tenant};
use crate::reference::AviRef;

/// An application profile: how a virtual service (or one of its ports, through
/// `services[].override_application_profile_ref`) speaks its application protocol. Controllers
/// ship `System-HTTP`, `System-Secure-HTTP`, `System-L4-Application` and others; a controller
/// creates its own for settings those lack, such as asking clients for certificates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplicationProfile {
    /// The name (unique per tenant).
    pub name: String,
    /// The uuid the controller assigned.
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
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `APPLICATION_PROFILE_TYPE_HTTP`, `..._L4`, `..._SSL`, ... (required by the controller).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The HTTP settings (type HTTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_profile: Option<HttpApplicationProfile>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(ApplicationProfile, ApplicationProfile);

/// `APPLICATION_PROFILE_TYPE_HTTP`.
pub const APPLICATION_PROFILE_TYPE_HTTP: &str = "APPLICATION_PROFILE_TYPE_HTTP";

/// The HTTP part of an application profile (`HTTPApplicationProfile`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpApplicationProfile {
    /// Whether clients are asked for a certificate on the TLS ports:
    /// [`SslClientCertificateMode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_client_certificate_mode: Option<SslClientCertificateMode>,
    /// The CAs a client certificate must chain to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pki_profile_ref: Option<AviRef<PkiProfile>>,
    /// Fields this client does not model (`x_forwarded_proto_enabled`, ...), kept for
    /// read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

wire_enum! {
    /// Client certificates on a TLS port (`ssl_client_certificate_mode`).
    pub enum SslClientCertificateMode {
        /// Not asked for (the controller's default).
        default None = "SSL_CLIENT_CERTIFICATE_NONE",
        /// Asked for; a client without one is served, a certificate that fails the PKI
        /// profile is refused unless the profile allows errors.
        Request = "SSL_CLIENT_CERTIFICATE_REQUEST",
        /// Required: a client without a valid one fails the handshake.
        Require = "SSL_CLIENT_CERTIFICATE_REQUIRE",
    }
}
