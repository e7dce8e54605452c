//! Path validation: from the leaf, through intermediates found in `cert-chain.pem`, to a root
//! of `root-cert.pem`, checking every signature and every validity period on the way.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;

use crate::error::BundleError;
use crate::files::CertFile;

/// Deeper than any mesh CA hierarchy; stops loops in a hostile chain.
const MAX_DEPTH: usize = 8;

/// Where the verified path ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// Index of the root in `root-cert.pem`.
    pub root_index: usize,
}

/// Checks `now` falls inside the certificate's validity.
pub(crate) fn check_validity(
    cert: &X509Certificate<'_>,
    file: CertFile,
    index: usize,
    now: OffsetDateTime,
) -> Result<(), BundleError> {
    let validity = cert.validity();
    let not_before = validity.not_before.to_datetime();
    let not_after = validity.not_after.to_datetime();
    if now < not_before {
        return Err(BundleError::NotYetValid {
            file,
            index,
            subject: display_name(cert),
            not_before: rfc3339(not_before),
        });
    }
    if now > not_after {
        return Err(BundleError::Expired {
            file,
            index,
            subject: display_name(cert),
            not_after: rfc3339(not_after),
        });
    }
    Ok(())
}

/// Verifies that `chain[0]` leads to one of `roots`. Intermediates may come in any order and
/// roots repeated at the tail of the chain are harmless: trust comes only from `roots`.
pub(crate) fn verify_path(
    chain: &[X509Certificate<'_>],
    roots: &[X509Certificate<'_>],
    now: OffsetDateTime,
) -> Result<Anchor, BundleError> {
    let Some(leaf) = chain.first() else {
        return Err(BundleError::EmptyPem {
            file: CertFile::CertChain,
            expected: "CERTIFICATE",
        });
    };
    let mut used = vec![false; chain.len()];
    used[0] = true;
    let mut current = leaf;
    for _ in 0..MAX_DEPTH {
        if let Some((root_index, root)) = roots
            .iter()
            .enumerate()
            .find(|(_, r)| issued_by(current, r))
        {
            check_validity(root, CertFile::RootCert, root_index, now)?;
            return Ok(Anchor { root_index });
        }
        let next = chain
            .iter()
            .enumerate()
            .find(|(i, c)| !used[*i] && c.is_ca() && issued_by(current, c));
        match next {
            Some((index, issuer)) => {
                check_validity(issuer, CertFile::CertChain, index, now)?;
                used[index] = true;
                current = issuer;
            }
            None => {
                let detail = if current.subject().as_raw() == current.issuer().as_raw() {
                    format!(
                        "the chain ends at the self-signed '{}', which root-cert.pem does not hold",
                        display_name(current)
                    )
                } else {
                    format!(
                        "no root or intermediate with subject '{}' has signed '{}'",
                        current.issuer(),
                        display_name(current)
                    )
                };
                return Err(BundleError::ChainUnverified { detail });
            }
        }
    }
    Err(BundleError::ChainUnverified {
        detail: format!("no root reached within {MAX_DEPTH} certificates"),
    })
}

/// Name match and a verified signature: names alone are not trust (root rotation keeps names).
fn issued_by(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    cert.issuer().as_raw() == issuer.subject().as_raw()
        && cert.verify_signature(Some(issuer.public_key())).is_ok()
}

/// The subject, or for Istio's subject-less leaves the URI SAN, so messages name something.
pub(crate) fn display_name(cert: &X509Certificate<'_>) -> String {
    let subject = cert.subject().to_string();
    if !subject.is_empty() {
        return subject;
    }
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::URI(uri) = name {
                return (*uri).to_owned();
            }
        }
    }
    "<empty subject>".to_owned()
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
