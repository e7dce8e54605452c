//! The Avi objects a translation wants, as avi-client types, with AKO's layout and names.

use avi_client::models::{
    ApplicationProfile, HttpPolicySet, PkiProfile, Pool, PoolGroup, SslKeyAndCertificate,
    VirtualService, VsDataScriptSet, VsVip,
};
use avi_client::{AviError, Desired};
use serde_json::{Map, Value};

/// Every object a translation wants on the controller, sorted by name per kind so the
/// same snapshot always gives the same model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AviModel {
    /// Parent (EVH) and child virtual services.
    pub virtual_services: Vec<VirtualService>,
    /// VIPs of the parents.
    pub vsvips: Vec<VsVip>,
    /// Pools.
    pub pools: Vec<Pool>,
    /// Pool groups.
    pub pool_groups: Vec<PoolGroup>,
    /// HTTP policy sets (the default 404 backend; filters).
    pub http_policy_sets: Vec<HttpPolicySet>,
    /// DataScript sets (AKO's SNI shared virtual service picks insecure hosts' pools with one).
    pub vs_datascript_sets: Vec<VsDataScriptSet>,
    /// Listener certificates.
    pub ssl_key_and_certificates: Vec<SslKeyAndCertificate>,
    /// PKI profiles: of BackendTLSPolicies (their CA certificates), and of the client
    /// certificates a Gateway's listeners validate.
    pub pki_profiles: Vec<PkiProfile>,
    /// Application profiles of parent ports that ask clients for certificates.
    pub application_profiles: Vec<ApplicationProfile>,
    /// Pools whose TLS stays as the controller holds it ([`POOL_TLS_FIELDS`] not cleared): mesh
    /// pools while the Istio references cannot be confirmed. Not knowing is no reason to turn
    /// a pool a STRICT backend needs to plain text; a new pool is still made without them.
    pub pools_keeping_tls: std::collections::BTreeSet<String>,
}

/// A pool as sync input, as [`AviModel::into_desired`] encodes it: the TLS fields cleared
/// unless the pool keeps the TLS the controller holds (`keeping_tls`). The controller's
/// endpoint path encodes the pools it refreshes with this too, so their bodies hash alike.
pub fn desired_pool(
    pool: &avi_client::models::Pool,
    keeping_tls: bool,
) -> Result<Desired, AviError> {
    Desired::of(pool).map(|d| {
        let d = d.clearing(POOL_RULE_FIELDS);
        if keeping_tls {
            d
        } else {
            d.clearing(POOL_TLS_FIELDS)
        }
    })
}

/// Pool fields a rule or a Service port sets on some pools only: a rule that drops its timeouts,
/// or a port that stops saying `kubernetes.io/h2c`, must leave the pool without them.
pub const POOL_RULE_FIELDS: &[&str] = &["server_timeout", "enable_http2"];

/// A virtual service as sync input: the per-port fields we set on some ports
/// ([`SERVICE_FIELDS`]) are ours on every port, so a port that stops asking for client
/// certificates or HTTP/2 loses them, and so are its policy and DataScript references
/// ([`VS_REF_FIELDS`]).
pub fn desired_virtual_service(
    vs: &avi_client::models::VirtualService,
) -> Result<Desired, AviError> {
    Desired::of(vs).map(|d| {
        d.clearing(VS_REF_FIELDS)
            .clearing_each("services", SERVICE_FIELDS)
    })
}

/// Virtual service references some children have and others not (a rule's filters make a
/// policy set, a CORS filter a DataScript set): a child that stops having them must lose the
/// reference, or the set it names could never be deleted.
pub const VS_REF_FIELDS: &[&str] = &["http_policies", "vs_datascripts"];

/// Fields of a virtual service's `services[]` that translations set on some ports only.
pub const SERVICE_FIELDS: &[&str] = &["override_application_profile_ref", "enable_http2"];

/// A pool's TLS towards its backend, as the one precedence rule decides it (Istio, a
/// BackendTLSPolicy, a RouteBackendExtension, or none): a pool whose decision changes must lose
/// what the old one set. `sni_enabled` is not here: every pool sets it (false unless the
/// decision names the server).
pub const POOL_TLS_FIELDS: &[&str] = &[
    "ssl_profile_ref",
    "pki_profile_ref",
    "ssl_key_and_certificate_ref",
    "server_name",
    "host_check_enabled",
    "domain_name",
];

impl AviModel {
    /// Sorts every list by name (and removes duplicates a shared object may have produced).
    pub fn normalize(&mut self) {
        // Avi objects are large: sort positions, then move each object once.
        fn sort<T>(v: &mut Vec<T>, name: impl Fn(&T) -> &str) {
            let mut order: Vec<usize> = (0..v.len()).collect();
            order.sort_by(|&a, &b| name(&v[a]).cmp(name(&v[b])).then(a.cmp(&b)));
            let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
            v.extend(order.into_iter().filter_map(|i| slots[i].take()));
            v.dedup_by(|a, b| name(a) == name(b));
        }
        sort(&mut self.virtual_services, |o| &o.name);
        sort(&mut self.vsvips, |o| &o.name);
        sort(&mut self.pools, |o| &o.name);
        sort(&mut self.pool_groups, |o| &o.name);
        sort(&mut self.http_policy_sets, |o| &o.name);
        sort(&mut self.vs_datascript_sets, |o| &o.name);
        sort(&mut self.ssl_key_and_certificates, |o| &o.name);
        sort(&mut self.pki_profiles, |o| &o.name);
        sort(&mut self.application_profiles, |o| &o.name);
    }

    /// The model as avi-client sync input (a copy: see [`AviModel::into_desired`]).
    pub fn desired(&self) -> Result<Vec<Desired>, AviError> {
        self.clone().into_desired().collect()
    }

    /// The model as avi-client sync input, encoded one object at a time as the iterator is
    /// consumed; each typed object is dropped once encoded. With thousands of routes this
    /// keeps a sync from holding the typed model and every encoded body at once (see
    /// `avi_client::SyncPlan::compute_iter`).
    pub fn into_desired(self) -> impl Iterator<Item = Result<Desired, AviError>> + Send {
        fn each<T: avi_client::AviObject + Send>(
            v: Vec<T>,
        ) -> impl Iterator<Item = Result<Desired, AviError>> + Send {
            v.into_iter().map(|o| Desired::of(&o))
        }
        let AviModel {
            virtual_services,
            vsvips,
            pools,
            pool_groups,
            http_policy_sets,
            vs_datascript_sets,
            ssl_key_and_certificates,
            pki_profiles,
            application_profiles,
            pools_keeping_tls,
        } = self;
        let pools = pools.into_iter().map(move |p| {
            let keep = pools_keeping_tls.contains(&p.name);
            desired_pool(&p, keep)
        });
        // `allow_pki_errors` is ours: a profile that stops allowing errors (a Gateway back to
        // AllowValidOnly) must lose them, not keep accepting any certificate.
        let pki_profiles = pki_profiles
            .into_iter()
            .map(|p| Desired::of(&p).map(|d| d.clearing(&["allow_pki_errors"])));
        each(ssl_key_and_certificates)
            .chain(pki_profiles)
            .chain(each(application_profiles))
            .chain(pools)
            .chain(each(pool_groups))
            .chain(each(http_policy_sets))
            .chain(each(vs_datascript_sets))
            .chain(each(vsvips))
            .chain(
                virtual_services
                    .into_iter()
                    .map(|v| desired_virtual_service(&v)),
            )
    }

    /// `{"<avi type>": [objects...]}` as the dry-run CLI prints it. A certificate's private key
    /// shows as `"<sensitive>"`, as the controller itself shows it: a dry run ends up in
    /// terminals, CI logs and tickets.
    pub fn to_json(&self) -> Value {
        fn list<T: serde::Serialize>(v: &[T]) -> Value {
            Value::Array(
                v.iter()
                    .filter_map(|o| serde_json::to_value(o).ok())
                    .collect(),
            )
        }
        let mut m = Map::new();
        m.insert("virtualservice".into(), list(&self.virtual_services));
        m.insert("vsvip".into(), list(&self.vsvips));
        m.insert("pool".into(), list(&self.pools));
        m.insert("poolgroup".into(), list(&self.pool_groups));
        m.insert("httppolicyset".into(), list(&self.http_policy_sets));
        if !self.vs_datascript_sets.is_empty() {
            m.insert("vsdatascriptset".into(), list(&self.vs_datascript_sets));
        }
        m.insert("pkiprofile".into(), list(&self.pki_profiles));
        if !self.application_profiles.is_empty() {
            m.insert(
                "applicationprofile".into(),
                list(&self.application_profiles),
            );
        }
        let mut certs = list(&self.ssl_key_and_certificates);
        for cert in certs.as_array_mut().into_iter().flatten() {
            if let Some(key) = cert.get_mut("key") {
                *key = Value::String("<sensitive>".into());
            }
        }
        m.insert("sslkeyandcertificate".into(), certs);
        Value::Object(m)
    }
}

impl AviModel {
    /// Appends every object of `other` (another translator's output), for one sync plan over
    /// all translators.
    pub fn extend(&mut self, other: AviModel) {
        self.virtual_services.extend(other.virtual_services);
        self.vsvips.extend(other.vsvips);
        self.pools.extend(other.pools);
        self.pool_groups.extend(other.pool_groups);
        self.http_policy_sets.extend(other.http_policy_sets);
        self.vs_datascript_sets.extend(other.vs_datascript_sets);
        self.ssl_key_and_certificates
            .extend(other.ssl_key_and_certificates);
        self.pki_profiles.extend(other.pki_profiles);
        self.application_profiles.extend(other.application_profiles);
        self.pools_keeping_tls.extend(other.pools_keeping_tls);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_set_on_some_objects_only_are_cleared_on_the_others() {
        let model = AviModel {
            pools: vec![Pool::new("p")],
            pki_profiles: vec![PkiProfile::new("k")],
            virtual_services: vec![VirtualService {
                services: vec![avi_client::models::Service::tls(443)],
                ..VirtualService::new("vs")
            }],
            ..AviModel::default()
        };
        let desired = model.desired().unwrap();
        let body = |kind: &str| {
            desired
                .iter()
                .find(|d| d.kind.path() == kind)
                .map(|d| d.body.clone())
                .unwrap()
        };
        // A rule that dropped its timeout, a port that dropped h2c, a profile back to strict
        // validation, a port that stopped asking for client certificates.
        assert_eq!(body("pool")["server_timeout"], json!(null));
        assert_eq!(body("pool")["enable_http2"], json!(null));
        assert_eq!(body("pkiprofile")["allow_pki_errors"], json!(null));
        assert_eq!(
            body("virtualservice")["services"][0]["override_application_profile_ref"],
            json!(null)
        );
        // What the controller reads back for unset ones is no difference.
        let held = json!({"name": "p", "server_timeout": 0, "enable_http2": false});
        let d = body("pool");
        let mut want = serde_json::Map::new();
        for k in ["name", "server_timeout", "enable_http2"] {
            want.insert(k.to_owned(), d[k].clone());
        }
        assert!(avi_client::differing_fields(&Value::Object(want.clone()), &held).is_empty());
        let stale = json!({"name": "p", "server_timeout": 500, "enable_http2": true});
        assert_eq!(
            avi_client::differing_fields(&Value::Object(want), &stale),
            ["enable_http2", "server_timeout"]
        );
    }
}
