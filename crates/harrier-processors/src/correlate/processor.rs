//! The per-pipeline processor: indexes spans, fills in and enriches log records.

use super::CorrelateConfig;
use super::extract::{Extractor, Found, SpanId, TraceId};
use super::index::{ResourceInfo, SpanIndex};
use harrier_core::component::{BuildContext, Processor};
use harrier_core::envelope::Envelope;
use harrier_core::error::ConfigError;
use harrier_core::telemetry::Counter;
use harrier_pdata::Batch;
use harrier_pdata::attrs::string_kv;
use harrier_pdata::otlp::common::v1::KeyValue;
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::resource::v1::Resource;
use std::sync::Arc;
use std::time::Instant;

/// The attribute set on a linked log record.
pub const SPAN_NAME_ATTRIBUTE: &str = "span.name";

/// One pipeline's instance of a `correlate` processor; the index is shared.
pub struct CorrelateProcessor {
    remove_source_fields: bool,
    extractor: Extractor,
    index: Arc<SpanIndex>,
    logs_seen: Counter,
    logs_with_trace_context: Counter,
    logs_linked: Counter,
    /// Per record of the batch being processed: 0, or 1 + its group in `groups`.
    assignments: Vec<usize>,
    /// Distinct resource additions of the batch being processed.
    groups: Vec<Arc<ResourceInfo>>,
}

impl CorrelateProcessor {
    /// An instance for `ctx.pipeline`, sharing the index of every instance of `ctx.id`
    /// through `ctx.shared`.
    ///
    /// # Errors
    /// A [`ConfigError`] if the text pattern does not compile (it is a constant).
    pub fn new(config: &CorrelateConfig, ctx: &BuildContext) -> Result<Self, ConfigError> {
        let id = ctx.id.to_string();
        let pipeline = ctx.pipeline.clone().unwrap_or_default();
        let labels = [("processor", id.as_str()), ("pipeline", pipeline.as_str())];
        let index = ctx.shared.get_or_init(&ctx.id, || {
            let gauge = ctx.telemetry.gauge(
                "harrier_processor_correlate_index_entries",
                "Spans held by the correlate index (shared by every pipeline of the processor).",
                &[("processor", id.as_str())],
            );
            SpanIndex::new(config.max_entries, config.ttl, gauge)
        });
        Ok(CorrelateProcessor {
            remove_source_fields: config.remove_source_fields,
            extractor: Extractor::new().map_err(|e| ConfigError::new("", e.to_string()))?,
            index,
            logs_seen: ctx.telemetry.counter(
                "harrier_processor_correlate_logs_seen",
                "Log records the correlate processor looked at.",
                &labels,
            ),
            logs_with_trace_context: ctx.telemetry.counter(
                "harrier_processor_correlate_logs_with_trace_context",
                "Log records with a trace id, already set or found by correlate.",
                &labels,
            ),
            logs_linked: ctx.telemetry.counter(
                "harrier_processor_correlate_logs_linked",
                "Log records enriched from an indexed span.",
                &labels,
            ),
            assignments: Vec::new(),
            groups: Vec::new(),
        })
    }

    /// The shared index (for tests and benches).
    pub fn index(&self) -> &Arc<SpanIndex> {
        &self.index
    }

    fn correlate_logs(&mut self, resource_logs: &mut Vec<ResourceLogs>) {
        let (mut seen, mut with_context) = (0u64, 0u64);
        for record in resource_logs
            .iter_mut()
            .flat_map(|r| &mut r.scope_logs)
            .flat_map(|s| &mut s.log_records)
        {
            seen += 1;
            if trace_id_of(record).is_some() {
                with_context += 1;
            } else if let Some(found) = self
                .extractor
                .find(&record.attributes, record.body.as_ref())
            {
                apply(record, &found, self.remove_source_fields);
                with_context += 1;
            }
        }
        self.logs_seen.add(seen);
        self.logs_with_trace_context.add(with_context);
        if with_context == 0 {
            return;
        }
        self.assignments.clear();
        self.groups.clear();
        let (assignments, groups) = (&mut self.assignments, &mut self.groups);
        let linked = self.index.with_lookup(Instant::now(), |lookup| {
            let mut linked = 0u64;
            for rl in resource_logs.iter_mut() {
                let ResourceLogs {
                    resource,
                    scope_logs,
                    ..
                } = rl;
                let existing = resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
                for record in scope_logs.iter_mut().flat_map(|s| &mut s.log_records) {
                    let link = trace_id_of(record).and_then(|t| lookup(&t, span_id_of(record)));
                    let Some(link) = link else {
                        assignments.push(0);
                        continue;
                    };
                    linked += 1;
                    if !record
                        .attributes
                        .iter()
                        .any(|kv| kv.key == SPAN_NAME_ATTRIBUTE)
                    {
                        record
                            .attributes
                            .push(string_kv(SPAN_NAME_ATTRIBUTE, link.span_name));
                    }
                    assignments.push(group_of(link.resource, existing, groups));
                }
            }
            linked
        });
        self.logs_linked.add(linked);
        if !self.groups.is_empty() {
            self.enrich_resources(resource_logs);
        }
    }

    /// Adds each group's missing resource attributes, splitting a `ResourceLogs` whose
    /// records need different ones.
    fn enrich_resources(&self, resource_logs: &mut Vec<ResourceLogs>) {
        let old = std::mem::take(resource_logs);
        resource_logs.reserve(old.len());
        let mut offset = 0;
        for mut rl in old {
            let n: usize = rl.scope_logs.iter().map(|s| s.log_records.len()).sum();
            let slice = &self.assignments[offset..offset + n];
            offset += n;
            let first = slice.first().copied().unwrap_or(0);
            if slice.iter().all(|g| *g == first) {
                if first != 0 {
                    add_missing(&mut rl.resource, &self.groups[first - 1]);
                }
                resource_logs.push(rl);
            } else {
                split(rl, slice, &self.groups, resource_logs);
            }
        }
    }
}

impl Processor for CorrelateProcessor {
    fn process(&mut self, mut envelope: Envelope, out: &mut Vec<Envelope>) {
        match &mut envelope.batch {
            Batch::Traces(resource_spans) => self.index.insert(resource_spans, Instant::now()),
            Batch::Logs(resource_logs) => self.correlate_logs(resource_logs),
            Batch::Metrics(_) => {}
        }
        out.push(envelope);
    }
}

/// The record's trace id, when set and not all zero.
fn trace_id_of(record: &LogRecord) -> Option<TraceId> {
    TraceId::try_from(record.trace_id.as_slice())
        .ok()
        .filter(|id| *id != [0; 16])
}

/// The record's span id, when set and not all zero.
fn span_id_of(record: &LogRecord) -> Option<&SpanId> {
    <&SpanId>::try_from(record.span_id.as_slice())
        .ok()
        .filter(|id| **id != [0; 8])
}

/// Sets the OTLP fields from `found`; removes the source attributes if asked.
fn apply(record: &mut LogRecord, found: &Found, remove_source_fields: bool) {
    record.trace_id = found.trace_id.to_vec();
    if let Some(span_id) = found.span_id {
        record.span_id = span_id.to_vec();
    }
    if let Some(flags) = found.flags {
        record.flags = (record.flags & !0xff) | u32::from(flags);
    }
    if remove_source_fields {
        let mut sources = found.attribute_sources;
        // Highest index first, so earlier indices stay valid.
        sources.sort_unstable_by(|a, b| b.cmp(a));
        for i in sources.into_iter().flatten() {
            if i < record.attributes.len() {
                record.attributes.remove(i);
            }
        }
    }
}

/// 0 when `resource` adds nothing to `existing`, else 1 + its index in `groups`.
fn group_of(
    resource: Option<Arc<ResourceInfo>>,
    existing: &[KeyValue],
    groups: &mut Vec<Arc<ResourceInfo>>,
) -> usize {
    let Some(info) = resource else {
        return 0;
    };
    let adds = info
        .attributes
        .iter()
        .any(|kv| !existing.iter().any(|e| e.key == kv.key));
    if !adds {
        return 0;
    }
    if let Some(i) = groups
        .iter()
        .position(|g| Arc::ptr_eq(g, &info) || **g == *info)
    {
        return i + 1;
    }
    groups.push(info);
    groups.len()
}

/// Adds the attributes of `info` whose keys the resource lacks (never overwrites).
fn add_missing(resource: &mut Option<Resource>, info: &ResourceInfo) {
    let resource = resource.get_or_insert_with(Resource::default);
    for kv in &info.attributes {
        if !resource.attributes.iter().any(|e| e.key == kv.key) {
            resource.attributes.push(kv.clone());
        }
    }
}

/// Splits `rl` by group: records without additions first (original resource), then one
/// `ResourceLogs` per group in order of first appearance, each keeping its scopes.
fn split(
    rl: ResourceLogs,
    assignments: &[usize],
    groups: &[Arc<ResourceInfo>],
    out: &mut Vec<ResourceLogs>,
) {
    let mut ids: Vec<usize> = Vec::new();
    if assignments.contains(&0) {
        ids.push(0);
    }
    for g in assignments {
        if !ids.contains(g) {
            ids.push(*g);
        }
    }
    let ResourceLogs {
        resource,
        scope_logs,
        schema_url,
    } = rl;
    let mut pieces: Vec<ResourceLogs> = ids
        .iter()
        .map(|g| {
            let mut resource = resource.clone();
            if *g != 0 {
                add_missing(&mut resource, &groups[*g - 1]);
            }
            ResourceLogs {
                resource,
                scope_logs: Vec::new(),
                schema_url: schema_url.clone(),
            }
        })
        .collect();
    let mut next = assignments.iter();
    for ScopeLogs {
        scope,
        log_records,
        schema_url,
    } in scope_logs
    {
        let mut buckets: Vec<Vec<LogRecord>> = ids.iter().map(|_| Vec::new()).collect();
        for record in log_records {
            let g = next.next().copied().unwrap_or(0);
            let slot = ids.iter().position(|id| *id == g).unwrap_or(0);
            buckets[slot].push(record);
        }
        for (piece, bucket) in pieces.iter_mut().zip(buckets) {
            if !bucket.is_empty() {
                piece.scope_logs.push(ScopeLogs {
                    scope: scope.clone(),
                    log_records: bucket,
                    schema_url: schema_url.clone(),
                });
            }
        }
    }
    out.extend(pieces);
}
