//! [`JanrainClient`]: Identity Cloud operations by name, with typed parameters and answers, over
//! a reqwest-middleware chain that signs with [`JanrainSigner`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::caller::{AsLoginClient, AsUser};
use super::encode::{EncodeError, to_json_text, to_params};
use super::error::{ConfigError, SignError};
use super::request_signer::RequestSigner;
use super::reqwest::JanrainSigner;
use super::skew_retry::ClockSkewRetry;
use crate::credentials::{AccessToken, ClientId};
use crate::error::JanrainError;
use crate::params::encode_urlencoded;

/// Records per `entity.find` page when the parameters give no `max_results`.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Everything that can go wrong with a call, in one type: the parameters, the signing, the
/// transport, Janrain's refusal, and reading the answer.
///
/// A Janrain `stat:error` answer keeps the whole error object: [`Error::janrain`] gives the
/// [`JanrainError`] with its `code`, and every other field (`argument_name`, `expected_value`,
/// ...) in [`JanrainError::extra`]. The messages never contain a secret or a parameter value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operation name is empty, or holds a query, a fragment, a `.` or `..` segment, spaces
    /// or control characters.
    #[error("operation {operation:?} is not an operation name such as entity.find or /oauth/token")]
    Operation {
        /// The name as given.
        operation: String,
    },
    /// The parameters could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The request could not be signed (a host that is not allowed, a path outside the base
    /// path, ...).
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The request could not be sent or the answer not read: connection, timeout, TLS, or an
    /// error of another middleware in the chain.
    #[error("the request failed: {0}")]
    Transport(#[source] reqwest_middleware::Error),
    /// Janrain answered `stat:error` (at any HTTP status; most are 200).
    #[error("{error} (HTTP {status})")]
    Janrain {
        /// The HTTP status.
        status: StatusCode,
        /// The error object, every field kept.
        #[source]
        error: JanrainError,
    },
    /// The status is not a success and the body is not a Janrain error (a proxy's error page,
    /// say).
    #[error("HTTP {status} without a Janrain error object ({} bytes of body)", body.len())]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The body.
        body: Bytes,
    },
    /// The answer is not JSON, or does not have the shape of the type asked for.
    #[error("the answer (HTTP {status}) does not read as the expected type: {source}")]
    Decode {
        /// The HTTP status.
        status: StatusCode,
        /// serde_json's complaint (it names the field).
        #[source]
        source: serde_json::Error,
    },
    /// Paging `entity.find` cannot go on (see [`JanrainClient::find_all`]).
    #[error("paging entity.find: {0}")]
    Paging(&'static str),
}

impl Error {
    /// The Janrain error object, if Janrain answered `stat:error`.
    pub fn janrain(&self) -> Option<&JanrainError> {
        match self {
            Error::Janrain { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The Janrain error code (`200` invalid_argument, `403` client_permission_error, ...), if
    /// Janrain answered `stat:error`.
    pub fn code(&self) -> Option<u16> {
        self.janrain().map(|e| e.code)
    }

    /// The HTTP status of the answer, if one arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Janrain { status, .. }
            | Error::Status { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn transport(error: reqwest_middleware::Error) -> Error {
        match error {
            reqwest_middleware::Error::Middleware(e) => match e.downcast::<SignError>() {
                Ok(sign) => Error::Sign(sign),
                Err(other) => Error::Transport(reqwest_middleware::Error::Middleware(other)),
            },
            other => Error::Transport(other),
        }
    }
}

/// An Identity Cloud client: operations by name under the signer's base URL, parameters from
/// any `Serialize` value (encoded by Janrain's rule, see [`encode`](super::encode)), answers
/// into any `DeserializeOwned` type, and one [`Error`] type.
///
/// It is a thin layer over a `reqwest_middleware::ClientWithMiddleware` whose innermost
/// middlewares are a [`ClockSkewRetry`] and a [`JanrainSigner`]: your own middleware (retries, tracing) applies to every
/// call, and every attempt is signed afresh. Cheap to clone; clones share the connection pool
/// and the learned clock offset.
///
/// ```no_run
/// use janrain_auth::client::{JanrainClient, RequestSigner};
/// use janrain_auth::credentials::{ApiClient, ClientSecret};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize)]
/// struct Count<'a> {
///     type_name: &'a str,
///     filter: Option<&'a str>,
/// }
///
/// #[derive(Deserialize)]
/// struct Total {
///     total_count: u64,
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
/// let signer = RequestSigner::builder(api)
///     .base_url("https://myapp.janraincapture.com")
///     .build()?;
/// let janrain = JanrainClient::new(signer)?;
/// let params = Count { type_name: "user", filter: Some("emailVerified is not null") };
/// match janrain.call::<_, Total>("entity.count", &params).await {
///     Ok(count) => println!("{} verified users", count.total_count),
///     Err(e) if e.code() == Some(403) => eprintln!("this API client lacks a feature"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok(())
/// # }
/// ```
///
/// [`JanrainClient::as_user`] and [`JanrainClient::as_login_client`] give a client that makes
/// every call as a user (janrain-oauth) or as a login client instead.
#[derive(Clone)]
pub struct JanrainClient {
    http: ClientWithMiddleware,
    signer: RequestSigner,
    /// The base URL without its trailing slashes.
    base: Arc<str>,
    /// Who the calls go out as.
    caller: Caller,
}

/// Who a [`JanrainClient`]'s calls go out as.
#[derive(Clone)]
enum Caller {
    /// The signer's API client.
    Signer,
    /// A user, with this access token.
    User(AccessToken),
    /// A login client, with this id as the `client_id` parameter.
    LoginClient(ClientId),
}

impl fmt::Debug for JanrainClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("JanrainClient");
        d.field("base_url", &self.base)
            .field("signer", &self.signer);
        match &self.caller {
            Caller::Signer => {}
            Caller::User(_) => {
                d.field("as_user", &format_args!("<redacted access token>"));
            }
            Caller::LoginClient(id) => {
                d.field("as_login_client", id);
            }
        }
        d.finish_non_exhaustive()
    }
}

impl JanrainClient {
    /// A client over a default `reqwest::Client` that signs with `signer`. Fails when the
    /// signer has no [base URL](super::SignerBuilder::base_url).
    ///
    /// Use [`JanrainClient::from_builder`] for your own `reqwest::Client` (a TLS setup, timeouts)
    /// or middleware.
    pub fn new(signer: RequestSigner) -> Result<Self, ConfigError> {
        Self::from_builder(ClientBuilder::new(::reqwest::Client::new()), signer)
    }

    /// A client over your reqwest-middleware chain: a [`ClockSkewRetry`] and then a
    /// [`JanrainSigner`] with `signer` are added last, innermost, so that your middleware
    /// (retries, tracing) wraps them and every attempt is signed afresh.
    ///
    /// ```
    /// use janrain_auth::client::{JanrainClient, RequestSigner};
    /// use janrain_auth::credentials::{ApiClient, ClientSecret};
    /// use std::time::Duration;
    ///
    /// let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
    /// let signer = RequestSigner::builder(api).base_url("https://myapp.janraincapture.com").build()?;
    /// let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    /// let janrain = JanrainClient::from_builder(reqwest_middleware::ClientBuilder::new(http), signer)?;
    /// # let _ = janrain;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_builder(
        builder: ClientBuilder,
        signer: RequestSigner,
    ) -> Result<Self, ConfigError> {
        let http = builder
            .with(ClockSkewRetry::new())
            .with(JanrainSigner::new(signer.clone()))
            .build();
        Self::from_middleware(http, signer)
    }

    /// A client over a chain you built that already signs with `signer` (a [`JanrainSigner`]
    /// made from it, or from a clone of it, innermost; a [`ClockSkewRetry`] just outside it
    /// retries date refusals as [`JanrainClient::from_builder`] does). The client cannot check
    /// the chain: a chain without the signer sends unsigned requests.
    pub fn from_middleware(
        http: ClientWithMiddleware,
        signer: RequestSigner,
    ) -> Result<Self, ConfigError> {
        let base = signer
            .base_url()
            .ok_or(ConfigError::NoBaseUrl)?
            .trim_end_matches('/')
            .into();
        Ok(JanrainClient {
            http,
            signer,
            base,
            caller: Caller::Signer,
        })
    }

    /// The same client, making every call ([`call`](JanrainClient::call),
    /// [`find_all`](JanrainClient::find_all), [`request`](JanrainClient::request)) as the user
    /// `token` was issued for: `Authorization: OAuth <token>`, no signature (see
    /// [`AsUser`]). Cheap: the connection pool and the signer are shared.
    ///
    /// ```no_run
    /// # async fn run(janrain: janrain_auth::client::JanrainClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use janrain_auth::credentials::AccessToken;
    ///
    /// let user = janrain.as_user(AccessToken::new("y2bz7eq8xx7mkdqk")?);
    /// let me: serde_json::Value = user.call("entity", &serde_json::json!({"type_name": "user"})).await?;
    /// # let _ = me;
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_user(&self, token: AccessToken) -> JanrainClient {
        JanrainClient {
            caller: Caller::User(token),
            ..self.clone()
        }
    }

    /// The same client, making every call as the login client `client_id`: no
    /// `Authorization` header, and the `client_id` parameter added (see [`AsLoginClient`]).
    /// Parameters such as `access_token` are the call's own.
    ///
    /// ```no_run
    /// # async fn run(janrain: janrain_auth::client::JanrainClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let login = janrain.as_login_client("login_client_id".parse()?);
    /// let params = serde_json::json!({
    ///     "flow": "standard",
    ///     "form": "editProfileForm",
    ///     "access_token": "y2bz7eq8xx7mkdqk",
    /// });
    /// let answer: serde_json::Value = login.call("oauth/update_profile_native", &params).await?;
    /// # let _ = answer;
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_login_client(&self, client_id: ClientId) -> JanrainClient {
        JanrainClient {
            caller: Caller::LoginClient(client_id),
            ..self.clone()
        }
    }

    /// The same client, making its calls as the signer's API client again.
    pub fn as_api_client(&self) -> JanrainClient {
        JanrainClient {
            caller: Caller::Signer,
            ..self.clone()
        }
    }

    /// A request to `operation` (a GET, say, which [`call`](JanrainClient::call) does not
    /// make), through the signing chain, going out as this client calls: as the signer's API
    /// client, or as set by [`as_user`](JanrainClient::as_user) or
    /// [`as_login_client`](JanrainClient::as_login_client).
    pub fn request(&self, method: http::Method, operation: &str) -> Result<RequestBuilder, Error> {
        let url = self.url(operation)?;
        Ok(self.with_caller(self.http.request(method, url)))
    }

    /// Put this client's way of calling on a request.
    fn with_caller(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.caller {
            Caller::Signer => request,
            Caller::User(token) => request.with_extension(AsUser(token.clone())),
            Caller::LoginClient(id) => request.with_extension(AsLoginClient(id.clone())),
        }
    }

    /// The signer (its learned clock offset, say).
    pub fn signer(&self) -> &RequestSigner {
        &self.signer
    }

    /// The reqwest-middleware client, for requests the client does not shape (a
    /// per-request [`UseClient`](super::UseClient), a URL outside the base URL). Its requests
    /// go out as the signer's API client unless told otherwise; see
    /// [`JanrainClient::request`] for one that follows [`as_user`](JanrainClient::as_user) and
    /// [`as_login_client`](JanrainClient::as_login_client).
    pub fn http(&self) -> &ClientWithMiddleware {
        &self.http
    }

    /// The URL of an operation: the base URL, a `/`, and the operation without its leading
    /// slashes (`entity.find` and `/entity.find` are the same operation).
    pub fn url(&self, operation: &str) -> Result<String, Error> {
        let name = operation.trim_start_matches('/');
        let bad = name.is_empty()
            || name
                .chars()
                .any(|c| matches!(c, '?' | '#') || c.is_whitespace() || c.is_control())
            || name
                .split('/')
                .any(|segment| segment == "." || segment == "..");
        if bad {
            return Err(Error::Operation {
                operation: operation.to_owned(),
            });
        }
        Ok(format!("{}/{name}", self.base))
    }

    /// Call an operation: POST `params`, encoded by Janrain's rule as a form body, to the
    /// operation's URL, and read the answer.
    ///
    /// A `stat:error` answer, at any HTTP status, is [`Error::Janrain`]; another answer with a
    /// status that is not a success is [`Error::Status`]; otherwise the answer, without its
    /// `stat` field, is deserialized into `T` (`serde_json::Value` takes it as it is; a struct
    /// takes the fields it names). `params` is any struct or map (`()` for none).
    pub async fn call<P, T>(&self, operation: &str, params: &P) -> Result<T, Error>
    where
        P: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let url = self.url(operation)?;
        let params = to_params(params)?;
        let (status, value) = self.post(url, &params).await?;
        T::deserialize(value).map_err(|source| Error::Decode { status, source })
    }

    /// POST encoded parameters and read the answer as JSON, `stat` removed.
    async fn post(
        &self,
        url: String,
        params: &[(String, String)],
    ) -> Result<(StatusCode, Value), Error> {
        let response = self
            .with_caller(self.http.post(url))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode_urlencoded(params))
            .send()
            .await
            .map_err(Error::transport)?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::Transport(e.into()))?;
        if let Some(error) = JanrainError::from_body(&body) {
            return Err(Error::Janrain { status, error });
        }
        if !status.is_success() {
            return Err(Error::Status { status, body });
        }
        let mut value: Value =
            serde_json::from_slice(&body).map_err(|source| Error::Decode { status, source })?;
        if let Some(object) = value.as_object_mut() {
            object.remove("stat");
        }
        Ok((status, value))
    }

    /// Every record `entity.find` finds for `params`, as a [`Stream`](futures_core::Stream),
    /// fetched page by page the way Identity Cloud recommends for large result sets: sorted on
    /// `id`, each page asking for the records after the last one seen.
    ///
    /// * `params` are `entity.find`'s (`type_name`, `filter`, `attributes`, `max_results`,
    ///   ...), encoded by Janrain's rule.
    /// * Each page sends `sort_on=["id"]` and the filter `id > N` (`N` the last page's last
    ///   id); your own `filter` is kept: `(your filter) and id > N`.
    /// * `max_results` is the page size (default [`DEFAULT_PAGE_SIZE`]). A page with fewer
    ///   records ends the stream.
    /// * When `attributes` is a JSON list that lacks `id`, `id` is added: paging needs it.
    /// * `sort_on` and `first_result` cannot be combined with this paging, and are refused
    ///   ([`Error::Paging`]), as is an answer whose last record has no integer `id` or does not
    ///   move past the previous page.
    ///
    /// Each record is deserialized into `T`; a record that does not fit is an `Err` item
    /// ([`Error::Decode`]) and the stream goes on. Any other error is the last item.
    ///
    /// ```no_run
    /// # async fn run(janrain: janrain_auth::client::JanrainClient) -> Result<(), janrain_auth::client::Error> {
    /// let params = serde_json::json!({
    ///     "type_name": "user",
    ///     "filter": "emailVerified is not null",
    ///     "attributes": ["uuid", "email"],
    ///     "max_results": 1000,
    /// });
    /// let mut users = janrain.find_all::<_, serde_json::Value>(&params);
    /// while let Some(user) = users.next().await {
    ///     println!("{}", user?["email"]);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn find_all<P, T>(&self, params: &P) -> Records<T>
    where
        P: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let pager = to_params(params)
            .map_err(Error::from)
            .and_then(|params| Pager::new(self.clone(), params));
        let (pager, failed) = match pager {
            Ok(pager) => (Some(pager), None),
            Err(e) => (None, Some(e)),
        };
        Records {
            pager,
            fetch: None,
            buffer: Vec::new().into_iter(),
            failed,
            record: PhantomData,
        }
    }
}

/// What `find_all` needs to ask for the next page.
struct Pager {
    client: JanrainClient,
    /// The user's parameters without `filter`, `max_results` and `sort_on`.
    params: Vec<(String, String)>,
    filter: Option<String>,
    page_size: u32,
    last_id: Option<i64>,
}

impl Pager {
    fn new(client: JanrainClient, all: Vec<(String, String)>) -> Result<Self, Error> {
        let mut params = Vec::with_capacity(all.len() + 2);
        let mut filter = None;
        let mut page_size = DEFAULT_PAGE_SIZE;
        for (key, value) in all {
            match key.as_str() {
                "sort_on" | "first_result" => {
                    return Err(Error::Paging(
                        "find_all sorts on id and pages by id; leave sort_on and first_result out",
                    ));
                }
                "filter" => filter = Some(value).filter(|f| !f.trim().is_empty()),
                "max_results" => {
                    page_size = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(Error::Paging("max_results must be a positive whole number"))?;
                }
                "attributes" => {
                    let value = match serde_json::from_str::<Vec<String>>(&value) {
                        Ok(mut names) if !names.iter().any(|n| n == "id") => {
                            names.push("id".to_owned());
                            to_json_text(&names).unwrap_or(value)
                        }
                        _ => value,
                    };
                    params.push((key, value));
                }
                _ => params.push((key, value)),
            }
        }
        Ok(Pager {
            client,
            params,
            filter,
            page_size,
            last_id: None,
        })
    }

    /// The request for the next page.
    fn fetch(&self) -> PageFuture {
        let mut params = self.params.clone();
        let filter = match (&self.filter, self.last_id) {
            (Some(f), Some(id)) => Some(format!("({f}) and id > {id}")),
            (None, Some(id)) => Some(format!("id > {id}")),
            (Some(f), None) => Some(f.clone()),
            (None, None) => None,
        };
        if let Some(filter) = filter {
            params.push(("filter".to_owned(), filter));
        }
        params.push(("sort_on".to_owned(), r#"["id"]"#.to_owned()));
        params.push(("max_results".to_owned(), self.page_size.to_string()));
        let client = self.client.clone();
        Box::pin(async move {
            let url = client.url("entity.find")?;
            let (status, mut answer) = client.post(url, &params).await?;
            match answer.get_mut("results").map(Value::take) {
                Some(Value::Array(records)) => Ok(records),
                _ => Err(Error::Decode {
                    status,
                    source: serde::de::Error::missing_field("results"),
                }),
            }
        })
    }
}

type PageFuture = Pin<Box<dyn Future<Output = Result<Vec<Value>, Error>> + Send>>;

/// The records of [`JanrainClient::find_all`]: a [`Stream`](futures_core::Stream) of
/// `Result<T, Error>` that fetches the next page when the current one is used up. Use it with
/// `futures_util::StreamExt` or [`Records::next`].
#[must_use = "a stream does nothing unless polled"]
pub struct Records<T> {
    pager: Option<Pager>,
    fetch: Option<PageFuture>,
    buffer: std::vec::IntoIter<Value>,
    /// An error to yield once the buffered records are out.
    failed: Option<Error>,
    record: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Records<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("buffered", &self.buffer.len())
            .field("last_id", &self.pager.as_ref().and_then(|p| p.last_id))
            .field("done", &self.pager.is_none())
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Records<T> {
    /// The next record, `None` after the last one (or after an error).
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut *self), cx)).await
    }

    /// Take in a page: where the next one starts, or why there is none.
    fn accept(&mut self, records: Vec<Value>) {
        let Some(pager) = self.pager.as_mut() else {
            return;
        };
        if records.len() < pager.page_size as usize {
            self.pager = None;
        } else {
            let last = records.last().and_then(|r| record_id(&r["id"]));
            match last {
                Some(id) if pager.last_id.is_none_or(|before| id > before) => {
                    pager.last_id = Some(id);
                }
                Some(_) => {
                    self.failed = Some(Error::Paging(
                        "the answer did not move past the previous page's last id",
                    ));
                    self.pager = None;
                }
                None => {
                    self.failed = Some(Error::Paging(
                        "a full page's last record has no integer id to continue from",
                    ));
                    self.pager = None;
                }
            }
        }
        self.buffer = records.into_iter();
    }
}

fn record_id(id: &Value) -> Option<i64> {
    match id {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl<T: DeserializeOwned> futures_core::Stream for Records<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(record) = this.buffer.next() {
                return Poll::Ready(Some(T::deserialize(record).map_err(|source| {
                    Error::Decode {
                        status: StatusCode::OK,
                        source,
                    }
                })));
            }
            if let Some(fetch) = this.fetch.as_mut() {
                let page = std::task::ready!(fetch.as_mut().poll(cx));
                this.fetch = None;
                match page {
                    Ok(records) => this.accept(records),
                    Err(e) => {
                        this.pager = None;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                continue;
            }
            match &this.pager {
                Some(pager) => this.fetch = Some(pager.fetch()),
                None => return Poll::Ready(this.failed.take().map(Err)),
            }
        }
    }
}
