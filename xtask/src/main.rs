//! Project chores: `cargo xtask <command>`.
//!
//! - `torn [--rotations N]`: the large torn-rotation property run (release build).
//! - `bench`: every criterion benchmark; figures go to docs/performance.md by hand.
//! - `ci`: what `.ci/run` checks, for a local run before pushing.
//! - `demo [--keep-running] [--service-type ClusterIP|NodePort]`: the product end to end on
//!   emulators, step by step (docs/demo.md).
//! - `manifests [--check]`: render the Helm chart `deploy/helm/ako` into `deploy/manifests/`
//!   (or fail if the committed files differ from a fresh rendering).

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
        Task::Demo {
            keep_running,
            service_type,
        } => demo(keep_running, service_type),
    }
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
