//! Hostname rules of the Gateway API: listener and route hostname intersection.
//!
//! Everything here is a pure function of its arguments. References are to
//! `reference/gateway-api.md`.
//!
//! * [`Hostname`] is the API's `Hostname` type (§1.1, §2.3): an exact name (`foo.example.com`)
//!   or a wildcard (`*.example.com`). Parsing follows the CRD validation exactly (length
//!   1..=253, pattern `^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
//!   plus the field documentation's "IPs are not allowed".
//! * [`Hostname::matches`] matches a request `Host` (or SNI) against a hostname: the port is
//!   ignored, a wildcard matches one **or more** labels and never the bare domain (§1.1, §2.3).
//! * [`intersect`] computes the hostnames a route gets on one listener, or `None` when they do
//!   not intersect (§2.2 step 3 ⇒ `NoMatchingListenerHostname`, §2.3).
//! * [`Hostname::specificity`], [`most_specific`] order hostnames from most to least specific:
//!   exact, then wildcards by the number of labels right of `*`, then unset (§1.3, listener
//!   isolation). The same order is the cross-route hostname precedence of §2.3/§3.2 step 1.
//! * [`check_https_authority`] is the HTTPS misdirected-request rule (421/404) of §1.3.
//!
//! # Case
//!
//! DNS names are case-insensitive, but the API only admits lowercase (the CRD pattern is
//! `[a-z0-9]`), so a [`Hostname`] is lowercase by construction and parsing rejects uppercase
//! with [`HostnameErrorReason::Uppercase`] rather than silently lowercasing: an object the API
//! server would have refused is reported, not repaired. Request hosts are client input and are
//! compared ASCII case-insensitively (`Foo.Example.COM` matches `foo.example.com`).
//!
//! # Sorting virtual hosts
//!
//! An unset hostname is `None` and `Option<Specificity>` orders `None` first, so
//! `sort_by_key(|h| std::cmp::Reverse(h.map(Hostname::specificity)))` lists a port's hostnames
//! in the order requests must be matched against them (§7 item 1).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest hostname the API accepts (CRD `MaxLength=253`).
pub const MAX_HOSTNAME_LEN: usize = 253;

const WILDCARD_PREFIX: &str = "*.";

/// A hostname as the Gateway API allows it in `listener.hostname` and `HTTPRoute.spec.hostnames`.
///
/// Either exact (`foo.example.com`) or a wildcard (`*.example.com`, the `*` being a whole first
/// label). Always valid and lowercase; built with [`FromStr`] / [`TryFrom`], serialized as its
/// string. `Ord` is plain string order (deterministic, not specificity: see
/// [`Hostname::specificity`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Hostname(String);

/// Why a string is not a valid Gateway API hostname.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid hostname {input:?}: {reason}")]
pub struct InvalidHostname {
    /// The rejected input, as given.
    pub input: String,
    /// The first rule it breaks.
    pub reason: HostnameErrorReason,
}

/// The rule an [`InvalidHostname`] breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostnameErrorReason {
    /// The empty string (CRD `MinLength=1`).
    #[error("it is empty")]
    Empty,
    /// Longer than [`MAX_HOSTNAME_LEN`] characters (CRD `MaxLength=253`).
    #[error("it is {len} characters long, at most 253 are allowed")]
    TooLong {
        /// Length of the input in characters.
        len: usize,
    },
    /// `*` anywhere but as the whole first label followed by `.`.
    #[error("`*` is only allowed as the whole first label, as in `*.example.com`")]
    MisplacedWildcard,
    /// A leading, trailing or doubled `.` (also `*.` with nothing after it).
    #[error("it has an empty label (leading, trailing or consecutive `.`)")]
    EmptyLabel,
    /// An uppercase ASCII letter: the API only admits lowercase hostnames.
    #[error("it contains uppercase {ch:?}; hostnames must be lowercase")]
    Uppercase {
        /// The offending character.
        ch: char,
    },
    /// A character outside `a-z`, `0-9`, `-`, `.` (e.g. `_`, `:`, non-ASCII).
    #[error("it contains {ch:?}; only a-z, 0-9, '-' and '.' are allowed")]
    InvalidCharacter {
        /// The offending character.
        ch: char,
    },
    /// A label starting or ending with `-`.
    #[error("label {label:?} must start and end with a letter or digit")]
    HyphenAtLabelEdge {
        /// The offending label.
        label: String,
    },
    /// A dotted-quad IPv4 address: "IPs are not allowed" (§1.1, §2.3). IPv6 addresses are
    /// already excluded by the character set.
    #[error("it is an IP address; only DNS names are allowed")]
    IpAddress,
}

impl Hostname {
    /// The hostname as written, e.g. `*.example.com`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a wildcard (`*.example.com`).
    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with(WILDCARD_PREFIX)
    }

    /// The name without its wildcard label: `example.com` for `*.example.com`; the whole name for
    /// an exact hostname.
    pub fn domain(&self) -> &str {
        self.0.strip_prefix(WILDCARD_PREFIX).unwrap_or(&self.0)
    }

    /// Whether a request's `Host` header (or TLS SNI) matches this hostname (§1.1, §2.3).
    ///
    /// * Any `:port` suffix is ignored ([`host_without_port`]).
    /// * Comparison is ASCII case-insensitive.
    /// * An exact hostname matches only itself.
    /// * `*.example.com` matches one or more labels in place of `*` (`foo.example.com`,
    ///   `foo.bar.example.com`) but not `example.com` nor `fooexample.com`.
    /// * A host with an empty label never matches: this includes a fully-qualified `example.com.`
    ///   (the spec says nothing about a trailing dot; it is not treated as the same name).
    /// * Nor does a host with a character other than ASCII letters, digits, `-`, `_` and `.`
    ///   (a `Host` header carries internationalized names in their `xn--` form), nor an IP
    ///   address (`10.0.0.1` does not match `*.0.1`): only an unset hostname matches those.
    pub fn matches(&self, host: &str) -> bool {
        let host = host_without_port(host);
        if host.parse::<Ipv4Addr>().is_ok() {
            return false;
        }
        let host = host.as_bytes();
        let dns_like = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
        if !host.iter().all(dns_like) || host.split(|b| *b == b'.').any(<[u8]>::is_empty) {
            return false;
        }
        let domain = self.domain().as_bytes();
        if self.is_wildcard() {
            is_below(host, domain)
        } else {
            host.eq_ignore_ascii_case(domain)
        }
    }

    /// Whether every host matched by `other` is matched by `self`.
    ///
    /// An exact name covers only itself; `*.example.com` covers the exact names it matches and
    /// the wildcards at or below it (`*.example.com`, `*.foo.example.com`), never `example.com`.
    pub fn covers(&self, other: &Hostname) -> bool {
        match (self.is_wildcard(), other.is_wildcard()) {
            (false, false) => self == other,
            (false, true) => false,
            (true, false) => is_below(other.as_str().as_bytes(), self.domain().as_bytes()),
            (true, true) => {
                let (mine, theirs) = (self.domain().as_bytes(), other.domain().as_bytes());
                mine == theirs || is_below(theirs, mine)
            }
        }
    }

    /// The intersection of two hostnames, or `None` when no host matches both (§2.3).
    ///
    /// It is always one of the two: the more specific one, i.e. the one the other
    /// [covers](Hostname::covers). So an exact listener with a route `*.example.com` that matches
    /// it yields the listener name, a wildcard listener with an exact route name under it yields
    /// the route name, and `*.com` with `*.example.com` yields `*.example.com`. Symmetric:
    /// `a.intersection(b) == b.intersection(a)`.
    pub fn intersection(&self, other: &Hostname) -> Option<Hostname> {
        if self.covers(other) {
            Some(other.clone())
        } else if other.covers(self) {
            Some(self.clone())
        } else {
            None
        }
    }

    /// Whether some host matches both hostnames (the `OverlappingHostnames` reason of the
    /// `OverlappingTLSConfig` listener condition, §1.3: `foo.example.com` overlaps
    /// `*.example.com`, `foo.example.org` overlaps neither). Whether an *unset* listener hostname
    /// overlaps is left to the caller (the spec does not say).
    pub fn overlaps(&self, other: &Hostname) -> bool {
        self.intersection(other).is_some()
    }

    /// How specific this hostname is; greater means more specific (§1.3).
    ///
    /// Exact names are more specific than wildcards; among wildcards, more labels right of `*`
    /// is more specific (`*.foo.example.com` > `*.example.com`). An unset hostname is `None`,
    /// which `Option`'s order puts below every `Some`. For hostnames that all match one request
    /// host this is also the §2.3 cross-route precedence (more characters in a matching exact
    /// hostname, then in a matching hostname).
    pub fn specificity(&self) -> Specificity {
        let domain = self.domain();
        Specificity {
            exact: !self.is_wildcard(),
            labels: domain.split('.').count(),
            len: domain.len(),
        }
    }
}

/// The ordering key returned by [`Hostname::specificity`]: greater is more specific.
///
/// Only the order is meaningful. Two different hostnames that match the same request host never
/// compare equal; unrelated hostnames are ordered deterministically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Specificity {
    exact: bool,
    labels: usize,
    len: usize,
}

impl FromStr for Hostname {
    type Err = InvalidHostname;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        validate(s).map_err(|reason| InvalidHostname {
            input: s.to_owned(),
            reason,
        })?;
        Ok(Hostname(s.to_owned()))
    }
}

impl TryFrom<String> for Hostname {
    type Error = InvalidHostname;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        match validate(&s) {
            Ok(()) => Ok(Hostname(s)),
            Err(reason) => Err(InvalidHostname { input: s, reason }),
        }
    }
}

impl TryFrom<&str> for Hostname {
    type Error = InvalidHostname;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Hostname> for String {
    fn from(h: Hostname) -> String {
        h.0
    }
}

impl AsRef<str> for Hostname {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `name` is one or more labels, a `.`, then `domain` (ASCII case-insensitive), i.e.
/// whether `*.<domain>` matches `name`. `name` must have no empty label.
fn is_below(name: &[u8], domain: &[u8]) -> bool {
    match name.len().checked_sub(domain.len() + 1) {
        Some(dot) if dot > 0 => {
            name.get(dot) == Some(&b'.')
                && name
                    .get(dot + 1..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(domain))
        }
        _ => false,
    }
}

fn validate(s: &str) -> Result<(), HostnameErrorReason> {
    if s.is_empty() {
        return Err(HostnameErrorReason::Empty);
    }
    let len = s.chars().count();
    if len > MAX_HOSTNAME_LEN {
        return Err(HostnameErrorReason::TooLong { len });
    }
    let (wildcard, domain) = match s.strip_prefix(WILDCARD_PREFIX) {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if domain.contains('*') {
        return Err(HostnameErrorReason::MisplacedWildcard);
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(HostnameErrorReason::EmptyLabel);
        }
        if let Some(ch) = label
            .chars()
            .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '-'))
        {
            return Err(if ch.is_ascii_uppercase() {
                HostnameErrorReason::Uppercase { ch }
            } else {
                HostnameErrorReason::InvalidCharacter { ch }
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(HostnameErrorReason::HyphenAtLabelEdge {
                label: label.to_owned(),
            });
        }
    }
    if !wildcard && domain.parse::<Ipv4Addr>().is_ok() {
        return Err(HostnameErrorReason::IpAddress);
    }
    Ok(())
}

/// The host part of an HTTP authority (`Host` header value): drops a trailing `:port` (digits
/// only, possibly none). An IPv6 literal keeps its brackets (`[::1]:8080` → `[::1]`). Routes match
/// on this, while the header itself is forwarded unmodified (§2.3).
pub fn host_without_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => authority.get(..=end).unwrap_or(authority),
            None => authority,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// The hostnames a route has on one listener (§2.3): what [`intersect`] returns when the route
/// may attach.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EffectiveHostnames {
    /// Neither the listener nor the route restricts hostnames: every request host matches,
    /// including ones that are not DNS names (an IP address, an empty `Host`).
    Any,
    /// Only these hostnames (never empty; sorted by [`Hostname`]'s `Ord`, no duplicates).
    Only(Vec<Hostname>),
}

impl EffectiveHostnames {
    /// Whether a request `Host` is served by the route on this listener.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            EffectiveHostnames::Any => true,
            EffectiveHostnames::Only(hostnames) => hostnames.iter().any(|h| h.matches(host)),
        }
    }

    /// The hostnames, or an empty slice for [`EffectiveHostnames::Any`].
    pub fn hostnames(&self) -> &[Hostname] {
        match self {
            EffectiveHostnames::Any => &[],
            EffectiveHostnames::Only(hostnames) => hostnames,
        }
    }

    /// Whether this is [`EffectiveHostnames::Any`].
    pub fn is_any(&self) -> bool {
        matches!(self, EffectiveHostnames::Any)
    }
}

/// Intersects a listener's hostname (`None` = unset, matches all) with a route's `hostnames`
/// (empty = all), §2.3.
///
/// * Listener unset, route without hostnames → [`EffectiveHostnames::Any`].
/// * Listener unset → the route's hostnames.
/// * Route without hostnames → the listener's hostname.
/// * Both set → each route hostname is replaced by its [intersection](Hostname::intersection)
///   with the listener's, and route hostnames that do not intersect are dropped ("MUST be
///   ignored"): `test.example.com` listener + `*.example.com` route → `test.example.com`;
///   `*.example.com` listener + `foo.test.example.com` route → `foo.test.example.com`;
///   `*.example.com` listener + `*.com` route → `*.example.com`.
///
/// Returns `None` when nothing is left: the route cannot attach to this listener, and if no
/// candidate listener is left its parent gets `Accepted=False` reason
/// `NoMatchingListenerHostname` (§2.2 step 3).
pub fn intersect(listener: Option<&Hostname>, route: &[Hostname]) -> Option<EffectiveHostnames> {
    let mut hostnames: Vec<Hostname> = match (listener, route) {
        (None, []) => return Some(EffectiveHostnames::Any),
        (Some(listener), []) => vec![listener.clone()],
        (None, route) => route.to_vec(),
        (Some(listener), route) => route
            .iter()
            .filter_map(|h| listener.intersection(h))
            .collect(),
    };
    if hostnames.is_empty() {
        return None;
    }
    hostnames.sort();
    hostnames.dedup();
    Some(EffectiveHostnames::Only(hostnames))
}

/// Which listener a request host belongs to (§1.3, listener isolation): among the listeners
/// whose hostname matches `host` (an unset hostname matches every host), the most
/// [specific](Hostname::specificity) one — exact before wildcard, a wildcard with more labels
/// right of `*` before one with fewer, unset last.
///
/// `listeners` are the hostnames of the listeners sharing one port and protocol, in order; the
/// result is an index into them, `None` when no listener matches (the request gets a 404). Ties
/// (indistinct listeners, which the caller should have rejected as conflicted, §1.2) go to the
/// first.
pub fn most_specific<'a, I>(listeners: I, host: &str) -> Option<usize>
where
    I: IntoIterator<Item = Option<&'a Hostname>>,
{
    let mut best: Option<(usize, Option<Specificity>)> = None;
    for (index, listener) in listeners.into_iter().enumerate() {
        if listener.is_some_and(|h| !h.matches(host)) {
            continue;
        }
        let specificity = listener.map(Hostname::specificity);
        if best.is_none_or(|(_, best)| specificity > best) {
            best = Some((index, specificity));
        }
    }
    best.map(|(index, _)| index)
}

/// What an HTTPS listener selected by SNI does with a request's `Host` (§1.3, GEP-3567).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorityCheck {
    /// The SNI-selected listener is the most specific one matching the host: serve the request.
    Serve,
    /// Another listener on the port matches the host more specifically, or the selected one does
    /// not match it while another does: the Gateway SHOULD answer 421 Misdirected Request.
    Misdirected,
    /// No listener on the port matches the host: the Gateway MUST answer 404.
    NotFound,
}

/// Applies the HTTPS misdirected-request rules (§1.3) to a request whose TLS handshake selected
/// listener `sni_listener` (an index into `listeners`, the hostnames of all listeners on the same
/// port and protocol) and whose authority is `host`.
pub fn check_https_authority<'a, I>(listeners: I, sni_listener: usize, host: &str) -> AuthorityCheck
where
    I: IntoIterator<Item = Option<&'a Hostname>>,
{
    let listeners: Vec<Option<&Hostname>> = listeners.into_iter().collect();
    let Some(best) = most_specific(listeners.iter().copied(), host) else {
        return AuthorityCheck::NotFound;
    };
    let specificity = |index: usize| listeners.get(index).map(|l| l.map(Hostname::specificity));
    let selected = listeners.get(sni_listener).copied();
    let selected_matches = selected.is_some_and(|l| l.is_none_or(|h| h.matches(host)));
    if selected_matches && specificity(sni_listener) >= specificity(best) {
        AuthorityCheck::Serve
    } else {
        AuthorityCheck::Misdirected
    }
}

#[cfg(test)]
mod tests;
