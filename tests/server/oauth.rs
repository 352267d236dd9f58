//! janrain-oauth and the other ways real clients call, over real HTTP against the look-alike:
//! user access tokens on the Entity API (header or parameter), scoped to their user; tokens
//! issued by `/access/getAccessToken` and usable at once; credentials on operations that need
//! none; legacy form credentials, opt-in; and no token in traces.

use janrain_auth_test_support as support;

use std::sync::Arc;

use janrain_auth::emulator::Emulator;
use janrain_auth::server::{
    ClientsFile, SharedTokens, TokenIssuer, VerifyLayer, VerifyLayerBuilder,
};
use support::{
    CLIENTS, NOW, READER, assert_error, assert_ok, authorization, clock, form_post, send, serve_app,
};

const USER: &str = "7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11";
const ISSUER: (&str, &str) = ("issuer_client", "issuer-secret-9b2e5d");

/// The look-alike with token issuing, the layer configured by `configure`.
async fn server(configure: impl FnOnce(VerifyLayerBuilder) -> VerifyLayerBuilder) -> String {
    let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    let tokens: Arc<dyn TokenIssuer> = Arc::new(SharedTokens::new(tokens));
    let layer = configure(
        VerifyLayer::builder(store)
            .token_verifier(tokens.clone())
            .clock(clock()),
    )
    .build();
    serve_app(Emulator::builder().layer(layer).tokens(tokens).router()).await
}

/// A token for [`USER`], issued to the login client by the issuer client.
async fn issue(base: &str, http: &reqwest::Client) -> String {
    let params = [
        ("uuid", USER),
        ("type_name", "user"),
        ("for_client_id", "login_client"),
    ];
    let got = send(
        form_post(http, format!("{base}/access/getAccessToken"), &params)
            .header("Date", NOW)
            .header(
                "Authorization",
                authorization(ISSUER.0, ISSUER.1, "/access/getAccessToken", NOW, &params),
            ),
    )
    .await;
    assert_ok(&got);
    assert_eq!(got.1["expires_in"], 3600);
    got.1["access_token"].as_str().unwrap().to_owned()
}

fn as_user(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    params: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    form_post(http, format!("{base}{path}"), params)
        .header("Authorization", format!("OAuth {token}"))
}

#[tokio::test]
async fn a_users_token_reaches_that_users_records() {
    let base = server(|b| b).await;
    let http = reqwest::Client::new();
    let token = issue(&base, &http).await;
    // The header way, and the parameter way.
    let got = send(as_user(
        &http,
        &base,
        "/entity",
        &token,
        &[("type_name", "user")],
    ))
    .await;
    assert_ok(&got);
    assert_eq!(
        (
            got.1["auth"].as_str(),
            got.1["client_id"].as_str(),
            got.1["uuid"].as_str()
        ),
        (Some("oauth"), Some("login_client"), Some(USER))
    );
    let got = send(form_post(
        &http,
        format!("{base}/entity.update"),
        &[
            ("access_token", token.as_str()),
            ("uuid", USER),
            ("value", "{}"),
        ],
    ))
    .await;
    assert_ok(&got);
    assert_eq!(got.1["uuid"], USER);
    // Another user, or another way to address a record: 403.
    for params in [
        vec![("uuid", "someone-else")],
        vec![("id", "999")],
        vec![("key_attribute", "email"), ("key_value", "x@example.com")],
    ] {
        let got = send(as_user(&http, &base, "/entity.update", &token, &params)).await;
        assert_error(&got, 403, 422, "access_token_user_mismatch");
    }
    // Both ways at once.
    let got = send(as_user(
        &http,
        &base,
        "/entity",
        &token,
        &[("access_token", token.as_str())],
    ))
    .await;
    assert_error(&got, 400, 232, "ambiguous_parameters");
    // Operations a user's token does not reach: the entity types, the Authentication API.
    for path in [
        "/entityType",
        "/access/getAccessToken",
        "/oauth/update_profile_native",
    ] {
        let got = send(as_user(
            &http,
            &base,
            path,
            &token,
            &[("type_name", "user")],
        ))
        .await;
        assert_error(&got, 401, 424, "auth_method_not_accepted");
    }
    // A client_id sent with the token must be the one it was issued to.
    let got = send(as_user(
        &http,
        &base,
        "/entity",
        &token,
        &[("client_id", "second_login_client")],
    ))
    .await;
    assert_error(&got, 401, 419, "access_token_client_mismatch");
}

#[tokio::test]
async fn tokens_that_do_not_hold() {
    let base = server(|b| b).await;
    let http = reqwest::Client::new();
    for (token, code, error) in [
        ("never-issued", 412, "invalid_access_token"),
        ("expired-access-token", 414, "access_token_expired"),
        // Issued to a login client, but for no user: it cannot act for one.
        ("userless-access-token", 412, "invalid_access_token"),
    ] {
        let got = send(as_user(
            &http,
            &base,
            "/entity",
            token,
            &[("type_name", "user")],
        ))
        .await;
        assert_error(&got, 401, code, error);
        assert!(!got.1.to_string().contains(token), "the token in a refusal");
    }
    // A scheme that is none of the three.
    let got = send(
        form_post(&http, format!("{base}/entity"), &[("type_name", "user")])
            .header("Authorization", "Bearer x"),
    )
    .await;
    assert_error(&got, 401, 205, "invalid_auth_method");
}

#[tokio::test]
async fn credentials_on_an_open_operation_are_checked_and_accepted() {
    let base = server(|b| b).await;
    let http = reqwest::Client::new();
    let params = [("verification_code", "abc")];
    let path = "/access/useVerificationCode";
    let signed = |secret: &str| {
        form_post(&http, format!("{base}{path}"), &params)
            .header("Date", NOW)
            .header(
                "Authorization",
                authorization(READER.0, secret, path, NOW, &params),
            )
    };
    let got = send(signed(READER.1)).await;
    assert_ok(&got);
    assert_eq!(
        (got.1["auth"].as_str(), got.1["client_id"].as_str()),
        (Some("signature"), Some(READER.0))
    );
    // A wrong signature is never silently ignored.
    assert_error(
        &send(signed("wrong")).await,
        401,
        431,
        "signature_does_not_match",
    );
    let basic = |secret: &str| {
        form_post(&http, format!("{base}{path}"), &params).basic_auth(READER.0, Some(secret))
    };
    let got = send(basic(READER.1)).await;
    assert_ok(&got);
    assert_eq!(got.1["auth"], "basic");
    assert_error(
        &send(basic("wrong")).await,
        401,
        402,
        "invalid_client_credentials",
    );
    // And with nothing at all, as before.
    let got = send(form_post(&http, format!("{base}{path}"), &params)).await;
    assert_ok(&got);
    assert_eq!(got.1["auth"], "none");
}

#[tokio::test]
async fn form_credentials_only_when_switched_on() {
    let http = reqwest::Client::new();
    let params = [
        ("client_id", READER.0),
        ("client_secret", READER.1),
        ("type_name", "user"),
    ];
    let off = server(|b| b).await;
    let got = send(form_post(&http, format!("{off}/entity.find"), &params)).await;
    assert_error(&got, 401, 402, "invalid_client_credentials");

    let on = server(|b| b.accept_form_credentials(true)).await;
    let got = send(form_post(&http, format!("{on}/entity.find"), &params)).await;
    assert_ok(&got);
    assert_eq!(
        (got.1["auth"].as_str(), got.1["client_id"].as_str()),
        (Some("form_credentials"), Some(READER.0))
    );
    // The handler never sees the secret.
    assert_eq!(
        got.1["params"],
        serde_json::json!({"client_id": READER.0, "type_name": "user"})
    );
    // A wrong secret, a missing id, a second secret.
    let wrong = [("client_id", READER.0), ("client_secret", "nope")];
    assert_error(
        &send(form_post(&http, format!("{on}/entity.find"), &wrong)).await,
        401,
        402,
        "invalid_client_credentials",
    );
    let twice = [
        ("client_id", READER.0),
        ("client_secret", READER.1),
        ("client_secret", READER.1),
    ];
    assert_error(
        &send(form_post(&http, format!("{on}/entity.find"), &twice)).await,
        400,
        232,
        "ambiguous_parameters",
    );
    let anonymous = [("client_secret", READER.1)];
    assert_error(
        &send(form_post(&http, format!("{on}/entity.find"), &anonymous)).await,
        400,
        100,
        "missing_argument",
    );
    // Where Basic is not accepted, form credentials are not either.
    let login = [
        ("client_id", "login_client"),
        ("client_secret", "login-secret-3a9d7e"),
    ];
    let got = send(form_post(&http, format!("{on}/oauth/auth_native"), &login)).await;
    assert_ok(&got);
    assert_eq!(got.1["auth"], "login_client");
}

#[tokio::test]
async fn a_handler_reading_the_body_does_not_see_the_form_secret() {
    // A plain axum handler reading the form body, behind a layer accepting form credentials.
    let (store, _) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    let app = axum::Router::new()
        .route(
            "/entity.find",
            axum::routing::post(|body: String| async move { body }),
        )
        .layer(
            VerifyLayer::builder(store)
                .clock(clock())
                .accept_form_credentials(true)
                .build(),
        );
    let base = serve_app(app).await;
    let http = reqwest::Client::new();
    let body = form_post(
        &http,
        format!("{base}/entity.find"),
        &[
            ("client_id", READER.0),
            ("client_secret", READER.1),
            ("type_name", "user"),
        ],
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert_eq!(body, "client_id=reader_client&type_name=user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_in_traces() {
    let logs = support::traces::captured();
    let base = server(|b| b).await;
    let http = reqwest::Client::new();
    let token = issue(&base, &http).await;
    for params in [vec![("type_name", "user")], vec![("uuid", "someone-else")]] {
        let _ = send(as_user(&http, &base, "/entity", &token, &params)).await;
    }
    let _ = send(as_user(
        &http,
        &base,
        "/entity",
        "never-issued-secret-token",
        &[],
    ))
    .await;
    let text = logs.text();
    assert!(text.contains("janrain_verify"), "no traces were captured");
    assert!(!text.contains(&token), "an issued token in the traces");
    assert!(
        !text.contains("never-issued-secret-token"),
        "a presented token in the traces"
    );
}
