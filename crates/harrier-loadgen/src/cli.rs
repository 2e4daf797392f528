//! The command line: every flag, its default and its meaning.

use clap::{Parser, ValueEnum};
use harrier_loadgen::forward::ForwardMode;
use harrier_loadgen::payload::Signal;
use std::time::Duration;

/// Sends telemetry to a collector as fast as it accepts it (or at a fixed rate) for a
/// fixed time, then prints requests ok/failed, items/s and request latency: OTLP
/// (gRPC or HTTP), Fluent Forward frames over TCP (`--protocol forward`) or Kubernetes
/// audit webhook batches (`--protocol audit`).
///
/// Requests are built once before the run and reused (16 distinct ones, cycled), so the
/// generator spends its CPU on sending, not on building data. Each worker has its own
/// connection and sends one request at a time. Exits with 1 if any request failed.
#[derive(Debug, Parser)]
#[command(name = "harrier-loadgen", version, about, long_about)]
pub struct Args {
    /// Which telemetry to send (OTLP only): spans, metric data points or log records.
    /// `forward` and `audit` always send log records.
    #[arg(long, value_enum, default_value_t = Signal::Traces)]
    pub signal: Signal,

    /// Transport: OTLP `grpc`, OTLP `http` (protobuf, POST /v1/<signal>), `forward`
    /// (Fluent Forward protocol over TCP, one frame per request, answered by its ack) or
    /// `audit` (POST of an `audit.k8s.io/v1` `EventList` to `--audit-path`).
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    pub protocol: Protocol,

    /// Where to send: `host:port` or `http://host:port` (plain text only). Default
    /// 127.0.0.1:4317 for grpc, 127.0.0.1:4318 for http, 127.0.0.1:24224 for forward
    /// (`host:port` only), 127.0.0.1:8099 for audit.
    #[arg(long, value_name = "HOST:PORT")]
    pub endpoint: Option<String>,

    /// Items per request: spans (traces), data points (metrics) or log records (logs);
    /// records per frame (forward); events per `EventList` (audit).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub items_per_request: u32,

    /// Attributes on every span, data point or log record (OTLP only).
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

    /// Request body compression (OTLP only; for forward see `--forward-mode compressed`).
    #[arg(long, value_enum, default_value_t = Compression::None)]
    pub compression: Compression,

    /// Per-request timeout; a request that takes longer counts as failed.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,

    /// Forward protocol event mode: `forward` (`[tag, [[time, record], ...], option]`),
    /// `packed` (PackedForward, entries as one bin), `compressed` (gzip
    /// CompressedPackedForward) or `message` (one `[tag, time, record, option]` message
    /// per record, the frame's messages written back to back).
    #[arg(long, value_enum, default_value_t = ForwardMode::Forward)]
    pub forward_mode: ForwardMode,

    /// Size in bytes of one encoded forward entry (`[EventTime, record]`): the `log`
    /// field is padded to reach it.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub record_size: u32,

    /// Add Fluent Bit's `kubernetes` metadata map (pod, namespace, labels, container,
    /// image) to every forward record (the `log` field shrinks to keep `--record-size`).
    #[arg(long)]
    pub kubernetes: bool,

    /// Send forward frames without a `chunk` option: nothing is acknowledged, and a
    /// request counts as done once written (no end-to-end latency).
    #[arg(long)]
    pub no_chunk: bool,

    /// URL path of the audit webhook.
    #[arg(long, default_value = "/audit")]
    pub audit_path: String,
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    Http,
    /// Fluent Forward protocol over TCP.
    Forward,
    /// Kubernetes audit webhook (JSON `EventList` over HTTP).
    Audit,
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
    /// The flag value (`grpc`, `http`, `forward`, `audit`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
            Protocol::Forward => "forward",
            Protocol::Audit => "audit",
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
        base_url(self.endpoint.as_deref().unwrap_or(self.default_endpoint()))
    }

    fn default_endpoint(&self) -> &'static str {
        match self.protocol {
            Protocol::Grpc => "127.0.0.1:4317",
            Protocol::Http => "127.0.0.1:4318",
            Protocol::Forward => "127.0.0.1:24224",
            Protocol::Audit => "127.0.0.1:8099",
        }
    }

    /// The `host:port` a forward client connects to (a `tcp://` prefix is allowed).
    pub fn tcp_address(&self) -> String {
        let endpoint = self.endpoint.as_deref().unwrap_or(self.default_endpoint());
        let trimmed = endpoint.trim().trim_end_matches('/');
        trimmed
            .strip_prefix("tcp://")
            .unwrap_or(trimmed)
            .to_string()
    }

    /// The audit webhook URL: the base URL and `--audit-path`.
    pub fn audit_url(&self) -> String {
        let path = self.audit_path.trim();
        if path.starts_with('/') {
            format!("{}{path}", self.base_url())
        } else {
            format!("{}/{path}", self.base_url())
        }
    }

    /// What one item is called in summaries.
    pub fn item_noun(&self) -> &'static str {
        match self.protocol {
            Protocol::Grpc | Protocol::Http => self.signal.item_noun(),
            Protocol::Forward => "records",
            Protocol::Audit => "events",
        }
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
    fn forward_and_audit_have_their_own_defaults() {
        let args = Args::try_parse_from(["harrier-loadgen", "--protocol", "forward"]).unwrap();
        assert_eq!(args.tcp_address(), "127.0.0.1:24224");
        assert_eq!(args.forward_mode, ForwardMode::Forward);
        assert_eq!(args.record_size, 1024);
        assert!(!args.kubernetes && !args.no_chunk);
        assert_eq!(args.item_noun(), "records");
        let args = Args::try_parse_from([
            "harrier-loadgen",
            "--protocol",
            "forward",
            "--forward-mode",
            "packed",
            "--endpoint",
            "tcp://10.0.0.1:24225",
        ])
        .unwrap();
        assert_eq!(args.forward_mode, ForwardMode::Packed);
        assert_eq!(args.tcp_address(), "10.0.0.1:24225");
        let args = Args::try_parse_from(["harrier-loadgen", "--protocol", "audit"]).unwrap();
        assert_eq!(args.audit_url(), "http://127.0.0.1:8099/audit");
        assert_eq!(args.item_noun(), "events");
    }

    #[test]
    fn rejects_zero_items_and_workers() {
        assert!(Args::try_parse_from(["harrier-loadgen", "--items-per-request", "0"]).is_err());
        assert!(Args::try_parse_from(["harrier-loadgen", "--concurrency", "0"]).is_err());
    }
}
