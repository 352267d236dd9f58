//! The layer's contract with the handler: every parameter a handler can read, whichever way it
//! reads it (axum's `Form`, `Query`, `RawForm`, `String`, or `VerifiedParams`), was covered by
//! the signature (or is the checked `client_id` / `access_token`), and nothing else. Each
//! attack below is sent over real HTTP to a real axum app; each is refused, or the handler
//! sees exactly the signed parameters.

use janrain_auth_test_support as support;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, Query, RawForm};
use axum::routing::{any, post};
use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::params::{ParamList, encode_urlencoded};
use janrain_auth::scheme::basic_header;
use janrain_auth::server::{VerifiedParams, VerifyLayerBuilder};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{
    DIRECT, NOW, assert_error, assert_ok, authorization, builder, clock, send, serve_app,
};

/// Routes that read their parameters the ways axum apps do (on any method), each echoing what
/// it saw as `{"stat":"ok","params":[[k,v],...]}` (sorted pairs).
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
            any(|Form(form): Form<HashMap<String, String>>| async move {
                axum::Json(pairs(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }),
        )
        .route(
            "/entity.replace",
            any(|Form(form): Form<Vec<(String, String)>>| async move {
                axum::Json(pairs(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }),
        )
        .route(
            "/entity.find",
            any(|Query(query): Query<Vec<(String, String)>>| async move {
                axum::Json(pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }),
        )
        .route(
            "/entity.count",
            any(|RawForm(bytes): RawForm| async move { axum::Json(raw(&bytes)) }),
        )
        .route(
            "/entity.delete",
            any(|body: String| async move { axum::Json(raw(body.as_bytes())) }),
        )
        .route(
            "/oauth/update_profile_native",
            post(|Form(form): Form<HashMap<String, String>>| async move {
                axum::Json(pairs(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            }),
        )
        .route(
            "/entity.create",
            any(|params: VerifiedParams| async move { axum::Json(pairs(params.iter())) }),
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
    // A chunked body has no length to refuse it by before it is read: read, a small one is
    // refused all the same (no signature covers it), and one that turns out empty is no body.
    assert_eq!(chunked_post(&base, "/entity.delete", 2).await, 415);
    assert_eq!(chunked_post(&base, "/entity.delete", 0).await, 200);
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
    // A form POST to /entity.create, signed for `signed`, with `body` as sent.
    let create = |base: &str, signed: &[(&str, &str)], body: String| {
        send(signed_post(
            &http,
            base,
            "/entity.create",
            signed,
            "",
            Some(FORM),
            body,
        ))
    };
    for params in [
        vec![("a=b", "c")],
        vec![("a", "b\nc=d")],
        vec![("a", "b\rc")],
        vec![("k\ney", "v")],
    ] {
        let body = encode_urlencoded(&params);
        let got = create(&lenient, &params, body.clone()).await;
        assert_ok(&got);
        assert_eq!(got.1["params"], signed_view(&params));
        let got = create(&strict, &params, body).await;
        assert_error(&got, 400, 234, "ambiguous_parameter_text");
    }
    // The first offending parameter decides the answer: regroupable text before a value that
    // is not UTF-8 is refused as regroupable, and the other way round.
    for (body, code, error) in [
        ("a%3Db=c&k=%FF", 234, "ambiguous_parameter_text"),
        ("k=%FF&a%3Db=c", 200, "invalid_argument"),
    ] {
        let got = create(&strict, &[], body.to_owned()).await;
        assert_error(&got, 400, code, error);
    }
    // Text that reads one way only passes strict mode: `=` in a value, `%`, spaces, non-ASCII.
    let params = [("a", "b=c"), ("note", "50% off, caf\u{e9}"), ("z", "")];
    let got = create(&strict, &params, encode_urlencoded(&params)).await;
    assert_ok(&got);
    assert_eq!(got.1["params"], signed_view(&params));
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

/// How a generated request carries its parameter list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// POST with the list as a form body of this type, no query string. Honest.
    Body(&'static str),
    /// GET with the list in the query string, no body. Honest.
    GetQuery,
    /// POST with the list in the query string, no body. Honest.
    PostQuery,
    /// POST with the list both in the query string and in a form body.
    Both,
    /// GET with the list in a form body.
    FormOnGet,
    /// POST with the list encoded as a body of this type (not the form type).
    OtherType(&'static str),
}

/// A type that begins like the form type without being it.
const LOOK_ALIKE: &str = "application/x-www-form-urlencodedX";

impl Placement {
    /// The handlers that read the list where this placement puts it (and so see what was
    /// signed when the request is accepted).
    fn readers(self) -> &'static [Reader] {
        use Reader::*;
        match self {
            Placement::Body(_) | Placement::Both => &[FormMap, FormList, Raw, Text, Verified],
            Placement::GetQuery | Placement::FormOnGet => {
                &[FormMap, FormList, Raw, QueryList, Verified]
            }
            Placement::PostQuery | Placement::OtherType(_) => &[QueryList, Verified],
        }
    }
}

/// How the handler of a route of [`app`] reads the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// `Form<HashMap<String, String>>`: one value per key, the last.
    FormMap,
    /// `Form<Vec<(String, String)>>`.
    FormList,
    /// `RawForm`, decoded.
    Raw,
    /// The body as a `String`, decoded.
    Text,
    /// `Query<Vec<(String, String)>>`.
    QueryList,
    /// `VerifiedParams`.
    Verified,
}

impl Reader {
    fn path(self) -> &'static str {
        match self {
            Reader::FormMap => "/entity.update",
            Reader::FormList => "/entity.replace",
            Reader::Raw => "/entity.count",
            Reader::Text => "/entity.delete",
            Reader::QueryList => "/entity.find",
            Reader::Verified => "/entity.create",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Signed,
    Basic,
}

/// A parameter as sent: its key and value bytes.
type Pair = (Vec<u8>, Vec<u8>);

/// One generated request.
#[derive(Debug, Clone)]
struct Case {
    auth: Auth,
    placement: Placement,
    reader: Reader,
    params: Vec<Pair>,
}

/// Text over an alphabet that reaches what matters to the layer and to the string to sign:
/// `=`, `&`, `%` (alone and as an escape's text), `+`, space, line breaks, non-ASCII, and
/// (in one string of 27) a byte sequence that is not UTF-8, or the authenticating client's id.
fn text() -> impl Strategy<Value = Vec<u8>> {
    let atom = prop_oneof![
        8 => "[a-z_]{1,3}".prop_map(String::into_bytes),
        1 => Just(b"=".to_vec()),
        1 => Just(b"%".to_vec()),
        1 => Just(b"%3D".to_vec()),
        1 => Just(b"&".to_vec()),
        1 => Just(b"+".to_vec()),
        1 => Just(b" ".to_vec()),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just("\u{e9}".as_bytes().to_vec()),
        1 => Just("\u{20ac}".as_bytes().to_vec()),
        1 => Just("\u{1f600}".as_bytes().to_vec()),
    ];
    let valid = || proptest::collection::vec(atom.clone(), 0..5).prop_map(|atoms| atoms.concat());
    let invalid = prop_oneof![
        Just(vec![0xff]),
        Just(vec![0x80]),
        Just(vec![0xc3]),
        Just(vec![0xed, 0xa0, 0x80]),
    ];
    prop_oneof![
        24 => valid(),
        1 => (valid(), invalid, valid()).prop_map(|(a, b, c)| [a, b, c].concat()),
        // The authenticating client's id, as a `client_id` may name it.
        2 => Just(DIRECT.0.as_bytes().to_vec()),
    ]
}

/// The names the layer counts, and any other text.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => Just(b"client_id".to_vec()),
        2 => Just(b"access_token".to_vec()),
        2 => Just(b"client_secret".to_vec()),
        1 => Just(b"uuid".to_vec()),
        10 => text(),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let placement = prop_oneof![
        3 => Just(Placement::Body(FORM)),
        1 => Just(Placement::Body("application/x-www-form-urlencoded; charset=UTF-8")),
        3 => Just(Placement::GetQuery),
        2 => Just(Placement::PostQuery),
        1 => Just(Placement::Both),
        1 => Just(Placement::FormOnGet),
        1 => Just(Placement::OtherType(LOOK_ALIKE)),
        1 => Just(Placement::OtherType("text/plain")),
    ];
    let auth = prop_oneof![Just(Auth::Signed), Just(Auth::Basic)];
    // The authenticating client's own `client_id` also as a pair of its own, so that accepted
    // requests carry one often enough to be counted (a key and a value drawn apart meet too
    // rarely: about 10 times in 1,500 cases).
    let pair = prop_oneof![
        16 => (key(), text()),
        1 => Just((b"client_id".to_vec(), DIRECT.0.as_bytes().to_vec())),
    ];
    let params = proptest::collection::vec(pair, 0..6);
    (
        auth,
        placement,
        params,
        proptest::arbitrary::any::<prop::sample::Index>(),
    )
        .prop_map(|(auth, placement, params, index)| Case {
            auth,
            placement,
            reader: *index.get(placement.readers()),
            params,
        })
}

/// A refusal: status, Janrain code, error.
type Refusal = (u16, u16, &'static str);
const AMBIGUOUS: Refusal = (400, 232, "ambiguous_parameters");
const UNSUPPORTED: Refusal = (415, 233, "unsupported_body");
const NOT_TEXT: Refusal = (400, 200, "invalid_argument");

/// What the layer must answer, by the rules of the README's Security section: the parameters
/// from their one place (a form body on POST, else the query string; never both, no form body
/// on GET, no look-alike form type, no other body on a janrain-signed request); then UTF-8 text
/// only; `client_id`, `access_token` and `client_secret` at most once each; and no
/// `access_token` on a janrain-signed or Basic request (it is a user's credential, not a
/// parameter of an API client's call). Accepted: the list the handler must see, as its echo
/// shows it (sorted; one value per key, the last, for a `Form` into a map).
fn expected(case: &Case) -> Result<Vec<(String, String)>, Refusal> {
    let empty = case.params.is_empty();
    let params: &[Pair] = match case.placement {
        Placement::OtherType(LOOK_ALIKE) => return Err(UNSUPPORTED),
        Placement::Both | Placement::FormOnGet if !empty => return Err(AMBIGUOUS),
        // A body that is not a form holds no parameters (the query string, empty, does); no
        // signature covers it, so a janrain-signed request may not carry it.
        Placement::OtherType(_) if !empty && case.auth == Auth::Signed => {
            return Err(UNSUPPORTED);
        }
        Placement::OtherType(_) => &[],
        _ => &case.params,
    };
    let mut text = Vec::with_capacity(params.len());
    for (k, v) in params {
        match (std::str::from_utf8(k), std::str::from_utf8(v)) {
            (Ok(k), Ok(v)) => text.push((k.to_owned(), v.to_owned())),
            _ => return Err(NOT_TEXT),
        }
    }
    for name in ["client_id", "access_token", "client_secret"] {
        if text.iter().filter(|(k, _)| k == name).count() > 1 {
            return Err(AMBIGUOUS);
        }
    }
    // A user's token where the request authenticated as a client, or a `client_id` naming
    // another client than the one that authenticated.
    if text.iter().any(|(k, _)| k == "access_token")
        || text.iter().any(|(k, v)| k == "client_id" && v != DIRECT.0)
    {
        return Err(AMBIGUOUS);
    }
    if case.reader == Reader::FormMap {
        let last: HashMap<String, String> = text.into_iter().collect();
        text = last.into_iter().collect();
    }
    text.sort();
    Ok(text)
}

/// Send `case` to the app at `base`; the status and the JSON body.
async fn send_case(http: &reqwest::Client, base: &str, case: &Case) -> (u16, Value) {
    let path = case.reader.path();
    let encoded = encode_urlencoded(&case.params);
    let (method, query, content_type, body) = match case.placement {
        Placement::Body(ct) => ("POST", "", Some(ct), encoded.as_str()),
        Placement::GetQuery => ("GET", encoded.as_str(), None, ""),
        Placement::PostQuery => ("POST", encoded.as_str(), None, ""),
        Placement::Both => ("POST", encoded.as_str(), Some(FORM), encoded.as_str()),
        Placement::FormOnGet => ("GET", "", Some(FORM), encoded.as_str()),
        Placement::OtherType(ct) => ("POST", "", Some(ct), encoded.as_str()),
    };
    let url = if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    };
    let credentials = match case.auth {
        Auth::Signed => authorization(DIRECT.0, DIRECT.1, path, NOW, &case.params),
        Auth::Basic => basic_header(
            &ClientId::new(DIRECT.0).unwrap(),
            &ClientSecret::new(DIRECT.1).unwrap(),
        )
        .to_str()
        .unwrap()
        .to_owned(),
    };
    let mut request = http
        .request(method.parse().unwrap(), url)
        .header("Date", NOW)
        .header("Authorization", credentials)
        .body(body.to_owned());
    if let Some(ct) = content_type {
        request = request.header("Content-Type", ct);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| json!({"not_json": String::from_utf8_lossy(&bytes)}));
    (status, json)
}

/// How often the generated cases reached each thing the property is about.
#[derive(Debug, Default)]
struct Reached {
    accepted: HashMap<String, usize>,
    refused: HashMap<Refusal, usize>,
    accepted_with: HashMap<&'static str, usize>,
    refused_for: HashMap<&'static str, usize>,
}

impl Reached {
    fn count(&mut self, case: &Case, answer: &Result<Vec<(String, String)>, Refusal>) {
        fn key(p: &Pair) -> &[u8] {
            &p.0
        }
        fn value(p: &Pair) -> &[u8] {
            &p.1
        }
        let bytes = |pick: fn(&Pair) -> &[u8], what: &[u8]| {
            case.params
                .iter()
                .any(|p| pick(p).windows(what.len()).any(|w| w == what))
        };
        let named = |name: &[u8]| case.params.iter().filter(|(k, _)| k == name).count();
        let not_text = case
            .params
            .iter()
            .any(|(k, v)| std::str::from_utf8(k).is_err() || std::str::from_utf8(v).is_err());
        match answer {
            Ok(_) => {
                *self
                    .accepted
                    .entry(format!("{:?} {:?}", case.auth, case.placement))
                    .or_default() += 1;
                for (what, hit) in [
                    ("a client_id", named(b"client_id") == 1),
                    ("a client_secret", named(b"client_secret") == 1),
                    ("= in a key", bytes(key, b"=")),
                    ("% in a key", bytes(key, b"%")),
                    ("= in a value", bytes(value, b"=")),
                    ("% in a value", bytes(value, b"%")),
                    ("a line break in a key", bytes(key, b"\n")),
                    ("a line break in a value", bytes(value, b"\n")),
                    (
                        "non-ASCII in a key",
                        case.params.iter().any(|(k, _)| !k.is_ascii()),
                    ),
                    (
                        "non-ASCII in a value",
                        case.params.iter().any(|(_, v)| !v.is_ascii()),
                    ),
                    ("two parameters", case.params.len() >= 2),
                ] {
                    *self.accepted_with.entry(what).or_default() += usize::from(hit);
                }
            }
            Err(refusal) => {
                *self.refused.entry(*refusal).or_default() += 1;
                for (what, hit) in [
                    ("text that is not UTF-8", not_text),
                    ("a repeated client_id", named(b"client_id") > 1),
                    ("a repeated access_token", named(b"access_token") > 1),
                    ("a repeated client_secret", named(b"client_secret") > 1),
                    (
                        "a single access_token",
                        named(b"access_token") == 1 && !not_text,
                    ),
                ] {
                    *self.refused_for.entry(what).or_default() += usize::from(hit);
                }
            }
        }
    }
}

/// Cases of the placement property: enough that each honest placement is accepted, each refusal
/// answered, and each kind of text reached, many times over (checked at the end).
const PLACEMENT_CASES: u32 = 1500;

/// For random parameter lists (names that include `client_id`, `access_token` and
/// `client_secret`; text with `=`, `%`, line breaks, non-ASCII and invalid UTF-8), signed or
/// Basic, in every placement, sent over HTTP to handlers that read them as axum apps do: each
/// answer is exactly what [`expected`] says. An honest placement of valid parameters is
/// accepted (200) and its handler sees exactly the signed list; everything else gets its
/// refusal.
#[test]
fn every_placement_gets_exactly_the_answer_the_rules_give() {
    use proptest::test_runner::{Config, TestRunner};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let base = runtime.block_on(serve_app(app(builder(&clock()))));
    let http = reqwest::Client::new();
    let reached = std::cell::RefCell::new(Reached::default());
    let mut runner = TestRunner::new(Config {
        cases: PLACEMENT_CASES,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&case(), |case| {
            let got = runtime.block_on(send_case(&http, &base, &case));
            let want = expected(&case);
            match &want {
                Ok(view) => {
                    prop_assert_eq!(got.0, 200, "{}", got.1);
                    prop_assert_eq!(&got.1["stat"], "ok", "{}", got.1);
                    prop_assert_eq!(&got.1["params"], &json!(view));
                }
                Err((status, code, error)) => {
                    prop_assert_eq!(got.0, *status, "{}", got.1);
                    prop_assert_eq!(&got.1["stat"], "error", "{}", got.1);
                    prop_assert_eq!(&got.1["code"], code, "{}", got.1);
                    prop_assert_eq!(&got.1["error"], error, "{}", got.1);
                }
            }
            reached.borrow_mut().count(&case, &want);
            Ok(())
        })
        .unwrap();
    // The cases reached everything the property is about (the shrinker's runs of a failure
    // never get here).
    let reached = reached.into_inner();
    let placements = [
        Placement::Body(FORM),
        Placement::GetQuery,
        Placement::PostQuery,
    ];
    for auth in [Auth::Signed, Auth::Basic] {
        for placement in placements {
            let n = reached.accepted.get(&format!("{auth:?} {placement:?}"));
            assert!(
                n >= Some(&10),
                "{auth:?} {placement:?} accepted {n:?} times: {reached:#?}"
            );
        }
    }
    for refusal in [AMBIGUOUS, UNSUPPORTED, NOT_TEXT] {
        let n = reached.refused.get(&refusal);
        assert!(n >= Some(&10), "{refusal:?} {n:?} times: {reached:#?}");
    }
    for (what, n) in reached.accepted_with.iter().chain(&reached.refused_for) {
        assert!(*n >= 10, "{what}: {n} times: {reached:#?}");
    }
    assert_eq!(reached.accepted_with.len() + reached.refused_for.len(), 16);
    let fewest = reached
        .accepted_with
        .iter()
        .chain(&reached.refused_for)
        .min_by_key(|(_, n)| **n);
    eprintln!("placement coverage: the rarest kind, {fewest:?}");
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
