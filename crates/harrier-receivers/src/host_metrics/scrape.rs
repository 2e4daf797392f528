//! One collection: each enabled scraper reads its source and turns it into OTLP metrics
//! named, united and attributed after the OTel semantic conventions for system metrics.
//! Blocking (file reads, sysinfo); the receiver runs it on `spawn_blocking`.

use super::config::Scraper;
use super::procfs;
use harrier_pdata::otlp::common::v1::{AnyValue, KeyValue, any_value};
use harrier_pdata::otlp::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, Sum, metric, number_data_point,
};
use std::path::{Path, PathBuf};

/// Why one scraper produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// A source file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A source file did not contain what was expected.
    #[error("parsing {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was missing.
        message: &'static str,
    },
}

/// Reads `/proc/<relative>` under the root path.
pub fn read_proc(root: &Path, relative: &str) -> Result<String, ScrapeError> {
    let path = root.join("proc").join(relative);
    std::fs::read_to_string(&path).map_err(|source| ScrapeError::Read { path, source })
}

/// A data point's value.
#[derive(Clone, Copy)]
enum Value {
    Int(i64),
    Double(f64),
}

/// Builds one point.
fn point(attributes: &[(&str, &str)], start: u64, now: u64, value: Value) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attributes
            .iter()
            .map(|(k, v)| KeyValue {
                key: (*k).to_string(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue((*v).to_string())),
                }),
                ..Default::default()
            })
            .collect(),
        start_time_unix_nano: start,
        time_unix_nano: now,
        value: Some(match value {
            Value::Int(v) => number_data_point::Value::AsInt(v),
            Value::Double(v) => number_data_point::Value::AsDouble(v),
        }),
        ..Default::default()
    }
}

fn int(v: u64) -> Value {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

/// Timestamps of one collection.
#[derive(Clone, Copy)]
pub struct Times {
    /// Start of every cumulative sum (boot time or receiver start), Unix nanoseconds.
    pub start: u64,
    /// This collection, Unix nanoseconds.
    pub now: u64,
}

/// Accumulates the metrics of one scraper.
struct Builder {
    times: Times,
    metrics: Vec<Metric>,
}

impl Builder {
    fn sum(
        &mut self,
        name: &str,
        unit: &str,
        monotonic: bool,
        points: Vec<(Vec<(&str, &str)>, Value)>,
    ) {
        let data_points = points
            .into_iter()
            .map(|(a, v)| point(&a, self.times.start, self.times.now, v))
            .collect();
        self.push(
            name,
            unit,
            metric::Data::Sum(Sum {
                data_points,
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: monotonic,
            }),
        );
    }

    fn gauge(&mut self, name: &str, unit: &str, points: Vec<(Vec<(&str, &str)>, Value)>) {
        let data_points = points
            .into_iter()
            .map(|(a, v)| point(&a, 0, self.times.now, v))
            .collect();
        self.push(name, unit, metric::Data::Gauge(Gauge { data_points }));
    }

    fn push(&mut self, name: &str, unit: &str, data: metric::Data) {
        self.metrics.push(Metric {
            name: name.to_string(),
            unit: unit.to_string(),
            data: Some(data),
            ..Default::default()
        });
    }
}

/// Runs one scraper.
///
/// # Errors
/// A [`ScrapeError`] when its source cannot be read or parsed.
pub fn scrape(scraper: Scraper, root: &Path, times: Times) -> Result<Vec<Metric>, ScrapeError> {
    let mut b = Builder {
        times,
        metrics: Vec::new(),
    };
    match scraper {
        Scraper::Cpu => cpu(&mut b, root)?,
        Scraper::Memory => memory(&mut b, root)?,
        Scraper::Load => load(&mut b, root)?,
        Scraper::Filesystem => filesystem(&mut b, root)?,
        Scraper::Disk => disk(&mut b, root)?,
        Scraper::Network => network(&mut b, root)?,
        Scraper::Paging => paging(&mut b, root)?,
        Scraper::Processes => processes(&mut b, root)?,
    }
    Ok(b.metrics)
}

fn cpu(b: &mut Builder, root: &Path) -> Result<(), ScrapeError> {
    let stat = procfs::parse_stat(&read_proc(root, "stat")?);
    if stat.cpus.is_empty() {
        return Err(ScrapeError::Parse {
            path: root.join("proc/stat"),
            message: "no cpuN lines",
        });
    }
    let numbers: Vec<String> = stat.cpus.iter().map(|(n, _)| n.to_string()).collect();
    let mut points = Vec::new();
    for ((_, seconds), number) in stat.cpus.iter().zip(&numbers) {
        for (mode, value) in procfs::CPU_MODES.iter().zip(seconds) {
            points.push((
                vec![("cpu.logical_number", number.as_str()), ("cpu.mode", *mode)],
                Value::Double(*value),
            ));
        }
    }
    b.sum("system.cpu.time", "s", true, points);
    Ok(())
}

fn memory(b: &mut Builder, root: &Path) -> Result<(), ScrapeError> {
    let info = procfs::parse_meminfo(&read_proc(root, "meminfo")?);
    let get = |k: &str| info.get(k).copied().unwrap_or(0);
    let total = info.get("MemTotal").copied().ok_or(ScrapeError::Parse {
        path: root.join("proc/meminfo"),
        message: "no MemTotal",
    })?;
    let (free, buffered, cached) = (get("MemFree"), get("Buffers"), get("Cached"));
    let (reclaimable, unreclaimable) = (get("SReclaimable"), get("SUnreclaim"));
    let used = total
        .saturating_sub(free)
        .saturating_sub(buffered)
        .saturating_sub(cached)
        .saturating_sub(reclaimable);
    let states = [
        ("used", used),
        ("free", free),
        ("buffered", buffered),
        ("cached", cached),
        ("slab_reclaimable", reclaimable),
        ("slab_unreclaimable", unreclaimable),
    ];
    let usage = states
        .iter()
        .map(|(s, v)| (vec![("system.memory.state", *s)], int(*v)))
        .collect();
    b.sum("system.memory.usage", "By", false, usage);
    let utilization = states
        .iter()
        .map(|(s, v)| {
            let ratio = if total == 0 {
                0.0
            } else {
                *v as f64 / total as f64
            };
            (vec![("system.memory.state", *s)], Value::Double(ratio))
        })
        .collect();
    b.gauge("system.memory.utilization", "1", utilization);
    Ok(())
}

fn load(b: &mut Builder, root: &Path) -> Result<(), ScrapeError> {
    let averages =
        procfs::parse_loadavg(&read_proc(root, "loadavg")?).ok_or(ScrapeError::Parse {
            path: root.join("proc/loadavg"),
            message: "expected three load averages",
        })?;
    for (name, value) in ["1m", "5m", "15m"].iter().zip(averages) {
        b.gauge(
            &format!("system.cpu.load_average.{name}"),
            "{thread}",
            vec![(Vec::new(), Value::Double(value))],
        );
    }
    Ok(())
}

/// Pseudo file systems that hold no disk space; skipped as the OTel Collector's
/// default exclusions and `df` do.
const PSEUDO_FILESYSTEMS: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nsfs",
    "proc",
    "pstore",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "sysfs",
    "tracefs",
];

/// One line of a mount table (`/proc/<pid>/mounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub(crate) device: String,
    pub(crate) mountpoint: String,
    pub(crate) fs_type: String,
    pub(crate) read_only: bool,
}

/// Undoes the octal escapes (`\040` for a space) of a mount table field.
fn unescape_mount_field(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|c| (b'0'..=b'7').contains(c))
        {
            let value = u32::from(bytes[i + 1] - b'0') * 64
                + u32::from(bytes[i + 2] - b'0') * 8
                + u32::from(bytes[i + 3] - b'0');
            out.push(u8::try_from(value).unwrap_or(b'?'));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a mount table, skipping pseudo file systems; a mountpoint mounted twice keeps
/// its last (topmost) entry.
pub(crate) fn parse_mounts(text: &str) -> Vec<Mount> {
    let mut mounts: Vec<Mount> = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(device), Some(mountpoint), Some(fs_type), Some(options)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if PSEUDO_FILESYSTEMS.contains(&fs_type) {
            continue;
        }
        let mount = Mount {
            device: unescape_mount_field(device),
            mountpoint: unescape_mount_field(mountpoint),
            fs_type: fs_type.to_string(),
            read_only: options.split(',').any(|o| o == "ro"),
        };
        mounts.retain(|m| m.mountpoint != mount.mountpoint);
        mounts.push(mount);
    }
    mounts
}

/// `system.filesystem.usage` (`used`, `free`, `reserved`) for every mount of the
/// table below `root`: the host's (`<root>/proc/1/mounts`) when `root` is not `/`, the
/// collector's own otherwise; each mountpoint is measured at `<root>/<mountpoint>`.
fn filesystem(b: &mut Builder, root: &Path) -> Result<(), ScrapeError> {
    let table = if root == Path::new("/") {
        read_proc(root, "self/mounts")?
    } else {
        read_proc(root, "1/mounts")?
    };
    let mut points = Vec::new();
    let mut rows = Vec::new();
    for mount in parse_mounts(&table) {
        let path = root.join(mount.mountpoint.trim_start_matches('/'));
        // Mounts that cannot be measured (permissions, stale network mounts) are
        // skipped, as `df` does.
        let Ok(stat) = rustix::fs::statvfs(&path) else {
            continue;
        };
        let block = stat.f_frsize.max(1);
        let used = stat
            .f_blocks
            .saturating_sub(stat.f_bfree)
            .saturating_mul(block);
        let free = stat.f_bavail.saturating_mul(block);
        let reserved = stat
            .f_bfree
            .saturating_sub(stat.f_bavail)
            .saturating_mul(block);
        rows.push((
            mount,
            [("used", used), ("free", free), ("reserved", reserved)],
        ));
    }
    for (mount, values) in &rows {
        let mode = if mount.read_only { "ro" } else { "rw" };
        for (state, value) in values {
            points.push((
                vec![
                    ("system.device", mount.device.as_str()),
                    ("system.filesystem.mountpoint", mount.mountpoint.as_str()),
                    ("system.filesystem.type", mount.fs_type.as_str()),
                    ("system.filesystem.mode", mode),
                    ("system.filesystem.state", *state),
                ],
                int(*value),
            ));
        }
    }
    b.sum("system.filesystem.usage", "By", false, points);
    Ok(())
}

fn disk(b: &mut Builder, root: &Path) -> Result<(), ScrapeError> {
    let disks = procfs::parse_diskstats(&read_proc(root, "diskstats")?);
    let mut io = Vec::new();
    let mut operations = Vec::new();
    for d in &disks {
        let device = d.device.as_str();
        io.push((
            vec![("system.device", device), ("disk.io.direction", "read")],
            int(d.read_bytes),
        ));
        io.push((
            vec![("system.device", device), ("disk.io.direction", "write")],
            int(d.write_bytes),
        ));
        operations.push((
            vec![("system.device", device), ("disk.io.direction", "read")],
            int(d.reads),
        ));
        operations.push((
            vec![("system.device", device), ("disk.io.direction", "write")],
            int(d.writes),
        ));
    }
    b.sum("system.disk.io", "By", true, io);
    b.sum("system.disk.operations", "{operation}", true, operations);
    Ok(())
}

fn network(b: &mut Builder, root: &Path) -> Result<(), ScrapeError> {
    let devices = procfs::parse_net_dev(&read_proc(root, "net/dev")?);
    let per_direction = |pick: fn(&procfs::NetDev) -> (u64, u64)| {
        let mut points = Vec::new();
        for d in &devices {
            let (receive, transmit) = pick(d);
            let name = d.interface.as_str();
            points.push((
                vec![
                    ("network.interface.name", name),
                    ("network.io.direction", "receive"),
                ],
                int(receive),
            ));
            points.push((
                vec![
                    ("network.interface.name", name),
                    ("network.io.direction", "transmit"),
                ],
                int(transmit),
            ));
        }
        points
    };
    b.sum(
        "system.network.io",
        "By",
        true,
        per_direction(|d| (d.rx_bytes, d.tx_bytes)),
    );
    b.sum(
        "system.network.packets",
        "{packet}",
        true,
        per_direction(|d| (d.rx_packets, d.tx_packets)),
    );
    b.sum(
        "system.network.errors",
        "{error}",
        true,
        per_direction(|d| (d.rx_errors, d.tx_errors)),
    );
    b.sum(
        "system.network.dropped",
        "{packet}",
        true,
        per_direction(|d| (d.rx_dropped, d.tx_dropped)),
    );
    Ok(())
}

fn paging(b: &mut Builder, root: &Path) -> Result<(), ScrapeError> {
    let info = procfs::parse_meminfo(&read_proc(root, "meminfo")?);
    let total = info.get("SwapTotal").copied().ok_or(ScrapeError::Parse {
        path: root.join("proc/meminfo"),
        message: "no SwapTotal",
    })?;
    let free = info.get("SwapFree").copied().unwrap_or(0);
    b.sum(
        "system.paging.usage",
        "By",
        false,
        vec![
            (
                vec![("system.paging.state", "used")],
                int(total.saturating_sub(free)),
            ),
            (vec![("system.paging.state", "free")], int(free)),
        ],
    );
    let vm = procfs::parse_vmstat(&read_proc(root, "vmstat")?);
    let get = |k: &str| vm.get(k).copied().unwrap_or(0);
    let major = get("pgmajfault");
    b.sum(
        "system.paging.faults",
        "{fault}",
        true,
        vec![
            (vec![("system.paging.type", "major")], int(major)),
            (
                vec![("system.paging.type", "minor")],
                int(get("pgfault").saturating_sub(major)),
            ),
        ],
    );
    b.sum(
        "system.paging.operations",
        "{operation}",
        true,
        vec![
            (vec![("system.paging.direction", "in")], int(get("pswpin"))),
            (
                vec![("system.paging.direction", "out")],
                int(get("pswpout")),
            ),
        ],
    );
    Ok(())
}

fn processes(b: &mut Builder, root: &Path) -> Result<(), ScrapeError> {
    let stat = procfs::parse_stat(&read_proc(root, "stat")?);
    let missing = |message| ScrapeError::Parse {
        path: root.join("proc/stat"),
        message,
    };
    let running = stat
        .procs_running
        .ok_or_else(|| missing("no procs_running"))?;
    let blocked = stat
        .procs_blocked
        .ok_or_else(|| missing("no procs_blocked"))?;
    let created = stat
        .processes_created
        .ok_or_else(|| missing("no processes"))?;
    b.sum(
        "system.process.count",
        "{process}",
        false,
        vec![
            (vec![("process.state", "running")], int(running)),
            (vec![("process.state", "blocked")], int(blocked)),
        ],
    );
    b.sum(
        "system.process.created",
        "{process}",
        true,
        vec![(Vec::new(), int(created))],
    );
    Ok(())
}
