//! The Istio workload certificate bundle: load and validate the files istio-agent writes into
//! its `OUTPUT_CERTS` directory, watch them through rotations without ever publishing a torn
//! set, share the current set through a [`CertStore`], and map it to and from the
//! `istio-secret` Secret.
//!
//! ```no_run
//! use std::time::SystemTime;
//!
//! match istio_certs::IstioBundle::load("/etc/istio-output-certs".as_ref(), SystemTime::now()) {
//!     Ok(bundle) => println!("principal: {}", bundle.facts().principal),
//!     Err(e) => eprintln!("not usable: {e}"),
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod bundle;
mod chain;
mod error;
mod facts;
mod files;
mod fingerprint;
mod pem;
pub mod secret;
mod store;
mod watch;

pub use bundle::{IstioBundle, KeyPem};
pub use error::BundleError;
pub use facts::{BundleFacts, CertSummary, KeyAlgorithm, KeyEncoding, KeyInfo};
pub use files::{CertFile, MAX_FILE_SIZE};
pub use fingerprint::Fingerprint;
pub use store::CertStore;
#[cfg(test)]
mod testutil;

pub use watch::{Clock, WatchOptions, WatchProblem, WatchStatus, Watcher, watch};
