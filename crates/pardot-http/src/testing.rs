//! Test support for the crates built on this one (feature `test-util`): [`RedisServer`], a real
//! `redis-server` for tests of the Redis store and governor. It lives in the library, behind a
//! feature, so every package's tests share it without reaching into another package's files.
//!
//! The server is started on a free loopback port with persistence off (or,
//! for a test that restarts it, AOF on), waited for (bounded) until it answers `PING`, and
//! killed by its PID on drop.
//!
//! When `redis-server` is not installed, [`RedisServer::start`] prints why and returns `None`
//! (the test then skips), except under CI (`CI` set), where a missing server is a failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary, overridable for machines that keep it elsewhere.
fn binary() -> String {
    std::env::var("PARDOT_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

/// A running `redis-server`, killed on drop.
pub struct RedisServer {
    child: Child,
    port: u16,
    password: Option<String>,
    /// AOF on (`appendfsync always`), so a restart finds every acknowledged write.
    append_only: bool,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// A server without a password, or `None` (skip) when `redis-server` is missing outside
    /// CI.
    pub fn start() -> Option<Self> {
        Self::start_with_password(None)
    }

    /// A server with AOF on (every write synced before it is acknowledged), for a test that
    /// [restarts](Self::restart) it; `None` as for [`start`](Self::start).
    pub fn start_append_only() -> Option<Self> {
        Self::start_configured(None, true)
    }

    /// A server requiring `password` (when given).
    pub fn start_with_password(password: Option<&str>) -> Option<Self> {
        Self::start_configured(password, false)
    }

    /// Whether `redis-server` can run here.
    pub fn available() -> bool {
        Command::new(binary())
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Why the Redis tests cannot run here.
    pub fn missing_reason() -> String {
        format!(
            "`{}` is not installed (install the redis-server package)",
            binary()
        )
    }

    fn start_configured(password: Option<&str>, append_only: bool) -> Option<Self> {
        if !Self::available() {
            let reason = Self::missing_reason();
            assert!(
                std::env::var_os("CI").is_none(),
                "{reason}, and CI is set: the Redis tests must run under CI"
            );
            eprintln!("SKIPPED: {reason}");
            return None;
        }
        // A port taken between probing and binding is retried with another.
        let mut last_error = String::new();
        for _ in 0..5 {
            match Self::try_start(password, append_only) {
                Ok(server) => return Some(server),
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    fn try_start(password: Option<&str>, append_only: bool) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut server = Self {
            child: Self::spawn(port, password, append_only, dir.path())?,
            port,
            password: password.map(str::to_owned),
            append_only,
            dir,
        };
        server.wait_until_up()?;
        Ok(server)
    }

    fn spawn(
        port: u16,
        password: Option<&str>,
        append_only: bool,
        dir: &std::path::Path,
    ) -> Result<Child, String> {
        let mut command = Command::new(binary());
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if append_only {
            command.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            command.args(["--appendonly", "no"]);
        }
        if let Some(p) = password {
            command.args(["--requirepass", p]);
        }
        command.spawn().map_err(|e| e.to_string())
    }

    /// Starts the server again after [`kill`](Self::kill), on the same port and directory
    /// (with AOF on, it finds its data again).
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.child = Self::spawn(
            self.port,
            self.password.as_deref(),
            self.append_only,
            self.dir.path(),
        )?;
        self.wait_until_up()
    }

    fn wait_until_up(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.answers_ping() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Err("no answer to PING within 10 s".to_owned())
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let command = match &self.password {
            Some(p) => format!("AUTH {p}\r\nPING\r\n"),
            None => "PING\r\n".to_owned(),
        };
        if stream.write_all(command.as_bytes()).is_err() {
            return false;
        }
        let mut answer = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            if answer.windows(5).any(|w| w == b"+PONG") {
                return true;
            }
        }
        false
    }

    /// `redis://127.0.0.1:PORT` (with the password, when the server has one).
    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server (by its PID) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
