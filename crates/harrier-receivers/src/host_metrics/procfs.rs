//! Pure parsers for the `/proc` files the scrapers read. Each takes the file's text, so
//! tests feed them fixed samples.

use std::collections::BTreeMap;

/// Clock ticks per second of `/proc/stat` times (`USER_HZ`, 100 on every Linux ABI).
pub const USER_HZ: f64 = 100.0;

/// Bytes per sector in `/proc/diskstats` (always 512, whatever the device's sector).
pub const SECTOR_BYTES: u64 = 512;

/// `/proc/stat` CPU modes, in column order, with their `cpu.mode` values.
pub const CPU_MODES: [&str; 8] = [
    "user",
    "nice",
    "system",
    "idle",
    "iowait",
    "interrupt",
    "softirq",
    "steal",
];

/// What the scrapers use from `/proc/stat`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stat {
    /// Per logical CPU: its number and seconds per mode of [`CPU_MODES`].
    pub cpus: Vec<(u32, [f64; 8])>,
    /// Boot time, seconds since the epoch (`btime`).
    pub boot_time: Option<u64>,
    /// Processes created since boot (`processes`).
    pub processes_created: Option<u64>,
    /// Runnable processes (`procs_running`).
    pub procs_running: Option<u64>,
    /// Processes blocked on I/O (`procs_blocked`).
    pub procs_blocked: Option<u64>,
}

/// Parses `/proc/stat`.
pub fn parse_stat(text: &str) -> Stat {
    let mut stat = Stat::default();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(key) = fields.next() else { continue };
        let number = |mut f: std::str::SplitWhitespace<'_>| f.next().and_then(|v| v.parse().ok());
        match key {
            "btime" => stat.boot_time = number(fields),
            "processes" => stat.processes_created = number(fields),
            "procs_running" => stat.procs_running = number(fields),
            "procs_blocked" => stat.procs_blocked = number(fields),
            _ => {
                // `cpu` alone is the total; `cpuN` is one logical CPU.
                let Some(Ok(cpu)) = key
                    .strip_prefix("cpu")
                    .filter(|n| !n.is_empty())
                    .map(str::parse::<u32>)
                else {
                    continue;
                };
                let mut seconds = [0.0; 8];
                for (slot, value) in seconds.iter_mut().zip(fields) {
                    *slot = value.parse::<u64>().unwrap_or(0) as f64 / USER_HZ;
                }
                stat.cpus.push((cpu, seconds));
            }
        }
    }
    stat
}

/// Parses `/proc/meminfo` into bytes per key (`MemTotal`, `Cached`, ...).
pub fn parse_meminfo(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (key, rest) = line.split_once(':')?;
            let mut parts = rest.split_whitespace();
            let value: u64 = parts.next()?.parse().ok()?;
            let bytes = if parts.next() == Some("kB") {
                value.saturating_mul(1024)
            } else {
                value
            };
            Some((key.trim().to_string(), bytes))
        })
        .collect()
}

/// Parses `/proc/loadavg`: the 1, 5 and 15 minute load averages.
pub fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// One line of `/proc/diskstats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskStat {
    /// Device name (`sda`, `nvme0n1p1`).
    pub device: String,
    /// Reads completed.
    pub reads: u64,
    /// Bytes read.
    pub read_bytes: u64,
    /// Writes completed.
    pub writes: u64,
    /// Bytes written.
    pub write_bytes: u64,
}

/// Parses `/proc/diskstats`.
pub fn parse_diskstats(text: &str) -> Vec<DiskStat> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                return None;
            }
            let n = |i: usize| f[i].parse::<u64>().ok();
            Some(DiskStat {
                device: f[2].to_string(),
                reads: n(3)?,
                read_bytes: n(5)?.saturating_mul(SECTOR_BYTES),
                writes: n(7)?,
                write_bytes: n(9)?.saturating_mul(SECTOR_BYTES),
            })
        })
        .collect()
}

/// Counters of one interface in `/proc/net/dev`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetDev {
    /// Interface name.
    pub interface: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Transmitted packets dropped.
    pub tx_dropped: u64,
}

/// Parses `/proc/net/dev` (the two header lines have no `:` and are skipped).
pub fn parse_net_dev(text: &str) -> Vec<NetDev> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let f: Vec<u64> = rest
                .split_whitespace()
                .map(|v| v.parse().ok())
                .collect::<Option<_>>()?;
            if f.len() < 16 {
                return None;
            }
            Some(NetDev {
                interface: name.trim().to_string(),
                rx_bytes: f[0],
                rx_packets: f[1],
                rx_errors: f[2],
                rx_dropped: f[3],
                tx_bytes: f[8],
                tx_packets: f[9],
                tx_errors: f[10],
                tx_dropped: f[11],
            })
        })
        .collect()
}

/// Parses `/proc/vmstat` (`key value` lines).
pub fn parse_vmstat(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ')?;
            Some((key.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}
