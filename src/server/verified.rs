//! [`VerifiedParams`]: the parameters the layer checked, handed to the handler.

use std::fmt;
use std::sync::Arc;

use crate::params::{DeserializeError, ParamList};

/// The request's parameters exactly as the layer checked them: the ones the signature covered
/// (or, for login-client operations, the checked `client_id` and `access_token` with the
/// rest), from their one place (the form body, or the query string), in request order.
///
/// The layer adds it as a request extension to every request it verified (with the `axum`
/// feature it is also an extractor), so handlers need not parse the body or query again, and
/// cannot read anything else by mistake. Every key and value is UTF-8 text: the layer refuses
/// parameters that are not.
///
/// Cloning it is cheap: a small list (see [`ParamList`]) is held inside the value, so handing
/// it on allocates nothing and a clone copies a few hundred bytes; a bigger one is shared.
///
/// `Debug` shows the keys only: values may be passwords or tokens.
#[derive(Clone)]
pub struct VerifiedParams {
    params: ParamStorage,
}

/// Where the list is kept: in the value while it is small, shared once it is not.
// The inline variant is the point: boxing it would be the allocation it saves.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum ParamStorage {
    Inline(ParamList),
    Shared(Arc<ParamList>),
}

impl VerifiedParams {
    #[inline]
    pub(crate) fn new(params: ParamList) -> Self {
        let params = if params.is_inline() {
            ParamStorage::Inline(params)
        } else {
            ParamStorage::Shared(Arc::new(params))
        };
        VerifiedParams { params }
    }

    /// Parameters for a handler unit test, as the layer would hand them on. They are not
    /// checked: use it only where no layer runs.
    pub fn for_test<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, crate::params::ParamsError> {
        let mut params = ParamList::new();
        for (k, v) in pairs {
            params.push(k.as_ref(), v.as_ref())?;
        }
        Ok(VerifiedParams::new(params))
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Every value of `key`, in request order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter().filter(move |(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Every parameter as `(key, value)`, in request order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        // The layer refused any parameter that is not UTF-8; a list from `for_test` is text.
        self.as_param_list().iter().map(|(k, v)| {
            (
                std::str::from_utf8(k).unwrap_or_default(),
                std::str::from_utf8(v).unwrap_or_default(),
            )
        })
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.as_param_list().len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.as_param_list().is_empty()
    }

    /// The parameters as a serde type; see [`ParamList::deserialize`] for the rules: text
    /// fields as sent, numbers and booleans parsed from text, lists, objects and structs read
    /// from JSON text as Janrain's clients (and this crate's `JanrainClient`) send
    /// them, repeated keys as sequences.
    ///
    /// ```
    /// use janrain_auth::server::VerifiedParams;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Update {
    ///     uuid: String,
    ///     value: serde_json::Value,
    /// }
    ///
    /// let params = VerifiedParams::for_test([("uuid", "u-1"), ("value", r#"{"givenName": "Zoë"}"#)])?;
    /// let update: Update = params.deserialize()?;
    /// assert_eq!(update.value["givenName"], "Zoë");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<'de, T: serde::Deserialize<'de>>(&'de self) -> Result<T, DeserializeError> {
        self.as_param_list().deserialize()
    }

    /// The underlying list (bytes, as signed).
    pub fn as_param_list(&self) -> &ParamList {
        match &self.params {
            ParamStorage::Inline(params) => params,
            ParamStorage::Shared(params) => params,
        }
    }
}

impl fmt::Debug for VerifiedParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VerifiedParams")
            .field(self.as_param_list())
            .finish()
    }
}
