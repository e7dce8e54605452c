//! Who owns an object. Most kinds carry `created_by`; VsVip, SSLProfile, HealthMonitor,
//! ApplicationPersistenceProfile, Cloud and VrfContext have no such field on the controller
//! (30.2.1 schema; it is dropped), so ownership is written as the marker
//! `{"key": "created_by", "values": [owner]}`, as AKO does for objects without the field.

use serde_json::{Value, json};

use crate::kind::Kind;

/// The marker key that stands in for `created_by`.
pub const OWNER_MARKER: &str = "created_by";

impl Kind {
    /// Whether the controller keeps a `created_by` field for this kind.
    pub const fn has_created_by(self) -> bool {
        !matches!(
            self,
            Kind::VsVip
                | Kind::SslProfile
                | Kind::HealthMonitor
                | Kind::ApplicationPersistenceProfile
                | Kind::Cloud
                | Kind::VrfContext
        )
    }
}

/// The owner recorded on an object, in whichever form its kind uses.
pub fn owner_of(kind: Kind, body: &Value) -> Option<String> {
    if kind.has_created_by() {
        return body
            .get("created_by")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    body.get("markers")?
        .as_array()?
        .iter()
        .find(|m| m.get("key").and_then(Value::as_str) == Some(OWNER_MARKER))?
        .get("values")?
        .as_array()?
        .first()?
        .as_str()
        .map(str::to_owned)
}

/// Rewrites a body we are about to send so its owner is recorded in the form the kind keeps.
pub fn normalize(kind: Kind, body: &mut Value) {
    if kind.has_created_by() {
        return;
    }
    let Some(map) = body.as_object_mut() else {
        return;
    };
    let Some(owner) = map
        .remove("created_by")
        .and_then(|v| v.as_str().map(str::to_owned))
    else {
        return;
    };
    let markers = map
        .entry("markers")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = markers {
        list.retain(|m| m.get("key").and_then(Value::as_str) != Some(OWNER_MARKER));
        list.push(json!({"key": OWNER_MARKER, "values": [owner]}));
    }
}

/// The list query selecting objects of `owner`.
pub fn owner_query(kind: Kind, owner: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if kind.has_created_by() {
        q.append_pair("created_by", owner);
    } else {
        q.append_pair("label_key", OWNER_MARKER)
            .append_pair("label_value", owner);
    }
    q.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vsvip_ownership_lives_in_a_marker() {
        let mut body = json!({"name": "vip", "created_by": "ako-c", "markers": [{"key": "clustername", "values": ["c"]}]});
        normalize(Kind::VsVip, &mut body);
        assert!(body.get("created_by").is_none());
        assert_eq!(owner_of(Kind::VsVip, &body).as_deref(), Some("ako-c"));
        assert_eq!(body["markers"].as_array().unwrap().len(), 2);
        assert_eq!(
            owner_query(Kind::VsVip, "ako-c"),
            "label_key=created_by&label_value=ako-c"
        );
        let mut pool = json!({"name": "p", "created_by": "ako-c"});
        normalize(Kind::Pool, &mut pool);
        assert_eq!(owner_of(Kind::Pool, &pool).as_deref(), Some("ako-c"));
        assert_eq!(owner_query(Kind::Pool, "ako-c"), "created_by=ako-c");
    }
}
