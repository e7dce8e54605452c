//! The VIP every VS VIP asks for: allocated by the cloud's IPAM, from `VIP_NETWORK_LIST`'s
//! network when one is given (AKO's setting, Helm `NetworkSettings.vipNetworkList`).

use avi_client::models::{
    AutoAllocateIpType, IpAddr, IpAddrPrefix, IpAddrType, IpNetworkSubnet, Vip,
};

use crate::settings::Settings;

/// One entry of `VIP_NETWORK_LIST`: `{"networkName": ..., "cidr": ..., "v6cidr": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VipNetwork {
    /// The Avi network's name.
    pub network_name: String,
    /// Its IPv4 subnet (`10.0.0.0/24`), when VIPs are IPv4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    /// Its IPv6 subnet (`2001:db8::/64`), when VIPs are IPv6.
    #[serde(default, rename = "v6cidr", skip_serializing_if = "Option::is_none")]
    pub v6cidr: Option<String>,
}

/// Why `VIP_NETWORK_LIST` cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VipNetworkError {
    /// Not a JSON list of `{networkName, cidr, v6cidr}`.
    #[error("VIP_NETWORK_LIST is not a JSON list of {{networkName, cidr, v6cidr}}: {0}")]
    NotAList(String),
    /// An entry without a network name.
    #[error("VIP_NETWORK_LIST entry {0} has no networkName")]
    NoName(usize),
    /// A network name Avi cannot hold.
    #[error("VIP_NETWORK_LIST entry {0}: the network name must be 1 to 255 printable characters")]
    BadName(usize),
    /// A CIDR that does not parse, or of the wrong family.
    #[error("VIP_NETWORK_LIST entry {index}: {field} {value:?} is not an {family} CIDR")]
    BadCidr {
        /// The entry.
        index: usize,
        /// `cidr` or `v6cidr`.
        field: &'static str,
        /// What was given.
        value: String,
        /// `IPv4` or `IPv6`.
        family: &'static str,
    },
}

/// Parses `VIP_NETWORK_LIST`; empty text (or `[]`) is no network.
pub fn parse_vip_network_list(text: &str) -> Result<Vec<VipNetwork>, VipNetworkError> {
    let text = text.trim();
    if text.is_empty() || text == "null" {
        return Ok(Vec::new());
    }
    let list: Vec<VipNetwork> =
        serde_json::from_str(text).map_err(|e| VipNetworkError::NotAList(e.to_string()))?;
    for (i, n) in list.iter().enumerate() {
        if n.network_name.trim().is_empty() {
            return Err(VipNetworkError::NoName(i));
        }
        if n.network_name.len() > crate::names::MAX_NAME_LEN
            || n.network_name.chars().any(char::is_control)
        {
            return Err(VipNetworkError::BadName(i));
        }
        for (field, value, v6) in [("cidr", &n.cidr, false), ("v6cidr", &n.v6cidr, true)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty())
                && prefix(v, v6).is_none()
            {
                return Err(VipNetworkError::BadCidr {
                    index: i,
                    field,
                    value: v.to_owned(),
                    family: if v6 { "IPv6" } else { "IPv4" },
                });
            }
        }
    }
    Ok(list)
}

/// `10.0.0.0/24` as an Avi prefix, when it is one of the family.
fn prefix(cidr: &str, v6: bool) -> Option<IpAddrPrefix> {
    let (addr, mask) = cidr.trim().split_once('/')?;
    let ip: std::net::IpAddr = addr.parse().ok()?;
    let mask: u32 = mask.parse().ok()?;
    if ip.is_ipv6() != v6 || mask > if v6 { 128 } else { 32 } {
        return None;
    }
    Some(IpAddrPrefix {
        ip_addr: IpAddr::new(
            ip.to_string(),
            if v6 { IpAddrType::V6 } else { IpAddrType::V4 },
        ),
        mask,
        extra: Default::default(),
    })
}

/// The VIP of a VS VIP without a static address: allocated by IPAM, from the first
/// `VIP_NETWORK_LIST` network (and its subnets) when there is one, as AKO asks for it.
pub fn auto_vip(settings: &Settings) -> Vip {
    let mut vip = Vip::auto_allocated("0");
    let Some(n) = settings.vip_networks.first() else {
        return vip;
    };
    let subnet = n.cidr.as_deref().and_then(|c| prefix(c, false));
    let subnet6 = n.v6cidr.as_deref().and_then(|c| prefix(c, true));
    vip.auto_allocate_ip_type = Some(match (&subnet, &subnet6) {
        (None, Some(_)) => AutoAllocateIpType::V6Only,
        (Some(_), Some(_)) => AutoAllocateIpType::V4V6,
        _ => AutoAllocateIpType::V4Only,
    });
    vip.ipam_network_subnet = Some(IpNetworkSubnet {
        network_ref: Some(format!(
            "/api/network/?name={}",
            url_encode(&n.network_name)
        )),
        subnet,
        subnet6,
        extra: Default::default(),
    });
    vip
}

/// A name as a query value (names may hold spaces and `&`).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn akos_list_becomes_the_vips_network_and_subnets() {
        let list = parse_vip_network_list(
            r#"[{"networkName":"vip net","cidr":"10.250.250.0/24"},{"networkName":"second"}]"#,
        )
        .unwrap();
        let settings = Settings {
            vip_networks: list,
            ..Settings::default()
        };
        let vip = serde_json::to_value(auto_vip(&settings)).unwrap();
        assert_eq!(
            vip,
            json!({"vip_id": "0", "auto_allocate_ip": true, "auto_allocate_ip_type": "V4_ONLY",
                   "ipam_network_subnet": {"network_ref": "/api/network/?name=vip%20net",
                       "subnet": {"ip_addr": {"addr": "10.250.250.0", "type": "V4"}, "mask": 24}}})
        );
        let dual = Settings {
            vip_networks: parse_vip_network_list(
                r#"[{"networkName":"n","cidr":"10.0.0.0/16","v6cidr":"2001:db8::/64"}]"#,
            )
            .unwrap(),
            ..Settings::default()
        };
        let vip = auto_vip(&dual);
        assert_eq!(vip.auto_allocate_ip_type, Some(AutoAllocateIpType::V4V6));
        // Without a list, the cloud's IPAM picks.
        let vip = serde_json::to_value(auto_vip(&Settings::default())).unwrap();
        assert_eq!(vip, json!({"vip_id": "0", "auto_allocate_ip": true}));
    }

    #[test]
    fn bad_lists_are_refused_with_the_entry() {
        assert_eq!(parse_vip_network_list("").unwrap(), vec![]);
        assert_eq!(parse_vip_network_list("[]").unwrap(), vec![]);
        assert!(matches!(
            parse_vip_network_list("vip-network"),
            Err(VipNetworkError::NotAList(_))
        ));
        assert_eq!(
            parse_vip_network_list(r#"[{"networkName":""}]"#),
            Err(VipNetworkError::NoName(0))
        );
        assert_eq!(
            parse_vip_network_list(&format!(r#"[{{"networkName":"{}"}}]"#, "n".repeat(300))),
            Err(VipNetworkError::BadName(0))
        );
        assert!(matches!(
            parse_vip_network_list(r#"[{"networkName":"a","cidr":"2001:db8::/64"}]"#),
            Err(VipNetworkError::BadCidr { field: "cidr", .. })
        ));
        assert!(matches!(
            parse_vip_network_list(r#"[{"networkName":"a","cidr":"10.0.0.0/33"}]"#),
            Err(VipNetworkError::BadCidr { .. })
        ));
    }
}
