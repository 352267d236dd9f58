//! The [`Verification`] future: it drives the steps in order, each as far as it can go when
//! polled, and keeps the request's parts from start to answer. The steps themselves live with
//! what they check (see the [module table](super)).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE,
    HeaderValue, ORIGIN, PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};
use http::request::Parts;
use http::{HeaderMap, Method, Request, Uri};
use http_body::Body;
use pin_project::pin_project;
use tracing::Span;

use super::claim::{RequestHeaders, Ways};
use super::operation::Called;
use super::parameters::{BodyRole, OtherBodies, Plan, is_empty};
use super::{Accepted, Claimed, Credentials, Decision, Established, Verified, Verifier};
use crate::params::ParamList;
use crate::permissions::AuthMethods;
use crate::requests::{BodyHeaders, BoxError, Collect, FORM};
use crate::server::{AuthenticatedClient, Rejection, Unauthenticated, VerifiedParams};

/// The verification of one request, as a future: [`Verify`](crate::server::Verify),
/// [`VerifyLayer::verify`](crate::server::VerifyLayer::verify) and the tower-http authorizer
/// all await it.
#[pin_project]
pub(crate) struct Verification<B> {
    verifier: Arc<Verifier>,
    span: Span,
    /// The request's parts, kept here from start to answer so that the stages (which move
    /// as the verification goes on) stay small; `None` once handed on.
    parts: Option<Parts>,
    #[pin]
    stage: Stage<B>,
}

// Each stage is held unboxed on purpose: boxing them would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
#[pin_project(project = StageProj)]
enum Stage<B> {
    /// Nothing done yet: the body.
    Start(Option<B>),
    /// Phase one waits for the client store (janrain-signed and Basic name their client),
    /// with the body and what the headers say about it.
    Claiming(Option<(B, BodyHeaders, Established)>),
    /// The body is being read.
    Reading {
        waiting: Option<Reading>,
        #[pin]
        read: Collect<B>,
    },
    /// Phase two waits for a store (a token's grant, a login client, the replay guard).
    Deciding(Option<Box<Deciding>>),
    /// The answer was given.
    Done,
}

/// What waits for a body being read.
// Held inline in the stage, as the stage is: boxing it would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
enum Reading {
    /// A request being verified, and what its body is to it.
    Verified(Established, BodyRole),
    /// A path let through unverified: only the body's bounds apply.
    Unverified,
}

/// A request whose credentials wait for a store in phase two, with its parameters.
struct Deciding {
    called: Called,
    credentials: Credentials,
    params: ParamList,
    body: Bytes,
}

/// Where a step leaves the verification: the body to hand on (with the parts), or the stage
/// to go on with.
// Returned and matched at once, never stored.
#[allow(clippy::large_enum_variant)]
enum Next<B> {
    Done(Result<Bytes, Rejection>),
    Stage(Stage<B>),
}

impl<B> Verification<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Start verifying `request` (nothing runs until the future is polled).
    pub(crate) fn new(verifier: Arc<Verifier>, request: Request<B>) -> Self {
        let span = tracing::debug_span!(
            "janrain_verify",
            operation = tracing::field::Empty,
            client_id = tracing::field::Empty,
            auth = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let (parts, body) = request.into_parts();
        Verification {
            verifier,
            span,
            parts: Some(parts),
            stage: Stage::Start(Some(body)),
        }
    }
}

impl<B> Future for Verification<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// The verified request, or the refusal ready to answer with the layer's settings.
    type Output = Result<Verified, Rejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let span = &*this.span;
        let _entered = span.enter();
        let verifier = &**this.verifier;
        // Polled after its answer: it has none left to give.
        let Some(parts) = this.parts.as_mut() else {
            return Poll::Pending;
        };
        loop {
            let next = match this.stage.as_mut().project() {
                StageProj::Start(body) => match body.take() {
                    Some(body) => verifier.start(parts, span, body, cx),
                    None => return Poll::Pending,
                },
                StageProj::Claiming(pending) => {
                    let Some((_, _, established)) = pending.as_mut() else {
                        return Poll::Pending;
                    };
                    let operation = established.called.operation(verifier);
                    let found = ready!(established.claimed.poll_client(verifier, operation, cx));
                    let Some((body, declared, established)) = pending.take() else {
                        return Poll::Pending;
                    };
                    match found {
                        Ok(()) => verifier.parameters(parts, span, body, declared, established, cx),
                        Err(rejection) => Next::Done(Err(rejection)),
                    }
                }
                StageProj::Reading { waiting, read } => {
                    let read = ready!(read.poll(cx));
                    match (waiting.take(), read) {
                        (Some(Reading::Verified(established, role)), Ok(bytes)) => {
                            verifier.after_read(parts, span, established, role, bytes, cx)
                        }
                        (Some(Reading::Verified(established, _)), Err(e)) => {
                            Next::Done(Err(verifier
                                .read_refusal(e, established.called.operation(verifier).auth())))
                        }
                        (Some(Reading::Unverified), Ok(bytes)) => {
                            parts.extensions.insert(Unauthenticated);
                            Next::Done(Ok(bytes))
                        }
                        (Some(Reading::Unverified), Err(e)) => {
                            Next::Done(Err(verifier.read_refusal(e, AuthMethods::EMPTY)))
                        }
                        (None, _) => return Poll::Pending,
                    }
                }
                StageProj::Deciding(deciding) => {
                    let Some(waiting) = deciding.as_mut() else {
                        return Poll::Pending;
                    };
                    let request = Decision {
                        params: &waiting.params,
                        operation: waiting.called.operation(verifier),
                        called_path: called_path(&waiting.called, parts),
                    };
                    let accepted = ready!(waiting.credentials.poll_decide(verifier, &request, cx));
                    let Some(waiting) = deciding.take() else {
                        return Poll::Pending;
                    };
                    let Deciding {
                        called,
                        mut params,
                        body,
                        ..
                    } = *waiting;
                    Next::Done(accepted.map(|accepted| {
                        verifier.conclude(parts, span, called, accepted, &mut params, body)
                    }))
                }
                StageProj::Done => return Poll::Pending,
            };
            match next {
                Next::Stage(stage) => this.stage.set(stage),
                Next::Done(result) => {
                    this.stage.set(Stage::Done);
                    // The parts join the body last: they move once, into the answer.
                    let result = verifier.answered(span, result);
                    let Some(parts) = this.parts.take() else {
                        return Poll::Pending;
                    };
                    return Poll::Ready(result.map(|body| (parts, body)));
                }
            }
        }
    }
}

impl<B> fmt::Debug for Verification<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verification").finish_non_exhaustive()
    }
}

/// The path the client called, and signed.
fn called_path<'a>(called: &'a Called, parts: &'a Parts) -> &'a str {
    called.called_path.as_deref().unwrap_or(parts.uri.path())
}

impl Verifier {
    /// Record the outcome in the span; a refusal comes back ready to answer with the layer's
    /// settings.
    fn answered(&self, span: &Span, result: Result<Bytes, Rejection>) -> Result<Bytes, Rejection> {
        match result {
            Ok(body) => {
                span.record("outcome", "accepted");
                tracing::debug!("request accepted");
                Ok(body)
            }
            Err(rejection) => {
                span.record("outcome", rejection.kind().as_str());
                tracing::debug!(reason = %rejection.kind(), "request refused");
                Err(self.finish(rejection))
            }
        }
    }

    /// Phase one: the operation and the credentials it claims; janrain-signed and Basic wait
    /// for their client here, before the body.
    fn start<B>(&self, parts: &mut Parts, span: &Span, body: B, cx: &mut Context<'_>) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        // Nothing inside the layer (a trace, a log of headers) may print the credentials.
        mark_sensitive(&mut parts.headers);
        if is_preflight(parts) {
            // A CORS preflight carries no credentials and no parameters: CORS answers it. It
            // goes on with nothing a handler could take for verified: no query string, no
            // credentials, no body.
            strip_preflight(parts);
            return Next::Done(Ok(Bytes::new()));
        }
        let called = match self.operation(parts, span) {
            Ok(Some(called)) => called,
            Ok(None) => return self.unverified(parts, body),
            Err(rejection) => return Next::Done(Err(rejection)),
        };
        // Looked up once for the phase: it borrows the configuration, not the request.
        let operation = called.operation(self);
        let headers = RequestHeaders::read(&parts.headers, self.body_limit);
        let claimed = match self.claim(&headers, operation, span) {
            Ok(claimed) => claimed,
            Err(rejection) => return Next::Done(Err(rejection)),
        };
        let declared = headers.body;
        let mut established = Established { called, claimed };
        match established.claimed.poll_client(self, operation, cx) {
            Poll::Ready(Ok(())) => self.parameters(parts, span, body, declared, established, cx),
            Poll::Ready(Err(rejection)) => Next::Done(Err(rejection)),
            Poll::Pending => Next::Stage(Stage::Claiming(Some((body, declared, established)))),
        }
    }

    /// A path let through unauthenticated (`UnknownPaths::Allow`): its body, bounded as any.
    fn unverified<B: Body>(&self, parts: &mut Parts, body: B) -> Next<B> {
        let declared = BodyHeaders::read(&parts.headers, self.body_limit);
        if let Err(rejection) = self.check_declared_length(declared.length) {
            return Next::Done(Err(rejection));
        }
        if is_empty(&body) {
            parts.extensions.insert(Unauthenticated);
            return Next::Done(Ok(Bytes::new()));
        }
        Next::Stage(Stage::Reading {
            waiting: Some(Reading::Unverified),
            read: self.read(body),
        })
    }

    /// The parameters, from their one place: at once from the query string, or after the
    /// body is read.
    fn parameters<B>(
        &self,
        parts: &mut Parts,
        span: &Span,
        body: B,
        declared: BodyHeaders,
        established: Established,
        cx: &mut Context<'_>,
    ) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let op = established.called.operation(self);
        let unsigned_bodies = self.allow_unsigned_bodies || op.allows_unsigned_body();
        let others = match &established.claimed {
            _ if unsigned_bodies => OtherBodies::Allowed,
            Claimed::Header(Credentials::Signed(_) | Credentials::UserToken(_)) => {
                OtherBodies::Refused
            }
            Claimed::NoHeader(ways) if ways.takes_token() => OtherBodies::RefusedBesideToken,
            _ => OtherBodies::Allowed,
        };
        match self.plan_parameters(parts, declared, body, others, op.auth()) {
            Err(rejection) => Next::Done(Err(rejection)),
            Ok(Plan::Ready(mut params)) => self.decide(
                parts,
                span,
                established,
                &mut params,
                Bytes::new(),
                false,
                cx,
            ),
            Ok(Plan::Read { role, body }) => Next::Stage(Stage::Reading {
                read: self.read(body),
                waiting: Some(Reading::Verified(established, role)),
            }),
        }
    }

    /// After the body was read: its parameters, then phase two.
    fn after_read<B>(
        &self,
        parts: &mut Parts,
        span: &Span,
        established: Established,
        role: BodyRole,
        bytes: Bytes,
        cx: &mut Context<'_>,
    ) -> Next<B> {
        let accepts = established.called.operation(self).auth();
        let form = matches!(role, BodyRole::Form { .. });
        let retype = matches!(role, BodyRole::Form { exact_type: false });
        // Decoded where it stays until the handler reads it.
        let mut params = ParamList::with_limit(self.max_params);
        if let Err(rejection) = self.parameters_read(&mut params, role, &bytes, accepts) {
            return Next::Done(Err(rejection));
        }
        if retype {
            // A form handed on says it is one the way every extractor reads it: exactly
            // `application/x-www-form-urlencoded` (axum's `Form` refuses the type in other
            // letter cases the layer accepts).
            parts
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
        }
        self.decide(parts, span, established, &mut params, bytes, form, cx)
    }

    /// Phase two: the credentials decide with the parameters, at once where no store must
    /// be waited for.
    #[allow(clippy::too_many_arguments)]
    fn decide<B>(
        &self,
        parts: &mut Parts,
        span: &Span,
        established: Established,
        params: &mut ParamList,
        body: Bytes,
        form_body: bool,
        cx: &mut Context<'_>,
    ) -> Next<B> {
        let Established { called, claimed } = established;
        let operation = called.operation(self);
        let mut credentials = match claimed {
            Claimed::Header(credentials) => credentials,
            Claimed::NoHeader(ways) => match Ways::resolve(ways, params, form_body, operation) {
                Ok(credentials) => credentials,
                Err(rejection) => return Next::Done(Err(rejection)),
            },
        };
        let request = Decision {
            params,
            operation,
            called_path: called_path(&called, parts),
        };
        match credentials.poll_decide(self, &request, cx) {
            Poll::Ready(Ok(accepted)) => Next::Done(Ok(
                self.conclude(parts, span, called, accepted, params, body)
            )),
            Poll::Ready(Err(rejection)) => Next::Done(Err(rejection)),
            Poll::Pending => Next::Stage(Stage::Deciding(Some(Box::new(Deciding {
                called,
                credentials,
                params: std::mem::take(params),
                body,
            })))),
        }
    }

    /// Hand the verified request on: who acts and the parameters as extensions, and the body
    /// (rewritten where a secret was taken out of it).
    fn conclude(
        &self,
        parts: &mut Parts,
        span: &Span,
        called: Called,
        accepted: Accepted,
        params: &mut ParamList,
        body: Bytes,
    ) -> Bytes {
        span.record("auth", accepted.method.as_str());
        match accepted.client {
            Some(client) => {
                let name = called.into_name(self);
                let mut authenticated = AuthenticatedClient::new(client, accepted.method, name);
                if let Some(user) = accepted.user {
                    authenticated = authenticated.with_user(user);
                }
                parts.extensions.insert(authenticated);
            }
            None => {
                parts.extensions.insert(Unauthenticated);
            }
        }
        // Each list moved once, into its extension.
        match accepted.rewritten {
            Some(rewritten) => {
                let (params, body) = *rewritten;
                parts.headers.insert(CONTENT_LENGTH, body.len().into());
                parts.extensions.insert(VerifiedParams::new(params));
                body
            }
            None => {
                parts
                    .extensions
                    .insert(VerifiedParams::new(std::mem::take(params)));
                body
            }
        }
    }
}

/// Whether the request is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`, which browsers send without credentials or parameters.
fn is_preflight(parts: &Parts) -> bool {
    parts.method == Method::OPTIONS
        && parts.headers.contains_key(ORIGIN)
        && parts.headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// A preflight as it goes on: no query string, no credentials, no body, and marked as let
/// through unauthenticated.
fn strip_preflight(parts: &mut Parts) {
    if parts.uri.query().is_some() {
        let mut uri = std::mem::take(&mut parts.uri).into_parts();
        uri.path_and_query = uri.path_and_query.and_then(|pq| pq.path().parse().ok());
        parts.uri = Uri::from_parts(uri).unwrap_or_default();
    }
    for name in [
        AUTHORIZATION,
        PROXY_AUTHORIZATION,
        COOKIE,
        CONTENT_LENGTH,
        CONTENT_TYPE,
        TRANSFER_ENCODING,
    ] {
        parts.headers.remove(name);
    }
    parts.extensions.insert(Unauthenticated);
}

/// Mark every `Authorization` value sensitive, so that layers inside this one (and `Debug` of
/// the headers) never print it.
fn mark_sensitive(headers: &mut HeaderMap) {
    // One pass over the few headers a request has costs less than hashing the name.
    for (name, value) in headers.iter_mut() {
        if *name == AUTHORIZATION {
            value.set_sensitive(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{MemoryStore, VerifyLayer};

    /// The verification's `Debug` (which the layer's public futures show) names it and holds
    /// no part of the request: not its query, not its credentials.
    #[test]
    fn debug_shows_no_part_of_the_request() {
        let layer = VerifyLayer::builder(MemoryStore::new()).build();
        let request = Request::builder()
            .uri("/entity.find?type_name=user&access_token=tok-alice")
            .header(AUTHORIZATION, "Basic c2VjcmV0LWlkOnNlY3JldA==")
            .body(http_body_util::Full::new(Bytes::from_static(b"uuid=bob")))
            .unwrap();
        let verification = Verification::new(layer.verifier.clone(), request);
        assert_eq!(format!("{verification:?}"), "Verification { .. }");
    }

    /// Every `Authorization` value is marked sensitive before anything inside the layer sees
    /// the headers; the other headers are left as they are.
    #[test]
    fn every_authorization_value_is_marked_sensitive() {
        let mut headers = HeaderMap::new();
        headers.append(AUTHORIZATION, HeaderValue::from_static("OAuth tok-alice"));
        headers.append(AUTHORIZATION, HeaderValue::from_static("Basic c2VjcmV0"));
        headers.insert(ORIGIN, HeaderValue::from_static("https://app.example"));
        mark_sensitive(&mut headers);
        assert!(
            headers
                .get_all(AUTHORIZATION)
                .iter()
                .all(|v| v.is_sensitive())
        );
        assert_eq!(headers.get_all(AUTHORIZATION).iter().count(), 2);
        assert!(!headers[ORIGIN].is_sensitive());
    }
}
