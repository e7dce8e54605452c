//! `Pool` (`/api/pool`) and its `Server`s.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    ApplicationPersistenceProfile, Cloud, HealthMonitor, IpAddr, Marker, PkiProfile,
    SslKeyAndCertificate, SslProfile, Tenant, VrfContext,
};
use crate::reference::AviRef;

wire_enum! {
    /// `Pool.lb_algorithm`.
    pub enum LbAlgorithm {
        /// `LB_ALGORITHM_LEAST_CONNECTIONS` (the controller's default).
        default LeastConnections = "LB_ALGORITHM_LEAST_CONNECTIONS",
        /// `LB_ALGORITHM_ROUND_ROBIN`.
        RoundRobin = "LB_ALGORITHM_ROUND_ROBIN",
        /// `LB_ALGORITHM_FASTEST_RESPONSE`.
        FastestResponse = "LB_ALGORITHM_FASTEST_RESPONSE",
        /// `LB_ALGORITHM_CONSISTENT_HASH` (key chosen by `lb_algorithm_hash`).
        ConsistentHash = "LB_ALGORITHM_CONSISTENT_HASH",
        /// `LB_ALGORITHM_LEAST_LOAD`.
        LeastLoad = "LB_ALGORITHM_LEAST_LOAD",
        /// `LB_ALGORITHM_FEWEST_SERVERS`.
        FewestServers = "LB_ALGORITHM_FEWEST_SERVERS",
        /// `LB_ALGORITHM_RANDOM`.
        Random = "LB_ALGORITHM_RANDOM",
        /// `LB_ALGORITHM_FEWEST_TASKS`.
        FewestTasks = "LB_ALGORITHM_FEWEST_TASKS",
        /// `LB_ALGORITHM_CORE_AFFINITY`.
        CoreAffinity = "LB_ALGORITHM_CORE_AFFINITY",
        /// `LB_ALGORITHM_NEAREST_SERVER` (GSLB pools only).
        NearestServer = "LB_ALGORITHM_NEAREST_SERVER",
        /// `LB_ALGORITHM_TOPOLOGY` (GSLB pools only).
        Topology = "LB_ALGORITHM_TOPOLOGY",
    }
}

wire_enum! {
    /// `Pool.lb_algorithm_hash`: the key of [`LbAlgorithm::ConsistentHash`].
    pub enum LbAlgorithmHash {
        /// `LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS` (the controller's default).
        default SourceIpAddress = "LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS",
        /// `LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT`.
        SourceIpAddressAndPort = "LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT",
        /// `LB_ALGORITHM_CONSISTENT_HASH_URI`.
        Uri = "LB_ALGORITHM_CONSISTENT_HASH_URI",
        /// `LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER` (header in
        /// `lb_algorithm_consistent_hash_hdr`).
        CustomHeader = "LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER",
        /// `LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_STRING`.
        CustomString = "LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_STRING",
        /// `LB_ALGORITHM_CONSISTENT_HASH_CALLID`.
        CallId = "LB_ALGORITHM_CONSISTENT_HASH_CALLID",
    }
}

/// A pool of servers.
///
/// For Istio mTLS, AKO sets `ssl_profile_ref` (re-encrypt, `System-Standard`),
/// `ssl_key_and_certificate_ref` (the client certificate presented to servers) and
/// `pki_profile_ref` (server certificate validation), all by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pool {
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
    /// The VRF context (the cloud's `global` when unset; normally inherited from the VS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrf_ref: Option<AviRef<VrfContext>>,
    /// The servers (at most 5000).
    // Always sent: an empty list is a statement ("no servers now"), so ensure and plans can
    // tell it from "not ours to set".
    #[serde(default)]
    pub servers: Vec<Server>,
    /// Port for servers that set none (default 80).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_server_port: Option<u16>,
    /// Whether the pool is enabled (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The load balancing algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lb_algorithm: Option<LbAlgorithm>,
    /// The consistent hash key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lb_algorithm_hash: Option<LbAlgorithmHash>,
    /// The header hashed by [`LbAlgorithmHash::CustomHeader`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lb_algorithm_consistent_hash_hdr: Option<String>,
    /// Active health monitors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_monitor_refs: Vec<AviRef<HealthMonitor>>,
    /// Passive monitoring of live traffic (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_health_monitor: Option<bool>,
    /// Session persistence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_persistence_profile_ref: Option<AviRef<ApplicationPersistenceProfile>>,
    /// Re-encrypt to servers with this SSL profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_profile_ref: Option<AviRef<SslProfile>>,
    /// The client certificate presented to servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_key_and_certificate_ref: Option<AviRef<SslKeyAndCertificate>>,
    /// Validate servers' certificates against this PKI profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pki_profile_ref: Option<AviRef<PkiProfile>>,
    /// The TLS SNI name sent to servers (the request's host header when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Send TLS SNI to servers (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni_enabled: Option<bool>,
    /// Check the server certificate's names against `domain_name` (or the host header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_check_enabled: Option<bool>,
    /// Names accepted in server certificates when `host_check_enabled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domain_name: Vec<String>,
    /// Seconds a disabled server keeps its connections (0 immediate, -1 infinite; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graceful_disable_timeout: Option<i32>,
    /// Seconds to ramp up traffic to a new server (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_ramp_duration: Option<u32>,
    /// HTTP/2 to the servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_http2: Option<bool>,
    /// Milliseconds a server has to accept the connection and to start its response once the
    /// request is sent, else the client gets 504 (0 or absent: Avi's default, 60 minutes; at
    /// most 21,600,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_timeout: Option<u32>,
    /// Keep the client's destination port instead of the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_service_port: Option<bool>,
    /// Servers that must be up for the pool to be up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_servers_up: Option<u32>,
    /// Checksum of the orchestrator's view; AKO stores its own checksum here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_config_cksum: Option<String>,
    /// Free text; AKO stores JSON here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_metadata: Option<String>,
    /// Fields this client does not model (`analytics_profile_ref`, `placement_networks`, ...),
    /// kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(Pool, Pool);

/// A server in a pool (`Server`); identified within the pool by `ip` and `port`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// Its address.
    pub ip: IpAddr,
    /// Its port (absent or 0: the pool's `default_server_port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// A DNS name for it (defaults to the address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Whether it takes traffic (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Its share of traffic (1-20, default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<u32>,
    /// An external id; AKO writes `<ip>:<port>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_uuid: Option<String>,
    /// Its id in an external orchestrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_orchestration_id: Option<String>,
    /// The node it runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_node: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Server {
    /// A server at this address, nothing else set.
    pub fn new(ip: IpAddr) -> Self {
        Server {
            ip,
            ..Server::default()
        }
    }

    /// The same server on `port`.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The port traffic goes to: its own, else the pool's default (80 when unset).
    pub fn effective_port(&self, pool: &Pool) -> u16 {
        match self.port {
            Some(port) if port != 0 => port,
            _ => pool.default_server_port.unwrap_or(80),
        }
    }
}
