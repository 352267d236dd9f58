//! What the benches share: the typical signed form POST (a traditional sign-in form's six
//! parameters) and the client that signs it.

#![allow(dead_code)]

/// The `Date` every bench request carries (and every bench clock shows).
pub const DATE: &str = "2026-03-01 12:00:00";
/// The bench client's id.
pub const CLIENT_ID: &str = "apkrahlfumwse2e9nvrrotv6vchuptzw";
/// The bench client's secret.
pub const SECRET: &str = "rylicq8ydkz0vmki3gqaoxbk4gyrr05t";
/// The typical parameters: 6 of them, a 261-byte string to sign for `/entity.update`.
pub const PARAMS: [(&str, &str); 6] = [
    ("type_name", "user"),
    ("uuid", "7d19b8a2-5c4e-4f7b-9a61-2f0c3e8d1b44"),
    (
        "attributes",
        r#"["uuid", "email", "givenName", "familyName"]"#,
    ),
    ("value", r#"{"givenName": "Zoë", "familyName": "Example"}"#),
    ("include_record", "true"),
    ("created", "2016-02-26 19:08:44"),
];
