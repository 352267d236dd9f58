//! API clients and access tokens kept in Redis, shared by every node (feature `redis`).
//!
//! The layout, under a prefix (default [`DEFAULT_PREFIX`], `janrain-auth:`):
//!
//! | key | value | expiry |
//! | --- | --- | --- |
//! | `{prefix}client:{client_id}` | `{"secrets": ["..."], "features": ["owner"]}` | none |
//! | `{prefix}token:{sha256_hex(token)}` | `{"client_id": "...", "uuid": "...", "expires_at": "YYYY-MM-DD HH:MM:SS"}` | at `expires_at` |
//!
//! A client's value has the shape of a client in the clients file ([`ClientsFile`]) without
//! its `client_id`, which is in the key. A token is stored under the lowercase hex SHA-256 of
//! its text, never in the clear; `uuid` is optional.
//!
//! ```no_run
//! use janrain_auth::server::VerifyLayer;
//! use janrain_auth::server::redis_store::RedisClientStore;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisClientStore::builder("redis://clients.internal:6379")
//!     .key_prefix("accounts-api:")
//!     .cache_ttl(Duration::from_secs(5))
//!     .build()?;
//! // Move an existing deployment over: its clients file, written into Redis once.
//! let imported = store.import(&std::fs::read_to_string("clients.json")?).await?;
//! println!("{} clients, {} tokens", imported.clients, imported.tokens);
//! let layer = VerifyLayer::builder(store.clone())
//!     .token_verifier(store.tokens())
//!     .build();
//! # let _ = layer; Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use ::redis::aio::ConnectionLike;
use ::redis::{IntoConnectionInfo, RedisError, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{ClientStore, LoadError, StoreError, StoreFuture};
use crate::credentials::{ApiClient, ClientId, ClientSecret};
use crate::permissions::Features;
use crate::server::redis_conn::{Link, RedisTarget, kind_of};

mod builder;
mod tokens;

pub use self::builder::RedisStoreBuilder;
pub use self::tokens::RedisTokens;

#[cfg(doc)]
use super::ClientsFile;

/// The default prefix of every key: `janrain-auth:`.
pub const DEFAULT_PREFIX: &str = "janrain-auth:";

/// The default lifetime of a client in the local cache: 5 s.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);

/// The default lifetime of "no such client" in the local cache: 1 s (never more than the
/// cache TTL).
pub const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(1);

/// The default number of unknown ids the local cache remembers at most: 10,000.
pub const DEFAULT_NEGATIVE_CAPACITY: usize = 10_000;

/// The default bound on each Redis call (connecting included): 250 ms.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// A [`ClientStore`] over Redis, with a local cache in front of it.
///
/// * **Hot path.** A client found in the cache and younger than the
///   [cache TTL](RedisStoreBuilder::cache_ttl) is answered at once: one read lock, no Redis
///   round trip, no allocation and no key setup (the cached [`ApiClient`] carries its keyed
///   HMAC states). When its TTL ends, the next lookup reads the record again (one `GET`); a
///   record that did not change keeps the same `Arc<ApiClient>`.
/// * **Unknown ids** are cached too, for the shorter [negative
///   TTL](RedisStoreBuilder::negative_ttl), and at most
///   [`negative_capacity`](RedisStoreBuilder::negative_capacity) of them: a burst of
///   requests with the same unknown id costs one `GET` per negative TTL, and junk ids cannot
///   grow the cache without bound.
/// * **Changes** made in Redis (a new secret, a removed one, other features, a new or deleted
///   client) are in force on every node within the cache TTL.
/// * **Failure.** Every call is bounded by the [timeout](RedisStoreBuilder::timeout). When
///   Redis cannot answer, a lookup that the cache cannot answer fails with [`StoreError`] (the
///   layer answers 503, never "unknown client"); cached clients keep working until their TTL
///   ends. Nothing connects at build time, so a node starts and serves while Redis is down,
///   and recovers by itself when Redis returns.
/// * **Corrupt records** (not JSON, no secret, an unknown feature) fail the lookup with
///   [`StoreError`], whose message never repeats the record.
///
/// Cloning is cheap and clones share the cache and the connection.
#[derive(Clone)]
pub struct RedisClientStore {
    shared: Arc<StoreShared>,
}

struct StoreShared {
    link: Arc<Link>,
    prefix: String,
    ttl: Duration,
    negative_ttl: Duration,
    negative_capacity: usize,
    cache: RwLock<Cache>,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Box<str>, Cached>,
    negatives: usize,
}

struct Cached {
    /// `None`: no such client.
    client: Option<Arc<ApiClient>>,
    /// SHA-256 of the record the client was built from: an unchanged record keeps its client.
    digest: [u8; 32],
    until: Instant,
}

/// What a client's record in Redis holds (the id is in the key).
#[derive(Deserialize)]
struct ClientRecord {
    secrets: Vec<ClientSecret>,
    #[serde(default)]
    features: Features,
}

/// A client as written into Redis.
#[derive(Serialize)]
struct ClientRecordOut<'a> {
    secrets: Vec<&'a str>,
    features: Features,
}

/// A client of a clients file, with every secret (an [`ApiClient`] keeps them keyed).
#[derive(Deserialize)]
struct FileClient {
    client_id: ClientId,
    secrets: Vec<ClientSecret>,
    #[serde(default)]
    features: Features,
}

#[derive(Deserialize)]
struct FileClients {
    clients: Vec<FileClient>,
}

impl RedisClientStore {
    /// Configure a store for the Redis at `url` (`redis://[user][:password@]host[:port][/db]`,
    /// ...). Nothing is connected until the first lookup.
    pub fn builder(url: impl IntoConnectionInfo) -> RedisStoreBuilder {
        RedisStoreBuilder::new(RedisTarget::url(url))
    }

    /// A store with the default prefix, cache and timeout for the Redis at `url`.
    pub fn new(url: impl IntoConnectionInfo) -> Result<Self, RedisError> {
        Self::builder(url).build()
    }

    /// Configure a store for a Redis Cluster, given some of its nodes (`redis://host:port`
    /// each). Nothing is connected until the first lookup; see
    /// [`RedisReplayGuard::cluster`](crate::server::replay::RedisReplayGuard::cluster) for how a
    /// cluster behaves while one master is down.
    pub fn cluster<T: IntoConnectionInfo>(nodes: impl IntoIterator<Item = T>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(RedisTarget::cluster(nodes))
    }

    /// Configure a store that sends its commands on `connection` (any cheaply cloneable async
    /// connection of the `redis` crate). The timeout still bounds every call.
    pub fn with_connection<C>(connection: C) -> RedisStoreBuilder
    where
        C: ConnectionLike + Clone + Send + Sync + 'static,
    {
        RedisStoreBuilder::new(RedisTarget::given(connection))
    }

    /// A token verifier on the same connection and prefix.
    pub fn tokens(&self) -> RedisTokens {
        RedisTokens {
            link: self.shared.link.clone(),
            prefix: self.shared.prefix.clone(),
        }
    }

    /// The server, as a URL with its password redacted (for logs).
    pub fn server(&self) -> &str {
        self.shared.link.server()
    }

    /// The prefix of every key.
    pub fn key_prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// How long a client stays in the local cache.
    pub fn cache_ttl(&self) -> Duration {
        self.shared.ttl
    }

    /// The Redis key of a client.
    pub fn client_key(&self, id: &str) -> String {
        format!("{}client:{id}", self.shared.prefix)
    }

    /// Send `PING`, under the timeout: whether Redis answers now. Nothing depends on it; use
    /// it to warn at startup or in a readiness probe.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let cmd = ::redis::cmd("PING");
        self.shared
            .link
            .call(&cmd, "PING")
            .await
            .map(drop)
            .map_err(StoreError::new)
    }

    /// Write a client into Redis (replacing any record of the same id), with every secret of
    /// `secrets` valid, the first one first. Other nodes see it within their cache TTL; this
    /// store at once.
    pub async fn put(
        &self,
        id: &ClientId,
        secrets: &[ClientSecret],
        features: Features,
    ) -> Result<(), StoreError> {
        if secrets.is_empty() {
            return Err(StoreError::new(format!(
                "client {id} needs at least one secret"
            )));
        }
        let record = ClientRecordOut {
            secrets: secrets.iter().map(ClientSecret::expose).collect(),
            features,
        };
        let json = Zeroizing::new(serde_json::to_string(&record).map_err(StoreError::new)?);
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(self.client_key(id.as_str())).arg(json.as_str());
        let answer = self.shared.link.call(&cmd, "SET").await;
        self.forget(id.as_str());
        expect_ok(&self.shared.link, answer.map_err(StoreError::new)?, "SET")
    }

    /// Delete a client from Redis. Other nodes stop accepting it within their cache TTL; this
    /// store at once. Whether it existed.
    pub async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        cmd.arg(self.client_key(id));
        let answer = self.shared.link.call(&cmd, "DEL").await;
        self.forget(id);
        match answer.map_err(StoreError::new)? {
            Value::Int(n) => Ok(n > 0),
            other => Err(unexpected(&self.shared.link, "DEL", &other)),
        }
    }

    /// Write the clients and tokens of a clients file (its JSON text) into Redis: each client
    /// replaces any record of the same id, each token is issued as by [`RedisTokens::issue`]
    /// (a token already expired is not written). The file is checked whole first, as
    /// [`ClientsFile::from_json`] does: an invalid file writes nothing.
    pub async fn import(&self, clients_file: &str) -> Result<Imported, ImportError> {
        let file = super::ClientsFile::from_json(clients_file)?;
        // The parsed clients keep only their keyed states; the secrets are read once more.
        let raw: FileClients = serde_json::from_str(clients_file).map_err(LoadError::Json)?;
        let mut imported = Imported::default();
        for client in &raw.clients {
            self.put(&client.client_id, &client.secrets, client.features)
                .await?;
            imported.clients += 1;
        }
        let tokens = self.tokens();
        let now = SystemTime::now();
        for grant in &file.tokens {
            let record = grant.record();
            if record.is_expired_at(now) {
                imported.expired_tokens += 1;
                continue;
            }
            tokens.issue(&grant.access_token, &record).await?;
            imported.tokens += 1;
        }
        Ok(imported)
    }

    /// Drop an id from the local cache.
    fn forget(&self, id: &str) {
        let mut cache = self.shared.write();
        if let Some(old) = cache.entries.remove(id)
            && old.client.is_none()
        {
            cache.negatives -= 1;
        }
    }

    /// The cached answer for `id`, if still fresh.
    fn cached(&self, id: &str) -> Option<Option<Arc<ApiClient>>> {
        let cache = self.shared.cache.read().unwrap_or_else(|e| e.into_inner());
        let entry = cache.entries.get(id)?;
        (entry.until > Instant::now()).then(|| entry.client.clone())
    }

    /// Read `id` from Redis and cache the answer.
    async fn fetch(&self, id: &str) -> Result<Option<Arc<ApiClient>>, StoreError> {
        let shared = &self.shared;
        let mut cmd = ::redis::cmd("GET");
        cmd.arg(self.client_key(id));
        let answer = shared
            .link
            .call(&cmd, "GET")
            .await
            .map_err(StoreError::new)?;
        let bytes = match answer {
            Value::Nil => {
                shared.remember(id, None, [0; 32], shared.negative_ttl);
                return Ok(None);
            }
            Value::BulkString(bytes) => Zeroizing::new(bytes),
            other => return Err(unexpected(&shared.link, "GET", &other)),
        };
        let digest: [u8; 32] = Sha256::digest(bytes.as_slice()).into();
        // An unchanged record keeps its client (and its keyed states).
        let unchanged = {
            let cache = shared.cache.read().unwrap_or_else(|e| e.into_inner());
            cache
                .entries
                .get(id)
                .filter(|entry| entry.digest == digest)
                .and_then(|entry| entry.client.clone())
        };
        let client = match unchanged {
            Some(client) => client,
            None => Arc::new(parse_client(id, &bytes)?),
        };
        shared.remember(id, Some(client.clone()), digest, shared.ttl);
        Ok(Some(client))
    }
}

impl StoreShared {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, id: &str, client: Option<Arc<ApiClient>>, digest: [u8; 32], ttl: Duration) {
        let now = Instant::now();
        let until = now + ttl;
        let negative = client.is_none();
        let mut cache = self.write();
        if negative && cache.negatives >= self.negative_capacity {
            // Make room from expired entries; if none, this answer is not cached.
            cache.entries.retain(|_, entry| entry.until > now);
            cache.negatives = cache
                .entries
                .values()
                .filter(|entry| entry.client.is_none())
                .count();
            if cache.negatives >= self.negative_capacity {
                return;
            }
        }
        let old = cache.entries.insert(
            id.into(),
            Cached {
                client,
                digest,
                until,
            },
        );
        if old.is_some_and(|old| old.client.is_none()) {
            cache.negatives -= 1;
        }
        if negative {
            cache.negatives += 1;
        }
    }
}

fn parse_client(id: &str, bytes: &[u8]) -> Result<ApiClient, StoreError> {
    let invalid = |why: String| StoreError::new(format!("the Redis record of client {id} {why}"));
    // serde's messages can quote the input (a secret): only the position is reported.
    let record: ClientRecord = serde_json::from_slice(bytes).map_err(|e| {
        invalid(format!(
            "is not a valid client record ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let id = ClientId::new(id).map_err(|e| invalid(e.to_string()))?;
    let mut secrets = record.secrets.into_iter();
    let first = secrets
        .next()
        .ok_or_else(|| invalid("has no secret".to_owned()))?;
    Ok(secrets
        .fold(ApiClient::new(id, first), ApiClient::with_secret)
        .with_features(record.features))
}

fn expect_ok(link: &Link, value: Value, name: &'static str) -> Result<(), StoreError> {
    match value {
        Value::Okay => Ok(()),
        Value::SimpleString(s) if s == "OK" => Ok(()),
        other => Err(unexpected(link, name, &other)),
    }
}

fn unexpected(link: &Link, name: &str, value: &Value) -> StoreError {
    StoreError::new(link.failure(format!("{name} answered {}", kind_of(value))))
}

impl ClientStore for RedisClientStore {
    fn client(&self, id: &str) -> StoreFuture<Result<Option<Arc<ApiClient>>, StoreError>> {
        match self.cached(id) {
            Some(answer) => StoreFuture::ready(Ok(answer)),
            None => {
                let (store, id) = (self.clone(), id.to_owned());
                StoreFuture::new(async move { store.fetch(&id).await })
            }
        }
    }
}

impl fmt::Debug for RedisClientStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cache = self.shared.cache.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("RedisClientStore")
            .field("server", &self.shared.link.server())
            .field("key_prefix", &self.shared.prefix)
            .field("cache_ttl", &self.shared.ttl)
            .field("negative_ttl", &self.shared.negative_ttl)
            .field("cached", &cache.entries.len())
            .finish()
    }
}

/// What [`RedisClientStore::import`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Imported {
    /// Clients written.
    pub clients: usize,
    /// Tokens written.
    pub tokens: usize,
    /// Tokens of the file that had already expired, not written.
    pub expired_tokens: usize,
}

/// Why [`RedisClientStore::import`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The clients file is invalid; nothing was written.
    #[error(transparent)]
    File(#[from] LoadError),
    /// Redis failed; what was written before stays.
    #[error(transparent)]
    Redis(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_records_fail_without_quoting_them() {
        for record in [
            &br#"{"secrets": "hunter2-secret", "features": []}"#[..],
            br#"{"secrets": [], "features": []}"#,
            br#"{"secrets": ["hunter2-secret"], "features": ["hunter2-feature"]}"#,
            b"hunter2-secret",
        ] {
            let e = parse_client("c", record).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
            assert!(e.contains("client c"), "{e}");
        }
        let client =
            parse_client("c", br#"{"secrets": ["a", "b"], "features": ["owner"]}"#).unwrap();
        assert_eq!(client.secret_count(), 2);
        assert_eq!(client.secret().expose(), "a");
    }

    #[test]
    fn passwords_are_redacted() {
        let store = RedisClientStore::new("redis://:hunter2@127.0.0.1:1/0").unwrap();
        for shown in [
            format!("{store:?}"),
            format!("{:?}", store.tokens()),
            format!("{:?}", RedisClientStore::builder("redis://:hunter2@h:1")),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
    }
}
