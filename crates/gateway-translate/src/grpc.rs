//! GRPCRoute: translated as the HTTPRoute it is equivalent to, on the same listeners, with the
//! same children, precedence pass, backends and status reasons (the spec reuses HTTPRoute's),
//! and pools that speak HTTP/2.
//!
//! A gRPC call is an HTTP/2 POST to `/<service>/<method>`, so a method match is a path match:
//!
//! | `method` | path |
//! |---|---|
//! | Exact, service and method (Core) | Exact `/<service>/<method>` |
//! | Exact, service only | PathPrefix `/<service>/` |
//! | Exact, method only | RegularExpression `^/[^/]+/<method>$` |
//! | RegularExpression | RegularExpression `^/(?:<service>)/(?:<method>)$` (a missing part is `[^/]+`) |
//!
//! Header matches, `RequestHeaderModifier`, `ResponseHeaderModifier` and backendRefs have the
//! same shape in both kinds and carry over as they are; what HTTPRoute refuses (a header
//! regular expression, mirrors, extension refs) is refused here with the same reason.
//!
//! Precedence follows HTTPRoute's order on the converted matches: an exact method (Exact path)
//! before a service-only one (prefix), then more headers, then the oldest route. The GRPCRoute
//! order (more characters of service, then of method, then headers) agrees with it for the
//! Core matches (service and method both given); between regular expressions it may differ.

use gateway_api::grpcroutes::{GrpcRoute, GrpcRouteSpec};
use gateway_api::httproutes::HttpRoute;
use serde_json::{Value, json};

use crate::attach::attach_kind;
use crate::translate::{
    Attachments, Context, RouteKind, RouteTranslator, StatusUpdate, Translation, route_objects,
};

/// The API group of the route kinds.
const GROUP: &str = "gateway.networking.k8s.io";

/// Why a GRPCRoute has no HTTPRoute equivalent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrpcError {
    /// A method match with neither service nor method.
    #[error("a method match needs a service or a method")]
    EmptyMethod,
    /// A method match type other than Exact and RegularExpression.
    #[error("method match type {0} is not supported")]
    MethodType(String),
    /// Service or method text that cannot go in a path.
    #[error("{0} {1} cannot be part of a gRPC path")]
    BadName(&'static str, String),
    /// A RegularExpression service or method that is not a regular expression on its own
    /// (one that closes the group it is put in could match far more than it says).
    #[error("{0} {1} is not a regular expression on its own")]
    BadRegex(&'static str, String),
    /// The object does not have the GRPCRoute shape.
    #[error("not a GRPCRoute: {0}")]
    Shape(String),
}

/// The HTTPRoute path match of a GRPCRoute method match.
fn method_path(m: &Value) -> Result<Value, GrpcError> {
    let text = |k: &str| m.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (service, method) = (text("service"), text("method"));
    let kind = m.get("type").and_then(Value::as_str).unwrap_or("Exact");
    // A path separator or query mark in an Exact name would match another path; in a regular
    // expression `?` is an operator, and the expression is checked whole below.
    let exact = kind == "Exact";
    for (what, v) in [("service", service), ("method", method)] {
        if let Some(v) = v
            && (v.len() > 1024
                || v.chars()
                    .any(|c| c.is_control() || (exact && (c == '/' || c == '?'))))
        {
            return Err(GrpcError::BadName(what, translate_core::text::printable(v)));
        }
    }
    match (kind, service, method) {
        (_, None, None) => Err(GrpcError::EmptyMethod),
        ("Exact", Some(s), Some(me)) => Ok(json!({"type": "Exact", "value": format!("/{s}/{me}")})),
        ("Exact", Some(s), None) => Ok(json!({"type": "PathPrefix", "value": format!("/{s}")})),
        ("Exact", None, Some(me)) => Ok(json!({"type": "RegularExpression",
            "value": format!("^/[^/]+/{}$", regex_syntax::escape(me))})),
        ("RegularExpression", s, me) => {
            // Each part must parse alone: `a)|(.*` parses once wrapped in `(?:…)` but would
            // match every path.
            for (what, v) in [("service", s), ("method", me)] {
                if let Some(v) = v
                    && regex_syntax::Parser::new().parse(v).is_err()
                {
                    return Err(GrpcError::BadRegex(
                        what,
                        translate_core::text::printable(v),
                    ));
                }
            }
            Ok(json!({"type": "RegularExpression",
                "value": format!("^/(?:{})/(?:{})$", s.unwrap_or("[^/]+"), me.unwrap_or("[^/]+"))}))
        }
        (other, _, _) => Err(GrpcError::MethodType(translate_core::text::printable(
            other,
        ))),
    }
}

/// The HTTPRoute a GRPCRoute is equivalent to (same metadata, parents, hostnames, status).
pub fn as_http_route(route: &GrpcRoute) -> Result<HttpRoute, GrpcError> {
    let mut v = serde_json::to_value(route).map_err(|e| GrpcError::Shape(e.to_string()))?;
    v["apiVersion"] = json!("gateway.networking.k8s.io/v1");
    v["kind"] = json!("HTTPRoute");
    if let Some(rules) = v.pointer_mut("/spec/rules").and_then(Value::as_array_mut) {
        for rule in rules {
            let Some(matches) = rule.get_mut("matches").and_then(Value::as_array_mut) else {
                continue;
            };
            for m in matches {
                if let Some(method) = m.get("method").cloned()
                    && let Some(obj) = m.as_object_mut()
                {
                    obj.remove("method");
                    obj.insert("path".into(), method_path(&method)?);
                }
            }
        }
    }
    serde_json::from_value(v).map_err(|e| GrpcError::Shape(e.to_string()))
}

/// The GRPCRoute translator.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcRouteTranslator;

/// The part of a GRPCRoute attachment reads (metadata, parents, hostnames), as an HTTPRoute:
/// its rules stay out, so a route whose matches cannot be translated still attaches and gets
/// its refusal on its status.
fn attachment_form(route: &GrpcRoute) -> Result<HttpRoute, GrpcError> {
    as_http_route(&GrpcRoute {
        metadata: route.metadata.clone(),
        spec: GrpcRouteSpec {
            hostnames: route.spec.hostnames.clone(),
            parent_refs: route.spec.parent_refs.clone(),
            rules: None,
        },
        status: None,
    })
}

impl RouteTranslator for GrpcRouteTranslator {
    fn kind(&self) -> &'static str {
        "GRPCRoute"
    }

    fn speaks_http2(&self, _ctx: &Context<'_>, _route: &crate::ObjectKey) -> bool {
        true
    }

    fn attachments(&self, ctx: &Context<'_>) -> Attachments {
        ctx.snapshot
            .grpc_routes
            .iter()
            .filter_map(|(k, r)| {
                let http = attachment_form(r).ok()?;
                let parents = attach_kind(
                    &http,
                    "GRPCRoute",
                    ctx.snapshot,
                    ctx.settings,
                    ctx.listeners,
                );
                (!parents.is_empty()).then(|| (k.clone(), parents))
            })
            .collect()
    }

    fn translate(&self, ctx: &Context<'_>, attachments: &Attachments, out: &mut Translation) {
        for (key, parents) in attachments {
            let Some(route) = ctx.snapshot.grpc_routes.get(key) else {
                continue;
            };
            let status = match as_http_route(route) {
                Ok(http) => serde_json::to_value(route_objects(
                    ctx,
                    RouteKind::Grpc,
                    key,
                    &http,
                    parents,
                    ctx.listeners,
                    ctx.now,
                    out,
                )),
                Err(e) => serde_json::to_value(refused(ctx, route, parents, &e)),
            };
            if let Ok(status) = status {
                out.statuses.push(StatusUpdate::Route {
                    group: GROUP,
                    kind: "GRPCRoute",
                    key: key.clone(),
                    status,
                });
            }
        }
    }
}

/// The status of a GRPCRoute that cannot be translated: every parent `Accepted=False` with
/// `UnsupportedValue` and the reason.
fn refused(
    ctx: &Context<'_>,
    route: &GrpcRoute,
    parents: &[crate::attach::ParentAttachment],
    why: &GrpcError,
) -> gateway_api::httproutes::HttpRouteStatus {
    use crate::conditions::{Wanted, conditions};
    let previous = route.status.as_ref();
    gateway_api::httproutes::HttpRouteStatus {
        parents: parents
            .iter()
            .map(|p| {
                let prev = previous
                    .and_then(|s| {
                        s.parents
                            .iter()
                            .find(|x| p.parent.written_as(&x.parent_ref))
                    })
                    .map(|x| x.conditions.clone())
                    .unwrap_or_default();
                let wanted = vec![
                    Wanted::no("Accepted", "UnsupportedValue", why.to_string()),
                    Wanted::yes("ResolvedRefs", "ResolvedRefs", "All references resolved"),
                ];
                gateway_api::httproutes::HttpRouteStatusParents {
                    conditions: conditions(&prev, wanted, route.metadata.generation, ctx.now),
                    controller_name: ctx.settings.controller_name.clone(),
                    parent_ref: gateway_api::httproutes::HttpRouteStatusParentsParentRef {
                        group: Some(p.parent.group.clone()),
                        kind: Some(p.parent.kind.clone()),
                        name: p.parent.name.clone(),
                        namespace: Some(p.parent.namespace.clone()),
                        port: p.parent.port,
                        section_name: p.parent.section_name.clone(),
                    },
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
