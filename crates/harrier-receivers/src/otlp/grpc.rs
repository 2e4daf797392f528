//! The OTLP/gRPC server (tonic, opentelemetry-proto's generated services).

use super::{AcceptError, GrpcConfig, Shared};
use harrier_core::Signal;
use harrier_core::output::{Output, Refused};
use harrier_core::telemetry::Counter;
use harrier_pdata::Batch;
use harrier_pdata::otlp::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use harrier_pdata::otlp::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use harrier_pdata::otlp::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use harrier_pdata::otlp::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use harrier_pdata::otlp::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use harrier_pdata::otlp::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::codec::CompressionEncoding;
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

#[derive(Clone)]
struct Service {
    output: Output,
    shared: Arc<Shared>,
}

fn refused_status(e: AcceptError) -> Status {
    let AcceptError::Refused(r) = e;
    match r {
        Refused::MemoryLimit(_) | Refused::Backpressure(_) | Refused::Unavailable(_) => {
            Status::unavailable(r.to_string())
        }
    }
}

impl Service {
    async fn handle(&self, batch: Batch, wire_bytes: usize) -> Result<(usize, String), Status> {
        let signal = batch.signal();
        let Some(_slot) = self.shared.slot().await else {
            self.output.count_refused(signal, batch.item_count());
            return Err(Status::unavailable(
                "too many concurrent requests; retry later",
            ));
        };
        let rejected = self
            .shared
            .accept(&self.output, batch, wire_bytes)
            .await
            .map_err(refused_status)?;
        Ok((rejected.count, rejected.message))
    }
}

#[tonic::async_trait]
impl TraceService for Service {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let req = request.into_inner();
        let size = req.encoded_len();
        let (rejected, message) = self.handle(Batch::Traces(req.resource_spans), size).await?;
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: (rejected > 0).then_some(ExportTracePartialSuccess {
                rejected_spans: rejected as i64,
                error_message: message,
            }),
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Service {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let req = request.into_inner();
        let size = req.encoded_len();
        let (rejected, message) = self
            .handle(Batch::Metrics(req.resource_metrics), size)
            .await?;
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: (rejected > 0).then_some(ExportMetricsPartialSuccess {
                rejected_data_points: rejected as i64,
                error_message: message,
            }),
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Service {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let req = request.into_inner();
        let size = req.encoded_len();
        let (rejected, message) = self.handle(Batch::Logs(req.resource_logs), size).await?;
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: (rejected > 0).then_some(ExportLogsPartialSuccess {
                rejected_log_records: rejected as i64,
                error_message: message,
            }),
        }))
    }
}

/// Wraps a generated service so that a request body that is not valid protobuf is
/// answered with `INVALID_ARGUMENT`, as the OTLP spec requires, instead of tonic's
/// `INTERNAL`. tonic answers such failures "trailers-only", so the status is in the
/// response headers.
/// Also counts such requests, and oversize ones, in `harrier_receiver_malformed_requests`.
#[derive(Clone)]
struct InvalidArgumentOnDecodeError<S>(S, Counter);

impl<S: NamedService> NamedService for InvalidArgumentOnDecodeError<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower_service::Service<http::Request<B>> for InvalidArgumentOnDecodeError<S>
where
    S: tower_service::Service<
            http::Request<B>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
        >,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let fut = self.0.call(req);
        let malformed = self.1.clone();
        Box::pin(async move {
            let mut resp = fut.await?;
            let headers = resp.headers_mut();
            let internal = headers.get("grpc-status").is_some_and(|v| v == "13");
            let decode = headers
                .get("grpc-message")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|m| m.contains("decode"));
            if internal && decode {
                headers.insert("grpc-status", http::HeaderValue::from_static("3"));
                malformed.inc();
            } else if headers.get("grpc-status").is_some_and(|v| v == "11") {
                // OUT_OF_RANGE: tonic's message-size limit.
                malformed.inc();
            }
            Ok(resp)
        })
    }
}

/// Serves until `shutdown` is cancelled; in-flight requests finish first.
pub(crate) async fn serve(
    listener: TcpListener,
    config: GrpcConfig,
    output: Output,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let limit = config.max_recv_msg_size_mib.saturating_mul(1024 * 1024);
    let id = output.id().to_string();
    let malformed = output.telemetry().counter(
        "harrier_receiver_malformed_requests",
        "Requests rejected as malformed, oversize or of an unsupported type.",
        &[("receiver", id.as_str()), ("transport", "grpc")],
    );
    let service = Service { output, shared };
    let mut router = tonic::transport::Server::builder()
        .max_concurrent_streams(config.max_concurrent_streams)
        .add_optional_service(None::<TraceServiceServer<Service>>);
    if service.output.has_signal(Signal::Traces) {
        router = router.add_service(InvalidArgumentOnDecodeError(
            TraceServiceServer::new(service.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .max_decoding_message_size(limit),
            malformed.clone(),
        ));
    }
    if service.output.has_signal(Signal::Metrics) {
        router = router.add_service(InvalidArgumentOnDecodeError(
            MetricsServiceServer::new(service.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .max_decoding_message_size(limit),
            malformed.clone(),
        ));
    }
    if service.output.has_signal(Signal::Logs) {
        router = router.add_service(InvalidArgumentOnDecodeError(
            LogsServiceServer::new(service.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd)
                .max_decoding_message_size(limit),
            malformed.clone(),
        ));
    }
    drop(service);
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    if let Err(e) = router
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "otlp gRPC server failed");
    }
}
