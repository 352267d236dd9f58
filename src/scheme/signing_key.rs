//! Signing keys: HMAC-SHA1 keyed once per client secret.
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

use hmac::KeyInit;
use hmac::block_api::HmacCore;
use hmac::digest::Output;
use hmac::digest::array::Array;
use hmac::digest::block_api::{Buffer, FixedOutputCore, UpdateCore};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::sink::{Sink, copy_short, line_in_pieces, put_line};
use super::string_to_sign::{Canonicalization, Params, StringToSign};

/// Length of a janrain-signed signature: standard base64 of the 20-byte HMAC-SHA1, padded.
pub const SIGNATURE_LEN: usize = 28;

/// HMAC-SHA1 from the `hmac` crate, at its block level: the two keyed SHA-1 states and
/// nothing else, so that a copy per request is 64 bytes and finishing takes it by reference.
type HmacSha1Core = HmacCore<Sha1>;

/// SHA-1's block length, and so HMAC-SHA1's key block.
const BLOCK_LEN: usize = 64;
/// Blocks of the buffer the string to sign is gathered in: it is handed to HMAC a run of whole
/// blocks at a time, one call for a typical request rather than one per `key`, `=`, `value`
/// and newline.
const BUF_BLOCKS: usize = 8;
/// Blocks of the buffer for a message that is usually short (a string to sign without
/// parameters, a password): clearing it is four wide stores, where clearing the full buffer
/// is a call that writes 512 bytes, a tenth of the time such a message takes to sign.
const SHORT_BLOCKS: usize = 2;

/// The HMAC-SHA1 state keyed with one client secret, built once and reused for every request.
///
/// Keying costs two SHA-1 compressions (the `key ^ ipad` and `key ^ opad` blocks); a key does
/// them once, and each signature starts from a copy of the keyed state, never from the
/// secret. `Debug` shows nothing of the key; the keyed state is zeroized on drop.
#[derive(Clone)]
pub struct SigningKey {
    core: HmacSha1Core,
}

impl SigningKey {
    /// Key HMAC-SHA1 with the secret's bytes (its UTF-8 text, used as is, not base64-decoded).
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        // HMAC's key block (RFC 2104): a key longer than the block is hashed first, a shorter
        // one is padded with zeros, so keying with the block itself is the same MAC and has no
        // failure case.
        let secret = secret.as_ref();
        let mut block = [0u8; BLOCK_LEN];
        if secret.len() > BLOCK_LEN {
            let mut digest: [u8; 20] = Sha1::digest(secret).into();
            block[..20].copy_from_slice(&digest);
            digest.zeroize();
        } else {
            block[..secret.len()].copy_from_slice(secret);
        }
        let mut key = Array::from(block);
        block.zeroize();
        let core = HmacSha1Core::new(&key);
        key.zeroize();
        SigningKey { core }
    }

    /// The signature of a request. Allocates nothing for up to 32 parameters.
    pub fn sign<L: Params + ?Sized>(&self, string_to_sign: &StringToSign<'_, L>) -> Signature {
        // Without parameters the string is its first lines, usually short.
        let digest = if string_to_sign.params().param_count() == 0 {
            self.digest::<SHORT_BLOCKS>(|sink| string_to_sign.write_head(sink))
        } else {
            self.digest::<BUF_BLOCKS>(|sink| string_to_sign.write_to(sink))
        };
        Signature(base64_digest(&digest))
    }

    /// The HMAC-SHA1 of what `write` gives its sink, gathered in a buffer of `B` blocks.
    #[inline(always)]
    fn digest<const B: usize>(&self, write: impl FnOnce(&mut BufferedMac<B>)) -> [u8; 20] {
        let mut sink = BufferedMac::<B>::new(self.core.clone());
        write(&mut sink);
        sink.finish()
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
        self.digest::<SHORT_BLOCKS>(|sink| sink.piece(message))
    }
}

/// The string to sign on its way into HMAC: pieces are gathered in a stack buffer, and whole
/// blocks are handed over when it fills and at the end. Any message fits any size `B`; a
/// larger buffer hands longer messages over in fewer calls.
struct BufferedMac<const B: usize> {
    core: HmacSha1Core,
    buf: [[u8; BLOCK_LEN]; B],
    /// Bytes gathered, always less than the buffer's `B * BLOCK_LEN`.
    pos: usize,
    /// How far `buf` has held message bytes, for wiping them at the end.
    used: usize,
}

impl<const B: usize> BufferedMac<B> {
    /// The buffer's length in bytes.
    const LEN: usize = B * BLOCK_LEN;

    #[inline(always)]
    fn new(core: HmacSha1Core) -> Self {
        BufferedMac {
            core,
            buf: [[0; BLOCK_LEN]; B],
            pos: 0,
            used: 0,
        }
    }

    /// `data` does not fit: complete the block being gathered, hand every gathered block to
    /// HMAC, then the whole blocks of `data` straight from where they are, and gather the
    /// rest.
    #[inline(never)]
    fn spill(&mut self, data: &[u8]) {
        let flat = self.buf.as_flattened_mut();
        let fill = (BLOCK_LEN - self.pos % BLOCK_LEN) % BLOCK_LEN;
        let (head, data) = data.split_at(fill.min(data.len()));
        flat[self.pos..self.pos + head.len()].copy_from_slice(head);
        self.pos += head.len();
        self.used = Self::LEN;
        let whole = self.pos / BLOCK_LEN;
        self.core
            .update_blocks(Array::cast_slice_from_core(&self.buf[..whole]));
        // `data` was at least the room left, so the gathered bytes ended on a block boundary.
        debug_assert_eq!(self.pos % BLOCK_LEN, 0);
        self.pos = 0;
        let (blocks, rest) = Array::slice_as_chunks(data);
        if !blocks.is_empty() {
            self.core.update_blocks(blocks);
        }
        let flat = self.buf.as_flattened_mut();
        flat[..rest.len()].copy_from_slice(rest);
        self.pos = rest.len();
    }

    /// The MAC. The buffer held message bytes (for a Basic password's MAC, the password):
    /// they are overwritten with zeros, and the zeros are passed to [`std::hint::black_box`]
    /// so that the stores are not optimised away (wide stores and one barrier, where
    /// `zeroize`'s volatile byte-by-byte writes would cost a good part of a compression).
    #[inline(always)]
    fn finish(&mut self) -> [u8; 20] {
        let whole = self.pos / BLOCK_LEN;
        if whole > 0 {
            self.core
                .update_blocks(Array::cast_slice_from_core(&self.buf[..whole]));
        }
        // The block holding the tail, whole (the padding overwrites what follows the tail):
        // a fixed-size move rather than a copy of the tail's length.
        let mut tail = Buffer::<HmacSha1Core>::default();
        if let Some(block) = self.buf.get(whole) {
            tail.set(Array::from(*block), self.pos % BLOCK_LEN);
        }
        let flat = self.buf.as_flattened_mut();
        let mut out = Output::<HmacSha1Core>::default();
        self.core.finalize_fixed_core(&mut tail, &mut out);
        let used = self.used.max(self.pos);
        flat[..used].fill(0);
        tail.set(Array::default(), 0);
        std::hint::black_box((&mut self.buf, &mut tail));
        out.into()
    }
}

impl<const B: usize> Sink for BufferedMac<B> {
    #[inline(always)]
    fn piece(&mut self, bytes: &[u8]) {
        let pos = self.pos;
        if bytes.len() < Self::LEN - pos {
            copy_short(
                &mut self.buf.as_flattened_mut()[pos..pos + bytes.len()],
                bytes,
            );
            self.pos = pos + bytes.len();
        } else {
            self.spill(bytes);
        }
    }

    /// A line: its four pieces at once when they fit before the buffer's last byte.
    #[inline(always)]
    fn line(&mut self, first: &[u8], sep: u8, second: &[u8]) {
        // The gathered bytes stay shorter than the buffer: a line may end at `LEN - 1` at most.
        if let Some(room) = self.buf.as_flattened_mut().get_mut(self.pos..Self::LEN - 1)
            && let Some(rest) = put_line(room, first, sep, second)
        {
            self.pos = Self::LEN - 1 - rest.len();
        } else {
            line_in_pieces(self, first, sep, second);
        }
    }
}

/// Standard padded base64 (RFC 4648 section 4) of a 20-byte digest.
///
/// Written out rather than through the `base64` crate: its `encode_slice` sends an input this
/// short through its byte-at-a-time tail, about 290 instructions per signature under callgrind
/// against about 90 here, which was a third of signing's cost beyond the SHA-1 compressions
/// for a request without parameters. The unit tests check it against the crate.
#[inline]
fn base64_digest(digest: &[u8; 20]) -> [u8; SIGNATURE_LEN] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let symbol = |bits: u32, shift: u32| ALPHABET[(bits >> shift) as usize & 63];
    let mut out = [b'='; SIGNATURE_LEN];
    // Six groups of three bytes make four characters each.
    let (groups, last) = digest.as_chunks::<3>();
    for (group, chars) in groups.iter().zip(out.as_chunks_mut::<4>().0) {
        let bits = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        *chars = [
            symbol(bits, 18),
            symbol(bits, 12),
            symbol(bits, 6),
            symbol(bits, 0),
        ];
    }
    // The last two bytes make three characters and one `=`.
    if let [a, b] = *last {
        let bits = u32::from_be_bytes([0, a, b, 0]);
        out[24] = symbol(bits, 18);
        out[25] = symbol(bits, 12);
        out[26] = symbol(bits, 6);
    }
    out
}

/// Whether two signatures are equal, in the same time wherever they differ: the differences of
/// four overlapping 8-byte words are folded together and only the fold is tested, through
/// `subtle` (one comparison, where a byte-by-byte `ct_eq` costs about ten instructions a byte).
#[inline]
fn ct_eq_signature(a: &[u8; SIGNATURE_LEN], b: &[u8; SIGNATURE_LEN]) -> bool {
    let word = |s: &[u8; SIGNATURE_LEN], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let diff = [0, 8, 16, SIGNATURE_LEN - 8]
        .iter()
        .fold(0u64, |acc, &at| acc | (word(a, at) ^ word(b, at)));
    bool::from(diff.ct_eq(&0))
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
        ct_eq_signature(&self.0, &other.0)
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
        // The length is public (the header's shape); only the bytes are compared in constant
        // time.
        <&[u8; SIGNATURE_LEN]>::try_from(received)
            .is_ok_and(|received| ct_eq_signature(&self.0, received))
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
    use crate::scheme::{ParamOrder, reference};

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

    /// A MAC as the signature's text, to compare with [`reference::signature`] (the base64 is
    /// held to the `base64` crate by its own test below).
    fn text(digest: [u8; 20]) -> String {
        Signature(base64_digest(&digest)).to_string()
    }

    #[test]
    fn rfc2202_vectors() {
        // Test case 2 of RFC 2202, spelled out.
        let expected = [
            0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
            0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
        ];
        assert_eq!(
            SigningKey::new(b"Jefe").mac(b"what do ya want for nothing?"),
            expected
        );
        // Test case 6: a key longer than the block is hashed first.
        let long = [0xaa; 80];
        let msg = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let expected = [
            0xaa, 0x4a, 0xe5, 0xe1, 0x52, 0x72, 0xd0, 0x0e, 0x95, 0x70, 0x56, 0x37, 0xce, 0x8a,
            0x3b, 0x55, 0xed, 0x40, 0x21, 0x12,
        ];
        assert_eq!(SigningKey::new(long).mac(msg), expected);
    }

    #[test]
    fn every_length_and_split_matches_the_hmac_crate() {
        // Past two buffers' worth, so that the buffer spills, and at every length around it.
        const BUF: usize = BUF_BLOCKS * BLOCK_LEN;
        let msg: Vec<u8> = (0..2 * BUF as u32 + 200)
            .map(|i| (i * 7 + 3) as u8)
            .collect();
        let lengths: Vec<usize> = (0..300)
            .chain(BUF - 80..BUF + 80)
            .chain((300..msg.len()).step_by(37))
            .chain(2 * BUF - 10..2 * BUF + 10)
            .collect();
        for key_len in [0, 1, 20, 63, 64, 65, 200] {
            let key = &msg[..key_len];
            let signing = SigningKey::new(key);
            for &len in &lengths {
                let want = reference::signature(key, &msg[..len]);
                assert_eq!(
                    text(signing.mac(&msg[..len])),
                    want,
                    "key {key_len} len {len}"
                );
                // Fed in uneven pieces, through either buffer.
                let mut g = BufferedMac::<BUF_BLOCKS>::new(signing.core.clone());
                let mut short = BufferedMac::<SHORT_BLOCKS>::new(signing.core.clone());
                for piece in msg[..len].chunks(len % 13 + 1) {
                    g.piece(piece);
                    short.piece(piece);
                }
                assert_eq!(text(g.finish()), want, "pieces, key {key_len} len {len}");
                assert_eq!(text(short.finish()), want, "short, key {key_len} len {len}");
            }
        }
    }

    #[test]
    fn lines_match_pieces() {
        let bytes: Vec<u8> = (0..700u32).map(|i| (i * 13 + 5) as u8).collect();
        const BUF: usize = BUF_BLOCKS * BLOCK_LEN;
        let signing = SigningKey::new(b"key");
        // Lines of many lengths, starting at many buffer positions, crossing the buffer's end.
        for lead in [0, 1, 63, 64, 100, 126, 127, BUF - 40, BUF - 2, BUF - 1] {
            for (k, v) in [
                (0, 0),
                (1, 0),
                (0, 1),
                (5, 30),
                (17, 33),
                (64, 64),
                (200, 300),
                (3, 600),
            ] {
                let (key, value) = (&bytes[..k], &bytes[k..k + v]);
                let mut msg = bytes[..lead].to_vec();
                msg.extend_from_slice(key);
                msg.push(b'=');
                msg.extend_from_slice(value);
                msg.push(b'\n');
                msg.extend_from_slice(b"tail");
                let mut g = BufferedMac::<BUF_BLOCKS>::new(signing.core.clone());
                g.piece(&bytes[..lead]);
                g.line(key, b'=', value);
                g.piece(b"tail");
                assert_eq!(
                    text(g.finish()),
                    reference::signature(b"key", &msg),
                    "lead {lead} key {k} value {v}"
                );
                let mut short = BufferedMac::<SHORT_BLOCKS>::new(signing.core.clone());
                short.piece(&bytes[..lead]);
                short.line(key, b'=', value);
                short.piece(b"tail");
                assert_eq!(
                    text(short.finish()),
                    reference::signature(b"key", &msg),
                    "short, lead {lead} key {k} value {v}"
                );
            }
        }
    }

    #[test]
    fn base64_and_comparison_match_the_crates() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let mut digest = [0u8; 20];
        for round in 0..600u32 {
            for (i, b) in digest.iter_mut().enumerate() {
                *b = match round {
                    0 => 0,
                    1 => 0xff,
                    _ => {
                        (round.wrapping_mul(2_654_435_761) >> (i % 24)) as u8
                            ^ (i as u8).wrapping_mul(37)
                    }
                };
            }
            let ours = base64_digest(&digest);
            assert_eq!(&ours[..], STANDARD.encode(digest).as_bytes(), "{digest:?}");
            let sig = Signature(ours);
            assert!(sig.ct_matches(&ours));
            assert!(sig == Signature(ours));
            for at in 0..SIGNATURE_LEN {
                let mut other = ours;
                other[at] ^= 1 << (round % 8);
                assert!(!sig.ct_matches(&other), "byte {at}");
                assert!(sig != Signature(other), "byte {at}");
            }
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
