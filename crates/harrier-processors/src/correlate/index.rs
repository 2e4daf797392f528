//! The bounded index of recently seen spans, shared by every instance of one
//! `correlate` id (see [`harrier_core::component::SharedState`]).
//!
//! A `HashMap` from trace id to [`TraceEntry`] (the trace's spans: span id, name and
//! the span's `service.name`/`k8s.*` resource attributes) plus a FIFO of
//! `(first indexed at, trace id)`. Each trace is in the FIFO exactly once, in the order
//! it was first indexed, so eviction is O(1) per trace: expired traces (older than
//! `ttl`) go first, then the oldest traces while more than `max_entries` spans are held.
//! Memory is bounded by `max_entries` spans, [`MAX_SPANS_PER_TRACE`],
//! [`MAX_NAME_BYTES`] and [`MAX_RESOURCE_ATTRIBUTES`].

use super::extract::{SpanId, TraceId};
use harrier_core::telemetry::Gauge;
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::trace::v1::ResourceSpans;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Spans kept per trace; later spans of a full trace are not indexed (a root span
/// replaces the last one, so the fallback name stays the root's).
pub const MAX_SPANS_PER_TRACE: usize = 256;
/// Span names are cut to this many bytes (at a character boundary).
pub const MAX_NAME_BYTES: usize = 256;
/// At most this many `service.name`/`k8s.*` resource attributes are kept per resource.
pub const MAX_RESOURCE_ATTRIBUTES: usize = 32;

/// The resource attributes a log may inherit from a span: `service.name` and `k8s.*`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceInfo {
    /// The attributes, in the span resource's order.
    pub attributes: Vec<KeyValue>,
}

impl ResourceInfo {
    /// The inheritable attributes of a span resource, `None` if it has none.
    fn from_attributes(attributes: &[KeyValue]) -> Option<ResourceInfo> {
        let kept: Vec<KeyValue> = attributes
            .iter()
            .filter(|kv| kv.key == "service.name" || kv.key.starts_with("k8s."))
            .take(MAX_RESOURCE_ATTRIBUTES)
            .cloned()
            .collect();
        (!kept.is_empty()).then_some(ResourceInfo { attributes: kept })
    }
}

/// One indexed span.
#[derive(Debug)]
struct IndexedSpan {
    span_id: SpanId,
    name: Box<str>,
    resource: Option<Arc<ResourceInfo>>,
}

/// The spans of one trace.
#[derive(Debug)]
struct TraceEntry {
    spans: Vec<IndexedSpan>,
    /// Index in `spans` of the root span (no parent), once seen.
    root: Option<usize>,
    /// Whether every span so far has the same resource attributes.
    single_resource: bool,
}

/// What a log linked to an indexed trace inherits.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The log's span's name, or the trace's root (else first-seen) span's name.
    pub span_name: String,
    /// The resource attributes to fill in, when they are unambiguous.
    pub resource: Option<Arc<ResourceInfo>>,
}

#[derive(Debug, Default)]
struct Inner {
    traces: HashMap<TraceId, TraceEntry>,
    fifo: VecDeque<(Instant, TraceId)>,
    spans: usize,
    /// The last resource indexed, reused when the next one is equal.
    last_resource: Option<Arc<ResourceInfo>>,
}

/// The shared, bounded span index.
#[derive(Debug)]
pub struct SpanIndex {
    max_entries: usize,
    ttl: Duration,
    entries_gauge: Gauge,
    inner: Mutex<Inner>,
}

impl SpanIndex {
    /// An empty index holding at most `max_entries` spans for `ttl` each; `entries_gauge`
    /// follows the number of spans held.
    pub fn new(max_entries: usize, ttl: Duration, entries_gauge: Gauge) -> SpanIndex {
        SpanIndex {
            max_entries: max_entries.max(1),
            ttl,
            entries_gauge,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every mutation keeps the map, FIFO and count consistent before it can panic
        // (none of them panic), so a poisoned lock is safe to use.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Spans held.
    pub fn len(&self) -> usize {
        self.lock().spans
    }

    /// Whether no span is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Indexes every span with valid ids (taking the lock once).
    pub fn insert(&self, resource_spans: &[ResourceSpans], now: Instant) {
        let mut inner = self.lock();
        self.evict_expired(&mut inner, now);
        for rs in resource_spans {
            let resource = rs
                .resource
                .as_ref()
                .and_then(|r| ResourceInfo::from_attributes(&r.attributes))
                .map(|info| inner.intern(info));
            for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                let (Ok(trace_id), Ok(span_id)) = (
                    TraceId::try_from(span.trace_id.as_slice()),
                    SpanId::try_from(span.span_id.as_slice()),
                ) else {
                    continue;
                };
                if trace_id == [0; 16] || span_id == [0; 8] {
                    continue;
                }
                let is_root = span.parent_span_id.iter().all(|b| *b == 0);
                let indexed = IndexedSpan {
                    span_id,
                    name: truncate(&span.name),
                    resource: resource.clone(),
                };
                self.insert_span(&mut inner, trace_id, indexed, is_root, now);
            }
        }
        self.entries_gauge.set(inner.spans as i64);
    }

    fn insert_span(
        &self,
        inner: &mut Inner,
        trace_id: TraceId,
        span: IndexedSpan,
        is_root: bool,
        now: Instant,
    ) {
        if let Some(entry) = inner.traces.get_mut(&trace_id) {
            if entry.spans.iter().any(|s| s.span_id == span.span_id) {
                return;
            }
            entry.single_resource &= entry.spans[0].resource == span.resource;
            if entry.spans.len() < MAX_SPANS_PER_TRACE {
                entry.spans.push(span);
                if is_root && entry.root.is_none() {
                    entry.root = Some(entry.spans.len() - 1);
                }
                inner.spans += 1;
            } else if is_root && entry.root.is_none() {
                let last = entry.spans.len() - 1;
                entry.spans[last] = span;
                entry.root = Some(last);
            }
            if inner.spans > self.max_entries {
                self.evict_oldest(inner);
            }
            return;
        }
        while inner.spans >= self.max_entries && self.pop_front(inner) {}
        inner.traces.insert(
            trace_id,
            TraceEntry {
                spans: vec![span],
                root: is_root.then_some(0),
                single_resource: true,
            },
        );
        inner.fifo.push_back((now, trace_id));
        inner.spans += 1;
    }

    /// Drops the oldest traces until at most `max_entries` spans are held.
    fn evict_oldest(&self, inner: &mut Inner) {
        while inner.spans > self.max_entries && self.pop_front(inner) {}
    }

    /// Drops traces first indexed `ttl` or longer ago.
    fn evict_expired(&self, inner: &mut Inner, now: Instant) {
        while let Some((at, _)) = inner.fifo.front()
            && now.saturating_duration_since(*at) >= self.ttl
        {
            self.pop_front(inner);
        }
    }

    /// Removes the oldest trace; false when the index is empty.
    fn pop_front(&self, inner: &mut Inner) -> bool {
        let Some((_, trace_id)) = inner.fifo.pop_front() else {
            return false;
        };
        if let Some(entry) = inner.traces.remove(&trace_id) {
            inner.spans -= entry.spans.len();
        }
        true
    }

    /// Looks up many records under one lock: `lookup` is called with a function that
    /// resolves `(trace id, span id)` to a [`Link`].
    pub fn with_lookup<R>(
        &self,
        now: Instant,
        lookup: impl FnOnce(&dyn Fn(&TraceId, Option<&SpanId>) -> Option<Link>) -> R,
    ) -> R {
        let mut inner = self.lock();
        self.evict_expired(&mut inner, now);
        self.entries_gauge.set(inner.spans as i64);
        let inner = &*inner;
        lookup(&|trace_id, span_id| inner.link(trace_id, span_id))
    }
}

impl Inner {
    /// Reuses the last resource when equal, so a service's spans share one copy.
    fn intern(&mut self, info: ResourceInfo) -> Arc<ResourceInfo> {
        match &self.last_resource {
            Some(last) if **last == info => Arc::clone(last),
            _ => {
                let info = Arc::new(info);
                self.last_resource = Some(Arc::clone(&info));
                info
            }
        }
    }

    fn link(&self, trace_id: &TraceId, span_id: Option<&SpanId>) -> Option<Link> {
        let entry = self.traces.get(trace_id)?;
        if let Some(span) = span_id.and_then(|id| entry.spans.iter().find(|s| s.span_id == *id)) {
            return Some(Link {
                span_name: span.name.to_string(),
                resource: span.resource.clone(),
            });
        }
        let fallback = &entry.spans[entry.root.unwrap_or(0)];
        Some(Link {
            span_name: fallback.name.to_string(),
            // The log's own span is unknown: its service is only certain when every
            // span of the trace shares one.
            resource: if entry.single_resource {
                fallback.resource.clone()
            } else {
                None
            },
        })
    }
}

fn truncate(name: &str) -> Box<str> {
    if name.len() <= MAX_NAME_BYTES {
        return name.into();
    }
    let mut end = MAX_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].into()
}
