//! GatewayClass: accepted when its controllerName is ours; others are left alone.

use gateway_api::gatewayclasses::{GatewayClass, GatewayClassStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::conditions::{Wanted, conditions};
use crate::settings::Settings;

/// Whether we manage Gateways of this class.
pub fn is_ours(class: &GatewayClass, settings: &Settings) -> bool {
    class.spec.controller_name == settings.controller_name
}

/// The status to write on a class we own; `None` for another controller's class (we write
/// nothing there, as AKO does).
pub fn status(class: &GatewayClass, settings: &Settings, now: &Time) -> Option<GatewayClassStatus> {
    if !is_ours(class, settings) {
        return None;
    }
    let previous = class
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let generation = class.metadata.generation;
    let wanted = vec![
        Wanted::yes("Accepted", "Accepted", "GatewayClass is valid"),
        Wanted::yes(
            "SupportedVersion",
            "SupportedVersion",
            "Gateway API v1.5.1 (standard channel) is supported",
        ),
    ];
    Some(GatewayClassStatus {
        conditions: Some(conditions(&previous, wanted, generation, now)),
        supported_features: Some(
            crate::features::SUPPORTED
                .iter()
                .map(
                    |name| gateway_api::gatewayclasses::GatewayClassStatusSupportedFeatures {
                        name: (*name).to_owned(),
                    },
                )
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn class(controller: &str) -> GatewayClass {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
            "metadata": {"name": "avi-lb", "generation": 3},
            "spec": {"controllerName": controller}
        }))
        .unwrap()
    }

    #[test]
    fn our_class_is_accepted_with_observed_generation() {
        let now = Time(Timestamp::from_second(1_700_000_000).unwrap());
        let s = status(&class("ako.vmware.com/avi-lb"), &Settings::default(), &now).unwrap();
        let c = s.conditions.unwrap();
        assert_eq!(c[0].type_, "Accepted");
        assert_eq!(c[0].status, "True");
        assert_eq!(c[0].reason, "Accepted");
        assert_eq!(c[0].observed_generation, Some(3));
        let features: Vec<String> = s
            .supported_features
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(features, crate::features::SUPPORTED);
    }

    #[test]
    fn other_controllers_classes_get_nothing() {
        let now = Time(Timestamp::from_second(0).unwrap());
        assert!(status(&class("example.com/other"), &Settings::default(), &now).is_none());
    }
}
