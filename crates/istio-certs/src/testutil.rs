//! Fixtures for this crate's tests: certificate sets from istio-sim's CA, written to temp dirs.

use std::path::Path;
use std::sync::OnceLock;

use istio_sim::{
    CaOptions, IstioCa, KeyAlg, KeyFormat, OutputCertsWriter, WorkloadCert, WorkloadRequest,
};

/// A fast CA (ECDSA P-256) shared by tests; RSA tests make their own.
pub(crate) fn ec_ca() -> &'static IstioCa {
    static CA: OnceLock<IstioCa> = OnceLock::new();
    CA.get_or_init(|| {
        IstioCa::new(CaOptions {
            key_alg: KeyAlg::EcdsaP256,
            ..CaOptions::default()
        })
        .unwrap()
    })
}

pub(crate) fn ec_request() -> WorkloadRequest {
    WorkloadRequest {
        key_alg: KeyAlg::EcdsaP256,
        key_format: KeyFormat::Traditional,
        ..WorkloadRequest::default()
    }
}

pub(crate) fn ec_cert() -> WorkloadCert {
    ec_ca().issue(&ec_request()).unwrap()
}

pub(crate) fn write_dir(dir: &Path, cert: &WorkloadCert) {
    OutputCertsWriter::new(dir).write(cert).unwrap();
}

pub(crate) fn write_raw(dir: &Path, key: &[u8], chain: &[u8], root: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    std::fs::write(dir.join("cert-chain.pem"), chain).unwrap();
    std::fs::write(dir.join("root-cert.pem"), root).unwrap();
}

/// A validated bundle of an issued certificate, at the current time.
pub(crate) fn bundle_of(cert: &WorkloadCert) -> crate::IstioBundle {
    crate::IstioBundle::from_pem(
        cert.cert_chain_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        cert.root_cert_pem.as_bytes(),
        std::time::SystemTime::now(),
    )
    .unwrap()
}
