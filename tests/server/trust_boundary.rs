//! The layer's contract with the handler: every parameter a handler can read, whichever way it
//! reads it (axum's `Form`, `Query`, `RawForm`, `String`, or `VerifiedParams`), was covered by
//! the signature (or is the checked `client_id` / `access_token`), and nothing else. Each
//! attack below is sent over real HTTP to a real axum app; each is refused, or the handler
//! sees exactly the signed parameters.

use janrain_auth_test_support as support;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, Query, RawForm};
use axum::routing::post;
use janrain_auth::params::{ParamList, encode_urlencoded};
use janrain_auth::server::{VerifiedParams, VerifyLayerBuilder};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{NOW, assert_error, assert_ok, authorization, builder, clock, send, serve_app};

const DIRECT: (&str, &str) = ("direct_client", "direct-secret-1d8c3a");

/// Routes that read their parameters the ways axum apps do, each echoing what it saw as
/// `{"stat":"ok","params":[[k,v],...]}` (sorted pairs).
fn app(layer: VerifyLayerBuilder) -> Router {
    fn pairs<'a>(it: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
        let mut v: Vec<(String, String)> = it
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        v.sort();
        json!({"stat": "ok", "params": v})
    }
    fn raw(bytes: &[u8]) -> Value {
        let list = ParamList::from_urlencoded(bytes).unwrap();
        let text = list.to_pairs_lossy();
        pairs(text.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
    Router::new()
        .route(
            "/entity.update",
            post(|Form(form): Form<HashMap<String, String>>| async move {
                axum::Json(pairs(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }),
        )
        .route(
            "/entity.find",
            post(|Query(query): Query<Vec<(String, String)>>| async move {
                axum::Json(pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }),
        )
        .route(
            "/entity.count",
            post(|RawForm(bytes): RawForm| async move { axum::Json(raw(&bytes)) }),
        )
        .route(
            "/entity.delete",
            post(|body: String| async move { axum::Json(raw(body.as_bytes())) }),
        )
        .route(
            "/oauth/update_profile_native",
            post(|Form(form): Form<HashMap<String, String>>| async move {
                axum::Json(pairs(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }),
        )
        .route(
            "/entity.create",
            post(|params: VerifiedParams| async move { axum::Json(pairs(params.iter())) }),
        )
        .layer(layer.build())
}

/// What was signed, sorted, as the echo shows it.
fn signed_view(params: &[(&str, &str)]) -> Value {
    let mut v: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    v.sort();
    json!(v)
}

/// A POST to `path` signed by the direct client over `signed`, with this query, content type
/// and body.
fn signed_post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    signed: &[(&str, &str)],
    query: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    let url = if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    };
    let mut request = http
        .post(url)
        .header("Date", NOW)
        .header(
            "Authorization",
            authorization(DIRECT.0, DIRECT.1, path, NOW, signed),
        )
        .body(body);
    if let Some(ct) = content_type {
        request = request.header("Content-Type", ct);
    }
    request
}

const FORM: &str = "application/x-www-form-urlencoded";
const EVIL: &str = "uuid=victim&value=%7B%22email%22%3A%22evil%40x%22%7D";

/// 1. Content types that axum reads as a form and the layer once did not.
#[tokio::test]
async fn look_alike_form_types_are_refused() {
    let base = serve_app(app(builder(&clock()))).await;
    let http = reqwest::Client::new();
    for ct in [
        "application/x-www-form-urlencodedX",
        "application/x-www-form-urlencoded,text/plain",
        "application/x-www-form-urlencoded-evil",
    ] {
        for path in ["/entity.update", "/entity.count", "/entity.delete"] {
            let got = send(signed_post(&http, &base, path, &[], "", Some(ct), EVIL)).await;
            assert_error(&got, 415, 233, "unsupported_body");
        }
    }
    // Ordinary forms, in any case and with a charset, still work.
    for ct in [
        FORM,
        "Application/X-WWW-Form-URLEncoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ] {
        let params = [("uuid", "u1"), ("value", "{}")];
        let got = send(signed_post(
            &http,
            &base,
            "/entity.create",
            &params,
            "",
            Some(ct),
            encode_urlencoded(&params),
        ))
        .await;
        assert_ok(&got);
        assert_eq!(got.1["params"], signed_view(&params), "{ct}");
    }
}

/// A form body still encoded (no decompression outside the layer): the layer would check
/// the encoded bytes while a decoder inside would hand the handler others. Refused.
#[tokio::test]
async fn encoded_forms_are_refused() {
    let base = serve_app(app(builder(&clock()))).await;
    let http = reqwest::Client::new();
    let params = [("uuid", "u1")];
    for encoding in ["gzip", "br", "identity, gzip"] {
        let got = send(
            signed_post(
                &http,
                &base,
                "/entity.create",
                &params,
                "",
                Some(FORM),
                encode_urlencoded(&params),
            )
            .header("Content-Encoding", encoding),
        )
        .await;
        assert_error(&got, 415, 233, "unsupported_body");
    }
    let got = send(
        signed_post(
            &http,
            &base,
            "/entity.create",
            &params,
            "",
            Some(FORM),
            encode_urlencoded(&params),
        )
        .header("Content-Encoding", "identity"),
    )
    .await;
    assert_ok(&got);
}

/// 1b, 2. A captured signed request re-sent with its parameters moved to the query and the
/// attacker's form in the body; parameters in both places; a signed filter moved to the query.
#[tokio::test]
async fn parameters_live_in_exactly_one_place() {
    let base = serve_app(app(builder(&clock()))).await;
    let http = reqwest::Client::new();
    let signed = [("uuid", "u1"), ("value", "{}")];
    let query = encode_urlencoded(&signed);
    for path in [
        "/entity.update",
        "/entity.count",
        "/entity.delete",
        "/entity.create",
    ] {
        let got = send(signed_post(
            &http,
            &base,
            path,
            &signed,
            &query,
            Some(FORM),
            EVIL,
        ))
        .await;
        assert_error(&got, 400, 232, "ambiguous_parameters");
        // All of them in the query, an empty form body: a Form handler would see nothing.
        let got = send(signed_post(
            &http,
            &base,
            path,
            &signed,
            &query,
            Some(FORM),
            "",
        ))
        .await;
        assert_error(&got, 400, 232, "ambiguous_parameters");
    }
    // entity.find: the filter moved from the body to the query.
    let find = [("type_name", "user"), ("filter", "email = 'a@b'")];
    let got = send(signed_post(
        &http,
        &base,
        "/entity.find",
        &find,
        "filter=email+%3D+%27a%40b%27",
        Some(FORM),
        "type_name=user",
    ))
    .await;
    assert_error(&got, 400, 232, "ambiguous_parameters");
    // In the query alone, with no body: the Query handler sees exactly what was signed.
    let got = send(signed_post(
        &http,
        &base,
        "/entity.find",
        &find,
        &encode_urlencoded(&find),
        None,
        "",
    ))
    .await;
    assert_ok(&got);
    assert_eq!(got.1["params"], signed_view(&find));
}

/// 2. A login client and its token in the query, another pair in the body; repeated ids.
#[tokio::test]
async fn login_client_credentials_are_never_ambiguous() {
    let base = serve_app(app(builder(&clock()))).await;
    let http = reqwest::Client::new();
    let url = format!(
        "{base}/oauth/update_profile_native?client_id=login_client&access_token=demo-access-token"
    );
    let body = "client_id=second_login_client&access_token=expired-access-token&email=x";
    let got = send(http.post(url).header("Content-Type", FORM).body(body)).await;
    assert_error(&got, 400, 232, "ambiguous_parameters");
    for body in [
        "client_id=login_client&access_token=demo-access-token&client_id=second_login_client",
        "client_id=login_client&access_token=demo-access-token&access_token=expired-access-token",
    ] {
        let got = send(
            http.post(format!("{base}/oauth/update_profile_native"))
                .header("Content-Type", FORM)
                .body(body),
        )
        .await;
        assert_error(&got, 400, 232, "ambiguous_parameters");
    }
    // The honest request: the Form handler sees the checked pair and the rest.
    let got = send(
        http.post(format!("{base}/oauth/update_profile_native"))
            .header("Content-Type", FORM)
            .body("client_id=login_client&access_token=demo-access-token&email=x"),
    )
    .await;
    assert_ok(&got);
    assert_eq!(
        got.1["params"],
        signed_view(&[
            ("client_id", "login_client"),
            ("access_token", "demo-access-token"),
            ("email", "x")
        ])
    );
}

/// 3. Bodies no signature covers: refused by default, bounded by the limit always.
#[tokio::test]
async fn unsigned_bodies_are_refused_and_every_body_is_bounded() {
    let base = serve_app(app(builder(&clock()).body_limit(4096))).await;
    let http = reqwest::Client::new();
    for (ct, body) in [
        (Some("application/json"), r#"{"uuid":"victim"}"#.to_owned()),
        (
            Some("multipart/form-data; boundary=x"),
            "--x\r\n\r\nuuid=victim\r\n--x--".to_owned(),
        ),
        (Some("text/plain"), EVIL.to_owned()),
        (None, EVIL.to_owned()),
    ] {
        let got = send(signed_post(
            &http,
            &base,
            "/entity.delete",
            &[],
            "",
            ct,
            body,
        ))
        .await;
        assert_error(&got, 415, 233, "unsupported_body");
    }
    // 1 MiB of any type: 413 before anything is read.
    let big = vec![b'a'; 1 << 20];
    for ct in [Some("text/plain"), Some(FORM), None] {
        let got = send(signed_post(
            &http,
            &base,
            "/entity.delete",
            &[],
            "",
            ct,
            big.clone(),
        ))
        .await;
        assert_error(&got, 413, 230, "request_too_large");
    }
    // With unsigned bodies allowed, a chunked body with no length still stops at the limit:
    // the handler's read fails, and axum answers 413.
    let open = serve_app(app(builder(&clock())
        .body_limit(4096)
        .allow_unsigned_bodies(true)))
    .await;
    assert_eq!(chunked_post(&open, "/entity.delete", 64).await, 413);
    // A small one passes, untouched.
    assert_eq!(chunked_post(&open, "/entity.delete", 2).await, 200);
}

/// A signed POST over raw TCP with a chunked `text/plain` body of `chunks` KiB; the status.
async fn chunked_post(base: &str, path: &str, chunks: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nDate: {NOW}\r\nAuthorization: {}\r\n\
         Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        authorization(DIRECT.0, DIRECT.1, path, NOW, &[] as &[(&str, &str)])
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("400\r\n{}\r\n", "a".repeat(1024));
    for _ in 0..chunks {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break; // the server answered and closed early
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// 4. Text that can be regrouped without changing the string to sign: accepted by default (it
/// is what was signed), refused in strict mode.
#[tokio::test]
async fn strict_mode_refuses_ambiguous_text() {
    let http = reqwest::Client::new();
    let lenient = serve_app(app(builder(&clock()))).await;
    let strict = serve_app(app(builder(&clock()).strict_parameters(true))).await;
    for params in [
        vec![("a=b", "c")],
        vec![("a", "b\nc=d")],
        vec![("a", "b\rc")],
        vec![("k\ney", "v")],
    ] {
        let body = encode_urlencoded(&params);
        let got = send(signed_post(
            &http,
            &lenient,
            "/entity.create",
            &params,
            "",
            Some(FORM),
            body.clone(),
        ))
        .await;
        assert_ok(&got);
        assert_eq!(got.1["params"], signed_view(&params));
        let got = send(signed_post(
            &http,
            &strict,
            "/entity.create",
            &params,
            "",
            Some(FORM),
            body,
        ))
        .await;
        assert_error(&got, 400, 234, "ambiguous_parameter_text");
    }
}

/// Every error answer carries an `error_description`, the emulator's own included.
#[tokio::test]
async fn every_error_has_a_description() {
    use janrain_auth::emulator::{Echo, Emulator};
    let http = reqwest::Client::new();
    let many: Vec<(String, String)> = (0..1025)
        .map(|i| (format!("k{i}"), "v".to_owned()))
        .collect();
    // The layer's own refusal (over its 1024-parameter limit).
    let layer = support::serve(builder(&clock()).build()).await;
    // The emulator's handler reading with axum and its own 1024-parameter limit.
    let handler = serve_app(
        Emulator::builder()
            .layer(builder(&clock()).max_params(2048).build())
            .echo(Echo::Axum)
            .router(),
    )
    .await;
    for base in [layer, handler] {
        let got = send(
            http.post(format!("{base}/access/useVerificationCode"))
                .header("Content-Type", FORM)
                .body(encode_urlencoded(&many)),
        )
        .await;
        assert_eq!(got.1["stat"], "error", "{}", got.1);
        assert_eq!(
            (got.1["code"].as_u64(), got.1["error"].as_str()),
            (Some(200), Some("invalid_argument"))
        );
        assert!(
            !got.1["error_description"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{}",
            got.1
        );
    }
}

/// Where a parameter goes in a generated request.
#[derive(Debug, Clone, Copy)]
enum Placement {
    Body,
    Query,
    Both,
    BodyDuplicatedId,
    OddType(&'static str),
}

fn placement() -> impl Strategy<Value = Placement> {
    prop_oneof![
        Just(Placement::Body),
        Just(Placement::Query),
        Just(Placement::Both),
        Just(Placement::BodyDuplicatedId),
        Just(Placement::OddType("application/x-www-form-urlencodedX")),
        Just(Placement::OddType("text/plain")),
        Just(Placement::OddType(
            "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8"
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// For random parameters and placements, an accepted request's handlers (Form, RawForm,
    /// String, VerifiedParams) see exactly the signed set; everything else is refused.
    #[test]
    fn accepted_means_the_handler_sees_what_was_signed(
        params in proptest::collection::vec(("[a-z_]{1,6}", "[ -~]{0,12}"), 0..6),
        place in placement(),
        path in prop_oneof![Just("/entity.update"), Just("/entity.count"), Just("/entity.delete"), Just("/entity.create")],
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let base = serve_app(app(builder(&clock()))).await;
            let http = reqwest::Client::new();
            let signed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let encoded = encode_urlencoded(&signed);
            let request = match place {
                Placement::Body => signed_post(&http, &base, path, &signed, "", Some(FORM), encoded.clone()),
                Placement::Query => signed_post(&http, &base, path, &signed, &encoded, None, ""),
                Placement::Both => signed_post(&http, &base, path, &signed, &encoded, Some(FORM), encoded.clone()),
                Placement::BodyDuplicatedId => {
                    let mut twice = signed.clone();
                    twice.push(("client_id", "a"));
                    twice.push(("client_id", "b"));
                    signed_post(&http, &base, path, &twice, "", Some(FORM), encode_urlencoded(&twice))
                }
                Placement::OddType(ct) => signed_post(&http, &base, path, &signed, "", Some(ct), encoded.clone()),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
            if status == 200 && body["stat"] == "ok" {
                // A Form<HashMap> handler keeps one value per key: compare as maps there.
                let mut expected = signed.clone();
                if matches!(place, Placement::Query) && path == "/entity.delete" {
                    // A String handler reads the (empty) body: nothing it was not sent.
                    expected.clear();
                } else if path == "/entity.update" {
                    let map: HashMap<&str, &str> = signed.iter().copied().collect();
                    expected = map.into_iter().collect();
                }
                assert_eq!(body["params"], signed_view(&expected), "{place:?} {path}");
            } else {
                assert!(status >= 400, "{status} {body}");
            }
        });
    }
}

/// The look-alike, in both echo modes (its handlers reading `VerifiedParams`, or reading the
/// request as a plain axum app does with `RawForm`): every `stat: ok` answer echoes exactly
/// the parameters that were signed (or the checked login-client parameters with the rest).
#[tokio::test]
async fn the_lookalike_echoes_what_was_verified_in_both_modes() {
    use janrain_auth::emulator::{Echo, Emulator};
    let http = reqwest::Client::new();
    let signed = [
        ("uuid", "u1"),
        ("value", "{\"a\": \"b=c\"}"),
        ("tag", "x"),
        ("tag", "y"),
    ];
    for echo in [Echo::Verified, Echo::Axum] {
        let base = serve_app(
            Emulator::builder()
                .layer(builder(&clock()).build())
                .echo(echo)
                .router(),
        )
        .await;
        // A signed form POST.
        let got = send(signed_post(
            &http,
            &base,
            "/entity.update",
            &signed,
            "",
            Some(FORM),
            encode_urlencoded(&signed),
        ))
        .await;
        assert_ok(&got);
        let want = json!({"uuid": "u1", "value": "{\"a\": \"b=c\"}", "tag": ["x", "y"]});
        assert_eq!(got.1["params"], want, "{echo:?}");
        // A signed GET with the parameters in the query.
        let got = send(
            http.get(format!(
                "{base}/entity.update?{}",
                encode_urlencoded(&signed)
            ))
            .header("Date", NOW)
            .header(
                "Authorization",
                authorization(DIRECT.0, DIRECT.1, "/entity.update", NOW, &signed),
            ),
        )
        .await;
        assert_ok(&got);
        assert_eq!(got.1["params"], want, "{echo:?}");
        // A login-client operation.
        let login = [
            ("client_id", "login_client"),
            ("access_token", "demo-access-token"),
            ("email", "x"),
        ];
        let got = send(support::form_post(
            &http,
            format!("{base}/oauth/update_profile_native"),
            &login,
        ))
        .await;
        assert_ok(&got);
        assert_eq!(
            got.1["params"],
            json!({"client_id": "login_client", "access_token": "demo-access-token", "email": "x"}),
            "{echo:?}"
        );
        // Everything the reproductions sent is refused in this mode too.
        let got = send(signed_post(
            &http,
            &base,
            "/entity.update",
            &[],
            "",
            Some("application/x-www-form-urlencodedX"),
            EVIL,
        ))
        .await;
        assert_error(&got, 415, 233, "unsupported_body");
    }
}
