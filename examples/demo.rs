//! The whole crate at work, live on loopback.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! 1. Starts the Identity Cloud look-alike (the `server` example's app) in process on a free
//!    loopback port, with the demo clients of `examples/demo-clients.json` (one per feature,
//!    one with two secrets), an access-token verifier and an in-memory replay guard.
//! 2. Calls a representative set of catalog operations from every client through the
//!    reqwest-middleware signer (janrain-signed) or, for login-client operations, with the
//!    `client_id` parameter, and prints the live permission matrix: `ok`, or the code of the
//!    refusal.
//!    A last column calls as a user, with the access token the user flow below obtained
//!    (janrain-oauth).
//! 3. Walks a user's flow: an issuer client gets an access token for a user through
//!    `/access/getAccessToken`, reads and updates that user's `/entity` with it, and is
//!    refused for another user.
//! 4. Makes a few deliberate mistakes and prints the answers.
//!
//! Exits 0 when every outcome matches the catalog and every mistake gets its expected answer.

#[path = "support/lookalike.rs"]
mod lookalike;

use std::process::ExitCode;
use std::sync::Arc;

use janrain_auth::client::{AuthMode, ClockSkewRetry, JanrainSigner, RequestSigner, UseClient};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::error::JanrainError;
use janrain_auth::params::encode_urlencoded;
use janrain_auth::permissions::{AuthMethod, Catalog, Operation};
use janrain_auth::scheme::{Datetime, ManualClock, OffsetClock, SystemClock};
use janrain_auth::server::{
    ClientsFile, MemoryReplayGuard, MemoryStore, SharedTokens, TokenIssuer, VerifyLayer,
};
use reqwest_middleware::ClientWithMiddleware;

const CLIENTS: &str = include_str!("demo-clients.json");
const BODY_LIMIT: usize = 64 * 1024;

/// The operations the matrix shows: every API family, every auth method.
const OPERATIONS: [&str; 17] = [
    "/access/getAuthorizationCode",
    "/access/getAccessToken",
    "/oauth/token",
    "/access/getVerificationCode",
    "/access/useVerificationCode",
    "/oauth/auth_native_traditional",
    "/oauth/update_profile_native",
    "/entity",
    "/entity.find",
    "/entity.update",
    "/entity.deleteAccess",
    "/entityType",
    "/entityType.list",
    "/entityType.getAccessSchema",
    "/clients/list",
    "/settings/get_default",
    "/settings/items",
];

/// A column of the matrix: a client and the secret it signs with, or a user's access token.
struct Column {
    label: String,
    client: Arc<ApiClient>,
    /// Call as the user this token was issued for (janrain-oauth) instead of as the client.
    user_token: Option<String>,
}

/// The user the demo's user flow acts for, and another one.
const USER: &str = "7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11";
const OTHER_USER: &str = "0f3e2d1c-4b5a-4968-8776-655443322110";

/// What came back: `ok`, or a Janrain error code with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    Refused {
        status: u16,
        code: u16,
        error: String,
    },
    Broken(String),
}

impl Outcome {
    fn cell(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Refused { code, .. } => code.to_string(),
            Outcome::Broken(_) => "ERR".into(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Outcome::Ok => "200 ok".into(),
            Outcome::Refused {
                status,
                code,
                error,
            } => format!("{status} {code} {error}"),
            Outcome::Broken(why) => format!("transport error: {why}"),
        }
    }
}

async fn outcome(response: Result<reqwest::Response, impl std::fmt::Display>) -> Outcome {
    let response = match response {
        Ok(r) => r,
        Err(e) => return Outcome::Broken(e.to_string()),
    };
    let status = response.status().as_u16();
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return Outcome::Broken(e.to_string()),
    };
    match JanrainError::from_body(&body) {
        Some(e) => Outcome::Refused {
            status,
            code: e.code,
            error: e.error,
        },
        None if status == 200 => Outcome::Ok,
        None => Outcome::Broken(format!("HTTP {status}: {}", String::from_utf8_lossy(&body))),
    }
}

fn form(params: &[(&str, &str)]) -> String {
    encode_urlencoded(params)
}

struct Demo {
    base: String,
    /// Signs with whichever client a request names in `UseClient`.
    signed: ClientWithMiddleware,
    /// No middleware: login-client operations and hand-made mistakes.
    plain: reqwest::Client,
    catalog: Catalog,
}

impl Demo {
    /// Call `op` as `column`'s client, the way the operation authenticates.
    async fn call(&self, op: &Operation, column: &Column) -> Outcome {
        let url = format!("{}{}", self.base, op.path());
        let id = column.client.id().as_str();
        if let Some(token) = &column.user_token {
            let response = self
                .plain
                .post(&url)
                .header("authorization", format!("OAuth {token}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[("type_name", "user")]))
                .send()
                .await;
            return outcome(response).await;
        }
        if op.auth().takes_header() {
            let mut params = vec![("type_name", "user")];
            if op.path() == "/access/getAccessToken" {
                // The look-alike issues a real token: it needs the user and the login client.
                params.extend([("uuid", OTHER_USER), ("for_client_id", "login_client")]);
            }
            let body = form(&params);
            let response = self
                .signed
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .with_extension(UseClient(column.client.clone()))
                .send()
                .await;
            return outcome(response).await;
        }
        let mut params = vec![("client_id", id)];
        if op.accepts(AuthMethod::LoginClientWithToken) {
            params.push(("access_token", "demo-access-token"));
        }
        if op.accepts(AuthMethod::None) {
            params = vec![("verification_code", "demo-code")];
        }
        let response = self
            .plain
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&params))
            .send()
            .await;
        outcome(response).await
    }

    /// What the catalog says the call must give.
    fn expected(&self, op: &Operation, column: &Column) -> Outcome {
        if column.user_token.is_some() {
            // A user's token reaches the user-record operations (and the open ones) only.
            return if op.accepts(AuthMethod::OAuth) || op.accepts(AuthMethod::None) {
                Outcome::Ok
            } else {
                Outcome::Refused {
                    status: 401,
                    code: 424,
                    error: "auth_method_not_accepted".into(),
                }
            };
        }
        if op.accepts(AuthMethod::None) || op.permits(column.client.features()) {
            Outcome::Ok
        } else {
            Outcome::Refused {
                status: 403,
                code: 403,
                error: "client_permission_error".into(),
            }
        }
    }
}

fn matches(got: &Outcome, want: &Outcome) -> bool {
    match (got, want) {
        (Outcome::Ok, Outcome::Ok) => true,
        (
            Outcome::Refused {
                code: a, status: s, ..
            },
            Outcome::Refused {
                code: b, status: t, ..
            },
        ) => a == b && s == t,
        _ => false,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<bool, Box<dyn std::error::Error>> {
    // The server.
    let file = ClientsFile::from_json(CLIENTS)?;
    let demo_clients: Vec<Arc<ApiClient>> = {
        let (store, _) = ClientsFile::from_json(CLIENTS)?.into_parts();
        let mut all: Vec<_> = store.iter().cloned().collect();
        all.sort_by_key(|c| order(c.id().as_str()));
        all
    };
    let (store, tokens): (MemoryStore, _) = file.into_parts();
    let tokens: Arc<dyn TokenIssuer> = Arc::new(SharedTokens::new(tokens));
    let catalog = Catalog::identity_cloud();
    let layer = VerifyLayer::builder(store)
        .token_verifier(tokens.clone())
        .replay_guard(MemoryReplayGuard::new())
        .body_limit(BODY_LIMIT)
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = lookalike::app(&catalog, layer, lookalike::Echo::Verified, tokens);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("demo server: {e}");
        }
    });

    // The clients: one column per demo client (the rotating one twice, once per secret).
    let mut columns = Vec::new();
    for client in demo_clients
        .iter()
        .filter(|c| c.id().as_str() != "second_login_client")
    {
        if client.id().as_str() == "rotating_client" {
            let new_secret = ClientSecret::new("rotating-new-secret-8e1d")?;
            columns.push(Column {
                label: "rotating(old)".into(),
                client: client.clone(),
                user_token: None,
            });
            columns.push(Column {
                label: "rotating(new)".into(),
                client: Arc::new(
                    ApiClient::new(client.id().clone(), new_secret)
                        .with_features(client.features()),
                ),
                user_token: None,
            });
        } else {
            let label = client.id().as_str().trim_end_matches("_client").to_owned();
            columns.push(Column {
                label,
                client: client.clone(),
                user_token: None,
            });
        }
    }
    let signer = RequestSigner::builder(demo_clients[0].clone())
        .base_url(&base)
        .build()?;
    let demo = Demo {
        signed: reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(JanrainSigner::new(signer))
            .build(),
        plain: reqwest::Client::new(),
        base: base.clone(),
        catalog,
    };

    // The user flow first: it obtains the token the janrain-oauth column calls with.
    let (flow, user_token) = user_flow(&demo, &demo_clients).await?;
    if let Some(token) = user_token {
        let login = demo_clients
            .iter()
            .find(|c| c.id().as_str() == "login_client")
            .cloned()
            .ok_or("no login_client")?;
        columns.push(Column {
            label: "oauth(user)".into(),
            client: login,
            user_token: Some(token),
        });
    }

    println!("janrain-auth demo: an Identity Cloud look-alike on {base}");
    println!(
        "{} clients, {} operations in the catalog, replay guard: in memory, body limit: {BODY_LIMIT} bytes\n",
        demo_clients.len(),
        demo.catalog.len()
    );

    // The live permission matrix.
    println!(
        "Permission matrix, live: each cell is the server's answer (ok, or the refusal's code)"
    );
    println!("to a janrain-signed call, or for login-client operations a call with client_id;");
    println!("the oauth(user) column calls with a user's access token (janrain-oauth).\n");
    let width = OPERATIONS.iter().map(|p| p.len()).max().unwrap_or(0) + 2;
    let mut header = format!("{:width$}", "operation");
    for column in &columns {
        header.push_str(&format!("{:>15}", column.label));
    }
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    let (mut total, mut good) = (0, 0);
    let mut mismatches = Vec::new();
    for path in OPERATIONS {
        let Some(op) = demo.catalog.get(path) else {
            mismatches.push(format!("{path} is not in the catalog"));
            continue;
        };
        let mut line = format!("{path:width$}");
        for column in &columns {
            let got = demo.call(op, column).await;
            let want = demo.expected(op, column);
            total += 1;
            let mark = if matches(&got, &want) {
                good += 1;
                " "
            } else {
                mismatches.push(format!(
                    "{path} as {}: got {}, the catalog says {}",
                    column.label,
                    got.describe(),
                    want.describe()
                ));
                "!"
            };
            line.push_str(&format!("{:>14}{mark}", got.cell()));
        }
        println!("{line}");
    }
    println!(
        "\n403 = client_permission_error: the client holds none of the features the operation allows."
    );
    println!("424 = auth_method_not_accepted: the operation does not take a user's token.\n");

    // The user flow, then deliberate mistakes.
    let mistakes = mistakes(&demo, &demo_clients).await?;
    for (heading, steps) in [
        ("A user's flow (janrain-oauth):", &flow),
        ("Deliberate mistakes:", &mistakes),
    ] {
        println!("{heading}");
        for (what, got, want) in steps {
            total += 1;
            let ok = match want {
                Some((status, code)) => {
                    matches!(got, Outcome::Refused { status: s, code: c, .. } if s == status && c == code)
                }
                None => *got == Outcome::Ok,
            };
            if ok {
                good += 1;
            } else {
                mismatches.push(format!("{what}: got {}", got.describe()));
            }
            println!(
                "  {:<62} -> {}{}",
                what,
                got.describe(),
                if ok { "" } else { "   (UNEXPECTED)" }
            );
        }
        println!();
    }

    println!();
    if mismatches.is_empty() {
        println!("{good}/{total} outcomes match the catalog and the error table.");
        Ok(true)
    } else {
        println!("{good}/{total} outcomes as expected; these were not:");
        for m in &mismatches {
            println!("  {m}");
        }
        Ok(false)
    }
}

/// Matrix column order: one column per feature, in the order Janrain lists them.
fn order(id: &str) -> usize {
    [
        "owner_client",
        "issuer_client",
        "direct_client",
        "reader_client",
        "login_client",
        "metadata_client",
        "rotating_client",
        "second_login_client",
    ]
    .iter()
    .position(|c| *c == id)
    .unwrap_or(usize::MAX)
}

type Expectation = Option<(u16, u16)>;

/// An issuer client gets an access token for [`USER`], for the login client; with it, the
/// user's own record is read and updated, and another user's is refused. The token, if the
/// server issued one.
async fn user_flow(
    demo: &Demo,
    clients: &[Arc<ApiClient>],
) -> Result<(Vec<(String, Outcome, Expectation)>, Option<String>), Box<dyn std::error::Error>> {
    let base = &demo.base;
    let issuer = clients
        .iter()
        .find(|c| c.id().as_str() == "issuer_client")
        .cloned()
        .ok_or("no issuer_client")?;
    let mut out = Vec::new();
    let response = demo
        .signed
        .post(format!("{base}/access/getAccessToken"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("uuid", USER),
            ("type_name", "user"),
            ("for_client_id", "login_client"),
        ]))
        .with_extension(UseClient(issuer))
        .send()
        .await?;
    let status = response.status().as_u16();
    let answer: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
    let token = answer["access_token"].as_str().map(str::to_owned);
    let got = match (&token, status) {
        (Some(_), 200) => Outcome::Ok,
        _ => Outcome::Broken(format!("HTTP {status}: {answer}")),
    };
    out.push((
        "issuer_client gets an access token for the user (getAccessToken)".into(),
        got,
        None,
    ));
    let Some(token) = token else {
        return Ok((out, None));
    };
    let as_user = |path: &str, params: &[(&str, &str)]| {
        demo.plain
            .post(format!("{base}{path}"))
            .header("authorization", format!("OAuth {token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(params))
            .send()
    };
    let got = outcome(as_user("/entity", &[("type_name", "user")]).await).await;
    out.push((
        "the user reads their /entity with the token".into(),
        got,
        None,
    ));
    let got = outcome(
        as_user(
            "/entity.update",
            &[
                ("type_name", "user"),
                ("uuid", USER),
                ("value", r#"{"givenName":"Zoë"}"#),
            ],
        )
        .await,
    )
    .await;
    out.push(("the user updates their own record".into(), got, None));
    let got = outcome(
        as_user(
            "/entity.update",
            &[("type_name", "user"), ("uuid", OTHER_USER), ("value", "{}")],
        )
        .await,
    )
    .await;
    out.push((
        "the same token names another user's uuid".into(),
        got,
        Some((403, 422)),
    ));
    Ok((out, Some(token)))
}

async fn mistakes(
    demo: &Demo,
    clients: &[Arc<ApiClient>],
) -> Result<Vec<(String, Outcome, Expectation)>, Box<dyn std::error::Error>> {
    let base = &demo.base;
    let reader = clients
        .iter()
        .find(|c| c.id().as_str() == "reader_client")
        .cloned()
        .ok_or("no reader_client")?;
    let find = format!("{base}/entity.find");
    let body = form(&[("type_name", "user")]);
    let post = |client: &ClientWithMiddleware| {
        client
            .post(&find)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
    };
    let signer_for =
        |client: Arc<ApiClient>| RequestSigner::builder(client).base_url(base.as_str());
    let with = |signer: RequestSigner| {
        reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(ClockSkewRetry::new())
            .with(JanrainSigner::new(signer))
            .build()
    };
    let mut out = Vec::new();

    // A wrong secret, signed and Basic.
    let impostor = Arc::new(
        ApiClient::new(reader.id().clone(), ClientSecret::new("not-the-secret")?)
            .with_features(reader.features()),
    );
    let got = outcome(
        post(&with(signer_for(impostor.clone()).build()?))
            .send()
            .await,
    )
    .await;
    out.push(("wrong secret, janrain-signed".into(), got, Some((401, 431))));
    let got = outcome(
        post(&with(signer_for(impostor).mode(AuthMode::Basic).build()?))
            .send()
            .await,
    )
    .await;
    out.push(("wrong secret, Basic".into(), got, Some((401, 402))));
    // A client id the server does not know.
    let ghost = Arc::new(ApiClient::new(
        ClientId::new("ghost_client")?,
        ClientSecret::new("whatever")?,
    ));
    let got = outcome(post(&with(signer_for(ghost).build()?)).send().await).await;
    out.push(("unknown client id".into(), got, Some((401, 402))));

    // A clock ten minutes slow: refused, unless the signer learns the offset and retries.
    let slow = OffsetClock::new(SystemClock, -600);
    let stubborn = signer_for(reader.clone())
        .clock(slow.clone())
        .learn_clock_skew(false)
        .build()?;
    let got = outcome(post(&with(stubborn)).send().await).await;
    out.push(("client clock 10 min slow".into(), got, Some((401, 433))));
    let learner = signer_for(reader.clone()).clock(slow).build()?;
    // Other parameters than the matrix's call: with the replay guard on, the same parameters
    // signed in the same second would be the same request.
    let got = outcome(
        post(&with(learner))
            .body(form(&[("type_name", "user"), ("max_results", "5")]))
            .send()
            .await,
    )
    .await;
    out.push((
        "client clock 10 min slow, learning the server's Date".into(),
        got,
        None,
    ));

    // The same signed request twice (a clock that stands still makes them identical).
    let now = Datetime::from_system_time(std::time::SystemTime::now())?;
    let frozen = with(
        signer_for(reader.clone())
            .clock(ManualClock::at(now))
            .build()?,
    );
    let replay_body = form(&[
        ("type_name", "user"),
        ("filter", "email = 'zoe@example.com'"),
    ]);
    let send_twice = || {
        frozen
            .post(&find)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(replay_body.clone())
            .send()
    };
    let got = outcome(send_twice().await).await;
    out.push(("a signed request".into(), got, None));
    let got = outcome(send_twice().await).await;
    out.push((
        "the same signed request again (replay guard on)".into(),
        got,
        Some((401, 434)),
    ));

    // Tokens that do not hold.
    for (what, token, want) in [
        (
            "an unknown token over janrain-oauth",
            "some-user-token",
            (401, 412),
        ),
        (
            "an expired token over janrain-oauth",
            "expired-access-token",
            (401, 414),
        ),
    ] {
        let got = outcome(
            demo.plain
                .post(&find)
                .header("authorization", format!("OAuth {token}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await,
        )
        .await;
        out.push((what.into(), got, Some(want)));
    }
    // An auth method an operation does not take.
    let login = clients
        .iter()
        .find(|c| c.id().as_str() == "login_client")
        .cloned()
        .ok_or("no login_client")?;
    let native = format!("{base}/oauth/auth_native_traditional");
    let got = outcome(
        with(signer_for(login).build()?)
            .post(&native)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("client_id", "login_client")]))
            .send()
            .await,
    )
    .await;
    out.push((
        "janrain-signed on a login-client operation".into(),
        got,
        Some((401, 424)),
    ));

    // Login-client parameters.
    let update = format!("{base}/oauth/update_profile_native");
    let plain_form = |url: &str, params: &[(&str, &str)]| {
        demo.plain
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(params))
            .send()
    };
    let got =
        outcome(plain_form(&native, &[("signInEmailAddress", "zoe@example.com")]).await).await;
    out.push((
        "login-client operation without client_id".into(),
        got,
        Some((400, 100)),
    ));
    let got = outcome(
        plain_form(
            &update,
            &[
                ("client_id", "login_client"),
                ("access_token", "expired-access-token"),
            ],
        )
        .await,
    )
    .await;
    out.push(("expired access token".into(), got, Some((401, 414))));
    let got = outcome(
        plain_form(
            &update,
            &[
                ("client_id", "login_client"),
                ("access_token", "second-client-token"),
            ],
        )
        .await,
    )
    .await;
    out.push((
        "access token issued to another login client".into(),
        got,
        Some((401, 419)),
    ));

    // A body over the limit.
    let big = "x".repeat(BODY_LIMIT + 1);
    let got = outcome(
        post(&demo.signed)
            .body(form(&[("value", &big)]))
            .with_extension(UseClient(reader))
            .send()
            .await,
    )
    .await;
    out.push((
        format!(
            "a form body of {} bytes (limit {BODY_LIMIT})",
            form(&[("value", &big)]).len()
        ),
        got,
        Some((413, 230)),
    ));
    Ok(out)
}
