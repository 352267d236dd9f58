//! The `janrain` command, as users run it (the built binary, `CARGO_BIN_EXE_janrain`), against
//! the emulator over HTTP on 127.0.0.1: the config file, the environment, each flag, the
//! errors, and on the wire the `User-Agent`, gzip asked for and a gzip answer read, signing by
//! default and form credentials with `-x`.
//!
//! The expected outputs are what Janrain's Python `capture-api` prints for the same answers
//! (`json.dumps(answer, indent=2, sort_keys=True)`), written out here so that no Python is
//! needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use janrain_auth_test_support as support;
use serde_json::{Value, json};

use crate::wire::start;

/// What `capture-api` prints for `crate::wire::scripted()`: CPython's
/// `json.dumps(answer, indent=2, sort_keys=True)` and a line break.
const SCRIPTED_OUTPUT: &str = "{\n  \"meta\": {},\n  \"result_count\": 2,\n  \"results\": [\n    {\n      \"givenName\": \"Zo\\u00eb\",\n      \"id\": 1,\n      \"score\": 1.5,\n      \"tags\": [],\n      \"uuid\": \"a1\"\n    },\n    {\n      \"emoji\": \"\\ud83d\\ude00\",\n      \"givenName\": \"\\u674e\",\n      \"id\": 2,\n      \"score\": 1e+16,\n      \"tags\": [\n        \"x\",\n        null,\n        true\n      ],\n      \"uuid\": \"b2\"\n    }\n  ],\n  \"stat\": \"ok\"\n}\n";

/// A directory of this test's own, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path =
            std::env::temp_dir().join(format!("janrain-command-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config file for the server at `base`, in the layout of Janrain's.
fn config(base: &str) -> String {
    format!(
        "defaults:
  default_client: reader

clusters:
  local:
    apid_uri: {base}

clients:
  reader:
    client_id: reader_client
    client_secret: reader-secret-6e0f2b
    apid_uri: {base}
  owner:
    cluster: local
    client_id: owner_client
    client_secret: owner-secret-4f7a1c
  direct:
    cluster: local
    client_id: direct_client
    client_secret: direct-secret-1d8c3a
  issuer:
    cluster: local
    client_id: issuer_client
    client_secret: issuer-secret-9b2e5d
  no-url:
    client_id: reader_client
    client_secret: reader-secret-6e0f2b
"
    )
}

/// `-u base -i id -s secret` for the demo client `id`.
fn as_client<'a>(base: &'a str, id: &'a str) -> [&'a str; 6] {
    ["-u", base, "-i", id, "-s", support::secret(id)]
}

/// What a run printed, and how it ended.
#[derive(Debug)]
struct Run {
    code: i32,
    out: String,
    err: String,
}

impl Run {
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "{self:?}");
        serde_json::from_str(&self.out).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

/// Run the command with `args` and only the variables `vars` (and a `HOME` of `home`).
async fn janrain(home: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_janrain"));
    command.env_clear().env("HOME", home).args(args);
    for (name, value) in vars {
        command.env(name, value);
    }
    // Off the runtime's threads: the server the command calls runs on them.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the command runs");
    Run {
        code: output.status.code().expect("an exit status"),
        out: String::from_utf8(output.stdout).unwrap(),
        err: String::from_utf8(output.stderr).unwrap(),
    }
}

#[tokio::test]
async fn the_config_file_in_every_form() {
    let server = start().await;
    let dir = Dir::new("config");
    let file = dir.write("janrain-config", &config(&server.base));
    let file = file.to_str().unwrap();
    let named = [("JANRAIN_CONFIG", file)];

    // -k as a dotted path, a bare client name, a cluster-merged client; -d; the long forms.
    for (args, client) in [
        (
            &["entity.count", "-k", "clients.reader"][..],
            "reader_client",
        ),
        (&["entity.count", "-k", "reader"], "reader_client"),
        (&["entity.count", "--config-key", "direct"], "direct_client"),
        (&["entity.count", "-d"], "reader_client"),
        (&["entity.count", "--default-client"], "reader_client"),
    ] {
        let answer = janrain(&dir.0, &named, args).await.json();
        assert_eq!(answer["client_id"], client, "{args:?}");
        assert_eq!(answer["auth"], "signature");
        assert_eq!(answer["operation"], "/entity.count");
    }

    // ~/.janrain-capture when JANRAIN_CONFIG is not set.
    dir.write(".janrain-capture", &config(&server.base));
    let answer = janrain(&dir.0, &[], &["entity.count", "-k", "direct"])
        .await
        .json();
    assert_eq!(answer["client_id"], "direct_client");

    // The entry's URL gives way to -u, and a missing one is taken from the environment.
    let elsewhere = [
        ("JANRAIN_CONFIG", file),
        ("CAPTURE_APID_URI", server.base.as_str()),
    ];
    let answer = janrain(&dir.0, &elsewhere, &["entity.count", "-k", "no-url"])
        .await
        .json();
    assert_eq!(answer["client_id"], "reader_client");
    let run = janrain(
        &dir.0,
        &named,
        &["entity.count", "-k", "reader", "-u", "127.0.0.1:9"],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.err.contains("https://127.0.0.1:9"), "{run:?}");

    // What is missing is named, with the flags that give it.
    let run = janrain(&dir.0, &named, &["entity.count", "-k", "nobody"]).await;
    assert_eq!(run.code, 1);
    assert!(run.err.starts_with("janrain: "), "{run:?}");
    for part in [
        "has no entry nobody",
        "looked for nobody, clients.nobody, clusters.nobody",
        "clients.reader",
        "clusters.local",
        file,
    ] {
        assert!(run.err.contains(part), "{part}: {run:?}");
    }
    let run = janrain(&dir.0, &named, &["entity.count", "-k", "no-url"]).await;
    assert_eq!(run.code, 1);
    assert!(run.err.contains("no API URL: give -u URL"), "{run:?}");
    assert!(
        run.err.contains("add apid_uri to clients.no-url"),
        "{run:?}"
    );
    let missing = dir.0.join("missing.yaml");
    let run = janrain(
        &dir.0,
        &[("JANRAIN_CONFIG", missing.to_str().unwrap())],
        &["entity.count", "-d"],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("cannot read the Janrain config file"),
        "{run:?}"
    );
    assert!(run.out.is_empty());
}

#[tokio::test]
async fn the_environment_and_the_order_of_sources() {
    let server = start().await;
    let dir = Dir::new("environment");
    let file = dir.write("janrain-config", &config(&server.base));
    let env = [
        ("CAPTURE_CLIENT_ID", "reader_client"),
        ("CAPTURE_CLIENT_SECRET", "reader-secret-6e0f2b"),
        ("CAPTURE_APID_URI", server.base.as_str()),
        ("JANRAIN_CONFIG", file.to_str().unwrap()),
    ];
    let client = |run: Run| run.json()["client_id"].as_str().unwrap().to_owned();

    assert_eq!(
        client(janrain(&dir.0, &env, &["entity.count"]).await),
        "reader_client"
    );
    // -i and -s first, then -k, then -d, then the environment.
    let given = [
        "entity.count",
        "-i",
        "direct_client",
        "-s",
        "direct-secret-1d8c3a",
        "-k",
        "issuer",
    ];
    assert_eq!(client(janrain(&dir.0, &env, &given).await), "direct_client");
    assert_eq!(
        client(janrain(&dir.0, &env, &["entity.count", "-k", "direct", "-d"]).await),
        "direct_client"
    );
    // -i without -s is passed over, as capture-api passes it over.
    assert_eq!(
        client(janrain(&dir.0, &env, &["entity.count", "-i", "direct_client"]).await),
        "reader_client"
    );
    // -u in its three spellings.
    for flag in ["-u", "--apid_uri", "--apid-uri"] {
        let args = [
            "entity.count",
            flag,
            &server.base,
            "-i",
            "direct_client",
            "-s",
            "direct-secret-1d8c3a",
        ];
        assert_eq!(
            client(janrain(&dir.0, &[], &args).await),
            "direct_client",
            "{flag}"
        );
    }

    // Nothing at all: what to give.
    let run = janrain(&dir.0, &[], &["entity.count", "-u", &server.base]).await;
    assert_eq!(run.code, 1);
    for part in [
        "no API client credentials",
        "-i CLIENT_ID and -s CLIENT_SECRET",
        "-k KEY",
        "-d",
        "CAPTURE_CLIENT_ID and CAPTURE_CLIENT_SECRET",
    ] {
        assert!(run.err.contains(part), "{part}: {run:?}");
    }
    let run = janrain(
        &dir.0,
        &[],
        &["entity.count", "-i", "direct_client", "-u", &server.base],
    )
    .await;
    assert!(run.err.contains("-i was given without -s"), "{run:?}");
    let run = janrain(&dir.0, &env[..2], &["entity.count"]).await;
    assert_eq!(run.code, 1);
    assert!(run.err.contains("no API URL: give -u URL"), "{run:?}");
    assert!(run.err.contains("CAPTURE_APID_URI"), "{run:?}");
    // A bare host means https://.
    let run = janrain(
        &dir.0,
        &[env[0], env[1], ("CAPTURE_APID_URI", "127.0.0.1:9")],
        &["entity.count"],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("https://127.0.0.1:9/entity.count"),
        "{run:?}"
    );
}

#[tokio::test]
async fn output_and_errors_as_capture_api_prints_them() {
    let server = start().await;
    let dir = Dir::new("output");
    let owner = as_client(&server.base, "owner_client");
    let with = |call: &'static str, more: &[&'static str]| {
        let mut args = vec![call];
        args.extend_from_slice(&owner);
        args.extend_from_slice(more);
        args
    };

    // The answer, byte for byte.
    let run = janrain(&dir.0, &[], &with("settings/items", &[])).await;
    assert_eq!(
        (run.code, run.out.as_str(), run.err.as_str()),
        (0, SCRIPTED_OUTPUT, "")
    );

    // -p: several after one flag, repeated flags, split at the first '=', a repeated key's
    // last value; Unicode sent as it is.
    let direct = as_client(&server.base, "direct_client");
    let run = janrain(
        &dir.0,
        &[],
        &[
            &["entity.count"][..],
            &direct,
            &[
                "-p",
                "type_name=user",
                "filter=a = b",
                "-p",
                "x=1",
                "-p",
                "x=2",
                "name=Zoë",
            ][..],
        ]
        .concat(),
    )
    .await;
    assert_eq!(
        run.json()["params"],
        json!({"type_name": "user", "filter": "a = b", "x": "2", "name": "Zoë"})
    );
    assert!(run.out.contains("\"name\": \"Zo\\u00eb\""), "{run:?}");

    // A Janrain error: capture-api's line, exit 1, nothing on stdout.
    let reader = as_client(&server.base, "reader_client");
    let mut args = vec!["entity.update"];
    args.extend_from_slice(&reader);
    let run = janrain(&dir.0, &[], &args).await;
    assert_eq!(run.code, 1);
    assert_eq!(
        run.err,
        "API Error 403 - this client does not have permission to call /entity.update; it needs one of the features: direct_access\n\n"
    );
    assert!(run.out.is_empty());
    // Without error_description, the message.
    let run = janrain(&dir.0, &[], &with("settings/keys", &[])).await;
    assert_eq!(
        (run.code, run.err.as_str()),
        (1, "API Error 100 - told in message\n\n")
    );
    // A wrong secret.
    let run = janrain(
        &dir.0,
        &[],
        &[
            "entity.count",
            "-u",
            &server.base,
            "-i",
            "reader_client",
            "-s",
            "wrong",
        ],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.err.starts_with("API Error 431 - "), "{run:?}");
    // Not a Janrain answer.
    let run = janrain(&dir.0, &[], &with("settings/get", &[])).await;
    assert_eq!(run.code, 1);
    assert!(
        run.err
            .contains("HTTP 502 Bad Gateway without a Janrain error object"),
        "{run:?}"
    );

    // Usage: exit 2.
    for args in [
        &["-u", "http://h"][..],
        &["-u", "http://h", "-p", "a=1", "entity.count"],
        &["entity.count", "--nonsense"],
    ] {
        let run = janrain(&dir.0, &[], args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
    }
    let run = janrain(&dir.0, &[], &with("entity.count", &["-p", "type_name"])).await;
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("\"type_name\" is not parameter=value"),
        "{run:?}"
    );
    // -v / --version.
    for flag in ["-v", "--version"] {
        let run = janrain(&dir.0, &[], &[flag]).await;
        assert_eq!(
            (run.code, run.out.as_str()),
            (0, concat!("janrain ", env!("CARGO_PKG_VERSION"), "\n"))
        );
    }
    assert!(
        server
            .take()
            .iter()
            .all(|w| w.path != "/entity.update" || w.authorization.is_some())
    );
}

#[tokio::test]
async fn on_the_wire() {
    let server = start().await;
    let dir = Dir::new("wire");
    server.take();

    // Signed by default, with the crate's User-Agent, asking for gzip; the gzip answer read.
    let reader = as_client(&server.base, "reader_client");
    let mut args = vec!["entity.count", "-p", "type_name=user"];
    args.extend_from_slice(&reader);
    let answer = janrain(&dir.0, &[], &args).await.json();
    assert_eq!(answer["params"], json!({"type_name": "user"}));
    let wire = server.only();
    assert_eq!(
        wire.user_agent.as_deref(),
        Some(concat!("janrain-auth/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(wire.accept_encoding.as_deref(), Some("gzip"));
    assert_eq!(wire.answer_encoding.as_deref(), Some("gzip"));
    assert!(
        wire.authorization
            .unwrap()
            .starts_with("Signature reader_client:")
    );
    assert!(wire.date.is_some());
    assert_eq!(wire.body, "type_name=user");

    // -a sets the User-Agent.
    args.extend_from_slice(&["-a", "nightly-export/2.0"]);
    janrain(&dir.0, &[], &args).await.json();
    assert_eq!(
        server.only().user_agent.as_deref(),
        Some("nightly-export/2.0")
    );

    // -x: client_id and client_secret as form parameters, no Authorization, no Date.
    let direct = as_client(&server.base, "direct_client");
    let mut args = vec!["entity.count", "-x", "-p", "type_name=user"];
    args.extend_from_slice(&direct);
    let answer = janrain(&dir.0, &[], &args).await.json();
    assert_eq!(answer["auth"], "form_credentials");
    assert_eq!(answer["client_id"], "direct_client");
    let wire = server.only();
    assert_eq!((wire.authorization, wire.date), (None, None));
    assert_eq!(
        wire.body,
        "type_name=user&client_id=direct_client&client_secret=direct-secret-1d8c3a"
    );
    // With no parameters at all, still in the body.
    let mut args = vec!["entity.count", "--disable-signed-requests"];
    args.extend_from_slice(&direct);
    assert_eq!(
        janrain(&dir.0, &[], &args).await.json()["auth"],
        "form_credentials"
    );
    assert_eq!(
        server.only().body,
        "client_id=direct_client&client_secret=direct-secret-1d8c3a"
    );
}

#[tokio::test]
async fn find_all_access_token_and_debug() {
    let server = start().await;
    let dir = Dir::new("modes");
    let reader = as_client(&server.base, "reader_client");

    // Every record, a page of two at a time, one sorted JSON line each.
    let mut args = vec!["--find-all", "-p", "type_name=user", "max_results=2"];
    args.extend_from_slice(&reader);
    let run = janrain(&dir.0, &[], &args).await;
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.out.lines().collect();
    assert_eq!(lines.len(), 5, "{run:?}");
    assert_eq!(
        lines[0],
        r#"{"email": "\u00e91@example.com", "id": 1, "uuid": "u1"}"#
    );
    assert_eq!(server.take().len(), 3, "pages of 2, 2 and 1");
    let mut args = vec!["entity.count", "--find-all"];
    args.extend_from_slice(&reader);
    let run = janrain(&dir.0, &[], &args).await;
    assert_eq!(run.code, 1);
    assert!(run.err.contains("--find-all pages entity.find"), "{run:?}");

    // A token issued to the login client for a user, then calls as that user, given with
    // --access-token or, as capture-api takes it, as the access_token parameter.
    let issuer = as_client(&server.base, "issuer_client");
    let mut args = vec![
        "access/getAccessToken",
        "-p",
        "type_name=user",
        "uuid=0f6e2b1c",
        "for_client_id=login_client",
    ];
    args.extend_from_slice(&issuer);
    let issued = janrain(&dir.0, &[], &args).await.json();
    let token = issued["access_token"].as_str().unwrap().to_owned();
    server.take();
    let answer = janrain(
        &dir.0,
        &[],
        &[
            "entity",
            "-u",
            &server.base,
            "--access-token",
            &token,
            "-p",
            "type_name=user",
        ],
    )
    .await
    .json();
    assert_eq!(answer["auth"], "oauth");
    assert_eq!(answer["uuid"], "0f6e2b1c");
    assert_eq!(server.only().authorization, Some(format!("OAuth {token}")));
    let as_param = format!("access_token={token}");
    let mut args = vec!["entity", "-p", "type_name=user", &as_param];
    args.extend_from_slice(&reader);
    let answer = janrain(&dir.0, &[], &args).await.json();
    assert_eq!(answer["uuid"], "0f6e2b1c");
    let wire = server.only();
    assert_eq!(wire.authorization, Some(format!("OAuth {token}")));
    assert_eq!(wire.body, "type_name=user", "the token is not a parameter");

    // -b: the exchange on stderr, secrets redacted; stdout unchanged.
    let mut args = vec![
        "entity.count",
        "-b",
        "-p",
        "type_name=user",
        "client_secret=reader-secret-6e0f2b",
    ];
    args.extend_from_slice(&reader);
    let run = janrain(&dir.0, &[], &args).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["params"], json!({"type_name": "user"}));
    for part in [
        "DEBUG:janrain:",
        "reader_client",
        "janrain-signed",
        "POST http://",
        "type_name=user",
        "HTTP 200",
    ] {
        assert!(run.err.contains(part), "{part}: {run:?}");
    }
    assert!(!run.err.contains("reader-secret-6e0f2b"), "{run:?}");
}
