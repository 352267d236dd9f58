//! Janrain's parameter encoding: every JSON type, nested values, unicode, floats and `null`,
//! against the bytes Janrain's Python client produces (`api_encode`, whose JSON text is
//! `json.dumps` with its default settings). Each expected string below is what CPython 3
//! prints for the same value.

use std::collections::BTreeMap;

use janrain_auth::client::encode::{EncodeError, param_value, to_json_text, to_params};
use janrain_auth::params::{ParamList, encode_urlencoded};
use serde::Serialize;
use serde_json::json;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[derive(Serialize)]
struct Name<'a> {
    #[serde(rename = "givenName")]
    given_name: &'a str,
    #[serde(rename = "familyName")]
    family_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Order {
    Ascending,
}

#[derive(Serialize)]
struct Every<'a> {
    text: &'a str,
    empty: &'a str,
    yes: bool,
    no: bool,
    int: i64,
    negative: i32,
    big: u64,
    float: f64,
    whole_float: f64,
    tiny: f64,
    huge: f64,
    single: f32,
    letter: char,
    order: Order,
    missing: Option<u32>,
    unit: (),
    present: Option<u32>,
    list: Vec<&'a str>,
    empty_list: Vec<u8>,
    tuple: (i32, &'a str, bool),
    nested: Name<'a>,
    map: BTreeMap<&'a str, Option<i32>>,
}

/// Every scalar becomes its text, `None` and `()` leave the parameter out, and compound values
/// become JSON text with Python's separators, in field order.
#[test]
fn every_type_by_the_python_rule() {
    let params = to_params(&Every {
        text: "this is a string",
        empty: "",
        yes: true,
        no: false,
        int: 10,
        negative: -3,
        big: u64::MAX,
        float: 1.5,
        whole_float: 10.0,
        tiny: 1e-5,
        huge: 1e16,
        single: 0.1,
        letter: 'x',
        order: Order::Ascending,
        missing: None,
        unit: (),
        present: Some(0),
        list: vec!["uuid", "email"],
        empty_list: vec![],
        tuple: (1, "a", false),
        nested: Name {
            given_name: "Ann",
            family_name: None,
        },
        map: BTreeMap::from([("a", Some(1)), ("b", None)]),
    })
    .unwrap();
    assert_eq!(
        params,
        pairs(&[
            ("text", "this is a string"),
            ("empty", ""),
            ("yes", "true"),
            ("no", "false"),
            ("int", "10"),
            ("negative", "-3"),
            ("big", "18446744073709551615"),
            ("float", "1.5"),
            ("whole_float", "10.0"),
            ("tiny", "1e-05"),
            ("huge", "1e+16"),
            ("single", "0.1"),
            ("letter", "x"),
            ("order", "ascending"),
            ("present", "0"),
            ("list", r#"["uuid", "email"]"#),
            ("empty_list", "[]"),
            ("tuple", r#"[1, "a", false]"#),
            ("nested", r#"{"givenName": "Ann", "familyName": null}"#),
            ("map", r#"{"a": 1, "b": null}"#),
        ])
    );
}

/// A `serde_json::Value` object: every JSON type, nested, as the Python client writes the same
/// dict (serde_json's map is sorted by key, so the Python dict here is too).
#[test]
fn json_values_of_every_type() {
    let value = json!({
        "a_null": null,
        "b_true": true,
        "c_false": false,
        "d_int": -42,
        "e_float": 2.5,
        "f_exp": 1.25e-7,
        "g_string": "plain",
        "h_array": [1, 2.0, "three", null, true, [], {}],
        "i_object": {"k": {"deep": [{"x": 1}]}, "e": ""},
        "j_empty_object": {},
    });
    let params = to_params(&value).unwrap();
    assert_eq!(
        params,
        pairs(&[
            ("b_true", "true"),
            ("c_false", "false"),
            ("d_int", "-42"),
            ("e_float", "2.5"),
            ("f_exp", "1.25e-07"),
            ("g_string", "plain"),
            ("h_array", r#"[1, 2.0, "three", null, true, [], {}]"#),
            ("i_object", r#"{"e": "", "k": {"deep": [{"x": 1}]}}"#),
            ("j_empty_object", "{}"),
        ]),
        "a top-level null leaves the parameter out"
    );
}

/// Unicode: a top-level string goes as its UTF-8 text; inside JSON text every character
/// outside printable ASCII is a `\uXXXX` escape (surrogate pairs beyond the BMP), and quotes,
/// backslashes and control characters get JSON's short escapes.
#[test]
fn unicode_and_escapes() {
    let value = json!({
        "name": "Zoë Ωmega 😀",
        "value": {"givenName": "Zoë", "familyName": "Ωmega 😀", "city": "München"},
        "escapes": ["quote\" backslash\\ slash/", "nl\n cr\r tab\t bs\u{8} ff\u{c}", "nul\u{0} us\u{1f} del\u{7f}"],
    });
    let params = to_params(&value).unwrap();
    assert_eq!(
        params,
        pairs(&[
            (
                "escapes",
                r#"["quote\" backslash\\ slash/", "nl\n cr\r tab\t bs\b ff\f", "nul\u0000 us\u001f del\u007f"]"#
            ),
            ("name", "Zoë Ωmega 😀"),
            (
                "value",
                r#"{"city": "M\u00fcnchen", "familyName": "\u03a9mega \ud83d\ude00", "givenName": "Zo\u00eb"}"#
            ),
        ])
    );
    // Map keys are escaped the same way.
    assert_eq!(
        to_json_text(&BTreeMap::from([("clé", 1)])).unwrap(),
        r#"{"cl\u00e9": 1}"#
    );
}

/// Floats anywhere follow Python's repr: plain decimals with a fraction from 1e-4 to below 1e16,
/// a signed two-digit-minimum exponent outside that.
#[test]
fn floats_nested_and_top_level() {
    let floats = [
        0.0, -0.0, 1.0, 0.1, 123.456, 1e15, 1e16, 1e-4, 1e-5, 1e100, 6.02e23,
    ];
    let text = to_json_text(&floats).unwrap();
    assert_eq!(
        text,
        "[0.0, -0.0, 1.0, 0.1, 123.456, 1000000000000000.0, 1e+16, 0.0001, 1e-05, 1e+100, 6.02e+23]"
    );
    for f in floats {
        let top = param_value("f", &f).unwrap().unwrap();
        assert_eq!(to_json_text(&[f]).unwrap(), format!("[{top}]"), "{f}");
    }
}

/// A NaN or infinite float is an error as a parameter (naming it, not its value), and `null`
/// inside JSON text, as serde_json writes it.
#[test]
fn non_finite_floats() {
    let err = to_params(&json!({"ok": 1})).map(|_| ()).and_then(|()| {
        #[derive(Serialize)]
        struct P {
            ratio: f64,
        }
        to_params(&P { ratio: f64::NAN })
    });
    match err {
        Err(EncodeError::NonFiniteFloat { key }) => assert_eq!(key, "ratio"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        to_json_text(&[f64::INFINITY, f64::NAN]).unwrap(),
        "[null, null]"
    );
}

/// `None`, `()` and unit structs are "no parameters"; anything that is not a struct or a map is
/// refused with a clear error; map keys may be numbers or booleans but not compound values.
#[test]
fn shapes() {
    assert_eq!(to_params(&()).unwrap(), vec![]);
    assert_eq!(
        to_params(&None::<BTreeMap<String, String>>).unwrap(),
        vec![]
    );
    let some = Some(BTreeMap::from([("k", "v")]));
    assert_eq!(to_params(&some).unwrap(), pairs(&[("k", "v")]));
    for (value, found) in [
        (json!([1, 2]), "a sequence"),
        (json!("text"), "a string"),
        (json!(3), "a number"),
        (json!(true), "a bool"),
    ] {
        let err = to_params(&value).unwrap_err();
        assert!(
            matches!(err, EncodeError::NotAMap { found: f } if f == found),
            "{value}: {err}"
        );
        assert!(err.to_string().contains("struct or a map"), "{err}");
    }
    assert_eq!(
        to_params(&BTreeMap::from([(1, "one"), (2, "two")])).unwrap(),
        pairs(&[("1", "one"), ("2", "two")])
    );
    assert_eq!(
        to_params(&BTreeMap::from([(true, 1)])).unwrap(),
        pairs(&[("true", "1")])
    );
    let err = to_params(&BTreeMap::from([((1, 2), "pair")])).unwrap_err();
    assert!(matches!(err, EncodeError::KeyNotText { .. }), "{err}");
    // A key whose value is None is left out, key and all.
    assert_eq!(
        to_params(&BTreeMap::from([("a", None), ("b", Some("x"))])).unwrap(),
        pairs(&[("b", "x")])
    );
}

/// Errors never carry parameter values (a value may be a password).
#[test]
fn errors_name_parameters_not_values() {
    #[derive(Serialize)]
    struct Login {
        password: &'static str,
        weight: f32,
    }
    let err = to_params(&Login {
        password: "hunter2",
        weight: f32::NAN,
    })
    .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("weight"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

/// The encoded parameters survive the form body: encoded with the crate's form encoder and
/// decoded by the same decoder the verifier uses, they come back byte for byte.
#[test]
fn round_trip_through_a_form_body() {
    let value = json!({
        "type_name": "user",
        "filter": "email = 'a@b.example' and lastUpdated >= '2016-01-01'",
        "attributes": ["uuid", "email"],
        "value": {"givenName": "Zoë", "note": "a=b&c\nd"},
        "max_results": 10,
    });
    let params = to_params(&value).unwrap();
    let body = encode_urlencoded(&params);
    let decoded = ParamList::from_urlencoded(body.as_bytes())
        .unwrap()
        .to_pairs_lossy();
    assert_eq!(decoded, params);
}

fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// Python-style JSON text is ASCII and reads back as the same JSON as serde_json's own
    /// text for the value, whatever the value. (Both are read by serde_json, whose default
    /// float parser may miss by one unit in the last place: the floats' own exactness is the
    /// next property's.)
    #[test]
    fn json_text_reads_back(value in json_value()) {
        let text = to_json_text(&value).unwrap();
        proptest::prop_assert!(text.is_ascii());
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        let plain: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&value).unwrap()).unwrap();
        proptest::prop_assert_eq!(back, plain);
    }

    /// A float's text reads back as the same float, and is the same at the top level and
    /// inside JSON text.
    #[test]
    fn float_text_reads_back(f in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
        let text = param_value("f", &f).unwrap().unwrap();
        proptest::prop_assert_eq!(text.parse::<f64>().unwrap().to_bits(), f.to_bits());
        proptest::prop_assert_eq!(to_json_text(&f).unwrap(), text);
    }
}
