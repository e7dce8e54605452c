//! The `ako` container's work, as a library so that tests drive it against the emulators:
//! the Istio certificate pipeline ([`istio`]).
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod istio;
