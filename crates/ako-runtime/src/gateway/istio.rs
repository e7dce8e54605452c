//! When Istio is on, the translation gets the Istio references only once the `ako` container
//! has published them: a valid set in `istio-secret` and both Avi objects on the controller.
//! Until then mesh pools are built without the mTLS references (and their routes say they
//! wait), so no pool ever names a missing object.

use std::time::SystemTime;

use avi_client::{AviClient, Kind};
use gateway_translate::{IstioRefs, Settings};
use istio_certs::secret::{SECRET_NAME, from_secret_data};
use kube::runtime::reflector::ObjectRef;

use super::inputs::Inputs;

/// The references, if everything they name exists.
pub async fn refs(avi: &AviClient, inputs: &Inputs, settings: &Settings) -> Option<IstioRefs> {
    let secret = inputs
        .secrets()
        .get(&ObjectRef::new(SECRET_NAME).within(&settings.ako_namespace))?;
    let data = secret.data.as_ref()?;
    if let Err(e) = from_secret_data(data, SystemTime::now()) {
        tracing::warn!(error = %e, "istio-secret does not hold a valid certificate set yet");
        return None;
    }
    let refs = IstioRefs::for_cluster(&settings.cluster_name, &settings.ako_namespace);
    for (kind, name) in [
        (Kind::PkiProfile, &refs.pki_profile),
        (Kind::SslKeyAndCertificate, &refs.ssl_key_and_certificate),
    ] {
        match avi.find_raw(kind, name).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::info!(kind = kind.path(), %name, "waiting for the ako container to publish the Istio objects");
                return None;
            }
            Err(e) => {
                tracing::warn!(kind = kind.path(), %name, error = %e, "cannot check the Istio object");
                return None;
            }
        }
    }
    Some(refs)
}
