//! What both directions do to HTTP requests: decide whether a body is a form, check a
//! `Content-Length` against a limit, read a body under a limit and a timeout, and normalise an
//! API path prefix. One definition of each rule, used by the verification layer and the
//! signing side alike, so that the two can never disagree on what was signed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::Body;
use http_body_util::LengthLimitError;
use pin_project::pin_project;

/// The boxed error type the crate's bodies and services use, as tower and hyper do.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, `Send` future.
#[allow(dead_code)] // not every feature set boxes a future
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The media type of form bodies.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// What a request's `Content-Type` says about its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `application/x-www-form-urlencoded`, in any letter case, with or without parameters
    /// such as `; charset=UTF-8`: its parameters are the request's parameters.
    Form,
    /// A type that begins like the form type but is not it (`...urlencodedX`,
    /// `...urlencoded,text/plain`). axum's `Form` and `RawForm` read such a body as a form
    /// (they test only the prefix), so treating it as anything but an error would let a
    /// handler read parameters nobody checked.
    LooksLikeForm,
    /// Anything else, or no `Content-Type` at all.
    Other,
}

/// Classify a request body by its `Content-Type` header (several headers: the first, as axum
/// reads it; a value that is not visible ASCII: [`BodyKind::Other`], as axum treats it).
pub(crate) fn body_kind(headers: &HeaderMap) -> BodyKind {
    BodyHeaders::read(headers, usize::MAX).kind
}

/// The declared body length, checked against `limit` before anything is read.
pub(crate) fn declared_length(
    headers: &HeaderMap,
    limit: usize,
) -> Result<Option<u64>, LengthError> {
    BodyHeaders::read(headers, limit).length
}

/// Why a `Content-Length` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LengthError {
    /// Not a decimal number (or several headers that disagree).
    Invalid,
    /// Over the limit.
    TooLarge,
}

/// What a request's headers say about its body, found in one pass over the headers (a
/// request has a few; one hashed lookup per header would cost more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyHeaders {
    /// What the `Content-Type` says (several: the first, as axum reads it).
    pub(crate) kind: BodyKind,
    /// Whether the `Content-Type` is exactly [`FORM`], as a form is handed on.
    pub(crate) exact_form: bool,
    /// The `Content-Length`, checked against the limit: none, the length, or why not.
    pub(crate) length: Result<Option<u64>, LengthError>,
    /// Whether a `Content-Encoding` other than `identity` is given.
    pub(crate) encoded: bool,
}

impl BodyHeaders {
    /// Read the body's headers of `headers`, the `Content-Length` against `limit`.
    pub(crate) fn read(headers: &HeaderMap, limit: usize) -> Self {
        let mut scan = BodyHeaderScan::default();
        for (name, value) in headers {
            scan.see(name, value);
        }
        scan.finish(limit)
    }
}

/// The body's headers as a pass over a request's headers meets them, one header at a time:
/// [`BodyHeaders::read`] is such a pass, and the verification layer sees them in its one
/// pass over the headers, beside the credentials.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyHeaderScan<'a> {
    /// The first `Content-Type`.
    content_type: Option<&'a HeaderValue>,
    /// The `Content-Length` values so far: none, the length they agree on, or why not.
    length: Result<Option<u64>, LengthError>,
    /// Whether a `Content-Encoding` other than `identity` was seen.
    encoded: bool,
}

impl Default for BodyHeaderScan<'_> {
    fn default() -> Self {
        BodyHeaderScan {
            content_type: None,
            length: Ok(None),
            encoded: false,
        }
    }
}

impl<'a> BodyHeaderScan<'a> {
    /// Take in one of the request's headers (one not about the body changes nothing).
    #[inline]
    pub(crate) fn see(&mut self, name: &HeaderName, value: &'a HeaderValue) {
        if *name == CONTENT_TYPE {
            self.content_type.get_or_insert(value);
        } else if *name == CONTENT_LENGTH {
            self.length = self.length.and_then(|known| same_length(known, value));
        } else if *name == CONTENT_ENCODING {
            self.encoded |= !value
                .as_bytes()
                .trim_ascii()
                .eq_ignore_ascii_case(b"identity");
        }
    }

    /// What the headers seen say about the body, the `Content-Length` against `limit`.
    pub(crate) fn finish(self, limit: usize) -> BodyHeaders {
        let content_type = self.content_type;
        BodyHeaders {
            kind: content_type.map_or(BodyKind::Other, kind_of),
            exact_form: content_type.map(HeaderValue::as_bytes) == Some(FORM.as_bytes()),
            length: match self.length {
                Ok(Some(n)) if n > limit as u64 => Err(LengthError::TooLarge),
                other => other,
            },
            encoded: self.encoded,
        }
    }
}

/// What one `Content-Type` value says about the body.
fn kind_of(value: &HeaderValue) -> BodyKind {
    // The usual value, exactly the type, in one comparison.
    if value.as_bytes().eq_ignore_ascii_case(FORM.as_bytes()) {
        return BodyKind::Form;
    }
    let Ok(text) = value.to_str() else {
        return BodyKind::Other;
    };
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case(FORM) {
        return BodyKind::Form;
    }
    let head = text.trim_start().as_bytes();
    if head.len() >= FORM.len() && head[..FORM.len()].eq_ignore_ascii_case(FORM.as_bytes()) {
        return BodyKind::LooksLikeForm;
    }
    BodyKind::Other
}

/// One more `Content-Length` value: one or more decimal digits in 64 bits, equal to the
/// values before it (`known`), if any.
fn same_length(known: Option<u64>, value: &HeaderValue) -> Result<Option<u64>, LengthError> {
    let digits = value.as_bytes();
    let parsed = if digits.is_empty() {
        None
    } else {
        digits.iter().try_fold(0u64, |n, &b| {
            if b.is_ascii_digit() {
                n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
            } else {
                None
            }
        })
    };
    match (parsed, known) {
        (Some(n), None) => Ok(Some(n)),
        (Some(n), Some(k)) if n == k => Ok(Some(n)),
        _ => Err(LengthError::Invalid),
    }
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum CollectError {
    /// It grew past the limit.
    TooLarge,
    /// It did not arrive in time.
    Timeout,
    /// The body itself failed (the connection broke, a layer outside refused it).
    Failed(BoxError),
}

/// Read `body` whole, refusing it as soon as it passes `limit` bytes or takes longer than
/// `timeout` (if any). A body that is complete by the second poll (the usual case for small
/// forms, even where a server hands the body over only once it is polled) never starts a
/// timer; one that makes it wait longer needs tokio's time driver.
pub(crate) fn collect_limited<B>(body: B, limit: usize, timeout: Option<Duration>) -> Collect<B> {
    Collect {
        body,
        first: None,
        rest: None,
        read: 0,
        limit,
        timeout,
        waited: false,
        timer: None,
    }
}

/// The future of [`collect_limited`].
///
/// A body of one data frame (what a small form almost always is, whether it arrived in one
/// read or was made from one buffer) comes back as that frame's own `Bytes`: no list of
/// chunks, no copy. Only a second data frame starts a buffer, holding the first and copying
/// the rest in. The body is handed on exactly as it arrived, so nothing here may change its
/// bytes, and copying them would only cost time.
#[pin_project]
pub(crate) struct Collect<B> {
    #[pin]
    body: B,
    /// The first data frame, as long as it is the only one.
    first: Option<Bytes>,
    /// Every frame so far, once there are two.
    rest: Option<BytesMut>,
    read: usize,
    limit: usize,
    timeout: Option<Duration>,
    /// Whether the body has made us wait once, the wait that starts no timer (see `poll`).
    waited: bool,
    /// Started when the body makes us wait a second time.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> Future for Collect<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Bytes, CollectError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let frame = match this.body.as_mut().poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    let Some(timeout) = *this.timeout else {
                        return Poll::Pending;
                    };
                    if !*this.waited {
                        // The first wait is nearly always for bytes already received: a
                        // server hands a body over only once it is polled (hyper's HTTP/1
                        // does), so the first poll finds nothing and the next finds it all.
                        // This wait asks to be polled again at once rather than starting the
                        // timer: a timer costs an allocation, clock readings and the timer
                        // wheel's lock. A body that is still missing at the next poll starts
                        // it, so that a body that never comes is refused all the same.
                        *this.waited = true;
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    let timer = this
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                    return match timer.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Err(CollectError::Timeout)),
                        Poll::Pending => Poll::Pending,
                    };
                }
            };
            let mut data = match frame {
                None => {
                    let bytes = match (this.first.take(), this.rest.take()) {
                        (_, Some(rest)) => rest.freeze(),
                        (Some(first), None) => first,
                        (None, None) => Bytes::new(),
                    };
                    return Poll::Ready(Ok(bytes));
                }
                Some(Err(e)) => {
                    let e: BoxError = e.into();
                    return Poll::Ready(Err(if is_length_limit(&*e) {
                        CollectError::TooLarge
                    } else {
                        CollectError::Failed(e)
                    }));
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    // Trailers carry no body bytes.
                    Err(_) => continue,
                },
            };
            let len = data.remaining();
            if len > *this.limit - *this.read {
                return Poll::Ready(Err(CollectError::TooLarge));
            }
            *this.read += len;
            if len == 0 {
                continue;
            }
            match (this.first.take(), this.rest.as_mut()) {
                (None, None) => *this.first = Some(data.copy_to_bytes(len)),
                (Some(first), None) => {
                    let mut buffer = BytesMut::with_capacity(first.len() + len);
                    buffer.extend_from_slice(&first);
                    buffer.put(data);
                    *this.rest = Some(buffer);
                }
                (_, Some(buffer)) => buffer.put(data),
            }
        }
    }
}

/// Whether `error`, or any error it wraps, is a body length limit (ours, or one set by a layer
/// outside such as tower-http's `RequestBodyLimit`).
pub(crate) fn is_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// An API path prefix in one form: empty, or `/` followed by segments with no trailing `/`
/// (`capture/` and `/capture/` both become `/capture`).
pub(crate) fn normalize_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, content_type.parse().unwrap());
        h
    }

    #[test]
    fn forms_by_axums_rule_and_ours() {
        for form in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "Application/X-WWW-Form-Urlencoded",
            " application/x-www-form-urlencoded ;charset=utf-8",
        ] {
            assert_eq!(body_kind(&headers(form)), BodyKind::Form, "{form}");
        }
        for lookalike in [
            "application/x-www-form-urlencodedX",
            "application/x-www-form-urlencoded,text/plain",
            "application/x-www-form-urlencoded-evil",
            "APPLICATION/X-WWW-FORM-URLENCODED2; charset=utf-8",
        ] {
            assert_eq!(
                body_kind(&headers(lookalike)),
                BodyKind::LooksLikeForm,
                "{lookalike}"
            );
        }
        for other in [
            "application/json",
            "text/plain",
            "multipart/form-data; boundary=x",
        ] {
            assert_eq!(body_kind(&headers(other)), BodyKind::Other, "{other}");
        }
        assert_eq!(body_kind(&HeaderMap::new()), BodyKind::Other);
    }

    #[test]
    fn content_length_rules() {
        let mut h = HeaderMap::new();
        assert_eq!(declared_length(&h, 10), Ok(None));
        h.insert(CONTENT_LENGTH, "10".parse().unwrap());
        assert_eq!(declared_length(&h, 10), Ok(Some(10)));
        assert_eq!(declared_length(&h, 9), Err(LengthError::TooLarge));
        h.insert(CONTENT_LENGTH, "+1".parse().unwrap());
        assert_eq!(declared_length(&h, 10), Err(LengthError::Invalid));
        h.insert(CONTENT_LENGTH, "1".parse().unwrap());
        h.append(CONTENT_LENGTH, "2".parse().unwrap());
        assert_eq!(declared_length(&h, 10), Err(LengthError::Invalid));
        // Several that agree are one length (as hyper takes them); still held to the limit.
        h.insert(CONTENT_LENGTH, "7".parse().unwrap());
        h.append(CONTENT_LENGTH, "7".parse().unwrap());
        assert_eq!(declared_length(&h, 10), Ok(Some(7)));
        assert_eq!(declared_length(&h, 6), Err(LengthError::TooLarge));
    }

    /// A body of the given frames, each ready at once.
    fn frames(
        frames: impl IntoIterator<Item = Result<Bytes, BoxError>>,
    ) -> impl Body<Data = Bytes, Error = BoxError> {
        let frames: Vec<_> = frames
            .into_iter()
            .map(|frame| frame.map(http_body::Frame::data))
            .collect();
        http_body_util::StreamBody::new(futures_util::stream::iter(frames))
    }

    /// Read a body whose frames are all ready, in one poll.
    fn read_now<B: Body>(body: B, limit: usize) -> Result<Bytes, CollectError>
    where
        B::Error: Into<BoxError>,
    {
        let mut read = std::pin::pin!(collect_limited(body, limit, None));
        match read
            .as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()))
        {
            Poll::Ready(result) => result,
            Poll::Pending => panic!("every frame was ready"),
        }
    }

    /// A body that makes its reader wait `waits` times (waking no one: a test polls again
    /// itself), then gives its one frame; or, `never`, makes it wait for ever.
    struct Late {
        waits: usize,
        frame: Option<Bytes>,
    }

    impl Late {
        fn after(waits: usize, text: &'static str) -> Self {
            Late {
                waits,
                frame: Some(Bytes::from_static(text.as_bytes())),
            }
        }

        fn never() -> Self {
            Late {
                waits: usize::MAX,
                frame: None,
            }
        }
    }

    impl Body for Late {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
            if self.waits > 0 {
                self.waits -= 1;
                return Poll::Pending;
            }
            Poll::Ready(self.frame.take().map(|b| Ok(http_body::Frame::data(b))))
        }
    }

    /// A waker that counts its wakes.
    struct Wakes(std::sync::atomic::AtomicUsize);

    impl Wakes {
        /// A waker, and the count of its wakes.
        fn waker() -> (std::sync::Arc<Wakes>, std::task::Waker) {
            let wakes = std::sync::Arc::new(Wakes(0.into()));
            (wakes.clone(), std::task::Waker::from(wakes))
        }

        fn count(&self) -> usize {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    impl std::task::Wake for Wakes {
        fn wake(self: std::sync::Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The first wait for a body asks to be polled again at once and starts no timer (no
    /// runtime is running here: a timer would panic for want of one); the next poll reads it.
    #[test]
    fn the_first_wait_for_a_body_starts_no_timer_and_asks_to_be_polled_again() {
        let (wakes, waker) = Wakes::waker();
        let mut cx = Context::from_waker(&waker);
        let body = Late::after(1, "a=1");
        let mut read = std::pin::pin!(collect_limited(body, 100, Some(Duration::from_secs(10))));
        assert!(read.as_mut().poll(&mut cx).is_pending());
        assert_eq!(wakes.count(), 1);
        assert!(read.timer.is_none());
        match read.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(bytes)) => assert_eq!(bytes, "a=1"),
            other => panic!("the body was there at the second poll: {other:?}"),
        }
        assert!(read.timer.is_none());
        assert_eq!(wakes.count(), 1);
    }

    /// A body still missing at the second poll starts the timer, and one that never comes is
    /// refused when it runs out; without a timeout, waiting asks for no poll.
    #[tokio::test]
    async fn a_body_still_missing_at_the_second_poll_times_out() {
        let timeout = Some(Duration::from_millis(20));
        let mut read = std::pin::pin!(collect_limited(Late::never(), 100, timeout));
        let (_, waker) = Wakes::waker();
        let mut cx = Context::from_waker(&waker);
        assert!(read.as_mut().poll(&mut cx).is_pending());
        assert!(read.timer.is_none());
        assert!(read.as_mut().poll(&mut cx).is_pending());
        assert!(read.timer.is_some());
        let got = tokio::time::timeout(Duration::from_secs(5), read).await;
        assert!(matches!(got, Ok(Err(CollectError::Timeout))), "{got:?}");

        let mut read = std::pin::pin!(collect_limited(Late::never(), 100, None));
        let (wakes, waker) = Wakes::waker();
        assert!(
            read.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        assert_eq!(wakes.count(), 0);
        assert!(read.timer.is_none());
    }

    fn data(text: &str) -> Result<Bytes, BoxError> {
        Ok(Bytes::from(text.to_owned()))
    }

    #[test]
    fn a_body_of_exactly_the_limit_is_read_whole_and_one_byte_more_is_refused() {
        let got = read_now(frames([data("abcde"), data(""), data("fghij")]), 10);
        assert_eq!(got.unwrap(), "abcdefghij");
        let got = read_now(frames([data("abcde"), data("fghijk")]), 10);
        assert!(matches!(got, Err(CollectError::TooLarge)), "{got:?}");
        assert_eq!(read_now(frames([]), 0).unwrap(), "");
    }

    #[test]
    fn a_limit_set_outside_is_too_large_and_other_errors_are_failures() {
        // A length limit of a layer outside (tower-http's `RequestBodyLimit` is this one).
        let limited = http_body_util::Limited::new(frames([data("abcdef")]), 3);
        let got = read_now(limited, 100);
        assert!(matches!(got, Err(CollectError::TooLarge)), "{got:?}");
        let broken = frames([data("ab"), Err(std::io::Error::other("reset").into())]);
        let got = read_now(broken, 100);
        assert!(matches!(got, Err(CollectError::Failed(_))), "{got:?}");
    }

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("/"), "");
        assert_eq!(normalize_prefix("capture/"), "/capture");
        assert_eq!(normalize_prefix("/a/b/"), "/a/b");
    }
}
