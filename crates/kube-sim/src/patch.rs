//! The four patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge
//! patch (with the list merge keys of the built-in resources we serve), and the merge that
//! server-side apply performs.

use serde_json::{Map, Value};

use crate::status::StatusError;

/// Which patch a request carries (by its Content-Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// From a Content-Type header.
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        let base = ct.split(';').next().unwrap_or_default().trim();
        match base {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// RFC 6902 with `add`, `remove`, `replace`, `move`, `copy` and `test` (a failed test is 422,
/// which kube's finalizer helper relies on).
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), StatusError> {
    let ops = ops
        .as_array()
        .ok_or_else(|| StatusError::bad_request("json patch must be a list"))?;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| StatusError::bad_request("op is required"))?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| StatusError::bad_request("path is required"))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| StatusError::bad_request(format!("{kind} needs a value")))
        };
        match kind {
            "add" => add(target, path, value()?)?,
            "remove" => {
                remove(target, path)?;
            }
            "replace" => {
                remove(target, path)?;
                add(target, path, value()?)?;
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| StatusError::bad_request("from is required"))?;
                let v = if kind == "move" {
                    remove(target, from)?
                } else {
                    target.pointer(from).cloned().ok_or_else(|| missing(from))?
                };
                add(target, path, v)?;
            }
            "test" => {
                let expected = op.get("value").cloned().unwrap_or(Value::Null);
                let actual = target.pointer(path).cloned().unwrap_or(Value::Null);
                if actual != expected {
                    return Err(StatusError::invalid(format!(
                        "the server rejected our request due to an error in our request: test failed at {path}"
                    )));
                }
            }
            other => {
                return Err(StatusError::bad_request(format!(
                    "unknown json patch op '{other}'"
                )));
            }
        }
    }
    Ok(())
}

fn missing(path: &str) -> StatusError {
    StatusError::invalid(format!(
        "the server rejected our request due to an error in our request: path {path} does not exist"
    ))
}

fn split(path: &str) -> Result<(&str, String), StatusError> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| StatusError::bad_request(format!("bad path '{path}'")))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), StatusError> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = split(path)?;
    match target.pointer_mut(parent).ok_or_else(|| missing(parent))? {
        Value::Object(m) => {
            m.insert(last, value);
        }
        Value::Array(a) if last == "-" => a.push(value),
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| missing(path))?;
            if i > a.len() {
                return Err(missing(path));
            }
            a.insert(i, value);
        }
        _ => return Err(missing(path)),
    }
    Ok(())
}

fn remove(target: &mut Value, path: &str) -> Result<Value, StatusError> {
    let (parent, last) = split(path)?;
    match target.pointer_mut(parent).ok_or_else(|| missing(parent))? {
        Value::Object(m) => m.remove(&last).ok_or_else(|| missing(path)),
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| missing(path))?;
            if i >= a.len() {
                return Err(missing(path));
            }
            Ok(a.remove(i))
        }
        _ => Err(missing(path)),
    }
}

/// The merge key of a list field in the built-in types (None: the list is replaced whole).
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "ports" => "port",
        "addresses" => "ip",
        "endpoints" => "addresses",
        _ => return None,
    })
}

/// Lists of scalars merged as sets.
fn merged_set(field: &str) -> bool {
    matches!(field, "finalizers")
}

/// Strategic merge patch: like a merge patch, but lists with a merge key merge element by
/// element (`$patch: delete` removes one), and set-like lists (finalizers) take the union.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let (Value::Object(t), Value::Object(p)) = (&mut *target, patch) else {
        *target = patch.clone();
        return;
    };
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match (t.get_mut(k), v) {
            (Some(Value::Array(existing)), Value::Array(items)) if merge_key(k).is_some() => {
                for item in items {
                    // A container's ports are keyed by containerPort, a Service's by port.
                    let key = match (k.as_str(), item.get("containerPort")) {
                        ("ports", Some(_)) => "containerPort",
                        _ => merge_key(k).unwrap_or("name"),
                    };
                    let id = item.get(key);
                    // An item without its key (which the API server would refuse) merges
                    // with an equal one rather than piling up on every patch.
                    let pos = existing.iter().position(|e| match id {
                        Some(_) => e.get(key) == id,
                        None => e == item,
                    });
                    let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                    match (pos, delete) {
                        (Some(i), true) => {
                            existing.remove(i);
                        }
                        (Some(i), false) => strategic_merge(&mut existing[i], item),
                        (None, true) => {}
                        (None, false) => existing.push(item.clone()),
                    }
                }
            }
            (Some(Value::Array(existing)), Value::Array(items)) if merged_set(k) => {
                for item in items {
                    if !existing.contains(item) {
                        existing.push(item.clone());
                    }
                }
            }
            (Some(existing @ Value::Object(_)), Value::Object(_)) => strategic_merge(existing, v),
            _ => {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge_patch(&mut t, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(t, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn json_patch_ops_and_failed_test() {
        let mut t = json!({"metadata": {"finalizers": ["a"]}});
        json_patch(
            &mut t,
            &json!([
                {"op": "test", "path": "/metadata/finalizers", "value": ["a"]},
                {"op": "add", "path": "/metadata/finalizers/-", "value": "b"},
                {"op": "replace", "path": "/metadata/finalizers/0", "value": "c"},
                {"op": "copy", "from": "/metadata/finalizers", "path": "/copy"},
                {"op": "remove", "path": "/metadata/finalizers/1"}
            ]),
        )
        .unwrap();
        assert_eq!(
            t,
            json!({"metadata": {"finalizers": ["c"]}, "copy": ["c", "b"]})
        );
        let err = json_patch(
            &mut t,
            &json!([{"op": "test", "path": "/metadata/finalizers", "value": null}]),
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
    }

    #[test]
    fn container_ports_merge_by_container_port_and_reapplying_changes_nothing() {
        let mut target = serde_json::json!({"spec": {"containers": [
            {"name": "ako", "ports": [{"name": "metrics", "containerPort": 8080}]}]}});
        let patch = target.clone();
        strategic_merge(&mut target, &patch);
        assert_eq!(target, patch);
        let more = serde_json::json!({"spec": {"containers": [
            {"name": "ako", "ports": [{"name": "metrics", "containerPort": 8080, "protocol": "TCP"},
                                      {"name": "debug", "containerPort": 9090}]}]}});
        strategic_merge(&mut target, &more);
        let ports = target
            .pointer("/spec/containers/0/ports")
            .and_then(Value::as_array)
            .unwrap();
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0]["protocol"], "TCP");
    }

    #[test]
    fn strategic_merge_uses_merge_keys() {
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
                             "metadata": {"finalizers": ["f1"]}});
        strategic_merge(
            &mut pod,
            &json!({"spec": {"containers": [{"name": "b", "image": "z"}, {"name": "a", "$patch": "delete"}]},
                                          "metadata": {"finalizers": ["f2"]}}),
        );
        assert_eq!(
            pod["spec"]["containers"],
            json!([{"name": "b", "image": "z"}])
        );
        assert_eq!(pod["metadata"]["finalizers"], json!(["f1", "f2"]));
    }
}
