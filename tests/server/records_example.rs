//! The outside contract, checked from outside: `server --records FILE` serves the records over
//! HTTP behind the layer (the demo clients), and `client --find-all` pages every match of a
//! filter against it; writes through the `client` example are seen by later reads; a records
//! file that cannot be read stops the server with a message.

use janrain_auth_test_support as support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::READER;
use support::example_server::ExampleServer as Server;

/// A file of its own in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn with(name: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!("janrain-auth-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Run the `client` example as the demo reader (or `--client-id` in `args`); (exit status,
/// stdout, stderr).
fn client(bin: &Path, base: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin)
        .args(["--base-url", base])
        .args(args)
        .output()
        .expect("the client example runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn as_reader<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--client-id", READER.0, "--secret", READER.1];
    all.extend_from_slice(args);
    all
}

#[test]
fn the_server_serves_records_and_the_client_pages_them() {
    let server_bin = support::example_binary!("server");
    let client_bin = support::example_binary!("client");
    let users: Vec<Value> = (1..=25)
        .map(|n| {
            json!({
                "uuid": format!("user-{n}"),
                "email": format!("user{n}@example.com"),
                "plan": if n % 3 == 0 { "pro" } else { "free" },
            })
        })
        .collect();
    let file = TempFile::with(
        "records.json",
        &json!({"user": users, "customer": []}).to_string(),
    );
    let server = Server::start(&server_bin, &["--records", file.path()]);

    // Every "free" user, four a page: 17 records over five pages.
    let (code, out, err) = client(
        &client_bin,
        &server.base,
        &as_reader(&[
            "--find-all",
            "type_name=user",
            "filter=plan = 'free'",
            "max_results=4",
            "--json",
            r#"attributes=["email"]"#,
        ]),
    );
    assert_eq!(code, 0, "{err}");
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.pop(), Some("records: 17"), "{out}");
    let printed: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let expected: Vec<Value> = (1..=25)
        .filter(|n| n % 3 != 0)
        .map(|n| json!({"email": format!("user{n}@example.com"), "id": n}))
        .collect();
    assert_eq!(printed, expected);

    // A write, then a read that sees it.
    let direct = [
        "--client-id",
        "direct_client",
        "--secret",
        support::secret("direct_client"),
    ];
    let mut update = direct.to_vec();
    update.extend([
        "--endpoint",
        "/entity.update",
        "type_name=user",
        "uuid=user-3",
        "--json",
        r#"value={"plan": "free", "givenName": "Zoë"}"#,
    ]);
    let (code, out, err) = client(&client_bin, &server.base, &update);
    assert_eq!((code, out.trim()), (0, "{}"), "{err}");
    let (code, out, err) = client(
        &client_bin,
        &server.base,
        &as_reader(&["--endpoint", "/entity", "type_name=user", "uuid=user-3"]),
    );
    assert_eq!(code, 0, "{err}");
    let read: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(read["result"]["givenName"], "Zoë");
    let (_, out, _) = client(
        &client_bin,
        &server.base,
        &as_reader(&[
            "--endpoint",
            "/entity.count",
            "type_name=user",
            "filter=plan = 'free'",
        ]),
    );
    assert_eq!(out.trim(), r#"{"total_count":18}"#);

    // Janrain's errors, as the client example prints them.
    let (code, _, err) = client(
        &client_bin,
        &server.base,
        &as_reader(&["--endpoint", "/entity", "type_name=user", "uuid=nobody"]),
    );
    assert_eq!(code, 1);
    let error: Value = serde_json::from_str(err.trim().strip_prefix("error: ").unwrap()).unwrap();
    assert_eq!(
        (error["code"].as_u64(), error["error"].as_str()),
        (Some(310), Some("record_not_found"))
    );
    let (code, _, err) = client(
        &client_bin,
        &server.base,
        &as_reader(&[
            "--endpoint",
            "/entity.find",
            "type_name=user",
            "filter=plan =",
        ]),
    );
    assert_eq!(code, 1);
    assert!(err.contains(r#""argument_name":"filter""#), "{err}");
    // The layer is in front: the reader may not write.
    let (code, _, err) = client(
        &client_bin,
        &server.base,
        &as_reader(&[
            "--endpoint",
            "/entity.delete",
            "type_name=user",
            "uuid=user-1",
        ]),
    );
    assert_eq!(code, 1);
    assert!(err.contains(r#""code":403"#), "{err}");
}

#[test]
fn without_records_the_server_echoes_and_a_bad_file_stops_it() {
    let server_bin = support::example_binary!("server");
    let client_bin = support::example_binary!("client");
    let server = Server::start(&server_bin, &[]);
    let (code, out, err) = client(
        &client_bin,
        &server.base,
        &as_reader(&["--endpoint", "/entity.find", "type_name=user"]),
    );
    assert_eq!(code, 0, "{err}");
    let echoed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(echoed["params"]["type_name"], "user");
    drop(server);

    let bad = TempFile::with("bad-records.json", r#"{"user": [{"id": "one"}]}"#);
    for (file, needle) in [
        (bad.path(), "user record #1: id is a positive integer"),
        ("/nonexistent/records.json", "cannot read the records file"),
    ] {
        let out = Command::new(&server_bin)
            .args(["--addr", "127.0.0.1:0", "--records", file])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{err}");
    }
}
