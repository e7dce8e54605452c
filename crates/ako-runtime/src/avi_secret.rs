//! Avi credentials from the Secret `avi-secret` in AKO's namespace, never from flags.
//!
//! Keys, as AKO reads them: `username` plus `password` or `authtoken` (the token is used when
//! both are set), and optionally `certificateAuthorityData`, the PEM CA that signed the
//! controller's certificate (`caCert` is read too, as earlier releases of ours named it). A key
//! holding an empty value counts as absent. Without a CA the controller is checked against the
//! system trust store (AKO would turn verification off; we do not).

use std::fmt;

use avi_client::{AviConfig, Credentials, TlsVerification};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::config::RuntimeConfig;
use crate::error::{ConfigError, RuntimeError};

/// The Secret's name.
pub const AVI_SECRET_NAME: &str = "avi-secret";

/// What `avi-secret` holds. `Debug` shows the username and whether a CA is set, never the
/// password or token.
#[derive(Clone, PartialEq, Eq)]
pub struct AviSecret {
    /// Username with password or token.
    pub credentials: Credentials,
    /// The controller's CA certificate (PEM), from `certificateAuthorityData` (or `caCert`).
    pub ca_cert: Option<String>,
}

impl fmt::Debug for AviSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AviSecret")
            .field("credentials", &self.credentials)
            .field(
                "ca_cert",
                &self
                    .ca_cert
                    .as_ref()
                    .map(|pem| format!("<{} bytes of PEM>", pem.len())),
            )
            .finish()
    }
}

impl AviSecret {
    /// Reads the credentials out of a Secret (its `data`, or `stringData` when a client left
    /// it unconverted). `namespace` only names the Secret in errors.
    pub fn from_secret(secret: &Secret, namespace: &str) -> Result<AviSecret, RuntimeError> {
        let problem = |problem: String| RuntimeError::AviSecretInvalid {
            namespace: namespace.to_owned(),
            name: AVI_SECRET_NAME.to_owned(),
            problem,
        };
        let get = |key: &str| -> Result<Option<String>, RuntimeError> {
            let raw = secret
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|b| b.0.clone())
                .or_else(|| {
                    secret
                        .string_data
                        .as_ref()
                        .and_then(|d| d.get(key))
                        .map(|s| s.clone().into_bytes())
                });
            match raw {
                None => Ok(None),
                Some(bytes) => {
                    let text = String::from_utf8(bytes)
                        .map_err(|_| problem(format!("key {key} is not UTF-8 text")))?;
                    Ok((!text.is_empty()).then_some(text))
                }
            }
        };
        let username = get("username")?
            .ok_or_else(|| problem("key username is missing or empty".to_owned()))?;
        let credentials = match (get("authtoken")?, get("password")?) {
            (Some(token), _) => Credentials::Token { username, token },
            (None, Some(password)) => Credentials::Password { username, password },
            (None, None) => {
                return Err(problem(
                    "neither password nor authtoken is set: one of them is required".to_owned(),
                ));
            }
        };
        let (ca_key, ca_cert) = match get("certificateAuthorityData")? {
            Some(pem) => ("certificateAuthorityData", Some(pem)),
            None => ("caCert", get("caCert")?),
        };
        if let Some(pem) = &ca_cert
            && !pem.contains("-----BEGIN CERTIFICATE-----")
        {
            return Err(problem(format!(
                "key {ca_key} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )));
        }
        Ok(AviSecret {
            credentials,
            ca_cert,
        })
    }
}

/// Reads `avi-secret` from `namespace` (AKO's `POD_NAMESPACE`).
///
/// Errors name the Secret and the key that is wrong, never a value.
pub async fn load_avi_credentials(
    client: &kube::Client,
    namespace: &str,
) -> Result<AviSecret, RuntimeError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get_opt(AVI_SECRET_NAME)
        .await
        .map_err(|source| RuntimeError::AviSecretRead {
            namespace: namespace.to_owned(),
            name: AVI_SECRET_NAME.to_owned(),
            source: Box::new(source),
        })?
        .ok_or_else(|| RuntimeError::AviSecretNotFound {
            namespace: namespace.to_owned(),
            name: AVI_SECRET_NAME.to_owned(),
        })?;
    AviSecret::from_secret(&secret, namespace)
}

/// The Avi client's settings: the controller from `CTRL_IPADDRESS` (`https://<addr>` unless it
/// has a scheme), `X-Avi-Version` from `CTRL_VERSION` (avi-client's default when unset), the
/// tenant from `TENANT`, the login and CA from `avi-secret`.
pub fn avi_config(cfg: &RuntimeConfig, secret: &AviSecret) -> Result<AviConfig, ConfigError> {
    let mut avi = AviConfig::new(cfg.controller_url()?, secret.credentials.clone());
    avi.tenant = cfg.tenant().to_owned();
    if let Some(version) = cfg.controller_version()? {
        avi.api_version = version.to_owned();
    }
    avi.tls = match &secret.ca_cert {
        Some(pem) => TlsVerification::Ca(pem.clone()),
        None => TlsVerification::System,
    };
    Ok(avi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;
    use kube::api::PostParams;

    const PASSWORD: &str = "s3cr3t-Passw0rd";
    const TOKEN: &str = "tok-6d4c9c7e0a";
    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn secret(pairs: &[(&str, &str)]) -> Secret {
        Secret {
            metadata: kube::api::ObjectMeta {
                name: Some(AVI_SECRET_NAME.to_owned()),
                ..Default::default()
            },
            data: Some(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        }
    }

    fn config(ctrl: &str, version: Option<&str>, tenant: Option<&str>) -> RuntimeConfig {
        let ctrl = ctrl.to_owned();
        let version = version.map(str::to_owned);
        let tenant = tenant.map(str::to_owned);
        RuntimeConfig::from_lookup(["ako"], move |k| match k {
            "CTRL_IPADDRESS" => Some(ctrl.clone()),
            "CTRL_VERSION" => version.clone(),
            "TENANT" => tenant.clone(),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn password_token_and_ca_are_read() {
        let s = AviSecret::from_secret(
            &secret(&[("username", "admin"), ("password", PASSWORD)]),
            "avi-system",
        )
        .unwrap();
        assert_eq!(
            s.credentials,
            Credentials::Password {
                username: "admin".into(),
                password: PASSWORD.into()
            }
        );
        assert_eq!(s.ca_cert, None);

        let s = AviSecret::from_secret(
            &secret(&[
                ("username", "admin"),
                ("password", PASSWORD),
                ("authtoken", TOKEN),
                ("caCert", CA),
            ]),
            "avi-system",
        )
        .unwrap();
        assert_eq!(
            s.credentials,
            Credentials::Token {
                username: "admin".into(),
                token: TOKEN.into()
            },
            "the token wins when both are set"
        );
        assert_eq!(s.ca_cert.as_deref(), Some(CA));

        // stringData, as a client that skipped the server's conversion would leave it.
        let sd = Secret {
            string_data: Some(BTreeMap::from([
                ("username".to_owned(), "admin".to_owned()),
                ("authtoken".to_owned(), TOKEN.to_owned()),
            ])),
            ..Default::default()
        };
        assert!(matches!(
            AviSecret::from_secret(&sd, "ns").unwrap().credentials,
            Credentials::Token { .. }
        ));
    }

    #[test]
    fn unusable_secrets_name_the_key_but_never_a_value() {
        for (pairs, needle) in [
            (vec![("password", PASSWORD)], "username is missing"),
            (
                vec![("username", "admin"), ("password", "")],
                "neither password nor authtoken",
            ),
            (
                vec![("username", "admin")],
                "neither password nor authtoken",
            ),
            (
                vec![
                    ("username", "admin"),
                    ("password", PASSWORD),
                    ("caCert", "not pem"),
                ],
                "caCert",
            ),
            (
                vec![
                    ("username", "admin"),
                    ("password", PASSWORD),
                    ("certificateAuthorityData", "not pem"),
                ],
                "certificateAuthorityData",
            ),
        ] {
            let err = AviSecret::from_secret(&secret(&pairs), "avi-system").unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(needle), "{msg}");
            assert!(msg.contains("avi-system/avi-secret"), "{msg}");
            assert!(!msg.contains(PASSWORD), "{msg}");
        }
        let mut bad = secret(&[("username", "admin")]);
        bad.data
            .as_mut()
            .unwrap()
            .insert("password".into(), ByteString(vec![0xff, 0xfe]));
        let msg = AviSecret::from_secret(&bad, "ns").unwrap_err().to_string();
        assert!(msg.contains("password is not UTF-8"), "{msg}");
    }

    #[test]
    fn debug_never_shows_the_password_or_token() {
        for pairs in [
            vec![
                ("username", "admin"),
                ("password", PASSWORD),
                ("caCert", CA),
            ],
            vec![("username", "admin"), ("authtoken", TOKEN)],
        ] {
            let s = AviSecret::from_secret(&secret(&pairs), "ns").unwrap();
            for shown in [format!("{s:?}"), format!("{s:#?}")] {
                assert!(shown.contains("admin"), "{shown}");
                assert!(
                    !shown.contains(PASSWORD) && !shown.contains(TOKEN),
                    "{shown}"
                );
                assert!(!shown.contains("MIIB"), "{shown}");
            }
            let avi = avi_config(&config("10.0.0.1", None, None), &s).unwrap();
            let shown = format!("{avi:?}");
            assert!(
                !shown.contains(PASSWORD) && !shown.contains(TOKEN),
                "{shown}"
            );
        }
    }

    #[test]
    fn avi_config_takes_controller_version_tenant_and_ca() {
        let s = AviSecret::from_secret(
            &secret(&[
                ("username", "admin"),
                ("password", PASSWORD),
                ("caCert", CA),
            ]),
            "ns",
        )
        .unwrap();
        let avi = avi_config(&config("10.0.0.1:9443", Some("30.2.1"), Some("blue")), &s).unwrap();
        assert_eq!(avi.controller, "https://10.0.0.1:9443");
        assert_eq!(avi.base_url(), "https://10.0.0.1:9443");
        assert_eq!(avi.api_version, "30.2.1");
        assert_eq!(avi.tenant, "blue");
        assert_eq!(avi.tls, TlsVerification::Ca(CA.to_owned()));

        let plain = AviSecret {
            ca_cert: None,
            ..s.clone()
        };
        let avi = avi_config(&config("https://avi.example.com", None, None), &plain).unwrap();
        assert_eq!(avi.controller, "https://avi.example.com");
        assert_eq!(avi.tenant, "admin");
        assert_eq!(
            avi.api_version,
            AviConfig::new("x", s.credentials.clone()).api_version
        );
        assert_eq!(avi.tls, TlsVerification::System);

        let err = avi_config(&config("", None, None), &s).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    env: "CTRL_IPADDRESS",
                    ..
                }
            ),
            "{err}"
        );
    }

    async fn client(sim: &kube_sim::KubeSim) -> kube::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        kube::Client::try_from(kube::Config::new(sim.url().parse().unwrap())).unwrap()
    }

    #[tokio::test]
    async fn loads_from_the_cluster_and_says_when_the_secret_is_absent() {
        let sim = kube_sim::KubeSim::start(kube_sim::SimConfig::default())
            .await
            .unwrap();
        let client = client(&sim).await;
        let err = load_avi_credentials(&client, "default").await.unwrap_err();
        assert!(
            matches!(err, RuntimeError::AviSecretNotFound { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("default/avi-secret"), "{err}");

        let api: Api<Secret> = Api::namespaced(client.clone(), "default");
        api.create(
            &PostParams::default(),
            &secret(&[
                ("username", "admin"),
                ("password", PASSWORD),
                ("caCert", CA),
            ]),
        )
        .await
        .unwrap();
        let s = load_avi_credentials(&client, "default").await.unwrap();
        assert_eq!(s.credentials.username(), "admin");
        assert_eq!(
            s.credentials,
            Credentials::Password {
                username: "admin".into(),
                password: PASSWORD.into()
            }
        );
        assert_eq!(s.ca_cert.as_deref(), Some(CA));
    }

    #[test]
    fn the_ca_is_read_under_akos_key_first() {
        let s = AviSecret::from_secret(
            &secret(&[
                ("username", "admin"),
                ("password", PASSWORD),
                ("certificateAuthorityData", CA),
            ]),
            "avi-system",
        )
        .unwrap();
        assert_eq!(s.ca_cert.as_deref(), Some(CA));
        let s = AviSecret::from_secret(
            &secret(&[
                ("username", "admin"),
                ("password", PASSWORD),
                ("certificateAuthorityData", ""),
                ("caCert", CA),
            ]),
            "avi-system",
        )
        .unwrap();
        assert_eq!(
            s.ca_cert.as_deref(),
            Some(CA),
            "an empty key counts as absent"
        );
    }
}
