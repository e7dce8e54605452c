//! The conformance harness (gateway-api.md §6.1): the suite's base manifests
//! (`tests/conformance/base.yaml`) plus a test's own, translated by a controller that can answer
//! any status (30.2.1); the statuses the suite reads; requests resolved through the produced
//! model ([`crate::support::resolve`]).

use avi_client::models::{HttpHdrAction, Pool};
use gateway_api::backendtlspolicies::BackendTlsPolicyStatus;
use gateway_api::gatewayclasses::GatewayClassStatus;
use gateway_api::gateways::{GatewayStatus, GatewayStatusListeners};
use gateway_api::httproutes::{HttpRouteStatus, HttpRouteStatusParents};
use gateway_translate::{Settings, Snapshot, StatusUpdate, Translation, names, translate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde_json::Value;

use super::resolve::{Outcome, Request, resolve};

/// The suite's namespaces.
pub const INFRA: &str = "gateway-conformance-infra";
pub const APP: &str = "gateway-conformance-app-backend";
pub const WEB: &str = "gateway-conformance-web-backend";

/// `spec.controllerName` of the suite's GatewayClass (`avi-lb`).
pub const CONTROLLER: &str = "ako.vmware.com/avi-lb";

/// The base manifests plus `extra` (multi-document YAML), as a snapshot.
pub fn snapshot(extra: &str) -> Snapshot {
    let mut snapshot = Snapshot::default();
    for text in [include_str!("../conformance/base.yaml"), extra] {
        let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap();
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            snapshot.insert_json(doc).unwrap();
        }
    }
    snapshot
}

/// Translates a snapshot as the suite's controller (30.2.1: local responses of any status).
pub fn translate_snapshot(snapshot: &Snapshot) -> Translation {
    let settings = Settings {
        controller_version: "30.2.1".into(),
        ..Settings::default()
    };
    let now = Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap());
    translate(snapshot, &settings, &now)
}

/// The base manifests plus `extra`, translated.
pub fn run(extra: &str) -> Translation {
    translate_snapshot(&snapshot(extra))
}

/// The parent (EVH) virtual service of Gateway `gw` in the infra namespace.
pub fn parent(gw: &str) -> String {
    names::parent_vs("cluster", INFRA, gw)
}

/// What the Service Engine does with `req` sent to Gateway `gw` (infra namespace).
pub fn send(t: &Translation, gw: &str, req: &Request) -> Outcome {
    resolve(&t.model, &parent(gw), req)
}

/// `GET http://example.com:80<path>`: a request to a Gateway whose routes have no hostnames
/// (the suite sends the Gateway's address as Host).
pub fn get(path: &str) -> Request {
    Request::get(80, "example.com", path)
}

/// `GET <path>` with Host `host` on port 80.
pub fn get_host(host: &str, path: &str) -> Request {
    Request::get(80, host, path)
}

pub fn try_route_status(t: &Translation, ns: &str, name: &str) -> Option<HttpRouteStatus> {
    t.statuses.iter().find_map(|s| match s {
        StatusUpdate::HttpRoute { key, status } if key.0 == ns && key.1 == name => {
            Some(status.clone())
        }
        _ => None,
    })
}

pub fn route_status(t: &Translation, ns: &str, name: &str) -> HttpRouteStatus {
    try_route_status(t, ns, name).unwrap_or_else(|| panic!("no status for HTTPRoute {ns}/{name}"))
}

/// The route's only parent entry for Gateway `gw` (infra namespace).
pub fn route_parent(t: &Translation, ns: &str, name: &str, gw: &str) -> HttpRouteStatusParents {
    let s = route_status(t, ns, name);
    let mut found: Vec<_> = s
        .parents
        .iter()
        .filter(|p| p.parent_ref.name == gw)
        .cloned()
        .collect();
    assert_eq!(found.len(), 1, "parents for {gw} of {ns}/{name}: {s:?}");
    found.remove(0)
}

pub fn gateway_status(t: &Translation, name: &str) -> GatewayStatus {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::Gateway { key, status } if key.0 == INFRA && key.1 == name => {
                Some(status.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no status for Gateway {INFRA}/{name}"))
}

/// The status of listener `listener` of Gateway `gw`.
pub fn listener_status(t: &Translation, gw: &str, listener: &str) -> GatewayStatusListeners {
    let s = gateway_status(t, gw);
    s.listeners
        .iter()
        .flatten()
        .find(|l| l.name == listener)
        .cloned()
        .unwrap_or_else(|| panic!("no listener {listener} in {s:?}"))
}

/// The kinds a listener status lists as supported (`group/kind`).
pub fn supported_kinds(l: &GatewayStatusListeners) -> Vec<String> {
    l.supported_kinds
        .iter()
        .flatten()
        .map(|k| format!("{}/{}", k.group.as_deref().unwrap_or(""), k.kind))
        .collect()
}

pub const HTTP_ROUTE_KIND: &str = "gateway.networking.k8s.io/HTTPRoute";

pub fn gateway_class_status(t: &Translation, name: &str) -> GatewayClassStatus {
    t.statuses
        .iter()
        .find_map(|s| match s {
            StatusUpdate::GatewayClass { name: n, status } if n == name => Some(status.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no status for GatewayClass {name}"))
}

pub fn try_policy_status(t: &Translation, name: &str) -> Option<BackendTlsPolicyStatus> {
    t.statuses.iter().find_map(|s| match s {
        StatusUpdate::BackendTlsPolicy { key, status } if key.0 == INFRA && key.1 == name => {
            Some(status.clone())
        }
        _ => None,
    })
}

/// Our conditions of BackendTLSPolicy `name` (infra) for ancestor Gateway `gw`, found as the
/// suite finds them: by `ancestorRef.name`, namespace unset or equal.
pub fn policy_ancestor(t: &Translation, name: &str, gw: &str) -> Vec<Condition> {
    let s = try_policy_status(t, name)
        .unwrap_or_else(|| panic!("no status for BackendTLSPolicy {INFRA}/{name}"));
    let entries: Vec<_> = s
        .ancestors
        .iter()
        .filter(|a| {
            a.ancestor_ref.name == gw
                && a.ancestor_ref
                    .namespace
                    .as_deref()
                    .is_none_or(|n| n == INFRA)
                && a.controller_name == CONTROLLER
        })
        .collect();
    assert_eq!(entries.len(), 1, "ancestors {gw} of {name}: {s:?}");
    entries[0].conditions.clone()
}

pub fn condition<'a>(conditions: &'a [Condition], type_: &str) -> &'a Condition {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} condition in {conditions:?}"))
}

/// `type_` has this status and, when given, exactly this reason.
pub fn assert_condition(conditions: &[Condition], type_: &str, status: &str, reason: Option<&str>) {
    let c = condition(conditions, type_);
    assert_eq!(c.status, status, "{type_}: {c:?}");
    if let Some(reason) = reason {
        assert_eq!(c.reason, reason, "{type_}: {c:?}");
    }
}

/// Every condition carries `generation` (the suite rejects stale `observedGeneration`s).
pub fn assert_generation(conditions: &[Condition], generation: i64) {
    for c in conditions {
        assert_eq!(c.observed_generation, Some(generation), "{c:?}");
    }
}

/// `GatewayAndHTTPRoutesMustBeAccepted`: the route has `parents` entries, each
/// Accepted=True/Accepted, ResolvedRefs=True/ResolvedRefs, our controllerName, and a parentRef
/// with group and kind filled in.
pub fn assert_accepted(t: &Translation, ns: &str, name: &str, parents: usize) {
    let s = route_status(t, ns, name);
    assert_eq!(s.parents.len(), parents, "{s:?}");
    for p in &s.parents {
        assert_condition(&p.conditions, "Accepted", "True", Some("Accepted"));
        assert_condition(&p.conditions, "ResolvedRefs", "True", Some("ResolvedRefs"));
        assert_eq!(p.controller_name, CONTROLLER);
        assert_eq!(
            p.parent_ref.group.as_deref(),
            Some("gateway.networking.k8s.io")
        );
        assert_eq!(p.parent_ref.kind.as_deref(), Some("Gateway"));
    }
}

/// Every listener of Gateway `gw` is Accepted, Programmed and ResolvedRefs (the suite's
/// readiness check for a Gateway it sends traffic to), and so is the Gateway.
pub fn assert_gateway_ready(t: &Translation, gw: &str) {
    let s = gateway_status(t, gw);
    let conditions = s.conditions.clone().unwrap_or_default();
    assert_condition(&conditions, "Accepted", "True", None);
    assert_condition(&conditions, "Programmed", "True", None);
    for l in s.listeners.iter().flatten() {
        assert_condition(&l.conditions, "Accepted", "True", None);
        assert_condition(&l.conditions, "Programmed", "True", None);
        assert_condition(&l.conditions, "ResolvedRefs", "True", None);
    }
}

/// The backend (`name` in infra, or `namespace/name`) that takes all of `req`'s traffic on
/// Gateway `gw`, or `None` for a 404.
pub fn expect(t: &Translation, gw: &str, cases: &[(Request, Option<&str>)]) {
    for (req, want) in cases {
        let got = send(t, gw, req);
        match want {
            Some(backend) => {
                assert_eq!(
                    got.backend().as_deref(),
                    Some(qualified(backend).as_str()),
                    "{req:?} → {got:?}"
                );
                // Path and query reach the backend unchanged, Host too (port included).
                if let Outcome::Forward { host, path, .. } = &got {
                    assert_eq!(host, &req.host, "{req:?}");
                    assert_eq!(path, &req.path, "{req:?}");
                }
            }
            None => assert_eq!(got, Outcome::Local(404), "{req:?}"),
        }
    }
}

/// The status a client sees for each request on Gateway `gw`.
pub fn expect_status(t: &Translation, gw: &str, cases: &[(Request, u16)]) {
    for (req, want) in cases {
        let got = send(t, gw, req);
        assert_eq!(got.status(), *want, "{req:?} → {got:?}");
    }
}

/// `backend` as `namespace/name` (a bare name is in the infra namespace).
pub fn qualified(backend: &str) -> String {
    if backend.contains('/') {
        backend.to_owned()
    } else {
        format!("{INFRA}/{backend}")
    }
}

/// All values of header `name` (any case), joined with `,` as the suite's echo server reports
/// them; `None` when absent.
pub fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// What the backend sees of a forwarded request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `namespace/name` of the only backend.
    pub backend: String,
    pub host: String,
    /// Path with the query string.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The response header actions the Service Engine applies on the way back.
    pub response_actions: Vec<HttpHdrAction>,
}

/// What the backend sees of `req` on Gateway `gw`; panics unless it is forwarded to one
/// backend.
pub fn forwarded(t: &Translation, gw: &str, req: &Request) -> Seen {
    let got = send(t, gw, req);
    let backend = got
        .backend()
        .unwrap_or_else(|| panic!("{req:?} does not reach one backend: {got:?}"));
    match got {
        Outcome::Forward {
            host,
            path,
            headers,
            response_actions,
            ..
        } => Seen {
            backend,
            host,
            path,
            headers,
            response_actions,
        },
        _ => unreachable!("backend() is only Some for Forward"),
    }
}

/// The pool a forwarded request goes to (its only share).
pub fn pool_of<'a>(t: &'a Translation, outcome: &Outcome) -> &'a Pool {
    let Outcome::Forward { shares, .. } = outcome else {
        panic!("not forwarded: {outcome:?}");
    };
    assert_eq!(shares.len(), 1, "{shares:?}");
    t.model
        .pools
        .iter()
        .find(|p| p.name == shares[0].pool)
        .unwrap_or_else(|| panic!("no pool {}", shares[0].pool))
}

/// Writes the statuses of `t` into the objects of `snapshot`, as the API server holds them
/// for the next reconciliation (so a generation bump starts from the previous conditions).
pub fn store_statuses(t: &Translation, snapshot: &mut Snapshot) {
    for s in &t.statuses {
        match s {
            StatusUpdate::GatewayClass { name, status } => {
                if let Some(c) = snapshot.gateway_classes.get_mut(name) {
                    std::sync::Arc::make_mut(c).status = Some(status.clone());
                }
            }
            StatusUpdate::Gateway { key, status } => {
                if let Some(g) = snapshot.gateways.get_mut(key) {
                    std::sync::Arc::make_mut(g).status = Some(status.clone());
                }
            }
            StatusUpdate::HttpRoute { key, status } => {
                if let Some(r) = snapshot.http_routes.get_mut(key) {
                    std::sync::Arc::make_mut(r).status = Some(status.clone());
                }
            }
            StatusUpdate::BackendTlsPolicy { key, status } => {
                if let Some(p) = snapshot.backend_tls_policies.get_mut(key) {
                    std::sync::Arc::make_mut(p).status = Some(status.clone());
                }
            }
            StatusUpdate::Route { .. } => {}
        }
    }
}
