//! The reqwest middleware against a real axum server behind the crate's `VerifyLayer`, over
//! real HTTP on 127.0.0.1.

use janrain_auth_test_support::client as common_client;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common_client::{ServerConfig, api_client, start, vector_params, vectors};
use janrain_auth::client::{
    AuthMode, ClockSkewRetry, JanrainResponseExt, JanrainSigner, RequestSigner, SignError,
    UnlistedHost, UseClient,
};
use janrain_auth::scheme::{Datetime, ManualClock};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::Value;

fn with_signer(signer: RequestSigner) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(JanrainSigner::new(signer))
        .build()
}

/// The signer with the clock-skew retry outside it, as `JanrainClient` chains them.
fn with_skew_retry(signer: RequestSigner) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(ClockSkewRetry::new())
        .with(JanrainSigner::new(signer))
        .build()
}

fn at(text: &str) -> Datetime {
    text.parse()
        .or_else(|_| {
            let time = httpdate::parse_http_date(text).map_err(|_| ())?;
            Datetime::from_system_time(time).map_err(|_| ())
        })
        .unwrap()
}

/// The parameters the server echoed.
fn echoed(body: &Value) -> Vec<(String, String)> {
    serde_json::from_value(body["params"].clone()).unwrap()
}

/// Every vector's parameters, sent as a real form body and as a real query string: the
/// server decodes them and verifies the signature, the parameters arrive intact, and for the
/// canonical vectors the `Authorization` and `Date` on the wire are the vector's, byte for byte.
#[tokio::test]
async fn every_vector_round_trips_as_form_and_query() {
    for v in vectors() {
        let name = v["name"].as_str().unwrap();
        let id = v["client_id"].as_str().unwrap();
        let secret = v["secret"].as_str().unwrap();
        let datetime = v["datetime"].as_str().unwrap();
        let endpoint = v["endpoint"].as_str().unwrap();
        let params = vector_params(&v);
        // Vector 2 signs an RFC 1123 date, which the client never sends: same instant instead.
        let exact = v["variant"] == "canonical" && datetime.parse::<Datetime>().is_ok();

        let clock = ManualClock::at(at(datetime));
        let server = start(ServerConfig::new(
            vec![api_client(id, secret)],
            clock.clone(),
        ))
        .await;
        let signer = RequestSigner::builder(api_client(id, secret))
            .base_url(server.url("/"))
            .clock(clock.clone())
            .build()
            .unwrap();
        let client = with_signer(signer);

        for how in ["form", "query"] {
            server.clear();
            let url = server.url(endpoint);
            let request = match how {
                "form" => client.post(&url).form(&params),
                _ => client.get(&url).query(&params),
            };
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{name} {how}");
            let body: Value = response.janrain_json().await.unwrap();
            assert_eq!(body["stat"], "ok", "{name} {how}: {body}");
            assert_eq!(body["client_id"], id, "{name} {how}");
            assert_eq!(
                echoed(&body),
                params,
                "{name} {how}: parameters arrive intact"
            );
            let seen = server.seen();
            assert_eq!(seen.len(), 1, "{name} {how}");
            let date = at(datetime).to_string();
            assert_eq!(seen[0].date.as_deref(), Some(date.as_str()), "{name} {how}");
            if exact {
                assert_eq!(
                    seen[0].authorization.as_deref(),
                    v["authorization"].as_str(),
                    "{name} {how}: the header on the wire is the vector's"
                );
            }
        }
    }
}

#[tokio::test]
async fn basic_mode_sends_the_documented_header() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    let server = start(ServerConfig::new(
        vec![api_client("abcdefg", "hijklmnop")],
        clock.clone(),
    ))
    .await;
    let signer = RequestSigner::builder(api_client("abcdefg", "hijklmnop"))
        .mode(AuthMode::Basic)
        .base_url(server.url(""))
        .build()
        .unwrap();
    let response = with_signer(signer)
        .post(server.url("/entity.count"))
        .form(&[("type_name", "user")])
        .send()
        .await
        .unwrap();
    let body = response.janrain_json().await.unwrap();
    assert_eq!(body["client_id"], "abcdefg");
    let seen = server.seen();
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Basic YWJjZGVmZzpoaWprbG1ub3A=")
    );
    assert_eq!(seen[0].date, None, "Basic sets no Date");
}

#[tokio::test]
async fn per_request_client_choice() {
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
    let client = with_signer(signer);
    let who = |builder: reqwest_middleware::RequestBuilder| async move {
        let body = builder.send().await.unwrap().janrain_json().await.unwrap();
        body["client_id"].as_str().unwrap().to_owned()
    };
    let url = server.url("/entity.find");
    assert_eq!(
        who(client.post(&url).form(&[("a", "1")])).await,
        "mainclient"
    );
    let chosen = client
        .post(&url)
        .form(&[("a", "1")])
        .with_extension(UseClient(other.clone()));
    assert_eq!(who(chosen).await, "otherclient");
    assert_eq!(
        who(client.get(&url).query(&[("a", "1")])).await,
        "mainclient"
    );
}

/// The API under a base path: the client signs the path after it, the server (nested) verifies
/// the path it sees, and a request outside the base path is refused before it is sent.
#[tokio::test]
async fn base_path_prefix_is_removed() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    let mut config = ServerConfig::new(vec![api_client("c", "s")], clock.clone());
    config.prefix = Some("/capture");
    let server = start(config).await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(server.url("/capture/"))
        .clock(clock)
        .build()
        .unwrap();
    assert_eq!(signer.path_prefix(), Some("/capture"));
    let client = with_signer(signer);
    let body = client
        .post(server.url("/capture/entity.find"))
        .form(&[("type_name", "user")])
        .send()
        .await
        .unwrap()
        .janrain_json()
        .await
        .unwrap();
    assert_eq!(body["path"], "/entity.find");
    let err = client
        .post(server.url("/captured/entity.find"))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("outside the base path /capture"),
        "{err}"
    );
    assert_eq!(server.seen().len(), 1);
}

/// A server whose clock runs ten minutes behind refuses the first request (433) and says its
/// time in the response `Date`; the signer learns the offset, the retry middleware outside it
/// sends the request once more, re-signed, and the next request succeeds the first time. Both
/// with HTTP 401 refusals and Janrain's HTTP 200.
#[tokio::test]
async fn clock_skew_is_learned_and_retried_once() {
    for janrain_status in [false, true] {
        let client_clock = ManualClock::at(at("2021-03-04 05:06:07"));
        let server_clock = ManualClock::at(at("2021-03-04 04:56:07"));
        let mut config = ServerConfig::new(vec![api_client("c", "s")], server_clock.clone());
        config.janrain_status = janrain_status;
        let server = start(config).await;
        let signer = RequestSigner::builder(api_client("c", "s"))
            .base_url(server.url("/"))
            .clock(client_clock.clone())
            .build()
            .unwrap();
        let middleware = JanrainSigner::new(signer);
        let client = ClientBuilder::new(reqwest::Client::new())
            .with(ClockSkewRetry::new())
            .with(middleware.clone())
            .build();

        let url = server.url("/entity.find");
        let response = client
            .post(&url)
            .form(&[("type_name", "user")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.janrain_json().await.unwrap()["stat"], "ok");
        assert_eq!(middleware.signer().clock_offset(), -600);
        let seen = server.seen();
        assert_eq!(seen.len(), 2, "refused once, then accepted");
        assert_eq!(seen[0].status, if janrain_status { 200 } else { 401 });
        assert_eq!(seen[0].date.as_deref(), Some("2021-03-04 05:06:07"));
        assert_eq!(seen[1].status, 200);
        assert_eq!(seen[1].date.as_deref(), Some("2021-03-04 04:56:07"));
        assert_ne!(
            seen[0].authorization, seen[1].authorization,
            "re-signed for the new Date"
        );

        client_clock.advance(30);
        server_clock.advance(30);
        let response = client
            .get(&url)
            .query(&[("type_name", "user")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.janrain_json().await.unwrap()["stat"], "ok");
        let seen = server.seen();
        assert_eq!(seen.len(), 3, "accepted the first time");
        assert_eq!(seen[2].date.as_deref(), Some("2021-03-04 04:56:37"));
    }
}

/// Refusals that are not about the date are neither retried nor swallowed: the caller reads
/// the server's envelope, with its status, headers and URL.
#[tokio::test]
async fn other_refusals_reach_the_caller_intact() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    for janrain_status in [false, true] {
        let mut config = ServerConfig::new(vec![api_client("c", "right")], clock.clone());
        config.janrain_status = janrain_status;
        let server = start(config).await;
        let signer = RequestSigner::builder(api_client("c", "wrong"))
            .base_url(server.url("/"))
            .clock(clock.clone())
            .build()
            .unwrap();
        let url = server.url("/entity.find?x=1");
        let response = with_skew_retry(signer).post(&url).send().await.unwrap();
        assert_eq!(response.url().as_str(), url);
        assert_eq!(response.status(), if janrain_status { 200 } else { 401 });
        // The rebuilt response keeps the server's headers.
        assert_eq!(response.headers()["content-type"], "application/json");
        assert!(response.headers().contains_key("date"));
        if !janrain_status {
            assert!(response.headers().contains_key("www-authenticate"));
        }
        let err = response.janrain_json().await.unwrap_err();
        assert_eq!(err.janrain().map(|e| e.code), Some(431), "{err}");
        assert_eq!(server.seen().len(), 1, "not retried");
    }
}

/// With skew learning off, a date refusal reaches the caller and nothing is learned.
#[tokio::test]
async fn skew_learning_can_be_turned_off() {
    let server = start(ServerConfig::new(
        vec![api_client("c", "s")],
        ManualClock::at(at("2021-03-04 04:56:07")),
    ))
    .await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(server.url("/"))
        .clock(ManualClock::at(at("2021-03-04 05:06:07")))
        .learn_clock_skew(false)
        .build()
        .unwrap();
    let response = with_skew_retry(signer.clone())
        .post(server.url("/entity.find"))
        .send()
        .await
        .unwrap();
    let err = response.janrain_json().await.unwrap_err();
    assert_eq!(err.janrain().map(|e| e.code), Some(433));
    assert_eq!(signer.clock_offset(), 0);
    assert_eq!(server.seen().len(), 1);
}

/// A server ten minutes behind, refusing stale dates with HTTP 401, and a signer whose clock
/// says `2021-03-04 05:06:07`.
async fn ten_minutes_behind() -> (common_client::TestServer, RequestSigner) {
    let server = start(ServerConfig::new(
        vec![api_client("c", "s")],
        ManualClock::at(at("2021-03-04 04:56:07")),
    ))
    .await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(server.url("/"))
        .clock(ManualClock::at(at("2021-03-04 05:06:07")))
        .build()
        .unwrap();
    (server, signer)
}

/// The signer on its own only signs: it learns the server's clock from the refusal, hands the
/// refusal on, and sends nothing twice; the next request carries the server's time.
#[tokio::test]
async fn the_signer_alone_learns_the_clock_but_never_retries() {
    let (server, signer) = ten_minutes_behind().await;
    let client = with_signer(signer.clone());
    let url = server.url("/entity.find");
    let response = client.post(&url).form(&[("a", "1")]).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let err = response.janrain_json().await.unwrap_err();
    assert_eq!(err.janrain().map(|e| e.code), Some(433));
    assert_eq!(signer.clock_offset(), -600);
    assert_eq!(server.seen().len(), 1, "not retried");

    let response = client.post(&url).form(&[("a", "1")]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let seen = server.seen();
    assert_eq!(seen[1].date.as_deref(), Some("2021-03-04 04:56:07"));
}

/// Reads a streaming body into memory, so that the signer further in can sign it: the request
/// the retry middleware outside it sees cannot be copied.
struct BufferStreams;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for BufferStreams {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        if let Some(body) = request.body_mut().take() {
            let bytes = http_body_util::BodyExt::collect(body)
                .await
                .map_err(reqwest_middleware::Error::middleware)?
                .to_bytes();
            *request.body_mut() = Some(bytes.into());
        }
        next.run(request, extensions).await
    }
}

/// A request whose body cannot be copied is sent once, and the date refusal reaches the caller
/// as the server sent it; the signer still learns the clock.
#[tokio::test]
async fn a_request_that_cannot_be_copied_is_not_retried() {
    let (server, signer) = ten_minutes_behind().await;
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(ClockSkewRetry::new())
        .with(BufferStreams)
        .with(JanrainSigner::new(signer.clone()))
        .build();
    let stream = reqwest::Body::wrap(http_body_util::Full::new(Bytes::from_static(
        b"type_name=user",
    )));
    let url = server.url("/entity.find");
    let response = client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(stream)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.url().as_str(), url);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("www-authenticate"));
    let err = response.janrain_json().await.unwrap_err();
    assert_eq!(err.janrain().map(|e| e.code), Some(433), "{err}");
    assert_eq!(signer.clock_offset(), -600);
    assert_eq!(server.seen().len(), 1, "not retried");

    // The same request in memory is retried, re-signed with the server's time.
    server.clear();
    signer.set_clock_offset(0);
    let response = client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("type_name=user")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].date.as_deref(), Some("2021-03-04 04:56:07"));
}

/// Placed inside the signer, the retry middleware sees no signed attempt and does nothing;
/// neither does it retry what the signer did not janrain-sign (Basic, a user's call).
#[tokio::test]
async fn the_retry_only_acts_outside_a_signer_that_signed() {
    let (server, signer) = ten_minutes_behind().await;
    let url = server.url("/entity.find");
    let inside = ClientBuilder::new(reqwest::Client::new())
        .with(JanrainSigner::new(signer.clone()))
        .with(ClockSkewRetry::new())
        .build();
    let response = inside.post(&url).form(&[("a", "1")]).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(server.seen().len(), 1, "not retried");

    server.clear();
    signer.set_clock_offset(0);
    let basic = RequestSigner::builder(api_client("c", "s"))
        .base_url(server.url("/"))
        .mode(AuthMode::Basic)
        .build()
        .unwrap();
    let response = with_skew_retry(basic)
        .post(&url)
        .form(&[("a", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn streaming_bodies_are_refused_with_advice() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    let server = start(ServerConfig::new(vec![api_client("c", "s")], clock.clone())).await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(server.url("/"))
        .clock(clock)
        .build()
        .unwrap();
    let stream = reqwest::Body::wrap(http_body_util::Full::new(Bytes::from_static(
        b"type_name=user",
    )));
    let err = with_signer(signer)
        .post(server.url("/entity.find"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(stream)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_middleware());
    let text = err.to_string();
    assert!(text.contains("stream or multipart"), "{text}");
    assert!(
        text.contains(".form(&params)") && text.contains(".query(&params)"),
        "{text}"
    );
    let reqwest_middleware::Error::Middleware(inner) = err else {
        panic!()
    };
    assert!(matches!(
        inner.downcast_ref::<SignError>(),
        Some(SignError::BodyNotBuffered)
    ));
    assert!(server.seen().is_empty(), "nothing was sent");
}

/// Credentials go only to the base URL's host and port. `localhost` is the same machine but
/// not the configured host: refused (nothing sent), or sent without credentials when asked.
#[tokio::test]
async fn host_allowlist() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    let server = start(ServerConfig::new(vec![api_client("c", "s")], clock.clone())).await;
    let port = server.addr.port();
    let elsewhere = format!("http://localhost:{port}/entity.find");
    let builder = || {
        RequestSigner::builder(api_client("c", "s"))
            .base_url(server.url("/"))
            .clock(clock.clone())
    };

    let err = with_signer(builder().build().unwrap())
        .post(&elsewhere)
        .form(&[("a", "1")])
        .send()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("http://localhost:{port}")), "{text}");
    assert!(text.contains("refusing to send"), "{text}");
    assert!(server.seen().is_empty());

    let unsigned = builder()
        .unlisted_host(UnlistedHost::SendUnsigned)
        .build()
        .unwrap();
    let response = with_signer(unsigned)
        .post(&elsewhere)
        .form(&[("a", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        401,
        "the server refuses the unsigned request"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization, None);
    assert_eq!(seen[0].date, None);

    // Allowing the host explicitly works.
    server.clear();
    let allowed = builder()
        .allow_host(format!("localhost:{port}"))
        .build()
        .unwrap();
    let response = with_signer(allowed)
        .post(&elsewhere)
        .form(&[("a", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.janrain_json().await.unwrap()["stat"], "ok");

    // Another port of the same host is another destination.
    let other_port = format!(
        "http://127.0.0.1:{}/entity.find",
        port.wrapping_add(1).max(1)
    );
    let err = with_signer(builder().build().unwrap())
        .get(&other_port)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refusing to send"), "{err}");
}

#[tokio::test]
async fn existing_authorization_is_kept_or_overwritten() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    let server = start(ServerConfig::new(vec![api_client("c", "s")], clock.clone())).await;
    let url = server.url("/entity");
    let builder = || {
        RequestSigner::builder(api_client("c", "s"))
            .base_url(server.url("/"))
            .clock(clock.clone())
    };

    let kept = with_signer(builder().build().unwrap())
        .post(&url)
        .header("authorization", "OAuth user-token")
        .form(&[("type_name", "user")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        kept.status(),
        401,
        "the layer does not verify OAuth tokens here"
    );
    let seen = server.seen();
    assert_eq!(seen[0].authorization.as_deref(), Some("OAuth user-token"));
    assert_eq!(seen[0].date, None, "left exactly as it was");

    server.clear();
    let overwritten = with_signer(builder().overwrite_authorization(true).build().unwrap())
        .post(&url)
        .header("authorization", "OAuth user-token")
        .form(&[("type_name", "user")])
        .send()
        .await
        .unwrap();
    assert_eq!(overwritten.janrain_json().await.unwrap()["stat"], "ok");
    let seen = server.seen();
    assert!(
        seen[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Signature c:")
    );
}

/// A JSON body carries no parameters: the signer signs the query alone, and the server,
/// which cannot verify such a body, refuses it (415 `unsupported_body`) by default.
#[tokio::test]
async fn non_form_bodies_are_not_parameters() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    let server = start(ServerConfig::new(vec![api_client("c", "s")], clock.clone())).await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(server.url("/"))
        .clock(clock)
        .build()
        .unwrap();
    let body = with_signer(signer)
        .post(server.url("/entity.update?type_name=user"))
        .header("content-type", "application/json")
        .body(r#"{"a=b":"c"}"#)
        .send()
        .await
        .unwrap()
        .janrain_json()
        .await
        .unwrap_err();
    let janrain = body.janrain().expect("a Janrain error");
    assert_eq!(
        (janrain.code, janrain.error.as_str()),
        (233, "unsupported_body")
    );
}

/// The signer's Debug output and errors never show a secret.
#[test]
fn nothing_secret_in_debug() {
    let signer = RequestSigner::builder(api_client("c", "very-secret-value"))
        .base_url("https://myapp.janraincapture.com/capture")
        .build()
        .unwrap();
    let text = format!("{signer:?} {:?}", JanrainSigner::new(signer.clone()));
    assert!(!text.contains("very-secret-value"), "{text}");
    assert!(text.contains("\"c\""), "{text}");
    let _ = Duration::ZERO;
}

/// Sends every request twice, moving the client's clock a minute between the attempts: a
/// stand-in for a retry middleware.
struct TwiceWithClockMove(ManualClock);

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for TwiceWithClockMove {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let copy = request.try_clone().unwrap();
        let first = next.clone().run(request, extensions).await?;
        assert_eq!(first.status(), 200);
        self.0.advance(60);
        next.run(copy, extensions).await
    }
}

/// Inside a retry middleware, every attempt is signed afresh with its own `Date`; outside it,
/// the attempts repeat the first one's `Date` and signature (which a replay guard refuses).
#[tokio::test]
async fn inside_a_retry_middleware_each_attempt_is_signed_afresh() {
    let clock = ManualClock::at(at("2021-03-04 05:06:07"));
    let server = start(ServerConfig::new(vec![api_client("c", "s")], clock.clone())).await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(server.url("/"))
        .clock(clock.clone())
        .build()
        .unwrap();
    let url = server.url("/entity.find");

    let inside = ClientBuilder::new(reqwest::Client::new())
        .with(TwiceWithClockMove(clock.clone()))
        .with(JanrainSigner::new(signer.clone()))
        .build();
    inside.post(&url).form(&[("a", "1")]).send().await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].date.as_deref(), Some("2021-03-04 05:06:07"));
    assert_eq!(seen[1].date.as_deref(), Some("2021-03-04 05:07:07"));
    assert_ne!(seen[0].authorization, seen[1].authorization);

    server.clear();
    let outside = ClientBuilder::new(reqwest::Client::new())
        .with(JanrainSigner::new(signer))
        .with(TwiceWithClockMove(clock.clone()))
        .build();
    outside.post(&url).form(&[("a", "1")]).send().await.unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].date, seen[1].date);
    assert_eq!(seen[0].authorization, seen[1].authorization);
}
