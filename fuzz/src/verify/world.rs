//! The world every input runs in: the demo clients and tokens, the clock, the limits, the
//! documented table of refusals, and one runtime per thread.

use super::*;

pub(crate) const NOW: &str = "2026-03-01 12:00:00";
pub(crate) const CLIENTS: &str = include_str!("../../../examples/demo-clients.json");
pub(crate) const BODY_LIMIT: usize = 256;
pub(crate) const MAX_PARAMS: usize = 8;
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// The documented table of `janrain_auth::error`: code, error, HTTP status.
pub(crate) const TABLE: &[(u16, &str, u16)] = &[
    (100, "missing_argument", 400),
    (200, "invalid_argument", 400),
    (205, "invalid_auth_method", 401),
    (230, "request_too_large", 413),
    (231, "request_timeout", 408),
    (232, "ambiguous_parameters", 400),
    (233, "unsupported_body", 415),
    (234, "ambiguous_parameter_text", 400),
    (422, "access_token_user_mismatch", 403),
    (424, "auth_method_not_accepted", 401),
    (402, "invalid_client_credentials", 401),
    (403, "client_permission_error", 403),
    (404, "unknown_operation", 404),
    (405, "method_not_allowed", 405),
    (412, "invalid_access_token", 401),
    (414, "access_token_expired", 401),
    (419, "access_token_client_mismatch", 401),
    (431, "signature_does_not_match", 401),
    (432, "invalid_date", 401),
    (433, "date_out_of_window", 401),
    (434, "request_replayed", 401),
    (500, "unexpected_error", 503),
    (504, "replay_guard_unavailable", 503),
];

/// A demo client as the model sees it.
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secrets: Vec<String>,
    pub(crate) features: Features,
}

pub(crate) struct Token {
    pub(crate) token: String,
    pub(crate) client_id: String,
    /// The user the token stands for, if any.
    pub(crate) uuid: Option<String>,
    pub(crate) expires_at: Datetime,
}

pub(crate) struct World {
    pub(crate) store: MemoryStore,
    pub(crate) tokens: MemoryTokens,
    pub(crate) clients: Vec<Client>,
    pub(crate) grants: Vec<Token>,
    pub(crate) catalog: Catalog,
    pub(crate) now: Datetime,
}

pub(crate) fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let json: serde_json::Value = serde_json::from_str(CLIENTS).unwrap();
        let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
        let clients = json["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let id = c["client_id"].as_str().unwrap().to_owned();
                Client {
                    features: store.get(&id).unwrap().features(),
                    secrets: c["secrets"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap().to_owned())
                        .collect(),
                    id,
                }
            })
            .collect();
        let grants = json["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| Token {
                token: t["access_token"].as_str().unwrap().to_owned(),
                client_id: t["client_id"].as_str().unwrap().to_owned(),
                uuid: t["uuid"].as_str().map(str::to_owned),
                expires_at: t["expires_at"].as_str().unwrap().parse().unwrap(),
            })
            .collect();
        World {
            store,
            tokens,
            clients,
            grants,
            catalog: Catalog::identity_cloud(),
            now: NOW.parse().unwrap(),
        }
    })
}

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    thread_local! {
        static RT: &'static tokio::runtime::Runtime = Box::leak(Box::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap(),
        ));
    }
    RT.with(|rt| *rt)
}
