//! `VSDataScriptSet` (`/api/vsdatascriptset`): Lua scripts a virtual service runs on events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Marker, Pool, PoolGroup, Tenant};
use crate::reference::AviRef;

/// A set of DataScripts (AKO's SNI shared virtual service selects an insecure host's pool with
/// one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VsDataScriptSet {
    /// The name (unique per tenant).
    pub name: String,
    /// The uuid the controller assigned.
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
    /// The tenant it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_ref: Option<AviRef<Tenant>>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Markers, e.g. `clustername`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The scripts, each run on its event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datascript: Vec<VsDataScript>,
    /// Pool groups the scripts may select.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pool_group_refs: Vec<AviRef<PoolGroup>>,
    /// Pools the scripts may select.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pool_refs: Vec<AviRef<Pool>>,
    /// Protocol parsers the scripts use (`/api/protocolparser/?name=Default-TLS` for
    /// `avi_tls.get_sni`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocol_parser_refs: Vec<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(VsDataScriptSet, VsDataScriptSet);

/// One script and the event it runs on (`VS_DATASCRIPT_EVT_HTTP_REQ`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VsDataScript {
    /// The event.
    pub evt: String,
    /// The Lua source.
    pub script: String,
}

/// A virtual service's reference to a DataScript set (`VSDataScripts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VsDataScripts {
    /// Evaluation order.
    pub index: u32,
    /// The set.
    pub vs_datascript_set_ref: AviRef<VsDataScriptSet>,
}
