//! Request parameters: decoded from query strings and `application/x-www-form-urlencoded`
//! bodies exactly once, the same way on both sides.
//!
//! Decoding follows the WHATWG URL standard's `application/x-www-form-urlencoded` parser, which
//! is what browsers, `reqwest`'s `.form()` / `.query()` and `url::form_urlencoded` produce and
//! read: pairs separated by `&` (empty pairs skipped), key and value split at the first `=`
//! (a pair without `=` is a key with an empty value), `+` is a space, `%XX` is the byte `0xXX`,
//! and a `%` not followed by two hex digits stays a literal `%`. The decoded bytes are signed as
//! they are (spec R3): a value that arrived as `a%3Db%0Ac` is signed as `a=b\nc`.
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
    /// Where each key starts, where it ends (and its value starts), where its value ends.
    ends: SmallVec<[[usize; 3]; INLINE_PARAMS]>,
    max: Option<usize>,
}

impl ParamList {
    /// An empty list with the default limit of [`DEFAULT_MAX_PARAMS`].
    pub fn new() -> Self {
        ParamList::default()
    }

    /// An empty list that refuses more than `max` parameters.
    pub fn with_limit(max: usize) -> Self {
        ParamList {
            max: Some(max),
            ..ParamList::default()
        }
    }

    fn limit(&self) -> usize {
        self.max.unwrap_or(DEFAULT_MAX_PARAMS)
    }

    /// Append one parameter, taken as it is (no decoding).
    pub fn push(
        &mut self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), ParamsError> {
        if self.ends.len() >= self.limit() {
            return Err(ParamsError::TooMany {
                limit: self.limit(),
            });
        }
        self.append(key.as_ref(), value.as_ref());
        Ok(())
    }

    fn append(&mut self, key: &[u8], value: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let key_end = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.ends.push([start, key_end, self.bytes.len()]);
    }

    /// The key and value ranges of parameter `i`.
    #[inline]
    fn ranges(&self, i: usize) -> (Range<usize>, Range<usize>) {
        let [start, key_end, end] = self.ends[i];
        (start..key_end, key_end..end)
    }

    /// Whether every key and every value is UTF-8 text: one check of all the bytes, and of
    /// each boundary between them (a character split across a key and its value is not text).
    pub(crate) fn is_text(&self) -> bool {
        let Ok(text) = std::str::from_utf8(&self.bytes) else {
            return false;
        };
        self.ends.iter().all(|&[start, key_end, _]| {
            text.is_char_boundary(start) && text.is_char_boundary(key_end)
        })
    }

    /// Decode a query string or form body (without the leading `?`) and append its pairs.
    /// On error, the pairs decoded before the limit was hit stay appended.
    pub fn extend_urlencoded(&mut self, input: &[u8]) -> Result<(), ParamsError> {
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
        // One pass over the input: split pairs, split key from value, and decode, writing in
        // place into the room, then trim.
        let limit = self.limit();
        let base = self.bytes.len();
        let count = self.ends.len();
        // Room that fits inline comes from a block of zeros in one copy (`resize` would write
        // them one at a time).
        match ZEROS.get(..room) {
            Some(zeros) => self.bytes.extend_from_slice(zeros),
            None => self.bytes.resize(base + room, 0),
        }
        let out = &mut self.bytes[base..];
        let mut written = 0;
        let mut key_start = 0;
        let mut key_end = None;
        let mut pair_start = 0;
        let mut read = 0;
        let mut result = Ok(());
        loop {
            // Ordinary bytes, the vast majority, go eight at a time: those before the first
            // special byte of the next eight are copied in one store (the rest of the store is
            // overwritten or trimmed), and the special byte is read one at a time below.
            while let Some(&next) = input.get(read)
                && !SPECIAL[usize::from(next)]
                && let Some(chunk) = input.get(read..read + 8)
                && let Ok(chunk) = <[u8; 8]>::try_from(chunk)
                && let Some(slot) = out.get_mut(written..written + 8)
            {
                slot.copy_from_slice(&chunk);
                let ordinary = ordinary_prefix(u64::from_le_bytes(chunk));
                read += ordinary;
                written += ordinary;
                if ordinary < 8 {
                    break;
                }
            }
            let Some(&byte) = input.get(read) else {
                break;
            };
            read += 1;
            let decoded = if !SPECIAL[usize::from(byte)] {
                byte
            } else {
                match byte {
                    b'&' => {
                        // A pair ends; empty pairs (`&&`) are skipped.
                        if read - 1 > pair_start {
                            if self.ends.len() >= limit {
                                result = Err(ParamsError::TooMany { limit });
                                written = key_start;
                                break;
                            }
                            self.ends.push(ends(base, key_start, key_end, written));
                        }
                        key_start = written;
                        key_end = None;
                        pair_start = read;
                        continue;
                    }
                    b'=' if key_end.is_none() => {
                        key_end = Some(written);
                        continue;
                    }
                    b'+' => b' ',
                    b'%' => {
                        let (hi, lo) = match input.get(read..read + 2) {
                            Some(&[hi, lo]) => (HEX[usize::from(hi)], HEX[usize::from(lo)]),
                            _ => (NOT_HEX, NOT_HEX),
                        };
                        if hi | lo == NOT_HEX {
                            b'%'
                        } else {
                            read += 2;
                            hi << 4 | lo
                        }
                    }
                    other => other,
                }
            };
            let Some(slot) = out.get_mut(written) else {
                // Out of room: undo.
                self.bytes.truncate(base);
                self.ends.truncate(count);
                return None;
            };
            *slot = decoded;
            written += 1;
        }
        if result.is_ok() && input.len() > pair_start {
            if self.ends.len() >= limit {
                result = Err(ParamsError::TooMany { limit });
                written = key_start;
            } else {
                self.ends.push(ends(base, key_start, key_end, written));
            }
        }
        self.bytes.truncate(base + written);
        Some(result)
    }

    /// Decode `input` into a new list.
    pub fn from_urlencoded(input: &[u8]) -> Result<Self, ParamsError> {
        let mut list = ParamList::new();
        list.extend_urlencoded(input)?;
        Ok(list)
    }

    /// Whether the list still lives inside the value, with no heap buffer.
    pub(crate) fn is_inline(&self) -> bool {
        !self.bytes.spilled() && !self.ends.spilled()
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The parameters as `(key, value)` byte slices, in request order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> + '_ {
        self.ends
            .iter()
            .map(|&[start, key_end, end]| (&self.bytes[start..key_end], &self.bytes[key_end..end]))
    }

    /// The value of the first parameter named `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
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

    /// The parameters as a serde type: each key a field (or map entry), every value of a
    /// repeated key as a sequence field (`Vec<String>`), text parsed where the field is a
    /// number or a boolean, a missing key `None` for an `Option` field. A repeated key read
    /// into a field that is not a sequence is an error, never a silent choice of one value.
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
    /// }
    ///
    /// let params = ParamList::from_urlencoded(b"type_name=user&max_results=5&attributes=email&attributes=uuid")?;
    /// let find: Find = params.deserialize()?;
    /// assert_eq!((find.type_name.as_str(), find.max_results, find.attributes.len()), ("user", Some(5), 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<'de, T: serde::Deserialize<'de>>(&'de self) -> Result<T, DeserializeError> {
        de::from_params(self)
    }

    /// A copy without the parameters named in `keys`.
    pub fn without(&self, keys: &[&[u8]]) -> ParamList {
        let mut out = ParamList {
            max: self.max,
            ..ParamList::default()
        };
        for (k, v) in self.iter().filter(|(k, _)| !keys.contains(k)) {
            out.append(k, v);
        }
        out
    }
}

/// How many of the 8 bytes of `chunk` (in little-endian order) come before the first of `&`
/// `=` `+` `%`: each byte equal to one of them becomes zero after an exclusive or, and the
/// classic test for a zero byte marks it (exactly for the lowest one, which is all this needs).
fn ordinary_prefix(chunk: u64) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let marks = zero(chunk ^ (ONES * u64::from(b'&')))
        | zero(chunk ^ (ONES * u64::from(b'=')))
        | zero(chunk ^ (ONES * u64::from(b'+')))
        | zero(chunk ^ (ONES * u64::from(b'%')));
    (marks.trailing_zeros() / 8) as usize
}

/// Bytes with a meaning in a form body: `&` `=` `+` `%`.
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'&' as usize] = true;
    table[b'=' as usize] = true;
    table[b'+' as usize] = true;
    table[b'%' as usize] = true;
    table
};

/// Where the key of a pair decoded at `base` starts, where it ends (none: the pair is all
/// key), and where its value ends.
fn ends(base: usize, key_start: usize, key_end: Option<usize>, end: usize) -> [usize; 3] {
    [base + key_start, base + key_end.unwrap_or(end), base + end]
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
        self.ends.len()
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
mod tests {
    use super::*;

    fn pairs(input: &str) -> Vec<(String, String)> {
        ParamList::from_urlencoded(input.as_bytes())
            .unwrap()
            .to_pairs_lossy()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn whatwg_decoding() {
        assert_eq!(pairs(""), vec![]);
        assert_eq!(pairs("&&"), vec![]);
        assert_eq!(pairs("a=1&b=2"), vec![p("a", "1"), p("b", "2")]);
        assert_eq!(pairs("a"), vec![p("a", "")]);
        assert_eq!(pairs("=v"), vec![p("", "v")]);
        assert_eq!(pairs("a==b"), vec![p("a", "=b")]);
        assert_eq!(pairs("a+b=c+d%2Be"), vec![p("a b", "c d+e")]);
        assert_eq!(pairs("k=%zz%4%"), vec![p("k", "%zz%4%")]);
        assert_eq!(pairs("k=%C3%A9%f0%9F%98%80"), vec![p("k", "é😀")]);
        assert_eq!(pairs("k=a%26b%3Dc%0Ad"), vec![p("k", "a&b=c\nd")]);
        assert_eq!(pairs("a=1&a=2"), vec![p("a", "1"), p("a", "2")]);
        // Decoded exactly once.
        assert_eq!(pairs("k=%2541"), vec![p("k", "%41")]);
    }

    #[test]
    fn encoding_round_trips() {
        let cases = [
            ("key", "value"),
            ("", ""),
            ("a=b", "c&d"),
            ("sp ace", "plus+percent%"),
            ("uni", "Zoë Ωmega 😀\n\r\t"),
            ("~!'()", "*-._"),
        ];
        let encoded = encode_urlencoded(&cases);
        let back = ParamList::from_urlencoded(encoded.as_bytes()).unwrap();
        let want: Vec<_> = cases.iter().map(|(k, v)| p(k, v)).collect();
        assert_eq!(back.to_pairs_lossy(), want);
        assert_eq!(encode_urlencoded(&[("a b", "~*")]), "a+b=%7E*");
    }

    fn hex(b: &u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }

    /// The WHATWG parser, one byte at a time, as the reference for the decoder.
    fn reference(input: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let decode = |piece: &[u8]| {
            let mut out = Vec::new();
            let mut i = 0;
            while i < piece.len() {
                match piece[i] {
                    b'+' => out.push(b' '),
                    b'%' if i + 2 < piece.len()
                        && hex(&piece[i + 1]).is_some()
                        && hex(&piece[i + 2]).is_some() =>
                    {
                        out.push(hex(&piece[i + 1]).unwrap() << 4 | hex(&piece[i + 2]).unwrap());
                        i += 2;
                    }
                    other => out.push(other),
                }
                i += 1;
            }
            out
        };
        input
            .split(|&b| b == b'&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.iter().position(|&b| b == b'=') {
                Some(eq) => (decode(&pair[..eq]), decode(&pair[eq + 1..])),
                None => (decode(pair), Vec::new()),
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn decodes_as_the_reference(
            input in proptest::collection::vec(
                proptest::sample::select(b"ab=&+%2F0z\n\xc3\xa9".to_vec()),
                0..700,
            ),
            prefix in 0usize..300,
        ) {
            // Pairs already held (up to past the inline room) before the input is decoded.
            let mut list = ParamList::with_limit(10_000);
            list.push(vec![b'k'; prefix], "").unwrap();
            list.extend_urlencoded(&input).unwrap();
            let got: Vec<(Vec<u8>, Vec<u8>)> =
                list.iter().skip(1).map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            proptest::prop_assert_eq!(got, reference(&input));
            proptest::prop_assert_eq!(list.get(&vec![b'k'; prefix]), Some(&b""[..]));
        }
    }

    #[test]
    fn limits_and_non_utf8() {
        let mut list = ParamList::with_limit(2);
        assert_eq!(
            list.extend_urlencoded(b"a&b&c"),
            Err(ParamsError::TooMany { limit: 2 })
        );
        assert_eq!(list.len(), 2);
        assert_eq!(list.push("x", "y"), Err(ParamsError::TooMany { limit: 2 }));
        let list = ParamList::from_urlencoded(b"k=%FF").unwrap();
        assert!(!list.is_text());
        // Text as a whole, but a character split between a key and its value.
        assert!(!ParamList::from_urlencoded(b"k%C3=%A9").unwrap().is_text());
        assert!(
            ParamList::from_urlencoded(b"k%C3%A9=%C3%A9&=")
                .unwrap()
                .is_text()
        );
        assert_eq!(list.get(b"k"), Some(&[0xff][..]));
        assert_eq!(list.get_str("k"), None);
        assert_eq!(list.to_pairs_lossy(), vec![p("k", "\u{fffd}")]);
    }

    #[test]
    fn without_and_debug() {
        let list =
            ParamList::from_urlencoded(b"client_id=c&access_token=t&password=hunter2").unwrap();
        let rest = list.without(&[b"client_id", b"access_token"]);
        assert_eq!(rest.to_pairs_lossy(), vec![p("password", "hunter2")]);
        let dbg = format!("{list:?}");
        assert!(
            dbg.contains("password=<redacted>") && !dbg.contains("hunter2"),
            "{dbg}"
        );
    }
}
