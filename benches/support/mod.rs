//! What the benches share: the typical signed form POST (a traditional sign-in form's six
//! parameters) and the client that signs it.

#![allow(dead_code)]

/// The `Date` every bench request carries (and every bench clock shows).
pub const DATE: &str = "2026-03-01 12:00:00";
/// The bench client's id.
pub const CLIENT_ID: &str = "apkrahlfumwse2e9nvrrotv6vchuptzw";
/// The bench client's secret.
pub const SECRET: &str = "rylicq8ydkz0vmki3gqaoxbk4gyrr05t";
/// The typical parameters: 6 of them, a 261-byte string to sign for `/entity.update`.
pub const PARAMS: [(&str, &str); 6] = [
    ("type_name", "user"),
    ("uuid", "7d19b8a2-5c4e-4f7b-9a61-2f0c3e8d1b44"),
    (
        "attributes",
        r#"["uuid", "email", "givenName", "familyName"]"#,
    ),
    ("value", r#"{"givenName": "Zoë", "familyName": "Example"}"#),
    ("include_record", "true"),
    ("created", "2016-02-26 19:08:44"),
];

/// The typical request to `path`, signed by `client_id` with [`SECRET`] at [`DATE`], as a
/// maker of fresh copies (a request is consumed by each call): a form POST of [`PARAMS`].
pub fn signed_post(
    path: &'static str,
    client_id: &str,
) -> impl Fn() -> http::Request<axum::body::Body> {
    use janrain_auth::credentials::ClientId;
    use janrain_auth::params::encode_urlencoded;
    use janrain_auth::scheme::{SigningKey, StringToSign, signature_header};

    let client = ClientId::new(client_id).expect("a valid client id");
    let signature = SigningKey::new(SECRET).sign(&StringToSign::new(path, DATE, &PARAMS));
    let authorization = signature_header(&client, &signature);
    let body = bytes::Bytes::from(encode_urlencoded(&PARAMS));
    move || {
        http::Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", body.len())
            .header("date", DATE)
            .header("authorization", authorization.clone())
            .body(axum::body::Body::from(body.clone()))
            .expect("a valid request")
    }
}

/// The typical request as over HTTP: like [`signed_post`], but its body, as hyper's server
/// hands one over, is not there at the first poll (the poll asks to be polled again) and is
/// complete at the second.
pub fn signed_post_late_body(
    path: &'static str,
    client_id: &str,
) -> impl Fn() -> http::Request<axum::body::Body> {
    let request = signed_post(path, client_id);
    move || {
        request().map(|body| {
            axum::body::Body::new(LateBody {
                body: Some(body),
                waited: false,
            })
        })
    }
}

/// A body that is pending once, then the body it holds.
struct LateBody {
    body: Option<axum::body::Body>,
    waited: bool,
}

impl http_body::Body for LateBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if !self.waited {
            self.waited = true;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        match self.body.as_mut() {
            Some(body) => std::pin::Pin::new(body).poll_frame(cx),
            None => std::task::Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.waited
            && self
                .body
                .as_ref()
                .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body
            .as_ref()
            .map(http_body::Body::size_hint)
            .unwrap_or_default()
    }
}
