//! Facts about this process and its host read from `/proc` and cgroups (Linux).
//!
//! Used by own telemetry (`otelcol_process_memory_rss`, CPU seconds) and by the
//! memory_limiter. On other systems the functions return `None`.

/// Resident set size of this process in bytes.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// User plus system CPU time of this process, in seconds.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after ") ".
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the full line: 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // /proc reports in USER_HZ, which Linux fixes at 100 for this interface.
    Some((utime + stime) as f64 / 100.0)
}

/// Total memory available to this process: the cgroup limit if one is set, else the
/// host's total memory, in bytes.
pub fn total_memory_bytes() -> Option<u64> {
    cgroup_limit_bytes().or_else(host_memory_bytes)
}

fn host_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn cgroup_limit_bytes() -> Option<u64> {
    // cgroup v2, then v1. "max" or an absurdly large v1 value mean "no limit".
    let text = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .or_else(|_| std::fs::read_to_string("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        .ok()?;
    let limit: u64 = text.trim().parse().ok()?;
    let host = host_memory_bytes().unwrap_or(u64::MAX);
    (limit < host).then_some(limit)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_own_process() {
        if cfg!(target_os = "linux") {
            assert!(super::rss_bytes().unwrap_or(0) > 0);
            assert!(super::cpu_seconds().is_some());
            assert!(super::total_memory_bytes().unwrap_or(0) > 0);
        }
    }
}
