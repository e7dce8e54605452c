//! Writing one set: the Secret, then the PKIProfile, then the SSLKeyAndCertificate, each only
//! when it differs, and never over an object someone else owns.

use avi_client::models::{PkiProfile, SslKeyAndCertificate};
use avi_client::{AviClient, AviError, Ensured, Kind, RawRef};
use istio_certs::IstioBundle;
use istio_certs::secret::SECRET_NAME;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::Value;

use super::objects::{IstioNames, MANAGED_BY, MANAGED_BY_LABEL, objects};

/// The field manager of our server-side applies.
pub const FIELD_MANAGER: &str = "ako";

/// Why a set could not be written. Messages never hold key material.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The Avi controller failed.
    #[error("Avi controller: {0}")]
    Avi(AviError),
    /// An object of that name exists and belongs to someone else: left alone.
    #[error("{what} {name} exists and is not ours (owner {owner}); it is left alone")]
    Conflict {
        /// The object type.
        what: &'static str,
        /// Its name.
        name: String,
        /// Who owns it.
        owner: String,
    },
}

impl From<AviError> for PublishError {
    fn from(e: AviError) -> Self {
        match e {
            AviError::Ownership {
                kind, name, owner, ..
            } => PublishError::Conflict {
                what: match kind {
                    Kind::PkiProfile => "Avi PKIProfile",
                    _ => "Avi SSLKeyAndCertificate",
                },
                name,
                owner: owner.unwrap_or_else(|| "nobody".into()),
            },
            other => PublishError::Avi(other),
        }
    }
}

impl PublishError {
    /// A short reason for metrics and Events.
    pub fn reason(&self) -> &'static str {
        match self {
            PublishError::Kube(_) => "KubernetesError",
            PublishError::Avi(_) => "AviError",
            PublishError::Conflict { .. } => "OwnershipConflict",
        }
    }
}

/// What one publication wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    /// `istio-secret` was written.
    pub secret: bool,
    /// The PKIProfile was created or updated.
    pub pki_profile: bool,
    /// The SSLKeyAndCertificate was created or updated.
    pub ssl_key_and_certificate: bool,
}

impl Published {
    /// Avi writes made.
    pub fn avi_writes(&self) -> u32 {
        u32::from(self.pki_profile) + u32::from(self.ssl_key_and_certificate)
    }
}

/// What turning Istio off did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Objects deleted (`kind/name`).
    pub deleted: Vec<String>,
    /// Objects kept because pools still refer to them: `(kind/name, pools)`.
    pub kept: Vec<(String, Vec<String>)>,
}

/// Writes sets to Kubernetes and Avi.
#[derive(Clone)]
pub struct Publisher {
    avi: AviClient,
    kube: kube::Client,
    names: IstioNames,
}

fn written(e: &Ensured) -> bool {
    !matches!(e, Ensured::Unchanged { .. })
}

impl Publisher {
    /// A publisher for `names` (cluster and AKO namespace).
    pub fn new(avi: AviClient, kube: kube::Client, names: IstioNames) -> Self {
        Publisher { avi, kube, names }
    }

    /// The names it writes.
    pub fn names(&self) -> &IstioNames {
        &self.names
    }

    /// Its Kubernetes client.
    pub fn kube(&self) -> kube::Client {
        self.kube.clone()
    }

    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.kube.clone(), &self.names.namespace)
    }

    /// Writes `bundle`: the Secret, the PKIProfile (roots first, so a new root is trusted
    /// before the leaf it signed is presented), then chain and key in one PUT.
    pub async fn publish(&self, bundle: &IstioBundle) -> Result<Published, PublishError> {
        let o = objects(bundle, &self.names);
        let secret = self.apply_secret(&o.secret).await?;
        let pki_profile = written(&self.avi.ensure(&o.pki_profile).await?);
        let ssl_key_and_certificate = written(&self.avi.ensure(&o.ssl_key_and_certificate).await?);
        Ok(Published {
            secret,
            pki_profile,
            ssl_key_and_certificate,
        })
    }

    /// Only the Secret, e.g. after someone deleted it.
    pub async fn publish_secret(&self, bundle: &IstioBundle) -> Result<bool, PublishError> {
        self.apply_secret(&objects(bundle, &self.names).secret)
            .await
    }

    async fn apply_secret(&self, secret: &Secret) -> Result<bool, PublishError> {
        let api = self.secrets();
        if let Some(existing) = api.get_opt(SECRET_NAME).await? {
            if !is_ours(&existing) {
                return Err(PublishError::Conflict {
                    what: "Secret",
                    name: format!("{}/{SECRET_NAME}", self.names.namespace),
                    owner: existing
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(MANAGED_BY_LABEL))
                        .cloned()
                        .unwrap_or_else(|| "unlabelled".into()),
                });
            }
            if existing.data == secret.data {
                return Ok(false);
            }
        }
        api.patch(
            SECRET_NAME,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(secret),
        )
        .await?;
        Ok(true)
    }

    /// ISTIO_ENABLED=false: deletes our two Avi objects and the Secret, except an Avi object
    /// that pools still refer to (deleting it would break them; it is kept and reported).
    pub async fn remove(&self) -> Result<Removed, PublishError> {
        let mut out = Removed::default();
        let pools = self.avi.list_all_raw(Kind::Pool).await?;
        let created_by = self.names.created_by();
        for (kind, name, field) in [
            (
                Kind::SslKeyAndCertificate,
                self.names.ssl_key_and_certificate(),
                "ssl_key_and_certificate_ref",
            ),
            (
                Kind::PkiProfile,
                self.names.pki_profile(),
                "pki_profile_ref",
            ),
        ] {
            let Some(existing) = self.avi.find_raw(kind, &name).await? else {
                continue;
            };
            let owner = existing.get("created_by").and_then(Value::as_str);
            if owner != Some(created_by.as_str()) {
                // Not ours: never deleted, and nothing to report as kept.
                continue;
            }
            let uuid = existing.get("uuid").and_then(Value::as_str);
            let users = referring_pools(&pools, field, kind, uuid, &name);
            if !users.is_empty() {
                out.kept.push((format!("{}/{name}", kind.path()), users));
                continue;
            }
            let deleted = match kind {
                Kind::PkiProfile => {
                    self.avi
                        .delete_by_name::<PkiProfile>(&name, Some(&created_by))
                        .await?
                }
                _ => {
                    self.avi
                        .delete_by_name::<SslKeyAndCertificate>(&name, Some(&created_by))
                        .await?
                }
            };
            if deleted {
                out.deleted.push(format!("{}/{name}", kind.path()));
            }
        }
        let api = self.secrets();
        if let Some(existing) = api.get_opt(SECRET_NAME).await?
            && is_ours(&existing)
        {
            api.delete(SECRET_NAME, &DeleteParams::default()).await?;
            out.deleted.push(format!("secret/{SECRET_NAME}"));
        }
        Ok(out)
    }
}

fn is_ours(secret: &Secret) -> bool {
    secret
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .is_some_and(|v| v == MANAGED_BY)
}

/// Names of the pools whose `field` refers to the object (by uuid, or by name).
fn referring_pools(
    pools: &[Value],
    field: &str,
    kind: Kind,
    uuid: Option<&str>,
    name: &str,
) -> Vec<String> {
    let target = RawRef {
        kind,
        uuid: uuid.map(str::to_owned),
        name: Some(name.to_owned()),
    };
    pools
        .iter()
        .filter(|p| {
            p.get(field)
                .and_then(Value::as_str)
                .and_then(RawRef::parse)
                .is_some_and(|r| r.same_target(&target) || r.name.as_deref() == Some(name))
        })
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}
