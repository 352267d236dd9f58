//! The body types the layer hands on: [`VerifiedBody`] to the inner service, and
//! [`ResponseBody`] back to the server. Both are the crate's own, so the layer composes with
//! any body type inside and outside it (tower-http's `Limited`, decompression, timeouts).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Limited;
use pin_project::pin_project;

use super::verify::Held;
use crate::body::BoxError;

/// The request body the inner service receives: the bytes of a form the layer read (exactly
/// as they arrived), or the original body, not read by the layer and bounded by its body
/// limit: reading past the limit fails with [`http_body_util::LengthLimitError`], which axum's
/// extractors answer with 413, as behind tower-http's `RequestBodyLimit`.
#[pin_project]
pub struct VerifiedBody<B> {
    #[pin]
    kind: Kind<B>,
}

#[pin_project(project = KindProj)]
enum Kind<B> {
    Read(Option<Bytes>),
    Streaming(#[pin] Limited<B>),
}

impl<B> VerifiedBody<B> {
    /// A body the layer read whole.
    pub(crate) fn read(bytes: Bytes) -> Self {
        VerifiedBody {
            kind: Kind::Read((!bytes.is_empty()).then_some(bytes)),
        }
    }

    /// A body the layer did not read, bounded by `limit` bytes.
    pub(crate) fn untouched(body: B, limit: usize) -> Self {
        VerifiedBody {
            kind: Kind::Streaming(Limited::new(body, limit)),
        }
    }

    /// The body of a verified request, as the layer hands it on.
    pub(crate) fn from_held(held: Held<B>, limit: usize) -> Self {
        match held {
            Held::Read(bytes) => VerifiedBody::read(bytes),
            Held::Untouched(body) => VerifiedBody::untouched(body, limit),
        }
    }
}

impl<B> Body for VerifiedBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            KindProj::Read(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            KindProj::Streaming(body) => body
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map(|f| f.map_data(into_bytes)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Read(bytes) => bytes.is_none(),
            Kind::Streaming(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Read(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Streaming(body) => body.size_hint(),
        }
    }
}

impl<B> fmt::Debug for VerifiedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The content may hold secrets (passwords in forms): only its shape.
        match &self.kind {
            Kind::Read(bytes) => f
                .debug_struct("VerifiedBody")
                .field("read_bytes", &bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
            Kind::Streaming(_) => f.debug_struct("VerifiedBody").finish_non_exhaustive(),
        }
    }
}

/// The response body of [`Verify`](super::Verify): a refusal the layer wrote (the Janrain
/// envelope), or the inner service's body.
///
/// `Default` is an empty body, as tower-http's `Timeout` needs of the body it wraps.
#[pin_project]
pub struct ResponseBody<B> {
    #[pin]
    kind: ResponseKind<B>,
}

#[pin_project(project = ResponseKindProj)]
enum ResponseKind<B> {
    Refusal(Option<Bytes>),
    Inner(#[pin] B),
}

impl<B> ResponseBody<B> {
    /// The inner service's body.
    pub fn inner(body: B) -> Self {
        ResponseBody {
            kind: ResponseKind::Inner(body),
        }
    }

    /// A body of the layer's own (a refusal).
    pub fn full(bytes: Bytes) -> Self {
        ResponseBody {
            kind: ResponseKind::Refusal((!bytes.is_empty()).then_some(bytes)),
        }
    }
}

impl<B> From<Bytes> for ResponseBody<B> {
    fn from(bytes: Bytes) -> Self {
        ResponseBody::full(bytes)
    }
}

impl<B> Default for ResponseBody<B> {
    fn default() -> Self {
        ResponseBody {
            kind: ResponseKind::Refusal(None),
        }
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            ResponseKindProj::Refusal(bytes) => {
                Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b))))
            }
            ResponseKindProj::Inner(body) => body
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map(|f| f.map_data(into_bytes)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            ResponseKind::Refusal(bytes) => bytes.is_none(),
            ResponseKind::Inner(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            ResponseKind::Refusal(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            ResponseKind::Inner(body) => body.size_hint(),
        }
    }
}

impl<B> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ResponseKind::Refusal(_) => f.write_str("ResponseBody::Refusal"),
            ResponseKind::Inner(_) => f.write_str("ResponseBody::Inner"),
        }
    }
}

/// Any buffer as `Bytes` (free when it already is `Bytes`).
fn into_bytes(mut data: impl Buf) -> Bytes {
    data.copy_to_bytes(data.remaining())
}
