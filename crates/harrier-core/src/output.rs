//! [`Output`]: the only way data leaves a receiver.
//!
//! An `Output` knows, per signal, the input channels of every pipeline the receiver
//! feeds and the admission gates (memory_limiter) of those pipelines. It counts what it
//! accepts and refuses with the OTel Collector's metric names
//! (`otelcol_receiver_accepted_spans{receiver, transport}`,
//! `otelcol_receiver_refused_spans{...}`), so receivers do not count for themselves.
//! A receiver feeding several pipelines of one signal sends each a copy; all but the last
//! get a deep copy (pipelines may mutate their data).

use crate::channel::{Sender, TrySendError};
use crate::component::AdmissionGate;
use crate::envelope::Envelope;
use crate::id::ComponentId;
use crate::telemetry::{Counter, Telemetry};
use harrier_pdata::Signal;
use std::sync::Arc;
use std::time::Duration;

/// The entry of one pipeline, as seen by a receiver.
#[derive(Clone)]
pub struct PipelineInput {
    /// The pipeline's name (`traces`, `logs/security`).
    pub pipeline: String,
    /// Its input channel.
    pub sender: Sender<Envelope>,
    /// Checks run before admitting data.
    pub gates: Vec<Arc<dyn AdmissionGate>>,
}

/// Why data was not accepted. Both are retryable for the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A memory limit is exceeded (memory_limiter).
    #[error("data refused: {0}")]
    MemoryLimit(String),
    /// The pipeline is full and did not drain within the wait.
    #[error("data refused: pipeline {0} is full")]
    Backpressure(String),
    /// The pipeline is shutting down or the receiver has no pipeline for this signal.
    #[error("data refused: {0}")]
    Unavailable(String),
}

#[derive(Clone)]
struct SignalOutput {
    inputs: Vec<PipelineInput>,
    accepted: Counter,
    refused: Counter,
}

/// A receiver's handle for sending data into its pipelines. Cheap to clone.
#[derive(Clone)]
pub struct Output {
    id: ComponentId,
    telemetry: Telemetry,
    transport: String,
    signals: Vec<(Signal, Vec<PipelineInput>)>,
    counters: Vec<(Signal, SignalOutput)>,
}

impl Output {
    /// Builds an output for receiver `id` over the given pipeline inputs.
    pub fn new(
        id: ComponentId,
        telemetry: Telemetry,
        signals: Vec<(Signal, Vec<PipelineInput>)>,
    ) -> Output {
        let mut out = Output {
            id,
            telemetry,
            transport: String::new(),
            signals,
            counters: Vec::new(),
        };
        out.rebuild_counters();
        out
    }

    /// Registers the counters for the current transport. Every receiver names its
    /// transport with [`Output::with_transport`] before sending; the output the topology
    /// hands over has no transport yet and registers nothing, so no empty
    /// `transport=""` series is exported.
    fn rebuild_counters(&mut self) {
        let id = self.id.to_string();
        let labels = [
            ("receiver", id.as_str()),
            ("transport", self.transport.as_str()),
        ];
        let register = !self.transport.is_empty();
        self.counters = self
            .signals
            .iter()
            .map(|(signal, inputs)| {
                let noun = signal.item_noun();
                if !register {
                    return (
                        *signal,
                        SignalOutput {
                            inputs: inputs.clone(),
                            accepted: Counter::default(),
                            refused: Counter::default(),
                        },
                    );
                }
                let accepted = self.telemetry.counter(
                    &format!("otelcol_receiver_accepted_{noun}"),
                    &format!("Number of {noun} successfully pushed into the pipeline."),
                    &labels,
                );
                let refused = self.telemetry.counter(
                    &format!("otelcol_receiver_refused_{noun}"),
                    &format!("Number of {noun} that could not be pushed into the pipeline."),
                    &labels,
                );
                (
                    *signal,
                    SignalOutput {
                        inputs: inputs.clone(),
                        accepted,
                        refused,
                    },
                )
            })
            .collect();
    }

    /// A copy that counts under the given `transport` label (`grpc`, `http`, `tcp`).
    pub fn with_transport(&self, transport: &str) -> Output {
        let mut out = self.clone();
        out.transport = transport.to_string();
        out.rebuild_counters();
        out
    }

    /// The collector's own metrics, for receiver-specific counters.
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// The transport label this output counts under.
    pub fn transport(&self) -> &str {
        &self.transport
    }

    /// The receiver's id.
    pub fn id(&self) -> &ComponentId {
        &self.id
    }

    /// The signals this receiver feeds at least one pipeline with.
    pub fn signals(&self) -> Vec<Signal> {
        self.counters.iter().map(|(s, _)| *s).collect()
    }

    /// Whether some pipeline takes this signal.
    pub fn has_signal(&self, signal: Signal) -> bool {
        self.counters.iter().any(|(s, _)| *s == signal)
    }

    fn target(&self, signal: Signal) -> Option<&SignalOutput> {
        self.counters
            .iter()
            .find(|(s, _)| *s == signal)
            .map(|(_, o)| o)
    }

    /// Counts `items` as refused for `signal` (for data a receiver rejects itself, e.g.
    /// a malformed request it could partly decode).
    pub fn count_refused(&self, signal: Signal, items: usize) {
        if let Some(t) = self.target(signal) {
            t.refused.add(items as u64);
        }
    }

    /// Admits the envelope into every pipeline of its signal, waiting up to `wait` for
    /// room (`None`: wait as long as it takes; TCP receivers stop reading meanwhile).
    ///
    /// # Errors
    /// [`Refused`] when a gate refuses, a pipeline stays full past `wait`, or the
    /// pipeline is gone. The items are counted as refused; nothing was admitted unless
    /// several pipelines take the signal and an earlier one already accepted its copy.
    pub async fn send(&self, envelope: Envelope, wait: Option<Duration>) -> Result<(), Refused> {
        let signal = envelope.batch.signal();
        let items = envelope.batch.item_count();
        let Some(target) = self.target(signal) else {
            return Err(Refused::Unavailable(format!(
                "receiver {} feeds no {signal} pipeline",
                self.id
            )));
        };
        for input in &target.inputs {
            for gate in &input.gates {
                if let Err(reason) = gate.admit(items) {
                    target.refused.add(items as u64);
                    return Err(Refused::MemoryLimit(reason));
                }
            }
        }
        let last = target.inputs.len().saturating_sub(1);
        let mut envelope = Some(envelope);
        for (i, input) in target.inputs.iter().enumerate() {
            let copy = if i == last {
                envelope.take()
            } else {
                envelope.as_ref().map(Envelope::fork)
            };
            let Some(copy) = copy else { break };
            if let Err(refused) = send_one(input, copy, wait).await {
                target.refused.add(items as u64);
                return Err(refused);
            }
        }
        target.accepted.add(items as u64);
        Ok(())
    }
}

async fn send_one(
    input: &PipelineInput,
    envelope: Envelope,
    wait: Option<Duration>,
) -> Result<(), Refused> {
    let closed = || Refused::Unavailable(format!("pipeline {} is shutting down", input.pipeline));
    match input.sender.try_send(envelope) {
        Ok(()) => Ok(()),
        Err(TrySendError::Closed(_)) => Err(closed()),
        Err(TrySendError::Full(envelope)) => match wait {
            None => input.sender.send(envelope).await.map_err(|_| closed()),
            Some(d) if d.is_zero() => Err(Refused::Backpressure(input.pipeline.clone())),
            Some(d) => match tokio::time::timeout(d, input.sender.send(envelope)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_)) => Err(closed()),
                Err(_) => Err(Refused::Backpressure(input.pipeline.clone())),
            },
        },
    }
}
