//! The command line: every flag, its default and its meaning.

use clap::{Parser, ValueEnum};
use harrier_loadgen::payload::Signal;
use std::time::Duration;

/// Sends OTLP telemetry to a collector as fast as it accepts it (or at a fixed rate)
/// for a fixed time, then prints requests ok/failed, items/s and request latency.
///
/// Requests are built once before the run and reused (16 distinct ones, cycled), so the
/// generator spends its CPU on sending, not on building data. Each worker has its own
/// connection and sends one request at a time. Exits with 1 if any request failed.
#[derive(Debug, Parser)]
#[command(name = "harrier-loadgen", version, about, long_about)]
pub struct Args {
    /// Which telemetry to send: spans, metric data points or log records.
    #[arg(long, value_enum, default_value_t = Signal::Traces)]
    pub signal: Signal,

    /// OTLP transport: `grpc`, or `http` (OTLP/HTTP protobuf, POST /v1/<signal>).
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    pub protocol: Protocol,

    /// Where to send: `host:port` or `http://host:port` (plain text only). Default
    /// 127.0.0.1:4317 for grpc, 127.0.0.1:4318 for http.
    #[arg(long, value_name = "HOST:PORT")]
    pub endpoint: Option<String>,

    /// Items per request: spans (traces), data points (metrics) or log records (logs).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub items_per_request: u32,

    /// Attributes on every span, data point or log record.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=1_000))]
    pub attributes: u32,

    /// Workers sending in parallel, each over its own connection, one request at a time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=4_096))]
    pub concurrency: u32,

    /// Requests per second across all workers; 0 sends as fast as the server answers
    /// (saturation).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,

    /// How long to send, e.g. `10s`, `1m30s`. Requests still in flight at the end are
    /// awaited (up to --timeout).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,

    /// Request body compression.
    #[arg(long, value_enum, default_value_t = Compression::None)]
    pub compression: Compression,

    /// Per-request timeout; a request that takes longer counts as failed.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    Http,
}

/// Request body compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compression {
    /// gzip (gRPC message compression, or `Content-Encoding: gzip`).
    Gzip,
    /// Uncompressed.
    None,
}

impl Protocol {
    /// The flag value (`grpc`, `http`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
        }
    }
}

impl Compression {
    /// The flag value (`gzip`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::None => "none",
        }
    }
}

impl Args {
    /// The base URL (`http://host:port`, no trailing slash) to send to.
    pub fn base_url(&self) -> String {
        let default = match self.protocol {
            Protocol::Grpc => "127.0.0.1:4317",
            Protocol::Http => "127.0.0.1:4318",
        };
        base_url(self.endpoint.as_deref().unwrap_or(default))
    }
}

fn base_url(endpoint: &str) -> String {
    let trimmed = endpoint.trim().trim_end_matches('/');
    if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("http://{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn defaults_match_the_documentation() {
        let args = Args::try_parse_from(["harrier-loadgen"]).unwrap();
        assert_eq!(args.signal, Signal::Traces);
        assert_eq!(args.protocol, Protocol::Grpc);
        assert_eq!(args.items_per_request, 100);
        assert_eq!(args.attributes, 5);
        assert_eq!(args.concurrency, 4);
        assert_eq!(args.rate, 0);
        assert_eq!(args.duration, Duration::from_secs(10));
        assert_eq!(args.compression, Compression::None);
        assert_eq!(args.base_url(), "http://127.0.0.1:4317");
    }

    #[test]
    fn http_defaults_to_port_4318_and_endpoints_get_a_scheme() {
        let args = Args::try_parse_from([
            "harrier-loadgen",
            "--protocol",
            "http",
            "--signal",
            "logs",
            "--duration",
            "1m30s",
            "--compression",
            "gzip",
        ])
        .unwrap();
        assert_eq!(args.base_url(), "http://127.0.0.1:4318");
        assert_eq!(args.duration, Duration::from_secs(90));
        assert_eq!(base_url("localhost:9999/"), "http://localhost:9999");
        assert_eq!(base_url("http://10.0.0.1:4318"), "http://10.0.0.1:4318");
    }

    #[test]
    fn rejects_zero_items_and_workers() {
        assert!(Args::try_parse_from(["harrier-loadgen", "--items-per-request", "0"]).is_err());
        assert!(Args::try_parse_from(["harrier-loadgen", "--concurrency", "0"]).is_err());
    }
}
