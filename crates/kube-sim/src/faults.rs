//! Fault injection: error rates (429 with Retry-After, 500), latency, dropped watches and a
//! forced 410 on the next watch, per resource, deterministic under a seed.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// One rule; `resource` is the plural (`endpointslices`) or None for all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultRule {
    /// Resource plural, or any.
    pub resource: Option<String>,
    /// HTTP method (`GET`, `PATCH`...), or any. Watches are `GET`.
    pub method: Option<String>,
    /// Probability of an error answer.
    pub error_rate: f64,
    /// Its status: 429 (sent with `Retry-After: 1`) or 500 (default).
    pub status: u16,
    /// Added latency.
    pub latency_ms: u64,
    /// Stop after this many injected errors.
    pub times: Option<u64>,
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it.
    Pass,
    /// Answer with this status.
    Error(u16),
}

/// The active rules and the dice.
#[derive(Debug)]
pub struct Faults {
    rules: Vec<(FaultRule, u64)>,
    rng: StdRng,
    /// Every watch opened from now on gets 410 once (then this resets).
    pub expire_next_watch: bool,
}

impl Faults {
    /// Seeded dice, no rules.
    pub fn new(seed: u64) -> Self {
        Faults {
            rules: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            expire_next_watch: false,
        }
    }

    /// Adds a rule.
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push((rule, 0));
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
        self.expire_next_watch = false;
    }

    /// Rolls the dice for a request.
    pub fn decide(&mut self, method: &str, resource: Option<&str>) -> (Duration, Verdict) {
        let mut latency = Duration::ZERO;
        for (rule, fired) in &mut self.rules {
            let ok = rule.resource.as_deref().is_none_or(|r| Some(r) == resource)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && rule.times.is_none_or(|t| *fired < t);
            if !ok {
                continue;
            }
            latency += Duration::from_millis(rule.latency_ms);
            if rule.error_rate > 0.0 && self.rng.random_bool(rule.error_rate.clamp(0.0, 1.0)) {
                *fired += 1;
                return (
                    latency,
                    Verdict::Error(if rule.status == 0 { 500 } else { rule.status }),
                );
            }
        }
        (latency, Verdict::Pass)
    }
}
