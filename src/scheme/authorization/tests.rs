//! Parsing and formatting `Authorization` values, and the word-at-a-time scans against
//! byte-by-byte ones.

use super::*;
use AuthorizationError as E;

#[test]
fn signature_credentials_fast_and_slow_agree() {
    let sig = "G3N5RxCVc0d6rDLmBRGvcg2hCVY=";
    let slow = |c: &str| {
        let (id, s) = c.split_once(':').ok_or(E::MissingColon)?;
        ClientId::check(id).map_err(E::ClientId)?;
        check_signature(s.as_bytes())?;
        Ok((id.to_owned(), s.to_owned()))
    };
    let fast = |c: &str| {
        SignatureCredentials::parse(c).map(|p| (p.client_id.to_owned(), p.signature.to_owned()))
    };
    let long = "x".repeat(MAX_CLIENT_ID_LEN);
    let longer = "x".repeat(MAX_CLIENT_ID_LEN + 1);
    let mut cases: Vec<String> = [
        "",
        ":",
        "a:",
        "abc",
        "abcdefghijk:",
        ":abc",
        "a:b:c",
        "a b:x",
        "a\tb:x",
        "é:x",
        "abcdefgh\x7f:x",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    for id in [
        "a",
        "abcdefgh",
        "abcdefghi",
        "apkrahlfumwse2e9nvrrotv6vchuptzw",
        &long,
        &longer,
    ] {
        cases.push(format!("{id}:{sig}"));
        cases.push(format!("{id}:{sig}x"));
        cases.push(format!("{id} :{sig}"));
        cases.push(format!("{id}\u{e9}:{sig}"));
    }
    for case in &cases {
        assert_eq!(fast(case), slow(case), "{case:?}");
    }
}

#[test]
fn header_text_word_at_a_time_agrees_with_each_byte() {
    let one = |b: u8| b == b' ' || b == b'\t' || b.is_ascii_graphic();
    for byte in 0..=u8::MAX {
        for at in 0..20 {
            let mut value = vec![b'a'; 20];
            value[at] = byte;
            assert_eq!(is_header_text(&value), one(byte), "{byte:#x} at {at}");
            assert_eq!(is_header_text(&value[at..]), one(byte), "{byte:#x} first");
        }
    }
}

fn parse(v: &str) -> Result<Authorization<'_>, AuthorizationError> {
    Authorization::parse(v.as_bytes())
}

#[test]
fn signature_forms() {
    let ok = [
        "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=",
        "signature  foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY= ",
        "SIGNATURE\tfoo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=",
    ];
    for v in ok {
        match parse(v).unwrap() {
            Authorization::Signature(s) => {
                assert_eq!(s.client_id(), "foo");
                assert_eq!(s.signature(), "G3N5RxCVc0d6rDLmBRGvcg2hCVY=");
                assert!(!format!("{s:?}").contains("G3N5"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn malformed_signatures() {
    let cases: &[(&str, AuthorizationError)] = &[
        ("", E::Empty),
        ("   ", E::Empty),
        (
            "Signature",
            E::MissingCredentials {
                scheme: "Signature",
            },
        ),
        (
            "Signature   ",
            E::MissingCredentials {
                scheme: "Signature",
            },
        ),
        ("Signature fooG3N5RxCVc0d6rDLmBRGvcg2hCVY=", E::MissingColon),
        (
            "Signature :G3N5RxCVc0d6rDLmBRGvcg2hCVY=",
            E::ClientId(CredentialsError::EmptyClientId),
        ),
        (
            "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY",
            E::SignatureLength(27),
        ),
        ("Signature foo:", E::SignatureLength(0)),
        (
            "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY==",
            E::SignatureLength(29),
        ),
        (
            "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCV-=",
            E::SignatureEncoding { position: 26 },
        ),
        (
            "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVZ=",
            E::SignatureEncoding { position: 26 },
        ),
        (
            "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVYA",
            E::SignatureEncoding { position: 27 },
        ),
        (
            "Signature foo:b'N5RxCVc0d6rDLmBRGvcg2hCVY=",
            E::SignatureEncoding { position: 1 },
        ),
        (
            "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=\u{e9}",
            E::NotAscii,
        ),
        ("Signature foo:G3N5RxCVc0d6rDLmB\nGvcg2hCVY=", E::NotAscii),
    ];
    for (v, err) in cases {
        assert_eq!(parse(v).err().as_ref(), Some(err), "{v:?}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn basic_forms() {
    let id = ClientId::new("abcdefg").unwrap();
    let secret = ClientSecret::new("hijklmnop").unwrap();
    let hv = basic_header(&id, &secret);
    assert_eq!(hv, "Basic YWJjZGVmZzpoaWprbG1ub3A=");
    assert!(hv.is_sensitive());
    for v in [
        "Basic YWJjZGVmZzpoaWprbG1ub3A=",
        "basic YWJjZGVmZzpoaWprbG1ub3A",
    ] {
        let Authorization::Basic(b) = parse(v).unwrap() else {
            panic!()
        };
        assert_eq!(b.client_id(), &id);
        assert_eq!(b.secret().expose(), "hijklmnop");
        assert!(!format!("{b:?}").contains("hijk"));
    }
    // A secret may itself contain ':'.
    let enc = STANDARD.encode("id:se:cret");
    let Authorization::Basic(b) = parse(&format!("Basic {enc}")).unwrap() else {
        panic!()
    };
    assert_eq!(b.secret().expose(), "se:cret");
}

#[test]
fn malformed_basic() {
    let b64 = |s: &[u8]| format!("Basic {}", STANDARD.encode(s));
    let cases: Vec<(String, AuthorizationError)> = vec![
        ("Basic".into(), E::MissingCredentials { scheme: "Basic" }),
        ("Basic !!!!".into(), E::BasicEncoding),
        ("Basic YWJj=ZGVm".into(), E::BasicEncoding),
        (b64(b"no colon"), E::BasicMissingColon),
        (b64(b"id:"), E::BasicEmptySecret),
        (
            b64(b":secret"),
            E::ClientId(CredentialsError::EmptyClientId),
        ),
        (
            b64(b"a b:secret"),
            E::ClientId(CredentialsError::ClientIdCharacter {
                position: 1,
                byte: b' ',
            }),
        ),
        (b64(&[0xff, b':', b'x']), E::BasicNotUtf8),
        (
            format!("Basic {}", "A".repeat(MAX_BASIC_LEN + 4)),
            E::BasicTooLong,
        ),
    ];
    for (v, err) in cases {
        assert_eq!(parse(&v).err(), Some(err), "{v:?}");
    }
}

#[test]
fn other_schemes() {
    assert!(matches!(
        parse("OAuth abc").unwrap(),
        Authorization::Other { scheme: "OAuth" }
    ));
    assert!(matches!(
        parse("Bearer").unwrap(),
        Authorization::Other { scheme: "Bearer" }
    ));
}

#[test]
fn signature_header_format() {
    let sig = crate::scheme::SigningKey::new("bar").sign(&crate::scheme::StringToSign::new(
        "/entity",
        "2000-01-01 01:01:01",
        &[
            ("param1", "this is a string"),
            ("param2", "10"),
            ("param3", "one=1\ntwo=2,three=3"),
        ],
    ));
    let hv = signature_header(&ClientId::new("foo").unwrap(), &sig);
    assert_eq!(hv, "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=");
    assert!(hv.is_sensitive());
    assert!(!format!("{hv:?}").contains("G3N5"));
}
