//! HTTPRoute rule timeouts (`timeouts.request`, `timeouts.backendRequest`) as the
//! `server_timeout` of the rule's pools.
//!
//! Avi has one timeout per pool: a server must accept the connection, and start its response
//! once the request is sent, within `server_timeout` milliseconds, else the client gets 504.
//! Every rule has pools of its own (the rule is in the pool's name), so the timeout is per rule
//! as Gateway API asks. We do not retry requests, so the whole transaction (`request`) and one
//! attempt (`backendRequest`) are the same exchange, and the pool gets the shorter of the two.
//!
//! `0s` disables a timeout; Avi cannot switch its own off, so, as the spec says for that case,
//! it becomes the longest Avi accepts (6 hours). A rule whose timeout is longer than that is
//! refused, naming the limit: a shorter timeout than the one asked for would cut requests the
//! user allowed. Avi's clock stops at the first byte of the response; a server that starts in
//! time but then streams its body slowly is not cut off (see docs/gateway-api.md).

use gateway_api::httproutes::HttpRouteRulesTimeouts;
use translate_core::text::printable;

/// The longest `server_timeout` Avi accepts, in milliseconds (6 hours).
pub const MAX_SERVER_TIMEOUT_MS: u32 = 21_600_000;

/// Why a rule's timeouts cannot be written. The message is the route's `UnsupportedValue`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    /// Not a Gateway API duration (GEP-2257: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`).
    #[error("timeouts.{field} {value} is not a Gateway API duration such as 500ms or 1h30m")]
    NotADuration {
        /// `request` or `backendRequest`.
        field: &'static str,
        /// The value, printable and capped.
        value: String,
    },
    /// Longer than Avi's pool server timeout can be.
    #[error(
        "timeouts.{field} {value} is longer than Avi's longest pool server timeout, 6h (21600000 ms)"
    )]
    TooLong {
        /// `request` or `backendRequest`.
        field: &'static str,
        /// The value, printable and capped.
        value: String,
    },
}

/// A Gateway API duration (GEP-2257) in milliseconds: one to four groups of up to five
/// digits, each followed by `h`, `m`, `s` or `ms`. `None` for anything else (signs, fractions,
/// spaces, other units, an empty string).
pub fn parse_duration(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut groups = 0;
    let mut total: u64 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 5 {
            return None;
        }
        let n: u64 = s.get(start..i)?.parse().ok()?;
        let unit: u64 = match bytes.get(i..) {
            Some([b'm', b's', ..]) => {
                i += 2;
                1
            }
            Some([b'h', ..]) => {
                i += 1;
                3_600_000
            }
            Some([b'm', ..]) => {
                i += 1;
                60_000
            }
            Some([b's', ..]) => {
                i += 1;
                1_000
            }
            _ => return None,
        };
        groups += 1;
        if groups > 4 {
            return None;
        }
        // At most 4 × 99,999 h: far inside u64.
        total += n * unit;
    }
    (groups > 0).then_some(total)
}

/// The `server_timeout` of a rule's pools for its `timeouts`: `None` when neither is set (Avi's
/// default applies), else the shorter of the two, `0s` counting as no limit.
pub fn server_timeout(
    timeouts: Option<&HttpRouteRulesTimeouts>,
) -> Result<Option<u32>, TimeoutError> {
    let Some(t) = timeouts else {
        return Ok(None);
    };
    let mut shortest: Option<u32> = None;
    let mut any = false;
    for (field, value) in [
        ("request", t.request.as_deref()),
        ("backendRequest", t.backend_request.as_deref()),
    ] {
        let Some(value) = value else { continue };
        any = true;
        let ms = parse_duration(value).ok_or_else(|| TimeoutError::NotADuration {
            field,
            value: printable(value),
        })?;
        if ms == 0 {
            continue;
        }
        let ms = u32::try_from(ms)
            .ok()
            .filter(|ms| *ms <= MAX_SERVER_TIMEOUT_MS)
            .ok_or_else(|| TimeoutError::TooLong {
                field,
                value: printable(value),
            })?;
        shortest = Some(shortest.map_or(ms, |s| s.min(ms)));
    }
    Ok(match (any, shortest) {
        (false, _) => None,
        (true, Some(ms)) => Some(ms),
        (true, None) => Some(MAX_SERVER_TIMEOUT_MS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts(request: Option<&str>, backend: Option<&str>) -> HttpRouteRulesTimeouts {
        HttpRouteRulesTimeouts {
            request: request.map(str::to_owned),
            backend_request: backend.map(str::to_owned),
        }
    }

    #[test]
    fn durations_parse_as_gep_2257_writes_them() {
        for (s, ms) in [
            ("0s", 0),
            ("500ms", 500),
            ("1s", 1_000),
            ("1m", 60_000),
            ("1h30m", 5_400_000),
            ("1h1m1s1ms", 3_661_001),
            ("99999ms", 99_999),
            ("2s500ms", 2_500),
        ] {
            assert_eq!(parse_duration(s), Some(ms), "{s}");
        }
        for s in [
            "",
            "1",
            "ms",
            "1.5s",
            "-1s",
            "+1s",
            "1 s",
            "1S",
            "1d",
            "100000ms",
            "1h1m1s1ms1h",
            "1µs",
            "1s\n",
            "١s",
        ] {
            assert_eq!(parse_duration(s), None, "{s:?}");
        }
    }

    #[test]
    fn the_pool_gets_the_shorter_timeout_and_0s_is_the_longest_avi_has() {
        let case = |r, b| server_timeout(Some(&timeouts(r, b)));
        assert_eq!(server_timeout(None), Ok(None));
        assert_eq!(case(None, None), Ok(None));
        assert_eq!(case(Some("500ms"), None), Ok(Some(500)));
        assert_eq!(case(None, Some("2s")), Ok(Some(2_000)));
        assert_eq!(case(Some("10s"), Some("2s")), Ok(Some(2_000)));
        assert_eq!(case(Some("0s"), Some("2s")), Ok(Some(2_000)));
        assert_eq!(case(Some("1s"), Some("0s")), Ok(Some(1_000)));
        assert_eq!(case(Some("0s"), None), Ok(Some(MAX_SERVER_TIMEOUT_MS)));
        assert_eq!(case(Some("6h"), None), Ok(Some(MAX_SERVER_TIMEOUT_MS)));
    }

    #[test]
    fn what_avi_cannot_hold_is_refused_with_a_printable_value() {
        let err = server_timeout(Some(&timeouts(Some("6h1ms"), None))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "timeouts.request 6h1ms is longer than Avi's longest pool server timeout, 6h (21600000 ms)"
        );
        let err = server_timeout(Some(&timeouts(Some("1s"), Some("1s\u{1b}[2J")))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "timeouts.backendRequest 1s\\u{1b}[2J is not a Gateway API duration such as 500ms or 1h30m"
        );
        let long = "9".repeat(5_000);
        let err = server_timeout(Some(&timeouts(Some(&long), None))).unwrap_err();
        assert!(err.to_string().len() < 300);
    }
}
