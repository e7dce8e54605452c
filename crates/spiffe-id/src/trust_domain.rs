//! [`TrustDomain`]: the authority part of a SPIFFE ID, e.g. `cluster.local`.

use std::fmt;
use std::str::FromStr;

use crate::SpiffeIdError;

/// Longest trust domain the SPIFFE standard allows, in bytes.
pub const MAX_TRUST_DOMAIN_LEN: usize = 255;

/// A validated SPIFFE trust domain such as `cluster.local`.
///
/// Holds the bare name only (no `spiffe://`). The name is non-empty, at most
/// [`MAX_TRUST_DOMAIN_LEN`] bytes and made of `[a-z0-9._-]`; it has no
/// userinfo, port or percent-encoding. Uppercase is rejected, not lowercased.
///
/// # Examples
///
/// ```
/// use spiffe_id::{SpiffeIdError, TrustDomain};
///
/// let td = TrustDomain::new("cluster.local")?;
/// assert_eq!(td.as_str(), "cluster.local");
/// assert!(matches!(
///     TrustDomain::new("Cluster.local"),
///     Err(SpiffeIdError::UppercaseTrustDomain { ch: 'C', .. })
/// ));
/// # Ok::<(), SpiffeIdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TrustDomain(String);

impl TrustDomain {
    /// Validates `s` as a bare trust domain name (without `spiffe://`).
    ///
    /// # Errors
    ///
    /// The [`SpiffeIdError`] variant of the first broken rule:
    /// [`EmptyTrustDomain`](SpiffeIdError::EmptyTrustDomain),
    /// [`TrustDomainTooLong`](SpiffeIdError::TrustDomainTooLong),
    /// [`TrustDomainHasScheme`](SpiffeIdError::TrustDomainHasScheme),
    /// [`PercentEncodingNotAllowed`](SpiffeIdError::PercentEncodingNotAllowed),
    /// [`UserInfoNotAllowed`](SpiffeIdError::UserInfoNotAllowed),
    /// [`PortNotAllowed`](SpiffeIdError::PortNotAllowed),
    /// [`UppercaseTrustDomain`](SpiffeIdError::UppercaseTrustDomain) or
    /// [`BadTrustDomainChar`](SpiffeIdError::BadTrustDomainChar).
    ///
    /// # Examples
    ///
    /// ```
    /// use spiffe_id::{SpiffeIdError, TrustDomain};
    ///
    /// assert!(TrustDomain::new("example.org").is_ok());
    /// assert_eq!(
    ///     TrustDomain::new("spiffe://example.org"),
    ///     Err(SpiffeIdError::TrustDomainHasScheme { trust_domain: "spiffe://example.org".into() })
    /// );
    /// ```
    pub fn new(s: &str) -> Result<Self, SpiffeIdError> {
        validate(s, s)?;
        Ok(Self(s.to_owned()))
    }

    /// The trust domain name, e.g. `cluster.local`.
    ///
    /// # Examples
    ///
    /// ```
    /// let td: spiffe_id::TrustDomain = "cluster.local".parse()?;
    /// assert_eq!(td.as_str(), "cluster.local");
    /// # Ok::<(), spiffe_id::SpiffeIdError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks the trust-domain rules on `td`. `input` is the whole text being
/// parsed (the ID, or `td` itself) and is only used in error values.
pub(crate) fn validate(td: &str, input: &str) -> Result<(), SpiffeIdError> {
    if td.is_empty() {
        return Err(SpiffeIdError::EmptyTrustDomain {
            input: input.to_owned(),
        });
    }
    if td.len() > MAX_TRUST_DOMAIN_LEN {
        return Err(SpiffeIdError::TrustDomainTooLong {
            len: td.len(),
            max: MAX_TRUST_DOMAIN_LEN,
        });
    }
    if td.contains("://") {
        return Err(SpiffeIdError::TrustDomainHasScheme {
            trust_domain: td.to_owned(),
        });
    }
    if td.contains('%') {
        return Err(SpiffeIdError::PercentEncodingNotAllowed {
            input: input.to_owned(),
        });
    }
    if td.contains('@') {
        return Err(SpiffeIdError::UserInfoNotAllowed {
            trust_domain: td.to_owned(),
        });
    }
    for ch in td.chars() {
        match ch {
            'a'..='z' | '0'..='9' | '.' | '-' | '_' => {}
            ':' => {
                return Err(SpiffeIdError::PortNotAllowed {
                    trust_domain: td.to_owned(),
                });
            }
            'A'..='Z' => {
                return Err(SpiffeIdError::UppercaseTrustDomain {
                    trust_domain: td.to_owned(),
                    ch,
                });
            }
            _ => {
                return Err(SpiffeIdError::BadTrustDomainChar {
                    trust_domain: td.to_owned(),
                    ch,
                });
            }
        }
    }
    Ok(())
}

impl FromStr for TrustDomain {
    type Err = SpiffeIdError;

    /// Same as [`TrustDomain::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for TrustDomain {
    type Error = SpiffeIdError;

    /// Same as [`TrustDomain::new`].
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl AsRef<str> for TrustDomain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrustDomain {
    /// Writes the bare name, e.g. `cluster.local`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for TrustDomain {
    /// Serialises as the plain string, e.g. `"cluster.local"`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for TrustDomain {
    /// Deserialises from a plain string and validates it like
    /// [`TrustDomain::new`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        validate(&s, &s).map_err(serde::de::Error::custom)?;
        Ok(Self(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> SpiffeIdError {
        TrustDomain::new(s).unwrap_err()
    }

    #[test]
    fn accepts_typical_names() {
        for s in [
            "cluster.local",
            "example.org",
            "td",
            "a-b_c.d",
            "10.0.0.1",
            "x9",
        ] {
            assert_eq!(TrustDomain::new(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(
            err(""),
            SpiffeIdError::EmptyTrustDomain { input: "".into() }
        );
    }

    #[test]
    fn length_limit_is_255_bytes() {
        let ok = "a".repeat(255);
        assert_eq!(TrustDomain::new(&ok).unwrap().as_str(), ok);
        assert_eq!(
            err(&"a".repeat(256)),
            SpiffeIdError::TrustDomainTooLong { len: 256, max: 255 }
        );
    }

    #[test]
    fn rejects_uppercase_naming_the_char() {
        assert_eq!(
            err("cluster.Local"),
            SpiffeIdError::UppercaseTrustDomain {
                trust_domain: "cluster.Local".into(),
                ch: 'L'
            }
        );
    }

    #[test]
    fn rejects_userinfo_port_and_percent() {
        assert_eq!(
            err("user@td"),
            SpiffeIdError::UserInfoNotAllowed {
                trust_domain: "user@td".into()
            }
        );
        assert_eq!(
            err("td:8080"),
            SpiffeIdError::PortNotAllowed {
                trust_domain: "td:8080".into()
            }
        );
        assert_eq!(
            err("t%41d"),
            SpiffeIdError::PercentEncodingNotAllowed {
                input: "t%41d".into()
            }
        );
    }

    #[test]
    fn rejects_full_id_given_as_trust_domain() {
        assert_eq!(
            err("spiffe://cluster.local"),
            SpiffeIdError::TrustDomainHasScheme {
                trust_domain: "spiffe://cluster.local".into()
            }
        );
    }

    #[test]
    fn rejects_other_chars_naming_the_char() {
        for (s, ch) in [
            ("a/b", '/'),
            ("a b", ' '),
            ("[::1]", '['),
            ("tö", 'ö'),
            ("a+b", '+'),
        ] {
            assert_eq!(
                err(s),
                SpiffeIdError::BadTrustDomainChar {
                    trust_domain: s.into(),
                    ch
                },
                "{s}"
            );
        }
    }

    #[test]
    fn parses_via_from_str_and_displays_bare_name() {
        let td: TrustDomain = "cluster.local".parse().unwrap();
        assert_eq!(td.to_string(), "cluster.local");
    }

    #[test]
    fn serde_round_trip_as_plain_string() {
        let td = TrustDomain::new("cluster.local").unwrap();
        let json = serde_json::to_string(&td).unwrap();
        assert_eq!(json, "\"cluster.local\"");
        assert_eq!(serde_json::from_str::<TrustDomain>(&json).unwrap(), td);
    }

    #[test]
    fn deserialize_validates() {
        let e = serde_json::from_str::<TrustDomain>("\"Cluster.local\"").unwrap_err();
        let expected = SpiffeIdError::UppercaseTrustDomain {
            trust_domain: "Cluster.local".into(),
            ch: 'C',
        };
        assert!(e.to_string().contains(&expected.to_string()), "{e}");
        assert!(serde_json::from_str::<TrustDomain>("\"\"").is_err());
        assert!(serde_json::from_str::<TrustDomain>("42").is_err());
    }
}
