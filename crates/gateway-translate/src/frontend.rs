//! Frontend client-certificate validation (GEP-91, `spec.tls.frontend` of a Gateway; features
//! `GatewayFrontendClientCertificateValidation` and `…InsecureFallback`).
//!
//! The setting is per port: a `perPort` entry applies to the HTTPS listeners on its port,
//! `default` to the HTTPS listeners on every other port; HTTP listeners are never affected.
//! On Avi a port of the parent virtual service gets its own application profile
//! (`services[].override_application_profile_ref`) whose HTTP profile asks for client
//! certificates and names a PKI profile holding the CAs:
//! - `AllowValidOnly` → `SSL_CLIENT_CERTIFICATE_REQUIRE`: a client without a certificate that
//!   chains to the CAs fails the TLS handshake;
//! - `AllowInsecureFallback` → `SSL_CLIENT_CERTIFICATE_REQUEST` with the PKI profile allowing
//!   every error (`ALLOW_ALL_ERRORS`): the certificate is asked for, and any answer (none, or
//!   one that does not chain) is let through for the backend to judge.
//!
//! A reference that cannot be used (not a core ConfigMap, missing, no `ca.crt`, another
//! namespace without a ReferenceGrant) makes every targeted listener `ResolvedRefs=False`; when
//! none of a config's references can be used the listeners are not accepted
//! (`NoValidCACertificate`) and their port is not programmed. Validation is never dropped: a
//! port is served with the CAs that could be read, or not at all.

use gateway_api::gateways::{Gateway, GatewayTlsFrontendDefaultValidationMode as DefaultMode};
use gateway_api::gateways::{
    GatewayTlsFrontend, GatewayTlsFrontendPerPortTlsValidationMode as PerPortMode,
};

use crate::listeners::{GATEWAY_GROUP, Problem};
use crate::reference_grant::{self, Referent, Referrer};
use crate::snapshot::Snapshot;

/// The most CA references one config may hold (the CRD's limit).
pub const MAX_CA_REFS: usize = 8;

/// What a port does with a client certificate that does not pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refuse the connection (the default).
    AllowValidOnly,
    /// Let it through; the backend decides.
    AllowInsecureFallback,
}

/// The validation one HTTPS port asks for, with the CAs that could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientValidation {
    /// What happens to a client that fails.
    pub mode: Mode,
    /// The CA certificates, one PEM block each, in reference order.
    pub ca_certs: Vec<String>,
}

/// The validation of one port as the Gateway configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortValidation {
    /// `None` when none of the references could be used (`NoValidCACertificate`).
    pub validation: Option<ClientValidation>,
    /// The first reference that could not be used, as the listeners' `ResolvedRefs` reason.
    pub problem: Option<Problem>,
}

/// One config (the default or a port's), whatever the generated type.
struct Config<'a> {
    refs: Vec<Ref<'a>>,
    insecure: bool,
}

struct Ref<'a> {
    group: &'a str,
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
}

/// The config that applies to `port`: its `perPort` entry, else `default`; `None` when the
/// Gateway asks for no validation there.
fn config_for(frontend: &GatewayTlsFrontend, port: i32) -> Option<Config<'_>> {
    let per_port = frontend.per_port.iter().flatten().find(|p| p.port == port);
    match per_port {
        Some(p) => p.tls.validation.as_ref().map(|v| Config {
            refs: v
                .ca_certificate_refs
                .iter()
                .map(|r| Ref {
                    group: &r.group,
                    kind: &r.kind,
                    name: &r.name,
                    namespace: r.namespace.as_deref(),
                })
                .collect(),
            insecure: v.mode == Some(PerPortMode::AllowInsecureFallback),
        }),
        None => frontend.default.validation.as_ref().map(|v| Config {
            refs: v
                .ca_certificate_refs
                .iter()
                .map(|r| Ref {
                    group: &r.group,
                    kind: &r.kind,
                    name: &r.name,
                    namespace: r.namespace.as_deref(),
                })
                .collect(),
            insecure: v.mode == Some(DefaultMode::AllowInsecureFallback),
        }),
    }
}

/// The client-certificate validation of the HTTPS listeners on `port` of `gateway`; `None`
/// when it asks for none there.
pub fn for_port(gateway: &Gateway, port: i32, snapshot: &Snapshot) -> Option<PortValidation> {
    let frontend = gateway.spec.tls.as_ref()?.frontend.as_ref()?;
    let config = config_for(frontend, port)?;
    let gw_ns = gateway.metadata.namespace.as_deref().unwrap_or("default");
    let mut ca_certs = Vec::new();
    let mut problem = None;
    if config.refs.is_empty() || config.refs.len() > MAX_CA_REFS {
        problem = Some(Problem {
            reason: "InvalidCACertificateRef",
            message: format!(
                "caCertificateRefs holds {} references; 1 to {MAX_CA_REFS} are allowed",
                config.refs.len()
            ),
        });
    } else {
        for r in &config.refs {
            match ca_certs_of(r, gw_ns, snapshot) {
                Ok(certs) => ca_certs.extend(certs),
                Err(p) => {
                    problem.get_or_insert(p);
                }
            }
        }
    }
    let mode = if config.insecure {
        Mode::AllowInsecureFallback
    } else {
        Mode::AllowValidOnly
    };
    Some(PortValidation {
        validation: (!ca_certs.is_empty()).then_some(ClientValidation { mode, ca_certs }),
        problem,
    })
}

/// Whether any of the Gateway's configs lets clients through without a valid certificate:
/// the Gateway then says so (`InsecureFrontendValidationMode`).
pub fn insecure_fallback(gateway: &Gateway) -> bool {
    let Some(frontend) = gateway.spec.tls.as_ref().and_then(|t| t.frontend.as_ref()) else {
        return false;
    };
    let default = frontend
        .default
        .validation
        .as_ref()
        .is_some_and(|v| v.mode == Some(DefaultMode::AllowInsecureFallback));
    default
        || frontend.per_port.iter().flatten().any(|p| {
            p.tls
                .validation
                .as_ref()
                .is_some_and(|v| v.mode == Some(PerPortMode::AllowInsecureFallback))
        })
}

fn ca_certs_of(r: &Ref<'_>, gw_ns: &str, snapshot: &Snapshot) -> Result<Vec<String>, Problem> {
    let printable = translate_core::text::printable;
    if !r.group.is_empty() || r.kind != "ConfigMap" {
        let group = if r.group.is_empty() { "core" } else { r.group };
        return Err(Problem {
            reason: "InvalidCACertificateKind",
            message: format!(
                "caCertificateRef {}/{} {} is not supported; use a ConfigMap",
                printable(group),
                printable(r.kind),
                printable(r.name)
            ),
        });
    }
    let ns = r.namespace.unwrap_or(gw_ns);
    let from = Referrer {
        group: GATEWAY_GROUP,
        kind: "Gateway",
        namespace: gw_ns,
    };
    let to = Referent {
        group: "",
        kind: "ConfigMap",
        namespace: ns,
        name: r.name,
    };
    if !reference_grant::permits(snapshot, from, to) {
        return Err(Problem {
            reason: "RefNotPermitted",
            message: format!(
                "ConfigMap {}/{} is in another namespace and no ReferenceGrant allows it",
                printable(ns),
                printable(r.name)
            ),
        });
    }
    crate::backend_tls_policy::config_map_cas(snapshot, ns, r.name).map_err(|message| Problem {
        reason: "InvalidCACertificateRef",
        message,
    })
}
