//! The janrain-signed scheme: pure functions and types, no I/O, no clock of its own.
//!
//! * [`StringToSign`]: endpoint, datetime and sorted `key=value` lines;
//! * [`SigningKey`]: HMAC-SHA1 keyed once per secret; [`Signature`]: the 28 base64 bytes;
//! * [`Authorization`]: the `Signature` and `Basic` header values, parsed and formatted;
//! * [`Datetime`]: the strict `YYYY-MM-DD HH:MM:SS` UTC `Date`, and the [`Clock`] that gives "now";
//! * [`reference`](mod@reference): the string to sign, the signature and the form decoding written plainly, to
//!   test an implementation against.
//!
//! Signing a request end to end:
//!
//! ```
//! use janrain_auth::credentials::ClientId;
//! use janrain_auth::scheme::{signature_header, Datetime, SigningKey, StringToSign};
//!
//! let key = SigningKey::new("bar"); // keyed once, reused for every request
//! let date: Datetime = "2000-01-01 01:01:01".parse()?;
//! let date_text = date.to_string();
//! let params = [("param1", "this is a string"), ("param2", "10"), ("param3", "one=1\ntwo=2,three=3")];
//! let signature = key.sign(&StringToSign::new("/entity", &date_text, &params));
//! let header = signature_header(&ClientId::new("foo")?, &signature);
//! assert_eq!(header, "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod authorization;
mod datetime;
pub(crate) mod ids;
pub mod reference;
mod signing_key;
mod sink;
mod string_to_sign;

pub use authorization::{
    Authorization, AuthorizationError, BasicCredentials, MAX_BASIC_LEN, SignatureCredentials,
    basic_header, signature_header,
};
pub use datetime::{
    Clock, DATETIME_LEN, Datetime, DatetimeError, ManualClock, OffsetClock, SystemClock,
};
pub use signing_key::{SIGNATURE_LEN, Signature, SigningKey};
pub use string_to_sign::{Canonicalization, Param, ParamOrder, Params, StringToSign};
