//! The Gateway API translator as the runtime drives it ([`translate_core::Translator`]): the
//! kinds it reads, its objects turned into this crate's [`Snapshot`], the translation, and its
//! statuses and Events in the runtime's terms.

use std::collections::HashSet;

use gateway_api::backendtlspolicies::BackendTlsPolicy;
use gateway_api::gatewayclasses::GatewayClass;
use gateway_api::gateways::{Gateway, GatewayStatus};
use gateway_api::grpcroutes::GrpcRoute;
use gateway_api::httproutes::HttpRoute;
use gateway_api::referencegrants::ReferenceGrant;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;
use translate_core::translator::{AddressNeed, Addressed, KindSpec, Notice, ObjectStatus, Output};
use translate_core::{GroupKind, ObjectKey, Settings};

use crate::backend_tls::RouteBackendExtension;
use crate::listeners::GATEWAY_GROUP;
use crate::names;
use crate::programmed::{Vip, program_gateway};
use crate::snapshot::Snapshot;
use crate::translate::{StatusUpdate, Warning, translate};

/// AKO's RouteBackendExtension CRD: group, version, kind, plural.
pub const ROUTE_BACKEND_EXTENSION: (&str, &str, &str, &str) = (
    "ako.vmware.com",
    "v1alpha1",
    "RouteBackendExtension",
    "routebackendextensions",
);

/// The Gateway API translator: GatewayClass, Gateway, HTTPRoute, ReferenceGrant,
/// BackendTLSPolicy and AKO's RouteBackendExtension in; EVH virtual services, pools and
/// Gateway API status out.
#[derive(Debug, Clone, Copy, Default)]
pub struct GatewayApiTranslator;

impl GatewayApiTranslator {
    /// This crate's snapshot of the runtime's: the shared inputs as they are, the Gateway API
    /// kinds by key.
    pub fn snapshot(snapshot: &translate_core::Snapshot) -> Snapshot {
        let (group, _, kind, _) = ROUTE_BACKEND_EXTENSION;
        Snapshot {
            shared: snapshot.shared.clone(),
            gateway_classes: snapshot
                .typed::<GatewayClass>()
                .into_iter()
                .map(|((_, name), o)| (name, o))
                .collect(),
            gateways: snapshot.typed::<Gateway>(),
            http_routes: snapshot.typed::<HttpRoute>(),
            grpc_routes: snapshot.typed::<GrpcRoute>(),
            tls_routes: snapshot.typed::<gateway_api::tlsroutes::TlsRoute>(),
            listener_sets: snapshot.typed::<gateway_api::listenersets::ListenerSet>(),
            reference_grants: snapshot.typed::<ReferenceGrant>(),
            backend_tls_policies: snapshot.typed::<BackendTlsPolicy>(),
            route_backend_extensions: snapshot
                .objects::<RouteBackendExtension>(&GroupKind::new(group, kind))
                .map(|(k, o)| (k.clone(), o))
                .collect(),
            config_maps: snapshot.typed::<ConfigMap>(),
            extra: Default::default(),
        }
    }
}

impl translate_core::Translator for GatewayApiTranslator {
    fn name(&self) -> &'static str {
        "gateway-api"
    }

    fn kinds(&self) -> Vec<KindSpec> {
        let (group, version, kind, plural) = ROUTE_BACKEND_EXTENSION;
        vec![
            // v1beta1 of these (still served by the CRDs) has the fields of v1: manifests in
            // either read the same.
            KindSpec::typed::<GatewayClass>()
                .also_version("v1beta1")
                .with_status(),
            KindSpec::typed::<Gateway>()
                .also_version("v1beta1")
                .keeping_status(),
            KindSpec::typed::<HttpRoute>()
                .also_version("v1beta1")
                .with_status(),
            KindSpec::typed::<GrpcRoute>()
                .with_status()
                .optional("GRPCRoutes are not read"),
            KindSpec::typed::<gateway_api::tlsroutes::TlsRoute>()
                .with_status()
                .optional("TLSRoutes are not read"),
            KindSpec::typed::<gateway_api::listenersets::ListenerSet>()
                .with_status()
                .optional("ListenerSets are not read"),
            KindSpec::typed::<ReferenceGrant>()
                .also_version("v1beta1")
                .optional("references to Secrets and Services in other namespaces are refused"),
            // v1alpha3 (v1.1–v1.3) has the same fields as v1.
            KindSpec::typed::<BackendTlsPolicy>()
                .also_version("v1alpha3")
                .with_status()
                .optional("BackendTLSPolicies are not read"),
            KindSpec::custom::<RouteBackendExtension>(group, version, kind, plural, true)
                .optional("RouteBackendExtensions are not read"),
            KindSpec::typed::<ConfigMap>(),
        ]
    }

    fn translate(
        &self,
        snapshot: &translate_core::Snapshot,
        settings: &Settings,
        now: &Time,
    ) -> Output {
        let snapshot = Self::snapshot(snapshot);
        // The Gateway each ListenerSet attaches to: its status waits for that Gateway's VIP.
        let set_parents: std::collections::BTreeMap<(String, String), (String, String)> = snapshot
            .listener_sets
            .iter()
            .filter_map(|(k, s)| Some((k.clone(), crate::listener_set::parent_of(k, s)?)))
            .collect();
        let t = translate(&snapshot, settings, now);
        let notices = notices(&t.warnings, &t.statuses);
        let statuses = t
            .statuses
            .into_iter()
            .filter_map(|s| object_status(s, settings, &set_parents))
            .collect();
        Output {
            model: t.model,
            statuses,
            notices,
            pool_backends: t.pool_backends,
        }
    }

    fn address(
        &self,
        status: &mut ObjectStatus,
        addressed: &[Addressed],
        previous: Option<&Value>,
        now: &Time,
    ) -> bool {
        let Some(addressed) = addressed.first().cloned() else {
            return true;
        };
        if status.key.kind() == "ListenerSet" {
            return listener_set_addressed(status, &addressed, now);
        }
        if status.key.kind() != "Gateway" {
            return true;
        }
        let Ok(mut typed) = serde_json::from_value::<GatewayStatus>(status.status.clone()) else {
            return true;
        };
        let previous: Option<GatewayStatus> =
            previous.and_then(|p| serde_json::from_value(p.clone()).ok());
        let (vip, failure) = match addressed {
            Addressed::Vip(ip) => (Vip::Allocated(ip), None),
            Addressed::NotYet => (Vip::NotYet, None),
            Addressed::Unknown(why) => (Vip::Unknown(why), None),
            Addressed::Failed(why) => (Vip::NotYet, Some(why)),
        };
        let settled = program_gateway(&mut typed, vip, previous.as_ref(), failure.as_deref(), now);
        if let Ok(v) = serde_json::to_value(&typed) {
            status.status = v;
        }
        settled
    }
}

fn key(kind: &str, (namespace, name): &(String, String)) -> ObjectKey {
    ObjectKey::new(GATEWAY_GROUP, kind, namespace.clone(), name.clone())
}

/// A ListenerSet's status once its Gateway's VIP is known: it is not programmed before the
/// Gateway has an address (and the status is written again when it has one).
fn listener_set_addressed(status: &mut ObjectStatus, addressed: &Addressed, now: &Time) -> bool {
    let why = match addressed {
        Addressed::Vip(_) => return true,
        Addressed::NotYet => "the parent Gateway's VIP is not allocated yet".to_owned(),
        Addressed::Unknown(why) => format!("the parent Gateway's VIP cannot be read: {why}"),
        Addressed::Failed(why) => {
            format!("the Avi controller did not take the parent Gateway's configuration: {why}")
        }
    };
    let Ok(mut typed) = serde_json::from_value::<gateway_api::listenersets::ListenerSetStatus>(
        status.status.clone(),
    ) else {
        return true;
    };
    if let Some(c) = typed.conditions.as_mut() {
        let programmed = c
            .iter()
            .any(|c| c.type_ == "Programmed" && c.status == "True");
        if programmed {
            crate::programmed::set(c, "Programmed", false, "ParentNotProgrammed", &why, now);
        }
    }
    if let Ok(v) = serde_json::to_value(&typed) {
        status.status = v;
    }
    false
}

/// A status update in the runtime's terms; a Gateway's, and a ListenerSet's, wait for the
/// Gateway's VIP.
fn object_status(
    s: StatusUpdate,
    settings: &Settings,
    set_parents: &std::collections::BTreeMap<(String, String), (String, String)>,
) -> Option<ObjectStatus> {
    let gateway_need = |gw: &(String, String)| {
        let parent = names::parent_vs(&settings.cluster_name, &gw.0, &gw.1);
        AddressNeed {
            vsvip: names::vsvip(&parent),
            virtual_service: parent,
            hosts: Vec::new(),
        }
    };
    let (key, status, addresses) = match s {
        StatusUpdate::GatewayClass { name, status } => (
            ObjectKey::new(GATEWAY_GROUP, "GatewayClass", "", name),
            serde_json::to_value(status),
            Vec::new(),
        ),
        StatusUpdate::Gateway { key: k, status } => {
            let need = gateway_need(&k);
            (key("Gateway", &k), serde_json::to_value(status), vec![need])
        }
        StatusUpdate::HttpRoute { key: k, status } => (
            key("HTTPRoute", &k),
            serde_json::to_value(status),
            Vec::new(),
        ),
        StatusUpdate::BackendTlsPolicy { key: k, status } => (
            key("BackendTLSPolicy", &k),
            serde_json::to_value(status),
            Vec::new(),
        ),
        StatusUpdate::Route {
            group,
            kind,
            key: k,
            status,
        } => {
            let needs = match set_parents.get(&k) {
                Some(gw) if kind == "ListenerSet" => vec![gateway_need(gw)],
                _ => Vec::new(),
            };
            (ObjectKey::new(group, kind, k.0, k.1), Ok(status), needs)
        }
    };
    Some(ObjectStatus {
        key,
        status: status.ok()?,
        addresses,
    })
}

/// The Events a translation calls for: every warning (a fact such as a backend outside the
/// mesh as Normal, anything wrong as Warning), and per route parent `Accepted` (Normal, once
/// the controller holds the route's objects) or `Rejected` (Warning, with the status's
/// reason) — `kubectl describe httproute` then says what happened, as it does for AKO's
/// Ingresses.
pub fn notices(warnings: &[Warning], statuses: &[StatusUpdate]) -> Vec<Notice> {
    // A route on several Gateways repeats its backends' warnings once per Gateway: one Event
    // each.
    let mut seen = HashSet::new();
    let mut out: Vec<Notice> = warnings
        .iter()
        .filter(|w| seen.insert((w.kind, &w.key, w.reason, &w.message)))
        .map(|w| {
            let object = key(w.kind, &w.key);
            if w.is_fault() {
                Notice::warning(object, w.reason, w.message.clone())
            } else {
                Notice::normal(object, w.reason, w.message.clone())
            }
        })
        .collect();
    for s in statuses {
        let StatusUpdate::HttpRoute { key: k, status } = s else {
            continue;
        };
        for p in &status.parents {
            let Some(c) = p.conditions.iter().find(|c| c.type_ == "Accepted") else {
                continue;
            };
            let gateway = format!(
                "{}/{}",
                p.parent_ref.namespace.as_deref().unwrap_or(&k.0),
                p.parent_ref.name
            );
            if c.status == "True" {
                // Accepted but not yet on the controller is not news: the Event waits for a
                // sync that succeeded, so that it means the route is served.
                out.push(
                    Notice::normal(
                        key("HTTPRoute", k),
                        "Accepted",
                        format!(
                            "accepted by Gateway {gateway}; its virtual service is synced to Avi"
                        ),
                    )
                    .once_synced(),
                );
            } else {
                out.push(Notice::warning(
                    key("HTTPRoute", k),
                    "Rejected",
                    format!(
                        "not accepted by Gateway {gateway}: {} ({})",
                        c.message, c.reason
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use gateway_api::httproutes::{
        HttpRouteStatus, HttpRouteStatusParents, HttpRouteStatusParentsParentRef,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
    use translate_core::Severity;

    use super::*;

    #[test]
    fn a_listener_set_is_programmed_only_once_its_gateways_vip_is() {
        let status = serde_json::json!({
            "conditions": [
                {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "",
                 "lastTransitionTime": "2026-01-01T00:00:00Z"},
                {"type": "Programmed", "status": "True", "reason": "Programmed", "message": "",
                 "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            "listeners": []});
        let object = |status: &Value| ObjectStatus {
            key: ObjectKey::new(GATEWAY_GROUP, "ListenerSet", "team", "extra"),
            status: status.clone(),
            addresses: Vec::new(),
        };
        let now = Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap());
        let t = GatewayApiTranslator;
        use translate_core::Translator as _;
        let mut s = object(&status);
        assert!(t.address(&mut s, &[Addressed::Vip("10.0.0.1".into())], None, &now));
        assert_eq!(s.status, status);
        let mut s = object(&status);
        assert!(!t.address(&mut s, &[Addressed::NotYet], None, &now));
        let programmed = s.status["conditions"][1].clone();
        assert_eq!(programmed["status"], "False");
        assert_eq!(programmed["reason"], "ParentNotProgrammed");
        assert_eq!(s.status["conditions"][0]["status"], "True");
    }

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
        let n = notices(&[], &[route("a", true, "Accepted")]);
        assert_eq!(n.len(), 1);
        assert!(n[0].when_synced);
        assert_eq!(n[0].severity, Severity::Normal);
        assert_eq!(n[0].reason, "Accepted");
        assert_eq!(
            n[0].object,
            ObjectKey::new(GATEWAY_GROUP, "HTTPRoute", "apps", "a")
        );
        assert!(
            n[0].message.contains("Gateway infra/gw"),
            "{}",
            n[0].message
        );
    }

    #[test]
    fn rejected_routes_warn_with_the_status_reason() {
        let n = notices(&[], &[route("b", false, "NotAllowedByListeners")]);
        assert_eq!(n.len(), 1);
        assert!(!n[0].when_synced);
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
    fn the_runtime_snapshot_becomes_this_crates() {
        let spec_kinds = translate_core::Translator::kinds(&GatewayApiTranslator);
        let mut s = translate_core::Snapshot::default();
        for o in [
            serde_json::json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
                "metadata": {"name": "avi-lb"}, "spec": {"controllerName": "ako.vmware.com/avi-lb"}}),
            serde_json::json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                "metadata": {"name": "gw", "namespace": "infra"},
                "spec": {"gatewayClassName": "avi-lb", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}),
            serde_json::json!({"apiVersion": "gateway.networking.k8s.io/v1alpha3", "kind": "BackendTLSPolicy",
                "metadata": {"name": "p", "namespace": "apps"},
                "spec": {"targetRefs": [], "validation": {"hostname": "x"}}}),
            serde_json::json!({"apiVersion": "ako.vmware.com/v1alpha1", "kind": "RouteBackendExtension",
                "metadata": {"name": "rbe", "namespace": "apps"}, "spec": {}}),
            serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "apps"}}),
        ] {
            s.insert_json(o, &spec_kinds).unwrap();
        }
        let g = GatewayApiTranslator::snapshot(&s);
        assert!(g.gateway_classes.contains_key("avi-lb"));
        assert_eq!(g.gateways.len(), 1);
        assert_eq!(g.backend_tls_policies.len(), 1);
        assert_eq!(g.route_backend_extensions.len(), 1);
        assert_eq!(g.services.len(), 1);
        let out = translate_core::Translator::translate(
            &GatewayApiTranslator,
            &s,
            &Settings::default(),
            &Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
        );
        let gw = out
            .statuses
            .iter()
            .find(|s| s.key.kind() == "Gateway")
            .unwrap();
        assert_eq!(
            gw.addresses[0].virtual_service,
            names::parent_vs("cluster", "infra", "gw")
        );
        assert!(
            out.model
                .virtual_services
                .iter()
                .any(|v| v.name == names::parent_vs("cluster", "infra", "gw"))
        );
    }
}
