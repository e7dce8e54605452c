//! The Istio certificate pipeline: every validated set from the CertStore becomes, in this
//! order, the Secret `istio-secret`, the Avi PKIProfile (the roots) and the Avi
//! SSLKeyAndCertificate (chain and key in one PUT), so no torn pair ever reaches Avi and a root
//! is trusted before a leaf it signed is presented.

pub mod objects;
pub mod pipeline;
pub mod publish;

pub use objects::{IstioNames, IstioObjects};
pub use pipeline::{Pipeline, PipelineOptions, PipelineStatus};
pub use publish::{PublishError, Published, Publisher, Removed};
