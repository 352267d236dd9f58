//! Call Identity Cloud through the crate's client (janrain-signed or Basic as an API client,
//! janrain-oauth as a user, or as a login client) and print the answer.
//!
//! ```text
//! cargo run --example client -- --base-url http://127.0.0.1:8080 --client-id ID --secret SECRET \
//!     --endpoint /entity.count type_name=user
//! cargo run --example client -- --base-url http://127.0.0.1:8080 --client-id ID --secret SECRET \
//!     --find-all type_name=user --json 'attributes=["uuid", "email"]' max_results=100
//! cargo run --example client -- --base-url http://127.0.0.1:8080 --access-token TOKEN \
//!     --endpoint /entity type_name=user
//! cargo run --example client -- --base-url http://127.0.0.1:8080 --client-id LOGIN_CLIENT_ID \
//!     --login-client --endpoint /oauth/update_profile_native flow=standard access_token=TOKEN
//! ```
//!
//! `--access-token TOKEN` calls as the user the token was issued for
//! (`Authorization: OAuth TOKEN`, no signature); `--client-id` and `--secret` are then
//! optional and unused. `--login-client` calls as the login client `--client-id`: its id goes
//! as the `client_id` parameter, with no `Authorization` header; `--secret` is optional and
//! unused.
//!
//! Parameters are encoded by Janrain's rule and sent as a url-encoded form body (POST), or in
//! the query string (GET) with `--get`. `key=value` splits at the first `=` and sends the value
//! as it is; `--json key=JSON` parses the value as JSON first, so `--json 'attributes=["uuid"]'`
//! sends the list as JSON text and `--json max_results=10` the number.
//!
//! Output: the answer as one JSON line (`--get`: `HTTP <status>`, then the body as it came);
//! with `--find-all`, every record `/entity.find` finds, one JSON line each, paged by id, then
//! `records: N`. A Janrain error prints `error: ` and the whole error object as one JSON line to
//! stderr. Exit status: 0 on success; 1 for a Janrain error or a request that failed; 2 for bad
//! arguments.
//!
//! This crate builds reqwest without TLS, so only `http://` URLs work here (a local server such
//! as the crate's server example, or a TLS-terminating proxy). In your own application, enable a
//! TLS feature of reqwest (`rustls` or `native-tls`) and `https://` works the same way.

use std::io::Write;
use std::process::ExitCode;

use janrain_auth::client::{AuthMode, Error, JanrainClient, RequestSigner};
use janrain_auth::credentials::{AccessToken, ApiClient, ClientId, ClientSecret};
use janrain_auth::error::JanrainError;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

const USAGE: &str = "usage: client --base-url URL (--client-id ID --secret SECRET [--basic] | --access-token TOKEN | --client-id ID --login-client) (--endpoint PATH | --find-all) [--get] [key=value ...] [--json key=JSON ...]

  --base-url URL     the API's base URL, http:// only (e.g. http://127.0.0.1:8080); its path
                     is a prefix that is not signed
  --client-id ID     the API client's id (with --login-client: the login client's)
  --secret SECRET    the API client's secret
  --access-token TOKEN
                     call as the user TOKEN was issued for: Authorization: OAuth TOKEN, no
                     signature; --client-id and --secret are then optional and unused
  --login-client     call as the login client --client-id: client_id sent as a parameter, no
                     Authorization header; --secret is optional and unused
  --endpoint PATH    the operation, e.g. /entity.count
  --find-all         every record /entity.find finds, paged by id (max_results is the page
                     size); prints one JSON line per record, then records: N
  --basic            Basic credentials instead of janrain-signed
  --get              GET with the parameters in the query string (default: POST form)
  key=value          a parameter, sent as it is (split at the first '='); repeat as needed
  --json key=JSON    a parameter whose value is JSON, encoded as Janrain expects (lists and
                     objects as JSON text, true/false, numbers; null leaves it out)";

struct Args {
    base_url: String,
    caller: Caller,
    endpoint: Option<String>,
    find_all: bool,
    basic: bool,
    get: bool,
    params: Params,
}

/// Who the calls go out as.
enum Caller {
    /// The API client, janrain-signed or Basic.
    Api { client_id: String, secret: String },
    /// A user, with an access token.
    User { token: String },
    /// A login client, by its id.
    LoginClient { client_id: String },
}

/// The parameters in command-line order, serialized as a map.
struct Params(Vec<(String, Value)>);

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut base_url, mut client_id, mut secret, mut endpoint) = (None, None, None, None);
    let (mut basic, mut get, mut find_all, mut params) = (false, false, false, Vec::new());
    let (mut access_token, mut login_client) = (None, false);
    let split = |pair: &str| {
        pair.split_once('=')
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .ok_or_else(|| format!("parameter {pair:?} is not key=value"))
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--base-url" => base_url = Some(value("--base-url")?),
            "--client-id" => client_id = Some(value("--client-id")?),
            "--secret" => secret = Some(value("--secret")?),
            "--access-token" => access_token = Some(value("--access-token")?),
            "--login-client" => login_client = true,
            "--endpoint" => endpoint = Some(value("--endpoint")?),
            "--basic" => basic = true,
            "--get" => get = true,
            "--find-all" => find_all = true,
            "--json" => {
                let (key, text) = split(&value("--json")?)?;
                let json = serde_json::from_str(&text)
                    .map_err(|e| format!("--json {key}: the value is not JSON ({e})"))?;
                params.push((key, json));
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            pair => {
                let (key, text) = split(pair)?;
                params.push((key, Value::String(text)));
            }
        }
    }
    if find_all {
        if get {
            return Err("--find-all always POSTs to /entity.find; leave --get out".into());
        }
        if endpoint
            .as_deref()
            .is_some_and(|e| e.trim_start_matches('/') != "entity.find")
        {
            return Err("--find-all always calls /entity.find; leave --endpoint out".into());
        }
    } else if endpoint.is_none() {
        return Err("--endpoint (or --find-all) is required".into());
    }
    let need = |v: Option<String>, name: &str| v.ok_or_else(|| format!("{name} is required"));
    let caller = match (access_token, login_client) {
        (Some(_), true) => {
            return Err("--access-token and --login-client are two ways to call; choose one (a login-client call that needs a token takes it as the parameter access_token=TOKEN)".into());
        }
        (Some(_), false) | (None, true) if basic => {
            return Err("--basic is for an API client's secret; leave it out with --access-token or --login-client".into());
        }
        // --client-id and --secret, if given, are not used.
        (Some(token), false) => Caller::User { token },
        (None, true) => Caller::LoginClient {
            client_id: need(client_id, "--client-id (the login client's)")?,
        },
        (None, false) => Caller::Api {
            client_id: need(client_id, "--client-id")?,
            secret: need(secret, "--secret (or --access-token, or --login-client)")?,
        },
    };
    Ok(Some(Args {
        base_url: need(base_url, "--base-url")?,
        caller,
        endpoint,
        find_all,
        basic,
        get,
        params: Params(params),
    }))
}

/// Run the example with `args` (without the program name), writing to `out` and `err`; the
/// exit status.
async fn run(
    args: impl IntoIterator<Item = String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    match execute(args.into_iter(), out).await {
        Ok(()) => 0,
        Err(Failure::Usage(message)) => {
            let _ = writeln!(err, "error: {message}\n\n{USAGE}");
            2
        }
        Err(Failure::Call(Error::Janrain { error, .. })) => {
            janrain_error(err, &error);
            1
        }
        Err(Failure::Call(e)) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

enum Failure {
    Usage(String),
    Call(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Call(e)
    }
}

fn janrain_error(err: &mut dyn Write, error: &JanrainError) {
    let _ = writeln!(err, "error: {}", error.to_json());
}

async fn execute(args: impl Iterator<Item = String>, out: &mut dyn Write) -> Result<(), Failure> {
    let args = match parse(args).map_err(Failure::Usage)? {
        Some(args) => args,
        None => {
            let _ = writeln!(out, "{USAGE}");
            return Ok(());
        }
    };
    if !args.base_url.starts_with("http://") {
        return Err(Failure::Usage(format!(
            "--base-url {} is not an http:// URL: this example's reqwest has no TLS (enable a TLS feature of reqwest in your own application for https://)",
            args.base_url
        )));
    }
    let client_id =
        |id: &str| ClientId::new(id).map_err(|e| Failure::Usage(format!("--client-id: {e}")));
    // A signer needs an API client; calls as a user or as a login client never use its
    // secret, so those get a stand-in.
    let unused = || ClientSecret::new("unused").map_err(|e| Failure::Usage(e.to_string()));
    let api = match &args.caller {
        Caller::Api {
            client_id: id,
            secret,
        } => ApiClient::new(
            client_id(id)?,
            ClientSecret::new(secret.as_str())
                .map_err(|e| Failure::Usage(format!("--secret: {e}")))?,
        ),
        Caller::User { .. } => ApiClient::new(client_id("unused")?, unused()?),
        Caller::LoginClient { client_id: id } => ApiClient::new(client_id(id)?, unused()?),
    };
    let mode = if args.basic {
        AuthMode::Basic
    } else {
        AuthMode::Signature
    };
    let signer = RequestSigner::builder(api)
        .mode(mode)
        .base_url(&args.base_url)
        .build()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let janrain = JanrainClient::new(signer).map_err(|e| Failure::Usage(e.to_string()))?;
    let janrain = match &args.caller {
        Caller::Api { .. } => janrain,
        Caller::User { token } => {
            let token = AccessToken::new(token.as_str())
                .map_err(|e| Failure::Usage(format!("--access-token: {e}")))?;
            janrain.as_user(token)
        }
        Caller::LoginClient { client_id: id } => janrain.as_login_client(client_id(id)?),
    };

    if args.find_all {
        let mut records = janrain.find_all::<_, Value>(&args.params);
        let mut count = 0u64;
        while let Some(record) = records.next().await {
            let _ = writeln!(out, "{}", record?);
            count += 1;
        }
        let _ = writeln!(out, "records: {count}");
        return Ok(());
    }
    let endpoint = args.endpoint.as_deref().unwrap_or_default();
    if args.get {
        // `call` shapes POSTs; a GET is a request the client prepares and the caller shapes.
        let params = janrain_auth::client::encode::to_params(&args.params).map_err(Error::from)?;
        let response = janrain
            .request(http::Method::GET, endpoint)?
            .query(&params)
            .send()
            .await
            .map_err(Error::from)?;
        let status = response.status();
        let body = response.text().await.map_err(Error::from)?;
        if let Some(error) = JanrainError::from_body(body.as_bytes()) {
            return Err(Failure::Call(Error::Janrain { status, error }));
        }
        let _ = writeln!(out, "HTTP {status}\n{body}");
        return Ok(());
    }
    let answer: Value = janrain.call(endpoint, &args.params).await?;
    let _ = writeln!(out, "{answer}");
    Ok(())
}

fn main() -> ExitCode {
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
    let code = runtime.block_on(run(
        std::env::args().skip(1),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    ));
    ExitCode::from(code)
}
