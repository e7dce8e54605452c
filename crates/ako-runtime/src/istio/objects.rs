//! The objects one certificate set becomes (pure).

use std::collections::BTreeMap;

use avi_client::models::{
    Marker, PkiProfile, SecretKey, SslCertificate, SslCertificateType, SslKeyAndCertificate,
};
use istio_certs::IstioBundle;
use istio_certs::secret::{SECRET_NAME, to_secret_data};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The label that marks `istio-secret` as ours.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY: &str = "ako";

/// The names and owner of the Istio objects of one AKO deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IstioNames {
    /// `CLUSTER_NAME`.
    pub cluster: String,
    /// The AKO namespace.
    pub namespace: String,
}

impl IstioNames {
    /// The PKIProfile `istio-pki-<cluster>-<ns>`.
    pub fn pki_profile(&self) -> String {
        format!("istio-pki-{}-{}", self.cluster, self.namespace)
    }

    /// The SSLKeyAndCertificate `istio-workload-<cluster>-<ns>`.
    pub fn ssl_key_and_certificate(&self) -> String {
        format!("istio-workload-{}-{}", self.cluster, self.namespace)
    }

    /// `created_by` of both Avi objects: `ako-<cluster>`, as AKO writes it.
    pub fn created_by(&self) -> String {
        format!("ako-{}", self.cluster)
    }
}

/// What one set becomes.
#[derive(Clone)]
pub struct IstioObjects {
    /// `istio-secret` (Opaque: `cert-chain`, `key`, `root-cert`).
    pub secret: Secret,
    /// The roots.
    pub pki_profile: PkiProfile,
    /// The chain and key.
    pub ssl_key_and_certificate: SslKeyAndCertificate,
}

impl std::fmt::Debug for IstioObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Secret and the certificate object both hold the private key.
        f.debug_struct("IstioObjects")
            .field("pki_profile", &self.pki_profile.name)
            .field(
                "ssl_key_and_certificate",
                &self.ssl_key_and_certificate.name,
            )
            .finish_non_exhaustive()
    }
}

/// The PEM blocks of `pem`, each as its own PEM text.
pub fn certificate_blocks(pem: &str) -> Vec<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else {
            break;
        };
        let end = start + len + END.len();
        out.push(format!("{}\n", &rest[start..end]));
        rest = &rest[end..];
    }
    out
}

/// The objects of `bundle` for `names`.
pub fn objects(bundle: &IstioBundle, names: &IstioNames) -> IstioObjects {
    let created_by = Some(names.created_by());
    let markers = vec![Marker::new("clustername", [names.cluster.clone()])];
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(SECRET_NAME.to_owned()),
            namespace: Some(names.namespace.clone()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_owned(),
                MANAGED_BY.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(to_secret_data(bundle)),
        ..Secret::default()
    };
    let pki_profile = PkiProfile {
        name: names.pki_profile(),
        created_by: created_by.clone(),
        markers: markers.clone(),
        ca_certs: certificate_blocks(bundle.root_cert_pem())
            .into_iter()
            .map(SslCertificate::from_pem)
            .collect(),
        // istiod publishes no CRLs.
        crl_check: Some(false),
        ..PkiProfile::default()
    };
    let ssl_key_and_certificate = SslKeyAndCertificate {
        name: names.ssl_key_and_certificate(),
        created_by,
        markers,
        certificate: SslCertificate::from_pem(bundle.cert_chain_pem().to_owned()),
        key: Some(SecretKey::new(bundle.key_pem().expose().to_owned())),
        type_: Some(SslCertificateType::VirtualService),
        ..SslKeyAndCertificate::default()
    };
    IstioObjects {
        secret,
        pki_profile,
        ssl_key_and_certificate,
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use istio_sim::{CaOptions, IstioCa, WorkloadRequest};

    use super::*;

    fn names() -> IstioNames {
        IstioNames {
            cluster: "cluster".into(),
            namespace: "avi-system".into(),
        }
    }

    #[test]
    fn one_ca_entry_per_root_and_the_chain_with_its_key() {
        let ca = IstioCa::new(CaOptions::default()).unwrap();
        let cert = ca.issue(&WorkloadRequest::default()).unwrap();
        let bundle = IstioBundle::from_pem(
            cert.cert_chain_pem.as_bytes(),
            cert.key_pem.as_bytes(),
            format!("{}{}", cert.root_cert_pem, cert.root_cert_pem).as_bytes(),
            SystemTime::now(),
        )
        .unwrap();
        let o = objects(&bundle, &names());
        assert_eq!(o.pki_profile.name, "istio-pki-cluster-avi-system");
        assert_eq!(o.pki_profile.ca_certs.len(), 2);
        assert_eq!(o.pki_profile.crl_check, Some(false));
        assert_eq!(o.pki_profile.created_by.as_deref(), Some("ako-cluster"));
        assert_eq!(
            o.ssl_key_and_certificate.name,
            "istio-workload-cluster-avi-system"
        );
        assert_eq!(
            o.ssl_key_and_certificate.type_,
            Some(SslCertificateType::VirtualService)
        );
        let data = o.secret.data.as_ref().unwrap();
        assert_eq!(data.len(), 3);
        assert_eq!(
            o.secret.metadata.labels.as_ref().unwrap()[MANAGED_BY_LABEL],
            MANAGED_BY
        );
        let debug = format!("{o:?}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    }

    #[test]
    fn blocks_are_split_and_garbage_ignored() {
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nCC";
        let blocks = certificate_blocks(pem);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].contains("BBBB"));
    }
}
