//! Calling as a user (janrain-oauth) and as a login client, over real HTTP on 127.0.0.1 with a
//! server that records what it receives: the reqwest middleware, the tower layers (plain and
//! buffering) with hyper-util, and `JanrainClient`. Also: the host allowlist for tokens, the
//! repeated-`client_id` refusal, and that a token shows up in no `Debug` output and no trace at
//! TRACE level.

use janrain_auth_test_support as support;
use janrain_auth_test_support::client as common_client;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common_client::api_client;
use common_client::recorder::{Received, Recorder, start_recorder};
use http::Request;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use janrain_auth::BoxError;
use janrain_auth::client::{
    AsLoginClient, AsUser, JanrainClient, JanrainSigner, RequestSigner, SignError, SignLayer,
    SignOutcome, UseClient,
};
use janrain_auth::credentials::{AccessToken, ClientId};
use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt};

const FORM: &str = "application/x-www-form-urlencoded";
/// The API client's secret: never used by the calls below, and never on the wire.
const SECRET: &str = "api-secret-never-sent-3f1a";

// ---------------------------------------------------------------------------------------------
// Every trace of the process, captured at TRACE (support/traces.rs).

use support::traces::captured;

// ---------------------------------------------------------------------------------------------
// Helpers.

fn token(text: &str) -> AccessToken {
    captured();
    AccessToken::new(text).unwrap()
}

fn login(id: &str) -> ClientId {
    ClientId::new(id).unwrap()
}

fn signer_for(recorder: &Recorder) -> RequestSigner {
    RequestSigner::builder(api_client("api_client", SECRET))
        .base_url(recorder.url("/"))
        .build()
        .unwrap()
}

/// Records whether the outgoing `Authorization` header is marked sensitive, then sends the
/// request on.
#[derive(Clone, Default)]
struct Sensitivity(Arc<Mutex<Vec<Option<bool>>>>);

impl Sensitivity {
    fn record(&self, headers: &http::HeaderMap) {
        let value = headers.get("authorization").map(|v| v.is_sensitive());
        self.0.lock().unwrap().push(value);
    }
    fn all(&self) -> Vec<Option<bool>> {
        self.0.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for Sensitivity {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.record(request.headers());
        next.run(request, extensions).await
    }
}

fn middleware_client(
    signer: RequestSigner,
    seen: &Sensitivity,
) -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(JanrainSigner::new(signer))
        .with(seen.clone())
        .build()
}

/// The sign error inside a failed reqwest-middleware call.
fn sign_error(e: &reqwest_middleware::Error) -> &SignError {
    match e {
        reqwest_middleware::Error::Middleware(e) => e.downcast_ref::<SignError>().unwrap(),
        other => panic!("not a signing error: {other:?}"),
    }
}

/// The sign error inside a failed tower call.
fn tower_sign_error(e: &BoxError) -> &SignError {
    e.downcast_ref::<SignError>()
        .unwrap_or_else(|| panic!("not a signing error: {e:?}"))
}

/// A user's request as it must arrive: exactly one `Authorization: OAuth <token>`, no `Date`,
/// no signature, the parameters untouched.
fn assert_as_user(got: &Received, token: &str, params: &[(&str, &str)]) {
    assert_eq!(got.authorization, [format!("OAuth {token}")], "{got:?}");
    assert_eq!(got.date, None, "{got:?}");
    assert_eq!(got.signature, None);
    assert!(!got.body.contains(SECRET) && !got.query.as_deref().unwrap_or("").contains(SECRET));
    assert_eq!(pairs(params), got.params, "{got:?}");
}

/// A login client's request as it must arrive: no `Authorization`, no `Date`, `client_id` once.
fn assert_as_login_client(got: &Received, id: &str, params: &[(&str, &str)]) {
    assert!(got.authorization.is_empty(), "{got:?}");
    assert_eq!(got.date, None, "{got:?}");
    assert_eq!(got.values("client_id"), [id], "{got:?}");
    assert_eq!(pairs(params), got.params, "{got:?}");
}

fn pairs(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

type Hyper = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn hyper() -> Hyper {
    Client::builder(TokioExecutor::new()).build_http()
}

// ---------------------------------------------------------------------------------------------
// The reqwest middleware.

/// `AsUser`: the server sees exactly `Authorization: OAuth <token>`, marked sensitive on the
/// way out, with no `Date` and the parameters as sent, for a form POST and a GET.
#[tokio::test]
async fn middleware_sends_as_user() {
    let recorder = start_recorder().await;
    let seen = Sensitivity::default();
    let client = middleware_client(signer_for(&recorder), &seen);
    let t = token("mw-user-token-81c2");

    let response = client
        .post(recorder.url("/entity"))
        .header("content-type", FORM)
        .body("type_name=user&attributes=%5B%22email%22%5D")
        .with_extension(AsUser(t.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_as_user(
        &recorder.only(),
        "mw-user-token-81c2",
        &[("type_name", "user"), ("attributes", r#"["email"]"#)],
    );

    recorder.clear();
    client
        .get(recorder.url("/entity"))
        .query(&[("type_name", "user")])
        .with_extension(AsUser(t.clone()))
        .send()
        .await
        .unwrap();
    let got = recorder.only();
    assert_eq!(got.method, "GET");
    assert_as_user(&got, "mw-user-token-81c2", &[("type_name", "user")]);
    assert_eq!(seen.all(), [Some(true), Some(true)]);

    // Signing directly says what happened.
    let mut request = reqwest::Client::new()
        .post(recorder.url("/entity"))
        .build()
        .unwrap();
    let mut extensions = http::Extensions::new();
    extensions.insert(AsUser(t));
    let outcome = signer_for(&recorder)
        .sign_reqwest(&mut request, &extensions)
        .unwrap();
    assert_eq!(outcome, SignOutcome::AsUser);
    assert!(request.headers()["authorization"].is_sensitive());
}

/// `AsLoginClient`: `client_id` is added to a form body, or to the query string when there is
/// no form body; no `Authorization` header.
#[tokio::test]
async fn middleware_sends_as_login_client() {
    let recorder = start_recorder().await;
    let seen = Sensitivity::default();
    let client = middleware_client(signer_for(&recorder), &seen);
    captured();

    client
        .post(recorder.url("/oauth/update_profile_native"))
        .header("content-type", FORM)
        .body("flow=standard&access_token=lc-token-1")
        .with_extension(AsLoginClient(login("login_client")))
        .send()
        .await
        .unwrap();
    let got = recorder.only();
    assert_eq!(got.query, None, "into the form body: {got:?}");
    assert_eq!(
        got.body,
        "flow=standard&access_token=lc-token-1&client_id=login_client"
    );
    assert_as_login_client(
        &got,
        "login_client",
        &[
            ("flow", "standard"),
            ("access_token", "lc-token-1"),
            ("client_id", "login_client"),
        ],
    );

    // No body: into the query string, after the parameters already there.
    recorder.clear();
    client
        .get(recorder.url("/oauth/auth_native?flow=standard"))
        .with_extension(AsLoginClient(login("login_client")))
        .send()
        .await
        .unwrap();
    let got = recorder.only();
    assert_eq!(
        got.query.as_deref(),
        Some("flow=standard&client_id=login_client")
    );
    assert_as_login_client(
        &got,
        "login_client",
        &[("flow", "standard"), ("client_id", "login_client")],
    );

    // A JSON body carries no parameters: the query string gets client_id, the body stays.
    recorder.clear();
    client
        .post(recorder.url("/oauth/token"))
        .header("content-type", "application/json")
        .body(r#"{"client_id":"in json, not a parameter"}"#)
        .with_extension(AsLoginClient(login("login_client")))
        .send()
        .await
        .unwrap();
    let got = recorder.only();
    assert_eq!(got.query.as_deref(), Some("client_id=login_client"));
    assert_eq!(got.body, r#"{"client_id":"in json, not a parameter"}"#);
    assert_eq!(seen.all(), [None, None, None]);

    // A POST with a form Content-Type and no body yet: the body, where the server looks for
    // the parameters of such a request (it refuses them in the query string).
    recorder.clear();
    client
        .post(recorder.url("/oauth/auth_native"))
        .header("content-type", FORM)
        .with_extension(AsLoginClient(login("login_client")))
        .send()
        .await
        .unwrap();
    let got = recorder.only();
    assert_eq!(got.query, None);
    assert_eq!(got.body, "client_id=login_client");
}

/// A request that already carries `client_id` (in the body or the query string) is refused
/// before it is sent, as are parameters in two places and more than one way to authenticate.
#[tokio::test]
async fn middleware_refuses_a_second_client_id() {
    let recorder = start_recorder().await;
    let client = middleware_client(signer_for(&recorder), &Sensitivity::default());
    captured();

    let cases = [
        (
            recorder.url("/oauth/auth_native"),
            Some("client_id=mine&flow=x"),
        ),
        (recorder.url("/oauth/auth_native?client_id=mine"), None),
        (
            recorder.url("/oauth/auth_native?flow=x&client_id=login_client"),
            None,
        ),
    ];
    for (url, body) in cases {
        let mut request = client
            .post(&url)
            .with_extension(AsLoginClient(login("login_client")));
        if let Some(body) = body {
            request = request.header("content-type", FORM).body(body);
        }
        let err = request.send().await.unwrap_err();
        assert!(
            matches!(sign_error(&err), SignError::RepeatedClientId),
            "{url}: {err}"
        );
        assert!(err.to_string().contains("client_id"), "{err}");
    }

    let err = client
        .post(recorder.url("/oauth/auth_native?flow=x"))
        .header("content-type", FORM)
        .body("locale=en")
        .with_extension(AsLoginClient(login("login_client")))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(sign_error(&err), SignError::AmbiguousParameters(_)),
        "{err}"
    );

    let err = client
        .post(recorder.url("/entity"))
        .with_extension(AsUser(token("conflict-token-aa")))
        .with_extension(AsLoginClient(login("login_client")))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(sign_error(&err), SignError::ConflictingCredentials),
        "{err}"
    );
    let err = client
        .post(recorder.url("/entity"))
        .with_extension(AsUser(token("conflict-token-aa")))
        .with_extension(UseClient(Arc::new(api_client("other", "other-secret"))))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(sign_error(&err), SignError::ConflictingCredentials),
        "{err}"
    );
    assert!(recorder.seen().is_empty(), "{:?}", recorder.seen());
}

/// A token goes only where the signer may send credentials: another host fails with
/// `HostNotAllowed` (nothing sent), or goes without the token under `SendUnsigned`.
#[tokio::test]
async fn allowlist_keeps_tokens_home() {
    let home = start_recorder().await;
    let elsewhere = start_recorder().await;
    let client = middleware_client(signer_for(&home), &Sensitivity::default());
    let t = token("allowlist-token-5d");

    let err = client
        .post(elsewhere.url("/entity"))
        .with_extension(AsUser(t.clone()))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(sign_error(&err), SignError::HostNotAllowed { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains(&elsewhere.addr.to_string()),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("allowlist-token-5d"));
    let err = client
        .post(elsewhere.url("/oauth/auth_native"))
        .with_extension(AsLoginClient(login("login_client")))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(sign_error(&err), SignError::HostNotAllowed { .. }),
        "{err}"
    );
    assert!(elsewhere.seen().is_empty());

    // The tower layer refuses the same way.
    let service = ServiceBuilder::new()
        .layer(SignLayer::new(signer_for(&home)))
        .service(hyper());
    let request = Request::post(elsewhere.url("/entity"))
        .extension(AsUser(t.clone()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let err = service.oneshot(request).await.unwrap_err();
    assert!(
        matches!(tower_sign_error(&err), SignError::HostNotAllowed { .. }),
        "{err}"
    );
    assert!(elsewhere.seen().is_empty());

    // SendUnsigned: the request goes, untouched, without the token.
    let lenient = RequestSigner::builder(api_client("api_client", SECRET))
        .base_url(home.url("/"))
        .unlisted_host(janrain_auth::client::UnlistedHost::SendUnsigned)
        .build()
        .unwrap();
    let client = middleware_client(lenient, &Sensitivity::default());
    client
        .post(elsewhere.url("/entity"))
        .with_extension(AsUser(t))
        .send()
        .await
        .unwrap();
    assert!(elsewhere.only().authorization.is_empty());
    assert!(home.seen().is_empty());
}

/// An `Authorization` header set by hand is kept (the signer's rule), unless the signer
/// overwrites: then the token replaces it, and a login-client request loses it.
#[tokio::test]
async fn existing_authorization_follows_the_signers_rule() {
    let recorder = start_recorder().await;
    let client = middleware_client(signer_for(&recorder), &Sensitivity::default());
    client
        .post(recorder.url("/entity"))
        .header("authorization", "OAuth by-hand")
        .with_extension(AsUser(token("kept-token-0")))
        .send()
        .await
        .unwrap();
    assert_eq!(recorder.only().authorization, ["OAuth by-hand"]);

    let overwriting = RequestSigner::builder(api_client("api_client", SECRET))
        .base_url(recorder.url("/"))
        .overwrite_authorization(true)
        .build()
        .unwrap();
    let client = middleware_client(overwriting, &Sensitivity::default());
    recorder.clear();
    client
        .post(recorder.url("/entity"))
        .header("authorization", "OAuth by-hand")
        .with_extension(AsUser(token("overwrite-token-1")))
        .send()
        .await
        .unwrap();
    assert_eq!(recorder.only().authorization, ["OAuth overwrite-token-1"]);
    recorder.clear();
    client
        .post(recorder.url("/oauth/auth_native"))
        .header("authorization", "OAuth by-hand")
        .with_extension(AsLoginClient(login("login_client")))
        .send()
        .await
        .unwrap();
    let got = recorder.only();
    assert_as_login_client(&got, "login_client", &[("client_id", "login_client")]);
}

// ---------------------------------------------------------------------------------------------
// The tower layers.

/// `SignLayer` with hyper-util: as a user and as a login client, with `Full<Bytes>`, `String`
/// and `Empty<Bytes>` bodies; the header marked sensitive on the way out.
#[tokio::test]
async fn tower_layer_sends_as_user_and_as_login_client() {
    let recorder = start_recorder().await;
    let sensitivity = Sensitivity::default();
    let record = sensitivity.clone();
    let service = ServiceBuilder::new()
        .layer(SignLayer::new(signer_for(&recorder)))
        .map_request(move |request: Request<Full<Bytes>>| {
            record.record(request.headers());
            request
        })
        .service(hyper());
    let t = token("tower-user-token-77");

    let request = Request::post(recorder.url("/entity.update"))
        .header("content-type", FORM)
        .extension(AsUser(t.clone()))
        .body(Full::new(Bytes::from_static(b"type_name=user&uuid=u1")))
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_as_user(
        &recorder.only(),
        "tower-user-token-77",
        &[("type_name", "user"), ("uuid", "u1")],
    );

    recorder.clear();
    let request = Request::post(recorder.url("/oauth/update_profile_native"))
        .header("content-type", FORM)
        .header("content-length", "27")
        .extension(AsLoginClient(login("tower_login")))
        .body(Full::new(Bytes::from_static(
            b"flow=standard&access_token=",
        )))
        .unwrap();
    service.clone().oneshot(request).await.unwrap();
    let got = recorder.only();
    assert_eq!(
        got.body,
        "flow=standard&access_token=&client_id=tower_login"
    );
    assert_as_login_client(
        &got,
        "tower_login",
        &[
            ("flow", "standard"),
            ("access_token", ""),
            ("client_id", "tower_login"),
        ],
    );

    recorder.clear();
    let request = Request::get(recorder.url("/oauth/auth_native?flow=a%20b"))
        .extension(AsLoginClient(login("tower_login")))
        .body(Full::new(Bytes::new()))
        .unwrap();
    service.clone().oneshot(request).await.unwrap();
    let got = recorder.only();
    assert_eq!(
        got.query.as_deref(),
        Some("flow=a%20b&client_id=tower_login")
    );
    assert_as_login_client(
        &got,
        "tower_login",
        &[("flow", "a b"), ("client_id", "tower_login")],
    );
    assert_eq!(sensitivity.all(), [Some(true), None, None]);

    // String and Empty bodies, signed directly.
    let signer = signer_for(&recorder);
    let mut request = Request::post(recorder.url("/oauth/auth_native"))
        .header("content-type", FORM)
        .extension(AsLoginClient(login("tower_login")))
        .body(String::from("flow=x&"))
        .unwrap();
    assert_eq!(
        signer.sign_http(&mut request).unwrap(),
        SignOutcome::AsLoginClient
    );
    assert_eq!(request.body(), "flow=x&client_id=tower_login");
    assert!(request.extensions().get::<AsLoginClient>().is_some());
    let mut request = Request::get(recorder.url("/entity?type_name=user"))
        .extension(AsUser(t))
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert_eq!(signer.sign_http(&mut request).unwrap(), SignOutcome::AsUser);
    assert_eq!(
        request.headers()["authorization"],
        "OAuth tower-user-token-77"
    );
    assert!(request.headers().get("date").is_none());
    assert_eq!(request.uri().query(), Some("type_name=user"));
}

/// The buffering layer collects a streamed body, then adds `client_id` to it; a repeated
/// `client_id` is refused before anything is sent.
#[tokio::test]
async fn buffering_layer_sends_as_login_client() {
    let recorder = start_recorder().await;
    captured();
    let service = ServiceBuilder::new()
        .layer(SignLayer::new(signer_for(&recorder)).buffering(1024))
        .service(hyper());
    let body = http_body_util::StreamBody::new(futures_util::stream::iter([
        Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::from_static(b"flow=st"))),
        Ok(http_body::Frame::data(Bytes::from_static(b"andard"))),
    ]));
    let request = Request::post(recorder.url("/oauth/auth_native"))
        .header("content-type", FORM)
        .extension(AsLoginClient(login("buffered_login")))
        .body(body)
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    let answer: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        answer["params"],
        json!([["flow", "standard"], ["client_id", "buffered_login"]])
    );

    recorder.clear();
    let request = Request::post(recorder.url("/oauth/auth_native"))
        .header("content-type", FORM)
        .extension(AsLoginClient(login("buffered_login")))
        .body(Full::new(Bytes::from_static(b"client_id=buffered_login")))
        .unwrap();
    let err = service.oneshot(request).await.unwrap_err();
    assert!(
        matches!(tower_sign_error(&err), SignError::RepeatedClientId),
        "{err}"
    );
    assert!(recorder.seen().is_empty());
}

/// A body type that cannot be rebuilt from bytes gets a clear error for a login-client form,
/// and a stream is refused as for signing; a user's request never reads the body.
#[test]
fn bodies_the_signer_cannot_rewrite() {
    /// In memory, but not rebuildable.
    struct Fixed(Full<Bytes>);
    impl http_body::Body for Fixed {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::pin::Pin::new(&mut self.get_mut().0).poll_frame(cx)
        }
    }
    impl janrain_auth::client::BufferedBody for Fixed {
        fn with_buffered<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
            self.0.with_buffered(f)
        }
    }
    /// A stream.
    struct Stream;
    impl http_body::Body for Stream {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(None)
        }
    }
    impl janrain_auth::client::BufferedBody for Stream {
        fn with_buffered<R>(&self, _: impl FnOnce(&[u8]) -> R) -> Option<R> {
            None
        }
    }
    captured();
    let signer = RequestSigner::builder(api_client("api_client", SECRET))
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let mut request = Request::post("http://127.0.0.1:9/oauth/auth_native")
        .header("content-type", FORM)
        .extension(AsLoginClient(login("fixed")))
        .body(Fixed(Full::new(Bytes::from_static(b"flow=x"))))
        .unwrap();
    let err = signer.sign_http(&mut request).unwrap_err();
    assert!(matches!(err, SignError::BodyNotRewritable), "{err}");
    assert!(err.to_string().contains("Full<Bytes>"), "{err}");
    // No body to add to: the query string works for any body type.
    let mut request = Request::get("http://127.0.0.1:9/oauth/auth_native")
        .extension(AsLoginClient(login("fixed")))
        .body(Fixed(Full::new(Bytes::new())))
        .unwrap();
    signer.sign_http(&mut request).unwrap();
    assert_eq!(request.uri().query(), Some("client_id=fixed"));

    let mut request = Request::post("http://127.0.0.1:9/oauth/auth_native")
        .header("content-type", FORM)
        .extension(AsLoginClient(login("stream")))
        .body(Stream)
        .unwrap();
    let err = signer.sign_http(&mut request).unwrap_err();
    assert!(matches!(err, SignError::BodyNotBuffered), "{err}");
    let mut request = Request::post("http://127.0.0.1:9/entity")
        .header("content-type", FORM)
        .extension(AsUser(token("stream-user-token")))
        .body(Stream)
        .unwrap();
    assert_eq!(signer.sign_http(&mut request).unwrap(), SignOutcome::AsUser);
}

// ---------------------------------------------------------------------------------------------
// JanrainClient.

/// `as_user` and `as_login_client` views: `call`, `find_all` and `request` go out as the view
/// says, and the original client still signs.
#[tokio::test]
async fn janrain_client_calls_as_user_and_as_login_client() {
    let recorder = start_recorder().await;
    let janrain = JanrainClient::new(signer_for(&recorder)).unwrap();
    let user = janrain.as_user(token("client-user-token-4e"));

    let answer: Value = user
        .call(
            "entity",
            &json!({"type_name": "user", "attributes": ["email"]}),
        )
        .await
        .unwrap();
    // serde_json's maps keep their keys sorted.
    assert_eq!(answer["params"][1], json!(["type_name", "user"]));
    assert_as_user(
        &recorder.only(),
        "client-user-token-4e",
        &[("attributes", r#"["email"]"#), ("type_name", "user")],
    );

    recorder.clear();
    let response = user
        .request(http::Method::GET, "entity")
        .unwrap()
        .query(&[("type_name", "user")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_as_user(
        &recorder.only(),
        "client-user-token-4e",
        &[("type_name", "user")],
    );

    recorder.clear();
    let login_client = janrain.as_login_client(login("view_login"));
    let _: Value = login_client
        .call(
            "/oauth/update_profile_native",
            &json!({"flow": "standard", "access_token": "lc-token-2"}),
        )
        .await
        .unwrap();
    assert_as_login_client(
        &recorder.only(),
        "view_login",
        &[
            ("access_token", "lc-token-2"),
            ("flow", "standard"),
            ("client_id", "view_login"),
        ],
    );
    let err = login_client
        .call::<_, Value>("oauth/auth_native", &json!({"client_id": "twice"}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            janrain_auth::client::Error::Sign(SignError::RepeatedClientId)
        ),
        "{err}"
    );

    // find_all pages as the user too.
    recorder.clear();
    let mut records = user.find_all::<_, Value>(&json!({"type_name": "user"}));
    assert!(
        records.next().await.unwrap().is_err(),
        "the recorder has no results field"
    );
    assert_eq!(
        recorder.only().authorization,
        ["OAuth client-user-token-4e"]
    );

    // The original, and as_api_client, still sign as the API client.
    for signed in [&janrain, &user.as_api_client()] {
        recorder.clear();
        let _: Value = signed
            .call("entity.count", &json!({"type_name": "user"}))
            .await
            .unwrap();
        let got = recorder.only();
        assert!(
            got.authorization[0].starts_with("Signature api_client:"),
            "{got:?}"
        );
        assert!(got.date.is_some());
    }
}

// ---------------------------------------------------------------------------------------------
// Hygiene.

/// No `Debug` output of any client type, and no trace at TRACE level, holds a token: traffic as
/// a user on both front ends and through `JanrainClient`, accepted and refused.
#[tokio::test]
async fn tokens_stay_out_of_debug_and_traces() {
    const TOKEN: &str = "hygiene-token-c0ffee42";
    let captured = captured();
    let recorder = start_recorder().await;
    let other = start_recorder().await;
    let t = token(TOKEN);
    let signer = signer_for(&recorder);

    // Traffic: middleware, tower, JanrainClient; to the allowed host and to another one.
    let client = middleware_client(signer.clone(), &Sensitivity::default());
    for url in [recorder.url("/entity"), other.url("/entity")] {
        let _ = client
            .post(url)
            .header("content-type", FORM)
            .body("type_name=user")
            .with_extension(AsUser(t.clone()))
            .send()
            .await;
    }
    let service = ServiceBuilder::new()
        .layer(SignLayer::new(signer.clone()))
        .service(hyper());
    let request = Request::post(recorder.url("/entity"))
        .extension(AsUser(t.clone()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    service.clone().oneshot(request).await.unwrap();
    let janrain = JanrainClient::new(signer.clone()).unwrap();
    let user = janrain.as_user(t.clone());
    let _: Value = user
        .call("entity", &json!({"type_name": "user"}))
        .await
        .unwrap();
    let refused = JanrainClient::new(
        RequestSigner::builder(api_client("api_client", SECRET))
            .base_url(other.url("/"))
            .allow_host("127.0.0.2")
            .build()
            .unwrap(),
    )
    .unwrap()
    .as_user(t.clone());
    assert_eq!(
        recorder
            .seen()
            .iter()
            .filter(|r| r.authorization == [format!("OAuth {TOKEN}")])
            .count(),
        3
    );

    // Debug of every type that holds or handled the token.
    let mut signed = Request::post(recorder.url("/entity"))
        .extension(AsUser(t.clone()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    signer.sign_http(&mut signed).unwrap();
    let mut reqwest_request = reqwest::Client::new()
        .post(recorder.url("/entity"))
        .build()
        .unwrap();
    let mut extensions = http::Extensions::new();
    extensions.insert(AsUser(t.clone()));
    signer
        .sign_reqwest(&mut reqwest_request, &extensions)
        .unwrap();
    let host_error = client
        .post(other.url("/entity"))
        .with_extension(AsUser(t.clone()))
        .send()
        .await
        .unwrap_err();
    let debug = [
        format!("{t:?}"),
        format!("{t}"),
        format!("{:?}", AsUser(t.clone())),
        format!("{user:?}"),
        format!("{refused:?}"),
        format!("{signer:?}"),
        format!("{:?}", JanrainSigner::new(signer.clone())),
        format!("{:?}", SignLayer::new(signer.clone())),
        format!("{:?}", SignLayer::new(signer.clone()).buffering(10)),
        format!("{service:?}"),
        format!("{extensions:?}"),
        format!("{signed:?}"),
        format!("{:?}", signed.headers()),
        format!("{reqwest_request:?}"),
        format!("{:?}", reqwest_request.headers()),
        format!("{host_error} {host_error:?}"),
        format!("{:?}", AccessToken::new("bad token").unwrap_err()),
    ];
    for text in &debug {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains(SECRET), "{text}");
    }
    assert!(debug[3].contains("as_user"), "{}", debug[3]);

    // Traces: the events are there, the token is not.
    let text = captured.text();
    assert!(
        text.contains("request sent as a user"),
        "the crate's own events are captured"
    );
    for secret in [TOKEN, SECRET] {
        assert!(!text.contains(secret), "{secret} in traces");
    }
}
