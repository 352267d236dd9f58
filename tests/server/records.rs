//! The emulator's records over real HTTP, called by `JanrainClient` as the demo clients: each
//! data operation as Janrain documents it, writes seen by later calls, Janrain's errors with
//! their fields (and never a 5xx for bad input), calls made with a user's token acting on that
//! user's record, and tokens issued for records' uuids only.

use janrain_auth_test_support as support;

use std::sync::Arc;

use janrain_auth::client::{Error, JanrainClient, RequestSigner};
use janrain_auth::credentials::{AccessToken, ApiClient, ClientId, ClientSecret};
use janrain_auth::emulator::{Emulator, Records, RunningEmulator};
use janrain_auth::error::JanrainError;
use janrain_auth::permissions::{AuthMethod, AuthMethods, Catalog, Feature, Features, Operation};
use janrain_auth::scheme::ManualClock;
use janrain_auth::server::ClientsFile;
use serde_json::{Value, json};
use support::{CLIENTS, NOW, secret};

/// `count` users: ids 1..=count, `group` `["a", "b", "c"][n % 3]`, `age` 20 + n, a city
/// (Paris for even n), and an email but for every fourth.
fn users(count: i64) -> Vec<Value> {
    (1..=count)
        .map(|n| {
            let group = ["a", "b", "c"][(n % 3) as usize];
            let mut user = json!({
                "uuid": format!("00000000-0000-4000-8000-{n:012}"),
                "group": group,
                "age": 20 + n,
                "primaryAddress": {"city": if n % 2 == 0 { "Paris" } else { "Lyon" }},
            });
            if n % 4 != 0 {
                user["email"] = json!(format!("user{n}@example.com"));
            }
            user
        })
        .collect()
}

fn uuid(n: i64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

async fn start(records: Records) -> RunningEmulator {
    Emulator::builder()
        .clients_file(ClientsFile::from_json(CLIENTS).unwrap())
        .records(records)
        .start()
        .await
        .unwrap()
}

fn api(id: &str) -> Arc<ApiClient> {
    Arc::new(ApiClient::new(
        ClientId::new(id).unwrap(),
        ClientSecret::new(secret(id)).unwrap(),
    ))
}

fn client(id: &str, base: &str) -> JanrainClient {
    JanrainClient::new(
        RequestSigner::builder(api(id))
            .base_url(base)
            .build()
            .unwrap(),
    )
    .unwrap()
}

/// The Janrain error `call` answered, which must come with HTTP 200, as Janrain sends them.
#[track_caller]
fn janrain_error(result: Result<Value, Error>) -> JanrainError {
    match result {
        Err(Error::Janrain { status, error }) => {
            assert_eq!(status, 200, "{error}");
            error
        }
        other => panic!("expected a Janrain error, got {other:?}"),
    }
}

#[track_caller]
fn assert_janrain(e: &JanrainError, code: u16, error: &str, argument: Option<&str>) {
    assert_eq!((e.code, e.error.as_str()), (code, error), "{e}");
    assert!(!e.error_description.is_empty(), "{e}");
    assert_eq!(
        e.field("argument_name").and_then(Value::as_str),
        argument,
        "{e}"
    );
}

fn ids(answer: &Value) -> Vec<i64> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn find_filters_sorts_pages_and_projects() {
    let emulator = start(Records::new().with("user", users(30)).unwrap()).await;
    let reader = client("reader_client", emulator.base_url());
    let find = |params: Value| {
        let reader = reader.clone();
        async move {
            reader
                .call::<_, Value>("entity.find", &params)
                .await
                .unwrap()
        }
    };

    let all = find(json!({"type_name": "user"})).await;
    assert_eq!(all["result_count"], 30);
    assert_eq!(ids(&all), (1..=30).collect::<Vec<_>>());
    assert!(all.get("total_count").is_none());

    let page = find(json!({
        "type_name": "user",
        "filter": "(group = 'a' or group = 'b') and email is not null and age >= 25",
        "sort_on": ["-age"],
        "max_results": 4,
        "first_result": 2,
        "attributes": ["id", "primaryAddress.city"],
        "show_total_count": true,
    }))
    .await;
    let mut matching: Vec<i64> = (5..=30).filter(|n| n % 3 != 2 && n % 4 != 0).collect();
    matching.reverse();
    assert_eq!(page["total_count"], matching.len());
    assert_eq!(page["result_count"], 4);
    assert_eq!(ids(&page), matching[1..5]);
    let city = if matching[1] % 2 == 0 {
        "Paris"
    } else {
        "Lyon"
    };
    assert_eq!(
        page["results"][0],
        json!({"id": matching[1], "primaryAddress": {"city": city}})
    );

    // Paging by id, as Janrain recommends.
    let mut seen: Vec<i64> = Vec::new();
    let mut last = 0;
    loop {
        let page = find(json!({
            "type_name": "user",
            "filter": format!("(group = 'c') and id > {last}"),
            "sort_on": ["id"],
            "max_results": 3,
        }))
        .await;
        let page_ids = ids(&page);
        seen.extend(&page_ids);
        match page_ids.last() {
            Some(&id) if page_ids.len() == 3 => last = id,
            _ => break,
        }
    }
    assert_eq!(seen, (1..=30).filter(|n| n % 3 == 2).collect::<Vec<_>>());

    // Several keys; going up, what has no email comes last.
    let sorted = find(json!({
        "type_name": "user",
        "filter": "age <= 28",
        "sort_on": ["email", "-id"],
    }))
    .await;
    assert_eq!(ids(&sorted), [1, 2, 3, 5, 6, 7, 8, 4]);

    let count: Value = reader
        .call(
            "entity.count",
            &json!({"type_name": "user", "filter": "primaryAddress.city = 'Paris'"}),
        )
        .await
        .unwrap();
    assert_eq!(count, json!({"total_count": 15}));
    // GET works as POST does.
    let response = reader
        .request(http::Method::GET, "entity.count")
        .unwrap()
        .query(&[("type_name", "user"), ("filter", "age > 49")])
        .send()
        .await
        .unwrap();
    let count: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(count["total_count"], 1);
}

#[tokio::test]
async fn entity_reads_one_record_by_uuid_id_or_key() {
    let emulator = start(Records::new().with("user", users(5)).unwrap()).await;
    let reader = client("reader_client", emulator.base_url());
    let get = |params: Value| {
        let reader = reader.clone();
        async move { reader.call::<_, Value>("entity", &params).await }
    };
    let by_uuid = get(json!({"type_name": "user", "uuid": uuid(2)}))
        .await
        .unwrap();
    assert_eq!(by_uuid["result"]["email"], "user2@example.com");
    assert_eq!(by_uuid["result"]["id"], 2);
    let by_id = get(json!({"type_name": "user", "id": 4, "attributes": ["uuid", "age"]}))
        .await
        .unwrap();
    assert_eq!(by_id["result"], json!({"uuid": uuid(4), "age": 24}));
    let by_key = get(json!({
        "type_name": "user",
        "key_attribute": "email",
        "key_value": "\"user5@example.com\"",
        "attribute_name": "primaryAddress.city",
    }))
    .await
    .unwrap();
    assert_eq!(by_key["result"], "Lyon");
    let created = by_uuid["result"]["created"].as_str().unwrap();
    // Janrain's format: `2016-03-13 19:39:17.856608 +0000`.
    assert_eq!(created.len(), 32, "{created}");
    assert!(
        created.ends_with(" +0000") && created.as_bytes()[19] == b'.',
        "{created}"
    );
    let with_stamp = get(json!({"type_name": "user", "uuid": uuid(2), "created": created}))
        .await
        .unwrap();
    assert_eq!(with_stamp["result"]["id"], 2);
}

#[tokio::test]
async fn writes_are_seen_by_the_calls_after_them() {
    let clock = ManualClock::at(NOW.parse().unwrap());
    let records = Records::new().with("user", users(3)).unwrap();
    let emulator = Emulator::builder()
        .clients_file(ClientsFile::from_json(CLIENTS).unwrap())
        .records(records.clone())
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    // The client signs by the emulator's clock.
    let signer = RequestSigner::builder(api("direct_client"))
        .base_url(emulator.base_url())
        .clock(clock.clone());
    let direct = JanrainClient::new(signer.build().unwrap()).unwrap();
    let call = |op: &'static str, params: Value| {
        let direct = direct.clone();
        async move { direct.call::<_, Value>(op, &params).await }
    };

    let created = call(
        "entity.create",
        json!({
            "type_name": "user",
            "attributes": {"email": "new@example.com", "statuses": [{"id": 7, "status": "active"}]},
            "include_record": true,
        }),
    )
    .await
    .unwrap();
    assert_eq!(created["id"], 4);
    let new_uuid = created["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        created["result"]["created"],
        "2026-03-01 12:00:00.000000 +0000"
    );
    assert_eq!(
        created["result"]["lastUpdated"],
        created["result"]["created"]
    );

    clock.advance(60);
    let updated = call(
        "entity.update",
        json!({
            "type_name": "user",
            "uuid": new_uuid,
            "value": {"givenName": "Zoë", "statuses": [{"id": 7, "status": "closed"}, {"status": "new"}]},
            "include_record": true,
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        updated["result"]["lastUpdated"],
        "2026-03-01 12:01:00.000000 +0000"
    );
    let read = call("entity", json!({"type_name": "user", "uuid": new_uuid}))
        .await
        .unwrap();
    assert_eq!(read["result"]["givenName"], "Zoë");
    assert_eq!(read["result"]["email"], "new@example.com");
    assert_eq!(
        read["result"]["statuses"],
        json!([{"id": 7, "status": "closed"}, {"status": "new"}])
    );
    assert_eq!(
        read["result"]["created"],
        "2026-03-01 12:00:00.000000 +0000"
    );

    // Janrain's examples send the update as `attributes`; one attribute by attribute_name,
    // its value plain text.
    call(
        "entity.update",
        json!({"type_name": "user", "id": 1, "attributes": {"familyName": "Smith"}}),
    )
    .await
    .unwrap();
    call(
        "entity.update",
        json!({"type_name": "user", "id": 1, "attribute_name": "givenName", "value": "Fred"}),
    )
    .await
    .unwrap();
    let one = records.get_by_id("user", 1).unwrap();
    assert_eq!(
        (&one["familyName"], &one["givenName"]),
        (&json!("Smith"), &json!("Fred"))
    );

    // Replace: what is left out is gone; id, uuid and created stay.
    call(
        "entity.replace",
        json!({"type_name": "user", "uuid": uuid(2), "value": {"email": "only@example.com"}}),
    )
    .await
    .unwrap();
    let two = records.get("user", &uuid(2)).unwrap();
    let mut keys: Vec<&str> = two
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created", "email", "id", "lastUpdated", "uuid"]);

    // Delete one plural element, then a whole record.
    call(
        "entity.delete",
        json!({"type_name": "user", "uuid": new_uuid, "attribute_name": "statuses#7"}),
    )
    .await
    .unwrap();
    assert_eq!(
        records.get("user", &new_uuid).unwrap()["statuses"],
        json!([{"status": "new"}])
    );
    call("entity.delete", json!({"type_name": "user", "id": 3}))
        .await
        .unwrap();
    let gone = janrain_error(call("entity", json!({"type_name": "user", "id": 3})).await);
    assert_janrain(&gone, 310, "record_not_found", None);
    let count = call("entity.count", json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(count["total_count"], 3);
    // Ids only increase: the deleted 3 and the 4 are not given again.
    let next = call(
        "entity.create",
        json!({"type_name": "user", "attributes": {}}),
    )
    .await
    .unwrap();
    assert_eq!(next["id"], 5);
}

#[tokio::test]
async fn errors_are_janrains_with_their_fields() {
    let emulator = start(Records::new().with("user", users(3)).unwrap()).await;
    let direct = client("direct_client", emulator.base_url());
    let call = |op: &'static str, params: Value| {
        let direct = direct.clone();
        async move { direct.call::<_, Value>(op, &params).await }
    };
    for (op, params, code, error, argument) in [
        (
            "entity.find",
            json!({}),
            100,
            "missing_argument",
            Some("type_name"),
        ),
        (
            "entity",
            json!({"type_name": "user"}),
            100,
            "missing_argument",
            Some("uuid"),
        ),
        (
            "entity",
            json!({"type_name": "user", "key_value": "\"a\""}),
            100,
            "missing_argument",
            Some("key_attribute"),
        ),
        (
            "entity",
            json!({"type_name": "user", "key_attribute": "email"}),
            100,
            "missing_argument",
            Some("key_value"),
        ),
        (
            "entity.update",
            json!({"type_name": "user", "id": 1}),
            100,
            "missing_argument",
            Some("value"),
        ),
        (
            "entity.create",
            json!({"type_name": "user"}),
            100,
            "missing_argument",
            Some("attributes"),
        ),
        (
            "entity.find",
            json!({"type_name": "user", "filter": "email contains 'x'"}),
            200,
            "invalid_argument",
            Some("filter"),
        ),
        (
            "entity.count",
            json!({"type_name": "user", "filter": "not email = 'a'"}),
            200,
            "invalid_argument",
            Some("filter"),
        ),
        (
            "entity.find",
            json!({"type_name": "user", "attributes": "uuid"}),
            200,
            "invalid_argument",
            Some("attributes"),
        ),
        (
            "entity.find",
            json!({"type_name": "user", "sort_on": "[\"id\""}),
            200,
            "invalid_argument",
            Some("sort_on"),
        ),
        (
            "entity.find",
            json!({"type_name": "user", "max_results": 0}),
            200,
            "invalid_argument",
            Some("max_results"),
        ),
        (
            "entity.find",
            json!({"type_name": "user", "max_results": 10_001}),
            200,
            "invalid_argument",
            Some("max_results"),
        ),
        (
            "entity.find",
            json!({"type_name": "user", "first_result": 0}),
            200,
            "invalid_argument",
            Some("first_result"),
        ),
        (
            "entity.find",
            json!({"type_name": "user", "show_total_count": "yes"}),
            200,
            "invalid_argument",
            Some("show_total_count"),
        ),
        (
            "entity",
            json!({"type_name": "user", "id": "one"}),
            200,
            "invalid_argument",
            Some("id"),
        ),
        (
            "entity",
            json!({"type_name": "user", "key_attribute": "email", "key_value": "a@b"}),
            200,
            "invalid_argument",
            Some("key_value"),
        ),
        (
            "entity.update",
            json!({"type_name": "user", "id": 1, "value": "{not json"}),
            200,
            "invalid_argument",
            Some("value"),
        ),
        (
            "entity.update",
            json!({"type_name": "user", "id": 1, "value": {"uuid": "another"}}),
            200,
            "invalid_argument",
            Some("value"),
        ),
        (
            "entity.update",
            json!({"type_name": "user", "id": 1, "attribute_name": "id", "value": 9}),
            200,
            "invalid_argument",
            Some("attribute_name"),
        ),
        (
            "entity.create",
            json!({"type_name": "user", "attributes": [1]}),
            200,
            "invalid_argument",
            Some("attributes"),
        ),
        (
            "entity.delete",
            json!({"type_name": "user", "id": 1, "attribute_name": "nothing.here"}),
            200,
            "invalid_argument",
            Some("attribute_name"),
        ),
        (
            "entity",
            json!({"type_name": "user", "uuid": uuid(1), "id": 1}),
            201,
            "duplicate_argument",
            Some("id"),
        ),
        (
            "entity.update",
            json!({"type_name": "user", "id": 1, "value": {}, "attributes": {}}),
            201,
            "duplicate_argument",
            Some("value"),
        ),
        (
            "entity.find",
            json!({"type_name": "users"}),
            222,
            "unknown_entity_type",
            Some("type_name"),
        ),
        (
            "entity",
            json!({"type_name": "user", "uuid": "nobody"}),
            310,
            "record_not_found",
            None,
        ),
        (
            "entity.delete",
            json!({"type_name": "user", "id": 99}),
            310,
            "record_not_found",
            None,
        ),
        (
            "entity",
            json!({"type_name": "user", "key_attribute": "email", "key_value": "\"x@y\""}),
            310,
            "record_not_found",
            None,
        ),
        (
            "entity.create",
            json!({"type_name": "user", "attributes": {"id": 9}}),
            320,
            "id_in_new_record",
            Some("attributes"),
        ),
        (
            "entity.update",
            json!({"type_name": "user", "id": 1, "value": {}, "lastUpdated": "2000-01-01 00:00:00.000000 +0000"}),
            330,
            "timestamp_mismatch",
            Some("lastUpdated"),
        ),
        (
            "entity.create",
            json!({"type_name": "user", "attributes": {"uuid": uuid(1)}}),
            361,
            "unique_violation",
            Some("attributes"),
        ),
    ] {
        let e = janrain_error(call(op, params.clone()).await);
        assert_janrain(&e, code, error, argument);
        assert!(
            !emulator.calls().last().unwrap().is_ok(),
            "{op} {params} was recorded as ok"
        );
    }
    // Janrain's own wording of the two most common errors.
    let e = janrain_error(call("entity", json!({"type_name": "user"})).await);
    assert_eq!(e.error_description, "missing required argument: uuid");
    let e = janrain_error(call("entity", json!({"type_name": "user", "id": "x"})).await);
    assert!(
        e.error_description
            .starts_with("id was not valid for the following reason: "),
        "{e}"
    );
    // A key sent twice is a duplicate too (Janrain's clients never send one).
    let response = reqwest::Client::new()
        .post(emulator.url("/entity.find"))
        .basic_auth("direct_client", Some(secret("direct_client")))
        .form(&[
            ("type_name", "user"),
            ("filter", "id > 1"),
            ("filter", "id > 2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let e = JanrainError::from_body(&response.bytes().await.unwrap()).unwrap();
    assert_janrain(&e, 201, "duplicate_argument", Some("filter"));
    // Nothing was written by the refused writes.
    assert_eq!(emulator.records().unwrap().len("user"), 3);
}

use proptest::strategy::Strategy;

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 48, ..Default::default() })]

    /// Whatever the parameters, a data operation answers HTTP 200 with `stat` `ok` or a
    /// Janrain error below 500.
    #[test]
    fn bad_input_never_gets_a_5xx(
        op in proptest::sample::select(vec!["/entity", "/entity.find", "/entity.count", "/entity.create", "/entity.update", "/entity.replace", "/entity.delete"]),
        params in proptest::collection::vec(
            (
                proptest::sample::select(vec!["type_name", "uuid", "id", "key_attribute", "key_value", "filter", "sort_on", "max_results", "first_result", "attributes", "attribute_name", "value", "include_record", "show_total_count", "created", "lastUpdated"]),
                proptest::prop_oneof![
                    proptest::sample::select(vec!["user", "1", "0", "-1", "true", "[]", "{}", "[\"id\"]", "{\"a\":1}", "\"x\"", "id > 1", "a.b#1", "statuses#1", "", "18446744073709551616", "null"]).prop_map(|s: &str| s.to_owned()),
                    ".{0,12}",
                ],
            ),
            0..6,
        ),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let emulator = start(Records::new().with("user", users(3)).unwrap()).await;
            let response = reqwest::Client::new()
                .post(emulator.url(op))
                .basic_auth("direct_client", Some(secret("direct_client")))
                .form(&params)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            proptest::prop_assert_eq!(status, 200, "{} {:?}: {}", op, params, body);
            match body["stat"].as_str() {
                Some("ok") => {}
                Some("error") => {
                    let code = body["code"].as_u64().unwrap();
                    proptest::prop_assert!(code < 500, "{} {:?}: {}", op, params, body);
                }
                _ => proptest::prop_assert!(false, "{} {:?}: {}", op, params, body),
            }
            Ok(())
        })?;
    }
}

/// A catalog where `entity.find`, `entity.count` and `entity.create` take a user's token too
/// (Identity Cloud's does not): the emulator's own rule is then what keeps the user to their
/// record.
fn catalog_with_user_search() -> Catalog {
    let user_ops = AuthMethods::HEADER | AuthMethod::OAuth;
    let data = Features::of(&[Feature::DirectAccess, Feature::DirectReadAccess]);
    let mut catalog = Catalog::identity_cloud();
    for path in ["/entity.find", "/entity.count", "/entity.create"] {
        catalog = catalog.with(Operation::new(path, user_ops, data));
    }
    catalog
}

#[tokio::test]
async fn identity_clouds_catalog_keeps_a_users_token_to_the_four_record_operations() {
    let records = Records::new().with("user", users(3)).unwrap();
    let emulator = start(records.clone()).await;
    let issuer = client("issuer_client", emulator.base_url());
    let issued: Value = issuer
        .call(
            "access/getAccessToken",
            &json!({"uuid": uuid(1), "type_name": "user", "for_client_id": "login_client"}),
        )
        .await
        .unwrap();
    let user = issuer.as_user(AccessToken::new(issued["access_token"].as_str().unwrap()).unwrap());
    for (op, params) in [
        ("entity", json!({"type_name": "user"})),
        (
            "entity.update",
            json!({"type_name": "user", "value": {"a": 1}}),
        ),
        (
            "entity.replace",
            json!({"type_name": "user", "uuid": uuid(1), "value": {"a": 2}}),
        ),
    ] {
        user.call::<_, Value>(op, &params).await.unwrap();
    }
    assert_eq!(records.get("user", &uuid(1)).unwrap()["a"], 2);
    for op in ["entity.find", "entity.count", "entity.create"] {
        let refused = user
            .call::<_, Value>(op, &json!({"type_name": "user", "attributes": {}}))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Some(424), "{op}");
    }
    // Naming the record by anything but the token's own uuid is the layer's refusal.
    for params in [
        json!({"type_name": "user", "id": 1}),
        json!({"type_name": "user", "key_attribute": "email", "key_value": "\"user1@example.com\""}),
    ] {
        let refused = user.call::<_, Value>("entity", &params).await.unwrap_err();
        assert_eq!(refused.code(), Some(422), "{params}");
    }
    user.call::<_, Value>("entity.delete", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(records.len("user"), 2);
    // A user's access_token beside client credentials is refused before any record is read.
    let response = reqwest::Client::new()
        .post(emulator.url("/entity"))
        .basic_auth("direct_client", Some(secret("direct_client")))
        .form(&[
            ("type_name", "user"),
            ("uuid", uuid(2).as_str()),
            ("access_token", issued["access_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let e = JanrainError::from_body(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(e.code, 232, "{e}");
}

#[tokio::test]
async fn a_users_token_reaches_that_users_record_only() {
    let records = Records::new().with("user", users(4)).unwrap();
    let emulator = Emulator::builder()
        .clients_file(ClientsFile::from_json(CLIENTS).unwrap())
        .catalog(catalog_with_user_search())
        .records(records.clone())
        .start()
        .await
        .unwrap();
    let issuer = client("issuer_client", emulator.base_url());
    // Tokens only for the records' users.
    let e = janrain_error(
        issuer
            .call(
                "access/getAccessToken",
                &json!({"uuid": "nobody", "type_name": "user", "for_client_id": "login_client"}),
            )
            .await,
    );
    assert_janrain(&e, 310, "record_not_found", None);
    let e = janrain_error(
        issuer
            .call(
                "access/getAccessToken",
                &json!({"uuid": uuid(2), "type_name": "customer", "for_client_id": "login_client"}),
            )
            .await,
    );
    assert_janrain(&e, 222, "unknown_entity_type", Some("type_name"));
    let issued: Value = issuer
        .call(
            "access/getAccessToken",
            &json!({"uuid": uuid(2), "type_name": "user", "for_client_id": "login_client"}),
        )
        .await
        .unwrap();
    let token = AccessToken::new(issued["access_token"].as_str().unwrap()).unwrap();
    let user = issuer.as_user(token);

    let me: Value = user
        .call("entity", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(me["result"]["uuid"], uuid(2));
    user.call::<_, Value>(
        "entity.update",
        &json!({"type_name": "user", "uuid": uuid(2), "value": {"givenName": "Zoë"}}),
    )
    .await
    .unwrap();
    assert_eq!(records.get("user", &uuid(2)).unwrap()["givenName"], "Zoë");
    // Naming another user is the layer's refusal; nothing changes.
    let refused = user
        .call::<_, Value>(
            "entity.update",
            &json!({"type_name": "user", "uuid": uuid(3), "value": {"givenName": "Eve"}}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(422));
    assert!(
        records
            .get("user", &uuid(3))
            .unwrap()
            .get("givenName")
            .is_none()
    );
    // Searching and counting see the user's own record only.
    let found: Value = user
        .call(
            "entity.find",
            &json!({"type_name": "user", "filter": "age > 0"}),
        )
        .await
        .unwrap();
    assert_eq!(found["result_count"], 1);
    assert_eq!(found["results"][0]["uuid"], uuid(2));
    let count: Value = user
        .call("entity.count", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(count["total_count"], 1);
    // And creating is not the user's to do.
    let e = janrain_error(
        user.call(
            "entity.create",
            &json!({"type_name": "user", "attributes": {}}),
        )
        .await,
    );
    assert_janrain(&e, 403, "client_permission_error", None);
    // The calls recorded who acted for whom.
    let update = &emulator.calls_to("/entity.update")[0];
    assert_eq!(update.auth(), Some(AuthMethod::OAuth));
    assert_eq!(update.user(), Some(uuid(2).as_str()));
    assert_eq!(
        update.client_id().map(ClientId::as_str),
        Some("login_client")
    );
    // Deleting the record: the user's token then finds nothing.
    user.call::<_, Value>("entity.delete", &json!({"type_name": "user"}))
        .await
        .unwrap();
    let e = janrain_error(user.call("entity", &json!({"type_name": "user"})).await);
    assert_janrain(&e, 310, "record_not_found", None);
}

#[tokio::test]
async fn the_echo_stays_available() {
    let emulator = Emulator::builder()
        .clients_file(ClientsFile::from_json(CLIENTS).unwrap())
        .records(Records::new().with("user", users(2)).unwrap())
        .on("/entity.update", |call| call.echo())
        .start()
        .await
        .unwrap();
    let direct = client("direct_client", emulator.base_url());
    let echoed: Value = direct
        .call(
            "entity.update",
            &json!({"type_name": "user", "id": 1, "value": {"a": [1, 2]}}),
        )
        .await
        .unwrap();
    assert_eq!(echoed["operation"], "/entity.update");
    assert_eq!(echoed["params"]["value"], r#"{"a": [1, 2]}"#);
    // Not written: the echo replaced the operation.
    assert!(
        emulator
            .records()
            .unwrap()
            .get_by_id("user", 1)
            .unwrap()
            .get("a")
            .is_none()
    );
    // Operations that are not data operations echo as ever.
    let entity_type: Value = direct
        .call("entityType", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(entity_type["params"]["type_name"], "user");
}

#[tokio::test]
async fn first_result_counts_from_one_or_as_told() {
    for (base, first, want) in [(1, 1, 1), (1, 3, 3), (0, 0, 1), (0, 2, 3)] {
        let emulator = Emulator::builder()
            .clients_file(ClientsFile::from_json(CLIENTS).unwrap())
            .records(Records::new().with("user", users(5)).unwrap())
            .first_result_base(base)
            .start()
            .await
            .unwrap();
        let reader = client("reader_client", emulator.base_url());
        let page: Value = reader
            .call(
                "entity.find",
                &json!({"type_name": "user", "first_result": first, "max_results": 2}),
            )
            .await
            .unwrap();
        assert_eq!(ids(&page)[0], want, "base {base}, first_result {first}");
        assert_eq!(page["result_count"], 2);
    }
}
