//! The whole verification path against a model of the documented procedure: see
//! `janrain_auth_fuzz::verify` (fuzz/src/verify/) for the inputs and the properties.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| janrain_auth_fuzz::verify::run(data));
