//! Signing keys: HMAC-SHA1 keyed once per client secret (spec R7, R8).
//!
//! ```
//! use janrain_auth::scheme::{SigningKey, StringToSign};
//!
//! let key = SigningKey::new(b"rylicq8ydkz0vmki3gqaoxbk4gyrr05t");
//! let params = [("entity_type", "user"), ("filter", "lastUpdated >= '2016-01-01'")];
//! let sts = StringToSign::new("/entity.find", "2016-02-26 19:08:44", &params);
//! let signature = key.sign(&sts);
//! assert_eq!(signature.as_str(), "+Bf5W9YKRhi5AoVTbxvhzuJXDUQ=");
//! assert!(key.verify(&sts, signature.as_str().as_bytes()));
//! ```

use std::fmt;

use subtle::ConstantTimeEq;

use super::canonical::{Canonicalization, Params, Sink, StringToSign};
use super::hmac_sha1::{KeyedState, Mac};

/// Length of a janrain-signed signature: standard base64 of the 20-byte HMAC-SHA1, padded.
pub const SIGNATURE_LEN: usize = 28;

/// The HMAC-SHA1 state keyed with one client secret, built once and reused for every request.
///
/// Cloning copies 40 bytes of state, never the secret. `Debug` shows nothing of the key; the
/// state is zeroized on drop.
#[derive(Clone)]
pub struct SigningKey {
    state: KeyedState,
}

impl SigningKey {
    /// Key HMAC-SHA1 with the secret's bytes (its UTF-8 text, used as is, not base64-decoded).
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        SigningKey {
            state: KeyedState::new(secret.as_ref()),
        }
    }

    /// The signature of a request. Allocates nothing for up to 32 parameters.
    pub fn sign<L: Params + ?Sized>(&self, string_to_sign: &StringToSign<'_, L>) -> Signature {
        let mut mac = self.state.begin();
        string_to_sign.write_to(&mut mac);
        Signature(base64_digest(&mac.finish()))
    }

    /// Whether `signature` (the base64 text from the header) is this key's signature of the
    /// request. The comparison takes the same time wherever the bytes differ.
    pub fn verify<L: Params + ?Sized>(
        &self,
        string_to_sign: &StringToSign<'_, L>,
        signature: &[u8],
    ) -> bool {
        self.sign(string_to_sign).ct_matches(signature)
    }

    /// Verify against each form in `forms` in turn and return the first that matches. Forms
    /// that give the same bytes as one already tried for this request are skipped, so listing
    /// variants costs nothing for requests where they make no difference.
    pub fn verify_forms<L: Params + ?Sized>(
        &self,
        string_to_sign: &StringToSign<'_, L>,
        forms: &[Canonicalization],
        signature: &[u8],
    ) -> Option<Canonicalization> {
        // There are only four distinct forms, so four slots always suffice.
        let mut tried = [Canonicalization::CANONICAL; 4];
        let mut count = 0;
        for &form in forms {
            let sts = string_to_sign.with_form(form);
            let effective = sts.effective_form();
            if tried[..count].contains(&effective) {
                continue;
            }
            tried[count] = effective;
            count += 1;
            if self.verify(&sts, signature) {
                return Some(form);
            }
        }
        None
    }

    /// The raw HMAC-SHA1 of `message` under this key.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 20] {
        self.state.mac(message)
    }
}

impl Sink for Mac<'_> {
    #[inline(always)]
    fn piece(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }

    #[inline(always)]
    fn line(&mut self, key: &[u8], value: &[u8]) {
        self.update_line(key, value);
    }
}

/// Standard padded base64 (RFC 4648 section 4) of a 20-byte digest: six 3-byte groups, then
/// the last 2 bytes as three characters and `=`. Written out because the general engine's
/// setup costs more than this whole encoding.
#[inline]
fn base64_digest(digest: &[u8; 20]) -> [u8; SIGNATURE_LEN] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let char_at = |n: u32, shift: u32| ALPHABET[((n >> shift) & 63) as usize];
    let mut out = [b'='; SIGNATURE_LEN];
    let (groups, last) = digest.as_chunks::<3>();
    for (g, o) in groups.iter().zip(out.as_chunks_mut::<4>().0) {
        let n = (u32::from(g[0]) << 16) | (u32::from(g[1]) << 8) | u32::from(g[2]);
        *o = [char_at(n, 18), char_at(n, 12), char_at(n, 6), char_at(n, 0)];
    }
    let n = (u32::from(last[0]) << 16) | (u32::from(last[1]) << 8);
    out[24] = char_at(n, 18);
    out[25] = char_at(n, 12);
    out[26] = char_at(n, 6);
    out
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// A janrain-signed signature: 28 ASCII bytes of standard base64, held on the stack.
///
/// `Debug` is redacted (a signature is a bearer credential within the date window); use
/// [`Signature::as_str`] or `Display` to put it in a header.
#[derive(Clone, Copy)]
pub struct Signature([u8; SIGNATURE_LEN]);

/// Constant time, like [`Signature::ct_matches`]: `==` on signatures never leaks where they
/// differ.
impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for Signature {}

impl Signature {
    /// The base64 text.
    pub fn as_str(&self) -> &str {
        // Base64 output is ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The base64 bytes.
    pub fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }

    /// Constant-time comparison with a received signature.
    pub fn ct_matches(&self, received: &[u8]) -> bool {
        received.len() == SIGNATURE_LEN && bool::from(self.0.ct_eq(received))
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::ParamOrder;

    #[test]
    fn verify_rejects_other_lengths_and_bytes() {
        let key = SigningKey::new("bar");
        let params = [("a", "1")];
        let sts = StringToSign::new("/entity", "2000-01-01 01:01:01", &params);
        let sig = key.sign(&sts);
        assert!(key.verify(&sts, sig.as_str().as_bytes()));
        assert!(!key.verify(&sts, &sig.as_bytes()[..27]));
        assert!(!key.verify(&sts, b""));
        let mut other = *sig.as_bytes();
        other[27] ^= 1;
        assert!(!key.verify(&sts, &other));
        assert!(!SigningKey::new("baz").verify(&sts, sig.as_str().as_bytes()));
        assert_eq!(
            format!("{key:?} {sig:?}"),
            "SigningKey(<redacted>) Signature(<redacted>)"
        );
    }

    #[test]
    fn digest_base64_matches_the_base64_crate() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let mut digest = [0u8; 20];
        for round in 0..=255u8 {
            for (i, b) in digest.iter_mut().enumerate() {
                *b = round
                    .wrapping_mul(31)
                    .wrapping_add((i as u8).wrapping_mul(97))
                    ^ ((i as u8) << 3);
            }
            if round == 0 {
                digest = [0; 20];
            } else if round == 255 {
                digest = [0xff; 20];
            }
            let got = base64_digest(&digest);
            assert_eq!(
                std::str::from_utf8(&got).unwrap(),
                STANDARD.encode(digest),
                "{digest:?}"
            );
        }
    }

    #[test]
    fn verify_forms_finds_the_variant_used() {
        let key = SigningKey::new("s");
        let params = [("birthdate", "1990-01-01"), ("birthdate.year", "1990")];
        let sts = StringToSign::new("/entity.update", "2021-03-04 05:06:07", &params);
        let key_form = Canonicalization::CANONICAL.with_order(ParamOrder::Key);
        let sig = key.sign(&sts.with_form(key_form));
        let forms = [Canonicalization::CANONICAL, key_form];
        assert_eq!(
            key.verify_forms(&sts, &forms, sig.as_str().as_bytes()),
            Some(key_form)
        );
        assert_eq!(
            key.verify_forms(&sts, &forms[..1], sig.as_str().as_bytes()),
            None
        );
    }
}
