//! X.509-SVID leaf checks ([`check_leaf_der`], [`check_leaf`]) and
//! [`SvidError`].
//!
//! These are the leaf-certificate rules of `standards/X509-SVID.md`. They do
//! not verify signatures, validity periods or the chain; that is path
//! validation and belongs to the caller.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_X509_EXT_BASIC_CONSTRAINTS, OID_X509_EXT_EXTENDED_KEY_USAGE, OID_X509_EXT_KEY_USAGE,
    OID_X509_EXT_SUBJECT_ALT_NAME, Oid,
};
use x509_parser::prelude::FromDer;

use crate::{SpiffeId, SpiffeIdError};

/// Why a certificate is not a valid X.509-SVID leaf.
///
/// The checks run in the order of the variants below and the first failure
/// is returned.
///
/// # Examples
///
/// ```
/// use spiffe_id::{SvidError, check_leaf_der};
///
/// let err = check_leaf_der(b"not a certificate").unwrap_err();
/// assert!(matches!(err, SvidError::Parse(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SvidError {
    /// The bytes are not one DER-encoded X.509 certificate. Carries the
    /// parser's message.
    #[error("certificate does not parse: {0}")]
    Parse(String),

    /// The certificate has no URI subject alternative name.
    #[error("certificate has no URI SAN; an X.509-SVID has exactly one")]
    NoUriSan,

    /// The certificate has more than one URI subject alternative name.
    #[error("certificate has {count} URI SANs; an X.509-SVID has exactly one")]
    MultipleUriSans {
        /// How many URI SANs were found.
        count: usize,
    },

    /// The URI SAN is not a valid SPIFFE ID; the source says why.
    #[error("the certificate's URI SAN is not a valid SPIFFE ID")]
    InvalidSpiffeId(#[source] SpiffeIdError),

    /// The SPIFFE ID has no path (`spiffe://td`); leaf SVIDs must have one.
    #[error("the leaf's SPIFFE ID has an empty path; a leaf X.509-SVID must name a workload")]
    EmptyPath,

    /// basicConstraints says `cA=true`; a leaf SVID must not be a CA.
    #[error("certificate is a CA (basicConstraints cA=true); a leaf X.509-SVID must not be")]
    IsCa,

    /// The keyUsage extension is missing.
    #[error("certificate has no keyUsage extension; a leaf X.509-SVID must have one")]
    MissingKeyUsage,

    /// keyUsage does not include digitalSignature.
    #[error("certificate keyUsage lacks digitalSignature; a leaf X.509-SVID must have it")]
    MissingDigitalSignature,

    /// keyUsage includes keyCertSign.
    #[error("certificate keyUsage includes keyCertSign; a leaf X.509-SVID must not")]
    KeyCertSignNotAllowed,

    /// keyUsage includes cRLSign.
    #[error("certificate keyUsage includes cRLSign; a leaf X.509-SVID must not")]
    CrlSignNotAllowed,

    /// extendedKeyUsage is present but lacks serverAuth.
    #[error("certificate extendedKeyUsage lacks serverAuth; when present it must include it")]
    EkuMissingServerAuth,

    /// extendedKeyUsage is present but lacks clientAuth.
    #[error("certificate extendedKeyUsage lacks clientAuth; when present it must include it")]
    EkuMissingClientAuth,

    /// One of the extensions checked here (subjectAltName,
    /// basicConstraints, keyUsage, extendedKeyUsage) appears more than once
    /// or its content does not parse.
    #[error("certificate {extension} extension is invalid: {reason}")]
    InvalidExtension {
        /// Name of the extension, e.g. `keyUsage`.
        extension: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Parses one DER certificate and checks it as an X.509-SVID leaf; returns
/// its SPIFFE ID.
///
/// The whole input must be exactly one certificate (trailing bytes are a
/// [`SvidError::Parse`]). Then the checks of [`check_leaf`] apply.
///
/// # Errors
///
/// [`SvidError::Parse`] if `der` is not exactly one certificate, otherwise
/// any error of [`check_leaf`].
///
/// # Examples
///
/// An Istio-shaped workload certificate:
///
/// ```
/// use rcgen::{
///     CertificateParams, DistinguishedName, ExtendedKeyUsagePurpose, IsCa, KeyPair,
///     KeyUsagePurpose, SanType,
/// };
///
/// let mut params = CertificateParams::default();
/// params.distinguished_name = DistinguishedName::new();
/// params.subject_alt_names =
///     vec![SanType::URI("spiffe://cluster.local/ns/avi-system/sa/ako-sa".try_into()?)];
/// params.is_ca = IsCa::ExplicitNoCa;
/// params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
/// params.extended_key_usages =
///     vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
/// let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
/// let cert = params.self_signed(&key)?;
///
/// let id = spiffe_id::check_leaf_der(cert.der())?;
/// assert_eq!(id.principal().as_str(), "cluster.local/ns/avi-system/sa/ako-sa");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_leaf_der(der: &[u8]) -> Result<SpiffeId, SvidError> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| SvidError::Parse(e.to_string()))?;
    if !rest.is_empty() {
        return Err(SvidError::Parse(format!(
            "{} trailing bytes after the certificate",
            rest.len()
        )));
    }
    check_leaf(&cert)
}

/// Checks an already-parsed certificate as an X.509-SVID leaf; returns its
/// SPIFFE ID.
///
/// In order: exactly one URI SAN (other SAN types are allowed); it is a
/// valid [`SpiffeId`]; its path is non-empty; basicConstraints `cA` is false
/// or the extension is absent; keyUsage is present, includes
/// digitalSignature and excludes keyCertSign and cRLSign; if
/// extendedKeyUsage is present it includes serverAuth and clientAuth.
///
/// Not checked here: signature, validity period, chain, criticality of
/// extensions.
///
/// # Errors
///
/// The [`SvidError`] of the first check that fails.
///
/// # Examples
///
/// A CA certificate is refused:
///
/// ```
/// use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose, SanType};
/// use spiffe_id::SvidError;
/// use x509_parser::prelude::{FromDer, X509Certificate};
///
/// let mut params = CertificateParams::default();
/// params.subject_alt_names = vec![SanType::URI("spiffe://cluster.local/ca".try_into()?)];
/// params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
/// params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
/// let cert = params.self_signed(&KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?)?;
///
/// let (_, parsed) = X509Certificate::from_der(cert.der())?;
/// assert_eq!(spiffe_id::check_leaf(&parsed), Err(SvidError::IsCa));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_leaf(cert: &X509Certificate<'_>) -> Result<SpiffeId, SvidError> {
    let id = single_uri_san(cert)?;
    let id = SpiffeId::new(id).map_err(SvidError::InvalidSpiffeId)?;
    if id.path().is_empty() {
        return Err(SvidError::EmptyPath);
    }

    let basic_constraints = extension(
        cert,
        &OID_X509_EXT_BASIC_CONSTRAINTS,
        "basicConstraints",
        |e| match e {
            ParsedExtension::BasicConstraints(bc) => Some(bc),
            _ => None,
        },
    )?;
    if basic_constraints.is_some_and(|bc| bc.ca) {
        return Err(SvidError::IsCa);
    }

    let key_usage = extension(cert, &OID_X509_EXT_KEY_USAGE, "keyUsage", |e| match e {
        ParsedExtension::KeyUsage(ku) => Some(ku),
        _ => None,
    })?
    .ok_or(SvidError::MissingKeyUsage)?;
    if !key_usage.digital_signature() {
        return Err(SvidError::MissingDigitalSignature);
    }
    if key_usage.key_cert_sign() {
        return Err(SvidError::KeyCertSignNotAllowed);
    }
    if key_usage.crl_sign() {
        return Err(SvidError::CrlSignNotAllowed);
    }

    let eku = extension(
        cert,
        &OID_X509_EXT_EXTENDED_KEY_USAGE,
        "extendedKeyUsage",
        |e| match e {
            ParsedExtension::ExtendedKeyUsage(eku) => Some(eku),
            _ => None,
        },
    )?;
    if let Some(eku) = eku {
        if !eku.server_auth {
            return Err(SvidError::EkuMissingServerAuth);
        }
        if !eku.client_auth {
            return Err(SvidError::EkuMissingClientAuth);
        }
    }

    Ok(id)
}

/// The text of the one URI SAN.
fn single_uri_san<'a>(cert: &X509Certificate<'a>) -> Result<&'a str, SvidError> {
    let san = extension(
        cert,
        &OID_X509_EXT_SUBJECT_ALT_NAME,
        "subjectAltName",
        |e| match e {
            ParsedExtension::SubjectAlternativeName(san) => Some(san),
            _ => None,
        },
    )?;
    let mut uris = san
        .into_iter()
        .flat_map(|san| san.general_names.iter())
        .filter_map(|name| match name {
            GeneralName::URI(uri) => Some(*uri),
            _ => None,
        });
    match (uris.next(), uris.next()) {
        (None, _) => Err(SvidError::NoUriSan),
        (Some(uri), None) => Ok(uri),
        (Some(_), Some(_)) => Err(SvidError::MultipleUriSans {
            count: 2 + uris.count(),
        }),
    }
}

/// Finds the extension `oid` (at most once) and picks its parsed value.
/// `Ok(None)` if absent; [`SvidError::InvalidExtension`] if duplicated or
/// unparseable.
fn extension<'c, 'a, T>(
    cert: &'c X509Certificate<'a>,
    oid: &Oid<'_>,
    name: &'static str,
    pick: impl FnOnce(&'c ParsedExtension<'a>) -> Option<&'c T>,
) -> Result<Option<&'c T>, SvidError> {
    let invalid = |reason: String| SvidError::InvalidExtension {
        extension: name,
        reason,
    };
    let Some(ext) = cert
        .get_extension_unique(oid)
        .map_err(|e| invalid(e.to_string()))?
    else {
        return Ok(None);
    };
    match ext.parsed_extension() {
        ParsedExtension::ParseError { error } => Err(invalid(error.to_string())),
        parsed => pick(parsed)
            .map(Some)
            .ok_or_else(|| invalid("unexpected content".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CustomExtension, DistinguishedName,
        ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
    };

    const ISTIO_ID: &str = "spiffe://cluster.local/ns/avi-system/sa/ako-sa";

    fn uri(s: &str) -> SanType {
        SanType::URI(s.try_into().unwrap())
    }

    /// Params for a leaf shaped like an istiod-issued workload cert.
    fn istio_leaf(id: &str) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.subject_alt_names = vec![uri(id)];
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        p
    }

    fn der(params: CertificateParams) -> Vec<u8> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn check(params: CertificateParams) -> Result<SpiffeId, SvidError> {
        check_leaf_der(&der(params))
    }

    #[test]
    fn accepts_istio_workload_leaf() {
        let id = check(istio_leaf(ISTIO_ID)).unwrap();
        assert_eq!(id.as_str(), ISTIO_ID);
        assert_eq!(id.namespace(), Some("avi-system"));
        assert_eq!(id.service_account(), Some("ako-sa"));
        assert_eq!(
            id.principal().as_str(),
            "cluster.local/ns/avi-system/sa/ako-sa"
        );
    }

    #[test]
    fn check_leaf_on_parsed_cert_matches_der_variant() {
        let der = der(istio_leaf(ISTIO_ID));
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        assert_eq!(check_leaf(&cert).unwrap().as_str(), ISTIO_ID);
    }

    #[test]
    fn accepts_without_basic_constraints_and_without_eku() {
        let mut p = istio_leaf(ISTIO_ID);
        p.is_ca = IsCa::NoCa;
        p.extended_key_usages.clear();
        assert_eq!(check(p).unwrap().as_str(), ISTIO_ID);
    }

    #[test]
    fn dns_sans_are_allowed() {
        let mut p = istio_leaf(ISTIO_ID);
        p.subject_alt_names
            .push(SanType::DnsName("ako.avi-system.svc".try_into().unwrap()));
        assert_eq!(check(p).unwrap().as_str(), ISTIO_ID);
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(check_leaf_der(b""), Err(SvidError::Parse(_))));
        assert!(matches!(
            check_leaf_der(b"-----BEGIN CERTIFICATE-----"),
            Err(SvidError::Parse(_))
        ));
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut der = der(istio_leaf(ISTIO_ID));
        der.extend_from_slice(&[0, 0]);
        assert_eq!(
            check_leaf_der(&der),
            Err(SvidError::Parse(
                "2 trailing bytes after the certificate".into()
            ))
        );
    }

    #[test]
    fn rejects_no_uri_san() {
        let mut p = istio_leaf(ISTIO_ID);
        p.subject_alt_names.clear();
        assert_eq!(check(p), Err(SvidError::NoUriSan));

        let mut p = istio_leaf(ISTIO_ID);
        p.subject_alt_names = vec![SanType::DnsName("example.org".try_into().unwrap())];
        assert_eq!(check(p), Err(SvidError::NoUriSan));
    }

    #[test]
    fn rejects_multiple_uri_sans() {
        let mut p = istio_leaf(ISTIO_ID);
        p.subject_alt_names
            .push(uri("spiffe://cluster.local/ns/b/sa/c"));
        assert_eq!(check(p), Err(SvidError::MultipleUriSans { count: 2 }));

        let mut p = istio_leaf(ISTIO_ID);
        p.subject_alt_names.push(uri("https://example.org"));
        p.subject_alt_names.push(uri("spiffe://td/x"));
        assert_eq!(check(p), Err(SvidError::MultipleUriSans { count: 3 }));
    }

    #[test]
    fn rejects_invalid_spiffe_id() {
        assert_eq!(
            check(istio_leaf("https://cluster.local/ns/a/sa/b")),
            Err(SvidError::InvalidSpiffeId(SpiffeIdError::WrongScheme {
                input: "https://cluster.local/ns/a/sa/b".into(),
                scheme: "https".into()
            }))
        );
        assert_eq!(
            check(istio_leaf("spiffe://Cluster.local/ns/a/sa/b")),
            Err(SvidError::InvalidSpiffeId(
                SpiffeIdError::UppercaseTrustDomain {
                    trust_domain: "Cluster.local".into(),
                    ch: 'C'
                }
            ))
        );
    }

    #[test]
    fn invalid_spiffe_id_keeps_source() {
        let err = check(istio_leaf("spiffe://td/a?b")).unwrap_err();
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(
            source.to_string(),
            SpiffeIdError::QueryNotAllowed {
                input: "spiffe://td/a?b".into()
            }
            .to_string()
        );
    }

    #[test]
    fn rejects_empty_path() {
        assert_eq!(
            check(istio_leaf("spiffe://cluster.local")),
            Err(SvidError::EmptyPath)
        );
    }

    #[test]
    fn rejects_ca() {
        let mut p = istio_leaf(ISTIO_ID);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        assert_eq!(check(p), Err(SvidError::IsCa));
    }

    #[test]
    fn rejects_missing_key_usage() {
        let mut p = istio_leaf(ISTIO_ID);
        p.key_usages.clear();
        assert_eq!(check(p), Err(SvidError::MissingKeyUsage));
    }

    #[test]
    fn rejects_missing_digital_signature() {
        let mut p = istio_leaf(ISTIO_ID);
        p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
        assert_eq!(check(p), Err(SvidError::MissingDigitalSignature));
    }

    #[test]
    fn rejects_key_cert_sign() {
        let mut p = istio_leaf(ISTIO_ID);
        p.key_usages.push(KeyUsagePurpose::KeyCertSign);
        assert_eq!(check(p), Err(SvidError::KeyCertSignNotAllowed));
    }

    #[test]
    fn rejects_crl_sign() {
        let mut p = istio_leaf(ISTIO_ID);
        p.key_usages.push(KeyUsagePurpose::CrlSign);
        assert_eq!(check(p), Err(SvidError::CrlSignNotAllowed));
    }

    #[test]
    fn rejects_eku_without_server_auth() {
        let mut p = istio_leaf(ISTIO_ID);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        assert_eq!(check(p), Err(SvidError::EkuMissingServerAuth));

        // anyExtendedKeyUsage does not stand in for serverAuth.
        let mut p = istio_leaf(ISTIO_ID);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
        assert_eq!(check(p), Err(SvidError::EkuMissingServerAuth));
    }

    #[test]
    fn rejects_eku_without_client_auth() {
        let mut p = istio_leaf(ISTIO_ID);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        assert_eq!(check(p), Err(SvidError::EkuMissingClientAuth));
    }

    #[test]
    fn rejects_duplicate_key_usage_extension() {
        let mut p = istio_leaf(ISTIO_ID);
        // keyUsage = digitalSignature: BIT STRING, 7 unused bits, 0x80.
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &[2, 5, 29, 15],
            vec![0x03, 0x02, 0x07, 0x80],
        )];
        assert!(matches!(
            check(p),
            Err(SvidError::InvalidExtension {
                extension: "keyUsage",
                ..
            })
        ));
    }

    #[test]
    fn rejects_unparseable_basic_constraints() {
        let mut p = istio_leaf(ISTIO_ID);
        p.is_ca = IsCa::NoCa;
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &[2, 5, 29, 19],
            vec![0x04, 0x01, 0xff],
        )];
        assert!(matches!(
            check(p),
            Err(SvidError::InvalidExtension {
                extension: "basicConstraints",
                ..
            })
        ));
    }

    #[test]
    fn checks_run_in_documented_order() {
        // A CA cert with keyCertSign and no URI SAN reports the SAN first.
        let mut p = istio_leaf(ISTIO_ID);
        p.subject_alt_names.clear();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        assert_eq!(check(p), Err(SvidError::NoUriSan));

        // With the SAN, cA=true is reported before keyUsage problems.
        let mut p = istio_leaf(ISTIO_ID);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        assert_eq!(check(p), Err(SvidError::IsCa));
    }
}
