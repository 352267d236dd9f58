//! Reading Janrain answers, one way for every front end: a `stat:error` body (which Janrain
//! sends with HTTP 200 as often as not) becomes [`Error::Janrain`], whatever the status.

use std::future::Future;

use http::StatusCode;
use http_body::Body;
use http_body_util::BodyExt;
use serde_json::Value;

use super::error::Error;
use crate::BoxError;
use crate::error::JanrainError;

/// Read a complete answer: [`Error::Janrain`] for a `stat:error` object whatever the status,
/// [`Error::Status`] for any other status that is not a success, [`Error::Decode`] for a body
/// that is not JSON, and the JSON value, `stat` included, otherwise.
pub(crate) fn read_answer(status: StatusCode, body: &[u8]) -> Result<Value, Error> {
    if let Some(error) = JanrainError::from_body(body) {
        return Err(Error::Janrain { status, error });
    }
    if !status.is_success() {
        return Err(Error::Status {
            status,
            body: bytes::Bytes::copy_from_slice(body),
        });
    }
    serde_json::from_slice(body).map_err(|source| Error::Decode { status, source })
}

/// Read a response as a Janrain answer: implemented for the `http::Response` of a tower client
/// (any body) and, with feature `reqwest`, for `reqwest::Response`.
///
/// The answer is read as [`JanrainClient`](super::JanrainClient) reads its own: a `stat:error`
/// object, at any HTTP status, is [`Error::Janrain`] with the whole error object; any other
/// status that is not a success is [`Error::Status`]; a body that is not JSON is
/// [`Error::Decode`]; otherwise the JSON value, `stat` included.
///
/// ```
/// use janrain_auth::client::JanrainResponseExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), janrain_auth::client::Error> {
/// let ok = http::Response::new(String::from(r#"{"stat":"ok","result_count":1}"#));
/// assert_eq!(ok.janrain_json().await?["result_count"], 1);
///
/// let refused = http::Response::new(String::from(
///     r#"{"stat":"error","code":403,"error":"client_permission_error"}"#,
/// ));
/// let err = refused.janrain_json().await.unwrap_err();
/// assert_eq!(err.code(), Some(403));
/// # Ok(())
/// # }
/// ```
///
/// With reqwest-middleware (feature `reqwest`):
///
/// ```no_run
/// # #[cfg(feature = "reqwest")]
/// # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> Result<(), Box<dyn std::error::Error>> {
/// use janrain_auth::client::JanrainResponseExt;
///
/// let response = client.post("https://myapp.janraincapture.com/entity.count").send().await?;
/// match response.janrain_json().await {
///     Ok(value) => println!("{} users", value["total_count"]),
///     Err(e) if e.code() == Some(403) => eprintln!("this client lacks a feature"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok(())
/// # }
/// ```
pub trait JanrainResponseExt: sealed::Sealed {
    /// Read the whole body and check it for a Janrain error object.
    fn janrain_json(self) -> impl Future<Output = Result<Value, Error>> + Send;
}

mod sealed {
    /// The responses [`JanrainResponseExt`](super::JanrainResponseExt) reads.
    pub trait Sealed {}

    impl<B> Sealed for http::Response<B> {}

    #[cfg(feature = "reqwest")]
    impl Sealed for reqwest::Response {}
}

impl<B> JanrainResponseExt for http::Response<B>
where
    B: Body + Send,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    async fn janrain_json(self) -> Result<Value, Error> {
        let status = self.status();
        let body = self
            .into_body()
            .collect()
            .await
            .map_err(|e| Error::Transport(e.into()))?
            .to_bytes();
        read_answer(status, &body)
    }
}

#[cfg(feature = "reqwest")]
impl JanrainResponseExt for reqwest::Response {
    async fn janrain_json(self) -> Result<Value, Error> {
        let status = self.status();
        let body = self.bytes().await?;
        read_answer(status, &body)
    }
}
