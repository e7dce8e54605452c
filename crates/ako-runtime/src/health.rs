//! The health and metrics server: `/healthz`, `/readyz` and `/metrics`.
//!
//! - `/healthz`: `200 ok` while the process serves at all (liveness).
//! - `/readyz`: `200 ready` once [`Readiness::set_ready`] was called (the binaries call it after
//!   the first successful sync), `503 not ready` before.
//! - `/metrics`: [`Metrics::encode`] as `application/openmetrics-text; version=1.0.0`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ako_runtime::RuntimeError> {
//! use ako_runtime::health::{self, Readiness};
//! use ako_runtime::metrics::Metrics;
//!
//! let listener = health::bind("127.0.0.1:0".parse().unwrap()).await?;
//! let readiness = Readiness::new();
//! let server = health::serve(listener, Metrics::new(), readiness.clone()).await?;
//! println!("serving on {}", server.local_addr());
//! readiness.set_ready(); // after the first successful sync
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::RuntimeError;
use crate::metrics::{CONTENT_TYPE, Metrics};

/// Whether the process is ready: false until set. Clones share the flag.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Not ready yet.
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// Marks ready (after the first successful sync).
    pub fn set_ready(&self) {
        self.set(true);
    }

    /// Sets readiness either way.
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    /// Whether ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Metrics,
    readiness: Readiness,
}

/// The three routes, for embedding in another server or testing without a socket.
pub fn router(metrics: Metrics, readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_handler))
        .with_state(AppState { metrics, readiness })
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.readiness.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

async fn metrics_handler(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.encode(),
    )
}

/// Binds a listener, naming the address in the error (a port in use is a common startup error).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, RuntimeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| RuntimeError::Bind { addr, source })
}

/// Serves [`router`] on `listener` in a background task until [`HealthServer::shutdown`] or
/// until the handle is dropped.
pub async fn serve(
    listener: TcpListener,
    metrics: Metrics,
    readiness: Readiness,
) -> Result<HealthServer, RuntimeError> {
    let addr = listener.local_addr().map_err(RuntimeError::Serve)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(metrics, readiness);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%addr, "serving /healthz, /readyz and /metrics");
    Ok(HealthServer {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// A running health and metrics server. Dropping it stops the server at once.
#[derive(Debug)]
pub struct HealthServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl HealthServer {
    /// The address it listens on (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish, and reports how the server ended.
    pub async fn shutdown(mut self) -> Result<(), RuntimeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(RuntimeError::Serve),
                Err(join) => Err(RuntimeError::Serve(std::io::Error::other(join))),
            },
            None => Ok(()),
        }
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot HTTP/1.1 GET: (status, content type, body).
    pub(crate) async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let content_type = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-type")
                    .then(|| v.trim().to_owned())
            })
            .unwrap_or_default();
        (status, content_type, body.to_owned())
    }

    #[tokio::test]
    async fn health_readiness_and_metrics_over_http() {
        let metrics = Metrics::new();
        let readiness = Readiness::new();
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let server = serve(listener, metrics.clone(), readiness.clone())
            .await
            .unwrap();
        let addr = server.local_addr();
        assert_ne!(addr.port(), 0);

        let (status, _, body) = get(addr, "/healthz").await;
        assert_eq!((status, body.as_str()), (200, "ok\n"));

        let (status, _, _) = get(addr, "/readyz").await;
        assert_eq!(status, 503, "not ready before the first sync");
        readiness.set_ready();
        let (status, _, _) = get(addr, "/readyz").await;
        assert_eq!(status, 200);

        metrics.rotation();
        let (status, content_type, body) = get(addr, "/metrics").await;
        assert_eq!(status, 200);
        assert_eq!(content_type, CONTENT_TYPE);
        assert!(body.contains("ako_istio_rotations_total 1\n"), "{body}");
        assert!(body.contains("# EOF"), "{body}");

        let (status, _, _) = get(addr, "/nope").await;
        assert_eq!(status, 404);

        server.shutdown().await.unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "the port is closed after shutdown"
        );
    }

    #[tokio::test]
    async fn dropping_the_handle_stops_the_server_and_bind_errors_name_the_address() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let server = serve(listener, Metrics::new(), Readiness::new())
            .await
            .unwrap();
        let addr = server.local_addr();
        // The port is taken while the server runs.
        let err = bind(addr).await.unwrap_err();
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
        drop(server);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "still serving after drop"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
