//! The client side: the signer's configuration, the reqwest middleware and the tower layer,
//! `JanrainClient` (its parameters, paging, errors; paging against the emulator's records), calls
//! as a user and as a login client, the `client` example, and (feature `cli`) the `janrain`
//! command.

mod api;
mod api_encode;
#[cfg(feature = "cli")]
mod command;
mod config;
mod defaults;
mod example;
mod middleware;
mod oauth;
mod oauth_emulator;
mod records;
mod tower_layer;
mod wire;
