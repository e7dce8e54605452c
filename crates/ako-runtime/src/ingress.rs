//! The `ako` container's Ingress controller: the [`crate::controller::Controller`] with the
//! Ingress translator, writing statuses as `ako`, beside the Istio pipeline whose PKIProfile
//! and certificate (same `created_by`) it leaves alone.

use avi_client::{AviClient, Kind};
use ingress_translate::{IngressSettings, IngressTranslator};
use translate_core::{Component, IstioRefs, Settings};

pub use crate::controller::{ControllerOptions, ControllerStatus};

/// The `ako` container's field manager.
pub const FIELD_MANAGER: &str = "ako";

/// The Ingress controller for `settings` (its component is set to `ako`, whose objects are
/// `created_by: ako-<cluster>` as AKO's).
pub fn controller(
    kube: kube::Client,
    avi: AviClient,
    mut settings: Settings,
    ingress: IngressSettings,
    options: ControllerOptions,
) -> crate::controller::Controller {
    settings.component = Component::Ako;
    let istio = IstioRefs::for_cluster(&settings.cluster_name, &settings.ako_namespace);
    crate::controller::Controller::new(kube, avi, settings, options)
        .with_translator(IngressTranslator::new(ingress))
        .with_field_manager(FIELD_MANAGER)
        .keeping(vec![
            (Kind::PkiProfile, istio.pki_profile),
            (Kind::SslKeyAndCertificate, istio.ssl_key_and_certificate),
        ])
}
