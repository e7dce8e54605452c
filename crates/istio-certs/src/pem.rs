//! PEM decoding of the three files. Messages about `key.pem` never quote its content.

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::BundleError;
use crate::files::CertFile;

/// Labels of key blocks we know but cannot use, mapped to what the operator should hear.
const UNUSABLE_KEY_LABELS: &[(&str, &str)] = &[
    (
        "ENCRYPTED PRIVATE KEY",
        "encrypted PKCS#8 (Istio writes keys unencrypted)",
    ),
    ("DSA PRIVATE KEY", "DSA"),
    ("OPENSSH PRIVATE KEY", "OpenSSH format"),
];

/// The file as text: Avi and Kubernetes want the PEM as written, so we keep it verbatim.
pub(crate) fn as_text(file: CertFile, bytes: &[u8]) -> Result<&str, BundleError> {
    std::str::from_utf8(bytes).map_err(|_| BundleError::MalformedPem {
        file,
        detail: "not UTF-8 text: PEM expected (convert DER or PKCS#12 with `openssl x509 -inform der` or `openssl pkcs12`)".to_owned(),
    })
}

/// Every `CERTIFICATE` block of a file, in order. A private key in a certificate file is
/// refused: the file is published verbatim (`istio-secret`'s `cert-chain`, Avi's certificate
/// field), and neither is a place for a key.
pub(crate) fn certificates(
    file: CertFile,
    text: &str,
) -> Result<Vec<CertificateDer<'static>>, BundleError> {
    if text.to_ascii_uppercase().contains("PRIVATE KEY-----") {
        return Err(BundleError::KeyInCertificateFile { file });
    }
    let certs = CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BundleError::MalformedPem {
            file,
            detail: describe(&e, true),
        })?;
    if certs.is_empty() {
        return Err(BundleError::EmptyPem {
            file,
            expected: "CERTIFICATE",
        });
    }
    Ok(certs)
}

/// The one private key of `key.pem`.
pub(crate) fn private_key(text: &str) -> Result<PrivateKeyDer<'static>, BundleError> {
    let file = CertFile::Key;
    let labels: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("-----BEGIN "))
        .filter_map(|l| l.strip_suffix("-----"))
        .collect();
    for (label, what) in UNUSABLE_KEY_LABELS {
        if labels.contains(label) {
            return Err(BundleError::UnsupportedKey {
                detail: (*what).to_owned(),
            });
        }
    }
    let keys = labels.iter().filter(|l| l.ends_with("PRIVATE KEY")).count();
    if keys > 1 {
        return Err(BundleError::MalformedPem {
            file,
            detail: format!("{keys} private keys, expected one"),
        });
    }
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|e| match e {
        pem::Error::NoItemsFound => match labels.iter().find(|l| l.ends_with("PRIVATE KEY")) {
            Some(other) => BundleError::UnsupportedKey {
                detail: format!("PEM label {other}"),
            },
            None => BundleError::EmptyPem {
                file,
                expected: "PRIVATE KEY",
            },
        },
        other => BundleError::MalformedPem {
            file,
            detail: describe(&other, false),
        },
    })
}

/// Says what is wrong with a PEM file; with `quote` false, nothing of the content is repeated.
fn describe(e: &pem::Error, quote: bool) -> String {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a PEM block has no END line".to_owned(),
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed".to_owned(),
        pem::Error::Base64Decode(d) if quote => format!("bad base64: {d}"),
        pem::Error::Base64Decode(_) => "bad base64 in a PEM block".to_owned(),
        pem::Error::NoItemsFound => "no PEM block".to_owned(),
        other if quote => other.to_string(),
        _ => "unreadable PEM".to_owned(),
    }
}
