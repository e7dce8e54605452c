//! Naming helpers AKO's translators share.

use ring::digest;

/// Lowercase hex SHA-1 of the UTF-8 bytes of `s` (40 characters): AKO's `lib.Encode`, which
/// hashes the names of EVH objects and of Gateway API rules.
#[must_use]
pub fn sha1_hex(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, s.as_bytes());
    let mut out = String::with_capacity(40);
    for byte in digest.as_ref() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// The longest name Avi takes for an object (AKO's `lib/constants.go`).
pub const MAX_NAME_LEN: usize = 255;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_lowercase_hex() {
        // sha1("abc"), FIPS 180-1's example.
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
