//! The sort engine of the string to sign: parameter lines ordered by whole-line (or key)
//! byte order without building the lines, through fixed-width big-endian prefixes and a full
//! comparison only on ties.

use std::cmp::Ordering;

use super::canonical::{ParamOrder, Params};

/// A parameter's sort prefix and its index.
pub(super) type Keyed = (u64, usize);

/// Fill `keyed` (one slot per parameter) with each parameter's index and its sort prefix,
/// taken after the bytes all keys share, so that keys such as `attribute_01` ...
/// `attribute_19` still differ in their prefixes.
///
/// One pass reads each key's first eight bytes once; the prefixes themselves show how far
/// the keys agree. They usually differ somewhere in the first bytes, and the prefixes are
/// then final. Only when all keys agree further are the prefixes taken again, after the
/// shared bytes.
#[inline]
pub(super) fn fill_prefixes<L: Params + ?Sized>(order: ParamOrder, p: &L, keyed: &mut [Keyed]) {
    if keyed.is_empty() {
        return;
    }
    let mut shortest = usize::MAX;
    for (i, slot) in keyed.iter_mut().enumerate() {
        let key = p.param_key(i);
        shortest = shortest.min(key.len());
        *slot = (
            finish_prefix(order, be_prefix(key), key.len(), p.param_value(i)),
            i,
        );
    }
    // Where the prefixes first differ. Before the shortest key ends they hold key bytes only,
    // so up to there it is where the keys first differ.
    let first = keyed[0].0;
    let differ = keyed.iter().fold(0, |acc, k| acc | (first ^ k.0));
    let shared = if keyed.len() < 2 {
        0
    } else if differ != 0 {
        // Every key agrees with the first before the first byte where any prefix differs,
        // capped where the shortest key ends.
        (differ.leading_zeros() as usize / 8).min(shortest)
    } else {
        shared_key_prefix(p, shortest)
    };
    if shared > 0 {
        for (i, slot) in keyed.iter_mut().enumerate() {
            slot.0 = sort_prefix(order, &p.param_key(i)[shared..], p.param_value(i));
        }
    }
}

/// The length of the prefix all keys share, when their first eight bytes (or all bytes of
/// the shortest key, when shorter) agree: eight more
/// bytes of every key at a time, until some differ or the shortest key (`shortest` bytes)
/// ends.
#[cold]
fn shared_key_prefix<L: Params + ?Sized>(p: &L, shortest: usize) -> usize {
    let mut shared = 8;
    while shared < shortest {
        // Every key agrees on its first `shared` bytes, and has more.
        let first = be_prefix(&p.param_key(0)[shared..]);
        let mut differ = 0u64;
        for i in 1..p.param_count() {
            differ |= first ^ be_prefix(&p.param_key(i)[shared..]);
        }
        if differ != 0 {
            return (shared + differ.leading_zeros() as usize / 8).min(shortest);
        }
        shared += 8;
    }
    shortest
}

/// Insertion sort: the fastest choice for the handful of parameters a request carries, and
/// allocation-free.
#[inline]
pub(super) fn insertion_sort<T: Copy>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && cmp(&v[j - 1], &x) == Ordering::Greater {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

/// The first 8 bytes of a parameter's sort key (the line `key=value` for [`ParamOrder::Line`],
/// the key for [`ParamOrder::Key`]), big-endian, zero-padded; `key` may be a suffix of the
/// key after a prefix every key shares. When two prefixes differ they order the parameters as
/// [`compare`] does: at the first differing byte either both hold a real byte, or the shorter
/// key has ended (zero) where the other holds a non-zero byte and sorts after it. Equal
/// prefixes decide nothing.
#[inline]
fn sort_prefix(order: ParamOrder, key: &[u8], value: &[u8]) -> u64 {
    finish_prefix(order, be_prefix(key), key.len(), value)
}

/// [`sort_prefix`] from the key's prefix `head` ([`be_prefix`]) and its length `k`.
#[inline(always)]
fn finish_prefix(order: ParamOrder, head: u64, k: usize, value: &[u8]) -> u64 {
    if k >= 8 || order == ParamOrder::Key {
        return head;
    }
    // A short key: then '=' and the value's first bytes.
    let eq = u64::from(b'=') << (56 - 8 * k);
    let rest = be_prefix(value)
        .checked_shr(8 * (k as u32 + 1))
        .unwrap_or(0);
    head | eq | rest
}

/// The first `min(len, 8)` bytes as a big-endian integer, zero-padded on the right. Read
/// with at most two overlapping loads straight from the slice: assembling the bytes in a stack
/// array and reading it back would stall on store forwarding.
#[inline(always)]
pub(super) fn be_prefix(bytes: &[u8]) -> u64 {
    if let Some(head) = bytes.first_chunk::<8>() {
        return u64::from_be_bytes(*head);
    }
    let n = bytes.len();
    // The second load's bytes end at position n: shift it left by 64 - 8n.
    let shift = 64 - 8 * n as u32;
    match (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        (Some(a), Some(b)) => {
            (u64::from(u32::from_be_bytes(*a)) << 32) | (u64::from(u32::from_be_bytes(*b)) << shift)
        }
        _ => match (bytes.first_chunk::<2>(), bytes.last_chunk::<2>()) {
            (Some(a), Some(b)) => {
                (u64::from(u16::from_be_bytes(*a)) << 48)
                    | (u64::from(u16::from_be_bytes(*b)) << shift)
            }
            _ => bytes.first().map_or(0, |&b| u64::from(b) << 56),
        },
    }
}

/// Compare parameters `a` and `b` as their lines sort under `order`, without building the
/// lines and without calling `memcmp` (parameter names are short and usually differ early).
#[inline]
pub(super) fn compare<L: Params + ?Sized>(
    order: ParamOrder,
    p: &L,
    a: usize,
    b: usize,
) -> Ordering {
    let (ak, bk) = (p.param_key(a), p.param_key(b));
    let i = common_prefix(ak, bk);
    match (ak.get(i), bk.get(i)) {
        // The keys differ at `i`: so do the lines, in both orders.
        (Some(x), Some(y)) => return x.cmp(y),
        // Equal keys: the values decide, in both orders.
        (None, None) => return cmp_bytes(p.param_value(a), p.param_value(b)),
        // One key is a strict prefix of the other.
        _ => {}
    }
    if order == ParamOrder::Key {
        return ak.len().cmp(&bk.len());
    }
    // The shorter key's line continues with '='.
    let next_a = ak.get(i).copied().unwrap_or(b'=');
    let next_b = bk.get(i).copied().unwrap_or(b'=');
    if next_a != next_b {
        return next_a.cmp(&next_b);
    }
    // The longer key holds '=' right there (possible only with a percent-encoded `%3D` key):
    // compare the whole lines.
    let (av, bv) = (p.param_value(a), p.param_value(b));
    ak.iter()
        .chain(b"=")
        .chain(av)
        .cmp(bk.iter().chain(b"=").chain(bv))
}

/// `a.cmp(b)` for byte strings, via [`common_prefix`].
#[inline]
pub(super) fn cmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let i = common_prefix(a, b);
    match (a.get(i), b.get(i)) {
        (Some(x), Some(y)) => x.cmp(y),
        _ => a.len().cmp(&b.len()),
    }
}

/// The length of the longest common prefix of `a` and `b`, eight bytes at a time.
#[inline]
pub(super) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut i = 0;
    for (x, y) in a.as_chunks::<8>().0.iter().zip(b.as_chunks::<8>().0) {
        let diff = u64::from_le_bytes(*x) ^ u64::from_le_bytes(*y);
        if diff != 0 {
            return i + diff.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn be_prefix_every_length() {
        let bytes = *b"\x01\x02\x03\x04\x05\x06\x07\x08\x09";
        for n in 0..=9 {
            let mut want = [0u8; 8];
            let m = n.min(8);
            want[..m].copy_from_slice(&bytes[..m]);
            assert_eq!(be_prefix(&bytes[..n]), u64::from_be_bytes(want), "{n}");
        }
    }
}
