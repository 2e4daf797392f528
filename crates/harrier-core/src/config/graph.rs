//! Graph checks: a loaded [`Config`] against a [`Registry`].
//!
//! Finds unknown component types, references to undefined components, components used
//! for a signal they do not support, empty pipelines, invalid component settings (each
//! factory's `validate`), and two listeners on one address. Components that are defined
//! but used nowhere are warnings, as in the OTel Collector.

use super::{Config, PipelineId};
use crate::component::{Kind, Registry};
use crate::error::ConfigError;
use crate::id::ComponentId;
use crate::topology::runner::RunnerConfig;
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// The result of a successful check: warnings worth logging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Non-fatal findings, e.g. unused components.
    pub warnings: Vec<String>,
}

/// Checks the graph.
///
/// # Errors
/// Every problem found, each naming its key path.
pub fn check(config: &Config, registry: &Registry) -> Result<Checked, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    // Every defined component: known type, valid settings.
    for kind in [
        Kind::Receiver,
        Kind::Processor,
        Kind::Exporter,
        Kind::Extension,
    ] {
        for (id, value) in config.section(kind) {
            let path = format!("{}.{}", kind.section(), id);
            match registry.factory(kind, id.kind()) {
                None => errors.push(ConfigError::new(
                    path,
                    format!(
                        "unknown {} type {:?} (see `harrier components`)",
                        kind.noun(),
                        id.kind()
                    ),
                )),
                Some((_, factory)) => {
                    let own = if kind == Kind::Exporter {
                        // The ExporterRunner's keys are the framework's, not the factory's.
                        match RunnerConfig::split(value) {
                            Ok((_, rest)) => Some(rest),
                            Err(errs) => {
                                errors.extend(errs.into_iter().map(|e| e.under(&path)));
                                None
                            }
                        }
                    } else {
                        Some(value.clone())
                    };
                    if let Some(Err(errs)) = own.map(|v| factory.validate(&v)) {
                        errors.extend(errs.into_iter().map(|e| e.under(&path)));
                    }
                }
            }
        }
    }

    if config.service.pipelines.is_empty() {
        errors.push(ConfigError::new(
            "service.pipelines",
            "at least one pipeline is required (e.g. [service.pipelines.traces])",
        ));
    }

    let mut used: BTreeSet<(Kind, ComponentId)> = BTreeSet::new();
    for (i, id) in config.service.extensions.iter().enumerate() {
        let path = format!("service.extensions[{i}]");
        if !config.extensions.contains_key(id) {
            errors.push(ConfigError::new(
                path,
                format!(
                    "unknown extension {:?}: it is not defined under [extensions]",
                    id.to_string()
                ),
            ));
        }
        used.insert((Kind::Extension, id.clone()));
    }

    for (pid, pipeline) in &config.service.pipelines {
        let base = format!("service.pipelines.{pid}");
        if pipeline.receivers.is_empty() {
            errors.push(ConfigError::new(
                format!("{base}.receivers"),
                "a pipeline needs at least one receiver",
            ));
        }
        if pipeline.exporters.is_empty() {
            errors.push(ConfigError::new(
                format!("{base}.exporters"),
                "a pipeline needs at least one exporter",
            ));
        }
        for (kind, list, key) in [
            (Kind::Receiver, &pipeline.receivers, "receivers"),
            (Kind::Processor, &pipeline.processors, "processors"),
            (Kind::Exporter, &pipeline.exporters, "exporters"),
        ] {
            let mut seen = BTreeSet::new();
            for (i, id) in list.iter().enumerate() {
                let path = format!("{base}.{key}[{i}]");
                used.insert((kind, id.clone()));
                if !seen.insert(id) {
                    errors.push(ConfigError::new(
                        path,
                        format!("{} {:?} is listed twice", kind.noun(), id.to_string()),
                    ));
                    continue;
                }
                check_reference(config, registry, kind, id, pid, &path, &mut errors);
            }
        }
    }

    for kind in [
        Kind::Receiver,
        Kind::Processor,
        Kind::Exporter,
        Kind::Extension,
    ] {
        for id in config.section(kind).keys() {
            if !used.contains(&(kind, id.clone())) {
                warnings.push(format!(
                    "{}.{}: defined but not used {}",
                    kind.section(),
                    id,
                    if kind == Kind::Extension {
                        "in service.extensions"
                    } else {
                        "in any pipeline"
                    }
                ));
            }
        }
    }

    check_addresses(config, registry, &used, &mut errors);

    if errors.is_empty() {
        Ok(Checked { warnings })
    } else {
        Err(errors)
    }
}

fn check_reference(
    config: &Config,
    registry: &Registry,
    kind: Kind,
    id: &ComponentId,
    pipeline: &PipelineId,
    path: &str,
    errors: &mut Vec<ConfigError>,
) {
    if !config.section(kind).contains_key(id) {
        errors.push(ConfigError::new(
            path,
            format!(
                "unknown {} {:?}: it is not defined under [{}]",
                kind.noun(),
                id.to_string(),
                kind.section()
            ),
        ));
        return;
    }
    // Unknown types are reported at their definition.
    if let Some((signals, _)) = registry.factory(kind, id.kind())
        && !signals.contains(&pipeline.signal)
    {
        let supported: Vec<&str> = signals.iter().map(|s| s.as_str()).collect();
        errors.push(ConfigError::new(
            path,
            format!(
                "{} {:?} does not support {} (it supports: {})",
                kind.noun(),
                id.to_string(),
                pipeline.signal,
                supported.join(", ")
            ),
        ));
    }
}

fn overlaps(a: &SocketAddr, b: &SocketAddr) -> bool {
    a.port() == b.port()
        && a.port() != 0
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn check_addresses(
    config: &Config,
    registry: &Registry,
    used: &BTreeSet<(Kind, ComponentId)>,
    errors: &mut Vec<ConfigError>,
) {
    let mut taken: Vec<(String, SocketAddr)> = Vec::new();
    let address = &config.service.telemetry.metrics.address;
    if !address.is_empty() {
        match address.parse::<SocketAddr>() {
            Ok(addr) => taken.push(("service.telemetry.metrics.address".into(), addr)),
            Err(e) => errors.push(ConfigError::new(
                "service.telemetry.metrics.address",
                format!(
                    "invalid address {address:?}: {e} (expected host:port, e.g. 127.0.0.1:8888)"
                ),
            )),
        }
    }
    for kind in [Kind::Extension, Kind::Receiver] {
        for (id, value) in config.section(kind) {
            if !used.contains(&(kind, id.clone())) {
                continue;
            }
            let Some((_, factory)) = registry.factory(kind, id.kind()) else {
                continue;
            };
            for (key, addr) in factory.listen_addresses(value) {
                let path = format!("{}.{}.{}", kind.section(), id, key);
                if let Some((other, _)) = taken.iter().find(|(_, a)| overlaps(a, &addr)) {
                    errors.push(ConfigError::new(
                        path.clone(),
                        format!("address {addr} is already used by {other}"),
                    ));
                }
                taken.push((path, addr));
            }
        }
    }
}
