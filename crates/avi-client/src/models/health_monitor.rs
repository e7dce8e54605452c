//! `HealthMonitor` (`/api/healthmonitor`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Marker, Tenant};
use crate::reference::AviRef;

wire_enum! {
    /// `HealthMonitor.type`.
    pub enum HealthMonitorType {
        /// `HEALTH_MONITOR_TCP`.
        default Tcp = "HEALTH_MONITOR_TCP",
        /// `HEALTH_MONITOR_PING`.
        Ping = "HEALTH_MONITOR_PING",
        /// `HEALTH_MONITOR_HTTP`.
        Http = "HEALTH_MONITOR_HTTP",
        /// `HEALTH_MONITOR_HTTPS`.
        Https = "HEALTH_MONITOR_HTTPS",
        /// `HEALTH_MONITOR_UDP`.
        Udp = "HEALTH_MONITOR_UDP",
        /// `HEALTH_MONITOR_SCTP`.
        Sctp = "HEALTH_MONITOR_SCTP",
        /// `HEALTH_MONITOR_DNS`.
        Dns = "HEALTH_MONITOR_DNS",
        /// `HEALTH_MONITOR_EXTERNAL`.
        External = "HEALTH_MONITOR_EXTERNAL",
    }
}

/// A health monitor. System monitors (`System-TCP`, `System-HTTP`, `System-Ping`, `System-UDP`)
/// live in the admin tenant and are shared with all tenants.
///
/// The per-type settings (`tcp_monitor`, `http_monitor`, ...) stay in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthMonitor {
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
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The monitor type (required on create).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<HealthMonitorType>,
    /// Port to monitor instead of the server's (0 = the server's port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_port: Option<u16>,
    /// Seconds between checks (1-3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_interval: Option<u32>,
    /// Seconds to wait for a response (1-2400, less than `send_interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_timeout: Option<u32>,
    /// Consecutive successes before a server is up (1-50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_checks: Option<u32>,
    /// Consecutive failures before a server is down (1-50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_checks: Option<u32>,
    /// Whether it is replicated across a GSLB federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_federated: Option<bool>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(HealthMonitor, HealthMonitor);
