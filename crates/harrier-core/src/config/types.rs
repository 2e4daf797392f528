//! Value types used in component configs: byte sizes and durations.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// A size in bytes, written as an integer or a string with a unit:
/// `"64MiB"`, `"512KiB"`, `"4MB"`, `"1GiB"`, `"100B"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// `n` mebibytes.
    pub const fn mib(n: u64) -> ByteSize {
        ByteSize(n * 1024 * 1024)
    }

    /// The size in bytes as usize (saturating).
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }

    /// Parses `"64MiB"` and friends.
    ///
    /// # Errors
    /// A message naming the accepted forms.
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let num: f64 = num.parse().map_err(|_| {
            format!("invalid size {text:?}: expected e.g. \"64MiB\" or a number of bytes")
        })?;
        let mult: u64 = match unit.trim() {
            "" | "B" => 1,
            "KB" | "kB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            other => {
                return Err(format!(
                    "invalid size unit {other:?} in {text:?}: use B, KB, MB, GB, KiB, MiB or GiB"
                ));
            }
        };
        Ok(ByteSize((num * mult as f64) as u64))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(ByteSize(n)),
            Raw::Text(s) => ByteSize::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// Serde helper for humantime durations (`"200ms"`, `"5s"`, `"1m30s"`), giving a clear
/// message on error. Use with `#[serde(with = "harrier_core::config::duration")]`.
pub mod duration {
    use super::*;

    /// Deserializes a humantime string.
    ///
    /// # Errors
    /// When the string is not a duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration {text:?} ({e}): expected e.g. \"200ms\", \"5s\", \"1m\""
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(ByteSize::parse("64MiB"), Ok(ByteSize(64 << 20)));
        assert_eq!(ByteSize::parse("4MB"), Ok(ByteSize(4_000_000)));
        assert_eq!(ByteSize::parse("100"), Ok(ByteSize(100)));
        assert_eq!(ByteSize::parse("1.5KiB"), Ok(ByteSize(1536)));
        assert!(ByteSize::parse("12 parsecs").is_err());
        assert!(ByteSize::parse("MiB").is_err());
    }
}
