//! Private keys as istio-agent makes and encodes them.
//!
//! istio-agent generates RSA-2048 by default (`WORKLOAD_RSA_KEY_SIZE`) or ECDSA P-256/P-384
//! (`ECC_SIGNATURE_ALGORITHM=ECDSA`, `ECC_CURVE`), and writes `key.pem` as PKCS#1
//! (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`), or PKCS#8 (`PRIVATE KEY`) with `PKCS8_KEY=true`.

use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rcgen::{PublicKeyData, SignatureAlgorithm};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

use crate::SimError;

/// The key algorithm of a generated key pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    /// RSA with a 2048-bit modulus, signed with SHA-256: istio's default.
    #[default]
    Rsa2048,
    /// ECDSA on NIST P-256, signed with SHA-256 (`ECC_CURVE=P256`).
    EcdsaP256,
    /// ECDSA on NIST P-384, signed with SHA-384 (`ECC_CURVE=P384`).
    EcdsaP384,
}

impl KeyAlg {
    /// A short human name, used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::Rsa2048 => "RSA-2048",
            KeyAlg::EcdsaP256 => "ECDSA-P256",
            KeyAlg::EcdsaP384 => "ECDSA-P384",
        }
    }

    fn signature_algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyAlg::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
            KeyAlg::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlg::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

/// How `key.pem` encodes the private key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    /// istio-agent's default: RSA as PKCS#1 `RSA PRIVATE KEY`, EC as SEC1 `EC PRIVATE KEY`
    /// (with the named-curve parameters, as Go's `x509.MarshalECPrivateKey` writes them).
    #[default]
    Traditional,
    /// PKCS#8 `PRIVATE KEY` (istio-agent with `PKCS8_KEY=true`).
    Pkcs8,
}

/// PEM label of PKCS#1 RSA keys.
pub const PEM_LABEL_RSA: &str = "RSA PRIVATE KEY";
/// PEM label of SEC1 EC keys.
pub const PEM_LABEL_EC: &str = "EC PRIVATE KEY";
/// PEM label of PKCS#8 keys.
pub const PEM_LABEL_PKCS8: &str = "PRIVATE KEY";

/// A freshly generated key pair with every encoding the emulator needs.
pub(crate) struct GeneratedKey {
    alg: KeyAlg,
    /// PKCS#8 DER, for loading a CA key into rcgen.
    pkcs8_der: Vec<u8>,
    /// The `subjectPublicKey` bits: PKCS#1 `RSAPublicKey` DER or an uncompressed EC point.
    public_raw: Vec<u8>,
    traditional_pem: String,
    pkcs8_pem: String,
}

impl GeneratedKey {
    pub(crate) fn generate(alg: KeyAlg) -> Result<Self, SimError> {
        let err = |reason: String| SimError::Key {
            alg: alg.name(),
            reason,
        };
        let mut rng = CompatRng(rand::rng());
        match alg {
            KeyAlg::Rsa2048 => {
                let key = rsa::RsaPrivateKey::new(&mut rng, 2048)
                    .map_err(|e| err(format!("generation failed: {e}")))?;
                let pkcs8_der = key
                    .to_pkcs8_der()
                    .map_err(|e| err(format!("PKCS#8 encoding failed: {e}")))?
                    .as_bytes()
                    .to_vec();
                let public_raw = key
                    .to_public_key()
                    .to_pkcs1_der()
                    .map_err(|e| err(format!("public key encoding failed: {e}")))?
                    .into_vec();
                let traditional_pem = key
                    .to_pkcs1_pem(LineEnding::LF)
                    .map_err(|e| err(format!("PKCS#1 encoding failed: {e}")))?
                    .to_string();
                let pkcs8_pem = key
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| err(format!("PKCS#8 encoding failed: {e}")))?
                    .to_string();
                Ok(Self {
                    alg,
                    pkcs8_der,
                    public_raw,
                    traditional_pem,
                    pkcs8_pem,
                })
            }
            KeyAlg::EcdsaP256 => {
                let key = p256::SecretKey::random(&mut rng);
                let point = key.public_key().to_encoded_point(false);
                Self::ec(
                    alg,
                    key.to_pkcs8_der()
                        .map_err(|e| err(e.to_string()))?
                        .as_bytes(),
                    &key.to_bytes(),
                    point.as_bytes(),
                    OID_P256,
                )
            }
            KeyAlg::EcdsaP384 => {
                let key = p384::SecretKey::random(&mut rng);
                let point = key.public_key().to_encoded_point(false);
                Self::ec(
                    alg,
                    key.to_pkcs8_der()
                        .map_err(|e| err(e.to_string()))?
                        .as_bytes(),
                    &key.to_bytes(),
                    point.as_bytes(),
                    OID_P384,
                )
            }
        }
    }

    fn ec(
        alg: KeyAlg,
        pkcs8_der: &[u8],
        scalar: &[u8],
        point: &[u8],
        curve_oid: &[u8],
    ) -> Result<Self, SimError> {
        let sec1 = sec1_with_params(scalar, curve_oid, point);
        let pem = |label: &str, der: &[u8]| {
            p256::pkcs8::der::pem::encode_string(label, LineEnding::LF, der).map_err(|e| {
                SimError::Key {
                    alg: alg.name(),
                    reason: format!("PEM encoding failed: {e}"),
                }
            })
        };
        Ok(Self {
            alg,
            pkcs8_der: pkcs8_der.to_vec(),
            public_raw: point.to_vec(),
            traditional_pem: pem(PEM_LABEL_EC, &sec1)?,
            pkcs8_pem: pem(PEM_LABEL_PKCS8, pkcs8_der)?,
        })
    }

    /// The private key as `key.pem` would hold it.
    pub(crate) fn pem(&self, format: KeyFormat) -> &str {
        match format {
            KeyFormat::Traditional => &self.traditional_pem,
            KeyFormat::Pkcs8 => &self.pkcs8_pem,
        }
    }

    /// The key loaded into rcgen, able to sign (for CA keys).
    pub(crate) fn signing_key(&self) -> Result<rcgen::KeyPair, SimError> {
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &self.pkcs8_der.as_slice().into(),
            self.alg.signature_algorithm(),
        )
        .map_err(|e| SimError::Key {
            alg: self.alg.name(),
            reason: format!("rcgen could not load the key: {e}"),
        })
    }
}

impl PublicKeyData for GeneratedKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public_raw
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.alg.signature_algorithm()
    }
}

/// DER of OID 1.2.840.10045.3.1.7 (prime256v1 / P-256).
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of OID 1.3.132.0.34 (secp384r1 / P-384).
const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// SEC1 `ECPrivateKey` (RFC 5915) *with* the `[0] parameters` named curve, like Go's
/// `x509.MarshalECPrivateKey`. The `elliptic-curve` crate omits the parameters, and Go's
/// `ParseECPrivateKey` then fails ("unknown elliptic curve"), so it is encoded by hand.
fn sec1_with_params(scalar: &[u8], curve_oid: &[u8], point: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(point.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(point);
    let mut body = vec![0x02, 0x01, 0x01]; // version 1
    body.extend(tlv(0x04, scalar));
    body.extend(tlv(0xa0, curve_oid));
    body.extend(tlv(0xa1, &tlv(0x03, &bits)));
    tlv(0x30, &body)
}

/// One DER tag-length-value (definite length, up to 65535 bytes).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(len + 4);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// Bridges rand 0.9's thread RNG to the rand_core 0.6 traits that `rsa` 0.9 and the RustCrypto
/// elliptic curves take.
struct CompatRng(rand::rngs::ThreadRng);

impl rsa::rand_core::RngCore for CompatRng {
    fn next_u32(&mut self) -> u32 {
        rand::RngCore::next_u32(&mut self.0)
    }

    fn next_u64(&mut self) -> u64 {
        rand::RngCore::next_u64(&mut self.0)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::RngCore::fill_bytes(&mut self.0, dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        rand::RngCore::fill_bytes(&mut self.0, dest);
        Ok(())
    }
}

// ThreadRng is a CSPRNG (ChaCha12 seeded from the OS).
impl rsa::rand_core::CryptoRng for CompatRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = vec![0u8; 200];
        assert_eq!(&tlv(0x04, &long)[..3], &[0x04, 0x81, 200]);
        let longer = vec![0u8; 300];
        assert_eq!(&tlv(0x04, &longer)[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
