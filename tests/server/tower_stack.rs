//! The layer in the stacks axum apps run: tower-http layers around and inside it in one
//! `ServiceBuilder`, `route_layer`, the three ways to mount the verifier (`.layer`,
//! `middleware::from_fn`, tower-http's `AsyncRequireAuthorizationLayer`) giving the same
//! answers, and CORS preflights. All over real HTTP.

use janrain_auth_test_support as support;

use std::io::Write;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::post;
use flate2::Compression;
use flate2::write::GzEncoder;
use janrain_auth::params::encode_urlencoded;
use janrain_auth::server::{AuthenticatedClient, VerifiedParams, VerifyLayer};
use serde_json::{Value, json};
use support::{NOW, READER, authorization, builder, clock, serve_app};
use tower::ServiceBuilder;
use tower_http::auth::AsyncRequireAuthorizationLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

const FORM: &str = "application/x-www-form-urlencoded";

/// A handler that echoes the client, the verified parameters, and whether the
/// `Authorization` header reached it marked sensitive.
async fn echo(
    client: AuthenticatedClient,
    params: VerifiedParams,
    headers: HeaderMap,
) -> axum::Json<Value> {
    let pairs: Vec<(&str, &str)> = params.iter().collect();
    axum::Json(json!({
        "stat": "ok",
        "client_id": client.client_id().as_str(),
        "params": pairs,
        "sensitive": headers.get(header::AUTHORIZATION).map(|v| v.is_sensitive()),
    }))
}

fn api() -> Router {
    Router::new()
        .route("/entity.find", post(echo))
        .route("/entity.update", post(echo))
}

fn find_params() -> Vec<(&'static str, &'static str)> {
    vec![("type_name", "user"), ("filter", "email = 'a@b.c'")]
}

/// A signed form POST of `/entity.find` by the reader.
fn signed(http: &reqwest::Client, base: &str) -> reqwest::RequestBuilder {
    let params = find_params();
    http.post(format!("{base}/entity.find"))
        .header("Date", NOW)
        .header(
            "Authorization",
            authorization(READER.0, READER.1, "/entity.find", NOW, &params),
        )
        .header("Content-Type", FORM)
        .body(encode_urlencoded(&params))
}

/// tower-http layers outside and inside the verifier in one `ServiceBuilder`, and a gzip form
/// decompressed outside it and verified on the decompressed parameters.
#[tokio::test]
async fn composes_with_tower_http_in_one_service_builder() {
    let stack = ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
        ]))
        .layer(TraceLayer::new_for_http())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(5),
        ))
        .layer(RequestDecompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(1 << 20))
        .layer(builder(&clock()).build())
        .layer(RequestBodyLimitLayer::new(1 << 16))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(5),
        ));
    let base = serve_app(api().layer(stack)).await;
    let http = reqwest::Client::new();

    let got = signed(&http, &base).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let body: Value = serde_json::from_slice(&got.bytes().await.unwrap()).unwrap();
    assert_eq!(body["client_id"], READER.0);
    assert_eq!(
        body["params"],
        json!([["type_name", "user"], ["filter", "email = 'a@b.c'"]])
    );
    // The layer marks the header sensitive before anything inside it runs.
    assert_eq!(body["sensitive"], true);

    // The same form, gzip-compressed: decompressed outside, verified inside.
    let params = find_params();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(encode_urlencoded(&params).as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    let got = http
        .post(format!("{base}/entity.find"))
        .header("Date", NOW)
        .header(
            "Authorization",
            authorization(READER.0, READER.1, "/entity.find", NOW, &params),
        )
        .header("Content-Type", FORM)
        .header("Content-Encoding", "gzip")
        .body(compressed)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let body: Value = serde_json::from_slice(&got.bytes().await.unwrap()).unwrap();
    assert_eq!(body["params"][1][1], "email = 'a@b.c'");

    // A wrong signature through the whole stack: the Janrain refusal, untouched.
    let got = http
        .post(format!("{base}/entity.find"))
        .header("Date", NOW)
        .header(
            "Authorization",
            authorization(READER.0, "wrong", "/entity.find", NOW, &params),
        )
        .header("Content-Type", FORM)
        .body(encode_urlencoded(&params))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 401);
    let body: Value = serde_json::from_slice(&got.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], 431);
}

/// `route_layer` in a `ServiceBuilder` too.
#[tokio::test]
async fn works_as_a_route_layer_with_tower_http() {
    let app = api()
        .route_layer(
            ServiceBuilder::new()
                .layer(RequestBodyLimitLayer::new(1 << 20))
                .layer(builder(&clock()).build()),
        )
        .route("/health", axum::routing::get(|| async { "ok" }));
    let base = serve_app(app).await;
    let http = reqwest::Client::new();
    assert_eq!(signed(&http, &base).send().await.unwrap().status(), 200);
    // Routes outside the route layer are not authenticated.
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// The three ways to mount the verifier.
fn mounted(way: usize) -> Router {
    let verify: VerifyLayer = builder(&clock()).realm("example").build();
    match way {
        0 => api().layer(verify),
        1 => api().layer(middleware::from_fn(move |request: Request, next: Next| {
            let verify = verify.clone();
            async move {
                match verify.verify(request).await {
                    Ok(request) => next.run(request).await,
                    Err(rejection) => rejection.into_response(),
                }
            }
        })),
        _ => api().layer(AsyncRequireAuthorizationLayer::new(verify)),
    }
}

/// Status, Janrain code and the headers that matter, minus what differs per answer.
async fn answer(request: reqwest::RequestBuilder) -> (u16, Option<u64>, Vec<String>, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenges: Vec<String> = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(response.headers().contains_key(header::DATE));
    let body: Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, body["code"].as_u64(), challenges, content_type)
}

#[tokio::test]
async fn layer_from_fn_and_tower_http_authorizer_answer_alike() {
    let bases = [
        serve_app(mounted(0)).await,
        serve_app(mounted(1)).await,
        serve_app(mounted(2)).await,
    ];
    let http = reqwest::Client::new();
    type MakeRequest<'a> = Box<dyn Fn(&str) -> reqwest::RequestBuilder + 'a>;
    let requests: Vec<MakeRequest<'_>> = vec![
        Box::new(|b| signed(&http, b)),
        Box::new(|b| http.post(format!("{b}/entity.find"))),
        Box::new(|b| {
            signed(&http, b).header(
                "Authorization",
                "Signature reader_client:AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            )
        }),
        Box::new(|b| {
            http.post(format!("{b}/entity.find"))
                .basic_auth(READER.0, Some("wrong"))
        }),
        Box::new(|b| {
            http.post(format!("{b}/entity.update"))
                .basic_auth(READER.0, Some(READER.1))
        }),
        Box::new(|b| {
            http.post(format!("{b}/entity.find"))
                .header("Authorization", "Bearer x")
        }),
        Box::new(|b| signed(&http, b).header("Date", "yesterday")),
        Box::new(|b| signed(&http, b).header("Content-Type", "application/x-www-form-urlencodedX")),
        Box::new(|b| http.post(format!("{b}/nothing.here"))),
    ];
    for (i, request) in requests.iter().enumerate() {
        let layer = answer(request(&bases[0])).await;
        for (way, base) in bases.iter().enumerate().skip(1) {
            assert_eq!(answer(request(base)).await, layer, "request {i}, way {way}");
        }
        if layer.0 == 401 {
            assert!(
                layer.2.iter().all(|c| c.contains("realm=\"example\"")),
                "{layer:?}"
            );
        }
    }
}

/// A CORS preflight carries no credentials: the layer passes it on, and `CorsLayer` answers
/// it wherever it sits.
#[tokio::test]
async fn cors_preflights_pass_through() {
    let cors = || {
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods(Any)
            .allow_headers(Any)
    };
    let inside = api().layer(
        ServiceBuilder::new()
            .layer(builder(&clock()).build())
            .layer(cors()),
    );
    let outside = api().layer(
        ServiceBuilder::new()
            .layer(cors())
            .layer(builder(&clock()).build()),
    );
    let http = reqwest::Client::new();
    for app in [inside, outside] {
        let base = serve_app(app).await;
        for path in ["/entity.find", "/oauth/auth_native_traditional"] {
            let preflight = http
                .request(reqwest::Method::OPTIONS, format!("{base}{path}"))
                .header("Origin", "https://login.example.com")
                .header("Access-Control-Request-Method", "POST")
                .send()
                .await
                .unwrap();
            assert!(
                preflight.status().is_success(),
                "{path}: {}",
                preflight.status()
            );
            assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
        }
        // A real request still needs credentials.
        let plain = http
            .post(format!("{base}/entity.find"))
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 401);
    }
}
