//! Harrier: a telemetry collector for Kubernetes observability and security.
//!
//! This crate is the `harrier` binary and the facade for embedding the collector in a
//! Rust service: build a [`Collector`] from a TOML string (or a [`Config`]) inside an
//! existing tokio runtime, and shut it down when done.
//!
//! ```no_run
//! # async fn run() -> Result<(), harrier::CollectorError> {
//! let collector = harrier::Collector::start_from_toml(harrier::DEFAULT_CONFIG).await?;
//! // ... the collector serves OTLP on 127.0.0.1:4317/4318 ...
//! let report = collector.shutdown().await;
//! assert!(report.clean);
//! # Ok(()) }
//! ```

pub use harrier_core::config::Config;
pub use harrier_core::error::ConfigError;
pub use harrier_core::telemetry::Telemetry;
pub use harrier_core::topology::{HealthState, ShutdownReport, StartError};

use harrier_core::component::Registry;
use harrier_core::topology::{RunningTopology, Topology};
use std::net::SocketAddr;

/// The embedded default configuration (`harrier` without `--config`).
pub const DEFAULT_CONFIG: &str = include_str!("default_config.toml");

/// Every component this build knows: the explicit registry.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    harrier_core::extensions::register_all(&mut registry);
    harrier_receivers::register_all(&mut registry);
    harrier_processors::register_all(&mut registry);
    harrier_exporters::register_all(&mut registry);
    harrier_security::register_all(&mut registry);
    registry
}

/// Why a collector could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The config is invalid; every problem is listed.
    #[error("invalid configuration:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Config(Vec<ConfigError>),
    /// A component failed to start.
    #[error("start-up failed: {0}")]
    Start(#[from] StartError),
}

/// Parses and checks a TOML config (with `${env:...}` substitution) against the
/// registry, returning the config and warnings.
///
/// # Errors
/// [`CollectorError::Config`] with every problem found.
pub fn load_config(text: &str) -> Result<(Config, Vec<String>), CollectorError> {
    let config = Config::from_toml(text).map_err(CollectorError::Config)?;
    let checked =
        harrier_core::config::graph::check(&config, &registry()).map_err(CollectorError::Config)?;
    Ok((config, checked.warnings))
}

/// A running collector.
pub struct Collector {
    running: RunningTopology,
}

impl Collector {
    /// Parses `text` and starts the collector in the current tokio runtime.
    ///
    /// # Errors
    /// A config error (every problem listed) or the first component that failed to start.
    pub async fn start_from_toml(text: &str) -> Result<Collector, CollectorError> {
        let config = Config::from_toml(text).map_err(CollectorError::Config)?;
        Collector::start(&config).await
    }

    /// Starts the collector from a loaded config.
    ///
    /// # Errors
    /// A config error (every problem listed) or the first component that failed to start.
    pub async fn start(config: &Config) -> Result<Collector, CollectorError> {
        Collector::start_with(config, &registry(), Telemetry::new()).await
    }

    /// Starts with a custom registry (e.g. with your own components added) and
    /// telemetry registry.
    ///
    /// # Errors
    /// A config error (every problem listed) or the first component that failed to start.
    pub async fn start_with(
        config: &Config,
        registry: &Registry,
        telemetry: Telemetry,
    ) -> Result<Collector, CollectorError> {
        let topology =
            Topology::build(config, registry, &telemetry).map_err(CollectorError::Config)?;
        for warning in &topology.warnings {
            tracing::warn!("{warning}");
        }
        let running = topology.start().await?;
        Ok(Collector { running })
    }

    /// The collector's own metrics.
    pub fn telemetry(&self) -> &Telemetry {
        self.running.telemetry()
    }

    /// Where own metrics are served, if enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.running.metrics_addr()
    }

    /// Readiness.
    pub fn health(&self) -> &HealthState {
        self.running.health()
    }

    /// Graceful shutdown within `service.shutdown_timeout`.
    pub async fn shutdown(self) -> ShutdownReport {
        self.running.shutdown().await
    }
}
