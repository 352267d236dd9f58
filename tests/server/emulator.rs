//! The emulator as users drive it: replaced answers with their statuses and fields, what a
//! replacement sees, access tokens issued and accepted, the server's end on `shutdown` and on
//! drop, the calls it recorded and the expectations checked on them, `SignedRequest` (signed,
//! Basic, as a user, as a login client) through a router and over HTTP, and `JanrainError` as
//! a handler's answer.

use janrain_auth_test_support as support;

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use janrain_auth::client::{JanrainClient, RequestSigner};
use janrain_auth::credentials::{AccessToken, ApiClient, ClientId, ClientSecret};
use janrain_auth::emulator::{Emulator, Records, Reply, SignedRequest};
use janrain_auth::permissions::Feature;
use janrain_auth::server::ClientsFile;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{CLIENTS, NOW, READER, clock};
use tower::ServiceExt;

fn client(id: &str, secret: &str, feature: Feature) -> Arc<ApiClient> {
    Arc::new(
        ApiClient::new(
            ClientId::new(id).unwrap(),
            ClientSecret::new(secret).unwrap(),
        )
        .with_feature(feature),
    )
}

fn reader() -> Arc<ApiClient> {
    client(READER.0, READER.1, Feature::DirectReadAccess)
}

fn janrain(client: Arc<ApiClient>, base: &str) -> JanrainClient {
    JanrainClient::new(
        RequestSigner::builder(client)
            .base_url(base)
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn demo() -> ClientsFile {
    ClientsFile::from_json(CLIENTS).unwrap()
}

#[tokio::test]
async fn replaced_answers_keep_their_status_and_see_the_verified_call() {
    let emulator = Emulator::builder()
        .clients_file(demo())
        .on("/entity", |_call| {
            Reply::janrain(310, "record_not_found", "no such record")
                .with_status(StatusCode::NOT_FOUND)
        })
        .on("/entity.find", |call| {
            json!({
                "stat": "ok",
                "method": call.method().as_str(),
                "path": call.path(),
                "client_id": call.client().map(|c| c.client_id().to_string()),
                "filter": call.param("filter"),
                "keys": call.params().map(|p| p.len()),
            })
        })
        .on("/entity.count", |_call| {
            Reply::other(StatusCode::BAD_GATEWAY, "text/html", "<html>down</html>")
        })
        .start()
        .await
        .unwrap();
    let reader = janrain(reader(), emulator.base_url());

    let got: Value = reader
        .call(
            "entity.find",
            &json!({"type_name": "user", "filter": "a = 'b'"}),
        )
        .await
        .unwrap();
    assert_eq!(got["method"], "POST");
    assert_eq!(got["path"], "/entity.find");
    assert_eq!(got["client_id"], READER.0);
    assert_eq!(got["filter"], "a = 'b'");
    assert_eq!(got["keys"], 2);

    let err = reader
        .call::<_, Value>("entity", &json!({"uuid": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(err.code(), Some(310));

    let response = reqwest::Client::new()
        .post(emulator.url("/entity.count"))
        .send()
        .await
        .unwrap();
    // The layer answers first: a replaced operation is still verified.
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let err = reader
        .call::<_, Value>("entity.count", &json!({"type_name": "user"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(err.code(), None);

    // Every other operation echoes; the layer still refuses what the client may not do.
    let echoed: Value = reader
        .call("entityType", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(echoed["operation"], "/entityType");
    assert_eq!(echoed["auth"], "signature");
    let refused = reader
        .call::<_, Value>("entity.update", &json!({"type_name": "user"}))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(403));
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn issued_tokens_are_accepted_at_once() {
    let emulator = Emulator::builder()
        .clients_file(demo())
        .start()
        .await
        .unwrap();
    let issuer = janrain(
        client(
            "issuer_client",
            "issuer-secret-9b2e5d",
            Feature::AccessIssuer,
        ),
        emulator.base_url(),
    );
    let issued: Value = issuer
        .call(
            "access/getAccessToken",
            &json!({"uuid": "u-1", "type_name": "user", "for_client_id": "login_client"}),
        )
        .await
        .unwrap();
    assert_eq!(issued["expires_in"], 3600);
    let token = issued["access_token"].as_str().unwrap().to_owned();
    let user = issuer.as_user(AccessToken::new(token).unwrap());
    let record: Value = user
        .call("entity", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(record["uuid"], "u-1");
    assert_eq!(record["auth"], "oauth");
    // Without a uuid: the emulator's own error.
    let err = issuer
        .call::<_, Value>("access/getAccessToken", &json!({"type_name": "user"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(100));
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let http = reqwest::Client::new();
    let emulator = Emulator::builder().start().await.unwrap();
    let url = emulator.url("/entity.find");
    assert!(emulator.addr().ip().is_loopback());
    assert_eq!(emulator.base_url(), format!("http://{}", emulator.addr()));
    assert_eq!(http.post(&url).send().await.unwrap().status(), 401);
    emulator.shutdown().await.unwrap();
    assert!(http.post(&url).send().await.is_err());

    let emulator = Emulator::builder().start().await.unwrap();
    let url = emulator.url("/entity.find");
    drop(emulator);
    let mut stopped = false;
    for _ in 0..50 {
        if reqwest::Client::new().post(&url).send().await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        stopped,
        "the server still answers after its handle was dropped"
    );
}

async fn answer(
    app: axum::Router,
    request: http::Request<http_body_util::Full<bytes::Bytes>>,
) -> (u16, Value) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn signed_requests_pass_the_layer() {
    let app = Emulator::builder()
        .clients_file(demo())
        .configure_layer(|layer| layer.clock(clock()))
        .router();
    let now = NOW.parse().unwrap();
    let find = || {
        SignedRequest::new(reader(), "/entity.find")
            .param("type_name", "user")
            .param("tag", "a")
            .param("tag", "b")
            .at(now)
    };
    for (request, auth, method) in [
        (find().build().unwrap(), "signature", "POST"),
        (find().get().build().unwrap(), "signature", "GET"),
        (find().basic().build().unwrap(), "basic", "POST"),
    ] {
        assert_eq!(request.method(), method);
        let (status, got) = answer(app.clone(), request).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["auth"], auth);
        assert_eq!(got["client_id"], READER.0);
        assert_eq!(
            got["params"],
            json!({"type_name": "user", "tag": ["a", "b"]})
        );
    }
    // Signed ten minutes before the server's clock: stale.
    let stale = find()
        .at("2026-03-01 11:50:00".parse().unwrap())
        .build()
        .unwrap();
    let (status, got) = answer(app.clone(), stale).await;
    assert_eq!((status, got["code"].as_u64()), (401, Some(433)), "{got}");
    // The wrong secret.
    let impostor = client(READER.0, "not-the-secret", Feature::DirectReadAccess);
    let forged = SignedRequest::new(impostor, "/entity.find")
        .at(now)
        .build()
        .unwrap();
    let (status, got) = answer(app, forged).await;
    assert_eq!((status, got["code"].as_u64()), (401, Some(431)), "{got}");
}

#[test]
fn debug_shows_no_values() {
    let request =
        SignedRequest::new(reader(), "/entity.update").param("password", "hunter2-secret-value");
    let text = format!("{request:?}");
    assert!(
        text.contains("password") && !text.contains("hunter2"),
        "{text}"
    );
    assert!(!text.contains(READER.1), "{text}");
    let reply = Reply::json(&json!({"access_token": "token-3f1a9c"}));
    let text = format!("{reply:?}");
    assert!(!text.contains("token-3f1a9c"), "{text}");
}

/// The demo clients, and records of three users.
async fn with_records() -> (janrain_auth::emulator::RunningEmulator, Records) {
    let records = Records::new()
        .with(
            "user",
            (1..=3).map(
                |n| json!({"uuid": format!("user-{n}"), "email": format!("u{n}@example.com")}),
            ),
        )
        .unwrap();
    let emulator = Emulator::builder()
        .clients_file(demo())
        .records(records.clone())
        .start()
        .await
        .unwrap();
    (emulator, records)
}

#[tokio::test]
async fn every_call_is_recorded_in_order_with_what_the_layer_verified() {
    let (emulator, _) = with_records().await;
    let reader = janrain(reader(), emulator.base_url());
    let found: Value = reader
        .call(
            "entity.find",
            &json!({"type_name": "user", "filter": "email = 'u2@example.com'"}),
        )
        .await
        .unwrap();
    assert_eq!(found["result_count"], 1);
    let err = reader
        .call::<_, Value>("entity", &json!({"type_name": "user", "uuid": "nobody"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(310));
    let refused = reader
        .call::<_, Value>("entity.update", &json!({"type_name": "user"}))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(403));
    let unsigned = reqwest::Client::new()
        .post(emulator.url("/entity.count"))
        .form(&[("type_name", "user"), ("password", "hunter2-secret-value")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let calls = emulator.calls();
    let summary: Vec<_> = calls
        .iter()
        .map(|c| {
            (
                c.operation(),
                c.code(),
                c.passed_layer(),
                c.status().as_u16(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("/entity.find", None, true, 200),
            ("/entity", Some(310), true, 200),
            ("/entity.update", Some(403), false, 403),
            ("/entity.count", Some(402), false, 401),
        ]
    );
    let find = &calls[0];
    assert!(find.is_ok());
    assert_eq!(find.method(), "POST");
    assert_eq!(find.client_id().map(|c| c.as_str()), Some(READER.0));
    assert_eq!(
        find.auth(),
        Some(janrain_auth::permissions::AuthMethod::Signature)
    );
    assert_eq!(find.user(), None);
    assert_eq!(find.param("filter"), Some("email = 'u2@example.com'"));
    assert_eq!(calls[1].error().unwrap().error, "record_not_found");
    // A refused call keeps nothing of what it sent.
    assert!(calls[3].params().is_none() && calls[3].client_id().is_none());
    assert!(!format!("{calls:?}").contains("hunter2"));
    assert_eq!(emulator.calls_to("/entity").len(), 1);
    emulator.clear_calls();
    assert!(emulator.calls().is_empty());
}

/// An emulator built with `record_calls(false)` answers as any other and keeps nothing: a
/// load run's memory stays flat. An expectation, which it could not count, is refused at once
/// with what to change.
#[tokio::test]
async fn an_emulator_that_records_no_calls_keeps_none_and_refuses_expectations() {
    let emulator = Emulator::builder()
        .clients_file(demo())
        .record_calls(false)
        .start()
        .await
        .unwrap();
    let reader = janrain(reader(), emulator.base_url());
    let echoed: Value = reader
        .call("entity.count", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(echoed["operation"], "/entity.count");
    assert_eq!(echoed["params"]["type_name"], "user");
    assert!(emulator.calls().is_empty());
    assert!(emulator.calls_to("/entity.count").is_empty());
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        emulator.expect("/entity.count", 1)
    }))
    .unwrap_err();
    let message = refused.downcast_ref::<String>().unwrap();
    assert!(message.contains("record_calls(false)"), "{message}");
    assert!(emulator.verify().is_ok());
}

#[tokio::test]
async fn expectations_are_checked_when_asked_and_on_drop() {
    let (emulator, _) = with_records().await;
    let reader = janrain(reader(), emulator.base_url());
    let params = json!({"type_name": "user"});
    let count = || reader.call::<_, Value>("entity.count", &params);
    emulator.expect("/entity.count", 2);
    emulator.expect("/entity.update", ..=0);
    emulator.expect_where(
        "entity.count answered ok",
        |c| c.operation() == "/entity.count" && c.is_ok(),
        1..,
    );
    count().await.unwrap();
    let unmet = emulator.verify().unwrap_err().to_string();
    assert!(
        unmet.contains("expected exactly 2 call(s) of /entity.count, received 1"),
        "{unmet}"
    );
    assert!(
        unmet.contains("POST /entity.count by reader_client: HTTP 200"),
        "{unmet}"
    );
    assert!(!unmet.contains("/entity.update"), "{unmet}");
    count().await.unwrap();
    emulator.verify().unwrap();

    // Dropped with an expectation unmet: a panic that says which, with the calls received.
    emulator.expect("/entity.find", 1..);
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(emulator)));
    let message = dropped.unwrap_err();
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("expected at least 1 call(s) of /entity.find, received 0"),
        "{message}"
    );

    // Dropped while the test is already panicking: no second panic (which would abort).
    let (emulator, _) = with_records().await;
    emulator.expect("/entity.find", 1);
    let failing = std::thread::spawn(move || {
        let _emulator = emulator;
        panic!("the test's own failure");
    });
    let payload = failing.join().unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the test's own failure")
    );
}

/// Send a request made for a router to `base` over real HTTP; status and JSON body.
async fn send_over_http(
    base: &str,
    mut request: http::Request<http_body_util::Full<bytes::Bytes>>,
) -> (u16, Value) {
    let path = request.uri().path_and_query().unwrap().as_str().to_owned();
    *request.uri_mut() = format!("{base}{path}").parse().unwrap();
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = http.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn signed_requests_as_a_user_and_as_a_login_client_over_http() {
    let (emulator, records) = with_records().await;
    let issued: Value = janrain(
        client(
            "issuer_client",
            "issuer-secret-9b2e5d",
            Feature::AccessIssuer,
        ),
        emulator.base_url(),
    )
    .call(
        "access/getAccessToken",
        &json!({"uuid": "user-2", "type_name": "user", "for_client_id": "login_client"}),
    )
    .await
    .unwrap();
    let token = AccessToken::new(issued["access_token"].as_str().unwrap()).unwrap();

    let me = SignedRequest::for_user(token.clone(), "/entity")
        .param("type_name", "user")
        .build()
        .unwrap();
    assert!(me.headers().get("date").is_none());
    let (status, got) = send_over_http(emulator.base_url(), me).await;
    assert_eq!(
        (status, &got["result"]["uuid"]),
        (200, &json!("user-2")),
        "{got}"
    );
    let update = SignedRequest::for_user(token.clone(), "/entity.update")
        .param("type_name", "user")
        .param("value", r#"{"givenName": "Zoë"}"#)
        .get()
        .build()
        .unwrap();
    let (status, got) = send_over_http(emulator.base_url(), update).await;
    assert_eq!((status, &got["stat"]), (200, &json!("ok")), "{got}");
    assert_eq!(records.get("user", "user-2").unwrap()["givenName"], "Zoë");

    let login = client("login_client", "login-secret-3a9d7e", Feature::LoginClient);
    let native = SignedRequest::new(login.clone(), "/oauth/update_profile_native")
        .param("flow", "standard")
        .param("access_token", "demo-access-token")
        .as_login_client()
        .build()
        .unwrap();
    assert!(native.headers().get("authorization").is_none());
    let (status, got) = send_over_http(emulator.base_url(), native).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["auth"], "login_client_token");
    assert_eq!(got["client_id"], "login_client");
    assert_eq!(got["params"]["client_id"], "login_client");
    // The demo token was issued for this user: the call acts for them.
    assert_eq!(got["uuid"], "7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11");
    let calls = emulator.calls();
    let methods: Vec<_> = calls
        .iter()
        .filter_map(|c| c.auth())
        .map(|a| a.as_str())
        .collect();
    assert_eq!(
        methods,
        ["signature", "oauth", "oauth", "login_client_token"]
    );
    assert_eq!(calls[1].user(), Some("user-2"));
    assert_eq!(
        calls[3].user(),
        Some("7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11")
    );
    // The token stays out of Debug output.
    let request = SignedRequest::for_user(token, "/entity");
    assert!(!format!("{request:?}").contains(issued["access_token"].as_str().unwrap()));
}

#[tokio::test]
async fn janrain_errors_answer_as_janrains_envelope() {
    use axum::routing::post;
    use janrain_auth::error::JanrainError;
    use janrain_auth::server::{VerifiedParams, VerifyLayer};

    async fn find(params: VerifiedParams) -> Result<axum::Json<Value>, JanrainError> {
        match params.get("filter") {
            None => Err(JanrainError::missing_argument("filter")),
            Some(f) if f.contains("contains") => Err(JanrainError::invalid_argument(
                "filter",
                "the contains operator was removed",
            )
            .with_field("sub_error", "removed_operator")
            .with_request_id("abcdefghijklmnop")),
            Some(_) => Ok(axum::Json(
                json!({"stat": "ok", "result_count": 0, "results": []}),
            )),
        }
    }
    async fn count() -> (StatusCode, JanrainError) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            JanrainError::unexpected_error("the database is away"),
        )
    }
    let (store, tokens) = demo().into_parts();
    let layer = VerifyLayer::builder(store).token_verifier(tokens).build();
    let app = axum::Router::new()
        .route("/entity.find", post(find))
        .route("/entity.count", post(count))
        .layer(layer);
    let base = support::serve_app(app).await;
    let reader = janrain(reader(), &base);
    let missing = reader
        .call::<_, Value>("entity.find", &json!({"type_name": "user"}))
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(StatusCode::OK));
    let e = missing.janrain().unwrap();
    assert_eq!((e.code, e.error.as_str()), (100, "missing_argument"));
    assert_eq!(e.field("argument_name"), Some(&json!("filter")));
    assert_eq!(e.error_description, "missing required argument: filter");
    let invalid = reader
        .call::<_, Value>("entity.find", &json!({"filter": "email contains 'x'"}))
        .await
        .unwrap_err();
    let e = invalid.janrain().unwrap();
    assert_eq!(e.code, 200);
    assert_eq!(e.field("sub_error"), Some(&json!("removed_operator")));
    assert_eq!(e.request_id.as_deref(), Some("abcdefghijklmnop"));
    assert_eq!(
        e.error_description,
        "filter was not valid for the following reason: the contains operator was removed"
    );
    let ok: Value = reader
        .call("entity.find", &json!({"filter": "a = 1"}))
        .await
        .unwrap();
    assert_eq!(ok["result_count"], 0);
    let unavailable = reader
        .call::<_, Value>("entity.count", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(unavailable.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(unavailable.code(), Some(500));

    // A replaced answer carries fields too.
    let emulator = Emulator::builder()
        .clients_file(demo())
        .on("/entity.delete", |_call| {
            Reply::janrain(
                200,
                "invalid_argument",
                "uuid was not valid for the following reason: invalid uuid",
            )
            .with_field("argument_name", "uuid")
        })
        .on("/entity.create", |_call| {
            Reply::json(&json!({"stat": "ok", "id": 1})).with_field("uuid", "u-1")
        })
        .start()
        .await
        .unwrap();
    let direct = janrain(
        client(
            "direct_client",
            "direct-secret-1d8c3a",
            Feature::DirectAccess,
        ),
        emulator.base_url(),
    );
    let e = direct
        .call::<_, Value>("entity.delete", &json!({"uuid": "x"}))
        .await
        .unwrap_err();
    assert_eq!(
        e.janrain().unwrap().field("argument_name"),
        Some(&json!("uuid"))
    );
    let created: Value = direct.call("entity.create", &json!({})).await.unwrap();
    assert_eq!(created, json!({"id": 1, "uuid": "u-1"}));
}
