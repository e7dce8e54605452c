use std::time::{Duration, SystemTime};

use istio_sim::{CaOptions, IstioCa, KeyAlg, KeyFormat, LeafProfile, WorkloadRequest};
use spiffe_id::SvidError;

use super::*;
use crate::facts::KeyAlgorithm;
use crate::files::MAX_FILE_SIZE;
use crate::testutil::{ec_ca, ec_cert, ec_request, write_dir, write_raw};

fn load(cert: &istio_sim::WorkloadCert) -> Result<IstioBundle, BundleError> {
    IstioBundle::from_pem(
        cert.cert_chain_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        cert.root_cert_pem.as_bytes(),
        SystemTime::now(),
    )
}

fn load_at(cert: &istio_sim::WorkloadCert, now: SystemTime) -> Result<IstioBundle, BundleError> {
    IstioBundle::from_pem(
        cert.cert_chain_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        cert.root_cert_pem.as_bytes(),
        now,
    )
}

#[test]
fn istiod_default_rsa_bundle_is_valid_from_a_directory() {
    let ca = IstioCa::new(CaOptions::default()).unwrap();
    let cert = ca.issue(&WorkloadRequest::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &cert);

    let bundle = IstioBundle::load(dir.path(), SystemTime::now()).unwrap();
    let facts = bundle.facts();
    assert_eq!(
        facts.spiffe_id.as_str(),
        "spiffe://cluster.local/ns/avi-system/sa/ako-sa"
    );
    assert_eq!(
        facts.principal.as_str(),
        "cluster.local/ns/avi-system/sa/ako-sa"
    );
    assert_eq!(facts.issuer, "O=cluster.local");
    assert_eq!(
        facts.key,
        KeyInfo {
            algorithm: KeyAlgorithm::Rsa,
            bits: 2048,
            encoding: KeyEncoding::Pkcs1
        }
    );
    // istiod's self-signed CA: leaf + root in the chain, one root.
    assert_eq!(facts.chain.len(), 2);
    assert!(facts.chain[1].self_signed && facts.chain[1].is_ca);
    assert_eq!(facts.roots.len(), 1);
    assert_eq!(bundle.cert_chain_pem(), cert.cert_chain_pem);
    assert_eq!(bundle.key_pem().expose(), cert.key_pem);
    assert_eq!(bundle.leaf_der().as_ref(), cert.leaf_der.as_slice());
    let lifetime = facts.lifetime().as_secs();
    assert_eq!(
        lifetime,
        24 * 3600 + 120,
        "NotBefore is backdated 2 minutes"
    );
    let fraction = facts.remaining_fraction_at(SystemTime::now());
    assert!(fraction > 0.99 && fraction <= 1.0, "{fraction}");
}

#[test]
fn every_key_shape_istio_writes_is_accepted() {
    let cases = [
        (
            KeyAlg::EcdsaP256,
            KeyFormat::Traditional,
            KeyAlgorithm::EcdsaP256,
            256,
            KeyEncoding::Sec1,
        ),
        (
            KeyAlg::EcdsaP384,
            KeyFormat::Traditional,
            KeyAlgorithm::EcdsaP384,
            384,
            KeyEncoding::Sec1,
        ),
        (
            KeyAlg::EcdsaP256,
            KeyFormat::Pkcs8,
            KeyAlgorithm::EcdsaP256,
            256,
            KeyEncoding::Pkcs8,
        ),
        (
            KeyAlg::Rsa2048,
            KeyFormat::Pkcs8,
            KeyAlgorithm::Rsa,
            2048,
            KeyEncoding::Pkcs8,
        ),
    ];
    for (alg, format, algorithm, bits, encoding) in cases {
        let req = WorkloadRequest {
            key_alg: alg,
            key_format: format,
            ..WorkloadRequest::default()
        };
        let cert = ec_ca().issue(&req).unwrap();
        let bundle = load(&cert).unwrap_or_else(|e| panic!("{alg:?}/{format:?}: {e}"));
        assert_eq!(
            bundle.facts().key,
            KeyInfo {
                algorithm,
                bits,
                encoding
            }
        );
    }
}

#[test]
fn plugged_in_ca_chain_with_intermediate_and_repeated_root_verifies() {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        intermediate: true,
        ..CaOptions::default()
    })
    .unwrap();
    let cert = ca.issue(&ec_request()).unwrap();
    let bundle = load(&cert).unwrap();
    assert_eq!(bundle.facts().chain.len(), 3);
    assert!(!bundle.facts().chain[1].self_signed);

    // Plugged-in CAs repeat the root at the tail; that must not matter.
    let doubled = format!("{}{}", cert.cert_chain_pem, cert.root_cert_pem);
    let bundle = IstioBundle::from_pem(
        doubled.as_bytes(),
        cert.key_pem.as_bytes(),
        cert.root_cert_pem.as_bytes(),
        SystemTime::now(),
    )
    .unwrap();
    assert_eq!(bundle.facts().chain.len(), 4);
}

#[test]
fn several_roots_during_root_rotation() {
    let mut ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..CaOptions::default()
    })
    .unwrap();
    let old = ca.issue(&ec_request()).unwrap();
    ca.rotate_root().unwrap();
    let new = ca.issue(&ec_request()).unwrap();
    assert_eq!(load(&new).unwrap().facts().roots.len(), 2);
    // A leaf of the old root verifies against the two-root bundle as well.
    let old_with_both = IstioBundle::from_pem(
        old.cert_chain_pem.as_bytes(),
        old.key_pem.as_bytes(),
        new.root_cert_pem.as_bytes(),
        SystemTime::now(),
    );
    assert!(old_with_both.is_ok(), "{old_with_both:?}");
}

#[test]
fn missing_files_are_named() {
    let cert = ec_cert();
    for file in CertFile::ALL {
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), &cert);
        std::fs::remove_file(dir.path().join(file.file_name())).unwrap();
        let err = IstioBundle::load(dir.path(), SystemTime::now()).unwrap_err();
        assert!(
            matches!(err, BundleError::Missing { file: f, .. } if f == file),
            "{err:?}"
        );
        assert!(err.to_string().starts_with(file.file_name()), "{err}");
        assert!(err.is_transient());
    }
    let err = IstioBundle::load("/nonexistent/dir".as_ref(), SystemTime::now()).unwrap_err();
    assert!(matches!(
        err,
        BundleError::Missing {
            file: CertFile::Key,
            ..
        }
    ));
}

#[test]
fn empty_and_malformed_pem_are_refused_per_file() {
    let cert = ec_cert();
    let (k, c, r) = (
        cert.key_pem.as_bytes(),
        cert.cert_chain_pem.as_bytes(),
        cert.root_cert_pem.as_bytes(),
    );
    let now = SystemTime::now();

    let err = IstioBundle::from_pem(b"", k, r, now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::EmptyPem {
                file: CertFile::CertChain,
                ..
            }
        ),
        "{err:?}"
    );
    let err = IstioBundle::from_pem(c, b"", r, now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::EmptyPem {
                file: CertFile::Key,
                ..
            }
        ),
        "{err:?}"
    );
    let err = IstioBundle::from_pem(c, k, b"just text\n", now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::EmptyPem {
                file: CertFile::RootCert,
                ..
            }
        ),
        "{err:?}"
    );

    let bad_b64 = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let err = IstioBundle::from_pem(bad_b64, k, r, now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::MalformedPem {
                file: CertFile::CertChain,
                ..
            }
        ),
        "{err:?}"
    );
    let unterminated = b"-----BEGIN CERTIFICATE-----\nAAAA\n";
    let err = IstioBundle::from_pem(c, k, unterminated, now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::MalformedPem {
                file: CertFile::RootCert,
                ..
            }
        ),
        "{err:?}"
    );
    let err = IstioBundle::from_pem(c, &[0xff, 0xfe, 0x00], r, now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::MalformedPem {
                file: CertFile::Key,
                ..
            }
        ),
        "{err:?}"
    );

    // Valid base64, but not a certificate.
    let not_x509 = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let err = IstioBundle::from_pem(not_x509, k, r, now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::BadCertificate {
                file: CertFile::CertChain,
                index: 0,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn oversized_file_is_refused() {
    let cert = ec_cert();
    let dir = tempfile::tempdir().unwrap();
    let mut big = cert.root_cert_pem.clone().into_bytes();
    big.resize(MAX_FILE_SIZE as usize + 1, b'\n');
    write_raw(
        dir.path(),
        cert.key_pem.as_bytes(),
        cert.cert_chain_pem.as_bytes(),
        &big,
    );
    let err = IstioBundle::load(dir.path(), SystemTime::now()).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::TooLarge {
                file: CertFile::RootCert,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn unsupported_key_types_are_refused() {
    let cert = ec_cert();
    let (c, r) = (
        cert.cert_chain_pem.as_bytes(),
        cert.root_cert_pem.as_bytes(),
    );
    let now = SystemTime::now();

    let ed25519 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
        .unwrap()
        .serialize_pem();
    let err = IstioBundle::from_pem(c, ed25519.as_bytes(), r, now).unwrap_err();
    assert!(
        matches!(&err, BundleError::UnsupportedKey { detail } if detail == "Ed25519"),
        "{err:?}"
    );

    let encrypted =
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let err = IstioBundle::from_pem(c, encrypted, r, now).unwrap_err();
    assert!(matches!(err, BundleError::UnsupportedKey { .. }), "{err:?}");

    let dsa = b"-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n";
    let err = IstioBundle::from_pem(c, dsa, r, now).unwrap_err();
    assert!(matches!(err, BundleError::UnsupportedKey { .. }), "{err:?}");

    let two = format!("{}{}", cert.key_pem, cert.key_pem);
    let err = IstioBundle::from_pem(c, two.as_bytes(), r, now).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::MalformedPem {
                file: CertFile::Key,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn torn_pair_new_key_with_old_chain_is_a_transient_mismatch() {
    let old = ec_cert();
    let new = ec_cert();
    let err = IstioBundle::from_pem(
        old.cert_chain_pem.as_bytes(),
        new.key_pem.as_bytes(),
        old.root_cert_pem.as_bytes(),
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(matches!(err, BundleError::KeyMismatch), "{err:?}");
    assert!(err.is_transient());
    assert_eq!(
        err.to_string(),
        "key.pem does not match the leaf certificate in cert-chain.pem"
    );
}

#[test]
fn leaves_that_are_not_x509_svids_are_refused() {
    type Expect = fn(&SvidError) -> bool;
    let cases: Vec<(LeafProfile, Expect)> = vec![
        (
            LeafProfile {
                uri_sans: Some(vec![
                    "spiffe://cluster.local/ns/a/sa/b".into(),
                    "spiffe://cluster.local/ns/c/sa/d".into(),
                ]),
                ..LeafProfile::default()
            },
            |e| matches!(e, SvidError::MultipleUriSans { count: 2 }),
        ),
        (
            LeafProfile {
                uri_sans: Some(vec![]),
                ..LeafProfile::default()
            },
            |e| matches!(e, SvidError::NoUriSan),
        ),
        (
            LeafProfile {
                is_ca: true,
                ..LeafProfile::default()
            },
            |e| matches!(e, SvidError::IsCa),
        ),
        (
            LeafProfile {
                extended_key_usages: Some(vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth]),
                ..LeafProfile::default()
            },
            |e| matches!(e, SvidError::EkuMissingClientAuth),
        ),
    ];
    for (leaf, expected) in cases {
        let req = WorkloadRequest {
            leaf,
            ..ec_request()
        };
        let cert = ec_ca().issue(&req).unwrap();
        match load(&cert) {
            Err(BundleError::InvalidSvid(e)) => assert!(expected(&e), "unexpected {e:?}"),
            other => panic!("expected InvalidSvid, got {other:?}"),
        }
    }
}

#[test]
fn chain_must_verify_by_signature_not_by_name() {
    let cert = ec_cert();
    // Another CA of the same trust domain has a root with the very same subject.
    let impostor = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        ..CaOptions::default()
    })
    .unwrap();
    let err = IstioBundle::from_pem(
        cert.cert_chain_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        impostor.root_pem().as_bytes(),
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(
        matches!(err, BundleError::ChainUnverified { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("self-signed 'O=cluster.local'"),
        "{err}"
    );
}

#[test]
fn chain_missing_its_intermediate_does_not_verify() {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        intermediate: true,
        ..CaOptions::default()
    })
    .unwrap();
    let cert = ca.issue(&ec_request()).unwrap();
    let err = IstioBundle::from_pem(
        cert.leaf_pem().as_bytes(),
        cert.key_pem.as_bytes(),
        cert.root_cert_pem.as_bytes(),
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(
        matches!(err, BundleError::ChainUnverified { .. }),
        "{err:?}"
    );
}

#[test]
fn expiry_and_not_yet_valid_use_the_injected_clock() {
    let cert = ec_cert();
    let bundle = load(&cert).unwrap();
    let not_after: SystemTime = bundle.facts().not_after.into();
    let not_before: SystemTime = bundle.facts().not_before.into();

    let err = load_at(&cert, not_after + Duration::from_secs(1)).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::Expired {
                file: CertFile::CertChain,
                index: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("spiffe://cluster.local/ns/avi-system/sa/ako-sa"),
        "{err}"
    );
    let err = load_at(&cert, not_before - Duration::from_secs(3600)).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::NotYetValid {
                file: CertFile::CertChain,
                index: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(load_at(&cert, not_after - Duration::from_secs(1)).is_ok());
}

#[test]
fn expired_intermediate_is_refused_even_when_the_leaf_is_valid() {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        intermediate: true,
        ..CaOptions::default()
    })
    .unwrap();
    let far = time::OffsetDateTime::now_utc() + time::Duration::days(1000);
    let req = WorkloadRequest {
        leaf: LeafProfile {
            not_after: Some(far),
            ..LeafProfile::default()
        },
        ..ec_request()
    };
    let cert = ca.issue(&req).unwrap();
    // The intermediate lives 730 days; the leaf was forced to 1000.
    let at = SystemTime::now() + Duration::from_secs(800 * 24 * 3600);
    let err = load_at(&cert, at).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::Expired {
                file: CertFile::CertChain,
                index: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn debug_and_errors_never_show_the_key() {
    let cert = ec_cert();
    let bundle = load(&cert).unwrap();
    let key_body: String = cert
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    let debug = format!("{bundle:?} {:?} {:?}", bundle.key_pem(), bundle.key_der());
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    for line in cert.key_pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!debug.contains(line), "key material in Debug: {debug}");
    }

    // A key with one corrupted character: the message says what, never quotes it.
    let mut corrupted = cert.key_pem.clone();
    let at = corrupted.find('\n').unwrap() + 5;
    corrupted.replace_range(at..at + 1, "!");
    let err = IstioBundle::from_pem(
        cert.cert_chain_pem.as_bytes(),
        corrupted.as_bytes(),
        cert.root_cert_pem.as_bytes(),
        SystemTime::now(),
    )
    .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        matches!(
            err,
            BundleError::MalformedPem {
                file: CertFile::Key,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!text.contains(&key_body[..16]), "{text}");
}

#[test]
fn fingerprint_covers_the_whole_set() {
    let cert = ec_cert();
    let a = load(&cert).unwrap();
    let b = load(&cert).unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    let other = load(&ec_cert()).unwrap();
    assert_ne!(a.fingerprint(), other.fingerprint());
    // Same chain and key with roots appended to the root file: a different set.
    let more_roots = format!("{}{}", cert.root_cert_pem, ec_ca().root_pem());
    let c = IstioBundle::from_pem(
        cert.cert_chain_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        more_roots.as_bytes(),
        SystemTime::now(),
    )
    .unwrap();
    assert_ne!(a.fingerprint(), c.fingerprint());
}

#[test]
fn a_private_key_in_a_certificate_file_is_refused_not_published() {
    let ca = IstioCa::new(CaOptions::default()).unwrap();
    let cert = ca.issue(&WorkloadRequest::default()).unwrap();
    // The common combined PEM: the chain followed by its key.
    let combined = format!("{}{}", cert.cert_chain_pem, cert.key_pem);
    let e = IstioBundle::from_pem(
        combined.as_bytes(),
        cert.key_pem.as_bytes(),
        cert.root_cert_pem.as_bytes(),
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            BundleError::KeyInCertificateFile {
                file: CertFile::CertChain
            }
        ),
        "{e}"
    );
    // The message names the problem, never the key.
    assert!(!e.to_string().contains(cert.key_pem.lines().nth(1).unwrap()));
    let in_root = format!("{}{}", cert.root_cert_pem, cert.key_pem);
    let e = IstioBundle::from_pem(
        cert.cert_chain_pem.as_bytes(),
        cert.key_pem.as_bytes(),
        in_root.as_bytes(),
        SystemTime::now(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), "key_in_certificate_file");
    assert_eq!(e.file(), CertFile::RootCert);
}

#[test]
fn a_fifo_in_the_directory_is_refused_without_blocking() {
    let ca = IstioCa::new(CaOptions::default()).unwrap();
    let cert = ca.issue(&WorkloadRequest::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &cert);
    let key = dir.path().join("key.pem");
    std::fs::remove_file(&key).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&key).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available; skipping");
        return;
    }
    // Without the check this open would block forever (no writer ever comes).
    let e = IstioBundle::load(dir.path(), SystemTime::now()).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}
