//! Helpers for black-box tests: run the real `harrier` binary on loopback ports.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub use harrier_testkit::free_port;

/// A running `harrier` process.
pub struct Harrier {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub health_port: u16,
    pub metrics_port: u16,
}

/// Writes `config` (with `{dir}`, `{health}` and `{metrics}` placeholders filled in) to
/// a temp dir and starts the binary on it; waits until the health check says ready.
pub fn start(config: &str) -> Harrier {
    let dir = tempfile::tempdir().unwrap();
    start_in(config, dir)
}

/// Like [`start`], reusing a directory.
pub fn start_in(config: &str, dir: tempfile::TempDir) -> Harrier {
    let health_port = free_port();
    let metrics_port = free_port();
    let text = config
        .replace("{dir}", &dir.path().display().to_string())
        .replace("{health}", &health_port.to_string())
        .replace("{metrics}", &metrics_port.to_string());
    let text =
        format!("{text}\n[extensions.health_check]\nendpoint = \"127.0.0.1:{health_port}\"\n");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_harrier"))
        .arg("--config")
        .arg(&path)
        .env("HARRIER_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut h = Harrier {
        child,
        dir,
        health_port,
        metrics_port,
    };
    h.wait_ready();
    h
}

impl Harrier {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("harrier exited early with {status}:\n{err}");
            }
            if let Ok(body) = http_get(self.health_port, "/")
                && body.contains("\"ready\"")
            {
                return;
            }
            assert!(Instant::now() < deadline, "harrier did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The own-metrics text.
    pub fn metrics(&self) -> String {
        http_get(self.metrics_port, "/metrics").unwrap_or_default()
    }

    /// The value of one metric line starting with `prefix` (name plus labels).
    pub fn metric(&self, prefix: &str) -> f64 {
        metric_value(&self.metrics(), prefix)
    }

    /// Sends SIGTERM and waits for the exit; returns the status and stderr.
    pub fn terminate(&mut self) -> (ExitStatus, String) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("harrier did not exit after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status, err)
    }
}

impl Drop for Harrier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn metric_value(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// A tiny blocking HTTP GET over loopback (no client dependency needed).
pub fn http_get(port: u16, path: &str) -> Result<String, std::io::Error> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Polls `cond` every 50 ms for up to `secs` seconds.
pub fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Items in a file exporter's output so far.
pub fn file_items(path: &Path, signal: harrier_pdata::Signal) -> usize {
    harrier_testkit::read_json_lines(path, signal)
        .map(|b| b.iter().map(harrier_pdata::Batch::item_count).sum())
        .unwrap_or(0)
}

/// POSTs `body` to `path` on a loopback port with a minimal HTTP/1.1 client (no client
/// dependency, no connection reuse); returns the status code (0 if unreadable).
pub fn post(port: u16, path: &str, content_type: &str, body: &[u8]) -> u16 {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// POSTs a batch as OTLP/HTTP protobuf to its signal's default path.
pub fn post_batch(port: u16, batch: &harrier_pdata::Batch) -> u16 {
    let path = format!("/v1/{}", batch.signal());
    post(
        port,
        &path,
        "application/x-protobuf",
        &batch.encode_request(),
    )
}

/// The Python interpreter of the test venv (fluent-logger, prometheus_client).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("HARRIER_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.venv/bin/python"
    ));
    assert!(
        venv.exists(),
        "no Python interpreter for the Python test peers: set HARRIER_TEST_PYTHON or \
         create {} with `python3 -m venv .venv && .venv/bin/pip install fluent-logger==0.11.1 msgpack prometheus_client==0.21.1` \
         (scripts/test.sh does this)",
        venv.display()
    );
    venv
}

/// A peer process (prometheus, node-exporter, a Python app) killed when dropped.
pub struct Peer {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of a peer binary from Debian's packages, or `None` (with a loud message)
/// when it is missing outside CI; under `CI` a missing peer fails the test.
pub fn peer_binary(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{path} is missing: scripts/test.sh installs it"
    );
    eprintln!("SKIPPED: {path} is not installed (scripts/test.sh installs it)");
    None
}

/// Starts `program args` (with `{port}` and `{dir}` filled in) and waits until
/// `ready_path` answers HTTP 200 on the port.
pub fn spawn_peer(program: &Path, args: &[&str], ready_path: &str) -> Peer {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace("{port}", &port.to_string())
                .replace("{dir}", &dir.path().display().to_string())
        })
        .collect();
    let child = Command::new(program)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peer = Peer { child, port, dir };
    wait_for(30, &format!("{} to be ready", program.display()), || {
        http_get(port, ready_path)
            .is_ok_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
    });
    peer
}

/// Runs a Prometheus instant query against the server on `port`; returns the `result`
/// vector as (labels, value) pairs.
pub fn prometheus_query(
    port: u16,
    query: &str,
) -> Vec<(std::collections::BTreeMap<String, String>, f64)> {
    let mut encoded = String::new();
    for b in query.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    // HTTP/1.0, so the reply is never chunked.
    let get = || -> Result<String, std::io::Error> {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            s,
            "GET /api/v1/query?query={encoded} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        )?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    };
    let Ok(response) = get() else {
        return Vec::new();
    };
    let Some((_, body)) = response.split_once("\r\n\r\n") else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    json["data"]["result"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|r| {
                    let labels = r["metric"]
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let value = r["value"][1]
                        .as_str()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(f64::NAN);
                    (labels, value)
                })
                .collect()
        })
        .unwrap_or_default()
}
