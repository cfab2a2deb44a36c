//! The accept loop, hardened against slow and greedy clients (issue 15): at most
//! `server.max_connections` connections at once (the next waits in the kernel's backlog), a
//! request's headers within [`HEADER_TIMEOUT`] (slowloris), HTTP/1.1 only. Upload bodies have their
//! own read timeout and byte budget (`routes/captures.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt as _;

/// A connection that has not sent a whole request head within this is closed (also an idle
/// keep-alive connection between requests).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest read buffer of one connection (and so the largest request head).
pub const READ_BUFFER: usize = 32 * 1024;

/// Serves `app` on `listener` until `shutdown` resolves, with at most `max_connections` open
/// connections; each request carries `ConnectInfo<SocketAddr>` like `axum::serve` provides.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    max_connections: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = max_connections.clamp(1, u32::MAX as usize);
    let permits = Arc::new(tokio::sync::Semaphore::new(max));
    tokio::pin!(shutdown);
    // On shutdown: no new connections; those open get up to 20 s to finish their requests.
    let drain = |permits: Arc<tokio::sync::Semaphore>| async move {
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(Duration::from_secs(20), permits.acquire_many(all)).await;
    };
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return Ok(()),
            },
            () = &mut shutdown => {
                drain(permits.clone()).await;
                return Ok(());
            }
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => {
                drop(permit);
                drain(permits.clone()).await;
                return Ok(());
            }
        };
        let _ = stream.set_nodelay(true);
        let svc =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req
                });
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                // Each connection's read buffer stays small (hyper grows it to ~400 KB for a
                // fast sender otherwise): a request head must fit; bodies stream through it.
                .max_buf_size(READ_BUFFER)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
            if let Err(e) = conn.await {
                tracing::debug!(peer = %peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
}

/// What `liveform serve` listens with: [`serve`] with the state's connection cap, stopping on
/// Ctrl-C or SIGTERM.
pub async fn serve_until_signal(
    listener: tokio::net::TcpListener,
    app: Router,
    max_connections: usize,
) -> std::io::Result<()> {
    serve(listener, app, max_connections, async {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    })
    .await
}

/// Serves `app` forever (tests).
pub async fn serve_forever(listener: tokio::net::TcpListener, app: Router, max_connections: usize) {
    if let Err(e) = serve(listener, app, max_connections, std::future::pending()).await {
        tracing::error!(error = %e, "server stopped");
    }
}
