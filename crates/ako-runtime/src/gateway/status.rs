//! Statuses: the Gateway's programming outcome and address, then every status written by
//! server-side apply with our field manager, and only when it differs from the object's.

use gateway_api::gateways::{GatewayStatus, GatewayStatusAddresses};
use gateway_translate::StatusUpdate;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::ObjectRef;
use serde_json::{Value, json};

use super::inputs::Inputs;

/// Our field manager.
pub const FIELD_MANAGER: &str = "ako-gateway-api";

const GROUP_VERSION: &str = "gateway.networking.k8s.io/v1";

fn set(
    conditions: &mut [Condition],
    type_: &str,
    ok: bool,
    reason: &str,
    message: &str,
    now: &Time,
) {
    for c in conditions.iter_mut().filter(|c| c.type_ == type_) {
        let status = if ok { "True" } else { "False" };
        if c.status != status {
            c.last_transition_time = now.clone();
        }
        c.status = status.into();
        c.reason = reason.into();
        c.message = message.into();
    }
}

/// What the controller said of a Gateway's VIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vip {
    /// The address the controller allocated.
    Allocated(String),
    /// The VsVip exists but holds no address yet (IPAM has not placed it).
    NotYet,
    /// The VsVip could not be read.
    Unknown(String),
}

/// Marks a Gateway Programmed (with the VIP as its address) or not (with why). `previous` is
/// the status the Gateway has now. Returns false when the address is not settled: the caller
/// retries rather than waiting for a resync.
pub fn program_gateway(
    status: &mut GatewayStatus,
    vip: Vip,
    previous: Option<&GatewayStatus>,
    failure: Option<&str>,
    now: &Time,
) -> bool {
    let accepted = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Accepted" && c.status == "True");
    if !accepted {
        return true;
    }
    if let Some(why) = failure {
        let message = format!("the Avi controller did not take the configuration: {why}");
        if let Some(c) = status.conditions.as_mut() {
            set(c, "Programmed", false, "Pending", &message, now);
        }
        for l in status.listeners.iter_mut().flatten() {
            set(
                &mut l.conditions,
                "Programmed",
                false,
                "Pending",
                &message,
                now,
            );
        }
        return true;
    }
    let message = match vip {
        Vip::Allocated(ip) => {
            status.addresses = Some(vec![GatewayStatusAddresses {
                r#type: Some("IPAddress".into()),
                value: ip,
            }]);
            return true;
        }
        Vip::NotYet => "the Avi controller has not allocated the VIP yet".to_owned(),
        Vip::Unknown(why) => {
            // A failed read says nothing about a VIP that serves: keep the address the Gateway
            // shows (no status churn) and ask for another look.
            if let Some(addresses) = previous.and_then(|p| p.addresses.clone()) {
                status.addresses = Some(addresses);
                return false;
            }
            format!("cannot read the VIP from the Avi controller: {why}")
        }
    };
    // Programmed without an address would send clients nowhere.
    if let Some(c) = status.conditions.as_mut() {
        set(c, "Programmed", false, "AddressNotAssigned", &message, now);
    }
    false
}

async fn apply(
    kube: &kube::Client,
    api: ApiKind,
    namespace: &str,
    name: &str,
    status: Value,
) -> Result<(), kube::Error> {
    let body = json!({"apiVersion": GROUP_VERSION, "kind": api.kind(), "status": status});
    let params = PatchParams::apply(FIELD_MANAGER).force();
    match api {
        ApiKind::GatewayClass => {
            Api::<gateway_api::gatewayclasses::GatewayClass>::all(kube.clone())
                .patch_status(name, &params, &Patch::Apply(&body))
                .await?;
        }
        ApiKind::Gateway => {
            Api::<gateway_api::gateways::Gateway>::namespaced(kube.clone(), namespace)
                .patch_status(name, &params, &Patch::Apply(&body))
                .await?;
        }
        ApiKind::HttpRoute => {
            Api::<gateway_api::httproutes::HttpRoute>::namespaced(kube.clone(), namespace)
                .patch_status(name, &params, &Patch::Apply(&body))
                .await?;
        }
        ApiKind::BackendTlsPolicy => {
            Api::<gateway_api::backendtlspolicies::BackendTlsPolicy>::namespaced(
                kube.clone(),
                namespace,
            )
            .patch_status(name, &params, &Patch::Apply(&body))
            .await?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum ApiKind {
    GatewayClass,
    Gateway,
    HttpRoute,
    BackendTlsPolicy,
}

impl ApiKind {
    fn kind(self) -> &'static str {
        match self {
            ApiKind::GatewayClass => "GatewayClass",
            ApiKind::Gateway => "Gateway",
            ApiKind::HttpRoute => "HTTPRoute",
            ApiKind::BackendTlsPolicy => "BackendTLSPolicy",
        }
    }
}

/// Writes every status that differs from the object's current one; returns how many.
pub async fn write_all(
    kube: &kube::Client,
    inputs: &Inputs,
    statuses: &[StatusUpdate],
) -> Result<u64, String> {
    let mut written = 0;
    let mut errors = Vec::new();
    for s in statuses {
        let (api, ns, name, wanted, current) = match s {
            StatusUpdate::GatewayClass { name, status } => (
                ApiKind::GatewayClass,
                String::new(),
                name.clone(),
                serde_json::to_value(status),
                inputs
                    .gateway_classes()
                    .get(&ObjectRef::new(name))
                    .and_then(|o| o.status.clone())
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
            ),
            StatusUpdate::Gateway { key, status } => (
                ApiKind::Gateway,
                key.0.clone(),
                key.1.clone(),
                serde_json::to_value(status),
                inputs
                    .gateways()
                    .get(&ObjectRef::new(&key.1).within(&key.0))
                    .and_then(|o| o.status.clone())
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
            ),
            StatusUpdate::HttpRoute { key, status } => (
                ApiKind::HttpRoute,
                key.0.clone(),
                key.1.clone(),
                serde_json::to_value(status),
                inputs
                    .http_routes()
                    .get(&ObjectRef::new(&key.1).within(&key.0))
                    .and_then(|o| o.status.clone())
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
            ),
            StatusUpdate::BackendTlsPolicy { key, status } => (
                ApiKind::BackendTlsPolicy,
                key.0.clone(),
                key.1.clone(),
                serde_json::to_value(status),
                inputs
                    .backend_tls_policies()
                    .get(&ObjectRef::new(&key.1).within(&key.0))
                    .and_then(|o| o.status.clone())
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
            ),
            // Custom route kinds are written by whoever added them.
            StatusUpdate::Route { .. } => continue,
        };
        let wanted = match wanted {
            Ok(v) => v,
            Err(e) => {
                errors.push(format!("{} {ns}/{name}: {e}", api.kind()));
                continue;
            }
        };
        if current.as_ref() == Some(&wanted) {
            continue;
        }
        match apply(kube, api, &ns, &name, wanted).await {
            Ok(()) => written += 1,
            // Deleted meanwhile: nothing to report on.
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => errors.push(format!("{} {ns}/{name}: {e}", api.kind())),
        }
    }
    if errors.is_empty() {
        Ok(written)
    } else {
        Err(errors.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(type_: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status: "True".into(),
            reason: type_.into(),
            message: String::new(),
            observed_generation: Some(1),
            last_transition_time: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
        }
    }

    fn accepted() -> GatewayStatus {
        GatewayStatus {
            conditions: Some(vec![condition("Accepted"), condition("Programmed")]),
            ..GatewayStatus::default()
        }
    }

    fn programmed(status: &GatewayStatus) -> (&str, &str) {
        let c = status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "Programmed")
            .unwrap();
        (&c.status, &c.reason)
    }

    fn now() -> Time {
        Time(k8s_openapi::jiff::Timestamp::now())
    }

    #[test]
    fn an_allocated_vip_is_the_address() {
        let mut s = accepted();
        assert!(program_gateway(
            &mut s,
            Vip::Allocated("10.250.250.1".into()),
            None,
            None,
            &now()
        ));
        assert_eq!(programmed(&s), ("True", "Programmed"));
        assert_eq!(s.addresses.unwrap()[0].value, "10.250.250.1");
    }

    #[test]
    fn no_vip_yet_is_not_programmed_and_asks_for_a_retry() {
        for vip in [Vip::NotYet, Vip::Unknown("503 Service Unavailable".into())] {
            let mut s = accepted();
            assert!(!program_gateway(&mut s, vip, None, None, &now()));
            assert_eq!(programmed(&s), ("False", "AddressNotAssigned"));
            assert!(s.addresses.is_none());
        }
    }

    #[test]
    fn a_failed_sync_is_pending_with_its_cause() {
        let mut s = accepted();
        assert!(program_gateway(
            &mut s,
            Vip::NotYet,
            None,
            Some("pool: 400 bad field"),
            &now()
        ));
        assert_eq!(programmed(&s), ("False", "Pending"));
        let c = s.conditions.unwrap();
        assert!(c[1].message.contains("400 bad field"));
    }

    #[test]
    fn a_gateway_not_accepted_is_left_alone() {
        let mut s = GatewayStatus {
            conditions: Some(vec![condition("Programmed")]),
            ..GatewayStatus::default()
        };
        s.conditions.as_mut().unwrap()[0].status = "False".into();
        let before = s.clone();
        assert!(program_gateway(&mut s, Vip::NotYet, None, None, &now()));
        assert_eq!(s, before);
    }

    #[test]
    fn a_failed_vip_read_keeps_the_address_shown() {
        let mut shown = accepted();
        assert!(program_gateway(
            &mut shown,
            Vip::Allocated("10.250.250.1".into()),
            None,
            None,
            &now()
        ));
        let mut s = accepted();
        let vip = Vip::Unknown("503 Service Unavailable".into());
        // Retried, but the Gateway stays Programmed with its address.
        assert!(!program_gateway(&mut s, vip, Some(&shown), None, &now()));
        assert_eq!(s, shown);
    }
}
