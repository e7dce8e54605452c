//! `RoleFilterMatchLabel`: the markers (labels) AKO puts on the objects it owns.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A marker, `{"key": ..., "values": [...]}` (`RoleFilterMatchLabel`); an empty `values`
/// matches any value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// The key, e.g. `clustername`.
    pub key: String,
    /// The values (any of them matches).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Marker {
    /// A marker with this key and these values.
    pub fn new<I, S>(key: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Marker {
            key: key.into(),
            values: values.into_iter().map(Into::into).collect(),
            extra: Map::new(),
        }
    }

    /// Whether this marker has `key` and lists `value`.
    pub fn matches(&self, key: &str, value: &str) -> bool {
        self.key == key && self.values.iter().any(|v| v == value)
    }
}
