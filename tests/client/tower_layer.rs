//! The tower layer with hyper-util's legacy client against a real axum server behind the
//! crate's `VerifyLayer`, over real HTTP on 127.0.0.1; and the two front ends side by side.

use janrain_auth_test_support::client as common_client;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use common_client::{ServerConfig, TestServer, api_client, start, vector_params, vectors};
use http::Request;
use http_body::{Body, Frame};
use http_body_util::{Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use janrain_auth::BoxError;
use janrain_auth::client::{
    BufferedBody, ClockSkewRetryLayer, JanrainResponseExt, RequestSigner, SignError, SignLayer,
    SignOutcome, UseClient,
};
use janrain_auth::params::encode_urlencoded;
use janrain_auth::scheme::{Datetime, ManualClock};
use serde_json::Value;
use tower::{Service, ServiceBuilder, ServiceExt};

const FORM: &str = "application/x-www-form-urlencoded";

fn at(text: &str) -> Datetime {
    text.parse().unwrap()
}

async fn read<B>(response: http::Response<B>) -> Value
where
    B: Body + Send,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    response.janrain_json().await.unwrap()
}

async fn server_and_signer(id: &str, secret: &str, datetime: &str) -> (TestServer, RequestSigner) {
    let clock = ManualClock::at(at(datetime));
    let server = start(ServerConfig::new(
        vec![api_client(id, secret)],
        clock.clone(),
    ))
    .await;
    let signer = RequestSigner::builder(api_client(id, secret))
        .base_url(server.url("/"))
        .clock(clock)
        .build()
        .unwrap();
    (server, signer)
}

/// The canonical vectors through `SignLayer` + hyper-util, as a form body and as a query
/// string: accepted, and the header on the wire is the vector's.
#[tokio::test]
async fn vectors_through_hyper_util() {
    for v in vectors() {
        let Ok(datetime) = v["datetime"].as_str().unwrap().parse::<Datetime>() else {
            continue;
        };
        if v["variant"] != "canonical" {
            continue;
        }
        let name = v["name"].as_str().unwrap();
        let id = v["client_id"].as_str().unwrap();
        let (server, signer) =
            server_and_signer(id, v["secret"].as_str().unwrap(), &datetime.to_string()).await;
        let mut client = ServiceBuilder::new()
            .layer(SignLayer::new(signer))
            .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
        let params = vector_params(&v);
        let encoded = encode_urlencoded(&params);
        let url = server.url(v["endpoint"].as_str().unwrap());
        let requests = [
            Request::post(&url)
                .header("content-type", FORM)
                .body(Full::new(Bytes::from(encoded.clone())))
                .unwrap(),
            Request::get(format!("{url}?{encoded}"))
                .body(Full::default())
                .unwrap(),
        ];
        for request in requests {
            server.clear();
            let response = client.ready().await.unwrap().call(request).await.unwrap();
            let body = read(response).await;
            assert_eq!(body["client_id"], id, "{name}");
            let echoed: Vec<(String, String)> =
                serde_json::from_value(body["params"].clone()).unwrap();
            assert_eq!(echoed, params, "{name}");
            let seen = server.seen();
            assert_eq!(
                seen[0].authorization.as_deref(),
                v["authorization"].as_str(),
                "{name}"
            );
            assert_eq!(
                seen[0].date.as_deref(),
                Some(datetime.to_string().as_str()),
                "{name}"
            );
        }
    }
}

/// `String` and `Empty<Bytes>` bodies, and a per-request client in the request's extensions.
#[tokio::test]
async fn string_and_empty_bodies_and_use_client() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    let other = Arc::new(api_client("otherclient", "other-secret"));
    let server = start(ServerConfig::new(
        vec![api_client("mainclient", "main-secret"), (*other).clone()],
        clock.clone(),
    ))
    .await;
    let signer = RequestSigner::builder(api_client("mainclient", "main-secret"))
        .base_url(server.url("/"))
        .clock(clock)
        .build()
        .unwrap();

    let mut strings = SignLayer::new(signer.clone())
        .layer_with(Client::builder(TokioExecutor::new()).build_http::<String>());
    let mut request = Request::post(server.url("/entity.count"))
        .header("content-type", FORM)
        .body(String::from("type_name=user&filter=email+%3D+%27a%40b%27"))
        .unwrap();
    request.extensions_mut().insert(UseClient(other));
    let body = read(strings.ready().await.unwrap().call(request).await.unwrap()).await;
    assert_eq!(body["client_id"], "otherclient");

    let mut empties = SignLayer::new(signer)
        .layer_with(Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>());
    let request = Request::get(server.url("/settings/items"))
        .body(Empty::new())
        .unwrap();
    let body = read(empties.ready().await.unwrap().call(request).await.unwrap()).await;
    assert_eq!(body["client_id"], "mainclient");
}

/// A body that arrives in chunks and is not in memory.
struct Chunks(VecDeque<Bytes>);

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }
}

fn chunks(parts: &[&'static str]) -> Chunks {
    Chunks(
        parts
            .iter()
            .map(|p| Bytes::from_static(p.as_bytes()))
            .collect(),
    )
}

/// The buffering layer collects a chunked body under its limit, signs it and sends it; over
/// the limit (declared or not) the request fails before anything is sent.
#[tokio::test]
async fn buffering_layer_collects_under_a_limit() {
    let (server, signer) = server_and_signer("c", "s", "2021-03-04 05:06:07").await;
    let mut client = ServiceBuilder::new()
        .layer(SignLayer::new(signer).buffering(64))
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());

    let request = Request::post(server.url("/entity.find"))
        .header("content-type", FORM)
        .body(chunks(&["type_name=us", "er&filter=a%3Db", "%0Ac%3Dd"]))
        .unwrap();
    let ready = ServiceExt::<Request<Chunks>>::ready(&mut client)
        .await
        .unwrap();
    let body = read(ready.call(request).await.unwrap()).await;
    let echoed: Vec<(String, String)> = serde_json::from_value(body["params"].clone()).unwrap();
    assert_eq!(
        echoed,
        vec![
            ("type_name".into(), "user".into()),
            ("filter".into(), "a=b\nc=d".into())
        ]
    );

    let too_long = Request::post(server.url("/entity.find"))
        .header("content-type", FORM)
        .body(chunks(&[
            "a=0123456789012345678901234567890123456789",
            "&b=0123456789012345678901234567890123456789",
        ]))
        .unwrap();
    let declared = Request::post(server.url("/entity.find"))
        .header("content-type", FORM)
        .header("content-length", "65")
        .body(chunks(&["a=1"]))
        .unwrap();
    for request in [too_long, declared] {
        let ready = ServiceExt::<Request<Chunks>>::ready(&mut client)
            .await
            .unwrap();
        let err: BoxError = ready.call(request).await.unwrap_err();
        let sign = err.downcast_ref::<SignError>().expect("a SignError");
        assert!(
            matches!(sign, SignError::BodyTooLarge { limit: 64 }),
            "{sign}"
        );
    }
    assert_eq!(server.seen().len(), 1);
}

/// A request the layer may not sign never reaches the inner service.
#[tokio::test]
async fn refused_requests_are_not_sent() {
    let (server, signer) = server_and_signer("c", "s", "2021-03-04 05:06:07").await;
    let mut client = SignLayer::new(signer)
        .layer_with(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let request = Request::post(format!(
        "http://localhost:{}/entity.find",
        server.addr.port()
    ))
    .body(Full::default())
    .unwrap();
    let err = client
        .ready()
        .await
        .unwrap()
        .call(request)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<SignError>(),
            Some(SignError::HostNotAllowed { .. })
        ),
        "{err}"
    );
    let relative = Request::post("/entity.find").body(Full::default()).unwrap();
    let err = client
        .ready()
        .await
        .unwrap()
        .call(relative)
        .await
        .unwrap_err();
    assert!(
        matches!(err.downcast_ref::<SignError>(), Some(SignError::NoHost)),
        "{err}"
    );
    assert!(server.seen().is_empty());
}

/// The same request through both front ends gets the same headers.
#[test]
fn both_front_ends_sign_identically() {
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url("https://myapp.janraincapture.com/capture")
        .clock(ManualClock::at(at("2021-03-04 05:06:07")))
        .build()
        .unwrap();
    let url = "https://myapp.janraincapture.com/capture/entity.find";
    let form = [
        ("type_name", "user"),
        ("filter", "email = 'a@b.example'"),
        ("attributes", r#"["uuid", "email"]"#),
    ];

    let mut via_reqwest = reqwest::Client::new()
        .post(url)
        .form(&form)
        .build()
        .unwrap();
    let outcome = signer
        .sign_reqwest(&mut via_reqwest, &http::Extensions::new())
        .unwrap();
    assert_eq!(outcome, SignOutcome::Signed);

    let mut via_http = Request::post(url)
        .header("content-type", FORM)
        .body(Full::new(Bytes::from(encode_urlencoded(&form))))
        .unwrap();
    signer.sign_http(&mut via_http).unwrap();

    for name in ["authorization", "date"] {
        assert_eq!(
            via_reqwest.headers()[name],
            via_http.headers()[name],
            "{name}"
        );
    }
    assert!(via_http.headers()["authorization"].is_sensitive());
    assert!(via_reqwest.headers()["authorization"].is_sensitive());
}

trait LayerWith {
    fn layer_with<S>(self, inner: S) -> janrain_auth::client::Sign<S>;
}

impl LayerWith for SignLayer {
    fn layer_with<S>(self, inner: S) -> janrain_auth::client::Sign<S> {
        tower::Layer::layer(&self, inner)
    }
}

/// The signer applies the verifier's rule for where parameters live: a form body and a query
/// string with parameters, or a type that only looks like a form, are refused before sending.
#[test]
fn ambiguous_parameters_are_not_signed() {
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url("https://myapp.janraincapture.com")
        .clock(ManualClock::at(at("2021-03-04 05:06:07")))
        .build()
        .unwrap();
    for (url, content_type) in [
        (
            "https://myapp.janraincapture.com/entity.find?type_name=user",
            FORM,
        ),
        (
            "https://myapp.janraincapture.com/entity.find",
            "application/x-www-form-urlencodedX",
        ),
    ] {
        let mut request = Request::post(url)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from_static(b"filter=x")))
            .unwrap();
        let err = signer.sign_http(&mut request).unwrap_err();
        assert!(matches!(err, SignError::AmbiguousParameters(_)), "{err}");
        assert!(!request.headers().contains_key("authorization"));
    }
}

/// A server ten minutes behind (refusing stale dates with HTTP 401, or with Janrain's HTTP 200
/// when `janrain_status`), and a signer whose clock says `2021-03-04 05:06:07`.
async fn ten_minutes_behind(janrain_status: bool) -> (TestServer, RequestSigner) {
    let mut config = ServerConfig::new(
        vec![api_client("c", "s")],
        ManualClock::at(at("2021-03-04 04:56:07")),
    );
    config.janrain_status = janrain_status;
    let server = start(config).await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(server.url("/"))
        .clock(ManualClock::at(at("2021-03-04 05:06:07")))
        .build()
        .unwrap();
    (server, signer)
}

fn form_post<B: From<&'static str>>(server: &TestServer) -> Request<B> {
    Request::post(server.url("/entity.find"))
        .header("content-type", FORM)
        .body(B::from("type_name=user"))
        .unwrap()
}

/// The retry layer outside the signer: a request refused for its `Date` goes once more,
/// re-signed with the server's time (HTTP 401 refusals read by status, Janrain's HTTP 200 ones
/// by their body); the next request is signed right the first time. The signer alone learns
/// the clock but hands the refusal on.
#[tokio::test]
async fn the_skew_retry_layer_retries_a_date_refusal_once() {
    for janrain_status in [false, true] {
        let (server, signer) = ten_minutes_behind(janrain_status).await;
        let http = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let client = ServiceBuilder::new()
            .layer(ClockSkewRetryLayer::new())
            .layer(SignLayer::new(signer.clone()))
            .service(http.clone());
        let response = client.clone().oneshot(form_post(&server)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(read(response).await["stat"], "ok");
        assert_eq!(signer.clock_offset(), -600);
        let seen = server.seen();
        assert_eq!(seen.len(), 2, "refused once, then accepted");
        assert_eq!(seen[0].date.as_deref(), Some("2021-03-04 05:06:07"));
        assert_eq!(seen[1].date.as_deref(), Some("2021-03-04 04:56:07"));
        assert_ne!(seen[0].authorization, seen[1].authorization);

        client.oneshot(form_post(&server)).await.unwrap();
        assert_eq!(server.seen().len(), 3, "accepted the first time");

        // The signer alone: learns, does not retry.
        server.clear();
        signer.set_clock_offset(0);
        let alone = ServiceBuilder::new()
            .layer(SignLayer::new(signer.clone()))
            .service(http);
        let response = alone.oneshot(form_post(&server)).await.unwrap();
        let err = response.janrain_json().await.unwrap_err();
        assert_eq!(err.janrain().map(|e| e.code), Some(433));
        assert_eq!(signer.clock_offset(), -600);
        assert_eq!(server.seen().len(), 1, "not retried");
    }
}

/// A form body that can be read but not rebuilt from bytes, so it cannot be copied.
struct Unrebuildable(Full<Bytes>);

impl From<&'static str> for Unrebuildable {
    fn from(text: &'static str) -> Self {
        Unrebuildable(Full::new(Bytes::from_static(text.as_bytes())))
    }
}

impl Body for Unrebuildable {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }
}

impl BufferedBody for Unrebuildable {
    fn with_buffered<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.0.with_buffered(f)
    }
}

/// A request whose body cannot be copied is sent once, and its refusal reaches the caller as
/// the server sent it (status, headers, body); so is a refusal that is not about the date.
#[tokio::test]
async fn the_skew_retry_layer_hands_on_what_it_does_not_retry() {
    for janrain_status in [false, true] {
        let (server, signer) = ten_minutes_behind(janrain_status).await;
        let client = ServiceBuilder::new()
            .layer(ClockSkewRetryLayer::new())
            .layer(SignLayer::new(signer.clone()))
            .service(Client::builder(TokioExecutor::new()).build_http::<Unrebuildable>());
        let response = client.oneshot(form_post(&server)).await.unwrap();
        assert_eq!(
            response.status(),
            if janrain_status { 200 } else { 401 },
            "{janrain_status}"
        );
        assert_eq!(response.headers()["content-type"], "application/json");
        let err = response.janrain_json().await.unwrap_err();
        assert_eq!(err.janrain().map(|e| e.code), Some(433));
        assert_eq!(signer.clock_offset(), -600, "the clock is still learned");
        assert_eq!(server.seen().len(), 1, "not retried");
    }

    // A wrong secret with matching clocks: refused with 431, read, and handed on whole.
    let (server, _) = server_and_signer("c", "right", "2021-03-04 05:06:07").await;
    let wrong = RequestSigner::builder(api_client("c", "wrong"))
        .base_url(server.url("/"))
        .clock(ManualClock::at(at("2021-03-04 05:06:07")))
        .build()
        .unwrap();
    let client = ServiceBuilder::new()
        .layer(ClockSkewRetryLayer::new())
        .layer(SignLayer::new(wrong))
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let response = client.oneshot(form_post(&server)).await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let err = response.janrain_json().await.unwrap_err();
    assert_eq!(err.janrain().map(|e| e.code), Some(431));
    assert_eq!(server.seen().len(), 1, "not retried");
}
