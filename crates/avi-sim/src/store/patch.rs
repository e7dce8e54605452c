//! PATCH as the controller documents it: `{"add": {..}}`, `{"replace": {..}}`,
//! `{"delete": {..}}`, top-level fields only. Lists merge by key (pool servers by ip + port).

use serde_json::{Map, Value};

use super::ApiError;

/// One PATCH request body.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchOp {
    /// Scalars are set; list elements are appended, or update the element with the same key.
    Add(Map<String, Value>),
    /// Fields are replaced whole.
    Replace(Map<String, Value>),
    /// Scalars are unset (back to default); list elements matching are removed.
    Delete(Map<String, Value>),
    /// `{"json_patch": [{"op": "add|remove|replace", "path": "/servers/0", "value": ..}]}`,
    /// as newer controllers and the Python SDK's samples use.
    Json(Vec<Value>),
}

impl PatchOp {
    /// Parses a PATCH body.
    pub fn parse(body: Value) -> Result<PatchOp, ApiError> {
        let Value::Object(mut map) = body else {
            return Err(ApiError::bad_request("PATCH body must be a JSON object"));
        };
        if map.len() != 1 {
            return Err(ApiError::bad_request(
                "PATCH body must have exactly one of 'add', 'replace', 'delete'",
            ));
        }
        let (op, fields) = map
            .iter_mut()
            .next()
            .map(|(k, v)| (k.clone(), v.take()))
            .unwrap_or_default();
        if op == "json_patch" {
            return match fields {
                Value::Array(ops) => Ok(PatchOp::Json(ops)),
                _ => Err(ApiError::bad_request(
                    "PATCH 'json_patch' must hold a list of operations",
                )),
            };
        }
        let Value::Object(fields) = fields else {
            return Err(ApiError::bad_request(format!(
                "PATCH '{op}' must hold an object"
            )));
        };
        match op.as_str() {
            "add" => Ok(PatchOp::Add(fields)),
            "replace" => Ok(PatchOp::Replace(fields)),
            "delete" => Ok(PatchOp::Delete(fields)),
            other => Err(ApiError::bad_request(format!(
                "Unsupported PATCH operation '{other}'"
            ))),
        }
    }
}

/// Applies a PATCH to a body.
pub(super) fn apply(body: &mut Map<String, Value>, op: &PatchOp) -> Result<(), ApiError> {
    match op {
        PatchOp::Json(ops) => {
            let mut doc = Value::Object(std::mem::take(body));
            let result = ops.iter().try_for_each(|o| json_patch_one(&mut doc, o));
            if let Value::Object(map) = doc {
                *body = map;
            }
            result?;
        }
        PatchOp::Replace(fields) => {
            for (k, v) in fields {
                body.insert(k.clone(), v.clone());
            }
        }
        PatchOp::Add(fields) => {
            for (k, v) in fields {
                match (body.get_mut(k), v) {
                    (Some(Value::Array(list)), Value::Array(new)) => {
                        for item in new {
                            match list.iter_mut().find(|e| same_element(k, e, item)) {
                                Some(e) => merge(e, item),
                                None => list.push(item.clone()),
                            }
                        }
                    }
                    _ => {
                        body.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        PatchOp::Delete(fields) => {
            for (k, v) in fields {
                if k == "name" {
                    return Err(ApiError::bad_request("Field 'name' cannot be deleted"));
                }
                match (body.get_mut(k), v) {
                    (Some(Value::Array(list)), Value::Array(gone)) => {
                        list.retain(|e| !gone.iter().any(|g| same_element(k, e, g)));
                    }
                    _ => {
                        body.remove(k);
                    }
                }
            }
        }
    }
    Ok(())
}

/// One RFC 6902 operation (`add`, `remove`, `replace`).
fn json_patch_one(doc: &mut Value, op: &Value) -> Result<(), ApiError> {
    let bad = |m: &str| ApiError::bad_request(format!("json_patch: {m}"));
    let kind = op
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("operation without 'op'"))?;
    let path = op
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("operation without 'path'"))?;
    let (parent_path, last) = path
        .rsplit_once('/')
        .ok_or_else(|| bad("path must start with '/'"))?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let parent = if parent_path.is_empty() {
        Some(&mut *doc)
    } else {
        doc.pointer_mut(parent_path)
    };
    let parent = parent.ok_or_else(|| bad(&format!("path {path} does not exist")))?;
    let value = || {
        op.get("value")
            .cloned()
            .ok_or_else(|| bad(&format!("'{kind}' needs a value")))
    };
    match (kind, parent) {
        ("add", Value::Array(list)) if last == "-" => list.push(value()?),
        ("add", Value::Array(list)) => {
            let i: usize = last
                .parse()
                .map_err(|_| bad(&format!("bad index in {path}")))?;
            if i > list.len() {
                return Err(bad(&format!("index out of range in {path}")));
            }
            list.insert(i, value()?);
        }
        ("add" | "replace", Value::Object(map)) => {
            if kind == "replace" && !map.contains_key(&last) {
                return Err(bad(&format!("path {path} does not exist")));
            }
            map.insert(last, value()?);
        }
        ("replace", Value::Array(list)) => {
            let slot = last.parse::<usize>().ok().and_then(|i| list.get_mut(i));
            *slot.ok_or_else(|| bad(&format!("path {path} does not exist")))? = value()?;
        }
        ("remove", Value::Object(map)) => {
            map.remove(&last)
                .ok_or_else(|| bad(&format!("path {path} does not exist")))?;
        }
        ("remove", Value::Array(list)) => {
            let i = last.parse::<usize>().ok().filter(|i| *i < list.len());
            list.remove(i.ok_or_else(|| bad(&format!("path {path} does not exist")))?);
        }
        (other, _) => return Err(bad(&format!("unsupported op '{other}' at {path}"))),
    }
    Ok(())
}

/// List element identity: pool servers by ip (+ port when given), pool group members by pool,
/// anything else by every field the patch gives.
fn same_element(field: &str, existing: &Value, given: &Value) -> bool {
    match field {
        "servers" => {
            let addr = |v: &Value| v.pointer("/ip/addr").cloned();
            let port = |v: &Value| v.get("port").cloned();
            addr(existing) == addr(given)
                && (given.get("port").is_none() || port(existing) == port(given))
        }
        "members" => existing.get("pool_ref") == given.get("pool_ref"),
        _ => match (existing, given) {
            (Value::Object(e), Value::Object(g)) => g.iter().all(|(k, v)| e.get(k) == Some(v)),
            (e, g) => e == g,
        },
    }
}

fn merge(existing: &mut Value, given: &Value) {
    match (existing, given) {
        (Value::Object(e), Value::Object(g)) => {
            for (k, v) in g {
                e.insert(k.clone(), v.clone());
            }
        }
        (e, g) => *e = g.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn add_appends_or_updates_servers_by_ip_and_port() {
        let mut b =
            body(json!({"servers": [{"ip": {"addr": "1.1.1.1", "type": "V4"}, "port": 80}]}));
        let op = PatchOp::parse(json!({"add": {"servers": [
            {"ip": {"addr": "1.1.1.1", "type": "V4"}, "port": 80, "ratio": 5},
            {"ip": {"addr": "2.2.2.2", "type": "V4"}, "port": 80}
        ]}}))
        .unwrap();
        apply(&mut b, &op).unwrap();
        let servers = b["servers"].as_array().unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0]["ratio"], 5);
    }

    #[test]
    fn delete_removes_matching_servers_and_unsets_scalars() {
        let mut b = body(json!({"default_server_port": 8080, "servers": [
            {"ip": {"addr": "1.1.1.1", "type": "V4"}}, {"ip": {"addr": "3.3.3.3", "type": "V4"}}]}));
        apply(
            &mut b,
            &PatchOp::parse(
                json!({"delete": {"servers": [{"ip": {"addr": "3.3.3.3", "type": "V4"}}]}}),
            )
            .unwrap(),
        )
        .unwrap();
        apply(
            &mut b,
            &PatchOp::parse(json!({"delete": {"default_server_port": 8080}})).unwrap(),
        )
        .unwrap();
        assert_eq!(b["servers"].as_array().unwrap().len(), 1);
        assert!(!b.contains_key("default_server_port"));
    }

    #[test]
    fn json_patch_adds_replaces_and_removes_by_path() {
        let mut b =
            body(json!({"servers": [{"ip": {"addr": "1.1.1.1", "type": "V4"}}], "enabled": true}));
        let op = PatchOp::parse(json!({"json_patch": [
            {"op": "add", "path": "/servers/-", "value": {"ip": {"addr": "2.2.2.2", "type": "V4"}}},
            {"op": "replace", "path": "/enabled", "value": false},
            {"op": "remove", "path": "/servers/0"}
        ]}))
        .unwrap();
        apply(&mut b, &op).unwrap();
        assert_eq!(
            b["servers"],
            json!([{"ip": {"addr": "2.2.2.2", "type": "V4"}}])
        );
        assert_eq!(b["enabled"], false);
        let bad =
            PatchOp::parse(json!({"json_patch": [{"op": "remove", "path": "/nope"}]})).unwrap();
        assert_eq!(apply(&mut b, &bad).unwrap_err().status, 400);
    }

    #[test]
    fn replace_swaps_lists_and_bad_bodies_are_400() {
        let mut b = body(json!({"servers": [{"ip": {"addr": "1.1.1.1", "type": "V4"}}]}));
        apply(
            &mut b,
            &PatchOp::parse(json!({"replace": {"servers": []}})).unwrap(),
        )
        .unwrap();
        assert_eq!(b["servers"], json!([]));
        assert_eq!(PatchOp::parse(json!({"frob": {}})).unwrap_err().status, 400);
        assert_eq!(
            PatchOp::parse(json!({"add": {}, "delete": {}}))
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(PatchOp::parse(json!([1])).unwrap_err().status, 400);
    }
}
