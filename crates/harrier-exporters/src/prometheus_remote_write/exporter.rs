//! The remote-write exporter: converts a metrics batch, cuts it into requests,
//! snappy-compresses each and `POST`s it. One `export` is one attempt at the whole
//! batch; the framework's `ExporterRunner` retries it.
//!
//! Outcome of an attempt: every request accepted -> `Ok`; a retryable failure (no
//! response, 5xx, 429) stops the attempt and is returned, and the requests delivered
//! so far stay remembered (`DeliveredRequests`) so that the retry sends only the rest;
//! a request refused permanently (other 4xx) does not stop the others, and the attempt
//! ends with a permanent error.

use super::config::RemoteWriteSettings;
use super::convert::{Converted, convert};
use super::request::{DeliveredRequests, split_requests};
use crate::shared::error_chain;
use crate::shared::http::{parse_retry_after, read_body};
use crate::shared::tls::read_ca_bundle;
use crate::shared::truncate_for_log;
use async_trait::async_trait;
use harrier_core::component::Exporter;
use harrier_core::error::{ComponentError, ErrorKind, ExportError};
use harrier_core::telemetry::Counter;
use harrier_pdata::Batch;
use prost::Message;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Certificate, Client, StatusCode, Url};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The User-Agent sent with every request (a configured header may replace it).
const USER_AGENT: &str = concat!("harrier/", env!("CARGO_PKG_VERSION"));
/// The remote-write protocol version header and value.
const VERSION_HEADER: &str = "X-Prometheus-Remote-Write-Version";
const PROTOCOL_VERSION: &str = "0.1.0";
/// How much of an error response is read for the error message.
const MAX_RESPONSE_BYTES: usize = 4096;
/// How much of it goes into the message.
const MAX_LOGGED_BODY: usize = 512;

/// Counters of points the conversion dropped, by reason.
pub(crate) struct DroppedPoints {
    /// Sums and histograms of delta (or unspecified) temporality.
    pub delta: Counter,
    /// Exponential histograms.
    pub exponential: Counter,
}

/// Pushes metrics to a remote-write endpoint.
pub(crate) struct RemoteWriteExporter {
    settings: RemoteWriteSettings,
    client: OnceLock<Client>,
    dropped: DroppedPoints,
    delivered: DeliveredRequests,
    warned_delta: AtomicBool,
    warned_exponential: AtomicBool,
}

impl RemoteWriteExporter {
    /// A new exporter; the client is built in [`Exporter::start`].
    pub(crate) fn new(settings: RemoteWriteSettings, dropped: DroppedPoints) -> Self {
        RemoteWriteExporter {
            settings,
            client: OnceLock::new(),
            dropped,
            delivered: DeliveredRequests::new(),
            warned_delta: AtomicBool::new(false),
            warned_exponential: AtomicBool::new(false),
        }
    }

    async fn build_client(&self) -> Result<Client, ComponentError> {
        // reqwest is built with `rustls-no-provider` and panics without a process-wide
        // provider; the binary installs ring at start-up, this covers embedders and tests.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let mut builder = Client::builder()
            .user_agent(USER_AGENT)
            // A redirect would need the body again; a 3xx is a permanent failure instead.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true);
        if let Some(ca_file) = &self.settings.ca_file {
            let pem = read_ca_bundle(ca_file).await?;
            let certs = Certificate::from_pem_bundle(&pem).map_err(|e| {
                ComponentError::new(format!(
                    "tls.ca_file {} holds no valid PEM certificate: {}",
                    ca_file.display(),
                    error_chain(&e)
                ))
            })?;
            builder = builder.tls_certs_only(certs);
        }
        if let Some((cert_file, key_file)) = &self.settings.client_identity {
            let read = |path: &std::path::PathBuf, key: &str| {
                std::fs::read(path).map_err(|e| {
                    ComponentError::new(format!("cannot read tls.{key} {}: {e}", path.display()))
                })
            };
            let mut pem = read(cert_file, "cert_file")?;
            pem.push(b'\n');
            pem.extend(read(key_file, "key_file")?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                ComponentError::new(format!(
                    "tls.cert_file {} / tls.key_file {}: not a valid PEM certificate and key: {}",
                    cert_file.display(),
                    key_file.display(),
                    error_chain(&e)
                ))
            })?;
            builder = builder.identity(identity);
        }
        if self.settings.insecure_skip_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        builder.build().map_err(|e| {
            ComponentError::new(format!("cannot build the HTTP client: {}", error_chain(&e)))
        })
    }

    /// Counts (and the first time, logs) what the conversion dropped.
    fn count_dropped(&self, converted: &Converted) {
        let reasons = [
            (
                converted.dropped_delta_points,
                &self.dropped.delta,
                &self.warned_delta,
                "prometheus_remote_write drops sums and histograms that are not cumulative \
                 (counted, logged once)",
            ),
            (
                converted.dropped_exponential_points,
                &self.dropped.exponential,
                &self.warned_exponential,
                "prometheus_remote_write drops exponential histograms (counted, logged once)",
            ),
        ];
        for (points, counter, warned, message) in reasons {
            if points > 0 {
                counter.add(points);
                if !warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(points, "{message}");
                }
            }
        }
    }

    /// One `POST` of a compressed request.
    async fn post(&self, client: &Client, body: Vec<u8>) -> Result<(), ExportError> {
        let url = &self.settings.url;
        let response = client
            .post(url.clone())
            .headers(self.settings.headers.clone())
            .header(CONTENT_ENCODING, "snappy")
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header(VERSION_HEADER, PROTOCOL_VERSION)
            .body(body)
            .send()
            .await
            .map_err(|e| classify_send_error(url, &e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // Read (a bounded part of) the body either way so the connection can be reused.
        let body = read_body(response, MAX_RESPONSE_BYTES).await;
        if status.is_success() {
            return Ok(());
        }
        Err(classify_failure(
            status,
            retry_after.as_deref(),
            &body,
            SystemTime::now(),
        ))
    }
}

/// A request that got no HTTP response: retryable (connection refused or reset, DNS,
/// TLS handshake, timeout), except a request that could not even be built.
fn classify_send_error(url: &Url, error: &reqwest::Error) -> ExportError {
    let message = format!("POST {url}: {}", error_chain(error));
    if error.is_builder() {
        ExportError::permanent(message)
    } else {
        ExportError::retryable(message, None)
    }
}

/// A non-2xx response, per the remote-write 1.0 specification: 5xx and 429 are
/// retryable (honouring `Retry-After`), everything else is permanent. The message
/// carries the start of the server's body, which says what it refused.
pub(crate) fn classify_failure(
    status: StatusCode,
    retry_after: Option<&str>,
    body: &[u8],
    now: SystemTime,
) -> ExportError {
    let mut message = format!("HTTP {status}");
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if !text.is_empty() {
        message.push_str(": ");
        message.push_str(&truncate_for_log(text, MAX_LOGGED_BODY));
    }
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = retry_after.and_then(|value| parse_retry_after(value, now));
        ExportError::retryable(message, retry_after)
    } else {
        ExportError::permanent(message)
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[async_trait]
impl Exporter for RemoteWriteExporter {
    async fn start(&self) -> Result<(), ComponentError> {
        let client = self.build_client().await?;
        self.client
            .set(client)
            .map_err(|_| ComponentError::new("prometheus_remote_write exporter started twice"))
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let Batch::Metrics(resources) = batch else {
            return Err(ExportError::permanent(
                "the prometheus_remote_write exporter accepts metrics only",
            ));
        };
        let Some(client) = self.client.get() else {
            return Err(ExportError::retryable(
                "prometheus_remote_write exporter not started",
                None,
            ));
        };
        let converted = convert(resources, &self.settings.conversion, now_millis());
        self.count_dropped(&converted);
        let requests = split_requests(
            converted.series,
            converted.metadata,
            self.settings.max_batch_size_bytes,
        );
        let total = requests.len();
        let mut delivered = Vec::with_capacity(total);
        let mut rejected: Vec<ExportError> = Vec::new();
        for (index, request) in requests.into_iter().enumerate() {
            let encoded = request.encode_to_vec();
            let digest = self.delivered.digest(&encoded);
            if self.delivered.contains(digest) {
                // Delivered by an earlier attempt of this batch.
                delivered.push(digest);
                continue;
            }
            let body = snap::raw::Encoder::new()
                .compress_vec(&encoded)
                .map_err(|e| ExportError::permanent(format!("snappy compression failed: {e}")))?;
            match self.post(client, body).await {
                Ok(()) => {
                    self.delivered.remember(digest);
                    delivered.push(digest);
                }
                Err(error) => match error.kind() {
                    // Stop: the server is unavailable; what was delivered stays
                    // remembered for the retry.
                    ErrorKind::Retryable { retry_after } => {
                        let message = if total > 1 {
                            format!("request {} of {total}: {error}", index + 1)
                        } else {
                            error.to_string()
                        };
                        return Err(ExportError::retryable(message, retry_after));
                    }
                    ErrorKind::Permanent => rejected.push(error),
                },
            }
        }
        // The batch is done with: nothing of it will be retried.
        self.delivered.forget(&delivered);
        match rejected.first() {
            None => Ok(()),
            Some(first) if total == 1 => Err(first.clone()),
            Some(first) => Err(ExportError::permanent(format!(
                "{} of {total} requests rejected, the others delivered; first: {first}",
                rejected.len()
            ))),
        }
    }
}
