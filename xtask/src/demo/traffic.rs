//! Requests through the emulated Service Engine, as `curl --resolve` would send them, and a
//! bounded load loop that counts every failure.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use istio_sim::{Echo, XFCC};
use tokio::task::JoinHandle;

use super::mesh::AKO_PRINCIPAL;

/// A client of one virtual service: `host` resolved to the local socket that serves its VIP.
#[derive(Debug, Clone)]
pub struct SeClient {
    http: reqwest::Client,
    host: String,
    local: SocketAddr,
}

/// One answer through the Service Engine.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// The backend's echo, when the body is one.
    pub echo: Option<Echo>,
}

impl Answer {
    /// The SHA-256 (lowercase hex) of the client certificate the backend's sidecar saw, from its
    /// `x-forwarded-client-cert` `Hash=`.
    pub fn client_cert_hash(&self) -> Option<&str> {
        let xfcc = self.echo.as_ref()?.headers.get(XFCC)?;
        xfcc.split(';').find_map(|kv| kv.strip_prefix("Hash="))
    }

    /// 200 from a backend that saw the AKO pod's principal.
    pub fn is_mesh_success(&self) -> bool {
        self.status == 200
            && self
                .echo
                .as_ref()
                .is_some_and(|e| e.principal.as_deref() == Some(AKO_PRINCIPAL))
    }

    /// One line for a report.
    pub fn summary(&self) -> String {
        match &self.echo {
            Some(e) => format!(
                "HTTP {} from {} (client principal {})",
                self.status,
                e.name,
                e.principal.as_deref().unwrap_or("none")
            ),
            None => format!("HTTP {}: {}", self.status, self.body.trim()),
        }
    }
}

impl SeClient {
    /// Requests for `host` go to `local` (the socket serving the VIP).
    pub fn new(host: &str, local: SocketAddr) -> anyhow::Result<SeClient> {
        let http = reqwest::Client::builder()
            .resolve(host, local)
            .no_proxy()
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(SeClient {
            http,
            host: host.to_owned(),
            local,
        })
    }

    /// The URL of `path` (`http://host:port/path`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.host, self.local.port())
    }

    /// The socket the virtual service listens on.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let answer = self.http.get(self.url(path)).send().await?;
        let status = answer.status().as_u16();
        let body = answer.text().await?;
        let echo = serde_json::from_str(&body).ok();
        Ok(Answer { status, body, echo })
    }
}

/// What a load loop saw.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Requests sent.
    pub requests: u64,
    /// Requests that did not get a 200 from a backend that saw the AKO principal.
    pub failures: u64,
    /// The first few failures, one line each.
    pub first_failures: Vec<String>,
    /// Answers per backend pod.
    pub backends: BTreeMap<String, u64>,
    /// Distinct client certificates (SHA-256) the backends saw.
    pub client_certs: Vec<String>,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Requests in a loop through the Service Engine (`workers` at a time, loopback only) until
/// stopped, `max_requests` were sent or `max_time` passed: it always ends by itself.
#[derive(Debug)]
pub struct LoadLoop {
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<LoadReport>>,
}

impl LoadLoop {
    /// Starts the loop.
    pub fn start(
        client: &SeClient,
        workers: usize,
        max_requests: u64,
        max_time: Duration,
    ) -> LoadLoop {
        let stop = Arc::new(AtomicBool::new(false));
        let per_worker = max_requests.div_ceil(workers.max(1) as u64);
        let workers = (0..workers.max(1))
            .map(|i| {
                let client = client.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let mut r = LoadReport::default();
                    while !stop.load(Ordering::Relaxed)
                        && r.requests < per_worker
                        && started.elapsed() < max_time
                    {
                        r.requests += 1;
                        let n = r.requests;
                        match client.get(&format!("/get?worker={i}&n={n}")).await {
                            Ok(a) if a.is_mesh_success() => {
                                if let Some(e) = &a.echo {
                                    *r.backends.entry(e.name.clone()).or_default() += 1;
                                }
                                if let Some(h) = a.client_cert_hash()
                                    && !r.client_certs.iter().any(|c| c == h)
                                {
                                    r.client_certs.push(h.to_owned());
                                }
                            }
                            Ok(a) => r.fail(a.summary()),
                            Err(e) => r.fail(format!("{e:#}")),
                        }
                    }
                    r.elapsed = started.elapsed();
                    r
                })
            })
            .collect();
        LoadLoop { stop, workers }
    }

    /// Stops the loop and adds up what every worker saw.
    pub async fn stop(self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = LoadReport::default();
        for w in self.workers {
            let r = match w.await {
                Ok(r) => r,
                Err(e) => {
                    let mut r = LoadReport::default();
                    r.fail(format!("a load worker failed: {e}"));
                    r
                }
            };
            total.requests += r.requests;
            total.failures += r.failures;
            for f in r.first_failures {
                if total.first_failures.len() < 10 {
                    total.first_failures.push(f);
                }
            }
            for (b, n) in r.backends {
                *total.backends.entry(b).or_default() += n;
            }
            for c in r.client_certs {
                if !total.client_certs.contains(&c) {
                    total.client_certs.push(c);
                }
            }
            total.elapsed = total.elapsed.max(r.elapsed);
        }
        total
    }
}

impl LoadReport {
    fn fail(&mut self, why: String) {
        self.failures += 1;
        if self.first_failures.len() < 10 {
            self.first_failures.push(why);
        }
    }
}
