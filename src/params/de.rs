//! Parameters into serde types: each key is a field; text is parsed into numbers and booleans
//! where the field asks for them; lists, objects and enum variants with data are read from JSON
//! text, as Janrain's clients send them; a repeated key is a sequence.

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
            [one] => Ok(Text {
                key: self.key,
                text: one,
            }),
            many => Err(DeserializeError(format!(
                "the parameter {} appears {} times; use a sequence field to take every value",
                self.key,
                many.len()
            ))),
        }
    }

    /// Each value as an element of a sequence.
    fn each(self) -> SeqDeserializer<impl Iterator<Item = Text<'de>>, DeserializeError> {
        let key = self.key;
        SeqDeserializer::new(self.values.into_iter().map(move |text| Text { key, text }))
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

    /// One value that is JSON text of a list is that list (as Janrain's clients send lists);
    /// otherwise every value of the key is an element (a repeated key, or one plain value).
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if let [one] = self.values.as_slice()
            && opens(one, b'[')
        {
            return self.single()?.deserialize_seq(visitor);
        }
        let mut seq = self.each();
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

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    /// One value as [`Text`] reads it; a repeated key as the sequence of its values.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.values.len() == 1 {
            return self.single()?.deserialize_any(visitor);
        }
        let mut seq = self.each();
        let value = visitor.visit_seq(&mut seq)?;
        seq.end()?;
        Ok(value)
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
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_unit deserialize_map deserialize_identifier deserialize_ignored_any
    }
}

/// Whether `text` begins, after any whitespace, with `open` (`[` or `{`).
fn opens(text: &str, open: u8) -> bool {
    text.trim_start().as_bytes().first() == Some(&open)
}

/// One value's text. Text fields take it as it is; numbers and booleans are parsed from it;
/// sequences, maps, structs and enum variants with data read it as JSON text, the way Janrain's
/// clients write them (`["uuid", "email"]`, `{"givenName": "Zoë"}`). A field of any type
/// (`serde_json::Value`) reads JSON text of a list or an object as that structure, and any
/// other text as a string.
struct Text<'de> {
    key: &'de str,
    text: &'de str,
}

impl<'de> Text<'de> {
    /// Read the text as JSON with `read`; `what` names what it should be, in errors.
    fn json<T>(
        self,
        what: &str,
        read: impl FnOnce(
            &mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
        ) -> Result<T, serde_json::Error>,
    ) -> Result<T, DeserializeError> {
        let mut json = serde_json::Deserializer::from_str(self.text);
        read(&mut json)
            .and_then(|value| json.end().map(|()| value))
            .map_err(|e| {
                DeserializeError(format!(
                    "the parameter {} is not {what} written as JSON text: {e}",
                    self.key
                ))
            })
    }
}

impl<'de> IntoDeserializer<'de, DeserializeError> for Text<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parsed {
    ($($method:ident => $visit:ident,)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.text.parse() {
                Ok(value) => visitor.$visit(value),
                Err(e) => Err(DeserializeError(format!(
                    "the parameter {}: {:?} is not {}: {e}",
                    self.key,
                    self.text,
                    visitor_expects(&visitor),
                ))),
            }
        })*
    };
}

macro_rules! as_json {
    ($($method:ident($($arg:ident: $ty:ty),*) => $what:literal,)*) => {
        $(fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
            self.json($what, |json| json.$method($($arg,)* visitor))
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
        let structure = opens(self.text, b'[') || opens(self.text, b'{');
        if structure && serde_json::from_str::<de::IgnoredAny>(self.text).is_ok() {
            return self.json("a list or an object", |json| json.deserialize_any(visitor));
        }
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.text)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_bytes(self.text.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_bytes(self.text.as_bytes())
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
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

    as_json! {
        deserialize_seq() => "a list",
        deserialize_tuple(len: usize) => "a list",
        deserialize_tuple_struct(name: &'static str, len: usize) => "a list",
        deserialize_map() => "an object",
        deserialize_struct(name: &'static str, fields: &'static [&'static str]) => "an object",
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

    /// A unit variant by its name; a variant with data as JSON text (`{"Variant": ...}`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if opens(self.text, b'{') || opens(self.text, b'"') {
            return self.json("an enum variant", |json| {
                json.deserialize_enum(name, variants, visitor)
            });
        }
        visitor.visit_enum(BorrowedStrDeserializer::<DeserializeError>::new(self.text))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.text.is_empty() {
            visitor.visit_unit()
        } else {
            Err(DeserializeError(format!(
                "the parameter {}: {:?} is not empty",
                self.key, self.text
            )))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_unit(visitor)
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

    #[derive(Debug, Deserialize, PartialEq)]
    struct Address {
        city: String,
        zip: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Shape {
        Dot,
        Line(u32),
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Update {
        attributes: Vec<String>,
        address: Address,
        value: serde_json::Value,
        plain: serde_json::Value,
        labels: std::collections::BTreeMap<String, i64>,
        text: String,
        pair: (u8, bool),
        dot: Shape,
        line: Shape,
    }

    #[test]
    fn json_text_fills_lists_objects_and_values() {
        let params = ParamList::from_urlencoded(
            "attributes=[\"uuid\", \"email\"]&address={\"city\": \"Paris\"}\
             &value={\"givenName\": \"Zo\\u00eb\", \"age\": 30}&plain=10\
             &labels={\"a\": 1}&text=[\"stays\", \"text\"]&pair=[7, true]\
             &dot=Dot&line={\"Line\": 3}"
                .as_bytes(),
        )
        .unwrap();
        let update: Update = from_params(&params).unwrap();
        assert_eq!(update.attributes, ["uuid", "email"]);
        assert_eq!(
            update.address,
            Address {
                city: "Paris".into(),
                zip: None
            }
        );
        assert_eq!(
            update.value,
            serde_json::json!({"givenName": "Zoë", "age": 30})
        );
        // Text that is not a JSON list or object is text, even where it looks like a number.
        assert_eq!(update.plain, serde_json::json!("10"));
        assert_eq!(update.labels["a"], 1);
        assert_eq!(update.text, r#"["stays", "text"]"#);
        assert_eq!(update.pair, (7, true));
        assert_eq!((update.dot, update.line), (Shape::Dot, Shape::Line(3)));
    }

    #[test]
    fn json_text_errors_name_the_parameter() {
        let bad = ParamList::from_urlencoded(b"attributes=[\"uuid\"").unwrap();
        let e = from_params::<Find<'_>>(&bad).unwrap_err().to_string();
        assert!(e.contains("attributes") && e.contains("a list"), "{e}");
        let wrong = ParamList::from_urlencoded(b"type_name=u&attributes=[1]").unwrap();
        let e = from_params::<Find<'_>>(&wrong).unwrap_err().to_string();
        assert!(e.contains("attributes"), "{e}");
        #[derive(Debug, Deserialize)]
        struct Nested {
            #[allow(dead_code)]
            address: Address,
        }
        let plain = ParamList::from_urlencoded(b"address=Paris").unwrap();
        let e = from_params::<Nested>(&plain).unwrap_err().to_string();
        assert!(e.contains("address") && e.contains("an object"), "{e}");
        let twice = ParamList::from_urlencoded(b"address={}&address={}").unwrap();
        let e = from_params::<Nested>(&twice).unwrap_err().to_string();
        assert!(e.contains("appears 2 times"), "{e}");
        // A value field keeps malformed JSON as the text it is.
        let loose = ParamList::from_urlencoded(b"v=[draft] notes").unwrap();
        let map: std::collections::BTreeMap<String, serde_json::Value> =
            from_params(&loose).unwrap();
        assert_eq!(map["v"], "[draft] notes");
    }

    #[test]
    fn repeated_keys_are_still_sequences() {
        let params =
            ParamList::from_urlencoded(b"a={\"city\":\"x\"}&a={\"city\":\"y\",\"zip\":1}&n=1&n=2")
                .unwrap();
        #[derive(Debug, Deserialize)]
        struct Many {
            a: Vec<Address>,
            n: Vec<u8>,
        }
        let many: Many = from_params(&params).unwrap();
        assert_eq!(many.a[1].zip, Some(1));
        assert_eq!(many.n, [1, 2]);
        let map: std::collections::BTreeMap<String, serde_json::Value> =
            from_params(&params).unwrap();
        assert_eq!(map["n"], serde_json::json!(["1", "2"]));
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
