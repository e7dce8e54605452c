//! The object types the emulator serves and what the controller knows about each.

/// What the controller knows about one object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    /// URL name (`/api/<name>`), lowercase.
    pub name: &'static str,
    /// Model name as the controller spells it in messages (`VirtualService`).
    pub model: &'static str,
    /// Whether names are unique per (tenant, cloud) and objects carry a `cloud_ref`.
    pub cloud_scoped: bool,
    /// Whether objects of the admin tenant are visible and referable from every tenant
    /// ("profile objects in the admin tenant are shared across all tenants").
    pub shared_from_admin: bool,
    /// Whether objects live outside any tenant (tenants themselves).
    pub global: bool,
}

const fn t(name: &'static str, model: &'static str, cloud: bool, shared: bool) -> TypeInfo {
    TypeInfo {
        name,
        model,
        cloud_scoped: cloud,
        shared_from_admin: shared,
        global: false,
    }
}

/// Every type served under `/api/<type>`.
pub const TYPES: &[TypeInfo] = &[
    TypeInfo {
        name: "tenant",
        model: "Tenant",
        cloud_scoped: false,
        shared_from_admin: false,
        global: true,
    },
    t("cloud", "Cloud", false, true),
    t("vrfcontext", "VrfContext", true, true),
    t("serviceenginegroup", "ServiceEngineGroup", true, true),
    t("network", "Network", true, true),
    t(
        "ipamdnsproviderprofile",
        "IpamDnsProviderProfile",
        false,
        true,
    ),
    t("sslprofile", "SSLProfile", false, true),
    t("applicationprofile", "ApplicationProfile", false, true),
    t("networkprofile", "NetworkProfile", false, true),
    t("analyticsprofile", "AnalyticsProfile", false, true),
    t("healthmonitor", "HealthMonitor", false, true),
    t(
        "applicationpersistenceprofile",
        "ApplicationPersistenceProfile",
        false,
        true,
    ),
    t("pkiprofile", "PKIProfile", false, true),
    t("sslkeyandcertificate", "SSLKeyAndCertificate", false, true),
    t("pool", "Pool", true, false),
    t("poolgroup", "PoolGroup", true, false),
    t("vsvip", "VsVip", true, false),
    t("virtualservice", "VirtualService", true, false),
    t("httppolicyset", "HTTPPolicySet", false, false),
    t("protocolparser", "ProtocolParser", false, true),
    t("vsdatascriptset", "VSDataScriptSet", false, false),
];

/// The type served at `/api/<name>`.
pub fn lookup(name: &str) -> Option<&'static TypeInfo> {
    TYPES.iter().find(|t| t.name == name)
}

impl TypeInfo {
    /// Django's verbose name, as the controller's uniqueness errors use it:
    /// `VrfContext` → `Vrf context`, `SSLKeyAndCertificate` → `Ssl key and certificate`.
    pub fn verbose_name(&self) -> String {
        let chars: Vec<char> = self.model.chars().collect();
        let mut words = String::new();
        for (i, c) in chars.iter().enumerate() {
            let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if c.is_ascii_uppercase() && i > 0 && (prev_lower || next_lower) {
                words.push(' ');
            }
            words.push(c.to_ascii_lowercase());
        }
        let mut out = words.trim().to_owned();
        if let Some(first) = out.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        out
    }

    /// The uniqueness error of a duplicate name, in Django's `unique_together` wording.
    pub fn duplicate_message(&self) -> String {
        let scope = if self.global {
            "Name"
        } else if self.cloud_scoped {
            "Name, Tenant ref and Cloud ref"
        } else {
            "Name and Tenant ref"
        };
        format!("{} with this {scope} already exists.", self.verbose_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_names_follow_django() {
        let v = |n: &str| lookup(n).unwrap().verbose_name();
        assert_eq!(v("vrfcontext"), "Vrf context");
        assert_eq!(v("sslkeyandcertificate"), "Ssl key and certificate");
        assert_eq!(v("pkiprofile"), "Pki profile");
        assert_eq!(v("virtualservice"), "Virtual service");
        assert_eq!(v("pool"), "Pool");
        assert_eq!(v("httppolicyset"), "Http policy set");
        assert_eq!(
            lookup("vrfcontext").unwrap().duplicate_message(),
            "Vrf context with this Name, Tenant ref and Cloud ref already exists."
        );
    }
}
