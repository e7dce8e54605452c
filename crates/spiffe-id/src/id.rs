//! [`SpiffeId`] and its Istio [`Principal`] form.

use std::fmt;
use std::str::FromStr;

use crate::path::{validate_path, validate_segment};
use crate::{SpiffeIdError, TrustDomain, trust_domain};

/// Longest SPIFFE ID accepted, in bytes (the standard's interoperability limit).
pub const MAX_SPIFFE_ID_LEN: usize = 2048;

const SCHEME: &str = "spiffe";
const PREFIX: &str = "spiffe://";

/// A validated SPIFFE ID: `spiffe://<trust domain><path>`.
///
/// Parsing follows `standards/SPIFFE-ID.md` strictly and never normalises:
/// the scheme must be exactly `spiffe` (lowercase), the trust domain must be
/// a valid [`TrustDomain`], the path is empty or `/`-separated non-empty
/// segments of `[A-Za-z0-9._-]` other than `.` and `..` with no trailing
/// `/`, and there is no query, fragment or percent-encoding. The whole ID is
/// at most [`MAX_SPIFFE_ID_LEN`] bytes.
///
/// Istio workload identities have the shape
/// `spiffe://<td>/ns/<namespace>/sa/<service account>`; see
/// [`namespace`](Self::namespace), [`service_account`](Self::service_account)
/// and [`principal`](Self::principal).
///
/// # Examples
///
/// ```
/// use spiffe_id::SpiffeId;
///
/// let id: SpiffeId = "spiffe://cluster.local/ns/avi-system/sa/ako-sa".parse()?;
/// assert_eq!(id.trust_domain().as_str(), "cluster.local");
/// assert_eq!(id.path(), "/ns/avi-system/sa/ako-sa");
/// assert_eq!(id.namespace(), Some("avi-system"));
/// assert_eq!(id.service_account(), Some("ako-sa"));
/// assert_eq!(id.principal().as_str(), "cluster.local/ns/avi-system/sa/ako-sa");
/// # Ok::<(), spiffe_id::SpiffeIdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct SpiffeId {
    // `id` first so that the derived ordering is the ordering of the text.
    id: String,
    trust_domain: TrustDomain,
}

impl SpiffeId {
    /// Parses and validates a SPIFFE ID. Same as [`str::parse`].
    ///
    /// # Errors
    ///
    /// The [`SpiffeIdError`] variant of the first broken rule, checked in
    /// this order: empty, length, scheme, query/fragment, percent-encoding,
    /// trust domain, path.
    ///
    /// # Examples
    ///
    /// ```
    /// use spiffe_id::{SpiffeId, SpiffeIdError};
    ///
    /// assert!(SpiffeId::new("spiffe://example.org").is_ok());
    /// assert_eq!(
    ///     SpiffeId::new("spiffe://example.org/a/"),
    ///     Err(SpiffeIdError::TrailingSlash { input: "spiffe://example.org/a/".into() })
    /// );
    /// ```
    pub fn new(s: &str) -> Result<Self, SpiffeIdError> {
        if s.is_empty() {
            return Err(SpiffeIdError::Empty);
        }
        if s.len() > MAX_SPIFFE_ID_LEN {
            return Err(SpiffeIdError::TooLong {
                len: s.len(),
                max: MAX_SPIFFE_ID_LEN,
            });
        }
        let rest = match s.split_once("://") {
            None => {
                return Err(SpiffeIdError::MissingScheme {
                    input: s.to_owned(),
                });
            }
            Some((SCHEME, rest)) => rest,
            Some((scheme, _)) => {
                return Err(SpiffeIdError::WrongScheme {
                    input: s.to_owned(),
                    scheme: scheme.to_owned(),
                });
            }
        };
        // Whichever of '?' and '#' comes first decides: a '?' after '#' is
        // part of the fragment.
        match rest.chars().find(|&c| c == '?' || c == '#') {
            Some('?') => {
                return Err(SpiffeIdError::QueryNotAllowed {
                    input: s.to_owned(),
                });
            }
            Some(_) => {
                return Err(SpiffeIdError::FragmentNotAllowed {
                    input: s.to_owned(),
                });
            }
            None => {}
        }
        if rest.contains('%') {
            return Err(SpiffeIdError::PercentEncodingNotAllowed {
                input: s.to_owned(),
            });
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        trust_domain::validate(authority, s)?;
        validate_path(path, s)?;
        Ok(Self {
            id: s.to_owned(),
            trust_domain: TrustDomain::new(authority)?,
        })
    }

    /// Builds the Istio workload identity
    /// `spiffe://<td>/ns/<namespace>/sa/<service_account>`.
    ///
    /// # Errors
    ///
    /// `namespace` and `service_account` must each be a valid path segment:
    /// [`EmptySegment`](SpiffeIdError::EmptySegment),
    /// [`DotSegment`](SpiffeIdError::DotSegment) or
    /// [`BadPathChar`](SpiffeIdError::BadPathChar) otherwise (a `/` inside
    /// either is a bad character). [`TooLong`](SpiffeIdError::TooLong) if the
    /// result would exceed [`MAX_SPIFFE_ID_LEN`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spiffe_id::{SpiffeId, SpiffeIdError, TrustDomain};
    ///
    /// let td = TrustDomain::new("cluster.local")?;
    /// let id = SpiffeId::for_service_account(&td, "avi-system", "ako-sa")?;
    /// assert_eq!(id.as_str(), "spiffe://cluster.local/ns/avi-system/sa/ako-sa");
    /// assert!(matches!(
    ///     SpiffeId::for_service_account(&td, "..", "ako-sa"),
    ///     Err(SpiffeIdError::DotSegment { .. })
    /// ));
    /// # Ok::<(), SpiffeIdError>(())
    /// ```
    pub fn for_service_account(
        td: &TrustDomain,
        namespace: &str,
        service_account: &str,
    ) -> Result<Self, SpiffeIdError> {
        validate_segment(namespace, namespace)?;
        validate_segment(service_account, service_account)?;
        let id = format!("{PREFIX}{td}/ns/{namespace}/sa/{service_account}");
        if id.len() > MAX_SPIFFE_ID_LEN {
            return Err(SpiffeIdError::TooLong {
                len: id.len(),
                max: MAX_SPIFFE_ID_LEN,
            });
        }
        Ok(Self {
            id,
            trust_domain: td.clone(),
        })
    }

    /// The trust domain, e.g. `cluster.local`.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = spiffe_id::SpiffeId::new("spiffe://example.org/web")?;
    /// assert_eq!(id.trust_domain().as_str(), "example.org");
    /// # Ok::<(), spiffe_id::SpiffeIdError>(())
    /// ```
    pub fn trust_domain(&self) -> &TrustDomain {
        &self.trust_domain
    }

    /// The path: `""` for a trust-domain ID, otherwise it starts with `/`,
    /// e.g. `/ns/default/sa/web`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spiffe_id::SpiffeId;
    ///
    /// assert_eq!(SpiffeId::new("spiffe://example.org")?.path(), "");
    /// assert_eq!(SpiffeId::new("spiffe://example.org/a/b")?.path(), "/a/b");
    /// # Ok::<(), spiffe_id::SpiffeIdError>(())
    /// ```
    pub fn path(&self) -> &str {
        self.id
            .get(PREFIX.len() + self.trust_domain.as_str().len()..)
            .unwrap_or_default()
    }

    /// The whole ID, e.g. `spiffe://cluster.local/ns/default/sa/web`.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = spiffe_id::SpiffeId::new("spiffe://example.org/web")?;
    /// assert_eq!(id.as_str(), "spiffe://example.org/web");
    /// # Ok::<(), spiffe_id::SpiffeIdError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The namespace, if the path has exactly the Istio shape
    /// `/ns/<namespace>/sa/<service account>`; `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use spiffe_id::SpiffeId;
    ///
    /// let id = SpiffeId::new("spiffe://cluster.local/ns/shop/sa/cart")?;
    /// assert_eq!(id.namespace(), Some("shop"));
    /// assert_eq!(SpiffeId::new("spiffe://cluster.local/ns/shop")?.namespace(), None);
    /// # Ok::<(), spiffe_id::SpiffeIdError>(())
    /// ```
    pub fn namespace(&self) -> Option<&str> {
        self.istio_parts().map(|(ns, _)| ns)
    }

    /// The service account, if the path has exactly the Istio shape
    /// `/ns/<namespace>/sa/<service account>`; `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use spiffe_id::SpiffeId;
    ///
    /// let id = SpiffeId::new("spiffe://cluster.local/ns/shop/sa/cart")?;
    /// assert_eq!(id.service_account(), Some("cart"));
    /// assert_eq!(SpiffeId::new("spiffe://cluster.local/sa/cart")?.service_account(), None);
    /// # Ok::<(), spiffe_id::SpiffeIdError>(())
    /// ```
    pub fn service_account(&self) -> Option<&str> {
        self.istio_parts().map(|(_, sa)| sa)
    }

    /// The Istio principal: the ID without `spiffe://`, i.e.
    /// `<trust domain><path>`. This is what Istio `AuthorizationPolicy`
    /// `principals` lists contain.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = spiffe_id::SpiffeId::new("spiffe://cluster.local/ns/x/sa/y")?;
    /// assert_eq!(id.principal().to_string(), "cluster.local/ns/x/sa/y");
    /// # Ok::<(), spiffe_id::SpiffeIdError>(())
    /// ```
    pub fn principal(&self) -> Principal {
        Principal(self.id.strip_prefix(PREFIX).unwrap_or(&self.id).to_owned())
    }

    fn istio_parts(&self) -> Option<(&str, &str)> {
        let mut segments = self.path().strip_prefix('/')?.split('/');
        match (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) {
            (Some("ns"), Some(ns), Some("sa"), Some(sa), None) => Some((ns, sa)),
            _ => None,
        }
    }
}

impl FromStr for SpiffeId {
    type Err = SpiffeIdError;

    /// Same as [`SpiffeId::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for SpiffeId {
    type Error = SpiffeIdError;

    /// Same as [`SpiffeId::new`].
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl AsRef<str> for SpiffeId {
    fn as_ref(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for SpiffeId {
    /// Writes the whole ID, e.g. `spiffe://cluster.local/ns/a/sa/b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl serde::Serialize for SpiffeId {
    /// Serialises as the plain string `spiffe://...`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.id)
    }
}

impl<'de> serde::Deserialize<'de> for SpiffeId {
    /// Deserialises from a plain string, validated like [`SpiffeId::new`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

/// An Istio principal: a SPIFFE ID without its `spiffe://` prefix, e.g.
/// `cluster.local/ns/avi-system/sa/ako-sa`.
///
/// This is the form Istio `AuthorizationPolicy` `principals` use. It can
/// only be obtained from a valid [`SpiffeId`] (see [`SpiffeId::principal`]),
/// so it is always well formed.
///
/// # Examples
///
/// ```
/// use spiffe_id::{Principal, SpiffeId};
///
/// let id = SpiffeId::new("spiffe://cluster.local/ns/avi-system/sa/ako-sa")?;
/// let principal: Principal = id.principal();
/// assert_eq!(principal.as_str(), "cluster.local/ns/avi-system/sa/ako-sa");
/// # Ok::<(), spiffe_id::SpiffeIdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Principal(String);

impl Principal {
    /// The principal text, e.g. `cluster.local/ns/x/sa/y`.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = spiffe_id::SpiffeId::new("spiffe://td/ns/x/sa/y")?;
    /// assert_eq!(id.principal().as_str(), "td/ns/x/sa/y");
    /// # Ok::<(), spiffe_id::SpiffeIdError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&SpiffeId> for Principal {
    /// Same as [`SpiffeId::principal`].
    fn from(id: &SpiffeId) -> Self {
        id.principal()
    }
}

impl AsRef<str> for Principal {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Principal {
    /// Writes the principal text, e.g. `cluster.local/ns/x/sa/y`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Principal {
    /// Serialises as the plain string, e.g. `"cluster.local/ns/x/sa/y"`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> SpiffeIdError {
        SpiffeId::new(s).unwrap_err()
    }

    fn td(s: &str) -> TrustDomain {
        TrustDomain::new(s).unwrap()
    }

    // ---- accepted ----

    #[test]
    fn accepts_istio_workload_id() {
        let id =
            SpiffeId::new("spiffe://cluster.local/ns/default/sa/bookinfo-productpage").unwrap();
        assert_eq!(
            id.as_str(),
            "spiffe://cluster.local/ns/default/sa/bookinfo-productpage"
        );
        assert_eq!(id.trust_domain(), &td("cluster.local"));
        assert_eq!(id.path(), "/ns/default/sa/bookinfo-productpage");
    }

    #[test]
    fn accepts_trust_domain_id_with_empty_path() {
        let id = SpiffeId::new("spiffe://td").unwrap();
        assert_eq!(id.path(), "");
        assert_eq!(id.trust_domain().as_str(), "td");
        assert_eq!(id.as_str(), "spiffe://td");
    }

    #[test]
    fn accepts_all_allowed_path_chars_and_keeps_case() {
        let id = SpiffeId::new("spiffe://example.org/Az09._-/...").unwrap();
        assert_eq!(id.path(), "/Az09._-/...");
    }

    #[test]
    fn accepts_ipv4_trust_domain() {
        assert_eq!(
            SpiffeId::new("spiffe://10.0.0.1/x")
                .unwrap()
                .trust_domain()
                .as_str(),
            "10.0.0.1"
        );
    }

    // ---- overall shape ----

    #[test]
    fn rejects_empty() {
        assert_eq!(err(""), SpiffeIdError::Empty);
    }

    #[test]
    fn length_limit_is_2048_bytes() {
        let prefix = "spiffe://td/";
        let ok = format!("{prefix}{}", "a".repeat(2048 - prefix.len()));
        assert_eq!(ok.len(), 2048);
        assert_eq!(SpiffeId::new(&ok).unwrap().as_str(), ok);

        let long = format!("{ok}b");
        assert_eq!(
            err(&long),
            SpiffeIdError::TooLong {
                len: 2049,
                max: 2048
            }
        );
    }

    #[test]
    fn rejects_missing_scheme() {
        assert_eq!(
            err("cluster.local/ns/a/sa/b"),
            SpiffeIdError::MissingScheme {
                input: "cluster.local/ns/a/sa/b".into()
            }
        );
        assert_eq!(
            err("spiffe:/td/a"),
            SpiffeIdError::MissingScheme {
                input: "spiffe:/td/a".into()
            }
        );
    }

    #[test]
    fn rejects_other_schemes() {
        for (input, scheme) in [
            ("http://td/a", "http"),
            ("https://td/a", "https"),
            ("SPIFFE://td/a", "SPIFFE"),
            ("Spiffe://td/a", "Spiffe"),
            ("://td/a", ""),
        ] {
            assert_eq!(
                err(input),
                SpiffeIdError::WrongScheme {
                    input: input.into(),
                    scheme: scheme.into()
                },
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_query() {
        assert_eq!(
            err("spiffe://td/a?q"),
            SpiffeIdError::QueryNotAllowed {
                input: "spiffe://td/a?q".into()
            }
        );
        assert_eq!(
            err("spiffe://td?q=1"),
            SpiffeIdError::QueryNotAllowed {
                input: "spiffe://td?q=1".into()
            }
        );
    }

    #[test]
    fn rejects_fragment() {
        assert_eq!(
            err("spiffe://td/a#f"),
            SpiffeIdError::FragmentNotAllowed {
                input: "spiffe://td/a#f".into()
            }
        );
        // '?' after '#' belongs to the fragment.
        assert_eq!(
            err("spiffe://td/a#f?q"),
            SpiffeIdError::FragmentNotAllowed {
                input: "spiffe://td/a#f?q".into()
            }
        );
    }

    #[test]
    fn rejects_percent_encoding_in_path_and_trust_domain() {
        assert_eq!(
            err("spiffe://td/%41"),
            SpiffeIdError::PercentEncodingNotAllowed {
                input: "spiffe://td/%41".into()
            }
        );
        assert_eq!(
            err("spiffe://t%41d/a"),
            SpiffeIdError::PercentEncodingNotAllowed {
                input: "spiffe://t%41d/a".into()
            }
        );
    }

    // ---- trust domain ----

    #[test]
    fn rejects_empty_trust_domain() {
        assert_eq!(
            err("spiffe://"),
            SpiffeIdError::EmptyTrustDomain {
                input: "spiffe://".into()
            }
        );
        assert_eq!(
            err("spiffe:///ns/a/sa/b"),
            SpiffeIdError::EmptyTrustDomain {
                input: "spiffe:///ns/a/sa/b".into()
            }
        );
    }

    #[test]
    fn rejects_uppercase_trust_domain() {
        assert_eq!(
            err("spiffe://Cluster.local/ns/a/sa/b"),
            SpiffeIdError::UppercaseTrustDomain {
                trust_domain: "Cluster.local".into(),
                ch: 'C'
            }
        );
    }

    #[test]
    fn trust_domain_length_255_ok_256_rejected() {
        let ok = format!("spiffe://{}/a", "t".repeat(255));
        assert_eq!(
            SpiffeId::new(&ok).unwrap().trust_domain().as_str().len(),
            255
        );
        assert_eq!(
            err(&format!("spiffe://{}/a", "t".repeat(256))),
            SpiffeIdError::TrustDomainTooLong { len: 256, max: 255 }
        );
    }

    #[test]
    fn rejects_port() {
        assert_eq!(
            err("spiffe://td:8080/a"),
            SpiffeIdError::PortNotAllowed {
                trust_domain: "td:8080".into()
            }
        );
    }

    #[test]
    fn rejects_userinfo() {
        assert_eq!(
            err("spiffe://user@td/a"),
            SpiffeIdError::UserInfoNotAllowed {
                trust_domain: "user@td".into()
            }
        );
        assert_eq!(
            err("spiffe://user:pw@td/a"),
            SpiffeIdError::UserInfoNotAllowed {
                trust_domain: "user:pw@td".into()
            }
        );
    }

    #[test]
    fn rejects_bad_trust_domain_chars() {
        for (input, trust_domain, ch) in [
            ("spiffe://[::1]/a", "[::1]", '['),
            ("spiffe://t+d/a", "t+d", '+'),
            ("spiffe://tö/a", "tö", 'ö'),
        ] {
            assert_eq!(
                err(input),
                SpiffeIdError::BadTrustDomainChar {
                    trust_domain: trust_domain.into(),
                    ch
                },
                "{input}"
            );
        }
    }

    // ---- path ----

    #[test]
    fn rejects_trailing_slash() {
        assert_eq!(
            err("spiffe://td/"),
            SpiffeIdError::TrailingSlash {
                input: "spiffe://td/".into()
            }
        );
        assert_eq!(
            err("spiffe://td/ns/a/"),
            SpiffeIdError::TrailingSlash {
                input: "spiffe://td/ns/a/".into()
            }
        );
    }

    #[test]
    fn rejects_empty_segment() {
        assert_eq!(
            err("spiffe://td//a"),
            SpiffeIdError::EmptySegment { path: "//a".into() }
        );
        assert_eq!(
            err("spiffe://td/a//b"),
            SpiffeIdError::EmptySegment {
                path: "/a//b".into()
            }
        );
    }

    #[test]
    fn rejects_dot_segments() {
        assert_eq!(
            err("spiffe://td/a/./b"),
            SpiffeIdError::DotSegment {
                path: "/a/./b".into(),
                segment: ".".into()
            }
        );
        assert_eq!(
            err("spiffe://td/a/../b"),
            SpiffeIdError::DotSegment {
                path: "/a/../b".into(),
                segment: "..".into()
            }
        );
        assert_eq!(
            err("spiffe://td/.."),
            SpiffeIdError::DotSegment {
                path: "/..".into(),
                segment: "..".into()
            }
        );
    }

    #[test]
    fn rejects_bad_path_chars() {
        for (input, segment, ch) in [
            ("spiffe://td/a b", "a b", ' '),
            ("spiffe://td/ns/a:b", "a:b", ':'),
            ("spiffe://td/user@x", "user@x", '@'),
            ("spiffe://td/ä", "ä", 'ä'),
            ("spiffe://td/a+b", "a+b", '+'),
        ] {
            assert_eq!(
                err(input),
                SpiffeIdError::BadPathChar {
                    segment: segment.into(),
                    ch
                },
                "{input}"
            );
        }
    }

    // ---- Istio helpers ----

    #[test]
    fn istio_shape_helpers() {
        let id = SpiffeId::new("spiffe://cluster.local/ns/avi-system/sa/ako-sa").unwrap();
        assert_eq!(id.namespace(), Some("avi-system"));
        assert_eq!(id.service_account(), Some("ako-sa"));
    }

    #[test]
    fn istio_shape_helpers_none_for_other_paths() {
        for s in [
            "spiffe://td",
            "spiffe://td/ns/a",
            "spiffe://td/ns/a/sa",
            "spiffe://td/foo/bar/baz/qux",
            "spiffe://td/ns/a/sa/b/extra",
            "spiffe://td/x/ns/a/sa/b",
            "spiffe://td/NS/a/SA/b",
            "spiffe://td/ns/a/xx/b",
        ] {
            let id = SpiffeId::new(s).unwrap();
            assert_eq!(id.namespace(), None, "{s}");
            assert_eq!(id.service_account(), None, "{s}");
        }
    }

    #[test]
    fn principal_is_id_without_scheme() {
        let id = SpiffeId::new("spiffe://cluster.local/ns/x/sa/y").unwrap();
        let p = id.principal();
        assert_eq!(p.as_str(), "cluster.local/ns/x/sa/y");
        assert_eq!(p.to_string(), "cluster.local/ns/x/sa/y");
        assert_eq!(Principal::from(&id), p);
        assert_eq!(
            SpiffeId::new("spiffe://td").unwrap().principal().as_str(),
            "td"
        );
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            "\"cluster.local/ns/x/sa/y\""
        );
    }

    #[test]
    fn for_service_account_builds_istio_id() {
        let id =
            SpiffeId::for_service_account(&td("cluster.local"), "avi-system", "ako-sa").unwrap();
        assert_eq!(
            id.as_str(),
            "spiffe://cluster.local/ns/avi-system/sa/ako-sa"
        );
        assert_eq!(id.namespace(), Some("avi-system"));
        assert_eq!(id.service_account(), Some("ako-sa"));
        // Same value as parsing the text.
        assert_eq!(id, SpiffeId::new(id.as_str()).unwrap());
    }

    #[test]
    fn for_service_account_validates_segments() {
        let td = td("cluster.local");
        assert_eq!(
            SpiffeId::for_service_account(&td, "", "sa").unwrap_err(),
            SpiffeIdError::EmptySegment { path: "".into() }
        );
        assert_eq!(
            SpiffeId::for_service_account(&td, "ns", "..").unwrap_err(),
            SpiffeIdError::DotSegment {
                path: "..".into(),
                segment: "..".into()
            }
        );
        assert_eq!(
            SpiffeId::for_service_account(&td, "a/b", "sa").unwrap_err(),
            SpiffeIdError::BadPathChar {
                segment: "a/b".into(),
                ch: '/'
            }
        );
        assert_eq!(
            SpiffeId::for_service_account(&td, "ns", "s?a").unwrap_err(),
            SpiffeIdError::BadPathChar {
                segment: "s?a".into(),
                ch: '?'
            }
        );
    }

    #[test]
    fn for_service_account_enforces_total_length() {
        let td = td("cluster.local");
        // "spiffe://cluster.local/ns/" + ns + "/sa/" + "x" = 9 + 13 + 4 + ns + 4 + 1
        let fixed = "spiffe://cluster.local/ns//sa/x".len();
        let ns = "n".repeat(2048 - fixed);
        assert_eq!(
            SpiffeId::for_service_account(&td, &ns, "x")
                .unwrap()
                .as_str()
                .len(),
            2048
        );
        let ns = "n".repeat(2049 - fixed);
        assert_eq!(
            SpiffeId::for_service_account(&td, &ns, "x").unwrap_err(),
            SpiffeIdError::TooLong {
                len: 2049,
                max: 2048
            }
        );
    }

    // ---- traits ----

    #[test]
    fn from_str_display_round_trip() {
        let s = "spiffe://example.org/a/b";
        let id: SpiffeId = s.parse().unwrap();
        assert_eq!(id.to_string(), s);
        assert_eq!(SpiffeId::try_from(s).unwrap(), id);
    }

    #[test]
    fn ordering_follows_text() {
        let a = SpiffeId::new("spiffe://a/z").unwrap();
        let b = SpiffeId::new("spiffe://b/a").unwrap();
        assert!(a < b);
    }

    #[test]
    fn serde_round_trip_as_plain_string() {
        let id = SpiffeId::new("spiffe://cluster.local/ns/a/sa/b").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"spiffe://cluster.local/ns/a/sa/b\"");
        let back: SpiffeId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert_eq!(back.namespace(), Some("a"));
    }

    #[test]
    fn deserialize_rejects_invalid_ids() {
        for (json, expected) in [
            (
                "\"spiffe://td/\"",
                SpiffeIdError::TrailingSlash {
                    input: "spiffe://td/".into(),
                },
            ),
            (
                "\"http://td/a\"",
                SpiffeIdError::WrongScheme {
                    input: "http://td/a".into(),
                    scheme: "http".into(),
                },
            ),
            (
                "\"spiffe://TD/a\"",
                SpiffeIdError::UppercaseTrustDomain {
                    trust_domain: "TD".into(),
                    ch: 'T',
                },
            ),
        ] {
            let e = serde_json::from_str::<SpiffeId>(json).unwrap_err();
            assert!(e.to_string().contains(&expected.to_string()), "{json}: {e}");
        }
        assert!(serde_json::from_str::<SpiffeId>("17").is_err());
    }
}
