//! `ako`: the AKO-compatible container that owns the Istio certificate pipeline and serves
//! Kubernetes Ingresses (`ako run`), with the operator's commands: `ako certs inspect`,
//! `ako certs principal`, `ako istio authz-policy` and `ako translate` (the Ingress dry run).

mod authz;
mod certs;
mod ingress;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Where istio-agent writes the workload certificate when `OUTPUT_CERTS` is set as AKO sets it.
pub(crate) const DEFAULT_CERT_DIR: &str = "/etc/istio-output-certs";

#[derive(Parser)]
#[command(name = "ako", version, about = "Istio mTLS for the Avi load balancer")]
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
    /// Look at the Istio certificate set in OUTPUT_CERTS.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Translate Ingress manifests offline and print the Avi objects and the statuses.
    Translate(Box<ingress::Translate>),
    /// Istio helpers for operators.
    Istio {
        #[command(subcommand)]
        command: IstioCommand,
    },
}

#[derive(Subcommand)]
enum IstioCommand {
    /// Print an AuthorizationPolicy (YAML) that lets the Service Engines, which present AKO's
    /// workload certificate, into NAMESPACE.
    AuthzPolicy {
        /// The namespace of the backends.
        #[arg(long)]
        namespace: String,
        /// The OUTPUT_CERTS directory.
        #[arg(long, env = "ISTIO_OUTPUT_CERTS", default_value = DEFAULT_CERT_DIR)]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Validate the set and print what it holds; exit 0 if valid, 1 if not.
    Inspect {
        /// The OUTPUT_CERTS directory.
        #[arg(long, env = "ISTIO_OUTPUT_CERTS", default_value = DEFAULT_CERT_DIR)]
        dir: PathBuf,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = certs::Output::Text)]
        output: certs::Output,
    },
    /// Print the principal to name in Istio AuthorizationPolicies.
    Principal {
        /// The OUTPUT_CERTS directory.
        #[arg(long, env = "ISTIO_OUTPUT_CERTS", default_value = DEFAULT_CERT_DIR)]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        ako_runtime::cli::stderr_line(format_args!(
            "error: a TLS crypto provider was already installed"
        ));
        return ExitCode::from(2);
    }
    let command = Cli::command();
    if !matches!(command, Command::Run(_)) {
        // The operator commands log warnings only; `run` sets up its own logging.
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
            )
            .init();
    }
    match command {
        Command::Run(args) => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    ako_runtime::cli::stderr_line(format_args!(
                        "error: cannot start the async runtime: {e}"
                    ));
                    return ExitCode::from(2);
                }
            };
            match runtime.block_on(run::run(*args)) {
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
        Command::Certs {
            command: CertsCommand::Inspect { dir, output },
        } => certs::inspect(&dir, output),
        Command::Certs {
            command: CertsCommand::Principal { dir },
        } => certs::principal(&dir),
        Command::Istio {
            command: IstioCommand::AuthzPolicy { namespace, dir },
        } => authz::print(&namespace, &dir),
        Command::Translate(args) => match ingress::translate(*args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                ako_runtime::cli::stderr_line(format_args!(
                    "error: {}",
                    ako_runtime::error::describe(e.as_ref())
                ));
                ExitCode::from(1)
            }
        },
    }
}
