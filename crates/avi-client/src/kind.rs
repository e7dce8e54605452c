//! The object types the client manages, and the order a controller needs them in.

use std::fmt;

/// An Avi object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `tenant`.
    Tenant,
    /// `cloud`.
    Cloud,
    /// `vrfcontext`.
    VrfContext,
    /// `serviceenginegroup`.
    ServiceEngineGroup,
    /// `sslprofile`.
    SslProfile,
    /// `networkprofile` (referenced, e.g. `System-TCP-Proxy`).
    NetworkProfile,
    /// `pkiprofile`.
    PkiProfile,
    /// `sslkeyandcertificate`.
    SslKeyAndCertificate,
    /// `applicationprofile` (`System-HTTP`, or one asking clients for certificates, which
    /// refers to a PKI profile).
    ApplicationProfile,
    /// `healthmonitor`.
    HealthMonitor,
    /// `applicationpersistenceprofile`.
    ApplicationPersistenceProfile,
    /// `pool`.
    Pool,
    /// `poolgroup`.
    PoolGroup,
    /// `httppolicyset`.
    HttpPolicySet,
    /// `vsdatascriptset`.
    VsDataScriptSet,
    /// `vsvip`.
    VsVip,
    /// `virtualservice`.
    VirtualService,
}

impl Kind {
    /// Every kind, in creation order.
    pub const ALL: [Kind; 17] = [
        Kind::Tenant,
        Kind::Cloud,
        Kind::VrfContext,
        Kind::ServiceEngineGroup,
        Kind::SslProfile,
        Kind::NetworkProfile,
        Kind::PkiProfile,
        Kind::SslKeyAndCertificate,
        Kind::ApplicationProfile,
        Kind::HealthMonitor,
        Kind::ApplicationPersistenceProfile,
        Kind::Pool,
        Kind::PoolGroup,
        Kind::HttpPolicySet,
        Kind::VsDataScriptSet,
        Kind::VsVip,
        Kind::VirtualService,
    ];

    /// The URL name, `/api/<name>`.
    pub const fn path(self) -> &'static str {
        match self {
            Kind::Tenant => "tenant",
            Kind::Cloud => "cloud",
            Kind::VrfContext => "vrfcontext",
            Kind::ServiceEngineGroup => "serviceenginegroup",
            Kind::SslProfile => "sslprofile",
            Kind::ApplicationProfile => "applicationprofile",
            Kind::NetworkProfile => "networkprofile",
            Kind::PkiProfile => "pkiprofile",
            Kind::SslKeyAndCertificate => "sslkeyandcertificate",
            Kind::HealthMonitor => "healthmonitor",
            Kind::ApplicationPersistenceProfile => "applicationpersistenceprofile",
            Kind::Pool => "pool",
            Kind::PoolGroup => "poolgroup",
            Kind::HttpPolicySet => "httppolicyset",
            Kind::VsDataScriptSet => "vsdatascriptset",
            Kind::VsVip => "vsvip",
            Kind::VirtualService => "virtualservice",
        }
    }

    /// The kind served at `/api/<path>`.
    pub fn from_path(path: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.path() == path)
    }

    /// Creation rank: an object only refers to kinds of a lower rank (a child VS refers to its
    /// parent, which is the same kind; plans order those by their own references).
    pub fn rank(self) -> usize {
        Kind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(usize::MAX)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}
