//! `host_metrics` receiver settings.

use harrier_core::config::duration;
use harrier_core::error::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One scraper, named by its key under `scrapers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scraper {
    /// `system.cpu.time` from `/proc/stat`.
    Cpu,
    /// `system.memory.*` from `/proc/meminfo`.
    Memory,
    /// `system.cpu.load_average.*` from `/proc/loadavg`.
    Load,
    /// `system.filesystem.usage` from the mount table and `statvfs`.
    Filesystem,
    /// `system.disk.*` from `/proc/diskstats`.
    Disk,
    /// `system.network.*` from `/proc/net/dev`.
    Network,
    /// `system.paging.*` from `/proc/meminfo` and `/proc/vmstat`.
    Paging,
    /// `system.processes.*` from `/proc/stat`.
    Processes,
}

impl Scraper {
    /// Every scraper, in collection order.
    pub const ALL: [Scraper; 8] = [
        Scraper::Cpu,
        Scraper::Memory,
        Scraper::Load,
        Scraper::Filesystem,
        Scraper::Disk,
        Scraper::Network,
        Scraper::Paging,
        Scraper::Processes,
    ];

    /// The config key (and the `scraper` label of the error counter).
    pub fn name(self) -> &'static str {
        match self {
            Scraper::Cpu => "cpu",
            Scraper::Memory => "memory",
            Scraper::Load => "load",
            Scraper::Filesystem => "filesystem",
            Scraper::Disk => "disk",
            Scraper::Network => "network",
            Scraper::Paging => "paging",
            Scraper::Processes => "processes",
        }
    }

    /// The scraper for a config key.
    pub fn parse(name: &str) -> Option<Scraper> {
        Scraper::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Settings of one scraper. None yet: a scraper is enabled by its table being present
/// (`[receivers.host_metrics.scrapers.cpu]`), as in the OTel hostmetrics receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScraperConfig {}

/// `receivers.host_metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostMetricsConfig {
    /// Time between two collections. Default `10s`; must be above zero.
    #[serde(with = "duration")]
    pub collection_interval: Duration,
    /// Prefix for every `/proc` file this receiver reads itself, for running in a
    /// container with the host's `/proc` mounted (e.g. `/hostfs`). Default `/`.
    /// The filesystem scraper then reads the host's mount table
    /// (`<root_path>/proc/1/mounts`) and measures mount points below `root_path`.
    pub root_path: PathBuf,
    /// The enabled scrapers, by name (`cpu`, `memory`, `load`, `filesystem`, `disk`,
    /// `network`, `paging`, `processes`). At least one is required. Default none.
    pub scrapers: BTreeMap<String, ScraperConfig>,
}

impl Default for HostMetricsConfig {
    fn default() -> HostMetricsConfig {
        HostMetricsConfig {
            collection_interval: Duration::from_secs(10),
            root_path: PathBuf::from("/"),
            scrapers: BTreeMap::new(),
        }
    }
}

impl HostMetricsConfig {
    /// Checks the settings without side effects.
    ///
    /// # Errors
    /// Every problem found, with its key path.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.collection_interval.is_zero() {
            errors.push(ConfigError::new(
                "collection_interval",
                "must be greater than zero",
            ));
        }
        if self.scrapers.is_empty() {
            errors.push(ConfigError::new(
                "scrapers",
                "at least one scraper must be enabled",
            ));
        }
        for name in self.scrapers.keys() {
            if Scraper::parse(name).is_none() {
                let known: Vec<&str> = Scraper::ALL.iter().map(|s| s.name()).collect();
                errors.push(ConfigError::new(
                    format!("scrapers.{name}"),
                    format!("unknown scraper; expected one of {}", known.join(", ")),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The enabled scrapers (unknown names are skipped; `validate` reports them).
    pub fn enabled(&self) -> Vec<Scraper> {
        self.scrapers
            .keys()
            .filter_map(|n| Scraper::parse(n))
            .collect()
    }
}
