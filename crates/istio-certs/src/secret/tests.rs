use std::time::SystemTime;

use super::*;
use crate::testutil::{bundle_of, ec_cert};

#[test]
fn secret_round_trip_keeps_the_set() {
    let cert = ec_cert();
    let bundle = bundle_of(&cert);
    let secret = to_secret(&bundle, "avi-system");
    assert_eq!(secret.metadata.name.as_deref(), Some("istio-secret"));
    assert_eq!(secret.type_.as_deref(), Some("Opaque"));
    let data = secret.data.unwrap();
    assert_eq!(
        data.keys().map(String::as_str).collect::<Vec<_>>(),
        ["cert-chain", "key", "root-cert"]
    );
    assert_eq!(data["key"].0, cert.key_pem.as_bytes());
    let back = from_secret_data(&data, SystemTime::now()).unwrap();
    assert_eq!(back.fingerprint(), bundle.fingerprint());
    assert_eq!(back.facts(), bundle.facts());
}

#[test]
fn secret_with_missing_or_torn_data_is_refused() {
    let cert = ec_cert();
    let bundle = bundle_of(&cert);
    let mut data = to_secret_data(&bundle);
    data.remove("root-cert");
    let err = from_secret_data(&data, SystemTime::now()).unwrap_err();
    assert!(
        matches!(err, SecretError::MissingKey("root-cert")),
        "{err:?}"
    );

    let mut data = to_secret_data(&bundle);
    data.insert("key".into(), ByteString(ec_cert().key_pem.into_bytes()));
    let err = from_secret_data(&data, SystemTime::now()).unwrap_err();
    assert!(
        matches!(err, SecretError::Invalid(BundleError::KeyMismatch)),
        "{err:?}"
    );
}
