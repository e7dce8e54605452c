//! Typed models of the Avi objects the client manages.
//!
//! Every model (and every nested structure in it) keeps the fields it does not type in a
//! flattened `extra` map, so a read-modify-write never drops what the controller or another tool
//! set. Optional fields are skipped when unset, so a body holds only what the caller set.
//!
//! Enumerations the controller defines are Rust enums with an `Other(String)` variant: a value
//! a newer controller sends deserializes, and serializes back unchanged.
//!
//! ```
//! use avi_client::AviRef;
//! use avi_client::models::{HealthMonitor, IpAddr, Marker, Pool, Server};
//!
//! let pool = Pool {
//!     servers: vec![Server::new(IpAddr::v4("10.1.1.1")).with_port(8080)],
//!     health_monitor_refs: vec![AviRef::<HealthMonitor>::by_name("System-TCP")],
//!     markers: vec![Marker::new("clustername", ["cluster"])],
//!     ..Pool::new("cluster--default-svc-80")
//! };
//! let body = serde_json::to_value(&pool).unwrap();
//! assert_eq!(body["health_monitor_refs"][0], "/api/healthmonitor/?name=System-TCP");
//! assert!(body.get("uuid").is_none()); // only what we set is sent
//! ```

/// Declares a controller enumeration: known variants with their wire names, plus
/// `Other(String)` that keeps any other value verbatim (so deserialization never fails and a
/// read-modify-write sends back what it read). The variant marked `default` is the
/// `Default`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(#[$dmeta:meta])*
            default $dvariant:ident = $dwire:literal,
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $(#[$dmeta])*
            #[default]
            $dvariant,
            $(
                $(#[$vmeta])*
                $variant,
            )*
            /// A value this client does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    Self::$dvariant => $dwire,
                    $(Self::$variant => $wire,)*
                    Self::Other(other) => other.as_str(),
                }
            }

            /// The value spelled `wire`; an unknown spelling gives `Other`.
            pub fn from_wire(wire: &str) -> Self {
                match wire {
                    $dwire => Self::$dvariant,
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// Whether this is one of the values this client knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_wire(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}

/// Implements [`AviObject`](crate::object::AviObject) and a `new(name)` constructor for a model
/// with `name`, `uuid` and `created_by` fields.
macro_rules! avi_object {
    ($ty:ident, $kind:ident) => {
        impl $ty {
            /// An object with this name and nothing else set.
            pub fn new(name: impl Into<String>) -> Self {
                Self {
                    name: name.into(),
                    ..Self::default()
                }
            }
        }

        impl crate::object::AviObject for $ty {
            const KIND: crate::kind::Kind = crate::kind::Kind::$kind;
            fn name(&self) -> &str {
                &self.name
            }
            fn created_by(&self) -> Option<&str> {
                self.created_by.as_deref()
            }
            fn uuid(&self) -> Option<&str> {
                self.uuid.as_deref()
            }
        }
    };
}

mod application_persistence_profile;
mod application_profile;
mod cloud;
mod health_monitor;
mod http_action;
mod http_policy_set;
mod ip_addr;
mod marker;
mod match_target;
mod pki_profile;
mod pool;
mod pool_group;
mod secret;
mod service_engine_group;
mod ssl_certificate;
mod ssl_key_and_certificate;
mod ssl_profile;
mod tenant;
mod virtual_service;
mod vrf_context;
mod vs_datascript_set;
mod vs_vip;

#[cfg(test)]
mod tests;

pub use application_persistence_profile::{
    ApplicationPersistenceProfile, HttpCookiePersistenceProfile, PersistenceType,
};
pub use application_profile::{
    APPLICATION_PROFILE_TYPE_HTTP, ApplicationProfile, HttpApplicationProfile,
    SslClientCertificateMode,
};
pub use cloud::Cloud;
pub use health_monitor::{HealthMonitor, HealthMonitorType};
pub use http_action::{
    HttpHdrAction, HttpHdrActionType, HttpHdrData, HttpHdrValue, HttpRedirectAction,
    HttpRewriteUrlAction, HttpSwitchingAction, HttpSwitchingActionType, LocalResponseStatusCode,
    RedirectProtocol, RedirectStatusCode, UriParam, UriParamQuery, UriParamToken, UriParamType,
    UriTokenType,
};
pub use http_policy_set::{
    HttpPolicySet, HttpRequestPolicy, HttpRequestRule, HttpResponsePolicy, HttpResponseRule,
};
pub use ip_addr::{IpAddr, IpAddrType};
pub use marker::Marker;
pub use match_target::{
    HdrMatch, HdrMatchCriteria, HostHdrMatch, HttpMethod, MatchCase, MatchTarget, MethodMatch,
    MethodMatchCriteria, PathMatch, PathMatchCriteria, PortMatch, PortMatchCriteria, QueryMatch,
    QueryMatchCriteria, ResponseMatchTarget,
};
pub use pki_profile::PkiProfile;
pub use pool::{LbAlgorithm, LbAlgorithmHash, Pool, Server};
pub use pool_group::{PoolGroup, PoolGroupMember};
pub use secret::{AesHmacKey, SecretKey};
pub use service_engine_group::ServiceEngineGroup;
pub use ssl_certificate::{
    SslCertificate, SslCertificateDescription, SslCertificateExpiryStatus, SslKeyAlgorithm,
    SslKeyEcParams, SslKeyParams, SslKeyRsaParams,
};
pub use ssl_key_and_certificate::{
    CertificateAuthority, SslCertificateFormat, SslCertificateStatus, SslCertificateType,
    SslKeyAndCertificate,
};
pub use ssl_profile::{SslProfile, SslProfileType, SslVersion, SslVersionType};
pub use tenant::Tenant;
pub use virtual_service::{
    HttpPolicies, Service, VhMatch, VhMatchRule, VhType, VirtualService, VsType,
};
pub use vrf_context::VrfContext;
pub use vs_datascript_set::{VsDataScript, VsDataScriptSet, VsDataScripts};
pub use vs_vip::{
    AutoAllocateIpType, DnsInfo, DnsRecordType, IpAddrPrefix, IpNetworkSubnet, Vip, VsVip,
};
