//! The verification layer end to end: a real axum server on loopback, called with a real
//! reqwest client (and raw TCP where a client would not misbehave enough).

use janrain_auth_test_support as support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use janrain_auth::credentials::ClientId;
use janrain_auth::emulator::Emulator;
use janrain_auth::params::encode_urlencoded;
use janrain_auth::permissions::{Catalog, Feature, Features};
use janrain_auth::scheme::{
    Canonicalization, Datetime, SigningKey, StringToSign, signature_header,
};
use janrain_auth::server::VerifyLayerBuilder;
use reqwest::StatusCode;
use serde_json::Value;
use support::{NOW, assert_error, secret, send, serve_app as serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

tokio::task_local! {
    /// Whether the stores of this test answer one poll later (see `both_ways!`).
    static DEFERRED: bool;
}

/// The demo layer, with stores that answer at once or, in the `one_poll_later` run of each
/// test, one poll later (the waiting path every store across a network takes).
fn builder() -> VerifyLayerBuilder {
    if DEFERRED.try_with(|deferred| *deferred).unwrap_or(false) {
        support::deferred_builder(&support::clock())
    } else {
        support::builder(&support::clock())
    }
}

/// Each test twice: with stores that answer at once, and with stores that answer one poll
/// later.
macro_rules! both_ways {
    ($($test:ident),* $(,)?) => {
        mod at_once {
            $(#[tokio::test]
            async fn $test() {
                super::DEFERRED.scope(false, super::$test()).await
            })*
        }
        mod one_poll_later {
            $(#[tokio::test]
            async fn $test() {
                super::DEFERRED.scope(true, super::$test()).await
            })*
        }
    };
}

both_ways!(
    methods_are_enforced_when_asked,
    every_auth_method_is_accepted_where_the_operation_allows_it,
    the_handler_reads_the_body_unchanged,
    credential_failures,
    auth_method_not_accepted,
    signature_mismatch_for_any_changed_part,
    date_failures_are_distinct,
    date_refusals_carry_the_server_clock,
    the_permission_matrix_is_enforced,
    login_client_operations,
    rotation_accepts_every_secret,
    body_limits,
    janrain_status_answers_errors_with_200,
    unknown_paths_are_denied_by_default,
    nested_routers_and_route_layer,
    sample_code_variants_only_when_accepted,
    json_bodies_are_refused_unless_allowed_and_then_untouched,
);

async fn server_with(builder: VerifyLayerBuilder) -> String {
    serve(Emulator::builder().layer(builder.build()).router()).await
}

async fn server() -> String {
    server_with(builder()).await
}

/// A janrain-signed request, built by hand so that tests can break any part of it.
struct Signed<'a> {
    client_id: &'a str,
    secret: &'a str,
    endpoint: &'a str,
    date: &'a str,
    params: Vec<(&'a str, &'a str)>,
    get: bool,
}

impl<'a> Signed<'a> {
    fn new(client_id: &'a str, endpoint: &'a str, params: &[(&'a str, &'a str)]) -> Self {
        Signed {
            client_id,
            secret: secret(client_id),
            endpoint,
            date: NOW,
            params: params.to_vec(),
            get: false,
        }
    }

    fn authorization(&self, form: Canonicalization) -> String {
        let sts = StringToSign::new(self.endpoint, self.date, &self.params).with_form(form);
        let sig = SigningKey::new(self.secret).sign(&sts);
        signature_header(&ClientId::new(self.client_id).unwrap(), &sig)
            .to_str()
            .unwrap()
            .to_owned()
    }

    fn request(&self, base: &str, path: &str, form: Canonicalization) -> reqwest::RequestBuilder {
        request(base, path, &self.params, self.get)
            .header("Date", self.date)
            .header("Authorization", self.authorization(form))
    }

    async fn send(&self, base: &str) -> (u16, Value) {
        send(self.request(base, self.endpoint, Canonicalization::CANONICAL)).await
    }
}

fn request(base: &str, path: &str, params: &[(&str, &str)], get: bool) -> reqwest::RequestBuilder {
    let client = reqwest::Client::new();
    let encoded = encode_urlencoded(params);
    if get {
        client.get(format!("{base}{path}?{encoded}"))
    } else {
        client
            .post(format!("{base}{path}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(encoded)
    }
}

fn basic(id: &str, secret: &str) -> String {
    janrain_auth::scheme::basic_header(
        &ClientId::new(id).unwrap(),
        &janrain_auth::credentials::ClientSecret::new(secret).unwrap(),
    )
    .to_str()
    .unwrap()
    .to_owned()
}

#[track_caller]
fn assert_ok(got: &(u16, Value), client: Option<&str>, auth: &str) {
    support::assert_ok(got);
    let body = &got.1;
    assert_eq!(body["auth"], auth, "{body}");
    match client {
        Some(id) => assert_eq!(body["client_id"], id, "{body}"),
        None => assert!(body["client_id"].is_null(), "{body}"),
    }
}

async fn every_auth_method_is_accepted_where_the_operation_allows_it() {
    let base = server().await;
    let params = [("type_name", "user"), ("max_results", "10")];
    // janrain-signed, form body and query string.
    let post = Signed::new("reader_client", "/entity.find", &params);
    let got = post.send(&base).await;
    assert_ok(&got, Some("reader_client"), "signature");
    assert_eq!(got.1["operation"], "/entity.find");
    assert_eq!(got.1["params"]["type_name"], "user");
    let mut get = Signed::new("reader_client", "/entity.find", &params);
    get.get = true;
    assert_ok(&get.send(&base).await, Some("reader_client"), "signature");
    // Basic.
    let got = send(
        request(&base, "/entity.count", &[("type_name", "user")], false).header(
            "Authorization",
            basic("direct_client", secret("direct_client")),
        ),
    )
    .await;
    assert_ok(&got, Some("direct_client"), "basic");
    // Login client, without and with an access token.
    let got = send(request(
        &base,
        "/oauth/auth_native_traditional",
        &[
            ("client_id", "login_client"),
            ("signInEmailAddress", "a@b.example"),
        ],
        false,
    ))
    .await;
    assert_ok(&got, Some("login_client"), "login_client");
    let got = send(request(
        &base,
        "/oauth/update_profile_native",
        &[
            ("client_id", "login_client"),
            ("access_token", "demo-access-token"),
            ("givenName", "Zoë"),
        ],
        false,
    ))
    .await;
    assert_ok(&got, Some("login_client"), "login_client_token");
    assert_eq!(got.1["params"]["givenName"], "Zoë");
    // No authentication at all.
    let got = send(request(
        &base,
        "/access/useVerificationCode",
        &[("verification_code", "abc")],
        false,
    ))
    .await;
    assert_ok(&got, None, "none");
}

async fn the_handler_reads_the_body_unchanged() {
    let base = server().await;
    let tricky: Vec<(&str, &str)> = vec![
        ("uni", "Zoë Ωmega 😀 München"),
        ("eq", "a=b=c"),
        ("nl", "line1\nline2\r\n"),
        ("amp", "x&y=z"),
        ("plus", "1+1 = 2"),
        ("pct", "100% %41 %zz"),
        ("empty", ""),
        ("sp ace=key", "v"),
        ("dup", "1"),
        ("dup", "2"),
    ];
    for get in [false, true] {
        let mut signed = Signed::new("direct_client", "/entity.update", &tricky);
        signed.get = get;
        let (status, body) = signed.send(&base).await;
        assert_eq!(status, StatusCode::OK, "get={get} {body}");
        let echoed = &body["params"];
        for (k, v) in &tricky[..8] {
            assert_eq!(echoed[*k], *v, "get={get} key {k:?}: {body}");
        }
        assert_eq!(echoed["dup"], serde_json::json!(["1", "2"]));
    }
}

async fn credential_failures() {
    let base = server().await;
    let params = [("type_name", "user")];
    // Missing.
    let got = send(request(&base, "/entity.find", &params, false)).await;
    assert_error(&got, 401, 402, "invalid_client_credentials");
    // Malformed: Signature without a colon, a short signature, bad Basic base64.
    for value in [
        "Signature reader_client",
        "Signature reader_client:abc=",
        "Basic %%%",
        "Basic",
    ] {
        let got = send(
            request(&base, "/entity.find", &params, false)
                .header("Date", NOW)
                .header("Authorization", value),
        )
        .await;
        assert_error(&got, 401, 402, "invalid_client_credentials");
    }
    // Unknown client (janrain-signed and Basic) and wrong Basic secret: the same answer.
    let mut unknown = Signed::new("ghost_client", "/entity.find", &params);
    unknown.secret = "whatever";
    let a = unknown.send(&base).await;
    assert_error(&a, 401, 402, "invalid_client_credentials");
    let b = send(
        request(&base, "/entity.find", &params, false)
            .header("Authorization", basic("ghost_client", "x")),
    )
    .await;
    let c = send(
        request(&base, "/entity.find", &params, false)
            .header("Authorization", basic("reader_client", "wrong")),
    )
    .await;
    assert_error(&b, 401, 402, "invalid_client_credentials");
    assert_error(&c, 401, 402, "invalid_client_credentials");
    assert_eq!(b.1["error_description"], c.1["error_description"]);
    assert_eq!(a.1["error_description"], c.1["error_description"]);
}

async fn auth_method_not_accepted() {
    let base = server().await;
    // A scheme that is none of Basic, Signature and OAuth.
    let got = send(
        request(&base, "/entity.find", &[("type_name", "user")], false)
            .header("Authorization", "Bearer sometoken"),
    )
    .await;
    assert_error(&got, 401, 205, "invalid_auth_method");
    // janrain-oauth where a user's token does not reach (an entity type).
    let got = send(
        request(&base, "/entityType", &[("type_name", "user")], false)
            .header("Authorization", "OAuth sometoken"),
    )
    .await;
    assert_error(&got, 401, 424, "auth_method_not_accepted");
    // janrain-signed where only the login-client parameter is accepted.
    let signed = Signed::new(
        "login_client",
        "/oauth/auth_native",
        &[("client_id", "login_client")],
    );
    assert_error(
        &signed.send(&base).await,
        401,
        424,
        "auth_method_not_accepted",
    );
    // Basic on the same.
    let got = send(
        request(
            &base,
            "/oauth/auth_native",
            &[("client_id", "login_client")],
            false,
        )
        .header(
            "Authorization",
            basic("login_client", secret("login_client")),
        ),
    )
    .await;
    assert_error(&got, 401, 424, "auth_method_not_accepted");
}

async fn signature_mismatch_for_any_changed_part() {
    let base = server().await;
    let params = [("type_name", "user"), ("filter", "email = 'a@b.example'")];
    let good = Signed::new("reader_client", "/entity.find", &params);
    let auth = good.authorization(Canonicalization::CANONICAL);
    // A changed value, a dropped parameter, an added one, another endpoint.
    let variants: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/entity.find",
            vec![("type_name", "users"), ("filter", "email = 'a@b.example'")],
        ),
        ("/entity.find", vec![("type_name", "user")]),
        (
            "/entity.find",
            vec![
                ("type_name", "user"),
                ("filter", "email = 'a@b.example'"),
                ("x", ""),
            ],
        ),
        ("/entity.count", params.to_vec()),
    ];
    for (path, sent) in variants {
        let got = send(
            request(&base, path, &sent, false)
                .header("Date", NOW)
                .header("Authorization", &auth),
        )
        .await;
        assert_error(&got, 401, 431, "signature_does_not_match");
    }
    // Wrong secret.
    let mut wrong = Signed::new("reader_client", "/entity.find", &params);
    wrong.secret = "not-the-secret";
    assert_error(
        &wrong.send(&base).await,
        401,
        431,
        "signature_does_not_match",
    );
    // A Date header that differs from the signed datetime (still inside the window).
    let got = send(
        request(&base, "/entity.find", &params, false)
            .header("Date", "2026-03-01 12:00:01")
            .header("Authorization", &auth),
    )
    .await;
    assert_error(&got, 401, 431, "signature_does_not_match");
}

async fn date_failures_are_distinct() {
    let base = server().await;
    let params = [("type_name", "user")];
    let good = Signed::new("reader_client", "/entity.find", &params);
    let auth = good.authorization(Canonicalization::CANONICAL);
    let got =
        send(request(&base, "/entity.find", &params, false).header("Authorization", &auth)).await;
    assert_error(&got, 401, 432, "invalid_date");
    for bad in [
        "Sun, 01 Mar 2026 12:00:00 GMT",
        "2026-03-01T12:00:00Z",
        "2026-02-30 12:00:00",
        "",
    ] {
        let got = send(
            request(&base, "/entity.find", &params, false)
                .header("Date", bad)
                .header("Authorization", &auth),
        )
        .await;
        assert_error(&got, 401, 432, "invalid_date");
    }
    // Just inside and just outside the default window of 300 s each way.
    for (date, ok) in [
        ("2026-03-01 11:55:00", true),
        ("2026-03-01 11:54:59", false),
        ("2026-03-01 12:05:00", true),
        ("2026-03-01 12:05:01", false),
    ] {
        let mut signed = Signed::new("reader_client", "/entity.find", &params);
        signed.date = date;
        let got = signed.send(&base).await;
        if ok {
            assert_ok(&got, Some("reader_client"), "signature");
        } else {
            assert_error(&got, 401, 433, "date_out_of_window");
            // The refusal carries the server's clock, for clients to correct theirs.
            let date = got.1["error_description"].as_str().unwrap();
            assert!(date.contains("clock"), "{date}");
        }
    }
}

async fn date_refusals_carry_the_server_clock() {
    let base = server().await;
    let mut signed = Signed::new("reader_client", "/entity.find", &[("type_name", "user")]);
    signed.date = "2026-03-01 11:00:00";
    let response = signed
        .request(&base, "/entity.find", Canonicalization::CANONICAL)
        .send()
        .await
        .unwrap();
    let date = response.headers()["date"].to_str().unwrap().to_owned();
    let date = Datetime::from_system_time(httpdate::parse_http_date(&date).unwrap()).unwrap();
    assert_eq!(date.to_string(), NOW);
    let challenges: Vec<_> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        challenges.iter().any(|c| c.starts_with("Signature realm=")),
        "{challenges:?}"
    );
    assert!(
        challenges.iter().any(|c| c.starts_with("Basic realm=")),
        "{challenges:?}"
    );
    assert_eq!(response.headers()["content-type"], "application/json");
}

async fn the_permission_matrix_is_enforced() {
    let base = server().await;
    let catalog = Catalog::identity_cloud();
    let clients = [
        ("owner_client", Feature::Owner),
        ("issuer_client", Feature::AccessIssuer),
        ("direct_client", Feature::DirectAccess),
        ("reader_client", Feature::DirectReadAccess),
        ("metadata_client", Feature::Metadata),
    ];
    let sample = [
        "/access/getAuthorizationCode",
        "/access/getAccessToken",
        "/oauth/token",
        "/access/getVerificationCode",
        "/entity",
        "/entity.find",
        "/entity.update",
        "/entity.deleteAccess",
        "/entityType",
        "/entityType.list",
        "/clients/list",
        "/settings/get_default",
        "/settings/items",
    ];
    let mut allowed = 0;
    for (id, feature) in clients {
        for path in sample {
            let op = catalog.get(path).unwrap();
            let expected = op.permits(Features::from(feature));
            let got = Signed::new(id, path, &[("type_name", "user")])
                .send(&base)
                .await;
            if expected {
                allowed += 1;
                assert_ok(&got, Some(id), "signature");
            } else {
                assert_error(&got, 403, 403, "client_permission_error");
                let description = got.1["error_description"].as_str().unwrap();
                assert!(
                    description.contains(&op.allowed().to_string()),
                    "{description}"
                );
            }
        }
    }
    // Spot checks independent of the catalog code.
    assert_ok(
        &Signed::new("reader_client", "/entity", &[])
            .send(&base)
            .await,
        Some("reader_client"),
        "signature",
    );
    assert_error(
        &Signed::new("reader_client", "/entity.update", &[])
            .send(&base)
            .await,
        403,
        403,
        "client_permission_error",
    );
    assert_error(
        &Signed::new("owner_client", "/entity.find", &[])
            .send(&base)
            .await,
        403,
        403,
        "client_permission_error",
    );
    assert_ok(
        &Signed::new("owner_client", "/entityType.list", &[])
            .send(&base)
            .await,
        Some("owner_client"),
        "signature",
    );
    assert_ok(
        &Signed::new("issuer_client", "/access/getAccessToken", &[])
            .send(&base)
            .await,
        Some("issuer_client"),
        "signature",
    );
    assert_error(
        &Signed::new("metadata_client", "/entityType", &[])
            .send(&base)
            .await,
        403,
        403,
        "client_permission_error",
    );
    assert!(allowed > 10);
}

/// With `enforce_methods`, an operation answers its documented method (POST) and refuses
/// another; without it, both are verified alike.
async fn methods_are_enforced_when_asked() {
    let strict = server_with(builder().enforce_methods(true)).await;
    let lenient = server().await;
    let mut signed = Signed::new("reader_client", "/entity.find", &[("type_name", "user")]);
    assert_ok(
        &signed.send(&strict).await,
        Some("reader_client"),
        "signature",
    );
    signed.get = true;
    let got = signed.send(&strict).await;
    assert_error(&got, 405, 405, "method_not_allowed");
    assert_ok(
        &signed.send(&lenient).await,
        Some("reader_client"),
        "signature",
    );
}

async fn login_client_operations() {
    let base = server().await;
    let post =
        |params: &[(&str, &str)]| send(request(&base, "/oauth/link_account_native", params, false));
    assert_error(&post(&[("token", "x")]).await, 400, 100, "missing_argument");
    assert_error(
        &post(&[("client_id", "login_client")]).await,
        400,
        100,
        "missing_argument",
    );
    assert_error(
        &post(&[
            ("client_id", "ghost_client"),
            ("access_token", "demo-access-token"),
        ])
        .await,
        401,
        402,
        "invalid_client_credentials",
    );
    assert_error(
        &post(&[
            ("client_id", "direct_client"),
            ("access_token", "demo-access-token"),
        ])
        .await,
        403,
        403,
        "client_permission_error",
    );
    assert_error(
        &post(&[("client_id", "login_client"), ("access_token", "nope")]).await,
        401,
        412,
        "invalid_access_token",
    );
    assert_error(
        &post(&[
            ("client_id", "login_client"),
            ("access_token", "expired-access-token"),
        ])
        .await,
        401,
        414,
        "access_token_expired",
    );
    assert_error(
        &post(&[
            ("client_id", "login_client"),
            ("access_token", "second-client-token"),
        ])
        .await,
        401,
        419,
        "access_token_client_mismatch",
    );
    assert_error(
        &post(&[
            ("client_id", "second_login_client"),
            ("access_token", "demo-access-token"),
        ])
        .await,
        401,
        419,
        "access_token_client_mismatch",
    );
    assert_ok(
        &post(&[
            ("client_id", "second_login_client"),
            ("access_token", "second-client-token"),
        ])
        .await,
        Some("second_login_client"),
        "login_client_token",
    );
    // An operation that takes no token refuses one, even one issued to this client: nothing
    // would check it, and a handler could take it for a verified user.
    assert_error(
        &send(request(
            &base,
            "/oauth/auth_native",
            &[
                ("client_id", "login_client"),
                ("access_token", "demo-access-token"),
            ],
            false,
        ))
        .await,
        400,
        232,
        "ambiguous_parameters",
    );
    // client_id in the query string works too.
    let got = send(request(
        &base,
        "/oauth/forgot_password_native",
        &[
            ("client_id", "login_client"),
            ("signInEmailAddress", "a@b.example"),
        ],
        true,
    ))
    .await;
    assert_ok(&got, Some("login_client"), "login_client");
    // 401 answers to login-client operations still carry a challenge.
    let response = request(
        &base,
        "/oauth/link_account_native",
        &[("client_id", "login_client"), ("access_token", "nope")],
        false,
    )
    .send()
    .await
    .unwrap();
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("LoginClient"), "{challenge}");
}

async fn rotation_accepts_every_secret() {
    let base = server().await;
    for secret in ["rotating-old-secret-2f6a", "rotating-new-secret-8e1d"] {
        let mut signed = Signed::new(
            "rotating_client",
            "/entity.update",
            &[("uuid", "u"), ("value", "{}")],
        );
        signed.secret = secret;
        assert_ok(
            &signed.send(&base).await,
            Some("rotating_client"),
            "signature",
        );
        let got = send(
            request(&base, "/entity.update", &[], false)
                .header("Authorization", basic("rotating_client", secret)),
        )
        .await;
        assert_ok(&got, Some("rotating_client"), "basic");
    }
}

async fn body_limits() {
    let base = server_with(builder().body_limit(64)).await;
    let big = "x".repeat(100);
    let signed = Signed::new("direct_client", "/entity.update", &[("value", &big)]);
    assert_error(&signed.send(&base).await, 413, 230, "request_too_large");
    // Under the limit, fine.
    assert_ok(
        &Signed::new("direct_client", "/entity.update", &[("v", "small")])
            .send(&base)
            .await,
        Some("direct_client"),
        "signature",
    );

    // Chunked, no Content-Length, growing past the limit: refused as it grows.
    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let auth = signed.authorization(Canonicalization::CANONICAL);
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /entity.update HTTP/1.1\r\nHost: x\r\nDate: {NOW}\r\nAuthorization: {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..4 {
        tcp.write_all(b"20\r\nvalue=xxxxxxxxxxxxxxxxxxxxxxxxxx\r\n")
            .await
            .unwrap();
    }
    let mut response = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("request_too_large"), "{text}");
}

async fn janrain_status_answers_errors_with_200() {
    let base = server_with(builder().janrain_status(true)).await;
    let got = send(request(&base, "/entity.find", &[], false)).await;
    assert_error(&got, 200, 402, "invalid_client_credentials");
    let got = Signed::new("owner_client", "/entity.find", &[])
        .send(&base)
        .await;
    assert_error(&got, 200, 403, "client_permission_error");
}

async fn unknown_paths_are_denied_by_default() {
    let app = Emulator::builder()
        .echo_at("/custom.thing")
        .routes()
        .layer(builder().build());
    let base = serve(app).await;
    let got = Signed::new("owner_client", "/custom.thing", &[])
        .send(&base)
        .await;
    assert_error(&got, 404, 404, "unknown_operation");
    // Added to the policy, it works like any operation.
    let app = Emulator::builder().echo_at("/custom.thing").routes().layer(
        builder()
            .operation(janrain_auth::permissions::Operation::new(
                "/custom.thing",
                janrain_auth::permissions::AuthMethods::HEADER,
                Feature::Owner.into(),
            ))
            .build(),
    );
    let base = serve(app).await;
    assert_ok(
        &Signed::new("owner_client", "/custom.thing", &[])
            .send(&base)
            .await,
        Some("owner_client"),
        "signature",
    );
    assert_error(
        &Signed::new("direct_client", "/custom.thing", &[])
            .send(&base)
            .await,
        403,
        403,
        "client_permission_error",
    );
}

async fn nested_routers_and_route_layer() {
    // Layer inside the nest: it sees /entity.find, the client signed /capture/entity.find.
    let app = Router::new().nest(
        "/capture",
        Emulator::builder()
            .layer(builder().nested_under("/capture").build())
            .router(),
    );
    let base = serve(app).await;
    let signed = Signed::new(
        "reader_client",
        "/capture/entity.find",
        &[("type_name", "user")],
    );
    let got = signed.send(&base).await;
    assert_ok(&got, Some("reader_client"), "signature");
    assert_eq!(got.1["operation"], "/entity.find");
    // Signing the path without the prefix does not match.
    let unprefixed = Signed::new("reader_client", "/entity.find", &[("type_name", "user")]);
    let got =
        send(unprefixed.request(&base, "/capture/entity.find", Canonicalization::CANONICAL)).await;
    assert_error(&got, 401, 431, "signature_does_not_match");

    // Layer on the outer router, stripping the prefix.
    let app = Router::new()
        .nest("/capture", Emulator::builder().routes())
        .layer(builder().strip_prefix("/capture/").build());
    let base = serve(app).await;
    assert_ok(
        &signed.send(&base).await,
        Some("reader_client"),
        "signature",
    );

    // Only a path below the prefix is an operation: `/captureentity.find` is not, nor is
    // `/capture` itself, even where unknown paths are let through.
    let app = Router::new()
        .nest("/capture", Emulator::builder().routes())
        .fallback(|| async { "let through" })
        .layer(
            builder()
                .strip_prefix("/capture/")
                .unknown_paths(janrain_auth::server::UnknownPaths::Allow)
                .build(),
        );
    let base = serve(app).await;
    for path in ["/captureentity.find", "/capture"] {
        let got = send(signed.request(&base, path, Canonicalization::CANONICAL)).await;
        assert_error(&got, 404, 404, "unknown_operation");
        let description = got.1["error_description"].as_str().unwrap();
        assert!(
            description.contains("is not below the API prefix /capture"),
            "{description}"
        );
    }

    // route_layer: only matched routes are verified; a public route on the same router is not.
    let app = Emulator::builder()
        .routes()
        .route_layer(builder().build())
        .route("/health", axum::routing::get(|| async { "ok" }));
    let base = serve(app).await;
    assert_eq!(
        reqwest::get(format!("{base}/health"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_ok(&signed_for(&base).await, Some("reader_client"), "signature");
    let got = send(request(&base, "/entity.find", &[], false)).await;
    assert_error(&got, 401, 402, "invalid_client_credentials");
}

async fn signed_for(base: &str) -> (u16, Value) {
    Signed::new("reader_client", "/entity.find", &[("type_name", "user")])
        .send(base)
        .await
}

async fn sample_code_variants_only_when_accepted() {
    let params = [("birthdate", "1990-01-01"), ("birthdate.year", "1990")];
    let signed = Signed::new("direct_client", "/entity.update", &params);
    let key_order = Canonicalization::CANONICAL.with_order(janrain_auth::scheme::ParamOrder::Key);
    let strict = server().await;
    let got = send(signed.request(&strict, "/entity.update", key_order)).await;
    assert_error(&got, 401, 431, "signature_does_not_match");
    let lenient = server_with(
        builder().accept_forms([Canonicalization::CANONICAL, Canonicalization::SAMPLE_CODE]),
    )
    .await;
    assert_ok(
        &send(signed.request(&lenient, "/entity.update", key_order)).await,
        Some("direct_client"),
        "signature",
    );
    assert_ok(
        &signed.send(&lenient).await,
        Some("direct_client"),
        "signature",
    );
    // The blank line without parameters.
    let empty = Signed::new("owner_client", "/settings/items", &[]);
    let got = send(empty.request(&strict, "/settings/items", Canonicalization::SAMPLE_CODE)).await;
    assert_error(&got, 401, 431, "signature_does_not_match");
    assert_ok(
        &send(empty.request(&lenient, "/settings/items", Canonicalization::SAMPLE_CODE)).await,
        Some("owner_client"),
        "signature",
    );
}

/// A JSON body is not parameters and no signature covers it: refused by default, and let
/// through untouched (with only the query's parameters verified) when the layer allows it.
async fn json_bodies_are_refused_unless_allowed_and_then_untouched() {
    let signed = Signed::new("direct_client", "/entity.update", &[("uuid", "u1")]);
    let send_json = |base: String| {
        let authorization = signed.authorization(Canonicalization::CANONICAL);
        async move {
            reqwest::Client::new()
                .post(format!("{base}/entity.update?uuid=u1"))
                .header("Date", NOW)
                .header("Authorization", authorization)
                .header("Content-Type", "application/json")
                .body(r#"{"givenName":"Zoë"}"#)
                .send()
                .await
                .unwrap()
        }
    };
    let response = send_json(server().await).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (body["code"].as_u64(), body["error"].as_str()),
        (Some(233), Some("unsupported_body"))
    );

    let response = send_json(server_with(builder().allow_unsigned_bodies(true)).await).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["params"], serde_json::json!({"uuid": "u1"}));

    // Untouched: the handler reads the body and its type as they were sent (only a form's
    // type is written the one way every extractor reads it).
    async fn seen(headers: http::HeaderMap, body: String) -> String {
        let kind = headers.get(http::header::CONTENT_TYPE);
        format!("{kind:?} {body}")
    }
    let app = Router::new()
        .route("/entity.update", axum::routing::post(seen))
        .layer(builder().allow_unsigned_bodies(true).build());
    let response = send_json(serve(app).await).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.text().await.unwrap(),
        r#"Some("application/json") {"givenName":"Zoë"}"#
    );
}
