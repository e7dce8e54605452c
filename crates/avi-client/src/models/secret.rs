//! Secrets the controller stores: private keys, passphrases, session keys. Their `Debug` never
//! shows the value, and they have no `Display`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A secret string, e.g. a PEM private key.
///
/// It serializes to its value (a POST or PUT must carry the key) and deserializes from anything,
/// including the `"<sensitive>"` placeholder the controller returns instead of a stored key
/// (see [`SecretKey::is_placeholder`]). `Debug` prints `<redacted>`; there is no `Display`.
///
/// ```
/// use avi_client::models::SecretKey;
///
/// let key = SecretKey::new("-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n");
/// assert_eq!(format!("{key:?}"), "<redacted>");
/// assert!(serde_json::to_string(&key).unwrap().contains("BEGIN PRIVATE KEY"));
/// let read: SecretKey = serde_json::from_str(r#""<sensitive>""#).unwrap();
/// assert!(read.is_placeholder());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// What the controller returns in place of a stored key.
    pub const PLACEHOLDER: &'static str = "<sensitive>";

    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        SecretKey(value.into())
    }

    /// The controller's placeholder, `<sensitive>`.
    pub fn placeholder() -> Self {
        SecretKey(Self::PLACEHOLDER.to_owned())
    }

    /// Whether this is the controller's placeholder rather than a real value: the controller
    /// keeps the stored key when a PUT echoes the placeholder back.
    pub fn is_placeholder(&self) -> bool {
        self.0 == Self::PLACEHOLDER
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret value. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The placeholder is no secret, and telling it apart helps when reading a diff.
        if self.is_placeholder() {
            f.write_str(Self::PLACEHOLDER)
        } else {
            f.write_str("<redacted>")
        }
    }
}

impl From<String> for SecretKey {
    fn from(value: String) -> Self {
        SecretKey(value)
    }
}

impl From<&str> for SecretKey {
    fn from(value: &str) -> Self {
        SecretKey(value.to_owned())
    }
}

impl Serialize for SecretKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Anything: a string is the secret; any other JSON value is kept as its JSON text.
        Ok(match Value::deserialize(d)? {
            Value::String(s) => SecretKey(s),
            Value::Null => SecretKey(String::new()),
            other => SecretKey(other.to_string()),
        })
    }
}

/// A named pair of symmetric keys (`{"name", "aes_key", "hmac_key"}`), as in a virtual service's
/// `tls_ticket_key` or a cookie persistence profile's `key`; the keys are [`SecretKey`]s.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AesHmacKey {
    /// The key's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The AES key (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aes_key: Option<SecretKey>,
    /// The HMAC key (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac_key: Option<SecretKey>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
