//! One HTTPRoute match (path AND headers AND query parameters AND method) as the Avi
//! `MatchTarget`s that select an enhanced-VH child: several targets are ORed, as a child's
//! `vh_matches[].rules` are.
//!
//! Where AKO bends the meaning, this module keeps the Gateway API's:
//! - PathPrefix is segment-wise (`/v2` matches `/v2` and `/v2/x`, never `/v2example`), so a
//!   prefix other than `/` becomes two targets: EQUALS `/v2` and BEGINS_WITH `/v2/`. AKO sends
//!   a bare BEGINS_WITH `/v2`.
//! - RegularExpression header matches cannot be expressed (Avi's `HdrMatch` has no regex
//!   criteria): they are refused with `UnsupportedValue`. AKO treats them as exact matches.
//! - Query parameters are matched on the whole query string with one regular expression (Avi
//!   has one `QueryMatch` per target): a lookahead per parameter that anchors its `name=value`
//!   pair between `&` separators, so `animal=whale` does not match `animal=whaledolphin`, and
//!   the parameters are ANDed in any order. The controller's regular expressions are PCRE.

use std::collections::BTreeSet;

use translate_core::text::printable;

use avi_client::models::{
    HdrMatch, HdrMatchCriteria, HttpMethod, MatchCase, MatchTarget, MethodMatch, PathMatch,
    PathMatchCriteria, PortMatch, QueryMatch, QueryMatchCriteria,
};
use gateway_api::httproutes::{
    HttpRouteRulesMatches, HttpRouteRulesMatchesHeadersType as HeaderType,
    HttpRouteRulesMatchesMethod as Method, HttpRouteRulesMatchesPathType as PathType,
    HttpRouteRulesMatchesQueryParamsType as QueryType,
};

/// Why a match cannot be expressed on Avi. The message is the route's `UnsupportedValue`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// A RegularExpression header match.
    #[error(
        "header match {0:?} of type RegularExpression cannot be expressed on Avi (header matches are exact only)"
    )]
    RegexHeader(String),
    /// A RegularExpression query parameter match.
    #[error(
        "query parameter match {0:?} of type RegularExpression cannot be expressed on Avi (query parameter matches are exact only)"
    )]
    RegexQueryParam(String),
    /// A header name that is not an HTTP token.
    #[error("header name \"{0}\" is not an HTTP token (RFC 9110 §5.1)")]
    HeaderName(String),
    /// A control character (CR, LF, NUL, ...) in a value that reaches the wire.
    #[error("{what} \"{value}\" holds a control character")]
    ControlCharacter {
        /// What holds it.
        what: &'static str,
        /// The value, escaped and bounded.
        value: String,
    },
    /// A path that does not start with `/`.
    #[error("path \"{0}\" does not start with '/'")]
    RelativePath(String),
    /// A RegularExpression path the Service Engine cannot or should not run.
    #[error("regular expression \"{pattern}\": {reason}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
}

/// A header name as HTTP allows it: one or more token characters.
pub fn check_header_name(name: &str) -> Result<(), Unsupported> {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(tchar) {
        return Err(Unsupported::HeaderName(printable(name)));
    }
    Ok(())
}

/// A value that goes on the wire or into an Avi match: no control character (a CR or LF would
/// split a header, a NUL ends a string on the Service Engine).
pub fn check_text(what: &'static str, value: &str) -> Result<(), Unsupported> {
    if value.chars().any(char::is_control) {
        return Err(Unsupported::ControlCharacter {
            what,
            value: printable(value),
        });
    }
    Ok(())
}

/// A RegularExpression path: it must parse, and no unbounded repetition may hold another
/// (`(a+)+$`): on a backtracking engine such as the Service Engine's PCRE, a request can make
/// it run for ever. Look-around and back-references, which PCRE has, are taken as they are.
pub fn check_regex(pattern: &str) -> Result<(), Unsupported> {
    use regex_syntax::ast::{Ast, ErrorKind, RepetitionKind, RepetitionRange};
    let refuse = |reason: String| Unsupported::Regex {
        pattern: printable(pattern),
        reason,
    };
    let ast = match regex_syntax::ast::parse::Parser::new().parse(pattern) {
        Ok(ast) => ast,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::UnsupportedLookAround | ErrorKind::UnsupportedBackreference
            ) =>
        {
            return Ok(());
        }
        Err(e) => return Err(refuse(e.kind().to_string())),
    };
    fn unbounded(k: &RepetitionKind) -> bool {
        matches!(
            k,
            RepetitionKind::ZeroOrMore
                | RepetitionKind::OneOrMore
                | RepetitionKind::Range(RepetitionRange::AtLeast(_))
        )
    }
    /// Whether `ast` holds an unbounded repetition; `inside` says one encloses it.
    fn nested(ast: &Ast, inside: bool) -> bool {
        match ast {
            Ast::Repetition(r) => {
                let u = unbounded(&r.op.kind);
                (u && inside) || nested(&r.ast, inside || u)
            }
            Ast::Group(g) => nested(&g.ast, inside),
            Ast::Alternation(a) => a.asts.iter().any(|x| nested(x, inside)),
            Ast::Concat(c) => c.asts.iter().any(|x| nested(x, inside)),
            _ => false,
        }
    }
    if nested(&ast, false) {
        return Err(refuse(
            "a repetition inside a repetition can take exponential time on the Service Engine"
                .into(),
        ));
    }
    Ok(())
}

/// The Avi targets of one HTTPRoute match, on the given listener ports. Headers named twice
/// count once (the first, as the spec says), names compared without case.
pub fn targets(m: &HttpRouteRulesMatches, ports: &[u16]) -> Result<Vec<MatchTarget>, Unsupported> {
    let mut seen = BTreeSet::new();
    let mut hdrs = Vec::new();
    for h in m.headers.iter().flatten() {
        if matches!(h.r#type, Some(HeaderType::RegularExpression)) {
            return Err(Unsupported::RegexHeader(h.name.clone()));
        }
        check_header_name(&h.name)?;
        check_text("header value", &h.value)?;
        if seen.insert(h.name.to_ascii_lowercase()) {
            hdrs.push(HdrMatch {
                hdr: h.name.clone(),
                match_criteria: HdrMatchCriteria::Equals,
                match_case: Some(MatchCase::Sensitive),
                value: vec![h.value.clone()],
                extra: Default::default(),
            });
        }
    }
    if let Some(p) = &m.path {
        let value = p.value.as_deref().unwrap_or("/");
        check_text("path", value)?;
        if matches!(p.r#type, Some(PathType::RegularExpression)) {
            check_regex(value)?;
        } else if !value.starts_with('/') {
            return Err(Unsupported::RelativePath(printable(value)));
        }
    }
    let query = query_match(m)?;
    let method = m.method.as_ref().map(|m| MethodMatch::is(method(m)));
    let vs_port = Some(PortMatch::is_in(ports.iter().copied()));
    Ok(paths(m)
        .into_iter()
        .map(|path| MatchTarget {
            path: Some(path),
            hdrs: hdrs.clone(),
            vs_port: vs_port.clone(),
            method: method.clone(),
            query: query.clone(),
            ..MatchTarget::default()
        })
        .collect())
}

fn paths(m: &HttpRouteRulesMatches) -> Vec<PathMatch> {
    let path = m.path.as_ref();
    let value = path
        .and_then(|p| p.value.clone())
        .unwrap_or_else(|| "/".into());
    match path
        .and_then(|p| p.r#type.clone())
        .unwrap_or(PathType::PathPrefix)
    {
        PathType::Exact => vec![PathMatch::new(PathMatchCriteria::Equals, [value])],
        PathType::RegularExpression => vec![PathMatch::new(PathMatchCriteria::RegexMatch, [value])],
        PathType::PathPrefix => {
            // A trailing slash in the value is ignored: `/abc/` and `/abc` are the same prefix.
            let trimmed = value.trim_end_matches('/');
            if trimmed.is_empty() {
                vec![PathMatch::new(PathMatchCriteria::BeginsWith, ["/"])]
            } else {
                vec![
                    PathMatch::new(PathMatchCriteria::Equals, [trimmed]),
                    PathMatch::new(PathMatchCriteria::BeginsWith, [format!("{trimmed}/")]),
                ]
            }
        }
    }
}

fn method(m: &Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::Get,
        Method::Head => HttpMethod::Head,
        Method::Post => HttpMethod::Post,
        Method::Put => HttpMethod::Put,
        Method::Delete => HttpMethod::Delete,
        Method::Connect => HttpMethod::Connect,
        Method::Options => HttpMethod::Options,
        Method::Trace => HttpMethod::Trace,
        Method::Patch => HttpMethod::Patch,
    }
}

fn query_match(m: &HttpRouteRulesMatches) -> Result<Option<QueryMatch>, Unsupported> {
    let mut seen = BTreeSet::new();
    let mut pairs = Vec::new();
    for q in m.query_params.iter().flatten() {
        if matches!(q.r#type, Some(QueryType::RegularExpression)) {
            return Err(Unsupported::RegexQueryParam(q.name.clone()));
        }
        check_text("query parameter name", &q.name)?;
        check_text("query parameter value", &q.value)?;
        // Names are case-sensitive; the first of a repeated name counts.
        if seen.insert(q.name.clone()) {
            pairs.push(format!(
                "{}={}",
                regex_escape(&q.name),
                regex_escape(&q.value)
            ));
        }
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    let regex: String = std::iter::once("^".to_owned())
        .chain(pairs.iter().map(|p| format!("(?=(?:.*&)?{p}(?:&|$))")))
        .collect();
    Ok(Some(QueryMatch {
        match_criteria: QueryMatchCriteria::RegexMatch,
        match_case: Some(MatchCase::Sensitive),
        match_str: vec![regex],
        extra: Default::default(),
    }))
}

/// Escapes the characters that are special in both PCRE (the controller) and RE2-style
/// engines, so a literal stays literal.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
