//! The calling side against the crate's own verifier of janrain-oauth, over real HTTP: the
//! crate's Identity Cloud emulator issues a token through `/access/getAccessToken` to a
//! `JanrainClient` signing as an issuer client; the token then reads that user's record
//! through `JanrainClient::as_user`, the reqwest middleware and the tower layer, and is
//! refused for another user; a login client calls its operations with `as_login_client`.

use janrain_auth_test_support as support;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use janrain_auth::client::{
    AsUser, Error, JanrainClient, JanrainResponseExt, RequestSigner, SignLayer,
};
use janrain_auth::credentials::{AccessToken, ApiClient, ClientId, ClientSecret};
use janrain_auth::emulator::Emulator;
use janrain_auth::server::{ClientsFile, SharedTokens, TokenIssuer, VerifyLayer};
use serde_json::{Value, json};
use support::{CLIENTS, clock, serve_app};
use tower::{ServiceBuilder, ServiceExt};

const USER: &str = "7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11";
const OTHER_USER: &str = "0b8c2d4e-0000-4000-8000-000000000002";

/// The emulator with token issuing; its base URL.
async fn emulator() -> String {
    let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    let tokens: Arc<dyn TokenIssuer> = Arc::new(SharedTokens::new(tokens));
    let layer = VerifyLayer::builder(store)
        .token_verifier(tokens.clone())
        .clock(clock())
        .build();
    serve_app(Emulator::builder().layer(layer).tokens(tokens).router()).await
}

/// A client signing as the demo issuer client, on the emulator's clock.
fn issuer(base: &str) -> JanrainClient {
    let api = ApiClient::new(
        ClientId::new("issuer_client").unwrap(),
        ClientSecret::new("issuer-secret-9b2e5d").unwrap(),
    );
    let signer = RequestSigner::builder(api)
        .base_url(base)
        .clock(clock())
        .build()
        .unwrap();
    JanrainClient::new(signer).unwrap()
}

/// A token for [`USER`], issued to `login_client`.
async fn issue(janrain: &JanrainClient) -> AccessToken {
    #[derive(serde::Deserialize)]
    struct Issued {
        access_token: String,
        expires_in: u64,
    }
    let issued: Issued = janrain
        .call(
            "/access/getAccessToken",
            &json!({"uuid": USER, "type_name": "user", "for_client_id": "login_client"}),
        )
        .await
        .unwrap();
    assert_eq!(issued.expires_in, 3600);
    AccessToken::new(issued.access_token).unwrap()
}

#[tokio::test]
async fn a_token_issued_to_a_client_reads_its_users_record() {
    let base = emulator().await;
    let janrain = issuer(&base);
    let token = issue(&janrain).await;

    // JanrainClient::as_user: accepted as janrain-oauth, scoped to the token's user.
    let user = janrain.as_user(token.clone());
    let answer: Value = user
        .call("entity", &json!({"type_name": "user", "uuid": USER}))
        .await
        .unwrap();
    assert_eq!(answer["auth"], "oauth", "{answer}");
    assert_eq!(answer["uuid"], USER);
    assert_eq!(answer["client_id"], "login_client");
    let answer: Value = user
        .call(
            "entity.update",
            &json!({"type_name": "user", "uuid": USER, "value": {"givenName": "Ada"}}),
        )
        .await
        .unwrap();
    assert_eq!(answer["auth"], "oauth", "{answer}");

    // Another user's record: refused by the server, as a Janrain error.
    let err = user
        .call::<_, Value>("entity", &json!({"type_name": "user", "uuid": OTHER_USER}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Janrain { .. }), "{err}");
    assert_eq!(
        err.janrain().unwrap().error,
        "access_token_user_mismatch",
        "{err}"
    );

    // A token the server does not know, and the demo's expired one.
    for (bad, error) in [
        ("never-issued-token", "invalid_access_token"),
        ("expired-access-token", "access_token_expired"),
    ] {
        let err = janrain
            .as_user(AccessToken::new(bad).unwrap())
            .call::<_, Value>("entity", &json!({"type_name": "user"}))
            .await
            .unwrap_err();
        assert_eq!(
            err.janrain().map(|e| e.error.as_str()),
            Some(error),
            "{err}"
        );
    }

    // The reqwest middleware, one request at a time.
    let response = janrain
        .http()
        .post(format!("{base}/entity"))
        .form(&[("type_name", "user")])
        .with_extension(AsUser(token.clone()))
        .send()
        .await
        .unwrap();
    let answer: Value = response.janrain_json().await.unwrap();
    assert_eq!(
        (answer["auth"].as_str(), answer["uuid"].as_str()),
        (Some("oauth"), Some(USER))
    );

    // The tower layer over hyper-util.
    let service = ServiceBuilder::new()
        .layer(SignLayer::new(janrain.signer().clone()))
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let request = http::Request::post(format!("{base}/entity"))
        .header("content-type", "application/x-www-form-urlencoded")
        .extension(AsUser(token))
        .body(Full::new(Bytes::from_static(b"type_name=user")))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (answer["auth"].as_str(), answer["uuid"].as_str()),
        (Some("oauth"), Some(USER))
    );
}

#[tokio::test]
async fn a_login_client_calls_with_its_id() {
    let base = emulator().await;
    let janrain = issuer(&base);
    let token = issue(&janrain).await;
    let login = janrain.as_login_client(ClientId::new("login_client").unwrap());

    let answer: Value = login
        .call(
            "oauth/auth_native",
            &json!({"flow": "standard", "token": "t"}),
        )
        .await
        .unwrap();
    assert_eq!(answer["auth"], "login_client", "{answer}");
    assert_eq!(answer["client_id"], "login_client");

    let answer: Value = login
        .call(
            "oauth/update_profile_native",
            &json!({"flow": "standard", "form": "editProfileForm", "access_token": token.expose()}),
        )
        .await
        .unwrap();
    assert_eq!(answer["auth"], "login_client_token", "{answer}");

    // GET, client_id in the query string.
    let response = login
        .request(http::Method::GET, "oauth/auth_native")
        .unwrap()
        .query(&[("flow", "standard")])
        .send()
        .await
        .unwrap();
    let answer: Value = response.janrain_json().await.unwrap();
    assert_eq!(answer["auth"], "login_client", "{answer}");
}
