//! TLSRoute (GATEWAY-TLS profile): TLS passed through to the backends, chosen by the server
//! name of the client's ClientHello, on Gateway listeners of protocol TLS in mode Passthrough.
//!
//! AKO has no TLSRoute; the layout follows Avi's "SNI name-based pool selection in L4 proxy":
//! one layer-4 virtual service per (Gateway, TLS port), on the Gateway's VIP (the parent's
//! VsVip), with `System-L4-Application` and `System-TCP-Proxy`, and a DataScript set whose
//! `VS_DATASCRIPT_EVT_L4_REQUEST` script reads the server name with the `Default-TLS` protocol
//! parser and selects the pool group of the route that serves it ([`datascript`]): an exact
//! name first, then the longest wildcard suffix, then a route that serves any name; a name no
//! route serves closes the connection (no TLS alert: the TLS session is the backend's).
//!
//! Each route has one pool group per Gateway (its backends by weight) and one plain TCP pool
//! per backend: the Service Engine never sees inside the TLS, so neither Istio nor a
//! BackendTLSPolicy applies. When two routes claim the same name on one port, the older route
//! (then the one first by namespace and name) keeps it, as Gateway API resolves conflicts.

use std::collections::BTreeMap;

use avi_client::AviRef;
use avi_client::models::{
    PoolGroup, PoolGroupMember, Service, VirtualService, VsDataScript, VsDataScriptSet,
    VsDataScripts,
};
use gateway_api::httproutes::{
    HttpRoute, HttpRouteStatus, HttpRouteStatusParents, HttpRouteStatusParentsParentRef,
};
use gateway_api::tlsroutes::TlsRoute;
use translate_core::pool::{ako_pool, markers};

use crate::attach::{ParentAttachment, attach_kind};
use crate::conditions::{Wanted, conditions};
use crate::endpoints::members_with;
use crate::listeners::{GATEWAY_GROUP, Problem, Protocol};
use crate::names;
use crate::snapshot::ObjectKey;
use crate::translate::{Attachments, Context, RouteTranslator, StatusUpdate, Translation, ratios};

/// The DataScript event the selector runs on.
pub const L4_REQUEST_EVENT: &str = "VS_DATASCRIPT_EVT_L4_REQUEST";
/// The protocol parser the selector needs (`avi_tls.get_sni`).
pub const TLS_PARSER: &str = "/api/protocolparser/?name=Default-TLS";

/// The TLSRoute translator.
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsRouteTranslator;

/// A TLSRoute's parents and hostnames in HTTPRoute form: attachment is the same for both kinds
/// (a listener must support TLSRoute).
fn attachment_form(route: &TlsRoute) -> Option<HttpRoute> {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": route.metadata,
        "spec": {
            "parentRefs": route.spec.parent_refs,
            "hostnames": route.spec.hostnames,
        },
    }))
    .ok()
}

/// Who serves a name on one port.
#[derive(Debug, Clone)]
struct Claim {
    /// Older first, then by namespace and name.
    order: (Option<String>, ObjectKey),
    pool_group: String,
}

/// The names one passthrough port serves.
#[derive(Debug, Default)]
struct PortTable {
    exact: BTreeMap<String, Claim>,
    /// `*.example.com` as `example.com`.
    wildcard: BTreeMap<String, Claim>,
    any: Option<Claim>,
}

impl PortTable {
    fn claim(slot: &mut Option<Claim>, c: &Claim) {
        if slot.as_ref().is_none_or(|old| c.order < old.order) {
            *slot = Some(c.clone());
        }
    }

    fn add(&mut self, host: Option<&str>, c: &Claim) {
        match host {
            None => Self::claim(&mut self.any, c),
            Some(h) => {
                let (map, key) = match h.strip_prefix("*.") {
                    Some(suffix) => (&mut self.wildcard, suffix.to_owned()),
                    None => (&mut self.exact, h.to_owned()),
                };
                let mut slot = map.remove(&key);
                Self::claim(&mut slot, c);
                if let Some(s) = slot {
                    map.insert(key, s);
                }
            }
        }
    }
}

/// The L4 request script of a passthrough port: `exact` and `wildcard` (suffix) names to pool
/// groups, `any` for a route that serves every name. Names are lowercase DNS names (validated
/// hostnames), so they go into Lua string literals as they are.
pub fn datascript(
    exact: &BTreeMap<String, String>,
    wildcard: &BTreeMap<String, String>,
    any: Option<&str>,
) -> String {
    // Names are validated hostnames and `ako-gw-<cluster>--<sha1>` pool groups: nothing that
    // could end a Lua string literal.
    let literal_safe = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'*'))
    };
    let table = |m: &BTreeMap<String, String>| -> String {
        m.iter()
            .filter(|(k, v)| {
                debug_assert!(literal_safe(k) && literal_safe(v), "{k} {v}");
                literal_safe(k) && literal_safe(v)
            })
            .map(|(k, v)| format!("  [\"{k}\"] = \"{v}\",\n"))
            .collect()
    };
    let any = any
        .filter(|a| literal_safe(a))
        .map_or_else(|| "nil".to_owned(), |a| format!("\"{a}\""));
    format!(
        r#"-- ako-gw TLS passthrough: the ClientHello's server name chooses the pool group.
local avi_tls = require "Default-TLS"
local exact = {{
{exact}}}
local wildcard = {{
{wildcard}}}
local any = {any}
buffered = avi.l4.collect(20)
payload = avi.l4.read()
len = avi_tls.get_req_buffer_size(payload)
if ( buffered < len ) then
  avi.l4.collect(len)
  payload = avi.l4.read()
end
local pg = nil
if ( avi_tls.sanity_check(payload) ) then
  local h = avi_tls.parse_record(payload)
  local sname = avi_tls.get_sni(h)
  if sname ~= nil then
    sname = string.lower(sname)
    pg = exact[sname]
    local rest = sname
    while pg == nil do
      local dot = string.find(rest, ".", 1, true)
      if dot == nil then break end
      rest = string.sub(rest, dot + 1)
      pg = wildcard[rest]
    end
  end
  if pg == nil then pg = any end
end
if pg == nil then
  avi.vs.close_conn()
else
  avi.poolgroup.select(pg)
end
avi.l4.ds_done()
avi_tls = nil
"#,
        exact = table(exact),
        wildcard = table(wildcard),
    )
}

impl RouteTranslator for TlsRouteTranslator {
    fn kind(&self) -> &'static str {
        "TLSRoute"
    }

    fn attachments(&self, ctx: &Context<'_>) -> Attachments {
        ctx.snapshot
            .tls_routes
            .iter()
            .filter_map(|(k, r)| {
                let http = attachment_form(r)?;
                let parents =
                    attach_kind(&http, "TLSRoute", ctx.snapshot, ctx.settings, ctx.listeners);
                (!parents.is_empty()).then(|| (k.clone(), parents))
            })
            .collect()
    }

    fn translate(&self, ctx: &Context<'_>, attachments: &Attachments, out: &mut Translation) {
        let settings = ctx.settings;
        let cluster = &settings.cluster_name;
        let mut tables: BTreeMap<(ObjectKey, u16), PortTable> = BTreeMap::new();
        for (key, parents) in attachments {
            let Some(route) = ctx.snapshot.tls_routes.get(key) else {
                continue;
            };
            let (route_ns, route_name) = (&key.0, &key.1);
            let order = (
                route
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string()),
                key.clone(),
            );
            // Exactly one rule (the CRD's rule); its backends are the route's.
            let backends: Vec<_> = route
                .spec
                .rules
                .iter()
                .flat_map(|r| r.backend_refs.iter())
                .collect();
            let mut statuses = Vec::new();
            for p in parents {
                let mut wanted = Vec::new();
                let mut problem: Option<Problem> = None;
                match (&p.result, p.parent.gateway()) {
                    (Ok(attached), Some(gw)) => {
                        let pool_group = names::tls_route_pool_group(
                            cluster, &gw.0, &gw.1, route_ns, route_name,
                        );
                        let mut members = Vec::new();
                        let mut weights = Vec::new();
                        for b in &backends {
                            match backend_pool(ctx, &gw, key, b, out) {
                                Ok((pool, weight)) => {
                                    members.push(pool.name.clone());
                                    weights.push(weight);
                                    out.model.pools.push(pool);
                                }
                                Err(p) => {
                                    problem.get_or_insert(p);
                                }
                            }
                        }
                        // A route without a usable backend claims no name: its connections
                        // are closed, as the spec asks (a share of invalid backends among
                        // valid ones goes to the valid ones: Avi cannot refuse a share).
                        let serves = !members.is_empty();
                        if serves {
                            out.model.pool_groups.push(PoolGroup {
                                name: pool_group.clone(),
                                created_by: Some(settings.created_by()),
                                markers: markers(
                                    settings,
                                    &[
                                        ("GatewayName", &gw.1),
                                        ("GatewayNamespace", &gw.0),
                                        ("TLSRouteName", route_name),
                                        ("TLSRouteNamespace", route_ns),
                                    ],
                                ),
                                members: members
                                    .into_iter()
                                    .zip(ratios(&weights))
                                    .map(|(m, r)| {
                                        PoolGroupMember::new(AviRef::by_name(m)).with_ratio(r)
                                    })
                                    .collect(),
                                ..PoolGroup::default()
                            });
                        }
                        let claim = Claim {
                            order: order.clone(),
                            pool_group,
                        };
                        let ls = ctx
                            .listeners
                            .get(&gw)
                            .map(Vec::as_slice)
                            .unwrap_or_default();
                        for a in attached.iter().filter(|_| serves) {
                            let Some(port) = ls
                                .get(a.listener)
                                .filter(|l| l.is_valid())
                                .filter(|l| l.protocol == Some(Protocol::TlsPassthrough))
                                .and_then(|l| u16::try_from(l.port).ok())
                            else {
                                continue;
                            };
                            let table = tables.entry((gw.clone(), port)).or_default();
                            if a.hostnames.is_any() {
                                table.add(None, &claim);
                            }
                            // Listener isolation: a name a more specific listener on this
                            // port serves is that listener's routes'.
                            for h in a.hostnames.hostnames() {
                                if !crate::translate::claimed_elsewhere(ls, a.listener, h) {
                                    table.add(Some(h.as_str()), &claim);
                                }
                            }
                        }
                        wanted.push(Wanted::yes("Accepted", "Accepted", "Route is accepted"));
                    }
                    (Err(why), _) => {
                        wanted.push(Wanted::no("Accepted", why.reason, why.message.clone()));
                    }
                    (Ok(_), None) => continue,
                }
                wanted.push(match &problem {
                    Some(p) => Wanted::no("ResolvedRefs", p.reason, p.message.clone()),
                    None => Wanted::yes("ResolvedRefs", "ResolvedRefs", "All references resolved"),
                });
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
                statuses.push(parent_status(
                    ctx,
                    p,
                    &previous,
                    wanted,
                    route.metadata.generation,
                ));
            }
            if let Ok(status) = serde_json::to_value(HttpRouteStatus { parents: statuses }) {
                out.statuses.push(StatusUpdate::Route {
                    group: GATEWAY_GROUP,
                    kind: "TLSRoute",
                    key: key.clone(),
                    status,
                });
            }
        }
        for ((gw, port), table) in tables {
            passthrough_objects(ctx, &gw, port, &table, out);
        }
    }
}

fn parent_status(
    ctx: &Context<'_>,
    p: &ParentAttachment,
    previous: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    wanted: Vec<Wanted>,
    generation: Option<i64>,
) -> HttpRouteStatusParents {
    HttpRouteStatusParents {
        conditions: conditions(previous, wanted, generation, ctx.now),
        controller_name: ctx.settings.controller_name.clone(),
        parent_ref: HttpRouteStatusParentsParentRef {
            group: Some(p.parent.group.clone()),
            kind: Some(p.parent.kind.clone()),
            name: p.parent.name.clone(),
            namespace: Some(p.parent.namespace.clone()),
            port: p.parent.port,
            section_name: p.parent.section_name.clone(),
        },
    }
}

/// The plain TCP pool of one backendRef, and its weight; or why it cannot be used.
fn backend_pool(
    ctx: &Context<'_>,
    gw: &ObjectKey,
    route: &ObjectKey,
    b: &gateway_api::tlsroutes::TlsRouteRulesBackendRefs,
    out: &mut Translation,
) -> Result<(avi_client::models::Pool, u32), Problem> {
    let (ns, port, weight) =
        crate::translate::checked_backend(ctx.snapshot, "TLSRoute", &route.0, b.into())?;
    let members = members_with(
        ctx.snapshot,
        ctx.endpoints,
        &ns,
        &b.name,
        port,
        ctx.settings.service_type,
    )?;
    out.backend_uses.record(&ns, &b.name, port, gw.clone());
    let settings = ctx.settings;
    let name = names::tls_route_pool(
        &settings.cluster_name,
        &gw.0,
        &gw.1,
        &route.0,
        &route.1,
        &ns,
        &b.name,
        port,
    );
    let pool = avi_client::models::Pool {
        created_by: Some(settings.created_by()),
        markers: markers(
            settings,
            &[
                ("GatewayName", &gw.1),
                ("GatewayNamespace", &gw.0),
                ("TLSRouteName", &route.1),
                ("TLSRouteNamespace", &route.0),
                ("BackendName", &b.name),
                ("BackendNs", &ns),
            ],
        ),
        servers: translate_core::pool::servers(&members),
        ..ako_pool(name)
    };
    out.pool_backends.insert(
        pool.name.clone(),
        crate::translate::PoolBackend {
            namespace: ns.clone(),
            service: b.name.clone(),
            port,
            mesh_dependent: false,
        },
    );
    Ok((pool, weight))
}

/// The layer-4 virtual service of one passthrough port of Gateway `gw`, with its selector
/// DataScript set, when the Gateway is programmed (its VsVip exists).
fn passthrough_objects(
    ctx: &Context<'_>,
    gw: &ObjectKey,
    port: u16,
    table: &PortTable,
    out: &mut Translation,
) {
    let settings = ctx.settings;
    let cluster = &settings.cluster_name;
    let parent = names::parent_vs(cluster, &gw.0, &gw.1);
    let vsvip = names::vsvip(&parent);
    if !out.model.vsvips.iter().any(|v| v.name == vsvip) {
        return;
    }
    let name = names::passthrough_vs(cluster, &gw.0, &gw.1, port);
    let pick = |m: &BTreeMap<String, Claim>| -> BTreeMap<String, String> {
        m.iter()
            .map(|(k, c)| (k.clone(), c.pool_group.clone()))
            .collect()
    };
    let script = datascript(
        &pick(&table.exact),
        &pick(&table.wildcard),
        table.any.as_ref().map(|c| c.pool_group.as_str()),
    );
    let mut groups: Vec<String> = table
        .exact
        .values()
        .chain(table.wildcard.values())
        .chain(table.any.iter())
        .map(|c| c.pool_group.clone())
        .collect();
    groups.sort();
    groups.dedup();
    let gw_markers = markers(
        settings,
        &[("GatewayName", &gw.1), ("GatewayNamespace", &gw.0)],
    );
    out.model.vs_datascript_sets.push(VsDataScriptSet {
        name: name.clone(),
        created_by: Some(settings.created_by()),
        markers: gw_markers.clone(),
        datascript: vec![VsDataScript {
            evt: L4_REQUEST_EVENT.into(),
            script,
        }],
        pool_group_refs: groups.into_iter().map(AviRef::by_name).collect(),
        protocol_parser_refs: vec![TLS_PARSER.to_owned()],
        ..VsDataScriptSet::default()
    });
    out.model.virtual_services.push(VirtualService {
        name: name.clone(),
        created_by: Some(settings.created_by()),
        markers: gw_markers,
        services: vec![Service::port(port)],
        vsvip_ref: Some(AviRef::by_name(vsvip)),
        application_profile_ref: Some("/api/applicationprofile/?name=System-L4-Application".into()),
        network_profile_ref: Some("/api/networkprofile/?name=System-TCP-Proxy".into()),
        vs_datascripts: vec![VsDataScripts {
            index: 0,
            vs_datascript_set_ref: AviRef::by_name(name.clone()),
        }],
        service_metadata: Some(
            serde_json::json!({"gateway": format!("{}/{}", gw.0, gw.1), "passthrough_port": port})
                .to_string(),
        ),
        ..VirtualService::default()
    });
}
