//! Parameters into serde types: each key is a field; a repeated key is a sequence; text is
//! parsed into numbers and booleans where the field asks for them.

use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};

use super::ParamList;

/// Why parameters did not fit the type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeserializeError(String);

impl fmt::Display for DeserializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeserializeError {}

impl de::Error for DeserializeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeserializeError(msg.to_string())
    }
}

/// Group the parameters by key, in order of first appearance. Keys and values that are not
/// UTF-8 are an error: serde types hold text.
fn grouped(params: &ParamList) -> Result<Vec<(&str, Vec<&str>)>, DeserializeError> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (key, value) in params.iter() {
        let text = |bytes| {
            std::str::from_utf8(bytes)
                .map_err(|_| DeserializeError("a parameter is not UTF-8 text".into()))
        };
        let (key, value) = (text(key)?, text(value)?);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    Ok(groups)
}

pub(super) fn from_params<'de, T: de::Deserialize<'de>>(
    params: &'de ParamList,
) -> Result<T, DeserializeError> {
    let groups = grouped(params)?;
    T::deserialize(Params {
        groups: groups.into_iter(),
        value: None,
    })
}

/// The whole list, as a map.
struct Params<'de> {
    groups: std::vec::IntoIter<(&'de str, Vec<&'de str>)>,
    value: Option<Values<'de>>,
}

impl<'de> Deserializer<'de> for Params<'de> {
    type Error = DeserializeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for Params<'de> {
    type Error = DeserializeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, values)) = self.groups.next() else {
            return Ok(None);
        };
        self.value = Some(Values { key, values });
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let values = self
            .value
            .take()
            .ok_or_else(|| DeserializeError("a value was asked for before its key".into()))?;
        seed.deserialize(values)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.groups.len())
    }
}

/// Every value of one key: a sequence when the field is one, the single value otherwise.
struct Values<'de> {
    key: &'de str,
    values: Vec<&'de str>,
}

impl<'de> Values<'de> {
    fn single(self) -> Result<Text<'de>, DeserializeError> {
        match self.values.as_slice() {
            [one] => Ok(Text(one)),
            many => Err(DeserializeError(format!(
                "the parameter {} appears {} times; use a sequence field to take every value",
                self.key,
                many.len()
            ))),
        }
    }
}

macro_rules! through_single {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.single()?.$method(visitor)
        })*
    };
}

impl<'de> Deserializer<'de> for Values<'de> {
    type Error = DeserializeError;

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let mut seq = SeqDeserializer::new(self.values.into_iter().map(Text));
        let value = visitor.visit_seq(&mut seq)?;
        seq.end()?;
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.single()?.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.single()?.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.single()?.deserialize_enum(name, variants, visitor)
    }

    through_single! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_unit deserialize_map deserialize_identifier deserialize_ignored_any
    }
}

/// One value's text; numbers and booleans are parsed from it when the field asks for them.
struct Text<'de>(&'de str);

impl<'de> IntoDeserializer<'de, DeserializeError> for Text<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parsed {
    ($($method:ident => $visit:ident,)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0.parse() {
                Ok(value) => visitor.$visit(value),
                Err(e) => Err(DeserializeError(format!("{:?} is not {}: {e}", self.0, visitor_expects(&visitor)))),
            }
        })*
    };
}

fn visitor_expects<'de, V: Visitor<'de>>(visitor: &V) -> String {
    struct Expecting<'a, V>(&'a V);
    impl<'de, V: Visitor<'de>> fmt::Display for Expecting<'_, V> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.expecting(f)
        }
    }
    Expecting(visitor).to_string()
}

impl<'de> Deserializer<'de> for Text<'de> {
    type Error = DeserializeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.0)
    }

    parsed! {
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_i128 => visit_i128,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_u128 => visit_u128,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
        deserialize_char => visit_char,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(BorrowedStrDeserializer::<DeserializeError>::new(self.0))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.0.is_empty() {
            visitor.visit_unit()
        } else {
            Err(DeserializeError(format!("{:?} is not empty", self.0)))
        }
    }

    serde::forward_to_deserialize_any! {
        str string bytes byte_buf unit_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Find<'a> {
        type_name: &'a str,
        max_results: Option<u32>,
        #[serde(default)]
        attributes: Vec<String>,
        sort: Option<bool>,
    }

    #[test]
    fn fields_sequences_and_numbers() {
        let params = ParamList::from_urlencoded(
            b"type_name=user&max_results=10&attributes=email&attributes=uuid&sort=true",
        )
        .unwrap();
        let find: Find<'_> = from_params(&params).unwrap();
        assert_eq!(
            find,
            Find {
                type_name: "user",
                max_results: Some(10),
                attributes: vec!["email".into(), "uuid".into()],
                sort: Some(true),
            }
        );
        let one = ParamList::from_urlencoded(b"type_name=user&attributes=email").unwrap();
        let find: Find<'_> = from_params(&one).unwrap();
        assert_eq!(find.attributes, ["email"]);
        assert_eq!(find.max_results, None);
    }

    #[test]
    fn clear_errors() {
        let twice = ParamList::from_urlencoded(b"type_name=a&type_name=b").unwrap();
        let e = from_params::<Find<'_>>(&twice).unwrap_err();
        assert!(e.to_string().contains("appears 2 times"), "{e}");
        let nan = ParamList::from_urlencoded(b"type_name=a&max_results=ten").unwrap();
        let e = from_params::<Find<'_>>(&nan).unwrap_err();
        assert!(e.to_string().contains("\"ten\""), "{e}");
        let missing = ParamList::from_urlencoded(b"max_results=1").unwrap();
        assert!(from_params::<Find<'_>>(&missing).is_err());
        let bytes = ParamList::from_urlencoded(b"type_name=%FF").unwrap();
        assert!(from_params::<Find<'_>>(&bytes).is_err());
    }

    #[test]
    fn maps_take_every_key() {
        let params = ParamList::from_urlencoded(b"a=1&b=2&a=3").unwrap();
        let map: std::collections::BTreeMap<String, Vec<String>> = from_params(&params).unwrap();
        assert_eq!(map["a"], ["1", "3"]);
        assert_eq!(map["b"], ["2"]);
    }
}
