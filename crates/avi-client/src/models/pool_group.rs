//! `PoolGroup` (`/api/poolgroup`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Cloud, Marker, Pool, Tenant};
use crate::reference::AviRef;

/// A pool group: weighted (and prioritized) pools a virtual service or HTTP policy selects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolGroup {
    /// The name (unique per tenant, and per cloud for cloud-scoped types).
    pub name: String,
    /// The uuid the controller assigned (`<type>-<uuid4>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The object's own URL (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Microseconds since the epoch of the last write (read-only).
    #[serde(
        rename = "_last_modified",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified: Option<String>,
    /// The tenant it belongs to (the request's tenant when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_ref: Option<AviRef<Tenant>>,
    /// Who created it; AKO writes `ako-<cluster>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Markers (labels for RBAC and ownership), e.g. `clustername`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The cloud (`Default-Cloud` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_ref: Option<AviRef<Cloud>>,
    /// The member pools.
    // Always sent: an empty list is a statement ("no members now"), so ensure and plans can
    // tell it from "not ours to set".
    #[serde(default)]
    pub members: Vec<PoolGroupMember>,
    /// Servers to distribute traffic to at least (0 disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_servers: Option<u32>,
    /// Whether an implicit set of priority labels is generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implicit_priority_labels: Option<bool>,
    /// Checksum of the orchestrator's view; AKO stores its own checksum here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_config_cksum: Option<String>,
    /// Free text; AKO stores JSON here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_metadata: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(PoolGroup, PoolGroup);

/// A pool in a pool group (`PoolGroupMember`). No `Default`: the pool is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolGroupMember {
    /// The pool.
    pub pool_ref: AviRef<Pool>,
    /// Its share of traffic (0-1000, default 1; 0 takes no new connections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<u32>,
    /// Its priority; higher labels are preferred while eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_label: Option<String>,
    /// Deployment state under a deployment policy, e.g. `IN_SERVICE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_state: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PoolGroupMember {
    /// A member for this pool, nothing else set.
    pub fn new(pool_ref: AviRef<Pool>) -> Self {
        PoolGroupMember {
            pool_ref,
            ratio: None,
            priority_label: None,
            deployment_state: None,
            extra: Map::new(),
        }
    }

    /// The same member with this ratio.
    #[must_use]
    pub fn with_ratio(mut self, ratio: u32) -> Self {
        self.ratio = Some(ratio);
        self
    }
}
