//! The client side: the signer's configuration, the reqwest middleware and the tower layer,
//! `JanrainClient` (its parameters, paging, errors), calls as a user and as a login client, and
//! the `client` example, and (feature `cli`) the `janrain` command.

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
mod tower_layer;
mod wire;
