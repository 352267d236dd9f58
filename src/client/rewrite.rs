//! What the signer does to a request's parameters beyond signing them: find them by the
//! verifier's rule (one place: a form body or the query string), add credentials that travel
//! as parameters where they are (a login client's `client_id`; legacy form credentials), and
//! build the `Authorization: OAuth` header of a user's call.

use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderValue, Method, Uri};

use super::error::SignError;
use super::request_signer::{BodyView, RequestLine, Rewrite};
use crate::credentials::AccessToken;
use crate::params::{ParamList, encode_urlencoded};
use crate::requests::BodyKind;

/// Where a request's parameters are.
#[derive(Clone, Copy)]
pub(super) enum Place<'a> {
    /// In the query string (or nowhere).
    Query,
    /// In this form body.
    Form(&'a [u8]),
}

/// A request's parameters as the server will read them, by the rule the verification layer
/// applies: the query string's pairs, or a form body's (and then the query string must hold
/// none). A body that cannot be read might hold parameters, and is refused.
pub(super) fn request_params<'b>(
    line: &RequestLine<'_>,
    headers: &HeaderMap,
    body: BodyView<'b>,
) -> Result<(ParamList, Place<'b>), SignError> {
    // The client sends its own parameters: no limit beyond memory.
    let mut params = ParamList::with_limit(usize::MAX);
    if let Some(query) = line.query {
        params.extend_urlencoded(query.as_bytes())?;
    }
    match (crate::requests::body_kind(headers), body) {
        (BodyKind::LooksLikeForm, _) => Err(SignError::AmbiguousParameters(
            "the Content-Type begins like application/x-www-form-urlencoded but is not it",
        )),
        (BodyKind::Form, BodyView::Bytes(bytes)) if !bytes.is_empty() => {
            if !params.is_empty() {
                return Err(SignError::AmbiguousParameters(
                    "it has parameters in both the query string and the form body",
                ));
            }
            params.extend_urlencoded(bytes)?;
            Ok((params, Place::Form(bytes)))
        }
        // A form body yet to be written, on a request whose parameters belong in the body:
        // what is added goes there, where the server looks for them (the server refuses a
        // POST with a form Content-Type and parameters in the query string).
        (BodyKind::Form, BodyView::Empty | BodyView::Bytes(_))
            if params.is_empty() && !matches!(*line.method, Method::GET | Method::HEAD) =>
        {
            Ok((params, Place::Form(&[])))
        }
        (_, BodyView::Unreadable) => Err(SignError::BodyNotBuffered),
        _ => Ok((params, Place::Query)),
    }
}

/// The query string or form body of a request whose credentials are parameters (a login
/// client's `client_id`; `client_id` and `client_secret` for form credentials): the request's
/// own, with `pairs` appended, url-encoded, where its parameters are. A request that already
/// has one of the names fails with `repeated(name)`: the server refuses a repeated credential.
/// The `Content-Length`, if set, follows the body. The encoded copy of the pairs made on the
/// way is zeroized (it may hold a secret); the result holds them, as it must.
pub(super) fn add_params(
    line: &RequestLine<'_>,
    headers: &mut HeaderMap,
    body: BodyView<'_>,
    pairs: &[(&'static str, &str)],
    repeated: impl Fn(&'static str) -> SignError,
) -> Result<Rewrite, SignError> {
    let (params, place) = request_params(line, headers, body)?;
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| params.get(name.as_bytes()).is_some())
    {
        return Err(repeated(name));
    }
    let mut added = encode_urlencoded(pairs);
    let join = |existing: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(existing);
        if !existing.is_empty() && !existing.ends_with(b"&") {
            out.push(b'&');
        }
        out.extend_from_slice(added.as_bytes());
    };
    let rewrite = match place {
        Place::Form(bytes) => {
            let mut out = Vec::with_capacity(bytes.len() + 1 + added.len());
            join(bytes, &mut out);
            if headers.contains_key(CONTENT_LENGTH) {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
            }
            Ok(Rewrite::Body(out))
        }
        Place::Query => {
            let query = line.query.unwrap_or_default();
            let mut out = Vec::with_capacity(query.len() + 1 + added.len());
            join(query.as_bytes(), &mut out);
            // A valid query string and url-encoded ASCII make a valid query string.
            String::from_utf8(out)
                .map(Rewrite::Query)
                .map_err(|_| SignError::Uri("the query string is not text"))
        }
    };
    zeroize::Zeroize::zeroize(&mut added);
    rewrite
}

/// `Authorization: OAuth <token>`, marked sensitive; the copy made on the way is zeroized.
pub(super) fn oauth_header(token: &AccessToken) -> HeaderValue {
    let mut text = Vec::with_capacity(6 + token.expose().len());
    text.extend_from_slice(b"OAuth ");
    text.extend_from_slice(token.expose().as_bytes());
    // A token is visible ASCII by construction, so the value is always valid.
    let mut value = HeaderValue::from_bytes(&text).unwrap_or(HeaderValue::from_static("OAuth"));
    value.set_sensitive(true);
    zeroize::Zeroize::zeroize(&mut text);
    value
}

/// `uri` with its query string replaced by `query`.
pub(super) fn with_query(uri: &Uri, query: &str) -> Result<Uri, SignError> {
    let path_and_query = format!("{}?{query}", uri.path());
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(
        path_and_query
            .parse()
            .map_err(|_| SignError::Uri("the new query string does not parse"))?,
    );
    Uri::from_parts(parts).map_err(|_| SignError::Uri("the new URI does not parse"))
}
