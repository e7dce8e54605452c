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

/// Signature checks one path search may make: a chain of hostile length and cross-signatures
/// cannot make it run for long.
const MAX_SIGNATURE_CHECKS: usize = 4_096;

/// Verifies that `chain[0]` leads to one of `roots`. Intermediates may come in any order and
/// roots repeated at the tail of the chain are harmless: trust comes only from `roots`. Every
/// candidate issuer is tried: a bundle listing an expired copy of a root (same name and key, as
/// a self-signed root's renewal makes) before the valid one verifies, in either order. When no
/// path is valid, the first problem met is the one reported.
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
    let mut search = Search {
        chain,
        roots,
        now,
        used: vec![false; chain.len()],
        checks: 0,
    };
    search.used[0] = true;
    search.from(leaf, 0)
}

struct Search<'c, 'a> {
    chain: &'c [X509Certificate<'a>],
    roots: &'c [X509Certificate<'a>],
    now: OffsetDateTime,
    used: Vec<bool>,
    checks: usize,
}

impl Search<'_, '_> {
    fn issued_by(&mut self, cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
        if cert.issuer().as_raw() != issuer.subject().as_raw() {
            return false;
        }
        self.checks += 1;
        self.checks <= MAX_SIGNATURE_CHECKS
            && cert.verify_signature(Some(issuer.public_key())).is_ok()
    }

    /// A valid path from `current` (at `depth`) to a root.
    fn from(&mut self, current: &X509Certificate<'_>, depth: usize) -> Result<Anchor, BundleError> {
        if depth >= MAX_DEPTH {
            return Err(BundleError::ChainUnverified {
                detail: format!("no root reached within {MAX_DEPTH} certificates"),
            });
        }
        let mut first: Option<BundleError> = None;
        for root_index in 0..self.roots.len() {
            let root = &self.roots[root_index];
            if self.issued_by(current, root) {
                match check_validity(root, CertFile::RootCert, root_index, self.now) {
                    Ok(()) => return Ok(Anchor { root_index }),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
        }
        for index in 0..self.chain.len() {
            let candidate = &self.chain[index];
            if self.used[index] || !candidate.is_ca() || !self.issued_by(current, candidate) {
                continue;
            }
            if let Err(e) = check_validity(candidate, CertFile::CertChain, index, self.now) {
                first.get_or_insert(e);
                continue;
            }
            self.used[index] = true;
            match self.from(candidate, depth + 1) {
                Ok(anchor) => return Ok(anchor),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
            self.used[index] = false;
        }
        if self.checks > MAX_SIGNATURE_CHECKS {
            return Err(BundleError::ChainUnverified {
                detail: format!("no path found within {MAX_SIGNATURE_CHECKS} signature checks"),
            });
        }
        Err(first.unwrap_or_else(|| {
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
            BundleError::ChainUnverified { detail }
        }))
    }
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

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    };
    use x509_parser::prelude::FromDer;

    use super::*;

    fn root_params(not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name
            .push(DnType::OrganizationName, "cluster.local");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        p
    }

    #[test]
    fn an_expired_copy_of_a_root_listed_first_does_not_hide_the_valid_one() {
        let key = KeyPair::generate().unwrap();
        // The same root renewed: same name and key, one copy expired.
        let expired = root_params((2000, 1, 1), (2001, 1, 1))
            .self_signed(&key)
            .unwrap();
        let valid = root_params((2000, 1, 1), (2999, 1, 1))
            .self_signed(&key)
            .unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec!["a.example".into()]).unwrap();
        leaf.not_before = rcgen::date_time_ymd(2000, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(2999, 1, 1);
        let issuer = Issuer::new(root_params((2000, 1, 1), (2999, 1, 1)), &key);
        let leaf = leaf.signed_by(&leaf_key, &issuer).unwrap();
        fn parse(der: &[u8]) -> X509Certificate<'_> {
            X509Certificate::from_der(der).unwrap().1
        }
        let chain = [parse(leaf.der())];
        let now = OffsetDateTime::now_utc();
        for (roots, index) in [
            ([parse(expired.der()), parse(valid.der())], 1),
            ([parse(valid.der()), parse(expired.der())], 0),
        ] {
            let anchor = verify_path(&chain, &roots, now).unwrap();
            assert_eq!(anchor.root_index, index);
        }
        // Only the expired copy: the expiry is the reason given.
        let e = verify_path(&chain, &[parse(expired.der())], now).unwrap_err();
        assert_eq!(e.kind(), "expired", "{e}");
    }
}
