//! `VirtualService` (`/api/virtualservice`): normal, SNI/EVH parent and child virtual services.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    AesHmacKey, Cloud, HttpPolicySet, Marker, MatchTarget, Pool, PoolGroup, ServiceEngineGroup,
    SslKeyAndCertificate, SslProfile, Tenant, Vip, VrfContext, VsVip,
};
use crate::reference::AviRef;

wire_enum! {
    /// `VirtualService.type`.
    pub enum VsType {
        /// `VS_TYPE_NORMAL` (the controller's default).
        default Normal = "VS_TYPE_NORMAL",
        /// `VS_TYPE_VH_PARENT`: owns the VIP and services; children are selected by SNI (or,
        /// with [`VhType::Enhanced`], by `vh_matches`).
        VhParent = "VS_TYPE_VH_PARENT",
        /// `VS_TYPE_VH_CHILD`: selected through its parent (`vh_parent_vs_ref`).
        VhChild = "VS_TYPE_VH_CHILD",
    }
}

wire_enum! {
    /// `VirtualService.vh_type`.
    pub enum VhType {
        /// `VS_TYPE_VH_SNI` (the controller's default): children chosen by TLS SNI
        /// (`vh_domain_name`).
        default Sni = "VS_TYPE_VH_SNI",
        /// `VS_TYPE_VH_ENHANCED` (EVH): children chosen by host and `vh_matches` rules.
        Enhanced = "VS_TYPE_VH_ENHANCED",
    }
}

/// A virtual service.
///
/// As AKO builds them: a parent (`type` [`VsType::VhParent`]) has `services`, `vsvip_ref`,
/// `application_profile_ref`, `network_profile_ref`, `se_group_ref`; an SNI child
/// ([`VsType::VhChild`]) has `vh_parent_vs_ref`, `vh_domain_name`,
/// `ssl_key_and_certificate_refs` and `pool_ref`/`pool_group_ref`/`http_policies`, but no
/// `services` or `vsvip_ref`; an EVH child also sets `vh_type` [`VhType::Enhanced`] and
/// `vh_matches`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VirtualService {
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
    /// Normal, virtual-hosting parent or child.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<VsType>,
    /// SNI or enhanced virtual hosting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vh_type: Option<VhType>,
    /// A child's parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vh_parent_vs_ref: Option<AviRef<VirtualService>>,
    /// The SNI names that select an SNI child.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vh_domain_name: Vec<String>,
    /// The host and request matches that select an EVH child.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vh_matches: Vec<VhMatch>,
    /// Whether it is enabled (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Whether its SEs take traffic (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_enabled: Option<bool>,
    /// The listening ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// The shared VIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vsvip_ref: Option<AviRef<VsVip>>,
    /// Legacy inline VIPs (the controller creates a VS VIP from them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vip: Vec<Vip>,
    /// The default pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_ref: Option<AviRef<Pool>>,
    /// The default pool group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_group_ref: Option<AviRef<PoolGroup>>,
    /// HTTP policy sets, applied in `index` order (AKO starts user policies at 11).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_policies: Vec<HttpPolicies>,
    /// DataScript sets, run in `index` order (AKO's SNI shared virtual service selects
    /// insecure hosts' pools with one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vs_datascripts: Vec<super::VsDataScripts>,
    /// The certificates presented to clients (up to one RSA and one EC).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssl_key_and_certificate_refs: Vec<AviRef<SslKeyAndCertificate>>,
    /// TLS versions and ciphers accepted from clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_profile_ref: Option<AviRef<SslProfile>>,
    /// The application profile (an `ApplicationProfile` ref, e.g.
    /// `/api/applicationprofile/?name=System-HTTP`; that type is not modelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_profile_ref: Option<String>,
    /// The network profile (a `NetworkProfile` ref, e.g.
    /// `/api/networkprofile/?name=System-TCP-Proxy`; that type is not modelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_profile_ref: Option<String>,
    /// Where it is placed (`Default-Group` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_group_ref: Option<AviRef<ServiceEngineGroup>>,
    /// The cloud (`Default-Cloud` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_ref: Option<AviRef<Cloud>>,
    /// The VRF context (the cloud's `global` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrf_context_ref: Option<AviRef<VrfContext>>,
    /// Pools that must be up for it to be up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pools_up: Option<u32>,
    /// Place on every SE of the group (container clouds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub east_west_placement: Option<bool>,
    /// Checksum of the orchestrator's view; AKO stores its own checksum here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_config_cksum: Option<String>,
    /// Free text; AKO stores JSON here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_metadata: Option<String>,
    /// TLS session ticket keys the controller generates (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_ticket_key: Vec<AesHmacKey>,
    /// Fields this client does not model (`analytics_profile_ref`, `vs_datascripts`,
    /// `vip_runtime`, ...), kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(VirtualService, VirtualService);

/// A listening port or port range (`Service`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// The port (0-65535).
    pub port: u16,
    /// The range's last port (0 or absent: a single port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range_end: Option<u16>,
    /// Terminate TLS on this port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ssl: Option<bool>,
    /// HTTP/2 on this port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_http2: Option<bool>,
    /// An `ApplicationProfile` ref for this port only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_application_profile_ref: Option<String>,
    /// A `NetworkProfile` ref for this port only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_network_profile_ref: Option<String>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Service {
    /// A plain port.
    pub fn port(port: u16) -> Self {
        Service {
            port,
            ..Service::default()
        }
    }

    /// A port that terminates TLS.
    pub fn tls(port: u16) -> Self {
        Service {
            port,
            enable_ssl: Some(true),
            ..Service::default()
        }
    }
}

/// An HTTP policy set applied by a virtual service (`HTTPPolicies`). No `Default`: the set is
/// required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpPolicies {
    /// Its position among the virtual service's policy sets.
    pub index: u32,
    /// The policy set.
    pub http_policy_set_ref: AviRef<HttpPolicySet>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HttpPolicies {
    /// The policy set at this index.
    pub fn new(index: u32, http_policy_set_ref: AviRef<HttpPolicySet>) -> Self {
        HttpPolicies {
            index,
            http_policy_set_ref,
            extra: Map::new(),
        }
    }
}

/// How an EVH child is selected for one host (`VHMatch`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VhMatch {
    /// The host name.
    pub host: String,
    /// Request matches; any rule selects the child (22.1.3+; at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<VhMatchRule>,
    /// Fields this client does not model (the pre-22.1.3 `path`), kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One rule of a [`VhMatch`] (`VHMatchRule`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VhMatchRule {
    /// The rule's name (AKO: `rule-<i>`).
    pub name: String,
    /// What it matches.
    #[serde(default)]
    pub matches: MatchTarget,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
