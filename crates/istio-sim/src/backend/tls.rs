//! The TLS side of a STRICT sidecar: server configurations built from a workload certificate,
//! the inbound client-certificate check, and a mesh client configuration for tests.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{
    CertificateError, CipherSuite, ClientConfig, DigitallySignedStruct, DistinguishedName,
    RootCertStore, ServerConfig, SignatureScheme,
};
use x509_parser::extensions::GeneralName;

use crate::{SimError, WorkloadCert};

/// ALPN the sidecar's inbound HTTP filter chain advertises (Istio `BuildInboundTLS`).
const SERVER_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The ring provider restricted to what Istio's inbound listener accepts: TLS 1.2 keeps only
/// the AES-GCM suites of `SupportedCiphers` (no ChaCha20); TLS 1.3 suites are BoringSSL's fixed
/// set, which rustls' ring provider matches.
fn mesh_provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.retain(|s| {
        !matches!(
            s.suite(),
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        )
    });
    Arc::new(provider)
}

/// Every `CERTIFICATE` block of `pem`.
fn certs_from_pem(what: &'static str, pem: &str) -> Result<Vec<CertificateDer<'static>>, SimError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SimError::Pem {
            what,
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(SimError::Pem {
            what,
            reason: "no CERTIFICATE block".to_owned(),
        });
    }
    Ok(certs)
}

/// The private key of `key.pem`.
fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, SimError> {
    // The parser's error quotes the offending line, which for a one-line PEM is the whole key
    // (as a byte list): it never reaches a message.
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| SimError::Pem {
        what: "key.pem",
        reason: "private key cannot be parsed".to_owned(),
    })
}

/// A root store holding every certificate of `roots_pem`.
fn root_store(roots_pem: &str) -> Result<RootCertStore, SimError> {
    let mut roots = RootCertStore::empty();
    for cert in certs_from_pem("root-cert.pem", roots_pem)? {
        roots.add(cert).map_err(|source| SimError::Tls {
            what: "trusted root",
            source,
        })?;
    }
    Ok(roots)
}

/// The trust domain of a `spiffe://<td>/...` URI, if it is one.
pub(crate) fn trust_domain_of(spiffe_id: &str) -> Option<&str> {
    let rest = spiffe_id.strip_prefix("spiffe://")?;
    let td = rest.split('/').next()?;
    (!td.is_empty()).then_some(td)
}

/// The first `spiffe://` URI SAN of a DER certificate, if it parses and has one.
pub(crate) fn spiffe_uri_of(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        GeneralName::URI(uri) if uri.starts_with("spiffe://") => Some((*uri).to_owned()),
        _ => None,
    })
}

/// What one identity of the backend serves, rebuilt on every rotation.
pub(crate) struct ServedIdentity {
    /// For clients whose ALPN offer overlaps `h2, http/1.1` (or who offer none).
    with_alpn: Arc<ServerConfig>,
    /// For clients offering only other protocols (e.g. `istio`): Envoy then completes the
    /// handshake without ALPN, where rustls would fail it with `no_application_protocol`.
    without_alpn: Arc<ServerConfig>,
    /// The backend's SPIFFE ID (the leaf's first URI SAN as issued).
    pub(crate) spiffe_id: String,
    /// The leaf's serial, lowercase hex.
    pub(crate) serial_hex: String,
    /// The trust domain of `spiffe_id`, used to authorise `cluster.local/...` principals.
    pub(crate) trust_domain: Option<String>,
}

impl fmt::Debug for ServedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServedIdentity")
            .field("spiffe_id", &self.spiffe_id)
            .field("serial_hex", &self.serial_hex)
            .finish_non_exhaustive()
    }
}

impl ServedIdentity {
    /// Serves `cert` (its chain without the roots, and its key) and trusts client certificates
    /// chaining to `cert.root_cert_pem` that carry a SPIFFE ID in the backend's trust domain,
    /// as istio-agent's SDS pushes `default` and `ROOTCA` to Envoy together.
    pub(crate) fn new(cert: &WorkloadCert) -> Result<Self, SimError> {
        let provider = mesh_provider();
        let roots = root_store(&cert.root_cert_pem)?;
        let root_ders = certs_from_pem("root-cert.pem", &cert.root_cert_pem)?;
        // Leaf + intermediates: what the client needs to build a path to its trust anchor.
        let chain: Vec<_> = certs_from_pem("cert-chain.pem", &cert.cert_chain_pem)?
            .into_iter()
            .filter(|c| !root_ders.contains(c))
            .collect();
        if chain.is_empty() {
            return Err(SimError::Pem {
                what: "cert-chain.pem",
                reason: "holds only roots, no leaf".to_owned(),
            });
        }
        let key = private_key(&cert.key_pem)?;

        let trust_domain = trust_domain_of(&cert.spiffe_id).map(str::to_owned);
        let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|source| SimError::ClientVerifier { source })?;
        let verifier: Arc<dyn ClientCertVerifier> = Arc::new(MeshClientVerifier {
            inner: webpki,
            trust_domain: trust_domain.clone(),
        });

        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|source| SimError::Tls {
                what: "protocol versions",
                source,
            })?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|source| SimError::Tls {
                what: "server certificate and key",
                source,
            })?;
        let without_alpn = Arc::new(config.clone());
        config.alpn_protocols = SERVER_ALPN.iter().map(|p| p.to_vec()).collect();

        Ok(Self {
            with_alpn: Arc::new(config),
            without_alpn,
            spiffe_id: cert.spiffe_id.clone(),
            serial_hex: cert.serial_hex.clone(),
            trust_domain,
        })
    }

    /// The configuration for a client that offered `client_alpn` (`None`: no ALPN extension).
    pub(crate) fn config_for<'a>(
        &self,
        client_alpn: Option<impl Iterator<Item = &'a [u8]>>,
    ) -> Arc<ServerConfig> {
        let overlaps = client_alpn.map(|mut offered| offered.any(|p| SERVER_ALPN.contains(&p)));
        match overlaps {
            Some(false) => self.without_alpn.clone(),
            Some(true) | None => self.with_alpn.clone(),
        }
    }
}

/// Envoy's inbound STRICT validation: the chain must verify against the mesh roots (webpki,
/// clientAuth EKU), and the leaf must carry a URI SAN with the prefix `spiffe://<td>/` of the
/// backend's trust domain (Istio's `MatchSubjectAltNames`). Without a known trust domain only the
/// chain is checked.
#[derive(Debug)]
struct MeshClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    trust_domain: Option<String>,
}

impl ClientCertVerifier for MeshClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        if let Some(td) = &self.trust_domain {
            let in_domain = spiffe_uri_of(end_entity)
                .is_some_and(|uri| trust_domain_of(&uri) == Some(td.as_str()));
            if !in_domain {
                return Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName,
                ));
            }
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A rustls client configuration that talks to a STRICT backend the way an external load
/// balancer with a PKI profile does: it verifies the server chain against `roots_pem` but
/// checks no host name (workload certificates carry only a SPIFFE URI SAN), and presents
/// `client` (its chain without the roots, and its key) when given.
///
/// ALPN is left empty; set [`ClientConfig::alpn_protocols`] to offer some.
///
/// ```
/// use istio_sim::{CaOptions, IstioCa, KeyAlg, WorkloadRequest, mesh_client_config};
///
/// let ca = IstioCa::new(CaOptions { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
/// let ako = ca.issue(&WorkloadRequest { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
/// let config = mesh_client_config(&ca.roots_pem(), Some(&ako))?;
/// assert!(config.client_auth_cert_resolver.has_certs());
/// # Ok::<(), istio_sim::SimError>(())
/// ```
pub fn mesh_client_config(
    roots_pem: &str,
    client: Option<&WorkloadCert>,
) -> Result<ClientConfig, SimError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(NoHostnameVerifier {
        roots: Arc::new(root_store(roots_pem)?),
        provider: provider.clone(),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|source| SimError::Tls {
            what: "protocol versions",
            source,
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let Some(cert) = client else {
        return Ok(builder.with_no_client_auth());
    };
    let root_ders = certs_from_pem("root-cert.pem", &cert.root_cert_pem)?;
    let chain: Vec<_> = certs_from_pem("cert-chain.pem", &cert.cert_chain_pem)?
        .into_iter()
        .filter(|c| !root_ders.contains(c))
        .collect();
    let key = private_key(&cert.key_pem)?;
    builder
        .with_client_auth_cert(chain, key)
        .map_err(|source| SimError::Tls {
            what: "client certificate and key",
            source,
        })
}

/// Chain verification against the mesh roots, without a host-name check.
#[derive(Debug)]
struct NoHostnameVerifier {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NoHostnameVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
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
