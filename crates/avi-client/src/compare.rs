//! "Does the controller already hold what we want?" — compare only the fields we set, with
//! references compared by identity and certificates by their leaf.
//!
//! A `null` in a desired body is a field we own and want unset (see [`crate::Desired::clearing`]
//! and [`crate::Desired::clearing_each`]): it differs only while the controller holds a value
//! that means something, and a write leaves it out, which unsets it (a nested object is
//! replaced whole by its list or parent field).

use serde_json::{Map, Value};

use crate::reference::RawRef;

/// Fields that never count as a difference: the controller's own, and the key (which it never
/// returns; the certificate it must match is compared instead).
const IGNORED: &[&str] = &["uuid", "url", "_last_modified", "key"];

/// Top-level fields of `desired` whose value `existing` does not hold.
pub fn differing_fields(desired: &Value, existing: &Value) -> Vec<String> {
    let (Some(d), Some(e)) = (desired.as_object(), existing.as_object()) else {
        return vec!["<object>".to_owned()];
    };
    d.iter()
        .filter(|(k, _)| !IGNORED.contains(&k.as_str()))
        .filter(|(k, v)| {
            let held = e.get(*k);
            if v.is_null() {
                held.is_some_and(|ev| !unset_like(ev))
            } else {
                !held.is_some_and(|ev| covers(ev, v))
            }
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// What a controller shows for a field nobody set: nothing, `false`, `0`, `""` or `[]` (it
/// fills some defaults in, so their absence cannot be asked for; a pool's `server_timeout` reads
/// back as 0).
fn unset_like(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `body` without its `null`s, at any depth: what a POST sends.
pub fn without_nulls(body: &Value) -> Value {
    match body {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Whether `existing` holds every field of `desired` (recursively; lists element by element).
/// Only top-level fields are ever ignored: a nested `key` (a marker's) is data like any other.
pub fn covers(existing: &Value, desired: &Value) -> bool {
    match (existing, desired) {
        (Value::Object(e), Value::Object(d)) => d.iter().all(|(k, dv)| {
            if dv.is_null() {
                e.get(k).is_none_or(unset_like)
            } else {
                e.get(k).is_some_and(|ev| covers(ev, dv))
            }
        }),
        (Value::Array(e), Value::Array(d)) => {
            e.len() == d.len() && e.iter().zip(d).all(|(ev, dv)| covers(ev, dv))
        }
        (Value::String(e), Value::String(d)) => strings_match(e, d),
        (Value::Number(e), Value::Number(d)) => e.as_f64() == d.as_f64(),
        (e, d) => e == d,
    }
}

fn strings_match(existing: &str, desired: &str) -> bool {
    if existing == desired {
        return true;
    }
    if desired.contains("-----BEGIN CERTIFICATE-----") {
        // The controller keeps the first certificate of what it was given.
        return first_pem_block(existing) == first_pem_block(desired);
    }
    match (RawRef::parse(existing), RawRef::parse(desired)) {
        (Some(e), Some(d)) => e.same_target(&d),
        _ => false,
    }
}

fn first_pem_block(text: &str) -> String {
    let end = "-----END CERTIFICATE-----";
    let block = match text.find(end) {
        Some(i) => &text[..i + end.len()],
        None => text,
    };
    block.split_whitespace().collect()
}

/// `existing` with every field of `desired` written over it: what a PUT sends, so fields
/// another tool or the controller set survive, except those `desired` wants unset (`null`).
pub fn merge_over(existing: &Value, desired: &Value) -> Value {
    let mut out: Map<String, Value> = existing.as_object().cloned().unwrap_or_default();
    if let Some(d) = desired.as_object() {
        for (k, v) in d {
            if matches!(k.as_str(), "uuid" | "url") {
                continue;
            }
            if v.is_null() {
                out.remove(k);
            } else {
                out.insert(k.clone(), without_nulls(v));
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn controller_defaults_and_extra_fields_are_not_differences() {
        let existing = json!({"name": "p", "lb_algorithm": "LB_ALGORITHM_LEAST_CONNECTIONS",
            "servers": [{"ip": {"addr": "10.0.0.1", "type": "V4"}, "port": 80, "enabled": true, "ratio": 1}],
            "uuid": "pool-1", "_last_modified": "1"});
        let desired = json!({"name": "p", "servers": [{"ip": {"addr": "10.0.0.1", "type": "V4"}, "port": 80}]});
        assert!(differing_fields(&desired, &existing).is_empty());
        let moved = json!({"name": "p", "servers": [{"ip": {"addr": "10.0.0.2", "type": "V4"}, "port": 80}]});
        assert_eq!(differing_fields(&moved, &existing), ["servers"]);
        let fewer = json!({"name": "p", "servers": []});
        assert_eq!(differing_fields(&fewer, &existing), ["servers"]);
    }

    #[test]
    fn a_nested_null_is_a_field_of_each_element_we_want_unset() {
        let desired = json!({"name": "vs", "services": [
            {"port": 443, "enable_ssl": true, "override_application_profile_ref": null,
             "enable_http2": null}]});
        let plain = json!({"name": "vs", "services": [
            {"port": 443, "enable_ssl": true, "enable_http2": false}]});
        assert!(differing_fields(&desired, &plain).is_empty());
        let validating = json!({"name": "vs", "services": [
            {"port": 443, "enable_ssl": true,
             "override_application_profile_ref": "/api/applicationprofile/applicationprofile-1"}]});
        assert_eq!(differing_fields(&desired, &validating), ["services"]);
        // Writes leave nulls out: the element is replaced whole, which unsets the field.
        let put = merge_over(&validating, &desired);
        assert_eq!(put["services"], json!([{"port": 443, "enable_ssl": true}]));
        assert_eq!(without_nulls(&desired)["services"], put["services"]);
    }

    #[test]
    fn references_compare_by_identity() {
        let existing =
            json!({"pki_profile_ref": "https://ctrl/api/pkiprofile/pkiprofile-9#istio-pki"});
        assert!(
            differing_fields(
                &json!({"pki_profile_ref": "/api/pkiprofile/?name=istio-pki"}),
                &existing
            )
            .is_empty()
        );
        assert!(
            differing_fields(
                &json!({"pki_profile_ref": "/api/pkiprofile/pkiprofile-9"}),
                &existing
            )
            .is_empty()
        );
        assert_eq!(
            differing_fields(
                &json!({"pki_profile_ref": "/api/pkiprofile/?name=other"}),
                &existing
            ),
            ["pki_profile_ref"]
        );
    }

    #[test]
    fn certificates_compare_by_leaf_and_the_key_is_ignored() {
        let leaf = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let chain = format!("{leaf}-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n");
        let existing =
            json!({"certificate": {"certificate": leaf, "subject": {}}, "key": "<sensitive>"});
        let desired =
            json!({"certificate": {"certificate": chain}, "key": "-----BEGIN EC PRIVATE KEY-----"});
        assert!(differing_fields(&desired, &existing).is_empty());
    }

    #[test]
    fn nested_keys_are_compared() {
        let existing = json!({"markers": [{"key": "clustername", "values": ["c"]}]});
        let desired = json!({"markers": [{"key": "otherkey", "values": ["c"]}]});
        assert_eq!(differing_fields(&desired, &existing), ["markers"]);
    }

    #[test]
    fn a_field_we_own_and_want_unset_differs_only_while_it_means_something() {
        let desired = json!({"name": "p", "pki_profile_ref": null, "domain_name": null,
            "host_check_enabled": null});
        let bare = json!({"name": "p", "uuid": "pool-1"});
        assert!(differing_fields(&desired, &bare).is_empty());
        // Defaults the controller fills in are not a value anyone set.
        let defaults = json!({"name": "p", "host_check_enabled": false, "domain_name": []});
        assert!(differing_fields(&desired, &defaults).is_empty());
        let stale = json!({"name": "p", "uuid": "pool-1", "description": "operator's",
            "pki_profile_ref": "/api/pkiprofile/pkiprofile-1", "host_check_enabled": true});
        assert_eq!(
            differing_fields(&desired, &stale),
            ["host_check_enabled", "pki_profile_ref"]
        );
        // The PUT leaves them out (which unsets them) and keeps what others set.
        assert_eq!(
            merge_over(&stale, &desired),
            json!({"name": "p", "uuid": "pool-1", "description": "operator's"})
        );
        assert_eq!(without_nulls(&desired), json!({"name": "p"}));
    }

    #[test]
    fn merge_keeps_what_others_set() {
        let existing = json!({"name": "p", "uuid": "pool-1", "description": "set by an operator", "enabled": true});
        let merged = merge_over(&existing, &json!({"name": "p", "enabled": false}));
        assert_eq!(
            merged,
            json!({"name": "p", "uuid": "pool-1", "description": "set by an operator", "enabled": false})
        );
    }
}
