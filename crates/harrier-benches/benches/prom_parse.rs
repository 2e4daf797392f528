//! Bench `prom_parse`: the Prometheus exposition-format parser on a node-exporter-like
//! scrape of about 1500 samples (per-CPU and per-device counters, filesystem and memory
//! gauges, interrupts, a labelled request-latency histogram, a GC summary), in the text
//! format 0.0.4 and in OpenMetrics 1.0 (with `_created` samples and bucket exemplars).
//!
//! Throughput is in samples (one element = one sample line).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use harrier_receivers::prometheus::parse::{Format, parse};
use std::fmt::Write as _;

const CPUS: usize = 16;
const CPU_MODES: [&str; 8] = [
    "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
];
const NET_DEVICES: [&str; 6] = ["eth0", "eth1", "lo", "docker0", "veth1a2b3c", "wlan0"];
const DISKS: [&str; 6] = ["nvme0n1", "nvme0n1p1", "nvme0n1p2", "sda", "sda1", "dm-0"];
const HANDLERS: usize = 25;
const BUCKETS: [&str; 11] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf",
];

/// Writes one exposition in `format`.
struct Exposition {
    format: Format,
    out: String,
}

impl Exposition {
    /// Metadata of a family; `name` is the text-format name (a counter's with `_total`).
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let name = match (self.format, kind) {
            (Format::OpenMetrics, "counter") => name.strip_suffix("_total").unwrap(),
            _ => name,
        };
        writeln!(self.out, "# HELP {name} {help}").unwrap();
        writeln!(self.out, "# TYPE {name} {kind}").unwrap();
    }

    /// One sample line.
    fn sample(&mut self, name: &str, labels: &str, value: f64) {
        if labels.is_empty() {
            writeln!(self.out, "{name} {value}").unwrap();
        } else {
            writeln!(self.out, "{name}{{{labels}}} {value}").unwrap();
        }
    }
}

/// A node-exporter-like scrape body.
fn node_exporter(format: Format) -> String {
    let mut e = Exposition {
        format,
        out: String::with_capacity(256 * 1024),
    };
    e.family(
        "node_cpu_seconds_total",
        "counter",
        "Seconds the CPUs spent in each mode.",
    );
    for cpu in 0..CPUS {
        for (m, mode) in CPU_MODES.iter().enumerate() {
            let value = 12345.67 * (cpu + 1) as f64 + m as f64;
            e.sample(
                "node_cpu_seconds_total",
                &format!("cpu=\"{cpu}\",mode=\"{mode}\""),
                value,
            );
        }
    }
    for (what, help) in [
        ("bytes", "Network device statistic"),
        ("packets", "Packets"),
        ("errs", "Errors"),
        ("drop", "Drops"),
    ] {
        for direction in ["receive", "transmit"] {
            let name = format!("node_network_{direction}_{what}_total");
            e.family(&name, "counter", help);
            for (d, device) in NET_DEVICES.iter().enumerate() {
                e.sample(
                    &name,
                    &format!("device=\"{device}\""),
                    1.0e9 + d as f64 * 7.5,
                );
            }
        }
    }
    for stat in [
        "reads_completed",
        "reads_merged",
        "read_bytes",
        "read_time_seconds",
        "writes_completed",
        "writes_merged",
        "written_bytes",
        "write_time_seconds",
        "io_time_seconds",
        "io_time_weighted_seconds",
        "discards_completed",
    ] {
        let name = format!("node_disk_{stat}_total");
        e.family(&name, "counter", "Disk statistic.");
        for (d, device) in DISKS.iter().enumerate() {
            e.sample(
                &name,
                &format!("device=\"{device}\""),
                4.2e6 * (d + 1) as f64,
            );
        }
    }
    for stat in [
        "avail_bytes",
        "free_bytes",
        "size_bytes",
        "files",
        "files_free",
        "readonly",
        "device_error",
    ] {
        let name = format!("node_filesystem_{stat}");
        e.family(&name, "gauge", "Filesystem statistic.");
        for fs in 0..10 {
            e.sample(
                &name,
                &format!(
                    "device=\"/dev/nvme0n1p{fs}\",fstype=\"ext4\",mountpoint=\"/mnt/data{fs}\""
                ),
                5.36870912e10 / (fs + 1) as f64,
            );
        }
    }
    for i in 0..100 {
        let name = format!("node_memory_Stat{i}_bytes");
        e.family(&name, "gauge", "Memory information field.");
        e.sample(&name, "", 1.6e10 - i as f64 * 1024.0);
    }
    e.family("node_interrupts_total", "counter", "Interrupt details.");
    for cpu in 0..CPUS {
        for irq in 0..30 {
            e.sample(
                "node_interrupts_total",
                &format!(
                    "cpu=\"{cpu}\",devices=\"nvme0q{irq}\",info=\"IR-PCI-MSI\",type=\"{irq}\""
                ),
                (cpu * 1000 + irq) as f64,
            );
        }
    }
    e.family(
        "node_cpu_guest_seconds_total",
        "counter",
        "Seconds the CPUs spent in guests.",
    );
    for cpu in 0..CPUS {
        for mode in ["nice", "user"] {
            e.sample(
                "node_cpu_guest_seconds_total",
                &format!("cpu=\"{cpu}\",mode=\"{mode}\""),
                0.0,
            );
        }
    }
    for stat in ["running_seconds", "waiting_seconds", "timeslices"] {
        let name = format!("node_schedstat_{stat}_total");
        e.family(&name, "counter", "Scheduler statistic.");
        for cpu in 0..CPUS {
            e.sample(&name, &format!("cpu=\"{cpu}\""), 1.25e6 * (cpu + 1) as f64);
        }
    }
    for stat in ["processed", "dropped", "times_squeezed"] {
        let name = format!("node_softnet_{stat}_total");
        e.family(&name, "counter", "Softnet statistic.");
        for cpu in 0..CPUS {
            e.sample(&name, &format!("cpu=\"{cpu}\""), 98765.0 + cpu as f64);
        }
    }
    for i in 0..120 {
        let name = format!("node_vmstat_field{i}");
        e.family(&name, "untyped_or_unknown", "");
        e.sample(&name, "", i as f64 * 3.0);
    }
    e.family(
        "http_request_duration_seconds",
        "histogram",
        "Latency of HTTP requests.",
    );
    for handler in 0..HANDLERS {
        let labels = format!("handler=\"/api/v1/endpoint{handler}\",method=\"GET\",code=\"200\"");
        for (b, le) in BUCKETS.iter().enumerate() {
            let line_labels = format!("{labels},le=\"{le}\"");
            let count = (b * 10 + handler) as f64;
            if format == Format::OpenMetrics && b % 4 == 0 {
                writeln!(
                    e.out,
                    "http_request_duration_seconds_bucket{{{line_labels}}} {count} # {{trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"}} 0.0042 1700000000.123"
                )
                .unwrap();
            } else {
                e.sample("http_request_duration_seconds_bucket", &line_labels, count);
            }
        }
        e.sample(
            "http_request_duration_seconds_sum",
            &labels,
            12.5 + handler as f64,
        );
        e.sample(
            "http_request_duration_seconds_count",
            &labels,
            (100 + handler) as f64,
        );
        if format == Format::OpenMetrics {
            e.sample("http_request_duration_seconds_created", &labels, 1.7e9);
        }
    }
    e.family("go_gc_duration_seconds", "summary", "GC pause durations.");
    for q in ["0", "0.25", "0.5", "0.75", "1"] {
        e.sample(
            "go_gc_duration_seconds",
            &format!("quantile=\"{q}\""),
            2.5e-5,
        );
    }
    e.sample("go_gc_duration_seconds_sum", "", 0.5);
    e.sample("go_gc_duration_seconds_count", "", 4242.0);
    let body = e.out.replace(
        " untyped_or_unknown\n",
        match format {
            Format::Text => " untyped\n",
            Format::OpenMetrics => " unknown\n",
        },
    );
    match format {
        Format::Text => body,
        Format::OpenMetrics => body + "# EOF\n",
    }
}

fn prom_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("prom_parse");
    for (id, format) in [
        ("node_exporter_text", Format::Text),
        ("node_exporter_openmetrics", Format::OpenMetrics),
    ] {
        let body = node_exporter(format);
        let samples: usize = parse(&body, format)
            .unwrap()
            .iter()
            .map(|family| family.samples.len())
            .sum();
        assert!((1400..1700).contains(&samples), "{samples} samples");
        eprintln!("{id}: {samples} samples, {} bytes", body.len());
        group.throughput(Throughput::Elements(samples as u64));
        group.bench_function(id, |b| {
            b.iter(|| parse(std::hint::black_box(&body), format).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, prom_parse);
criterion_main!(benches);
