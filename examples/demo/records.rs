//! The emulator's records at work, as an application's code uses them: `entity.find` paged by
//! id over several pages, a record found, updated and read back, one created and deleted, and
//! what the emulator recorded of it all.

use std::sync::Arc;

use janrain_auth::client::{Error, JanrainClient, RequestSigner};
use janrain_auth::credentials::ApiClient;
use janrain_auth::emulator::RunningEmulator;
use serde_json::{Value, json};

use crate::calls::Outcome;
use crate::user::Expectation;

/// Users with a birthday in `records.json`, and the page size the reader asks for.
const FILTER: &str = "birthday is not null";
const PAGE: u32 = 8;

pub async fn records(
    emulator: &RunningEmulator,
    clients: &[Arc<ApiClient>],
) -> Result<Vec<(String, Outcome, Expectation)>, Box<dyn std::error::Error>> {
    let client = |id: &str| -> Result<JanrainClient, Box<dyn std::error::Error>> {
        let api = clients
            .iter()
            .find(|c| c.id().as_str() == id)
            .cloned()
            .ok_or_else(|| format!("no {id}"))?;
        let signer = RequestSigner::builder(api)
            .base_url(emulator.base_url())
            .build()?;
        Ok(JanrainClient::new(signer)?)
    };
    let reader = client("reader_client")?;
    let direct = client("direct_client")?;
    let mut out = Vec::new();

    // Every user with a birthday, a page at a time, as Janrain recommends for large sets.
    let before = emulator.calls_to("/entity.find").len();
    let mut users = reader.find_all::<_, Value>(&json!({
        "type_name": "user",
        "filter": FILTER,
        "attributes": ["uuid", "email"],
        "max_results": PAGE,
    }));
    let mut found = 0u64;
    let mut failed = None;
    while let Some(user) = users.next().await {
        match user {
            Ok(_) => found += 1,
            Err(e) => failed = Some(e.to_string()),
        }
    }
    let pages = emulator.calls_to("/entity.find").len() - before;
    let count = reader
        .call::<_, Value>(
            "entity.count",
            &json!({"type_name": "user", "filter": FILTER}),
        )
        .await;
    let total = count.as_ref().ok().and_then(|c| c["total_count"].as_u64());
    let got = match (failed, total) {
        (Some(e), _) => Outcome::Broken(e),
        (None, Some(total)) if total == found && pages > 1 => Outcome::Ok,
        (None, total) => Outcome::Broken(format!(
            "{found} records over {pages} pages, entity.count said {total:?}"
        )),
    };
    out.push((
        format!("reader_client pages entity.find, {PAGE} a page: {found} users over {pages} pages"),
        got,
        None,
    ));

    // Find a user by email, update them, read the change back.
    let email = "chloe.dubois4@example.com";
    let found: Result<Value, Error> = direct
        .call(
            "entity.find",
            &json!({"type_name": "user", "filter": format!("email = '{email}'"), "attributes": ["uuid"]}),
        )
        .await;
    let uuid = found
        .as_ref()
        .ok()
        .and_then(|f| f["results"][0]["uuid"].as_str())
        .map(str::to_owned);
    let got = match &uuid {
        Some(uuid) => {
            let update = direct
                .call::<_, Value>(
                    "entity.update",
                    &json!({
                        "type_name": "user",
                        "uuid": uuid,
                        "value": {"givenName": "Chloé", "primaryAddress": {"city": "Nantes"}},
                    }),
                )
                .await;
            let read = direct
                .call::<_, Value>(
                    "entity",
                    &json!({"type_name": "user", "uuid": uuid, "attributes": ["givenName", "primaryAddress.city", "primaryAddress.country"]}),
                )
                .await;
            match (update, read) {
                (Err(e), _) | (_, Err(e)) => outcome_of(&e),
                (Ok(_), Ok(read)) => {
                    let want = json!({"givenName": "Chloé", "primaryAddress": {"city": "Nantes", "country": "United States"}});
                    if read["result"] == want {
                        Outcome::Ok
                    } else {
                        Outcome::Broken(format!("read back {}", read["result"]))
                    }
                }
            }
        }
        None => Outcome::Broken(format!("no user with the email {email}: {found:?}")),
    };
    out.push((
        "direct_client updates a user found by email, reads it back".into(),
        got,
        None,
    ));

    // A new record: created, read by its email (key_attribute), deleted.
    let created = direct
        .call::<_, Value>(
            "entity.create",
            &json!({"type_name": "user", "attributes": {"email": "new.user@example.com", "givenName": "New"}}),
        )
        .await;
    let by_key = json!({
        "type_name": "user",
        "key_attribute": "email",
        "key_value": "\"new.user@example.com\"",
    });
    let got = match created {
        Ok(created) => match direct.call::<_, Value>("entity", &by_key).await {
            Ok(read) if read["result"]["id"] == created["id"] => Outcome::Ok,
            Ok(read) => Outcome::Broken(format!("read {} for {created}", read["result"])),
            Err(e) => outcome_of(&e),
        },
        Err(e) => outcome_of(&e),
    };
    out.push((
        "direct_client creates a user and reads it by email".into(),
        got,
        None,
    ));
    let deleted = direct.call::<_, Value>("entity.delete", &by_key).await;
    // Other parameters than the read above: with the replay guard on, the same parameters
    // signed in the same second would be the same request.
    let mut read_email = by_key.clone();
    read_email["attribute_name"] = json!("email");
    let read = direct.call::<_, Value>("entity", &read_email).await;
    let got = match (deleted, read) {
        (Err(e), _) | (Ok(_), Err(e)) => outcome_of(&e),
        (Ok(_), Ok(read)) => Outcome::Broken(format!("still there: {read}")),
    };
    out.push((
        "direct_client deletes it; reading it again".into(),
        got,
        Some((200, 310)),
    ));

    // What the emulator recorded: the test's view of the same calls.
    emulator.expect("/entity.update", 1..);
    emulator.expect_where(
        "reader_client's entity.find pages",
        |c| {
            c.operation() == "/entity.find"
                && c.client_id()
                    .is_some_and(|id| id.as_str() == "reader_client")
        },
        pages as u64..,
    );
    let got = match emulator.verify() {
        Ok(()) => Outcome::Ok,
        Err(unmet) => Outcome::Broken(unmet.to_string()),
    };
    let calls = emulator.calls();
    let refused = calls.iter().filter(|c| !c.passed_layer()).count();
    out.push((
        format!(
            "the emulator recorded {} calls ({refused} refused by the layer); expectations met",
            calls.len()
        ),
        got,
        None,
    ));
    Ok(out)
}

/// A client error as the demo's outcome.
fn outcome_of(e: &Error) -> Outcome {
    match (e.status(), e.janrain()) {
        (Some(status), Some(error)) => Outcome::Refused {
            status: status.as_u16(),
            code: error.code,
            error: error.error.clone(),
        },
        _ => Outcome::Broken(e.to_string()),
    }
}
