//! Query-string and form-body parameters (`ParamList::extend_urlencoded`, the one-pass
//! in-place decoder) and `encode_urlencoded`.
//!
//! Properties:
//! * decoding any bytes never panics and gives exactly the pairs of the plain reference
//!   decoder (`scheme::reference::decode_urlencoded`, the WHATWG
//!   `application/x-www-form-urlencoded` rules written plainly);
//! * `encode_urlencoded` of any pairs, decoded, gives back exactly those pairs (bytes, order,
//!   repeats, empty keys and values);
//! * decoding is the same whether the input arrives in one list or is appended to a list that
//!   already holds pairs (query string first, then the form body);
//! * the parameter limit: over it the decoder fails with `TooMany` and keeps exactly the
//!   first `limit` pairs; at or under it, it succeeds.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use janrain_auth::params::{ParamList, ParamsError, encode_urlencoded};
use janrain_auth::scheme::{Params, reference};
use libfuzzer_sys::fuzz_target;

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fuzz_target!(|data: &[u8]| {
    decode_anything(data);
    let mut u = Unstructured::new(data);
    if let Ok(input) = Structured::arbitrary(&mut u) {
        structured(input);
    }
});

fn pairs_of(list: &ParamList) -> Pairs {
    list.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
}

fn decode_anything(data: &[u8]) {
    let want = reference::decode_urlencoded(data);
    let limit = want.len().max(1) + 1;
    let mut list = ParamList::with_limit(limit);
    list.extend_urlencoded(data).expect("under the limit");
    let got = pairs_of(&list);
    assert_eq!(got, want, "differs from the reference decoder");
    assert_eq!(list.param_count(), want.len());
    for (i, (k, v)) in want.iter().enumerate() {
        assert_eq!(list.param_key(i), &k[..]);
        assert_eq!(list.param_value(i), &v[..]);
    }
    // Decoding is not idempotent (`%2541` -> `%41`), but encoding what was decoded and
    // decoding again is.
    let again = ParamList::from_urlencoded(encode_urlencoded(&got).as_bytes()).unwrap();
    assert_eq!(pairs_of(&again), got);
}

#[derive(Arbitrary, Debug)]
struct Structured {
    first: Pairs,
    second: Pairs,
    raw_first: Vec<u8>,
    raw_second: Vec<u8>,
    limit: u8,
}

fn structured(input: Structured) {
    // Round trip of the encoder.
    for pairs in [&input.first, &input.second] {
        let encoded = encode_urlencoded(pairs);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"*-._+%&=".contains(&b)),
            "encoder left a byte that needs escaping: {encoded:?}"
        );
        let back = ParamList::from_urlencoded(encoded.as_bytes());
        match back {
            Ok(list) => assert_eq!(
                &pairs_of(&list),
                pairs,
                "encode -> decode changed the pairs"
            ),
            Err(ParamsError::TooMany { .. }) => assert!(pairs.len() > 1024),
            Err(e) => panic!("{e}"),
        }
    }

    // Appending: a list that already holds the query string's pairs, then the body's.
    let mut list = ParamList::with_limit(usize::MAX);
    list.extend_urlencoded(&input.raw_first).unwrap();
    list.extend_urlencoded(&input.raw_second).unwrap();
    let mut want = reference::decode_urlencoded(&input.raw_first);
    want.extend(reference::decode_urlencoded(&input.raw_second));
    assert_eq!(pairs_of(&list), want, "appending decoded differently");
    // `get` finds the first value of a key.
    if let Some((k, v)) = want.first() {
        let first = want.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        assert_eq!(list.get(k), first.map(|v| &v[..]));
        assert!(first.is_some_and(|f| f == v));
    }

    // The limit.
    let limit = usize::from(input.limit % 16);
    let all = reference::decode_urlencoded(&input.raw_first);
    let mut limited = ParamList::with_limit(limit);
    let result = limited.extend_urlencoded(&input.raw_first);
    if all.len() > limit {
        assert_eq!(result, Err(ParamsError::TooMany { limit }));
        assert_eq!(pairs_of(&limited), all[..limit].to_vec());
        assert_eq!(limited.push("k", "v"), Err(ParamsError::TooMany { limit }));
    } else {
        assert_eq!(result, Ok(()));
        assert_eq!(pairs_of(&limited), all);
    }

    // `without` drops exactly the named keys.
    if let Some((k, _)) = all.first() {
        let mut full = ParamList::with_limit(usize::MAX);
        full.extend_urlencoded(&input.raw_first).unwrap();
        let rest = full.without(&[&k[..]]);
        let want: Pairs = all.iter().filter(|(key, _)| key != k).cloned().collect();
        assert_eq!(pairs_of(&rest), want);
    }
}
