//! The Ingress side of `ako`: its settings (AKO's environment) and `ako translate`, the dry
//! run of the Ingress translation.

use ako_runtime::Process;
use ako_runtime::cli::Backends;
use ako_runtime::dry_run::TranslateArgs;
use anyhow::Context;
use ingress_translate::{IngressSettings, IngressTranslator, ShardSize};
use translate_core::{Component, Settings};

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
}

/// The shared settings of the running container.
pub fn settings(process: &Process, istio_backends: Backends) -> anyhow::Result<Settings> {
    Ok(process.settings(Component::Ako, istio_backends.into())?)
}

/// `ako translate` arguments: the dry-run flags both containers share, and the Ingress ones.
#[derive(clap::Args)]
pub struct Translate {
    #[command(flatten)]
    common: TranslateArgs,
    #[command(flatten)]
    ingress: IngressArgs,
}

/// Translates manifests offline and prints `{"avi": ..., "status": [...], "warnings": [...]}`,
/// as `ako-gateway-api translate` does.
pub fn translate(args: Translate) -> anyhow::Result<()> {
    let translator = IngressTranslator::new(args.ingress.ingress_settings()?);
    args.common.run(&translator, Component::Ako)?;
    Ok(())
}
