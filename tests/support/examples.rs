//! The example programs, built before a test runs them: [`example_binary!`](crate::example_binary)
//! asks cargo to build the example with the features and profile of the test that calls it, and
//! hands back the executable cargo reports.
//!
//! Cargo decides whether the example is up to date, by the same check as any build: after
//! `cargo test` built the examples, the call only confirms it (a fraction of a second, once per
//! example per test binary); after `cargo test --test client` alone, or an edit of an example's
//! source, it builds the example first. A test never runs a binary older than its sources, and
//! never passes without one: a build that fails fails the test with cargo's message.
//!
//! The features must be the test's own, or cargo would see a different example and build it again
//! beside the one `cargo test` built: [`example_binary!`](crate::example_binary) reads them in the
//! calling test crate with `cfg!(feature = ...)`. The profile is the directory the test binary
//! runs from (`debug` for `dev`, `release`, or a custom profile's name). A feature missing from
//! the macro's list costs a build, never a stale binary: the crate's examples compile the same
//! under every feature set (the library's features come from its dev-dependency on itself).

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The example `name` of the package whose test calls it, built (or confirmed up to date) by
/// cargo with that test's features and profile; its path. Panics with cargo's message when the
/// example does not build.
///
/// ```ignore
/// let bin: std::path::PathBuf = janrain_auth_test_support::example_binary!("sign");
/// ```
#[macro_export]
macro_rules! example_binary {
    ($name:expr) => {
        // The crate's features (`default` included: to cargo it is a feature like the
        // others), each as the calling test crate was built.
        $crate::examples::built(
            env!("CARGO_MANIFEST_DIR"),
            $name,
            &[
                ("default", cfg!(feature = "default")),
                ("axum", cfg!(feature = "axum")),
                ("reqwest", cfg!(feature = "reqwest")),
                ("redis", cfg!(feature = "redis")),
                ("tower-http", cfg!(feature = "tower-http")),
                ("emulator", cfg!(feature = "emulator")),
            ],
        )
    };
}

/// What [`example_binary!`](crate::example_binary) expands to: `features` names each feature and
/// whether it is on in the calling test. Each example is built once per test binary; concurrent
/// tests wait for that one build.
pub fn built(manifest_dir: &str, name: &str, features: &[(&str, bool)]) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let path = build(Path::new(manifest_dir), name, features);
    built.insert(name.to_owned(), path.clone());
    path
}

/// The arguments that select the features that are on.
fn feature_args(features: &[(&str, bool)]) -> Vec<String> {
    if features.iter().all(|&(_, on)| on) {
        return vec!["--all-features".into()];
    }
    let mut args = Vec::new();
    if !features.contains(&("default", true)) {
        args.push("--no-default-features".into());
    }
    let named: Vec<&str> = features
        .iter()
        .filter(|&&(feature, on)| on && feature != "default")
        .map(|&(feature, _)| feature)
        .collect();
    if !named.is_empty() {
        args.push(format!("--features={}", named.join(",")));
    }
    args
}

/// The profile the running test was built with, from the directory holding its `deps/`.
fn profile_args() -> Vec<String> {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("debug");
    match dir {
        "debug" => Vec::new(),
        "release" => vec!["--release".into()],
        custom => vec![format!("--profile={custom}")],
    }
}

fn build(manifest_dir: &Path, name: &str, features: &[(&str, bool)]) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from(env!("CARGO")));
    let out = Command::new(cargo)
        .current_dir(manifest_dir)
        .args([
            "build",
            "--message-format=json-render-diagnostics",
            "--example",
            name,
        ])
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"))
        .args(feature_args(features))
        .args(profile_args())
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the example {name} does not build:\n{stderr}"
    );
    // One JSON message a line; the example's is the `compiler-artifact` with an executable.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == name
                && message["target"]["kind"][0] == "example"
        })
        .and_then(|message| message["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo built no executable for the example {name}:\n{stderr}"))
}
