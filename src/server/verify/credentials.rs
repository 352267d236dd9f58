//! Checking credentials: clients and their secrets, the `Date` and its window, features,
//! the replay guard, login clients and access tokens.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;
use http::header::DATE;

use super::principal::{self, Principal};
use super::{Halt, Held, MAX_REPLAY_TTL, Outcome, Verifier, Wait, refusal};
use crate::credentials::{ApiClient, ClientId, ClientSecret};
use crate::params::ParamList;
use crate::permissions::{AuthMethod, AuthMethods, Operation};
use crate::scheme::{DATETIME_LEN, Datetime, SIGNATURE_LEN};
use crate::server::replay::{ReplayGuard, ReplayKey, ReplayVerdict};
use crate::server::store::TokenRecord;
use crate::server::{Rejection, RejectionKind};

impl Verifier {
    /// The client `id` names, which must exist.
    pub(super) async fn lookup(
        &self,
        id: &str,
        accepts: AuthMethods,
        wait: Wait,
    ) -> Result<Arc<ApiClient>, Halt> {
        match self.find(id, wait).await? {
            Some(client) => Ok(client),
            None => Err(invalid_credentials(accepts).into()),
        }
    }

    /// The client `id` names, if any, from a step that may wait for the store.
    pub(super) async fn lookup_optional(
        &self,
        id: &str,
    ) -> Result<Option<Arc<ApiClient>>, Rejection> {
        self.find(id, Wait::Allowed).await.map_err(Halt::refusal)
    }

    /// The store's answer for `id`: awaited, or with [`Wait::Never`] only one it has at once
    /// (the future of any other is dropped without being polled).
    async fn find(&self, id: &str, wait: Wait) -> Result<Option<Arc<ApiClient>>, Halt> {
        let answer = self.store.client(id);
        let answer = match wait {
            Wait::Allowed => answer.await,
            Wait::Never => answer.into_ready().ok_or(Halt::MustWait)?,
        };
        answer.map_err(|e| {
            tracing::warn!(error = %e, "client store failed");
            store_unavailable().into()
        })
    }

    /// Basic: the client, its secret and its features. An unknown client id costs the same
    /// MAC work as a known one with one secret (against a fixed stand-in), so the time taken
    /// does not tell the two apart; the answers do differ (402 for both an unknown id and a
    /// wrong secret, as Janrain answers).
    pub(super) async fn basic(
        &self,
        id: &ClientId,
        password: &str,
        op: &Operation,
        wait: Wait,
    ) -> Result<Arc<ApiClient>, Halt> {
        let Some(client) = self.find(id.as_str(), wait).await? else {
            let _ = stand_in_client().verify_basic_secret(password);
            return Err(invalid_credentials(op.auth()).into());
        };
        if !client.verify_basic_secret(password) {
            return Err(invalid_credentials(op.auth()).into());
        }
        self.permit(&client, op)?;
        Ok(client)
    }

    /// The `Date` header: exactly one, in the strict form, inside the window.
    pub(super) fn check_date(
        &self,
        headers: &HeaderMap,
        accepts: AuthMethods,
    ) -> Result<(Datetime, [u8; DATETIME_LEN], SystemTime), Rejection> {
        let invalid = |text: &str| refusal(RejectionKind::InvalidDate, text, accepts);
        let mut dates = headers.get_all(DATE).iter();
        let value = dates.next().ok_or_else(|| {
            invalid("the Date header is missing; send the current UTC time as YYYY-MM-DD HH:MM:SS, the same text that is signed")
        })?;
        if dates.next().is_some() {
            return Err(invalid("send exactly one Date header"));
        }
        let date = Datetime::parse_bytes(value.as_bytes()).map_err(|e| {
            refusal(
                RejectionKind::InvalidDate,
                format!("invalid Date header: {e}"),
                accepts,
            )
        })?;
        // The strict form is exactly `DATETIME_LEN` bytes: the text as signed, kept so that the
        // string to sign needs no second look at the headers.
        let text = <[u8; DATETIME_LEN]>::try_from(value.as_bytes()).unwrap_or([0; DATETIME_LEN]);
        let now = self.clock.now();
        self.check_window(date, now, accepts)?;
        Ok((date, text, now))
    }

    pub(super) fn check_window(
        &self,
        date: Datetime,
        now: SystemTime,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        let when = date.to_system_time();
        let out = |text: String| refusal(RejectionKind::DateOutOfWindow, text, accepts);
        match now.duration_since(when) {
            Ok(age) if age > self.max_age => Err(out(format!(
                "the Date {date} is {} s in the past; requests are accepted up to {} s old: check the client's clock",
                age.as_secs(),
                self.max_age.as_secs()
            ))),
            Err(ahead) if ahead.duration() > self.max_ahead => Err(out(format!(
                "the Date {date} is {} s in the future; at most {} s ahead is accepted: check the client's clock",
                ahead.duration().as_secs(),
                self.max_ahead.as_secs()
            ))),
            _ => Ok(()),
        }
    }

    pub(super) fn permit(&self, client: &ApiClient, op: &Operation) -> Result<(), Rejection> {
        // An operation anyone may call without credentials is open to every client with them.
        if op.permits(client.features()) || op.accepts(AuthMethod::None) {
            return Ok(());
        }
        Err(refusal(
            RejectionKind::PermissionDenied,
            format!(
                "this client does not have permission to call {}; it needs one of the features: {}",
                op.path(),
                op.allowed()
            ),
            op.auth(),
        ))
    }

    pub(super) async fn record(
        &self,
        guard: &dyn ReplayGuard,
        client_id: &ClientId,
        signature: &[u8; SIGNATURE_LEN],
        date: Datetime,
        now: SystemTime,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        // The request stays acceptable until its date is max_age old (plus the second it
        // names, since dates are truncated). A window too wide for the clock to express (a
        // `max_age` of `Duration::MAX`, say) keeps the entry for MAX_REPLAY_TTL.
        let keep = self.max_age.saturating_add(Duration::from_secs(1));
        let ttl = match date.to_system_time().checked_add(keep) {
            Some(until) => until.duration_since(now).unwrap_or(Duration::ZERO),
            None => MAX_REPLAY_TTL,
        }
        .clamp(Duration::from_secs(1), MAX_REPLAY_TTL);
        let client_id = client_id.as_str();
        let key = ReplayKey {
            client_id,
            signature: std::str::from_utf8(signature).unwrap_or_default(),
        };
        match guard.check_and_record(key, ttl).await {
            Ok(ReplayVerdict::Fresh) => Ok(()),
            Ok(ReplayVerdict::Replayed) => Err(refusal(
                RejectionKind::Replayed,
                "this signed request was already accepted; sign each request afresh",
                accepts,
            )),
            Err(e) if self.replay_fail_open => {
                tracing::warn!(error = %e, client_id, "replay guard unavailable; request let through (fail open)");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, client_id, "replay guard unavailable; request refused (fail closed)");
                Err(Rejection::new(
                    RejectionKind::ReplayGuardUnavailable,
                    "replay protection is unavailable, so signed requests cannot be accepted; try again later",
                ))
            }
        }
    }

    /// A login-client operation: the `client_id` parameter (exactly one, checked by
    /// [`Self::check_parameters`]) names a `login_client` client; where the operation takes
    /// one, the `access_token` must have been issued to it, for a user, and the request then
    /// acts for that user (see [`principal`]).
    pub(super) async fn login_client(
        &self,
        params: &ParamList,
        op: &Operation,
    ) -> Result<(Arc<ApiClient>, AuthMethod, Option<Arc<str>>), Rejection> {
        let accepts = op.auth();
        let missing = |name: &str| {
            refusal(
                RejectionKind::MissingArgument,
                format!(
                    "the {name} parameter is missing; {} takes the client_id of a login client{}",
                    op.path(),
                    if accepts.contains(AuthMethod::LoginClientWithToken) {
                        " and an access_token issued to it"
                    } else {
                        ""
                    }
                ),
                accepts,
            )
        };
        let raw_id = params
            .get(b"client_id")
            .ok_or_else(|| missing("client_id"))?;
        let id = std::str::from_utf8(raw_id)
            .ok()
            .and_then(|s| ClientId::new(s).ok())
            .ok_or_else(|| invalid_credentials(accepts))?;
        tracing::Span::current().record("client_id", id.as_str());
        let client = self
            .lookup(id.as_str(), accepts, Wait::Allowed)
            .await
            .map_err(Halt::refusal)?;
        self.permit(&client, op)?;

        let token = params.get(b"access_token");
        let needs_token = accepts.contains(AuthMethod::LoginClientWithToken)
            && !accepts.contains(AuthMethod::LoginClient);
        let (method, user) = match token {
            None if needs_token => return Err(missing("access_token")),
            Some(token) if accepts.contains(AuthMethod::LoginClientWithToken) => {
                let record = self.check_token(token, client.id(), accepts).await?;
                (AuthMethod::LoginClientWithToken, record.uuid)
            }
            // A token where the operation takes none is refused by the principal's check.
            _ => (AuthMethod::LoginClient, None),
        };
        let principal = Principal {
            method,
            client: Some(client.id()),
            user: user.as_deref(),
        };
        principal::check(params, principal, accepts)?;
        Ok((client, method, user.map(Arc::from)))
    }

    /// The grant of a login client's `access_token`: known, issued to `client_id`, unexpired.
    pub(super) async fn check_token(
        &self,
        token: &[u8],
        client_id: &ClientId,
        accepts: AuthMethods,
    ) -> Result<TokenRecord, Rejection> {
        let reject = |kind, text: &str| refusal(kind, text, accepts);
        // Parameters are UTF-8 (checked with the rest).
        let token = std::str::from_utf8(token).unwrap_or_default();
        let record = self.token_record(token, accepts).await?;
        if record.client_id != *client_id {
            return Err(reject(
                RejectionKind::AccessTokenOtherClient,
                "the access_token was issued to another client; use the login client that obtained it",
            ));
        }
        if record.is_expired_at(self.clock.now()) {
            return Err(reject(
                RejectionKind::AccessTokenExpired,
                "the access_token has expired; sign the user in again",
            ));
        }
        Ok(record)
    }

    /// What the token verifier recorded for `token`: unknown tokens are 412, a verifier that
    /// cannot answer (or none configured) 503. The token itself is never logged.
    pub(super) async fn token_record(
        &self,
        token: &str,
        accepts: AuthMethods,
    ) -> Result<TokenRecord, Rejection> {
        let Some(verifier) = &self.tokens else {
            tracing::warn!(
                "an operation needs an access token but no token verifier is configured"
            );
            return Err(Rejection::new(
                RejectionKind::StoreUnavailable,
                "access tokens cannot be checked: the server has no token verifier",
            ));
        };
        match verifier.lookup(token).await {
            Ok(Some(record)) => Ok(record),
            Ok(None) => Err(refusal(
                RejectionKind::InvalidAccessToken,
                "the access_token is not valid",
                accepts,
            )),
            Err(e) => {
                tracing::warn!(error = %e, "token verifier failed");
                Err(Rejection::new(
                    RejectionKind::StoreUnavailable,
                    "access tokens cannot be checked right now; try again later",
                ))
            }
        }
    }

    /// janrain-oauth: the token resolves to a grant (the login client it was issued to, its
    /// user, its expiry); the request then acts for that user only.
    pub(super) async fn oauth<B>(
        &self,
        token: &str,
        params: ParamList,
        held: Held<B>,
        op: &Operation,
    ) -> Result<Outcome<B>, Rejection> {
        let accepts = op.auth();
        let reject = |kind, text: &str| refusal(kind, text, accepts);
        let record = self.token_record(token, accepts).await?;
        if record.is_expired_at(self.clock.now()) {
            return Err(reject(
                RejectionKind::AccessTokenExpired,
                "the access_token has expired; sign the user in again",
            ));
        }
        let principal = Principal {
            method: AuthMethod::OAuth,
            client: Some(&record.client_id),
            user: record.uuid.as_deref(),
        };
        principal::check(&params, principal, accepts)?;
        let user = record.uuid.as_deref().map(Arc::from);
        let Some(client) = self.lookup_optional(record.client_id.as_str()).await? else {
            return Err(reject(
                RejectionKind::InvalidAccessToken,
                "the access_token is not valid",
            ));
        };
        tracing::Span::current().record("client_id", client.id().as_str());
        Ok(Outcome {
            params,
            held,
            client: Some(client),
            method: AuthMethod::OAuth,
            user,
            rewritten: false,
        })
    }

    /// Legacy form credentials: `client_id` and `client_secret` in a form body, checked as
    /// Basic is; the secret is then taken out of what the handler sees.
    pub(super) async fn form_credentials<B>(
        &self,
        params: ParamList,
        op: &Operation,
    ) -> Result<Outcome<B>, Rejection> {
        let accepts = op.auth();
        let id = params
            .get(b"client_id")
            .and_then(|id| std::str::from_utf8(id).ok())
            .ok_or_else(|| {
                refusal(
                    RejectionKind::MissingArgument,
                    "the client_id parameter is missing; send it with the client_secret",
                    accepts,
                )
            })?;
        let id = ClientId::new(id).map_err(|_| invalid_credentials(accepts))?;
        tracing::Span::current().record("client_id", id.as_str());
        let secret = params
            .get(b"client_secret")
            .and_then(|s| std::str::from_utf8(s).ok())
            .unwrap_or_default();
        let client = self
            .basic(&id, secret, op, Wait::Allowed)
            .await
            .map_err(Halt::refusal)?;
        let principal = Principal {
            method: AuthMethod::FormCredentials,
            client: Some(client.id()),
            user: None,
        };
        principal::check(&params, principal, accepts)?;
        let params = params.without(&[b"client_secret"]);
        let pairs: Vec<(&[u8], &[u8])> = params.iter().collect();
        let body = Bytes::from(crate::params::encode_urlencoded(&pairs));
        Ok(Outcome {
            params,
            held: Held::Read(body),
            client: Some(client),
            method: AuthMethod::FormCredentials,
            user: None,
            rewritten: true,
        })
    }
}

/// The client a Basic password of an unknown id is checked against, so that the work does not
/// depend on whether the id exists. Its secret is random and never used for anything else.
pub(super) fn stand_in_client() -> &'static ApiClient {
    static STAND_IN: OnceLock<ApiClient> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let secret = format!("stand-in-{seed:x}-{:p}", &STAND_IN);
        let id = ClientId::new("stand_in_for_unknown_clients").expect("a valid client id");
        let secret = ClientSecret::new(secret).expect("a valid secret");
        ApiClient::new(id, secret)
    })
}

pub(super) fn invalid_credentials(accepts: AuthMethods) -> Rejection {
    refusal(
        RejectionKind::InvalidCredentials,
        "the client id does not exist or the client secret was wrong",
        accepts,
    )
}

/// The refusal of a request whose client store cannot answer.
pub(super) fn store_unavailable() -> Rejection {
    Rejection::new(
        RejectionKind::StoreUnavailable,
        "the client store is unavailable; try again later",
    )
}
