//! OpenSSL's names for the object identifiers a certificate dump mentions.
//!
//! Names follow OpenSSL 1.0.2 (the library behind controller 20.1.x, whose captures the
//! emulator reproduces): short names in distinguished names, long names for signature and key
//! algorithms and extensions. Unknown identifiers print as dotted OIDs, as OpenSSL does.

/// OID of `rsaEncryption`.
pub(super) const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// OID of `id-ecPublicKey`.
pub(super) const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// OID of Ed25519 (RFC 8410).
pub(super) const ED25519: &str = "1.3.101.112";
/// OID of Ed448 (RFC 8410).
pub(super) const ED448: &str = "1.3.101.113";

/// Short name of a distinguished-name attribute type (`C`, `ST`, `CN`, ...).
pub(super) fn attribute_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// OpenSSL name of a signature algorithm, or the dotted OID.
pub(super) fn signature_algorithm(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.3.14.3.2.29" => "sha1WithRSA",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        ED25519 => "ED25519",
        ED448 => "ED448",
        other => return other.to_owned(),
    };
    name.to_owned()
}

/// OpenSSL name of a public-key algorithm, or the dotted OID.
pub(super) fn public_key_algorithm(oid: &str) -> String {
    let name = match oid {
        RSA_ENCRYPTION => "rsaEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        EC_PUBLIC_KEY => "id-ecPublicKey",
        "1.2.840.10040.4.1" => "dsaEncryption",
        ED25519 => "ED25519",
        ED448 => "ED448",
        other => return other.to_owned(),
    };
    name.to_owned()
}

/// A named elliptic curve the controller knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Curve {
    /// OpenSSL's ASN.1 name (`prime256v1`).
    pub(super) asn1_name: &'static str,
    /// NIST name (`P-256`).
    pub(super) nist_name: &'static str,
    /// Order size in bits.
    pub(super) bits: u32,
    /// `SSLKeyECParams.curve` enum value.
    pub(super) avi_enum: &'static str,
}

/// The curve of an `id-ecPublicKey` from its `namedCurve` OID.
pub(super) fn curve(oid: &str) -> Option<Curve> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => Curve {
            asn1_name: "prime256v1",
            nist_name: "P-256",
            bits: 256,
            avi_enum: "SSL_KEY_EC_CURVE_SECP256R1",
        },
        "1.3.132.0.34" => Curve {
            asn1_name: "secp384r1",
            nist_name: "P-384",
            bits: 384,
            avi_enum: "SSL_KEY_EC_CURVE_SECP384R1",
        },
        "1.3.132.0.35" => Curve {
            asn1_name: "secp521r1",
            nist_name: "P-521",
            bits: 521,
            avi_enum: "SSL_KEY_EC_CURVE_SECP521R1",
        },
        _ => return None,
    })
}

/// OpenSSL's display name of an extension, or `None` for an unknown one.
pub(super) fn extension(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.29.14" => "X509v3 Subject Key Identifier",
        "2.5.29.15" => "X509v3 Key Usage",
        "2.5.29.16" => "X509v3 Private Key Usage Period",
        "2.5.29.17" => "X509v3 Subject Alternative Name",
        "2.5.29.18" => "X509v3 Issuer Alternative Name",
        "2.5.29.19" => "X509v3 Basic Constraints",
        "2.5.29.30" => "X509v3 Name Constraints",
        "2.5.29.31" => "X509v3 CRL Distribution Points",
        "2.5.29.32" => "X509v3 Certificate Policies",
        "2.5.29.33" => "X509v3 Policy Mappings",
        "2.5.29.35" => "X509v3 Authority Key Identifier",
        "2.5.29.36" => "X509v3 Policy Constraints",
        "2.5.29.37" => "X509v3 Extended Key Usage",
        "2.5.29.46" => "X509v3 Freshest CRL",
        "2.5.29.54" => "X509v3 Inhibit Any Policy",
        "1.3.6.1.5.5.7.1.1" => "Authority Information Access",
        "1.3.6.1.5.5.7.1.11" => "Subject Information Access",
        "1.3.6.1.5.5.7.1.24" => "TLS Feature",
        "1.3.6.1.4.1.11129.2.4.2" => "CT Precertificate SCTs",
        "1.3.6.1.4.1.11129.2.4.3" => "CT Precertificate Poison",
        "2.16.840.1.113730.1.1" => "Netscape Cert Type",
        "2.16.840.1.113730.1.13" => "Netscape Comment",
        _ => return None,
    })
}

/// OpenSSL's long name of an extended key usage purpose, or the dotted OID.
pub(super) fn extended_key_usage(oid: &str) -> String {
    let name = match oid {
        "2.5.29.37.0" => "Any Extended Key Usage",
        "1.3.6.1.5.5.7.3.1" => "TLS Web Server Authentication",
        "1.3.6.1.5.5.7.3.2" => "TLS Web Client Authentication",
        "1.3.6.1.5.5.7.3.3" => "Code Signing",
        "1.3.6.1.5.5.7.3.4" => "E-mail Protection",
        "1.3.6.1.5.5.7.3.8" => "Time Stamping",
        "1.3.6.1.5.5.7.3.9" => "OCSP Signing",
        "1.3.6.1.4.1.311.10.3.3" => "Microsoft Server Gated Crypto",
        "2.16.840.1.113730.4.1" => "Netscape Server Gated Crypto",
        other => return other.to_owned(),
    };
    name.to_owned()
}

/// OpenSSL's name of an access method in Authority/Subject Information Access.
pub(super) fn access_method(oid: &str) -> String {
    let name = match oid {
        "1.3.6.1.5.5.7.48.1" => "OCSP",
        "1.3.6.1.5.5.7.48.2" => "CA Issuers",
        "1.3.6.1.5.5.7.48.3" => "Time Stamping",
        "1.3.6.1.5.5.7.48.5" => "CA Repository",
        other => return other.to_owned(),
    };
    name.to_owned()
}
