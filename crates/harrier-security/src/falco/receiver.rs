//! The HTTP endpoint: Falco alerts on `path`, Tetragon export lines on `tetragon_path`.
//!
//! | situation | answer |
//! |---|---|
//! | records admitted into every pipeline | `200`, `{"accepted": n, "rejected": m, ...}` |
//! | some events rejected (missing `rule`/`output`, no known Tetragon event) | `200`, the rest accepted, `message` names the reason |
//! | every event rejected | `400` |
//! | not JSON (Tetragon: the first line that is not) | `400` |
//! | body over `max_request_body_size` | `413` |
//! | content type other than JSON / JSON lines / text, an unknown content encoding | `415` |
//! | unknown path / not `POST` | `404` / `405` |
//! | memory limit, full pipeline, every request slot taken, shutting down | `503` + `Retry-After: 1` |
//!
//! `200` is sent only after [`Output::send`] admitted the records, so a sender that
//! retries on 5xx (Falco's `http_output` logs the failure; falcosidekick and log shippers
//! retry) loses nothing that was answered 200.

use super::attributes::{batch, now_unix_nano};
use super::{alert, tetragon};
use bytes::Bytes;
use futures::FutureExt;
use harrier_core::Signal;
use harrier_core::envelope::{Envelope, Finalizers};
use harrier_core::http_server::{self, Handler};
use harrier_core::output::Output;
use harrier_core::telemetry::Counter;
use harrier_pdata::otlp::logs::v1::LogRecord;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Content types accepted on both paths. Falco's `http_output` sends
/// `application/json` with `json_output: true`; log shippers forwarding Tetragon's
/// export use the JSON-lines types or plain text.
const CONTENT_TYPES: [&str; 7] = [
    "",
    "application/json",
    "application/x-ndjson",
    "application/jsonl",
    "application/json-lines",
    "application/x-json-stream",
    "text/plain",
];

/// What the endpoint needs from the config.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The path of Falco alerts.
    pub path: String,
    /// The path of Tetragon export lines.
    pub tetragon_path: String,
    /// Largest body accepted, in bytes.
    pub max_body: usize,
    /// Requests handled at once.
    pub max_concurrent_requests: usize,
    /// How long a request waits for a slot or for room in the pipeline.
    pub backpressure_wait: Duration,
}

/// Which producer a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Falco,
    Tetragon,
}

impl Input {
    /// The resource's `service.name`.
    fn service(self) -> &'static str {
        match self {
            Input::Falco => "falco",
            Input::Tetragon => "tetragon",
        }
    }

    /// What one item of a body is called in answers.
    fn noun(self) -> &'static str {
        match self {
            Input::Falco => "alert",
            Input::Tetragon => "event",
        }
    }
}

struct Ctx {
    settings: Settings,
    output: Output,
    slots: Arc<Semaphore>,
    malformed: Counter,
    too_busy: Counter,
}

/// A JSON answer: `{"code", "message"}` plus the counts of a handled body.
fn answer(code: u16, message: &str, counts: Option<(usize, usize)>) -> Response<Full<Bytes>> {
    let mut body = serde_json::json!({ "code": code });
    if let Some((accepted, rejected)) = counts {
        body["accepted"] = accepted.into();
        body["rejected"] = rejected.into();
    }
    if !message.is_empty() {
        body["message"] = message.into();
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

/// A header's value without parameters, lower-cased; `""` when absent.
fn header(req: &Request<Incoming>, name: http::header::HeaderName) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A request refused before its events were looked at: the status and why. Counted as
/// malformed.
struct Malformed {
    status: u16,
    message: String,
}

/// Checks the content type and encoding before a request slot is taken.
fn check_headers(req: &Request<Incoming>) -> Result<(), Malformed> {
    let content_type = header(req, CONTENT_TYPE);
    if !CONTENT_TYPES.contains(&content_type.as_str()) {
        return Err(Malformed {
            status: 415,
            message: format!(
                "unsupported Content-Type {content_type:?}: send application/json or JSON lines"
            ),
        });
    }
    let encoding = header(req, CONTENT_ENCODING);
    if !matches!(
        encoding.as_str(),
        "" | "identity" | "gzip" | "x-gzip" | "deflate" | "zstd"
    ) {
        return Err(Malformed {
            status: 415,
            message: format!(
                "unsupported Content-Encoding {encoding:?}: send gzip, deflate, zstd or none"
            ),
        });
    }
    Ok(())
}

/// Reads the body of an admitted request, up to `max` bytes, and decompresses it
/// (Falco's `http_output.compress_uploads` sends gzip), again up to `max` bytes.
async fn read_body(req: Request<Incoming>, max: usize) -> Result<Bytes, Malformed> {
    let encoding = header(&req, CONTENT_ENCODING);
    match Limited::new(req.into_body(), max).collect().await {
        Ok(body) => http_server::decompress(body.to_bytes(), &encoding, max)
            .map_err(|(status, message)| Malformed { status, message }),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Malformed {
                status: 413,
                message: format!("request body exceeds the limit of {max} bytes"),
            })
        }
        Err(e) => Err(Malformed {
            status: 400,
            message: format!("cannot read the request body: {e}"),
        }),
    }
}

impl Ctx {
    /// Counts a malformed request and answers it.
    fn refuse(&self, malformed: Malformed) -> Response<Full<Bytes>> {
        self.malformed.inc();
        tracing::debug!(receiver = %self.output.id(), status = malformed.status, error = %malformed.message, "malformed falco/tetragon request");
        answer(malformed.status, &malformed.message, None)
    }
}

async fn handle(req: Request<Incoming>, ctx: Arc<Ctx>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let input = if path == ctx.settings.path {
        Input::Falco
    } else if path == ctx.settings.tetragon_path {
        Input::Tetragon
    } else {
        return answer(404, &format!("nothing at {path}"), None);
    };
    if req.method() != http::Method::POST {
        let mut resp = answer(405, "use POST", None);
        resp.headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
        return resp;
    }
    if let Err(malformed) = check_headers(&req) {
        return ctx.refuse(malformed);
    }
    let acquire = Arc::clone(&ctx.slots).acquire_owned();
    let Ok(Ok(_slot)) = tokio::time::timeout(ctx.settings.backpressure_wait, acquire).await else {
        ctx.too_busy.inc();
        return answer(503, "too many concurrent requests; retry later", None);
    };
    let body = match read_body(req, ctx.settings.max_body).await {
        Ok(body) => body,
        Err(malformed) => return ctx.refuse(malformed),
    };
    let parsed = match input {
        Input::Falco => alert::parse_body(&body).map_err(|e| format!("not a Falco alert: {e}")),
        Input::Tetragon => tetragon::parse_body(&body).map_err(|e| e.to_string()),
    };
    let events = match parsed {
        Ok(events) => events,
        Err(message) => {
            return ctx.refuse(Malformed {
                status: 400,
                message,
            });
        }
    };
    let (records, rejected, reason) = map_all(input, events);
    let note = if rejected > 0 {
        ctx.output.count_refused(Signal::Logs, rejected);
        tracing::debug!(receiver = %ctx.output.id(), rejected, reason, "rejected events");
        format!("{rejected} {}(s) rejected: {reason}", input.noun())
    } else {
        String::new()
    };
    if records.is_empty() {
        ctx.malformed.inc();
        return answer(400, &note, Some((0, rejected)));
    }
    let accepted = records.len();
    let envelope = Envelope::with_size(
        batch(input.service(), records),
        Finalizers::none(),
        body.len(),
    );
    match ctx
        .output
        .send(envelope, Some(ctx.settings.backpressure_wait))
        .await
    {
        Ok(()) => answer(200, &note, Some((accepted, rejected))),
        Err(refused) => answer(503, &refused.to_string(), None),
    }
}

/// Maps every event; returns the records, how many were rejected and the first reason.
fn map_all(input: Input, events: Vec<Value>) -> (Vec<LogRecord>, usize, &'static str) {
    let observed = now_unix_nano();
    let mut records = Vec::with_capacity(events.len());
    let (mut rejected, mut first_reason) = (0, "");
    for event in events {
        let mapped = match input {
            Input::Falco => alert::map_alert(event, observed),
            Input::Tetragon => tetragon::map_event(event, observed),
        };
        match mapped {
            Ok(record) => records.push(record),
            Err(reason) => {
                rejected += 1;
                if first_reason.is_empty() {
                    first_reason = reason;
                }
            }
        }
    }
    (records, rejected, first_reason)
}

/// Serves both paths until `shutdown` is cancelled.
pub(crate) async fn serve(
    listener: TcpListener,
    settings: Settings,
    output: Output,
    shutdown: CancellationToken,
) {
    let id = output.id().to_string();
    let labels = [("receiver", id.as_str()), ("transport", "http")];
    let telemetry = output.telemetry().clone();
    let ctx = Arc::new(Ctx {
        slots: Arc::new(Semaphore::new(settings.max_concurrent_requests.max(1))),
        settings,
        output,
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
