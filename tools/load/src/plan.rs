//! The mix of requests: every kind, valid and invalid, with the answer each deserves.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::SystemTime;

use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::params::encode_urlencoded;
use janrain_auth::scheme::{Datetime, SigningKey, StringToSign, basic_header, signature_header};

use crate::BODY_LIMIT;

/// What the server should answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// `stat:ok` for this client.
    Accepted(&'static str),
    /// This HTTP status and Janrain code.
    Refused(u16, u16),
}

/// One kind of request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    SignedPost,
    SignedGet,
    SignedRotated,
    Basic,
    LoginClient,
    LoginWithToken,
    MissingCredentials,
    MalformedCredentials,
    UnknownClient,
    WrongBasicSecret,
    OAuthScheme,
    SignedOnLoginOperation,
    SignatureMismatch,
    MissingDate,
    BadDate,
    StaleDate,
    FutureDate,
    Replay,
    PermissionDenied,
    BodyTooLarge,
    TooManyParams,
    LoginMissingClientId,
    LoginMissingToken,
    LoginUnknownClient,
    LoginNotLoginClient,
    LoginInvalidToken,
    LoginExpiredToken,
    LoginForeignToken,
    UnknownPath,
}

impl Kind {
    pub const ALL: [Kind; 29] = [
        Kind::SignedPost,
        Kind::SignedGet,
        Kind::SignedRotated,
        Kind::Basic,
        Kind::LoginClient,
        Kind::LoginWithToken,
        Kind::MissingCredentials,
        Kind::MalformedCredentials,
        Kind::UnknownClient,
        Kind::WrongBasicSecret,
        Kind::OAuthScheme,
        Kind::SignedOnLoginOperation,
        Kind::SignatureMismatch,
        Kind::MissingDate,
        Kind::BadDate,
        Kind::StaleDate,
        Kind::FutureDate,
        Kind::Replay,
        Kind::PermissionDenied,
        Kind::BodyTooLarge,
        Kind::TooManyParams,
        Kind::LoginMissingClientId,
        Kind::LoginMissingToken,
        Kind::LoginUnknownClient,
        Kind::LoginNotLoginClient,
        Kind::LoginInvalidToken,
        Kind::LoginExpiredToken,
        Kind::LoginForeignToken,
        Kind::UnknownPath,
    ];

    /// Valid kinds come up as often as all invalid kinds together.
    pub fn pick(n: u64) -> Kind {
        const VALID: [Kind; 6] = [
            Kind::SignedPost,
            Kind::SignedGet,
            Kind::SignedRotated,
            Kind::Basic,
            Kind::LoginClient,
            Kind::LoginWithToken,
        ];
        let invalid = &Kind::ALL[VALID.len()..];
        if n.is_multiple_of(2) {
            VALID[(n / 2 % VALID.len() as u64) as usize]
        } else {
            invalid[(n / 2 % invalid.len() as u64) as usize]
        }
    }
}

/// The first secret of the demo client `id`, as the clients file the emulator serves gives
/// it ([`crate::CLIENTS`]); a string that is no client's secret for an unknown id.
pub fn secret(id: &str) -> &'static str {
    static SECRETS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    let secrets = SECRETS.get_or_init(|| {
        let file: serde_json::Value =
            serde_json::from_str(crate::CLIENTS).expect("the demo clients file is JSON");
        file["clients"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|client| {
                let id = client["client_id"].as_str()?;
                let secret = client["secrets"][0].as_str()?;
                Some((id.to_owned(), secret.to_owned()))
            })
            .collect()
    });
    secrets
        .iter()
        .find(|(known, _)| known == id)
        .map_or("not-a-secret-of-any-client", |(_, secret)| secret.as_str())
}

pub fn now_text(offset_secs: i64) -> String {
    Datetime::from_system_time(SystemTime::now())
        .expect("the clock is within years 0000-9999")
        .saturating_add_seconds(offset_secs)
        .to_string()
}

pub fn signature(
    id: &str,
    key: &str,
    endpoint: &str,
    date: &str,
    params: &[(&str, &str)],
) -> String {
    let sig = SigningKey::new(key).sign(&StringToSign::new(endpoint, date, params));
    signature_header(&ClientId::new(id).expect("a valid id"), &sig)
        .to_str()
        .expect("ASCII")
        .to_owned()
}

pub fn basic(id: &str, secret: &str) -> String {
    basic_header(
        &ClientId::new(id).expect("a valid id"),
        &ClientSecret::new(secret).expect("a secret"),
    )
    .to_str()
    .expect("ASCII")
    .to_owned()
}

/// A request ready to send: method, path and query, headers, form body.
pub struct Plan {
    pub get: bool,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    pub expected: Expected,
}

pub fn form(path: &str, params: &[(&str, &str)], expected: Expected) -> Plan {
    Plan {
        get: false,
        path: path.to_owned(),
        headers: Vec::new(),
        body: Some(encode_urlencoded(params)),
        expected,
    }
}

pub fn signed(
    id: &'static str,
    key: &str,
    path: &str,
    date: &str,
    params: &[(&str, &str)],
) -> Plan {
    let mut plan = form(path, params, Expected::Accepted(id));
    plan.headers.push(("date", date.to_owned()));
    plan.headers
        .push(("authorization", signature(id, key, path, date, params)));
    plan
}

pub const UNAUTHORIZED: u16 = 401;

/// The request of kind `kind`, the `n`th of the run.
pub fn plan(kind: Kind, n: u64) -> Plan {
    let counter = n.to_string();
    let date = now_text(0);
    let refused = |status, code| Expected::Refused(status, code);
    match kind {
        Kind::SignedPost => {
            let (id, path) = [
                ("reader_client", "/entity.find"),
                ("direct_client", "/entity.update"),
                ("owner_client", "/entityType.list"),
                ("issuer_client", "/access/getAccessToken"),
            ][(n % 4) as usize];
            let params = [("type_name", "user"), ("n", counter.as_str())];
            signed(id, secret(id), path, &date, &params)
        }
        Kind::SignedGet => {
            let params = [("type_name", "user"), ("n", counter.as_str())];
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.count",
                &date,
                &params,
            );
            plan.get = true;
            plan.path = format!("/entity.count?{}", encode_urlencoded(&params));
            plan.body = None;
            plan
        }
        Kind::SignedRotated => {
            let key = if n % 4 < 2 {
                "rotating-old-secret-2f6a"
            } else {
                "rotating-new-secret-8e1d"
            };
            let params = [
                ("uuid", "u-1"),
                ("value", "{\"givenName\": \"Zoë\"}"),
                ("n", &counter),
            ];
            signed("rotating_client", key, "/entity.update", &date, &params)
        }
        Kind::Basic => {
            let mut plan = form(
                "/entity.count",
                &[("type_name", "user")],
                Expected::Accepted("direct_client"),
            );
            plan.headers.push((
                "authorization",
                basic("direct_client", secret("direct_client")),
            ));
            plan
        }
        Kind::LoginClient => form(
            "/oauth/auth_native_traditional",
            &[
                ("client_id", "login_client"),
                ("signInEmailAddress", "a@b.example"),
                ("n", &counter),
            ],
            Expected::Accepted("login_client"),
        ),
        Kind::LoginWithToken => form(
            "/oauth/update_profile_native",
            &[
                ("client_id", "login_client"),
                ("access_token", "demo-access-token"),
                ("givenName", "Zoë"),
            ],
            Expected::Accepted("login_client"),
        ),
        Kind::MissingCredentials => form(
            "/entity.find",
            &[("type_name", "user")],
            refused(UNAUTHORIZED, 402),
        ),
        Kind::MalformedCredentials => {
            let value = [
                "Signature reader_client",
                "Signature reader_client:abc=",
                "Signature :+Bf5W9YKRhi5AoVTbxvhzuJXDUQ=",
                "Basic %%%",
                "Basic",
                "Basic cmVhZGVyX2NsaWVudA==",
            ][(n % 6) as usize];
            let mut plan = form(
                "/entity.find",
                &[("type_name", "user")],
                refused(UNAUTHORIZED, 402),
            );
            plan.headers.push(("date", date));
            plan.headers.push(("authorization", value.to_owned()));
            plan
        }
        Kind::UnknownClient => {
            let mut plan = signed(
                "ghost_client",
                "whatever",
                "/entity.find",
                &date,
                &[("type_name", "user")],
            );
            plan.expected = refused(UNAUTHORIZED, 402);
            plan
        }
        Kind::WrongBasicSecret => {
            let mut plan = form(
                "/entity.find",
                &[("type_name", "user")],
                refused(UNAUTHORIZED, 402),
            );
            plan.headers.push((
                "authorization",
                basic("reader_client", "reader-secret-6e0f2c"),
            ));
            plan
        }
        Kind::OAuthScheme => {
            let mut plan = form(
                "/entity",
                &[("type_name", "user")],
                refused(UNAUTHORIZED, 412),
            );
            // janrain-oauth with a token nobody issued.
            plan.headers
                .push(("authorization", "OAuth not-an-issued-token".to_owned()));
            plan
        }
        Kind::SignedOnLoginOperation => {
            let mut plan = signed(
                "login_client",
                secret("login_client"),
                "/oauth/auth_native",
                &date,
                &[("client_id", "login_client")],
            );
            plan.expected = refused(UNAUTHORIZED, 424);
            plan
        }
        Kind::SignatureMismatch => {
            let (key, params): (&str, &[(&str, &str)]) = if n % 4 < 2 {
                ("reader-secret-6e0f2c", &[("type_name", "user")])
            } else {
                // Signed for one value, sent with another.
                (secret("reader_client"), &[("type_name", "users")])
            };
            let mut plan = signed("reader_client", key, "/entity.find", &date, params);
            plan.body = Some("type_name=user".into());
            plan.expected = refused(UNAUTHORIZED, 431);
            plan
        }
        Kind::MissingDate => {
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                &date,
                &[("type_name", "user")],
            );
            plan.headers.retain(|(name, _)| *name != "date");
            plan.expected = refused(UNAUTHORIZED, 432);
            plan
        }
        Kind::BadDate => {
            let bad = [
                "Sun, 01 Mar 2026 12:00:00 GMT",
                "2026-03-01T12:00:00Z",
                "2026-02-30 12:00:00",
                "yesterday",
            ][(n % 4) as usize];
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                bad,
                &[("type_name", "user")],
            );
            plan.expected = refused(UNAUTHORIZED, 432);
            plan
        }
        Kind::StaleDate | Kind::FutureDate => {
            let offset = if kind == Kind::StaleDate { -3600 } else { 3600 };
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                &now_text(offset),
                &[("type_name", "user")],
            );
            plan.expected = refused(UNAUTHORIZED, 433);
            plan
        }
        // The first of two identical requests; `run_one` sends the second.
        Kind::Replay => {
            let params = [("type_name", "user"), ("replay", counter.as_str())];
            signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                &date,
                &params,
            )
        }
        Kind::PermissionDenied => {
            let mut plan = signed(
                "owner_client",
                secret("owner_client"),
                "/entity.find",
                &date,
                &[("type_name", "user")],
            );
            plan.expected = refused(403, 403);
            plan
        }
        Kind::BodyTooLarge => {
            let big = "x".repeat(2 * BODY_LIMIT);
            let mut plan = signed(
                "direct_client",
                secret("direct_client"),
                "/entity.update",
                &date,
                &[("value", big.as_str())],
            );
            plan.expected = refused(413, 230);
            plan
        }
        Kind::TooManyParams => {
            let mut query = String::from("/entity.find?");
            for i in 0..1100 {
                let _ = write!(query, "p{i}=1&");
            }
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                &date,
                &[("type_name", "user")],
            );
            plan.path = query;
            plan.expected = refused(400, 200);
            plan
        }
        Kind::LoginMissingClientId => form(
            "/oauth/link_account_native",
            &[("token", "x")],
            refused(400, 100),
        ),
        Kind::LoginMissingToken => form(
            "/oauth/link_account_native",
            &[("client_id", "login_client")],
            refused(400, 100),
        ),
        Kind::LoginUnknownClient => form(
            "/oauth/link_account_native",
            &[
                ("client_id", "ghost_client"),
                ("access_token", "demo-access-token"),
            ],
            refused(UNAUTHORIZED, 402),
        ),
        Kind::LoginNotLoginClient => form(
            "/oauth/link_account_native",
            &[
                ("client_id", "direct_client"),
                ("access_token", "demo-access-token"),
            ],
            refused(403, 403),
        ),
        Kind::LoginInvalidToken => form(
            "/oauth/link_account_native",
            &[("client_id", "login_client"), ("access_token", "nope")],
            refused(UNAUTHORIZED, 412),
        ),
        Kind::LoginExpiredToken => form(
            "/oauth/link_account_native",
            &[
                ("client_id", "login_client"),
                ("access_token", "expired-access-token"),
            ],
            refused(UNAUTHORIZED, 414),
        ),
        Kind::LoginForeignToken => form(
            "/oauth/link_account_native",
            &[
                ("client_id", "login_client"),
                ("access_token", "second-client-token"),
            ],
            refused(UNAUTHORIZED, 419),
        ),
        Kind::UnknownPath => {
            let mut plan = signed(
                "owner_client",
                secret("owner_client"),
                "/entity.launchMissiles",
                &date,
                &[],
            );
            plan.expected = refused(404, 404);
            plan
        }
    }
}
