//! Client features and the operation catalog: which API client may call what, and how it must
//! authenticate (spec section 2).
//!
//! The rule is Janrain's: a client may call an operation when it holds **at least one** of the
//! features the operation allows.
//!
//! ```
//! use janrain_auth::permissions::{AuthMethod, Catalog, Feature, Features, Operation};
//!
//! let mut catalog = Catalog::identity_cloud();
//! let find = catalog.get("/entity.find").unwrap();
//! assert!(find.accepts(AuthMethod::Signature));
//! assert!(find.permits(Features::from(Feature::DirectReadAccess)));
//! assert!(!find.permits(Features::from(Feature::Owner)));
//!
//! // Add an operation of your own, or override one of the catalog.
//! catalog.insert(
//!     Operation::new("/custom.report", AuthMethod::Basic | AuthMethod::Signature, Feature::Owner.into())
//!         .named("Custom report"),
//! );
//! assert!(catalog.get("/custom.report").is_some());
//! ```
//!
//! # Choices where the sources disagree or are silent
//!
//! * `/access/getVerificationCode`: the newer reference allows `access_issuer`, the older one
//!   does not. The catalog follows the newer reference (allowed).
//! * `/oauth/token`: `login_client` is not allowed, as the only permission table says.
//! * The login-client operations whose tables were never published (`auth_native` and the
//!   other `*_native` ones) allow `login_client` only.
//! * `/oauth/link_account_native`, `/oauth/unlink_account_native` and
//!   `/oauth/update_profile_native` act on a signed-in user and need an `access_token` issued
//!   to the same login client; the other `*_native` operations take user credentials or a
//!   social-provider token instead, and need none. `/oauth/verify_email_native` is among the
//!   latter (it can be sent for a user who cannot sign in yet).
//! * `/access/useVerificationCode` (and its alias `/access/use_verification_code`) needs no
//!   authentication at all.
//! * The legacy `/clients/*` and `/settings/*` operations are documented with Basic; the catalog
//!   accepts janrain-signed there too, as Janrain's PHP SDK signs `/settings/items`.
//! * Paths the spec marks unconfirmed (`/entityType.rules`, `/entityType.setAccessSchema`,
//!   `/entityType.setAttributeConstraints`, the `/settings/widget/*` mapping) are included as
//!   given.
//!
//! Override any of these with [`Catalog::insert`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use http::Method;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod identity_cloud;

use identity_cloud::builtin;

/// A feature of an API client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Feature {
    /// `owner`: complete administrative access to the application.
    Owner,
    /// `access_issuer`: may issue access tokens scoped for all clients.
    AccessIssuer,
    /// `direct_access`: read and write access to all user records.
    DirectAccess,
    /// `direct_read_access`: read access to all user records.
    DirectReadAccess,
    /// `login_client`: sign-in and registration on behalf of the current user only.
    LoginClient,
    /// `metadata`: updates do not bump `lastUpdated` (provisioned by Akamai only). No operation
    /// allows it by itself.
    Metadata,
}

impl Feature {
    /// Every feature, in declaration order.
    pub const ALL: [Feature; 6] = [
        Feature::Owner,
        Feature::AccessIssuer,
        Feature::DirectAccess,
        Feature::DirectReadAccess,
        Feature::LoginClient,
        Feature::Metadata,
    ];

    /// The feature's name as Janrain spells it (`direct_read_access`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Feature::Owner => "owner",
            Feature::AccessIssuer => "access_issuer",
            Feature::DirectAccess => "direct_access",
            Feature::DirectReadAccess => "direct_read_access",
            Feature::LoginClient => "login_client",
            Feature::Metadata => "metadata",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A feature name that is not one of Janrain's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown client feature {0:?}: expected owner, access_issuer, direct_access, direct_read_access, login_client or metadata"
)]
pub struct UnknownFeature(pub String);

impl FromStr for Feature {
    type Err = UnknownFeature;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Feature::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFeature(s.to_owned()))
    }
}

impl Serialize for Feature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Feature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of [`Feature`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Features(u8);

impl Features {
    /// No feature.
    pub const EMPTY: Features = Features(0);

    /// The set of the given features.
    pub const fn of(features: &[Feature]) -> Features {
        let mut bits = 0;
        let mut i = 0;
        while i < features.len() {
            bits |= features[i].bit();
            i += 1;
        }
        Features(bits)
    }

    /// Add a feature.
    pub fn insert(&mut self, feature: Feature) {
        self.0 |= feature.bit();
    }

    /// Whether the set holds `feature`.
    pub const fn contains(self, feature: Feature) -> bool {
        self.0 & feature.bit() != 0
    }

    /// Whether the two sets share a feature.
    pub const fn intersects(self, other: Features) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The features in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Feature> {
        Feature::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl From<Feature> for Features {
    fn from(f: Feature) -> Self {
        Features(f.bit())
    }
}

impl BitOr for Feature {
    type Output = Features;
    fn bitor(self, rhs: Feature) -> Features {
        Features(self.bit() | rhs.bit())
    }
}

impl BitOr<Feature> for Features {
    type Output = Features;
    fn bitor(self, rhs: Feature) -> Features {
        Features(self.0 | rhs.bit())
    }
}

impl BitOr for Features {
    type Output = Features;
    fn bitor(self, rhs: Features) -> Features {
        Features(self.0 | rhs.0)
    }
}

impl BitOrAssign<Feature> for Features {
    fn bitor_assign(&mut self, rhs: Feature) {
        self.insert(rhs);
    }
}

impl FromIterator<Feature> for Features {
    fn from_iter<I: IntoIterator<Item = Feature>>(iter: I) -> Self {
        let mut set = Features::EMPTY;
        for f in iter {
            set.insert(f);
        }
        set
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, feature) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(feature.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for Features {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Features {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Feature>::deserialize(d)?.into_iter().collect())
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `Authorization: Basic base64(client_id:client_secret)`.
    Basic,
    /// `Authorization: Signature client_id:base64(hmac)` with a `Date` header (janrain-signed).
    Signature,
    /// No `Authorization` header; a `client_id` parameter naming a `login_client` client.
    LoginClient,
    /// As [`AuthMethod::LoginClient`], plus an `access_token` parameter issued to that client.
    LoginClientWithToken,
    /// No authentication at all.
    None,
    /// janrain-oauth: a user's access token, as `Authorization: OAuth <token>` or an
    /// `access_token` parameter. The request acts for that user only.
    OAuth,
    /// The legacy way: `client_id` and `client_secret` as form parameters, where Basic is
    /// accepted and the layer allows it
    /// ([`accept_form_credentials`](crate::server::VerifyLayerBuilder::accept_form_credentials)).
    FormCredentials,
}

impl AuthMethod {
    /// Every method, in declaration order.
    pub const ALL: [AuthMethod; 7] = [
        AuthMethod::Basic,
        AuthMethod::Signature,
        AuthMethod::LoginClient,
        AuthMethod::LoginClientWithToken,
        AuthMethod::None,
        AuthMethod::OAuth,
        AuthMethod::FormCredentials,
    ];

    /// A short name: `basic`, `signature`, `login_client`, `login_client_token`, `none`,
    /// `oauth`, `form_credentials`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Basic => "basic",
            AuthMethod::Signature => "signature",
            AuthMethod::LoginClient => "login_client",
            AuthMethod::LoginClientWithToken => "login_client_token",
            AuthMethod::None => "none",
            AuthMethod::OAuth => "oauth",
            AuthMethod::FormCredentials => "form_credentials",
        }
    }

    /// Whether a request authenticated this way acts for one user, the one its access token
    /// was issued for: janrain-oauth, and a login client's operation called with a token. Such
    /// a request reaches that user's record and no other.
    pub const fn acts_for_user(self) -> bool {
        matches!(self, AuthMethod::OAuth | AuthMethod::LoginClientWithToken)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`AuthMethod`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AuthMethods(u8);

impl AuthMethods {
    /// No method.
    pub const EMPTY: AuthMethods = AuthMethods(0);
    /// Basic or janrain-signed: the header methods of the Authentication and Entity APIs.
    pub const HEADER: AuthMethods =
        AuthMethods(AuthMethod::Basic.bit() | AuthMethod::Signature.bit());

    /// Whether the set holds `method`.
    pub const fn contains(self, method: AuthMethod) -> bool {
        self.0 & method.bit() != 0
    }

    /// Add a method.
    pub fn insert(&mut self, method: AuthMethod) {
        self.0 |= method.bit();
    }

    /// The methods in the set.
    pub fn iter(self) -> impl Iterator<Item = AuthMethod> {
        AuthMethod::ALL
            .into_iter()
            .filter(move |m| self.contains(*m))
    }

    /// Whether the set holds a method that takes an `Authorization` header.
    pub const fn takes_header(self) -> bool {
        self.contains(AuthMethod::Basic) || self.contains(AuthMethod::Signature)
    }
}

impl From<AuthMethod> for AuthMethods {
    fn from(m: AuthMethod) -> Self {
        AuthMethods(m.bit())
    }
}

impl BitOr for AuthMethod {
    type Output = AuthMethods;
    fn bitor(self, rhs: AuthMethod) -> AuthMethods {
        AuthMethods(self.bit() | rhs.bit())
    }
}

impl BitOr<AuthMethod> for AuthMethods {
    type Output = AuthMethods;
    fn bitor(self, rhs: AuthMethod) -> AuthMethods {
        AuthMethods(self.0 | rhs.bit())
    }
}

impl fmt::Debug for AuthMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The API family an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Api {
    /// The Authentication API (`/access/*`, `/oauth/*`).
    Authentication,
    /// The Entity and EntityType APIs (`/entity*`, `/entityType*`).
    Entity,
    /// The legacy Clients and Settings APIs (`/clients/*`, `/settings/*`).
    Legacy,
    /// An operation the user added.
    Custom,
}

/// An operation: its path, documented method, accepted authentication and allowed features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    path: Cow<'static, str>,
    name: Cow<'static, str>,
    api: Api,
    method: Method,
    auth: AuthMethods,
    allowed: Features,
    unsigned_body: bool,
}

impl Operation {
    /// An operation no request can call: it accepts no way of authenticating and allows no
    /// feature.
    pub(crate) const REFUSING_ALL: Operation = Operation {
        path: Cow::Borrowed(""),
        name: Cow::Borrowed(""),
        api: Api::Custom,
        method: Method::POST,
        auth: AuthMethods::EMPTY,
        allowed: Features::EMPTY,
        unsigned_body: false,
    };

    /// An operation of your own at `path` (POST, [`Api::Custom`], named after its path).
    pub fn new(path: impl Into<Cow<'static, str>>, auth: AuthMethods, allowed: Features) -> Self {
        let path = path.into();
        Operation {
            name: path.clone(),
            path,
            api: Api::Custom,
            method: Method::POST,
            auth,
            allowed,
            unsigned_body: false,
        }
    }

    /// Give the operation a human name.
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Set the documented HTTP method.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Set the API family.
    pub fn in_api(mut self, api: Api) -> Self {
        self.api = api;
        self
    }

    /// Let janrain-signed requests to this operation carry a body that is not a form (JSON,
    /// say), which the signature does not cover (default: refused with 415 `unsigned_body`).
    /// Anyone who can replay or alter a signed request in transit can then change that body
    /// at will: only the parameters, the path and the `Date` stay authenticated. Switch it on
    /// for your own operations that take JSON, over TLS.
    pub fn allow_unsigned_body(mut self, allow: bool) -> Self {
        self.unsigned_body = allow;
        self
    }

    /// Whether janrain-signed requests may carry a body the signature does not cover.
    pub fn allows_unsigned_body(&self) -> bool {
        self.unsigned_body
    }

    /// The root-anchored path, e.g. `/entity.find`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn path_cow(&self) -> &Cow<'static, str> {
        &self.path
    }

    /// The name the documentation gives it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The API family.
    pub fn api(&self) -> Api {
        self.api
    }

    /// The documented HTTP method (POST for all but `/clients/list`). janrain-signed does not
    /// sign the method, and older documentation shows GET for some operations.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The accepted authentication methods.
    pub fn auth(&self) -> AuthMethods {
        self.auth
    }

    /// The features allowed to call it.
    pub fn allowed(&self) -> Features {
        self.allowed
    }

    /// Whether requests may authenticate with `method`.
    pub fn accepts(&self, method: AuthMethod) -> bool {
        self.auth.contains(method)
    }

    /// Whether a client with `features` may call the operation (it holds at least one allowed
    /// feature).
    pub fn permits(&self, features: Features) -> bool {
        features.intersects(self.allowed)
    }
}

/// Operations by path: the Identity Cloud catalog ([`Catalog::identity_cloud`]) and/or your own.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    ops: Vec<Operation>,
    // foldhash rather than SipHash: every request looks its path up here. The catalog is
    // the server's own list of operations, which no client can add to, so looking up paths
    // a client chooses cannot degrade it.
    index: HashMap<Box<str>, usize, foldhash::fast::RandomState>,
}

impl Catalog {
    /// A catalog with no operation.
    pub fn empty() -> Self {
        Catalog::default()
    }

    /// Every operation of Identity Cloud's API-client documentation: the Authentication API, the Entity and
    /// EntityType APIs, and the legacy Clients and Settings APIs.
    pub fn identity_cloud() -> Self {
        let mut catalog = Catalog::empty();
        for op in builtin() {
            catalog.insert(op);
        }
        catalog
    }

    /// Add an operation, replacing (and returning) any with the same path. Replaced operations
    /// keep their place in iteration order.
    pub fn insert(&mut self, op: Operation) -> Option<Operation> {
        match self.index.get(op.path()) {
            Some(&i) => Some(std::mem::replace(&mut self.ops[i], op)),
            None => {
                self.index.insert(op.path().into(), self.ops.len());
                self.ops.push(op);
                None
            }
        }
    }

    /// This catalog with `op` added or replaced.
    pub fn with(mut self, op: Operation) -> Self {
        self.insert(op);
        self
    }

    /// Remove the operation at `path`.
    pub fn remove(&mut self, path: &str) -> Option<Operation> {
        let i = self.index.remove(path)?;
        let op = self.ops.remove(i);
        for slot in self.index.values_mut() {
            if *slot > i {
                *slot -= 1;
            }
        }
        Some(op)
    }

    /// The operation at `path` (exact match, root-anchored).
    pub fn get(&self, path: &str) -> Option<&Operation> {
        self.position(path).and_then(|i| self.at(i))
    }

    /// Where the operation at `path` is in the catalog: a request holds this rather than a
    /// copy of the operation.
    pub(crate) fn position(&self, path: &str) -> Option<usize> {
        self.index.get(path).copied()
    }

    /// The operation at position `i`.
    pub(crate) fn at(&self, i: usize) -> Option<&Operation> {
        self.ops.get(i)
    }

    /// The operations, in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Operation> {
        self.ops.iter()
    }

    /// How many operations there are.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl<'a> IntoIterator for &'a Catalog {
    type Item = &'a Operation;
    type IntoIter = std::slice::Iter<'a, Operation>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<Operation> for Catalog {
    fn from_iter<I: IntoIterator<Item = Operation>>(iter: I) -> Self {
        let mut catalog = Catalog::empty();
        for op in iter {
            catalog.insert(op);
        }
        catalog
    }
}

#[cfg(test)]
mod tests;
