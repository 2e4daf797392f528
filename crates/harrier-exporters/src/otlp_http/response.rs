//! Reading an OTLP/HTTP response: success (with an optional partial success), or a
//! failure classified per the OTLP/HTTP specification
//! (<https://opentelemetry.io/docs/specs/otlp/#failures-1>): 429, 502, 503 and 504 are
//! retryable and honour `Retry-After`; every other non-2xx status is permanent.
//!
//! Everything here is pure (the clock is a parameter) so it is tested without a server.

use super::config::HttpEncoding;
pub(crate) use crate::shared::http::parse_retry_after;
use crate::shared::partial_success::PartialSuccess;
use crate::shared::rpc_status::RpcStatus;
use crate::shared::truncate_for_log;
use harrier_core::error::ExportError;
use harrier_pdata::Signal;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use reqwest::StatusCode;
use std::time::SystemTime;

/// How much of a response body is read (partial success, error status); the rest is
/// discarded.
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The parts of a response that decide the outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResponseParts<'a> {
    /// HTTP status.
    pub status: StatusCode,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<&'a str>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The (possibly truncated) body.
    pub body: &'a [u8],
}

/// Decides what a response means for the batch of `signal` sent with `encoding`.
///
/// # Errors
/// A retryable [`ExportError`] for 429/502/503/504 (with the server's `Retry-After`),
/// a permanent one for any other non-2xx status.
pub(crate) fn classify_response(
    signal: Signal,
    encoding: HttpEncoding,
    response: ResponseParts<'_>,
    now: SystemTime,
) -> Result<PartialSuccess, ExportError> {
    let body_format = BodyFormat::of(response.content_type, encoding);
    let status = response.status;
    if status.is_success() {
        return Ok(partial_success(signal, body_format, response.body).unwrap_or_default());
    }
    let mut message = format!("HTTP {status}");
    if let Some(detail) = error_detail(body_format, response.body) {
        message.push_str(": ");
        message.push_str(&detail);
    }
    match status.as_u16() {
        429 | 502 | 503 | 504 => {
            let retry_after = response
                .retry_after
                .and_then(|value| parse_retry_after(value, now));
            Err(ExportError::retryable(message, retry_after))
        }
        _ => Err(ExportError::permanent(message)),
    }
}

/// How a response body is encoded: by its `Content-Type`, else like the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyFormat {
    Protobuf,
    Json,
    Other,
}

impl BodyFormat {
    fn of(content_type: Option<&str>, encoding: HttpEncoding) -> BodyFormat {
        let mime = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        match mime.as_deref() {
            Some("application/x-protobuf" | "application/protobuf") => BodyFormat::Protobuf,
            Some("application/json") => BodyFormat::Json,
            Some(_) => BodyFormat::Other,
            None => match encoding {
                HttpEncoding::Proto => BodyFormat::Protobuf,
                HttpEncoding::Json => BodyFormat::Json,
            },
        }
    }
}

/// The server's explanation of a failure: the `message` of a `google.rpc.Status`
/// (protobuf or JSON), else the body as text.
fn error_detail(format: BodyFormat, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let message = match format {
        BodyFormat::Protobuf => RpcStatus::decode_opt(body).map(|s| s.message),
        BodyFormat::Json => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_string)),
        BodyFormat::Other => None,
    };
    let text = match message {
        Some(m) if !m.is_empty() => m,
        _ => String::from_utf8_lossy(body).trim().to_string(),
    };
    (!text.is_empty()).then(|| truncate_for_log(&text, 512))
}

/// The partial success of a 2xx body, `None` when there is none or it cannot be read
/// (the data was accepted either way).
fn partial_success(signal: Signal, format: BodyFormat, body: &[u8]) -> Option<PartialSuccess> {
    if body.is_empty() {
        return None;
    }
    match format {
        BodyFormat::Protobuf => partial_success_proto(signal, body),
        BodyFormat::Json => partial_success_json(signal, body),
        BodyFormat::Other => None,
    }
}

fn partial_success_proto(signal: Signal, body: &[u8]) -> Option<PartialSuccess> {
    match signal {
        Signal::Traces => ExportTraceServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_spans,
                error_message: p.error_message,
            }),
        Signal::Metrics => ExportMetricsServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_data_points,
                error_message: p.error_message,
            }),
        Signal::Logs => ExportLogsServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_log_records,
                error_message: p.error_message,
            }),
    }
}

/// Reads `{"partialSuccess": {"rejectedSpans": "2", "errorMessage": "..."}}` (also the
/// snake_case spellings; int64 as a string or a number, per the proto3 JSON mapping).
fn partial_success_json(signal: Signal, body: &[u8]) -> Option<PartialSuccess> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let partial = value
        .get("partialSuccess")
        .or_else(|| value.get("partial_success"))?;
    let (camel, snake) = match signal {
        Signal::Traces => ("rejectedSpans", "rejected_spans"),
        Signal::Metrics => ("rejectedDataPoints", "rejected_data_points"),
        Signal::Logs => ("rejectedLogRecords", "rejected_log_records"),
    };
    let rejected = match partial.get(camel).or_else(|| partial.get(snake)) {
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    };
    let error_message = partial
        .get("errorMessage")
        .or_else(|| partial.get("error_message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string();
    Some(PartialSuccess {
        rejected,
        error_message,
    })
}
