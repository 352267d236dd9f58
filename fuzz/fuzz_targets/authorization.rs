//! The `Authorization` header parser, both schemes.
//!
//! Properties:
//! * `Authorization::parse` never panics, whatever the bytes;
//! * what it accepts is well formed: a `Signature` client id passes `ClientId::check` and its
//!   signature is 28 characters of canonical base64; Basic credentials hold a valid id and a
//!   non-empty secret;
//! * what it accepts, formatted again (`signature_header` / `basic_header`), parses back to the
//!   same id and signature or secret;
//! * for any valid id and secret, `basic_header` and `signature_header` parse back to exactly
//!   them, however the scheme is capitalised and however many spaces follow it.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::scheme::{
    Authorization, SIGNATURE_LEN, SigningKey, StringToSign, basic_header, signature_header,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    parse_anything(data);
    let mut u = Unstructured::new(data);
    if let Ok(pair) = Pair::arbitrary(&mut u) {
        round_trip(pair);
    }
});

fn parse_anything(data: &[u8]) {
    let Ok(parsed) = Authorization::parse(data) else {
        return;
    };
    match parsed {
        Authorization::Signature(creds) => {
            let id = creds.client_id();
            let sig = creds.signature();
            assert!(ClientId::check(id).is_ok(), "accepted an invalid client id");
            assert_eq!(sig.len(), SIGNATURE_LEN);
            assert!(sig.ends_with('='));
            // The id and the signature came out of the input.
            let text = std::str::from_utf8(data).expect("accepted input is ASCII");
            assert!(text.contains(&format!("{id}:{sig}")));
            // Formatted again, the same credentials.
            let again = format!("Signature {id}:{sig}");
            match Authorization::parse(again.as_bytes()) {
                Ok(Authorization::Signature(back)) => {
                    assert_eq!((back.client_id(), back.signature()), (id, sig));
                }
                other => panic!("reformatted Signature credentials did not parse: {other:?}"),
            }
        }
        Authorization::Basic(creds) => {
            assert!(ClientId::check(creds.client_id().as_str()).is_ok());
            assert!(!creds.secret().expose().is_empty());
            let header = basic_header(creds.client_id(), creds.secret());
            assert!(header.is_sensitive());
            match Authorization::parse(header.as_bytes()) {
                Ok(Authorization::Basic(back)) => {
                    assert_eq!(back.client_id(), creds.client_id());
                    assert_eq!(back.secret().expose(), creds.secret().expose());
                }
                other => panic!("reformatted Basic credentials did not parse: {other:?}"),
            }
        }
        Authorization::Other { scheme } => {
            assert!(!scheme.is_empty());
            assert!(!scheme.eq_ignore_ascii_case("signature"));
            assert!(!scheme.eq_ignore_ascii_case("basic"));
            assert!(!scheme.contains([' ', '\t']));
        }
        _ => {}
    }
}

#[derive(Arbitrary, Debug)]
struct Pair {
    id: String,
    secret: String,
    message: Vec<u8>,
    /// Bit i set: character i of the scheme name in lower case.
    case_mask: u16,
    /// Extra spaces or tabs after the scheme.
    spaces: u8,
    tab: bool,
}

fn recase(scheme: &str, mask: u16) -> String {
    scheme
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> i & 1 == 1 {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

fn round_trip(pair: Pair) {
    let (Ok(id), Ok(secret)) = (
        ClientId::new(&pair.id),
        ClientSecret::new(pair.secret.clone()),
    ) else {
        return;
    };
    let gap = if pair.tab { "\t" } else { " " }.repeat(1 + usize::from(pair.spaces % 4));

    // Basic: the header value, with the scheme recased and spaced, parses back.
    let basic = basic_header(&id, &secret);
    assert!(basic.is_sensitive());
    let encoded = &basic.to_str().unwrap()["Basic ".len()..];
    if encoded.len() <= janrain_auth::scheme::MAX_BASIC_LEN {
        let value = format!("{}{gap}{encoded}", recase("Basic", pair.case_mask));
        match Authorization::parse(value.as_bytes()) {
            Ok(Authorization::Basic(back)) => {
                assert_eq!(back.client_id(), &id);
                assert_eq!(back.secret().expose(), pair.secret);
            }
            other => panic!("basic_header did not parse back: {other:?}"),
        }
        // Unpadded, as the documentation prints it, too.
        let unpadded = format!("Basic {}", encoded.trim_end_matches('='));
        match Authorization::parse(unpadded.as_bytes()) {
            Ok(Authorization::Basic(back)) => assert_eq!(back.secret().expose(), pair.secret),
            other => panic!("unpadded Basic did not parse: {other:?}"),
        }
    }

    // Signature: any real signature of this id parses back.
    let key = SigningKey::new(&pair.secret);
    let params = [("m", pair.message.as_slice())];
    let sig = key.sign(&StringToSign::new(
        "/entity",
        "2000-01-01 00:00:00",
        &params,
    ));
    let header = signature_header(&id, &sig);
    assert!(header.is_sensitive());
    let text = header.to_str().unwrap();
    assert_eq!(text, format!("Signature {}:{}", id, sig.as_str()));
    let value = format!(
        "{}{gap}{}",
        recase("Signature", pair.case_mask),
        &text["Signature ".len()..]
    );
    match Authorization::parse(value.as_bytes()) {
        Ok(Authorization::Signature(back)) => {
            assert_eq!(back.client_id(), id.as_str());
            assert_eq!(back.signature(), sig.as_str());
            assert!(sig.ct_matches(back.signature().as_bytes()));
        }
        other => panic!("signature_header did not parse back: {other:?}"),
    }
}
