use std::time::Duration;

use rcgen::{ExtendedKeyUsagePurpose, KeyUsagePurpose};
use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_PKCS1_SHA256WITHRSA, OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384,
    OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER, OID_X509_EXT_BASIC_CONSTRAINTS,
    OID_X509_EXT_EXTENDED_KEY_USAGE, OID_X509_EXT_KEY_USAGE, OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
};

use super::*;
use crate::{KeyFormat, LeafProfile, SimError};

const DAY: i64 = 24 * 3600;

fn uris<'a>(cert: &'a X509Certificate<'_>) -> Vec<&'a str> {
    match cert.subject_alternative_name().unwrap() {
        None => vec![],
        Some(san) => san
            .value
            .general_names
            .iter()
            .map(|g| match g {
                GeneralName::URI(u) => *u,
                other => panic!("unexpected SAN {other:?}"),
            })
            .collect(),
    }
}

fn skid<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.get_extension_unique(&OID_X509_EXT_SUBJECT_KEY_IDENTIFIER)
        .unwrap()
        .map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => k.0,
            other => panic!("{other:?}"),
        })
}

fn akid<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.get_extension_unique(&OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER)
        .unwrap()
        .map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(k) => k.key_identifier.as_ref().unwrap().0,
            other => panic!("{other:?}"),
        })
}

/// Asserts everything istiod promises about a workload leaf.
fn assert_istio_leaf(leaf: &X509Certificate<'_>, spiffe: &str, ttl_secs: i64) {
    // Empty subject, and therefore a critical SAN with exactly one URI.
    assert_eq!(
        leaf.subject().iter_attributes().count(),
        0,
        "subject must be empty"
    );
    let san = leaf.subject_alternative_name().unwrap().unwrap();
    assert!(
        san.critical,
        "SAN must be critical when the subject is empty"
    );
    assert_eq!(uris(leaf), vec![spiffe]);

    let ku = leaf.key_usage().unwrap().unwrap();
    assert!(ku.critical);
    assert!(ku.value.digital_signature());
    assert!(ku.value.key_encipherment());
    assert_eq!(
        ku.value.flags, 0b101,
        "only digitalSignature + keyEncipherment"
    );

    let eku = leaf.extended_key_usage().unwrap().unwrap();
    assert!(eku.value.server_auth && eku.value.client_auth);
    assert!(!eku.value.any && !eku.value.code_signing && eku.value.other.is_empty());

    // Go writes basicConstraints CA:FALSE (critical) and no SKI on leaves.
    let bc = leaf.basic_constraints().unwrap().unwrap();
    assert!(bc.critical);
    assert!(!bc.value.ca);
    assert!(!leaf.is_ca());
    assert!(skid(leaf).is_none());

    // Exactly these extensions.
    let mut oids: Vec<_> = leaf
        .extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect();
    oids.sort();
    let mut expected: Vec<_> = [
        &OID_X509_EXT_SUBJECT_ALT_NAME,
        &OID_X509_EXT_KEY_USAGE,
        &OID_X509_EXT_EXTENDED_KEY_USAGE,
        &OID_X509_EXT_BASIC_CONSTRAINTS,
        &OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER,
    ]
    .iter()
    .map(|o| o.to_id_string())
    .collect();
    expected.sort();
    assert_eq!(oids, expected);

    let now = now();
    let nb = leaf.validity().not_before.timestamp();
    let na = leaf.validity().not_after.timestamp();
    assert!(
        (nb - (now - 120)).abs() <= 5,
        "NotBefore {nb} vs now-2m {}",
        now - 120
    );
    assert!(
        (na - (now + ttl_secs)).abs() <= 5,
        "NotAfter {na} vs now+ttl {}",
        now + ttl_secs
    );
}

#[test]
fn default_self_signed_ca_issues_istio_leaf() {
    let ca = IstioCa::new(CaOptions::default()).unwrap();
    let cert = ca.issue(&WorkloadRequest::default()).unwrap();

    assert_eq!(
        cert.spiffe_id,
        "spiffe://cluster.local/ns/avi-system/sa/ako-sa"
    );
    let chain = cert_ders(&cert.cert_chain_pem);
    assert_eq!(chain.len(), 2, "self-signed istiod CA: leaf + root");
    assert_eq!(chain[0], cert.leaf_der);
    assert_eq!(cert_ders(&ca.root_pem()), vec![chain[1].clone()]);
    assert_eq!(cert.root_cert_pem, ca.roots_pem());
    assert_eq!(cert.root_cert_pem, ca.root_pem());
    assert_eq!(cert.leaf_pem(), pem_of(&cert.cert_chain_pem, 0));

    let leaf = parse(&chain[0]);
    let root = parse(&chain[1]);
    assert_istio_leaf(&leaf, &cert.spiffe_id, DAY);
    assert_eq!(leaf.signature_algorithm.algorithm, OID_PKCS1_SHA256WITHRSA);
    assert_eq!(leaf.issuer().to_string(), "O=cluster.local");

    // Serial: random, < 2^128, reported in hex.
    let raw = leaf.raw_serial();
    let trimmed: Vec<u8> = raw.iter().copied().skip_while(|&b| b == 0).collect();
    assert!(trimmed.len() <= 16);
    let hex: String = trimmed.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(cert.serial_hex, hex);

    // Root: self-signed O=<td>, CA, keyCertSign, 10 years.
    assert_eq!(root.subject().to_string(), "O=cluster.local");
    assert_eq!(root.issuer().to_string(), "O=cluster.local");
    assert!(root.is_ca());
    let ku = root.key_usage().unwrap().unwrap();
    assert!(ku.value.key_cert_sign());
    assert!(!ku.value.digital_signature());
    assert!(root.extended_key_usage().unwrap().is_none());
    assert!(root.subject_alternative_name().unwrap().is_none());
    let life = root.validity().not_after.timestamp() - root.validity().not_before.timestamp();
    assert_eq!(life, 3650 * DAY);
    assert!((root.validity().not_before.timestamp() - now()).abs() <= 5);

    // Signatures and key identifiers chain up.
    root.verify_signature(None).unwrap();
    leaf.verify_signature(Some(root.public_key())).unwrap();
    assert_eq!(akid(&leaf), skid(&root));
    assert!(skid(&root).is_some());

    // The key is PKCS#1 and belongs to the leaf.
    let key = pems(&cert.key_pem);
    assert_eq!(key.len(), 1);
    assert_eq!(key[0].label, "RSA PRIVATE KEY");
    assert_key_matches_leaf(&cert.key_pem, &leaf);
}

fn pem_of(s: &str, i: usize) -> &str {
    const END: &str = "-----END CERTIFICATE-----\n";
    let mut start = 0;
    for _ in 0..i {
        start += s[start..].find(END).unwrap() + END.len();
    }
    let end = start + s[start..].find(END).unwrap() + END.len();
    &s[start..end]
}

/// Parses `key.pem` back with the RustCrypto crates and compares its public half to the leaf.
fn assert_key_matches_leaf(key_pem: &str, leaf: &X509Certificate<'_>) {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::DecodePrivateKey;
    use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};

    let spk = leaf.public_key().subject_public_key.data.to_vec();
    let label = pems(key_pem).remove(0).label;
    let public: Vec<u8> = match label.as_str() {
        "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_pem(key_pem)
            .unwrap()
            .to_public_key()
            .to_pkcs1_der()
            .unwrap()
            .into_vec(),
        "EC PRIVATE KEY" => match p256::SecretKey::from_sec1_pem(key_pem) {
            Ok(k) => k.public_key().to_encoded_point(false).as_bytes().to_vec(),
            Err(_) => p384::SecretKey::from_sec1_pem(key_pem)
                .unwrap()
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec(),
        },
        "PRIVATE KEY" => {
            if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(key_pem) {
                k.to_public_key().to_pkcs1_der().unwrap().into_vec()
            } else if let Ok(k) = p256::SecretKey::from_pkcs8_pem(key_pem) {
                k.public_key().to_encoded_point(false).as_bytes().to_vec()
            } else {
                p384::SecretKey::from_pkcs8_pem(key_pem)
                    .unwrap()
                    .public_key()
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec()
            }
        }
        other => panic!("unexpected key label {other}"),
    };
    assert_eq!(public, spk, "key.pem does not match the leaf");
}

#[test]
fn every_key_alg_and_format_parses_back() {
    // One CA per curve so that the signature algorithm follows the CA key, as in Go.
    let ca = ec_ca();
    let cases = [
        (KeyAlg::Rsa2048, KeyFormat::Traditional, "RSA PRIVATE KEY"),
        (KeyAlg::Rsa2048, KeyFormat::Pkcs8, "PRIVATE KEY"),
        (KeyAlg::EcdsaP256, KeyFormat::Traditional, "EC PRIVATE KEY"),
        (KeyAlg::EcdsaP256, KeyFormat::Pkcs8, "PRIVATE KEY"),
        (KeyAlg::EcdsaP384, KeyFormat::Traditional, "EC PRIVATE KEY"),
        (KeyAlg::EcdsaP384, KeyFormat::Pkcs8, "PRIVATE KEY"),
    ];
    for (alg, format, label) in cases {
        let cert = ca
            .issue(&WorkloadRequest {
                key_alg: alg,
                key_format: format,
                ..Default::default()
            })
            .unwrap();
        let blocks = pems(&cert.key_pem);
        assert_eq!(blocks.len(), 1, "{alg:?} {format:?}");
        assert_eq!(blocks[0].label, label, "{alg:?} {format:?}");
        assert!(cert.key_pem.ends_with("-----\n"));
        let leaf = parse(&cert.leaf_der);
        assert_key_matches_leaf(&cert.key_pem, &leaf);
        assert_istio_leaf(&leaf, &cert.spiffe_id, DAY);
        // Signed by the P-256 CA whatever the leaf key is.
        assert_eq!(
            leaf.signature_algorithm.algorithm,
            OID_SIG_ECDSA_WITH_SHA256
        );

        // PKCS#8 keys load into rcgen (ring), i.e. they are well-formed for TLS stacks too.
        if format == KeyFormat::Pkcs8 {
            rcgen::KeyPair::from_pem(&cert.key_pem).unwrap();
        }
        // SEC1 keys carry the named curve, which Go's ParseECPrivateKey needs.
        if alg != KeyAlg::Rsa2048 && format == KeyFormat::Traditional {
            let oid: &[u8] = if alg == KeyAlg::EcdsaP256 {
                &[
                    0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
                ]
            } else {
                &[0xa0, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]
            };
            let der = &blocks[0].contents;
            assert!(
                der.windows(oid.len()).any(|w| w == oid),
                "{alg:?}: no curve parameters"
            );
        }
    }
}

#[test]
fn ca_key_alg_sets_signature_algorithm() {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP384,
        ..Default::default()
    })
    .unwrap();
    let cert = ca.issue(&ec_req()).unwrap();
    let chain = cert_ders(&cert.cert_chain_pem);
    let leaf = parse(&chain[0]);
    let root = parse(&chain[1]);
    assert_eq!(
        leaf.signature_algorithm.algorithm,
        OID_SIG_ECDSA_WITH_SHA384
    );
    assert_eq!(
        root.signature_algorithm.algorithm,
        OID_SIG_ECDSA_WITH_SHA384
    );
    leaf.verify_signature(Some(root.public_key())).unwrap();
}

#[test]
fn intermediate_ca_shape() {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        intermediate: true,
        ..Default::default()
    })
    .unwrap();
    let cert = ca.issue(&ec_req()).unwrap();
    let chain = cert_ders(&cert.cert_chain_pem);
    assert_eq!(chain.len(), 3, "leaf, intermediate, root");
    let (leaf, int, root) = (parse(&chain[0]), parse(&chain[1]), parse(&chain[2]));
    assert_eq!(cert_ders(&ca.root_pem()), vec![chain[2].clone()]);
    assert_eq!(
        cert_ders(&ca.intermediate_pem().unwrap()),
        vec![chain[1].clone()]
    );
    assert_eq!(cert_ders(&cert.root_cert_pem), vec![chain[2].clone()]);

    assert_istio_leaf(&leaf, &cert.spiffe_id, DAY);
    assert_eq!(
        int.subject().to_string(),
        "O=cluster.local, CN=Intermediate CA"
    );
    assert_eq!(int.issuer().to_string(), "O=cluster.local");
    assert_eq!(
        leaf.issuer().to_string(),
        "O=cluster.local, CN=Intermediate CA"
    );
    assert!(int.is_ca());
    assert!(int.key_usage().unwrap().unwrap().value.key_cert_sign());
    assert!(int.validity().not_after <= root.validity().not_after);

    leaf.verify_signature(Some(int.public_key())).unwrap();
    int.verify_signature(Some(root.public_key())).unwrap();
    root.verify_signature(None).unwrap();
    assert!(leaf.verify_signature(Some(root.public_key())).is_err());
    assert_eq!(akid(&leaf), skid(&int));
    assert_eq!(akid(&int), skid(&root));
}

#[test]
fn leaf_not_after_is_clamped_to_signer() {
    let ca = IstioCa::new(CaOptions {
        key_alg: KeyAlg::EcdsaP256,
        root_ttl: Duration::from_secs(3600),
        ..Default::default()
    })
    .unwrap();
    let cert = ca.issue(&ec_req()).unwrap();
    let chain = cert_ders(&cert.cert_chain_pem);
    let (leaf, root) = (parse(&chain[0]), parse(&chain[1]));
    assert_eq!(leaf.validity().not_after, root.validity().not_after);
    assert!((leaf.validity().not_after.timestamp() - (now() + 3600)).abs() <= 5);
}

#[test]
fn ttl_defaults_and_limits() {
    let ca = ec_ca();
    let short = ca
        .issue(&WorkloadRequest {
            ttl: Duration::from_secs(600),
            ..ec_req()
        })
        .unwrap();
    assert_istio_leaf(&parse(&short.leaf_der), &short.spiffe_id, 600);

    let zero = ca
        .issue(&WorkloadRequest {
            ttl: Duration::ZERO,
            ..ec_req()
        })
        .unwrap();
    assert_istio_leaf(&parse(&zero.leaf_der), &zero.spiffe_id, DAY);

    let max = ca
        .issue(&WorkloadRequest {
            ttl: Duration::from_secs(90 * DAY as u64),
            ..ec_req()
        })
        .unwrap();
    assert_istio_leaf(&parse(&max.leaf_der), &max.spiffe_id, 90 * DAY);

    let err = ca
        .issue(&WorkloadRequest {
            ttl: Duration::from_secs(90 * DAY as u64 + 1),
            ..ec_req()
        })
        .unwrap_err();
    assert!(matches!(err, SimError::TtlTooLong { .. }), "{err}");
    assert!(err.to_string().contains("greater than the max allowed TTL"));
}

#[test]
fn root_rotation_keeps_old_root_trusted_until_dropped() {
    for intermediate in [false, true] {
        let mut ca = IstioCa::new(CaOptions {
            key_alg: KeyAlg::EcdsaP256,
            intermediate,
            ..Default::default()
        })
        .unwrap();
        let before = ca.issue(&ec_req()).unwrap();
        let old_root_der = cert_ders(&ca.root_pem()).remove(0);

        ca.rotate_root().unwrap();
        let roots = cert_ders(&ca.roots_pem());
        assert_eq!(roots.len(), 2);
        assert_eq!(
            roots[1], old_root_der,
            "old root stays trusted, after the new one"
        );
        assert_ne!(roots[0], old_root_der);
        assert_eq!(cert_ders(&ca.root_pem()), vec![roots[0].clone()]);

        let after = ca.issue(&ec_req()).unwrap();
        assert_eq!(after.root_cert_pem, ca.roots_pem());
        let chain = cert_ders(&after.cert_chain_pem);
        // istio-agent writes the whole root bundle at the tail of cert-chain.pem.
        let n = if intermediate { 4 } else { 3 };
        assert_eq!(chain.len(), n, "intermediate={intermediate}");
        assert_eq!(&chain[n - 2..], &roots[..]);

        let new_root = parse(&roots[0]);
        let old_root = parse(&roots[1]);
        let leaf = parse(&chain[0]);
        let signer = if intermediate {
            let int = parse(&chain[1]);
            int.verify_signature(Some(new_root.public_key())).unwrap();
            assert!(int.verify_signature(Some(old_root.public_key())).is_err());
            assert_ne!(
                cert_ders(&before.cert_chain_pem)[1],
                chain[1],
                "a new intermediate comes with the new root"
            );
            chain[1].clone()
        } else {
            roots[0].clone()
        };
        leaf.verify_signature(Some(parse(&signer).public_key()))
            .unwrap();
        assert!(leaf.verify_signature(Some(old_root.public_key())).is_err());

        // Leaves issued before the rotation still chain to a trusted root.
        let old_chain = cert_ders(&before.cert_chain_pem);
        // [leaf, root] or [leaf, intermediate, root]: the signer is second either way.
        let old_signer = parse(&old_chain[1]);
        parse(&old_chain[0])
            .verify_signature(Some(old_signer.public_key()))
            .unwrap();
        assert!(roots.contains(old_chain.last().unwrap()));

        ca.drop_old_roots();
        assert_eq!(cert_ders(&ca.roots_pem()), vec![roots[0].clone()]);
        assert_eq!(
            cert_ders(&ca.issue(&ec_req()).unwrap().root_cert_pem).len(),
            1
        );
    }
}

#[test]
fn custom_trust_domain_and_identity() {
    let ca = IstioCa::new(CaOptions {
        trust_domain: "example.org".into(),
        key_alg: KeyAlg::EcdsaP256,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(ca.trust_domain(), "example.org");
    let cert = ca
        .issue(&WorkloadRequest {
            namespace: "payments".into(),
            service_account: "default".into(),
            ..ec_req()
        })
        .unwrap();
    assert_eq!(
        cert.spiffe_id,
        "spiffe://example.org/ns/payments/sa/default"
    );
    let leaf = parse(&cert.leaf_der);
    assert_istio_leaf(&leaf, "spiffe://example.org/ns/payments/sa/default", DAY);
    assert_eq!(parse(&ca.root_der()).subject().to_string(), "O=example.org");
}

#[test]
fn invalid_names_are_rejected() {
    for td in ["", "Cluster.Local", "td:8080", "a/b"] {
        let err = IstioCa::new(CaOptions {
            trust_domain: td.into(),
            key_alg: KeyAlg::EcdsaP256,
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            matches!(err, SimError::InvalidTrustDomain { .. }),
            "{td:?}: {err}"
        );
    }
    let ca = ec_ca();
    for (ns, sa) in [
        ("", "sa"),
        ("ns", ""),
        ("a/b", "sa"),
        ("ns", ".."),
        ("ns", "a b"),
    ] {
        let err = ca
            .issue(&WorkloadRequest {
                namespace: ns.into(),
                service_account: sa.into(),
                ..ec_req()
            })
            .unwrap_err();
        assert!(
            matches!(err, SimError::InvalidIdentity { .. }),
            "{ns:?}/{sa:?}: {err}"
        );
    }
}

#[test]
fn leaf_profile_knobs_break_the_leaf_on_purpose() {
    let ca = ec_ca();
    let issue = |leaf: LeafProfile| ca.issue(&WorkloadRequest { leaf, ..ec_req() }).unwrap();

    let two = issue(LeafProfile {
        uri_sans: Some(vec![
            "spiffe://cluster.local/ns/a/sa/b".into(),
            "spiffe://cluster.local/ns/c/sa/d".into(),
        ]),
        ..Default::default()
    });
    assert_eq!(two.spiffe_id, "spiffe://cluster.local/ns/a/sa/b");
    assert_eq!(uris(&parse(&two.leaf_der)).len(), 2);

    let none = issue(LeafProfile {
        uri_sans: Some(vec![]),
        ..Default::default()
    });
    assert_eq!(none.spiffe_id, "");
    assert!(
        parse(&none.leaf_der)
            .subject_alternative_name()
            .unwrap()
            .is_none()
    );

    let ca_leaf = issue(LeafProfile {
        is_ca: true,
        ..Default::default()
    });
    assert!(parse(&ca_leaf.leaf_der).is_ca());

    let ku = issue(LeafProfile {
        key_usages: Some(vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ]),
        extended_key_usages: Some(vec![]),
        ..Default::default()
    });
    let leaf = parse(&ku.leaf_der);
    let usage = leaf.key_usage().unwrap().unwrap().value;
    assert!(usage.key_cert_sign() && usage.digital_signature() && !usage.key_encipherment());
    assert!(leaf.extended_key_usage().unwrap().is_none());

    let server_only = issue(LeafProfile {
        extended_key_usages: Some(vec![ExtendedKeyUsagePurpose::ServerAuth]),
        ..Default::default()
    });
    let leaf = parse(&server_only.leaf_der);
    let eku = leaf.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && !eku.client_auth);

    // Expired yesterday.
    let nb = OffsetDateTime::now_utc() - Duration::from_secs(2 * DAY as u64);
    let na = OffsetDateTime::now_utc() - Duration::from_secs(DAY as u64);
    let expired = issue(LeafProfile {
        not_before: Some(nb),
        not_after: Some(na),
        ..Default::default()
    });
    let leaf = parse(&expired.leaf_der);
    assert_eq!(leaf.validity().not_before.timestamp(), nb.unix_timestamp());
    assert_eq!(leaf.validity().not_after.timestamp(), na.unix_timestamp());
    assert!(!leaf.validity().is_valid());

    // Not yet valid: only not_before given, not_after follows it.
    let nb = OffsetDateTime::now_utc() + Duration::from_secs(3600);
    let future = issue(LeafProfile {
        not_before: Some(nb),
        ..Default::default()
    });
    let leaf = parse(&future.leaf_der);
    assert_eq!(
        leaf.validity().not_after.timestamp(),
        nb.unix_timestamp() + 120 + DAY
    );
}

#[test]
fn serials_and_keys_are_fresh_per_issue() {
    let ca = ec_ca();
    let a = ca.issue(&ec_req()).unwrap();
    let b = ca.issue(&ec_req()).unwrap();
    assert_ne!(a.serial_hex, b.serial_hex);
    assert_ne!(a.key_pem, b.key_pem);
    assert_ne!(a.cert_chain_pem, b.cert_chain_pem);
    assert_eq!(a.root_cert_pem, b.root_cert_pem);
}

#[test]
fn debug_redacts_the_private_key() {
    let cert = ec_ca().issue(&ec_req()).unwrap();
    let dbg = format!("{cert:?}");
    assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
    assert!(!dbg.contains(cert.key_pem.lines().nth(1).unwrap()));
    assert!(dbg.contains("[redacted]"));
    assert!(dbg.contains(&cert.spiffe_id));
    let ca_dbg = format!("{:?}", ec_ca());
    assert!(!ca_dbg.contains("PRIVATE"));
}
