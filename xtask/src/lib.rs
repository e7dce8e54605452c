//! Project chores as a library, so that tests run exactly what `cargo xtask` runs.
//!
//! - [`chart`]: renders a Helm chart without helm, for the subset of Helm's template language
//!   the chart in `deploy/helm/ako` uses.
//! - [`manifests`]: the plain manifests in `deploy/manifests/`, rendered from that chart
//!   (`cargo xtask manifests`, `cargo xtask manifests --check`).
//! - [`conformance`]: the Gateway API conformance report (`cargo xtask conformance`).
//! - [`demo`]: `cargo xtask demo`, the product end to end on emulators, step by step.

pub mod chart;
pub mod conformance;
pub mod demo;
pub mod manifests;
pub mod yaml;
