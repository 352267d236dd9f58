//! The server example's Redis flags, checked from outside: two processes share clients and
//! tokens in Redis (`--clients redis://...`, one of them importing the demo clients file with
//! `--import-clients`) and a Redis Cluster for replays (`--replay redis-cluster://...`).
//!
//! The test asks cargo for the example first (`support::example_binary!`): built from its current
//! sources with this test's features and profile, also when only this test binary is built
//! (`cargo test --test server`).

use janrain_auth_test_support as support;

use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

use janrain_auth::scheme::Datetime;
use support::example_server::ExampleServer as Server;
use support::redis_servers::{DeleteOnDrop, RedisCluster, standalone_url};
use support::{Signed, assert_error, assert_ok, assert_replayed, form_post, send};

/// The example, built from its current sources.
fn example_binary() -> PathBuf {
    support::example_binary!("server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_example_servers_share_clients_tokens_and_replays_through_redis() {
    let bin = example_binary();
    let cluster = RedisCluster::start();
    let nonce = RandomState::new().hash_one(SystemTime::now());
    let prefix = format!("janrain-auth-test:{nonce:016x}:example:");
    let _cleanup = DeleteOnDrop(prefix.clone());
    let clients = standalone_url();
    let replay = format!(
        "redis-cluster://{}",
        cluster
            .masters
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.port))
            .collect::<Vec<_>>()
            .join(",")
    );
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-clients.json");
    let common = [
        "--clients",
        clients.as_str(),
        "--redis-prefix",
        prefix.as_str(),
        "--cache-ttl-seconds",
        "1",
        "--replay",
        replay.as_str(),
    ];
    let first = Server::start(&bin, &[&common[..], &["--import-clients", demo]].concat());
    let second = Server::start(&bin, &common);

    let now = Datetime::from_system_time(SystemTime::now())
        .unwrap()
        .to_string();
    let request = Signed::find("example", &now);
    assert_ok(&request.send(&first.base).await);
    assert_replayed(&request.send(&second.base).await);

    let http = reqwest::Client::new();
    for base in [&first.base, &second.base] {
        let token = |token: &'static str| {
            send(form_post(
                &http,
                format!("{base}/oauth/link_account_native"),
                &[("client_id", "login_client"), ("access_token", token)],
            ))
        };
        assert_ok(&token("demo-access-token").await);
        assert_error(
            &token("second-client-token").await,
            401,
            419,
            "access_token_client_mismatch",
        );
    }

    // --import-clients without Redis clients is a usage error.
    let out = Command::new(&bin)
        .args(["--import-clients", demo])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--import-clients needs"));
}
