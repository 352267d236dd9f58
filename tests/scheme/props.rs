//! Properties of the scheme core, checked on generated requests:
//!
//! * (a) sign then verify round-trips, and the signature equals the plain reference's
//!   (`scheme::reference`: lines built one by one and sorted as byte strings, the `hmac`
//!   crate, standard base64);
//! * (b) the order the parameters arrive in never changes the signature, in any form;
//! * (c) changing any one byte of the endpoint, datetime, a key, a value or the secret makes
//!   verification fail;
//! * (d) the parameter codec round-trips, and signing the decoded list equals signing the pairs;
//! * (e) `Datetime` formats and parses back over its whole range; `Authorization::parse` reads
//!   back what `signature_header` and `basic_header` write.
//!
//! Case counts are modest so that the file runs in a few seconds in a debug build.

use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::params::{ParamList, encode_urlencoded};
use janrain_auth::scheme::{
    Authorization, Canonicalization, Datetime, ParamOrder, Params, SigningKey, StringToSign,
    basic_header, reference, signature_header,
};
use proptest::prelude::*;
use proptest::sample::Index;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Never write regression files into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every form a verifier can be configured with.
const FORMS: [Canonicalization; 4] = [
    Canonicalization::CANONICAL,
    Canonicalization::CANONICAL.with_blank_line_without_params(true),
    Canonicalization::CANONICAL.with_order(ParamOrder::Key),
    Canonicalization::SAMPLE_CODE,
];

/// Text that leans on the bytes that matter to the scheme: separators, newlines, URL-encoding
/// metacharacters, prefixes of each other, and arbitrary unicode.
fn text() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => prop::char::range('a', 'e'),
        1 => Just('='),
        1 => Just('\n'),
        1 => Just('&'),
        1 => Just('+'),
        1 => Just('%'),
        1 => Just(' '),
        1 => Just('.'),
        1 => Just('1'),
        2 => any::<char>(),
    ];
    prop::collection::vec(ch, 0..10).prop_map(|v| v.into_iter().collect())
}

/// Keys: often from a small set (so duplicates and prefix pairs such as `key` / `key1` /
/// `key.x` turn up), otherwise arbitrary.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(vec!["", "a", "a=", "key", "key1", "key.x", "key_x", "birthdate"])
            .prop_map(str::to_owned),
        2 => text(),
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((key(), text()), 0..8)
}

fn datetime() -> impl Strategy<Value = String> {
    (Datetime::MIN.unix_seconds()..=Datetime::MAX.unix_seconds())
        .prop_map(|s| Datetime::from_unix_seconds(s).unwrap().to_string())
}

/// Endpoints of the usual lengths, and long ones that overflow the signer's buffer for a
/// request without parameters.
fn endpoint() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "/[ -~]{0,24}",
        1 => "/[ -~]{100,300}",
    ]
}

fn secret() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => "[a-z0-9]{32}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 1..100),
    ]
}

/// The plain reference's signature of the request in `form`.
fn reference_signature(
    secret: &[u8],
    endpoint: &str,
    datetime: &str,
    params: &[(String, String)],
    form: Canonicalization,
) -> String {
    let text = reference::string_to_sign(endpoint, datetime, params, form);
    reference::signature(secret, &text)
}

proptest! {
    #![proptest_config(config(96))]

    /// (a) Sign, verify, and agree with the plain reference.
    #[test]
    fn sign_verify_and_match_the_reference(
        secret in secret(),
        endpoint in endpoint(),
        datetime in datetime(),
        params in params(),
    ) {
        let key = SigningKey::new(&secret);
        let sts = StringToSign::new(&endpoint, &datetime, params.as_slice());
        let sig = key.sign(&sts);
        prop_assert!(key.verify(&sts, sig.as_bytes()));
        prop_assert_eq!(
            sig.as_str(),
            reference_signature(&secret, &endpoint, &datetime, &params, Canonicalization::CANONICAL)
        );

        let key_order = Canonicalization::CANONICAL.with_order(ParamOrder::Key);
        let by_key = key.sign(&sts.with_form(key_order));
        prop_assert_eq!(
            by_key.as_str(),
            reference_signature(&secret, &endpoint, &datetime, &params, key_order)
        );
        // The form that matched is reported, and one that gives other bytes does not match.
        let form = key.verify_forms(&sts, &FORMS, sig.as_bytes());
        prop_assert_eq!(form, Some(Canonicalization::CANONICAL));

        // Borrowed pairs sign the same as owned ones.
        let borrowed: Vec<(&str, &str)> =
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        prop_assert_eq!(key.sign(&StringToSign::new(&endpoint, &datetime, &borrowed)), sig);
    }

    /// (b) Shuffling the parameters never changes the signature, in any form.
    #[test]
    fn request_order_does_not_matter(
        secret in secret(),
        endpoint in endpoint(),
        datetime in datetime(),
        (params, shuffled) in params().prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle())),
    ) {
        let key = SigningKey::new(&secret);
        for form in FORMS {
            let a = StringToSign::new(&endpoint, &datetime, params.as_slice()).with_form(form);
            let b = StringToSign::new(&endpoint, &datetime, shuffled.as_slice()).with_form(form);
            prop_assert_eq!(a.to_bytes(), b.to_bytes(), "form {:?}", form);
            prop_assert_eq!(key.sign(&a), key.sign(&b), "form {:?}", form);
        }
    }

    /// (c) One changed byte anywhere makes verification fail.
    #[test]
    fn any_changed_byte_fails_verification(
        secret in secret(),
        endpoint in endpoint(),
        datetime in datetime(),
        params in params(),
        target in 0..5u8,
        which in any::<Index>(),
        at in any::<Index>(),
        new_byte in any::<u8>(),
    ) {
        let params: Vec<(Vec<u8>, Vec<u8>)> =
            params.into_iter().map(|(k, v)| (k.into_bytes(), v.into_bytes())).collect();
        let key = SigningKey::new(&secret);
        let original = StringToSign::new(&endpoint, &datetime, params.as_slice());
        let sig = key.sign(&original);
        let original = original.to_bytes();

        // A different byte; ASCII for the endpoint and datetime, which are text.
        let replace = |old: u8, ascii: bool| {
            let b = if ascii { new_byte & 0x7f } else { new_byte };
            if b == old { b ^ 1 } else { b }
        };
        let mut endpoint = endpoint.into_bytes();
        let mut datetime = datetime.into_bytes();
        let mut params = params;
        let mut secret = secret;
        match target {
            0 => { let i = at.index(endpoint.len()); endpoint[i] = replace(endpoint[i], true); }
            1 => { let i = at.index(datetime.len()); datetime[i] = replace(datetime[i], true); }
            2 | 3 => {
                // A key or value with at least one byte.
                let candidates: Vec<usize> = (0..params.len())
                    .filter(|&i| if target == 2 { !params[i].0.is_empty() } else { !params[i].1.is_empty() })
                    .collect();
                prop_assume!(!candidates.is_empty());
                let p = &mut params[candidates[which.index(candidates.len())]];
                let field = if target == 2 { &mut p.0 } else { &mut p.1 };
                let i = at.index(field.len());
                field[i] = replace(field[i], false);
            }
            _ => { let i = at.index(secret.len()); secret[i] = replace(secret[i], false); }
        }
        let endpoint = String::from_utf8(endpoint).expect("ASCII stays UTF-8");
        let datetime = String::from_utf8(datetime).expect("ASCII stays UTF-8");
        let changed = StringToSign::new(&endpoint, &datetime, params.as_slice());
        let key_after = SigningKey::new(&secret);

        if target == 4 {
            prop_assert!(!key_after.verify(&changed, sig.as_bytes()), "secret changed");
            prop_assert!(key_after.verify_forms(&changed, &FORMS, sig.as_bytes()).is_none());
        } else {
            // Lines are separated by '\n'; without one inside a key or value, a changed byte
            // always changes the string. (With one, two different requests can share a string
            // to sign: the scheme's own ambiguity.)
            let newline = params.iter().any(|(k, v)| k.contains(&b'\n') || v.contains(&b'\n'));
            let same_bytes = changed.to_bytes() == original;
            if !newline {
                prop_assert!(!same_bytes, "a changed byte left the string to sign unchanged");
            }
            if !same_bytes {
                prop_assert!(!key.verify(&changed, sig.as_bytes()), "target {}", target);
            }
        }
    }

    /// (d) encode_urlencoded then ParamList::from_urlencoded gives the same pairs, and the same
    /// signature.
    #[test]
    fn the_params_codec_round_trips(
        secret in secret(),
        datetime in datetime(),
        params in params(),
    ) {
        let encoded = encode_urlencoded(&params);
        let decoded = ParamList::from_urlencoded(encoded.as_bytes()).expect("under the limit");
        let back: Vec<(Vec<u8>, Vec<u8>)> =
            decoded.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> =
            params.iter().map(|(k, v)| (k.clone().into_bytes(), v.clone().into_bytes())).collect();
        prop_assert_eq!(back, want, "encoded as {:?}", encoded);
        prop_assert_eq!(decoded.param_count(), params.len());

        let key = SigningKey::new(&secret);
        for form in FORMS {
            let from_pairs = key.sign(&StringToSign::new("/e", &datetime, params.as_slice()).with_form(form));
            let from_list = key.sign(&StringToSign::new("/e", &datetime, &decoded).with_form(form));
            prop_assert_eq!(from_pairs, from_list, "form {:?}", form);
        }
    }

    /// (e) Datetime formats and parses back anywhere in 0000-9999.
    #[test]
    fn datetime_round_trips(secs in Datetime::MIN.unix_seconds()..=Datetime::MAX.unix_seconds()) {
        let dt = Datetime::from_unix_seconds(secs).unwrap();
        let text = dt.to_string();
        prop_assert_eq!(text.len(), 19);
        prop_assert_eq!(&dt.to_bytes()[..], text.as_bytes());
        let back: Datetime = text.parse().unwrap();
        prop_assert_eq!(back, dt);
        prop_assert_eq!(back.unix_seconds(), secs);
        prop_assert_eq!(Datetime::parse_bytes(text.as_bytes()).unwrap(), dt);
        prop_assert_eq!(Datetime::from_system_time(dt.to_system_time()).unwrap(), dt);
    }

    /// (e) Authorization::parse reads back the headers this crate writes.
    #[test]
    fn headers_parse_back(
        id in "[!-9;-~]{1,40}",
        secret in "\\PC{1,24}",
        message in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let client_id = ClientId::new(&id).unwrap();
        let key = SigningKey::new(secret.as_bytes());
        let params = [("m", message.as_slice())];
        let sig = key.sign(&StringToSign::new("/e", "2000-01-01 00:00:00", &params));

        let header = signature_header(&client_id, &sig);
        match Authorization::parse(header.as_bytes()) {
            Ok(Authorization::Signature(creds)) => {
                prop_assert_eq!(creds.client_id(), id.as_str());
                prop_assert_eq!(creds.signature(), sig.as_str());
            }
            other => prop_assert!(false, "{:?} parsed as {:?}", header, other),
        }

        let header = basic_header(&client_id, &ClientSecret::new(secret.clone()).unwrap());
        match Authorization::parse(header.as_bytes()) {
            Ok(Authorization::Basic(creds)) => {
                prop_assert_eq!(creds.client_id().as_str(), id.as_str());
                prop_assert_eq!(creds.secret().expose(), secret.as_str());
            }
            other => prop_assert!(false, "Basic header parsed as {:?}", other),
        }
    }
}

/// Raw bytes for the differential test: a small alphabet (so that prefixes, repeats and ties
/// in the first eight bytes are common), the separators, and the extreme bytes.
fn raw_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => prop::sample::select(b"ab".to_vec()),
        1 => Just(b'='),
        1 => Just(b'\n'),
        1 => Just(0u8),
        1 => Just(0xffu8),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..max)
}

/// Keys for the differential test: a shared stem (often longer than eight bytes) and a short
/// tail, or raw bytes, so that keys are prefixes of each other, repeat, or are empty.
fn raw_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => (
            prop::sample::select(vec![&b""[..], b"k", b"key", b"attribute_", b"attribute_0"]),
            raw_bytes(3),
        )
            .prop_map(|(stem, tail)| [stem, &tail[..]].concat()),
        1 => raw_bytes(12),
    ]
}

/// Parameter lists of every size the canonicaliser treats differently: a handful (the usual
/// request), up to 32 (sorted on the stack) and beyond (sorted on the heap).
fn raw_params() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    prop_oneof![
        3 => prop::collection::vec((raw_key(), raw_bytes(6)), 0..9),
        1 => prop::collection::vec((raw_key(), raw_bytes(6)), 9..33),
        1 => prop::collection::vec((raw_key(), raw_bytes(6)), 33..60),
    ]
    .prop_flat_map(|p| {
        // Repeat some parameters whole, and some keys with other values.
        let n = p.len();
        (
            Just(p),
            prop::collection::vec((any::<Index>(), any::<bool>(), raw_bytes(4)), 0..4),
        )
            .prop_map(move |(mut p, repeats)| {
                if n > 0 {
                    for (at, whole, value) in repeats {
                        let (k, v) = p[at.index(n)].clone();
                        p.push((k, if whole { v } else { value }));
                    }
                }
                p
            })
    })
}

proptest! {
    #![proptest_config(config(512))]

    /// The string to sign against the plain reference (a sort of the formatted lines), byte
    /// for byte, in both orders, through every way of reading the string out.
    #[test]
    fn the_canonical_string_equals_a_plain_sort(params in raw_params()) {
        for order in [ParamOrder::Line, ParamOrder::Key] {
            let form = Canonicalization::CANONICAL.with_order(order);
            let want = reference::string_to_sign("/e", "D", &params, form);
            let sts = StringToSign::new("/e", "D", params.as_slice()).with_form(form);
            prop_assert_eq!(sts.len(), want.len());
            prop_assert_eq!(&sts.to_bytes(), &want, "{:?}", order);
            let mut pieces = Vec::new();
            sts.write(|piece| pieces.extend_from_slice(piece));
            prop_assert_eq!(&pieces, &want, "{:?}, by pieces", order);
            let mut appended = b"prefix".to_vec();
            sts.write_into(&mut appended);
            prop_assert_eq!(&appended[6..], &want[..], "{:?}, appended", order);
            // The signer streams the same bytes into HMAC-SHA1.
            prop_assert_eq!(
                SigningKey::new("k").sign(&sts).to_string(),
                reference::signature(b"k", &want),
                "{:?}, signed", order
            );
            // Any arrival order gives the same bytes.
            let mut reversed = params.clone();
            reversed.reverse();
            let sts = StringToSign::new("/e", "D", reversed.as_slice()).with_form(form);
            prop_assert_eq!(&sts.to_bytes(), &want, "{:?}, reversed", order);
        }
    }
}

/// The generators do produce the cases the properties are about.
#[test]
fn generators_cover_the_interesting_cases() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut dup, mut newline, mut equals, mut empty_value, mut prefix_pair) =
        (false, false, false, false, false);
    for _ in 0..400 {
        let p = params().new_tree(&mut runner).unwrap().current();
        for (i, (k, v)) in p.iter().enumerate() {
            newline |= k.contains('\n') || v.contains('\n');
            equals |= k.contains('=') || v.contains('=');
            empty_value |= v.is_empty();
            for (k2, _) in &p[i + 1..] {
                dup |= k == k2;
                prefix_pair |= k2.len() > k.len() && k2.starts_with(k.as_str()) && !k.is_empty();
            }
        }
    }
    assert!(dup && newline && equals && empty_value && prefix_pair);

    // The differential test's generator: keys that are strict prefixes of others, tie in their
    // first eight bytes, are empty or repeat, and lists past 32 parameters.
    let (mut prefix, mut tie8, mut empty_key, mut repeated, mut many) =
        (false, false, false, false, false);
    for _ in 0..400 {
        let p = raw_params().new_tree(&mut runner).unwrap().current();
        many |= p.len() > 32;
        for (i, (k, _)) in p.iter().enumerate() {
            empty_key |= k.is_empty();
            for (k2, _) in &p[i + 1..] {
                repeated |= k == k2;
                prefix |= k2.len() > k.len() && k2.starts_with(k) && !k.is_empty();
                tie8 |= k.len() >= 8 && k2.len() >= 8 && k[..8] == k2[..8] && k != k2;
            }
        }
    }
    assert!(prefix && tie8 && empty_key && repeated && many);
}
