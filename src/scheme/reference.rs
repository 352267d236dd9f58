//! What is signed, written plainly: the string to sign, the signature, and the decoding of a
//! query string or form body into the parameters that are signed, each as the obvious code
//! that follows the rules word for word.
//!
//! These are the specification in executable form, not the way to sign: they allocate a
//! string per parameter and sort strings, where [`StringToSign`](super::StringToSign) and
//! [`SigningKey`](super::SigningKey) sort one integer per parameter and allocate nothing, and
//! [`ParamList::extend_urlencoded`](crate::params::ParamList::extend_urlencoded) decodes in
//! one pass in place. The crate's own tests hold every fast path to these functions: its unit
//! tests, its property tests on generated requests, and its fuzz targets all call them rather
//! than keep copies of their own.
//!
//! They are public, and documented rather than hidden, because the property tests and fuzz
//! targets are crates of their own that see only the public API, and because code outside the
//! crate has the same use for them: to test another implementation of janrain-signed (in any
//! language) against them, or to print the exact bytes a server signs when a signature does
//! not match. What they compute is fixed by the scheme itself, so they are as stable as
//! [`StringToSign`](super::StringToSign)'s bytes.
//!
//! ```
//! use janrain_auth::scheme::{Canonicalization, SigningKey, StringToSign, reference};
//!
//! let params = reference::decode_urlencoded(b"type_name=user&filter=a%3Db%0Ac");
//! assert_eq!(params[1], (b"filter".to_vec(), b"a=b\nc".to_vec()));
//!
//! let plain = reference::string_to_sign(
//!     "/entity.find",
//!     "2021-03-04 05:06:07",
//!     &params,
//!     Canonicalization::CANONICAL,
//! );
//! assert_eq!(plain, b"/entity.find\n2021-03-04 05:06:07\nfilter=a=b\nc\ntype_name=user\n");
//!
//! let fast = StringToSign::new("/entity.find", "2021-03-04 05:06:07", &params);
//! assert_eq!(fast.to_bytes(), plain);
//! assert_eq!(
//!     SigningKey::new("secret").sign(&fast).as_str(),
//!     reference::signature(b"secret", &plain),
//! );
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::{Canonicalization, ParamOrder, Params};

/// The string to sign, plainly: the endpoint line, the datetime line, then one `key=value` line
/// per parameter (raw bytes, nothing escaped, repeated keys kept), sorted as whole lines
/// ([`ParamOrder::Line`]) or as (key, value) pairs ([`ParamOrder::Key`]), each ending in `\n`;
/// without parameters, one more empty line when `form` asks for it.
pub fn string_to_sign<L: Params + ?Sized>(
    endpoint: &str,
    datetime: &str,
    params: &L,
    form: Canonicalization,
) -> Vec<u8> {
    let mut pairs: Vec<(&[u8], &[u8])> = (0..params.param_count())
        .map(|i| (params.param_key(i), params.param_value(i)))
        .collect();
    let line = |(key, value): &(&[u8], &[u8])| [*key, b"=", *value].concat();
    let lines: Vec<Vec<u8>> = match form.order {
        ParamOrder::Line => {
            let mut lines: Vec<Vec<u8>> = pairs.iter().map(line).collect();
            lines.sort();
            lines
        }
        ParamOrder::Key => {
            pairs.sort();
            pairs.iter().map(line).collect()
        }
    };
    let mut out = format!("{endpoint}\n{datetime}\n").into_bytes();
    for line in &lines {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    if lines.is_empty() && form.blank_line_without_params {
        out.push(b'\n');
    }
    out
}

/// The signature of a string to sign, plainly: HMAC-SHA1 keyed with the secret's bytes, by the
/// `hmac` crate, in standard padded base64 by the `base64` crate.
pub fn signature(secret: &[u8], string_to_sign: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(string_to_sign);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A query string (without the `?`) or an `application/x-www-form-urlencoded` body decoded into
/// its parameters, plainly, by the WHATWG rules: split at every `&` and skip empty pieces;
/// split each piece at its first `=` (no `=`: the whole piece is the key, the value is empty);
/// in each part, `+` is a space and `%` with two hexadecimal digits is that byte, while any
/// other `%` stays as it is. The bytes are not checked to be UTF-8.
pub fn decode_urlencoded(input: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    input
        .split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (
                percent_decode(&piece[..eq]),
                percent_decode(&piece[eq + 1..]),
            ),
            None => (percent_decode(piece), Vec::new()),
        })
        .collect()
}

/// One key or value of [`decode_urlencoded`]: `+` to space, `%XX` to its byte.
fn percent_decode(part: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(part.len());
    let mut i = 0;
    while i < part.len() {
        match part[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                part.get(i + 1).and_then(|&b| hex(b)),
                part.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    out
}
