//! The translation: Ingresses of our classes in, AKO's Avi objects, the Ingress statuses and
//! Events out.
//!
//! # Layout
//!
//! Each host lands on one parent virtual service: shared VS `fnv32a(host) & (shards-1)`
//! ([`crate::names::shard`]), or its own dedicated VS with [`ShardSize::Dedicated`]. Parents
//! listen on 80 and 443 (SSL), with `System-HTTP` and `System-TCP-Proxy`, and have a VSVIP of
//! the same name with an auto-allocated VIP.
//!
//! **SNI mode** (default):
//! - an insecure host's paths become pools `<c>--<host>P-<ns>-<ing>` in the shared pool group
//!   (named as the VS), each with priority label `lower(host + path)`; the shared VS runs the
//!   DataScript set named as the VS ([`datascript`]), which selects that pool group with
//!   `lower(host + path)`: the member whose label is the longest prefix of it serves;
//! - a secure host (in `spec.tls[].hosts` with a usable Secret) gets an SNI child VS
//!   `<c>--<host>` (`System-Secure-HTTP`, `vh_domain_name=[host]`) with its certificate
//!   `<c>--<host>` and one HTTPPolicySet `<c>--<ns>-<host>` per namespace whose rules switch to
//!   pool groups `<c>--<ns>-<host>P-<ing>` (each with one pool of the same name); the parent
//!   gets the HTTP→HTTPS redirect policy set named as the parent (one rule per secure host);
//! - dedicated mode: one VS `<c>--<host>-L7-dedicated` per host (`VS_TYPE_NORMAL`, port 80,
//!   plus 443 and `System-Secure-HTTP` when secure), with the per-namespace policy sets and
//!   pools / pool groups suffixed `-L7-dedicated`; insecure hosts are routed by the policy
//!   sets too (there is no shared pool group to hold labels), their pool groups named as their
//!   pools `<c>--<host>P-<ns>-<ing>-L7-dedicated`.
//!
//! **EVH mode**: every host (secure or not) gets a child VS (`vh_matches`: the host and the
//! path rules it serves) under the EVH parent, with the per-namespace policy sets, one pool
//! group per path and one pool per path (the Service name is in the pool's preimage). A secure
//! host's certificate is attached to the parent; its redirect policy set (named as the child)
//! sits first on the child.
//!
//! # Paths
//!
//! Longest path first; ties: Exact, then Prefix, then ImplementationSpecific, then the path,
//! then the older Ingress, then spec order; a default backend always last.
//! - `Exact` → `EQUALS`;
//! - `Prefix` → element-wise as Kubernetes defines it: `/foo` (or `/foo/`) is `EQUALS /foo` or
//!   `BEGINS_WITH /foo/` (two rules `<ps>-<i>` and `<ps>-<i>-exact`), `/` matches everything;
//! - `ImplementationSpecific` or no `pathType` → `BEGINS_WITH`, as AKO.
//!
//! Matching is case-sensitive, except for insecure hosts on an SNI shared VS: there AKO's
//! DataScript label (case-insensitive, plain string prefix, Exact not enforced) is the only
//! routing, and a Warning Event `PathTypeNotEnforced` says so for an Exact path. Use TLS or EVH
//! mode for exact matching.
//!
//! # Where AKO is wrong and we are not (names kept)
//!
//! - Two Ingresses claiming one host + path: the oldest (creationTimestamp, then
//!   namespace/name) keeps it; the other gets `HostPathConflict` and that path is not
//!   programmed. A path repeated within one Ingress: the first wins (`DuplicatePath`).
//! - Names that collide (`/a/b` and `/a_b`; `ns a-b, ing c` and `ns a, ing b-c`): the later
//!   path is refused with `NameCollision` naming the colliding object.
//! - Names over 255 characters: refused with `NameTooLong`, never skipped silently.
//! - A missing or invalid TLS Secret: `InvalidTLSSecret`, and the host keeps serving over plain
//!   HTTP. Two Ingresses giving different Secrets for one host: the oldest wins
//!   (`TLSConflict`). A TLS host without a rule: `TLSHostWithoutRule`.
//! - A host is secure as a whole: when one Ingress makes it secure, every path of it (from any
//!   Ingress) is served on the secure child, since the redirect sends all its HTTP there.
//! - `spec.defaultBackend` is served for every host of the Ingress as the lowest-priority
//!   catch-all (`/`), unless the Ingress has its own `/` path for the host. An Ingress whose
//!   default backend has no host to go with gets `DefaultBackendWithoutHost`: a shared VS
//!   serves many Ingresses, and none of them may take all unmatched traffic.
//! - A backend port given by name is resolved through the Service's ports (AKO uses 80); a
//!   name that does not resolve gets `BackendNotFound` and an empty pool.
//! - A `resource` backend gets `UnsupportedBackend` (AKO dereferences a nil Service).
//! - Rules without a host are not programmed (`MissingHost`); AKO needs an auto-FQDN
//!   subdomain, which is not implemented.
//! - Several namespaces' policy sets on one host are ordered by their longest path; when that
//!   cannot keep every longer path before every shorter one, `PolicySetOrder` says so.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use avi_client::AviRef;
use avi_client::models::{
    HdrMatchCriteria, HostHdrMatch, HttpPolicies, HttpPolicySet, HttpRedirectAction,
    HttpRequestPolicy, HttpRequestRule, HttpSwitchingAction, Marker, MatchCase, MatchTarget,
    PathMatch, PathMatchCriteria, Pool, PoolGroup, PoolGroupMember, PortMatch, RedirectProtocol,
    RedirectStatusCode, SecretKey, Service, SslCertificate, SslCertificateType,
    SslKeyAndCertificate, VhMatch, VhMatchRule, VhType, VirtualService, VsDataScript,
    VsDataScriptSet, VsDataScripts, VsType, VsVip,
};
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend, IngressClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;
use translate_core::endpoints::{SliceIndex, members_with};
use translate_core::incremental::PoolBackend;
use translate_core::mesh_tls::decide;
use translate_core::pool::{ako_pool, apply_mesh_tls, servers};
use translate_core::text::printable;
use translate_core::{
    AddressNeed, AviModel, Notice, ObjectKey, ObjectStatus, Output, Settings, SharedInputs,
    Snapshot,
};

use crate::class::Classes;
use crate::names::{MAX_NAME_LEN, Names};
use crate::settings::{IngressSettings, ShardSize};

/// The API group of Ingresses.
pub const INGRESS_GROUP: &str = "networking.k8s.io";

/// The DataScript event AKO's shared-VS script runs on.
pub const DATASCRIPT_EVENT: &str = "VS_DATASCRIPT_EVT_HTTP_REQ";

const HTTP_PROFILE: &str = "/api/applicationprofile/?name=System-HTTP";
const SECURE_HTTP_PROFILE: &str = "/api/applicationprofile/?name=System-Secure-HTTP";
const TCP_PROXY_PROFILE: &str = "/api/networkprofile/?name=System-TCP-Proxy";

/// The key of an Ingress for statuses and Events.
pub fn ingress_key(namespace: &str, name: &str) -> ObjectKey {
    ObjectKey::new(INGRESS_GROUP, "Ingress", namespace, name)
}

/// The Lua source of the DataScript set of SNI shared VS whose pool group is `pool_group`.
///
/// Its meaning (all an emulator needs): take the request's host (without port) and path,
/// lowercase `host .. path`, and select from `pool_group` the member whose priority label is
/// the longest prefix of it (AKO's `implicit_priority_labels` pool group); no member, no
/// selection.
pub fn datascript(pool_group: &str) -> String {
    let pg = pool_group.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "-- AKO-compatible routing of insecure hosts: the pool group's members carry the priority\n\
         -- label lower(host .. path) of their Ingress path; the longest label that is a prefix of\n\
         -- the request's lower(host .. path) wins.\n\
         host = avi.http.get_host_tokens(1)\n\
         path = avi.http.get_path()\n\
         if host then\n\
         \x20 avi.poolgroup.select(\"{pg}\", string.lower(host .. path))\n\
         end\n"
    )
}

/// Translates the Ingresses of `snapshot` (see the module docs). `now` is unused: an Ingress
/// status has no timestamps.
pub fn translate(
    snapshot: &Snapshot,
    settings: &Settings,
    ingress: &IngressSettings,
    now: &Time,
) -> Output {
    run(snapshot, settings, ingress, now)
}

/// How a path matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PathKind {
    Exact,
    Prefix,
    ImplementationSpecific,
}

/// A backend's port as the Ingress gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PortRef {
    Number(i32),
    Name(String),
    Missing,
}

/// One path of one Ingress as asked.
#[derive(Debug, Clone)]
struct Route {
    /// Index of the Ingress in age order.
    ing: usize,
    /// Position in the Ingress (the default backend's routes come after every rule).
    order: usize,
    host: String,
    path: String,
    kind: PathKind,
    service: String,
    port: PortRef,
    default_backend: bool,
}

/// An Ingress of ours.
struct Ing {
    ns: String,
    name: String,
    key: ObjectKey,
    object: Arc<Ingress>,
    /// Hosts of its rules, in spec order.
    hosts: Vec<String>,
}

/// A certificate from a TLS Secret.
struct Cert {
    cert_pem: String,
    key_pem: String,
}

/// Where a route is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// SNI, on a shared VS.
    SniShared,
    /// SNI, on the host's dedicated VS.
    SniDedicated,
    /// EVH (shared or dedicated parent).
    Evh,
}

/// A route with its names.
#[derive(Debug, Clone)]
struct Placed {
    route: Route,
    parent: String,
    layout: Layout,
    secure: bool,
    pool: String,
    /// `None` for an insecure host on an SNI shared VS (its pool is in the shared group).
    pool_group: Option<String>,
    /// As `pool_group`.
    policy_set: Option<String>,
}

impl Placed {
    fn on_shared_pool_group(&self) -> bool {
        self.pool_group.is_none()
    }
}

/// Everything one translation carries along.
struct Cx<'a> {
    settings: &'a Settings,
    ingress: &'a IngressSettings,
    names: Names,
    shared: &'a SharedInputs,
    created_by: Option<String>,
    ings: Vec<Ing>,
    notices: Vec<Notice>,
    /// The Service port behind each pool, for endpoint changes without a full translation.
    pool_backends: BTreeMap<String, PoolBackend>,
}

impl Cx<'_> {
    fn warn(&mut self, ing: usize, reason: &str, message: String) {
        self.notices
            .push(Notice::warning(self.ings[ing].key.clone(), reason, message));
    }

    fn note(&mut self, ing: usize, reason: &str, message: String) {
        self.notices
            .push(Notice::normal(self.ings[ing].key.clone(), reason, message));
    }

    fn ing_name(&self, ing: usize) -> String {
        format!("{}/{}", self.ings[ing].ns, self.ings[ing].name)
    }

    fn markers(&self, extra: &[(&str, Vec<String>)]) -> Vec<Marker> {
        let mut m = translate_core::pool::markers(self.settings, &[]);
        m.extend(
            extra
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| Marker::new(*k, v.iter().cloned())),
        );
        m
    }
}

/// The translation.
fn run(snapshot: &Snapshot, settings: &Settings, ingress: &IngressSettings, _now: &Time) -> Output {
    let classes = Classes::new(&snapshot.typed::<IngressClass>(), settings, ingress);
    let mut ings: Vec<Ing> = snapshot
        .typed::<Ingress>()
        .into_iter()
        .filter(|(_, i)| classes.is_ours(i))
        .map(|((ns, name), object)| Ing {
            key: ingress_key(&ns, &name),
            ns,
            name,
            object,
            hosts: Vec::new(),
        })
        .collect();
    // Age order: the oldest wins every conflict. An object without a creation time (a
    // manifest in a dry run) counts as the newest.
    ings.sort_by(|a, b| {
        let age = |i: &Ing| {
            let t = i.object.metadata.creation_timestamp.clone();
            (t.is_none(), t)
        };
        age(a)
            .cmp(&age(b))
            .then_with(|| (&a.ns, &a.name).cmp(&(&b.ns, &b.name)))
    });
    let mut cx = Cx {
        settings,
        ingress,
        names: Names::new(&settings.cluster_name, ingress.evh),
        shared: &snapshot.shared,
        created_by: Some(settings.created_by()),
        ings,
        notices: Vec::new(),
        pool_backends: BTreeMap::new(),
    };

    let routes = collect_routes(&mut cx);
    let secure = tls_hosts(&mut cx);
    let routes = resolve_claims(&mut cx, routes, &secure);
    let placed = place(&mut cx, routes, &secure);

    let mut model = AviModel::default();
    let index = SliceIndex::new(&snapshot.shared);
    let pools = build_pools(&mut cx, &placed, &index, &mut model);
    build_objects(&mut cx, &placed, &secure, pools, &mut model);
    model.normalize();

    let statuses = statuses(&mut cx, &placed);
    let mut notices = std::mem::take(&mut cx.notices);
    notices.sort();
    notices.dedup();
    Output {
        model,
        statuses,
        notices,
        pool_backends: std::mem::take(&mut cx.pool_backends),
    }
}

/// The service backend of a path or default backend, or why it cannot be served.
fn backend(b: &IngressBackend) -> Result<(String, PortRef), (&'static str, String)> {
    if let Some(svc) = &b.service {
        let port = match &svc.port {
            Some(p) if p.number.is_some_and(|n| n != 0) => PortRef::Number(p.number.unwrap_or(0)),
            Some(p) if p.name.as_deref().is_some_and(|n| !n.is_empty()) => {
                PortRef::Name(p.name.clone().unwrap_or_default())
            }
            _ => PortRef::Missing,
        };
        return Ok((svc.name.clone(), port));
    }
    if let Some(r) = &b.resource {
        return Err((
            "UnsupportedBackend",
            format!(
                "resource backend {}/{} {} is not supported (only Service backends are); not programmed",
                r.api_group.as_deref().unwrap_or(""),
                r.kind,
                r.name
            ),
        ));
    }
    Err((
        "InvalidBackend",
        "backend names neither a Service nor a resource; not programmed".to_owned(),
    ))
}

/// Every path of every Ingress, with the default backends expanded per host.
fn collect_routes(cx: &mut Cx<'_>) -> Vec<Route> {
    let mut routes = Vec::new();
    for i in 0..cx.ings.len() {
        let object = Arc::clone(&cx.ings[i].object);
        let Some(spec) = object.spec.as_ref() else {
            continue;
        };
        let mut hosts: Vec<String> = Vec::new();
        let mut order = 0;
        let mut own_root: BTreeSet<String> = BTreeSet::new();
        for rule in spec.rules.iter().flatten() {
            let host = rule.host.clone().unwrap_or_default();
            if host.is_empty() {
                cx.warn(
                    i,
                    "MissingHost",
                    "a rule without a host cannot be placed on a shared virtual service (no auto-FQDN subdomain is configured); not programmed".to_owned(),
                );
                continue;
            }
            if let Err(why) = check_host(&host) {
                cx.warn(
                    i,
                    "InvalidHost",
                    format!("host {}: {why}; not programmed", printable(&host)),
                );
                continue;
            }
            if !hosts.contains(&host) {
                hosts.push(host.clone());
            }
            for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
                let kind = match p.path_type.as_str() {
                    "Exact" => PathKind::Exact,
                    "Prefix" => PathKind::Prefix,
                    // AKO's reading of a missing pathType (validator.go:265).
                    "ImplementationSpecific" | "" => PathKind::ImplementationSpecific,
                    other => {
                        cx.warn(
                            i,
                            "InvalidPath",
                            format!("host {host}: pathType {} is none of Exact, Prefix, ImplementationSpecific; not programmed", printable(other)),
                        );
                        continue;
                    }
                };
                let path = p
                    .path
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "/".to_owned());
                if let Err(why) = check_path(&path) {
                    cx.warn(
                        i,
                        "InvalidPath",
                        format!(
                            "host {host} path {}: {why}; not programmed",
                            printable(&path)
                        ),
                    );
                    continue;
                }
                let (service, port) = match backend(&p.backend) {
                    Ok(b) => b,
                    Err((reason, message)) => {
                        cx.warn(i, reason, format!("host {host} path {path}: {message}"));
                        continue;
                    }
                };
                if path == "/" {
                    own_root.insert(host.clone());
                }
                routes.push(Route {
                    ing: i,
                    order,
                    host: host.clone(),
                    path,
                    kind,
                    service,
                    port,
                    default_backend: false,
                });
                order += 1;
            }
        }
        if let Some(db) = &spec.default_backend {
            match backend(db) {
                Err((reason, message)) => cx.warn(i, reason, format!("default backend: {message}")),
                Ok(_) if hosts.is_empty() => cx.warn(
                    i,
                    "DefaultBackendWithoutHost",
                    "spec.defaultBackend without any host in the rules cannot be placed: the shared virtual service serves many Ingresses and none may take all unmatched traffic; not programmed".to_owned(),
                ),
                Ok((service, port)) => {
                    for host in hosts.iter().filter(|h| !own_root.contains(*h)) {
                        routes.push(Route {
                            ing: i,
                            order,
                            host: host.clone(),
                            path: "/".to_owned(),
                            kind: PathKind::Prefix,
                            service: service.clone(),
                            port: port.clone(),
                            default_backend: true,
                        });
                        order += 1;
                    }
                }
            }
        }
        cx.ings[i].hosts = hosts;
    }
    routes
}

/// The hosts made secure, with their certificate: the oldest Ingress naming a Secret for a
/// host decides; a Secret that cannot be used leaves the host on plain HTTP.
fn tls_hosts(cx: &mut Cx<'_>) -> BTreeMap<String, Cert> {
    // host -> (ingress, secret name)
    let mut claims: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for i in 0..cx.ings.len() {
        let object = Arc::clone(&cx.ings[i].object);
        for tls in object.spec.iter().flat_map(|s| s.tls.iter().flatten()) {
            if tls.hosts.as_ref().is_none_or(Vec::is_empty) {
                cx.warn(
                    i,
                    "TLSHostWithoutRule",
                    format!(
                        "a TLS entry (Secret {}) names no host; ignored (AKO has no default host to give it)",
                        tls.secret_name.as_deref().unwrap_or("-")
                    ),
                );
            }
            for host in tls.hosts.iter().flatten() {
                if !cx.ings[i].hosts.contains(host) {
                    cx.warn(
                        i,
                        "TLSHostWithoutRule",
                        format!("TLS host {host} has no rule in this Ingress; ignored"),
                    );
                    continue;
                }
                let Some(secret) = tls.secret_name.clone().filter(|s| !s.is_empty()) else {
                    cx.warn(
                        i,
                        "InvalidTLSSecret",
                        format!(
                            "TLS host {host} names no Secret; the host is served over plain HTTP"
                        ),
                    );
                    continue;
                };
                match claims.get(host) {
                    None => {
                        claims.insert(host.clone(), (i, secret));
                    }
                    Some((j, s)) if cx.ings[*j].ns == cx.ings[i].ns && *s == secret => {}
                    Some((j, s)) if *j == i => {
                        cx.warn(
                            i,
                            "TLSConflict",
                            format!("host {host}: this Ingress names Secrets {s} and {secret} for it; {s} (the first) is used"),
                        );
                    }
                    Some((j, s)) => {
                        let (winner, winner_secret) =
                            (cx.ing_name(*j), format!("{}/{s}", cx.ings[*j].ns));
                        let mine = format!("{}/{secret}", cx.ings[i].ns);
                        cx.warn(
                            i,
                            "TLSConflict",
                            format!("host {host}: Secret {winner_secret} of Ingress {winner} (older) is used; Secret {mine} is ignored"),
                        );
                    }
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for (host, (i, secret)) in claims {
        let ns = cx.ings[i].ns.clone();
        let cert_name = cx.names.certificate(&host);
        if cert_name.len() > MAX_NAME_LEN {
            cx.warn(
                i,
                "NameTooLong",
                format!("host {host}: certificate name {cert_name} is longer than {MAX_NAME_LEN} characters; the host is served over plain HTTP"),
            );
            continue;
        }
        match load_cert(cx.shared, &ns, &secret) {
            Ok(cert) => {
                out.insert(host, cert);
            }
            Err(e) => cx.warn(
                i,
                "InvalidTLSSecret",
                format!(
                    "host {host}: Secret {ns}/{secret}: {e}; the host is served over plain HTTP"
                ),
            ),
        }
    }
    out
}

/// Why a TLS Secret cannot be used. Messages never hold key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No such Secret.
    #[error("does not exist")]
    Missing,
    /// `tls.crt` or `tls.key` is absent or not text.
    #[error("needs tls.crt and tls.key")]
    MissingKeys,
    /// `tls.crt` holds a private key.
    #[error("tls.crt contains a PRIVATE KEY block; refused")]
    KeyInCertificate,
    /// `tls.crt` holds no readable X.509 certificate.
    #[error("tls.crt does not hold a readable X.509 certificate")]
    BadCertificate,
    /// `tls.key` holds no unencrypted PEM private key.
    #[error("tls.key does not hold an unencrypted PEM private key")]
    BadKey,
}

/// The certificate and key of Secret `ns/name`, checked: every PEM block of `tls.crt` is an
/// X.509 certificate (a private key there is refused), `tls.key` is a PEM private key.
fn load_cert(shared: &SharedInputs, ns: &str, name: &str) -> Result<Cert, SecretError> {
    let secret = shared
        .secrets
        .get(&(ns.to_owned(), name.to_owned()))
        .ok_or(SecretError::Missing)?;
    let text = |k: &str| {
        secret
            .data
            .as_ref()
            .and_then(|d| d.get(k))
            .and_then(|b| String::from_utf8(b.0.clone()).ok())
            .or_else(|| secret.string_data.as_ref().and_then(|d| d.get(k)).cloned())
    };
    let (Some(cert_pem), Some(key_pem)) = (text("tls.crt"), text("tls.key")) else {
        return Err(SecretError::MissingKeys);
    };
    let cert_pem = certificates_only(&cert_pem)?;
    check_key(&key_pem)?;
    Ok(Cert { cert_pem, key_pem })
}

fn certificates_only(pem: &str) -> Result<String, SecretError> {
    translate_core::tls_pem::certificates_only(pem).map_err(SecretError::from)
}

fn check_key(pem: &str) -> Result<(), SecretError> {
    translate_core::tls_pem::check_key(pem).map_err(SecretError::from)
}

impl From<translate_core::tls_pem::PemError> for SecretError {
    fn from(e: translate_core::tls_pem::PemError) -> Self {
        use translate_core::tls_pem::PemError;
        match e {
            PemError::KeyInCertificate => SecretError::KeyInCertificate,
            PemError::BadCertificate => SecretError::BadCertificate,
            PemError::BadKey => SecretError::BadKey,
        }
    }
}

/// A host as Kubernetes validates `spec.rules[].host`: a lowercase DNS-1123 subdomain, or one
/// behind a single leading `*.` wildcard label. Anything else would be copied into Avi names,
/// labels and matches (a `/` in a host becomes part of a DataScript label, a port or control
/// character a match no request makes).
fn check_host(host: &str) -> Result<(), &'static str> {
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.len() > 253 {
        return Err("longer than 253 characters");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(
            "not a lowercase DNS name (letters, digits and '-' in dot-separated labels, an optional leading '*.'; internationalised names in their xn-- form)",
        )
    }
}

/// A path as Kubernetes validates it: absolute, printable, and (for the segment-wise kinds)
/// without empty, `.` or `..` segments.
fn check_path(path: &str) -> Result<(), &'static str> {
    if !path.starts_with('/') {
        return Err("does not start with '/'");
    }
    if path.chars().any(char::is_control) {
        return Err("holds control characters");
    }
    if path.contains("//") || path.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("holds an empty, '.' or '..' segment");
    }
    Ok(())
}

/// The routes that win their host + path (oldest Ingress first, explicit paths before default
/// backends).
fn resolve_claims(
    cx: &mut Cx<'_>,
    mut routes: Vec<Route>,
    secure: &BTreeMap<String, Cert>,
) -> Vec<Route> {
    routes.sort_by_key(|r| (r.default_backend, r.ing, r.order));
    let mut claims: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut exact_warned: BTreeSet<usize> = BTreeSet::new();
    let sni_shared = !cx.ingress.evh && cx.ingress.shard_size != ShardSize::Dedicated;
    let mut out = Vec::new();
    for r in routes {
        let what = if r.default_backend {
            format!("default backend for host {}", r.host)
        } else {
            format!("host {} path {}", r.host, r.path)
        };
        let label_routed = sni_shared && !secure.contains_key(&r.host);
        if label_routed && r.host.starts_with('*') {
            cx.warn(
                r.ing,
                "UnsupportedHost",
                format!("{what}: a wildcard host without TLS cannot be routed on an SNI shared virtual service; not programmed"),
            );
            continue;
        }
        // The requests a path serves: Prefix `/api` and `/api/` are the same claim, and where
        // the DataScript routes by label, so are paths that differ only in case.
        let mut claim = if r.kind == PathKind::Prefix && r.path.len() > 1 {
            r.path.trim_end_matches('/').to_owned()
        } else {
            r.path.clone()
        };
        if label_routed {
            claim = claim.to_lowercase();
        }
        let key = (r.host.clone(), claim);
        match claims.get(&key) {
            None => {
                claims.insert(key, r.ing);
            }
            Some(&w) if w == r.ing => {
                cx.warn(
                    r.ing,
                    "DuplicatePath",
                    format!("{what}: path {} of host {} appears more than once in this Ingress; the first is programmed", r.path, r.host),
                );
                continue;
            }
            Some(&w) => {
                let winner = cx.ing_name(w);
                cx.warn(
                    r.ing,
                    "HostPathConflict",
                    format!("{what}: host {} path {} is already served by Ingress {winner} (older); not programmed", r.host, r.path),
                );
                continue;
            }
        }
        if label_routed && r.kind == PathKind::Exact && exact_warned.insert(r.ing) {
            cx.warn(
                r.ing,
                "PathTypeNotEnforced",
                format!("{what}: insecure hosts on an SNI shared virtual service are routed by AKO's DataScript label (case-insensitive prefix of host+path), so pathType Exact acts as a prefix; use TLS or EVH mode for exact matching"),
            );
        }
        out.push(r);
    }
    out
}

/// Names every route, refusing names that are too long or collide with another path's.
fn place(cx: &mut Cx<'_>, routes: Vec<Route>, secure: &BTreeMap<String, Cert>) -> Vec<Placed> {
    let shards = cx.ingress.shard_size.shards();
    let dedicated = cx.ingress.shard_size == ShardSize::Dedicated;
    // "<kind> <name>" -> (identity, description) of the path that holds it.
    let mut registry: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut out = Vec::new();
    for r in routes {
        let (ns, ing) = (cx.ings[r.ing].ns.clone(), cx.ings[r.ing].name.clone());
        let names = &cx.names;
        let is_secure = secure.contains_key(&r.host);
        let parent = names.parent_vs(&r.host, shards);
        let (layout, pool, pool_group, policy_set, child) = if cx.ingress.evh {
            (
                Layout::Evh,
                names.pool(&ns, &r.host, &r.path, &ing, &r.service, dedicated),
                Some(names.pool_group(&ns, &r.host, &r.path, &ing, dedicated)),
                Some(names.policy_set(&ns, &r.host)),
                Some(names.child_vs(&r.host)),
            )
        } else if dedicated {
            let (pool, pg) = if is_secure {
                let pg = names.pool_group(&ns, &r.host, &r.path, &ing, true);
                (pg.clone(), pg)
            } else {
                let pool = names.insecure_pool(&r.host, &r.path, &ns, &ing, true);
                (pool.clone(), pool)
            };
            (
                Layout::SniDedicated,
                pool,
                Some(pg),
                Some(names.policy_set(&ns, &r.host)),
                None,
            )
        } else if is_secure {
            let pg = names.pool_group(&ns, &r.host, &r.path, &ing, false);
            (
                Layout::SniShared,
                pg.clone(),
                Some(pg),
                Some(names.policy_set(&ns, &r.host)),
                Some(names.child_vs(&r.host)),
            )
        } else {
            (
                Layout::SniShared,
                names.insecure_pool(&r.host, &r.path, &ns, &ing, false),
                None,
                None,
                None,
            )
        };
        let what = if r.default_backend {
            format!("default backend for host {}", r.host)
        } else {
            format!("host {} path {}", r.host, r.path)
        };
        let path_id = format!("{ns}/{ing} {} {}", r.host, r.path);
        let path_desc = format!("Ingress {ns}/{ing} host {} path {}", r.host, r.path);
        // Every name this route needs, with the identity that may share it: AKO's names are
        // joins and hashes of namespace, host and path, so distinct objects can meet (EVH hashes
        // `<c>--<host>` for a host's child and redirect set and `<c>--<ns>-<host>` for a
        // namespace's policy set: host `a-b.com` meets namespace `a` with host `b.com`).
        let redirect = match (is_secure, &child) {
            (false, _) => None,
            // EVH: the redirect set takes the child's name; SNI: the parent's.
            (true, Some(c)) if cx.ingress.evh => Some(c.clone()),
            (true, _) => Some(parent.clone()),
        };
        let mut wanted: Vec<(&str, &String, String, String)> = vec![
            (
                "virtual service",
                &parent,
                format!("parent {parent}"),
                format!("the parent virtual service {parent}"),
            ),
            ("pool", &pool, path_id.clone(), path_desc.clone()),
        ];
        if let Some(pg) = &pool_group {
            wanted.push(("pool group", pg, path_id.clone(), path_desc.clone()));
        }
        if let Some(ps) = &policy_set {
            wanted.push((
                "HTTP policy set",
                ps,
                format!("{ns} {}", r.host),
                format!("namespace {ns} host {}", r.host),
            ));
        }
        if let Some(c) = &child {
            wanted.push((
                "virtual service",
                c,
                format!("child {}", r.host),
                format!("the child virtual service of host {}", r.host),
            ));
        }
        if let Some(rs) = &redirect {
            wanted.push((
                "HTTP policy set",
                rs,
                format!("redirect {rs}"),
                format!("the HTTP → HTTPS redirect policy set {rs}"),
            ));
        }
        let mut refused = None;
        for (kind, name, id, _) in &wanted {
            if name.len() > MAX_NAME_LEN {
                refused = Some((
                    "NameTooLong",
                    format!(
                        "{what}: {kind} name {name} is longer than {MAX_NAME_LEN} characters; not programmed"
                    ),
                ));
                break;
            }
            if id.is_empty() {
                continue;
            }
            if let Some((held, desc)) = registry.get(&format!("{kind} {name}"))
                && held != id
            {
                refused = Some((
                    "NameCollision",
                    format!(
                        "{what}: its {kind} name {name} is already used by {desc}; not programmed"
                    ),
                ));
                break;
            }
        }
        if let Some((reason, message)) = refused {
            cx.warn(r.ing, reason, message);
            continue;
        }
        for (kind, name, id, desc) in wanted {
            if !id.is_empty() {
                registry
                    .entry(format!("{kind} {name}"))
                    .or_insert((id, desc));
            }
        }
        out.push(Placed {
            route: r,
            parent,
            layout,
            secure: is_secure,
            pool,
            pool_group,
            policy_set,
        });
    }
    out
}

/// The pool of every placed route, by pool name.
fn build_pools(
    cx: &mut Cx<'_>,
    placed: &[Placed],
    index: &SliceIndex<'_>,
    model: &mut AviModel,
) -> BTreeMap<String, Pool> {
    let mut pools = BTreeMap::new();
    for p in placed {
        let r = &p.route;
        let ns = cx.ings[r.ing].ns.clone();
        let ing = cx.ings[r.ing].name.clone();
        let svc = &r.service;
        let service = cx.shared.services.get(&(ns.clone(), svc.clone()));
        let port = match &r.port {
            PortRef::Number(n) => Ok(*n),
            PortRef::Name(name) => service
                .and_then(|s| s.spec.as_ref())
                .and_then(|s| s.ports.as_ref())
                .and_then(|ports| ports.iter().find(|sp| sp.name.as_deref() == Some(name)))
                .map(|sp| sp.port)
                .ok_or_else(|| match service {
                    None => format!("Service {ns}/{svc} does not exist"),
                    Some(_) => format!("Service {ns}/{svc} has no port named {name}"),
                }),
            PortRef::Missing => Err(format!("the backend of Service {ns}/{svc} names no port")),
        };
        let members = port.clone().and_then(|port| {
            members_with(cx.shared, index, &ns, svc, port, cx.settings.service_type)
                .map_err(|problem| problem.message)
        });
        let members = match members {
            Ok(m) => m,
            Err(message) => {
                cx.warn(
                    r.ing,
                    "BackendNotFound",
                    format!(
                        "host {} path {}: {message}; the pool has no servers",
                        r.host, r.path
                    ),
                );
                Vec::new()
            }
        };
        let decision = decide(cx.shared, index, cx.settings, &ns, svc);
        if let Some(w) = decision.warning.clone() {
            cx.warn(r.ing, "BackendTLS", w);
        }
        if let Some(n) = decision.note.clone() {
            cx.note(r.ing, "BackendNotInMesh", n);
        }
        let mut marks: Vec<(&str, Vec<String>)> = vec![
            ("Namespace", vec![ns.clone()]),
            ("Host", vec![r.host.clone()]),
            ("Path", vec![r.path.clone()]),
            ("IngressName", vec![ing.clone()]),
        ];
        if !p.on_shared_pool_group() {
            marks.push(("ServiceName", vec![svc.clone()]));
        }
        let mut pool = Pool {
            created_by: cx.created_by.clone(),
            markers: cx.markers(&marks),
            servers: servers(&members),
            service_metadata: Some(
                json!({"ingress_name": ing, "namespace": ns, "hostnames": [r.host]}).to_string(),
            ),
            ..ako_pool(p.pool.clone())
        };
        apply_mesh_tls(&mut pool, &decision.tls, model);
        if let Ok(port) = port {
            // Ingress pools take their TLS from the mesh rule alone.
            cx.pool_backends.insert(
                pool.name.clone(),
                PoolBackend {
                    namespace: ns.clone(),
                    service: svc.clone(),
                    port,
                    mesh_dependent: true,
                },
            );
        }
        pools.insert(pool.name.clone(), pool);
    }
    pools
}

/// The path matches of a route, in rule order, each with its rule-name suffix.
fn path_matches(kind: PathKind, path: &str) -> Vec<(&'static str, PathMatch)> {
    match kind {
        PathKind::Exact => vec![("", PathMatch::new(PathMatchCriteria::Equals, [path]))],
        PathKind::ImplementationSpecific => {
            vec![("", PathMatch::new(PathMatchCriteria::BeginsWith, [path]))]
        }
        PathKind::Prefix => {
            let base = path.trim_end_matches('/');
            if base.is_empty() {
                vec![("", PathMatch::new(PathMatchCriteria::BeginsWith, ["/"]))]
            } else {
                vec![
                    (
                        "",
                        PathMatch::new(PathMatchCriteria::BeginsWith, [format!("{base}/")]),
                    ),
                    ("-exact", PathMatch::new(PathMatchCriteria::Equals, [base])),
                ]
            }
        }
    }
}

/// The order of a policy set's routes: longest path first (see the module docs).
fn rule_order(p: &Placed) -> impl Ord + use<> {
    let r = &p.route;
    (
        r.default_backend,
        Reverse(r.path.len()),
        r.kind,
        r.path.clone(),
        r.ing,
        r.order,
    )
}

/// One policy set, with the matches it serves (for EVH `vh_matches`).
struct PolicySet {
    set: HttpPolicySet,
    matches: Vec<PathMatch>,
    longest: usize,
    lengths: Vec<usize>,
    ings: BTreeSet<usize>,
}

fn policy_set(cx: &Cx<'_>, name: &str, routes: &[&Placed]) -> PolicySet {
    let mut routes = routes.to_vec();
    routes.sort_by_key(|p| rule_order(p));
    let mut rules = Vec::new();
    let mut matches = Vec::new();
    let mut paths = BTreeSet::new();
    let mut ing_names = BTreeSet::new();
    let mut ings = BTreeSet::new();
    for (i, p) in routes.iter().enumerate() {
        let Some(pg) = &p.pool_group else { continue };
        for (suffix, m) in path_matches(p.route.kind, &p.route.path) {
            let mut rule = HttpRequestRule::new(
                format!("{name}-{i}{suffix}"),
                u32::try_from(rules.len()).unwrap_or(u32::MAX),
            );
            rule.match_ = Some(MatchTarget {
                path: Some(m.clone()),
                ..MatchTarget::default()
            });
            rule.switching_action =
                Some(HttpSwitchingAction::pool_group(AviRef::by_name(pg.clone())));
            rules.push(rule);
            matches.push(m);
        }
        paths.insert(p.route.path.clone());
        ing_names.insert(cx.ings[p.route.ing].name.clone());
        ings.insert(p.route.ing);
    }
    let first = routes.first().map(|p| &p.route);
    let ns = first.map(|r| cx.ings[r.ing].ns.clone()).unwrap_or_default();
    let host = first.map(|r| r.host.clone()).unwrap_or_default();
    let lengths: Vec<usize> = routes.iter().map(|p| p.route.path.len()).collect();
    PolicySet {
        set: HttpPolicySet {
            name: name.to_owned(),
            created_by: cx.created_by.clone(),
            markers: cx.markers(&[
                ("Namespace", vec![ns]),
                ("Host", vec![host]),
                ("Path", paths.into_iter().collect()),
                ("IngressName", ing_names.into_iter().collect()),
            ]),
            http_request_policy: Some(HttpRequestPolicy {
                rules,
                ..HttpRequestPolicy::default()
            }),
            ..HttpPolicySet::default()
        },
        matches,
        longest: lengths.iter().copied().max().unwrap_or(0),
        lengths,
        ings,
    }
}

/// The HTTP→HTTPS redirect policy set `name` for `hosts`: per host, `Host` equals it and port
/// 80 → 302 to HTTPS port 443.
fn redirect_set(cx: &Cx<'_>, name: &str, hosts: &[String], markers: Vec<Marker>) -> HttpPolicySet {
    let rules = hosts
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let mut rule = HttpRequestRule::new(format!("{name}-{i}"), index);
            rule.match_ = Some(MatchTarget {
                host_hdr: Some(HostHdrMatch {
                    match_criteria: HdrMatchCriteria::Equals,
                    // Host names are case-insensitive (RFC 9110 §4.2.3), as AKO matches them.
                    match_case: Some(MatchCase::Insensitive),
                    value: vec![host.clone()],
                    ..HostHdrMatch::default()
                }),
                vs_port: Some(PortMatch::is_in([80])),
                ..MatchTarget::default()
            });
            rule.redirect_action = Some(HttpRedirectAction {
                protocol: RedirectProtocol::Https,
                port: Some(443),
                status_code: Some(RedirectStatusCode::Code302),
                ..HttpRedirectAction::default()
            });
            rule
        })
        .collect();
    HttpPolicySet {
        name: name.to_owned(),
        created_by: cx.created_by.clone(),
        markers,
        http_request_policy: Some(HttpRequestPolicy {
            rules,
            ..HttpRequestPolicy::default()
        }),
        ..HttpPolicySet::default()
    }
}

/// What lands on one parent virtual service.
#[derive(Default)]
struct ParentPlan<'a> {
    layout: Option<Layout>,
    /// host -> its routes.
    hosts: BTreeMap<String, Vec<&'a Placed>>,
}

/// Virtual services, VSVIPs, pool groups, policy sets, DataScripts and certificates.
fn build_objects(
    cx: &mut Cx<'_>,
    placed: &[Placed],
    secure: &BTreeMap<String, Cert>,
    mut pools: BTreeMap<String, Pool>,
    model: &mut AviModel,
) {
    let mut parents: BTreeMap<String, ParentPlan<'_>> = BTreeMap::new();
    for p in placed {
        let plan = parents.entry(p.parent.clone()).or_default();
        plan.layout = Some(p.layout);
        plan.hosts.entry(p.route.host.clone()).or_default().push(p);
    }
    for (parent, plan) in &parents {
        let Some(layout) = plan.layout else { continue };
        let secure_hosts: Vec<String> = plan
            .hosts
            .keys()
            .filter(|h| secure.contains_key(*h))
            .cloned()
            .collect();
        model.vsvips.push(VsVip {
            name: parent.clone(),
            created_by: cx.created_by.clone(),
            markers: cx.markers(&[]),
            vip: vec![translate_core::vip::auto_vip(cx.settings)],
            ..VsVip::default()
        });
        let mut vs = VirtualService {
            name: parent.clone(),
            created_by: cx.created_by.clone(),
            markers: cx.markers(&[]),
            services: vec![Service::port(80), Service::tls(443)],
            vsvip_ref: Some(AviRef::by_name(parent.clone())),
            application_profile_ref: Some(HTTP_PROFILE.into()),
            network_profile_ref: Some(TCP_PROXY_PROFILE.into()),
            ..VirtualService::default()
        };
        match layout {
            Layout::SniShared => {
                vs.type_ = Some(VsType::VhParent);
                let mut members = Vec::new();
                for p in plan
                    .hosts
                    .values()
                    .flatten()
                    .filter(|p| p.on_shared_pool_group())
                {
                    let mut m = PoolGroupMember::new(AviRef::by_name(p.pool.clone()));
                    m.priority_label =
                        Some(format!("{}{}", p.route.host, p.route.path).to_lowercase());
                    members.push(m);
                }
                members.sort_by(|a, b| a.priority_label.cmp(&b.priority_label));
                model.pool_groups.push(PoolGroup {
                    name: parent.clone(),
                    created_by: cx.created_by.clone(),
                    markers: cx.markers(&[]),
                    members,
                    implicit_priority_labels: Some(true),
                    ..PoolGroup::default()
                });
                model.vs_datascript_sets.push(VsDataScriptSet {
                    name: parent.clone(),
                    created_by: cx.created_by.clone(),
                    markers: cx.markers(&[]),
                    datascript: vec![VsDataScript {
                        evt: DATASCRIPT_EVENT.into(),
                        script: datascript(parent),
                    }],
                    pool_group_refs: vec![AviRef::by_name(parent.clone())],
                    ..VsDataScriptSet::default()
                });
                vs.vs_datascripts = vec![VsDataScripts {
                    index: 0,
                    vs_datascript_set_ref: AviRef::by_name(parent.clone()),
                }];
                if !secure_hosts.is_empty() {
                    let markers = cx.markers(&[]);
                    model
                        .http_policy_sets
                        .push(redirect_set(cx, parent, &secure_hosts, markers));
                    vs.http_policies = vec![HttpPolicies::new(0, AviRef::by_name(parent.clone()))];
                }
                for host in &secure_hosts {
                    let routes = &plan.hosts[host];
                    let policies = host_policy_sets(cx, host, routes, model);
                    let child = cx.names.child_vs(host);
                    model.virtual_services.push(VirtualService {
                        name: child,
                        created_by: cx.created_by.clone(),
                        markers: host_markers(cx, host, routes),
                        type_: Some(VsType::VhChild),
                        vh_parent_vs_ref: Some(AviRef::by_name(parent.clone())),
                        vh_domain_name: vec![host.clone()],
                        ssl_key_and_certificate_refs: vec![AviRef::by_name(
                            cx.names.certificate(host),
                        )],
                        http_policies: indexed(policies.iter().map(|p| p.set.name.clone())),
                        application_profile_ref: Some(SECURE_HTTP_PROFILE.into()),
                        ..VirtualService::default()
                    });
                }
            }
            Layout::SniDedicated => {
                // One host per dedicated VS.
                let Some((host, routes)) = plan.hosts.iter().next() else {
                    continue;
                };
                vs.markers = host_markers(cx, host, routes);
                let mut sets = Vec::new();
                if secure.contains_key(host) {
                    vs.application_profile_ref = Some(SECURE_HTTP_PROFILE.into());
                    vs.ssl_key_and_certificate_refs =
                        vec![AviRef::by_name(cx.names.certificate(host))];
                    let markers = cx.markers(&[]);
                    model.http_policy_sets.push(redirect_set(
                        cx,
                        parent,
                        std::slice::from_ref(host),
                        markers,
                    ));
                    sets.push(parent.clone());
                } else {
                    vs.services = vec![Service::port(80)];
                }
                let policies = host_policy_sets(cx, host, routes, model);
                sets.extend(policies.iter().map(|p| p.set.name.clone()));
                vs.http_policies = indexed(sets.into_iter());
            }
            Layout::Evh => {
                vs.type_ = Some(VsType::VhParent);
                vs.vh_type = Some(VhType::Enhanced);
                vs.ssl_key_and_certificate_refs = secure_hosts
                    .iter()
                    .map(|h| AviRef::by_name(cx.names.certificate(h)))
                    .collect();
                for (host, routes) in &plan.hosts {
                    let policies = host_policy_sets(cx, host, routes, model);
                    let child = cx.names.child_vs(host);
                    let mut sets = Vec::new();
                    if secure.contains_key(host) {
                        let ns = cx.ings[routes[0].route.ing].ns.clone();
                        let markers =
                            cx.markers(&[("Namespace", vec![ns]), ("Host", vec![host.clone()])]);
                        model.http_policy_sets.push(redirect_set(
                            cx,
                            &child,
                            std::slice::from_ref(host),
                            markers,
                        ));
                        sets.push(child.clone());
                    }
                    sets.extend(policies.iter().map(|p| p.set.name.clone()));
                    let rules = policies
                        .iter()
                        .flat_map(|p| p.matches.iter())
                        .enumerate()
                        .map(|(i, m)| VhMatchRule {
                            name: format!("rule-{i}"),
                            matches: MatchTarget {
                                path: Some(m.clone()),
                                ..MatchTarget::default()
                            },
                            extra: Default::default(),
                        })
                        .collect();
                    model.virtual_services.push(VirtualService {
                        name: child,
                        created_by: cx.created_by.clone(),
                        markers: host_markers(cx, host, routes),
                        type_: Some(VsType::VhChild),
                        vh_type: Some(VhType::Enhanced),
                        vh_parent_vs_ref: Some(AviRef::by_name(parent.clone())),
                        vh_matches: vec![VhMatch {
                            host: host.clone(),
                            rules,
                            extra: Default::default(),
                        }],
                        http_policies: indexed(sets.into_iter()),
                        application_profile_ref: Some(HTTP_PROFILE.into()),
                        ..VirtualService::default()
                    });
                }
            }
        }
        model.virtual_services.push(vs);
    }
    // Certificates of the secure hosts that serve something.
    let served: BTreeSet<&str> = placed
        .iter()
        .filter(|p| p.secure)
        .map(|p| p.route.host.as_str())
        .collect();
    for (host, cert) in secure.iter().filter(|(h, _)| served.contains(h.as_str())) {
        model.ssl_key_and_certificates.push(SslKeyAndCertificate {
            name: cx.names.certificate(host),
            created_by: cx.created_by.clone(),
            markers: cx.markers(&[("Host", vec![host.clone()])]),
            certificate: SslCertificate::from_pem(cert.cert_pem.clone()),
            key: Some(SecretKey::new(cert.key_pem.clone())),
            type_: Some(SslCertificateType::VirtualService),
            ..SslKeyAndCertificate::default()
        });
    }
    // Pool groups of one pool each, and the pools.
    for p in placed {
        if let Some(pg) = &p.pool_group {
            let r = &p.route;
            let ns = cx.ings[r.ing].ns.clone();
            let ing = cx.ings[r.ing].name.clone();
            model.pool_groups.push(PoolGroup {
                name: pg.clone(),
                created_by: cx.created_by.clone(),
                markers: cx.markers(&[
                    ("Namespace", vec![ns]),
                    ("Host", vec![r.host.clone()]),
                    ("Path", vec![r.path.clone()]),
                    ("IngressName", vec![ing]),
                ]),
                members: vec![PoolGroupMember::new(AviRef::by_name(p.pool.clone()))],
                ..PoolGroup::default()
            });
        }
    }
    model.pools.extend(std::mem::take(&mut pools).into_values());
}

/// `Namespace` (of the oldest Ingress serving it) and `Host` markers of a host's VS.
fn host_markers(cx: &Cx<'_>, host: &str, routes: &[&Placed]) -> Vec<Marker> {
    let ns = routes
        .iter()
        .map(|p| p.route.ing)
        .min()
        .map(|i| cx.ings[i].ns.clone())
        .unwrap_or_default();
    cx.markers(&[("Namespace", vec![ns]), ("Host", vec![host.to_owned()])])
}

/// HTTP policy references at indices 0, 1, ...
fn indexed(names: impl Iterator<Item = String>) -> Vec<HttpPolicies> {
    names
        .enumerate()
        .map(|(i, n)| HttpPolicies::new(u32::try_from(i).unwrap_or(u32::MAX), AviRef::by_name(n)))
        .collect()
}

/// The per-namespace policy sets of a host, in the order its VS applies them (longest path
/// first), added to the model; warns when that order cannot keep longer paths first.
fn host_policy_sets(
    cx: &mut Cx<'_>,
    host: &str,
    routes: &[&Placed],
    model: &mut AviModel,
) -> Vec<PolicySet> {
    let mut by_set: BTreeMap<String, Vec<&Placed>> = BTreeMap::new();
    for p in routes {
        if let Some(ps) = &p.policy_set {
            by_set.entry(ps.clone()).or_default().push(p);
        }
    }
    let mut sets: Vec<PolicySet> = by_set
        .iter()
        .map(|(name, rs)| policy_set(cx, name, rs))
        .collect();
    sets.sort_by(|a, b| {
        b.longest
            .cmp(&a.longest)
            .then_with(|| a.set.name.cmp(&b.set.name))
    });
    let lengths: Vec<usize> = sets
        .iter()
        .flat_map(|s| s.lengths.iter().copied())
        .collect();
    if sets.len() > 1 && lengths.windows(2).any(|w| w[1] > w[0]) {
        let first = sets[0].set.name.clone();
        let later: BTreeSet<usize> = sets[1..]
            .iter()
            .flat_map(|s| s.ings.iter().copied())
            .collect();
        for i in later {
            cx.warn(
                i,
                "PolicySetOrder",
                format!("host {host} is served by Ingresses of several namespaces: their HTTP policy sets apply one after the other (first {first}), so a shorter path of an earlier set may take requests meant for a longer path of this Ingress"),
            );
        }
    }
    for s in &sets {
        model.http_policy_sets.push(s.set.clone());
    }
    sets
}

/// The status of every Ingress of ours; its address waits for the VIP and lists the hosts
/// served.
fn statuses(cx: &mut Cx<'_>, placed: &[Placed]) -> Vec<ObjectStatus> {
    let mut statuses = Vec::new();
    for i in 0..cx.ings.len() {
        let served: BTreeMap<&str, &str> = placed
            .iter()
            .filter(|p| p.route.ing == i)
            .map(|p| (p.route.host.as_str(), p.parent.as_str()))
            .collect();
        let hosts: Vec<String> = cx.ings[i]
            .hosts
            .iter()
            .filter(|h| served.contains_key(h.as_str()))
            .cloned()
            .collect();
        // Each host shows the VIP of the parent that serves it: an Ingress whose hosts sit on
        // several shards waits for one address per parent.
        let mut addresses: Vec<AddressNeed> = Vec::new();
        for h in &hosts {
            let parent = served[h.as_str()];
            match addresses.iter_mut().find(|a| a.virtual_service == parent) {
                Some(a) => a.hosts.push(h.clone()),
                None => addresses.push(AddressNeed {
                    vsvip: parent.to_owned(),
                    virtual_service: parent.to_owned(),
                    hosts: vec![h.clone()],
                }),
            }
        }
        if !hosts.is_empty() {
            let parents: BTreeSet<&str> = served.values().copied().collect();
            let message = format!(
                "served by Avi virtual service {} (hosts: {})",
                parents.into_iter().collect::<Vec<_>>().join(", "),
                hosts.join(", ")
            );
            cx.notices
                .push(Notice::normal(cx.ings[i].key.clone(), "Accepted", message).once_synced());
        }
        statuses.push(ObjectStatus {
            key: cx.ings[i].key.clone(),
            status: json!({"loadBalancer": {"ingress": []}}),
            addresses,
        });
    }
    statuses.sort_by(|a, b| a.key.cmp(&b.key));
    statuses
}

#[cfg(test)]
mod tests;
