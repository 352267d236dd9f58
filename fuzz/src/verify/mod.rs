//! The whole verification path: a `VerifyLayer`-wrapped tower service, driven on a
//! current-thread tokio runtime (time paused, so body timeouts fire at once), with the demo
//! clients and tokens in memory and, on some inputs, an in-memory replay guard.
//!
//! Each input is either a raw request (arbitrary method, path, query, headers and body, the
//! body arriving in arbitrary chunks and ending, failing or stalling) or a well-formed request
//! of one kind (janrain-signed, Basic, login client) with arbitrary parameters and deliberate
//! variations (wrong key, unknown client, date offset, wrong form, body over the limit,
//! replay...). Properties:
//!
//! * the layer never panics and never answers 5xx (with this configuration none of the
//!   documented 5xx cases, store or replay-guard failure, can occur);
//! * every refusal is a well-formed Janrain envelope: JSON `stat:error`, a `(status, code,
//!   error)` row of the documented table (status 200 in Janrain-status mode), a 16-character
//!   request id, a description, `Content-Type: application/json`, the layer's `Date`, a
//!   `WWW-Authenticate` challenge on 401, and no secret, signature or token in the text;
//! * a request that is accepted was entitled to be: a known operation, and an authenticated
//!   client (re-checked here: the signature recomputed over what the handler received, the
//!   Basic secret compared) whose features the operation permits; the handler receives the
//!   body byte for byte as sent;
//! * for the well-formed kinds, the outcome is exactly the one a small model of the
//!   documented procedure predicts (under any date window: the default, a few seconds, or
//!   none): a correctly signed request by a known client with the
//!   right features is accepted, one signed with a key that is not the client's is refused
//!   with 431, and so on.

mod basic;
mod body;
mod check;
mod login;
mod principal;
mod raw;
mod request;
mod service;
mod signed;
mod user;
mod world;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, DATE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::error::JanrainError;
use janrain_auth::params::{ParamList, encode_urlencoded};
use janrain_auth::permissions::{AuthMethod, Catalog, Features, Operation};
use janrain_auth::scheme::{
    Authorization, Canonicalization, Datetime, ManualClock, SigningKey, StringToSign, basic_header,
    signature_header,
};
use janrain_auth::server::{AuthenticatedClient, ClientsFile, Deferred, MemoryStore, MemoryTokens, VerifiedBody, VerifiedParams, VerifyLayer};
use janrain_auth::server::replay::MemoryReplayGuard;
use tower::{Layer, ServiceExt};

use self::basic::*;
use self::body::*;
use self::check::*;
use self::login::*;
use self::principal::*;
use self::raw::*;
use self::request::*;
use self::service::*;
use self::signed::*;
use self::user::*;
use self::world::*;

#[derive(Arbitrary, Debug)]
pub(crate) struct Input {
    pub(crate) config: Config,
    pub(crate) mode: Mode,
}

#[derive(Arbitrary, Debug)]
pub(crate) enum Mode {
    Raw(Raw),
    Signed(Signed),
    Basic(BasicReq),
    Login(Login),
    User(UserReq),
}

/// Run one input: decode it and drive the layer with it, asserting every property.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    match input.mode {
        Mode::Raw(r) => raw(input.config, r),
        Mode::Signed(s) => signed(input.config, s),
        Mode::Basic(b) => basic(input.config, b),
        Mode::Login(l) => login(input.config, l),
        Mode::User(u) => user(input.config, u),
    }
}
