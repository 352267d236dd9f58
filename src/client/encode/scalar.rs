//! A parameter's value when it is a scalar (text, a number, a `bool`): written as it is, not
//! as JSON text.

use std::fmt::{self, Display};

use serde::Serialize;
use serde::ser::{self, Impossible, Serializer};

use super::python::python_repr;

/// One value as a parameter, if it is not JSON text.
pub(super) enum Scalar {
    Omit,
    Text(String),
    Float(f64),
}

/// Why [`ScalarSerializer`] stopped: the value is JSON text, or its `Serialize` failed.
#[derive(Debug)]
pub(super) enum ScalarError {
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
pub(super) struct ScalarSerializer;

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
