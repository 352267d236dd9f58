//! How the string to sign is written fast: the [`Sink`] it goes to piece by piece and line by
//! line, the writer into a slice of its exact length, and the short copies both that writer
//! and the signer's HMAC buffer make. Nothing here knows what the string holds: that is
//! [`super::string_to_sign`].

/// Where the string to sign is written: pieces, and lines that a sink may take in one step.
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
pub(super) struct SliceWriter<'b> {
    /// The part not written yet.
    rest: &'b mut [u8],
    /// A piece did not fit (the parameters changed since the length was taken).
    overflow: bool,
}

impl<'b> SliceWriter<'b> {
    /// A writer that fills `slice` from its start.
    #[inline(always)]
    pub(super) fn new(slice: &'b mut [u8]) -> Self {
        SliceWriter {
            rest: slice,
            overflow: false,
        }
    }

    /// Whether the string filled the slice exactly.
    #[inline]
    pub(super) fn filled(&self) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
