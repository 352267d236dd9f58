//! The sort of the parameter lines: in whole-line (or key) byte order, as
//! [`ParamOrder`] defines it, without building the lines, through fixed-width big-endian
//! prefixes and a full comparison only on ties.

use std::cmp::Ordering;

use super::param_lines::{ParamOrder, Params};

/// Parameters up to this count are sorted in an array on the stack.
pub(super) const STACK_PARAMS: usize = 32;
/// Parameters up to this count (a typical request) are sorted in a smaller array.
pub(super) const SMALL_PARAMS: usize = 8;

/// A parameter's sort key: its sort prefix in the high bits, its index in the low bits (as
/// many as [`SortedKeys::index_bits`] gives), so that one integer comparison orders two
/// parameters whenever their prefixes differ, and keys are never equal.
pub(super) type SortKey = u64;

/// The parameters sorted: their sort keys in order, and where the keys' index bits end.
#[derive(Clone, Copy)]
pub(super) struct SortedKeys<'k> {
    keys: &'k [SortKey],
    mask: u64,
}

impl SortedKeys<'_> {
    /// Index bits for up to `capacity` parameters (the size of the array sorted).
    #[inline(always)]
    pub(super) const fn index_bits(capacity: usize) -> u32 {
        usize::BITS - capacity.saturating_sub(1).leading_zeros()
    }

    /// The parameters' indices, in order.
    #[inline(always)]
    pub(super) fn indices(self) -> impl Iterator<Item = usize> {
        let mask = self.mask;
        self.keys.iter().map(move |&e| (e & mask) as usize)
    }
}

/// Room for the sort keys of `n` parameters, of the smallest size that holds them: on the
/// stack for up to [`STACK_PARAMS`], so that sorting allocates nothing for a request.
pub(super) enum SortKeyBuffer {
    /// Up to [`SMALL_PARAMS`] (a typical request): small enough that zeroing it costs no
    /// `memset` call.
    Small([SortKey; SMALL_PARAMS]),
    /// Up to [`STACK_PARAMS`].
    Stack([SortKey; STACK_PARAMS]),
    /// More.
    Heap(Vec<SortKey>),
}

impl SortKeyBuffer {
    /// Room for `n` sort keys.
    #[inline(always)]
    pub(super) fn new(n: usize) -> Self {
        if n <= SMALL_PARAMS {
            SortKeyBuffer::Small([0; SMALL_PARAMS])
        } else if n <= STACK_PARAMS {
            SortKeyBuffer::Stack([0; STACK_PARAMS])
        } else {
            SortKeyBuffer::Heap(vec![0; n])
        }
    }

    /// `n` slots (fewer if `n` is more than there is room for), and the index bits that
    /// their sort keys use.
    #[inline(always)]
    fn slots(&mut self, n: usize) -> (&mut [SortKey], u32) {
        let (all, bits) = match self {
            SortKeyBuffer::Small(a) => (&mut a[..], SortedKeys::index_bits(SMALL_PARAMS)),
            SortKeyBuffer::Stack(a) => (&mut a[..], SortedKeys::index_bits(STACK_PARAMS)),
            SortKeyBuffer::Heap(v) => {
                let bits = SortedKeys::index_bits(v.len());
                (&mut v[..], bits)
            }
        };
        let len = n.min(all.len());
        (&mut all[..len], bits)
    }
}

/// The `n` parameters of `p` sorted in `order`, in `buffer` ([`SortKeyBuffer::new`] of `n`),
/// and the length of all their lines together (`key=value\n` each).
///
/// The prefixes are taken after the bytes all keys share, so that keys such as
/// `attribute_01` ... `attribute_19` still differ in them. One pass reads each parameter
/// once: its lengths, and its key's first eight bytes, whose differences show how far the keys
/// agree. They usually differ somewhere in the first bytes, and the prefixes are then final.
/// Only when all keys agree further are the prefixes taken again, after the shared bytes.
/// Prefixes that agree down to the index bits are put in order by [`compare`], out of line.
#[inline(always)]
pub(super) fn sort<'e, L: Params + ?Sized>(
    order: ParamOrder,
    p: &L,
    n: usize,
    buffer: &'e mut SortKeyBuffer,
) -> (SortedKeys<'e>, usize) {
    let (keys, index_bits) = buffer.slots(n);
    let mask = 1u64.checked_shl(index_bits).unwrap_or(0).wrapping_sub(1);
    let mut lines = 0;
    let mut shortest = usize::MAX;
    let Some((head, rest)) = keys.split_first_mut() else {
        return (SortedKeys { keys, mask }, 0);
    };
    let first = read_param(order, p, 0, &mut lines, &mut shortest);
    *head = first & !mask;
    // Where the prefixes first differ: every prefix agrees with the first down to the first
    // bit where two neighbours differ.
    let mut differ = 0;
    let mut prev = first;
    for (i, slot) in rest.iter_mut().enumerate() {
        let prefix = read_param(order, p, i + 1, &mut lines, &mut shortest);
        differ |= prev ^ prefix;
        prev = prefix;
        *slot = (prefix & !mask) | (i + 1) as u64;
    }
    // Before the shortest key ends the prefixes hold key bytes only, so up to there it is
    // where the keys first differ.
    let shared = if rest.is_empty() {
        0
    } else if differ != 0 {
        (differ.leading_zeros() as usize / 8).min(shortest)
    } else {
        shared_key_prefix(p, shortest)
    };
    if shared > 0 {
        for (i, slot) in keys.iter_mut().enumerate() {
            let prefix = sort_prefix(order, key_after(p, i, shared), p.param_value(i));
            *slot = (prefix & !mask) | i as u64;
        }
    }
    let ties = if keys.len() <= STACK_PARAMS {
        insertion_sort(keys, mask)
    } else {
        sort_many(keys, mask)
    };
    if ties {
        break_ties(order, p, keys, mask);
    }
    // Each line adds `=` and `\n`.
    let lines = lines + 2 * keys.len();
    (SortedKeys { keys, mask }, lines)
}

/// Parameter `i`'s sort prefix, its key's and value's lengths added to `lines`, its key's length taken
/// into `shortest`.
#[inline(always)]
fn read_param<L: Params + ?Sized>(
    order: ParamOrder,
    p: &L,
    i: usize,
    lines: &mut usize,
    shortest: &mut usize,
) -> u64 {
    let (key, value) = (p.param_key(i), p.param_value(i));
    *lines += key.len() + value.len();
    *shortest = (*shortest).min(key.len());
    finish_prefix(order, be_prefix(key), key.len(), value)
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
        let first = be_prefix(key_after(p, 0, shared));
        let mut differ = 0u64;
        for i in 1..p.param_count() {
            differ |= first ^ be_prefix(key_after(p, i, shared));
        }
        if differ != 0 {
            return (shared + differ.leading_zeros() as usize / 8).min(shortest);
        }
        shared += 8;
    }
    shortest
}

/// Parameter `i`'s key after its first `shared` bytes (empty if it is shorter, which only a
/// `Params` whose answers change between reads gives).
#[inline]
fn key_after<L: Params + ?Sized>(p: &L, i: usize, shared: usize) -> &[u8] {
    p.param_key(i).get(shared..).unwrap_or_default()
}

/// Insertion sort of the sort keys, in index order: the fastest choice for the handful of
/// parameters a request carries, one integer comparison per step. Returns whether two keys
/// have the same prefix. A key's index is the highest so far when it is inserted, so a key
/// with the same prefix can only be its left neighbour where it stops.
#[inline(always)]
fn insertion_sort(v: &mut [SortKey], mask: u64) -> bool {
    // The smallest difference between a key and its left neighbour where it stopped.
    let mut closest = u64::MAX;
    for i in 1..v.len() {
        let Some(w) = v.get_mut(..=i) else { break };
        let x = w[i];
        let mut j = i;
        while j > 0 {
            let y = w[j - 1];
            if y < x {
                closest = closest.min(y ^ x);
                break;
            }
            w[j] = y;
            j -= 1;
        }
        w[j] = x;
    }
    closest <= mask
}

/// The sort for more parameters than a request usually has, out of line: returns whether two
/// sort keys have the same prefix.
#[inline(never)]
fn sort_many(keys: &mut [SortKey], mask: u64) -> bool {
    keys.sort_unstable();
    keys.windows(2).any(|w| (w[0] ^ w[1]) <= mask)
}

/// Put runs of sort keys with the same prefix in order by [`compare`].
#[cold]
#[inline(never)]
fn break_ties<L: Params + ?Sized>(order: ParamOrder, p: &L, keys: &mut [SortKey], mask: u64) {
    let mut rest = keys;
    while let Some(&head) = rest.first() {
        let run = rest.iter().take_while(|&&e| (e ^ head) <= mask).count();
        let (same, tail) = std::mem::take(&mut rest).split_at_mut(run);
        same.sort_unstable_by(|a, b| compare(order, p, (a & mask) as usize, (b & mask) as usize));
        rest = tail;
    }
}

/// The first 8 bytes of what a parameter is sorted by (the line `key=value` for
/// [`ParamOrder::Line`], the key for [`ParamOrder::Key`]), big-endian, zero-padded; `key` may be a suffix of the
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
    // A short key: then '=' and the value's first bytes, shifted past the key's `k` bytes.
    let rest = (u64::from(b'=') << 56) | (be_prefix(value) >> 8);
    head | (rest >> (8 * k))
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
