//! Who a request goes out as, chosen per request: an API client ([`UseClient`]), a user
//! ([`AsUser`], janrain-oauth) or a login client ([`AsLoginClient`]); without any of them, the
//! signer's own client.

use std::sync::Arc;

use http::Extensions;

use super::error::SignError;
use crate::credentials::{AccessToken, ApiClient, ClientId};

/// Per-request choice of the API client that signs: put it in the `http::Request`'s extensions
/// for the tower layer, or in the middleware extensions for reqwest-middleware
/// (`RequestBuilder::with_extension`; a `reqwest::Request`'s own extensions are not readable
/// from outside reqwest). Without it the signer's own client signs.
///
/// The host allowlist applies all the same. A request carries at most one of [`UseClient`],
/// [`AsUser`] and [`AsLoginClient`] ([`SignError::ConflictingCredentials`] otherwise).
#[derive(Clone, Debug)]
pub struct UseClient(pub Arc<ApiClient>);

/// Per-request choice to send a request as a user (janrain-oauth): the request goes out with
/// `Authorization: OAuth <token>` (marked sensitive), without a signature or a `Date`, and no
/// client secret is used. The body is never read, so any body will do. Put it where
/// [`UseClient`] goes: the `http::Request`'s extensions for the tower layer, the middleware
/// extensions for reqwest-middleware.
///
/// The token is a credential: the host allowlist applies exactly as for signing, and the
/// token never appears in `Debug` output, errors or traces. The rule for a request that
/// already has an `Authorization` header is the signer's
/// ([`SignerBuilder::overwrite_authorization`](super::SignerBuilder::overwrite_authorization)).
///
/// ```
/// use janrain_auth::client::{AsUser, RequestSigner, SignOutcome};
/// use janrain_auth::credentials::{AccessToken, ApiClient, ClientSecret};
///
/// let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
/// let signer = RequestSigner::builder(api).base_url("https://myapp.janraincapture.com").build()?;
/// let mut request = http::Request::post("https://myapp.janraincapture.com/entity")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .extension(AsUser(AccessToken::new("y2bz7eq8xx7mkdqk")?))
///     .body(String::from("type_name=user"))?;
/// assert_eq!(signer.sign_http(&mut request)?, SignOutcome::AsUser);
/// assert_eq!(request.headers()["authorization"], "OAuth y2bz7eq8xx7mkdqk");
/// assert!(request.headers()["authorization"].is_sensitive());
/// assert!(request.headers().get("date").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct AsUser(pub AccessToken);

/// Per-request choice to send a request as a login client, for the operations a login client
/// calls with its id alone (`/oauth/auth_native`, `/oauth/update_profile_native`, ...): no
/// `Authorization` header is set, and the `client_id` parameter is added where the request's
/// parameters are: to the form body when the `Content-Type` is
/// `application/x-www-form-urlencoded` (an empty body too, unless the request is a GET or HEAD
/// or its query string holds parameters), else to the query string. Put it where
/// [`UseClient`] goes.
///
/// * Any other parameter (an `access_token`, say) is the request's own.
/// * A request that already carries a `client_id` parameter fails with
///   [`SignError::RepeatedClientId`]: the server refuses a repeated `client_id`.
/// * The parameters must be readable, as for janrain-signed: a body that is a stream fails with
///   [`SignError::BodyNotBuffered`], parameters in both the query string and a form body with
///   [`SignError::AmbiguousParameters`]. With the tower layer, adding to a form body needs a
///   body type that can be rebuilt ([`BufferedBody::from_bytes`](super::BufferedBody::from_bytes)).
/// * The host allowlist applies as for signing (the request often carries a user's token).
///
/// ```
/// use janrain_auth::client::{AsLoginClient, RequestSigner, SignOutcome};
/// use janrain_auth::credentials::{ApiClient, ClientSecret};
///
/// let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
/// let signer = RequestSigner::builder(api).base_url("https://myapp.janraincapture.com").build()?;
/// let mut request = http::Request::post("https://myapp.janraincapture.com/oauth/update_profile_native")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .extension(AsLoginClient("login_client_id".parse()?))
///     .body(String::from("flow=standard&access_token=y2bz7eq8xx7mkdqk"))?;
/// assert_eq!(signer.sign_http(&mut request)?, SignOutcome::AsLoginClient);
/// assert_eq!(request.body(), "flow=standard&access_token=y2bz7eq8xx7mkdqk&client_id=login_client_id");
/// assert!(request.headers().get("authorization").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct AsLoginClient(pub ClientId);

/// Who a request goes out as, from its extensions.
#[derive(Clone, Copy)]
pub(crate) enum Caller<'a> {
    /// The signer's own client signs.
    Signer,
    /// Another API client signs ([`UseClient`]).
    Client(&'a Arc<ApiClient>),
    /// A user's access token ([`AsUser`]).
    User(&'a AccessToken),
    /// A login client's id as a parameter ([`AsLoginClient`]).
    LoginClient(&'a ClientId),
}

impl<'a> Caller<'a> {
    /// The choice a request's extensions make: at most one of [`UseClient`], [`AsUser`] and
    /// [`AsLoginClient`].
    pub(crate) fn of(extensions: &'a Extensions) -> Result<Self, SignError> {
        let client = extensions.get::<UseClient>();
        let user = extensions.get::<AsUser>();
        let login = extensions.get::<AsLoginClient>();
        match (client, user, login) {
            (None, None, None) => Ok(Caller::Signer),
            (Some(c), None, None) => Ok(Caller::Client(&c.0)),
            (None, Some(u), None) => Ok(Caller::User(&u.0)),
            (None, None, Some(l)) => Ok(Caller::LoginClient(&l.0)),
            _ => Err(SignError::ConflictingCredentials),
        }
    }
}
