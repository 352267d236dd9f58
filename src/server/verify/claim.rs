//! What a request's credentials claim, before anything is looked up: the kind the
//! `Authorization` header names, or, without one, the ways its parameters may authenticate;
//! and the one pass over the request's headers that finds them (and the body's).
//!
//! No refusal here repeats any part of the header: a value that is not a credential of a
//! known scheme may be a token pasted without one.

use http::header::{AUTHORIZATION, DATE};
use http::{HeaderMap, HeaderValue};

use super::basic::Basic;
use super::form_credentials::FormCredentials;
use super::login_client::LoginClient;
use super::signed::Signed;
use super::user_token::{self, UserToken};
use super::{Claimed, Credentials, Verifier, how_to_authenticate, refusal};
use crate::credentials::{CredentialsError, MAX_CLIENT_ID_LEN};
use crate::params::ParamList;
use crate::permissions::{AuthMethod, Operation};
use crate::requests::{BodyHeaderScan, BodyHeaders};
use crate::scheme::{Authorization, AuthorizationError};
use crate::server::{Rejection, RejectionKind};

/// The headers the verification reads, found in one pass over the request's headers (rather
/// than one hashed lookup each, or a pass for the credentials and another for the body).
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestHeaders<'a> {
    pub(super) authorization: Found<'a>,
    /// janrain-signed's `Date`, as signed.
    pub(super) date: Found<'a>,
    /// What the headers say about the body, its `Content-Length` against the layer's limit.
    pub(super) body: BodyHeaders,
}

impl<'a> RequestHeaders<'a> {
    pub(super) fn read(headers: &'a HeaderMap, body_limit: usize) -> Self {
        let (mut authorization, mut date) = (Found::default(), Found::default());
        let mut body = BodyHeaderScan::default();
        for (name, value) in headers {
            if *name == AUTHORIZATION {
                authorization.add(value);
            } else if *name == DATE {
                date.add(value);
            } else {
                body.see(name, value);
            }
        }
        RequestHeaders {
            authorization,
            date,
            body: body.finish(body_limit),
        }
    }
}

/// A header as the request has it: its first value, and whether it has more.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Found<'a> {
    pub(super) first: Option<&'a HeaderValue>,
    pub(super) more: bool,
}

impl<'a> Found<'a> {
    fn add(&mut self, value: &'a HeaderValue) {
        match self.first {
            None => self.first = Some(value),
            Some(_) => self.more = true,
        }
    }
}

/// The ways an operation without an `Authorization` header may authenticate by parameters.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ways {
    /// `client_id` + `client_secret` in a form body (legacy, opt-in).
    form_credentials: bool,
    /// An `access_token` parameter (janrain-oauth).
    user_token: bool,
    /// A login client's `client_id` (and maybe its `access_token`).
    login_client: bool,
    /// Nothing at all.
    open: bool,
}

impl Verifier {
    /// The credentials a request with the headers `found` claims for `op`, checked as far as
    /// they can be without a store.
    pub(super) fn claim(
        &self,
        found: &RequestHeaders<'_>,
        op: &Operation,
        span: &tracing::Span,
    ) -> Result<Claimed, Rejection> {
        let accepts = op.auth();
        if found.authorization.more {
            return Err(refusal(
                RejectionKind::MalformedCredentials,
                "send exactly one Authorization header",
                accepts,
            ));
        }
        let Some(value) = found.authorization.first else {
            return self.without_header(op);
        };
        if let Some(token) = user_token::from_header(value.as_bytes()) {
            self.require(op, AuthMethod::OAuth, "janrain-oauth (OAuth)")?;
            return Ok(Claimed::Header(Credentials::UserToken(
                UserToken::from_header(token),
            )));
        }
        let parsed = Authorization::parse(value.as_bytes()).map_err(|e| {
            refusal(
                RejectionKind::MalformedCredentials,
                format!("malformed Authorization header: {}", describe(&e)),
                accepts,
            )
        })?;
        let credentials = match parsed {
            Authorization::Signature(creds) => {
                // The claimed id, so that refusals are traceable too (ids are not secret).
                span.record("client_id", creds.client_id());
                self.require(op, AuthMethod::Signature, "janrain-signed (Signature)")?;
                Credentials::Signed(Signed::claim(self, found.date, &creds, accepts)?)
            }
            Authorization::Basic(creds) => {
                span.record("client_id", creds.client_id().as_str());
                self.require(op, AuthMethod::Basic, "Basic")?;
                Credentials::Basic(Basic::claim(self, creds))
            }
            // Never the scheme as sent: it may be a credential itself.
            _ => {
                return Err(refusal(
                    RejectionKind::UnsupportedAuthScheme,
                    format!(
                        "the Authorization scheme is none of Basic, Signature (janrain-signed) \
                         and OAuth (janrain-oauth); {}: {}",
                        op.path(),
                        how_to_authenticate(accepts)
                    ),
                    accepts,
                ));
            }
        };
        Ok(Claimed::Header(credentials))
    }

    /// No header: the ways the operation takes credentials as parameters, if any.
    fn without_header(&self, op: &Operation) -> Result<Claimed, Rejection> {
        let accepts = op.auth();
        let ways = Ways {
            form_credentials: self.form_credentials && accepts.contains(AuthMethod::Basic),
            user_token: accepts.contains(AuthMethod::OAuth),
            login_client: accepts.contains(AuthMethod::LoginClient)
                || accepts.contains(AuthMethod::LoginClientWithToken),
            open: accepts.contains(AuthMethod::None),
        };
        if !(ways.form_credentials || ways.user_token || ways.login_client || ways.open) {
            return Err(missing_credentials(op));
        }
        Ok(Claimed::NoHeader(ways))
    }

    /// Whether the operation takes `method`. An operation that needs no authentication takes
    /// any valid credentials too (clients that sign every call reach it), and they are then
    /// checked like any other: a wrong signature is never ignored.
    fn require(&self, op: &Operation, method: AuthMethod, name: &str) -> Result<(), Rejection> {
        if op.accepts(method) || op.accepts(AuthMethod::None) {
            return Ok(());
        }
        Err(refusal(
            RejectionKind::AuthMethodNotAccepted,
            format!(
                "{} does not accept {name} authentication; {}",
                op.path(),
                how_to_authenticate(op.auth())
            ),
            op.auth(),
        ))
    }
}

impl Ways {
    /// Whether an `access_token` parameter may be the credential: then, as beside a
    /// signature, no body but a form may come with it.
    pub(super) fn takes_token(self) -> bool {
        self.user_token || self.login_client
    }

    /// The kind of credentials the parameters make the request. Form credentials come from a
    /// form body only (`form_body`), never from the query string.
    pub(super) fn resolve(
        self,
        params: &ParamList,
        form_body: bool,
        op: &Operation,
    ) -> Result<Credentials, Rejection> {
        if self.form_credentials && form_body && params.get(b"client_secret").is_some() {
            return Ok(Credentials::FormCredentials(FormCredentials::new()));
        }
        if self.user_token
            && let Some(token) = params.get(b"access_token")
        {
            return Ok(Credentials::UserToken(UserToken::from_parameter(token)));
        }
        if self.login_client {
            return Ok(Credentials::LoginClient(LoginClient::new()));
        }
        if self.open {
            return Ok(Credentials::Open);
        }
        Err(missing_credentials(op))
    }
}

/// The refusal of a request without the credentials `op` needs.
fn missing_credentials(op: &Operation) -> Rejection {
    refusal(
        RejectionKind::MissingCredentials,
        format!(
            "{} needs credentials: {}",
            op.path(),
            how_to_authenticate(op.auth())
        ),
        op.auth(),
    )
}

/// What is wrong with a header value, in words that repeat none of it.
fn describe(error: &AuthorizationError) -> String {
    match error {
        AuthorizationError::ClientId(CredentialsError::ClientIdCharacter { position, .. }) => {
            format!(
                "client id may only hold visible ASCII characters other than ':' (not at \
                 position {position})"
            )
        }
        AuthorizationError::ClientId(_) => format!(
            "the client id must be 1 to {MAX_CLIENT_ID_LEN} visible ASCII characters other than ':'"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(header: &[u8]) -> String {
        describe(&Authorization::parse(header).expect_err("a malformed header"))
    }

    /// What is wrong with a header, said without repeating any of it.
    #[test]
    fn malformed_headers_are_described_in_words_that_repeat_none_of_them() {
        assert_eq!(
            described(b"Signature se\tcret:AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            "client id may only hold visible ASCII characters other than ':' (not at position 2)"
        );
        assert_eq!(
            described(b"Signature :AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            format!(
                "the client id must be 1 to {MAX_CLIENT_ID_LEN} visible ASCII characters other \
                 than ':'"
            )
        );
        let other = described(b"Signature secret-without-a-colon");
        assert!(!other.is_empty() && !other.contains("secret"), "{other}");
    }
}
