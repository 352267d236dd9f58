//! The service under test: the layer, configured by the input, around a handler that records
//! what it received.

use super::*;

#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) client: Option<AuthenticatedClient>,
    pub(crate) params: Option<VerifiedParams>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) uri: Option<http::Uri>,
    pub(crate) body: Option<Vec<u8>>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) janrain_status: bool,
    pub(crate) replay: bool,
    pub(crate) lenient_forms: bool,
    pub(crate) enforce_methods: bool,
    pub(crate) window: Window,
    /// The stores answer one poll later (the waiting path of every store across a network).
    pub(crate) deferred: bool,
}

/// The date window: the default 300 s each way, a few seconds, or none at all
/// (`Duration::MAX` each way).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub(crate) enum Window {
    Default,
    Seconds(u8),
    Unbounded,
}

impl Window {
    /// Whether a `Date` `age` seconds old (negative: ahead) is inside the window.
    pub(crate) fn admits(self, age: i64) -> bool {
        match self {
            Window::Default => age.abs() <= 300,
            Window::Seconds(n) => age.abs() <= i64::from(n),
            Window::Unbounded => true,
        }
    }
}

pub(crate) fn layer(config: Config) -> VerifyLayer {
    let w = world();
    let clock = ManualClock::at(w.now);
    let mut builder = if config.deferred {
        VerifyLayer::builder(Deferred(w.store.clone())).token_verifier(Deferred(w.tokens.clone()))
    } else {
        VerifyLayer::builder(w.store.clone()).token_verifier(w.tokens.clone())
    };
    builder = builder
        .clock(clock.clone())
        .body_limit(BODY_LIMIT)
        .body_timeout(Duration::from_secs(1))
        .max_params(MAX_PARAMS)
        .janrain_status(config.janrain_status)
        .enforce_methods(config.enforce_methods);
    match config.window {
        Window::Default => {}
        Window::Seconds(n) => {
            let n = Duration::from_secs(u64::from(n));
            builder = builder.date_window(n, n);
        }
        Window::Unbounded => builder = builder.date_window(Duration::MAX, Duration::MAX),
    }
    if config.lenient_forms {
        builder =
            builder.accept_forms([Canonicalization::CANONICAL, Canonicalization::SAMPLE_CODE]);
    }
    if config.replay {
        let guard = MemoryReplayGuard::builder()
            .capacity(4096)
            .shards(4)
            .clock(clock)
            .build();
        builder = if config.deferred {
            builder.replay_guard(Deferred(guard))
        } else {
            builder.replay_guard(guard)
        };
    }
    builder.build()
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) seen: Option<Seen>,
}

pub(crate) fn call(layer: &VerifyLayer, request: Request<FuzzBody>) -> Answer {
    let seen = Arc::new(Mutex::new(None::<Seen>));
    let record = seen.clone();
    let handler = tower::service_fn(move |request: Request<VerifiedBody>| {
        let record = record.clone();
        async move {
            let (parts, body) = request.into_parts();
            // A body the layer did not read may stall: the handler gives up after a second.
            let body = match tokio::time::timeout(Duration::from_secs(1), body.collect()).await {
                Ok(Ok(collected)) => Some(collected.to_bytes().to_vec()),
                _ => None,
            };
            *record.lock().unwrap() = Some(Seen {
                client: parts.extensions.get::<AuthenticatedClient>().cloned(),
                params: parts.extensions.get::<VerifiedParams>().cloned(),
                headers: parts.headers.clone(),
                uri: Some(parts.uri.clone()),
                body,
            });
            let mut response = Response::new(Full::new(Bytes::from_static(b"inner")));
            response
                .headers_mut()
                .insert("x-inner", HeaderValue::from_static("1"));
            Ok::<_, Infallible>(response)
        }
    });
    let service = layer.layer(handler);
    let response = runtime().block_on(async move {
        let response = service.oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (parts, body)
    });
    let (parts, body) = response;
    let seen = seen.lock().unwrap().take();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
        seen,
    }
}
