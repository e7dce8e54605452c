//! Pool members of a Service backend. ClusterIP mode: ready, non-terminating EndpointSlice
//! addresses with the resolved target port (named or numeric; headless and selector-less
//! Services with hand-made EndpointSlices included). NodePort mode: each node's InternalIP with
//! the Service's nodePort; with `externalTrafficPolicy: Local`, only nodes hosting a ready
//! endpoint.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::inputs::{NamespacedName, SharedInputs};
use crate::problem::Problem;
use crate::settings::ServiceType;

/// The label tying an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// One pool member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Member {
    /// IP address.
    pub ip: String,
    /// Port.
    pub port: i32,
}

fn not_found(message: String) -> Problem {
    Problem::not_found(message)
}

/// The Service port a backendRef port names.
fn service_port(service: &Service, port: i32) -> Option<&ServicePort> {
    service
        .spec
        .as_ref()?
        .ports
        .as_ref()?
        .iter()
        .find(|p| p.port == port)
}

/// The `appProtocol` of port `port` of Service `namespace/name` (`kubernetes.io/h2c`,
/// `kubernetes.io/ws`, ...), when the Service and the port exist and say one.
pub fn app_protocol<'s>(
    snapshot: &'s SharedInputs,
    namespace: &str,
    name: &str,
    port: i32,
) -> Option<&'s str> {
    let service = snapshot
        .services
        .get(&(namespace.to_owned(), name.to_owned()))?;
    service_port(service, port)?.app_protocol.as_deref()
}

/// `appProtocol` of a Service port served as HTTP/2 with prior knowledge (KEP-3726).
pub const H2C: &str = "kubernetes.io/h2c";

/// The EndpointSlices of each Service (by the `kubernetes.io/service-name` label), built once
/// per translation so that finding a backend's endpoints does not scan every slice.
#[derive(Debug, Default)]
pub struct SliceIndex<'a> {
    by_service: HashMap<&'a str, HashMap<&'a str, Vec<&'a EndpointSlice>>>,
}

impl<'a> SliceIndex<'a> {
    /// Every slice of the inputs.
    pub fn new(snapshot: &'a SharedInputs) -> Self {
        Self::from_slices(snapshot.endpoint_slices.iter().map(|(k, v)| (k, &**v)))
    }

    /// The slices of one namespace only: enough for one Service, without reading the others
    /// (an incremental update of one backend).
    pub fn of_namespace(snapshot: &'a SharedInputs, namespace: &str) -> Self {
        Self::from_slices(
            snapshot
                .endpoint_slices
                .range((namespace.to_owned(), String::new())..)
                .take_while(|((ns, _), _)| ns == namespace)
                .map(|(k, v)| (k, &**v)),
        )
    }

    fn from_slices(slices: impl Iterator<Item = (&'a NamespacedName, &'a EndpointSlice)>) -> Self {
        let mut by_service: HashMap<&str, HashMap<&str, Vec<&EndpointSlice>>> = HashMap::new();
        for ((ns, _), slice) in slices {
            if let Some(owner) = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SERVICE_NAME_LABEL))
            {
                by_service
                    .entry(ns.as_str())
                    .or_default()
                    .entry(owner.as_str())
                    .or_default()
                    .push(slice);
            }
        }
        SliceIndex { by_service }
    }

    /// The slices of Service `namespace/name`, in key order.
    pub fn slices(&self, namespace: &str, name: &str) -> &[&'a EndpointSlice] {
        self.by_service
            .get(namespace)
            .and_then(|m| m.get(name))
            .map_or(&[], Vec::as_slice)
    }
}

/// Members of Service `namespace/name` port `port`, sorted and without duplicates.
pub fn members(
    snapshot: &SharedInputs,
    namespace: &str,
    name: &str,
    port: i32,
    mode: ServiceType,
) -> Result<Vec<Member>, Problem> {
    let index = SliceIndex::of_namespace(snapshot, namespace);
    members_with(snapshot, &index, namespace, name, port, mode)
}

/// [`members`] with the slices looked up in `index`.
pub fn members_with(
    snapshot: &SharedInputs,
    index: &SliceIndex<'_>,
    namespace: &str,
    name: &str,
    port: i32,
    mode: ServiceType,
) -> Result<Vec<Member>, Problem> {
    let service = snapshot
        .services
        .get(&(namespace.to_owned(), name.to_owned()))
        .ok_or_else(|| not_found(format!("Service {namespace}/{name} does not exist")))?;
    let sp = service_port(service, port)
        .ok_or_else(|| not_found(format!("Service {namespace}/{name} has no port {port}")))?;
    let ready = ready_endpoints(index.slices(namespace, name), sp);
    let out: BTreeSet<Member> = match mode {
        ServiceType::ClusterIP => ready
            .into_iter()
            .map(|(ip, port, _)| Member { ip, port })
            .collect(),
        ServiceType::NodePort => {
            let node_port = sp.node_port.ok_or_else(|| {
                not_found(format!("Service {namespace}/{name} port {port} has no nodePort (NodePort mode needs a NodePort or LoadBalancer Service)"))
            })?;
            let local = service
                .spec
                .as_ref()
                .and_then(|s| s.external_traffic_policy.as_deref())
                == Some("Local");
            let hosting: BTreeSet<String> =
                ready.into_iter().filter_map(|(_, _, node)| node).collect();
            snapshot
                .nodes
                .iter()
                .filter(|(node, _)| !local || hosting.contains(*node))
                .filter_map(|(_, n)| {
                    n.status
                        .as_ref()?
                        .addresses
                        .as_ref()?
                        .iter()
                        .find(|a| a.type_ == "InternalIP")
                        .map(|a| a.address.clone())
                })
                .map(|ip| Member {
                    ip,
                    port: node_port,
                })
                .collect()
        }
    };
    Ok(out.into_iter().collect())
}

/// `(address, target port, node)` of every ready, non-terminating endpoint of the Service port.
fn ready_endpoints(
    slices: &[&EndpointSlice],
    sp: &ServicePort,
) -> Vec<(String, i32, Option<String>)> {
    let mut out = Vec::new();
    for slice in slices {
        // The slice port with the Service port's name (both unnamed for single-port Services).
        let Some(port) = slice
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref().unwrap_or("") == sp.name.as_deref().unwrap_or(""))
            .and_then(|p| p.port)
        else {
            continue;
        };
        for ep in &slice.endpoints {
            let c = ep.conditions.as_ref();
            // An absent `ready` means ready (the API's documented default).
            let ready = c.and_then(|c| c.ready).unwrap_or(true);
            let terminating = c.and_then(|c| c.terminating).unwrap_or(false);
            if !ready || terminating {
                continue;
            }
            for ip in &ep.addresses {
                out.push((ip.clone(), port, ep.node_name.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
