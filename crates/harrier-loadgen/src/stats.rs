//! What a load-generator run measured: [`LatencyHistogram`] (bounded memory, ~1.6%
//! precision), [`ErrorLog`] (the first few distinct error messages) and [`RunStats`]
//! (per worker, merged at the end).

use std::time::Duration;

/// Sub-buckets per power of two, as a power of two: 2^6 = 64, so a bucket spans at most
/// 1/64 (1.6%) of its values.
const SUB_BUCKET_BITS: u32 = 6;
const SUB_BUCKETS: usize = 1 << SUB_BUCKET_BITS;
/// Values below this are counted exactly (one bucket per value).
const LINEAR_LIMIT: u32 = 2 << SUB_BUCKET_BITS;
/// Exponents 7..=31 of a u32 each get [`SUB_BUCKETS`] buckets above the linear range.
const BUCKETS: usize = LINEAR_LIMIT as usize + (32 - 7) * SUB_BUCKETS;

/// A latency histogram in microseconds with log-linear buckets: exact below 128 µs,
/// then within 1.6%. Fixed size (1728 counters), whatever the run length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
    max: u32,
    sum: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
            sum: 0,
        }
    }
}

fn bucket_of(micros: u32) -> usize {
    if micros < LINEAR_LIMIT {
        return micros as usize;
    }
    let exponent = 31 - micros.leading_zeros(); // >= 7 here
    let shift = exponent - SUB_BUCKET_BITS;
    let top = (micros >> shift) as usize; // in SUB_BUCKETS..2*SUB_BUCKETS
    LINEAR_LIMIT as usize + (exponent as usize - 7) * SUB_BUCKETS + (top - SUB_BUCKETS)
}

/// The largest value that falls in bucket `index`.
fn bucket_high(index: usize) -> u32 {
    if index < LINEAR_LIMIT as usize {
        return index as u32;
    }
    let above = index - LINEAR_LIMIT as usize;
    let exponent = 7 + (above / SUB_BUCKETS) as u32;
    let top = (SUB_BUCKETS + above % SUB_BUCKETS) as u64;
    let high = ((top + 1) << (exponent - SUB_BUCKET_BITS)) - 1;
    u32::try_from(high).unwrap_or(u32::MAX)
}

impl LatencyHistogram {
    /// Records one latency (saturating at u32::MAX µs, about 71 minutes).
    pub fn record(&mut self, latency: Duration) {
        self.record_micros(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    /// Records one latency given in microseconds.
    pub fn record_micros(&mut self, micros: u32) {
        self.counts[bucket_of(micros)] += 1;
        self.total += 1;
        self.max = self.max.max(micros);
        self.sum += u64::from(micros);
    }

    /// Number of recorded latencies.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest recorded latency (exact).
    pub fn max(&self) -> Option<Duration> {
        (self.total > 0).then(|| Duration::from_micros(u64::from(self.max)))
    }

    /// The mean latency (exact).
    pub fn mean(&self) -> Option<Duration> {
        (self.total > 0).then(|| Duration::from_micros(self.sum / self.total))
    }

    /// The `percentile` (0-100] by nearest rank, reported as the upper edge of its bucket
    /// (never above the maximum); `None` when nothing was recorded.
    pub fn percentile(&self, percentile: f64) -> Option<Duration> {
        self.percentile_micros(percentile)
            .map(|m| Duration::from_micros(u64::from(m)))
    }

    fn percentile_micros(&self, percentile: f64) -> Option<u32> {
        if self.total == 0 {
            return None;
        }
        let fraction = (percentile / 100.0).clamp(0.0, 1.0);
        // Nearest rank: the smallest value with at least `fraction` of samples at or below.
        let rank = ((fraction * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(bucket_high(index).min(self.max));
            }
        }
        Some(self.max)
    }

    /// Adds `other`'s samples.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }
}

/// How many distinct error messages are kept; the rest are only counted.
pub const DISTINCT_ERRORS: usize = 5;

/// The first [`DISTINCT_ERRORS`] distinct error messages with their counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorLog {
    distinct: Vec<(String, u64)>,
    others: u64,
}

impl ErrorLog {
    /// Counts one occurrence of `message`.
    pub fn record(&mut self, message: &str) {
        self.record_n(message, 1);
    }

    fn record_n(&mut self, message: &str, count: u64) {
        if let Some(entry) = self.distinct.iter_mut().find(|(m, _)| m == message) {
            entry.1 += count;
        } else if self.distinct.len() < DISTINCT_ERRORS {
            self.distinct.push((message.to_string(), count));
        } else {
            self.others += count;
        }
    }

    /// The kept messages with their counts, in order of first occurrence.
    pub fn distinct(&self) -> &[(String, u64)] {
        &self.distinct
    }

    /// Errors whose message was not kept.
    pub fn others(&self) -> u64 {
        self.others
    }

    /// Adds `other`'s errors.
    pub fn merge(&mut self, other: &ErrorLog) {
        for (message, count) in &other.distinct {
            self.record_n(message, *count);
        }
        self.others += other.others;
    }
}

/// What one worker (or, merged, the whole run) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Requests answered with success.
    pub requests_ok: u64,
    /// Requests that failed (transport error, error status, timeout).
    pub requests_failed: u64,
    /// Items in successful requests, minus those the server reported as rejected.
    pub items_accepted: u64,
    /// Items the server rejected through `partial_success`.
    pub items_rejected: u64,
    /// Latency of successful requests.
    pub latency: LatencyHistogram,
    /// Why requests failed.
    pub errors: ErrorLog,
}

impl RunStats {
    /// Records a successful request of `items` items of which `rejected` were rejected.
    pub fn record_ok(&mut self, latency: Duration, items: u64, rejected: u64) {
        self.requests_ok += 1;
        let rejected = rejected.min(items);
        self.items_accepted += items - rejected;
        self.items_rejected += rejected;
        self.latency.record(latency);
    }

    /// Records a failed request.
    pub fn record_failure(&mut self, message: &str) {
        self.requests_failed += 1;
        self.errors.record(message);
    }

    /// Adds another worker's numbers.
    pub fn merge(&mut self, other: &RunStats) {
        self.requests_ok += other.requests_ok;
        self.requests_failed += other.requests_failed;
        self.items_accepted += other.items_accepted;
        self.items_rejected += other.items_rejected;
        self.latency.merge(&other.latency);
        self.errors.merge(&other.errors);
    }

    /// Accepted items per second over `elapsed`.
    pub fn items_per_second(&self, elapsed: Duration) -> f64 {
        per_second(self.items_accepted, elapsed)
    }

    /// Requests (ok and failed) per second over `elapsed`.
    pub fn requests_per_second(&self, elapsed: Duration) -> f64 {
        per_second(self.requests_ok + self.requests_failed, elapsed)
    }
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// Formats a latency for the summary: `812µs`, `12.34ms`, `1.502s`.
pub fn format_latency(latency: Option<Duration>) -> String {
    match latency {
        None => "-".into(),
        Some(d) if d < Duration::from_millis(1) => format!("{}µs", d.as_micros()),
        Some(d) if d < Duration::from_secs(1) => format!("{:.2}ms", d.as_secs_f64() * 1e3),
        Some(d) => format!("{:.3}s", d.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn micros(d: Option<Duration>) -> u128 {
        d.unwrap().as_micros()
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = LatencyHistogram::default();
        for v in 1..=100 {
            h.record_micros(v);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(micros(h.percentile(50.0)), 50);
        assert_eq!(micros(h.percentile(90.0)), 90);
        assert_eq!(micros(h.percentile(99.0)), 99);
        assert_eq!(micros(h.percentile(100.0)), 100);
        assert_eq!(micros(h.max()), 100);
        assert_eq!(micros(h.mean()), 50);
    }

    #[test]
    fn buckets_cover_every_value_within_their_precision() {
        let mut v: u32 = 1;
        while v < u32::MAX / 3 {
            for x in [v, v + 1, v.saturating_mul(3) / 2] {
                let high = bucket_high(bucket_of(x));
                assert!(high >= x, "{x} above its bucket's edge {high}");
                assert!(
                    u64::from(high - x) <= u64::from(x) / 64,
                    "{x} -> {high}: worse than 1/64"
                );
                assert!(bucket_of(x) < BUCKETS);
            }
            v = v * 2 + 1;
        }
        assert_eq!(bucket_of(u32::MAX), BUCKETS - 1);
        assert_eq!(bucket_high(BUCKETS - 1), u32::MAX);
    }

    #[test]
    fn large_percentiles_are_within_precision_and_never_above_max() {
        let mut h = LatencyHistogram::default();
        for v in 10_001..=20_000 {
            h.record_micros(v);
        }
        let p50 = micros(h.percentile(50.0)) as f64;
        assert!((p50 - 15_000.0).abs() / 15_000.0 < 0.016, "{p50}");
        let p99 = micros(h.percentile(99.0)) as f64;
        assert!((p99 - 19_900.0).abs() / 19_900.0 < 0.016, "{p99}");
        assert_eq!(micros(h.percentile(100.0)), 20_000);
        h.record(Duration::from_secs(3));
        assert_eq!(micros(h.max()), 3_000_000);
        assert_eq!(micros(h.percentile(100.0)), 3_000_000);
    }

    #[test]
    fn empty_histogram_has_no_percentiles() {
        let h = LatencyHistogram::default();
        assert_eq!(h.percentile(50.0), None);
        assert_eq!(h.max(), None);
        assert_eq!(format_latency(h.percentile(99.0)), "-");
    }

    #[test]
    fn merge_adds_samples() {
        let mut a = LatencyHistogram::default();
        let mut b = LatencyHistogram::default();
        (1..=50).for_each(|v| a.record_micros(v));
        (51..=100).for_each(|v| b.record_micros(v));
        a.merge(&b);
        assert_eq!(a.count(), 100);
        assert_eq!(micros(a.percentile(50.0)), 50);
        assert_eq!(micros(a.max()), 100);
    }

    #[test]
    fn error_log_keeps_the_first_distinct_messages() {
        let mut log = ErrorLog::default();
        for i in 0..8 {
            log.record(&format!("error {i}"));
            log.record("error 0");
        }
        assert_eq!(log.distinct().len(), DISTINCT_ERRORS);
        assert_eq!(log.distinct()[0], ("error 0".to_string(), 9));
        assert_eq!(log.others(), 3);
        let mut merged = ErrorLog::default();
        merged.merge(&log);
        merged.merge(&log);
        assert_eq!(merged.distinct()[0].1, 18);
        assert_eq!(merged.others(), 6);
    }

    #[test]
    fn run_stats_count_rejected_items_apart() {
        let mut s = RunStats::default();
        s.record_ok(Duration::from_millis(2), 100, 0);
        s.record_ok(Duration::from_millis(4), 100, 10);
        s.record_failure("unavailable");
        assert_eq!(s.items_accepted, 190);
        assert_eq!(s.items_rejected, 10);
        assert_eq!(s.requests_failed, 1);
        assert_eq!(s.items_per_second(Duration::from_secs(2)), 95.0);
        assert_eq!(s.requests_per_second(Duration::from_secs(3)), 1.0);
    }

    #[test]
    fn latencies_format_by_magnitude() {
        assert_eq!(format_latency(Some(Duration::from_micros(812))), "812µs");
        assert_eq!(
            format_latency(Some(Duration::from_micros(12_345))),
            "12.35ms"
        );
        assert_eq!(format_latency(Some(Duration::from_millis(1_502))), "1.502s");
    }
}
