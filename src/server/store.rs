//! Where the verification layer finds API clients and checks access tokens.
//!
//! [`ClientStore`] and [`TokenVerifier`] are async traits, so a real deployment can look clients
//! up in a database or a cache; [`MemoryStore`] and [`MemoryTokens`] keep them in memory, built
//! in code or loaded from a JSON file ([`ClientsFile`]):
//!
//! ```json
//! {"clients": [{"client_id": "...", "secrets": ["...", "..."], "features": ["owner"]}],
//!  "tokens":  [{"access_token": "...", "client_id": "...", "uuid": "...",
//!               "expires_at": "2030-01-01 00:00:00"}]}
//! ```
//!
//! A token's `uuid` (the user it stands for) is optional.
//!
//! Whatever the store, build each [`ApiClient`] once and hand out `Arc`s: its HMAC states are
//! keyed when it is built, never per request.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use serde::Deserialize;

use crate::credentials::{ApiClient, ClientId};
use crate::scheme::Datetime;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

/// The future every store the layer asks returns ([`ClientStore`], [`TokenVerifier`],
/// [`TokenIssuer`] and the replay guards): an answer ready at once (an in-memory lookup:
/// nothing allocated, nothing to wait for), or any future that owns what it needs (a database
/// query, boxed).
///
/// ```
/// use std::sync::Arc;
///
/// use janrain_auth::credentials::ApiClient;
/// use janrain_auth::server::{ClientStore, StoreError, StoreFuture};
///
/// /// Clients behind an async database handle (here, a stand-in).
/// #[derive(Clone)]
/// struct Database;
///
/// impl Database {
///     async fn client(&self, _id: String) -> Result<Option<Arc<ApiClient>>, StoreError> {
///         Ok(None)
///     }
/// }
///
/// impl ClientStore for Database {
///     fn client(&self, id: &str) -> StoreFuture<Result<Option<Arc<ApiClient>>, StoreError>> {
///         // The future owns a handle and the id: nothing in it borrows the store.
///         let (db, id) = (self.clone(), id.to_owned());
///         StoreFuture::new(async move { db.client(id).await })
///     }
/// }
/// ```
pub struct StoreFuture<T>(Pending<T>);

enum Pending<T> {
    Ready(Option<T>),
    Boxed(Pin<Box<dyn Future<Output = T> + Send>>),
}

impl<T> StoreFuture<T> {
    /// An answer available now.
    pub fn ready(value: T) -> Self {
        StoreFuture(Pending::Ready(Some(value)))
    }

    /// An answer that `future` will give.
    pub fn new(future: impl Future<Output = T> + Send + 'static) -> Self {
        StoreFuture(Pending::Boxed(Box::pin(future)))
    }
}

// The answer is moved out whole, never pinned in place.
impl<T> Unpin for StoreFuture<T> {}

impl<T> Future for StoreFuture<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match &mut self.get_mut().0 {
            // Taken once; a future polled after completion may stay pending forever.
            Pending::Ready(value) => value.take().map_or(Poll::Pending, Poll::Ready),
            Pending::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for StoreFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreFuture")
    }
}

/// A store that gives each answer of `S` one poll later than `S` gives it, as any store
/// across a network does at the least: for tests of the paths where the layer waits for a
/// store, with the clients, tokens and replay guard still in memory.
///
/// ```
/// use janrain_auth::server::{Deferred, MemoryStore, MemoryTokens, VerifyLayer};
/// use janrain_auth::server::replay::MemoryReplayGuard;
///
/// let layer = VerifyLayer::builder(Deferred(MemoryStore::new()))
///     .token_verifier(Deferred(MemoryTokens::new()))
///     .replay_guard(Deferred(MemoryReplayGuard::new()))
///     .build();
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Deferred<S>(pub S);

impl<S> Deferred<S> {
    /// `answer`, one poll later.
    pub(crate) fn later<T: Send + 'static>(answer: StoreFuture<T>) -> StoreFuture<T> {
        StoreFuture::new(async move {
            OnePoll(false).await;
            answer.await
        })
    }
}

/// Pending once (waking its task at once), then ready.
struct OnePoll(bool);

impl Future for OnePoll {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S: ClientStore> ClientStore for Deferred<S> {
    fn client(&self, id: &str) -> StoreFuture<Result<Option<Arc<ApiClient>>, StoreError>> {
        Self::later(self.0.client(id))
    }
}

impl<S: TokenVerifier> TokenVerifier for Deferred<S> {
    fn lookup(&self, token: &str) -> StoreFuture<Result<Option<TokenRecord>, StoreError>> {
        Self::later(self.0.lookup(token))
    }
}

impl<S: TokenIssuer> TokenIssuer for Deferred<S> {
    fn issue(&self, token: &str, record: TokenRecord) -> StoreFuture<Result<(), StoreError>> {
        Self::later(self.0.issue(token, record))
    }
}

/// A store or token verifier failed (as opposed to "not found").
#[derive(Debug, thiserror::Error)]
#[error("client store failed: {0}")]
pub struct StoreError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wrap any error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError(error.into())
    }
}

/// Looks API clients up by id.
pub trait ClientStore: Send + Sync + 'static {
    /// The client with this id, or `None`. `id` is a syntactically valid client id. The
    /// future owns what it needs (see [`StoreFuture`]).
    fn client(&self, id: &str) -> StoreFuture<Result<Option<Arc<ApiClient>>, StoreError>>;
}

impl<T: ClientStore + ?Sized> ClientStore for Arc<T> {
    fn client(&self, id: &str) -> StoreFuture<Result<Option<Arc<ApiClient>>, StoreError>> {
        (**self).client(id)
    }
}

/// Clients held in memory.
///
/// ```
/// use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
/// use janrain_auth::permissions::Feature;
/// use janrain_auth::server::MemoryStore;
///
/// let store = MemoryStore::new().with(
///     ApiClient::new(ClientId::new("reader")?, ClientSecret::new("s3cret")?)
///         .with_feature(Feature::DirectReadAccess),
/// );
/// assert!(store.get("reader").is_some());
/// # Ok::<(), janrain_auth::credentials::CredentialsError>(())
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    // foldhash rather than the standard SipHash: each request looks a client id up, and the
    // ids are short. Looking up ids an attacker chooses cannot slow a table it cannot grow
    // (the clients come from the server's own configuration), and foldhash is seeded
    // randomly per process all the same.
    clients: HashMap<ClientId, Arc<ApiClient>, foldhash::fast::RandomState>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Add (or replace) a client.
    pub fn insert(&mut self, client: ApiClient) -> Option<Arc<ApiClient>> {
        self.clients.insert(client.id().clone(), Arc::new(client))
    }

    /// This store with `client` added.
    pub fn with(mut self, client: ApiClient) -> Self {
        self.insert(client);
        self
    }

    /// The client with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<ApiClient>> {
        self.clients.get(id)
    }

    /// Remove a client.
    pub fn remove(&mut self, id: &str) -> Option<Arc<ApiClient>> {
        self.clients.remove(id)
    }

    /// The clients, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<ApiClient>> {
        self.clients.values()
    }

    /// How many clients there are.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

impl ClientStore for MemoryStore {
    fn client(&self, id: &str) -> StoreFuture<Result<Option<Arc<ApiClient>>, StoreError>> {
        StoreFuture::ready(Ok(self.clients.get(id).cloned()))
    }
}

impl FromIterator<ApiClient> for MemoryStore {
    fn from_iter<I: IntoIterator<Item = ApiClient>>(iter: I) -> Self {
        let mut store = MemoryStore::new();
        for client in iter {
            store.insert(client);
        }
        store
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.clients.values()).finish()
    }
}

/// What a [`TokenVerifier`] knows about an access token: the client it was issued to, the user
/// it stands for (if any) and when it stops being valid. Holds no token, so `Debug` shows it
/// whole.
///
/// ```
/// use janrain_auth::credentials::ClientId;
/// use janrain_auth::server::TokenRecord;
///
/// let until: janrain_auth::scheme::Datetime = "2030-01-01 00:00:00".parse().unwrap();
/// let record = TokenRecord::new(ClientId::new("login_client").unwrap(), until.to_system_time())
///     .with_uuid("7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11");
/// assert_eq!(record.uuid.as_deref(), Some("7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRecord {
    /// The login client the token was issued to.
    pub client_id: ClientId,
    /// The user the token stands for, when the issuer recorded one.
    pub uuid: Option<String>,
    /// The first instant at which the token is no longer valid.
    pub expires_at: SystemTime,
}

impl TokenRecord {
    /// A token issued to `client_id`, valid until `expires_at` (exclusive), for no named user.
    pub fn new(client_id: ClientId, expires_at: SystemTime) -> Self {
        TokenRecord {
            client_id,
            uuid: None,
            expires_at,
        }
    }

    /// This record, naming the user the token stands for.
    pub fn with_uuid(mut self, uuid: impl Into<String>) -> Self {
        self.uuid = Some(uuid.into());
        self
    }

    /// Whether the token is expired at `now` (it is from `expires_at` on).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        now >= self.expires_at
    }
}

/// Resolves an access token to what was recorded when it was issued. The verification layer
/// then decides: a token issued to another client, or past its `expires_at`, is refused.
pub trait TokenVerifier: Send + Sync + 'static {
    /// The record of `token`, or `None` when this verifier does not know it. An `Err` means
    /// the verifier could not answer (the layer then refuses the request with 503).
    fn lookup(&self, token: &str) -> StoreFuture<Result<Option<TokenRecord>, StoreError>>;
}

/// Records access tokens as they are issued, so that the [`TokenVerifier`] of the same store
/// answers for them at once (on every node sharing the store, for a shared one).
pub trait TokenIssuer: TokenVerifier {
    /// Record `token` with `record`. An `Err` means the store could not record it; the token
    /// must then not be handed out.
    fn issue(&self, token: &str, record: TokenRecord) -> StoreFuture<Result<(), StoreError>>;
}

impl<T: TokenIssuer + ?Sized> TokenIssuer for Arc<T> {
    fn issue(&self, token: &str, record: TokenRecord) -> StoreFuture<Result<(), StoreError>> {
        (**self).issue(token, record)
    }
}

/// [`MemoryTokens`] that can be issued while the server runs: share it (`Arc`) between the
/// layer, which verifies, and the handler that issues.
#[derive(Default)]
pub struct SharedTokens {
    tokens: std::sync::RwLock<MemoryTokens>,
}

impl SharedTokens {
    /// Start from `tokens`.
    pub fn new(tokens: MemoryTokens) -> Self {
        SharedTokens {
            tokens: std::sync::RwLock::new(tokens),
        }
    }
}

impl TokenVerifier for SharedTokens {
    fn lookup(&self, token: &str) -> StoreFuture<Result<Option<TokenRecord>, StoreError>> {
        // A poisoned lock still holds a consistent map (inserts are single calls).
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        StoreFuture::ready(Ok(tokens.get(token).cloned()))
    }
}

impl TokenIssuer for SharedTokens {
    fn issue(&self, token: &str, record: TokenRecord) -> StoreFuture<Result<(), StoreError>> {
        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        tokens.insert(token, record);
        StoreFuture::ready(Ok(()))
    }
}

impl fmt::Debug for SharedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        write!(f, "SharedTokens(<{} redacted>)", tokens.len())
    }
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for Arc<T> {
    fn lookup(&self, token: &str) -> StoreFuture<Result<Option<TokenRecord>, StoreError>> {
        (**self).lookup(token)
    }
}

/// Access tokens held in memory, each issued to one client until a datetime. For tests, demos
/// and single nodes; several nodes share tokens through a store such as `RedisTokens` (feature
/// `redis`).
///
/// Tokens are looked up in a `HashMap` with a randomly keyed hash, so lookup time reveals
/// nothing useful about stored tokens.
#[derive(Clone, Default)]
pub struct MemoryTokens {
    tokens: HashMap<Box<str>, TokenRecord>,
}

impl MemoryTokens {
    /// No tokens.
    pub fn new() -> Self {
        MemoryTokens::default()
    }

    /// Record a token issued to `client_id`, valid until `expires_at` (exclusive).
    pub fn issue(&mut self, token: impl Into<String>, client_id: ClientId, expires_at: Datetime) {
        self.insert(
            token,
            TokenRecord::new(client_id, expires_at.to_system_time()),
        );
    }

    /// Record a token with everything its record says (a user's uuid, an expiry below the
    /// second); the record it replaces, if any.
    pub fn insert(&mut self, token: impl Into<String>, record: TokenRecord) -> Option<TokenRecord> {
        self.tokens.insert(token.into().into_boxed_str(), record)
    }

    /// This set with one more token.
    pub fn with(
        mut self,
        token: impl Into<String>,
        client_id: ClientId,
        expires_at: Datetime,
    ) -> Self {
        self.issue(token, client_id, expires_at);
        self
    }

    /// Forget a token; its record, if it was known.
    pub fn remove(&mut self, token: &str) -> Option<TokenRecord> {
        self.tokens.remove(token)
    }

    /// The record of a token.
    pub fn get(&self, token: &str) -> Option<&TokenRecord> {
        self.tokens.get(token)
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

impl TokenVerifier for MemoryTokens {
    fn lookup(&self, token: &str) -> StoreFuture<Result<Option<TokenRecord>, StoreError>> {
        StoreFuture::ready(Ok(self.tokens.get(token).cloned()))
    }
}

impl fmt::Debug for MemoryTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemoryTokens(<{} redacted>)", self.tokens.len())
    }
}

/// Why a clients file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The JSON is invalid or has the wrong shape.
    #[error("invalid clients file: {0}")]
    Json(#[from] serde_json::Error),
    /// A token names a client that is not in the file.
    #[error("token #{index} names client {client_id}, which is not in the file")]
    UnknownTokenClient {
        /// Zero-based index in `tokens`.
        index: usize,
        /// The client id.
        client_id: String,
    },
}

/// The JSON clients file: API clients and (optionally) access tokens issued to them.
///
/// ```json
/// {"clients": [{"client_id": "reader_client", "secrets": ["first", "next"],
///               "features": ["direct_read_access"]}],
///  "tokens":  [{"access_token": "...", "client_id": "login_client",
///               "expires_at": "2030-01-01 00:00:00", "uuid": "..."}]}
/// ```
///
/// `secrets`: one or more (any of them is accepted, for rotation); `features`: any of
/// `owner`, `access_issuer`, `direct_access`, `direct_read_access`, `login_client`,
/// `metadata`; `tokens` (optional): `expires_at` in UTC as `YYYY-MM-DD HH:MM:SS`, `uuid` (the
/// user the token stands for) optional. Unknown fields are refused. The [guide](crate::guide)
/// explains each field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsFile {
    /// The clients.
    pub clients: Vec<ApiClient>,
    /// The tokens.
    #[serde(default)]
    pub tokens: Vec<TokenGrant>,
}

/// One access token in a [`ClientsFile`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenGrant {
    /// The token.
    pub access_token: String,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user the token stands for (optional).
    #[serde(default)]
    pub uuid: Option<String>,
    /// When it stops being valid (`YYYY-MM-DD HH:MM:SS` UTC).
    pub expires_at: Datetime,
}

impl TokenGrant {
    /// What a [`TokenVerifier`] records for this token.
    pub fn record(&self) -> TokenRecord {
        TokenRecord {
            client_id: self.client_id.clone(),
            uuid: self.uuid.clone(),
            expires_at: self.expires_at.to_system_time(),
        }
    }
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant")
            .field("access_token", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("uuid", &self.uuid)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl ClientsFile {
    /// Parse the JSON text of a clients file.
    pub fn from_json(text: &str) -> Result<Self, LoadError> {
        let file: ClientsFile = serde_json::from_str(text)?;
        for (index, grant) in file.tokens.iter().enumerate() {
            if !file.clients.iter().any(|c| c.id() == &grant.client_id) {
                return Err(LoadError::UnknownTokenClient {
                    index,
                    client_id: grant.client_id.to_string(),
                });
            }
        }
        Ok(file)
    }

    /// Read and parse a clients file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// The clients as a store and the tokens as a verifier.
    pub fn into_parts(self) -> (MemoryStore, MemoryTokens) {
        let store = self.clients.into_iter().collect();
        let mut tokens = MemoryTokens::new();
        for grant in self.tokens {
            let record = grant.record();
            tokens.insert(grant.access_token, record);
        }
        (store, tokens)
    }
}

#[cfg(test)]
mod tests;
