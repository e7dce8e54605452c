//! Adds a route kind of your own to the Gateway API translation without touching HTTPRoute's:
//! a `DenyRoute` (`ako.example.com/v1`) that makes a Gateway answer 403 for one hostname. It
//! attaches to the Gateway's valid listeners (so `attachedRoutes` counts it), produces an EVH
//! child VS with an HTTP policy set, and reports a status.
//!
//! `cargo run -p examples --example custom_translator`

use std::collections::BTreeMap;

use avi_client::AviRef;
use avi_client::models::{
    HttpPolicies, HttpPolicySet, HttpRequestPolicy, HttpRequestRule, HttpSwitchingAction,
    LocalResponseStatusCode, MatchTarget, PathMatch, PathMatchCriteria, VhMatch, VhMatchRule,
    VhType, VirtualService, VsType,
};
use gateway_translate::attach::{Attached, ParentAttachment, ParentRef};
use gateway_translate::hostnames::{EffectiveHostnames, Hostname};
use gateway_translate::{
    Attachments, Context, HttpRouteTranslator, Settings, Snapshot, StatusUpdate, Translation,
    Translator, names, translate_with,
};
use serde_json::{Value, json};

const GROUP: &str = "ako.example.com";

struct DenyRouteTranslator;

impl Translator for DenyRouteTranslator {
    fn kind(&self) -> &'static str {
        "DenyRoute"
    }

    fn attachments(&self, ctx: &Context<'_>) -> Attachments {
        let routes = ctx
            .snapshot
            .extra
            .get(&(GROUP.to_owned(), "DenyRoute".to_owned()));
        let mut out = Vec::new();
        for (key, route) in routes.into_iter().flatten() {
            let gw = route
                .pointer("/spec/gateway")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let host: Option<Hostname> = route
                .pointer("/spec/hostname")
                .and_then(Value::as_str)
                .and_then(|h| h.parse().ok());
            let gw_key = (key.0.clone(), gw.to_owned());
            let Some(listeners) = ctx.listeners.get(&gw_key) else {
                continue;
            };
            let parent = ParentRef {
                group: "gateway.networking.k8s.io".into(),
                kind: "Gateway".into(),
                namespace: gw_key.0.clone(),
                name: gw_key.1.clone(),
                section_name: None,
                port: None,
            };
            let attached: Vec<Attached> = listeners
                .iter()
                .enumerate()
                .filter(|(_, l)| l.is_valid())
                .filter_map(|(i, _)| {
                    host.clone().map(|h| Attached {
                        listener: i,
                        hostnames: EffectiveHostnames::Only(vec![h]),
                    })
                })
                .collect();
            out.push((
                key.clone(),
                vec![ParentAttachment {
                    index: 0,
                    parent,
                    result: Ok(attached),
                }],
            ));
        }
        out
    }

    fn translate(&self, ctx: &Context<'_>, attachments: &Attachments, out: &mut Translation) {
        let cluster = &ctx.settings.cluster_name;
        for (key, parents) in attachments {
            for p in parents {
                let Ok(attached) = &p.result else { continue };
                let Some(host) = attached
                    .first()
                    .and_then(|a| a.hostnames.hostnames().first())
                else {
                    continue;
                };
                let name = format!(
                    "{}{}",
                    names::prefix(cluster),
                    names::sha1_hex(&format!(
                        "deny-{}-{}-{}",
                        p.parent.namespace, p.parent.name, host
                    ))
                );
                let mut rule = HttpRequestRule::new("deny", 0);
                rule.match_ = Some(MatchTarget {
                    path: Some(PathMatch::new(PathMatchCriteria::BeginsWith, ["/"])),
                    ..MatchTarget::default()
                });
                rule.switching_action =
                    Some(HttpSwitchingAction::local(LocalResponseStatusCode::Code403));
                out.model.http_policy_sets.push(HttpPolicySet {
                    name: name.clone(),
                    created_by: Some(ctx.settings.created_by()),
                    http_request_policy: Some(HttpRequestPolicy {
                        rules: vec![rule],
                        ..HttpRequestPolicy::default()
                    }),
                    ..HttpPolicySet::default()
                });
                out.model.virtual_services.push(VirtualService {
                    name: name.clone(),
                    created_by: Some(ctx.settings.created_by()),
                    type_: Some(VsType::VhChild),
                    vh_type: Some(VhType::Enhanced),
                    vh_parent_vs_ref: Some(AviRef::by_name(names::parent_vs(
                        cluster,
                        &p.parent.namespace,
                        &p.parent.name,
                    ))),
                    vh_matches: vec![VhMatch {
                        host: host.as_str().to_owned(),
                        rules: vec![VhMatchRule {
                            name: "rule-0".into(),
                            matches: MatchTarget::default(),
                            extra: Default::default(),
                        }],
                        extra: Default::default(),
                    }],
                    http_policies: vec![HttpPolicies::new(0, AviRef::by_name(name))],
                    ..VirtualService::default()
                });
                out.statuses.push(StatusUpdate::Route {
                    kind: "DenyRoute",
                    key: key.clone(),
                    status: json!({"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}),
                });
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut snapshot = Snapshot::default();
    for object in [
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "avi-lb"},
               "spec": {"controllerName": "ako.vmware.com/avi-lb"}}),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": "web"},
               "spec": {"gatewayClassName": "avi-lb", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}),
    ] {
        snapshot.insert_json(object)?;
    }
    snapshot.insert_extra(json!({"apiVersion": "ako.example.com/v1", "kind": "DenyRoute",
        "metadata": {"name": "block-admin", "namespace": "web"}, "spec": {"gateway": "gw", "hostname": "admin.example.com"}}));

    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    let t = translate_with(
        &snapshot,
        &Settings::default(),
        &now,
        &[&HttpRouteTranslator, &DenyRouteTranslator],
    );
    let vs: BTreeMap<&str, Option<&str>> = t
        .model
        .virtual_services
        .iter()
        .map(|v| {
            (
                v.name.as_str(),
                v.vh_matches.first().map(|m| m.host.as_str()),
            )
        })
        .collect();
    println!("virtual services: {vs:#?}");
    for s in &t.statuses {
        match s {
            StatusUpdate::Gateway { key, status } => {
                let attached: Vec<i32> = status
                    .listeners
                    .iter()
                    .flatten()
                    .map(|l| l.attached_routes)
                    .collect();
                println!(
                    "Gateway {}/{}: attachedRoutes per listener {attached:?}",
                    key.0, key.1
                );
            }
            StatusUpdate::Route { kind, key, status } => {
                println!("{kind} {}/{}: {status}", key.0, key.1)
            }
            _ => {}
        }
    }
    Ok(())
}
