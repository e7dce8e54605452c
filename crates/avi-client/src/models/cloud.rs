//! `Cloud` (`/api/cloud`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Marker, Tenant};
use crate::reference::AviRef;

/// A cloud, e.g. `Default-Cloud`. Cloud-scoped objects (pools, pool groups, virtual services,
/// VS VIPs, VRF contexts, SE groups) refer to one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cloud {
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
    ///
    /// The 30.2.1 schema has no `created_by` for this type: the controller ignores it, so mark
    /// ownership with `markers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Markers (labels for RBAC and ownership), e.g. `clustername`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// The cloud type, e.g. `CLOUD_NONE`, `CLOUD_VCENTER`, `CLOUD_NSXT` (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vtype: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(Cloud, Cloud);
