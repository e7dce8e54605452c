//! References as clients write them, in every form the controller accepts.

use url::form_urlencoded;

/// A reference as written by a client, before it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefSpec {
    /// `…/api/<type>/<uuid>[#name]`.
    Uuid {
        /// URL type.
        ty: String,
        /// The uuid.
        uuid: String,
    },
    /// `/api/<type>?name=<name>` or `/api/<type>/?name=<name>`.
    Name {
        /// URL type.
        ty: String,
        /// The name, URL-decoded.
        name: String,
    },
}

impl RefSpec {
    /// The URL type the reference points into.
    pub fn ty(&self) -> &str {
        match self {
            RefSpec::Uuid { ty, .. } | RefSpec::Name { ty, .. } => ty,
        }
    }
}

/// Parses a reference: a full URL (any host) or a path, with or without `#name`.
pub fn parse(value: &str) -> Option<RefSpec> {
    let at = value.find("/api/")?;
    let rest = &value[at + "/api/".len()..];
    let rest = rest.split('#').next().unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let ty = segments.next()?.to_owned();
    let second = segments.next();
    if segments.next().is_some() {
        return None;
    }
    match (second, query) {
        (Some(uuid), None) => Some(RefSpec::Uuid {
            ty,
            uuid: uuid.to_owned(),
        }),
        (None, Some(q)) => form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "name")
            .map(|(_, name)| RefSpec::Name {
                ty,
                name: name.into_owned(),
            }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uuid(ty: &str, u: &str) -> Option<RefSpec> {
        Some(RefSpec::Uuid {
            ty: ty.into(),
            uuid: u.into(),
        })
    }
    fn name(ty: &str, n: &str) -> Option<RefSpec> {
        Some(RefSpec::Name {
            ty: ty.into(),
            name: n.into(),
        })
    }

    #[test]
    fn every_form_the_controller_accepts() {
        assert_eq!(
            parse("https://10.1.1.1:9443/api/pool/pool-1#p"),
            uuid("pool", "pool-1")
        );
        assert_eq!(parse("https://avi/api/pool/pool-1"), uuid("pool", "pool-1"));
        assert_eq!(parse("/api/pool/pool-1"), uuid("pool", "pool-1"));
        assert_eq!(parse("/api/pkiprofile?name=x"), name("pkiprofile", "x"));
        assert_eq!(
            parse("/api/pkiprofile/?name=a%20b"),
            name("pkiprofile", "a b")
        );
        assert_eq!(parse("/api/tenant/?name=admin"), name("tenant", "admin"));
        assert_eq!(parse("pool-1"), None);
        assert_eq!(parse("/api/pool"), None);
        assert_eq!(parse("/api/pool/a/b"), None);
    }
}
