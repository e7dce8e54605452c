//! `ako-gateway-api`: Gateway API for the Avi load balancer.
//!
//! This first part offers the offline dry run: `ako-gateway-api translate -f PATH...` prints the
//! Avi objects and the Gateway API statuses the controller would write for a set of manifests.

use std::process::ExitCode;

mod run;

use ako_runtime::dry_run::TranslateArgs;
use anyhow::Context;
use clap::{Parser, Subcommand};
use gateway_translate::{Component, GatewayApiTranslator};

#[derive(Parser)]
#[command(
    name = "ako-gateway-api",
    version,
    about = "Gateway API for the Avi load balancer"
)]
struct Cli {
    /// What to do; without one, `run` (the container's command).
    #[command(subcommand)]
    command: Option<Command>,
}

impl Cli {
    /// The command line's command; `run` when none is given, as the container runs it (with
    /// `run`'s flags, if any, straight after the binary's name).
    fn command() -> Command {
        ako_runtime::cli::command_or_run(
            std::env::args_os().collect(),
            |c: Cli| c.command,
            |r: run::RunArgs| Command::Run(Box::new(r)),
        )
        .unwrap_or_else(|e| e.exit())
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller (the container's command).
    Run(Box<run::RunArgs>),
    /// Translate manifests offline and print the Avi model and the statuses.
    Translate(Box<TranslateArgs>),
}

// glibc's per-thread arenas kept up to 60 % more resident memory than the heap held at the
// cold start of 5,000 routes (docs/performance.md); mimalloc returns freed pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let result = match Cli::command() {
        Command::Run(args) => {
            if rustls::crypto::ring::default_provider()
                .install_default()
                .is_err()
            {
                ako_runtime::cli::stderr_line(format_args!(
                    "error: a TLS crypto provider was already installed"
                ));
                return ExitCode::from(2);
            }
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")
                .and_then(|rt| rt.block_on(run::run(*args)))
        }
        command => dry_run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            ako_runtime::cli::stderr_line(format_args!(
                "error: {}",
                ako_runtime::error::describe(e.as_ref())
            ));
            ExitCode::from(1)
        }
    }
}

/// `translate`: the Gateway API translation of manifests, printed as the `ako` container's dry
/// run prints its Ingresses.
fn dry_run(command: Command) -> anyhow::Result<()> {
    let Command::Translate(args) = command else {
        anyhow::bail!("not a dry-run command");
    };
    args.run(&GatewayApiTranslator, Component::GatewayApi)?;
    Ok(())
}
