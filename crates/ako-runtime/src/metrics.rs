//! The Prometheus metrics both binaries export on `/metrics` (OpenMetrics text format).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `ako_istio_cert_expiry_timestamp_seconds` | gauge | — |
//! | `ako_istio_cert_not_before_timestamp_seconds` | gauge | — |
//! | `ako_istio_rotations_total` | counter | — |
//! | `ako_istio_validation_failures_total` | counter | `reason` |
//! | `ako_avi_requests_total` | counter | `method`, `type`, `code` |
//! | `ako_avi_request_duration_seconds` | histogram | `method`, `type` |
//! | `ako_reconcile_total` | counter | `result` |
//! | `ako_reconcile_duration_seconds` | histogram | `result` |
//! | `ako_leader` | gauge | — |
//!
//! ```
//! use std::time::Duration;
//! use ako_runtime::metrics::{Metrics, ReconcileResult};
//!
//! let metrics = Metrics::new();
//! metrics.avi_request("PUT", "pool", Some(200), Duration::from_millis(40));
//! metrics.reconcile(ReconcileResult::Success, Duration::from_millis(120));
//! let text = metrics.encode();
//! assert!(text.contains(r#"ako_avi_requests_total{method="PUT",type="pool",code="200"} 1"#));
//! assert!(text.ends_with("# EOF\n"));
//! ```

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency buckets in seconds, from 5 ms to 60 s (Avi calls and reconciles both fit).
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// How one reconcile ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReconcileResult {
    /// Everything was applied.
    Success,
    /// Something failed; it will be retried.
    Error,
}

impl ReconcileResult {
    /// The label value: `success` or `error`. (A standby replica does not reconcile at all:
    /// `ako_leader` says which replica leads.)
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileResult::Success => "success",
            ReconcileResult::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AviRequestLabels {
    method: String,
    r#type: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AviKindLabels {
    method: String,
    r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

struct Inner {
    registry: Registry,
    cert_expiry: Gauge,
    cert_not_before: Gauge,
    rotations: Counter,
    validation_failures: Family<ReasonLabels, Counter>,
    avi_requests: Family<AviRequestLabels, Counter>,
    avi_request_duration: HistogramFamily<AviKindLabels>,
    reconciles: Family<ResultLabels, Counter>,
    reconcile_duration: HistogramFamily<ResultLabels>,
    leader: Gauge,
}

/// The registry and every metric family. Cheap to clone: clones share the same counters.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every family registered (and at zero).
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let cert_expiry = Gauge::default();
        registry.register(
            "ako_istio_cert_expiry_timestamp_seconds",
            "Not-after of the published Istio workload certificate, in seconds since the epoch",
            cert_expiry.clone(),
        );
        // With the not-after, the lifetime: alerts on the fraction left need no assumed TTL.
        let cert_not_before = Gauge::default();
        registry.register(
            "ako_istio_cert_not_before_timestamp_seconds",
            "Not-before of the published Istio workload certificate, in seconds since the epoch",
            cert_not_before.clone(),
        );
        // prometheus-client adds `_total` to counters.
        let rotations = Counter::default();
        registry.register(
            "ako_istio_rotations",
            "Istio certificate sets published after a rotation",
            rotations.clone(),
        );
        let validation_failures = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "ako_istio_validation_failures",
            "Istio certificate sets rejected, by reason",
            validation_failures.clone(),
        );
        let avi_requests = Family::<AviRequestLabels, Counter>::default();
        registry.register(
            "ako_avi_requests",
            "Avi Controller API requests, by method, object type and HTTP status",
            avi_requests.clone(),
        );
        let avi_request_duration: HistogramFamily<AviKindLabels> =
            Family::new_with_constructor(duration_histogram);
        registry.register(
            "ako_avi_request_duration_seconds",
            "Latency of Avi Controller API requests",
            avi_request_duration.clone(),
        );
        let reconciles = Family::<ResultLabels, Counter>::default();
        registry.register("ako_reconcile", "Reconciles, by result", reconciles.clone());
        let reconcile_duration: HistogramFamily<ResultLabels> =
            Family::new_with_constructor(duration_histogram);
        registry.register(
            "ako_reconcile_duration_seconds",
            "Duration of reconciles",
            reconcile_duration.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "ako_leader",
            "1 while this replica holds the leader Lease, else 0",
            leader.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                cert_expiry,
                cert_not_before,
                rotations,
                validation_failures,
                avi_requests,
                avi_request_duration,
                reconciles,
                reconcile_duration,
                leader,
            }),
        }
    }

    /// Records the not-after of the certificate now published, in seconds since the epoch.
    pub fn cert_expiry(&self, not_after_unix_seconds: i64) {
        self.inner.cert_expiry.set(not_after_unix_seconds);
    }

    /// Records the not-before of the certificate now published, in seconds since the epoch.
    pub fn cert_not_before(&self, not_before_unix_seconds: i64) {
        self.inner.cert_not_before.set(not_before_unix_seconds);
    }

    /// Counts one rotation: a new certificate set published.
    pub fn rotation(&self) {
        self.inner.rotations.inc();
    }

    /// Counts one rejected certificate set. `reason` is a short, fixed word such as
    /// `key_mismatch` or `expired` (a label value, so keep the set small; never a file's content).
    pub fn validation_failure(&self, reason: &str) {
        self.inner
            .validation_failures
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts one Avi API call and its latency. `kind` is the object type (`pool`,
    /// `virtualservice`...), `code` the HTTP status or `None` when no response came back
    /// (label `code="none"`).
    pub fn avi_request(&self, method: &str, kind: &str, code: Option<u16>, duration: Duration) {
        let code = code.map_or_else(|| "none".to_owned(), |c| c.to_string());
        self.inner
            .avi_requests
            .get_or_create(&AviRequestLabels {
                method: method.to_owned(),
                r#type: kind.to_owned(),
                code,
            })
            .inc();
        self.inner
            .avi_request_duration
            .get_or_create(&AviKindLabels {
                method: method.to_owned(),
                r#type: kind.to_owned(),
            })
            .observe(duration.as_secs_f64());
    }

    /// Counts one reconcile and its duration.
    pub fn reconcile(&self, result: ReconcileResult, duration: Duration) {
        let labels = ResultLabels {
            result: result.as_str(),
        };
        self.inner.reconciles.get_or_create(&labels).inc();
        self.inner
            .reconcile_duration
            .get_or_create(&labels)
            .observe(duration.as_secs_f64());
    }

    /// Records whether this replica leads.
    pub fn leader(&self, leading: bool) {
        self.inner.leader.set(i64::from(leading));
    }

    /// The whole registry in the OpenMetrics text format (served as [`CONTENT_TYPE`]),
    /// ending with `# EOF`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.inner.registry).is_err() {
            // Writing to a String cannot fail; keep the output well-formed regardless.
            out.clear();
            out.push_str("# EOF\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_exported_with_its_labels() {
        let m = Metrics::new();
        m.cert_expiry(1_800_000_000);
        m.cert_not_before(1_799_913_600);
        m.rotation();
        m.rotation();
        m.validation_failure("key_mismatch");
        m.avi_request("GET", "pool", Some(200), Duration::from_millis(30));
        m.avi_request("PUT", "pkiprofile", None, Duration::from_secs(2));
        m.reconcile(ReconcileResult::Success, Duration::from_millis(100));
        m.reconcile(ReconcileResult::Error, Duration::from_millis(7));
        m.leader(true);
        let text = m.clone().encode();
        for line in [
            "# TYPE ako_istio_cert_expiry_timestamp_seconds gauge",
            "ako_istio_cert_expiry_timestamp_seconds 1800000000",
            "# TYPE ako_istio_cert_not_before_timestamp_seconds gauge",
            "ako_istio_cert_not_before_timestamp_seconds 1799913600",
            "# TYPE ako_istio_rotations counter",
            "ako_istio_rotations_total 2",
            r#"ako_istio_validation_failures_total{reason="key_mismatch"} 1"#,
            r#"ako_avi_requests_total{method="GET",type="pool",code="200"} 1"#,
            r#"ako_avi_requests_total{method="PUT",type="pkiprofile",code="none"} 1"#,
            "# TYPE ako_avi_request_duration_seconds histogram",
            r#"ako_avi_request_duration_seconds_bucket{le="0.05",method="GET",type="pool"} 1"#,
            r#"ako_avi_request_duration_seconds_count{method="PUT",type="pkiprofile"} 1"#,
            r#"ako_reconcile_total{result="success"} 1"#,
            r#"ako_reconcile_total{result="error"} 1"#,
            r#"ako_reconcile_duration_seconds_count{result="success"} 1"#,
            "ako_leader 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} not in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn clones_share_counters() {
        let a = Metrics::new();
        let b = a.clone();
        b.rotation();
        assert!(a.encode().contains("ako_istio_rotations_total 1\n"));
    }
}
