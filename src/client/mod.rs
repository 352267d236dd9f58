//! Calling Identity Cloud: outbound signing as a tower layer for `http::Request`s and (feature
//! `reqwest`) a reqwest-middleware middleware, with an Identity Cloud client over it.
//!
//! * [`JanrainClient`] (feature `reqwest`) calls operations by name under the signer's base
//!   URL: parameters from any `Serialize` struct or map, answers into any `Deserialize` type, a
//!   single [`Error`] type that keeps Janrain's whole error object, and `entity.find` paged as a
//!   stream ([`JanrainClient::find_all`]). Every call sends `User-Agent: janrain-auth/<version>`
//!   ([`USER_AGENT`]) and asks for gzip. See [Calling Identity Cloud](#calling-identity-cloud-feature-reqwest).
//! * [`config`] (feature `reqwest`) finds credentials as Janrain's Python client does: given,
//!   from an entry of the Janrain config file (`~/.janrain-capture`), or from the environment
//!   (`CAPTURE_CLIENT_ID`, ...); [`JanrainClient::from_env`] and [`JanrainClient::from_config`]
//!   are the short ways. The `janrain` command (feature `cli`) is built on it.
//! * [`JanrainResponseExt::janrain_json`] reads any response, reqwest's or a tower client's
//!   `http::Response`, as a Janrain answer, into the same [`Error`] as [`JanrainClient`].
//! * [`ClockSkewRetry`] (feature `reqwest`) and [`ClockSkewRetryLayer`] (tower) send a request
//!   refused for a `Date` off the server's clock once more, after the signer inside them has
//!   learned the server's time.
//! * [`encode`] writes parameter values the way Janrain's own Python client does (lists and
//!   objects as JSON text, `true`/`false`, numbers in decimal), for any request builder.
//!
//! Both front ends share one core, the [`RequestSigner`], so they sign identically:
//!
//! * **who signs**: the signer's [`ApiClient`](crate::credentials::ApiClient), or the one in a
//!   [`UseClient`] request extension; with its first secret. A request can instead go out as a
//!   user or as a login client: see
//!   [Calling as a user or as a login client](#calling-as-a-user-or-as-a-login-client);
//! * **how**: [`AuthMode::Signature`] (janrain-signed, the default) or [`AuthMode::Basic`]
//!   (or, legacy, [`AuthMode::FormCredentials`]: `client_id` and `client_secret` as parameters);
//! * **the endpoint**: the URL path, percent-encoded as it goes on the wire, with the base path
//!   removed. The base path is the [base URL](SignerBuilder::base_url)'s path without its
//!   trailing slash: with the base URL `https://app.janraincapture.com/capture/`, a
//!   request to `https://app.janraincapture.com/capture/entity.find` signs `/entity.find`. The
//!   request's own path is signed as it is, a trailing slash included, because that is what the
//!   server sees;
//! * **the parameters**: the query string's pairs, plus the body's when the `Content-Type` is
//!   `application/x-www-form-urlencoded`, decoded by [`ParamList`](crate::params::ParamList)
//!   exactly as the verifier decodes them. Other bodies (JSON, say) carry no parameters and are
//!   not signed. A body that cannot be read without consuming it (a stream, a multipart form)
//!   is refused with [`SignError::BodyNotBuffered`] in janrain-signed mode, since the server
//!   might read parameters from it;
//! * **the time**: `Date: YYYY-MM-DD HH:MM:SS` in UTC from the [clock](SignerBuilder::clock),
//!   plus the clock offset learned from the server's answers (see
//!   [`SignerBuilder::learn_clock_skew`]). Retrying a request refused for its `Date` is the
//!   job of a middleware of its own, [`ClockSkewRetry`] (feature `reqwest`) or
//!   [`ClockSkewRetryLayer`], placed outside the signer;
//! * **the headers**: `Date` and `Authorization` (marked sensitive, never logged). A request
//!   that already has an `Authorization` header (one set by hand, say) is left exactly as it
//!   is, unless [`SignerBuilder::overwrite_authorization`] is set;
//! * **where credentials may go**: the base URL's scheme, host and port, plus any
//!   [`allow_host`](SignerBuilder::allow_host), or any host with
//!   [`allow_any_host`](SignerBuilder::allow_any_host). A signer with none of these does not
//!   build ([`ConfigError::NoHosts`]). A request elsewhere fails with
//!   [`SignError::HostNotAllowed`], which names the host; it is never sent unsigned unless
//!   [`UnlistedHost::SendUnsigned`] says so.
//!
//! The core is usable on its own ([`RequestSigner::sign_http`], and `sign_reqwest` with feature
//! `reqwest`):
//!
//! ```
//! use janrain_auth::client::RequestSigner;
//! use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
//! use janrain_auth::scheme::ManualClock;
//!
//! let api = ApiClient::new(ClientId::new("foo")?, ClientSecret::new("bar")?);
//! let signer = RequestSigner::builder(api)
//!     .base_url("https://myapp.janraincapture.com/")
//!     .clock(ManualClock::at("2000-01-01 01:01:01".parse()?))
//!     .build()?;
//!
//! // The reference library's own test: POST /entity with three form parameters.
//! let mut request = http::Request::post("https://myapp.janraincapture.com/entity")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body(String::from("param1=this+is+a+string&param2=10&param3=one%3D1%0Atwo%3D2%2Cthree%3D3"))?;
//! signer.sign_http(&mut request)?;
//! assert_eq!(request.headers()["date"], "2000-01-01 01:01:01");
//! assert_eq!(request.headers()["authorization"], "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=");
//! assert!(request.headers()["authorization"].is_sensitive());
//!
//! // Credentials go nowhere else.
//! let mut elsewhere = http::Request::get("https://attacker.example/entity").body(String::new())?;
//! let err = signer.sign_http(&mut elsewhere).unwrap_err();
//! assert!(err.to_string().contains("https://attacker.example"));
//! assert!(elsewhere.headers().get("authorization").is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Calling as a user or as a login client
//!
//! Besides calling as an API client, Identity Cloud is called two more ways, chosen per
//! request with an extension in the place of [`UseClient`] (the `http::Request`'s extensions
//! for the tower layers, `RequestBuilder::with_extension` for reqwest-middleware), or for
//! every call of a [`JanrainClient`] with [`JanrainClient::as_user`] and
//! [`JanrainClient::as_login_client`]:
//!
//! * **as a user** (janrain-oauth), with [`AsUser`] and the user's
//!   [`AccessToken`](crate::credentials::AccessToken): `Authorization: OAuth <token>`, marked
//!   sensitive; no signature, no `Date`, no client secret, and the body is not read. This is
//!   how `/entity*` operations are called on a user's behalf; the server scopes them to that
//!   user.
//! * **as a login client**, with [`AsLoginClient`] and the login client's id: no
//!   `Authorization` header; the `client_id` parameter is added to the form body when the
//!   `Content-Type` is `application/x-www-form-urlencoded` (an empty body too, unless the
//!   request is a GET or HEAD or its query string holds parameters), else to the query string.
//!   Other parameters, `access_token` included, are the request's own. A request that
//!   already has a `client_id` parameter fails with [`SignError::RepeatedClientId`] (the server
//!   refuses a repeated one); parameters must be readable as for janrain-signed
//!   ([`SignError::BodyNotBuffered`], [`SignError::AmbiguousParameters`]). With the tower
//!   layer, adding to a form body rebuilds the body ([`BufferedBody::from_bytes`]:
//!   `Full<Bytes>`, `String`, and whatever [`SignLayer::buffering`] collects).
//!
//! Both obey the rest of the signer's configuration: the host allowlist (a token goes only
//! where credentials may go), [`UnlistedHost`], and the rule for a request that already has an
//! `Authorization` header. A request carries at most one of [`UseClient`], [`AsUser`] and
//! [`AsLoginClient`] ([`SignError::ConflictingCredentials`] otherwise). An access token is
//! redacted in `Debug` and `Display`, zeroized on drop, and never written to a trace.
//!
//! ```no_run
//! # #[cfg(feature = "reqwest")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use janrain_auth::client::{AsUser, JanrainClient, JanrainSigner, RequestSigner};
//! use janrain_auth::credentials::{AccessToken, ApiClient, ClientSecret};
//! use serde_json::{Value, json};
//!
//! let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
//! let signer = RequestSigner::builder(api).base_url("https://myapp.janraincapture.com").build()?;
//! let janrain = JanrainClient::new(signer.clone())?;
//! let token = AccessToken::new("y2bz7eq8xx7mkdqk")?;
//!
//! // Every call of this view goes out as the user.
//! let user = janrain.as_user(token.clone());
//! let me: Value = user.call("entity", &json!({"type_name": "user"})).await?;
//!
//! // A login-client operation: client_id is added, the token is a parameter of the call.
//! let login = janrain.as_login_client("login_client_id".parse()?);
//! let params = json!({
//!     "flow": "standard",
//!     "form": "editProfileForm",
//!     "access_token": token.expose(),
//!     "displayName": "Zoë",
//! });
//! let updated: Value = login.call("oauth/update_profile_native", &params).await?;
//!
//! // The same, one request at a time, through the middleware.
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(JanrainSigner::new(signer))
//!     .build();
//! let response = client
//!     .post("https://myapp.janraincapture.com/entity")
//!     .form(&[("type_name", "user")])
//!     .with_extension(AsUser(token))
//!     .send()
//!     .await?;
//! # let _ = (me, updated, response);
//! # Ok(())
//! # }
//! ```
//!
//! # With a tower client (hyper-util)
//!
//! [`SignLayer`] signs `http::Request<B>` for any `B: `[`BufferedBody`] (`Full<Bytes>`,
//! `Empty<Bytes>`, `String`); [`SignLayer::buffering`] collects any other body under a limit
//! first.
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use janrain_auth::client::{RequestSigner, SignLayer};
//! use janrain_auth::credentials::{ApiClient, ClientSecret};
//! use tower::{Service, ServiceBuilder};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
//! let signer = RequestSigner::builder(api).base_url("http://127.0.0.1:8080").build()?;
//! let mut client = ServiceBuilder::new()
//!     .layer(SignLayer::new(signer))
//!     .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
//! let request = http::Request::post("http://127.0.0.1:8080/entity.count")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body(Full::new(Bytes::from_static(b"type_name=user")))?;
//! let response = client.call(request).await?;
//! # let _ = response;
//! # Ok(())
//! # }
//! ```
//!
//! # Calling Identity Cloud (feature `reqwest`)
//!
//! ```no_run
//! # #[cfg(feature = "reqwest")]
//! # async fn run() -> Result<(), janrain_auth::client::Error> {
//! use janrain_auth::client::{JanrainClient, RequestSigner};
//! use janrain_auth::credentials::{ApiClient, ClientSecret};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize)]
//! struct Find<'a> {
//!     type_name: &'a str,
//!     filter: &'a str,
//!     attributes: &'a [&'a str], // sent as the JSON text ["uuid", "email"]
//!     max_results: u32,
//! }
//!
//! #[derive(Deserialize)]
//! struct Found {
//!     result_count: u32,
//!     results: Vec<User>,
//! }
//!
//! #[derive(Deserialize)]
//! struct User {
//!     uuid: String,
//!     email: Option<String>,
//! }
//!
//! # let setup = || -> Result<JanrainClient, Box<dyn std::error::Error>> {
//! let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
//! let signer = RequestSigner::builder(api).base_url("https://myapp.janraincapture.com").build()?;
//! let janrain = JanrainClient::new(signer)?;
//! # Ok(janrain) };
//! # let janrain = setup().unwrap();
//! let params = Find {
//!     type_name: "user",
//!     filter: "lastUpdated >= '2016-01-01'",
//!     attributes: &["uuid", "email"],
//!     max_results: 10,
//! };
//! let found: Found = janrain.call("entity.find", &params).await?;
//! for user in &found.results {
//!     println!("{} {:?}", user.uuid, user.email);
//! }
//!
//! // Janrain's refusals arrive as Error::Janrain, with every field of the error object.
//! let update = serde_json::json!({"type_name": "user", "uuid": "x", "value": {"givenName": 1}});
//! if let Err(e) = janrain.call::<_, serde_json::Value>("entity.update", &update).await {
//!     if let Some(janrain_error) = e.janrain() {
//!         eprintln!("code {} on {:?}", janrain_error.code, janrain_error.field("argument_name"));
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # With reqwest-middleware (feature `reqwest`)
//!
//! ```no_run
//! # #[cfg(feature = "reqwest")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use janrain_auth::client::{
//!     ClockSkewRetry, JanrainResponseExt, JanrainSigner, RequestSigner, UseClient,
//! };
//! use janrain_auth::credentials::{ApiClient, ClientSecret};
//!
//! let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
//! let signer = RequestSigner::builder(api).base_url("https://myapp.janraincapture.com").build()?;
//! // The skew retry outside the signer: a request refused for its Date goes once more.
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(ClockSkewRetry::new())
//!     .with(JanrainSigner::new(signer))
//!     .build();
//!
//! // Signed by the signer's client.
//! let count = client
//!     .post("https://myapp.janraincapture.com/entity.count")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body("type_name=user")
//!     .send()
//!     .await?
//!     .janrain_json()
//!     .await?;
//!
//! // Signed by another client, for this request only.
//! let owner = Arc::new(ApiClient::new("owner_id".parse()?, ClientSecret::new("owner_secret")?));
//! let clients = client
//!     .post("https://myapp.janraincapture.com/clients/list")
//!     .with_extension(UseClient(owner))
//!     .send()
//!     .await?;
//! # let _ = (count, clients);
//! # Ok(())
//! # }
//! ```

mod allowlist;
mod answer;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
mod api;
mod builder;
mod caller;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod config;
pub mod encode;
mod error;
mod request_signer;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
mod reqwest;
mod rewrite;
mod skew_retry;
mod tower;

pub use self::answer::JanrainResponseExt;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use self::api::{DEFAULT_PAGE_SIZE, JanrainClient, Records, USER_AGENT};
pub use self::builder::{AuthMode, SignerBuilder, UnlistedHost};
pub use self::caller::{AsLoginClient, AsUser, UseClient};
pub use self::error::{ConfigError, Error, SignError};
pub use self::request_signer::{RequestSigner, SignOutcome};
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use self::reqwest::JanrainSigner;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use self::skew_retry::ClockSkewRetry;
pub use self::skew_retry::{
    ClockSkewRetryLayer, ClockSkewRetryService, MAX_REFUSAL_BODY, SkewRetryBody,
};
pub use self::tower::{
    BufferedBody, BufferingSign, BufferingSignLayer, ResponseFuture, Sign, SignLayer,
};
