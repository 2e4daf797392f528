//! Pieces shared by several exporters: the `google.rpc.Status` messages, partial-success
//! reporting, UTC time formatting, CA bundle reading, HTTP response helpers
//! (`Retry-After`, bounded body reads), and error-chain formatting.

pub(crate) mod http;
pub(crate) mod partial_success;
pub(crate) mod rpc_status;
pub(crate) mod time;
pub(crate) mod tls;

#[cfg(test)]
pub(crate) mod test_support;

use harrier_core::error::ConfigError;
use std::error::Error;
use std::fmt::Write as _;

/// An error and all its sources, `outer: inner: innermost`, so that a log line says
/// *why* (e.g. `error sending request: client error (Connect): Connection refused`).
pub(crate) fn error_chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        // Some errors repeat their source's message in their own; skip the echo.
        if !text.ends_with(&inner_text) {
            let _ = write!(text, ": {inner_text}");
        }
        source = inner.source();
    }
    text
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut.
pub(crate) fn truncate_for_log(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// The first of a validation's errors: `build` returns one, `validate` returns all.
pub(crate) fn first_error(mut errors: Vec<ConfigError>) -> ConfigError {
    if errors.is_empty() {
        ConfigError::new("", "invalid configuration")
    } else {
        errors.swap_remove(0)
    }
}
