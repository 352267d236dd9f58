//! Requests per second over real loopback HTTP/1.1: the same axum Router with and without
//! [`VerifyLayer`], each served on a one-thread tokio runtime, driven by an in-process load
//! generator (hyper client connections kept alive, on a runtime thread of its own) for a fixed
//! time. Prints requests/s for both and their ratio; and, for scale, the same for the router
//! behind a middleware that does nothing (`empty_middleware`): what any layer costs here.
//!
//! ```text
//! cargo bench --bench throughput               # 5 seconds per router
//! cargo bench --bench throughput -- 10         # 10 seconds per router
//! THROUGHPUT_SECONDS=2 THROUGHPUT_CONNECTIONS=16 cargo bench --bench throughput
//! THROUGHPUT_ONLY=with_layer cargo bench --bench throughput   # one router, for a profiler
//! ```
//!
//! The time given is split into rounds that alternate between the routers, so that load
//! from other processes falls on both alike. Every response must be 200. Only loopback
//! addresses are used, and the run ends after the time given (at most 600 s per router).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{CLIENT_ID, DATE, PARAMS, SECRET};

use axum::Router;
use axum::routing::post;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::params::encode_urlencoded;
use janrain_auth::permissions::Feature;
use janrain_auth::scheme::{ManualClock, SigningKey, StringToSign, signature_header};
use janrain_auth::server::{MemoryStore, VerifyLayer};

/// Rounds per router: the routers take turns, one round each.
const ROUNDS: u32 = 4;

async fn handler(body: String) -> String {
    std::hint::black_box(body);
    String::from("{\"stat\":\"ok\"}")
}

/// Seconds per router: the first numeric argument, else `THROUGHPUT_SECONDS`, else 5.
fn seconds() -> f64 {
    let from_args = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .find_map(|a| a.parse::<f64>().ok());
    let from_env = || {
        std::env::var("THROUGHPUT_SECONDS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
    };
    from_args
        .or_else(from_env)
        .filter(|s| s.is_finite())
        .unwrap_or(5.0)
        .clamp(0.1, 600.0)
}

/// One router alone (`THROUGHPUT_ONLY=with_layer`, `without_layer` or `empty_middleware`), so
/// that a profiler sees only its requests; all of them when unset.
fn only() -> Option<String> {
    std::env::var("THROUGHPUT_ONLY")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Keep-alive connections: `THROUGHPUT_CONNECTIONS`, else 32.
fn connections() -> usize {
    std::env::var("THROUGHPUT_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(32)
        .clamp(1, 1024)
}

/// A server for `router` on a loopback port, on a one-thread runtime of its own thread.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(router: Router) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("its address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("the server runs");
            });
        });
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Drive `addr` with `connections` keep-alive connections for `time`, on a runtime thread of
/// its own; returns the responses received and the time taken.
fn drive(
    addr: SocketAddr,
    request: Arc<dyn Fn() -> Request<Full<Bytes>> + Send + Sync>,
    connections: usize,
    time: Duration,
) -> (u64, Duration) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let started = Instant::now();
            let deadline = started + time;
            let tasks: Vec<_> = (0..connections)
                .map(|_| {
                    let request = request.clone();
                    tokio::spawn(async move {
                        let stream = tokio::net::TcpStream::connect(addr)
                            .await
                            .expect("connect to loopback");
                        stream.set_nodelay(true).expect("nodelay");
                        let (mut sender, connection) =
                            hyper::client::conn::http1::handshake(TokioIo::new(stream))
                                .await
                                .expect("HTTP/1.1 handshake");
                        let driver = tokio::spawn(connection);
                        let mut done = 0u64;
                        while Instant::now() < deadline {
                            sender.ready().await.expect("connection ready");
                            let response =
                                sender.send_request(request()).await.expect("a response");
                            let status = response.status();
                            let body = response
                                .into_body()
                                .collect()
                                .await
                                .expect("the body")
                                .to_bytes();
                            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                            done += 1;
                        }
                        drop(sender);
                        let _ = driver.await;
                        done
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.expect("a load task");
            }
            (total, started.elapsed())
        })
    })
    .join()
    .expect("the load generator")
}

fn main() {
    let seconds = seconds();
    let connections = connections();

    let client = ApiClient::new(
        ClientId::new(CLIENT_ID).expect("a client id"),
        ClientSecret::new(SECRET).expect("a secret"),
    )
    .with_feature(Feature::DirectAccess);
    let sig = SigningKey::new(SECRET).sign(&StringToSign::new("/entity.update", DATE, &PARAMS));
    let authorization = signature_header(client.id(), &sig);
    let body = Bytes::from(encode_urlencoded(&PARAMS));
    let layer = VerifyLayer::builder(MemoryStore::new().with(client))
        .clock(ManualClock::at(DATE.parse().expect("a date")))
        .build();
    let bare: Router = Router::new().route("/entity.update", post(handler));
    let verified: Router = Router::new()
        .route("/entity.update", post(handler))
        .layer(layer);

    let request: Arc<dyn Fn() -> Request<Full<Bytes>> + Send + Sync> = Arc::new(move || {
        Request::post("/entity.update")
            .header("host", "127.0.0.1")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", body.len())
            .header("date", DATE)
            .header("authorization", authorization.clone())
            .body(Full::new(body.clone()))
            .expect("a request")
    });

    let only = only();
    // A middleware that does nothing, for scale: what any layer costs a request here.
    let empty: Router =
        Router::new()
            .route("/entity.update", post(handler))
            .layer(axum::middleware::from_fn(
                |request: axum::extract::Request, next: axum::middleware::Next| next.run(request),
            ));
    let servers: Vec<(&str, Server)> = [
        ("without_layer", bare),
        ("with_layer", verified),
        ("empty_middleware", empty),
    ]
    .into_iter()
    .filter(|(name, _)| only.as_deref().is_none_or(|only| only == *name))
    .map(|(name, router)| (name, Server::start(router)))
    .collect();
    assert!(
        !servers.is_empty(),
        "THROUGHPUT_ONLY names no router: use with_layer, without_layer or empty_middleware"
    );
    println!(
        "throughput: {seconds} s per router in {ROUNDS} alternating rounds, {connections} \
         keep-alive connections, server on one runtime thread, load generator on another"
    );
    // Warm up both (connections, allocator, caches); every response must be 200.
    for (_, server) in &servers {
        drive(
            server.addr,
            request.clone(),
            connections,
            Duration::from_millis(300),
        );
    }
    let round = Duration::from_secs_f64(seconds / f64::from(ROUNDS));
    let mut totals = vec![(0u64, Duration::ZERO); servers.len()];
    for _ in 0..ROUNDS {
        for (total, (_, server)) in totals.iter_mut().zip(&servers) {
            let (done, took) = drive(server.addr, request.clone(), connections, round);
            total.0 += done;
            total.1 += took;
        }
    }
    let rates: Vec<f64> = totals
        .iter()
        .map(|(done, took)| *done as f64 / took.as_secs_f64())
        .collect();
    for ((name, _), (rate, (done, _))) in servers.iter().zip(rates.iter().zip(&totals)) {
        println!("throughput/{name:16} {rate:10.0} requests/s ({done} requests)");
    }
    if let [without, with, empty] = rates[..] {
        println!(
            "throughput/ratio          {:.3} (with_layer / without_layer)",
            with / without
        );
        println!(
            "throughput/empty_ratio    {:.3} (empty_middleware / without_layer)",
            empty / without
        );
    }
}
