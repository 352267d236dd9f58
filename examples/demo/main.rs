//! The whole crate at work, live on loopback.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! 1. Starts the crate's Identity Cloud emulator (`janrain_auth::emulator`) in process on a free
//!    loopback port, with the demo clients of `examples/demo-clients.json` (one per feature,
//!    one with two secrets), the 40 users of `examples/demo/records.json`, an access-token
//!    verifier and an in-memory replay guard.
//! 2. Calls a representative set of catalog operations from every client through the
//!    reqwest-middleware signer (janrain-signed) or, for login-client operations, with the
//!    `client_id` parameter, and prints the live permission matrix: `ok`, or the code of the
//!    refusal.
//!    A last column calls as a user, with the access token the user flow below obtained
//!    (janrain-oauth).
//! 3. Walks a user's flow: an issuer client gets an access token for a user through
//!    `/access/getAccessToken`, reads, updates and reads back that user's `/entity` with it,
//!    and is refused for another user.
//! 4. Uses the records as an application does, through `JanrainClient`: pages `entity.find`
//!    by id over several pages (and checks it against `entity.count`), finds a user by email,
//!    updates them and reads the change back, creates a user and deletes it; then checks what
//!    the emulator recorded of those calls.
//! 5. Makes a few deliberate mistakes and prints the answers.
//!
//! Exits 0 when every outcome matches the catalog and every mistake gets its expected answer.

mod calls;
mod mistakes;
mod records;
mod user;

use std::process::ExitCode;
use std::sync::Arc;

use janrain_auth::client::{JanrainSigner, RequestSigner};
use janrain_auth::credentials::{ApiClient, ClientSecret};
use janrain_auth::emulator::{Emulator, Records};
use janrain_auth::permissions::Catalog;
use janrain_auth::server::ClientsFile;
use janrain_auth::server::replay::MemoryReplayGuard;

use calls::{Column, Demo, OPERATIONS, Outcome, matches};

const CLIENTS: &str = include_str!("../demo-clients.json");
const RECORDS: &str = include_str!("records.json");
/// The body limit of the emulator's layer.
pub const BODY_LIMIT: usize = 64 * 1024;

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
    let catalog = Catalog::identity_cloud();
    // Stopped when it goes out of scope, at the end of the run.
    let emulator = Emulator::builder()
        .clients_file(file)
        .records(Records::from_json(RECORDS)?)
        .catalog(catalog.clone())
        .configure_layer(|layer| {
            layer
                .replay_guard(MemoryReplayGuard::new())
                .body_limit(BODY_LIMIT)
        })
        .start()
        .await?;
    let base = emulator.base_url().to_owned();

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
    let (flow, user_token) = user::user_flow(&demo, &demo_clients).await?;
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
        "{} clients, {} users, {} operations in the catalog, replay guard: in memory, body limit: {BODY_LIMIT} bytes\n",
        demo_clients.len(),
        emulator.records().map_or(0, |r| r.len("user")),
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

    // The user flow, the records, then deliberate mistakes.
    let records = records::records(&emulator, &demo_clients).await?;
    let mistakes = mistakes::mistakes(&demo, &demo_clients).await?;
    for (heading, steps) in [
        ("A user's flow (janrain-oauth):", &flow),
        (
            "Records, as an application uses them (JanrainClient):",
            &records,
        ),
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
