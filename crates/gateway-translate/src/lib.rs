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
pub mod endpoints;
pub mod filters;
pub mod gateway_class;
pub mod hostnames;
pub mod incremental;
pub mod listeners;
pub mod matches;
pub mod mesh;
pub mod model;
pub mod names;
pub mod precedence;
pub mod reference_grant;
pub mod settings;
pub mod snapshot;
pub mod translate;

pub use incremental::{Incremental, Update};
pub use model::AviModel;
pub use settings::{IstioBackends, IstioRefs, ServiceType, Settings};
pub use snapshot::{ObjectKey, Snapshot};
pub use translate::{
    Attachments, BACKEND_NOT_IN_MESH, BACKEND_TLS, Context, HttpRouteTranslator, StatusUpdate,
    Translation, Translator, Warning, translate, translate_with,
};
