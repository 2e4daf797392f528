//! `receivers.prometheus` settings: a Prometheus `scrape_configs` list under `config`,
//! as in the OTel Collector's prometheus receiver, with Prometheus's own key names and
//! defaults.

use super::discovery::{FileSdConfig, StaticConfig};
use super::relabel::{RelabelConfig, Relabeler};
use harrier_core::config::ByteSize;
use harrier_core::error::ConfigError;
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

/// Deserializes an optional humantime duration (`"15s"`, `"1m"`).
fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    humantime_parse(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Parses a duration the way Prometheus writes them (`15s`, `1m`, `500ms`, `1h30m`).
fn humantime_parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| {
        format!("invalid duration {text:?} ({e}): expected e.g. \"500ms\", \"15s\", \"1m\"")
    })
}

/// `receivers.prometheus`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// The Prometheus configuration: `global` and `scrape_configs`.
    pub config: ScrapeFileConfig,
}

/// `receivers.prometheus.config`: the part of a `prometheus.yml` the receiver uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeFileConfig {
    /// Defaults for every scrape config.
    #[serde(default)]
    pub global: GlobalConfig,
    /// The scrape jobs. At least one is required.
    #[serde(default)]
    pub scrape_configs: Vec<ScrapeConfig>,
}

/// `config.global`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalConfig {
    /// Default `scrape_interval`: `1m`.
    #[serde(deserialize_with = "duration_de")]
    pub scrape_interval: Duration,
    /// Default `scrape_timeout`: `10s`.
    #[serde(deserialize_with = "duration_de")]
    pub scrape_timeout: Duration,
}

fn duration_de<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime_parse(&text).map_err(serde::de::Error::custom)
}

impl Default for GlobalConfig {
    fn default() -> GlobalConfig {
        GlobalConfig {
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
        }
    }
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP (the default).
    #[default]
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// `basic_auth`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password; or use `password_file`.
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding the password, re-read at every scrape.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// `tls_config`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM bundle of CAs to trust instead of the built-in roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS; needs `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Skip verification of the target's certificate. Default false.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// One entry of `scrape_configs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    /// The job name: the `job` label and the resource's `service.name`. Required,
    /// unique.
    pub job_name: String,
    /// How often to scrape; default `global.scrape_interval`.
    #[serde(default, deserialize_with = "opt_duration")]
    pub scrape_interval: Option<Duration>,
    /// Per-scrape timeout; default `global.scrape_timeout`, at most the interval.
    #[serde(default, deserialize_with = "opt_duration")]
    pub scrape_timeout: Option<Duration>,
    /// The HTTP path. Default `/metrics`.
    #[serde(default = "default_metrics_path")]
    pub metrics_path: String,
    /// `http` (default) or `https`.
    #[serde(default)]
    pub scheme: Scheme,
    /// URL query parameters.
    #[serde(default)]
    pub params: BTreeMap<String, Vec<String>>,
    /// Keep the target's own labels on conflicts with target labels. Default false:
    /// conflicting scraped labels are renamed `exported_<name>`.
    #[serde(default)]
    pub honor_labels: bool,
    /// Use the timestamps the target exposes. Default true.
    #[serde(default = "yes")]
    pub honor_timestamps: bool,
    /// Ask for gzip. Default true.
    #[serde(default = "yes")]
    pub enable_compression: bool,
    /// Fail the scrape when more samples than this remain after metric relabeling.
    /// Default 0 (no limit).
    #[serde(default)]
    pub sample_limit: usize,
    /// Fail the scrape when the (uncompressed) body is larger. Default `64MiB`; unlike
    /// Prometheus (0 = unlimited) there is always a bound, so one target cannot
    /// exhaust the collector's memory.
    #[serde(default = "default_body_limit")]
    pub body_size_limit: ByteSize,
    /// HTTP basic authentication.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// A bearer token sent as `Authorization: Bearer ...`.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// A file holding the bearer token, re-read at every scrape (service-account
    /// tokens rotate).
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    /// TLS settings for `https` targets.
    #[serde(default)]
    pub tls_config: TlsConfig,
    /// Fixed targets.
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
    /// Targets read from JSON/YAML files, re-read when they change.
    #[serde(default)]
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Relabeling of targets before scraping.
    #[serde(default)]
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabeling of every scraped sample.
    #[serde(default)]
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

fn default_metrics_path() -> String {
    "/metrics".to_string()
}

fn default_body_limit() -> ByteSize {
    ByteSize::mib(64)
}

fn yes() -> bool {
    true
}

/// A scrape config with its defaults resolved and relabelers compiled.
pub struct Job {
    /// The settings as written.
    pub config: ScrapeConfig,
    /// Resolved interval.
    pub interval: Duration,
    /// Resolved timeout.
    pub timeout: Duration,
    /// Compiled `relabel_configs`.
    pub target_relabel: Relabeler,
    /// Compiled `metric_relabel_configs`.
    pub metric_relabel: Relabeler,
}

impl PrometheusConfig {
    /// Checks everything and compiles the relabel rules.
    ///
    /// # Errors
    /// Every problem found, with its key path.
    pub fn jobs(&self) -> Result<Vec<Job>, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut jobs = Vec::new();
        let global = &self.config.global;
        if global.scrape_interval.is_zero() {
            errors.push(ConfigError::new(
                "config.global.scrape_interval",
                "must be greater than zero",
            ));
        }
        if self.config.scrape_configs.is_empty() {
            errors.push(ConfigError::new(
                "config.scrape_configs",
                "at least one scrape config is required",
            ));
        }
        let mut names = BTreeSet::new();
        for (i, sc) in self.config.scrape_configs.iter().enumerate() {
            let key = format!("config.scrape_configs[{i}]");
            let before = errors.len();
            if sc.job_name.is_empty() {
                errors.push(ConfigError::new(
                    format!("{key}.job_name"),
                    "must not be empty",
                ));
            } else if !names.insert(sc.job_name.as_str()) {
                errors.push(ConfigError::new(
                    format!("{key}.job_name"),
                    format!("duplicate job name {:?}", sc.job_name),
                ));
            }
            let interval = sc.scrape_interval.unwrap_or(global.scrape_interval);
            // As Prometheus: an unset timeout takes the global one, capped at the interval.
            let timeout = match sc.scrape_timeout {
                Some(t) => t,
                None => global.scrape_timeout.min(interval),
            };
            if interval.is_zero() {
                errors.push(ConfigError::new(
                    format!("{key}.scrape_interval"),
                    "must be greater than zero",
                ));
            }
            if timeout.is_zero() {
                errors.push(ConfigError::new(
                    format!("{key}.scrape_timeout"),
                    "must be greater than zero",
                ));
            } else if timeout > interval {
                errors.push(ConfigError::new(
                    format!("{key}.scrape_timeout"),
                    format!(
                        "{} is greater than scrape_interval {}",
                        humantime::format_duration(timeout),
                        humantime::format_duration(interval)
                    ),
                ));
            }
            if !sc.metrics_path.starts_with('/') {
                errors.push(ConfigError::new(
                    format!("{key}.metrics_path"),
                    format!("{:?} must start with '/'", sc.metrics_path),
                ));
            }
            if sc.static_configs.is_empty() && sc.file_sd_configs.is_empty() {
                errors.push(ConfigError::new(
                    key.clone(),
                    "no targets: set static_configs or file_sd_configs",
                ));
            }
            for (j, st) in sc.static_configs.iter().enumerate() {
                errors.extend(st.problems(&format!("{key}.static_configs[{j}]")));
            }
            for (j, fsd) in sc.file_sd_configs.iter().enumerate() {
                errors.extend(fsd.problems(&format!("{key}.file_sd_configs[{j}]")));
            }
            if sc.body_size_limit.0 == 0 {
                errors.push(ConfigError::new(
                    format!("{key}.body_size_limit"),
                    "must be greater than zero",
                ));
            }
            let auths = usize::from(sc.basic_auth.is_some())
                + usize::from(sc.bearer_token.is_some())
                + usize::from(sc.bearer_token_file.is_some());
            if auths > 1 {
                errors.push(ConfigError::new(
                    key.clone(),
                    "at most one of basic_auth, bearer_token and bearer_token_file may be set",
                ));
            }
            if let Some(auth) = &sc.basic_auth
                && auth.password.is_some()
                && auth.password_file.is_some()
            {
                errors.push(ConfigError::new(
                    format!("{key}.basic_auth"),
                    "at most one of password and password_file may be set",
                ));
            }
            let tls = &sc.tls_config;
            if tls.cert_file.is_some() != tls.key_file.is_some() {
                errors.push(ConfigError::new(
                    format!("{key}.tls_config"),
                    "cert_file and key_file must be set together",
                ));
            }
            let target_relabel =
                Relabeler::new(&sc.relabel_configs, &format!("{key}.relabel_configs"));
            let metric_relabel = Relabeler::new(
                &sc.metric_relabel_configs,
                &format!("{key}.metric_relabel_configs"),
            );
            match (target_relabel, metric_relabel) {
                (Ok(target_relabel), Ok(metric_relabel)) if errors.len() == before => {
                    jobs.push(Job {
                        config: sc.clone(),
                        interval,
                        timeout,
                        target_relabel,
                        metric_relabel,
                    });
                }
                (t, m) => {
                    errors.extend(t.err().unwrap_or_default());
                    errors.extend(m.err().unwrap_or_default());
                }
            }
        }
        if errors.is_empty() {
            Ok(jobs)
        } else {
            Err(errors)
        }
    }
}
