//! `VsVip` (`/api/vsvip`): the VIPs (and DNS records) virtual services share.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Cloud, IpAddr, Marker, Tenant, VrfContext};
use crate::reference::AviRef;

wire_enum! {
    /// `Vip.auto_allocate_ip_type`.
    pub enum AutoAllocateIpType {
        /// `V4_ONLY` (the controller's default).
        default V4Only = "V4_ONLY",
        /// `V6_ONLY`.
        V6Only = "V6_ONLY",
        /// `V4_V6`: one of each.
        V4V6 = "V4_V6",
    }
}

wire_enum! {
    /// `DnsInfo.type`.
    pub enum DnsRecordType {
        /// `DNS_RECORD_A` (the controller's default).
        default A = "DNS_RECORD_A",
        /// `DNS_RECORD_AAAA`.
        Aaaa = "DNS_RECORD_AAAA",
        /// `DNS_RECORD_CNAME`.
        Cname = "DNS_RECORD_CNAME",
        /// `DNS_RECORD_SRV`.
        Srv = "DNS_RECORD_SRV",
        /// `DNS_RECORD_TXT`.
        Txt = "DNS_RECORD_TXT",
        /// `DNS_RECORD_OTHER`.
        OtherRecord = "DNS_RECORD_OTHER",
    }
}

/// A VS VIP: one or more VIPs, shared by the virtual services that refer to it.
///
/// A VIP's `vip_id` cannot change once created (400 `Changing an existing VIP's vip_id is not
/// supported`): keep the ids the controller returned when updating.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VsVip {
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
    /// The cloud (`Default-Cloud` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_ref: Option<AviRef<Cloud>>,
    /// The VRF context (the cloud's `global` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrf_context_ref: Option<AviRef<VrfContext>>,
    /// The VIPs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vip: Vec<Vip>,
    /// DNS records for the VIPs (when the cloud has a DNS profile).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_info: Vec<DnsInfo>,
    /// Place on every SE of the group (container clouds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub east_west_placement: Option<bool>,
    /// The NSX-T tier-1 logical router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier1_lr: Option<String>,
    /// BGP peer labels to advertise the VIPs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bgp_peer_labels: Vec<String>,
    /// Fields this client does not model (`ipam_selector`, ...), kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

avi_object!(VsVip, VsVip);

/// A VIP (`Vip`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vip {
    /// Its id within the VS VIP (the controller assigns `"0"` when unset); immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vip_id: Option<String>,
    /// A static IPv4 address, or the one allocated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<IpAddr>,
    /// A static IPv6 address, or the one allocated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6_address: Option<IpAddr>,
    /// Allocate the address through IPAM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_allocate_ip: Option<bool>,
    /// Which address families to allocate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_allocate_ip_type: Option<AutoAllocateIpType>,
    /// Allocate a floating IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_allocate_floating_ip: Option<bool>,
    /// A floating IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating_ip: Option<IpAddr>,
    /// Whether the VIP is enabled (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The VIP's mask (default 32; others only for wildcard VIPs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_length: Option<u32>,
    /// Whether the controller allocated the VIP (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avi_allocated_vip: Option<bool>,
    /// Whether the controller allocated the floating IP (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avi_allocated_fip: Option<bool>,
    /// The network (and subnets) IPAM allocates this VIP from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam_network_subnet: Option<IpNetworkSubnet>,
    /// Fields this client does not model (`placement_networks`, `discovered_networks`, ...),
    /// kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Where IPAM allocates a VIP (`IPNetworkSubnet`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IpNetworkSubnet {
    /// The network, `/api/network/?name=<name>` (a reference to an object this client does not
    /// otherwise model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_ref: Option<String>,
    /// The IPv4 subnet of the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<IpAddrPrefix>,
    /// The IPv6 subnet of the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet6: Option<IpAddrPrefix>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An address prefix (`IpAddrPrefix`): `10.0.0.0` and mask `24`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IpAddrPrefix {
    /// The network address.
    pub ip_addr: IpAddr,
    /// The prefix length.
    pub mask: u32,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Vip {
    /// A VIP with this id and a static address.
    pub fn with_address(vip_id: impl Into<String>, ip: IpAddr) -> Self {
        Vip {
            vip_id: Some(vip_id.into()),
            ip_address: Some(ip),
            ..Vip::default()
        }
    }

    /// A VIP with this id, its IPv4 address allocated by IPAM.
    pub fn auto_allocated(vip_id: impl Into<String>) -> Self {
        Vip {
            vip_id: Some(vip_id.into()),
            auto_allocate_ip: Some(true),
            ..Vip::default()
        }
    }
}

/// A DNS record for a VIP (`DnsInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsInfo {
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Time to live (the DNS profile's when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    /// The record type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<DnsRecordType>,
    /// How to pick among addresses, e.g. `DNS_RECORD_RESPONSE_CONSISTENT_HASH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// Records per response (0 = all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_records_in_response: Option<u32>,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DnsInfo {
    /// An A record for this name.
    pub fn fqdn(fqdn: impl Into<String>) -> Self {
        DnsInfo {
            fqdn: Some(fqdn.into()),
            ..DnsInfo::default()
        }
    }
}
