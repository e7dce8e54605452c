//! An emulator of Istio's certificate side, for tests, benchmarks and demos of code that reads
//! the files istio-agent writes to `OUTPUT_CERTS`.
//!
//! * [`IstioCa`] plays istiod's CA: a self-signed root `O=<trust domain>` (optionally with an
//!   intermediate, the plugged-in `cacerts` shape) issuing workload certificates with an empty
//!   subject, one critical URI SAN `spiffe://<td>/ns/<ns>/sa/<sa>`, digitalSignature +
//!   keyEncipherment, serverAuth + clientAuth, `CA:FALSE`, NotBefore = now − 2 min and
//!   NotAfter = now + TTL. [`WorkloadRequest::leaf`] bends those rules for negative tests.
//! * [`OutputCertsWriter`] plays istio-agent's `OutputKeyCertToDir`: `key.pem`, then
//!   `cert-chain.pem`, then `root-cert.pem`, each only if changed, each by temp file + rename,
//!   the three together not atomically.
//!
//! This crate deliberately shares no code with the product crates (`spiffe-id`, `istio-certs`),
//! so that a bug there cannot agree with itself here.
//!
//! ```
//! use istio_sim::{CaOptions, IstioCa, KeyAlg, OutputCertsWriter, WorkloadRequest};
//!
//! let ca = IstioCa::new(CaOptions { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
//! let cert = ca.issue(&WorkloadRequest { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
//! let dir = tempfile::tempdir()?;
//! let report = OutputCertsWriter::new(dir.path()).write(&cert)?;
//! assert_eq!(report.written, ["key.pem", "cert-chain.pem", "root-cert.pem"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod ca;
mod error;
mod keys;
mod writer;

#[cfg(test)]
mod tests;

pub use ca::{
    CLOCK_SKEW_GRACE, CaOptions, DEFAULT_ROOT_TTL, DEFAULT_WORKLOAD_TTL, INTERMEDIATE_TTL, IstioCa,
    LeafProfile, MAX_WORKLOAD_TTL, WorkloadCert, WorkloadRequest, spiffe_id,
};
pub use error::SimError;
pub use keys::{KeyAlg, KeyFormat, PEM_LABEL_EC, PEM_LABEL_PKCS8, PEM_LABEL_RSA};
pub use writer::{CHAIN_FILE, KEY_FILE, OutputCertsWriter, ROOT_FILE, WriteReport};

/// rcgen, re-exported so that [`LeafProfile`] knobs (`KeyUsagePurpose`,
/// `ExtendedKeyUsagePurpose`) can be named without a direct dependency.
pub use rcgen;
/// time, re-exported for [`LeafProfile::not_before`] / [`LeafProfile::not_after`].
pub use time;
