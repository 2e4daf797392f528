//! OTLP partial success: a 2xx / OK response whose `partial_success` says the server
//! rejected some items. Per the OTLP specification the request must not be retried; the
//! exporter logs the server's message and counts the rejected items in
//! `harrier_exporter_partial_success_rejected{exporter=...}`.

use harrier_core::component::BuildContext;
use harrier_core::telemetry::Counter;
use harrier_pdata::Signal;

/// Metric name of the rejected-items counter (rendered with `_total`).
pub(crate) const REJECTED_METRIC: &str = "harrier_exporter_partial_success_rejected";

/// What a server's `partial_success` said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PartialSuccess {
    /// `rejected_spans`, `rejected_data_points` or `rejected_log_records`.
    pub rejected: i64,
    /// The server's explanation (may be set with `rejected == 0`: a warning).
    pub error_message: String,
}

/// Logs and counts partial successes for one exporter instance.
#[derive(Debug, Clone)]
pub(crate) struct PartialSuccessReporter {
    exporter: String,
    rejected: Counter,
}

impl PartialSuccessReporter {
    /// Registers the counter for the exporter `ctx.id`.
    pub(crate) fn new(ctx: &BuildContext) -> PartialSuccessReporter {
        let exporter = ctx.id.to_string();
        let rejected = ctx.telemetry.counter(
            REJECTED_METRIC,
            "Items the destination rejected in an otherwise successful export (OTLP partial success); not retried.",
            &[("exporter", exporter.as_str())],
        );
        PartialSuccessReporter { exporter, rejected }
    }

    /// Logs and counts one response's partial success (nothing when it is empty).
    pub(crate) fn report(&self, signal: Signal, partial: &PartialSuccess) {
        if partial.rejected > 0 {
            self.rejected
                .add(u64::try_from(partial.rejected).unwrap_or(0));
            tracing::warn!(
                exporter = %self.exporter,
                %signal,
                rejected = partial.rejected,
                error_message = %partial.error_message,
                "destination rejected part of an export (partial success; not retried)"
            );
        } else if !partial.error_message.is_empty() {
            tracing::warn!(
                exporter = %self.exporter,
                %signal,
                error_message = %partial.error_message,
                "destination accepted an export with a warning"
            );
        }
    }
}
