//! The `ako-gateway-api` container's work as a library, so tests drive it against the
//! emulators: the reconcile loop ([`controller`]).
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod controller;
