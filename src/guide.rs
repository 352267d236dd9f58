//! What a user of the crate needs to know that is not one type's documentation: the string
//! janrain-signed signs, the choices the crate makes where Janrain's documentation is silent or
//! contradicts itself, and the clients file. The error codes are in [`crate::error`].
//!
//! # The janrain-signed string to sign
//!
//! A request is signed over three parts, each followed by a line feed:
//!
//! 1. the endpoint path the client calls, such as `/entity.find` (no host, no query string);
//! 2. the UTC date and time as `YYYY-MM-DD HH:MM:SS`, the same text sent as the `Date` header;
//! 3. every request parameter as a `key=value` line, the lines sorted, each ending in `\n`.
//!    Keys and values are the decoded text (a value sent as `a%3Db` is signed as `a=b`);
//!    nothing is escaped.
//!
//! The signature is `base64(HMAC-SHA1(client_secret, string_to_sign))`, and the request carries
//! `Authorization: Signature <client_id>:<signature>`. For the client `foo` with the secret
//! `bar`, calling `/entity` at 2000-01-01 01:01:01 with three parameters:
//!
//! ```
//! use janrain_auth::credentials::ClientId;
//! use janrain_auth::scheme::{SigningKey, StringToSign, signature_header};
//!
//! let params = [
//!     ("param1", "this is a string"),
//!     ("param2", "10"),
//!     ("param3", "one=1\ntwo=2,three=3"),
//! ];
//! let sts = StringToSign::new("/entity", "2000-01-01 01:01:01", &params);
//! assert_eq!(
//!     sts.to_bytes(),
//!     b"/entity\n2000-01-01 01:01:01\nparam1=this is a string\nparam2=10\nparam3=one=1\ntwo=2,three=3\n"
//! );
//! let signature = SigningKey::new("bar").sign(&sts);
//! let header = signature_header(&ClientId::new("foo")?, &signature);
//! assert_eq!(header, "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY=");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The third parameter's value holds a line feed and `=`: the string to sign cannot tell it
//! from two parameters. That is inherent in the scheme; a server can refuse such text with
//! [`strict_parameters`](crate::server::VerifyLayerBuilder::strict_parameters).
//!
//! Basic authentication is `Authorization: Basic base64(client_id:client_secret)`.
//!
//! # Choices where Janrain's documentation is silent or contradicts itself
//!
//! * **Line order.** Parameters are sorted as whole `key=value` lines, as Janrain's reference
//!   Python client does. Janrain's Java, JavaScript, PHP and Ruby samples sort by key; the two
//!   differ only for keys such as `birthdate` and `birthdate.year`. A verifier accepts both
//!   with `.accept_forms([Canonicalization::CANONICAL, Canonicalization::SAMPLE_CODE])`.
//! * **No parameters.** `endpoint\ndatetime\n`, as both production clients sign; the samples'
//!   extra blank line is part of [`Canonicalization::SAMPLE_CODE`](crate::scheme::Canonicalization::SAMPLE_CODE).
//! * **Repeated keys.** One line per value, sorted with the rest.
//! * **Date window.** ±300 s by default
//!   ([`date_window`](crate::server::VerifyLayerBuilder::date_window)), the usual choice of
//!   HMAC request-signing schemes; Janrain publishes none.
//! * **Where the parameters are.** A form body (POST) or the query string, never both; see
//!   the [server documentation](crate::server#what-it-checks-in-order).
//! * **Error codes.** Janrain's codes where they exist; the crate's own for the cases Janrain
//!   never documented (the table in [`crate::error`]). `.janrain_status(true)` answers every
//!   error with HTTP 200, as Janrain itself does.
//! * **Catalog.** `getVerificationCode` allows `access_issuer`; `link_account_native`,
//!   `unlink_account_native` and `update_profile_native` need an access token issued to the
//!   same login client, the other `*_native` operations a `client_id` only;
//!   `useVerificationCode` takes no authentication; the legacy `/clients/*` and `/settings/*`
//!   operations accept janrain-signed as well as Basic. [`Catalog::insert`](crate::permissions::Catalog::insert)
//!   overrides any of it.
//! * **What a user's token addresses.** Janrain says a call made with a user's access token
//!   acts for that user; it does not say how a server treats parameters that name a record.
//!   The layer refuses every name that could (`uuid`, `id`, `key_attribute`, `key_value`, in
//!   any letter case, with or without `_`) but one `uuid` equal to the token's user, and
//!   names other than ASCII letters, digits and `_` on such requests, so that no lenient
//!   handler can be led to another record (see the [server
//!   documentation](crate::server#who-acts)).
//! * **Parameters beside the credential.** An `access_token` parameter on a request
//!   authenticated as an API client, and a `client_id` naming another client than the one
//!   that authenticated, are refused: Janrain's clients never send them, and a handler could
//!   take them for verified.
//!
//! # The clients file
//!
//! [`ClientsFile`](crate::server::ClientsFile) loads the clients (and the access tokens of
//! login clients) a server accepts from JSON:
//!
//! ```json
//! {
//!   "clients": [
//!     {"client_id": "reader_client", "secrets": ["first-secret", "next-secret"],
//!      "features": ["direct_read_access"]}
//!   ],
//!   "tokens": [
//!     {"access_token": "...", "client_id": "login_client", "expires_at": "2030-01-01 00:00:00"}
//!   ]
//! }
//! ```
//!
//! * `client_id`: 1 to 256 visible ASCII characters, no `:`.
//! * `secrets`: one or more; a request is accepted with any of them, so a secret can be
//!   rotated by adding the new one, moving clients over, then removing the old one.
//! * `features`: any of `owner`, `access_issuer`, `direct_access`, `direct_read_access`,
//!   `login_client`, `metadata` (default: none).
//! * `tokens` (optional): access tokens issued to login clients; `expires_at` is UTC in the
//!   same `YYYY-MM-DD HH:MM:SS` form as the `Date` header.
//!
//! Unknown fields are refused, so a typo is an error at start rather than a silent default.
