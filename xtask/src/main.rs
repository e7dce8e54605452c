//! Project chores: `cargo xtask <command>`.
//!
//! - `torn [--rotations N]`: the large torn-rotation property run (release build).
//! - `bench`: every criterion benchmark; figures go to docs/performance.md by hand.
//! - `ci`: what `.ci/run` checks, for a local run before pushing.

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
    }
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
