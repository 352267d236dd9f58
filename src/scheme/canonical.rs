//! The string to sign.
//!
//! ```text
//! endpoint \n datetime \n  key=value \n  key=value \n ...
//! ```
//!
//! * the endpoint is the root-anchored URL path (`/entity.find`), no host, no query;
//! * the datetime is the `Date` header's text, verbatim;
//! * each parameter is one `key=value` line, raw (never URL-encoded, `=`, `&` and `\n` kept as
//!   they are), empty values kept, a repeated key kept as one line per value; the lines are
//!   sorted by their whole bytes, and every line ends with `\n`;
//! * without parameters the string is `endpoint\ndatetime\n`.
//!
//! That is the reference library's form, [`Canonicalization::CANONICAL`] and the default. Janrain's
//! sample code in Java, JavaScript, PHP and Ruby differs from it in two ways, and a
//! verifier can accept either or both ([`ParamOrder::Key`], [`Canonicalization::blank_line_without_params`]).
//!
//! ```
//! use janrain_auth::scheme::StringToSign;
//!
//! let params = [("type_name", "user"), ("filter", "a=b\nc=d")];
//! let sts = StringToSign::new("/entity.find", "2021-03-04 05:06:07", &params);
//! assert_eq!(
//!     sts.to_bytes(),
//!     b"/entity.find\n2021-03-04 05:06:07\nfilter=a=b\nc=d\ntype_name=user\n",
//! );
//! ```

use super::sort::{Entries, Order, compare, sort};
use std::cmp::Ordering;
use std::fmt;

/// One request parameter: a key and a value, as raw bytes (UTF-8 for anything a client sends).
///
/// Implemented for pairs of anything that is `AsRef<[u8]>` (`(&str, &str)`, `(String, String)`,
/// `(Vec<u8>, Cow<str>)`, ...) and for references to parameters.
pub trait Param {
    /// The key bytes.
    fn key(&self) -> &[u8];
    /// The value bytes.
    fn value(&self) -> &[u8];
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> Param for (K, V) {
    #[inline]
    fn key(&self) -> &[u8] {
        self.0.as_ref()
    }
    #[inline]
    fn value(&self) -> &[u8] {
        self.1.as_ref()
    }
}

impl<P: Param + ?Sized> Param for &P {
    #[inline]
    fn key(&self) -> &[u8] {
        (**self).key()
    }
    #[inline]
    fn value(&self) -> &[u8] {
        (**self).value()
    }
}

/// An ordered list of parameters, as the string to sign reads it: slices, arrays and vectors of
/// [`Param`]s, and [`crate::params::ParamList`] (decoded from a query string or form body).
pub trait Params {
    /// How many parameters there are.
    fn param_count(&self) -> usize;
    /// The key of parameter `i` (`i < param_count()`).
    fn param_key(&self, i: usize) -> &[u8];
    /// The value of parameter `i` (`i < param_count()`).
    fn param_value(&self, i: usize) -> &[u8];
}

impl<P: Param> Params for [P] {
    #[inline]
    fn param_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        self[i].key()
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        self[i].value()
    }
}

impl<P: Param, const N: usize> Params for [P; N] {
    #[inline]
    fn param_count(&self) -> usize {
        N
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        self[i].key()
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        self[i].value()
    }
}

impl<P: Param> Params for Vec<P> {
    #[inline]
    fn param_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        self[i].key()
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        self[i].value()
    }
}

impl<L: Params + ?Sized> Params for &L {
    #[inline]
    fn param_count(&self) -> usize {
        (**self).param_count()
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        (**self).param_key(i)
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        (**self).param_value(i)
    }
}

/// Where [`StringToSign::write_to`] puts the string: pieces, and lines that a sink may take in
/// one step.
pub(crate) trait Sink {
    /// The next piece of the string.
    fn piece(&mut self, bytes: &[u8]);

    /// The line `first`, `sep`, `second`, `\n`: a parameter's `key=value\n`, or the string's
    /// first two lines, `endpoint\ndatetime\n`.
    #[inline(always)]
    fn line(&mut self, first: &[u8], sep: u8, second: &[u8]) {
        line_in_pieces(self, first, sep, second);
    }
}

/// [`Sink::line`] as four pieces.
#[inline(always)]
pub(crate) fn line_in_pieces<S: Sink + ?Sized>(sink: &mut S, first: &[u8], sep: u8, second: &[u8]) {
    sink.piece(first);
    sink.piece(&[sep]);
    sink.piece(second);
    sink.piece(b"\n");
}

impl<F: FnMut(&[u8])> Sink for F {
    #[inline(always)]
    fn piece(&mut self, bytes: &[u8]) {
        self(bytes)
    }
}

/// A sink into a slice of the string's exact length: each piece or line is a few length
/// checks and fixed-size moves, never a call to `memcpy`.
struct SliceWriter<'b> {
    /// The part not written yet.
    rest: &'b mut [u8],
    /// A piece did not fit (the parameters changed since the length was taken).
    overflow: bool,
}

impl SliceWriter<'_> {
    /// Whether the string filled the slice exactly.
    fn filled(&self) -> bool {
        !self.overflow && self.rest.is_empty()
    }
}

impl Sink for SliceWriter<'_> {
    #[inline(always)]
    fn piece(&mut self, bytes: &[u8]) {
        match std::mem::take(&mut self.rest).split_at_mut_checked(bytes.len()) {
            Some((dst, rest)) => {
                copy_short(dst, bytes);
                self.rest = rest;
            }
            None => self.overflow = true,
        }
    }

    #[inline(always)]
    fn line(&mut self, first: &[u8], sep: u8, second: &[u8]) {
        match put_line(std::mem::take(&mut self.rest), first, sep, second) {
            Some(rest) => self.rest = rest,
            None => self.overflow = true,
        }
    }
}

/// Write the line `first`, `sep`, `second`, `\n` at the start of `buf` and return the rest of
/// `buf`, or write nothing and return `None` when the line does not fit.
#[inline(always)]
pub(crate) fn put_line<'b>(
    buf: &'b mut [u8],
    first: &[u8],
    sep: u8,
    second: &[u8],
) -> Option<&'b mut [u8]> {
    let (a, rest) = buf.split_at_mut_checked(first.len())?;
    let (middle, rest) = rest.split_first_mut()?;
    let (b, rest) = rest.split_at_mut_checked(second.len())?;
    let (last, rest) = rest.split_first_mut()?;
    copy_short(a, first);
    *middle = sep;
    copy_short(b, second);
    *last = b'\n';
    Some(rest)
}

/// Copy `src` into `dst` (same length) with a few fixed-size moves up to 64 bytes instead
/// of a call to `memcpy`, which costs more than the copy for the short pieces of a string to
/// sign.
#[inline(always)]
pub(crate) fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    debug_assert_eq!(dst.len(), n);
    // One move of `size_of::<$t>()` bytes at offset `$at`, as an integer load and store: moves
    // of byte arrays would be `memcpy`s of constant sizes, which the compiler may merge across
    // the branches below into one call of variable size.
    macro_rules! mv {
        ($t:ty, $at:expr) => {{
            const W: usize = size_of::<$t>();
            let at = $at;
            if let Some(s) = src.get(at..).and_then(|s| s.first_chunk::<W>()) {
                let word = <$t>::from_ne_bytes(*s);
                if let Some(d) = dst.get_mut(at..).and_then(|d| d.first_chunk_mut::<W>()) {
                    *d = word.to_ne_bytes();
                }
            }
        }};
    }
    // Two overlapping moves of `W` bytes cover any length from `W` to `2 * W`.
    macro_rules! two {
        ($t:ty) => {{
            mv!($t, 0);
            mv!($t, n - size_of::<$t>());
        }};
    }
    // Branches in a binary search over the length classes: two or three compares for the
    // lengths of parameter names and values, where a chain of ranges takes up to six.
    if n >= 16 {
        if n <= 32 {
            two!(u128)
        } else if n <= 64 {
            mv!(u128, 0);
            mv!(u128, 16);
            mv!(u128, n - 32);
            mv!(u128, n - 16);
        } else {
            dst.copy_from_slice(src)
        }
    } else if n >= 8 {
        two!(u64)
    } else if n >= 4 {
        two!(u32)
    } else if n >= 2 {
        two!(u16)
    } else if n == 1 {
        dst[0] = src[0];
    }
}

/// How the parameter lines are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParamOrder {
    /// Sort the whole `key=value` lines by their bytes, as the reference Python library and the
    /// documented Python sample do. The canonical order.
    #[default]
    Line,
    /// Sort by key (then by value, so that the order never depends on the request's order), as
    /// the Java, JavaScript, PHP and Ruby samples do. It differs from [`ParamOrder::Line`] only
    /// when one key is a strict prefix of another and the longer key continues with a byte below
    /// `=` (`birthdate` / `birthdate.year`, `key` / `key1`).
    Key,
}

/// The form of the string to sign: the canonical one, or one of the documented variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Canonicalization {
    /// How parameter lines are ordered.
    pub order: ParamOrder,
    /// Without parameters, end the string with an empty line (`endpoint\ndatetime\n\n`), as the
    /// documented sample function does. The reference library does not.
    pub blank_line_without_params: bool,
}

impl Canonicalization {
    /// The reference library's form: lines sorted whole, no blank line. The default.
    pub const CANONICAL: Canonicalization = Canonicalization {
        order: ParamOrder::Line,
        blank_line_without_params: false,
    };

    /// What the Java / JavaScript / PHP / Ruby sample code produces: key order, and a blank line
    /// when there are no parameters.
    pub const SAMPLE_CODE: Canonicalization = Canonicalization {
        order: ParamOrder::Key,
        blank_line_without_params: true,
    };

    /// This form with another parameter order.
    pub const fn with_order(mut self, order: ParamOrder) -> Self {
        self.order = order;
        self
    }

    /// This form with or without the blank line when there are no parameters.
    pub const fn with_blank_line_without_params(mut self, blank: bool) -> Self {
        self.blank_line_without_params = blank;
        self
    }
}

/// The string to sign of one request: a view over its parts, never materialised unless asked
/// (signing streams the parts straight into HMAC-SHA1).
///
/// `Debug` shows the endpoint, the datetime and the parameter keys, never the values (they may
/// hold passwords); [`StringToSign::to_bytes`] gives the exact bytes.
pub struct StringToSign<'a, L: ?Sized> {
    endpoint: &'a str,
    datetime: &'a str,
    params: &'a L,
    form: Canonicalization,
}

impl<L: ?Sized> Clone for StringToSign<'_, L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: ?Sized> Copy for StringToSign<'_, L> {}

/// Parameters up to this count are sorted in an array on the stack.
pub(super) const STACK_PARAMS: usize = 32;
/// Parameters up to this count (a typical request) are sorted in a smaller array.
pub(super) const SMALL_PARAMS: usize = 8;

impl<'a, L: Params + ?Sized> StringToSign<'a, L> {
    /// The canonical string to sign for `endpoint`, the `Date` text `datetime`, and `params` in
    /// any order.
    pub fn new(endpoint: &'a str, datetime: &'a str, params: &'a L) -> Self {
        StringToSign {
            endpoint,
            datetime,
            params,
            form: Canonicalization::CANONICAL,
        }
    }

    /// The same request in another form.
    pub fn with_form(mut self, form: Canonicalization) -> Self {
        self.form = form;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &'a str {
        self.endpoint
    }

    /// The datetime text.
    pub fn datetime(&self) -> &'a str {
        self.datetime
    }

    /// The parameters, in request order.
    pub fn params(&self) -> &'a L {
        self.params
    }

    /// The form.
    pub fn form(&self) -> Canonicalization {
        self.form
    }

    /// The exact length of the string in bytes.
    pub fn len(&self) -> usize {
        let head = self.endpoint.len() + self.datetime.len() + 2;
        let n = self.params.param_count();
        if n == 0 {
            return head + usize::from(self.form.blank_line_without_params);
        }
        head + (0..n)
            .map(|i| self.params.param_key(i).len() + self.params.param_value(i).len() + 2)
            .sum::<usize>()
    }

    /// Never true: the string always holds at least the two newlines.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The string's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_into(&mut out);
        out
    }

    /// Append the string's bytes to `out`, growing it once: the fastest way to materialise the
    /// string into a buffer that is reused between requests. Allocates nothing for up to 32
    /// parameters when `out` has room.
    pub fn write_into(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let n = self.params.param_count();
        let mut entries = Entries::new(n);
        let (order, lines) = sort(self.form.order, self.params, n, &mut entries);
        let len = self.head_len() + lines;
        out.extend(std::iter::repeat_n(0, len));
        let mut writer = SliceWriter {
            rest: out.get_mut(start..).unwrap_or_default(),
            overflow: false,
        };
        self.write_sorted(&mut writer, order);
        let fits = writer.filled();
        if !fits {
            // Only a `Params` whose answers change between calls gets here: write it again,
            // piece by piece, rather than trust the length.
            out.truncate(start);
            self.write(|piece| out.extend_from_slice(piece));
        }
    }

    /// Feed the string, piece by piece and in order, to `sink`. Allocates nothing for up to 32
    /// parameters.
    pub fn write(&self, mut sink: impl FnMut(&[u8])) {
        self.write_to(&mut sink);
    }

    /// [`StringToSign::write`] into any [`Sink`], inlined so that a sink's fast path (the
    /// MAC's buffer) is not behind a call per piece.
    #[inline]
    pub(crate) fn write_to<S: Sink>(&self, sink: &mut S) {
        let n = self.params.param_count();
        let mut entries = Entries::new(n);
        let (order, _) = sort(self.form.order, self.params, n, &mut entries);
        self.write_sorted(sink, order);
    }

    /// The whole string into `sink`, the parameters in `order`.
    #[inline(always)]
    fn write_sorted<S: Sink>(&self, sink: &mut S, order: Order<'_>) {
        self.write_head(sink);
        for i in order.indices() {
            sink.line(self.params.param_key(i), b'=', self.params.param_value(i));
        }
    }

    /// The length of [`StringToSign::write_head`]'s lines.
    #[inline(always)]
    fn head_len(&self) -> usize {
        let blank = self.params.param_count() == 0 && self.form.blank_line_without_params;
        self.endpoint.len() + self.datetime.len() + 2 + usize::from(blank)
    }

    /// The lines before the parameters: the endpoint, the datetime, and the blank line of a
    /// form that wants one when there are no parameters. The whole string when there are none.
    #[inline(always)]
    pub(crate) fn write_head<S: Sink>(&self, sink: &mut S) {
        sink.line(self.endpoint.as_bytes(), b'\n', self.datetime.as_bytes());
        if self.params.param_count() == 0 && self.form.blank_line_without_params {
            sink.piece(b"\n");
        }
    }

    /// The form that yields the same bytes as this one for this request, chosen as close to
    /// canonical as possible. Verifiers use it to skip variants that would compute the same
    /// signature twice.
    pub fn effective_form(&self) -> Canonicalization {
        let mut form = self.form;
        if self.params.param_count() != 0 {
            form.blank_line_without_params = false;
        }
        if form.order == ParamOrder::Key && !self.orders_differ() {
            form.order = ParamOrder::Line;
        }
        form
    }

    /// Whether line order and key order put these parameters in different orders. Allocates
    /// nothing for up to 32 parameters: verifiers ask this of every request when they accept
    /// the key-order variant.
    fn orders_differ(&self) -> bool {
        let p = self.params;
        let n = p.param_count();
        let (mut line_entries, mut key_entries) = (Entries::new(n), Entries::new(n));
        let (by_line, _) = sort(ParamOrder::Line, p, n, &mut line_entries);
        let (by_key, _) = sort(ParamOrder::Key, p, n, &mut key_entries);
        by_line
            .indices()
            .zip(by_key.indices())
            .any(|(a, b)| compare(ParamOrder::Line, p, a, b) != Ordering::Equal)
    }
}

impl<L: Params + ?Sized> fmt::Debug for StringToSign<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Keys<'a, L: ?Sized>(&'a L);
        impl<L: Params + ?Sized> fmt::Debug for Keys<'_, L> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries((0..self.0.param_count()).map(|i| {
                        format!(
                            "{}=<redacted>",
                            String::from_utf8_lossy(self.0.param_key(i))
                        )
                    }))
                    .finish()
            }
        }
        f.debug_struct("StringToSign")
            .field("endpoint", &self.endpoint)
            .field("datetime", &self.datetime)
            .field("params", &Keys(self.params))
            .field("form", &self.form)
            .finish()
    }
}

#[cfg(test)]
mod tests;
