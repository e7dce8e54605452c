//! How to reach and talk to a controller.

use std::fmt;
use std::time::Duration;

/// Who we log in as. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Username and password.
    Password {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// Username and an auth token (`/api/user-token`).
    Token {
        /// User name.
        username: String,
        /// Token.
        token: String,
    },
}

impl Credentials {
    /// The user name.
    pub fn username(&self) -> &str {
        match self {
            Credentials::Password { username, .. } | Credentials::Token { username, .. } => {
                username
            }
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Password { username, .. } => write!(f, "Password({username}, <redacted>)"),
            Credentials::Token { username, .. } => write!(f, "Token({username}, <redacted>)"),
        }
    }
}

/// How the controller's certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsVerification {
    /// Against the system's trust store (the default).
    System,
    /// Against this CA certificate only (PEM), as `avi-secret`'s `caCert` gives it.
    Ca(String),
    /// Not at all. Loudly logged; only for labs.
    Insecure,
}

/// Bounds of the retry loop for idempotent calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff; doubles per attempt, with jitter.
    pub initial_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// Give up once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

/// Settings of an [`crate::AviClient`].
#[derive(Clone, Debug)]
pub struct AviConfig {
    /// Controller address: `10.1.1.1`, `ctrl.example.com:9443` or a full `https://...` URL.
    pub controller: String,
    /// Login.
    pub credentials: Credentials,
    /// Default tenant of every call (default `admin`).
    pub tenant: String,
    /// `X-Avi-Version` (default `22.1.3`).
    pub api_version: String,
    /// Certificate checking.
    pub tls: TlsVerification,
    /// Calls in flight at once (default 8).
    pub concurrency: usize,
    /// Timeout of one HTTP request (default 60 s).
    pub request_timeout: Duration,
    /// Retries of idempotent calls.
    pub retry: RetryPolicy,
    /// Told of every HTTP exchange with the controller (metrics).
    pub observer: Option<RequestObserver>,
}

/// One HTTP exchange with the controller, as a [`RequestObserver`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct RequestRecord<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The object type.
    pub kind: crate::Kind,
    /// The answer's status, `None` when there was no answer (timeout, connection error).
    pub status: Option<u16>,
    /// How long it took.
    pub duration: Duration,
}

/// A callback told of every exchange (each retry and re-login attempt separately), e.g. to count
/// requests by method, type and status.
#[derive(Clone)]
pub struct RequestObserver(pub std::sync::Arc<dyn Fn(&RequestRecord<'_>) + Send + Sync>);

impl std::fmt::Debug for RequestObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestObserver")
    }
}

impl AviConfig {
    /// Defaults for a controller and credentials.
    pub fn new(controller: impl Into<String>, credentials: Credentials) -> Self {
        AviConfig {
            controller: controller.into(),
            credentials,
            tenant: "admin".to_owned(),
            api_version: "22.1.3".to_owned(),
            tls: TlsVerification::System,
            concurrency: 8,
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            observer: None,
        }
    }

    /// The base URL, `https://host[:port]` unless a scheme was given.
    pub fn base_url(&self) -> String {
        let c = self.controller.trim_end_matches('/');
        if c.starts_with("http://") || c.starts_with("https://") {
            c.to_owned()
        } else {
            format!("https://{c}")
        }
    }
}
