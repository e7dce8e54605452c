//! What the Ingress translation needs to know beyond [`translate_core::Settings`].

use std::fmt;
use std::str::FromStr;

/// AKO's `SHARD_VS_SIZE`: how many shared virtual services the hosts are spread over.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum ShardSize {
    /// 8 shared virtual services (the Helm chart's default).
    #[default]
    Large,
    /// 4 shared virtual services.
    Medium,
    /// 1 shared virtual service.
    Small,
    /// One virtual service per host (`<cluster>--<host>-L7-dedicated`).
    Dedicated,
}

impl ShardSize {
    /// The number of shared virtual services: 8, 4, 1, or 0 for [`ShardSize::Dedicated`]
    /// (AKO's `lib.go:66-71`).
    pub fn shards(self) -> u32 {
        match self {
            ShardSize::Large => 8,
            ShardSize::Medium => 4,
            ShardSize::Small => 1,
            ShardSize::Dedicated => 0,
        }
    }

    /// AKO's spelling (`LARGE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ShardSize::Large => "LARGE",
            ShardSize::Medium => "MEDIUM",
            ShardSize::Small => "SMALL",
            ShardSize::Dedicated => "DEDICATED",
        }
    }
}

impl fmt::Display for ShardSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `SHARD_VS_SIZE` that is none of `LARGE`, `MEDIUM`, `SMALL`, `DEDICATED`. AKO quietly
/// falls back to one shard; we refuse it, so that a typo does not move every host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown shard size {0:?}: expected LARGE, MEDIUM, SMALL or DEDICATED")]
pub struct ParseShardSizeError(pub String);

impl FromStr for ShardSize {
    type Err = ParseShardSizeError;

    /// `LARGE`, `MEDIUM`, `SMALL`, `DEDICATED` (AKO's spellings; any letter case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "LARGE" => Ok(ShardSize::Large),
            "MEDIUM" => Ok(ShardSize::Medium),
            "SMALL" => Ok(ShardSize::Small),
            "DEDICATED" => Ok(ShardSize::Dedicated),
            _ => Err(ParseShardSizeError(s.to_owned())),
        }
    }
}

/// The Ingress translation's own settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngressSettings {
    /// `ENABLE_EVH`: Enhanced Virtual Hosting (children chosen by host and path, hashed
    /// names) instead of SNI (secure hosts as SNI children, insecure hosts by DataScript).
    pub evh: bool,
    /// `SHARD_VS_SIZE`.
    pub shard_size: ShardSize,
    /// The Helm chart's `defaultIngController`: the chart then creates the `avi-lb`
    /// IngressClass with `ingressclass.kubernetes.io/is-default-class: "true"`. When set, an
    /// Ingress without `ingressClassName` is ours even if no IngressClass object of ours is
    /// marked default (a dry run of manifests without the chart's class). When unset (the
    /// default), only IngressClass objects decide, as in AKO.
    pub default_ingress_controller: bool,
}
