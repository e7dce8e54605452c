//! The listener (plain HTTP on loopback) and the kubeconfig clients use to reach it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use http::Request;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::api::{self, Body, Shared};
use crate::status::StatusError;

const MAX_BODY: usize = 16 * 1024 * 1024;

/// Accepts connections until aborted. The connections are this task's: aborting it (the
/// emulator dropped) ends them and the watches they stream.
pub async fn run(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Forget the connections that ended.
        while connections.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            // EMFILE and friends: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        };
        let shared = shared.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| serve(shared.clone(), req));
            if let Err(error) = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
}

async fn serve(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<http::Response<Body>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = StatusError {
                code: 413,
                reason: "RequestEntityTooLarge",
                message: "request body too large".into(),
            };
            return Ok(http::Response::builder()
                .status(413)
                .body(
                    http_body_util::Full::new(bytes::Bytes::from(e.to_status().to_string()))
                        .boxed_unsync(),
                )
                .unwrap_or_default());
        }
    };
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    Ok(api::handle(shared, parts.method, &path, &query, &parts.headers, body).await)
}

/// A kubeconfig (YAML; JSON is valid YAML) pointing at `addr` with a `kube-sim` context.
pub fn kubeconfig(addr: SocketAddr) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-sim\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: kube-sim\n  context:\n    cluster: kube-sim\n    user: kube-sim\n    namespace: default\ncurrent-context: kube-sim\nusers:\n- name: kube-sim\n  user:\n    token: kube-sim\n"
    )
}

/// Writes the kubeconfig to a file.
pub fn write_kubeconfig(path: &Path, addr: SocketAddr) -> std::io::Result<()> {
    std::fs::write(path, kubeconfig(addr))
}
