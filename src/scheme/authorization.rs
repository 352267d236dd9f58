//! The `Authorization` header: `Signature <client_id>:<base64>` and
//! `Basic <base64(client_id:client_secret)>`, parsed and formatted.
//!
//! ```
//! use janrain_auth::credentials::{ClientId, ClientSecret};
//! use janrain_auth::scheme::{basic_header, Authorization};
//!
//! let value = basic_header(&ClientId::new("abcdefg")?, &ClientSecret::new("hijklmnop")?);
//! assert_eq!(value, "Basic YWJjZGVmZzpoaWprbG1ub3A=");
//! assert!(value.is_sensitive());
//!
//! // The unpadded form the documentation prints is accepted too.
//! match Authorization::parse(b"Basic YWJjZGVmZzpoaWprbG1ub3A")? {
//!     Authorization::Basic(basic) => {
//!         assert_eq!(basic.client_id().as_str(), "abcdefg");
//!         assert_eq!(basic.secret().expose(), "hijklmnop");
//!     }
//!     _ => unreachable!(),
//! }
//!
//! let parsed = Authorization::parse(b"Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=")?;
//! assert!(matches!(parsed, Authorization::Signature(s) if s.client_id() == "foo"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};
use http::HeaderValue;

use super::ids::{ClientId, ClientSecret, CredentialsError, MAX_CLIENT_ID_LEN};
use super::signing_key::{SIGNATURE_LEN, Signature};

/// Longest base64 Basic credentials accepted, in bytes.
pub const MAX_BASIC_LEN: usize = 2048;

/// Why an `Authorization` header value was refused. The messages say what is wrong, never
/// what the credentials were.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationError {
    /// The value is empty or only whitespace.
    #[error("Authorization header is empty")]
    Empty,
    /// The value holds bytes that are not visible ASCII, space or tab.
    #[error("Authorization header must be printable ASCII")]
    NotAscii,
    /// The scheme is not followed by credentials.
    #[error("Authorization header has the scheme {scheme} but no credentials after it")]
    MissingCredentials {
        /// `Signature` or `Basic`.
        scheme: &'static str,
    },
    /// `Signature` credentials without the `:` between client id and signature.
    #[error("Signature credentials must be <client_id>:<signature>; the ':' is missing")]
    MissingColon,
    /// The client id is not a valid id.
    #[error("invalid client id: {0}")]
    ClientId(#[source] CredentialsError),
    /// The signature is not 28 characters.
    #[error("signature must be 28 characters of base64 (HMAC-SHA1), got {0}")]
    SignatureLength(usize),
    /// The signature is not canonical standard base64 of 20 bytes.
    #[error(
        "signature must be standard base64 with '=' padding (alphabet A-Z a-z 0-9 + /); character {position} is not valid there"
    )]
    SignatureEncoding {
        /// Zero-based index of the first bad character.
        position: usize,
    },
    /// Basic credentials longer than [`MAX_BASIC_LEN`].
    #[error("Basic credentials are longer than {MAX_BASIC_LEN} bytes")]
    BasicTooLong,
    /// Basic credentials that are not base64.
    #[error("Basic credentials must be base64 of client_id:client_secret")]
    BasicEncoding,
    /// Decoded Basic credentials that are not UTF-8.
    #[error("Basic credentials must decode to UTF-8 text")]
    BasicNotUtf8,
    /// Decoded Basic credentials without the `:` between id and secret.
    #[error("Basic credentials must decode to client_id:client_secret; the ':' is missing")]
    BasicMissingColon,
    /// Decoded Basic credentials with an empty secret.
    #[error("Basic credentials have an empty client secret")]
    BasicEmptySecret,
}

/// A parsed `Authorization` header value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Authorization<'a> {
    /// janrain-signed: `Signature <client_id>:<base64>`.
    Signature(SignatureCredentials<'a>),
    /// `Basic <base64(client_id:client_secret)>`.
    Basic(BasicCredentials),
    /// Any other scheme (`OAuth`, `Bearer`, ...): syntactically a credential, but not one this
    /// crate verifies.
    Other {
        /// The scheme as sent.
        scheme: &'a str,
    },
}

impl<'a> Authorization<'a> {
    /// Parse a header value. Scheme names are case-insensitive (RFC 7235); one or more spaces
    /// separate the scheme from the credentials; surrounding whitespace is ignored.
    pub fn parse(value: &'a [u8]) -> Result<Self, AuthorizationError> {
        if !is_header_text(value) {
            return Err(AuthorizationError::NotAscii);
        }
        // ASCII, so UTF-8; and the only whitespace it can hold is spaces and tabs.
        let value = std::str::from_utf8(value)
            .map_err(|_| AuthorizationError::NotAscii)?
            .trim_ascii();
        if value.is_empty() {
            return Err(AuthorizationError::Empty);
        }
        let (scheme, rest) = match value.bytes().position(|b| b == b' ' || b == b'\t') {
            Some(i) => (&value[..i], value[i..].trim_ascii_start()),
            None => (value, ""),
        };
        if scheme.eq_ignore_ascii_case("Signature") {
            if rest.is_empty() {
                return Err(AuthorizationError::MissingCredentials {
                    scheme: "Signature",
                });
            }
            SignatureCredentials::parse(rest).map(Authorization::Signature)
        } else if scheme.eq_ignore_ascii_case("Basic") {
            if rest.is_empty() {
                return Err(AuthorizationError::MissingCredentials { scheme: "Basic" });
            }
            BasicCredentials::parse(rest).map(Authorization::Basic)
        } else {
            Ok(Authorization::Other { scheme })
        }
    }
}

/// janrain-signed credentials: a client id and a signature, borrowed from the header.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureCredentials<'a> {
    client_id: &'a str,
    signature: &'a str,
}

impl<'a> SignatureCredentials<'a> {
    /// Parse `<client_id>:<base64>` (the part after `Signature `).
    pub fn parse(credentials: &'a str) -> Result<Self, AuthorizationError> {
        // The usual credentials in one pass: the first byte that is ':' or not visible ASCII
        // is a ':' that ends a client id of a valid length, so that the id is valid.
        let bytes = credentials.as_bytes();
        if let Some(colon) = first_marked(bytes, b'!', b':')
            && bytes[colon] == b':'
            && (1..=MAX_CLIENT_ID_LEN).contains(&colon)
        {
            let (client_id, signature) = (&credentials[..colon], &credentials[colon + 1..]);
            check_signature(signature.as_bytes())?;
            return Ok(SignatureCredentials {
                client_id,
                signature,
            });
        }
        // Anything else, with the errors in their order: the ':', then the id, then the
        // signature.
        let colon = credentials
            .bytes()
            .position(|b| b == b':')
            .ok_or(AuthorizationError::MissingColon)?;
        let (client_id, signature) = (&credentials[..colon], &credentials[colon + 1..]);
        ClientId::check(client_id).map_err(AuthorizationError::ClientId)?;
        check_signature(signature.as_bytes())?;
        Ok(SignatureCredentials {
            client_id,
            signature,
        })
    }

    /// The client id (validated as a [`ClientId`]).
    pub fn client_id(&self) -> &'a str {
        self.client_id
    }

    /// The signature's 28 base64 characters.
    pub fn signature(&self) -> &'a str {
        self.signature
    }
}

impl fmt::Debug for SignatureCredentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureCredentials")
            .field("client_id", &self.client_id)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Check that `sig` is exactly the standard padded base64 of 20 bytes.
fn check_signature(sig: &[u8]) -> Result<(), AuthorizationError> {
    if sig.len() != SIGNATURE_LEN {
        return Err(AuthorizationError::SignatureLength(sig.len()));
    }
    for (position, &c) in sig[..SIGNATURE_LEN - 1].iter().enumerate() {
        let v = BASE64_VALUES[usize::from(c)];
        // The 27th character carries the last 4 bits of data; its 2 low bits must be zero.
        if v == NOT_BASE64 || (position == SIGNATURE_LEN - 2 && v & 0b11 != 0) {
            return Err(AuthorizationError::SignatureEncoding { position });
        }
    }
    if sig[SIGNATURE_LEN - 1] != b'=' {
        return Err(AuthorizationError::SignatureEncoding {
            position: SIGNATURE_LEN - 1,
        });
    }
    Ok(())
}

/// What [`BASE64_VALUES`] gives a byte outside the standard base64 alphabet.
const NOT_BASE64: u8 = 0xff;

/// The value of each character of the standard base64 alphabet; [`NOT_BASE64`] for every
/// other byte.
static BASE64_VALUES: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [NOT_BASE64; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Whether every byte is visible ASCII, a space or a tab.
fn is_header_text(value: &[u8]) -> bool {
    let allowed = |b: &u8| *b == b' ' || *b == b'\t' || b.is_ascii_graphic();
    // Past the first byte that is neither visible ASCII nor a space (0x7f is one already),
    // byte by byte: a tab may follow.
    match first_marked(value, b' ', 0x7f) {
        None => true,
        Some(at) => value[at..].iter().all(allowed),
    }
}

/// Where the first byte of `bytes` is that is below `low`, above 0x7e (not ASCII, or DEL),
/// or `stop`. Eight bytes at a time: a word with none of them (nearly every word of a
/// header) passes in a few operations.
fn first_marked(bytes: &[u8], low: u8, stop: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let marked = |b: u8| b < low || b > 0x7e || b == stop;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word).map(u64::from_le_bytes) else {
            break;
        };
        // The classic word tests for a byte below `low`, for one above 0x7e (adding 1 takes
        // 0x7f and up to the high bit), and for a zero byte (after an exclusive or with
        // `stop`). Each marks the lowest such byte exactly (borrows and carries only run
        // upwards, and the first byte is the lowest), which is all this needs.
        let below = word.wrapping_sub(ONES * u64::from(low)) & !word;
        let above = word.wrapping_add(ONES) | word;
        let other = word ^ (ONES * u64::from(stop));
        let equal = other.wrapping_sub(ONES) & !other;
        let marks = (below | above | equal) & HIGHS;
        if marks != 0 {
            return Some(at + (marks.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| marked(b))
        .map(|i| at + i)
}

/// Basic credentials: client id and client secret, decoded.
#[derive(Clone)]
pub struct BasicCredentials {
    client_id: ClientId,
    secret: ClientSecret,
}

impl BasicCredentials {
    /// Pair an id and a secret.
    pub fn new(client_id: ClientId, secret: ClientSecret) -> Self {
        BasicCredentials { client_id, secret }
    }

    /// Parse the base64 part after `Basic ` (padded or not).
    pub fn parse(encoded: &str) -> Result<Self, AuthorizationError> {
        if encoded.len() > MAX_BASIC_LEN {
            return Err(AuthorizationError::BasicTooLong);
        }
        let decoded = STANDARD_PAD_INDIFFERENT
            .decode(encoded)
            .map_err(|_| AuthorizationError::BasicEncoding)?;
        let mut text = String::from_utf8(decoded).map_err(|e| {
            let mut bytes = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut bytes);
            AuthorizationError::BasicNotUtf8
        })?;
        let result = match text.split_once(':') {
            None => Err(AuthorizationError::BasicMissingColon),
            Some((_, "")) => Err(AuthorizationError::BasicEmptySecret),
            Some((id, secret)) => ClientId::new(id)
                .map_err(AuthorizationError::ClientId)
                .and_then(|id| {
                    let secret = ClientSecret::new(secret)
                        .map_err(|_| AuthorizationError::BasicEmptySecret)?;
                    Ok(BasicCredentials::new(id, secret))
                }),
        };
        zeroize::Zeroize::zeroize(&mut text);
        result
    }

    /// The client id (the user name).
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The client secret (the password).
    pub fn secret(&self) -> &ClientSecret {
        &self.secret
    }

    /// The header value `Basic base64(id:secret)`, marked sensitive.
    pub fn header_value(&self) -> HeaderValue {
        basic_header(&self.client_id, &self.secret)
    }
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Mark a header value built from ASCII sensitive. Every caller passes base64, a validated
/// client id and fixed text, so the value is always valid.
fn sensitive(text: &[u8]) -> HeaderValue {
    let mut value = HeaderValue::from_bytes(text).unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

/// The header value `Signature <client_id>:<signature>`, marked sensitive (so HTTP/2 never
/// indexes it and `Debug` of the header map hides it).
pub fn signature_header(client_id: &ClientId, signature: &Signature) -> HeaderValue {
    let mut text = Vec::with_capacity(10 + client_id.as_str().len() + 1 + SIGNATURE_LEN);
    text.extend_from_slice(b"Signature ");
    text.extend_from_slice(client_id.as_str().as_bytes());
    text.push(b':');
    text.extend_from_slice(signature.as_bytes());
    sensitive(&text)
}

/// The header value `Basic base64(client_id:client_secret)`, marked sensitive.
pub fn basic_header(client_id: &ClientId, secret: &ClientSecret) -> HeaderValue {
    let mut plain = Vec::with_capacity(client_id.as_str().len() + 1 + secret.expose().len());
    plain.extend_from_slice(client_id.as_str().as_bytes());
    plain.push(b':');
    plain.extend_from_slice(secret.expose().as_bytes());
    let mut encoded = String::with_capacity(plain.len().div_ceil(3) * 4);
    STANDARD.encode_string(&plain, &mut encoded);
    let mut text = Vec::with_capacity(6 + encoded.len());
    text.extend_from_slice(b"Basic ");
    text.extend_from_slice(encoded.as_bytes());
    let value = sensitive(&text);
    zeroize::Zeroize::zeroize(&mut plain);
    zeroize::Zeroize::zeroize(&mut encoded);
    zeroize::Zeroize::zeroize(&mut text);
    value
}

#[cfg(test)]
mod tests;
