//! `JanrainClient::find_all` against the emulator's records over real HTTP: every match of a
//! filter exactly once, in id order, over several pages; records created while paging are
//! found too (paging by id, as Janrain recommends); the pages the emulator recorded are the
//! requests `find_all` documents.

use std::sync::Arc;

use janrain_auth::client::{JanrainClient, RequestSigner};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::emulator::{Emulator, Records, RunningEmulator};
use janrain_auth::permissions::Feature;
use serde::Deserialize;
use serde_json::{Value, json};

/// 57 users with ids 3, 6, 9, ... (gaps: paging must follow ids, not offsets), in groups a,
/// b, c, every fifth without an email.
fn users() -> Vec<Value> {
    (1..=57i64)
        .map(|n| {
            let group = ["a", "b", "c"][(n % 3) as usize];
            let mut user = json!({"id": n * 3, "group": group, "score": (n * 7) % 11});
            if n % 5 != 0 {
                user["email"] = json!(format!("user{n}@example.com"));
            }
            user
        })
        .collect()
}

async fn emulator(records: &Records) -> (RunningEmulator, JanrainClient) {
    let reader = Arc::new(
        ApiClient::new(
            ClientId::new("reader").unwrap(),
            ClientSecret::new("reader-secret").unwrap(),
        )
        .with_feature(Feature::DirectReadAccess),
    );
    let emulator = Emulator::builder()
        .client((*reader).clone())
        .records(records.clone())
        .start()
        .await
        .unwrap();
    let janrain = JanrainClient::new(
        RequestSigner::builder(reader)
            .base_url(emulator.base_url())
            .build()
            .unwrap(),
    )
    .unwrap();
    (emulator, janrain)
}

#[derive(Debug, Deserialize, PartialEq)]
struct User {
    id: i64,
    email: String,
}

#[tokio::test]
async fn find_all_pages_every_match_once_in_id_order() {
    let records = Records::new().with("user", users()).unwrap();
    let (emulator, janrain) = emulator(&records).await;
    let filter = "group != 'b' and email is not null and score >= 3";
    let expected: Vec<i64> = records
        .all("user")
        .iter()
        .filter(|u| u["group"] != "b" && u.get("email").is_some() && u["score"].as_i64() >= Some(3))
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert!(expected.len() > 14, "several pages of 7");

    let mut users = janrain.find_all::<_, User>(&json!({
        "type_name": "user",
        "filter": filter,
        "attributes": ["email"],
        "max_results": 7,
    }));
    let mut got = Vec::new();
    while let Some(user) = users.next().await {
        let user = user.unwrap();
        assert_eq!(user.email, format!("user{}@example.com", user.id / 3));
        got.push(user.id);
    }
    assert_eq!(got, expected);

    // One entity.find per page, the last one short (or empty, after an exact last page).
    let pages = expected.len() / 7 + 1;
    emulator.expect("/entity.find", pages as u64);
    emulator.verify().unwrap();
    let calls = emulator.calls_to("/entity.find");
    assert_eq!(calls[0].param("filter"), Some(filter));
    assert_eq!(
        calls[1].param("filter"),
        Some(format!("({filter}) and id > {}", expected[6]).as_str())
    );
    assert!(calls.iter().all(|c| c.param("sort_on") == Some(r#"["id"]"#)
        && c.param("max_results") == Some("7")
        && c.param("attributes") == Some(r#"["email", "id"]"#)
        && c.is_ok()));

    let count: Value = janrain
        .call(
            "entity.count",
            &json!({"type_name": "user", "filter": filter}),
        )
        .await
        .unwrap();
    assert_eq!(count["total_count"], expected.len());
}

#[tokio::test]
async fn records_created_while_paging_are_found() {
    let records = Records::new().with("user", users()).unwrap();
    let (_emulator, janrain) = emulator(&records).await;
    let mut all = janrain.find_all::<_, Value>(&json!({"type_name": "user", "max_results": 10}));
    let mut ids = Vec::new();
    while let Some(user) = all.next().await {
        let id = user.unwrap()["id"].as_i64().unwrap();
        if ids.is_empty() {
            // Created after the first page was read: its id is above every other.
            let added = records.insert("user", json!({"group": "late"})).unwrap();
            assert_eq!(added["id"], 57 * 3 + 1);
        }
        ids.push(id);
    }
    assert_eq!(ids.len(), 58);
    assert_eq!(ids.last(), Some(&(57 * 3 + 1)));
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}
