//! The `YYYY-MM-DD HH:MM:SS` UTC datetime of janrain-signed, and the [`Clock`] that
//! supplies "now".
//!
//! The same 19-byte string goes in the `Date:` request header and in the string to sign. It is
//! *not* the RFC 7231 HTTP date: Janrain refuses `Fri, 26 Feb 2016 19:08:44 GMT`.
//!
//! ```
//! use janrain_auth::scheme::Datetime;
//!
//! let dt: Datetime = "2016-02-26 19:08:44".parse()?;
//! assert_eq!(dt.unix_seconds(), 1_456_513_724);
//! assert_eq!(dt.to_string(), "2016-02-26 19:08:44");
//! assert!("2016-02-26T19:08:44Z".parse::<Datetime>().is_err());
//! # Ok::<(), janrain_auth::scheme::DatetimeError>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length in bytes of a formatted [`Datetime`].
pub const DATETIME_LEN: usize = 19;

/// A UTC instant with one-second resolution, in the range `0000-01-01 00:00:00` to
/// `9999-12-31 23:59:59`: the janrain-signed `Date`.
///
/// Parsing is strict: exactly `YYYY-MM-DD HH:MM:SS`, zero-padded, 24 h, no `T`, no zone, no
/// fraction, no surrounding whitespace, and a date that exists (no 30 February, no leap second).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Datetime {
    /// Seconds since 1970-01-01 00:00:00 UTC (may be negative).
    secs: i64,
}

/// Why a datetime string was refused, or why an instant has no datetime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatetimeError {
    /// The string is not 19 bytes long.
    #[error("datetime must be 19 characters in the form YYYY-MM-DD HH:MM:SS (UTC), got {0} bytes")]
    Length(usize),
    /// A byte that must be a digit or a given separator is something else.
    #[error(
        "datetime must have the form YYYY-MM-DD HH:MM:SS (UTC): expected {expected} at position {position}"
    )]
    Syntax {
        /// Zero-based byte offset of the offending byte.
        position: usize,
        /// What belongs there.
        expected: &'static str,
    },
    /// A field is out of range (month 13, 31 April, hour 24, ...).
    #[error("datetime field {field} is out of range")]
    Range {
        /// The field: `month`, `day`, `hour`, `minute` or `second`.
        field: &'static str,
    },
    /// The instant lies outside the years 0000-9999.
    #[error("instant is outside the years 0000-9999")]
    OutOfRange,
}

impl Datetime {
    /// The earliest representable datetime, `0000-01-01 00:00:00`.
    pub const MIN: Datetime = Datetime {
        secs: -62_167_219_200,
    };
    /// The latest representable datetime, `9999-12-31 23:59:59`.
    pub const MAX: Datetime = Datetime {
        secs: 253_402_300_799,
    };

    /// The datetime `secs` seconds after the Unix epoch.
    pub fn from_unix_seconds(secs: i64) -> Result<Self, DatetimeError> {
        if (Self::MIN.secs..=Self::MAX.secs).contains(&secs) {
            Ok(Datetime { secs })
        } else {
            Err(DatetimeError::OutOfRange)
        }
    }

    /// The datetime of a [`SystemTime`], truncated to the second.
    pub fn from_system_time(time: SystemTime) -> Result<Self, DatetimeError> {
        let secs = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).map_err(|_| DatetimeError::OutOfRange)?,
            Err(before) => {
                let d = before.duration();
                // Truncate towards the past: 0.5 s before the epoch is 1969-12-31 23:59:59.
                let whole = i64::try_from(d.as_secs()).map_err(|_| DatetimeError::OutOfRange)?;
                -whole - i64::from(d.subsec_nanos() > 0)
            }
        };
        Self::from_unix_seconds(secs)
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// This datetime as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        if self.secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(self.secs.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(self.secs.unsigned_abs())
        }
    }

    /// The datetime `secs` seconds later (or earlier, when negative), saturating at
    /// [`Datetime::MIN`] and [`Datetime::MAX`].
    pub fn saturating_add_seconds(self, secs: i64) -> Self {
        Datetime {
            secs: self
                .secs
                .saturating_add(secs)
                .clamp(Self::MIN.secs, Self::MAX.secs),
        }
    }

    /// Parse the strict `YYYY-MM-DD HH:MM:SS` form from bytes.
    pub fn parse_bytes(s: &[u8]) -> Result<Self, DatetimeError> {
        let s: &[u8; DATETIME_LEN] = s.try_into().map_err(|_| DatetimeError::Length(s.len()))?;
        // Statics, read in place: a `const` array iterated by value is copied onto the stack
        // at every call.
        static SEPARATORS: [(usize, u8, &str); 5] = [
            (4, b'-', "'-'"),
            (7, b'-', "'-'"),
            (10, b' ', "a space"),
            (13, b':', "':'"),
            (16, b':', "':'"),
        ];
        for &(position, byte, expected) in &SEPARATORS {
            if s[position] != byte {
                return Err(DatetimeError::Syntax { position, expected });
            }
        }
        // Every digit checked first, in order, so that the first bad one is named; then each
        // field read without further checks.
        static DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
        if let Some(position) = DIGITS.iter().copied().find(|&i| !s[i].is_ascii_digit()) {
            return Err(DatetimeError::Syntax {
                position,
                expected: "a digit",
            });
        }
        let two = |at: usize| u32::from(s[at] - b'0') * 10 + u32::from(s[at + 1] - b'0');
        let year = two(0) * 100 + two(2);
        let month = two(5);
        let day = two(8);
        let hour = two(11);
        let minute = two(14);
        let second = two(17);
        let range = |ok: bool, field: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(DatetimeError::Range { field })
            }
        };
        range((1..=12).contains(&month), "month")?;
        range((1..=days_in_month(year, month)).contains(&day), "day")?;
        range(hour < 24, "hour")?;
        range(minute < 60, "minute")?;
        range(second < 60, "second")?;
        let days = days_from_civil(i64::from(year), month, day);
        Ok(Datetime {
            secs: days * 86_400 + i64::from(hour * 3600 + minute * 60 + second),
        })
    }

    /// Format as the 19 ASCII bytes `YYYY-MM-DD HH:MM:SS`, without allocating.
    pub fn to_bytes(self) -> [u8; DATETIME_LEN] {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let mut out = *b"0000-00-00 00:00:00";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year as u32);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, rem / 3600);
        put(14, 2, rem / 60 % 60);
        put(17, 2, rem % 60);
        out
    }
}

impl FromStr for Datetime {
    type Err = DatetimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_bytes(s.as_bytes())
    }
}

impl serde::Serialize for Datetime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = self.to_bytes();
        s.serialize_str(std::str::from_utf8(&bytes).unwrap_or_default())
    }
}

impl<'de> serde::Deserialize<'de> for Datetime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Datetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_bytes();
        // The bytes are ASCII digits and separators by construction.
        f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Datetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Datetime({self})")
    }
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A source of the current time. Every part of the crate that needs "now" takes one, so tests
/// and simulations are deterministic.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until it is moved: for tests, simulations and servers whose clock
/// is deliberately off. Clones share the same time.
///
/// ```
/// use janrain_auth::scheme::{Clock, Datetime, ManualClock};
///
/// let clock = ManualClock::at("2016-02-26 19:08:44".parse().unwrap());
/// clock.advance(61);
/// let now = Datetime::from_system_time(clock.now()).unwrap();
/// assert_eq!(now.to_string(), "2016-02-26 19:09:45");
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    secs: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `at`.
    pub fn at(at: Datetime) -> Self {
        ManualClock {
            secs: Arc::new(AtomicI64::new(at.unix_seconds())),
        }
    }

    /// Set the time.
    pub fn set(&self, at: Datetime) {
        self.secs.store(at.unix_seconds(), Ordering::Relaxed);
    }

    /// Move the time by `secs` seconds (backwards when negative).
    pub fn advance(&self, secs: i64) {
        self.secs.fetch_add(secs, Ordering::Relaxed);
    }

    /// The time shown, as a [`Datetime`] (clamped to the representable range).
    pub fn datetime(&self) -> Datetime {
        Datetime::MIN.saturating_add_seconds(
            self.secs
                .load(Ordering::Relaxed)
                .saturating_sub(Datetime::MIN.unix_seconds()),
        )
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.datetime().to_system_time()
    }
}

/// A clock that reads another clock shifted by a fixed number of seconds: a server whose clock
/// runs behind, or a client correcting for skew.
#[derive(Debug, Clone)]
pub struct OffsetClock<C> {
    inner: C,
    offset_secs: i64,
}

impl<C: Clock> OffsetClock<C> {
    /// `inner` shifted by `offset_secs` seconds (negative: behind).
    pub fn new(inner: C, offset_secs: i64) -> Self {
        OffsetClock { inner, offset_secs }
    }
}

impl<C: Clock> Clock for OffsetClock<C> {
    fn now(&self) -> SystemTime {
        let now = self.inner.now();
        let delta = Duration::from_secs(self.offset_secs.unsigned_abs());
        let shifted = if self.offset_secs >= 0 {
            now.checked_add(delta)
        } else {
            now.checked_sub(delta)
        };
        shifted.unwrap_or(now)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        for (text, secs) in [
            ("1970-01-01 00:00:00", 0),
            ("2000-01-01 01:01:01", 946_688_461),
            ("2016-02-26 19:08:44", 1_456_513_724),
            ("2000-02-29 23:59:59", 951_868_799),
            ("1969-12-31 23:59:59", -1),
            ("0000-01-01 00:00:00", Datetime::MIN.unix_seconds()),
            ("9999-12-31 23:59:59", Datetime::MAX.unix_seconds()),
        ] {
            let dt: Datetime = text.parse().unwrap();
            assert_eq!(dt.unix_seconds(), secs, "{text}");
            assert_eq!(dt.to_string(), text);
            assert_eq!(Datetime::from_unix_seconds(secs).unwrap(), dt);
        }
    }

    #[test]
    fn every_day_round_trips() {
        // Every day of 400 years (a full Gregorian cycle) plus the edges.
        let start = Datetime::parse_bytes(b"1900-01-01 00:00:00")
            .unwrap()
            .unix_seconds();
        for day in 0..146_097 + 10 {
            let dt = Datetime::from_unix_seconds(start + day * 86_400 + 3_723).unwrap();
            let text = dt.to_string();
            assert_eq!(text.parse::<Datetime>().unwrap(), dt, "{text}");
        }
    }

    #[test]
    fn strict_parsing() {
        use DatetimeError::*;
        let cases: &[(&str, DatetimeError)] = &[
            ("", Length(0)),
            ("2016-02-26 19:08:44 ", Length(20)),
            (
                "2016-02-26T19:08:44",
                Syntax {
                    position: 10,
                    expected: "a space",
                },
            ),
            (
                "2016/02/26 19:08:44",
                Syntax {
                    position: 4,
                    expected: "'-'",
                },
            ),
            (
                "2016-02-26 19-08:44",
                Syntax {
                    position: 13,
                    expected: "':'",
                },
            ),
            (
                "2016-0a-26 19:08:44",
                Syntax {
                    position: 6,
                    expected: "a digit",
                },
            ),
            (
                "+016-02-26 19:08:44",
                Syntax {
                    position: 0,
                    expected: "a digit",
                },
            ),
            ("2016-13-26 19:08:44", Range { field: "month" }),
            ("2016-00-26 19:08:44", Range { field: "month" }),
            ("2015-02-29 19:08:44", Range { field: "day" }),
            ("2016-04-31 19:08:44", Range { field: "day" }),
            ("2016-04-00 19:08:44", Range { field: "day" }),
            ("2016-02-26 24:00:00", Range { field: "hour" }),
            ("2016-02-26 23:60:00", Range { field: "minute" }),
            ("2016-02-26 23:59:60", Range { field: "second" }),
            ("Fri, 26 Feb 2016 19:08:44 GMT", Length(29)),
        ];
        for (text, err) in cases {
            assert_eq!(text.parse::<Datetime>().as_ref(), Err(err), "{text}");
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(
            Datetime::parse_bytes("2016-02-26 19:08:4é".as_bytes()),
            Err(Length(20))
        );
    }

    #[test]
    fn system_time_conversions() {
        let t = UNIX_EPOCH + Duration::from_millis(1_456_513_724_999);
        let dt = Datetime::from_system_time(t).unwrap();
        assert_eq!(dt.to_string(), "2016-02-26 19:08:44");
        let before = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(
            Datetime::from_system_time(before).unwrap().unix_seconds(),
            -1
        );
        assert_eq!(
            dt.to_system_time(),
            UNIX_EPOCH + Duration::from_secs(1_456_513_724)
        );
        assert_eq!(
            Datetime::from_unix_seconds(Datetime::MAX.unix_seconds() + 1),
            Err(DatetimeError::OutOfRange)
        );
        assert_eq!(Datetime::MAX.saturating_add_seconds(10), Datetime::MAX);
    }
}
