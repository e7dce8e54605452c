//! Tests of the emulator against what real Istio produces, checked with x509-parser.

mod backend;
mod certs;
mod writer;

use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

use crate::{CaOptions, IstioCa, KeyAlg, WorkloadRequest};

/// Every PEM block of `s`.
fn pems(s: &str) -> Vec<Pem> {
    Pem::iter_from_buffer(s.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// The DER of every `CERTIFICATE` block of `s` (asserting there is nothing else).
fn cert_ders(s: &str) -> Vec<Vec<u8>> {
    pems(s)
        .into_iter()
        .map(|p| {
            assert_eq!(p.label, "CERTIFICATE");
            p.contents
        })
        .collect()
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    assert!(rest.is_empty(), "trailing bytes after certificate");
    cert
}

fn ec_ca() -> IstioCa {
    IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..Default::default()
    })
    .unwrap()
}

fn ec_req() -> WorkloadRequest {
    WorkloadRequest {
        key_alg: KeyAlg::EcdsaP256,
        ..Default::default()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
