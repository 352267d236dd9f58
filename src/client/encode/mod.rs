//! Janrain's parameter encoding, as serde: any `Serialize` struct or map becomes the form
//! parameters of an Identity Cloud call, each value written the way Janrain's own Python
//! client writes it.
//!
//! Every field (struct) or entry (map) becomes one parameter, in serialization order. Its value
//! is written by one rule:
//!
//! | Rust value | parameter value |
//! |---|---|
//! | string, `char` | the text as it is (UTF-8, no quoting or escaping) |
//! | `bool` | `true` / `false` |
//! | integer | decimal: `10`, `-3` |
//! | float | Python's `repr`: `1.5`, `10.0`, `1e-05`, `1e+16` (shortest text that reads back as the same number) |
//! | unit enum variant | the variant's name |
//! | `None`, `()`, unit struct, `serde_json::Value::Null` | **no parameter**: the field is left out |
//! | sequence, tuple, map, struct, other enum variants | JSON text, written as Python's `json.dumps` writes it (below) |
//!
//! JSON text is written with `", "` between items and `": "` between a key and its value, and
//! with every character outside printable ASCII escaped (`"Zoë"` becomes `"Zo\u00eb"`, a
//! character beyond the Basic Multilingual Plane a UTF-16 surrogate pair), exactly as Python's
//! `json.dumps` does with its default settings. Both spellings mean the same JSON to the server;
//! matching Python byte for byte means a request built here carries the same bytes as one from
//! Janrain's Python client. Inside JSON text `None` is `null`, and object keys keep the order in
//! which they serialize (struct field order; a `serde_json::Map` is sorted by key unless
//! serde_json's `preserve_order` feature is on).
//!
//! A non-finite float (NaN, infinity) has no JSON spelling: as a parameter it is an error
//! ([`EncodeError::NonFiniteFloat`]); inside JSON text it is written `null`, as serde_json
//! writes it.
//!
//! ```
//! use janrain_auth::client::encode::to_params;
//! use serde::Serialize;
//!
//! #[derive(Serialize)]
//! struct Find<'a> {
//!     type_name: &'a str,
//!     attributes: &'a [&'a str],
//!     max_results: u32,
//!     show_total_count: bool,
//!     filter: Option<&'a str>,
//! }
//!
//! let params = to_params(&Find {
//!     type_name: "user",
//!     attributes: &["uuid", "email"],
//!     max_results: 10,
//!     show_total_count: true,
//!     filter: None,
//! })?;
//! let expected = [
//!     ("type_name", "user"),
//!     ("attributes", r#"["uuid", "email"]"#),
//!     ("max_results", "10"),
//!     ("show_total_count", "true"),
//! ];
//! assert_eq!(params, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
//!
//! // A serde_json object works the same way; nested values become JSON text.
//! let update = serde_json::json!({
//!     "type_name": "user",
//!     "value": {"givenName": "Zoë", "age": 30},
//! });
//! let params = to_params(&update)?;
//! assert_eq!(params[1].1, r#"{"age": 30, "givenName": "Zo\u00eb"}"#);
//! # Ok::<(), janrain_auth::client::encode::EncodeError>(())
//! ```

mod params;
mod python;
mod scalar;

use std::fmt::Display;

use serde::Serialize;
use serde::ser;

use self::params::ParamsSerializer;
use self::python::{PythonFormatter, float_text};
use self::scalar::{Scalar, ScalarError, ScalarSerializer};

/// Why a value could not be encoded as parameters. The messages name parameters, never their
/// values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value is not a struct or a map (or `None` / `()` for no parameters).
    #[error("parameters must serialize as a struct or a map (field name to value), not as {found}")]
    NotAMap {
        /// What it serialized as.
        found: &'static str,
    },
    /// A map key is not text, a number, a `bool` or a `char`.
    #[error("parameter names must be text, numbers, booleans or chars, not {found}")]
    KeyNotText {
        /// What the key serialized as.
        found: &'static str,
    },
    /// A parameter's value is a NaN or infinite float, which has no JSON spelling.
    #[error("parameter {key:?} is a float that is not finite (NaN or infinity)")]
    NonFiniteFloat {
        /// The parameter.
        key: String,
    },
    /// A parameter's value could not be written as JSON text.
    #[error("parameter {key:?} cannot be written as JSON: {source}")]
    Json {
        /// The parameter.
        key: String,
        /// serde_json's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// The value's `Serialize` implementation failed.
    #[error("the parameters failed to serialize: {0}")]
    Custom(String),
}

impl ser::Error for EncodeError {
    fn custom<T: Display>(msg: T) -> Self {
        EncodeError::Custom(msg.to_string())
    }
}

/// Encode `value` as `(name, value)` parameters by the rule of the [module](self): ready for
/// a form body (`params::encode_urlencoded`, reqwest's `.form()`) or a query string.
pub fn to_params<T: Serialize + ?Sized>(value: &T) -> Result<Vec<(String, String)>, EncodeError> {
    let mut out = Vec::new();
    value.serialize(ParamsSerializer { out: &mut out })?;
    Ok(out)
}

/// Encode one value as a parameter value by the rule of the [module](self): `Ok(None)` for a
/// value that leaves its parameter out (`None`, `()`). `key` names it in errors.
pub fn param_value<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
) -> Result<Option<String>, EncodeError> {
    match value.serialize(ScalarSerializer) {
        Ok(Scalar::Omit) => Ok(None),
        Ok(Scalar::Text(text)) => Ok(Some(text)),
        Ok(Scalar::Float(f)) => {
            float_text(f)
                .map(Some)
                .ok_or_else(|| EncodeError::NonFiniteFloat {
                    key: key.to_owned(),
                })
        }
        Err(ScalarError::Compound) => {
            to_json_text(value)
                .map(Some)
                .map_err(|source| EncodeError::Json {
                    key: key.to_owned(),
                    source,
                })
        }
        Err(ScalarError::Custom(message)) => Err(EncodeError::Custom(message)),
    }
}

/// Write `value` as JSON text the way Python's `json.dumps` does with its default settings
/// (`", "` and `": "` separators, non-ASCII escaped, floats as Python's `repr`).
pub fn to_json_text<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(64);
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, PythonFormatter::compact());
    value.serialize(&mut serializer)?;
    // The formatter writes ASCII only.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// Write `value` as JSON text the way Python's `json.dumps(value, indent=indent)` does: each
/// item of a list or object on a line of its own, `indent` spaces deeper per level, `","` at
/// the end of a line and `": "` after a key, empty lists and objects as `[]` and `{}`,
/// non-ASCII escaped and floats as Python's `repr`, as [`to_json_text`] writes them. Object
/// keys keep the order in which they serialize: a `serde_json::Value` sorted with
/// `sort_all_objects` is written as `json.dumps(value, indent=indent, sort_keys=True)` writes
/// it, which is what Janrain's `capture-api` prints.
///
/// ```
/// use janrain_auth::client::encode::to_json_text_indented;
///
/// let answer = serde_json::json!({"stat": "ok", "results": [{"givenName": "Zoë"}], "none": []});
/// assert_eq!(
///     to_json_text_indented(&answer, 2)?,
///     "{\n  \"none\": [],\n  \"results\": [\n    {\n      \"givenName\": \"Zo\\u00eb\"\n    }\n  ],\n  \"stat\": \"ok\"\n}"
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn to_json_text_indented<T: Serialize + ?Sized>(
    value: &T,
    indent: usize,
) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, PythonFormatter::indented(indent));
    value.serialize(&mut serializer)?;
    // The formatter writes ASCII only.
    Ok(String::from_utf8(out).unwrap_or_default())
}
