//! The server side: the verification layer over HTTP (its answers, janrain-oauth, the trust
//! boundary, hostile bodies, tower stacks, extreme configurations), the emulator (its records,
//! filter language and recorded calls), Janrain's parameter conventions on both sides, the
//! `server` example, and the secret hygiene of both sides' traces.

mod config_extremes;
mod emulator;
mod filter_props;
mod hostile_bodies;
mod hygiene;
mod layer;
mod oauth;
mod params_json;
mod principal;
mod records;
mod records_example;
mod server_example;
mod tower_stack;
mod trust_boundary;
