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

use super::ids::{ClientId, ClientSecret, CredentialsError};
use super::signer::{SIGNATURE_LEN, Signature};

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
        // The first ':' (a byte search: the text is short, and char patterns cost more).
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

/// Whether every byte is visible ASCII, a space or a tab. Eight bytes at a time: a block of
/// visible ASCII and spaces (nearly every block) passes in a few word operations, and only a
/// block that holds some other byte (a tab, or a byte to refuse) is looked at byte by byte.
fn is_header_text(value: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let byte_ok = |b: &u8| *b == b' ' || *b == b'\t' || b.is_ascii_graphic();
    let mut blocks = value.chunks_exact(8);
    for block in &mut blocks {
        let Ok(word) = <[u8; 8]>::try_from(block).map(u64::from_ne_bytes) else {
            return false;
        };
        // The classic tests for "some byte is below 0x20" and "some byte is above 0x7e" (the
        // latter includes every byte with its high bit set); exact for "some", which is all
        // this needs.
        let below = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
        // (Adding 1 takes exactly 0x7f and up to the high bit: 0x7f - 0x7e is 1.)
        let above = (word.wrapping_add(ONES) | word) & HIGHS;
        if below | above != 0 && !block.iter().all(byte_ok) {
            return false;
        }
    }
    blocks.remainder().iter().all(byte_ok)
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
mod tests {
    use super::*;
    use AuthorizationError as E;

    #[test]
    fn header_text_word_at_a_time_agrees_with_each_byte() {
        let one = |b: u8| b == b' ' || b == b'\t' || b.is_ascii_graphic();
        for byte in 0..=u8::MAX {
            for at in 0..20 {
                let mut value = vec![b'a'; 20];
                value[at] = byte;
                assert_eq!(is_header_text(&value), one(byte), "{byte:#x} at {at}");
                assert_eq!(is_header_text(&value[at..]), one(byte), "{byte:#x} first");
            }
        }
    }

    fn parse(v: &str) -> Result<Authorization<'_>, AuthorizationError> {
        Authorization::parse(v.as_bytes())
    }

    #[test]
    fn signature_forms() {
        let ok = [
            "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=",
            "signature  foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY= ",
            "SIGNATURE\tfoo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=",
        ];
        for v in ok {
            match parse(v).unwrap() {
                Authorization::Signature(s) => {
                    assert_eq!(s.client_id(), "foo");
                    assert_eq!(s.signature(), "G3N5RxCVc0d6rDLmBRGvcg2hCVY=");
                    assert!(!format!("{s:?}").contains("G3N5"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn malformed_signatures() {
        let cases: &[(&str, AuthorizationError)] = &[
            ("", E::Empty),
            ("   ", E::Empty),
            (
                "Signature",
                E::MissingCredentials {
                    scheme: "Signature",
                },
            ),
            (
                "Signature   ",
                E::MissingCredentials {
                    scheme: "Signature",
                },
            ),
            ("Signature fooG3N5RxCVc0d6rDLmBRGvcg2hCVY=", E::MissingColon),
            (
                "Signature :G3N5RxCVc0d6rDLmBRGvcg2hCVY=",
                E::ClientId(CredentialsError::EmptyClientId),
            ),
            (
                "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY",
                E::SignatureLength(27),
            ),
            ("Signature foo:", E::SignatureLength(0)),
            (
                "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY==",
                E::SignatureLength(29),
            ),
            (
                "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCV-=",
                E::SignatureEncoding { position: 26 },
            ),
            (
                "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVZ=",
                E::SignatureEncoding { position: 26 },
            ),
            (
                "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVYA",
                E::SignatureEncoding { position: 27 },
            ),
            (
                "Signature foo:b'N5RxCVc0d6rDLmBRGvcg2hCVY=",
                E::SignatureEncoding { position: 1 },
            ),
            (
                "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=\u{e9}",
                E::NotAscii,
            ),
            ("Signature foo:G3N5RxCVc0d6rDLmB\nGvcg2hCVY=", E::NotAscii),
        ];
        for (v, err) in cases {
            assert_eq!(parse(v).err().as_ref(), Some(err), "{v:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn basic_forms() {
        let id = ClientId::new("abcdefg").unwrap();
        let secret = ClientSecret::new("hijklmnop").unwrap();
        let hv = basic_header(&id, &secret);
        assert_eq!(hv, "Basic YWJjZGVmZzpoaWprbG1ub3A=");
        assert!(hv.is_sensitive());
        for v in [
            "Basic YWJjZGVmZzpoaWprbG1ub3A=",
            "basic YWJjZGVmZzpoaWprbG1ub3A",
        ] {
            let Authorization::Basic(b) = parse(v).unwrap() else {
                panic!()
            };
            assert_eq!(b.client_id(), &id);
            assert_eq!(b.secret().expose(), "hijklmnop");
            assert!(!format!("{b:?}").contains("hijk"));
        }
        // A secret may itself contain ':'.
        let enc = STANDARD.encode("id:se:cret");
        let Authorization::Basic(b) = parse(&format!("Basic {enc}")).unwrap() else {
            panic!()
        };
        assert_eq!(b.secret().expose(), "se:cret");
    }

    #[test]
    fn malformed_basic() {
        let b64 = |s: &[u8]| format!("Basic {}", STANDARD.encode(s));
        let cases: Vec<(String, AuthorizationError)> = vec![
            ("Basic".into(), E::MissingCredentials { scheme: "Basic" }),
            ("Basic !!!!".into(), E::BasicEncoding),
            ("Basic YWJj=ZGVm".into(), E::BasicEncoding),
            (b64(b"no colon"), E::BasicMissingColon),
            (b64(b"id:"), E::BasicEmptySecret),
            (
                b64(b":secret"),
                E::ClientId(CredentialsError::EmptyClientId),
            ),
            (
                b64(b"a b:secret"),
                E::ClientId(CredentialsError::ClientIdCharacter {
                    position: 1,
                    byte: b' ',
                }),
            ),
            (b64(&[0xff, b':', b'x']), E::BasicNotUtf8),
            (
                format!("Basic {}", "A".repeat(MAX_BASIC_LEN + 4)),
                E::BasicTooLong,
            ),
        ];
        for (v, err) in cases {
            assert_eq!(parse(&v).err(), Some(err), "{v:?}");
        }
    }

    #[test]
    fn other_schemes() {
        assert!(matches!(
            parse("OAuth abc").unwrap(),
            Authorization::Other { scheme: "OAuth" }
        ));
        assert!(matches!(
            parse("Bearer").unwrap(),
            Authorization::Other { scheme: "Bearer" }
        ));
    }

    #[test]
    fn signature_header_format() {
        let sig = crate::scheme::SigningKey::new("bar").sign(&crate::scheme::StringToSign::new(
            "/entity",
            "2000-01-01 01:01:01",
            &[
                ("param1", "this is a string"),
                ("param2", "10"),
                ("param3", "one=1\ntwo=2,three=3"),
            ],
        ));
        let hv = signature_header(&ClientId::new("foo").unwrap(), &sig);
        assert_eq!(hv, "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=");
        assert!(hv.is_sensitive());
        assert!(!format!("{hv:?}").contains("G3N5"));
    }
}
