//! The emulator as users drive it: replaced answers with their statuses, what a replacement
//! sees, access tokens issued and accepted, the server's end on `shutdown` and on drop, and
//! `SignedRequest` through a router behind the layer.

use janrain_auth_test_support as support;

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use janrain_auth::client::{JanrainClient, RequestSigner};
use janrain_auth::credentials::{AccessToken, ApiClient, ClientId, ClientSecret};
use janrain_auth::emulator::{Emulator, Reply, SignedRequest};
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
