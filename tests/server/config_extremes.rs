//! Extreme but legal configurations of the verification layer: the layer answers, it never
//! panics.

use janrain_auth_test_support as support;

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::permissions::Feature;
use janrain_auth::scheme::{ManualClock, SigningKey, StringToSign, signature_header};
use janrain_auth::server::replay::MemoryReplayGuard;
use janrain_auth::server::{MemoryStore, VerifyLayer, VerifyLayerBuilder};
use support::redis_servers::{DeleteOnDrop, standalone_url};
use tower::{Layer, ServiceExt};

const NOW: &str = "2026-03-01 12:00:00";

fn builder(clock: &ManualClock) -> VerifyLayerBuilder {
    let store = MemoryStore::new().with(
        ApiClient::new(
            ClientId::new("reader").unwrap(),
            ClientSecret::new("reader-secret").unwrap(),
        )
        .with_feature(Feature::DirectReadAccess),
    );
    VerifyLayer::builder(store).clock(clock.clone())
}

/// A signed `/entity.find` dated `date`, through `layer`: the status and the body.
async fn call(layer: &VerifyLayer, date: &str) -> (u16, String) {
    let params = [("type_name", "user")];
    let sig =
        SigningKey::new("reader-secret").sign(&StringToSign::new("/entity.find", date, &params));
    let request = Request::post("/entity.find")
        .header("date", date)
        .header(
            "authorization",
            signature_header(&ClientId::new("reader").unwrap(), &sig),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(b"type_name=user")))
        .unwrap();
    let inner = tower::service_fn(|_req: Request<janrain_auth::server::VerifiedBody>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
    });
    let response = layer.layer(inner).oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// "No date window" (`Duration::MAX` both ways) with a replay guard: a request is accepted
/// once, refused as a replay after, and the guard keeps it (it can never expire).
#[tokio::test]
async fn an_unbounded_date_window_with_a_replay_guard() {
    let clock = ManualClock::at(NOW.parse().unwrap());
    let guard = std::sync::Arc::new(MemoryReplayGuard::builder().clock(clock.clone()).build());
    let layer = builder(&clock)
        .date_window(Duration::MAX, Duration::MAX)
        .replay_guard(guard.clone())
        .build();
    for date in [
        "2026-03-01 12:00:00",
        "0000-01-01 00:00:00",
        "9999-12-31 23:59:59",
    ] {
        let first = call(&layer, date).await;
        assert_eq!(first, (200, "ok".to_owned()), "{date}");
        let again = call(&layer, date).await;
        assert_eq!(again.0, 401, "{date}: {}", again.1);
        assert!(again.1.contains("\"code\":434"), "{}", again.1);
    }
    assert_eq!(guard.len(), 3);
}

/// Zero limits: a zero date window accepts only the current second, a zero body limit refuses
/// any form body, a zero parameter limit any parameter, and a zero body timeout still lets a
/// body that is already here through.
#[tokio::test]
async fn zero_limits() {
    let clock = ManualClock::at(NOW.parse().unwrap());
    let layer = builder(&clock)
        .date_window(Duration::ZERO, Duration::ZERO)
        .body_timeout(Duration::ZERO)
        .build();
    assert_eq!(call(&layer, NOW).await.0, 200);
    for date in ["2026-03-01 11:59:59", "2026-03-01 12:00:01"] {
        let (status, body) = call(&layer, date).await;
        assert_eq!(status, 401, "{date}");
        assert!(body.contains("\"code\":433"), "{body}");
    }
    let (status, body) = call(&builder(&clock).body_limit(0).build(), NOW).await;
    assert_eq!(status, 413, "{body}");
    let (status, body) = call(&builder(&clock).max_params(0).build(), NOW).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"code\":200"), "{body}");
}

/// The same with the Redis guard, on a Redis this test binary starts (or `REDIS_URL`): the
/// entry's lifetime stays within what Redis's `PX` accepts, so the request is accepted once and
/// refused as a replay, not refused with 503.
#[tokio::test]
async fn an_unbounded_date_window_with_the_redis_guard() {
    let url = standalone_url();
    let prefix = format!(
        "janrain-auth-test:config-extremes:{}:{}:",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let _cleanup = DeleteOnDrop(prefix.clone());
    let guard = janrain_auth::server::replay::RedisReplayGuard::builder(url.as_str())
        .key_prefix(prefix)
        .build()
        .unwrap();
    guard
        .ping()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} does not answer: {e}"));
    let clock = ManualClock::at(NOW.parse().unwrap());
    let layer = builder(&clock)
        .date_window(Duration::MAX, Duration::MAX)
        .replay_guard(guard)
        .build();
    let (status, body) = call(&layer, "2026-03-01 11:00:00").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&layer, "2026-03-01 11:00:00").await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"code\":434"), "{body}");
}

/// A body that holds more than its `Content-Length` says (a body type no HTTP server would
/// make, but any tower service can): what is checked and handed on is what the body holds,
/// never what the header claims.
#[tokio::test]
async fn a_body_is_what_it_holds_whatever_its_content_length_says() {
    let clock = ManualClock::at(NOW.parse().unwrap());
    let layer = builder(&clock).build();
    let basic = janrain_auth::scheme::basic_header(
        &ClientId::new("reader").unwrap(),
        &ClientSecret::new("reader-secret").unwrap(),
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let record = seen.clone();
    let inner = tower::service_fn(move |req: Request<janrain_auth::server::VerifiedBody>| {
        let record = record.clone();
        async move {
            let body = req.into_body().collect().await.unwrap().to_bytes();
            *record.lock().unwrap() = Some(body);
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
        }
    });
    let service = layer.layer(inner);
    // Basic, a JSON body of 13 bytes, "Content-Length: 0": the handler gets the 13 bytes.
    let request = Request::post("/entity.find?type_name=user")
        .header("authorization", basic.clone())
        .header("content-type", "application/json")
        .header("content-length", "0")
        .body(Full::new(Bytes::from_static(br#"{"uuid":"x"}"#)))
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        seen.lock().unwrap().take().unwrap(),
        &br#"{"uuid":"x"}"#[..]
    );
    // janrain-signed: the body must be empty, and it is not, whatever the header says.
    let params = [("type_name", "user")];
    let sig =
        SigningKey::new("reader-secret").sign(&StringToSign::new("/entity.find", NOW, &params));
    let request = Request::post("/entity.find?type_name=user")
        .header("date", NOW)
        .header(
            "authorization",
            signature_header(&ClientId::new("reader").unwrap(), &sig),
        )
        .header("content-type", "application/json")
        .header("content-length", "0")
        .body(Full::new(Bytes::from_static(br#"{"uuid":"x"}"#)))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 415);
    assert!(seen.lock().unwrap().is_none(), "the handler ran");
}
