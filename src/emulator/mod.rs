//! An Identity Cloud emulator in your process, to test the code that calls Identity Cloud
//! against a real HTTP server on loopback.
//!
//! [`Emulator::builder`] takes the API clients (one by one, a [`ClientsFile`] or any
//! [`ClientStore`]), the access tokens, the operation [`Catalog`] and the verification layer's
//! options; [`EmulatorBuilder::start`] serves every operation of the catalog on a free port of
//! 127.0.0.1, behind the crate's [`VerifyLayer`]. A request is therefore authenticated and
//! authorized exactly as the layer does it in production, and refused with the same Janrain
//! errors.
//!
//! What an accepted request gets, unless a test says otherwise:
//!
//! * every operation echoes what it was called with:
//!   `{"stat":"ok","operation":..,"client_id":..,"auth":..,"params":{..}}` (a repeated key as
//!   an array of its values, and `uuid` for a call as a user), the parameters being those the
//!   layer verified (or, with [`Echo::Axum`], those a plain axum handler reads);
//! * with [`EmulatorBuilder::tokens`], `/access/getAccessToken` issues real access tokens:
//!   an issuer client sends `uuid`, `type_name` and `for_client_id` (the login client the
//!   token is for) and gets `{"stat":"ok","access_token":"...","expires_in":3600}`, accepted
//!   at once over janrain-oauth.
//!
//! [`EmulatorBuilder::on`] replaces the answer of any operation with a closure: canned
//! records, scripted errors, a status of your choice. The closure sees the authenticated
//! client and the verified parameters ([`Call`]) and returns a [`Reply`].
//!
//! ```
//! # #[cfg(feature = "reqwest")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use janrain_auth::client::{JanrainClient, RequestSigner};
//! use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
//! use janrain_auth::emulator::{Emulator, Reply};
//! use janrain_auth::permissions::Feature;
//! use serde_json::{Value, json};
//!
//! let reader = ApiClient::new(ClientId::new("reader")?, ClientSecret::new("reader-secret")?)
//!     .with_feature(Feature::DirectReadAccess);
//! let emulator = Emulator::builder()
//!     .client(reader.clone())
//!     // A canned answer for entity.count, a scripted error for entity.
//!     .on("/entity.count", |_call| json!({"stat": "ok", "total_count": 42}))
//!     .on("/entity", |call| Reply::janrain(310, "record_not_found", format!(
//!         "no {} record with that uuid", call.param("type_name").unwrap_or("user"),
//!     )))
//!     .start()
//!     .await?;
//!
//! // The code under test, pointed at the emulator.
//! let janrain = JanrainClient::new(
//!     RequestSigner::builder(reader).base_url(emulator.base_url()).build()?,
//! )?;
//! let count: Value = janrain.call("entity.count", &json!({"type_name": "user"})).await?;
//! assert_eq!(count["total_count"], 42);
//! let missing = janrain.call::<_, Value>("entity", &json!({"type_name": "user", "uuid": "x"})).await;
//! assert_eq!(missing.unwrap_err().code(), Some(310));
//! // Any other operation echoes what the layer verified.
//! let found: Value = janrain.call("entity.find", &json!({"type_name": "user"})).await?;
//! assert_eq!(found["client_id"], "reader");
//! assert_eq!(found["params"]["type_name"], "user");
//! // The layer still refuses what Identity Cloud would: the reader may not update.
//! let refused = janrain.call::<_, Value>("entity.update", &json!({"type_name": "user"})).await;
//! assert_eq!(refused.unwrap_err().code(), Some(403));
//!
//! emulator.shutdown().await?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "reqwest"))]
//! # fn main() {}
//! ```
//!
//! [`EmulatorBuilder::router`] gives the same service as an axum `Router`, to mount in a
//! server of your own (the `server` example does). To unit-test your own handlers without a
//! server, build their inputs with [`AuthenticatedClient::for_test`],
//! [`VerifiedParams::for_test`], and a correctly signed `http::Request` for a router test
//! with [`SignedRequest`].
//!
//! [`AuthenticatedClient::for_test`]: crate::server::AuthenticatedClient::for_test
//! [`ClientsFile`]: crate::server::ClientsFile
//! [`ClientStore`]: crate::server::ClientStore
//! [`Catalog`]: crate::permissions::Catalog
//! [`VerifyLayer`]: crate::server::VerifyLayer
//! [`VerifiedParams::for_test`]: crate::server::VerifiedParams::for_test

mod answer;
mod builder;
mod reply;
mod running;
mod signed;

pub use answer::{Echo, TOKEN_LIFETIME};
pub use builder::EmulatorBuilder;
pub use reply::{Call, Reply};
pub use running::RunningEmulator;
pub use signed::{SignedRequest, SignedRequestError};

/// The Identity Cloud emulator: see the [module documentation](self).
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// A builder with no clients, no tokens, the whole Identity Cloud catalog, the layer's
    /// defaults and the [`Echo::Verified`] answers.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::new()
    }
}
