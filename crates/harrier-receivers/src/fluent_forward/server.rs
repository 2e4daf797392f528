//! Listening: binding the unix socket, the accept loops under one `max_connections`
//! budget, and draining at shutdown. Each accepted connection is served by
//! [`super::connection`].
//!
//! **Shutdown.** On cancellation the accept loops stop and each connection's reader
//! stops reading (giving an in-flight send [`SHUTDOWN_GRACE`]) and drops its
//! [`Output`]; the serving future waits for the readers only. Writers still waiting
//! for deliveries outlive it: the pipelines can flush only once every `Output` is gone,
//! and their receipts resolve when the topology's shutdown completes or gives up.

use super::config::FluentForwardConfig;
use super::connection;
use harrier_core::error::ComponentError;
use harrier_core::output::Output;
use harrier_core::telemetry::{Counter, Gauge};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long an in-flight send may still wait for pipeline room once shutdown starts.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long the serving future waits for readers to stop.
const DRAIN: Duration = Duration::from_secs(10);

/// This receiver's own counters for one transport.
#[derive(Clone)]
pub(crate) struct Counters {
    pub(super) malformed: Counter,
    pub(super) unsupported: Counter,
    pub(super) size_mismatch: Counter,
    pub(super) auth_failures: Counter,
    pub(super) acks: Counter,
    pub(super) unacknowledged: Counter,
    pub(super) connections: Gauge,
}

impl Counters {
    fn new(output: &Output) -> Counters {
        let telemetry = output.telemetry();
        let id = output.id().to_string();
        let labels = [("receiver", id.as_str()), ("transport", output.transport())];
        let counter = |name: &str, help: &str| telemetry.counter(name, help, &labels);
        Counters {
            malformed: counter(
                "harrier_receiver_malformed_requests",
                "Requests rejected as malformed, oversize or of an unsupported type.",
            ),
            unsupported: counter(
                "harrier_receiver_fluent_forward_unsupported_messages",
                "Well-formed forward messages skipped: metrics or traces (fluent_signal), unknown compression.",
            ),
            size_mismatch: counter(
                "harrier_receiver_fluent_forward_size_mismatches",
                "Forward messages whose size option differs from their entry count (processed anyway).",
            ),
            auth_failures: counter(
                "harrier_receiver_fluent_forward_auth_failures",
                "Handshakes refused for a wrong shared key or user.",
            ),
            acks: counter(
                "harrier_receiver_fluent_forward_acks",
                "Chunks acknowledged with {\"ack\": chunk}.",
            ),
            unacknowledged: counter(
                "harrier_receiver_fluent_forward_unacknowledged_chunks",
                "Chunks refused or not delivered, hence not acknowledged (the sender retries them).",
            ),
            connections: telemetry.gauge(
                "harrier_receiver_open_connections",
                "Connections currently open.",
                &labels,
            ),
        }
    }
}

/// What the connections of one listener share.
pub(crate) struct Shared {
    pub(super) config: Arc<FluentForwardConfig>,
    pub(super) output: Output,
    pub(super) counters: Counters,
}

impl Shared {
    /// State for the connections of a listener counted under `output`'s transport.
    pub(crate) fn new(config: Arc<FluentForwardConfig>, output: Output) -> Shared {
        let counters = Counters::new(&output);
        Shared {
            config,
            output,
            counters,
        }
    }
}

/// A bound listener.
pub(crate) enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// A unix socket and its path (removed when serving ends).
    Unix(UnixListener, PathBuf),
}

/// Binds a unix socket, replacing a stale socket file.
///
/// # Errors
/// A [`ComponentError`] when the path holds something else or cannot be bound.
pub(crate) fn bind_unix(path: &str) -> Result<UnixListener, ComponentError> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path).map_err(|e| {
            ComponentError::new(format!("unix: cannot remove the stale socket {path}: {e}"))
        })?,
        Ok(_) => {
            return Err(ComponentError::new(format!(
                "unix: {path} exists and is not a socket"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ComponentError::new(format!("unix: {path}: {e}"))),
    }
    UnixListener::bind(path)
        .map_err(|e| ComponentError::new(format!("unix: cannot listen on {path}: {e}")))
}

/// Holds a connection's place: a `max_connections` slot and the open-connections gauge.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    gauge: Gauge,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gauge.add(-1);
    }
}

/// Serves every listener until `shutdown` is cancelled, then waits (up to a deadline)
/// for the connections' readers to stop.
pub(crate) async fn serve(
    listeners: Vec<(Listener, Arc<Shared>)>,
    max_connections: usize,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    let tracker = TaskTracker::new();
    let mut socket_files = Vec::new();
    let mut loops = Vec::new();
    for (listener, shared) in listeners {
        if let Listener::Unix(_, path) = &listener {
            socket_files.push(path.clone());
        }
        loops.push(accept_loop(
            listener,
            shared,
            Arc::clone(&slots),
            tracker.clone(),
            shutdown.clone(),
        ));
    }
    futures::future::join_all(loops).await;
    tracker.close();
    if tokio::time::timeout(DRAIN, tracker.wait()).await.is_err() {
        tracing::warn!("fluent_forward connections still reading after the drain deadline");
    }
    for path in socket_files {
        let _ = std::fs::remove_file(path);
    }
}

enum Accepted {
    Tcp(TcpStream, SocketAddr),
    Unix(UnixStream),
}

async fn accept(listener: &Listener) -> std::io::Result<Accepted> {
    match listener {
        Listener::Tcp(l) => l.accept().await.map(|(s, a)| Accepted::Tcp(s, a)),
        Listener::Unix(l, _) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
    }
}

async fn accept_loop(
    listener: Listener,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
) {
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = Arc::clone(&slots).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = accept(&listener) => a,
        };
        shared.counters.connections.add(1);
        let slot = Slot {
            _permit: permit,
            gauge: shared.counters.connections.clone(),
        };
        let shared = Arc::clone(&shared);
        let stop = shutdown.clone();
        match accepted {
            Ok(Accepted::Tcp(stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tracker.spawn(connection::serve(
                    stream,
                    peer.to_string(),
                    shared,
                    stop,
                    slot,
                ));
            }
            Ok(Accepted::Unix(stream)) => {
                tracker.spawn(connection::serve(
                    stream,
                    "unix".to_string(),
                    shared,
                    stop,
                    slot,
                ));
            }
            Err(e) => {
                drop(slot);
                tracing::warn!(error = %e, "fluent_forward accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
