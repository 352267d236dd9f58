//! A login client's operation, called without an `Authorization` header: the `client_id`
//! parameter names a `login_client` client; where the operation takes one, the
//! `access_token` must have been issued to it, for a user, and the request then acts for
//! that user.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::principal::{self, Principal};
use super::{
    Accepted, ClientLookup, Decision, GrantLookup, Verifier, invalid_credentials, refusal,
};
use crate::credentials::ApiClient;
use crate::permissions::{AuthMethod, AuthMethods};
use crate::server::{Rejection, RejectionKind};

/// A login client's request, as far as it is checked.
pub(super) struct LoginClient {
    step: Step,
}

enum Step {
    /// Nothing asked yet.
    Start,
    /// The client store is asked for the client the `client_id` parameter names.
    LookingUp(ClientLookup),
    /// The client holds; the token verifier is asked for the grant of its `access_token`.
    Granting {
        client: Arc<ApiClient>,
        granting: GrantLookup,
    },
}

impl LoginClient {
    pub(super) fn new() -> Self {
        LoginClient { step: Step::Start }
    }

    /// The client (exactly one `client_id`, checked with the parameters), its features, and
    /// the token where the operation takes one.
    pub(super) fn poll_decide(
        &mut self,
        verifier: &Verifier,
        request: &Decision<'_>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Accepted, Rejection>> {
        let accepts = request.accepts();
        let takes_token = accepts.contains(AuthMethod::LoginClientWithToken);
        if let Step::Start = self.step {
            let lookup = verifier.ask_named_client(request, || missing(request, "client_id"))?;
            self.step = Step::LookingUp(lookup);
        }
        if let Step::LookingUp(lookup) = &mut self.step {
            let client = verifier
                .stored_client(ready!(Pin::new(lookup).poll(cx)))?
                .ok_or_else(|| invalid_credentials(accepts))?;
            verifier.permit(&client, request.operation)?;
            let needs_token = takes_token && !accepts.contains(AuthMethod::LoginClient);
            match request.params.get(b"access_token") {
                None if needs_token => return Poll::Ready(Err(missing(request, "access_token"))),
                Some(token) if takes_token => {
                    // Parameters are UTF-8 (checked with the rest).
                    let token =
                        zeroize::Zeroizing::new(String::from_utf8_lossy(token).into_owned());
                    let granting = verifier.ask_grant(&token)?;
                    self.step = Step::Granting { client, granting };
                }
                // A token where the operation takes none is refused by the principal's check.
                _ => {
                    let principal = Principal::client(AuthMethod::LoginClient, &client);
                    principal::check(request.params, principal, accepts)?;
                    return Poll::Ready(Ok(Accepted::client(client, AuthMethod::LoginClient)));
                }
            }
        }
        let Step::Granting { client, granting } = &mut self.step else {
            // The steps above end here.
            return Poll::Ready(Err(invalid_credentials(accepts)));
        };
        let grant = verifier.granted(ready!(Pin::new(granting).poll(cx)), accepts)?;
        if grant.client_id != *client.id() {
            return Poll::Ready(Err(refusal(
                RejectionKind::AccessTokenOtherClient,
                "the access_token was issued to another client; use the login client that obtained it",
                accepts,
            )));
        }
        verifier.unexpired(&grant, accepts)?;
        let principal = Principal {
            method: AuthMethod::LoginClientWithToken,
            client: Some(client.id()),
            user: grant.uuid.as_deref(),
        };
        principal::check(request.params, principal, accepts)?;
        Poll::Ready(Ok(Accepted {
            client: Some(client.clone()),
            method: AuthMethod::LoginClientWithToken,
            user: grant.uuid.as_deref().map(Arc::from),
            rewritten: None,
        }))
    }
}

/// The refusal of a missing `name` parameter, saying what the operation takes.
fn missing(request: &Decision<'_>, name: &str) -> Rejection {
    let accepts: AuthMethods = request.accepts();
    refusal(
        RejectionKind::MissingArgument,
        format!(
            "the {name} parameter is missing; {} takes the client_id of a login client{}",
            request.operation.path(),
            if accepts.contains(AuthMethod::LoginClientWithToken) {
                " and an access_token issued to it"
            } else {
                ""
            }
        ),
        accepts,
    )
}
