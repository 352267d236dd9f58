//! The models and harnesses behind the fuzz targets, kept out of the target files so that each
//! target is a few lines and the models can be read, and built, on their own.
//!
//! * [`verify`]: the whole verification path, a `VerifyLayer`-wrapped tower service driven by
//!   arbitrary and well-formed requests, checked against a model of the documented procedure.

pub mod verify;

use sha1::{Digest, Sha1};

/// The 64-byte block HMAC-SHA1 actually keys with (RFC 2104: a key longer than the block is
/// hashed first, a shorter one padded with zeros), to tell keys that are the same HMAC key
/// apart from different ones.
pub fn hmac_block(key: &[u8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    block
}
