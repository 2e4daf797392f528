//! The audit webhook: kube-apiserver's webhook backend `POST`s an `EventList` (JSON) to
//! `path`; this answers in the API's own `Status` form.
//!
//! | situation | answer |
//! |---|---|
//! | accepted by every pipeline (or nothing left after filtering) | `200` |
//! | not JSON, not audit data, no `items` | `400` (counted as malformed) |
//! | body over `max_request_body_size` | `413` (counted as malformed) |
//! | content type other than JSON, compressed body | `415` (counted as malformed) |
//! | memory limit, full pipeline, every request slot taken, shutting down | `503` + `Retry-After: 1` |
//!
//! kube-apiserver retries a batch answered 503 with `Retry-After` (its webhook client
//! treats a suggested delay as retryable) and drops a batch answered 400, so 200 is
//! sent only after [`Output::send`] admitted the records. Events missing `auditID`,
//! `stage` or `verb` are dropped one by one and counted as refused; the rest of the
//! batch is still accepted.

use super::mapping::{Mapper, Outcome, now_unix_nano};
use bytes::Bytes;
use futures::FutureExt;
use harrier_core::Signal;
use harrier_core::envelope::{Envelope, Finalizers};
use harrier_core::http_server::{self, Handler};
use harrier_core::output::Output;
use harrier_core::telemetry::Counter;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What the webhook needs from the config.
#[derive(Debug, Clone)]
pub(crate) struct WebhookSettings {
    /// The URL path posted to.
    pub path: String,
    /// Largest body accepted, in bytes.
    pub max_body: usize,
    /// Requests handled at once.
    pub max_concurrent_requests: usize,
    /// How long a request waits for a slot or for room in the pipeline.
    pub backpressure_wait: Duration,
}

struct Ctx {
    settings: WebhookSettings,
    output: Output,
    mapper: Arc<Mapper>,
    slots: Arc<Semaphore>,
    malformed: Counter,
    too_busy: Counter,
    filtered: Counter,
}

/// A `meta/v1.Status` body: what Kubernetes clients expect from an API endpoint.
fn status(code: u16, reason: &str, message: &str) -> Response<Full<Bytes>> {
    let mut body = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": if code < 300 { "Success" } else { "Failure" },
        "code": code,
    });
    if !message.is_empty() {
        body["message"] = message.into();
    }
    if !reason.is_empty() {
        body["reason"] = reason.into();
    }
    if code == 503 {
        body["details"] = serde_json::json!({ "retryAfterSeconds": 1 });
    }
    let mut resp = http_server::response(
        code,
        "application/json",
        serde_json::to_vec(&body).unwrap_or_default(),
    );
    if code == 503 {
        resp.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("1"),
        );
    }
    resp
}

fn header(req: &Request<Incoming>, name: http::header::HeaderName) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

async fn handle(req: Request<Incoming>, ctx: Arc<Ctx>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if path != ctx.settings.path {
        return status(404, "NotFound", &format!("no audit webhook at {path}"));
    }
    if req.method() != http::Method::POST {
        let mut resp = status(405, "MethodNotAllowed", "use POST");
        resp.headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
        return resp;
    }
    let content_type = header(&req, CONTENT_TYPE);
    if !matches!(content_type.as_str(), "" | "application/json") {
        ctx.malformed.inc();
        return status(
            415,
            "UnsupportedMediaType",
            &format!("unsupported Content-Type {content_type:?}: send application/json"),
        );
    }
    let encoding = header(&req, CONTENT_ENCODING);
    if !matches!(encoding.as_str(), "" | "identity") {
        ctx.malformed.inc();
        return status(
            415,
            "UnsupportedMediaType",
            &format!("unsupported Content-Encoding {encoding:?}: send the body uncompressed"),
        );
    }
    let acquire = Arc::clone(&ctx.slots).acquire_owned();
    let Ok(Ok(_slot)) = tokio::time::timeout(ctx.settings.backpressure_wait, acquire).await else {
        ctx.too_busy.inc();
        return status(
            503,
            "ServiceUnavailable",
            "too many concurrent requests; retry later",
        );
    };
    let max = ctx.settings.max_body;
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
                    "RequestEntityTooLarge",
                    &format!("request body exceeds the limit of {max} bytes"),
                )
            } else {
                status(
                    400,
                    "BadRequest",
                    &format!("cannot read the request body: {e}"),
                )
            };
        }
    };
    let events = match super::event::parse_payload(&body) {
        Ok(events) => events,
        Err(e) => {
            ctx.malformed.inc();
            tracing::debug!(receiver = %ctx.output.id(), error = %e, "malformed audit webhook request");
            return status(400, "BadRequest", &format!("not an audit EventList: {e}"));
        }
    };
    let observed = now_unix_nano();
    let mut records = Vec::with_capacity(events.len());
    let (mut filtered, mut rejected, mut first_missing) = (0u64, 0usize, "");
    for event in events {
        match ctx.mapper.map(event, observed) {
            Outcome::Record(r) => records.push(r),
            Outcome::Filtered => filtered += 1,
            Outcome::Rejected(field) => {
                rejected += 1;
                if first_missing.is_empty() {
                    first_missing = field;
                }
            }
        }
    }
    ctx.filtered.add(filtered);
    let note = if rejected > 0 {
        ctx.output.count_refused(Signal::Logs, rejected);
        tracing::debug!(receiver = %ctx.output.id(), rejected, missing = first_missing, "rejected audit events missing required fields");
        format!("{rejected} event(s) rejected: missing {first_missing}")
    } else {
        String::new()
    };
    if records.is_empty() {
        return status(200, "", &note);
    }
    let envelope = Envelope::with_size(ctx.mapper.batch(records), Finalizers::none(), body.len());
    match ctx
        .output
        .send(envelope, Some(ctx.settings.backpressure_wait))
        .await
    {
        Ok(()) => status(200, "", &note),
        Err(refused) => status(503, "ServiceUnavailable", &refused.to_string()),
    }
}

/// Serves the webhook until `shutdown` is cancelled.
pub(crate) async fn serve(
    listener: TcpListener,
    settings: WebhookSettings,
    output: Output,
    mapper: Arc<Mapper>,
    shutdown: CancellationToken,
) {
    let id = output.id().to_string();
    let labels = [("receiver", id.as_str()), ("transport", "http")];
    let telemetry = output.telemetry().clone();
    let ctx = Arc::new(Ctx {
        slots: Arc::new(Semaphore::new(settings.max_concurrent_requests.max(1))),
        settings,
        output,
        mapper,
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
        filtered: super::filtered_counter(&telemetry, &id, "http"),
    });
    let handler: Handler = Arc::new(move |req| handle(req, Arc::clone(&ctx)).boxed());
    http_server::serve(listener, handler, shutdown, 1024, Duration::from_secs(5)).await;
}
