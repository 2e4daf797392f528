//! Fixtures for the anomaly tests: audit, runtime and flow records, client spans, and
//! a processor built from a TOML section.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::AnomalyProcessor;
use super::{REASON_ATTRIBUTE, SEVERITY_ATTRIBUTE, TYPES_ATTRIBUTE};
use harrier_core::component::{BuildContext, Processor, parse_config};
use harrier_core::envelope::Envelope;
use harrier_core::id::ComponentId;
use harrier_core::telemetry::Telemetry;
use harrier_pdata::Batch;
use harrier_pdata::otlp::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value,
};
use harrier_pdata::otlp::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use harrier_pdata::otlp::resource::v1::Resource;
use harrier_pdata::otlp::trace::v1::{ResourceSpans, ScopeSpans, Span, span::SpanKind};

/// One hour in nanoseconds.
pub const HOUR: u64 = 3600 * 1_000_000_000;
/// One day in nanoseconds.
pub const DAY: u64 = 24 * HOUR;
/// 2023-11-14T22:13:20Z, the start of every test's event time.
pub const T0: u64 = 1_700_000_000 * 1_000_000_000;

/// A string value.
pub fn sv(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.into())),
    }
}

/// A string attribute.
pub fn kv(key: &str, v: &str) -> KeyValue {
    kv_any(key, sv(v))
}

/// An attribute with any value.
pub fn kv_any(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(value),
        ..Default::default()
    }
}

/// An integer attribute.
pub fn kv_int(key: &str, v: i64) -> KeyValue {
    kv_any(
        key,
        AnyValue {
            value: Some(Value::IntValue(v)),
        },
    )
}

/// A kvlist value.
pub fn map(entries: Vec<(&str, AnyValue)>) -> AnyValue {
    AnyValue {
        value: Some(Value::KvlistValue(KeyValueList {
            values: entries.into_iter().map(|(k, v)| kv_any(k, v)).collect(),
        })),
    }
}

/// An array value.
pub fn array(values: Vec<AnyValue>) -> AnyValue {
    AnyValue {
        value: Some(Value::ArrayValue(ArrayValue { values })),
    }
}

/// A pod spec (`{"containers": [{"image": ..}, ..]}`).
pub fn pod_spec(images: &[&str]) -> AnyValue {
    map(vec![(
        "containers",
        array(
            images
                .iter()
                .map(|i| map(vec![("name", sv("c")), ("image", sv(i))]))
                .collect(),
        ),
    )])
}

/// An audit event, built up field by field.
#[derive(Clone)]
pub struct Audit(pub Vec<KeyValue>);

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// An allowed (200) `verb resource` by `user`, with a fresh audit id, stage
/// `ResponseComplete`, from 10.0.0.1 with `kubectl/v1.30.2`.
pub fn audit(user: &str, verb: &str, resource: &str) -> Audit {
    let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Audit(vec![
        kv("event.domain", "k8s.audit"),
        kv("k8s.audit.id", &format!("audit-{id}")),
        kv("k8s.audit.stage", "ResponseComplete"),
        kv("k8s.audit.verb", verb),
        kv("user.name", user),
        kv("k8s.audit.resource", resource),
        kv("source.address", "10.0.0.1"),
        kv(
            "user_agent.original",
            "kubectl/v1.30.2 (linux/amd64) kubernetes/39683505",
        ),
        kv_int("http.response.status_code", 200),
    ])
}

impl Audit {
    fn set(mut self, key: &str, value: AnyValue) -> Audit {
        self.0.retain(|kv| kv.key != key);
        self.0.push(kv_any(key, value));
        self
    }
    /// `k8s.namespace.name`
    pub fn ns(self, ns: &str) -> Audit {
        self.set("k8s.namespace.name", sv(ns))
    }
    /// `k8s.audit.subresource`
    pub fn sub(self, sub: &str) -> Audit {
        self.set("k8s.audit.subresource", sv(sub))
    }
    /// `k8s.audit.api_group`
    pub fn group(self, group: &str) -> Audit {
        self.set("k8s.audit.api_group", sv(group))
    }
    /// `k8s.audit.object_name`
    pub fn name(self, name: &str) -> Audit {
        self.set("k8s.audit.object_name", sv(name))
    }
    /// `http.response.status_code`
    pub fn status(self, code: i64) -> Audit {
        self.set(
            "http.response.status_code",
            AnyValue {
                value: Some(Value::IntValue(code)),
            },
        )
    }
    /// `source.address`
    pub fn source(self, ip: &str) -> Audit {
        self.set("source.address", sv(ip))
    }
    /// `user_agent.original`
    pub fn agent(self, ua: &str) -> Audit {
        self.set("user_agent.original", sv(ua))
    }
    /// `k8s.audit.request_object`
    pub fn request(self, object: AnyValue) -> Audit {
        self.set("k8s.audit.request_object", object)
    }
    /// `k8s.audit.id`
    pub fn id(self, id: &str) -> Audit {
        self.set("k8s.audit.id", sv(id))
    }
    /// Removes `user.name` (failed authentication).
    pub fn anonymous(mut self) -> Audit {
        self.0.retain(|kv| kv.key != "user.name");
        self
    }
    /// The log record at event time `t`.
    pub fn at(self, t: u64) -> LogRecord {
        record(self.0, t)
    }
}

/// A log record with `attrs` at event time `t`.
pub fn record(attrs: Vec<KeyValue>, t: u64) -> LogRecord {
    LogRecord {
        time_unix_nano: t,
        observed_time_unix_nano: t + 1_000_000,
        attributes: attrs,
        body: Some(sv("event")),
        ..Default::default()
    }
}

/// A runtime event: `exe` run in a container of `image` in pod `ns/pod`.
pub fn runtime(exe: &str, image: &str, ns: &str, pod: &str) -> Vec<KeyValue> {
    vec![
        kv("event.domain", "runtime"),
        kv("process.executable.name", exe),
        kv("process.command_line", &format!("{exe} -x")),
        kv("container.image.name", image),
        kv("k8s.namespace.name", ns),
        kv("k8s.pod.name", pod),
    ]
}

/// A flow record from workload `src` (`ns/name`) to `dst_addr:port/tcp`, with the
/// destination workload `dst` when given.
pub fn flow(
    src: (&str, &str),
    dst_addr: &str,
    dst: Option<(&str, &str)>,
    port: i64,
) -> Vec<KeyValue> {
    let mut attrs = vec![
        kv("event.domain", "network.flow"),
        kv("source.address", "10.1.0.5"),
        kv_int("source.port", 40312),
        kv("destination.address", dst_addr),
        kv_int("destination.port", port),
        kv("network.transport", "tcp"),
        kv("source.k8s.namespace.name", src.0),
        kv("source.k8s.workload.name", src.1),
    ];
    if let Some((ns, w)) = dst {
        attrs.push(kv("destination.k8s.namespace.name", ns));
        attrs.push(kv("destination.k8s.workload.name", w));
    }
    attrs
}

/// One `ResourceLogs` holding `records`.
pub fn logs(records: Vec<LogRecord>) -> Batch {
    Batch::Logs(vec![ResourceLogs {
        resource: Some(Resource {
            attributes: vec![kv("service.name", "kube-apiserver")],
            ..Default::default()
        }),
        scope_logs: vec![ScopeLogs {
            log_records: records,
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// Spans of `service` in namespace `ns`: `(kind, attributes, start time)`.
pub fn spans(service: &str, ns: &str, items: Vec<(SpanKind, Vec<KeyValue>, u64)>) -> Batch {
    Batch::Traces(vec![ResourceSpans {
        resource: Some(Resource {
            attributes: vec![kv("service.name", service), kv("k8s.namespace.name", ns)],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans: items
                .into_iter()
                .map(|(kind, attributes, t)| Span {
                    name: "call".into(),
                    kind: kind as i32,
                    start_time_unix_nano: t,
                    end_time_unix_nano: t + 1000,
                    attributes,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// A context for processor `anomaly` outside a topology.
pub fn ctx(telemetry: &Telemetry) -> BuildContext {
    BuildContext::new(ComponentId::parse("anomaly").unwrap(), telemetry.clone())
}

/// Builds a processor from a TOML section in its own context.
pub fn build(text: &str) -> (AnomalyProcessor, Telemetry) {
    let telemetry = Telemetry::new();
    let p = build_in(text, &ctx(&telemetry));
    (p, telemetry)
}

/// Builds a processor from a TOML section in `ctx`.
pub fn build_in(text: &str, ctx: &BuildContext) -> AnomalyProcessor {
    let value: toml::Value = toml::from_str(text).unwrap();
    AnomalyProcessor::new(&parse_config(&value).unwrap(), ctx).unwrap()
}

/// Runs one batch through the processor.
pub fn run(p: &mut AnomalyProcessor, batch: Batch) -> Batch {
    let mut out = Vec::new();
    p.process(Envelope::new(batch), &mut out);
    assert_eq!(out.len(), 1);
    out.remove(0).batch
}

/// Runs one record through the processor and returns its findings.
pub fn one(p: &mut AnomalyProcessor, r: LogRecord) -> Option<Tags> {
    let batch = run(p, logs(vec![r]));
    tags_of_batch(&batch).remove(0)
}

/// The `security.anomaly.*` attributes of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Tags {
    /// `security.anomaly.types`
    pub types: Vec<String>,
    /// `security.anomaly.severity`
    pub severity: String,
    /// `security.anomaly.reason`
    pub reasons: Vec<String>,
}

fn strings(v: Option<&AnyValue>) -> Vec<String> {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Value::ArrayValue(a)) => a
            .values
            .iter()
            .filter_map(|v| match v.value.as_ref() {
                Some(Value::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The tags of an attribute list, when it has them (asserting they appear once).
pub fn tags(attrs: &[KeyValue]) -> Option<Tags> {
    let count = attrs.iter().filter(|kv| kv.key == TYPES_ATTRIBUTE).count();
    assert!(count <= 1, "tagged {count} times");
    let get = |k: &str| {
        attrs
            .iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.as_ref())
    };
    get(TYPES_ATTRIBUTE)?;
    Some(Tags {
        types: strings(get(TYPES_ATTRIBUTE)),
        severity: match get(SEVERITY_ATTRIBUTE).and_then(|v| v.value.as_ref()) {
            Some(Value::StringValue(s)) => s.clone(),
            _ => String::new(),
        },
        reasons: strings(get(REASON_ATTRIBUTE)),
    })
}

/// The tags of every item of a batch, in order.
pub fn tags_of_batch(batch: &Batch) -> Vec<Option<Tags>> {
    match batch {
        Batch::Logs(rl) => rl
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .map(|r| tags(&r.attributes))
            .collect(),
        Batch::Traces(rs) => rs
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .map(|s| tags(&s.attributes))
            .collect(),
        Batch::Metrics(_) => Vec::new(),
    }
}

/// The types of `tags`, or empty.
pub fn types(tags: &Option<Tags>) -> Vec<String> {
    tags.as_ref().map(|t| t.types.clone()).unwrap_or_default()
}

/// A `[processors.anomaly]` section enabling only the stateful detector `name` (rules
/// stay as they are), plus `extra` lines for its table.
pub fn only(name: &str, extra: &str) -> String {
    let mut text = String::new();
    for other in super::STATEFUL.iter().chain(crate::rules::NAMES) {
        if *other != name {
            text.push_str(&format!("[detectors.{other}]\nenabled = false\n"));
        }
    }
    text.push_str(&format!("[detectors.{name}]\n{extra}\n"));
    text
}

/// Whether `name` is among the tags.
pub fn fired(t: &Option<Tags>, name: &str) -> bool {
    types(t).iter().any(|n| n == name)
}
