//! SHA-256 digests: of a certificate, and of a whole certificate set.

use std::fmt;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The plain SHA-256 of one byte string: of a certificate's DER it is what
    /// `openssl x509 -fingerprint -sha256` prints.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_digest(ring::digest::digest(&ring::digest::SHA256, bytes))
    }

    /// The digest of several byte strings, each length-prefixed so that moving bytes from one
    /// part to the next changes the result.
    pub fn of_parts(parts: &[&[u8]]) -> Self {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in parts {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        Self::from_digest(ctx.finish())
    }

    fn from_digest(d: ring::digest::Digest) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Fingerprint(out)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex without separators, for labels and JSON.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Uppercase colon-separated hex, as `openssl x509 -fingerprint -sha256` prints it.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.hex())
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_delimited() {
        assert_ne!(
            Fingerprint::of_parts(&[b"ab", b"c"]),
            Fingerprint::of_parts(&[b"a", b"bc"])
        );
        assert_eq!(
            Fingerprint::of_parts(&[b"ab", b"c"]),
            Fingerprint::of_parts(&[b"ab", b"c"])
        );
    }

    #[test]
    fn formats_like_openssl() {
        let fp = Fingerprint::of(b"");
        assert_eq!(
            fp.hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(fp.to_string().starts_with("E3:B0:C4:42:"));
        assert_eq!(fp.to_string().len(), 32 * 3 - 1);
    }
}
