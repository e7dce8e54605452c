//! `AviRef<T>`: a reference to an Avi object, by name or by uuid, compared by identity.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::form_urlencoded;

use crate::kind::Kind;
use crate::object::AviObject;

/// An untyped reference: what a reference field holds on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawRef {
    /// The target's kind.
    pub kind: Kind,
    /// The target's uuid, when known.
    pub uuid: Option<String>,
    /// The target's name, when known (`?name=` or a `#name` suffix).
    pub name: Option<String>,
}

impl RawRef {
    /// Parses any form the controller returns or accepts: `https://host/api/pool/pool-1#p`,
    /// `/api/pool/pool-1`, `/api/pool?name=p`, `/api/pool/?name=p`.
    pub fn parse(value: &str) -> Option<RawRef> {
        let at = value.find("/api/")?;
        let rest = &value[at + "/api/".len()..];
        let (rest, fragment) = match rest.split_once('#') {
            Some((r, f)) => (r, Some(f.to_owned())),
            None => (rest, None),
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        let kind = Kind::from_path(segments.next()?)?;
        let uuid = segments.next().map(str::to_owned);
        if segments.next().is_some() {
            return None;
        }
        let query_name = query.and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.into_owned())
        });
        let name = query_name.or(fragment);
        if uuid.is_none() && name.is_none() {
            return None;
        }
        Some(RawRef { kind, uuid, name })
    }

    /// Same target: same kind, and same uuid when both know it, else same name.
    pub fn same_target(&self, other: &RawRef) -> bool {
        if self.kind != other.kind {
            return false;
        }
        match (&self.uuid, &other.uuid) {
            (Some(a), Some(b)) => a == b,
            _ => self.name.is_some() && self.name == other.name,
        }
    }

    /// The form we send: by uuid when known, else by name.
    pub fn to_wire(&self) -> String {
        match (&self.uuid, &self.name) {
            (Some(uuid), _) => format!("/api/{}/{uuid}", self.kind.path()),
            (None, Some(name)) => {
                let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("name", name)
                    .finish();
                format!("/api/{}/?{q}", self.kind.path())
            }
            (None, None) => format!("/api/{}/", self.kind.path()),
        }
    }
}

/// A typed reference to an object of type `T`.
///
/// ```
/// use avi_client::{AviRef, models::PkiProfile};
///
/// let by_name = AviRef::<PkiProfile>::by_name("istio-pki");
/// assert_eq!(by_name.to_string(), "/api/pkiprofile/?name=istio-pki");
/// let returned: AviRef<PkiProfile> =
///     "https://ctrl/api/pkiprofile/pkiprofile-1#istio-pki".parse().unwrap();
/// assert_eq!(by_name, returned); // same target, compared by identity
/// ```
pub struct AviRef<T> {
    raw: RawRef,
    _kind: PhantomData<fn() -> T>,
}

impl<T: AviObject> AviRef<T> {
    /// A reference by name (resolved by the controller in the request's tenant, then admin).
    pub fn by_name(name: impl Into<String>) -> Self {
        AviRef {
            raw: RawRef {
                kind: T::KIND,
                uuid: None,
                name: Some(name.into()),
            },
            _kind: PhantomData,
        }
    }

    /// A reference by uuid.
    pub fn by_uuid(uuid: impl Into<String>) -> Self {
        AviRef {
            raw: RawRef {
                kind: T::KIND,
                uuid: Some(uuid.into()),
                name: None,
            },
            _kind: PhantomData,
        }
    }

    /// The untyped form.
    pub fn raw(&self) -> &RawRef {
        &self.raw
    }

    /// The name, when known.
    pub fn name(&self) -> Option<&str> {
        self.raw.name.as_deref()
    }

    /// The uuid, when known.
    pub fn uuid(&self) -> Option<&str> {
        self.raw.uuid.as_deref()
    }
}

/// Why a string is not a reference of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a reference to a {expected} object")]
pub struct RefParseError {
    /// The text.
    pub value: String,
    /// The kind expected.
    pub expected: Kind,
}

impl<T: AviObject> std::str::FromStr for AviRef<T> {
    type Err = RefParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match RawRef::parse(s) {
            Some(raw) if raw.kind == T::KIND => Ok(AviRef {
                raw,
                _kind: PhantomData,
            }),
            _ => Err(RefParseError {
                value: s.to_owned(),
                expected: T::KIND,
            }),
        }
    }
}

impl<T> Clone for AviRef<T> {
    fn clone(&self) -> Self {
        AviRef {
            raw: self.raw.clone(),
            _kind: PhantomData,
        }
    }
}

impl<T> PartialEq for AviRef<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw.same_target(&other.raw)
    }
}

impl<T> Eq for AviRef<T> {}

impl<T> Hash for AviRef<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Only the kind: equality may hold between a by-name and a by-uuid form.
        self.raw.kind.hash(state);
    }
}

impl<T> fmt::Debug for AviRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AviRef({})", self.raw.to_wire())?;
        if let (Some(_), Some(n)) = (&self.raw.uuid, &self.raw.name) {
            write!(f, "#{n}")?;
        }
        Ok(())
    }
}

impl<T> fmt::Display for AviRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw.to_wire())
    }
}

impl<T> Serialize for AviRef<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw.to_wire())
    }
}

impl<'de, T: AviObject> Deserialize<'de> for AviRef<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
