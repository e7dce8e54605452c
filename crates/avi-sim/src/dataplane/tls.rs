//! TLS on both sides of the Service Engine.
//!
//! Client side: a virtual service service with `enable_ssl` presents one of its
//! `ssl_key_and_certificate_refs`, chosen at every handshake from the store: the certificate
//! whose DNS names (subject alternative names, else the common name) match the TLS server name
//! exactly, then by the longest wildcard, else the first; the children of a virtual hosting
//! parent offer theirs too (after the parent's). Among equally good certificates, one whose
//! key the client can verify (RSA or EC) is preferred. The accepted TLS versions come from the
//! virtual service's SSL profile.
//!
//! Server side, per pool: `ssl_profile_ref` turns TLS on (its accepted versions apply);
//! `ssl_key_and_certificate_ref` is the client certificate presented; `pki_profile_ref`
//! verifies the server's chain against the profile's `ca_certs` (the server's intermediates are
//! used unless `ignore_peer_chain`; a profile with `crl_check` on and no CRL rejects every
//! certificate, as the controller's does; `allow_pki_errors: [ALLOW_ALL_ERRORS]` accepts
//! anything). The server's name is checked only with `host_check_enabled`, against
//! `domain_name` or else the request's Host. Without a PKI profile nothing is verified (the
//! controller's default). SNI (`sni_enabled`, default on) is `server_name`, else the Host.
//!
//! No function here puts key material into an error, a log line or a `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use serde_json::Value;

use super::matching::{array, text};
use super::route::{self, host_rank, uuid_of};
use crate::api::Sim;
use crate::store::{Object, Store};

/// Why TLS towards a client or a server could not be set up from the configuration.
///
/// No variant carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// A referenced object is missing.
    #[error("{model} {uuid} does not exist")]
    Missing {
        /// The model (`SSLKeyAndCertificate`, `PKIProfile`, `SSLProfile`).
        model: &'static str,
        /// The reference's uuid.
        uuid: String,
    },
    /// The certificate object holds no private key.
    #[error("SSLKeyAndCertificate '{0}' has no private key")]
    NoKey(String),
    /// The private key cannot be loaded (the key itself is never shown).
    #[error("SSLKeyAndCertificate '{0}': the private key cannot be loaded")]
    BadKey(String),
    /// The certificate PEM cannot be read.
    #[error("{object}: the certificate cannot be read")]
    BadCertificate {
        /// Which object.
        object: String,
    },
    /// The SSL profile accepts no TLS version the emulator speaks.
    #[error("SSLProfile '{0}' accepts no TLS version the emulator speaks (TLS 1.2, TLS 1.3)")]
    Versions(String),
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Rustls(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS versions an SSL profile accepts (`accepted_versions`); both 1.2 and 1.3 when the
/// profile is absent or lists none.
pub fn versions(
    store: &Store,
    profile_ref: Option<&str>,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsSetupError> {
    let Some(uuid) = profile_ref.and_then(uuid_of) else {
        return Ok(rustls::ALL_VERSIONS.to_vec());
    };
    let profile = store
        .object("sslprofile", &uuid)
        .ok_or(TlsSetupError::Missing {
            model: "SSLProfile",
            uuid,
        })?;
    let listed = array(
        profile
            .body
            .get("accepted_versions")
            .unwrap_or(&Value::Null),
    );
    if listed.is_empty() {
        return Ok(rustls::ALL_VERSIONS.to_vec());
    }
    let mut out = Vec::new();
    for v in listed {
        match text(v, "type") {
            Some("SSL_VERSION_TLS1_2") => out.push(&rustls::version::TLS12),
            Some("SSL_VERSION_TLS1_3") => out.push(&rustls::version::TLS13),
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(TlsSetupError::Versions(profile.name.clone()));
    }
    Ok(out)
}

/// The chain (leaf, then what was uploaded after it) of an SSLKeyAndCertificate.
fn chain(obj: &Object) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bad = || TlsSetupError::BadCertificate {
        object: format!("SSLKeyAndCertificate '{}'", obj.name),
    };
    let leaf = obj
        .body
        .get("certificate")
        .and_then(|c| text(c, "certificate"))
        .ok_or_else(bad)?;
    let mut pem = leaf.to_owned();
    if let Some(rest) = &obj.chain {
        pem.push_str(rest);
    }
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad())?;
    if certs.is_empty() {
        return Err(bad());
    }
    Ok(certs)
}

/// The private key of an SSLKeyAndCertificate.
fn key(obj: &Object) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let secret = obj
        .secret
        .as_deref()
        .ok_or_else(|| TlsSetupError::NoKey(obj.name.clone()))?;
    // The parser's own error can quote input lines, so it is never shown.
    PrivateKeyDer::from_pem_slice(secret.as_bytes())
        .map_err(|_| TlsSetupError::BadKey(obj.name.clone()))
}

/// A certificate and its key, ready to present.
pub fn certified_key(obj: &Object) -> Result<CertifiedKey, TlsSetupError> {
    CertifiedKey::from_der(chain(obj)?, key(obj)?, &provider())
        .map_err(|_| TlsSetupError::BadKey(obj.name.clone()))
}

/// The DNS names a certificate object is for: its subject alternative names that are DNS
/// names, else its common name.
pub fn dns_names(obj: &Object) -> Vec<String> {
    let cert = obj.body.get("certificate").unwrap_or(&Value::Null);
    let sans: Vec<String> = array(cert.get("subject_alt_names").unwrap_or(&Value::Null))
        .iter()
        .filter_map(Value::as_str)
        .filter(|s| !s.contains(':') && !s.contains('@') && s.parse::<IpAddr>().is_err())
        .map(str::to_ascii_lowercase)
        .collect();
    if !sans.is_empty() {
        return sans;
    }
    cert.get("subject")
        .and_then(|s| text(s, "common_name"))
        .map(|cn| vec![cn.to_ascii_lowercase()])
        .unwrap_or_default()
}

/// The certificates a virtual service can present for `sni`, best first: by how well their
/// names fit `sni` (exact, longest wildcard, none), then the parent's before its children's,
/// each in `ssl_key_and_certificate_refs` order.
pub fn ranked_certs<'s>(store: &'s Store, vs_uuid: &str, sni: Option<&str>) -> Vec<&'s Object> {
    let Some(vs) = store.object("virtualservice", vs_uuid) else {
        return Vec::new();
    };
    let refs_of = |o: &Object| -> Vec<&'s Object> {
        array(
            o.body
                .get("ssl_key_and_certificate_refs")
                .unwrap_or(&Value::Null),
        )
        .iter()
        .filter_map(Value::as_str)
        .filter_map(uuid_of)
        .filter_map(|u| store.object("sslkeyandcertificate", &u))
        .collect()
    };
    let mut all = refs_of(vs);
    if vs.body.get("type").and_then(Value::as_str) == Some("VS_TYPE_VH_PARENT") {
        for child in route::children(store, vs) {
            all.extend(refs_of(child));
        }
    }
    let sni = sni.map(|s| s.trim_end_matches('.').to_ascii_lowercase());
    /// How well a certificate's names fit the server name (None: not at all).
    type Fit = Option<(u8, usize)>;
    let mut ranked: Vec<(Fit, usize, &Object)> = all
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let rank = sni.as_deref().and_then(|s| {
                dns_names(o)
                    .iter()
                    // `*` alone is not a certificate name.
                    .filter(|n| n.as_str() != "*")
                    .filter_map(|n| host_rank(n, s))
                    .max()
            });
            (rank, i, o)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, o)| o).collect()
}

/// Loaded certificates by (uuid, last modified): a handshake does not re-parse keys.
#[derive(Default)]
pub struct CertCache(Mutex<HashMap<(String, u64), Arc<CertifiedKey>>>);

impl fmt::Debug for CertCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CertCache")
    }
}

impl CertCache {
    fn get(&self, obj: &Object) -> Result<Arc<CertifiedKey>, TlsSetupError> {
        let key = (obj.uuid.clone(), obj.last_modified);
        let mut cache = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(k) = cache.get(&key) {
            return Ok(k.clone());
        }
        let loaded = Arc::new(certified_key(obj)?);
        // Old versions of a certificate are never asked for again.
        cache.retain(|(uuid, _), _| *uuid != obj.uuid);
        cache.insert(key, loaded.clone());
        Ok(loaded)
    }
}

/// Chooses the certificate of a virtual service at every handshake, from the store as it is.
pub struct CertResolver {
    /// The emulator.
    pub sim: Weak<Sim>,
    /// The listener's virtual service.
    pub vs_uuid: String,
    /// Loaded certificates.
    pub cache: Arc<CertCache>,
}

impl fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertResolver")
            .field("vs_uuid", &self.vs_uuid)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sim = self.sim.upgrade()?;
        let store = sim
            .store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let candidates = ranked_certs(&store, &self.vs_uuid, hello.server_name());
        let mut first = None;
        for obj in candidates {
            match self.cache.get(obj) {
                Ok(k) => {
                    if k.key.choose_scheme(hello.signature_schemes()).is_some() {
                        return Some(k);
                    }
                    first.get_or_insert(k);
                }
                Err(error) => tracing::warn!(%error, "virtual service certificate skipped"),
            }
        }
        if first.is_none() {
            tracing::warn!(vs = %self.vs_uuid, "no usable certificate for a TLS service; handshake refused");
        }
        first
    }
}

/// A server configuration for one client connection to `vs_uuid`.
pub fn server_config(
    sim: &Arc<Sim>,
    store: &Store,
    vs_uuid: &str,
    cache: &Arc<CertCache>,
) -> Result<Arc<rustls::ServerConfig>, TlsSetupError> {
    let profile = store
        .object("virtualservice", vs_uuid)
        .and_then(|vs| vs.body.get("ssl_profile_ref"))
        .and_then(Value::as_str);
    let versions = versions(store, profile)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(CertResolver {
            sim: Arc::downgrade(sim),
            vs_uuid: vs_uuid.to_owned(),
            cache: cache.clone(),
        }));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

// ------------------------------------------------------------------ towards servers

/// How a pool talks TLS to one server for one request.
pub struct UpstreamTls {
    /// The client configuration.
    pub config: Arc<rustls::ClientConfig>,
    /// The name given to the handshake (the SNI when it is a DNS name and SNI is on).
    pub server_name: ServerName<'static>,
}

impl fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// TLS towards `server_ip` for a request to `pool` whose outgoing Host is `host`; `None` when
/// the pool has no `ssl_profile_ref` (plain HTTP).
pub fn upstream(
    store: &Store,
    pool: &Object,
    host: Option<&str>,
    server_ip: IpAddr,
) -> Result<Option<UpstreamTls>, TlsSetupError> {
    let field = |k: &str| pool.body.get(k).and_then(Value::as_str);
    let Some(profile) = field("ssl_profile_ref") else {
        return Ok(None);
    };
    let versions = versions(store, Some(profile))?;
    let provider = provider();
    let check = match field("pki_profile_ref").and_then(uuid_of) {
        None => None,
        Some(uuid) => {
            let pki = store
                .object("pkiprofile", &uuid)
                .ok_or(TlsSetupError::Missing {
                    model: "PKIProfile",
                    uuid,
                })?;
            pki_check(pki, pool, host, &provider)?
        }
    };
    let verifier = Arc::new(PoolVerifier {
        provider: provider.clone(),
        check,
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match field("ssl_key_and_certificate_ref").and_then(uuid_of) {
        None => builder.with_no_client_auth(),
        Some(uuid) => {
            let cert =
                store
                    .object("sslkeyandcertificate", &uuid)
                    .ok_or(TlsSetupError::Missing {
                        model: "SSLKeyAndCertificate",
                        uuid,
                    })?;
            builder
                .with_client_auth_cert(chain(cert)?, key(cert)?)
                .map_err(|_| TlsSetupError::BadKey(cert.name.clone()))?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let sni_enabled = pool.body.get("sni_enabled").and_then(Value::as_bool) != Some(false);
    let wanted = field("server_name").filter(|s| !s.is_empty()).or(host);
    let dns = wanted
        .and_then(|n| ServerName::try_from(n.to_owned()).ok())
        .filter(|n| matches!(n, ServerName::DnsName(_)));
    config.enable_sni = sni_enabled && dns.is_some();
    let server_name = dns.unwrap_or(ServerName::IpAddress(server_ip.into()));
    Ok(Some(UpstreamTls {
        config: Arc::new(config),
        server_name,
    }))
}

/// What a PKI profile checks, or `None` when it accepts anything (`ALLOW_ALL_ERRORS`).
fn pki_check(
    pki: &Object,
    pool: &Object,
    host: Option<&str>,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Check>, TlsSetupError> {
    let allows_all = array(pki.body.get("allow_pki_errors").unwrap_or(&Value::Null))
        .iter()
        .any(|e| e.as_str() == Some("ALLOW_ALL_ERRORS"));
    if allows_all {
        return Ok(None);
    }
    let mut roots = RootCertStore::empty();
    for ca in array(pki.body.get("ca_certs").unwrap_or(&Value::Null)) {
        let pem = text(ca, "certificate").unwrap_or_default();
        for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let der = der.map_err(|_| TlsSetupError::BadCertificate {
                object: format!("PKIProfile '{}'", pki.name),
            })?;
            // A CA the verifier cannot use as an anchor is skipped, as it would be useless.
            if let Err(error) = roots.add(der) {
                tracing::debug!(%error, profile = %pki.name, "CA certificate not usable as a trust anchor");
            }
        }
    }
    let crl_check = pki.body.get("crl_check").and_then(Value::as_bool) != Some(false);
    let mut crls = Vec::new();
    if crl_check {
        for crl in array(pki.body.get("crls").unwrap_or(&Value::Null)) {
            let body = text(crl, "body").unwrap_or_default();
            for der in CertificateRevocationListDer::pem_slice_iter(body.as_bytes()) {
                crls.push(der.map_err(|_| TlsSetupError::BadCertificate {
                    object: format!("PKIProfile '{}' (CRL)", pki.name),
                })?);
            }
        }
    }
    let crl_missing = crl_check && crls.is_empty();
    let webpki = if roots.is_empty() {
        None
    } else {
        let mut b = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        if !crls.is_empty() {
            b = b.with_crls(crls);
            if pki
                .body
                .get("validate_only_leaf_crl")
                .and_then(Value::as_bool)
                != Some(false)
            {
                b = b.only_check_end_entity_revocation();
            }
        }
        Some(
            b.build()
                .map_err(|e| TlsSetupError::Rustls(e.to_string()))?,
        )
    };
    let names =
        (pool.body.get("host_check_enabled").and_then(Value::as_bool) == Some(true)).then(|| {
            let domains: Vec<String> = array(pool.body.get("domain_name").unwrap_or(&Value::Null))
                .iter()
                .filter_map(Value::as_str)
                .flat_map(|d| d.split(','))
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect();
            let names = if domains.is_empty() {
                host.map(|h| vec![h.to_owned()]).unwrap_or_default()
            } else {
                domains
            };
            names
                .into_iter()
                .filter_map(|n| ServerName::try_from(n).ok())
                .collect()
        });
    Ok(Some(Check {
        profile: pki.name.clone(),
        webpki,
        ignore_peer_chain: pki.body.get("ignore_peer_chain").and_then(Value::as_bool) == Some(true),
        names,
        crl_missing,
    }))
}

/// What a PKI profile checks of a server's certificate.
#[derive(Debug)]
struct Check {
    profile: String,
    /// `None`: the profile has no usable CA, nothing is trusted.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    ignore_peer_chain: bool,
    /// The names to check the certificate against (`host_check_enabled`); `None`: no name
    /// check.
    names: Option<Vec<ServerName<'static>>>,
    crl_missing: bool,
}

/// Chain verification without a name check unless the pool asks for one.
#[derive(Debug)]
struct PoolVerifier {
    provider: Arc<CryptoProvider>,
    check: Option<Check>,
}

fn name_error(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

impl ServerCertVerifier for PoolVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(check) = &self.check else {
            return Ok(ServerCertVerified::assertion());
        };
        let Some(webpki) = &check.webpki else {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            ));
        };
        let intermediates = if check.ignore_peer_chain {
            &[]
        } else {
            intermediates
        };
        match &check.names {
            None => match webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(_) => {}
                Err(e) if name_error(&e) => {}
                Err(e) => return Err(e),
            },
            Some(names) => {
                let mut last = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
                let mut ok = false;
                for name in names {
                    match webpki.verify_server_cert(
                        end_entity,
                        intermediates,
                        name,
                        ocsp_response,
                        now,
                    ) {
                        Ok(_) => {
                            ok = true;
                            break;
                        }
                        Err(e) if name_error(&e) => last = e,
                        Err(e) => return Err(e),
                    }
                }
                if !ok {
                    return Err(last);
                }
            }
        }
        if check.crl_missing {
            return Err(rustls::Error::General(format!(
                "PKIProfile '{}' checks revocation (crl_check) but holds no CRL, so it rejects every certificate",
                check.profile
            )));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ADMIN, TenantScope, WriteOptions};
    use serde_json::json;

    fn create(s: &mut Store, ty: &str, body: Value) -> String {
        s.create(
            ty,
            body,
            &TenantScope::One(ADMIN.into()),
            None,
            &WriteOptions::default(),
        )
        .unwrap()
        .uuid
        .clone()
    }

    fn self_signed(names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn certificates_rank_by_sni_and_fall_back_to_the_first() {
        let mut s = Store::new().unwrap();
        for (name, sans) in [
            ("first", vec!["first.example.com"]),
            ("wild", vec!["*.example.com"]),
            ("exact", vec!["app.example.com"]),
        ] {
            let (cert, key) = self_signed(&sans);
            create(
                &mut s,
                "sslkeyandcertificate",
                json!({"name": name, "key": key, "certificate": {"certificate": cert}}),
            );
        }
        create(
            &mut s,
            "vsvip",
            json!({"name": "v", "vip": [{"vip_id": "0", "auto_allocate_ip": true}]}),
        );
        let vs = create(
            &mut s,
            "virtualservice",
            json!({"name": "vs", "vsvip_ref": "/api/vsvip/?name=v",
            "services": [{"port": 443, "enable_ssl": true}],
            "ssl_key_and_certificate_refs": ["/api/sslkeyandcertificate/?name=first",
                "/api/sslkeyandcertificate/?name=wild", "/api/sslkeyandcertificate/?name=exact"]}),
        );
        let best = |sni: Option<&str>| ranked_certs(&s, &vs, sni).first().map(|o| o.name.clone());
        assert_eq!(best(Some("app.example.com")).as_deref(), Some("exact"));
        assert_eq!(best(Some("APP.example.com.")).as_deref(), Some("exact"));
        assert_eq!(best(Some("other.example.com")).as_deref(), Some("wild"));
        assert_eq!(best(Some("unrelated.test")).as_deref(), Some("first"));
        assert_eq!(best(None).as_deref(), Some("first"));
        let obj = s
            .find_by_name(
                "sslkeyandcertificate",
                "exact",
                &TenantScope::One(ADMIN.into()),
            )
            .unwrap();
        assert_eq!(dns_names(obj), ["app.example.com"]);
        assert!(certified_key(obj).is_ok());
    }

    #[test]
    fn errors_never_show_the_key() {
        let mut s = Store::new().unwrap();
        let (cert, _) = self_signed(&["a.example.com"]);
        create(
            &mut s,
            "sslkeyandcertificate",
            json!({"name": "nokey", "certificate": {"certificate": cert}}),
        );
        let obj = s
            .find_by_name(
                "sslkeyandcertificate",
                "nokey",
                &TenantScope::One(ADMIN.into()),
            )
            .unwrap();
        let err = certified_key(obj).err().unwrap();
        assert_eq!(
            err.to_string(),
            "SSLKeyAndCertificate 'nokey' has no private key"
        );
        let mut with_bad_key = obj.clone();
        with_bad_key.secret =
            Some("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n".into());
        let err = certified_key(&with_bad_key).err().unwrap();
        assert!(!format!("{err} {err:?}").contains("c2VjcmV0"));
        assert!(!format!("{with_bad_key:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn ssl_profile_versions() {
        let mut s = Store::new().unwrap();
        let only13 = create(
            &mut s,
            "sslprofile",
            json!({"name": "only13", "accepted_versions": [{"type": "SSL_VERSION_TLS1_3"}]}),
        );
        let old = create(
            &mut s,
            "sslprofile",
            json!({"name": "old", "accepted_versions": [{"type": "SSL_VERSION_TLS1_1"}]}),
        );
        let v = versions(&s, Some(&format!("/api/sslprofile/{only13}"))).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].version, rustls::ProtocolVersion::TLSv1_3);
        assert_eq!(
            versions(&s, Some(&format!("/api/sslprofile/{old}"))).err(),
            Some(TlsSetupError::Versions("old".into()))
        );
        assert_eq!(versions(&s, None).unwrap().len(), 2);
    }
}
