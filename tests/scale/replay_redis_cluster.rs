//! The Redis replay guard on a real Redis Cluster of three masters, started by this test on
//! free loopback ports (and stopped when it ends): two verifier nodes share it, replays are
//! refused by the other node, the keys spread over every master, and with one master stopped
//! the requests whose keys live on it fail closed (503) within the guard's timeout while the
//! others keep working, until it returns.

use janrain_auth_test_support as support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use janrain_auth::server::replay::RedisReplayGuard;
use redis::Value;
use support::redis_servers::RedisCluster;
use support::{
    NOW, Signed, assert_ok, assert_replayed, assert_unavailable, builder, clock, race, serve,
};

const TIMEOUT: Duration = Duration::from_millis(300);
const PREFIX: &str = "janrain-auth-test:cluster:";

fn guard(cluster: &RedisCluster) -> RedisReplayGuard {
    RedisReplayGuard::cluster(cluster.urls())
        .key_prefix(PREFIX)
        .timeout(TIMEOUT)
        .build()
        .unwrap()
}

fn key(request: &Signed) -> String {
    format!("{PREFIX}{}:{}", request.client_id, request.signature())
}

/// A plain connection to one master.
async fn node(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Which master (index) serves each slot, as the cluster says.
async fn slot_owners(cluster: &RedisCluster) -> Vec<usize> {
    let mut conn = node(&cluster.masters[0].url()).await;
    let slots: Vec<Vec<Value>> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut owners = vec![usize::MAX; 16_384];
    for range in slots {
        let (Value::Int(start), Value::Int(end), Value::Array(master)) =
            (&range[0], &range[1], &range[2])
        else {
            panic!("unexpected CLUSTER SLOTS entry {range:?}");
        };
        let Value::Int(port) = master[1] else {
            panic!("unexpected CLUSTER SLOTS node {master:?}");
        };
        let index = cluster
            .masters
            .iter()
            .position(|m| i64::from(m.port) == port)
            .unwrap();
        for slot in *start..=*end {
            owners[slot as usize] = index;
        }
    }
    assert!(owners.iter().all(|&o| o < 3), "every slot is served");
    owners
}

/// The master that holds a request's key.
async fn owner(cluster: &RedisCluster, owners: &[usize], request: &Signed) -> usize {
    let mut conn = node(&cluster.masters[owners[0]].url()).await;
    let slot: i64 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key(request))
        .query_async(&mut conn)
        .await
        .unwrap();
    owners[slot as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_a_cluster_and_a_stopped_master_fails_only_its_keys_closed() {
    let mut cluster = RedisCluster::start();
    let clock = clock();
    let servers = [
        serve(builder(&clock).replay_guard(guard(&cluster)).build()).await,
        serve(builder(&clock).replay_guard(guard(&cluster)).build()).await,
    ];

    // Accepted by one node, refused by the other (and by the first).
    let requests: Vec<Signed> = (0..30)
        .map(|i| Signed::find(&format!("spread-{i}"), NOW))
        .collect();
    for (i, request) in requests.iter().enumerate() {
        assert_ok(&request.send(&servers[i % 2]).await);
    }
    for (i, request) in requests.iter().enumerate() {
        assert_replayed(&request.send(&servers[(i + 1) % 2]).await);
        assert_replayed(&request.send(&servers[i % 2]).await);
    }

    // The keys spread over every master: each holds some, together all of them.
    let mut everywhere = HashSet::new();
    for master in &cluster.masters {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{PREFIX}*"))
            .query_async(&mut node(&master.url()).await)
            .await
            .unwrap();
        assert!(!keys.is_empty(), "master {} holds no key", master.port);
        everywhere.extend(keys);
    }
    let expected: HashSet<String> = requests.iter().map(key).collect();
    assert_eq!(everywhere, expected);

    // Of concurrent identical requests over both nodes, exactly one is accepted.
    assert_eq!(race(&Signed::find("race", NOW), &servers, 16).await, 1);

    // One master stops: requests whose keys live on it fail closed within the timeout; the
    // others are served as before.
    let owners = slot_owners(&cluster).await;
    let down = 1;
    cluster.masters[down].stop();
    let fresh: Vec<Signed> = (0..30)
        .map(|i| Signed::find(&format!("while-down-{i}"), NOW))
        .collect();
    let mut on_down = Vec::new();
    for (i, request) in fresh.iter().enumerate() {
        let home = owner(&cluster, &owners, request).await;
        let started = Instant::now();
        let got = request.send(&servers[i % 2]).await;
        let took = started.elapsed();
        if home == down {
            assert_unavailable(&got);
            assert!(took < TIMEOUT * 3, "{took:?}");
            on_down.push(request.clone());
        } else {
            assert_ok(&got);
            assert!(took < TIMEOUT * 3, "{took:?}");
        }
    }
    assert!(!on_down.is_empty(), "some keys hash to the stopped master");
    assert!(on_down.len() < fresh.len(), "some keys hash to the others");
    // Replays of requests recorded on the live masters are still refused.
    for request in &requests {
        if owner(&cluster, &owners, request).await != down {
            assert_replayed(&request.send(&servers[0]).await);
        }
    }

    // The master returns (empty: it kept no data): its requests are served again, without
    // restarting either node.
    cluster.masters[down].restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    for (i, request) in on_down.iter().enumerate() {
        loop {
            let got = request.send(&servers[i % 2]).await;
            if got.0 == 200 {
                break;
            }
            assert_unavailable(&got);
            assert!(
                Instant::now() < deadline,
                "the stopped master never came back"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_replayed(&request.send(&servers[(i + 1) % 2]).await);
    }
    for i in 0..10 {
        let request = Signed::find(&format!("after-{i}"), NOW);
        assert_ok(&request.send(&servers[i % 2]).await);
        assert_replayed(&request.send(&servers[(i + 1) % 2]).await);
    }
}

#[tokio::test]
async fn clients_and_tokens_live_on_the_cluster_too() {
    use janrain_auth::credentials::ClientId;
    use janrain_auth::server::redis_store::RedisClientStore;
    use janrain_auth::server::{ClientStore, TokenRecord, TokenVerifier};
    use std::time::SystemTime;

    let cluster = RedisCluster::start();
    let store = RedisClientStore::cluster(cluster.urls())
        .key_prefix("janrain-auth-test:cluster-store:")
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let imported = store.import(support::CLIENTS).await.unwrap();
    assert_eq!(imported.clients, 8);
    // The client keys spread over the masters too.
    let mut holders = 0;
    for master in &cluster.masters {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("janrain-auth-test:cluster-store:client:*")
            .query_async(&mut node(&master.url()).await)
            .await
            .unwrap();
        holders += usize::from(!keys.is_empty());
    }
    assert!(holders >= 2, "client keys on {holders} master(s)");
    let reader = store.client("reader_client").await.unwrap().unwrap();
    assert_eq!(reader.secret_count(), 1);
    assert!(store.client("ghost_client").await.unwrap().is_none());

    let tokens = store.tokens();
    let record = TokenRecord::new(
        ClientId::new("login_client").unwrap(),
        SystemTime::now() + Duration::from_secs(60),
    );
    tokens.issue("cluster-token", &record).await.unwrap();
    let found = tokens.lookup("cluster-token").await.unwrap().unwrap();
    assert_eq!(found.client_id.as_str(), "login_client");
}

/// The cluster slot of a key without hash tags: CRC16 (XMODEM) modulo 16384.
fn slot(key: &str) -> usize {
    let mut crc: u16 = 0;
    for &byte in key.as_bytes() {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    usize::from(crc) % 16_384
}

/// Tallies of a mixed-traffic phase.
#[derive(Default, Debug)]
struct Tally {
    sent: u64,
    /// 503s whose keys live on the stopped master: the fail-closed window.
    fail_closed: u64,
    /// Any other 5xx.
    other_5xx: u64,
    /// An answer other than the one expected.
    wrong: Vec<String>,
}

/// Whether `base` accepts a fresh request whose guard key lives on master `master`.
async fn accepts_on(base: &str, master: usize, owners: &[usize], tag: &str) -> bool {
    for i in 0.. {
        let request = Signed::find(&format!("{tag}-{i}"), NOW);
        if owners[slot(&key(&request))] == master {
            return request.send(base).await.0 == 200;
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_traffic_on_two_nodes_fails_closed_only_for_a_stopped_masters_keys() {
    use janrain_auth::server::VerifyLayer;
    use janrain_auth::server::redis_store::RedisClientStore;
    use std::sync::{Arc, Mutex};

    const WORKERS: usize = 8;
    const PHASE: Duration = Duration::from_millis(1500);
    let mut cluster = RedisCluster::start();
    let stores: Vec<RedisClientStore> = (0..2)
        .map(|_| {
            RedisClientStore::cluster(cluster.urls())
                .key_prefix("janrain-auth-test:mixed:")
                // Longer than the test: the clients stay cached through the outage.
                .cache_ttl(Duration::from_secs(60))
                .timeout(TIMEOUT)
                .build()
                .unwrap()
        })
        .collect();
    stores[0].import(support::CLIENTS).await.unwrap();
    let mut servers = Vec::new();
    for store in &stores {
        let layer = VerifyLayer::builder(store.clone())
            .token_verifier(store.tokens())
            .clock(clock())
            .replay_guard(guard(&cluster))
            .build();
        servers.push(serve(layer).await);
    }
    let servers = Arc::new(servers);
    let owners = Arc::new(slot_owners(&cluster).await);
    let token_key = stores[0].tokens().token_key("demo-access-token");
    // The master to stop: not the one holding the token (whose logins would then all fail).
    let stopped = (0..3).find(|&m| m != owners[slot(&token_key)]).unwrap();

    let down: Arc<Mutex<Option<usize>>> = Arc::default();
    let run = |phase: &'static str| {
        let (servers, owners, down) = (servers.clone(), owners.clone(), down.clone());
        async move {
            let tally = Arc::new(Mutex::new(Tally::default()));
            let deadline = Instant::now() + PHASE;
            let workers: Vec<_> = (0..WORKERS)
                .map(|w| {
                    let (servers, owners, down, tally) =
                        (servers.clone(), owners.clone(), down.clone(), tally.clone());
                    tokio::spawn(async move {
                        let http = reqwest::Client::new();
                        let mut n = 0usize;
                        while Instant::now() < deadline {
                            n += 1;
                            let base = &servers[(w + n) % 2];
                            let other = &servers[(w + n + 1) % 2];
                            // (answer, expected status, expected code, may fail closed)
                            let mut checks = Vec::new();
                            match n % 4 {
                                0 | 1 => {
                                    let request = Signed::find(&format!("{phase}-{w}-{n}"), NOW);
                                    let home = owners[slot(&key(&request))];
                                    let may_fail = *down.lock().unwrap() == Some(home);
                                    let first = request.send(base).await;
                                    let accepted = first.0 == 200;
                                    checks.push((first, 200, 0, may_fail));
                                    // A refused request was not recorded: no replay to check.
                                    if accepted {
                                        let again = request.send(other).await;
                                        checks.push((again, 401, 434, may_fail));
                                    }
                                }
                                2 => {
                                    let got = support::send(support::form_post(
                                        &http,
                                        format!("{base}/oauth/link_account_native"),
                                        &[
                                            ("client_id", "login_client"),
                                            ("access_token", "demo-access-token"),
                                        ],
                                    ))
                                    .await;
                                    checks.push((got, 200, 0, false));
                                }
                                _ => {
                                    let mut forged = Signed::find(&format!("forged-{w}-{n}"), NOW);
                                    forged.secret = "not-the-secret";
                                    checks.push((forged.send(base).await, 401, 431, false));
                                }
                            }
                            let mut tally = tally.lock().unwrap();
                            for ((status, body), want, code, may_fail) in checks {
                                tally.sent += 1;
                                if status == want && (code == 0 || body["code"] == code) {
                                    continue;
                                }
                                if status == 503 && may_fail && body["code"] == 504 {
                                    tally.fail_closed += 1;
                                } else {
                                    if status >= 500 {
                                        tally.other_5xx += 1;
                                    }
                                    tally.wrong.push(format!("{phase}: {status} {body}"));
                                }
                            }
                        }
                    })
                })
                .collect();
            for worker in workers {
                worker.await.unwrap();
            }
            Arc::try_unwrap(tally).unwrap().into_inner().unwrap()
        }
    };

    let before = run("before").await;
    cluster.masters[stopped].stop();
    *down.lock().unwrap() = Some(stopped);
    let during = run("during").await;
    cluster.masters[stopped].restart().unwrap();
    // Both nodes accept requests whose keys live on the returned master again, by themselves.
    let deadline = Instant::now() + Duration::from_secs(20);
    for (i, base) in servers.iter().enumerate() {
        while !accepts_on(base, stopped, &owners, &format!("probe-{i}")).await {
            assert!(Instant::now() < deadline, "node {i} never recovered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    *down.lock().unwrap() = None;
    let after = run("after").await;

    for (phase, tally) in [("before", &before), ("during", &during), ("after", &after)] {
        eprintln!(
            "{phase}: {} answers in {PHASE:?} ({:.0}/s), {} fail-closed 503, {} other 5xx, {} wrong",
            tally.sent,
            tally.sent as f64 / PHASE.as_secs_f64(),
            tally.fail_closed,
            tally.other_5xx,
            tally.wrong.len()
        );
        assert!(
            tally.wrong.is_empty(),
            "{phase}: {:?}",
            &tally.wrong[..tally.wrong.len().min(5)]
        );
        assert_eq!(tally.other_5xx, 0);
    }
    assert_eq!(before.fail_closed + after.fail_closed, 0);
    assert!(
        during.fail_closed > 0,
        "some keys live on the stopped master"
    );
    assert!(
        during.sent > 2 * during.fail_closed,
        "the other masters kept serving"
    );
}
