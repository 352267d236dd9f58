//! The decoder against the plain reference decoder, the encoder, the limits.

use super::*;
use crate::scheme::reference;

fn pairs(input: &str) -> Vec<(String, String)> {
    ParamList::from_urlencoded(input.as_bytes())
        .unwrap()
        .to_pairs_lossy()
}

fn p(k: &str, v: &str) -> (String, String) {
    (k.into(), v.into())
}

#[test]
fn whatwg_decoding() {
    assert_eq!(pairs(""), vec![]);
    assert_eq!(pairs("&&"), vec![]);
    assert_eq!(pairs("a=1&b=2"), vec![p("a", "1"), p("b", "2")]);
    assert_eq!(pairs("a"), vec![p("a", "")]);
    assert_eq!(pairs("=v"), vec![p("", "v")]);
    assert_eq!(pairs("a==b"), vec![p("a", "=b")]);
    assert_eq!(pairs("a+b=c+d%2Be"), vec![p("a b", "c d+e")]);
    assert_eq!(pairs("k=%zz%4%"), vec![p("k", "%zz%4%")]);
    // The bytes beside the hexadecimal digits are not digits: the escape stays as it is.
    assert_eq!(
        pairs("k=%:0%0:%/0%@0%G0%`0%g0"),
        vec![p("k", "%:0%0:%/0%@0%G0%`0%g0")]
    );
    assert_eq!(pairs("k=%C3%A9%f0%9F%98%80"), vec![p("k", "é😀")]);
    assert_eq!(pairs("k=a%26b%3Dc%0Ad"), vec![p("k", "a&b=c\nd")]);
    assert_eq!(pairs("a=1&a=2"), vec![p("a", "1"), p("a", "2")]);
    // Decoded exactly once.
    assert_eq!(pairs("k=%2541"), vec![p("k", "%41")]);
}

#[test]
fn encoding_round_trips() {
    let cases = [
        ("key", "value"),
        ("", ""),
        ("a=b", "c&d"),
        ("sp ace", "plus+percent%"),
        ("uni", "Zoë Ωmega 😀\n\r\t"),
        ("~!'()", "*-._"),
    ];
    let encoded = encode_urlencoded(&cases);
    let back = ParamList::from_urlencoded(encoded.as_bytes()).unwrap();
    let want: Vec<_> = cases.iter().map(|(k, v)| p(k, v)).collect();
    assert_eq!(back.to_pairs_lossy(), want);
    assert_eq!(encode_urlencoded(&[("a b", "~*")]), "a+b=%7E*");
}

proptest::proptest! {
    #[test]
    fn decodes_as_the_reference(
        input in proptest::collection::vec(
            // With the neighbours of the four special bytes (`*` `,` `$` `'` `<` `>`) and
            // the bytes at the edges of the word tests (0x00, 0x01, 0x7f, 0x80, 0xff).
            proptest::sample::select(b"ab=&+%2F0z\n\xc3\xa9*,$'<>\x00\x01\x7f\x80\xff".to_vec()),
            0..700,
        ),
        prefix in 0usize..300,
    ) {
        // Pairs already held (up to past the inline room) before the input is decoded.
        let mut list = ParamList::with_limit(10_000);
        list.push(vec![b'k'; prefix], "").unwrap();
        list.extend_urlencoded(&input).unwrap();
        let got: Vec<(Vec<u8>, Vec<u8>)> =
            list.iter().skip(1).map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        proptest::prop_assert_eq!(got, reference::decode_urlencoded(&input));
        proptest::prop_assert_eq!(list.get(&vec![b'k'; prefix]), Some(&b""[..]));
    }

    #[test]
    fn long_ordinary_runs_decode_as_the_reference(
        input in proptest::collection::vec(
            proptest::sample::select(b"abcdefghijklmnopqrstuvwxyz0123456789-._*=&+%2F".to_vec()),
            0..700,
        ),
        prefix in 0usize..300,
    ) {
        // Mostly ordinary bytes: runs short and long (one 16-byte copy, or exact), runs across
        // the 64-byte windows, and runs that reach the end of the input or of the inline room.
        let mut list = ParamList::with_limit(10_000);
        list.push(vec![b'k'; prefix], "").unwrap();
        list.extend_urlencoded(&input).unwrap();
        let got: Vec<(Vec<u8>, Vec<u8>)> =
            list.iter().skip(1).map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        proptest::prop_assert_eq!(got, reference::decode_urlencoded(&input));
    }
}

/// Whether `b` is one of the four bytes the decoder acts on.
fn special(b: u8) -> bool {
    matches!(b, b'&' | b'=' | b'+' | b'%')
}

/// `marks` gives bit `i` exactly where byte `i` of an `N`-byte chunk is special: every byte
/// value in every position, beside neighbours that are special, that have the high bit set,
/// or that differ from a special byte in the high bit only.
fn marks_exactly<const N: usize>(marks: impl Fn([u8; N]) -> u64) {
    for fill in [b'a', b'&', b'%', 0x80, 0xa5, 0xab, 0xff, 0x00, 0x7f] {
        for at in 0..N {
            for b in 0..=255u8 {
                let mut chunk = [fill; N];
                chunk[at] = b;
                let want = chunk
                    .iter()
                    .enumerate()
                    .fold(0u64, |bits, (i, &w)| bits | (u64::from(special(w)) << i));
                assert_eq!(marks(chunk), want, "{chunk:?}");
            }
        }
    }
}

#[test]
fn the_special_bytes_are_marked_exactly() {
    // A word; sixteen bytes as the decoder marks them (on x86-64, SSE2 comparisons), and as
    // two words (what it does elsewhere).
    marks_exactly::<8>(|word| u64::from(special_bits(u64::from_le_bytes(word))));
    marks_exactly::<16>(|chunk| u64::from(special_bits16(chunk)));
    marks_exactly::<16>(|chunk| u64::from(special_bits16_by_words(chunk)));
    // A window's marks are its chunks' marks, the last chunk padded.
    let window: Vec<u8> = (0..61)
        .map(|i| if i % 7 == 3 { b'%' } else { b'x' })
        .collect();
    let marks = special_marks(&window);
    for (i, &b) in window.iter().enumerate() {
        assert_eq!(marks >> i & 1 == 1, special(b), "{i}");
    }
    assert_eq!(marks >> 61, 0);
}

#[test]
fn runs_of_every_length_and_escapes_across_the_64_byte_windows() {
    // The special bytes are found 64 input bytes at a time: runs of every length, short
    // (copied 16 bytes at a time) and long (copied exactly), and escapes that begin in one
    // window and end in the next decode as the reference does.
    for run in 0..=80 {
        for at in 60..=66 {
            let mut input = vec![b'a'; at];
            input.extend_from_slice(b"%41&");
            input.extend(std::iter::repeat_n(b'b', run));
            input.extend_from_slice(b"=%2B+c%");
            let list = ParamList::from_urlencoded(&input).unwrap();
            let got: Vec<(Vec<u8>, Vec<u8>)> =
                list.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
            assert_eq!(got, reference::decode_urlencoded(&input), "{run} {at}");
            assert_eq!(got[0].0.len(), at + 1);
            assert_eq!(got[1].1, b"+ c%");
        }
    }
}

#[test]
fn plus_signs_and_runs_of_escapes() {
    // A `+` among ordinary bytes changes only itself; escapes in a row stop at the first
    // that is not one, and a broken escape is kept as it is.
    let list = ParamList::from_urlencoded(b"k=+*+*,+a*&e=%22%2C%2%41%4g%&+=+").unwrap();
    let got: Vec<(&[u8], &[u8])> = list.iter().collect();
    assert_eq!(
        got,
        [
            (&b"k"[..], &b" * *, a*"[..]),
            (b"e", b"\",%2A%4g%"),
            (b" ", b" "),
        ]
    );
}

#[test]
fn limits_and_non_utf8() {
    let mut list = ParamList::with_limit(2);
    assert_eq!(
        list.extend_urlencoded(b"a&b&c"),
        Err(ParamsError::TooMany { limit: 2 })
    );
    assert_eq!(list.len(), 2);
    assert_eq!(list.push("x", "y"), Err(ParamsError::TooMany { limit: 2 }));
    let list = ParamList::from_urlencoded(b"k=%FF").unwrap();
    assert!(!list.is_text());
    // Text as a whole, but a character split between a key and its value.
    assert!(!ParamList::from_urlencoded(b"k%C3=%A9").unwrap().is_text());
    assert!(
        ParamList::from_urlencoded(b"k%C3%A9=%C3%A9&=")
            .unwrap()
            .is_text()
    );
    assert_eq!(list.get(b"k"), Some(&[0xff][..]));
    assert_eq!(list.get_str("k"), None);
    assert_eq!(list.to_pairs_lossy(), vec![p("k", "\u{fffd}")]);
}

#[test]
fn without_and_debug() {
    let list = ParamList::from_urlencoded(b"client_id=c&access_token=t&password=hunter2").unwrap();
    let rest = list.without(&[b"client_id", b"access_token"]);
    assert_eq!(rest.to_pairs_lossy(), vec![p("password", "hunter2")]);
    let dbg = format!("{list:?}");
    assert!(
        dbg.contains("password=<redacted>") && !dbg.contains("hunter2"),
        "{dbg}"
    );
}

/// A form longer than the list's inline room that shrinks into it when decoded stays inline
/// (no heap allocation); one that does not fit moves to the heap whole, decoded the same.
#[test]
fn a_form_that_decodes_into_the_inline_room_stays_inline() {
    let value = "\"".repeat(200);
    let encoded = format!("k={}", "%22".repeat(200));
    assert!(encoded.len() > super::INLINE_BYTES);
    let list = ParamList::from_urlencoded(encoded.as_bytes()).unwrap();
    assert!(list.is_inline());
    assert_eq!(list.get_str("k"), Some(value.as_str()));
    let long = format!("k={}", "%22".repeat(300));
    let list = ParamList::from_urlencoded(long.as_bytes()).unwrap();
    assert!(!list.is_inline());
    assert_eq!(list.get_str("k"), Some("\"".repeat(300).as_str()));
}

/// A copy without some keys keeps the list's own parameter limit.
#[test]
fn a_copy_without_some_keys_keeps_the_limit() {
    let mut list = ParamList::with_limit(2);
    list.extend_urlencoded(b"a=1&b=2").unwrap();
    let mut copy = list.without(&[b"a"]);
    assert_eq!(copy.to_pairs_lossy(), vec![p("b", "2")]);
    copy.push("c", "3").unwrap();
    assert_eq!(copy.push("d", "4"), Err(ParamsError::TooMany { limit: 2 }));
}
