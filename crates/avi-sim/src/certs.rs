//! Certificate parsing for `sslkeyandcertificate` and `pkiprofile`.
//!
//! The controller parses every uploaded certificate and fills the computed fields of
//! `SSLCertificate` (`shared/reference/avi-api.md` §3.2, §4). This module does the same,
//! following the 20.1.1 captures the emulator is compared against:
//!
//! - [`describe_certificate`] → `version` (zero-based, `"2"` for X.509 v3), `serial_number`
//!   (decimal), `self_signed`, `issuer` / `subject` (`SSLCertificateDescription`),
//!   `subject_alt_names`, `public_key`, `signature_algorithm`, `not_before` / `not_after`,
//!   `fingerprint` (`"SHA1 Fingerprint=AA:..:FF\n"`, with 20.1.1's trailing newline),
//!   `expiry_status`, `days_until_expire` (365, not a countdown) and `text` (OpenSSL 1.0.2's
//!   `x509 -text`);
//! - [`key_params`] → the object's top-level `key_params`;
//! - [`check_key_matches`] → whether the uploaded private key belongs to the certificate.
//!
//! Certificates with an empty subject (Istio workload certificates) are accepted: the
//! "Import error … common_name" 500 of one old controller is deliberately not emulated.

mod keys;
mod names;
#[cfg(test)]
mod tests;
mod text;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use x509_parser::asn1_rs::Tag;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{
    AttributeTypeAndValue, FromDer as _, SubjectPublicKeyInfo, X509Certificate, X509Error, X509Name,
};
use x509_parser::public_key::PublicKey;

use keys::{KeyPublic, strip_zeros};

/// `expiry_status` turns to `SSL_CERTIFICATE_EXPIRY_WARNING` this many days before `not_after`
/// (`controllerproperties.ssl_certificate_expiry_warning_days`' first threshold).
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The `days_until_expire` the controller reports: a generation parameter defaulting to 365,
/// not a countdown.
pub const DAYS_UNTIL_EXPIRE: u32 = 365;

/// Why an uploaded certificate or key was refused.
///
/// `Display` is the message the emulator returns as `{"error": msg}` with HTTP 400. No variant
/// carries key material, so neither `Display` nor `Debug` can leak it.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The certificate PEM has no `CERTIFICATE` block, is not base64, or is not X.509 DER.
    #[error("Invalid certificate: {0}")]
    InvalidCertificate(String),
    /// The certificate's public key has no `SSLKeyParams` representation (algorithm, RSA size
    /// or EC curve the controller does not support).
    #[error("Unsupported certificate key: {0}")]
    UnsupportedKey(String),
    /// The private key PEM is missing, encrypted or cannot be parsed.
    #[error("Invalid private key: {0}")]
    InvalidKey(&'static str),
    /// The private key parses but is not the key of the certificate.
    #[error("Private key does not match the certificate")]
    KeyMismatch,
}

fn invalid(reason: impl Into<String>) -> CertError {
    CertError::InvalidCertificate(reason.into())
}

/// Computed fields of one X.509 certificate as the controller fills `SSLCertificate`.
///
/// Takes the first `CERTIFICATE` block of `pem` (a chain may follow, and other blocks may
/// precede it) and returns `certificate` (that block as given, ending with a newline),
/// `version`, `serial_number`, `self_signed`, `issuer`, `subject`, `subject_alt_names` (only
/// when the certificate has DNS / IP / URI / e-mail SANs), `public_key`,
/// `signature_algorithm`, `not_before`, `not_after`, `fingerprint`, `expiry_status` (judged at
/// `now`), `days_until_expire` and `text`.
pub fn describe_certificate(
    pem: &str,
    now: OffsetDateTime,
) -> Result<Map<String, Value>, CertError> {
    let block = first_certificate(pem)?;
    let cert = parse_der(&block.der)?;
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();

    let mut m = Map::new();
    m.insert("certificate".into(), Value::String(block.pem.clone()));
    m.insert(
        "version".into(),
        Value::String(cert.version().0.to_string()),
    );
    m.insert(
        "serial_number".into(),
        Value::String(cert.tbs_certificate.serial.to_str_radix(10)),
    );
    m.insert("self_signed".into(), Value::Bool(is_self_signed(&cert)));
    m.insert("issuer".into(), Value::Object(describe_name(cert.issuer())));
    m.insert(
        "subject".into(),
        Value::Object(describe_name(cert.subject())),
    );
    let sans = subject_alt_names(&cert);
    if !sans.is_empty() {
        m.insert(
            "subject_alt_names".into(),
            Value::Array(sans.into_iter().map(Value::String).collect()),
        );
    }
    m.insert(
        "public_key".into(),
        Value::String(pem_encode("PUBLIC KEY", cert.public_key().raw)),
    );
    m.insert(
        "signature_algorithm".into(),
        Value::String(names::signature_algorithm(
            &cert.signature_algorithm.algorithm.to_id_string(),
        )),
    );
    m.insert("not_before".into(), Value::String(avi_time(not_before)));
    m.insert("not_after".into(), Value::String(avi_time(not_after)));
    m.insert("fingerprint".into(), Value::String(fingerprint(&block.der)));
    m.insert(
        "expiry_status".into(),
        Value::String(expiry_status(not_after, now).to_owned()),
    );
    m.insert("days_until_expire".into(), json!(DAYS_UNTIL_EXPIRE));
    m.insert("text".into(), Value::String(text::dump(&cert)));
    Ok(m)
}

/// Top-level `key_params` of an SSLKeyAndCertificate computed from the certificate's public key.
///
/// `{"algorithm": "SSL_KEY_ALGORITHM_RSA", "rsa_params": {"key_size": "SSL_KEY_2048_BITS",
/// "exponent": 65537}}` or `{"algorithm": "SSL_KEY_ALGORITHM_EC", "ec_params": {"curve":
/// "SSL_KEY_EC_CURVE_SECP256R1"}}`. RSA sizes other than 1024/2048/3072/4096, curves other than
/// P-256/P-384/P-521 and other algorithms (Ed25519, DSA) give [`CertError::UnsupportedKey`].
pub fn key_params(pem: &str) -> Result<Value, CertError> {
    let block = first_certificate(pem)?;
    let cert = parse_der(&block.der)?;
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = bit_length(rsa.modulus);
            let key_size = match bits {
                1024 => "SSL_KEY_1024_BITS",
                2048 => "SSL_KEY_2048_BITS",
                3072 => "SSL_KEY_3072_BITS",
                4096 => "SSL_KEY_4096_BITS",
                other => {
                    return Err(CertError::UnsupportedKey(format!(
                        "RSA key of {other} bits (supported: 1024, 2048, 3072, 4096)"
                    )));
                }
            };
            let exponent = rsa.try_exponent().map_err(|_| {
                CertError::UnsupportedKey("RSA public exponent out of range".into())
            })?;
            Ok(json!({
                "algorithm": "SSL_KEY_ALGORITHM_RSA",
                "rsa_params": {"key_size": key_size, "exponent": exponent},
            }))
        }
        Ok(PublicKey::EC(_)) => {
            let curve = ec_curve(spki).ok_or_else(|| {
                CertError::UnsupportedKey(
                    "EC key on a curve other than P-256, P-384 or P-521".into(),
                )
            })?;
            Ok(json!({
                "algorithm": "SSL_KEY_ALGORITHM_EC",
                "ec_params": {"curve": curve.avi_enum},
            }))
        }
        Ok(_) => Err(CertError::UnsupportedKey(format!(
            "{} keys (supported: RSA, EC)",
            names::public_key_algorithm(&spki.algorithm.algorithm.to_id_string())
        ))),
        Err(e) => Err(invalid(format!("malformed public key ({e})"))),
    }
}

/// Checks that the PEM private key (PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY` or PKCS#8
/// `PRIVATE KEY`) is the key of the certificate (the first `CERTIFICATE` block of `cert_pem`).
///
/// The key's public half is derived with `ring` (through rustls) and compared with the
/// certificate's SubjectPublicKeyInfo; keys `ring` cannot load (RSA under 2048 bits, P-521)
/// are compared by the public half stored in the key itself. Encrypted keys are refused
/// (`key_passphrase` is not emulated).
pub fn check_key_matches(cert_pem: &str, key_pem: &str) -> Result<(), CertError> {
    let block = first_certificate(cert_pem)?;
    let cert = parse_der(&block.der)?;
    let spki = cert.public_key();

    if key_pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || key_pem.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(CertError::InvalidKey(
            "encrypted private keys are not supported, upload the key unencrypted",
        ));
    }
    // The parser's own error can quote input lines, so it is never shown.
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| {
        CertError::InvalidKey(
            "no readable PEM private key (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)",
        )
    })?;

    let derived = rustls::crypto::ring::sign::any_supported_type(&key)
        .ok()
        .and_then(|signer| signer.public_key().map(|k| k.as_ref().to_vec()));
    let matches = match derived {
        Some(derived) => spki_equal(&derived, spki),
        None => {
            let public = keys::public_of(&key).ok_or(CertError::InvalidKey(
                "the key cannot be parsed as an RSA, EC or Ed25519 private key",
            ))?;
            public_matches(&public, spki)
        }
    };
    if matches {
        Ok(())
    } else {
        Err(CertError::KeyMismatch)
    }
}

/// The `CERTIFICATE` blocks of `pem` after the first (the leaf), re-encoded as PEM; `None`
/// when there are none or they cannot be read. The controller renders only the leaf, but a
/// Service Engine presents the chain that was uploaded with it.
pub fn chain_after_leaf(pem: &str) -> Option<String> {
    use rustls_pki_types::CertificateDer;
    let rest: Vec<String> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .skip(1)
        .map(|c| c.map(|der| pem_encode("CERTIFICATE", der.as_ref())))
        .collect::<Result<_, _>>()
        .ok()?;
    (!rest.is_empty()).then(|| rest.concat())
}

/// The first `CERTIFICATE` PEM block: its text (as given, plus a final newline) and DER.
struct CertBlock {
    pem: String,
    der: Vec<u8>,
}

fn first_certificate(pem: &str) -> Result<CertBlock, CertError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem
        .find(BEGIN)
        .ok_or_else(|| invalid("no PEM CERTIFICATE block"))?;
    let body_start = start + BEGIN.len();
    let rest = pem.get(body_start..).unwrap_or_default();
    let body_len = rest
        .find(END)
        .ok_or_else(|| invalid("PEM CERTIFICATE block has no END CERTIFICATE line"))?;
    let body: String = rest
        .get(..body_len)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| invalid("PEM CERTIFICATE block is not valid base64"))?;
    if der.is_empty() {
        return Err(invalid("PEM CERTIFICATE block is empty"));
    }
    let mut text = pem
        .get(start..body_start + body_len + END.len())
        .unwrap_or_default()
        .to_owned();
    text.push('\n');
    Ok(CertBlock { pem: text, der })
}

fn parse_der(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => Ok(cert),
        Err(x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e)) => Err(invalid(
            format!("PEM CERTIFICATE block is not an X.509 certificate ({e})"),
        )),
        Err(x509_parser::nom::Err::Incomplete(_)) => Err(invalid(
            "PEM CERTIFICATE block is not an X.509 certificate (truncated DER)",
        )),
    }
}

/// Subject equals issuer and the certificate's own key verifies its signature.
///
/// `x509-parser` (ring) refuses RSA keys under 2048 bits for SHA-2 signatures and has no
/// P-521; the first case is retried with ring's legacy algorithms, the second falls back to
/// "no authority key identifier, or one equal to the subject key identifier".
fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    if cert.subject().as_raw() != cert.issuer().as_raw() {
        return false;
    }
    match cert.verify_signature(None) {
        Ok(()) => true,
        Err(X509Error::SignatureUnsupportedAlgorithm) => key_ids_agree(cert),
        Err(_) => legacy_rsa_verify(cert),
    }
}

fn legacy_rsa_verify(cert: &X509Certificate<'_>) -> bool {
    use ring::signature;
    let alg: &dyn signature::VerificationAlgorithm =
        match cert.signature_algorithm.algorithm.to_id_string().as_str() {
            "1.2.840.113549.1.1.11" => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            "1.2.840.113549.1.1.13" => &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
            _ => return false,
        };
    signature::UnparsedPublicKey::new(alg, &cert.public_key().subject_public_key.data)
        .verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)
        .is_ok()
}

fn key_ids_agree(cert: &X509Certificate<'_>) -> bool {
    let mut ski = None;
    let mut aki = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => ski = Some(id.0),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|id| id.0);
            }
            _ => {}
        }
    }
    match aki {
        None => true,
        Some(aki) => ski == Some(aki),
    }
}

/// `SSLCertificateDescription`: the well-known attributes present (first value of each) and
/// `distinguished_name` (`""` for an empty name).
fn describe_name(name: &X509Name<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    for attr in name.iter_attributes() {
        let field = match attr.attr_type().to_id_string().as_str() {
            "2.5.4.3" => "common_name",
            "2.5.4.10" => "organization",
            "2.5.4.11" => "organization_unit",
            "2.5.4.6" => "country",
            "2.5.4.8" => "state",
            "2.5.4.7" => "locality",
            "1.2.840.113549.1.9.1" => "email_address",
            _ => continue,
        };
        m.entry(field)
            .or_insert_with(|| Value::String(attribute_value(attr)));
    }
    m.insert(
        "distinguished_name".into(),
        Value::String(text::name_line(name)),
    );
    m
}

/// The string value of a name attribute, decoding the ASN.1 string types.
fn attribute_value(attr: &AttributeTypeAndValue<'_>) -> String {
    let any = attr.attr_value();
    let data = any.data;
    match any.tag() {
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| {
                    u16::from_be_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::UniversalString => data
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                for (dst, src) in b.iter_mut().zip(c) {
                    *dst = *src;
                }
                char::from_u32(u32::from_be_bytes(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        Tag::TeletexString => data.iter().map(|&b| char::from(b)).collect(),
        _ => String::from_utf8_lossy(data).into_owned(),
    }
}

/// DNS names, IP addresses, URIs and e-mail addresses of the SAN extension(s), in order.
fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for ext in cert.extensions() {
        let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() else {
            continue;
        };
        for general in &san.general_names {
            match general {
                GeneralName::DNSName(s) | GeneralName::URI(s) | GeneralName::RFC822Name(s) => {
                    out.push((*s).to_owned());
                }
                GeneralName::IPAddress(ip) => {
                    if let Some(ip) = ip_string(ip) {
                        out.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn ip_string(ip: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(ip) {
        Some(std::net::Ipv4Addr::from(v4).to_string())
    } else if let Ok(v6) = <[u8; 16]>::try_from(ip) {
        Some(std::net::Ipv6Addr::from(v6).to_string())
    } else {
        None
    }
}

/// The named curve of an EC SubjectPublicKeyInfo, when the controller knows it.
fn ec_curve(spki: &SubjectPublicKeyInfo<'_>) -> Option<names::Curve> {
    let oid = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
    names::curve(&oid.to_id_string())
}

/// Bits of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let bytes = strip_zeros(bytes);
    match bytes.first() {
        None => 0,
        Some(first) => (bytes.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

/// The derived SubjectPublicKeyInfo is the certificate's (same DER, or at least the same
/// algorithm and key bits).
fn spki_equal(derived: &[u8], cert_spki: &SubjectPublicKeyInfo<'_>) -> bool {
    if derived == cert_spki.raw {
        return true;
    }
    match SubjectPublicKeyInfo::from_der(derived) {
        Ok((_, d)) => {
            d.algorithm.algorithm == cert_spki.algorithm.algorithm
                && d.subject_public_key.data == cert_spki.subject_public_key.data
        }
        Err(_) => false,
    }
}

fn public_matches(public: &KeyPublic<'_>, cert_spki: &SubjectPublicKeyInfo<'_>) -> bool {
    match (public, cert_spki.parsed()) {
        (KeyPublic::Rsa { modulus, exponent }, Ok(PublicKey::RSA(rsa))) => {
            strip_zeros(modulus) == strip_zeros(rsa.modulus)
                && strip_zeros(exponent) == strip_zeros(rsa.exponent)
        }
        (KeyPublic::Ec { point }, Ok(PublicKey::EC(ec))) => *point == ec.data(),
        _ => false,
    }
}

/// `"SHA1 Fingerprint=AA:BB:...\n"` over the DER, as controller 20.1.1 returns it (OpenSSL's
/// `x509 -fingerprint` line, newline included; the 2024 AMKO capture has no newline).
fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    format!(
        "SHA1 Fingerprint={}\n",
        text::colon_hex(digest.as_ref(), true)
    )
}

/// `SSL_CERTIFICATE_EXPIRED` after `not_after`, `SSL_CERTIFICATE_EXPIRY_WARNING` within
/// [`EXPIRY_WARNING_DAYS`] of it, else `SSL_CERTIFICATE_GOOD`.
fn expiry_status(not_after: OffsetDateTime, now: OffsetDateTime) -> &'static str {
    if now > not_after {
        "SSL_CERTIFICATE_EXPIRED"
    } else if not_after - now <= time::Duration::days(EXPIRY_WARNING_DAYS) {
        "SSL_CERTIFICATE_EXPIRY_WARNING"
    } else {
        "SSL_CERTIFICATE_GOOD"
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
fn avi_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// PEM with 64-character lines and a final newline.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
