//! Phase two, once the parameters are known: the signature and the features at once, what
//! must wait (the replay guard, tokens, credentials given as parameters) after, and the
//! verified request handed on.

use std::borrow::Cow;

use http::request::Parts;

use super::principal::{self, Principal};
use super::{
    Credentials, Established, Held, Outcome, Remainder, Settled, Verifier, how_to_authenticate,
    refusal,
};
use crate::body::{self, BodyKind};
use crate::credentials::ApiClient;
use crate::params::ParamList;
use crate::permissions::AuthMethod;
use crate::scheme::StringToSign;
use crate::server::{AuthenticatedClient, Rejection, RejectionKind, VerifiedParams};
use std::sync::Arc;

impl Verifier {
    /// Hand the verified request on: its extensions, and the `Content-Length` of a body that
    /// was rewritten.
    pub(super) fn conclude<B>(
        &self,
        parts: &mut Parts,
        span: &tracing::Span,
        name: Cow<'static, str>,
        outcome: Outcome<B>,
    ) -> Held<B> {
        span.record("auth", outcome.method.as_str());
        if let Some(client) = outcome.client {
            span.record("client_id", client.id().as_str());
            let mut authenticated = AuthenticatedClient::new(client, outcome.method, name);
            if let Some(user) = outcome.user {
                authenticated = authenticated.with_user(user);
            }
            parts.extensions.insert(authenticated);
        }
        if outcome.rewritten
            && let Held::Read(bytes) = &outcome.held
        {
            // The body handed on is not the one that arrived (a secret was taken out).
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, bytes.len().into());
        }
        parts.extensions.insert(VerifiedParams::new(outcome.params));
        outcome.held
    }

    /// Phase two's checks that need no waiting: the signature and the features of a
    /// janrain-signed request, an OAuth header's token against the parameters. What must wait
    /// is left to [`Self::settle_later`].
    pub(super) fn settle(
        &self,
        parts: &Parts,
        params: &ParamList,
        established: &Established,
    ) -> Result<Settled, Rejection> {
        let op = &established.operation;
        let accepts = op.auth();
        match &established.credentials {
            Credentials::Signed {
                client,
                signature,
                date_text,
                ..
            } => {
                // Phase one checked that there is exactly one Date, that it parses, and kept
                // its text (ASCII digits and separators).
                let date_text = std::str::from_utf8(date_text).unwrap_or_default();
                let called_path = established
                    .called_path
                    .as_deref()
                    .unwrap_or(parts.uri.path());
                let sts = StringToSign::new(called_path, date_text, params);
                if client
                    .verify_signature(&sts, &self.forms, signature)
                    .is_none()
                {
                    return Err(refusal(
                        RejectionKind::SignatureMismatch,
                        "the request signature we calculated does not match the signature you \
                         provided; sign \"endpoint\\ndatetime\\n\" plus every parameter as a \
                         sorted key=value line ending in \\n, with the client secret, HMAC-SHA1, \
                         base64",
                        accepts,
                    ));
                }
                self.permit(client, op)?;
                principal::check(params, Principal::client(AuthMethod::Signature, client), accepts)?;
                if self.replay.is_some() {
                    return Ok(Settled::Later);
                }
                Ok(Settled::Now(client.clone(), AuthMethod::Signature))
            }
            Credentials::Basic(client) => {
                principal::check(params, Principal::client(AuthMethod::Basic, client), accepts)?;
                Ok(Settled::Now(client.clone(), AuthMethod::Basic))
            }
            Credentials::OAuth(_) => {
                if params.get(b"access_token").is_some() {
                    return Err(refusal(
                        RejectionKind::AmbiguousParameters,
                        "the access token is both in the Authorization header and in the \
                         access_token parameter; send it once",
                        accepts,
                    ));
                }
                Ok(Settled::Later)
            }
            Credentials::Params(_) => Ok(Settled::Later),
        }
    }

    /// Phase two's steps that wait: the replay guard, the access token of an OAuth header,
    /// and the credentials given as parameters.
    pub(super) async fn settle_later<B>(
        &self,
        parts: &Parts,
        remainder: Remainder<B>,
    ) -> Result<Outcome<B>, Rejection> {
        let Remainder {
            params,
            held,
            operation: op,
            credentials,
        } = remainder;
        let op = &op;
        let accepts = op.auth();
        match credentials {
            Credentials::Signed {
                client,
                signature,
                date,
                now,
                ..
            } => {
                if let Some(guard) = &self.replay {
                    self.record(guard.as_ref(), client.id(), &signature, date, now, accepts)
                        .await?;
                }
                Ok(accepted(params, held, client, AuthMethod::Signature))
            }
            Credentials::Basic(client) => Ok(accepted(params, held, client, AuthMethod::Basic)),
            Credentials::OAuth(token) => self.oauth(&token, params, held, op).await,
            Credentials::Params(ways) => {
                // Form credentials come from a form body only (never the query string).
                let form_body = matches!(held, Held::Read(_))
                    && body::body_kind(&parts.headers) == BodyKind::Form;
                if ways.form_credentials && form_body && params.get(b"client_secret").is_some() {
                    return self.form_credentials(params, op).await;
                }
                if ways.oauth
                    && let Some(token) = params.get(b"access_token")
                {
                    // Parameters are UTF-8 (checked with the rest).
                    let token = std::str::from_utf8(token).unwrap_or_default().to_owned();
                    let token = zeroize::Zeroizing::new(token);
                    return self.oauth(&token, params, held, op).await;
                }
                if ways.login_client {
                    let (client, method, user) = self.login_client(&params, op).await?;
                    let mut outcome = accepted(params, held, client, method);
                    outcome.user = user;
                    return Ok(outcome);
                }
                if ways.none {
                    let principal = Principal {
                        method: AuthMethod::None,
                        client: None,
                        user: None,
                    };
                    principal::check(&params, principal, accepts)?;
                    return Ok(Outcome {
                        params,
                        held,
                        client: None,
                        method: AuthMethod::None,
                        user: None,
                        rewritten: false,
                    });
                }
                Err(refusal(
                    RejectionKind::MissingCredentials,
                    format!(
                        "{} needs credentials: {}",
                        op.path(),
                        how_to_authenticate(accepts)
                    ),
                    accepts,
                ))
            }
        }
    }
}

/// An accepted request's outcome for `client`, authenticated by `method`.
pub(super) fn accepted<B>(
    params: ParamList,
    held: Held<B>,
    client: Arc<ApiClient>,
    method: AuthMethod,
) -> Outcome<B> {
    Outcome {
        params,
        held,
        client: Some(client),
        method,
        user: None,
        rewritten: false,
    }
}
