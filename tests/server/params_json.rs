//! Both sides agree on Janrain's parameter conventions: what `JanrainClient` (its
//! `client::encode`) sends, `VerifiedParams::deserialize` reads back as the same value, lists,
//! objects, structs and JSON values included; by a property test over random values, and over
//! real HTTP behind the verification layer.

use janrain_auth_test_support as support;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::routing::post;
use janrain_auth::client::encode::to_params;
use janrain_auth::client::{JanrainClient, RequestSigner};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::params::{ParamList, encode_urlencoded};
use janrain_auth::server::{ClientsFile, VerifiedParams, VerifyLayer};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use support::{CLIENTS, READER};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Address {
    city: String,
    zip: Option<u32>,
    lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Dot,
    Line(i64),
    Box { width: u32, label: String },
}

/// A call's parameters with every kind of field a Janrain call uses, and some it could.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Everything {
    type_name: String,
    text: String,
    maybe: Option<String>,
    max_results: u32,
    offset: i64,
    big: u64,
    ratio: f64,
    flag: bool,
    letter: char,
    attributes: Vec<String>,
    numbers: Option<Vec<i64>>,
    address: Address,
    addresses: Vec<Address>,
    labels: BTreeMap<String, i64>,
    pair: (u8, bool),
    shape: Shape,
    other: Shape,
    value: Value,
}

/// JSON values without floats (a float inside JSON text reads back within an ulp, not to the
/// bit), nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map(any::<String>(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A list or an object at the top: the JSON text a `Value` field reads as that structure
/// (other text is a string, see `scalar_values_are_text`).
fn json_structure() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(json_value(), 0..4).prop_map(Value::from),
        prop::collection::btree_map(any::<String>(), json_value(), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ]
}

fn address() -> impl Strategy<Value = Address> {
    (
        any::<String>(),
        any::<Option<u32>>(),
        prop::collection::vec(any::<String>(), 0..3),
    )
        .prop_map(|(city, zip, lines)| Address { city, zip, lines })
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Dot),
        any::<i64>().prop_map(Shape::Line),
        (any::<u32>(), any::<String>()).prop_map(|(width, label)| Shape::Box { width, label }),
    ]
}

fn everything() -> impl Strategy<Value = Everything> {
    (
        (
            any::<String>(),
            any::<String>(),
            any::<Option<String>>(),
            any::<u32>(),
            any::<i64>(),
            any::<u64>(),
            prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
            any::<bool>(),
            any::<char>(),
        ),
        (
            prop::collection::vec(any::<String>(), 0..4),
            proptest::option::of(prop::collection::vec(any::<i64>(), 0..4)),
            address(),
            prop::collection::vec(address(), 0..3),
            prop::collection::btree_map(any::<String>(), any::<i64>(), 0..4),
            any::<(u8, bool)>(),
            shape(),
            shape(),
            json_structure(),
        ),
    )
        .prop_map(
            |(
                (type_name, text, maybe, max_results, offset, big, ratio, flag, letter),
                (attributes, numbers, address, addresses, labels, pair, shape, other, value),
            )| Everything {
                type_name,
                text,
                maybe,
                max_results,
                offset,
                big,
                ratio,
                flag,
                letter,
                attributes,
                numbers,
                address,
                addresses,
                labels,
                pair,
                shape,
                other,
                value,
            },
        )
}

/// What the server reads from what the client sends: encoded by Janrain's rule, written as a
/// form body, decoded as the layer decodes it, deserialized as a handler does.
fn round_trip<T: Serialize + for<'de> Deserialize<'de>>(value: &T) -> Result<T, String> {
    read_as(value)
}

/// What the server reads, into another type than the one sent.
fn read_as<S: Serialize, T: for<'de> Deserialize<'de>>(value: &S) -> Result<T, String> {
    let params = to_params(value).map_err(|e| e.to_string())?;
    let body = encode_urlencoded(&params);
    let list = ParamList::from_urlencoded(body.as_bytes()).map_err(|e| e.to_string())?;
    let pairs: Vec<(String, String)> = list.to_pairs_lossy();
    let verified = VerifiedParams::for_test(pairs).map_err(|e| e.to_string())?;
    verified.deserialize().map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn what_the_client_sends_the_server_reads_back(value in everything()) {
        prop_assert_eq!(round_trip(&value).unwrap(), value);
    }

    /// A map of JSON values (an untyped handler) reads lists and objects back as they were.
    #[test]
    fn untyped_handlers_read_lists_and_objects(
        map in prop::collection::btree_map("[a-z_]{1,8}", json_structure(), 0..5),
    ) {
        prop_assert_eq!(round_trip(&map).unwrap(), map);
    }
}

#[test]
fn scalar_values_are_text() {
    // The encoding of a string and of a number can be the same text: a `Value` field takes
    // text that is not a JSON list or object as a string; typed fields parse it.
    let sent = json!({"n": 10, "s": "10", "b": true, "list": [1, "a"], "text": "[not json"});
    let back: BTreeMap<String, Value> = read_as(&sent).unwrap();
    assert_eq!(back["n"], "10");
    assert_eq!(back["s"], "10");
    assert_eq!(back["b"], "true");
    assert_eq!(back["list"], json!([1, "a"]));
    assert_eq!(back["text"], "[not json");
    #[derive(Deserialize)]
    struct Typed {
        n: u32,
        s: String,
        b: bool,
    }
    let typed: Typed = read_as(&sent).unwrap();
    assert_eq!((typed.n, typed.s.as_str(), typed.b), (10, "10", true));
}

#[tokio::test]
async fn over_http_behind_the_layer() {
    async fn echo(params: VerifiedParams) -> axum::Json<Value> {
        axum::Json(match params.deserialize::<Everything>() {
            Ok(read) => json!({"stat": "ok", "read": read}),
            Err(e) => {
                json!({"stat": "error", "code": 200, "error": "invalid_argument", "error_description": e.to_string()})
            }
        })
    }
    let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    let layer = VerifyLayer::builder(store).token_verifier(tokens).build();
    let app = axum::Router::new()
        .route("/entity.find", post(echo))
        .layer(layer);
    let base = support::serve_app(app).await;
    let reader = Arc::new(ApiClient::new(
        ClientId::new(READER.0).unwrap(),
        ClientSecret::new(READER.1).unwrap(),
    ));
    let janrain = JanrainClient::new(
        RequestSigner::builder(reader)
            .base_url(&base)
            .build()
            .unwrap(),
    )
    .unwrap();
    let sent = Everything {
        type_name: "user".into(),
        text: "[\"looks\", \"like\", \"json\"] & = + %".into(),
        maybe: None,
        max_results: 100,
        offset: -3,
        big: u64::MAX,
        ratio: 1e-5,
        flag: true,
        letter: 'ë',
        attributes: vec!["uuid".into(), "primaryAddress.city".into()],
        numbers: Some(vec![]),
        address: Address {
            city: "Zoë's \"town\"\n".into(),
            zip: Some(75001),
            lines: vec!["1 rue".into()],
        },
        addresses: vec![],
        labels: BTreeMap::from([("é".to_owned(), -1)]),
        pair: (7, false),
        shape: Shape::Box {
            width: 2,
            label: "😀".into(),
        },
        other: Shape::Dot,
        value: json!({"givenName": "Zoë", "nested": [1, {"a": null}]}),
    };
    #[derive(Deserialize)]
    struct Answer {
        read: Everything,
    }
    let answer: Answer = janrain.call("entity.find", &sent).await.unwrap();
    assert_eq!(answer.read, sent);
}
