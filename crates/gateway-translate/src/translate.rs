//! The translation: a [`Snapshot`] in; the Avi model, the status updates and the warnings out.
//!
//! What Avi cannot express (see [`crate::matches`] and [`crate::filters`]) drops the rule
//! with `UnsupportedValue` on the route, never silently.

use std::collections::{BTreeMap, BTreeSet};

use avi_client::AviRef;
use avi_client::models::{
    HttpPolicies, HttpPolicySet, HttpRequestPolicy, HttpRequestRule, HttpResponsePolicy,
    HttpSwitchingAction, HttpSwitchingActionType, IpAddr, LocalResponseStatusCode, MatchTarget,
    PathMatch, PathMatchCriteria, Pool, PoolGroup, PoolGroupMember, SecretKey, Server, Service,
    SslCertificate, SslKeyAndCertificate, VhMatch, VhMatchRule, VhType, Vip, VirtualService,
    VsDataScriptSet, VsDataScripts, VsType, VsVip,
};
use gateway_api::gatewayclasses::GatewayClassStatus;
use gateway_api::gateways::{Gateway, GatewayStatus};
use gateway_api::httproutes::{
    HttpRoute, HttpRouteRules, HttpRouteRulesMatches, HttpRouteRulesMatchesPathType,
    HttpRouteStatus, HttpRouteStatusParents, HttpRouteStatusParentsParentRef,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::attach::{Attached, ParentAttachment, attach, attached_counts};
use crate::backend_tls::{BackendTls, decide_with};
use crate::backend_tls_policy::{self, BackendTlsPolicies, BackendUses};
use crate::conditions::{Wanted, conditions};
use crate::endpoints::{SliceIndex, members_with};
use crate::filters::{ListenerPort, check_backend_filters, rule_policy};
use crate::gateway_class;
use crate::hostnames::{EffectiveHostnames, Hostname};
use crate::listeners::{
    GATEWAY_GROUP, Listener, ListenerCert, Problem, Protocol, evaluate, gateway_status,
    unsupported_addresses,
};
use crate::model::AviModel;
use crate::names::{self, RouteRef};
use crate::precedence::{self, ChildOrder, TargetOrigin};
use crate::reference_grant::{self, Referent, Referrer};
use crate::settings::Settings;
use crate::snapshot::{ObjectKey, Snapshot};
use gateway_api::backendtlspolicies::BackendTlsPolicyStatus;

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
    /// A route of another kind, from a custom [`RouteTranslator`].
    Route {
        /// Its API group.
        group: &'static str,
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
    /// A BackendTLSPolicy that applies to a backend of one of our Gateways: our `ancestors`
    /// entries, other controllers' entries kept.
    BackendTlsPolicy {
        /// Namespace and name.
        key: ObjectKey,
        /// Status.
        status: BackendTlsPolicyStatus,
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

impl Warning {
    /// Whether it tells of something wrong (a Warning Event) rather than a fact worth knowing
    /// (a Normal Event): a backend outside the mesh getting plain HTTP is as it should be.
    pub fn is_fault(&self) -> bool {
        self.reason != BACKEND_NOT_IN_MESH
    }
}

/// [`Warning::reason`] of a backend whose TLS deserves a word (ambient, mixed, Istio refs
/// pending, outside the mesh yet given mTLS): a Warning Event and the route's status.
pub const BACKEND_TLS: &str = "BackendTLS";

/// [`Warning::reason`] of a backend left in plain HTTP because it is outside the mesh: a fact,
/// not a fault (a Normal Event), also said in the route's status.
pub const BACKEND_NOT_IN_MESH: &str = "BackendNotInMesh";

/// What one translation produced.
#[derive(Debug, Clone, Default)]
pub struct Translation {
    /// The desired Avi objects.
    pub model: AviModel,
    /// Status updates, in a stable order.
    pub statuses: Vec<StatusUpdate>,
    /// Events to emit.
    pub warnings: Vec<Warning>,
    /// Where each HTTPRoute child stands in the Gateway API order (for [`precedence`]).
    pub(crate) orders: BTreeMap<String, ChildOrder>,
    /// Which Gateways reach which Service ports (for BackendTLSPolicy status).
    pub(crate) backend_uses: BackendUses,
    /// The Service port behind each pool (for [`crate::Incremental`]).
    pub(crate) pool_backends: BTreeMap<String, PoolBackend>,
}

use translate_core::pool::{ako_pool, markers};

/// The route kinds this crate translates into EVH children: their status and marker names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    /// HTTPRoute.
    Http,
    /// GRPCRoute (translated as the HTTPRoute it is equivalent to: see [`crate::grpc`]).
    Grpc,
}

impl RouteKind {
    /// The Kubernetes kind.
    pub fn kind(self) -> &'static str {
        match self {
            RouteKind::Http => "HTTPRoute",
            RouteKind::Grpc => "GRPCRoute",
        }
    }

    /// The marker keys naming the route (AKO's `HTTPRouteName`, `HTTPRouteNamespace`).
    fn markers(self) -> (&'static str, &'static str) {
        match self {
            RouteKind::Http => ("HTTPRouteName", "HTTPRouteNamespace"),
            RouteKind::Grpc => ("GRPCRouteName", "GRPCRouteNamespace"),
        }
    }
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
    /// The BackendTLSPolicies, resolved per Service port.
    pub backend_tls: &'a BackendTlsPolicies,
    /// The EndpointSlices of each Service.
    pub endpoints: &'a SliceIndex<'a>,
    /// The SSLKeyAndCertificate name of each Gateway's valid backend client certificate.
    pub client_certs: &'a BTreeMap<ObjectKey, String>,
}

/// Routes of one kind and the parents each attaches to.
pub type Attachments = Vec<(ObjectKey, Vec<ParentAttachment>)>;

/// Translates one route kind. HTTPRoute is [`HttpRouteTranslator`]; another kind (GRPCRoute,
/// Ingress, a kind of your own) is added by implementing this trait and passing it to
/// [`translate_with`], without touching the others.
pub trait RouteTranslator {
    /// The route kind (`HTTPRoute`).
    fn kind(&self) -> &'static str;
    /// Whether the listener ports route `route` attaches to must speak HTTP/2 to clients (h2
    /// by ALPN, h2c by prior knowledge), as gRPC needs, and as an HTTPRoute to an h2c backend
    /// does (its clients speak h2c too).
    fn speaks_http2(&self, _ctx: &Context<'_>, _route: &ObjectKey) -> bool {
        false
    }
    /// Every route of this kind with at least one parent of ours, and how it attaches: the
    /// Gateways count attached routes and collect hostnames from this.
    fn attachments(&self, ctx: &Context<'_>) -> Attachments;
    /// The Avi objects, statuses and warnings for these routes.
    fn translate(&self, ctx: &Context<'_>, attachments: &Attachments, out: &mut Translation);
}

/// The HTTPRoute translator.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpRouteTranslator;

impl RouteTranslator for HttpRouteTranslator {
    fn kind(&self) -> &'static str {
        "HTTPRoute"
    }

    fn speaks_http2(&self, ctx: &Context<'_>, route: &ObjectKey) -> bool {
        let Some(r) = ctx.snapshot.http_routes.get(route) else {
            return false;
        };
        r.spec
            .rules
            .iter()
            .flatten()
            .flat_map(|rule| rule.backend_refs.iter().flatten())
            .filter(|b| b.group.as_deref().unwrap_or("").is_empty())
            .filter(|b| b.kind.as_deref().unwrap_or("Service") == "Service")
            .any(|b| {
                let ns = b.namespace.as_deref().unwrap_or(&route.0);
                b.port.is_some_and(|port| {
                    translate_core::endpoints::app_protocol(ctx.snapshot, ns, &b.name, port)
                        == Some(translate_core::endpoints::H2C)
                })
            })
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
                ctx,
                RouteKind::Http,
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

/// Translates a snapshot with the built-in route kinds (HTTPRoute, GRPCRoute, TLSRoute).
pub fn translate(snapshot: &Snapshot, settings: &Settings, now: &Time) -> Translation {
    translate_with(
        snapshot,
        settings,
        now,
        &[
            &HttpRouteTranslator,
            &crate::grpc::GrpcRouteTranslator,
            &crate::tls_route::TlsRouteTranslator,
        ],
    )
}

/// Translates a snapshot with the given route translators.
pub fn translate_with(
    snapshot: &Snapshot,
    settings: &Settings,
    now: &Time,
    translators: &[&dyn RouteTranslator],
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
        .map(|(k, g)| (k.clone(), &**g))
        .collect();
    let listeners: BTreeMap<ObjectKey, Vec<Listener>> = gateways
        .iter()
        .map(|(k, g)| (k.clone(), evaluate(g, snapshot)))
        .collect();
    let backend_tls = backend_tls_policy::resolve(snapshot, settings);
    let endpoints = SliceIndex::new(snapshot);
    let client_cert_refs: BTreeMap<ObjectKey, Result<ListenerCert, Problem>> = gateways
        .iter()
        .filter_map(|(k, g)| {
            crate::listeners::backend_client_certificate(g, snapshot).map(|c| (k.clone(), c))
        })
        .collect();
    let client_certs: BTreeMap<ObjectKey, String> = client_cert_refs
        .iter()
        .filter_map(|(k, c)| {
            let c = c.as_ref().ok()?;
            Some((
                k.clone(),
                names::backend_client_cert(
                    &settings.cluster_name,
                    &k.0,
                    &k.1,
                    &c.secret_namespace,
                    &c.secret_name,
                ),
            ))
        })
        .collect();
    let ctx = Context {
        client_certs: &client_certs,
        endpoints: &endpoints,
        snapshot,
        settings,
        now,
        listeners: &listeners,
        backend_tls: &backend_tls,
    };
    let per_kind: Vec<Attachments> = translators.iter().map(|t| t.attachments(&ctx)).collect();
    let all: Attachments = per_kind.iter().flatten().cloned().collect();
    // Ports HTTP/2 routes (GRPCRoutes, HTTPRoutes to h2c backends) attach to speak HTTP/2 to
    // clients.
    let http2_ports: BTreeSet<(ObjectKey, i32)> = translators
        .iter()
        .zip(&per_kind)
        .flat_map(|(t, a)| {
            a.iter()
                .filter(|(route, _)| t.speaks_http2(&ctx, route))
                .flat_map(|(_, ps)| ps.iter())
        })
        .filter_map(|p| Some((p.parent.gateway()?, p.result.as_ref().ok()?)))
        .flat_map(|(gw, attached)| {
            let ls = listeners.get(&gw);
            attached
                .iter()
                .filter_map(move |a| Some((gw.clone(), ls?.get(a.listener)?.port)))
        })
        .collect();
    let counts = attached_counts(&all);

    for (key, gw) in &gateways {
        let ls = &listeners[key];
        let per_listener: Vec<i32> = (0..ls.len())
            .map(|i| counts.get(&(key.clone(), i)).copied().unwrap_or(0))
            .collect();
        // A Gateway asking for an address type we cannot assign is not accepted: nothing is
        // programmed for it, so it has no address either.
        // Addresses that cannot be used, and names Avi cannot hold, program nothing either.
        let name_problem = {
            // The longest name the Gateway's virtual services take: the parent's, or a TLS
            // passthrough port's (`-TLS-<port>` is longer than `-EVH`).
            let name = ls
                .iter()
                .filter(|l| l.protocol == Some(Protocol::TlsPassthrough) && l.is_valid())
                .filter_map(|l| u16::try_from(l.port).ok())
                .map(|port| names::passthrough_vs(&settings.cluster_name, &key.0, &key.1, port))
                .chain([names::parent_vs(&settings.cluster_name, &key.0, &key.1)])
                .max_by_key(String::len)
                .unwrap_or_default();
            (name.len() > translate_core::names::MAX_NAME_LEN).then(|| {
                format!(
                    "the Avi virtual service name would be {} characters; Avi allows {}: shorten the Gateway's or its namespace's name",
                    name.len(),
                    translate_core::names::MAX_NAME_LEN
                )
            })
        };
        let addresses_ok = unsupported_addresses(gw).is_empty()
            && crate::listeners::unusable_addresses(gw).is_none()
            && name_problem.is_none();
        let addresses = if addresses_ok {
            static_addresses(gw)
        } else {
            Vec::new()
        };
        let client_cert = client_cert_refs.get(key);
        let mut status = gateway_status(
            gw,
            ls,
            &per_listener,
            &addresses,
            name_problem,
            client_cert.map(|c| c.as_ref().err()),
            settings.allows_pki_errors(),
            now,
        );
        // ListenerSets naming this Gateway: their statuses, and how many it took.
        let sets = crate::listener_set::candidates(key, gw, snapshot);
        if !sets.is_empty() || gw.spec.allowed_listeners.is_some() {
            let holds = |type_: &str| {
                status
                    .conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == type_ && c.status == "True")
            };
            let parent = crate::listener_set::ParentState {
                accepted: holds("Accepted"),
                programmed: holds("Programmed"),
            };
            let mut attached_sets = 0;
            for c in &sets {
                let mine: Vec<(usize, &Listener)> = ls
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.origin.as_ref() == Some(&c.key))
                    .collect();
                let members: Vec<&Listener> = mine.iter().map(|(_, l)| *l).collect();
                let attached: Vec<i32> = mine
                    .iter()
                    .map(|(i, _)| per_listener.get(*i).copied().unwrap_or(0))
                    .collect();
                let set_status = crate::listener_set::status(c, parent, &members, &attached, now);
                if c.allowed
                    && c.within_limits()
                    && parent.accepted
                    && members.iter().any(|l| l.is_valid())
                {
                    attached_sets += 1;
                }
                if let Ok(json) = serde_json::to_value(&set_status) {
                    out.statuses.push(StatusUpdate::Route {
                        group: GATEWAY_GROUP,
                        kind: "ListenerSet",
                        key: c.key.clone(),
                        status: json,
                    });
                }
            }
            status.attached_listener_sets = Some(attached_sets);
        }
        out.statuses.push(StatusUpdate::Gateway {
            key: key.clone(),
            status,
        });
        // Programmed only when the Gateway itself is accepted: a valid listener of its own
        // (a ListenerSet's listeners alone do not make an unaccepted Gateway serve).
        if addresses_ok && ls.iter().any(|l| l.origin.is_none() && l.is_valid()) {
            parent_objects(
                settings,
                key,
                ls,
                &addresses,
                &all,
                &http2_ports,
                &mut out.model,
            );
            if let (Some(Ok(c)), Some(name)) = (client_cert, client_certs.get(key)) {
                out.model
                    .ssl_key_and_certificates
                    .push(SslKeyAndCertificate {
                        name: name.clone(),
                        created_by: Some(settings.created_by()),
                        markers: markers(
                            settings,
                            &[("GatewayName", &key.1), ("GatewayNamespace", &key.0)],
                        ),
                        certificate: SslCertificate::from_pem(c.cert_pem.clone()),
                        key: Some(SecretKey::new(c.key_pem.clone())),
                        type_: Some(avi_client::models::SslCertificateType::VirtualService),
                        ..SslKeyAndCertificate::default()
                    });
            }
        }
    }
    for (t, attachments) in translators.iter().zip(&per_kind) {
        t.translate(&ctx, attachments, &mut out);
    }
    for update in backend_tls.statuses(snapshot, settings, &out.backend_uses, now) {
        out.statuses.push(StatusUpdate::BackendTlsPolicy {
            key: update.policy,
            status: update.status,
        });
    }
    let cluster = settings.cluster_name.clone();
    let group_name = move |parent: &str, host: &str, path: &str| {
        names::overlap_group(&cluster, parent, host, path)
    };
    for overlap in precedence::make_disjoint(&mut out.model, &out.orders, &group_name) {
        out.warnings.push(Warning {
            kind: overlap.kind,
            key: overlap.route,
            reason: "OverlappingRules",
            message: overlap.message,
        });
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
    http2_ports: &BTreeSet<(ObjectKey, i32)>,
    model: &mut AviModel,
) {
    let (ns, gw) = key;
    let cluster = &settings.cluster_name;
    let vs_name = names::parent_vs(cluster, ns, gw);
    let vsvip_name = names::vsvip(&vs_name);
    let created_by = Some(settings.created_by());
    // TLS passthrough listeners get layer-4 virtual services of their own (TLSRoute).
    let services: BTreeSet<(u16, bool)> = ls
        .iter()
        .filter(|l| l.is_valid())
        .filter(|l| matches!(l.protocol, Some(Protocol::Http | Protocol::Https)))
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
        None => translate_core::vip::auto_vip(settings),
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
    if services.is_empty() {
        // Only TLS passthrough listeners: the VIP is theirs, there is no HTTP parent.
        return;
    }
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
    let services: Vec<Service> = services
        .into_iter()
        .map(|(p, tls)| {
            let mut service = if tls {
                Service::tls(p)
            } else {
                Service::port(p)
            };
            if tls {
                service.override_application_profile_ref =
                    client_validation(settings, key, ls, p, model);
            }
            if http2_ports.contains(&(key.clone(), i32::from(p))) {
                service.enable_http2 = Some(true);
            }
            service
        })
        .collect();
    model.virtual_services.push(VirtualService {
        name: vs_name,
        created_by,
        markers: markers(settings, &[("GatewayName", gw), ("GatewayNamespace", ns)]),
        type_: Some(VsType::VhParent),
        vh_type: Some(VhType::Enhanced),
        services,
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

/// The application profile of HTTPS port `port` of Gateway `key` when its clients must (or may)
/// present certificates, made with its PKI profile into `model`; `None` when the port asks for
/// none (the parent's `System-HTTP` applies).
fn client_validation(
    settings: &Settings,
    key: &ObjectKey,
    ls: &[Listener],
    port: u16,
    model: &mut AviModel,
) -> Option<String> {
    use avi_client::models::{
        APPLICATION_PROFILE_TYPE_HTTP, ApplicationProfile, HttpApplicationProfile, PkiProfile,
        SslClientCertificateMode,
    };
    let v = ls
        .iter()
        .filter(|l| l.is_valid() && u16::try_from(l.port).ok() == Some(port))
        .find_map(|l| l.client_validation.as_ref())?;
    let (ns, gw) = key;
    let name = names::frontend_validation(&settings.cluster_name, ns, gw, port);
    let insecure = v.mode == crate::frontend::Mode::AllowInsecureFallback;
    let markers = markers(settings, &[("GatewayName", gw), ("GatewayNamespace", ns)]);
    model.pki_profiles.push(PkiProfile {
        name: name.clone(),
        created_by: Some(settings.created_by()),
        markers: markers.clone(),
        ca_certs: v
            .ca_certs
            .iter()
            .cloned()
            .map(SslCertificate::from_pem)
            .collect(),
        // The ConfigMaps give no CRLs, and a profile that checks CRLs without any refuses
        // every certificate.
        crl_check: Some(false),
        // AllowInsecureFallback: a certificate that does not chain is let through too. Before
        // 30.1.1 Avi cannot say so: a client without a certificate still gets through, one
        // with a failing certificate is refused (the Gateway's condition says which).
        allow_pki_errors: if insecure && settings.allows_pki_errors() {
            vec!["ALLOW_ALL_ERRORS".to_owned()]
        } else {
            Vec::new()
        },
        ..PkiProfile::default()
    });
    model.application_profiles.push(ApplicationProfile {
        name: name.clone(),
        created_by: Some(settings.created_by()),
        markers,
        type_: Some(APPLICATION_PROFILE_TYPE_HTTP.to_owned()),
        http_profile: Some(HttpApplicationProfile {
            // REQUEST still sends a CertificateRequest, so a client with a certificate
            // presents it (GEP-91 asks for that in both modes).
            ssl_client_certificate_mode: Some(if insecure {
                SslClientCertificateMode::Request
            } else {
                SslClientCertificateMode::Require
            }),
            pki_profile_ref: Some(AviRef::by_name(name.clone())),
            ..HttpApplicationProfile::default()
        }),
        ..ApplicationProfile::default()
    });
    Some(format!("/api/applicationprofile/?name={name}"))
}

/// Everything a rule becomes on one parent, or why it cannot be expressed.
struct RuleObjects {
    child: VirtualService,
    origins: Vec<TargetOrigin>,
    pool_group: PoolGroup,
    pools: Vec<Pool>,
    policy: Option<HttpPolicySet>,
    /// The CORS filter's DataScripts.
    scripts: Option<VsDataScriptSet>,
}

/// The child VS, pool group, pools and policy set of one rule on one parent.
#[allow(clippy::too_many_arguments)]
fn rule_objects(
    ctx: &Context<'_>,
    kind: RouteKind,
    rr: &RouteRef<'_>,
    rule: &HttpRouteRules,
    label: &str,
    hosts: &BTreeMap<String, BTreeSet<u16>>,
    ports: &[ListenerPort],
    backend_problem: &mut Option<Problem>,
    out: &mut Translation,
) -> Result<RuleObjects, String> {
    let settings = ctx.settings;
    let cluster = &settings.cluster_name;
    let created_by = Some(settings.created_by());
    let child = rr.child_vs(cluster);
    // AKO's markers on what a route makes: its Gateway and itself (the child VS adds its hosts).
    let route_markers = markers(
        settings,
        &[
            ("GatewayName", rr.gw),
            ("GatewayNamespace", rr.gw_ns),
            (kind.markers().0, rr.route),
            (kind.markers().1, rr.route_ns),
        ],
    );
    let default_matches = [HttpRouteRulesMatches::default()];
    let matches: &[HttpRouteRulesMatches] = match rule.matches.as_deref() {
        Some(m) if !m.is_empty() => m,
        _ => &default_matches,
    };
    let port_numbers: Vec<u16> = ports.iter().map(|p| p.port).collect();
    let mut targets = Vec::new();
    let mut origins = Vec::new();
    for (i, m) in matches.iter().enumerate() {
        let ts = crate::matches::targets(m, &port_numbers).map_err(|e| e.to_string())?;
        let origin = TargetOrigin {
            match_index: i,
            exact: m
                .path
                .as_ref()
                .is_some_and(|p| p.r#type == Some(HttpRouteRulesMatchesPathType::Exact)),
            method: m.method.is_some(),
            headers: m.headers.as_ref().map_or(0, Vec::len),
            query: m.query_params.as_ref().map_or(0, Vec::len),
        };
        origins.extend(std::iter::repeat_n(origin, ts.len()));
        targets.extend(ts);
    }
    let filters = rule.filters.as_deref().unwrap_or_default();
    let policy = rule_policy(&child, filters, matches, ports).map_err(|e| e.to_string())?;
    let server_timeout =
        crate::timeouts::server_timeout(rule.timeouts.as_ref()).map_err(|e| e.to_string())?;
    for b in rule.backend_refs.iter().flatten() {
        check_backend_filters(b.filters.as_deref().unwrap_or_default())
            .map_err(|e| e.to_string())?;
    }

    let mut pools = Vec::new();
    let mut weighted = Vec::new();
    if !policy.redirects {
        for b in rule.backend_refs.iter().flatten() {
            match backend_pool(ctx, kind, rr, b, &created_by, out) {
                Ok((mut pool, weight)) => {
                    pool.server_timeout = server_timeout;
                    weighted.push((pool.name.clone(), weight));
                    pools.push(pool);
                }
                Err(problem) => {
                    backend_problem.get_or_insert(problem);
                }
            }
        }
    }
    let ratios = ratios(&weighted.iter().map(|(_, w)| *w).collect::<Vec<_>>());
    let members: Vec<PoolGroupMember> = weighted
        .iter()
        .zip(ratios)
        .map(|((name, _), ratio)| {
            PoolGroupMember::new(AviRef::by_name(name.clone())).with_ratio(ratio)
        })
        .collect();
    let mut request = policy.request;
    let serves_nothing = !policy.redirects && members.iter().all(|m| m.ratio == Some(0));
    if serves_nothing && settings.answers_any_status() {
        // Gateway API: a rule whose backends are all invalid answers 500 (§4.1). Avi can send
        // a 500 from a policy only from 30.2.1 on; before that the empty pool group answers
        // 503, which is the closest a controller of that version can do.
        let mut rule = HttpRequestRule::new(
            format!("{child}-no-backend"),
            u32::try_from(request.len()).unwrap_or(0),
        );
        rule.switching_action = Some(HttpSwitchingAction {
            action: HttpSwitchingActionType::SelectLocal,
            other_status_code: Some(500),
            ..HttpSwitchingAction::default()
        });
        request.push(rule);
    }
    let policy_set = (!request.is_empty() || !policy.response.is_empty()).then(|| HttpPolicySet {
        name: child.clone(),
        created_by: created_by.clone(),
        markers: route_markers.clone(),
        http_request_policy: (!request.is_empty()).then(|| HttpRequestPolicy {
            rules: request,
            ..HttpRequestPolicy::default()
        }),
        http_response_policy: (!policy.response.is_empty()).then(|| HttpResponsePolicy {
            rules: policy.response,
            ..HttpResponsePolicy::default()
        }),
        ..HttpPolicySet::default()
    });
    // A host is served only on the ports of the listeners it came from: a route on `a.com:80`
    // and `b.com:8080` (two listeners, or a Gateway and a ListenerSet) does not answer
    // `a.com` on 8080.
    let vh_matches = hosts
        .iter()
        .map(|(h, host_ports)| VhMatch {
            host: h.clone(),
            rules: targets
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mut matches = t.clone();
                    if host_ports.len() < port_numbers.len() {
                        matches.vs_port = Some(avi_client::models::PortMatch::is_in(
                            host_ports.iter().copied(),
                        ));
                    }
                    VhMatchRule {
                        name: format!("rule-{i}"),
                        matches,
                        extra: Default::default(),
                    }
                })
                .collect(),
            extra: Default::default(),
        })
        .collect();
    let mut child_markers = route_markers.clone();
    if !hosts.is_empty() {
        child_markers.push(avi_client::models::Marker::new(
            "Host",
            hosts.keys().cloned(),
        ));
    }
    let scripts = (!policy.datascripts.is_empty()).then(|| VsDataScriptSet {
        name: child.clone(),
        created_by: created_by.clone(),
        markers: route_markers.clone(),
        datascript: policy.datascripts,
        ..VsDataScriptSet::default()
    });
    let child_vs = VirtualService {
        name: child.clone(),
        created_by: created_by.clone(),
        vs_datascripts: scripts
            .iter()
            .map(|s| VsDataScripts {
                index: 0,
                vs_datascript_set_ref: AviRef::by_name(s.name.clone()),
            })
            .collect(),
        markers: child_markers,
        type_: Some(VsType::VhChild),
        vh_type: Some(VhType::Enhanced),
        vh_parent_vs_ref: Some(AviRef::by_name(names::parent_vs(cluster, rr.gw_ns, rr.gw))),
        vh_matches,
        pool_group_ref: Some(AviRef::by_name(child.clone())),
        http_policies: policy_set
            .iter()
            .map(|p| HttpPolicies::new(0, AviRef::by_name(p.name.clone())))
            .collect(),
        application_profile_ref: Some("/api/applicationprofile/?name=System-HTTP".into()),
        min_pools_up: Some(1),
        service_metadata: Some(
            serde_json::json!({"gateway": format!("{}/{}", rr.gw_ns, rr.gw),
                kind.kind().to_ascii_lowercase(): format!("{}/{}", rr.route_ns, rr.route),
                format!("{}_rule_name", kind.kind().to_ascii_lowercase()): label})
            .to_string(),
        ),
        ..VirtualService::default()
    };
    Ok(RuleObjects {
        child: child_vs,
        origins,
        pool_group: PoolGroup {
            name: child,
            created_by,
            markers: route_markers.clone(),
            members,
            ..PoolGroup::default()
        },
        pools,
        policy: policy_set,
        scripts,
    })
}

/// Gateway API weights (0..=1,000,000) as Avi ratios (0..=1000), keeping the proportions as
/// closely as integers allow and never turning a positive weight into 0.
pub fn ratios(weights: &[u32]) -> Vec<u32> {
    let max = weights.iter().copied().max().unwrap_or(0);
    if max <= 1000 {
        return weights.to_vec();
    }
    weights
        .iter()
        .map(|&w| {
            if w == 0 {
                0
            } else {
                let scaled = (u64::from(w) * 1000 + u64::from(max) / 2) / u64::from(max);
                u32::try_from(scaled).unwrap_or(1000).max(1)
            }
        })
        .collect()
}

/// `ResolvedRefs` of a route whose references all resolved, with what its backends' TLS
/// decisions said (each once): an ambient backend, one outside the mesh, Istio refs pending.
fn resolved_message(warnings: &[Warning]) -> String {
    let mut message = String::from("All references resolved");
    let mut seen = BTreeSet::new();
    let notes: Vec<&str> = warnings
        .iter()
        .filter(|w| w.reason == BACKEND_TLS || w.reason == BACKEND_NOT_IN_MESH)
        .map(|w| w.message.as_str())
        .filter(|m| seen.insert(*m))
        .collect();
    // A condition message is at most 32,768 characters: a few notes, then a count (the Events
    // carry every one).
    for note in notes.iter().take(MAX_NOTES) {
        message.push_str("; ");
        message.push_str(note);
    }
    if notes.len() > MAX_NOTES {
        message.push_str(&format!(
            "; and {} more backends (see the route's Events)",
            notes.len() - MAX_NOTES
        ));
    }
    message
}

/// Backend notes a route's `ResolvedRefs` message shows.
const MAX_NOTES: usize = 4;

/// Child virtual services, pool groups and pools of one route; returns its status.
#[allow(clippy::too_many_arguments)]
pub(crate) fn route_objects(
    ctx: &Context<'_>,
    kind: RouteKind,
    key: &ObjectKey,
    route: &HttpRoute,
    parents: &[ParentAttachment],
    listeners: &BTreeMap<ObjectKey, Vec<Listener>>,
    now: &Time,
    out: &mut Translation,
) -> HttpRouteStatus {
    let (route_ns, route_name) = key;
    let settings = ctx.settings;
    let rules: &[HttpRouteRules] = route.spec.rules.as_deref().unwrap_or_default();
    // AKO's hash of each rule, computed once per route (it serializes the matches and hashes
    // them): the names' `h`, and the label of an unnamed rule.
    let plain: Vec<String> = rules.iter().map(names::rule_hash).collect();
    let labels: Vec<String> = rules
        .iter()
        .zip(&plain)
        .map(|(r, h)| names::rule_name(r).map_or_else(|| h.clone(), str::to_owned))
        .collect();
    let mut hashes = rule_hashes(&plain);
    if kind == RouteKind::Grpc {
        // A GRPCRoute and an HTTPRoute may share a namespace and name: their children may not.
        for h in &mut hashes {
            *h = format!("grpc-{h}");
        }
    }
    let mut backend_problem: Option<Problem> = None;
    let mut rule_problem: Option<String> = None;
    let mut status_parents = Vec::new();
    let mut accepted_on: BTreeMap<ObjectKey, Wanted> = BTreeMap::new();
    // What the backends' TLS decisions said, for this route's ResolvedRefs message.
    let warnings_from = out.warnings.len();
    for p in parents {
        let gw_key = p.parent.gateway().unwrap_or_default();
        let accepted = match &p.result {
            Err(problem) => Wanted::no("Accepted", problem.reason, problem.message.clone()),
            // Several parentRefs to one Gateway (different listeners) make one set of
            // children, named after the Gateway: it serves the listeners of all of them.
            Ok(_) if accepted_on.contains_key(&gw_key) => accepted_on[&gw_key].clone(),
            Ok(_) => {
                let attached: Vec<&Attached> = parents
                    .iter()
                    .filter(|q| q.parent.gateway().as_ref() == Some(&gw_key))
                    .filter_map(|q| q.result.as_ref().ok())
                    .flatten()
                    .collect();
                let ls = &listeners[&gw_key];
                let mut ports: Vec<ListenerPort> = attached
                    .iter()
                    .map(|a| &ls[a.listener])
                    .filter(|l| l.is_valid())
                    .filter_map(|l| {
                        Some(ListenerPort {
                            port: u16::try_from(l.port).ok()?,
                            https: l.certificate.is_some(),
                        })
                    })
                    .collect();
                ports.sort_unstable();
                ports.dedup_by_key(|p| p.port);
                // Each host with the ports of the (valid) listeners it is served on.
                let mut hosts: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
                for a in attached {
                    let Some(port) = ls
                        .get(a.listener)
                        .filter(|l| l.is_valid())
                        .and_then(|l| u16::try_from(l.port).ok())
                    else {
                        continue;
                    };
                    match &a.hostnames {
                        EffectiveHostnames::Any => {
                            hosts.entry("*".into()).or_default().insert(port);
                        }
                        only => {
                            for h in only
                                .hostnames()
                                .iter()
                                .filter(|h| !claimed_elsewhere(ls, a.listener, h))
                            {
                                hosts.entry(h.as_str().to_owned()).or_default().insert(port);
                            }
                        }
                    }
                }
                // Children are only made where they can serve: on a parent that exists (a
                // valid listener, addresses we support) and on at least one port and host.
                // Otherwise Avi would refuse a child naming a missing parent.
                let parent_vs = names::parent_vs(&settings.cluster_name, &gw_key.0, &gw_key.1);
                let serves = !ports.is_empty()
                    && !hosts.is_empty()
                    && out
                        .model
                        .virtual_services
                        .iter()
                        .any(|v| v.name == parent_vs);
                let mut implemented = 0;
                for (rule_index, rule) in rules.iter().enumerate() {
                    let hash = &hashes[rule_index];
                    let rr = RouteRef {
                        gw_ns: &gw_key.0,
                        gw: &gw_key.1,
                        route_ns,
                        route: route_name,
                        rule_hash: hash,
                    };
                    match rule_objects(
                        ctx,
                        kind,
                        &rr,
                        rule,
                        &labels[rule_index],
                        &hosts,
                        &ports,
                        &mut backend_problem,
                        out,
                    ) {
                        Ok(_) if !serves => implemented += 1,
                        Ok(objects) => {
                            implemented += 1;
                            out.orders.insert(
                                objects.child.name.clone(),
                                ChildOrder {
                                    created: route
                                        .metadata
                                        .creation_timestamp
                                        .as_ref()
                                        .map(|t| t.0.to_string()),
                                    kind: kind.kind(),
                                    route: key.clone(),
                                    rule: rule_index,
                                    targets: objects.origins,
                                },
                            );
                            out.model.virtual_services.push(objects.child);
                            out.model.pool_groups.push(objects.pool_group);
                            out.model.pools.extend(objects.pools);
                            out.model.http_policy_sets.extend(objects.policy);
                            out.model.vs_datascript_sets.extend(objects.scripts);
                        }
                        Err(why) => {
                            rule_problem.get_or_insert(why);
                        }
                    }
                }
                let accepted = if implemented == 0 && !rules.is_empty() {
                    Wanted::no(
                        "Accepted",
                        "UnsupportedValue",
                        rule_problem.clone().unwrap_or_default(),
                    )
                } else {
                    Wanted::yes("Accepted", "Accepted", "Route is accepted")
                };
                accepted_on.insert(gw_key.clone(), accepted.clone());
                accepted
            }
        };
        let resolved = match &backend_problem {
            Some(p) => Wanted::no("ResolvedRefs", p.reason, p.message.clone()),
            None => Wanted::yes(
                "ResolvedRefs",
                "ResolvedRefs",
                resolved_message(&out.warnings[warnings_from..]),
            ),
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
                s.parents
                    .iter()
                    .find(|x| p.parent.written_as(&x.parent_ref))
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

/// The `h` of each rule's object names: AKO's [`names::rule_hash`], except that a rule whose
/// hash an earlier rule of the route already has gets its position appended. AKO names an
/// unnamed rule after its path and header matches only, so rules told apart by method or query
/// parameters (or identical ones) would share a child, and the later would replace the earlier.
fn rule_hashes(plain: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    plain
        .iter()
        .enumerate()
        .map(|(i, hash)| {
            let hash = hash.clone();
            if seen.insert(hash.clone()) {
                hash
            } else {
                // Decimal digits never contain `-`: this cannot meet another rule's hash.
                format!("{hash}-{i}")
            }
        })
        .collect()
}

/// Listener isolation (§1.3): a request belongs to the most specific listener its host
/// matches. A hostname a route has on listener `i` that a more specific valid listener on the
/// same port covers entirely never reaches listener `i`, so it is not served there (Avi picks
/// the most specific `vh_matches` host among all children of the parent, whatever listener
/// they came from).
pub(crate) fn claimed_elsewhere(ls: &[Listener], i: usize, h: &Hostname) -> bool {
    let hostname = |l: &Listener| {
        l.hostname
            .as_deref()
            .and_then(|x| x.parse::<Hostname>().ok())
    };
    let mine = hostname(&ls[i]).map(|x| x.specificity());
    ls.iter().enumerate().any(|(j, other)| {
        j != i
            && other.is_valid()
            && other.port == ls[i].port
            && hostname(other).is_some_and(|o| Some(o.specificity()) > mine && o.covers(h))
    })
}

/// A route's backendRef as the API gives it (the fields every route kind shares).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackendRef<'a> {
    pub group: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    pub port: Option<i32>,
    pub weight: Option<i32>,
}

macro_rules! backend_ref_from {
    ($($t:ty),*) => {$(
        impl<'a> std::convert::From<&'a $t> for BackendRef<'a> {
            fn from(b: &'a $t) -> Self {
                BackendRef {
                    group: b.group.as_deref(),
                    kind: b.kind.as_deref(),
                    namespace: b.namespace.as_deref(),
                    name: &b.name,
                    port: b.port,
                    weight: b.weight,
                }
            }
        }
    )*};
}

backend_ref_from!(
    gateway_api::httproutes::HttpRouteRulesBackendRefs,
    gateway_api::tlsroutes::TlsRouteRulesBackendRefs
);

/// What every route kind checks of a backendRef before it becomes a pool: a core Service, a
/// weight within the API's 0-1,000,000 (outside them, as a dry run or an old CRD allows, the
/// backend is refused rather than read as 0 or clamped), a ReferenceGrant from the route's own
/// kind across namespaces, and a port. The Service's namespace, the port and the weight.
pub(crate) fn checked_backend(
    snapshot: &Snapshot,
    route_kind: &'static str,
    route_ns: &str,
    b: BackendRef<'_>,
) -> Result<(String, i32, u32), Problem> {
    let printable = translate_core::text::printable;
    let group = b.group.unwrap_or("");
    let kind = b.kind.unwrap_or("Service");
    if !group.is_empty() || kind != "Service" {
        return Err(Problem {
            reason: "InvalidKind",
            message: format!(
                "backendRef {}/{} {} is not a Service",
                printable(group),
                printable(kind),
                printable(b.name)
            ),
        });
    }
    let ns = b.namespace.unwrap_or(route_ns).to_owned();
    let raw_weight = b.weight.unwrap_or(1);
    let weight = u32::try_from(raw_weight)
        .ok()
        .filter(|w| *w <= 1_000_000)
        .ok_or_else(|| Problem {
            reason: "UnsupportedValue",
            message: format!(
                "backendRef {}/{} has weight {raw_weight}; weights are 0 to 1,000,000",
                printable(&ns),
                printable(b.name)
            ),
        })?;
    let from = Referrer {
        group: GATEWAY_GROUP,
        kind: route_kind,
        namespace: route_ns,
    };
    let to = Referent {
        group: "",
        kind: "Service",
        namespace: &ns,
        name: b.name,
    };
    if !reference_grant::permits(snapshot, from, to) {
        return Err(Problem {
            reason: "RefNotPermitted",
            message: format!(
                "Service {}/{} is in another namespace and no ReferenceGrant allows it",
                printable(&ns),
                printable(b.name)
            ),
        });
    }
    let port = b.port.ok_or_else(|| Problem {
        reason: "BackendNotFound",
        message: format!(
            "backendRef {}/{} has no port",
            printable(&ns),
            printable(b.name)
        ),
    })?;
    Ok((ns, port, weight))
}

/// The pool of one backendRef, and its weight; or why it has none.
fn backend_pool(
    ctx: &Context<'_>,
    route_kind: RouteKind,
    rr: &RouteRef<'_>,
    b: &gateway_api::httproutes::HttpRouteRulesBackendRefs,
    created_by: &Option<String>,
    out: &mut Translation,
) -> Result<(Pool, u32), Problem> {
    let (snapshot, settings) = (ctx.snapshot, ctx.settings);
    let route_ns = rr.route_ns;
    let (ns, port, weight) = checked_backend(snapshot, route_kind.kind(), route_ns, b.into())?;
    let servers = members_with(
        snapshot,
        ctx.endpoints,
        &ns,
        &b.name,
        port,
        settings.service_type,
    )?;
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
                .map(|e| &**e)
        });
    out.backend_uses
        .record(&ns, &b.name, port, (rr.gw_ns.to_owned(), rr.gw.to_owned()));
    // One rule for every pool, highest first: the RouteBackendExtension, a BackendTLSPolicy,
    // Istio, plaintext.
    let backend = crate::backend_tls::Backend {
        namespace: &ns,
        name: &b.name,
        port: Some(port),
    };
    let decision = decide_with(
        snapshot,
        ctx.endpoints,
        settings,
        ctx.backend_tls,
        backend,
        extension,
    )
    // Never plaintext when TLS was asked for: the backend is invalid, like a missing one.
    .map_err(|(policy, message)| Problem {
        reason: "InvalidBackendTLSPolicy",
        message: format!(
            "BackendTLSPolicy {}/{} for Service {ns}/{} cannot be honoured: {message}",
            policy.0, policy.1, b.name
        ),
    })?;
    if let Some(message) = decision.warning.clone() {
        out.warnings.push(Warning {
            kind: route_kind.kind(),
            key: (route_ns.to_owned(), rr.route.to_owned()),
            reason: BACKEND_TLS,
            message,
        });
    }
    if let Some(message) = decision.note.clone() {
        out.warnings.push(Warning {
            kind: route_kind.kind(),
            key: (route_ns.to_owned(), rr.route.to_owned()),
            reason: BACKEND_NOT_IN_MESH,
            message,
        });
    }
    let mut pool = Pool {
        created_by: created_by.clone(),
        markers: markers(
            settings,
            &[
                ("GatewayName", rr.gw),
                ("GatewayNamespace", rr.gw_ns),
                (route_kind.markers().0, rr.route),
                (route_kind.markers().1, rr.route_ns),
                ("BackendName", &b.name),
                ("BackendNs", &ns),
            ],
        ),
        servers: pool_servers(&servers),
        ..ako_pool(names::pool(&settings.cluster_name, rr, &ns, &b.name, port))
    };
    if decision.tls == BackendTls::IstioPending {
        out.model.pools_keeping_tls.insert(pool.name.clone());
    }
    apply_tls(&mut pool, decision.tls.clone());
    // gRPC is HTTP/2 end to end; a Service port that says `kubernetes.io/h2c` speaks HTTP/2
    // without TLS, with prior knowledge (and answers HTTP/1.1 with 400).
    let h2c = translate_core::endpoints::app_protocol(snapshot, &ns, &b.name, port)
        == Some(translate_core::endpoints::H2C);
    if route_kind == RouteKind::Grpc || h2c {
        pool.enable_http2 = Some(true);
    }
    // The Gateway's backend client certificate goes with the TLS a BackendTLSPolicy or a
    // RouteBackendExtension asks for; it never turns TLS on, and a mesh backend keeps the
    // Istio workload certificate (a STRICT sidecar accepts the mesh identity only).
    if matches!(
        decision.tls,
        BackendTls::Policy(_) | BackendTls::Extension { .. }
    ) && let Some(name) = ctx
        .client_certs
        .get(&(rr.gw_ns.to_owned(), rr.gw.to_owned()))
    {
        pool.ssl_key_and_certificate_ref = Some(AviRef::by_name(name.clone()));
    }
    out.pool_backends.insert(
        pool.name.clone(),
        PoolBackend {
            namespace: ns.clone(),
            service: b.name.clone(),
            port,
            mesh_dependent: decision.tls.depends_on_endpoints(),
        },
    );
    if let BackendTls::Policy(tls) = &decision.tls {
        out.model.pki_profiles.push(tls.pki_profile.clone());
    }
    Ok((pool, weight))
}

/// Avi servers of the members (the translation core's rule).
pub(crate) fn pool_servers(members: &[crate::endpoints::Member]) -> Vec<Server> {
    translate_core::pool::servers(members)
}

/// Sets a pool's TLS towards its backend.
pub(crate) fn apply_tls(pool: &mut Pool, tls: BackendTls) {
    match tls {
        BackendTls::Plain | BackendTls::IstioPending => {}
        BackendTls::Policy(tls) => tls.apply(pool),
        BackendTls::Istio(refs) => {
            let mut ignored = AviModel::default();
            translate_core::pool::apply_mesh_tls(
                pool,
                &translate_core::mesh_tls::MeshTls::Istio(refs),
                &mut ignored,
            );
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
}

/// The Service port behind a pool (the translation core's).
pub(crate) use translate_core::incremental::PoolBackend;

#[cfg(test)]
mod tests;
