//! Component traits, factories and the explicit registry.
//!
//! Factories are typed for authors (a `FooConfig` struct deserialized with
//! [`parse_config`]) and erased here: the core only sees `toml::Value` configs.
//! `validate` is pure (no I/O); `build` constructs but never binds or spawns; the runtime
//! object's `start` (receivers, extensions) or `export` (exporters) owns all work.
//! Dropping a built component cleans it up.

use crate::envelope::Envelope;
use crate::error::{ComponentError, ConfigError, ExportError};
use crate::id::ComponentId;
use crate::output::Output;
use crate::telemetry::Telemetry;
use crate::topology::HealthState;
use async_trait::async_trait;
use futures::future::BoxFuture;
use harrier_pdata::{Batch, Signal};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What every factory gets when building one component instance.
#[derive(Clone, Debug)]
pub struct BuildContext {
    /// The instance's id.
    pub id: ComponentId,
    /// The pipeline this instance serves (processors are built once per pipeline).
    pub pipeline: Option<String>,
    /// The signals this instance is used for.
    pub signals: Vec<Signal>,
    /// The collector's own metrics.
    pub telemetry: Telemetry,
    /// State shared by every instance of one component id within one topology (e.g. one
    /// `correlate` processor listed in a traces and a logs pipeline shares its index).
    pub shared: SharedState,
}

type SharedSlots = std::collections::HashMap<
    (ComponentId, std::any::TypeId),
    Arc<dyn std::any::Any + Send + Sync>,
>;

/// Per-topology state shared between the instances of one component id.
///
/// Processors are built once per pipeline; a component that must see every pipeline it
/// is listed in (an index, a baseline) asks for its state with
/// [`SharedState::get_or_init`] in `build`. The state lives as long as the topology's
/// components hold it.
#[derive(Clone, Default)]
pub struct SharedState {
    slots: Arc<std::sync::Mutex<SharedSlots>>,
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedState")
    }
}

impl SharedState {
    /// The `T` shared by every instance of `id`, created by `init` on first use.
    pub fn get_or_init<T: std::any::Any + Send + Sync>(
        &self,
        id: &ComponentId,
        init: impl FnOnce() -> T,
    ) -> Arc<T> {
        let key = (id.clone(), std::any::TypeId::of::<T>());
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(existing) = slots.get(&key)
            && let Ok(typed) = Arc::clone(existing).downcast::<T>()
        {
            return typed;
        }
        let value = Arc::new(init());
        slots.insert(
            key,
            Arc::clone(&value) as Arc<dyn std::any::Any + Send + Sync>,
        );
        value
    }
}

impl BuildContext {
    /// A context for building `id` outside a topology (tests, tools).
    pub fn new(id: ComponentId, telemetry: Telemetry) -> BuildContext {
        BuildContext {
            id,
            pipeline: None,
            signals: Vec::new(),
            telemetry,
            shared: SharedState::default(),
        }
    }
}

/// What a receiver's `start` gets.
pub struct ReceiverContext {
    /// Where received data goes.
    pub output: Output,
    /// Cancelled when the receiver must stop accepting.
    pub shutdown: CancellationToken,
}

/// A receiver: accepts data from the outside and hands it to [`Output`].
#[async_trait]
pub trait Receiver: Send + 'static {
    /// Binds listeners (errors here fail start-up, naming the component) and returns the
    /// future that serves until `ctx.shutdown` is cancelled. When that future returns,
    /// the receiver has stopped accepting and dropped its [`Output`].
    ///
    /// # Errors
    /// A [`ComponentError`] when the receiver cannot start (e.g. its port is in use).
    async fn start(
        self: Box<Self>,
        ctx: ReceiverContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError>;
}

/// An admission check run at the pipeline's entry, before data is accepted.
pub trait AdmissionGate: Send + Sync + 'static {
    /// `Err(reason)` to refuse new data with a retryable error.
    ///
    /// # Errors
    /// The reason the data is refused (e.g. memory above the soft limit).
    fn admit(&self, items: usize) -> Result<(), String>;
}

/// A processor, run inline in its pipeline's task. Stateless and cheap work happens in
/// [`Processor::process`]; timers (e.g. a batch timeout) use the deadline hooks.
pub trait Processor: Send + 'static {
    /// Takes one envelope and pushes zero or more envelopes to `out`. A processor that
    /// drops data on purpose marks its finalizers delivered first and counts the drop.
    fn process(&mut self, envelope: Envelope, out: &mut Vec<Envelope>);

    /// When [`Processor::on_deadline`] must next be called, if ever.
    fn next_deadline(&self) -> Option<Instant> {
        None
    }

    /// Called at or after the deadline.
    fn on_deadline(&mut self, _now: Instant, _out: &mut Vec<Envelope>) {}

    /// Called once at shutdown after the input is drained: emit everything held.
    fn flush(&mut self, _out: &mut Vec<Envelope>) {}

    /// A check to run before data is admitted into this pipeline (memory_limiter).
    fn admission_gate(&self) -> Option<Arc<dyn AdmissionGate>> {
        None
    }
}

/// An exporter: sends batches somewhere. The framework's `ExporterRunner` around it owns
/// the queue, retries, timeout and concurrency; `export` is one attempt.
#[async_trait]
pub trait Exporter: Send + Sync + 'static {
    /// Opens what the exporter needs (files, connections) before data flows.
    ///
    /// # Errors
    /// A [`ComponentError`] when the exporter cannot start.
    async fn start(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    /// One attempt to deliver `batch`.
    ///
    /// # Errors
    /// An [`ExportError`] classified as retryable or permanent.
    async fn export(&self, batch: &Batch) -> Result<(), ExportError>;

    /// Flushes and closes after the last export.
    async fn shutdown(&self) {}
}

/// What an extension's `start` gets.
pub struct ExtensionContext {
    /// The collector's readiness, for health checks.
    pub health: HealthState,
    /// Cancelled at shutdown (after everything else stopped).
    pub shutdown: CancellationToken,
}

/// An extension: something beside the pipelines (health check, ...).
#[async_trait]
pub trait Extension: Send + 'static {
    /// Binds and returns the serving future.
    ///
    /// # Errors
    /// A [`ComponentError`] when it cannot start.
    async fn start(
        self: Box<Self>,
        ctx: ExtensionContext,
    ) -> Result<BoxFuture<'static, ()>, ComponentError>;
}

/// Properties shared by every kind of factory.
pub trait Factory: Send + Sync + 'static {
    /// The type name used in component ids (`otlp`, `batch`, ...).
    fn type_name(&self) -> &'static str;
    /// Other accepted type names (the OTel Collector's spellings).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// One line for `harrier components`.
    fn description(&self) -> &'static str;
    /// Checks a config without side effects. Errors carry paths relative to the
    /// component's section.
    ///
    /// # Errors
    /// Every problem found.
    fn validate(&self, config: &toml::Value) -> Result<(), Vec<ConfigError>>;
    /// Addresses this component will listen on, with the relative key that sets each
    /// (for duplicate-port checks).
    fn listen_addresses(&self, _config: &toml::Value) -> Vec<(String, SocketAddr)> {
        Vec::new()
    }
}

/// Builds receivers.
pub trait ReceiverFactory: Factory {
    /// Signals this receiver can produce.
    fn signals(&self) -> &'static [Signal];
    /// Builds an instance (no I/O).
    ///
    /// # Errors
    /// A config error (normally caught earlier by `validate`).
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Receiver>, ConfigError>;
}

/// Builds processors (one instance per pipeline that lists it).
pub trait ProcessorFactory: Factory {
    /// Signals this processor handles.
    fn signals(&self) -> &'static [Signal];
    /// Builds an instance (no I/O).
    ///
    /// # Errors
    /// A config error.
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Processor>, ConfigError>;
}

/// Builds exporters (one instance shared by every pipeline that lists it).
pub trait ExporterFactory: Factory {
    /// Signals this exporter accepts.
    fn signals(&self) -> &'static [Signal];
    /// Builds an instance (no I/O).
    ///
    /// # Errors
    /// A config error.
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Arc<dyn Exporter>, ConfigError>;
}

/// Builds extensions.
pub trait ExtensionFactory: Factory {
    /// Builds an instance (no I/O).
    ///
    /// # Errors
    /// A config error.
    fn build(
        &self,
        config: &toml::Value,
        ctx: &BuildContext,
    ) -> Result<Box<dyn Extension>, ConfigError>;
}

/// The four kinds of component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `receivers`
    Receiver,
    /// `processors`
    Processor,
    /// `exporters`
    Exporter,
    /// `extensions`
    Extension,
}

impl Kind {
    /// Singular noun, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Receiver => "receiver",
            Kind::Processor => "processor",
            Kind::Exporter => "exporter",
            Kind::Extension => "extension",
        }
    }
    /// The config section.
    pub fn section(self) -> &'static str {
        match self {
            Kind::Receiver => "receivers",
            Kind::Processor => "processors",
            Kind::Exporter => "exporters",
            Kind::Extension => "extensions",
        }
    }
}

/// Every factory the binary knows, registered explicitly by each component crate's
/// `register_all`.
#[derive(Default, Clone)]
pub struct Registry {
    receivers: BTreeMap<&'static str, Arc<dyn ReceiverFactory>>,
    processors: BTreeMap<&'static str, Arc<dyn ProcessorFactory>>,
    exporters: BTreeMap<&'static str, Arc<dyn ExporterFactory>>,
    extensions: BTreeMap<&'static str, Arc<dyn ExtensionFactory>>,
}

/// One row of `harrier components`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    /// Which kind.
    pub kind: Kind,
    /// Canonical type name.
    pub type_name: &'static str,
    /// Accepted aliases.
    pub aliases: &'static [&'static str],
    /// Supported signals (empty for extensions).
    pub signals: Vec<Signal>,
    /// One line.
    pub description: &'static str,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a receiver factory.
    pub fn add_receiver(&mut self, f: impl ReceiverFactory) {
        self.receivers.insert(f.type_name(), Arc::new(f));
    }
    /// Adds a processor factory.
    pub fn add_processor(&mut self, f: impl ProcessorFactory) {
        self.processors.insert(f.type_name(), Arc::new(f));
    }
    /// Adds an exporter factory.
    pub fn add_exporter(&mut self, f: impl ExporterFactory) {
        self.exporters.insert(f.type_name(), Arc::new(f));
    }
    /// Adds an extension factory.
    pub fn add_extension(&mut self, f: impl ExtensionFactory) {
        self.extensions.insert(f.type_name(), Arc::new(f));
    }

    fn find<'a, F: Factory + ?Sized>(
        map: &'a BTreeMap<&'static str, Arc<F>>,
        type_name: &str,
    ) -> Option<&'a Arc<F>> {
        map.get(type_name)
            .or_else(|| map.values().find(|f| f.aliases().contains(&type_name)))
    }

    /// The receiver factory for a type name or alias.
    pub fn receiver(&self, type_name: &str) -> Option<&Arc<dyn ReceiverFactory>> {
        Self::find(&self.receivers, type_name)
    }
    /// The processor factory for a type name or alias.
    pub fn processor(&self, type_name: &str) -> Option<&Arc<dyn ProcessorFactory>> {
        Self::find(&self.processors, type_name)
    }
    /// The exporter factory for a type name or alias.
    pub fn exporter(&self, type_name: &str) -> Option<&Arc<dyn ExporterFactory>> {
        Self::find(&self.exporters, type_name)
    }
    /// The extension factory for a type name or alias.
    pub fn extension(&self, type_name: &str) -> Option<&Arc<dyn ExtensionFactory>> {
        Self::find(&self.extensions, type_name)
    }

    /// Generic lookup: (signals, factory) for any kind.
    pub fn factory(&self, kind: Kind, type_name: &str) -> Option<(Vec<Signal>, &dyn Factory)> {
        match kind {
            Kind::Receiver => self
                .receiver(type_name)
                .map(|f| (f.signals().to_vec(), f.as_ref() as &dyn Factory)),
            Kind::Processor => self
                .processor(type_name)
                .map(|f| (f.signals().to_vec(), f.as_ref() as &dyn Factory)),
            Kind::Exporter => self
                .exporter(type_name)
                .map(|f| (f.signals().to_vec(), f.as_ref() as &dyn Factory)),
            Kind::Extension => self
                .extension(type_name)
                .map(|f| (Vec::new(), f.as_ref() as &dyn Factory)),
        }
    }

    /// Everything registered, for `harrier components`.
    pub fn list(&self) -> Vec<ComponentInfo> {
        let mut out = Vec::new();
        let mut push = |kind, f: &dyn Factory, signals: &[Signal]| {
            out.push(ComponentInfo {
                kind,
                type_name: f.type_name(),
                aliases: f.aliases(),
                signals: signals.to_vec(),
                description: f.description(),
            })
        };
        for f in self.receivers.values() {
            push(Kind::Receiver, f.as_ref(), f.signals());
        }
        for f in self.processors.values() {
            push(Kind::Processor, f.as_ref(), f.signals());
        }
        for f in self.exporters.values() {
            push(Kind::Exporter, f.as_ref(), f.signals());
        }
        for f in self.extensions.values() {
            push(Kind::Extension, f.as_ref(), &[]);
        }
        out
    }
}

/// Deserializes a component's typed config from its TOML value, turning serde errors
/// into [`ConfigError`]s that name the key path relative to the component's section
/// (unknown keys are errors when the type uses `deny_unknown_fields`).
///
/// # Errors
/// The first problem serde finds, with its path.
pub fn parse_config<T: DeserializeOwned>(config: &toml::Value) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize::<_, T>(config.clone()).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ConfigError::new(path, e.into_inner().to_string().trim_end().to_string())
    })
}
