//! The translation: a [`Snapshot`] in; the Avi model, the status updates and the warnings out.
//!
//! Work in progress (see the issue note): HTTPRoute filters, query-parameter and method
//! matches, and BackendTLSPolicy are not translated yet; rules using them are reported with
//! `UnsupportedValue` rather than silently changed.

use std::collections::{BTreeMap, BTreeSet};

use avi_client::AviRef;
use avi_client::models::{
    HdrMatch, HdrMatchCriteria, HttpPolicies, HttpPolicySet, HttpRequestPolicy, HttpRequestRule,
    HttpSwitchingAction, IpAddr, LocalResponseStatusCode, Marker, MatchCase, MatchTarget,
    PathMatch, PathMatchCriteria, Pool, PoolGroup, PoolGroupMember, PortMatch, SecretKey, Server,
    Service, SslCertificate, SslKeyAndCertificate, VhMatch, VhMatchRule, VhType, Vip,
    VirtualService, VsType, VsVip,
};
use gateway_api::gatewayclasses::GatewayClassStatus;
use gateway_api::gateways::{Gateway, GatewayStatus};
use gateway_api::httproutes::{
    HttpRoute, HttpRouteRules, HttpRouteRulesMatches,
    HttpRouteRulesMatchesHeadersType as HeaderType, HttpRouteRulesMatchesPathType as PathType,
    HttpRouteStatus, HttpRouteStatusParents, HttpRouteStatusParentsParentRef,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::attach::{ParentAttachment, attach, attached_counts};
use crate::backend_tls::{BackendTls, decide};
use crate::conditions::{Wanted, conditions};
use crate::endpoints::members;
use crate::listeners::{GATEWAY_GROUP, Listener, Problem, evaluate, gateway_status};
use crate::model::AviModel;
use crate::names::{self, RouteRef};
use crate::reference_grant::{self, Referent, Referrer};
use crate::settings::Settings;
use crate::snapshot::{ObjectKey, Snapshot};
use crate::{gateway_class, hostnames::EffectiveHostnames};

/// A status to write.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusUpdate {
    /// A GatewayClass we own.
    GatewayClass {
        /// Name.
        name: String,
        /// Status.
        status: GatewayClassStatus,
    },
    /// A Gateway of our class.
    Gateway {
        /// Namespace and name.
        key: ObjectKey,
        /// Status.
        status: GatewayStatus,
    },
    /// A route of another kind, from a custom [`Translator`].
    Route {
        /// Its kind.
        kind: &'static str,
        /// Namespace and name.
        key: ObjectKey,
        /// Its status, as the kind defines it.
        status: serde_json::Value,
    },
    /// An HTTPRoute with at least one parent of ours.
    HttpRoute {
        /// Namespace and name.
        key: ObjectKey,
        /// Status.
        status: HttpRouteStatus,
    },
}

/// Something an operator should hear about (an Event on the object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Kind of the object (`HTTPRoute`).
    pub kind: &'static str,
    /// Namespace and name.
    pub key: ObjectKey,
    /// Reason (CamelCase).
    pub reason: &'static str,
    /// Message.
    pub message: String,
}

/// What one translation produced.
#[derive(Debug, Clone, Default)]
pub struct Translation {
    /// The desired Avi objects.
    pub model: AviModel,
    /// Status updates, in a stable order.
    pub statuses: Vec<StatusUpdate>,
    /// Events to emit.
    pub warnings: Vec<Warning>,
}

fn markers(settings: &Settings, extra: &[(&str, &str)]) -> Vec<Marker> {
    let mut m = vec![Marker::new("clustername", [settings.cluster_name.clone()])];
    m.extend(
        extra
            .iter()
            .map(|(k, v)| Marker::new(*k, [(*v).to_owned()])),
    );
    m
}

/// What a route translator sees: the snapshot, the settings, the clock, and every Gateway of
/// our class with its evaluated listeners.
pub struct Context<'a> {
    /// The objects.
    pub snapshot: &'a Snapshot,
    /// The deployment's settings.
    pub settings: &'a Settings,
    /// Now, for condition transition times.
    pub now: &'a Time,
    /// Gateways of our class and their listeners.
    pub listeners: &'a BTreeMap<ObjectKey, Vec<Listener>>,
}

/// Routes of one kind and the parents each attaches to.
pub type Attachments = Vec<(ObjectKey, Vec<ParentAttachment>)>;

/// Translates one route kind. HTTPRoute is [`HttpRouteTranslator`]; another kind (GRPCRoute,
/// Ingress, a kind of your own) is added by implementing this trait and passing it to
/// [`translate_with`], without touching the others.
pub trait Translator {
    /// The route kind (`HTTPRoute`).
    fn kind(&self) -> &'static str;
    /// Every route of this kind with at least one parent of ours, and how it attaches: the
    /// Gateways count attached routes and collect hostnames from this.
    fn attachments(&self, ctx: &Context<'_>) -> Attachments;
    /// The Avi objects, statuses and warnings for these routes.
    fn translate(&self, ctx: &Context<'_>, attachments: &Attachments, out: &mut Translation);
}

/// The HTTPRoute translator.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpRouteTranslator;

impl Translator for HttpRouteTranslator {
    fn kind(&self) -> &'static str {
        "HTTPRoute"
    }

    fn attachments(&self, ctx: &Context<'_>) -> Attachments {
        ctx.snapshot
            .http_routes
            .iter()
            .map(|(k, r)| {
                (
                    k.clone(),
                    attach(r, ctx.snapshot, ctx.settings, ctx.listeners),
                )
            })
            .filter(|(_, a)| !a.is_empty())
            .collect()
    }

    fn translate(&self, ctx: &Context<'_>, attachments: &Attachments, out: &mut Translation) {
        for (key, parents) in attachments {
            let Some(route) = ctx.snapshot.http_routes.get(key) else {
                continue;
            };
            let status = route_objects(
                ctx.snapshot,
                ctx.settings,
                key,
                route,
                parents,
                ctx.listeners,
                ctx.now,
                out,
            );
            out.statuses.push(StatusUpdate::HttpRoute {
                key: key.clone(),
                status,
            });
        }
    }
}

/// Translates a snapshot with the built-in route kinds (HTTPRoute).
pub fn translate(snapshot: &Snapshot, settings: &Settings, now: &Time) -> Translation {
    translate_with(snapshot, settings, now, &[&HttpRouteTranslator])
}

/// Translates a snapshot with the given route translators.
pub fn translate_with(
    snapshot: &Snapshot,
    settings: &Settings,
    now: &Time,
    translators: &[&dyn Translator],
) -> Translation {
    let mut out = Translation::default();
    for (name, class) in &snapshot.gateway_classes {
        if let Some(status) = gateway_class::status(class, settings, now) {
            out.statuses.push(StatusUpdate::GatewayClass {
                name: name.clone(),
                status,
            });
        }
    }
    let gateways: BTreeMap<ObjectKey, &Gateway> = snapshot
        .gateways
        .iter()
        .filter(|(_, g)| {
            snapshot
                .gateway_classes
                .get(&g.spec.gateway_class_name)
                .is_some_and(|c| gateway_class::is_ours(c, settings))
        })
        .map(|(k, g)| (k.clone(), g))
        .collect();
    let listeners: BTreeMap<ObjectKey, Vec<Listener>> = gateways
        .iter()
        .map(|(k, g)| (k.clone(), evaluate(g, snapshot)))
        .collect();
    let ctx = Context {
        snapshot,
        settings,
        now,
        listeners: &listeners,
    };
    let per_kind: Vec<Attachments> = translators.iter().map(|t| t.attachments(&ctx)).collect();
    let all: Attachments = per_kind.iter().flatten().cloned().collect();
    let counts = attached_counts(&all);

    for (key, gw) in &gateways {
        let ls = &listeners[key];
        let per_listener: Vec<i32> = (0..ls.len())
            .map(|i| counts.get(&(key.clone(), i)).copied().unwrap_or(0))
            .collect();
        let addresses = static_addresses(gw);
        out.statuses.push(StatusUpdate::Gateway {
            key: key.clone(),
            status: gateway_status(gw, ls, &per_listener, &addresses, now),
        });
        if ls.iter().any(Listener::is_valid) {
            parent_objects(settings, key, ls, &addresses, &all, &mut out.model);
        }
    }
    for (t, attachments) in translators.iter().zip(&per_kind) {
        t.translate(&ctx, attachments, &mut out);
    }
    out.model.normalize();
    out
}

fn static_addresses(gw: &Gateway) -> Vec<String> {
    gw.spec
        .addresses
        .iter()
        .flatten()
        .filter(|a| a.r#type.as_deref().is_none_or(|t| t == "IPAddress"))
        .filter_map(|a| a.value.clone())
        .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
        .collect()
}

/// The parent EVH virtual service, its VIP, listener certificates and the default 404 policy.
fn parent_objects(
    settings: &Settings,
    key: &ObjectKey,
    ls: &[Listener],
    addresses: &[String],
    attachments: &[(ObjectKey, Vec<ParentAttachment>)],
    model: &mut AviModel,
) {
    let (ns, gw) = key;
    let cluster = &settings.cluster_name;
    let vs_name = names::parent_vs(cluster, ns, gw);
    let vsvip_name = names::vsvip(&vs_name);
    let created_by = Some(settings.created_by());
    let services: BTreeSet<(u16, bool)> = ls
        .iter()
        .filter(|l| l.is_valid())
        .filter_map(|l| {
            u16::try_from(l.port)
                .ok()
                .map(|p| (p, l.certificate.is_some()))
        })
        .collect();
    let mut cert_refs = Vec::new();
    for l in ls.iter().filter(|l| l.is_valid()) {
        if let Some(c) = &l.certificate {
            let name = names::tls_key_cert(cluster, ns, gw, &c.secret_namespace, &c.secret_name);
            cert_refs.push(AviRef::by_name(name.clone()));
            model.ssl_key_and_certificates.push(SslKeyAndCertificate {
                name,
                created_by: created_by.clone(),
                markers: markers(settings, &[]),
                certificate: SslCertificate::from_pem(c.cert_pem.clone()),
                key: Some(SecretKey::new(c.key_pem.clone())),
                type_: Some(avi_client::models::SslCertificateType::VirtualService),
                ..SslKeyAndCertificate::default()
            });
        }
    }
    // FQDNs: every non-wildcard hostname a route attached here serves.
    let fqdns: BTreeSet<String> = attachments
        .iter()
        .flat_map(|(_, ps)| ps.iter())
        .filter(|p| p.parent.gateway().as_ref() == Some(key))
        .filter_map(|p| p.result.as_ref().ok())
        .flatten()
        .flat_map(|a| {
            a.hostnames
                .hostnames()
                .iter()
                .filter(|h| !h.is_wildcard())
                .map(|h| h.as_str().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let vip = match addresses
        .first()
        .and_then(|a| a.parse::<std::net::IpAddr>().ok())
    {
        Some(ip) => Vip::with_address("0", IpAddr::from(ip)),
        None => Vip::auto_allocated("0"),
    };
    model.vsvips.push(VsVip {
        name: vsvip_name.clone(),
        created_by: created_by.clone(),
        markers: markers(settings, &[("GatewayName", gw), ("GatewayNamespace", ns)]),
        vip: vec![vip],
        dns_info: fqdns
            .iter()
            .map(avi_client::models::DnsInfo::fqdn)
            .collect(),
        ..VsVip::default()
    });
    let policy = names::default_backend_policy(cluster);
    let mut rule = HttpRequestRule::new("default-backend-rule", 0);
    rule.match_ = Some(MatchTarget {
        path: Some(PathMatch::new(PathMatchCriteria::BeginsWith, ["/"])),
        ..MatchTarget::default()
    });
    rule.switching_action = Some(HttpSwitchingAction::local(LocalResponseStatusCode::Code404));
    model.http_policy_sets.push(HttpPolicySet {
        name: policy.clone(),
        created_by: created_by.clone(),
        markers: markers(settings, &[]),
        http_request_policy: Some(HttpRequestPolicy {
            rules: vec![rule],
            ..HttpRequestPolicy::default()
        }),
        ..HttpPolicySet::default()
    });
    model.virtual_services.push(VirtualService {
        name: vs_name,
        created_by,
        markers: markers(settings, &[("GatewayName", gw), ("GatewayNamespace", ns)]),
        type_: Some(VsType::VhParent),
        vh_type: Some(VhType::Enhanced),
        services: services
            .into_iter()
            .map(|(p, tls)| {
                if tls {
                    Service::tls(p)
                } else {
                    Service::port(p)
                }
            })
            .collect(),
        vsvip_ref: Some(AviRef::by_name(vsvip_name.clone())),
        ssl_key_and_certificate_refs: cert_refs,
        // The default backend always sits last: routes' children are matched first.
        http_policies: vec![HttpPolicies::new(0, AviRef::by_name(policy))],
        application_profile_ref: Some("/api/applicationprofile/?name=System-HTTP".into()),
        network_profile_ref: Some("/api/networkprofile/?name=System-TCP-Proxy".into()),
        service_metadata: Some(serde_json::json!({"gateway": format!("{ns}/{gw}")}).to_string()),
        ..VirtualService::default()
    });
}

/// Why a rule cannot be expressed yet, if it cannot.
fn unsupported(rule: &HttpRouteRules) -> Option<String> {
    if rule.filters.as_ref().is_some_and(|f| !f.is_empty()) {
        return Some("HTTPRoute filters are not supported yet".into());
    }
    for m in rule.matches.iter().flatten() {
        if m.query_params.as_ref().is_some_and(|q| !q.is_empty()) {
            return Some("query parameter matches are not supported yet".into());
        }
        if m.method.is_some() {
            return Some("method matches are not supported yet".into());
        }
        if m.headers
            .iter()
            .flatten()
            .any(|h| matches!(h.r#type, Some(HeaderType::RegularExpression)))
        {
            return Some("RegularExpression header matches are not supported yet".into());
        }
    }
    None
}

fn match_target(m: &HttpRouteRulesMatches, ports: &[u16]) -> MatchTarget {
    let path = m.path.as_ref();
    let value = path
        .and_then(|p| p.value.clone())
        .unwrap_or_else(|| "/".into());
    let criteria = match path
        .and_then(|p| p.r#type.clone())
        .unwrap_or(PathType::PathPrefix)
    {
        PathType::Exact => PathMatchCriteria::Equals,
        PathType::PathPrefix => PathMatchCriteria::BeginsWith,
        PathType::RegularExpression => PathMatchCriteria::RegexMatch,
    };
    let mut path = PathMatch::new(criteria, [value]);
    path.match_case = Some(MatchCase::Sensitive);
    MatchTarget {
        path: Some(path),
        hdrs: m
            .headers
            .iter()
            .flatten()
            .map(|h| HdrMatch {
                hdr: h.name.clone(),
                match_criteria: HdrMatchCriteria::Equals,
                match_case: Some(MatchCase::Sensitive),
                value: vec![h.value.clone()],
                extra: Default::default(),
            })
            .collect(),
        vs_port: Some(PortMatch::is_in(ports.iter().copied())),
        ..MatchTarget::default()
    }
}

/// Child virtual services, pool groups and pools of one route; returns its status.
#[allow(clippy::too_many_arguments)]
fn route_objects(
    snapshot: &Snapshot,
    settings: &Settings,
    key: &ObjectKey,
    route: &HttpRoute,
    parents: &[ParentAttachment],
    listeners: &BTreeMap<ObjectKey, Vec<Listener>>,
    now: &Time,
    out: &mut Translation,
) -> HttpRouteStatus {
    let (route_ns, route_name) = key;
    let cluster = &settings.cluster_name;
    let created_by = Some(settings.created_by());
    let rules = route.spec.rules.clone().unwrap_or_default();
    let mut backend_problem: Option<Problem> = None;
    let mut rule_problem: Option<String> = None;
    let mut status_parents = Vec::new();
    for p in parents {
        let gw_key = p.parent.gateway().unwrap_or_default();
        let accepted = match &p.result {
            Err(problem) => Wanted::no("Accepted", problem.reason, problem.message.clone()),
            Ok(attached) => {
                let ls = &listeners[&gw_key];
                let mut ports: Vec<u16> = attached
                    .iter()
                    .filter(|a| ls[a.listener].is_valid())
                    .filter_map(|a| u16::try_from(ls[a.listener].port).ok())
                    .collect();
                ports.sort_unstable();
                ports.dedup();
                let mut hosts: BTreeSet<String> = BTreeSet::new();
                for a in attached {
                    match &a.hostnames {
                        EffectiveHostnames::Any => {
                            hosts.insert("*".into());
                        }
                        only => {
                            hosts.extend(only.hostnames().iter().map(|h| h.as_str().to_owned()))
                        }
                    }
                }
                let mut implemented = 0;
                for rule in &rules {
                    if let Some(why) = unsupported(rule) {
                        rule_problem.get_or_insert(why);
                        continue;
                    }
                    implemented += 1;
                    let hash = names::rule_hash(rule);
                    let rr = RouteRef {
                        gw_ns: &gw_key.0,
                        gw: &gw_key.1,
                        route_ns,
                        route: route_name,
                        rule_hash: &hash,
                    };
                    let child = rr.child_vs(cluster);
                    let mut members = Vec::new();
                    for b in rule.backend_refs.iter().flatten() {
                        match backend_pool(snapshot, settings, &rr, route_ns, b, &created_by, out) {
                            Ok((pool, weight)) => {
                                members.push(
                                    PoolGroupMember::new(AviRef::by_name(pool.name.clone()))
                                        .with_ratio(weight),
                                );
                                out.model.pools.push(pool);
                            }
                            Err(problem) => {
                                backend_problem.get_or_insert(problem);
                            }
                        }
                    }
                    out.model.pool_groups.push(PoolGroup {
                        name: child.clone(),
                        created_by: created_by.clone(),
                        markers: markers(settings, &[]),
                        members,
                        ..PoolGroup::default()
                    });
                    let default_matches = vec![HttpRouteRulesMatches::default()];
                    let matches = rule
                        .matches
                        .clone()
                        .filter(|m| !m.is_empty())
                        .unwrap_or(default_matches);
                    let vh_matches = hosts
                        .iter()
                        .map(|h| VhMatch {
                            host: h.clone(),
                            rules: matches
                                .iter()
                                .enumerate()
                                .map(|(i, m)| VhMatchRule {
                                    name: format!("rule-{i}"),
                                    matches: match_target(m, &ports),
                                    extra: Default::default(),
                                })
                                .collect(),
                            extra: Default::default(),
                        })
                        .collect();
                    out.model.virtual_services.push(VirtualService {
                        name: child.clone(),
                        created_by: created_by.clone(),
                        markers: markers(settings, &[("GatewayName", &gw_key.1), ("GatewayNamespace", &gw_key.0), ("HTTPRouteName", route_name), ("HTTPRouteNamespace", route_ns)]),
                        type_: Some(VsType::VhChild),
                        vh_type: Some(VhType::Enhanced),
                        vh_parent_vs_ref: Some(AviRef::by_name(names::parent_vs(cluster, &gw_key.0, &gw_key.1))),
                        vh_matches,
                        pool_group_ref: Some(AviRef::by_name(child)),
                        application_profile_ref: Some("/api/applicationprofile/?name=System-HTTP".into()),
                        min_pools_up: Some(1),
                        service_metadata: Some(serde_json::json!({"gateway": format!("{}/{}", gw_key.0, gw_key.1),
                            "httproute": format!("{route_ns}/{route_name}"), "httproute_rule_name": names::rule_label(rule)}).to_string()),
                        ..VirtualService::default()
                    });
                }
                if implemented == 0 && !rules.is_empty() {
                    Wanted::no(
                        "Accepted",
                        "UnsupportedValue",
                        rule_problem.clone().unwrap_or_default(),
                    )
                } else {
                    Wanted::yes("Accepted", "Accepted", "Route is accepted")
                }
            }
        };
        let resolved = match &backend_problem {
            Some(p) => Wanted::no("ResolvedRefs", p.reason, p.message.clone()),
            None => Wanted::yes("ResolvedRefs", "ResolvedRefs", "All references resolved"),
        };
        let mut wanted = vec![accepted, resolved];
        if let (Some(why), Ok(_)) = (&rule_problem, &p.result) {
            wanted.push(Wanted::yes(
                "PartiallyInvalid",
                "UnsupportedValue",
                format!("Dropped Rule: {why}"),
            ));
        }
        let previous = route
            .status
            .as_ref()
            .and_then(|s| {
                s.parents.iter().find(|x| {
                    x.parent_ref.name == p.parent.name
                        && x.parent_ref.namespace.as_deref() == Some(&p.parent.namespace)
                })
            })
            .map(|x| x.conditions.clone())
            .unwrap_or_default();
        status_parents.push(HttpRouteStatusParents {
            conditions: conditions(&previous, wanted, route.metadata.generation, now),
            controller_name: settings.controller_name.clone(),
            parent_ref: HttpRouteStatusParentsParentRef {
                group: Some(p.parent.group.clone()),
                kind: Some(p.parent.kind.clone()),
                name: p.parent.name.clone(),
                namespace: Some(p.parent.namespace.clone()),
                port: p.parent.port,
                section_name: p.parent.section_name.clone(),
            },
        });
    }
    HttpRouteStatus {
        parents: status_parents,
    }
}

/// The pool of one backendRef, and its weight; or why it has none.
fn backend_pool(
    snapshot: &Snapshot,
    settings: &Settings,
    rr: &RouteRef<'_>,
    route_ns: &str,
    b: &gateway_api::httproutes::HttpRouteRulesBackendRefs,
    created_by: &Option<String>,
    out: &mut Translation,
) -> Result<(Pool, u32), Problem> {
    let group = b.group.as_deref().unwrap_or("");
    let kind = b.kind.as_deref().unwrap_or("Service");
    if !group.is_empty() || kind != "Service" {
        return Err(Problem {
            reason: "InvalidKind",
            message: format!("backendRef {group}/{kind} {} is not a Service", b.name),
        });
    }
    let ns = b.namespace.clone().unwrap_or_else(|| route_ns.to_owned());
    let from = Referrer {
        group: GATEWAY_GROUP,
        kind: "HTTPRoute",
        namespace: route_ns,
    };
    let to = Referent {
        group: "",
        kind: "Service",
        namespace: &ns,
        name: &b.name,
    };
    if !reference_grant::permits(snapshot, from, to) {
        return Err(Problem {
            reason: "RefNotPermitted",
            message: format!(
                "Service {ns}/{} is in another namespace and no ReferenceGrant allows it",
                b.name
            ),
        });
    }
    let port = b.port.ok_or_else(|| Problem {
        reason: "BackendNotFound",
        message: format!("backendRef {ns}/{} has no port", b.name),
    })?;
    let servers = members(snapshot, &ns, &b.name, port, settings.service_type)?;
    let extension = b
        .filters
        .iter()
        .flatten()
        .filter_map(|f| f.extension_ref.as_ref())
        .find(|e| e.group == "ako.vmware.com" && e.kind == "RouteBackendExtension")
        .and_then(|e| {
            snapshot
                .route_backend_extensions
                .get(&(ns.clone(), e.name.clone()))
        });
    let decision = decide(snapshot, settings, &ns, &b.name, extension);
    if let Some(message) = decision.warning.clone() {
        out.warnings.push(Warning {
            kind: "HTTPRoute",
            key: (route_ns.to_owned(), rr.route.to_owned()),
            reason: "BackendTLS",
            message,
        });
    }
    let mut pool = Pool {
        name: names::pool(&settings.cluster_name, rr, &ns, &b.name, port),
        created_by: created_by.clone(),
        markers: markers(settings, &[("BackendName", &b.name), ("BackendNs", &ns)]),
        servers: servers
            .iter()
            .filter_map(|m| {
                let ip = m.ip.parse::<std::net::IpAddr>().ok()?;
                Some(Server::new(IpAddr::from(ip)).with_port(u16::try_from(m.port).ok()?))
            })
            .collect(),
        ..Pool::default()
    };
    match decision.tls {
        BackendTls::Plain | BackendTls::IstioPending => {}
        BackendTls::Istio(refs) => {
            pool.pki_profile_ref = Some(AviRef::by_name(refs.pki_profile));
            pool.ssl_key_and_certificate_ref = Some(AviRef::by_name(refs.ssl_key_and_certificate));
            pool.ssl_profile_ref = Some(AviRef::by_name("System-Standard"));
        }
        BackendTls::Extension {
            pki_profile,
            host_check,
            domain_names,
        } => {
            pool.ssl_profile_ref = Some(AviRef::by_name("System-Standard"));
            pool.pki_profile_ref = pki_profile.map(AviRef::by_name);
            pool.host_check_enabled = Some(host_check);
            pool.domain_name = domain_names;
        }
    }
    let weight = u32::try_from(b.weight.unwrap_or(1)).unwrap_or(0);
    Ok((pool, weight))
}

#[cfg(test)]
mod tests;
