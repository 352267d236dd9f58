//! Python's spelling of floats (`repr`) and of JSON text (`json.dumps`), which Janrain's own
//! client uses, so that a request built here carries the same bytes as one built there.

use std::io;

/// Python's `repr` of a float (`None` for NaN and infinities).
pub(super) fn float_text(value: f64) -> Option<String> {
    value.is_finite().then(|| python_repr(format!("{value:e}")))
}

/// Python's `repr` of a finite float, from Rust's shortest round-trip scientific form
/// (`1.5e0`, `-1e-7`): both pick the shortest digits that read back as the same number, and
/// differ only in layout. Python writes plain decimals when the decimal point falls within
/// the digits' reach (exponent from -4 to 15), scientific otherwise with a signed exponent of at
/// least two digits, and always shows a fraction on plain decimals (`10.0`).
pub(super) fn python_repr(scientific: String) -> String {
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // The value is 0.DIGITS x 10^point.
    let point = exponent + 1;
    let len = digits.len() as i32;
    let mut out = String::from(sign);
    if point <= -4 || point > 16 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = point - 1;
        out.push_str(&format!("e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs()));
    } else if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        out.push_str(&digits);
    } else if point >= len {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (point - len) as usize));
        out.push_str(".0");
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

/// serde_json's writer with Python's `json.dumps` layout: with its default settings
/// (`indent: None`: `", "` between items, `": "` after a key, all on one line), or with
/// `indent=N` (each item on a line of its own, `N` spaces deeper per level, `","` at the end
/// of a line, `": "` after a key, empty lists and objects as `[]` and `{}`).
pub(super) struct PythonFormatter {
    /// Spaces per level, or `None` for one line.
    indent: Option<usize>,
    /// How deep the writer is.
    level: usize,
    /// Whether the list or object being written has an item yet.
    has_items: bool,
}

impl PythonFormatter {
    /// `json.dumps(value)`'s layout.
    pub(super) fn compact() -> Self {
        PythonFormatter {
            indent: None,
            level: 0,
            has_items: false,
        }
    }

    /// `json.dumps(value, indent=indent)`'s layout.
    pub(super) fn indented(indent: usize) -> Self {
        PythonFormatter {
            indent: Some(indent),
            ..PythonFormatter::compact()
        }
    }

    /// Before an item: `", "` (one line) or a line break and the indentation, after a `","`
    /// unless it is the first.
    fn item<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        match self.indent {
            None if first => Ok(()),
            None => writer.write_all(b", "),
            Some(indent) => {
                writer.write_all(if first { b"\n" } else { b",\n" })?;
                write_spaces(writer, indent * self.level)
            }
        }
    }

    fn open<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_items = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if let (Some(indent), true) = (self.indent, self.has_items) {
            writer.write_all(b"\n")?;
            write_spaces(writer, indent * self.level)?;
        }
        // The enclosing list or object has an item: this one.
        self.has_items = true;
        writer.write_all(bracket)
    }
}

fn write_spaces<W: ?Sized + io::Write>(writer: &mut W, count: usize) -> io::Result<()> {
    const SPACES: [u8; 64] = [b' '; 64];
    let mut left = count;
    while left > 0 {
        let n = left.min(SPACES.len());
        writer.write_all(&SPACES[..n])?;
        left -= n;
    }
    Ok(())
}

impl serde_json::ser::Formatter for PythonFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        // serde_json writes non-finite floats as `null` before asking the formatter.
        writer.write_all(python_repr(format!("{value:e}")).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        // The f32's own shortest digits (0.1f32 is written 0.1, as it was meant).
        writer.write_all(python_repr(format!("{value:e}")).as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_items = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_items = true;
        Ok(())
    }

    /// serde_json has already escaped `"`, `\` and control characters (with the same short
    /// forms and lowercase `\u00XX` as Python); the rest of the printable-ASCII rule is here.
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python_repr() {
        // Each pair checked against CPython's repr().
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (10.0, "10.0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (-1.25e-7, "-1.25e-07"),
            (1e300, "1e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (2.71, "2.71"),
            (100.5, "100.5"),
            (9007199254740993.0, "9007199254740992.0"),
        ];
        for &(value, expected) in cases {
            assert_eq!(float_text(value).as_deref(), Some(expected), "{value:?}");
        }
        assert_eq!(float_text(f64::NAN), None);
        assert_eq!(float_text(f64::INFINITY), None);
    }

    #[test]
    fn indented_as_json_dumps() {
        // The input and the expected text from CPython 3.11:
        // json.dumps(value, indent=2, sort_keys=True).
        let value = serde_json::json!({
            "stat": "ok", "a": [], "b": {}, "c": [1, 2.5, {"x": null, "y": true}],
            "d": "Zoë 😀 \u{7f} \"q\" \\ \n\t\u{1} </>", "e": -0.0, "f": 1e16, "g": [[]],
            "h": {"z": {"y": [{}]}}, "i": 12345678901234567_u64,
        });
        let expected = "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    2.5,\n    {\n      \"x\": null,\n      \"y\": true\n    }\n  ],\n  \"d\": \"Zo\\u00eb \\ud83d\\ude00 \\u007f \\\"q\\\" \\\\ \\n\\t\\u0001 </>\",\n  \"e\": -0.0,\n  \"f\": 1e+16,\n  \"g\": [\n    []\n  ],\n  \"h\": {\n    \"z\": {\n      \"y\": [\n        {}\n      ]\n    }\n  },\n  \"i\": 12345678901234567,\n  \"stat\": \"ok\"\n}";
        assert_eq!(
            super::super::to_json_text_indented(&value, 2).unwrap(),
            expected
        );
        // Scalars alone, and the one-line layout unchanged.
        assert_eq!(
            super::super::to_json_text_indented(&"é", 2).unwrap(),
            "\"\\u00e9\""
        );
        assert_eq!(
            super::super::to_json_text(&serde_json::json!({"a": [1, {"b": []}]})).unwrap(),
            "{\"a\": [1, {\"b\": []}]}"
        );
    }
}
