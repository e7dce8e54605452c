//! Client certificates on a TLS port, as the port's application profile asks for them.
//!
//! The profile is the service's `override_application_profile_ref`, else the virtual
//! service's `application_profile_ref`. Its `http_profile.ssl_client_certificate_mode`:
//! - `SSL_CLIENT_CERTIFICATE_NONE` (or unset): no certificate is asked for;
//! - `SSL_CLIENT_CERTIFICATE_REQUEST`: a CertificateRequest is sent; a client without a
//!   certificate is served, one whose certificate fails the PKI profile is refused;
//! - `SSL_CLIENT_CERTIFICATE_REQUIRE`: a client without a valid certificate fails the handshake.
//!
//! The PKI profile (`http_profile.pki_profile_ref`) is read as the pool side reads it: its
//! `ca_certs` are the trust anchors, `crl_check` on (the default) with no CRL rejects every
//! certificate, and `allow_pki_errors: [ALLOW_ALL_ERRORS]` accepts any certificate (its
//! signature over the handshake is still checked). A refusal is a TLS alert: the client sees a
//! failed connection, never an HTTP status.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore};
use rustls::{SignatureScheme, pki_types::CertificateDer, pki_types::UnixTime};
use rustls_pki_types::pem::PemObject as _;
use serde_json::Value;

use super::matching::{array, text};
use super::tls::{TlsSetupError, provider, reference};
use crate::store::Store;

/// How a port treats client certificates, once its profiles are read.
#[derive(Debug)]
pub struct ClientAuth {
    provider: Arc<CryptoProvider>,
    mandatory: bool,
    /// `None`: any certificate is accepted (`ALLOW_ALL_ERRORS`).
    check: Option<Check>,
}

#[derive(Debug)]
enum Check {
    /// Chains to one of the profile's CAs.
    Chain(Arc<dyn ClientCertVerifier>),
    /// Nothing can pass: no usable CA, or CRLs checked and none given.
    Nothing(&'static str),
}

/// The client-certificate policy of `port` of virtual service `vs_uuid`; `None` when no
/// certificate is asked for. A profile reference that is set but resolves to nothing is an
/// error: the port is not served rather than served without the check.
pub fn for_port(
    store: &Store,
    vs_uuid: &str,
    port: u16,
) -> Result<Option<Arc<ClientAuth>>, TlsSetupError> {
    let Some(vs) = store.object("virtualservice", vs_uuid) else {
        return Ok(None);
    };
    let service = super::route::service_for_port(&vs.body, port).and_then(Value::as_object);
    let overridden = match service {
        Some(s) => reference(s, "override_application_profile_ref", "ApplicationProfile")?,
        None => None,
    };
    let profile_uuid = match overridden {
        Some(u) => Some(u),
        None => reference(&vs.body, "application_profile_ref", "ApplicationProfile")?,
    };
    let Some(profile_uuid) = profile_uuid else {
        return Ok(None);
    };
    let profile =
        store
            .object("applicationprofile", &profile_uuid)
            .ok_or(TlsSetupError::Missing {
                model: "ApplicationProfile",
                uuid: profile_uuid,
            })?;
    let Some(http) = profile.body.get("http_profile").and_then(Value::as_object) else {
        return Ok(None);
    };
    // A mode the emulator does not know is read as the strictest: never fail open.
    let mandatory = match http
        .get("ssl_client_certificate_mode")
        .and_then(Value::as_str)
    {
        None | Some("SSL_CLIENT_CERTIFICATE_NONE") => return Ok(None),
        Some("SSL_CLIENT_CERTIFICATE_REQUEST") => false,
        Some(_) => true,
    };
    let provider = provider();
    let check = match reference(http, "pki_profile_ref", "PKIProfile")? {
        None => Some(Check::Nothing("the application profile has no PKI profile")),
        Some(uuid) => {
            let pki = store
                .object("pkiprofile", &uuid)
                .ok_or(TlsSetupError::Missing {
                    model: "PKIProfile",
                    uuid,
                })?;
            pki_check(pki, &provider)?
        }
    };
    Ok(Some(Arc::new(ClientAuth {
        provider,
        mandatory,
        check,
    })))
}

fn pki_check(
    pki: &crate::store::Object,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Check>, TlsSetupError> {
    let allows_all = array(pki.body.get("allow_pki_errors").unwrap_or(&Value::Null))
        .iter()
        .any(|e| e.as_str() == Some("ALLOW_ALL_ERRORS"));
    if allows_all {
        return Ok(None);
    }
    if pki.body.get("crl_check").and_then(Value::as_bool) != Some(false)
        && array(pki.body.get("crls").unwrap_or(&Value::Null)).is_empty()
    {
        return Ok(Some(Check::Nothing(
            "the PKI profile checks CRLs and has none",
        )));
    }
    let mut roots = RootCertStore::empty();
    for ca in array(pki.body.get("ca_certs").unwrap_or(&Value::Null)) {
        let pem = text(ca, "certificate").unwrap_or_default();
        for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let der = der.map_err(|_| TlsSetupError::BadCertificate {
                object: format!("PKIProfile '{}'", pki.name),
            })?;
            if let Err(error) = roots.add(der) {
                tracing::debug!(%error, profile = %pki.name, "CA certificate not usable as a trust anchor");
            }
        }
    }
    if roots.is_empty() {
        return Ok(Some(Check::Nothing("the PKI profile has no usable CA")));
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
    Ok(Some(Check::Chain(verifier)))
}

impl ClientCertVerifier for ClientAuth {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        match &self.check {
            Some(Check::Chain(v)) => v.root_hint_subjects(),
            _ => &[],
        }
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match &self.check {
            None => Ok(ClientCertVerified::assertion()),
            Some(Check::Chain(v)) => v.verify_client_cert(end_entity, intermediates, now),
            Some(Check::Nothing(why)) => {
                tracing::debug!(why, "client certificate refused");
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer,
                ))
            }
        }
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
