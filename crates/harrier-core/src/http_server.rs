//! One place to run HTTP listeners (own metrics, health check, OTLP/HTTP, webhooks).
//!
//! Binding is separate from serving so that a port in use fails start-up with the
//! component's name. Every accepted socket gets `TCP_NODELAY` (without it a client
//! sending small requests stalls ~40 ms per request under Nagle plus delayed ACK).
//! Serving stops accepting when the token is cancelled and lets in-flight requests
//! finish. TLS, when added, is wrapped here once for every HTTP listener.

use crate::error::ComponentError;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// A request handler.
pub type Handler =
    Arc<dyn Fn(Request<Incoming>) -> BoxFuture<'static, Response<Full<Bytes>>> + Send + Sync>;

/// Binds a TCP listener.
///
/// # Errors
/// A [`ComponentError`] naming the address when it cannot be parsed or bound.
pub async fn bind(endpoint: &str) -> Result<TcpListener, ComponentError> {
    let addr: SocketAddr = endpoint
        .parse()
        .map_err(|e| ComponentError::new(format!("invalid endpoint {endpoint:?}: {e}")))?;
    TcpListener::bind(addr)
        .await
        .map_err(|e| ComponentError::new(format!("cannot listen on {addr}: {e}")))
}

/// Serves `handler` on `listener` until `shutdown` is cancelled, with at most
/// `max_connections` connections at once, then waits up to `drain` for in-flight
/// requests.
pub async fn serve(
    listener: TcpListener,
    handler: Handler,
    shutdown: CancellationToken,
    max_connections: usize,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let limit = Arc::new(Semaphore::new(max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = Arc::clone(&limit).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = Arc::clone(&handler);
        let service = hyper::service::service_fn(move |req| {
            let handler = Arc::clone(&handler);
            async move { Ok::<_, std::convert::Infallible>(handler(req).await) }
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "http connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("http connections still open after the drain deadline");
    }
}

/// A response with a body and content type.
pub fn response(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}

/// Decompresses a request body per its `Content-Encoding` (`gzip`, `x-gzip`, `deflate`,
/// `zstd`, or none), refusing output above `max` bytes. Decompression stops at the cap,
/// so a small compression bomb cannot inflate memory.
///
/// # Errors
/// `(status, message)`: 400 for a corrupt body or an unknown encoding, 413 when the
/// output exceeds `max`.
pub fn decompress(body: Bytes, encoding: &str, max: usize) -> Result<Bytes, (u16, String)> {
    use std::io::Read;
    let read_capped = |mut reader: Box<dyn Read + '_>| -> Result<Bytes, (u16, String)> {
        let mut out = Vec::new();
        let limit = (max as u64).saturating_add(1);
        reader
            .by_ref()
            .take(limit)
            .read_to_end(&mut out)
            .map_err(|e| (400, format!("cannot decompress the {encoding} body: {e}")))?;
        if out.len() > max {
            return Err((
                413,
                format!("decompressed body exceeds the limit of {max} bytes"),
            ));
        }
        Ok(Bytes::from(out))
    };
    match encoding {
        "" | "identity" => Ok(body),
        "gzip" | "x-gzip" => read_capped(Box::new(flate2::read::MultiGzDecoder::new(&body[..]))),
        "deflate" => read_capped(Box::new(flate2::read::ZlibDecoder::new(&body[..]))),
        "zstd" => match zstd::stream::read::Decoder::new(&body[..]) {
            Ok(d) => read_capped(Box::new(d)),
            Err(e) => Err((400, format!("cannot decompress the zstd body: {e}"))),
        },
        other => Err((
            400,
            format!("unsupported Content-Encoding {other:?} (use gzip, deflate, zstd or none)"),
        )),
    }
}
