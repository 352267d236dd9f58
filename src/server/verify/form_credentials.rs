//! Legacy form credentials: `client_id` and `client_secret` in a form body, checked as Basic
//! checks them (where the layer accepts them and the operation takes Basic); the secret is
//! then taken out of what the handler receives.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;

use super::basic::authenticate;
use super::principal::{self, Principal};
use super::{Accepted, ClientLookup, Decision, Verifier, invalid_credentials, refusal};
use crate::permissions::AuthMethod;
use crate::server::{Rejection, RejectionKind};

/// A request with form credentials, as far as it is checked.
pub(super) struct FormCredentials {
    step: Step,
}

enum Step {
    /// Nothing asked yet.
    Start,
    /// The client store is asked for the client the `client_id` parameter names.
    LookingUp(ClientLookup),
}

impl FormCredentials {
    pub(super) fn new() -> Self {
        FormCredentials { step: Step::Start }
    }

    /// The client, its secret and its features; who acts; the form without the secret.
    pub(super) fn poll_decide(
        &mut self,
        verifier: &Verifier,
        request: &Decision<'_>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Accepted, Rejection>> {
        let accepts = request.accepts();
        let params = request.params;
        if let Step::Start = self.step {
            let lookup = verifier.ask_named_client(request, || {
                refusal(
                    RejectionKind::MissingArgument,
                    "the client_id parameter is missing; send it with the client_secret",
                    accepts,
                )
            })?;
            self.step = Step::LookingUp(lookup);
        }
        let Step::LookingUp(lookup) = &mut self.step else {
            // The step above ends here.
            return Poll::Ready(Err(invalid_credentials(accepts)));
        };
        let found = verifier.stored_client(ready!(Pin::new(lookup).poll(cx)))?;
        let secret = params
            .get(b"client_secret")
            .and_then(|s| std::str::from_utf8(s).ok())
            .unwrap_or_default();
        let client = authenticate(verifier, found, secret, request.operation)?;
        let principal = Principal::client(AuthMethod::FormCredentials, &client);
        principal::check(params, principal, accepts)?;
        let handed_on = params.without(&[b"client_secret"]);
        let pairs: Vec<(&[u8], &[u8])> = handed_on.iter().collect();
        let body = Bytes::from(crate::params::encode_urlencoded(&pairs));
        Poll::Ready(Ok(Accepted {
            client: Some(client),
            method: AuthMethod::FormCredentials,
            user: None,
            rewritten: Some(Box::new((handed_on, body))),
        }))
    }
}
