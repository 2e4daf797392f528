//! One worker's connection: an OTLP/gRPC client (opentelemetry-proto's generated
//! clients over tonic), an OTLP/HTTP protobuf client (reqwest), a Fluent Forward TCP
//! connection or a Kubernetes audit webhook client (reqwest), and one send.
//!
//! [`Client::send`] returns how many items the server rejected through
//! `partial_success` (0 for forward and audit), or a short error message for the
//! summary.
//!
//! A forward send writes the frame and reads the `{"ack": chunk}` answers it expects
//! (their exact bytes are pre-built), so its latency is until the last ack. A failed
//! forward send drops the connection; the next send reconnects.

use crate::cli::{Args, Compression, Protocol};
use harrier_loadgen::forward::ForwardFrame;
use harrier_loadgen::payload::{Payload, Requests, Signal};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint};

/// Longest server error text kept in a message.
const MAX_ERROR_TEXT: usize = 200;

/// Why a worker could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The endpoint is not a valid URI.
    #[error("invalid endpoint {endpoint:?}: {source}")]
    Endpoint {
        /// What was given.
        endpoint: String,
        /// Why it is invalid.
        source: tonic::transport::Error,
    },
    /// The gRPC connection could not be opened.
    #[error("cannot connect to {endpoint}: {}", error_chain(.source))]
    Connect {
        /// Where.
        endpoint: String,
        /// Why.
        source: tonic::transport::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {}", error_chain(.0))]
    Http(reqwest::Error),
    /// The forward TCP connection could not be opened.
    #[error("cannot connect to {endpoint}: {message}")]
    Tcp {
        /// Where.
        endpoint: String,
        /// Why.
        message: String,
    },
}

/// A connection that sends pre-built requests.
pub enum Client {
    /// OTLP/gRPC traces.
    Traces(TraceServiceClient<Channel>),
    /// OTLP/gRPC metrics.
    Metrics(MetricsServiceClient<Channel>),
    /// OTLP/gRPC logs.
    Logs(LogsServiceClient<Channel>),
    /// OTLP/HTTP protobuf.
    Http(HttpClient),
    /// Fluent Forward over TCP.
    Forward(ForwardClient),
    /// Kubernetes audit webhook.
    Audit(AuditClient),
}

/// A Fluent Forward connection (reopened after a failure).
pub struct ForwardClient {
    address: String,
    stream: Option<TcpStream>,
    timeout: Duration,
    ack_buf: Vec<u8>,
}

/// A Kubernetes audit webhook client.
pub struct AuditClient {
    client: reqwest::Client,
    url: String,
}

/// An OTLP/HTTP protobuf client for one signal.
pub struct HttpClient {
    client: reqwest::Client,
    url: String,
    signal: Signal,
    gzip: bool,
}

/// The `google.rpc.Status` an OTLP/HTTP server answers errors with (fields 1 and 2).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

impl Client {
    /// Opens a connection as `args` say (gRPC connects now; HTTP connects on first use).
    ///
    /// # Errors
    /// [`SetupError`] when the endpoint is invalid or unreachable.
    pub async fn connect(args: &Args) -> Result<Client, SetupError> {
        let base = args.base_url();
        let gzip = args.compression == Compression::Gzip;
        match args.protocol {
            Protocol::Grpc => {
                let channel = Endpoint::from_shared(base.clone())
                    .map_err(|source| SetupError::Endpoint {
                        endpoint: base.clone(),
                        source,
                    })?
                    .tcp_nodelay(true)
                    .timeout(args.timeout)
                    .connect_timeout(Duration::from_secs(5))
                    .connect()
                    .await
                    .map_err(|source| SetupError::Connect {
                        endpoint: base.clone(),
                        source,
                    })?;
                Ok(grpc_client(args.signal, channel, gzip))
            }
            Protocol::Http => {
                let client = reqwest::Client::builder()
                    .timeout(args.timeout)
                    .connect_timeout(Duration::from_secs(5))
                    .tcp_nodelay(true)
                    .pool_max_idle_per_host(1)
                    .build()
                    .map_err(SetupError::Http)?;
                Ok(Client::Http(HttpClient {
                    client,
                    url: format!("{base}/v1/{}", args.signal.as_str()),
                    signal: args.signal,
                    gzip,
                }))
            }
            Protocol::Forward => {
                let address = args.tcp_address();
                let stream = connect_tcp(&address)
                    .await
                    .map_err(|message| SetupError::Tcp {
                        endpoint: address.clone(),
                        message,
                    })?;
                Ok(Client::Forward(ForwardClient {
                    address,
                    stream: Some(stream),
                    timeout: args.timeout,
                    ack_buf: Vec::new(),
                }))
            }
            Protocol::Audit => {
                let client = reqwest::Client::builder()
                    .timeout(args.timeout)
                    .connect_timeout(Duration::from_secs(5))
                    .tcp_nodelay(true)
                    .pool_max_idle_per_host(1)
                    .build()
                    .map_err(SetupError::Http)?;
                Ok(Client::Audit(AuditClient {
                    client,
                    url: args.audit_url(),
                }))
            }
        }
    }

    /// Sends pre-built request number `index` of `payload`; returns the number of items
    /// the server rejected.
    ///
    /// # Errors
    /// A short description of the failure (status code and server message).
    pub async fn send(&mut self, payload: &Payload, index: usize) -> Result<u64, String> {
        match (self, &payload.requests) {
            (Client::Traces(client), Requests::Traces(reqs)) => client
                .export(reqs[index % reqs.len()].clone())
                .await
                .map(|r| rejected(r.into_inner().partial_success.map(|p| p.rejected_spans)))
                .map_err(|s| grpc_error(&s)),
            (Client::Metrics(client), Requests::Metrics(reqs)) => client
                .export(reqs[index % reqs.len()].clone())
                .await
                .map(|r| {
                    rejected(
                        r.into_inner()
                            .partial_success
                            .map(|p| p.rejected_data_points),
                    )
                })
                .map_err(|s| grpc_error(&s)),
            (Client::Logs(client), Requests::Logs(reqs)) => client
                .export(reqs[index % reqs.len()].clone())
                .await
                .map(|r| {
                    rejected(
                        r.into_inner()
                            .partial_success
                            .map(|p| p.rejected_log_records),
                    )
                })
                .map_err(|s| grpc_error(&s)),
            (Client::Http(http), _) => http.send(payload, index).await,
            (Client::Forward(forward), Requests::Forward(frames)) => {
                forward.send(&frames[index % frames.len()]).await
            }
            (Client::Audit(audit), Requests::Audit) => audit.send(payload, index).await,
            _ => Err("internal error: client and payload signals differ".into()),
        }
    }
}

fn grpc_client(signal: Signal, channel: Channel, gzip: bool) -> Client {
    match signal {
        Signal::Traces => {
            let mut c = TraceServiceClient::new(channel);
            if gzip {
                c = c.send_compressed(CompressionEncoding::Gzip);
            }
            Client::Traces(c.accept_compressed(CompressionEncoding::Gzip))
        }
        Signal::Metrics => {
            let mut c = MetricsServiceClient::new(channel);
            if gzip {
                c = c.send_compressed(CompressionEncoding::Gzip);
            }
            Client::Metrics(c.accept_compressed(CompressionEncoding::Gzip))
        }
        Signal::Logs => {
            let mut c = LogsServiceClient::new(channel);
            if gzip {
                c = c.send_compressed(CompressionEncoding::Gzip);
            }
            Client::Logs(c.accept_compressed(CompressionEncoding::Gzip))
        }
    }
}

impl HttpClient {
    async fn send(&self, payload: &Payload, index: usize) -> Result<u64, String> {
        let Some(body) = payload.bodies.get(index % payload.bodies.len().max(1)) else {
            return Err("internal error: no HTTP bodies were built".into());
        };
        let mut request = self
            .client
            .post(&self.url)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-protobuf"),
            )
            .body(body.clone());
        if self.gzip {
            request = request.header(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("HTTP request failed: {}", error_chain(&e)))?;
        let status = response.status();
        // Read the whole body so the connection can be reused.
        let bytes = response.bytes().await.map_err(|e| {
            format!(
                "HTTP {status}: reading the body failed: {}",
                error_chain(&e)
            )
        })?;
        if !status.is_success() {
            let text = match RpcStatus::decode(bytes.clone()) {
                Ok(s) if !s.message.is_empty() => s.message,
                _ => String::from_utf8_lossy(&bytes).into_owned(),
            };
            return Err(format!("HTTP {status}: {}", truncate(&text)));
        }
        let rejected_items = match self.signal {
            Signal::Traces => ExportTraceServiceResponse::decode(bytes)
                .map(|r| r.partial_success.map(|p| p.rejected_spans)),
            Signal::Metrics => ExportMetricsServiceResponse::decode(bytes)
                .map(|r| r.partial_success.map(|p| p.rejected_data_points)),
            Signal::Logs => ExportLogsServiceResponse::decode(bytes)
                .map(|r| r.partial_success.map(|p| p.rejected_log_records)),
        }
        .map_err(|e| format!("HTTP {status}: undecodable response body: {e}"))?;
        Ok(rejected(rejected_items))
    }
}

async fn connect_tcp(address: &str) -> Result<TcpStream, String> {
    let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(address))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}

impl ForwardClient {
    async fn send(&mut self, frame: &ForwardFrame) -> Result<u64, String> {
        let result = tokio::time::timeout(self.timeout, self.exchange(frame)).await;
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "no ack within {}",
                humantime::format_duration(self.timeout)
            )),
        };
        if outcome.is_err() {
            // The stream may hold a half-written frame or unread acks: start afresh.
            self.stream = None;
        }
        outcome
    }

    async fn exchange(&mut self, frame: &ForwardFrame) -> Result<u64, String> {
        if self.stream.is_none() {
            self.stream = Some(
                connect_tcp(&self.address)
                    .await
                    .map_err(|e| format!("reconnecting to {}: {e}", self.address))?,
            );
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err("internal error: no connection".into());
        };
        stream
            .write_all(&frame.bytes)
            .await
            .map_err(|e| format!("write failed: {e}"))?;
        if frame.acks.is_empty() {
            return Ok(0);
        }
        self.ack_buf.resize(frame.acks.len(), 0);
        match stream.read_exact(&mut self.ack_buf).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err("connection closed before the ack (refused or malformed)".into());
            }
            Err(e) => return Err(format!("reading the ack failed: {e}")),
        }
        if self.ack_buf[..] != frame.acks[..] {
            let got = rmpv::decode::read_value(&mut &self.ack_buf[..])
                .map_or_else(|_| format!("{:02x?}", &self.ack_buf), |v| v.to_string());
            return Err(format!("unexpected answer {}", truncate(&got)));
        }
        Ok(0)
    }
}

impl AuditClient {
    async fn send(&self, payload: &Payload, index: usize) -> Result<u64, String> {
        let Some(body) = payload.bodies.get(index % payload.bodies.len().max(1)) else {
            return Err("internal error: no audit bodies were built".into());
        };
        let response = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body.clone())
            .send()
            .await
            .map_err(|e| format!("HTTP request failed: {}", error_chain(&e)))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| {
            format!(
                "HTTP {status}: reading the body failed: {}",
                error_chain(&e)
            )
        })?;
        if !status.is_success() {
            return Err(format!(
                "HTTP {status}: {}",
                truncate(&String::from_utf8_lossy(&bytes))
            ));
        }
        Ok(0)
    }
}

fn rejected(count: Option<i64>) -> u64 {
    count.map_or(0, |c| u64::try_from(c).unwrap_or(0))
}

fn grpc_error(status: &tonic::Status) -> String {
    format!("gRPC {:?}: {}", status.code(), truncate(status.message()))
}

fn truncate(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_ERROR_TEXT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// An error with its sources, `outer: inner: innermost`, skipping a source whose text
/// the message already includes (some errors repeat their source in their own text).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_server_messages_are_cut() {
        let long = "x".repeat(500);
        assert_eq!(truncate(&long).len(), MAX_ERROR_TEXT + 3);
        assert_eq!(truncate(" short "), "short");
    }

    #[test]
    fn negative_or_missing_rejections_count_as_none() {
        assert_eq!(rejected(None), 0);
        assert_eq!(rejected(Some(-3)), 0);
        assert_eq!(rejected(Some(7)), 7);
    }
}
