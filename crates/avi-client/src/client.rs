//! The session and the transport: login, CSRF, cookies, version and tenant headers, bounded
//! concurrency, per-request timeout, re-login on 401/419, retries with backoff for idempotent
//! calls, pagination to the end. Typed CRUD sits on top in [`crate::crud`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use crate::config::{AviConfig, Credentials, TlsVerification};
use crate::error::{AviError, Result};
use crate::kind::Kind;

/// One logged-in session.
#[derive(Clone)]
struct Session {
    csrf: String,
    cookie: String,
    generation: u64,
}

struct Inner {
    config: AviConfig,
    base: String,
    http: reqwest::Client,
    session: Mutex<Option<Session>>,
    generation: std::sync::atomic::AtomicU64,
    permits: Semaphore,
    stats: Stats,
}

/// Requests made, by outcome; read with [`AviClient::stats`].
#[derive(Debug, Default)]
struct Stats {
    requests: std::sync::atomic::AtomicU64,
    retries: std::sync::atomic::AtomicU64,
    logins: std::sync::atomic::AtomicU64,
}

/// What the client has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (logins included).
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// Logins.
    pub logins: u64,
}

/// An answer: status and parsed JSON body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

/// What a call is, for errors and retry decisions (no `Debug`: the body may hold a key).
#[derive(Clone)]
pub(crate) struct Call<'a> {
    pub method: Method,
    pub kind: Kind,
    pub name: &'a str,
    pub path: String,
    pub body: Option<&'a Value>,
    /// Safe to repeat after an unknown outcome (everything but POST).
    pub idempotent: bool,
}

/// A client of one Avi controller, in one tenant. Cheap to clone; clones share the session,
/// the concurrency limit and the statistics.
#[derive(Clone)]
pub struct AviClient {
    inner: Arc<Inner>,
    tenant: String,
}

impl std::fmt::Debug for AviClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AviClient")
            .field("controller", &self.inner.base)
            .field("tenant", &self.tenant)
            .field("user", &self.inner.config.credentials.username())
            .finish_non_exhaustive()
    }
}

impl AviClient {
    /// Builds a client; nothing is sent until the first call (which logs in).
    pub fn new(config: AviConfig) -> Result<Self> {
        // reqwest is built without a crypto provider of its own and would panic without one.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            return Err(AviError::Config(
                "no rustls crypto provider is installed: call \
                 rustls::crypto::ring::default_provider().install_default() at the start of main"
                    .into(),
            ));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(10));
        match &config.tls {
            TlsVerification::System => {}
            TlsVerification::Ca(pem) => {
                use rustls_pki_types::pem::PemObject;
                let ders = rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| AviError::Config(format!("bad controller CA certificate: {e}")))?;
                if ders.is_empty() {
                    return Err(AviError::Config(
                        "controller CA certificate: no PEM CERTIFICATE block".into(),
                    ));
                }
                let certs = ders
                    .iter()
                    .map(|d| reqwest::Certificate::from_der(d.as_ref()))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| AviError::Config(format!("bad controller CA certificate: {e}")))?;
                builder = builder.tls_certs_only(certs);
            }
            TlsVerification::Insecure => {
                tracing::warn!(
                    controller = %config.controller,
                    "TLS verification of the Avi controller is DISABLED; anyone on the path can \
                     read the credentials"
                );
                builder = builder.tls_danger_accept_invalid_certs(true);
            }
        }
        let http = builder
            .build()
            .map_err(|e| AviError::Config(e.to_string()))?;
        let base = config.base_url();
        url::Url::parse(&base)
            .map_err(|e| AviError::Config(format!("controller '{base}': {e}")))?;
        let tenant = config.tenant.clone();
        let permits = Semaphore::new(config.concurrency.max(1));
        Ok(AviClient {
            inner: Arc::new(Inner {
                config,
                base,
                http,
                session: Mutex::new(None),
                generation: std::sync::atomic::AtomicU64::new(0),
                permits,
                stats: Stats::default(),
            }),
            tenant,
        })
    }

    /// The same client acting in another tenant (`*` reads across tenants).
    pub fn in_tenant(&self, tenant: impl Into<String>) -> Self {
        AviClient {
            inner: self.inner.clone(),
            tenant: tenant.into(),
        }
    }

    /// The tenant calls go to.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The settings.
    pub fn config(&self) -> &AviConfig {
        &self.inner.config
    }

    /// Requests, retries and logins so far.
    pub fn stats(&self) -> ClientStats {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &self.inner.stats;
        ClientStats {
            requests: s.requests.load(Relaxed),
            retries: s.retries.load(Relaxed),
            logins: s.logins.load(Relaxed),
        }
    }

    /// Logs in now (calls log in by themselves when needed).
    pub async fn login(&self) -> Result<()> {
        self.session(None).await.map(|_| ())
    }

    /// The current session, or a new one when there is none or `stale` is the generation that
    /// just failed (so concurrent 401s log in once, not once each).
    async fn session(&self, stale: Option<u64>) -> Result<Session> {
        let mut guard = self.inner.session.lock().await;
        if let Some(s) = guard.as_ref().filter(|s| stale != Some(s.generation)) {
            return Ok(s.clone());
        }
        let s = self.do_login().await?;
        *guard = Some(s.clone());
        Ok(s)
    }

    async fn do_login(&self) -> Result<Session> {
        use std::sync::atomic::Ordering::Relaxed;
        let body = match &self.inner.config.credentials {
            Credentials::Password { username, password } => {
                serde_json::json!({"username": username, "password": password})
            }
            Credentials::Token { username, token } => {
                serde_json::json!({"username": username, "token": token})
            }
        };
        self.inner.stats.requests.fetch_add(1, Relaxed);
        self.inner.stats.logins.fetch_add(1, Relaxed);
        let resp = self
            .inner
            .http
            .post(format!("{}/login", self.inner.base))
            .header("Referer", &self.inner.base)
            .json(&body)
            .send()
            .await
            .map_err(|e| AviError::Login {
                status: 0,
                message: format!("cannot reach the controller: {}", transport_detail(&e)),
            })?;
        let status = resp.status().as_u16();
        let cookies = set_cookies(resp.headers());
        if status != 200 {
            let message = error_message(&resp.text().await.unwrap_or_default());
            return Err(AviError::Login { status, message });
        }
        let csrf = cookies
            .iter()
            .find(|(k, _)| k == "csrftoken")
            .map(|(_, v)| v.clone());
        let sid = cookies
            .iter()
            .find(|(k, _)| k == "avi-sessionid" || k == "sessionid")
            .map(|(_, v)| v.clone());
        let (Some(csrf), Some(sid)) = (csrf, sid) else {
            return Err(AviError::Login {
                status,
                message: "login answer carried no session or CSRF cookie".into(),
            });
        };
        let generation = self.inner.generation.fetch_add(1, Relaxed) + 1;
        tracing::debug!(controller = %self.inner.base, generation, "logged in to the Avi controller");
        Ok(Session {
            cookie: format!("avi-sessionid={sid}; sessionid={sid}; csrftoken={csrf}"),
            csrf,
            generation,
        })
    }

    /// Sends a call with the session, re-login and retry rules; returns any non-retried answer
    /// (error statuses included: the caller decides what they mean).
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<Answer> {
        use std::sync::atomic::Ordering::Relaxed;
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| AviError::Config("client closed".into()))?;
        let policy = &self.inner.config.retry;
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut relogged = false;
        let mut stale = None;
        loop {
            attempt += 1;
            if attempt > 1 {
                self.inner.stats.retries.fetch_add(1, Relaxed);
            }
            let budget_left =
                attempt < policy.max_attempts && started.elapsed() < policy.max_elapsed;
            let session = match self.session(stale).await {
                Ok(s) => {
                    stale = None;
                    s
                }
                // A login lost to a controller hiccup is retried like any idempotent call.
                Err(e) if budget_left && login_is_transient(&e) => {
                    tracing::debug!(error = %e, attempt, "login failed; retrying");
                    self.backoff(attempt).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            self.inner.stats.requests.fetch_add(1, Relaxed);
            let sent = Instant::now();
            let result = self.once(call, &session).await;
            if let Some(observer) = &self.inner.config.observer {
                (observer.0)(&crate::config::RequestRecord {
                    method: call.method.as_str(),
                    kind: call.kind,
                    status: result.as_ref().ok().map(|a| a.status),
                    duration: sent.elapsed(),
                });
            }
            match result {
                Ok(answer) if matches!(answer.status, 401 | 419) && !relogged => {
                    // The session expired (or the controller restarted): log in once and repeat.
                    relogged = true;
                    stale = Some(session.generation);
                    attempt -= 1;
                }
                Ok(answer)
                    if is_transient_status(answer.status) && call.idempotent && budget_left =>
                {
                    tracing::debug!(status = answer.status, method = %call.method, kind = %call.kind,
                                    name = call.name, attempt, "transient answer; retrying");
                    self.backoff(attempt).await;
                }
                Ok(answer) => return Ok(answer),
                Err(e) if call.idempotent && budget_left => {
                    tracing::debug!(error = %e, attempt, "transport error; retrying");
                    self.backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn backoff(&self, attempt: u32) {
        let policy = &self.inner.config.retry;
        let exp = policy
            .initial_backoff
            .saturating_mul(1u32 << attempt.min(16).saturating_sub(1));
        let cap = exp.min(policy.max_backoff);
        // Full jitter: concurrent clients that failed together do not retry together.
        let wait = cap.mul_f64(rand::rng().random_range(0.5..=1.0));
        tokio::time::sleep(wait).await;
    }

    async fn once(&self, call: &Call<'_>, session: &Session) -> Result<Answer> {
        let url = format!("{}{}", self.inner.base, call.path);
        let mut req = self
            .inner
            .http
            .request(call.method.clone(), &url)
            .header("X-Avi-Version", &self.inner.config.api_version)
            .header("X-Avi-Tenant", &self.tenant)
            .header("X-CSRFToken", &session.csrf)
            .header("Referer", &self.inner.base)
            .header("Cookie", &session.cookie);
        if let Some(body) = call.body {
            req = req.json(body);
        }
        let method = method_name(&call.method);
        let resp = req.send().await.map_err(|e| AviError::Transport {
            method,
            kind: call.kind,
            name: call.name.to_owned(),
            detail: transport_detail(&e),
        })?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| AviError::Transport {
            method,
            kind: call.kind,
            name: call.name.to_owned(),
            detail: transport_detail(&e),
        })?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Answer {
            status: status.as_u16(),
            body,
        })
    }

    /// Turns a non-success answer into an error.
    pub(crate) fn fail(call: &Call<'_>, answer: &Answer) -> AviError {
        let message = match &answer.body {
            Value::Object(m) => m
                .get("error")
                .and_then(Value::as_str)
                .map_or_else(|| shown_body(&answer.body), shown_text),
            Value::String(s) => shown_text(s),
            other => shown_body(other),
        };
        AviError::Api {
            method: method_name(&call.method),
            kind: call.kind,
            name: call.name.to_owned(),
            status: answer.status,
            message,
        }
    }

    /// Every object of a kind matching `query` (a query string without paging), following
    /// `next` to the end with 200 per page.
    pub(crate) async fn list_raw(&self, kind: Kind, query: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut pages = 0usize;
        let sep = if query.is_empty() { "" } else { "&" };
        let mut path = format!(
            "/api/{}?{query}{sep}page_size=200&include_name=true",
            kind.path()
        );
        loop {
            let call = Call {
                method: Method::GET,
                kind,
                name: "",
                path: path.clone(),
                body: None,
                idempotent: true,
            };
            let answer = self.send(&call).await?;
            if answer.status != 200 {
                return Err(Self::fail(&call, &answer));
            }
            let results = answer
                .body
                .get("results")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            out.extend(results);
            pages += 1;
            let count = answer
                .body
                .get("count")
                .and_then(Value::as_u64)
                .map_or(usize::MAX, |c| c as usize);
            match answer.body.get("next").and_then(Value::as_str) {
                // `next` is absolute; keep the path and query, our base stays ours. A `next` that
                // makes no progress (same page, or more pages than items) ends the listing.
                Some(next) => match next.find("/api/") {
                    Some(i) if next[i..] != path && out.len() < count && pages <= MAX_PAGES => {
                        path = next[i..].to_owned()
                    }
                    _ => break,
                },
                None => break,
            }
        }
        Ok(out)
    }
}

/// More pages than any listing needs (2 million objects at 200 per page).
const MAX_PAGES: usize = 10_000;

fn login_is_transient(e: &AviError) -> bool {
    match e {
        AviError::Transport { .. } => true,
        // Status 0: the controller could not be reached at all.
        AviError::Login { status, .. } => *status == 0 || is_transient_status(*status),
        _ => false,
    }
}

fn is_transient_status(status: u16) -> bool {
    matches!(StatusCode::from_u16(status), Ok(s) if s.is_server_error())
        || status == 408
        || status == 429
}

fn method_name(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

/// The transport error without the URL's query (never credentials: they travel in bodies).
fn transport_detail(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "connection broke while reading the answer"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

fn set_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v: &HeaderValue| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn error_message(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => match v.get("error").and_then(Value::as_str) {
            Some(e) => shown_text(e),
            None => shown_body(&v),
        },
        Err(_) => shown_text(text.trim()),
    }
}

/// The most of an answer's body an error message shows.
const SHOWN_BODY_CHARS: usize = 512;

/// An answer's body (without an `error` field), as an error message shows it: `key` fields (at any
/// depth) hidden and the text cut short. Error messages reach logs, Events and statuses; an
/// answer that echoes a request must not carry a private key there.
fn shown_body(body: &Value) -> String {
    fn hide_keys(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, v) in m.iter_mut() {
                    if k == "key" || k == "private_key" {
                        *v = Value::String("<sensitive>".into());
                    } else {
                        hide_keys(v);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(hide_keys),
            _ => {}
        }
    }
    let mut body = body.clone();
    hide_keys(&mut body);
    shown_text(&body.to_string())
}

/// A text answer as an error message shows it: cut short, and withheld whole if it holds a PEM
/// private key.
fn shown_text(text: &str) -> String {
    if text.contains("PRIVATE KEY-----") {
        return "<answer withheld: it holds a private key>".to_owned();
    }
    match text.char_indices().nth(SHOWN_BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_echoed_key_never_reaches_an_error_message() {
        let echoed = json!({"detail": "bad request", "request": {"name": "istio-workload",
            "key": "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----",
            "certificate": {"certificate": "-----BEGIN CERTIFICATE-----"}}});
        let shown = shown_body(&echoed);
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        assert!(shown.contains("<sensitive>") && shown.contains("bad request"));
        let text =
            "proxy error: -----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            shown_text(text),
            "<answer withheld: it holds a private key>"
        );
    }

    #[test]
    fn a_long_answer_is_cut_short() {
        let long = "é".repeat(2000);
        let shown = shown_text(&long);
        assert_eq!(shown.chars().count(), SHOWN_BODY_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(shown_text("short"), "short");
    }
}
