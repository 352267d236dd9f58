//! Known-answer tests: every vector of `tests/data/vectors.json`, byte for byte.
//!
//! For each signature vector: the string to sign in the form its `variant` names, the
//! `Authorization` header, the `Date` header, that the variant is reproduced by its option and
//! not by the canonical form (and that canonical vectors are not reproduced by a variant where
//! the variant's bytes differ), and that `ApiClient::verify_signature` accepts the signature with
//! the right list of forms and refuses it without; and that the plain `scheme::reference` gives
//! the same string and signature. For the Basic vector: the header, and parsing
//! it padded and unpadded.

use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::scheme::{
    Authorization, Canonicalization, Datetime, ParamOrder, SigningKey, StringToSign, basic_header,
    reference, signature_header,
};
use serde::Deserialize;

const VECTORS: &str = include_str!("../data/vectors.json");

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
    basic: Vec<Basic>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    endpoint: String,
    datetime: String,
    params: Vec<(String, String)>,
    client_id: String,
    secret: String,
    string_to_sign: String,
    authorization: String,
    date_header: String,
    variant: String,
}

#[derive(Deserialize)]
struct Basic {
    name: String,
    client_id: String,
    secret: String,
    credentials: String,
    authorization: String,
}

fn load() -> File {
    serde_json::from_str(VECTORS).expect("tests/data/vectors.json parses")
}

/// The form a vector's `variant` names.
fn form_of(v: &Vector) -> Canonicalization {
    match v.variant.as_str() {
        "canonical" => Canonicalization::CANONICAL,
        "empty_params_blank_line=True" => {
            Canonicalization::CANONICAL.with_blank_line_without_params(true)
        }
        "order=key" => Canonicalization::CANONICAL.with_order(ParamOrder::Key),
        other => panic!("vector {}: unknown variant {other:?}", v.name),
    }
}

/// The two single-option variants, each different from canonical in one way.
const VARIANTS: [Canonicalization; 2] = [
    Canonicalization::CANONICAL.with_blank_line_without_params(true),
    Canonicalization::CANONICAL.with_order(ParamOrder::Key),
];

impl Vector {
    fn sts(&self, form: Canonicalization) -> StringToSign<'_, [(String, String)]> {
        StringToSign::new(&self.endpoint, &self.datetime, self.params.as_slice()).with_form(form)
    }

    fn header(&self, form: Canonicalization) -> String {
        let id = ClientId::new(&self.client_id)
            .unwrap_or_else(|e| panic!("vector {}: client id: {e}", self.name));
        let sig = SigningKey::new(&self.secret).sign(&self.sts(form));
        let value = signature_header(&id, &sig);
        value
            .to_str()
            .unwrap_or_else(|e| panic!("vector {}: header is not text: {e}", self.name))
            .to_owned()
    }

    /// The base64 signature of the vector's `authorization`, through the header parser.
    fn expected_signature(&self) -> String {
        match Authorization::parse(self.authorization.as_bytes()) {
            Ok(Authorization::Signature(creds)) => {
                assert_eq!(
                    creds.client_id(),
                    self.client_id,
                    "vector {}: client id in the header",
                    self.name
                );
                creds.signature().to_owned()
            }
            other => panic!(
                "vector {}: {:?} does not parse as Signature credentials: {other:?}",
                self.name, self.authorization
            ),
        }
    }

    fn client(&self) -> ApiClient {
        ApiClient::new(
            ClientId::new(&self.client_id).expect("valid client id"),
            ClientSecret::new(self.secret.clone()).expect("non-empty secret"),
        )
    }
}

fn show(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

#[test]
fn the_file_has_the_expected_vectors() {
    let file = load();
    assert_eq!(
        file.vectors.len(),
        15,
        "signature vectors in tests/data/vectors.json"
    );
    assert_eq!(
        file.basic.len(),
        1,
        "basic vectors in tests/data/vectors.json"
    );
    let variants: Vec<&str> = file.vectors.iter().map(|v| v.variant.as_str()).collect();
    assert!(variants.contains(&"empty_params_blank_line=True"));
    assert!(variants.contains(&"order=key"));
}

#[test]
fn string_to_sign_byte_for_byte() {
    for v in load().vectors {
        let sts = v.sts(form_of(&v));
        let bytes = sts.to_bytes();
        assert_eq!(
            bytes,
            v.string_to_sign.as_bytes(),
            "vector {}: string to sign\n  got  {}\n  want {}",
            v.name,
            show(&bytes),
            show(v.string_to_sign.as_bytes())
        );
        assert_eq!(sts.len(), bytes.len(), "vector {}: len()", v.name);
        // The streaming writer gives the same bytes.
        let mut streamed = Vec::new();
        sts.write(|piece| streamed.extend_from_slice(piece));
        assert_eq!(streamed, bytes, "vector {}: write()", v.name);
    }
}

/// The plain reference the property tests and fuzz targets compare with gives every vector's
/// string and signature too, so that it is held to the known answers and not only to the fast
/// path.
#[test]
fn the_plain_reference_reproduces_every_vector() {
    for v in load().vectors {
        let plain = reference::string_to_sign(&v.endpoint, &v.datetime, &v.params, form_of(&v));
        assert_eq!(
            plain,
            v.string_to_sign.as_bytes(),
            "vector {}: plain string to sign\n  got  {}",
            v.name,
            show(&plain)
        );
        assert_eq!(
            reference::signature(v.secret.as_bytes(), &plain),
            v.expected_signature(),
            "vector {}: plain signature",
            v.name
        );
    }
}

#[test]
fn authorization_header() {
    for v in load().vectors {
        let header = v.header(form_of(&v));
        assert_eq!(
            header, v.authorization,
            "vector {}: Authorization header",
            v.name
        );
        assert_eq!(
            v.sts(form_of(&v)).to_bytes(),
            v.string_to_sign.as_bytes(),
            "vector {}",
            v.name
        );
    }
}

#[test]
fn date_header_is_the_datetime() {
    for v in load().vectors {
        assert_eq!(v.date_header, v.datetime, "vector {}: Date header", v.name);
        // Every datetime but the RFC 1123 one of the published example is the strict form,
        // and formats back to itself.
        match v.datetime.parse::<Datetime>() {
            Ok(dt) => assert_eq!(dt.to_string(), v.datetime, "vector {}: datetime", v.name),
            Err(_) => assert_eq!(
                v.name, "doc_example_rfc1123_date",
                "vector {}: datetime",
                v.name
            ),
        }
    }
}

#[test]
fn the_published_doc_value_is_reproduced() {
    let file = load();
    let v = file
        .vectors
        .iter()
        .find(|v| v.name == "doc_example_rfc1123_date")
        .expect("vector 2 present");
    assert_eq!(
        v.header(Canonicalization::CANONICAL),
        "Signature apkrahlfumwse2e9nvrrotv6vchuptzw:Pm0y2b8b/tH4HrEqKqSm7zQk1s8="
    );
    let sig = SigningKey::new("rylicq8ydkz0vmki3gqaoxbk4gyrr05t").sign(&StringToSign::new(
        "/entity.find",
        "Fri, 26 Feb 2016 19:08:44 GMT",
        &[
            ("entity_type", "user"),
            ("filter", "lastUpdated >= '2016-01-01'"),
        ],
    ));
    assert_eq!(sig.as_str(), "Pm0y2b8b/tH4HrEqKqSm7zQk1s8=");
}

#[test]
fn variants_are_reproduced_only_by_their_option() {
    for v in load().vectors {
        let form = form_of(&v);
        if form == Canonicalization::CANONICAL {
            // Canonical vectors: a variant that changes the bytes changes the signature.
            for variant in VARIANTS {
                let bytes = v.sts(variant).to_bytes();
                if bytes != v.string_to_sign.as_bytes() {
                    assert_ne!(
                        v.header(variant),
                        v.authorization,
                        "vector {}: reproduced by the variant {variant:?} too",
                        v.name
                    );
                }
            }
        } else {
            let canonical = v.sts(Canonicalization::CANONICAL).to_bytes();
            assert_ne!(
                canonical,
                v.string_to_sign.as_bytes(),
                "vector {}: the canonical form gives the variant's bytes",
                v.name
            );
            assert_ne!(
                v.header(Canonicalization::CANONICAL),
                v.authorization,
                "vector {}: reproduced by the canonical form",
                v.name
            );
            assert_eq!(
                v.header(form),
                v.authorization,
                "vector {}: variant {}",
                v.name,
                v.variant
            );
        }
    }
}

#[test]
fn the_key_order_variant_pair_differs_only_in_order() {
    let file = load();
    let line = file
        .vectors
        .iter()
        .find(|v| v.name == "key_prefix_line_sort")
        .unwrap();
    let key = file
        .vectors
        .iter()
        .find(|v| v.name == "key_prefix_key_sort")
        .unwrap();
    assert_eq!(line.params, key.params);
    assert_ne!(line.authorization, key.authorization);
    let no_params = file.vectors.iter().find(|v| v.name == "no_params").unwrap();
    let blank = file
        .vectors
        .iter()
        .find(|v| v.name == "no_params_doc_sample_form")
        .unwrap();
    assert_eq!(
        format!("{}\n", no_params.string_to_sign),
        blank.string_to_sign,
        "the blank-line form adds one newline"
    );
}

#[test]
fn api_client_verifies_with_the_right_forms() {
    for v in load().vectors {
        let client = v.client();
        let sig = v.expected_signature();
        let form = form_of(&v);
        let base = v.sts(Canonicalization::CANONICAL);
        let with_variant = [Canonicalization::CANONICAL, form];
        assert_eq!(
            client.verify_signature(&base, &with_variant, sig.as_bytes()),
            Some(form),
            "vector {}: refused with forms {with_variant:?}",
            v.name
        );
        // Every form a verifier might enable, in either order, still accepts it.
        let all = [
            Canonicalization::CANONICAL,
            VARIANTS[0],
            VARIANTS[1],
            Canonicalization::SAMPLE_CODE,
        ];
        assert!(
            client
                .verify_signature(&base, &all, sig.as_bytes())
                .is_some(),
            "vector {}: refused with every form enabled",
            v.name
        );
        if form == Canonicalization::CANONICAL {
            // A verifier with only variants enabled accepts a canonical signature only where
            // the variant gives the same bytes.
            for variant in VARIANTS {
                let same = v.sts(variant).to_bytes() == v.string_to_sign.as_bytes();
                assert_eq!(
                    client
                        .verify_signature(&base, &[variant], sig.as_bytes())
                        .is_some(),
                    same,
                    "vector {}: with only {variant:?}",
                    v.name
                );
            }
        } else {
            assert_eq!(
                client.verify_signature(&base, &[Canonicalization::CANONICAL], sig.as_bytes()),
                None,
                "vector {}: accepted without the variant {}",
                v.name,
                v.variant
            );
        }
        // Another secret never verifies.
        let other = ApiClient::new(
            ClientId::new(&v.client_id).unwrap(),
            ClientSecret::new(format!("{}x", v.secret)).unwrap(),
        );
        assert_eq!(
            other.verify_signature(&base, &all, sig.as_bytes()),
            None,
            "vector {}: accepted under another secret",
            v.name
        );
    }
}

#[test]
fn signing_key_verify_agrees() {
    for v in load().vectors {
        let key = SigningKey::new(&v.secret);
        let sig = v.expected_signature();
        assert!(
            key.verify(&v.sts(form_of(&v)), sig.as_bytes()),
            "vector {}",
            v.name
        );
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        assert!(
            !key.verify(&v.sts(form_of(&v)), &flipped),
            "vector {}: flipped",
            v.name
        );
    }
}

#[test]
fn basic_vector() {
    for b in load().basic {
        let id = ClientId::new(&b.client_id).unwrap();
        let secret = ClientSecret::new(b.secret.clone()).unwrap();
        assert_eq!(
            format!("{}:{}", b.client_id, b.secret),
            b.credentials,
            "vector {}",
            b.name
        );
        let header = basic_header(&id, &secret);
        assert_eq!(
            header,
            b.authorization.as_str(),
            "vector {}: Basic header",
            b.name
        );
        assert_eq!(
            b.authorization, "Basic YWJjZGVmZzpoaWprbG1ub3A=",
            "vector {}",
            b.name
        );

        // The padded form, and the unpadded one the documentation prints.
        let unpadded = b.authorization.trim_end_matches('=');
        assert_eq!(unpadded, "Basic YWJjZGVmZzpoaWprbG1ub3A");
        for text in [b.authorization.as_str(), unpadded] {
            match Authorization::parse(text.as_bytes()) {
                Ok(Authorization::Basic(creds)) => {
                    assert_eq!(
                        creds.client_id().as_str(),
                        "abcdefg",
                        "vector {}: {text}",
                        b.name
                    );
                    assert_eq!(
                        creds.secret().expose(),
                        "hijklmnop",
                        "vector {}: {text}",
                        b.name
                    );
                }
                other => panic!("vector {}: {text:?} parsed as {other:?}", b.name),
            }
        }
    }
}
