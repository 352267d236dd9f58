//! The credentials the scheme itself handles: client ids, client secrets and users' access
//! tokens, each checked when it is made, redacted in `Debug`, and (secrets and tokens)
//! zeroized on drop. Re-exported by [`crate::credentials`], the path users name them by.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroize;

/// Longest client id accepted, in bytes. Janrain's ids are 32 characters.
pub const MAX_CLIENT_ID_LEN: usize = 256;

/// Why a client id or secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The client id is empty.
    #[error("client id is empty")]
    EmptyClientId,
    /// The client id is longer than [`MAX_CLIENT_ID_LEN`].
    #[error("client id is longer than {MAX_CLIENT_ID_LEN} bytes")]
    ClientIdTooLong,
    /// The client id holds a byte that cannot appear in one (`:`, a space, a control or
    /// non-ASCII byte).
    #[error(
        "client id may only hold visible ASCII characters other than ':' (byte {byte:#04x} at position {position})"
    )]
    ClientIdCharacter {
        /// Zero-based byte offset.
        position: usize,
        /// The byte.
        byte: u8,
    },
    /// The client secret is empty.
    #[error("client secret is empty")]
    EmptySecret,
    /// The access token is empty.
    #[error("access token is empty")]
    EmptyAccessToken,
    /// The access token is longer than [`MAX_ACCESS_TOKEN_LEN`].
    #[error("access token is longer than {MAX_ACCESS_TOKEN_LEN} bytes")]
    AccessTokenTooLong,
    /// The access token holds a byte that cannot appear in one (a space, a control or
    /// non-ASCII byte). The byte itself is not named: it is part of a secret.
    #[error("access token may only hold visible ASCII characters (not at position {position})")]
    AccessTokenCharacter {
        /// Zero-based byte offset.
        position: usize,
    },
}

/// The id of an API client: 1 to 256 visible ASCII characters, no `:` (it separates the id
/// from the signature in the header and from the secret in Basic credentials).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(Box<str>);

impl ClientId {
    /// Validate an id.
    pub fn new(id: impl AsRef<str>) -> Result<Self, CredentialsError> {
        let id = id.as_ref();
        Self::check(id)?;
        Ok(ClientId(id.into()))
    }

    /// Check that `id` would make a valid [`ClientId`], without allocating.
    pub fn check(id: &str) -> Result<(), CredentialsError> {
        if id.is_empty() {
            return Err(CredentialsError::EmptyClientId);
        }
        if id.len() > MAX_CLIENT_ID_LEN {
            return Err(CredentialsError::ClientIdTooLong);
        }
        match id
            .bytes()
            .position(|b| !(b.is_ascii_graphic() && b != b':'))
        {
            Some(position) => Err(CredentialsError::ClientIdCharacter {
                position,
                byte: id.as_bytes()[position],
            }),
            None => Ok(()),
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClientId {
    type Err = CredentialsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClientId::new(s)
    }
}

impl AsRef<str> for ClientId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ClientId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({:?})", &*self.0)
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ClientId::new(&s).map_err(serde::de::Error::custom)
    }
}

/// A client secret. `Debug` and `Display` print `<redacted>`; the bytes are zeroized on drop.
/// [`ClientSecret::expose`] is the one way to read it.
#[derive(Clone)]
pub struct ClientSecret(Box<str>);

impl ClientSecret {
    /// Wrap a secret (any non-empty text; it is used as is, never base64-decoded).
    pub fn new(secret: impl Into<String>) -> Result<Self, CredentialsError> {
        let secret: String = secret.into();
        if secret.is_empty() {
            return Err(CredentialsError::EmptySecret);
        }
        Ok(ClientSecret(secret.into_boxed_str()))
    }

    /// The secret's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for ClientSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

impl fmt::Display for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for ClientSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut s = String::deserialize(d)?;
        let secret = ClientSecret::new(std::mem::take(&mut s)).map_err(serde::de::Error::custom);
        s.zeroize();
        secret
    }
}

/// Longest access token accepted, in bytes. Janrain's tokens are 16 to 32 characters; the
/// limit leaves room for other issuers' longer ones.
pub const MAX_ACCESS_TOKEN_LEN: usize = 4096;

/// A user's OAuth access token, as a login client obtains it (`/oauth/auth_native`,
/// `/oauth/token`, `/access/getAccessToken`): 1 to [`MAX_ACCESS_TOKEN_LEN`] visible ASCII
/// characters, so that it fits an `Authorization: OAuth <token>` header as one word.
///
/// Like a [`ClientSecret`], it is a credential: `Debug` and `Display` print `<redacted>`, the
/// bytes are zeroized on drop, and [`AccessToken::expose`] is the one way to read it.
///
/// ```
/// use janrain_auth::credentials::AccessToken;
///
/// let token: AccessToken = "y2bz7eq8xx7mkdqk".parse()?;
/// assert_eq!(format!("{token:?} {token}"), "AccessToken(<redacted>) <redacted>");
/// assert!(AccessToken::new("two words").is_err());
/// # Ok::<(), janrain_auth::credentials::CredentialsError>(())
/// ```
#[derive(Clone)]
pub struct AccessToken(Box<str>);

impl AccessToken {
    /// Validate and wrap a token.
    pub fn new(token: impl Into<String>) -> Result<Self, CredentialsError> {
        let mut token: String = token.into();
        if let Err(e) = Self::check(&token) {
            token.zeroize();
            return Err(e);
        }
        Ok(AccessToken(token.into_boxed_str()))
    }

    /// Check that `token` would make a valid [`AccessToken`], without allocating.
    pub fn check(token: &str) -> Result<(), CredentialsError> {
        if token.is_empty() {
            return Err(CredentialsError::EmptyAccessToken);
        }
        if token.len() > MAX_ACCESS_TOKEN_LEN {
            return Err(CredentialsError::AccessTokenTooLong);
        }
        match token.bytes().position(|b| !b.is_ascii_graphic()) {
            Some(position) => Err(CredentialsError::AccessTokenCharacter { position }),
            None => Ok(()),
        }
    }

    /// The token's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for AccessToken {
    type Err = CredentialsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccessToken::new(s)
    }
}

impl Drop for AccessToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for AccessToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut s = String::deserialize(d)?;
        let token = AccessToken::new(std::mem::take(&mut s)).map_err(serde::de::Error::custom);
        s.zeroize();
        token
    }
}
