//! Slow, oversized and lying request bodies, over raw TCP to a real server on loopback: the
//! verification layer answers each within its documented body timeout, never reads past its
//! body limit, and keeps serving everyone else meanwhile.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use janrain_auth::credentials::ClientId;
use janrain_auth::emulator::Emulator;
use janrain_auth::error::JanrainError;
use janrain_auth::params::encode_urlencoded;
use janrain_auth::scheme::{ManualClock, SigningKey, StringToSign, signature_header};
use janrain_auth::server::{ClientsFile, VerifyLayer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const NOW: &str = "2026-03-01 12:00:00";
const CLIENTS: &str = include_str!("../../examples/demo-clients.json");
const BODY_TIMEOUT: Duration = Duration::from_millis(500);
const BODY_LIMIT: usize = 1024;

async fn server() -> SocketAddr {
    let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    let layer = VerifyLayer::builder(store)
        .token_verifier(tokens)
        .clock(ManualClock::at(NOW.parse().unwrap()))
        .body_timeout(BODY_TIMEOUT)
        .body_limit(BODY_LIMIT)
        .build();
    let app = Emulator::builder().layer(layer).router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The `Authorization` value of `direct_client` for `/entity.update` with `params`.
fn authorization(params: &[(&str, &str)]) -> String {
    let sts = StringToSign::new("/entity.update", NOW, params);
    let sig = SigningKey::new("direct-secret-1d8c3a").sign(&sts);
    signature_header(&ClientId::new("direct_client").unwrap(), &sig)
        .to_str()
        .unwrap()
        .to_owned()
}

/// The head of a signed form POST to `/entity.update`; `framing` is the `Content-Length` or
/// `Transfer-Encoding` line (or nothing).
fn head(params: &[(&str, &str)], framing: &str) -> String {
    format!(
        "POST /entity.update HTTP/1.1\r\nHost: test\r\nDate: {NOW}\r\nAuthorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n{framing}\r\n",
        authorization(params)
    )
}

/// One HTTP/1.1 response: status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    #[track_caller]
    fn assert_janrain(&self, status: u16, code: u16) {
        let error = JanrainError::from_body(&self.body).unwrap_or_else(|| {
            panic!(
                "not a Janrain envelope: {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        });
        assert_eq!((self.status, error.code), (status, code), "{error}");
    }
}

/// Read one response (headers, then a `Content-Length` body), or `None` if the connection
/// closes first. Fails the test if nothing complete arrives within `within`.
async fn read_answer(tcp: &mut TcpStream, within: Duration) -> Option<Answer> {
    let deadline = Instant::now() + within;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("not an HTTP response: {head}"));
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Some(Answer {
                    status,
                    body: buf[end + 4..end + 4 + length].to_vec(),
                });
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                assert!(buf.is_empty(), "connection closed mid-response: {buf:?}");
                return None;
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => panic!(
                "no complete answer within {within:?}: {:?}",
                String::from_utf8_lossy(&buf)
            ),
        }
    }
}

/// Whether the server closes the connection within `within` (reading and discarding
/// anything it still sends).
async fn closes_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A body that trickles in slower than the timeout: 408 code 231, about when the timeout
/// says, while the client is still sending.
#[tokio::test]
async fn a_trickling_body_gets_408_at_the_body_timeout() {
    let addr = server().await;
    let params = [("value", "x".repeat(99))];
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = encode_urlencoded(&params);
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    tcp.write_all(head(&params, &format!("Content-Length: {}\r\n", body.len())).as_bytes())
        .await
        .unwrap();
    // One byte every 100 ms: the whole body would take about 10 s.
    let (mut reader, mut writer) = tcp.into_split();
    let trickle = tokio::spawn(async move {
        for byte in body.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), reader.read(&mut chunk))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        buf.extend_from_slice(&chunk[..n]);
    }
    let elapsed = start.elapsed();
    trickle.abort();
    // Read the rest of the JSON body.
    while JanrainError::from_body(buf.split(|&b| b == b'\n').next_back().unwrap_or(&[])).is_none() {
        let n = tokio::time::timeout(Duration::from_secs(2), reader.read(&mut chunk))
            .await
            .expect("the body")
            .unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    println!("trickling body answered after {elapsed:?}");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("\"code\":231") && text.contains("request_timeout"),
        "{text}"
    );
    assert!(
        elapsed >= BODY_TIMEOUT - Duration::from_millis(50) && elapsed < BODY_TIMEOUT * 3,
        "answered after {elapsed:?}, timeout {BODY_TIMEOUT:?}"
    );
}

/// A chunked body with no `Content-Length` that grows past the limit: 413 code 230 as soon
/// as it passes, without waiting for the rest.
#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_413() {
    let addr = server().await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    tcp.write_all(head(&[("value", "x")], "Transfer-Encoding: chunked\r\n").as_bytes())
        .await
        .unwrap();
    // 2 KiB in 256-byte chunks, then nothing: no terminating chunk ever comes.
    let piece = format!("100\r\nvalue={}\r\n", "x".repeat(250));
    for _ in 0..8 {
        tcp.write_all(piece.as_bytes()).await.unwrap();
    }
    let answer = read_answer(&mut tcp, Duration::from_secs(5))
        .await
        .expect("an answer");
    let elapsed = start.elapsed();
    println!("chunked body over the limit answered after {elapsed:?}");
    answer.assert_janrain(413, 230);
    assert!(elapsed < BODY_TIMEOUT, "waited for the body: {elapsed:?}");
}

/// `Content-Length: 10` with 1000 bytes sent: the first 10 are the body (a signature over the
/// whole form does not match them), the rest is not a request; the server answers the first
/// and then refuses or drops the garbage, promptly.
#[tokio::test]
async fn a_content_length_shorter_than_the_body() {
    let addr = server().await;
    let value = "y".repeat(990);
    let params = [("value", value.as_str())];
    let body = encode_urlencoded(&params);
    assert_eq!(body.len(), 996);
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    tcp.write_all(head(&params, "Content-Length: 10\r\n").as_bytes())
        .await
        .unwrap();
    tcp.write_all(body.as_bytes()).await.unwrap();
    tcp.write_all(b"\r\n\r\n").await.unwrap();
    let first = read_answer(&mut tcp, Duration::from_secs(5))
        .await
        .expect("an answer to the first request");
    first.assert_janrain(401, 431);
    // The leftover bytes are not an HTTP request: a 400 from the HTTP server, or a close.
    match read_answer(&mut tcp, Duration::from_secs(5)).await {
        None => println!("leftover bytes: connection closed"),
        Some(answer) => {
            println!("leftover bytes: HTTP {}", answer.status);
            assert_eq!(answer.status, 400, "{answer:?}");
        }
    }
    assert!(closes_within(&mut tcp, Duration::from_secs(5)).await);
    println!("short Content-Length handled in {:?}", start.elapsed());
}

/// `Content-Length: 1000` with 10 bytes sent, then silence: 408 code 231 at the body
/// timeout, and the connection is not kept waiting for the rest.
#[tokio::test]
async fn a_content_length_longer_than_the_body() {
    let addr = server().await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    tcp.write_all(head(&[("value", "x")], "Content-Length: 1000\r\n").as_bytes())
        .await
        .unwrap();
    tcp.write_all(b"value=xxxx").await.unwrap();
    let answer = read_answer(&mut tcp, Duration::from_secs(5))
        .await
        .expect("an answer");
    let elapsed = start.elapsed();
    println!("long Content-Length answered after {elapsed:?}");
    answer.assert_janrain(408, 231);
    assert!(
        elapsed >= BODY_TIMEOUT - Duration::from_millis(50) && elapsed < BODY_TIMEOUT * 3,
        "{elapsed:?}"
    );
    let closed = closes_within(&mut tcp, Duration::from_secs(2)).await;
    println!("connection closed after the 408: {closed}");
    assert!(closed, "the server kept the half-read connection open");
}

/// A declared length over the limit is refused before reading anything.
#[tokio::test]
async fn a_content_length_over_the_limit_is_refused_unread() {
    let addr = server().await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    tcp.write_all(head(&[("value", "x")], "Content-Length: 10000000\r\n").as_bytes())
        .await
        .unwrap();
    let answer = read_answer(&mut tcp, Duration::from_secs(5))
        .await
        .expect("an answer");
    answer.assert_janrain(413, 230);
    assert!(start.elapsed() < BODY_TIMEOUT, "{:?}", start.elapsed());
}

/// While 64 clients hold connections with stalled or trickling bodies and 16 more send their
/// headers a byte at a time, ordinary requests are answered at once; then every slow body
/// gets its 408 within the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_hold_up_the_others() {
    let addr = server().await;
    let mut slow = Vec::new();
    for i in 0..64 {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(head(&[("value", "x")], "Content-Length: 1000\r\n").as_bytes())
            .await
            .unwrap();
        if i % 2 == 0 {
            tcp.write_all(b"value=").await.unwrap();
        }
        slow.push(tcp);
    }
    let slowloris: Vec<_> = (0..16)
        .map(|_| {
            tokio::spawn(async move {
                let mut tcp = TcpStream::connect(addr).await.unwrap();
                let head = head(&[("value", "x")], "Content-Length: 7\r\n");
                for byte in head.bytes().take(40) {
                    if tcp.write_all(&[byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                tcp
            })
        })
        .collect();
    let started = Instant::now();

    // Ordinary signed requests meanwhile.
    let http = reqwest::Client::new();
    let mut slowest = Duration::ZERO;
    for n in 0..20 {
        let counter = n.to_string();
        let params = [("uuid", "u-1"), ("n", counter.as_str())];
        let begin = Instant::now();
        let response = http
            .post(format!("http://{addr}/entity.update"))
            .header("Date", NOW)
            .header("Authorization", authorization(&params))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(encode_urlencoded(&params))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(body["stat"], "ok", "{body}");
        slowest = slowest.max(begin.elapsed());
    }
    println!(
        "20 ordinary requests beside 80 slow clients: slowest {slowest:?}, all within {:?}",
        started.elapsed()
    );
    // Held up by a slow client, a request would wait for its body timeout (500 ms).
    assert!(slowest < Duration::from_millis(400), "{slowest:?}");

    // Every stalled body got (or gets) its 408 by about the timeout.
    for (i, tcp) in slow.iter_mut().enumerate() {
        let answer = read_answer(tcp, Duration::from_secs(3))
            .await
            .unwrap_or_else(|| panic!("slow client {i} closed without an answer"));
        answer.assert_janrain(408, 231);
    }
    assert!(
        started.elapsed() < BODY_TIMEOUT * 4,
        "the 408s took {:?}",
        started.elapsed()
    );
    for task in slowloris {
        task.abort();
    }
}
