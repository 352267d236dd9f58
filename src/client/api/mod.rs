//! [`JanrainClient`]: Identity Cloud operations by name, with typed parameters and answers, over
//! a reqwest-middleware chain that signs with [`JanrainSigner`].

mod find_all;

use std::fmt;
use std::sync::Arc;

use http::StatusCode;
use http::header::CONTENT_TYPE;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use self::find_all::{DEFAULT_PAGE_SIZE, Records};
use super::answer::JanrainResponseExt;
use super::caller::{AsLoginClient, AsUser};
use super::config::{CredentialLookup, LookupError};
use super::encode::to_params;
use super::error::{ConfigError, Error};
use super::request_signer::RequestSigner;
use super::reqwest::JanrainSigner;
use super::skew_retry::ClockSkewRetry;
use crate::credentials::{AccessToken, ClientId};
use crate::params::encode_urlencoded;

/// The `User-Agent` of [`JanrainClient::new`]'s calls: `janrain-auth/<version>`. Give it to your
/// own `reqwest::Client` (`reqwest::ClientBuilder::user_agent`) to send the same.
pub const USER_AGENT: &str = concat!("janrain-auth/", env!("CARGO_PKG_VERSION"));

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
    /// Every call sends `User-Agent: janrain-auth/<version>` ([`USER_AGENT`]) and
    /// `Accept-Encoding: gzip`, and a compressed answer is decompressed before it is read.
    /// An `https://` base URL needs a TLS feature of reqwest in your `Cargo.toml` (this crate
    /// enables none); without one, calls fail with [`Error::NoTls`], which says so.
    ///
    /// Use [`JanrainClient::from_builder`] for your own `reqwest::Client` (a TLS setup, timeouts,
    /// another `User-Agent`) or middleware.
    pub fn new(signer: RequestSigner) -> Result<Self, ConfigError> {
        let http = ::reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| ConfigError::HttpClient {
                reason: e.to_string(),
            })?;
        Self::from_builder(ClientBuilder::new(http), signer)
    }

    /// A client with the credentials and URL of the environment, as Janrain's Python client
    /// reads them: `CAPTURE_CLIENT_ID`, `CAPTURE_CLIENT_SECRET` and `CAPTURE_APID_URI` (a bare
    /// host means `https://` on it), with the defaults of [`JanrainClient::new`].
    ///
    /// ```no_run
    /// // CAPTURE_CLIENT_ID=... CAPTURE_CLIENT_SECRET=... CAPTURE_APID_URI=myapp.janraincapture.com
    /// let janrain = janrain_auth::client::JanrainClient::from_env()?;
    /// # let _ = janrain;
    /// # Ok::<(), janrain_auth::client::config::LookupError>(())
    /// ```
    pub fn from_env() -> Result<Self, LookupError> {
        CredentialLookup::new().credentials()?.into_client()
    }

    /// A client with the credentials of the entry `key` of the Janrain config file
    /// (`JANRAIN_CONFIG`, else `~/.janrain-capture`): a dotted path such as `clients.demo`, or a
    /// bare name tried as itself, then as `clients.NAME`, then as `clusters.NAME`. The URL is
    /// the entry's `apid_uri`, else `CAPTURE_APID_URI`. See [`config`](super::config) for the
    /// file and for lookups in the order of Janrain's `capture-api`.
    ///
    /// ```no_run
    /// let janrain = janrain_auth::client::JanrainClient::from_config("demo")?;
    /// # let _ = janrain;
    /// # Ok::<(), janrain_auth::client::config::LookupError>(())
    /// ```
    pub fn from_config(key: &str) -> Result<Self, LookupError> {
        CredentialLookup::new()
            .config_key(key)
            .credentials()?
            .into_client()
    }

    /// A client over your reqwest-middleware chain: a [`ClockSkewRetry`] and then a
    /// [`JanrainSigner`] with `signer` are added last, innermost, so that your middleware
    /// (retries, tracing) wraps them and every attempt is signed afresh.
    ///
    /// The `reqwest::Client` inside is yours, with its own `User-Agent` (none unless you set
    /// one; [`USER_AGENT`] is the one [`JanrainClient::new`] sends). It asks for gzip and
    /// decompresses the answer, as every reqwest client does with reqwest's `gzip` feature,
    /// which this crate enables.
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
    ///
    /// `T = ()` (or any unit struct) takes every success answer: for the calls whose answer is
    /// just `{"stat":"ok"}` (`entity.delete`, `entity.update`, ...), where all that matters is
    /// that no error came back.
    ///
    /// ```no_run
    /// # async fn run(janrain: janrain_auth::client::JanrainClient) -> Result<(), janrain_auth::client::Error> {
    /// let params = serde_json::json!({"type_name": "user", "uuid": "x", "value": {"givenName": "Zoë"}});
    /// janrain.call::<_, ()>("entity.update", &params).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn call<P, T>(&self, operation: &str, params: &P) -> Result<T, Error>
    where
        P: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let url = self.url(operation)?;
        let params = to_params(params)?;
        let (status, value) = self.post(url, &params).await?;
        if let Ok(unit) = T::deserialize(UnitProbe) {
            return Ok(unit);
        }
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
            .await?;
        let status = response.status();
        let mut value = response.janrain_json().await?;
        if let Some(object) = value.as_object_mut() {
            object.remove("stat");
        }
        Ok((status, value))
    }
}

/// A deserializer that only a unit type accepts: `()` and unit structs ask for a unit and get
/// one; every other type asks for something else and is refused, and then reads the answer.
/// This is how [`JanrainClient::call`] lets `()` take any success answer without guessing at
/// other types (an `Option` or a `Value` asks for an option or for anything, and is refused).
struct UnitProbe;

impl<'de> serde::Deserializer<'de> for UnitProbe {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a unit type"))
    }

    fn deserialize_unit<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::UnitProbe;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Done;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Found {
        uuid: String,
    }

    #[test]
    fn only_unit_types_pass_the_probe() {
        assert_eq!(<()>::deserialize(UnitProbe), Ok(()));
        assert_eq!(Done::deserialize(UnitProbe), Ok(Done));
        assert!(Option::<()>::deserialize(UnitProbe).is_err());
        assert!(serde_json::Value::deserialize(UnitProbe).is_err());
        assert!(Found::deserialize(UnitProbe).is_err());
        assert!(serde::de::IgnoredAny::deserialize(UnitProbe).is_err());
        assert!(Vec::<u8>::deserialize(UnitProbe).is_err());
        assert!(String::deserialize(UnitProbe).is_err());
    }
}
