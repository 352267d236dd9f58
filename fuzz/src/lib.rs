//! The models and harnesses behind the fuzz targets, kept out of the target files so that each
//! target is a few lines and the models can be read, and built, on their own.
//!
//! * [`verify`]: the whole verification path, a `VerifyLayer`-wrapped tower service driven by
//!   arbitrary and well-formed requests, checked against a model of the documented procedure.

pub mod verify;
