//! Project chores: `cargo xtask <command>`.
//!
//! - `torn [--rotations N]`: the large torn-rotation property run (release build).
//! - `bench`: every criterion benchmark; figures go to docs/performance.md by hand.
//! - `ci`: what `.ci/run` checks, for a local run before pushing.
//! - `demo [--keep-running] [--service-type ClusterIP|NodePort]`: the product end to end on
//!   emulators, step by step (docs/demo.md).
//! - `manifests [--check]`: render the Helm chart `deploy/helm/ako` into `deploy/manifests/`
//!   (or fail if the committed files differ from a fresh rendering).
//! - `conformance [--check]`: runs the Gateway API conformance tests and writes the report in
//!   docs/conformance/ (the upstream ConformanceReport format).
//! - `fuzz [--seconds N] [--target T]`: every fuzz target (or one) for N seconds each, release
//!   build (`fuzz/`; a short pass runs in `cargo test`).
//! - `overlap --routes N [--header-names]`: prints the overlapping-routes manifests of
//!   docs/performance.md (N HTTPRoutes on one host and path, one header match each).
//! - `protos --from DIR [--check]`: compile Kubernetes' `generated.proto` files into kube-sim's
//!   descriptor set (docs/kube-sim.md says where the files come from).

use std::process::Command;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Rotate the Istio set N times with random pauses while the watcher runs; fail on any torn
    /// publication or a last set never published.
    Torn {
        /// Number of rotations.
        #[arg(long, default_value_t = 10_000)]
        rotations: u64,
    },
    /// Run the criterion benchmarks.
    Bench,
    /// fmt, clippy and the test suite, as CI runs them.
    Ci,
    /// The product end to end on emulated Kubernetes, Avi and Istio: requests through an
    /// emulated Service Engine to STRICT-mTLS pods, the guide's validation test, a rotation.
    Demo {
        /// Leave everything running after the steps (until Ctrl-C) and print how to reach it.
        #[arg(long)]
        keep_running: bool,
        /// How pool members are reached: pod IPs (ClusterIP) or a node's IP and nodePort.
        #[arg(long, value_enum, default_value_t = xtask::demo::ServiceType::ClusterIP)]
        service_type: xtask::demo::ServiceType,
    },
    /// Render deploy/helm/ako into deploy/manifests/ (no helm needed).
    Manifests {
        /// Write nothing; fail if a file in deploy/manifests/ differs from a fresh rendering.
        #[arg(long)]
        check: bool,
    },
    /// Run the fuzz targets (fuzz/) for a while each; a failure prints the input to keep in
    /// fuzz/corpus/<target>/.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Only this target (one of fuzz_targets::TARGETS).
        #[arg(long)]
        target: Option<String>,
    },
    /// Print N HTTPRoutes on one Gateway, host and path, each matching one header (the
    /// overlapping-routes case of docs/performance.md), with their Gateway and Service.
    Overlap {
        /// Number of routes.
        #[arg(long)]
        routes: usize,
        /// Each route matches its own header name (`x-h<i>: v`), so matches can hold together;
        /// without it they share one name with different values (`x-h: v<i>`).
        #[arg(long)]
        header_names: bool,
    },
    /// Run the Gateway API conformance tests and write the conformance report
    /// (docs/conformance/, the upstream ConformanceReport format).
    Conformance {
        /// Write nothing; fail if the committed report differs (its date aside).
        #[arg(long)]
        check: bool,
    },
    /// Compile Kubernetes' .proto files into crates/kube-sim/src/protobuf/kubernetes-1.35.binpb.
    Protos {
        /// The directory holding `api/`, `apimachinery/` and `apiextensions_apiserver/` (the
        /// k8s-rs-pb 0.5 crate's `src/v1_35`).
        #[arg(long)]
        from: std::path::PathBuf,
        /// Write nothing; fail if the committed set differs from a fresh one.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Task::Torn { rotations } => cargo(
            &[
                "test",
                "--release",
                "-p",
                "istio-certs",
                "--lib",
                "--",
                "--ignored",
                "--exact",
                "watch::torn::torn_rotations_large",
                "--nocapture",
            ],
            &[("TORN_ROTATIONS", rotations.to_string())],
        ),
        Task::Bench => cargo(&["bench", "--workspace"], &[]),
        Task::Ci => {
            cargo(&["fmt", "--all", "--", "--check"], &[])?;
            cargo(
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )?;
            cargo(&["test", "--workspace"], &[])
        }
        Task::Manifests { check } => manifests(check),
        Task::Conformance { check } => conformance(check),
        Task::Protos { from, check } => protos(&from, check),
        Task::Overlap {
            routes,
            header_names,
        } => {
            use std::io::Write as _;
            let text = overlap(routes, header_names);
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .context("writing the manifests")
        }
        Task::Fuzz { seconds, target } => {
            let mut args = vec![
                "test",
                "--release",
                "-p",
                "fuzz-targets",
                "--test",
                "targets",
            ];
            if let Some(t) = target.as_deref() {
                args.extend(["--", "--exact", t, "--nocapture", "--test-threads", "1"]);
            } else {
                args.extend(["--", "--nocapture", "--test-threads", "1"]);
            }
            cargo(
                &args,
                &[
                    ("BOLERO_RANDOM_TEST_TIME_MS", (seconds * 1000).to_string()),
                    ("BOLERO_RANDOM_ITERATIONS", u64::MAX.to_string()),
                ],
            )
        }
        Task::Demo {
            keep_running,
            service_type,
        } => demo(keep_running, service_type),
    }
}

/// The manifests of `cargo xtask overlap`.
fn overlap(routes: usize, header_names: bool) -> String {
    let mut out = String::from(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: avi-lb}\nspec: {controllerName: ako.vmware.com/avi-lb}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: default}\nspec:\n  gatewayClassName: avi-lb\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80, targetPort: 8080}]}\n",
    );
    for i in 0..routes {
        let header = if header_names {
            format!("{{name: x-h{i}, value: v}}")
        } else {
            format!("{{name: x-h, value: v{i}}}")
        };
        // Distinct creation times order the routes as the spec's precedence does.
        out.push_str(&format!(
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r{i}, namespace: default, creationTimestamp: \"2026-01-01T{:02}:{:02}:{:02}Z\"}}\nspec:\n  parentRefs: [{{name: gw}}]\n  hostnames: [x.example.com]\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /}}, headers: [{header}]}}]\n    backendRefs: [{{name: web, port: 80}}]\n",
            i / 3600 % 24,
            i / 60 % 60,
            i % 60
        ));
    }
    out
}

/// The .proto files of the kinds kube-sim serves (and their neighbours), with what they import.
const PROTOS: &[&str] = &[
    "api/core/v1/generated.proto",
    "api/apps/v1/generated.proto",
    "api/batch/v1/generated.proto",
    "api/coordination/v1/generated.proto",
    "api/discovery/v1/generated.proto",
    "api/events/v1/generated.proto",
    "api/networking/v1/generated.proto",
    "api/rbac/v1/generated.proto",
    "api/policy/v1/generated.proto",
    "api/storage/v1/generated.proto",
    "api/scheduling/v1/generated.proto",
    "api/autoscaling/v2/generated.proto",
    "api/authentication/v1/generated.proto",
    "api/authorization/v1/generated.proto",
    "api/admissionregistration/v1/generated.proto",
    "api/certificates/v1/generated.proto",
    "api/node/v1/generated.proto",
    "apiextensions_apiserver/pkg/apis/apiextensions/v1/generated.proto",
    "apimachinery/pkg/apis/meta/v1/generated.proto",
    "apimachinery/pkg/runtime/generated.proto",
    "apimachinery/pkg/runtime/schema/generated.proto",
    "apimachinery/pkg/util/intstr/generated.proto",
    "apimachinery/pkg/api/resource/generated.proto",
];

fn protos(from: &std::path::Path, check: bool) -> anyhow::Result<()> {
    use protobuf::Message as _;
    let set = protobuf_parse::Parser::new()
        .pure()
        .include(from)
        .inputs(PROTOS.iter().map(|p| from.join(p)))
        .file_descriptor_set()
        .with_context(|| format!("compiling the .proto files under {}", from.display()))?;
    let bytes = set.write_to_bytes()?;
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/kube-sim/src/protobuf/kubernetes-1.35.binpb");
    if check {
        let committed =
            std::fs::read(&out).with_context(|| format!("reading {}", out.display()))?;
        if committed != bytes {
            bail!("{} differs from a fresh compilation", out.display());
        }
        println!("{} is up to date ({} files)", out.display(), set.file.len());
        return Ok(());
    }
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} ({} files, {} bytes)",
        out.display(),
        set.file.len(),
        bytes.len()
    );
    Ok(())
}

fn demo(keep_running: bool, service_type: xtask::demo::ServiceType) -> anyhow::Result<()> {
    let opts = xtask::demo::DemoOptions {
        keep_running,
        service_type,
        ..xtask::demo::DemoOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let mut progress = xtask::demo::Progress::stdout();
        // Ctrl-C ends the demo, which kills both containers and stops the emulators: an error
        // during the steps, the normal end with --keep-running.
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                // No signal handling: never stop early.
                std::future::pending::<()>().await;
            }
        };
        xtask::demo::run_until(opts, &mut progress, ctrl_c)
            .await
            .map(|_| ())
    })
}

fn manifests(check: bool) -> anyhow::Result<()> {
    let root = xtask::manifests::repo_root();
    if check {
        xtask::manifests::check(&root)?;
        println!("deploy/manifests is up to date with deploy/helm/ako");
    } else {
        for path in xtask::manifests::write(&root)? {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// `cargo xtask conformance`: runs our conformance tests, then writes (or checks) the report.
fn conformance(check: bool) -> anyhow::Result<()> {
    use xtask::conformance as c;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut args = vec!["test", "-p", "gateway-translate"];
    let binaries: Vec<&str> = c::TESTS
        .iter()
        .filter_map(|t| t.rsplit('/').next()?.strip_suffix(".rs"))
        .collect();
    for b in &binaries {
        args.extend(["--test", b]);
    }
    args.extend(["--no-fail-fast", "--", "--test-threads", "2"]);
    let out = Command::new(&cargo)
        .args(&args)
        .current_dir(&root)
        .output()
        .with_context(|| format!("cannot run {cargo}"))?;
    let results = c::parse_test_output(&String::from_utf8_lossy(&out.stdout));
    let names = c::test_names(&root)?;
    let missing: Vec<&String> = names.iter().filter(|n| !results.contains_key(*n)).collect();
    if !missing.is_empty() {
        bail!(
            "conformance tests that did not report (build failure?): {missing:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (suite, features) = c::load(&root)?;
    let ours = c::ours(&suite, &results);
    c::check_claims(
        &suite,
        &features,
        gateway_translate::features::SUPPORTED,
        &ours,
    )?;
    let date = chrono_now();
    let report = c::report(
        &suite,
        &features,
        gateway_translate::features::SUPPORTED,
        &ours,
        env!("CARGO_PKG_VERSION"),
        &date,
    );
    let yaml = c::to_yaml(&report)?;
    let path = root.join(c::REPORT);
    if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if c::without_date(&committed) != c::without_date(&yaml) {
            bail!("{} is stale: run `cargo xtask conformance`", c::REPORT);
        }
    } else {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &yaml)?;
    }
    print!("{yaml}");
    let failed: Vec<&String> = results
        .iter()
        .filter(|(_, ok)| !**ok)
        .map(|(n, _)| n)
        .collect();
    if !failed.is_empty() {
        bail!("conformance tests failed: {failed:?}");
    }
    Ok(())
}

/// Now in RFC 3339 (seconds), from the system clock.
fn chrono_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    k8s_openapi::jiff::Timestamp::from_second(i64::try_from(secs).unwrap_or(0))
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn cargo(args: &[&str], envs: &[(&str, String)]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("cargo {} failed with {status}", args.join(" "));
    }
    Ok(())
}
