//! The OTLP/gRPC exporter: one lazily connected tonic channel, one unary `Export` call
//! per attempt with the batch encoded straight from the shared data (see [`super::codec`]),
//! and the OTLP specification's classification of failures.

use super::codec::PreEncodedCodec;
use super::config::GrpcSettings;
use crate::shared::error_chain;
use crate::shared::partial_success::{PartialSuccess, PartialSuccessReporter};
use crate::shared::rpc_status::RpcStatus;
use crate::shared::tls::read_ca_bundle;
use async_trait::async_trait;
use harrier_core::component::Exporter;
use harrier_core::error::{ComponentError, ExportError};
use harrier_pdata::Batch;
use http::uri::PathAndQuery;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use std::sync::OnceLock;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};

/// The User-Agent sent with every request.
const USER_AGENT: &str = concat!("harrier-exporter/", env!("CARGO_PKG_VERSION"));

/// The gRPC client over one lazily connected channel, with compression configured.
type Clients = tonic::client::Grpc<Channel>;

const TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const METRICS_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const LOGS_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// Sends batches to an OTLP/gRPC endpoint.
pub(crate) struct OtlpGrpcExporter {
    settings: GrpcSettings,
    clients: OnceLock<Clients>,
    partial: PartialSuccessReporter,
}

impl OtlpGrpcExporter {
    /// A new exporter; nothing is connected until [`Exporter::start`].
    pub(crate) fn new(settings: GrpcSettings, partial: PartialSuccessReporter) -> Self {
        OtlpGrpcExporter {
            settings,
            clients: OnceLock::new(),
            partial,
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        for (key, value) in &self.settings.headers {
            metadata.insert(key.clone(), value.clone());
        }
        request
    }

    async fn endpoint(&self) -> Result<Endpoint, ComponentError> {
        let uri = &self.settings.uri;
        let endpoint = Endpoint::from(uri.clone())
            .tcp_nodelay(true)
            .user_agent(USER_AGENT)
            .map_err(|e| ComponentError::new(format!("invalid user agent: {e}")))?;
        let Some(ca_file) = &self.settings.ca_file else {
            return Ok(endpoint);
        };
        let pem = read_ca_bundle(ca_file).await?;
        let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
        endpoint.tls_config(tls).map_err(|e| {
            ComponentError::new(format!(
                "cannot configure TLS for {uri} with {}: {}",
                ca_file.display(),
                error_chain(&e)
            ))
        })
    }

    async fn send(&self, clients: &Clients, batch: &Batch) -> Result<PartialSuccess, Status> {
        // Encode the shared batch directly (no deep copy of the data per attempt).
        let mut body = Vec::with_capacity(batch.byte_size());
        batch.encode_request_into(&mut body);
        let body = bytes::Bytes::from(body);
        let mut grpc = clients.clone();
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("channel not ready: {}", error_chain(&e))))?;
        let partial = match batch {
            Batch::Traces(_) => grpc
                .unary(
                    self.request(body),
                    PathAndQuery::from_static(TRACES_PATH),
                    PreEncodedCodec::<ExportTraceServiceResponse>::default(),
                )
                .await?
                .into_inner()
                .partial_success
                .map(|p| PartialSuccess {
                    rejected: p.rejected_spans,
                    error_message: p.error_message,
                }),
            Batch::Metrics(_) => grpc
                .unary(
                    self.request(body),
                    PathAndQuery::from_static(METRICS_PATH),
                    PreEncodedCodec::<ExportMetricsServiceResponse>::default(),
                )
                .await?
                .into_inner()
                .partial_success
                .map(|p| PartialSuccess {
                    rejected: p.rejected_data_points,
                    error_message: p.error_message,
                }),
            Batch::Logs(_) => grpc
                .unary(
                    self.request(body),
                    PathAndQuery::from_static(LOGS_PATH),
                    PreEncodedCodec::<ExportLogsServiceResponse>::default(),
                )
                .await?
                .into_inner()
                .partial_success
                .map(|p| PartialSuccess {
                    rejected: p.rejected_log_records,
                    error_message: p.error_message,
                }),
        };
        Ok(partial.unwrap_or_default())
    }
}

/// Applies compression settings to a generated client.
macro_rules! configure_client {
    ($client:expr, $compression:expr) => {{
        let client = $client
            .accept_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Zstd);
        match $compression {
            Some(encoding) => client.send_compressed(encoding),
            None => client,
        }
    }};
}

#[async_trait]
impl Exporter for OtlpGrpcExporter {
    async fn start(&self) -> Result<(), ComponentError> {
        let endpoint = self.endpoint().await?;
        // Lazy: a destination that is down at start-up must not fail start-up; the
        // first export attempts the connection and fails retryably instead.
        let channel = endpoint.connect_lazy();
        let compression = self.settings.compression;
        let clients = configure_client!(tonic::client::Grpc::new(channel), compression);
        self.clients
            .set(clients)
            .map_err(|_| ComponentError::new("otlp exporter started twice"))
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let Some(clients) = self.clients.get() else {
            return Err(ExportError::retryable("otlp exporter not started", None));
        };
        let partial = self
            .send(clients, batch)
            .await
            .map_err(|status| classify_status(&status))?;
        self.partial.report(batch.signal(), &partial);
        Ok(())
    }
}

/// Classifies a failed call per the OTLP specification
/// (<https://opentelemetry.io/docs/specs/otlp/#failures>): `UNAVAILABLE`, `CANCELLED`,
/// `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE` and `DATA_LOSS` are retryable;
/// `RESOURCE_EXHAUSTED` only when the server sent a `google.rpc.RetryInfo`; everything
/// else is permanent. A server's RetryInfo delay becomes `retry_after`. A status tonic
/// made up locally from a transport failure (`UNKNOWN` or `INTERNAL` carrying the
/// failure as its source, e.g. a connection reset mid-call; connection errors are already
/// `UNAVAILABLE`) is retryable too: no server answered it.
pub(crate) fn classify_status(status: &Status) -> ExportError {
    let retry_info = RpcStatus::decode_opt(status.details()).and_then(|s| s.retry_info());
    let message = status_message(status);
    let retryable = match status.code() {
        Code::Unavailable
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss => true,
        Code::ResourceExhausted => retry_info.is_some(),
        Code::Unknown | Code::Internal => std::error::Error::source(status).is_some(),
        _ => false,
    };
    if retryable {
        ExportError::retryable(message, retry_info.flatten())
    } else {
        ExportError::permanent(message)
    }
}

fn status_message(status: &Status) -> String {
    let mut message = format!("gRPC status {:?}: {}", status.code(), status.message());
    if let Some(source) = std::error::Error::source(status) {
        message.push_str(" (");
        message.push_str(&error_chain(source));
        message.push(')');
    }
    message
}
