//! One Redis connection as the replay guard and the Redis stores use it: made on first use,
//! remade after failures, every call bounded by a timeout, and described without its password.

use std::fmt;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::{ClusterClient, ClusterClientBuilder};
use ::redis::cluster_async::ClusterConnection;
use ::redis::{
    Client, Cmd, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisError, RedisResult, Value,
};

use crate::requests::BoxFuture;

/// A cheaply cloneable async Redis connection, behind a trait object.
pub(crate) trait SendCommand: Send + Sync + 'static {
    fn send<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, RedisResult<Value>>;
}

impl<C> SendCommand for C
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    fn send<'a>(&'a self, cmd: &'a Cmd) -> BoxFuture<'a, RedisResult<Value>> {
        let mut conn = self.clone();
        Box::pin(async move { conn.req_packed_command(cmd).await })
    }
}

/// Where to connect, before anything is connected.
pub(crate) enum RedisTarget {
    /// One Redis server.
    Url(RedisResult<ConnectionInfo>),
    /// The seed nodes of a Redis Cluster.
    Cluster(RedisResult<Vec<ConnectionInfo>>),
    /// The caller's connection.
    Given(Box<dyn SendCommand>),
}

impl RedisTarget {
    pub(crate) fn url(url: impl IntoConnectionInfo) -> Self {
        RedisTarget::Url(url.into_connection_info())
    }

    pub(crate) fn cluster<T: IntoConnectionInfo>(nodes: impl IntoIterator<Item = T>) -> Self {
        RedisTarget::Cluster(
            nodes
                .into_iter()
                .map(IntoConnectionInfo::into_connection_info)
                .collect(),
        )
    }

    pub(crate) fn given<C>(connection: C) -> Self
    where
        C: ConnectionLike + Clone + Send + Sync + 'static,
    {
        RedisTarget::Given(Box::new(connection))
    }

    /// The target for logs: URLs without their passwords.
    pub(crate) fn describe(&self) -> String {
        match self {
            RedisTarget::Url(Ok(info)) => describe(info),
            RedisTarget::Cluster(Ok(nodes)) => describe_cluster(nodes),
            RedisTarget::Url(Err(_)) | RedisTarget::Cluster(Err(_)) => "an invalid URL".to_owned(),
            RedisTarget::Given(_) => "a given connection".to_owned(),
        }
    }

    /// A link that connects on first use. Fails only on an invalid URL.
    pub(crate) fn build(self, timeout: Duration) -> Result<Link, RedisError> {
        let (conn, server) = match self {
            RedisTarget::Url(info) => {
                let info = info?;
                let server = describe(&info);
                let client = Client::open(info)?;
                (
                    Conn::Lazy {
                        client,
                        manager: OnceLock::new(),
                    },
                    server,
                )
            }
            RedisTarget::Cluster(nodes) => {
                let nodes = nodes?;
                let server = describe_cluster(&nodes);
                let client = ClusterClientBuilder::new(nodes)
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    // Fail fast: a request never waits out a retry back-off; the next
                    // request tries again.
                    .retries(0)
                    .build()?;
                (
                    Conn::Cluster {
                        client: Box::new(client),
                        conn: Mutex::new(None),
                    },
                    server,
                )
            }
            RedisTarget::Given(conn) => (Conn::Given(conn), "a given connection".to_owned()),
        };
        Ok(Link {
            conn,
            timeout,
            server,
        })
    }
}

/// A Redis connection (or the means to make one) with a bound on every call.
pub(crate) struct Link {
    conn: Conn,
    timeout: Duration,
    server: String,
}

enum Conn {
    /// A connection manager made on first use (it needs the Tokio runtime).
    Lazy {
        client: Client,
        manager: OnceLock<ConnectionManager>,
    },
    /// A cluster connection made on first success, kept from then on (it follows the
    /// cluster's topology and reconnects to its nodes by itself).
    Cluster {
        client: Box<ClusterClient>,
        conn: Mutex<Option<ClusterConnection>>,
    },
    /// The user's connection.
    Given(Box<dyn SendCommand>),
}

impl Link {
    /// The server (or the cluster's seed nodes), passwords redacted.
    pub(crate) fn server(&self) -> &str {
        &self.server
    }

    /// The bound on each call.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    async fn send(&self, cmd: &Cmd) -> RedisResult<Value> {
        match &self.conn {
            Conn::Given(conn) => conn.send(cmd).await,
            Conn::Lazy { client, manager } => {
                let manager = match manager.get() {
                    Some(manager) => manager,
                    None => {
                        let config = ConnectionManagerConfig::new()
                            .set_connection_timeout(Some(self.timeout))
                            .set_response_timeout(Some(self.timeout))
                            // Fail fast: a request never waits out a reconnection back-off.
                            .set_number_of_retries(0);
                        let made = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
                        // Another request may have won the race; either manager will do.
                        let _ = manager.set(made);
                        manager.get().expect("set just above")
                    }
                };
                manager.send(cmd).await
            }
            Conn::Cluster { client, conn } => {
                let existing = conn.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let mut connection = match existing {
                    Some(connection) => connection,
                    None => {
                        let made = client.get_async_connection().await?;
                        // Another request may have won the race; either connection will do.
                        conn.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(made)
                            .clone()
                    }
                };
                connection.req_packed_command(cmd).await
            }
        }
    }

    /// Send `cmd` under the timeout, retrying once if the connection was refused (the command
    /// was then certainly not sent). `name` says which command failed, in the error.
    pub(crate) async fn call(&self, cmd: &Cmd, name: &'static str) -> Result<Value, RedisFailure> {
        let attempt = async {
            match self.send(cmd).await {
                Err(e) if e.is_connection_refusal() => self.send(cmd).await,
                result => result,
            }
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(Value::ServerError(e))) => Err(self.failure(format!("{name} failed: {e:?}"))),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.failure(format!("{name} failed: {e}"))),
            Err(_) => Err(self.failure(format!(
                "{name} got no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    /// An error about this server.
    pub(crate) fn failure(&self, what: String) -> RedisFailure {
        RedisFailure {
            server: self.server.clone(),
            what,
        }
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("server", &self.server)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The server as a URL without its password.
pub(crate) fn describe(info: &ConnectionInfo) -> String {
    let settings = info.redis_settings();
    let auth = match (settings.username(), settings.password().is_some()) {
        (Some(user), true) => format!("{user}:<redacted>@"),
        (None, true) => ":<redacted>@".to_owned(),
        (Some(user), false) => format!("{user}@"),
        (None, false) => String::new(),
    };
    let db = settings.db();
    match info.addr() {
        ConnectionAddr::Tcp(host, port) => format!("redis://{auth}{host}:{port}/{db}"),
        ConnectionAddr::TcpTls { host, port, .. } => format!("rediss://{auth}{host}:{port}/{db}"),
        ConnectionAddr::Unix(path) => format!("redis+unix://{auth}{}?db={db}", path.display()),
        other => format!("{auth}{other} (db {db})"),
    }
}

/// A cluster's seed nodes, without passwords.
fn describe_cluster(nodes: &[ConnectionInfo]) -> String {
    let nodes: Vec<String> = nodes
        .iter()
        .map(|info| {
            let settings = info.redis_settings();
            let auth = if settings.password().is_some() {
                format!("{}:<redacted>@", settings.username().unwrap_or_default())
            } else {
                String::new()
            };
            format!("{auth}{}", info.addr())
        })
        .collect();
    format!("redis-cluster://{}", nodes.join(","))
}

/// What a value is, for an error message that must not repeat it.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Okay => "OK",
        Value::Int(_) => "an integer",
        Value::BulkString(_) => "a bulk string",
        Value::Array(_) => "an array",
        Value::SimpleString(_) => "a status",
        Value::ServerError(_) => "an error",
        _ => "an unexpected value",
    }
}

/// A failed or timed-out Redis call: the server (password redacted) and what went wrong.
#[derive(Debug)]
pub(crate) struct RedisFailure {
    server: String,
    what: String,
}

impl fmt::Display for RedisFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis at {}: {}", self.server, self.what)
    }
}

impl std::error::Error for RedisFailure {}
