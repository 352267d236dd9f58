//! [`RedisStoreBuilder`]: the connection, prefix and timeout a [`RedisClientStore`] and a
//! [`RedisTokens`] share, and the client store's cache settings.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ::redis::RedisError;

use super::{
    DEFAULT_CACHE_TTL, DEFAULT_NEGATIVE_CAPACITY, DEFAULT_NEGATIVE_TTL, DEFAULT_PREFIX,
    DEFAULT_TIMEOUT, RedisClientStore, RedisTokens, StoreShared,
};
use crate::server::redis_conn::RedisTarget;

/// Configures a [`RedisClientStore`] (or a [`RedisTokens`]).
pub struct RedisStoreBuilder {
    target: RedisTarget,
    prefix: String,
    timeout: Duration,
    ttl: Duration,
    negative_ttl: Duration,
    negative_capacity: usize,
}

impl RedisStoreBuilder {
    pub(super) fn new(target: RedisTarget) -> Self {
        RedisStoreBuilder {
            target,
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            ttl: DEFAULT_CACHE_TTL,
            negative_ttl: DEFAULT_NEGATIVE_TTL,
            negative_capacity: DEFAULT_NEGATIVE_CAPACITY,
        }
    }

    /// The prefix of every key (default [`DEFAULT_PREFIX`]). Every node of one application
    /// must use the same one.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest a call to Redis may take, connecting included (default
    /// [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a client read from Redis is used without asking again (default
    /// [`DEFAULT_CACHE_TTL`]): the longest a change made in Redis takes to be in force on a
    /// node, and the longest a node keeps accepting cached clients while Redis is down.
    /// `Duration::ZERO` caches nothing (a round trip per request).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long "no such client" is cached (default [`DEFAULT_NEGATIVE_TTL`]; never more than
    /// the cache TTL, so a new client is in force within the cache TTL too).
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// How many unknown ids are cached at most (default [`DEFAULT_NEGATIVE_CAPACITY`]). When
    /// it is reached, expired entries are dropped; if none, further unknown ids are simply
    /// not cached.
    pub fn negative_capacity(mut self, capacity: usize) -> Self {
        self.negative_capacity = capacity;
        self
    }

    /// The store. Fails only when the URL is not a valid Redis URL; it connects to nothing.
    pub fn build(self) -> Result<RedisClientStore, RedisError> {
        Ok(RedisClientStore {
            shared: Arc::new(StoreShared {
                link: Arc::new(self.target.build(self.timeout)?),
                prefix: self.prefix,
                negative_ttl: self.negative_ttl.min(self.ttl),
                ttl: self.ttl,
                negative_capacity: self.negative_capacity,
                cache: RwLock::default(),
            }),
        })
    }

    /// A token verifier with this connection, prefix and timeout (the cache settings do not
    /// apply: tokens are not cached).
    pub fn build_tokens(self) -> Result<RedisTokens, RedisError> {
        Ok(RedisTokens {
            link: Arc::new(self.target.build(self.timeout)?),
            prefix: self.prefix,
        })
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("server", &self.target.describe())
            .field("key_prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("cache_ttl", &self.ttl)
            .finish()
    }
}
