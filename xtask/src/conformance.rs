//! The Gateway API conformance report (`cargo xtask conformance`), in the upstream
//! `ConformanceReport` format.
//!
//! The suite's facts come from upstream v1.5.1, committed beside our conformance tests:
//! `tests/conformance/suite-v1.5.1.json` (every conformance test: ShortName, features,
//! manifests, provisional, mesh) and `features-v1.5.1.json` (feature sets and profiles). Our
//! side is `gateway_translate::features::SUPPORTED` (also `GatewayClass.status.supportedFeatures`)
//! and our conformance tests, one per upstream test, named after its ShortName in snake case:
//! a plain name is the test itself, `…_deviation` says where we differ, `…_is_refused` that we
//! refuse its feature with a reason.
//!
//! Attribution follows the suite (`reports.go`): a test counts in each profile whose core and
//! extended features cover all of its own; it is extended there if any of its features is
//! outside the profile's core; it runs only if every feature it needs is supported or core.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// Where the suite's facts are, relative to the workspace root.
pub const SUITE: &str = "crates/gateway-translate/tests/conformance/suite-v1.5.1.json";
/// The feature sets and profiles.
pub const FEATURES: &str = "crates/gateway-translate/tests/conformance/features-v1.5.1.json";
/// Our conformance tests.
pub const TESTS: &[&str] = &[
    "crates/gateway-translate/tests/conformance_answered.rs",
    "crates/gateway-translate/tests/conformance_backend_tls.rs",
    "crates/gateway-translate/tests/conformance_datascripts.rs",
    "crates/gateway-translate/tests/conformance_extended.rs",
    "crates/gateway-translate/tests/conformance_frontend.rs",
    "crates/gateway-translate/tests/conformance_gateway.rs",
    "crates/gateway-translate/tests/conformance_grpc.rs",
    "crates/gateway-translate/tests/conformance_listener_set.rs",
    "crates/gateway-translate/tests/conformance_routes.rs",
    "crates/gateway-translate/tests/conformance_tls.rs",
];
/// The committed report.
pub const REPORT: &str = "docs/conformance/standard-v1.5.1-default-report.yaml";

/// One upstream conformance test.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuiteTest {
    /// Its ShortName.
    pub short_name: String,
    /// The features it needs.
    pub features: Vec<String>,
    /// Its manifests.
    pub manifests: Vec<String>,
    /// Provisional tests run unless skipped; a pass is listed apart.
    pub provisional: bool,
    /// Mesh tests are not part of a Gateway report.
    pub mesh: bool,
}

/// A conformance profile's features.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileFeatures {
    /// Always supported.
    pub core: Vec<String>,
    /// Supported or not.
    pub extended: Vec<String>,
}

/// The suite's feature sets.
#[derive(Debug, Clone, Deserialize)]
pub struct Features {
    /// Profiles by name.
    pub profiles: BTreeMap<String, ProfileFeatures>,
}

/// What our test of an upstream test says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ours {
    /// Our test of it passed.
    Passed,
    /// Our test of it failed.
    Failed,
    /// We differ (`…_deviation`).
    Deviation,
    /// We refuse its feature (`…_is_refused`).
    Refused,
    /// We have no test of it.
    Missing,
}

/// Pass, fail and skip counts (capitalised keys, as the Go struct has no JSON tags).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Statistics {
    #[serde(rename = "Failed")]
    failed: usize,
    #[serde(rename = "Passed")]
    passed: usize,
    #[serde(rename = "Skipped")]
    skipped: usize,
}

/// Core or extended results of a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Results {
    result: String,
    statistics: Statistics,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failed_tests: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped_tests: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supported_features: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unsupported_features: Option<Vec<String>>,
}

/// One profile's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileReport {
    name: String,
    summary: String,
    core: Results,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended: Option<Results>,
}

/// Who made the implementation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Implementation {
    organization: String,
    project: String,
    url: String,
    version: String,
    contact: Vec<String>,
}

/// The `ConformanceReport`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    api_version: String,
    kind: String,
    date: String,
    #[serde(rename = "gatewayAPIVersion")]
    gateway_api_version: String,
    #[serde(rename = "gatewayAPIChannel")]
    gateway_api_channel: String,
    mode: String,
    implementation: Implementation,
    profiles: Vec<ProfileReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    succeeded_provisional_tests: Vec<String>,
}

/// Reads the suite's facts under `root`.
pub fn load(root: &Path) -> Result<(Vec<SuiteTest>, Features)> {
    let read =
        |p: &str| std::fs::read_to_string(root.join(p)).with_context(|| format!("reading {p}"));
    let suite: Vec<SuiteTest> = serde_json::from_str(&read(SUITE)?).context(SUITE)?;
    let features: Features = serde_json::from_str(&read(FEATURES)?).context(FEATURES)?;
    Ok((suite, features))
}

/// The names of the `#[test]` functions in our conformance test files under `root`.
pub fn test_names(root: &Path) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for file in TESTS {
        let text =
            std::fs::read_to_string(root.join(file)).with_context(|| format!("reading {file}"))?;
        let mut after_test = false;
        for line in text.lines() {
            let line = line.trim();
            if line == "#[test]" {
                after_test = true;
                continue;
            }
            if after_test && let Some(rest) = line.strip_prefix("fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name);
            }
            after_test = false;
        }
    }
    Ok(out)
}

/// `HTTPRouteSimpleSameNamespace` and `http_route_simple_same_namespace` alike.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Upstream tests whose subtests we test apart: all must pass.
const SUBTESTS: &[(&str, &[&str])] = &[(
    "GatewayModifyListeners",
    &[
        "gateway_modify_listeners_add",
        "gateway_modify_listeners_remove",
    ],
)];

/// What our tests say of each upstream test, given each of our tests' outcome (`true` passed).
pub fn ours(suite: &[SuiteTest], results: &BTreeMap<String, bool>) -> BTreeMap<String, Ours> {
    let mut by_key: BTreeMap<String, Ours> = BTreeMap::new();
    for (upstream, parts) in SUBTESTS {
        let outcomes: Vec<Option<bool>> = parts.iter().map(|p| results.get(*p).copied()).collect();
        let what = if outcomes.iter().all(|o| *o == Some(true)) {
            Ours::Passed
        } else if outcomes.contains(&Some(false)) {
            Ours::Failed
        } else {
            Ours::Missing
        };
        by_key.insert(key(upstream), what);
    }
    for (name, passed) in results {
        let (base, what) = if let Some(b) = name.strip_suffix("_deviation") {
            (b, Ours::Deviation)
        } else if let Some(b) = name.strip_suffix("_is_refused") {
            (b, Ours::Refused)
        } else if *passed {
            (name.as_str(), Ours::Passed)
        } else {
            (name.as_str(), Ours::Failed)
        };
        // A failed deviation or refusal test is a failure all the same.
        let what = if *passed { what } else { Ours::Failed };
        if SUBTESTS
            .iter()
            .any(|(_, parts)| parts.contains(&name.as_str()))
        {
            continue;
        }
        by_key.insert(key(base), what);
    }
    suite
        .iter()
        .map(|t| {
            (
                t.short_name.clone(),
                by_key
                    .get(&key(&t.short_name))
                    .copied()
                    .unwrap_or(Ours::Missing),
            )
        })
        .collect()
}

/// Checks that `supported` claims only what we pass: every test that needs a supported
/// feature, and otherwise only supported or core ones, has a passing test of ours.
pub fn check_claims(
    suite: &[SuiteTest],
    features: &Features,
    supported: &[&str],
    ours: &BTreeMap<String, Ours>,
) -> Result<()> {
    let supported: BTreeSet<&str> = supported.iter().copied().collect();
    let core: BTreeSet<&str> = enabled(features, &supported)
        .flat_map(|(_, p)| p.core.iter().map(String::as_str))
        .collect();
    let mut wrong = Vec::new();
    for t in suite.iter().filter(|t| !t.mesh) {
        let needs_claim = t.features.iter().any(|f| supported.contains(f.as_str()));
        let runs = t
            .features
            .iter()
            .all(|f| supported.contains(f.as_str()) || core.contains(f.as_str()));
        // Core profile tests of the routes we serve must pass too (HTTPRoute, not GRPC/TLS).
        let is_http_core = t
            .features
            .iter()
            .all(|f| ["Gateway", "HTTPRoute", "ReferenceGrant"].contains(&f.as_str()));
        if runs && (needs_claim || is_http_core) && ours.get(&t.short_name) != Some(&Ours::Passed) {
            wrong.push(format!(
                "{} ({}): {:?}",
                t.short_name,
                t.features.join(", "),
                ours.get(&t.short_name)
            ));
        }
    }
    if !wrong.is_empty() {
        bail!(
            "supported features claim tests we do not pass:\n  {}",
            wrong.join("\n  ")
        );
    }
    Ok(())
}

/// The profiles whose core features are all supported: the ones the suite would run.
fn enabled<'f>(
    features: &'f Features,
    supported: &BTreeSet<&str>,
) -> impl Iterator<Item = (&'f String, &'f ProfileFeatures)> {
    features
        .profiles
        .iter()
        .filter(|(_, p)| p.core.iter().all(|f| supported.contains(f.as_str())))
}

fn results(
    tests: &[&SuiteTest],
    ours: &BTreeMap<String, Ours>,
    extended: Option<(Vec<String>, Vec<String>)>,
) -> Results {
    let mut stats = Statistics::default();
    let mut failed_tests = Vec::new();
    let mut skipped_tests = Vec::new();
    for t in tests {
        match ours.get(&t.short_name).copied().unwrap_or(Ours::Missing) {
            Ours::Passed => stats.passed += 1,
            Ours::Failed | Ours::Deviation | Ours::Refused => {
                stats.failed += 1;
                failed_tests.push(t.short_name.clone());
            }
            Ours::Missing => {
                stats.skipped += 1;
                skipped_tests.push(t.short_name.clone());
            }
        }
    }
    let result = if stats.failed > 0 {
        "failure"
    } else if stats.skipped > 0 {
        "partial"
    } else {
        "success"
    };
    let (supported_features, unsupported_features) = match extended {
        Some((s, u)) => (Some(s), Some(u)),
        None => (None, None),
    };
    Results {
        result: result.into(),
        statistics: stats,
        failed_tests,
        skipped_tests,
        supported_features,
        unsupported_features,
    }
}

fn summary(core: &Results, extended: Option<&Results>) -> String {
    let part = |what: &str, r: &Results| match r.result.as_str() {
        "success" => format!("{what} tests succeeded."),
        "partial" => format!(
            "{what} tests partially succeeded with {} test skips.",
            r.statistics.skipped
        ),
        _ => format!(
            "{what} tests failed with {} test failures.",
            r.statistics.failed
        ),
    };
    match extended {
        Some(e) => format!("{} {}", part("Core", core), part("Extended", e)),
        None => part("Core", core),
    }
}

/// The report for `supported`, given what our tests say; `date` is RFC 3339.
pub fn report(
    suite: &[SuiteTest],
    features: &Features,
    supported: &[&str],
    ours: &BTreeMap<String, Ours>,
    version: &str,
    date: &str,
) -> Report {
    let supported: BTreeSet<&str> = supported.iter().copied().collect();
    let mut profiles = Vec::new();
    let mut provisional = BTreeSet::new();
    for (name, p) in enabled(features, &supported) {
        let core: BTreeSet<&str> = p.core.iter().map(String::as_str).collect();
        let all: BTreeSet<&str> = core
            .iter()
            .copied()
            .chain(p.extended.iter().map(String::as_str))
            .collect();
        let mut core_tests = Vec::new();
        let mut extended_tests = Vec::new();
        for t in suite.iter().filter(|t| !t.mesh) {
            let in_profile = t.features.iter().all(|f| all.contains(f.as_str()));
            let runs = t
                .features
                .iter()
                .all(|f| core.contains(f.as_str()) || supported.contains(f.as_str()));
            if !in_profile || !runs {
                continue;
            }
            if t.features.iter().all(|f| core.contains(f.as_str())) {
                core_tests.push(t);
            } else {
                extended_tests.push(t);
            }
        }
        let mut ext_supported: Vec<String> = p
            .extended
            .iter()
            .filter(|f| supported.contains(f.as_str()))
            .cloned()
            .collect();
        ext_supported.sort();
        let mut ext_unsupported: Vec<String> = p
            .extended
            .iter()
            .filter(|f| !supported.contains(f.as_str()))
            .cloned()
            .collect();
        ext_unsupported.sort();
        let core_results = results(&core_tests, ours, None);
        let extended_results = (!extended_tests.is_empty()).then(|| {
            results(
                &extended_tests,
                ours,
                Some((ext_supported, ext_unsupported)),
            )
        });
        profiles.push(ProfileReport {
            name: name.clone(),
            summary: summary(&core_results, extended_results.as_ref()),
            core: core_results,
            extended: extended_results,
        });
    }
    // Passing provisional tests are listed whether or not a profile counts them (the suite
    // runs GRPCRouteNamedRule, in no profile, all the same).
    let cores: BTreeSet<&str> = enabled(features, &supported)
        .flat_map(|(_, p)| p.core.iter().map(String::as_str))
        .collect();
    for t in suite.iter().filter(|t| !t.mesh && t.provisional) {
        let runs = t
            .features
            .iter()
            .all(|f| cores.contains(f.as_str()) || supported.contains(f.as_str()));
        if runs && ours.get(&t.short_name) == Some(&Ours::Passed) {
            provisional.insert(t.short_name.clone());
        }
    }
    Report {
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: "ConformanceReport".into(),
        date: date.into(),
        gateway_api_version: "v1.5.1".into(),
        gateway_api_channel: "standard".into(),
        mode: "default".into(),
        // The project has no public home yet: organization, URL and contact are left empty
        // rather than invented, and must be filled in before a submission upstream.
        implementation: Implementation {
            organization: String::new(),
            project: "ako-gateway-api".into(),
            url: String::new(),
            version: version.into(),
            contact: Vec::new(),
        },
        profiles,
        succeeded_provisional_tests: provisional.into_iter().collect(),
    }
}

/// The report as YAML.
pub fn to_yaml(report: &Report) -> Result<String> {
    serde_saphyr::to_string(report).context("encoding the report")
}

/// Parses `cargo test` output: each `test NAME ... ok|FAILED` line.
pub fn parse_test_output(text: &str) -> BTreeMap<String, bool> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("test ")?;
            let (name, outcome) = rest.split_once(" ... ")?;
            match outcome.trim() {
                "ok" => Some((name.trim().to_owned(), true)),
                "FAILED" => Some((name.trim().to_owned(), false)),
                _ => None,
            }
        })
        .collect()
}

/// The report's text without its `date` line (what the freshness test compares).
pub fn without_date(yaml: &str) -> String {
    yaml.lines()
        .filter(|l| !l.starts_with("date:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn names_match_whatever_the_case() {
        assert_eq!(
            key("HTTPRouteSimpleSameNamespace"),
            key("http_route_simple_same_namespace")
        );
        assert_eq!(
            key("GatewayWithAttachedRoutesWithPort8080"),
            key("gateway_with_attached_routes_with_port_8080")
        );
    }

    #[test]
    fn test_output_is_parsed() {
        let out = parse_test_output(
            "running 2 tests\ntest a_b ... ok\ntest c ... FAILED\ntest d ... ignored\n",
        );
        assert_eq!(
            out,
            BTreeMap::from([("a_b".to_owned(), true), ("c".to_owned(), false)])
        );
    }

    /// The committed report is what our tests and claims give (every test passing, which the
    /// same `cargo test` run checks), and the claims hold.
    #[test]
    fn the_committed_report_is_current() {
        let root = root();
        let (suite, features) = load(&root).unwrap();
        let names = test_names(&root).unwrap();
        assert!(names.len() > 60, "{names:?}");
        let passed: BTreeMap<String, bool> = names.into_iter().map(|n| (n, true)).collect();
        let ours = ours(&suite, &passed);
        check_claims(
            &suite,
            &features,
            gateway_translate::features::SUPPORTED,
            &ours,
        )
        .unwrap();
        let fresh = to_yaml(&report(
            &suite,
            &features,
            gateway_translate::features::SUPPORTED,
            &ours,
            env!("CARGO_PKG_VERSION"),
            "",
        ))
        .unwrap();
        let committed = std::fs::read_to_string(root.join(REPORT)).unwrap_or_default();
        assert_eq!(
            without_date(&committed),
            without_date(&fresh),
            "{REPORT} is stale: run `cargo xtask conformance`"
        );
    }
}
