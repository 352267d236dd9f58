//! The top level of the encoding: a struct or a map, one parameter per field or entry.

use serde::Serialize;
use serde::ser::{Impossible, SerializeMap, SerializeStruct, Serializer};

use super::python::float_text;
use super::scalar::{Scalar, ScalarError, ScalarSerializer};
use super::{EncodeError, param_value};

/// The top level: a struct or a map, one parameter per field or entry.
pub(super) struct ParamsSerializer<'a> {
    pub(super) out: &'a mut Vec<(String, String)>,
}

/// Collects the parameters of a struct or map.
pub(super) struct ParamsCollector<'a> {
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
