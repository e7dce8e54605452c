//! `CertStore`: the current validated bundle, shared by every part of a process that needs it.

use std::sync::Arc;

use tokio::sync::watch;

use crate::bundle::IstioBundle;

/// Holds the current validated bundle and tells any number of subscribers when it changes.
/// Cloning gives another handle on the same store.
///
/// ```
/// # async fn demo() {
/// let store = istio_certs::CertStore::new();
/// let mut rx = store.subscribe();
/// assert!(store.current().is_none());
/// // ... a watcher publishes; then:
/// # drop(rx);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CertStore {
    tx: Arc<watch::Sender<Option<Arc<IstioBundle>>>>,
    /// Every bundle ever published, so tests can check all of them (a `watch` receiver only
    /// sees the latest).
    #[cfg(test)]
    pub(crate) history: Arc<std::sync::Mutex<Vec<Arc<IstioBundle>>>>,
}

impl Default for CertStore {
    fn default() -> Self {
        Self::new()
    }
}

impl CertStore {
    /// An empty store.
    pub fn new() -> Self {
        CertStore {
            tx: Arc::new(watch::Sender::new(None)),
            #[cfg(test)]
            history: Arc::default(),
        }
    }

    /// The current bundle, if any has been published.
    pub fn current(&self) -> Option<Arc<IstioBundle>> {
        self.tx.borrow().clone()
    }

    /// A receiver that sees every change from now on (and the current value).
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<IstioBundle>>> {
        self.tx.subscribe()
    }

    /// Makes `bundle` current unless the store already holds the same set (same fingerprint).
    /// Returns whether subscribers were notified.
    pub fn publish(&self, bundle: IstioBundle) -> bool {
        let bundle = Arc::new(bundle);
        self.tx.send_if_modified(|current| {
            if current
                .as_ref()
                .is_some_and(|c| c.fingerprint() == bundle.fingerprint())
            {
                return false;
            }
            *current = Some(bundle.clone());
            #[cfg(test)]
            if let Ok(mut h) = self.history.lock() {
                h.push(bundle.clone());
            }
            true
        })
    }

    /// Empties the store (the set it held was withdrawn, e.g. its Secret deleted). Returns
    /// whether subscribers were notified.
    pub fn withdraw(&self) -> bool {
        self.tx.send_if_modified(|current| current.take().is_some())
    }

    /// Waits until a bundle is present and returns it.
    pub async fn ready(&self) -> Arc<IstioBundle> {
        let mut rx = self.subscribe();
        loop {
            if let Some(b) = rx.borrow_and_update().clone() {
                return b;
            }
            // The sender lives in `self`, so `changed` cannot fail while we hold `self`.
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{bundle_of, ec_cert};

    #[test]
    fn publish_notifies_once_per_set_and_withdraw_empties() {
        let store = CertStore::new();
        let mut rx = store.subscribe();
        let cert = ec_cert();
        let bundle = bundle_of(&cert);
        let fingerprint = bundle.fingerprint();
        assert!(store.publish(bundle));
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        // The same set again: no notification.
        assert!(!store.publish(bundle_of(&cert)));
        assert!(!rx.has_changed().unwrap());
        assert_eq!(store.current().map(|b| b.fingerprint()), Some(fingerprint));
        assert!(store.withdraw());
        assert!(rx.has_changed().unwrap());
        assert!(store.current().is_none());
        // Nothing left to withdraw.
        assert!(!store.withdraw());
    }
}
