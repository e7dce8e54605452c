//! `IpAddr`: an address as the controller spells it, `{"addr": ..., "type": "V4"}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

wire_enum! {
    /// The kind of an [`IpAddr`].
    pub enum IpAddrType {
        /// `V4`.
        default V4 = "V4",
        /// `V6`.
        V6 = "V6",
        /// `DNS`: a name to resolve.
        Dns = "DNS",
    }
}

/// An IP address or DNS name (`IpAddr`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IpAddr {
    /// The address text.
    pub addr: String,
    /// Its kind.
    #[serde(rename = "type")]
    pub type_: IpAddrType,
    /// Fields this client does not model, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl IpAddr {
    /// An address of this kind.
    pub fn new(addr: impl Into<String>, type_: IpAddrType) -> Self {
        IpAddr {
            addr: addr.into(),
            type_,
            extra: Map::new(),
        }
    }

    /// An IPv4 address.
    pub fn v4(addr: impl Into<String>) -> Self {
        IpAddr::new(addr, IpAddrType::V4)
    }

    /// An IPv6 address.
    pub fn v6(addr: impl Into<String>) -> Self {
        IpAddr::new(addr, IpAddrType::V6)
    }

    /// A DNS name.
    pub fn dns(name: impl Into<String>) -> Self {
        IpAddr::new(name, IpAddrType::Dns)
    }

    /// The address parsed, when it is an IPv4 or IPv6 literal.
    pub fn to_std(&self) -> Option<std::net::IpAddr> {
        self.addr.parse().ok()
    }
}

impl From<std::net::IpAddr> for IpAddr {
    fn from(ip: std::net::IpAddr) -> Self {
        match ip {
            std::net::IpAddr::V4(v4) => IpAddr::v4(v4.to_string()),
            std::net::IpAddr::V6(v6) => IpAddr::v6(v6.to_string()),
        }
    }
}
