#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
//! SPIFFE IDs, trust domains, Istio principals and X.509-SVID leaf checks.
//!
//! Istio gives every workload the identity
//! `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`, carried as
//! the single URI SAN of its certificate. This crate parses such IDs
//! strictly ([`SpiffeId`], [`TrustDomain`]), derives the form Istio
//! `AuthorizationPolicy` rules use ([`Principal`]), and checks that a
//! certificate is a well-formed X.509-SVID leaf ([`check_leaf_der`]).
//!
//! Parsing follows the SPIFFE standards and never normalises: anything that
//! breaks a rule is rejected with a [`SpiffeIdError`] or [`SvidError`]
//! variant naming the rule and the offending text.
//!
//! # Examples
//!
//! ```
//! use spiffe_id::{SpiffeId, SpiffeIdError, TrustDomain};
//!
//! let id: SpiffeId = "spiffe://cluster.local/ns/avi-system/sa/ako-sa".parse()?;
//! assert_eq!(id.principal().as_str(), "cluster.local/ns/avi-system/sa/ako-sa");
//! assert_eq!(id.namespace(), Some("avi-system"));
//!
//! let td = TrustDomain::new("cluster.local")?;
//! assert_eq!(SpiffeId::for_service_account(&td, "avi-system", "ako-sa")?, id);
//!
//! assert!(matches!(
//!     SpiffeId::new("spiffe://cluster.local/ns/avi-system/sa/ako-sa?x=1"),
//!     Err(SpiffeIdError::QueryNotAllowed { .. })
//! ));
//! # Ok::<(), SpiffeIdError>(())
//! ```

pub mod error;
pub mod id;
mod path;
pub mod svid;
pub mod trust_domain;

pub use error::SpiffeIdError;
pub use id::{MAX_SPIFFE_ID_LEN, Principal, SpiffeId};
pub use svid::{SvidError, check_leaf, check_leaf_der};
pub use trust_domain::{MAX_TRUST_DOMAIN_LEN, TrustDomain};
