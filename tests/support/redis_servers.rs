//! Real `redis-server` processes for the Redis tests: a standalone server (the one `REDIS_URL`
//! names, else one started here on a free loopback port) and three-master Redis Clusters started
//! here. The one prerequisite is the `redis-server` and `redis-cli` binaries on the `PATH`.
//!
//! Every process started here runs under a small shell that holds the read end of a pipe whose
//! write end this test process holds: when the handle is dropped, or this process ends however
//! it ends (a panic, an abort, a kill), the pipe closes and the shell stops its server and
//! removes its temporary directory. Nothing outlives the tests.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// How long a server may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// One `redis-server` on a loopback port, stopped when dropped.
pub struct RedisProcess {
    pub port: u16,
    args: Vec<String>,
    dir: PathBuf,
    /// Whether the shell removes the directory when it stops the server (a server that is
    /// never restarted, whose handle may never be dropped).
    remove_dir: bool,
    child: Option<Child>,
}

impl RedisProcess {
    /// Start `redis-server` on `port` in `dir` with `extra` arguments; wait until it answers.
    fn start(port: u16, dir: PathBuf, remove_dir: bool, extra: &[&str]) -> Result<Self, String> {
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            "--logfile",
            "redis.log",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut process = RedisProcess {
            port,
            args,
            dir,
            remove_dir,
            child: None,
        };
        process.restart()?;
        Ok(process)
    }

    /// Start the server (again), with the same port, directory and arguments.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        // The shell starts the server, waits for its stdin to close, then stops the server.
        let script = r#"d="$1"; r="$2"; shift 2; cd "$d" || exit 1; redis-server "$@" & pid=$!; read -r _; kill "$pid" 2>/dev/null; wait "$pid"; if [ "$r" = rm ]; then cd / && rm -rf "$d"; fi"#;
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&self.dir)
            .arg(if self.remove_dir { "rm" } else { "keep" })
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh/redis-server: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while !answers(self.port) {
            if Instant::now() > deadline
                || self
                    .child
                    .as_mut()
                    .is_some_and(|c| c.try_wait().ok().flatten().is_some())
            {
                self.stop();
                return Err(format!(
                    "redis-server did not start on port {} (is redis-server installed?)",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Stop the server and wait until it is gone (its directory stays, for a restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether something answers `PING` with `+PONG` on this loopback port.
pub fn answers(port: u16) -> bool {
    let Ok(mut stream) =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG"
}

/// A fresh temporary directory.
fn temp_dir(what: &str) -> PathBuf {
    use std::hash::{BuildHasher, RandomState};
    let nonce = RandomState::new().hash_one(SystemTime::now());
    std::env::temp_dir().join(format!(
        "janrain-auth-{what}-{}-{nonce:016x}",
        std::process::id()
    ))
}

/// A loopback port that is free now, and whose cluster bus port (+10000) is free too.
fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// A standalone Redis for a test: `REDIS_URL` if set, else one started here on a free loopback
/// port (once per test binary, stopped when it exits). A Redis that happens to answer on
/// 127.0.0.1:6379 is never used unless `REDIS_URL` names it: the tests depend on no server of
/// the machine's, and touch none. `REDIS_URL=spawn` means the same as no `REDIS_URL`.
pub fn standalone_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    static STARTED: OnceLock<RedisProcess> = OnceLock::new();
    URL.get_or_init(|| {
        if let Some(url) = std::env::var("REDIS_URL").ok().filter(|url| url != "spawn") {
            return url;
        }
        let mut last = String::new();
        for _ in 0..5 {
            match RedisProcess::start(free_port(), temp_dir("redis"), true, &[]) {
                Ok(process) => return STARTED.get_or_init(|| process).url(),
                Err(e) => last = e,
            }
        }
        panic!("no Redis for the tests: {last}");
    })
    .clone()
}

/// A Redis Cluster of three masters (no replicas) on free loopback ports, stopped when
/// dropped. `cluster-require-full-coverage no`, so that while one master is down the others
/// keep serving their slots.
pub struct RedisCluster {
    pub masters: Vec<RedisProcess>,
}

impl RedisCluster {
    /// Start three masters and join them into a cluster; wait until it is up.
    pub fn start() -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start() {
                Ok(cluster) => return cluster,
                Err(e) => last = e,
            }
        }
        panic!("cannot start a Redis Cluster: {last}");
    }

    fn try_start() -> Result<Self, String> {
        let dir = temp_dir("cluster");
        let mut masters = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let config = format!("nodes-{port}.conf");
            masters.push(RedisProcess::start(
                port,
                dir.join(port.to_string()),
                false,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &config,
                    "--cluster-node-timeout",
                    "1000",
                    "--cluster-require-full-coverage",
                    "no",
                ],
            )?);
        }
        let cluster = RedisCluster { masters };
        let addrs: Vec<String> = cluster
            .masters
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.port))
            .collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run redis-cli: {e}"))?;
        if !created.status.success() {
            return Err(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&created.stdout)
            ));
        }
        let deadline = Instant::now() + START_TIMEOUT;
        while !cluster.masters.iter().all(|m| cluster_ok(m.port)) {
            if Instant::now() > deadline {
                return Err("the cluster did not reach cluster_state:ok".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(cluster)
    }

    /// `redis://127.0.0.1:PORT` of every master.
    pub fn urls(&self) -> Vec<String> {
        self.masters.iter().map(RedisProcess::url).collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        let parent = self
            .masters
            .first()
            .and_then(|m| m.dir.parent().map(PathBuf::from));
        self.masters.clear();
        if let Some(parent) = parent {
            let _ = std::fs::remove_dir_all(parent);
        }
    }
}

/// Whether the node on `port` says `cluster_state:ok`.
pub fn cluster_ok(port: u16) -> bool {
    Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "cluster",
            "info",
        ])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("cluster_state:ok"))
}

/// Deletes every key under a prefix of the standalone Redis when dropped, so that tests
/// leave nothing behind in a Redis they did not start.
pub struct DeleteOnDrop(pub String);

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(standalone_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}
