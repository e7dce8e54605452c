//! Which listeners an HTTPRoute attaches to, through each of its parentRefs, and why not when
//! it does not. Semantics: `shared/reference/gateway-api.md` §2.1–§2.2.

use std::collections::BTreeMap;

use gateway_api::gateways::GatewayListenersAllowedRoutesNamespacesFrom as From;
use gateway_api::httproutes::{HttpRoute, HttpRouteParentRefs};

use crate::gateway_class;
use crate::hostnames::{EffectiveHostnames, Hostname, intersect};
use crate::listeners::{GATEWAY_GROUP, Listener, Problem};
use crate::settings::Settings;
use crate::snapshot::{ObjectKey, Snapshot};

/// A parentRef with its defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRef {
    /// Group (default `gateway.networking.k8s.io`).
    pub group: String,
    /// Kind (default `Gateway`).
    pub kind: String,
    /// Namespace (default: the route's).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Listener name.
    pub section_name: Option<String>,
    /// Listener port.
    pub port: Option<i32>,
    /// For a ListenerSet parent, the Gateway the ListenerSet attaches to (set by [`attach`]).
    pub via: Option<ObjectKey>,
}

/// A parentRef as a route status entry holds it (every route kind's status type).
#[derive(Debug, Clone, Copy)]
pub struct WrittenRef<'a> {
    /// Group.
    pub group: Option<&'a str>,
    /// Kind.
    pub kind: Option<&'a str>,
    /// Name.
    pub name: &'a str,
    /// Namespace.
    pub namespace: Option<&'a str>,
    /// Listener name.
    pub section_name: Option<&'a str>,
    /// Listener port.
    pub port: Option<i32>,
}

macro_rules! written_ref_from {
    ($($t:ty),*) => {$(
        impl<'a> std::convert::From<&'a $t> for WrittenRef<'a> {
            fn from(r: &'a $t) -> Self {
                WrittenRef {
                    group: r.group.as_deref(),
                    kind: r.kind.as_deref(),
                    name: &r.name,
                    namespace: r.namespace.as_deref(),
                    section_name: r.section_name.as_deref(),
                    port: r.port,
                }
            }
        }
    )*};
}

written_ref_from!(
    gateway_api::httproutes::HttpRouteStatusParentsParentRef,
    gateway_api::grpcroutes::GrpcRouteStatusParentsParentRef,
    gateway_api::tlsroutes::TlsRouteStatusParentsParentRef
);

impl ParentRef {
    /// Whether a route status entry's parentRef (as written for some parentRef) is this one:
    /// group, kind, name, namespace, sectionName and port all alike, so a ListenerSet and a
    /// Gateway of one name, or two listeners of one Gateway, never take each other's previous
    /// conditions.
    pub fn written_as<'a>(&self, r: impl Into<WrittenRef<'a>>) -> bool {
        let r = r.into();
        r.group.unwrap_or(GATEWAY_GROUP) == self.group
            && r.kind.unwrap_or("Gateway") == self.kind
            && r.name == self.name
            && r.namespace == Some(self.namespace.as_str())
            && r.section_name == self.section_name.as_deref()
            && r.port == self.port
    }

    /// Fills in the defaults of a route's parentRef.
    pub fn of(r: &HttpRouteParentRefs, route_namespace: &str) -> Self {
        ParentRef {
            group: r.group.clone().unwrap_or_else(|| GATEWAY_GROUP.to_owned()),
            kind: r.kind.clone().unwrap_or_else(|| "Gateway".to_owned()),
            namespace: r
                .namespace
                .clone()
                .unwrap_or_else(|| route_namespace.to_owned()),
            name: r.name.clone(),
            section_name: r.section_name.clone(),
            port: r.port,
            via: None,
        }
    }

    /// The Gateway it names, or the one the ListenerSet it names attaches to.
    pub fn gateway(&self) -> Option<ObjectKey> {
        if self.group != GATEWAY_GROUP {
            return None;
        }
        match self.kind.as_str() {
            "Gateway" => Some((self.namespace.clone(), self.name.clone())),
            "ListenerSet" => self.via.clone(),
            _ => None,
        }
    }

    /// The ListenerSet it names, if it names one.
    pub fn listener_set(&self) -> Option<ObjectKey> {
        (self.group == GATEWAY_GROUP && self.kind == "ListenerSet")
            .then(|| (self.namespace.clone(), self.name.clone()))
    }
}

/// The route attached to one listener, with the hostnames it serves there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// Index of the listener in the Gateway's spec.
    pub listener: usize,
    /// The effective hostnames (route ∩ listener).
    pub hostnames: EffectiveHostnames,
}

/// The outcome of one parentRef that names a Gateway of our class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentAttachment {
    /// Index of the parentRef in the route's spec.
    pub index: usize,
    /// The parentRef, defaulted.
    pub parent: ParentRef,
    /// The listeners it attached to, or why none.
    pub result: Result<Vec<Attached>, Problem>,
}

/// Every parentRef of `route` that names a Gateway of our class, evaluated against that
/// Gateway's evaluated listeners. Parents of other controllers are left out (we write no
/// status for them).
pub fn attach(
    route: &HttpRoute,
    snapshot: &Snapshot,
    settings: &Settings,
    listeners: &BTreeMap<ObjectKey, Vec<Listener>>,
) -> Vec<ParentAttachment> {
    attach_kind(route, "HTTPRoute", snapshot, settings, listeners)
}

/// [`attach`] for a route of `kind` given in HTTPRoute form (a GRPCRoute's equivalent): a
/// listener must support that kind.
pub fn attach_kind(
    route: &HttpRoute,
    kind: &str,
    snapshot: &Snapshot,
    settings: &Settings,
    listeners: &BTreeMap<ObjectKey, Vec<Listener>>,
) -> Vec<ParentAttachment> {
    let route_ns = route.metadata.namespace.clone().unwrap_or_default();
    let mut route_hosts: Vec<Hostname> = Vec::new();
    let mut invalid: Vec<String> = Vec::new();
    for h in route.spec.hostnames.iter().flatten() {
        match h.parse::<Hostname>() {
            Ok(host) => route_hosts.push(host),
            Err(e) => invalid.push(e.to_string()),
        }
    }
    // Dropping an invalid hostname would widen the route (with none left, to every host of
    // the listener): the route is refused instead, on every parent.
    let refused = (!invalid.is_empty()).then(|| Problem {
        reason: "UnsupportedValue",
        message: format!("{}; the route is not attached", invalid.join("; ")),
    });
    let mut out = Vec::new();
    for (index, r) in route.spec.parent_refs.iter().flatten().enumerate() {
        let mut parent = ParentRef::of(r, &route_ns);
        // A ListenerSet parent reaches the Gateway it attaches to, and only its own listeners.
        let origin = parent.listener_set();
        if let Some(ls) = &origin {
            parent.via = snapshot
                .listener_sets
                .get(ls)
                .and_then(|set| crate::listener_set::parent_of(ls, set));
        }
        let Some(key) = parent.gateway() else {
            continue;
        };
        let Some(gateway) = snapshot.gateways.get(&key) else {
            continue;
        };
        let ours = snapshot
            .gateway_classes
            .get(&gateway.spec.gateway_class_name)
            .is_some_and(|c| gateway_class::is_ours(c, settings));
        if !ours {
            continue;
        }
        let ls = listeners.get(&key).map(Vec::as_slice).unwrap_or_default();
        let result = match &refused {
            Some(p) => Err(p.clone()),
            None => attach_one(
                &parent,
                origin.as_ref(),
                ls,
                kind,
                &route_ns,
                &route_hosts,
                snapshot,
            ),
        };
        out.push(ParentAttachment {
            index,
            parent,
            result,
        });
    }
    out
}

fn attach_one(
    parent: &ParentRef,
    origin: Option<&ObjectKey>,
    listeners: &[Listener],
    kind: &str,
    route_ns: &str,
    route_hosts: &[Hostname],
    snapshot: &Snapshot,
) -> Result<Vec<Attached>, Problem> {
    let candidates: Vec<usize> = (0..listeners.len())
        .filter(|&i| listeners[i].origin.as_ref() == origin)
        .filter(|&i| {
            parent
                .section_name
                .as_ref()
                .is_none_or(|s| *s == listeners[i].name)
        })
        .filter(|&i| parent.port.is_none_or(|p| p == listeners[i].port))
        .collect();
    if candidates.is_empty() {
        return Err(Problem {
            reason: "NoMatchingParent",
            message: "no listener matches the parentRef's sectionName and port".into(),
        });
    }
    let allowed: Vec<usize> = candidates
        .into_iter()
        .filter(|&i| {
            listeners[i].accepts(kind) && namespace_allowed(&listeners[i], route_ns, snapshot)
        })
        .collect();
    if allowed.is_empty() {
        return Err(Problem {
            reason: "NotAllowedByListeners",
            message: format!("no listener allows {kind}s from this namespace"),
        });
    }
    let attached: Vec<Attached> = allowed
        .into_iter()
        .filter_map(|i| {
            let listener_host = listeners[i]
                .hostname
                .as_deref()
                .and_then(|h| h.parse::<Hostname>().ok());
            intersect(listener_host.as_ref(), route_hosts).map(|hostnames| Attached {
                listener: i,
                hostnames,
            })
        })
        .collect();
    if attached.is_empty() {
        return Err(Problem {
            reason: "NoMatchingListenerHostname",
            message: "no listener hostname intersects the route's hostnames".into(),
        });
    }
    Ok(attached)
}

/// `allowedRoutes.namespaces` of a listener: Same (default; its Gateway's or ListenerSet's
/// namespace), All, or a label selector over the route's Namespace.
fn namespace_allowed(listener: &Listener, route_ns: &str, snapshot: &Snapshot) -> bool {
    let ns = listener
        .allowed_routes
        .as_ref()
        .and_then(|a| a.namespaces.as_ref());
    match ns.and_then(|n| n.from.clone()).unwrap_or(From::Same) {
        From::All => true,
        From::Same => listener.owner_namespace == route_ns,
        From::Selector => ns
            .and_then(|n| n.selector.as_ref())
            .is_some_and(|selector| {
                namespace_selected(
                    snapshot,
                    route_ns,
                    selector.match_labels.as_ref(),
                    selector
                        .match_expressions
                        .iter()
                        .flatten()
                        .map(|e| (e.key.as_str(), e.operator.as_str(), e.values.as_deref())),
                )
            }),
    }
}

/// Whether Namespace `ns` carries every `match_labels` pair and passes every expression
/// `(key, operator, values)` of a label selector (the generated selector types differ per
/// field, the rule does not).
pub(crate) fn namespace_selected<'a>(
    snapshot: &Snapshot,
    ns: &str,
    match_labels: Option<&BTreeMap<String, String>>,
    mut expressions: impl Iterator<Item = (&'a str, &'a str, Option<&'a [String]>)>,
) -> bool {
    let labels = snapshot
        .namespaces
        .get(ns)
        .and_then(|n| n.metadata.labels.clone())
        .unwrap_or_default();
    let labels_ok = match_labels
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && expressions.all(|(key, operator, values)| {
            let values = values.unwrap_or_default();
            match operator {
                "In" => labels.get(key).is_some_and(|v| values.contains(v)),
                "NotIn" => labels.get(key).is_none_or(|v| !values.contains(v)),
                "Exists" => labels.contains_key(key),
                "DoesNotExist" => !labels.contains_key(key),
                // An operator the API does not define selects nothing.
                _ => false,
            }
        })
}

/// Routes attached per listener of each Gateway (`attachedRoutes`): a route counts on every
/// listener it attached to.
pub fn attached_counts(
    all: &[(ObjectKey, Vec<ParentAttachment>)],
) -> BTreeMap<(ObjectKey, usize), i32> {
    let mut counts: BTreeMap<(ObjectKey, usize), i32> = BTreeMap::new();
    for (_, parents) in all {
        let mut seen = std::collections::BTreeSet::new();
        for p in parents {
            let (Some(gw), Ok(attached)) = (p.parent.gateway(), &p.result) else {
                continue;
            };
            for a in attached {
                // Two parentRefs reaching the same listener still make one attached route.
                if seen.insert((gw.clone(), a.listener)) {
                    *counts.entry((gw.clone(), a.listener)).or_default() += 1;
                }
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests;
