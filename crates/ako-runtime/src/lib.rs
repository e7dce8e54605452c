//! ako-runtime: the plumbing the `ako` and `ako-gateway-api` binaries share.
//!
//! One module per concern:
//!
//! - [`config`]: AKO's environment variables with flags over them, checked at startup;
//! - [`cli`]: `run` as the default command of either binary;
//! - [`avi_secret`]: Avi credentials from the Secret `avi-secret`, and the Avi client's settings;
//! - [`kube_client`]: the Kubernetes client, from a kubeconfig or in-cluster;
//! - [`metrics`] and [`health`]: Prometheus metrics and the `/healthz`, `/readyz`, `/metrics` server;
//! - [`events`]: Kubernetes Events through kube-runtime's recorder;
//! - [`logging`]: text or JSON logs filtered by `RUST_LOG`;
//! - [`leader`]: leader election on a Lease, so that only one replica writes;
//! - [`process`]: the start of either container, in order, and its shutdown signal;
//! - [`istio`]: the `ako` container's Istio certificate pipeline (istio-secret, PKIProfile,
//!   SSLKeyAndCertificate);
//! - [`controller`]: the reconcile loop built from translators (reflectors → `Snapshot` →
//!   every translator → one Avi sync → statuses of any kind, Events), with warm standby;
//! - [`dry_run`]: manifests read offline into a snapshot, and the `translate` commands' output;
//! - [`gateway`] and [`ingress`]: that loop with the Gateway API translator (the
//!   `ako-gateway-api` container) and with the Ingress translator (the `ako` container).
//!
//! The binary installs rustls' `ring` provider first thing in `main` (see [`kube_client`]).
//! Nothing here logs, reports or formats a password, token or private key.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod avi_secret;
pub mod cli;
pub mod config;
pub mod controller;
pub mod dry_run;
pub mod error;
pub mod events;
pub mod gateway;
pub mod health;
pub mod ingress;
pub mod istio;
pub mod kube_client;
pub mod leader;
pub mod logging;
pub mod metrics;
pub mod process;

pub use avi_secret::{AVI_SECRET_NAME, AviSecret, avi_config, load_avi_credentials};
pub use config::{Component, RuntimeConfig, ServiceType};
pub use error::{ConfigError, RuntimeError};
pub use events::Events;
pub use health::{HealthServer, Readiness};
pub use kube_client::client;
pub use leader::{LeaderElector, Leadership, LeaseTiming};
pub use logging::LogFormat;
pub use metrics::{Metrics, ReconcileResult};
pub use process::{AbortOnDrop, Process, shutdown_signal};
