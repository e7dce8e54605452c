//! Gateway listeners: which are valid, why the others are not, and the Gateway's status.
//! Semantics: `shared/reference/gateway-api.md` §1.1–§1.4; reasons are the spec's constants.

use std::collections::BTreeMap;

use gateway_api::gateways::{
    Gateway, GatewayListeners, GatewayListenersTlsMode, GatewayStatus, GatewayStatusListeners,
    GatewayStatusListenersSupportedKinds,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::conditions::{Wanted, conditions};
use crate::reference_grant::{self, Referent, Referrer};
use crate::snapshot::Snapshot;

/// The Gateway API group.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// A listener protocol we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// HTTP.
    Http,
    /// HTTPS, terminated on the Service Engine.
    Https,
    /// TLS passed through to the backend, routed by the ClientHello's server name
    /// (TLSRoute).
    TlsPassthrough,
}

impl Protocol {
    /// The route kinds a listener of this protocol serves.
    pub fn route_kinds(self) -> &'static [&'static str] {
        match self {
            Protocol::Http | Protocol::Https => ROUTE_KINDS,
            Protocol::TlsPassthrough => TLS_ROUTE_KINDS,
        }
    }
}

/// A listener's certificate, resolved from its Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ListenerCert {
    /// Secret namespace.
    pub secret_namespace: String,
    /// Secret name.
    pub secret_name: String,
    /// `tls.crt` PEM.
    pub cert_pem: String,
    /// `tls.key` PEM (never shown in `Debug`).
    pub key_pem: String,
}

impl std::fmt::Debug for ListenerCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerCert")
            .field(
                "secret",
                &format_args!("{}/{}", self.secret_namespace, self.secret_name),
            )
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// A problem with a listener or a backend: the condition reason and a message for the
/// operator.
pub use translate_core::Problem;

fn problem(reason: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        reason,
        message: message.into(),
    }
}

/// What a listener is, once evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    /// Section name.
    pub name: String,
    /// Port.
    pub port: i32,
    /// Protocol, when one we serve.
    pub protocol: Option<Protocol>,
    /// Hostname (None: any).
    pub hostname: Option<String>,
    /// Why it is not accepted (`UnsupportedProtocol`).
    pub not_accepted: Option<Problem>,
    /// Why its references do not resolve (`InvalidCertificateRef`, `RefNotPermitted`,
    /// `InvalidRouteKinds`).
    pub unresolved: Option<Problem>,
    /// Why it conflicts with another listener (`ProtocolConflict`, `HostnameConflict`).
    pub conflict: Option<Problem>,
    /// Route kinds it accepts (HTTPRoute when allowed).
    pub supported_kinds: Vec<String>,
    /// Its certificate (HTTPS).
    pub certificate: Option<ListenerCert>,
    /// The client certificates its port asks for (HTTPS with `spec.tls.frontend`).
    pub client_validation: Option<crate::frontend::ClientValidation>,
    /// A CA reference of that validation that cannot be used (`ResolvedRefs=False`, although
    /// the listener is served with the CAs that could be read).
    pub validation_problem: Option<Problem>,
    /// A TLS listener in mode Terminate (not served): another mode than a Passthrough one on
    /// the same port, hence a `ProtocolConflict` with it.
    pub tls_terminate: bool,
    /// The ListenerSet it comes from; `None` for the Gateway's own listeners.
    pub origin: Option<crate::snapshot::ObjectKey>,
    /// The namespace of its Gateway or ListenerSet (`allowedRoutes: Same`).
    pub owner_namespace: String,
    /// Its `allowedRoutes` as written.
    pub allowed_routes: Option<gateway_api::gateways::GatewayListenersAllowedRoutes>,
    /// Its protocol as written (conflicts are told before unsupported protocols are refused).
    pub raw_protocol: String,
}

impl Listener {
    /// Valid listeners are programmed on the Service Engines; routes attach to any accepted one.
    pub fn is_valid(&self) -> bool {
        self.not_accepted.is_none() && self.unresolved.is_none() && self.conflict.is_none()
    }

    /// Whether it takes HTTPRoutes at all.
    pub fn accepts_http_routes(&self) -> bool {
        self.accepts("HTTPRoute")
    }

    /// Its `ResolvedRefs` condition: a certificate, kind or CA reference that cannot be used.
    pub(crate) fn resolved_refs(&self) -> Wanted {
        match self
            .unresolved
            .as_ref()
            .or(self.validation_problem.as_ref())
        {
            None => Wanted::yes("ResolvedRefs", "ResolvedRefs", "All references resolved"),
            Some(p) => Wanted::no("ResolvedRefs", p.reason, p.message.clone()),
        }
    }

    /// Its `Conflicted` condition.
    pub(crate) fn conflicted(&self) -> Wanted {
        match &self.conflict {
            None => Wanted::no("Conflicted", "NoConflicts", "No conflicts"),
            Some(p) => Wanted::yes("Conflicted", p.reason, p.message.clone()),
        }
    }

    /// Whether routes of `kind` may attach (it is among the supported kinds).
    pub fn accepts(&self, kind: &str) -> bool {
        self.supported_kinds.iter().any(|k| k == kind)
    }
}

/// Evaluates every listener of a Gateway: its own, then those of the ListenerSets it allows
/// ([`crate::listener_set`]), in merge order.
pub fn evaluate(gateway: &Gateway, snapshot: &Snapshot) -> Vec<Listener> {
    let gw_ns = gateway.metadata.namespace.clone().unwrap_or_default();
    let mut out: Vec<Listener> = gateway
        .spec
        .listeners
        .iter()
        .map(|l| evaluate_one(l, &gw_ns, "Gateway", snapshot))
        .collect();
    mark_conflicts(&mut out);
    let gw_key = (
        gw_ns.clone(),
        gateway.metadata.name.clone().unwrap_or_default(),
    );
    for c in crate::listener_set::candidates(&gw_key, gateway, snapshot)
        .into_iter()
        .filter(|c| c.allowed && c.within_limits())
    {
        for entry in &c.set.spec.listeners {
            let Some(gl) = crate::listener_set::as_gateway_listener(entry) else {
                continue;
            };
            let mut l = evaluate_one(&gl, &c.key.0, "ListenerSet", snapshot);
            l.origin = Some(c.key.clone());
            l.conflict = conflict_with_earlier(&out, &l);
            out.push(l);
        }
    }
    for l in out
        .iter_mut()
        .filter(|l| l.protocol == Some(Protocol::Https))
    {
        let Some(v) = crate::frontend::for_port(gateway, l.port, snapshot) else {
            continue;
        };
        if v.validation.is_none() && l.not_accepted.is_none() {
            // Never served without the validation asked for (GEP-91).
            l.not_accepted = Some(problem(
                "NoValidCACertificate",
                "none of the client-certificate validation's caCertificateRefs can be used",
            ));
        }
        l.client_validation = v.validation;
        l.validation_problem = v.problem;
    }
    out
}

/// A ListenerSet's listener against the listeners before it in the merged list: the earlier
/// one wins, the later is `Conflicted` (a different protocol on the port, or the same
/// hostname on it).
fn conflict_with_earlier(earlier: &[Listener], l: &Listener) -> Option<Problem> {
    // The Gateway's own listeners always count (even those that conflict among themselves: a
    // ListenerSet never takes their place); a ListenerSet's conflicted ones do not.
    let live = earlier
        .iter()
        .filter(|e| e.port == l.port && (e.origin.is_none() || e.conflict.is_none()));
    let mut hostname = None;
    for e in live {
        if e.raw_protocol != l.raw_protocol || e.tls_terminate != l.tls_terminate {
            return Some(problem(
                "ProtocolConflict",
                format!(
                    "port {} is already used with protocol {}",
                    l.port,
                    translate_core::text::printable(&e.raw_protocol)
                ),
            ));
        }
        if e.hostname == l.hostname {
            hostname = Some(problem(
                "HostnameConflict",
                format!(
                    "an earlier listener on port {} has hostname {}",
                    l.port,
                    l.hostname
                        .as_deref()
                        .map_or_else(|| "<any>".to_owned(), translate_core::text::printable)
                ),
            ));
        }
    }
    hostname
}

/// One listener of a Gateway or a ListenerSet in `owner_ns` (`referrer`: the kind a
/// ReferenceGrant for its certificate names).
fn evaluate_one(
    l: &GatewayListeners,
    owner_ns: &str,
    referrer: &'static str,
    snapshot: &Snapshot,
) -> Listener {
    let gw_ns = owner_ns;
    let tls_mode = l.tls.as_ref().and_then(|t| t.mode.clone());
    let protocol = match l.protocol.as_str() {
        "HTTP" => Some(Protocol::Http),
        "HTTPS" => Some(Protocol::Https),
        "TLS" => Some(Protocol::TlsPassthrough),
        _ => None,
    };
    // A TLS listener's mode defaults to Terminate; only Passthrough is served (terminating
    // TLS for a TCP stream per server name is not something the translation gives Avi).
    let terminate = protocol == Some(Protocol::TlsPassthrough)
        && !matches!(tls_mode, Some(GatewayListenersTlsMode::Passthrough));
    // What the CRD's validation would refuse is refused here too (a dry run or an old CRD
    // lets it through): never a listener that counts routes but programs nothing, nor a
    // hostname read as "any host".
    let bad_hostname = l
        .hostname
        .as_deref()
        .and_then(|h| h.parse::<crate::hostnames::Hostname>().err());
    let not_accepted = if protocol.is_none() {
        Some(problem(
            "UnsupportedProtocol",
            format!(
                "protocol {} is not supported; use HTTP, HTTPS or TLS (Passthrough)",
                translate_core::text::printable(&l.protocol)
            ),
        ))
    } else if terminate {
        Some(problem(
            "UnsupportedValue",
            "TLS listeners support mode Passthrough only (TLSRouteModeTerminate is not supported)",
        ))
    } else if !(1..=65535).contains(&l.port) {
        Some(problem(
            "PortUnavailable",
            format!("port {} is outside 1-65535", l.port),
        ))
    } else {
        bad_hostname.map(|e| problem("UnsupportedValue", e.to_string()))
    };
    // No route attaches to a listener we do not serve.
    let (supported_kinds, kinds_problem) = if terminate {
        (Vec::new(), None)
    } else {
        route_kinds(l, protocol)
    };
    let (certificate, cert_problem) = match protocol {
        Some(Protocol::Https) => match resolve_certificate(l, gw_ns, referrer, snapshot) {
            Ok(c) => (Some(c), None),
            Err(p) => (None, Some(p)),
        },
        _ => (None, None),
    };
    Listener {
        name: l.name.clone(),
        port: l.port,
        protocol,
        hostname: l.hostname.clone(),
        not_accepted,
        // A refused certificate is the more precise complaint; kinds come second.
        unresolved: cert_problem.or(kinds_problem),
        conflict: None,
        supported_kinds,
        certificate,
        client_validation: None,
        validation_problem: None,
        tls_terminate: terminate,
        origin: None,
        owner_namespace: owner_ns.to_owned(),
        allowed_routes: l.allowed_routes.clone(),
        raw_protocol: l.protocol.clone(),
    }
}

/// The route kinds an HTTP or HTTPS listener serves.
pub const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute"];

/// The route kinds a TLS (Passthrough) listener serves.
pub const TLS_ROUTE_KINDS: &[&str] = &["TLSRoute"];

/// Kinds the listener supports, and the problem when the spec named kinds we do not serve.
fn route_kinds(l: &GatewayListeners, protocol: Option<Protocol>) -> (Vec<String>, Option<Problem>) {
    let requested = l
        .allowed_routes
        .as_ref()
        .and_then(|a| a.kinds.clone())
        .unwrap_or_default();
    let kinds = protocol.map_or(&[][..], Protocol::route_kinds);
    if requested.is_empty() {
        return (kinds.iter().map(|k| (*k).to_owned()).collect(), None);
    }
    let mut supported = Vec::new();
    let mut invalid = Vec::new();
    for k in requested {
        let group = k.group.as_deref().unwrap_or(GATEWAY_GROUP);
        if group == GATEWAY_GROUP && kinds.contains(&k.kind.as_str()) {
            if !supported.contains(&k.kind) {
                supported.push(k.kind);
            }
        } else {
            invalid.push(format!("{group}/{}", k.kind));
        }
    }
    let problem = (!invalid.is_empty()).then(|| {
        problem(
            "InvalidRouteKinds",
            format!("route kinds not supported: {}", invalid.join(", ")),
        )
    });
    (supported, problem)
}

fn resolve_certificate(
    l: &GatewayListeners,
    gw_ns: &str,
    referrer: &'static str,
    snapshot: &Snapshot,
) -> Result<ListenerCert, Problem> {
    let tls = l.tls.as_ref().ok_or_else(|| {
        problem(
            "InvalidCertificateRef",
            "an HTTPS listener needs tls.certificateRefs",
        )
    })?;
    if matches!(tls.mode, Some(GatewayListenersTlsMode::Passthrough)) {
        return Err(problem(
            "InvalidCertificateRef",
            "TLS mode Passthrough is not supported on HTTPS listeners",
        ));
    }
    let refs = tls.certificate_refs.clone().unwrap_or_default();
    let r = refs.first().ok_or_else(|| {
        problem(
            "InvalidCertificateRef",
            "an HTTPS listener needs tls.certificateRefs",
        )
    })?;
    tls_secret_from(
        snapshot,
        gw_ns,
        referrer,
        SecretRef::with_defaults(
            r.group.as_deref(),
            r.kind.as_deref(),
            r.namespace.as_deref(),
            &r.name,
        ),
        "InvalidCertificateRef",
        "certificateRef",
    )
}

/// A Gateway's reference to a Secret (a listener's certificate, the backend client
/// certificate).
#[derive(Debug, Clone, Copy)]
pub struct SecretRef<'a> {
    /// API group (`""` is core).
    pub group: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Namespace, the Gateway's when unset.
    pub namespace: Option<&'a str>,
    /// Name.
    pub name: &'a str,
}

impl<'a> SecretRef<'a> {
    /// A reference as the API gives it: the group defaults to core, the kind to Secret.
    pub fn with_defaults(
        group: Option<&'a str>,
        kind: Option<&'a str>,
        namespace: Option<&'a str>,
        name: &'a str,
    ) -> Self {
        SecretRef {
            group: group.unwrap_or(""),
            kind: kind.unwrap_or("Secret"),
            namespace,
            name,
        }
    }
}

/// The `kubernetes.io/tls` certificate and key a Gateway in `gw_ns` refers to, checked as
/// the controller would check them; `invalid` is the reason for a reference that cannot be
/// used (a cross-namespace one without a ReferenceGrant is `RefNotPermitted`), `field` names
/// the reference in messages.
pub fn tls_secret(
    snapshot: &Snapshot,
    gw_ns: &str,
    r: SecretRef<'_>,
    invalid: &'static str,
    field: &str,
) -> Result<ListenerCert, Problem> {
    tls_secret_from(snapshot, gw_ns, "Gateway", r, invalid, field)
}

/// [`tls_secret`] for a reference from an object of kind `referrer` (a ListenerSet's
/// listener needs a ReferenceGrant from kind ListenerSet, not Gateway).
pub fn tls_secret_from(
    snapshot: &Snapshot,
    gw_ns: &str,
    referrer: &'static str,
    r: SecretRef<'_>,
    invalid: &'static str,
    field: &str,
) -> Result<ListenerCert, Problem> {
    let SecretRef {
        group, kind, name, ..
    } = r;
    let printable = translate_core::text::printable;
    if !group.is_empty() || kind != "Secret" {
        return Err(problem(
            invalid,
            format!(
                "{field} {}/{} {} is not a core Secret",
                printable(group),
                printable(kind),
                printable(name)
            ),
        ));
    }
    let ns = r.namespace.unwrap_or(gw_ns).to_owned();
    let from = Referrer {
        group: GATEWAY_GROUP,
        kind: referrer,
        namespace: gw_ns,
    };
    let to = Referent {
        group: "",
        kind: "Secret",
        namespace: &ns,
        name,
    };
    if !reference_grant::permits(snapshot, from, to) {
        return Err(problem(
            "RefNotPermitted",
            format!(
                "Secret {}/{} is in another namespace and no ReferenceGrant allows it",
                printable(&ns),
                printable(name)
            ),
        ));
    }
    let secret = snapshot
        .secrets
        .get(&(ns.clone(), name.to_owned()))
        .ok_or_else(|| {
            problem(
                invalid,
                format!(
                    "Secret {}/{} does not exist",
                    printable(&ns),
                    printable(name)
                ),
            )
        })?;
    let data = secret.data.clone().unwrap_or_default();
    let text = |k: &str| {
        data.get(k)
            .and_then(|b| String::from_utf8(b.0.clone()).ok())
    };
    let (Some(cert_pem), Some(key_pem)) = (text("tls.crt"), text("tls.key")) else {
        return Err(problem(
            invalid,
            format!(
                "Secret {}/{} needs tls.crt and tls.key",
                printable(&ns),
                printable(name)
            ),
        ));
    };
    // PEM armour is not enough: the controller parses the certificate and refuses what it
    // cannot read, which would leave the listener unprogrammed with no reason on it. Only the
    // certificate blocks go on: a key in tls.crt is refused, never published.
    let checked = translate_core::tls_pem::certificates_only(&cert_pem).and_then(|certs| {
        translate_core::tls_pem::check_key(&key_pem)?;
        Ok(certs)
    });
    let cert_pem = match checked {
        Ok(certs) if PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).is_ok() => certs,
        Ok(_) => {
            return Err(problem(
                invalid,
                format!(
                    "Secret {}/{}: {}",
                    printable(&ns),
                    printable(name),
                    translate_core::tls_pem::PemError::BadKey
                ),
            ));
        }
        Err(e) => {
            return Err(problem(
                invalid,
                format!("Secret {}/{}: {e}", printable(&ns), printable(name)),
            ));
        }
    };
    Ok(ListenerCert {
        secret_namespace: ns,
        secret_name: name.to_owned(),
        cert_pem,
        key_pem,
    })
}

/// The client certificate a Gateway presents to its backends (`spec.tls.backend
/// .clientCertificateRef`, GEP-3155), resolved; `None` when the Gateway names none. Invalid
/// references are `InvalidClientCertificateRef` (or `RefNotPermitted`), the Gateway's own
/// `ResolvedRefs` condition.
pub fn backend_client_certificate(
    gateway: &Gateway,
    snapshot: &Snapshot,
) -> Option<Result<ListenerCert, Problem>> {
    let r = gateway
        .spec
        .tls
        .as_ref()?
        .backend
        .as_ref()?
        .client_certificate_ref
        .as_ref()?;
    let gw_ns = gateway.metadata.namespace.as_deref().unwrap_or("default");
    Some(tls_secret(
        snapshot,
        gw_ns,
        SecretRef::with_defaults(
            r.group.as_deref(),
            r.kind.as_deref(),
            r.namespace.as_deref(),
            &r.name,
        ),
        "InvalidClientCertificateRef",
        "clientCertificateRef",
    ))
}

/// Listeners on one port must agree on the protocol (one Avi service per port), and two with the
/// same port, protocol and hostname cannot be told apart. The spec forbids picking a winner:
/// every listener of a conflicting group is marked.
fn mark_conflicts(listeners: &mut [Listener]) {
    let mut by_port: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (i, l) in listeners
        .iter()
        .enumerate()
        .filter(|(_, l)| l.protocol.is_some())
    {
        by_port.entry(l.port).or_default().push(i);
    }
    for (port, idx) in by_port {
        let protocols: Vec<(Option<Protocol>, bool)> = idx
            .iter()
            .map(|&i| (listeners[i].protocol, listeners[i].tls_terminate))
            .collect();
        if protocols.windows(2).any(|w| w[0] != w[1]) {
            for &i in &idx {
                listeners[i].conflict = Some(problem(
                    "ProtocolConflict",
                    format!("port {port} is used with more than one protocol"),
                ));
            }
            continue;
        }
        for &i in &idx {
            let same = idx
                .iter()
                .filter(|&&j| listeners[j].hostname == listeners[i].hostname)
                .count();
            if same > 1 {
                let host = listeners[i]
                    .hostname
                    .as_deref()
                    .map_or_else(|| "<any>".to_owned(), translate_core::text::printable);
                listeners[i].conflict = Some(problem(
                    "HostnameConflict",
                    format!("another listener on port {port} has hostname {host}"),
                ));
            }
        }
    }
}

/// The `spec.addresses` whose type we cannot assign: only `IPAddress` (the default) becomes an
/// Avi VIP. Each is `type value`, for the condition message.
pub fn unsupported_addresses(gateway: &Gateway) -> Vec<String> {
    gateway
        .spec
        .addresses
        .iter()
        .flatten()
        .filter_map(|a| {
            let t = a.r#type.as_deref().unwrap_or("IPAddress");
            (t != "IPAddress").then(|| format!("{t} {}", a.value.as_deref().unwrap_or("")))
        })
        .collect()
}

/// Why the Gateway's `IPAddress` addresses cannot be used, if they cannot: a value that is not
/// an IP address, or more than one (its VS VIP holds one). Never a silent fallback to an
/// allocated VIP or to the first address.
pub fn unusable_addresses(gateway: &Gateway) -> Option<String> {
    let ips: Vec<&str> = gateway
        .spec
        .addresses
        .iter()
        .flatten()
        .filter(|a| a.r#type.as_deref().is_none_or(|t| t == "IPAddress"))
        // An IPAddress without a value asks for one to be assigned (GatewayAddressEmpty):
        // the VIP is allocated, as with no address at all.
        .filter_map(|a| a.value.as_deref().filter(|v| !v.is_empty()))
        .collect();
    if let Some(bad) = ips.iter().find(|v| v.parse::<std::net::IpAddr>().is_err()) {
        return Some(format!("{bad:?} is not an IP address"));
    }
    (ips.len() > 1).then(|| {
        format!(
            "{} addresses requested; one VS VIP address per Gateway is supported",
            ips.len()
        )
    })
}

/// The Gateway's status. `attached_routes[i]` is the count for listener `i`; `addresses` are
/// the VIPs once known.
/// `pki_errors_allowed`: the controller can let a failing client certificate through
/// (30.1.1+), which `AllowInsecureFallback` needs in full.
#[allow(clippy::too_many_arguments)]
pub fn gateway_status(
    gateway: &Gateway,
    listeners: &[Listener],
    attached_routes: &[i32],
    addresses: &[String],
    name_problem: Option<String>,
    client_cert: Option<Option<&Problem>>,
    pki_errors_allowed: bool,
    now: &Time,
) -> GatewayStatus {
    // The Gateway's status is about its own listeners, which come first; a ListenerSet's are in
    // the ListenerSet's status.
    let own = listeners.iter().take_while(|l| l.origin.is_none()).count();
    let listeners = listeners.get(..own).unwrap_or_default();
    let generation = gateway.metadata.generation;
    let previous = gateway.status.clone().unwrap_or_default();
    let invalid: Vec<&str> = listeners
        .iter()
        .filter(|l| !l.is_valid())
        .map(|l| l.name.as_str())
        .collect();
    let valid = listeners.len() - invalid.len();
    let unsupported = unsupported_addresses(gateway);
    let accepted = if !unsupported.is_empty() {
        // §1.1: an address type the implementation does not support is `UnsupportedAddress`,
        // and nothing is programmed (see `translate`).
        Wanted::no(
            "Accepted",
            "UnsupportedAddress",
            format!(
                "address types not supported (only IPAddress): {}",
                unsupported.join(", ")
            ),
        )
    } else if invalid.is_empty() {
        Wanted::yes("Accepted", "Accepted", "Gateway is valid")
    } else if valid > 0 {
        Wanted::yes(
            "Accepted",
            "ListenersNotValid",
            format!("invalid listeners: {}", invalid.join(", ")),
        )
    } else {
        Wanted::no(
            "Accepted",
            "ListenersNotValid",
            format!("no valid listener: {}", invalid.join(", ")),
        )
    };
    let programmed = if !unsupported.is_empty() {
        Wanted::no("Programmed", "Invalid", "the Gateway is not accepted")
    } else if let Some(why) = unusable_addresses(gateway) {
        Wanted::no("Programmed", "AddressNotUsable", why)
    } else if let Some(why) = name_problem {
        Wanted::no("Programmed", "Invalid", why)
    } else if valid > 0 {
        Wanted::yes(
            "Programmed",
            "Programmed",
            "Gateway is programmed on the Avi controller",
        )
    } else {
        Wanted::no("Programmed", "Invalid", "no valid listener to program")
    };
    let mut wanted = vec![accepted, programmed];
    // GEP-3155: the Gateway's own ResolvedRefs, said when it names a backend client
    // certificate; it also sums up the listeners' references.
    if let Some(problem) = client_cert {
        let unresolved: Vec<&str> = listeners
            .iter()
            .filter(|l| l.unresolved.is_some() || l.validation_problem.is_some())
            .map(|l| l.name.as_str())
            .collect();
        wanted.push(match problem {
            Some(p) => Wanted::no("ResolvedRefs", p.reason, p.message.clone()),
            None if !unresolved.is_empty() => Wanted::no(
                "ResolvedRefs",
                "ListenersNotResolved",
                format!(
                    "listeners with unresolved references: {}",
                    unresolved.join(", ")
                ),
            ),
            None => Wanted::yes("ResolvedRefs", "ResolvedRefs", "All references resolved"),
        });
    }
    // GEP-91: said while any config lets clients through without a valid certificate, and
    // gone (not False) once none does.
    if crate::frontend::insecure_fallback(gateway) {
        wanted.push(Wanted::yes(
            "InsecureFrontendValidationMode",
            "ConfigurationChanged",
            if pki_errors_allowed {
                "client-certificate validation lets clients without a valid certificate through (AllowInsecureFallback)"
            } else {
                "client-certificate validation lets clients without a certificate through (AllowInsecureFallback); a certificate that fails validation is still refused, as Avi before 30.1.1 cannot allow PKI errors"
            },
        ));
    }
    let gw_conditions = conditions(
        &previous.conditions.clone().unwrap_or_default(),
        wanted,
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
            let wanted = vec![
                match &l.not_accepted {
                    None => Wanted::yes("Accepted", "Accepted", "Listener is valid"),
                    Some(p) => Wanted::no("Accepted", p.reason, p.message.clone()),
                },
                l.resolved_refs(),
                l.conflicted(),
                if l.is_valid() {
                    Wanted::yes("Programmed", "Programmed", "Listener is programmed")
                } else {
                    Wanted::no("Programmed", "Invalid", "Listener is not valid")
                },
            ];
            GatewayStatusListeners {
                name: l.name.clone(),
                attached_routes: attached_routes.get(i).copied().unwrap_or(0),
                conditions: conditions(&prev, wanted, generation, now),
                supported_kinds: Some(
                    l.supported_kinds
                        .iter()
                        .map(|k| GatewayStatusListenersSupportedKinds {
                            group: Some(GATEWAY_GROUP.to_owned()),
                            kind: k.clone(),
                        })
                        .collect(),
                ),
            }
        })
        .collect();
    GatewayStatus {
        addresses: (!addresses.is_empty()).then(|| {
            addresses
                .iter()
                .map(|a| {
                    serde_json::from_value(serde_json::json!({"type": "IPAddress", "value": a}))
                })
                .filter_map(Result::ok)
                .collect()
        }),
        conditions: Some(gw_conditions),
        listeners: Some(listener_status),
        ..GatewayStatus::default()
    }
}

#[cfg(test)]
mod tests;
