//! `ako-gateway-api`: Gateway API for the Avi load balancer.
//!
//! This first part offers the offline dry run: `ako-gateway-api translate -f PATH...` prints the
//! Avi objects and the Gateway API statuses the controller would write for a set of manifests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod run;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use gateway_translate::{
    IstioBackends, IstioRefs, ServiceType, Settings, Snapshot, StatusUpdate, translate,
};
use serde_json::{Value, json};

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

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Json,
    Yaml,
}

#[derive(Clone, Copy, ValueEnum)]
enum Backends {
    Mesh,
    All,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller (the container's command).
    Run(Box<run::RunArgs>),
    /// Translate manifests offline and print the Avi model and the statuses.
    Translate {
        /// Manifest files or directories (multi-document YAML or JSON).
        #[arg(short = 'f', long = "filename", required = true)]
        paths: Vec<PathBuf>,
        /// `CLUSTER_NAME`.
        #[arg(long, default_value = "cluster")]
        cluster_name: String,
        /// The namespace AKO runs in.
        #[arg(long, default_value = "avi-system")]
        namespace: String,
        /// Avi tenant.
        #[arg(long, default_value = "admin")]
        tenant: String,
        /// `ClusterIP` or `NodePort`.
        #[arg(long, default_value = "ClusterIP")]
        service_type: String,
        /// Istio is on and its Avi objects exist.
        #[arg(long)]
        istio: bool,
        /// Which backends get Istio mTLS.
        #[arg(long, value_enum, default_value_t = Backends::Mesh)]
        istio_backends: Backends,
        /// The Avi controller API version the objects are for (AKO's `controllerVersion`).
        #[arg(long, default_value = "22.1.3")]
        controller_version: String,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = Output::Json)]
        output: Output,
    },
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
                eprintln!("error: a TLS crypto provider was already installed");
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
            eprintln!("error: {}", ako_runtime::error::describe(e.as_ref()));
            ExitCode::from(1)
        }
    }
}

fn dry_run(command: Command) -> anyhow::Result<()> {
    let Command::Translate {
        paths,
        cluster_name,
        namespace,
        tenant,
        service_type,
        istio,
        istio_backends,
        controller_version,
        output,
    } = command
    else {
        anyhow::bail!("not a dry-run command");
    };
    let service_type = match service_type.as_str() {
        "ClusterIP" => ServiceType::ClusterIP,
        "NodePort" => ServiceType::NodePort,
        other => anyhow::bail!("--service-type must be ClusterIP or NodePort, not {other}"),
    };
    let settings = Settings {
        istio_refs: istio.then(|| IstioRefs::for_cluster(&cluster_name, &namespace)),
        cluster_name,
        ako_namespace: namespace,
        tenant,
        service_type,
        istio_enabled: istio,
        istio_backends: match istio_backends {
            Backends::Mesh => IstioBackends::Mesh,
            Backends::All => IstioBackends::All,
        },
        controller_version,
        ..Settings::default()
    };
    let mut snapshot = Snapshot::default();
    for path in &paths {
        load(path, &mut snapshot)?;
    }
    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    let t = translate(&snapshot, &settings, &now);
    let statuses: Vec<Value> = t
        .statuses
        .iter()
        .map(|s| match s {
            StatusUpdate::GatewayClass { name, status } => {
                json!({"kind": "GatewayClass", "namespace": null, "name": name, "status": status})
            }
            StatusUpdate::Gateway { key, status } => {
                json!({"kind": "Gateway", "namespace": key.0, "name": key.1, "status": status})
            }
            StatusUpdate::HttpRoute { key, status } => {
                json!({"kind": "HTTPRoute", "namespace": key.0, "name": key.1, "status": status})
            }
            StatusUpdate::BackendTlsPolicy { key, status } => {
                json!({"kind": "BackendTLSPolicy", "namespace": key.0, "name": key.1, "status": status})
            }
            StatusUpdate::Route { kind, key, status, .. } => {
                json!({"kind": kind, "namespace": key.0, "name": key.1, "status": status})
            }
        })
        .collect();
    let doc = json!({"avi": t.model.to_json(), "status": statuses,
        "warnings": t.warnings.iter().map(|w| json!({"kind": w.kind, "namespace": w.key.0, "name": w.key.1, "reason": w.reason, "message": w.message})).collect::<Vec<_>>()});
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&doc)?),
        Output::Yaml => print!("{}", serde_saphyr::to_string(&doc)?),
    }
    Ok(())
}

/// Reads a file, or every `.yaml`/`.yml`/`.json` file of a directory (recursively, sorted).
fn load(path: &Path, snapshot: &mut Snapshot) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read directory {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            let manifest = p
                .extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json");
            if p.is_dir() || manifest {
                load(&p, snapshot)?;
            }
        }
        return Ok(());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .with_context(|| format!("{} is not valid YAML", path.display()))?;
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        if doc.get("kind").and_then(Value::as_str) == Some("List") {
            for item in doc
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                insert(snapshot, item, path);
            }
        } else {
            insert(snapshot, doc, path);
        }
    }
    Ok(())
}

fn insert(snapshot: &mut Snapshot, doc: Value, path: &Path) {
    // Objects the translation does not read (Deployments, ...) are skipped, loudly.
    if let Err(e) = snapshot.insert_json(doc) {
        eprintln!("{}: skipped: {e}", path.display());
    }
}
