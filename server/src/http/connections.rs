//! Accepting connections the way a public site must: a cap on open connections in all
//! and per client, a deadline for each request's headers that also closes kept-alive
//! connections left idle (hyper's header-read timer runs while a connection waits for its
//! next request), and a graceful shutdown that waits a bounded time.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use super::client::ClientAddr;
use super::slots::Slots;

/// How connections are limited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionLimits {
    /// Open connections in all; beyond it new ones are closed at once.
    pub total: usize,
    /// Open connections per client address (the trusted proxy is not counted per client).
    pub per_client: usize,
    /// A request's headers must arrive within this, and an idle kept-alive connection is
    /// closed after it.
    pub header_timeout: Duration,
    /// The reverse proxy whose forwarding headers name the client.
    pub trusted_proxy: Option<IpAddr>,
}

/// How long a shutdown waits for requests in flight before it closes their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes. Each request carries its
/// [`ClientAddr`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Slots::default();
    let graceful = GracefulShutdown::new();
    let mut refused = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!("accept: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // The trusted proxy carries many clients: only the total caps it.
        let per_client = if limits.trusted_proxy == Some(peer.ip()) {
            usize::MAX
        } else {
            limits.per_client
        };
        let Some(slot) = open.take(peer.ip(), per_client, limits.total) else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(%peer, refused, "connection limit reached: connection closed");
            }
            continue;
        };
        let trusted_proxy = limits.trusted_proxy;
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            let client = ClientAddr::of(peer, request.headers(), trusted_proxy);
            request.extensions_mut().insert(client);
            request
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _slot = slot;
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}: closed");
        }
    }
}
