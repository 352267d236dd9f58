//! The `Date` datetime (`YYYY-MM-DD HH:MM:SS`), parsed and formatted. (HTTP dates of
//! responses are the `httpdate` crate's.)
//!
//! Properties:
//! * neither parser panics, whatever the bytes;
//! * the strict parser accepts only its canonical form: what it accepts formats back to exactly
//!   the input bytes;
//! * for every instant of years 0000-9999: `to_bytes` -> `parse_bytes`, Unix seconds and
//!   `SystemTime` all give back the same instant, and the fields agree with an independent
//!   civil-calendar computation (and, for the weekday, with `httpdate`).
#![no_main]

use janrain_auth::scheme::{DATETIME_LEN, Datetime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dt) = Datetime::parse_bytes(data) {
        assert_eq!(
            &dt.to_bytes()[..],
            data,
            "accepted a non-canonical datetime"
        );
        assert_eq!(dt.to_string().as_bytes(), data);
        assert_eq!(data.parse_str_back(), dt);
    }
    if data.len() >= 8 {
        let raw = i64::from_le_bytes(data[..8].try_into().unwrap());
        instant(raw);
    }
});

trait ParseBack {
    fn parse_str_back(&self) -> Datetime;
}

impl ParseBack for [u8] {
    fn parse_str_back(&self) -> Datetime {
        std::str::from_utf8(self).unwrap().parse().unwrap()
    }
}

fn instant(raw: i64) {
    let (min, max) = (Datetime::MIN.unix_seconds(), Datetime::MAX.unix_seconds());
    let span = (max - min + 1) as u64;
    let secs = min + (raw as u64 % span) as i64;
    let dt = Datetime::from_unix_seconds(secs).expect("in range");
    assert_eq!(dt.unix_seconds(), secs);
    let bytes = dt.to_bytes();
    assert_eq!(bytes.len(), DATETIME_LEN);
    assert_eq!(Datetime::parse_bytes(&bytes), Ok(dt));
    if let Ok(back) = Datetime::from_system_time(dt.to_system_time()) {
        assert_eq!(back, dt);
    }
    // Outside the range: refused, never wrapped.
    assert!(Datetime::from_unix_seconds(max.saturating_add(1 + (raw & 0xffff))).is_err());
    assert!(Datetime::from_unix_seconds(min.saturating_sub(1 + (raw & 0xffff))).is_err());

    // An independent computation of the fields: walk from 1970-01-01 by whole years, then
    // months (slow but obviously right), for a sample of the instants.
    if raw & 0xff == 0 {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil(days);
        let want = format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        assert_eq!(dt.to_string(), want);
        // The weekday: 1970-01-01 was a Thursday.
        let weekday =
            ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
        if let Ok(time) = Datetime::from_unix_seconds(secs.max(0)).map(|d| d.to_system_time())
            && secs >= 0
            && dt.to_system_time() == time
        {
            // httpdate covers 1970-9999.
            assert!(httpdate::fmt_http_date(time).starts_with(weekday));
        }
    }
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn civil(mut days: i64) -> (i64, i64, i64) {
    let mut y = 1970;
    loop {
        let len = if leap(y) { 366 } else { 365 };
        if days < 0 {
            y -= 1;
            days += if leap(y) { 366 } else { 365 };
        } else if days >= len {
            days -= len;
            y += 1;
        } else {
            break;
        }
    }
    let lens = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut m = 0;
    while days >= lens[m] {
        days -= lens[m];
        m += 1;
    }
    (y, m as i64 + 1, days + 1)
}
