//! avi-client: a typed, idempotent Avi Controller REST client.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod client;
mod compare;
pub mod config;
mod crud;
pub mod error;
pub mod kind;
pub mod models;
pub mod object;
mod owner;
pub mod plan;
pub mod reference;

pub use client::{AviClient, ClientStats};
pub use compare::{covers, differing_fields};
pub use config::{
    AviConfig, Credentials, RequestObserver, RequestRecord, RetryPolicy, TlsVerification,
};
pub use crud::Ensured;
pub use error::{AviError, Result};
pub use kind::Kind;
pub use object::AviObject;
pub use owner::owner_of;
pub use plan::{Action, Desired, Step, StepOutcome, SyncPlan, SyncReport};
pub use reference::{AviRef, RawRef, RefParseError};
