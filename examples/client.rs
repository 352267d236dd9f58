//! Send one janrain-signed (or Basic) request through the reqwest middleware and print what
//! comes back.
//!
//! ```text
//! cargo run --example client -- --base-url http://127.0.0.1:8080 --client-id ID --secret SECRET \
//!     --endpoint /entity.count type_name=user
//! ```
//!
//! Parameters go in a url-encoded form body (POST) by default, or in the query string (GET) with
//! `--get`; `key=value` splits at the first `=`. Exit status: 0 when a response arrives,
//! whatever it says; 2 for bad arguments; 1 when the request could not be sent.
//!
//! This crate builds reqwest without TLS, so only `http://` URLs work here (a local server such
//! as the crate's server example, or a TLS-terminating proxy). In your own application, enable a
//! TLS feature of reqwest (`rustls` or `native-tls`) and `https://` works the same way.

use std::process::ExitCode;

use janrain_auth::client::{AuthMode, JanrainSigner, RequestSigner};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};

const USAGE: &str = "usage: client --base-url URL --client-id ID --secret SECRET --endpoint PATH [--basic] [--get] [key=value ...]

  --base-url URL     the API's base URL, http:// only (e.g. http://127.0.0.1:8080); its path
                     is a prefix that is not signed
  --client-id ID     the API client's id
  --secret SECRET    the API client's secret
  --endpoint PATH    the operation, e.g. /entity.count
  --basic            Basic credentials instead of janrain-signed
  --get              GET with the parameters in the query string (default: POST form)
  key=value          a parameter (split at the first '='); repeat as needed";

struct Args {
    base_url: String,
    client_id: String,
    secret: String,
    endpoint: String,
    basic: bool,
    get: bool,
    params: Vec<(String, String)>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut base_url, mut client_id, mut secret, mut endpoint) = (None, None, None, None);
    let (mut basic, mut get, mut params) = (false, false, Vec::new());
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--base-url" => base_url = Some(value("--base-url")?),
            "--client-id" => client_id = Some(value("--client-id")?),
            "--secret" => secret = Some(value("--secret")?),
            "--endpoint" => endpoint = Some(value("--endpoint")?),
            "--basic" => basic = true,
            "--get" => get = true,
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            pair => match pair.split_once('=') {
                Some((k, v)) => params.push((k.to_owned(), v.to_owned())),
                None => return Err(format!("parameter {pair:?} is not key=value")),
            },
        }
    }
    let need = |v: Option<String>, name: &str| v.ok_or_else(|| format!("{name} is required"));
    Ok(Some(Args {
        base_url: need(base_url, "--base-url")?,
        client_id: need(client_id, "--client-id")?,
        secret: need(secret, "--secret")?,
        endpoint: need(endpoint, "--endpoint")?,
        basic,
        get,
        params,
    }))
}

fn bad(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => return bad(message),
    };
    if !args.base_url.starts_with("http://") {
        return bad(format!(
            "--base-url {} is not an http:// URL: this example's reqwest has no TLS (enable a TLS feature of reqwest in your own application for https://)",
            args.base_url
        ));
    }
    let client_id = match ClientId::new(&args.client_id) {
        Ok(id) => id,
        Err(e) => return bad(format!("--client-id: {e}")),
    };
    let secret = match ClientSecret::new(args.secret) {
        Ok(secret) => secret,
        Err(e) => return bad(format!("--secret: {e}")),
    };
    let mode = if args.basic {
        AuthMode::Basic
    } else {
        AuthMode::Signed
    };
    let signer = match RequestSigner::builder(ApiClient::new(client_id, secret))
        .mode(mode)
        .base_url(&args.base_url)
        .build()
    {
        Ok(signer) => signer,
        Err(e) => return bad(e),
    };
    let endpoint = args.endpoint.trim_start_matches('/');
    let url = format!("{}/{endpoint}", args.base_url.trim_end_matches('/'));
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(JanrainSigner::new(signer))
        .build();

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let request = if args.get {
            client.get(&url).query(&args.params)
        } else {
            client.post(&url).form(&args.params)
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                eprintln!("error: the request to {url} failed: {e}");
                return ExitCode::from(1);
            }
        };
        println!("HTTP {}", response.status());
        match response.text().await {
            Ok(body) => {
                println!("{body}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: reading the response body failed: {e}");
                ExitCode::from(1)
            }
        }
    })
}
