//! [`RedisTokens`]: access tokens in Redis, under the SHA-256 of their text.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use ::redis::{IntoConnectionInfo, RedisError, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{RedisStoreBuilder, expect_ok, unexpected};
use crate::credentials::ClientId;
use crate::scheme::Datetime;
use crate::server::redis_conn::{Link, RedisTarget};
use crate::server::store::{StoreError, StoreFuture, TokenIssuer, TokenRecord, TokenVerifier};

/// A [`TokenVerifier`] over Redis: any node verifies the tokens any node issued.
///
/// A token lives under `{prefix}token:{sha256_hex(token)}` (never in the clear) as
/// `{"client_id": "...", "uuid": "...", "expires_at": "YYYY-MM-DD HH:MM:SS"}`, with a Redis
/// expiry at `expires_at`; the layer also checks `expires_at` itself, so a token past it is
/// refused even while its key still exists. Tokens are not cached on the node: one `GET`
/// per request that carries one, bounded by the timeout; when Redis cannot answer, the
/// lookup fails with [`StoreError`] (503).
///
/// ```no_run
/// use janrain_auth::credentials::ClientId;
/// use janrain_auth::server::TokenRecord;
/// use janrain_auth::server::redis_store::RedisClientStore;
/// use std::time::{Duration, SystemTime};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tokens = RedisClientStore::builder("redis://clients.internal:6379").build_tokens()?;
/// let record = TokenRecord::new(
///     ClientId::new("login_client")?,
///     SystemTime::now() + Duration::from_secs(3600),
/// )
/// .with_uuid("7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11");
/// tokens.issue("a-fresh-random-token", &record).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisTokens {
    pub(super) link: Arc<Link>,
    pub(super) prefix: String,
}

/// A token's record as stored.
#[derive(Deserialize)]
struct StoredToken {
    client_id: ClientId,
    #[serde(default)]
    uuid: Option<String>,
    expires_at: Datetime,
}

/// A token's record as written.
#[derive(Serialize)]
struct StoredTokenOut<'a> {
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uuid: Option<&'a str>,
    expires_at: Datetime,
}

impl RedisTokens {
    /// A verifier with the default prefix and timeout for the Redis at `url`.
    pub fn new(url: impl IntoConnectionInfo) -> Result<Self, RedisError> {
        RedisStoreBuilder::new(RedisTarget::url(url)).build_tokens()
    }

    /// The Redis key of a token: the prefix, `token:`, and the lowercase hex SHA-256 of the
    /// token's text.
    pub fn token_key(&self, token: &str) -> String {
        let digest = Sha256::digest(token.as_bytes());
        let mut key = String::with_capacity(self.prefix.len() + 6 + 64);
        key.push_str(&self.prefix);
        key.push_str("token:");
        for byte in digest {
            key.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            key.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
        }
        key
    }

    /// Record `token` as `record` says, with a Redis expiry at its `expires_at` (truncated to
    /// the second: a token never outlives its record). Any node then verifies it. A token
    /// already expired is removed instead. Needs Redis 6.2 or later (`SET ... EXAT`).
    pub async fn issue(&self, token: &str, record: &TokenRecord) -> Result<(), StoreError> {
        let expires_at = Datetime::from_system_time(record.expires_at).map_err(StoreError::new)?;
        let key = self.token_key(token);
        if record.is_expired_at(SystemTime::now()) {
            self.delete(key).await?;
            return Ok(());
        }
        let stored = StoredTokenOut {
            client_id: record.client_id.as_str(),
            uuid: record.uuid.as_deref(),
            expires_at,
        };
        let json = serde_json::to_string(&stored).map_err(StoreError::new)?;
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(key)
            .arg(json)
            .arg("EXAT")
            .arg(expires_at.unix_seconds());
        let answer = self.link.call(&cmd, "SET").await.map_err(StoreError::new)?;
        expect_ok(&self.link, answer, "SET")
    }

    /// Forget a token at once (sign-out). Whether it was known.
    pub async fn revoke(&self, token: &str) -> Result<bool, StoreError> {
        self.delete(self.token_key(token)).await
    }

    async fn delete(&self, key: String) -> Result<bool, StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        cmd.arg(key);
        match self.link.call(&cmd, "DEL").await.map_err(StoreError::new)? {
            Value::Int(n) => Ok(n > 0),
            other => Err(unexpected(&self.link, "DEL", &other)),
        }
    }

    async fn fetch(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        let mut cmd = ::redis::cmd("GET");
        cmd.arg(self.token_key(token));
        match self.link.call(&cmd, "GET").await.map_err(StoreError::new)? {
            Value::Nil => Ok(None),
            Value::BulkString(bytes) => {
                let stored: StoredToken = serde_json::from_slice(&bytes).map_err(|e| {
                    StoreError::new(format!(
                        "a token record in Redis is not valid ({:?} error at line {} column {})",
                        e.classify(),
                        e.line(),
                        e.column()
                    ))
                })?;
                Ok(Some(TokenRecord {
                    client_id: stored.client_id,
                    uuid: stored.uuid,
                    expires_at: stored.expires_at.to_system_time(),
                }))
            }
            other => Err(unexpected(&self.link, "GET", &other)),
        }
    }
}

impl TokenVerifier for RedisTokens {
    fn lookup(&self, token: &str) -> StoreFuture<Result<Option<TokenRecord>, StoreError>> {
        let (tokens, token) = (self.clone(), zeroize::Zeroizing::new(token.to_owned()));
        StoreFuture::new(async move { tokens.fetch(&token).await })
    }
}

impl TokenIssuer for RedisTokens {
    fn issue(&self, token: &str, record: TokenRecord) -> StoreFuture<Result<(), StoreError>> {
        let (tokens, token) = (self.clone(), zeroize::Zeroizing::new(token.to_owned()));
        StoreFuture::new(async move { RedisTokens::issue(&tokens, &token, &record).await })
    }
}

impl fmt::Debug for RedisTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokens")
            .field("server", &self.link.server())
            .field("key_prefix", &self.prefix)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_keys_are_the_hex_sha256_of_the_token() {
        let tokens = RedisTokens::new("redis://127.0.0.1:1").unwrap();
        assert_eq!(
            tokens.token_key("abc"),
            "janrain-auth:token:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
