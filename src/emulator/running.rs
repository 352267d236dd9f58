//! A running emulator: its address, its records, the calls it received, and its end.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::calls::{CallLog, RecordedCall, Times, UnmetExpectations};
use super::records::Records;

/// A running [`Emulator`](super::Emulator). Dropping it stops the server (requests in flight
/// finish); [`shutdown`](Self::shutdown) also waits until it has stopped.
///
/// It keeps every call it received, in order ([`calls`](Self::calls)), and checks the
/// expectations a test states ([`expect`](Self::expect)) when asked
/// ([`verify`](Self::verify)) and when it is dropped or shut down: unmet expectations then
/// panic with the calls it received, unless the thread is already panicking.
pub struct RunningEmulator {
    addr: SocketAddr,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
    log: Arc<CallLog>,
    records: Option<Records>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// Serve `app` on `listener` in a task of the current tokio runtime.
    pub(super) fn serve(
        listener: tokio::net::TcpListener,
        app: axum::Router,
        log: Arc<CallLog>,
        records: Option<Records>,
    ) -> io::Result<Self> {
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
            log,
            records,
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

    /// The records the data operations serve (the same handle the builder was given), or
    /// `None` when the emulator was given none.
    pub fn records(&self) -> Option<&Records> {
        self.records.as_ref()
    }

    /// Every call received so far, in the order they were answered: those the layer refused
    /// too. A call is recorded before its answer leaves, so a call your code has seen
    /// answered is here.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.log.calls()
    }

    /// The calls of `operation` (a path, such as `/entity.find`), in order.
    pub fn calls_to(&self, operation: &str) -> Vec<RecordedCall> {
        let mut calls = self.log.calls();
        calls.retain(|c| c.operation() == operation);
        calls
    }

    /// Forget the calls received so far (the expectations stay, and count the calls from
    /// now on).
    pub fn clear_calls(&self) {
        self.log.clear();
    }

    /// Expect `times` calls of `operation` (a path, such as `/entity.update`), counting every
    /// call received, refused or not: `2`, `1..`, `..=3`, `2..5`. Checked by
    /// [`verify`](Self::verify), and when the emulator is dropped or shut down.
    pub fn expect(&self, operation: &str, times: impl Into<Times>) {
        let operation = operation.to_owned();
        self.log.expect(
            operation.clone(),
            move |call| call.operation() == operation,
            times.into(),
        );
    }

    /// Expect `times` calls that `matches` (described as `what` in the report), as
    /// [`expect`](Self::expect) does: `expect_where("updates by the sync job", |c|
    /// c.operation() == "/entity.update" && c.is_ok(), 3)`.
    pub fn expect_where(
        &self,
        what: &str,
        matches: impl Fn(&RecordedCall) -> bool + Send + Sync + 'static,
        times: impl Into<Times>,
    ) {
        self.log.expect(what.to_owned(), matches, times.into());
    }

    /// Whether every expectation holds for the calls received so far; the unmet ones, with
    /// the calls received, otherwise.
    pub fn verify(&self) -> Result<(), UnmetExpectations> {
        self.log.verify()
    }

    /// Stop accepting connections, let the requests in flight finish, and wait until the
    /// server has stopped; then check the expectations (as a drop does). The error is the
    /// server's, if it failed.
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
        if self.log.has_expectations()
            && !std::thread::panicking()
            && let Err(unmet) = self.log.verify()
        {
            panic!("{unmet}");
        }
    }
}
