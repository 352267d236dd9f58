//! HMAC-SHA1 (RFC 2104) on SHA-1's block function, with the keyed states cached.
//!
//! Keying HMAC costs two SHA-1 compressions (the `key ^ ipad` and `key ^ opad` blocks). A
//! [`KeyedState`] does them once per secret; a MAC then costs only the compressions of the
//! message itself, its padding, and one outer block: `ceil((len + 9) / 64) + 1` in all, the
//! floor that the `scheme/floor` benchmark measures. Messages are fed in pieces into a buffer of
//! eight blocks on the stack, so the string to sign is never materialised and nothing is
//! allocated, and a string to sign of up to 503 bytes goes through the block function in one
//! call, then the outer block in a second, rather than in one call per block: each call
//! stores and reloads the state, and a block written just before it is read cannot be
//! forwarded from the store buffer, which lengthens the chain of dependent rounds.
//!
//! Tests cross-check every result against the `hmac` crate.

use sha1::Digest;
use sha1::block_api::compress;
use zeroize::Zeroize;

const BLOCK: usize = 64;
/// Blocks the message buffer holds.
const BUF_BLOCKS: usize = 8;
/// Bytes the message buffer holds.
const BUF: usize = BUF_BLOCKS * BLOCK;
/// SHA-1's initial hash value (FIPS 180-4, 5.3.1).
const H0: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// The two SHA-1 states after absorbing `key ^ ipad` and `key ^ opad`.
#[derive(Clone)]
pub(crate) struct KeyedState {
    inner: [u32; 5],
    outer: [u32; 5],
}

impl KeyedState {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut k0 = [0u8; BLOCK];
        if key.len() > BLOCK {
            let mut digest = sha1::Sha1::digest(key);
            k0[..20].copy_from_slice(&digest);
            digest.zeroize();
        } else {
            k0[..key.len()].copy_from_slice(key);
        }
        let mut pad = [0u8; BLOCK];
        let mut state = |fill: u8| {
            for (p, k) in pad.iter_mut().zip(k0.iter()) {
                *p = k ^ fill;
            }
            let mut h = H0;
            compress(&mut h, &[pad]);
            h
        };
        let inner = state(0x36);
        let outer = state(0x5c);
        pad.zeroize();
        k0.zeroize();
        KeyedState { inner, outer }
    }

    /// Start a MAC computation.
    #[inline]
    pub(crate) fn begin(&self) -> Mac<'_> {
        Mac {
            key: self,
            h: self.inner,
            buf: [[0; BLOCK]; BUF_BLOCKS],
            pos: 0,
            compressed: BLOCK as u64, // the ipad block
        }
    }

    /// The MAC of one message.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 20] {
        let mut m = self.begin();
        m.update(message);
        m.finish()
    }
}

impl Drop for KeyedState {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// A MAC being computed: the inner hash, fed in pieces.
pub(crate) struct Mac<'k> {
    key: &'k KeyedState,
    h: [u32; 5],
    buf: [[u8; BLOCK]; BUF_BLOCKS],
    /// Bytes buffered, always less than `BUF`. Every byte of `buf` from `pos` on is zero, so
    /// padding the last block needs only the `0x80` byte and the length.
    pos: usize,
    /// Bytes compressed so far, the key block included.
    compressed: u64,
}

impl Mac<'_> {
    /// Absorb `data`. A piece that fits in the buffer (the usual case: a string to sign
    /// arrives as dozens of small pieces) is copied without a call to `memcpy` and without
    /// touching the block logic, which lives out of line in [`Mac::update_slow`].
    #[inline(always)]
    pub(crate) fn update(&mut self, data: &[u8]) {
        let pos = self.pos;
        if data.len() < BUF - pos {
            copy_short(
                &mut self.buf.as_flattened_mut()[pos..pos + data.len()],
                data,
            );
            self.pos = pos + data.len();
        } else {
            self.update_slow(data);
        }
    }

    /// Absorb the line `key=value\n`: one check of the room left for the four pieces.
    #[inline(always)]
    pub(crate) fn update_line(&mut self, key: &[u8], value: &[u8]) {
        let pos = self.pos;
        let room = BUF - pos;
        if key.len() < room && value.len() < room && key.len() + value.len() + 2 < room {
            let buf = self.buf.as_flattened_mut();
            let eq = pos + key.len();
            let nl = eq + 1 + value.len();
            copy_short(&mut buf[pos..eq], key);
            buf[eq] = b'=';
            copy_short(&mut buf[eq + 1..nl], value);
            buf[nl] = b'\n';
            self.pos = nl + 1;
        } else {
            self.update(key);
            self.update(b"=");
            self.update(value);
            self.update(b"\n");
        }
    }

    /// `data` fills the buffer: complete and compress the buffered blocks, compress the
    /// whole blocks of `data` in place, buffer the rest.
    #[inline(never)]
    fn update_slow(&mut self, mut data: &[u8]) {
        if self.pos > 0 {
            let take = BUF - self.pos;
            self.buf.as_flattened_mut()[self.pos..].copy_from_slice(&data[..take]);
            data = &data[take..];
            compress(&mut self.h, &self.buf);
            self.compressed += BUF as u64;
            self.pos = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        if !blocks.is_empty() {
            compress(&mut self.h, blocks);
            self.compressed += (blocks.len() * BLOCK) as u64;
        }
        let buf = self.buf.as_flattened_mut();
        buf[..rest.len()].copy_from_slice(rest);
        buf[rest.len()..].fill(0);
        self.pos = rest.len();
    }

    /// Finish the inner hash and apply the outer one. Call it once; it takes `&mut self`
    /// rather than `self` because moving the 550-byte state into the call costs a copy.
    ///
    /// The buffer holds message bytes (for [`KeyedState::mac`] of a Basic password, the
    /// password): the blocks that do are overwritten with zeros at the end, and the zeros are
    /// passed to [`std::hint::black_box`] so the stores are not optimised away. (Wide stores
    /// and one barrier, rather than `zeroize`'s volatile byte-by-byte writes, which cost as
    /// much as a compression here.)
    #[inline]
    pub(crate) fn finish(&mut self) -> [u8; 20] {
        let pos = self.pos;
        let bit_len = (self.compressed + pos as u64) * 8;
        // Blocks holding the tail, the 0x80 byte and the 8-byte length.
        let blocks = (pos + 9).div_ceil(BLOCK);
        let buf = self.buf.as_flattened_mut();
        buf[pos] = 0x80;
        if blocks <= BUF_BLOCKS {
            let end = blocks * BLOCK;
            buf[end - 8..end].copy_from_slice(&bit_len.to_be_bytes());
            compress(&mut self.h, &self.buf[..blocks]);
        } else {
            // The length does not fit behind the tail: one more block of zeros and length.
            compress(&mut self.h, &self.buf);
            let last = &mut self.buf[0];
            last.fill(0);
            last[BLOCK - 8..].copy_from_slice(&bit_len.to_be_bytes());
            compress(&mut self.h, std::slice::from_ref(last));
        }

        // Outer hash: opad block (cached) + one block holding the 20-byte inner digest.
        let mut block = OUTER_PADDING;
        for (chunk, word) in block[..20].chunks_exact_mut(4).zip(self.h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        let mut h = self.key.outer;
        compress(&mut h, std::slice::from_ref(&block));
        let mut out = [0u8; 20];
        for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }

        // Message bytes lie only below the padding (see `pos`).
        for b in &mut self.buf[..blocks.min(BUF_BLOCKS)] {
            b.fill(0);
        }
        std::hint::black_box(&mut self.buf);
        out
    }
}

/// The outer block after the 20-byte inner digest: `0x80`, zeros, and the bit length of
/// `opad` block + digest.
const OUTER_PADDING: [u8; BLOCK] = {
    let mut block = [0u8; BLOCK];
    block[20] = 0x80;
    let len = (((BLOCK + 20) * 8) as u64).to_be_bytes();
    let mut i = 0;
    while i < 8 {
        block[BLOCK - 8 + i] = len[i];
        i += 1;
    }
    block
};

/// Copy `src` into `dst` (same length) with a few fixed-size moves up to 64 bytes
/// instead of a call to `memcpy`, which costs more than the copy for the short pieces of a
/// string to sign.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    debug_assert_eq!(dst.len(), n);
    // Two overlapping moves of `W` bytes cover any length from `W` to `2 * W`.
    macro_rules! two {
        ($w:literal) => {{
            dst[..$w].copy_from_slice(&src[..$w]);
            dst[n - $w..].copy_from_slice(&src[n - $w..]);
        }};
    }
    match n {
        0 => {}
        1 => dst[0] = src[0],
        2..=3 => two!(2),
        4..=7 => two!(4),
        8..=15 => two!(8),
        16..=31 => two!(16),
        32..=64 => two!(32),
        _ => dst.copy_from_slice(src),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{KeyInit, Mac as _};

    fn reference(key: &[u8], msg: &[u8]) -> [u8; 20] {
        let mut m = hmac::Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().into()
    }

    #[test]
    fn rfc2202_vectors() {
        let key = [0x0b; 20];
        assert_eq!(
            KeyedState::new(&key).mac(b"Hi There"),
            reference(&key, b"Hi There")
        );
        // Test case 2 of RFC 2202, spelled out.
        let expected = [
            0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
            0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
        ];
        assert_eq!(
            KeyedState::new(b"Jefe").mac(b"what do ya want for nothing?"),
            expected
        );
        // Test case 6: a key longer than the block.
        let long = [0xaa; 80];
        let msg = b"Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(KeyedState::new(&long).mac(msg), reference(&long, msg));
    }

    #[test]
    fn every_length_and_split_matches_the_hmac_crate() {
        // Past two buffers' worth, so that the buffer spills, and at every length around the
        // point where the padding needs one more block than the buffer holds.
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
            let state = KeyedState::new(key);
            for &len in &lengths {
                let want = reference(key, &msg[..len]);
                assert_eq!(state.mac(&msg[..len]), want, "key {key_len} len {len}");
                // Fed in uneven pieces.
                let mut m = state.begin();
                for piece in msg[..len].chunks(len % 13 + 1) {
                    m.update(piece);
                }
                assert_eq!(m.finish(), want, "pieces, key {key_len} len {len}");
            }
        }
    }

    #[test]
    fn lines_match_pieces() {
        let bytes: Vec<u8> = (0..700u32).map(|i| (i * 13 + 5) as u8).collect();
        let state = KeyedState::new(b"key");
        // Lines of many lengths, starting at many buffer positions, crossing the buffer's end.
        for lead in [0, 1, 63, 64, 100, BUF - 40, BUF - 2, BUF - 1] {
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
                let mut m = state.begin();
                m.update(&bytes[..lead]);
                m.update_line(key, value);
                m.update(b"tail");
                assert_eq!(
                    m.finish(),
                    reference(b"key", &msg),
                    "lead {lead} key {k} value {v}"
                );
            }
        }
    }

    #[test]
    fn copy_short_every_length() {
        let src: Vec<u8> = (0..100u8).collect();
        for n in 0..=100 {
            let mut dst = vec![0xee; n];
            copy_short(&mut dst, &src[..n]);
            assert_eq!(dst, &src[..n]);
        }
    }
}
