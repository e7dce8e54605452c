//! [`SpiffeIdError`]: why a string is not a SPIFFE ID or trust domain.

/// Why a string was rejected as a [`SpiffeId`](crate::SpiffeId) or
/// [`TrustDomain`](crate::TrustDomain).
///
/// There is one variant per rule of the SPIFFE ID standard
/// (`standards/SPIFFE-ID.md`). Nothing is ever normalised: an input that
/// breaks a rule is rejected, and the variant carries the offending text so
/// an operator can see exactly what was wrong.
///
/// # Examples
///
/// ```
/// use spiffe_id::{SpiffeId, SpiffeIdError};
///
/// let err = SpiffeId::new("spiffe://cluster.local:8080/ns/a/sa/b").unwrap_err();
/// assert_eq!(
///     err,
///     SpiffeIdError::PortNotAllowed { trust_domain: "cluster.local:8080".into() }
/// );
/// assert_eq!(
///     err.to_string(),
///     "trust domain \"cluster.local:8080\" has a port (':'); SPIFFE trust domains must not"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpiffeIdError {
    /// The input was the empty string.
    #[error("SPIFFE ID is empty")]
    Empty,

    /// The whole ID is longer than the 2048 bytes the standard allows.
    #[error("SPIFFE ID is {len} bytes long; the maximum is {max} bytes")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// The limit, 2048.
        max: usize,
    },

    /// The input has no `scheme://` prefix at all.
    #[error("{input:?} has no scheme; a SPIFFE ID must start with \"spiffe://\"")]
    MissingScheme {
        /// The rejected input.
        input: String,
    },

    /// The input has a scheme other than exactly `spiffe` (lowercase).
    #[error("{input:?} has scheme {scheme:?}; a SPIFFE ID must start with \"spiffe://\"")]
    WrongScheme {
        /// The rejected input.
        input: String,
        /// The scheme found before `://`.
        scheme: String,
    },

    /// The input contains a query (`?`).
    #[error("SPIFFE ID {input:?} has a query ('?'); SPIFFE IDs must not")]
    QueryNotAllowed {
        /// The rejected input.
        input: String,
    },

    /// The input contains a fragment (`#`).
    #[error("SPIFFE ID {input:?} has a fragment ('#'); SPIFFE IDs must not")]
    FragmentNotAllowed {
        /// The rejected input.
        input: String,
    },

    /// The input contains a `%`, i.e. percent-encoding.
    #[error("{input:?} contains percent-encoding ('%'); SPIFFE IDs must not")]
    PercentEncodingNotAllowed {
        /// The rejected input.
        input: String,
    },

    /// The trust domain is empty (`spiffe://` or `spiffe:///path`).
    #[error("{input:?} has an empty trust domain")]
    EmptyTrustDomain {
        /// The rejected input.
        input: String,
    },

    /// The trust domain is longer than 255 bytes.
    #[error("trust domain is {len} bytes long; the maximum is {max} bytes")]
    TrustDomainTooLong {
        /// Length of the trust domain in bytes.
        len: usize,
        /// The limit, 255.
        max: usize,
    },

    /// A bare trust domain was expected but the text has a scheme, e.g.
    /// `spiffe://cluster.local` given to [`TrustDomain::new`](crate::TrustDomain::new).
    #[error(
        "trust domain {trust_domain:?} includes a scheme; give the bare name, e.g. \"cluster.local\""
    )]
    TrustDomainHasScheme {
        /// The rejected text.
        trust_domain: String,
    },

    /// The trust domain contains userinfo (`user@`).
    #[error("trust domain {trust_domain:?} has userinfo ('@'); SPIFFE trust domains must not")]
    UserInfoNotAllowed {
        /// The rejected trust domain (URI authority).
        trust_domain: String,
    },

    /// The trust domain contains a port (`:`).
    #[error("trust domain {trust_domain:?} has a port (':'); SPIFFE trust domains must not")]
    PortNotAllowed {
        /// The rejected trust domain (URI authority).
        trust_domain: String,
    },

    /// The trust domain contains an uppercase ASCII letter. Trust domains
    /// must be lowercase; this crate rejects rather than lowercases.
    #[error(
        "trust domain {trust_domain:?} contains uppercase {ch:?}; trust domains must be lowercase"
    )]
    UppercaseTrustDomain {
        /// The rejected trust domain.
        trust_domain: String,
        /// The first uppercase character.
        ch: char,
    },

    /// The trust domain contains a character outside `[a-z0-9._-]`.
    #[error(
        "trust domain {trust_domain:?} contains {ch:?}; only a-z, 0-9, '.', '-' and '_' are allowed"
    )]
    BadTrustDomainChar {
        /// The rejected trust domain.
        trust_domain: String,
        /// The first character that is not allowed.
        ch: char,
    },

    /// The path ends with `/` (including the bare path `/`).
    #[error("SPIFFE ID {input:?} ends with '/'; trailing slashes are not allowed")]
    TrailingSlash {
        /// The rejected input.
        input: String,
    },

    /// The path has an empty segment (`//`), or a service-account helper was
    /// given an empty namespace or name.
    #[error("path {path:?} has an empty segment")]
    EmptySegment {
        /// The path (or the lone segment) that was rejected.
        path: String,
    },

    /// A path segment is `.` or `..`.
    #[error("path {path:?} has the relative segment {segment:?}; '.' and '..' are not allowed")]
    DotSegment {
        /// The path (or the lone segment) that was rejected.
        path: String,
        /// The offending segment, `.` or `..`.
        segment: String,
    },

    /// A path segment contains a character outside `[A-Za-z0-9._-]`.
    #[error(
        "path segment {segment:?} contains {ch:?}; only A-Z, a-z, 0-9, '.', '-' and '_' are allowed"
    )]
    BadPathChar {
        /// The offending segment.
        segment: String,
        /// The first character that is not allowed.
        ch: char,
    },
}
