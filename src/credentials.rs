//! API clients: ids, secrets, and the keys built from them.
//!
//! ```
//! use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
//! use janrain_auth::permissions::Feature;
//!
//! let client = ApiClient::new(
//!     ClientId::new("apkrahlfumwse2e9nvrrotv6vchuptzw")?,
//!     ClientSecret::new("rylicq8ydkz0vmki3gqaoxbk4gyrr05t")?,
//! )
//! .with_secret(ClientSecret::new("a-new-secret-during-rotation")?)
//! .with_feature(Feature::DirectAccess);
//!
//! // Secrets never show up in Debug output.
//! assert!(!format!("{client:?}").contains("rylicq8"));
//! # Ok::<(), janrain_auth::credentials::CredentialsError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::permissions::{Feature, Features};
use crate::scheme::{Canonicalization, Params, SigningKey, StringToSign};

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

/// One secret of a client with its keyed HMAC state.
#[derive(Clone)]
struct ClientKey {
    secret: ClientSecret,
    key: SigningKey,
    /// HMAC of the secret under itself: Basic credentials are checked by comparing the HMAC of
    /// the received password with this, in constant time and independent of the length.
    basic_tag: [u8; 20],
}

impl ClientKey {
    fn new(secret: ClientSecret) -> Self {
        let key = SigningKey::new(secret.expose());
        let basic_tag = key.mac(secret.expose().as_bytes());
        ClientKey {
            secret,
            key,
            basic_tag,
        }
    }
}

/// An API client: its id, one or more secrets (several while a secret is being rotated: Janrain
/// keeps the old one valid for a while after a reset), and its features.
///
/// The HMAC state of every secret is keyed when the client is built, never per request.
#[derive(Clone)]
pub struct ApiClient {
    id: ClientId,
    keys: Vec<ClientKey>,
    features: Features,
}

impl ApiClient {
    /// A client with one secret and no features.
    pub fn new(id: ClientId, secret: ClientSecret) -> Self {
        ApiClient {
            id,
            keys: vec![ClientKey::new(secret)],
            features: Features::EMPTY,
        }
    }

    /// Add a secret that is valid as well (rotation). The first secret stays the one used
    /// to sign outbound requests.
    pub fn with_secret(mut self, secret: ClientSecret) -> Self {
        self.keys.push(ClientKey::new(secret));
        self
    }

    /// Add a feature.
    pub fn with_feature(mut self, feature: Feature) -> Self {
        self.features.insert(feature);
        self
    }

    /// Replace the features.
    pub fn with_features(mut self, features: Features) -> Self {
        self.features = features;
        self
    }

    /// The id.
    pub fn id(&self) -> &ClientId {
        &self.id
    }

    /// The features.
    pub fn features(&self) -> Features {
        self.features
    }

    /// How many secrets are valid.
    pub fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// The first secret: the one outbound requests are signed with.
    pub fn secret(&self) -> &ClientSecret {
        &self.keys[0].secret
    }

    /// The signing key of the first secret.
    pub fn signing_key(&self) -> &SigningKey {
        &self.keys[0].key
    }

    /// Check a janrain-signed signature against every secret of the client and every form in
    /// `forms`; returns the form that matched. All secrets are tried whatever the outcome, so the
    /// time taken does not tell which one matched.
    pub fn verify_signature<L: Params + ?Sized>(
        &self,
        string_to_sign: &StringToSign<'_, L>,
        forms: &[Canonicalization],
        signature: &[u8],
    ) -> Option<Canonicalization> {
        let mut matched = None;
        for k in &self.keys {
            let found = k.key.verify_forms(string_to_sign, forms, signature);
            matched = matched.or(found);
        }
        matched
    }

    /// Check a Basic password against every secret of the client, in constant time.
    pub fn verify_basic_secret(&self, password: &str) -> bool {
        let mut ok = subtle::Choice::from(0);
        for k in &self.keys {
            ok |= k.key.mac(password.as_bytes()).ct_eq(&k.basic_tag);
        }
        ok.into()
    }
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("id", &self.id)
            .field("secrets", &format_args!("<{} redacted>", self.keys.len()))
            .field("features", &self.features)
            .finish()
    }
}

/// The JSON form of a client: `{"client_id": "...", "secrets": ["..."], "features": ["owner"]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSpec {
    client_id: ClientId,
    secrets: Vec<ClientSecret>,
    #[serde(default)]
    features: Features,
}

impl<'de> Deserialize<'de> for ApiClient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spec = ClientSpec::deserialize(d)?;
        let mut secrets = spec.secrets.into_iter();
        let first = secrets.next().ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "client {} needs at least one secret",
                spec.client_id
            ))
        })?;
        let client = secrets.fold(
            ApiClient::new(spec.client_id, first),
            ApiClient::with_secret,
        );
        Ok(client.with_features(spec.features))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_validation() {
        assert!(ClientId::new("apkrahlfumwse2e9nvrrotv6vchuptzw").is_ok());
        assert_eq!(ClientId::new(""), Err(CredentialsError::EmptyClientId));
        assert_eq!(
            ClientId::new("a:b"),
            Err(CredentialsError::ClientIdCharacter {
                position: 1,
                byte: b':'
            })
        );
        assert_eq!(
            ClientId::new("a b"),
            Err(CredentialsError::ClientIdCharacter {
                position: 1,
                byte: b' '
            })
        );
        assert!(matches!(
            ClientId::new("é"),
            Err(CredentialsError::ClientIdCharacter { .. })
        ));
        assert_eq!(
            ClientId::new("x".repeat(257)),
            Err(CredentialsError::ClientIdTooLong)
        );
        assert!(ClientId::new("x".repeat(256)).is_ok());
    }

    #[test]
    fn secrets_are_redacted() {
        let s = ClientSecret::new("hijklmnop").unwrap();
        assert_eq!(format!("{s} {s:?}"), "<redacted> ClientSecret(<redacted>)");
        assert_eq!(
            ClientSecret::new("").err(),
            Some(CredentialsError::EmptySecret)
        );
    }

    #[test]
    fn rotation_and_basic() {
        let c = ApiClient::new(
            ClientId::new("c").unwrap(),
            ClientSecret::new("old").unwrap(),
        )
        .with_secret(ClientSecret::new("new").unwrap());
        assert!(c.verify_basic_secret("old"));
        assert!(c.verify_basic_secret("new"));
        assert!(!c.verify_basic_secret("ol"));
        assert!(!c.verify_basic_secret("oldx"));
        assert!(!c.verify_basic_secret(""));
        let params = [("a", "1")];
        let sts = StringToSign::new("/e", "2000-01-01 00:00:00", &params);
        let forms = [Canonicalization::CANONICAL];
        for secret in ["old", "new"] {
            let sig = SigningKey::new(secret).sign(&sts);
            assert!(
                c.verify_signature(&sts, &forms, sig.as_str().as_bytes())
                    .is_some()
            );
        }
        let sig = SigningKey::new("other").sign(&sts);
        assert!(
            c.verify_signature(&sts, &forms, sig.as_str().as_bytes())
                .is_none()
        );
    }

    #[test]
    fn from_json() {
        let c: ApiClient = serde_json::from_str(
            r#"{"client_id":"abc","secrets":["s1","s2"],"features":["owner","login_client"]}"#,
        )
        .unwrap();
        assert_eq!(c.secret_count(), 2);
        assert!(c.features().contains(Feature::Owner));
        assert!(c.features().contains(Feature::LoginClient));
        let dbg = format!("{c:?}");
        assert!(dbg.contains("<2 redacted>") && !dbg.contains("s1"), "{dbg}");
        for bad in [
            r#"{"client_id":"abc","secrets":[]}"#,
            r#"{"client_id":"a b","secrets":["s"]}"#,
            r#"{"client_id":"abc","secrets":[""]}"#,
            r#"{"client_id":"abc","secrets":["s"],"features":["root"]}"#,
            r#"{"client_id":"abc","secret":"s"}"#,
        ] {
            let err = serde_json::from_str::<ApiClient>(bad)
                .unwrap_err()
                .to_string();
            assert!(!err.contains("\"s\""), "{err}");
        }
    }

    #[test]
    fn access_tokens_are_checked_and_redacted() {
        let t = AccessToken::new("y2bz7eq8xx7mkdqk").unwrap();
        assert_eq!(t.expose(), "y2bz7eq8xx7mkdqk");
        assert_eq!(format!("{t} {t:?}"), "<redacted> AccessToken(<redacted>)");
        assert_eq!(
            AccessToken::new("").err(),
            Some(CredentialsError::EmptyAccessToken)
        );
        assert_eq!(
            AccessToken::new("ab cd").err(),
            Some(CredentialsError::AccessTokenCharacter { position: 2 })
        );
        assert_eq!(
            AccessToken::new("tok\r\n").err(),
            Some(CredentialsError::AccessTokenCharacter { position: 3 })
        );
        assert_eq!(
            AccessToken::new("x".repeat(MAX_ACCESS_TOKEN_LEN + 1)).err(),
            Some(CredentialsError::AccessTokenTooLong)
        );
        let err = serde_json::from_str::<AccessToken>(r#""secret token""#)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
        let t: AccessToken = serde_json::from_str(r#""abc""#).unwrap();
        assert_eq!(t.expose(), "abc");
    }
}
