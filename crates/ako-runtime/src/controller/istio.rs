//! When Istio is on, the translation gets the Istio references only once the `ako` container
//! has published them: a valid set in `istio-secret` (held in a [`CertStore`]) and both Avi
//! objects on the controller. Until then mesh pools are built without the mTLS references (and
//! their routes say they wait), so no pool ever names a missing object.
//!
//! Once given, the references are withdrawn only on a definite answer: the Secret deleted, or
//! the controller saying an object is gone. A failed look-up (a 5xx, an expired session the
//! retries did not save) or a Secret that no longer validates keeps the last good references.
//! Even withdrawn (or never confirmed, after a restart), they are only not given to new pools:
//! a mesh pool that has them keeps them (`AviModel::pools_keeping_tls`), since plain text is
//! what a STRICT backend refuses.

use std::sync::Mutex;
use std::time::SystemTime;

use avi_client::{AviClient, Kind};
use istio_certs::CertStore;
use istio_certs::secret::{SECRET_NAME, from_secret_data};
use kube::runtime::reflector::ObjectRef;
use translate_core::{IstioRefs, Settings};

use super::inputs::Inputs;

/// What one reconcile may give the translator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IstioDecision {
    /// The references, when everything they name exists (or existed and nothing definite
    /// says otherwise).
    pub refs: Option<IstioRefs>,
    /// Why the answer is not certain: the reconcile reports it and retries soon.
    pub error: Option<String>,
}

/// The Istio side of a translating controller: the certificate set `istio-secret` holds and the
/// references last found complete.
#[derive(Debug, Default)]
pub struct IstioGate {
    store: CertStore,
    last_good: Mutex<Option<IstioRefs>>,
}

impl IstioGate {
    /// A gate that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The certificate set from `istio-secret`, as last validated.
    pub fn store(&self) -> &CertStore {
        &self.store
    }

    /// Decides for one reconcile: reads the Secret from the reflector into the store, then
    /// checks the Avi objects.
    pub async fn decide(
        &self,
        avi: &AviClient,
        inputs: &Inputs,
        settings: &Settings,
    ) -> IstioDecision {
        let secret = inputs
            .secrets()
            .get(&ObjectRef::new(SECRET_NAME).within(&settings.ako_namespace));
        match secret.as_ref().and_then(|s| s.data.as_ref()) {
            None => {
                // Definite: nothing is published (yet, or any more).
                self.store.withdraw();
                return self.pending();
            }
            Some(data) => match from_secret_data(data, SystemTime::now()) {
                Ok(bundle) => {
                    if self.store.publish(bundle) {
                        tracing::info!("istio-secret holds a new certificate set");
                    }
                }
                Err(e) => {
                    // The ako container validates before it publishes, so this is a set that
                    // went stale (expired) or was edited by hand: keep what was good.
                    tracing::warn!(error = %e, "istio-secret does not hold a valid certificate set");
                }
            },
        }
        if self.store.current().is_none() {
            return self.pending();
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
                    return self.pending();
                }
                Err(e) => {
                    let error =
                        format!("cannot check the Istio object {}/{name}: {e}", kind.path());
                    tracing::warn!("{error}");
                    return IstioDecision {
                        refs: self.last_good(),
                        error: Some(error),
                    };
                }
            }
        }
        if let Ok(mut last) = self.last_good.lock() {
            *last = Some(refs.clone());
        }
        IstioDecision {
            refs: Some(refs),
            error: None,
        }
    }

    fn pending(&self) -> IstioDecision {
        if let Ok(mut last) = self.last_good.lock() {
            *last = None;
        }
        IstioDecision {
            refs: None,
            error: None,
        }
    }

    fn last_good(&self) -> Option<IstioRefs> {
        self.last_good.lock().ok().and_then(|l| l.clone())
    }
}
