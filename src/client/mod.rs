//! Outbound signing: a tower layer for `http::Request`s and (feature `reqwest`) a
//! reqwest-middleware middleware.
