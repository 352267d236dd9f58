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

use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;

use crate::permissions::{Feature, Features};
pub use crate::scheme::ids::{
    AccessToken, ClientId, ClientSecret, CredentialsError, MAX_ACCESS_TOKEN_LEN, MAX_CLIENT_ID_LEN,
};
use crate::scheme::{Canonicalization, Params, SigningKey, StringToSign};

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
