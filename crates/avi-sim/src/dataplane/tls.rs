//! TLS on both sides of the Service Engine.
//!
//! Client side: a virtual service service with `enable_ssl` presents one of its
//! `ssl_key_and_certificate_refs`, chosen at every handshake from the store: the certificate
//! whose DNS names (subject alternative names, else the common name) match the TLS server name
//! exactly, then by a wildcard (`*.example.com` covers exactly one label, as RFC 6125 says and
//! clients check), else the first; the children of a virtual hosting parent offer theirs too
//! (after the parent's). Among equally good certificates, one whose key the client can verify
//! (RSA or EC) is preferred. The accepted TLS versions come from the virtual service's SSL
//! profile.
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
//! A reference that is set but cannot be resolved (a name reference that was never turned
//! into a uuid, garbage) fails the request like a missing object does: silently dropping a PKI
//! profile, a client certificate or an SSL profile would turn verification, mTLS or version
//! limits off without anyone noticing.
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
use super::route::{self, uuid_of};
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

pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The uuid a reference field of `body` names: `Ok(None)` when the field is absent, null or
/// empty; [`TlsSetupError::Missing`] when it is set but names nothing resolvable.
pub(super) fn reference(
    body: &serde_json::Map<String, Value>,
    key: &str,
    model: &'static str,
) -> Result<Option<String>, TlsSetupError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(r)) if r.trim().is_empty() => Ok(None),
        Some(Value::String(r)) => uuid_of(r).map(Some).ok_or_else(|| TlsSetupError::Missing {
            model,
            uuid: r.clone(),
        }),
        Some(other) => Err(TlsSetupError::Missing {
            model,
            uuid: other.to_string(),
        }),
    }
}

/// The TLS versions an SSL profile accepts (`accepted_versions`); both 1.2 and 1.3 when the
/// profile is absent or lists none. A reference that cannot be resolved is an error.
pub fn versions(
    store: &Store,
    profile_ref: Option<&str>,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsSetupError> {
    let Some(reference) = profile_ref.filter(|r| !r.trim().is_empty()) else {
        return Ok(rustls::ALL_VERSIONS.to_vec());
    };
    let uuid = uuid_of(reference).ok_or_else(|| TlsSetupError::Missing {
        model: "SSLProfile",
        uuid: reference.to_owned(),
    })?;
    profile_versions(resolve(store, "sslprofile", "SSLProfile", uuid)?)
}

/// The TLS versions of an SSL profile object, as [`versions`] reads them.
fn profile_versions(
    profile: &Object,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsSetupError> {
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

/// How well a certificate's DNS name fits a (lowercase, no trailing dot) TLS server name:
/// exact (2) beats a wildcard (1); `None` when it does not cover it. Unlike `vh_matches` host
/// patterns, a wildcard stands for exactly one whole left-most label (RFC 6125 §6.4.3, as
/// webpki checks it): `*.example.com` covers `a.example.com`, not `a.b.example.com` nor
/// `example.com`; `*` alone and partial-label wildcards cover nothing.
pub fn cert_name_rank(name: &str, sni: &str) -> Option<(u8, usize)> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == sni {
        return Some((2, name.len()));
    }
    let suffix = name.strip_prefix("*.")?;
    if suffix.is_empty() || suffix.contains('*') {
        return None;
    }
    let (label, rest) = sni.split_once('.')?;
    (!label.is_empty() && rest == suffix).then_some((1, suffix.len()))
}

/// The certificates a virtual service can present for `sni`, best first: by how well their
/// names fit `sni` ([`cert_name_rank`]: exact, wildcard, none), then the parent's before its
/// children's, each in `ssl_key_and_certificate_refs` order.
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
                    .filter_map(|n| cert_name_rank(n, s))
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

/// A server configuration for one client connection to `port` of `vs_uuid`: its certificates,
/// TLS versions, and client certificates as the port's application profile asks for them
/// ([`super::client_auth`]).
pub fn server_config(
    sim: &Arc<Sim>,
    store: &Store,
    vs_uuid: &str,
    port: u16,
    cache: &Arc<CertCache>,
) -> Result<Arc<rustls::ServerConfig>, TlsSetupError> {
    let profile = store
        .object("virtualservice", vs_uuid)
        .and_then(|vs| vs.body.get("ssl_profile_ref"))
        .and_then(Value::as_str);
    let versions = versions(store, profile)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
    let builder = match super::client_auth::for_port(store, vs_uuid, port)? {
        None => builder.with_no_client_auth(),
        Some(auth) => builder.with_client_cert_verifier(auth),
    };
    let mut config = builder.with_cert_resolver(Arc::new(CertResolver {
        sim: Arc::downgrade(sim),
        vs_uuid: vs_uuid.to_owned(),
        cache: cache.clone(),
    }));
    config.alpn_protocols = if super::route::service_http2(store, vs_uuid, port) {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
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

/// What an upstream client configuration was built from: the pool and every object it
/// references, each at its last write, and the Host (it may be the name checked). Any write
/// to one of them makes a new key, so a cached configuration is never stale.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ConfigKey {
    pool: (String, u64),
    refs: Vec<(String, u64)>,
    host: Option<String>,
}

/// Upstream client configurations by what they were built from (the pool and the objects it
/// references at their last write, and the Host): a request does not re-parse keys and CA
/// certificates under the store's lock.
#[derive(Default)]
pub struct ClientConfigCache(Mutex<HashMap<ConfigKey, Arc<rustls::ClientConfig>>>);

/// Configurations kept at most; past that the cache starts over (a few pools times a few
/// hosts is the usual working set).
const CLIENT_CONFIGS_KEPT: usize = 256;

impl fmt::Debug for ClientConfigCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientConfigCache")
    }
}

impl ClientConfigCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConfigKey, Arc<rustls::ClientConfig>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get_or_build(
        &self,
        key: ConfigKey,
        build: impl FnOnce() -> Result<rustls::ClientConfig, TlsSetupError>,
    ) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
        if let Some(c) = self.lock().get(&key) {
            return Ok(c.clone());
        }
        // Built outside the lock: parsing keys and CAs must not stall other pools' requests.
        let built = Arc::new(build()?);
        let mut cache = self.lock();
        // Older versions of the same pool's configuration are never asked for again.
        cache.retain(|k, _| k.pool.0 != key.pool.0 || k.pool.1 == key.pool.1 && k.refs == key.refs);
        if cache.len() >= CLIENT_CONFIGS_KEPT {
            cache.clear();
        }
        cache.insert(key, built.clone());
        Ok(built)
    }

    /// How many configurations are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// TLS towards `server_ip` for a request to `pool` whose outgoing Host is `host`; `None` when
/// the pool has no `ssl_profile_ref` (plain HTTP). The client configuration comes from `cache`
/// when nothing it depends on changed.
pub fn upstream(
    store: &Store,
    pool: &Object,
    host: Option<&str>,
    server_ip: IpAddr,
    cache: &ClientConfigCache,
) -> Result<Option<UpstreamTls>, TlsSetupError> {
    let Some(profile) = reference(&pool.body, "ssl_profile_ref", "SSLProfile")? else {
        return Ok(None);
    };
    let refs = Refs {
        profile: resolve(store, "sslprofile", "SSLProfile", profile)?,
        pki: reference(&pool.body, "pki_profile_ref", "PKIProfile")?
            .map(|u| resolve(store, "pkiprofile", "PKIProfile", u))
            .transpose()?,
        cert: reference(
            &pool.body,
            "ssl_key_and_certificate_ref",
            "SSLKeyAndCertificate",
        )?
        .map(|u| resolve(store, "sslkeyandcertificate", "SSLKeyAndCertificate", u))
        .transpose()?,
    };
    let key = ConfigKey {
        pool: (pool.uuid.clone(), pool.last_modified),
        refs: [Some(refs.profile), refs.pki, refs.cert]
            .into_iter()
            .flatten()
            .map(|o| (o.uuid.clone(), o.last_modified))
            .collect(),
        host: host.map(str::to_owned),
    };
    let config = cache.get_or_build(key, || client_config(pool, host, &refs))?;
    let field = |k: &str| pool.body.get(k).and_then(Value::as_str);
    let wanted = field("server_name").filter(|s| !s.is_empty()).or(host);
    let dns = wanted
        .and_then(|n| ServerName::try_from(n.to_owned()).ok())
        .filter(|n| matches!(n, ServerName::DnsName(_)));
    let server_name = dns.unwrap_or(ServerName::IpAddress(server_ip.into()));
    Ok(Some(UpstreamTls {
        config,
        server_name,
    }))
}

/// The objects a pool's TLS refers to, resolved.
struct Refs<'s> {
    profile: &'s Object,
    pki: Option<&'s Object>,
    cert: Option<&'s Object>,
}

fn resolve<'s>(
    store: &'s Store,
    ty: &str,
    model: &'static str,
    uuid: String,
) -> Result<&'s Object, TlsSetupError> {
    store
        .object(ty, &uuid)
        .ok_or(TlsSetupError::Missing { model, uuid })
}

/// The client configuration of a pool's TLS: versions, server verification, client
/// certificate, ALPN and whether SNI is sent.
fn client_config(
    pool: &Object,
    host: Option<&str>,
    refs: &Refs<'_>,
) -> Result<rustls::ClientConfig, TlsSetupError> {
    let field = |k: &str| pool.body.get(k).and_then(Value::as_str);
    let versions = profile_versions(refs.profile)?;
    let provider = provider();
    let check = match refs.pki {
        None => None,
        Some(pki) => pki_check(pki, pool, host, &provider)?,
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
    let mut config = match refs.cert {
        None => builder.with_no_client_auth(),
        Some(cert) => builder
            .with_client_auth_cert(chain(cert)?, key(cert)?)
            .map_err(|_| TlsSetupError::BadKey(cert.name.clone()))?,
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Configurations are shared between requests now; resumed sessions would skip the
    // handshake checks (client certificate, server verification) a fresh one makes, and each
    // request used to make a full handshake.
    config.resumption = rustls::client::Resumption::disabled();
    let sni_enabled = pool.body.get("sni_enabled").and_then(Value::as_bool) != Some(false);
    let wanted = field("server_name").filter(|s| !s.is_empty()).or(host);
    let dns = wanted
        .and_then(|n| ServerName::try_from(n.to_owned()).ok())
        .filter(|n| matches!(n, ServerName::DnsName(_)));
    config.enable_sni = sni_enabled && dns.is_some();
    Ok(config)
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
    use crate::store::{ADMIN, PatchOp, TenantScope, WriteOptions};
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
    fn certificate_wildcards_cover_exactly_one_label() {
        assert_eq!(
            cert_name_rank("app.example.com", "app.example.com"),
            Some((2, 15))
        );
        assert_eq!(
            cert_name_rank("*.example.com", "app.example.com"),
            Some((1, 11))
        );
        assert_eq!(
            cert_name_rank("*.EXAMPLE.com.", "app.example.com"),
            Some((1, 11))
        );
        // What vh_matches host patterns accept and certificates do not cover.
        assert_eq!(cert_name_rank("*.example.com", "a.b.example.com"), None);
        assert_eq!(cert_name_rank("*.example.com", "example.com"), None);
        assert_eq!(cert_name_rank("*.example.com", ".example.com"), None);
        assert_eq!(cert_name_rank("*", "example.com"), None);
        assert_eq!(cert_name_rank("*.*.com", "a.b.com"), None);
        assert_eq!(cert_name_rank("a*.example.com", "ab.example.com"), None);

        // A deeper name gets the first certificate, not the wildcard it is not covered by.
        let mut s = Store::new().unwrap();
        for (name, sans) in [("first", "first.example.com"), ("wild", "*.example.com")] {
            let (cert, key) = self_signed(&[sans]);
            create(
                &mut s,
                "sslkeyandcertificate",
                json!({"name": name, "key": key, "certificate": {"certificate": cert}}),
            );
        }
        let vs = create(
            &mut s,
            "virtualservice",
            json!({"name": "vs", "ssl_key_and_certificate_refs": [
                "/api/sslkeyandcertificate/?name=first", "/api/sslkeyandcertificate/?name=wild"]}),
        );
        let best = |sni: &str| {
            ranked_certs(&s, &vs, Some(sni))
                .first()
                .map(|o| o.name.clone())
        };
        assert_eq!(best("app.example.com").as_deref(), Some("wild"));
        assert_eq!(best("a.b.example.com").as_deref(), Some("first"));
    }

    /// A pool re-encrypting with a client certificate, verified by a PKI profile.
    fn mtls_pool(s: &mut Store) -> Object {
        let (cert, key) = self_signed(&["client.example.com"]);
        create(
            s,
            "sslkeyandcertificate",
            json!({"name": "client", "key": key, "certificate": {"certificate": cert.clone()}}),
        );
        create(
            s,
            "pkiprofile",
            json!({"name": "pki", "crl_check": false, "ca_certs": [{"certificate": cert}]}),
        );
        let pool = create(
            s,
            "pool",
            json!({"name": "p", "ssl_profile_ref": "/api/sslprofile/?name=System-Standard",
                   "ssl_key_and_certificate_ref": "/api/sslkeyandcertificate/?name=client",
                   "pki_profile_ref": "/api/pkiprofile/?name=pki"}),
        );
        s.object("pool", &pool).unwrap().clone()
    }

    #[test]
    fn unresolvable_references_fail_closed() {
        let mut s = Store::new().unwrap();
        let pool = mtls_pool(&mut s);
        let ip = IpAddr::from([127, 0, 0, 1]);
        let cache = ClientConfigCache::default();
        assert!(matches!(
            upstream(&s, &pool, Some("a.example.com"), ip, &cache),
            Ok(Some(_))
        ));
        for (field, model) in [
            ("pki_profile_ref", "PKIProfile"),
            ("ssl_key_and_certificate_ref", "SSLKeyAndCertificate"),
            ("ssl_profile_ref", "SSLProfile"),
        ] {
            for broken in [
                json!("/api/x/?name=never-resolved"),
                json!("not a reference"),
                json!(7),
                json!("/api/x/x-0000-gone"),
            ] {
                let mut p = pool.clone();
                p.body.insert(field.into(), broken.clone());
                let err = upstream(&s, &p, Some("a.example.com"), ip, &cache)
                    .err()
                    .unwrap_or_else(|| panic!("{field} = {broken} was ignored"));
                assert!(
                    matches!(&err, TlsSetupError::Missing { model: m, .. } if *m == model),
                    "{field} = {broken}: {err}"
                );
            }
            // Absent, null or empty: not set, nothing fails.
            for unset in [Value::Null, json!("")] {
                let mut p = pool.clone();
                p.body.insert(field.into(), unset);
                assert!(upstream(&s, &p, None, ip, &cache).is_ok(), "{field}");
            }
        }
        // The virtual service side: an SSL profile that cannot be resolved limits nothing.
        let err = versions(&s, Some("/api/sslprofile/?name=never-resolved")).err();
        assert!(
            matches!(
                err,
                Some(TlsSetupError::Missing {
                    model: "SSLProfile",
                    ..
                })
            ),
            "{err:?}"
        );
        assert_eq!(versions(&s, Some("")).unwrap().len(), 2);
    }

    #[test]
    fn upstream_configurations_are_cached_until_something_changes() {
        let mut s = Store::new().unwrap();
        let pool = mtls_pool(&mut s);
        let ip = IpAddr::from([127, 0, 0, 1]);
        let cache = ClientConfigCache::default();
        let config = |s: &Store, p: &Object, host: &str| {
            upstream(s, p, Some(host), ip, &cache)
                .unwrap()
                .unwrap()
                .config
        };
        let first = config(&s, &pool, "a.example.com");
        assert!(Arc::ptr_eq(&first, &config(&s, &pool, "a.example.com")));
        // Another Host may be the name checked: its own configuration.
        assert!(!Arc::ptr_eq(&first, &config(&s, &pool, "b.example.com")));
        // A write to the pool or to an object it references: rebuilt.
        let mut rewritten = pool.clone();
        rewritten.last_modified += 1;
        let second = config(&s, &rewritten, "a.example.com");
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(cache.len(), 1, "the old versions of the pool were kept");
        let cert = s
            .find_by_name("sslkeyandcertificate", "client", &TenantScope::All)
            .unwrap()
            .uuid
            .clone();
        let rename = json!({"name": "client-2"}).as_object().unwrap().clone();
        s.patch(
            "sslkeyandcertificate",
            &cert,
            &PatchOp::Replace(rename),
            &TenantScope::One(ADMIN.into()),
            &WriteOptions::default(),
        )
        .unwrap();
        assert!(!Arc::ptr_eq(
            &second,
            &config(&s, &rewritten, "a.example.com")
        ));
        // Bounded, however many hosts come by.
        for i in 0..(CLIENT_CONFIGS_KEPT + 10) {
            config(&s, &rewritten, &format!("h{i}.example.com"));
        }
        assert!(cache.len() <= CLIENT_CONFIGS_KEPT);
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
