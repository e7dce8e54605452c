//! What the controller tells users through Events: the translation's warnings (ambient or
//! mixed backends, Istio objects pending, overlapping rules) and, for every route parent, whether
//! the route was accepted — `kubectl describe httproute` then says what happened, as it does
//! for AKO's Ingresses.
//!
//! An Event is raised when its fact becomes true, not at every reconcile: a resync repeats
//! nothing, and a fact that stops and starts again is raised again.

use std::collections::BTreeSet;

use gateway_translate::{ObjectKey, StatusUpdate, Warning};

/// Whether an Event reports normal operation or something to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

/// One Event to raise.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Notice {
    /// Normal or Warning.
    pub severity: Severity,
    /// Kind of the object (`HTTPRoute`).
    pub kind: &'static str,
    /// Namespace and name of the object.
    pub key: ObjectKey,
    /// Reason (UpperCamelCase).
    pub reason: &'static str,
    /// For humans.
    pub message: String,
}

impl Notice {
    fn warning(w: &Warning) -> Notice {
        Notice {
            severity: if w.is_fault() {
                Severity::Warning
            } else {
                Severity::Normal
            },
            kind: w.kind,
            key: w.key.clone(),
            reason: w.reason,
            message: w.message.clone(),
        }
    }
}

/// The Events a reconcile's outcome calls for: every translation warning, and per route parent
/// `Accepted` (Normal, once the controller holds the route's objects) or `Rejected` (Warning,
/// with the status's reason).
pub fn notices(warnings: &[Warning], statuses: &[StatusUpdate], synced: bool) -> Vec<Notice> {
    // A route on several Gateways repeats its backends' warnings once per Gateway: one Event
    // each.
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Notice> = warnings
        .iter()
        .filter(|w| seen.insert((w.kind, &w.key, w.reason, &w.message)))
        .map(Notice::warning)
        .collect();
    for s in statuses {
        let StatusUpdate::HttpRoute { key, status } = s else {
            continue;
        };
        for p in &status.parents {
            let Some(c) = p.conditions.iter().find(|c| c.type_ == "Accepted") else {
                continue;
            };
            let gateway = format!(
                "{}/{}",
                p.parent_ref.namespace.as_deref().unwrap_or(&key.0),
                p.parent_ref.name
            );
            if c.status == "True" {
                // Accepted but not yet on the controller is not news: the Event waits for a
                // sync that succeeded, so that it means the route is served.
                if synced {
                    out.push(Notice {
                        severity: Severity::Normal,
                        kind: "HTTPRoute",
                        key: key.clone(),
                        reason: "Accepted",
                        message: format!(
                            "accepted by Gateway {gateway}; its virtual service is synced to Avi"
                        ),
                    });
                }
            } else {
                out.push(Notice {
                    severity: Severity::Warning,
                    kind: "HTTPRoute",
                    key: key.clone(),
                    reason: "Rejected",
                    message: format!(
                        "not accepted by Gateway {gateway}: {} ({})",
                        c.message, c.reason
                    ),
                });
            }
        }
    }
    out
}

/// The notices already raised, so that each is raised once while it holds.
#[derive(Debug, Default)]
pub struct Reported {
    seen: BTreeSet<Notice>,
}

impl Reported {
    /// The notices of `now` that were not true at the last call; `now` becomes what is
    /// remembered, so a notice that went away is raised again when it comes back.
    ///
    /// When `complete` is false (the sync failed part-way), notices that went missing are
    /// kept: their absence may only mean the pass stopped early.
    pub fn fresh(&mut self, now: Vec<Notice>, complete: bool) -> Vec<Notice> {
        let fresh: Vec<Notice> = now
            .iter()
            .filter(|n| !self.seen.contains(*n))
            .cloned()
            .collect();
        if complete {
            self.seen = now.into_iter().collect();
        } else {
            self.seen.extend(now);
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_api::httproutes::HttpRouteStatusParentsParentRef;
    use gateway_api::httproutes::{HttpRouteStatus, HttpRouteStatusParents};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

    fn route(name: &str, accepted: bool, reason: &str) -> StatusUpdate {
        StatusUpdate::HttpRoute {
            key: ("apps".into(), name.into()),
            status: HttpRouteStatus {
                parents: vec![HttpRouteStatusParents {
                    controller_name: "ako.vmware.com/avi-lb".into(),
                    parent_ref: HttpRouteStatusParentsParentRef {
                        name: "gw".into(),
                        namespace: Some("infra".into()),
                        ..Default::default()
                    },
                    conditions: vec![Condition {
                        type_: "Accepted".into(),
                        status: if accepted { "True" } else { "False" }.into(),
                        reason: reason.into(),
                        message: if accepted { "" } else { "no listener matches" }.into(),
                        last_transition_time: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
                        observed_generation: None,
                    }],
                }],
            },
        }
    }

    #[test]
    fn accepted_routes_are_announced_only_after_a_sync() {
        let statuses = [route("a", true, "Accepted")];
        assert!(notices(&[], &statuses, false).is_empty());
        let n = notices(&[], &statuses, true);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].severity, Severity::Normal);
        assert_eq!(n[0].reason, "Accepted");
        assert!(
            n[0].message.contains("Gateway infra/gw"),
            "{}",
            n[0].message
        );
    }

    #[test]
    fn rejected_routes_warn_with_the_status_reason() {
        let n = notices(&[], &[route("b", false, "NotAllowedByListeners")], false);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].severity, Severity::Warning);
        assert_eq!(n[0].reason, "Rejected");
        assert!(
            n[0].message
                .contains("no listener matches (NotAllowedByListeners)"),
            "{}",
            n[0].message
        );
    }

    #[test]
    fn a_notice_is_raised_once_while_it_holds_and_again_when_it_returns() {
        let mut reported = Reported::default();
        let accepted = notices(&[], &[route("a", true, "Accepted")], true);
        assert_eq!(reported.fresh(accepted.clone(), true).len(), 1);
        assert!(
            reported.fresh(accepted.clone(), true).is_empty(),
            "a resync repeats nothing"
        );
        let rejected = notices(&[], &[route("a", false, "NotAllowedByListeners")], true);
        assert_eq!(reported.fresh(rejected, true).len(), 1);
        assert_eq!(
            reported.fresh(accepted, true).len(),
            1,
            "accepted again is news"
        );
    }

    #[test]
    fn an_incomplete_pass_forgets_nothing() {
        let mut reported = Reported::default();
        let both = notices(
            &[],
            &[route("a", true, "Accepted"), route("b", true, "Accepted")],
            true,
        );
        assert_eq!(reported.fresh(both.clone(), true).len(), 2);
        assert!(reported.fresh(Vec::new(), false).is_empty());
        assert!(reported.fresh(both, true).is_empty());
    }
}
