//! HMAC-SHA1 (RFC 2104) on SHA-1's block function, with the keyed states cached.
//!
//! Keying HMAC costs two SHA-1 compressions (the `key ^ ipad` and `key ^ opad` blocks). A
//! [`KeyedState`] does them once per secret; a MAC then costs only the compressions of the
//! message itself, its padding, and one outer block: `ceil((len + 9) / 64) + 1` in all, the
//! floor that the `scheme/floor` benchmark measures. Messages are fed in pieces into a 64-byte
//! buffer on the stack, so the string to sign is never materialised and nothing is allocated.
//!
//! Tests cross-check every result against the `hmac` crate.

use sha1::Digest;
use sha1::block_api::compress;
use zeroize::Zeroize;

const BLOCK: usize = 64;
/// SHA-1's initial hash value (FIPS 180-4, 5.3.1).
const H0: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];

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
            buf: [0; BLOCK],
            pos: 0,
            blocks: 1, // the ipad block
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
    buf: [u8; BLOCK],
    pos: usize,
    /// Blocks compressed so far, the key block included.
    blocks: u64,
}

impl Mac<'_> {
    #[inline]
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        if self.pos > 0 {
            let take = data.len().min(BLOCK - self.pos);
            self.buf[self.pos..self.pos + take].copy_from_slice(&data[..take]);
            self.pos += take;
            data = &data[take..];
            if self.pos < BLOCK {
                return;
            }
            compress(&mut self.h, &[self.buf]);
            self.blocks += 1;
            self.pos = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        if !blocks.is_empty() {
            compress(&mut self.h, blocks);
            self.blocks += blocks.len() as u64;
        }
        self.buf[..rest.len()].copy_from_slice(rest);
        self.pos = rest.len();
    }

    /// Finish the inner hash and apply the outer one.
    #[inline]
    pub(crate) fn finish(mut self) -> [u8; 20] {
        let bit_len = (self.blocks * BLOCK as u64 + self.pos as u64) * 8;
        self.buf[self.pos] = 0x80;
        self.buf[self.pos + 1..].fill(0);
        if self.pos >= BLOCK - 8 {
            compress(&mut self.h, &[self.buf]);
            self.buf.fill(0);
        }
        self.buf[BLOCK - 8..].copy_from_slice(&bit_len.to_be_bytes());
        compress(&mut self.h, &[self.buf]);

        // Outer hash: opad block (cached) + one block holding the 20-byte inner digest.
        let mut block = [0u8; BLOCK];
        for (chunk, word) in block[..20].chunks_exact_mut(4).zip(self.h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        block[20] = 0x80;
        block[BLOCK - 8..].copy_from_slice(&(((BLOCK + 20) * 8) as u64).to_be_bytes());
        let mut h = self.key.outer;
        compress(&mut h, &[block]);
        let mut out = [0u8; 20];
        for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        self.buf.zeroize();
        block.zeroize();
        out
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
        let msg: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for key_len in [0, 1, 20, 63, 64, 65, 200] {
            let key = &msg[..key_len];
            let state = KeyedState::new(key);
            for len in 0..msg.len() {
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
}
