//! The `sign` example, as users run it: the built binary, end to end.
//!
//! Each run asks cargo for the example first (`support::example_binary!`): built from its current
//! sources with this test's features and profile, also when only this test binary is built
//! (`cargo test --test scheme`).

use janrain_auth_test_support as support;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use janrain_auth::scheme::Datetime;

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

/// What a run of the binary produced.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Exit 0 with this on stdout, nothing on stderr.
    Print(String),
    /// Exit 2 with `sign: <this one-line message>` and the usage line on stderr.
    Usage(String),
    /// Exit 1 with `sign: <this>` on stderr.
    Failure(String),
}

/// The example, built from its current sources.
fn example_binary() -> PathBuf {
    support::example_binary!("sign")
}

/// The usage line the example prints under a usage error.
const USAGE_START: &str = "usage: sign --client-id ID --secret SECRET --endpoint /path";

/// Run the example with `args`.
fn run(args: &[OsString]) -> Outcome {
    let bin = example_binary();
    let out = Command::new(&bin)
        .args(args)
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 on stdout");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 on stderr");
    match out.status.code() {
        Some(0) => {
            assert!(stderr.is_empty(), "{args:?}: {stderr}");
            Outcome::Print(stdout)
        }
        Some(2) => {
            assert!(stdout.is_empty(), "{args:?}: {stdout}");
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 2, "{args:?}: {stderr}");
            assert!(lines[1].starts_with(USAGE_START), "{stderr}");
            let message = lines[0].strip_prefix("sign: ").expect("sign: first");
            Outcome::Usage(message.to_owned())
        }
        Some(1) => {
            let message = stderr.strip_prefix("sign: ").expect("sign: first");
            Outcome::Failure(message.trim_end().to_owned())
        }
        other => panic!("{args:?}: exit status {other:?}, stderr {stderr}"),
    }
}

fn run_with(args: &[&str]) -> Outcome {
    run(&os(args))
}

fn usage_error(args: &[&str]) -> String {
    match run_with(args) {
        Outcome::Usage(message) => {
            assert!(!message.is_empty());
            message
        }
        other => panic!("{args:?}: expected a usage error, got {other:?}"),
    }
}

/// The help text, as `--help` prints it.
fn help_text() -> String {
    match run_with(&["--help"]) {
        Outcome::Print(help) => help,
        other => panic!("--help: {other:?}"),
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

/// Without `--date` the example signs at `Datetime::from_system_time(now)`; the clock of a
/// process cannot be set, so the conversion is checked here and the binary's use of the
/// current time in `binary_basic_help_and_now`.
#[test]
fn current_time_without_date() {
    let at = UNIX_EPOCH + Duration::from_secs(1_456_513_724) + Duration::from_millis(999);
    let date = Datetime::from_system_time(at).unwrap().to_string();
    assert_eq!(date, "2016-02-26 19:08:44");
    let mut args: Vec<&str> = VECTOR_3.to_vec();
    args[7] = &date;
    assert_eq!(run_with(&args), Outcome::Print(VECTOR_3_OUT.into()));
    // A clock outside 0000-9999 has no datetime (the example then fails with exit 1).
    let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    assert!(Datetime::from_system_time(far).is_err());
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
        assert_eq!(run_with(args), Outcome::Print(help_text()), "{args:?}");
    }
    let help = help_text();
    assert!(help.contains("--client-id") && help.contains("--basic"));
    assert!(help.contains(USAGE_START));
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
    match run(&args) {
        Outcome::Usage(message) => assert!(message.contains("UTF-8"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn binary_vector_3() {
    let bin = example_binary();
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
    let bin = example_binary();
    let out = Command::new(&bin).args(BASIC).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        out.stdout,
        b"Authorization: Basic YWJjZGVmZzpoaWprbG1ub3A=\n"
    );

    let out = Command::new(&bin).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), help_text());

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
    let bin = example_binary();
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
        assert!(lines[1].starts_with(USAGE_START), "{err}");
    }
}
