//! An emulator of Istio's certificate side and of meshed backends, for tests, benchmarks and
//! demos of code that reads the files istio-agent writes to `OUTPUT_CERTS` and then speaks
//! mTLS to pods in the mesh.
//!
//! * [`IstioCa`] plays istiod's CA: a self-signed root `O=<trust domain>` (optionally with an
//!   intermediate, the plugged-in `cacerts` shape) issuing workload certificates with an empty
//!   subject, one critical URI SAN `spiffe://<td>/ns/<ns>/sa/<sa>`, digitalSignature +
//!   keyEncipherment, serverAuth + clientAuth, `CA:FALSE`, NotBefore = now − 2 min and
//!   NotAfter = now + TTL. [`WorkloadRequest::leaf`] bends those rules for negative tests.
//! * [`OutputCertsWriter`] plays istio-agent's `OutputKeyCertToDir`: `key.pem`, then
//!   `cert-chain.pem`, then `root-cert.pem`, each only if changed, each by temp file + rename,
//!   the three together not atomically.
//! * [`StrictBackend`] plays a pod with an Envoy sidecar under STRICT PeerAuthentication, on
//!   the current tokio runtime: it accepts only TLS with a client certificate chaining to the
//!   mesh roots (plain HTTP, no or foreign client certificates fail the handshake), presents
//!   its own workload certificate from an [`IstioCa`], optionally enforces an
//!   AuthorizationPolicy principal list (403 `RBAC: access denied`), answers every request with
//!   a JSON [`Echo`] (method, path, host, headers, the client's principal, the pod's name), and
//!   swaps its certificate on [`StrictBackend::rotate`] or from a periodic renewer.
//! * [`AmbientBackend`] plays the app port of a pod in an ambient namespace: ztunnel accepts
//!   only HBONE, so a direct TLS client is cut off before any handshake.
//! * [`mesh_client_config`] is a rustls client configuration that talks to them as an external
//!   load balancer does: mesh roots, optional workload certificate, no host-name check.
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
//!
//! A STRICT backend and a client presenting the AKO pod's certificate (the full round trip is
//! in `examples/strict_backend.rs`):
//!
//! ```
//! use istio_sim::{CaOptions, IstioCa, KeyAlg, StrictBackend, StrictBackendOptions};
//! use istio_sim::{WorkloadRequest, mesh_client_config};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let ca = IstioCa::new(CaOptions { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
//! let pod = StrictBackend::start(&ca, StrictBackendOptions {
//!     name: "httpbin-0".into(),
//!     namespace: "shop".into(),
//!     service_account: "httpbin".into(),
//!     ..Default::default()
//! }).await?;
//! let ako = ca.issue(&WorkloadRequest { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
//! let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(
//!     mesh_client_config(&ca.roots_pem(), Some(&ako))?,
//! ));
//! let tcp = tokio::net::TcpStream::connect(pod.addr()).await?;
//! let _stream = tls.connect("httpbin.shop".try_into()?, tcp).await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod backend;
mod ca;
mod error;
mod keys;
mod writer;

#[cfg(test)]
mod tests;

pub use backend::{
    AmbientBackend, AmbientBackendOptions, AmbientStats, Echo, HANDSHAKE_TIMEOUT,
    MIN_RENEWAL_PERIOD, RBAC_DENIED_BODY, StrictBackend, StrictBackendOptions, StrictStats, XFCC,
    mesh_client_config,
};
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
/// rustls, re-exported so that [`mesh_client_config`]'s `ClientConfig` and [`SimError::Tls`]
/// can be named without a direct dependency.
pub use rustls;
/// time, re-exported for [`LeafProfile::not_before`] / [`LeafProfile::not_after`].
pub use time;
