//! Fault injection (errors, latency, connection resets per method and type, deterministic under
//! a seed) and the request journal (a log and counters per method, type and status).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// One fault rule. A request matching `method` and `object_type` (None matches all) rolls the
/// dice: with `reset_rate` the connection is dropped without an answer, else with `error_rate`
/// it gets `status`; in every case it is delayed by `latency_ms` first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultRule {
    /// HTTP method (`GET`, `PUT`, ...), or any.
    pub method: Option<String>,
    /// Object type (`pool`), `login`, or any.
    pub object_type: Option<String>,
    /// Probability of an error answer, 0..=1.
    pub error_rate: f64,
    /// Status of the error answer (500, 502, 503, 403, 419, ...).
    pub status: u16,
    /// Message of the error answer; a status-specific default if absent.
    pub message: Option<String>,
    /// Added latency.
    pub latency_ms: u64,
    /// Probability of a connection reset, 0..=1.
    pub reset_rate: f64,
    /// Stop matching after this many faults were injected.
    pub times: Option<u64>,
    /// Serve the request first, then reset or answer the error: the write happened but the
    /// client never learns it (a lost answer).
    pub after_commit: bool,
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it normally.
    Pass,
    /// Answer with this error.
    Error(u16, String),
    /// Drop the connection.
    Reset,
    /// Serve the request, then drop the connection instead of answering.
    ResetAfterCommit,
    /// Serve the request, then answer this error instead.
    ErrorAfterCommit(u16, String),
}

/// The active rules and their dice.
#[derive(Debug)]
pub struct Faults {
    rules: Vec<(FaultRule, u64)>,
    rng: StdRng,
}

impl Faults {
    /// No rules; dice seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Faults {
            rules: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Adds a rule.
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push((rule, 0));
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The rules and how many faults each injected.
    pub fn rules(&self) -> Vec<(FaultRule, u64)> {
        self.rules.clone()
    }

    /// Decides the fate of a request and its added latency.
    pub fn decide(&mut self, method: &str, object_type: Option<&str>) -> (Duration, Verdict) {
        let mut latency = Duration::ZERO;
        for (rule, fired) in &mut self.rules {
            let method_ok = rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method));
            let type_ok = rule
                .object_type
                .as_deref()
                .is_none_or(|t| Some(t) == object_type);
            let budget_ok = rule.times.is_none_or(|t| *fired < t);
            if !(method_ok && type_ok && budget_ok) {
                continue;
            }
            latency += Duration::from_millis(rule.latency_ms);
            if rule.reset_rate > 0.0 && self.rng.random_bool(rule.reset_rate.clamp(0.0, 1.0)) {
                *fired += 1;
                let v = if rule.after_commit {
                    Verdict::ResetAfterCommit
                } else {
                    Verdict::Reset
                };
                return (latency, v);
            }
            if rule.error_rate > 0.0 && self.rng.random_bool(rule.error_rate.clamp(0.0, 1.0)) {
                *fired += 1;
                let status = if rule.status == 0 { 500 } else { rule.status };
                let message = rule
                    .message
                    .clone()
                    .unwrap_or_else(|| default_message(status).to_owned());
                let v = if rule.after_commit {
                    Verdict::ErrorAfterCommit(status, message)
                } else {
                    Verdict::Error(status, message)
                };
                return (latency, v);
            }
        }
        (latency, Verdict::Pass)
    }
}

fn default_message(status: u16) -> &'static str {
    match status {
        403 => "Configuration is disallowed during upgrade",
        419 => "Session expired",
        502 => "Bad Gateway",
        503 => "Controller is not ready",
        _ => "Internal server error",
    }
}

/// One served request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Object type, when the path is `/api/<type>...`.
    pub object_type: Option<String>,
    /// Tenant header as sent.
    pub tenant: Option<String>,
    /// Status answered (0 for a reset connection).
    pub status: u16,
}

/// A counter row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counter {
    /// Method.
    pub method: String,
    /// Object type (`-` when none).
    pub object_type: String,
    /// Status (0 for a reset).
    pub status: u16,
    /// Requests.
    pub count: u64,
}

/// Request log (bounded) and counters.
#[derive(Debug)]
pub struct Journal {
    log: VecDeque<LogEntry>,
    capacity: usize,
    counters: BTreeMap<(String, String, u16), u64>,
}

impl Journal {
    /// Keeps the last `capacity` requests.
    pub fn new(capacity: usize) -> Self {
        Journal {
            log: VecDeque::new(),
            capacity,
            counters: BTreeMap::new(),
        }
    }

    /// Records a request.
    pub fn record(&mut self, entry: LogEntry) {
        let key = (
            entry.method.clone(),
            entry.object_type.clone().unwrap_or_else(|| "-".to_owned()),
            entry.status,
        );
        *self.counters.entry(key).or_default() += 1;
        if self.capacity > 0 {
            if self.log.len() == self.capacity {
                self.log.pop_front();
            }
            self.log.push_back(entry);
        }
    }

    /// The log, oldest first.
    pub fn log(&self) -> Vec<LogEntry> {
        self.log.iter().cloned().collect()
    }

    /// Every counter.
    pub fn counters(&self) -> Vec<Counter> {
        self.counters
            .iter()
            .map(|((m, t, s), c)| Counter {
                method: m.clone(),
                object_type: t.clone(),
                status: *s,
                count: *c,
            })
            .collect()
    }

    /// Requests with this method and type (any status when `status` is None).
    pub fn count(&self, method: &str, object_type: &str, status: Option<u16>) -> u64 {
        self.counters
            .iter()
            .filter(|((m, t, s), _)| {
                m == method && t == object_type && status.is_none_or(|x| x == *s)
            })
            .map(|(_, c)| c)
            .sum()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.log.clear();
        self.counters.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_are_deterministic_under_a_seed() {
        let rule = FaultRule {
            error_rate: 0.5,
            status: 503,
            ..FaultRule::default()
        };
        let roll = |seed| {
            let mut f = Faults::new(seed);
            f.add(rule.clone());
            (0..64)
                .map(|_| f.decide("GET", Some("pool")).1 != Verdict::Pass)
                .collect::<Vec<_>>()
        };
        assert_eq!(roll(7), roll(7));
        assert_ne!(roll(7), roll(8));
        let hits = roll(7).iter().filter(|h| **h).count();
        assert!((16..=48).contains(&hits), "{hits}");
    }

    #[test]
    fn rules_match_method_type_and_budget() {
        let mut f = Faults::new(1);
        f.add(FaultRule {
            method: Some("PUT".into()),
            object_type: Some("pool".into()),
            error_rate: 1.0,
            status: 403,
            times: Some(2),
            ..FaultRule::default()
        });
        assert_eq!(f.decide("GET", Some("pool")).1, Verdict::Pass);
        assert_eq!(f.decide("PUT", Some("vsvip")).1, Verdict::Pass);
        let upgrade = Verdict::Error(403, "Configuration is disallowed during upgrade".into());
        assert_eq!(f.decide("PUT", Some("pool")).1, upgrade);
        assert_eq!(f.decide("put", Some("pool")).1, upgrade);
        assert_eq!(f.decide("PUT", Some("pool")).1, Verdict::Pass);
    }

    #[test]
    fn journal_counts_and_bounds_its_log() {
        let mut j = Journal::new(2);
        for status in [200, 200, 404] {
            j.record(LogEntry {
                method: "GET".into(),
                path: "/api/pool".into(),
                object_type: Some("pool".into()),
                tenant: None,
                status,
            });
        }
        assert_eq!(j.count("GET", "pool", None), 3);
        assert_eq!(j.count("GET", "pool", Some(404)), 1);
        assert_eq!(j.log().len(), 2);
    }
}
