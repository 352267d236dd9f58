//! Phase two's first step: the request's parameters, from their one place, under the limits,
//! and the rules every parameter list must pass.

use bytes::Bytes;
use http::Method;
use http::request::Parts;
use http_body::Body;

use super::{Verifier, refusal};
use crate::params::{ParamList, ParamsError};
use crate::permissions::AuthMethods;
use crate::requests::{self, BodyHeaders, BodyKind, Collect, CollectError, LengthError};
use crate::server::{Rejection, RejectionKind};

/// Where the parameters are: known already, or in a body to read first.
// Returned and matched at once, never stored: no reason to box the list.
#[allow(clippy::large_enum_variant)]
pub(super) enum Plan<B> {
    /// The parameters (the query string's); the body is empty.
    Ready(ParamList),
    /// The body must be read first.
    Read { role: BodyRole, body: B },
}

/// What a body the layer reads is to the request.
pub(super) enum BodyRole {
    /// A form: it holds the parameters. `exact_type`: its `Content-Type` is already exactly
    /// the form type, as a form is handed on.
    Form { exact_type: bool },
    /// Not a form: the query string holds the parameters (boxed: this case is rare, and the
    /// stage that waits for the body stays small). Where the credentials cover the parameters
    /// only, the body must turn out empty.
    Other {
        query: Box<ParamList>,
        must_be_empty: bool,
    },
}

/// Which bodies other than forms a request's credentials let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OtherBodies {
    /// Any: Basic, a login client without a token, an open operation, or an operation (or
    /// layer) that allows unsigned bodies.
    Allowed,
    /// None: a signature, or a user's token in the header, covers the parameters only.
    Refused,
    /// None beside an `access_token` parameter: without a header, a token may be the
    /// credential.
    RefusedBesideToken,
}

impl Verifier {
    /// Where the request's parameters are, from their one place (`declared`: what the
    /// headers say about the body).
    ///
    /// * A form body (`application/x-www-form-urlencoded`, any case, any parameters) on a
    ///   method other than GET and HEAD: the parameters are the body's; the query string must
    ///   hold none. The body is read under the limit and the timeout.
    /// * Otherwise the parameters are the query string's. A GET or HEAD must not carry a form
    ///   body. A body that is not a form is not parameters: it is read under the same bounds,
    ///   and where the credentials cover the parameters only (`others`) it must be empty.
    /// * A type that starts like the form type but is not it is refused.
    ///
    /// Then ([`Self::check_parameters`]): at most one `client_id`, `access_token` and
    /// `client_secret`, text only, and in strict mode no key or value that could be regrouped
    /// without changing the string to sign.
    pub(super) fn plan_parameters<B>(
        &self,
        parts: &Parts,
        declared: BodyHeaders,
        body: B,
        others: OtherBodies,
        accepts: AuthMethods,
    ) -> Result<Plan<B>, Rejection>
    where
        B: Body,
    {
        self.check_declared_length(declared.length)?;
        let empty = is_empty(&body);
        let mut params = ParamList::with_limit(self.max_params);
        if let Some(query) = parts.uri.query() {
            params
                .extend_urlencoded(query.as_bytes())
                .map_err(|e| self.unreadable(e, accepts))?;
        }
        let get_like = parts.method == Method::GET || parts.method == Method::HEAD;
        match declared.kind {
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
                if declared.encoded {
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
                return Ok(Plan::Read {
                    role: BodyRole::Form {
                        exact_type: declared.exact_form,
                    },
                    body,
                });
            }
            BodyKind::Other if !empty => {
                let must_be_empty = match others {
                    OtherBodies::Allowed => false,
                    OtherBodies::Refused => true,
                    OtherBodies::RefusedBesideToken => params.get(b"access_token").is_some(),
                };
                if must_be_empty && body.size_hint().exact().is_some() {
                    return Err(unsigned_body(accepts));
                }
                // Read, under the limit: a body of unknown length (a layer outside may hide
                // it) may yet turn out empty.
                return Ok(Plan::Read {
                    role: BodyRole::Other {
                        query: Box::new(params),
                        must_be_empty,
                    },
                    body,
                });
            }
            BodyKind::Other => {}
        }
        self.check_parameters(&params, accepts)?;
        Ok(Plan::Ready(params))
    }

    /// The parameters once the body of a [`Plan::Read`] is read, into `params` (empty): a
    /// form's, decoded in place, or the query string's beside a body that is not a form.
    pub(super) fn parameters_read(
        &self,
        params: &mut ParamList,
        role: BodyRole,
        bytes: &Bytes,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        match role {
            BodyRole::Form { .. } => params
                .extend_urlencoded(bytes)
                .map_err(|e| self.unreadable(e, accepts))?,
            BodyRole::Other {
                must_be_empty: true,
                ..
            } if !bytes.is_empty() => return Err(unsigned_body(accepts)),
            BodyRole::Other { query, .. } => *params = *query,
        }
        self.check_parameters(params, accepts)
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

    /// The `Content-Length`, refused when it is over the limit or not a length (before
    /// anything is read).
    pub(super) fn check_declared_length(
        &self,
        length: Result<Option<u64>, LengthError>,
    ) -> Result<(), Rejection> {
        match length {
            Ok(_) => Ok(()),
            Err(LengthError::TooLarge) => Err(self.too_large()),
            Err(LengthError::Invalid) => Err(Rejection::new(
                RejectionKind::InvalidParameters,
                "invalid Content-Length header",
            )),
        }
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
        requests::collect_limited(body, self.body_limit, Some(self.body_timeout))
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

/// Whether a body is known to be empty before it is read: by the body itself, never by a
/// `Content-Length` that may say otherwise (what is handed on is what the body holds).
pub(super) fn is_empty<B: Body>(body: &B) -> bool {
    body.is_end_stream() || body.size_hint().exact() == Some(0)
}

/// The refusal of a body no credential of the request covers.
fn unsigned_body(accepts: AuthMethods) -> Rejection {
    refusal(
        RejectionKind::UnsupportedBody,
        "this request may carry only an application/x-www-form-urlencoded body: its \
         credentials (a janrain-signed signature, or a user's access token) cover its \
         parameters and nothing else",
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A body with nothing in it that says so one way only: by its size, or by being at its
    /// end (a `Body` need not say both).
    struct Says {
        size: bool,
        end: bool,
    }

    impl Body for Says {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            Poll::Ready(None)
        }
        fn is_end_stream(&self) -> bool {
            self.end
        }
        fn size_hint(&self) -> http_body::SizeHint {
            if self.size {
                http_body::SizeHint::with_exact(0)
            } else {
                http_body::SizeHint::default()
            }
        }
    }

    #[test]
    fn a_body_is_empty_when_it_says_so_either_way() {
        assert!(is_empty(&Says {
            size: true,
            end: false
        }));
        assert!(is_empty(&Says {
            size: false,
            end: true
        }));
        assert!(!is_empty(&Says {
            size: false,
            end: false
        }));
        assert!(!is_empty(&http_body_util::Full::new(Bytes::from_static(
            b"x"
        ))));
    }

    #[test]
    fn regroupable_text_is_told_from_text_that_reads_one_way() {
        for (key, value) in [(&b"a=b"[..], &b"c"[..]), (b"k\ney", b"v"), (b"k\r", b"v")] {
            assert!(!is_unambiguous(key, value), "{key:?}");
        }
        for (key, value) in [(&b"a"[..], &b"b\nc"[..]), (b"a", b"b\rc")] {
            assert!(!is_unambiguous(key, value), "{value:?}");
        }
        assert!(is_unambiguous(b"a", b"b=c&d%"));
        assert!(is_unambiguous(b"", b""));
    }
}
