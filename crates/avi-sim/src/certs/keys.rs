//! Public halves of private keys that `ring` cannot load.
//!
//! `ring` refuses RSA keys under 2048 bits and P-521 keys, both of which the controller accepts
//! (`SSL_KEY_1024_BITS`, `SSL_KEY_EC_CURVE_SECP521R1`). For those, the public half is read
//! straight from the key's DER: PKCS#1 `RSAPrivateKey` carries the modulus and public
//! exponent, SEC1 `ECPrivateKey` carries the public point (its optional `[1]` field, which
//! OpenSSL, Go and rcgen always write), and PKCS#8 wraps either.
//!
//! Nothing here formats or logs key bytes; [`KeyPublic`] deliberately has no `Debug`.

use rustls_pki_types::PrivateKeyDer;

/// DER content octets of the `rsaEncryption` OID.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// DER content octets of the `id-ecPublicKey` OID.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_CONTEXT_1: u8 = 0xa1;

/// The public half of a private key, borrowed from the key's DER.
pub(super) enum KeyPublic<'a> {
    /// RSA modulus and public exponent (big-endian, possibly with leading zeros).
    Rsa {
        modulus: &'a [u8],
        exponent: &'a [u8],
    },
    /// An EC public point as carried in SEC1 (`04 || X || Y` when uncompressed).
    Ec { point: &'a [u8] },
}

/// Reads the public half out of a PKCS#1, SEC1 or PKCS#8 private key.
pub(super) fn public_of<'a>(key: &'a PrivateKeyDer<'_>) -> Option<KeyPublic<'a>> {
    match key {
        PrivateKeyDer::Pkcs1(k) => rsa_from_pkcs1(k.secret_pkcs1_der()),
        PrivateKeyDer::Sec1(k) => ec_from_sec1(k.secret_sec1_der()),
        PrivateKeyDer::Pkcs8(k) => from_pkcs8(k.secret_pkcs8_der()),
        _ => None,
    }
}

/// Strips the leading zero octets of a big-endian unsigned integer.
pub(super) fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// One DER element: `(tag, contents, rest)`. Low tag numbers and definite lengths only.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (len_bytes, rest) = (rest.get(..n)?, rest.get(n..)?);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    Some((tag, rest.get(..len)?, rest.get(len..)?))
}

/// The contents of an element that must have `tag`, and what follows it.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, contents, rest) = tlv(input)?;
    (t == tag).then_some((contents, rest))
}

/// `RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, ... }`.
fn rsa_from_pkcs1(der: &[u8]) -> Option<KeyPublic<'_>> {
    let (seq, _) = expect(der, TAG_SEQUENCE)?;
    let (_version, rest) = expect(seq, TAG_INTEGER)?;
    let (modulus, rest) = expect(rest, TAG_INTEGER)?;
    let (exponent, _) = expect(rest, TAG_INTEGER)?;
    Some(KeyPublic::Rsa { modulus, exponent })
}

/// `ECPrivateKey ::= SEQUENCE { version, privateKey, [0] parameters OPTIONAL,
/// [1] publicKey BIT STRING OPTIONAL }`.
fn ec_from_sec1(der: &[u8]) -> Option<KeyPublic<'_>> {
    let (seq, _) = expect(der, TAG_SEQUENCE)?;
    let (_version, rest) = expect(seq, TAG_INTEGER)?;
    let (_private, mut rest) = expect(rest, TAG_OCTET_STRING)?;
    while !rest.is_empty() {
        let (tag, contents, next) = tlv(rest)?;
        if tag == TAG_CONTEXT_1 {
            let (bits, _) = expect(contents, TAG_BIT_STRING)?;
            let (&unused, point) = bits.split_first()?;
            return (unused == 0 && !point.is_empty()).then_some(KeyPublic::Ec { point });
        }
        rest = next;
    }
    None
}

/// `PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, privateKey OCTET STRING, ... }`.
fn from_pkcs8(der: &[u8]) -> Option<KeyPublic<'_>> {
    let (seq, _) = expect(der, TAG_SEQUENCE)?;
    let (_version, rest) = expect(seq, TAG_INTEGER)?;
    let (alg, rest) = expect(rest, TAG_SEQUENCE)?;
    let (oid, _) = expect(alg, TAG_OID)?;
    let (inner, _) = expect(rest, TAG_OCTET_STRING)?;
    if oid == OID_RSA_ENCRYPTION {
        rsa_from_pkcs1(inner)
    } else if oid == OID_EC_PUBLIC_KEY {
        ec_from_sec1(inner)
    } else {
        None
    }
}
