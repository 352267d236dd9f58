//! # janrain-auth
//!
//! API-client authentication of Janrain / Akamai Identity Cloud for the tower ecosystem:
//! the **janrain-signed** HMAC-SHA1 scheme and **Basic** credentials, the client
//! **permission matrix** of every Identity Cloud operation, a tower verification layer for axum
//! servers, and outbound signing for tower clients and reqwest-middleware chains.
//!
//! Where to start: calling Identity Cloud, [`client::JanrainClient`] (feature `reqwest`);
//! serving, [`server`] (its documentation opens with the recommended axum stack); signing by
//! hand, [`scheme`].
//!
//! * [`server`]: the verification layer for axum and other tower servers.
//! * [`client`]: outbound signing as a tower layer and a reqwest-middleware middleware.
//! * [`scheme`]: the pure scheme core (string to sign, signing keys, headers, the `Date`).
//! * [`credentials`]: client ids, secrets (redacted, zeroized) and API clients.
//! * [`permissions`]: client features and the operation catalog.
//! * [`emulator`] (feature `emulator`): an in-process Identity Cloud to test calling code
//!   against, and signed requests for handler unit tests.
//! * [`params`]: query-string and form-body parameters, decoded the same way on both sides.
//! * [`error`]: the Janrain error envelope and every error code the crate answers with.
//! * [`guide`]: the string to sign, the crate's choices where Janrain is silent, the clients
//!   file.
//!
//! # How the crate is layered
//!
//! Each layer uses only the ones below it:
//!
//! ```text
//!                  emulator/ (an Identity Cloud for tests: the layer serving, the client signing)
//!                                 |
//! server/ (verification layer, stores, replay guards)   client/ (signer, middleware, JanrainClient)
//!        \________________________  ___________________________/   (never import each other)
//!                                 \/
//!        credentials, permissions, params, error, body (what both directions do to requests)
//!                                 |
//!        scheme/ (string to sign, HMAC, headers, dates, ids): pure, no I/O, imports nothing above
//! ```
#![deny(missing_docs, unreachable_pub, unsafe_code)]
#![warn(rust_2018_idioms, clippy::all)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
pub mod credentials;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
pub mod error;
pub mod guide;
pub mod params;
pub mod permissions;
mod requests;
pub mod scheme;
pub mod server;

pub use requests::BoxError;

/// The README's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
