//! Sign a janrain-signed request from the command line: print the two headers to send.
//!
//! ```text
//! cargo run --example sign -- --client-id ID --secret SECRET --endpoint /entity.find \
//!     [--date "YYYY-MM-DD HH:MM:SS"] [key=value ...]
//! Date: 2016-02-26 19:08:44
//! Authorization: Signature ID:+Bf5W9YKRhi5AoVTbxvhzuJXDUQ=
//!
//! cargo run --example sign -- --basic --client-id ID --secret SECRET
//! Authorization: Basic SUQ6U0VDUkVU
//! ```
//!
//! * Without `--date` the current UTC time is used.
//! * Each `key=value` argument is one parameter, split at its first `=` (so `=v` is the empty
//!   key with value `v`, and `k=a=b` is `k` with value `a=b`), signed raw as the spec says: pass
//!   the values as they will be sent, before any URL-encoding. After `--`, every argument is a
//!   parameter, even one that starts with `--`.
//! * Flags take their value as the next argument or after `=` (`--secret=--odd`); a value that
//!   starts with `--` must use the `=` form.
//! * `--basic` prints the Basic header only. It refuses `--endpoint`, `--date` and parameters
//!   rather than ignoring them: Basic credentials sign nothing, and a silently unused
//!   parameter would look signed.
//!
//! Bad arguments print one line saying what is wrong and a usage line on stderr, and exit with
//! status 2; `--help` prints the usage and exits 0.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::scheme::{Datetime, SigningKey, StringToSign, basic_header, signature_header};

/// The one-line usage printed after an error.
const USAGE: &str = "usage: sign --client-id ID --secret SECRET --endpoint /path \
                         [--date \"YYYY-MM-DD HH:MM:SS\"] [key=value ...] | \
                         sign --basic --client-id ID --secret SECRET | sign --help";

/// What `--help` prints.
const HELP: &str = "\
Sign a janrain-signed request: print its Date and Authorization headers.

usage: sign --client-id ID --secret SECRET --endpoint /path [--date \"YYYY-MM-DD HH:MM:SS\"] [key=value ...]
       sign --basic --client-id ID --secret SECRET
       sign --help

  --client-id ID   the API client's id
  --secret SECRET  the API client's secret
  --endpoint PATH  the operation's URL path, e.g. /entity.find (no host, no query)
  --date DATETIME  the UTC datetime to sign, YYYY-MM-DD HH:MM:SS (default: now)
  --basic          print the Basic header instead (no endpoint, date or parameters)
  key=value        a parameter, split at the first '='; raw, not URL-encoded
  --               every later argument is a parameter

Flags take their value as the next argument or after '=' (--secret=VALUE).
Exit status: 0 printed, 2 bad arguments, 1 anything else.
";

/// What a run produced.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Print this on stdout and exit 0.
    Print(String),
    /// Bad arguments: print this one-line message and [`USAGE`] on stderr and exit 2.
    Usage(String),
    /// Anything else went wrong: print this on stderr and exit 1.
    Failure(String),
}

#[derive(Default)]
struct Args {
    client_id: Option<String>,
    secret: Option<String>,
    endpoint: Option<String>,
    date: Option<String>,
    basic: bool,
    params: Vec<(String, String)>,
}

/// Run with the arguments after the program name; `now` is read only without `--date`.
fn run(args: &[OsString], now: impl FnOnce() -> SystemTime) -> Outcome {
    match parse(args) {
        Ok(None) => Outcome::Print(HELP.to_owned()),
        Ok(Some(args)) => execute(args, now),
        Err(message) => Outcome::Usage(message),
    }
}

/// The arguments, or `None` for `--help`.
fn parse(raw: &[OsString]) -> Result<Option<Args>, String> {
    let mut text = Vec::with_capacity(raw.len());
    for (i, arg) in raw.iter().enumerate() {
        match arg.to_str() {
            Some(s) => text.push(s),
            None => return Err(format!("argument {} is not valid UTF-8", i + 1)),
        }
    }
    // Help wins wherever it appears among the flags.
    let flags = text.iter().take_while(|a| **a != "--");
    if flags.clone().any(|a| *a == "--help" || *a == "-h") {
        return Ok(None);
    }

    let mut args = Args::default();
    let mut rest = text.into_iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            for param in rest.by_ref() {
                args.params.push(parse_param(param)?);
            }
            break;
        }
        if !arg.starts_with("--") {
            args.params.push(parse_param(arg)?);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg, None),
        };
        if name == "--basic" {
            if inline.is_some() {
                return Err("--basic takes no value".into());
            }
            if args.basic {
                return Err("--basic given twice".into());
            }
            args.basic = true;
            continue;
        }
        let slot = match name {
            "--client-id" => &mut args.client_id,
            "--secret" => &mut args.secret,
            "--endpoint" => &mut args.endpoint,
            "--date" => &mut args.date,
            _ => {
                return Err(format!(
                    "unknown flag {name:?} (a parameter that starts with -- goes after --)"
                ));
            }
        };
        let value = match inline {
            Some(value) => value,
            None => match rest.next() {
                None => return Err(format!("{name} needs a value")),
                Some(next) if next.starts_with("--") => {
                    return Err(format!(
                        "{name} needs a value, got the flag {next:?} (write {name}=VALUE for a value that starts with --)"
                    ));
                }
                Some(next) => next,
            },
        };
        if slot.is_some() {
            return Err(format!("{name} given twice"));
        }
        *slot = Some(value.to_owned());
    }
    Ok(Some(args))
}

/// `key=value`, split at the first `=`.
fn parse_param(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
        None => Err(format!("parameter {arg:?} must be key=value")),
    }
}

fn execute(args: Args, now: impl FnOnce() -> SystemTime) -> Outcome {
    let usage = |message: String| Outcome::Usage(message);
    let Some(id) = args.client_id else {
        return usage("missing --client-id".into());
    };
    let client_id = match ClientId::new(&id) {
        Ok(id) => id,
        Err(e) => return usage(format!("invalid --client-id: {e}")),
    };
    let Some(secret) = args.secret else {
        return usage("missing --secret".into());
    };
    let secret = match ClientSecret::new(secret) {
        Ok(secret) => secret,
        Err(e) => return usage(format!("invalid --secret: {e}")),
    };

    if args.basic {
        if args.endpoint.is_some() || args.date.is_some() || !args.params.is_empty() {
            return usage(
                "--basic signs nothing: it takes no --endpoint, --date or parameters".into(),
            );
        }
        let header = basic_header(&client_id, &secret);
        return Outcome::Print(format!(
            "Authorization: {}\n",
            header_text(header.as_bytes())
        ));
    }

    let Some(endpoint) = args.endpoint else {
        return usage("missing --endpoint (the operation's path, e.g. /entity.find)".into());
    };
    if let Err(why) = check_endpoint(&endpoint) {
        return usage(format!("invalid --endpoint {endpoint:?}: {why}"));
    }
    let date = match args.date {
        Some(text) => match text.parse::<Datetime>() {
            Ok(date) => date,
            Err(e) => return usage(format!("invalid --date {text:?}: {e}")),
        },
        None => match Datetime::from_system_time(now()) {
            Ok(date) => date,
            Err(e) => return Outcome::Failure(format!("the system clock has no datetime: {e}")),
        },
    };
    let date = date.to_string();

    let key = SigningKey::new(secret.expose());
    let signature = key.sign(&StringToSign::new(&endpoint, &date, args.params.as_slice()));
    let header = signature_header(&client_id, &signature);
    Outcome::Print(format!(
        "Date: {date}\nAuthorization: {}\n",
        header_text(header.as_bytes())
    ))
}

/// Why `endpoint` is not a root-anchored URL path: the string to sign begins with it.
fn check_endpoint(endpoint: &str) -> Result<(), &'static str> {
    if !endpoint.starts_with('/') {
        return Err("it must start with '/'");
    }
    if endpoint.contains(['?', '#']) {
        return Err("it must be the path only: the query string is not part of it");
    }
    if endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("a URL path holds no whitespace or control characters");
    }
    Ok(())
}

/// Header values this example builds are ASCII.
fn header_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let (text, to_stdout, code) = match run(&args, SystemTime::now) {
        Outcome::Print(text) => (text, true, 0),
        Outcome::Usage(message) => (format!("sign: {message}\n{USAGE}\n"), false, 2),
        Outcome::Failure(message) => (format!("sign: {message}\n"), false, 1),
    };
    // Write errors (a closed pipe) end the program quietly, with a failure status.
    let written = if to_stdout {
        std::io::stdout().lock().write_all(text.as_bytes())
    } else {
        std::io::stderr().lock().write_all(text.as_bytes())
    };
    match written {
        Ok(()) => ExitCode::from(code),
        Err(_) => ExitCode::FAILURE,
    }
}
