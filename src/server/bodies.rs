//! The body types the layer hands on: [`VerifiedBody`] to the inner service, and
//! [`ResponseBody`] back to the server. Both are the crate's own, so the layer composes with
//! any body type inside and outside it (tower-http's `Limited`, decompression, timeouts).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use pin_project::pin_project;

use crate::requests::BoxError;

/// The request body the inner service receives: the bytes the layer read, exactly as they
/// arrived (a form the layer took credentials out of: the form without them).
///
/// The layer reads every body it lets through, under its body limit and body timeout, so
/// that a body too large or too slow is refused by the layer itself, in Janrain's envelope,
/// however the layer is mounted.
pub struct VerifiedBody {
    bytes: Option<Bytes>,
}

impl VerifiedBody {
    /// The body of a verified request.
    pub(crate) fn new(bytes: Bytes) -> Self {
        VerifiedBody {
            bytes: (!bytes.is_empty()).then_some(bytes),
        }
    }
}

impl Body for VerifiedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Poll::Ready(self.get_mut().bytes.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.bytes.as_ref().map_or(0, |b| b.len() as u64))
    }
}

impl fmt::Debug for VerifiedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The content may hold secrets (passwords in forms): only its size.
        f.debug_struct("VerifiedBody")
            .field("bytes", &self.bytes.as_ref().map_or(0, Bytes::len))
            .finish()
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
