//! A Gateway's programming outcome and address, once the controller has said what became of
//! its virtual service and VIP.

use gateway_api::gateways::{GatewayStatus, GatewayStatusAddresses};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// Sets condition `type_` (when present) to `ok` with `reason` and `message`, moving its
/// transition time only when its status changes.
pub(crate) fn set(
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
    // The translation already said why nothing is programmed (an unusable address, a name Avi
    // cannot hold): no VIP will come, and that reason stays.
    let refused = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Programmed" && c.status == "False");
    if refused && failure.is_none() {
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
