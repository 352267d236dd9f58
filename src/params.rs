//! Request parameters: decoded from query strings and `application/x-www-form-urlencoded`
//! bodies exactly once, the same way on both sides.
//!
//! Decoding follows the WHATWG URL standard's `application/x-www-form-urlencoded` parser, which
//! is what browsers, `reqwest`'s `.form()` / `.query()` and `url::form_urlencoded` produce and
//! read: pairs separated by `&` (empty pairs skipped), key and value split at the first `=`
//! (a pair without `=` is a key with an empty value), `+` is a space, `%XX` is the byte `0xXX`,
//! and a `%` not followed by two hex digits stays a literal `%`. The decoded bytes are signed as
//! they are, never encoded again: a value that arrived as `a%3Db%0Ac` is signed as `a=b\nc`.
//! The same rules written plainly, which the crate's tests hold this decoder to, are
//! [`crate::scheme::reference::decode_urlencoded`].
//!
//! ```
//! use janrain_auth::params::ParamList;
//!
//! let mut params = ParamList::new();
//! params.extend_urlencoded(b"type_name=user&filter=lastUpdated+%3E%3D+%272016-01-01%27&flag")?;
//! assert_eq!(params.len(), 3);
//! assert_eq!(params.get(b"filter"), Some(&b"lastUpdated >= '2016-01-01'"[..]));
//! assert_eq!(params.get(b"flag"), Some(&b""[..]));
//! # Ok::<(), janrain_auth::params::ParamsError>(())
//! ```

use std::fmt;
use std::ops::Range;

use smallvec::SmallVec;

use crate::scheme::Params;

mod de;

pub use de::DeserializeError;

/// Most parameters accepted in one request, by default.
pub const DEFAULT_MAX_PARAMS: usize = 1024;

/// Decoded bytes a list holds without a heap buffer: a typical form (a sign-in, an entity
/// update) fits, so decoding it allocates nothing.
const INLINE_BYTES: usize = 256;
/// Parameters a list holds without a heap buffer.
const INLINE_PARAMS: usize = 8;

/// Most decoded bytes one list holds (4 GiB - 1): its offsets are 32-bit, which keeps the
/// list small enough to move cheaply.
pub const MAX_BYTES: usize = u32::MAX as usize;

/// Why parameters could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// More parameters than the limit allows.
    #[error("request has more than {limit} parameters")]
    TooMany {
        /// The limit.
        limit: usize,
    },
    /// More decoded bytes than a list holds: [`MAX_BYTES`] (4 GiB), far beyond any body a
    /// server should accept.
    #[error("request parameters are longer than {MAX_BYTES} bytes")]
    TooLong,
}

/// Decoded request parameters in request order, all bytes in one buffer.
///
/// Keys and values are bytes: everything a client sends is UTF-8, but a verifier must sign what
/// it received, not a lossy repair of it. [`ParamList::to_pairs_lossy`] gives text.
///
/// A small list (up to 8 parameters and 256 decoded bytes) lives inside the value itself, with
/// no heap buffer; a bigger one moves to the heap as it grows.
///
/// `Debug` shows keys only: values may be passwords.
#[derive(Clone, Default)]
pub struct ParamList {
    /// Every key and value, one after the other: key 0, value 0, key 1, ...
    bytes: SmallVec<[u8; INLINE_BYTES]>,
    /// Where each key starts, where it ends (and its value starts), where its value ends: at
    /// most [`MAX_BYTES`], so 32 bits each.
    bounds: SmallVec<[[u32; 3]; INLINE_PARAMS]>,
    /// The most parameters the list takes; `None` for [`DEFAULT_MAX_PARAMS`].
    max_params: Option<usize>,
}

impl ParamList {
    /// An empty list with the default limit of [`DEFAULT_MAX_PARAMS`].
    pub fn new() -> Self {
        ParamList::default()
    }

    /// An empty list that refuses more than `max` parameters.
    pub fn with_limit(max: usize) -> Self {
        ParamList {
            max_params: Some(max),
            ..ParamList::default()
        }
    }

    fn limit(&self) -> usize {
        self.max_params.unwrap_or(DEFAULT_MAX_PARAMS)
    }

    /// Append one parameter, taken as it is (no decoding).
    pub fn push(
        &mut self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), ParamsError> {
        let (key, value) = (key.as_ref(), value.as_ref());
        if self.bounds.len() >= self.limit() {
            return Err(ParamsError::TooMany {
                limit: self.limit(),
            });
        }
        if !fits(self.bytes.len(), key.len().saturating_add(value.len())) {
            return Err(ParamsError::TooLong);
        }
        self.append(key, value);
        Ok(())
    }

    /// Append one parameter that fits (within [`MAX_BYTES`]).
    fn append(&mut self, key: &[u8], value: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let key_end = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.bounds
            .push([offset(start), offset(key_end), offset(self.bytes.len())]);
    }

    /// The key and value ranges of parameter `i`.
    #[inline]
    fn ranges(&self, i: usize) -> (Range<usize>, Range<usize>) {
        let [start, key_end, end] = self.bounds[i].map(|at| at as usize);
        (start..key_end, key_end..end)
    }

    /// Whether every key and every value is UTF-8 text: one check of all the bytes, and of
    /// each boundary between them (a character split across a key and its value is not text).
    pub(crate) fn is_text(&self) -> bool {
        let Ok(text) = std::str::from_utf8(&self.bytes) else {
            return false;
        };
        self.bounds.iter().all(|&[start, key_end, _]| {
            text.is_char_boundary(start as usize) && text.is_char_boundary(key_end as usize)
        })
    }

    /// Decode a query string or form body (without the leading `?`) and append its pairs.
    /// On error, the pairs decoded before the limit was hit stay appended; input that could
    /// take the list past [`MAX_BYTES`] is refused whole, before anything is decoded.
    pub fn extend_urlencoded(&mut self, input: &[u8]) -> Result<(), ParamsError> {
        if !fits(self.bytes.len(), input.len()) {
            return Err(ParamsError::TooLong);
        }
        // Decoding never lengthens, so room for the encoded length always suffices. While the
        // list is inline and that room would not fit, first try the room left inline: most
        // forms shrink enough when decoded (`%22` is one byte), and a list that does not fit
        // gives up as soon as it is full, before decoding it again with room on the heap.
        let base = self.bytes.len();
        if !self.bytes.spilled()
            && base + input.len() > INLINE_BYTES
            && let Some(result) = self.decode(input, INLINE_BYTES.saturating_sub(base))
        {
            return result;
        }
        // With room for the encoded length the decoder cannot run out of it.
        self.decode(input, input.len()).unwrap_or(Ok(()))
    }

    /// Decode `input` and append its pairs, writing in place into `room` bytes; `None` (with
    /// nothing appended) when the decoded pairs do not fit in it.
    fn decode(&mut self, input: &[u8], room: usize) -> Option<Result<(), ParamsError>> {
        let limit = self.limit();
        let base = self.bytes.len();
        let count = self.bounds.len();
        // Room that fits inline comes from a block of zeros in one copy (`resize` would write
        // them one at a time).
        match ZEROS.get(..room) {
            Some(zeros) => self.bytes.extend_from_slice(zeros),
            None => self.bytes.resize(base + room, 0),
        }
        let mut pairs = Pairs {
            bounds: &mut self.bounds,
            base,
            limit,
            key_start: 0,
            key_end: None,
            pair_start: 0,
        };
        let Some(result) = decode_pairs(input, &mut self.bytes[base..], &mut pairs) else {
            // Out of room: undo.
            self.bytes.truncate(base);
            self.bounds.truncate(count);
            return None;
        };
        let written = match result {
            Ok(written) => written,
            // The pair that passed the limit is not kept.
            Err(_) => pairs.key_start,
        };
        self.bytes.truncate(base + written);
        Some(result.map(|_| ()))
    }

    /// Decode `input` into a new list.
    pub fn from_urlencoded(input: &[u8]) -> Result<Self, ParamsError> {
        let mut list = ParamList::new();
        list.extend_urlencoded(input)?;
        Ok(list)
    }

    /// Whether the list still lives inside the value, with no heap buffer.
    pub(crate) fn is_inline(&self) -> bool {
        !self.bytes.spilled() && !self.bounds.spilled()
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    /// The parameters as `(key, value)` byte slices, in request order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> + '_ {
        (0..self.bounds.len()).map(|i| {
            let (key, value) = self.ranges(i);
            (&self.bytes[key], &self.bytes[value])
        })
    }

    /// The value of the first parameter named `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        // Keys of another length are passed over by their ranges alone, without slicing the
        // bytes or calling a comparison (most keys differ in length from the one looked up).
        (0..self.bounds.len()).find_map(|i| {
            let (k, v) = self.ranges(i);
            (k.len() == key.len() && self.bytes[k] == *key).then(|| &self.bytes[v])
        })
    }

    /// The first value of `key` as text, if it is UTF-8.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key.as_bytes())
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The parameters as text pairs (invalid UTF-8 replaced by U+FFFD).
    pub fn to_pairs_lossy(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(k).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    /// The parameters as a serde type, read the way Janrain's clients write them (and this
    /// crate's [`client::encode`](crate::client::encode) does):
    ///
    /// * each key is a field (or a map entry); a missing key is `None` for an `Option` field;
    /// * a text field takes the value as it is, whatever it holds;
    /// * a number or boolean field parses the text (`10`, `true`);
    /// * a sequence, map, struct or tuple field, and an enum variant with data, reads JSON text
    ///   (`attributes=["uuid", "email"]`, `value={"givenName": "Zoë"}`); a unit variant is its
    ///   name;
    /// * a `serde_json::Value` field reads JSON text of a list or an object as that structure,
    ///   and any other text as a string (the text `10` is `"10"`: read numbers into number
    ///   fields);
    /// * a key sent more than once fills a sequence field with its values (each read as above);
    ///   into any other field it is an error, never a silent choice of one value. One value
    ///   that is not JSON text of a list fills a sequence field as its only element.
    ///
    /// ```
    /// use janrain_auth::params::ParamList;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Find {
    ///     type_name: String,
    ///     max_results: Option<u32>,
    ///     #[serde(default)]
    ///     attributes: Vec<String>,
    ///     filter: Option<String>,
    /// }
    ///
    /// let params = ParamList::from_urlencoded(
    ///     b"type_name=user&max_results=5&attributes=%5B%22uuid%22%2C+%22email%22%5D&filter=id+%3E+10",
    /// )?;
    /// let find: Find = params.deserialize()?;
    /// assert_eq!((find.type_name.as_str(), find.max_results), ("user", Some(5)));
    /// assert_eq!(find.attributes, ["uuid", "email"]);
    /// assert_eq!(find.filter.as_deref(), Some("id > 10"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<'de, T: serde::Deserialize<'de>>(&'de self) -> Result<T, DeserializeError> {
        de::from_params(self)
    }

    /// A copy without the parameters named in `keys`.
    pub fn without(&self, keys: &[&[u8]]) -> ParamList {
        let mut out = ParamList {
            max_params: self.max_params,
            ..ParamList::default()
        };
        for (k, v) in self.iter().filter(|(k, _)| !keys.contains(k)) {
            out.append(k, v);
        }
        out
    }
}

/// The pairs [`decode_pairs`] ends, as it ends them.
struct Pairs<'a> {
    bounds: &'a mut SmallVec<[[u32; 3]; INLINE_PARAMS]>,
    base: usize,
    limit: usize,
    /// Where the pair being decoded starts in the output.
    key_start: usize,
    /// Where its key ends, once its first `=` is seen.
    key_end: Option<usize>,
    /// Where it starts in the input.
    pair_start: usize,
}

impl Pairs<'_> {
    /// End the pair decoded up to `written` (input up to `read`): kept unless it is empty
    /// (`&&`), refused past the limit; the next pair starts after `read`.
    fn end(&mut self, read: usize, written: usize) -> Result<(), ParamsError> {
        if read > self.pair_start {
            if self.bounds.len() >= self.limit {
                return Err(ParamsError::TooMany { limit: self.limit });
            }
            self.bounds
                .push(bounds(self.base, self.key_start, self.key_end, written));
        }
        self.key_start = written;
        self.key_end = None;
        self.pair_start = read + 1;
        Ok(())
    }
}

/// Decode a whole form body into `out`, ending its pairs in `pairs`: the bytes between the
/// four with a meaning (`&` `=` `+` `%`) are copied as runs, the four are acted on. `None`
/// when `out` runs out of room; else the decoded length, or the limit that was passed.
///
/// Where the special bytes are is found 64 input bytes at a time, as a mask
/// ([`special_marks`]), before any of them is acted on: finding them does not wait for the
/// bytes written before, so that a run of ordinary bytes costs one copy, not a step per byte
/// or per word.
fn decode_pairs(
    input: &[u8],
    out: &mut [u8],
    pairs: &mut Pairs<'_>,
) -> Option<Result<usize, ParamsError>> {
    // `read`: input bytes consumed (copied, acted on, or part of an escape).
    let (mut read, mut written) = (0, 0);
    let len = input.len();
    let mut window = 0;
    while window < len {
        let end = len.min(window + 64);
        let mut marks = special_marks(&input[window..end]);
        loop {
            // The next special byte, or the window's end. An escape never hides one:
            // the two bytes it takes are hexadecimal digits.
            let next = match marks {
                0 => end,
                _ => window + marks.trailing_zeros() as usize,
            };
            if next > read {
                written = copy_run(out, written, input, read, next)?;
                read = next;
            }
            if marks == 0 {
                break;
            }
            marks &= marks - 1;
            match input[read] {
                b'&' => {
                    if let Err(e) = pairs.end(read, written) {
                        return Some(Err(e));
                    }
                    read += 1;
                    continue;
                }
                b'=' if pairs.key_end.is_none() => {
                    pairs.key_end = Some(written);
                    read += 1;
                    continue;
                }
                // A second `=` in a pair is part of its value.
                b'=' => {
                    *out.get_mut(written)? = b'=';
                    read += 1;
                }
                b'+' => {
                    *out.get_mut(written)? = b' ';
                    read += 1;
                }
                // `%`: an escape, or itself when two hexadecimal digits do not follow.
                _ => {
                    let (hi, lo) = match input.get(read + 1..read + 3) {
                        Some(&[hi, lo]) => (HEX[usize::from(hi)], HEX[usize::from(lo)]),
                        _ => (NOT_HEX, NOT_HEX),
                    };
                    if hi | lo == NOT_HEX {
                        *out.get_mut(written)? = b'%';
                        read += 1;
                    } else {
                        *out.get_mut(written)? = hi << 4 | lo;
                        read += 3;
                    }
                }
            }
            written += 1;
        }
        window = end;
    }
    // The last pair ends with the input (kept unless it is empty).
    Some(pairs.end(len, written).map(|()| written))
}

/// Copy the ordinary bytes `input[from..next]` to `out` at `at`, as they are; where the copy
/// ends, or `None` when `out` has no room for them. A short run goes in one 16-byte copy when
/// both sides have the bytes (what it writes past the run is overwritten later or trimmed); a
/// longer one, or one near either end, exactly.
#[inline]
fn copy_run(out: &mut [u8], at: usize, input: &[u8], from: usize, next: usize) -> Option<usize> {
    let n = next - from;
    match (input.get(from..from + 16), out.get_mut(at..at + 16)) {
        (Some(src), Some(dst)) if n <= 16 => dst.copy_from_slice(src),
        _ => out.get_mut(at..at + n)?.copy_from_slice(&input[from..next]),
    }
    Some(at + n)
}

/// Bit `i` set where `window[i]` (at most 64 bytes) is `&`, `=`, `+` or `%`.
fn special_marks(window: &[u8]) -> u64 {
    let mut marks = 0;
    let mut chunks = window.chunks_exact(16);
    let mut shift = 0;
    for chunk in &mut chunks {
        let chunk = <[u8; 16]>::try_from(chunk).unwrap_or_default();
        marks |= u64::from(special_bits16(chunk)) << shift;
        shift += 16;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // The last few, padded with zeros (no special byte).
        let mut chunk = [0u8; 16];
        chunk[..rest.len()].copy_from_slice(rest);
        marks |= u64::from(special_bits16(chunk)) << shift;
    }
    marks
}

/// Bit `i` set where `chunk[i]` is `&`, `=`, `+` or `%`: on x86-64, four byte comparisons of
/// all sixteen at once and one gather of their results (SSE2, which every x86-64 processor
/// has), about a third of the instructions of [`special_bits`] on its two words.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
#[allow(unsafe_code)]
fn special_bits16(chunk: [u8; 16]) -> u16 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
    };
    let [low, high] = halves(chunk).map(i64::from_le_bytes);
    // SAFETY: these intrinsics need SSE2 and nothing else (no pointer, no memory access); the
    // function exists only where the build enables SSE2 (the cfg above), as every x86-64
    // target does.
    unsafe {
        let bytes = _mm_set_epi64x(high, low);
        let is = |special: u8| _mm_cmpeq_epi8(bytes, _mm_set1_epi8(special as i8));
        let marked = _mm_or_si128(
            _mm_or_si128(is(b'&'), is(b'=')),
            _mm_or_si128(is(b'+'), is(b'%')),
        );
        // One bit per byte, from each byte's high bit (all ones where a comparison held).
        _mm_movemask_epi8(marked) as u16
    }
}

/// Elsewhere, the sixteen bytes as two words.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
use special_bits16_by_words as special_bits16;

/// Bit `i` set where `chunk[i]` is `&`, `=`, `+` or `%`: its two words through
/// [`special_bits`] (compiled for the tests on x86-64 too, which hold both to the rule).
#[cfg(any(not(all(target_arch = "x86_64", target_feature = "sse2")), test))]
#[inline]
fn special_bits16_by_words(chunk: [u8; 16]) -> u16 {
    u16::from_le_bytes(halves(chunk).map(|word| special_bits(u64::from_le_bytes(word))))
}

/// The two 8-byte halves of `chunk`.
#[inline]
fn halves(chunk: [u8; 16]) -> [[u8; 8]; 2] {
    let (low, high) = chunk.split_at(8);
    [low, high].map(|half| <[u8; 8]>::try_from(half).unwrap_or_default())
}

/// Bit `i` set where byte `i` of `word` (in little-endian order) is `&`, `=`, `+` or `%`.
///
/// Each byte's low seven bits are compared with each of the four (all below 0x80) by an
/// exclusive or, then adding 0x7f, which carries into the byte's high bit unless they were
/// equal (and never into the next byte: 0x7f + 0x7f < 0x100). A byte is marked where some
/// comparison left the high bit clear and the byte's own high bit is clear too. The eight
/// high bits are then gathered into one byte by a multiplication.
#[cfg(any(not(all(target_arch = "x86_64", target_feature = "sse2")), test))]
fn special_bits(word: u64) -> u8 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let low = word & LOW7;
    let differs = |special: u8| (low ^ (ONES * u64::from(special))) + LOW7;
    let marks = !(differs(b'&') & differs(b'=') & differs(b'+') & differs(b'%')) & !word & HIGHS;
    // One bit per byte, at bit 8i; the multiplication moves bit 8i to bit 56 + i.
    ((marks >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// Where the key of a pair decoded at `base` starts, where it ends (none: the pair is all
/// key), and where its value ends.
fn bounds(base: usize, key_start: usize, key_end: Option<usize>, end: usize) -> [u32; 3] {
    [
        offset(base + key_start),
        offset(base + key_end.unwrap_or(end)),
        offset(base + end),
    ]
}

/// Whether `more` bytes fit beside the `held` ones: the list never passes [`MAX_BYTES`], so
/// that its offsets fit 32 bits. (Only a body limit above 4 GiB lets so much through.)
fn fits(held: usize, more: usize) -> bool {
    held.saturating_add(more) <= MAX_BYTES
}

/// An offset into a list's bytes, which never pass [`MAX_BYTES`] (the functions that add
/// bytes check first), as 32 bits.
fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

/// Zeros to make inline room from.
static ZEROS: [u8; INLINE_BYTES] = [0; INLINE_BYTES];

/// What [`HEX`] gives a byte that is not a hexadecimal digit: all bits set, so that it stays
/// set when or-ed with a digit's value.
const NOT_HEX: u8 = 0xff;

/// The value of each hexadecimal digit; [`NOT_HEX`] for every other byte.
static HEX: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

impl Params for ParamList {
    #[inline]
    fn param_count(&self) -> usize {
        self.bounds.len()
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        &self.bytes[self.ranges(i).0]
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        &self.bytes[self.ranges(i).1]
    }
}

impl fmt::Debug for ParamList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(k, _)| format!("{}=<redacted>", String::from_utf8_lossy(k))),
            )
            .finish()
    }
}

/// Encode `(key, value)` pairs as `application/x-www-form-urlencoded`, byte for byte as the
/// WHATWG serializer (and so `reqwest`, browsers and `url`) does: `*-._` and alphanumerics
/// kept, space as `+`, everything else `%XX`.
pub fn encode_urlencoded<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(k.as_ref(), &mut out);
        out.push('=');
        encode_into(v.as_ref(), &mut out);
    }
    out
}

fn encode_into(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests;
