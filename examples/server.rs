//! The crate's Identity Cloud emulator as a standalone server: every operation of the catalog,
//! behind the verification layer, with entity records if given.
//!
//! ```text
//! cargo run --example server -- [--addr 127.0.0.1:8080] [--clients FILE] [--records FILE]
//!                               [--skew-seconds N]
//!                               [--body-limit BYTES] [--janrain-status]
//!                               [--replay memory | --replay redis://HOST:PORT
//!                                | --replay redis-cluster://HOST:PORT,HOST:PORT,...]
//!                               [--clients redis://HOST:PORT [--redis-prefix P]
//!                                [--cache-ttl-seconds N] [--import-clients FILE]]
//!                               [--echo verified|axum] [--strict-parameters]
//!                               [--allow-unsigned-bodies] [--form-credentials]
//! ```
//!
//! The answers are the emulator's (`janrain_auth::emulator`). With `--records FILE` (one JSON
//! object, entity type names to lists of records: `{"user": [{"email": "zoe@example.com"}]}`;
//! `examples/demo/records.json` holds 40 users), `/entity`, `/entity.find`, `/entity.count`,
//! `/entity.create`, `/entity.update`, `/entity.replace` and `/entity.delete` answer from the
//! records and change them (in memory: the file is read once, never written), and
//! `/access/getAccessToken` issues tokens for their uuids. Every other operation, and every
//! operation without `--records`, echoes its verified parameters (`--echo axum`: what a plain
//! axum handler reads); `/access/getAccessToken` issues real access tokens (kept with the other
//! tokens). Layer
//! options: `--strict-parameters`, `--allow-unsigned-bodies`, `--form-credentials`
//! (`client_id` + `client_secret` as form parameters where Basic is accepted).
//!
//! `--replay` refuses a signed request accepted before (401 `request_replayed`): `memory` keeps
//! them in this process, `redis://HOST:PORT` (any Redis URL) in a Redis that several servers can
//! share; `redis-cluster://` lists some nodes of a Redis Cluster. Redis need not be up at start;
//! while it is not, signed requests get 503.
//!
//! `--clients redis://HOST:PORT` reads clients and access tokens from Redis (keys under
//! `--redis-prefix`, default `janrain-auth:`), each client cached for `--cache-ttl-seconds`
//! (default 5); `--import-clients FILE` first writes a clients file into that Redis.
//!
//! Prints `listening on http://ADDR` first (with `--addr 127.0.0.1:0`, the real port). Without
//! `--clients` it loads `examples/demo-clients.json`: one client per feature, one with two
//! secrets, and access tokens for the login clients.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use janrain_auth::emulator::{Echo, Emulator, EmulatorBuilder, Records};
use janrain_auth::server::redis_store::RedisClientStore;
use janrain_auth::server::replay::{MemoryReplayGuard, RedisReplayGuard};
use janrain_auth::server::{
    ClientStore, ClientsFile, SharedTokens, TokenIssuer, VerifyLayerBuilder,
};

const USAGE: &str = "usage: server [--addr 127.0.0.1:8080] [--clients FILE] [--records FILE] [--skew-seconds N] [--body-limit BYTES] [--janrain-status] [--replay memory|redis://HOST:PORT|redis-cluster://HOST:PORT,...] [--clients redis://HOST:PORT [--redis-prefix P] [--cache-ttl-seconds N] [--import-clients FILE]] [--echo verified|axum] [--strict-parameters] [--allow-unsigned-bodies] [--form-credentials]";
const DEMO_CLIENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-clients.json");

struct Options {
    addr: SocketAddr,
    clients: String,
    replay: Option<Replay>,
    /// The emulator, with the layer options and the echo mode of the flags.
    emulator: EmulatorBuilder,
    redis_prefix: String,
    cache_ttl: u64,
    import_clients: Option<String>,
}

/// Where accepted signed requests are remembered.
enum Replay {
    Memory,
    Redis(Arc<RedisReplayGuard>),
}

fn parse_replay(value: &str) -> Result<Replay, String> {
    if value == "memory" {
        return Ok(Replay::Memory);
    }
    if let Some(nodes) = value.strip_prefix("redis-cluster://") {
        let nodes = nodes.split(',').map(|node| format!("redis://{node}"));
        return RedisReplayGuard::cluster(nodes)
            .build()
            .map(|guard| Replay::Redis(Arc::new(guard)))
            .map_err(|e| format!("--replay: not a usable Redis Cluster: {e}"));
    }
    let scheme = value.split("://").next().unwrap_or_default();
    if ["redis", "rediss", "redis+unix", "unix", "valkey", "valkeys"].contains(&scheme) {
        // The URL may hold a password: the message does not repeat it.
        return RedisReplayGuard::new(value)
            .map(|guard| Replay::Redis(Arc::new(guard)))
            .map_err(|e| format!("--replay: not a usable Redis URL: {e}"));
    }
    Err(format!(
        "--replay: {value:?} is neither `memory` nor a Redis URL such as redis://127.0.0.1:6379"
    ))
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
        clients: DEMO_CLIENTS.to_owned(),
        replay: None,
        emulator: Emulator::builder(),
        redis_prefix: "janrain-auth:".to_owned(),
        cache_ttl: 5,
        import_clients: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--addr" => {
                let what = "an address such as 127.0.0.1:8080";
                options.addr = parsed("--addr", value("--addr")?, what)?;
            }
            "--clients" => options.clients = value("--clients")?,
            "--records" => {
                let path = value("--records")?;
                let records = Records::load(&path).map_err(|e| format!("--records: {e}"))?;
                options.emulator =
                    std::mem::replace(&mut options.emulator, Emulator::builder()).records(records);
            }
            "--skew-seconds" => {
                let v = value("--skew-seconds")?;
                let window =
                    Duration::from_secs(parsed("--skew-seconds", v, "a number of seconds")?);
                options.layer(move |layer| layer.date_window(window, window));
            }
            "--body-limit" => {
                let v = value("--body-limit")?;
                let limit = parsed("--body-limit", v, "a number of bytes")?;
                options.layer(move |layer| layer.body_limit(limit));
            }
            "--janrain-status" => options.layer(|layer| layer.janrain_status(true)),
            "--replay" => options.replay = Some(parse_replay(&value("--replay")?)?),
            "--echo" => {
                let echo: Echo = value("--echo")?
                    .parse()
                    .map_err(|e| format!("--echo: {e}"))?;
                options.emulator =
                    std::mem::replace(&mut options.emulator, Emulator::builder()).echo(echo);
            }
            "--strict-parameters" => options.layer(|layer| layer.strict_parameters(true)),
            "--allow-unsigned-bodies" => options.layer(|layer| layer.allow_unsigned_bodies(true)),
            "--form-credentials" => options.layer(|layer| layer.accept_form_credentials(true)),
            "--redis-prefix" => options.redis_prefix = value("--redis-prefix")?,
            "--import-clients" => options.import_clients = Some(value("--import-clients")?),
            "--cache-ttl-seconds" => {
                let v = value("--cache-ttl-seconds")?;
                options.cache_ttl = parsed("--cache-ttl-seconds", v, "a number of seconds")?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

impl Options {
    /// Add `step` to the verification layer's options.
    fn layer(
        &mut self,
        step: impl FnOnce(VerifyLayerBuilder) -> VerifyLayerBuilder + Send + 'static,
    ) {
        let emulator = std::mem::replace(&mut self.emulator, Emulator::builder());
        self.emulator = emulator.configure_layer(step);
    }
}

/// `value` read as a `T`, or a message naming the flag and `what` it should be.
fn parsed<T: std::str::FromStr>(flag: &str, value: String, what: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not {what}"))
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("server: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (store, tokens) = match stores(&options) {
        Ok(stores) => stores,
        Err(e) => {
            eprintln!("server: {e}");
            return ExitCode::from(2);
        }
    };
    // Warnings (store or replay guard failures) on stderr; `LOG=debug` shows every verdict.
    let level = std::env::var("LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::WARN);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();

    let mut emulator = options.emulator.clients(store).tokens(tokens);
    let redis = match options.replay {
        None => None,
        Some(Replay::Memory) => {
            let guard = MemoryReplayGuard::new();
            let capacity = guard.capacity();
            eprintln!("replay protection: in memory, at most {capacity} entries");
            emulator = emulator.configure_layer(move |builder| builder.replay_guard(guard));
            None
        }
        Some(Replay::Redis(guard)) => {
            eprintln!("replay protection: Redis at {}", guard.server());
            let shared = guard.clone();
            emulator = emulator.configure_layer(move |builder| builder.replay_guard(shared));
            Some(guard)
        }
    };
    let app = emulator.router();

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
        if let Some(guard) = redis
            && let Err(e) = guard.ping().await
        {
            eprintln!("server: warning: {e}; signed requests get 503 until Redis answers");
        }
        let addr = listener.local_addr().unwrap_or(options.addr);
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Where clients are looked up and where tokens are checked.
type Stores = (Arc<dyn ClientStore>, Arc<dyn TokenIssuer>);

/// The clients and tokens: from the clients file, or from Redis (`--clients redis://...`),
/// after writing `--import-clients FILE` into it.
fn stores(options: &Options) -> Result<Stores, String> {
    let in_redis = ["redis://", "rediss://", "redis+unix://"]
        .iter()
        .any(|scheme| options.clients.starts_with(scheme));
    if !in_redis {
        if options.import_clients.is_some() {
            return Err("--import-clients needs --clients redis://HOST:PORT".into());
        }
        let file = ClientsFile::load(&options.clients).map_err(|e| e.to_string())?;
        let (store, tokens) = file.into_parts();
        return Ok((Arc::new(store), Arc::new(SharedTokens::new(tokens))));
    }
    // The URL may hold a password: messages show the store's redacted form only.
    let build = || {
        RedisClientStore::builder(options.clients.as_str())
            .key_prefix(&options.redis_prefix)
            .cache_ttl(Duration::from_secs(options.cache_ttl))
            .build()
            .map_err(|e| format!("--clients: not a usable Redis URL: {e}"))
    };
    if let Some(path) = &options.import_clients {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--import-clients: cannot read {path}: {e}"))?;
        // A store of its own on a runtime of its own: its connection ends with the import.
        let importer = build()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        let imported = runtime
            .block_on(importer.import(&text))
            .map_err(|e| format!("--import-clients {path}: {e}"))?;
        eprintln!(
            "imported {} clients and {} tokens ({} expired, skipped) into {}",
            imported.clients,
            imported.tokens,
            imported.expired_tokens,
            importer.server()
        );
    }
    let store = build()?;
    eprintln!(
        "clients and tokens: Redis at {}, keys {}*, cached {} s",
        store.server(),
        store.key_prefix(),
        options.cache_ttl
    );
    let tokens = store.tokens();
    Ok((Arc::new(store), Arc::new(tokens)))
}
