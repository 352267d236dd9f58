//! The Redis replay guard against a real Redis (`REDIS_URL`, else a `redis-server` these tests
//! start on a free loopback port): real axum servers on
//! loopback, each with its own layer and its own guard, called with a real reqwest client.
//! Every test uses a fresh random key prefix, so tests never see each other's keys, and nothing
//! here sleeps for more than about two seconds.

use janrain_auth_test_support as support;

use support::proxy::{Proxy, hung_redis};

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant, SystemTime};

use janrain_auth::server::replay::{RedisReplayGuard, ReplayGuard, ReplayKey, ReplayVerdict};
use redis::AsyncCommands;
use support::{
    NOW, READER, REDIS_TIMEOUT, Signed, assert_error, assert_ok, assert_replayed,
    assert_unavailable, assert_within_timeout, builder, captured_logs, clock, log_lines_with, race,
    send_unrecordable, serve,
};
use tokio::net::TcpListener;

fn redis_url() -> String {
    support::redis_servers::standalone_url()
}

/// A fresh key prefix for one test.
fn prefix(test: &str) -> String {
    let nonce = RandomState::new().hash_one(SystemTime::now());
    format!("janrain-auth-test:{nonce:016x}:{test}:")
}

/// A direct connection, to look at the keys the guard wrote.
async fn redis() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis_url()).unwrap();
    match tokio::time::timeout(
        Duration::from_secs(2),
        client.get_multiplexed_async_connection(),
    )
    .await
    {
        Ok(Ok(conn)) => conn,
        _ => panic!("these tests need Redis at {}", redis_url()),
    }
}

/// `/entity.find` by the reader, dated [`NOW`].
fn find(tag: &str) -> Signed {
    Signed::find(tag, NOW)
}

/// The Redis key the guard writes for a request.
trait RedisKey {
    fn key(&self, prefix: &str) -> String;
}

impl RedisKey for Signed {
    fn key(&self, prefix: &str) -> String {
        format!("{prefix}{}:{}", self.client_id, self.signature())
    }
}

async fn keys(conn: &mut redis::aio::MultiplexedConnection, prefix: &str) -> Vec<String> {
    conn.keys(format!("{prefix}*")).await.unwrap()
}

fn guard(prefix: &str) -> RedisReplayGuard {
    RedisReplayGuard::builder(redis_url())
        .key_prefix(prefix)
        .build()
        .unwrap()
}

/// A loopback port with nothing listening on it.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_request_accepted_by_one_server_is_refused_by_every_server() {
    let prefix = prefix("two-servers");
    let clock = clock();
    // Two app instances, each with its own layer and its own guard (its own connection),
    // sharing only the Redis and the prefix.
    let first = serve(builder(&clock).replay_guard(guard(&prefix)).build()).await;
    let second = serve(builder(&clock).replay_guard(guard(&prefix)).build()).await;
    let request = find("two-servers");

    assert_ok(&request.send(&first).await);
    assert_replayed(&request.send(&second).await);
    assert_replayed(&request.send(&first).await);
    // A different request of the same client is fresh.
    assert_ok(&find("another").send(&second).await);

    // The key is prefix + client id + ':' + signature, and lives until the Date is max_age
    // (300 s) old, plus the second the Date names.
    let mut conn = redis().await;
    let key = request.key(&prefix);
    let value: Option<String> = conn.get(&key).await.unwrap();
    assert_eq!(value.as_deref(), Some("1"));
    let pttl: i64 = conn.pttl(&key).await.unwrap();
    assert!((299_000..=301_000).contains(&pttl), "PTTL {pttl}");
    assert_eq!(keys(&mut conn, &prefix).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_identical_requests_on_two_servers_exactly_one_is_accepted() {
    const N: usize = 32;
    let prefix = prefix("concurrent");
    let clock = clock();
    let servers = [
        serve(builder(&clock).replay_guard(guard(&prefix)).build()).await,
        serve(builder(&clock).replay_guard(guard(&prefix)).build()).await,
    ];
    let request = find("concurrent");
    let accepted = race(&request, &servers, N).await;
    assert_eq!(
        accepted, 1,
        "exactly one of {N} identical requests is accepted"
    );
}

#[tokio::test]
async fn forged_and_forbidden_requests_are_never_recorded() {
    let prefix = prefix("forged");
    let clock = clock();
    let base = serve(builder(&clock).replay_guard(guard(&prefix)).build()).await;
    let mut conn = redis().await;
    let genuine = find("genuine");

    // What a guard must never record: the genuine signature on tampered parameters (seen in
    // flight and sent first), a wrong secret, a valid signature on a forbidden operation.
    send_unrecordable(&base, &genuine).await;
    assert!(
        keys(&mut conn, &prefix).await.is_empty(),
        "nothing recorded"
    );

    assert_ok(&genuine.send(&base).await);
    assert_eq!(keys(&mut conn, &prefix).await, [genuine.key(&prefix)]);
    assert_replayed(&genuine.send(&base).await);
}

#[tokio::test]
async fn the_guard_forgets_a_key_when_its_ttl_ends() {
    let prefix = prefix("ttl-direct");
    let guard = guard(&prefix);
    let key = ReplayKey {
        client_id: "some_client",
        signature: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    };
    let ttl = Duration::from_millis(300);
    assert_eq!(
        guard.check_and_record(key, ttl).await.unwrap(),
        ReplayVerdict::Fresh
    );
    assert_eq!(
        guard.check_and_record(key, ttl).await.unwrap(),
        ReplayVerdict::Replayed
    );
    let mut conn = redis().await;
    let pttl: i64 = conn
        .pttl(format!("{prefix}some_client:AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
        .await
        .unwrap();
    assert!((1..=300).contains(&pttl), "PTTL {pttl}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        guard.check_and_record(key, ttl).await.unwrap(),
        ReplayVerdict::Fresh
    );
    // Another client with the same signature is another key.
    let other = ReplayKey {
        client_id: "other_client",
        ..key
    };
    assert_eq!(
        guard.check_and_record(other, ttl).await.unwrap(),
        ReplayVerdict::Fresh
    );
    // And the guard's own Redis answers.
    guard.ping().await.unwrap();
}

#[tokio::test]
async fn a_guard_on_a_given_connection_works_the_same() {
    let prefix = prefix("given-connection");
    let guard = RedisReplayGuard::with_connection(redis().await)
        .key_prefix(&prefix)
        .build()
        .unwrap();
    assert!(format!("{guard:?}").contains("a given connection"));
    let key = ReplayKey {
        client_id: "some_client",
        signature: "BBBBBBBBBBBBBBBBBBBBBBBBBBB=",
    };
    let ttl = Duration::from_secs(5);
    assert_eq!(
        guard.check_and_record(key, ttl).await.unwrap(),
        ReplayVerdict::Fresh
    );
    assert_eq!(
        guard.check_and_record(key, ttl).await.unwrap(),
        ReplayVerdict::Replayed
    );
    assert_eq!(keys(&mut redis().await, &prefix).await.len(), 1);
}

#[tokio::test]
async fn through_the_layer_an_entry_lives_as_long_as_the_date_window() {
    let prefix = prefix("ttl-layer");
    let window = Duration::from_secs(2);
    let clock = clock();
    let base = serve(
        builder(&clock)
            .date_window(window, window)
            .replay_guard(guard(&prefix))
            .build(),
    )
    .await;
    let mut conn = redis().await;

    // A request dated now: kept for max_age + 1 s = 3 s.
    let fresh = find("dated-now");
    assert_ok(&fresh.send(&base).await);
    let pttl: i64 = conn.pttl(fresh.key(&prefix)).await.unwrap();
    assert!((2_000..=3_000).contains(&pttl), "PTTL {pttl}");

    // A request whose Date is already max_age old: still accepted, kept for the 1 s minimum.
    clock.advance(2);
    let old = find("dated-two-seconds-ago");
    let recorded = Instant::now();
    assert_ok(&old.send(&base).await);
    let pttl: i64 = conn.pttl(old.key(&prefix)).await.unwrap();
    assert!((1..=1_000).contains(&pttl), "PTTL {pttl}");
    assert_replayed(&old.send(&base).await);

    // Once the entry is gone (within its 1 s and three quarters more, so a doubled lifetime
    // fails) the same request can be recorded again (here the layer's manual clock has not
    // moved, so its Date is still in the window).
    let deadline = recorded + Duration::from_millis(1_750);
    while conn.exists::<_, bool>(old.key(&prefix)).await.unwrap() {
        assert!(Instant::now() < deadline, "the key never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_ok(&old.send(&base).await);
    assert_replayed(&old.send(&base).await);

    // With the clock past the window, the date refuses the request: nothing left to remember.
    clock.advance(1);
    assert_error(&old.send(&base).await, 401, 433, "date_out_of_window");
}

#[tokio::test]
async fn unreachable_redis_fails_closed_with_503() {
    let port = closed_port().await;
    // Built while nothing listens: construction connects to nothing.
    let guard = RedisReplayGuard::builder(format!("redis://127.0.0.1:{port}"))
        .timeout(REDIS_TIMEOUT)
        .build()
        .unwrap();
    assert!(guard.ping().await.is_err());
    let clock = clock();
    let base = serve(builder(&clock).replay_guard(guard).build()).await;
    for tag in ["first", "second"] {
        let started = Instant::now();
        let got = find(tag).send(&base).await;
        assert_unavailable(&got);
        assert_within_timeout(started.elapsed(), REDIS_TIMEOUT, tag);
        // The envelope says why, without any detail of the Redis server.
        let description = got.1["error_description"].as_str().unwrap();
        assert!(
            description.contains("replay protection is unavailable"),
            "{description}"
        );
        assert!(!description.contains(&port.to_string()), "{description}");
    }
}

#[tokio::test]
async fn unreachable_redis_fail_open_lets_requests_through_with_a_warning() {
    let logs = captured_logs();
    let port = closed_port().await;
    let guard =
        RedisReplayGuard::new(format!("redis://:redis-password-xyz@127.0.0.1:{port}/0")).unwrap();
    assert!(!format!("{guard:?}").contains("redis-password-xyz"));
    let clock = clock();
    let base = serve(
        builder(&clock)
            .replay_guard(guard)
            .replay_fail_open(true)
            .build(),
    )
    .await;
    let request = find("fail-open");
    assert_ok(&request.send(&base).await);
    // Unrecorded, so the same request gets through again: that is what failing open means.
    assert_ok(&request.send(&base).await);

    let lines = log_lines_with(&logs, &format!("127.0.0.1:{port}"));
    assert_eq!(lines.len(), 2, "one warning per request: {lines:?}");
    for line in &lines {
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains("replay guard unavailable"), "{line}");
        assert!(line.contains("fail open"), "{line}");
        assert!(line.contains(READER.0), "{line}");
        for secret in [request.signature().as_str(), READER.1, "redis-password-xyz"] {
            assert!(
                !line.contains(secret),
                "{secret:?} leaked into the log: {line}"
            );
        }
    }
}

#[tokio::test]
async fn a_hung_redis_delays_a_request_by_the_timeout_at_most() {
    // Accepts connections and never answers.
    let (port, held) = hung_redis().await;
    let guard = RedisReplayGuard::builder(format!("redis://127.0.0.1:{port}"))
        .timeout(REDIS_TIMEOUT)
        .build()
        .unwrap();
    let clock = clock();
    let base = serve(builder(&clock).replay_guard(guard).build()).await;
    for tag in ["first", "second", "third"] {
        let started = Instant::now();
        assert_unavailable(&find(tag).send(&base).await);
        let took = started.elapsed();
        // The first request really waits out the timeout (a timer never fires early); a later
        // one may wait as long, or be refused at once while the connection is being replaced
        // (both fail closed). None waits the timeout twice.
        if tag == "first" {
            assert!(took >= REDIS_TIMEOUT, "{tag}: {took:?}");
        }
        assert_within_timeout(took, REDIS_TIMEOUT, tag);
    }
    held.abort();
}

#[tokio::test]
async fn the_guard_connects_when_redis_comes_up_and_reconnects_after_it_goes_away() {
    let proxy = Proxy::on_port(closed_port().await);
    let prefix = prefix("reconnect");
    let guard = RedisReplayGuard::builder(format!("redis://127.0.0.1:{}", proxy.port))
        .key_prefix(&prefix)
        .build()
        .unwrap();
    let clock = clock();
    let base = serve(builder(&clock).replay_guard(guard).build()).await;

    // Redis is not there yet: fail closed.
    assert_unavailable(&find("before").send(&base).await);

    // Redis comes up: the guard connects without being rebuilt, on the very next request (the
    // refused connection is retried at once).
    proxy.start().await;
    let up = find("up");
    assert_ok(&up.send(&base).await);
    assert_replayed(&up.send(&base).await);

    // Redis goes away (every connection cut): fail closed again, and the record of `up` is
    // still refused on the way (the answer is 503, never 200).
    proxy.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_unavailable(&find("down").send(&base).await);
    assert_unavailable(&up.send(&base).await);

    // And back: the guard reconnects; what was recorded before is still refused.
    proxy.start().await;
    assert_ok(&find("back").send(&base).await);
    assert_replayed(&up.send(&base).await);
    proxy.stop();
}
