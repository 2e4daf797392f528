//! A mock OTLP/gRPC server for the `otlp` exporter's tests: records what it receives
//! and answers as told (success, partial success or a status), optionally over TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use harrier_pdata::Batch;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataMap;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Server, ServerTlsConfig};
use tonic::{Request, Response, Status};

/// What the mock server answers.
#[derive(Clone)]
pub(super) enum Reply {
    Ok,
    Partial(i64, &'static str),
    Fail(Status),
}

/// One request the mock server received.
pub(super) struct Received {
    pub(super) metadata: MetadataMap,
    pub(super) batch: Batch,
}

pub(super) struct Mock {
    reply: Reply,
    pub(super) received: Mutex<Vec<Received>>,
}

impl Mock {
    /// Records the request and returns the configured partial success or failure.
    fn handle(&self, metadata: MetadataMap, batch: Batch) -> Result<Option<(i64, String)>, Status> {
        self.received
            .lock()
            .unwrap()
            .push(Received { metadata, batch });
        match &self.reply {
            Reply::Ok => Ok(None),
            Reply::Partial(n, m) => Ok(Some((*n, (*m).to_string()))),
            Reply::Fail(status) => Err(status.clone()),
        }
    }
}

#[tonic::async_trait]
impl TraceService for Mock {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let partial = self.handle(metadata, message.into())?;
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: partial.map(|(rejected_spans, error_message)| {
                ExportTracePartialSuccess {
                    rejected_spans,
                    error_message,
                }
            }),
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Mock {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let partial = self.handle(metadata, message.into())?;
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: partial.map(|(rejected_data_points, error_message)| {
                ExportMetricsPartialSuccess {
                    rejected_data_points,
                    error_message,
                }
            }),
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Mock {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let partial = self.handle(metadata, message.into())?;
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: partial.map(|(rejected_log_records, error_message)| {
                ExportLogsPartialSuccess {
                    rejected_log_records,
                    error_message,
                }
            }),
        }))
    }
}

/// Starts a mock OTLP/gRPC server (accepting gzip and zstd) on 127.0.0.1:0.
pub(super) async fn serve(reply: Reply) -> (SocketAddr, Arc<Mock>) {
    serve_with(reply, None).await
}

/// The test TLS material in `src/shared/testdata`.
pub(super) fn testdata(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/shared/testdata")
        .join(name)
}

/// [`serve`], optionally over TLS.
pub(super) async fn serve_with(
    reply: Reply,
    tls: Option<ServerTlsConfig>,
) -> (SocketAddr, Arc<Mock>) {
    let mock = Arc::new(Mock {
        reply,
        received: Mutex::new(Vec::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls).unwrap();
    }
    let router = builder
        .add_service(
            TraceServiceServer::from_arc(Arc::clone(&mock))
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd),
        )
        .add_service(
            MetricsServiceServer::from_arc(Arc::clone(&mock))
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd),
        )
        .add_service(
            LogsServiceServer::from_arc(Arc::clone(&mock))
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd),
        );
    tokio::spawn(router.serve_with_incoming(incoming));
    (addr, mock)
}
