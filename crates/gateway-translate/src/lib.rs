//! gateway-translate: Gateway API objects in, the Avi model and Gateway API status out.
//!
//! Pure: no I/O, no async, no clock except one passed in. The same [`Snapshot`] gives the same
//! output whatever order its objects arrived in.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod attach;
pub mod backend_tls;
pub mod backend_tls_policy;
pub mod conditions;
pub mod cors;
pub mod features;
pub mod filters;
pub mod frontend;
pub mod gateway_class;
pub mod grpc;
pub mod hostnames;
pub mod incremental;
pub mod listener_set;
pub mod listeners;
pub mod lua;
pub mod matches;
pub mod names;
pub mod precedence;
pub mod programmed;
pub mod reference_grant;
pub mod snapshot;
pub mod timeouts;
pub mod tls_route;
pub mod translate;
pub mod translator;

// The translation core every translator shares, where this crate's modules used to be.
pub use translate_core::{endpoints, mesh, model, settings};

pub use incremental::{Incremental, Update};
pub use model::AviModel;
pub use settings::{Component, IstioBackends, IstioRefs, ServiceType, Settings};
pub use snapshot::{ObjectKey, Snapshot};
pub use translate::{
    Attachments, BACKEND_NOT_IN_MESH, BACKEND_TLS, Context, HttpRouteTranslator, RouteTranslator,
    StatusUpdate, Translation, Warning, translate, translate_with,
};
pub use translator::GatewayApiTranslator;
