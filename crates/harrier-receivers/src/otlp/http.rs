//! The OTLP/HTTP server: `POST /v1/{traces,metrics,logs}` with protobuf or JSON bodies.
//!
//! Per the OTLP/HTTP spec: 200 with an `Export*ServiceResponse` (with `partialSuccess`
//! when items were rejected) in the request's encoding; 400 with a `google.rpc.Status`
//! for a malformed body; 413 for a body (or its decompressed form) above
//! `max_request_body_size`; 415 for other content types; 503 with `Retry-After` when
//! refused for memory or backpressure. Bodies may be gzip, deflate or zstd compressed;
//! decompression stops at the size cap, so a small gzip bomb cannot inflate memory.

use super::{AcceptError, HttpConfig, Shared};
use bytes::Bytes;
use futures::FutureExt;
use harrier_core::Signal;
use harrier_core::http_server::{self, Handler};
use harrier_core::output::Output;
use harrier_core::telemetry::Counter;
use harrier_pdata::Batch;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use prost::Message;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// `google.rpc.Status`, the error body of OTLP/HTTP.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// A `google.rpc.Code`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// Developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
}

const CODE_INVALID_ARGUMENT: i32 = 3;
const CODE_UNAVAILABLE: i32 = 14;
const CODE_RESOURCE_EXHAUSTED: i32 = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Proto,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Proto => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

struct Ctx {
    config: HttpConfig,
    output: Output,
    shared: Arc<Shared>,
    malformed: Counter,
    too_busy: Counter,
}

fn status(code: u16, enc: Encoding, rpc_code: i32, message: &str) -> Response<Full<Bytes>> {
    let body: Vec<u8> = match enc {
        Encoding::Proto => RpcStatus {
            code: rpc_code,
            message: message.to_string(),
        }
        .encode_to_vec(),
        Encoding::Json => {
            let msg = serde_json_escape(message);
            format!("{{\"code\":{rpc_code},\"message\":{msg}}}").into_bytes()
        }
    };
    http_server::response(code, enc.content_type(), body)
}

fn serde_json_escape(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn retry_later(enc: Encoding, message: &str) -> Response<Full<Bytes>> {
    let mut resp = status(503, enc, CODE_UNAVAILABLE, message);
    resp.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    resp
}

fn success(enc: Encoding, signal: Signal, rejected: usize, message: &str) -> Response<Full<Bytes>> {
    use harrier_pdata::otlp::collector::{logs::v1 as l, metrics::v1 as m, trace::v1 as t};
    let body = match enc {
        Encoding::Proto => match signal {
            Signal::Traces => t::ExportTraceServiceResponse {
                partial_success: (rejected > 0).then(|| t::ExportTracePartialSuccess {
                    rejected_spans: rejected as i64,
                    error_message: message.to_string(),
                }),
            }
            .encode_to_vec(),
            Signal::Metrics => m::ExportMetricsServiceResponse {
                partial_success: (rejected > 0).then(|| m::ExportMetricsPartialSuccess {
                    rejected_data_points: rejected as i64,
                    error_message: message.to_string(),
                }),
            }
            .encode_to_vec(),
            Signal::Logs => l::ExportLogsServiceResponse {
                partial_success: (rejected > 0).then(|| l::ExportLogsPartialSuccess {
                    rejected_log_records: rejected as i64,
                    error_message: message.to_string(),
                }),
            }
            .encode_to_vec(),
        },
        Encoding::Json if rejected == 0 => b"{}".to_vec(),
        Encoding::Json => {
            let field = match signal {
                Signal::Traces => "rejectedSpans",
                Signal::Metrics => "rejectedDataPoints",
                Signal::Logs => "rejectedLogRecords",
            };
            format!(
                "{{\"partialSuccess\":{{\"{field}\":\"{rejected}\",\"errorMessage\":{}}}}}",
                serde_json_escape(message)
            )
            .into_bytes()
        }
    };
    http_server::response(200, enc.content_type(), body)
}

async fn handle(req: Request<Incoming>, ctx: Arc<Ctx>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let signal = if path == ctx.config.traces_url_path {
        Signal::Traces
    } else if path == ctx.config.metrics_url_path {
        Signal::Metrics
    } else if path == ctx.config.logs_url_path {
        Signal::Logs
    } else {
        return http_server::response(404, "text/plain", format!("no OTLP endpoint at {path}\n"));
    };
    if !ctx.output.has_signal(signal) {
        return http_server::response(
            404,
            "text/plain",
            format!("this collector has no {signal} pipeline for this receiver\n"),
        );
    }
    if req.method() != http::Method::POST {
        let mut resp = http_server::response(405, "text/plain", "use POST\n");
        resp.headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
        return resp;
    }
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default()
    };
    let enc = match header(CONTENT_TYPE).as_str() {
        "application/x-protobuf" | "application/protobuf" => Encoding::Proto,
        "application/json" => Encoding::Json,
        other => {
            ctx.malformed.inc();
            return http_server::response(
                415,
                "text/plain",
                format!(
                    "unsupported Content-Type {other:?}: use application/x-protobuf or application/json\n"
                ),
            );
        }
    };
    let content_encoding = header(CONTENT_ENCODING);
    let Some(_slot) = ctx.shared.slot().await else {
        ctx.too_busy.inc();
        return retry_later(enc, "too many concurrent requests; retry later");
    };
    let max = ctx.config.max_request_body_size.as_usize();
    let body = match Limited::new(req.into_body(), max).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            ctx.malformed.inc();
            return if e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                status(
                    413,
                    enc,
                    CODE_RESOURCE_EXHAUSTED,
                    &format!("request body exceeds the limit of {max} bytes"),
                )
            } else {
                status(
                    400,
                    enc,
                    CODE_INVALID_ARGUMENT,
                    &format!("cannot read the request body: {e}"),
                )
            };
        }
    };
    let body = match harrier_core::http_server::decompress(body, &content_encoding, max) {
        Ok(b) => b,
        Err((code, message)) => {
            ctx.malformed.inc();
            let rpc = if code == 413 {
                CODE_RESOURCE_EXHAUSTED
            } else {
                CODE_INVALID_ARGUMENT
            };
            return status(code, enc, rpc, &message);
        }
    };
    let decoded = match enc {
        Encoding::Proto => Batch::decode_request(signal, &body).map_err(|e| e.to_string()),
        Encoding::Json => {
            harrier_pdata::json::decode_request(signal, &body).map_err(|e| e.to_string())
        }
    };
    let batch = match decoded {
        Ok(b) => b,
        Err(e) => {
            ctx.malformed.inc();
            tracing::debug!(receiver = %ctx.output.id(), %signal, error = %e, "malformed OTLP/HTTP request");
            return status(
                400,
                enc,
                CODE_INVALID_ARGUMENT,
                &format!("malformed {signal} request: {e}"),
            );
        }
    };
    match ctx.shared.accept(&ctx.output, batch, body.len()).await {
        Ok(rejected) => success(enc, signal, rejected.count, &rejected.message),
        Err(AcceptError::Refused(r)) => retry_later(enc, &r.to_string()),
    }
}

/// Serves until `shutdown` is cancelled.
pub(crate) async fn serve(
    listener: TcpListener,
    config: HttpConfig,
    output: Output,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let id = output.id().to_string();
    let labels = [("receiver", id.as_str()), ("transport", "http")];
    let telemetry = output.telemetry().clone();
    let ctx = Arc::new(Ctx {
        config,
        output,
        shared,
        malformed: telemetry.counter(
            "harrier_receiver_malformed_requests",
            "Requests rejected as malformed, oversize or of an unsupported type.",
            &labels,
        ),
        too_busy: telemetry.counter(
            "harrier_receiver_refused_requests",
            "Requests refused before reading because every request slot was taken.",
            &labels,
        ),
    });
    let handler: Handler = Arc::new(move |req| handle(req, Arc::clone(&ctx)).boxed());
    http_server::serve(listener, handler, shutdown, 1024, Duration::from_secs(5)).await;
}
