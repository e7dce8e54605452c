//! The OpenAPI documents kubectl reads: `/openapi/v3` (the root index and one document per
//! group-version) and `/openapi/v2`.
//!
//! kubectl 1.32 reads OpenAPI v3 to decide whether the server validates fields itself: for an
//! object's group-version-kind it looks for the PATCH operation carrying
//! `x-kubernetes-group-version-kind` and checks that it takes the `fieldValidation` query
//! parameter. When it does, kubectl sends `fieldValidation=Strict` and skips client-side schema
//! validation. So every served resource gets its operations (with their query parameters)
//! here; CRD versions get their `openAPIV3Schema` as the component schema, built-in kinds an
//! open object schema.
//!
//! PATCH operations deliberately do not list `application/strategic-merge-patch+json` in their
//! request body: the built-in schemas here are stubs without list merge keys, and kubectl's
//! client-side apply only computes strategic patches from OpenAPI v3 when that content type is
//! listed. Without it kubectl falls back to v2 (empty here) and then to its compiled-in types,
//! which carry the right merge keys.
//!
//! `/openapi/v2` is served as protobuf, the only format kubectl asks for: an empty but valid
//! document, so client-side validation, when kubectl still does it (`kind: List`), finds no
//! schema and skips the object instead of failing to parse the response.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::resources::Resource;

/// Content type of the protobuf OpenAPI v2 document.
pub const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The OpenAPI v2 document as protobuf (`openapi.v2.Document` of gnostic): swagger `2.0`,
/// info, empty paths and definitions.
pub fn v2_protobuf() -> Vec<u8> {
    fn field(out: &mut Vec<u8>, number: u8, bytes: &[u8]) {
        // Length-delimited fields; everything here is shorter than 128 bytes.
        out.push((number << 3) | 2);
        out.push(u8::try_from(bytes.len()).unwrap_or(0));
        out.extend_from_slice(bytes);
    }
    let mut info = Vec::new();
    field(&mut info, 1, b"Kubernetes");
    field(&mut info, 2, b"v1.32.0");
    let mut doc = Vec::new();
    field(&mut doc, 1, b"2.0");
    field(&mut doc, 2, &info);
    field(&mut doc, 8, &[]);
    field(&mut doc, 9, &[]);
    doc
}

/// The relative API path of a group-version: `api/v1` or `apis/<group>/<version>`.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A short hex digest (FNV-1a, 64 bits) of a document: the `hash` of its URL.
fn digest(doc: &Value) -> String {
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016X}")
}

/// The root index: every served group-version and the URL of its document.
pub fn v3_root(resources: &[Resource], crds: &[Value]) -> Value {
    let gvs: BTreeMap<String, (String, String)> = resources
        .iter()
        .map(|r| {
            (
                gv_path(&r.group, &r.version),
                (r.group.clone(), r.version.clone()),
            )
        })
        .collect();
    let paths: Map<String, Value> = gvs
        .into_iter()
        .map(|(path, (group, version))| {
            let hash = v3_document(resources, crds, &group, &version)
                .map(|d| digest(&d))
                .unwrap_or_default();
            (
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            )
        })
        .collect();
    json!({"paths": paths})
}

/// The group and version named by the path segments after `/openapi/v3/`.
pub fn parse_gv<'a>(segs: &[&'a str]) -> Option<(&'a str, &'a str)> {
    match segs {
        ["api", v] => Some(("", v)),
        ["apis", g, v] => Some((g, v)),
        _ => None,
    }
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": kind, "uniqueItems": true}})
}

fn write_params() -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted. Valid value: All.",
        ),
        query(
            "fieldManager",
            "string",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        query(
            "fieldValidation",
            "string",
            "Ignore, Warn or Strict: how the server treats unknown or duplicate fields.",
        ),
    ]
}

fn list_params() -> Vec<Value> {
    vec![
        query(
            "allowWatchBookmarks",
            "boolean",
            "Requests watch events with type BOOKMARK.",
        ),
        query(
            "continue",
            "string",
            "The continue token of the previous page.",
        ),
        query(
            "fieldSelector",
            "string",
            "A selector to restrict the list of returned objects by their fields.",
        ),
        query(
            "labelSelector",
            "string",
            "A selector to restrict the list of returned objects by their labels.",
        ),
        query(
            "limit",
            "integer",
            "The maximum number of responses to return for a list call.",
        ),
        query(
            "resourceVersion",
            "string",
            "Constrains which resource versions a request may be served from.",
        ),
        query(
            "resourceVersionMatch",
            "string",
            "How resourceVersion is applied to list calls.",
        ),
        query(
            "sendInitialEvents",
            "boolean",
            "Starts a watch with synthetic ADDED events of the current state.",
        ),
        query(
            "timeoutSeconds",
            "integer",
            "Timeout for the list/watch call.",
        ),
        query(
            "watch",
            "boolean",
            "Watch for changes to the described resources.",
        ),
    ]
}

fn delete_params() -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted. Valid value: All.",
        ),
        query(
            "gracePeriodSeconds",
            "integer",
            "The duration in seconds before the object should be deleted.",
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection will be performed.",
        ),
    ]
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "description": description, "required": true, "schema": {"type": "string", "uniqueItems": true}})
}

/// The component schema name of a kind (`io.k8s.networking.gateway.v1.Gateway`, `io.k8s.api.core.v1.ConfigMap`).
fn schema_name(r: &Resource) -> String {
    let group = if r.group.is_empty() {
        "io.k8s.api.core".to_owned()
    } else {
        let mut parts: Vec<&str> = r.group.split('.').collect();
        parts.reverse();
        parts.join(".")
    };
    format!("{group}.{}.{}", r.version, r.kind)
}

/// The `openAPIV3Schema` a CRD gives one of its versions.
fn crd_schema<'a>(crds: &'a [Value], r: &Resource) -> Option<&'a Value> {
    crds.iter()
        .filter(|c| c.pointer("/spec/group").and_then(Value::as_str) == Some(r.group.as_str()))
        .filter(|c| {
            c.pointer("/spec/names/plural").and_then(Value::as_str) == Some(r.plural.as_str())
        })
        .flat_map(|c| {
            c.pointer("/spec/versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .find(|v| v.get("name").and_then(Value::as_str) == Some(r.version.as_str()))
        .and_then(|v| v.pointer("/schema/openAPIV3Schema"))
}

/// The document of one group-version (None when nothing is served there): the operations of
/// each of its resources and the schemas of its kinds.
pub fn v3_document(
    resources: &[Resource],
    crds: &[Value],
    group: &str,
    version: &str,
) -> Option<Value> {
    let served: Vec<&Resource> = resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let prefix = format!("/{}", gv_path(group, version));
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for r in served {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let name = schema_name(r);
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        let body = |types: &[&str]| {
            let content: Map<String, Value> = types
                .iter()
                .map(|t| ((*t).to_owned(), json!({"schema": reference})))
                .collect();
            json!({"required": true, "content": content})
        };
        let ok = json!({"200": {"description": "OK", "content": {"application/json": {"schema": reference}}},
            "401": {"description": "Unauthorized"}});
        let op = |action: &str, verb: &str, params: Vec<Value>| {
            json!({
                "tags": [gv_path(group, version).replace('/', "_")],
                "description": format!("{action} {}", r.kind),
                "operationId": format!("{verb}{}", r.kind),
                "parameters": params,
                "responses": ok,
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
            })
        };
        let (collection, scope_params) = if r.namespaced {
            (
                format!("{prefix}/namespaces/{{namespace}}/{}", r.plural),
                vec![path_param(
                    "namespace",
                    "object name and auth scope, such as for teams and projects",
                )],
            )
        } else {
            (format!("{prefix}/{}", r.plural), vec![])
        };
        let mut with_name = scope_params.clone();
        with_name.insert(0, path_param("name", &format!("name of the {}", r.kind)));

        let mut create = op("post", "create", write_params());
        create["requestBody"] = body(&["application/json", "application/yaml"]);
        paths.insert(
            collection.clone(),
            json!({
                "parameters": scope_params,
                "get": op("list", "list", list_params()),
                "post": create,
                "delete": op("deletecollection", "deleteCollection", [delete_params(), list_params()].concat()),
            }),
        );
        if r.namespaced {
            paths.insert(
                format!("{prefix}/{}", r.plural),
                json!({"get": op("list", "listForAllNamespaces", list_params())}),
            );
        }
        let item = format!("{collection}/{{name}}");
        let patch_types = [
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        ];
        let mut patch_params = write_params();
        patch_params.push(query(
            "force",
            "boolean",
            "Force is going to \"force\" Apply requests.",
        ));
        let mut replace = op("put", "replace", write_params());
        replace["requestBody"] = body(&["application/json", "application/yaml"]);
        let mut patch = op("patch", "patch", patch_params.clone());
        patch["requestBody"] = body(&patch_types);
        paths.insert(
            item.clone(),
            json!({
                "parameters": with_name,
                "get": op("get", "read", vec![]),
                "put": replace,
                "patch": patch,
                "delete": op("delete", "delete", delete_params()),
            }),
        );
        if r.status {
            let mut replace = op("put", "replaceStatus", write_params());
            replace["requestBody"] = body(&["application/json", "application/yaml"]);
            let mut patch = op("patch", "patchStatus", patch_params);
            patch["requestBody"] = body(&patch_types);
            paths.insert(
                format!("{item}/status"),
                json!({"parameters": with_name, "get": op("get", "readStatus", vec![]), "put": replace, "patch": patch}),
            );
        }

        let mut schema = crd_schema(crds, r)
            .cloned()
            .unwrap_or_else(|| json!({"type": "object", "description": format!("{} (kube-sim serves no schema for built-in kinds)", r.kind), "x-kubernetes-preserve-unknown-fields": true}));
        if let Some(m) = schema.as_object_mut() {
            m.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
        }
        schemas.insert(name, schema);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;

    #[test]
    fn patch_operations_take_field_validation() {
        let root = v3_root(&builtins(), &[]);
        let url = root["paths"]["api/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/api/v1?hash="));
        assert!(root["paths"]["apis/apiextensions.k8s.io/v1"].is_object());
        let doc = v3_document(&builtins(), &[], "", "v1").unwrap();
        let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "", "version": "v1", "kind": "ConfigMap"})
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(doc["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
        assert!(v3_document(&builtins(), &[], "nope.io", "v1").is_none());
    }

    #[test]
    fn v2_protobuf_is_a_document() {
        let pb = v2_protobuf();
        assert_eq!(&pb[..5], b"\x0a\x032.0");
        assert_eq!(&pb[pb.len() - 4..], b"\x42\x00\x4a\x00");
    }
}
