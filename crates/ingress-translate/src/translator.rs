//! The [`Translator`] the runtime drives, and the Ingress status.
//!
//! The status is AKO's: `status.loadBalancer.ingress` holds one `{ip, hostname}` per host the
//! Ingress serves and per VIP. [`Translator::translate`] leaves the list empty and asks for the
//! address of the parent VS of the Ingress's first served host ([`translate_core::AddressNeed`]);
//! [`Translator::address`] fills it once the VIP is known.

use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};
use translate_core::{Addressed, KindSpec, ObjectStatus, Output, Settings, Snapshot, Translator};

use crate::settings::IngressSettings;
use crate::translate::translate;

/// The Ingress translator: Ingresses (whose status it writes) and IngressClasses.
#[derive(Debug, Clone, Default)]
pub struct IngressTranslator {
    /// The Ingress settings (mode, shard size).
    pub settings: IngressSettings,
}

impl IngressTranslator {
    /// A translator with these settings.
    pub fn new(settings: IngressSettings) -> Self {
        IngressTranslator { settings }
    }
}

/// `{"loadBalancer": {"ingress": entries}}`.
fn lb_status(entries: Vec<Value>) -> Value {
    json!({"loadBalancer": {"ingress": entries}})
}

impl Translator for IngressTranslator {
    fn name(&self) -> &'static str {
        "ingress"
    }

    fn kinds(&self) -> Vec<KindSpec> {
        vec![
            KindSpec::typed::<Ingress>().keeping_status(),
            KindSpec::typed::<IngressClass>(),
        ]
    }

    fn translate(&self, snapshot: &Snapshot, settings: &Settings, now: &Time) -> Output {
        translate(snapshot, settings, &self.settings, now)
    }

    /// With a VIP: one `{ip, hostname}` per served host ([`translate_core::AddressNeed::hosts`];
    /// with none, just `{ip}`).
    /// Otherwise no addresses, and `false` (look again) while the VIP is not allocated,
    /// `true` when the controller refused the configuration; while the VIP cannot be read
    /// (`Unknown`) the entries of `previous` are kept (none if there is no previous status),
    /// and `false`.
    fn address(
        &self,
        status: &mut ObjectStatus,
        addressed: &[Addressed],
        previous: Option<&Value>,
        _now: &Time,
    ) -> bool {
        let shown: Vec<Value> = previous
            .and_then(|p| p.pointer("/loadBalancer/ingress"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut entries = Vec::new();
        let mut settled = true;
        for (need, addressed) in status.addresses.iter().zip(addressed) {
            match addressed {
                Addressed::Vip(ip) if need.hosts.is_empty() => entries.push(json!({"ip": ip})),
                Addressed::Vip(ip) => {
                    entries.extend(need.hosts.iter().map(|h| json!({"ip": ip, "hostname": h})))
                }
                // Not allocated yet: nothing to show, look again.
                Addressed::NotYet => settled = false,
                // Not knowing is no reason to withdraw addresses DNS may publish: the entries
                // shown for these hosts stay until the VIP can be read again.
                Addressed::Unknown(_) => {
                    settled = false;
                    entries.extend(
                        shown
                            .iter()
                            .filter(|e| {
                                e.get("hostname")
                                    .and_then(Value::as_str)
                                    .is_some_and(|h| need.hosts.iter().any(|x| x == h))
                            })
                            .cloned(),
                    );
                }
                // The controller refused the configuration: nothing serves these hosts.
                Addressed::Failed(_) => {}
            }
        }
        status.status = lb_status(entries);
        settled
    }
}
