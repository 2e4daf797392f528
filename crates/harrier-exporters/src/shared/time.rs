//! UTC calendar arithmetic for the few timestamps exporters print or parse: the debug
//! exporter's `2006-01-02 15:04:05.999999999 +0000 UTC`, the file exporter's backup
//! suffix `2006-01-02T15-04-05.000`, and HTTP-dates in `Retry-After`.
//!
//! Written out here (Howard Hinnant's `days_from_civil` / `civil_from_days`) because the
//! workspace has no calendar crate and these three formats are all that is needed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NANOS_PER_SEC: u64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UtcTime {
    /// Full year (e.g. 2024).
    pub year: i64,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
    /// 0..=23.
    pub hour: u32,
    /// 0..=59.
    pub minute: u32,
    /// 0..=59.
    pub second: u32,
    /// 0..1_000_000_000.
    pub nanos: u32,
}

impl UtcTime {
    /// The UTC time `secs` seconds and `nanos` nanoseconds after the Unix epoch.
    pub(crate) fn from_unix(secs: i64, nanos: u32) -> UtcTime {
        let days = secs.div_euclid(SECS_PER_DAY);
        let rem = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        UtcTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            nanos,
        }
    }

    /// The UTC time of an OTLP timestamp (nanoseconds since the epoch).
    pub(crate) fn from_unix_nanos(nanos: u64) -> UtcTime {
        let secs = i64::try_from(nanos / NANOS_PER_SEC).unwrap_or(i64::MAX);
        UtcTime::from_unix(secs, (nanos % NANOS_PER_SEC) as u32)
    }

    /// The UTC time of a `SystemTime` (times before the epoch clamp to the epoch).
    pub(crate) fn from_system(time: SystemTime) -> UtcTime {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
        UtcTime::from_unix(secs, since.subsec_nanos())
    }

    /// Seconds since the Unix epoch (ignoring `nanos`).
    pub(crate) fn unix_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats an OTLP timestamp like Go's `time.Time.String()` in UTC, as the OTel
/// Collector's debug exporter prints it: `2020-02-11 20:26:13.000000789 +0000 UTC`
/// (trailing zeros of the fraction dropped, no fraction when it is zero).
pub(crate) fn format_unix_nanos(nanos: u64) -> String {
    let t = UtcTime::from_unix_nanos(nanos);
    let mut out = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
    if t.nanos != 0 {
        let fraction = format!("{:09}", t.nanos);
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

/// The file exporter's backup-name timestamp, as lumberjack writes it in UTC:
/// `2006-01-02T15-04-05.000` (no colons, so it is valid in file names everywhere).
pub(crate) fn backup_timestamp(time: SystemTime) -> String {
    let t = UtcTime::from_system(time);
    format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}.{:03}",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.nanos / 1_000_000
    )
}

/// Whether `text` has the exact shape of a [`backup_timestamp`].
pub(crate) fn is_backup_timestamp(text: &str) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd-dd-dd.ddd";
    text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(c, &s)| {
            if s == b'd' {
                c.is_ascii_digit()
            } else {
                c == s
            }
        })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_number(name: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| *m == name)
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn parse_clock(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(':');
    let hour = parts.next()?.parse().ok()?;
    let minute = parts.next()?.parse().ok()?;
    let second = parts.next()?.parse().ok()?;
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((hour, minute, second))
}

/// Parses an HTTP-date (RFC 9110 section 5.6.7) in any of its three forms:
/// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, the obsolete RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`.
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let (year, month, day, clock) = match tokens.as_slice() {
        [weekday, day, month, year, clock, "GMT"] if weekday.ends_with(',') => (
            year.parse().ok()?,
            month_number(month)?,
            day.parse().ok()?,
            *clock,
        ),
        [weekday, date, clock, "GMT"] if weekday.ends_with(',') => {
            let mut parts = date.split('-');
            let day = parts.next()?.parse().ok()?;
            let month = month_number(parts.next()?)?;
            let short_year: i64 = parts.next()?.parse().ok()?;
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
            let year = if short_year < 70 {
                2000 + short_year
            } else {
                1900 + short_year
            };
            (year, month, day, *clock)
        }
        [_weekday, month, day, clock, year] => (
            year.parse().ok()?,
            month_number(month)?,
            day.parse().ok()?,
            *clock,
        ),
        _ => return None,
    };
    if !(1..=31).contains(&day) {
        return None;
    }
    let (hour, minute, second) = parse_clock(clock)?;
    let t = UtcTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos: 0,
    };
    let secs = u64::try_from(t.unix_seconds()).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn round_trips_calendar_days() {
        for days in [-800_000, -1, 0, 1, 59, 365, 10_957, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_unix_nanos(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            format_unix_nanos(1_581_452_773_000_000_789),
            "2020-02-11 20:26:13.000000789 +0000 UTC"
        );
        assert_eq!(
            format_unix_nanos(1_581_452_773_500_000_000),
            "2020-02-11 20:26:13.5 +0000 UTC"
        );
    }

    #[test]
    fn backup_timestamps_have_a_fixed_shape() {
        let t = UNIX_EPOCH + Duration::from_millis(1_581_452_773_042);
        let s = backup_timestamp(t);
        assert_eq!(s, "2020-02-11T20-26-13.042");
        assert!(is_backup_timestamp(&s));
        assert!(!is_backup_timestamp("2020-02-11T20-26-13"));
        assert!(!is_backup_timestamp("2020-02-11T20:26:13.042"));
    }

    #[test]
    fn parses_the_three_http_date_forms() {
        let expected = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(expected)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(expected)
        );
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(expected));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
    }
}
