//! The [`Verification`] future: the steps of the procedure, driven as far as each can go
//! when polled, with the stage it waits in kept unboxed where it can be.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::{ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, ORIGIN};
use http::request::Parts;
use http::{HeaderMap, Method, Request};
use http_body::Body;
use pin_project::pin_project;
use tracing::Span;

use super::parameters::Plan;
use super::phase_two::accepted;
use super::{Credentials, Established, Halt, Held, Remainder, Settled, Verified, Verifier, Wait};
use crate::body::{self, BoxError, Collect};
use crate::params::ParamList;
use crate::server::Rejection;
use crate::server::store::BoxFuture;

/// The verification of one request, as a future: [`Verify`](super::Verify) and
/// [`VerifyLayer::verify`](super::VerifyLayer::verify) both await it.
///
/// Every step runs as far as it can when polled. A request whose client the store has at
/// once, whose body has fully arrived and which needs no replay guard or token verifier (a
/// typical signed form POST to a server with its clients in memory) is verified in one poll,
/// with nothing boxed. A step that must wait keeps its place: the body is read in this
/// future; a client store that cannot answer at once, the replay guard and the token checks
/// run in a boxed future of their own.
#[pin_project]
pub(crate) struct Verification<B> {
    verifier: Arc<Verifier>,
    span: tracing::Span,
    /// The request's parts, kept here from start to answer so that the stages (which move
    /// as the verification goes on) stay small; `None` once handed on.
    parts: Option<Parts>,
    #[pin]
    stage: Stage<B>,
}

// Each stage is held unboxed on purpose: boxing them is the allocation this saves.
#[allow(clippy::large_enum_variant)]
#[pin_project(project = StageProj)]
enum Stage<B> {
    /// Nothing done yet: the body.
    Start(Option<B>),
    /// Phase one waits for the client store (with the parts, given back at the end).
    PhaseOne {
        body: Option<B>,
        future: BoxFuture<'static, (Parts, Result<Option<Established>, Rejection>)>,
    },
    /// The body is being read (a form, or a body of unknown length on a signed request).
    Reading {
        waiting: Option<AwaitingBody>,
        #[pin]
        read: Collect<B>,
    },
    /// Phase two waits for the replay guard, a token verifier or the client store (with the
    /// parts, given back at the end).
    Finishing(BoxFuture<'static, (Parts, Result<Held<B>, Rejection>)>),
    /// The answer was given.
    Done,
}

/// A request whose body is being read.
struct AwaitingBody {
    established: Established,
    /// `None`: the body is a form, and holds the parameters. Else the query string's
    /// parameters (boxed: this case is rare, and the stage stays small), and the body must
    /// turn out empty.
    query: Option<Box<ParamList>>,
}

/// Where a step leaves the verification: the body to hand on (with the parts), or the stage
/// to go on with.
#[allow(clippy::large_enum_variant)]
enum Next<B> {
    Done(Result<Held<B>, Rejection>),
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
    type Output = Result<Verified<B>, Rejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let span = &*this.span;
        let _entered = span.enter();
        let verifier = &*this.verifier;
        // Polled after its answer: it has none left to give.
        let Some(parts) = this.parts.as_mut() else {
            return Poll::Pending;
        };
        loop {
            let next = match this.stage.as_mut().project() {
                StageProj::Start(body) => match body.take() {
                    Some(body) => verifier.start(parts, span, body),
                    None => return Poll::Pending,
                },
                StageProj::PhaseOne { body, future } => {
                    let (given_back, established) = ready!(future.as_mut().poll(cx));
                    *parts = given_back;
                    match body.take() {
                        Some(body) => verifier.after_phase_one(parts, span, body, established),
                        None => return Poll::Pending,
                    }
                }
                StageProj::Reading { waiting, read } => {
                    let read = ready!(read.poll(cx));
                    match waiting.take() {
                        Some(waiting) => verifier.after_read(parts, span, waiting, read),
                        None => return Poll::Pending,
                    }
                }
                StageProj::Finishing(future) => {
                    let (given_back, held) = ready!(future.as_mut().poll(cx));
                    *parts = given_back;
                    Next::Done(held)
                }
                StageProj::Done => return Poll::Pending,
            };
            match next {
                Next::Stage(stage) => this.stage.set(stage),
                Next::Done(result) => {
                    this.stage.set(Stage::Done);
                    let result = match this.parts.take() {
                        Some(parts) => result.map(|held| (parts, held)),
                        None => return Poll::Pending,
                    };
                    return Poll::Ready(verifier.answered(span, result));
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

/// The parts of a request, taken for a step that waits in a boxed future (which gives them
/// back); an empty request's parts stand in meanwhile.
fn take_parts(parts: &mut Parts) -> Parts {
    std::mem::replace(parts, Request::new(()).into_parts().0)
}

/// Poll `future` once, for steps that never wait (the store lookups of [`Wait::Never`]):
/// `None` if it did not finish, which such a step never does.
fn at_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

impl Verifier {
    /// Record the outcome in the span; a refusal comes back ready to answer with the layer's
    /// settings.
    fn answered<B>(
        &self,
        span: &Span,
        result: Result<Verified<B>, Rejection>,
    ) -> Result<Verified<B>, Rejection> {
        match result {
            Ok(verified) => {
                span.record("outcome", "accepted");
                tracing::debug!("request accepted");
                Ok(verified)
            }
            Err(rejection) => {
                span.record("outcome", rejection.kind().as_str());
                tracing::debug!(reason = %rejection.kind(), "request refused");
                Err(self.finish(rejection))
            }
        }
    }

    /// The first step: phase one, if the store answers at once; else phase one waits for it
    /// in a boxed future (and asks the store again there: a store's future does nothing until
    /// it is polled, and the one it gave first was not).
    fn start<B>(self: &Arc<Self>, parts: &mut Parts, span: &Span, body: B) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        // Nothing inside the layer (a trace, a log of headers) may print the credentials.
        mark_sensitive(&mut parts.headers);
        if is_preflight(parts) {
            // A CORS preflight carries no credentials and no parameters: CORS answers it. It
            // goes on with no body and no extensions, so a handler it reaches (a route taking
            // OPTIONS) has nothing unverified to act on.
            return Next::Done(Ok(Held::Read(Bytes::new())));
        }
        match at_once(self.phase_one(parts, span, Wait::Never)) {
            Some(Ok(established)) => self.after_phase_one(parts, span, body, Ok(established)),
            Some(Err(Halt::Refused(rejection))) => Next::Done(Err(rejection)),
            Some(Err(Halt::MustWait)) | None => {
                let verifier = self.clone();
                let parts = take_parts(parts);
                let future = Box::pin(async move {
                    let established = verifier
                        .phase_one(&parts, &Span::current(), Wait::Allowed)
                        .await
                        .map_err(Halt::refusal);
                    (parts, established)
                });
                Next::Stage(Stage::PhaseOne {
                    body: Some(body),
                    future,
                })
            }
        }
    }

    /// After phase one: the parameters, read from the body where they are there.
    fn after_phase_one<B>(
        self: &Arc<Self>,
        parts: &mut Parts,
        span: &Span,
        body: B,
        established: Result<Option<Established>, Rejection>,
    ) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let established = match established {
            Ok(Some(established)) => established,
            Ok(None) => {
                // An unknown path let through (`UnknownPaths::Allow`).
                return Next::Done(
                    self.check_declared_length(&parts.headers)
                        .map(|_| Held::Untouched(body)),
                );
            }
            Err(rejection) => return Next::Done(Err(rejection)),
        };
        let op = &established.operation;
        let signed = matches!(established.credentials, Credentials::Signed { .. });
        let unsigned_body_allowed = self.allow_unsigned_bodies || op.allows_unsigned_body();
        match self.plan_parameters(parts, body, signed && !unsigned_body_allowed, op.auth()) {
            Err(rejection) => Next::Done(Err(rejection)),
            Ok(Plan::Ready(params, held)) => self.phase_two(parts, span, params, held, established),
            Ok(Plan::Read { query, body }) => Next::Stage(Stage::Reading {
                read: self.read(body),
                waiting: Some(AwaitingBody { established, query }),
            }),
        }
    }

    /// After the body was read: its parameters, then phase two.
    fn after_read<B>(
        self: &Arc<Self>,
        parts: &mut Parts,
        span: &Span,
        waiting: AwaitingBody,
        read: Result<Bytes, body::CollectError>,
    ) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let AwaitingBody { established, query } = waiting;
        let accepts = established.operation.auth();
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(e) => return Next::Done(Err(self.read_refusal(e, accepts))),
        };
        // Decoded where it stays until phase two hands it on.
        let mut params = ParamList::with_limit(self.max_params);
        match self.parameters_read(&mut params, query, bytes, accepts) {
            Ok(held) => self.phase_two(parts, span, params, held, established),
            Err(rejection) => Next::Done(Err(rejection)),
        }
    }

    /// Phase two: what needed the parameters, at once where nothing must wait.
    fn phase_two<B>(
        self: &Arc<Self>,
        parts: &mut Parts,
        span: &Span,
        params: ParamList,
        held: Held<B>,
        established: Established,
    ) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        match self.settle(parts, &params, &established) {
            Err(rejection) => Next::Done(Err(rejection)),
            Ok(Settled::Now(client, method)) => {
                let outcome = accepted(params, held, client, method);
                Next::Done(Ok(self.conclude(parts, span, established.name, outcome)))
            }
            Ok(Settled::Later) => {
                let Established {
                    operation,
                    name,
                    credentials,
                    ..
                } = established;
                let remainder = Remainder {
                    params,
                    held,
                    operation,
                    credentials,
                };
                let verifier = self.clone();
                let mut parts = take_parts(parts);
                Next::Stage(Stage::Finishing(Box::pin(async move {
                    let held = match verifier.settle_later(&parts, remainder).await {
                        Ok(outcome) => {
                            Ok(verifier.conclude(&mut parts, &Span::current(), name, outcome))
                        }
                        Err(rejection) => Err(rejection),
                    };
                    (parts, held)
                })))
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

/// Mark every `Authorization` value sensitive, so that layers inside this one (and `Debug` of
/// the headers) never print it.
fn mark_sensitive(headers: &mut HeaderMap) {
    if let http::header::Entry::Occupied(mut entry) = headers.entry(AUTHORIZATION) {
        for value in entry.iter_mut() {
            value.set_sensitive(true);
        }
    }
}
