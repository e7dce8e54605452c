//! `IstioBundle`: one validated certificate set — the PEM text as written and its parsed form.

use std::fmt;
use std::path::Path;
use std::time::SystemTime;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::chain::{check_validity, verify_path};
use crate::error::BundleError;
use crate::facts::{BundleFacts, CertSummary, KeyEncoding, KeyInfo, key_algorithm};
use crate::files::{CertFile, read_limited};
use crate::fingerprint::Fingerprint;
use crate::pem;

/// The PEM text of a private key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPem(String);

impl KeyPem {
    /// The PEM text, for the two places that must hand the key on: the `istio-secret` Secret
    /// and the Avi SSLKeyAndCertificate.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyPem(<redacted>)")
    }
}

/// A validated Istio workload certificate set: the leaf's key matches it, the leaf is an
/// X.509-SVID, every certificate on its path is in its validity period, and the path verifies
/// by signature to a root of `root-cert.pem`.
///
/// ```no_run
/// use std::time::SystemTime;
/// use istio_certs::IstioBundle;
///
/// let bundle = IstioBundle::load("/etc/istio-output-certs".as_ref(), SystemTime::now())?;
/// println!("{} (principal {})", bundle.facts().spiffe_id, bundle.facts().principal);
/// # Ok::<(), istio_certs::BundleError>(())
/// ```
pub struct IstioBundle {
    cert_chain_pem: String,
    key_pem: KeyPem,
    root_cert_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    roots: Vec<CertificateDer<'static>>,
    facts: BundleFacts,
    fingerprint: Fingerprint,
}

impl IstioBundle {
    /// Reads `cert-chain.pem`, `key.pem` and `root-cert.pem` from `dir` and validates them as
    /// one set at time `now`.
    pub fn load(dir: &Path, now: SystemTime) -> Result<Self, BundleError> {
        // Istio renames key first, then chain: read in the same order so that a set read during
        // a rotation is at worst new key + old chain, which the key check refuses.
        let key = read_limited(dir, CertFile::Key)?;
        let chain = read_limited(dir, CertFile::CertChain)?;
        let root = read_limited(dir, CertFile::RootCert)?;
        Self::from_pem(&chain, &key, &root, now)
    }

    /// Validates a set given as the three files' bytes.
    pub fn from_pem(
        cert_chain: &[u8],
        key: &[u8],
        root_cert: &[u8],
        now: SystemTime,
    ) -> Result<Self, BundleError> {
        let chain_text = pem::as_text(CertFile::CertChain, cert_chain)?;
        let key_text = pem::as_text(CertFile::Key, key)?;
        let root_text = pem::as_text(CertFile::RootCert, root_cert)?;

        let chain = pem::certificates(CertFile::CertChain, chain_text)?;
        let private_key = pem::private_key(key_text)?;
        let roots = pem::certificates(CertFile::RootCert, root_text)?;

        let parsed_chain = parse_all(CertFile::CertChain, &chain)?;
        let parsed_roots = parse_all(CertFile::RootCert, &roots)?;
        let leaf = &parsed_chain[0];

        let key_info = check_key(&private_key, leaf)?;
        let spiffe_id = spiffe_id::check_leaf(leaf).map_err(BundleError::InvalidSvid)?;
        let now = OffsetDateTime::from(now);
        check_validity(leaf, CertFile::CertChain, 0, now)?;
        verify_path(&parsed_chain, &parsed_roots, now)?;

        let facts = BundleFacts {
            principal: spiffe_id.principal(),
            spiffe_id,
            issuer: leaf.issuer().to_string(),
            serial: leaf.raw_serial_as_string(),
            sha256_fingerprint: Fingerprint::of(&chain[0]),
            not_before: leaf.validity().not_before.to_datetime(),
            not_after: leaf.validity().not_after.to_datetime(),
            key: key_info,
            chain: summaries(&parsed_chain, &chain),
            roots: summaries(&parsed_roots, &roots),
        };
        drop(parsed_chain);
        drop(parsed_roots);
        Ok(IstioBundle {
            fingerprint: Fingerprint::of_parts(&[cert_chain, key, root_cert]),
            cert_chain_pem: chain_text.to_owned(),
            key_pem: KeyPem(key_text.to_owned()),
            root_cert_pem: root_text.to_owned(),
            chain,
            key: private_key,
            roots,
            facts,
        })
    }

    /// `cert-chain.pem` as written: leaf, intermediates, possibly roots.
    pub fn cert_chain_pem(&self) -> &str {
        &self.cert_chain_pem
    }

    /// `key.pem` as written, behind a redacting wrapper.
    pub fn key_pem(&self) -> &KeyPem {
        &self.key_pem
    }

    /// `root-cert.pem` as written: the trust anchors.
    pub fn root_cert_pem(&self) -> &str {
        &self.root_cert_pem
    }

    /// The leaf certificate's DER.
    pub fn leaf_der(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }

    /// Every certificate of `cert-chain.pem`, leaf first.
    pub fn chain_der(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// Every root of `root-cert.pem`.
    pub fn roots_der(&self) -> &[CertificateDer<'static>] {
        &self.roots
    }

    /// The private key, for building a TLS client identity (rustls redacts its `Debug`).
    pub fn key_der(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }

    /// Facts for reports and metrics.
    pub fn facts(&self) -> &BundleFacts {
        &self.facts
    }

    /// Digest of the whole set (chain + key + roots): equal digests, same set.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }
}

impl fmt::Debug for IstioBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IstioBundle")
            .field("spiffe_id", &self.facts.spiffe_id)
            .field("serial", &self.facts.serial)
            .field("not_after", &self.facts.not_after)
            .field("chain_len", &self.chain.len())
            .field("roots_len", &self.roots.len())
            .field("key", &self.key_pem)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

fn parse_all<'a>(
    file: CertFile,
    ders: &'a [CertificateDer<'static>],
) -> Result<Vec<X509Certificate<'a>>, BundleError> {
    ders.iter()
        .enumerate()
        .map(|(index, der)| match X509Certificate::from_der(der) {
            Ok(([], cert)) => Ok(cert),
            Ok(_) => Err(BundleError::BadCertificate {
                file,
                index,
                detail: "trailing bytes after the certificate".to_owned(),
            }),
            Err(e) => Err(BundleError::BadCertificate {
                file,
                index,
                detail: e.to_string(),
            }),
        })
        .collect()
}

fn summaries(parsed: &[X509Certificate<'_>], ders: &[CertificateDer<'_>]) -> Vec<CertSummary> {
    parsed
        .iter()
        .zip(ders)
        .map(|(c, d)| CertSummary::of(c, d))
        .collect()
}

/// The key must be one we can use and must be the leaf's: its public half equals the leaf's
/// SubjectPublicKeyInfo byte for byte.
fn check_key(
    key: &PrivateKeyDer<'static>,
    leaf: &X509Certificate<'_>,
) -> Result<KeyInfo, BundleError> {
    let encoding = match key {
        PrivateKeyDer::Pkcs1(_) => KeyEncoding::Pkcs1,
        PrivateKeyDer::Sec1(_) => KeyEncoding::Sec1,
        PrivateKeyDer::Pkcs8(_) => KeyEncoding::Pkcs8,
        _ => {
            return Err(BundleError::UnsupportedKey {
                detail: "unknown encoding".to_owned(),
            });
        }
    };
    let signer = rustls::crypto::ring::sign::any_supported_type(key).map_err(|_| {
        BundleError::UnsupportedKey {
            detail: "not an RSA (2048 bits or more) or ECDSA P-256/P-384 key".to_owned(),
        }
    })?;
    if signer.algorithm() == rustls::SignatureAlgorithm::ED25519 {
        return Err(BundleError::UnsupportedKey {
            detail: "Ed25519".to_owned(),
        });
    }
    let Some(public) = signer.public_key() else {
        return Err(BundleError::UnsupportedKey {
            detail: "cannot derive the public key".to_owned(),
        });
    };
    if public.as_ref() != leaf.public_key().raw {
        return Err(BundleError::KeyMismatch);
    }
    let (algorithm, bits) = key_algorithm(leaf).ok_or_else(|| BundleError::UnsupportedKey {
        detail: "leaf key is not RSA or ECDSA P-256/P-384".to_owned(),
    })?;
    Ok(KeyInfo {
        algorithm,
        bits,
        encoding,
    })
}

#[cfg(test)]
mod tests;
