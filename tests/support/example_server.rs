//! The `server` example run as a process, as users run it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `server` example on a free loopback port, killed when dropped.
pub struct ExampleServer {
    child: Child,
    /// `http://127.0.0.1:PORT`, from the line it prints first.
    pub base: String,
}

impl ExampleServer {
    /// Run the example `bin` with `--addr 127.0.0.1:0` and `args`; wait for its
    /// `listening on http://ADDR` line.
    pub fn start(bin: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(bin)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server example starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        ExampleServer { child, base }
    }
}

impl Drop for ExampleServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
