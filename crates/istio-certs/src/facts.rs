//! What an operator wants to know about a certificate set, computed once at load.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use spiffe_id::{Principal, SpiffeId};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{OID_EC_P256, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION};

use crate::fingerprint::Fingerprint;

/// The public-key algorithm of the workload key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// RSA (Istio's default, 2048 bits).
    Rsa,
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
}

impl KeyAlgorithm {
    /// `RSA` or `ECDSA`, as operators and Avi name them.
    pub fn family(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "RSA",
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => "ECDSA",
        }
    }
}

/// How `key.pem` encodes the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyEncoding {
    /// `RSA PRIVATE KEY`.
    Pkcs1,
    /// `EC PRIVATE KEY`.
    Sec1,
    /// `PRIVATE KEY` (Istio with `PKCS8_KEY=true`).
    Pkcs8,
}

/// The workload key, described without revealing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// Algorithm.
    pub algorithm: KeyAlgorithm,
    /// Size in bits (modulus for RSA, field size for ECDSA).
    pub bits: u32,
    /// PEM encoding in `key.pem`.
    pub encoding: KeyEncoding,
}

/// One certificate, summarised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    /// Subject DN as text (empty for Istio workload leaves).
    pub subject: String,
    /// Issuer DN as text.
    pub issuer: String,
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whether basicConstraints says CA.
    pub is_ca: bool,
    /// Whether subject and issuer are the same name.
    pub self_signed: bool,
    /// SHA-256 of the DER.
    pub sha256: Fingerprint,
}

impl CertSummary {
    pub(crate) fn of(cert: &X509Certificate<'_>, der: &[u8]) -> Self {
        CertSummary {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial: cert.raw_serial_as_string(),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            is_ca: cert.is_ca(),
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            sha256: Fingerprint::of(der),
        }
    }
}

/// Facts about a validated bundle, for reports, logs and metrics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BundleFacts {
    /// The leaf's SPIFFE ID: the identity the load balancer presents.
    pub spiffe_id: SpiffeId,
    /// What Istio AuthorizationPolicies name that identity by.
    pub principal: Principal,
    /// The leaf's issuer DN.
    pub issuer: String,
    /// The leaf's serial, colon-separated hex.
    pub serial: String,
    /// SHA-256 of the leaf's DER.
    pub sha256_fingerprint: Fingerprint,
    /// Start of the leaf's validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of the leaf's validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The workload key.
    pub key: KeyInfo,
    /// `cert-chain.pem`, in file order (leaf first).
    pub chain: Vec<CertSummary>,
    /// `root-cert.pem`, in file order.
    pub roots: Vec<CertSummary>,
}

impl BundleFacts {
    /// The leaf's whole lifetime.
    pub fn lifetime(&self) -> Duration {
        (self.not_after - self.not_before)
            .try_into()
            .unwrap_or(Duration::ZERO)
    }

    /// Time left until the leaf expires, zero once it has.
    pub fn remaining_at(&self, now: SystemTime) -> Duration {
        (self.not_after - OffsetDateTime::from(now))
            .try_into()
            .unwrap_or(Duration::ZERO)
    }

    /// Time left as a fraction of the lifetime: 1.0 when issued, 0.5 when istio-agent
    /// normally rotates, 0.0 when expired.
    pub fn remaining_fraction_at(&self, now: SystemTime) -> f64 {
        let total = self.lifetime().as_secs_f64();
        if total <= 0.0 {
            return 0.0;
        }
        (self.remaining_at(now).as_secs_f64() / total).clamp(0.0, 1.0)
    }
}

/// Algorithm and size of a certificate's public key, if it is one we support.
pub(crate) fn key_algorithm(cert: &X509Certificate<'_>) -> Option<(KeyAlgorithm, u32)> {
    let spki = cert.public_key();
    let bits = spki.parsed().ok()?.key_size() as u32;
    if spki.algorithm.algorithm == OID_PKCS1_RSAENCRYPTION {
        return Some((KeyAlgorithm::Rsa, bits));
    }
    let curve = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
    if curve == OID_EC_P256 {
        Some((KeyAlgorithm::EcdsaP256, 256))
    } else if curve == OID_NIST_EC_P384 {
        Some((KeyAlgorithm::EcdsaP384, 384))
    } else {
        None
    }
}
