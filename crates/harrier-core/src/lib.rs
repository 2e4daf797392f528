//! The Harrier collector framework.
//!
//! Everything that is not a specific receiver, processor or exporter lives here:
//!
//! - [`id::ComponentId`]: `type/name` component ids;
//! - [`component`]: the receiver / processor / exporter / extension traits, their
//!   factories and the explicit [`component::Registry`];
//! - [`envelope`]: [`envelope::Envelope`] (a batch plus delivery finalizers) and the
//!   drop-based acknowledgement machinery;
//! - [`channel`]: bounded channels (in batches, items and bytes) that join tasks;
//! - [`output::Output`]: the only way data leaves a receiver (admission + counting);
//! - [`config`]: TOML loading, `${env:VAR}` substitution, key-path errors, graph checks;
//! - [`topology`]: building, starting and shutting down the running graph, including the
//!   pipeline task, the fanout and the `ExporterRunner` (queue, retry, timeout);
//! - [`telemetry`]: the collector's own metrics, served in Prometheus text format;
//! - [`extensions`]: built-in extensions (`health_check`).

pub mod channel;
pub mod component;
pub mod config;
pub mod envelope;
pub mod error;
pub mod extensions;
pub mod hash;
pub mod http_server;
pub mod id;
pub mod output;
pub mod process;
pub mod telemetry;
pub mod topology;

pub use harrier_pdata as pdata;
pub use harrier_pdata::{Batch, Signal};
