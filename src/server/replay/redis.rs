//! [`RedisReplayGuard`]: one shared Redis for any number of nodes (feature `redis`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::ConnectionLike;
use ::redis::{IntoConnectionInfo, RedisError, Value};

use super::{ReplayGuard, ReplayGuardError, ReplayKey, ReplayVerdict};
use crate::server::StoreFuture;
use crate::server::redis_conn::{Link, RedisTarget, kind_of};

/// The default prefix of the guard's keys.
pub const DEFAULT_KEY_PREFIX: &str = "janrain-auth:replay:";

/// The default bound on each Redis call (connecting included): 250 ms.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// A [`ReplayGuard`] kept in Redis, shared by every node that points at the same Redis.
///
/// Each signed request costs **one** atomic command, `SET {prefix}{client_id}:{signature} 1 NX
/// PX {ttl_ms}`: `OK` means [`Fresh`](ReplayVerdict::Fresh) (now recorded), nil means
/// [`Replayed`](ReplayVerdict::Replayed). Redis runs commands one at a time, so of any number
/// of concurrent identical requests, on any nodes, exactly one is fresh; the key expires by
/// itself when the request leaves the date window. Nothing is kept on the node.
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use janrain_auth::server::{ClientsFile, VerifyLayer};
/// use janrain_auth::server::replay::RedisReplayGuard;
/// use std::time::Duration;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // No connection yet: the guard connects on the first request and reconnects by itself.
/// let guard = RedisReplayGuard::builder("redis://:password@redis.internal:6379/0")
///     .key_prefix("myapp:replay:")
///     .timeout(Duration::from_millis(250))
///     .build()?;
/// // The password is redacted.
/// assert!(!format!("{guard:?}").contains("password"));
///
/// let (store, _tokens) = ClientsFile::load("clients.json")?.into_parts();
/// let app: Router = Router::new()
///     .route("/entity.find", post(|| async { "ok" }))
///     .layer(VerifyLayer::builder(store).replay_guard(guard).build());
/// # Ok(()) }
/// ```
///
/// * **Connection.** [`builder`](Self::builder) takes a `redis://` URL (or anything the
///   `redis` crate turns into a `ConnectionInfo`) and opens no connection: Redis need not be
///   up when the guard is built, nor when the server starts, and the guard can be built
///   outside any runtime. The first request, inside the Tokio runtime (with its time driver,
///   as `#[tokio::main]` sets up), creates a [`ConnectionManager`](::redis::aio::ConnectionManager) (one multiplexed connection shared by
///   all requests, re-established after an I/O error). Call [`ping`](Self::ping) at startup
///   or from a readiness probe to find out early. For a Redis Cluster, use
///   [`cluster`](Self::cluster) with some of its nodes. To bring your own connection
///   (Sentinel, TLS, your own manager), use [`with_connection`](Self::with_connection).
/// * **Timeout.** Every call, connecting included, is bounded by
///   [`timeout`](RedisReplayGuardBuilder::timeout) (default [`DEFAULT_TIMEOUT`]), so a hung or
///   unreachable Redis delays a request by at most that much. A refused connection is retried
///   once within the same bound (the command was certainly not sent, so the retry cannot turn
///   a fresh request into a replay); no other error is retried.
/// * **Failure.** When Redis cannot answer in time the guard returns [`ReplayGuardError`]: the
///   layer then answers 503 `replay_guard_unavailable`, or lets the request through with a
///   warning under [`replay_fail_open`](crate::server::VerifyLayerBuilder::replay_fail_open).
///   The error names the server's address, never its password, the key or the signature.
pub struct RedisReplayGuard {
    link: Arc<Link>,
    prefix: String,
}

impl RedisReplayGuard {
    /// Configure a guard for the Redis at `url` (`redis://[user][:password@]host[:port][/db]`,
    /// `redis+unix:///path`, ...). Nothing is connected until the first request.
    pub fn builder(url: impl IntoConnectionInfo) -> RedisReplayGuardBuilder {
        RedisReplayGuardBuilder::new(RedisTarget::url(url))
    }

    /// A guard with the default key prefix and timeout for the Redis at `url`.
    pub fn new(url: impl IntoConnectionInfo) -> Result<Self, RedisError> {
        Self::builder(url).build()
    }

    /// Configure a guard for a Redis Cluster, given some of its nodes (`redis://host:port`
    /// each; one that answers is enough to learn the others). Nothing is connected until the
    /// first request; the connection then follows the cluster's slots and reconnects to a
    /// node that comes back by itself.
    ///
    /// Each key lives on the master of its slot, so the keys of different requests spread
    /// over every master. While a master is down, the requests whose keys hash to its slots
    /// get [`ReplayGuardError`] (503 when failing closed) within the timeout; the others are
    /// unaffected, provided the cluster runs with `cluster-require-full-coverage no` (with
    /// the default, `yes`, Redis itself refuses every command while any slot is unserved).
    /// A master without replicas comes back empty unless it persists its data: the
    /// requests recorded on it before it stopped could then be replayed within the window.
    pub fn cluster<T: IntoConnectionInfo>(
        nodes: impl IntoIterator<Item = T>,
    ) -> RedisReplayGuardBuilder {
        RedisReplayGuardBuilder::new(RedisTarget::cluster(nodes))
    }

    /// Configure a guard that sends its commands on `connection`: any cheaply cloneable
    /// async connection of the `redis` crate, such as a [`ConnectionManager`](::redis::aio::ConnectionManager), a
    /// `MultiplexedConnection`, or a `cluster_async::ClusterConnection`. Reconnecting is then
    /// the connection's business; the guard's timeout still bounds every call.
    pub fn with_connection<C>(connection: C) -> RedisReplayGuardBuilder
    where
        C: ConnectionLike + Clone + Send + Sync + 'static,
    {
        RedisReplayGuardBuilder::new(RedisTarget::given(connection))
    }

    /// The server, as a URL with its password redacted (for logs).
    pub fn server(&self) -> &str {
        self.link.server()
    }

    /// The prefix of every key.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The bound on each call.
    pub fn timeout(&self) -> Duration {
        self.link.timeout()
    }

    /// Send `PING`, under the same timeout as every call: whether Redis answers now. Nothing
    /// depends on it; use it to warn at startup or in a readiness probe. (On a cluster, one
    /// node answering is enough.)
    pub async fn ping(&self) -> Result<(), ReplayGuardError> {
        let cmd = ::redis::cmd("PING");
        self.link
            .call(&cmd, "PING")
            .await
            .map(drop)
            .map_err(ReplayGuardError::new)
    }
}

impl ReplayGuard for RedisReplayGuard {
    fn check_and_record(
        &self,
        key: ReplayKey<'_>,
        ttl: Duration,
    ) -> StoreFuture<Result<ReplayVerdict, ReplayGuardError>> {
        let mut name =
            Vec::with_capacity(self.prefix.len() + key.client_id.len() + 1 + key.signature.len());
        name.extend_from_slice(self.prefix.as_bytes());
        name.extend_from_slice(key.client_id.as_bytes());
        name.push(b':');
        name.extend_from_slice(key.signature.as_bytes());
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(name).arg(1).arg("NX").arg("PX").arg(millis);
        let link = self.link.clone();
        StoreFuture::new(async move {
            let answer = link
                .call(&cmd, "SET NX")
                .await
                .map_err(ReplayGuardError::new)?;
            match answer {
                Value::Okay => Ok(ReplayVerdict::Fresh),
                Value::SimpleString(s) if s == "OK" => Ok(ReplayVerdict::Fresh),
                Value::Nil => Ok(ReplayVerdict::Replayed),
                other => Err(ReplayGuardError::new(link.failure(format!(
                    "SET NX answered {}, not OK or nil",
                    kind_of(&other)
                )))),
            }
        })
    }
}

impl fmt::Debug for RedisReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayGuard")
            .field("server", &self.link.server())
            .field("key_prefix", &self.prefix)
            .field("timeout", &self.link.timeout())
            .finish()
    }
}

/// Configures a [`RedisReplayGuard`].
pub struct RedisReplayGuardBuilder {
    target: RedisTarget,
    prefix: String,
    timeout: Duration,
}

impl RedisReplayGuardBuilder {
    fn new(target: RedisTarget) -> Self {
        RedisReplayGuardBuilder {
            target,
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The prefix of every key (default [`DEFAULT_KEY_PREFIX`]). Keys are
    /// `{prefix}{client_id}:{signature}`. Give each application its own prefix when several
    /// share a Redis; every node of one application must use the same one.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest a call to Redis may take, connecting included (default
    /// [`DEFAULT_TIMEOUT`]). Past it the guard returns [`ReplayGuardError`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The guard. Fails only when a URL is not a valid Redis URL (or names a transport this
    /// build of the `redis` crate lacks, such as TLS); it connects to nothing.
    pub fn build(self) -> Result<RedisReplayGuard, RedisError> {
        Ok(RedisReplayGuard {
            link: Arc::new(self.target.build(self.timeout)?),
            prefix: self.prefix,
        })
    }
}

impl fmt::Debug for RedisReplayGuardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayGuardBuilder")
            .field("server", &self.target.describe())
            .field("key_prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        for (url, shown) in [
            (
                "redis://:hunter2@cache.internal:6380/3",
                "redis://:<redacted>@cache.internal:6380/3",
            ),
            (
                "redis://app:hunter2@cache.internal",
                "redis://app:<redacted>@cache.internal:6379/0",
            ),
            (
                "redis://app@cache.internal",
                "redis://app@cache.internal:6379/0",
            ),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0"),
            (
                "redis+unix:///run/redis.sock?pass=hunter2",
                "redis+unix://:<redacted>@/run/redis.sock?db=0",
            ),
        ] {
            let guard = RedisReplayGuard::new(url).unwrap();
            let debug = format!("{guard:?}");
            assert!(debug.contains(shown), "{debug}");
            assert!(!debug.contains("hunter2"), "{debug}");
            let builder = format!("{:?}", RedisReplayGuard::builder(url));
            assert!(!builder.contains("hunter2"), "{builder}");
        }
    }

    #[test]
    fn invalid_urls_fail_at_build() {
        let e = RedisReplayGuard::new("http://:hunter2@example.com").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(RedisReplayGuard::new("not a url").is_err());
    }
}
