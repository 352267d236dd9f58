//! A running emulator: its address, and its end.

use std::io;
use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running [`Emulator`](super::Emulator). Dropping it stops the server (requests in flight finish);
/// [`shutdown`](Self::shutdown) also waits until it has stopped.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl RunningEmulator {
    /// Serve `app` on `listener` in a task of the current tokio runtime.
    pub(super) fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A dropped sender stops the server too.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(RunningEmulator {
            addr,
            base_url: format!("http://{addr}"),
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the base URL for a client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of `path` (which begins with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Stop accepting connections, let the requests in flight finish, and wait until the
    /// server has stopped. The error is the server's, if it failed.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
