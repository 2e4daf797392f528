//! `memory_limiter` settings.

use harrier_core::config::duration;
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// `processors.memory_limiter` settings (the OTel Collector's keys).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryLimiterConfig {
    /// How often memory is sampled (default `1s`).
    #[serde(with = "duration")]
    pub check_interval: Duration,
    /// Hard limit in MiB (default 0: use `limit_percentage`).
    pub limit_mib: u64,
    /// Headroom below the hard limit, in MiB; the soft limit is `limit - spike`
    /// (default 0: 20% of the limit).
    pub spike_limit_mib: u64,
    /// Hard limit as a percentage of total memory (cgroup limit if set, else host
    /// memory); used when `limit_mib` is 0 (default 0).
    pub limit_percentage: u64,
    /// Spike headroom as a percentage of total memory (default 0: 20% of the limit).
    pub spike_limit_percentage: u64,
}

impl Default for MemoryLimiterConfig {
    fn default() -> Self {
        MemoryLimiterConfig {
            check_interval: Duration::from_secs(1),
            limit_mib: 0,
            spike_limit_mib: 0,
            limit_percentage: 0,
            spike_limit_percentage: 0,
        }
    }
}

const MIB: u64 = 1024 * 1024;

impl MemoryLimiterConfig {
    /// Computes `(hard, soft)` limits in bytes given the total memory.
    ///
    /// # Errors
    /// Each problem with its key.
    pub fn limits(&self, total_memory: Option<u64>) -> Result<(u64, u64), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.check_interval.is_zero() {
            errors.push(ConfigError::new("check_interval", "must be greater than 0"));
        }
        if self.limit_percentage > 100 {
            errors.push(ConfigError::new(
                "limit_percentage",
                "must be between 1 and 100",
            ));
        }
        if self.spike_limit_percentage > 100 {
            errors.push(ConfigError::new(
                "spike_limit_percentage",
                "must be between 0 and 100",
            ));
        }
        let hard = if self.limit_mib > 0 {
            self.limit_mib * MIB
        } else if self.limit_percentage > 0 {
            match total_memory {
                Some(total) => total / 100 * self.limit_percentage,
                None => {
                    errors.push(ConfigError::new(
                        "limit_percentage",
                        "total memory is unknown on this system: use limit_mib",
                    ));
                    0
                }
            }
        } else {
            errors.push(ConfigError::new(
                "limit_mib",
                "set limit_mib or limit_percentage (a limit above 0 is required)",
            ));
            0
        };
        let spike = if self.spike_limit_mib > 0 {
            self.spike_limit_mib * MIB
        } else if self.spike_limit_percentage > 0 {
            total_memory.unwrap_or(0) / 100 * self.spike_limit_percentage
        } else {
            hard / 5
        };
        if hard > 0 && spike >= hard {
            let key = if self.spike_limit_mib > 0 {
                "spike_limit_mib"
            } else {
                "spike_limit_percentage"
            };
            errors.push(ConfigError::new(key, "must be less than the limit"));
        }
        if errors.is_empty() {
            Ok((hard, hard - spike))
        } else {
            Err(errors)
        }
    }
}
