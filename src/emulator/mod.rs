//! An Identity Cloud emulator in your process, to test the code that calls Identity Cloud
//! against a real HTTP server on loopback, with records to find, page, update and delete.
//!
//! [`Emulator::builder`] takes the API clients (one by one, a [`ClientsFile`] or any
//! [`ClientStore`]), the access tokens, the entity [`Records`], the operation [`Catalog`] and
//! the verification layer's options; [`EmulatorBuilder::start`] serves every operation of the
//! catalog on a free port of 127.0.0.1, behind the crate's [`VerifyLayer`]. A request is
//! therefore authenticated and authorized exactly as the layer does it in production, and
//! refused with the same Janrain errors. The running emulator keeps every call it received
//! ([`RunningEmulator::calls`]) and checks what a test expects of them
//! ([`RunningEmulator::expect`]), in the way of wiremock.
//!
//! ```
//! # #[cfg(feature = "reqwest")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use janrain_auth::client::{JanrainClient, RequestSigner};
//! use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
//! use janrain_auth::emulator::{Emulator, Records};
//! use janrain_auth::permissions::Feature;
//! use serde_json::{Value, json};
//!
//! let sync = ApiClient::new(ClientId::new("sync")?, ClientSecret::new("sync-secret")?)
//!     .with_feature(Feature::DirectAccess);
//! let records = Records::new().with("user", [
//!     json!({"email": "zoe@example.com", "givenName": "Zoe"}),
//!     json!({"email": "ann@example.com"}),
//! ])?;
//! let emulator = Emulator::builder().client(sync.clone()).records(records.clone()).start().await?;
//! let janrain = JanrainClient::new(
//!     RequestSigner::builder(sync).base_url(emulator.base_url()).build()?,
//! )?;
//!
//! // The code under test: find a user by email, then update them.
//! let found: Value = janrain.call("entity.find", &json!({
//!     "type_name": "user",
//!     "filter": "email = 'zoe@example.com'",
//!     "attributes": ["uuid", "givenName"],
//! })).await?;
//! assert_eq!(found["result_count"], 1);
//! let uuid = found["results"][0]["uuid"].as_str().unwrap_or_default().to_owned();
//! janrain.call::<_, Value>("entity.update", &json!({
//!     "type_name": "user",
//!     "uuid": uuid,
//!     "value": {"givenName": "Zoë"},
//! })).await?;
//!
//! // What the emulator holds now, and what it was asked.
//! assert_eq!(records.get("user", &uuid).unwrap()["givenName"], "Zoë");
//! let update = &emulator.calls_to("/entity.update")[0];
//! assert_eq!(update.client_id().map(|c| c.as_str()), Some("sync"));
//! assert_eq!(update.param("uuid"), Some(uuid.as_str()));
//! emulator.expect("/entity.update", 1);
//! emulator.verify()?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "reqwest"))]
//! # fn main() {}
//! ```
//!
//! # Records and the data operations
//!
//! With [`EmulatorBuilder::records`] (the `server` example: `--records FILE`), these
//! operations answer from the records and change them, as Janrain's Entity API reference
//! describes each one; every write is seen by the calls after it. Parameters are read as
//! Identity Cloud takes them: lists and objects as JSON text (`attributes=["uuid", "email"]`),
//! as `JanrainClient` (feature `reqwest`) sends them.
//!
//! | operation | parameters | answer |
//! |---|---|---|
//! | `/entity` | `type_name`; the record (below); `attributes` (a JSON list: only those) or `attribute_name` (one attribute) | `{"stat":"ok","result":{..}}` |
//! | `/entity.find` | `type_name`, `filter` (the language of [`Filter`]), `sort_on` (a JSON list, `-name` descending), `max_results` (1 to [`MAX_RESULTS`], default [`DEFAULT_MAX_RESULTS`]), `first_result` (from 1; see [`EmulatorBuilder::first_result_base`]), `attributes`, `show_total_count`, `timeout` | `{"stat":"ok","result_count":N,"results":[..]}`, and `total_count` with `show_total_count=true` |
//! | `/entity.count` | `type_name`, `filter` | `{"stat":"ok","total_count":N}` |
//! | `/entity.create` | `type_name`, `attributes` (a JSON object), `include_record` | `{"stat":"ok","id":..,"uuid":..}`, and `result` (the record) with `include_record=true` |
//! | `/entity.update` | `type_name`; the record; `value` (a JSON object; Janrain's examples call it `attributes`, which is taken too); `attribute_name` to update one attribute; `include_record` | `{"stat":"ok"}` (and `result`); objects merge, a plural gains the new elements (one with an existing element's `id` replaces it) |
//! | `/entity.replace` | as `entity.update` | `{"stat":"ok"}`; the record becomes `value` (attributes left out are gone), or `attribute_name` becomes `value` |
//! | `/entity.delete` | `type_name`; the record; `attribute_name` to delete one attribute (a plural's element as `plural#id`) | `{"stat":"ok"}` |
//!
//! The record is named by `uuid`, by `id`, or by `key_attribute` and `key_value` (JSON text,
//! `"zoe@example.com"` in double quotes, as Janrain takes it). `created` and `lastUpdated`,
//! when sent, must be the record's (optimistic concurrency). Without `sort_on` (or with `[]`),
//! records come in their natural order, by `id`; `sort_on` puts records without the attribute
//! last going up, first going down. Paging by `id` (sort on `id`, each page asking for
//! `id > ` the last one seen) is what
//! `JanrainClient::find_all` does, as Janrain
//! recommends for large result sets: records created while paging are found too.
//!
//! **A call made with a user's access token** (janrain-oauth, or a login client with the
//! user's token) acts on that user's record only, whatever `uuid`, `id` or `key_attribute` it
//! sends (the layer refuses a token's call that names another record); `entity.find` and
//! `entity.count` see only that record, and `entity.create` is refused.
//!
//! Errors are Janrain's envelope (`{"stat":"error","code":..,"error":..,"error_description":..}`,
//! HTTP 200), named as the registration error codes name them, never a 5xx for bad input:
//!
//! | code | error | when |
//! |---|---|---|
//! | 100 | `missing_argument` | a parameter the operation needs is missing (`argument_name` names it) |
//! | 200 | `invalid_argument` | a parameter cannot be read: bad JSON text, a number out of range, a filter outside the language (`argument_name`) |
//! | 201 | `duplicate_argument` | two ways to name the record (`uuid` with `id`, ...), `value` with `attributes`, or one parameter sent twice |
//! | 222 | `unknown_entity_type` | `type_name` is not an entity type of the records |
//! | 310 | `record_not_found` | no record has that `uuid`, `id` or key (or, for `/access/getAccessToken`, that `uuid`) |
//! | 320 | `id_in_new_record` | `entity.create` was given an `id` |
//! | 330 | `timestamp_mismatch` | the `created` or `lastUpdated` sent is not the record's |
//! | 361 | `unique_violation` | `entity.create` was given a `uuid` another record has |
//! | 403 | `client_permission_error` | `entity.create` with a user's token |
//!
//! Without a schema the emulator takes any attribute: what Identity Cloud would refuse for
//! its schema (an unknown attribute, a value of the wrong type), the emulator stores.
//!
//! # Other answers
//!
//! * Without records, and for every operation that is not a data operation, an accepted
//!   call is echoed: `{"stat":"ok","operation":..,"client_id":..,"auth":..,"params":{..}}` (a
//!   repeated key as an array of its values, and `uuid` for a call as a user), the parameters
//!   being those the layer verified (or, with [`Echo::Axum`], those a plain axum handler
//!   reads). With records, a test that wants the echo of a data operation asks for it:
//!   `.on("/entity.update", |call| call.echo())` ([`Call::echo`]).
//! * With [`EmulatorBuilder::tokens`], `/access/getAccessToken` issues real access tokens:
//!   an issuer client sends `uuid`, `type_name` and `for_client_id` (the login client the
//!   token is for) and gets `{"stat":"ok","access_token":"...","expires_in":3600}`, accepted
//!   at once over janrain-oauth. With records, the `uuid` must be a record's.
//! * [`EmulatorBuilder::on`] replaces the answer of any operation, data operations included,
//!   with a closure: scripted errors, a status of your choice. The closure sees the
//!   authenticated client and the verified parameters ([`Call`]) and returns a [`Reply`].
//!
//! ```
//! # #[cfg(feature = "reqwest")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use janrain_auth::client::{JanrainClient, RequestSigner};
//! use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
//! use janrain_auth::emulator::{Emulator, Reply};
//! use janrain_auth::error::JanrainError;
//! use janrain_auth::permissions::Feature;
//! use serde_json::{Value, json};
//!
//! let reader = ApiClient::new(ClientId::new("reader")?, ClientSecret::new("reader-secret")?)
//!     .with_feature(Feature::DirectReadAccess);
//! let emulator = Emulator::builder()
//!     .client(reader.clone())
//!     // A canned answer for entity.count, scripted errors for entity and entity.find.
//!     .on("/entity.count", |_call| json!({"stat": "ok", "total_count": 42}))
//!     .on("/entity", |call| Reply::janrain(310, "record_not_found", format!(
//!         "no {} record with that uuid", call.param("type_name").unwrap_or("user"),
//!     )))
//!     .on("/entity.find", |_call| JanrainError::invalid_argument("filter", "Unknown attribute (null)"))
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
//! let bad = janrain.call::<_, Value>("entity.find", &json!({"type_name": "user"})).await.unwrap_err();
//! assert_eq!(bad.janrain().and_then(|e| e.field("argument_name")), Some(&json!("filter")));
//! // Any other operation echoes what the layer verified.
//! let echoed: Value = janrain.call("entityType", &json!({"type_name": "user"})).await?;
//! assert_eq!(echoed["client_id"], "reader");
//! assert_eq!(echoed["params"]["type_name"], "user");
//! // The layer still refuses what Identity Cloud would: the reader may not update.
//! let refused = janrain.call::<_, Value>("entity.update", &json!({"type_name": "user"})).await;
//! assert_eq!(refused.unwrap_err().code(), Some(403));
//! assert!(!emulator.calls_to("/entity.update")[0].passed_layer());
//!
//! emulator.shutdown().await?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "reqwest"))]
//! # fn main() {}
//! ```
//!
//! # Recorded calls and expectations
//!
//! [`RunningEmulator::calls`] lists every call received, refused ones too, in order: the
//! operation, the client and how it authenticated, the user a token acted for, the verified
//! parameters, and the answer's Janrain error code (or none: ok). [`RunningEmulator::expect`]
//! states how many calls of an operation a test expects (`1`, `1..`, `..=3`), and
//! [`RunningEmulator::expect_where`] how many calls meet any condition; they are checked by
//! [`RunningEmulator::verify`], and when the emulator is dropped or shut down (then an unmet
//! expectation panics, with the calls received, unless the test is already panicking).
//! The calls stay in memory until [`RunningEmulator::clear_calls`]: an emulator that serves a
//! load run, or runs for long, is built with
//! [`record_calls(false)`](EmulatorBuilder::record_calls) and keeps none.
//!
//! # Without a server
//!
//! [`EmulatorBuilder::router`] gives the same service as an axum `Router`, to mount in a
//! server of your own (the `server` example does); it records no calls. To unit-test your own
//! handlers without a server, build their inputs with [`AuthenticatedClient::for_test`],
//! [`VerifiedParams::for_test`], and an `http::Request` for a router test with
//! [`SignedRequest`]: janrain-signed, Basic, as a user or as a login client.
//!
//! [`AuthenticatedClient::for_test`]: crate::server::AuthenticatedClient::for_test
//! [`ClientsFile`]: crate::server::ClientsFile
//! [`ClientStore`]: crate::server::ClientStore
//! [`Catalog`]: crate::permissions::Catalog
//! [`VerifyLayer`]: crate::server::VerifyLayer
//! [`VerifiedParams::for_test`]: crate::server::VerifiedParams::for_test

mod answer;
mod builder;
mod calls;
mod data;
mod filter;
mod path;
mod random;
mod records;
mod reply;
mod running;
mod signed;

pub use answer::{Echo, TOKEN_LIFETIME};
pub use builder::EmulatorBuilder;
pub use calls::{RecordedCall, Times, UnmetExpectations};
pub use data::{DEFAULT_MAX_RESULTS, MAX_RESULTS};
pub use filter::{Filter, FilterError};
pub use records::{Records, RecordsError};
pub use reply::{Call, Reply};
pub use running::RunningEmulator;
pub use signed::{SignedRequest, SignedRequestError};

/// The Identity Cloud emulator: see the [module documentation](self).
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// A builder with no clients, no tokens, no records, the whole Identity Cloud catalog,
    /// the layer's defaults and the [`Echo::Verified`] answers.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::new()
    }
}
