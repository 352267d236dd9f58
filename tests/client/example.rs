//! The `client` example, as users run it (the built binary), against the Identity Cloud
//! look-alike of the client tests over real HTTP on 127.0.0.1: `--json`, `--find-all`, `--get`,
//! and the one-line Janrain error; and against a server that records what it receives:
//! `--access-token` and `--login-client`.
//!
//! Each run asks cargo for the example first (`support::example_binary!`): built from its current
//! sources with this test's features and profile, also when only this test binary is built
//! (`cargo test --test client`).

use janrain_auth_test_support as support;
use janrain_auth_test_support::client as common_client;

use std::path::PathBuf;

use common_client::api_client;
use common_client::cloud::{Cloud, CloudConfig, start_cloud, users};
use common_client::recorder::{Recorder, start_recorder};
use janrain_auth::scheme::SystemClock;
use serde_json::{Value, json};

async fn cloud(records: i64) -> Cloud {
    let mut config = CloudConfig::new(vec![api_client("c", "s")], SystemClock);
    config.records = users(records);
    start_cloud(config).await
}

/// Run the example as the API client `c`; (exit status, stdout, stderr).
async fn run(cloud: &Cloud, args: &[&str]) -> (u8, String, String) {
    let base = cloud.url("");
    let mut all = vec!["--client-id", "c", "--secret", "s"];
    all.extend_from_slice(args);
    run_at(&base, &all).await
}

/// Run the example with `--base-url base` and `args` only; (exit status, stdout, stderr).
async fn run_at(base: &str, args: &[&str]) -> (u8, String, String) {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    let bin = example_binary();
    let args: Vec<String> = all.iter().map(|a| a.to_string()).collect();
    // Off the runtime's threads: the servers the example calls run on them.
    let out =
        tokio::task::spawn_blocking(move || std::process::Command::new(bin).args(args).output())
            .await
            .unwrap()
            .expect("the example runs");
    let code = out.status.code().expect("an exit status");
    (
        u8::try_from(code).expect("an exit status of 0 to 255"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The example, built from its current sources.
fn example_binary() -> PathBuf {
    support::example_binary!("client")
}

async fn recorder_run(recorder: &Recorder, args: &[&str]) -> (u8, String, String) {
    recorder.clear();
    run_at(&recorder.url(""), args).await
}

/// `--access-token TOKEN` sends `Authorization: OAuth TOKEN` and nothing of an API client (no
/// `Date`, no `client_id`), with or without `--client-id`/`--secret`, on POST, GET and
/// `--find-all`.
#[tokio::test]
async fn access_token_calls_as_the_user() {
    let recorder = start_recorder().await;
    for extra in [&[][..], &["--client-id", "c", "--secret", "s"]] {
        let mut args = vec![
            "--access-token",
            "example-token-19",
            "--endpoint",
            "/entity",
            "type_name=user",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = recorder_run(&recorder, &args).await;
        assert_eq!(code, 0, "{err}");
        let answer: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(answer["params"], json!([["type_name", "user"]]));
        let got = recorder.only();
        assert_eq!(got.authorization, ["OAuth example-token-19"], "{got:?}");
        assert_eq!(got.date, None);
        assert!(got.values("client_id").is_empty());
    }

    let (code, out, err) = recorder_run(
        &recorder,
        &[
            "--access-token",
            "example-token-19",
            "--get",
            "--endpoint",
            "/entity",
            "type_name=user",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("HTTP 200"), "{out}");
    let got = recorder.only();
    assert_eq!(
        (got.method.as_str(), got.query.as_deref()),
        ("GET", Some("type_name=user"))
    );
    assert_eq!(got.authorization, ["OAuth example-token-19"]);

    // find_all asks for a page as the user (the recorder's answer has no results).
    let (code, _, _) = recorder_run(
        &recorder,
        &[
            "--access-token",
            "example-token-19",
            "--find-all",
            "type_name=user",
        ],
    )
    .await;
    assert_eq!(code, 1);
    assert_eq!(recorder.only().authorization, ["OAuth example-token-19"]);
}

/// `--login-client` sends `--client-id` as the `client_id` parameter (form body on POST, query
/// string with `--get`) and no `Authorization` header, with or without `--secret`.
#[tokio::test]
async fn login_client_sends_client_id() {
    let recorder = start_recorder().await;
    for extra in [&[][..], &["--secret", "s"]] {
        let mut args = vec![
            "--client-id",
            "login_c",
            "--login-client",
            "--endpoint",
            "/oauth/update_profile_native",
            "flow=standard",
            "access_token=tok",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = recorder_run(&recorder, &args).await;
        assert_eq!(code, 0, "{err}");
        let answer: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            answer["params"],
            json!([
                ["flow", "standard"],
                ["access_token", "tok"],
                ["client_id", "login_c"]
            ])
        );
        let got = recorder.only();
        assert!(got.authorization.is_empty(), "{got:?}");
        assert_eq!(got.date, None);
        assert_eq!(got.query, None);
    }

    let (code, _, err) = recorder_run(
        &recorder,
        &[
            "--client-id",
            "login_c",
            "--login-client",
            "--get",
            "--endpoint",
            "/oauth/auth_native",
            "flow=standard",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let got = recorder.only();
    assert_eq!(
        got.query.as_deref(),
        Some("flow=standard&client_id=login_c")
    );
    assert!(got.authorization.is_empty());

    // A client_id among the parameters would be a second one: refused, nothing sent.
    let (code, _, err) = recorder_run(
        &recorder,
        &[
            "--client-id",
            "login_c",
            "--login-client",
            "--endpoint",
            "/oauth/auth_native",
            "client_id=other",
        ],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("client_id"), "{err}");
    assert!(recorder.seen().is_empty());
}

/// The ways to call are checked before anything is sent.
#[tokio::test]
async fn ways_to_call_are_checked() {
    let recorder = start_recorder().await;
    for bad in [
        &[
            "--access-token",
            "t",
            "--login-client",
            "--client-id",
            "c",
            "--endpoint",
            "/x",
        ][..],
        &["--access-token", "two words", "--endpoint", "/x"],
        &["--access-token", "t", "--basic", "--endpoint", "/x"],
        &["--login-client", "--endpoint", "/x"],
        &[
            "--login-client",
            "--client-id",
            "c",
            "--basic",
            "--endpoint",
            "/x",
        ],
        &["--client-id", "c", "--endpoint", "/x"],
        &["--access-token"],
    ] {
        let (code, out, err) = recorder_run(&recorder, bad).await;
        assert_eq!(code, 2, "{bad:?}: {out}{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains("usage: client"), "{err}");
        assert!(
            !err.contains("two words"),
            "a bad token is not echoed: {err}"
        );
    }
    assert!(recorder.seen().is_empty());
}

/// `--json` values are parsed and encoded by Janrain's rule; plain values go as they are; the
/// answer is one JSON line.
#[tokio::test]
async fn json_parameters_and_one_line_answers() {
    let cloud = cloud(0).await;
    let (code, out, err) = run(
        &cloud,
        &[
            "--endpoint",
            "/entity.update",
            "type_name=user",
            "uuid=a=b",
            "--json",
            r#"value={"givenName": "Zoë", "optIn": true, "tags": ["x"]}"#,
            "--json",
            "flag=true",
            "--json",
            "gone=null",
            "--json",
            "n=2.50",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    let sent: Vec<(String, String)> = serde_json::from_value(answer["params"].clone()).unwrap();
    assert_eq!(
        sent,
        [
            ("type_name", "user"),
            ("uuid", "a=b"),
            (
                "value",
                r#"{"givenName": "Zo\u00eb", "optIn": true, "tags": ["x"]}"#
            ),
            ("flag", "true"),
            ("n", "2.5"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

/// `--find-all` prints every record as one JSON line, then `records: N`, paging by id.
#[tokio::test]
async fn find_all_prints_records_then_the_count() {
    let cloud = cloud(7).await;
    let (code, out, err) = run(
        &cloud,
        &[
            "--find-all",
            "type_name=user",
            "--json",
            r#"attributes=["email"]"#,
            "--json",
            "max_results=3",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8, "{out}");
    assert_eq!(lines[7], "records: 7");
    for (n, line) in lines[..7].iter().enumerate() {
        let record: Value = serde_json::from_str(line).unwrap();
        let n = n as i64 + 1;
        assert_eq!(
            record,
            json!({"email": format!("user{n}@example.com"), "id": n * 3})
        );
    }
    assert_eq!(cloud.seen().len(), 3, "pages of 3: 3, 3, 1");
}

/// A Janrain error: exit 1, `error: ` and the whole error object, extra fields included, on
/// one line.
#[tokio::test]
async fn janrain_error_is_one_json_line() {
    let cloud = cloud(0).await;
    for get in [false, true] {
        let mut args = vec!["--endpoint", "entity.update", "value=not json"];
        if get {
            args.push("--get");
        }
        let (code, out, err) = run(&cloud, &args).await;
        assert_eq!(code, 1, "get={get}: {out}");
        assert!(out.is_empty());
        let line = err
            .strip_prefix("error: ")
            .unwrap()
            .strip_suffix('\n')
            .unwrap();
        assert!(!line.contains('\n'));
        let object: Value = serde_json::from_str(line).unwrap();
        assert_eq!(object["stat"], "error");
        assert_eq!(object["code"], 200);
        assert_eq!(object["argument_name"], "value");
        assert_eq!(object["request_id"], "arg0000000000000");
    }
}

/// The flags that were there before still work: `--get` prints the status and the body.
#[tokio::test]
async fn get_and_usage() {
    let cloud = cloud(2).await;
    let (code, out, err) = run(
        &cloud,
        &["--get", "--endpoint", "/entity.count", "type_name=user"],
    )
    .await;
    // The look-alike serves entity.count on POST only.
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("HTTP 405"), "{out}");

    for bad in [
        &["--endpoint"][..],
        &["--find-all", "--get"],
        &["--find-all", "--endpoint", "/entity.count"],
        &["--json", "k=not json"],
        &["no_equals"],
        &[],
    ] {
        let (code, out, err) = run(&cloud, bad).await;
        assert_eq!(code, 2, "{bad:?}: {out}{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains("usage: client"), "{err}");
    }
    let (code, out, _) = run(&cloud, &["--help"]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("usage: client"));
}
