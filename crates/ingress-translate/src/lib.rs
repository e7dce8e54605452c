//! ingress-translate: pure translation of Kubernetes `networking.k8s.io/v1` Ingresses into the
//! Avi objects AKO 1.14 makes for them, with AKO's names, so that a cluster switching from AKO
//! keeps every Avi object.
//!
//! Pure: no I/O, no async, no clock except the one passed in. The runtime drives it through
//! [`IngressTranslator`] (a [`translate_core::Translator`]); tests and dry runs call
//! [`translate()`] directly.
//!
//! - [`settings`]: what the Ingress translation needs beyond [`translate_core::Settings`]
//!   (SNI or EVH mode, the shard size);
//! - [`names`]: AKO's object names (sharding by FNV-1a, SNI and EVH names);
//! - [`class`]: which Ingresses are ours (IngressClass selection);
//! - [`translate`](mod@translate): the translation itself, and where it departs from AKO on
//!   purpose (AKO's mistakes, `shared/reference/ako-ingress.md` §6);
//! - [`translator`]: the [`translate_core::Translator`] and the Ingress status.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod class;
pub mod names;
pub mod settings;
pub mod translate;
pub mod translator;

pub use settings::{IngressSettings, ParseShardSizeError, ShardSize};
pub use translate::translate;
pub use translator::IngressTranslator;
