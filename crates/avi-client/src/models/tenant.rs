//! `Tenant` (`/api/tenant`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A tenant. The `admin` tenant has uuid `admin`; profile objects in it are shared with all
/// tenants. A tenant belongs to no tenant and has no markers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
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
    /// Who created it; AKO writes `ako-<cluster>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether its config settings are its own rather than the provider's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<bool>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(Tenant, Tenant);
