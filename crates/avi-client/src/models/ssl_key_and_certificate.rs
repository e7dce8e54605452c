//! `SSLKeyAndCertificate` (`/api/sslkeyandcertificate`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Marker, SecretKey, SslCertificate, SslKeyParams, Tenant};
use crate::reference::AviRef;

wire_enum! {
    /// `SSLKeyAndCertificate.type`.
    pub enum SslCertificateType {
        /// `SSL_CERTIFICATE_TYPE_VIRTUALSERVICE`: presented by virtual services, or by pools to
        /// their servers.
        default VirtualService = "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
        /// `SSL_CERTIFICATE_TYPE_SYSTEM`: the controller's own.
        System = "SSL_CERTIFICATE_TYPE_SYSTEM",
        /// `SSL_CERTIFICATE_TYPE_CA`: a CA certificate (no key) that chains are built from.
        Ca = "SSL_CERTIFICATE_TYPE_CA",
    }
}

wire_enum! {
    /// `SSLKeyAndCertificate.format`.
    pub enum SslCertificateFormat {
        /// `SSL_PEM`.
        default Pem = "SSL_PEM",
        /// `SSL_PKCS12`.
        Pkcs12 = "SSL_PKCS12",
    }
}

wire_enum! {
    /// `SSLKeyAndCertificate.status`.
    pub enum SslCertificateStatus {
        /// `SSL_CERTIFICATE_FINISHED`.
        default Finished = "SSL_CERTIFICATE_FINISHED",
        /// `SSL_CERTIFICATE_PENDING`: a CSR awaiting its certificate.
        Pending = "SSL_CERTIFICATE_PENDING",
    }
}

/// A certificate with its private key.
///
/// The controller never returns the key: a POST response has no `key`, a GET has
/// `"key": "<sensitive>"` ([`SecretKey::is_placeholder`]). A PUT that echoes the placeholder
/// keeps the stored key; one that carries a PEM replaces it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SslKeyAndCertificate {
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
    /// The certificate: send `certificate.certificate` (PEM); the controller fills the rest.
    #[serde(default)]
    pub certificate: SslCertificate,
    /// The private key in PEM (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<SecretKey>,
    /// The key's passphrase (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_passphrase: Option<SecretKey>,
    /// What the certificate is for.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<SslCertificateType>,
    /// PEM (default) or PKCS#12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<SslCertificateFormat>,
    /// Whether `certificate.certificate` is base64 encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_base64: Option<bool>,
    /// Whether `key` is base64 encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_base64: Option<bool>,
    /// The CA certificates in its chain (the controller links type-CA certificates itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_certs: Vec<CertificateAuthority>,
    /// Finished, or pending a certificate for a CSR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SslCertificateStatus>,
    /// The key's algorithm and size (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_params: Option<SslKeyParams>,
    /// Enable OCSP stapling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ocsp_stapling: Option<bool>,
    /// An HSM-encrypted private key (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enckey_base64: Option<SecretKey>,
    /// The name of the HSM-encrypted private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enckey_name: Option<String>,
    /// Whether it is replicated across a GSLB federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_federated: Option<bool>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(SslKeyAndCertificate, SslKeyAndCertificate);

/// A CA certificate in a chain (`CertificateAuthority`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertificateAuthority {
    /// The CA certificate's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The CA certificate object (type [`SslCertificateType::Ca`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_ref: Option<AviRef<SslKeyAndCertificate>>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CertificateAuthority {
    /// A chain entry naming a CA certificate object by name, as AKO writes it.
    pub fn by_name(name: impl Into<String>) -> Self {
        let name = name.into();
        CertificateAuthority {
            ca_ref: Some(AviRef::by_name(name.clone())),
            name: Some(name),
            extra: Map::new(),
        }
    }
}
