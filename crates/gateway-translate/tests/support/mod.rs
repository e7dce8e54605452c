//! Shared by the cross-module tests of this crate.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod harness;
pub mod resolve;
