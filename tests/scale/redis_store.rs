//! `RedisClientStore` and `RedisTokens` against a real Redis (`REDIS_URL`, else a
//! `redis-server` started here on a free loopback port): two nodes (two axum servers, each with
//! its own layer, store and connection) sharing one Redis, a secret rotated while they serve,
//! tokens issued on one node and verified on the other, and Redis going away and coming back.
//! Every test uses its own random key prefix.

use janrain_auth_test_support as support;

use support::proxy::{Proxy, hung_redis};

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::permissions::{Feature, Features};
use janrain_auth::server::redis_store::{ImportError, RedisClientStore, RedisTokens};
use janrain_auth::server::{ClientStore, TokenRecord, TokenVerifier, VerifyLayer};
use redis::AsyncCommands;
use serde_json::Value;
use support::{
    CLIENTS, NOW, READER, REDIS_TIMEOUT, Signed, assert_error, assert_ok, assert_within_timeout,
    clock, form_post, send, serve,
};

use support::redis_servers::DeleteOnDrop;

fn redis_url() -> String {
    support::redis_servers::standalone_url()
}

fn prefix(test: &str) -> String {
    let nonce = RandomState::new().hash_one(SystemTime::now());
    format!("janrain-auth-test:{nonce:016x}:{test}:")
}

async fn redis() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis_url()).unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .expect("Redis answers")
    .expect("Redis answers")
}

fn store_at(url: &str, prefix: &str, ttl: Duration) -> RedisClientStore {
    RedisClientStore::builder(url)
        .key_prefix(prefix)
        .cache_ttl(ttl)
        .negative_ttl(ttl)
        .timeout(REDIS_TIMEOUT)
        .build()
        .unwrap()
}

/// A node: the look-alike behind a layer over Redis clients and tokens.
async fn node(store: &RedisClientStore) -> String {
    serve(
        VerifyLayer::builder(store.clone())
            .token_verifier(store.tokens())
            .clock(clock())
            .build(),
    )
    .await
}

/// A login-client call with a token.
async fn with_token(base: &str, client_id: &str, token: &str) -> (u16, Value) {
    send(form_post(
        &reqwest::Client::new(),
        format!("{base}/oauth/link_account_native"),
        &[("client_id", client_id), ("access_token", token)],
    ))
    .await
}

fn signed(secret: &'static str, tag: &str) -> Signed {
    let mut request = Signed::find(tag, NOW);
    request.secret = secret;
    request
}

#[track_caller]
fn assert_store_unavailable(got: &(u16, Value)) {
    assert_error(got, 503, 500, "unexpected_error");
}

/// Poll `check` until it holds, for at most `within`; how long it took.
async fn eventually<F, Fut>(within: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "not within {within:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn imported_clients_and_tokens_serve_every_node() {
    let prefix = prefix("import");
    let _cleanup = DeleteOnDrop(prefix.clone());
    let url = redis_url();
    let first = store_at(&url, &prefix, Duration::from_secs(5));
    let imported = first.import(CLIENTS).await.unwrap();
    assert_eq!((imported.clients, imported.tokens), (8, 3));
    assert_eq!(imported.expired_tokens, 1);

    // The layout: one JSON string per client, the id in the key.
    let mut conn = redis().await;
    let stored: String = conn
        .get(format!("{prefix}client:rotating_client"))
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(
        stored,
        serde_json::json!({"secrets": ["rotating-old-secret-2f6a", "rotating-new-secret-8e1d"], "features": ["direct_access"]})
    );
    // Tokens under the hex SHA-256 of their text, expiring with the token.
    let key = first.tokens().token_key("demo-access-token");
    assert_eq!(key.len(), prefix.len() + "token:".len() + 64);
    let stored: String = conn.get(&key).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap(),
        serde_json::json!({"client_id": "login_client", "uuid": "7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11", "expires_at": "2099-12-31 23:59:59"})
    );
    let ttl: i64 = conn.ttl(&key).await.unwrap();
    assert!(ttl > 86_400 * 365 * 50, "TTL {ttl}");
    let all: Vec<String> = conn.keys(format!("{prefix}*")).await.unwrap();
    assert_eq!(all.len(), 11, "{all:?}");
    assert!(!all.iter().any(|k| k.contains("demo-access-token")));

    // Two nodes, each with its own store (its own cache and connection).
    let second = store_at(&url, &prefix, Duration::from_secs(5));
    let nodes = [node(&first).await, node(&second).await];
    for base in &nodes {
        assert_ok(&signed(READER.1, "find").send(base).await);
        assert_ok(&with_token(base, "login_client", "demo-access-token").await);
        assert_error(
            &with_token(base, "second_login_client", "demo-access-token").await,
            401,
            419,
            "access_token_client_mismatch",
        );
        assert_error(
            &with_token(base, "login_client", "expired-access-token").await,
            401,
            412,
            "invalid_access_token",
        );
        let forged = signed("not-the-secret", "forged");
        assert_error(
            &forged.send(base).await,
            401,
            431,
            "signature_does_not_match",
        );
        let mut ghost = signed(READER.1, "ghost");
        ghost.client_id = "ghost_client";
        assert_error(
            &ghost.send(base).await,
            401,
            402,
            "invalid_client_credentials",
        );
    }

    // An invalid file writes nothing.
    let bad = r#"{"clients": [{"client_id": "new_client", "secrets": ["s"]}], "tokens": [{"access_token": "t", "client_id": "ghost", "expires_at": "2030-01-01 00:00:00"}]}"#;
    assert!(matches!(first.import(bad).await, Err(ImportError::File(_))));
    let exists: bool = conn
        .exists(format!("{prefix}client:new_client"))
        .await
        .unwrap();
    assert!(!exists);
}

#[tokio::test]
async fn a_rotated_secret_is_in_force_on_every_node_within_the_ttl() {
    const OLD: &str = "rotation-old-secret";
    const NEW: &str = "rotation-new-secret";
    let prefix = prefix("rotation");
    let _cleanup = DeleteOnDrop(prefix.clone());
    let url = redis_url();
    let ttl = Duration::from_millis(600);
    let admin = store_at(&url, &prefix, ttl);
    let id = ClientId::new(READER.0).unwrap();
    let features = Features::from(Feature::DirectReadAccess);
    let secret = |s: &str| ClientSecret::new(s).unwrap();
    admin.put(&id, &[secret(OLD)], features).await.unwrap();

    let nodes = [
        node(&store_at(&url, &prefix, ttl)).await,
        node(&store_at(&url, &prefix, ttl)).await,
    ];
    let mut n = 0;
    let mut accepted = |base: String, secret: &'static str| {
        n += 1;
        let request = signed(secret, &format!("request-{n}"));
        async move { request.send(&base).await.0 == 200 }
    };
    for base in &nodes {
        assert!(accepted(base.clone(), OLD).await);
        assert!(!accepted(base.clone(), NEW).await);
    }

    // 1. Add the new secret; 2. within the TTL every node accepts both.
    admin
        .put(&id, &[secret(OLD), secret(NEW)], features)
        .await
        .unwrap();
    for base in &nodes {
        let took = eventually(ttl + Duration::from_millis(500), || {
            accepted(base.clone(), NEW)
        })
        .await;
        assert!(took <= ttl + Duration::from_millis(300), "{took:?}");
        assert!(accepted(base.clone(), OLD).await);
    }

    // 3. Remove the old one: within the TTL no node accepts it any more.
    admin.put(&id, &[secret(NEW)], features).await.unwrap();
    for base in &nodes {
        eventually(ttl + Duration::from_millis(500), || {
            let check = accepted(base.clone(), OLD);
            async move { !check.await }
        })
        .await;
        assert!(accepted(base.clone(), NEW).await);
    }

    // Deleting the client: refused everywhere within the TTL (as an unknown client).
    assert!(admin.remove(READER.0).await.unwrap());
    for base in &nodes {
        eventually(ttl + Duration::from_millis(500), || {
            let check = accepted(base.clone(), NEW);
            async move { !check.await }
        })
        .await;
    }
}

#[tokio::test]
async fn unknown_ids_are_cached_briefly_and_boundedly() {
    let prefix = prefix("negative");
    let _cleanup = DeleteOnDrop(prefix.clone());
    let store = RedisClientStore::builder(redis_url())
        .key_prefix(&prefix)
        .cache_ttl(Duration::from_secs(30))
        .negative_ttl(Duration::from_millis(400))
        .negative_capacity(3)
        .build()
        .unwrap();
    assert!(store.client("late_client").await.unwrap().is_none());
    // Created in Redis: the cached "unknown" holds for the negative TTL, not the cache TTL.
    let id = ClientId::new("late_client").unwrap();
    let mut conn = redis().await;
    let _: () = conn
        .set(
            store.client_key("late_client"),
            r#"{"secrets": ["late-secret"], "features": ["owner"]}"#,
        )
        .await
        .unwrap();
    assert!(store.client("late_client").await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(450)).await;
    let found = store.client("late_client").await.unwrap().unwrap();
    assert_eq!(found.id(), &id);
    assert_eq!(found.features(), Features::from(Feature::Owner));
    // Cached: the same Arc, with no round trip.
    let again = store.client("late_client").await.unwrap().unwrap();
    assert!(Arc::ptr_eq(&found, &again));

    // At most three unknown ids are remembered, however many are asked for.
    for i in 0..50 {
        assert!(store.client(&format!("junk_{i}")).await.unwrap().is_none());
    }
    let shown = format!("{store:?}");
    assert!(shown.contains("cached: 4"), "{shown}");
}

#[tokio::test]
async fn a_corrupt_record_fails_closed_without_leaking_it() {
    let prefix = prefix("corrupt");
    let _cleanup = DeleteOnDrop(prefix.clone());
    let store = store_at(&redis_url(), &prefix, Duration::from_secs(5));
    let mut conn = redis().await;
    let _: () = conn
        .set(
            store.client_key(READER.0),
            r#"{"secrets": "corrupt-secret-value"}"#,
        )
        .await
        .unwrap();
    let e = store.client(READER.0).await.unwrap_err().to_string();
    assert!(!e.contains("corrupt-secret-value"), "{e}");
    let base = node(&store).await;
    assert_store_unavailable(&signed(READER.1, "corrupt").send(&base).await);
}

#[tokio::test]
async fn tokens_issued_on_one_node_are_verified_on_another() {
    let prefix = prefix("tokens");
    let _cleanup = DeleteOnDrop(prefix.clone());
    let url = redis_url();
    let first = store_at(&url, &prefix, Duration::from_secs(5));
    first.import(CLIENTS).await.unwrap();
    let second = store_at(&url, &prefix, Duration::from_secs(5));
    let nodes = [node(&first).await, node(&second).await];

    let issuer = first.tokens();
    let login = ClientId::new("login_client").unwrap();
    let hour = SystemTime::now() + Duration::from_secs(3600);
    let record = TokenRecord::new(login.clone(), hour).with_uuid("uuid-1234");
    issuer.issue("fresh-token-abc", &record).await.unwrap();
    for base in &nodes {
        assert_ok(&with_token(base, "login_client", "fresh-token-abc").await);
    }
    let verifier = RedisTokens::new(&*url).unwrap();
    assert!(verifier.lookup("fresh-token-abc").await.unwrap().is_none()); // other prefix
    let found = second
        .tokens()
        .lookup("fresh-token-abc")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.client_id, login);
    assert_eq!(found.uuid.as_deref(), Some("uuid-1234"));
    let whole_second = janrain_auth::scheme::Datetime::from_system_time(hour)
        .unwrap()
        .to_system_time();
    assert_eq!(found.expires_at, whole_second);

    // The Redis expiry is the token's end.
    let mut conn = redis().await;
    let ttl: i64 = conn.ttl(issuer.token_key("fresh-token-abc")).await.unwrap();
    assert!((3590..=3600).contains(&ttl), "TTL {ttl}");

    // Past expires_at a token is refused even while its key exists (the layer's clock here
    // is 2026-03-01 12:00:00).
    let _: () = conn
        .set(
            issuer.token_key("stale-token"),
            r#"{"client_id": "login_client", "expires_at": "2026-03-01 12:00:00"}"#,
        )
        .await
        .unwrap();
    for base in &nodes {
        assert_error(
            &with_token(base, "login_client", "stale-token").await,
            401,
            414,
            "access_token_expired",
        );
    }

    // Revoked on one node: unknown on the other at once (tokens are not cached).
    assert!(issuer.revoke("fresh-token-abc").await.unwrap());
    assert_error(
        &with_token(&nodes[1], "login_client", "fresh-token-abc").await,
        401,
        412,
        "invalid_access_token",
    );
    // Issuing an expired token writes nothing.
    let past = TokenRecord::new(login, SystemTime::now() - Duration::from_secs(1));
    issuer.issue("past-token", &past).await.unwrap();
    assert!(
        !conn
            .exists::<_, bool>(issuer.token_key("past-token"))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn redis_down_cached_clients_serve_until_their_ttl_then_everything_fails_closed() {
    let prefix = prefix("down");
    let _cleanup = DeleteOnDrop(prefix.clone());
    let ttl = Duration::from_millis(1500);
    // The clients, written directly.
    store_at(&redis_url(), &prefix, ttl)
        .import(CLIENTS)
        .await
        .unwrap();
    let proxy = Proxy::new().await;
    // The node starts while Redis is unreachable.
    let store = store_at(&proxy.url(), &prefix, ttl);
    let base = node(&store).await;
    let started = Instant::now();
    assert_store_unavailable(&signed(READER.1, "before").send(&base).await);
    assert_within_timeout(started.elapsed(), REDIS_TIMEOUT, "before");
    assert_store_unavailable(&with_token(&base, "login_client", "demo-access-token").await);

    // Redis comes: served, without a restart.
    proxy.start().await;
    assert_ok(&signed(READER.1, "up").send(&base).await);
    let cached_at = Instant::now();

    // Redis goes: the cached client still serves until its TTL ends; an uncached client and
    // a token fail closed (503, the Janrain envelope) within the timeout.
    proxy.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_ok(&signed(READER.1, "cached").send(&base).await);
    let mut direct = Signed::find("direct", NOW);
    direct.client_id = "direct_client";
    direct.secret = "direct-secret-1d8c3a";
    let started = Instant::now();
    let got = direct.send(&base).await;
    assert_store_unavailable(&got);
    assert_within_timeout(started.elapsed(), REDIS_TIMEOUT, "uncached");
    let description = got.1["error_description"].as_str().unwrap();
    assert!(
        !description.contains(&proxy.port.to_string()),
        "{description}"
    );
    assert_store_unavailable(&with_token(&base, "login_client", "demo-access-token").await);
    if let Some(left) = ttl.checked_sub(cached_at.elapsed()) {
        tokio::time::sleep(left + Duration::from_millis(100)).await;
    }
    assert_store_unavailable(&signed(READER.1, "expired").send(&base).await);

    // Redis returns: everything recovers by itself.
    proxy.start().await;
    assert_ok(&signed(READER.1, "back").send(&base).await);
    assert_ok(&direct.send(&base).await);
    assert_ok(&with_token(&base, "login_client", "demo-access-token").await);
    proxy.stop();
}

#[tokio::test]
async fn a_hung_redis_delays_a_lookup_by_the_timeout_at_most() {
    let (port, held) = hung_redis().await;
    let store = RedisClientStore::builder(format!("redis://127.0.0.1:{port}"))
        .timeout(REDIS_TIMEOUT)
        .build()
        .unwrap();
    let base = node(&store).await;
    for tag in ["first", "second"] {
        let started = Instant::now();
        assert_store_unavailable(&signed(READER.1, tag).send(&base).await);
        // The first lookup really waits out the timeout (a timer never fires early); a later
        // one at most as long (it may also fail at once, on a connection already known to be
        // broken). None waits the timeout twice.
        let took = started.elapsed();
        if tag == "first" {
            assert!(took >= REDIS_TIMEOUT, "{tag}: {took:?}");
        }
        assert_within_timeout(took, REDIS_TIMEOUT, tag);
    }
    held.abort();
}
