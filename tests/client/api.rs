//! `JanrainClient` over real HTTP on 127.0.0.1 against an Identity Cloud look-alike: typed
//! calls, errors with every field, paging `entity.find`, and a server clock ten minutes off
//! that refuses stale requests without this crate's date codes.

use janrain_auth_test_support::client as common_client;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common_client::api_client;
use common_client::cloud::{Cloud, CloudConfig, StaleDate, start_cloud, users};
use futures_util::StreamExt;
use janrain_auth::client::{Error, JanrainClient, RequestSigner, SignError};
use janrain_auth::scheme::{Datetime, ManualClock, OffsetClock};
use reqwest_middleware::{ClientBuilder, Middleware, Next};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const T0: &str = "2021-03-04 05:06:07";

fn at(text: &str) -> Datetime {
    text.parse().unwrap()
}

fn client_for(cloud: &Cloud, clock: &ManualClock) -> JanrainClient {
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(cloud.url("/"))
        .clock(clock.clone())
        .build()
        .unwrap();
    JanrainClient::new(signer).unwrap()
}

/// A cloud whose clock is `offset` seconds off the client's `clock`.
async fn cloud_off(
    clock: &ManualClock,
    offset: i64,
    configure: impl FnOnce(&mut CloudConfig),
) -> Cloud {
    let mut config = CloudConfig::new(
        vec![api_client("c", "s")],
        OffsetClock::new(clock.clone(), offset),
    );
    configure(&mut config);
    start_cloud(config).await
}

#[derive(Serialize)]
struct CountParams<'a> {
    type_name: &'a str,
    filter: Option<&'a str>,
    show_total_count: bool,
}

#[derive(Deserialize, Debug, PartialEq)]
struct CountAnswer {
    total_count: u64,
}

/// A typed parameter struct goes out encoded by Janrain's rule (None left out, booleans as
/// `true`), signed (the verifier accepted it), and the answer comes back typed; with
/// `serde_json::Value` it comes back whole, without `stat`.
#[tokio::test]
async fn typed_params_and_typed_answer() {
    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, 0, |c| c.records = users(7)).await;
    let janrain = client_for(&cloud, &clock);

    let params = CountParams {
        type_name: "user",
        filter: None,
        show_total_count: true,
    };
    let answer: CountAnswer = janrain.call("entity.count", &params).await.unwrap();
    assert_eq!(answer, CountAnswer { total_count: 7 });
    let seen = cloud.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/entity.count");
    assert_eq!(
        seen[0].params,
        [("type_name", "user"), ("show_total_count", "true")].map(|(k, v)| (k.into(), v.into()))
    );
    assert_eq!(seen[0].date.as_deref(), Some(T0));

    // A leading slash names the same operation; Value takes the answer as it is, minus stat.
    let whole: Value = janrain.call("/entity.count", &params).await.unwrap();
    assert_eq!(whole, json!({"total_count": 7}));

    // Nested values travel as Python's JSON text and arrive as the same JSON.
    let update = json!({
        "type_name": "user",
        "uuid": "7d19",
        "value": {"givenName": "Zoë", "tags": ["a", "b"], "age": 30.5},
    });
    let answer: Value = janrain.call("entity.update", &update).await.unwrap();
    let sent: Vec<(String, String)> = serde_json::from_value(answer["params"].clone()).unwrap();
    assert_eq!(
        sent[2],
        (
            "value".to_owned(),
            r#"{"age": 30.5, "givenName": "Zo\u00eb", "tags": ["a", "b"]}"#.to_owned()
        )
    );
}

/// A `stat:error` answer is `Error::Janrain` at any status, with the code typed and every extra
/// field of the error object reachable.
#[tokio::test]
async fn janrain_errors_keep_every_field() {
    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, 0, |_| {}).await;
    let janrain = client_for(&cloud, &clock);

    // HTTP 200, code 200, argument_name.
    let err = janrain
        .call::<_, Value>("entity.update", &json!({"type_name": "user", "value": [1]}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(200), "{err}");
    assert_eq!(err.status(), Some(reqwest::StatusCode::OK));
    let janrain_error = err.janrain().unwrap();
    assert_eq!(janrain_error.error, "invalid_argument");
    assert_eq!(janrain_error.field("argument_name"), Some(&json!("value")));
    assert_eq!(
        janrain_error.request_id.as_deref(),
        Some("arg0000000000000")
    );
    assert!(err.to_string().contains("invalid_argument"), "{err}");

    // HTTP 400 (OAuth style), expected_value / supplied_value.
    let err = janrain
        .call::<_, Value>(
            "oauth/token",
            &json!({"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://evil.example/"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(420));
    assert_eq!(err.status(), Some(reqwest::StatusCode::BAD_REQUEST));
    let e = err.janrain().unwrap();
    assert_eq!(
        e.field("expected_value"),
        Some(&json!("https://app.example/callback"))
    );
    assert_eq!(
        e.field("supplied_value"),
        Some(&json!("https://evil.example/"))
    );
    // The whole object, written back, is the object received.
    let written: Value = serde_json::from_str(&e.to_json()).unwrap();
    assert_eq!(written["expected_value"], "https://app.example/callback");
    assert_eq!(written["stat"], "error");
    assert!(matches!(err, Error::Janrain { .. }));
}

/// Every other failure lands in the same type, in the variant that says what happened.
#[tokio::test]
async fn other_failures_in_one_error_type() {
    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, 0, |_| {}).await;
    let janrain = client_for(&cloud, &clock);

    // Not a Janrain answer.
    let err = janrain.call::<_, Value>("broken", &()).await.unwrap_err();
    match &err {
        Error::Status { status, body } => {
            assert_eq!(*status, 502);
            assert!(body.starts_with(b"<html>"));
        }
        other => panic!("{other:?}"),
    }
    // The answer does not fit the type.
    #[derive(Deserialize, Debug)]
    struct Wrong {
        #[allow(dead_code)]
        no_such_field: String,
    }
    let err = janrain
        .call::<_, Wrong>("entity.count", &json!({"type_name": "user"}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("no_such_field"), "{err}");
    // Parameters that are not a map.
    let err = janrain
        .call::<_, Value>("entity.count", &["type_name"])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Encode(_)), "{err:?}");
    // Operation names.
    for bad in [
        "",
        "/",
        "entity.find?x=1",
        "entity find",
        "a#b",
        "../admin",
        "a/./b",
    ] {
        let err = janrain.call::<_, Value>(bad, &()).await.unwrap_err();
        assert!(matches!(err, Error::Operation { .. }), "{bad:?}: {err:?}");
    }
    assert_eq!(cloud.seen().len(), 2, "nothing was sent for the bad calls");

    // A signing failure arrives as Error::Sign, not as an opaque middleware error.
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(cloud.url("/"))
        .path_prefix("/capture")
        .build()
        .unwrap();
    let err = JanrainClient::new(signer)
        .unwrap()
        .call::<_, Value>("entity.count", &())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Sign(SignError::PathOutsidePrefix { .. })),
        "{err:?}"
    );

    // Nothing listens: a transport error.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(format!("http://{closed}"))
        .build()
        .unwrap();
    let err = JanrainClient::new(signer)
        .unwrap()
        .call::<_, Value>("entity.count", &())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(err.code(), None);
    assert_eq!(err.status(), None);

    // A signer without a base URL makes no client.
    let signer = RequestSigner::builder(api_client("c", "s"))
        .allow_any_host()
        .build()
        .unwrap();
    assert!(JanrainClient::new(signer).is_err());
}

/// The server's clock runs ten minutes behind and it refuses the stale `Date` without this
/// crate's codes (a plain 401 with 402, or a 200 with 403): the first call is retried once,
/// signed with the server's time, and succeeds; the next call is signed right the first time.
#[tokio::test]
async fn ten_minutes_off_without_the_crate_codes() {
    for stale in [StaleDate::Unauthorized402, StaleDate::Ok403] {
        let clock = ManualClock::at(at(T0));
        let cloud = cloud_off(&clock, -600, |c| {
            c.stale = stale;
            c.records = users(3);
        })
        .await;
        let janrain = client_for(&cloud, &clock);
        let answer: CountAnswer = janrain
            .call("entity.count", &json!({"type_name": "user"}))
            .await
            .unwrap();
        assert_eq!(answer.total_count, 3, "{stale:?}");
        assert_eq!(janrain.signer().clock_offset(), -600, "{stale:?}");
        let seen = cloud.seen();
        assert_eq!(seen.len(), 2, "{stale:?}: refused once, then accepted");
        assert!(seen[0].stale);
        assert_eq!(seen[0].date.as_deref(), Some(T0));
        assert!(!seen[1].stale);
        assert_eq!(seen[1].date.as_deref(), Some("2021-03-04 04:56:07"));
        assert_eq!(seen[1].status, 200);

        clock.advance(30);
        let _: CountAnswer = janrain
            .call("entity.count", &json!({"type_name": "user"}))
            .await
            .unwrap();
        let seen = cloud.seen();
        assert_eq!(seen.len(), 3, "{stale:?}: accepted the first time");
        assert_eq!(seen[2].date.as_deref(), Some("2021-03-04 04:56:37"));
    }
}

/// The offset is learned from every answer, not only refusals: against a server ten minutes
/// off with a window wide enough to accept the client's clock, the first answer already moves
/// the clock, and the second request carries the server's time.
#[tokio::test]
async fn every_answer_teaches_the_clock() {
    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, -600, |c| {
        c.window = std::time::Duration::from_secs(3600)
    })
    .await;
    let janrain = client_for(&cloud, &clock);
    let query = json!({"type_name": "user"});
    let _: Value = janrain.call("entity.count", &query).await.unwrap();
    assert_eq!(janrain.signer().clock_offset(), -600);
    let _: Value = janrain.call("entity.count", &query).await.unwrap();
    let seen = cloud.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].date.as_deref(), Some(T0));
    assert_eq!(seen[1].date.as_deref(), Some("2021-03-04 04:56:07"));
}

/// An absurd `Date` (two days off) or a broken one teaches nothing; the refusal then reaches
/// the caller, not retried.
#[tokio::test]
async fn absurd_or_broken_dates_are_ignored() {
    let clock = ManualClock::at(at(T0));
    let two_days_ahead = httpdate::fmt_http_date(at("2021-03-06 05:06:07").to_system_time());
    for header in [
        two_days_ahead.as_str(),
        "yesterday at noon",
        "2021-03-04 04:56:07",
    ] {
        let cloud = cloud_off(&clock, -600, |c| c.date_header = Some(header.to_owned())).await;
        let janrain = client_for(&cloud, &clock);
        let err = janrain
            .call::<_, Value>("entity.count", &json!({"type_name": "user"}))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(402), "{header}: {err}");
        assert_eq!(janrain.signer().clock_offset(), 0, "{header}");
        assert_eq!(cloud.seen().len(), 1, "{header}: not retried");
    }
}

/// All three RFC 9110 date forms are understood.
#[test]
fn the_three_http_date_forms() {
    let clock = ManualClock::at(at("1994-11-06 08:59:49"));
    for form in [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ] {
        let signer = RequestSigner::builder(api_client("c", "s"))
            .base_url("http://127.0.0.1:1")
            .clock(clock.clone())
            .build()
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::DATE, form.parse().unwrap());
        assert_eq!(
            signer.observe_response(&headers),
            Some(at("1994-11-06 08:49:37")),
            "{form}"
        );
        assert_eq!(signer.clock_offset(), -612, "{form}");
        // A second of difference is the header's rounding, not a new offset.
        clock.advance(1);
        signer.observe_response(&headers);
        assert_eq!(signer.clock_offset(), -612, "{form}");
        clock.set(at("1994-11-06 08:59:49"));
    }
}

/// With learning off, nothing is learned and the refusal reaches the caller.
#[tokio::test]
async fn skew_learning_off() {
    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, -600, |_| {}).await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(cloud.url(""))
        .clock(clock.clone())
        .learn_clock_skew(false)
        .build()
        .unwrap();
    let janrain = JanrainClient::new(signer).unwrap();
    let err = janrain
        .call::<_, Value>("entity.count", &json!({"type_name": "user"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(402));
    assert_eq!(err.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    assert_eq!(janrain.signer().clock_offset(), 0);
    assert_eq!(cloud.seen().len(), 1);
}

#[derive(Deserialize, Debug)]
struct User {
    id: i64,
    email: String,
}

/// `find_all` pages on id with the user's filter kept, sorts on id, uses max_results as the
/// page size, adds `id` to the attributes, and stops on the short page.
#[tokio::test]
async fn find_all_pages_by_id() {
    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, 0, |c| c.records = users(23)).await;
    let janrain = client_for(&cloud, &clock);
    let params = json!({
        "type_name": "user",
        "filter": "group = 'a'",
        "attributes": ["email"],
        "max_results": 5,
    });
    let users: Vec<User> = janrain
        .find_all(&params)
        .map(Result::unwrap)
        .collect()
        .await;
    // Group a: n = 1, 3, ..., 23, ids 3n.
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    assert_eq!(ids, (1..=23).step_by(2).map(|n| n * 3).collect::<Vec<_>>());
    assert_eq!(users[0].email, "user1@example.com");

    let seen = cloud.seen();
    assert_eq!(seen.len(), 3, "12 records in pages of 5: 5, 5, 2");
    let filters: Vec<&str> = seen
        .iter()
        .map(|s| {
            assert_eq!(s.path, "/entity.find");
            let p = |k: &str| {
                s.params
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(p("sort_on"), Some(r#"["id"]"#));
            assert_eq!(p("max_results"), Some("5"));
            assert_eq!(p("type_name"), Some("user"));
            assert_eq!(p("attributes"), Some(r#"["email", "id"]"#));
            p("filter").unwrap()
        })
        .collect();
    assert_eq!(
        filters,
        [
            "group = 'a'",
            "(group = 'a') and id > 27",
            "(group = 'a') and id > 57"
        ]
    );
}

/// Without a filter, pages ask for `id > N` alone; when the records fill the last page exactly,
/// one more (empty) page ends the stream. `Records::next` works without StreamExt.
#[tokio::test]
async fn find_all_without_filter_and_an_exact_last_page() {
    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, 0, |c| c.records = users(6)).await;
    let janrain = client_for(&cloud, &clock);
    let mut records = janrain.find_all::<_, Value>(&json!({"type_name": "user", "max_results": 3}));
    let mut ids = Vec::new();
    while let Some(record) = records.next().await {
        ids.push(record.unwrap()["id"].as_i64().unwrap());
    }
    assert_eq!(ids, [3, 6, 9, 12, 15, 18]);
    let filters: Vec<Option<String>> = cloud
        .seen()
        .iter()
        .map(|s| {
            s.params
                .iter()
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(
        filters,
        [None, Some("id > 9".to_owned()), Some("id > 18".to_owned())]
    );
}

/// Misuse and server errors end the stream with one clear error.
#[tokio::test]
async fn find_all_errors() {
    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, 0, |c| c.records = users(4)).await;
    let janrain = client_for(&cloud, &clock);

    for params in [
        json!({"type_name": "user", "sort_on": ["-lastUpdated"]}),
        json!({"type_name": "user", "first_result": 10}),
        json!({"type_name": "user", "max_results": 0}),
    ] {
        let mut records = janrain.find_all::<_, Value>(&params);
        let err = records.next().await.unwrap().unwrap_err();
        assert!(matches!(err, Error::Paging(_)), "{params}: {err:?}");
        assert!(records.next().await.is_none());
    }
    assert!(cloud.seen().is_empty(), "refused before sending");

    // The server rejects the filter: the Janrain error, then the end.
    let mut records = janrain.find_all::<_, Value>(&json!({"type_name": "user", "filter": "x"}));
    let err = records.next().await.unwrap().unwrap_err();
    assert_eq!(
        err.janrain().unwrap().field("argument_name"),
        Some(&json!("filter"))
    );
    assert!(records.next().await.is_none());

    // A record that does not fit the type is an error; the stream goes on.
    #[derive(Deserialize, Debug)]
    struct Strict {
        #[allow(dead_code)]
        missing: String,
    }
    let results: Vec<Result<Strict, Error>> = janrain
        .find_all(&json!({"type_name": "user"}))
        .collect()
        .await;
    assert_eq!(results.len(), 4);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(Error::Decode { .. })))
    );
}

/// The user's own middleware wraps the signer: it sees every call, paging included, and every
/// attempt it makes is signed afresh.
#[tokio::test]
async fn user_middleware_applies() {
    struct Count(Arc<AtomicUsize>);

    #[async_trait::async_trait]
    impl Middleware for Count {
        async fn handle(
            &self,
            req: reqwest::Request,
            ext: &mut http::Extensions,
            next: Next<'_>,
        ) -> reqwest_middleware::Result<reqwest::Response> {
            assert!(
                req.headers().get("authorization").is_none(),
                "the signer is inside: requests are not signed yet"
            );
            self.0.fetch_add(1, Ordering::SeqCst);
            next.run(req, ext).await
        }
    }

    let clock = ManualClock::at(at(T0));
    let cloud = cloud_off(&clock, 0, |c| c.records = users(5)).await;
    let signer = RequestSigner::builder(api_client("c", "s"))
        .base_url(cloud.url("/"))
        .clock(clock.clone())
        .build()
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let builder = ClientBuilder::new(reqwest::Client::new()).with(Count(calls.clone()));
    let janrain = JanrainClient::from_builder(builder, signer).unwrap();
    let _: Value = janrain
        .call("entity.count", &json!({"type_name": "user"}))
        .await
        .unwrap();
    let found: Vec<Value> = janrain
        .find_all(&json!({"type_name": "user", "max_results": 2}))
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(found.len(), 5);
    assert_eq!(calls.load(Ordering::SeqCst), 4, "one count and three pages");
    assert!(cloud.seen().iter().all(|s| s.status == 200));
}

/// Debug output shows the client id and the base URL, never the secret.
#[test]
fn debug_hides_the_secret() {
    let signer = RequestSigner::builder(api_client("c", "very_secret_value"))
        .base_url("http://127.0.0.1:1/")
        .build()
        .unwrap();
    let janrain = JanrainClient::new(signer).unwrap();
    let text = format!("{janrain:?}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(!text.contains("very_secret_value"), "{text}");
}

/// The tower layer (and its buffering form) follows the server's clock from every answer too:
/// after one answer from a server ten minutes behind, the next request carries its time.
#[tokio::test]
async fn the_tower_layer_learns_from_answers() {
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use janrain_auth::client::SignLayer;
    use tower::{ServiceBuilder, ServiceExt};

    for buffering in [false, true] {
        let clock = ManualClock::at(at(T0));
        let cloud = cloud_off(&clock, -600, |c| {
            c.window = std::time::Duration::from_secs(3600);
        })
        .await;
        let signer = RequestSigner::builder(api_client("c", "s"))
            .base_url(cloud.url("/"))
            .clock(clock.clone())
            .build()
            .unwrap();
        let http = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let request = || {
            http::Request::post(cloud.url("/entity.count"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from_static(b"type_name=user")))
                .unwrap()
        };
        for _ in 0..2 {
            let response = if buffering {
                ServiceBuilder::new()
                    .layer(SignLayer::new(signer.clone()).buffering(1024))
                    .service(http.clone())
                    .oneshot(request())
                    .await
                    .unwrap()
            } else {
                ServiceBuilder::new()
                    .layer(SignLayer::new(signer.clone()))
                    .service(http.clone())
                    .oneshot(request())
                    .await
                    .unwrap()
            };
            assert_eq!(response.status(), 200);
        }
        assert_eq!(signer.clock_offset(), -600, "buffering={buffering}");
        let dates: Vec<Option<String>> = cloud.seen().into_iter().map(|s| s.date).collect();
        assert_eq!(
            dates,
            [Some(T0.to_owned()), Some("2021-03-04 04:56:07".to_owned())],
            "buffering={buffering}"
        );
    }
}
