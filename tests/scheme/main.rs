//! The scheme: the reference vectors, properties of the string to sign and the signature,
//! and the `sign` example that prints them.

mod props;
mod sign_example;
mod vectors;
