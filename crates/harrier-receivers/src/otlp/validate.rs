//! Item-level validation for partial success.
//!
//! The OTLP spec lets a server accept a request while rejecting some items, reporting
//! them in `partial_success`. Harrier rejects items whose ids are malformed (a span
//! without a 16-byte trace id or 8-byte span id, a log record with ids of the wrong
//! length) and metrics without a name, instead of passing them downstream where an
//! exporter would choke on them.

use harrier_pdata::Batch;

/// Rejected items and why.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// How many items were removed.
    pub count: usize,
    /// The first reason, for the response's `error_message`.
    pub message: String,
}

fn note(r: &mut Rejected, what: &str) {
    r.count += 1;
    if r.message.is_empty() {
        r.message = what.to_string();
    }
}

fn valid_id(id: &[u8], len: usize) -> bool {
    id.len() == len && id.iter().any(|b| *b != 0)
}

/// Removes invalid items from `batch` (and groups left empty), returning what was
/// removed.
pub fn reject_invalid(batch: &mut Batch) -> Rejected {
    let mut r = Rejected::default();
    match batch {
        Batch::Traces(rs) => {
            for res in rs.iter_mut() {
                for scope in res.scope_spans.iter_mut() {
                    scope.spans.retain(|s| {
                        let ok = valid_id(&s.trace_id, 16)
                            && valid_id(&s.span_id, 8)
                            && (s.parent_span_id.is_empty() || s.parent_span_id.len() == 8);
                        if !ok {
                            note(&mut r, "span with an invalid trace_id, span_id or parent_span_id (need 16, 8 and 0 or 8 bytes, not all zero)");
                        }
                        ok
                    });
                }
                res.scope_spans.retain(|s| !s.spans.is_empty());
            }
            rs.retain(|r| !r.scope_spans.is_empty());
        }
        Batch::Logs(rl) => {
            for res in rl.iter_mut() {
                for scope in res.scope_logs.iter_mut() {
                    scope.log_records.retain(|l| {
                        let ok = (l.trace_id.is_empty() || l.trace_id.len() == 16)
                            && (l.span_id.is_empty() || l.span_id.len() == 8);
                        if !ok {
                            note(&mut r, "log record with an invalid trace_id or span_id (need 16 and 8 bytes, or empty)");
                        }
                        ok
                    });
                }
                res.scope_logs.retain(|s| !s.log_records.is_empty());
            }
            rl.retain(|r| !r.scope_logs.is_empty());
        }
        Batch::Metrics(rm) => {
            for res in rm.iter_mut() {
                for scope in res.scope_metrics.iter_mut() {
                    scope.metrics.retain(|m| {
                        let ok = !m.name.is_empty();
                        if !ok {
                            let points = harrier_pdata::metric_point_count(m.data.as_ref());
                            for _ in 0..points {
                                note(&mut r, "metric without a name");
                            }
                        }
                        ok
                    });
                }
                res.scope_metrics.retain(|s| !s.metrics.is_empty());
            }
            rm.retain(|r| !r.scope_metrics.is_empty());
        }
    }
    r
}
