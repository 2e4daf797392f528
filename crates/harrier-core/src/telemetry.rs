//! The collector's own metrics.
//!
//! A small, dependency-free registry of counters and gauges rendered in the Prometheus
//! text exposition format (0.0.4). Names follow the OTel Collector's own telemetry
//! (`otelcol_receiver_accepted_spans`, `otelcol_exporter_queue_size`, ...) so existing
//! dashboards and alerts keep working; as with the Collector's Prometheus endpoint,
//! counters carry the `_total` suffix on the wire. Hot-path updates are a relaxed atomic
//! add on a handle obtained once at build time; the registry lock is only taken to
//! register series and to render.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A monotonically increasing count.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }
    /// Current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    /// Adds `d` (may be negative).
    pub fn add(&self, d: i64) {
        self.0.fetch_add(d, Ordering::Relaxed);
    }
    /// Current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

type GaugeFn = Box<dyn Fn() -> f64 + Send + Sync>;

enum Series {
    Counter(Counter),
    Gauge(Gauge),
    GaugeFn(GaugeFn),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

struct Family {
    help: String,
    kind: Kind,
    series: BTreeMap<String, Series>,
}

/// Labels of one series, as `(name, value)` pairs.
pub type Labels<'a> = &'a [(&'a str, &'a str)];

/// The registry of the collector's own metrics. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Telemetry {
    families: Arc<Mutex<BTreeMap<String, Family>>>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

fn label_key(labels: Labels<'_>) -> String {
    let mut out = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

impl Telemetry {
    /// An empty registry.
    pub fn new() -> Telemetry {
        Telemetry::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Family>> {
        // A panic while holding this lock cannot leave the map inconsistent (every
        // mutation is a single insert), so a poisoned lock is safe to use.
        self.families
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn register(
        &self,
        name: &str,
        help: &str,
        kind: Kind,
        labels: Labels<'_>,
        make: impl FnOnce() -> Series,
    ) -> Option<Series> {
        let mut families = self.lock();
        let family = families.entry(name.to_string()).or_insert_with(|| Family {
            help: help.to_string(),
            kind,
            series: BTreeMap::new(),
        });
        let key = label_key(labels);
        let series = family.series.entry(key).or_insert_with(make);
        match series {
            Series::Counter(c) => Some(Series::Counter(c.clone())),
            Series::Gauge(g) => Some(Series::Gauge(g.clone())),
            Series::GaugeFn(_) => None,
        }
    }

    /// Returns the counter `name{labels}`, creating it at zero. `name` is given without
    /// the `_total` suffix, which rendering adds.
    pub fn counter(&self, name: &str, help: &str, labels: Labels<'_>) -> Counter {
        match self.register(name, help, Kind::Counter, labels, || {
            Series::Counter(Counter::default())
        }) {
            Some(Series::Counter(c)) => c,
            // Registered before under another kind: hand out a detached counter rather
            // than failing; the name clash is a programming error caught by tests.
            _ => Counter::default(),
        }
    }

    /// Returns the gauge `name{labels}`, creating it at zero.
    pub fn gauge(&self, name: &str, help: &str, labels: Labels<'_>) -> Gauge {
        match self.register(name, help, Kind::Gauge, labels, || {
            Series::Gauge(Gauge::default())
        }) {
            Some(Series::Gauge(g)) => g,
            _ => Gauge::default(),
        }
    }

    /// Registers a gauge whose value is read by calling `read` at render time
    /// (replacing an earlier one with the same labels).
    pub fn gauge_fn(
        &self,
        name: &str,
        help: &str,
        labels: Labels<'_>,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        let mut families = self.lock();
        let family = families.entry(name.to_string()).or_insert_with(|| Family {
            help: help.to_string(),
            kind: Kind::Gauge,
            series: BTreeMap::new(),
        });
        family
            .series
            .insert(label_key(labels), Series::GaugeFn(Box::new(read)));
    }

    /// Reads one counter's value (for tests and the health report); `None` if absent.
    pub fn counter_value(&self, name: &str, labels: Labels<'_>) -> Option<u64> {
        let families = self.lock();
        match families.get(name)?.series.get(&label_key(labels))? {
            Series::Counter(c) => Some(c.get()),
            _ => None,
        }
    }

    /// Sums a counter over every series whose labels include all of `labels`.
    pub fn counter_sum(&self, name: &str, labels: Labels<'_>) -> u64 {
        let families = self.lock();
        let Some(family) = families.get(name) else {
            return 0;
        };
        let wanted: Vec<String> = labels.iter().map(|l| label_key(&[*l])).collect();
        family
            .series
            .iter()
            .filter(|(key, _)| {
                let parts: Vec<&str> = key.split(',').collect();
                wanted.iter().all(|w| parts.contains(&w.as_str()))
            })
            .map(|(_, s)| match s {
                Series::Counter(c) => c.get(),
                _ => 0,
            })
            .sum()
    }

    /// Renders every metric in the Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let families = self.lock();
        let mut out = String::with_capacity(families.len() * 256);
        for (name, family) in families.iter() {
            let (wire, kind) = match family.kind {
                Kind::Counter => (format!("{name}_total"), "counter"),
                Kind::Gauge => (name.clone(), "gauge"),
            };
            let _ = writeln!(out, "# HELP {wire} {}", family.help);
            let _ = writeln!(out, "# TYPE {wire} {kind}");
            for (labels, series) in &family.series {
                let value = match series {
                    Series::Counter(c) => c.get() as f64,
                    Series::Gauge(g) => g.get() as f64,
                    Series::GaugeFn(f) => f(),
                };
                if labels.is_empty() {
                    let _ = writeln!(out, "{wire} {value}");
                } else {
                    let _ = writeln!(out, "{wire}{{{labels}}} {value}");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_gauges() {
        let t = Telemetry::new();
        let c = t.counter(
            "otelcol_receiver_accepted_spans",
            "Spans accepted.",
            &[("receiver", "otlp"), ("transport", "grpc")],
        );
        c.add(3);
        t.counter(
            "otelcol_receiver_accepted_spans",
            "Spans accepted.",
            &[("receiver", "otlp"), ("transport", "grpc")],
        )
        .inc();
        t.gauge(
            "otelcol_exporter_queue_size",
            "Queue.",
            &[("exporter", "a\"b")],
        )
        .set(7);
        t.gauge_fn("up_fn", "Fn.", &[], || 1.5);
        let text = t.render();
        assert!(text.contains("# TYPE otelcol_receiver_accepted_spans_total counter"));
        assert!(text.contains(
            "otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"} 4"
        ));
        assert!(text.contains("otelcol_exporter_queue_size{exporter=\"a\\\"b\"} 7"));
        assert!(text.contains("up_fn 1.5"));
        assert_eq!(
            t.counter_sum("otelcol_receiver_accepted_spans", &[("receiver", "otlp")]),
            4
        );
    }
}
