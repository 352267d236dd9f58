//! Phase two's first step: the request's parameters, from their one place, under the limits,
//! and the rules every parameter list must pass.

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method};
use http_body::Body;

use super::{Held, Verifier, refusal};
use crate::body::{self, BodyKind, BoxError, Collect, CollectError, LengthError};
use crate::params::{ParamList, ParamsError};
use crate::permissions::AuthMethods;
use crate::server::{Rejection, RejectionKind};

/// Where the parameters are: known already, or in a body to read first.
// Returned and matched at once, never stored: no reason to box the list.
#[allow(clippy::large_enum_variant)]
pub(super) enum Plan<B> {
    /// The parameters (the query string's) and the body as handed on.
    Ready(ParamList, Held<B>),
    /// The body must be read. `query: None`: it is a form, and holds the parameters. Else
    /// the query string holds them, and the body (not a form, on a janrain-signed request)
    /// must turn out empty.
    Read {
        query: Option<Box<ParamList>>,
        body: B,
    },
}

impl Verifier {
    /// Where the request's parameters are, from their one place.
    ///
    /// * A form body (`application/x-www-form-urlencoded`, any case, any parameters) on a
    ///   method other than GET and HEAD: the parameters are the body's; the query string must
    ///   hold none. The body is read under the limit and the timeout and handed on as read.
    /// * Otherwise the parameters are the query string's. A GET or HEAD must not carry a form
    ///   body; a body that is not a form is not parameters, and on a janrain-signed request
    ///   (`refuse_other_bodies`) a non-empty one is refused, since nothing signs it.
    /// * A type that starts like the form type but is not it is refused.
    ///
    /// Then ([`Self::check_parameters`]): at most one `client_id` and one `access_token`, text
    /// only, and in strict mode no key or value that could be regrouped without changing the
    /// string to sign.
    pub(super) fn plan_parameters<B>(
        &self,
        parts: &Parts,
        body: B,
        refuse_other_bodies: bool,
        accepts: AuthMethods,
    ) -> Result<Plan<B>, Rejection>
    where
        B: Body,
    {
        let declared = self.check_declared_length(&parts.headers)?;
        let empty =
            declared == Some(0) || body.is_end_stream() || body.size_hint().exact() == Some(0);
        let mut params = ParamList::with_limit(self.max_params);
        if let Some(query) = parts.uri.query() {
            params
                .extend_urlencoded(query.as_bytes())
                .map_err(|e| self.unreadable(e, accepts))?;
        }
        let get_like = parts.method == Method::GET || parts.method == Method::HEAD;
        let held = match body::body_kind(&parts.headers) {
            BodyKind::LooksLikeForm => {
                return Err(refusal(
                    RejectionKind::UnsupportedBody,
                    "the Content-Type begins like application/x-www-form-urlencoded but is not \
                     it; send exactly that type (parameters such as charset may follow a ;)",
                    accepts,
                ));
            }
            BodyKind::Form if get_like => {
                if !empty {
                    return Err(refusal(
                        RejectionKind::AmbiguousParameters,
                        format!(
                            "a {} request carries its parameters in the query string; send no form body",
                            parts.method
                        ),
                        accepts,
                    ));
                }
                Held::Untouched(body)
            }
            BodyKind::Form => {
                if !params.is_empty() {
                    return Err(refusal(
                        RejectionKind::AmbiguousParameters,
                        "the request has parameters in both the query string and the form body; \
                         send them all in the body",
                        accepts,
                    ));
                }
                if is_encoded(&parts.headers) {
                    // The layer would read the encoded bytes as the parameters, while a
                    // decoding layer inside it would hand the handler others.
                    return Err(refusal(
                        RejectionKind::UnsupportedBody,
                        "the form body has a Content-Encoding: decode it before the verification \
                         layer (tower-http's RequestDecompressionLayer outside it), so that the \
                         parameters checked are the ones the handler reads",
                        accepts,
                    ));
                }
                return Ok(Plan::Read { query: None, body });
            }
            BodyKind::Other if refuse_other_bodies && !empty => {
                if body.size_hint().exact().is_some() {
                    return Err(unsigned_body(accepts));
                }
                // A body of unknown length (a layer outside may hide it) is read, under the
                // limit, to tell an empty one from one the signature would not cover.
                return Ok(Plan::Read {
                    query: Some(Box::new(params)),
                    body,
                });
            }
            BodyKind::Other => Held::Untouched(body),
        };
        self.check_parameters(&params, accepts)?;
        Ok(Plan::Ready(params, held))
    }

    /// The parameters once the body of a [`Plan::Read`] is read, into `params` (empty): a
    /// form's, decoded in place, or none from a body that had to be empty. The body is
    /// handed on as read.
    pub(super) fn parameters_read<B>(
        &self,
        params: &mut ParamList,
        query: Option<Box<ParamList>>,
        bytes: Bytes,
        accepts: AuthMethods,
    ) -> Result<Held<B>, Rejection> {
        match query {
            None => params
                .extend_urlencoded(&bytes)
                .map_err(|e| self.unreadable(e, accepts))?,
            Some(_) if !bytes.is_empty() => return Err(unsigned_body(accepts)),
            Some(query) => *params = *query,
        }
        self.check_parameters(params, accepts)?;
        Ok(Held::Read(bytes))
    }

    /// The rules every parameter list must pass, whatever its origin.
    pub(super) fn check_parameters(
        &self,
        params: &ParamList,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        // One check of all the text; only a list that fails it is checked parameter by
        // parameter, so that the first offending parameter decides the answer.
        let text = params.is_text();
        let mut client_ids = 0;
        let mut tokens = 0;
        let mut secrets = 0;
        for (key, value) in params.iter() {
            if !text && (std::str::from_utf8(key).is_err() || std::str::from_utf8(value).is_err()) {
                return Err(refusal(
                    RejectionKind::InvalidParameters,
                    "a parameter is not UTF-8 text; percent-encode the UTF-8 bytes of every key and value",
                    accepts,
                ));
            }
            client_ids += usize::from(key == b"client_id");
            tokens += usize::from(key == b"access_token");
            secrets += usize::from(key == b"client_secret");
            if self.strict_parameters && !is_unambiguous(key, value) {
                return Err(refusal(
                    RejectionKind::AmbiguousParameterText,
                    "a parameter key holds =, a line break or a carriage return, or a value holds \
                     a line break or a carriage return: such text can be regrouped without \
                     changing the string to sign, so this server refuses it",
                    accepts,
                ));
            }
        }
        let repeated = [
            (client_ids, "client_id"),
            (tokens, "access_token"),
            (secrets, "client_secret"),
        ]
        .into_iter()
        .find(|(count, _)| *count > 1);
        if let Some((_, name)) = repeated {
            return Err(refusal(
                RejectionKind::AmbiguousParameters,
                format!("the {name} parameter appears more than once; send it exactly once"),
                accepts,
            ));
        }
        Ok(())
    }

    /// The `Content-Length`, refused when it is over the limit or not a length.
    pub(super) fn check_declared_length(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<u64>, Rejection> {
        body::declared_length(headers, self.body_limit).map_err(|e| match e {
            LengthError::TooLarge => self.too_large(),
            LengthError::Invalid => Rejection::new(
                RejectionKind::InvalidParameters,
                "invalid Content-Length header",
            ),
        })
    }

    /// The refusal of parameters that cannot be decoded: too many, or (past what a list
    /// holds, which only a body limit above 4 GiB lets through) too long, refused as any
    /// body over the limit is.
    pub(super) fn unreadable(&self, e: ParamsError, accepts: AuthMethods) -> Rejection {
        match e {
            ParamsError::TooLong => self.too_large(),
            e => refusal(
                RejectionKind::InvalidParameters,
                format!("cannot read the parameters: {e}"),
                accepts,
            ),
        }
    }

    pub(super) fn too_large(&self) -> Rejection {
        Rejection::new(
            RejectionKind::BodyTooLarge,
            format!("the request body is larger than {} bytes", self.body_limit),
        )
    }

    /// Read a body whole, under the limit and the timeout.
    pub(super) fn read<B>(&self, body: B) -> Collect<B> {
        body::collect_limited(body, self.body_limit, Some(self.body_timeout))
    }

    /// Read a body whole, under the limit and the timeout, refused as [`Self::read_refusal`]
    /// says.
    pub(super) async fn read_body<B>(
        &self,
        body: B,
        accepts: AuthMethods,
    ) -> Result<Bytes, Rejection>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        self.read(body)
            .await
            .map_err(|e| self.read_refusal(e, accepts))
    }

    /// The refusal of a body that could not be read whole.
    pub(super) fn read_refusal(&self, error: CollectError, accepts: AuthMethods) -> Rejection {
        match error {
            CollectError::TooLarge => self.too_large(),
            CollectError::Timeout => Rejection::new(
                RejectionKind::BodyTimeout,
                format!(
                    "the request body did not arrive within {} s",
                    self.body_timeout.as_secs_f32()
                ),
            ),
            CollectError::Failed(e) => {
                tracing::debug!(error = %e, "the request body could not be read");
                refusal(
                    RejectionKind::InvalidParameters,
                    "the request body could not be read",
                    accepts,
                )
            }
        }
    }
}

/// The refusal of a body a janrain-signed request may not carry.
fn unsigned_body(accepts: AuthMethods) -> Rejection {
    refusal(
        RejectionKind::UnsupportedBody,
        "a janrain-signed request may carry only an application/x-www-form-urlencoded \
         body: the signature covers its parameters and nothing else",
        accepts,
    )
}

/// Whether a parameter's text can only be read one way in the string to sign: no `=` or line
/// break in the key (which would move the key/value boundary), no line break in the value
/// (which would merge or split lines).
pub(super) fn is_unambiguous(key: &[u8], value: &[u8]) -> bool {
    !key.iter().any(|b| matches!(b, b'=' | b'\n' | b'\r'))
        && !value.iter().any(|b| matches!(b, b'\n' | b'\r'))
}

/// Whether the body carries a `Content-Encoding` other than `identity`.
pub(super) fn is_encoded(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .any(|v| !v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"identity"))
}
