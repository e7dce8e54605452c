//! Why a certificate set was refused. Every variant names the file and what is wrong with it,
//! and none of them ever carries key material.

use std::path::PathBuf;

use crate::files::CertFile;

/// A reason an Istio certificate set cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The file does not exist (yet): istio-agent writes only after its first SDS fetch.
    #[error("{file} is missing in {}", dir.display())]
    Missing {
        /// Which file.
        file: CertFile,
        /// The directory looked in.
        dir: PathBuf,
    },
    /// A certificate file holds a private key.
    #[error(
        "{file} contains a PRIVATE KEY block; refused (the key belongs in key.pem alone: {file} is published as certificates)"
    )]
    KeyInCertificateFile {
        /// Which file.
        file: CertFile,
    },
    /// The file exists but could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// Which file.
        file: CertFile,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than any certificate file Istio writes.
    #[error("{file}: larger than {limit} bytes")]
    TooLarge {
        /// Which file.
        file: CertFile,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file holds no PEM block of the kind expected.
    #[error("{file}: no PEM {expected} block found")]
    EmptyPem {
        /// Which file.
        file: CertFile,
        /// What kind of block was expected (`CERTIFICATE`, `PRIVATE KEY`).
        expected: &'static str,
    },
    /// The file is not valid PEM, or a PEM block does not hold what its label says.
    #[error("{file}: malformed: {detail}")]
    MalformedPem {
        /// Which file.
        file: CertFile,
        /// What is wrong (never the content).
        detail: String,
    },
    /// A certificate in the file does not parse as X.509.
    #[error("{file}: certificate #{index} does not parse: {detail}")]
    BadCertificate {
        /// Which file.
        file: CertFile,
        /// Position in the file, 0-based.
        index: usize,
        /// The parser's complaint.
        detail: String,
    },
    /// The private key is of a type we cannot use (only RSA ≥ 2048 and ECDSA P-256/P-384 are).
    #[error("key.pem: unsupported key type: {detail}")]
    UnsupportedKey {
        /// The type found.
        detail: String,
    },
    /// The private key is not the key of the leaf certificate: typically a read between
    /// istio-agent's rename of `key.pem` and of `cert-chain.pem`.
    #[error("key.pem does not match the leaf certificate in cert-chain.pem")]
    KeyMismatch,
    /// The leaf is not a valid X.509-SVID.
    #[error("cert-chain.pem: leaf is not a valid X.509-SVID: {0}")]
    InvalidSvid(#[source] spiffe_id::SvidError),
    /// A certificate of the chain is expired.
    #[error("{file}: certificate #{index} ({subject}) expired at {not_after}")]
    Expired {
        /// Which file holds it.
        file: CertFile,
        /// Position in that file, 0-based.
        index: usize,
        /// Its subject, for the operator.
        subject: String,
        /// When it expired, RFC 3339.
        not_after: String,
    },
    /// A certificate of the chain is not valid yet (a clock skew, or a CA in the future).
    #[error("{file}: certificate #{index} ({subject}) is not valid before {not_before}")]
    NotYetValid {
        /// Which file holds it.
        file: CertFile,
        /// Position in that file, 0-based.
        index: usize,
        /// Its subject, for the operator.
        subject: String,
        /// When it becomes valid, RFC 3339.
        not_before: String,
    },
    /// The chain does not lead, by verified signatures, to any root of `root-cert.pem`.
    #[error("cert-chain.pem does not verify to any root in root-cert.pem: {detail}")]
    ChainUnverified {
        /// Where the path stopped.
        detail: String,
    },
}

impl BundleError {
    /// The file the problem is in.
    pub fn file(&self) -> CertFile {
        match self {
            BundleError::Missing { file, .. }
            | BundleError::Read { file, .. }
            | BundleError::TooLarge { file, .. }
            | BundleError::EmptyPem { file, .. }
            | BundleError::MalformedPem { file, .. }
            | BundleError::KeyInCertificateFile { file }
            | BundleError::BadCertificate { file, .. }
            | BundleError::Expired { file, .. }
            | BundleError::NotYetValid { file, .. } => *file,
            BundleError::UnsupportedKey { .. } => CertFile::Key,
            BundleError::KeyMismatch
            | BundleError::InvalidSvid(_)
            | BundleError::ChainUnverified { .. } => CertFile::CertChain,
        }
    }

    /// True when waiting may fix it: istio-agent is between two renames (new key with the old
    /// chain, a new chain before its new root) or has not written everything yet.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BundleError::Missing { .. }
                | BundleError::Read { .. }
                | BundleError::EmptyPem { .. }
                | BundleError::KeyMismatch
                | BundleError::ChainUnverified { .. }
                // A CA clock slightly ahead of ours: the set becomes valid in a moment.
                | BundleError::NotYetValid { .. }
        )
    }

    /// A short stable label for metrics and JSON (`key_mismatch`, `expired`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            BundleError::Missing { .. } => "missing",
            BundleError::Read { .. } => "read",
            BundleError::TooLarge { .. } => "too_large",
            BundleError::EmptyPem { .. } => "empty_pem",
            BundleError::MalformedPem { .. } => "malformed_pem",
            BundleError::KeyInCertificateFile { .. } => "key_in_certificate_file",
            BundleError::BadCertificate { .. } => "bad_certificate",
            BundleError::UnsupportedKey { .. } => "unsupported_key",
            BundleError::KeyMismatch => "key_mismatch",
            BundleError::InvalidSvid(_) => "invalid_svid",
            BundleError::Expired { .. } => "expired",
            BundleError::NotYetValid { .. } => "not_yet_valid",
            BundleError::ChainUnverified { .. } => "chain_unverified",
        }
    }
}
