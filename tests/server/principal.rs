//! Who acts: a request made with a user's access token reaches that user's record and no
//! other, whatever a lenient handler makes of its parameters. Every case runs over real HTTP
//! against the layer mounted the three ways (`.layer`, `axum::middleware::from_fn` with
//! `VerifyLayer::verify`, tower-http's `AsyncRequireAuthorizationLayer`), in front of handlers
//! that read the request every way axum offers: `Form` and `Query` into a map (the last value
//! wins) and into a list, `RawForm`, the body as `String`, `Json`, and `VerifiedParams`.
//!
//! The world: `login_client` holds `tok-alice` for user `alice`, `other_login` holds `tok-bob`
//! for `bob`, and `tok-nobody` was issued to `login_client` for no user.

use janrain_auth_test_support as support;

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Json as JsonBody, Query, RawForm, Request};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::any as any_method;
use axum::{Form, Json, Router};
use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::params::ParamList;
use janrain_auth::scheme::basic_header;
use janrain_auth::server::{
    AuthenticatedClient, ClientsFile, UnknownPaths, VerifiedParams, VerifyLayer, VerifyLayerBuilder,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{NOW, assert_error, authorization, clock, serve_app};
use tower_http::auth::AsyncRequireAuthorizationLayer;

const WORLD: &str = r#"{
  "clients": [
    {"client_id": "login_client", "secrets": ["login-secret"], "features": ["login_client"]},
    {"client_id": "other_login", "secrets": ["other-secret"], "features": ["login_client"]},
    {"client_id": "direct_client", "secrets": ["direct-secret"], "features": ["direct_access"]}
  ],
  "tokens": [
    {"access_token": "tok-alice", "client_id": "login_client", "uuid": "alice", "expires_at": "2099-01-01 00:00:00"},
    {"access_token": "tok-bob", "client_id": "other_login", "uuid": "bob", "expires_at": "2099-01-01 00:00:00"},
    {"access_token": "tok-nobody", "client_id": "login_client", "expires_at": "2099-01-01 00:00:00"}
  ]
}"#;

const BODY_LIMIT: usize = 4096;

fn builder() -> VerifyLayerBuilder {
    let (store, tokens) = ClientsFile::from_json(WORLD).unwrap().into_parts();
    VerifyLayer::builder(store)
        .token_verifier(tokens)
        .clock(clock())
        .body_limit(BODY_LIMIT)
        .body_timeout(Duration::from_millis(300))
}

/// The three ways to mount the layer.
#[derive(Debug, Clone, Copy)]
enum Mounting {
    Layer,
    FromFn,
    TowerHttp,
}

const MOUNTINGS: [Mounting; 3] = [Mounting::Layer, Mounting::FromFn, Mounting::TowerHttp];

/// Every operation the cases call, answered by the recording handler; `/entity.replace` by a
/// handler that takes `AuthenticatedClient`.
fn routes() -> Router {
    let mut router = Router::new();
    for path in [
        "/entity",
        "/entity.update",
        "/entity.delete",
        "/entity.find",
        "/entity.count",
        "/entity.create",
        "/entity.bulkCreate",
        "/oauth/update_profile_native",
        "/oauth/link_account_native",
        "/oauth/unlink_account_native",
        "/access/useVerificationCode",
        "/custom/optional_token",
        "/health/{anything}",
    ] {
        router = router.route(path, any_method(record));
    }
    router.route(
        "/entity.replace",
        any_method(|client: AuthenticatedClient| async move { client.client_id().to_string() }),
    )
}

fn app(mounting: Mounting, builder: VerifyLayerBuilder) -> Router {
    let verify = builder.build();
    match mounting {
        Mounting::Layer => routes().layer(verify),
        Mounting::FromFn => {
            routes().layer(middleware::from_fn(move |request: Request, next: Next| {
                let verify = verify.clone();
                async move {
                    match verify.verify(request).await {
                        Ok(request) => next.run(request).await,
                        Err(rejection) => rejection.into_response(),
                    }
                }
            }))
        }
        Mounting::TowerHttp => routes().layer(AsyncRequireAuthorizationLayer::new(verify)),
    }
}

/// A server for each mounting.
async fn servers(
    configure: impl Fn(VerifyLayerBuilder) -> VerifyLayerBuilder,
) -> Vec<(Mounting, String)> {
    let mut bases = Vec::new();
    for mounting in MOUNTINGS {
        bases.push((
            mounting,
            serve_app(app(mounting, configure(builder()))).await,
        ));
    }
    bases
}

/// Run an extractor on a copy of the request.
fn copy(parts: &http::request::Parts, body: &bytes::Bytes) -> Request {
    let mut request = Request::new(Body::from(body.clone()));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.headers_mut() = parts.headers.clone();
    *request.extensions_mut() = parts.extensions.clone();
    request
}

/// What every reader of the request made of it, and who the layer says acts.
async fn record(request: Request) -> Json<Value> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut readings: Vec<(&str, Vec<(String, String)>)> = Vec::new();
    if let Ok(Form(map)) =
        Form::<HashMap<String, String>>::from_request(copy(&parts, &body), &()).await
    {
        readings.push(("Form<HashMap>", map.into_iter().collect()));
    }
    if let Ok(Form(list)) =
        Form::<Vec<(String, String)>>::from_request(copy(&parts, &body), &()).await
    {
        readings.push(("Form<Vec>", list));
    }
    let (mut head, _) = copy(&parts, &body).into_parts();
    if let Ok(Query(map)) =
        Query::<HashMap<String, String>>::from_request_parts(&mut head, &()).await
    {
        readings.push(("Query<HashMap>", map.into_iter().collect()));
    }
    if let Ok(Query(list)) =
        Query::<Vec<(String, String)>>::from_request_parts(&mut head, &()).await
    {
        readings.push(("Query<Vec>", list));
    }
    if let Ok(RawForm(raw)) = RawForm::from_request(copy(&parts, &body), &()).await {
        readings.push(("RawForm", lossy(&raw)));
    }
    if let Ok(text) = String::from_request(copy(&parts, &body), &()).await {
        readings.push(("String", lossy(text.as_bytes())));
    }
    if let Ok(JsonBody(map)) =
        JsonBody::<HashMap<String, Value>>::from_request(copy(&parts, &body), &()).await
    {
        readings.push((
            "Json",
            map.into_iter().map(|(k, v)| (k, v.to_string())).collect(),
        ));
    }
    if let Some(params) = parts.extensions.get::<VerifiedParams>() {
        readings.push((
            "VerifiedParams",
            params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ));
    }
    let client = parts.extensions.get::<AuthenticatedClient>();
    Json(json!({
        "stat": "ok",
        "client_id": client.map(|c| c.client_id().to_string()),
        "auth": client.map(|c| c.method().to_string()),
        "user": client.and_then(|c| c.user()),
        "query": parts.uri.query(),
        "authorization": parts.headers.get("authorization").map(|v| v.to_str().unwrap_or("?")),
        "body": String::from_utf8_lossy(&body),
        // A map's pairs in a fixed order, so that answers compare.
        "readings": readings.into_iter().map(|(reader, mut pairs)| {
            if reader.contains("HashMap") || reader == "Json" {
                pairs.sort();
            }
            json!({"reader": reader, "pairs": pairs})
        }).collect::<Vec<_>>(),
    }))
}

/// A form-encoded text as pairs, as a handler parsing it by hand would read it.
fn lossy(raw: &[u8]) -> Vec<(String, String)> {
    ParamList::from_urlencoded(raw)
        .map(|list| {
            list.iter()
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(k).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a lenient reader would take `name` for an address of a record: letter case and
/// every character but letters and digits ignored.
fn lenient_addressing(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    ["uuid", "id", "keyattribute", "keyvalue"].contains(&folded.as_str())
}

/// The records any reader of an accepted request could act on: every value under a name a
/// lenient reader takes for an address.
fn addressed(answer: &Value) -> Vec<String> {
    let mut records = Vec::new();
    for reading in answer["readings"].as_array().into_iter().flatten() {
        for pair in reading["pairs"].as_array().into_iter().flatten() {
            if lenient_addressing(pair[0].as_str().unwrap_or_default()) {
                records.push(pair[1].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    records
}

/// A request to one of the servers.
struct Call {
    method: &'static str,
    path: String,
    query: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

impl Call {
    fn post_form(path: &str, pairs: &[(&str, &str)]) -> Self {
        Call {
            method: "POST",
            path: path.to_owned(),
            query: None,
            content_type: Some("application/x-www-form-urlencoded"),
            body: janrain_auth::params::encode_urlencoded(pairs).into_bytes(),
            headers: Vec::new(),
        }
    }

    fn post_query(path: &str, pairs: &[(&str, &str)]) -> Self {
        Call {
            method: "POST",
            path: path.to_owned(),
            query: Some(janrain_auth::params::encode_urlencoded(pairs)),
            content_type: None,
            body: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn oauth(self, token: &str) -> Self {
        self.header("authorization", format!("OAuth {token}"))
    }

    async fn send(&self, base: &str) -> (u16, Value) {
        let url = match &self.query {
            Some(q) => format!("{base}{}?{q}", self.path),
            None => format!("{base}{}", self.path),
        };
        let mut request = reqwest::Client::new()
            .request(self.method.parse().unwrap(), url)
            .body(self.body.clone());
        if let Some(ct) = self.content_type {
            request = request.header("content-type", ct);
        }
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|_| json!({"not_json": String::from_utf8_lossy(&body)}));
        (status, json)
    }
}

/// `call` gets the same refusal from every mounting.
async fn refused_everywhere(
    bases: &[(Mounting, String)],
    call: &Call,
    status: u16,
    code: u16,
    error: &str,
) {
    for (mounting, base) in bases {
        let got = call.send(base).await;
        assert!(
            got.1.get("readings").is_none(),
            "{mounting:?}: a handler ran: {}",
            got.1
        );
        assert_error(&got, status, code, error);
    }
}

/// `call` is accepted by every mounting, acting for `user`, and no reader could act on any
/// other record; the answers of the three mountings are the same.
async fn accepted_everywhere(
    bases: &[(Mounting, String)],
    call: &Call,
    user: Option<&str>,
) -> Value {
    let mut answers = Vec::new();
    for (mounting, base) in bases {
        let got = call.send(base).await;
        assert_eq!(got.0, 200, "{mounting:?}: {}", got.1);
        assert_eq!(got.1["user"].as_str(), user, "{mounting:?}: {}", got.1);
        if let Some(user) = user {
            for record in addressed(&got.1) {
                assert_eq!(
                    record, user,
                    "{mounting:?}: a reader addresses another record: {}",
                    got.1
                );
            }
        }
        answers.push(got.1);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "the mountings disagree: {answers:#?}"
    );
    answers.remove(0)
}

// ---------------------------------------------------------------------------------------------
// The reproductions, each before (in the comment) and after.

/// 1. A repeated `uuid` (before: accepted as alice, and a `Form<HashMap>` handler read bob).
#[tokio::test]
async fn a_repeated_uuid_is_refused_in_the_body_the_query_and_with_the_token_as_a_parameter() {
    let bases = servers(|b| b).await;
    let pairs = [("type_name", "user"), ("uuid", "alice"), ("uuid", "bob")];
    for call in [
        Call::post_form("/entity.delete", &pairs).oauth("tok-alice"),
        Call::post_query("/entity.delete", &pairs).oauth("tok-alice"),
        Call::post_form(
            "/entity.delete",
            &[
                ("access_token", "tok-alice"),
                ("type_name", "user"),
                ("uuid", "alice"),
                ("uuid", "bob"),
            ],
        ),
        // The same uuid twice: still one uuid too many.
        Call::post_form("/entity.delete", &[("uuid", "alice"), ("uuid", "alice")])
            .oauth("tok-alice"),
    ] {
        refused_everywhere(&bases, &call, 403, 422, "access_token_user_mismatch").await;
    }
    // One uuid, the token's own: accepted, acting for alice.
    let own = Call::post_form(
        "/entity.delete",
        &[("type_name", "user"), ("uuid", "alice")],
    )
    .oauth("tok-alice");
    accepted_everywhere(&bases, &own, Some("alice")).await;
}

/// 2. Every name a handler may read as an address (before: only `uuid`, `id` and
/// `key_attribute` were looked at, and bodies that are not forms never).
#[tokio::test]
async fn every_spelling_of_an_addressing_name_and_every_other_body_is_refused() {
    let bases = servers(|b| b).await;
    for name in [
        "key_value",
        "UUID",
        "Uuid",
        "ID",
        "Id",
        "_id",
        "u_uid",
        "keyValue",
        "KEY_ATTRIBUTE",
        "key_attribute",
        "id",
    ] {
        let call =
            Call::post_form("/entity", &[("type_name", "user"), (name, "bob")]).oauth("tok-alice");
        refused_everywhere(&bases, &call, 403, 422, "access_token_user_mismatch").await;
        let call = Call::post_form("/entity", &[("type_name", "user"), (name, "alice")])
            .oauth("tok-alice");
        refused_everywhere(&bases, &call, 403, 422, "access_token_user_mismatch").await;
    }
    // Names a lenient reader may strip or fold to an address: not plain, refused.
    for name in [
        "uuid[]", "uuid ", " uuid", "uu-id", "uuid.", "uuid\0", "üuid",
    ] {
        let call =
            Call::post_form("/entity", &[("type_name", "user"), (name, "bob")]).oauth("tok-alice");
        refused_everywhere(&bases, &call, 400, 200, "invalid_argument").await;
    }
    // A body that is not a form is not covered by the token: refused.
    for (content_type, body) in [
        ("application/json", br#"{"uuid":"bob"}"#.to_vec()),
        ("text/plain", b"uuid=bob".to_vec()),
        ("application/octet-stream", b"uuid=bob".to_vec()),
    ] {
        let call = Call {
            method: "POST",
            path: "/entity.update".into(),
            query: Some("type_name=user".into()),
            content_type: Some(content_type),
            body,
            headers: Vec::new(),
        }
        .oauth("tok-alice");
        refused_everywhere(&bases, &call, 415, 233, "unsupported_body").await;
        // The same with the token as a parameter.
        let call = Call {
            method: "POST",
            path: "/entity.update".into(),
            query: Some("type_name=user&access_token=tok-alice".into()),
            content_type: Some(content_type),
            body: br#"{"uuid":"bob"}"#.to_vec(),
            headers: Vec::new(),
        };
        refused_everywhere(&bases, &call, 415, 233, "unsupported_body").await;
    }
    // ... unless the operation allows unsigned bodies, as for janrain-signed requests.
    let open_bodies = servers(|b| b.allow_unsigned_bodies(true)).await;
    let call = Call {
        method: "POST",
        path: "/entity.update".into(),
        query: Some("type_name=user".into()),
        content_type: Some("application/json"),
        body: br#"{"value":{"givenName":"Alice"}}"#.to_vec(),
        headers: Vec::new(),
    }
    .oauth("tok-alice");
    accepted_everywhere(&open_bodies, &call, Some("alice")).await;
}

/// 3. The operations a user's token reaches (before: every `/entity*` operation).
#[tokio::test]
async fn a_users_token_reaches_only_the_operations_on_one_record() {
    let bases = servers(|b| b).await;
    for path in [
        "/entity",
        "/entity.update",
        "/entity.replace",
        "/entity.delete",
    ] {
        let call = Call::post_form(path, &[("type_name", "user")]).oauth("tok-alice");
        for (mounting, base) in &bases {
            let got = call.send(base).await;
            assert_eq!(got.0, 200, "{mounting:?} {path}: {}", got.1);
        }
    }
    for path in [
        "/entity.find",
        "/entity.count",
        "/entity.create",
        "/entity.bulkCreate",
    ] {
        let call =
            Call::post_form(path, &[("type_name", "user"), ("filter", "")]).oauth("tok-alice");
        refused_everywhere(&bases, &call, 401, 424, "auth_method_not_accepted").await;
        // The token as a parameter is no credential there.
        let call = Call::post_form(
            path,
            &[("type_name", "user"), ("access_token", "tok-alice")],
        );
        refused_everywhere(&bases, &call, 401, 402, "invalid_client_credentials").await;
    }
}

/// 4. Login-client operations with a token (before: no user handed on, another user's uuid
/// passed, a token for no user accepted).
#[tokio::test]
async fn login_client_tokens_act_for_their_user_only() {
    let bases = servers(|b| b).await;
    for path in [
        "/oauth/update_profile_native",
        "/oauth/link_account_native",
        "/oauth/unlink_account_native",
    ] {
        let own = Call::post_form(
            path,
            &[
                ("client_id", "login_client"),
                ("access_token", "tok-alice"),
                ("flow", "standard"),
            ],
        );
        let answer = accepted_everywhere(&bases, &own, Some("alice")).await;
        assert_eq!(answer["auth"], "login_client_token");
        let other = Call::post_form(
            path,
            &[
                ("client_id", "login_client"),
                ("access_token", "tok-alice"),
                ("uuid", "bob"),
            ],
        );
        refused_everywhere(&bases, &other, 403, 422, "access_token_user_mismatch").await;
        let nobody = Call::post_form(
            path,
            &[
                ("client_id", "login_client"),
                ("access_token", "tok-nobody"),
            ],
        );
        refused_everywhere(&bases, &nobody, 401, 412, "invalid_access_token").await;
        // Another login client's token.
        let foreign = Call::post_form(
            path,
            &[("client_id", "login_client"), ("access_token", "tok-bob")],
        );
        refused_everywhere(&bases, &foreign, 401, 419, "access_token_client_mismatch").await;
    }
    // A janrain-oauth token for no user acts for no one either.
    let call = Call::post_form("/entity", &[("type_name", "user")]).oauth("tok-nobody");
    refused_everywhere(&bases, &call, 401, 412, "invalid_access_token").await;
    // A login client's operation that takes no token refuses one (it would go unchecked).
    let forgot = Call::post_form(
        "/oauth/update_profile_native",
        &[("client_id", "login_client")],
    );
    refused_everywhere(&bases, &forgot, 400, 100, "missing_argument").await;
}

/// An operation of a custom catalog that a login client may call with a token or without
/// one: without, the client acts; with one, the token is checked as on every other operation
/// and its user acts.
#[tokio::test]
async fn a_token_a_login_client_may_leave_out_is_checked_when_given() {
    use janrain_auth::permissions::{AuthMethod, Feature, Features, Operation};
    let optional = Operation::new(
        "/custom/optional_token",
        AuthMethod::LoginClient | AuthMethod::LoginClientWithToken,
        Features::of(&[Feature::LoginClient]),
    );
    let bases = servers(move |b| b.operation(optional.clone())).await;
    let path = "/custom/optional_token";
    let alone = Call::post_form(path, &[("client_id", "login_client")]);
    let answer = accepted_everywhere(&bases, &alone, None).await;
    assert_eq!(answer["auth"], "login_client");
    let with = Call::post_form(
        path,
        &[("client_id", "login_client"), ("access_token", "tok-alice")],
    );
    let answer = accepted_everywhere(&bases, &with, Some("alice")).await;
    assert_eq!(answer["auth"], "login_client_token");
    let foreign = Call::post_form(
        path,
        &[("client_id", "login_client"), ("access_token", "tok-bob")],
    );
    refused_everywhere(&bases, &foreign, 401, 419, "access_token_client_mismatch").await;
}

/// 5. CORS preflights (before: the query string and the `Authorization` header reached an
/// `any()` handler, and a handler taking `AuthenticatedClient` answered 503).
#[tokio::test]
async fn preflights_hand_on_nothing_unverified() {
    let bases = servers(|b| b).await;
    let preflight = |path: &str| Call {
        method: "OPTIONS",
        path: path.to_owned(),
        query: Some("uuid=bob&type_name=user".into()),
        content_type: Some("application/x-www-form-urlencoded"),
        body: b"uuid=bob".to_vec(),
        headers: vec![
            ("origin", "https://app.example".into()),
            ("access-control-request-method", "POST".into()),
            ("authorization", "OAuth tok-alice".into()),
        ],
    };
    for (mounting, base) in &bases {
        let got = preflight("/entity.update").send(base).await;
        assert_eq!(got.0, 200, "{mounting:?}: {}", got.1);
        assert_eq!(got.1["query"], Value::Null, "{mounting:?}: {}", got.1);
        assert_eq!(got.1["authorization"], Value::Null, "{mounting:?}");
        assert_eq!(got.1["body"], "", "{mounting:?}");
        assert_eq!(got.1["user"], Value::Null, "{mounting:?}");
        assert!(addressed(&got.1).is_empty(), "{mounting:?}: {}", got.1);
        // A handler that needs a client: 401, the envelope, not 503.
        let got = preflight("/entity.replace").send(base).await;
        assert_error(&got, 401, 402, "invalid_client_credentials");
    }
    // Only all three make a preflight: a request short of one (or a POST that carries both
    // CORS headers) is verified as any, and refused without credentials.
    let short = |method: &'static str, headers: Vec<(&'static str, String)>| Call {
        method,
        path: "/entity.update".to_owned(),
        query: Some("uuid=bob&type_name=user".into()),
        content_type: None,
        body: Vec::new(),
        headers,
    };
    let origin = ("origin", "https://app.example".to_owned());
    let asks = ("access-control-request-method", "POST".to_owned());
    for call in [
        short("OPTIONS", vec![origin.clone()]),
        short("OPTIONS", vec![asks.clone()]),
        short("POST", vec![origin.clone(), asks.clone()]),
    ] {
        for (mounting, base) in &bases {
            let got = call.send(base).await;
            assert_eq!(got.0, 401, "{mounting:?} {}: {}", call.method, got.1);
            assert_eq!(got.1["stat"], "error", "{mounting:?}: {}", got.1);
        }
    }
    // A route outside every layer: still the misconfiguration answer.
    let bare = serve_app(routes()).await;
    let got = Call::post_form("/entity.replace", &[("type_name", "user")])
        .send(&bare)
        .await;
    assert_error(&got, 503, 500, "unexpected_error");
}

/// 6. An `access_token` parameter beside client credentials (before: handed on unchecked).
#[tokio::test]
async fn an_access_token_is_refused_where_it_is_not_the_credential() {
    let bases = servers(|b| b).await;
    let pairs = [("type_name", "user"), ("access_token", "tok-alice")];
    let signed = Call::post_form("/entity.find", &pairs)
        .header("date", NOW)
        .header(
            "authorization",
            authorization(
                "direct_client",
                "direct-secret",
                "/entity.find",
                NOW,
                &pairs,
            ),
        );
    refused_everywhere(&bases, &signed, 400, 232, "ambiguous_parameters").await;
    let basic = basic_header(
        &ClientId::new("direct_client").unwrap(),
        &ClientSecret::new("direct-secret").unwrap(),
    );
    let basic =
        Call::post_form("/entity.find", &pairs).header("authorization", basic.to_str().unwrap());
    refused_everywhere(&bases, &basic, 400, 232, "ambiguous_parameters").await;
    // And a client_id naming another client than the one that signed.
    let pairs = [("type_name", "user"), ("client_id", "login_client")];
    let signed = Call::post_form("/entity.find", &pairs)
        .header("date", NOW)
        .header(
            "authorization",
            authorization(
                "direct_client",
                "direct-secret",
                "/entity.find",
                NOW,
                &pairs,
            ),
        );
    refused_everywhere(&bases, &signed, 400, 232, "ambiguous_parameters").await;
    // On an open operation too: there the token is refused as a parameter nothing checked,
    // beside any body (a JSON one here), as it is beside a form.
    let open = Call {
        method: "POST",
        path: "/access/useVerificationCode".to_owned(),
        query: Some("verification_code=x&access_token=tok-alice".to_owned()),
        content_type: Some("application/json"),
        body: br#"{"uuid":"bob"}"#.to_vec(),
        headers: Vec::new(),
    };
    refused_everywhere(&bases, &open, 400, 232, "ambiguous_parameters").await;
    // Without either, the signed request is accepted.
    let pairs = [("type_name", "user")];
    let signed = Call::post_form("/entity.find", &pairs)
        .header("date", NOW)
        .header(
            "authorization",
            authorization(
                "direct_client",
                "direct-secret",
                "/entity.find",
                NOW,
                &pairs,
            ),
        );
    accepted_everywhere(&bases, &signed, None).await;
}

/// 7. Refusals never repeat a credential (before: "the tok-alice authorization scheme is ...").
#[tokio::test]
async fn no_refusal_repeats_any_part_of_a_credential_header() {
    let bases = servers(|b| b).await;
    for value in [
        "tok-alice",
        "OAuth:tok-alice",
        "Bearer tok-alice",
        "tok-alice tok-alice",
        "OAuth tok alice",
    ] {
        let call =
            Call::post_form("/entity", &[("type_name", "user")]).header("authorization", value);
        for (mounting, base) in &bases {
            let got = call.send(base).await;
            assert_eq!(got.0, 401, "{mounting:?} {value}: {}", got.1);
            let text = got.1.to_string();
            assert!(
                !text.contains("tok-") && !text.contains("alice"),
                "{mounting:?}: {value} echoed: {}",
                got.1
            );
        }
    }
    // A client id too long to be one: refused without repeating it.
    let long = "tok-alice".repeat(40);
    let call = Call::post_form("/entity", &[("type_name", "user")]).header(
        "authorization",
        format!("Signature {long}:AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    );
    for (mounting, base) in &bases {
        let got = call.send(base).await;
        assert_error(&got, 401, 402, "invalid_client_credentials");
        assert!(
            !got.1.to_string().contains("tok-alice"),
            "{mounting:?}: {}",
            got.1
        );
    }
}

/// 8. The mountings answer alike for a body the layer did not use to read before (Basic or
/// a user's token with a large or stalled body that is not a form): the layer reads it, under
/// the limit and the timeout, and refuses it itself.
#[tokio::test]
async fn the_mountings_agree_on_bodies_too_large_or_too_slow() {
    let bases = servers(|b| b.allow_unsigned_bodies(true)).await;
    let basic = basic_header(
        &ClientId::new("direct_client").unwrap(),
        &ClientSecret::new("direct-secret").unwrap(),
    );
    let large = Call {
        method: "POST",
        path: "/entity.update".into(),
        query: Some("type_name=user".into()),
        content_type: Some("application/json"),
        body: vec![b' '; BODY_LIMIT + 1],
        headers: vec![("authorization", basic.to_str().unwrap().to_owned())],
    };
    refused_everywhere(&bases, &large, 413, 230, "request_too_large").await;
    let large = Call {
        headers: vec![("authorization", "OAuth tok-alice".into())],
        ..large
    };
    refused_everywhere(&bases, &large, 413, 230, "request_too_large").await;
    // Chunked, so that no Content-Length tells the layer in advance; and stalled: half a
    // body, and a wait.
    let auth = basic.to_str().unwrap().to_owned();
    let chunked = format!(
        "transfer-encoding: chunked\r\n\r\n{:x}\r\n{}\r\n10\r\n{}\r\n0\r\n\r\n",
        BODY_LIMIT,
        " ".repeat(BODY_LIMIT),
        " ".repeat(16)
    );
    let stalled = "content-length: 100\r\n\r\n{\"value\":1".to_owned();
    for (mounting, base) in &bases {
        let got = raw(base, &auth, &chunked).await;
        assert_error(&got, 413, 230, "request_too_large");
        let got = raw(base, &auth, &stalled).await;
        assert_error(&got, 408, 231, "request_timeout");
        let _ = mounting;
    }
}

/// A Basic JSON POST over a raw connection, `rest` being the last headers and the body as
/// sent; the answer.
async fn raw(base: &str, authorization: &str, rest: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /entity.update?type_name=user HTTP/1.1\r\nhost: {addr}\r\nauthorization: {authorization}\r\ncontent-type: application/json\r\n{rest}"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&answer).into_owned();
            let length: usize = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                let status = text[9..12].parse().unwrap();
                let body = serde_json::from_slice(&answer[end + 4..end + 4 + length]).unwrap();
                return (status, body);
            }
        }
    }
    panic!("no answer: {}", String::from_utf8_lossy(&answer));
}

/// 9. A form type in another letter case: the handler's extractors read what the layer read
/// (before: axum's `Form` refused it with a plain-text 415).
#[tokio::test]
async fn a_form_in_any_letter_case_reaches_the_handler_as_the_form_type() {
    let bases = servers(|b| b).await;
    let pairs = [("type_name", "user"), ("uuid", "alice")];
    for content_type in [
        "Application/X-WWW-Form-Urlencoded",
        "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8",
    ] {
        let call = Call {
            content_type: Some(content_type),
            ..Call::post_form("/entity.update", &pairs)
        }
        .oauth("tok-alice");
        let answer = accepted_everywhere(&bases, &call, Some("alice")).await;
        let readers: Vec<&str> = answer["readings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reader"].as_str().unwrap())
            .collect();
        assert!(
            readers.contains(&"Form<HashMap>") && readers.contains(&"RawForm"),
            "{answer}"
        );
    }
}

/// 10. `UnknownPaths::Allow` cannot be bypassed by percent-encoding an operation's path
/// (before: `/entity%2Efind` passed unauthenticated).
#[tokio::test]
async fn percent_encoding_does_not_hide_an_operation() {
    let bases = servers(|b| b.unknown_paths(UnknownPaths::Allow)).await;
    for path in ["/entity%2Efind", "/entity%2efind", "/%65ntity.find"] {
        let call = Call::post_form(path, &[("type_name", "user")]);
        for (mounting, base) in &bases {
            let got = call.send(base).await;
            assert_error(&got, 401, 402, "invalid_client_credentials");
            let _ = mounting;
        }
    }
    // A path that is no operation passes, with nothing verified: its handler's extractor of
    // the client answers 401, not 503.
    for (mounting, base) in &bases {
        let got = Call::post_form("/health/x", &[("uuid", "bob")])
            .send(base)
            .await;
        assert_eq!(got.0, 200, "{mounting:?}: {}", got.1);
        assert_eq!(got.1["user"], Value::Null);
    }
}

// ---------------------------------------------------------------------------------------------
// The property: any user-token request is refused, or no reader sees a record but the user's.

#[derive(Debug, Clone)]
struct UserCase {
    path: &'static str,
    token: &'static str,
    user: &'static str,
    in_header: bool,
    in_query: bool,
    params: Vec<(String, String)>,
}

fn name() -> impl Strategy<Value = String> {
    let addressing = prop_oneof![
        Just("uuid"),
        Just("id"),
        Just("key_attribute"),
        Just("key_value")
    ];
    prop_oneof![
        // An addressing name, letters in random case, maybe a character put in.
        3 => (addressing, any::<u8>(), proptest::option::of((any::<u8>(), prop_oneof![Just('_'), Just('['), Just(']'), Just(' '), Just('-'), Just('.'), Just('\0'), Just('ü')])))
            .prop_map(|(base, upper, insert)| {
                let mut chars: Vec<char> = base
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if upper & (1 << (i % 8)) != 0 { c.to_ascii_uppercase() } else { c })
                    .collect();
                if let Some((at, c)) = insert {
                    let at = usize::from(at) % (chars.len() + 1);
                    chars.insert(at, c);
                }
                chars.into_iter().collect()
            }),
        2 => Just("type_name".to_owned()),
        1 => Just("value".to_owned()),
        1 => "[a-zA-Z_]{1,6}",
        1 => "[ -~]{0,4}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just("alice".to_owned()),
        2 => Just("bob".to_owned()),
        1 => Just("ALICE".to_owned()),
        1 => Just("\"bob\"".to_owned()),
        1 => "[a-z]{0,4}",
    ]
}

fn user_case() -> impl Strategy<Value = UserCase> {
    (
        prop_oneof![
            Just("/entity"),
            Just("/entity.update"),
            Just("/entity.delete"),
            Just("/oauth/update_profile_native")
        ],
        prop_oneof![Just(("tok-alice", "alice")), Just(("tok-bob", "bob"))],
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec((name(), value()), 0..5),
    )
        .prop_map(
            |(path, (token, user), in_header, in_query, params)| UserCase {
                path,
                token,
                user,
                in_header,
                in_query,
                params,
            },
        )
}

impl UserCase {
    fn call(&self) -> Call {
        let login = self.path.starts_with("/oauth/");
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if login {
            pairs.push((
                "client_id",
                if self.token == "tok-alice" {
                    "login_client"
                } else {
                    "other_login"
                },
            ));
        }
        if login || !self.in_header {
            pairs.push(("access_token", self.token));
        }
        pairs.extend(self.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let call = if self.in_query {
            Call::post_query(self.path, &pairs)
        } else {
            Call::post_form(self.path, &pairs)
        };
        if self.in_header && !login {
            call.oauth(self.token)
        } else {
            call
        }
    }
}

#[test]
fn every_user_token_request_is_refused_or_reaches_its_users_record_only() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bases = runtime.block_on(servers(|b| b));
    let cases = 400;
    let accepted = std::cell::Cell::new(0);
    let refused = std::cell::Cell::new(0);
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(case in user_case())| {
        let call = case.call();
        runtime.block_on(async {
            for (mounting, base) in &bases {
                let got = call.send(base).await;
                if got.0 == 200 {
                    accepted.set(accepted.get() + 1);
                    prop_assert_eq!(got.1["user"].as_str(), Some(case.user), "{:?}: {}", mounting, got.1);
                    for record in addressed(&got.1) {
                        prop_assert_eq!(&record, case.user, "{:?}: a reader addresses another record: {}", mounting, got.1);
                    }
                } else {
                    refused.set(refused.get() + 1);
                    prop_assert!(got.1.get("readings").is_none(), "{:?}: refused after the handler ran", mounting);
                    prop_assert!(JanrainError::from_body(got.1.to_string().as_bytes()).is_some(), "{:?}: {}", mounting, got.1);
                }
            }
            Ok(())
        })?;
    });
    // Both outcomes are reached: the property is not met by refusing everything.
    let (accepted, refused) = (accepted.get(), refused.get());
    assert!(
        accepted > 100 && refused > 100,
        "accepted {accepted}, refused {refused}"
    );
}

use janrain_auth::error::JanrainError;
