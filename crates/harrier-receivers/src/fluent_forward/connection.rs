//! Serving one connection: a reader task and an acknowledgement writer task (after
//! the handshake, when `security` is set).
//!
//! **Reader.** Reads one message at a time ([`FrameReader`]), decodes it, maps it to
//! logs and hands it to [`Output::send`] with no time limit: while a pipeline is full
//! the reader simply stops reading, and TCP pushes back to the sender. Malformed bytes
//! close the connection (counted in `harrier_receiver_malformed_requests`); other
//! connections are not affected. Data that is refused (memory limit, shutting down)
//! is never acknowledged, and the connection is closed so the sender notices and
//! retries.
//!
//! **Writer.** Takes `(chunk, receipt)` pairs, in order, from a channel bounded by
//! `max_pending_acks` and writes `{"ack": chunk}`: at once in `accepted` mode, after
//! the receipt says `Delivered` in `delivered` mode. Any other outcome closes the
//! connection without acknowledging.

use super::config::{Acknowledgement, SecurityConfig};
use super::decode::{self, Events, Message};
use super::frame::{self, FrameError, FrameReader};
use super::handshake::{Challenge, Verdict, encode};
use super::mapping;
use super::server::{Counters, SHUTDOWN_GRACE, Shared, Slot};
use harrier_core::envelope::{DeliveryStatus, Envelope, Finalizers, Receipt};
use harrier_core::output::{Output, Refused};
use harrier_pdata::Signal;
use rmpv::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A peer that does not read its acknowledgements for this long is disconnected.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest PING accepted during the handshake.
const HANDSHAKE_MAX: usize = 64 * 1024;

/// A chunk to acknowledge once `receipt` (delivered mode) says it was delivered.
struct PendingAck {
    chunk: Value,
    receipt: Option<Receipt>,
}

/// Serves one accepted connection until it closes, is refused or shutdown starts.
pub(crate) async fn serve<S>(
    stream: S,
    peer: String,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    slot: Slot,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read_half, mut write_half) = tokio::io::split(stream);
    let mut reader = FrameReader::new(read_half, shared.config.max_message_size.as_usize());
    if let Some(security) = &shared.config.security {
        let handshake = authenticate(&mut reader, &mut write_half, security, &shared, &peer);
        let passed = tokio::select! {
            _ = shutdown.cancelled() => false,
            passed = handshake => passed,
        };
        if !passed {
            return;
        }
        reader.set_max(shared.config.max_message_size.as_usize());
    }
    let closing = CancellationToken::new();
    let (acks, pending) = mpsc::channel(shared.config.max_pending_acks.max(1));
    tokio::spawn(write_acks(
        write_half,
        pending,
        shared.counters.clone(),
        closing.clone(),
        peer.clone(),
        slot,
    ));
    read_messages(&mut reader, acks, &shared, &shutdown, &closing, &peer).await;
}

/// Runs the HELO / PING / PONG exchange. `false`: the connection must close.
async fn authenticate<R, W>(
    reader: &mut FrameReader<R>,
    writer: &mut W,
    security: &SecurityConfig,
    shared: &Shared,
    peer: &str,
) -> bool
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let challenge = Challenge::new(security);
    reader.set_max(HANDSHAKE_MAX.min(shared.config.max_message_size.as_usize()));
    let exchange = async {
        writer.write_all(&challenge.helo()).await?;
        let Some(ping) = reader.next_frame().await? else {
            return Ok(None);
        };
        let ping = frame::read_value(&ping)?;
        let verdict = challenge.check_ping(security, &ping)?;
        let pong = match &verdict {
            Verdict::Accepted { pong, .. } | Verdict::Refused { pong, .. } => pong,
        };
        writer.write_all(pong).await?;
        Ok::<_, FrameError>(Some(verdict))
    };
    match tokio::time::timeout(security.handshake_timeout, exchange).await {
        Ok(Ok(Some(Verdict::Accepted { client, .. }))) => {
            tracing::debug!(receiver = %shared.output.id(), peer, client, "fluent_forward client authenticated");
            true
        }
        Ok(Ok(Some(Verdict::Refused { reason, .. }))) => {
            shared.counters.auth_failures.inc();
            tracing::warn!(receiver = %shared.output.id(), peer, reason, "fluent_forward handshake refused; closing the connection");
            let _ = tokio::time::timeout(WRITE_TIMEOUT, writer.shutdown()).await;
            false
        }
        Ok(Ok(None)) => false,
        Ok(Err(FrameError::Decode(e))) => {
            shared.counters.malformed.inc();
            tracing::warn!(receiver = %shared.output.id(), peer, error = %e, "malformed fluent_forward handshake; closing the connection");
            false
        }
        Ok(Err(e)) => {
            tracing::debug!(receiver = %shared.output.id(), peer, error = %e, "fluent_forward handshake failed");
            false
        }
        Err(_) => {
            shared.counters.auth_failures.inc();
            tracing::warn!(receiver = %shared.output.id(), peer, "fluent_forward handshake timed out; closing the connection");
            false
        }
    }
}

fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

async fn read_messages<R: AsyncRead + Unpin>(
    reader: &mut FrameReader<R>,
    acks: mpsc::Sender<PendingAck>,
    shared: &Shared,
    shutdown: &CancellationToken,
    closing: &CancellationToken,
    peer: &str,
) {
    let id = shared.output.id();
    let max_decompressed = shared.config.max_decompressed_size.0;
    loop {
        let next = tokio::select! {
            biased;
            _ = shutdown.cancelled() => return,
            _ = closing.cancelled() => return,
            next = reader.next_frame() => next,
        };
        let frame = match next {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(FrameError::Decode(e)) => {
                shared.counters.malformed.inc();
                tracing::warn!(receiver = %id, peer, error = %e, "malformed fluent_forward message; closing the connection");
                return;
            }
            Err(e) => {
                tracing::debug!(receiver = %id, peer, error = %e, "fluent_forward connection ended");
                return;
            }
        };
        let received = now_unix_nano();
        let message = frame::read_value(&frame).and_then(|v| decode::message(v, max_decompressed));
        let events = match message {
            Ok(Message::Events(events)) => events,
            Ok(Message::Heartbeat) => continue,
            Ok(Message::Unsupported { reason, tag }) => {
                shared.counters.unsupported.inc();
                tracing::warn!(receiver = %id, peer, tag, reason, "skipped a fluent_forward message (not acknowledged)");
                continue;
            }
            Err(e) => {
                shared.counters.malformed.inc();
                tracing::warn!(receiver = %id, peer, error = %e, "malformed fluent_forward message; closing the connection");
                return;
            }
        };
        if !admit(
            events,
            frame.len(),
            received,
            shared,
            &acks,
            shutdown,
            closing,
            peer,
        )
        .await
        {
            return;
        }
    }
}

/// Sends one message's entries into the pipelines and queues its acknowledgement.
/// `false`: the connection must close.
#[allow(clippy::too_many_arguments)]
async fn admit(
    events: Events,
    wire_bytes: usize,
    received: u64,
    shared: &Shared,
    acks: &mpsc::Sender<PendingAck>,
    shutdown: &CancellationToken,
    closing: &CancellationToken,
    peer: &str,
) -> bool {
    let Events {
        tag,
        entries,
        chunk,
        size,
    } = events;
    let id = shared.output.id();
    if let Some(size) = size
        && size != entries.len() as u64
    {
        shared.counters.size_mismatch.inc();
        tracing::warn!(receiver = %id, peer, tag, size, entries = entries.len(), "fluent_forward size option differs from the entry count; processing the entries received");
    }
    let mut receipt = None;
    if !entries.is_empty() {
        let batch = mapping::to_batch(&tag, entries, received);
        let finalizers =
            if chunk.is_some() && shared.config.acknowledgement == Acknowledgement::Delivered {
                let (finalizers, r) = Finalizers::with_receipt();
                receipt = Some(r);
                finalizers
            } else {
                Finalizers::none()
            };
        let envelope = Envelope::with_size(batch, finalizers, wire_bytes);
        if let Err(refused) = send(&shared.output, envelope, shutdown).await {
            if chunk.is_some() {
                shared.counters.unacknowledged.inc();
            }
            tracing::warn!(receiver = %id, peer, tag, reason = %refused, "fluent_forward entries refused, not acknowledged; closing the connection so the sender retries");
            return false;
        }
    }
    let Some(chunk) = chunk else {
        return true;
    };
    tokio::select! {
        sent = acks.send(PendingAck { chunk, receipt }) => sent.is_ok(),
        _ = closing.cancelled() => false,
    }
}

/// [`Output::send`] without a time limit (TCP backpressure), except that once shutdown
/// starts an in-flight send gets [`SHUTDOWN_GRACE`] more.
async fn send(
    output: &Output,
    envelope: Envelope,
    shutdown: &CancellationToken,
) -> Result<(), Refused> {
    let items = envelope.batch.item_count();
    let send = output.send(envelope, None);
    tokio::pin!(send);
    tokio::select! {
        sent = &mut send => sent,
        _ = shutdown.cancelled() => match tokio::time::timeout(SHUTDOWN_GRACE, &mut send).await {
            Ok(sent) => sent,
            Err(_) => {
                output.count_refused(Signal::Logs, items);
                Err(Refused::Unavailable("shutting down while the pipeline is full".into()))
            }
        },
    }
}

/// Writes `{"ack": chunk}` for each pending chunk, in order, once it may.
async fn write_acks<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut pending: mpsc::Receiver<PendingAck>,
    counters: Counters,
    closing: CancellationToken,
    peer: String,
    slot: Slot,
) {
    while let Some(PendingAck { chunk, receipt }) = pending.recv().await {
        if let Some(receipt) = receipt {
            let status = receipt.await.unwrap_or(DeliveryStatus::Errored);
            if status != DeliveryStatus::Delivered {
                counters.unacknowledged.inc();
                tracing::warn!(
                    peer,
                    ?status,
                    "fluent_forward chunk not delivered: not acknowledging it; closing the connection so the sender retries"
                );
                break;
            }
        }
        let ack = encode(&Value::Map(vec![(Value::from("ack"), chunk)]));
        match tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(&ack)).await {
            Ok(Ok(())) => counters.acks.inc(),
            Ok(Err(e)) => {
                tracing::debug!(peer, error = %e, "fluent_forward ack write failed");
                break;
            }
            Err(_) => {
                tracing::warn!(
                    peer,
                    "fluent_forward peer does not read its acks; closing the connection"
                );
                break;
            }
        }
    }
    closing.cancel();
    let _ = tokio::time::timeout(WRITE_TIMEOUT, writer.shutdown()).await;
    drop(slot);
}
