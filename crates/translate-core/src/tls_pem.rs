//! The PEM of a TLS Secret as it may reach Avi: `tls.crt` rebuilt from its certificate blocks
//! alone (a private key there is refused, never passed on: `certificate.certificate` is not a
//! secret field on Avi), `tls.key` one unencrypted PEM private key. Errors never quote the text.

use base64::Engine as _;

/// Why a Secret's PEM cannot be used. Messages hold no key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// `tls.crt` holds a private key (a combined certificate-and-key PEM).
    #[error(
        "tls.crt contains a PRIVATE KEY block; refused (the key belongs in tls.key alone: tls.crt is published as a certificate)"
    )]
    KeyInCertificate,
    /// `tls.crt` holds no readable X.509 certificate, or a block that is not one.
    #[error("tls.crt does not hold readable X.509 certificates")]
    BadCertificate,
    /// `tls.key` holds no unencrypted PEM private key.
    #[error("tls.key does not hold an unencrypted PEM private key")]
    BadKey,
}

/// `tls.crt` rebuilt from its certificate blocks alone: at least one, each a parseable X.509
/// certificate, none a key. Whatever else the text holds — comments, OpenSSL's "Bag
/// Attributes", a key in armour the PEM parser does not take (lowercase, bare base64) — is
/// dropped, never passed on.
pub fn certificates_only(pem: &str) -> Result<String, PemError> {
    if pem.to_ascii_uppercase().contains("PRIVATE KEY-----") {
        return Err(PemError::KeyInCertificate);
    }
    let mut out = String::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|_| PemError::BadCertificate)?;
        if block.label.contains("PRIVATE KEY") {
            return Err(PemError::KeyInCertificate);
        }
        if block.label != "CERTIFICATE" || block.parse_x509().is_err() {
            return Err(PemError::BadCertificate);
        }
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&block.contents);
        for line in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    if out.is_empty() {
        return Err(PemError::BadCertificate);
    }
    Ok(out)
}

/// `tls.key`: one unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn check_key(pem: &str) -> Result<(), PemError> {
    let mut blocks = x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes());
    match blocks.next() {
        Some(Ok(block))
            if matches!(
                block.label.as_str(),
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY"
            ) && !block.contents.is_empty() =>
        {
            Ok(())
        }
        _ => Err(PemError::BadKey),
    }
}
