//! Unit tests of the string to sign: forms, orders and tricky bytes, against the plain
//! reference where the expected bytes are not spelled out.

use super::line_sort::{SMALL_PARAMS, STACK_PARAMS};
use super::*;
use crate::scheme::reference;

/// The string to sign of `params` for `/e` at `D` in `form`, by [`StringToSign`], checked
/// against the plain reference and its own length.
fn checked(params: &(impl Params + ?Sized), form: Canonicalization) -> Vec<u8> {
    let sts = StringToSign::new("/e", "D", params).with_form(form);
    let bytes = sts.to_bytes();
    assert_eq!(bytes.len(), sts.len());
    assert_eq!(
        bytes,
        reference::string_to_sign("/e", "D", params, form),
        "{form:?}, {} params",
        params.param_count()
    );
    bytes
}

/// Both orders, without the blank line.
const ORDERS: [Canonicalization; 2] = [
    Canonicalization::CANONICAL,
    Canonicalization::CANONICAL.with_order(ParamOrder::Key),
];

/// [`checked`] as text, for the tests that spell out the expected string.
fn sts(params: &[(&str, &str)], form: Canonicalization) -> String {
    String::from_utf8(checked(params, form)).unwrap()
}

#[test]
fn no_params_and_blank_line() {
    assert_eq!(sts(&[], Canonicalization::CANONICAL), "/e\nD\n");
    assert_eq!(sts(&[], Canonicalization::SAMPLE_CODE), "/e\nD\n\n");
    assert_eq!(
        sts(&[("a", "")], Canonicalization::SAMPLE_CODE),
        "/e\nD\na=\n"
    );
}

#[test]
fn line_order_versus_key_order() {
    let p = [
        ("key1", "x"),
        ("key", "y"),
        ("birthdate", "1"),
        ("birthdate.year", "2"),
    ];
    assert_eq!(
        sts(&p, Canonicalization::CANONICAL),
        "/e\nD\nbirthdate.year=2\nbirthdate=1\nkey1=x\nkey=y\n"
    );
    assert_eq!(
        sts(&p, Canonicalization::SAMPLE_CODE),
        "/e\nD\nbirthdate=1\nbirthdate.year=2\nkey=y\nkey1=x\n"
    );
    let s = StringToSign::new("/e", "D", &p).with_form(Canonicalization::SAMPLE_CODE);
    assert_eq!(s.effective_form().order, ParamOrder::Key);
    let same = [("b", "1"), ("a", "2")];
    let s = StringToSign::new("/e", "D", &same).with_form(Canonicalization::SAMPLE_CODE);
    assert_eq!(s.effective_form(), Canonicalization::CANONICAL);
}

#[test]
fn duplicate_keys_and_equals_in_keys() {
    let p = [("a", "2"), ("a", "1"), ("a=", "0"), ("a", "")];
    // Lines: "a=2", "a=1", "a==0", "a=": sorted bytewise.
    assert_eq!(
        sts(&p, Canonicalization::CANONICAL),
        "/e\nD\na=\na=1\na=2\na==0\n"
    );
}

#[test]
fn tricky_bytes_sort_like_whole_lines_and_keys() {
    // Zero bytes (the prefix's padding), '=' in keys, shared prefixes longer than 8 bytes,
    // empty keys and values.
    let atoms: [&[u8]; 10] = [
        b"",
        b"\0",
        b"a",
        b"a\0",
        b"a=",
        b"a==",
        b"abcdefgh",
        b"abcdefgh\0",
        b"abcdefghi",
        b"\xff",
    ];
    let mut params = Vec::new();
    for k in atoms {
        for v in atoms {
            params.push((k.to_vec(), v.to_vec()));
        }
    }
    params.reverse();
    for form in ORDERS {
        for n in [params.len(), STACK_PARAMS, 7] {
            checked(&params[..n], form);
        }
    }
}

#[test]
fn keys_with_a_shared_prefix_sort_like_whole_lines() {
    let suffixes: [&[u8]; 8] = [b"", b"=", b"\0", b"1", b"10", b"1\0", b"2=x", b"\xff"];
    let values: [&[u8]; 4] = [b"", b"\0", b"v", b"=v"];
    let mut params = Vec::new();
    for k in suffixes {
        for v in values {
            params.push(([&b"attribute_"[..], k].concat(), v.to_vec()));
        }
    }
    params.reverse();
    for n in [5, 8, 9, 20, 32] {
        for form in ORDERS {
            checked(&params[..n], form);
        }
    }
}

#[test]
fn many_params_sort_on_the_heap_identically() {
    let owned: Vec<(String, String)> = (0..100)
        .rev()
        .map(|i| (format!("k{i}"), format!("{i}")))
        .collect();
    for form in ORDERS {
        checked(&owned, form);
    }
}

#[test]
fn debug_hides_values() {
    let p = [("password", "hunter2")];
    let dbg = format!(
        "{:?}",
        StringToSign::new("/oauth/auth_native_traditional", "D", &p)
    );
    assert!(dbg.contains("password=<redacted>"), "{dbg}");
    assert!(!dbg.contains("hunter2"));
}

#[test]
fn prefixes_equal_down_to_the_index_bits_sort_like_whole_lines() {
    // Keys that differ only in the low bits of their eighth byte, where sort keys keep the
    // parameter's index, among keys that differ earlier; repeated keys; at every array size.
    let keys: [&str; 6] = [
        "abcdefgA", "abcdefgB", "abcdefgH", "abcdefg", "zzz", "abcdefgA",
    ];
    let values: [&str; 3] = ["2", "1", ""];
    let all: Vec<(String, String)> = (0..400)
        .map(|i| {
            (
                keys[i % keys.len()].to_string(),
                format!("{}{}", values[i % values.len()], i / 7),
            )
        })
        .collect();
    for n in [
        2,
        3,
        SMALL_PARAMS,
        SMALL_PARAMS + 1,
        STACK_PARAMS,
        STACK_PARAMS + 1,
        400,
    ] {
        for form in ORDERS {
            checked(&all[..n], form);
        }
    }
}

#[test]
fn params_that_answer_differently_each_time_are_written_without_trusting_the_length() {
    use std::cell::Cell;
    /// Values of a new length at every call.
    struct Shifting(Cell<usize>);
    impl Params for Shifting {
        fn param_count(&self) -> usize {
            3
        }
        fn param_key(&self, i: usize) -> &[u8] {
            [&b"a"[..], b"b", b"c"][i]
        }
        fn param_value(&self, i: usize) -> &[u8] {
            let calls = self.0.get();
            self.0.set(calls + 1);
            &b"0123456789abcdefghij"[..(calls * 7 + i) % 20]
        }
    }
    let params = Shifting(Cell::new(0));
    for _ in 0..20 {
        let mut out = b"kept".to_vec();
        StringToSign::new("/e", "D", &params).write_into(&mut out);
        assert!(out.starts_with(b"kept/e\nD\na="), "{out:?}");
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 5);
    }
}

#[test]
fn keys_that_shrink_between_reads_do_not_panic() {
    use std::cell::Cell;
    /// Keys sharing a long prefix, shorter at every read.
    struct Shrinking(Cell<usize>);
    impl Params for Shrinking {
        fn param_count(&self) -> usize {
            3
        }
        fn param_key(&self, i: usize) -> &[u8] {
            let calls = self.0.get();
            self.0.set(calls + 1);
            let keys: [&[u8]; 3] = [b"attribute_long_name_1", b"attribute_long_name_2", b"attr"];
            let key = keys[i % 2];
            &key[..key.len().saturating_sub(calls % 25)]
        }
        fn param_value(&self, _: usize) -> &[u8] {
            b"v"
        }
    }
    let params = Shrinking(Cell::new(0));
    for _ in 0..30 {
        let mut out = Vec::new();
        StringToSign::new("/e", "D", &params).write_into(&mut out);
        assert!(out.starts_with(b"/e\nD\n"));
        let _ = StringToSign::new("/e", "D", &params)
            .with_form(Canonicalization::SAMPLE_CODE)
            .effective_form();
    }
}
