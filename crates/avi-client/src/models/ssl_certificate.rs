//! `SSLCertificate` and its parts: a certificate as the controller parses it, shared by
//! [`SslKeyAndCertificate`](super::SslKeyAndCertificate) and [`PkiProfile`](super::PkiProfile).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

wire_enum! {
    /// `SSLCertificate.expiry_status`.
    pub enum SslCertificateExpiryStatus {
        /// `SSL_CERTIFICATE_GOOD`.
        default Good = "SSL_CERTIFICATE_GOOD",
        /// `SSL_CERTIFICATE_EXPIRY_WARNING`.
        ExpiryWarning = "SSL_CERTIFICATE_EXPIRY_WARNING",
        /// `SSL_CERTIFICATE_EXPIRED`.
        Expired = "SSL_CERTIFICATE_EXPIRED",
    }
}

wire_enum! {
    /// `SSLKeyParams.algorithm`.
    pub enum SslKeyAlgorithm {
        /// `SSL_KEY_ALGORITHM_RSA`.
        default Rsa = "SSL_KEY_ALGORITHM_RSA",
        /// `SSL_KEY_ALGORITHM_EC`.
        Ec = "SSL_KEY_ALGORITHM_EC",
    }
}

/// A certificate (`SSLCertificate`). On write only `certificate` (the PEM) is needed; the
/// controller parses it and fills in the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SslCertificate {
    /// The certificate (chain) in PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// A certificate signing request, for a pending certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_signing_request: Option<String>,
    /// Whether the chain was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_verified: Option<bool>,
    /// Validity requested when the controller generates a certificate (default 365); not a
    /// countdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_until_expire: Option<u32>,
    /// Good, expiring or expired (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_status: Option<SslCertificateExpiryStatus>,
    /// `SHA1 Fingerprint=AA:BB:...` (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The issuer (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<SslCertificateDescription>,
    /// The subject (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<SslCertificateDescription>,
    /// The key's algorithm and size (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_params: Option<SslKeyParams>,
    /// `YYYY-MM-DD HH:MM:SS` UTC (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` UTC (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// The public key in PEM (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Whether it is self-signed (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_signed: Option<bool>,
    /// The serial number in decimal (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// The signature (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The signature algorithm, e.g. `sha256WithRSAEncryption` (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    /// Subject alternative names (computed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_alt_names: Vec<String>,
    /// An OpenSSL-style text dump (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The X.509 version (computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SslCertificate {
    /// A certificate given as PEM, as a create body carries it.
    pub fn from_pem(pem: impl Into<String>) -> Self {
        SslCertificate {
            certificate: Some(pem.into()),
            ..SslCertificate::default()
        }
    }
}

/// An issuer or subject (`SSLCertificateDescription`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SslCertificateDescription {
    /// CN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    /// C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The whole name, e.g. `C=US, ST=CA, L=San Francisco, O=IT, CN=app2-cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinguished_name: Option<String>,
    /// emailAddress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// L.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// O.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// OU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_unit: Option<String>,
    /// ST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A key's parameters (`SSLKeyParams`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SslKeyParams {
    /// RSA or EC.
    #[serde(default)]
    pub algorithm: SslKeyAlgorithm,
    /// RSA parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsa_params: Option<SslKeyRsaParams>,
    /// EC parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec_params: Option<SslKeyEcParams>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// RSA key parameters (`SSLKeyRSAParams`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SslKeyRsaParams {
    /// `SSL_KEY_2048_BITS` etc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_size: Option<String>,
    /// The public exponent (65537).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exponent: Option<u32>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// EC key parameters (`SSLKeyECParams`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SslKeyEcParams {
    /// `SSL_KEY_EC_CURVE_SECP256R1` etc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
