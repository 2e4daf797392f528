//! The OTLP/HTTP exporter: one pooled reqwest client, one `POST` per attempt with a
//! protobuf or OTLP/JSON body compressed here (reqwest only decompresses responses).

use super::config::{HttpCompression, HttpEncoding, HttpSettings};
use super::response::{MAX_RESPONSE_BYTES, ResponseParts, classify_response};
use crate::shared::error_chain;
use crate::shared::http::read_body;
use crate::shared::partial_success::PartialSuccessReporter;
use crate::shared::tls::read_ca_bundle;
use async_trait::async_trait;
use flate2::Compression;
use flate2::write::GzEncoder;
use harrier_core::component::Exporter;
use harrier_core::error::{ComponentError, ExportError};
use harrier_pdata::Batch;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Certificate, Client, Url};
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::SystemTime;

/// The User-Agent sent with every request.
const USER_AGENT: &str = concat!("harrier-exporter/", env!("CARGO_PKG_VERSION"));

/// Posts batches to OTLP/HTTP endpoints.
pub(crate) struct OtlpHttpExporter {
    settings: HttpSettings,
    client: OnceLock<Client>,
    partial: PartialSuccessReporter,
}

impl OtlpHttpExporter {
    /// A new exporter; the client is built in [`Exporter::start`].
    pub(crate) fn new(settings: HttpSettings, partial: PartialSuccessReporter) -> Self {
        OtlpHttpExporter {
            settings,
            client: OnceLock::new(),
            partial,
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
            // A redirect would turn the POST into a GET or need the body again; a 3xx is
            // reported as a permanent failure instead.
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
        builder.build().map_err(|e| {
            ComponentError::new(format!("cannot build the HTTP client: {}", error_chain(&e)))
        })
    }

    /// The request body: the encoded batch, compressed as configured.
    fn body(&self, batch: &Batch) -> Result<Vec<u8>, ExportError> {
        let mut encoded = Vec::with_capacity(batch.byte_size() + 64);
        match self.settings.encoding {
            HttpEncoding::Proto => batch.encode_request_into(&mut encoded),
            HttpEncoding::Json => harrier_pdata::json::encode_request(batch, &mut encoded),
        }
        match self.settings.compression {
            HttpCompression::Uncompressed => Ok(encoded),
            HttpCompression::Gzip => gzip(&encoded)
                .map_err(|e| ExportError::permanent(format!("gzip compression failed: {e}"))),
        }
    }
}

/// gzip at the fastest level: exporting is on the hot path and the network usually
/// gains most of what higher levels would.
pub(crate) fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Compression::fast());
    encoder.write_all(data)?;
    encoder.finish()
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

#[async_trait]
impl Exporter for OtlpHttpExporter {
    async fn start(&self) -> Result<(), ComponentError> {
        let client = self.build_client().await?;
        self.client
            .set(client)
            .map_err(|_| ComponentError::new("otlp_http exporter started twice"))
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let Some(client) = self.client.get() else {
            return Err(ExportError::retryable(
                "otlp_http exporter not started",
                None,
            ));
        };
        let signal = batch.signal();
        let Some(url) = self.settings.url(signal) else {
            return Err(ExportError::permanent(format!(
                "no URL configured for {signal} (set endpoint or {signal}_endpoint)"
            )));
        };
        let body = self.body(batch)?;
        let mut request = client
            .post(url.clone())
            .headers(self.settings.headers.clone())
            .header(CONTENT_TYPE, self.settings.encoding.content_type());
        if self.settings.compression == HttpCompression::Gzip {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| classify_send_error(url, &e))?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header(RETRY_AFTER);
        let content_type = header(CONTENT_TYPE);
        let body = read_body(response, MAX_RESPONSE_BYTES).await;
        let parts = ResponseParts {
            status,
            retry_after: retry_after.as_deref(),
            content_type: content_type.as_deref(),
            body: &body,
        };
        let partial = classify_response(signal, self.settings.encoding, parts, SystemTime::now())?;
        self.partial.report(signal, &partial);
        Ok(())
    }
}
