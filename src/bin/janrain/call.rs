//! One run of the command: who calls, where, with what, and what is printed.

use std::fmt;
use std::io::Write;

use http::Method;
use http::header::CONTENT_TYPE;
use janrain_auth::client::config::{ConfigFile, CredentialLookup, LookupError};
use janrain_auth::client::encode::{to_json_text, to_json_text_indented};
use janrain_auth::client::{
    AuthMode, Error, JanrainClient, JanrainResponseExt, RequestSigner, USER_AGENT,
};
use janrain_auth::credentials::{AccessToken, ApiClient, ClientId, ClientSecret};
use janrain_auth::error::JanrainError;
use janrain_auth::params::encode_urlencoded;
use serde_json::Value;

use crate::Args;
use crate::params::Params;

/// Why a run failed, as it is printed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Janrain answered `stat:error`: `capture-api`'s line.
    Api(JanrainError),
    /// Anything else, with what to fix.
    Message(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // capture-api exits with "API Error {code} - {description}\n", which Python
            // prints followed by a line break of its own.
            Failure::Api(error) => {
                write!(f, "API Error {} - {}\n\n", error.code, description(error))
            }
            Failure::Message(message) => writeln!(f, "janrain: {message}"),
        }
    }
}

/// What `capture-api` prints of an error: `error_description`, else `message`.
fn description(error: &JanrainError) -> &str {
    if !error.error_description.is_empty() {
        return &error.error_description;
    }
    error
        .field("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::Janrain { error, .. } => Failure::Api(error),
            other => Failure::Message(with_causes(&other)),
        }
    }
}

/// An error and its causes, `: ` between them (a transport error's own text seldom says why).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = e.source();
    }
    text
}

fn message(text: impl fmt::Display) -> Failure {
    Failure::Message(text.to_string())
}

/// Who the call goes out as.
enum Caller {
    /// An API client, found where `source` says.
    Client { api: ApiClient, source: String },
    /// A user, with an access token.
    User(AccessToken),
}

pub(crate) async fn run(args: Args, out: &mut impl Write) -> Result<(), Failure> {
    let mut params = Params::parse(&args.parameters).map_err(Failure::Message)?;
    let operation = operation(&args)?;
    let lookup = lookup(&args);

    // As capture-api: client_id and client_secret among the parameters stand in for the
    // credentials found; with signing, access_token calls as the user it belongs to.
    let param_id = params.take("client_id");
    let param_secret = params.take("client_secret");
    let param_token = match args.form_credentials {
        true => None,
        false => params.take("access_token").filter(|t| !t.is_empty()),
    };
    let token = match (&args.access_token, param_token) {
        (Some(_), Some(_)) => {
            return Err(message(
                "an access token is given twice (--access-token and -p access_token=...); give it once",
            ));
        }
        (Some(token), None) => Some(token.clone()),
        (None, token) => token,
    };
    if token.is_some() && args.form_credentials {
        return Err(message(
            "--access-token calls as a user and -x sends an API client's credentials: choose one",
        ));
    }

    let (caller, base_url) = match token {
        Some(token) => {
            let token =
                AccessToken::new(token).map_err(|e| message(format!("access token: {e}")))?;
            let url = lookup.api_url().map_err(lookup_failure)?;
            (Caller::User(token), url)
        }
        None => {
            let credentials = lookup.credentials().map_err(lookup_failure)?;
            let id = match param_id {
                Some(id) => ClientId::new(id).map_err(|e| message(format!("-p client_id: {e}")))?,
                None => credentials.client().id().clone(),
            };
            let secret = match param_secret {
                Some(secret) => ClientSecret::new(secret)
                    .map_err(|e| message(format!("-p client_secret: {e}")))?,
                None => credentials.client().secret().clone(),
            };
            let caller = Caller::Client {
                api: ApiClient::new(id, secret),
                source: credentials.source().to_string(),
            };
            (caller, credentials.apid_uri().to_owned())
        }
    };

    let janrain = client(&args, &caller, &base_url)?;
    let debug = |line: &str| {
        if args.debug {
            eprintln!("DEBUG:janrain:{line}");
        }
    };
    match &caller {
        Caller::Client { api, source } => debug(&format!(
            "client {} from {source}, {}",
            api.id(),
            if args.form_credentials {
                "client_id and client_secret as form parameters (-x)"
            } else {
                "janrain-signed"
            }
        )),
        Caller::User(_) => debug("as a user: Authorization: OAuth <token>"),
    }
    debug(&format!(
        "User-Agent: {}",
        args.user_agent.as_deref().unwrap_or(USER_AGENT)
    ));

    if args.find_all {
        debug(&format!("entity.find, every page: {}", params.redacted()));
        let mut records = janrain.find_all::<_, Value>(&params);
        while let Some(record) = records.next().await {
            let mut record = record?;
            record.sort_all_objects();
            let line = to_json_text(&record).map_err(message)?;
            writeln!(out, "{line}").map_err(message)?;
        }
        return Ok(());
    }

    let operation = operation.unwrap_or_default();
    debug(&format!("POST {}", janrain.url(&operation)?));
    let mut shown = params.redacted();
    if args.form_credentials {
        shown.push_str(" client_id=... client_secret=REDACTED");
    }
    debug(&format!("parameters: {}", shown.trim_start()));
    let response = janrain
        .request(Method::POST, &operation)?
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(encode_urlencoded(params.pairs()))
        .send()
        .await
        .map_err(Error::from)?;
    debug(&format!("HTTP {}", response.status()));
    let mut answer = response.janrain_json().await?;
    answer.sort_all_objects();
    let text = to_json_text_indented(&answer, 2).map_err(message)?;
    writeln!(out, "{text}").map_err(message)?;
    Ok(())
}

/// The operation: the one given; with `--find-all`, entity.find (given or not).
fn operation(args: &Args) -> Result<Option<String>, Failure> {
    match (&args.api_call, args.find_all) {
        (Some(call), true) if call.trim_start_matches('/') != "entity.find" => Err(message(
            format!("--find-all pages entity.find; leave {call} out"),
        )),
        (call, _) => Ok(call.clone()),
    }
}

/// The lookup the flags ask for, in capture-api's order.
fn lookup(args: &Args) -> CredentialLookup {
    let mut lookup = CredentialLookup::new();
    if let Some(id) = &args.client_id {
        lookup = lookup.client_id(id);
    }
    if let Some(secret) = &args.client_secret {
        lookup = lookup.client_secret(secret);
    }
    if let Some(key) = &args.config_key {
        lookup = lookup.config_key(key);
    }
    if args.default_client {
        lookup = lookup.default_client();
    }
    if let Some(url) = &args.apid_uri {
        lookup = lookup.apid_uri(url);
    }
    lookup
}

/// A lookup's failure, with the flags that would fix it.
fn lookup_failure(error: LookupError) -> Failure {
    let config = ConfigFile::default_path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "~/.janrain-capture".to_owned());
    match error {
        LookupError::NoCredentials {
            client_id_given,
            secret_given,
            ..
        } => {
            let half = match (client_id_given, secret_given) {
                (true, _) => "-i was given without -s; ",
                (_, true) => "-s was given without -i; ",
                _ => "",
            };
            message(format!(
                "no API client credentials: {half}give -i CLIENT_ID and -s CLIENT_SECRET, -k KEY (an entry of {config}), -d (its defaults.default_client), or set CAPTURE_CLIENT_ID and CAPTURE_CLIENT_SECRET"
            ))
        }
        LookupError::NoUrl { entry, .. } => {
            let entry = entry
                .map(|key| format!(", add apid_uri to {key} in {config}"))
                .unwrap_or_default();
            message(format!(
                "no API URL: give -u URL (e.g. -u myapp.janraincapture.com){entry}, or set CAPTURE_APID_URI"
            ))
        }
        other => message(other),
    }
}

/// The client that makes the call: signed (or with form credentials) as the API client, or
/// as the user; `-a`'s User-Agent or the crate's.
fn client(args: &Args, caller: &Caller, base_url: &str) -> Result<JanrainClient, Failure> {
    let api = match caller {
        Caller::Client { api, .. } => api.clone(),
        // A call as a user uses no API client; the signer needs one all the same.
        Caller::User(_) => ApiClient::new(
            ClientId::new("janrain-command").map_err(message)?,
            ClientSecret::new("unused").map_err(message)?,
        ),
    };
    let mode = match args.form_credentials {
        true => AuthMode::FormCredentials,
        false => AuthMode::Signature,
    };
    let signer = RequestSigner::builder(api)
        .mode(mode)
        .base_url(base_url)
        .build()
        .map_err(message)?;
    let http = reqwest::Client::builder()
        .user_agent(args.user_agent.as_deref().unwrap_or(USER_AGENT))
        .build()
        .map_err(|e| message(format!("the HTTP client could not be built: {e}")))?;
    let janrain = JanrainClient::from_builder(reqwest_middleware::ClientBuilder::new(http), signer)
        .map_err(message)?;
    Ok(match caller {
        Caller::User(token) => janrain.as_user(token.clone()),
        Caller::Client { .. } => janrain,
    })
}
