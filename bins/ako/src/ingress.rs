//! The Ingress side of `ako`: its settings (AKO's environment) and `ako translate`, the dry
//! run of the Ingress translation.

use std::path::PathBuf;

use ako_runtime::Process;
use anyhow::Context;
use ingress_translate::{IngressSettings, IngressTranslator, ShardSize};
use translate_core::{Component, IstioBackends, IstioRefs, ServiceType, Settings, Translator};

/// Which backends get Istio mTLS.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Backends {
    /// Backends in the mesh in sidecar mode.
    Mesh,
    /// Every backend (AKO's behaviour).
    All,
}

impl From<Backends> for IstioBackends {
    fn from(b: Backends) -> Self {
        match b {
            Backends::Mesh => IstioBackends::Mesh,
            Backends::All => IstioBackends::All,
        }
    }
}

/// The Ingress translation's settings, as AKO names them.
#[derive(clap::Args, Clone)]
pub struct IngressArgs {
    /// `ENABLE_EVH`: Enhanced Virtual Hosting instead of SNI.
    #[arg(long = "enable-evh", env = "ENABLE_EVH", default_value_t = false,
        num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub enable_evh: bool,
    /// `SHARD_VS_SIZE`: LARGE (8 shared virtual services), MEDIUM (4), SMALL (1) or DEDICATED.
    #[arg(long, env = "SHARD_VS_SIZE", default_value = "LARGE")]
    pub shard_vs_size: String,
    /// With Istio on, which backends get mTLS: `mesh` (sidecar-mode backends) or `all`
    /// (AKO's behaviour).
    #[arg(long, env = "ISTIO_BACKENDS", value_enum, default_value_t = Backends::Mesh)]
    pub istio_backends: Backends,
}

impl IngressArgs {
    /// The Ingress translation's own settings.
    pub fn ingress_settings(&self) -> anyhow::Result<IngressSettings> {
        let shard_size: ShardSize = self.shard_vs_size.parse().context("SHARD_VS_SIZE")?;
        Ok(IngressSettings {
            evh: self.enable_evh,
            shard_size,
            ..IngressSettings::default()
        })
    }

    /// The shared settings of the running container.
    pub fn settings(&self, process: &Process) -> anyhow::Result<Settings> {
        let c = &process.config;
        Ok(Settings {
            component: Component::Ako,
            cluster_name: c.cluster_name()?.to_owned(),
            ako_namespace: c.namespace()?.to_owned(),
            tenant: c.tenant().to_owned(),
            service_type: match c.service_type {
                ako_runtime::ServiceType::ClusterIP => ServiceType::ClusterIP,
                ako_runtime::ServiceType::NodePort => ServiceType::NodePort,
            },
            istio_enabled: c.istio_enabled,
            istio_backends: self.istio_backends.into(),
            controller_version: c
                .controller_version()?
                .map_or_else(|| process.avi.config().api_version.clone(), str::to_owned),
            ..Settings::default()
        })
    }
}

/// `ako translate` arguments.
#[derive(clap::Args)]
pub struct TranslateArgs {
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
    #[command(flatten)]
    ingress: IngressArgs,
    /// The Avi controller API version the objects are for.
    #[arg(long, default_value = "22.1.3")]
    controller_version: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Json)]
    output: Format,
}

/// Output format of the dry run.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Translates manifests offline and prints `{"avi": ..., "status": [...], "warnings": [...]}`.
pub fn translate(args: TranslateArgs) -> anyhow::Result<()> {
    let service_type = match args.service_type.as_str() {
        "ClusterIP" => ServiceType::ClusterIP,
        "NodePort" => ServiceType::NodePort,
        other => anyhow::bail!("--service-type must be ClusterIP or NodePort, not {other}"),
    };
    // AKO's rule for CLUSTER_NAME (it prefixes every name, and DataScripts quote it).
    if args.cluster_name.is_empty()
        || !args
            .cluster_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        anyhow::bail!("--cluster-name must be letters, digits, '-' and '_' (AKO's CLUSTER_NAME)");
    }
    let settings = Settings {
        component: Component::Ako,
        istio_refs: args
            .istio
            .then(|| IstioRefs::for_cluster(&args.cluster_name, &args.namespace)),
        cluster_name: args.cluster_name,
        ako_namespace: args.namespace,
        tenant: args.tenant,
        service_type,
        istio_enabled: args.istio,
        istio_backends: args.ingress.istio_backends.into(),
        controller_version: args.controller_version,
        ..Settings::default()
    };
    let translator = IngressTranslator::new(args.ingress.ingress_settings()?);
    let (snapshot, skipped) = ako_runtime::dry_run::load(&args.paths, &translator.kinds())?;
    for s in skipped {
        eprintln!("{s}");
    }
    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    let out = translator.translate(&snapshot, &settings, &now);
    let doc = ako_runtime::dry_run::document(&out);
    let text = match args.output {
        Format::Json => serde_json::to_string_pretty(&doc)? + "\n",
        Format::Yaml => serde_saphyr::to_string(&doc)?,
    };
    crate::print(&text)
}
