//! translate-core: what every translator from Kubernetes objects to Avi objects shares, and the
//! interface through which the runtime drives translators.
//!
//! Pure: no I/O, no async, no clock except one passed in. A translator (Gateway API, Ingress,
//! one of your own) depends on this crate and never on another translator; the runtime knows
//! translators only through [`Translator`].
//!
//! - [`key`]: typed keys of Kubernetes objects (group, kind, namespace, name);
//! - [`inputs`]: the inputs every translator reads (Services, EndpointSlices, Pods, Namespaces,
//!   Nodes, Secrets);
//! - [`endpoints`]: pool members (ClusterIP, NodePort, `externalTrafficPolicy: Local`);
//! - [`incremental`]: a pool brought up to date with its Service's endpoints alone;
//! - [`mesh`]: is a backend in the Istio mesh, and how;
//! - [`mesh_tls`]: the Istio rung of the backend-TLS decision (Istio mTLS, waiting, plaintext);
//! - [`pool`]: building a pool with its members, TLS fields and markers;
//! - [`model`]: the Avi objects a translation wants, and the "keep the TLS the controller holds"
//!   rule;
//! - [`names`]: naming helpers AKO's translators share (its SHA-1 encoding, the length limit);
//! - [`settings`]: the deployment's settings;
//! - [`tls_pem`]: the PEM of a TLS Secret as it may reach Avi (no key in a certificate field);
//! - [`vip`]: the VIP a VS VIP asks for (`VIP_NETWORK_LIST`);
//! - [`text`]: user text in messages (escaped, bounded);
//! - [`translator`]: the snapshot of every watched object, the [`Translator`] trait and its
//!   output (Avi objects, statuses of any kind, Events).
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod endpoints;
pub mod incremental;
pub mod inputs;
pub mod key;
pub mod mesh;
pub mod mesh_tls;
pub mod model;
pub mod names;
pub mod pool;
pub mod problem;
pub mod settings;
pub mod text;
pub mod tls_pem;
pub mod translator;
pub mod vip;

pub use inputs::{NamespacedName, SharedInputs};
pub use key::{GroupKind, ObjectKey};
pub use model::{AviModel, POOL_TLS_FIELDS};
pub use problem::Problem;
pub use settings::{Component, IstioBackends, IstioRefs, ServiceType, Settings};
pub use translator::{
    AddressNeed, Addressed, KindSpec, Notice, ObjectStatus, Output, Severity, Snapshot, Translator,
};
