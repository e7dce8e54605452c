//! The one error type of the emulator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while emulating istiod, istio-agent or a meshed backend.
///
/// Messages name the field or file involved, so a failing test says what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The trust domain is not a valid SPIFFE trust domain (lowercase `[a-z0-9._-]`, 1–255 bytes).
    #[error("invalid trust domain {value:?}: {reason}")]
    InvalidTrustDomain {
        /// The rejected trust domain.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A namespace or service account cannot be a SPIFFE path segment.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidIdentity {
        /// `"namespace"` or `"service_account"`.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// istiod rejects workload TTLs above `MAX_WORKLOAD_CERT_TTL` (90 days by default).
    #[error("requested TTL {requested:?} is greater than the max allowed TTL {max:?}")]
    TtlTooLong {
        /// The TTL that was asked for.
        requested: Duration,
        /// The maximum istiod allows.
        max: Duration,
    },
    /// A duration or date does not fit the certificate's time range.
    #[error("{field} is out of range")]
    TimeOutOfRange {
        /// The option that overflowed.
        field: &'static str,
    },
    /// Generating or encoding a private key failed.
    #[error("{alg} key: {reason}")]
    Key {
        /// The key algorithm, e.g. `"RSA-2048"`.
        alg: &'static str,
        /// What failed.
        reason: String,
    },
    /// rcgen refused to build or sign a certificate.
    #[error("building the {what} certificate failed: {source}")]
    Certificate {
        /// `"root"`, `"intermediate"` or `"workload"`.
        what: &'static str,
        /// rcgen's error.
        #[source]
        source: rcgen::Error,
    },
    /// A file-system operation of the OUTPUT_CERTS writer failed.
    #[error("{op} {path}: {source}", path = path.display())]
    Io {
        /// What was being done (`"create dir"`, `"create temp file"`, `"rename"`, ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A backend could not bind its listening socket.
    #[error("backend {name:?}: bind {addr}: {source}")]
    Bind {
        /// The backend's name.
        name: String,
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A backend was started outside a tokio runtime (it runs its tasks on the runtime that
    /// starts it).
    #[error("backend {name:?}: must be started from within a tokio runtime")]
    NoRuntime {
        /// The backend's name.
        name: String,
    },
    /// A PEM input (certificate chain, key or roots) had no usable content.
    #[error("{what}: {reason}")]
    Pem {
        /// Which input, e.g. `"cert-chain.pem"`.
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// rustls refused a certificate, key or root while building a TLS configuration.
    #[error("{what}: {source}")]
    Tls {
        /// What was being configured, e.g. `"server certificate and key"`.
        what: &'static str,
        /// rustls' error.
        #[source]
        source: rustls::Error,
    },
    /// The client-certificate verifier could not be built from the mesh roots.
    #[error("client certificate verifier: {source}")]
    ClientVerifier {
        /// rustls' error.
        #[source]
        source: rustls::server::VerifierBuilderError,
    },
    /// The server-certificate verifier of a mesh client could not be built from the mesh roots.
    #[error("server certificate verifier: {source}")]
    ServerVerifier {
        /// rustls' error.
        #[source]
        source: rustls::server::VerifierBuilderError,
    },
}
