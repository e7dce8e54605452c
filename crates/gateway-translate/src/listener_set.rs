//! ListenerSets (Gateway API v1.5 standard, feature `ListenerSet`; GEP-1713): listeners that
//! other objects, often in other namespaces, attach to a Gateway.
//!
//! A Gateway takes them only when `spec.allowedListeners.namespaces.from` allows their
//! namespace (`None`, the default, allows none; `Same`, `Selector`, `All`). The merged listener
//! list is the Gateway's own listeners, then each allowed ListenerSet's, oldest first, then by
//! namespace and name; conflicts are decided across the whole list and the earlier listener
//! wins. On Avi a ListenerSet's listeners are ports and hostnames of the Gateway's parent
//! virtual service like any other: nothing of a ListenerSet exists on the controller by itself.
//!
//! A route attaches to a ListenerSet's listeners only through a parentRef to the ListenerSet; a
//! parentRef to the Gateway reaches the Gateway's own listeners only. `allowedRoutes: Same`
//! means the ListenerSet's namespace, and its certificates need ReferenceGrants from kind
//! ListenerSet.

use std::sync::Arc;

use gateway_api::gateways::{
    Gateway, GatewayAllowedListenersNamespacesFrom as From, GatewayListeners,
};
use gateway_api::listenersets::{
    ListenerSet, ListenerSetStatus, ListenerSetStatusListeners,
    ListenerSetStatusListenersSupportedKinds,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::conditions::{Wanted, conditions};
use crate::listeners::{GATEWAY_GROUP, Listener};
use crate::snapshot::{ObjectKey, Snapshot};

/// The most listeners one ListenerSet may hold (the CRD's limit).
pub const MAX_LISTENERS: usize = 64;

/// The most ListenerSets one Gateway takes: with [`MAX_LISTENERS`] each, at most 4,096 merged
/// listeners, whose pairwise conflict checks stay bounded. Later ones (in merge order) are
/// refused.
pub const MAX_SETS_PER_GATEWAY: usize = 64;

/// What the parent Gateway's own status says.
#[derive(Debug, Clone, Copy)]
pub struct ParentState {
    /// The Gateway is accepted.
    pub accepted: bool,
    /// The Gateway is programmed.
    pub programmed: bool,
}

/// A ListenerSet that names a Gateway as its parent, and whether the Gateway takes it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its key.
    pub key: ObjectKey,
    /// The object.
    pub set: Arc<ListenerSet>,
    /// The Gateway's `allowedListeners` allows its namespace.
    pub allowed: bool,
    /// Allowed, but after [`MAX_SETS_PER_GATEWAY`] others.
    pub beyond_cap: bool,
}

impl Candidate {
    /// It holds no more listeners than the API allows (a dry run or an old CRD can hold more);
    /// a ListenerSet beyond the limit is refused whole, never cut short.
    pub fn within_limits(&self) -> bool {
        self.set.spec.listeners.len() <= MAX_LISTENERS && !self.beyond_cap
    }
}

/// The Gateway a ListenerSet names (`parentRef`, namespace defaulting to the ListenerSet's),
/// when it names a Gateway.
pub fn parent_of(key: &ObjectKey, set: &ListenerSet) -> Option<ObjectKey> {
    let p = &set.spec.parent_ref;
    let group = p.group.as_deref().unwrap_or(GATEWAY_GROUP);
    let kind = p.kind.as_deref().unwrap_or("Gateway");
    (group == GATEWAY_GROUP && kind == "Gateway").then(|| {
        (
            p.namespace.clone().unwrap_or_else(|| key.0.clone()),
            p.name.clone(),
        )
    })
}

/// The ListenerSets naming Gateway `gw`, in merge order (oldest first, then by namespace and
/// name), each with whether the Gateway allows it.
pub fn candidates(gw_key: &ObjectKey, gateway: &Gateway, snapshot: &Snapshot) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = snapshot
        .listener_sets
        .iter()
        .filter(|(k, s)| parent_of(k, s).as_ref() == Some(gw_key))
        .map(|(k, s)| Candidate {
            key: k.clone(),
            set: s.clone(),
            allowed: allowed(gateway, &gw_key.0, &k.0, snapshot),
            beyond_cap: false,
        })
        .collect();
    out.sort_by(|a, b| {
        let created = |c: &Candidate| c.set.metadata.creation_timestamp.as_ref().map(|t| t.0);
        created(a).cmp(&created(b)).then(a.key.cmp(&b.key))
    });
    for c in out
        .iter_mut()
        .filter(|c| c.allowed)
        .skip(MAX_SETS_PER_GATEWAY)
    {
        c.beyond_cap = true;
    }
    out
}

/// `spec.allowedListeners.namespaces` of the Gateway in `gw_ns` for a ListenerSet in `ns`.
fn allowed(gateway: &Gateway, gw_ns: &str, ns: &str, snapshot: &Snapshot) -> bool {
    let Some(namespaces) = gateway
        .spec
        .allowed_listeners
        .as_ref()
        .and_then(|a| a.namespaces.as_ref())
    else {
        return false;
    };
    match namespaces.from.clone().unwrap_or(From::None) {
        From::None => false,
        From::All => true,
        From::Same => gw_ns == ns,
        From::Selector => namespaces.selector.as_ref().is_some_and(|selector| {
            crate::attach::namespace_selected(
                snapshot,
                ns,
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

/// A ListenerSet entry as a Gateway listener: the two types have the same fields.
pub fn as_gateway_listener(
    entry: &gateway_api::listenersets::ListenerSetListeners,
) -> Option<GatewayListeners> {
    serde_json::to_value(entry)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
}

/// The status of one ListenerSet: not allowed, or its listeners (`listeners`, the merged
/// list's entries of this set, with their attached route counts `attached`).
pub fn status(
    c: &Candidate,
    parent: ParentState,
    listeners: &[&Listener],
    attached: &[i32],
    now: &Time,
) -> ListenerSetStatus {
    let generation = c.set.metadata.generation;
    let previous = c.set.status.clone().unwrap_or_default();
    if !c.allowed {
        let why = "the Gateway's allowedListeners does not allow ListenerSets from this namespace";
        return ListenerSetStatus {
            conditions: Some(conditions(
                &previous.conditions.unwrap_or_default(),
                vec![
                    Wanted::no("Accepted", "NotAllowed", why),
                    Wanted::no("Programmed", "NotAllowed", why),
                ],
                generation,
                now,
            )),
            listeners: Some(Vec::new()),
        };
    }
    let whole = |accepted: Wanted, programmed: Wanted| ListenerSetStatus {
        conditions: Some(conditions(
            &previous.conditions.clone().unwrap_or_default(),
            vec![accepted, programmed],
            generation,
            now,
        )),
        listeners: Some(Vec::new()),
    };
    if !c.within_limits() {
        let why = if c.beyond_cap {
            format!(
                "the Gateway takes at most {MAX_SETS_PER_GATEWAY} ListenerSets; this one comes later"
            )
        } else {
            format!(
                "the ListenerSet holds {} listeners; at most {MAX_LISTENERS} are allowed",
                c.set.spec.listeners.len()
            )
        };
        return whole(
            Wanted::no("Accepted", "Invalid", why.clone()),
            Wanted::no("Programmed", "Invalid", why),
        );
    }
    if !parent.accepted {
        return whole(
            Wanted::no(
                "Accepted",
                "ParentNotAccepted",
                "the parent Gateway is not accepted",
            ),
            Wanted::no(
                "Programmed",
                "ParentNotProgrammed",
                "the parent Gateway is not accepted",
            ),
        );
    }
    let valid = listeners.iter().filter(|l| l.is_valid()).count();
    let (accepted, programmed) = if valid > 0 && !parent.programmed {
        (
            Wanted::yes("Accepted", "Accepted", "ListenerSet is accepted"),
            Wanted::no(
                "Programmed",
                "ParentNotProgrammed",
                "the parent Gateway is not programmed",
            ),
        )
    } else if valid > 0 {
        (
            Wanted::yes("Accepted", "Accepted", "ListenerSet is accepted"),
            Wanted::yes(
                "Programmed",
                "Programmed",
                "its listeners are programmed on the Gateway's virtual service",
            ),
        )
    } else {
        let why = "no listener of the ListenerSet is valid";
        (
            Wanted::no("Accepted", "ListenersNotValid", why),
            Wanted::no("Programmed", "ListenersNotValid", why),
        )
    };
    let set_conditions = conditions(
        &previous.conditions.clone().unwrap_or_default(),
        vec![accepted, programmed],
        generation,
        now,
    );
    let listener_status = listeners
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let prev = previous
                .listeners
                .as_ref()
                .and_then(|ls| ls.iter().find(|p| p.name == l.name))
                .map(|p| p.conditions.clone())
                .unwrap_or_default();
            // A conflicted entry of a ListenerSet is not accepted (the earlier listener won).
            // A conflict is told before an unsupported protocol (GEP-1713's conformance).
            let accepted = match l.conflict.as_ref().or(l.not_accepted.as_ref()) {
                Some(p) => Wanted::no("Accepted", p.reason, p.message.clone()),
                None => Wanted::yes("Accepted", "Accepted", "Listener is valid"),
            };
            let programmed = match (&l.conflict, l.is_valid()) {
                (_, true) => Wanted::yes("Programmed", "Programmed", "Listener is programmed"),
                (Some(p), false) => Wanted::no("Programmed", p.reason, p.message.clone()),
                (None, false) => Wanted::no("Programmed", "Invalid", "Listener is not valid"),
            };
            let wanted = vec![accepted, l.resolved_refs(), l.conflicted(), programmed];
            ListenerSetStatusListeners {
                name: l.name.clone(),
                attached_routes: attached.get(i).copied().unwrap_or(0),
                conditions: conditions(&prev, wanted, generation, now),
                supported_kinds: Some(
                    l.supported_kinds
                        .iter()
                        .map(|k| ListenerSetStatusListenersSupportedKinds {
                            group: Some(GATEWAY_GROUP.to_owned()),
                            kind: k.clone(),
                        })
                        .collect(),
                ),
            }
        })
        .collect();
    ListenerSetStatus {
        conditions: Some(set_conditions),
        listeners: Some(listener_status),
    }
}
