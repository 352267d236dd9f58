//! A TCP proxy to the tests' Redis that can be stopped (listener and every connection dropped)
//! and started again on the same port: Redis going away and coming back, without touching the
//! real one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::redis_servers::standalone_url;

/// The proxy; not listening until [`Proxy::start`].
pub struct Proxy {
    /// The loopback port it listens on when started.
    pub port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// A proxy on a free loopback port.
    pub async fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Proxy::on_port(listener.local_addr().unwrap().port())
    }

    /// A proxy on `port` (which nothing need hold yet).
    pub fn on_port(port: u16) -> Self {
        Proxy {
            port,
            tasks: Arc::default(),
        }
    }

    /// Listen (retrying while the port is still held) and relay every connection to Redis.
    pub async fn start(&self) {
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let target = redis::Client::open(standalone_url())
            .unwrap()
            .get_connection_info()
            .addr()
            .to_string();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(relay);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Drop the listener and every relayed connection.
    pub fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// The proxy's Redis URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// A "Redis" that accepts connections and never answers: the port, and the task holding every
/// connection open (abort it to let them go).
pub async fn hung_redis() -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    (port, held)
}
