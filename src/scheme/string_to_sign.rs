//! The string to sign: what janrain-signed signs, and in what order.
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
//!
//! This module and its two parts say what the bytes are: [`param_lines`] what a parameter is to
//! the string and the orders of the lines, [`line_sort`] the sort that puts them in order. How
//! the bytes are written fast is [`super::sink`]'s; the same string written plainly, as the
//! specification to test against, is [`super::reference::string_to_sign`].

mod line_sort;
mod param_lines;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::fmt;

use line_sort::{SortKeyBuffer, SortedKeys, compare, sort};
pub use param_lines::{Param, ParamOrder, Params};

use super::sink::{Sink, SliceWriter};

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
        let mut buffer = SortKeyBuffer::new(n);
        let (sorted, lines) = sort(self.form.order, self.params, n, &mut buffer);
        let len = self.head_len() + lines;
        out.extend(std::iter::repeat_n(0, len));
        let mut writer = SliceWriter::new(out.get_mut(start..).unwrap_or_default());
        self.write_sorted(&mut writer, sorted);
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
        let mut buffer = SortKeyBuffer::new(n);
        let (sorted, _) = sort(self.form.order, self.params, n, &mut buffer);
        self.write_sorted(sink, sorted);
    }

    /// The whole string into `sink`, the parameters in the order of `sorted`.
    #[inline(always)]
    fn write_sorted<S: Sink>(&self, sink: &mut S, sorted: SortedKeys<'_>) {
        self.write_head(sink);
        for i in sorted.indices() {
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
        let (mut line_buffer, mut key_buffer) = (SortKeyBuffer::new(n), SortKeyBuffer::new(n));
        let (by_line, _) = sort(ParamOrder::Line, p, n, &mut line_buffer);
        let (by_key, _) = sort(ParamOrder::Key, p, n, &mut key_buffer);
        by_line
            .indices()
            .zip(by_key.indices())
            .any(|(a, b)| compare(ParamOrder::Line, p, a, b) != Ordering::Equal)
    }
}

impl<L: Params + ?Sized> fmt::Debug for StringToSign<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct RedactedParams<'a, L: ?Sized>(&'a L);
        impl<L: Params + ?Sized> fmt::Debug for RedactedParams<'_, L> {
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
            .field("params", &RedactedParams(self.params))
            .field("form", &self.form)
            .finish()
    }
}
