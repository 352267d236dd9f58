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

use std::fmt::{self, Display};
use std::io;

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeStruct, Serializer};

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
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut serializer)?;
    // The formatter writes ASCII only.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// Python's `repr` of a float (`None` for NaN and infinities).
fn float_text(value: f64) -> Option<String> {
    value.is_finite().then(|| python_repr(format!("{value:e}")))
}

/// Python's `repr` of a finite float, from Rust's shortest round-trip scientific form
/// (`1.5e0`, `-1e-7`): both pick the shortest digits that read back as the same number, and
/// differ only in layout. Python writes plain decimals when the decimal point falls within
/// the digits' reach (exponent from -4 to 15), scientific otherwise with a signed exponent of at
/// least two digits, and always shows a fraction on plain decimals (`10.0`).
fn python_repr(scientific: String) -> String {
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // The value is 0.DIGITS x 10^point.
    let point = exponent + 1;
    let len = digits.len() as i32;
    let mut out = String::from(sign);
    if point <= -4 || point > 16 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = point - 1;
        out.push_str(&format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()));
    } else if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        out.push_str(&digits);
    } else if point >= len {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (point - len) as usize));
        out.push_str(".0");
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

/// serde_json's writer with Python's `json.dumps` layout.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        // serde_json writes non-finite floats as `null` before asking the formatter.
        writer.write_all(python_repr(format!("{value:e}")).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        // The f32's own shortest digits (0.1f32 is written 0.1, as it was meant).
        writer.write_all(python_repr(format!("{value:e}")).as_bytes())
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separator(writer, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    /// serde_json has already escaped `"`, `\` and control characters (with the same short
    /// forms and lowercase `\u00XX` as Python); the rest of the printable-ASCII rule is here.
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// One value as a parameter, if it is not JSON text.
enum Scalar {
    Omit,
    Text(String),
    Float(f64),
}

/// Why [`ScalarSerializer`] stopped: the value is JSON text, or its `Serialize` failed.
#[derive(Debug)]
enum ScalarError {
    Compound,
    Custom(String),
}

impl Display for ScalarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScalarError::Compound => f.write_str("a compound value"),
            ScalarError::Custom(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ScalarError {}

impl ser::Error for ScalarError {
    fn custom<T: Display>(msg: T) -> Self {
        ScalarError::Custom(msg.to_string())
    }
}

/// Reads a value that is a scalar; stops at the first sign of a compound one (which is then
/// written whole as JSON text).
struct ScalarSerializer;

macro_rules! scalar_text {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<Scalar, ScalarError> {
            Ok(Scalar::Text(v.to_string()))
        })*
    };
}

impl Serializer for ScalarSerializer {
    type Ok = Scalar;
    type Error = ScalarError;
    type SerializeSeq = Impossible<Scalar, ScalarError>;
    type SerializeTuple = Impossible<Scalar, ScalarError>;
    type SerializeTupleStruct = Impossible<Scalar, ScalarError>;
    type SerializeTupleVariant = Impossible<Scalar, ScalarError>;
    type SerializeMap = Impossible<Scalar, ScalarError>;
    type SerializeStruct = Impossible<Scalar, ScalarError>;
    type SerializeStructVariant = Impossible<Scalar, ScalarError>;

    scalar_text! {
        serialize_bool: bool,
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char,
        serialize_str: &str,
    }

    fn serialize_f32(self, v: f32) -> Result<Scalar, ScalarError> {
        if v.is_finite() {
            Ok(Scalar::Text(python_repr(format!("{v:e}"))))
        } else {
            Ok(Scalar::Float(f64::from(v)))
        }
    }

    fn serialize_f64(self, v: f64) -> Result<Scalar, ScalarError> {
        Ok(Scalar::Float(v))
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<Scalar, ScalarError> {
        // serde_json's convention: an array of numbers.
        Err(ScalarError::Compound)
    }

    fn serialize_none(self) -> Result<Scalar, ScalarError> {
        Ok(Scalar::Omit)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Scalar, ScalarError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Scalar, ScalarError> {
        Ok(Scalar::Omit)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<Scalar, ScalarError> {
        Ok(Scalar::Omit)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Scalar, ScalarError> {
        Ok(Scalar::Text(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Scalar, ScalarError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Scalar, ScalarError> {
        Err(ScalarError::Compound)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ScalarError> {
        Err(ScalarError::Compound)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ScalarError> {
        Err(ScalarError::Compound)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ScalarError> {
        Err(ScalarError::Compound)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ScalarError> {
        Err(ScalarError::Compound)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ScalarError> {
        Err(ScalarError::Compound)
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, ScalarError> {
        Err(ScalarError::Compound)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ScalarError> {
        Err(ScalarError::Compound)
    }
}

/// The top level: a struct or a map, one parameter per field or entry.
struct ParamsSerializer<'a> {
    out: &'a mut Vec<(String, String)>,
}

/// Collects the parameters of a struct or map.
struct ParamsCollector<'a> {
    out: &'a mut Vec<(String, String)>,
    key: Option<String>,
}

impl ParamsCollector<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), EncodeError> {
        if let Some(text) = param_value(&key, value)? {
            self.out.push((key, text));
        }
        Ok(())
    }
}

fn not_a_map<T>(found: &'static str) -> Result<T, EncodeError> {
    Err(EncodeError::NotAMap { found })
}

impl<'a> Serializer for ParamsSerializer<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Impossible<(), EncodeError>;
    type SerializeTuple = Impossible<(), EncodeError>;
    type SerializeTupleStruct = Impossible<(), EncodeError>;
    type SerializeTupleVariant = Impossible<(), EncodeError>;
    type SerializeMap = ParamsCollector<'a>;
    type SerializeStruct = ParamsCollector<'a>;
    type SerializeStructVariant = Impossible<(), EncodeError>;

    fn serialize_bool(self, _: bool) -> Result<(), EncodeError> {
        not_a_map("a bool")
    }
    fn serialize_i8(self, _: i8) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_i16(self, _: i16) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_i32(self, _: i32) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_i64(self, _: i64) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_u8(self, _: u8) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_u16(self, _: u16) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_u32(self, _: u32) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_u64(self, _: u64) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_f32(self, _: f32) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_f64(self, _: f64) -> Result<(), EncodeError> {
        not_a_map("a number")
    }
    fn serialize_char(self, _: char) -> Result<(), EncodeError> {
        not_a_map("a char")
    }
    fn serialize_str(self, _: &str) -> Result<(), EncodeError> {
        not_a_map("a string")
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), EncodeError> {
        not_a_map("bytes")
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), EncodeError> {
        not_a_map("an enum variant")
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), EncodeError> {
        not_a_map("an enum variant")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, EncodeError> {
        not_a_map("a sequence")
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, EncodeError> {
        not_a_map("a tuple")
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, EncodeError> {
        not_a_map("a tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        not_a_map("an enum variant")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, EncodeError> {
        Ok(ParamsCollector {
            out: self.out,
            key: None,
        })
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, EncodeError> {
        Ok(ParamsCollector {
            out: self.out,
            key: None,
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        not_a_map("an enum variant")
    }
}

impl SerializeStruct for ParamsCollector<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.push(key.to_owned(), value)
    }

    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

impl SerializeMap for ParamsCollector<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        let text = match key.serialize(ScalarSerializer) {
            Ok(Scalar::Text(text)) => text,
            Ok(Scalar::Float(f)) => float_text(f).ok_or(EncodeError::KeyNotText {
                found: "a float that is not finite",
            })?,
            Ok(Scalar::Omit) => return Err(EncodeError::KeyNotText { found: "nothing" }),
            Err(ScalarError::Compound) => {
                return Err(EncodeError::KeyNotText {
                    found: "a compound value",
                });
            }
            Err(ScalarError::Custom(message)) => return Err(EncodeError::Custom(message)),
        };
        self.key = Some(text);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| EncodeError::Custom("a map value without a key".to_owned()))?;
        self.push(key, value)
    }

    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// `json.dumps`'s item separator, `", "`, before every item but the first of an array or object.
fn separator<W: ?Sized + io::Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python_repr() {
        // Each pair checked against CPython's repr().
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (10.0, "10.0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (-1.25e-7, "-1.25e-07"),
            (1e300, "1e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (2.71, "2.71"),
            (100.5, "100.5"),
            (9007199254740993.0, "9007199254740992.0"),
        ];
        for &(value, expected) in cases {
            assert_eq!(float_text(value).as_deref(), Some(expected), "{value:?}");
        }
        assert_eq!(float_text(f64::NAN), None);
        assert_eq!(float_text(f64::INFINITY), None);
    }
}
