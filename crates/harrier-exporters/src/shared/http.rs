//! HTTP client helpers shared by the HTTP exporters: reading `Retry-After` and reading
//! a bounded prefix of a response body (for error messages).

use super::error_chain;
use super::time::parse_http_date;
use reqwest::Response;
use std::time::{Duration, SystemTime};

/// `Retry-After` as delay-seconds or an HTTP-date (a date in the past means "now").
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let date = parse_http_date(value)?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Reads at most `limit` bytes of the body; a body that fails midway yields what was read.
pub(crate) async fn read_body(mut response: Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(error = %error_chain(&e), "could not read the whole response body");
                break;
            }
        }
    }
    body
}
