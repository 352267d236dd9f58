//! The `sign` example: its logic in process, and the built binary end to end.
//!
//! `cargo test` builds the examples before it runs the integration tests, so the binary sits in
//! `target/<profile>/examples/`, next to this test's `deps/` directory. When only this test is
//! built (`cargo test --test sign_example`), the binary tests say so and check nothing; the
//! in-process tests still run.

#[allow(dead_code)]
#[path = "../examples/sign.rs"]
mod sign;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sign::{HELP, Outcome, USAGE, run};

const VECTOR_3: [&str; 10] = [
    "--client-id",
    "apkrahlfumwse2e9nvrrotv6vchuptzw",
    "--secret",
    "rylicq8ydkz0vmki3gqaoxbk4gyrr05t",
    "--endpoint",
    "/entity.find",
    "--date",
    "2016-02-26 19:08:44",
    "entity_type=user",
    "filter=lastUpdated >= '2016-01-01'",
];

const VECTOR_3_OUT: &str = "Date: 2016-02-26 19:08:44\n\
                            Authorization: Signature apkrahlfumwse2e9nvrrotv6vchuptzw:+Bf5W9YKRhi5AoVTbxvhzuJXDUQ=\n";

const BASIC: [&str; 5] = ["--basic", "--client-id", "abcdefg", "--secret", "hijklmnop"];

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn never() -> SystemTime {
    panic!("the clock must not be read when --date is given")
}

fn run_with(args: &[&str]) -> Outcome {
    run(&os(args), never)
}

fn usage_error(args: &[&str]) -> String {
    match run_with(args) {
        Outcome::Usage(message) => {
            assert!(!message.contains('\n'), "{message:?} is more than one line");
            assert!(!message.is_empty());
            message
        }
        other => panic!("{args:?}: expected a usage error, got {other:?}"),
    }
}

#[test]
fn vector_3() {
    assert_eq!(run_with(&VECTOR_3), Outcome::Print(VECTOR_3_OUT.into()));
    // Parameters in any order, and flags after them.
    let mut reordered = VECTOR_3[8..].to_vec();
    reordered.reverse();
    reordered.extend_from_slice(&VECTOR_3[..8]);
    assert_eq!(run_with(&reordered), Outcome::Print(VECTOR_3_OUT.into()));
    // The `--flag=value` form.
    let inline = [
        "--client-id=apkrahlfumwse2e9nvrrotv6vchuptzw",
        "--secret=rylicq8ydkz0vmki3gqaoxbk4gyrr05t",
        "--endpoint=/entity.find",
        "--date=2016-02-26 19:08:44",
        "entity_type=user",
        "filter=lastUpdated >= '2016-01-01'",
    ];
    assert_eq!(run_with(&inline), Outcome::Print(VECTOR_3_OUT.into()));
}

#[test]
fn the_other_vectors() {
    // Vector 1 (the reference library's own test), with '=' and '\n' inside a value.
    let out = run_with(&[
        "--client-id",
        "foo",
        "--secret",
        "bar",
        "--endpoint",
        "/entity",
        "--date",
        "2000-01-01 01:01:01",
        "param1=this is a string",
        "param2=10",
        "param3=one=1\ntwo=2,three=3",
    ]);
    assert_eq!(
        out,
        Outcome::Print(
            "Date: 2000-01-01 01:01:01\nAuthorization: Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=\n"
                .into()
        )
    );
    // No parameters (vector 4), and an empty value (vector 12) next to an empty key.
    let no_params = run_with(&[
        "--client-id",
        "apkrahlfumwse2e9nvrrotv6vchuptzw",
        "--secret",
        "rylicq8ydkz0vmki3gqaoxbk4gyrr05t",
        "--endpoint",
        "/settings/items",
        "--date",
        "2016-02-26 19:08:44",
    ]);
    assert_eq!(
        no_params,
        Outcome::Print(
            "Date: 2016-02-26 19:08:44\nAuthorization: Signature apkrahlfumwse2e9nvrrotv6vchuptzw:BGZT1jEbwdA2cEwIQRVoSiI2vqo=\n"
                .into()
        )
    );
    let empty_value = run_with(&[
        "--client-id",
        "apkrahlfumwse2e9nvrrotv6vchuptzw",
        "--secret",
        "rylicq8ydkz0vmki3gqaoxbk4gyrr05t",
        "--endpoint",
        "/entity.count",
        "--date",
        "2021-03-04 05:06:07",
        "--",
        "type_name=user",
        "filter=",
    ]);
    assert_eq!(
        empty_value,
        Outcome::Print(
            "Date: 2021-03-04 05:06:07\nAuthorization: Signature apkrahlfumwse2e9nvrrotv6vchuptzw:B/x9WHGXiijr5iiWKiPpfZMr+/s=\n"
                .into()
        )
    );
}

#[test]
fn empty_keys_and_parameters_after_double_dash() {
    let base = [
        "--client-id",
        "c",
        "--secret",
        "s",
        "--endpoint",
        "/e",
        "--date",
        "2000-01-01 00:00:00",
    ];
    let with = |params: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(params);
        run_with(&args)
    };
    // `=v` is the empty key; it signs like the pair ("", "v").
    let expected = {
        use janrain_auth::scheme::{SigningKey, StringToSign};
        let sig = SigningKey::new("s").sign(&StringToSign::new(
            "/e",
            "2000-01-01 00:00:00",
            &[("", "v"), ("--k", "a=b")],
        ));
        format!("Date: 2000-01-01 00:00:00\nAuthorization: Signature c:{sig}\n")
    };
    assert_eq!(with(&["=v", "--", "--k=a=b"]), Outcome::Print(expected));
}

#[test]
fn current_time_without_date() {
    let at = UNIX_EPOCH + Duration::from_secs(1_456_513_724) + Duration::from_millis(999);
    let out = run(
        &os(&VECTOR_3[..6])
            .into_iter()
            .chain(os(&VECTOR_3[8..]))
            .collect::<Vec<_>>(),
        || at,
    );
    assert_eq!(out, Outcome::Print(VECTOR_3_OUT.into()));
    // A clock outside 0000-9999 is a failure, not a usage error.
    let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    assert!(matches!(
        run(&os(&VECTOR_3[..6]), || far),
        Outcome::Failure(_)
    ));
}

#[test]
fn basic() {
    assert_eq!(
        run_with(&BASIC),
        Outcome::Print("Authorization: Basic YWJjZGVmZzpoaWprbG1ub3A=\n".into())
    );
    for extra in [
        &["--endpoint", "/e"][..],
        &["--date", "2000-01-01 00:00:00"],
        &["a=b"],
    ] {
        let mut args = BASIC.to_vec();
        args.extend_from_slice(extra);
        let message = usage_error(&args);
        assert!(message.contains("--basic"), "{message}");
    }
}

#[test]
fn help() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["--client-id", "x", "--help"],
        &["--bogus", "--help"],
    ] {
        assert_eq!(run_with(args), Outcome::Print(HELP.into()), "{args:?}");
    }
    assert!(HELP.contains("--client-id") && HELP.contains("--basic"));
    assert!(!USAGE.contains('\n'));
}

#[test]
fn bad_arguments() {
    let ok = &VECTOR_3[..8];
    let with = |replace: &[(usize, &'static str)], extra: &[&'static str]| {
        let mut args = ok.to_vec();
        for &(i, v) in replace {
            args[i] = v;
        }
        args.extend_from_slice(extra);
        args
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], "missing --client-id"),
        (with(&[], &["--bogus", "x"]), "unknown flag"),
        (with(&[], &["-x=1"]), ""), // a parameter with key "-x": fine, checked below
        (with(&[], &["novalue"]), "must be key=value"),
        (with(&[(1, "has space")], &[]), "--client-id"),
        (with(&[(1, "a:b")], &[]), "--client-id"),
        (with(&[(3, "")], &[]), "--secret"),
        (with(&[(5, "entity.find")], &[]), "start with '/'"),
        (with(&[(5, "/entity.find?x=1")], &[]), "path only"),
        (with(&[(5, "/a b")], &[]), "whitespace"),
        (with(&[(7, "2016-02-26T19:08:44")], &[]), "--date"),
        (with(&[(7, "2016-02-30 19:08:44")], &[]), "--date"),
        (with(&[(7, "Fri, 26 Feb 2016 19:08:44 GMT")], &[]), "--date"),
        (with(&[], &["--date", "2016-02-26 19:08:44"]), "given twice"),
        (with(&[], &["--basic=yes"]), "--basic"),
        (with(&[], &["--basic", "--basic"]), "--basic"),
        (ok[..7].to_vec(), "--date needs a value"),
        (vec!["--client-id", "--secret", "s"], "needs a value"),
        (
            vec!["--secret", "s", "--endpoint", "/e"],
            "missing --client-id",
        ),
        (
            vec!["--client-id", "c", "--endpoint", "/e"],
            "missing --secret",
        ),
        (
            vec!["--client-id", "c", "--secret", "s"],
            "missing --endpoint",
        ),
    ];
    for (args, needle) in cases {
        if needle.is_empty() {
            assert!(matches!(run_with(&args), Outcome::Print(_)), "{args:?}");
            continue;
        }
        let message = usage_error(&args);
        assert!(
            message.contains(needle),
            "{args:?}: {message:?} lacks {needle:?}"
        );
        assert!(!message.contains("rylicq8"), "the secret leaked: {message}");
    }
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_refused() {
    use std::os::unix::ffi::OsStringExt;
    let mut args = os(&VECTOR_3);
    args.push(OsString::from_vec(vec![b'k', b'=', 0xff]));
    match run(&args, never) {
        Outcome::Usage(message) => assert!(message.contains("UTF-8"), "{message}"),
        other => panic!("{other:?}"),
    }
}

/// The built example, if `cargo test` built it.
fn example_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir
        .join("examples")
        .join(format!("sign{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "note: {} is not built (run the whole `cargo test`, or `cargo build --example sign`); skipping the binary checks",
            path.display()
        );
        None
    }
}

#[test]
fn binary_vector_3() {
    let Some(bin) = example_binary() else { return };
    let out = Command::new(&bin)
        .args(VECTOR_3)
        .output()
        .expect("the example runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), VECTOR_3_OUT);
    assert!(out.stderr.is_empty());
}

#[test]
fn binary_basic_help_and_now() {
    let Some(bin) = example_binary() else { return };
    let out = Command::new(&bin).args(BASIC).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stdout,
        b"Authorization: Basic YWJjZGVmZzpoaWprbG1ub3A=\n"
    );

    let out = Command::new(&bin).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), HELP);

    // Without --date: a Date line with the current UTC time, and a signature of that time.
    let out = Command::new(&bin).args(&VECTOR_3[..6]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let date = lines[0].strip_prefix("Date: ").expect("a Date line");
    let parsed: janrain_auth::scheme::Datetime = date.parse().expect("the strict datetime form");
    let now = janrain_auth::scheme::Datetime::from_system_time(SystemTime::now()).unwrap();
    assert!(
        (now.unix_seconds() - parsed.unix_seconds()).abs() < 300,
        "{date}"
    );
    assert!(lines[1].starts_with("Authorization: Signature apkrahlfumwse2e9nvrrotv6vchuptzw:"));
}

#[test]
fn binary_bad_arguments_exit_2() {
    let Some(bin) = example_binary() else { return };
    for args in [
        &["--bogus"][..],
        &["--client-id"],
        &["--client-id", "a b", "--secret", "s", "--endpoint", "/e"],
        &["--client-id", "c", "--secret", "", "--endpoint", "/e"],
        &[
            "--client-id",
            "c",
            "--secret",
            "s",
            "--endpoint",
            "/e",
            "--date",
            "yesterday",
        ],
        &["--client-id", "c", "--secret", "s", "--endpoint", "e"],
        &[
            "--client-id",
            "c",
            "--secret",
            "s",
            "--endpoint",
            "/e",
            "nokeyvalue",
        ],
    ] {
        let out = Command::new(&bin).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(lines[0].starts_with("sign: "), "{err}");
        assert_eq!(lines[1], USAGE);
    }
}
