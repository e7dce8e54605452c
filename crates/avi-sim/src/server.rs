//! The listener: plain HTTP or HTTPS with a generated certificate; fault injection and the
//! request journal sit here, in front of the dispatcher, so a reset can drop the connection.

use std::net::SocketAddr;
use std::sync::Arc;

use http::Request;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::api::{self, Req, Resp, Sim};
use crate::faults::{LogEntry, Verdict};
use crate::store::ApiError;

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The emulated controller dropped the connection on purpose.
#[derive(Debug)]
pub struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for Reset {}

/// Accepts connections until the task is aborted. The connections are this task's: aborting it
/// (the emulator stopped or dropped) ends them too, so none outlives the emulator.
pub async fn run(listener: TcpListener, sim: Arc<Sim>, tls: Option<TlsAcceptor>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Forget the connections that ended.
        while connections.try_join_next().is_some() {}
        let (stream, _peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let sim = sim.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(sim.clone(), req));
            let builder = auto::Builder::new(TokioExecutor::new());
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(s) => builder.serve_connection(TokioIo::new(s), service).await,
                    Err(error) => {
                        tracing::debug!(%error, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
}

async fn handle(sim: Arc<Sim>, req: Request<Incoming>) -> Result<Resp, Reset> {
    let (parts, body) = req.into_parts();
    let path = merge_slashes(parts.uri.path());
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let object_type = api::object_type_of(&path);
    let is_admin = path.starts_with("/_sim");
    let mut entry = LogEntry {
        method: parts.method.to_string(),
        path: if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{query}")
        },
        object_type: object_type.clone(),
        tenant: parts
            .headers
            .get("x-avi-tenant")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        status: 0,
    };

    let mut after_commit = Verdict::Pass;
    if !is_admin {
        let (latency, verdict) = sim
            .faults()
            .decide(parts.method.as_str(), object_type.as_deref());
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match verdict {
            Verdict::Pass => {}
            Verdict::Reset => {
                sim.journal().record(entry);
                return Err(Reset);
            }
            Verdict::Error(status, message) => {
                entry.status = status;
                sim.journal().record(entry);
                return Ok(api::error_response(&ApiError::new(status, message)));
            }
            later => after_commit = later,
        }
    }

    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let resp = api::error_response(&ApiError::new(413, "Request body too large"));
            entry.status = 413;
            sim.journal().record(entry);
            return Ok(resp);
        }
    };
    let req = Req {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        body,
    };
    // The store is behind a std lock and nothing in dispatch awaits: run it inline.
    let resp = api::dispatch(&sim, &req);
    match after_commit {
        Verdict::ResetAfterCommit => {
            // The write is done; the client never hears of it.
            sim.journal().record(entry);
            return Err(Reset);
        }
        Verdict::ErrorAfterCommit(status, message) => {
            entry.status = status;
            sim.journal().record(entry);
            return Ok(api::error_response(&ApiError::new(status, message)));
        }
        _ => {}
    }
    if !is_admin {
        entry.status = resp.status().as_u16();
        sim.journal().record(entry);
    }
    Ok(resp)
}

/// A self-signed certificate for `127.0.0.1` and `localhost`; returns (acceptor, cert PEM).
pub fn tls_acceptor() -> Result<(TlsAcceptor, String), crate::SimError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| crate::SimError::Tls(e.to_string()))?;
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .map_err(|e| crate::SimError::Tls(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "avi-sim");
    let cert = params
        .self_signed(&key)
        .map_err(|e| crate::SimError::Tls(e.to_string()))?;
    let cert_pem = cert.pem();
    let key_der = rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| crate::SimError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key_der)
        .map_err(|e| crate::SimError::Tls(e.to_string()))?;
    Ok((TlsAcceptor::from(Arc::new(config)), cert_pem))
}

/// Binds the listener.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, crate::SimError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| crate::SimError::Bind { addr, source })
}

/// The path with every run of `/` made one, as the controller's front end does (nginx's
/// `merge_slashes`): the Go SDK joins `https://host/` and `/api/...` into `//api/...`.
pub fn merge_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut last_slash = false;
    for c in path.chars() {
        if c == '/' && last_slash {
            continue;
        }
        last_slash = c == '/';
        out.push(c);
    }
    out
}

#[cfg(test)]
mod merge_tests {
    use super::merge_slashes;

    #[test]
    fn runs_of_slashes_become_one() {
        assert_eq!(merge_slashes("//api/cloud"), "/api/cloud");
        assert_eq!(merge_slashes("/api//pool///x/"), "/api/pool/x/");
        assert_eq!(merge_slashes("/login"), "/login");
    }
}
