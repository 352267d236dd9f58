//! A user's access token (janrain-oauth), in an `Authorization: OAuth` header or the
//! `access_token` parameter: its grant, who acts (the user it was issued for, through the
//! login client it was issued to), and that client. The token checks login clients share
//! live here too.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use zeroize::Zeroizing;

use super::principal::{self, Principal};
use super::{Accepted, ClientLookup, Decision, GrantLookup, Verifier, refusal};
use crate::permissions::{AuthMethod, AuthMethods};
use crate::server::store::{StoreError, TokenRecord};
use crate::server::{Rejection, RejectionKind};

/// A request made with a user's access token, as far as it is checked.
pub(super) struct UserToken {
    token: Zeroizing<String>,
    /// Sent as `Authorization: OAuth` (else as the `access_token` parameter).
    in_header: bool,
    step: Step,
}

enum Step {
    /// Nothing asked yet.
    Start,
    /// The token verifier is asked for the token's grant.
    Granting(GrantLookup),
    /// The grant holds; the client store is asked for the client it was issued to.
    LookingUp {
        grant: TokenRecord,
        lookup: ClientLookup,
    },
}

/// The token of an `Authorization: OAuth <token>` header (scheme in any letter case; the
/// token is one or more visible ASCII characters).
pub(super) fn from_header(value: &[u8]) -> Option<&str> {
    // Most values are not OAuth: the scheme and its space are looked at before the rest.
    let (scheme, token) = value.split_at_checked(6)?;
    if !(scheme[..5].eq_ignore_ascii_case(b"OAuth") && scheme[5] == b' ') {
        return None;
    }
    let token = std::str::from_utf8(token).ok()?.trim_matches(' ');
    (!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())).then_some(token)
}

impl UserToken {
    /// The token of an `Authorization: OAuth` header.
    pub(super) fn from_header(token: &str) -> Self {
        UserToken {
            token: Zeroizing::new(token.to_owned()),
            in_header: true,
            step: Step::Start,
        }
    }

    /// The token of the `access_token` parameter (parameters are UTF-8, checked with the
    /// rest).
    pub(super) fn from_parameter(token: &[u8]) -> Self {
        UserToken {
            token: Zeroizing::new(String::from_utf8_lossy(token).into_owned()),
            in_header: false,
            step: Step::Start,
        }
    }

    /// The grant, who acts, then the client the token was issued to.
    pub(super) fn poll_decide(
        &mut self,
        verifier: &Verifier,
        request: &Decision<'_>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Accepted, Rejection>> {
        let accepts = request.accepts();
        if let Step::Start = self.step {
            if self.in_header && request.params.get(b"access_token").is_some() {
                return Poll::Ready(Err(refusal(
                    RejectionKind::AmbiguousParameters,
                    "the access token is both in the Authorization header and in the \
                     access_token parameter; send it once",
                    accepts,
                )));
            }
            self.step = Step::Granting(verifier.ask_grant(&self.token)?);
        }
        if let Step::Granting(granting) = &mut self.step {
            let grant = verifier.granted(ready!(Pin::new(granting).poll(cx)), accepts)?;
            verifier.unexpired(&grant, accepts)?;
            let principal = Principal {
                method: AuthMethod::OAuth,
                client: Some(&grant.client_id),
                user: grant.uuid.as_deref(),
            };
            principal::check(request.params, principal, accepts)?;
            let lookup = verifier.store.client(grant.client_id.as_str());
            self.step = Step::LookingUp { grant, lookup };
        }
        let Step::LookingUp { grant, lookup } = &mut self.step else {
            // The steps above end here.
            return Poll::Ready(Err(invalid_token(accepts)));
        };
        let Some(client) = verifier.stored_client(ready!(Pin::new(lookup).poll(cx)))? else {
            // Issued to a client that is gone.
            return Poll::Ready(Err(invalid_token(accepts)));
        };
        tracing::Span::current().record("client_id", client.id().as_str());
        Poll::Ready(Ok(Accepted {
            client: Some(client),
            method: AuthMethod::OAuth,
            user: grant.uuid.as_deref().map(Arc::from),
            rewritten: None,
        }))
    }
}

impl Verifier {
    /// Ask the token verifier for `token`'s grant. Without a verifier no token can be checked
    /// (503). The token itself is never logged.
    pub(super) fn ask_grant(&self, token: &str) -> Result<GrantLookup, Rejection> {
        let Some(tokens) = &self.tokens else {
            tracing::warn!(
                "an operation needs an access token but no token verifier is configured"
            );
            return Err(Rejection::new(
                RejectionKind::StoreUnavailable,
                "access tokens cannot be checked: the server has no token verifier",
            ));
        };
        Ok(tokens.lookup(token))
    }

    /// The token verifier's answer: an unknown token is 412, a verifier that cannot answer
    /// 503.
    pub(super) fn granted(
        &self,
        answer: Result<Option<TokenRecord>, StoreError>,
        accepts: AuthMethods,
    ) -> Result<TokenRecord, Rejection> {
        match answer {
            Ok(Some(grant)) => Ok(grant),
            Ok(None) => Err(invalid_token(accepts)),
            Err(e) => {
                tracing::warn!(error = %e, "token verifier failed");
                Err(Rejection::new(
                    RejectionKind::StoreUnavailable,
                    "access tokens cannot be checked right now; try again later",
                ))
            }
        }
    }

    /// A grant past its expiry is refused (414).
    pub(super) fn unexpired(
        &self,
        grant: &TokenRecord,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        if grant.is_expired_at(self.clock.now()) {
            return Err(refusal(
                RejectionKind::AccessTokenExpired,
                "the access_token has expired; sign the user in again",
                accepts,
            ));
        }
        Ok(())
    }
}

/// The refusal of a token the verifier does not know.
pub(super) fn invalid_token(accepts: AuthMethods) -> Rejection {
    refusal(
        RejectionKind::InvalidAccessToken,
        "the access_token is not valid",
        accepts,
    )
}

#[cfg(test)]
mod tests {
    use super::from_header;

    /// `OAuth`, in any letter case, then one space, then a token of visible ASCII: nothing else
    /// is a user's token.
    #[test]
    fn only_an_oauth_scheme_and_a_space_make_a_header_a_token() {
        assert_eq!(from_header(b"OAuth tok-alice"), Some("tok-alice"));
        assert_eq!(from_header(b"oauth  tok-alice "), Some("tok-alice"));
        for value in [
            &b"OAuth:tok-alice"[..],
            b"OAuthXtok-alice",
            b"Basic tok-alice",
            b"OAuth ",
            b"OAuth to k",
            b"OAuth",
            b"Bearer tok-alice",
        ] {
            assert_eq!(
                from_header(value),
                None,
                "{}",
                String::from_utf8_lossy(value)
            );
        }
    }
}
