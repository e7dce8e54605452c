//! BackendTLSPolicy: which Service ports the Service Engines must reach over TLS, how they
//! verify the backend, and the policies' status.
//! Semantics: `shared/reference/gateway-api.md` §5 (v1.4 `v1` API; `v1alpha3` objects read the
//! same) and the conformance tests in §6.6.
//!
//! A policy becomes, per backend port it applies to, either:
//! * [`PolicyOutcome::Valid`]: a PKI profile with the CA bundle, SNI = `validation.hostname`, and
//!   a host check on the names the policy authenticates; or
//! * [`PolicyOutcome::Invalid`]: the pool must get no servers. The spec forbids falling back to
//!   plaintext (§5.3), and an empty pool makes the Service Engine answer 5xx, which is what
//!   conformance expects.
//!
//! The translator reports which Gateways send traffic to which Service ports
//! ([`BackendUses`]); the policies' `status.ancestors` are those Gateways (§5.4).

use std::collections::{BTreeMap, BTreeSet};

use avi_client::AviRef;
use avi_client::models::{Marker, PkiProfile, Pool, SslCertificate};
use gateway_api::backendtlspolicies::{
    BackendTlsPolicy, BackendTlsPolicyStatus, BackendTlsPolicyStatusAncestors,
    BackendTlsPolicyStatusAncestorsAncestorRef, BackendTlsPolicyValidation,
    BackendTlsPolicyValidationCaCertificateRefs, BackendTlsPolicyValidationSubjectAltNamesType,
};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::conditions::{Wanted, conditions};
use crate::listeners::GATEWAY_GROUP;
use crate::settings::Settings;
use crate::snapshot::{ObjectKey, Snapshot};

/// The kind, as written in objects and messages.
pub const KIND: &str = "BackendTLSPolicy";

/// The ConfigMap key holding the CA bundle (Core support, §5.2).
pub const CA_KEY: &str = "ca.crt";

/// The SSL profile of a re-encrypting pool, as for every other backend TLS in this crate.
const SSL_PROFILE: &str = "System-Standard";

/// `status.ancestors` holds at most this many entries, every controller's together (§5.4).
pub const MAX_ANCESTORS: usize = 16;

/// How the Service Engines speak TLS to a backend a valid policy targets.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsToBackend {
    /// The policy this comes from.
    pub policy: ObjectKey,
    /// The PKI profile to create: the policy's CA bundle.
    pub pki_profile: PkiProfile,
    /// SNI sent to the backend: `validation.hostname`.
    pub server_name: String,
    /// The names the backend certificate must carry (one is enough): `subjectAltNames` when
    /// given, `hostname` otherwise. Never empty.
    pub host_check_names: Vec<String>,
}

impl TlsToBackend {
    /// Sets the pool's TLS fields: re-encryption, verification against the policy's PKI profile,
    /// SNI and the host check. The caller still adds [`TlsToBackend::pki_profile`] to the model.
    pub fn apply(&self, pool: &mut Pool) {
        pool.ssl_profile_ref = Some(AviRef::by_name(SSL_PROFILE));
        pool.pki_profile_ref = Some(AviRef::by_name(self.pki_profile.name.clone()));
        pool.server_name = Some(self.server_name.clone());
        pool.sni_enabled = Some(true);
        pool.host_check_enabled = Some(true);
        pool.domain_name = self.host_check_names.clone();
    }
}

/// What a policy means for a backend it applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyOutcome {
    /// Re-encrypt with these settings (boxed: a PKI profile is large beside a message).
    Valid(Box<TlsToBackend>),
    /// The policy cannot be honoured: the pool gets no servers, and the HTTPRoute's
    /// `ResolvedRefs` says why.
    Invalid {
        /// The policy.
        policy: ObjectKey,
        /// The most precise reason the policy's own conditions carry (`InvalidCACertificateRef`,
        /// `InvalidKind`, `Invalid`).
        reason: &'static str,
        /// A message for the route status, naming the policy.
        message: String,
    },
}

impl PolicyOutcome {
    /// The policy this outcome comes from.
    pub fn policy(&self) -> &ObjectKey {
        match self {
            PolicyOutcome::Valid(tls) => &tls.policy,
            PolicyOutcome::Invalid { policy, .. } => policy,
        }
    }
}

/// A policy once evaluated on its own (targets aside).
#[derive(Debug, Clone)]
struct Evaluated {
    outcome: PolicyOutcome,
    /// `Accepted` when the policy is not conflicted and its target resolves.
    accepted: Wanted,
    resolved_refs: Wanted,
}

/// `(namespace, Service, port name)`; no port name targets the whole Service.
type Target = (String, String, Option<String>);

/// Which Gateways send traffic to which Service ports, as the translator found while building
/// pools. Policies get status entries for exactly these Gateways.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendUses {
    uses: BTreeMap<(String, String, i32), BTreeSet<ObjectKey>>,
}

impl BackendUses {
    /// Records that `gateway` routes traffic to port `port` (the Service port number, as in the
    /// backendRef) of Service `namespace/service`.
    pub fn record(&mut self, namespace: &str, service: &str, port: i32, gateway: ObjectKey) {
        self.uses
            .entry((namespace.to_owned(), service.to_owned(), port))
            .or_default()
            .insert(gateway);
    }
}

/// A policy's new status.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyStatusUpdate {
    /// The policy.
    pub policy: ObjectKey,
    /// The whole status to write: other controllers' entries unchanged, ours replaced.
    pub status: BackendTlsPolicyStatus,
    /// Gateways of ours that found `status.ancestors` full. The spec (§5.4) says to treat the
    /// policy as unimplementable for them; the translator should tell the operator.
    pub unrepresented: Vec<ObjectKey>,
}

/// Every BackendTLSPolicy of a snapshot, resolved.
#[derive(Debug, Clone, Default)]
pub struct BackendTlsPolicies {
    evaluated: BTreeMap<ObjectKey, Evaluated>,
    /// Policies per target, highest precedence first.
    targets: BTreeMap<Target, Vec<ObjectKey>>,
    /// Port number → port name of every Service a policy targets by port.
    port_names: BTreeMap<ObjectKey, BTreeMap<i32, String>>,
    /// Targets that do not resolve, per Service: the policy and why.
    unresolved: BTreeMap<ObjectKey, Vec<(ObjectKey, String)>>,
}

/// Resolves every BackendTLSPolicy of the snapshot: validation, targets and precedence.
pub fn resolve(snapshot: &Snapshot, settings: &Settings) -> BackendTlsPolicies {
    let mut out = BackendTlsPolicies::default();
    for (key, policy) in &snapshot.backend_tls_policies {
        out.evaluated
            .insert(key.clone(), evaluate(key, policy, snapshot, settings));
        add_targets(&mut out, key, policy, snapshot);
    }
    let order = |k: &ObjectKey| {
        let created = snapshot
            .backend_tls_policies
            .get(k)
            .and_then(|p| p.metadata.creation_timestamp.clone());
        // Without a timestamp (a manifest, not yet stored) a policy is taken as the newest.
        (created.is_none(), created, k.clone())
    };
    for policies in out.targets.values_mut() {
        // §5.3: the oldest wins, then `{namespace}/{name}`; keys are `(namespace, name)`.
        policies.sort_by_key(|k| order(k));
    }
    out
}

impl BackendTlsPolicies {
    /// The policy that applies to port `port` (the Service port number of the backendRef) of
    /// Service `namespace/service`: a policy naming that port wins over one for the whole
    /// Service; among several for the same target, the oldest (then first by name).
    pub fn for_backend(&self, namespace: &str, service: &str, port: i32) -> Option<&PolicyOutcome> {
        let policy = self.precedence(namespace, service, port).first()?;
        self.evaluated.get(policy).map(|e| &e.outcome)
    }

    /// The outcome of one policy, whatever it applies to.
    pub fn get(&self, policy: &ObjectKey) -> Option<&PolicyOutcome> {
        self.evaluated.get(policy).map(|e| &e.outcome)
    }

    /// The policies for one backend port, highest precedence first: those naming the port if
    /// any, else those for the whole Service.
    fn precedence(&self, namespace: &str, service: &str, port: i32) -> &[ObjectKey] {
        let svc = (namespace.to_owned(), service.to_owned());
        let by_name = self
            .port_names
            .get(&svc)
            .and_then(|ports| ports.get(&port))
            .and_then(|name| {
                self.targets
                    .get(&(svc.0.clone(), svc.1.clone(), Some(name.clone())))
            })
            .filter(|p| !p.is_empty());
        by_name
            .or_else(|| self.targets.get(&(svc.0, svc.1, None)))
            .map_or(&[], Vec::as_slice)
    }

    /// The statuses to write: every policy relevant to a Gateway in `uses`, and every policy that
    /// still carries entries of ours (they are removed when no longer relevant). Entries of
    /// other controllers are kept as they are.
    pub fn statuses(
        &self,
        snapshot: &Snapshot,
        settings: &Settings,
        uses: &BackendUses,
        now: &Time,
    ) -> Vec<PolicyStatusUpdate> {
        let roles = self.roles(uses);
        snapshot
            .backend_tls_policies
            .iter()
            .filter_map(|(key, policy)| {
                let wanted = roles.get(key);
                let previous = policy.status.clone().unwrap_or_default().ancestors;
                let had_ours = previous
                    .iter()
                    .any(|a| a.controller_name == settings.controller_name);
                if wanted.is_none() && !had_ours {
                    return None;
                }
                let evaluated = self.evaluated.get(key)?;
                let empty = BTreeMap::new();
                Some(self.policy_status(
                    key,
                    policy,
                    evaluated,
                    wanted.unwrap_or(&empty),
                    settings,
                    now,
                ))
            })
            .collect()
    }

    /// How each policy relates to each Gateway using a Service it targets.
    fn roles(&self, uses: &BackendUses) -> BTreeMap<ObjectKey, BTreeMap<ObjectKey, Vec<Role>>> {
        let mut roles: BTreeMap<ObjectKey, BTreeMap<ObjectKey, Vec<Role>>> = BTreeMap::new();
        for ((ns, svc, port), gateways) in &uses.uses {
            let mut add = |policy: &ObjectKey, role: Role| {
                for gw in gateways {
                    roles
                        .entry(policy.clone())
                        .or_default()
                        .entry(gw.clone())
                        .or_default()
                        .push(role.clone());
                }
            };
            let ranked = self.precedence(ns, svc, *port);
            if let Some((winner, losers)) = ranked.split_first() {
                add(winner, Role::Applies);
                for loser in losers {
                    let message = format!(
                        "{KIND} {}/{} takes precedence for Service {ns}/{svc} port {port} \
                         (older, or as old and first by name)",
                        winner.0, winner.1
                    );
                    add(loser, Role::Conflicted(message));
                }
            }
            let svc_key = (ns.clone(), svc.clone());
            for (policy, message) in self.unresolved.get(&svc_key).into_iter().flatten() {
                add(policy, Role::TargetNotFound(message.clone()));
            }
        }
        roles
    }

    fn policy_status(
        &self,
        key: &ObjectKey,
        policy: &BackendTlsPolicy,
        evaluated: &Evaluated,
        gateways: &BTreeMap<ObjectKey, Vec<Role>>,
        settings: &Settings,
        now: &Time,
    ) -> PolicyStatusUpdate {
        let generation = policy.metadata.generation;
        let previous = policy.status.clone().unwrap_or_default().ancestors;
        let ours =
            |a: &BackendTlsPolicyStatusAncestors| a.controller_name == settings.controller_name;
        let entry =
            |gw: &ObjectKey, roles: &[Role], prev: &[Condition]| BackendTlsPolicyStatusAncestors {
                ancestor_ref: ancestor_ref(gw),
                controller_name: settings.controller_name.clone(),
                conditions: conditions(prev, wanted_for(evaluated, roles), generation, now),
            };
        let mut placed = BTreeSet::new();
        let mut ancestors = Vec::new();
        // Walk the previous list so that entries keep their places: other controllers' entries
        // untouched, ours refreshed, ours for Gateways no longer relevant dropped.
        for a in previous {
            if !ours(&a) {
                ancestors.push(a);
                continue;
            }
            let Some(gw) = gateway_of(&a, &key.0) else {
                continue;
            };
            if let Some(roles) = gateways.get(&gw)
                && placed.insert(gw.clone())
            {
                ancestors.push(entry(&gw, roles, &a.conditions));
            }
        }
        let mut unrepresented = Vec::new();
        for (gw, roles) in gateways {
            if placed.contains(gw) {
                continue;
            }
            if ancestors.len() >= MAX_ANCESTORS {
                unrepresented.push(gw.clone());
                continue;
            }
            ancestors.push(entry(gw, roles, &[]));
        }
        PolicyStatusUpdate {
            policy: key.clone(),
            status: BackendTlsPolicyStatus { ancestors },
            unrepresented,
        }
    }
}

/// How a policy relates to one Gateway, through one backend port.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// The policy is the one applied.
    Applies,
    /// Another policy takes precedence (message says which).
    Conflicted(String),
    /// A target of the policy does not resolve on a Service the Gateway uses.
    TargetNotFound(String),
}

/// The conditions of one ancestor entry: a policy applied anywhere through this Gateway reports
/// its own validity; otherwise the conflict, otherwise the target problem.
fn wanted_for(evaluated: &Evaluated, roles: &[Role]) -> Vec<Wanted> {
    let accepted = if roles.contains(&Role::Applies) {
        evaluated.accepted.clone()
    } else if let Some(Role::Conflicted(m)) =
        roles.iter().find(|r| matches!(r, Role::Conflicted(_)))
    {
        Wanted::no("Accepted", "Conflicted", m.clone())
    } else if let Some(Role::TargetNotFound(m)) =
        roles.iter().find(|r| matches!(r, Role::TargetNotFound(_)))
    {
        Wanted::no("Accepted", "TargetNotFound", m.clone())
    } else {
        evaluated.accepted.clone()
    };
    vec![accepted, evaluated.resolved_refs.clone()]
}

fn ancestor_ref(gw: &ObjectKey) -> BackendTlsPolicyStatusAncestorsAncestorRef {
    BackendTlsPolicyStatusAncestorsAncestorRef {
        group: Some(GATEWAY_GROUP.to_owned()),
        kind: Some("Gateway".to_owned()),
        name: gw.1.clone(),
        namespace: Some(gw.0.clone()),
        port: None,
        section_name: None,
    }
}

/// The Gateway an ancestor entry of ours names (namespace defaults to the policy's).
fn gateway_of(a: &BackendTlsPolicyStatusAncestors, policy_ns: &str) -> Option<ObjectKey> {
    let r = &a.ancestor_ref;
    let is_gateway = r.group.as_deref().unwrap_or(GATEWAY_GROUP) == GATEWAY_GROUP
        && r.kind.as_deref().unwrap_or("Gateway") == "Gateway";
    is_gateway.then(|| {
        (
            r.namespace.clone().unwrap_or_else(|| policy_ns.to_owned()),
            r.name.clone(),
        )
    })
}

/// Registers the targets of one policy. Only core Services are targets we act on: §5.2 gives
/// Service Extended support and leaves other kinds implementation-specific, and a policy on
/// another kind is never reached through an HTTPRoute backendRef, so it has no Gateway ancestor
/// to report on and is ignored.
fn add_targets(
    out: &mut BackendTlsPolicies,
    key: &ObjectKey,
    policy: &BackendTlsPolicy,
    snapshot: &Snapshot,
) {
    let ns = &key.0;
    for t in &policy.spec.target_refs {
        if !t.group.is_empty() || t.kind != "Service" || t.name.is_empty() {
            continue;
        }
        let svc_key = (ns.clone(), t.name.clone());
        let section = t.section_name.clone().filter(|s| !s.is_empty());
        if let Some(section) = &section {
            let service = snapshot.services.get(&svc_key);
            let ports: BTreeMap<i32, String> = service
                .and_then(|s| s.spec.as_ref())
                .and_then(|s| s.ports.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p.port, p.name.clone()?)))
                .collect();
            if !ports.values().any(|n| n == section) {
                // §5.2: an unknown sectionName makes the policy fail to attach to that target.
                let message = match service {
                    None => format!("Service {ns}/{} does not exist", t.name),
                    Some(_) => format!("Service {ns}/{} has no port named {section}", t.name),
                };
                out.unresolved
                    .entry(svc_key)
                    .or_default()
                    .push((key.clone(), message));
                continue;
            }
            out.port_names.insert(svc_key, ports);
        }
        let list = out
            .targets
            .entry((ns.clone(), t.name.clone(), section))
            .or_default();
        if !list.contains(key) {
            list.push(key.clone());
        }
    }
}

/// Evaluates a policy's `validation`: the CA bundle and the names to check.
fn evaluate(
    key: &ObjectKey,
    policy: &BackendTlsPolicy,
    snapshot: &Snapshot,
    settings: &Settings,
) -> Evaluated {
    let v = &policy.spec.validation;
    let invalid = spec_problems(v);
    let refs = v.ca_certificate_refs.clone().unwrap_or_default();
    let mut certs = Vec::new();
    let mut ref_problems: Vec<(&'static str, String)> = Vec::new();
    for r in &refs {
        match ca_certificates(r, &key.0, snapshot) {
            Ok(mut c) => certs.append(&mut c),
            Err(p) => ref_problems.push(p),
        }
    }
    let ref_messages = || {
        ref_problems
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let resolved_refs = match ref_problems.first() {
        None => Wanted::yes("ResolvedRefs", "ResolvedRefs", "All references resolved"),
        Some((reason, _)) => Wanted::no("ResolvedRefs", *reason, ref_messages()),
    };
    let accepted = if !invalid.is_empty() {
        Wanted::no("Accepted", "Invalid", invalid.join("; "))
    } else if !refs.is_empty() && ref_problems.len() == refs.len() {
        Wanted::no("Accepted", "NoValidCACertificate", ref_messages())
    } else {
        Wanted::yes("Accepted", "Accepted", "Policy is accepted")
    };
    // Any bad CA ref makes the policy unusable, even beside good ones: the spec says connections
    // using an invalid ref MUST fail, and trusting only part of the bundle would be a guess.
    let outcome = if !invalid.is_empty() || !ref_problems.is_empty() {
        let (reason, detail) = match ref_problems.first() {
            Some((reason, _)) if invalid.is_empty() => (*reason, ref_messages()),
            _ => ("Invalid", invalid.join("; ")),
        };
        PolicyOutcome::Invalid {
            policy: key.clone(),
            reason,
            message: format!(
                "{KIND} {}/{} cannot be honoured ({detail}); the backend is not reached rather \
                 than reached without TLS",
                key.0, key.1
            ),
        }
    } else {
        PolicyOutcome::Valid(Box::new(TlsToBackend {
            policy: key.clone(),
            pki_profile: pki_profile(key, certs, settings),
            server_name: v.hostname.clone(),
            host_check_names: host_check_names(v),
        }))
    };
    Evaluated {
        outcome,
        accepted,
        resolved_refs,
    }
}

/// What makes `validation` unusable on Avi, whatever the CA refs hold (`Accepted=False
/// Invalid`).
fn spec_problems(v: &BackendTlsPolicyValidation) -> Vec<String> {
    let mut out = Vec::new();
    if v.hostname.is_empty() {
        out.push("validation.hostname is empty".to_owned());
    }
    let has_refs = v
        .ca_certificate_refs
        .as_ref()
        .is_some_and(|r| !r.is_empty());
    let well_known = v
        .well_known_ca_certificates
        .as_deref()
        .filter(|w| !w.is_empty());
    match (has_refs, well_known) {
        (true, Some(_)) => out.push(
            "validation sets both caCertificateRefs and wellKnownCACertificates; only one is allowed"
                .to_owned(),
        ),
        // §5.2: an unsupported wellKnownCACertificates is `Accepted=False Invalid`.
        (false, Some(_)) => out.push(
            "wellKnownCACertificates is not supported: the Avi controller has no system CA bundle for pools"
                .to_owned(),
        ),
        (false, None) => out.push("validation needs caCertificateRefs".to_owned()),
        (true, None) => {}
    }
    for san in v.subject_alt_names.iter().flatten() {
        match san.r#type {
            // Avi's pool host check (host_check_enabled + domain_name) compares DNS names only.
            // Dropping the URI entry would narrow an OR list to fewer names and so accept
            // certificates the policy does not: refuse instead.
            BackendTlsPolicyValidationSubjectAltNamesType::Uri => out.push(format!(
                "subjectAltNames has URI {}: Avi cannot verify URI SANs (the pool host check \
                 compares DNS names only)",
                san.uri.as_deref().unwrap_or("<empty>")
            )),
            BackendTlsPolicyValidationSubjectAltNamesType::Hostname => {
                if san.hostname.as_deref().is_none_or(str::is_empty) {
                    out.push("a subjectAltNames entry of type Hostname has no hostname".to_owned());
                }
            }
        }
    }
    out
}

/// The names the backend certificate is checked against: the Hostname SANs when any SAN is
/// given (then `hostname` is for SNI only, §5.2), `hostname` otherwise.
fn host_check_names(v: &BackendTlsPolicyValidation) -> Vec<String> {
    let sans: Vec<String> = v
        .subject_alt_names
        .iter()
        .flatten()
        .filter(|s| s.r#type == BackendTlsPolicyValidationSubjectAltNamesType::Hostname)
        .filter_map(|s| s.hostname.clone())
        .collect();
    if sans.is_empty() {
        vec![v.hostname.clone()]
    } else {
        sans
    }
}

/// The PKI profile of a valid policy. The name is ours (AKO has no BackendTLSPolicy):
/// `ako-gw-<cluster>--` + sha1 of `<namespace>-<name>-btls`, stable per policy and within
/// Avi's name length.
fn pki_profile(key: &ObjectKey, certs: Vec<String>, settings: &Settings) -> PkiProfile {
    PkiProfile {
        name: pki_profile_name(settings, &key.0, &key.1),
        created_by: Some(settings.created_by()),
        markers: vec![Marker::new("clustername", [settings.cluster_name.clone()])],
        ca_certs: certs.into_iter().map(SslCertificate::from_pem).collect(),
        // The controller defaults to checking CRLs and then rejects every certificate when the
        // profile has none; a BackendTLSPolicy gives none.
        crl_check: Some(false),
        ..PkiProfile::default()
    }
}

/// The name of the PKI profile made for policy `namespace/name` (our naming, not AKO's).
pub fn pki_profile_name(settings: &Settings, namespace: &str, name: &str) -> String {
    format!(
        "{}{}",
        settings.name_prefix(),
        crate::names::sha1_hex(&format!("{namespace}-{name}-btls"))
    )
}

/// The certificates of one `caCertificateRefs` entry, each as its own PEM block, or the
/// `ResolvedRefs` reason and message.
fn ca_certificates(
    r: &BackendTlsPolicyValidationCaCertificateRefs,
    ns: &str,
    snapshot: &Snapshot,
) -> Result<Vec<String>, (&'static str, String)> {
    if !r.group.is_empty() || r.kind != "ConfigMap" {
        let group = if r.group.is_empty() { "core" } else { &r.group };
        return Err((
            "InvalidKind",
            format!(
                "caCertificateRef {group}/{} {} is not supported; use a ConfigMap",
                r.kind, r.name
            ),
        ));
    }
    // References are local (LocalObjectReference): always the policy's namespace.
    config_map_cas(snapshot, ns, &r.name).map_err(|e| ("InvalidCACertificateRef", e))
}

/// The CA certificates in `ca.crt` of ConfigMap `ns/name`, each its own PEM block; or why
/// they cannot be used, as a sentence naming the ConfigMap (printable, capped).
pub(crate) fn config_map_cas(
    snapshot: &Snapshot,
    ns: &str,
    name: &str,
) -> Result<Vec<String>, String> {
    let printable = translate_core::text::printable;
    let bad = |why: &str| format!("ConfigMap {}/{} {why}", printable(ns), printable(name));
    let cm = snapshot
        .config_maps
        .get(&(ns.to_owned(), name.to_owned()))
        .ok_or_else(|| bad("does not exist"))?;
    let pem = config_map_value(cm, CA_KEY).ok_or_else(|| bad("has no ca.crt"))?;
    let certs =
        pem_certificates(&pem).map_err(|e| bad(&format!("ca.crt is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("ca.crt holds no PEM certificate"));
    }
    Ok(certs)
}

/// A ConfigMap value from `data`, or from `binaryData`.
fn config_map_value(cm: &ConfigMap, key: &str) -> Option<Vec<u8>> {
    cm.data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|s| s.as_bytes().to_vec())
        .or_else(|| {
            cm.binary_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|b| b.0.clone())
        })
        .filter(|v| !v.iter().all(u8::is_ascii_whitespace))
}

/// Every CERTIFICATE block of a PEM bundle, re-encoded one per string so that each becomes one
/// Avi CA certificate whatever the input's line endings. Other block kinds are skipped; a
/// damaged CERTIFICATE block fails the whole bundle.
fn pem_certificates(pem: &[u8]) -> Result<Vec<String>, String> {
    CertificateDer::pem_slice_iter(pem)
        .map(|c| {
            let der = c.map_err(|e| e.to_string())?;
            // A DER certificate is a SEQUENCE; anything else is not worth sending to Avi.
            if der.first() != Some(&0x30) {
                return Err("a CERTIFICATE block is not DER".to_owned());
            }
            Ok(to_pem(der.as_ref()))
        })
        .collect()
}

/// `der` as a PEM CERTIFICATE block (64-column base64, LF line ends).
fn to_pem(der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = Vec::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                b64.push(ALPHABET.get(index).copied().unwrap_or(b'A'));
            } else {
                b64.push(b'=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.chunks(64) {
        out.extend(line.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests;
