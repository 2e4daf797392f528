//! `exporters.otlp` settings and their validation.

use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};
use tonic::transport::Uri;

/// `exporters.otlp`: an OTLP/gRPC client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// Where to send: `http://host:port`, `https://host:port`, or bare `host:port`
    /// (plain text, like `http://`). Required; no default.
    pub endpoint: Option<String>,
    /// Request compression: `gzip` (default), `zstd` or `none`.
    pub compression: GrpcCompression,
    /// Extra gRPC metadata sent with every request, e.g. `{ authorization = "Bearer x" }`
    /// (default: none). Keys are case-insensitive ASCII; `grpc-*` keys are reserved.
    pub headers: BTreeMap<String, String>,
    /// TLS settings, used with an `https://` endpoint (default: see [`OtlpTlsConfig`]).
    pub tls: OtlpTlsConfig,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            endpoint: None,
            compression: GrpcCompression::Gzip,
            headers: BTreeMap::new(),
            tls: OtlpTlsConfig::default(),
        }
    }
}

/// `exporters.otlp.compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrpcCompression {
    /// gzip (the default).
    Gzip,
    /// zstd.
    Zstd,
    /// No compression.
    #[serde(rename = "none")]
    Uncompressed,
}

impl GrpcCompression {
    /// tonic's encoding, `None` for no compression.
    pub(crate) fn encoding(self) -> Option<CompressionEncoding> {
        match self {
            GrpcCompression::Gzip => Some(CompressionEncoding::Gzip),
            GrpcCompression::Zstd => Some(CompressionEncoding::Zstd),
            GrpcCompression::Uncompressed => None,
        }
    }
}

/// `exporters.otlp.tls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpTlsConfig {
    /// Send plain text even to an `https://` endpoint (default false).
    pub insecure: bool,
    /// PEM file of the CA certificates that sign the server's certificate. Required for
    /// an `https://` endpoint unless `insecure` is true: this build bundles no system
    /// root certificates (default: none).
    pub ca_file: Option<PathBuf>,
}

/// A validated [`OtlpConfig`]: what the exporter needs at run time.
#[derive(Debug, Clone)]
pub(crate) struct GrpcSettings {
    /// The URI to connect to (scheme `http` for plain text, `https` for TLS).
    pub uri: Uri,
    /// The CA bundle to read at start, when TLS is used.
    pub ca_file: Option<PathBuf>,
    /// Request compression.
    pub compression: Option<CompressionEncoding>,
    /// Parsed metadata to attach.
    pub headers: Vec<(AsciiMetadataKey, AsciiMetadataValue)>,
}

/// How an endpoint string was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedEndpoint {
    /// `http://host:port` or `https://host:port`.
    pub uri: Uri,
    /// Whether the scheme was `https`.
    pub https: bool,
}

/// Parses a gRPC endpoint: `http://host:port`, `https://host:port` or `host:port`.
pub(crate) fn parse_endpoint(text: &str) -> Result<ParsedEndpoint, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    let full = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    let uri: Uri = full
        .parse()
        .map_err(|e| format!("invalid endpoint {text:?}: {e}"))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        other => {
            return Err(format!(
                "invalid endpoint {text:?}: scheme {:?} is not supported (use http:// or https://)",
                other.unwrap_or_default()
            ));
        }
    };
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("invalid endpoint {text:?}: no host"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(format!(
            "invalid endpoint {text:?}: a gRPC endpoint has no path (use scheme://host:port)"
        ));
    }
    Ok(ParsedEndpoint { uri, https })
}

/// Parses `headers` into gRPC metadata, reporting every bad entry.
fn parse_headers(
    headers: &BTreeMap<String, String>,
    errors: &mut Vec<ConfigError>,
) -> Vec<(AsciiMetadataKey, AsciiMetadataValue)> {
    let mut parsed = Vec::with_capacity(headers.len());
    for (key, value) in headers {
        let path = format!("headers.{key}");
        let Ok(name) = AsciiMetadataKey::from_bytes(key.as_bytes()) else {
            errors.push(ConfigError::new(
                path,
                "invalid gRPC metadata key (ASCII letters, digits, '-', '_' and '.'; no -bin suffix)",
            ));
            continue;
        };
        if name.as_str().starts_with("grpc-") {
            errors.push(ConfigError::new(path, "grpc-* metadata keys are reserved"));
            continue;
        }
        match AsciiMetadataValue::try_from(value.as_str()) {
            Ok(v) => parsed.push((name, v)),
            Err(_) => errors.push(ConfigError::new(
                path,
                "invalid gRPC metadata value (visible ASCII only)",
            )),
        }
    }
    parsed
}

impl OtlpConfig {
    /// Checks every setting (no I/O) and returns the run-time settings.
    ///
    /// # Errors
    /// Every problem found, with paths relative to the exporter's section.
    pub(crate) fn validate(&self) -> Result<GrpcSettings, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let endpoint = match self.endpoint.as_deref() {
            None => {
                errors.push(ConfigError::new(
                    "endpoint",
                    "is required (e.g. \"http://gateway:4317\")",
                ));
                None
            }
            Some(text) => match parse_endpoint(text) {
                Ok(p) => Some(p),
                Err(message) => {
                    errors.push(ConfigError::new("endpoint", message));
                    None
                }
            },
        };
        let headers = parse_headers(&self.headers, &mut errors);
        let mut uri = None;
        if let Some(endpoint) = endpoint {
            let use_tls = endpoint.https && !self.tls.insecure;
            if use_tls && self.tls.ca_file.is_none() {
                errors.push(ConfigError::new(
                    "tls.ca_file",
                    "is required for an https endpoint (no system root certificates are bundled); \
                     or set tls.insecure = true for plain text",
                ));
            }
            if !use_tls && self.tls.ca_file.is_some() {
                errors.push(ConfigError::new(
                    "tls.ca_file",
                    "is only used with an https endpoint and tls.insecure = false",
                ));
            }
            uri = if endpoint.https && !use_tls {
                plain_text_uri(&endpoint.uri)
                    .map_err(|m| errors.push(ConfigError::new("endpoint", m)))
                    .ok()
            } else {
                Some(endpoint.uri)
            };
        }
        if let Some(path) = &self.tls.ca_file
            && path.as_os_str().is_empty()
        {
            errors.push(ConfigError::new("tls.ca_file", "must not be empty"));
        }
        match uri {
            Some(uri) if errors.is_empty() => Ok(GrpcSettings {
                uri,
                ca_file: self.tls.ca_file.clone(),
                compression: self.compression.encoding(),
                headers,
            }),
            _ => Err(errors),
        }
    }
}

/// `https://host:port` -> `http://host:port` (for `tls.insecure = true`), keeping the
/// https default port 443 when none was given.
fn plain_text_uri(uri: &Uri) -> Result<Uri, String> {
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let text = if uri.port().is_some() {
        format!("http://{authority}")
    } else {
        format!("http://{authority}:443")
    };
    text.parse().map_err(|e| format!("invalid endpoint: {e}"))
}
