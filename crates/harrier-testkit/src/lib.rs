//! Test helpers shared by Harrier's tests: deterministic data generators, an in-memory
//! collecting exporter, a controllable (slow / failing) exporter, free loopback ports,
//! and readers for the file exporter's OTLP/JSON output.

pub mod data;
pub mod exporters;
pub mod tls;

use harrier_pdata::{Batch, Signal};
use std::net::TcpListener;
use std::path::Path;

/// A loopback port that was free a moment ago (bind to port 0, read, release).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Reads a file exporter's output: one OTLP/JSON export request per line. Lines of
/// other signals than `signal` are skipped; a malformed line is an error.
///
/// # Errors
/// A message naming the file and line.
pub fn read_json_lines(path: &Path, signal: Signal) -> Result<Vec<Batch>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let key = match signal {
        Signal::Traces => "\"resourceSpans\"",
        Signal::Metrics => "\"resourceMetrics\"",
        Signal::Logs => "\"resourceLogs\"",
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || !line.contains(key) {
            continue;
        }
        let batch = harrier_pdata::json::decode_request(signal, line.as_bytes())
            .map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        out.push(batch);
    }
    Ok(out)
}
