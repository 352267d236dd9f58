//! The Redis replay guard on a real Redis Cluster of three masters, started by this test on
//! free loopback ports (and stopped when it ends): two verifier nodes share it, replays are
//! refused by the other node, the keys spread over every master, and with one master stopped
//! the requests whose keys live on it fail closed (503) within the guard's timeout while the
//! others keep working, until it returns.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use janrain_auth::server::RedisReplayGuard;
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
    use janrain_auth::server::{ClientStore, RedisClientStore, TokenRecord, TokenVerifier};
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
