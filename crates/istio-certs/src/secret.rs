//! The `istio-secret` codec: a bundle as the data of a Kubernetes Secret and back.
//! A plain mapping; reading and writing the Secret is the runtime's business.

use std::collections::BTreeMap;
use std::time::SystemTime;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::bundle::IstioBundle;
use crate::error::BundleError;

/// The Secret's name, as AKO names it.
pub const SECRET_NAME: &str = "istio-secret";
/// Data key holding `cert-chain.pem`.
pub const DATA_CERT_CHAIN: &str = "cert-chain";
/// Data key holding `key.pem`.
pub const DATA_KEY: &str = "key";
/// Data key holding `root-cert.pem`.
pub const DATA_ROOT_CERT: &str = "root-cert";

/// Why Secret data is not a usable bundle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// A data key is absent.
    #[error("Secret {SECRET_NAME} has no data key '{0}'")]
    MissingKey(&'static str),
    /// The three values do not form a valid set.
    #[error("Secret {SECRET_NAME} holds an invalid certificate set: {0}")]
    Invalid(#[source] BundleError),
}

/// The Secret `data` for a bundle: each key holds the file's PEM text as written.
pub fn to_secret_data(bundle: &IstioBundle) -> BTreeMap<String, ByteString> {
    BTreeMap::from([
        (
            DATA_CERT_CHAIN.to_owned(),
            ByteString(bundle.cert_chain_pem().as_bytes().to_vec()),
        ),
        (
            DATA_KEY.to_owned(),
            ByteString(bundle.key_pem().expose().as_bytes().to_vec()),
        ),
        (
            DATA_ROOT_CERT.to_owned(),
            ByteString(bundle.root_cert_pem().as_bytes().to_vec()),
        ),
    ])
}

/// The whole `istio-secret` Secret (type `Opaque`) in `namespace`.
pub fn to_secret(bundle: &IstioBundle, namespace: &str) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(SECRET_NAME.to_owned()),
            namespace: Some(namespace.to_owned()),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(to_secret_data(bundle)),
        ..Secret::default()
    }
}

/// Reads a bundle back from Secret `data`, validating it exactly as a directory would be.
pub fn from_secret_data(
    data: &BTreeMap<String, ByteString>,
    now: SystemTime,
) -> Result<IstioBundle, SecretError> {
    let get = |key: &'static str| {
        data.get(key)
            .map(|v| v.0.as_slice())
            .ok_or(SecretError::MissingKey(key))
    };
    IstioBundle::from_pem(
        get(DATA_CERT_CHAIN)?,
        get(DATA_KEY)?,
        get(DATA_ROOT_CERT)?,
        now,
    )
    .map_err(SecretError::Invalid)
}

#[cfg(test)]
mod tests;
