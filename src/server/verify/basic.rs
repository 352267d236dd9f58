//! Basic: the client the header names, its secret and its features, before the body; who
//! acts with the parameters. The legacy form credentials are checked here too.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::SystemTime;

use super::principal::{self, Principal};
use super::{Accepted, ClientLookup, Decision, Verifier, invalid_credentials};
use crate::credentials::{ApiClient, ClientId, ClientSecret};
use crate::permissions::{AuthMethod, Operation};
use crate::scheme::BasicCredentials;
use crate::server::Rejection;

/// A Basic request, as far as it is checked.
pub(super) struct Basic {
    credentials: BasicCredentials,
    step: Step,
}

enum Step {
    /// The client store is asked for the client the header names.
    LookingUp(ClientLookup),
    /// The client, its secret and its features hold.
    Authenticated(Arc<ApiClient>),
}

impl Basic {
    /// The credentials of a `Basic` header: the client store is asked for the client.
    pub(super) fn claim(verifier: &Verifier, credentials: BasicCredentials) -> Self {
        let lookup = verifier.store.client(credentials.client_id().as_str());
        Basic {
            credentials,
            step: Step::LookingUp(lookup),
        }
    }

    /// The client, its secret and its features.
    pub(super) fn poll_client(
        &mut self,
        verifier: &Verifier,
        operation: &Operation,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Rejection>> {
        if let Step::LookingUp(lookup) = &mut self.step {
            let found = verifier.stored_client(ready!(Pin::new(lookup).poll(cx)))?;
            let secret = self.credentials.secret().expose();
            self.step = Step::Authenticated(authenticate(verifier, found, secret, operation)?);
        }
        Poll::Ready(Ok(()))
    }

    /// Who acts: the client, with parameters that agree.
    pub(super) fn decide(&self, request: &Decision<'_>) -> Result<Accepted, Rejection> {
        let Step::Authenticated(client) = &self.step else {
            // Phase one authenticated the client before phase two began.
            return Err(invalid_credentials(request.accepts()));
        };
        let principal = Principal::client(AuthMethod::Basic, client);
        principal::check(request.params, principal, request.accepts())?;
        Ok(Accepted::client(client.clone(), AuthMethod::Basic))
    }
}

/// A client id and secret, as Basic and form credentials give them: the client must exist,
/// the secret be one of its secrets (compared in constant time), and a feature of the client
/// allow `op`. An unknown client id costs the same MAC work as a known one with one secret
/// (against a fixed stand-in), so the time taken does not tell the two apart; the answers do
/// not differ either (402 for both, as Janrain answers).
pub(super) fn authenticate(
    verifier: &Verifier,
    found: Option<Arc<ApiClient>>,
    secret: &str,
    op: &Operation,
) -> Result<Arc<ApiClient>, Rejection> {
    // Both ways hold a client (the stand-in's `Arc` is cloned as the store's was), check the
    // secret against it, and drop it on a refusal: the same work, whether the id exists.
    let known = found.is_some();
    let client = found.unwrap_or_else(|| stand_in_client().clone());
    let matches = client.verify_basic_secret(secret);
    if !(known && matches) {
        return Err(invalid_credentials(op.auth()));
    }
    verifier.permit(&client, op)?;
    Ok(client)
}

/// The client a secret for an unknown id is checked against, so that the work does not
/// depend on whether the id exists. Its secret is random and never used for anything else.
fn stand_in_client() -> &'static Arc<ApiClient> {
    static STAND_IN: OnceLock<Arc<ApiClient>> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let secret = format!("stand-in-{seed:x}-{:p}", &STAND_IN);
        let id = ClientId::new("stand_in_for_unknown_clients").expect("a valid client id");
        let secret = ClientSecret::new(secret).expect("a valid secret");
        Arc::new(ApiClient::new(id, secret))
    })
}
