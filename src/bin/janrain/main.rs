//! `janrain`: call Identity Cloud from the command line, as Janrain's Python `capture-api` does:
//! the same flags, environment, config file and output, so that a script switches by changing
//! the command's name.
//!
//! ```text
//! janrain entity.count -k demo -p type_name=user
//! janrain /entity -u myapp.janraincapture.com -i CLIENT_ID -s SECRET -p type_name=user uuid=...
//! CAPTURE_CLIENT_ID=... CAPTURE_CLIENT_SECRET=... CAPTURE_APID_URI=... janrain settings/get_all
//! janrain --find-all -d -p type_name=user 'attributes=["uuid", "email"]' max_results=1000
//! ```
//!
//! Credentials, first found wins: `-i` with `-s`; `-k KEY` (an entry of the config file);
//! `-d` (the file's `defaults.default_client`); `CAPTURE_CLIENT_ID` with
//! `CAPTURE_CLIENT_SECRET`. The URL: `-u`, else the entry's `apid_uri`, else
//! `CAPTURE_APID_URI`; a bare host gets `https://`. The config file is YAML at
//! `JANRAIN_CONFIG`, else `~/.janrain-capture` (see `janrain_auth::client::config`).
//!
//! Output: the whole answer as Python's `json.dumps(answer, indent=2, sort_keys=True)` writes
//! it, on stdout. A Janrain error: `API Error <code> - <description>` on stderr, exit 1.
//! `--find-all`: every record `entity.find` finds, paged by id, one JSON line each, keys
//! sorted (`json.dumps(record, sort_keys=True)`).

mod call;
mod params;

use std::process::ExitCode;

use clap::{ArgAction, Parser};

/// Call an Identity Cloud API operation and print the answer as JSON.
///
/// Credentials, first found wins: -i and -s; -k KEY (an entry of the config file); -d (the
/// file's default client); CAPTURE_CLIENT_ID and CAPTURE_CLIENT_SECRET. The URL: -u, else the
/// entry's apid_uri, else CAPTURE_APID_URI. The config file: JANRAIN_CONFIG, else
/// ~/.janrain-capture.
#[derive(Parser, Debug)]
#[command(
    name = "janrain",
    version,
    disable_version_flag = true,
    infer_long_args = true,
    max_term_width = 100
)]
pub(crate) struct Args {
    /// API endpoint expressed as a relative path (eg. /settings/get); with --find-all,
    /// entity.find or nothing
    #[arg(required_unless_present = "find_all", value_name = "API_CALL")]
    pub(crate) api_call: Option<String>,

    /// Full URI to the Capture API domain (a bare host gets https://)
    #[arg(
        short = 'u',
        long = "apid_uri",
        visible_alias = "apid-uri",
        value_name = "APID_URI"
    )]
    pub(crate) apid_uri: Option<String>,

    /// Authenticate with a specific client_id
    #[arg(short = 'i', long = "client-id", value_name = "CLIENT_ID")]
    pub(crate) client_id: Option<String>,

    /// Authenticate with a specific client_secret
    #[arg(short = 's', long = "client-secret", value_name = "CLIENT_SECRET")]
    pub(crate) client_secret: Option<String>,

    /// Authenticate using the credentials defined at a specific path in the configuration
    /// file (eg. clients.demo, or a bare name: itself, clients.NAME, clusters.NAME)
    #[arg(short = 'k', long = "config-key", value_name = "CONFIG_KEY")]
    pub(crate) config_key: Option<String>,

    /// Authenticate using the default client defined in the configuration file
    #[arg(short = 'd', long = "default-client")]
    pub(crate) default_client: bool,

    /// Parameters passed through to the API call (-p a=1 b=2, or -p a=1 -p b=2)
    #[arg(
        short = 'p',
        long = "parameters",
        num_args = 0..,
        action = ArgAction::Append,
        value_name = "parameter=value"
    )]
    pub(crate) parameters: Vec<String>,

    /// Show the program's version number and exit
    #[arg(short = 'v', long = "version", action = ArgAction::Version)]
    #[allow(
        dead_code,
        reason = "clap prints the version and exits; the value is never read"
    )]
    version: Option<bool>,

    /// Send client_id and client_secret as form parameters instead of signing (legacy: the
    /// secret travels in every request)
    #[arg(short = 'x', long = "disable-signed-requests")]
    pub(crate) form_credentials: bool,

    /// Log the exchange to stderr (secrets redacted)
    #[arg(short = 'b', long = "debug")]
    pub(crate) debug: bool,

    /// User agent to use for the API call (default: janrain-auth/VERSION)
    #[arg(short = 'a', long = "user-agent", value_name = "USER_AGENT")]
    pub(crate) user_agent: Option<String>,

    /// Every record entity.find finds, fetched page by page (sorted on id; max_results is the
    /// page size), printed one JSON line each
    #[arg(long = "find-all")]
    pub(crate) find_all: bool,

    /// Call as the user this access token was issued for (Authorization: OAuth TOKEN); no
    /// API client credentials are needed
    #[arg(long = "access-token", value_name = "TOKEN")]
    pub(crate) access_token: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("janrain: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    match runtime.block_on(call::run(args, &mut out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprint!("{failure}");
            ExitCode::FAILURE
        }
    }
}
